/* Transaction execution: validity rules, intrinsic gas, fees, refunds,
 * EIP-7702 authorizations, and the message call or creation itself.
 *
 * The validity rules are defined here once. Each rule function below
 * checks one rule (or a group the spec checks together) and reports a
 * broken rule as a tx_violation: which rule and the two numbers it
 * compared. tx_execute applies them in the execution spec's order; the
 * RPC layer applies the ones geth checks for a call in geth's order and
 * only words the violations as geth does. */
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
    X(TX_TYPE_4_TX_CONTRACT_CREATION, "TYPE_4_TX_CONTRACT_CREATION") \
    X(TX_RLP_INVALID_VALUE, "RLP_INVALID_VALUE")

enum tx_error {
#define TX_ERROR_ENUM(id, name) id,
    TX_ERRORS(TX_ERROR_ENUM)
#undef TX_ERROR_ENUM
};
/* "INSUFFICIENT_ACCOUNT_FUNDS" etc. ("" for TX_OK). */
const char *tx_error_name(enum tx_error e);
/* TX_RLP_INVALID_VALUE is never returned by tx_execute: a value beyond 256
 * bits cannot be a `transaction` at all. It is the verdict of whoever reads
 * such a transaction (the conformance runner), named here with the rest. */

/* A broken validity rule. `have` is what the transaction has, `want` what
 * the rule requires, for these rules (zero for the others):
 *   INTRINSIC_GAS_TOO_LOW                  gas limit, intrinsic gas
 *   INTRINSIC_GAS_BELOW_FLOOR_GAS_COST     gas limit, EIP-7623 floor gas
 *   INITCODE_SIZE_EXCEEDED                 data length, MAX_INITCODE_SIZE
 *   PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS  max priority fee, max fee
 *   INSUFFICIENT_MAX_FEE_PER_GAS           max fee (gas price if legacy), base fee
 *   TYPE_3_TX_BLOB_COUNT_EXCEEDED          blob count, the per-transaction limit
 *   INSUFFICIENT_MAX_FEE_PER_BLOB_GAS      max fee per blob gas, blob base fee
 *   INSUFFICIENT_ACCOUNT_FUNDS             balance, the most the transaction can cost
 *                                          (`overflow`: that cost exceeds 256 bits)
 *   TYPE_3_TX_INVALID_BLOB_VERSIONED_HASH  `index`: the first bad hash */
typedef struct {
    enum tx_error rule; /* TX_OK: every rule checked holds */
    u256 have, want;
    size_t index;
    bool overflow;
} tx_violation;

/* The rules. Each returns true when `tx` keeps it, with v->rule TX_OK
 * (the other fields are then left as they were); otherwise false, with *v
 * saying how it broke. They read only their arguments (no state). */
/* Nonce and gas limit fit the 64 bits a transaction encodes them in. */
bool tx_check_encodable(const transaction *tx, tx_violation *v);
/* The type exists in fork `f` (TYPE_n_TX_PRE_FORK). */
bool tx_check_type(const transaction *tx, enum fork f, tx_violation *v);
/* The gas limit (which must fit 64 bits) covers the intrinsic gas, then
 * the EIP-7623 floor. */
bool tx_check_gas(const transaction *tx, enum fork f, tx_violation *v);
/* EIP-3860: a creation's initcode is at most MAX_INITCODE_SIZE. */
bool tx_check_initcode(const transaction *tx, enum fork f, tx_violation *v);
/* EIP-1559: the max fee covers the priority fee and `base_fee`; a legacy
 * gas price covers `base_fee` from London on. */
bool tx_check_fee_caps(const transaction *tx, const u256 *base_fee, enum fork f, tx_violation *v);
/* Type 3: at least one blob, at most the per-transaction limit (EIP-7594,
 * Osaka), every hash of KZG version 0x01. */
bool tx_check_blob_hashes(const transaction *tx, enum fork f, tx_violation *v);
/* Type 3: the max fee per blob gas covers `blob_base_fee`. */
bool tx_check_blob_fee(const transaction *tx, const u256 *blob_base_fee, tx_violation *v);
/* Types 3 and 4 cannot create a contract. */
bool tx_check_creation(const transaction *tx, tx_violation *v);
/* Type 4: the authorization list is not empty. */
bool tx_check_authorization_list(const transaction *tx, tx_violation *v);
/* `balance` covers gas limit * max price (+ blob gas * max blob price for
 * type 3) + value. */
bool tx_check_funds(const transaction *tx, const u256 *balance, tx_violation *v);

typedef struct {
    enum tx_error error;        /* TX_OK when the transaction was valid and executed */
    enum exec_status status;    /* the outcome of its execution */
    uint64_t gas_used;          /* what the sender paid for, after refunds and the EIP-7623 floor */
    uint64_t gas_refunded;
    uint64_t gas_spent;         /* execution gas before refunds and the EIP-7623 floor (intrinsic included) */
    uint64_t floor_gas;         /* the EIP-7623 floor it was held to (0 before Prague) */
    uint8_t *output;            /* owned; released by tx_result_free */
    size_t output_len;
    address created_address;    /* for a creation */
} tx_result;

typedef struct {
    const tracer *trace;              /* NULL: no trace */
    const atomic_int *abort_flag;     /* NULL: no abort */
    bool skip_nonce_check;            /* eth_call: the sender's nonce is not checked */
    bool skip_eoa_check;              /* eth_call: EIP-3607 not applied */
    bool skip_block_gas_limit;        /* eth_call: the gas may exceed the block's gas limit */
    bool skip_tx_gas_cap;             /* eth_call: Osaka's EIP-7825 cap (2^24) not applied */
    /* eth_call: the caller frees the state unseen after the call, so the
     * steps that only change it are left out (the unused gas paid back to
     * the sender, the coinbase's fee, state_finalize_tx); the result is the
     * same. Ignored with a tracer (its on_tx_end may read the state). */
    bool discard_state;
    /* eth_call's movePrecompileToAddress: the precompile of `from` answers
     * at `to`, and `from` runs its own code. NULL/0: none. */
    const precompile_move *moved_precompiles;
    size_t n_moved_precompiles;
    int engine;                       /* enum engine (jit.h); 0 = ENGINE_INTERP */
    size_t memory_limit;              /* EVM memory of the execution, bytes (evm_set_memory_limit); 0: none */
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
