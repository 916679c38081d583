/* The stored form of a compiled program (what the program store keeps):
 *
 *   offset 0   magic        8 bytes  "EMVPRGM1"
 *          8   version      4        JIT_VERSION of the build that compiled it
 *         12   fork         4        enum fork it was compiled for
 *         16   code_len     8        bytes of EVM code
 *         24   native_len   8        bytes of machine code, 1..INT32_MAX
 *         32   native code  native_len bytes, position-independent
 *              jump table   code_len int32s: pc -> native offset of the
 *                           block at that JUMPDEST, 0 elsewhere
 *
 * all little-endian (this format only exists on x86-64). A blob is loaded
 * only when every header field matches this build and the code it is for,
 * and its jump table names exactly that code's JUMPDESTs with offsets
 * inside the native code. The store's integrity tag (program_store.c)
 * vouches for the native code itself; this file never trusts it further
 * than its header and table can be checked. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "jit/jit_internal.h"

#define BLOB_MAGIC 0x314d475250564d45ull /* "EMVPRGM1" */
typedef struct {
    uint64_t magic;
    uint32_t version, fork;
    uint64_t code_len, native_len;
} blob_header;
_Static_assert(sizeof(blob_header) == 32 && offsetof(blob_header, code_len) == 16,
               "the blob header is the layout documented above, without padding");

uint8_t *jit_blob_from_image(const jit_image *img, enum fork f, size_t *len)
{
    blob_header h = {BLOB_MAGIC, JIT_VERSION, (uint32_t)f, img->code_len, img->native_len};
    *len = sizeof h + img->native_len + img->code_len * sizeof(int32_t);
    uint8_t *blob = xmalloc(*len);
    memcpy(blob, &h, sizeof h);
    memcpy(blob + sizeof h, img->native, img->native_len);
    memcpy(blob + sizeof h + img->native_len, img->jump_table, img->code_len * sizeof(int32_t));
    return blob;
}

bool jit_blob_to_image(const uint8_t *blob, size_t len, const code_info *ci, enum fork f, jit_image *img)
{
    blob_header h;
    if (len < sizeof h) return false;
    memcpy(&h, blob, sizeof h);
    if (h.magic != BLOB_MAGIC || h.version != JIT_VERSION || h.fork != (uint32_t)f || h.code_len != ci->code_len ||
        h.native_len == 0 || h.native_len > INT32_MAX || len != sizeof h + h.native_len + h.code_len * sizeof(int32_t))
        return false;
    img->native_len = h.native_len;
    img->code_len = h.code_len;
    img->native = xmalloc(h.native_len);
    memcpy(img->native, blob + sizeof h, h.native_len);
    img->jump_table = xmalloc(h.code_len * sizeof(int32_t));
    memcpy(img->jump_table, blob + sizeof h + h.native_len, h.code_len * sizeof(int32_t));
    for (size_t pc = 0; pc < h.code_len; pc++) {
        int32_t at = img->jump_table[pc];
        if (at < 0 || (uint64_t)at >= h.native_len || (at != 0) != code_is_jumpdest(ci, pc)) {
            jit_image_free(img);
            return false;
        }
    }
    return true;
}
