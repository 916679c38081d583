/* The compiler tier's runtime: which program a frame runs, the background
 * compiler, executable memory, the stored form of programs, statistics. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/clock.h"
#include "vm/code_cache.h"
#include "jit/jit_internal.h"
#include "base/trie.h"

static const char *const engine_names[] = {[ENGINE_INTERP] = "interp", [ENGINE_JIT] = "jit", [ENGINE_TIERED] = "tiered"};

bool engine_parse(const char *name, enum engine *out)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, engine_names[i]) == 0) {
            *out = (enum engine)i;
            return true;
        }
    }
    return false;
}

const char *engine_name(enum engine e) { return e >= ENGINE_INTERP && e <= ENGINE_TIERED ? engine_names[e] : "interp"; }

bool jit_supported(void)
{
#if defined(__x86_64__) && defined(__linux__)
    return true;
#else
    return false;
#endif
}

static char targets[FORK_COUNT][48];
static pthread_once_t targets_once = PTHREAD_ONCE_INIT;

static void make_targets(void)
{
    for (int f = 0; f < FORK_COUNT; f++) snprintf(targets[f], sizeof targets[f], "x86_64-sysv/%s", fork_name(f));
}

const char *jit_target(enum fork f)
{
    pthread_once(&targets_once, make_targets);
    return targets[f];
}

/* ------------------------------------------------------------ statistics */

static struct {
    atomic_uint_fast64_t frames_interp, frames_compiled, deopts, compiled, compile_failed, compile_ns;
    atomic_uint_fast64_t store_hits, store_misses, store_saves, queued, queue_full, programs, native_bytes;
} stats;

jit_stats jit_get_stats(void)
{
    return (jit_stats){
        .frames_interp = atomic_load(&stats.frames_interp),
        .frames_compiled = atomic_load(&stats.frames_compiled),
        .deopts = atomic_load(&stats.deopts),
        .compiled = atomic_load(&stats.compiled),
        .compile_failed = atomic_load(&stats.compile_failed),
        .compile_ns = atomic_load(&stats.compile_ns),
        .store_hits = atomic_load(&stats.store_hits),
        .store_misses = atomic_load(&stats.store_misses),
        .store_saves = atomic_load(&stats.store_saves),
        .queued = atomic_load(&stats.queued),
        .queue_full = atomic_load(&stats.queue_full),
        .programs = atomic_load(&stats.programs),
        .native_bytes = atomic_load(&stats.native_bytes),
    };
}

void jit_count_frames(uint64_t interp, uint64_t compiled, uint64_t deopts)
{
    if (interp) atomic_fetch_add_explicit(&stats.frames_interp, interp, memory_order_relaxed);
    if (compiled) atomic_fetch_add_explicit(&stats.frames_compiled, compiled, memory_order_relaxed);
    if (deopts) atomic_fetch_add_explicit(&stats.deopts, deopts, memory_order_relaxed);
}

/* ------------------------------------------------------------ programs */

/* Maps an image as executable: written while writable, then made
 * read+execute; never both. */
static jit_program *map_program(jit_image *img)
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
        enum exec_status (*fn)(jit_ctx *, frame *, const void *const *);
    } entry = {mem}; /* data to function pointer: POSIX guarantees it works */
    p->entry = entry.fn;
    memset(img, 0, sizeof *img);
    return p;
}

static void free_program(jit_program *p)
{
    if (!p) return;
    munmap(p->image.native, p->mapped_len);
    free(p->image.jump_table);
    free(p);
}

/* The stored form: a header, the native code, the jump table. */
#define BLOB_MAGIC 0x314d475250564d45ull /* "EMVPRGM1" */
typedef struct {
    uint64_t magic;
    uint32_t version, fork;
    uint64_t code_len, native_len;
} blob_header;

static uint8_t *program_to_blob(const jit_image *img, enum fork f, size_t *len)
{
    blob_header h = {BLOB_MAGIC, JIT_VERSION, (uint32_t)f, img->code_len, img->native_len};
    *len = sizeof h + img->native_len + img->code_len * sizeof(int32_t);
    uint8_t *blob = xmalloc(*len);
    memcpy(blob, &h, sizeof h);
    memcpy(blob + sizeof h, img->native, img->native_len);
    memcpy(blob + sizeof h + img->native_len, img->jump_table, img->code_len * sizeof(int32_t));
    return blob;
}

/* The image in a stored blob, checked against the code it claims to be
 * for. The store's integrity tag vouches for the native code itself. */
static bool blob_to_image(const uint8_t *blob, size_t len, const code_info *ci, enum fork f, jit_image *img)
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

/* ------------------------------------------------------------ the store */

/* The store's callbacks run under the read side; jit_set_store takes the
 * write side, so that once it returns no callback of the old store runs. */
static jit_store store;
static bool have_store;
static pthread_rwlock_t store_lock = PTHREAD_RWLOCK_INITIALIZER;

void jit_set_store(const jit_store *s)
{
    pthread_rwlock_wrlock(&store_lock);
    have_store = s != NULL;
    if (s) store = *s;
    pthread_rwlock_unlock(&store_lock);
}

static void store_save(const code_info *ci, enum fork f, const jit_image *img)
{
    pthread_rwlock_rdlock(&store_lock);
    if (have_store) {
        size_t len;
        uint8_t *blob = program_to_blob(img, f, &len);
        store.save(store.ctx, &ci->code_hash, JIT_VERSION, jit_target(f), blob, len);
        atomic_fetch_add(&stats.store_saves, 1);
        free(blob);
    }
    pthread_rwlock_unlock(&store_lock);
}

/* The stored blob for (ci, f): false when there is no store or no blob. */
static bool store_load(const code_info *ci, enum fork f, uint8_t **blob, size_t *len)
{
    pthread_rwlock_rdlock(&store_lock);
    bool found = have_store && store.load(store.ctx, &ci->code_hash, JIT_VERSION, jit_target(f), blob, len);
    bool asked = have_store;
    pthread_rwlock_unlock(&store_lock);
    if (!found && asked) atomic_fetch_add(&stats.store_misses, 1);
    return found;
}

/* ------------------------------------------------------------ compiling */

enum compile_state { CS_NONE, CS_QUEUED, CS_READY, CS_FAILED };

/* Makes `p` the program of (ci, f), unless another thread got there first:
 * returns the one installed. */
static jit_program *install(const code_info *ci, enum fork f, jit_program *p)
{
    code_info *mut = (code_info *)ci;
    jit_program *expected = NULL;
    if (!atomic_compare_exchange_strong(&mut->compiled[f], &expected, p)) {
        free_program(p);
        return expected;
    }
    atomic_fetch_add(&stats.programs, 1);
    atomic_fetch_add(&stats.native_bytes, p->image.native_len);
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
        if (save) store_save(ci, f, &img);
        p = map_program(&img);
        jit_image_free(&img);
    }
    atomic_fetch_add(&stats.compile_ns, monotonic_ns() - t0);
    if (p) {
        atomic_fetch_add(&stats.compiled, 1);
    } else {
        atomic_fetch_add(&stats.compile_failed, 1);
        atomic_store(&((code_info *)ci)->compile_state[f], CS_FAILED);
    }
    return p;
}

/* The program of (ci, f) from the store, or NULL (none, or a blob that
 * does not fit the code: counted as a miss). */
static jit_program *load_program(const code_info *ci, enum fork f)
{
    uint8_t *blob;
    size_t len;
    if (!store_load(ci, f, &blob, &len)) return NULL;
    jit_program *p = NULL;
    jit_image img;
    if (blob_to_image(blob, len, ci, f, &img)) {
        p = map_program(&img);
        jit_image_free(&img);
    }
    free(blob);
    atomic_fetch_add(p ? &stats.store_hits : &stats.store_misses, 1);
    return p;
}

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

        atomic_fetch_sub(&stats.queued, 1);
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
    if (atomic_load(&stats.queued) >= JIT_QUEUE_MAX) {
        atomic_fetch_add(&stats.queue_full, 1);
        atomic_store(&((code_info *)ci)->compile_state[f], CS_NONE); /* a later call tries again */
        code_cache_release(ci);
        return;
    }
    job *j = xmalloc(sizeof *j);
    *j = (job){ci, f, NULL};
    atomic_fetch_add(&stats.queued, 1);
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
        atomic_fetch_sub(&stats.queued, 1);
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
        atomic_fetch_sub(&stats.programs, 1);
        atomic_fetch_sub(&stats.native_bytes, p->image.native_len);
        free_program(p);
    }
}

enum exec_status jit_run(frame *f, const jit_program *p, bool *deopted)
{
    static const atomic_int no_abort = 0;
    if (!f->buffers->stack) f->buffers->stack = xmalloc(EVM_STACK_LIMIT * sizeof(u256));
    u256 *bottom = f->buffers->stack - 1;
    jit_ctx ctx = {
        .sp = bottom,
        .gas = f->gas,
        .stack_bottom = bottom,
        .jump_table = p->image.jump_table,
        .native = p->image.native,
        .abort_flag = f->e->abort_flag ? f->e->abort_flag : &no_abort,
    };
    enum exec_status status = p->entry(&ctx, f, jit_helper_table);
    if ((int)status != JIT_DEOPT) return status;
    *deopted = true;
    return interp_run_from(f, ctx.deopt_pc, (size_t)(ctx.sp - bottom));
}
