/* eth_createAccessList as geth builds it (internal/ethapi AccessList with
 * eth/tracers/logger's access-list tracer): geth's setFeeDefaults, then
 * runs until the list stops changing (at most MAX_ACCESS_LIST_ROUNDS;
 * geth has no bound), each run with the previous run's list as the
 * transaction's access list and a tracer starting from that list.
 *
 * What a run records, before each instruction (whether the instruction
 * or its frame then fails or reverts): SLOAD/SSTORE's slot of the
 * executing account (the account with it, even an excluded one); the
 * account BALANCE, EXTCODESIZE/COPY/HASH and SELFDESTRUCT name; the target
 * of a CALL-family instruction. Excluded accounts (the sender, the
 * recipient or the created address, the fork's precompiles, and the
 * authorities of an authorization list) are not recorded by address, and
 * the caller's list loses its entries for them. The list only grows: a
 * run starts from the list it was given. Output: accounts ascending, each
 * one's slots ascending; gasUsed is the last run's (after refunds), and
 * `error` its failure, as geth reports them. */
#include "rpc/exec_run.h"

#include <stdlib.h>
#include <string.h>

#include "base/format.h"
#include "base/keccak.h"
#include "base/params.h"
#include "base/rlp.h"
#include "hexjson.h"
#include "precompile/precompile.h"
#include "vm/opcodes.h"

enum {
    MAX_ACCESS_LIST_ROUNDS = 32,
};

/* ------------------------------------------------ eth_createAccessList */

typedef struct {
    address addr;
    bool has_key;
    u256 key;
} access_item;

typedef struct {
    access_item *items;
    size_t n, cap;
} access_set;

static int compare_items(const void *pa, const void *pb);

/* Sorts and drops repeats: a loop reading one slot a million times keeps
 * one item. */
static void compact(access_set *s)
{
    qsort(s->items, s->n, sizeof *s->items, compare_items);
    size_t out = 0;
    for (size_t i = 0; i < s->n; i++)
        if (out == 0 || compare_items(&s->items[out - 1], &s->items[i])) s->items[out++] = s->items[i];
    s->n = out;
}

static void collect_access(void *ctx, const address *a, const u256 *key)
{
    access_set *s = ctx;
    if (s->n == s->cap) {
        if (s->cap >= 1024) compact(s);
        if (s->cap == 0 || s->n * 2 > s->cap) {
            s->cap = s->cap ? 2 * s->cap : 32;
            s->items = xrealloc(s->items, s->cap * sizeof *s->items);
        }
    }
    access_item *it = &s->items[s->n++];
    it->addr = *a;
    it->has_key = key != NULL;
    it->key = key ? *key : u256_zero();
}

typedef struct {
    address *addrs;
    size_t n;
} address_list;

static bool address_in(const address_list *l, const address *a)
{
    for (size_t i = 0; i < l->n; i++)
        if (memcmp(l->addrs[i].b, a->b, 20) == 0) return true;
    return false;
}

/* The run's recorder: the executing account by depth (on_enter), and what
 * each instruction touches (on_step). */
typedef struct {
    access_set *seen;
    const address_list *excluded;
    const evm *e;
    address frame_address[EVM_MAX_DEPTH + 2];
} access_recorder;

static void recorder_enter(void *ctx, const evm *e, const message *msg)
{
    access_recorder *r = ctx;
    r->e = e;
    if (msg->depth + 1 < EVM_MAX_DEPTH + 2) r->frame_address[msg->depth + 1] = msg->recipient;
}

static void record_address(access_recorder *r, const u256 *word)
{
    uint8_t b[32];
    u256_store_be(b, word);
    address a;
    memcpy(a.b, b + 12, 20);
    if (!address_in(r->excluded, &a)) collect_access(r->seen, &a, NULL);
}

static void recorder_step(void *ctx, const trace_step *s)
{
    access_recorder *r = ctx;
    if (s->depth < 1 || s->depth >= EVM_MAX_DEPTH + 2 || s->stack_len == 0) return;
    const u256 *top = &s->stack[s->stack_len - 1];
    switch (s->op) {
    case OP_SLOAD:
    case OP_SSTORE: collect_access(r->seen, &r->frame_address[s->depth], top); break;
    case OP_EXTCODECOPY:
    case OP_EXTCODEHASH:
    case OP_EXTCODESIZE:
    case OP_BALANCE:
    case OP_SELFDESTRUCT: record_address(r, top); break;
    case OP_CALL:
    case OP_CALLCODE:
    case OP_DELEGATECALL:
    case OP_STATICCALL:
        if (s->stack_len >= 5) record_address(r, &s->stack[s->stack_len - 2]);
        break;
    default: break;
    }
}

static int compare_items(const void *pa, const void *pb)
{
    const access_item *a = pa, *b = pb;
    int c = memcmp(a->addr.b, b->addr.b, 20);
    if (c) return c;
    if (a->has_key != b->has_key) return a->has_key ? 1 : -1;
    for (int i = 3; i >= 0; i--)
        if (a->key.w[i] != b->key.w[i]) return a->key.w[i] < b->key.w[i] ? -1 : 1;
    return 0;
}


/* A recorded set as geth's accessList(): accounts ascending, each with its
 * distinct slots ascending. */
typedef struct {
    access_list_entry *entries;
    size_t n;
    hash32 *keys;
} built_list;

static void built_list_free(built_list *l)
{
    free(l->entries);
    free(l->keys);
    memset(l, 0, sizeof *l);
}

static void build_list(access_set *s, built_list *out)
{
    if (s->n) qsort(s->items, s->n, sizeof *s->items, compare_items);
    out->entries = xcalloc(s->n + 1, sizeof *out->entries);
    out->keys = xcalloc(s->n + 1, sizeof *out->keys);
    out->n = 0;
    size_t n_keys = 0;
    for (size_t i = 0; i < s->n;) {
        size_t j = i;
        while (j < s->n && memcmp(s->items[j].addr.b, s->items[i].addr.b, 20) == 0) j++;
        access_list_entry *e = &out->entries[out->n++];
        e->addr = s->items[i].addr;
        e->keys = &out->keys[n_keys];
        for (size_t k = i; k < j; k++) {
            if (!s->items[k].has_key) continue;
            if (k > i && s->items[k - 1].has_key && u256_eq(&s->items[k - 1].key, &s->items[k].key)) continue;
            u256_store_be(out->keys[n_keys++].b, &s->items[k].key);
            e->n_keys++;
        }
        i = j;
    }
}

/* The set a run starts from: the list it was given. */
static void seed_set(access_set *s, const built_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        collect_access(s, &l->entries[i].addr, NULL);
        for (size_t k = 0; k < l->entries[i].n_keys; k++) {
            u256 key = u256_load_be(l->entries[i].keys[k].b);
            collect_access(s, &l->entries[i].addr, &key);
        }
    }
}

static bool lists_equal(const built_list *a, const built_list *b)
{
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++) {
        if (memcmp(a->entries[i].addr.b, b->entries[i].addr.b, 20) || a->entries[i].n_keys != b->entries[i].n_keys)
            return false;
        if (a->entries[i].n_keys &&
            memcmp(a->entries[i].keys, b->entries[i].keys, a->entries[i].n_keys * sizeof(hash32)))
            return false;
    }
    return true;
}

/* The initial list: the caller's, without excluded accounts (as geth's
 * NewAccessListTracer), sorted and deduplicated. */
static void initial_list(const call_args *a, const address_list *excluded, built_list *out)
{
    access_set s = {0};
    for (size_t i = 0; i < a->n_access_list; i++) {
        const access_list_entry *e = &a->access_list[i];
        if (address_in(excluded, &e->addr)) continue;
        collect_access(&s, &e->addr, NULL);
        for (size_t k = 0; k < e->n_keys; k++) {
            u256 key = u256_load_be(e->keys[k].b);
            collect_access(&s, &e->addr, &key);
        }
    }
    build_list(&s, out);
    free(s.items);
}

static json_t *list_to_json(const built_list *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < l->n; i++) {
        char hex[HEX_HASH_LEN];
        json_t *keys = json_array();
        for (size_t k = 0; k < l->entries[i].n_keys; k++) {
            hex_from_hash(&l->entries[i].keys[k], hex);
            json_array_append_new(keys, json_string(hex));
        }
        hex_from_address(&l->entries[i].addr, hex);
        json_t *obj = json_object();
        json_object_set_new(obj, "address", json_string(hex));
        json_object_set_new(obj, "storageKeys", keys);
        json_array_append_new(arr, obj);
    }
    return arr;
}

/* The hash geth prints for a failed access-list run: the arguments as an
 * unsigned legacy transaction. */
static void legacy_tx_hash(const call_args *a, uint64_t nonce, uint64_t gas, char out[HEX_HASH_LEN])
{
    bytebuf enc = {0};
    size_t mark = rlp_list_begin(&enc);
    rlp_put_u64(&enc, nonce);
    rlp_put_u256(&enc, &a->gas_price); /* zero when absent */
    rlp_put_u64(&enc, gas);
    rlp_put_bytes(&enc, a->has_to ? a->to.b : NULL, a->has_to ? 20 : 0);
    rlp_put_u256(&enc, &a->value);
    const bytebuf *data = call_args_data(a);
    rlp_put_bytes(&enc, data->data, data->len);
    u256 zero = u256_zero();
    rlp_put_u256(&enc, &zero);
    rlp_put_u256(&enc, &zero);
    rlp_put_u256(&enc, &zero);
    rlp_list_end(&enc, mark);
    hash32 h;
    keccak256(enc.data, enc.len, h.b);
    bytebuf_free(&enc);
    hex_from_hash(&h, out);
}

/* geth's setFeeDefaults, used by eth_createAccessList: fill in the fees a
 * real transaction would carry. */
static bool fee_defaults(const rpc_ctx *ctx, const exec_env *ee, call_args *a, rpc_error *err)
{
    if (a->has_blob_fee && u256_is_zero(&a->max_fee_per_blob_gas))
        return rpc_fail(err, RPC_SERVER_ERROR, "maxFeePerBlobGas, if specified, must be non-zero");
    if (ee->fork >= FORK_CANCUN && a->has_blob_hashes && !a->has_blob_fee) {
        u256 two = u256_from_u64(2);
        a->max_fee_per_blob_gas = u256_mul(&ee->env.blob_base_fee, &two);
        a->has_blob_fee = true;
    }
    if (a->has_gas_price && (a->has_max_fee || a->has_max_priority))
        return rpc_fail(err, RPC_SERVER_ERROR, "both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified");
    if (a->has_gas_price && a->has_auths)
        return rpc_fail(err, RPC_SERVER_ERROR, "both gasPrice and authorizationList specified");
    char x[HEX_U256_LEN], y[HEX_U256_LEN];
    if (!a->has_gas_price && a->has_max_fee && a->has_max_priority) {
        if (u256_is_zero(&a->max_fee)) return rpc_fail(err, RPC_SERVER_ERROR, "maxFeePerGas must be non-zero");
        if (u256_lt(&a->max_fee, &a->max_priority)) {
            hex_from_u256(&a->max_fee, x);
            hex_from_u256(&a->max_priority, y);
            return rpc_fail(err, RPC_SERVER_ERROR, "maxFeePerGas (%s) < maxPriorityFeePerGas (%s)", x, y);
        }
        return true;
    }
    bool london = ee->fork >= FORK_LONDON;
    if (a->has_gas_price) {
        if (u256_is_zero(&a->gas_price) && london)
            return rpc_fail(err, RPC_SERVER_ERROR, "gasPrice must be non-zero after london fork");
        return true;
    }
    if (london) {
        if (!a->has_max_priority) {
            a->max_priority = ctx->cfg->priority_fee;
            a->has_max_priority = true;
        }
        if (!a->has_max_fee) {
            u256 two = u256_from_u64(2), twice = u256_mul(&ee->env.base_fee, &two);
            a->max_fee = u256_add(&a->max_priority, &twice);
            a->has_max_fee = true;
        }
        if (u256_lt(&a->max_fee, &a->max_priority)) {
            hex_from_u256(&a->max_fee, x);
            hex_from_u256(&a->max_priority, y);
            return rpc_fail(err, RPC_SERVER_ERROR, "maxFeePerGas (%s) < maxPriorityFeePerGas (%s)", x, y);
        }
        return true;
    }
    if (a->has_max_fee || a->has_max_priority)
        return rpc_fail(err, RPC_SERVER_ERROR, "maxFeePerGas and maxPriorityFeePerGas are not valid before London is active");
    a->gas_price = ctx->cfg->priority_fee;
    a->has_gas_price = true;
    return true;
}

json_t *exec_create_access_list(rpc_ctx *ctx, exec_env *ee, call_args *args, rpc_error *err)
{
    call_args a = *args; /* the defaults below change a copy; the buffers stay the caller's */
    if (!fee_defaults(ctx, ee, &a, err)) return NULL;
    if (!a.has_nonce) {
        account_info info;
        a.nonce = ee->backend.get_account(ee->backend.ctx, &a.from, &info) ? info.nonce : 0;
        a.has_nonce = true;
    }
    call_msg m;
    if (!call_msg_build(ctx, ee, &a, &m, err)) return NULL;

    address to = a.has_to ? a.to : create_address(&a.from, a.nonce);
    address_list excluded = {xcalloc(3 + 0x100 + a.n_auths, sizeof(address)), 0};
    excluded.addrs[excluded.n++] = a.from;
    excluded.addrs[excluded.n++] = to;
    for (unsigned p = 1; p <= 0x100; p++) {
        address pc = {{0}};
        pc.b[18] = (uint8_t)(p >> 8);
        pc.b[19] = (uint8_t)p;
        if (precompile_is_active(&pc, ee->fork)) excluded.addrs[excluded.n++] = pc;
    }
    u256 chain_id = u256_from_u64(ctx->chain.chain_id);
    for (size_t i = 0; i < a.n_auths; i++) {
        const authorization *auth = &a.auths[i];
        if (!u256_is_zero(&auth->chain_id) && !u256_eq(&auth->chain_id, &chain_id)) continue;
        if (!u256_fits_u64(&auth->nonce) || auth->nonce.w[0] == UINT64_MAX) continue;
        address authority;
        if (tx_recover_authority(auth, &authority)) excluded.addrs[excluded.n++] = authority;
    }
    json_t *result = NULL;
    built_list prev = {0}, next = {0};
    run_result r = {0};
    if ((uint64_t)a.n_auths > m.gas / PER_EMPTY_ACCOUNT_COST) {
        rpc_fail(err, RPC_SERVER_ERROR, "insufficient gas to process all authorizations");
        goto out;
    }
    initial_list(&a, &excluded, &prev);
    exec_arm_timeout(ctx);
    for (int round = 0;; round++) {
        access_set seen = {0};
        seed_set(&seen, &prev);
        access_recorder rec = {.seen = &seen, .excluded = &excluded};
        tracer t = {.ctx = &rec, .on_step = recorder_step, .on_enter = recorder_enter};
        tx_options opts = {.trace = &t};
        m.access_list = prev.entries;
        m.n_access_list = prev.n;
        run_message(ctx, ee, &m, m.gas, &opts, &r);
        if (r.kind == RUN_ABORTED) {
            free(seen.items);
            timeout_error(ctx, err);
            break;
        }
        if (r.kind == RUN_INVALID) {
            free(seen.items);
            char hash[HEX_HASH_LEN];
            legacy_tx_hash(&a, a.nonce, m.gas, hash);
            rpc_fail(err, RPC_SERVER_ERROR, "failed to apply transaction: %s err: %s", hash, r.invalid);
            break;
        }
        build_list(&seen, &next);
        free(seen.items);
        if (lists_equal(&prev, &next) || round + 1 == MAX_ACCESS_LIST_ROUNDS) {
            result = json_object();
            json_object_set_new(result, "accessList", list_to_json(&next));
            if (r.res.status != EXEC_SUCCESS) {
                char *text = r.res.status == EXEC_REVERT ? str_printf(NULL, "execution reverted")
                                                         : vm_error_text(ctx, ee, &m, m.gas, r.res.status);
                json_object_set_new(result, "error", json_string(text));
                free(text);
            }
            char hex[HEX_U256_LEN];
            u256 used = u256_from_u64(r.res.gas_used);
            hex_from_u256(&used, hex);
            json_object_set_new(result, "gasUsed", json_string(hex));
            break;
        }
        built_list_free(&prev);
        prev = next;
        memset(&next, 0, sizeof next);
        run_result_free(&r);
    }
    exec_disarm_timeout(ctx);
out:
    run_result_free(&r);
    built_list_free(&prev);
    built_list_free(&next);
    free(excluded.addrs);
    return result;
}
