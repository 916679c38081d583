/* Hex text parsing and encoding (see hex.h for the rules and flags). */
#include "base/hex.h"

#include <string.h>

const uint8_t hex_digit_plus_one[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static size_t first_non_digit(const char *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!hex_digit_plus_one[(uint8_t)d[i]]) return i;
    return n;
}

static void set_detail(hex_detail *detail, size_t digits, size_t bad_at)
{
    if (!detail) return;
    detail->digits = digits;
    detail->bad_at = bad_at;
}

/* The digits of a byte string or fixed-size value: past the prefix, with
 * the empty text and the prefix checked. */
static enum hex_status byte_digits(const char *s, size_t n, unsigned flags, const char **d, size_t *nd)
{
    *d = s;
    *nd = n;
    if (n == 0) return (flags & HEX_EMPTY_OK) ? HEX_OK : HEX_EMPTY;
    if (hex_has_prefix(s, n)) {
        *d = s + 2;
        *nd = n - 2;
    } else if (!(flags & HEX_PREFIX_OPTIONAL)) {
        return HEX_NO_PREFIX;
    }
    return HEX_OK;
}

/* Digit and length checks of byte-string digits, in the flags' order;
 * `want` is the exact digit count, or SIZE_MAX for any even count. */
static enum hex_status check_byte_digits(const char *s, const char *d, size_t nd, unsigned flags, size_t want,
                                         hex_detail *detail)
{
    size_t bad = (flags & HEX_LENGTH_FIRST) ? nd : first_non_digit(d, nd);
    set_detail(detail, nd, (size_t)(d - s) + bad);
    if (bad < nd) return HEX_BAD_DIGIT;
    if (nd % 2) return HEX_ODD_LENGTH;
    if (want != SIZE_MAX && nd != want) return HEX_WRONG_LENGTH;
    bad = first_non_digit(d, nd);
    set_detail(detail, nd, (size_t)(d - s) + bad);
    return bad < nd ? HEX_BAD_DIGIT : HEX_OK;
}

/* Two checked digits per byte. */
static void decode_pairs(const char *d, size_t n_bytes, uint8_t *out)
{
    for (size_t i = 0; i < n_bytes; i++)
        out[i] = (uint8_t)((hex_digit_plus_one[(uint8_t)d[2 * i]] - 1) << 4 |
                           (hex_digit_plus_one[(uint8_t)d[2 * i + 1]] - 1));
}

enum hex_status hex_parse_bytes(const char *s, size_t n, unsigned flags, bytebuf *out, hex_detail *detail)
{
    const char *d;
    size_t nd;
    set_detail(detail, 0, 0);
    enum hex_status st = byte_digits(s, n, flags, &d, &nd);
    if (st == HEX_OK) st = check_byte_digits(s, d, nd, flags, SIZE_MAX, detail);
    if (st != HEX_OK || nd == 0) return st;
    bytebuf_reserve(out, nd / 2);
    decode_pairs(d, nd / 2, out->data + out->len);
    out->len += nd / 2;
    return HEX_OK;
}

enum hex_status hex_parse_fixed(const char *s, size_t n, unsigned flags, uint8_t *out, size_t size,
                                hex_detail *detail)
{
    const char *d;
    size_t nd;
    set_detail(detail, 0, 0);
    enum hex_status st = byte_digits(s, n, flags, &d, &nd);
    if (st == HEX_OK) st = check_byte_digits(s, d, nd, flags, 2 * size, detail);
    if (st == HEX_OK) decode_pairs(d, size, out);
    return st;
}

enum hex_status hex_parse_quantity(const char *s, size_t n, unsigned flags, unsigned bits, u256 *out,
                                   hex_detail *detail)
{
    set_detail(detail, n >= 2 ? n - 2 : 0, 0);
    if (n == 0) return HEX_EMPTY;
    if (!hex_has_prefix(s, n)) return HEX_NO_PREFIX;
    const char *d = s + 2;
    size_t nd = n - 2;
    if (nd == 0) return HEX_NO_DIGITS;
    if ((flags & HEX_NO_LEADING_ZEROS) && nd > 1 && d[0] == '0') return HEX_LEADING_ZERO;
    size_t lead = 0;
    while (lead + 1 < nd && d[lead] == '0') lead++;
    const char *sig = d + lead;
    size_t n_sig = nd - lead;
    bool too_big = n_sig > bits / 4 || ((flags & HEX_AT_MOST_64_DIGITS) && nd > 64);
    if (too_big && (flags & HEX_LENGTH_FIRST)) return HEX_TOO_BIG;
    if (too_big) {
        size_t bad = first_non_digit(d, nd);
        set_detail(detail, nd, 2 + bad);
        return bad < nd ? HEX_BAD_DIGIT : HEX_TOO_BIG;
    }
    /* 16 digits per limb, from the last digit back; the digits are checked
     * on the way (one pass: the importer's hot path). */
    u256 v = u256_zero();
    size_t end = n_sig;
    for (int limb = 0; end > 0; limb++) {
        size_t start = end > 16 ? end - 16 : 0;
        uint64_t acc = 0;
        for (size_t i = start; i < end; i++) {
            uint8_t x = hex_digit_plus_one[(uint8_t)sig[i]];
            if (!x) {
                set_detail(detail, nd, 2 + first_non_digit(d, nd));
                return HEX_BAD_DIGIT;
            }
            acc = acc << 4 | (uint64_t)(x - 1);
        }
        v.w[limb] = acc;
        end = start;
    }
    *out = v;
    return HEX_OK;
}

/* The digits of four bytes (the first in the low byte of x) as eight
 * characters, the first in the low byte: each byte spread into its own 16
 * bits, its high nibble below its low one, then '0' added to each nibble
 * and 'a' - '0' - 10 more to those above 9 (a nibble + 6 reaches bit 4
 * exactly then). */
static uint64_t hex_digits4(uint32_t x)
{
    const uint64_t ones = 0x0101010101010101u, nibble_lows = 0x000f000f000f000fu;
    uint64_t s = x;
    s = (s | s << 16) & 0x0000ffff0000ffffu;
    s = (s | s << 8) & 0x00ff00ff00ff00ffu;
    uint64_t nibbles = ((s >> 4) & nibble_lows) | ((s & nibble_lows) << 8);
    uint64_t above9 = ((nibbles + ones * 6) >> 4) & ones;
    return nibbles + ones * '0' + above9 * ('a' - '0' - 10);
}

void hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t x;
        memcpy(&x, p + i, 4);
        uint64_t chars = hex_digits4(x);
        memcpy(out + 2 * i, &chars, 8);
    }
    for (; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
}

bool hex_write(const uint8_t *p, size_t n, FILE *out)
{
    char chunk[2 * 4096];
    for (size_t off = 0; off < n; off += sizeof chunk / 2) {
        size_t k = n - off < sizeof chunk / 2 ? n - off : sizeof chunk / 2;
        hex_encode(p + off, k, chunk);
        if (fwrite(chunk, 1, 2 * k, out) != 2 * k) return false;
    }
    return true;
}

size_t hex_encode_quantity(const u256 *v, char out[HEX_QUANTITY_LEN])
{
    /* From the limbs, from the top non-zero one: most quantities (nonces,
     * gas, fees) fit a word, and were 32 bytes stored and 64 digits
     * scanned for their leading zeros. */
    static const char digits[] = "0123456789abcdef";
    int top = 3;
    while (top > 0 && v->w[top] == 0) top--;
    int nibbles = 1;
    while (nibbles < 16 && (v->w[top] >> (4 * nibbles))) nibbles++;
    size_t n = 0;
    out[n++] = '0';
    out[n++] = 'x';
    for (int i = nibbles - 1; i >= 0; i--) out[n++] = digits[(v->w[top] >> (4 * i)) & 15];
    for (int limb = top - 1; limb >= 0; limb--)
        for (int i = 15; i >= 0; i--) out[n++] = digits[(v->w[limb] >> (4 * i)) & 15];
    out[n] = '\0';
    return n;
}
