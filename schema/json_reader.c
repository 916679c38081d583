#include "json_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void jr_reader_init(json_reader *r, const char *text, size_t len)
{
    memset(r, 0, sizeof *r);
    r->text = text;
    r->p = text;
    r->end = text + len;
}

void jr_reader_free(json_reader *r)
{
    bytebuf_free(&r->key_buf);
    bytebuf_free(&r->value_buf);
}

size_t jr_offset(const json_reader *r)
{
    return (size_t)(r->p - r->text);
}

bool jr_fail(json_reader *r, const char *fmt, ...)
{
    size_t line = 1, column = 1;
    for (const char *q = r->text; q < r->p && q < r->end; q++) {
        if (*q == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    int n = snprintf(r->err, sizeof r->err, "line %zu, column %zu: ", line, column);
    if (n < 0 || (size_t)n >= sizeof r->err) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

static void skip_space(json_reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t')) r->p++;
}

/* A character for a message: printable ASCII as is, anything else in hex. */
static const char *describe(json_reader *r, char buf[8])
{
    if (r->p >= r->end) return "end of input";
    unsigned char c = (unsigned char)*r->p;
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "0x%02x", c);
    return buf;
}

enum json_kind jr_peek(json_reader *r)
{
    skip_space(r);
    if (r->p >= r->end) {
        jr_fail(r, "unexpected end of input");
        return JSON_KIND_END;
    }
    switch (*r->p) {
    case '{': return JSON_KIND_OBJECT;
    case '[': return JSON_KIND_ARRAY;
    case '"': return JSON_KIND_STRING;
    case 't': return JSON_KIND_TRUE;
    case 'f': return JSON_KIND_FALSE;
    case 'n': return JSON_KIND_NULL;
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': return JSON_KIND_NUMBER;
    default: {
        char buf[8];
        jr_fail(r, "expected a JSON value, found %s", describe(r, buf));
        return JSON_KIND_END;
    }
    }
}

static bool expect_char(json_reader *r, char c, const char *what)
{
    skip_space(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return true;
    }
    char buf[8];
    return jr_fail(r, "expected %s, found %s", what, describe(r, buf));
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                                 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v << 4 | d;
    }
    return v;
}

static void put_utf8(bytebuf *b, unsigned cp)
{
    if (cp < 0x80) {
        bytebuf_push(b, (uint8_t)cp);
    } else if (cp < 0x800) {
        bytebuf_push(b, (uint8_t)(0xc0 | cp >> 6));
        bytebuf_push(b, (uint8_t)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        bytebuf_push(b, (uint8_t)(0xe0 | cp >> 12));
        bytebuf_push(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        bytebuf_push(b, (uint8_t)(0x80 | (cp & 0x3f)));
    } else {
        bytebuf_push(b, (uint8_t)(0xf0 | cp >> 18));
        bytebuf_push(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
        bytebuf_push(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        bytebuf_push(b, (uint8_t)(0x80 | (cp & 0x3f)));
    }
}

/* The length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, min = 0x80, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, min = 0x800, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

/* Reads a string at r->p (which is '"'). Without escapes the result points
 * into the text; with escapes it is decoded into `buf`. */
static bool read_string(json_reader *r, bytebuf *buf, const char **s, size_t *len)
{
    const char *start = ++r->p;
    bool escaped = false;
    buf->len = 0;
    for (;;) {
        /* The common case first: a run of plain ASCII characters. */
        if (!escaped)
            while (r->p < r->end && (unsigned char)*r->p >= 0x20 && (unsigned char)*r->p < 0x80 && *r->p != '"' &&
                   *r->p != '\\')
                r->p++;
        if (r->p >= r->end) return jr_fail(r, "unterminated string");
        unsigned char c = (unsigned char)*r->p;
        if (c == '"') break;
        if (c < 0x20) return jr_fail(r, "control character 0x%02x in a string", c);
        if (c >= 0x80) {
            size_t n = utf8_sequence((const unsigned char *)r->p, (const unsigned char *)r->end);
            if (n == 0) return jr_fail(r, "invalid UTF-8 in a string");
            if (escaped) bytebuf_append(buf, r->p, n);
            r->p += n;
            continue;
        }
        if (c != '\\') {
            if (escaped) bytebuf_push(buf, c);
            r->p++;
            continue;
        }
        if (!escaped) {
            escaped = true;
            bytebuf_append(buf, start, (size_t)(r->p - start));
        }
        if (r->end - r->p < 2) return jr_fail(r, "unterminated string");
        char e = r->p[1];
        r->p += 2;
        switch (e) {
        case '"': bytebuf_push(buf, '"'); break;
        case '\\': bytebuf_push(buf, '\\'); break;
        case '/': bytebuf_push(buf, '/'); break;
        case 'b': bytebuf_push(buf, '\b'); break;
        case 'f': bytebuf_push(buf, '\f'); break;
        case 'n': bytebuf_push(buf, '\n'); break;
        case 'r': bytebuf_push(buf, '\r'); break;
        case 't': bytebuf_push(buf, '\t'); break;
        case 'u': {
            int cp = r->end - r->p >= 4 ? hex4(r->p) : -1;
            if (cp < 0) return jr_fail(r, "bad \\u escape");
            r->p += 4;
            if (cp >= 0xdc00 && cp <= 0xdfff) return jr_fail(r, "lone low surrogate in \\u escape");
            if (cp >= 0xd800 && cp <= 0xdbff) {
                int low = (r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u') ? hex4(r->p + 2) : -1;
                if (low < 0xdc00 || low > 0xdfff) return jr_fail(r, "lone high surrogate in \\u escape");
                r->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            }
            put_utf8(buf, (unsigned)cp);
            break;
        }
        default: r->p -= 1; return jr_fail(r, "bad escape '\\%c'", e);
        }
    }
    if (escaped) {
        *s = buf->len ? (const char *)buf->data : "";
        *len = buf->len;
    } else {
        *s = start;
        *len = (size_t)(r->p - start);
    }
    r->p++; /* the closing quote */
    return true;
}

bool jr_string(json_reader *r, const char **s, size_t *len)
{
    if (jr_peek(r) != JSON_KIND_STRING) return r->err[0] ? false : jr_fail(r, "expected a string");
    return read_string(r, &r->value_buf, s, len);
}

static bool digits(json_reader *r)
{
    const char *from = r->p;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
    return r->p > from;
}

bool jr_number(json_reader *r, const char **s, size_t *len)
{
    if (jr_peek(r) != JSON_KIND_NUMBER) return r->err[0] ? false : jr_fail(r, "expected a number");
    const char *start = r->p;
    if (*r->p == '-') r->p++;
    if (r->p < r->end && *r->p == '0') {
        r->p++;
        if (r->p < r->end && *r->p >= '0' && *r->p <= '9') return jr_fail(r, "leading zero in a number");
    } else if (!digits(r)) {
        return jr_fail(r, "bad number");
    }
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (!digits(r)) return jr_fail(r, "bad number: no digits after '.'");
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
        if (!digits(r)) return jr_fail(r, "bad number: no digits in the exponent");
    }
    *s = start;
    *len = (size_t)(r->p - start);
    return true;
}

static bool literal(json_reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return jr_fail(r, "expected '%s'", word);
    r->p += n;
    return true;
}

bool jr_object_begin(json_reader *r)
{
    if (jr_peek(r) != JSON_KIND_OBJECT) return r->err[0] ? false : jr_fail(r, "expected an object");
    if (++r->depth > JSON_MAX_DEPTH) return jr_fail(r, "nested deeper than %d", JSON_MAX_DEPTH);
    r->p++;
    return true;
}

int jr_object_next(json_reader *r, bool *first, const char **key, size_t *key_len)
{
    skip_space(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        r->depth--;
        return 0;
    }
    if (!*first && !expect_char(r, ',', "',' or '}'")) return -1;
    *first = false;
    skip_space(r);
    if (r->p >= r->end || *r->p != '"') {
        char buf[8];
        jr_fail(r, "expected a member name (a string), found %s", describe(r, buf));
        return -1;
    }
    if (!read_string(r, &r->key_buf, key, key_len)) return -1;
    if (!expect_char(r, ':', "':'")) return -1;
    return 1;
}

bool jr_array_begin(json_reader *r)
{
    if (jr_peek(r) != JSON_KIND_ARRAY) return r->err[0] ? false : jr_fail(r, "expected an array");
    if (++r->depth > JSON_MAX_DEPTH) return jr_fail(r, "nested deeper than %d", JSON_MAX_DEPTH);
    r->p++;
    return true;
}

int jr_array_next(json_reader *r, bool *first)
{
    skip_space(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        r->depth--;
        return 0;
    }
    if (!*first && !expect_char(r, ',', "',' or ']'")) return -1;
    *first = false;
    return 1;
}

bool jr_skip(json_reader *r)
{
    const char *s;
    size_t n;
    bool first = true;
    int more;
    switch (jr_peek(r)) {
    case JSON_KIND_OBJECT:
        if (!jr_object_begin(r)) return false;
        while ((more = jr_object_next(r, &first, &s, &n)) == 1)
            if (!jr_skip(r)) return false;
        return more == 0;
    case JSON_KIND_ARRAY:
        if (!jr_array_begin(r)) return false;
        while ((more = jr_array_next(r, &first)) == 1)
            if (!jr_skip(r)) return false;
        return more == 0;
    case JSON_KIND_STRING: return read_string(r, &r->value_buf, &s, &n);
    case JSON_KIND_NUMBER: return jr_number(r, &s, &n);
    case JSON_KIND_TRUE: return literal(r, "true");
    case JSON_KIND_FALSE: return literal(r, "false");
    case JSON_KIND_NULL: return literal(r, "null");
    default: return false;
    }
}

bool jr_value_span(json_reader *r, const char **start, size_t *len)
{
    if (jr_peek(r) == JSON_KIND_END) return false;
    const char *from = r->p;
    if (!jr_skip(r)) return false;
    *start = from;
    *len = (size_t)(r->p - from);
    return true;
}

bool jr_end(json_reader *r)
{
    skip_space(r);
    if (r->p == r->end) return true;
    char buf[8];
    return jr_fail(r, "unexpected %s after the end of the JSON value", describe(r, buf));
}
