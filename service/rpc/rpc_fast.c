/* The common request shapes read from the text (see rpc_fast.h for the
 * rule). Every check here is stricter than the tree path's: a value this
 * reader takes, the tree path's parsers take with the same meaning. */
#include "rpc/rpc_fast.h"

#include <pthread.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "rpc/rpc_exec.h"
#include "store.h"

typedef struct {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t')) c->p++;
}

/* Compact JSON (what clients send) has no whitespace between tokens: the
 * character itself is tried first. */
static bool take(cursor *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    skip_ws(c);
    if (c->p >= c->end || *c->p != ch) return false;
    c->p++;
    return true;
}

static const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;

/* The high bit of each byte of w that equals ch; above the first such
 * byte others may be flagged too (a borrow), never below it. */
static uint64_t bytes_equal(uint64_t w, char ch)
{
    uint64_t x = w ^ (ones * (unsigned char)ch);
    return (x - ones) & ~x & highs;
}

/* The first character at or after p that cannot be in a plain string (a
 * quote, a backslash, a control character, DEL or above), or end. Sixteen
 * at a time where SSE2 is (every x86-64: a signed compare below 0x20 also
 * catches 0x80 and above), then eight: in a word a byte is flagged when it
 * may be special, and each test's false flags (borrows, carries) come only
 * above a truly special byte, so the lowest flag is the first one. */
static const char *first_special(const char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20),
                  del = _mm_set1_epi8(0x7f);
    for (; end - p >= 16; p += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                       _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)));
        unsigned mask = (unsigned)_mm_movemask_epi8(special);
        if (mask) return p + __builtin_ctz(mask);
    }
#endif
    for (; end - p >= 8; p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t special = (bytes_equal(w, '"') | bytes_equal(w, '\\') | ((w - ones * 0x20) & ~w) | (w + ones) | w) &
                           highs;
        if (special) return p + __builtin_ctzll(special) / 8;
    }
    for (; p < end; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\') return p;
    }
    return end;
}

/* A string of printable ASCII without escapes (DEL excluded): its
 * characters are its value; the first special character must be the
 * closing quote. */
static bool plain_string(cursor *c, const char **s, size_t *n)
{
    if (!take(c, '"')) return false;
    const char *start = c->p;
    c->p = first_special(c->p, c->end);
    if (c->p == c->end || *c->p != '"') return false;
    *s = start;
    *n = (size_t)(c->p - start);
    c->p++;
    return true;
}

/* A member's name, when it may be one this reader knows (at most 7
 * characters, which the caller compares): any other is refused. */
static bool short_key(cursor *c, const char **k, size_t *n)
{
    if (!take(c, '"')) return false;
    const char *start = c->p;
    if (c->end - c->p >= 8) {
        /* The closing quote is among the next eight characters. */
        uint64_t w;
        memcpy(&w, c->p, 8);
        uint64_t quote = bytes_equal(w, '"');
        if (!quote) return false;
        c->p += __builtin_ctzll(quote) / 8;
    } else {
        while (c->p < c->end && *c->p != '"') c->p++;
        if (c->p >= c->end) return false;
    }
    *k = start;
    *n = (size_t)(c->p - start);
    c->p++;
    return true;
}

#define IS(s, n, lit) ((n) == sizeof lit - 1 && memcmp((s), lit, sizeof lit - 1) == 0)

/* A hex digit's value plus one; 0: not a digit. */
#define HEX_ROW(c, v) [c] = (v) + 1
static const uint8_t hex_plus_one[256] = {
    HEX_ROW('0', 0), HEX_ROW('1', 1), HEX_ROW('2', 2), HEX_ROW('3', 3), HEX_ROW('4', 4), HEX_ROW('5', 5),
    HEX_ROW('6', 6), HEX_ROW('7', 7), HEX_ROW('8', 8), HEX_ROW('9', 9), HEX_ROW('a', 10), HEX_ROW('b', 11),
    HEX_ROW('c', 12), HEX_ROW('d', 13), HEX_ROW('e', 14), HEX_ROW('f', 15), HEX_ROW('A', 10), HEX_ROW('B', 11),
    HEX_ROW('C', 12), HEX_ROW('D', 13), HEX_ROW('E', 14), HEX_ROW('F', 15),
};
#undef HEX_ROW

/* Eight hex digits (as read from memory, the first in the low byte) into
 * four bytes: false when any is not a digit. Digits are 0x30-0x39, letters
 * 0x41-0x46 or 0x61-0x66 (0x20 set makes them one range); with every byte
 * below 0x80, adding to it never carries out of the byte. */
static bool hex_word(uint64_t w, uint8_t out[4])
{
    if (w & highs) return false;
    uint64_t digit = (w + ones * (0x80 - '0')) & ~(w + ones * (0x80 - '9' - 1));
    uint64_t lower = w | ones * 0x20, letter = (lower + ones * (0x80 - 'a')) & ~(lower + ones * (0x80 - 'f' - 1));
    if (((digit | letter) & highs) != highs) return false;
    uint64_t nibbles = (w & ones * 0x0f) + ((letter & highs) >> 7) * 9;
    /* Each pair of bytes (high digit first) into the low byte of its 16 bits, then those bytes together. */
    const uint64_t low_bytes = 0x00ff00ff00ff00ffu;
    uint64_t pairs = ((nibbles & low_bytes) << 4) | ((nibbles >> 8) & low_bytes);
    pairs = (pairs | pairs >> 8) & 0x0000ffff0000ffffu;
    pairs = pairs | pairs >> 16;
    uint32_t bytes = (uint32_t)pairs;
    memcpy(out, &bytes, 4);
    return true;
}

/* "0x" and an even number of digits, decoded into out (at most max bytes). */
static bool hex_bytes(const char *s, size_t n, uint8_t *out, size_t max, size_t *len)
{
    if (n < 2 || s[0] != '0' || s[1] != 'x' || (n - 2) % 2 || (n - 2) / 2 > max) return false;
    *len = (n - 2) / 2;
    size_t i = 0;
    for (; i + 4 <= *len; i += 4) {
        uint64_t w;
        memcpy(&w, s + 2 + 2 * i, 8);
        if (!hex_word(w, out + i)) return false;
    }
    unsigned bad = 0;
    for (; i < *len; i++) {
        unsigned hi = hex_plus_one[(unsigned char)s[2 + 2 * i]], lo = hex_plus_one[(unsigned char)s[3 + 2 * i]];
        bad |= (hi - 1) | (lo - 1); /* a non-digit's 0 - 1 sets the high bits */
        out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
    }
    return bad < 16;
}

static bool hex_address(const char *s, size_t n, address *a)
{
    size_t len;
    return n == 42 && hex_bytes(s, n, a->b, 20, &len) && len == 20;
}

/* A quantity: "0x", no leading zero, at most `bits` bits of digits. */
static bool hex_quantity(const char *s, size_t n, unsigned bits, u256 *v)
{
    size_t digits = n - 2;
    if (n < 3 || s[0] != '0' || s[1] != 'x' || digits > bits / 4 || (s[2] == '0' && digits > 1)) return false;
    *v = u256_zero();
    for (size_t i = 0; i < digits; i++) {
        unsigned d = hex_plus_one[(unsigned char)s[2 + i]];
        if (!d) return false;
        unsigned bit = 4 * (unsigned)(digits - 1 - i);
        v->w[bit / 64] |= (uint64_t)(d - 1) << (bit % 64);
    }
    return true;
}

/* The call object: from, to, data or input, gas, value, each at most once,
 * `to` required (a creation, or a call the live memo cannot key, goes the
 * tree's way). */
static bool call_object(cursor *c, rpc_fast_request *r)
{
    call_args *a = &r->args;
    if (!take(c, '{')) return false;
    bool data_given = false;
    do {
        const char *key, *v;
        size_t key_len, n;
        if (!short_key(c, &key, &key_len) || !take(c, ':') || !plain_string(c, &v, &n)) return false;
        if (IS(key, key_len, "to") && !a->has_to) {
            if (!hex_address(v, n, &a->to)) return false;
            a->has_to = true;
            r->to_text = v, r->to_len = n;
        } else if (IS(key, key_len, "from") && !a->has_from) {
            if (!hex_address(v, n, &a->from)) return false;
            a->has_from = true;
            r->from_text = v, r->from_len = n;
        } else if ((IS(key, key_len, "data") || IS(key, key_len, "input")) && !data_given) {
            size_t len;
            if (!hex_bytes(v, n, r->data, sizeof r->data, &len)) return false;
            data_given = true;
            bytebuf *b = key_len == 4 ? &a->data : &a->input;
            /* Read only (call_msg_build takes the pointer); never freed. */
            *b = (bytebuf){.data = len ? r->data : NULL, .len = len};
            if (key_len == 4) a->has_data = true;
            else a->has_input = true;
            r->selector_len = len < 4 ? len : 4;
            memcpy(r->selector, r->data, r->selector_len);
        } else if (IS(key, key_len, "gas") && !a->has_gas) {
            u256 g;
            if (!hex_quantity(v, n, 64, &g)) return false;
            a->gas = g.w[0];
            a->has_gas = true;
        } else if (IS(key, key_len, "value") && !a->has_value) {
            if (!hex_quantity(v, n, 256, &a->value)) return false;
            a->has_value = true;
        } else {
            return false; /* unknown, repeated: the tree's way */
        }
    } while (take(c, ','));
    return take(c, '}') && a->has_to;
}

/* The parameters: [], [call], [call, "latest"], [address], [address,
 * "latest"]; *shape says which kind they fit (-1: empty). */
static bool params_value(cursor *c, rpc_fast_request *r, int *shape)
{
    if (!take(c, '[')) return false;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        *shape = -1;
        return true;
    }
    if (c->p < c->end && *c->p == '{') {
        if (!call_object(c, r)) return false;
        *shape = RPC_FAST_CALL;
    } else {
        const char *s;
        size_t n;
        if (!plain_string(c, &s, &n) || !hex_address(s, n, &r->account)) return false;
        *shape = RPC_FAST_GET_BALANCE;
    }
    if (take(c, ',')) {
        const char *s;
        size_t n;
        if (!plain_string(c, &s, &n) || !IS(s, n, "latest")) return false;
    }
    return take(c, ']');
}

/* An id: a plain string, null, or a decimal integer of up to 15 digits
 * (written back as it was: jansson's reading and writing keep it). */
static bool id_value(cursor *c, rpc_fast_request *r)
{
    skip_ws(c);
    const char *start = c->p;
    if (c->p < c->end && *c->p == '"') {
        const char *s;
        size_t n;
        if (!plain_string(c, &s, &n)) return false;
    } else if ((size_t)(c->end - c->p) >= 4 && memcmp(c->p, "null", 4) == 0) {
        c->p += 4;
    } else {
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
        size_t n = (size_t)(c->p - start);
        if (n == 0 || n > 15 || (start[0] == '0' && n > 1)) return false;
    }
    /* What follows must end the value ("1.5", "nullx": the tree's way). */
    if (c->p < c->end && *c->p != ',' && *c->p != '}' && *c->p != ' ' && *c->p != '\n' && *c->p != '\r' &&
        *c->p != '\t')
        return false;
    r->id = start;
    r->id_len = (size_t)(c->p - start);
    return true;
}

/* The methods of the shapes, by rpc_fast_kind: found once (the table
 * does not change), not by name at each request. */
static const rpc_method *fast_methods[3];
static pthread_once_t fast_methods_once = PTHREAD_ONCE_INIT;

static void fast_methods_find(void)
{
    static const char *const names[] = {"eth_chainId", "eth_getBalance", "eth_call"};
    for (size_t k = 0; k < 3; k++) fast_methods[k] = rpc_find_method(names[k]);
}

bool rpc_fast_parse(const char *text, size_t len, rpc_fast_request *r)
{
    cursor c = {text, text + len};
    memset(r, 0, offsetof(rpc_fast_request, data));
    r->from_text = "";
    bool has_version = false, has_method = false, has_params = false;
    int shape = -1;
    const char *method = NULL;
    size_t method_len = 0;
    if (!take(&c, '{')) return false;
    do {
        const char *key, *v;
        size_t key_len, n;
        if (!short_key(&c, &key, &key_len) || !take(&c, ':')) return false;
        if (IS(key, key_len, "jsonrpc") && !has_version) {
            if (!plain_string(&c, &v, &n) || !IS(v, n, "2.0")) return false;
            has_version = true;
        } else if (IS(key, key_len, "id") && !r->id) {
            if (!id_value(&c, r)) return false;
        } else if (IS(key, key_len, "method") && !has_method) {
            if (!plain_string(&c, &method, &method_len)) return false;
            has_method = true;
        } else if (IS(key, key_len, "params") && !has_params) {
            if (!params_value(&c, r, &shape)) return false;
            has_params = true;
        } else {
            return false;
        }
    } while (take(&c, ','));
    if (!take(&c, '}')) return false;
    skip_ws(&c);
    if (c.p != c.end || !has_version || !has_method || !r->id) return false;
    if (IS(method, method_len, "eth_chainId") && shape == -1) r->kind = RPC_FAST_CHAIN_ID;
    else if (IS(method, method_len, "eth_getBalance") && shape == RPC_FAST_GET_BALANCE) r->kind = RPC_FAST_GET_BALANCE;
    else if (IS(method, method_len, "eth_call") && shape == RPC_FAST_CALL) r->kind = RPC_FAST_CALL;
    else return false;
    pthread_once(&fast_methods_once, fast_methods_find);
    r->method = fast_methods[r->kind];
    return r->method != NULL;
}

json_t *rpc_fast_run(rpc_ctx *ctx, const rpc_fast_request *r, rpc_error *err)
{
    block_selector head = {.tag = BLOCK_LATEST};
    switch (r->kind) {
    case RPC_FAST_CHAIN_ID: return r->method->fn(ctx, NULL, err); /* it reads no parameter */
    case RPC_FAST_GET_BALANCE: {
        block_env env;
        enum fork f;
        if (!resolve_head(ctx, &head, &env, &f, err)) return NULL;
        state_backend b = store_backend(ctx->conn);
        account_info info;
        u256 zero = u256_zero();
        bool exists = b.get_account(b.ctx, &r->account, &info);
        return rpc_result_quantity(ctx, exists ? &info.balance : &zero);
    }
    case RPC_FAST_CALL: {
        exec_env ee;
        json_t *result = NULL;
        if (exec_env_open(ctx, &head, NULL, 2, NULL, 3, true, &ee, err)) {
            result = exec_call(ctx, &ee, &r->args, err);
            exec_env_close(&ee);
        }
        return result;
    }
    }
    return NULL;
}
