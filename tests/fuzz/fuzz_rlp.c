/* libFuzzer harness for core/base/rlp.h: decoding any bytes, walking
 * lists to the bottom, reading integers. Checked: no crash or sanitizer
 * report; every item lies inside its input; an item that decodes exactly
 * re-encodes to the same bytes (the decoder accepts canonical forms only).
 * Build and run: make fuzz. */
#include <stdlib.h>
#include <string.h>

#include "base/rlp.h"

static void reencode(const rlp_item *it, bytebuf *out, int depth, bool *bad)
{
    if (depth > 64) abort(); /* inputs are at most -max_len bytes: cannot nest deeper */
    if (!it->is_list) {
        rlp_put_bytes(out, it->payload, it->payload_len);
        return;
    }
    size_t mark = rlp_list_begin(out), pos = 0;
    rlp_item child;
    int r;
    while ((r = rlp_list_next(it, &pos, &child)) == 1) {
        if (child.payload < it->payload || child.payload + child.payload_len > it->payload + it->payload_len) abort();
        reencode(&child, out, depth + 1, bad);
        uint64_t u64;
        u256 u;
        (void)rlp_item_u64(&child, &u64);
        (void)rlp_item_u256(&child, &u);
    }
    if (r < 0) *bad = true; /* a malformed child: no comparison */
    rlp_list_end(out, mark);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rlp_item it;
    if (rlp_decode(data, size, &it) == 0 && it.total_len > size) abort();
    if (rlp_decode_exact(data, size, &it) != 0) return 0;
    bytebuf out = {0};
    bool bad = false;
    reencode(&it, &out, 0, &bad);
    if (!bad && (out.len != size || memcmp(out.data, data, size) != 0)) abort();
    bytebuf_free(&out);
    return 0;
}
