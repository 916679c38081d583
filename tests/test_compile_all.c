/* `jitevm compile --db F --all`: every code of the database compiled once
 * and stored under the program key; a second run finds them stored; a store
 * opened with the same key loads them, one with another key refuses them. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/keccak.h"
#include "cmd_compile.h"
#include "cmd_store.h"
#include "jit/jit.h"
#include "program_store.h"
#include "store.h"
#include "testlib.h"

static const char KEY[] = "1111111111111111111111111111111111111111111111111111111111111111";
static const char OTHER_KEY[] = "2222222222222222222222222222222222222222222222222222222222222222";

/* Runs a command with its stdout in `out` (cap bytes); returns its status. */
static int run(int (*cmd)(int, char **), char **argv, char *out, size_t cap)
{
    int argc = 0;
    while (argv[argc]) argc++;
    char path[] = "/tmp/jitevm-compile-out-XXXXXX";
    int fd = mkstemp(path);
    fflush(stdout);
    int saved = dup(1);
    dup2(fd, 1);
    int rc = cmd(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, out, cap - 1);
    out[n > 0 ? n : 0] = 0;
    close(fd);
    unlink(path);
    return rc;
}

static bool stored(const char *db, const char *key, const hash32 *h)
{
    store_error err;
    store *s = store_open(db, STORE_OPEN_EXISTING, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    program_store ps;
    char perr[256];
    ck_assert_msg(program_store_open(&ps, s, db, key, perr, sizeof perr), "%s", perr);
    const jit_store *hooks = program_store_hooks(&ps);
    uint8_t *blob = NULL;
    size_t len = 0;
    bool found = hooks->load(hooks->ctx, h, jit_compiler_version(), jit_target(FORK_OSAKA), &blob, &len);
    free(blob);
    program_store_close(&ps);
    store_close(s);
    return found;
}

START_TEST(test_compile_all)
{
    if (!jit_supported()) {
        test_skip("test_compile_all", "this machine cannot run compiled code");
        return;
    }
    char dir[512], db[600], out[2048];
    test_temp_dir(dir, sizeof dir, "jitevm-compile");
    snprintf(db, sizeof db, "%s/s.db", dir);
    char *init[] = {"init", "--db", db, NULL};
    ck_assert_int_eq(run(cmd_init, init, out, sizeof out), 0);
    char *import[] = {"import", "--db", db, "--quiet", "deploy/demo-alloc.json", NULL};
    ck_assert_int_eq(run(cmd_import, import, out, sizeof out), 0);
    char *compile[] = {"compile", "--db", db, "--all", "--program-key", (char *)KEY, NULL};
    ck_assert_int_eq(run(cmd_compile, compile, out, sizeof out), 0);
    /* The demo contract and the dev genesis' four system contracts. */
    ck_assert_msg(strstr(out, "5 distinct codes, for Osaka") && strstr(out, "compiled and stored 5, already stored 0"),
                  "%s", out);
    ck_assert_int_eq(run(cmd_compile, compile, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "compiled and stored 0, already stored 5"), "%s", out);

    /* The demo contract's code (deploy/demo-alloc.json). */
    size_t len;
    uint8_t *code = test_unhex_alloc("6000355460005260206000f3", &len);
    hash32 h;
    keccak256(code, len, h.b);
    free(code);
    ck_assert(stored(db, KEY, &h));
    ck_assert(!stored(db, OTHER_KEY, &h)); /* the tag does not verify under another key */

    char *no_all[] = {"compile", "--db", db, NULL};
    ck_assert_int_eq(run(cmd_compile, no_all, out, sizeof out), 2);
    char *bad_fork[] = {"compile", "--db", db, "--all", "--fork", "Nofork", NULL};
    ck_assert_int_eq(run(cmd_compile, bad_fork, out, sizeof out), 1);
    char missing[640];
    snprintf(missing, sizeof missing, "%s/none.db", dir);
    char *no_db[] = {"compile", "--db", missing, "--all", NULL};
    ck_assert_int_eq(run(cmd_compile, no_db, out, sizeof out), 1);
    test_remove_dir(dir);
}
END_TEST

int main(void)
{
    return TEST_RUN("compile_all", TEST_GROUP("compile", 60, test_compile_all));
}
