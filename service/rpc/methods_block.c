/* The block and fee methods the client libraries call by themselves
 * (ethers' getBlock/getFeeData, viem's estimateFeesPerGas/getFeeHistory),
 * answered from the one block jitevm knows: the head.
 *
 * What the head is made of. The database keeps the head's block context
 * (number, timestamp, gas limit, coinbase, difficulty, prevRandao, base fee,
 * excess blob gas) and recent block hashes by number; no transactions,
 * receipts, logs, withdrawals or requests, and no state trie. So the header
 * served here is the head's context plus, for the rest, the values of a
 * block that holds nothing:
 *   - transactions, uncles, withdrawals: empty lists; their roots, the
 *     receipts root, the ommers hash and the bloom: those of empty lists;
 *     requestsHash that of no requests (EIP-7685);
 *   - gasUsed and blobGasUsed: the head's own when the database has them (a
 *     head imported from a node's header, or followed live), else 0;
 *   - stateRoot: the root of the state trie the database keeps
 *     (schema/trie_store.c: the stored root with the changes not yet hashed
 *     in applied in memory), kept with the cached head until the next
 *     commit; zero where there is no stored trie (a live database, which
 *     caches part of an upstream's state; one whose trie was never built);
 *   - extraData and nonce: empty and zero, except while block 0 of a
 *     database made by init (008) is the head: the genesis header's own,
 *     so that the header hashes to the stored genesis hash;
 *   - parentBeaconBlockRoot: read from the EIP-4788 contract's ring when it
 *     holds the head's timestamp, else zero;
 *   - hash: the stored hash of the head's number when there is one (a chain
 *     imported or followed), else keccak256 of this header's RLP, so that
 *     eth_getBlockByHash finds what eth_getBlockByNumber returned;
 *     parentHash: the stored hash of number - 1, else zero.
 * Invariant: every field is computed from the head as read in this request
 * (resolve_head), so one answer never mixes two heads. Nothing is written.
 *
 * eth_feeHistory knows one block too: the newest block must be the head
 * and the history is that block (blockCount is clamped to 1); its gas used
 * ratios and the next block's base fees follow from what the head used, as
 * above (EIP-1559, EIP-4844/7918).
 *
 * History methods (transactions, receipts, logs, filters, sending) answer
 * -32000 with a message that says why: jitevm serves state, not history. */
#include "rpc/methods_block.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hexjson.h"
#include "base/keccak.h"
#include "base/params.h"
#include "base/rlp.h"
#include "base/trie.h"
#include "rpc/json_values.h"
#include "rpc/rpc_exec.h"
#include "rpc/rpc_params.h"
#include "trie_store.h"
#include "vm/block.h"

/* sha256 of the empty string: EIP-7685's requests hash of a block without
 * requests. */
static const hash32 EMPTY_REQUESTS_HASH = {{0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                                           0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                                           0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55}};

enum { LOGS_BLOOM_BYTES = 256, FEE_HISTORY_MAX_PERCENTILES = 100 };

static json_t *arg_at(json_t *params, size_t i)
{
    json_t *v = json_array_get(params, i);
    return v && !json_is_null(v) ? v : NULL;
}

/* ------------------------------------------------------------ the header */

/* The head as a header: the stored context and the empty-block fields. */
typedef struct {
    block_env env;
    enum fork fork;
    hash32 parent_hash, state_root, beacon_root, hash;
    bool hash_stored;
    uint64_t gas_used, blob_gas_used;
    uint64_t nonce;
    uint8_t extra_data[STORE_GENESIS_EXTRA_MAX];
    size_t extra_data_len;
} head_header;

/* What the head at `number` used of its gas and blob gas: 0 when the
 * database does not know (store_get_head_usage). */
static bool head_usage(rpc_ctx *ctx, uint64_t number, uint64_t *gas_used, uint64_t *blob_gas_used, rpc_error *err)
{
    uint64_t at;
    store_error se;
    *gas_used = *blob_gas_used = 0;
    if (!store_get_head_usage(ctx->conn, &at, gas_used, blob_gas_used, &se))
        return rpc_fail(err, RPC_SERVER_ERROR, "%s", se.msg);
    if (at != number) *gas_used = *blob_gas_used = 0;
    return true;
}

/* EIP-4788: the ring holds (timestamp at t % N, root at t % N + N). */
static bool beacon_root_of(const state_backend *b, uint64_t timestamp, hash32 *root)
{
    address contract;
    if (!hex_to_address(BEACON_ROOTS_ADDRESS, &contract)) return false;
    u256 slot = u256_from_u64(timestamp % BEACON_ROOTS_HISTORY_BUFFER_LENGTH), stored, value;
    b->get_storage(b->ctx, &contract, &slot, &stored);
    u256 want = u256_from_u64(timestamp);
    if (!u256_eq(&stored, &want)) return false;
    slot = u256_from_u64(timestamp % BEACON_ROOTS_HISTORY_BUFFER_LENGTH + BEACON_ROOTS_HISTORY_BUFFER_LENGTH);
    b->get_storage(b->ctx, &contract, &slot, &value);
    u256_store_be(root->b, &value);
    return true;
}

/* The header's RLP (the consensus encoding, fields by fork). */
static void header_rlp(const head_header *h, bytebuf *out)
{
    static const uint8_t zero_bloom[LOGS_BLOOM_BYTES];
    const block_env *e = &h->env;
    size_t mark = rlp_list_begin(out);
    rlp_put_bytes(out, h->parent_hash.b, 32);
    rlp_put_bytes(out, KECCAK_EMPTY_LIST.b, 32);
    rlp_put_bytes(out, e->coinbase.b, 20);
    rlp_put_bytes(out, h->state_root.b, 32);
    rlp_put_bytes(out, TRIE_EMPTY_ROOT.b, 32); /* transactions */
    rlp_put_bytes(out, TRIE_EMPTY_ROOT.b, 32); /* receipts */
    rlp_put_bytes(out, zero_bloom, sizeof zero_bloom);
    rlp_put_u256(out, &e->difficulty);
    rlp_put_u64(out, e->number);
    rlp_put_u64(out, e->gas_limit);
    rlp_put_u64(out, h->gas_used);
    rlp_put_u64(out, e->timestamp);
    uint8_t nonce[8];
    for (int i = 0; i < 8; i++) nonce[i] = (uint8_t)(h->nonce >> (56 - 8 * i));
    rlp_put_bytes(out, h->extra_data, h->extra_data_len);
    rlp_put_bytes(out, e->prevrandao.b, 32);
    rlp_put_bytes(out, nonce, sizeof nonce);
    if (h->fork >= FORK_LONDON) rlp_put_u256(out, &e->base_fee);
    if (h->fork >= FORK_SHANGHAI) rlp_put_bytes(out, TRIE_EMPTY_ROOT.b, 32); /* withdrawals */
    if (h->fork >= FORK_CANCUN) {
        rlp_put_u64(out, h->blob_gas_used);
        rlp_put_u64(out, e->excess_blob_gas);
        rlp_put_bytes(out, h->beacon_root.b, 32);
    }
    if (h->fork >= FORK_PRAGUE) rlp_put_bytes(out, EMPTY_REQUESTS_HASH.b, 32);
    rlp_list_end(out, mark);
}

/* The block's RLP size: [header, transactions, uncles, withdrawals?]. */
static size_t block_size(const head_header *h, const bytebuf *header)
{
    bytebuf block = {0};
    size_t mark = rlp_list_begin(&block);
    rlp_put_raw(&block, header->data, header->len);
    rlp_list_end(&block, rlp_list_begin(&block));
    rlp_list_end(&block, rlp_list_begin(&block));
    if (h->fork >= FORK_SHANGHAI) rlp_list_end(&block, rlp_list_begin(&block));
    rlp_list_end(&block, mark);
    size_t n = block.len;
    bytebuf_free(&block);
    return n;
}

/* The head's state root: from the stored trie, once per snapshot epoch
 * (kept beside the cached head, which resolve_head has just validated);
 * zero where there is no stored trie. */
static bool head_state_root(rpc_ctx *ctx, hash32 *root, rpc_error *err)
{
    uint64_t epoch = store_snapshot_epoch(ctx->conn);
    bool cacheable = epoch != 0 && ctx->head_cache.valid && ctx->head_cache.epoch == epoch;
    if (cacheable && ctx->head_cache.has_state_root) {
        *root = ctx->head_cache.state_root;
        return true;
    }
    memset(root, 0, sizeof *root);
    bool available;
    store_error se;
    trie_view *v = store_trie_view(ctx->conn, &available, &se);
    if (!available) return se.msg[0] ? rpc_fail_store(err, &se) : true;
    bool ok = trie_view_root(v, root, &se);
    store_trie_view_done(ctx->conn, v);
    if (!ok) return rpc_fail_store(err, &se);
    if (cacheable) {
        ctx->head_cache.has_state_root = true;
        ctx->head_cache.state_root = *root;
    }
    return true;
}

/* While the genesis block is the head: its extraData and nonce (kept with
 * the cached head as the root is: reading them costs two prepared queries,
 * about 70,000 instructions, half of the whole call). */
static bool genesis_extras(rpc_ctx *ctx, head_header *h, rpc_error *err)
{
    uint64_t epoch = store_snapshot_epoch(ctx->conn);
    bool cacheable = epoch != 0 && ctx->head_cache.valid && ctx->head_cache.epoch == epoch;
    if (!cacheable || !ctx->head_cache.has_genesis_extras) {
        store_genesis g;
        bool found;
        store_error se;
        if (!store_get_genesis(ctx->conn, &g, &found, &se)) return rpc_fail_store(err, &se);
        bool is_head = found && g.number == h->env.number;
        ctx->head_cache.genesis_nonce = is_head ? g.nonce : 0;
        ctx->head_cache.genesis_extra_len = is_head ? g.extra_data_len : 0;
        memcpy(ctx->head_cache.genesis_extra, g.extra_data, ctx->head_cache.genesis_extra_len);
        ctx->head_cache.has_genesis_extras = cacheable;
    }
    h->nonce = ctx->head_cache.genesis_nonce;
    h->extra_data_len = ctx->head_cache.genesis_extra_len;
    memcpy(h->extra_data, ctx->head_cache.genesis_extra, h->extra_data_len);
    return true;
}

static bool load_head(rpc_ctx *ctx, head_header *h, rpc_error *err)
{
    memset(h, 0, sizeof *h);
    block_selector latest = {.tag = BLOCK_LATEST};
    if (!resolve_head(ctx, &latest, &h->env, &h->fork, err)) return false;
    if (!head_usage(ctx, h->env.number, &h->gas_used, &h->blob_gas_used, err)) return false;
    if (!head_state_root(ctx, &h->state_root, err)) return false;
    state_backend b = store_backend(ctx->conn);
    if (h->env.number > 0) b.get_block_hash(b.ctx, h->env.number - 1, &h->parent_hash);
    h->hash_stored = b.get_block_hash(b.ctx, h->env.number, &h->hash);
    if (h->hash_stored && h->env.number == 0 && !genesis_extras(ctx, h, err)) return false;
    return true;
}

/* The header's parentBeaconBlockRoot, read only where the header itself is
 * made: it is two storage reads, and on a live database two fetches from
 * the upstream at the head (which fail if the head was just reorged away). */
static void load_head_beacon_root(rpc_ctx *ctx, head_header *h)
{
    if (h->fork < FORK_CANCUN) return;
    state_backend b = store_backend(ctx->conn);
    beacon_root_of(&b, h->env.timestamp, &h->beacon_root);
}

bool head_block_hash(rpc_ctx *ctx, hash32 *hash, rpc_error *err)
{
    head_header h;
    if (!load_head(ctx, &h, err)) return false;
    if (!h.hash_stored) {
        load_head_beacon_root(ctx, &h);
        bytebuf rlp = {0};
        header_rlp(&h, &rlp);
        keccak256(rlp.data, rlp.len, h.hash.b);
        bytebuf_free(&rlp);
    }
    *hash = h.hash;
    return true;
}

static json_t *header_json(const head_header *h_in)
{
    head_header h = *h_in;
    const block_env *e = &h.env;
    bytebuf rlp = {0};
    header_rlp(&h, &rlp);
    if (!h.hash_stored) keccak256(rlp.data, rlp.len, h.hash.b);
    size_t size = block_size(&h, &rlp);
    bytebuf_free(&rlp);

    static const uint8_t zero_bloom[LOGS_BLOOM_BYTES];
    uint8_t nonce[8];
    for (int i = 0; i < 8; i++) nonce[i] = (uint8_t)(h.nonce >> (56 - 8 * i));
    json_t *o = json_object();
    json_object_set_new(o, "number", jv_u64(e->number));
    json_object_set_new(o, "hash", jv_hash(&h.hash));
    json_object_set_new(o, "parentHash", jv_hash(&h.parent_hash));
    json_object_set_new(o, "nonce", jv_data(nonce, sizeof nonce));
    json_object_set_new(o, "mixHash", jv_hash(&e->prevrandao));
    json_object_set_new(o, "sha3Uncles", jv_hash(&KECCAK_EMPTY_LIST));
    json_object_set_new(o, "logsBloom", jv_data(zero_bloom, sizeof zero_bloom));
    json_object_set_new(o, "stateRoot", jv_hash(&h.state_root));
    json_object_set_new(o, "miner", jv_address(&e->coinbase));
    json_object_set_new(o, "difficulty", jv_quantity(&e->difficulty));
    json_object_set_new(o, "extraData", jv_data(h.extra_data, h.extra_data_len));
    json_object_set_new(o, "gasLimit", jv_u64(e->gas_limit));
    json_object_set_new(o, "gasUsed", jv_u64(h.gas_used));
    json_object_set_new(o, "timestamp", jv_u64(e->timestamp));
    json_object_set_new(o, "transactionsRoot", jv_hash(&TRIE_EMPTY_ROOT));
    json_object_set_new(o, "receiptsRoot", jv_hash(&TRIE_EMPTY_ROOT));
    if (h.fork >= FORK_LONDON) json_object_set_new(o, "baseFeePerGas", jv_quantity(&e->base_fee));
    if (h.fork >= FORK_SHANGHAI) json_object_set_new(o, "withdrawalsRoot", jv_hash(&TRIE_EMPTY_ROOT));
    if (h.fork >= FORK_CANCUN) {
        json_object_set_new(o, "blobGasUsed", jv_u64(h.blob_gas_used));
        json_object_set_new(o, "excessBlobGas", jv_u64(e->excess_blob_gas));
        json_object_set_new(o, "parentBeaconBlockRoot", jv_hash(&h.beacon_root));
    }
    if (h.fork >= FORK_PRAGUE) json_object_set_new(o, "requestsHash", jv_hash(&EMPTY_REQUESTS_HASH));
    json_object_set_new(o, "size", jv_u64(size));
    json_object_set_new(o, "transactions", json_array());
    json_object_set_new(o, "uncles", json_array());
    if (h.fork >= FORK_SHANGHAI) json_object_set_new(o, "withdrawals", json_array());
    return o;
}

/* The fullTx argument: a JSON bool, required (geth's signature). */
static bool full_tx_arg(json_t *params, rpc_error *err)
{
    json_t *v = arg_at(params, 1);
    if (!v) return rpc_fail(err, RPC_INVALID_PARAMS, "missing value for required argument 1");
    if (!json_is_boolean(v))
        return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 1: json: cannot unmarshal %s into Go value of type bool",
                        json_kind_go(v));
    return true;
}

/* A block number argument (a tag or a quantity, not a hash object). */
static bool block_number_arg(json_t *params, size_t i, block_selector *sel, rpc_error *err)
{
    json_t *v = arg_at(params, i);
    if (!v) return rpc_fail(err, RPC_INVALID_PARAMS, "missing value for required argument %zu", i);
    param_error pe;
    if (!json_is_string(v)) {
        perr_set(&pe, "json: cannot unmarshal %s into Go value of type rpc.BlockNumber", json_kind_go(v));
        return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument %zu: %s", i, pe.msg);
    }
    if (!p_block(v, sel, &pe)) return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument %zu: %s", i, pe.msg);
    return true;
}

/* The number a selector names relative to the head: 0 the head, 1 after
 * it (no such block yet), -1 before it (history: not kept). */
static int relative_to_head(const block_selector *sel, uint64_t head)
{
    if (sel->tag != BLOCK_NUMBER && sel->tag != BLOCK_EARLIEST) return 0;
    uint64_t n = sel->tag == BLOCK_EARLIEST ? 0 : sel->number;
    return n == head ? 0 : n > head ? 1 : -1;
}

static bool history_refused(rpc_error *err, uint64_t number, uint64_t head)
{
    return rpc_fail(err, RPC_SERVER_ERROR,
                    "historical blocks are not available: block %" PRIu64 " is not the head (block %" PRIu64
                    "); jitevm serves state, not history",
                    number, head);
}

json_t *m_get_block_by_number(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    block_selector sel;
    if (!block_number_arg(params, 0, &sel, err) || !full_tx_arg(params, err)) return NULL;
    head_header h;
    if (!load_head(ctx, &h, err)) return NULL;
    int rel = relative_to_head(&sel, h.env.number);
    if (rel > 0) return json_null(); /* geth: a block that does not exist yet is null */
    if (rel < 0) return history_refused(err, sel.tag == BLOCK_EARLIEST ? 0 : sel.number, h.env.number), NULL;
    /* A live database's head is a block of the upstream's chain: its
     * transactions, roots and sizes are the upstream's, asked by hash. */
    json_t *result = NULL;
    if (h.hash_stored && rpc_live.head_block &&
        rpc_live.head_block(&h.hash, json_is_true(arg_at(params, 1)), &result, err))
        return result;
    load_head_beacon_root(ctx, &h);
    return header_json(&h);
}

json_t *m_get_block_by_hash(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    json_t *v = arg_at(params, 0);
    if (!v) return rpc_fail(err, RPC_INVALID_PARAMS, "missing value for required argument 0"), NULL;
    hash32 want;
    param_error pe;
    if (!p_hash(v, NULL, &want, &pe)) return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 0: %s", pe.msg), NULL;
    if (!full_tx_arg(params, err)) return NULL;
    head_header h;
    if (!load_head(ctx, &h, err)) return NULL;
    load_head_beacon_root(ctx, &h);
    json_t *block = header_json(&h);
    const char *hash = json_string_value(json_object_get(block, "hash"));
    char want_hex[HEX_HASH_LEN];
    hex_from_hash(&want, want_hex);
    if (strcmp(hash, want_hex) == 0) return block;
    json_decref(block);
    return json_null(); /* geth: an unknown hash is null */
}

/* ------------------------------------------------------------------ fees */

/* EIP-4844 (with EIP-7918's reserve price from Osaka): the blob base fee of
 * the block after `e`, had `e` used `blob_gas_used` (vm/block.h). */
static u256 next_blob_base_fee(const block_env *e, enum fork f, uint64_t blob_gas_used)
{
    block_env next = *e;
    next.excess_blob_gas = block_next_excess_blob_gas(e, f, blob_gas_used);
    block_env_update_blob_base_fee(&next);
    return next.blob_base_fee;
}

/* geth's blockCount: math.HexOrDecimal64 (a hex or decimal string, or a number). */
static bool block_count_arg(json_t *v, uint64_t *n, rpc_error *err)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *n = (uint64_t)json_integer_value(v);
        return true;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    bool ok = s && *s;
    if (ok && (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) ok = hex_to_u64(s, n);
    else if (ok) {
        char *end;
        errno = 0;
        unsigned long long d = strtoull(s, &end, 10);
        ok = *s != '-' && *end == 0 && errno == 0;
        *n = d;
    }
    if (!ok)
        return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 0: json: cannot unmarshal %s into Go value of type math.HexOrDecimal64",
                        json_is_string(v) ? "invalid number" : json_kind_go(v));
    return true;
}

/* rewardPercentiles: at most 100 numbers, each in [0, 100], ascending. */
static bool percentiles_arg(json_t *v, double *p, size_t *n, rpc_error *err)
{
    *n = 0;
    if (!v) return true;
    if (!json_is_array(v))
        return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 2: json: cannot unmarshal %s into Go value of type []float64",
                        json_kind_go(v));
    if (json_array_size(v) > FEE_HISTORY_MAX_PERCENTILES)
        return rpc_fail(err, RPC_INVALID_PARAMS, "too many percentiles: %zu (max %d)", json_array_size(v),
                        FEE_HISTORY_MAX_PERCENTILES);
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        if (!json_is_number(x))
            return rpc_fail(err, RPC_INVALID_PARAMS,
                            "invalid argument 2: json: cannot unmarshal %s into Go value of type float64", json_kind_go(x));
        p[i] = json_number_value(x);
        if (p[i] < 0 || p[i] > 100 || isnan(p[i]))
            return rpc_fail(err, RPC_INVALID_PARAMS, "invalid reward percentile: %f", p[i]);
        if (i > 0 && p[i] <= p[i - 1])
            return rpc_fail(err, RPC_INVALID_PARAMS, "invalid reward percentile: #%zu:%f >= #%zu:%f", i - 1, p[i - 1], i, p[i]);
    }
    *n = i;
    return true;
}

json_t *m_fee_history(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    json_t *count_v = arg_at(params, 0);
    if (!count_v) return rpc_fail(err, RPC_INVALID_PARAMS, "missing value for required argument 0"), NULL;
    uint64_t count;
    if (!block_count_arg(count_v, &count, err)) return NULL;
    block_selector sel;
    if (!block_number_arg(params, 1, &sel, err)) return NULL;
    double pct[FEE_HISTORY_MAX_PERCENTILES];
    size_t n_pct;
    if (!percentiles_arg(arg_at(params, 2), pct, &n_pct, err)) return NULL;

    block_env e;
    enum fork f;
    block_selector latest = {.tag = BLOCK_LATEST};
    if (!resolve_head(ctx, &latest, &e, &f, err)) return NULL;
    int rel = relative_to_head(&sel, e.number);
    if (rel > 0)
        return rpc_fail(err, RPC_SERVER_ERROR, "request beyond head block: requested %" PRIu64 ", head %" PRIu64,
                        sel.number, e.number),
               NULL;
    if (rel < 0) return history_refused(err, sel.tag == BLOCK_EARLIEST ? 0 : sel.number, e.number), NULL;

    json_t *o = json_object();
    if (count == 0) { /* geth: nothing asked, nothing given */
        json_object_set_new(o, "oldestBlock", jv_u64(0));
        return o;
    }
    /* Only the head is known: the history is that one block. */
    uint64_t gas_used, blob_gas_used;
    if (!head_usage(ctx, e.number, &gas_used, &blob_gas_used, err)) return json_decref(o), NULL;
    u256 zero = u256_zero();
    u256 base = f >= FORK_LONDON ? e.base_fee : zero, next = f >= FORK_LONDON ? block_next_base_fee(&e, gas_used) : zero;
    u256 blob = f >= FORK_CANCUN ? e.blob_base_fee : zero,
         blob_next = f >= FORK_CANCUN ? next_blob_base_fee(&e, f, blob_gas_used) : zero;
    uint64_t blob_gas_max = e.blob_max_per_block * GAS_PER_BLOB;
    json_t *base_fees = json_array(), *ratios = json_array(), *blob_fees = json_array(), *blob_ratios = json_array();
    json_array_append_new(base_fees, jv_quantity(&base));
    json_array_append_new(base_fees, jv_quantity(&next));
    json_array_append_new(ratios, json_real(e.gas_limit ? (double)gas_used / (double)e.gas_limit : 0));
    json_array_append_new(blob_fees, jv_quantity(&blob));
    json_array_append_new(blob_fees, jv_quantity(&blob_next));
    json_array_append_new(blob_ratios, json_real(blob_gas_max ? (double)blob_gas_used / (double)blob_gas_max : 0));
    json_object_set_new(o, "oldestBlock", jv_u64(e.number));
    if (n_pct > 0) { /* an empty block: every percentile's tip is 0 */
        json_t *rewards = json_array(), *row = json_array();
        for (size_t i = 0; i < n_pct; i++) json_array_append_new(row, jv_u64(0));
        json_array_append_new(rewards, row);
        json_object_set_new(o, "reward", rewards);
    }
    json_object_set_new(o, "baseFeePerGas", base_fees);
    json_object_set_new(o, "gasUsedRatio", ratios);
    json_object_set_new(o, "baseFeePerBlobGas", blob_fees);
    json_object_set_new(o, "blobGasUsedRatio", blob_ratios);
    return o;
}

/* ------------------------------------------------- node and history */

json_t *m_syncing(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    (void)ctx, (void)params, (void)err;
    return json_false();
}

json_t *m_accounts(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    (void)ctx, (void)params, (void)err;
    return json_array();
}

json_t *m_history(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    (void)ctx, (void)params;
    return rpc_fail(err, RPC_SERVER_ERROR,
                    "not available: jitevm serves state, not history (it keeps no transactions, receipts or logs)"),
           NULL;
}

json_t *m_send(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    (void)ctx, (void)params;
    return rpc_fail(err, RPC_SERVER_ERROR,
                    "not available: jitevm serves state, not history; it executes calls and accepts no transactions "
                    "(send them to a node of the chain)"),
           NULL;
}
