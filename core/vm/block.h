/* Block execution: what a block does around and between its transactions,
 * the same for a block of the chain and for a simulated one
 * (eth_simulateV1, whose service layer only parses and renders).
 *
 *   block_run_begin   the system calls at the start of a block: EIP-2935
 *                     (Prague: the parent hash into the history contract)
 *                     and EIP-4788 (Cancun: the parent beacon root)
 *   block_run_tx      one transaction, within the gas the block has left;
 *                     its receipt (status, cumulative gas, logs with their
 *                     block-wide indices, bloom) is kept in the run
 *   block_run_withdrawals  EIP-4895, after the transactions
 *   block_next_base_fee / block_next_excess_blob_gas  the next header's
 *                     fee fields (EIP-1559, EIP-4844 with EIP-7918)
 *   block_header_hash, block_list_root, block_tx_encode, block_receipt_encode,
 *   block_bloom_add   the header and its roots.
 *
 * Invariants: the run owns no state; the caller's `state` carries every
 * change from block to block (nothing is committed here). Between two
 * calls of this API the state's journal is empty (every transaction and
 * system call is finalized), so a caller may change accounts between
 * blocks (state overrides) and they count as the block's pre-state.
 * Logs are moved out of the state into the receipts after each
 * transaction, so the state's log list is empty between calls. */
#ifndef JITEVM_BLOCK_H
#define JITEVM_BLOCK_H

#include "vm/tx.h"

/* EIP-4895. */
typedef struct {
    uint64_t index;
    uint64_t validator_index;
    address addr;
    uint64_t amount_gwei;
} withdrawal;

typedef struct {
    int tx_type;
    enum exec_status status;
    uint64_t gas_used;            /* this transaction's (after refunds) */
    uint64_t cumulative_gas_used; /* the block's so far, this one included */
    uint64_t blob_gas_used;
    log_entry *logs;              /* owned copies */
    bool *is_transfer_log;        /* per log: an ERC-7528 transfer log (not part of the receipt) */
    size_t n_logs;
    size_t first_log_index;       /* the block-wide index of logs[0] */
    uint8_t bloom[256];
} block_receipt;

typedef struct transfer_logger transfer_logger;

typedef struct {
    state *st;
    /* Set by the caller when its transactions run with a transfer logger's
     * tracer: its logs are then told apart from the real ones. */
    transfer_logger *transfers;
    block_env env;
    enum fork fork;
    uint64_t gas_used;
    uint64_t blob_gas_used;
    block_receipt *receipts;
    size_t n_receipts, cap_receipts;
    size_t n_logs;
    /* The state's log count (state_logs_added) when the block began: a
     * log's seq less this is geth's eth_simulateV1 logIndex, which counts
     * every log the block's executions emitted, dropped ones included
     * (a receipt's logIndex counts the kept ones: first_log_index). */
    uint64_t first_log_seq;
    uint8_t bloom[256];
    /* EIP-7685 (Prague on): the hash of the requests block_run_requests
     * gathered; that of no requests until then. */
    hash32 requests_hash;
    /* What block_run_failed_step needs of the state before the last
     * transaction: its sender's and the coinbase's account fields. */
    struct {
        address sender;
        uint64_t sender_nonce;
        u256 sender_balance, coinbase_balance;
    } before_tx;
} block_run;

/* Starts block `env` on `st`: the EIP-2935 call with `parent_hash`
 * (Prague on) and the EIP-4788 call with `beacon_root` (Cancun on), each
 * skipped when its contract has no code. `abort_flag` may be NULL. */
void block_run_begin(block_run *b, state *st, const block_env *env, enum fork f, const hash32 *parent_hash,
                     const hash32 *beacon_root, const atomic_int *abort_flag);

/* Applies `tx`. Its gas limit must fit in what the block has left (else
 * TX_GAS_ALLOWANCE_EXCEEDED, nothing changes); then tx_execute's rules
 * under `opts` (its skip_block_gas_limit is set: this check replaces it).
 * `no_base_fee` is geth's NoBaseFee for calls: a transaction offering no
 * fee at all (both caps, or the legacy price, zero) runs as if the base
 * fee were zero. On success (res->error == TX_OK) the receipt is appended;
 * res is the caller's to free. */
void block_run_tx(block_run *b, const transaction *tx, bool no_base_fee, const tx_options *opts, tx_result *res);

/* The instruction a failed transaction's outermost frame stopped at. */
typedef struct {
    uint8_t op;
    size_t stack_len;
    int64_t gas;   /* the gas left before it */
} block_failed_step;

/* A tracer's on_step that keeps the outermost frame's latest instruction
 * (ctx: a block_top_step, zeroed): the instruction a failing call stopped at. */
typedef struct {
    bool seen;
    block_failed_step step;
} block_top_step;
void block_record_top_step(void *ctx, const trace_step *s);

/* For the transaction block_run_tx has just run, which failed with
 * `status` (an invalid opcode, a stack error, out of gas: the errors whose
 * wording names the instruction): runs it again, traced, on a scratch state
 * layered over the run's, with its sender's nonce and balance and the
 * coinbase's balance put back as they were before it (a failed execution
 * changed nothing else but EIP-7702 delegations). The run is not changed.
 * True, with the outermost frame's last instruction, when the second run
 * failed the same way; false otherwise (the caller words the error
 * without the instruction). Costs a second execution: for failures only. */
bool block_run_failed_step(block_run *b, const transaction *tx, bool no_base_fee, const tx_options *opts,
                           enum exec_status status, block_failed_step *out);

/* Why block_run_requests refused the block (geth's PostExecution errors). */
enum block_request_error {
    BLOCK_REQUEST_BAD_DEPOSIT,   /* a DepositEvent whose data is not 576 bytes */
    BLOCK_REQUEST_NO_CODE,       /* a request contract without code */
    BLOCK_REQUEST_CALL_FAILED,   /* a request contract's system call failed */
};

typedef struct {
    enum block_request_error error;
    address contract;
    uint8_t request_type; /* 0x00 EIP-6110 deposits, 0x01 EIP-7002 withdrawals, 0x02 EIP-7251 consolidations */
    enum exec_status status;   /* BLOCK_REQUEST_CALL_FAILED */
    size_t deposit_data_len;   /* BLOCK_REQUEST_BAD_DEPOSIT */
} block_request_failure;

/* The requests of the block (Prague on), after the transactions and before
 * the withdrawals, in EIP-7685's order: EIP-6110's deposits, read from the
 * DepositEvent logs that `deposit_contract` emitted in the block's
 * successful transactions (each log's 576 data bytes cut down to the
 * 192-byte request: pubkey, withdrawal credentials, amount, signature,
 * index); then EIP-7002's withdrawal request contract and EIP-7251's
 * consolidation request contract, each called with no input, their
 * output a request of its type. A type with no data is left out, and
 * b->requests_hash is the EIP-7685 hash of the rest. False, with
 * `failure` filled, when the block is invalid: a malformed DepositEvent, a
 * request contract without code, or a system call that fails. */
bool block_run_requests(block_run *b, const address *deposit_contract, const atomic_int *abort_flag,
                        block_request_failure *failure);

/* Credits each withdrawal's amount (gwei) to its address. */
void block_run_withdrawals(block_run *b, const withdrawal *w, size_t n);

void block_run_free(block_run *b);

/* EIP-1559: the base fee of the block after `parent`, which used
 * `parent_gas_used` of its gas limit. */
u256 block_next_base_fee(const block_env *parent, uint64_t parent_gas_used);
/* EIP-4844 (EIP-7918's reserve price from Osaka): the excess blob gas of
 * the block after `parent` (`f` is the parent's fork). */
uint64_t block_next_excess_blob_gas(const block_env *parent, enum fork f, uint64_t parent_blob_gas_used);

/* A header, field by field as the consensus encoding orders them; `fork`
 * decides which of the later fields are present. extraData and the nonce
 * are empty and zero unless given (a genesis block may have them); the
 * ommers hash is that of no ommers. */
typedef struct {
    enum fork fork;
    hash32 parent_hash;
    address coinbase;
    hash32 state_root;
    hash32 transactions_root;
    hash32 receipts_root;
    uint8_t logs_bloom[256];
    u256 difficulty;
    uint64_t number, gas_limit, gas_used, timestamp;
    hash32 mix_hash;
    const uint8_t *extra_data;   /* NULL: empty */
    size_t extra_data_len;
    uint64_t nonce;              /* the 8-byte proof-of-work nonce */
    u256 base_fee;               /* London on */
    hash32 withdrawals_root;     /* Shanghai on */
    uint64_t blob_gas_used;      /* Cancun on */
    uint64_t excess_blob_gas;
    hash32 parent_beacon_root;
    hash32 requests_hash;        /* Prague on */
} block_header_fields;

/* The header's RLP (replacing `out`'s contents) and its keccak256. */
void block_header_rlp(const block_header_fields *h, bytebuf *out);
void block_header_hash(const block_header_fields *h, hash32 *out);
/* The root of the trie {rlp(i): items[i]} (transactions, receipts,
 * withdrawals). */
void block_list_root(const bytebuf *items, size_t n, hash32 *root);
/* A transaction's typed encoding with a zero signature (v = r = s = 0):
 * what a simulated call, which nobody signed, is hashed as. */
void block_tx_encode(const transaction *tx, const u256 *chain_id, bytebuf *out);
void block_receipt_encode(const block_receipt *r, bytebuf *out);
void block_withdrawal_encode(const withdrawal *w, bytebuf *out);
/* Adds `data`'s three bloom bits (keccak's first six bytes) to `bloom`. */
void block_bloom_add(uint8_t bloom[256], const uint8_t *data, size_t len);

/* sha256("") : EIP-7685's requests hash of a block with no requests. */
extern const hash32 BLOCK_EMPTY_REQUESTS_HASH;

/* ERC-7528 transfer logs (eth_simulateV1's traceTransfers): a tracer that
 * adds, when a frame that moves value starts (any but DELEGATECALL and
 * CALLCODE, the transaction's own included) and when SELFDESTRUCT moves a balance, a
 * Transfer(from, to, value) log from
 * ETH_TRANSFER_LOG_ADDRESS, and takes it back when the frame fails, as
 * the frame's own logs are. The logs sit among the real ones (their order
 * and indices count them, as geth's tracer does) but are no part of the
 * receipt: neither its logs nor the bloom. */
transfer_logger *transfer_logger_new(tracer *out);
void transfer_logger_free(transfer_logger *t);

#endif
