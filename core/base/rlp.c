/* Recursive Length Prefix (Yellow Paper appendix B). The decoder accepts only
 * the canonical encoding of each item, as consensus requires: anything a
 * conforming encoder would never produce is rejected. */
#include "base/rlp.h"

#include <string.h>

#define RLP_STRING 0x80
#define RLP_LIST 0xc0
/* Payloads shorter than this have their length in the first byte. */
#define RLP_SHORT_MAX 55

static unsigned byte_length_u64(uint64_t v)
{
    unsigned n = 0;
    while (v) {
        n++;
        v >>= 8;
    }
    return n;
}

/* Writes `v` as exactly `n` big-endian bytes. */
static void store_be_n(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) p[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

static void put_header(bytebuf *out, uint8_t base, size_t payload_len)
{
    if (payload_len <= RLP_SHORT_MAX) {
        bytebuf_push(out, (uint8_t)(base + payload_len));
        return;
    }
    unsigned lenlen = byte_length_u64(payload_len);
    bytebuf_reserve(out, 1 + lenlen);
    out->data[out->len] = (uint8_t)(base + RLP_SHORT_MAX + lenlen);
    store_be_n(out->data + out->len + 1, payload_len, lenlen);
    out->len += 1 + lenlen;
}

void rlp_put_bytes(bytebuf *out, const uint8_t *p, size_t n)
{
    if (n == 1 && p[0] < RLP_STRING) {
        bytebuf_push(out, p[0]);
        return;
    }
    put_header(out, RLP_STRING, n);
    bytebuf_append(out, p, n);
}

void rlp_put_u64(bytebuf *out, uint64_t v)
{
    uint8_t be[8];
    unsigned n = byte_length_u64(v);
    store_be_n(be, v, n);
    rlp_put_bytes(out, be, n);
}

void rlp_put_u256(bytebuf *out, const u256 *v)
{
    /* Most values (nonces, gas, fees) fit a word: not 32 bytes to scan. */
    if (u256_fits_u64(v)) {
        rlp_put_u64(out, v->w[0]);
        return;
    }
    uint8_t be[32];
    for (int limb = 0; limb < 4; limb++) store_be_n(be + 24 - 8 * limb, v->w[limb], 8);
    unsigned skip = 0;
    while (skip < 32 && be[skip] == 0) skip++;
    rlp_put_bytes(out, be + skip, 32 - skip);
}

size_t rlp_list_begin(bytebuf *out)
{
    size_t mark = out->len;
    bytebuf_push(out, 0); /* room for a short header, patched by rlp_list_end */
    return mark;
}

void rlp_list_end(bytebuf *out, size_t mark)
{
    size_t payload_len = out->len - mark - 1;
    if (payload_len <= RLP_SHORT_MAX) {
        out->data[mark] = (uint8_t)(RLP_LIST + payload_len);
        return;
    }
    /* Long form: the length bytes go between the header byte and the payload. */
    unsigned lenlen = byte_length_u64(payload_len);
    bytebuf_reserve(out, lenlen);
    memmove(out->data + mark + 1 + lenlen, out->data + mark + 1, payload_len);
    out->data[mark] = (uint8_t)(RLP_LIST + RLP_SHORT_MAX + lenlen);
    store_be_n(out->data + mark + 1, payload_len, lenlen);
    out->len += lenlen;
}

void rlp_put_raw(bytebuf *out, const uint8_t *p, size_t n)
{
    bytebuf_append(out, p, n);
}

int rlp_decode(const uint8_t *p, size_t n, rlp_item *out)
{
    if (n == 0) return -1;
    uint8_t b = p[0];
    if (b < RLP_STRING) { /* a single byte is its own encoding */
        out->payload = p;
        out->payload_len = 1;
        out->total_len = 1;
        out->is_list = 0;
        return 0;
    }
    int is_list = b >= RLP_LIST;
    unsigned short_len = b - (is_list ? RLP_LIST : RLP_STRING);
    size_t header_len, payload_len;
    if (short_len <= RLP_SHORT_MAX) {
        header_len = 1;
        payload_len = short_len;
    } else {
        unsigned lenlen = short_len - RLP_SHORT_MAX; /* 1..8 */
        if (lenlen > n - 1) return -1;
        if (p[1] == 0) return -1; /* length with a leading zero byte */
        uint64_t len = 0;
        for (unsigned i = 0; i < lenlen; i++) len = (len << 8) | p[1 + i];
        if (len <= RLP_SHORT_MAX) return -1; /* fits the short form */
        header_len = 1 + lenlen;
        payload_len = len;
    }
    if (payload_len > n - header_len) return -1;
    /* One byte below 0x80 must stand alone, not behind a 0x81 header. */
    if (!is_list && payload_len == 1 && p[1] < RLP_STRING) return -1;
    out->payload = p + header_len;
    out->payload_len = payload_len;
    out->total_len = header_len + payload_len;
    out->is_list = is_list;
    return 0;
}

int rlp_list_next(const rlp_item *list, size_t *pos, rlp_item *out)
{
    if (*pos == list->payload_len) return 0;
    if (*pos > list->payload_len) return -1;
    /* Bounded by the list's payload: an item running past it is malformed. */
    if (rlp_decode(list->payload + *pos, list->payload_len - *pos, out) != 0) return -1;
    *pos += out->total_len;
    return 1;
}

int rlp_decode_exact(const uint8_t *p, size_t n, rlp_item *out)
{
    if (rlp_decode(p, n, out) != 0) return -1;
    return out->total_len == n ? 0 : -1;
}

int rlp_item_u64(const rlp_item *item, uint64_t *v)
{
    if (item->is_list || item->payload_len > 8) return -1;
    if (item->payload_len > 0 && item->payload[0] == 0) return -1;
    uint64_t r = 0;
    for (size_t i = 0; i < item->payload_len; i++) r = (r << 8) | item->payload[i];
    *v = r;
    return 0;
}

int rlp_item_u256(const rlp_item *item, u256 *v)
{
    if (item->is_list || item->payload_len > 32) return -1;
    if (item->payload_len > 0 && item->payload[0] == 0) return -1;
    *v = u256_zero();
    for (size_t i = 0; i < item->payload_len; i++) {
        size_t bit = 8 * (item->payload_len - 1 - i);
        v->w[bit / 64] |= (uint64_t)item->payload[i] << (bit % 64);
    }
    return 0;
}
