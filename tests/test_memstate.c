/* The in-memory state (accounts, storage, code, block hashes through its
 * backend and sink), its state root and the logs hash, checked against
 * post-state roots and logs hashes taken from the execution-spec-tests
 * fixtures; and the fixture loading the conformance runner builds on. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "hexjson.h"
#include "base/keccak.h"
#include "state/memstate.h"
#include "tools/statetest.h"
#include "base/trie.h"

/* ---- helpers ------------------------------------------------------------ */


/* A transcribed fixture account. */
typedef struct {
    const char *addr, *nonce, *balance, *code;
    const char *slots[4][2];
} fixture_account;

static void put_fixture(memstate *m, const fixture_account *accs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        address a = test_address(accs[i].addr);
        u256 nonce = test_word(accs[i].nonce), balance = test_word(accs[i].balance);
        bytebuf code = {0};
        ck_assert(hex_to_bytes(accs[i].code, &code));
        memstate_put_account(m, &a, nonce.w[0], &balance, code.data, code.len);
        bytebuf_free(&code);
        for (size_t s = 0; s < 4 && accs[i].slots[s][0]; s++) {
            u256 k = test_word(accs[i].slots[s][0]), v = test_word(accs[i].slots[s][1]);
            memstate_put_storage(m, &a, &k, &v);
        }
    }
}

/* ---- fixture data ---------------------------------------------------------- */

/* static/state_tests/stEIP2930/manualCreate.json, [fork_Cancun-state_test-allGood],
 * post.Cancun[0].state and its hash. */
static const fixture_account manual_create_post[] = {
    {"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b", "0x02", "0xfffffffffffff0beec", "0x", {{0}}},
    {"0xec0e71ad0a90ffe1909d27dac207f7680abba42d",
     "0x01",
     "0x00",
     "0x",
     {{"0x01", "0x6a"}, {"0x00", "0x4e28"}}},
};
static const char manual_create_root[] = "0x660459aa7b5dacffd545592d05291ba6fb861a7bde26c654698cf9ec2864872a";

/* prague/eip7702_set_code_tx/test_self_sponsored_set_code.json,
 * [fork_Prague-state_test-stop-tx_value_1], post.Prague[0]. */
static const fixture_account set_code_post[] = {
    {"0x8a502e557f9a8d95f48974b64084086cf847c14e",
     "0x02",
     "0x3635c9adc5de9556af",
     "0xef010039df0bc75f827b25b01be30fd11ff5986c37dbb8",
     {{"0x00", "0x8a502e557f9a8d95f48974b64084086cf847c14e"},
      {"0x01", "0x8a502e557f9a8d95f48974b64084086cf847c14e"},
      {"0x02", "0x01"}}},
    {"0x39df0bc75f827b25b01be30fd11ff5986c37dbb8", "0x01", "0x00", "0x32600055336001553460025500", {{0}}},
};
static const char set_code_root[] = "0x56dacdfdafa3b0b8c2005cc3f6483010eae954d7f375d74bf53f780bba9987f4";

/* The same post state as the fixture writes it, for the JSON loader. */
static const char set_code_post_json[] =
    "{\"0x8a502e557f9a8d95f48974b64084086cf847c14e\": {\"nonce\": \"0x02\","
    " \"balance\": \"0x3635c9adc5de9556af\", \"code\": \"0xef010039df0bc75f827b25b01be30fd11ff5986c37dbb8\","
    " \"storage\": {\"0x00\": \"0x8a502e557f9a8d95f48974b64084086cf847c14e\","
    " \"0x01\": \"0x8a502e557f9a8d95f48974b64084086cf847c14e\", \"0x02\": \"0x01\"}},"
    " \"0x39df0bc75f827b25b01be30fd11ff5986c37dbb8\": {\"nonce\": \"0x01\", \"balance\": \"0x00\","
    " \"code\": \"0x32600055336001553460025500\", \"storage\": {}}}";

/* ---- backend and sink ------------------------------------------------------ */

/* The "state" group's fixture: an empty memstate and its backend, made
 * before each test and freed after it (check's checked fixture). */
static memstate *mem;
static state_backend be;

static void mem_setup(void)
{
    mem = memstate_new();
    be = memstate_backend(mem);
}

static void mem_teardown(void) { memstate_free(mem); }

START_TEST(test_empty_root)
{
    hash32 root;
    memstate_root(mem, &root);
    ck_assert_hash_eq(root, TRIE_EMPTY_ROOT);
    ck_assert_uint_eq(memstate_account_count(mem), 0);
}
END_TEST

START_TEST(test_backend_reads)
{
    address a = test_address_n(0x1234), absent = test_address_n(0x9999);
    u256 balance = u256_from_u64(1000), key = u256_from_u64(7), value = test_word("0xdeadbeef"), out;
    const uint8_t code[] = {0x60, 0x01, 0x60, 0x00, 0x55};
    memstate_put_account(mem, &a, 5, &balance, code, sizeof code);
    memstate_put_storage(mem, &a, &key, &value);

    account_info info;
    ck_assert(be.get_account(be.ctx, &a, &info));
    ck_assert_uint_eq(info.nonce, 5);
    ck_assert(u256_eq(&info.balance, &balance));
    hash32 code_hash;
    keccak256(code, sizeof code, code_hash.b);
    ck_assert_hash_eq(info.code_hash, code_hash);
    ck_assert(!be.get_account(be.ctx, &absent, &info));

    const uint8_t *got_code;
    size_t got_len;
    ck_assert(be.get_code(be.ctx, &code_hash, &got_code, &got_len));
    ck_assert_uint_eq(got_len, sizeof code);
    ck_assert_mem_eq(got_code, code, sizeof code);
    ck_assert(be.get_code(be.ctx, &KECCAK_EMPTY, &got_code, &got_len));
    ck_assert_uint_eq(got_len, 0);
    ck_assert(!be.get_code(be.ctx, &TRIE_EMPTY_ROOT, &got_code, &got_len));

    be.get_storage(be.ctx, &a, &key, &out);
    ck_assert(u256_eq(&out, &value));
    u256 other = u256_from_u64(8);
    be.get_storage(be.ctx, &a, &other, &out);
    ck_assert(u256_is_zero(&out));
    be.get_storage(be.ctx, &absent, &key, &out);
    ck_assert(u256_is_zero(&out));
    ck_assert(be.has_storage(be.ctx, &a));
    ck_assert(!be.has_storage(be.ctx, &absent));

    u256 zero = u256_zero();
    memstate_put_storage(mem, &a, &key, &zero); /* zero deletes */
    be.get_storage(be.ctx, &a, &key, &out);
    ck_assert(u256_is_zero(&out));
    ck_assert(!be.has_storage(be.ctx, &a));
}
END_TEST

START_TEST(test_block_hashes)
{
    hash32 h = test_hash("0x5e20a0453cecd065ea59c37ac63e079ee08998b6045136a8ce6635c7912ec0b6"), out;
    ck_assert(!be.get_block_hash(be.ctx, 0, &out));
    memstate_set_block_hash(mem, 41, &h);
    ck_assert(be.get_block_hash(be.ctx, 41, &out));
    ck_assert_hash_eq(out, h);
    ck_assert(!be.get_block_hash(be.ctx, 42, &out));
    for (uint64_t n = 0; n < 1000; n++) {
        hash32 hn = {{0}};
        hn.b[0] = (uint8_t)n;
        hn.b[1] = (uint8_t)(n >> 8);
        memstate_set_block_hash(mem, n * 3, &hn);
    }
    ck_assert(be.get_block_hash(be.ctx, 999 * 3, &out));
    ck_assert_uint_eq(out.b[0] | out.b[1] << 8, 999);
    ck_assert(be.get_block_hash(be.ctx, 41, &out)); /* kept its own entry */
    ck_assert_hash_eq(out, h);
}
END_TEST

/* go-ethereum's state tests answer BLOCKHASH(n) with keccak256("n"). */
START_TEST(test_state_test_block_hashes)
{
    hash32 out;
    st_set_block_hashes(mem, 1);
    ck_assert(be.get_block_hash(be.ctx, 0, &out));
    /* keccak256("0") */
    ck_assert_hash_eq(out, test_hash("0x044852b2a670ade5407e78fb2863c51de9fcb96542a07186fe3aeda6bb8a116d"));
    ck_assert(!be.get_block_hash(be.ctx, 1, &out));
    st_set_block_hashes(mem, 1000);
    ck_assert(be.get_block_hash(be.ctx, 744, &out));
    ck_assert(!be.get_block_hash(be.ctx, 743, &out));
    ck_assert(be.get_block_hash(be.ctx, 999, &out));
}
END_TEST

START_TEST(test_sink_writes)
{
    state_sink sink = memstate_sink(mem);
    address a = test_address_n(1), b = test_address_n(2);
    u256 key = u256_from_u64(1), value = u256_from_u64(2), zero = u256_zero(), out;
    const uint8_t code[] = {0x5f, 0x5f, 0xf3};
    account_info info = {.nonce = 1, .balance = u256_from_u64(10)};
    keccak256(code, sizeof code, info.code_hash.b);

    sink.put_storage(sink.ctx, &a, &key, &value); /* before its account: still kept */
    sink.put_account(sink.ctx, &a, &info, code, sizeof code, true);
    be.get_storage(be.ctx, &a, &key, &out);
    ck_assert(u256_eq(&out, &value));
    account_info got;
    ck_assert(be.get_account(be.ctx, &a, &got));
    ck_assert_uint_eq(got.nonce, 1);
    ck_assert_hash_eq(got.code_hash, info.code_hash);

    info.nonce = 2; /* an update keeps the storage */
    sink.put_account(sink.ctx, &a, &info, code, sizeof code, false);
    be.get_storage(be.ctx, &a, &key, &out);
    ck_assert(u256_eq(&out, &value));

    const uint8_t *code_ptr;
    size_t code_len;
    ck_assert(be.get_code(be.ctx, &info.code_hash, &code_ptr, &code_len));
    sink.delete_account(sink.ctx, &a);
    ck_assert(!be.get_account(be.ctx, &a, &got));
    ck_assert_mem_eq(code_ptr, code, sizeof code); /* code outlives its account */
    ck_assert_uint_eq(memstate_account_count(mem), 0);

    info.nonce = 0; /* re-created: the old storage is gone */
    sink.put_account(sink.ctx, &a, &info, code, sizeof code, true);
    be.get_storage(be.ctx, &a, &key, &out);
    ck_assert(u256_is_zero(&out));

    sink.put_storage(sink.ctx, &b, &key, &zero); /* zero for an absent account: nothing */
    ck_assert(!be.get_account(be.ctx, &b, &got));
    sink.delete_account(sink.ctx, &b); /* deleting an absent account: nothing */
    ck_assert_uint_eq(memstate_account_count(mem), 1);
}
END_TEST

/* Many accounts and slots, with deletions in between (backward-shift
 * deletion must keep every survivor reachable). */
START_TEST(test_many_accounts)
{
    enum { N = 120000 };
    for (uint64_t i = 0; i < N; i++) {
        address a = test_address_n(i * 7919);
        u256 bal = u256_from_u64(i + 1);
        memstate_put_account(mem, &a, i, &bal, NULL, 0);
    }
    ck_assert_uint_eq(memstate_account_count(mem), N);
    state_sink sink = memstate_sink(mem);
    for (uint64_t i = 0; i < N; i += 2) {
        address a = test_address_n(i * 7919);
        sink.delete_account(sink.ctx, &a);
    }
    ck_assert_uint_eq(memstate_account_count(mem), N / 2);
    for (uint64_t i = 0; i < N; i++) {
        address a = test_address_n(i * 7919);
        account_info info;
        bool exists = be.get_account(be.ctx, &a, &info);
        ck_assert_int_eq(exists, i % 2 == 1);
        if (exists) ck_assert_uint_eq(info.nonce, i);
    }
}
END_TEST

START_TEST(test_many_slots)
{
    enum { N = 50000 };
    address a = test_address_n(77);
    u256 bal = u256_zero(), zero = u256_zero();
    memstate_put_account(mem, &a, 0, &bal, NULL, 0);
    for (uint64_t i = 0; i < N; i++) {
        u256 k = {{i, i * 3, 0, i % 5}}, v = u256_from_u64(i + 1);
        memstate_put_storage(mem, &a, &k, &v);
    }
    for (uint64_t i = 0; i < N; i += 3) {
        u256 k = {{i, i * 3, 0, i % 5}};
        memstate_put_storage(mem, &a, &k, &zero);
    }
    for (uint64_t i = 0; i < N; i++) {
        u256 k = {{i, i * 3, 0, i % 5}}, out;
        be.get_storage(be.ctx, &a, &k, &out);
        ck_assert_uint_eq(out.w[0], i % 3 ? i + 1 : 0);
    }
}
END_TEST

/* ---- roots ------------------------------------------------------------------- */

/* The root of a fixture's post state (its accounts put one by one) is the
 * root the fixture names. */
static void check_fixture_root(const fixture_account *post, size_t n, const char *root_hex)
{
    memstate *m = memstate_new();
    put_fixture(m, post, n);
    hash32 root;
    memstate_root(m, &root);
    ck_assert_hash_eq(root, test_hash(root_hex));
    memstate_free(m);
}

START_TEST(test_root_storage_only) { check_fixture_root(manual_create_post, 2, manual_create_root); }
END_TEST

START_TEST(test_root_code_and_storage) { check_fixture_root(set_code_post, 2, set_code_root); }
END_TEST

/* The root depends on the contents only: not on insertion order, nor on
 * accounts and slots that came and went, nor on a cached storage root. */
START_TEST(test_root_history_independent)
{
    memstate *m = memstate_new();
    state_sink sink = memstate_sink(m);
    address extra = test_address_n(0xabcdef);
    u256 bal = u256_from_u64(5), k = u256_from_u64(9), v = u256_from_u64(3), zero = u256_zero();
    memstate_put_account(m, &extra, 1, &bal, NULL, 0);
    put_fixture(m, &set_code_post[1], 1);
    hash32 root;
    memstate_root(m, &root); /* caches storage roots */
    put_fixture(m, &set_code_post[0], 1);
    address sponsor = test_address(set_code_post[0].addr);
    memstate_put_storage(m, &sponsor, &k, &v);
    memstate_root(m, &root);
    memstate_put_storage(m, &sponsor, &k, &zero);
    sink.delete_account(sink.ctx, &extra);
    memstate_root(m, &root);
    ck_assert_hash_eq(root, test_hash(set_code_root));
    memstate_free(m);
}
END_TEST

/* ---- logs hash ----------------------------------------------------------- */

START_TEST(test_logs_hash_empty)
{
    hash32 h;
    logs_hash(NULL, 0, &h);
    ck_assert_hash_eq(h, KECCAK_EMPTY_LIST);
}
END_TEST

/* static/state_tests/stLogTests/log1_logMemsizeZero.json: LOG1(offset 1,
 * size 0, topic 0): a zero topic and no data; log3_nonEmptyMem.json: LOG3 with three zero topics and 32
 * bytes of 0xff. */
START_TEST(test_logs_hash_fixtures)
{
    log_entry one = {.addr = test_address("0xf1359f879ea0f6ec33816815a2db31a0cbb338c8"), .n_topics = 1};
    hash32 h;
    logs_hash(&one, 1, &h);
    ck_assert_hash_eq(h, test_hash("0xda6766a048386c85835f2840ea671a53bbd841f32287392dad596a9d9e9c79b1"));

    uint8_t data[32];
    memset(data, 0xff, sizeof data);
    log_entry three = {.addr = test_address("0x8bc6561784fd5fa62209061825e6121bc76fe714"),
                       .n_topics = 3,
                       .data = data,
                       .data_len = sizeof data};
    logs_hash(&three, 1, &h);
    ck_assert_hash_eq(h, test_hash("0x339a761120a3bc0d0e41d976ed5061dc0964596df1f72e2407aea213ad2679eb"));
}
END_TEST

/* ---- hex and JSON ---------------------------------------------------------------- */

START_TEST(test_hex_quantities)
{
    u256 v;
    uint64_t x;
    ck_assert(hex_to_u256("0x00", &v) && u256_is_zero(&v));
    ck_assert(hex_to_u256("0x1", &v) && v.w[0] == 1);
    ck_assert(hex_to_u256("0xFFffffffffffffff0000000000000001", &v));
    ck_assert(v.w[0] == 1 && v.w[1] == UINT64_MAX && v.w[2] == 0);
    ck_assert(hex_to_u256("0x8000000000000000000000000000000000000000000000000000000000000000", &v));
    ck_assert(v.w[3] == (uint64_t)1 << 63);
    ck_assert(!hex_to_u256("0x", &v));
    ck_assert(!hex_to_u256("12", &v));
    ck_assert(!hex_to_u256("0x1g", &v));
    ck_assert(!hex_to_u256("0x 1", &v));
    ck_assert(!hex_to_u256("0x10000000000000000000000000000000000000000000000000000000000000000", &v));
    ck_assert(hex_to_u64("0xffffffffffffffff", &x) && x == UINT64_MAX);
    ck_assert(!hex_to_u64("0x10000000000000000", &x));
    char s[HEX_U256_LEN];
    hex_from_u256(&v, s);
    ck_assert_str_eq(s, "0x8000000000000000000000000000000000000000000000000000000000000000");
    v = u256_zero();
    hex_from_u256(&v, s);
    ck_assert_str_eq(s, "0x0");
}
END_TEST

START_TEST(test_hex_data)
{
    address a;
    hash32 h;
    bytebuf b = {0};
    ck_assert(hex_to_address("0xA94F5374fce5edbc8e2a8697c15331677e6ebf0b", &a));
    ck_assert_uint_eq(a.b[0], 0xa9);
    ck_assert_uint_eq(a.b[19], 0x0b);
    ck_assert(!hex_to_address("0xa94f5374fce5edbc8e2a8697c15331677e6ebf0", &a));
    ck_assert(!hex_to_address("0x00a94f5374fce5edbc8e2a8697c15331677e6ebf0b", &a));
    ck_assert(!hex_to_hash("0x01", &h));
    ck_assert(hex_to_bytes("0x", &b) && b.len == 0);
    ck_assert(hex_to_bytes("0x00ff10", &b) && b.len == 3 && b.data[1] == 0xff && b.data[2] == 0x10);
    ck_assert(!hex_to_bytes("0x123", &b));
    ck_assert(!hex_to_bytes("", &b));
    ck_assert_uint_eq(b.len, 3);
    char *hex = hex_from_bytes(b.data, b.len);
    ck_assert_str_eq(hex, "0x00ff10");
    free(hex);
    bytebuf_free(&b);
}
END_TEST

START_TEST(test_json_errors)
{
    json_t *obj = json_loads("{\"q\": \"0x1z\", \"n\": -1, \"big\": \"0x1ffffffffffffffff\", \"h\": \"0x01\","
                             " \"i\": 42, \"s\": [1]}",
                             0, NULL);
    ck_assert_ptr_nonnull(obj);
    hj_error err;
    u256 v;
    uint64_t x;
    hash32 h;
    ck_assert(!hj_get_u256(obj, "q", &v, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "q: expected a hex quantity"));
    ck_assert(!hj_get_u256(obj, "n", &v, &err));
    ck_assert(!hj_get_u64(obj, "big", &x, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "64 bits"));
    ck_assert(!hj_get_u256(obj, "missing", &v, &err));
    ck_assert_str_eq(err.msg, "missing: missing");
    ck_assert(hj_opt_u256(obj, "missing", &v, &err));
    ck_assert(hj_get_u64(obj, "i", &x, &err) && x == 42);
    ck_assert(!hj_get_hash(obj, "h", &h, &err)); /* a hash has all 64 digits */
    ck_assert_ptr_nonnull(strstr(err.msg, "h: expected 32 bytes"));
    json_t *arr;
    ck_assert(!hj_get_object(obj, "s", &arr, &err));
    ck_assert_str_eq(err.msg, "s: expected an object, got an array");
    json_decref(obj);
}
END_TEST

/* ---- fixture loading ----------------------------------------------------------- */

START_TEST(test_load_pre)
{
    json_t *pre = json_loads(set_code_post_json, 0, NULL);
    ck_assert_ptr_nonnull(pre);
    memstate *m = memstate_new();
    hj_error err;
    ck_assert_msg(st_load_pre(pre, m, &err), "%s", err.msg);
    hash32 root;
    memstate_root(m, &root);
    ck_assert_hash_eq(root, test_hash(set_code_root));
    memstate_free(m);
    json_decref(pre);
}
END_TEST

START_TEST(test_load_pre_errors)
{
    static const char *const bad[] = {
        "{\"0x1234\": {}}",
        "{\"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b\": {\"balance\": \"10\"}}",
        "{\"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b\": {\"code\": \"0x0\"}}",
        "{\"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b\": {\"storage\": {\"zz\": \"0x01\"}}}",
        "{\"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b\": {\"storage\": []}}",
        "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *pre = json_loads(bad[i], 0, NULL);
        memstate *m = memstate_new();
        hj_error err = {{0}};
        ck_assert_msg(!st_load_pre(pre, m, &err), "accepted %s", bad[i]);
        ck_assert_msg(strncmp(err.msg, "pre", 3) == 0, "message: %s", err.msg);
        memstate_free(m);
        json_decref(pre);
    }
}
END_TEST

static json_t *load_tx_json(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* Loads the transaction of indexes (d, g, v) from j, which must succeed. */
static void load_tx_ok(const json_t *j, size_t d, size_t g, size_t v, transaction *tx, tx_storage *ts)
{
    hj_error err;
    ck_assert_msg(st_load_tx(j, d, g, v, tx, ts, &err), "%s", err.msg);
}

START_TEST(test_load_tx_indexes_and_types)
{
    json_t *j = load_tx_json(
        "{\"nonce\": \"0x01\", \"gasPrice\": \"0x0a\", \"gasLimit\": [\"0x061a80\", \"0x5208\"],"
        " \"value\": [\"0x00\", \"0x07\"], \"data\": [\"0x5a30\", \"0x\"],"
        " \"accessLists\": [[{\"address\": \"0xec0e71ad0a90ffe1909d27dac207f7680abba42d\","
        " \"storageKeys\": [\"0x0000000000000000000000000000000000000000000000000000000000000001\"]}], null],"
        " \"sender\": \"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b\", \"to\": \"\"}");
    transaction tx;
    tx_storage ts;
    hj_error err;
    load_tx_ok(j, 0, 1, 1, &tx, &ts);
    ck_assert_int_eq(tx.type, 1);
    ck_assert(!tx.has_to);
    ck_assert_uint_eq(tx.data_len, 2);
    ck_assert_uint_eq(tx.data[0], 0x5a);
    ck_assert_uint_eq(tx.gas_limit.w[0], 0x5208);
    ck_assert_uint_eq(tx.value.w[0], 7);
    ck_assert_uint_eq(tx.gas_price.w[0], 10);
    ck_assert_uint_eq(tx.nonce.w[0], 1);
    ck_assert_uint_eq(tx.n_access_list, 1);
    ck_assert_uint_eq(tx.access_list[0].n_keys, 1);
    ck_assert_uint_eq(tx.access_list[0].keys[0].b[31], 1);
    tx_storage_free(&ts);

    ck_assert(st_load_tx(j, 1, 0, 0, &tx, &ts, &err)); /* a null access list: legacy */
    ck_assert_int_eq(tx.type, 0);
    ck_assert_uint_eq(tx.data_len, 0);
    tx_storage_free(&ts);

    ck_assert(!st_load_tx(j, 2, 0, 0, &tx, &ts, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "out of range"));
    tx_storage_free(&ts);
    json_decref(j);
}
END_TEST

START_TEST(test_load_tx_typed)
{
    json_t *j = load_tx_json(
        "{\"nonce\": \"0x00\", \"maxFeePerGas\": \"0x07\", \"maxPriorityFeePerGas\": \"0x02\","
        " \"gasLimit\": [\"0x07a120\"], \"value\": [\"0x01\"], \"data\": [\"0x\"], \"accessLists\": [[]],"
        " \"authorizationList\": [{\"chainId\": \"0x00\", \"address\": "
        "\"0x0000000000000000000000000000000000000001\","
        " \"nonce\": \"0x00\", \"v\": \"0x01\", \"r\": \"0x02\", \"s\": \"0x03\", \"yParity\": \"0x01\","
        " \"signer\": \"0x82cc7f4dc2d0eefc9e1dfb0947c3c0584adb6488\"}],"
        " \"sender\": \"0x632f1699d9211ff9934b04cf5f754b1a37cc2d84\","
        " \"to\": \"0x9a58e47007e166ab5182036d453602816ad8a3dc\"}");
    transaction tx;
    tx_storage ts;
    load_tx_ok(j, 0, 0, 0, &tx, &ts);
    ck_assert_int_eq(tx.type, 4);
    ck_assert(tx.has_to);
    ck_assert_uint_eq(tx.to.b[0], 0x9a);
    ck_assert_uint_eq(tx.max_fee_per_gas.w[0], 7);
    ck_assert_uint_eq(tx.max_priority_fee_per_gas.w[0], 2);
    ck_assert_uint_eq(tx.n_authorizations, 1);
    ck_assert_uint_eq(tx.authorizations[0].addr.b[19], 1);
    ck_assert_uint_eq(tx.authorizations[0].y_parity.w[0], 1);
    ck_assert_uint_eq(tx.authorizations[0].s.w[0], 3);
    ck_assert_uint_eq(tx.n_access_list, 0);
    tx_storage_free(&ts);
    json_decref(j);

    j = load_tx_json("{\"nonce\": \"0x00\", \"maxFeePerGas\": \"0x07\", \"maxPriorityFeePerGas\": \"0x00\","
                     " \"gasLimit\": [\"0x07a120\"], \"value\": [\"0x01\"], \"data\": [\"0x\"],"
                     " \"maxFeePerBlobGas\": \"0x01\", \"blobVersionedHashes\":"
                     " [\"0x0100000000000000000000000000000000000000000000000000000000000000\"],"
                     " \"sender\": \"0x632f1699d9211ff9934b04cf5f754b1a37cc2d84\","
                     " \"to\": \"0x9a58e47007e166ab5182036d453602816ad8a3dc\"}");
    load_tx_ok(j, 0, 0, 0, &tx, &ts);
    ck_assert_int_eq(tx.type, 3);
    ck_assert_uint_eq(tx.n_blob_hashes, 1);
    ck_assert_uint_eq(tx.blob_hashes[0].b[0], 1);
    ck_assert_uint_eq(tx.max_fee_per_blob_gas.w[0], 1);
    tx_storage_free(&ts);
    json_decref(j);
}
END_TEST

/* Without `sender`, the sender follows from secretKey (the well-known
 * test key 0x45a9... belongs to 0xa94f...). */
START_TEST(test_load_tx_secret_key)
{
    json_t *j = load_tx_json(
        "{\"nonce\": \"0x00\", \"gasPrice\": \"0x0a\", \"gasLimit\": [\"0x5208\"], \"value\": [\"0x00\"],"
        " \"data\": [\"0x\"], \"to\": \"0xbe7c43a580000000000000000000000000000001\","
        " \"secretKey\": \"0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8\"}");
    transaction tx;
    tx_storage ts;
    load_tx_ok(j, 0, 0, 0, &tx, &ts);
    address want = test_address("0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b");
    ck_assert_mem_eq(tx.sender.b, want.b, 20);
    tx_storage_free(&ts);
    json_decref(j);
}
END_TEST

START_TEST(test_load_block_env)
{
    json_t *env = json_loads(
        "{\"currentCoinbase\": \"0x2adc25665018aa1fe0e6bc666dac8fc2697ff9ba\", \"currentGasLimit\": "
        "\"0x07270e00\","
        " \"currentNumber\": \"0x01\", \"currentTimestamp\": \"0x03e8\", \"currentRandom\": \"0x00\","
        " \"currentDifficulty\": \"0x00\", \"currentBaseFee\": \"0x07\", \"currentExcessBlobGas\": "
        "\"0x0e0000\"}",
        0, NULL);
    json_t *config = json_loads("{\"blobSchedule\": {\"Cancun\": {\"target\": \"0x03\", \"max\": \"0x05\","
                                " \"baseFeeUpdateFraction\": \"0x32f0ed\"}}, \"chainid\": \"0x07\"}",
                                0, NULL);
    block_env b;
    hj_error err;
    ck_assert_msg(st_load_block_env(env, config, FORK_CANCUN, "Cancun", &b, &err), "%s", err.msg);
    test_check_block(&b, 1, 1000, 0x07270e00, 7, 7);
    ck_assert_uint_eq(b.coinbase.b[0], 0x2a);
    ck_assert_uint_eq(b.excess_blob_gas, 0x0e0000);
    ck_assert_uint_eq(b.blob_max_per_block, 5);
    ck_assert_uint_eq(b.blob_base_fee_update_fraction, 3338477);
    /* fake_exponential(1, 0xe0000, 3338477) = 1 */
    ck_assert_uint_eq(b.blob_base_fee.w[0], 1);

    json_object_del(env, "currentBaseFee");
    ck_assert(st_load_block_env(env, NULL, FORK_LONDON, "London", &b, &err));
    ck_assert_uint_eq(b.base_fee.w[0], 10);
    ck_assert_uint_eq(b.chain_id.w[0], 1);
    json_object_set_new(env, "currentNumber", json_string("0xzz"));
    ck_assert(!st_load_block_env(env, NULL, FORK_LONDON, "London", &b, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "currentNumber"));
    json_decref(env);
    json_decref(config);
}
END_TEST

int main(void)
{
    return TEST_RUN("memstate",
        {.name = "state", .timeout = 60, .setup = mem_setup, .teardown = mem_teardown,
         .tests = TESTS(test_empty_root, test_backend_reads, test_block_hashes, test_state_test_block_hashes,
            test_sink_writes, test_many_accounts, test_many_slots)},
        TEST_GROUP("hashes", 0, test_root_storage_only, test_root_code_and_storage,
            test_root_history_independent, test_logs_hash_empty, test_logs_hash_fixtures),
        TEST_GROUP("fixtures", 0, test_hex_quantities, test_hex_data, test_json_errors, test_load_pre,
            test_load_pre_errors, test_load_tx_indexes_and_types, test_load_tx_typed, test_load_tx_secret_key,
            test_load_block_env));
}
