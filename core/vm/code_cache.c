#include "vm/code_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    code_info *info;
    atomic_int refs;
    size_t bytes;
} cache_entry;

/* Open addressing over entry pointers; the code hash is already uniform,
 * so its first bytes are the table hash. Tombstones are avoided by
 * rebuilding the table after an eviction pass. */
static struct {
    pthread_mutex_t lock;
    cache_entry **slots;
    size_t mask;
    size_t count;
    size_t bytes;
    size_t budget;
    uint64_t hits, misses, evictions;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER, .budget = (size_t)64 << 20};

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

/* Drops unreferenced entries until the cache is within half its budget. */
static void evict(void)
{
    for (size_t i = 0; i <= cache.mask && cache.bytes > cache.budget / 2; i++) {
        cache_entry *e = cache.slots[i];
        if (!e || atomic_load(&e->refs) != 0) continue;
        cache.slots[i] = NULL;
        cache.bytes -= e->bytes;
        cache.count--;
        cache.evictions++;
        code_info_free(e->info);
        free(e);
    }
    rebuild(cache.mask);
}

/* The entry for `hash` with a reference taken, or NULL. Lock held. */
static const code_info *find_locked(const hash32 *hash)
{
    if (!cache.slots) rebuild(255);
    for (size_t i = slot_of(hash);; i = (i + 1) & cache.mask) {
        cache_entry *e = cache.slots[i];
        if (!e) return NULL;
        if (memcmp(e->info->code_hash.b, hash->b, 32) == 0) {
            atomic_fetch_add(&e->refs, 1);
            return e->info;
        }
    }
}

const code_info *code_cache_find(const hash32 *hash)
{
    pthread_mutex_lock(&cache.lock);
    const code_info *ci = find_locked(hash);
    if (ci)
        cache.hits++;
    else
        cache.misses++;
    pthread_mutex_unlock(&cache.lock);
    return ci;
}

const code_info *code_cache_acquire(const hash32 *hash, const uint8_t *code, size_t len)
{
    pthread_mutex_lock(&cache.lock);
    const code_info *hit = find_locked(hash);
    pthread_mutex_unlock(&cache.lock);
    if (hit) return hit;

    /* Analyse outside the lock; if another thread raced us, keep theirs. */
    cache_entry *fresh = xmalloc(sizeof *fresh);
    fresh->info = code_info_new(code, len, hash);
    fresh->bytes = 2 * len + 64;
    atomic_init(&fresh->refs, 1);

    pthread_mutex_lock(&cache.lock);
    const code_info *raced = find_locked(hash);
    if (raced) {
        pthread_mutex_unlock(&cache.lock);
        code_info_free(fresh->info);
        free(fresh);
        return raced;
    }
    if ((cache.count + 1) * 2 > cache.mask) rebuild(cache.mask * 2 + 1);
    insert_slot(cache.slots, cache.mask, fresh);
    cache.count++;
    cache.bytes += fresh->bytes;
    if (cache.bytes > cache.budget) evict();
    pthread_mutex_unlock(&cache.lock);
    return fresh->info;
}

/* The entry holding `ci`, or NULL when it is not cached (initcode). Lock held. */
static cache_entry *entry_of_locked(const code_info *ci)
{
    if (!cache.slots) return NULL;
    for (size_t i = slot_of(&ci->code_hash);; i = (i + 1) & cache.mask) {
        cache_entry *e = cache.slots[i];
        if (!e || e->info == ci) return e;
    }
}

bool code_cache_retain(const code_info *ci)
{
    pthread_mutex_lock(&cache.lock);
    cache_entry *e = entry_of_locked(ci);
    if (e) atomic_fetch_add(&e->refs, 1);
    pthread_mutex_unlock(&cache.lock);
    return e != NULL;
}

void code_cache_release(const code_info *ci)
{
    pthread_mutex_lock(&cache.lock);
    cache_entry *e = entry_of_locked(ci);
    if (e) atomic_fetch_sub(&e->refs, 1);
    pthread_mutex_unlock(&cache.lock);
}

void code_cache_charge(const code_info *ci, size_t bytes)
{
    pthread_mutex_lock(&cache.lock);
    cache_entry *e = entry_of_locked(ci);
    if (e) {
        e->bytes += bytes;
        cache.bytes += bytes;
        if (cache.bytes > cache.budget) evict();
    }
    pthread_mutex_unlock(&cache.lock);
}

void code_cache_set_budget(size_t bytes)
{
    pthread_mutex_lock(&cache.lock);
    cache.budget = bytes;
    if (cache.slots && cache.bytes > cache.budget) evict();
    pthread_mutex_unlock(&cache.lock);
}

code_cache_stats code_cache_get_stats(void)
{
    pthread_mutex_lock(&cache.lock);
    code_cache_stats s = {cache.hits, cache.misses, cache.evictions, cache.count, cache.bytes};
    pthread_mutex_unlock(&cache.lock);
    return s;
}
