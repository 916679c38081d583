/* Executable memory for compiled programs.
 *
 * W^X: a program's code pages are written while read+write and switched to
 * read+execute with mprotect before anything can jump into them; they are
 * never writable and executable at once, and not written again while the
 * program lives. Programs come from the compiler or from the store (whose
 * blobs are MAC-checked before they reach here), and hold no absolute
 * addresses, so any mapping will do.
 *
 * A mapping is one lead page (read+write, never executable: a blob being
 * loaded keeps its header there, so the code after it starts a page) and
 * the code pages. A freed program's mapping goes into a small pool and is
 * reused by the next program that fits: its code pages are made read+write
 * when it is pooled (so a pooled mapping is never executable, and a load
 * into it pays one mprotect, not two), written, and made read+execute, so a
 * load neither makes nor zeroes a page (making the pages of a new 470 KB
 * mapping, and unmapping them, was about half of a program load). What a
 * reused mapping holds beyond the new code (all of it: it was writable
 * while pooled) is overwritten with int3, so no old code, and nothing
 * written into it while pooled, stays reachable. The lead page is marked MADV_DONTDUMP (a flag
 * the code pages lack), so the kernel keeps it apart from the code pages
 * rather than merging the two when both are read+write and splitting them
 * again at every mprotect (measured: about 3% of a 480 KB load).
 *
 * Mappings alive (programs' and pooled) are capped at a quarter of the
 * kernel's vm.max_map_count: each is two VMAs, and past that limit every
 * mmap of the process fails (malloc's large blocks, thread stacks, SQLite),
 * not only ours. The code cache's byte budget does not bound them: the
 * smallest program takes two pages, so the service's 256 MiB budget let
 * 32 K programs of a few bytes live, 64 K mappings (measured: 60,047 at 30 K
 * programs), at the default limit of 65,530. Past the cap a new mapping is
 * refused; the compiler then has the code cache drop half of its unused
 * entries (jit_tier.c) and asks once more, and a program that still finds
 * no room runs interpreted. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jit/jit_internal.h"

/* Mappings kept for reuse: at most this many, holding at most this many
 * bytes (resident: their pages stay made). */
#define MCODE_POOL_MAX 16
#define MCODE_POOL_BYTES (16u << 20)

typedef struct {
    uint8_t *base;
    size_t len;   /* the whole mapping, lead page included */
    size_t dirty; /* bytes from the code's start that may hold other than int3 or zero */
} mcode_map;

static struct {
    pthread_mutex_t lock;
    mcode_map maps[MCODE_POOL_MAX];
    size_t n, bytes;
    uint64_t reused, made; /* counted for tests and the bench */
    size_t live;           /* mappings made and not unmapped: programs' and pooled */
    size_t max_live;       /* the cap on `live` (0: not yet read, see live_cap) */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The cap on live mappings: a quarter of vm.max_map_count. Lock held. */
static size_t live_cap(void)
{
    if (!pool.max_live) {
        long limit = 65530; /* the kernel's default, when /proc does not say */
        FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
        if (f) {
            if (fscanf(f, "%ld", &limit) != 1 || limit < 64) limit = 65530;
            fclose(f);
        }
        pool.max_live = (size_t)limit / 4;
    }
    return pool.max_live;
}

/* Unmaps `base` and counts it gone. */
static void unmap(uint8_t *base, size_t len)
{
    munmap(base, len);
    pthread_mutex_lock(&pool.lock);
    pool.live--;
    pthread_mutex_unlock(&pool.lock);
}

static size_t page_size(void)
{
    static size_t page;
    if (!page) page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

/* The pooled mapping that best fits `len` bytes (whole mapping), taken out
 * of the pool; a mapping more than twice the size is left for others. */
static bool pool_take(size_t len, mcode_map *m)
{
    pthread_mutex_lock(&pool.lock);
    size_t best = pool.n;
    for (size_t i = 0; i < pool.n; i++)
        if (pool.maps[i].len >= len && pool.maps[i].len / 2 <= len &&
            (best == pool.n || pool.maps[i].len < pool.maps[best].len))
            best = i;
    bool found = best < pool.n;
    if (found) {
        *m = pool.maps[best];
        pool.maps[best] = pool.maps[--pool.n];
        pool.bytes -= m->len;
        pool.reused++;
    }
    pthread_mutex_unlock(&pool.lock);
    return found;
}

/* Keeps `m` for reuse, its code pages made read+write (no longer
 * executable), or unmaps it. */
static void pool_give(const mcode_map *m)
{
    pthread_mutex_lock(&pool.lock);
    bool kept = pool.n < MCODE_POOL_MAX && pool.bytes + m->len <= MCODE_POOL_BYTES;
    if (kept) pool.bytes += m->len; /* room taken; filled in below */
    pthread_mutex_unlock(&pool.lock);
    size_t page = page_size();
    if (kept && mprotect(m->base + page, m->len - page, PROT_READ | PROT_WRITE) != 0) {
        pthread_mutex_lock(&pool.lock);
        pool.bytes -= m->len;
        pthread_mutex_unlock(&pool.lock);
        kept = false;
    }
    if (!kept) {
        unmap(m->base, m->len);
        return;
    }
    pthread_mutex_lock(&pool.lock);
    if (pool.n < MCODE_POOL_MAX) {
        pool.maps[pool.n++] = *m;
    } else { /* others filled the slots meanwhile */
        pool.bytes -= m->len;
        kept = false;
    }
    pthread_mutex_unlock(&pool.lock);
    if (!kept) unmap(m->base, m->len);
}

void jit_mcode_pool_drain(void)
{
    pthread_mutex_lock(&pool.lock);
    while (pool.n) {
        mcode_map *m = &pool.maps[--pool.n];
        munmap(m->base, m->len);
        pool.live--;
    }
    pool.bytes = 0;
    pthread_mutex_unlock(&pool.lock);
}

void jit_mcode_pool_counts(uint64_t *reused, uint64_t *made)
{
    pthread_mutex_lock(&pool.lock);
    *reused = pool.reused;
    *made = pool.made;
    pthread_mutex_unlock(&pool.lock);
}

size_t jit_mcode_live(void)
{
    pthread_mutex_lock(&pool.lock);
    size_t live = pool.live;
    pthread_mutex_unlock(&pool.lock);
    return live;
}

bool jit_mcode_at_cap(void)
{
    pthread_mutex_lock(&pool.lock);
    bool full = pool.live >= live_cap();
    pthread_mutex_unlock(&pool.lock);
    return full;
}

void jit_mcode_set_max_live(size_t max_live)
{
    pthread_mutex_lock(&pool.lock);
    pool.max_live = 0;
    pool.max_live = max_live ? max_live : live_cap();
    pthread_mutex_unlock(&pool.lock);
}

uint8_t *jit_mcode_reserve(size_t native_len, jit_mcode_region *r)
{
    size_t page = page_size();
    if (native_len > SIZE_MAX / 2 - 2 * page) return NULL;
    size_t len = page + ((native_len ? native_len : 1) + page - 1) / page * page;
    mcode_map m;
    if (!pool_take(len, &m)) { /* a pooled mapping is read+write already, its pages made, not zeroed */
        /* Counted before it is made, so that racing threads cannot pass the cap together. */
        pthread_mutex_lock(&pool.lock);
        bool room = pool.live < live_cap();
        if (room) pool.live++;
        pthread_mutex_unlock(&pool.lock);
        if (!room) return NULL;
        /* MAP_POPULATE: the pages made in one call rather than faulted in
         * one at a time by the copy (measured: half the time of a 700 KB map). */
        void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        pthread_mutex_lock(&pool.lock);
        if (mem == MAP_FAILED)
            pool.live--;
        else
            pool.made++;
        pthread_mutex_unlock(&pool.lock);
        if (mem == MAP_FAILED) return NULL;
        madvise(mem, page, MADV_DONTDUMP); /* the lead page's own VMA (see above); only a hint if refused */
        m = (mcode_map){.base = mem, .len = len, .dirty = 0};
    }
    r->base = m.base;
    r->len = m.len;
    r->dirty = m.dirty > native_len ? m.dirty : native_len;
    return m.base + page;
}

void jit_mcode_unreserve(jit_mcode_region *r)
{
    if (!r->base) return;
    /* Unmapped, not pooled: what it holds was never checked (a blob whose
     * tag or layout failed), and is never made executable. */
    unmap(r->base, r->len);
    r->base = NULL;
}

jit_program *jit_mcode_seal(jit_mcode_region *r, size_t native_len, int32_t *jump_table, size_t code_len)
{
    size_t page = page_size();
    uint8_t *code = r->base + page;
    /* int3 over what follows the code: the old program's code in a reused
     * mapping, and whatever the caller wrote past native_len (a blob's
     * jump table runs), so the executable pages hold only this code. */
    if (r->dirty > native_len) memset(code + native_len, 0xcc, r->dirty - native_len);
    if (mprotect(code, r->len - page, PROT_READ | PROT_EXEC) != 0) {
        unmap(r->base, r->len);
        r->base = NULL;
        return NULL;
    }
    jit_program *p = xmalloc(sizeof *p);
    p->image = (jit_image){.native = code, .native_len = native_len, .jump_table = jump_table, .code_len = code_len};
    p->mapped_len = r->len;
    union {
        void *data;
        jit_entry_fn fn;
    } entry = {code}; /* data to function pointer: POSIX guarantees it works */
    p->entry = entry.fn;
    r->base = NULL;
    return p;
}

jit_program *jit_mcode_map_code(const uint8_t *native, size_t native_len, int32_t *jump_table, size_t code_len)
{
    jit_mcode_region r;
    uint8_t *to = jit_mcode_reserve(native_len, &r);
    if (!to) return NULL;
    memcpy(to, native, native_len);
    return jit_mcode_seal(&r, native_len, jump_table, code_len);
}

jit_program *jit_mcode_map(jit_image *img)
{
    jit_program *p = jit_mcode_map_code(img->native, img->native_len, img->jump_table, img->code_len);
    if (!p) return NULL;
    jit_scratch_give(JS_NATIVE, img->native, img->native_cap, 1);
    memset(img, 0, sizeof *img);
    return p;
}

void jit_mcode_free(jit_program *p)
{
    if (!p) return;
    size_t page = page_size();
    /* Pooled read+write, its bytes are no longer vouched for: the whole
     * code area counts as dirty, so the next program's seal makes all of it
     * past its own code int3 (a stray write into a pooled mapping never
     * becomes executable). */
    mcode_map m = {p->image.native - page, p->mapped_len, p->mapped_len - page};
    pool_give(&m);
    free(p->image.jump_table);
    free(p);
}
