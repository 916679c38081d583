/* The unit tests' shared helpers (see testlib.h). */
#include "testlib.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hexjson.h"
#include "store.h"

/* ---- hex ---- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static const char *skip_0x(const char *hex)
{
    return hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X') ? hex + 2 : hex;
}

size_t test_unhex(const char *hex, uint8_t *out, size_t cap)
{
    const char *digits = skip_0x(hex);
    size_t n = strlen(digits);
    ck_assert_msg(n % 2 == 0, "odd hex length: %s", hex);
    ck_assert_msg(n / 2 <= cap, "%zu bytes of hex for %zu bytes of room: %s", n / 2, cap, hex);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_digit(digits[2 * i]), lo = hex_digit(digits[2 * i + 1]);
        ck_assert_msg(hi >= 0 && lo >= 0, "bad hex digit at %zu: %s", 2 * i, hex);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return n / 2;
}

uint8_t *test_unhex_alloc(const char *hex, size_t *len)
{
    size_t cap = strlen(skip_0x(hex)) / 2;
    uint8_t *out = malloc(cap + 1);
    ck_assert_ptr_nonnull(out);
    *len = test_unhex(hex, out, cap);
    return out;
}

void test_hex(char *out, const uint8_t *in, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

/* ---- temporary directories ---- */

void test_temp_dir(char *dir, size_t cap, const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(dir, cap, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
    ck_assert_msg(n > 0 && (size_t)n < cap, "temporary directory name too long for %zu bytes", cap);
    ck_assert_msg(mkdtemp(dir) != NULL, "cannot create the temporary directory %s", dir);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void test_remove_dir(char *dir)
{
    if (!dir[0]) return;
    chmod(dir, 0700);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
}

/* ---- blocks ---- */

void test_check_block(const block_env *b, uint64_t number, uint64_t timestamp, uint64_t gas_limit, uint64_t base_fee,
                      uint64_t chain_id)
{
    ck_assert_uint_eq(b->number, number);
    ck_assert_uint_eq(b->timestamp, timestamp);
    ck_assert_uint_eq(b->gas_limit, gas_limit);
    ck_assert_uint_eq(b->base_fee.w[0], base_fee);
    ck_assert_uint_eq(b->chain_id.w[0], chain_id);
}

/* ---- fixtures and skips ---- */

static int skipped;

void test_skip(const char *test, const char *reason)
{
    printf("SKIPPED: %s: %s\n", test, reason);
    skipped++;
}

const char *test_fixtures_dir(void)
{
    const char *env = getenv("JITEVM_FIXTURES");
    return env && *env ? env : "../shared/fixtures/state_tests";
}

static bool env_is(const char *name, const char *value)
{
    const char *v = getenv(name);
    return v && strcmp(v, value) == 0;
}

bool test_fixtures_required(void) { return env_is("CI", "true") || env_is("REQUIRE_FIXTURES", "1"); }

static bool fixtures_exist(void)
{
    struct stat sb;
    return stat(test_fixtures_dir(), &sb) == 0 && S_ISDIR(sb.st_mode);
}

bool test_wants_fixtures(const char *test)
{
    if (fixtures_exist() || test_fixtures_required()) return true;
    char reason[512];
    snprintf(reason, sizeof reason, "no fixtures at %s (set JITEVM_FIXTURES=/path/to/state_tests to run it)",
             test_fixtures_dir());
    test_skip(test, reason);
    return false;
}

const char *test_fixtures(void)
{
    ck_assert_msg(fixtures_exist(), "no fixtures at %s, and this run requires them (CI=true or REQUIRE_FIXTURES=1)",
                  test_fixtures_dir());
    return test_fixtures_dir();
}

/* ---- the runner ---- */

int test_main(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (skipped) printf("%d test%s skipped (not counted above)\n", skipped, skipped == 1 ? "" : "s");
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int test_run(const char *name, const test_group *groups)
{
    Suite *s = suite_create(name);
    for (const test_group *g = groups; g->name; g++) {
        TCase *tc = tcase_create(g->name);
        if (g->timeout) tcase_set_timeout(tc, g->timeout);
        if (g->setup || g->teardown) tcase_add_checked_fixture(tc, g->setup, g->teardown);
        if (g->loop) tcase_add_loop_test(tc, g->loop, 0, g->loop_rows);
        for (const TTest *const *t = g->tests; t && *t; t++) tcase_add_test(tc, *t);
        for (const TTest *const *t = g->fixture_tests; t && *t; t++)
            if (test_wants_fixtures((*t)->name)) tcase_add_test(tc, *t);
        suite_add_tcase(s, tc);
    }
    return test_main(s);
}

store_conn *test_store_create(const char *path, store **db)
{
    store_error se;
    *db = store_open(path, STORE_OPEN_CREATE, &se);
    ck_assert_msg(*db != NULL, "store_open %s: %s", path, se.msg);
    store_conn *conn = store_connect(*db, &se);
    ck_assert_msg(conn != NULL, "store_connect: %s", se.msg);
    return conn;
}

address test_address(const char *hex)
{
    address a;
    ck_assert_msg(hex_to_address(hex, &a), "bad address %s", hex);
    return a;
}

hash32 test_hash(const char *hex)
{
    hash32 h;
    ck_assert_msg(hex_to_hash(hex, &h), "bad hash %s", hex);
    return h;
}

u256 test_word(const char *hex)
{
    u256 v;
    ck_assert_msg(hex_to_u256(hex, &v), "bad quantity %s", hex);
    return v;
}

address test_address_n(uint64_t n)
{
    address a = {{0}};
    for (int i = 0; i < 8; i++) a.b[19 - i] = (uint8_t)(n >> (8 * i));
    return a;
}

void test_set_code(struct store_conn *c, const char *addr_hex, const char *code_hex)
{
    address a = test_address(addr_hex);
    bytebuf code = {0};
    ck_assert_msg(hex_to_bytes(code_hex, &code), "bad code %s", code_hex);
    store_error se;
    ck_assert_msg(store_set_code(c, &a, code.data, code.len, &se), "%s", se.msg);
    bytebuf_free(&code);
}

const block_env *test_block_env(void)
{
    static block_env b;
    b.number = 1;
    b.timestamp = 1;
    b.gas_limit = 30000000;
    b.chain_id = u256_from_u64(1);
    return &b;
}
