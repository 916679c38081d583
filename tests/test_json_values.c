/* json_values.h: the jv_* strings and the jt_* text must give exactly what
 * the jansson values built the old way give once encoded (rpc_json_dump):
 * eth_simulateV1 writes its answer with jt_* and hands it on as
 * rpc_json_raw, and its answers must not change by a byte. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "hexjson.h"
#include "rpc/json_values.h"
#include "rpc/rpc_json.h"

/* The values the checks write: quantities around the word's edges, a hash,
 * an address, byte strings (empty, one byte, longer than a small buffer). */
static const u256 quantities[] = {
    {{0, 0, 0, 0}}, {{1, 0, 0, 0}}, {{0xf, 0, 0, 0}}, {{0x10, 0, 0, 0}}, {{0x1c9c380, 0, 0, 0}},
    {{UINT64_MAX, 0, 0, 0}}, {{0, 1, 0, 0}}, {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}},
};

static json_t *old_quantity(const u256 *v)
{
    char hex[HEX_U256_LEN];
    hex_from_u256(v, hex);
    return json_string(hex);
}

static json_t *old_data(const uint8_t *p, size_t n)
{
    char *hex = hex_from_bytes(p, n);
    json_t *r = json_string(hex);
    free(hex);
    return r;
}

static void ck_same_text(const json_t *tree, const bytebuf *text)
{
    size_t n, at = 0;
    char *want = rpc_json_dump(tree, &n);
    while (at < n && at < text->len && want[at] == (char)text->data[at]) at++;
    ck_assert_msg(n == text->len && at == n, "at byte %zu: text '%.60s', tree '%.60s'", at,
                  (const char *)text->data + at, want + at);
    free(want);
}

START_TEST(jv_strings_as_before)
{
    for (size_t i = 0; i < sizeof quantities / sizeof quantities[0]; i++) {
        json_t *a = jv_quantity(&quantities[i]), *b = old_quantity(&quantities[i]);
        ck_assert_str_eq(json_string_value(a), json_string_value(b));
        json_decref(a), json_decref(b);
        if (u256_fits_u64(&quantities[i])) {
            a = jv_u64(quantities[i].w[0]);
            b = old_quantity(&quantities[i]);
            ck_assert_str_eq(json_string_value(a), json_string_value(b));
            json_decref(a), json_decref(b);
        }
    }
    uint8_t bytes[300];
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)(i * 37 + 1);
    static const size_t lengths[] = {0, 1, 20, 32, 256, 257, 300};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        json_t *a = jv_data(bytes, lengths[i]), *b = old_data(bytes, lengths[i]);
        ck_assert_str_eq(json_string_value(a), json_string_value(b));
        json_decref(a), json_decref(b);
    }
}
END_TEST

START_TEST(jt_text_is_the_tree_encoded)
{
    hash32 h;
    address a;
    uint8_t bytes[300];
    for (size_t i = 0; i < 32; i++) h.b[i] = (uint8_t)(0xa0 + i);
    for (size_t i = 0; i < 20; i++) a.b[i] = (uint8_t)(0x0f * i);
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)(i * 91 + 7);

    /* [{quantities..., "hash", "miner", "data", "empty", "logs":[{...},{...}], "none":[], "obj":{},
     *   "to":null, "removed":false, "error":{"message":"a \"quoted\"\n reason"}}, "0x..", []] */
    json_t *tree = json_array(), *o = json_object();
    bytebuf text = {0};
    jt_open(&text, NULL, '[');
    jt_open(&text, NULL, '{');
    char key[16];
    for (size_t i = 0; i < sizeof quantities / sizeof quantities[0]; i++) {
        snprintf(key, sizeof key, "q%zu", i);
        json_object_set_new(o, key, old_quantity(&quantities[i]));
        jt_quantity(&text, key, &quantities[i]);
    }
    json_object_set_new(o, "n", old_quantity(&(u256){{12345, 0, 0, 0}}));
    jt_u64(&text, "n", 12345);
    json_object_set_new(o, "hash", json_string("0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"));
    jt_hash(&text, "hash", &h);
    char hex[HEX_ADDRESS_LEN];
    hex_from_address(&a, hex);
    json_object_set_new(o, "miner", json_string(hex));
    jt_address(&text, "miner", &a);
    json_object_set_new(o, "data", old_data(bytes, sizeof bytes));
    jt_data(&text, "data", bytes, sizeof bytes);
    json_object_set_new(o, "empty", old_data(NULL, 0));
    jt_data(&text, "empty", NULL, 0);
    json_t *logs = json_array();
    jt_open(&text, "logs", '[');
    for (int k = 0; k < 2; k++) {
        json_t *l = json_object(), *topics = json_array();
        jt_open(&text, NULL, '{');
        json_array_append_new(topics, old_data(h.b, 32));
        json_array_append_new(topics, old_data(h.b, 32));
        json_object_set_new(l, "topics", topics);
        jt_open(&text, "topics", '[');
        jt_hash(&text, NULL, &h);
        jt_hash(&text, NULL, &h);
        jt_close(&text, ']');
        json_object_set_new(l, "logIndex", old_quantity(&(u256){{(uint64_t)k, 0, 0, 0}}));
        jt_u64(&text, "logIndex", (uint64_t)k);
        jt_close(&text, '}');
        json_array_append_new(logs, l);
    }
    jt_close(&text, ']');
    json_object_set_new(o, "logs", logs);
    json_object_set_new(o, "none", json_array());
    jt_open(&text, "none", '[');
    jt_close(&text, ']');
    json_object_set_new(o, "obj", json_object());
    jt_open(&text, "obj", '{');
    jt_close(&text, '}');
    json_object_set_new(o, "to", json_null());
    jt_literal(&text, "to", "null");
    json_object_set_new(o, "removed", json_false());
    jt_literal(&text, "removed", "false");
    json_t *error = json_pack("{s:i,s:s}", "code", -32015, "message", "a \"quoted\"\n reason \xc3\xa9");
    json_object_set(o, "error", error);
    ck_assert(jt_value(&text, "error", error));
    json_decref(error);
    jt_close(&text, '}');
    json_array_append_new(tree, o);
    json_array_append_new(tree, old_data(bytes, 3));
    jt_data(&text, NULL, bytes, 3);
    json_array_append_new(tree, json_array());
    jt_literal(&text, NULL, "[]");
    jt_close(&text, ']');
    ck_same_text(tree, &text);

    /* Handed on as one value, the text is written as is, wherever it sits. */
    json_t *outer = json_array();
    json_array_append_new(outer, rpc_json_raw((const char *)text.data, text.len));
    json_array_append_new(outer, json_integer(1));
    json_t *outer_tree = json_array();
    json_array_append(outer_tree, tree);
    json_array_append_new(outer_tree, json_integer(1));
    size_t n1, n2;
    char *got = rpc_json_dump(outer, &n1), *want = rpc_json_dump(outer_tree, &n2);
    ck_assert_str_eq(got, want);
    free(got), free(want);
    json_decref(outer), json_decref(outer_tree), json_decref(tree);
    bytebuf_free(&text);
}
END_TEST

int main(void)
{
    return TEST_RUN("json_values", TEST_GROUP("text", 0, jv_strings_as_before, jt_text_is_the_tree_encoded));
}
