/* Tier selection: which program a frame runs, and the background queue.
 *
 * A (code, fork) pair moves through compile_state: CS_NONE, then (tiered)
 * CS_QUEUED while the background thread has it, then CS_READY with the
 * program installed in code_info.compiled[fork], or CS_FAILED (the code
 * stays on the interpreter for good). compiled[fork] is written once, by
 * compare-and-swap: a program, once installed, is never replaced until
 * jit_release_programs frees it with its code_info. A queued job holds a
 * reference on its code (code_cache_retain), so the code outlives it; the
 * queue holds at most JIT_QUEUE_MAX jobs, and code that finds it full goes
 * back to CS_NONE to try again on a later call.
 *
 * Engines: ENGINE_JIT loads or compiles on the calling thread and runs the
 * program at once; ENGINE_TIERED answers from the store at once when it can
 * and otherwise queues the compilation, the frame running interpreted. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/trie.h"
#include "base/clock.h"
#include "jit/jit_internal.h"
#include "vm/code_cache.h"

enum compile_state { CS_NONE, CS_QUEUED, CS_READY, CS_FAILED };

/* Makes `p` the program of (ci, f), unless another thread got there first:
 * returns the one installed. */
static jit_program *install(const code_info *ci, enum fork f, jit_program *p)
{
    code_info *mut = (code_info *)ci;
    jit_program *expected = NULL;
    if (!atomic_compare_exchange_strong(&mut->compiled[f], &expected, p)) {
        jit_mcode_free(p);
        return expected;
    }
    atomic_fetch_add(&jit_count.programs, 1);
    atomic_fetch_add(&jit_count.native_bytes, p->image.native_len);
    atomic_store(&mut->compile_state[f], CS_READY);
    code_cache_charge(ci, p->mapped_len + p->image.code_len * sizeof(int32_t));
    return p;
}

static jit_program *compile_program(const code_info *ci, enum fork f, bool save)
{
    uint64_t t0 = monotonic_ns();
    jit_image img;
    jit_program *p = NULL;
    if (jit_compile(ci, f, &img)) {
        if (save) jit_store_save(ci, f, &img);
        p = jit_mcode_map(&img);
        if (!p && jit_mcode_at_cap()) {
            /* The executable mappings ran out before the byte budget did
             * (many tiny programs): unused entries make room. */
            code_cache_shrink();
            p = jit_mcode_map(&img);
        }
        jit_image_free(&img);
    }
    atomic_fetch_add(&jit_count.compile_ns, monotonic_ns() - t0);
    if (p) {
        atomic_fetch_add(&jit_count.compiled, 1);
    } else {
        atomic_fetch_add(&jit_count.compile_failed, 1);
        atomic_store(&((code_info *)ci)->compile_state[f], CS_FAILED);
    }
    return p;
}

/* The program of (ci, f) from the store, or NULL (none, or a blob that
 * does not fit the code: counted as a miss). */
static jit_program *load_program(const code_info *ci, enum fork f) { return jit_store_load_program(ci, f); }

/* ------------------------------------------------ the background queue */

/* The background compiler: one thread, a FIFO of acquired code. */
typedef struct job {
    const code_info *ci;
    enum fork fork;
    struct job *next;
} job;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake, idle;
    job *head, *tail;
    bool started, busy, held;
} queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, false, false, false};

static void *compiler_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&queue.lock);
    for (;;) {
        while (!queue.head || queue.held) {
            queue.busy = false;
            pthread_cond_broadcast(&queue.idle);
            pthread_cond_wait(&queue.wake, &queue.lock);
        }
        job *j = queue.head;
        queue.head = j->next;
        if (!queue.head) queue.tail = NULL;
        queue.busy = true;
        pthread_mutex_unlock(&queue.lock);

        atomic_fetch_sub(&jit_count.queued, 1);
        jit_program *p = compile_program(j->ci, j->fork, true);
        if (p) install(j->ci, j->fork, p);
        code_cache_release(j->ci);
        free(j);

        pthread_mutex_lock(&queue.lock);
    }
    return NULL;
}

static void enqueue(const code_info *ci, enum fork f)
{
    if (atomic_load(&jit_count.queued) >= JIT_QUEUE_MAX) {
        atomic_fetch_add(&jit_count.queue_full, 1);
        atomic_store(&((code_info *)ci)->compile_state[f], CS_NONE); /* a later call tries again */
        code_cache_release(ci);
        return;
    }
    job *j = xmalloc(sizeof *j);
    *j = (job){ci, f, NULL};
    atomic_fetch_add(&jit_count.queued, 1);
    pthread_mutex_lock(&queue.lock);
    if (!queue.started) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, compiler_thread, NULL) == 0) queue.started = true;
        pthread_attr_destroy(&attr);
    }
    if (!queue.started) { /* no thread: the code stays on the interpreter */
        pthread_mutex_unlock(&queue.lock);
        atomic_fetch_sub(&jit_count.queued, 1);
        atomic_store(&((code_info *)ci)->compile_state[f], CS_FAILED);
        code_cache_release(ci);
        free(j);
        return;
    }
    if (queue.tail)
        queue.tail->next = j;
    else
        queue.head = j;
    queue.tail = j;
    queue.busy = true;
    pthread_cond_signal(&queue.wake);
    pthread_mutex_unlock(&queue.lock);
}

void jit_hold_background(bool hold)
{
    pthread_mutex_lock(&queue.lock);
    queue.held = hold;
    pthread_cond_broadcast(&queue.wake);
    pthread_mutex_unlock(&queue.lock);
}

void jit_wait_idle(void)
{
    pthread_mutex_lock(&queue.lock);
    while (queue.started && (queue.head || queue.busy)) pthread_cond_wait(&queue.idle, &queue.lock);
    pthread_mutex_unlock(&queue.lock);
}

const jit_program *jit_program_for(evm *e, const code_info *ci)
{
    if (!jit_supported() || ci->code_len == 0) return NULL;
    enum fork f = e->fork;
    jit_program *p = atomic_load_explicit(&ci->compiled[f], memory_order_acquire);
    if (p) return p;
    code_info *mut = (code_info *)ci;
    /* Initcode runs under a placeholder hash (KECCAK_EMPTY), nothing to key a stored program by. */
    bool cached_code = memcmp(ci->code_hash.b, KECCAK_EMPTY.b, 32) != 0;
    if (e->engine == ENGINE_JIT) {
        if (atomic_load(&ci->compile_state[f]) == CS_FAILED) return NULL;
        /* Initcode (no code hash of its own) is compiled but not stored. */
        p = cached_code ? load_program(ci, f) : NULL;
        if (!p) p = compile_program(ci, f, cached_code);
        return p ? install(ci, f, p) : NULL;
    }
    if (e->engine != ENGINE_TIERED) return NULL;
    unsigned char expected = CS_NONE;
    if (!atomic_compare_exchange_strong(&mut->compile_state[f], &expected, CS_QUEUED)) return NULL;
    p = cached_code ? load_program(ci, f) : NULL;
    if (p) return install(ci, f, p);
    /* Only code the process-wide cache holds (not initcode, which runs
     * once) is worth compiling; the queue keeps it alive meanwhile. */
    if (!code_cache_retain(ci)) {
        atomic_store(&mut->compile_state[f], CS_FAILED);
        return NULL;
    }
    enqueue(ci, f);
    return NULL;
}

void jit_release_programs(code_info *ci)
{
    for (int f = 0; f < FORK_COUNT; f++) {
        jit_program *p = atomic_exchange(&ci->compiled[f], NULL);
        if (!p) continue;
        atomic_fetch_sub(&jit_count.programs, 1);
        atomic_fetch_sub(&jit_count.native_bytes, p->image.native_len);
        jit_mcode_free(p);
    }
}
