/* The conformance runner on state tests kept in tests/data: cases the
 * official fixtures in ../shared do not carry, or that pin a rule order
 * the project once got wrong or was asked to change. Each file's cases
 * must all pass on both tiers.
 *   tx_rules.json  a value beyond 256 bits is an invalid transaction
 *                  (RLP_INVALID_VALUE), not an unreadable case; an Osaka
 *                  blob transaction over the per-transaction limit fails
 *                  with the count (7 blobs) unless it also exceeds the
 *                  block's blob gas (10 blobs), which check_transaction
 *                  tests first. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "jit/jit.h"
#include "tools/statetest.h"

/* Runs `path` under `engine`; returns the runner's output (malloc'd). */
static char *run(const char *path, int engine, int *status)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert(out != NULL);
    statetest_options opts = {.fork = -1, .jobs = 1, .engine = engine, .out = out};
    char *paths[] = {(char *)path};
    *status = statetest_run(paths, 1, &opts);
    fclose(out);
    return text;
}

START_TEST(tx_rules_on_both_tiers)
{
    static const int engines[] = {ENGINE_INTERP, ENGINE_JIT};
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++) {
        int status;
        char *text = run("tests/data/tx_rules.json", engines[i], &status);
        ck_assert_msg(status == 0 && strstr(text, "3 passed, 0 failed, 0 skipped"), "engine %d:\n%s", engines[i],
                      text);
        free(text);
    }
}
END_TEST

int main(void)
{
    return TEST_RUN("statetest", TEST_GROUP("data", 0, tx_rules_on_both_tiers));
}
