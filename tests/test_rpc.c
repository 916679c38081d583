/* The JSON-RPC service without HTTP: parameter decoding with geth's rules
 * and messages, the JSON-RPC envelope (batches, ids, notifications, error
 * codes), revert-reason decoding, state overrides, the settings parsers,
 * the metrics text, and the methods end to end against a store in a
 * temporary directory, each once per engine (interp, jit): eth_call's errors
 * and overrides, geth's gas estimator, access lists, block selectors, admin
 * writes. The HTTP server itself is exercised by tests/rpc-e2e.sh. */
#include <check.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "config.h"
#include "cpus.h"
#include "hexjson.h"
#include "jit/jit.h"
#include "base/format.h"
#include "base/keccak.h"
#include "base/params.h"
#include "log.h"
#include "state/memstate.h"
#include "metrics.h"
#include "rpc/overrides.h"
#include "rpc/rpc.h"
#include "rpc/rpc_exec.h"
#include "rpc/rpc_json.h"
#include "rpc/rpc_params.h"
#include "store.h"

/* ------------------------------------------------------------ helpers */

static rpc_config cfg;

static void default_config(void)
{
    bool help;
    char err[256];
    char *argv[] = {"serve", "--db", "unused.db", NULL};
    ck_assert(rpc_config_load(&cfg, 3, argv, &help, err, sizeof err));
}

/* Answers `body` and parses the answer (NULL when there is none). */
static json_t *ask(rpc_ctx *ctx, const char *body)
{
    size_t len;
    char *text = rpc_dispatch_text(ctx, body, strlen(body), &len);
    if (!text) return NULL;
    json_error_t jerr;
    json_t *r = json_loads(text, 0, &jerr);
    ck_assert_msg(r != NULL, "answer is not JSON: %s", text);
    free(text);
    return r;
}

static int err_code(const json_t *r)
{
    const json_t *e = json_object_get(r, "error");
    ck_assert_msg(e != NULL, "expected an error, got a result");
    return (int)json_integer_value(json_object_get(e, "code"));
}

/* A string field of the response's error object (NULL when absent). */
static const char *err_field(const json_t *r, const char *field)
{
    return json_string_value(json_object_get(json_object_get(r, "error"), field));
}

static const char *err_msg(const json_t *r) { return err_field(r, "message"); }
static const char *err_data(const json_t *r) { return err_field(r, "data"); }

static const char *result_str(const json_t *r)
{
    const json_t *v = json_object_get(r, "result");
    ck_assert_msg(v != NULL, "expected a result, got error %s", err_msg(r));
    return json_string_value(v);
}

#define ASK_ERR(ctx, body, code, msg)                                                  \
    do {                                                                               \
        json_t *r_ = ask(ctx, body);                                                   \
        ck_assert_int_eq(err_code(r_), code);                                          \
        ck_assert_str_eq(err_msg(r_), msg);                                            \
        json_decref(r_);                                                               \
    } while (0)

#define ASK_NULL(ctx, body)                                                            \
    do {                                                                               \
        json_t *r_ = ask(ctx, body);                                                   \
        ck_assert_msg(json_is_null(json_object_get(r_, "result")), "expected a null result"); \
        json_decref(r_);                                                               \
    } while (0)

#define ASK_TRUE(ctx, body)                                                            \
    do {                                                                               \
        json_t *r_ = ask(ctx, body);                                                   \
        ck_assert_msg(json_is_true(json_object_get(r_, "result")), "expected true");  \
        json_decref(r_);                                                               \
    } while (0)

#define ASK_OK(ctx, body, want)                                                        \
    do {                                                                               \
        json_t *r_ = ask(ctx, body);                                                   \
        ck_assert_str_eq(result_str(r_), want);                                        \
        json_decref(r_);                                                               \
    } while (0)

/* An HTTP-thread context: no database. */
static rpc_ctx inline_ctx(void)
{
    rpc_ctx ctx = {.cfg = &cfg};
    ctx.chain.chain_id = 1337;
    return ctx;
}

/* ------------------------------------------------- parameter decoding */

/* The JSON value of `text` (any value, not only objects), kept until the
 * next call: the parameter parsers below read it in place. */
static json_t *json_of(const char *text)
{
    static json_t *held;
    json_decref(held);
    json_error_t jerr;
    held = json_loads(text, JSON_DECODE_ANY, &jerr);
    ck_assert_msg(held != NULL, "bad JSON in the test: %s", text);
    return held;
}

static bool u256_reason(const char *json, param_error *e)
{
    u256 out;
    field_ctx where = {"TransactionArgs", "value"};
    return p_u256(json_of(json), &where, &out, e);
}

START_TEST(quantities_follow_geth)
{
    param_error e;
    ck_assert(u256_reason("\"0x0\"", &e));
    ck_assert(u256_reason("\"0x1f\"", &e));
    ck_assert(u256_reason("\"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"", &e));
    static const struct {
        const char *in, *reason;
    } bad[] = {
        {"\"0x01\"", "hex number with leading zero digits"},
        {"\"0x\"", "hex string \\\"0x\\\""},
        {"\"12\"", "hex string without 0x prefix"},
        {"\"0xzz\"", "invalid hex string"},
        {"\"0x10000000000000000000000000000000000000000000000000000000000000000\"", "hex number > 256 bits"},
        {"\"\"", "empty hex string"},
        {"12", "non-string"},
        {"-1", "non-string"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(!u256_reason(bad[i].in, &e), "%s accepted", bad[i].in);
        char want[300];
        snprintf(want, sizeof want, "json: cannot unmarshal %s into Go struct field TransactionArgs.value of type *hexutil.Big",
                 bad[i].reason);
        /* The JSON escaping in the table is for readability of "0x". */
        if (strstr(bad[i].reason, "\\\"")) snprintf(want, sizeof want, "json: cannot unmarshal hex string \"0x\" into Go struct field TransactionArgs.value of type *hexutil.Big");
        ck_assert_str_eq(e.msg, want);
    }
    uint64_t g;
    json_t *big = json_string("0x10000000000000000");
    ck_assert(!p_u64(big, NULL, &g, &e));
    ck_assert_str_eq(e.msg, "json: cannot unmarshal hex number > 64 bits into Go value of type hexutil.Uint64");
    json_decref(big);
}
END_TEST

START_TEST(fixed_data_and_bytes)
{
    param_error e;
    address a;
    hash32 h;
    bytebuf b = {0};
    json_t *v = json_string("0x1234");
    ck_assert(!p_address(v, NULL, &a, &e));
    ck_assert_str_eq(e.msg, "hex string has length 4, want 40 for common.Address");
    ck_assert(!p_hash(v, NULL, &h, &e));
    ck_assert_str_eq(e.msg, "hex string has length 4, want 64 for common.Hash");
    ck_assert(p_bytes(v, NULL, &b, &e));
    ck_assert_uint_eq(b.len, 2);
    json_decref(v);
    v = json_string("0x123");
    ck_assert(!p_bytes(v, NULL, &b, &e));
    ck_assert_str_eq(e.msg, "json: cannot unmarshal hex string of odd length into Go value of type hexutil.Bytes");
    json_decref(v);
    v = json_string("f39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    ck_assert(!p_address(v, NULL, &a, &e));
    ck_assert_str_eq(e.msg, "json: cannot unmarshal hex string without 0x prefix into Go value of type common.Address");
    json_decref(v);
    v = json_string("0xg39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    ck_assert(!p_address(v, NULL, &a, &e));
    ck_assert_str_eq(e.msg, "json: cannot unmarshal invalid hex string into Go value of type common.Address");
    json_decref(v);
    /* 33 bytes for a 32-byte word. */
    v = json_string("0x000000000000000000000000000000000000000000000000000000000000000001");
    ck_assert(!p_hash(v, NULL, &h, &e));
    ck_assert_str_eq(e.msg, "hex string has length 66, want 64 for common.Hash");
    json_decref(v);
    bytebuf_free(&b);
}
END_TEST

static bool block_of(const char *json, block_selector *sel, param_error *e) { return p_block(json_of(json), sel, e); }

START_TEST(block_selectors)
{
    block_selector s;
    param_error e;
    ck_assert(block_of("\"latest\"", &s, &e) && s.tag == BLOCK_LATEST);
    ck_assert(block_of("\"pending\"", &s, &e) && s.tag == BLOCK_PENDING);
    ck_assert(block_of("\"safe\"", &s, &e) && s.tag == BLOCK_SAFE);
    ck_assert(block_of("\"finalized\"", &s, &e) && s.tag == BLOCK_FINALIZED);
    ck_assert(block_of("\"earliest\"", &s, &e) && s.tag == BLOCK_EARLIEST);
    ck_assert(block_of("\"0x2a\"", &s, &e) && s.tag == BLOCK_NUMBER && s.number == 42);
    ck_assert(block_of("{\"blockNumber\":\"0x7\"}", &s, &e) && s.tag == BLOCK_NUMBER && s.number == 7);
    ck_assert(block_of("{\"blockHash\":\"0x00000000000000000000000000000000000000000000000000000000000000ab\","
                       "\"requireCanonical\":true}",
                       &s, &e) &&
              s.tag == BLOCK_HASH && s.require_canonical && s.hash.b[31] == 0xab);
    ck_assert(block_of("\"0x00000000000000000000000000000000000000000000000000000000000000cd\"", &s, &e) &&
              s.tag == BLOCK_HASH && s.hash.b[31] == 0xcd);
    ck_assert(!block_of("\"0x02\"", &s, &e));
    ck_assert_str_eq(e.msg, "hex number with leading zero digits");
    ck_assert(!block_of("\"newest\"", &s, &e));
    ck_assert_str_eq(e.msg, "hex string without 0x prefix");
    ck_assert(!block_of("\"0x8000000000000000\"", &s, &e));
    ck_assert_str_eq(e.msg, "blocknumber too high");
    ck_assert(!block_of("7", &s, &e));
    ck_assert_str_eq(e.msg, "json: cannot unmarshal number into Go value of type string");
    ck_assert(!block_of("{}", &s, &e));
    ck_assert_str_eq(e.msg, "must specify either BlockHash or BlockNumber");
    ck_assert(!block_of("{\"blockNumber\":\"0x1\",\"blockHash\":"
                        "\"0x00000000000000000000000000000000000000000000000000000000000000ab\"}",
                        &s, &e));
    ck_assert_str_eq(e.msg, "cannot specify both BlockHash and BlockNumber, choose one or the other");
    ck_assert(!block_of("{\"number\":\"0x1\"}", &s, &e));
    ck_assert_str_eq(e.msg, "json: unknown field \"number\"");
}
END_TEST

static bool args_of(const char *json, call_args *a, param_error *e) { return p_call_args(json_of(json), a, e); }

START_TEST(transaction_arguments)
{
    call_args a;
    param_error e;
    ck_assert(args_of("{\"from\":\"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\",\"to\":null,\"gas\":\"0x5208\","
                      "\"data\":\"0x01\",\"input\":\"0x0203\",\"accessList\":[{\"address\":"
                      "\"0x0000000000000000000000000000000000000001\",\"storageKeys\":["
                      "\"0x0000000000000000000000000000000000000000000000000000000000000001\"]}],"
                      "\"type\":\"0x2\",\"chainId\":\"0x539\"}",
                      &a, &e));
    ck_assert(a.has_from && !a.has_to && a.has_gas && a.gas == 21000);
    ck_assert_uint_eq(call_args_data(&a)->len, 2); /* input wins */
    ck_assert_uint_eq(a.n_access_list, 1);
    ck_assert_uint_eq(a.access_list[0].n_keys, 1);
    ck_assert_uint_eq(a.access_list[0].keys[0].b[31], 1);
    call_args_free(&a);

    ck_assert(!args_of("{\"to\":\"0x0000000000000000000000000000000000000001\",\"colour\":\"red\"}", &a, &e));
    ck_assert_str_eq(e.msg, "json: unknown field \"colour\"");
    call_args_free(&a);
    ck_assert(!args_of("{\"gas\":\"0x05208\"}", &a, &e));
    ck_assert_str_eq(e.msg, "json: cannot unmarshal hex number with leading zero digits into Go struct field "
                            "TransactionArgs.gas of type hexutil.Uint64");
    call_args_free(&a);
    ck_assert(!args_of("{\"accessList\":[{\"address\":\"0x0000000000000000000000000000000000000001\"}]}", &a, &e));
    ck_assert_str_eq(e.msg, "missing required field 'storageKeys' for AccessTuple");
    call_args_free(&a);
    ck_assert(!args_of("{\"authorizationList\":[{\"chainId\":\"0x1\"}]}", &a, &e));
    ck_assert_str_eq(e.msg, "missing required field 'address' for SetCodeAuthorization");
    call_args_free(&a);
    ck_assert(!args_of("[1]", &a, &e));
    ck_assert_str_eq(e.msg, "json: cannot unmarshal array into Go value of type ethapi.TransactionArgs");
    call_args_free(&a);
}
END_TEST

START_TEST(checksums_and_decimals)
{
    /* EIP-55's own examples. */
    static const char *const eip55[] = {
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"};
    for (size_t i = 0; i < 4; i++) {
        address a;
        ck_assert(hex_to_address(eip55[i], &a));
        char out[43];
        address_checksum(&a, out);
        ck_assert_str_eq(out, eip55[i]);
    }
    char d[80];
    u256 v = u256_zero();
    u256_to_dec(&v, d);
    ck_assert_str_eq(d, "0");
    v = u256_from_u64(10000000000000000000ULL);
    u256_to_dec(&v, d);
    ck_assert_str_eq(d, "10000000000000000000");
    ck_assert(hex_to_u256("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", &v));
    u256_to_dec(&v, d);
    ck_assert_str_eq(d, "115792089237316195423570985008687907853269984665640564039457584007913129639935");
}
END_TEST

/* ---------------------------------------------------------- reverts */

static void abi_error(const char *text, bytebuf *out)
{
    static const uint8_t sel[4] = {0x08, 0xc3, 0x79, 0xa0};
    uint8_t word[32] = {0};
    bytebuf_append(out, sel, 4);
    word[31] = 0x20;
    bytebuf_append(out, word, 32);
    memset(word, 0, 32);
    word[31] = (uint8_t)strlen(text);
    bytebuf_append(out, word, 32);
    memset(word, 0, 32);
    memcpy(word, text, strlen(text));
    bytebuf_append(out, word, 32);
}

START_TEST(revert_reasons)
{
    bytebuf d = {0};
    char *reason;
    size_t len;
    abi_error("not enough tokens", &d);
    ck_assert(revert_reason(d.data, d.len, &reason, &len));
    ck_assert_str_eq(reason, "not enough tokens");
    free(reason);
    /* The length word pointing past the end: not decodable. */
    d.data[4 + 32 + 31] = 0x40;
    ck_assert(!revert_reason(d.data, d.len, &reason, &len));
    /* The offset word past the end. */
    d.data[4 + 32 + 31] = 17;
    d.data[4 + 31] = 0x70;
    ck_assert(!revert_reason(d.data, d.len, &reason, &len));
    ck_assert(!revert_reason(d.data, 3, &reason, &len));
    d.len = 0;
    uint8_t panic[36] = {0x4e, 0x48, 0x7b, 0x71};
    static const struct {
        uint8_t code;
        const char *text;
    } panics[] = {{0x01, "assert(false)"}, {0x11, "arithmetic underflow or overflow"}, {0x12, "division or modulo by zero"},
                  {0x32, "out-of-bounds access of an array or bytesN"}, {0x99, "unknown panic code: 0x99"}};
    for (size_t i = 0; i < sizeof panics / sizeof panics[0]; i++) {
        panic[35] = panics[i].code;
        ck_assert(revert_reason(panic, 36, &reason, &len));
        ck_assert_str_eq(reason, panics[i].text);
        free(reason);
    }
    ck_assert(!revert_reason(panic, 35, &reason, &len));

    rpc_error err = {0};
    abi_error("boom", &d);
    revert_error(&err, d.data, d.len);
    ck_assert_int_eq(err.code, 3);
    ck_assert_str_eq(err.message, "execution reverted: boom");
    ck_assert_str_eq(err.data, "0x08c379a00000000000000000000000000000000000000000000000000000000000000020"
                               "0000000000000000000000000000000000000000000000000000000000000004"
                               "626f6f6d00000000000000000000000000000000000000000000000000000000");
    rpc_error_clear(&err);
    revert_error(&err, NULL, 0);
    ck_assert_str_eq(err.message, "execution reverted");
    ck_assert_str_eq(err.data, "0x");
    rpc_error_clear(&err);
    bytebuf_free(&d);
}
END_TEST

/* --------------------------------------------------------- overrides */

START_TEST(state_overrides)
{
    memstate *m = memstate_new();
    address a = {{0}}, b = {{0}};
    a.b[19] = 0xaa;
    b.b[19] = 0xbb;
    u256 bal = u256_from_u64(5), one = u256_from_u64(1), two = u256_from_u64(2), seven = u256_from_u64(7);
    memstate_put_account(m, &a, 3, &bal, (const uint8_t *)"\x60\x00", 2);
    memstate_put_storage(m, &a, &one, &seven);
    memstate_put_storage(m, &a, &two, &seven);
    state_backend base = memstate_backend(m);

    json_error_t jerr;
    json_t *v = json_loads("{\"0x00000000000000000000000000000000000000aa\":{\"balance\":\"0x9\",\"stateDiff\":{"
                           "\"0x0000000000000000000000000000000000000000000000000000000000000001\":"
                           "\"0x0000000000000000000000000000000000000000000000000000000000000004\"}},"
                           "\"0x00000000000000000000000000000000000000BB\":{\"nonce\":\"0x2\",\"code\":\"0x6001\","
                           "\"state\":{\"0x0000000000000000000000000000000000000000000000000000000000000002\":"
                           "\"0x0000000000000000000000000000000000000000000000000000000000000005\"}}}",
                           0, &jerr);
    override_set set;
    param_error pe;
    ck_assert(override_parse(v, &set, &pe));
    char msg[200];
    ck_assert(override_validate(&set, FORK_PRAGUE, msg, sizeof msg));
    state_backend ob = override_backend(&set, &base);
    account_info info;
    ck_assert(ob.get_account(ob.ctx, &a, &info));
    ck_assert_uint_eq(info.nonce, 3);          /* kept */
    ck_assert_uint_eq(info.balance.w[0], 9);   /* overridden */
    u256 out;
    ob.get_storage(ob.ctx, &a, &one, &out);
    ck_assert_uint_eq(out.w[0], 4);            /* stateDiff */
    ob.get_storage(ob.ctx, &a, &two, &out);
    ck_assert_uint_eq(out.w[0], 7);            /* untouched slot */
    ck_assert(ob.get_account(ob.ctx, &b, &info)); /* overridden: exists */
    ck_assert_uint_eq(info.nonce, 2);
    const uint8_t *code;
    size_t len;
    ck_assert(ob.get_code(ob.ctx, &info.code_hash, &code, &len));
    ck_assert_uint_eq(len, 2);
    ck_assert_uint_eq(code[0], 0x60);
    ob.get_storage(ob.ctx, &b, &two, &out);
    ck_assert_uint_eq(out.w[0], 5);
    ob.get_storage(ob.ctx, &b, &one, &out);
    ck_assert(u256_is_zero(&out));             /* "state" replaces everything */
    ck_assert(ob.has_storage(ob.ctx, &b));
    override_free(&set);
    json_decref(v);

    v = json_loads("{\"0x00000000000000000000000000000000000000aa\":{\"state\":{},\"stateDiff\":{}}}", 0, &jerr);
    ck_assert(override_parse(v, &set, &pe));
    ck_assert(!override_validate(&set, FORK_PRAGUE, msg, sizeof msg));
    ck_assert_str_eq(msg, "account 0x00000000000000000000000000000000000000AA has both 'state' and 'stateDiff'");
    override_free(&set);
    json_decref(v);

    v = json_loads("{\"0x00000000000000000000000000000000000000aa\":{\"movePrecompileToAddress\":"
                   "\"0x000000000000000000000000000000000000c000\"}}",
                   0, &jerr);
    ck_assert(override_parse(v, &set, &pe));
    ck_assert(!override_validate(&set, FORK_PRAGUE, msg, sizeof msg));
    ck_assert_str_eq(msg, "account 0x00000000000000000000000000000000000000AA is not a precompile");
    override_free(&set);
    json_decref(v);

    /* Two precompiles moved to one address: geth applies them in address
     * order, so the later (0x05) wins; the core takes the first entry. */
    v = json_loads("{\"0x0000000000000000000000000000000000000004\":{\"movePrecompileToAddress\":"
                   "\"0x000000000000000000000000000000000000c000\"},"
                   "\"0x0000000000000000000000000000000000000005\":{\"movePrecompileToAddress\":"
                   "\"0x000000000000000000000000000000000000c000\"}}",
                   0, &jerr);
    ck_assert(override_parse(v, &set, &pe));
    ck_assert(override_validate(&set, FORK_PRAGUE, msg, sizeof msg));
    ck_assert_uint_eq(set.n_moves, 2);
    ck_assert_uint_eq(set.moves[0].from.b[19], 0x05);
    ck_assert_uint_eq(set.moves[0].to.b[18], 0xc0);
    ck_assert_uint_eq(set.moves[1].from.b[19], 0x04);
    set.no_precompile_table = true; /* eth_createAccessList */
    ck_assert(!override_validate(&set, FORK_PRAGUE, msg, sizeof msg));
    ck_assert_str_eq(msg, "account 0x0000000000000000000000000000000000000004 is not a precompile");
    override_free(&set);
    json_decref(v);

    v = json_loads("{\"0x00000000000000000000000000000000000000aa\":{\"balance\":1}}", 0, &jerr);
    ck_assert(!override_parse(v, &set, &pe));
    ck_assert_str_eq(pe.msg, "json: cannot unmarshal non-string into Go struct field OverrideAccount.balance of type *hexutil.Big");
    override_free(&set);
    json_decref(v);
    memstate_free(m);
}
END_TEST

/* ------------------------------------------------------------ settings */

START_TEST(settings_parsers)
{
    uint64_t ms;
    ck_assert(parse_duration_ms("5s", &ms) && ms == 5000);
    ck_assert(parse_duration_ms("250ms", &ms) && ms == 250);
    ck_assert(parse_duration_ms("1.5", &ms) && ms == 1500);
    ck_assert(parse_duration_ms("2m", &ms) && ms == 120000);
    ck_assert(!parse_duration_ms("5 s", &ms) && !parse_duration_ms("-1s", &ms) && !parse_duration_ms("", &ms));
    char d[32];
    static const struct {
        uint64_t ms;
        const char *go;
    } durations[] = {{5000, "5s"}, {500, "500ms"}, {1500, "1.5s"}, {90000, "1m30s"}, {3600000, "1h0m0s"},
                     {0, "0s"}, {1250, "1.25s"}, {60000, "1m0s"}};
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        format_go_duration(durations[i].ms, d, sizeof d);
        ck_assert_str_eq(d, durations[i].go);
    }
    size_t sz;
    ck_assert(parse_size("5M", &sz) && sz == 5u << 20);
    ck_assert(parse_size("64KiB", &sz) && sz == 64u << 10);
    ck_assert(parse_size("100", &sz) && sz == 100);
    ck_assert(!parse_size("5X", &sz));
    char host[64];
    uint16_t port;
    ck_assert(parse_listen("127.0.0.1:8545", host, sizeof host, &port) && port == 8545);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert(parse_listen("[::1]:0", host, sizeof host, &port) && port == 0);
    ck_assert_str_eq(host, "::1");
    ck_assert(!parse_listen("localhost", host, sizeof host, &port));
    ck_assert(!parse_listen("h:70000", host, sizeof host, &port));

    /* Flags override variables, which override defaults. */
    setenv("JITEVM_GAS_CAP", "1000", 1);
    setenv("JITEVM_CALL_TIMEOUT", "2s", 1);
    rpc_config c;
    bool help;
    char err[256];
    char *argv[] = {"serve", "--db", "x.db", "--call-timeout", "300ms", NULL};
    ck_assert(rpc_config_load(&c, 5, argv, &help, err, sizeof err));
    ck_assert_uint_eq(c.gas_cap, 1000);
    ck_assert_uint_eq(c.call_timeout_ms, 300);
    ck_assert_uint_eq(c.inline_budget_ms, 1); /* the default */
    ck_assert_int_ge(c.http_threads, 4);
    ck_assert_int_le(c.http_threads, 64);
    /* Two per usable CPU, at least 4 (see set_defaults: fewer sleeping threads to wake). */
    int cpus = cpus_usable();
    ck_assert_int_eq(c.http_threads, cpus > 32 ? 64 : cpus > 2 ? 2 * cpus : 4);
    ck_assert_int_eq(c.workers, cpus);
    setenv("JITEVM_INLINE_BUDGET", "0", 1);
    char *argv1[] = {"serve", "--db", "x.db", NULL};
    ck_assert(rpc_config_load(&c, 3, argv1, &help, err, sizeof err));
    ck_assert_uint_eq(c.inline_budget_ms, 0);
    setenv("JITEVM_INLINE_BUDGET", "soon", 1);
    ck_assert(!rpc_config_load(&c, 3, argv1, &help, err, sizeof err));
    ck_assert_str_eq(err, "JITEVM_INLINE_BUDGET: expected a duration (1ms, 0), got 'soon'");
    unsetenv("JITEVM_INLINE_BUDGET");
    setenv("JITEVM_MAX_BATCH", "zero", 1);
    char *argv2[] = {"serve", "--db", "x.db", NULL};
    ck_assert(!rpc_config_load(&c, 3, argv2, &help, err, sizeof err));
    ck_assert_str_eq(err, "JITEVM_MAX_BATCH: expected 1..1000000, got 'zero'");
    unsetenv("JITEVM_MAX_BATCH");
    unsetenv("JITEVM_GAS_CAP");
    unsetenv("JITEVM_CALL_TIMEOUT");
    char *argv3[] = {"serve", NULL};
    ck_assert(!rpc_config_load(&c, 1, argv3, &help, err, sizeof err));
    ck_assert_str_eq(err, "no database given (--db FILE or JITEVM_DB)");
    rpc_config_ensure_token(&c);
    ck_assert_uint_eq(strlen(c.admin_token), 64);
    ck_assert(c.admin_token_generated);
}
END_TEST

/* The pools are sized by the CPUs the process may use: its affinity (a
 * container's cpuset, taskset) and its cgroup's CPU quota (--cpus, a
 * Kubernetes limit), not the machine's count. */
/* Writes `text` to DIR/REL/cpu.max, making REL's directories. */
static void write_cpu_max(const char *dir, const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0700);
            *p = '/';
        }
    mkdir(path, 0700);
    if (!text) return;
    strcat(path, "/cpu.max");
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* A quota set above the process's own group (a systemd slice's CPUQuota, a
 * pod's limit over its container) limits it too: the tightest counts. */
START_TEST(usable_cpus_follow_every_ancestors_quota)
{
    char dir[512];
    test_temp_dir(dir, sizeof dir, "cgroup");
    write_cpu_max(dir, "", "max 100000\n");
    write_cpu_max(dir, "/slice", "150000 100000\n");
    write_cpu_max(dir, "/slice/unit", "max 100000\n");
    write_cpu_max(dir, "/slice/unit/leaf", NULL); /* no cpu.max at this level */
    write_cpu_max(dir, "/other", "300000 100000\n");
    bool found;
    ck_assert_int_eq(cpus_within_cgroup_v2(dir, "/slice/unit/leaf", 8, &found), 2);
    ck_assert(found);
    ck_assert_int_eq(cpus_within_cgroup_v2(dir, "/slice/unit", 8, &found), 2);
    ck_assert_int_eq(cpus_within_cgroup_v2(dir, "/other", 8, &found), 3);
    ck_assert_int_eq(cpus_within_cgroup_v2(dir, "/other", 2, &found), 2);
    ck_assert_int_eq(cpus_within_cgroup_v2(dir, "", 8, &found), 8);
    ck_assert(found);
    /* A tighter limit further down wins over a looser one above. */
    write_cpu_max(dir, "/other/tight", "50000 100000\n");
    ck_assert_int_eq(cpus_within_cgroup_v2(dir, "/other/tight", 8, &found), 1);
    ck_assert_int_eq(cpus_within_cgroup_v2(dir, "/missing/group", 8, &found), 8); /* only the root's "max" */
    char none[600];
    snprintf(none, sizeof none, "%s/nothing-here", dir);
    ck_assert_int_eq(cpus_within_cgroup_v2(none, "", 8, &found), 8);
    ck_assert(!found);
    test_remove_dir(dir);
}
END_TEST

START_TEST(usable_cpus_follow_affinity_and_quota)
{
    ck_assert_int_eq(cpus_within_quota(-1, 100000, 8), 8);     /* no quota */
    ck_assert_int_eq(cpus_within_quota(200000, 100000, 32), 2); /* limit 2 on a 32-CPU node */
    ck_assert_int_eq(cpus_within_quota(150000, 100000, 32), 2); /* 1.5 CPUs of time: 2 threads busy */
    ck_assert_int_eq(cpus_within_quota(50000, 100000, 4), 1);   /* half a CPU: still one */
    ck_assert_int_eq(cpus_within_quota(800000, 100000, 4), 4);  /* a quota above the CPUs allowed */
    long long q, p;
    ck_assert(cpus_parse_cpu_max("max 100000\n", &q, &p));
    ck_assert(q == -1 && p == 100000);
    ck_assert(cpus_parse_cpu_max("250000 50000\n", &q, &p));
    ck_assert(q == 250000 && p == 50000);
    ck_assert(cpus_parse_cpu_max("300000", &q, &p));
    ck_assert(q == 300000 && p == 100000);
    ck_assert(!cpus_parse_cpu_max("", &q, &p));
    ck_assert(!cpus_parse_cpu_max("maximum", &q, &p));
    ck_assert(!cpus_parse_cpu_max("100000 x", &q, &p));
    ck_assert(!cpus_parse_cpu_max("-5 100000", &q, &p));

    /* Confined to one CPU (as taskset -c 0 would), the defaults follow. */
    cpu_set_t all, one;
    ck_assert_int_eq(sched_getaffinity(0, sizeof all, &all), 0);
    int first = 0;
    while (!CPU_ISSET(first, &all)) first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
    int confined = cpus_usable();
    rpc_config c;
    bool help;
    char err[256];
    char *argv[] = {"serve", "--db", "x.db", NULL};
    bool loaded = rpc_config_load(&c, 3, argv, &help, err, sizeof err);
    ck_assert_int_eq(sched_setaffinity(0, sizeof all, &all), 0);
    ck_assert_int_eq(confined, 1);
    ck_assert(loaded);
    ck_assert_int_eq(c.workers, 1);
    ck_assert_int_eq(c.http_threads, 4);
    ck_assert_int_le(cpus_usable(), CPU_COUNT(&all));
}
END_TEST

/* ----------------------------------------------------------- envelope */

START_TEST(envelope)
{
    default_config();
    cfg.max_batch = 4;
    rpc_ctx ctx = inline_ctx();
    ASK_OK(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}", "0x539");
    ASK_OK(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"net_version\",\"params\":[]}", "1337");
    ASK_OK(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"web3_sha3\",\"params\":[\"0x\"]}",
           "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    ASK_ERR(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"", -32700, "parse error");
    ASK_ERR(&ctx, "", -32700, "parse error");
    ASK_ERR(&ctx, "[]", -32600, "empty batch");
    ASK_ERR(&ctx, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"eth_chainId\"}", -32600, "invalid request");
    ASK_ERR(&ctx, "{\"id\":1,\"method\":\"eth_chainId\"}", -32600, "invalid request");
    ASK_ERR(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", -32600, "invalid request");
    ASK_ERR(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"eth_chainId\"}", -32600, "invalid request");
    ASK_ERR(&ctx, "42", -32600, "invalid request");
    ASK_ERR(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_foo\"}", -32601,
            "the method eth_foo does not exist/is not available");
    ASK_ERR(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":{}}", -32602, "non-array args");
    ASK_ERR(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[1]}", -32602,
            "too many arguments, want at most 0");
    ASK_ERR(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"web3_sha3\",\"params\":[]}", -32602,
            "missing value for required argument 0");
    ASK_ERR(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"web3_sha3\",\"params\":[\"0x1\"]}", -32602,
            "invalid argument 0: json: cannot unmarshal hex string of odd length into Go value of type hexutil.Bytes");
    /* Admin methods: absent unless enabled; then only with the token. */
    ASK_ERR(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"anvil_setBalance\",\"params\":[]}", -32601,
            "the method anvil_setBalance does not exist/is not available");
    cfg.admin = true;
    ASK_ERR(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"anvil_setBalance\",\"params\":[]}", -32001,
            "unauthorized: anvil_setBalance needs the admin bearer token (none was given)");
    ctx.admin_rejected = true;
    ASK_ERR(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"anvil_setBalance\",\"params\":[]}", -32001,
            "unauthorized: anvil_setBalance needs the admin bearer token (the one given is wrong)");
    cfg.admin = false;

    /* ids come back as given; notifications get nothing. */
    json_t *r = ask(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"eth_chainId\"}");
    ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "abc");
    json_decref(r);
    r = ask(&ctx, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"eth_chainId\"}");
    ck_assert(json_is_null(json_object_get(r, "id")));
    ck_assert_str_eq(result_str(r), "0x539");
    json_decref(r);
    ck_assert(ask(&ctx, "{\"jsonrpc\":\"2.0\",\"method\":\"eth_chainId\"}") == NULL);
    ck_assert(ask(&ctx, "[{\"jsonrpc\":\"2.0\",\"method\":\"eth_chainId\"},{\"jsonrpc\":\"2.0\",\"method\":\"x\"}]") == NULL);

    /* A batch is answered in order, without its notifications. */
    r = ask(&ctx, "[{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"net_version\"},{\"jsonrpc\":\"2.0\",\"method\":\"eth_chainId\"},"
                  "1,{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}]");
    ck_assert_uint_eq(json_array_size(r), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(r, 0), "id")), 2);
    ck_assert_int_eq(err_code(json_array_get(r, 1)), -32600);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(r, 2), "id")), 1);
    json_decref(r);
    cfg.max_batch = 3;
    r = ask(&ctx, "[1,{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"a\"},3,4]");
    ck_assert_uint_eq(json_array_size(r), 1);
    ck_assert_int_eq(err_code(json_array_get(r, 0)), -32600);
    ck_assert_str_eq(err_msg(json_array_get(r, 0)), "batch too large");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(r, 0), "id")), 9);
    json_decref(r);

    json_error_t jerr;
    json_t *root = json_loads("[{\"method\":\"eth_chainId\"},{\"method\":\"eth_nothing\"},2]", 0, &jerr);
    ck_assert(rpc_body_is_inline(root));
    json_decref(root);
    root = json_loads("[{\"method\":\"eth_chainId\"},{\"method\":\"eth_call\"}]", 0, &jerr);
    ck_assert(!rpc_body_is_inline(root));
    json_decref(root);
    /* Both classes at once, as the HTTP thread asks. */
    static const struct {
        const char *body;
        bool is_inline, read_only;
    } classes[] = {
        {"[{\"method\":\"eth_chainId\"},{\"method\":\"eth_nothing\"},2]", true, true},
        {"[{\"method\":\"eth_chainId\"},{\"method\":\"eth_call\"}]", false, true},
        {"{\"method\":\"eth_call\"}", false, true},
        {"{\"method\":\"anvil_setCode\"}", false, false},
        {"[{\"method\":\"eth_chainId\"},{\"method\":\"anvil_setCode\"}]", false, false},
        {"[{\"method\":7},\"x\",{}]", true, true},
        {"[]", true, true},
    };
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        root = json_loads(classes[i].body, JSON_DECODE_ANY, &jerr);
        ck_assert_ptr_nonnull(root);
        bool is_inline, read_only;
        rpc_body_classify(root, &is_inline, &read_only);
        ck_assert_msg(is_inline == classes[i].is_inline && read_only == classes[i].read_only,
                      "%s: inline %d, read-only %d", classes[i].body, is_inline, read_only);
        ck_assert(is_inline == rpc_body_is_inline(root));
        json_decref(root);
    }
}
END_TEST

/* The fast parser and encoder must give exactly jansson's trees and text:
 * the same acceptances and refusals, the same values, the same key order. */
static void expect_same_parse(const char *text, size_t len)
{
    json_error_t jerr;
    json_t *fast = rpc_json_parse(text, len);
    json_t *slow = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    ck_assert_msg(!fast == !slow, "parse of '%.*s': fast %s, jansson %s", (int)len, text, fast ? "accepts" : "refuses",
                  slow ? "accepts" : "refuses");
    if (fast) {
        ck_assert_msg(json_equal(fast, slow), "parse of '%.*s' differs", (int)len, text);
        char *a = json_dumps(fast, JSON_COMPACT | JSON_ENCODE_ANY), *b = json_dumps(slow, JSON_COMPACT | JSON_ENCODE_ANY);
        ck_assert_str_eq(a, b);
        size_t n;
        char *c = rpc_json_dump(slow, &n);
        ck_assert_str_eq(c, b);
        ck_assert_uint_eq(n, strlen(b));
        free(a), free(b), free(c);
    }
    json_decref(fast);
    json_decref(slow);
}

START_TEST(json_fast_paths_match_jansson)
{
    static const char *const docs[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}",
        " [ {\"a\" : 1 , \"b\":[true,false,null,-5,0,\"x\"]} , {} , [] ] \r\n\t",
        "{\"b\":1,\"a\":2,\"b\":3}", "{\"id\":\"a/b\",\"z\":{}}", "\"\"", "0", "-0", "7", "-", "--1", "01", "-01",
        "1.5", "1e3", "1E3", "-0.0", "123456789012345678", "1234567890123456789", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "true", "false", "null", "truex",
        "nul", "tru", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\"}", "{\"a\":}", "{1:2}", "{'a':1}", "[1 2]", "[1]]",
        "{}}", "[", "{", "\"abc", "\"a\\\"b\"", "\"\\u0041\"", "\"\\u0000\"", "\"caf\xc3\xa9\"", "\"\xff\"",
        "\"a\tb\"", "{\"a\\u0000b\":1}", "1x", "[1]x", "[01]", "[1.]", "[.5]", "[-]", "[+1]", "[1e]", "[]", "{}",
        "  ", "", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "[true,fals]",
        "{\"a\":[{\"b\":{\"c\":[null]}}]}", "\"\x7f\"", "[NaN]", "[Infinity]", "{\"\":\"\"}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) expect_same_parse(docs[i], strlen(docs[i]));
    expect_same_parse("[1]\0", 4);
    expect_same_parse("\"a\0b\"", 5);
    /* Byte mutations of a real request: the fast parser either agrees with
     * jansson or leaves the text to it. */
    const char *base = "{\"jsonrpc\":\"2.0\",\"id\":-12,\"method\":\"eth_call\",\"params\":[{\"to\":\"0xc008\","
                       "\"data\":\"0x70a0\"},\"latest\",{\"k\":[true,null,1.5]}]}";
    static const char alphabet[] = "{}[],:\"\\ 0123456789-.eEtrufalsn\x01\x80xy";
    size_t base_len = strlen(base);
    char buf[256];
    uint64_t seed = 12345;
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, base, base_len);
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
        expect_same_parse(buf, len);
    }
    /* Encoding: every ASCII character, UTF-8, NUL inside strings and keys,
     * the integer limits, reals. */
    json_t *doc = json_object();
    char all[128];
    for (int c = 1; c < 128; c++) all[c - 1] = (char)c;
    json_object_set_new(doc, "ascii", json_stringn(all, 127));
    json_object_set_new(doc, "nul", json_stringn("a\0b", 3));
    json_object_setn_new(doc, "k\0\"ey\n", 6, json_string("caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x80\xa8"));
    json_t *nums = json_array();
    json_array_append_new(nums, json_integer(INT64_MIN));
    json_array_append_new(nums, json_integer(INT64_MAX));
    json_array_append_new(nums, json_real(1.5));
    json_array_append_new(nums, json_real(0.1));
    json_array_append_new(nums, json_real(1e300));
    json_array_append_new(nums, json_real(-2));
    json_object_set_new(doc, "nums", nums);
    json_object_set_new(doc, "empty", json_pack("{s:[],s:{},s:s}", "a", "o", "s", ""));
    char *want = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t n;
    char *got = rpc_json_dump(doc, &n);
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(n, strlen(want));
    free(want), free(got);
    json_decref(doc);
}
END_TEST

/* The value of the sample line starting with `name` (-1 when absent). */
static double metric_value(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, name, n) == 0 && p[n] == ' ') return strtod(p + n + 1, NULL);
    return -1;
}

START_TEST(metrics_text)
{
    metrics_init(rpc_method_names(), rpc_n_methods);
    /* Each method's position: by the table's own string (as the
     * dispatcher passes it) and by a copy of its name; any other name is
     * "unknown" (one past the methods). */
    const char *const *names = rpc_method_names();
    for (size_t i = 0; i < rpc_n_methods; i++) {
        ck_assert_int_eq(metrics_method_index(rpc_find_method(names[i])->name), (int)i);
        char copy[128];
        snprintf(copy, sizeof copy, "%s", names[i]);
        ck_assert_int_eq(metrics_method_index(copy), (int)i);
    }
    ck_assert_int_eq(metrics_method_index("eth_bogus"), (int)rpc_n_methods);
    ck_assert_int_eq(metrics_method_index(""), (int)rpc_n_methods);
    metrics_record_call(metrics_method_index("eth_call"), 0.0003, 0);
    metrics_record_call(metrics_method_index("eth_call"), 0.02, 3);
    metrics_record_call(metrics_method_index("eth_bogus"), 0.001, -32601);
    metrics_record_gas(21000);
    metrics_record_http(200);
    size_t len;
    jit_stats before = jit_get_stats();
    char *text = metrics_render(&len);
    jit_stats after = jit_get_stats();
    ck_assert_uint_eq(strlen(text), len);
    ck_assert_ptr_nonnull(strstr(text, "jitevm_rpc_requests_total{method=\"eth_call\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(text, "jitevm_rpc_errors_total{method=\"eth_call\",code=\"3\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "jitevm_rpc_errors_total{method=\"unknown\",code=\"-32601\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "jitevm_rpc_request_duration_seconds_bucket{method=\"eth_call\",le=\"0.0005\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "jitevm_rpc_request_duration_seconds_bucket{method=\"eth_call\",le=\"0.025\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(text, "jitevm_rpc_request_duration_seconds_count{method=\"eth_call\"} 2\n"));
    /* The tiers' counts are the engine's (frames; other tests' calls may
     * have run in this process). */
    double v = metric_value(text, "jitevm_executions_total{tier=\"interpreter\"}");
    ck_assert(v >= (double)before.frames_interp && v <= (double)after.frames_interp);
    v = metric_value(text, "jitevm_executions_total{tier=\"compiled\"}");
    ck_assert(v >= (double)before.frames_compiled && v <= (double)after.frames_compiled);
    v = metric_value(text, "jitevm_compile_cache_hits_total");
    ck_assert(v >= (double)before.store_hits && v <= (double)after.store_hits);
    ck_assert_ptr_nonnull(strstr(text, "jitevm_gas_executed_total 21000\n"));
    static const char *const present[] = {"jitevm_compile_cache_misses_total", "jitevm_deopts_total",
                                          "jitevm_programs_compiled_total",   "jitevm_compile_seconds_total",
                                          "jitevm_compile_queue",              "jitevm_programs",
                                          "jitevm_program_native_bytes",       "jitevm_program_store_saves_total",
                                          "jitevm_program_store_rejected_total"};
    for (size_t i = 0; i < sizeof present / sizeof present[0]; i++)
        ck_assert_msg(metric_value(text, present[i]) >= 0, "%s missing", present[i]);
    ck_assert_ptr_nonnull(strstr(text, "jitevm_http_responses_total{status=\"200\"} 1\n"));
    free(text);
    metrics_free();
}
END_TEST

/* ------------------------------------------- methods against a store */

/* Contracts, hand-assembled. */
#define CODE_READER "0x6000355460005260206000f3" /* return sload(calldataload(0)) */
/* revert(Error("boom")): CODECOPY the 100-byte payload after the code. */
#define CODE_REVERT_BOOM                                                                                  \
    "0x6064600c60003960646000fd08c379a00000000000000000000000000000000000000000000000000000000000000020" \
    "0000000000000000000000000000000000000000000000000000000000000004626f6f6d0000000000000000000000000" \
    "0000000000000000000000000000000000000"
#define CODE_PANIC_ASSERT "0x6024600c60003960246000fd4e487b710000000000000000000000000000000000000000000000000000000000000001"
#define CODE_LOOP_1000 "0x6103e860005b5850601f02810180600052600051019060019003908160055760005260206000f3"
#define CODE_FOREVER "0x5b600056"
/* sload(1); balance(0x...cafe); stop */
#define CODE_ACCESSOR "0x6001545073000000000000000000000000000000000000cafe315000"
/* return basefee, number, gaslimit */
#define CODE_BLOCK "0x4860005243602052456040526060" "6000f3"

#define SENDER "0x00000000000000000000000000000000000000aa"
#define POOR "0x00000000000000000000000000000000000000cc"

static char tmp_dir[256], db_path[300];
static store *db;
static store_conn *conn;
static rpc_config store_cfg;

/* The method tests run once per engine: on the interpreter, and with every
 * frame compiled first (a checked fixture of each test case sets it).
 * close_store checks that the frames ran as asked. */
static enum engine method_engine;
static jit_stats stats_at_open;
static void on_interp(void) { method_engine = ENGINE_INTERP; }
static void on_jit(void) { method_engine = ENGINE_JIT; }

static rpc_ctx store_ctx(void)
{
    rpc_ctx ctx = {.cfg = &store_cfg, .conn = conn};
    store_error se;
    ck_assert(store_get_chain_config(conn, &ctx.chain, &se));
    return ctx;
}

/* A fresh database whose chain runs forks up to last_fork; its context. */
static rpc_ctx open_store(int last_fork)
{
    test_temp_dir(tmp_dir, sizeof tmp_dir, "test_rpc");
    snprintf(db_path, sizeof db_path, "%s/rpc.db", tmp_dir);
    store_error se;
    conn = test_store_create(db_path, &db);
    chain_config cc = {.chain_id = 1337};
    for (int f = 0; f < FORK_COUNT; f++) {
        cc.activation[f] = f <= last_fork ? 0 : UINT64_MAX;
        cc.by_timestamp[f] = f >= FORK_SHANGHAI;
    }
    ck_assert_msg(store_set_chain_config(conn, &cc, &se), "%s", se.msg);
    block_env head = {.number = 1, .timestamp = 1000, .gas_limit = 30000000, .chain_id = u256_from_u64(1337)};
    head.base_fee = u256_from_u64(7);
    head.coinbase.b[19] = 0xc0;
    ck_assert_msg(store_set_head(conn, &head, &se), "%s", se.msg);
    address sender;
    hex_to_address(SENDER, &sender);
    u256 rich = u256_from_u64(1000000000000000000ULL);
    ck_assert(store_set_balance(conn, &sender, &rich, &se));
    test_set_code(conn, "0x000000000000000000000000000000000000c000", CODE_READER);
    test_set_code(conn, "0x000000000000000000000000000000000000c001", CODE_REVERT_BOOM);
    test_set_code(conn, "0x000000000000000000000000000000000000c002", CODE_PANIC_ASSERT);
    test_set_code(conn, "0x000000000000000000000000000000000000c003", CODE_LOOP_1000);
    test_set_code(conn, "0x000000000000000000000000000000000000c004", CODE_FOREVER);
    test_set_code(conn, "0x000000000000000000000000000000000000c005", CODE_ACCESSOR);
    test_set_code(conn, "0x000000000000000000000000000000000000c006", CODE_BLOCK);
    test_set_code(conn, "0x000000000000000000000000000000000000c007", "0xfe");
    test_set_code(conn, "0x000000000000000000000000000000000000c008", "0xef");
    test_set_code(conn, "0x000000000000000000000000000000000000c009", "0x6005566000");
    test_set_code(conn, "0x000000000000000000000000000000000000c00a", "0x60006000fd");
    address reader;
    hex_to_address("0x000000000000000000000000000000000000c000", &reader);
    u256 key = u256_from_u64(1), value = u256_from_u64(0x2a);
    ck_assert(store_set_storage(conn, &reader, &key, &value, &se));
    default_config();
    store_cfg = cfg;
    store_cfg.engine = method_engine;
    stats_at_open = jit_get_stats();
    return store_ctx();
}

/* Also checks how the test's frames ran: with the interpreter none
 * compiled; with the jit, where code ran, some compiled (frames re-run
 * under a tracer to name an error, as for INVALID, run interpreted). */
static void close_store(void)
{
    store_disconnect(conn);
    store_close(db);
    test_remove_dir(tmp_dir);
    jit_stats now = jit_get_stats();
    unsigned long long compiled = now.frames_compiled - stats_at_open.frames_compiled,
                       interpreted = now.frames_interp - stats_at_open.frames_interp;
    if (method_engine == ENGINE_INTERP)
        ck_assert_msg(compiled == 0, "engine interp: %llu frames ran compiled", compiled);
    else
        ck_assert_msg(compiled > 0 || interpreted == 0, "engine jit: %llu frames ran, none compiled", interpreted);
}


static char body[4096];
#define CALL(method, params) \
    (snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method, params), body)

START_TEST(eth_call_results_and_errors)
{
    rpc_ctx ctx = open_store(FORK_PRAGUE);
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c000\",\"input\":"
                                  "\"0x0000000000000000000000000000000000000000000000000000000000000001\"},\"latest\"]"),
           "0x000000000000000000000000000000000000000000000000000000000000002a");
    /* A call to nothing succeeds with no output. */
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x0000000000000000000000000000000000000999\"}]"), "0x");

    json_t *r = ask(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c001\"}]"));
    ck_assert_int_eq(err_code(r), 3);
    ck_assert_str_eq(err_msg(r), "execution reverted: boom");
    ck_assert_str_eq(err_data(r), "0x08c379a00000000000000000000000000000000000000000000000000000000000000020"
                                  "0000000000000000000000000000000000000000000000000000000000000004626f6f6d"
                                  "00000000000000000000000000000000000000000000000000000000");
    json_decref(r);
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c002\"}]"), 3,
            "execution reverted: assert(false)");
    r = ask(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c00a\"}]"));
    ck_assert_int_eq(err_code(r), 3);
    ck_assert_str_eq(err_msg(r), "execution reverted");
    ck_assert_str_eq(err_data(r), "0x");
    json_decref(r);
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c007\"}]"), -32000,
            "invalid opcode: INVALID");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c008\"}]"), -32000,
            "invalid opcode: opcode 0xef not defined");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c009\"}]"), -32000,
            "invalid jump destination");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c003\",\"gas\":\"0x7530\"}]"),
            -32000, "out of gas");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c003\",\"gas\":\"0x5000\"}]"),
            -32000, "err: intrinsic gas too low: have 20480, want 21000 (supplied gas 20480)");
    /* Paying for gas needs funds: the gas is capped at 50M first. */
    ASK_ERR(&ctx, CALL("eth_call", "[{\"from\":\"" POOR "\",\"to\":\"0x000000000000000000000000000000000000c000\","
                                   "\"gas\":\"0xffffffff\",\"gasPrice\":\"0x8\"}]"),
            -32000, "err: insufficient funds for gas * price + value: address 0x00000000000000000000000000000000000000cc "
                    "have 0 want 400000000 (supplied gas 50000000)");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"from\":\"" SENDER "\",\"to\":\"0x000000000000000000000000000000000000c000\","
                                   "\"maxFeePerGas\":\"0x6\"}]"),
            -32000, "err: max fee per gas less than block base fee: address 0x00000000000000000000000000000000000000AA, "
                    "maxFeePerGas: 6, baseFee: 7 (supplied gas 50000000)");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"from\":\"" SENDER "\",\"to\":\"0x000000000000000000000000000000000000c000\","
                                   "\"maxFeePerGas\":\"0x8\",\"maxPriorityFeePerGas\":\"0x9\"}]"),
            -32000, "err: max priority fee per gas higher than max fee per gas: address "
                    "0x00000000000000000000000000000000000000AA, maxPriorityFeePerGas: 9, maxFeePerGas: 8 (supplied gas 50000000)");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c000\",\"gasPrice\":\"0x8\","
                                   "\"maxFeePerGas\":\"0x8\"}]"),
            -32000, "both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c000\",\"chainId\":\"0x1\"}]"), -32000,
            "chainId does not match node's (have=1, want=1337)");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c000\",\"data\":\"0x01\","
                                   "\"input\":\"0x02\"}]"),
            -32000, "both \"data\" and \"input\" are set and not equal. Please use \"input\" to pass transaction call data");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c000\"},\"0x02\"]"), -32602,
            "invalid argument 1: hex number with leading zero digits");
    ASK_ERR(&ctx, CALL("eth_call", "[]"), -32602, "missing value for required argument 0");
    ASK_ERR(&ctx, CALL("eth_call", "[{},\"latest\",{},{},5]"), -32602, "too many arguments, want at most 4");
    close_store();
}
END_TEST

/* geth's pre-execution checks of a call (tx.c's rules in geth's order),
 * one broken rule each, in geth's words. */
#define TO_READER "\"to\":\"0x000000000000000000000000000000000000c000\""
#define FROM_SENDER "\"from\":\"" SENDER "\""
#define BLOB_HASH(first) "\"0x" first "00000000000000000000000000000000000000000000000000000000000000\""
#define AUTH "{\"chainId\":\"0x0\",\"address\":\"0x000000000000000000000000000000000000c000\",\"nonce\":\"0x0\"," \
             "\"yParity\":\"0x0\",\"r\":\"0x1\",\"s\":\"0x1\"}"
#define SENDER_CHECKSUMMED "0x00000000000000000000000000000000000000AA"

static void ask_initcode_too_large(rpc_ctx *ctx)
{
    size_t n = MAX_INITCODE_SIZE + 1;
    char *data = xmalloc(2 * n + 1);
    memset(data, '0', 2 * n);
    data[2 * n] = '\0';
    char *req = str_printf(NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":"
                                 "[{" FROM_SENDER ",\"input\":\"0x%s\"}]}", data);
    ASK_ERR(ctx, req, -32000, "err: max initcode size exceeded: code size 49153 limit 49152 (supplied gas 50000000)");
    free(req);
    free(data);
}

START_TEST(eth_call_precheck_messages)
{
    rpc_ctx ctx = open_store(FORK_OSAKA);
    ASK_ERR(&ctx, CALL("eth_call", "[{" FROM_SENDER ",\"blobVersionedHashes\":[" BLOB_HASH("01") "]}]"), -32000,
            "err: blob transaction of type create (supplied gas 50000000)");
    ASK_ERR(&ctx, CALL("eth_call", "[{" TO_READER ",\"blobVersionedHashes\":[]}]"), -32000,
            "err: blob transaction missing blob hashes (supplied gas 50000000)");
    ASK_ERR(&ctx,
            CALL("eth_call", "[{" TO_READER ",\"blobVersionedHashes\":[" BLOB_HASH("01") "," BLOB_HASH("01") ","
                 BLOB_HASH("01") "," BLOB_HASH("01") "," BLOB_HASH("01") "," BLOB_HASH("01") "," BLOB_HASH("01") "]}]"),
            -32000, "err: blob transaction has too many blobs (supplied gas 50000000)");
    ASK_ERR(&ctx, CALL("eth_call", "[{" TO_READER ",\"blobVersionedHashes\":[" BLOB_HASH("01") "," BLOB_HASH("02") "]}]"),
            -32000, "err: blob 1 has invalid hash version (supplied gas 50000000)");
    ASK_ERR(&ctx,
            CALL("eth_call", "[{" FROM_SENDER "," TO_READER ",\"blobVersionedHashes\":[" BLOB_HASH("01") "],"
                 "\"maxFeePerBlobGas\":\"0x2\"},\"latest\",{},{\"blobBaseFee\":\"0x5\"}]"),
            -32000, "err: max fee per blob gas less than block blob gas fee: address " SENDER_CHECKSUMMED
                    " blobGasFeeCap: 2, blobBaseFee: 5 (supplied gas 50000000)");
    ASK_ERR(&ctx, CALL("eth_call", "[{" FROM_SENDER ",\"authorizationList\":[" AUTH "]}]"), -32000,
            "err: EIP-7702 transaction cannot be used to create contract (sender " SENDER_CHECKSUMMED
            ") (supplied gas 50000000)");
    ASK_ERR(&ctx, CALL("eth_call", "[{" FROM_SENDER "," TO_READER ",\"authorizationList\":[]}]"), -32000,
            "err: EIP-7702 transaction with empty auth list (sender " SENDER_CHECKSUMMED ") (supplied gas 50000000)");
    ask_initcode_too_large(&ctx);
    ASK_ERR(&ctx,
            CALL("eth_call", "[{" FROM_SENDER "," TO_READER ",\"gasPrice\":\"0x8\",\"value\":"
                 "\"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"}]"),
            -32000, "err: insufficient funds for gas * price + value: address " SENDER_CHECKSUMMED
                    " required balance exceeds 256 bits (supplied gas 50000000)");
    /* 99 non-zero bytes: intrinsic gas 22584, EIP-7623 floor 24960. */
    ASK_ERR(&ctx,
            CALL("eth_call", "[{" TO_READER ",\"gas\":\"0x5dc0\",\"input\":\"0x"
                 "11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
                 "1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111\"}]"),
            -32000, "err: insufficient gas for floor data gas cost: have 24000, want 24960 (supplied gas 24000)");
    close_store();

    ctx = open_store(FORK_CANCUN);
    ASK_ERR(&ctx, CALL("eth_call", "[{" FROM_SENDER "," TO_READER ",\"authorizationList\":[" AUTH "]}]"), -32000,
            "err: transaction type not supported (supplied gas 50000000)");
    close_store();
}
END_TEST

START_TEST(eth_call_blocks_and_overrides)
{
    rpc_ctx ctx = open_store(FORK_PRAGUE);
    /* The head is block 1; only it can be named. */
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x0000000000000000000000000000000000000999\"},\"0x1\"]"), "0x");
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x0000000000000000000000000000000000000999\"},{\"blockNumber\":\"0x1\"}]"), "0x");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x0000000000000000000000000000000000000999\"},\"0x2\"]"), -32000,
            "header not found");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x0000000000000000000000000000000000000999\"},\"earliest\"]"), -32000,
            "historical state not available: block 0 is not the head (block 1); this node keeps only the head state");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x0000000000000000000000000000000000000999\"},{\"blockHash\":"
                                   "\"0x00000000000000000000000000000000000000000000000000000000000000ab\"}]"),
            -32000, "header for hash not found");
    /* BASEFEE reads 0 without a gas price (geth), the base fee with one. */
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c006\"}]"),
           "0x"
           "0000000000000000000000000000000000000000000000000000000000000000"
           "0000000000000000000000000000000000000000000000000000000000000001"
           "0000000000000000000000000000000000000000000000000000000001c9c380");
    ASK_OK(&ctx, CALL("eth_call", "[{\"from\":\"" SENDER "\",\"to\":\"0x000000000000000000000000000000000000c006\","
                                  "\"maxFeePerGas\":\"0x9\"},\"latest\",null,{\"number\":\"0x99\",\"gasLimit\":\"0x1000000\","
                                  "\"baseFeePerGas\":\"0x8\"}]"),
           "0x"
           "0000000000000000000000000000000000000000000000000000000000000008"
           "0000000000000000000000000000000000000000000000000000000000000099"
           "0000000000000000000000000000000000000000000000000000000001000000");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c006\"},\"latest\",null,"
                                   "{\"number\":\"0x099\"}]"),
            -32602, "invalid argument 3: json: cannot unmarshal hex number with leading zero digits into Go struct field "
                    "BlockOverrides.number of type *hexutil.Big");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c006\"},\"latest\",null,"
                                   "{\"beaconRoot\":\"0x00000000000000000000000000000000000000000000000000000000000000ab\"}]"),
            -32000, "block override \"beaconRoot\" is not supported for this RPC method");
    /* State overrides: code, state, stateDiff, balance. */
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c000\",\"input\":"
                                  "\"0x0000000000000000000000000000000000000000000000000000000000000001\"},\"latest\","
                                  "{\"0x000000000000000000000000000000000000c000\":{\"stateDiff\":{"
                                  "\"0x0000000000000000000000000000000000000000000000000000000000000001\":"
                                  "\"0x00000000000000000000000000000000000000000000000000000000000000ff\"}}}]"),
           "0x00000000000000000000000000000000000000000000000000000000000000ff");
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c000\",\"input\":"
                                  "\"0x0000000000000000000000000000000000000000000000000000000000000001\"},\"latest\","
                                  "{\"0x000000000000000000000000000000000000c000\":{\"state\":{"
                                  "\"0x0000000000000000000000000000000000000000000000000000000000000002\":"
                                  "\"0x00000000000000000000000000000000000000000000000000000000000000ff\"}}}]"),
           "0x0000000000000000000000000000000000000000000000000000000000000000");
    /* BALANCE(0xaa) from overridden code, with the balance overridden. */
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x0000000000000000000000000000000000000777\"},\"latest\","
                                  "{\"0x0000000000000000000000000000000000000777\":{\"code\":"
                                  "\"0x60aa3160005260206000f3\"},\"" SENDER "\":{\"balance\":\"0x10\"}}]"),
           "0x0000000000000000000000000000000000000000000000000000000000000010");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c000\"},\"latest\","
                                   "{\"0x000000000000000000000000000000000000c000\":{\"state\":{},\"stateDiff\":{}}}]"),
            -32000, "account 0x000000000000000000000000000000000000c000 has both 'state' and 'stateDiff'");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c000\"},\"latest\","
                                   "{\"0x000000000000000000000000000000000000c000\":{\"balance\":\"0x01\"}}]"),
            -32602, "invalid argument 2: json: cannot unmarshal hex number with leading zero digits into Go struct "
                    "field OverrideAccount.balance of type *hexutil.Big");
    /* ecrecover moved to 0xc023: an empty input answers nothing there, and
     * 0x01 runs its overridden code. */
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c023\"},\"latest\","
                                  "{\"0x0000000000000000000000000000000000000001\":{\"movePrecompileToAddress\":"
                                  "\"0x000000000000000000000000000000000000c023\"}}]"),
           "0x");
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x0000000000000000000000000000000000000001\"},\"latest\","
                                  "{\"0x0000000000000000000000000000000000000001\":{\"movePrecompileToAddress\":"
                                  "\"0x000000000000000000000000000000000000c023\",\"code\":\"0x60016000526001601ff3\"}}]"),
           "0x01");
    /* The identity precompile moved: it echoes at its new address. */
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c023\",\"input\":\"0x1234\"},"
                                  "\"latest\",{\"0x0000000000000000000000000000000000000004\":{\"movePrecompileToAddress\":"
                                  "\"0x000000000000000000000000000000000000c023\"}}]"),
           "0x1234");
    close_store();
}
END_TEST

static void abort_at_once(rpc_ctx *ctx) { *ctx->abort_flag = 1; }
static void clear_abort(rpc_ctx *ctx) { *ctx->abort_flag = 0; }

START_TEST(timeout_and_gas_cap)
{
    rpc_ctx ctx = open_store(FORK_PRAGUE);
    atomic_int flag = 0;
    ctx.abort_flag = &flag;
    ctx.arm_timeout = abort_at_once;
    ctx.disarm_timeout = clear_abort;
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c004\"}]"), -32000,
            "execution aborted (timeout = 5s)");
    store_cfg.call_timeout_ms = 250;
    ASK_ERR(&ctx, CALL("eth_estimateGas", "[{\"to\":\"0x000000000000000000000000000000000000c004\"}]"), -32000,
            "execution aborted (timeout = 250ms)");
    ctx.arm_timeout = NULL;
    ctx.disarm_timeout = NULL;
    /* Without a timer the infinite loop ends out of gas, at the cap. */
    store_cfg.gas_cap = 100000;
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c004\",\"gas\":\"0xffffff\"}]"),
            -32000, "out of gas");
    ASK_ERR(&ctx, CALL("eth_estimateGas", "[{\"to\":\"0x000000000000000000000000000000000000c004\"}]"), -32000,
            "gas required exceeds allowance (100000)");
    close_store();
}
END_TEST

START_TEST(estimate_gas_like_geth)
{
    rpc_ctx ctx = open_store(FORK_PRAGUE);
    /* A plain transfer: exactly 21000. */
    ASK_OK(&ctx, CALL("eth_estimateGas", "[{\"from\":\"" SENDER "\",\"to\":\"0x0000000000000000000000000000000000000999\","
                                         "\"value\":\"0x1\"}]"),
           "0x5208");
    /* The loop uses 89021 gas (createAccessList below reports it). geth's
     * search: lo = 89020; optimistic (89021 + 2300) * 64/63 = 92770 works,
     * so hi = 92770; mid 90895 works; mid 89957 works; then
     * (89957 - 89020) / 89957 < 1.5% stops it: 89957. */
    ASK_OK(&ctx, CALL("eth_estimateGas", "[{\"to\":\"0x000000000000000000000000000000000000c003\"}]"), "0x15f65");
    json_t *r = ask(&ctx, CALL("eth_estimateGas", "[{\"to\":\"0x000000000000000000000000000000000000c001\"}]"));
    ck_assert_int_eq(err_code(r), 3);
    ck_assert_str_eq(err_msg(r), "execution reverted: boom");
    json_decref(r);
    ASK_ERR(&ctx, CALL("eth_estimateGas", "[{\"to\":\"0x000000000000000000000000000000000000c007\"}]"), -32000,
            "invalid opcode: INVALID");
    /* The caller's gas is the ceiling. */
    ASK_ERR(&ctx, CALL("eth_estimateGas", "[{\"to\":\"0x000000000000000000000000000000000000c003\",\"gas\":\"0x7530\"}]"),
            -32000, "gas required exceeds allowance (30000)");
    /* With a price, the sender's balance bounds the gas. */
    ASK_ERR(&ctx, CALL("eth_estimateGas", "[{\"from\":\"" POOR "\",\"to\":\"0x000000000000000000000000000000000000c003\","
                                          "\"gasPrice\":\"0x8\"}]"),
            -32000, "insufficient funds for transfer");
    ASK_ERR(&ctx, CALL("eth_estimateGas", "[{\"from\":\"" SENDER "\",\"to\":\"0x000000000000000000000000000000000000c003\","
                                          "\"gasPrice\":\"0x5af3107a4000\"}]"),
            -32000, "gas required exceeds allowance (10000)");
    close_store();
}
END_TEST

START_TEST(access_lists)
{
    rpc_ctx ctx = open_store(FORK_PRAGUE);
    json_t *r = ask(&ctx, CALL("eth_createAccessList", "[{\"from\":\"" SENDER "\",\"to\":"
                                                      "\"0x000000000000000000000000000000000000c005\"}]"));
    char *text = json_dumps(json_object_get(r, "result"), JSON_COMPACT);
    /* The called contract is listed for its slot, 0x..cafe for BALANCE;
     * the gas is with that list: 21000 + 2 addresses * 2400 + 1 key * 1900
     * + the code at warm prices. */
    ck_assert_str_eq(text, "{\"accessList\":[{\"address\":\"0x000000000000000000000000000000000000c005\",\"storageKeys\":["
                           "\"0x0000000000000000000000000000000000000000000000000000000000000001\"]},"
                           "{\"address\":\"0x000000000000000000000000000000000000cafe\",\"storageKeys\":[]}],"
                           "\"gasUsed\":\"0x6d06\"}");
    free(text);
    json_decref(r);
    r = ask(&ctx, CALL("eth_createAccessList", "[{\"from\":\"" SENDER "\",\"to\":\"0x000000000000000000000000000000000000c003\"}]"));
    text = json_dumps(json_object_get(r, "result"), JSON_COMPACT);
    ck_assert_str_eq(text, "{\"accessList\":[],\"gasUsed\":\"0x15bbd\"}");
    free(text);
    json_decref(r);
    r = ask(&ctx, CALL("eth_createAccessList", "[{\"from\":\"" SENDER "\",\"to\":\"0x000000000000000000000000000000000000c001\"}]"));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "result"), "error")), "execution reverted");
    json_decref(r);
    /* eth_createAccessList runs traced (its recorder watches every
     * instruction), so on the interpreter whatever the engine; an eth_call
     * after it still runs on the configured one (close_store checks). */
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c000\",\"input\":"
                                  "\"0x0000000000000000000000000000000000000000000000000000000000000001\"},\"latest\"]"),
           "0x000000000000000000000000000000000000000000000000000000000000002a");
    close_store();
}
END_TEST

START_TEST(reads_and_admin_writes)
{
    rpc_ctx ctx = open_store(FORK_PRAGUE);
    store_cfg.admin = true; /* ctx.cfg points at store_cfg */
    ctx.authorized = true;
    ASK_OK(&ctx, CALL("eth_blockNumber", "[]"), "0x1");
    ASK_OK(&ctx, CALL("eth_gasPrice", "[]"), "0x3b9aca07"); /* 1 gwei tip + base fee 7 */
    ASK_OK(&ctx, CALL("eth_maxPriorityFeePerGas", "[]"), "0x3b9aca00");
    ASK_OK(&ctx, CALL("eth_blobBaseFee", "[]"), "0x1");
    ASK_OK(&ctx, CALL("eth_getBalance", "[\"" SENDER "\",\"latest\"]"), "0xde0b6b3a7640000");
    ASK_OK(&ctx, CALL("eth_getTransactionCount", "[\"" SENDER "\"]"), "0x0");
    ASK_OK(&ctx, CALL("eth_getCode", "[\"0x000000000000000000000000000000000000c007\"]"), "0xfe");
    ASK_OK(&ctx, CALL("eth_getCode", "[\"0x0000000000000000000000000000000000000999\"]"), "0x");
    ASK_OK(&ctx, CALL("eth_getStorageAt", "[\"0x000000000000000000000000000000000000c000\",\"0x1\",\"latest\"]"),
           "0x000000000000000000000000000000000000000000000000000000000000002a");
    ASK_OK(&ctx, CALL("eth_getStorageAt", "[\"0x000000000000000000000000000000000000c000\",\"01\"]"),
           "0x000000000000000000000000000000000000000000000000000000000000002a");
    ASK_ERR(&ctx, CALL("eth_getStorageAt", "[\"0x000000000000000000000000000000000000c000\",\"0xzz\"]"), -32602,
            "invalid hex in storage key: \"0xzz\"");
    ASK_ERR(&ctx, CALL("eth_getBalance", "[\"0x00aa\"]"), -32602,
            "invalid argument 0: hex string has length 4, want 40 for common.Address");

    ASK_NULL(&ctx, CALL("anvil_setBalance", "[\"" POOR "\",\"0x64\"]"));
    ASK_OK(&ctx, CALL("eth_getBalance", "[\"" POOR "\"]"), "0x64");
    ASK_NULL(&ctx, CALL("anvil_setNonce", "[\"" POOR "\",\"0x5\"]"));
    ASK_OK(&ctx, CALL("eth_getTransactionCount", "[\"" POOR "\"]"), "0x5");
    ASK_TRUE(&ctx, CALL("hardhat_setCode", "[\"" POOR "\",\"0x6000\"]"));
    ASK_OK(&ctx, CALL("eth_getCode", "[\"" POOR "\"]"), "0x6000");
    json_t *r = ask(&ctx, CALL("anvil_setStorageAt", "[\"" POOR "\",\"0x0000000000000000000000000000000000000000000000000000000000000003\","
                                                     "\"0x0000000000000000000000000000000000000000000000000000000000000009\"]"));
    ck_assert(json_is_true(json_object_get(r, "result")));
    json_decref(r);
    ASK_OK(&ctx, CALL("eth_getStorageAt", "[\"" POOR "\",\"0x3\"]"),
           "0x0000000000000000000000000000000000000000000000000000000000000009");
    ASK_ERR(&ctx, CALL("anvil_setStorageAt", "[\"" POOR "\",\"0x3\",\"0x9\"]"), -32602,
            "invalid argument 2: json: cannot unmarshal hex string of odd length into Go value of type common.Hash");
    ASK_TRUE(&ctx, CALL("jitevm_setBlock", "[{\"number\":\"0x10\",\"baseFeePerGas\":\"0x0\"}]"));
    ASK_OK(&ctx, CALL("eth_blockNumber", "[]"), "0x10");
    ASK_OK(&ctx, CALL("eth_gasPrice", "[]"), "0x3b9aca00");
    ASK_ERR(&ctx, CALL("jitevm_setBlock", "[{\"height\":\"0x10\"}]"), -32602, "invalid argument 0: json: unknown field \"height\"");
    close_store();
}
END_TEST

/* geth's eth_call skips EIP-7825's cap (and the block's gas limit): an
 * Osaka call may use more than 2^24 gas, and GASLIMIT reads the block's
 * limit. Its estimator still searches below 2^24. */
START_TEST(osaka_gas_cap)
{
    rpc_ctx ctx = open_store(FORK_OSAKA);
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c000\",\"input\":"
                                  "\"0x0000000000000000000000000000000000000000000000000000000000000001\"}]"),
           "0x000000000000000000000000000000000000000000000000000000000000002a");
    /* 250,000 iterations of the loop: about 22M gas, above 2^24. */
    json_t *r = ask(&ctx, CALL("eth_call", "[{\"to\":\"0x0000000000000000000000000000000000000777\"},\"latest\","
                                           "{\"0x0000000000000000000000000000000000000777\":{\"code\":"
                                           "\"0x6203d09060005b5850601f02810180600052600051019060019003908160065760005260206000f3\"}}]"));
    ck_assert_msg(json_is_string(json_object_get(r, "result")), "a call above 2^24 gas was refused");
    json_decref(r);
    /* The gas cap (50M) above the block's 30M: GASLIMIT reads the block's. */
    ASK_OK(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c006\",\"gas\":\"0x2faf080\"}]"),
           "0x0000000000000000000000000000000000000000000000000000000000000000"
           "0000000000000000000000000000000000000000000000000000000000000001"
           "0000000000000000000000000000000000000000000000000000000001c9c380");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"to\":\"0x000000000000000000000000000000000000c004\"}]"), -32000, "out of gas");
    ASK_ERR(&ctx, CALL("eth_estimateGas", "[{\"to\":\"0x000000000000000000000000000000000000c004\"}]"), -32000,
            "gas required exceeds allowance (16777216)");
    close_store();
}
END_TEST

/* Before London there is no base fee: one gas price for all. */
START_TEST(berlin_pricing)
{
    rpc_ctx ctx = open_store(FORK_BERLIN);
    ASK_OK(&ctx, CALL("eth_gasPrice", "[]"), "0x3b9aca00");
    ASK_ERR(&ctx, CALL("eth_call", "[{\"from\":\"" POOR "\",\"to\":\"0x000000000000000000000000000000000000c000\","
                                   "\"gas\":\"0x5208\",\"gasPrice\":\"0x2\"}]"),
            -32000, "err: insufficient funds for gas * price + value: address 0x00000000000000000000000000000000000000cc "
                    "have 0 want 42000 (supplied gas 21000)");
    ASK_OK(&ctx, CALL("eth_estimateGas", "[{\"to\":\"0x000000000000000000000000000000000000c003\"}]"), "0x15f65");
    close_store();
}
END_TEST

int main(void)
{
    json_object_seed(1);
    log_set_level(JLOG_ERROR); /* the calls below log their errors at warn */
    /* The methods run on both tiers: the same tests under each engine. */
    const TTest *const *methods = TESTS(eth_call_results_and_errors, eth_call_precheck_messages,
        eth_call_blocks_and_overrides, timeout_and_gas_cap, estimate_gas_like_geth, access_lists,
        reads_and_admin_writes, osaka_gas_cap, berlin_pricing);
    return TEST_RUN("rpc",
        TEST_GROUP("params", 0, quantities_follow_geth, fixed_data_and_bytes, block_selectors, transaction_arguments,
            checksums_and_decimals, revert_reasons, state_overrides, settings_parsers,
            usable_cpus_follow_affinity_and_quota, usable_cpus_follow_every_ancestors_quota),
        TEST_GROUP("envelope", 60, envelope, metrics_text, json_fast_paths_match_jansson),
        {.name = "methods (interp)", .timeout = 60, .setup = on_interp, .tests = methods},
        {.name = "methods (jit)", .timeout = 60, .setup = on_jit, .tests = methods});
}
