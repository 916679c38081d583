#include "follow.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/keccak.h"
#include "base/trie.h"
#include "block_header.h"
#include "hexjson.h"
#include "log.h"
#include "rpc/rpc.h"

static struct {
    store *s;
    upstream *up;
    follow_options o;
    uint64_t applied_since_drift;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    pthread_mutex_t lock;
    follow_stats stats;
} fw = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The system contracts written outside transactions each block. */
static const char *const system_contracts[] = {
    "0x000f3df6d732807ef1319fb7b8bb8522d0beac02", /* EIP-4788 beacon roots */
    "0x0000f90827f1c53a10cb7a02335b175320002935", /* EIP-2935 block hashes */
    "0x00000961ef480eb55e80d19ad83579a64c007002", /* EIP-7002 withdrawal requests */
    "0x0000bbddc7ce488642fb579f8b00f3a590007251", /* EIP-7251 consolidation requests */
};

static json_t *trace_params(uint64_t number)
{
    char n[32];
    snprintf(n, sizeof n, "0x%" PRIx64, number);
    return json_pack("[s,{s:s,s:{s:b}}]", n, "tracer", "prestateTracer", "tracerConfig", "diffMode", 1);
}

static json_t *block_params(const char *tag_or_number)
{
    return json_pack("[s,b]", tag_or_number, 0);
}

/* A nonce as prestateTracer writes it: a JSON number (geth) or a quantity. */
static bool diff_nonce(const json_t *v, uint64_t *out, hj_error *he)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return true;
    }
    return hj_u64(v, "nonce", out, he);
}

/* One account of a transaction's diff. */
static bool apply_account_diff(store_conn *c, const char *addr_hex, const json_t *pre, const json_t *post,
                               store_error *err)
{
    address a;
    if (!hex_to_address(addr_hex, &a)) return store_fail(err, "diff: bad address %s", addr_hex);
    if (!post) return store_live_apply_account(c, &a, 0, NULL, NULL, 0, err); /* deleted */
    hj_error he;
    account_info info = {.code_hash = KECCAK_EMPTY};
    int fields = 0;
    bytebuf code = {0};
    const json_t *v;
    bool ok = true;
    if ((v = json_object_get(post, "balance"))) {
        fields |= LIVE_BALANCE;
        ok = hj_u256(v, "balance", &info.balance, &he);
    }
    if (ok && (v = json_object_get(post, "nonce"))) {
        fields |= LIVE_NONCE;
        ok = diff_nonce(v, &info.nonce, &he);
    }
    if (ok && (v = json_object_get(post, "code"))) {
        fields |= LIVE_CODE;
        ok = hj_bytes(v, "code", &code, &he);
        if (ok && code.len) keccak256(code.data, code.len, info.code_hash.b);
    }
    if (!ok) {
        bytebuf_free(&code);
        return store_fail(err, "diff of %s: %s", addr_hex, he.msg);
    }
    ok = !fields || store_live_apply_account(c, &a, fields, &info, code.data, code.len, err);
    bytebuf_free(&code);
    const json_t *post_st = json_object_get(post, "storage"), *pre_st = pre ? json_object_get(pre, "storage") : NULL;
    const char *k;
    json_t *val;
    bool marked = false;
    json_object_foreach((json_t *)post_st, k, val) {
        u256 key, value;
        if (ok && (!hex_to_u256(k, &key) || !hj_u256(val, "slot value", &value, &he)))
            ok = store_fail(err, "diff of %s: bad slot %s", addr_hex, k);
        if (ok) ok = store_live_apply_slot(c, &a, &key, &value, err);
        if (ok && !u256_is_zero(&value) && !marked) ok = marked = store_live_mark_storage(c, &a, err);
    }
    /* In pre, not in post: cleared. */
    json_object_foreach((json_t *)pre_st, k, val) {
        if (post_st && json_object_get(post_st, k)) continue;
        u256 key, zero = u256_zero();
        if (ok && !hex_to_u256(k, &key)) ok = store_fail(err, "diff of %s: bad slot %s", addr_hex, k);
        if (ok) ok = store_live_apply_slot(c, &a, &key, &zero, err);
    }
    return ok;
}

static bool apply_withdrawals(store_conn *c, const json_t *block, store_error *err)
{
    const json_t *ws = json_object_get(block, "withdrawals");
    size_t i;
    json_t *w;
    json_array_foreach((json_t *)ws, i, w) {
        address a;
        uint64_t gwei;
        hj_error he;
        if (!hj_get_address(w, "address", &a, &he) || !hj_get_u64(w, "amount", &gwei, &he))
            return store_fail(err, "withdrawal %zu: %s", i, he.msg);
        /* Only a held account changes (reading one not held would fetch it
         * from inside this transaction). */
        u256 amount = u256_from_u64(gwei), giga = u256_from_u64(1000000000);
        amount = u256_mul(&amount, &giga);
        if (!store_live_add_balance(c, &a, &amount, err)) return false;
    }
    return true;
}

/* Applies block header `hdr_json` with its traces, in one transaction. */
static bool apply_block(store_conn *c, const store_live_pin *pin, const json_t *hdr_json, const json_t *traces,
                        const block_header *hdr, uint64_t chain_id, store_error *err)
{
    if (!store_begin(c, err)) return false;
    store_live_undo_begin(c);
    bool ok = true;
    size_t i;
    json_t *tx;
    json_array_foreach((json_t *)traces, i, tx) {
        const json_t *r = json_object_get(tx, "result");
        const json_t *pre = json_object_get(r, "pre"), *post = json_object_get(r, "post");
        if (!ok) break;
        if (!json_is_object(pre) || !json_is_object(post)) {
            ok = store_fail(err, "transaction %zu: the trace has no pre/post (diffMode not served?)", i);
            break;
        }
        const char *addr;
        json_t *acc;
        json_object_foreach((json_t *)pre, addr, acc) {
            if (ok && !json_object_get(post, addr)) ok = apply_account_diff(c, addr, acc, NULL, err);
        }
        json_object_foreach((json_t *)post, addr, acc) {
            if (ok) ok = apply_account_diff(c, addr, json_object_get(pre, addr), acc, err);
        }
    }
    if (ok) ok = apply_withdrawals(c, hdr_json, err);
    for (size_t k = 0; ok && k < sizeof system_contracts / sizeof system_contracts[0]; k++) {
        address a;
        hex_to_address(system_contracts[k], &a);
        ok = store_live_forget(c, &a, err);
    }
    block_env env = hdr->env;
    env.chain_id = u256_from_u64(chain_id);
    if (ok) ok = store_set_head_block(c, &env, &hdr->hash, env.number ? &hdr->parent_hash : NULL, err);
    if (ok) ok = store_set_head_usage(c, hdr->gas_used, hdr->blob_gas_used, err);
    store_live_pin next = *pin;
    next.block_number = env.number;
    next.block_hash = hdr->hash;
    if (ok) ok = store_set_live_pin(c, &next, err);
    if (ok) ok = store_live_undo_save(c, env.number, &hdr->hash, &hdr->parent_hash, FOLLOW_UNDO_KEEP, err);
    if (ok) return store_commit(c, err);
    store_rollback(c);
    return false;
}

/* The cache dropped and the database pinned to `hdr`: after a reorg deeper
 * than the records kept, or drift. */
static bool repin(store_conn *c, const store_live_pin *pin, const block_header *hdr, uint64_t chain_id,
                  store_error *err)
{
    if (!store_begin(c, err)) return false;
    block_env env = hdr->env;
    env.chain_id = u256_from_u64(chain_id);
    store_live_pin next = *pin;
    next.block_number = env.number;
    next.block_hash = hdr->hash;
    bool ok = store_live_drop_cache(c, err) && store_live_undo_clear(c, err) &&
              store_set_head_block(c, &env, &hdr->hash, env.number ? &hdr->parent_hash : NULL, err) &&
              store_set_head_usage(c, hdr->gas_used, hdr->blob_gas_used, err) && store_set_live_pin(c, &next, err);
    if (ok) return store_commit(c, err);
    store_rollback(c);
    return false;
}

static void count(uint64_t *counter, uint64_t by)
{
    pthread_mutex_lock(&fw.lock);
    *counter += by;
    pthread_mutex_unlock(&fw.lock);
}

static void note_head(const block_header *h)
{
    pthread_mutex_lock(&fw.lock);
    fw.stats.head = h->env.number;
    fw.stats.head_time = h->env.timestamp;
    pthread_mutex_unlock(&fw.lock);
}

/* A header from the upstream: a tag or a number; *missing when it has no
 * such block. */
static bool fetch_header(const char *tag, uint64_t number, block_header *out, bool *missing)
{
    char n[32];
    if (!tag) snprintf(n, sizeof n, "0x%" PRIx64, number);
    json_t *p = block_params(tag ? tag : n), *r = NULL;
    upstream_error ue;
    bool ok = upstream_call(fw.up, "eth_getBlockByNumber", p, &r, &ue);
    json_decref(p);
    *missing = ok && json_is_null(r);
    hj_error he;
    if (ok && !*missing && !block_header_from_json(r, out, &he)) {
        log_warn("follow: the upstream's block %s: %s", tag ? tag : n, he.msg);
        ok = false;
    }
    json_decref(r);
    return ok && !*missing;
}

static bool drop_and_repin(store_conn *c, const store_live_pin *pin, const block_header *to, uint64_t chain_id,
                           const char *why)
{
    store_error err;
    if (!repin(c, pin, to, chain_id, &err)) {
        log_warn("follow: dropping the cache (%s) failed: %s", why, err.msg);
        return false;
    }
    log_notice("follow: %s: the cached state was dropped (code and compiled programs kept); pinned to block %" PRIu64,
               why, to->env.number);
    note_head(to);
    count(&fw.stats.cache_drops, 1);
    rpc_note_write();
    return true;
}

/* The pinned block left the upstream's chain: back to the common ancestor
 * over the kept undo records, or (deeper, or a record missing) a dropped
 * cache pinned to `head`. */
static bool walk_back(store_conn *c, const store_live_pin *pin, const block_header *head, uint64_t chain_id)
{
    block_header anc;
    bool found = false;
    uint64_t h = pin->block_number;
    for (unsigned depth = 0; depth <= FOLLOW_UNDO_KEEP && !found; depth++, h--) {
        bool missing;
        if (!fetch_header(NULL, h, &anc, &missing)) {
            if (!missing) return false; /* the upstream failed: try again later */
        } else {
            hash32 ours;
            bool known = h == pin->block_number;
            store_error err;
            if (known) ours = pin->block_hash;
            else if (!store_get_block_hash(c, h, &ours, &known, &err)) return false;
            found = known && memcmp(ours.b, anc.hash.b, 32) == 0;
        }
        if (found || h == 0) break;
    }
    if (!found) return drop_and_repin(c, pin, head, chain_id, "a reorg deeper than the blocks kept");
    store_error err;
    if (!store_begin(c, &err)) return false;
    bool ok = true, kept = true;
    for (uint64_t b = pin->block_number; ok && kept && b > anc.env.number; b--)
        ok = store_live_undo_block(c, b, &kept, &err);
    block_env env = anc.env;
    env.chain_id = u256_from_u64(chain_id);
    store_live_pin next = *pin;
    next.block_number = env.number;
    next.block_hash = anc.hash;
    if (ok && kept)
        ok = store_set_head_block(c, &env, &anc.hash, env.number ? &anc.parent_hash : NULL, &err) &&
             store_set_head_usage(c, anc.gas_used, anc.blob_gas_used, &err) && store_set_live_pin(c, &next, &err) &&
             store_commit(c, &err);
    if (!ok || !kept) {
        store_rollback(c);
        if (!ok) {
            log_warn("follow: undoing blocks after %" PRIu64 ": %s", anc.env.number, err.msg);
            return false;
        }
        return drop_and_repin(c, pin, head, chain_id, "a reorg over a block whose undo record is not kept");
    }
    uint64_t undone = pin->block_number - anc.env.number;
    log_notice("follow: reorg: %" PRIu64 " block(s) after %" PRIu64 " undone from the kept records; following the "
               "new branch", undone, anc.env.number);
    note_head(&anc);
    pthread_mutex_lock(&fw.lock);
    fw.stats.reorgs++;
    fw.stats.blocks_undone += undone;
    pthread_mutex_unlock(&fw.lock);
    rpc_note_write();
    return true;
}

/* Waits `ms` milliseconds, in steps of 10 so that follow_stop need not
 * wait: false when the thread is being stopped. */
static bool wait_ms(unsigned ms)
{
    for (unsigned waited = 0; waited < ms && !atomic_load(&fw.stop); waited += 10)
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000L}, NULL);
    return !atomic_load(&fw.stop);
}

/* The upstream's values of keys[idx[0..m)] at the pin, with its block at
 * the pin's height asked last in the same batch, so that a reorg upstream
 * before the values were read is seen (a node may answer for a block it
 * has just dropped from the state it now has: not a drift, a reorg the
 * next step walks back). false: the upstream failed or the block is
 * another now (*replaced); else values[j] and read[j] for idx[j]. */
static bool upstream_values(const store_live_pin *pin, const store_live_key *keys, const size_t *idx, size_t m,
                            u256 *values, bool *read, hj_error *why, bool *replaced)
{
    const char *methods[FOLLOW_DRIFT_SAMPLE + 1];
    json_t *params[FOLLOW_DRIFT_SAMPLE + 1], *results[FOLLOW_DRIFT_SAMPLE + 1] = {0};
    char at[HEX_HASH_LEN];
    hex_from_hash(&pin->block_hash, at);
    for (size_t j = 0; j < m; j++) {
        const store_live_key *k = &keys[idx[j]];
        char addr[HEX_ADDRESS_LEN], key[HEX_U256_LEN];
        hex_from_address(&k->a, addr);
        hex_from_u256(&k->key, key);
        methods[j] = k->is_slot ? "eth_getStorageAt" : "eth_getBalance";
        params[j] = k->is_slot ? json_pack("[s,s,{s:s}]", addr, key, "blockHash", at)
                               : json_pack("[s,{s:s}]", addr, "blockHash", at);
    }
    char number[32];
    snprintf(number, sizeof number, "0x%" PRIx64, pin->block_number);
    methods[m] = "eth_getBlockByNumber";
    params[m] = block_params(number);
    upstream_error ue;
    bool ok = upstream_batch(fw.up, m + 1, methods, params, results, &ue);
    for (size_t j = 0; j <= m; j++) json_decref(params[j]);
    *replaced = false;
    if (!ok) return false; /* the upstream's error is logged and counted there */
    hash32 canonical;
    hj_error bhe;
    *replaced = !(json_is_object(results[m]) && hj_get_hash(results[m], "hash", &canonical, &bhe) &&
                  memcmp(canonical.b, pin->block_hash.b, 32) == 0);
    for (size_t j = 0; j < m; j++) {
        read[j] = !*replaced && hj_u256(results[j], "value", &values[j], &why[j]);
        json_decref(results[j]);
    }
    json_decref(results[m]);
    return !*replaced;
}

/* A sample of cached balances and slots against the upstream at the pin.
 * A difference counts only when the upstream gives the same answer again
 * a moment later: a node may answer for its head block from the state the
 * next block is being written to (anvil does, under a steady stream of
 * blocks: tests/soak_live.py), which is the upstream's slip, not drift. */
static void drift_check(store_conn *c, const store_live_pin *pin, const block_header *head, uint64_t chain_id)
{
    store_live_key keys[FOLLOW_DRIFT_SAMPLE];
    u256 cached[FOLLOW_DRIFT_SAMPLE], got[FOLLOW_DRIFT_SAMPLE];
    bool read[FOLLOW_DRIFT_SAMPLE], replaced;
    hj_error why[FOLLOW_DRIFT_SAMPLE];
    size_t idx[FOLLOW_DRIFT_SAMPLE], n;
    store_error err;
    if (!store_live_sample(c, keys, cached, FOLLOW_DRIFT_SAMPLE, &n, &err)) {
        log_warn("follow: drift check: %s", err.msg);
        return;
    }
    if (n == 0) return;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    size_t m = n;
    /* Asked twice at most: the sample, then what differed. */
    for (int round = 0; round < 2 && m > 0; round++) {
        if (round == 1 && !wait_ms(FOLLOW_DRIFT_CONFIRM_MS)) return;
        if (!upstream_values(pin, keys, idx, m, got, read, why, &replaced)) {
            if (replaced)
                log_info("follow: drift check at block %" PRIu64 " skipped: the upstream's block there is another now "
                         "(a reorg)", pin->block_number);
            return;
        }
        size_t still = 0;
        for (size_t j = 0; j < m; j++)
            if (!read[j] || !u256_eq(&got[j], &cached[idx[j]])) {
                idx[still] = idx[j];
                got[still] = got[j];
                read[still] = read[j];
                why[still] = why[j];
                still++;
            }
        if (round == 1 && still < m)
            log_info("follow: drift check at block %" PRIu64 ": %zu difference(s) not given again by the upstream "
                     "(it answered from a later state): not counted", pin->block_number, m - still);
        m = still;
    }
    for (size_t j = 0; j < m; j++) {
        const store_live_key *k = &keys[idx[j]];
        char addr[HEX_ADDRESS_LEN], key[HEX_U256_LEN], cv[HEX_U256_LEN], uv[HEX_U256_LEN];
        hex_from_address(&k->a, addr);
        hex_from_u256(&k->key, key);
        hex_from_u256(&cached[idx[j]], cv);
        if (read[j]) hex_from_u256(&got[j], uv);
        log_warn("follow: drift at block %" PRIu64 ": %s of %s%s%s: cached %s, upstream %s", pin->block_number,
                 k->is_slot ? "slot" : "balance", addr, k->is_slot ? " " : "", k->is_slot ? key : "", cv,
                 read[j] ? uv : why[j].msg);
    }
    pthread_mutex_lock(&fw.lock);
    fw.stats.drift_checks++;
    fw.stats.drift += m;
    pthread_mutex_unlock(&fw.lock);
    if (m) drop_and_repin(c, pin, head, chain_id, "drift (the cache differs from the upstream)");
}

/* One step: catch up by one block, or walk back a reorg; false when there
 * is nothing to do or it failed (then wait). */
static bool step(store_conn *c, uint64_t chain_id)
{
    store_error err;
    store_live_pin pin;
    bool found, missing;
    if (!store_get_live_pin(c, &pin, &found, &err) || !found) return false;
    /* The upstream's head header: its number says whether there is a
     * block to apply, its hash whether the pinned block is still there. */
    block_header remote;
    if (!fetch_header(fw.o.tag, 0, &remote, &missing)) {
        count(&fw.stats.errors, 1);
        return false;
    }
    pthread_mutex_lock(&fw.lock);
    fw.stats.upstream_head = remote.env.number;
    fw.stats.upstream_head_time = remote.env.timestamp;
    fw.stats.polled = true;
    pthread_mutex_unlock(&fw.lock);
    if (remote.env.number < pin.block_number) {
        /* Behind the pin: a finalized tag behind a pin taken at latest, or
         * a node lagging; a reorg onto a shorter branch when the block at
         * its height is not ours. */
        hash32 ours;
        bool known;
        if (!store_get_block_hash(c, remote.env.number, &ours, &known, &err) || !known ||
            memcmp(ours.b, remote.hash.b, 32) == 0)
            return false;
        return walk_back(c, &pin, &remote, chain_id);
    }
    if (remote.env.number == pin.block_number) {
        if (memcmp(remote.hash.b, pin.block_hash.b, 32) == 0) return false;
        return walk_back(c, &pin, &remote, chain_id);
    }
    uint64_t next = pin.block_number + 1;
    char n[32];
    snprintf(n, sizeof n, "0x%" PRIx64, next);
    static const char *const methods[2] = {"eth_getBlockByNumber", "debug_traceBlockByNumber"};
    json_t *params[2] = {block_params(n), trace_params(next)}, *results[2] = {NULL, NULL};
    upstream_error ue;
    bool ok = upstream_batch(fw.up, 2, methods, params, results, &ue);
    json_decref(params[0]);
    json_decref(params[1]);
    if (!ok) {
        count(&fw.stats.errors, 1);
        return false;
    }
    block_header hdr;
    hj_error he;
    bool progressed = false, applied = false;
    uint64_t t0 = monotonic_ns();
    memset(&hdr, 0, sizeof hdr);
    if (!block_header_from_json(results[0], &hdr, &he)) {
        log_warn("follow: block %" PRIu64 ": %s", next, he.msg);
    } else if (memcmp(hdr.parent_hash.b, pin.block_hash.b, 32) != 0) {
        progressed = walk_back(c, &pin, &remote, chain_id);
    } else if (apply_block(c, &pin, results[0], results[1], &hdr, chain_id, &err)) {
        applied = progressed = true;
        log_debug("follow: block %" PRIu64 " applied", next);
    } else {
        log_warn("follow: block %" PRIu64 " not applied: %s", next, err.msg);
    }
    json_decref(results[0]);
    json_decref(results[1]);
    if (!progressed) count(&fw.stats.errors, 1);
    if (!applied) return progressed;
    rpc_note_write(); /* calls at latest move to the new head */
    note_head(&hdr);
    pthread_mutex_lock(&fw.lock);
    fw.stats.blocks_applied++;
    fw.stats.last_apply_seconds = (double)(monotonic_ns() - t0) / 1e9;
    pthread_mutex_unlock(&fw.lock);
    if (fw.o.drift_every && ++fw.applied_since_drift >= fw.o.drift_every) {
        fw.applied_since_drift = 0;
        store_live_pin now = pin;
        now.block_number = hdr.env.number;
        now.block_hash = hdr.hash;
        drift_check(c, &now, &hdr, chain_id);
    }
    return true;
}

static void *follow_main(void *arg)
{
    (void)arg;
    store_error err;
    store_conn *c = store_connect(fw.s, &err);
    chain_config cfg;
    if (!c || !store_get_chain_config(c, &cfg, &err)) {
        log_error("follow: %s", err.msg);
        if (c) store_disconnect(c);
        return NULL;
    }
    while (!atomic_load(&fw.stop)) {
        if (step(c, cfg.chain_id)) continue; /* catching up: no wait */
        wait_ms(fw.o.interval_ms);
    }
    store_disconnect(c);
    return NULL;
}

bool follow_start(store *s, upstream *u, const follow_options *o, store_error *err)
{
    store_conn *c = store_connect(s, err);
    if (!c) return false;
    store_live_pin pin;
    bool found;
    block_env head;
    bool ok = store_get_live_pin(c, &pin, &found, err) && store_get_head(c, &head, err);
    uint64_t head_time = ok ? head.timestamp : 0;
    store_disconnect(c);
    if (!ok) return false;
    if (!found) return store_fail(err, "follow: the database is not live (create it with init --fork-url)");
    json_t *p = trace_params(pin.block_number), *r = NULL;
    upstream_error ue;
    if (!upstream_call(u, "debug_traceBlockByNumber", p, &r, &ue)) {
        json_decref(p);
        return store_fail(err, "follow: the upstream does not serve debug_traceBlockByNumber with prestateTracer "
                               "(diffMode), which following needs (%s); pinned mode works without it", ue.msg);
    }
    json_decref(p);
    json_decref(r);
    fw.s = s;
    fw.up = u;
    fw.o = *o;
    if (!fw.o.interval_ms) fw.o.interval_ms = 1000;
    if (!fw.o.tag[0]) snprintf(fw.o.tag, sizeof fw.o.tag, "latest");
    fw.applied_since_drift = 0;
    atomic_store(&fw.stop, false);
    memset(&fw.stats, 0, sizeof fw.stats);
    fw.stats.head = pin.block_number;
    fw.stats.head_time = head_time;
    if (pthread_create(&fw.thread, NULL, follow_main, NULL) != 0) return store_fail(err, "follow: cannot start a thread");
    fw.running = true;
    log_info("follow: tracking %s's %s block from block %" PRIu64 " every %u ms", upstream_name(u), fw.o.tag,
             pin.block_number, fw.o.interval_ms);
    return true;
}

void follow_stop(void)
{
    if (!fw.running) return;
    atomic_store(&fw.stop, true);
    pthread_join(fw.thread, NULL);
    fw.running = false;
}

bool follow_get_stats(follow_stats *out)
{
    if (!fw.running) return false;
    pthread_mutex_lock(&fw.lock);
    *out = fw.stats;
    pthread_mutex_unlock(&fw.lock);
    return true;
}
