/* Working memory of compilations, kept by each thread from one compilation
 * to the next.
 *
 * A compilation of a large contract touches a few megabytes of arrays
 * (the analysis's units and blocks, the code generator's tables, the
 * machine code buffer). Allocated and freed at each compilation, glibc
 * gave most of it back to the kernel at every free (brk trimmed, large
 * blocks unmapped), so every compilation faulted it in again, page by
 * page: about 480 page faults per snailtracer compilation, half of its
 * time. Kept here, a thread's next compilation reuses the pages already
 * made. A slot keeps one array; one asked for larger than it is made
 * anew. What a thread keeps is freed when it exits, and at most
 * SCRATCH_KEEP_MAX bytes are kept in all (a larger array is freed as
 * before), so one huge compilation leaves no lasting footprint. */
#include <pthread.h>
#include <stdlib.h>

#include "jit/jit_internal.h"

#define SCRATCH_KEEP_MAX ((size_t)24 << 20)

typedef struct {
    struct {
        void *p;
        size_t bytes;
    } slot[JS_COUNT];
    size_t kept;
} scratch;

/* The thread's scratch, also held in the key so that it is freed when the
 * thread exits (the thread-local pointer is what is read). */
static _Thread_local scratch *mine;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool have_key;

/* At the thread's exit (on that thread). */
static void scratch_free(void *arg)
{
    scratch *s = arg;
    for (int i = 0; i < JS_COUNT; i++) free(s->slot[i].p);
    free(s);
    mine = NULL; /* a compilation by a later exit handler starts afresh */
}

static void scratch_key_make(void) { have_key = pthread_key_create(&scratch_key, scratch_free) == 0; }

static scratch *scratch_mine(void)
{
    if (mine) return mine;
    pthread_once(&scratch_once, scratch_key_make);
    if (!have_key) return NULL; /* nothing kept: every array is allocated and freed */
    scratch *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (pthread_setspecific(scratch_key, s) != 0) {
        free(s);
        return NULL;
    }
    return mine = s;
}

void *jit_scratch_take(enum jit_scratch_slot slot, size_t need, size_t elem, size_t *cap)
{
    scratch *s = scratch_mine();
    if (need == 0) need = 1;
    if (s && s->slot[slot].p) {
        void *p = s->slot[slot].p;
        size_t bytes = s->slot[slot].bytes;
        s->slot[slot].p = NULL;
        s->kept -= bytes;
        if (bytes / elem >= need) {
            *cap = bytes / elem;
            return p;
        }
        free(p);
    }
    if (need > SIZE_MAX / elem) abort();
    *cap = need;
    return xmalloc(need * elem);
}

void jit_scratch_give(enum jit_scratch_slot slot, void *p, size_t cap, size_t elem)
{
    if (!p) return;
    scratch *s = scratch_mine();
    size_t bytes = cap * elem;
    if (!s || s->slot[slot].p || s->kept + bytes > SCRATCH_KEEP_MAX) {
        free(p);
        return;
    }
    s->slot[slot].p = p;
    s->slot[slot].bytes = bytes;
    s->kept += bytes;
}

void jit_scratch_release(void)
{
    scratch *s = mine;
    if (!s) return;
    for (int i = 0; i < JS_COUNT; i++) {
        free(s->slot[i].p);
        s->slot[i].p = NULL;
        s->slot[i].bytes = 0;
    }
    s->kept = 0;
}
