/* jansson's parser reads one character at a time through a callback and
 * its encoder writes through one; on a request of a few hundred bytes they
 * cost about as much as answering eth_chainId. These do the common case
 * directly and build (or read) the same jansson trees. */
#include "rpc/rpc_json.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <sodium.h>

#include "base/types.h"

/* ------------------------------------------------------------ raw text */

/* Text written back verbatim, kept in an object whose one key is this
 * process's random marker (no client can make one). An id is echoed
 * exactly as sent (as geth does): a number that jansson would change
 * (1e-99999 reads as 0.0) or refuse (an integer above 2^63) is kept so.
 * And an answer a method wrote as JSON text (rpc_json_raw). */
static char raw_key[48];
static pthread_once_t raw_key_once = PTHREAD_ONCE_INIT;

static void raw_key_init(void)
{
    uint8_t nonce[16];
    randombytes_buf(nonce, sizeof nonce);
    memcpy(raw_key, "\x01raw-number:", 13);
    sodium_bin2hex(raw_key + 13, sizeof raw_key - 13, nonce, sizeof nonce);
}

bool rpc_json_raw_number(const json_t *v, const char **text)
{
    if (!json_is_object(v) || json_object_size(v) != 1) return false;
    pthread_once(&raw_key_once, raw_key_init);
    const json_t *t = json_object_get(v, raw_key);
    if (!json_is_string(t)) return false;
    if (text) *text = json_string_value(t);
    return true;
}

/* The length of the JSON number at p (RFC 8259's grammar), 0 if none. */
static size_t number_length(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *q = p;
    if (q < end && *q == '-') q++;
    if (q >= end || *q < '0' || *q > '9') return 0;
    if (*q == '0') q++;
    else while (q < end && *q >= '0' && *q <= '9') q++;
    if (q < end && *q == '.') {
        if (++q >= end || *q < '0' || *q > '9') return 0;
        while (q < end && *q >= '0' && *q <= '9') q++;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-')) q++;
        if (q >= end || *q < '0' || *q > '9') return 0;
        while (q < end && *q >= '0' && *q <= '9') q++;
    }
    return (size_t)(q - p);
}

json_t *rpc_json_raw(const char *text, size_t n)
{
    pthread_once(&raw_key_once, raw_key_init);
    json_t *o = json_object();
    json_object_set_new_nocheck(o, raw_key, json_stringn_nocheck(text, n));
    return o;
}

/* ------------------------------------------------------------ parsing */

/* Deeper documents go to jansson (which allows 2048 levels). */
#define FAST_MAX_DEPTH 32

typedef struct {
    const unsigned char *p, *end;
    int depth;
} parser;

static void skip_space(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

/* The length of the run at p of bytes that need no attention in a JSON
 * string: not '"', not '\\', not a control character, and (unless
 * `high_ok`) ASCII. Eight bytes at a time (the hex strings of a request
 * are long): a word with none of those bytes is skipped whole; the word
 * that has one is finished a byte at a time. */
static inline __attribute__((always_inline)) size_t plain_run(const unsigned char *p, const unsigned char *end, bool high_ok)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    const unsigned char *q = p;
    while (end - q >= 8) {
        uint64_t w;
        memcpy(&w, q, 8);
        uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
        uint64_t special = ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | ((w - ones * 0x20) & ~w);
        if (!high_ok) special |= w;
        if (special & highs) break;
        q += 8;
    }
    while (q < end && *q != '"' && *q != '\\' && *q >= 0x20 && (high_ok || *q < 0x80)) q++;
    return (size_t)(q - p);
}

/* A string of printable ASCII without escapes: its bytes are its value.
 * Anything else is left to jansson (false). */
static bool plain_string(parser *ps, const char **s, size_t *n)
{
    const unsigned char *start = ++ps->p; /* past the quote */
    ps->p += plain_run(ps->p, ps->end, false);
    while (ps->p < ps->end) {
        unsigned char c = *ps->p;
        if (c == '"') {
            *s = (const char *)start;
            *n = (size_t)(ps->p - start);
            ps->p++;
            return true;
        }
        if (c < 0x20 || c == '\\' || c >= 0x80) return false;
        ps->p++;
    }
    return false;
}

static bool literal(parser *ps, const char *word, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return false;
    ps->p += n;
    /* jansson reads a whole run of letters as one word ("truex" is an error). */
    return ps->p == ps->end || !((*ps->p | 0x20) >= 'a' && (*ps->p | 0x20) <= 'z');
}

static json_t *parse_value(parser *ps);

static json_t *parse_number(parser *ps)
{
    bool negative = *ps->p == '-';
    if (negative) ps->p++;
    const unsigned char *start = ps->p;
    uint64_t v = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') v = v * 10 + (uint64_t)(*ps->p++ - '0');
    size_t digits = (size_t)(ps->p - start);
    /* Reals, leading zeros and integers near the int64 limit: jansson's call. */
    if (digits == 0 || digits > 18 || (digits > 1 && *start == '0')) return NULL;
    if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E')) return NULL;
    return json_integer(negative ? -(json_int_t)v : (json_int_t)v);
}

static json_t *parse_array(parser *ps)
{
    ps->p++;
    json_t *a = json_array();
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return a;
    }
    for (;;) {
        json_t *v = parse_value(ps);
        if (!v || json_array_append_new(a, v) != 0) break;
        skip_space(ps);
        if (ps->p >= ps->end) break;
        if (*ps->p == ']') {
            ps->p++;
            return a;
        }
        if (*ps->p != ',') break;
        ps->p++;
    }
    json_decref(a);
    return NULL;
}

static json_t *parse_object(parser *ps)
{
    ps->p++;
    json_t *o = json_object();
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return o;
    }
    for (;;) {
        skip_space(ps);
        const char *key;
        size_t key_len;
        if (ps->p >= ps->end || *ps->p != '"' || !plain_string(ps, &key, &key_len)) break;
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != ':') break;
        ps->p++;
        json_t *v = NULL;
        skip_space(ps);
        if (key_len == 2 && memcmp(key, "id", 2) == 0 && ps->p < ps->end && (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))) {
            /* An id number: a plain integer as usual, anything else as its text. */
            const unsigned char *start = ps->p;
            v = parse_number(ps);
            if (!v) {
                size_t n = number_length(start, ps->end);
                ps->p = start + n;
                v = n ? rpc_json_raw((const char *)start, n) : NULL;
            }
        } else {
            v = parse_value(ps);
        }
        /* A repeated key replaces the value, as in jansson. */
        if (!v || json_object_setn_new_nocheck(o, key, key_len, v) != 0) break;
        skip_space(ps);
        if (ps->p >= ps->end) break;
        if (*ps->p == '}') {
            ps->p++;
            return o;
        }
        if (*ps->p != ',') break;
        ps->p++;
    }
    json_decref(o);
    return NULL;
}

static json_t *parse_value(parser *ps)
{
    skip_space(ps);
    if (ps->p >= ps->end) return NULL;
    json_t *v = NULL;
    switch (*ps->p) {
    case '"': {
        const char *s;
        size_t n;
        if (plain_string(ps, &s, &n)) v = json_stringn_nocheck(s, n);
        break;
    }
    case '{':
    case '[':
        if (ps->depth >= FAST_MAX_DEPTH) return NULL;
        ps->depth++;
        v = *ps->p == '{' ? parse_object(ps) : parse_array(ps);
        ps->depth--;
        break;
    case 't': v = literal(ps, "true", 4) ? json_true() : NULL; break;
    case 'f': v = literal(ps, "false", 5) ? json_false() : NULL; break;
    case 'n': v = literal(ps, "null", 4) ? json_null() : NULL; break;
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) v = parse_number(ps);
        break;
    }
    return v;
}

json_t *rpc_json_parse(const char *text, size_t len)
{
    parser ps = {(const unsigned char *)text, (const unsigned char *)text + len, 0};
    json_t *v = parse_value(&ps);
    if (v) {
        skip_space(&ps);
        if (ps.p == ps.end) return v;
        json_decref(v);
    }
    json_error_t err;
    return json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
}

/* ------------------------------------------------------------ encoding */

static void put(bytebuf *out, const char *s, size_t n) { bytebuf_append(out, s, n); }

static void put_string(bytebuf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    bytebuf_reserve(out, n + 2);
    bytebuf_push(out, '"');
    size_t run = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = plain_run(u, u + n, true); i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        put(out, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0};
        size_t k = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            k = 6;
            break;
        }
        put(out, esc, k);
    }
    put(out, s + run, n - run);
    bytebuf_push(out, '"');
}

static bool put_value(bytebuf *out, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *raw;
        if (rpc_json_raw_number(v, &raw)) {
            put(out, raw, strlen(raw));
            return true;
        }
        bytebuf_push(out, '{');
        bool first = true;
        /* Insertion order, as jansson writes objects. */
        for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
            if (!first) bytebuf_push(out, ',');
            first = false;
            put_string(out, json_object_iter_key(it), json_object_iter_key_len(it));
            bytebuf_push(out, ':');
            if (!put_value(out, json_object_iter_value(it))) return false;
        }
        bytebuf_push(out, '}');
        return true;
    }
    case JSON_ARRAY: {
        bytebuf_push(out, '[');
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n; i++) {
            if (i) bytebuf_push(out, ',');
            if (!put_value(out, json_array_get(v, i))) return false;
        }
        bytebuf_push(out, ']');
        return true;
    }
    case JSON_STRING: put_string(out, json_string_value(v), json_string_length(v)); return true;
    case JSON_INTEGER: {
        /* Decimal, as "%lld" writes it (snprintf cost more than the rest
         * of a small answer: every id is an integer). */
        json_int_t x = json_integer_value(v);
        uint64_t mag = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
        char num[24], *d = num + sizeof num;
        do *--d = (char)('0' + mag % 10);
        while (mag /= 10);
        if (x < 0) *--d = '-';
        put(out, d, (size_t)(num + sizeof num - d));
        return true;
    }
    case JSON_TRUE: put(out, "true", 4); return true;
    case JSON_FALSE: put(out, "false", 5); return true;
    case JSON_NULL: put(out, "null", 4); return true;
    case JSON_REAL:
    default: {
        /* Reals (an id such as 1.5) in jansson's own format. */
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s) return false;
        put(out, s, strlen(s));
        free(s);
        return true;
    }
    }
}

bool rpc_json_write(bytebuf *out, const json_t *v) { return put_value(out, v); }

char *rpc_json_dump(const json_t *v, size_t *len)
{
    bytebuf out = {0};
    bytebuf_reserve(&out, 256);
    if (!put_value(&out, v)) {
        bytebuf_free(&out);
        return NULL;
    }
    bytebuf_push(&out, '\0');
    *len = out.len - 1;
    return (char *)out.data;
}
