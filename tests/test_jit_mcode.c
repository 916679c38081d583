/* Executable memory (jit_mcode.c): a freed program's mapping is reused by
 * the next program that fits, and W^X holds throughout: the code pages are
 * read+execute only while a program lives (sealed), read+write while in the
 * pool and between jit_mcode_reserve and jit_mcode_seal, the lead page is
 * a mapping of its own (never merged with the code pages), and everything a
 * reused mapping holds beyond the new code is int3. A mapping more than twice a program's
 * size is not taken for it; a region given back unsealed (what it holds
 * never checked) is unmapped, never made executable; and a program loaded through the store's in-place path is placed in
 * from a reused mapping with the same bytes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "jit/jit_internal.h"

static bool mapping_perms(const void *addr, char perms[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char pr[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, pr) == 3 && (uintptr_t)addr >= lo && (uintptr_t)addr < hi) {
            memcpy(perms, pr, 5);
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* The first address past the mapping (/proc/self/maps line) holding addr. */
static uintptr_t mapping_end(const void *addr)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    uintptr_t end = 0;
    while (!end && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && (uintptr_t)addr >= lo && (uintptr_t)addr < hi) end = hi;
    }
    fclose(f);
    return end;
}

static void assert_perms(const void *addr, const char *want)
{
    char perms[5];
    ck_assert(mapping_perms(addr, perms));
    ck_assert_str_eq(perms, want);
}

static uint8_t *filled(size_t len, uint8_t byte)
{
    uint8_t *b = malloc(len);
    memset(b, byte, len);
    return b;
}

static jit_program *map(size_t len, uint8_t byte)
{
    uint8_t *code = filled(len, byte);
    jit_program *p = jit_mcode_map_code(code, len, calloc(1, sizeof(int32_t)), 1);
    free(code);
    ck_assert_ptr_nonnull(p);
    return p;
}

static size_t page;

START_TEST(freed_mapping_is_reused_and_never_writable_and_executable)
{
    jit_mcode_pool_drain();
    uint64_t reused0, made0, reused, made;
    jit_mcode_pool_counts(&reused0, &made0);
    jit_program *a = map(3 * page + 100, 0x90);
    const uint8_t *where = a->image.native;
    ck_assert_uint_eq((uintptr_t)where % page, 0);
    assert_perms(where, "r-xp");
    assert_perms(where - 1, "rw-p"); /* the lead page: never executable */
    jit_mcode_free(a);
    assert_perms(where, "rw-p"); /* pooled: no longer executable */
    /* ... and the lead page, read+write too, still a mapping of its own */
    ck_assert_uint_eq(mapping_end(where - 1), (uintptr_t)where);
    /* What is written into a pooled mapping never runs: int3 after the next seal. */
    ((uint8_t *)where)[3 * page] = 0x90;
    jit_mcode_pool_counts(&reused, &made);
    ck_assert_uint_eq(made, made0 + 1);
    ck_assert_uint_eq(reused, reused0);

    /* A smaller program (4 pages, within twice its size) takes it. */
    jit_program *b = map(2 * page + 10, 0x51);
    jit_mcode_pool_counts(&reused, &made);
    ck_assert_uint_eq(made, made0 + 1);
    ck_assert_uint_eq(reused, reused0 + 1);
    ck_assert_ptr_eq(b->image.native, where);
    assert_perms(b->image.native, "r-xp");
    for (size_t i = 0; i < 2 * page + 10; i++) ck_assert_uint_eq(b->image.native[i], 0x51);
    /* a's code beyond b's is gone, and the byte written while pooled: int3
     * up to the mapping's end */
    for (size_t i = 2 * page + 10; i < 4 * page; i++) ck_assert_uint_eq(b->image.native[i], 0xcc);
    ck_assert_uint_eq(mapping_end(b->image.native), (uintptr_t)b->image.native + 4 * page);
    jit_mcode_free(b);
    jit_mcode_pool_drain();
}
END_TEST

START_TEST(a_mapping_over_twice_the_size_is_not_taken)
{
    jit_mcode_pool_drain();
    uint64_t reused0, made0, reused, made;
    jit_mcode_pool_counts(&reused0, &made0);
    jit_program *big = map(10 * page, 0x90);
    jit_mcode_free(big);
    jit_program *small = map(page, 0x90);
    jit_mcode_pool_counts(&reused, &made);
    ck_assert_uint_eq(made, made0 + 2);
    ck_assert_uint_eq(reused, reused0);
    jit_mcode_free(small);
    /* and a program larger than every pooled mapping gets a new one */
    jit_program *larger = map(20 * page, 0x90);
    jit_mcode_pool_counts(&reused, &made);
    ck_assert_uint_eq(made, made0 + 3);
    jit_mcode_free(larger);
    jit_mcode_pool_drain();
}
END_TEST

START_TEST(a_region_given_back_unsealed_is_unmapped_and_a_reused_ones_tail_is_int3)
{
    jit_mcode_pool_drain();
    jit_mcode_region r;
    uint8_t *to = jit_mcode_reserve(2 * page, &r);
    ck_assert_ptr_nonnull(to);
    assert_perms(to, "rw-p");
    memset(to, 0x90, 2 * page);
    /* Given back unsealed (a blob that failed its check): never made
     * executable, nor kept for reuse. */
    jit_mcode_unreserve(&r);
    char perms[5];
    ck_assert(!mapping_perms(to, perms));
    uint64_t reused0, made0, reused, made;
    jit_mcode_pool_counts(&reused0, &made0);
    /* A sealed program freed, then reserved again: writable until sealed;
     * everything it held past the new code becomes int3. */
    jit_program *a = map(2 * page, 0x90);
    uint8_t *where = a->image.native;
    jit_mcode_free(a);
    assert_perms(where, "rw-p");
    uint8_t *again = jit_mcode_reserve(page, &r);
    ck_assert_ptr_eq(again, where);
    assert_perms(again, "rw-p");
    memset(again, 0x51, 100);
    jit_program *p = jit_mcode_seal(&r, 100, calloc(1, sizeof(int32_t)), 1);
    ck_assert_ptr_nonnull(p);
    assert_perms(p->image.native, "r-xp");
    for (size_t i = 100; i < 2 * page; i++) ck_assert_uint_eq(p->image.native[i], 0xcc);
    jit_mcode_pool_counts(&reused, &made);
    ck_assert_uint_eq(made, made0 + 1);
    ck_assert_uint_eq(reused, reused0 + 1);
    jit_mcode_free(p);
    jit_mcode_pool_drain();
}
END_TEST

/* A store serving one blob through load_into, as program_store.c does. */
static const uint8_t *served;
static size_t served_len;
static bool serve_into(void *ctx, const hash32 *h, uint32_t version, const char *target, const jit_blob_dest *dest,
                       size_t *len)
{
    (void)ctx, (void)h, (void)version, (void)target;
    uint8_t *to = dest->place(dest->ctx, served_len);
    if (!to) return false;
    memcpy(to, served, served_len);
    *len = served_len;
    return true;
}

START_TEST(a_loaded_program_is_placed_in_a_reused_mapping)
{
    /* PUSH1 7 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN */
    static const uint8_t code[] = {0x60, 7, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3};
    hash32 h;
    memset(&h, 0x42, sizeof h);
    code_info *ci = code_info_new(code, sizeof code, &h);
    jit_image img;
    ck_assert(jit_compile(ci, FORK_CANCUN, &img));
    uint8_t *blob = jit_blob_from_image(&img, FORK_CANCUN, &served_len);
    served = blob;
    jit_store s = {.load_into = serve_into};
    jit_mcode_pool_drain();
    uint64_t reused0, made0, reused, made;
    jit_mcode_pool_counts(&reused0, &made0);
    for (int round = 0; round < 3; round++) {
        bool found = false;
        jit_program *p = jit_program_load(&s, ci, FORK_CANCUN, &found);
        ck_assert(found);
        ck_assert_ptr_nonnull(p);
        ck_assert_mem_eq(p->image.native, img.native, img.native_len);
        /* the blob's jump table runs, copied in after the code, are int3 now */
        for (size_t i = img.native_len; i < served_len - 40; i++) ck_assert_uint_eq(p->image.native[i], 0xcc);
        assert_perms(p->image.native, "r-xp");
        jit_mcode_free(p);
    }
    jit_mcode_pool_counts(&reused, &made);
    ck_assert_uint_eq(made, made0 + 1);
    ck_assert_uint_eq(reused, reused0 + 2);
    free(blob);
    jit_image_free(&img);
    code_info_free(ci);
    jit_mcode_pool_drain();
}
END_TEST

int main(void)
{
    page = (size_t)sysconf(_SC_PAGESIZE);
    return TEST_RUN("jit_mcode",
                    TEST_GROUP("pool", 30, freed_mapping_is_reused_and_never_writable_and_executable,
                               a_mapping_over_twice_the_size_is_not_taken,
                               a_region_given_back_unsealed_is_unmapped_and_a_reused_ones_tail_is_int3,
                               a_loaded_program_is_placed_in_a_reused_mapping));
}
