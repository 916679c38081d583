/* Transaction execution, following the execution spec's
 * validate_transaction / check_transaction / process_transaction, with
 * every fork's differences beside the EIP that made them. */
#include "vm/tx.h"

#include <stdlib.h>
#include <string.h>

#include "vm/evm_internal.h"
#include "base/params.h"
#include "base/keccak.h"
#include "precompile/precompile.h"
#include "base/rlp.h"
#include "base/trie.h"


static const char *const tx_error_names[] = {
#define TX_ERROR_NAME(id, name) [id] = name,
    TX_ERRORS(TX_ERROR_NAME)
#undef TX_ERROR_NAME
};

const char *tx_error_name(enum tx_error e) { return tx_error_names[e]; }

/* The zero bytes of the data, eight at a time: in each byte of t the high
 * bit is set exactly when the byte is not zero (its low seven bits added
 * to 0x7f carry into bit 7 unless all clear, and no carry leaves a byte);
 * the multiply sums those bits into the top byte. */
static uint64_t zero_bytes(const uint8_t *data, size_t len)
{
    const uint64_t lows = 0x7f7f7f7f7f7f7f7fu, ones = 0x0101010101010101u;
    uint64_t nonzero = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, data + i, 8);
        uint64_t t = ((w & lows) + lows) | w;
        nonzero += ((t >> 7) & ones) * ones >> 56;
    }
    for (; i < len; i++) nonzero += data[i] != 0;
    return len - nonzero;
}

/* The intrinsic gas and the EIP-7623 floor (0 before Prague), from one
 * count of the data's zero bytes. */
static void intrinsic_and_floor(const transaction *tx, enum fork f, uint64_t *intrinsic, uint64_t *floor)
{
    uint64_t zeros = zero_bytes(tx->data, tx->data_len), nonzeros = tx->data_len - zeros;
    uint64_t nonzero_cost = f >= FORK_ISTANBUL ? TX_DATA_NONZERO_ISTANBUL : TX_DATA_NONZERO_FRONTIER;
    uint64_t gas = TX_BASE_COST + zeros * TX_DATA_ZERO_COST + nonzeros * nonzero_cost;
    if (!tx->has_to) {
        if (f >= FORK_HOMESTEAD) gas += TX_CREATE_COST; /* EIP-2 */
        if (f >= FORK_SHANGHAI) gas += GAS_INITCODE_PER_WORD * ((tx->data_len + 31) / 32); /* EIP-3860 */
    }
    for (size_t i = 0; i < tx->n_access_list; i++)
        gas += TX_ACCESS_LIST_ADDRESS_COST + TX_ACCESS_LIST_KEY_COST * tx->access_list[i].n_keys;
    gas += PER_EMPTY_ACCOUNT_COST * (uint64_t)tx->n_authorizations;
    *intrinsic = gas;
    /* Tokens: a zero byte is one, any other four. */
    *floor = f >= FORK_PRAGUE ? TX_BASE_COST + TX_FLOOR_PER_TOKEN * (zeros + nonzeros * 4) : 0;
}

uint64_t tx_intrinsic_gas(const transaction *tx, enum fork f)
{
    uint64_t intrinsic, floor;
    intrinsic_and_floor(tx, f, &intrinsic, &floor);
    return intrinsic;
}

uint64_t tx_floor_gas(const transaction *tx, enum fork f)
{
    uint64_t intrinsic, floor;
    intrinsic_and_floor(tx, f, &intrinsic, &floor);
    return floor;
}

/* u256_mul_checked for the fee arithmetic, where both factors nearly always
 * fit in 64 bits (gas times a price): one 64x64 multiplication then, not a
 * full 256x256 product (~115 instructions each, seven per transaction). */
static bool fee_mul(const u256 *a, const u256 *b, u256 *out)
{
    if ((a->w[1] | a->w[2] | a->w[3] | b->w[1] | b->w[2] | b->w[3]) != 0) return u256_mul_checked(a, b, out);
    unsigned __int128 p = (unsigned __int128)a->w[0] * b->w[0];
    out->w[0] = (uint64_t)p;
    out->w[1] = (uint64_t)(p >> 64);
    out->w[2] = out->w[3] = 0;
    return true;
}

/* ---- the validity rules (tx.h) ---- */

/* Only the rule is set: have, want, index and overflow say how a rule
 * broke, and a kept one has nothing to say (tx.h). A transaction passes
 * about ten checks; clearing the whole record at each showed in a call's
 * cost. */
static bool kept(tx_violation *v)
{
    v->rule = TX_OK;
    return true;
}

static bool broken(tx_violation *v, enum tx_error rule, const u256 *have, const u256 *want)
{
    memset(v, 0, sizeof *v);
    v->rule = rule;
    if (have) v->have = *have;
    if (want) v->want = *want;
    return false;
}

static bool broken_u64(tx_violation *v, enum tx_error rule, uint64_t have, uint64_t want)
{
    u256 h = u256_from_u64(have), w = u256_from_u64(want);
    return broken(v, rule, &h, &w);
}

bool tx_check_encodable(const transaction *tx, tx_violation *v)
{
    /* Fields a transaction encodes as 64-bit integers (EIP-2681 for the
     * nonce): larger values cannot be a transaction at all. */
    if (!u256_fits_u64(&tx->nonce)) return broken(v, TX_NONCE_OVERFLOW, NULL, NULL);
    if (!u256_fits_u64(&tx->gas_limit)) return broken(v, TX_GASLIMIT_OVERFLOW, NULL, NULL);
    return kept(v);
}

bool tx_check_type(const transaction *tx, enum fork f, tx_violation *v)
{
    switch (tx->type) {
    case 0: return kept(v);
    case 1: return f >= FORK_BERLIN ? kept(v) : broken(v, TX_TYPE_1_TX_PRE_FORK, NULL, NULL);
    case 2: return f >= FORK_LONDON ? kept(v) : broken(v, TX_TYPE_2_TX_PRE_FORK, NULL, NULL);
    case 3: return f >= FORK_CANCUN ? kept(v) : broken(v, TX_TYPE_3_TX_PRE_FORK, NULL, NULL);
    case 4: return f >= FORK_PRAGUE ? kept(v) : broken(v, TX_TYPE_4_TX_PRE_FORK, NULL, NULL);
    default: return broken(v, TX_TYPE_4_TX_PRE_FORK, NULL, NULL); /* no fork has it yet */
    }
}

/* tx_check_gas with the intrinsic gas and floor already found. */
static bool gas_covers(const transaction *tx, uint64_t intrinsic, uint64_t floor, tx_violation *v)
{
    uint64_t gas = tx->gas_limit.w[0];
    if (intrinsic > gas) return broken_u64(v, TX_INTRINSIC_GAS_TOO_LOW, gas, intrinsic);
    if (floor > gas) return broken_u64(v, TX_INTRINSIC_GAS_BELOW_FLOOR_GAS_COST, gas, floor);
    return kept(v);
}

bool tx_check_gas(const transaction *tx, enum fork f, tx_violation *v)
{
    uint64_t intrinsic, floor;
    intrinsic_and_floor(tx, f, &intrinsic, &floor);
    return gas_covers(tx, intrinsic, floor, v);
}

bool tx_check_initcode(const transaction *tx, enum fork f, tx_violation *v)
{
    if (f >= FORK_SHANGHAI && !tx->has_to && tx->data_len > MAX_INITCODE_SIZE)
        return broken_u64(v, TX_INITCODE_SIZE_EXCEEDED, tx->data_len, MAX_INITCODE_SIZE);
    return kept(v);
}

bool tx_check_fee_caps(const transaction *tx, const u256 *base_fee, enum fork f, tx_violation *v)
{
    if (tx->type >= 2) {
        if (u256_lt(&tx->max_fee_per_gas, &tx->max_priority_fee_per_gas))
            return broken(v, TX_PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS, &tx->max_priority_fee_per_gas,
                          &tx->max_fee_per_gas);
        if (u256_lt(&tx->max_fee_per_gas, base_fee))
            return broken(v, TX_INSUFFICIENT_MAX_FEE_PER_GAS, &tx->max_fee_per_gas, base_fee);
    } else if (f >= FORK_LONDON && u256_lt(&tx->gas_price, base_fee)) {
        return broken(v, TX_INSUFFICIENT_MAX_FEE_PER_GAS, &tx->gas_price, base_fee);
    }
    return kept(v);
}

bool tx_check_blob_hashes(const transaction *tx, enum fork f, tx_violation *v)
{
    if (tx->type != 3) return kept(v);
    if (tx->n_blob_hashes == 0) return broken(v, TX_TYPE_3_TX_ZERO_BLOBS, NULL, NULL);
    if (f >= FORK_OSAKA && tx->n_blob_hashes > OSAKA_MAX_BLOBS_PER_TX)
        return broken_u64(v, TX_TYPE_3_TX_BLOB_COUNT_EXCEEDED, tx->n_blob_hashes, OSAKA_MAX_BLOBS_PER_TX);
    for (size_t i = 0; i < tx->n_blob_hashes; i++)
        if (tx->blob_hashes[i].b[0] != BLOB_HASH_VERSION_KZG) {
            broken(v, TX_TYPE_3_TX_INVALID_BLOB_VERSIONED_HASH, NULL, NULL);
            v->index = i;
            return false;
        }
    return kept(v);
}

bool tx_check_blob_fee(const transaction *tx, const u256 *blob_base_fee, tx_violation *v)
{
    if (tx->type == 3 && u256_lt(&tx->max_fee_per_blob_gas, blob_base_fee))
        return broken(v, TX_INSUFFICIENT_MAX_FEE_PER_BLOB_GAS, &tx->max_fee_per_blob_gas, blob_base_fee);
    return kept(v);
}

bool tx_check_creation(const transaction *tx, tx_violation *v)
{
    if (tx->type == 3 && !tx->has_to) return broken(v, TX_TYPE_3_TX_CONTRACT_CREATION, NULL, NULL);
    if (tx->type == 4 && !tx->has_to) return broken(v, TX_TYPE_4_TX_CONTRACT_CREATION, NULL, NULL);
    return kept(v);
}

bool tx_check_authorization_list(const transaction *tx, tx_violation *v)
{
    if (tx->type == 4 && tx->n_authorizations == 0) return broken(v, TX_TYPE_4_EMPTY_AUTHORIZATION_LIST, NULL, NULL);
    return kept(v);
}

/* The gas price the sender commits to at most: the max fee, or the price. */
static const u256 *price_cap(const transaction *tx)
{
    return tx->type >= 2 ? &tx->max_fee_per_gas : &tx->gas_price;
}

static u256 blob_gas(const transaction *tx)
{
    return u256_from_u64(tx->type == 3 ? (uint64_t)tx->n_blob_hashes * GAS_PER_BLOB : 0);
}

bool tx_check_funds(const transaction *tx, const u256 *balance, tx_violation *v)
{
    u256 cost, blob_gas_w = blob_gas(tx), blob_cost;
    bool fits = fee_mul(&tx->gas_limit, price_cap(tx), &cost) &&
                fee_mul(&blob_gas_w, &tx->max_fee_per_blob_gas, &blob_cost) &&
                u256_add_checked(&cost, &blob_cost, &cost) && u256_add_checked(&cost, &tx->value, &cost);
    if (!fits) {
        broken(v, TX_INSUFFICIENT_ACCOUNT_FUNDS, balance, NULL);
        v->overflow = true;
        return false;
    }
    if (u256_lt(balance, &cost)) return broken(v, TX_INSUFFICIENT_ACCOUNT_FUNDS, balance, &cost);
    return kept(v);
}

/* ---- validation in the execution spec's order ---- */

/* What the validity checks compute and execution needs. */
typedef struct {
    uint64_t gas_limit;
    uint64_t intrinsic_gas;
    uint64_t floor_gas;
    u256 effective_gas_price;
    u256 blob_fee;
} tx_costs;

/* validate_transaction, and check_transaction's block limits: the checks
 * that need no state. c holds the intrinsic gas and floor. */
static enum tx_error validate_static(const transaction *tx, const block_env *block, enum fork f,
                                     const tx_options *opts, const tx_costs *c)
{
    tx_violation v;
    if (!tx_check_encodable(tx, &v) || !tx_check_type(tx, f, &v) ||
        !gas_covers(tx, c->intrinsic_gas, c->floor_gas, &v))
        return v.rule;
    uint64_t gas_limit = tx->gas_limit.w[0];
    if (tx->nonce.w[0] == UINT64_MAX) return TX_NONCE_IS_MAX; /* EIP-2681 */
    if (!tx_check_initcode(tx, f, &v)) return v.rule;
    if (f >= FORK_OSAKA && !opts->skip_tx_gas_cap && gas_limit > OSAKA_TX_GAS_LIMIT_CAP)
        return TX_GAS_LIMIT_EXCEEDS_MAXIMUM;
    if (!opts->skip_block_gas_limit && gas_limit > block->gas_limit) return TX_GAS_ALLOWANCE_EXCEEDED;
    /* The block's blob gas limit comes before the per-transaction blob
     * count (check_transaction's order; EEST expects the allowance error
     * when a transaction breaks both). */
    if (tx->type == 3 && (uint64_t)tx->n_blob_hashes > block->blob_max_per_block)
        return TX_TYPE_3_TX_MAX_BLOB_GAS_ALLOWANCE_EXCEEDED;
    return TX_OK;
}

/* The rest of check_transaction: fees, blobs, nonce, balance, EIP-3607. */
static enum tx_error validate_against_state(state *st, const transaction *tx, const block_env *block, enum fork f,
                                            const tx_options *opts)
{
    tx_violation v;
    if (!tx_check_fee_caps(tx, &block->base_fee, f, &v)) return v.rule;
    u256 max_gas_fee;
    if (!fee_mul(&tx->gas_limit, price_cap(tx), &max_gas_fee)) return TX_GASLIMIT_PRICE_PRODUCT_OVERFLOW;
    if (!tx_check_blob_hashes(tx, f, &v) || !tx_check_blob_fee(tx, &block->blob_base_fee, &v) ||
        !tx_check_creation(tx, &v) || !tx_check_authorization_list(tx, &v))
        return v.rule;
    if (!opts->skip_nonce_check) {
        uint64_t nonce = state_get_nonce(st, &tx->sender);
        if (nonce > tx->nonce.w[0]) return TX_NONCE_MISMATCH_TOO_LOW;
        if (nonce < tx->nonce.w[0]) return TX_NONCE_MISMATCH_TOO_HIGH;
    }
    u256 balance = state_get_balance(st, &tx->sender);
    if (!tx_check_funds(tx, &balance, &v)) return v.rule;
    if (!opts->skip_eoa_check) {
        /* EIP-3607, relaxed by EIP-7702 for delegation designators. */
        const code_info *code = state_get_code(st, &tx->sender);
        address target;
        if (code->code_len && !(f >= FORK_PRAGUE && delegation_target(code->code, code->code_len, &target)))
            return TX_SENDER_NOT_EOA;
    }
    return TX_OK;
}

/* The gas and prices of a valid transaction (c's intrinsic gas and floor
 * are already there). */
static void compute_costs(const transaction *tx, const block_env *block, tx_costs *c)
{
    c->gas_limit = tx->gas_limit.w[0];
    if (tx->type >= 2) {
        /* The fee caps hold: max fee >= base fee. */
        u256 headroom = u256_sub(&tx->max_fee_per_gas, &block->base_fee);
        const u256 *priority = u256_lt(&tx->max_priority_fee_per_gas, &headroom) ? &tx->max_priority_fee_per_gas
                                                                                 : &headroom;
        c->effective_gas_price = u256_add(priority, &block->base_fee);
    } else {
        c->effective_gas_price = tx->gas_price;
    }
    u256 blob_gas_w = blob_gas(tx);
    fee_mul(&blob_gas_w, &block->blob_base_fee, &c->blob_fee); /* fits: below blob gas * max blob price */
}

/* ---- EIP-7702 authorizations ---- */

static const u256 SECP256K1_HALF_N = {
    {0xdfe92f46681b20a0ULL, 0x5d576e7357a4501dULL, 0xffffffffffffffffULL, 0x7fffffffffffffffULL}};

bool tx_recover_authority(const authorization *auth, address *authority)
{
    if (!u256_fits_u64(&auth->y_parity) || auth->y_parity.w[0] > 1) return false;
    if (u256_is_zero(&auth->s) || u256_lt(&SECP256K1_HALF_N, &auth->s)) return false;
    /* Signed message: keccak(0x05 || rlp([chain_id, address, nonce])). */
    bytebuf msg = {0};
    bytebuf_push(&msg, 0x05);
    size_t mark = rlp_list_begin(&msg);
    rlp_put_u256(&msg, &auth->chain_id);
    rlp_put_bytes(&msg, auth->addr.b, 20);
    rlp_put_u256(&msg, &auth->nonce);
    rlp_list_end(&msg, mark);
    /* The ecrecover precompile's input: hash, v, r, s (it checks 0 < r < n). */
    uint8_t input[128] = {0};
    keccak256(msg.data, msg.len, input);
    bytebuf_free(&msg);
    input[63] = (uint8_t)(27 + auth->y_parity.w[0]);
    u256_store_be(input + 64, &auth->r);
    u256_store_be(input + 96, &auth->s);
    bytebuf out = {0};
    pc_ecrecover_run(input, sizeof input, FORK_PRAGUE, &out);
    bool ok = out.len == 32;
    if (ok) memcpy(authority->b, out.data + 12, 20);
    bytebuf_free(&out);
    return ok;
}

/* Applies the authorization list; returns the refund for authorities that
 * already existed (EIP-7702's PER_EMPTY_ACCOUNT_COST - PER_AUTH_BASE_COST). */
static int64_t apply_authorizations(state *st, const transaction *tx, const block_env *block)
{
    int64_t refund = 0;
    for (size_t i = 0; i < tx->n_authorizations; i++) {
        const authorization *auth = &tx->authorizations[i];
        if (!u256_is_zero(&auth->chain_id) && !u256_eq(&auth->chain_id, &block->chain_id)) continue;
        if (!u256_fits_u64(&auth->nonce) || auth->nonce.w[0] == UINT64_MAX) continue;
        address authority;
        if (!tx_recover_authority(auth, &authority)) continue;
        state_warm_account(st, &authority);
        const code_info *code = state_get_code(st, &authority);
        address current_target;
        if (code->code_len && !delegation_target(code->code, code->code_len, &current_target)) continue;
        if (state_get_nonce(st, &authority) != auth->nonce.w[0]) continue;
        if (state_exists(st, &authority)) refund += PER_EMPTY_ACCOUNT_COST - PER_AUTH_BASE_COST;
        static const address zero_address;
        if (memcmp(auth->addr.b, zero_address.b, 20) == 0) {
            state_set_code(st, &authority, NULL, 0);
        } else {
            uint8_t designator[23] = {0xef, 0x01, 0x00};
            memcpy(designator + 3, auth->addr.b, 20);
            state_set_code(st, &authority, designator, sizeof designator);
        }
        state_set_nonce(st, &authority, auth->nonce.w[0] + 1);
    }
    return refund;
}

/* ---- execution ---- */

static void warm_access_list(state *st, const transaction *tx, const block_env *block, enum fork f)
{
    if (f < FORK_BERLIN) return;
    state_warm_account(st, &tx->sender);
    if (tx->has_to) state_warm_account(st, &tx->to);
    state_warm_precompiles(st, f);
    if (f >= FORK_SHANGHAI) state_warm_account(st, &block->coinbase); /* EIP-3651 */
    for (size_t i = 0; i < tx->n_access_list; i++) {
        const access_list_entry *e = &tx->access_list[i];
        state_warm_account(st, &e->addr);
        for (size_t k = 0; k < e->n_keys; k++) {
            u256 key = u256_load_be(e->keys[k].b);
            state_warm_slot(st, &e->addr, &key);
        }
    }
}

static void pay_coinbase(state *st, const block_env *block, enum fork f, const u256 *fee)
{
    if (f < FORK_SPURIOUS_DRAGON || !u256_is_zero(fee)) {
        state_add_balance(st, &block->coinbase, fee);
        return;
    }
    /* A zero fee still touches the coinbase: an empty one is cleared. */
    if (state_exists(st, &block->coinbase)) state_touch(st, &block->coinbase);
}

void tx_execute(state *st, const block_env *block, const transaction *tx, enum fork f, const tx_options *opts,
                tx_result *res)
{
    static const tx_options no_options;
    if (!opts) opts = &no_options;
    memset(res, 0, sizeof *res);
    /* Found once for the gas rule and for execution (the data is counted). */
    tx_costs c;
    intrinsic_and_floor(tx, f, &c.intrinsic_gas, &c.floor_gas);
    res->error = validate_static(tx, block, f, opts, &c);
    if (res->error == TX_OK) res->error = validate_against_state(st, tx, block, f, opts);
    if (res->error != TX_OK) return;
    compute_costs(tx, block, &c);

    /* Buy the gas, bump the nonce. */
    uint64_t sender_nonce = state_get_nonce(st, &tx->sender);
    state_set_nonce(st, &tx->sender, sender_nonce + 1);
    u256 gas_limit = u256_from_u64(c.gas_limit), gas_fee, upfront;
    fee_mul(&gas_limit, &c.effective_gas_price, &gas_fee);
    upfront = u256_add(&gas_fee, &c.blob_fee);
    state_sub_balance(st, &tx->sender, &upfront); /* covered: tx_check_funds held */

    warm_access_list(st, tx, block, f);
    int64_t auth_refund = tx->type == 4 ? apply_authorizations(st, tx, block) : 0;

    evm *e = evm_new(st, block, f);
    evm_set_tx_context(e, &tx->sender, &c.effective_gas_price, tx->blob_hashes, tx->n_blob_hashes);
    if (opts->trace) evm_set_tracer(e, opts->trace);
    if (opts->abort_flag) evm_set_abort_flag(e, opts->abort_flag);
    if (opts->n_moved_precompiles) evm_set_precompile_moves(e, opts->moved_precompiles, opts->n_moved_precompiles);
    evm_set_engine(e, opts->engine);
    evm_set_memory_limit(e, opts->memory_limit);

    message msg = {
        .kind = tx->has_to ? CALL_CALL : CALL_CREATE,
        .depth = 0,
        .gas = (int64_t)(c.gas_limit - c.intrinsic_gas),
        .sender = tx->sender,
        .value = tx->value,
        .transfers_value = true,
        .input = tx->data,
        .input_len = tx->data_len,
    };
    if (tx->has_to) {
        msg.recipient = msg.code_address = tx->to;
        if (f >= FORK_PRAGUE) {
            const code_info *code = state_get_code(st, &tx->to);
            if (delegation_target(code->code, code->code_len, &msg.code_address)) {
                msg.is_delegated = true;
                state_warm_account(st, &msg.code_address);
            }
        }
    } else {
        msg.recipient = msg.code_address = create_address(&tx->sender, sender_nonce);
        if (f >= FORK_BERLIN) state_warm_account(st, &msg.recipient);
    }
    exec_result r = evm_execute(e, &msg);

    /* Refunds: capped at half (a fifth from London, EIP-3529) of the gas
     * used; EIP-7623's floor applies after them. */
    uint64_t used = c.gas_limit - (uint64_t)r.gas_left;
    res->gas_spent = used;
    res->floor_gas = c.floor_gas;
    int64_t refund = state_get_refund(st) + auth_refund;
    uint64_t cap = used / (f >= FORK_LONDON ? 5 : 2);
    uint64_t applied = refund <= 0 ? 0 : (uint64_t)refund < cap ? (uint64_t)refund : cap;
    used -= applied;
    if (used < c.floor_gas) used = c.floor_gas;

    /* What follows changes only the state: left out when it is thrown
     * away unseen (tx_options.discard_state). */
    if (!opts->discard_state || opts->trace) {
        u256 left = u256_from_u64(c.gas_limit - used), gas_back;
        fee_mul(&left, &c.effective_gas_price, &gas_back);
        state_add_balance(st, &tx->sender, &gas_back);

        u256 used_w = u256_from_u64(used), miner_price, fee;
        if (f < FORK_LONDON)
            miner_price = c.effective_gas_price;
        else /* the fee caps hold: the price is at least the base fee */
            miner_price = u256_sub(&c.effective_gas_price, &block->base_fee);
        fee_mul(&used_w, &miner_price, &fee);
        pay_coinbase(st, block, f, &fee);

        state_finalize_tx(st, f);
    }
    if (opts->trace && opts->trace->on_tx_end) opts->trace->on_tx_end(opts->trace->ctx, e);

    res->status = r.status;
    res->gas_used = used;
    res->gas_refunded = applied;
    if (r.output_len && (r.status == EXEC_SUCCESS || r.status == EXEC_REVERT)) {
        res->output = xmalloc(r.output_len);
        memcpy(res->output, r.output, r.output_len);
        res->output_len = r.output_len;
    }
    if (!tx->has_to && r.status == EXEC_SUCCESS) res->created_address = msg.recipient;
    evm_free(e);
}

void tx_result_free(tx_result *res)
{
    free(res->output);
    res->output = NULL;
    res->output_len = 0;
}
