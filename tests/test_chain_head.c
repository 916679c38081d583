/* The head block's identity and the chain's blob schedule: block hashes
 * stored with the head (the store, jitevm_setBlock, a genesis file's
 * parentHash), BLOCKHASH reading them on both engines, EIP-1898 {blockHash}
 * parameters answered as geth does, the blob-parameter-only forks (BPO1,
 * BPO2) of the built-in chains and of a genesis file's blobSchedule, and
 * the blob base fee of a head in such a fork. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "alloc.h"
#include "block_header.h"
#include "base/params.h"
#include "chains.h"
#include "config.h"
#include "jit/jit.h"
#include "rpc/rpc.h"
#include "store.h"

static char tmp_dir[256], db_path[512];
static store *db;
static store_conn *conn;

static void open_db(void)
{
    test_temp_dir(tmp_dir, sizeof tmp_dir, "test_chain_head");
    snprintf(db_path, sizeof db_path, "%s/chain.db", tmp_dir);
    conn = test_store_create(db_path, &db);
}

static void close_db(void)
{
    store_disconnect(conn);
    store_close(db);
    test_remove_dir(tmp_dir);
}

static hash32 hash_of_byte(uint8_t b)
{
    hash32 h;
    memset(h.b, b, 32);
    return h;
}

static void write_chain(const char *name)
{
    chain_spec spec;
    ck_assert(chain_builtin(name, &spec));
    store_error se;
    ck_assert_msg(chain_spec_write(conn, &spec, &se), "%s", se.msg);
}

/* ----------------------------------------------------- the store */

START_TEST(head_hashes_are_stored_with_the_head)
{
    open_db();
    write_chain("dev");
    store_error se;
    block_env head;
    ck_assert_msg(store_get_head(conn, &head, &se), "%s", se.msg);
    head.number = 100;
    hash32 h100 = hash_of_byte(0xaa), h99 = hash_of_byte(0x99), got;
    ck_assert_msg(store_set_head_block(conn, &head, &h100, &h99, &se), "%s", se.msg);
    bool found;
    ck_assert(store_get_block_hash(conn, 100, &got, &found, &se) && found);
    ck_assert(memcmp(got.b, h100.b, 32) == 0);
    ck_assert(store_get_block_hash(conn, 99, &got, &found, &se) && found);
    ck_assert(memcmp(got.b, h99.b, 32) == 0);
    uint64_t n = 0;
    ck_assert(store_find_block_number(conn, &h99, &n, &found, &se) && found);
    ck_assert_uint_eq(n, 99);

    /* BLOCKHASH reads through the backend. */
    state_backend b = store_backend(conn);
    ck_assert(b.get_block_hash(b.ctx, 99, &got));
    ck_assert(memcmp(got.b, h99.b, 32) == 0);
    ck_assert(!b.get_block_hash(b.ctx, 98, &got));

    /* Same number, no hashes given: what is known stays. */
    head.gas_limit = 12345;
    ck_assert_msg(store_set_head(conn, &head, &se), "%s", se.msg);
    ck_assert(store_get_block_hash(conn, 100, &got, &found, &se) && found);

    /* The next block without a hash: the old head's hash is its parent's. */
    head.number = 101;
    ck_assert_msg(store_set_head(conn, &head, &se), "%s", se.msg);
    ck_assert(store_get_block_hash(conn, 101, &got, &found, &se) && !found);
    ck_assert(store_get_block_hash(conn, 100, &got, &found, &se) && found);
    ck_assert(memcmp(got.b, h100.b, 32) == 0);

    /* Back to an earlier number: the hashes from it on belong to another
     * branch and are dropped. */
    head.number = 99;
    ck_assert_msg(store_set_head(conn, &head, &se), "%s", se.msg);
    ck_assert(store_get_block_hash(conn, 99, &got, &found, &se) && !found);
    ck_assert(store_get_block_hash(conn, 100, &got, &found, &se) && !found);
    ck_assert(store_find_block_number(conn, &h100, &n, &found, &se) && !found);

    /* Only the 256 blocks BLOCKHASH sees are kept. */
    head.number = 1000;
    ck_assert(store_set_head_block(conn, &head, NULL, &h99, &se));
    head.number = 1256;
    ck_assert(store_set_head_block(conn, &head, &h100, NULL, &se));
    ck_assert(store_get_block_hash(conn, 999, &got, &found, &se) && !found);
    ck_assert(store_get_block_hash(conn, 1256, &got, &found, &se) && found);

    /* Block 0 has no parent. */
    head.number = 0;
    ck_assert(!store_set_head_block(conn, &head, NULL, &h99, &se));
    ck_assert_msg(strstr(se.msg, "no parent") != NULL, "%s", se.msg);
    close_db();
}
END_TEST

START_TEST(builtin_chains_store_their_genesis_hash)
{
    static const struct {
        const char *name, *hash;
        uint64_t chain_id;
    } chains[] = {
        {"mainnet", "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3", 1},
        {"hoodi", "bbe312868b376a3001692a646dd2d7d1e4406380dfd86b98aa8a34d1557c971b", 560048},
    };
    for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) {
        open_db();
        write_chain(chains[i].name);
        store_error se;
        hash32 want, got;
        test_unhex(chains[i].hash, want.b, 32);
        bool found;
        ck_assert(store_get_block_hash(conn, 0, &got, &found, &se) && found);
        ck_assert(memcmp(got.b, want.b, 32) == 0);
        chain_config cfg;
        ck_assert(store_get_chain_config(conn, &cfg, &se));
        ck_assert_uint_eq(cfg.chain_id, chains[i].chain_id);
        close_db();
    }
}
END_TEST

/* Blocks as a node answers eth_getBlockByNumber (a batch of two). */
START_TEST(imported_headers_set_the_head_and_recent_hashes)
{
    open_db();
    write_chain("dev");
    const char *text =
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"number\":\"0x63\",\"hash\":\"0x" "9999999999999999999999999999999999999999999999999999999999999999\","
        "\"parentHash\":\"0x9898989898989898989898989898989898989898989898989898989898989898\",\"timestamp\":\"0x10\","
        "\"gasLimit\":\"0x1c9c380\",\"miner\":\"0x00000000000000000000000000000000000000c0\"}},"
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"number\":\"0x64\",\"hash\":\"0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
        "\"parentHash\":\"0x9999999999999999999999999999999999999999999999999999999999999999\",\"timestamp\":\"0x1c\","
        "\"gasLimit\":\"0x1c9c380\",\"miner\":\"0x00000000000000000000000000000000000000c1\",\"baseFeePerGas\":\"0x7\","
        "\"mixHash\":\"0x0202020202020202020202020202020202020202020202020202020202020202\",\"excessBlobGas\":\"0x0\","
        "\"parentBeaconBlockRoot\":\"0x0303030303030303030303030303030303030303030303030303030303030303\"}}]";
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);
    ck_assert_msg(v != NULL, "%s", jerr.text);
    block_header head;
    store_error se;
    ck_assert_msg(block_headers_store(conn, v, &head, &se), "%s", se.msg);
    json_decref(v);
    ck_assert_uint_eq(head.env.number, 100);
    ck_assert(head.has_parent_beacon_root);
    block_env env;
    ck_assert(store_get_head(conn, &env, &se));
    ck_assert_uint_eq(env.number, 100);
    ck_assert_uint_eq(env.timestamp, 0x1c);
    ck_assert_uint_eq(env.base_fee.w[0], 7);
    ck_assert_uint_eq(env.coinbase.b[19], 0xc1);
    ck_assert_uint_eq(env.prevrandao.b[0], 2);
    static const struct { uint64_t n; uint8_t byte; } want[] = {{100, 0xaa}, {99, 0x99}, {98, 0x98}};
    for (size_t i = 0; i < 3; i++) {
        hash32 got;
        bool found;
        ck_assert(store_get_block_hash(conn, want[i].n, &got, &found, &se) && found);
        ck_assert(memcmp(got.b, hash_of_byte(want[i].byte).b, 32) == 0);
    }
    /* No block, a bad field: refused, nothing written. */
    v = json_loads("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}", 0, &jerr);
    ck_assert(!block_headers_store(conn, v, &head, &se));
    ck_assert_msg(strstr(se.msg, "no such block") != NULL, "%s", se.msg);
    json_decref(v);
    v = json_loads("[{\"number\":\"0x65\"}]", 0, &jerr);
    ck_assert(!block_headers_store(conn, v, &head, &se));
    json_decref(v);
    ck_assert(store_get_head(conn, &env, &se));
    ck_assert_uint_eq(env.number, 100);
    close_db();
}
END_TEST

/* ------------------------------------------- blob-parameter forks */

static block_env head_at(uint64_t timestamp, uint64_t excess)
{
    store_error se;
    block_env h;
    ck_assert_msg(store_get_head(conn, &h, &se), "%s", se.msg);
    h.number = 30000000;
    h.timestamp = timestamp;
    h.excess_blob_gas = excess;
    ck_assert_msg(store_set_head(conn, &h, &se), "%s", se.msg);
    ck_assert_msg(store_get_head(conn, &h, &se), "%s", se.msg);
    return h;
}

/* The blob base fees for an excess of 50,000,000 blob gas were computed
 * apart (EIP-4844's fake_exponential(1, excess, fraction)). */
START_TEST(mainnet_heads_get_their_fork_blob_schedule)
{
    open_db();
    write_chain("mainnet");
    const uint64_t excess = 50000000;
    block_env h = head_at(1764798551 - 1, excess); /* Prague */
    ck_assert_uint_eq(h.blob_target_per_block, PRAGUE_BLOB_TARGET);
    ck_assert_uint_eq(h.blob_base_fee.w[0], 21689);
    h = head_at(1764798551, excess); /* Osaka */
    ck_assert_uint_eq(h.blob_max_per_block, PRAGUE_BLOB_MAX);
    ck_assert_uint_eq(h.blob_base_fee.w[0], 21689);
    h = head_at(1765290071, excess); /* BPO1 */
    ck_assert_uint_eq(h.blob_target_per_block, 10);
    ck_assert_uint_eq(h.blob_max_per_block, 15);
    ck_assert_uint_eq(h.blob_base_fee_update_fraction, 8346193);
    ck_assert_uint_eq(h.blob_base_fee.w[0], 399);
    h = head_at(1767747671 + 86400, excess); /* BPO2 */
    ck_assert_uint_eq(h.blob_target_per_block, 14);
    ck_assert_uint_eq(h.blob_max_per_block, 21);
    ck_assert_uint_eq(h.blob_base_fee_update_fraction, 11684671);
    ck_assert_uint_eq(h.blob_base_fee.w[0], 72);
    close_db();
}
END_TEST

START_TEST(public_chains_carry_bpo1_and_bpo2)
{
    static const struct {
        const char *name;
        uint64_t osaka, bpo1, bpo2;
    } chains[] = {
        {"mainnet", 1764798551, 1765290071, 1767747671},
        {"sepolia", 1760427360, 1761017184, 1761607008},
        {"holesky", 1759308480, 1759800000, 1760389824},
        {"hoodi", 1761677592, 1762365720, 1762955544},
    };
    for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) {
        chain_spec spec;
        ck_assert(chain_builtin(chains[i].name, &spec));
        ck_assert_uint_eq(spec.config.activation[FORK_OSAKA], chains[i].osaka);
        ck_assert_uint_eq(spec.n_bpo, 2);
        ck_assert_str_eq(spec.bpo[0].name, "bpo1");
        ck_assert_uint_eq(spec.bpo[0].activation, chains[i].bpo1);
        ck_assert_uint_eq(spec.bpo[0].blob.update_fraction, 8346193);
        ck_assert_str_eq(spec.bpo[1].name, "bpo2");
        ck_assert_uint_eq(spec.bpo[1].activation, chains[i].bpo2);
        ck_assert_uint_eq(spec.bpo[1].blob.max, 21);
    }
}
END_TEST

static bool import_genesis(const char *text, chain_spec *spec, store_error *se)
{
    chain_spec_init_empty(spec, "genesis.json");
    import_options o = {.genesis = spec};
    import_stats st;
    return alloc_import_text(conn, "genesis.json", text, strlen(text), &o, &st, se) && chain_spec_write(conn, spec, se);
}

#define GENESIS_CONFIG                                                                                            \
    "\"chainId\":7,\"homesteadBlock\":0,\"eip150Block\":0,\"eip155Block\":0,\"eip158Block\":0,\"byzantiumBlock\":0," \
    "\"constantinopleBlock\":0,\"petersburgBlock\":0,\"istanbulBlock\":0,\"berlinBlock\":0,\"londonBlock\":0,"       \
    "\"terminalTotalDifficulty\":0,\"shanghaiTime\":0,\"cancunTime\":0,\"pragueTime\":0,\"osakaTime\":100,"

START_TEST(genesis_blob_schedule_reads_bpo_forks)
{
    open_db();
    const char *text =
        "{\"config\":{" GENESIS_CONFIG "\"bpo1Time\":200,\"bpo2Time\":300,\"bpo3Time\":null,"
        "\"blobSchedule\":{\"cancun\":{\"target\":3,\"max\":6,\"baseFeeUpdateFraction\":3338477},"
        "\"prague\":{\"target\":6,\"max\":9,\"baseFeeUpdateFraction\":5007716},"
        "\"osaka\":{\"target\":6,\"max\":9,\"baseFeeUpdateFraction\":5007716},"
        "\"bpo1\":{\"target\":10,\"max\":15,\"baseFeeUpdateFraction\":8346193},"
        "\"bpo2\":{\"target\":14,\"max\":21,\"baseFeeUpdateFraction\":11684671},"
        "\"bpo3\":{\"target\":21,\"max\":32,\"baseFeeUpdateFraction\":20609697}}},"
        "\"number\":\"0x10\",\"timestamp\":\"0x0\",\"gasLimit\":\"0x1c9c380\","
        "\"parentHash\":\"0x1111111111111111111111111111111111111111111111111111111111111111\","
        "\"alloc\":{}}";
    chain_spec spec;
    store_error se;
    ck_assert_msg(import_genesis(text, &spec, &se), "%s", se.msg);
    blob_fork forks[CHAIN_MAX_BLOB_FORKS];
    size_t n;
    ck_assert_msg(store_get_blob_forks(conn, forks, CHAIN_MAX_BLOB_FORKS, &n, &se), "%s", se.msg);
    ck_assert_uint_eq(n, 2); /* bpo3 has no time: not scheduled */
    ck_assert_str_eq(forks[0].name, "bpo1");
    ck_assert_uint_eq(forks[0].activation, 200);
    ck_assert_str_eq(forks[1].name, "bpo2");
    ck_assert_uint_eq(forks[1].blob.target, 14);

    /* parentHash: block 15's hash. */
    hash32 got;
    bool found;
    ck_assert(store_get_block_hash(conn, 15, &got, &found, &se) && found);
    ck_assert(memcmp(got.b, hash_of_byte(0x11).b, 32) == 0);

    block_env h = head_at(150, 50000000);
    ck_assert_uint_eq(h.blob_base_fee.w[0], 21689);
    h = head_at(250, 50000000);
    ck_assert_uint_eq(h.blob_base_fee.w[0], 399);
    h = head_at(300, 50000000);
    ck_assert_uint_eq(h.blob_base_fee.w[0], 72);

    close_db();
}
END_TEST

START_TEST(genesis_bpo_time_without_schedule_is_refused)
{
    open_db();
    const char *text = "{\"config\":{" GENESIS_CONFIG "\"bpo1Time\":200,"
                       "\"blobSchedule\":{\"bpo1\":{\"target\":10,\"max\":15}}},\"alloc\":{}}";
    chain_spec spec;
    store_error se;
    ck_assert(!import_genesis(text, &spec, &se));
    ck_assert_msg(strstr(se.msg, "config.bpo1Time is set but config.blobSchedule.bpo1 lacks") != NULL, "%s", se.msg);
    close_db();
}
END_TEST

/* ------------------------------------------------------------ RPC */

static rpc_config cfg;

static json_t *ask(rpc_ctx *ctx, const char *method, const char *params)
{
    char body[2048];
    snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method, params);
    size_t len;
    char *text = rpc_dispatch_text(ctx, body, strlen(body), &len);
    ck_assert(text != NULL);
    json_error_t jerr;
    json_t *r = json_loads(text, 0, &jerr);
    ck_assert_msg(r != NULL, "answer is not JSON: %s", text);
    free(text);
    return r;
}

static void expect_result(rpc_ctx *ctx, const char *method, const char *params, const char *want)
{
    json_t *r = ask(ctx, method, params);
    const json_t *v = json_object_get(r, "result");
    ck_assert_msg(v != NULL, "%s %s: error %s", method, params,
                  json_string_value(json_object_get(json_object_get(r, "error"), "message")));
    if (json_is_true(v)) ck_assert_str_eq("true", want);
    else if (json_is_null(v)) ck_assert_str_eq("null", want);
    else ck_assert_str_eq(json_string_value(v), want);
    json_decref(r);
}

static void expect_error(rpc_ctx *ctx, const char *method, const char *params, int code, const char *msg)
{
    json_t *r = ask(ctx, method, params);
    const json_t *e = json_object_get(r, "error");
    ck_assert_msg(e != NULL, "%s %s: expected an error", method, params);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "code")), code);
    ck_assert_str_eq(json_string_value(json_object_get(e, "message")), msg);
    json_decref(r);
}

#define H_HEAD "0xabababababababababababababababababababababababababababababababab"
#define H_PARENT "0xcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
#define H_UNKNOWN "0x0101010101010101010101010101010101010101010101010101010101010101"
/* Returns BLOCKHASH(NUMBER - 1): NUMBER, PUSH1 1, SWAP1, SUB, BLOCKHASH,
 * PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN. */
#define CODE_PARENT_HASH "0x4360019003406000526020" "6000f3"
#define READER "0x000000000000000000000000000000000000b10c"

START_TEST(blockhash_and_eip1898_follow_the_head)
{
    const int engines[] = {ENGINE_INTERP, ENGINE_JIT};
    for (size_t e = 0; e < 2; e++) {
        open_db();
        write_chain("dev");
        bool help;
        char err[256];
        char *argv[] = {"serve", "--db", db_path, "--admin", NULL};
        ck_assert_msg(rpc_config_load(&cfg, 4, argv, &help, err, sizeof err), "%s", err);
        cfg.engine = engines[e];
        rpc_ctx ctx = {.cfg = &cfg, .conn = conn, .authorized = true};
        store_error se;
        ck_assert(store_get_chain_config(conn, &ctx.chain, &se));
        expect_result(&ctx, "anvil_setCode", "[\"" READER "\",\"" CODE_PARENT_HASH "\"]", "null");

        /* Without a known parent hash BLOCKHASH gives zero, as geth does
         * for a block it cannot see. */
        expect_result(&ctx, "jitevm_setBlock", "[{\"number\":\"0x20\"}]", "true");
        expect_result(&ctx, "eth_call", "[{\"to\":\"" READER "\"},\"latest\"]",
                      "0x0000000000000000000000000000000000000000000000000000000000000000");

        expect_result(&ctx, "jitevm_setBlock",
                      "[{\"number\":\"0x21\",\"hash\":\"" H_HEAD "\",\"parentHash\":\"" H_PARENT "\"}]", "true");
        expect_result(&ctx, "eth_call", "[{\"to\":\"" READER "\"},\"latest\"]", H_PARENT);
        /* EIP-1898: the head's hash is the head. */
        expect_result(&ctx, "eth_call", "[{\"to\":\"" READER "\"},{\"blockHash\":\"" H_HEAD "\"}]", H_PARENT);
        expect_result(&ctx, "eth_getBalance",
                      "[\"" READER "\",{\"blockHash\":\"" H_HEAD "\",\"requireCanonical\":true}]", "0x0");
        /* An unknown hash is geth's error; a known earlier block is history. */
        expect_error(&ctx, "eth_call", "[{\"to\":\"" READER "\"},{\"blockHash\":\"" H_UNKNOWN "\"}]", -32000,
                     "header for hash not found");
        expect_error(&ctx, "eth_getBalance", "[\"" READER "\",{\"blockHash\":\"" H_PARENT "\"}]", -32000,
                     "historical state not available: block 32 is not the head (block 33); this node keeps only "
                     "the head state");

        /* The next block: the old head becomes the parent. */
        expect_result(&ctx, "jitevm_setBlock", "[{\"number\":\"0x22\"}]", "true");
        expect_result(&ctx, "eth_call", "[{\"to\":\"" READER "\"},\"latest\"]", H_HEAD);
        expect_error(&ctx, "eth_call", "[{\"to\":\"" READER "\"},{\"blockHash\":\"" H_HEAD "\"}]", -32000,
                     "historical state not available: block 33 is not the head (block 34); this node keeps only "
                     "the head state");

        /* Bad hashes are parameter errors. */
        json_t *r = ask(&ctx, "jitevm_setBlock", "[{\"hash\":\"0x12\"}]");
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "error"), "code")), -32602);
        json_decref(r);
        close_db();
    }
}
END_TEST

int main(void)
{
    return TEST_RUN("chain_head",
        TEST_GROUP("store", 60, head_hashes_are_stored_with_the_head, builtin_chains_store_their_genesis_hash,
            imported_headers_set_the_head_and_recent_hashes, mainnet_heads_get_their_fork_blob_schedule,
            public_chains_carry_bpo1_and_bpo2, genesis_blob_schedule_reads_bpo_forks,
            genesis_bpo_time_without_schedule_is_refused, blockhash_and_eip1898_follow_the_head));
}
