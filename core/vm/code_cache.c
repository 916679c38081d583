#include "vm/code_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/params.h"
#include "vm/opcodes.h"

/* Who owns what: the table and every entry's bytes belong to the cache and
 * change under cache.lock; an entry's analysis lives while its reference
 * count is above zero (each holder took one), and only evict(), under the
 * lock, frees an entry, and only one with no reference. A reference is
 * dropped without the lock through the analysis's back pointer
 * (code_info.cache_entry): a count that reaches zero is seen by the next
 * eviction pass, which holds the lock. */
typedef struct code_cache_entry {
    code_info *info;
    atomic_int refs;
    _Atomic uint32_t last_used; /* cache.clock at its last lookup */
    size_t bytes;
} cache_entry;

/* Open addressing over entry pointers; the code hash is already uniform,
 * so its first bytes are the table hash. Tombstones are avoided by
 * rebuilding the table after an eviction pass. `epoch` counts eviction
 * passes, for the threads' memos below. `clock` counts lookups in the
 * table (not the memos' hits: it moves under the lock, rarely once the
 * working set is found) and dates each entry's last use, so an eviction
 * pass drops the longest unused first: a contract called all the time
 * stays while one called once goes. */
static struct {
    pthread_mutex_t lock;
    cache_entry **slots;
    size_t mask;
    size_t count;
    size_t bytes;
    size_t budget;
    uint64_t evictions;
    _Atomic uint64_t hits, misses;
    atomic_uint epoch;
    _Atomic uint32_t clock;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER, .budget = (size_t)64 << 20};

/* Dates a use of `e`; a memo hit writes the entry only when the clock has
 * moved since its last use (no shared line written on every call). */
static void mark_used(cache_entry *e)
{
    uint32_t now = atomic_load_explicit(&cache.clock, memory_order_relaxed);
    if (atomic_load_explicit(&e->last_used, memory_order_relaxed) != now)
        atomic_store_explicit(&e->last_used, now, memory_order_relaxed);
}

/* Each thread remembers the last MEMO_SLOTS entries it found, holding a
 * reference on each, so a hit (a contract called again, the common case
 * of eth_call) is a scan of a few hashes and one atomic increment, with
 * neither the lock nor the table: taking the mutex twice per call (find
 * and release) was ~230 instructions of a ~1,600-instruction empty call.
 * The memo's reference keeps its entries from eviction, so a thread pins
 * at most MEMO_SLOTS entries; every eviction pass bumps cache.epoch, and a
 * thread that sees a new epoch drops its memo first, so what it pinned is
 * evictable by the next pass; code_cache_set_budget drops the calling
 * thread's memo at once. A key destructor drops a thread's memo when the
 * thread exits. */
#define MEMO_SLOTS 8
typedef struct {
    cache_entry *entry[MEMO_SLOTS];
    unsigned next;  /* the slot replaced next (round robin) */
    unsigned epoch; /* cache.epoch when the memo was last checked */
    bool key_set;
} thread_memo;
static _Thread_local thread_memo memo;
static pthread_key_t memo_key;
static pthread_once_t memo_key_once = PTHREAD_ONCE_INIT;

static void memo_drop(void)
{
    for (int i = 0; i < MEMO_SLOTS; i++) {
        if (memo.entry[i]) atomic_fetch_sub(&memo.entry[i]->refs, 1);
        memo.entry[i] = NULL;
    }
}

static void memo_thread_exit(void *unused)
{
    (void)unused;
    memo_drop();
}

static void memo_key_create(void) { (void)pthread_key_create(&memo_key, memo_thread_exit); }

/* The memo's entry for `hash`, or NULL. */
static cache_entry *memo_find(const hash32 *hash)
{
    unsigned epoch = atomic_load_explicit(&cache.epoch, memory_order_relaxed);
    if (memo.epoch != epoch) {
        memo_drop();
        memo.epoch = epoch;
        return NULL;
    }
    for (int i = 0; i < MEMO_SLOTS; i++) {
        cache_entry *e = memo.entry[i];
        if (e && memcmp(e->info->code_hash.b, hash->b, 32) == 0) return e;
    }
    return NULL;
}

/* Remembers `e`, on which the caller holds a reference (so it cannot be
 * evicted meanwhile), taking one more for the memo. */
static void memo_add(cache_entry *e)
{
    if (!memo.key_set) {
        pthread_once(&memo_key_once, memo_key_create);
        if (pthread_setspecific(memo_key, &memo) != 0) return; /* no destructor: do not pin */
        memo.key_set = true;
    }
    atomic_fetch_add(&e->refs, 1);
    cache_entry *old = memo.entry[memo.next];
    if (old) atomic_fetch_sub(&old->refs, 1);
    memo.entry[memo.next] = e;
    memo.next = (memo.next + 1) % MEMO_SLOTS;
}

static size_t slot_of(const hash32 *h)
{
    uint64_t v;
    memcpy(&v, h->b, 8);
    return (size_t)v & cache.mask;
}

static void insert_slot(cache_entry **slots, size_t mask, cache_entry *e)
{
    uint64_t v;
    memcpy(&v, e->info->code_hash.b, 8);
    size_t i = (size_t)v & mask;
    while (slots[i]) i = (i + 1) & mask;
    slots[i] = e;
}

static void rebuild(size_t new_mask)
{
    cache_entry **slots = xcalloc(new_mask + 1, sizeof *slots);
    for (size_t i = 0; cache.slots && i <= cache.mask; i++)
        if (cache.slots[i]) insert_slot(slots, new_mask, cache.slots[i]);
    free(cache.slots);
    cache.slots = slots;
    cache.mask = new_mask;
}

/* How long ago `e` was last used, in clock ticks (modulo 2^32: right
 * for any entry used within the last 2^31 lookups). */
static uint32_t age_of(const cache_entry *e, uint32_t now)
{
    return now - atomic_load_explicit(&e->last_used, memory_order_relaxed);
}

/* qsort's comparison of two slot numbers, the longest unused entry first.
 * The lock is held while it runs. */
static uint32_t sort_now;
static int oldest_first(const void *a, const void *b)
{
    uint32_t x = age_of(cache.slots[*(const size_t *)a], sort_now);
    uint32_t y = age_of(cache.slots[*(const size_t *)b], sort_now);
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Drops unreferenced entries, the longest unused first, until the cache
 * holds at most `target` bytes. Lock held. */
static void evict_to(size_t target)
{
    size_t *unused = xmalloc((cache.count + 1) * sizeof *unused), n = 0;
    for (size_t i = 0; i <= cache.mask; i++)
        if (cache.slots[i] && atomic_load(&cache.slots[i]->refs) == 0) unused[n++] = i;
    sort_now = atomic_load_explicit(&cache.clock, memory_order_relaxed);
    qsort(unused, n, sizeof *unused, oldest_first);
    for (size_t k = 0; k < n && cache.bytes > target; k++) {
        cache_entry *e = cache.slots[unused[k]];
        cache.slots[unused[k]] = NULL;
        cache.bytes -= e->bytes;
        cache.count--;
        cache.evictions++;
        code_info_free(e->info);
        free(e);
    }
    free(unused);
    rebuild(cache.mask);
    atomic_fetch_add(&cache.epoch, 1); /* threads drop their memos' pins */
}

/* Drops unreferenced entries until the cache is within half its budget. */
static void evict(void) { evict_to(cache.budget / 2); }

/* The entry for `hash` with a reference taken, or NULL. Lock held. */
static cache_entry *find_locked(const hash32 *hash)
{
    if (!cache.slots) rebuild(255);
    atomic_fetch_add_explicit(&cache.clock, 1, memory_order_relaxed);
    for (size_t i = slot_of(hash);; i = (i + 1) & cache.mask) {
        cache_entry *e = cache.slots[i];
        if (!e) return NULL;
        if (memcmp(e->info->code_hash.b, hash->b, 32) == 0) {
            atomic_fetch_add(&e->refs, 1);
            mark_used(e);
            return e;
        }
    }
}

/* The entry for `hash` with a reference taken, from this thread's memo
 * or the table (then remembered), or NULL. */
static cache_entry *find_entry(const hash32 *hash)
{
    cache_entry *e = memo_find(hash);
    if (e) {
        atomic_fetch_add(&e->refs, 1); /* the memo holds one: e cannot go meanwhile */
        mark_used(e);
        return e;
    }
    pthread_mutex_lock(&cache.lock);
    e = find_locked(hash);
    if (e) memo_add(e);
    pthread_mutex_unlock(&cache.lock);
    return e;
}

const code_info *code_cache_find(const hash32 *hash)
{
    cache_entry *e = find_entry(hash);
    atomic_fetch_add_explicit(e ? &cache.hits : &cache.misses, 1, memory_order_relaxed);
    return e ? e->info : NULL;
}

const code_info *code_cache_acquire(const hash32 *hash, const uint8_t *code, size_t len)
{
    cache_entry *hit = find_entry(hash);
    if (hit) return hit->info;

    /* Analyse outside the lock; if another thread raced us, keep theirs. */
    cache_entry *fresh = xmalloc(sizeof *fresh);
    fresh->info = code_info_new(code, len, hash);
    fresh->info->cache_entry = fresh;
    fresh->bytes = 2 * len + 64;
    atomic_init(&fresh->refs, 1);
    atomic_init(&fresh->last_used, 0);

    pthread_mutex_lock(&cache.lock);
    cache_entry *raced = find_locked(hash);
    if (raced) {
        memo_add(raced);
        pthread_mutex_unlock(&cache.lock);
        code_info_free(fresh->info);
        free(fresh);
        return raced->info;
    }
    if ((cache.count + 1) * 2 > cache.mask) rebuild(cache.mask * 2 + 1);
    insert_slot(cache.slots, cache.mask, fresh);
    mark_used(fresh);
    cache.count++;
    cache.bytes += fresh->bytes;
    if (cache.bytes > cache.budget) evict();
    memo_add(fresh);
    pthread_mutex_unlock(&cache.lock);
    return fresh->info;
}

/* The holder of a reference reaches its entry through the back pointer;
 * NULL when `ci` is not cached (initcode). */
bool code_cache_retain(const code_info *ci)
{
    if (!ci->cache_entry) return false;
    atomic_fetch_add(&ci->cache_entry->refs, 1);
    return true;
}

void code_cache_release(const code_info *ci)
{
    if (ci->cache_entry) atomic_fetch_sub(&ci->cache_entry->refs, 1);
}

void code_cache_charge(const code_info *ci, size_t bytes)
{
    pthread_mutex_lock(&cache.lock);
    cache_entry *e = ci->cache_entry;
    if (e) {
        e->bytes += bytes;
        cache.bytes += bytes;
        if (cache.bytes > cache.budget) evict();
    }
    pthread_mutex_unlock(&cache.lock);
}

void code_cache_set_budget(size_t bytes)
{
    memo_drop(); /* this thread's pins go at once */
    pthread_mutex_lock(&cache.lock);
    cache.budget = bytes;
    if (cache.slots && cache.bytes > cache.budget) evict();
    pthread_mutex_unlock(&cache.lock);
}

void code_cache_shrink(void)
{
    /* This thread's memo keeps its pins: a call it is running may hold
     * entries only through them. */
    pthread_mutex_lock(&cache.lock);
    if (cache.slots) evict_to(cache.bytes / 2);
    pthread_mutex_unlock(&cache.lock);
}

code_cache_stats code_cache_get_stats(void)
{
    pthread_mutex_lock(&cache.lock);
    code_cache_stats s = {atomic_load(&cache.hits), atomic_load(&cache.misses), cache.evictions, cache.count,
                          cache.bytes};
    pthread_mutex_unlock(&cache.lock);
    return s;
}

/* What the segment analysis reads of an opcode on a fork, in one load. */
typedef struct {
    int32_t gas;   /* base gas */
    int8_t in;     /* stack items taken */
    int8_t delta;  /* pushed minus taken */
    uint8_t ends;  /* ends a segment: jumps, halts, or undefined on the fork */
    uint8_t imm;   /* immediate bytes */
} segment_op;

static segment_op segment_ops[FORK_COUNT][256];
static atomic_bool segment_ops_ready[FORK_COUNT];
static pthread_mutex_t segment_ops_lock = PTHREAD_MUTEX_INITIALIZER;

static const segment_op *segment_ops_for(enum fork fork)
{
    if (atomic_load_explicit(&segment_ops_ready[fork], memory_order_acquire)) return segment_ops[fork];
    pthread_mutex_lock(&segment_ops_lock);
    if (!atomic_load_explicit(&segment_ops_ready[fork], memory_order_relaxed)) {
        const fork_opcode_table *optab = opcode_table_for_fork(fork);
        for (int op = 0; op < 256; op++) {
            const opcode_info *info = &opcode_table[op];
            bool defined = optab->defined[op];
            segment_ops[fork][op] = (segment_op){
                .gas = defined ? optab->base_gas[op] : 0,
                .in = defined ? (int8_t)info->stack_in : 0,
                .delta = defined ? (int8_t)(info->stack_out - info->stack_in) : 0,
                .ends = !defined || opcode_ends_block((uint8_t)op),
                .imm = info->immediate,
            };
        }
        atomic_store_explicit(&segment_ops_ready[fork], true, memory_order_release);
    }
    pthread_mutex_unlock(&segment_ops_lock);
    return segment_ops[fork];
}

/* Segments are found walking back from the end, each instruction's figures
 * from the next one's (or from nothing after a segment's last), so the
 * whole code is one forward pass for the instruction starts and one back
 * (a code-cache miss pays it once per fork the code runs on). */
static code_segment *segments_new(const code_info *ci, enum fork fork)
{
    const segment_op *ops = segment_ops_for(fork);
    const code_segment never = {0, CODE_SEGMENT_NEVER, 0};
    const uint8_t *code = ci->code;
    size_t n = ci->code_len;
    code_segment *seg = xmalloc((n + 1) * sizeof *seg);
    uint32_t *starts = xmalloc((n ? n : 1) * sizeof *starts);
    size_t n_starts = 0;
    for (size_t pc = 0; pc < n;) {
        starts[n_starts++] = (uint32_t)pc;
        size_t data_end = pc + 1 + ops[code[pc]].imm;
        if (data_end > n) data_end = n;
        for (pc++; pc < data_end; pc++) seg[pc] = never; /* push data */
    }
    seg[n] = (code_segment){0, 0, EVM_STACK_LIMIT * 32}; /* the padding's STOP */
    /* The segment after the current instruction: empty past the code (the
     * padding's STOP) and after an instruction that ends one. */
    int64_t gas = 0, need = 0, room = 0;
    while (n_starts > 0) {
        size_t pc = starts[--n_starts];
        const segment_op op = ops[code[pc]];
        if (op.ends) gas = need = room = 0;
        gas += op.gas;
        need = need - op.delta > op.in ? need - op.delta : op.in;
        room = room + op.delta > 0 ? room + op.delta : 0;
        if (__builtin_expect((gas > UINT32_MAX) | (need + room > EVM_STACK_LIMIT), 0))
            seg[pc] = never;
        else
            seg[pc] = (code_segment){(uint32_t)gas, (uint16_t)(need * 32), (uint16_t)((EVM_STACK_LIMIT - need - room) * 32)};
        seg[pc].span |= code[pc] == OP_JUMPDEST;
    }
    free(starts);
    return seg;
}

const code_segment *code_segments_make(const code_info *ci, enum fork fork)
{
    code_segment *seg = atomic_load_explicit(&((code_info *)ci)->segments[fork], memory_order_acquire);
    if (seg || !ci->cache_entry) return seg;
    code_segment *fresh = segments_new(ci, fork);
    code_segment *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(&((code_info *)ci)->segments[fork], &expected, fresh,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        free(fresh); /* another thread made them first */
        return expected;
    }
    code_cache_charge(ci, (ci->code_len + 1) * sizeof *fresh);
    return fresh;
}

void code_segments_free(code_info *ci)
{
    for (int f = 0; f < FORK_COUNT; f++) free(atomic_load_explicit(&ci->segments[f], memory_order_relaxed));
}
