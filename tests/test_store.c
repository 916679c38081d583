/* The SQLite store: schema and migrations, the state_backend/state_sink
 * it implements, chain configuration and head, compiled programs, read
 * snapshots, the state root checked against the in-memory state (every
 * fixture's pre state, every post state against the fixture's root, and a
 * generated state of 100,000 accounts and 1,000,000 slots), dump/import
 * round trips, a SIGKILL during a large import, bad input, and the
 * commands' exit statuses and messages. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "alloc.h"
#include "alloc_gen.h"
#include "base/clock.h"
#include "chains.h"
#include "cmd_store.h"
#include "hexjson.h"
#include "base/keccak.h"
#include "state/memstate.h"
#include "migrations.h"
#include "tools/statetest.h"
#include "store.h"
#include "base/trie.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* ---- helpers ------------------------------------------------------------ */

static char tmp_dir[256];

/* Every group's checked fixture: a fresh temporary directory per test
 * (made once: a test calling make_tmp_dir again keeps it), removed after. */
static void make_tmp_dir(void)
{
    if (!tmp_dir[0]) test_temp_dir(tmp_dir, sizeof tmp_dir, "test_store");
}
static void remove_tmp_dir(void) { test_remove_dir(tmp_dir); }

static const char *tmp_path(const char *name)
{
    static char paths[64][512];
    static int next;
    char *p = paths[next++ % 64];
    snprintf(p, 512, "%s/%s", tmp_dir, name);
    return p;
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = xmalloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static bool one_line(const char *msg)
{
    return msg[0] != '\0' && strchr(msg, '\n') == NULL && strchr(msg, '\r') == NULL;
}

typedef struct {
    store *s;
    store_conn *c;
} db;

static db db_open(const char *path, int flags)
{
    store_error err;
    db d;
    d.s = store_open(path, flags, &err);
    ck_assert_msg(d.s != NULL, "store_open %s: %s", path, err.msg);
    d.c = store_connect(d.s, &err);
    ck_assert_msg(d.c != NULL, "store_connect: %s", err.msg);
    return d;
}

static void db_close(db *d)
{
    store_disconnect(d->c);
    store_close(d->s);
}

/* A database with the dev chain's configuration and head. */
static db db_new_dev(const char *path)
{
    db d = db_open(path, STORE_OPEN_CREATE);
    chain_spec spec;
    store_error err;
    ck_assert(chain_builtin("dev", &spec));
    ck_assert_msg(store_begin(d.c, &err), "%s", err.msg);
    ck_assert_msg(chain_spec_write(d.c, &spec, &err), "%s", err.msg);
    ck_assert_msg(store_commit(d.c, &err), "%s", err.msg);
    return d;
}

static hash32 db_root(store_conn *c)
{
    hash32 root;
    store_error err;
    ck_assert_msg(store_state_root(c, &root, &err), "root: %s", err.msg);
    return root;
}


static char *hash_hex(const hash32 *h)
{
    static char buf[4][HEX_HASH_LEN];
    static int next;
    char *p = buf[next++ % 4];
    hex_from_hash(h, p);
    return p;
}

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *raw;
    ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
    return raw;
}

static sqlite3_int64 raw_int(sqlite3 *raw, const char *sql)
{
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(raw, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(raw));
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    sqlite3_int64 v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static const char *raw_text(sqlite3 *raw, const char *sql, char *buf, size_t cap)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(raw, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return buf;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *raw = raw_open(path);
    char *msg = NULL;
    ck_assert_msg(sqlite3_exec(raw, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
    sqlite3_close(raw);
}

/* Expects store_open to fail with a one-line message containing `want`. */
static void expect_open_error(const char *path, int flags, const char *want)
{
    store_error err = {{0}};
    store *s = store_open(path, flags, &err);
    ck_assert_msg(s == NULL, "store_open %s succeeded, expected '%s'", path, want);
    ck_assert_msg(one_line(err.msg), "not one line: '%s'", err.msg);
    ck_assert_msg(strstr(err.msg, want), "'%s' does not mention '%s'", err.msg, want);
}

/* Random damage to a valid file: every import either succeeds or fails
 * with a one-line message, and a failed one changes nothing. */
START_TEST(test_mutated_inputs)
{
    db d = db_new_dev(tmp_path("mut.db"));
    const char *good =
        "{\"config\": {\"chainId\": 1337, \"londonBlock\": 0, \"blobSchedule\": {\"cancun\": {\"max\": 6}}},"
        " \"timestamp\": \"0x10\", \"alloc\": {"
        "\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0x0de0b6b3a7640000\", \"nonce\": 7,"
        " \"code\": \"0x60016000f3\", \"storage\": {\"0x01\": \"0x02\", \"0x03\": \"0xff\"}},"
        " \"00000000000000000000000000000000000000bb\": {\"balance\": \"123456789\", \"x\": [1, 2.5e3, true, null,"
        " \"\\u00e9\\n\"]}}}";
    size_t len = strlen(good);
    char *text = xmalloc(len + 1);
    static const char replacements[] = "{}[]\",:0x9aAfF-+.eE \\nul\x01\xc3\xff";
    uint64_t rng = 12345;
    store_error err;
    import_stats st;
    size_t accepted = 0, rejected = 0;
    for (int i = 0; i < 3000; i++) {
        memcpy(text, good, len + 1);
        size_t n = len;
        int edits = 1 + i % 3;
        for (int e = 0; e < edits && n > 0; e++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t pos = (size_t)(rng >> 33) % n;
            uint64_t what = (rng >> 20) % 3;
            if (what == 0) {
                text[pos] = replacements[(rng >> 8) % (sizeof replacements - 1)];
            } else if (what == 1) { /* delete a byte */
                memmove(text + pos, text + pos + 1, n - pos);
                n--;
            } else { /* cut the text short */
                n = pos;
            }
        }
        hash32 before = db_root(d.c);
        import_options o = {.replace = (i & 1) != 0};
        err.msg[0] = '\0';
        if (alloc_import_text(d.c, "m.json", text, n, &o, &st, &err)) {
            accepted++;
        } else {
            rejected++;
            ck_assert_msg(one_line(err.msg), "mutation %d: not one line: '%s'", i, err.msg);
            ck_assert_hash_eq(db_root(d.c), before);
        }
    }
    ck_assert_uint_gt(rejected, 1000);
    printf("test_mutated_inputs: 3000 damaged files: %zu imported, %zu refused with one line each\n", accepted, rejected);
    free(text);
    db_close(&d);
}
END_TEST

static int argc_of(char **argv)
{
    int n = 0;
    while (argv[n]) n++;
    return n;
}

/* Runs a command in a child with stderr captured: its exit status and
 * stderr text. */
static int run_command(int (*cmd)(int, char **), char **argv, char *err_out, size_t cap)
{
    const char *err_path = tmp_path("stderr.txt");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int out = open("/dev/null", O_WRONLY);
        dup2(fd, 2);
        dup2(out, 1);
        int argc = 0;
        while (argv[argc]) argc++;
        int status = cmd(argc, argv);
        fflush(stdout);
        fflush(stderr);
        _exit(status);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    size_t len;
    char *text = read_file(err_path, &len);
    snprintf(err_out, cap, "%s", text);
    free(text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Expects exit status 1 and exactly one line on stderr mentioning `want`. */
static void expect_command_error(int (*cmd)(int, char **), char **argv, const char *want)
{
    char err[2048];
    int status = run_command(cmd, argv, err, sizeof err);
    ck_assert_msg(status == 1, "%s %s: exit status %d (stderr: %s)", argv[0], argv[argc_of(argv) - 1], status, err);
    size_t len = strlen(err);
    ck_assert_msg(len > 1 && err[len - 1] == '\n' && strchr(err, '\n') == err + len - 1,
                  "not exactly one line: '%s'", err);
    ck_assert_msg(strstr(err, want), "'%s' does not mention '%s'", err, want);
}

/* ---- schema, migrations and bad files ------------------------------------ */

START_TEST(test_create_and_reopen)
{
    const char *path = tmp_path("a.db");
    expect_open_error(path, STORE_OPEN_EXISTING, "no such database");
    db d = db_open(path, STORE_OPEN_CREATE);
    ck_assert_int_eq(store_schema_version(), 8);
    db_close(&d);
    sqlite3 *raw = raw_open(path);
    char buf[64];
    ck_assert_int_eq(raw_int(raw, "PRAGMA user_version"), store_schema_version());
    ck_assert_int_eq(raw_int(raw, "PRAGMA application_id"), 0x4A45564D);
    ck_assert_str_eq(raw_text(raw, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    static const char *const tables[] = {"account", "storage", "code", "chain", "chain_fork", "head", "block_hash",
                                         "program", "chain_genesis", "chain_forkid_block"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'", tables[i]);
        ck_assert_msg(raw_int(raw, sql) == 1, "table %s missing", tables[i]);
    }
    /* STRICT: a wrong type is refused rather than stored. */
    ck_assert_int_ne(sqlite3_exec(raw, "INSERT INTO account VALUES (x'00', 'text', x'', NULL)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    /* Reopening applies nothing again. */
    d = db_open(path, STORE_OPEN_EXISTING);
    db_close(&d);
    d = db_open(path, STORE_OPEN_READONLY);
    ck_assert_hash_eq(db_root(d.c), TRIE_EMPTY_ROOT);
    db_close(&d);
}
END_TEST

START_TEST(test_migrations_in_order)
{
    /* An empty SQLite file (version 0) gets every migration. */
    const char *empty = tmp_path("empty.db");
    write_file(empty, "", 0);
    db d = db_open(empty, STORE_OPEN_CREATE);
    db_close(&d);
    sqlite3 *raw = raw_open(empty);
    ck_assert_int_eq(raw_int(raw, "PRAGMA user_version"), store_schema_version());
    sqlite3_close(raw);
    /* A database at version 1 gets 2 and 3, and keeps its data. */
    const char *old = tmp_path("old.db");
    raw = raw_open(old);
    ck_assert_int_eq(sqlite3_exec(raw, store_migrations[0].sql, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(raw, "PRAGMA user_version = 1; INSERT INTO account VALUES "
                                       "(x'0000000000000000000000000000000000000001', 5, x'07', NULL)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    d = db_open(old, STORE_OPEN_EXISTING);
    state_backend b = store_backend(d.c);
    account_info info;
    address one = test_address_n(1);
    ck_assert(b.get_account(b.ctx, &one, &info));
    ck_assert_uint_eq(info.nonce, 5);
    ck_assert_uint_eq(info.balance.w[0], 7);
    chain_config cfg;
    store_error err;
    ck_assert(!store_get_chain_config(d.c, &cfg, &err)); /* table exists now, empty */
    ck_assert_msg(strstr(err.msg, "no chain configuration"), "%s", err.msg);
    db_close(&d);
    raw = raw_open(old);
    ck_assert_int_eq(raw_int(raw, "PRAGMA user_version"), 8);
    /* 008: no genesis facts for a database made before it. */
    ck_assert_int_eq(raw_int(raw, "SELECT count(*) FROM chain_genesis"), 0);
    /* 007: a state this small gets its trie at its first root, not at open. */
    ck_assert_int_eq(raw_int(raw, "SELECT built FROM trie_state"), 0);
    ck_assert_int_eq(raw_int(raw, "SELECT count(*) FROM pragma_table_info('head') WHERE name = 'gas_used'"), 1);
    ck_assert_int_eq(raw_int(raw, "SELECT count(*) FROM sqlite_master WHERE name='program'"), 1);
    sqlite3_close(raw);
    /* Read-only cannot upgrade. */
    const char *old2 = tmp_path("old2.db");
    raw = raw_open(old2);
    ck_assert_int_eq(sqlite3_exec(raw, store_migrations[0].sql, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(raw, "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    expect_open_error(old2, STORE_OPEN_READONLY, "needs upgrading");
}
END_TEST

START_TEST(test_refuses_newer_and_foreign)
{
    const char *path = tmp_path("new.db");
    db d = db_open(path, STORE_OPEN_CREATE);
    db_close(&d);
    raw_exec(path, "PRAGMA user_version = 99");
    expect_open_error(path, STORE_OPEN_EXISTING, "newer than this jitevm");
    expect_open_error(path, STORE_OPEN_READONLY, "newer than this jitevm");
    /* Someone else's SQLite database is left alone. */
    const char *other = tmp_path("other.db");
    raw_exec(other, "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('hi')");
    expect_open_error(other, STORE_OPEN_EXISTING, "not a jitevm database");
    expect_open_error(other, STORE_OPEN_CREATE, "not a jitevm database");
    const char *app = tmp_path("app.db");
    raw_exec(app, "PRAGMA application_id = 1234");
    expect_open_error(app, STORE_OPEN_EXISTING, "application_id");
    sqlite3 *raw = raw_open(other);
    ck_assert_int_eq(raw_int(raw, "SELECT count(*) FROM sqlite_master"), 1);
    sqlite3_close(raw);
}
END_TEST

START_TEST(test_bad_files)
{
    const char *text = tmp_path("text.db");
    const char *words = "this is not a database, just some text that is long enough to have a header\n";
    write_file(text, words, strlen(words));
    expect_open_error(text, STORE_OPEN_EXISTING, "not a SQLite database");
    expect_open_error(text, STORE_OPEN_CREATE, "not a SQLite database");
    const char *tiny = tmp_path("tiny.db");
    write_file(tiny, "SQLite format 3\0abc", 19);
    expect_open_error(tiny, STORE_OPEN_EXISTING, "truncated");
    const char *empty = tmp_path("empty.db");
    write_file(empty, "", 0);
    expect_open_error(empty, STORE_OPEN_EXISTING, "empty file");
    expect_open_error(tmp_dir, STORE_OPEN_EXISTING, "directory");
    expect_open_error(tmp_path("missing/dir/x.db"), STORE_OPEN_CREATE, "cannot create");
    expect_open_error("", STORE_OPEN_CREATE, "no database path");

    /* A real database cut in half. */
    const char *full = tmp_path("full.db");
    db d = db_new_dev(full);
    store_error err;
    ck_assert(store_begin(d.c, &err));
    for (uint64_t i = 0; i < 3000; i++) {
        address a = test_address_n(i + 1);
        u256 v = u256_from_u64(i + 1);
        ck_assert(store_set_balance(d.c, &a, &v, &err));
        ck_assert(store_set_storage(d.c, &a, &v, &v, &err));
    }
    ck_assert(store_commit(d.c, &err));
    db_close(&d); /* checkpoints: everything is in the file */
    struct stat sb;
    ck_assert_int_eq(stat(full, &sb), 0);
    ck_assert_int_gt(sb.st_size, 65536);
    ck_assert_int_eq(truncate(full, sb.st_size / 2), 0);
    expect_open_error(full, STORE_OPEN_EXISTING, "truncated");
    expect_open_error(full, STORE_OPEN_READONLY, "truncated");
}
END_TEST

/* In a child: creating a database in a directory without write permission
 * fails cleanly (root ignores permissions, so the child drops to nobody). */
START_TEST(test_readonly_directory)
{
    const char *dir = tmp_path("ro");
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    const char *existing = tmp_path("ro/existing.db");
    db d = db_new_dev(existing);
    db_close(&d);
    chmod(existing, 0444);
    ck_assert_int_eq(chmod(dir, 0555), 0);
    chmod(tmp_dir, 0755);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
        store_error err = {{0}};
        char path[600];
        snprintf(path, sizeof path, "%s/new.db", dir);
        store *s = store_open(path, STORE_OPEN_CREATE, &err);
        if (s || !one_line(err.msg) || !strstr(err.msg, "cannot create") || !strstr(err.msg, "ermission")) _exit(4);
        /* An existing database in it cannot be written either (WAL needs
         * files next to it): a clear error, not a crash. */
        s = store_open(existing, STORE_OPEN_EXISTING, &err);
        if (s || !one_line(err.msg)) _exit(5);
        char *argv[] = {"init", "--db", path, NULL};
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 2);
        dup2(fd, 1);
        if (cmd_init(3, argv) != 1) _exit(6);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}
END_TEST

/* ---- the backend and the sink -------------------------------------------- */

START_TEST(test_backend_and_sink)
{
    db d = db_new_dev(tmp_path("s.db"));
    state_backend b = store_backend(d.c);
    state_sink sink = store_sink(d.c);
    store_error err;
    address a = test_address_n(0xaa), z = test_address_n(0xbb);
    static const uint8_t code[] = {0x60, 0x01, 0x60, 0x00, 0x55, 0x00};
    account_info info = {.nonce = UINT64_MAX, .balance = {{1, 2, 3, 4}}};
    keccak256(code, sizeof code, info.code_hash.b);
    u256 k1 = u256_from_u64(1), k2 = {{0, 0, 0, 1ULL << 63}}, v1 = u256_from_u64(0x1234), v2 = {{5, 6, 7, 8}};

    ck_assert(store_begin(d.c, &err));
    sink.delete_account(sink.ctx, &a);
    sink.put_account(sink.ctx, &a, &info, code, sizeof code, true);
    sink.put_storage(sink.ctx, &a, &k1, &v1);
    sink.put_storage(sink.ctx, &a, &k2, &v2);
    ck_assert_msg(store_commit(d.c, &err), "%s", err.msg);

    account_info got;
    ck_assert(b.get_account(b.ctx, &a, &got));
    ck_assert_uint_eq(got.nonce, UINT64_MAX);
    ck_assert(u256_eq(&got.balance, &info.balance));
    ck_assert_mem_eq(got.code_hash.b, info.code_hash.b, 32);
    ck_assert(!b.get_account(b.ctx, &z, &got));
    const uint8_t *p;
    size_t len;
    ck_assert(b.get_code(b.ctx, &info.code_hash, &p, &len));
    ck_assert_uint_eq(len, sizeof code);
    ck_assert_mem_eq(p, code, sizeof code);
    ck_assert(b.get_code(b.ctx, &KECCAK_EMPTY, &p, &len));
    ck_assert_uint_eq(len, 0);
    hash32 unknown = {{1}};
    ck_assert(!b.get_code(b.ctx, &unknown, &p, &len));
    u256 v;
    b.get_storage(b.ctx, &a, &k1, &v);
    ck_assert(u256_eq(&v, &v1));
    b.get_storage(b.ctx, &a, &k2, &v);
    ck_assert(u256_eq(&v, &v2));
    u256 k3 = u256_from_u64(3);
    b.get_storage(b.ctx, &a, &k3, &v);
    ck_assert(u256_is_zero(&v));
    ck_assert(b.has_storage(b.ctx, &a));
    ck_assert(!b.has_storage(b.ctx, &z));

    /* Many codes read one after another each come back right (a code
     * pointer need only live until the next call: the core copies it). */
    const uint8_t *first = p;
    ck_assert(b.get_code(b.ctx, &info.code_hash, &first, &len));
    ck_assert_mem_eq(first, code, sizeof code);
    ck_assert(store_begin(d.c, &err));
    for (int i = 0; i < 300; i++) {
        uint8_t c[3] = {0x60, (uint8_t)i, (uint8_t)(i >> 8)};
        account_info ci = {.nonce = 1, .balance = u256_zero()};
        keccak256(c, sizeof c, ci.code_hash.b);
        address ca = test_address_n(0x10000 + (uint64_t)i);
        sink.put_account(sink.ctx, &ca, &ci, c, sizeof c, true);
    }
    ck_assert(store_commit(d.c, &err));
    for (int i = 0; i < 300; i++) {
        address ca = test_address_n(0x10000 + (uint64_t)i);
        ck_assert(b.get_account(b.ctx, &ca, &got));
        ck_assert(b.get_code(b.ctx, &got.code_hash, &p, &len));
        ck_assert_uint_eq(len, 3);
        ck_assert_uint_eq(p[1], (uint8_t)i);
    }
    ck_assert(b.get_code(b.ctx, &info.code_hash, &first, &len));
    ck_assert_mem_eq(first, code, sizeof code);

    /* A zero value removes the slot; delete_account removes the storage. */
    ck_assert(store_begin(d.c, &err));
    u256 zero = u256_zero();
    sink.put_storage(sink.ctx, &a, &k1, &zero);
    ck_assert(store_commit(d.c, &err));
    b.get_storage(b.ctx, &a, &k1, &v);
    ck_assert(u256_is_zero(&v));
    ck_assert(b.has_storage(b.ctx, &a));
    ck_assert(store_begin(d.c, &err));
    sink.delete_account(sink.ctx, &a);
    ck_assert(store_commit(d.c, &err));
    ck_assert(!b.get_account(b.ctx, &a, &got));
    ck_assert(!b.has_storage(b.ctx, &a));
    b.get_storage(b.ctx, &a, &k2, &v);
    ck_assert(u256_is_zero(&v));
    ck_assert(!store_take_error(d.c, &err));
    db_close(&d);
}
END_TEST

START_TEST(test_transactions_all_or_nothing)
{
    db d = db_new_dev(tmp_path("t.db"));
    state_backend b = store_backend(d.c);
    state_sink sink = store_sink(d.c);
    store_error err;
    hash32 before = db_root(d.c);
    address a = test_address_n(7);
    account_info info = {.nonce = 1, .balance = u256_from_u64(100), .code_hash = KECCAK_EMPTY};
    ck_assert(store_begin(d.c, &err));
    ck_assert(!store_begin(d.c, &err)); /* no nesting */
    sink.put_account(sink.ctx, &a, &info, NULL, 0, false);
    ck_assert(store_set_nonce(d.c, &a, 9, &err)); /* joins the open transaction */
    store_rollback(d.c);
    account_info got;
    ck_assert(!b.get_account(b.ctx, &a, &got));
    ck_assert_hash_eq(db_root(d.c), before);
    /* Outside a transaction the sink refuses to write, and says so. */
    sink.put_account(sink.ctx, &a, &info, NULL, 0, false);
    ck_assert(store_take_error(d.c, &err));
    ck_assert_msg(strstr(err.msg, "outside"), "%s", err.msg);
    ck_assert(!store_take_error(d.c, &err));
    ck_assert(!b.get_account(b.ctx, &a, &got));
    ck_assert(!store_commit(d.c, &err));
    /* A write that fails inside a sink call (here a trigger injects the
     * failure) makes the commit fail, and the transaction's other writes
     * are rolled back with it. */
    raw_exec(tmp_path("t.db"), "CREATE TRIGGER injected BEFORE INSERT ON storage WHEN NEW.slot = "
                               "x'00000000000000000000000000000000000000000000000000000000000000ff' "
                               "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
    u256 key = u256_from_u64(0xff), value = u256_from_u64(1);
    ck_assert(store_begin(d.c, &err));
    sink.put_account(sink.ctx, &a, &info, NULL, 0, false);
    sink.put_storage(sink.ctx, &a, &key, &value);
    ck_assert(!store_commit(d.c, &err));
    ck_assert_msg(strstr(err.msg, "injected failure") && one_line(err.msg), "%s", err.msg);
    ck_assert(!b.get_account(b.ctx, &a, &got));
    ck_assert_hash_eq(db_root(d.c), before);
    /* The connection is usable afterwards. */
    ck_assert(store_begin(d.c, &err));
    sink.put_account(sink.ctx, &a, &info, NULL, 0, false);
    ck_assert(store_commit(d.c, &err));
    ck_assert(b.get_account(b.ctx, &a, &got));
    db_close(&d);
}
END_TEST

START_TEST(test_one_call_helpers)
{
    db d = db_new_dev(tmp_path("h.db"));
    state_backend b = store_backend(d.c);
    store_error err;
    address a = test_address_n(0x42);
    u256 bal = {{0, 0, 0, 0xffffffffffffffffULL}};
    ck_assert(store_set_balance(d.c, &a, &bal, &err));
    ck_assert(store_set_nonce(d.c, &a, UINT64_MAX, &err));
    static const uint8_t code[] = {0x5f, 0x5f, 0xf3};
    ck_assert(store_set_code(d.c, &a, code, sizeof code, &err));
    account_info got;
    ck_assert(b.get_account(b.ctx, &a, &got));
    ck_assert(u256_eq(&got.balance, &bal));
    ck_assert_uint_eq(got.nonce, UINT64_MAX);
    hash32 h;
    keccak256(code, sizeof code, h.b);
    ck_assert_mem_eq(got.code_hash.b, h.b, 32);
    ck_assert(store_set_code(d.c, &a, NULL, 0, &err));
    ck_assert(b.get_account(b.ctx, &a, &got));
    ck_assert_mem_eq(got.code_hash.b, KECCAK_EMPTY.b, 32);
    /* Storage on an absent account creates it (else it would be invisible
     * to the root); a zero write on an absent account creates nothing. */
    address fresh = test_address_n(0x43), other = test_address_n(0x44);
    u256 k = u256_from_u64(1), v = u256_from_u64(2), zero = u256_zero();
    ck_assert(store_set_storage(d.c, &fresh, &k, &v, &err));
    ck_assert(b.get_account(b.ctx, &fresh, &got));
    ck_assert_uint_eq(got.nonce, 0);
    ck_assert(store_set_storage(d.c, &other, &k, &zero, &err));
    ck_assert(!b.get_account(b.ctx, &other, &got));
    /* The same state in memory has the same root. */
    memstate *m = memstate_new();
    chain_spec dev;
    chain_builtin("dev", &dev);
    address dev_addr;
    ck_assert(hex_to_address(DEV_ACCOUNT_ADDRESS, &dev_addr));
    memstate_put_account(m, &dev_addr, 0, &dev.funded_balance, NULL, 0);
    /* The dev genesis' system contracts (nonce 1, their EIPs' code). */
    static const char *const system[][2] = {{BEACON_ROOTS_ADDRESS, BEACON_ROOTS_CODE},
                                            {HISTORY_STORAGE_ADDRESS, HISTORY_STORAGE_CODE},
                                            {WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, WITHDRAWAL_REQUEST_PREDEPLOY_CODE},
                                            {CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, CONSOLIDATION_REQUEST_PREDEPLOY_CODE}};
    size_t system_code_bytes = 0;
    for (size_t i = 0; i < 4; i++) {
        address sys_addr;
        bytebuf sys_code = {0};
        char hex[2048];
        snprintf(hex, sizeof hex, "0x%s", system[i][1]);
        ck_assert(hex_to_address(system[i][0], &sys_addr));
        ck_assert(hex_to_bytes(hex, &sys_code));
        memstate_put_account(m, &sys_addr, 1, &zero, sys_code.data, sys_code.len);
        system_code_bytes += sys_code.len;
        bytebuf_free(&sys_code);
    }
    memstate_put_account(m, &a, UINT64_MAX, &bal, NULL, 0);
    memstate_put_account(m, &fresh, 0, &zero, NULL, 0);
    memstate_put_storage(m, &fresh, &k, &v);
    hash32 want;
    memstate_root(m, &want);
    ck_assert_hash_eq(db_root(d.c), want);
    uint64_t accounts, slots, code_bytes;
    ck_assert(store_counts(d.c, &accounts, &slots, &code_bytes, &err));
    ck_assert_uint_eq(accounts, 3 + 4);
    ck_assert_uint_eq(slots, 1);
    ck_assert_uint_eq(code_bytes, sizeof code + system_code_bytes); /* code rows are kept */
    memstate_free(m);
    ck_assert(store_clear_state(d.c, &err));
    ck_assert_hash_eq(db_root(d.c), TRIE_EMPTY_ROOT);
    db_close(&d);
}
END_TEST

/* ---- chains, head, programs ---------------------------------------------- */

START_TEST(test_builtin_chains)
{
    chain_spec s;
    ck_assert(!chain_builtin("goerli", &s));
    ck_assert(chain_builtin("mainnet", &s));
    ck_assert_uint_eq(s.config.chain_id, 1);
    const chain_config *m = &s.config;
    ck_assert_int_eq(chain_config_fork_at(m, 0, 0), FORK_FRONTIER);
    ck_assert_int_eq(chain_config_fork_at(m, 1150000, 0), FORK_HOMESTEAD);
    ck_assert_int_eq(chain_config_fork_at(m, 2675000, 0), FORK_SPURIOUS_DRAGON);
    ck_assert_int_eq(chain_config_fork_at(m, 7280000, 0), FORK_PETERSBURG);
    ck_assert_int_eq(chain_config_fork_at(m, 12964999, 0), FORK_BERLIN);
    ck_assert_int_eq(chain_config_fork_at(m, 15537393, 1663224162), FORK_LONDON);
    ck_assert_int_eq(chain_config_fork_at(m, 15537394, 1663224179), FORK_PARIS);
    ck_assert_int_eq(chain_config_fork_at(m, 17034870, 1681338455), FORK_SHANGHAI);
    ck_assert_int_eq(chain_config_fork_at(m, 19426587, 1710338135), FORK_CANCUN);
    ck_assert_int_eq(chain_config_fork_at(m, 22431084, 1746612311), FORK_PRAGUE);
    ck_assert_int_eq(chain_config_fork_at(m, 22431084, 1764798550), FORK_PRAGUE);
    ck_assert_int_eq(chain_config_fork_at(m, 23935694, 1764798551), FORK_OSAKA);
    ck_assert(chain_builtin("sepolia", &s));
    ck_assert_uint_eq(s.config.chain_id, 11155111);
    ck_assert_int_eq(chain_config_fork_at(&s.config, 0, 1633267481), FORK_LONDON);
    ck_assert_int_eq(chain_config_fork_at(&s.config, 1450409, 1656000000), FORK_PARIS);
    ck_assert_int_eq(chain_config_fork_at(&s.config, 7000000, 1741159776), FORK_PRAGUE);
    ck_assert_int_eq(chain_config_fork_at(&s.config, 9000000, 1760427360), FORK_OSAKA);
    ck_assert(chain_builtin("holesky", &s));
    ck_assert_uint_eq(s.config.chain_id, 17000);
    ck_assert_int_eq(chain_config_fork_at(&s.config, 0, 1695902100), FORK_PARIS);
    ck_assert_int_eq(chain_config_fork_at(&s.config, 1, 1707305664), FORK_CANCUN);
    ck_assert_int_eq(chain_config_fork_at(&s.config, 1, 1759308480), FORK_OSAKA);
    ck_assert(chain_builtin("dev", &s));
    ck_assert_uint_eq(s.config.chain_id, 1337);
    ck_assert_int_eq(chain_config_fork_at(&s.config, 0, 0), FORK_OSAKA);
    for (int f = 0; f < FORK_COUNT; f++) {
        const char *name = store_fork_db_name((enum fork)f);
        ck_assert_ptr_nonnull(name);
        ck_assert_int_eq(store_fork_from_db_name(name), f);
    }
    ck_assert_int_eq(store_fork_from_db_name("bpo1"), -1);
}
END_TEST

START_TEST(test_chain_config_and_head)
{
    db d = db_open(tmp_path("c.db"), STORE_OPEN_CREATE);
    store_error err;
    chain_config cfg;
    block_env head;
    ck_assert(!store_get_chain_config(d.c, &cfg, &err));
    ck_assert(!store_get_head(d.c, &head, &err));
    ck_assert_msg(one_line(err.msg), "%s", err.msg);
    chain_spec s;
    ck_assert(chain_builtin("sepolia", &s));
    ck_assert(store_begin(d.c, &err));
    ck_assert_msg(chain_spec_write(d.c, &s, &err), "%s", err.msg);
    ck_assert(store_commit(d.c, &err));
    ck_assert(store_get_chain_config(d.c, &cfg, &err));
    ck_assert_uint_eq(cfg.chain_id, 11155111);
    for (int f = 0; f < FORK_COUNT; f++) {
        ck_assert_uint_eq(cfg.activation[f], s.config.activation[f]);
        ck_assert_int_eq(cfg.by_timestamp[f], s.config.by_timestamp[f]);
    }
    ck_assert(store_get_head(d.c, &head, &err));
    test_check_block(&head, 0, 1633267481, 30000000, 1000000000, 11155111);
    ck_assert_uint_eq(head.difficulty.w[0], 0x20000);
    state_backend b = store_backend(d.c);
    hash32 h;
    ck_assert(b.get_block_hash(b.ctx, 0, &h));
    ck_assert_uint_eq(h.b[0], 0x25);

    /* A Cancun head: the blob base fee follows from the excess blob gas
     * and the fork's schedule (or the chain's override). */
    block_env nh = {.number = 5187100, .timestamp = 1706655072 + 12, .gas_limit = 30000000,
                    .base_fee = u256_from_u64(7), .chain_id = u256_from_u64(11155111),
                    .excess_blob_gas = 10000000};
    nh.coinbase = test_address_n(0xc0);
    nh.prevrandao.b[31] = 9;
    ck_assert_msg(store_set_head(d.c, &nh, &err), "%s", err.msg);
    ck_assert(store_get_head(d.c, &head, &err));
    ck_assert_uint_eq(head.number, nh.number);
    ck_assert_mem_eq(head.coinbase.b, nh.coinbase.b, 20);
    ck_assert_mem_eq(head.prevrandao.b, nh.prevrandao.b, 32);
    ck_assert_uint_eq(head.blob_base_fee_update_fraction, 3338477);
    block_env expect = nh;
    block_env_default_blob_schedule(&expect, FORK_CANCUN);
    ck_assert(u256_eq(&head.blob_base_fee, &expect.blob_base_fee));
    ck_assert_uint_gt(head.blob_base_fee.w[0], 1);
    blob_schedule bs = {.target = 4, .max = 8, .update_fraction = 2000000};
    ck_assert(store_set_blob_schedule(d.c, FORK_CANCUN, &bs, &err));
    ck_assert(store_get_head(d.c, &head, &err));
    ck_assert_uint_eq(head.blob_max_per_block, 8);
    ck_assert_uint_eq(head.blob_base_fee_update_fraction, 2000000);
    expect.blob_base_fee_update_fraction = 2000000;
    block_env_update_blob_base_fee(&expect);
    ck_assert(u256_eq(&head.blob_base_fee, &expect.blob_base_fee));
    /* A head for another chain is refused. */
    nh.chain_id = u256_from_u64(1);
    ck_assert(!store_set_head(d.c, &nh, &err));
    ck_assert_msg(strstr(err.msg, "chain id"), "%s", err.msg);
    /* Block hashes: only the 256 BLOCKHASH can reach are kept. */
    for (uint64_t n = 1000; n < 1400; n++) {
        hash32 bh = {{0}};
        bh.b[0] = (uint8_t)n;
        ck_assert(store_set_block_hash(d.c, n, &bh, &err));
    }
    nh.chain_id = u256_from_u64(11155111);
    nh.number = 1400;
    ck_assert(store_set_head(d.c, &nh, &err));
    ck_assert(!b.get_block_hash(b.ctx, 1143, &h));
    ck_assert(b.get_block_hash(b.ctx, 1144, &h));
    ck_assert_uint_eq(h.b[0], (uint8_t)1144);
    ck_assert(b.get_block_hash(b.ctx, 1399, &h));
    /* What the head used: set after the head, reset by the next head write. */
    uint64_t number, gas_used, blob_gas_used;
    ck_assert(store_get_head_usage(d.c, &number, &gas_used, &blob_gas_used, &err));
    ck_assert_uint_eq(number, 1400);
    ck_assert_uint_eq(gas_used, 0);
    ck_assert(store_set_head_usage(d.c, 20000000, 393216, &err));
    ck_assert(store_get_head_usage(d.c, &number, &gas_used, &blob_gas_used, &err));
    ck_assert_uint_eq(gas_used, 20000000);
    ck_assert_uint_eq(blob_gas_used, 393216);
    nh.number = 1401;
    ck_assert(store_set_head(d.c, &nh, &err));
    ck_assert(store_get_head_usage(d.c, &number, &gas_used, &blob_gas_used, &err));
    ck_assert_uint_eq(number, 1401);
    ck_assert_uint_eq(gas_used, 0);
    ck_assert_uint_eq(blob_gas_used, 0);
    /* An unscheduled fork has no blob schedule to set. */
    cfg.activation[FORK_OSAKA] = UINT64_MAX;
    ck_assert(store_set_chain_config(d.c, &cfg, &err));
    ck_assert(!store_set_blob_schedule(d.c, FORK_OSAKA, &bs, &err));
    ck_assert(store_get_blob_schedule(d.c, FORK_CANCUN, &bs, &err));
    ck_assert_uint_eq(bs.max, 0); /* reset by the new configuration */
    db_close(&d);
}
END_TEST

START_TEST(test_programs)
{
    db d = db_open(tmp_path("p.db"), STORE_OPEN_CREATE);
    store_error err;
    hash32 ch = {{0xab}};
    uint8_t blob[5000], tag[32], got_tag[32];
    for (size_t i = 0; i < sizeof blob; i++) blob[i] = (uint8_t)(i * 7);
    keccak256(blob, sizeof blob, tag);
    uint8_t *out;
    size_t len;
    ck_assert(!store_get_program(d.c, &ch, 1, "x86_64", &out, &len, got_tag, &err));
    ck_assert_ptr_null(out);
    ck_assert(store_put_program(d.c, &ch, 1, "x86_64", blob, sizeof blob, tag, &err));
    ck_assert(store_get_program(d.c, &ch, 1, "x86_64", &out, &len, got_tag, &err));
    ck_assert_uint_eq(len, sizeof blob);
    ck_assert_mem_eq(out, blob, sizeof blob);
    ck_assert_mem_eq(got_tag, tag, 32);
    free(out);
    ck_assert(!store_get_program(d.c, &ch, 2, "x86_64", &out, &len, got_tag, &err));
    ck_assert(!store_get_program(d.c, &ch, 1, "aarch64", &out, &len, got_tag, &err));
    ck_assert(store_put_program(d.c, &ch, 1, "x86_64", blob, 10, tag, &err)); /* replaced */
    ck_assert(store_get_program(d.c, &ch, 1, "x86_64", &out, &len, got_tag, &err));
    ck_assert_uint_eq(len, 10);
    free(out);
    ck_assert(!store_put_program(d.c, &ch, 1, "", blob, 10, tag, &err));
    db_close(&d);
}
END_TEST

/* ---- snapshots, concurrency ---------------------------------------------- */

START_TEST(test_reads_never_block_on_the_writer)
{
    db d = db_new_dev(tmp_path("r.db"));
    store_error err;
    store_conn *reader = store_connect(d.s, &err);
    ck_assert_ptr_nonnull(reader);
    state_backend rb = store_backend(reader);
    address a = test_address_n(1);
    u256 v1 = u256_from_u64(1), v2 = u256_from_u64(2);
    ck_assert(store_set_balance(d.c, &a, &v1, &err));
    /* The writer holds an open write transaction with an uncommitted change. */
    ck_assert(store_begin(d.c, &err));
    ck_assert(store_set_balance(d.c, &a, &v2, &err));
    double t0 = monotonic_seconds();
    account_info got;
    ck_assert(rb.get_account(rb.ctx, &a, &got));
    double t1 = monotonic_seconds();
    ck_assert(u256_eq(&got.balance, &v1)); /* the last commit, not the pending change */
    ck_assert_msg(t1 - t0 < 1, "the read waited for the writer");
    /* A snapshot keeps seeing its state across another commit, and the
     * next snapshot sees the commit (the account cache is revalidated). */
    ck_assert(store_read_begin(reader, &err));
    ck_assert(!store_begin(reader, &err));
    ck_assert(rb.get_account(rb.ctx, &a, &got));
    ck_assert(u256_eq(&got.balance, &v1));
    ck_assert(store_commit(d.c, &err));
    ck_assert(rb.get_account(rb.ctx, &a, &got));
    ck_assert(u256_eq(&got.balance, &v1));
    store_read_end(reader);
    ck_assert(store_read_begin(reader, &err));
    ck_assert(rb.get_account(rb.ctx, &a, &got));
    ck_assert(u256_eq(&got.balance, &v2));
    store_read_end(reader);
    /* The reader's own writes also clear its cache. */
    ck_assert(store_read_begin(reader, &err));
    ck_assert(rb.get_account(rb.ctx, &a, &got));
    store_read_end(reader);
    ck_assert(store_set_balance(reader, &a, &v1, &err));
    ck_assert(store_read_begin(reader, &err));
    ck_assert(rb.get_account(rb.ctx, &a, &got));
    ck_assert(u256_eq(&got.balance, &v1));
    store_read_end(reader);
    store_disconnect(reader);
    db_close(&d);
}
END_TEST

/* Writers move value between two accounts, one transaction per move, while
 * readers on their own connections and threads check, in snapshots, that
 * the total never changes: no reader ever sees half a transaction. */
typedef struct {
    store *s;
    volatile int *stop;
    volatile int snapshots;
    int bad;
    int failed;
} reader_arg;

static void *reader_thread(void *p)
{
    reader_arg *r = p;
    store_error err;
    store_conn *c = store_connect(r->s, &err);
    if (!c) {
        r->failed = 1;
        return NULL;
    }
    state_backend b = store_backend(c);
    address x = test_address_n(1), y = test_address_n(2);
    while (!*r->stop) {
        if (!store_read_begin(c, &err)) {
            r->failed = 1;
            break;
        }
        account_info ax, ay;
        bool okx = b.get_account(b.ctx, &x, &ax), oky = b.get_account(b.ctx, &y, &ay);
        store_read_end(c);
        if (!okx || !oky || ax.balance.w[0] + ay.balance.w[0] != 1000000 || ax.nonce != ay.nonce) r->bad++;
        r->snapshots++;
    }
    store_disconnect(c);
    return NULL;
}

START_TEST(test_concurrent_snapshots)
{
    db d = db_new_dev(tmp_path("cc.db"));
    store_error err;
    address x = test_address_n(1), y = test_address_n(2);
    u256 all = u256_from_u64(1000000), none = u256_zero();
    ck_assert(store_begin(d.c, &err));
    ck_assert(store_set_balance(d.c, &x, &all, &err));
    ck_assert(store_set_balance(d.c, &y, &none, &err));
    ck_assert(store_commit(d.c, &err));
    volatile int stop = 0;
    reader_arg args[3];
    pthread_t threads[3];
    for (int i = 0; i < 3; i++) {
        args[i] = (reader_arg){.s = d.s, .stop = &stop};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, reader_thread, &args[i]), 0);
    }
    state_backend b = store_backend(d.c);
    /* At least 300 transfers, and on until every reader has taken 100
     * snapshots (threads may start late on a busy machine). */
    for (uint64_t i = 1; i <= 300 || args[0].snapshots < 100 || args[1].snapshots < 100 || args[2].snapshots < 100;
         i++) {
        ck_assert_msg(i < 10000000, "the readers made no progress");
        account_info ax, ay;
        ck_assert(b.get_account(b.ctx, &x, &ax));
        ck_assert(b.get_account(b.ctx, &y, &ay));
        u256 amount = u256_from_u64(i % 100 + 1);
        ax.balance = u256_sub(&ax.balance, &amount);
        ay.balance = u256_add(&ay.balance, &amount);
        ck_assert(store_begin(d.c, &err));
        ck_assert(store_set_balance(d.c, &x, &ax.balance, &err));
        ck_assert(store_set_nonce(d.c, &x, i, &err));
        ck_assert(store_set_balance(d.c, &y, &ay.balance, &err));
        ck_assert(store_set_nonce(d.c, &y, i, &err));
        ck_assert(store_commit(d.c, &err));
    }
    stop = 1;
    int snapshots = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(threads[i], NULL);
        ck_assert_int_eq(args[i].failed, 0);
        ck_assert_int_eq(args[i].bad, 0);
        snapshots += args[i].snapshots;
    }
    ck_assert_int_gt(snapshots, 0);
    db_close(&d);
}
END_TEST

/* ---- import and the state root ------------------------------------------- */

static bool import_text(store_conn *c, const char *text, const import_options *o, import_stats *st,
                        store_error *err)
{
    return alloc_import_text(c, "test.json", text, strlen(text), o, st, err);
}

/* Dumps into a malloc'd string. */
static char *dump_to_string(store_conn *c, const address *only, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    store_error err;
    ck_assert_msg(alloc_dump(c, f, only, &err), "dump: %s", err.msg);
    fclose(f);
    return buf;
}

START_TEST(test_import_formats)
{
    db d = db_new_dev(tmp_path("i.db"));
    store_error err;
    import_stats st;
    import_options replace = {.replace = true};
    /* A bare alloc, every spelling the importer accepts. */
    const char *alloc =
        "{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0x0de0b6b3a7640000\", \"nonce\": 7,"
        " \"code\": \"0x6001\", \"storage\": {\"0x01\": \"0x02\", "
        "\"0x0000000000000000000000000000000000000000000000000000000000000003\": \"0x00\"}},"
        " \"00000000000000000000000000000000000000BB\": {\"balance\": \"1000000000000000000\", \"nonce\": \"0x1\","
        " \"secretKey\": \"0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8\"}}";
    ck_assert_msg(import_text(d.c, alloc, &replace, &st, &err), "%s", err.msg);
    ck_assert_uint_eq(st.accounts, 2);
    ck_assert_uint_eq(st.slots, 1); /* the zero slot is no slot */
    ck_assert_uint_eq(st.code_bytes, 2);
    state_backend b = store_backend(d.c);
    account_info got;
    address aa = test_address_n(0xaa), bb = test_address_n(0xbb);
    ck_assert(b.get_account(b.ctx, &aa, &got));
    ck_assert_uint_eq(got.nonce, 7);
    ck_assert_uint_eq(got.balance.w[0], 1000000000000000000ULL);
    ck_assert(b.get_account(b.ctx, &bb, &got));
    ck_assert_uint_eq(got.balance.w[0], 1000000000000000000ULL);
    /* Without --replace an account replaces its namesake, storage and all,
     * and the others stay. */
    ck_assert(import_text(d.c, "{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0x5\"}}", NULL, &st,
                          &err));
    ck_assert(b.get_account(b.ctx, &aa, &got));
    ck_assert_uint_eq(got.balance.w[0], 5);
    ck_assert(!b.has_storage(b.ctx, &aa));
    ck_assert(b.get_account(b.ctx, &bb, &got));
    /* A geth genesis file. */
    const char *genesis = "{\"config\": {\"chainId\": 1337, \"homesteadBlock\": 0}, \"nonce\": \"0x0\","
                          " \"timestamp\": \"0x5\", \"gasLimit\": \"0x1c9c380\", \"difficulty\": \"0x1\","
                          " \"alloc\": {\"00000000000000000000000000000000000000cc\": {\"balance\": \"0x9\"}}}";
    ck_assert_msg(import_text(d.c, genesis, &replace, &st, &err), "%s", err.msg);
    ck_assert_uint_eq(st.accounts, 1);
    import_options want_other = {.replace = true, .expect_chain_id = 1};
    ck_assert(!import_text(d.c, genesis, &want_other, &st, &err));
    ck_assert_msg(strstr(err.msg, "chain id 1337") && one_line(err.msg), "%s", err.msg);
    /* A fixture with two cases: one must be chosen; pre or a post state. */
    const char *fixture =
        "{\"first\": {\"_info\": {}, \"env\": {}, \"pre\": {\"0x00000000000000000000000000000000000000d1\":"
        " {\"balance\": \"0x1\", \"nonce\": \"0x00\", \"code\": \"0x\", \"storage\": {}}},"
        " \"post\": {\"Cancun\": [{\"hash\": \"0x00\", \"state\": {\"0x00000000000000000000000000000000000000d2\":"
        " {\"balance\": \"0x2\"}}}, {\"state\": {\"0x00000000000000000000000000000000000000d3\": {\"balance\": \"0x3\"}}}]}},"
        " \"second\": {\"pre\": {\"0x00000000000000000000000000000000000000d4\": {\"balance\": \"0x4\"}}, \"post\": {}}}";
    ck_assert(!import_text(d.c, fixture, &replace, &st, &err));
    ck_assert_msg(strstr(err.msg, "several test cases") && one_line(err.msg), "%s", err.msg);
    import_options pick = {.replace = true, .case_name = "second"};
    ck_assert_msg(import_text(d.c, fixture, &pick, &st, &err), "%s", err.msg);
    address d4 = test_address_n(0xd4), d3 = test_address_n(0xd3), d1 = test_address_n(0xd1);
    ck_assert(b.get_account(b.ctx, &d4, &got));
    ck_assert(!b.get_account(b.ctx, &aa, &got)); /* replaced */
    import_options post = {.replace = true, .case_name = "first", .post_fork = "cancun", .post_index = 1};
    ck_assert_msg(import_text(d.c, fixture, &post, &st, &err), "%s", err.msg);
    ck_assert(b.get_account(b.ctx, &d3, &got));
    ck_assert(!b.get_account(b.ctx, &d1, &got));
    post.post_index = 2;
    ck_assert(!import_text(d.c, fixture, &post, &st, &err));
    ck_assert_msg(strstr(err.msg, "no post state"), "%s", err.msg);
    pick.case_name = "third";
    ck_assert(!import_text(d.c, fixture, &pick, &st, &err));
    ck_assert_msg(strstr(err.msg, "no test case named"), "%s", err.msg);
    /* A single case object. */
    ck_assert(import_text(d.c, "{\"env\": {}, \"pre\": {\"0x00000000000000000000000000000000000000d5\": {}}}",
                          &replace, &st, &err));
    ck_assert_uint_eq(st.accounts, 1);
    /* An empty alloc empties the state with --replace. */
    ck_assert(import_text(d.c, "{}", &replace, &st, &err));
    ck_assert_hash_eq(db_root(d.c), TRIE_EMPTY_ROOT);
    db_close(&d);
}
END_TEST

typedef struct {
    const char *json;
    const char *error; /* a part of the message */
} bad_input;

static const bad_input bad_inputs[] = {
    {"", "unexpected end of input"},
    {"   ", "unexpected end of input"},
    {"[]", "expected a JSON object"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0x1\"}", "',' or '}'"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0x1\",}}", "member name"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0x1\"}} x", "after the end"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": 0x1}}", "expected ',' or '}', found 'x'"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0x1\n\"}}", "control character"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"\\q\"}}", "bad escape"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"\xff\"}}", "UTF-8"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": 01}}", "leading zero"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": -1}}", "not a non-negative integer"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": 1.5}}", "not a non-negative integer"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0xg1\"}}", "not a quantity"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0x\"}}", "not a quantity"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"12a\"}}", "not a quantity"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": "
     "\"0x10000000000000000000000000000000000000000000000000000000000000000\"}}",
     "does not fit in 256 bits"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": "
     "\"115792089237316195423570985008687907853269984665640564039457584007913129639936\"}}",
     "does not fit in 256 bits"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"nonce\": \"0x10000000000000000\"}}",
     "does not fit in 64 bits"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"nonce\": 18446744073709551616}}", "does not fit in 64 bits"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"nonce\": true}}", "expected a quantity"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"code\": \"0x123\"}}", "odd number of hex digits"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"code\": \"6001\"}}", "does not start with"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"code\": \"0x60zz\"}}", "not a hex digit"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"code\": 5}}", "expected a hex string"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"storage\": []}}", "expected an object"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"storage\": {\"0x1\": 1}}}", "expected a hex string"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"storage\": {\"1\": \"0x1\"}}}", "storage key"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"storage\": {\"0x1\": \"0x1x\"}}}", "storage value"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"storage\": {\"0x1\": "
     "\"0x100000000000000000000000000000000000000000000000000000000000000001\"}}}",
     "longer than 32 bytes"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"storage\": {\"0x01\": \"0x00\", \"0x1\": \"0x5\"}}}",
     "duplicate storage key"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0x1\", \"balance\": \"0x2\"}}",
     "duplicate member"},
    {"{\"0x00000000000000000000000000000000000000aa\": {}, \"0x00000000000000000000000000000000000000AA\": {}}",
     "duplicate address"},
    {"{\"0x00000000000000000000000000000000000000aa\": {}, \"00000000000000000000000000000000000000aa\": {}}",
     "duplicate address"},
    {"{\"0x00000000000000000000000000000000000000a\": {}}", "bad address"},
    {"{\"0x00000000000000000000000000000000000000aa\": 5}", "expected an account object"},
    {"{\"alloc\": {\"0xZZ00000000000000000000000000000000000000\": {}}}", "bad address"},
    {"{\"alloc\": {}, \"0x00000000000000000000000000000000000000aa\": {}}", "mixes"},
    {"{\"config\": {\"chainId\": \"x\"}, \"alloc\": {}}", "config.chainId"},
    {"{\"somecase\": 5}", "not a test case object"},
    {"{\"a\": {\"pre\": {}}, \"b\": {\"pre\": {}}}", "several test cases"},
    {"{\"pre\": {\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0x1\"}}, \"_info\": [1,]}",
     "expected a JSON value"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"\\ud800\"}}", "surrogate"},
    {"{\"0x00000000000000000000000000000000000000aa\": {\"code\": \"0x00\", \"x\": nul}}", "expected 'null'"},
};

START_TEST(test_bad_inputs)
{
    db d = db_new_dev(tmp_path("b.db"));
    store_error err;
    import_stats st;
    /* Some state that must survive every failed import untouched. */
    ck_assert(import_text(d.c, "{\"0x00000000000000000000000000000000000000ee\": {\"balance\": \"0x7\","
                               " \"storage\": {\"0x1\": \"0x1\"}}}",
                          NULL, &st, &err));
    hash32 before = db_root(d.c);
    for (size_t i = 0; i < sizeof bad_inputs / sizeof bad_inputs[0]; i++) {
        for (int replace = 0; replace < 2; replace++) {
            import_options o = {.replace = replace};
            err.msg[0] = '\0';
            bool ok = alloc_import_text(d.c, "bad.json", bad_inputs[i].json, strlen(bad_inputs[i].json), &o, &st, &err);
            ck_assert_msg(!ok, "input %zu was accepted: %s", i, bad_inputs[i].json);
            ck_assert_msg(one_line(err.msg), "input %zu: not one line: '%s'", i, err.msg);
            ck_assert_msg(strstr(err.msg, bad_inputs[i].error), "input %zu: '%s' does not mention '%s'", i, err.msg,
                          bad_inputs[i].error);
            ck_assert_msg(strncmp(err.msg, "bad.json: ", 10) == 0, "input %zu: '%s' does not name the file", i, err.msg);
            ck_assert_hash_eq(db_root(d.c), before);
        }
    }
    /* The file-level cases. */
    ck_assert(!alloc_import_file(d.c, tmp_path("missing.json"), NULL, &st, &err));
    ck_assert_msg(strstr(err.msg, "No such file") && one_line(err.msg), "%s", err.msg);
    write_file(tmp_path("empty.json"), "", 0);
    ck_assert(!alloc_import_file(d.c, tmp_path("empty.json"), NULL, &st, &err));
    ck_assert_msg(strstr(err.msg, "empty file"), "%s", err.msg);
    ck_assert(!alloc_import_file(d.c, tmp_dir, NULL, &st, &err));
    ck_assert_msg(strstr(err.msg, "directory"), "%s", err.msg);
    /* Deep nesting is refused, not a stack overflow. */
    size_t depth = 100000;
    char *deep = xmalloc(2 * depth + 64);
    strcpy(deep, "{\"_info\": ");
    size_t n = strlen(deep);
    memset(deep + n, '[', depth);
    memset(deep + n + depth, ']', depth);
    strcpy(deep + n + 2 * depth, ", \"pre\": {}}");
    ck_assert(!import_text(d.c, deep, NULL, &st, &err));
    ck_assert_msg(strstr(err.msg, "nested deeper"), "%s", err.msg);
    free(deep);
    ck_assert_hash_eq(db_root(d.c), before);
    db_close(&d);
}
END_TEST

START_TEST(test_commands)
{
    char err[2048];
    char *db_path = (char *)tmp_path("cli.db");
    char *json = (char *)tmp_path("in.json");
    char *init[] = {"init", "--db", db_path, NULL};
    ck_assert_int_eq(run_command(cmd_init, init, err, sizeof err), 0);
    expect_command_error(cmd_init, init, "already exists");
    char *init_bad_chain[] = {"init", "--db", (char *)tmp_path("x.db"), "--chain", "nope", NULL};
    ck_assert_int_eq(run_command(cmd_init, init_bad_chain, err, sizeof err), 2);
    char *no_db[] = {"import", "in.json", NULL};
    ck_assert_int_eq(run_command(cmd_import, no_db, err, sizeof err), 2);
    ck_assert_msg(strstr(err, "--db FILE is required"), "%s", err);
    char *bad_option[] = {"root", "--db", db_path, "--frobnicate", NULL};
    ck_assert_int_eq(run_command(cmd_root, bad_option, err, sizeof err), 2);

    /* Bad input files: one line, exit status 1, state untouched. */
    static const char *const files[][2] = {
        {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0x1\"", "end of input"},
        {"{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0xzz\"}}", "not a quantity"},
        {"{\"0x00000000000000000000000000000000000000aa\": {\"nonce\": \"0x1ffffffffffffffff\"}}", "64 bits"},
        {"{\"0xAA00000000000000000000000000000000000000\": {}, \"0xaa00000000000000000000000000000000000000\": {}}",
         "duplicate address"},
    };
    char *import[] = {"import", "--db", db_path, "--quiet", json, NULL};
    char *root[] = {"root", "--db", db_path, NULL};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        write_file(json, files[i][0], strlen(files[i][0]));
        expect_command_error(cmd_import, import, files[i][1]);
    }
    char *dump_missing[] = {"dump", "--db", db_path, "--address", "0x00000000000000000000000000000000000000aa", NULL};
    expect_command_error(cmd_dump, dump_missing, "no account");
    /* Database files that are not jitevm databases. */
    char *text_db = (char *)tmp_path("text.db");
    const char *words = "hello, this is not SQLite at all; it is long enough to have a header.............\n";
    write_file(text_db, words, strlen(words));
    char *root_text[] = {"root", "--db", text_db, NULL};
    expect_command_error(cmd_root, root_text, "not a SQLite database");
    char *import_text_db[] = {"import", "--db", text_db, json, NULL};
    expect_command_error(cmd_import, import_text_db, "not a SQLite database");
    char *missing_db[] = {"dump", "--db", (char *)tmp_path("nope.db"), NULL};
    expect_command_error(cmd_dump, missing_db, "no such database");
    /* A good import, then root and dump. */
    const char *good = "{\"0x00000000000000000000000000000000000000aa\": {\"balance\": \"0x10\", \"storage\":"
                       " {\"0x01\": \"0x02\"}}}";
    write_file(json, good, strlen(good));
    ck_assert_int_eq(run_command(cmd_import, import, err, sizeof err), 0);
    ck_assert_int_eq(run_command(cmd_root, root, err, sizeof err), 0);
    char *dump[] = {"dump", "--db", db_path, "--address", "0x00000000000000000000000000000000000000aa", NULL};
    ck_assert_int_eq(run_command(cmd_dump, dump, err, sizeof err), 0);
    /* A truncated database. */
    db d = db_open(db_path, STORE_OPEN_EXISTING);
    store_error e;
    ck_assert(store_begin(d.c, &e));
    for (uint64_t i = 0; i < 2000; i++) {
        address a = test_address_n(1000 + i);
        u256 v = u256_from_u64(i + 1);
        ck_assert(store_set_storage(d.c, &a, &v, &v, &e));
    }
    ck_assert(store_commit(d.c, &e));
    db_close(&d);
    struct stat sb;
    ck_assert_int_eq(stat(db_path, &sb), 0);
    ck_assert_int_eq(truncate(db_path, sb.st_size / 3), 0);
    expect_command_error(cmd_root, root, "truncated");
    expect_command_error(cmd_import, import, "truncated");
}
END_TEST

START_TEST(test_genesis_init)
{
    const char *genesis =
        "{\n"
        "  \"config\": {\"chainId\": 31337, \"homesteadBlock\": 0, \"eip150Block\": 0, \"eip155Block\": 0,\n"
        "    \"eip158Block\": 0, \"byzantiumBlock\": 0, \"constantinopleBlock\": 0, \"petersburgBlock\": 0,\n"
        "    \"istanbulBlock\": 0, \"muirGlacierBlock\": 0, \"berlinBlock\": 0, \"londonBlock\": 0,\n"
        "    \"arrowGlacierBlock\": 0, \"grayGlacierBlock\": 0, \"terminalTotalDifficulty\": 0,\n"
        "    \"shanghaiTime\": 0, \"cancunTime\": 0, \"pragueTime\": 1000, \"osakaTime\": null,\n"
        "    \"blobSchedule\": {\"cancun\": {\"target\": 3, \"max\": 6, \"baseFeeUpdateFraction\": 3338477},\n"
        "      \"prague\": {\"target\": 6, \"max\": 9, \"baseFeeUpdateFraction\": 5007716},\n"
        "      \"osaka\": {\"target\": 6, \"max\": 9, \"baseFeeUpdateFraction\": 5007716},\n"
        "      \"bpo1\": {\"target\": 10, \"max\": 15, \"baseFeeUpdateFraction\": 8346193}},\n"
        "    \"depositContractAddress\": \"0x00000000219ab540356cbb839cbe05303d7705fa\", \"ethash\": {}},\n"
        "  \"nonce\": \"0x0\", \"timestamp\": \"0x64\", \"extraData\": \"0x\", \"gasLimit\": \"0x2faf080\",\n"
        "  \"difficulty\": \"0x0\", \"mixHash\": \"0x0000000000000000000000000000000000000000000000000000000000000011\",\n"
        "  \"coinbase\": \"0x0000000000000000000000000000000000000c0b\", \"excessBlobGas\": \"0x0\",\n"
        "  \"alloc\": {\n"
        "    \"70997970c51812dc3a010c7d01b50e0d17dc79c8\": {\"balance\": \"0xd3c21bcecceda1000000\"},\n"
        "    \"0x4242424242424242424242424242424242424242\": {\"balance\": \"0\", \"code\": \"0x60016000f3\",\n"
        "      \"storage\": {\"0x0000000000000000000000000000000000000000000000000000000000000000\":\n"
        "        \"0x0000000000000000000000000000000000000000000000000000000000000001\"}}\n"
        "  },\n"
        "  \"number\": \"0x0\", \"gasUsed\": \"0x0\",\n"
        "  \"parentHash\": \"0x0000000000000000000000000000000000000000000000000000000000000000\"\n"
        "}\n";
    char *gpath = (char *)tmp_path("genesis.json");
    write_file(gpath, genesis, strlen(genesis));
    char *db_path = (char *)tmp_path("g.db");
    char *init[] = {"init", "--db", db_path, "--chain", gpath, NULL};
    char err[2048];
    ck_assert_msg(run_command(cmd_init, init, err, sizeof err) == 0, "%s", err);
    db d = db_open(db_path, STORE_OPEN_EXISTING);
    store_error e;
    chain_config cfg;
    ck_assert(store_get_chain_config(d.c, &cfg, &e));
    ck_assert_uint_eq(cfg.chain_id, 31337);
    ck_assert_uint_eq(cfg.activation[FORK_PARIS], 0);
    ck_assert_uint_eq(cfg.activation[FORK_PRAGUE], 1000);
    ck_assert(cfg.by_timestamp[FORK_PRAGUE]);
    ck_assert_uint_eq(cfg.activation[FORK_OSAKA], UINT64_MAX);
    block_env head;
    ck_assert(store_get_head(d.c, &head, &e));
    ck_assert_uint_eq(head.timestamp, 100);
    ck_assert_uint_eq(head.gas_limit, 50000000);
    ck_assert_uint_eq(head.base_fee.w[0], 1000000000); /* London at genesis, no baseFeePerGas */
    ck_assert_uint_eq(head.prevrandao.b[31], 0x11);
    ck_assert_uint_eq(head.coinbase.b[18], 0x0c);
    ck_assert_uint_eq(head.blob_max_per_block, 6); /* Cancun at timestamp 100 */
    uint64_t accounts, slots, code_bytes;
    ck_assert(store_counts(d.c, &accounts, &slots, &code_bytes, &e));
    ck_assert_uint_eq(accounts, 2);
    ck_assert_uint_eq(slots, 1);
    ck_assert_uint_eq(code_bytes, 5);
    db_close(&d);
    /* Importing it again into that database is fine; into a dev database
     * (chain id 1337) it is refused. */
    char *import[] = {"import", "--db", db_path, "--quiet", gpath, NULL};
    ck_assert_msg(run_command(cmd_import, import, err, sizeof err) == 0, "%s", err);
    char *dev_db = (char *)tmp_path("dev.db");
    char *init_dev[] = {"init", "--db", dev_db, NULL};
    ck_assert_int_eq(run_command(cmd_init, init_dev, err, sizeof err), 0);
    char *import_dev[] = {"import", "--db", dev_db, "--quiet", gpath, NULL};
    expect_command_error(cmd_import, import_dev, "chain id 31337");
    /* A genesis without config cannot start a chain; nothing is left behind. */
    char *bad = (char *)tmp_path("bad-genesis.json");
    const char *no_config = "{\"alloc\": {}}";
    write_file(bad, no_config, strlen(no_config));
    char *bad_db = (char *)tmp_path("bad.db");
    char *init_bad[] = {"init", "--db", bad_db, "--chain", bad, NULL};
    expect_command_error(cmd_init, init_bad, "chainId");
    struct stat sb;
    ck_assert_int_ne(stat(bad_db, &sb), 0);
}
END_TEST

/* Every fixture's pre state imported into SQLite has the root the
 * in-memory state computes, and every post state the root the fixture
 * records. States that occur more than once are checked once. */

/* A set of hashes (linear probing), TRIE_EMPTY_ROOT marking empty slots
 * (the empty root itself, a possible key, is kept apart). */
typedef struct {
    hash32 *slots;
    size_t cap, count;
    bool has_empty_root;
} seen_set;

static bool seen_add(seen_set *s, const hash32 *h)
{
    if (memcmp(h->b, TRIE_EMPTY_ROOT.b, 32) == 0) {
        bool fresh = !s->has_empty_root;
        s->has_empty_root = true;
        return fresh;
    }
    if ((s->count + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        hash32 *slots = xmalloc(cap * sizeof(hash32));
        for (size_t i = 0; i < cap; i++) slots[i] = TRIE_EMPTY_ROOT;
        for (size_t i = 0; i < s->cap; i++) {
            if (memcmp(s->slots[i].b, TRIE_EMPTY_ROOT.b, 32) == 0) continue;
            size_t j;
            memcpy(&j, s->slots[i].b, sizeof j);
            for (j &= cap - 1; memcmp(slots[j].b, TRIE_EMPTY_ROOT.b, 32) != 0; j = (j + 1) & (cap - 1)) {}
            slots[j] = s->slots[i];
        }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    size_t j;
    memcpy(&j, h->b, sizeof j);
    for (j &= s->cap - 1; memcmp(s->slots[j].b, TRIE_EMPTY_ROOT.b, 32) != 0; j = (j + 1) & (s->cap - 1))
        if (memcmp(s->slots[j].b, h->b, 32) == 0) return false;
    s->slots[j] = *h;
    s->count++;
    return true;
}

START_TEST(test_fixture_roots)
{
    const char *dir = test_fixtures();
    char *paths[] = {(char *)dir};
    file_list files;
    hj_error herr;
    ck_assert_msg(collect_json_files(paths, 1, NULL, &files, &herr), "%s", herr.msg);
    ck_assert_uint_gt(files.count, 0);
    /* Under the sanitizers every 3rd file, to stay within time. */
    size_t step = SANITIZED ? 3 : 1;
    db d = db_new_dev(tmp_path("fx.db"));
    seen_set seen_pre = {0}, seen_post = {0};
    size_t cases = 0, pre_checked = 0, post_checked = 0;
    for (size_t fi = 0; fi < files.count; fi += step) {
        size_t len;
        char *text = read_file(files.paths[fi], &len);
        json_error_t jerr;
        json_t *doc = json_loadb(text, len, 0, &jerr);
        ck_assert_msg(doc != NULL, "%s: %s", files.paths[fi], jerr.text);
        const char *name;
        json_t *tc;
        json_object_foreach(doc, name, tc) {
            cases++;
            json_t *pre = json_object_get(tc, "pre");
            char *canon = json_dumps(pre, JSON_COMPACT | JSON_SORT_KEYS);
            hash32 key;
            keccak256(canon, strlen(canon), key.b);
            free(canon);
            store_error err;
            import_stats st;
            if (seen_add(&seen_pre, &key)) {
                memstate *m = memstate_new();
                ck_assert_msg(st_load_pre(pre, m, &herr), "%s: %s", files.paths[fi], herr.msg);
                hash32 want;
                memstate_root(m, &want);
                memstate_free(m);
                import_options o = {.case_name = name, .replace = true};
                ck_assert_msg(alloc_import_text(d.c, files.paths[fi], text, len, &o, &st, &err), "%s", err.msg);
                hash32 got = db_root(d.c);
                ck_assert_msg(memcmp(got.b, want.b, 32) == 0, "%s %s: pre root %s, in memory %s", files.paths[fi],
                              name, hash_hex(&got), hash_hex(&want));
                pre_checked++;
            }
            const char *fork;
            json_t *entries;
            json_object_foreach(json_object_get(tc, "post"), fork, entries) {
                size_t idx;
                json_t *entry;
                json_array_foreach(entries, idx, entry) {
                    hash32 want;
                    const char *h = json_string_value(json_object_get(entry, "hash"));
                    if (!h || !json_object_get(entry, "state") || !hex_to_hash(h, &want)) continue;
                    if (!seen_add(&seen_post, &want)) continue;
                    import_options o = {.case_name = name, .replace = true, .post_fork = fork, .post_index = idx};
                    ck_assert_msg(alloc_import_text(d.c, files.paths[fi], text, len, &o, &st, &err), "%s", err.msg);
                    hash32 got = db_root(d.c);
                    ck_assert_msg(memcmp(got.b, want.b, 32) == 0, "%s %s %s[%zu]: post root %s, fixture %s",
                                  files.paths[fi], name, fork, idx, hash_hex(&got), hash_hex(&want));
                    post_checked++;
                }
            }
        }
        json_decref(doc);
        free(text);
    }
    printf("test_fixture_roots: %zu files%s, %zu cases: %zu distinct pre states and %zu distinct post states match\n",
           (files.count + step - 1) / step, SANITIZED ? " (every 3rd under sanitizers)" : "", cases, pre_checked,
           post_checked);
    ck_assert_uint_gt(pre_checked, 0);
    ck_assert_uint_gt(post_checked, 0);
    free(seen_pre.slots);
    free(seen_post.slots);
    file_list_free(&files);
    db_close(&d);
}
END_TEST

/* dump -> import into a fresh database -> dump gives the same bytes, for
 * fixture states, the dev chain, and a generated state with code. */
static void check_round_trip(store_conn *src, const char *what)
{
    size_t len1, len2;
    char *first = dump_to_string(src, NULL, &len1);
    hash32 root = db_root(src);
    char path[600];
    static int counter;
    snprintf(path, sizeof path, "%s/rt-%d.db", tmp_dir, counter++);
    db d = db_open(path, STORE_OPEN_CREATE);
    store_error err;
    import_stats st;
    ck_assert_msg(alloc_import_text(d.c, "dump.json", first, len1, NULL, &st, &err), "%s: %s", what, err.msg);
    char *second = dump_to_string(d.c, NULL, &len2);
    ck_assert_msg(len1 == len2 && memcmp(first, second, len1) == 0, "%s: the dumps differ (%zu and %zu bytes)", what,
                  len1, len2);
    ck_assert_hash_eq(db_root(d.c), root);
    free(first);
    free(second);
    db_close(&d);
}

START_TEST(test_dump_import_round_trip)
{
    db d = db_new_dev(tmp_path("dev.db"));
    check_round_trip(d.c, "dev");
    size_t len;
    char *one = dump_to_string(d.c, NULL, &len);
    ck_assert(strstr(one, DEV_ACCOUNT_ADDRESS));
    free(one);
    /* A single account, same format. */
    address dev;
    ck_assert(hex_to_address(DEV_ACCOUNT_ADDRESS, &dev));
    char *single = dump_to_string(d.c, &dev, &len);
    char *all = dump_to_string(d.c, NULL, &len);
    /* The dev chain holds its system contracts too: the single account's
     * dump is the full dump's entry for it, alone. */
    json_t *single_doc = json_loads(single, 0, NULL), *all_doc = json_loads(all, 0, NULL);
    ck_assert(single_doc && all_doc);
    ck_assert_uint_eq(json_object_size(single_doc), 1);
    ck_assert(json_equal(json_object_get(single_doc, DEV_ACCOUNT_ADDRESS), json_object_get(all_doc, DEV_ACCOUNT_ADDRESS)));
    ck_assert(json_object_get(single_doc, DEV_ACCOUNT_ADDRESS) != NULL);
    json_decref(single_doc);
    json_decref(all_doc);
    free(single);
    free(all);
    /* Generated: code, big and small values, nonces up to 2^64-1. */
    store_error err;
    import_stats st;
    alloc_gen g = {.seed = 5, .accounts = 2000, .slots = 20000};
    char *buf = NULL;
    size_t buf_len;
    FILE *f = open_memstream(&buf, &buf_len);
    ck_assert(alloc_gen_run(&g, f, NULL));
    fclose(f);
    import_options replace = {.replace = true};
    ck_assert_msg(alloc_import_text(d.c, "gen.json", buf, buf_len, &replace, &st, &err), "%s", err.msg);
    free(buf);
    address top = test_address_n(0xfff);
    ck_assert(store_set_nonce(d.c, &top, UINT64_MAX, &err));
    check_round_trip(d.c, "generated");
    db_close(&d);
}
END_TEST

/* The same for fixture states (a spread of files). */
START_TEST(test_fixture_dump_import_round_trip)
{
    const char *dir = test_fixtures();
    db d = db_new_dev(tmp_path("dev.db"));
    store_error err;
    import_stats st;
    char *paths[] = {(char *)dir};
    file_list files;
    hj_error herr;
    ck_assert(collect_json_files(paths, 1, NULL, &files, &herr));
    size_t checked = 0;
    for (size_t i = 0; i < files.count; i += 40) {
        size_t n;
        char *text = read_file(files.paths[i], &n);
        json_t *doc = json_loadb(text, n, 0, NULL);
        ck_assert_ptr_nonnull(doc);
        const char *name = json_object_iter_key(json_object_iter(doc));
        import_options o = {.case_name = name, .replace = true};
        ck_assert_msg(alloc_import_text(d.c, files.paths[i], text, n, &o, &st, &err), "%s", err.msg);
        check_round_trip(d.c, files.paths[i]);
        checked++;
        json_decref(doc);
        free(text);
    }
    printf("test_fixture_dump_import_round_trip: %zu fixture states round-trip byte for byte\n", checked);
    ck_assert_uint_gt(checked, 0);
    file_list_free(&files);
    db_close(&d);
}
END_TEST

/* ---- the big one ---------------------------------------------------------- */

static void gen_to_memstate_account(void *ctx, const address *a, uint64_t nonce, const u256 *balance,
                                    const uint8_t *code, size_t code_len)
{
    memstate_put_account(ctx, a, nonce, balance, code, code_len);
}

static void gen_to_memstate_slot(void *ctx, const address *a, const u256 *key, const u256 *value)
{
    memstate_put_storage(ctx, a, key, value);
}

START_TEST(test_large_import)
{
    /* 100,000 accounts and 1,000,000 slots (a quarter under sanitizers). */
    alloc_gen g = {.seed = 42, .accounts = SANITIZED ? 25000 : 100000, .slots = SANITIZED ? 250000 : 1000000};
    const char *json = tmp_path("big.json");
    FILE *f = fopen(json, "w");
    ck_assert_ptr_nonnull(f);
    memstate *m = memstate_new();
    alloc_gen_sink sink = {m, gen_to_memstate_account, gen_to_memstate_slot};
    ck_assert(alloc_gen_run(&g, f, &sink));
    ck_assert_int_eq(fclose(f), 0);
    hash32 want;
    memstate_root(m, &want);
    memstate_free(m);

    db d = db_open(tmp_path("big.db"), STORE_OPEN_CREATE);
    store_error err;
    import_stats st;
    double t0 = monotonic_seconds();
    ck_assert_msg(alloc_import_file(d.c, json, NULL, &st, &err), "%s", err.msg);
    double import_s = monotonic_seconds() - t0;
    ck_assert_uint_eq(st.accounts, g.accounts);
    ck_assert_uint_eq(st.slots, g.slots);
    t0 = monotonic_seconds();
    hash32 got = db_root(d.c);
    double root_s = monotonic_seconds() - t0;
    ck_assert_hash_eq(got, want);
    uint64_t accounts, slots;
    ck_assert(store_counts(d.c, &accounts, &slots, NULL, &err));
    ck_assert_uint_eq(accounts, g.accounts);
    ck_assert_uint_eq(slots, g.slots);
    /* Spot reads of what was generated. */
    state_backend b = store_backend(d.c);
    for (uint64_t i = 0; i < g.accounts; i += 997) {
        address a = alloc_gen_address(&g, i);
        account_info info;
        ck_assert(b.get_account(b.ctx, &a, &info));
        uint64_t n = alloc_gen_slot_count(&g, i);
        if (n) {
            u256 key = alloc_gen_slot_key(&g, i, n - 1), v;
            b.get_storage(b.ctx, &a, &key, &v);
            ck_assert(!u256_is_zero(&v));
        }
    }
    printf("test_large_import: %" PRIu64 " accounts, %" PRIu64 " slots: import %.2f s (%.0f accounts/s, %.0f slots/s),"
           " root %.2f s\n",
           g.accounts, g.slots, import_s, (double)g.accounts / import_s, (double)g.slots / import_s, root_s);
    db_close(&d);
}
END_TEST

/* SIGKILL at several moments of a large import: afterwards the database
 * opens, passes SQLite's integrity check, and holds either the state from
 * before the import or the complete import, never a part. */
START_TEST(test_kill_during_import)
{
    alloc_gen g = {.seed = 9, .accounts = SANITIZED ? 4000 : 15000, .slots = SANITIZED ? 40000 : 150000};
    const char *json = tmp_path("crash.json");
    FILE *f = fopen(json, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert(alloc_gen_run(&g, f, NULL));
    ck_assert_int_eq(fclose(f), 0);
    /* The two legal outcomes, and how long an import takes. */
    const char *ref = tmp_path("ref.db");
    db d = db_new_dev(ref);
    hash32 before = db_root(d.c);
    store_error err;
    import_stats st;
    double t0 = monotonic_seconds();
    ck_assert_msg(alloc_import_file(d.c, json, NULL, &st, &err), "%s", err.msg);
    double duration = monotonic_seconds() - t0;
    hash32 after = db_root(d.c);
    db_close(&d);

    static const double at[] = {0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 1.05, 1.3};
    int untouched = 0, complete = 0, killed_midway = 0;
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/crash-%zu.db", tmp_dir, i);
        d = db_new_dev(path);
        db_close(&d); /* no connection may cross the fork */
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            store_error e;
            import_stats s2;
            store *s = store_open(path, STORE_OPEN_EXISTING, &e);
            store_conn *c = s ? store_connect(s, &e) : NULL;
            bool ok = c && alloc_import_file(c, json, NULL, &s2, &e);
            _exit(ok ? 0 : 1);
        }
        struct timespec pause = {(time_t)(at[i] * duration), (long)((at[i] * duration - (double)(time_t)(at[i] * duration)) * 1e9)};
        /* Opening the database in the child takes a moment too. */
        nanosleep(&pause, NULL);
        kill(pid, SIGKILL);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        bool killed = WIFSIGNALED(status);
        ck_assert_msg(killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0), "child status %d", status);
        sqlite3 *raw = raw_open(path);
        char check[64];
        ck_assert_str_eq(raw_text(raw, "PRAGMA integrity_check", check, sizeof check), "ok");
        sqlite3_close(raw);
        d = db_open(path, STORE_OPEN_EXISTING);
        hash32 root = db_root(d.c);
        bool is_before = memcmp(root.b, before.b, 32) == 0, is_after = memcmp(root.b, after.b, 32) == 0;
        ck_assert_msg(is_before || is_after, "kill at %.2f of the import: root %s is neither before %s nor after %s",
                      at[i], hash_hex(&root), hash_hex(&before), hash_hex(&after));
        untouched += is_before;
        complete += is_after;
        killed_midway += killed && is_before;
        if (is_before && untouched == 1) { /* the import can simply be run again */
            ck_assert_msg(alloc_import_file(d.c, json, NULL, &st, &err), "%s", err.msg);
            hash32 redo = db_root(d.c);
            ck_assert_hash_eq(redo, after);
        }
        db_close(&d);
    }
    printf("test_kill_during_import: import of %" PRIu64 " slots takes %.2f s; %zu kills: %d left the state untouched"
           " (%d of them mid-import), %d found it complete\n",
           g.slots, duration, sizeof at / sizeof at[0], untouched, killed_midway, complete);
    ck_assert_int_gt(killed_midway, 0);
}
END_TEST

int main(void)
{
    return TEST_RUN("store",
        {.name = "schema", .setup = make_tmp_dir, .teardown = remove_tmp_dir,
         .tests = TESTS(test_create_and_reopen, test_migrations_in_order,
            test_refuses_newer_and_foreign, test_bad_files, test_readonly_directory)},
        {.name = "store", .setup = make_tmp_dir, .teardown = remove_tmp_dir,
         .tests = TESTS(test_backend_and_sink, test_transactions_all_or_nothing, test_one_call_helpers,
            test_builtin_chains, test_chain_config_and_head, test_programs,
            test_reads_never_block_on_the_writer, test_concurrent_snapshots)},
        {.name = "import", .timeout = 600, .setup = make_tmp_dir, .teardown = remove_tmp_dir,
         .tests = TESTS(test_import_formats, test_bad_inputs,
            test_mutated_inputs, test_commands, test_genesis_init, test_dump_import_round_trip,
            test_large_import, test_kill_during_import),
         .fixture_tests = TESTS(test_fixture_dump_import_round_trip, test_fixture_roots)});
}
