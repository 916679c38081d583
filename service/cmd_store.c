/* The state database commands. The work is in schema/ (store, alloc,
 * chains); here are the options, the messages and the benchmark. */
#include "cmd_store.h"

#include "block_header.h"
#include "hexjson.h"
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "base/clock.h"
#include "alloc_gen.h"
#include "chains.h"
#include "cli.h"
#include "hexjson.h"
#include "store.h"


enum { OPT_DB = 256, OPT_CHAIN, OPT_HEAD, OPT_FORK_URL, OPT_FORK_BLOCK, OPT_REPLACE, OPT_CASE, OPT_POST, OPT_QUIET, OPT_ADDRESS, OPT_ACCOUNTS, OPT_SLOTS,
       OPT_SAMPLES, OPT_DIR, OPT_HELP };

static void print_usage(const char *cmd, const char *text)
{
    printf("Usage: jitevm %s %s\n", cmd, text);
}

static bool parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max) return false;
    *out = v;
    return true;
}

/* Opens the database and a connection, or prints why not (and leaves both
 * NULL). */
static bool open_db(const char *cmd, const char *path, int flags, store **s, store_conn **c)
{
    store_error err;
    *s = store_open(path, flags, &err);
    if (!*s) {
        cli_error(cmd, "%s", err.msg);
        return false;
    }
    *c = store_connect(*s, &err);
    if (!*c) {
        cli_error(cmd, "%s", err.msg);
        store_close(*s);
        *s = NULL;
        return false;
    }
    return true;
}

static void close_db(store *s, store_conn *c)
{
    store_disconnect(c);
    store_close(s);
}

/* -------------------------------------------------------------- init */

static void remove_database(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char p[4096];
        if ((size_t)snprintf(p, sizeof p, "%s%s", path, suffixes[i]) < sizeof p) unlink(p);
    }
}

static bool init_chain(store_conn *c, const char *chain, bool live, chain_spec *spec, import_stats *st,
                       store_error *err)
{
    memset(st, 0, sizeof *st);
    if (chain_builtin(chain, spec)) return chain_spec_write(c, spec, err);
    chain_spec_init_empty(spec, chain);
    import_options o = {.genesis = spec, .in_transaction = true};
    if (!alloc_import_file(c, chain, &o, st, err)) return false;
    /* A live database's genesis file holds no state (the upstream's is the
     * chain's): no genesis hash can be computed from it. */
    if (live) spec->genesis_hash_from_state = false;
    return chain_spec_write(c, spec, err);
}

/* One creator at a time. Replicas started together on one volume all run
 * init on the same path; each takes an exclusive flock on "<db>.lock"
 * (beside the database, never removed: a removed lock file would let two
 * processes hold locks on different files), looks at the path under the
 * lock, builds the database in "<db>.init-<pid>" and publishes it with
 * link(2), which never replaces a file. So exactly one init succeeds, the
 * others say the database exists, and no process ever opens a half-made
 * database at the path (the "empty file, not a jitevm database" of a
 * reader racing a creator). */
typedef struct {
    int lock_fd;
    char tmp[4096];
} init_guard;

static bool init_guard_begin(init_guard *g, const char *db, store_error *err)
{
    char lock_path[4096];
    g->lock_fd = -1;
    if ((size_t)snprintf(lock_path, sizeof lock_path, "%s.lock", db) >= sizeof lock_path ||
        (size_t)snprintf(g->tmp, sizeof g->tmp, "%s.init-%ld", db, (long)getpid()) >= sizeof g->tmp)
        return store_fail(err, "%s: path too long", db);
    g->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (g->lock_fd < 0) return store_fail(err, "cannot create the lock file %s: %s", lock_path, strerror(errno));
    while (flock(g->lock_fd, LOCK_EX) != 0)
        if (errno != EINTR) return store_fail(err, "cannot lock %s: %s", lock_path, strerror(errno));
    struct stat sb;
    if (lstat(db, &sb) == 0) return store_fail(err, "%s already exists; init creates a new database", db);
    remove_database(g->tmp); /* left by a process of this id that died mid-way */
    return true;
}

/* Moves the finished (closed) database from its temporary name to `db`. */
static bool init_guard_publish(init_guard *g, const char *db, store_error *err)
{
    if (link(g->tmp, db) != 0) return store_fail(err, "cannot create %s: %s", db, strerror(errno));
    unlink(g->tmp);
    return true;
}

static void init_guard_end(init_guard *g)
{
    remove_database(g->tmp); /* nothing half-made is left behind */
    if (g->lock_fd >= 0) close(g->lock_fd); /* releases the lock */
}

/* What init --fork-url adds to the new database: the upstream's head, and
 * the pin to it. */
typedef struct {
    uint64_t chain_id;
    block_header *head;
    const char *url;
} live_init;

static bool write_live_pin(store_conn *c, const char *chain, const chain_spec *spec, const import_stats *st,
                           const live_init *li, store_error *err)
{
    if (spec->config.chain_id != li->chain_id)
        return store_fail(err, "%s is for chain id %" PRIu64 ", the upstream's is %" PRIu64, chain,
                          spec->config.chain_id, li->chain_id);
    if (st->accounts || spec->funded)
        return store_fail(err, "%s: a live database takes its state from the upstream: the chain definition must "
                          "hold no accounts", chain);
    block_header *head = li->head;
    head->env.chain_id = u256_from_u64(li->chain_id);
    if (!store_set_head_block(c, &head->env, &head->hash, head->env.number ? &head->parent_hash : NULL, err))
        return false;
    store_live_pin pin = {.block_number = head->env.number, .block_hash = head->hash};
    if (strlen(li->url) >= sizeof pin.url) return store_fail(err, "--fork-url: the URL is too long");
    snprintf(pin.url, sizeof pin.url, "%s", li->url);
    return store_set_live_pin(c, &pin, err);
}

/* What init prints of the database it made. */
typedef struct {
    block_env head;
    chain_config cfg;
    uint64_t accounts, slots, code_bytes;
} init_summary;

/* Creates `db` under the init lock: the chain `chain` defines and, for a
 * live database, its pin (live non-NULL), in one transaction, built under
 * a temporary name and published only when everything succeeded. 0, or the
 * exit status after saying why. */
static int create_database(const char *db, const char *chain, const live_init *live, chain_spec *spec,
                           init_summary *out)
{
    init_guard guard; /* one creator at a time, never a half-made file at `db` */
    store_error err;
    if (!init_guard_begin(&guard, db, &err)) {
        init_guard_end(&guard);
        return cli_error("init", "%s", err.msg);
    }
    store *s;
    store_conn *c;
    if (!open_db("init", guard.tmp, STORE_OPEN_CREATE, &s, &c)) {
        init_guard_end(&guard);
        return EXIT_ERROR;
    }
    import_stats st;
    bool ok = store_begin(c, &err);
    if (ok) {
        ok = init_chain(c, chain, live != NULL, spec, &st, &err);
        if (ok && live) ok = write_live_pin(c, chain, spec, &st, live, &err);
        if (ok)
            ok = store_commit(c, &err);
        else
            store_rollback(c);
    }
    if (ok)
        ok = store_get_head(c, &out->head, &err) &&
             store_counts(c, &out->accounts, &out->slots, &out->code_bytes, &err) &&
             store_get_chain_config(c, &out->cfg, &err);
    close_db(s, c);
    if (ok) ok = init_guard_publish(&guard, db, &err);
    init_guard_end(&guard);
    if (!ok) return cli_error("init", "%s", err.msg);
    return 0;
}

/* init --fork-url: the chain and head come from the upstream, and the
 * database is pinned to that block (live.h). `chain` (NULL: chosen by the
 * upstream's chain id) gives the fork schedule. One transaction. */
static int init_live(const char *db, const char *chain, const char *url, const char *block)
{
    upstream_error ue;
    upstream *u = upstream_new(url, NULL, &ue);
    if (!u) return cli_usage_error("init", "--fork-url: %s", ue.msg);
    uint64_t chain_id;
    block_header head;
    bool fetched = live_fetch_head(u, block, &chain_id, &head, &ue);
    char name[256];
    snprintf(name, sizeof name, "%s", upstream_name(u));
    upstream_free(u);
    if (!fetched) return cli_error("init", "%s", ue.msg);
    if (!chain) chain = chain_builtin_by_chain_id(chain_id);
    if (!chain)
        return cli_error("init", "the upstream's chain id %" PRIu64 " is not a known chain (%s): give its fork schedule "
                         "with --chain GENESIS.json", chain_id, chain_builtin_names());
    chain_spec spec;
    init_summary sum;
    live_init li = {.chain_id = chain_id, .head = &head, .url = url};
    int rc = create_database(db, chain, &li, &spec, &sum);
    if (rc) return rc;
    enum fork f = chain_config_fork_at(&spec.config, head.env.number, head.env.timestamp);
    char h[HEX_HASH_LEN];
    hex_from_hash(&head.hash, h);
    printf("created %s: chain %s (chain id %" PRIu64 "), schema version %d\n", db, spec.name, chain_id,
           store_schema_version());
    printf("head: block %" PRIu64 " (%s), timestamp %" PRIu64 ", fork %s\n", head.env.number, h, head.env.timestamp,
           fork_name(f));
    printf("live: state is read from %s at this block on demand and kept here\n", name);
    return 0;
}

int cmd_init(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"chain", required_argument, NULL, OPT_CHAIN},
        {"fork-url", required_argument, NULL, OPT_FORK_URL},
        {"fork-block", required_argument, NULL, OPT_FORK_BLOCK},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *chain = "dev", *fork_url = NULL, *fork_block = NULL;
    bool chain_given = false;
    int opt;
    optind = 0;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_DB: db = optarg; break;
        case OPT_CHAIN: chain = optarg; chain_given = true; break;
        case OPT_FORK_URL: fork_url = optarg; break;
        case OPT_FORK_BLOCK: fork_block = optarg; break;
        case OPT_HELP: print_usage("init", CMD_INIT_USAGE); return 0;
        default: return cli_option_error("init", opt, argv);
        }
    }
    if (!db) return cli_usage_error("init", "--db FILE is required");
    if (optind < argc) return cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
    if (fork_block && !fork_url) return cli_usage_error("init", "--fork-block needs --fork-url");
    if (fork_url) return init_live(db, chain_given ? chain : NULL, fork_url, fork_block ? fork_block : "latest");
    chain_spec probe;
    struct stat sb;
    if (!chain_builtin(chain, &probe) && stat(chain, &sb) != 0)
        return cli_usage_error("init", "--chain: '%s' is neither a known chain (%s) nor a genesis file", chain,
                     chain_builtin_names());
    if (lstat(db, &sb) == 0) return cli_error("init", "%s already exists; init creates a new database", db);

    chain_spec spec;
    init_summary sum;
    int rc = create_database(db, chain, NULL, &spec, &sum);
    if (rc) return rc;
    enum fork f = chain_config_fork_at(&sum.cfg, sum.head.number, sum.head.timestamp);
    printf("created %s: chain %s (chain id %" PRIu64 "), schema version %d\n", db, spec.name, sum.cfg.chain_id,
           store_schema_version());
    printf("head: block %" PRIu64 ", timestamp %" PRIu64 ", fork %s\n", sum.head.number, sum.head.timestamp,
           fork_name(f));
    printf("state: %" PRIu64 " accounts, %" PRIu64 " slots, %" PRIu64 " code bytes\n", sum.accounts, sum.slots,
           sum.code_bytes);
    if (spec.note) printf("note: %s\n", spec.note);
    return 0;
}

/* ------------------------------------------------------------ import */

typedef struct {
    double start;
    int last_width;
} progress_bar;

static void draw_progress(void *ctx, size_t done, size_t total, const import_stats *st)
{
    progress_bar *p = ctx;
    enum { WIDTH = 30 };
    int filled = total ? (int)((double)done / (double)total * WIDTH) : WIDTH;
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++) bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    int n = fprintf(stderr, "\r[%s] %3d%%  %.1f/%.1f MB  %" PRIu64 " accounts  %" PRIu64 " slots  %.1f s", bar,
                    total ? (int)(100.0 * (double)done / (double)total) : 100, (double)done / 1e6,
                    (double)total / 1e6, st->accounts, st->slots, monotonic_seconds() - p->start);
    if (n < p->last_width) fprintf(stderr, "%*s", p->last_width - n, "");
    p->last_width = n;
}

/* import --head: block headers (eth_getBlockByNumber results) as the head
 * and the recent block hashes. */
static int import_head(const char *db, const char *file)
{
    json_error_t jerr;
    json_t *v = json_load_file(file, 0, &jerr);
    if (!v && jerr.line < 1) return cli_error("import", "%s", jerr.text);
    if (!v) return cli_error("import", "%s: line %d: %s", file, jerr.line, jerr.text);
    store *s;
    store_conn *c;
    if (!open_db("import", db, STORE_OPEN_EXISTING, &s, &c)) {
        json_decref(v);
        return EXIT_ERROR;
    }
    store_error err;
    block_header head;
    bool ok = block_headers_store(c, v, &head, &err);
    json_decref(v);
    close_db(s, c);
    if (!ok) return cli_error("import", "%s: %s", file, err.msg);
    char hash[HEX_HASH_LEN];
    hex_from_hash(&head.hash, hash);
    printf("head: block %" PRIu64 " (%s), timestamp %" PRIu64 "\n", head.env.number, hash, head.env.timestamp);
    return 0;
}

int cmd_import(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, OPT_DB},     {"replace", no_argument, NULL, OPT_REPLACE},
        {"case", required_argument, NULL, OPT_CASE}, {"post", required_argument, NULL, OPT_POST},
        {"quiet", no_argument, NULL, OPT_QUIET},     {"help", no_argument, NULL, OPT_HELP},
        {"head", no_argument, NULL, OPT_HEAD},       {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    char *post = NULL;
    bool quiet = false, head = false;
    import_options o = {0};
    int opt;
    optind = 0;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_DB: db = optarg; break;
        case OPT_REPLACE: o.replace = true; break;
        case OPT_CASE: o.case_name = optarg; break;
        case OPT_POST: post = optarg; break;
        case OPT_QUIET: quiet = true; break;
        case OPT_HEAD: head = true; break;
        case OPT_HELP: print_usage("import", CMD_IMPORT_USAGE); return 0;
        default: return cli_option_error("import", opt, argv);
        }
    }
    if (!db) return cli_usage_error("import", "--db FILE is required");
    if (optind >= argc) return cli_usage_error("import", "no FILE.json given");
    if (argc - optind > 1) return cli_usage_error("import", "one FILE.json at a time (got %d)", argc - optind);
    const char *file = argv[optind];
    if (head) {
        if (o.replace || o.case_name || post) return cli_usage_error("import", "--head takes no other option");
        return import_head(db, file);
    }
    char fork_buf[64];
    if (post) {
        const char *colon = strchr(post, ':');
        size_t len = colon ? (size_t)(colon - post) : strlen(post);
        uint64_t index = 0;
        if (len == 0 || len >= sizeof fork_buf || (colon && !parse_count(colon + 1, 0, 1u << 30, &index)))
            return cli_usage_error("import", "--post: expected FORK or FORK:INDEX, got '%s'", post);
        memcpy(fork_buf, post, len);
        fork_buf[len] = '\0';
        o.post_fork = fork_buf;
        o.post_index = (size_t)index;
    }

    store *s;
    store_conn *c;
    if (!open_db("import", db, STORE_OPEN_EXISTING, &s, &c)) return EXIT_ERROR;
    store_error err;
    chain_config cfg;
    if (store_get_chain_config(c, &cfg, &err)) o.expect_chain_id = cfg.chain_id;
    progress_bar bar = {.start = monotonic_seconds()};
    if (!quiet && isatty(STDERR_FILENO)) {
        o.progress = draw_progress;
        o.progress_ctx = &bar;
    }
    import_stats st;
    double start = monotonic_seconds();
    bool ok = alloc_import_file(c, file, &o, &st, &err);
    double seconds = monotonic_seconds() - start;
    if (bar.last_width) fputc('\n', stderr);
    close_db(s, c);
    if (!ok) return cli_error("import", "%s", err.msg);
    printf("imported %" PRIu64 " accounts, %" PRIu64 " slots, %" PRIu64 " code bytes in %.2f s", st.accounts,
           st.slots, st.code_bytes, seconds);
    if (seconds > 0) printf(" (%.0f accounts/s, %.0f slots/s)", (double)st.accounts / seconds, (double)st.slots / seconds);
    printf("\n");
    return 0;
}

/* -------------------------------------------------------- dump, root */

static int db_only_options(const char *cmd, const char *usage_text, int argc, char **argv, const char **db,
                           const char **address_arg)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"address", required_argument, NULL, OPT_ADDRESS},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 0;
    *db = NULL;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_DB: *db = optarg; break;
        case OPT_ADDRESS:
            if (!address_arg) return cli_option_error(cmd, '?', argv);
            *address_arg = optarg;
            break;
        case OPT_HELP: print_usage(cmd, usage_text); return -1;
        default: return cli_option_error(cmd, opt, argv);
        }
    }
    if (!*db) return cli_usage_error(cmd, "--db FILE is required");
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return 0;
}

int cmd_dump(int argc, char **argv)
{
    const char *db, *address_arg = NULL;
    int status = db_only_options("dump", CMD_DUMP_USAGE, argc, argv, &db, &address_arg);
    if (status) return status < 0 ? 0 : status;
    address a;
    if (address_arg && !hex_to_address(address_arg, &a))
        return cli_usage_error("dump", "--address: expected 0x and 40 hex digits, got '%.80s'", address_arg);
    store *s;
    store_conn *c;
    if (!open_db("dump", db, STORE_OPEN_READONLY, &s, &c)) return EXIT_ERROR;
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    store_error err;
    bool ok = alloc_dump(c, stdout, address_arg ? &a : NULL, &err);
    close_db(s, c);
    if (!ok) return cli_error("dump", "%s", err.msg);
    return 0;
}

int cmd_root(int argc, char **argv)
{
    const char *db;
    int status = db_only_options("root", CMD_ROOT_USAGE, argc, argv, &db, NULL);
    if (status) return status < 0 ? 0 : status;
    /* Read-write where it may, so that the stored trie is brought up to
     * date (built the first time) and the next root starts from there;
     * read-only otherwise (then computed from every account and slot when
     * the database has no trie). */
    store_error err;
    store *s = store_open(db, STORE_OPEN_EXISTING, &err);
    store_conn *c = s ? store_connect(s, &err) : NULL;
    if (!c) {
        store_close(s);
        if (!open_db("root", db, STORE_OPEN_READONLY, &s, &c)) return EXIT_ERROR;
    }
    hash32 root;
    bool ok = store_state_root(c, &root, &err);
    close_db(s, c);
    if (!ok) return cli_error("root", "%s", err.msg);
    char hex[HEX_HASH_LEN];
    hex_from_hash(&root, hex);
    printf("%s\n", hex);
    return 0;
}

/* ------------------------------------------------------------ bench */

typedef struct {
    double *v;
    size_t n;
} samples;

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, samples *s)
{
    qsort(s->v, s->n, sizeof(double), compare_doubles);
    double median = s->v[s->n / 2], p99 = s->v[s->n * 99 / 100];
    printf("  %-38s %9.2f us %9.2f us   (%zu reads)\n", what, median * 1e6, p99 * 1e6, s->n);
}

/* The database file's pages leave the OS page cache (they are clean after
 * the checkpoint that closing the import's connections did). */
static void drop_page_cache(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}

typedef struct {
    const alloc_gen *g;
    uint64_t state;
    uint64_t hot; /* non-zero: accounts come from this many, spread over all */
} picker;

static uint64_t next_random(picker *p)
{
    uint64_t x = (p->state += 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A random existing slot: a random contract, then one of its slots. */
static void pick_slot(picker *p, address *a, u256 *key)
{
    for (;;) {
        uint64_t i = (next_random(p) % ((p->g->accounts + 9) / 10)) * 10;
        uint64_t n = alloc_gen_slot_count(p->g, i);
        if (n == 0) continue;
        *a = alloc_gen_address(p->g, i);
        *key = alloc_gen_slot_key(p->g, i, next_random(p) % n);
        return;
    }
}

enum read_kind { READ_ACCOUNT, READ_SLOT, READ_CODE };

static const char *const read_kind_names[] = {"account", "slot", "code"};

/* One timed read of a random existing account, slot, or contract code (the
 * contract's account is read first, untimed, for its code hash). */
static double timed_read(const state_backend *b, picker *p, enum read_kind kind, bool *found)
{
    address a;
    u256 key, value;
    account_info info;
    if (kind == READ_CODE) {
        a = alloc_gen_address(p->g, (next_random(p) % ((p->g->accounts + 9) / 10)) * 10);
        if (!(*found = b->get_account(b->ctx, &a, &info))) return 0;
        const uint8_t *code;
        size_t len;
        double t = monotonic_seconds();
        *found = b->get_code(b->ctx, &info.code_hash, &code, &len) && len > 0;
        return monotonic_seconds() - t;
    }
    if (kind == READ_ACCOUNT) {
        uint64_t i = next_random(p) % p->g->accounts;
        if (p->hot) i = (i % p->hot) * (p->g->accounts / p->hot);
        a = alloc_gen_address(p->g, i);
        double t = monotonic_seconds();
        *found = b->get_account(b->ctx, &a, &info);
        return monotonic_seconds() - t;
    }
    pick_slot(p, &a, &key);
    double t = monotonic_seconds();
    b->get_storage(b->ctx, &a, &key, &value);
    double dt = monotonic_seconds() - t;
    *found = !u256_is_zero(&value);
    return dt;
}

static bool run_reads(store_conn *c, const alloc_gen *g, enum read_kind kind, bool snapshot, uint64_t hot, size_t n,
                      samples *out)
{
    state_backend b = store_backend(c);
    picker warmup = {g, 7, hot}, timed = {g, 7, hot};
    bool found = true;
    store_error err;
    if (snapshot && !store_read_begin(c, &err)) return false;
    for (size_t i = 0; i < n && found; i++) timed_read(&b, &warmup, kind, &found);
    for (size_t i = 0; i < n && found; i++) out->v[out->n++] = timed_read(&b, &timed, kind, &found);
    if (snapshot) store_read_end(c);
    return found;
}

/* Each read on a fresh connection (SQLite's cache is empty), and with
 * `drop`, the file dropped from the OS page cache just before: cold. */
static bool run_fresh_reads(store *s, const char *db, const alloc_gen *g, enum read_kind kind, bool drop, size_t n,
                            samples *out)
{
    picker p = {g, 99, 0};
    store_error err;
    for (size_t i = 0; i < n; i++) {
        store_conn *c = store_connect(s, &err);
        if (!c) return false;
        state_backend b = store_backend(c);
        if (drop) drop_page_cache(db);
        bool found;
        out->v[out->n++] = timed_read(&b, &p, kind, &found);
        store_disconnect(c);
        if (!found) return false;
    }
    return true;
}

/* bench-store's options; -1 to run, else the exit status. */
static int bench_store_options(int argc, char **argv, alloc_gen *g, uint64_t *n_samples, const char **dir)
{
    static const struct option longopts[] = {
        {"accounts", required_argument, NULL, OPT_ACCOUNTS}, {"slots", required_argument, NULL, OPT_SLOTS},
        {"samples", required_argument, NULL, OPT_SAMPLES},   {"dir", required_argument, NULL, OPT_DIR},
        {"help", no_argument, NULL, OPT_HELP},               {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 0;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_ACCOUNTS:
            if (!parse_count(optarg, 10, 100000000, &g->accounts))
                return cli_usage_error("bench-store", "--accounts: expected 10..100000000, got '%s'", optarg);
            break;
        case OPT_SLOTS:
            if (!parse_count(optarg, 10, 1000000000, &g->slots))
                return cli_usage_error("bench-store", "--slots: expected 10..1000000000, got '%s'", optarg);
            break;
        case OPT_SAMPLES:
            if (!parse_count(optarg, 100, 10000000, n_samples))
                return cli_usage_error("bench-store", "--samples: expected 100..10000000, got '%s'", optarg);
            break;
        case OPT_DIR: *dir = optarg; break;
        case OPT_HELP: print_usage("bench-store", CMD_BENCH_STORE_USAGE); return 0;
        default: return cli_option_error("bench-store", opt, argv);
        }
    }
    if (optind < argc) return cli_usage_error("bench-store", "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* Writes the generated alloc to `json`; its size in *size. */
static bool bench_generate(const alloc_gen *g, const char *json, long *size)
{
    FILE *f = fopen(json, "w");
    if (!f) {
        cli_error("bench-store", "%s: %s", json, strerror(errno));
        return false;
    }
    double t = monotonic_seconds();
    bool written = alloc_gen_run(g, f, NULL);
    *size = ftell(f);
    if (fclose(f) != 0 || !written) {
        cli_error("bench-store", "%s: write error", json);
        return false;
    }
    printf("  generated alloc JSON: %.1f MB in %.2f s\n", (double)*size / 1e6, monotonic_seconds() - t);
    return true;
}

/* Imports the alloc into a new database and computes its state root. */
static bool bench_import(const char *db, const char *json, long size)
{
    store *s;
    store_conn *c;
    if (!open_db("bench-store", db, STORE_OPEN_CREATE, &s, &c)) return false;
    store_error err;
    import_stats st;
    double t = monotonic_seconds();
    bool ok = alloc_import_file(c, json, NULL, &st, &err);
    if (ok) {
        double import_s = monotonic_seconds() - t;
        printf("  import: %.2f s = %.0f accounts/s, %.0f slots/s (%.1f MB/s of JSON, one transaction)\n", import_s,
               (double)st.accounts / import_s, (double)st.slots / import_s, (double)size / 1e6 / import_s);
    }
    t = monotonic_seconds();
    hash32 root;
    if (ok && (ok = store_state_root(c, &root, &err))) {
        char root_hex[HEX_HASH_LEN];
        hex_from_hash(&root, root_hex);
        printf("  state root: %.2f s (%s)\n", monotonic_seconds() - t, root_hex);
    }
    if (!ok) cli_error("bench-store", "%s", err.msg);
    /* Closing every connection checkpoints the WAL into the database file,
     * so that the reads after find the pages where a reopened database has
     * them. */
    close_db(s, c);
    return ok;
}

/* Reads on one connection, repeated (the pages in SQLite's cache). */
static bool bench_warm_reads(store_conn *c, const alloc_gen *g, uint64_t n_samples, samples *sm)
{
    /* Warm: the same reads done once before. "snapshot": inside
     * store_read_begin/end, where the account cache serves repeats of hot
     * accounts (here 1,000 read over and over). Code is not cached by the
     * store (the core caches analysed code by hash): these are SQLite reads. */
    static const struct {
        const char *what;
        enum read_kind kind;
        bool snapshot;
        uint64_t hot;
    } warm[] = {
        {"account, warm", READ_ACCOUNT, false, 0},
        {"account, warm (snapshot)", READ_ACCOUNT, true, 0},
        {"account, hot 1000, no cache", READ_ACCOUNT, false, 1000},
        {"account, hot 1000, cached (snapshot)", READ_ACCOUNT, true, 1000},
        {"slot, warm", READ_SLOT, false, 0},
        {"slot, warm (snapshot)", READ_SLOT, true, 0},
        {"code, warm", READ_CODE, false, 0},
    };
    for (size_t i = 0; i < sizeof warm / sizeof warm[0]; i++) {
        sm->n = 0;
        if (!run_reads(c, g, warm[i].kind, warm[i].snapshot, warm[i].hot, n_samples, sm)) {
            cli_error("bench-store", "a generated %s is missing from the database", read_kind_names[warm[i].kind]);
            return false;
        }
        report(warm[i].what, sm);
    }
    return true;
}

/* The first read on a new connection: code with the OS cache warm, then
 * accounts and slots with the page cache dropped. */
static bool bench_cold_reads(store *s, const char *db, const alloc_gen *g, size_t n_cold, samples *sm)
{
    sm->n = 0;
    if (!run_fresh_reads(s, db, g, READ_CODE, false, n_cold, sm)) {
        cli_error("bench-store", "code reads failed");
        return false;
    }
    report("code, new connection", sm);
    for (int kind = READ_ACCOUNT; kind <= READ_SLOT; kind++) {
        sm->n = 0;
        if (!run_fresh_reads(s, db, g, (enum read_kind)kind, true, n_cold, sm)) {
            cli_error("bench-store", "cold reads failed");
            return false;
        }
        char what[64];
        snprintf(what, sizeof what, "%s, cold (page cache dropped)", read_kind_names[kind]);
        report(what, sm);
    }
    return true;
}

int cmd_bench_store(int argc, char **argv)
{
    alloc_gen g = {.seed = 20240601, .accounts = 100000, .slots = 1000000};
    uint64_t n_samples = 20000;
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    int exit_status = bench_store_options(argc, argv, &g, &n_samples, &dir);
    if (exit_status >= 0) return exit_status;

    char work[4096], json[4200], db[4200];
    snprintf(work, sizeof work, "%s/jitevm-bench-store-XXXXXX", dir);
    if (!mkdtemp(work)) return cli_error("bench-store", "cannot create a directory in %s: %s", dir, strerror(errno));
    snprintf(json, sizeof json, "%s/alloc.json", work);
    snprintf(db, sizeof db, "%s/state.db", work);
    int status = EXIT_ERROR;
    store *s = NULL;
    store_conn *c = NULL;
    samples sm = {xmalloc(n_samples * sizeof(double)), 0};

    printf("store benchmark: %" PRIu64 " accounts, %" PRIu64 " slots (in %s)\n", g.accounts, g.slots, work);
    long size;
    if (!bench_generate(&g, json, &size) || !bench_import(db, json, size)) goto out;
    if (!open_db("bench-store", db, STORE_OPEN_EXISTING, &s, &c)) goto out;
    struct stat sb;
    printf("  database: %.1f MB\n", stat(db, &sb) == 0 ? (double)sb.st_size / 1e6 : 0.0);
    printf("  random reads (state_backend)           median         p99\n");
    if (!bench_warm_reads(c, &g, n_samples, &sm)) goto out;
    store_disconnect(c);
    c = NULL;
    if (!bench_cold_reads(s, db, &g, n_samples / 20 < 1000 ? n_samples / 20 : 1000, &sm)) goto out;
    status = 0;
out:
    store_disconnect(c);
    store_close(s);
    free(sm.v);
    unlink(json);
    remove_database(db);
    rmdir(work);
    return status;
}
