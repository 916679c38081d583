/* The fast request path (service/rpc/rpc_fast.c) against the tree path,
 * differentially: every body is answered both ways on the same database
 * (the tree: rpc_dispatch_text; the fast path: rpc_fast_parse and
 * rpc_dispatch_fast when it takes the body) and the answers must be the
 * same bytes. The bodies: the plain shapes the fast path exists for (each
 * must be taken), hostile and odd ones (duplicate keys, escapes,
 * whitespace, huge numbers, wrong types, missing and extra fields), and
 * 30,000 byte mutations of real requests; of the mutations the fast
 * path must take a share (else the comparison would check nothing). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "base/keccak.h"
#include "config.h"
#include "hexjson.h"
#include "log.h"
#include "metrics.h"
#include "rpc/rpc.h"
#include "rpc/rpc_fast.h"
#include "store.h"

#define TOKEN "0x000000000000000000000000000000000000c008"
/* bench-rpc's ERC-20 balanceOf: reads balances[holder] (slot keccak(holder . 0)). */
#define TOKEN_CODE "0x60003560e01c6370a0823114601357600080fd5b600435600052600060205260406000205460005260206000f3"
#define HOLDER_WORD "000000000000000000000000000000000000000000000000000000000000beef"
#define BALANCE_OF "0x70a08231" HOLDER_WORD
#define REVERTER "0x000000000000000000000000000000000000c00a"
#define INVALID_OP "0x000000000000000000000000000000000000c007"
#define RICH "0x00000000000000000000000000000000000000aa"

static char tmp_dir[256], db_path[300];
static store *db;
static store_conn *conn;
static rpc_config cfg;
static rpc_ctx ctx;

static void open_db(void)
{
    test_temp_dir(tmp_dir, sizeof tmp_dir, "test_rpc_fast");
    snprintf(db_path, sizeof db_path, "%s/fast.db", tmp_dir);
    store_error se;
    conn = test_store_create(db_path, &db);
    chain_config cc = {.chain_id = 1337};
    for (int f = 0; f < FORK_COUNT; f++) {
        cc.activation[f] = f <= FORK_PRAGUE ? 0 : UINT64_MAX;
        cc.by_timestamp[f] = f >= FORK_SHANGHAI;
    }
    ck_assert_msg(store_set_chain_config(conn, &cc, &se), "%s", se.msg);
    block_env head = {.number = 1, .timestamp = 1000, .gas_limit = 30000000, .chain_id = u256_from_u64(1337)};
    head.base_fee = u256_from_u64(7);
    ck_assert_msg(store_set_head(conn, &head, &se), "%s", se.msg);
    address rich, token;
    ck_assert(hex_to_address(RICH, &rich));
    ck_assert(hex_to_address(TOKEN, &token));
    u256 wei = u256_from_u64(1000000000000000000ULL);
    ck_assert(store_set_balance(conn, &rich, &wei, &se));
    test_set_code(conn, TOKEN, TOKEN_CODE);
    test_set_code(conn, REVERTER, "0x60006000fd");
    test_set_code(conn, INVALID_OP, "0xfe");
    uint8_t preimage[64] = {0}, slot_bytes[32];
    preimage[30] = 0xbe, preimage[31] = 0xef;
    keccak256(preimage, sizeof preimage, slot_bytes);
    u256 slot = u256_load_be(slot_bytes), balance = u256_from_u64(1000000);
    ck_assert(store_set_storage(conn, &token, &slot, &balance, &se));
    bool help;
    char err[256];
    char *argv[] = {"serve", "--db", db_path, NULL};
    ck_assert(rpc_config_load(&cfg, 3, argv, &help, err, sizeof err));
    ctx = (rpc_ctx){.cfg = &cfg, .conn = conn};
    ck_assert(store_get_chain_config(conn, &ctx.chain, &se));
}

static void close_db(void)
{
    store_disconnect(conn);
    store_close(db);
    test_remove_dir(tmp_dir);
}

/* Answers `body` both ways; fails when the fast path's answer differs.
 * Returns whether the fast path took it. */
static bool same_answer(const char *body, size_t len)
{
    size_t tree_len = 0, fast_len = 0;
    char *tree = rpc_dispatch_text(&ctx, body, len, &tree_len);
    rpc_fast_request r;
    if (!rpc_fast_parse(body, len, &r)) {
        free(tree);
        return false;
    }
    bool fell_back;
    char *fast = rpc_dispatch_fast(&ctx, &r, &fast_len, &fell_back);
    ck_assert_msg(!fell_back, "fell back outside live mode: %.*s", (int)len, body);
    ck_assert_msg(tree && fast, "no answer (tree %p, fast %p) for %.*s", (void *)tree, (void *)fast, (int)len, body);
    ck_assert_msg(tree_len == fast_len && memcmp(tree, fast, tree_len) == 0, "for %.*s\n tree: %s\n fast: %s", (int)len,
                  body, tree, fast);
    free(tree);
    free(fast);
    return true;
}

#define CALL_BODY(obj) "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[" obj ",\"latest\"]}"

START_TEST(plain_shapes_taken_and_same)
{
    open_db();
    static const char *const taken[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}",
        "{\"id\":\"abc\",\"jsonrpc\":\"2.0\",\"params\":[],\"method\":\"eth_chainId\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":999999999999999,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"a/b ~!@#$%^&*()<>?'\",\"method\":\"eth_chainId\",\"params\":[]}",
        CALL_BODY("{\"to\":\"" TOKEN "\",\"data\":\"" BALANCE_OF "\"}"),
        "{\"method\":\"eth_call\",\"params\":[{\"data\":\"" BALANCE_OF "\",\"to\":\"" TOKEN "\"},\"latest\"],\"id\":42,"
        "\"jsonrpc\":\"2.0\"}",
        " \r\n\t{ \"jsonrpc\" : \"2.0\" ,\n\"id\" : 7 , \"method\" :\"eth_call\",\"params\" : [ { \"to\" : \"" TOKEN
        "\" , \"input\" : \"" BALANCE_OF "\" } , \"latest\" ] } \n",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"" TOKEN "\",\"data\":\"" BALANCE_OF "\"}]}",
        CALL_BODY("{\"from\":\"" RICH "\",\"to\":\"" TOKEN "\",\"gas\":\"0x7a120\",\"value\":\"0x0\",\"data\":\"" BALANCE_OF "\"}"),
        CALL_BODY("{\"from\":\"" RICH "\",\"to\":\"" TOKEN "\",\"value\":\"0x1\",\"input\":\"0x\"}"),
        CALL_BODY("{\"to\":\"0x000000000000000000000000000000000000C008\",\"data\":\"0x70A08231" HOLDER_WORD "\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"data\":\"0x70a0\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\"}"),
        CALL_BODY("{\"to\":\"" REVERTER "\",\"data\":\"0x01\"}"),
        CALL_BODY("{\"to\":\"" INVALID_OP "\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"gas\":\"0x0\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"gas\":\"0xffffffffffffffff\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"value\":\"0x1\"}"), /* the zero sender cannot pay */
        CALL_BODY("{\"to\":\"" TOKEN "\",\"from\":\"" RICH "\",\"value\":"
                  "\"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"}"),
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"eth_getBalance\",\"params\":[\"" RICH "\",\"latest\"]}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"eth_getBalance\",\"params\":[\"" RICH "\"]}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"eth_getBalance\",\"params\":[\"" TOKEN "\"]}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"eth_getBalance\",\"params\":[\"0x00000000000000000000000000000000000000AA\"]}",
    };
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++)
        ck_assert_msg(same_answer(taken[i], strlen(taken[i])), "not taken: %s", taken[i]);
    close_db();
}
END_TEST

START_TEST(odd_inputs_same_answer)
{
    open_db();
    static const char *const odd[] = {
        /* duplicate keys (jansson keeps the last) */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBalance\",\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[],\"params\":[1]}",
        CALL_BODY("{\"to\":\"" TOKEN "\",\"to\":\"" REVERTER "\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"data\":\"0x01\",\"input\":\"0x02\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"data\":\"0x01\",\"input\":\"0x01\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"gas\":\"0x1\",\"gas\":\"0x5208\"}"),
        /* escapes */
        CALL_BODY("{\"to\":\"0x\\u0030\\u00300000000000000000000000000000000000c008\"}"),
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth\\u005fchainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\",\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"caf\xc3\xa9\",\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"\x7f\",\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"i\\u0064\":1,\"method\":\"eth_chainId\",\"params\":[]}",
        /* numbers */
        "{\"jsonrpc\":\"2.0\",\"id\":12345678901234567890,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1234567890123456,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":-1,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":-0,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1e3,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":01,\"method\":\"eth_chainId\",\"params\":[]}",
        CALL_BODY("{\"to\":\"" TOKEN "\",\"gas\":\"0x10000000000000000\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"gas\":\"0x01\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"gas\":\"0x\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"gas\":\"5208\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"gas\":\"0X5208\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"gas\":\"0xg\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"value\":\"0x10000000000000000000000000000000000000000000000000000000000000000\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"gas\":21000}"),
        /* wrong types */
        CALL_BODY("{\"to\":1}"),
        CALL_BODY("{\"to\":null,\"data\":\"0x\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"data\":null}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"data\":[]}"),
        CALL_BODY("[\"" TOKEN "\"]"),
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":{\"to\":\"" TOKEN "\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":\"x\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":null}",
        "{\"jsonrpc\":2.0,\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7,\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBalance\",\"params\":[7]}",
        /* missing fields */
        "{\"jsonrpc\":\"2.0\",\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBalance\",\"params\":[]}",
        CALL_BODY("{\"data\":\"" BALANCE_OF "\"}"),
        CALL_BODY("{}"),
        /* extra fields and parameters */
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[],\"extra\":1}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[\"latest\"]}",
        CALL_BODY("{\"to\":\"" TOKEN "\",\"gasPrice\":\"0x1\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"bogus\":\"0x1\"}"),
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"" TOKEN "\"},\"latest\",{}]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"" TOKEN "\"},\"0x1\"]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"" TOKEN "\"},\"0x0\"]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"" TOKEN "\"},\"pending\"]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"" TOKEN "\"},\"earliest\"]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"" TOKEN "\"},null]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"" TOKEN "\"},{\"blockNumber\":\"0x1\"}]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBalance\",\"params\":[\"" RICH "\",\"latest\",1]}",
        /* bad hex */
        CALL_BODY("{\"to\":\"" TOKEN "\",\"data\":\"0x7\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"data\":\"70a0\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"data\":\"\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"data\":\"0xzz\"}"),
        CALL_BODY("{\"to\":\"0x000000000000000000000000000000000000c08\"}"),
        CALL_BODY("{\"to\":\"0x0000000000000000000000000000000000000c008\"}"),
        CALL_BODY("{\"to\":\"000000000000000000000000000000000000c00800\"}"),
        CALL_BODY("{\"to\":\"0X000000000000000000000000000000000000c008\"}"),
        /* the envelope and the text around it */
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}]",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}x",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}{}",
        "\xef\xbb\xbf{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[],}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[ ,]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendRawTransaction\",\"params\":[\"0x00\"]}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call \",\"params\":[]}",
        "{}", "", "null", "[]",
    };
    int taken = 0;
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) taken += same_answer(odd[i], strlen(odd[i]));
    /* NUL bytes inside the text. */
    static const char nul_in_id[] = "{\"jsonrpc\":\"2.0\",\"id\":\"a\0b\",\"method\":\"eth_chainId\",\"params\":[]}";
    taken += same_answer(nul_in_id, sizeof nul_in_id - 1);
    static const char nul_after[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}\0";
    taken += same_answer(nul_after, sizeof nul_after - 1);
    /* Call data just within and past what the request holds. */
    static char big[2 * RPC_FAST_DATA_MAX + 256];
    for (int extra = 0; extra < 2; extra++) {
        int n = snprintf(big, sizeof big, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"" TOKEN "\",\"data\":\"0x");
        for (int k = 0; k < 2 * (RPC_FAST_DATA_MAX + extra); k++) big[n++] = "0123456789abcdef"[k % 16];
        snprintf(big + n, sizeof big - (size_t)n, "\"}]}");
        bool took = same_answer(big, strlen(big));
        ck_assert_msg(took == (extra == 0), "data of %d bytes: taken %d", RPC_FAST_DATA_MAX + extra, took);
    }
    /* Each character at each place of the hex and of a string (the reader
     * takes them eight at a time: the edges of each class of characters,
     * in every byte of a word and in the tail). */
    static const char edges[] = {'0', '9', ':', '/', '@', 'A', 'F', 'G', '`', 'a', 'f', 'g', 'x', ' ', '"', '\\',
                                 '\x1f', '\x7e', '\x7f', '\x80', '\xff', '\x01'};
    static const char *const shapes[] = {
        CALL_BODY("{\"to\":\"" TOKEN "\",\"data\":\"" BALANCE_OF "\"}"),
        CALL_BODY("{\"to\":\"" TOKEN "\",\"data\":\"0x70a08231ab\"}"),
        "{\"jsonrpc\":\"2.0\",\"id\":\"abcdefghijklmnopqrstu\",\"method\":\"eth_chainId\",\"params\":[]}",
    };
    int edge_taken = 0;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        char body[512];
        size_t len = strlen(shapes[k]);
        /* From the first string value's opening quote on. */
        size_t from = (size_t)(strchr(shapes[k], ':') - shapes[k]) + 2;
        for (size_t at = from; at < len - 8; at++)
            for (size_t e = 0; e < sizeof edges; e++) {
                memcpy(body, shapes[k], len);
                body[at] = edges[e];
                edge_taken += same_answer(body, len);
            }
    }
    ck_assert_int_gt(edge_taken, 1000);
    /* Which of these the fast path takes is its business; only the answers
     * are compared. (Several are taken: a mixed-case address, "0x" data.) */
    (void)taken;
    close_db();
}
END_TEST

/* Byte mutations of real requests: whatever the fast path takes, it must
 * answer as the tree does. */
START_TEST(mutations_same_answer)
{
    open_db();
    static const char *const bases[] = {
        CALL_BODY("{\"from\":\"" RICH "\",\"to\":\"" TOKEN "\",\"gas\":\"0x7a120\",\"data\":\"" BALANCE_OF "\"}"),
        "{\"method\":\"eth_getBalance\",\"params\":[\"" RICH "\",\"latest\"],\"id\":\"x1\",\"jsonrpc\":\"2.0\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"eth_chainId\",\"params\":[]}",
    };
    static const char alphabet[] = "{}[],:\"\\ 0123456789abcdefABCDEFxX-.eEtrufalsn\x01\x80\x7f";
    char buf[512];
    uint64_t seed = 20261203;
    int rounds = 0, taken = 0;
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        size_t base_len = strlen(bases[b]);
        for (int round = 0; round < 10000; round++, rounds++) {
            memcpy(buf, bases[b], base_len);
            size_t len = base_len;
            for (int k = 0; k < 1 + round % 3; k++) {
                seed = seed * 6364136223846793005u + 1442695040888963407u;
                size_t at = (size_t)(seed >> 33) % len;
                char c = alphabet[(seed >> 20) % (sizeof alphabet - 1)];
                switch ((seed >> 8) % 3) {
                case 0: buf[at] = c; break;
                case 1: memmove(buf + at, buf + at + 1, len - at - 1), len--; break;
                default: memmove(buf + at + 1, buf + at, len - at), buf[at] = c, len++; break;
                }
            }
            taken += same_answer(buf, len);
        }
    }
    /* Mutations inside hex digits, ids and whitespace keep the shape: a
     * share (about 3.5%) goes the fast way, else nothing was compared. */
    ck_assert_msg(taken > rounds / 50, "the fast path took %d of %d mutated bodies", taken, rounds);
    fprintf(stderr, "mutations: the fast path took %d of %d bodies, each answered as the tree answers\n", taken, rounds);
    close_db();
}
END_TEST

int main(void)
{
    json_object_seed(1);
    log_set_level(JLOG_ERROR); /* the calls log their errors at warn */
    metrics_init(rpc_method_names(), rpc_n_methods);
    return TEST_RUN("rpc_fast", TEST_GROUP("differential", 120, plain_shapes_taken_and_same, odd_inputs_same_answer,
                                           mutations_same_answer));
}
