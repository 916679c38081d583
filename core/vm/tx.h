/* Transaction execution: validity rules, intrinsic gas, fees, refunds,
 * EIP-7702 authorizations, and the message call or creation itself. */
#ifndef JITEVM_TX_H
#define JITEVM_TX_H

#include "vm/evm.h"

typedef struct {
    address addr;
    const hash32 *keys;
    size_t n_keys;
} access_list_entry;

typedef struct {
    u256 chain_id;
    address addr;
    u256 nonce;     /* must be < 2^64 - 1 to be applied */
    u256 y_parity;  /* must be 0 or 1 to be applied */
    u256 r, s;
} authorization;

typedef struct {
    int type;                 /* 0 legacy, 1 EIP-2930, 2 EIP-1559, 3 EIP-4844, 4 EIP-7702 */
    address sender;           /* already recovered from the signature */
    bool has_to;              /* false: contract creation */
    address to;
    u256 nonce;               /* u256 so that out-of-range values can be rejected, not truncated */
    u256 gas_limit;
    u256 value;
    const uint8_t *data;
    size_t data_len;
    u256 gas_price;           /* types 0 and 1 */
    u256 max_fee_per_gas;     /* types 2, 3, 4 */
    u256 max_priority_fee_per_gas;
    const access_list_entry *access_list;
    size_t n_access_list;
    u256 max_fee_per_blob_gas;/* type 3 */
    const hash32 *blob_hashes;
    size_t n_blob_hashes;
    const authorization *authorizations; /* type 4 */
    size_t n_authorizations;
} transaction;

/* Why a transaction is invalid. The names are those of the execution spec
 * tests' TransactionException, so the conformance runner can compare them. */
#define TX_ERRORS(X)                                          \
    X(TX_OK, "")                                              \
    X(TX_TYPE_1_TX_PRE_FORK, "TYPE_1_TX_PRE_FORK")             \
    X(TX_TYPE_2_TX_PRE_FORK, "TYPE_2_TX_PRE_FORK")             \
    X(TX_TYPE_3_TX_PRE_FORK, "TYPE_3_TX_PRE_FORK")             \
    X(TX_TYPE_4_TX_PRE_FORK, "TYPE_4_TX_PRE_FORK")             \
    X(TX_NONCE_IS_MAX, "NONCE_IS_MAX")                         \
    X(TX_NONCE_OVERFLOW, "NONCE_OVERFLOW")                     \
    X(TX_GASLIMIT_OVERFLOW, "GASLIMIT_OVERFLOW")               \
    X(TX_NONCE_MISMATCH_TOO_LOW, "NONCE_MISMATCH_TOO_LOW")     \
    X(TX_NONCE_MISMATCH_TOO_HIGH, "NONCE_MISMATCH_TOO_HIGH")   \
    X(TX_INTRINSIC_GAS_TOO_LOW, "INTRINSIC_GAS_TOO_LOW")       \
    X(TX_INTRINSIC_GAS_BELOW_FLOOR_GAS_COST, "INTRINSIC_GAS_BELOW_FLOOR_GAS_COST") \
    X(TX_GAS_ALLOWANCE_EXCEEDED, "GAS_ALLOWANCE_EXCEEDED")     \
    X(TX_GAS_LIMIT_EXCEEDS_MAXIMUM, "GAS_LIMIT_EXCEEDS_MAXIMUM") \
    X(TX_GASLIMIT_PRICE_PRODUCT_OVERFLOW, "GASLIMIT_PRICE_PRODUCT_OVERFLOW") \
    X(TX_INSUFFICIENT_ACCOUNT_FUNDS, "INSUFFICIENT_ACCOUNT_FUNDS") \
    X(TX_INSUFFICIENT_MAX_FEE_PER_GAS, "INSUFFICIENT_MAX_FEE_PER_GAS") \
    X(TX_PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS, "PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS") \
    X(TX_SENDER_NOT_EOA, "SENDER_NOT_EOA")                     \
    X(TX_INITCODE_SIZE_EXCEEDED, "INITCODE_SIZE_EXCEEDED")     \
    X(TX_TYPE_3_TX_ZERO_BLOBS, "TYPE_3_TX_ZERO_BLOBS")         \
    X(TX_TYPE_3_TX_CONTRACT_CREATION, "TYPE_3_TX_CONTRACT_CREATION") \
    X(TX_TYPE_3_TX_INVALID_BLOB_VERSIONED_HASH, "TYPE_3_TX_INVALID_BLOB_VERSIONED_HASH") \
    X(TX_TYPE_3_TX_BLOB_COUNT_EXCEEDED, "TYPE_3_TX_BLOB_COUNT_EXCEEDED") \
    X(TX_TYPE_3_TX_MAX_BLOB_GAS_ALLOWANCE_EXCEEDED, "TYPE_3_TX_MAX_BLOB_GAS_ALLOWANCE_EXCEEDED") \
    X(TX_INSUFFICIENT_MAX_FEE_PER_BLOB_GAS, "INSUFFICIENT_MAX_FEE_PER_BLOB_GAS") \
    X(TX_TYPE_4_EMPTY_AUTHORIZATION_LIST, "TYPE_4_EMPTY_AUTHORIZATION_LIST") \
    X(TX_TYPE_4_TX_CONTRACT_CREATION, "TYPE_4_TX_CONTRACT_CREATION")

enum tx_error {
#define TX_ERROR_ENUM(id, name) id,
    TX_ERRORS(TX_ERROR_ENUM)
#undef TX_ERROR_ENUM
};
/* "INSUFFICIENT_ACCOUNT_FUNDS" etc. ("" for TX_OK). */
const char *tx_error_name(enum tx_error e);

typedef struct {
    enum tx_error error;        /* TX_OK when the transaction was valid and executed */
    enum exec_status status;    /* the outcome of its execution */
    uint64_t gas_used;          /* what the sender paid for, after refunds and the EIP-7623 floor */
    uint64_t gas_refunded;
    uint64_t gas_spent;         /* execution gas before refunds and the EIP-7623 floor (intrinsic included) */
    uint8_t *output;            /* owned; released by tx_result_free */
    size_t output_len;
    address created_address;    /* for a creation */
} tx_result;

typedef struct {
    const tracer *trace;              /* NULL: no trace */
    const atomic_int *abort_flag;     /* NULL: no abort */
    bool skip_balance_check;          /* eth_call without gas price: don't require funds for gas */
    bool skip_nonce_check;            /* eth_call: the sender's nonce is not checked */
    bool skip_eoa_check;              /* eth_call: EIP-3607 not applied */
    bool no_base_fee;                 /* eth_call: gas prices below the base fee are allowed (geth's NoBaseFee) */
    bool skip_block_gas_limit;        /* eth_call: the gas may exceed the block's gas limit */
    bool skip_tx_gas_cap;             /* eth_call: Osaka's EIP-7825 cap (2^24) not applied */
    /* eth_call's movePrecompileToAddress: the precompile of `from` answers
     * at `to`, and `from` runs its own code. NULL/0: none. */
    const precompile_move *moved_precompiles;
    size_t n_moved_precompiles;
    /* Called once per warm account (key NULL) and warm slot, just before the
     * transaction is finalized (eth_createAccessList). NULL: not called. */
    void (*on_access)(void *ctx, const address *addr, const u256 *key);
    void *on_access_ctx;
    int engine;                       /* enum engine (jit.h); 0 = ENGINE_INTERP */
} tx_options;

/* Validates and executes `tx` on `st` under `block` and fork `f`. An invalid
 * transaction leaves the state untouched and sets res->error. A valid one
 * leaves its effects in the state's journal, finalized (state_finalize_tx
 * has run): the caller commits them (state_commit) or throws them away
 * (state_free). Logs stay in the state (state_logs). */
void tx_execute(state *st, const block_env *block, const transaction *tx, enum fork f,
                const tx_options *opts, tx_result *res);
void tx_result_free(tx_result *res);

/* EIP-7702: the account that signed an authorization; false when the
 * signature is invalid (y_parity not 0/1, s above n/2, r or s out of range,
 * or no key recovers). */
bool tx_recover_authority(const authorization *auth, address *authority);

/* The intrinsic gas of a transaction (EIP-2, 2028, 2930, 3860, 7702) and the
 * EIP-7623 floor (0 before Prague). */
uint64_t tx_intrinsic_gas(const transaction *tx, enum fork f);
uint64_t tx_floor_gas(const transaction *tx, enum fork f);

#endif
