/* The state and configuration methods: eth_getProof (EIP-1186),
 * eth_getStorageValues and eth_config (EIP-7910), with geth's arguments,
 * answers and errors (internal/ethapi/api.go).
 *
 * eth_getProof. The database keeps the state trie (schema/trie_store.c):
 * the proof is the nodes on the account's and each slot's path, read by
 * path from the stored trie as the call's snapshot sees it (changes not
 * yet hashed in on disk are applied in memory first), so the cost is the
 * trie's depth per key plus the changes pending, not the state's size.
 * Where there is no stored trie (a read-only database never opened
 * read-write since migration 007) the proof is made the way the full
 * root is: one pass over every account and slot in one read snapshot
 * (store_visit), each account's storage root computed from its slots,
 * then the state trie built over every account's leaf with trie_prove,
 * which gathers the proof nodes during the same build; that pass is linear
 * in accounts plus slots and polls the call's abort flag, so the call
 * timeout bounds it. Both give the same bytes (tests/test_trie_store.c).
 * A live database (a cache of an upstream node) holds only what was asked
 * so far: its root is not the chain's, so the proof is the upstream's, at
 * the head block the call's snapshot sees (rpc_live.proof, service/live.c).
 *
 * eth_config. Only forks activated by timestamp are configurations in
 * EIP-7910's sense (geth's LatestFork/Timestamp): Shanghai to Osaka and the
 * blob-parameter-only forks. The current one is the latest active at the
 * head's timestamp (null before Shanghai, as geth); next is the one after
 * it in activation order, last the final one (both null when nothing is
 * scheduled after the head). Nothing is written. */
#include "rpc/methods_state.h"

#include <stdlib.h>
#include <string.h>

#include "hexjson.h"
#include "base/keccak.h"
#include "base/params.h"
#include "base/rlp.h"
#include "base/trie.h"
#include "chains.h"
#include "trie_store.h"
#include "precompile/precompile.h"
#include "rpc/exec_run.h"
#include "rpc/json_values.h"
#include "rpc/rpc_exec.h"
#include "rpc/rpc_params.h"
#include "state/state.h"
#include "vm/evm.h"

/* geth's limits: storage keys per eth_getProof, slots per eth_getStorageValues. */
enum { MAX_PROOF_KEYS = 1024, MAX_STORAGE_VALUES = 1024 };
/* geth's errCodeClientLimitExceeded. */
#define RPC_CLIENT_LIMIT_EXCEEDED (-38026)

static json_t *arg_at(json_t *params, size_t i)
{
    json_t *v = json_array_get(params, i);
    return v && !json_is_null(v) ? v : NULL;
}

static bool missing(rpc_error *err, size_t i)
{
    return rpc_fail(err, RPC_INVALID_PARAMS, "missing value for required argument %zu", i);
}

static bool bad_arg(rpc_error *err, size_t i, const param_error *pe)
{
    return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument %zu: %s", i, pe->msg);
}

static bool block_at(json_t *params, size_t i, block_selector *sel, rpc_error *err)
{
    json_t *v = arg_at(params, i);
    memset(sel, 0, sizeof *sel);
    sel->tag = BLOCK_LATEST;
    if (!v) return true;
    param_error pe;
    return p_block(v, sel, &pe) || bad_arg(err, i, &pe);
}

/* ------------------------------------------------------ eth_getProof */

typedef struct {
    rpc_ctx *ctx;
    bool aborted;
    address target;
    /* The requested slots: hashed keys (what the storage trie is keyed by)
     * in `by_hash` order, for a binary search per slot of the target. */
    size_t n_keys;
    uint8_t (*hashed)[32];
    const uint8_t **hashed_ptrs;
    size_t *hashed_lens;
    uint32_t *by_hash;
    u256 *values;
    /* What the pass found. */
    bool exists;
    account_info info;
    hash32 storage_root;
    trie_proof *storage_proofs;
    trie_leaves accounts, storage;
    bytebuf rlp;
} proof_walk;

static int compare_hashed(const void *a, const void *b, void *hashed)
{
    const uint8_t(*h)[32] = hashed;
    return memcmp(h[*(const uint32_t *)a], h[*(const uint32_t *)b], 32);
}

static bool aborted(proof_walk *w)
{
    if (w->ctx->abort_flag && *w->ctx->abort_flag) w->aborted = true;
    return w->aborted;
}

static bool walk_slot(void *ctx, const address *a, const u256 *key, const u256 *value)
{
    proof_walk *w = ctx;
    if ((w->storage.count & 1023) == 0 && aborted(w)) return false;
    uint8_t be[32], hashed[32];
    u256_store_be(be, key);
    keccak256(be, 32, hashed);
    w->rlp.len = 0;
    rlp_put_u256(&w->rlp, value);
    trie_leaves_add(&w->storage, hashed, w->rlp.data, w->rlp.len);
    if (w->n_keys && memcmp(a->b, w->target.b, 20) == 0) {
        /* Every requested key with this hash (a key may be asked twice). */
        size_t lo = 0, hi = w->n_keys;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (memcmp(w->hashed[w->by_hash[mid]], hashed, 32) < 0) lo = mid + 1;
            else hi = mid;
        }
        for (; lo < w->n_keys && memcmp(w->hashed[w->by_hash[lo]], hashed, 32) == 0; lo++) w->values[w->by_hash[lo]] = *value;
    }
    return true;
}

static bool walk_account_end(void *ctx, const address *a, const account_info *info)
{
    proof_walk *w = ctx;
    if ((w->accounts.count & 1023) == 0 && aborted(w)) return false;
    hash32 storage_root;
    trie_entry *slots = trie_leaves_entries(&w->storage);
    if (memcmp(a->b, w->target.b, 20) == 0) {
        trie_prove(slots, w->storage.count, w->hashed_ptrs, w->hashed_lens, w->n_keys, &storage_root,
                   w->storage_proofs);
        w->exists = true;
        w->info = *info;
        w->storage_root = storage_root;
    } else {
        trie_root(slots, w->storage.count, &storage_root);
    }
    trie_leaves_clear(&w->storage);
    account_encode_rlp(&w->rlp, info->nonce, &info->balance, &storage_root, &info->code_hash);
    uint8_t hashed[32];
    keccak256(a->b, 20, hashed);
    trie_leaves_add(&w->accounts, hashed, w->rlp.data, w->rlp.len);
    return true;
}

/* The account, its slots and their proofs from the stored trie (as the
 * snapshot sees it): work proportional to the trie's depth per key. */
static bool prove_from_trie(rpc_ctx *ctx, trie_view *trie, proof_walk *w, const u256 *keys, trie_proof *account_proof,
                            store_error *se)
{
    state_backend b = store_backend(ctx->conn);
    w->exists = b.get_account(b.ctx, &w->target, &w->info);
    if (store_take_error(ctx->conn, se)) return false;
    if (!trie_view_prove(trie, &w->target, (const uint8_t(*)[32])w->hashed, w->exists ? w->n_keys : 0, account_proof,
                         w->storage_proofs, se))
        return false;
    if (!w->exists) return true;
    if (!trie_view_storage_root(trie, &w->target, &w->storage_root, se)) return false;
    for (size_t i = 0; i < w->n_keys; i++) b.get_storage(b.ctx, &w->target, &keys[i], &w->values[i]);
    return !store_take_error(ctx->conn, se);
}

static json_t *proof_json(const trie_proof *p)
{
    json_t *list = json_array();
    for (size_t i = 0; i < p->count; i++) {
        size_t len;
        const uint8_t *node = trie_proof_node(p, i, &len);
        json_array_append_new(list, jv_data(node, len));
    }
    return list;
}

json_t *m_get_proof(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    address target;
    param_error pe;
    json_t *a = arg_at(params, 0), *keys_json = arg_at(params, 1);
    if (!a) return missing(err, 0), NULL;
    if (!p_address(a, NULL, &target, &pe)) return bad_arg(err, 0, &pe), NULL;
    if (!keys_json) return missing(err, 1), NULL;
    if (!json_is_array(keys_json)) {
        rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 1: json: cannot unmarshal %s into Go value of type []string",
                 json_kind_go(keys_json));
        return NULL;
    }
    size_t n = json_array_size(keys_json);
    for (size_t i = 0; i < n; i++) {
        json_t *k = json_array_get(keys_json, i);
        if (!json_is_string(k)) {
            rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 1: json: cannot unmarshal %s into Go value of type string",
                     json_kind_go(k));
            return NULL;
        }
    }
    block_selector sel;
    if (!block_at(params, 2, &sel, err)) return NULL;
    if (n > MAX_PROOF_KEYS) {
        rpc_fail(err, RPC_INVALID_PARAMS, "too many storage keys requested (max %d, got %zu)", MAX_PROOF_KEYS, n);
        return NULL;
    }
    /* Every key decoded before the state is touched, as geth. */
    proof_walk w = {.ctx = ctx, .target = target, .n_keys = n};
    size_t cap = n ? n : 1;
    u256 *keys = xcalloc(cap, sizeof *keys);
    size_t *key_bytes = xcalloc(cap, sizeof *key_bytes);
    w.hashed = xcalloc(cap, sizeof *w.hashed);
    w.hashed_ptrs = xcalloc(cap, sizeof *w.hashed_ptrs);
    w.hashed_lens = xcalloc(cap, sizeof *w.hashed_lens);
    w.by_hash = xcalloc(cap, sizeof *w.by_hash);
    w.values = xcalloc(cap, sizeof *w.values);
    w.storage_proofs = xcalloc(cap, sizeof *w.storage_proofs);
    trie_proof account_proof = {0};
    json_t *result = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(keys_json, i)), *why;
        if (!p_storage_key_text(s, &keys[i], &key_bytes[i], &why)) {
            /* geth quotes the key with %q; keys here are JSON strings, printed as JSON. */
            char *q = json_dumps(json_array_get(keys_json, i), JSON_ENCODE_ANY);
            rpc_fail(err, RPC_INVALID_PARAMS, "%s: %s", why, q);
            free(q);
            goto done;
        }
        uint8_t be[32];
        u256_store_be(be, &keys[i]);
        keccak256(be, 32, w.hashed[i]);
        w.hashed_ptrs[i] = w.hashed[i];
        w.hashed_lens[i] = 32;
        w.by_hash[i] = (uint32_t)i;
    }
    qsort_r(w.by_hash, n, sizeof *w.by_hash, compare_hashed, w.hashed);

    block_env env;
    enum fork f;
    if (!resolve_head(ctx, &sel, &env, &f, err)) goto done;
    if (rpc_live.proof && rpc_live.proof(ctx->conn, &target, keys, key_bytes, n, &result, err)) goto done;

    store_error se;
    bool have_trie;
    trie_view *trie = store_trie_view(ctx->conn, &have_trie, &se);
    if (!have_trie && se.msg[0]) {
        rpc_fail(err, RPC_SERVER_ERROR, "database error: %s", se.msg);
        goto done;
    }
    if (have_trie) {
        /* The stored trie: the nodes on the paths asked for, read by path. */
        bool ok = prove_from_trie(ctx, trie, &w, keys, &account_proof, &se);
        store_trie_view_done(ctx->conn, trie);
        if (!ok) {
            rpc_fail(err, RPC_SERVER_ERROR, "database error: %s", se.msg);
            goto done;
        }
    } else {
        exec_arm_timeout(ctx);
        store_visitor v = {.ctx = &w, .slot = walk_slot, .account_end = walk_account_end};
        bool ok = store_visit(ctx->conn, NULL, &v, &se);
        exec_disarm_timeout(ctx);
        if (!ok) {
            if (w.aborted) timeout_error(ctx, err);
            else rpc_fail(err, RPC_SERVER_ERROR, "database error: %s", se.msg);
            goto done;
        }
        hash32 root;
        uint8_t target_key[32];
        keccak256(target.b, 20, target_key);
        const uint8_t *tk = target_key;
        size_t tk_len = 32;
        trie_prove(trie_leaves_entries(&w.accounts), w.accounts.count, &tk, &tk_len, 1, &root, &account_proof);
    }

    /* An absent account: zero hashes and values, empty storage proofs (geth). */
    hash32 zero = {{0}};
    u256 zero_w = u256_zero();
    result = json_object();
    json_object_set_new(result, "address", jv_address(&target));
    json_object_set_new(result, "accountProof", proof_json(&account_proof));
    json_object_set_new(result, "balance", jv_quantity(w.exists ? &w.info.balance : &zero_w));
    json_object_set_new(result, "codeHash", jv_hash(w.exists ? &w.info.code_hash : &zero));
    json_object_set_new(result, "nonce", jv_u64(w.exists ? w.info.nonce : 0));
    json_object_set_new(result, "storageHash", jv_hash(w.exists ? &w.storage_root : &zero));
    json_t *storage = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *entry = json_object();
        /* A 32-byte key is echoed as such, any other as a quantity (geth). */
        if (key_bytes[i] == 32) {
            hash32 k;
            u256_store_be(k.b, &keys[i]);
            json_object_set_new(entry, "key", jv_hash(&k));
        } else {
            json_object_set_new(entry, "key", jv_quantity(&keys[i]));
        }
        json_object_set_new(entry, "value", jv_quantity(w.exists ? &w.values[i] : &zero_w));
        json_object_set_new(entry, "proof", proof_json(&w.storage_proofs[i]));
        json_array_append_new(storage, entry);
    }
    json_object_set_new(result, "storageProof", storage);
done:
    for (size_t i = 0; i < n; i++) trie_proof_free(&w.storage_proofs[i]);
    trie_proof_free(&account_proof);
    trie_leaves_free(&w.accounts);
    trie_leaves_free(&w.storage);
    bytebuf_free(&w.rlp);
    free(keys);
    free(key_bytes);
    free(w.hashed);
    free(w.hashed_ptrs);
    free(w.hashed_lens);
    free(w.by_hash);
    free(w.values);
    free(w.storage_proofs);
    return result;
}

/* ------------------------------------------------ eth_getStorageValues */

typedef struct {
    address a;
    hash32 *keys;
    size_t n;
    size_t order; /* position in the request object */
} storage_request;

static int compare_requests(const void *pa, const void *pb)
{
    const storage_request *a = pa, *b = pb;
    int c = memcmp(a->a.b, b->a.b, 20);
    return c ? c : (a->order > b->order) - (a->order < b->order);
}

json_t *m_get_storage_values(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    json_t *req = arg_at(params, 0);
    if (!req) return missing(err, 0), NULL;
    if (!json_is_object(req)) {
        rpc_fail(err, RPC_INVALID_PARAMS,
                 "invalid argument 0: json: cannot unmarshal %s into Go value of type map[common.Address][]common.Hash",
                 json_kind_go(req));
        return NULL;
    }
    size_t n = 0, total = 0;
    storage_request *reqs = xcalloc(json_object_size(req) + 1, sizeof *reqs);
    json_t *result = NULL;
    param_error pe;
    const char *name;
    json_t *list;
    json_object_foreach(req, name, list) {
        storage_request *r = &reqs[n];
        r->order = n++;
        if (!p_address_text(name, &r->a, &pe)) {
            bad_arg(err, 0, &pe);
            goto done;
        }
        if (list && !json_is_null(list) && !json_is_array(list)) {
            rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 0: json: cannot unmarshal %s into Go value of type []common.Hash",
                     json_kind_go(list));
            goto done;
        }
        r->n = json_is_array(list) ? json_array_size(list) : 0;
        r->keys = xcalloc(r->n ? r->n : 1, sizeof *r->keys);
        for (size_t i = 0; i < r->n; i++)
            if (!p_hash(json_array_get(list, i), NULL, &r->keys[i], &pe)) {
                bad_arg(err, 0, &pe);
                goto done;
            }
    }
    block_selector sel;
    if (!block_at(params, 1, &sel, err)) goto done;
    /* One address named twice (in two spellings): the later list wins, as
     * in geth's map; the output is in address order, as Go writes maps. */
    qsort(reqs, n, sizeof *reqs, compare_requests);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept && memcmp(reqs[kept - 1].a.b, reqs[i].a.b, 20) == 0) {
            free(reqs[kept - 1].keys);
            reqs[kept - 1] = reqs[i];
        } else {
            reqs[kept++] = reqs[i];
        }
    }
    n = kept;
    for (size_t i = 0; i < n; i++) total += reqs[i].n;
    if (total > MAX_STORAGE_VALUES) {
        rpc_fail(err, RPC_CLIENT_LIMIT_EXCEEDED, "too many slots (max %d)", MAX_STORAGE_VALUES);
        goto done;
    }
    if (total == 0) {
        rpc_fail(err, RPC_INVALID_PARAMS, "empty request");
        goto done;
    }
    block_env env;
    enum fork f;
    if (!resolve_head(ctx, &sel, &env, &f, err)) goto done;
    state_backend b = store_backend(ctx->conn);
    result = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *values = json_array();
        for (size_t k = 0; k < reqs[i].n; k++) {
            u256 key = u256_load_be(reqs[i].keys[k].b), value;
            b.get_storage(b.ctx, &reqs[i].a, &key, &value);
            hash32 word;
            u256_store_be(word.b, &value);
            json_array_append_new(values, jv_hash(&word));
        }
        char hex[HEX_ADDRESS_LEN];
        hex_from_address(&reqs[i].a, hex);
        json_object_set_new(result, hex, values);
    }
done:
    for (size_t i = 0; i < n; i++) free(reqs[i].keys);
    free(reqs);
    return result;
}

/* ----------------------------------------------------------- eth_config */

/* EIP-7910's names of the precompiles (execution-apis' eth_config schema,
 * as geth names them), by address. */
static const struct {
    uint16_t address;
    const char *name;
} precompile_names[] = {
    {0x01, "ECREC"},          {0x02, "SHA256"},         {0x03, "RIPEMD160"},
    {0x04, "ID"},             {0x05, "MODEXP"},         {0x06, "BN254_ADD"},
    {0x07, "BN254_MUL"},      {0x08, "BN254_PAIRING"},  {0x09, "BLAKE2F"},
    {0x0a, "KZG_POINT_EVALUATION"},                     {0x0b, "BLS12_G1ADD"},
    {0x0c, "BLS12_G1MSM"},    {0x0d, "BLS12_G2ADD"},    {0x0e, "BLS12_G2MSM"},
    {0x0f, "BLS12_PAIRING_CHECK"},                      {0x10, "BLS12_MAP_FP_TO_G1"},
    {0x11, "BLS12_MAP_FP2_TO_G2"},                      {0x100, "P256VERIFY"},
};

typedef struct {
    const char *name;
    address a;
} named_address;

typedef struct {
    named_address list[32];
    size_t n;
    bool unnamed; /* a precompile without an EIP-7910 name: a table to update */
} precompile_list;

static void add_precompile(void *ctx, const address *a)
{
    precompile_list *pl = ctx;
    uint16_t low = (uint16_t)(a->b[18] << 8 | a->b[19]);
    for (size_t i = 0; i < sizeof precompile_names / sizeof precompile_names[0]; i++)
        if (precompile_names[i].address == low && pl->n < sizeof pl->list / sizeof pl->list[0]) {
            pl->list[pl->n++] = (named_address){precompile_names[i].name, *a};
            return;
        }
    pl->unnamed = true;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const named_address *)a)->name, ((const named_address *)b)->name);
}

/* An object of name -> address, names in byte order (as Go writes a map). */
static json_t *named_addresses(named_address *list, size_t n)
{
    qsort(list, n, sizeof *list, compare_names);
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) json_object_set_new(o, list[i].name, jv_address(&list[i].a));
    return o;
}

/* CRC-32 (IEEE 802.3, reflected, as zlib's and Go's crc32.ChecksumIEEE):
 * EIP-2124's fork hash. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

/* A configuration point: an engine fork from Shanghai on, or a
 * blob-parameter-only fork (which keeps the engine fork in force). */
typedef struct {
    uint64_t activation;
    enum fork fork;
    bool is_blob_fork;
    blob_schedule blob;
} config_point;

static int compare_points(const void *pa, const void *pb)
{
    const config_point *a = pa, *b = pb;
    if (a->activation != b->activation) return a->activation < b->activation ? -1 : 1;
    /* At one timestamp a blob-parameter-only fork comes after the engine
     * fork (geth's fork order: BPO1 follows Osaka). */
    if (a->is_blob_fork != b->is_blob_fork) return a->is_blob_fork ? 1 : -1;
    return (int)a->fork - (int)b->fork;
}

static int compare_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

typedef struct {
    const chain_config *chain;
    bool has_genesis;
    hash32 genesis;
    address deposit_contract;      /* zero when none is known */
    const uint64_t *forkid_blocks;  /* NULL: the schedule's block activations */
    size_t n_forkid_blocks;
    uint64_t genesis_time;          /* timestamped forks at or before it are genesis rules */
    const blob_fork *blob_forks;
    size_t n_blob_forks;
} config_facts;

/* EIP-2124/6122's FORK_HASH with every fork activated by `time` counted:
 * all block-numbered forks after block 0, the timestamped ones (and
 * blob-parameter-only forks) after the genesis timestamp and at or before
 * `time`, each activation once (geth's forkid.gatherForks). */
static uint32_t fork_hash(const config_facts *cf, uint64_t time)
{
    uint32_t crc = crc32_update(0, cf->genesis.b, 32);
    uint64_t acts[FORK_COUNT + CHAIN_MAX_BLOB_FORKS];
    for (int by_time = 0; by_time < 2; by_time++) {
        size_t n = 0;
        bool listed = !by_time && cf->forkid_blocks;
        for (size_t i = 0; listed && i < cf->n_forkid_blocks && n < sizeof acts / sizeof acts[0]; i++)
            acts[n++] = cf->forkid_blocks[i];
        for (int f = 0; !listed && f < FORK_COUNT; f++) {
            uint64_t at = cf->chain->activation[f];
            if (at == UINT64_MAX || at == 0 || cf->chain->by_timestamp[f] != (bool)by_time) continue;
            if (by_time && (at > time || at <= cf->genesis_time)) continue;
            acts[n++] = at;
        }
        if (by_time)
            for (size_t i = 0; i < cf->n_blob_forks; i++) {
                uint64_t at = cf->blob_forks[i].activation;
                if (at != 0 && at > cf->genesis_time && at <= time) acts[n++] = at;
            }
        qsort(acts, n, sizeof *acts, compare_u64);
        for (size_t i = 0; i < n; i++) {
            if ((i && acts[i] == acts[i - 1]) || acts[i] == 0) continue; /* block 0: the genesis rules */
            uint8_t be[8];
            for (int b = 0; b < 8; b++) be[b] = (uint8_t)(acts[i] >> (56 - 8 * b));
            crc = crc32_update(crc, be, 8);
        }
    }
    return crc;
}

static json_t *config_json(const config_facts *cf, const config_point *p, rpc_error *err)
{
    json_t *o = json_object();
    /* geth: a fork active from the genesis block shows 0 */
    json_object_set_new(o, "activationTime",
                        json_integer(p->activation <= cf->genesis_time ? 0 : (json_int_t)p->activation));
    if (p->blob.max) {
        json_t *b = json_object();
        json_object_set_new(b, "target", json_integer((json_int_t)p->blob.target));
        json_object_set_new(b, "max", json_integer((json_int_t)p->blob.max));
        json_object_set_new(b, "baseFeeUpdateFraction", json_integer((json_int_t)p->blob.update_fraction));
        json_object_set_new(o, "blobSchedule", b);
    } else {
        json_object_set_new(o, "blobSchedule", json_null());
    }
    json_object_set_new(o, "chainId", jv_u64(cf->chain->chain_id));
    if (cf->has_genesis) {
        uint32_t h = fork_hash(cf, p->activation);
        uint8_t be[4] = {(uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h};
        json_object_set_new(o, "forkId", jv_data(be, 4));
    } else {
        json_object_set_new(o, "forkId", json_null());
    }
    precompile_list pl = {0};
    precompile_for_each_active(p->fork, add_precompile, &pl);
    if (pl.unnamed) {
        json_decref(o);
        rpc_fail(err, RPC_INTERNAL_ERROR, "eth_config: a precompile of %s has no EIP-7910 name", fork_name(p->fork));
        return NULL;
    }
    json_object_set_new(o, "precompiles", named_addresses(pl.list, pl.n));
    named_address sys[8];
    size_t ns = 0;
    if (p->fork >= FORK_CANCUN) {
        sys[ns].name = "BEACON_ROOTS_ADDRESS";
        hex_to_address(BEACON_ROOTS_ADDRESS, &sys[ns++].a);
    }
    if (p->fork >= FORK_PRAGUE) {
        sys[ns].name = "CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS";
        hex_to_address(CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, &sys[ns++].a);
        sys[ns].name = "DEPOSIT_CONTRACT_ADDRESS";
        sys[ns++].a = cf->deposit_contract;
        sys[ns].name = "HISTORY_STORAGE_ADDRESS";
        hex_to_address(HISTORY_STORAGE_ADDRESS, &sys[ns++].a);
        sys[ns].name = "WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS";
        hex_to_address(WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, &sys[ns++].a);
    }
    json_object_set_new(o, "systemContracts", named_addresses(sys, ns));
    return o;
}

json_t *m_config(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    (void)params;
    block_selector latest = {.tag = BLOCK_LATEST};
    block_env env;
    enum fork head_fork;
    if (!resolve_head(ctx, &latest, &env, &head_fork, err)) return NULL;
    store_error se;
    blob_fork blob_forks[CHAIN_MAX_BLOB_FORKS];
    config_facts cf = {.chain = &ctx->chain, .blob_forks = blob_forks};
    if (!store_get_blob_forks(ctx->conn, blob_forks, CHAIN_MAX_BLOB_FORKS, &cf.n_blob_forks, &se) ||
        !store_get_block_hash(ctx->conn, 0, &cf.genesis, &cf.has_genesis, &se))
        return rpc_fail(err, RPC_SERVER_ERROR, "database error: %s", se.msg), NULL;
    /* What init kept of the genesis (008); a public network's genesis hash,
     * fork blocks and deposit contract are known even without it, or when
     * block 0's hash is no longer stored. */
    store_genesis gen;
    bool has_gen;
    if (!store_get_genesis(ctx->conn, &gen, &has_gen, &se))
        return rpc_fail(err, RPC_SERVER_ERROR, "database error: %s", se.msg), NULL;
    const char *network = chain_builtin_by_chain_id(ctx->chain.chain_id);
    chain_spec spec;
    if (network && chain_builtin(network, &spec)) {
        if (spec.deposit_contract) hex_to_address(spec.deposit_contract, &cf.deposit_contract);
        cf.forkid_blocks = spec.forkid_blocks;
        cf.n_forkid_blocks = spec.n_forkid_blocks;
        cf.genesis_time = spec.head.timestamp;
        if (!cf.has_genesis && spec.has_genesis_hash) {
            cf.genesis = spec.genesis_hash;
            cf.has_genesis = true;
        }
    }
    if (has_gen) {
        cf.deposit_contract = gen.deposit_contract; /* zero when none known */
        cf.genesis_time = gen.timestamp;
        if (gen.n_forkid_blocks) {
            cf.forkid_blocks = gen.forkid_blocks;
            cf.n_forkid_blocks = gen.n_forkid_blocks;
        }
        /* the genesis hash is the stored hash of the genesis block's number */
        if (gen.number != 0 &&
            !store_get_block_hash(ctx->conn, gen.number, &cf.genesis, &cf.has_genesis, &se))
            return rpc_fail(err, RPC_SERVER_ERROR, "database error: %s", se.msg), NULL;
    }

    config_point points[FORK_COUNT + CHAIN_MAX_BLOB_FORKS];
    size_t n = 0;
    for (int f = FORK_SHANGHAI; f < FORK_COUNT; f++) {
        if (ctx->chain.activation[f] == UINT64_MAX || !ctx->chain.by_timestamp[f]) continue;
        config_point *p = &points[n++];
        *p = (config_point){.activation = ctx->chain.activation[f], .fork = (enum fork)f};
        if (f >= FORK_CANCUN) {
            if (!store_get_blob_schedule(ctx->conn, (enum fork)f, &p->blob, &se))
                return rpc_fail(err, RPC_SERVER_ERROR, "database error: %s", se.msg), NULL;
            block_env defaults = {0};
            block_env_default_blob_schedule(&defaults, (enum fork)f);
            if (!p->blob.target) p->blob.target = defaults.blob_target_per_block;
            if (!p->blob.max) p->blob.max = defaults.blob_max_per_block;
            if (!p->blob.update_fraction) p->blob.update_fraction = defaults.blob_base_fee_update_fraction;
        }
    }
    for (size_t i = 0; i < cf.n_blob_forks; i++)
        points[n++] = (config_point){.activation = blob_forks[i].activation, .is_blob_fork = true, .blob = blob_forks[i].blob};
    qsort(points, n, sizeof *points, compare_points);
    /* A blob-parameter-only fork runs the engine fork in force at its time. */
    for (size_t i = 0; i < n; i++)
        if (points[i].is_blob_fork) points[i].fork = chain_config_fork_at(&ctx->chain, UINT64_MAX, points[i].activation);

    /* current: the last point active at the head; next: the one after. */
    size_t current = n; /* none */
    for (size_t i = 0; i < n; i++)
        if (points[i].activation <= env.timestamp) current = i;
    size_t next = current == n ? 0 : current + 1;
    json_t *out = json_object();
    json_t *cur = NULL, *nxt = NULL, *last = NULL;
    if (current < n && !(cur = config_json(&cf, &points[current], err))) goto fail;
    if (next < n) {
        if (!(nxt = config_json(&cf, &points[next], err)) || !(last = config_json(&cf, &points[n - 1], err))) goto fail;
    }
    json_object_set_new(out, "current", cur ? cur : json_null());
    json_object_set_new(out, "next", nxt ? nxt : json_null());
    json_object_set_new(out, "last", last ? last : json_null());
    return out;
fail:
    json_decref(cur);
    json_decref(nxt);
    json_decref(last);
    json_decref(out);
    return NULL;
}
