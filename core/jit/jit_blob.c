/* The stored form of a compiled program (what the program store keeps):
 *
 *   offset 0   magic        8 bytes  "EMVPRGM2"
 *          8   version      4        JIT_VERSION of the build that compiled it
 *         12   fork         4        enum fork it was compiled for
 *         16   code_len     8        bytes of EVM code
 *         24   native_len   8        bytes of machine code, 1..INT32_MAX
 *         32   n_runs       8        entries of the jump table
 *         40   native code  native_len bytes, position-independent
 *              jump table   n_runs pairs (count u32, offset u32): the next
 *                           `count` JUMPDESTs of the code, in pc order,
 *                           enter the native code at `offset`
 *
 * all little-endian (this format only exists on x86-64). The jump table is
 * kept as runs because it is read at every load, and a whole int32 per
 * byte of code (layout 1) was most of a program whose native code is
 * small: micro/loop_with_many_jumpdests has 24K JUMPDESTs sharing one
 * entry. A blob is loaded only when every header field matches this build
 * and the code it is for, and its runs cover exactly that code's JUMPDESTs
 * with offsets inside the native code, each run's count at least 1 and no
 * two runs in a row at one offset (so a program has exactly one blob). The
 * store's integrity tag (program_store.c) vouches for the native code
 * itself; this file never trusts it further than its header and table can
 * be checked. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "jit/jit_internal.h"

#define BLOB_MAGIC 0x324d475250564d45ull /* "EMVPRGM2" */
typedef struct {
    uint64_t magic;
    uint32_t version, fork;
    uint64_t code_len, native_len, n_runs;
} blob_header;
_Static_assert(sizeof(blob_header) == 40 && offsetof(blob_header, code_len) == 16 &&
                   offsetof(blob_header, n_runs) == 32,
               "the blob header is the layout documented above, without padding");

/* The blob of `img` into `alloc(ctx, len)`'s memory. */
static uint8_t *blob_write(const jit_image *img, enum fork f, size_t *len, uint8_t *(*alloc)(void *ctx, size_t len),
                           void *ctx)
{
    /* Every JUMPDEST starts a block, and no block starts at offset 0 (the
     * prologue): the nonzero entries are the JUMPDESTs. */
    size_t n_runs = 0;
    int32_t last = 0;
    for (size_t pc = 0; pc < img->code_len; pc++) {
        int32_t at = img->jump_table[pc];
        if (at && at != last) n_runs++;
        if (at) last = at;
    }
    blob_header h = {BLOB_MAGIC, JIT_VERSION, (uint32_t)f, img->code_len, img->native_len, n_runs};
    *len = sizeof h + img->native_len + n_runs * 8;
    uint8_t *blob = alloc(ctx, *len);
    memcpy(blob, &h, sizeof h);
    memcpy(blob + sizeof h, img->native, img->native_len);
    uint8_t *run = blob + sizeof h + img->native_len - 8;
    uint32_t count = 0;
    last = 0;
    for (size_t pc = 0; pc < img->code_len; pc++) {
        int32_t at = img->jump_table[pc];
        if (!at) continue;
        if (at != last) {
            run += 8, count = 0, last = at;
            memcpy(run + 4, &at, 4);
        }
        count++;
        memcpy(run, &count, 4);
    }
    return blob;
}

static uint8_t *blob_malloc(void *ctx, size_t len)
{
    (void)ctx;
    return xmalloc(len);
}

uint8_t *jit_blob_from_image(const jit_image *img, enum fork f, size_t *len)
{
    return blob_write(img, f, len, blob_malloc, NULL);
}

static uint8_t *blob_scratch(void *ctx, size_t len) { return jit_scratch_take(JS_BLOB, len, 1, ctx); }

uint8_t *jit_blob_scratch(const jit_image *img, enum fork f, size_t *len, size_t *cap)
{
    return blob_write(img, f, len, blob_scratch, cap);
}

/* The header of `blob` when it fits this build, `ci` and `f`; its native
 * code at blob + sizeof(blob_header). */
static bool blob_check_header(const uint8_t *blob, size_t len, const code_info *ci, enum fork f, blob_header *h)
{
    if (len < sizeof *h) return false;
    memcpy(h, blob, sizeof *h);
    return h->magic == BLOB_MAGIC && h->version == JIT_VERSION && h->fork == (uint32_t)f &&
           h->code_len == ci->code_len && h->native_len != 0 && h->native_len <= INT32_MAX &&
           h->n_runs <= h->code_len && len - sizeof *h >= h->native_len &&
           len - sizeof *h - h->native_len == h->n_runs * 8;
}

/* The jump table (code_len entries, malloc'd) of a blob whose header
 * checked; NULL when its runs do not name exactly the code's JUMPDESTs. */
static int32_t *blob_jump_table(const uint8_t *blob, const blob_header *h, const code_info *ci)
{
    const uint8_t *run = blob + sizeof *h + h->native_len, *end = run + h->n_runs * 8;
    int32_t *table = xcalloc(h->code_len ? h->code_len : 1, sizeof *table);
    uint32_t left = 0;
    int64_t offset = 0;
    for (size_t byte = 0; byte < (h->code_len + 7) / 8; byte++) {
        uint8_t bits = ci->jumpdest[byte];
        while (bits) {
            size_t pc = byte * 8 + (size_t)__builtin_ctz(bits);
            bits &= (uint8_t)(bits - 1);
            if (pc >= h->code_len) break;
            if (!left) {
                uint32_t count, at;
                if (run == end) goto bad;
                memcpy(&count, run, 4);
                memcpy(&at, run + 4, 4);
                run += 8;
                if (count == 0 || at == 0 || at >= h->native_len || at == offset) goto bad;
                left = count, offset = at;
            }
            table[pc] = (int32_t)offset;
            left--;
        }
    }
    if (run == end && left == 0) return table;
bad:
    free(table);
    return NULL;
}

bool jit_blob_to_image(const uint8_t *blob, size_t len, const code_info *ci, enum fork f, jit_image *img)
{
    blob_header h;
    if (!blob_check_header(blob, len, ci, f, &h)) return false;
    int32_t *table = blob_jump_table(blob, &h, ci);
    if (!table) return false;
    img->native_len = h.native_len;
    img->code_len = h.code_len;
    img->native = xmalloc(h.native_len);
    img->native_cap = h.native_len;
    memcpy(img->native, blob + sizeof h, h.native_len);
    img->jump_table = table;
    return true;
}

jit_program *jit_program_from_blob(const uint8_t *blob, size_t len, const code_info *ci, enum fork f)
{
    blob_header h;
    if (!blob_check_header(blob, len, ci, f, &h)) return NULL;
    int32_t *table = blob_jump_table(blob, &h, ci);
    if (!table) return NULL;
    jit_program *p = jit_mcode_map_code(blob + sizeof h, h.native_len, table, h.code_len);
    if (!p) free(table);
    return p;
}

/* ---------------------------------------------------- loading in place */

/* Where a blob being loaded goes: a program mapping (jit_mcode_reserve: a
 * pooled one when one fits), the blob placed so that its native code
 * (after the header) starts the code pages and the header ends the lead
 * page. The blob is copied once, from SQLite's buffer, and its tag is
 * checked over this copy (which no one else can write) before it is ever
 * executable; then the code pages are made executable where they lie. */
typedef struct {
    jit_mcode_region region;
    uint8_t *code;
} blob_place;

static uint8_t *blob_place_at(void *ctx, size_t len)
{
    blob_place *bp = ctx;
    if (len < sizeof(blob_header)) len = sizeof(blob_header); /* fails its check after the copy */
    bp->code = jit_mcode_reserve(len - sizeof(blob_header), &bp->region);
    return bp->code ? bp->code - sizeof(blob_header) : NULL;
}

/* The program of a blob placed by blob_place_at, checked as
 * jit_program_from_blob does; the mapping is the program's or given back. */
static jit_program *blob_place_finish(blob_place *bp, size_t len, const code_info *ci, enum fork f)
{
    const uint8_t *blob = bp->code - sizeof(blob_header);
    blob_header h;
    int32_t *table = NULL;
    if (blob_check_header(blob, len, ci, f, &h) && (table = blob_jump_table(blob, &h, ci)) != NULL) {
        jit_program *p = jit_mcode_seal(&bp->region, h.native_len, table, h.code_len);
        if (p) return p;
    }
    free(table);
    jit_mcode_unreserve(&bp->region);
    return NULL;
}

jit_program *jit_program_load(const jit_store *s, const code_info *ci, enum fork f, bool *found)
{
    size_t len = 0;
    if (s->load_into) {
        blob_place bp = {{NULL, 0, 0}, NULL};
        jit_blob_dest dest = {blob_place_at, &bp};
        *found = s->load_into(s->ctx, &ci->code_hash, JIT_VERSION, jit_target(f), &dest, &len);
        if (!*found || !bp.code) {
            jit_mcode_unreserve(&bp.region);
            return NULL;
        }
        return blob_place_finish(&bp, len, ci, f);
    }
    uint8_t *blob = NULL;
    *found = s->load(s->ctx, &ci->code_hash, JIT_VERSION, jit_target(f), &blob, &len);
    jit_program *p = *found ? jit_program_from_blob(blob, len, ci, f) : NULL;
    free(blob);
    return p;
}
