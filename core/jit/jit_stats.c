/* The compiler tier's process-wide counters: updated with relaxed atomics
 * by every part of the tier (jit_count), read as one snapshot by the
 * metrics and the tests. A snapshot is not atomic as a whole: each counter
 * is exact, their sum at an instant is not promised. */
#include <pthread.h>
#include <stdlib.h>

#include "jit/jit_internal.h"

jit_counters jit_count;

/* The frame counters are counted per thread instead, because every evm
 * freed adds to them (up to three locked adds a call, each a cache line
 * shared by all threads): a thread adds to its own tally with a plain
 * load and store (atomic only so that a reader's load is defined), and a
 * snapshot sums the tallies. A tally outlives its thread: at exit it is
 * marked free, keeps its counts, and is taken up by the next new thread;
 * so tallies number at most the threads alive at once. */
typedef struct frame_tally {
    atomic_uint_fast64_t interp, compiled, deopts;
    bool in_use;
    struct frame_tally *next;
} frame_tally;

static pthread_mutex_t tallies_lock = PTHREAD_MUTEX_INITIALIZER;
static frame_tally *tallies; /* all tallies, under tallies_lock; never freed */
static _Thread_local frame_tally *my_tally;
static _Thread_local bool my_tally_failed; /* no key: count in jit_count */
static pthread_key_t tally_key;
static pthread_once_t tally_key_once = PTHREAD_ONCE_INIT;

/* Runs on the exiting thread: whatever it counts after this (other key
 * destructors free evms too) goes to jit_count, as the tally may already
 * be another thread's. */
static void tally_thread_exit(void *t)
{
    my_tally = NULL;
    my_tally_failed = true;
    pthread_mutex_lock(&tallies_lock);
    ((frame_tally *)t)->in_use = false;
    pthread_mutex_unlock(&tallies_lock);
}

static void tally_key_create(void) { (void)pthread_key_create(&tally_key, tally_thread_exit); }

static frame_tally *tally_take(void)
{
    pthread_once(&tally_key_once, tally_key_create);
    pthread_mutex_lock(&tallies_lock);
    frame_tally *t = tallies;
    while (t && t->in_use) t = t->next;
    if (!t) {
        t = xcalloc(1, sizeof *t);
        t->next = tallies;
        tallies = t;
    }
    t->in_use = true;
    pthread_mutex_unlock(&tallies_lock);
    if (pthread_setspecific(tally_key, t) != 0) {
        tally_thread_exit(t);
        my_tally_failed = true;
        return NULL;
    }
    return my_tally = t;
}

jit_stats jit_get_stats(void)
{
    uint64_t interp = atomic_load(&jit_count.frames_interp), compiled = atomic_load(&jit_count.frames_compiled),
             deopts = atomic_load(&jit_count.deopts);
    pthread_mutex_lock(&tallies_lock);
    for (frame_tally *t = tallies; t; t = t->next) {
        interp += atomic_load_explicit(&t->interp, memory_order_relaxed);
        compiled += atomic_load_explicit(&t->compiled, memory_order_relaxed);
        deopts += atomic_load_explicit(&t->deopts, memory_order_relaxed);
    }
    pthread_mutex_unlock(&tallies_lock);
    return (jit_stats){
        .frames_interp = interp,
        .frames_compiled = compiled,
        .deopts = deopts,
        .compiled = atomic_load(&jit_count.compiled),
        .compile_failed = atomic_load(&jit_count.compile_failed),
        .compile_ns = atomic_load(&jit_count.compile_ns),
        .store_hits = atomic_load(&jit_count.store_hits),
        .store_misses = atomic_load(&jit_count.store_misses),
        .store_saves = atomic_load(&jit_count.store_saves),
        .queued = atomic_load(&jit_count.queued),
        .queue_full = atomic_load(&jit_count.queue_full),
        .programs = atomic_load(&jit_count.programs),
        .native_bytes = atomic_load(&jit_count.native_bytes),
    };
}

/* Only the owning thread writes a tally: load and store, no locked add. */
static inline void tally_add(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* The first count of a thread (its tally taken), or one past its tally's
 * destructor: kept out of line so the common path saves no registers. */
static __attribute__((noinline)) void count_frames_first(uint64_t interp, uint64_t compiled, uint64_t deopts)
{
    frame_tally *t = my_tally_failed ? NULL : tally_take();
    if (!t) {
        if (interp) atomic_fetch_add_explicit(&jit_count.frames_interp, interp, memory_order_relaxed);
        if (compiled) atomic_fetch_add_explicit(&jit_count.frames_compiled, compiled, memory_order_relaxed);
        if (deopts) atomic_fetch_add_explicit(&jit_count.deopts, deopts, memory_order_relaxed);
        return;
    }
    tally_add(&t->interp, interp);
    tally_add(&t->compiled, compiled);
    tally_add(&t->deopts, deopts);
}

void jit_count_frames(uint64_t interp, uint64_t compiled, uint64_t deopts)
{
    frame_tally *t = my_tally;
    if (__builtin_expect(t == NULL, 0)) {
        count_frames_first(interp, compiled, deopts);
        return;
    }
    /* Unconditional: adding zero to the thread's own line is cheaper than a
     * branch. */
    tally_add(&t->interp, interp);
    tally_add(&t->compiled, compiled);
    tally_add(&t->deopts, deopts);
}
