#include "hexjson.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool hj_fail(hj_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return false;
}

/* The fixture files' rules: "0x" always, quantities of 1 to 64 digits
 * with leading zeros allowed, no message (the hj_ forms say what failed). */
bool hex_to_u256(const char *s, u256 *out)
{
    return s && hex_parse_quantity(s, strlen(s), HEX_AT_MOST_64_DIGITS, 256, out, NULL) == HEX_OK;
}

bool hex_to_u64(const char *s, uint64_t *out)
{
    u256 v;
    if (!s || hex_parse_quantity(s, strlen(s), HEX_AT_MOST_64_DIGITS, 64, &v, NULL) != HEX_OK) return false;
    *out = v.w[0];
    return true;
}

bool hex_to_address(const char *s, address *out)
{
    return s && hex_parse_fixed(s, strlen(s), 0, out->b, 20, NULL) == HEX_OK;
}

bool hex_to_hash(const char *s, hash32 *out)
{
    return s && hex_parse_fixed(s, strlen(s), 0, out->b, 32, NULL) == HEX_OK;
}

bool hex_to_bytes(const char *s, bytebuf *out)
{
    return s && hex_parse_bytes(s, strlen(s), 0, out, NULL) == HEX_OK;
}

/* --- JSON values. */

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* The string value for an error message, cut short when long. */
static const char *shown(const json_t *v) { return json_is_string(v) ? json_string_value(v) : json_kind(v); }

bool hj_u256(const json_t *v, const char *what, u256 *out, hj_error *err)
{
    if (!v) return hj_fail(err, "%s: missing", what);
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = u256_from_u64((uint64_t)json_integer_value(v));
        return true;
    }
    if (json_is_string(v) && hex_to_u256(json_string_value(v), out)) return true;
    return hj_fail(err, "%s: expected a hex quantity of at most 256 bits, got %.80s", what, shown(v));
}

bool hj_u64(const json_t *v, const char *what, uint64_t *out, hj_error *err)
{
    u256 w;
    if (!hj_u256(v, what, &w, err)) return false;
    if (!u256_fits_u64(&w)) return hj_fail(err, "%s: %.80s does not fit in 64 bits", what, shown(v));
    *out = w.w[0];
    return true;
}

bool hj_address(const json_t *v, const char *what, address *out, hj_error *err)
{
    if (!v) return hj_fail(err, "%s: missing", what);
    if (json_is_string(v) && hex_to_address(json_string_value(v), out)) return true;
    return hj_fail(err, "%s: expected a 20-byte hex address, got %.80s", what, shown(v));
}

bool hj_hash(const json_t *v, const char *what, hash32 *out, hj_error *err)
{
    if (!v) return hj_fail(err, "%s: missing", what);
    if (json_is_string(v) && hex_to_hash(json_string_value(v), out)) return true;
    return hj_fail(err, "%s: expected 32 bytes (64 hex digits), got %.80s", what, shown(v));
}

bool hj_bytes(const json_t *v, const char *what, bytebuf *out, hj_error *err)
{
    if (!v) return hj_fail(err, "%s: missing", what);
    if (json_is_string(v) && hex_to_bytes(json_string_value(v), out)) return true;
    return hj_fail(err, "%s: expected hex bytes (\"0x\" and an even number of digits), got %.80s", what,
                   shown(v));
}

/* --- Object members. */

#define HJ_MEMBER(name, type)                                                        \
    bool hj_get_##name(const json_t *obj, const char *key, type *out, hj_error *err) \
    {                                                                                \
        return hj_##name(json_object_get(obj, key), key, out, err);                  \
    }
HJ_MEMBER(u256, u256)
HJ_MEMBER(u64, uint64_t)
HJ_MEMBER(address, address)
HJ_MEMBER(hash, hash32)
HJ_MEMBER(bytes, bytebuf)
#undef HJ_MEMBER

#define HJ_OPTIONAL(name, type)                                                      \
    bool hj_opt_##name(const json_t *obj, const char *key, type *out, hj_error *err) \
    {                                                                                \
        const json_t *v = json_object_get(obj, key);                                 \
        return !v || hj_##name(v, key, out, err);                                    \
    }
HJ_OPTIONAL(u256, u256)
HJ_OPTIONAL(u64, uint64_t)
HJ_OPTIONAL(hash, hash32)
#undef HJ_OPTIONAL

bool hj_get_object(const json_t *obj, const char *key, json_t **out, hj_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return hj_fail(err, "%s: missing", key);
    if (!json_is_object(v)) return hj_fail(err, "%s: expected an object, got %s", key, json_kind(v));
    *out = v;
    return true;
}

bool hj_get_array(const json_t *obj, const char *key, json_t **out, hj_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return hj_fail(err, "%s: missing", key);
    if (!json_is_array(v)) return hj_fail(err, "%s: expected an array, got %s", key, json_kind(v));
    *out = v;
    return true;
}

/* --- Formatting. */

static void format_bytes(const uint8_t *p, size_t n, char *out)
{
    out[0] = '0';
    out[1] = 'x';
    hex_encode(p, n, out + 2);
    out[2 + 2 * n] = '\0';
}

void hex_from_hash(const hash32 *h, char out[HEX_HASH_LEN]) { format_bytes(h->b, 32, out); }

void hex_from_address(const address *a, char out[HEX_ADDRESS_LEN]) { format_bytes(a->b, 20, out); }

void hex_from_u256(const u256 *v, char out[HEX_U256_LEN]) { hex_encode_quantity(v, out); }

char *hex_from_bytes(const uint8_t *p, size_t n)
{
    char *s = xmalloc(2 * n + 3);
    format_bytes(p, n, s);
    return s;
}

json_t *hex_json_bytes(const uint8_t *p, size_t n)
{
    char small[2 + 2 * 256 + 1]; /* most call outputs: a few words */
    char *s = n <= 256 ? small : hex_from_bytes(p, n);
    if (s == small) format_bytes(p, n, s);
    json_t *v = json_stringn_nocheck(s, 2 + 2 * n);
    if (s != small) free(s);
    return v;
}
