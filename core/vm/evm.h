/* Executing messages: call frames, CREATE, precompiles, and the block and
 * transaction context the opcodes read. */
#ifndef JITEVM_EVM_H
#define JITEVM_EVM_H

#include <stdatomic.h>

#include "base/fork.h"
#include "base/params.h"
#include "state/state.h"
#include "base/types.h"
#include "base/u256.h"

/* The gas of `words` words of EVM memory (the Yellow Paper's C_mem): an
 * expansion costs the difference between its new and old size's. */
static inline uint64_t evm_memory_cost(uint64_t words)
{
    return GAS_MEMORY_PER_WORD * words + words * words / MEMORY_QUAD_COEFF_DIV;
}

typedef struct {
    uint64_t number;
    uint64_t timestamp;
    uint64_t gas_limit;
    address coinbase;
    u256 difficulty;   /* DIFFICULTY, before Paris */
    hash32 prevrandao; /* PREVRANDAO, from Paris on */
    u256 base_fee;     /* BASEFEE, from London on */
    u256 chain_id;
    /* EIP-4844: the blob base fee follows from the excess blob gas and the
     * fork's update fraction; see block_env_set_blob_schedule. */
    uint64_t excess_blob_gas;
    uint64_t blob_target_per_block;
    uint64_t blob_max_per_block;
    uint64_t blob_base_fee_update_fraction;
    u256 blob_base_fee;
} block_env;

/* Fills the blob schedule with the fork's defaults (Cancun 3/6/3338477,
 * Prague and Osaka 6/9/5007716) and computes blob_base_fee. */
void block_env_default_blob_schedule(block_env *b, enum fork f);
/* Recomputes blob_base_fee from excess_blob_gas and the update fraction. */
void block_env_update_blob_base_fee(block_env *b);

enum call_kind {
    CALL_CALL,
    CALL_CALLCODE,
    CALL_DELEGATECALL,
    CALL_STATICCALL,
    CALL_CREATE,
    CALL_CREATE2,
    /* Never executed: what a tracer is shown for SELFDESTRUCT (geth reports
     * it as a frame from the contract to the beneficiary, carrying the
     * balance, with no gas). */
    CALL_SELFDESTRUCT,
};

typedef struct {
    enum call_kind kind;
    int depth;           /* 0 for the transaction's own message */
    bool is_static;
    int64_t gas;
    address recipient;   /* whose storage and balance the code works on (ADDRESS) */
    address sender;      /* CALLER */
    address code_address;/* whose code runs (differs for CALLCODE/DELEGATECALL/7702) */
    u256 value;          /* CALLVALUE */
    bool transfers_value;/* false for DELEGATECALL (value is only apparent) */
    bool is_delegated;   /* EIP-7702: code came through a delegation (precompiles are not run) */
    const uint8_t *input;
    size_t input_len;
    u256 salt;           /* CREATE2 */
} message;

enum exec_status {
    EXEC_SUCCESS,
    EXEC_REVERT,
    /* Exceptional halts: all gas of the frame is consumed. */
    EXEC_OUT_OF_GAS,
    EXEC_INVALID_OPCODE,
    EXEC_STACK_UNDERFLOW,
    EXEC_STACK_OVERFLOW,
    EXEC_BAD_JUMP,
    EXEC_STATIC_VIOLATION,
    EXEC_RETURNDATA_OUT_OF_BOUNDS,
    EXEC_CALL_DEPTH,            /* only reported for the outermost frame */
    EXEC_INSUFFICIENT_BALANCE,  /* only reported for the outermost frame */
    EXEC_CREATE_COLLISION,
    EXEC_CODE_SIZE_EXCEEDED,
    EXEC_INVALID_CODE_PREFIX,   /* EIP-3541 */
    EXEC_INITCODE_SIZE_EXCEEDED,
    EXEC_PRECOMPILE_FAILURE,
    EXEC_NONCE_OVERFLOW,
    EXEC_TIMEOUT,
    /* Not a frame's status: the whole execution is answered with it when
     * EVM memory outgrew its limit (evm_set_memory_limit) or the process's
     * budget (evm_set_memory_budget); the frame that asked for the memory
     * halted as out of gas. Not consensus: a service limit. */
    EXEC_MEMORY_LIMIT,
};
const char *exec_status_name(enum exec_status s);

typedef struct {
    enum exec_status status;
    int64_t gas_left;
    /* A frame that failed: its gas counter when it halted, below zero
     * when a charge failed (gas_left is then 0). Tracers read what the
     * failing instruction had been charged from it. */
    int64_t gas_at_halt;
    /* Output (RETURN/REVERT data). Owned by the evm: valid until the next
     * call into it. */
    const uint8_t *output;
    size_t output_len;
    address create_address;
} exec_result;

/* One EIP-3155 step, given to a tracer before each instruction. */
typedef struct {
    uint32_t pc;
    uint8_t op;
    int64_t gas;
    int64_t gas_cost;  /* the static cost; dynamic parts are not included */
    size_t mem_size;
    const uint8_t *memory;      /* mem_size bytes, before the instruction runs */
    const u256 *stack; /* bottom first */
    size_t stack_len;
    const uint8_t *return_data; /* the last call's output, return_data_len bytes */
    size_t return_data_len;
    int depth;         /* 1 for the outermost frame, as EIP-3155 counts */
    int64_t refund;
} trace_step;

struct evm;
/* A tracer: any hook may be NULL. on_step runs before each instruction
 * (the interpreter's traced loop); on_enter and on_exit around every
 * message, the transaction's own included (depth 0): on_enter before
 * anything of it runs, on_exit with its result; a CALL or CREATE refused
 * before it runs (call depth, balance, nonce) is entered and exited too,
 * with EXEC_CALL_DEPTH, EXEC_INSUFFICIENT_BALANCE or EXEC_NONCE_OVERFLOW
 * and all its gas left, as geth reports it. The evm runs every frame
 * on the interpreter while a tracer is set; without one nothing of this
 * is looked at beyond one NULL test per message. */
typedef struct {
    void *ctx;
    void (*on_step)(void *ctx, const trace_step *step);
    void (*on_enter)(void *ctx, const struct evm *e, const message *msg);
    void (*on_exit)(void *ctx, const struct evm *e, const message *msg, const exec_result *r);
    /* After the transaction is finalized (fees paid, refunds applied,
     * destructed and empty touched accounts removed): the post-state. */
    void (*on_tx_end)(void *ctx, const struct evm *e);
} tracer;

typedef struct evm evm;

/* A precompile answering at another address (eth_call state overrides). */
typedef struct {
    address from;
    address to;
} precompile_move;

/* An execution context for one transaction (or one eth_call). */
evm *evm_new(state *st, const block_env *block, enum fork f);
void evm_free(evm *e);
void evm_set_tracer(evm *e, const tracer *t);
/* The transaction-level context: ORIGIN, GASPRICE, BLOBHASH. */
void evm_set_tx_context(evm *e, const address *origin, const u256 *gas_price,
                        const hash32 *blob_hashes, size_t n_blob_hashes);
/* An abort flag polled at every call frame and jump (timeouts); another
 * thread sets it. */
void evm_set_abort_flag(evm *e, const atomic_int *flag);
/* Moves precompiles for this evm's executions (the array must outlive it). */
void evm_set_precompile_moves(evm *e, const precompile_move *moves, size_t n);
/* The execution engine (jit.h; default ENGINE_INTERP). A tracer always
 * runs the interpreter. */
void evm_set_engine(evm *e, int engine);
/* EVM memory one execution may allocate, all its frames together (bytes;
 * 0: no limit), apart from gas. */
void evm_set_memory_limit(evm *e, size_t bytes);
/* EVM memory all executions of the process may hold at once (bytes; 0: no
 * budget). Set once, before executions start. */
void evm_set_memory_budget(size_t bytes);
/* Whether an execution was refused memory by either limit (evm_execute then
 * answers EXEC_MEMORY_LIMIT for the outermost message). */
bool evm_memory_limit_hit(const evm *e);

/* Executes a message: a call (into code, a precompile or an empty account)
 * or a creation. Handles value transfer, snapshot and revert; does not
 * charge intrinsic gas. The result's output stays valid until the next
 * evm_execute on the same evm. */
exec_result evm_execute(evm *e, const message *msg);

enum fork evm_fork(const evm *e);

/* CREATE: keccak(rlp([sender, nonce]))[12:]; CREATE2 (EIP-1014):
 * keccak(0xff ++ sender ++ salt ++ keccak(initcode))[12:]. */
address create_address(const address *sender, uint64_t nonce);
address create2_address(const address *sender, const u256 *salt, const uint8_t *initcode, size_t len);
state *evm_state(const evm *e);
/* EIP-7702: the address a delegation designator (0xef0100 || address)
 * points to; false when the code is not one. */
bool delegation_target(const uint8_t *code, size_t len, address *target);

#endif
