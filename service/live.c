#include "live.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/format.h"
#include "base/keccak.h"
#include "base/trie.h"
#include "follow.h"
#include "hexjson.h"
#include "log.h"
#include "rpc/json_values.h"
#include "rpc/rpc.h"

#include <pthread.h>
#include <stdatomic.h>

/* The one live database of the process: its upstream and pinned block. */
static struct {
    upstream *up;
    hash32 block_hash;
    uint64_t block_number;
    store *s;
    bool no_forward;
} live;

/* Whether the upstream serves eth_getProof, learnt on the first account
 * fetch: when it does, an account's balance, nonce and storage root come
 * from it (has_storage); when not, from eth_getBalance and
 * eth_getTransactionCount, and its storage counts as empty. */
enum { PROOF_UNKNOWN, PROOF_YES, PROOF_NO };
static _Atomic int proof_mode;
#define USE_PROOF (atomic_load(&proof_mode) != PROOF_NO)

/* A failed batch that used eth_getProof before it was known to work: when
 * the upstream refused that method, stop using it (true: ask again). */
static bool proof_refused(const upstream_error *ue)
{
    if (atomic_load(&proof_mode) != PROOF_UNKNOWN || !strstr(ue->msg, "eth_getProof")) return false;
    atomic_store(&proof_mode, PROOF_NO);
    log_notice("live: the upstream does not answer eth_getProof (%s): accounts are fetched without their storage "
               "root, so an account's storage counts as empty for CREATE collisions (EIP-7610)", ue->msg);
    return true;
}

/* {"blockHash": H}: every fetch names its block by hash. */
static json_t *block_param(const hash32 *at)
{
    char h[HEX_HASH_LEN];
    hex_from_hash(at, h);
    return json_pack("{s:s}", "blockHash", h);
}

static bool failed(store_error *err, const upstream_error *ue) { return store_fail(err, "%s", ue->msg); }

static bool malformed(store_error *err, const char *what, const hj_error *he)
{
    return store_fail(err, "upstream %s: malformed answer to %s: %s", upstream_name(live.up), what, he->msg);
}

/* The requests that fetch one account (2 or 3): methods and params (new
 * references) from *r on; returns how many. */
static size_t account_requests(const address *a, const hash32 *at, bool use_proof, const char **methods,
                               json_t **params)
{
    char addr[HEX_ADDRESS_LEN];
    hex_from_address(a, addr);
    size_t n = 0;
    if (use_proof) {
        methods[n] = "eth_getProof";
        params[n++] = json_pack("[s,[],o]", addr, block_param(at));
    } else {
        methods[n] = "eth_getBalance";
        params[n++] = json_pack("[s,o]", addr, block_param(at));
        methods[n] = "eth_getTransactionCount";
        params[n++] = json_pack("[s,o]", addr, block_param(at));
    }
    methods[n] = "eth_getCode";
    params[n++] = json_pack("[s,o]", addr, block_param(at));
    return n;
}

/* Whether an eth_getProof answer's storage root is not the empty trie's
 * (geth answers a zero hash for an absent account's). */
static bool proof_has_storage(const json_t *p, bool *has_storage, hj_error *he)
{
    hash32 root, zero = {{0}};
    if (!hj_get_hash(p, "storageHash", &root, he)) return false;
    *has_storage = memcmp(root.b, TRIE_EMPTY_ROOT.b, 32) != 0 && memcmp(root.b, zero.b, 32) != 0;
    return true;
}

/* Reads the answers to account_requests (borrowed). *code malloc'd or NULL. */
static bool account_answers(bool use_proof, const char *const *methods, json_t *const *results, bool *exists,
                            account_info *info, uint8_t **code, size_t *code_len, bool *has_storage, store_error *err)
{
    hj_error he;
    bytebuf c = {0};
    memset(info, 0, sizeof *info);
    *has_storage = false;
    size_t k = 0;
    if (use_proof) {
        const json_t *p = results[k++];
        if (!hj_get_u256(p, "balance", &info->balance, &he) || !hj_get_u64(p, "nonce", &info->nonce, &he) ||
            !proof_has_storage(p, has_storage, &he))
            return malformed(err, methods[0], &he);
    } else {
        if (!hj_u256(results[k++], "balance", &info->balance, &he)) return malformed(err, methods[0], &he);
        if (!hj_u64(results[k++], "nonce", &info->nonce, &he)) return malformed(err, methods[1], &he);
    }
    if (!hj_bytes(results[k], "code", &c, &he)) {
        bytebuf_free(&c);
        return malformed(err, methods[k], &he);
    }
    info->code_hash = KECCAK_EMPTY;
    if (c.len) keccak256(c.data, c.len, info->code_hash.b);
    *exists = c.len || info->nonce || !u256_is_zero(&info->balance);
    *code = c.len ? c.data : NULL;
    *code_len = c.len;
    if (!c.len) bytebuf_free(&c);
    return true;
}

/* Balance, nonce, storage root and code in one round trip. */
static bool fetch_account(void *ctx, const hash32 *at, const address *a, bool *exists, account_info *info, uint8_t **code,
                          size_t *code_len, bool *has_storage, store_error *err)
{
    (void)ctx;
    const char *methods[3];
    json_t *params[3], *results[3] = {NULL, NULL, NULL};
    bool ok, proof;
    size_t n;
    upstream_error ue;
    do {
        proof = USE_PROOF;
        n = account_requests(a, at, proof, methods, params);
        ok = upstream_batch(live.up, n, methods, params, results, &ue);
        for (size_t i = 0; i < n; i++) json_decref(params[i]);
    } while (!ok && proof && proof_refused(&ue));
    if (!ok) return failed(err, &ue);
    if (proof) atomic_store(&proof_mode, PROOF_YES);
    ok = account_answers(proof, methods, results, exists, info, code, code_len, has_storage, err);
    for (size_t i = 0; i < n; i++) json_decref(results[i]);
    return ok;
}

static bool fetch_slot(void *ctx, const hash32 *at, const address *a, const u256 *key, u256 *value, store_error *err)
{
    (void)ctx;
    char addr[HEX_ADDRESS_LEN], k[HEX_U256_LEN];
    hex_from_address(a, addr);
    hex_from_u256(key, k);
    json_t *params = json_pack("[s,s,o]", addr, k, block_param(at)), *result = NULL;
    upstream_error ue;
    bool ok = upstream_call(live.up, "eth_getStorageAt", params, &result, &ue);
    json_decref(params);
    if (!ok) return failed(err, &ue);
    hj_error he;
    hash32 h;
    ok = hj_hash(result, "storage value", &h, &he);
    json_decref(result);
    if (!ok) return malformed(err, "eth_getStorageAt", &he);
    *value = u256_load_be(h.b);
    return true;
}

/* A never-seen call's eth_createAccessList, carried in the first batch
 * fetch_many sends on this thread (with the sender's and the target's
 * accounts: one round trip for both), and the keys its answer named, which
 * store_live_prefetch then asks for (fetch_more). */
static _Thread_local struct {
    const json_t *tx; /* the call; NULL: nothing to carry */
    bool sent;
    store_live_key *keys;
    size_t n, cap;
} carried;

/* The addresses and slots of an eth_createAccessList answer, added to *keys. */
static void access_list_parse(const json_t *r, store_live_key **keys, size_t *n, size_t *cap)
{
    size_t i, j;
    json_t *e, *slot;
    json_array_foreach(json_object_get(r, "accessList"), i, e) {
        store_live_key k = {0};
        hj_error he;
        if (!hj_get_address(e, "address", &k.a, &he)) continue;
        if (*n == *cap) *keys = realloc(*keys, (*cap = *cap * 2 + 16) * sizeof **keys);
        (*keys)[(*n)++] = k;
        json_array_foreach(json_object_get(e, "storageKeys"), j, slot) {
            const char *t = json_string_value(slot);
            if (!t || !hex_to_u256(t, &k.key)) continue;
            k.is_slot = true;
            if (*n == *cap) *keys = realloc(*keys, (*cap = *cap * 2 + 16) * sizeof **keys);
            (*keys)[(*n)++] = k;
        }
    }
}

static void fetch_more(void *ctx, store_live_key **keys, size_t *n)
{
    (void)ctx;
    *keys = carried.keys;
    *n = carried.n;
    carried.keys = NULL;
    carried.n = carried.cap = 0;
}

/* Requests per HTTP batch: geth's default limit (BatchRequestLimit). */
enum { LIVE_BATCH_MAX = 1000 };

/* Accounts, slots (eth_getStorageAt) and storage roots (root_only:
 * eth_getProof), as few batches as the limit allows. An account is
 * eth_getProof (balance, nonce, storage root) and eth_getCode; in the batch
 * that carries a call's access list, which a second batch always follows,
 * it is the cheap eth_getBalance, eth_getTransactionCount and eth_getCode
 * instead (a node's eth_getProof walks the trie: anvil's costs 3x a
 * balance), and the root is left to that second batch (root_pending) for
 * the accounts where it can matter: a storage root decides only whether a
 * CREATE collides with an account of nonce 0 and no code (EIP-7610), and
 * never for the zero address (the implicit sender: a CREATE there would
 * take a keccak preimage). */
static bool fetch_many(void *ctx, const hash32 *at, struct store_live_item *items, size_t n, unsigned *round_trips,
                       store_error *err)
{
    (void)ctx;
    *round_trips = 0;
    bool proof = USE_PROOF, asked_proof = false;
    bool carry = carried.tx && !carried.sent;
    size_t total = carry;
    for (size_t i = 0; i < n; i++) total += items[i].k.is_slot || items[i].root_only ? 1 : 3; /* at most */
    const char **methods = calloc(total, sizeof *methods);
    json_t **params = calloc(total, sizeof *params), **results = calloc(total, sizeof *results);
    size_t *owner = calloc(total, sizeof *owner);
    bool *optional = calloc(total, sizeof *optional);
    bool ok = methods && params && results && owner && optional;
    if (!ok) store_fail(err, "out of memory");
    upstream_error ue;
    size_t r = 0, n_item_requests = 0;
    for (bool again = ok; again;) {
        again = false;
        asked_proof = false;
        r = 0;
        for (size_t i = 0; i < n; i++) {
            char addr[HEX_ADDRESS_LEN];
            hex_from_address(&items[i].k.a, addr);
            if (items[i].k.is_slot) {
                char k[HEX_U256_LEN];
                hex_from_u256(&items[i].k.key, k);
                methods[r] = "eth_getStorageAt";
                owner[r] = i;
                params[r++] = json_pack("[s,s,o]", addr, k, block_param(at));
            } else if (items[i].root_only) {
                if (!proof) continue; /* the upstream cannot tell: no storage */
                asked_proof = true;
                methods[r] = "eth_getProof";
                owner[r] = i;
                params[r++] = json_pack("[s,[],o]", addr, block_param(at));
            } else {
                asked_proof |= proof && !carry;
                size_t k = account_requests(&items[i].k.a, at, proof && !carry, methods + r, params + r);
                for (size_t q = 0; q < k; q++) owner[r++] = i;
            }
        }
        n_item_requests = r;
        if (carry) { /* last: its failure (a reverting call) costs only its answer */
            methods[r] = "eth_createAccessList";
            optional[r] = true;
            params[r++] = json_pack("[O,o]", carried.tx, block_param(at));
        }
        for (size_t from = 0; ok && from < r; from += LIVE_BATCH_MAX) {
            size_t k = r - from < LIVE_BATCH_MAX ? r - from : LIVE_BATCH_MAX;
            ok = upstream_batch_optional(live.up, k, methods + from, params + from, optional + from, results + from,
                                         &ue);
            ++*round_trips;
        }
        if (!ok) {
            for (size_t q = 0; q < r; q++) {
                json_decref(params[q]);
                json_decref(results[q]);
                params[q] = results[q] = NULL;
            }
            if (asked_proof && proof_refused(&ue)) {
                proof = false;
                ok = again = true;
            } else {
                failed(err, &ue);
            }
        }
    }
    if (ok && asked_proof) atomic_store(&proof_mode, PROOF_YES);
    if (ok && carry) {
        carried.sent = true;
        if (results[n_item_requests])
            access_list_parse(results[n_item_requests], &carried.keys, &carried.n, &carried.cap);
    }
    hj_error he;
    for (size_t q = 0; ok && q < n_item_requests;) {
        struct store_live_item *it = &items[owner[q]];
        if (it->k.is_slot) {
            hash32 h;
            if (!hj_hash(results[q], "storage value", &h, &he)) ok = malformed(err, methods[q], &he);
            else it->value = u256_load_be(h.b);
            q++;
            continue;
        }
        if (it->root_only) {
            if (!proof_has_storage(results[q], &it->has_storage, &he)) ok = malformed(err, methods[q], &he);
            q++;
            continue;
        }
        bool with_proof = proof && !carry;
        ok = account_answers(with_proof, methods + q, results + q, &it->exists, &it->info, &it->code, &it->code_len,
                             &it->has_storage, err);
        static const address zero_address = {{0}};
        it->root_pending = ok && proof && carry && it->info.nonce == 0 && it->code_len == 0 &&
                           memcmp(it->k.a.b, zero_address.b, 20) != 0;
        q += with_proof ? 2 : 3;
    }
    for (size_t q = 0; q < r; q++) {
        json_decref(params[q]);
        json_decref(results[q]);
    }
    free(methods);
    free(params);
    free(results);
    free(owner);
    free(optional);
    return ok;
}

/* ------------------------------------------------ cold-call prefetch */

static bool is_call_method(const char *m)
{
    return strcmp(m, "eth_call") == 0 || strcmp(m, "eth_estimateGas") == 0 ||
           strcmp(m, "eth_createAccessList") == 0 || strcmp(m, "debug_traceCall") == 0;
}

/* "latest" or "pending": jitevm's head (it holds no pending block). */
static bool head_tag(const char *t) { return t && (strcmp(t, "latest") == 0 || strcmp(t, "pending") == 0); }

/* A block parameter that means the head: absent, a head tag, or the pinned
 * block's number or hash (*need_pin: the pin must be read to tell). */
static bool at_head(const json_t *b, const store_live_pin *pin, bool *need_pin)
{
    *need_pin = false;
    if (!b || json_is_null(b)) return true;
    const char *t = json_string_value(b);
    if (head_tag(t)) return true;
    if (!pin) {
        *need_pin = true;
        return false;
    }
    if (json_is_object(b)) {
        hash32 h;
        hj_error he;
        return hj_get_hash(b, "blockHash", &h, &he) && memcmp(h.b, pin->block_hash.b, 32) == 0;
    }
    uint64_t n;
    return t && hex_to_u64(t, &n) && n == pin->block_number;
}

/* The first bytes (up to 4) of a hex string: the selector. */
static size_t selector_of(const json_t *input, uint8_t out[4])
{
    const char *t = json_string_value(input);
    if (!t || t[0] != '0' || (t[1] != 'x' && t[1] != 'X')) return 0;
    size_t n = 0;
    for (t += 2; n < 4 && t[0] && t[1]; t += 2) {
        int hi = hex_digit_value(t[0]), lo = hex_digit_value(t[1]);
        if (hi < 0 || lo < 0) return 0;
        out[n++] = (uint8_t)(hi << 4 | lo);
    }
    return n;
}

/* Calls whose keys were all found cached, per thread, until the next
 * write (a block applied, a reorg: rpc_write_generation): a warm call then
 * skips the checks in SQLite. Only a hint: a wrong entry costs a fetch.
 * Keyed by the sender's and the target's text as the request wrote them
 * (an absent sender: empty), compared whole: a warm call does not decode
 * (and check) its addresses here, the call's own parsing does that. */
enum { WARM_MEMO_SLOTS = 64, MEMO_TEXT = 42 /* "0x" and 40 digits */ };
static _Thread_local struct warm_memo {
    bool used;
    uint8_t selector_len, from_len, to_len;
    uint8_t selector[4];
    char from_text[MEMO_TEXT], to_text[MEMO_TEXT];
    address to;
    uint64_t generation;
} warm_memo[WARM_MEMO_SLOTS];

/* The text of an address field, when a memo can key it. */
static bool memo_text(const json_t *v, const char **text, size_t *len)
{
    if (!v || json_is_null(v)) {
        *text = "";
        *len = 0;
        return true;
    }
    *text = json_string_value(v);
    *len = *text ? json_string_length(v) : 0;
    return *text && *len <= MEMO_TEXT;
}

/* The last eight bytes of s (fewer when shorter) as one word: one load
 * for an address text, not a loop over its digits. */
static uint64_t last_bytes(const char *s, size_t len)
{
    uint64_t w = 0;
    if (len >= 8) {
        memcpy(&w, s + len - 8, 8);
    } else {
        for (size_t i = 0; i < len; i++) w = w << 8 | (uint8_t)s[i];
    }
    return w;
}

static struct warm_memo *memo_slot(const char *from, size_t from_len, const char *to, size_t to_len,
                                   const uint8_t *sel, size_t sel_len, bool *hit)
{
    /* The last digits tell addresses apart; the texts are compared whole. */
    uint64_t h = sel_len | last_bytes((const char *)sel, sel_len) << 8;
    h = (h * 0x9e3779b97f4a7c15u) ^ last_bytes(to, to_len);
    h = (h * 0xc2b2ae3d27d4eb4fu) ^ last_bytes(from, from_len);
    h *= 0xff51afd7ed558ccdu;
    struct warm_memo *m = &warm_memo[(h >> 32) % WARM_MEMO_SLOTS];
    *hit = m->used && m->generation == rpc_write_generation() && m->selector_len == sel_len &&
           m->to_len == to_len && m->from_len == from_len && memcmp(m->selector, sel, sel_len) == 0 &&
           memcmp(m->to_text, to, to_len) == 0 && memcmp(m->from_text, from, from_len) == 0;
    return m;
}

/* The upstream's access list for the call, at the pin: its addresses and
 * slots are added to `keys`. A failure (a reverting call, a node without the
 * method) only costs the round trip. */
static void access_list_keys(const json_t *tx, const store_live_pin *pin, store_live_key **keys, size_t *n,
                             size_t *cap)
{
    static const char *const method = "eth_createAccessList";
    static const bool optional = true; /* refused: no error logged (a reverting call is no fault) */
    json_t *p = json_pack("[O,o]", tx, block_param(&pin->block_hash)), *r = NULL;
    upstream_error ue;
    bool ok = upstream_batch_optional(live.up, 1, &method, &p, &optional, &r, &ue);
    json_decref(p);
    if (!ok || !r) return;
    access_list_parse(r, keys, n, cap);
    json_decref(r);
}

/* Before a call: the accounts and slots it is expected to read, fetched in
 * one batch. A target and selector seen before: what that call read last
 * time (and nothing asked when all of it is cached); never seen: the
 * upstream's eth_createAccessList for this call. The sender and the target
 * are always included. */
static bool before_call(store_conn *c, const char *method, json_t *params, store_error *se)
{
    if (!is_call_method(method)) return true;
    const json_t *tx = json_array_get(params, 0);
    if (!json_is_object(tx)) return true;
    const json_t *from_json = json_object_get(tx, "from"), *to_json = json_object_get(tx, "to");
    /* A creation (no target) has no record to key: left to per-key fetches. */
    if (!to_json || json_is_null(to_json)) return true;
    const json_t *input = json_object_get(tx, "input");
    if (!input || json_is_null(input)) input = json_object_get(tx, "data");
    uint8_t selector[4];
    size_t selector_len = selector_of(input, selector);
    bool need_pin, hit = false;
    store_live_pin pin;
    bool head = at_head(json_array_get(params, 1), NULL, &need_pin);
    if (need_pin) {
        bool live_db;
        if (!store_get_live_pin(c, &pin, &live_db, se)) return false;
        head = live_db && at_head(json_array_get(params, 1), &pin, &need_pin);
    }
    if (!head) return true;
    const char *from_text = "", *to_text = "";
    size_t from_len = 0, to_len = 0;
    struct warm_memo *memo = NULL;
    if (memo_text(from_json, &from_text, &from_len) && memo_text(to_json, &to_text, &to_len))
        memo = memo_slot(from_text, from_len, to_text, to_len, selector, selector_len, &hit);
    if (hit) {
        store_live_record_begin(c, &memo->to, selector, selector_len, false);
        return true;
    }
    hj_error he;
    address from = {{0}}, to;
    if (from_json && !json_is_null(from_json) && !hj_address(from_json, "from", &from, &he)) return true;
    if (!hj_address(to_json, "to", &to, &he)) return true;
    uint64_t generation = rpc_write_generation();
    store_live_key *keys = NULL, *rec = NULL;
    size_t n = 0, cap = 0, nrec = 0;
    bool recorded;
    if (!store_live_recorded(c, &to, selector, selector_len, &rec, &nrec, &recorded, se)) return false;
    /* Never seen: its access list is asked whatever is cached. A thread
     * that may not wait hands the call on now, before reading the rest. */
    if (!recorded && store_live_fetch_deferred(c, se)) {
        free(rec);
        return false;
    }
    cap = nrec + 16;
    keys = malloc(cap * sizeof *keys);
    if (!keys) {
        free(rec);
        return store_fail(se, "out of memory");
    }
    keys[n++] = (store_live_key){.a = from};
    keys[n++] = (store_live_key){.a = to};
    if (nrec) memcpy(keys + n, rec, nrec * sizeof *keys);
    n += nrec;
    free(rec);
    size_t fetched = 0;
    bool ok = true, prefetched = false;
    if (!recorded) {
        /* Never seen (or not since the record was lost): the upstream's
         * access list names everything the call reads, instead of one
         * round trip per key. It goes in one batch with the sender's and
         * the target's accounts; what it names follows in a second. */
        bool live_db = true;
        if (!need_pin && !store_get_live_pin(c, &pin, &live_db, se)) {
            free(keys);
            return false;
        }
        /* The head's coinbase: every call reads it (its fee, zero or not,
         * touches it) and no access list names it. */
        block_env env;
        if (live_db && store_get_head(c, &env, se)) keys[n++] = (store_live_key){.a = env.coinbase};
        else if (live_db) {
            free(keys);
            return false;
        }
        if (live_db) {
            carried.tx = tx;
            carried.sent = false;
            ok = store_live_prefetch(c, keys, n, &fetched, se);
            prefetched = carried.sent;
            free(carried.keys);
            memset(&carried, 0, sizeof carried);
            if (ok && !prefetched) { /* both accounts were cached: the access list alone */
                access_list_keys(tx, &pin, &keys, &n, &cap);
                store_live_note_round_trips(c, 1);
            }
        }
    }
    if (ok && !prefetched) ok = store_live_prefetch(c, keys, n, &fetched, se);
    free(keys);
    if (!ok) return false;
    store_live_record_begin(c, &to, selector, selector_len, !recorded);
    if (memo && recorded && fetched == 0) {
        *memo = (struct warm_memo){.used = true, .selector_len = (uint8_t)selector_len, .from_len = (uint8_t)from_len,
                                   .to_len = (uint8_t)to_len, .to = to, .generation = generation};
        memcpy(memo->selector, selector, selector_len);
        memcpy(memo->from_text, from_text, from_len);
        memcpy(memo->to_text, to_text, to_len);
    }
    return true;
}

/* before_call's warm path for a call read from its text (rpc_fast.c: a
 * target, the head as the block): the same memo, keyed by the same texts. */
static bool warm_call(store_conn *c, const char *from, size_t from_len, const char *to, size_t to_len,
                      const uint8_t *selector, size_t selector_len)
{
    bool hit;
    if (from_len > MEMO_TEXT || to_len > MEMO_TEXT) return false;
    struct warm_memo *memo = memo_slot(from, from_len, to, to_len, selector, selector_len, &hit);
    if (hit) store_live_record_begin(c, &memo->to, selector, selector_len, false);
    return hit;
}

static void after_call(store_conn *c)
{
    store_error se;
    if (!store_live_record_end(c, &se)) log_warn("live: %s", se.msg);
}

/* ------------------------------------------------------- forwarding */

/* Asks the upstream one request and passes its answer on: true with
 * *result, or false with *err (the upstream's own error, or why it could
 * not be asked). */
static bool forward_as_is(const char *method, json_t *params, json_t **result, rpc_error *err)
{
    json_t *resp = NULL;
    upstream_error ue;
    if (!upstream_forward(live.up, method, params, &resp, &ue)) {
        rpc_fail(err, RPC_SERVER_ERROR, "%s", ue.msg);
        return false;
    }
    const json_t *e = json_object_get(resp, "error");
    bool ok = !json_is_object(e);
    if (!ok) {
        const char *msg = json_string_value(json_object_get(e, "message"));
        const json_t *code = json_object_get(e, "code");
        rpc_fail(err, json_is_integer(code) ? (int)json_integer_value(code) : RPC_SERVER_ERROR, "%s",
                 msg ? msg : "(the upstream gave no message)");
        const char *data = json_string_value(json_object_get(e, "data"));
        if (data) err->data = strdup(data);
    } else {
        *result = json_incref(json_object_get(resp, "result"));
    }
    json_decref(resp);
    return ok;
}

/* A receipt of a block the follower has not applied yet is withheld
 * (null, as for a transaction not yet mined): every wallet and library
 * (ethers' wait, viem's waitForTransactionReceipt) acts on a transaction's
 * effects once its receipt comes, and reads them here, at jitevm's head,
 * which may lag the upstream's by a poll. Handed out early, the receipt led
 * a dapp's next step (a swap after its approval) to estimate and simulate
 * on the state before it. Pinned, the head never moves: passed on as is. */
static void receipt_at_head(json_t **result)
{
    follow_stats st;
    uint64_t n;
    if (!follow_get_stats(&st) || !json_is_object(*result)) return;
    const char *bn = json_string_value(json_object_get(*result, "blockNumber"));
    if (bn && hex_to_u64(bn, &n) && n > st.head) {
        json_decref(*result);
        *result = json_null();
    }
}

/* jitevm's head block number as a quantity: the follower's, or the pin
 * (which does not move when not following). */
static json_t *head_number(void)
{
    follow_stats st;
    char n[32];
    snprintf(n, sizeof n, "0x%" PRIx64, follow_get_stats(&st) ? st.head : live.block_number);
    return json_string(n);
}

/* eth_getLogs' params with the head's tags (fromBlock and toBlock
 * "latest" or "pending", or left out, which means latest) made jitevm's
 * head block number: the upstream's head may be a block ahead, whose
 * events a dapp would act on against state that does not have them yet (as
 * receipt_at_head). A range by number or a blockHash goes as it is. A new
 * reference the caller owns. */
static json_t *logs_to_head(json_t *params)
{
    json_t *copy = json_deep_copy(params);
    json_t *filter = json_array_get(copy, 0);
    if (!json_is_object(filter) || json_object_get(filter, "blockHash")) return copy;
    static const char *const ends[] = {"fromBlock", "toBlock"};
    for (int i = 0; i < 2; i++) {
        const json_t *v = json_object_get(filter, ends[i]);
        if (!v || json_is_null(v) || head_tag(json_string_value(v))) json_object_set_new(filter, ends[i], head_number());
    }
    return copy;
}

/* State at a block other than jitevm's head, asked of the upstream as it
 * is (rpc_live_hooks.forward_state). */
static bool forward_state(const char *method, json_t *params, json_t **result, rpc_error *err)
{
    if (live.no_forward) return false;
    forward_as_is(method, params, result, err);
    return true;
}

/* History asked of the upstream as it is. The head's block (latest,
 * pending) is jitevm's head, which may lag the upstream's: head_block.
 * eth_feeHistory up to the head is the upstream's up to jitevm's head
 * block (its rewards and gas ratios are of the blocks' transactions, which
 * jitevm does not hold). An account's nonce at "pending" counts the
 * upstream's transaction pool, which jitevm does not hold either: a wallet
 * sending two transactions in a row (or one just after its last receipt)
 * takes its nonce from it. */
static bool forward(const char *method, json_t *params, json_t **result, rpc_error *err)
{
    if (live.no_forward) return false;
    bool fee = strcmp(method, "eth_feeHistory") == 0;
    json_t *owned = NULL;
    if (fee || strcmp(method, "eth_getBlockByNumber") == 0) {
        const json_t *b = json_array_get(params, fee ? 1 : 0);
        bool at_head = head_tag(json_string_value(b));
        if (!b || (at_head && !fee)) return false;
        if (at_head) {
            params = owned = json_copy(params);
            json_array_set_new(owned, 1, head_number());
        }
    }
    if (strcmp(method, "eth_getTransactionCount") == 0) {
        const char *t = json_string_value(json_array_get(params, 1));
        if (!t || strcmp(t, "pending") != 0) return false;
    }
    if (strcmp(method, "eth_getLogs") == 0 && json_is_array(params)) params = owned = logs_to_head(params);
    if (!json_is_array(params)) params = owned = json_array();
    if (forward_as_is(method, params, result, err) && strcmp(method, "eth_getTransactionReceipt") == 0)
        receipt_at_head(result);
    json_decref(owned);
    return true;
}

/* The head's block as the upstream has it, by hash: kept for the last head
 * asked (fullTx and not), so that the clients' frequent getBlock("latest")
 * costs one upstream request per head. */
static struct {
    pthread_mutex_t lock;
    hash32 hash;
    json_t *block[2]; /* [fullTx] */
} head_block_memo = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Forgets the kept blocks. Lock held. */
static void head_block_memo_drop(void)
{
    for (int i = 0; i < 2; i++) json_decref(head_block_memo.block[i]);
    head_block_memo.block[0] = head_block_memo.block[1] = NULL;
}

static bool head_block(const hash32 *hash, bool full_tx, json_t **result, rpc_error *err)
{
    if (live.no_forward) return false;
    pthread_mutex_lock(&head_block_memo.lock);
    json_t *kept = memcmp(head_block_memo.hash.b, hash->b, 32) == 0 ? head_block_memo.block[full_tx] : NULL;
    *result = kept ? json_deep_copy(kept) : NULL;
    pthread_mutex_unlock(&head_block_memo.lock);
    if (*result) return true;
    char h[HEX_HASH_LEN];
    hex_from_hash(hash, h);
    json_t *params = json_pack("[s,b]", h, full_tx);
    bool answered = forward_as_is("eth_getBlockByHash", params, result, err);
    json_decref(params);
    if (!answered) return true; /* *err says why */
    const char *got = json_string_value(json_object_get(*result, "hash"));
    if (json_is_null(*result) || !got || strcmp(got, h) != 0) {
        rpc_fail(err, RPC_SERVER_ERROR,
                 "upstream %s: %s for the head block %s (reorged away there? --follow moves to the new head)",
                 upstream_name(live.up), json_is_null(*result) ? "no block" : "another block", h);
        json_decref(*result);
        *result = NULL;
        return true;
    }
    pthread_mutex_lock(&head_block_memo.lock);
    if (memcmp(head_block_memo.hash.b, hash->b, 32) != 0) {
        head_block_memo_drop();
        head_block_memo.hash = *hash;
    }
    if (!head_block_memo.block[full_tx]) head_block_memo.block[full_tx] = json_deep_copy(*result);
    pthread_mutex_unlock(&head_block_memo.lock);
    return true;
}

/* ------------------------------------------------------ eth_getProof */

/* eth_getProof on a live database: the cache holds part of the state, not
 * its trie, so no proof can be made here; the upstream's is asked for at
 * the pinned block as the call's snapshot sees it (by hash: the proof is of
 * exactly the block the other methods answer at, not of the upstream's
 * newer head), in one batch with that block's header, and handed on only
 * when its first account-proof node hashes to the header's stateRoot (the
 * proof belongs to that block; the client verifies the rest, as it would
 * against any node). Keys go as 32-byte words (some nodes refuse a short
 * quantity) and are echoed as the caller wrote them, as a local proof's
 * are. A node without eth_getProof: its error, -32000, naming it. */
static bool prove(store_conn *c, const address *a, const u256 *keys, const size_t *key_bytes, size_t n,
                  json_t **result, rpc_error *err)
{
    store_live_pin pin;
    bool is_live;
    store_error se;
    if (!store_get_live_pin(c, &pin, &is_live, &se)) return rpc_fail_store(err, &se), true;
    if (!is_live) return false;
    char addr[HEX_ADDRESS_LEN], bh[HEX_HASH_LEN];
    hex_from_address(a, addr);
    hex_from_hash(&pin.block_hash, bh);
    json_t *key_list = json_array();
    for (size_t i = 0; i < n; i++) {
        hash32 k;
        char kh[HEX_HASH_LEN];
        u256_store_be(k.b, &keys[i]);
        hex_from_hash(&k, kh);
        json_array_append_new(key_list, json_string(kh));
    }
    static const char *const methods[2] = {"eth_getBlockByHash", "eth_getProof"};
    json_t *params[2] = {json_pack("[s,b]", bh, 0), json_pack("[s,o,o]", addr, key_list, block_param(&pin.block_hash))};
    json_t *results[2] = {NULL, NULL};
    upstream_error ue;
    bool ok = upstream_batch(live.up, 2, methods, params, results, &ue);
    json_decref(params[0]);
    json_decref(params[1]);
    if (!ok) return rpc_fail(err, RPC_SERVER_ERROR, "%s", ue.msg), true;
    hj_error he;
    hash32 hash, state_root;
    const json_t *p = results[1], *nodes = json_object_get(p, "accountProof"),
                 *storage = json_object_get(p, "storageProof");
    const char *root_node = json_string_value(json_array_get(nodes, 0));
    bytebuf node = {0};
    const char *why = NULL;
    if (json_is_null(results[0])) why = "the upstream does not know the block (a reorg it has not followed yet?)";
    else if (!hj_get_hash(results[0], "hash", &hash, &he) || !hj_get_hash(results[0], "stateRoot", &state_root, &he))
        why = he.msg;
    else if (memcmp(hash.b, pin.block_hash.b, 32) != 0) why = "eth_getBlockByHash answered another block";
    else if (!json_is_object(p) || !root_node || !hex_to_bytes(root_node, &node) || !json_is_array(storage) ||
             json_array_size(storage) != n)
        why = "eth_getProof: malformed answer";
    else {
        hash32 h;
        keccak256(node.data, node.len, h.b);
        if (memcmp(h.b, state_root.b, 32) != 0) why = "eth_getProof: the proof's root is not the block's stateRoot";
    }
    bytebuf_free(&node);
    if (why) {
        rpc_fail(err, RPC_SERVER_ERROR, "upstream %s: %s (block %s)", upstream_name(live.up), why, bh);
    } else {
        for (size_t i = 0; i < n; i++) {
            json_t *entry = json_array_get(storage, i);
            hash32 k;
            u256_store_be(k.b, &keys[i]);
            if (json_is_object(entry))
                json_object_set_new(entry, "key", key_bytes[i] == 32 ? jv_hash(&k) : jv_quantity(&keys[i]));
        }
        *result = json_incref(results[1]);
    }
    json_decref(results[0]);
    json_decref(results[1]);
    return true;
}

static bool fetch_block_hash(void *ctx, const hash32 *at, uint64_t number, hash32 *out, bool *found,
                             store_error *err)
{
    (void)ctx, (void)at; /* BLOCKHASH asks only for ancestors of the head, which has their hashes by number */
    *found = false;
    char n[32];
    snprintf(n, sizeof n, "0x%" PRIx64, number);
    json_t *params = json_pack("[s,b]", n, 0), *result = NULL;
    upstream_error ue;
    bool ok = upstream_call(live.up, "eth_getBlockByNumber", params, &result, &ue);
    json_decref(params);
    if (!ok) return failed(err, &ue);
    if (json_is_null(result)) {
        json_decref(result);
        return true;
    }
    hj_error he;
    ok = hj_get_hash(result, "hash", out, &he);
    json_decref(result);
    if (!ok) return malformed(err, "eth_getBlockByNumber", &he);
    *found = true;
    return true;
}

bool live_attach(store *s, store_conn *c, const rpc_config *cfg, bool *is_live, store_error *err)
{
    store_live_pin pin;
    if (!store_get_live_pin(c, &pin, is_live, err)) return false;
    if (!*is_live) return true;
    upstream_error ue;
    live.up = upstream_new(pin.url, NULL, &ue);
    if (!live.up) return store_fail(err, "%s", ue.msg);
    live.block_hash = pin.block_hash;
    live.block_number = pin.block_number;
    live.s = s;
    atomic_store(&proof_mode, PROOF_UNKNOWN);
    store_fetcher f = {.account = fetch_account, .slot = fetch_slot, .block_hash = fetch_block_hash,
                       .many = fetch_many, .more = fetch_more};
    store_set_fetcher(s, &f);
    live.no_forward = cfg->no_forward;
    rpc_live = (rpc_live_hooks){.before = before_call, .after = after_call, .warm_call = warm_call, .forward = forward, .forward_state = forward_state, .proof = prove,
                                .head_block = head_block,
                                .upstream = upstream_name(live.up)};
    char h[HEX_HASH_LEN];
    hex_from_hash(&pin.block_hash, h);
    log_info("live: state from %s at block %" PRIu64 " (%s); SQLite first, misses fetched and kept",
             upstream_name(live.up), pin.block_number, h);
    if (cfg->follow) {
        follow_options fo = {.interval_ms = (unsigned)cfg->follow_interval_ms, .drift_every = cfg->drift_every};
        snprintf(fo.tag, sizeof fo.tag, "%s", cfg->follow_tag);
        if (!follow_start(s, live.up, &fo, err)) {
            live_detach(s);
            return false;
        }
    }
    return true;
}

bool live_refuses_switch(store_conn *next, store_error *err)
{
    if (live.up) {
        store_fail(err, "live mode: the database follows (or is pinned to) the upstream %s, which keeps it current; "
                        "a live database is not switched by SIGHUP (restart jitevm serve to serve another file)",
                   upstream_name(live.up));
        return true;
    }
    store_live_pin pin;
    bool is_live;
    if (!store_get_live_pin(next, &pin, &is_live, err)) return true;
    if (!is_live) return false;
    store_fail(err, "the new file is a live database (made by init --fork-url): live mode starts with jitevm serve, "
                    "not with a SIGHUP switch (restart jitevm serve on it)");
    return true;
}

void live_detach(store *s)
{
    if (!live.up) return;
    follow_stop();
    rpc_live = (rpc_live_hooks){0};
    pthread_mutex_lock(&head_block_memo.lock);
    head_block_memo_drop();
    pthread_mutex_unlock(&head_block_memo.lock);
    store_set_fetcher(s, NULL);
    upstream_free(live.up);
    memset(&live, 0, sizeof live);
}

void live_metrics_render(bytebuf *out)
{
    if (!live.up) return;
    upstream_stats st = upstream_get_stats(live.up);
    bytebuf_printf(out,
                   "# HELP jitevm_upstream_requests_total HTTP requests sent to the upstream (retries included).\n"
                   "# TYPE jitevm_upstream_requests_total counter\njitevm_upstream_requests_total %" PRIu64 "\n"
                   "# HELP jitevm_upstream_calls_total JSON-RPC requests carried to the upstream.\n"
                   "# TYPE jitevm_upstream_calls_total counter\njitevm_upstream_calls_total %" PRIu64 "\n"
                   "# HELP jitevm_upstream_errors_total Upstream fetches that failed.\n"
                   "# TYPE jitevm_upstream_errors_total counter\njitevm_upstream_errors_total %" PRIu64 "\n"
                   "# HELP jitevm_upstream_seconds_total Time spent in upstream HTTP requests.\n"
                   "# TYPE jitevm_upstream_seconds_total counter\njitevm_upstream_seconds_total %.6f\n"
                   "# HELP jitevm_upstream_reachable 1 when the last upstream request got an answer, 0 when not.\n"
                   "# TYPE jitevm_upstream_reachable gauge\njitevm_upstream_reachable %d\n",
                   st.requests, st.calls, st.errors, st.seconds, st.down ? 0 : 1);
    store_live_stats ls = store_get_live_stats(live.s);
    bytebuf_printf(out, "# HELP jitevm_live_cache_total Live-mode reads, by kind: hit (SQLite) or miss (fetched).\n"
                        "# TYPE jitevm_live_cache_total counter\n");
    for (int k = 0; k < LIVE_KIND_COUNT; k++)
        bytebuf_printf(out,
                       "jitevm_live_cache_total{kind=\"%s\",result=\"hit\"} %" PRIu64 "\n"
                       "jitevm_live_cache_total{kind=\"%s\",result=\"miss\"} %" PRIu64 "\n",
                       store_live_kind_name(k), ls.hits[k], store_live_kind_name(k), ls.misses[k]);
    bytebuf_printf(out, "# HELP jitevm_live_stale_total Fetched values not cached: the next block was applied meanwhile.\n"
                        "# TYPE jitevm_live_stale_total counter\njitevm_live_stale_total %" PRIu64 "\n", ls.stale);
    bytebuf_printf(out,
                   "# HELP jitevm_live_calls_fetching_total Calls that fetched from the upstream (cold calls).\n"
                   "# TYPE jitevm_live_calls_fetching_total counter\njitevm_live_calls_fetching_total %" PRIu64 "\n"
                   "# HELP jitevm_live_call_round_trips_total Upstream round trips made by those calls (divide by the "
                   "calls for round trips per cold call).\n"
                   "# TYPE jitevm_live_call_round_trips_total counter\njitevm_live_call_round_trips_total %" PRIu64 "\n",
                   ls.calls_fetching, ls.call_fetches);
    bytebuf_printf(out,
                   "# HELP jitevm_live_prefetch_total Batches fetched before a call (the keys it read last time, or "
                   "the upstream's access list for it).\n"
                   "# TYPE jitevm_live_prefetch_total counter\njitevm_live_prefetch_total %" PRIu64 "\n"
                   "# HELP jitevm_live_prefetch_keys_total Accounts and slots those batches asked for.\n"
                   "# TYPE jitevm_live_prefetch_keys_total counter\njitevm_live_prefetch_keys_total %" PRIu64 "\n",
                   ls.prefetches, ls.prefetched_keys);
    follow_stats fs;
    if (!follow_get_stats(&fs)) return;
    uint64_t lag = fs.upstream_head > fs.head ? fs.upstream_head - fs.head : 0;
    uint64_t lag_s = fs.upstream_head_time > fs.head_time ? fs.upstream_head_time - fs.head_time : 0;
    bytebuf_printf(out,
                   "# HELP jitevm_follow_blocks_applied_total Upstream blocks applied to the cache.\n"
                   "# TYPE jitevm_follow_blocks_applied_total counter\njitevm_follow_blocks_applied_total %" PRIu64 "\n"
                   "# HELP jitevm_follow_reorgs_total Reorgs walked back over the kept undo records.\n"
                   "# TYPE jitevm_follow_reorgs_total counter\njitevm_follow_reorgs_total %" PRIu64 "\n"
                   "# HELP jitevm_follow_blocks_undone_total Blocks undone by those walks.\n"
                   "# TYPE jitevm_follow_blocks_undone_total counter\njitevm_follow_blocks_undone_total %" PRIu64 "\n"
                   "# HELP jitevm_follow_cache_drops_total Cached state dropped (a reorg deeper than kept, or drift).\n"
                   "# TYPE jitevm_follow_cache_drops_total counter\njitevm_follow_cache_drops_total %" PRIu64 "\n"
                   "# HELP jitevm_follow_drift_checks_total Drift checks made.\n"
                   "# TYPE jitevm_follow_drift_checks_total counter\njitevm_follow_drift_checks_total %" PRIu64 "\n"
                   "# HELP jitevm_follow_drift_total Cached values found different from the upstream's.\n"
                   "# TYPE jitevm_follow_drift_total counter\njitevm_follow_drift_total %" PRIu64 "\n"
                   "# HELP jitevm_follow_errors_total Follow steps that failed (upstream errors, bad blocks).\n"
                   "# TYPE jitevm_follow_errors_total counter\njitevm_follow_errors_total %" PRIu64 "\n"
                   "# HELP jitevm_follow_head The block the database is at.\n"
                   "# TYPE jitevm_follow_head gauge\njitevm_follow_head %" PRIu64 "\n"
                   "# HELP jitevm_follow_upstream_head The upstream's head (the followed tag) at the last poll.\n"
                   "# TYPE jitevm_follow_upstream_head gauge\njitevm_follow_upstream_head %" PRIu64 "\n"
                   "# HELP jitevm_follow_lag_blocks Blocks the database is behind the upstream.\n"
                   "# TYPE jitevm_follow_lag_blocks gauge\njitevm_follow_lag_blocks %" PRIu64 "\n"
                   "# HELP jitevm_follow_lag_seconds The upstream head's timestamp minus the database head's.\n"
                   "# TYPE jitevm_follow_lag_seconds gauge\njitevm_follow_lag_seconds %" PRIu64 "\n"
                   "# HELP jitevm_follow_apply_seconds Time to fetch and apply the last block.\n"
                   "# TYPE jitevm_follow_apply_seconds gauge\njitevm_follow_apply_seconds %.6f\n",
                   fs.blocks_applied, fs.reorgs, fs.blocks_undone, fs.cache_drops, fs.drift_checks, fs.drift,
                   fs.errors, fs.head, fs.upstream_head, lag, lag_s, fs.last_apply_seconds);
}

/* `,"upstreamReachable":...`: whether the last request to the upstream
 * got an answer, and when not, for how long and why. */
static void health_reachability(bytebuf *out)
{
    upstream_stats st = upstream_get_stats(live.up);
    if (!st.down) {
        bytebuf_printf(out, ",\"upstreamReachable\":true");
        return;
    }
    json_t *why = json_string(st.down_reason);
    char *quoted = why ? json_dumps(why, JSON_ENCODE_ANY) : NULL;
    bytebuf_printf(out, ",\"upstreamReachable\":false,\"upstreamDownSeconds\":%.1f,\"upstreamError\":%s", st.down_seconds,
                   quoted ? quoted : "\"\"");
    free(quoted);
    json_decref(why);
}

void live_health(bytebuf *out, uint64_t max_lag, bool *lagging)
{
    *lagging = false;
    if (!live.up) return;
    follow_stats fs;
    if (!follow_get_stats(&fs)) {
        bytebuf_printf(out, ",\"live\":{\"upstream\":\"%s\",\"following\":false,\"head\":%" PRIu64,
                       upstream_name(live.up), live.block_number);
        health_reachability(out);
        bytebuf_printf(out, "}");
        return;
    }
    uint64_t lag = fs.upstream_head > fs.head ? fs.upstream_head - fs.head : 0;
    uint64_t lag_s = fs.upstream_head_time > fs.head_time ? fs.upstream_head_time - fs.head_time : 0;
    *lagging = max_lag && lag > max_lag;
    bytebuf_printf(out,
                   ",\"live\":{\"upstream\":\"%s\",\"following\":true,\"head\":%" PRIu64 ",\"upstreamHead\":%" PRIu64
                   ",\"lagBlocks\":%" PRIu64 ",\"lagSeconds\":%" PRIu64 ",\"maxLagBlocks\":%" PRIu64,
                   upstream_name(live.up), fs.head, fs.upstream_head, lag, lag_s, max_lag);
    health_reachability(out);
    bytebuf_printf(out, "}");
}

bool live_fetch_head(upstream *u, const char *block, uint64_t *chain_id, block_header *head, upstream_error *err)
{
    char tag[32];
    uint64_t n;
    if (strcmp(block, "latest") == 0 || strcmp(block, "finalized") == 0 || strcmp(block, "safe") == 0)
        snprintf(tag, sizeof tag, "%s", block);
    else if (hex_to_u64(block, &n) || (block[0] >= '0' && block[0] <= '9' && sscanf(block, "%" SCNu64, &n) == 1))
        snprintf(tag, sizeof tag, "0x%" PRIx64, n);
    else {
        snprintf(err->msg, sizeof err->msg, "--fork-block: expected a number, latest, safe or finalized, got '%s'",
                 block);
        return false;
    }
    static const char *const methods[2] = {"eth_chainId", "eth_getBlockByNumber"};
    json_t *params[2] = {json_array(), json_pack("[s,b]", tag, 0)}, *results[2] = {NULL, NULL};
    bool ok = upstream_batch(u, 2, methods, params, results, err);
    json_decref(params[0]);
    json_decref(params[1]);
    if (!ok) return false;
    hj_error he;
    if (!hj_u64(results[0], "chain id", chain_id, &he)) {
        snprintf(err->msg, sizeof err->msg, "upstream %s: malformed eth_chainId answer: %s", upstream_name(u), he.msg);
        ok = false;
    } else if (json_is_null(results[1])) {
        snprintf(err->msg, sizeof err->msg, "upstream %s: no block %s", upstream_name(u), tag);
        ok = false;
    } else if (!block_header_from_json(results[1], head, &he)) {
        snprintf(err->msg, sizeof err->msg, "upstream %s: malformed block %s: %s", upstream_name(u), tag, he.msg);
        ok = false;
    }
    json_decref(results[0]);
    json_decref(results[1]);
    return ok;
}
