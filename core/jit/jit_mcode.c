/* Executable memory for compiled programs.
 *
 * W^X: a mapping is created read+write, the code copied in, then switched
 * to read+execute with mprotect before anything can jump into it; it is
 * never writable and executable at once, and never written again (a
 * program is immutable until jit_mcode_free unmaps it). Programs come from
 * the compiler or from the store (whose blobs are MAC-checked before they
 * reach here), and hold no absolute addresses, so any mapping will do. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jit/jit_internal.h"

jit_program *jit_mcode_map_code(const uint8_t *native, size_t native_len, int32_t *jump_table, size_t code_len)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t len = (native_len + (size_t)page - 1) / (size_t)page * (size_t)page;
    /* MAP_POPULATE: the pages are made in one call rather than faulted in
     * one at a time by the copy (measured: half the time of a 700 KB map). */
    void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (mem == MAP_FAILED) return NULL;
    memcpy(mem, native, native_len);
    if (mprotect(mem, len, PROT_READ | PROT_EXEC) != 0) {
        munmap(mem, len);
        return NULL;
    }
    jit_program *p = xmalloc(sizeof *p);
    p->image = (jit_image){.native = mem, .native_len = native_len, .jump_table = jump_table, .code_len = code_len};
    p->mapped_len = len;
    union {
        void *data;
        jit_entry_fn fn;
    } entry = {mem}; /* data to function pointer: POSIX guarantees it works */
    p->entry = entry.fn;
    return p;
}

jit_program *jit_mcode_map(jit_image *img)
{
    jit_program *p = jit_mcode_map_code(img->native, img->native_len, img->jump_table, img->code_len);
    if (!p) return NULL;
    free(img->native);
    memset(img, 0, sizeof *img);
    return p;
}

void jit_mcode_free(jit_program *p)
{
    if (!p) return;
    munmap(p->image.native, p->mapped_len);
    free(p->image.jump_table);
    free(p);
}
