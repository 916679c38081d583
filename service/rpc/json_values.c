#include "rpc/json_values.h"

#include <stdlib.h>
#include <string.h>

#include "hexjson.h"
#include "rpc/rpc_json.h"

/* Hex is ASCII: jansson's UTF-8 check is skipped. */
json_t *jv_quantity(const u256 *v)
{
    char hex[HEX_QUANTITY_LEN];
    size_t n = hex_encode_quantity(v, hex);
    return json_stringn_nocheck(hex, n);
}

json_t *jv_u64(uint64_t v)
{
    u256 w = u256_from_u64(v);
    return jv_quantity(&w);
}

json_t *jv_hash(const hash32 *h)
{
    char hex[HEX_HASH_LEN];
    hex_from_hash(h, hex);
    return json_stringn_nocheck(hex, HEX_HASH_LEN - 1);
}

json_t *jv_address(const address *a)
{
    char hex[HEX_ADDRESS_LEN];
    hex_from_address(a, hex);
    return json_stringn_nocheck(hex, HEX_ADDRESS_LEN - 1);
}

json_t *jv_data(const uint8_t *p, size_t n) { return hex_json_bytes(p, n); }

/* ------------------------------------------------------------ as text */

/* The separator and the member's name; room for `value_len` more bytes. */
static void jt_member(bytebuf *out, const char *key, size_t value_len)
{
    size_t key_len = key ? strlen(key) : 0;
    bytebuf_reserve(out, key_len + 4 + value_len);
    if (out->len && out->data[out->len - 1] != '{' && out->data[out->len - 1] != '[') out->data[out->len++] = ',';
    if (!key) return;
    out->data[out->len++] = '"';
    memcpy(out->data + out->len, key, key_len);
    out->len += key_len;
    out->data[out->len++] = '"';
    out->data[out->len++] = ':';
}

/* A string of `n` ASCII characters that need no escaping (hex). */
static void jt_plain(bytebuf *out, const char *key, const char *s, size_t n)
{
    jt_member(out, key, n + 2);
    out->data[out->len++] = '"';
    memcpy(out->data + out->len, s, n);
    out->len += n;
    out->data[out->len++] = '"';
}

void jt_open(bytebuf *out, const char *key, char bracket)
{
    jt_member(out, key, 1);
    out->data[out->len++] = (uint8_t)bracket;
}

void jt_close(bytebuf *out, char bracket) { bytebuf_push(out, (uint8_t)bracket); }

void jt_quantity(bytebuf *out, const char *key, const u256 *v)
{
    char hex[HEX_QUANTITY_LEN];
    size_t n = hex_encode_quantity(v, hex);
    jt_plain(out, key, hex, n);
}

void jt_u64(bytebuf *out, const char *key, uint64_t v)
{
    u256 w = u256_from_u64(v);
    jt_quantity(out, key, &w);
}

void jt_hash(bytebuf *out, const char *key, const hash32 *h) { jt_data(out, key, h->b, 32); }

void jt_address(bytebuf *out, const char *key, const address *a) { jt_data(out, key, a->b, 20); }

void jt_data(bytebuf *out, const char *key, const uint8_t *p, size_t n)
{
    jt_member(out, key, 2 * n + 4);
    memcpy(out->data + out->len, "\"0x", 3);
    hex_encode(p, n, (char *)out->data + out->len + 3);
    out->len += 3 + 2 * n;
    out->data[out->len++] = '"';
}

void jt_literal(bytebuf *out, const char *key, const char *json)
{
    size_t n = strlen(json);
    jt_member(out, key, n);
    memcpy(out->data + out->len, json, n);
    out->len += n;
}

bool jt_value(bytebuf *out, const char *key, const json_t *v)
{
    jt_member(out, key, 0);
    return rpc_json_write(out, v);
}
