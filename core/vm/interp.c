/* The bytecode interpreter: one indirect jump per instruction (computed
 * goto), stack and base-gas checks from the opcode table, simple opcodes
 * inline, the rest through the instruction helpers in instructions.c.
 *
 * The stack grows upwards; `sp` points at the top item, so an empty stack
 * has sp == stack - 1. Gas lives in a local and is written back to the
 * frame around helper calls. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "vm/evm_internal.h"
#include "base/keccak.h"
#include "vm/ops.h"

/* Base gas known at compile time: the table's price for every opcode no
 * later fork repriced (those have a gas delta in opcodes.c and read the
 * per-fork table; so do zero-priced ones, harmlessly). test_opcodes checks
 * that the repriced set matches. */
enum {
#define FIXED_GAS(op, name, imm, in, out, g, fork, kind, flags) GAS_FIXED_##name = ((flags) & OPF_REPRICED) ? 0 : (g),
    OPCODES(FIXED_GAS)
#undef FIXED_GAS
};

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static void *fork_labels[FORK_COUNT][256];
static atomic_bool fork_labels_ready[FORK_COUNT];
static pthread_mutex_t fork_labels_lock = PTHREAD_MUTEX_INITIALIZER;

/* Stack words are copied as four 64-bit moves: most were just written that
 * way by an arithmetic result, and a 16-byte load of them would miss store
 * forwarding (a struct assignment compiles to 16-byte moves). */
static inline void copy_word(u256 *dst, const u256 *src)
{
    uint64_t w0 = src->w[0], w1 = src->w[1], w2 = src->w[2], w3 = src->w[3];
    dst->w[0] = w0;
    dst->w[1] = w1;
    dst->w[2] = w2;
    dst->w[3] = w3;
}

static void emit_trace(frame *f, const uint8_t *ip, int64_t gas, const u256 *sp, const u256 *stack)
{
    trace_step step;
    uint8_t op = *ip;
    step.pc = (uint32_t)(ip - f->code->code);
    step.op = op;
    step.gas = gas;
    step.gas_cost = f->e->optab->base_gas[op];
    step.mem_size = f->memory_size;
    step.stack = stack;
    step.stack_len = (size_t)(sp - stack + 1);
    step.return_data_len = f->return_data_len;
    step.depth = f->msg->depth + 1;
    step.refund = state_get_refund(f->e->st);
    f->e->trace.on_step(f->e->trace.ctx, &step);
}

enum exec_status interp_run_from(frame *f, size_t start_pc, size_t start_height)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
    static void *const all_labels[256] = {
        [0 ... 255] = &&L_UNDEFINED,
#define LABEL_ROW(op, name, imm, in, out, gas, fork, kind, flags) [op] = &&L_##name,
        OPCODES(LABEL_ROW)
#undef LABEL_ROW
    };
#pragma GCC diagnostic pop
    static void *const trace_labels[256] = {[0 ... 255] = &&L_TRACE};

    evm *e = f->e;
    const enum fork fork = e->fork;
    if (UNLIKELY(!atomic_load_explicit(&fork_labels_ready[fork], memory_order_acquire))) {
        pthread_mutex_lock(&fork_labels_lock);
        if (!atomic_load_explicit(&fork_labels_ready[fork], memory_order_relaxed)) {
            for (int op = 0; op < 256; op++)
                fork_labels[fork][op] = e->optab->defined[op] ? all_labels[op] : &&L_UNDEFINED;
            atomic_store_explicit(&fork_labels_ready[fork], true, memory_order_release);
        }
        pthread_mutex_unlock(&fork_labels_lock);
    }
    void *const *const labels = e->tracing ? trace_labels : fork_labels[fork];
    void *const *const exec_labels = fork_labels[fork];
    const int32_t *const base_gas = e->optab->base_gas;

    const uint8_t *const code = f->code->code;
    static const atomic_int no_abort = 0;
    const atomic_int *const abort_flag = e->abort_flag ? e->abort_flag : &no_abort;

    if (!f->buffers->stack) f->buffers->stack = xmalloc(EVM_STACK_LIMIT * sizeof(u256));
    u256 *const stack = f->buffers->stack;
    u256 *const stack_bottom = stack - 1;
    u256 *sp = stack_bottom + start_height;
    int64_t gas = f->gas;
    const uint8_t *ip = code + start_pc;
    enum exec_status status = EXEC_SUCCESS;

#define HEIGHT() (sp - stack_bottom)
#define DISPATCH() goto *labels[*ip]
#define NEXT()    \
    do {          \
        ip++;     \
        DISPATCH(); \
    } while (0)
#define HALT(st)       \
    do {               \
        status = (st); \
        goto done;     \
    } while (0)
/* The checks every instruction makes before it runs, with its table row's
 * stack constants folded in at compile time. */
#define BEGIN(name, in, out)                                                  \
    L_##name:                                                                 \
    if (UNLIKELY(HEIGHT() < (in))) HALT(EXEC_STACK_UNDERFLOW);                \
    if ((out) > (in) && UNLIKELY(HEIGHT() + ((out) - (in)) > EVM_STACK_LIMIT)) \
        HALT(EXEC_STACK_OVERFLOW);                                            \
    gas -= GAS_FIXED_##name ? GAS_FIXED_##name : base_gas[OP_##name];        \
    if (UNLIKELY(gas < 0)) HALT(EXEC_OUT_OF_GAS);
/* Calls an instruction's helper in instructions.c, with the gas synced
 * through the frame, and halts when it does not succeed. */
#define CALL_HELPER(name)                                \
    f->gas = gas;                                        \
    status = instr_##name(f, sp);                        \
    gas = f->gas;                                        \
    if (UNLIKELY(status != EXEC_SUCCESS)) goto done;
/* An instruction implemented entirely by its helper. */
#define HELPER(name, in, out)                            \
    BEGIN(name, in, out)                                 \
    CALL_HELPER(name)                                    \
    sp += (out) - (in);                                  \
    NEXT();
#define BINARY(name)   \
    BEGIN(name, 2, 1)  \
    op_##name(sp);     \
    sp--;              \
    NEXT();
#define UNARY(name)    \
    BEGIN(name, 1, 1)  \
    op_##name(sp);     \
    NEXT();
/* Reads of the frame's context, pushing one word. */
#define CONTEXT(name)  \
    BEGIN(name, 0, 1)  \
    op_##name(f, sp);  \
    sp++;              \
    NEXT();

    DISPATCH();

L_TRACE:
    f->gas = gas;
    emit_trace(f, ip, gas, sp, stack);
    goto *exec_labels[*ip];

L_UNDEFINED:
    HALT(EXEC_INVALID_OPCODE);
L_INVALID:
    HALT(EXEC_INVALID_OPCODE);

    BEGIN(STOP, 0, 0)
    HALT(EXEC_SUCCESS);

    BINARY(ADD)
    BINARY(MUL)
    BINARY(SUB)
    BINARY(DIV)
    BINARY(SDIV)
    BINARY(MOD)
    BINARY(SMOD)
    BEGIN(ADDMOD, 3, 1)
    op_ADDMOD(sp);
    sp -= 2;
    NEXT();
    BEGIN(MULMOD, 3, 1)
    op_MULMOD(sp);
    sp -= 2;
    NEXT();
    HELPER(EXP, 2, 1)
    BINARY(SIGNEXTEND)
    BINARY(LT)
    BINARY(GT)
    BINARY(SLT)
    BINARY(SGT)
    BINARY(EQ)
    UNARY(ISZERO)
    BINARY(AND)
    BINARY(OR)
    BINARY(XOR)
    UNARY(NOT)
    BINARY(BYTE)
    BINARY(SHL)
    BINARY(SHR)
    BINARY(SAR)
    UNARY(CLZ)
    HELPER(KECCAK256, 2, 1)

    CONTEXT(ADDRESS)
    HELPER(BALANCE, 1, 1)
    CONTEXT(ORIGIN)
    CONTEXT(CALLER)
    CONTEXT(CALLVALUE)
    BEGIN(CALLDATALOAD, 1, 1)
    op_CALLDATALOAD(f, sp);
    NEXT();
    CONTEXT(CALLDATASIZE)
    HELPER(CALLDATACOPY, 3, 0)
    CONTEXT(CODESIZE)
    HELPER(CODECOPY, 3, 0)
    CONTEXT(GASPRICE)
    HELPER(EXTCODESIZE, 1, 1)
    HELPER(EXTCODECOPY, 4, 0)
    CONTEXT(RETURNDATASIZE)
    HELPER(RETURNDATACOPY, 3, 0)
    HELPER(EXTCODEHASH, 1, 1)
    HELPER(BLOCKHASH, 1, 1)
    CONTEXT(COINBASE)
    CONTEXT(TIMESTAMP)
    CONTEXT(NUMBER)
    CONTEXT(PREVRANDAO)
    CONTEXT(GASLIMIT)
    CONTEXT(CHAINID)
    HELPER(SELFBALANCE, 0, 1)
    CONTEXT(BASEFEE)
    HELPER(BLOBHASH, 1, 1)
    CONTEXT(BLOBBASEFEE)

    BEGIN(POP, 1, 0)
    sp--;
    NEXT();
    /* MLOAD and MSTORE inside memory already paid for skip the helper. */
    BEGIN(MLOAD, 1, 1)
    if (LIKELY(op_MLOAD_in_bounds(f, sp))) NEXT();
    CALL_HELPER(MLOAD)
    NEXT();
    BEGIN(MSTORE, 2, 0)
    if (LIKELY(op_MSTORE_in_bounds(f, sp))) {
        sp -= 2;
        NEXT();
    }
    CALL_HELPER(MSTORE)
    sp -= 2;
    NEXT();
    HELPER(MSTORE8, 2, 0)
    HELPER(SLOAD, 1, 1)
    HELPER(SSTORE, 2, 0)
    BEGIN(JUMP, 1, 0)
    {
        const u256 *dest = sp--;
        if (UNLIKELY(!u256_fits_u64(dest) || !code_is_jumpdest(f->code, dest->w[0])))
            HALT(EXEC_BAD_JUMP);
        if (UNLIKELY(atomic_load_explicit(abort_flag, memory_order_relaxed))) HALT(EXEC_TIMEOUT);
        ip = code + dest->w[0];
    }
    DISPATCH();
    BEGIN(JUMPI, 2, 0)
    {
        const u256 *dest = sp, *cond = sp - 1;
        sp -= 2;
        if (!u256_is_zero(cond)) {
            if (UNLIKELY(!u256_fits_u64(dest) || !code_is_jumpdest(f->code, dest->w[0])))
                HALT(EXEC_BAD_JUMP);
            if (UNLIKELY(atomic_load_explicit(abort_flag, memory_order_relaxed))) HALT(EXEC_TIMEOUT);
            ip = code + dest->w[0];
            DISPATCH();
        }
    }
    NEXT();
    BEGIN(PC, 0, 1)
    *++sp = u256_from_u64((uint64_t)(ip - code));
    NEXT();
    CONTEXT(MSIZE)
    BEGIN(GAS, 0, 1)
    *++sp = u256_from_u64((uint64_t)gas);
    NEXT();
    BEGIN(JUMPDEST, 0, 0)
    NEXT();
    HELPER(TLOAD, 1, 1)
    HELPER(TSTORE, 2, 0)
    HELPER(MCOPY, 3, 0)
    BEGIN(PUSH0, 0, 1)
    *++sp = u256_zero();
    NEXT();

    BEGIN(PUSH1, 0, 1)
    *++sp = u256_from_u64(ip[1]);
    ip += 2;
    DISPATCH();
    BEGIN(PUSH2, 0, 1)
    *++sp = u256_from_u64((uint64_t)ip[1] << 8 | ip[2]);
    ip += 3;
    DISPATCH();
#define PUSH_N(n)                            \
    BEGIN(PUSH##n, 0, 1)                     \
    *++sp = u256_load_be_n(ip + 1, n);       \
    ip += (n) + 1;                           \
    DISPATCH();
    PUSH_N(3) PUSH_N(4) PUSH_N(5) PUSH_N(6) PUSH_N(7) PUSH_N(8) PUSH_N(9) PUSH_N(10)
    PUSH_N(11) PUSH_N(12) PUSH_N(13) PUSH_N(14) PUSH_N(15) PUSH_N(16) PUSH_N(17)
    PUSH_N(18) PUSH_N(19) PUSH_N(20) PUSH_N(21) PUSH_N(22) PUSH_N(23) PUSH_N(24)
    PUSH_N(25) PUSH_N(26) PUSH_N(27) PUSH_N(28) PUSH_N(29) PUSH_N(30) PUSH_N(31)
    BEGIN(PUSH32, 0, 1)
    *++sp = u256_load_be(ip + 1);
    ip += 33;
    DISPATCH();

#define DUP_N(n)                   \
    BEGIN(DUP##n, n, (n) + 1)      \
    copy_word(&sp[1], &sp[1 - (n)]); \
    sp++;                          \
    NEXT();
    DUP_N(1) DUP_N(2) DUP_N(3) DUP_N(4) DUP_N(5) DUP_N(6) DUP_N(7) DUP_N(8)
    DUP_N(9) DUP_N(10) DUP_N(11) DUP_N(12) DUP_N(13) DUP_N(14) DUP_N(15) DUP_N(16)
#define SWAP_N(n)                     \
    BEGIN(SWAP##n, (n) + 1, (n) + 1)  \
    {                                 \
        u256 t;                       \
        copy_word(&t, &sp[0]);        \
        copy_word(&sp[0], &sp[-(n)]); \
        copy_word(&sp[-(n)], &t);     \
    }                                 \
    NEXT();
    SWAP_N(1) SWAP_N(2) SWAP_N(3) SWAP_N(4) SWAP_N(5) SWAP_N(6) SWAP_N(7) SWAP_N(8)
    SWAP_N(9) SWAP_N(10) SWAP_N(11) SWAP_N(12) SWAP_N(13) SWAP_N(14) SWAP_N(15) SWAP_N(16)

    HELPER(LOG0, 2, 0)
    HELPER(LOG1, 3, 0)
    HELPER(LOG2, 4, 0)
    HELPER(LOG3, 5, 0)
    HELPER(LOG4, 6, 0)
    HELPER(CREATE, 3, 1)
    HELPER(CALL, 7, 1)
    HELPER(CALLCODE, 7, 1)
    HELPER(DELEGATECALL, 6, 1)
    HELPER(CREATE2, 4, 1)
    HELPER(STATICCALL, 6, 1)

    /* RETURN, REVERT and SELFDESTRUCT end the frame: their helpers return
     * the final status. */
    BEGIN(RETURN, 2, 0)
    f->gas = gas;
    status = instr_RETURN(f, sp);
    gas = f->gas;
    goto done;
    BEGIN(REVERT, 2, 0)
    f->gas = gas;
    status = instr_REVERT(f, sp);
    gas = f->gas;
    goto done;
    BEGIN(SELFDESTRUCT, 1, 0)
    f->gas = gas;
    status = instr_SELFDESTRUCT(f, sp);
    gas = f->gas;
    goto done;

done:
    f->gas = gas;
    return status;
}
