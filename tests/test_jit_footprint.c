/* What a long-running process keeps of the compiler tier: bounded by the
 * code cache's budget however many distinct programs go through it.
 * Thousands of distinct contracts are compiled, stored, loaded back after
 * eviction and run; at every step the cache's accounted bytes stay within
 * the budget and the live code mappings (counted by the tier and in
 * /proc/self/maps) within what the budget can pay for, and once the cache
 * is emptied the process holds as many mappings and heap bytes as before.
 * Also the cap on live mappings (jit_mcode.c): past it unused entries are
 * dropped to make room, and when every entry is in use a new program is
 * refused and its code runs interpreted, with the same outcome.
 * Not timed: counts only. */
#include <check.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/keccak.h"
#include "testlib.h"
#include "testlib_evm.h"
#include "jit/jit_internal.h"
#include "vm/code_cache.h"
#include "vm/opcodes.h"

/* The program store: every saved blob, by code hash (a test's few
 * thousand programs; a full table just stops saving). */
#define STORE_SLOTS 8192
static struct {
    hash32 hash[STORE_SLOTS];
    uint8_t *blob[STORE_SLOTS];
    size_t len[STORE_SLOTS];
    unsigned loads;
} mem_store;

static size_t store_slot(const hash32 *h)
{
    uint64_t v;
    memcpy(&v, h->b, 8);
    size_t i = (size_t)v % STORE_SLOTS;
    for (size_t n = 0; n < STORE_SLOTS && mem_store.blob[i] && memcmp(mem_store.hash[i].b, h->b, 32) != 0; n++)
        i = (i + 1) % STORE_SLOTS;
    return i;
}

static bool mem_load(void *ctx, const hash32 *h, uint32_t version, const char *target, uint8_t **blob, size_t *len)
{
    (void)ctx, (void)version, (void)target;
    size_t i = store_slot(h);
    if (!mem_store.blob[i] || memcmp(mem_store.hash[i].b, h->b, 32) != 0) return false;
    *blob = malloc(mem_store.len[i]);
    memcpy(*blob, mem_store.blob[i], mem_store.len[i]);
    *len = mem_store.len[i];
    mem_store.loads++;
    return true;
}

static void mem_save(void *ctx, const hash32 *h, uint32_t version, const char *target, const uint8_t *blob,
                     size_t len)
{
    (void)ctx, (void)version, (void)target;
    size_t i = store_slot(h);
    if (mem_store.blob[i]) return; /* already there, or the table is full */
    mem_store.hash[i] = *h;
    mem_store.blob[i] = malloc(len);
    memcpy(mem_store.blob[i], blob, len);
    mem_store.len[i] = len;
}

static void mem_store_clear(void)
{
    for (size_t i = 0; i < STORE_SLOTS; i++) free(mem_store.blob[i]);
    memset(&mem_store, 0, sizeof mem_store);
}

/* Code distinct for each n (its own hash, so its own cache entry and
 * program), with a jump so that the compiler takes it: returns n as a
 * word. */
static size_t distinct_code(uint32_t n, uint8_t *code)
{
    size_t k = 0;
    code[k++] = OP_PUSH4;
    for (int i = 3; i >= 0; i--) code[k++] = (uint8_t)(n >> (8 * i));
    code[k++] = OP_PUSH1, code[k++] = 9, code[k++] = OP_JUMP;
    code[k++] = 0xfe; /* INVALID, jumped over */
    code[k++] = OP_JUMPDEST; /* 9 */
    code[k++] = OP_PUSH0, code[k++] = OP_MSTORE, code[k++] = OP_PUSH1, code[k++] = 32, code[k++] = OP_PUSH0,
    code[k++] = OP_RETURN;
    return k;
}

static test_outcome run_distinct(uint32_t n, enum engine engine)
{
    uint8_t code[32];
    size_t len = distinct_code(n, code);
    test_call call = {.fork = FORK_CANCUN, .engine = engine, .gas = 100000};
    test_outcome o;
    test_run_code(code, len, &call, &o);
    ck_assert_int_eq(o.status, EXEC_SUCCESS);
    ck_assert_uint_eq(o.output_len, 32);
    return o;
}

/* Anonymous executable mappings (compiled code; the vDSO is one more,
 * constant) and all mappings of the process. */
static void count_maps(size_t *exec_anon, size_t *all)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    *exec_anon = *all = 0;
    while (fgets(line, sizeof line, f)) {
        (*all)++;
        if (strstr(line, " r-xp 00000000 00:00 0 ")) (*exec_anon)++;
    }
    fclose(f);
}

/* Empties the code cache (every program freed) and the mapping pool. */
static void drop_everything(size_t budget)
{
    code_cache_set_budget(0);
    code_cache_set_budget(budget);
    jit_mcode_pool_drain();
}

START_TEST(distinct_programs_stay_within_the_code_cache_budget)
{
    const size_t budget = (size_t)1 << 20;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    /* A program's mapping is at least two pages (the lead page and one of
     * code), all charged to the cache: the budget pays for this many. */
    const size_t programs_paid = budget / (2 * page);
    jit_store s = {.load = mem_load, .save = mem_save};
    jit_set_store(&s);
    code_cache_set_budget(budget);

    /* Warm up (the thread's spare buffers, the compiler's scratch, the
     * cache's table at its size), then take the baseline. */
    for (uint32_t n = 0; n < 300; n++) run_distinct(1000000 + n, ENGINE_JIT);
    drop_everything(budget);
    mem_store_clear(); /* the store's blobs are the test's, not the process's */
    size_t exec0, maps0;
    count_maps(&exec0, &maps0);
    size_t heap0 = mallinfo2().uordblks; /* 0 under ASan, which keeps its own books */
    ck_assert_uint_eq(jit_mcode_live(), 0);
    jit_stats j0 = jit_get_stats();
    code_cache_stats c0 = code_cache_get_stats();

    const uint32_t total = 3000;
    for (uint32_t n = 0; n < total; n++) {
        ck_assert_uint_eq(run_distinct(n, ENGINE_JIT).frames_compiled, 1);
        /* An older one again: still cached, or evicted and loaded back
         * from the store (its blob saved when it was compiled). */
        ck_assert_uint_eq(run_distinct(n / 2, ENGINE_JIT).frames_compiled, 1);
        ck_assert_uint_le(code_cache_get_stats().bytes, budget);
        ck_assert_uint_le(jit_get_stats().programs - j0.programs, programs_paid);
        if (n % 100 == 99) {
            size_t exec, maps;
            count_maps(&exec, &maps);
            ck_assert_uint_le(jit_mcode_live(), programs_paid + 16); /* + the pool (MCODE_POOL_MAX) */
            ck_assert_uint_le(exec, exec0 + programs_paid);
            ck_assert_uint_le(maps, maps0 + 2 * (programs_paid + 16) + 16);
        }
    }
    jit_stats j1 = jit_get_stats();
    code_cache_stats c1 = code_cache_get_stats();
    ck_assert_uint_ge(j1.compiled - j0.compiled, total); /* every program compiled once */
    ck_assert_uint_gt(j1.store_hits - j0.store_hits, 100); /* and many loaded back after eviction */
    ck_assert_uint_gt(c1.evictions - c0.evictions, total);

    /* Emptied, the process holds what it held before the 6,000 runs. */
    drop_everything(budget);
    jit_stats j2 = jit_get_stats();
    ck_assert_uint_eq(j2.programs, j0.programs);
    ck_assert_uint_eq(j2.native_bytes, j0.native_bytes);
    ck_assert_uint_eq(jit_mcode_live(), 0);
    size_t exec2, maps2;
    count_maps(&exec2, &maps2);
    ck_assert_uint_eq(exec2, exec0);
    ck_assert_uint_le(maps2, maps0 + 4);
    mem_store_clear();
    size_t heap2 = mallinfo2().uordblks;
    ck_assert_msg(heap2 <= heap0 + ((size_t)256 << 10), "heap in use grew from %zu to %zu bytes", heap0, heap2);

    jit_set_store(NULL);
    code_cache_set_budget((size_t)64 << 20);
}
END_TEST

START_TEST(past_the_mapping_cap_unused_code_makes_room)
{
    drop_everything((size_t)64 << 20);
    const size_t cap = 20;
    jit_mcode_set_max_live(cap);
    uint64_t evictions0 = code_cache_get_stats().evictions;
    /* Far more small programs than the cap allows, far fewer bytes than the
     * budget: each past the cap is compiled all the same, after the cache
     * dropped half of its unused entries. */
    for (uint32_t n = 0; n < 5 * cap; n++) {
        test_outcome want = run_distinct(2000000 + n, ENGINE_INTERP);
        test_outcome o = run_distinct(2000000 + n, ENGINE_JIT);
        ck_assert(test_outcome_same(&o, &want));
        ck_assert_uint_eq(o.frames_compiled, 1);
        ck_assert_uint_le(jit_mcode_live(), cap);
    }
    ck_assert_uint_gt(code_cache_get_stats().evictions, evictions0);
    drop_everything((size_t)64 << 20);
    jit_mcode_set_max_live(0);
}
END_TEST

START_TEST(past_the_mapping_cap_with_every_entry_in_use_code_runs_interpreted)
{
    drop_everything((size_t)64 << 20);
    const size_t cap = 20;
    jit_mcode_set_max_live(cap);
    /* cap programs, each entry held (as by calls running it): nothing the
     * cache may drop. */
    const code_info *held[20];
    for (uint32_t n = 0; n < cap; n++) {
        ck_assert_uint_eq(run_distinct(4000000 + n, ENGINE_JIT).frames_compiled, 1);
        uint8_t code[32];
        size_t len = distinct_code(4000000 + n, code);
        hash32 h;
        keccak256(code, len, h.b);
        held[n] = code_cache_acquire(&h, code, len);
        ck_assert_ptr_nonnull(held[n]);
    }
    ck_assert_uint_eq(jit_mcode_live(), cap);
    jit_stats j0 = jit_get_stats();
    test_outcome want = run_distinct(4100000, ENGINE_INTERP);
    test_outcome o = run_distinct(4100000, ENGINE_JIT);
    ck_assert(test_outcome_same(&o, &want));
    ck_assert_uint_eq(o.frames_compiled, 0);
    ck_assert_uint_eq(jit_get_stats().compile_failed - j0.compile_failed, 1);
    ck_assert_uint_le(jit_mcode_live(), cap);

    /* Let go, their mappings make room: new code is compiled again. */
    for (uint32_t n = 0; n < cap; n++) code_cache_release(held[n]);
    ck_assert_uint_eq(run_distinct(4200000, ENGINE_JIT).frames_compiled, 1);
    drop_everything((size_t)64 << 20);
    ck_assert_uint_eq(jit_mcode_live(), 0);
    jit_mcode_set_max_live(0);
}
END_TEST

int main(void)
{
    return TEST_RUN("jit_footprint",
                    TEST_GROUP("jit_footprint", 300, distinct_programs_stay_within_the_code_cache_budget,
                               past_the_mapping_cap_unused_code_makes_room,
                               past_the_mapping_cap_with_every_entry_in_use_code_runs_interpreted));
}
