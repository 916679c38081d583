#include "hexjson.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool hj_fail(hj_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return false;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The digits after the "0x" prefix, or NULL when there is no prefix or a
 * character is not a hex digit. */
static const char *hex_digits(const char *s, size_t *n)
{
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return NULL;
    s += 2;
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++)
        if (hex_digit(s[i]) < 0) return NULL;
    *n = len;
    return s;
}

/* Decodes an even number of digits into n/2 bytes. */
static void decode_pairs(const char *d, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n / 2; i++) out[i] = (uint8_t)(hex_digit(d[2 * i]) << 4 | hex_digit(d[2 * i + 1]));
}

bool hex_to_u256(const char *s, u256 *out)
{
    size_t n;
    const char *d = hex_digits(s, &n);
    if (!d || n == 0 || n > 64) return false;
    *out = u256_zero();
    for (size_t i = 0; i < n; i++) {
        unsigned bit = 4 * (unsigned)(n - 1 - i);
        out->w[bit / 64] |= (uint64_t)hex_digit(d[i]) << (bit % 64);
    }
    return true;
}

bool hex_to_u64(const char *s, uint64_t *out)
{
    u256 v;
    if (!hex_to_u256(s, &v) || !u256_fits_u64(&v)) return false;
    *out = v.w[0];
    return true;
}

bool hex_to_address(const char *s, address *out)
{
    size_t n;
    const char *d = hex_digits(s, &n);
    if (!d || n != 40) return false;
    decode_pairs(d, n, out->b);
    return true;
}

bool hex_to_hash(const char *s, hash32 *out)
{
    size_t n;
    const char *d = hex_digits(s, &n);
    if (!d || n != 64) return false;
    decode_pairs(d, n, out->b);
    return true;
}

bool hex_to_bytes(const char *s, bytebuf *out)
{
    size_t n;
    const char *d = hex_digits(s, &n);
    if (!d || n % 2) return false;
    if (n == 0) return true;
    bytebuf_reserve(out, n / 2);
    decode_pairs(d, n, out->data + out->len);
    out->len += n / 2;
    return true;
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

static const char hex_chars[] = "0123456789abcdef";

static void format_bytes(const uint8_t *p, size_t n, char *out)
{
    out[0] = '0';
    out[1] = 'x';
    for (size_t i = 0; i < n; i++) {
        out[2 + 2 * i] = hex_chars[p[i] >> 4];
        out[3 + 2 * i] = hex_chars[p[i] & 15];
    }
    out[2 + 2 * n] = '\0';
}

void hex_from_hash(const hash32 *h, char out[HEX_HASH_LEN]) { format_bytes(h->b, 32, out); }

void hex_from_address(const address *a, char out[HEX_ADDRESS_LEN]) { format_bytes(a->b, 20, out); }

void hex_from_u256(const u256 *v, char out[HEX_U256_LEN])
{
    uint8_t be[32];
    char full[HEX_U256_LEN];
    u256_store_be(be, v);
    format_bytes(be, 32, full);
    const char *d = full + 2;
    while (d[0] == '0' && d[1]) d++;
    out[0] = '0';
    out[1] = 'x';
    memmove(out + 2, d, strlen(d) + 1);
}

char *hex_from_bytes(const uint8_t *p, size_t n)
{
    char *s = xmalloc(2 * n + 3);
    format_bytes(p, n, s);
    return s;
}
