/* What the unit tests (tests/test_*.c, check) share: hex decoding and
 * encoding that fail the test on bad input, fresh temporary directories,
 * where the state-test fixtures are and whether a run must have them, the
 * record of skipped tests, and the runner every test's main calls with its
 * suite declared as data (test_run).
 *
 * Skips: a test that cannot run here (no fixtures in a user's clone) is not
 * added to its suite, so check never counts it as passed; test_skip prints
 * "SKIPPED: <test>: <reason>" and test_main prints how many were skipped
 * after check's summary. Where a run must have the fixtures (CI=true or
 * REQUIRE_FIXTURES=1 in the environment), the test is added and fails. */
#ifndef JITEVM_TESTLIB_H
#define JITEVM_TESTLIB_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/evm.h"

/* ---- hex (lower or upper case digits, an optional 0x) ---- */

/* Decodes `hex` into out (room for cap bytes) and returns the byte count;
 * fails the test on an odd length, a bad digit or more than cap bytes. */
size_t test_unhex(const char *hex, uint8_t *out, size_t cap);
/* The same into a fresh buffer (malloc'd, the caller frees; never NULL,
 * even for ""); *len gets the byte count. */
uint8_t *test_unhex_alloc(const char *hex, size_t *len);
/* Lower-case hex of the len bytes, no 0x, NUL-terminated: out holds 2 * len + 1. */
void test_hex(char *out, const uint8_t *in, size_t len);

/* Typed values from hex (hexjson's rules), failing the test on bad input. */
address test_address(const char *hex);
hash32 test_hash(const char *hex);
u256 test_word(const char *hex);
/* The address whose last 8 bytes hold n, big-endian (1: 0x00...01). */
address test_address_n(uint64_t n);
/* Each side evaluated once (a call returning a hash may be given). */
/* A block context for calls run directly on an evm: number 1, timestamp 1,
 * 30 M gas, chain id 1. */
const block_env *test_block_env(void);
#define ck_assert_hash_eq(x, y)                                                                   \
    do {                                                                                          \
        hash32 x_ = (x), y_ = (y);                                                                \
        ck_assert_mem_eq(x_.b, y_.b, 32);                                                         \
    } while (0)

/* ---- temporary directories ---- */

/* Creates a fresh directory $TMPDIR/<prefix>-XXXXXX (/tmp without TMPDIR)
 * and writes its path into dir (cap bytes); fails the test when it cannot. */
void test_temp_dir(char *dir, size_t cap, const char *prefix);

/* A new state database at `path` and a connection to it (asserted). */
struct store;
struct store_conn;
struct store_conn *test_store_create(const char *path, struct store **db);
/* Sets the code of the account at addr_hex (asserted). */
void test_set_code(struct store_conn *c, const char *addr_hex, const char *code_hex);
/* Removes dir and everything below it (making dir itself writable first,
 * for tests that took that away) and empties dir; nothing when dir is "". */
void test_remove_dir(char *dir);

/* ---- fixtures and skips ---- */

/* The state-test fixtures: $JITEVM_FIXTURES, or ../shared/fixtures/state_tests
 * (the tests run from the top of the tree, beside ../shared). */
const char *test_fixtures_dir(void);
/* Whether this run must have them: CI=true or REQUIRE_FIXTURES=1. */
bool test_fixtures_required(void);
/* Whether `test` (which reads the fixtures) should be added to its suite:
 * true when the fixtures are there or required (the test then fails in
 * test_fixtures), otherwise false, and the test is recorded as skipped. */
bool test_wants_fixtures(const char *test);
/* Inside such a test: the fixtures folder; fails the test, saying why,
 * when it is absent. */
const char *test_fixtures(void);

/* Records and prints a test not run here, and why. */
void test_skip(const char *test, const char *reason);

/* ---- blocks ---- */

/* The header fields every source of a block sets (a fixture's env, a
 * database's head): number, timestamp, gas limit, and the low words of the
 * base fee and the chain id; fails the test naming the first that differs. */
void test_check_block(const block_env *b, uint64_t number, uint64_t timestamp, uint64_t gas_limit, uint64_t base_fee,
                      uint64_t chain_id);

/* ---- the runner ---- */

/* Runs every test of s (each in its own process, check's default), prints
 * check's summary and the skipped count; returns main's exit status:
 * EXIT_FAILURE when any test failed. */
int test_main(Suite *s);

/* ---- suites as data ---- */

/* A test file's main declares its suite as a list of groups (check's test
 * cases) and hands it to test_run:
 *
 *     return TEST_RUN("hex", TEST_GROUP("core", 0, test_digit_values, test_bytes, test_encode));
 *
 * TESTS(a, b, ...) is a NULL-terminated list of START_TEST's names (each a
 * `static const TTest *`, so the lists are built inside main). */
#define TESTS(...) ((const TTest *const[]){__VA_ARGS__, NULL})

typedef struct {
    const char *name;
    int timeout;                      /* seconds; 0 keeps check's default */
    const TTest *const *tests;        /* TESTS(...) */
    void (*setup)(void);              /* a checked fixture (each test's own */
    void (*teardown)(void);           /* process), or NULL */
    const TTest *const *fixture_tests; /* tests that read the state-test
                                       * fixtures: added only where
                                       * test_wants_fixtures says so */
    const TTest *loop;                /* a test run once per row of a table */
    int loop_rows;                    /* (check's loop test: _i the row) */
} test_group;

/* A group of plain tests: name, timeout, the tests. */
#define TEST_GROUP(name, timeout, ...) {(name), (timeout), TESTS(__VA_ARGS__), NULL, NULL, NULL, NULL, 0}

/* Builds the suite `name` from groups (ended by a {0} row) and runs it as
 * test_main does; returns main's exit status. TEST_RUN(name, group, ...)
 * passes its groups so ended. */
int test_run(const char *name, const test_group *groups);
#define TEST_RUN(name, ...) test_run((name), (const test_group[]){__VA_ARGS__, {0}})

#endif
