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

jit_program *jit_mcode_map(jit_image *img)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t len = (img->native_len + (size_t)page - 1) / (size_t)page * (size_t)page;
    void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return NULL;
    memcpy(mem, img->native, img->native_len);
    if (mprotect(mem, len, PROT_READ | PROT_EXEC) != 0) {
        munmap(mem, len);
        return NULL;
    }
    jit_program *p = xmalloc(sizeof *p);
    free(img->native);
    p->image = *img;
    p->image.native = mem;
    p->mapped_len = len;
    union {
        void *data;
        jit_entry_fn fn;
    } entry = {mem}; /* data to function pointer: POSIX guarantees it works */
    p->entry = entry.fn;
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
