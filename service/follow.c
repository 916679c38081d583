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
    unsigned interval_ms;
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
    json_object_foreach((json_t *)post_st, k, val) {
        u256 key, value;
        if (ok && (!hex_to_u256(k, &key) || !hj_u256(val, "slot value", &value, &he)))
            ok = store_fail(err, "diff of %s: bad slot %s", addr_hex, k);
        if (ok) ok = store_live_apply_slot(c, &a, &key, &value, err);
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
    state_backend b = store_backend(c);
    json_array_foreach((json_t *)ws, i, w) {
        address a;
        uint64_t gwei;
        hj_error he;
        if (!hj_get_address(w, "address", &a, &he) || !hj_get_u64(w, "amount", &gwei, &he))
            return store_fail(err, "withdrawal %zu: %s", i, he.msg);
        account_info info;
        if (!b.get_account(b.ctx, &a, &info)) memset(&info, 0, sizeof info);
        u256 amount = u256_from_u64(gwei), giga = u256_from_u64(1000000000);
        amount = u256_mul(&amount, &giga);
        info.balance = u256_add(&info.balance, &amount);
        if (!store_live_apply_account(c, &a, LIVE_BALANCE, &info, NULL, 0, err)) return false;
    }
    return true;
}

/* Applies block header `hdr_json` with its traces, in one transaction. */
static bool apply_block(store_conn *c, const store_live_pin *pin, const json_t *hdr_json, const json_t *traces,
                        const block_header *hdr, uint64_t chain_id, store_error *err)
{
    if (!store_begin(c, err)) return false;
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
    store_live_pin next = *pin;
    next.block_number = env.number;
    next.block_hash = hdr->hash;
    if (ok) ok = store_set_live_pin(c, &next, err);
    if (ok) return store_commit(c, err);
    store_rollback(c);
    return false;
}

/* A reorg: the cache is dropped and the database pinned to `hdr`. */
static bool repin(store_conn *c, const store_live_pin *pin, const block_header *hdr, uint64_t chain_id,
                  store_error *err)
{
    if (!store_begin(c, err)) return false;
    block_env env = hdr->env;
    env.chain_id = u256_from_u64(chain_id);
    store_live_pin next = *pin;
    next.block_number = env.number;
    next.block_hash = hdr->hash;
    bool ok = store_live_drop_cache(c, err) &&
              store_set_head_block(c, &env, &hdr->hash, env.number ? &hdr->parent_hash : NULL, err) &&
              store_set_live_pin(c, &next, err);
    if (ok) return store_commit(c, err);
    store_rollback(c);
    return false;
}

static void note(uint64_t head, uint64_t upstream_head, bool applied, bool reorg, bool error, double seconds)
{
    pthread_mutex_lock(&fw.lock);
    fw.stats.head = head;
    fw.stats.upstream_head = upstream_head;
    fw.stats.blocks_applied += applied;
    fw.stats.reorgs += reorg;
    fw.stats.errors += error;
    if (applied) fw.stats.last_apply_seconds = seconds;
    pthread_mutex_unlock(&fw.lock);
}

/* One step: catch up by one block (or repin on a reorg); false when there
 * is nothing to do or it failed (then wait). */
static bool step(store_conn *c, uint64_t chain_id)
{
    store_error err;
    store_live_pin pin;
    bool found;
    if (!store_get_live_pin(c, &pin, &found, &err) || !found) return false;
    /* The upstream's head header: its number says whether there is a
     * block to apply, its hash whether the pinned block is still there. */
    json_t *p = block_params("latest"), *latest_json = NULL;
    upstream_error ue;
    bool ok = upstream_call(fw.up, "eth_getBlockByNumber", p, &latest_json, &ue);
    json_decref(p);
    block_header latest;
    hj_error he;
    if (ok && !block_header_from_json(latest_json, &latest, &he)) {
        log_warn("follow: the upstream's latest block: %s", he.msg);
        ok = false;
    }
    json_decref(latest_json);
    if (!ok) {
        note(pin.block_number, 0, false, false, true, 0);
        return false;
    }
    uint64_t remote = latest.env.number;
    if (remote <= pin.block_number) {
        bool same = remote == pin.block_number && memcmp(latest.hash.b, pin.block_hash.b, 32) == 0;
        bool reorg = !same; /* the pinned block is no longer the upstream's at its number */
        if (reorg && repin(c, &pin, &latest, chain_id, &err)) {
            log_notice("follow: the pinned block %" PRIu64 " left the upstream's chain: the cached state was "
                       "dropped; pinned to block %" PRIu64, pin.block_number, remote);
            rpc_note_write();
            note(remote, remote, false, true, false, 0);
            return true;
        }
        note(pin.block_number, remote, false, false, reorg, 0);
        return false;
    }
    uint64_t next = pin.block_number + 1;
    char n[32];
    snprintf(n, sizeof n, "0x%" PRIx64, next);
    static const char *const methods[2] = {"eth_getBlockByNumber", "debug_traceBlockByNumber"};
    json_t *params[2] = {block_params(n), trace_params(next)}, *results[2] = {NULL, NULL};
    ok = upstream_batch(fw.up, 2, methods, params, results, &ue);
    json_decref(params[0]);
    json_decref(params[1]);
    if (!ok) {
        note(pin.block_number, remote, false, false, true, 0);
        return false;
    }
    block_header hdr;
    bool reorg = false, applied = false;
    uint64_t t0 = monotonic_ns();
    memset(&hdr, 0, sizeof hdr);
    if (!block_header_from_json(results[0], &hdr, &he)) {
        log_warn("follow: block %" PRIu64 ": %s", next, he.msg);
    } else if (memcmp(hdr.parent_hash.b, pin.block_hash.b, 32) != 0) {
        /* A reorg: pin the upstream's latest block with an empty cache. */
        if (repin(c, &pin, &latest, chain_id, &err)) {
            reorg = true;
            hdr = latest;
            log_notice("follow: reorg at block %" PRIu64 ": the cached state was dropped; pinned to block %" PRIu64,
                       next, latest.env.number);
        }
    } else if (apply_block(c, &pin, results[0], results[1], &hdr, chain_id, &err)) {
        applied = true;
        log_debug("follow: block %" PRIu64 " applied", next);
    } else {
        log_warn("follow: block %" PRIu64 " not applied: %s", next, err.msg);
    }
    json_decref(results[0]);
    json_decref(results[1]);
    if (applied || reorg) rpc_note_write(); /* calls at latest move to the new head */
    note(applied ? next : (reorg ? hdr.env.number : pin.block_number), remote, applied, reorg, !(applied || reorg),
         (double)(monotonic_ns() - t0) / 1e9);
    return applied || reorg;
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
        for (unsigned waited = 0; waited < fw.interval_ms && !atomic_load(&fw.stop); waited += 50) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    store_disconnect(c);
    return NULL;
}

bool follow_start(store *s, upstream *u, unsigned interval_ms, store_error *err)
{
    store_conn *c = store_connect(s, err);
    if (!c) return false;
    store_live_pin pin;
    bool found;
    bool ok = store_get_live_pin(c, &pin, &found, err);
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
    fw.interval_ms = interval_ms ? interval_ms : 1000;
    atomic_store(&fw.stop, false);
    memset(&fw.stats, 0, sizeof fw.stats);
    fw.stats.head = pin.block_number;
    if (pthread_create(&fw.thread, NULL, follow_main, NULL) != 0) return store_fail(err, "follow: cannot start a thread");
    fw.running = true;
    log_info("follow: tracking %s from block %" PRIu64 " every %u ms", upstream_name(u), pin.block_number,
             fw.interval_ms);
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
