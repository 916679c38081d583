/* `jitevm compile --db F --all`: compiles every code in the database for
 * the fork of its head (or --fork) and stores the programs in it, tagged
 * with the program key, as the service's background compiler would on
 * first use. A snapshot compiled this way (say, while building an image)
 * serves compiled code from its first request; the replicas need the same
 * key (--program-key / JITEVM_PROGRAM_KEY, or the key file beside the
 * database) to accept the programs, and a replica whose build has another
 * compiler version ignores them and compiles again.
 *
 * Each code hash is compiled once however many accounts hold it; a program
 * already stored for (code hash, compiler version, target) is kept. Code the
 * compiler declines (too large, long straight-line code the interpreter runs
 * faster) is counted and left to the interpreter. */
#include "cmd_compile.h"

#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "chains.h"
#include "cli.h"
#include "jit/jit.h"
#include "program_store.h"
#include "store.h"
#include "vm/code_cache.h"

typedef struct {
    enum fork fork;
    hash32 *seen; /* the code hashes met so far (an all-zero entry is free) */
    size_t n_seen, cap_seen;
    const code_info **held; /* a reference to each code's analysis until the end */
    size_t n_held, cap_held;
    uint64_t accounts, compiled, stored_before, declined;
} compile_run;

/* Whether this code hash is new to the run (and remembers it): an
 * open-addressing set over the hashes' first bytes, kept at most half full. */
/* The all-zero hash marks a free entry (no code hashes to it). */
static bool hash_is_free(const hash32 *h)
{
    static const hash32 zero;
    return memcmp(h->b, zero.b, sizeof zero.b) == 0;
}

static bool first_sight(compile_run *r, const hash32 *h)
{
    if (2 * (r->n_seen + 1) > r->cap_seen) {
        size_t cap = r->cap_seen ? 2 * r->cap_seen : 1024;
        hash32 *old = r->seen;
        size_t old_cap = r->cap_seen;
        r->seen = xcalloc(cap, sizeof *r->seen);
        r->cap_seen = cap;
        r->n_seen = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (!hash_is_free(&old[i])) first_sight(r, &old[i]);
        free(old);
    }
    uint64_t k;
    memcpy(&k, h->b, sizeof k);
    for (size_t i = (size_t)k & (r->cap_seen - 1);; i = (i + 1) & (r->cap_seen - 1)) {
        if (hash_is_free(&r->seen[i])) {
            r->seen[i] = *h;
            r->n_seen++;
            return true;
        }
        if (memcmp(r->seen[i].b, h->b, sizeof h->b) == 0) return false;
    }
}

static bool compile_account(void *ctx, const address *a, const account_info *info, const uint8_t *code,
                            size_t code_len)
{
    (void)a;
    compile_run *r = ctx;
    if (!code_len) return true;
    r->accounts++;
    if (!first_sight(r, &info->code_hash)) return true;
    const code_info *ci = code_cache_acquire(&info->code_hash, code, code_len);
    if (r->n_held == r->cap_held) {
        r->cap_held = r->cap_held ? 2 * r->cap_held : 64;
        r->held = xrealloc(r->held, r->cap_held * sizeof *r->held);
    }
    r->held[r->n_held++] = ci;
    switch (jit_compile_to_store(ci, r->fork)) {
    case JIT_AOT_ALREADY_STORED: r->stored_before++; break;
    case JIT_AOT_DECLINED: r->declined++; break;
    case JIT_AOT_COMPILED: r->compiled++; break;
    }
    return true;
}

/* The fork to compile for: --fork, else the one active at the head. */
static bool compile_fork(store_conn *c, const char *fork_arg, enum fork *out, store_error *err)
{
    if (fork_arg) {
        int f = fork_from_name(fork_arg);
        if (f < 0) return store_fail(err, "unknown fork '%s'", fork_arg);
        *out = (enum fork)f;
        return true;
    }
    chain_config cfg;
    block_env head;
    if (!store_get_chain_config(c, &cfg, err) || !store_get_head(c, &head, err)) return false;
    *out = chain_config_fork_at(&cfg, head.number, head.timestamp);
    return true;
}

static int compile_all(const char *db, const char *fork_arg, const char *key_hex)
{
    if (!jit_supported()) return cli_error("compile", "this machine cannot run compiled code (x86-64 Linux only)");
    if (sodium_init() < 0) return cli_error("compile", "libsodium failed to initialise");
    store_error err;
    store *s = store_open(db, STORE_OPEN_EXISTING, &err);
    if (!s) return cli_error("compile", "%s", err.msg);
    store_conn *c = store_connect(s, &err);
    compile_run r = {0};
    program_store ps;
    char perr[512];
    bool ok = c && compile_fork(c, fork_arg, &r.fork, &err);
    bool ps_open = ok && program_store_open(&ps, s, db, key_hex, perr, sizeof perr);
    if (ok && !ps_open) {
        ok = false;
        store_fail(&err, "program store: %.400s", perr);
    }
    uint64_t t0 = monotonic_ns();
    if (ok) {
        jit_set_store(program_store_hooks(&ps));
        store_visitor v = {.ctx = &r, .want_code = true, .account = compile_account};
        ok = store_visit(c, NULL, &v, &err);
        jit_set_store(NULL);
    }
    double secs = (double)(monotonic_ns() - t0) / 1e9;
    if (ps_open) program_store_close(&ps);
    for (size_t i = 0; i < r.n_held; i++) code_cache_release(r.held[i]);
    free(r.held);
    free(r.seen);
    if (c) store_disconnect(c);
    store_close(s);
    if (!ok) return cli_error("compile", "%s", err.msg);
    program_store_stats st = program_store_get_stats();
    if (st.save_failed) return cli_error("compile", "%" PRIu64 " programs could not be written", st.save_failed);
    printf("%s: %" PRIu64 " accounts with code, %zu distinct codes, for %s (%s)\n", db, r.accounts, r.n_held,
           fork_name(r.fork), jit_target(r.fork));
    printf("compiled and stored %" PRIu64 ", already stored %" PRIu64 ", declined %" PRIu64
           " (run interpreted), in %.3f s\n",
           r.compiled, r.stored_before, r.declined, secs);
    return 0;
}

enum { OPT_DB = 256, OPT_ALL, OPT_FORK, OPT_KEY, OPT_HELP };

int cmd_compile(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, OPT_DB},     {"all", no_argument, NULL, OPT_ALL},
        {"fork", required_argument, NULL, OPT_FORK}, {"program-key", required_argument, NULL, OPT_KEY},
        {"help", no_argument, NULL, OPT_HELP},       {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *fork_arg = NULL, *key = getenv("JITEVM_PROGRAM_KEY");
    bool all = false;
    int opt;
    optind = 0;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_DB: db = optarg; break;
        case OPT_ALL: all = true; break;
        case OPT_FORK: fork_arg = optarg; break;
        case OPT_KEY: key = optarg; break;
        case OPT_HELP: printf("Usage: jitevm compile %s\n", CMD_COMPILE_USAGE); return 0;
        default: return cli_option_error("compile", opt, argv);
        }
    }
    if (!db) return cli_usage_error("compile", "--db FILE is required");
    if (!all) return cli_usage_error("compile", "--all is required (every code in the database)");
    if (optind < argc) return cli_usage_error("compile", "unexpected argument '%s'", argv[optind]);
    if (key && !*key) key = NULL;
    return compile_all(db, fork_arg, key);
}
