/* Block execution (block.h): system calls, transactions with the block's
 * cumulative gas and receipts, withdrawals, the next fee fields, and the
 * header's encoding and roots. */
#include "vm/block.h"

#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/keccak.h"
#include "base/params.h"
#include "base/rlp.h"
#include "base/trie.h"
#include "precompile/precompile.h"

const hash32 BLOCK_EMPTY_REQUESTS_HASH = {{0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                                          0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                                          0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55}};

static address address_of(const char *hex)
{
    address a;
    hex_parse_fixed(hex, strlen(hex), 0, a.b, sizeof a.b, NULL); /* the constants are well-formed */
    return a;
}

/* ------------------------------------------------------- system calls */

/* A system call (EIP-4788's, EIP-2935's, EIP-7002's and EIP-7251's
 * "system transaction"): a message from SYSTEM_ADDRESS with
 * SYSTEM_CALL_GAS, no fee, no nonce, outside the block's gas. Its output
 * goes to `output` when given. The contract must have code (callers check). */
static enum exec_status system_call(state *st, const block_env *env, enum fork f, const address *contract,
                                    const uint8_t *input, size_t len, const atomic_int *abort_flag, bytebuf *output)
{
    address system = address_of(SYSTEM_ADDRESS);
    evm *e = evm_new(st, env, f);
    u256 zero_price = u256_zero();
    evm_set_tx_context(e, &system, &zero_price, NULL, 0);
    if (abort_flag) evm_set_abort_flag(e, abort_flag);
    state_warm_account(st, contract);
    message msg = {
        .kind = CALL_CALL,
        .gas = SYSTEM_CALL_GAS,
        .recipient = *contract,
        .sender = system,
        .code_address = *contract,
        .transfers_value = true,
        .input = input,
        .input_len = len,
    };
    exec_result r = evm_execute(e, &msg);
    if (output && r.status == EXEC_SUCCESS) bytebuf_append(output, r.output, r.output_len);
    evm_free(e);
    state_finalize_tx(st, f);
    state_clear_logs(st);
    return r.status;
}

static bool has_code(state *st, const address *a) { return state_get_code(st, a)->code_len != 0; }

void block_run_begin(block_run *b, state *st, const block_env *env, enum fork f, const hash32 *parent_hash,
                     const hash32 *beacon_root, const atomic_int *abort_flag)
{
    memset(b, 0, sizeof *b);
    b->st = st;
    b->env = *env;
    b->fork = f;
    b->first_log_seq = state_logs_added(st);
    b->requests_hash = BLOCK_EMPTY_REQUESTS_HASH;
    /* The execution spec's order: the beacon root first, then the history;
     * each skipped when its contract has no code. */
    address beacon = address_of(BEACON_ROOTS_ADDRESS), history = address_of(HISTORY_STORAGE_ADDRESS);
    if (f >= FORK_CANCUN && beacon_root && has_code(st, &beacon))
        system_call(st, env, f, &beacon, beacon_root->b, 32, abort_flag, NULL);
    if (f >= FORK_PRAGUE && parent_hash && has_code(st, &history))
        system_call(st, env, f, &history, parent_hash->b, 32, abort_flag, NULL);
}

/* EIP-6110: appends the request of each DepositEvent `contract` emitted in
 * the block's successful transactions to `out` (after its type byte). The
 * event's data is checked for its length only, as geth's
 * DepositLogToRequest checks it: the deposit contract is trusted to lay
 * the fields out as its ABI does. */
static bool gather_deposits(const block_run *b, const address *contract, bytebuf *out, size_t *bad_len)
{
    /* Where each field's value starts in the event's data: past the five
     * offsets, and past each field's length word. */
    static const struct {
        size_t at, len;
    } fields[] = {{192, 48}, {288, 32}, {352, 8}, {416, 96}, {544, 8}};
    hash32 topic;
    keccak256((const uint8_t *)DEPOSIT_EVENT_SIGNATURE, strlen(DEPOSIT_EVENT_SIGNATURE), topic.b);
    for (size_t i = 0; i < b->n_receipts; i++) {
        const block_receipt *r = &b->receipts[i];
        if (r->status != EXEC_SUCCESS) continue;
        for (size_t k = 0; k < r->n_logs; k++) {
            const log_entry *l = &r->logs[k];
            if (memcmp(l->addr.b, contract->b, 20) != 0 || l->n_topics == 0 ||
                memcmp(l->topics[0].b, topic.b, 32) != 0)
                continue;
            if (l->data_len != DEPOSIT_EVENT_DATA_SIZE) {
                *bad_len = l->data_len;
                return false;
            }
            for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
                bytebuf_append(out, l->data + fields[f].at, fields[f].len);
        }
    }
    return true;
}

bool block_run_requests(block_run *b, const address *deposit_contract, const atomic_int *abort_flag,
                        block_request_failure *failure)
{
    static const struct {
        uint8_t type;
        const char *contract;
    } queues[] = {{WITHDRAWAL_REQUEST_TYPE, WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS},
                  {CONSOLIDATION_REQUEST_TYPE, CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS}};
    if (b->fork < FORK_PRAGUE) return true;
    block_request_failure dummy;
    if (!failure) failure = &dummy;
    /* EIP-7685: sha256 over the sha256 of each request that carries data
     * (its type byte and more). */
    bytebuf hashes = {0}, request = {0}, digest = {0};
    bool ok = true;
    for (size_t i = 0; ok && i <= sizeof queues / sizeof queues[0]; i++) {
        request.len = 0;
        if (i == 0) {
            bytebuf_push(&request, DEPOSIT_REQUEST_TYPE);
            size_t bad_len = 0;
            if (!gather_deposits(b, deposit_contract, &request, &bad_len)) {
                *failure = (block_request_failure){.error = BLOCK_REQUEST_BAD_DEPOSIT, .contract = *deposit_contract,
                                                   .request_type = DEPOSIT_REQUEST_TYPE, .deposit_data_len = bad_len};
                ok = false;
                break;
            }
        } else {
            address contract = address_of(queues[i - 1].contract);
            uint8_t type = queues[i - 1].type;
            /* geth refuses the block rather than skip the call. */
            if (!has_code(b->st, &contract)) {
                *failure = (block_request_failure){.error = BLOCK_REQUEST_NO_CODE, .contract = contract, .request_type = type};
                ok = false;
                break;
            }
            bytebuf_push(&request, type);
            enum exec_status status = system_call(b->st, &b->env, b->fork, &contract, NULL, 0, abort_flag, &request);
            if (status != EXEC_SUCCESS) {
                *failure = (block_request_failure){
                    .error = BLOCK_REQUEST_CALL_FAILED, .contract = contract, .request_type = type, .status = status};
                ok = false;
                break;
            }
        }
        if (request.len > 1) {
            digest.len = 0;
            pc_sha256_run(request.data, request.len, b->fork, &digest);
            bytebuf_append(&hashes, digest.data, digest.len);
        }
    }
    if (ok) {
        digest.len = 0;
        pc_sha256_run(hashes.data, hashes.len, b->fork, &digest);
        memcpy(b->requests_hash.b, digest.data, 32);
    }
    bytebuf_free(&hashes);
    bytebuf_free(&request);
    bytebuf_free(&digest);
    return ok;
}

/* ------------------------------------------------------- transactions */

static bool transfer_logged(const transfer_logger *t, size_t index);
static void transfer_logger_reset(transfer_logger *t);

static void copy_logs(block_run *b, block_receipt *r)
{
    size_t n = state_log_count(b->st);
    const log_entry *logs = state_logs(b->st);
    r->first_log_index = b->n_logs;
    r->n_logs = n;
    r->logs = n ? xcalloc(n, sizeof *r->logs) : NULL;
    r->is_transfer_log = n ? xcalloc(n, sizeof *r->is_transfer_log) : NULL;
    for (size_t i = 0; i < n; i++) {
        r->is_transfer_log[i] = b->transfers && transfer_logged(b->transfers, i);
        r->logs[i] = logs[i];
        r->logs[i].data = NULL;
        if (logs[i].data_len) {
            r->logs[i].data = xmalloc(logs[i].data_len);
            memcpy(r->logs[i].data, logs[i].data, logs[i].data_len);
        }
        if (r->is_transfer_log[i]) continue;
        block_bloom_add(r->bloom, logs[i].addr.b, 20);
        for (unsigned t = 0; t < logs[i].n_topics; t++) block_bloom_add(r->bloom, logs[i].topics[t].b, 32);
    }
    for (size_t i = 0; i < sizeof b->bloom; i++) b->bloom[i] |= r->bloom[i];
    b->n_logs += n;
    state_clear_logs(b->st);
    if (b->transfers) transfer_logger_reset(b->transfers);
}

static bool offers_no_fee(const transaction *tx)
{
    if (tx->type >= 2) return u256_is_zero(&tx->max_fee_per_gas) && u256_is_zero(&tx->max_priority_fee_per_gas);
    return u256_is_zero(&tx->gas_price);
}

/* The block context and options a transaction of the run executes with. */
static void tx_setting(const block_run *b, const transaction *tx, bool no_base_fee, const tx_options *opts,
                       block_env *env, tx_options *o)
{
    *o = (tx_options){0};
    if (opts) *o = *opts;
    o->skip_block_gas_limit = true;
    *env = b->env;
    if (no_base_fee && offers_no_fee(tx)) env->base_fee = u256_zero();
}

void block_run_tx(block_run *b, const transaction *tx, bool no_base_fee, const tx_options *opts, tx_result *res)
{
    memset(res, 0, sizeof *res);
    if (!u256_fits_u64(&tx->gas_limit) || tx->gas_limit.w[0] > b->env.gas_limit - b->gas_used) {
        res->error = TX_GAS_ALLOWANCE_EXCEEDED;
        return;
    }
    tx_options o;
    block_env env;
    tx_setting(b, tx, no_base_fee, opts, &env, &o);
    b->before_tx.sender = tx->sender;
    b->before_tx.sender_nonce = state_get_nonce(b->st, &tx->sender);
    b->before_tx.sender_balance = state_get_balance(b->st, &tx->sender);
    b->before_tx.coinbase_balance = state_get_balance(b->st, &env.coinbase);
    tx_execute(b->st, &env, tx, b->fork, &o, res);
    if (res->error != TX_OK) {
        state_clear_logs(b->st);
        if (b->transfers) transfer_logger_reset(b->transfers);
        return;
    }
    if (b->n_receipts == b->cap_receipts) {
        b->cap_receipts = b->cap_receipts ? b->cap_receipts * 2 : 8;
        b->receipts = xrealloc(b->receipts, b->cap_receipts * sizeof *b->receipts);
    }
    block_receipt *r = &b->receipts[b->n_receipts++];
    memset(r, 0, sizeof *r);
    b->gas_used += res->gas_used;
    r->tx_type = tx->type;
    r->status = res->status;
    r->gas_used = res->gas_used;
    r->cumulative_gas_used = b->gas_used;
    r->blob_gas_used = tx->type == 3 ? (uint64_t)tx->n_blob_hashes * GAS_PER_BLOB : 0;
    b->blob_gas_used += r->blob_gas_used;
    copy_logs(b, r);
}

/* ------------------------------------------- a failed transaction again */

/* A state read as a backend: what a scratch state layered over the run's
 * sees. Code is found by hash through the accounts looked up so far. */
typedef struct {
    state *under;
    struct {
        hash32 hash;
        address addr;
    } *codes;
    size_t n_codes, cap_codes;
} state_view;

static bool sv_get_account(void *ctx, const address *a, account_info *out)
{
    state_view *v = ctx;
    if (!state_exists(v->under, a)) return false;
    out->nonce = state_get_nonce(v->under, a);
    out->balance = state_get_balance(v->under, a);
    out->code_hash = state_get_code(v->under, a)->code_hash;
    if (v->n_codes == v->cap_codes) {
        v->cap_codes = v->cap_codes ? 2 * v->cap_codes : 16;
        v->codes = xrealloc(v->codes, v->cap_codes * sizeof *v->codes);
    }
    v->codes[v->n_codes].hash = out->code_hash;
    v->codes[v->n_codes++].addr = *a;
    return true;
}

static bool sv_get_code(void *ctx, const hash32 *h, const uint8_t **code, size_t *len)
{
    state_view *v = ctx;
    if (state_backend_empty_code(h, code, len)) return true;
    for (size_t i = 0; i < v->n_codes; i++) {
        if (memcmp(v->codes[i].hash.b, h->b, 32) != 0) continue;
        const code_info *ci = state_get_code(v->under, &v->codes[i].addr);
        *code = ci->code;
        *len = ci->code_len;
        return true;
    }
    return false;
}

static void sv_get_storage(void *ctx, const address *a, const u256 *key, u256 *out)
{
    state_view *v = ctx;
    *out = state_get_storage(v->under, a, key);
}

static bool sv_get_block_hash(void *ctx, uint64_t number, hash32 *out)
{
    state_view *v = ctx;
    const state_backend *base = state_get_backend(v->under);
    return base->get_block_hash(base->ctx, number, out);
}

static bool sv_has_storage(void *ctx, const address *a)
{
    state_view *v = ctx;
    return state_has_storage(v->under, a);
}

void block_record_top_step(void *ctx, const trace_step *s)
{
    block_top_step *l = ctx;
    if (s->depth != 1) return;
    l->seen = true;
    l->step = (block_failed_step){.op = s->op, .stack_len = s->stack_len, .gas = s->gas};
}

bool block_run_failed_step(block_run *b, const transaction *tx, bool no_base_fee, const tx_options *opts,
                           enum exec_status status, block_failed_step *out)
{
    state_view view = {.under = b->st};
    state_backend backend = STATE_BACKEND_OF(&view, sv);
    state *scratch = state_new(&backend);
    tx_options o;
    block_env env;
    tx_setting(b, tx, no_base_fee, opts, &env, &o);
    state_set_nonce(scratch, &b->before_tx.sender, b->before_tx.sender_nonce);
    state_set_balance(scratch, &b->before_tx.sender, &b->before_tx.sender_balance);
    if (memcmp(env.coinbase.b, b->before_tx.sender.b, 20) != 0)
        state_set_balance(scratch, &env.coinbase, &b->before_tx.coinbase_balance);
    block_top_step last = {0};
    tracer t = {.ctx = &last, .on_step = block_record_top_step};
    o.trace = &t;
    tx_result res;
    tx_execute(scratch, &env, tx, b->fork, &o, &res);
    bool same = res.error == TX_OK && res.status == status && last.seen;
    if (same) *out = last.step;
    tx_result_free(&res);
    state_free(scratch);
    free(view.codes);
    return same;
}

void block_run_withdrawals(block_run *b, const withdrawal *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        u256 amount = u256_from_u64(w[i].amount_gwei), gwei = u256_from_u64(GWEI);
        amount = u256_mul(&amount, &gwei);
        state_add_balance(b->st, &w[i].addr, &amount);
    }
    if (n) state_finalize_tx(b->st, b->fork);
}

void block_run_free(block_run *b)
{
    for (size_t i = 0; i < b->n_receipts; i++) {
        for (size_t k = 0; k < b->receipts[i].n_logs; k++) free(b->receipts[i].logs[k].data);
        free(b->receipts[i].logs);
        free(b->receipts[i].is_transfer_log);
    }
    free(b->receipts);
    memset(b, 0, sizeof *b);
}

/* --------------------------------------------------------------- fees */

u256 block_next_base_fee(const block_env *parent, uint64_t parent_gas_used)
{
    uint64_t target = parent->gas_limit / ELASTICITY_MULTIPLIER;
    if (target == 0 || parent_gas_used == target) return parent->base_fee;
    u256 den = u256_from_u64(target * BASE_FEE_MAX_CHANGE_DENOMINATOR);
    if (parent_gas_used > target) {
        u256 d = u256_from_u64(parent_gas_used - target), delta = u256_mul(&parent->base_fee, &d);
        delta = u256_div(&delta, &den);
        if (u256_is_zero(&delta)) delta = u256_from_u64(1);
        return u256_add(&parent->base_fee, &delta);
    }
    u256 d = u256_from_u64(target - parent_gas_used), delta = u256_mul(&parent->base_fee, &d);
    delta = u256_div(&delta, &den);
    return u256_lt(&parent->base_fee, &delta) ? u256_zero() : u256_sub(&parent->base_fee, &delta);
}

uint64_t block_next_excess_blob_gas(const block_env *parent, enum fork f, uint64_t parent_blob_gas_used)
{
    uint64_t target = parent->blob_target_per_block * GAS_PER_BLOB;
    uint64_t sum = parent->excess_blob_gas + parent_blob_gas_used;
    if (sum < target) return 0;
    /* EIP-7918: while blobs cost less than their execution reserve, the
     * excess grows as if the block were full, without falling. */
    u256 reserve = u256_from_u64(BLOB_BASE_COST), blob_cost = u256_from_u64(GAS_PER_BLOB);
    reserve = u256_mul(&reserve, &parent->base_fee);
    blob_cost = u256_mul(&blob_cost, &parent->blob_base_fee);
    if (f >= FORK_OSAKA && u256_lt(&blob_cost, &reserve) && parent->blob_max_per_block > 0)
        return parent->excess_blob_gas + parent_blob_gas_used *
                                             (parent->blob_max_per_block - parent->blob_target_per_block) /
                                             parent->blob_max_per_block;
    return sum - target;
}

/* ------------------------------------------------------------ headers */

void block_header_rlp(const block_header_fields *h, bytebuf *out)
{
    uint8_t nonce[8];
    for (int i = 0; i < 8; i++) nonce[i] = (uint8_t)(h->nonce >> (56 - 8 * i));
    bytebuf rlp = *out;
    rlp.len = 0;
    size_t mark = rlp_list_begin(&rlp);
    rlp_put_bytes(&rlp, h->parent_hash.b, 32);
    rlp_put_bytes(&rlp, KECCAK_EMPTY_LIST.b, 32);
    rlp_put_bytes(&rlp, h->coinbase.b, 20);
    rlp_put_bytes(&rlp, h->state_root.b, 32);
    rlp_put_bytes(&rlp, h->transactions_root.b, 32);
    rlp_put_bytes(&rlp, h->receipts_root.b, 32);
    rlp_put_bytes(&rlp, h->logs_bloom, sizeof h->logs_bloom);
    rlp_put_u256(&rlp, &h->difficulty);
    rlp_put_u64(&rlp, h->number);
    rlp_put_u64(&rlp, h->gas_limit);
    rlp_put_u64(&rlp, h->gas_used);
    rlp_put_u64(&rlp, h->timestamp);
    rlp_put_bytes(&rlp, h->extra_data, h->extra_data_len);
    rlp_put_bytes(&rlp, h->mix_hash.b, 32);
    rlp_put_bytes(&rlp, nonce, sizeof nonce);
    if (h->fork >= FORK_LONDON) rlp_put_u256(&rlp, &h->base_fee);
    if (h->fork >= FORK_SHANGHAI) rlp_put_bytes(&rlp, h->withdrawals_root.b, 32);
    if (h->fork >= FORK_CANCUN) {
        rlp_put_u64(&rlp, h->blob_gas_used);
        rlp_put_u64(&rlp, h->excess_blob_gas);
        rlp_put_bytes(&rlp, h->parent_beacon_root.b, 32);
    }
    if (h->fork >= FORK_PRAGUE) rlp_put_bytes(&rlp, h->requests_hash.b, 32);
    rlp_list_end(&rlp, mark);
    *out = rlp;
}

void block_header_hash(const block_header_fields *h, hash32 *out)
{
    bytebuf rlp = {0};
    block_header_rlp(h, &rlp);
    keccak256(rlp.data, rlp.len, out->b);
    bytebuf_free(&rlp);
}

void block_list_root(const bytebuf *items, size_t n, hash32 *root)
{
    if (n == 0) {
        *root = TRIE_EMPTY_ROOT;
        return;
    }
    trie_entry *entries = xcalloc(n, sizeof *entries);
    bytebuf *keys = xcalloc(n, sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        rlp_put_u64(&keys[i], i);
        entries[i] = (trie_entry){keys[i].data, keys[i].len, items[i].data, items[i].len};
    }
    trie_root(entries, n, root);
    for (size_t i = 0; i < n; i++) bytebuf_free(&keys[i]);
    free(keys);
    free(entries);
}

static void put_access_list(bytebuf *out, const transaction *tx)
{
    size_t list = rlp_list_begin(out);
    for (size_t i = 0; i < tx->n_access_list; i++) {
        const access_list_entry *e = &tx->access_list[i];
        size_t entry = rlp_list_begin(out);
        rlp_put_bytes(out, e->addr.b, 20);
        size_t keys = rlp_list_begin(out);
        for (size_t k = 0; k < e->n_keys; k++) rlp_put_bytes(out, e->keys[k].b, 32);
        rlp_list_end(out, keys);
        rlp_list_end(out, entry);
    }
    rlp_list_end(out, list);
}

void block_tx_encode(const transaction *tx, const u256 *chain_id, bytebuf *out)
{
    out->len = 0;
    if (tx->type > 0) bytebuf_push(out, (uint8_t)tx->type);
    size_t mark = rlp_list_begin(out);
    if (tx->type > 0) rlp_put_u256(out, chain_id);
    rlp_put_u256(out, &tx->nonce);
    if (tx->type >= 2) {
        rlp_put_u256(out, &tx->max_priority_fee_per_gas);
        rlp_put_u256(out, &tx->max_fee_per_gas);
    } else {
        rlp_put_u256(out, &tx->gas_price);
    }
    rlp_put_u256(out, &tx->gas_limit);
    rlp_put_bytes(out, tx->has_to ? tx->to.b : NULL, tx->has_to ? 20 : 0);
    rlp_put_u256(out, &tx->value);
    rlp_put_bytes(out, tx->data, tx->data_len);
    if (tx->type > 0) put_access_list(out, tx);
    if (tx->type == 3) {
        rlp_put_u256(out, &tx->max_fee_per_blob_gas);
        size_t hashes = rlp_list_begin(out);
        for (size_t i = 0; i < tx->n_blob_hashes; i++) rlp_put_bytes(out, tx->blob_hashes[i].b, 32);
        rlp_list_end(out, hashes);
    }
    if (tx->type == 4) {
        size_t auths = rlp_list_begin(out);
        for (size_t i = 0; i < tx->n_authorizations; i++) {
            const authorization *a = &tx->authorizations[i];
            size_t one = rlp_list_begin(out);
            rlp_put_u256(out, &a->chain_id);
            rlp_put_bytes(out, a->addr.b, 20);
            rlp_put_u256(out, &a->nonce);
            rlp_put_u256(out, &a->y_parity);
            rlp_put_u256(out, &a->r);
            rlp_put_u256(out, &a->s);
            rlp_list_end(out, one);
        }
        rlp_list_end(out, auths);
    }
    /* v, r, s: no signature. A legacy transaction's v is then 0 too. */
    rlp_put_u64(out, 0);
    rlp_put_u64(out, 0);
    rlp_put_u64(out, 0);
    rlp_list_end(out, mark);
}

void block_receipt_encode(const block_receipt *r, bytebuf *out)
{
    out->len = 0;
    if (r->tx_type > 0) bytebuf_push(out, (uint8_t)r->tx_type);
    size_t mark = rlp_list_begin(out);
    rlp_put_u64(out, r->status == EXEC_SUCCESS ? 1 : 0);
    rlp_put_u64(out, r->cumulative_gas_used);
    rlp_put_bytes(out, r->bloom, sizeof r->bloom);
    size_t logs = rlp_list_begin(out);
    for (size_t i = 0; i < r->n_logs; i++) {
        if (r->is_transfer_log && r->is_transfer_log[i]) continue;
        log_encode_rlp(out, &r->logs[i]);
    }
    rlp_list_end(out, logs);
    rlp_list_end(out, mark);
}

void block_withdrawal_encode(const withdrawal *w, bytebuf *out)
{
    out->len = 0;
    size_t mark = rlp_list_begin(out);
    rlp_put_u64(out, w->index);
    rlp_put_u64(out, w->validator_index);
    rlp_put_bytes(out, w->addr.b, 20);
    rlp_put_u64(out, w->amount_gwei);
    rlp_list_end(out, mark);
}

void block_bloom_add(uint8_t bloom[256], const uint8_t *data, size_t len)
{
    uint8_t h[32];
    keccak256(data, len, h);
    for (int i = 0; i < 6; i += 2) {
        unsigned bit = ((unsigned)h[i] << 8 | h[i + 1]) & 2047;
        bloom[255 - bit / 8] |= (uint8_t)(1u << (bit % 8));
    }
}

/* ------------------------------------------------ ERC-7528 transfer logs */

struct transfer_logger {
    /* Per depth: whether the frame logged a transfer, and the state as it
     * was just before, to take the log back if the frame fails. */
    bool logged[EVM_MAX_DEPTH + 2];
    state_snapshot before[EVM_MAX_DEPTH + 2];
    /* Where the transfer logs of the current transaction sit in the
     * state's log list, ascending. A failed frame truncates the list, so
     * only a tail of these ever goes away. */
    size_t *at;
    size_t n_at, cap_at;
};

static bool transfer_logged(const transfer_logger *t, size_t index)
{
    for (size_t i = 0; i < t->n_at; i++)
        if (t->at[i] == index) return true;
    return false;
}

static void transfer_logger_reset(transfer_logger *t) { t->n_at = 0; }

/* Adds Transfer(from, to, value) from ETH_TRANSFER_LOG_ADDRESS. */
static void log_transfer(transfer_logger *t, state *st, const address *from, const address *to, const u256 *value)
{
    /* keccak256("Transfer(address,address,uint256)") */
    static const hash32 transfer_topic = {{0xdd, 0xf2, 0x52, 0xad, 0x1b, 0xe2, 0xc8, 0x9b, 0x69, 0xc2, 0xb0,
                                           0x68, 0xfc, 0x37, 0x8d, 0xaa, 0x95, 0x2b, 0xa7, 0xf1, 0x63, 0xc4,
                                           0xa1, 0x16, 0x28, 0xf5, 0x5a, 0x4d, 0xf5, 0x23, 0xb3, 0xef}};
    hash32 topics[3] = {transfer_topic};
    memcpy(topics[1].b + 12, from->b, 20);
    memcpy(topics[2].b + 12, to->b, 20);
    uint8_t data[32];
    u256_store_be(data, value);
    if (t->n_at == t->cap_at) {
        t->cap_at = t->cap_at ? t->cap_at * 2 : 16;
        t->at = xrealloc(t->at, t->cap_at * sizeof *t->at);
    }
    t->at[t->n_at++] = state_log_count(st);
    address eth = address_of(ETH_TRANSFER_LOG_ADDRESS);
    state_add_log(st, &eth, topics, 3, data, sizeof data);
}

static void transfer_enter(void *ctx, const evm *e, const message *msg)
{
    transfer_logger *t = ctx;
    /* SELFDESTRUCT's frame cannot fail (it is reported once it has succeeded)
     * and may sit one below the deepest frame: log it, keep no snapshot. */
    if (msg->kind == CALL_SELFDESTRUCT) {
        if (!u256_is_zero(&msg->value)) log_transfer(t, evm_state(e), &msg->sender, &msg->recipient, &msg->value);
        return;
    }
    if (msg->depth < 0 || msg->depth > EVM_MAX_DEPTH) return;
    t->logged[msg->depth] = false;
    /* CALLCODE moves value from the caller to itself: geth logs no
     * transfer for it (nor for DELEGATECALL, which moves none). */
    if (!msg->transfers_value || msg->kind == CALL_CALLCODE || u256_is_zero(&msg->value)) return;
    state *st = evm_state(e);
    t->before[msg->depth] = state_snapshot_take(st);
    t->logged[msg->depth] = true;
    log_transfer(t, st, &msg->sender, &msg->recipient, &msg->value);
}

static void transfer_exit(void *ctx, const evm *e, const message *msg, const exec_result *r)
{
    transfer_logger *t = ctx;
    if (msg->kind == CALL_SELFDESTRUCT || msg->depth < 0 || msg->depth > EVM_MAX_DEPTH) return;
    bool logged = t->logged[msg->depth];
    t->logged[msg->depth] = false;
    if (r->status == EXEC_SUCCESS) return;
    /* The frame's own changes, its logs among them, are undone already;
     * this drops its transfer log too, and forgets the positions of every
     * log that went. */
    state *st = evm_state(e);
    if (logged) state_revert(st, t->before[msg->depth]);
    while (t->n_at && t->at[t->n_at - 1] >= state_log_count(st)) t->n_at--;
}

transfer_logger *transfer_logger_new(tracer *out)
{
    transfer_logger *t = xcalloc(1, sizeof *t);
    *out = (tracer){.ctx = t, .on_enter = transfer_enter, .on_exit = transfer_exit};
    return t;
}

void transfer_logger_free(transfer_logger *t)
{
    if (!t) return;
    free(t->at);
    free(t);
}
