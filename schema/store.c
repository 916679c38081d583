/* The SQLite store. See store.h for the contract and
 * schema/migrations/NNN_*.sql for the tables and why they are encoded the
 * way they are.
 *
 * Concurrency: one sqlite3 connection per store_conn, opened without
 * SQLite's mutexes (a connection is only used by the thread that owns it).
 * WAL journal: readers never wait for the writer and see the last commit;
 * writers take the write lock up front (BEGIN IMMEDIATE) and wait for each
 * other up to the busy timeout. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/keccak.h"
#include "base/params.h"
#include "migrations.h"
#include "base/rlp.h"
#include "base/trie.h"
#include "trie_store.h"

#define APPLICATION_ID 0x4A45564D /* "JEVM", set by 001_state.sql */
#define BUSY_TIMEOUT_MS 10000
/* Page cache per connection, in KiB (PRAGMA cache_size takes it negated).
 * A bulk import of 1M slots ran 7% slower with 16 MiB and no faster with
 * 256 MiB; each worker thread has one, so it stays moderate. */
#define CACHE_KIB 65536
/* No memory-mapped I/O: warm reads were no faster with it (measured with
 * `jitevm bench-store`), and a cold read took 12-20 ms instead of 0.2-0.3 ms,
 * the page faults pulling in far more of the file than the few pages a
 * b-tree lookup needs. */
#define MMAP_BYTES 0
/* The WAL file is cut back to this after a checkpoint (a big import
 * grows it to the size of the import). */
#define WAL_LIMIT_BYTES ((sqlite3_int64)64 << 20)
/* Hot accounts per connection (a direct-mapped cache: a slot holds the last
 * account that hashed to it). */
#define ACCOUNT_CACHE_SLOTS 8192
/* Hot storage slots per connection, alike: a warm call's SLOAD is then a
 * hash and a compare, not a b-tree lookup (about 9,000 instructions). */
#define SLOT_CACHE_SLOTS 4096

/* ------------------------------------------------------------- errors */

bool store_fail(store_error *err, const char *fmt, ...)
{
    if (!err) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    /* One line: a SQLite message never has a newline, but a path could. */
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    return false;
}

/* SQLite's message, with the OS error when there is one ("unable to open
 * database file" alone does not say why). */
static bool fail_db(store_error *err, sqlite3 *db, const char *what)
{
    int code = sqlite3_errcode(db);
    int sys = sqlite3_system_errno(db);
    const char *msg = sqlite3_errmsg(db);
    if (code == SQLITE_NOTADB) return store_fail(err, "%s: not a SQLite database", what);
    if (code == SQLITE_CORRUPT) return store_fail(err, "%s: the database is corrupt (%s)", what, msg);
    if (code == SQLITE_READONLY && (sqlite3_extended_errcode(db) == SQLITE_READONLY_CANTINIT ||
                                    sqlite3_extended_errcode(db) == SQLITE_READONLY_DIRECTORY ||
                                    sqlite3_extended_errcode(db) == SQLITE_READONLY_CANTLOCK))
        return store_fail(err, "%s: %s (WAL mode needs write access to the database's directory for its -wal and "
                    "-shm files)", what, msg);
    if (sys && (code == SQLITE_CANTOPEN || code == SQLITE_IOERR || code == SQLITE_READONLY || code == SQLITE_FULL))
        return store_fail(err, "%s: %s (%s)", what, msg, strerror(sys));
    return store_fail(err, "%s: %s", what, msg);
}

/* -------------------------------------------------------- statements */

enum stmt_id {
    ST_GET_ACCOUNT,
    ST_GET_CODE,
    ST_GET_STORAGE,
    ST_HAS_STORAGE,
    ST_GET_BLOCK_HASH,
    ST_PUT_ACCOUNT,
    ST_DELETE_ACCOUNT,
    ST_DELETE_ACCOUNT_STORAGE,
    ST_PUT_STORAGE,
    ST_DELETE_SLOT,
    ST_PUT_CODE,
    ST_GET_CHAIN,
    ST_GET_FORKS,
    ST_PUT_CHAIN,
    ST_CLEAR_FORKS,
    ST_PUT_FORK,
    ST_SET_BLOB_SCHEDULE,
    ST_GET_BLOB_SCHEDULE,
    ST_GET_HEAD,
    ST_PUT_HEAD,
    ST_GET_HEAD_USAGE,
    ST_SET_HEAD_USAGE,
    ST_PUT_BLOCK_HASH,
    ST_PRUNE_BLOCK_HASHES,
    ST_DROP_BLOCK_HASHES_FROM,
    ST_FIND_BLOCK_HASH,
    ST_CLEAR_BLOB_FORKS,
    ST_LIVE_ABSENT,
    ST_LIVE_ZERO,
    ST_LIVE_HAS_STORAGE,
    ST_LIVE_CALL_READS,
    ST_PUT_BLOB_FORK,
    ST_GET_BLOB_FORKS,
    ST_GET_BLOB_FORK_AT,
    ST_PUT_PROGRAM,
    ST_GET_PROGRAM,
    ST_GET_PROGRAM_ROW,
    ST_HAS_CODE,
    ST_BEGIN_READ,
    ST_BEGIN_WRITE,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_DATA_VERSION,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_GET_ACCOUNT] = "SELECT nonce, balance, code_hash FROM account WHERE address = ?1",
    [ST_GET_CODE] = "SELECT code FROM code WHERE hash = ?1",
    [ST_GET_STORAGE] = "SELECT value FROM storage WHERE address = ?1 AND slot = ?2",
    [ST_HAS_STORAGE] = "SELECT 1 FROM storage WHERE address = ?1 LIMIT 1",
    [ST_GET_BLOCK_HASH] = "SELECT hash FROM block_hash WHERE number = ?1",
    [ST_PUT_ACCOUNT] = "INSERT OR REPLACE INTO account (address, nonce, balance, code_hash) VALUES (?1, ?2, ?3, ?4)",
    [ST_DELETE_ACCOUNT] = "DELETE FROM account WHERE address = ?1",
    [ST_DELETE_ACCOUNT_STORAGE] = "DELETE FROM storage WHERE address = ?1",
    [ST_PUT_STORAGE] = "INSERT OR REPLACE INTO storage (address, slot, value) VALUES (?1, ?2, ?3)",
    [ST_DELETE_SLOT] = "DELETE FROM storage WHERE address = ?1 AND slot = ?2",
    [ST_PUT_CODE] = "INSERT OR IGNORE INTO code (hash, code) VALUES (?1, ?2)",
    [ST_GET_CHAIN] = "SELECT chain_id FROM chain WHERE id = 1",
    [ST_GET_FORKS] = "SELECT fork, activation, by_timestamp FROM chain_fork",
    [ST_PUT_CHAIN] = "INSERT OR REPLACE INTO chain (id, chain_id) VALUES (1, ?1)",
    [ST_CLEAR_FORKS] = "DELETE FROM chain_fork",
    [ST_PUT_FORK] = "INSERT INTO chain_fork (fork, activation, by_timestamp) VALUES (?1, ?2, ?3)",
    [ST_SET_BLOB_SCHEDULE] = "UPDATE chain_fork SET blob_target = ?2, blob_max = ?3, blob_update_fraction = ?4 "
                             "WHERE fork = ?1",
    [ST_GET_BLOB_SCHEDULE] = "SELECT blob_target, blob_max, blob_update_fraction FROM chain_fork WHERE fork = ?1",
    [ST_GET_HEAD] = "SELECT number, timestamp, gas_limit, coinbase, difficulty, prevrandao, base_fee, "
                    "excess_blob_gas FROM head WHERE id = 1",
    [ST_PUT_HEAD] = "INSERT OR REPLACE INTO head (id, number, timestamp, gas_limit, coinbase, difficulty, "
                    "prevrandao, base_fee, excess_blob_gas) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_GET_HEAD_USAGE] = "SELECT number, gas_used, blob_gas_used FROM head WHERE id = 1",
    [ST_SET_HEAD_USAGE] = "UPDATE head SET gas_used = ?1, blob_gas_used = ?2 WHERE id = 1",
    [ST_PUT_BLOCK_HASH] = "INSERT OR REPLACE INTO block_hash (number, hash) VALUES (?1, ?2)",
    [ST_PRUNE_BLOCK_HASHES] = "DELETE FROM block_hash WHERE number < ?1",
    [ST_DROP_BLOCK_HASHES_FROM] = "DELETE FROM block_hash WHERE number >= ?1",
    [ST_FIND_BLOCK_HASH] = "SELECT number FROM block_hash WHERE hash = ?1 ORDER BY number DESC LIMIT 1",
    [ST_CLEAR_BLOB_FORKS] = "DELETE FROM chain_blob_fork",
    [ST_LIVE_ABSENT] = "SELECT 1 FROM live_absent_account WHERE address = ?1",
    [ST_LIVE_ZERO] = "SELECT 1 FROM live_zero_slot WHERE address = ?1 AND slot = ?2",
    [ST_LIVE_HAS_STORAGE] = "SELECT 1 FROM live_has_storage WHERE address = ?1",
    [ST_LIVE_CALL_READS] = "SELECT keys FROM live_call_reads WHERE target = ?1 AND selector = ?2",
    [ST_PUT_BLOB_FORK] = "INSERT OR REPLACE INTO chain_blob_fork (name, activation, blob_target, blob_max, "
                         "blob_update_fraction) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_GET_BLOB_FORKS] = "SELECT name, activation, blob_target, blob_max, blob_update_fraction "
                          "FROM chain_blob_fork ORDER BY activation, name",
    [ST_GET_BLOB_FORK_AT] = "SELECT name, activation, blob_target, blob_max, blob_update_fraction "
                            "FROM chain_blob_fork WHERE activation <= ?1 ORDER BY activation DESC, name DESC LIMIT 1",
    [ST_PUT_PROGRAM] = "INSERT OR REPLACE INTO program (code_hash, compiler_version, target, blob, tag) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_GET_PROGRAM] = "SELECT blob, tag FROM program WHERE code_hash = ?1 AND compiler_version = ?2 AND target = ?3",
    [ST_GET_PROGRAM_ROW] = "SELECT rowid, tag FROM program WHERE code_hash = ?1 AND compiler_version = ?2 AND target = ?3",
    [ST_HAS_CODE] = "SELECT 1 FROM code WHERE hash = ?1",
    [ST_BEGIN_READ] = "BEGIN",
    [ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_DATA_VERSION] = "PRAGMA data_version",
};

/* ------------------------------------------------------------- caches */

typedef struct {
    bool used;
    bool exists;
    address addr;
    account_info info;
} cached_account;

typedef struct {
    bool used;
    address addr;
    u256 key, value;
} cached_slot;

struct store {
    char *path;
    int flags;
    store_fetcher fetcher; /* live mode when fetcher.account is set */
    /* Live mode: the one connection fetched values (and call records) are
     * written through, opened with the fetcher: a reader's snapshot is left
     * alone, and a first cold call does not pay for opening it. Its
     * transactions are serialized by live_lock. */
    sqlite3 *live_db;
    pthread_mutex_t live_lock;
    _Atomic uint64_t live_hits[LIVE_KIND_COUNT], live_misses[LIVE_KIND_COUNT];
    _Atomic uint64_t live_stale; /* fetched values not cached: the pin moved meanwhile */
    /* Read snapshots (one per call) that fetched, and their fetches. */
    _Atomic uint64_t live_snapshots_fetching, live_snapshot_fetches;
    _Atomic uint64_t live_prefetches, live_prefetched_keys;
    /* Kept open for the store's lifetime, so that the WAL and its index are
     * not torn down and rebuilt each time the last worker disconnects. */
    sqlite3 *keepalive;
};

struct store_conn {
    store *s;
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    /* The state trie's view, kept with its prepared statements between
     * uses (store_trie_view / store_trie_view_done). */
    struct trie_view *trie_cached;
    bool in_write; /* between store_begin and store_commit/rollback */
    bool in_read;  /* between store_read_begin and store_read_end */
    bool wrote;    /* this write transaction changed state (clears the cache at commit) */
    /* The first error inside a backend or sink callback. */
    bool failed;
    store_error error;

    /* The last code read: the backend contract lets the caller copy it
     * before the next call (the core's code cache holds code by hash). */
    bytebuf code_buf;

    cached_account *accounts; /* ACCOUNT_CACHE_SLOTS */
    cached_slot *slots;       /* SLOT_CACHE_SLOTS; cleared with the accounts */
    bool accounts_filled;     /* an entry (account or slot) was filled since the last clear */
    sqlite3_int64 data_version;
    uint64_t epoch; /* store_snapshot_epoch: bumped by a new data_version and by own commits */
    /* Kept snapshots (store_keep_snapshots). `parked`: the read transaction
     * is still open after store_read_end. `wal_change` points at the change
     * counter of the WAL index header (in the shared memory SQLite maps),
     * NULL until found (or when there is none: no kept snapshots);
     * `snapshot_change` is its value read just before the snapshot began,
     * so any commit since makes them differ. */
    bool keep_snapshots, parked, wal_change_looked;
    const volatile uint32_t *wal_change;
    uint32_t snapshot_change;
    uint64_t snapshot_ns; /* when the kept snapshot began (monotonic_coarse_ns: its age is in hundreds of ms) */
    /* Code fetched during the current read snapshot, which cannot see it in
     * SQLite yet (it was committed through the store's live_db). */
    struct live_code {
        hash32 hash;
        bytebuf code;
    } *live_codes;
    size_t n_live_codes;
    /* Accounts fetched in this snapshot whose storage is not empty (the
     * snapshot cannot see their live_has_storage rows). */
    address *live_with_storage;
    size_t n_live_with_storage;
    unsigned live_fetches; /* upstream fetches (one round trip each) in this snapshot */
    atomic_int *defer_fetches; /* store_defer_fetches */
    bool live_at_known;    /* live_at read in this snapshot */
    hash32 live_at;     /* the pinned block this snapshot sees */
    unsigned live_pending_trips; /* round trips made for the coming call before its snapshot (prefetch) */
    /* The keys a call reads (store_live_record_begin .. _end). */
    struct {
        bool on, fetched, replace;
        address target;
        uint8_t selector[4];
        size_t selector_len;
        store_live_key *keys;
        size_t n, cap;
    } rec;
    /* What the cache held before the block being applied changed it: the
     * first note of each key (undo_entry), found again through an open-
     * addressing index (entry number + 1; 0 empty; a power of two). */
    bool undo_on;
    struct undo_entry *undo;
    size_t undo_n, undo_cap;
    uint32_t *undo_index;
    size_t undo_index_cap;
};

static void live_codes_clear(store_conn *c)
{
    free(c->live_with_storage);
    c->live_with_storage = NULL;
    c->n_live_with_storage = 0;
    for (size_t i = 0; i < c->n_live_codes; i++) bytebuf_free(&c->live_codes[i].code);
    free(c->live_codes);
    c->live_codes = NULL;
    c->n_live_codes = 0;
}

/* --------------------------------------------------------- encodings */

/* Minimal big-endian bytes of a u256 (empty for zero). */
static unsigned u256_to_min_be(const u256 *v, uint8_t out[32])
{
    uint8_t full[32];
    u256_store_be(full, v);
    unsigned n = u256_byte_length(v);
    memcpy(out, full + 32 - n, n);
    return n;
}

static bool column_u256(sqlite3_stmt *st, int col, u256 *out)
{
    int n = sqlite3_column_bytes(st, col);
    const uint8_t *p = sqlite3_column_blob(st, col);
    if (n < 0 || n > 32 || (n > 0 && !p)) return false;
    *out = n ? u256_load_be_n(p, (unsigned)n) : u256_zero();
    return true;
}

static bool column_fixed(sqlite3_stmt *st, int col, uint8_t *out, int len)
{
    if (sqlite3_column_bytes(st, col) != len) return false;
    const void *p = sqlite3_column_blob(st, col);
    if (!p) return false;
    memcpy(out, p, (size_t)len);
    return true;
}

/* Unsigned 64-bit values live in INTEGERs bit for bit (see 001_state.sql). */
static uint64_t column_u64(sqlite3_stmt *st, int col)
{
    return (uint64_t)sqlite3_column_int64(st, col);
}

static int bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    return sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

static int bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    /* SQLITE_TRANSIENT copies: the callers' buffers are often stack locals. */
    return sqlite3_bind_blob(st, i, n ? p : "", (int)n, SQLITE_TRANSIENT);
}

static int bind_u256(sqlite3_stmt *st, int i, const u256 *v)
{
    uint8_t be[32];
    unsigned n = u256_to_min_be(v, be);
    return bind_blob(st, i, be, n);
}

/* -------------------------------------------------------- fork names */

/* Stable names in the database, independent of the engine's fork order.
 * A new fork needs its name here. */
static const char *const fork_db_names[] = {
    [FORK_FRONTIER] = "frontier",
    [FORK_HOMESTEAD] = "homestead",
    [FORK_TANGERINE_WHISTLE] = "tangerine_whistle",
    [FORK_SPURIOUS_DRAGON] = "spurious_dragon",
    [FORK_BYZANTIUM] = "byzantium",
    [FORK_CONSTANTINOPLE] = "constantinople",
    [FORK_PETERSBURG] = "petersburg",
    [FORK_ISTANBUL] = "istanbul",
    [FORK_BERLIN] = "berlin",
    [FORK_LONDON] = "london",
    [FORK_PARIS] = "paris",
    [FORK_SHANGHAI] = "shanghai",
    [FORK_CANCUN] = "cancun",
    [FORK_PRAGUE] = "prague",
    [FORK_OSAKA] = "osaka",
};
_Static_assert(sizeof fork_db_names / sizeof fork_db_names[0] == FORK_COUNT,
               "every fork needs a database name in fork_db_names");

const char *store_fork_db_name(enum fork f)
{
    return (f >= 0 && f < FORK_COUNT) ? fork_db_names[f] : NULL;
}

int store_fork_from_db_name(const char *name)
{
    for (int f = 0; f < FORK_COUNT; f++)
        if (strcmp(fork_db_names[f], name) == 0) return f;
    return -1;
}

/* ------------------------------------------------------- open, migrate */

int store_schema_version(void)
{
    return store_migration_count;
}

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* SQLite's own message for a file it cannot create names no reason
 * ("unable to open database file"); the directory tells. */
static bool check_directory(const char *path, store_error *err)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, sizeof dir, ".");
    } else if (slash == path) {
        snprintf(dir, sizeof dir, "/");
    } else {
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    }
    if (access(dir, W_OK | X_OK) != 0)
        return store_fail(err, "%s: cannot create the database: %s: %s", path, dir, strerror(errno));
    return true;
}

/* What SQLite would only notice at the first read of a missing page: the
 * file is not SQLite at all, or is shorter than its header says. */
static bool check_file(const char *path, int flags, bool *exists, store_error *err)
{
    struct stat st;
    *exists = false;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT && (flags & STORE_OPEN_CREATE)) return check_directory(path, err);
        if (errno == ENOENT) return store_fail(err, "%s: no such database (create one with 'jitevm init')", path);
        return store_fail(err, "%s: %s", path, strerror(errno));
    }
    *exists = true;
    if (S_ISDIR(st.st_mode)) return store_fail(err, "%s: is a directory, not a database", path);
    if (!S_ISREG(st.st_mode)) return store_fail(err, "%s: not a regular file", path);
    if (st.st_size == 0) {
        if (flags & STORE_OPEN_CREATE) return true; /* e.g. from mktemp: becomes a database */
        return store_fail(err, "%s: empty file, not a jitevm database", path);
    }
    uint8_t header[100];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return store_fail(err, "%s: %s", path, strerror(errno));
    ssize_t n = read(fd, header, sizeof header);
    int read_errno = errno;
    close(fd);
    if (n < 0) return store_fail(err, "%s: %s", path, strerror(read_errno));
    static const char magic[16] = "SQLite format 3";
    if ((size_t)n < sizeof magic || memcmp(header, magic, sizeof magic) != 0)
        return store_fail(err, "%s: not a SQLite database", path);
    if ((size_t)n < sizeof header)
        return store_fail(err, "%s: truncated SQLite database (%zd bytes, less than its header)", path, n);
    uint32_t page_size = (uint32_t)header[16] << 8 | header[17];
    if (page_size == 1) page_size = 65536;
    uint32_t pages = load_be32(header + 28);
    /* The page count is meaningful when "version-valid-for" matches the
     * change counter (always, for files written by SQLite >= 3.7.0). */
    if (load_be32(header + 92) == load_be32(header + 24) && pages > 0 &&
        (uint64_t)pages * page_size > (uint64_t)st.st_size)
        return store_fail(err, "%s: truncated SQLite database (its header says %llu bytes, the file has %lld)", path,
                    (unsigned long long)pages * page_size, (long long)st.st_size);
    return true;
}

static bool exec_sql(sqlite3 *db, const char *sql, const char *what, store_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return true;
    if (msg) {
        store_fail(err, "%s: %s", what, msg);
        sqlite3_free(msg);
        return false;
    }
    return fail_db(err, db, what);
}

static bool query_int(sqlite3 *db, const char *sql, sqlite3_int64 *out, const char *what, store_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return fail_db(err, db, what);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return fail_db(err, db, what);
    return true;
}

static bool set_connection_pragmas(sqlite3 *db, const char *path, store_error *err)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -%d; "
             "PRAGMA mmap_size = %lld; PRAGMA foreign_keys = OFF; PRAGMA journal_size_limit = %lld;",
             CACHE_KIB, (long long)MMAP_BYTES, (long long)WAL_LIMIT_BYTES);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    return exec_sql(db, sql, path, err);
}

static sqlite3 *open_db(const char *path, int flags, bool create, store_error *err)
{
    int oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (flags & STORE_OPEN_READONLY)
        oflags |= SQLITE_OPEN_READONLY;
    else
        oflags |= SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    /* The immutable open needs a URI: the path with '%', '?' and '#'
     * escaped. */
    bytebuf uri = {0};
    if (flags & STORE_OPEN_IMMUTABLE) {
        bytebuf_append(&uri, "file:", 5);
        for (const char *p = path; *p; p++) {
            char esc[4];
            if (*p == '%' || *p == '?' || *p == '#') snprintf(esc, sizeof esc, "%%%02X", (unsigned char)*p);
            else esc[0] = *p, esc[1] = '\0';
            bytebuf_append(&uri, esc, strlen(esc));
        }
        bytebuf_append(&uri, "?immutable=1", 13); /* with the NUL */
        oflags |= SQLITE_OPEN_URI;
    }
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(uri.len ? (const char *)uri.data : path, &db, oflags, NULL);
    bytebuf_free(&uri);
    if (rc != SQLITE_OK) {
        if (!db) {
            store_fail(err, "%s: out of memory", path);
            return NULL;
        }
        fail_db(err, db, create ? "cannot create the database" : "cannot open the database");
        /* Prefix the path: SQLite's message does not name the file. */
        store_error e = *err;
        store_fail(err, "%s: %s", path, e.msg);
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    if (!set_connection_pragmas(db, path, err)) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Applies every migration past the database's user_version, all in one
 * transaction, so that a failure (or a crash) leaves the old version. */
static bool migrate(sqlite3 *db, const char *path, store_error *err)
{
    if (!exec_sql(db, "BEGIN IMMEDIATE", path, err)) return false;
    sqlite3_int64 version;
    bool ok = query_int(db, "PRAGMA user_version", &version, path, err);
    for (int i = (int)version; ok && i < store_migration_count; i++) {
        char what[128];
        snprintf(what, sizeof what, "%s: migration %s", path, store_migrations[i].name);
        ok = exec_sql(db, store_migrations[i].sql, what, err);
    }
    if (ok && version < store_migration_count) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", store_migration_count);
        ok = exec_sql(db, sql, path, err);
    }
    if (ok) ok = exec_sql(db, "COMMIT", path, err);
    if (!ok) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return ok;
}

/* Whether this is (or may become) a jitevm database, and whether its
 * version is one this binary can use. */
static bool check_identity(sqlite3 *db, const char *path, int flags, bool *needs_migration, store_error *err)
{
    sqlite3_int64 app_id, version, tables;
    if (!query_int(db, "PRAGMA application_id", &app_id, path, err) ||
        !query_int(db, "PRAGMA user_version", &version, path, err) ||
        !query_int(db, "SELECT count(*) FROM sqlite_master", &tables, path, err))
        return false;
    if (app_id != APPLICATION_ID && !(app_id == 0 && version == 0 && tables == 0)) {
        if (app_id != 0)
            return store_fail(err, "%s: not a jitevm database (SQLite application_id 0x%08llx)", path,
                        (unsigned long long)(uint32_t)app_id);
        return store_fail(err, "%s: not a jitevm database (a SQLite database with other tables)", path);
    }
    if (version > store_migration_count)
        return store_fail(err, "%s: database schema version %lld is newer than this jitevm supports (%d); use a newer jitevm",
                    path, (long long)version, store_migration_count);
    if (version < 0) return store_fail(err, "%s: bad schema version %lld", path, (long long)version);
    *needs_migration = version < store_migration_count;
    if (*needs_migration && (flags & STORE_OPEN_READONLY))
        return store_fail(err, "%s: database schema version %lld needs upgrading to %d; open it once read-write", path,
                    (long long)version, store_migration_count);
    return true;
}

static bool trie_sync_at_open(sqlite3 *db, const char *path, store_error *err);

store *store_open(const char *path, int flags, store_error *err)
{
    if (!path || !*path) {
        store_fail(err, "no database path given");
        return NULL;
    }
    if ((flags & STORE_OPEN_READONLY) && (flags & STORE_OPEN_CREATE)) {
        store_fail(err, "%s: cannot create a database read-only", path);
        return NULL;
    }
    bool exists;
    if (!check_file(path, flags, &exists, err)) return NULL;
    if (flags & STORE_OPEN_IMMUTABLE) {
        char wal[PATH_MAX];
        struct stat st;
        if (!(flags & STORE_OPEN_READONLY)) {
            store_fail(err, "%s: an immutable open is read-only", path);
            return NULL;
        }
        snprintf(wal, sizeof wal, "%s-wal", path);
        if (stat(wal, &st) == 0 && st.st_size > 0) {
            store_fail(err, "%s: a write-ahead log with %lld bytes lies beside it, which an immutable open would miss; "
                       "open the database read-write once (its log is then checkpointed)", path, (long long)st.st_size);
            return NULL;
        }
    }
    sqlite3 *db = open_db(path, flags, !exists, err);
    if (!db) return NULL;
    bool needs_migration = false;
    bool ok = check_identity(db, path, flags, &needs_migration, err);
    if (ok && !(flags & STORE_OPEN_READONLY)) {
        /* Persistent: recorded in the file, so read-only openers see WAL too. */
        sqlite3_stmt *st = NULL;
        ok = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_ROW;
        if (ok && strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0)
            ok = store_fail(err, "%s: cannot use WAL mode (journal mode stays '%s')", path, sqlite3_column_text(st, 0));
        else if (!ok)
            fail_db(err, db, path);
        sqlite3_finalize(st);
    }
    if (ok && needs_migration) ok = migrate(db, path, err);
    if (ok && !(flags & STORE_OPEN_READONLY)) ok = trie_sync_at_open(db, path, err);
    if (!ok) {
        sqlite3_close(db);
        if (!exists) {
            /* Leave nothing behind from a database that never got a schema. */
            unlink(path);
        }
        return NULL;
    }
    store *s = xcalloc(1, sizeof *s);
    s->path = strdup(path);
    if (!s->path) abort();
    s->flags = flags & (STORE_OPEN_READONLY | STORE_OPEN_IMMUTABLE);
    s->keepalive = db;
    return s;
}

void store_close(store *s)
{
    if (!s) return;
    sqlite3_close(s->keepalive);
    free(s->path);
    free(s);
}

/* ----------------------------------------------------------- connect */

store_conn *store_connect(store *s, store_error *err)
{
    sqlite3 *db = open_db(s->path, s->flags, false, err);
    if (!db) return NULL;
    store_conn *c = xcalloc(1, sizeof *c);
    c->s = s;
    c->db = db;
    c->data_version = -1;
    /* All statements are prepared now: a read is then never slowed by a
     * first-use prepare, and a schema problem shows up here. */
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[i], NULL) != SQLITE_OK) {
            fail_db(err, db, s->path);
            store_disconnect(c);
            return NULL;
        }
    }
    c->accounts = xcalloc(ACCOUNT_CACHE_SLOTS, sizeof(cached_account));
    c->slots = xcalloc(SLOT_CACHE_SLOTS, sizeof(cached_slot));
    return c;
}

void store_disconnect(store_conn *c)
{
    if (!c) return;
    if (c->in_write) store_rollback(c);
    c->keep_snapshots = false;
    if (c->in_read) store_read_end(c);
    store_snapshot_release(c);
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(c->stmt[i]);
    trie_view_close(c->trie_cached);
    sqlite3_close(c->db);
    live_codes_clear(c);
    free(c->rec.keys);
    free(c->undo);
    free(c->undo_index);
    bytebuf_free(&c->code_buf);
    free(c->accounts);
    free(c->slots);
    free(c);
}

/* Remembers the first error of a callback (which cannot return one). */
static void callback_failed(store_conn *c, const char *what)
{
    if (c->failed) return;
    c->failed = true;
    fail_db(&c->error, c->db, what);
}

bool store_take_error(store_conn *c, store_error *err)
{
    if (!c->failed) return false;
    if (err) *err = c->error;
    c->failed = false;
    return true;
}

/* Runs a statement that returns no rows, and resets it. */
static bool step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE;
}

/* --------------------------------------------------------- the caches */

/* Only a cache that was filled is cleared: the first snapshot of a new
 * connection would otherwise zero (and fault in) its 800 KB, already zero
 * from calloc, in the first call it serves. */
static void account_cache_clear(store_conn *c)
{
    if (!c->accounts_filled) return;
    memset(c->accounts, 0, ACCOUNT_CACHE_SLOTS * sizeof(cached_account));
    memset(c->slots, 0, SLOT_CACHE_SLOTS * sizeof(cached_slot));
    c->accounts_filled = false;
}

static cached_account *account_cache_slot(store_conn *c, const address *a)
{
    return &c->accounts[address_hash64(a) & (ACCOUNT_CACHE_SLOTS - 1)];
}

static bool account_cache_usable(const store_conn *c)
{
    return c->in_read && !c->in_write;
}

/* In a read transaction just begun: reads PRAGMA data_version (which also
 * starts the snapshot) and, when another connection committed since the
 * caches were filled, clears them and dates them to this version. False
 * when the version cannot be read. */
static bool caches_to_this_version(store_conn *c)
{
    sqlite3_stmt *st = c->stmt[ST_DATA_VERSION];
    int rc = sqlite3_step(st);
    sqlite3_int64 version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) return false;
    if (version != c->data_version) {
        account_cache_clear(c);
        c->data_version = version;
        c->epoch++;
    }
    return true;
}

/* ----------------------------------------------------------- backend */

/* Live mode (below the backend). */
static bool live_mode(const store_conn *c);
static void live_count(store_conn *c, enum store_live_kind k, bool hit);
static bool live_fact(store_conn *c, enum stmt_id id, const address *a, const uint8_t *slot);
static bool live_key_held(store_conn *c, const store_live_key *k, bool fill);
static bool live_fetch_account(store_conn *c, const address *a, account_info *out);
static void live_fetch_slot(store_conn *c, const address *a, const u256 *key, const uint8_t slot[32], u256 *out);
static bool live_fetch_block_hash(store_conn *c, uint64_t number, hash32 *out);
static bool read_pin_hash(sqlite3 *db, hash32 *out);

static bool read_account(store_conn *c, const address *a, account_info *out)
{
    sqlite3_stmt *st = c->stmt[ST_GET_ACCOUNT];
    bind_blob(st, 1, a->b, 20);
    int rc = sqlite3_step(st);
    bool found = false;
    if (rc == SQLITE_ROW) {
        out->nonce = column_u64(st, 0);
        bool ok = column_u256(st, 1, &out->balance);
        if (sqlite3_column_type(st, 2) == SQLITE_NULL)
            out->code_hash = KECCAK_EMPTY;
        else
            ok = ok && column_fixed(st, 2, out->code_hash.b, 32);
        if (ok) {
            found = true;
        } else if (!c->failed) {
            c->failed = true;
            store_fail(&c->error, "%s: malformed account row", c->s->path);
        }
    } else if (rc != SQLITE_DONE) {
        callback_failed(c, "reading an account");
    }
    sqlite3_reset(st);
    return found;
}

static void live_rec_add(store_conn *c, const address *a, const u256 *key);

static bool backend_get_account(void *ctx, const address *a, account_info *out)
{
    store_conn *c = ctx;
    if (c->rec.on) live_rec_add(c, a, NULL);
    cached_account *slot = NULL;
    if (account_cache_usable(c)) {
        slot = account_cache_slot(c, a);
        if (slot->used && memcmp(slot->addr.b, a->b, 20) == 0) {
            if (slot->exists) *out = slot->info;
            return slot->exists;
        }
    }
    bool found = read_account(c, a, out);
    if (live_mode(c) && !c->failed) {
        bool known = found || live_fact(c, ST_LIVE_ABSENT, a, NULL);
        if (known) live_count(c, LIVE_ACCOUNT, true);
        else found = live_fetch_account(c, a, out);
    }
    if (slot && !c->failed) {
        c->accounts_filled = true;
        slot->used = true;
        slot->exists = found;
        slot->addr = *a;
        if (found) slot->info = *out;
    }
    return found;
}

static bool backend_get_code(void *ctx, const hash32 *h, const uint8_t **code, size_t *len)
{
    static const uint8_t no_code[1];
    store_conn *c = ctx;
    if (state_backend_empty_code(h, code, len)) return true;
    sqlite3_stmt *st = c->stmt[ST_GET_CODE];
    bind_blob(st, 1, h->b, 32);
    int rc = sqlite3_step(st);
    bool found = false;
    if (rc == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        c->code_buf.len = 0;
        bytebuf_append(&c->code_buf, p, (size_t)n);
        found = true;
    } else if (rc != SQLITE_DONE) {
        callback_failed(c, "reading code");
    }
    sqlite3_reset(st);
    for (size_t i = 0; !found && i < c->n_live_codes; i++) {
        if (memcmp(c->live_codes[i].hash.b, h->b, 32) != 0) continue;
        c->code_buf.len = 0;
        bytebuf_append(&c->code_buf, c->live_codes[i].code.data, c->live_codes[i].code.len);
        found = true;
    }
    if (!found) return false;
    *code = c->code_buf.data ? c->code_buf.data : no_code;
    *len = c->code_buf.len;
    return true;
}

/* The slot cache's entry for (a, key): direct mapped. */
static cached_slot *slot_cache_entry(store_conn *c, const address *a, const u256 *key)
{
    uint64_t h = address_hash64(a) ^ (key->w[0] + key->w[1] * 31 + key->w[2] * 131 + key->w[3] * 137) * 0x9e3779b97f4a7c15ull;
    return &c->slots[(h ^ h >> 32) & (SLOT_CACHE_SLOTS - 1)];
}

static void backend_get_storage(void *ctx, const address *a, const u256 *key, u256 *out)
{
    store_conn *c = ctx;
    if (c->rec.on) live_rec_add(c, a, key);
    /* Valid while the snapshot is the one it was filled in: cleared as the
     * account cache is (another connection's commit, this one's write). */
    cached_slot *cs = NULL;
    if (account_cache_usable(c)) {
        cs = slot_cache_entry(c, a, key);
        if (cs->used && u256_eq(&cs->key, key) && memcmp(cs->addr.b, a->b, 20) == 0) {
            *out = cs->value;
            if (live_mode(c)) live_count(c, LIVE_SLOT, true);
            return;
        }
    }
    sqlite3_stmt *st = c->stmt[ST_GET_STORAGE];
    uint8_t slot[32];
    u256_store_be(slot, key);
    bind_blob(st, 1, a->b, 20);
    bind_blob(st, 2, slot, 32);
    int rc = sqlite3_step(st);
    *out = u256_zero();
    if (rc == SQLITE_ROW) {
        if (!column_u256(st, 0, out) && !c->failed) {
            c->failed = true;
            store_fail(&c->error, "%s: malformed storage row", c->s->path);
        }
    } else if (rc != SQLITE_DONE) {
        callback_failed(c, "reading storage");
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE && live_mode(c) && !c->failed) {
        if (live_fact(c, ST_LIVE_ZERO, a, slot) || live_fact(c, ST_LIVE_ABSENT, a, NULL))
            live_count(c, LIVE_SLOT, true);
        else
            live_fetch_slot(c, a, key, slot, out);
    } else if (rc == SQLITE_ROW && live_mode(c)) {
        live_count(c, LIVE_SLOT, true);
    }
    if (cs && !c->failed) {
        c->accounts_filled = true;
        *cs = (cached_slot){.used = true, .addr = *a, .key = *key, .value = *out};
    }
}

static bool backend_get_block_hash(void *ctx, uint64_t number, hash32 *out)
{
    store_conn *c = ctx;
    sqlite3_stmt *st = c->stmt[ST_GET_BLOCK_HASH];
    bind_u64(st, 1, number);
    int rc = sqlite3_step(st);
    bool found = rc == SQLITE_ROW && column_fixed(st, 0, out->b, 32);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) callback_failed(c, "reading a block hash");
    sqlite3_reset(st);
    if (live_mode(c) && rc == SQLITE_DONE && !c->failed) return live_fetch_block_hash(c, number, out);
    if (live_mode(c) && found) live_count(c, LIVE_BLOCK_HASH, true);
    return found;
}

static bool backend_has_storage(void *ctx, const address *a)
{
    store_conn *c = ctx;
    sqlite3_stmt *st = c->stmt[ST_HAS_STORAGE];
    bind_blob(st, 1, a->b, 20);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) callback_failed(c, "reading storage");
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || !live_mode(c)) return rc == SQLITE_ROW;
    /* Live: the storage table holds only the slots read; the upstream's
     * storage root said whether there are others (rare: CREATE collisions). */
    for (size_t i = 0; i < c->n_live_with_storage; i++)
        if (memcmp(c->live_with_storage[i].b, a->b, 20) == 0) return true;
    return live_fact(c, ST_LIVE_HAS_STORAGE, a, NULL);
}

/* ---------------------------------------------------------- live mode */

void store_set_fetcher(store *s, const store_fetcher *f)
{
    if (f && !s->live_db) {
        pthread_mutex_init(&s->live_lock, NULL);
        if (sqlite3_open_v2(s->path, &s->live_db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
            sqlite3_close(s->live_db);
            s->live_db = NULL;
            pthread_mutex_destroy(&s->live_lock);
        } else {
            sqlite3_busy_timeout(s->live_db, 10000);
            /* As the main connections: WAL commits without an fsync each. */
            sqlite3_exec(s->live_db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
            /* The first commit into a new (or restarted) write-ahead log
             * syncs the log's header, and the first sync through a file
             * handle also syncs its directory: two fsyncs (measured with
             * strace -T, milliseconds each) that the first cold call's write
             * would pay. A write that changes nothing pays them now. Safe:
             * one transaction changes the pin's number and changes it back
             * (no reader sees the middle; SQLite skips a row rewritten with
             * the bytes it holds, so a single no-op update writes no page),
             * and the syncs are SQLite's own, only earlier. */
            sqlite3_exec(s->live_db,
                         "BEGIN IMMEDIATE; "
                         "UPDATE live_upstream SET block_number = -1 - block_number WHERE id = 1; "
                         "UPDATE live_upstream SET block_number = -1 - block_number WHERE id = 1; COMMIT",
                         NULL, NULL, NULL);
            if (!sqlite3_get_autocommit(s->live_db)) sqlite3_exec(s->live_db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    if (f) {
        s->fetcher = *f;
    } else {
        memset(&s->fetcher, 0, sizeof s->fetcher);
        if (s->live_db) {
            sqlite3_close(s->live_db);
            s->live_db = NULL;
            pthread_mutex_destroy(&s->live_lock);
        }
    }
}

static bool live_mode(const store_conn *c) { return c->s->fetcher.account != NULL; }

void store_defer_fetches(store_conn *c, atomic_int *flag) { c->defer_fetches = flag; }

/* Whether a fetch must not be made on this connection's thread; then the
 * caller's flag is raised and the read fails (counted as no miss: it is
 * counted where the fetch is made). */
static bool fetch_deferred(store_conn *c)
{
    if (!c->defer_fetches) return false;
    atomic_store(c->defer_fetches, 1);
    if (!c->failed) {
        c->failed = true;
        store_fail(&c->error, "%s: an upstream fetch, left to a thread that may wait for it", c->s->path);
    }
    return true;
}

bool store_live_fetch_deferred(store_conn *c, store_error *err)
{
    if (!live_mode(c) || !fetch_deferred(c)) return false;
    store_take_error(c, err);
    return true;
}

static void live_count(store_conn *c, enum store_live_kind k, bool hit)
{
    if (hit) {
        atomic_fetch_add(&c->s->live_hits[k], 1);
    } else {
        atomic_fetch_add(&c->s->live_misses[k], 1);
        c->live_fetches++;
    }
}

store_live_stats store_get_live_stats(const store *s)
{
    store_live_stats st;
    for (int k = 0; k < LIVE_KIND_COUNT; k++) {
        st.hits[k] = atomic_load(&((store *)s)->live_hits[k]);
        st.misses[k] = atomic_load(&((store *)s)->live_misses[k]);
    }
    st.stale = atomic_load(&((store *)s)->live_stale);
    st.calls_fetching = atomic_load(&((store *)s)->live_snapshots_fetching);
    st.call_fetches = atomic_load(&((store *)s)->live_snapshot_fetches);
    st.prefetches = atomic_load(&((store *)s)->live_prefetches);
    st.prefetched_keys = atomic_load(&((store *)s)->live_prefetched_keys);
    return st;
}

const char *store_live_kind_name(enum store_live_kind k)
{
    static const char *const names[LIVE_KIND_COUNT] = {"account", "slot", "block_hash"};
    return (k >= 0 && k < LIVE_KIND_COUNT) ? names[k] : "?";
}

static void live_failed(store_conn *c, const store_error *e)
{
    if (c->failed) return;
    c->failed = true;
    c->error = *e;
}

/* Whether the row keyed by (address[, slot]) exists. */
static bool live_fact(store_conn *c, enum stmt_id id, const address *a, const uint8_t *slot)
{
    sqlite3_stmt *st = c->stmt[id];
    bind_blob(st, 1, a->b, 20);
    if (slot) bind_blob(st, 2, slot, 32);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) callback_failed(c, "reading the live cache");
    sqlite3_reset(st);
    return rc == SQLITE_ROW;
}

/* The store's live writer (store_set_fetcher opened it); NULL, with the
 * connection's error set, when it could not be opened. */
static sqlite3 *live_writer(store_conn *c)
{
    if (!c->s->live_db) callback_failed(c, "opening the live cache writer");
    return c->s->live_db;
}

typedef struct {
    const char *sql;
    const uint8_t *blob[3];
    int len[3];
    const u256 *value; /* bound after the blobs */
    bool has_u64;
    uint64_t u64;      /* bound first when has_u64 */
} live_row;

/* Orders rows by their SQL text's address: one statement per run. */
static int live_row_cmp(const void *x, const void *y)
{
    uintptr_t p = (uintptr_t)((const live_row *)x)->sql, q = (uintptr_t)((const live_row *)y)->sql;
    return p < q ? -1 : p > q;
}

/* Writes the rows when the pin is still `at` (else writes nothing and
 * returns true: the value was right for its reader, not for the cache). */
static bool live_write(store_conn *c, const hash32 *at, const live_row *rows, size_t n)
{
    sqlite3 *db = live_writer(c);
    if (!db) return false;
    pthread_mutex_lock(&c->s->live_lock);
    bool ok = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    hash32 pin;
    if (ok && (!read_pin_hash(db, &pin) || memcmp(pin.b, at->b, 32) != 0)) {
        atomic_fetch_add(&c->s->live_stale, 1);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        pthread_mutex_unlock(&c->s->live_lock);
        return true;
    }
    /* Rows of one kind share their SQL text: prepared once per run. */
    sqlite3_stmt *st = NULL;
    const char *prepared = NULL;
    for (size_t i = 0; ok && i < n; i++) {
        if (rows[i].sql != prepared) {
            sqlite3_finalize(st);
            st = NULL;
            prepared = rows[i].sql;
            if (sqlite3_prepare_v2(db, rows[i].sql, -1, &st, NULL) != SQLITE_OK) {
                ok = false;
                break;
            }
        } else {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
        }
        int col = 1;
        if (rows[i].has_u64) bind_u64(st, col++, rows[i].u64);
        for (int b = 0; b < 3 && rows[i].blob[b]; b++) bind_blob(st, col++, rows[i].blob[b], rows[i].len[b]);
        if (rows[i].value) bind_u256(st, col++, rows[i].value);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (ok) ok = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    if (!ok) {
        if (!c->failed) {
            c->failed = true;
            fail_db(&c->error, db, "writing the live cache");
        }
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&c->s->live_lock);
    return ok;
}

/* The pinned block's hash as `db` sees it now; false when unreadable. */
static bool read_pin_hash(sqlite3 *db, hash32 *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT block_hash FROM live_upstream WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
        return false;
    bool ok = sqlite3_step(st) == SQLITE_ROW && column_fixed(st, 0, out->b, 32);
    sqlite3_finalize(st);
    return ok;
}

/* The block this reader's fetches ask for: its snapshot's pin. */
static const hash32 *live_at(store_conn *c)
{
    if (c->in_read && c->live_at_known) return &c->live_at;
    if (!read_pin_hash(c->db, &c->live_at)) {
        callback_failed(c, "reading the live pin");
        return NULL;
    }
    c->live_at_known = c->in_read;
    return &c->live_at;
}

static bool live_fetch_account(store_conn *c, const address *a, account_info *out)
{
    store_fetcher *f = &c->s->fetcher;
    bool exists = false;
    uint8_t *code = NULL;
    size_t code_len = 0;
    store_error e;
    if (fetch_deferred(c)) return false;
    live_count(c, LIVE_ACCOUNT, false);
    const hash32 *at = live_at(c);
    if (!at) return false;
    bool has_storage = false;
    if (!f->account(f->ctx, at, a, &exists, out, &code, &code_len, &has_storage, &e)) {
        free(code);
        live_failed(c, &e);
        return false;
    }
    bool has_code = exists && code && code_len;
    live_row rows[3] = {{0}};
    size_t n = 1;
    if (!exists) {
        rows[0] = (live_row){.sql = "INSERT OR IGNORE INTO live_absent_account (address) VALUES (?1)",
                             .blob = {a->b}, .len = {20}};
    } else {
        /* nonce, address, code hash (NULL for none), balance */
        rows[0] = (live_row){.sql = has_code ? "INSERT OR REPLACE INTO account (nonce, address, code_hash, balance) "
                                               "VALUES (?1, ?2, ?3, ?4)"
                                             : "INSERT OR REPLACE INTO account (nonce, address, balance) "
                                               "VALUES (?1, ?2, ?3)",
                             .has_u64 = true, .u64 = out->nonce, .blob = {a->b, has_code ? out->code_hash.b : NULL},
                             .len = {20, 32}, .value = &out->balance};
        if (has_code) {
            rows[n++] = (live_row){.sql = "INSERT OR IGNORE INTO code (hash, code) VALUES (?1, ?2)",
                                   .blob = {out->code_hash.b, code}, .len = {32, (int)code_len}};
        }
    }
    if (has_storage) {
        rows[n++] = (live_row){.sql = "INSERT OR IGNORE INTO live_has_storage (address) VALUES (?1)", .blob = {a->b},
                               .len = {20}};
        c->live_with_storage = xrealloc(c->live_with_storage, (c->n_live_with_storage + 1) * sizeof *c->live_with_storage);
        c->live_with_storage[c->n_live_with_storage++] = *a;
    }
    bool ok = live_write(c, at, rows, n);
    if (ok && has_code) {
        struct live_code *more = realloc(c->live_codes, (c->n_live_codes + 1) * sizeof *more);
        if (more) {
            c->live_codes = more;
            struct live_code *lc = &c->live_codes[c->n_live_codes++];
            lc->hash = out->code_hash;
            memset(&lc->code, 0, sizeof lc->code);
            bytebuf_append(&lc->code, code, code_len);
        }
    }
    free(code);
    return ok && exists;
}

static void live_fetch_slot(store_conn *c, const address *a, const u256 *key, const uint8_t slot[32], u256 *out)
{
    store_fetcher *f = &c->s->fetcher;
    store_error e;
    if (fetch_deferred(c)) {
        *out = u256_zero();
        return;
    }
    live_count(c, LIVE_SLOT, false);
    const hash32 *at = live_at(c);
    if (!at) return;
    if (!f->slot(f->ctx, at, a, key, out, &e)) {
        *out = u256_zero();
        live_failed(c, &e);
        return;
    }
    live_row row = {.blob = {a->b, slot}, .len = {20, 32}};
    if (u256_is_zero(out)) {
        row.sql = "INSERT OR IGNORE INTO live_zero_slot (address, slot) VALUES (?1, ?2)";
    } else {
        row.sql = "INSERT OR REPLACE INTO storage (address, slot, value) VALUES (?1, ?2, ?3)";
        row.value = out;
    }
    live_write(c, at, &row, 1);
}

static bool live_fetch_block_hash(store_conn *c, uint64_t number, hash32 *out)
{
    store_fetcher *f = &c->s->fetcher;
    store_error e;
    bool found = false;
    if (fetch_deferred(c)) return false;
    live_count(c, LIVE_BLOCK_HASH, false);
    const hash32 *at = live_at(c);
    if (!at) return false;
    if (!f->block_hash(f->ctx, at, number, out, &found, &e)) {
        live_failed(c, &e);
        return false;
    }
    if (!found) return false;
    live_row row = {.sql = "INSERT OR REPLACE INTO block_hash (number, hash) VALUES (?1, ?2)", .has_u64 = true,
                    .u64 = number, .blob = {out->b}, .len = {32}};
    live_write(c, at, &row, 1);
    return true;
}

/* ------------------------------------------- live mode: cold calls */

enum { LIVE_KEY_BYTES = 53, LIVE_REC_MAX = 4096 };

static int live_key_cmp(const void *x, const void *y)
{
    const store_live_key *p = x, *q = y;
    int d = memcmp(p->a.b, q->a.b, 20);
    if (d) return d;
    if (p->is_slot != q->is_slot) return p->is_slot ? 1 : -1;
    for (int i = 3; i >= 0; i--)
        if (p->key.w[i] != q->key.w[i]) return p->key.w[i] < q->key.w[i] ? -1 : 1;
    return 0;
}

static void live_rec_add(store_conn *c, const address *a, const u256 *key)
{
    if (c->rec.n == LIVE_REC_MAX) return;
    if (c->rec.n == c->rec.cap) {
        c->rec.cap = c->rec.cap ? c->rec.cap * 2 : 64;
        c->rec.keys = xrealloc(c->rec.keys, c->rec.cap * sizeof *c->rec.keys);
    }
    store_live_key *k = &c->rec.keys[c->rec.n++];
    memset(k, 0, sizeof *k);
    k->a = *a;
    k->is_slot = key != NULL;
    k->key = key ? *key : u256_zero();
}

/* Sorts and removes repeats; returns the new count. */
static size_t live_keys_unique(store_live_key *keys, size_t n)
{
    if (n < 2) return n;
    qsort(keys, n, sizeof *keys, live_key_cmp);
    size_t m = 1;
    for (size_t i = 1; i < n; i++)
        if (live_key_cmp(&keys[i], &keys[m - 1]) != 0) keys[m++] = keys[i];
    return m;
}

/* As live_keys_unique, keeping values[i] with keys[i] (small n). */
static size_t live_keys_unique_values(store_live_key *keys, u256 *values, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < m && !seen; j++) seen = live_key_cmp(&keys[i], &keys[j]) == 0;
        if (seen) continue;
        keys[m] = keys[i];
        values[m++] = values[i];
    }
    return m;
}

/* Whether SQLite holds the key or records it as absent or zero. */
static bool live_key_cached(store_conn *c, const store_live_key *k)
{
    if (live_fact(c, ST_LIVE_ABSENT, &k->a, NULL)) return true;
    return live_key_held(c, k, false);
}

/* live_key_cached but for the absent-account fact, which the caller asked.
 * With `fill`, a slot's value found goes into the slot cache, for the call
 * about to read it (the caller knows the snapshot is the cache's). */
static bool live_key_held(store_conn *c, const store_live_key *k, bool fill)
{
    if (!k->is_slot) {
        account_info info;
        return read_account(c, &k->a, &info);
    }
    uint8_t slot[32];
    u256_store_be(slot, &k->key);
    sqlite3_stmt *st = c->stmt[ST_GET_STORAGE];
    bind_blob(st, 1, k->a.b, 20);
    bind_blob(st, 2, slot, 32);
    u256 value = u256_zero();
    bool row = sqlite3_step(st) == SQLITE_ROW;
    bool read = row && column_u256(st, 0, &value);
    sqlite3_reset(st);
    bool held = row || live_fact(c, ST_LIVE_ZERO, &k->a, slot);
    if (fill && held && (read || !row)) {
        c->accounts_filled = true;
        *slot_cache_entry(c, &k->a, &k->key) = (cached_slot){.used = true, .addr = k->a, .key = k->key, .value = value};
    }
    return held;
}

void store_live_note_round_trips(store_conn *c, unsigned n) { c->live_pending_trips += n; }

bool store_live_prefetch(store_conn *c, const store_live_key *keys, size_t n, size_t *fetched, store_error *err)
{
    *fetched = 0;
    store_fetcher *f = &c->s->fetcher;
    if (!live_mode(c) || !f->many || n == 0) return true;
    if (c->in_read || c->in_write) return store_fail(err, "%s: store_live_prefetch inside a transaction", c->s->path);
    store_live_key *uniq = xmalloc(n * sizeof *uniq);
    memcpy(uniq, keys, n * sizeof *uniq);
    size_t m = live_keys_unique(uniq, n), want = 0;
    struct store_live_item *items = xcalloc(m, sizeof *items);
    /* Which keys SQLite holds: one read transaction for all of them (each
     * statement on its own took and dropped the WAL's read lock: after a
     * restart a call recorded with 300 slots spent 1.5 ms here), and the
     * absent-account fact asked once per address (the keys are sorted).
     * The slots found fill the slot cache, so that the call reads them from
     * memory rather than from SQLite a second time: the cache is brought to
     * this transaction's version as store_read_begin does (cleared when
     * another connection committed since it was filled), and the call's
     * snapshot, begun next, clears it again if anything commits meanwhile.
     * A snapshot already open (parked) is the cache's own. */
    bool own_read = sqlite3_get_autocommit(c->db) && step_done(c->stmt[ST_BEGIN_READ]);
    bool fill = own_read ? caches_to_this_version(c) : !sqlite3_get_autocommit(c->db);
    const address *last = NULL;
    bool last_absent = false;
    for (size_t i = 0; i < m && !c->failed; i++) {
        if (!last || memcmp(last->b, uniq[i].a.b, 20) != 0) {
            last = &uniq[i].a;
            last_absent = live_fact(c, ST_LIVE_ABSENT, last, NULL);
        }
        if (!last_absent && !live_key_held(c, &uniq[i], fill)) items[want++].k = uniq[i];
    }
    if (own_read) step_done(c->stmt[ST_COMMIT]);
    free(uniq);
    hash32 at;
    bool ok = !store_take_error(c, err);
    if (ok && want && fetch_deferred(c)) ok = !store_take_error(c, err);
    if (ok && want && !read_pin_hash(c->db, &at)) ok = fail_db(err, c->db, "reading the live pin");
    unsigned trips = 0;
    if (ok && want) ok = f->many(f->ctx, &at, items, want, &trips, err);
    c->live_pending_trips += trips;
    /* Then, in one more batch: the keys learnt in that round trip (the
     * access list sent with the accounts), those not cached nor just
     * fetched, and the storage roots the fetcher left pending (root_only
     * items, origin[] naming the account's item); again while roots are
     * pending. All of it is written below in one transaction. */
    store_live_key *more = NULL;
    size_t n_more = 0, done = 0, *origin = NULL;
    if (ok && want && f->more) f->more(f->ctx, &more, &n_more);
    if (n_more) n_more = live_keys_unique(more, n_more);
    while (ok && want > done) {
        size_t first = want, n_roots = 0;
        for (size_t i = done; i < first; i++) n_roots += items[i].root_pending && !items[i].root_only;
        if (n_more + n_roots == 0) break;
        size_t cap = want + n_more + n_roots;
        items = xrealloc(items, cap * sizeof *items);
        origin = xrealloc(origin, cap * sizeof *origin);
        memset(items + first, 0, (cap - first) * sizeof *items);
        for (size_t i = 0; i < n_more && !c->failed; i++) {
            bool have = false;
            for (size_t j = 0; j < first && !have; j++)
                have = !items[j].root_only && live_key_cmp(&items[j].k, &more[i]) == 0;
            if (!have && !live_key_cached(c, &more[i])) {
                origin[want] = want;
                items[want++].k = more[i];
            }
        }
        n_more = 0;
        for (size_t i = done; i < first; i++)
            if (items[i].root_pending && !items[i].root_only) {
                origin[want] = i;
                items[want] = (struct store_live_item){.k = items[i].k, .root_only = true};
                want++;
            }
        m = cap;
        done = first;
        ok = !store_take_error(c, err);
        trips = 0;
        if (ok && want > first) ok = f->many(f->ctx, &at, items + first, want - first, &trips, err);
        c->live_pending_trips += trips;
        for (size_t i = first; ok && i < want; i++)
            if (items[i].root_only) {
                items[origin[i]].has_storage = items[i].has_storage;
                items[origin[i]].root_pending = false;
            }
    }
    free(more);
    free(origin);
    /* A root still pending (a fetcher that never asked it) counts as no
     * storage, as when the upstream cannot tell. */
    if (ok && want) {
        live_row *rows = xcalloc(3 * want, sizeof *rows);
        uint8_t(*slot_be)[32] = xcalloc(want, 32);
        size_t nr = 0;
        for (size_t i = 0; i < want; i++) {
            struct store_live_item *it = &items[i];
            const address *a = &it->k.a;
            if (it->root_only) continue; /* answered into its account's item */
            if (it->k.is_slot) {
                u256_store_be(slot_be[i], &it->k.key);
                if (u256_is_zero(&it->value))
                    rows[nr++] = (live_row){.sql = "INSERT OR IGNORE INTO live_zero_slot (address, slot) VALUES (?1, ?2)",
                                            .blob = {a->b, slot_be[i]}, .len = {20, 32}};
                else
                    rows[nr++] = (live_row){.sql = "INSERT OR REPLACE INTO storage (address, slot, value) VALUES (?1, ?2, ?3)",
                                            .blob = {a->b, slot_be[i]}, .len = {20, 32}, .value = &it->value};
                atomic_fetch_add(&c->s->live_misses[LIVE_SLOT], 1);
                continue;
            }
            atomic_fetch_add(&c->s->live_misses[LIVE_ACCOUNT], 1);
            bool has_code = it->exists && it->code && it->code_len;
            /* An empty account may still hold storage (EIP-7610): marked
             * whether it exists or not, as a single fetch does. */
            if (it->has_storage)
                rows[nr++] = (live_row){.sql = "INSERT OR IGNORE INTO live_has_storage (address) VALUES (?1)",
                                        .blob = {a->b}, .len = {20}};
            if (!it->exists) {
                rows[nr++] = (live_row){.sql = "INSERT OR IGNORE INTO live_absent_account (address) VALUES (?1)",
                                        .blob = {a->b}, .len = {20}};
                continue;
            }
            rows[nr++] = (live_row){.sql = has_code ? "INSERT OR REPLACE INTO account (nonce, address, code_hash, balance) "
                                                      "VALUES (?1, ?2, ?3, ?4)"
                                                    : "INSERT OR REPLACE INTO account (nonce, address, balance) "
                                                      "VALUES (?1, ?2, ?3)",
                                    .has_u64 = true, .u64 = it->info.nonce,
                                    .blob = {a->b, has_code ? it->info.code_hash.b : NULL}, .len = {20, 32},
                                    .value = &it->info.balance};
            if (has_code)
                rows[nr++] = (live_row){.sql = "INSERT OR IGNORE INTO code (hash, code) VALUES (?1, ?2)",
                                        .blob = {it->info.code_hash.b, it->code}, .len = {32, (int)it->code_len}};
        }
        qsort(rows, nr, sizeof *rows, live_row_cmp); /* runs of one statement (live_write) */
        if (!live_write(c, &at, rows, nr)) {
            store_take_error(c, err);
            ok = false;
        }
        free(rows);
        free(slot_be);
        size_t keys_fetched = 0;
        for (size_t i = 0; i < want; i++) keys_fetched += !items[i].root_only;
        atomic_fetch_add(&c->s->live_prefetches, 1);
        atomic_fetch_add(&c->s->live_prefetched_keys, keys_fetched);
        *fetched = keys_fetched;
    }
    for (size_t i = 0; i < m; i++) free(items[i].code);
    free(items);
    return ok;
}

bool store_live_recorded(store_conn *c, const address *target, const uint8_t *selector, size_t selector_len,
                         store_live_key **keys, size_t *n, bool *found, store_error *err)
{
    *keys = NULL;
    *n = 0;
    *found = false;
    sqlite3_stmt *st = c->stmt[ST_LIVE_CALL_READS];
    bind_blob(st, 1, target->b, 20);
    sqlite3_bind_blob(st, 2, selector_len ? (const void *)selector : "", (int)selector_len, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const uint8_t *p = sqlite3_column_blob(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0), m = len / LIVE_KEY_BYTES;
        *found = true;
        if (m) *keys = xcalloc(m, sizeof **keys);
        for (size_t i = 0; i < m; i++, p += LIVE_KEY_BYTES) {
            (*keys)[i].is_slot = p[0] == 1;
            memcpy((*keys)[i].a.b, p + 1, 20);
            (*keys)[i].key = u256_load_be(p + 21);
        }
        *n = m;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail_db(err, c->db, c->s->path);
    return true;
}

void store_live_record_begin(store_conn *c, const address *target, const uint8_t *selector, size_t selector_len,
                             bool replace)
{
    c->rec.on = true;
    c->rec.replace = replace;
    c->rec.fetched = false;
    c->rec.n = 0;
    c->rec.target = *target;
    c->rec.selector_len = selector_len > 4 ? 4 : selector_len;
    if (c->rec.selector_len) memcpy(c->rec.selector, selector, c->rec.selector_len);
}

bool store_live_record_end(store_conn *c, store_error *err)
{
    if (!c->rec.on) return true;
    c->rec.on = false;
    /* A call whose read failed (a fetch that failed or was deferred) read
     * only part of what it would: its keys would replace a whole record. */
    if (c->failed || (!c->rec.replace && !c->rec.fetched)) return true;
    size_t m = live_keys_unique(c->rec.keys, c->rec.n);
    bytebuf blob = {0};
    for (size_t i = 0; i < m; i++) {
        uint8_t e[LIVE_KEY_BYTES];
        e[0] = c->rec.keys[i].is_slot;
        memcpy(e + 1, c->rec.keys[i].a.b, 20);
        u256_store_be(e + 21, &c->rec.keys[i].key);
        bytebuf_append(&blob, e, sizeof e);
    }
    sqlite3 *db = live_writer(c);
    sqlite3_stmt *st = NULL;
    if (db) pthread_mutex_lock(&c->s->live_lock);
    bool ok = db && sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO live_call_reads (target, selector, keys) "
                                           "VALUES (?1, ?2, ?3)", -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        bind_blob(st, 1, c->rec.target.b, 20);
        sqlite3_bind_blob(st, 2, c->rec.selector_len ? (const void *)c->rec.selector : "", (int)c->rec.selector_len,
                          SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 3, blob.len ? (const void *)blob.data : "", (int)blob.len, SQLITE_TRANSIENT);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    bytebuf_free(&blob);
    if (!ok && db) fail_db(err, db, "recording a call's reads");
    if (db) pthread_mutex_unlock(&c->s->live_lock);
    if (!db) store_take_error(c, err);
    return ok;
}

state_backend store_backend(store_conn *c) { return STATE_BACKEND_OF(c, backend); }

/* ------------------------------------------------------ transactions */

bool store_begin(store_conn *c, store_error *err)
{
    if (c->in_write) return store_fail(err, "%s: a write transaction is already open", c->s->path);
    if (c->in_read) return store_fail(err, "%s: a read snapshot is open; end it before writing", c->s->path);
    store_snapshot_release(c);
    if (!step_done(c->stmt[ST_BEGIN_WRITE])) return fail_db(err, c->db, c->s->path);
    c->in_write = true;
    c->wrote = false;
    c->failed = false;
    return true;
}

bool store_commit(store_conn *c, store_error *err)
{
    if (!c->in_write) return store_fail(err, "%s: no write transaction is open", c->s->path);
    if (c->failed) {
        if (err) *err = c->error;
        c->failed = false;
        store_rollback(c);
        return false;
    }
    if (!step_done(c->stmt[ST_COMMIT])) {
        fail_db(err, c->db, c->s->path);
        store_rollback(c);
        return false;
    }
    c->in_write = false;
    c->epoch++;
    /* Own commits do not change PRAGMA data_version; forget what they touched. */
    if (c->wrote) account_cache_clear(c);
    return true;
}

void store_rollback(store_conn *c)
{
    if (!c->in_write) return;
    /* Fails only when SQLite already rolled back (e.g. after SQLITE_FULL). */
    step_done(c->stmt[ST_ROLLBACK]);
    c->in_write = false;
    if (c->wrote) account_cache_clear(c);
}

/* SQLite's WAL index header (https://www.sqlite.org/walformat.html, "The
 * WAL-Index Header"): two copies of 48 bytes at the start of the first
 * 32 KiB region of the -shm file; the third 32-bit field, iChange, is
 * incremented by every transaction that commits (and by a WAL reset). A
 * writer writes the second copy, then the first: the first changes last, once
 * the commit is visible to new readers. */
#define WAL_INDEX_REGION_BYTES 32768
#define WAL_INDEX_CHANGE_OFFSET 8

/* Finds the WAL index of this connection's database file, mapped by SQLite
 * itself (xShmMap of region 0 without extending it returns SQLite's own
 * mapping, valid until the connection closes). Called inside a read
 * transaction, when the mapping exists. NULL: none (no kept snapshots). */
static const volatile uint32_t *find_wal_change(store_conn *c)
{
    if (c->s->flags & (STORE_OPEN_READONLY | STORE_OPEN_IMMUTABLE)) return NULL;
    sqlite3_file *f = NULL;
    if (sqlite3_file_control(c->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f || !f->pMethods ||
        f->pMethods->iVersion < 2 || !f->pMethods->xShmMap)
        return NULL;
    volatile void *region = NULL;
    if (f->pMethods->xShmMap(f, 0, WAL_INDEX_REGION_BYTES, 0, &region) != SQLITE_OK || !region) return NULL;
    return (const volatile uint32_t *)((const volatile char *)region + WAL_INDEX_CHANGE_OFFSET);
}

static uint32_t wal_change_now(const store_conn *c)
{
    return __atomic_load_n((const uint32_t *)c->wal_change, __ATOMIC_ACQUIRE);
}

void store_keep_snapshots(store_conn *c, bool on)
{
    c->keep_snapshots = on;
    if (!on) store_snapshot_release(c);
}

bool store_snapshot_parked(const store_conn *c) { return c->parked; }

void store_snapshot_release(store_conn *c)
{
    if (!c->parked) return;
    step_done(c->stmt[ST_COMMIT]);
    c->parked = false;
}

/* Whether the parked snapshot still shows the latest commit and is young
 * enough to reuse. */
static bool parked_is_current(const store_conn *c, uint64_t now_ns)
{
    return c->parked && c->wal_change && wal_change_now(c) == c->snapshot_change &&
           now_ns - c->snapshot_ns < (uint64_t)STORE_SNAPSHOT_MAX_MS * 1000000u;
}

void store_snapshot_settle(store_conn *c)
{
    if (c->parked && !parked_is_current(c, monotonic_coarse_ns())) store_snapshot_release(c);
}

bool store_read_begin(store_conn *c, store_error *err)
{
    if (c->in_write) return store_fail(err, "%s: a write transaction is open", c->s->path);
    if (c->in_read) return store_fail(err, "%s: a read snapshot is already open", c->s->path);
    uint64_t now_ns = 0;
    if (c->parked) {
        now_ns = monotonic_coarse_ns();
        if (parked_is_current(c, now_ns)) {
            /* No commit since it began: the same state, the same cache. */
            live_codes_clear(c);
            c->live_at_known = false;
            c->parked = false;
            c->in_read = true;
            return true;
        }
        store_snapshot_release(c);
    }
    /* Read before the snapshot begins: a commit landing in between makes
     * the next check fail, never a later commit go unnoticed. */
    if (c->wal_change) c->snapshot_change = wal_change_now(c);
    if (!step_done(c->stmt[ST_BEGIN_READ])) return fail_db(err, c->db, c->s->path);
    live_codes_clear(c);
    c->live_at_known = false;
    /* Reading data_version starts the snapshot, and tells whether another
     * connection committed since the cache was filled. */
    if (!caches_to_this_version(c)) {
        fail_db(err, c->db, c->s->path);
        step_done(c->stmt[ST_ROLLBACK]);
        return false;
    }
    if (c->keep_snapshots) {
        if (!c->wal_change_looked) {
            /* Found once the WAL index is mapped (this transaction mapped
             * it); this first snapshot is then not kept: it began before
             * its change counter was read. */
            c->wal_change_looked = true;
            c->wal_change = find_wal_change(c);
        } else if (c->wal_change) {
            c->snapshot_ns = now_ns ? now_ns : monotonic_coarse_ns();
        }
    }
    c->in_read = true;
    return true;
}

uint64_t store_snapshot_epoch(const store_conn *c) { return c->in_read ? c->epoch + 1 : 0; }

void store_read_end(store_conn *c)
{
    if (!c->in_read) return;
    /* Kept when it can be checked for later commits (not the first one,
     * taken before the counter was found: snapshot_ns is still 0). */
    if (c->keep_snapshots && c->wal_change && c->snapshot_ns && !c->failed) c->parked = true;
    else step_done(c->stmt[ST_COMMIT]);
    c->in_read = false;
    if (c->rec.on && c->live_fetches) c->rec.fetched = true;
    unsigned trips = c->live_fetches + c->live_pending_trips;
    if (trips) {
        atomic_fetch_add(&c->s->live_snapshots_fetching, 1);
        atomic_fetch_add(&c->s->live_snapshot_fetches, trips);
    }
    c->live_fetches = 0;
    c->live_pending_trips = 0;
}

/* Runs `fn` inside the open write transaction, or inside one of its own. */
typedef bool (*write_fn)(store_conn *c, const void *arg, store_error *err);

static bool in_transaction(store_conn *c, write_fn fn, const void *arg, store_error *err)
{
    if (c->in_write) {
        c->wrote = true;
        return fn(c, arg, err);
    }
    if (!store_begin(c, err)) return false;
    c->wrote = true;
    if (!fn(c, arg, err)) {
        store_rollback(c);
        return false;
    }
    return store_commit(c, err);
}

/* -------------------------------------------------------------- sink */

static bool write_account(store_conn *c, const address *a, const account_info *info)
{
    sqlite3_stmt *st = c->stmt[ST_PUT_ACCOUNT];
    bind_blob(st, 1, a->b, 20);
    bind_u64(st, 2, info->nonce);
    bind_u256(st, 3, &info->balance);
    if (memcmp(info->code_hash.b, KECCAK_EMPTY.b, 32) == 0)
        sqlite3_bind_null(st, 4);
    else
        bind_blob(st, 4, info->code_hash.b, 32);
    return step_done(st);
}

static bool write_code(store_conn *c, const hash32 *h, const uint8_t *code, size_t len)
{
    if (len == 0) return true;
    sqlite3_stmt *st = c->stmt[ST_PUT_CODE];
    bind_blob(st, 1, h->b, 32);
    bind_blob(st, 2, code, len);
    return step_done(st);
}

static bool write_slot(store_conn *c, const address *a, const u256 *key, const u256 *value)
{
    uint8_t slot[32];
    u256_store_be(slot, key);
    sqlite3_stmt *st = c->stmt[u256_is_zero(value) ? ST_DELETE_SLOT : ST_PUT_STORAGE];
    bind_blob(st, 1, a->b, 20);
    bind_blob(st, 2, slot, 32);
    if (!u256_is_zero(value)) bind_u256(st, 3, value);
    return step_done(st);
}

/* Whether the statement (one blob parameter, the address) finds a row. */
static bool address_has_row(store_conn *c, enum stmt_id id, const address *a, bool *found)
{
    sqlite3_stmt *st = c->stmt[id];
    sqlite3_reset(st); /* a reader may have left it on a row */
    if (bind_blob(st, 1, a->b, 20) != SQLITE_OK) return false;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    *found = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

static bool remove_account(store_conn *c, const address *a)
{
    /* Only what is there: once the state trie's triggers exist (007), SQLite
     * runs a DELETE in two passes through a temporary table even when no
     * row matches, which made an import (it removes every account it
     * writes first) cost 3x the instructions. */
    bool has_account, has_storage;
    if (!address_has_row(c, ST_GET_ACCOUNT, a, &has_account) || !address_has_row(c, ST_HAS_STORAGE, a, &has_storage))
        return false;
    sqlite3_stmt *del = c->stmt[ST_DELETE_ACCOUNT], *del_storage = c->stmt[ST_DELETE_ACCOUNT_STORAGE];
    bind_blob(del, 1, a->b, 20);
    bind_blob(del_storage, 1, a->b, 20);
    return (!has_account || step_done(del)) && (!has_storage || step_done(del_storage));
}

/* The sink writes into the open transaction; outside one it records an
 * error instead of writing in autocommit mode (which would not be all or
 * nothing). */
static bool sink_ready(store_conn *c)
{
    if (c->in_write) {
        c->wrote = true;
        return true;
    }
    if (!c->failed) {
        c->failed = true;
        store_fail(&c->error, "%s: state sink used outside store_begin/store_commit", c->s->path);
    }
    return false;
}

static void sink_delete_account(void *ctx, const address *a)
{
    store_conn *c = ctx;
    if (sink_ready(c) && !remove_account(c, a)) callback_failed(c, "deleting an account");
}

static void sink_put_account(void *ctx, const address *a, const account_info *info, const uint8_t *code,
                             size_t code_len, bool code_changed)
{
    (void)code_changed; /* code is content-addressed: INSERT OR IGNORE makes re-adding it cheap */
    store_conn *c = ctx;
    if (!sink_ready(c)) return;
    if (!write_account(c, a, info) || !write_code(c, &info->code_hash, code, code_len))
        callback_failed(c, "writing an account");
}

static void sink_put_storage(void *ctx, const address *a, const u256 *key, const u256 *value)
{
    store_conn *c = ctx;
    if (sink_ready(c) && !write_slot(c, a, key, value)) callback_failed(c, "writing storage");
}

state_sink store_sink(store_conn *c) { return STATE_SINK_OF(c, sink); }

/* ------------------------------------------------- one-call helpers */

typedef struct {
    const address *addr;
    const u256 *balance;
    const uint64_t *nonce;
    const uint8_t *code;
    size_t code_len;
    bool set_code;
    const u256 *key, *value;
} account_edit;

/* Read-modify-write of one account (created empty when absent). */
static bool edit_account(store_conn *c, const void *arg, store_error *err)
{
    const account_edit *e = arg;
    account_info info = {.nonce = 0, .balance = u256_zero(), .code_hash = KECCAK_EMPTY};
    bool exists = read_account(c, e->addr, &info);
    if (c->failed) {
        c->failed = false;
        if (err) *err = c->error;
        return false;
    }
    if (e->key) {
        /* A slot of an account that does not exist would be invisible to the
         * state root: create the account with it (as geth does). */
        if (!exists && u256_is_zero(e->value)) return true;
        if (!write_slot(c, e->addr, e->key, e->value)) return fail_db(err, c->db, c->s->path);
        if (exists) return true;
    }
    if (e->balance) info.balance = *e->balance;
    if (e->nonce) info.nonce = *e->nonce;
    if (e->set_code) {
        info.code_hash = KECCAK_EMPTY;
        if (e->code_len) keccak256(e->code, e->code_len, info.code_hash.b);
        if (!write_code(c, &info.code_hash, e->code, e->code_len)) return fail_db(err, c->db, c->s->path);
    }
    if (!write_account(c, e->addr, &info)) return fail_db(err, c->db, c->s->path);
    return true;
}

bool store_set_balance(store_conn *c, const address *a, const u256 *balance, store_error *err)
{
    account_edit e = {.addr = a, .balance = balance};
    return in_transaction(c, edit_account, &e, err);
}

bool store_set_nonce(store_conn *c, const address *a, uint64_t nonce, store_error *err)
{
    account_edit e = {.addr = a, .nonce = &nonce};
    return in_transaction(c, edit_account, &e, err);
}

bool store_set_code(store_conn *c, const address *a, const uint8_t *code, size_t len, store_error *err)
{
    if (len > (size_t)INT32_MAX) return store_fail(err, "code of %zu bytes is too large", len);
    account_edit e = {.addr = a, .code = code, .code_len = len, .set_code = true};
    return in_transaction(c, edit_account, &e, err);
}

bool store_set_storage(store_conn *c, const address *a, const u256 *key, const u256 *value, store_error *err)
{
    account_edit e = {.addr = a, .key = key, .value = value};
    return in_transaction(c, edit_account, &e, err);
}

static bool clear_state(store_conn *c, const void *arg, store_error *err)
{
    (void)arg;
    return exec_sql(c->db, "DELETE FROM account; DELETE FROM storage; DELETE FROM code;", c->s->path, err);
}

bool store_clear_state(store_conn *c, store_error *err)
{
    return in_transaction(c, clear_state, NULL, err);
}

/* ------------------------------------------------------------ chain */

enum fork chain_config_fork_at(const chain_config *cfg, uint64_t number, uint64_t timestamp)
{
    enum fork f = FORK_FRONTIER;
    for (int i = 0; i < FORK_COUNT; i++) {
        if (cfg->activation[i] == UINT64_MAX) continue;
        uint64_t now = cfg->by_timestamp[i] ? timestamp : number;
        if (now >= cfg->activation[i]) f = (enum fork)i;
    }
    return f;
}

bool store_get_chain_config(store_conn *c, chain_config *out, store_error *err)
{
    sqlite3_stmt *st = c->stmt[ST_GET_CHAIN];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) out->chain_id = column_u64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return store_fail(err, "%s: the database has no chain configuration (create it with 'jitevm init')", c->s->path);
    if (rc != SQLITE_ROW) return fail_db(err, c->db, c->s->path);
    for (int f = 0; f < FORK_COUNT; f++) {
        out->activation[f] = UINT64_MAX;
        out->by_timestamp[f] = false;
    }
    st = c->stmt[ST_GET_FORKS];
    bool ok = true;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        int f = name ? store_fork_from_db_name(name) : -1;
        if (f < 0) {
            ok = store_fail(err, "%s: unknown fork '%s' in the chain configuration (written by a newer jitevm?)",
                      c->s->path, name ? name : "");
            break;
        }
        out->activation[f] = column_u64(st, 1);
        out->by_timestamp[f] = sqlite3_column_int64(st, 2) != 0;
    }
    if (ok && rc != SQLITE_DONE) ok = fail_db(err, c->db, c->s->path);
    sqlite3_reset(st);
    return ok;
}

static bool write_chain_config(store_conn *c, const void *arg, store_error *err)
{
    const chain_config *cfg = arg;
    sqlite3_stmt *st = c->stmt[ST_PUT_CHAIN];
    bind_u64(st, 1, cfg->chain_id);
    if (!step_done(st) || !step_done(c->stmt[ST_CLEAR_FORKS]) || !step_done(c->stmt[ST_CLEAR_BLOB_FORKS]))
        return fail_db(err, c->db, c->s->path);
    for (int f = 0; f < FORK_COUNT; f++) {
        if (cfg->activation[f] == UINT64_MAX) continue;
        st = c->stmt[ST_PUT_FORK];
        sqlite3_bind_text(st, 1, fork_db_names[f], -1, SQLITE_STATIC);
        bind_u64(st, 2, cfg->activation[f]);
        sqlite3_bind_int(st, 3, cfg->by_timestamp[f] ? 1 : 0);
        if (!step_done(st)) return fail_db(err, c->db, c->s->path);
    }
    return true;
}

bool store_set_chain_config(store_conn *c, const chain_config *cfg, store_error *err)
{
    return in_transaction(c, write_chain_config, cfg, err);
}

typedef struct {
    enum fork f;
    const blob_schedule *bs;
} blob_arg;

static bool write_blob_schedule(store_conn *c, const void *arg, store_error *err)
{
    const blob_arg *a = arg;
    sqlite3_stmt *st = c->stmt[ST_SET_BLOB_SCHEDULE];
    sqlite3_bind_text(st, 1, fork_db_names[a->f], -1, SQLITE_STATIC);
    const uint64_t v[3] = {a->bs->target, a->bs->max, a->bs->update_fraction};
    for (int i = 0; i < 3; i++) {
        if (v[i])
            bind_u64(st, 2 + i, v[i]);
        else
            sqlite3_bind_null(st, 2 + i);
    }
    if (!step_done(st)) return fail_db(err, c->db, c->s->path);
    if (sqlite3_changes(c->db) == 0)
        return store_fail(err, "%s: fork %s is not scheduled; cannot set its blob schedule", c->s->path, fork_db_names[a->f]);
    return true;
}

bool store_set_blob_schedule(store_conn *c, enum fork f, const blob_schedule *bs, store_error *err)
{
    if (f < 0 || f >= FORK_COUNT) return store_fail(err, "bad fork %d", (int)f);
    blob_arg a = {f, bs};
    return in_transaction(c, write_blob_schedule, &a, err);
}

bool store_get_blob_schedule(store_conn *c, enum fork f, blob_schedule *out, store_error *err)
{
    memset(out, 0, sizeof *out);
    if (f < 0 || f >= FORK_COUNT) return store_fail(err, "bad fork %d", (int)f);
    sqlite3_stmt *st = c->stmt[ST_GET_BLOB_SCHEDULE];
    sqlite3_bind_text(st, 1, fork_db_names[f], -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->target = column_u64(st, 0); /* NULL reads as 0: the default */
        out->max = column_u64(st, 1);
        out->update_fraction = column_u64(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail_db(err, c->db, c->s->path);
    return true;
}

/* ------------------------------------------------- blob-parameter forks */

static bool column_blob_fork(sqlite3_stmt *st, blob_fork *out)
{
    const char *name = (const char *)sqlite3_column_text(st, 0);
    memset(out, 0, sizeof *out);
    if (!name || strlen(name) >= sizeof out->name) return false;
    strcpy(out->name, name);
    out->activation = column_u64(st, 1);
    out->blob.target = column_u64(st, 2);
    out->blob.max = column_u64(st, 3);
    out->blob.update_fraction = column_u64(st, 4);
    return true;
}

typedef struct {
    const blob_fork *forks;
    size_t n;
} blob_forks_arg;

static bool write_blob_forks(store_conn *c, const void *arg, store_error *err)
{
    const blob_forks_arg *a = arg;
    if (!step_done(c->stmt[ST_CLEAR_BLOB_FORKS])) return fail_db(err, c->db, c->s->path);
    for (size_t i = 0; i < a->n; i++) {
        const blob_fork *bf = &a->forks[i];
        if (!bf->name[0] || !bf->blob.target || !bf->blob.max || !bf->blob.update_fraction)
            return store_fail(err, "blob-parameter fork '%s': name, target, max and update fraction are all required",
                              bf->name);
        sqlite3_stmt *st = c->stmt[ST_PUT_BLOB_FORK];
        sqlite3_bind_text(st, 1, bf->name, -1, SQLITE_STATIC);
        bind_u64(st, 2, bf->activation);
        bind_u64(st, 3, bf->blob.target);
        bind_u64(st, 4, bf->blob.max);
        bind_u64(st, 5, bf->blob.update_fraction);
        if (!step_done(st)) return fail_db(err, c->db, c->s->path);
    }
    return true;
}

bool store_set_blob_forks(store_conn *c, const blob_fork *forks, size_t n, store_error *err)
{
    blob_forks_arg a = {forks, n};
    return in_transaction(c, write_blob_forks, &a, err);
}

bool store_get_blob_forks(store_conn *c, blob_fork *out, size_t max, size_t *n, store_error *err)
{
    sqlite3_stmt *st = c->stmt[ST_GET_BLOB_FORKS];
    int rc;
    bool ok = true;
    *n = 0;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == max) ok = store_fail(err, "%s: more than %zu blob-parameter forks", c->s->path, max);
        else if (!column_blob_fork(st, &out[*n])) ok = store_fail(err, "%s: malformed chain_blob_fork row", c->s->path);
        else (*n)++;
    }
    if (ok && rc != SQLITE_DONE) ok = fail_db(err, c->db, c->s->path);
    sqlite3_reset(st);
    return ok;
}

/* The blob-parameter fork in force at `timestamp` on top of engine fork f
 * (activated at fork_activation), if any: *found false when none. */
static bool blob_fork_at(store_conn *c, uint64_t timestamp, uint64_t fork_activation, blob_fork *out, bool *found,
                         store_error *err)
{
    *found = false;
    if (timestamp > (uint64_t)INT64_MAX) timestamp = (uint64_t)INT64_MAX;
    sqlite3_stmt *st = c->stmt[ST_GET_BLOB_FORK_AT];
    bind_u64(st, 1, timestamp);
    int rc = sqlite3_step(st);
    bool ok = true;
    if (rc == SQLITE_ROW) {
        ok = column_blob_fork(st, out);
        *found = ok && out->activation >= fork_activation;
        if (!ok) store_fail(err, "%s: malformed chain_blob_fork row", c->s->path);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail_db(err, c->db, c->s->path);
    return ok;
}

/* ------------------------------------------------------------- head */

bool store_get_head(store_conn *c, block_env *out, store_error *err)
{
    chain_config cfg;
    if (!store_get_chain_config(c, &cfg, err)) return false;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = c->stmt[ST_GET_HEAD];
    int rc = sqlite3_step(st);
    bool ok = true;
    if (rc == SQLITE_ROW) {
        out->number = column_u64(st, 0);
        out->timestamp = column_u64(st, 1);
        out->gas_limit = column_u64(st, 2);
        out->excess_blob_gas = column_u64(st, 7);
        ok = column_fixed(st, 3, out->coinbase.b, 20) && column_u256(st, 4, &out->difficulty) &&
             column_fixed(st, 5, out->prevrandao.b, 32) && column_u256(st, 6, &out->base_fee);
        if (!ok) store_fail(err, "%s: malformed head row", c->s->path);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return store_fail(err, "%s: the database has no head block (create it with 'jitevm init')", c->s->path);
    if (rc != SQLITE_ROW) return fail_db(err, c->db, c->s->path);
    if (!ok) return false;
    out->chain_id = u256_from_u64(cfg.chain_id);
    enum fork f = chain_config_fork_at(&cfg, out->number, out->timestamp);
    block_env_default_blob_schedule(out, f);
    blob_schedule bs;
    if (!store_get_blob_schedule(c, f, &bs, err)) return false;
    if (cfg.by_timestamp[f]) {
        blob_fork bpo;
        bool found;
        if (!blob_fork_at(c, out->timestamp, cfg.activation[f], &bpo, &found, err)) return false;
        if (found) bs = bpo.blob;
    }
    if (bs.target) out->blob_target_per_block = bs.target;
    if (bs.max) out->blob_max_per_block = bs.max;
    if (bs.update_fraction) out->blob_base_fee_update_fraction = bs.update_fraction;
    block_env_update_blob_base_fee(out);
    return true;
}

static bool put_block_hash(store_conn *c, uint64_t number, const hash32 *hash, store_error *err)
{
    if (number > (uint64_t)INT64_MAX) return store_fail(err, "block number %llu is too large", (unsigned long long)number);
    sqlite3_stmt *st = c->stmt[ST_PUT_BLOCK_HASH];
    bind_u64(st, 1, number);
    bind_blob(st, 2, hash->b, 32);
    if (!step_done(st)) return fail_db(err, c->db, c->s->path);
    return true;
}

typedef struct {
    const block_env *head;
    const hash32 *hash, *parent;
} head_arg;

/* The head row and the block hashes it implies. A head at another number
 * than the stored one is a new block: hashes from its number on are
 * dropped (they belonged to blocks that are not its ancestors, or to the
 * old head), so that only what the caller states is known. */
static bool write_head(store_conn *c, const void *arg, store_error *err)
{
    const head_arg *a = arg;
    const block_env *h = a->head;
    chain_config cfg;
    if (!store_get_chain_config(c, &cfg, err)) return false;
    if (!u256_fits_u64(&h->chain_id) || h->chain_id.w[0] != cfg.chain_id)
        return store_fail(err, "%s: the head's chain id differs from the database's (%llu)", c->s->path,
                    (unsigned long long)cfg.chain_id);
    if (h->number > (uint64_t)INT64_MAX)
        return store_fail(err, "block number %llu is too large", (unsigned long long)h->number);
    sqlite3_stmt *st = c->stmt[ST_GET_HEAD];
    int rc = sqlite3_step(st);
    bool same_block = rc == SQLITE_ROW && column_u64(st, 0) == h->number;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail_db(err, c->db, c->s->path);
    st = c->stmt[ST_PUT_HEAD];
    bind_u64(st, 1, h->number);
    bind_u64(st, 2, h->timestamp);
    bind_u64(st, 3, h->gas_limit);
    bind_blob(st, 4, h->coinbase.b, 20);
    bind_u256(st, 5, &h->difficulty);
    bind_blob(st, 6, h->prevrandao.b, 32);
    bind_u256(st, 7, &h->base_fee);
    bind_u64(st, 8, h->excess_blob_gas);
    if (!step_done(st)) return fail_db(err, c->db, c->s->path);
    if (!same_block) {
        st = c->stmt[ST_DROP_BLOCK_HASHES_FROM];
        bind_u64(st, 1, h->number);
        if (!step_done(st)) return fail_db(err, c->db, c->s->path);
    }
    if (a->hash && !put_block_hash(c, h->number, a->hash, err)) return false;
    if (a->parent) {
        if (h->number == 0) return store_fail(err, "block 0 has no parent: a parent hash cannot be set");
        if (!put_block_hash(c, h->number - 1, a->parent, err)) return false;
    }
    /* Hashes BLOCKHASH can no longer reach from this head are dropped. */
    if (h->number > BLOCKHASH_WINDOW) {
        st = c->stmt[ST_PRUNE_BLOCK_HASHES];
        bind_u64(st, 1, h->number - BLOCKHASH_WINDOW);
        if (!step_done(st)) return fail_db(err, c->db, c->s->path);
    }
    return true;
}

bool store_set_head(store_conn *c, const block_env *head, store_error *err)
{
    return store_set_head_block(c, head, NULL, NULL, err);
}

bool store_set_head_block(store_conn *c, const block_env *head, const hash32 *hash, const hash32 *parent_hash,
                          store_error *err)
{
    head_arg a = {head, hash, parent_hash};
    return in_transaction(c, write_head, &a, err);
}

bool store_get_head_usage(store_conn *c, uint64_t *number, uint64_t *gas_used, uint64_t *blob_gas_used,
                          store_error *err)
{
    sqlite3_stmt *st = c->stmt[ST_GET_HEAD_USAGE];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *number = column_u64(st, 0);
        *gas_used = column_u64(st, 1);
        *blob_gas_used = column_u64(st, 2);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return store_fail(err, "%s: the database has no head block (create it with 'jitevm init')", c->s->path);
    if (rc != SQLITE_ROW) return fail_db(err, c->db, c->s->path);
    return true;
}

bool store_set_head_usage(store_conn *c, uint64_t gas_used, uint64_t blob_gas_used, store_error *err)
{
    if (gas_used > (uint64_t)INT64_MAX || blob_gas_used > (uint64_t)INT64_MAX)
        return store_fail(err, "the head's gas used is too large");
    sqlite3_stmt *st = c->stmt[ST_SET_HEAD_USAGE];
    bind_u64(st, 1, gas_used);
    bind_u64(st, 2, blob_gas_used);
    if (!step_done(st)) return fail_db(err, c->db, c->s->path);
    return true;
}

typedef struct {
    uint64_t number;
    const hash32 *hash;
} block_hash_arg;

static bool write_block_hash(store_conn *c, const void *arg, store_error *err)
{
    const block_hash_arg *a = arg;
    return put_block_hash(c, a->number, a->hash, err);
}

bool store_set_block_hash(store_conn *c, uint64_t number, const hash32 *hash, store_error *err)
{
    block_hash_arg a = {number, hash};
    return in_transaction(c, write_block_hash, &a, err);
}

bool store_get_block_hash(store_conn *c, uint64_t number, hash32 *out, bool *found, store_error *err)
{
    *found = false;
    if (number > (uint64_t)INT64_MAX) return true;
    sqlite3_stmt *st = c->stmt[ST_GET_BLOCK_HASH];
    bind_u64(st, 1, number);
    int rc = sqlite3_step(st);
    bool ok = true;
    if (rc == SQLITE_ROW) {
        ok = column_fixed(st, 0, out->b, 32);
        *found = ok;
        if (!ok) store_fail(err, "%s: malformed block_hash row", c->s->path);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail_db(err, c->db, c->s->path);
    return ok;
}

bool store_find_block_number(store_conn *c, const hash32 *hash, uint64_t *number, bool *found, store_error *err)
{
    sqlite3_stmt *st = c->stmt[ST_FIND_BLOCK_HASH];
    bind_blob(st, 1, hash->b, 32);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found) *number = column_u64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail_db(err, c->db, c->s->path);
    return true;
}

/* --------------------------------------------------------- programs */

typedef struct {
    const hash32 *code_hash;
    int version;
    const char *target;
    const uint8_t *blob;
    size_t len;
    const uint8_t *tag;
} program_arg;

static bool write_program(store_conn *c, const void *arg, store_error *err)
{
    const program_arg *a = arg;
    sqlite3_stmt *st = c->stmt[ST_PUT_PROGRAM];
    bind_blob(st, 1, a->code_hash->b, 32);
    sqlite3_bind_int(st, 2, a->version);
    sqlite3_bind_text(st, 3, a->target, -1, SQLITE_TRANSIENT);
    bind_blob(st, 4, a->blob, a->len);
    bind_blob(st, 5, a->tag, 32);
    if (!step_done(st)) return fail_db(err, c->db, c->s->path);
    return true;
}

bool store_put_program(store_conn *c, const hash32 *code_hash, int compiler_version, const char *target,
                       const uint8_t *blob, size_t len, const uint8_t tag[32], store_error *err)
{
    if (!target || !*target) return store_fail(err, "a compiled program needs a target");
    if (len > (size_t)INT32_MAX) return store_fail(err, "compiled program of %zu bytes is too large", len);
    program_arg a = {code_hash, compiler_version, target, blob, len, tag};
    return in_transaction(c, write_program, &a, err);
}

/* Statement `id` bound to a program's key: code hash, compiler version, target. */
static sqlite3_stmt *program_row(store_conn *c, enum stmt_id id, const hash32 *code_hash, int compiler_version,
                                 const char *target)
{
    sqlite3_stmt *st = c->stmt[id];
    bind_blob(st, 1, code_hash->b, 32);
    sqlite3_bind_int(st, 2, compiler_version);
    sqlite3_bind_text(st, 3, target ? target : "", -1, SQLITE_TRANSIENT);
    return st;
}

bool store_get_program_with(store_conn *c, const hash32 *code_hash, int compiler_version, const char *target,
                            bool (*use)(void *ctx, const uint8_t *blob, size_t len, const uint8_t tag[32]),
                            void *ctx, bool *used, store_error *err)
{
    *used = false;
    if (err) err->msg[0] = '\0';
    sqlite3_stmt *st = program_row(c, ST_GET_PROGRAM, code_hash, compiler_version, target);
    int rc = sqlite3_step(st);
    bool found = false;
    if (rc == SQLITE_ROW) {
        uint8_t tag[32];
        /* The blob's pointer first, then its length (SQLite's order: the
         * length asked after the pointer is that of the same value). */
        const void *p = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        if (column_fixed(st, 1, tag, 32) && n >= 0 && (p || n == 0)) {
            found = true;
            *used = use(ctx, p, (size_t)n, tag); /* while the statement is on its row: SQLite's buffer */
        } else {
            store_fail(err, "%s: malformed program row", c->s->path);
        }
    } else if (rc != SQLITE_DONE) {
        fail_db(err, c->db, c->s->path);
    }
    sqlite3_reset(st);
    return found;
}

bool store_read_program(store_conn *c, const hash32 *code_hash, int compiler_version, const char *target,
                        const store_program_reader *r, store_error *err)
{
    if (err) err->msg[0] = '\0';
    sqlite3_stmt *st = program_row(c, ST_GET_PROGRAM_ROW, code_hash, compiler_version, target);
    int rc = sqlite3_step(st);
    bool found = false;
    if (rc == SQLITE_ROW) {
        /* The blob handle is opened while the statement is on its row: one
         * read transaction, so the blob is that of the row whose tag this is. */
        uint8_t tag[32];
        sqlite3_blob *h = NULL;
        if (!column_fixed(st, 1, tag, 32)) {
            store_fail(err, "%s: malformed program row", c->s->path);
        } else if (sqlite3_blob_open(c->db, "main", "program", "blob", sqlite3_column_int64(st, 0), 0, &h) !=
                   SQLITE_OK) {
            fail_db(err, c->db, c->s->path);
        } else {
            found = true;
            int len = sqlite3_blob_bytes(h);
            uint8_t *to = r->place(r->ctx, (size_t)len, tag);
            int piece = r->piece_bytes > 0 && r->piece_bytes < INT_MAX ? (int)r->piece_bytes : INT_MAX;
            for (int at = 0; to && at < len;) {
                int n = len - at < piece ? len - at : piece;
                if (sqlite3_blob_read(h, to + at, n, at) != SQLITE_OK) {
                    found = false;
                    fail_db(err, c->db, c->s->path);
                    break;
                }
                if (!r->piece(r->ctx, to + at, (size_t)n)) break;
                at += n;
            }
        }
        sqlite3_blob_close(h); /* a no-op on NULL */
    } else if (rc != SQLITE_DONE) {
        fail_db(err, c->db, c->s->path);
    }
    sqlite3_reset(st);
    return found;
}

typedef struct {
    uint8_t **blob;
    size_t *len;
    uint8_t *tag;
} program_copy;

static bool copy_program(void *ctx, const uint8_t *blob, size_t len, const uint8_t tag[32])
{
    program_copy *pc = ctx;
    *pc->blob = xmalloc(len ? len : 1);
    if (len) memcpy(*pc->blob, blob, len);
    *pc->len = len;
    memcpy(pc->tag, tag, 32);
    return true;
}

bool store_get_program(store_conn *c, const hash32 *code_hash, int compiler_version, const char *target,
                       uint8_t **blob, size_t *len, uint8_t tag[32], store_error *err)
{
    *blob = NULL;
    *len = 0;
    program_copy pc = {blob, len, tag};
    bool used;
    return store_get_program_with(c, code_hash, compiler_version, target, copy_program, &pc, &used, err);
}

bool store_has_code(store_conn *c, const hash32 *code_hash, bool *found, store_error *err)
{
    if (err) err->msg[0] = '\0';
    sqlite3_stmt *st = c->stmt[ST_HAS_CODE];
    bind_blob(st, 1, code_hash->b, 32);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    if (!ok) fail_db(err, c->db, c->s->path);
    sqlite3_reset(st);
    return ok;
}

/* ------------------------------------------------------- whole state */

/* The root of the leaves; empties the set for reuse. */
static void leaf_root(trie_leaves *ls, hash32 *root)
{
    trie_root(trie_leaves_entries(ls), ls->count, root);
    trie_leaves_clear(ls);
}

/* Walks accounts and storage side by side, both in address order (their
 * primary keys): each account's slots come right after it, read once, with
 * no per-account lookup. */
static bool visit(store_conn *c, const address *only, const store_visitor *v, store_error *err)
{
    sqlite3_stmt *acc = NULL, *slots = NULL;
    const char *acc_sql = only ? "SELECT address, nonce, balance, code_hash FROM account WHERE address = ?1"
                               : "SELECT address, nonce, balance, code_hash FROM account ORDER BY address";
    const char *slot_sql = only ? "SELECT address, slot, value FROM storage WHERE address = ?1 ORDER BY slot"
                                : "SELECT address, slot, value FROM storage ORDER BY address, slot";
    if (sqlite3_prepare_v2(c->db, acc_sql, -1, &acc, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, slot_sql, -1, &slots, NULL) != SQLITE_OK) {
        fail_db(err, c->db, c->s->path);
        sqlite3_finalize(acc);
        return false;
    }
    if (only) {
        bind_blob(acc, 1, only->b, 20);
        bind_blob(slots, 1, only->b, 20);
    }
    sqlite3_stmt *code = c->stmt[ST_GET_CODE];
    bool ok = true;
    int slot_rc = sqlite3_step(slots);
    int rc;
    while (ok && (rc = sqlite3_step(acc)) == SQLITE_ROW) {
        address a;
        account_info info = {.code_hash = KECCAK_EMPTY};
        info.nonce = column_u64(acc, 1);
        bool has_code = sqlite3_column_type(acc, 3) != SQLITE_NULL;
        if (!column_fixed(acc, 0, a.b, 20) || !column_u256(acc, 2, &info.balance) ||
            (has_code && !column_fixed(acc, 3, info.code_hash.b, 32))) {
            ok = store_fail(err, "%s: malformed account row", c->s->path);
            break;
        }
        const uint8_t *code_bytes = NULL;
        size_t code_len = 0;
        if (v->want_code && has_code) {
            bind_blob(code, 1, info.code_hash.b, 32);
            int code_rc = sqlite3_step(code);
            if (code_rc == SQLITE_ROW) {
                code_bytes = sqlite3_column_blob(code, 0);
                code_len = (size_t)sqlite3_column_bytes(code, 0);
            } else {
                ok = code_rc == SQLITE_DONE ? store_fail(err, "%s: the code of account %02x%02x%02x... is missing", c->s->path,
                                                   a.b[0], a.b[1], a.b[2])
                                            : fail_db(err, c->db, c->s->path);
            }
        }
        if (ok && v->account && !v->account(v->ctx, &a, &info, code_bytes, code_len)) ok = store_fail(err, "%s", "");
        sqlite3_reset(code);
        /* Slots of addresses before this one belong to no account (the store
         * never writes such rows); they are not part of the state. */
        while (ok && slot_rc == SQLITE_ROW) {
            const uint8_t *sa = sqlite3_column_blob(slots, 0);
            int cmp = (sa && sqlite3_column_bytes(slots, 0) == 20) ? memcmp(sa, a.b, 20) : -1;
            if (cmp > 0) break;
            if (cmp == 0) {
                uint8_t slot[32];
                u256 value;
                if (!column_fixed(slots, 1, slot, 32) || !column_u256(slots, 2, &value)) {
                    ok = store_fail(err, "%s: malformed storage row", c->s->path);
                    break;
                }
                u256 key = u256_load_be(slot);
                if (!u256_is_zero(&value) && v->slot && !v->slot(v->ctx, &a, &key, &value)) ok = store_fail(err, "%s", "");
            }
            slot_rc = sqlite3_step(slots);
        }
        if (ok && v->account_end && !v->account_end(v->ctx, &a, &info)) ok = store_fail(err, "%s", "");
    }
    if (ok && rc != SQLITE_DONE) ok = fail_db(err, c->db, c->s->path);
    if (ok && slot_rc != SQLITE_ROW && slot_rc != SQLITE_DONE) ok = fail_db(err, c->db, c->s->path);
    sqlite3_finalize(acc);
    sqlite3_finalize(slots);
    return ok;
}

/* The root: memory holds one account's slot leaves at a time, plus every
 * account's leaf (32-byte key + at most 110 bytes of RLP), which trie_root
 * needs all at once. */
typedef struct {
    trie_leaves accounts, storage;
    bytebuf rlp;
} root_builder;

static bool root_slot(void *ctx, const address *a, const u256 *key, const u256 *value)
{
    (void)a;
    root_builder *rb = ctx;
    uint8_t be[32], hashed[32];
    u256_store_be(be, key);
    keccak256(be, 32, hashed);
    rb->rlp.len = 0;
    rlp_put_u256(&rb->rlp, value);
    trie_leaves_add(&rb->storage, hashed, rb->rlp.data, rb->rlp.len);
    return true;
}

static bool root_account_end(void *ctx, const address *a, const account_info *info)
{
    root_builder *rb = ctx;
    hash32 storage_root;
    leaf_root(&rb->storage, &storage_root);
    account_encode_rlp(&rb->rlp, info->nonce, &info->balance, &storage_root, &info->code_hash);
    uint8_t hashed[32];
    keccak256(a->b, 20, hashed);
    trie_leaves_add(&rb->accounts, hashed, rb->rlp.data, rb->rlp.len);
    return true;
}

static bool compute_root(store_conn *c, hash32 *root, store_error *err)
{
    root_builder rb = {0};
    store_visitor v = {.ctx = &rb, .slot = root_slot, .account_end = root_account_end};
    bool ok = visit(c, NULL, &v, err);
    if (ok) leaf_root(&rb.accounts, root);
    trie_leaves_free(&rb.accounts);
    trie_leaves_free(&rb.storage);
    bytebuf_free(&rb.rlp);
    return ok;
}

/* Runs a whole-state read inside one snapshot: the caller's, or its own. */
static bool in_snapshot(store_conn *c, bool (*fn)(store_conn *, void *, store_error *), void *arg, store_error *err)
{
    if (c->in_read || c->in_write) return fn(c, arg, err);
    store_snapshot_release(c);
    if (!step_done(c->stmt[ST_BEGIN_READ])) return fail_db(err, c->db, c->s->path);
    bool ok = fn(c, arg, err);
    step_done(c->stmt[ST_COMMIT]);
    return ok;
}

/* At least this many changed keys before a full rebuild is considered. */
#define TRIE_REBUILD_MIN 65536
#define TRIE_REBUILD_MIN_STR "65536"
/* Fewer accounts than this: no build at open (see trie_sync_at_open). */
#define TRIE_BUILD_AT_OPEN 1000
#define TRIE_BUILD_AT_OPEN_STR "1000"

/* Brings the stored trie up to date inside the open write transaction of
 * `db`: built in full when it never was (and `build` allows, or there is
 * state to build it from), else the keys in trie_dirty rehashed. Nothing
 * in a live database. */
static bool trie_sync(sqlite3 *db, const char *path, bool build, store_error *err)
{
    trie_view *v = trie_view_open(db, path, err);
    if (!v) return false;
    bool ok = true;
    if (trie_view_live(v)) {
        ok = trie_view_drop(v, err); /* a cache, not the state: no trie (nothing to drop unless made before) */
    } else if (!trie_view_built(v)) {
        sqlite3_int64 accounts = 0;
        if (!build)
            ok = query_int(db, "SELECT count(*) FROM (SELECT 1 FROM account LIMIT " TRIE_BUILD_AT_OPEN_STR ")",
                           &accounts, path, err);
        if (ok && (build || accounts >= TRIE_BUILD_AT_OPEN)) ok = trie_view_build(v, err);
    } else {
        /* Rehashing a changed key costs ~0.05 ms per key (1M accounts:
         * 100k changed took 5.3 s), a full build ~10 us per account (10.5 s):
         * past a fifth of the accounts changed (a bulk import), rebuild. */
        sqlite3_int64 dirty = 0, accounts = 0;
        ok = query_int(db, "SELECT count(*) FROM (SELECT 1 FROM trie_dirty LIMIT " TRIE_REBUILD_MIN_STR ")", &dirty,
                       path, err);
        if (ok && dirty >= TRIE_REBUILD_MIN)
            ok = query_int(db, "SELECT count(*) FROM trie_leaf WHERE owner = X''", &accounts, path, err) &&
                 query_int(db, "SELECT count(*) FROM trie_dirty", &dirty, path, err);
        if (ok && dirty >= TRIE_REBUILD_MIN && dirty * 5 >= accounts)
            ok = trie_view_build(v, err);
        else if (ok)
            ok = trie_view_catch_up(v, err) && trie_view_persist(v, err);
    }
    trie_view_close(v);
    return ok;
}

/* At open (read-write): a database whose trie was never built while it
 * held state (one created before migration 007, or bulk-imported into
 * while new) gets it now, once; changes left in trie_dirty are hashed in.
 * One with fewer than TRIE_BUILD_AT_OPEN accounts (a new database, a dev
 * chain's genesis) is left unbuilt, so that an import into it fires no
 * trigger (1M accounts imported into a built trie took twice the CPU);
 * its first root builds it, and until then a proof walks its few accounts. */
static bool trie_sync_at_open(sqlite3 *db, const char *path, store_error *err)
{
    if (!exec_sql(db, "BEGIN IMMEDIATE", path, err)) return false;
    bool ok = trie_sync(db, path, false, err) && exec_sql(db, "COMMIT", path, err);
    if (!ok) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return ok;
}

trie_view *store_trie_view(store_conn *c, bool *available, store_error *err)
{
    *available = false;
    err->msg[0] = '\0';
    trie_view *v = c->trie_cached;
    c->trie_cached = NULL;
    if (v && !trie_view_refresh(v, err)) {
        trie_view_close(v);
        return NULL;
    }
    if (!v && !(v = trie_view_open(c->db, c->s->path, err))) return NULL;
    if (!trie_view_built(v) || !trie_view_catch_up(v, err)) {
        store_trie_view_done(c, v);
        return NULL;
    }
    *available = true;
    return v;
}

void store_trie_view_done(store_conn *c, struct trie_view *v)
{
    if (!v) return;
    trie_view_idle(v);
    if (c->trie_cached) trie_view_close(v);
    else c->trie_cached = v;
}

/* The changes a state holds, as the stored trie takes them. */
typedef struct {
    trie_change *v;
    size_t n, cap;
} change_list;

static trie_change *change_add(change_list *l, const address *a)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    trie_change *c = &l->v[l->n++];
    memset(c, 0, sizeof *c);
    c->addr = *a;
    return c;
}

static void changes_delete_account(void *ctx, const address *a)
{
    trie_change *c = change_add(ctx, a);
    c->wipe_storage = true; /* removed with its storage, as the sink's contract says */
}

static void changes_put_account(void *ctx, const address *a, const account_info *info, const uint8_t *code,
                                size_t code_len, bool code_changed)
{
    (void)code, (void)code_len, (void)code_changed;
    trie_change *c = change_add(ctx, a);
    c->exists = true;
    c->nonce = info->nonce;
    c->balance = info->balance;
    c->code_hash = info->code_hash;
}

static void changes_put_storage(void *ctx, const address *a, const u256 *key, const u256 *value)
{
    trie_change *c = change_add(ctx, a);
    c->is_slot = true;
    c->slot = *key;
    c->value = *value;
}

bool store_state_root_after(store_conn *c, state *st, hash32 *root, store_error *err)
{
    store_error local;
    if (!err) err = &local;
    bool available;
    trie_view *v = store_trie_view(c, &available, err);
    if (!available) {
        if (!err->msg[0]) store_fail(err, "%s: no stored state trie (a live database keeps none)", c->s->path);
        return false;
    }
    change_list l = {0};
    state_sink sink = STATE_SINK_OF(&l, changes);
    state_visit_changes(st, &sink);
    hash32 r;
    bool ok = trie_view_apply(v, l.v, l.n, err) && trie_view_root(v, &r, err);
    if (ok) *root = r;
    store_trie_view_done(c, v);
    free(l.v);
    return ok;
}

/* The root from the stored trie when there is one, else from every
 * account and slot (a live database, a read-only one never built). */
static bool root_fn(store_conn *c, void *arg, store_error *err)
{
    bool available;
    trie_view *v = store_trie_view(c, &available, err);
    if (!available) return err->msg[0] ? false : compute_root(c, arg, err);
    bool ok = trie_view_root(v, arg, err);
    store_trie_view_done(c, v);
    return ok;
}

bool store_state_root(store_conn *c, hash32 *root, store_error *err)
{
    store_error local;
    if (!err) err = &local;
    err->msg[0] = '\0';
    bool writable = !(c->s->flags & STORE_OPEN_READONLY) && !live_mode(c);
    /* Outside a read snapshot, the trie is brought up to date on disk first
     * (in the caller's write transaction or in its own), so that the next
     * root or proof starts from there. */
    if (writable && c->in_write) {
        if (!trie_sync(c->db, c->s->path, true, err)) return false;
    } else if (writable && !c->in_read) {
        store_snapshot_release(c);
        if (!step_done(c->stmt[ST_BEGIN_WRITE])) return fail_db(err, c->db, c->s->path);
        bool ok = trie_sync(c->db, c->s->path, true, err);
        if (ok && !step_done(c->stmt[ST_COMMIT])) ok = fail_db(err, c->db, c->s->path);
        if (!ok) {
            step_done(c->stmt[ST_ROLLBACK]);
            return false;
        }
    }
    return in_snapshot(c, root_fn, root, err);
}

typedef struct {
    uint64_t accounts, slots, code_bytes;
} counts;

static bool counts_fn(store_conn *c, void *arg, store_error *err)
{
    counts *n = arg;
    sqlite3_int64 v[3];
    if (!query_int(c->db, "SELECT count(*) FROM account", &v[0], c->s->path, err) ||
        !query_int(c->db, "SELECT count(*) FROM storage", &v[1], c->s->path, err) ||
        !query_int(c->db, "SELECT coalesce(sum(length(code)), 0) FROM code", &v[2], c->s->path, err))
        return false;
    n->accounts = (uint64_t)v[0];
    n->slots = (uint64_t)v[1];
    n->code_bytes = (uint64_t)v[2];
    return true;
}

bool store_counts(store_conn *c, uint64_t *accounts, uint64_t *slots, uint64_t *code_bytes, store_error *err)
{
    counts n;
    if (!in_snapshot(c, counts_fn, &n, err)) return false;
    if (accounts) *accounts = n.accounts;
    if (slots) *slots = n.slots;
    if (code_bytes) *code_bytes = n.code_bytes;
    return true;
}

typedef struct {
    const address *only;
    const store_visitor *v;
} visit_arg;

static bool visit_fn(store_conn *c, void *arg, store_error *err)
{
    const visit_arg *a = arg;
    return visit(c, a->only, a->v, err);
}

bool store_visit(store_conn *c, const address *only, const store_visitor *v, store_error *err)
{
    visit_arg a = {only, v};
    return in_snapshot(c, visit_fn, &a, err);
}

/* ------------------------------------------------ live mode: the pin */

static bool write_live_pin(store_conn *c, const void *arg, store_error *err)
{
    const store_live_pin *pin = arg;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO live_upstream (id, url, block_number, block_hash) "
                                  "VALUES (1, ?1, ?2, ?3)", -1, &st, NULL) != SQLITE_OK)
        return fail_db(err, c->db, c->s->path);
    sqlite3_bind_text(st, 1, pin->url, -1, SQLITE_STATIC);
    bind_u64(st, 2, pin->block_number);
    bind_blob(st, 3, pin->block_hash.b, 32);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok || fail_db(err, c->db, c->s->path);
}

bool store_set_live_pin(store_conn *c, const store_live_pin *pin, store_error *err)
{
    return in_transaction(c, write_live_pin, pin, err);
}

bool store_get_live_pin(store_conn *c, store_live_pin *out, bool *found, store_error *err)
{
    sqlite3_stmt *st;
    *found = false;
    if (sqlite3_prepare_v2(c->db, "SELECT url, block_number, block_hash FROM live_upstream WHERE id = 1", -1, &st,
                           NULL) != SQLITE_OK)
        return fail_db(err, c->db, c->s->path);
    int rc = sqlite3_step(st);
    bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    if (rc == SQLITE_ROW) {
        const char *url = (const char *)sqlite3_column_text(st, 0);
        ok = url && strlen(url) < sizeof out->url && column_fixed(st, 2, out->block_hash.b, 32);
        if (ok) {
            strcpy(out->url, url);
            out->block_number = column_u64(st, 1);
            *found = true;
        }
    }
    sqlite3_finalize(st);
    if (!ok) return rc == SQLITE_ROW ? store_fail(err, "%s: malformed live_upstream row", c->s->path)
                                     : fail_db(err, c->db, c->s->path);
    return true;
}

/* ------------------------------------------- live mode: applying blocks */

/* Runs `sql` on the connection with up to two blobs bound (then an
 * optional u256); false with err on failure. */
static bool exec_bound(store_conn *c, const char *sql, const uint8_t *b1, int l1, const uint8_t *b2, int l2,
                       store_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) return fail_db(err, c->db, c->s->path);
    if (b1) bind_blob(st, 1, b1, l1);
    if (b2) bind_blob(st, 2, b2, l2);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok || fail_db(err, c->db, c->s->path);
}

static bool fact_exists(store_conn *c, enum stmt_id id, const address *a, const uint8_t *slot)
{
    bool failed = c->failed;
    bool found = live_fact(c, id, a, slot);
    c->failed = failed;
    return found;
}

/* Undo records (live_block_undo.undo). While a block is applied, each
 * account or slot it touches is noted once, at its first touch: what the
 * cache held then (UNDO_*: a row with its value, the fact "absent" or
 * "zero", or nothing; for an account, also whether live_has_storage marked
 * it) is what undoing the block must put back, and a later touch in the
 * same block changes nothing of that. Since every key is noted once, the
 * entries restore in any order.
 *
 * Stored (format 2), grouped by address:
 *   record := 0x02 group*
 *   group  := address(20) account slot-count(varint) slot*
 *   account:= 0 (not touched) | held | 4 when a code hash follows
 *             | 8 when live_has_storage marked the account;
 *             held == ROW: nonce (varint), balance (length byte, big-endian
 *             bytes without leading zeros), the code hash (32) unless it
 *             is the empty code's
 *   slot   := held | key length << 2; the key (big-endian, no leading
 *             zeros); held == ROW: the value as the balance
 * A slot whose key is a hash and whose old value was not cached takes 33
 * bytes. Format 1 is format 2 without the mark bit (undoing it leaves the
 * marks as they are); records written before it (a kind byte 'A' or 'S'
 * per entry, 86 or 94 bytes, one per touch, restored newest first) are
 * read too. */
enum { UNDO_UNKNOWN = 1, UNDO_ROW = 2, UNDO_ABSENT = 3 }; /* ABSENT: the account absent, the slot zero */
enum { UNDO_FORMAT_1 = 1, UNDO_FORMAT = 2, UNDO_CODE_HASH = 4, UNDO_MARKED = 8 };
enum { LEGACY_UNKNOWN = 0, LEGACY_ROW = 1, LEGACY_ABSENT = 2 };
enum { LEGACY_ACCOUNT_BYTES = 2 + 20 + 8 + 32 + 32, LEGACY_SLOT_BYTES = 2 + 20 + 32 + 32 };

typedef struct undo_entry {
    address a;
    bool is_slot;
    uint8_t held;
    u256 key, value; /* a slot: its key, and its value when held == UNDO_ROW */
    account_info info; /* an account, when held == UNDO_ROW */
    bool mark_known;   /* an account: the record says whether it was marked (format 2) */
    bool marked;       /* ... and it was (a row in live_has_storage) */
} undo_entry;

static uint64_t undo_key_hash(const address *a, bool is_slot, const u256 *key)
{
    uint64_t h = address_hash64(a) ^ (is_slot ? 0x9e3779b97f4a7c15ull : 0);
    if (is_slot)
        for (int i = 0; i < 4; i++) h = (h ^ key->w[i]) * 0x100000001b3ull;
    return h ^ h >> 29;
}

/* The entry noted for this key in the block being applied, or a new one
 * (*fresh: to be filled by the caller). */
static undo_entry *undo_slot_for(store_conn *c, const address *a, bool is_slot, const u256 *key, bool *fresh)
{
    if (2 * (c->undo_n + 1) > c->undo_index_cap) { /* grow to keep the load at most 1/2 */
        size_t cap = c->undo_index_cap ? c->undo_index_cap * 2 : 256;
        uint32_t *index = xcalloc(cap, sizeof *index);
        for (size_t i = 0; i < c->undo_n; i++) {
            const undo_entry *e = &c->undo[i];
            size_t p = undo_key_hash(&e->a, e->is_slot, &e->key) & (cap - 1);
            while (index[p]) p = (p + 1) & (cap - 1);
            index[p] = (uint32_t)i + 1;
        }
        free(c->undo_index);
        c->undo_index = index;
        c->undo_index_cap = cap;
    }
    u256 zero = u256_zero();
    if (!is_slot) key = &zero;
    size_t mask = c->undo_index_cap - 1, p = undo_key_hash(a, is_slot, key) & mask;
    for (; c->undo_index[p]; p = (p + 1) & mask) {
        undo_entry *e = &c->undo[c->undo_index[p] - 1];
        if (e->is_slot == is_slot && memcmp(e->a.b, a->b, 20) == 0 && u256_eq(&e->key, key)) {
            *fresh = false;
            return e;
        }
    }
    if (c->undo_n == c->undo_cap) c->undo = xrealloc(c->undo, (c->undo_cap = c->undo_cap ? c->undo_cap * 2 : 64) * sizeof *c->undo);
    undo_entry *e = &c->undo[c->undo_n++];
    c->undo_index[p] = (uint32_t)c->undo_n;
    memset(e, 0, sizeof *e);
    e->a = *a;
    e->is_slot = is_slot;
    e->key = *key;
    *fresh = true;
    return e;
}

static void undo_note_account(store_conn *c, const address *a)
{
    if (!c->undo_on) return;
    bool fresh;
    undo_entry *e = undo_slot_for(c, a, false, NULL, &fresh);
    if (!fresh) return;
    if (read_account(c, a, &e->info)) e->held = UNDO_ROW;
    else e->held = fact_exists(c, ST_LIVE_ABSENT, a, NULL) ? UNDO_ABSENT : UNDO_UNKNOWN;
    e->mark_known = true;
    e->marked = fact_exists(c, ST_LIVE_HAS_STORAGE, a, NULL);
}

static void undo_note_slot(store_conn *c, const address *a, const u256 *key, int held, const u256 *value)
{
    if (!c->undo_on) return;
    bool fresh;
    undo_entry *e = undo_slot_for(c, a, true, key, &fresh);
    if (!fresh) return;
    e->held = (uint8_t)held;
    if (held == UNDO_ROW && value) e->value = *value;
}

/* Before an account's slots are all dropped: each one the cache holds. */
static bool undo_note_all_slots(store_conn *c, const address *a, store_error *err)
{
    if (!c->undo_on) return true;
    static const char *const sql[2] = {"SELECT slot, value FROM storage WHERE address = ?1",
                                       "SELECT slot FROM live_zero_slot WHERE address = ?1"};
    for (int q = 0; q < 2; q++) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(c->db, sql[q], -1, &st, NULL) != SQLITE_OK) return fail_db(err, c->db, c->s->path);
        bind_blob(st, 1, a->b, 20);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            uint8_t k[32];
            u256 v = u256_zero();
            if (!column_fixed(st, 0, k, 32) || (q == 0 && !column_u256(st, 1, &v))) continue;
            u256 key = u256_load_be(k);
            undo_note_slot(c, a, &key, q == 0 ? UNDO_ROW : UNDO_ABSENT, &v);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) return fail_db(err, c->db, c->s->path);
    }
    return true;
}

void store_live_undo_begin(store_conn *c)
{
    c->undo_on = true;
    c->undo_n = 0;
    if (c->undo_index) memset(c->undo_index, 0, c->undo_index_cap * sizeof *c->undo_index);
}

static void put_varint(bytebuf *b, uint64_t v)
{
    uint8_t out[10];
    size_t n = 0;
    do {
        out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    bytebuf_append(b, out, n);
}

/* A word without its leading zero bytes, after its length (0..32). */
static void put_word(bytebuf *b, const u256 *v, bool with_length)
{
    uint8_t be[32];
    u256_store_be(be, v);
    size_t skip = 0;
    while (skip < 32 && be[skip] == 0) skip++;
    if (with_length) {
        uint8_t len = (uint8_t)(32 - skip);
        bytebuf_append(b, &len, 1);
    }
    bytebuf_append(b, be + skip, 32 - skip);
}

static int compare_undo(const void *pa, const void *pb, void *ctx)
{
    const undo_entry *entries = ctx, *a = &entries[*(const uint32_t *)pa], *b = &entries[*(const uint32_t *)pb];
    int d = memcmp(a->a.b, b->a.b, 20);
    if (d) return d;
    return (int)a->is_slot - (int)b->is_slot; /* the account first */
}

static void undo_encode(const store_conn *c, bytebuf *out)
{
    uint8_t version = UNDO_FORMAT;
    bytebuf_append(out, &version, 1);
    uint32_t *order = xcalloc(c->undo_n ? c->undo_n : 1, sizeof *order);
    for (size_t i = 0; i < c->undo_n; i++) order[i] = (uint32_t)i;
    qsort_r(order, c->undo_n, sizeof *order, compare_undo, c->undo);
    for (size_t i = 0; i < c->undo_n;) {
        const undo_entry *first = &c->undo[order[i]];
        size_t end = i;
        while (end < c->undo_n && memcmp(c->undo[order[end]].a.b, first->a.b, 20) == 0) end++;
        bytebuf_append(out, first->a.b, 20);
        size_t slots_from = i;
        if (!first->is_slot) {
            bool own_code = first->held == UNDO_ROW && memcmp(first->info.code_hash.b, KECCAK_EMPTY.b, 32) != 0;
            uint8_t flag = (uint8_t)(first->held | (own_code ? UNDO_CODE_HASH : 0) | (first->marked ? UNDO_MARKED : 0));
            bytebuf_append(out, &flag, 1);
            if (first->held == UNDO_ROW) {
                put_varint(out, first->info.nonce);
                put_word(out, &first->info.balance, true);
                if (own_code) bytebuf_append(out, first->info.code_hash.b, 32);
            }
            slots_from++;
        } else {
            uint8_t none = 0;
            bytebuf_append(out, &none, 1);
        }
        put_varint(out, end - slots_from);
        for (size_t k = slots_from; k < end; k++) {
            const undo_entry *e = &c->undo[order[k]];
            uint8_t be[32];
            u256_store_be(be, &e->key);
            size_t skip = 0;
            while (skip < 32 && be[skip] == 0) skip++;
            uint8_t head = (uint8_t)(e->held | (32 - skip) << 2);
            bytebuf_append(out, &head, 1);
            bytebuf_append(out, be + skip, 32 - skip);
            if (e->held == UNDO_ROW) put_word(out, &e->value, true);
        }
        i = end;
    }
    free(order);
}

bool store_live_undo_save(store_conn *c, uint64_t number, const hash32 *hash, const hash32 *parent, unsigned keep,
                          store_error *err)
{
    c->undo_on = false;
    if (!c->in_write) return store_fail(err, "%s: store_live_undo_save outside a transaction", c->s->path);
    bytebuf record = {0};
    undo_encode(c, &record);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO live_block_undo (number, hash, parent_hash, undo) "
                                  "VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL) != SQLITE_OK) {
        bytebuf_free(&record);
        return fail_db(err, c->db, c->s->path);
    }
    bind_u64(st, 1, number);
    bind_blob(st, 2, hash->b, 32);
    bind_blob(st, 3, parent->b, 32);
    sqlite3_bind_blob(st, 4, record.data, (int)record.len, SQLITE_TRANSIENT);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    bytebuf_free(&record);
    if (!ok) return fail_db(err, c->db, c->s->path);
    /* Older than the window, or left from another branch above this block. */
    if (sqlite3_prepare_v2(c->db, "DELETE FROM live_block_undo WHERE number <= ?1 OR number > ?2", -1, &st, NULL) !=
        SQLITE_OK)
        return fail_db(err, c->db, c->s->path);
    bind_u64(st, 1, number >= keep ? number - keep : 0);
    bind_u64(st, 2, number);
    if (number < keep) sqlite3_bind_int64(st, 1, -1);
    ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok || fail_db(err, c->db, c->s->path);
}

static bool undo_restore(store_conn *c, const undo_entry *e, store_error *err)
{
    const address *a = &e->a;
    if (!e->is_slot) {
        bool ok = e->held == UNDO_ROW ? write_account(c, a, &e->info) || fail_db(err, c->db, c->s->path)
                                      : exec_bound(c, "DELETE FROM account WHERE address = ?1", a->b, 20, NULL, 0, err);
        if (ok && e->mark_known)
            ok = exec_bound(c, e->marked ? "INSERT OR IGNORE INTO live_has_storage (address) VALUES (?1)"
                                         : "DELETE FROM live_has_storage WHERE address = ?1",
                            a->b, 20, NULL, 0, err);
        return ok && (e->held == UNDO_ABSENT
                          ? exec_bound(c, "INSERT OR IGNORE INTO live_absent_account (address) VALUES (?1)", a->b, 20,
                                       NULL, 0, err)
                          : exec_bound(c, "DELETE FROM live_absent_account WHERE address = ?1", a->b, 20, NULL, 0, err));
    }
    uint8_t slot[32];
    u256_store_be(slot, &e->key);
    bool ok = e->held == UNDO_ROW ? write_slot(c, a, &e->key, &e->value) || fail_db(err, c->db, c->s->path)
                                  : exec_bound(c, "DELETE FROM storage WHERE address = ?1 AND slot = ?2", a->b, 20, slot,
                                               32, err);
    return ok && (e->held == UNDO_ABSENT
                      ? exec_bound(c, "INSERT OR IGNORE INTO live_zero_slot (address, slot) VALUES (?1, ?2)", a->b, 20,
                                   slot, 32, err)
                      : exec_bound(c, "DELETE FROM live_zero_slot WHERE address = ?1 AND slot = ?2", a->b, 20, slot,
                                   32, err));
}

/* A reader over a record's bytes: false once it would read past the end. */
typedef struct {
    const uint8_t *p;
    size_t left;
} undo_reader;

static bool get_bytes(undo_reader *r, void *out, size_t n)
{
    if (n > r->left) return false;
    if (out) memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
    return true;
}

static bool get_varint(undo_reader *r, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b;
        if (!get_bytes(r, &b, 1)) return false;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

static bool get_word(undo_reader *r, size_t len, u256 *v)
{
    uint8_t be[32] = {0};
    if (len > 32 || !get_bytes(r, be + 32 - len, len)) return false;
    *v = u256_load_be(be);
    return true;
}

/* Format 1 or 2 into entries (any order). */
static bool undo_decode(undo_reader *r, uint8_t format, undo_entry **out, size_t *n)
{
    size_t cap = 0;
    uint8_t known_bits = (uint8_t)(3 | UNDO_CODE_HASH | (format >= 2 ? UNDO_MARKED : 0));
    while (r->left) {
        undo_entry acct = {0};
        uint8_t flag, len;
        uint64_t slots;
        if (!get_bytes(r, acct.a.b, 20) || !get_bytes(r, &flag, 1)) return false;
        acct.held = flag & 3;
        if ((flag & ~known_bits) || (acct.held != UNDO_ROW && (flag & UNDO_CODE_HASH))) return false;
        if (!acct.held && (flag & UNDO_MARKED)) return false;
        acct.mark_known = format >= 2;
        acct.marked = flag & UNDO_MARKED;
        if (acct.held == UNDO_ROW) {
            acct.info.code_hash = KECCAK_EMPTY;
            if (!get_varint(r, &acct.info.nonce) || !get_bytes(r, &len, 1) || !get_word(r, len, &acct.info.balance) ||
                ((flag & UNDO_CODE_HASH) && !get_bytes(r, acct.info.code_hash.b, 32)))
                return false;
        }
        if (!get_varint(r, &slots) || slots > r->left) return false;
        if (*n + slots + 1 > cap) *out = xrealloc(*out, (cap = (*n + slots + 1) * 2) * sizeof **out);
        if (acct.held) (*out)[(*n)++] = acct;
        for (uint64_t k = 0; k < slots; k++) {
            undo_entry e = {.a = acct.a, .is_slot = true};
            uint8_t head;
            if (!get_bytes(r, &head, 1) || !get_word(r, head >> 2, &e.key)) return false;
            e.held = head & 3;
            if (!e.held || (e.held == UNDO_ROW && (!get_bytes(r, &len, 1) || !get_word(r, len, &e.value)))) return false;
            (*out)[(*n)++] = e;
        }
    }
    return true;
}

/* The format before 1 into entries, oldest first (restored newest first). */
static bool undo_decode_legacy(undo_reader *r, undo_entry **out, size_t *n)
{
    size_t cap = 0;
    while (r->left) {
        bool account = r->p[0] == 'A';
        size_t size = account ? LEGACY_ACCOUNT_BYTES : LEGACY_SLOT_BYTES;
        if ((!account && r->p[0] != 'S') || size > r->left || r->p[1] > LEGACY_ABSENT) return false;
        const uint8_t *e = r->p;
        if (*n == cap) *out = xrealloc(*out, (cap = cap ? cap * 2 : 64) * sizeof **out);
        undo_entry *d = &(*out)[(*n)++];
        memset(d, 0, sizeof *d);
        memcpy(d->a.b, e + 2, 20);
        d->held = (uint8_t)(e[1] + 1); /* LEGACY_* + 1 == UNDO_* */
        d->is_slot = !account;
        if (account) {
            for (int i = 0; i < 8; i++) d->info.nonce = d->info.nonce << 8 | e[22 + i];
            d->info.balance = u256_load_be(e + 30);
            memcpy(d->info.code_hash.b, e + 62, 32);
        } else {
            d->key = u256_load_be(e + 22);
            d->value = u256_load_be(e + 54);
        }
        get_bytes(r, NULL, size);
    }
    return true;
}

bool store_live_undo_block(store_conn *c, uint64_t number, bool *found, store_error *err)
{
    *found = false;
    if (!c->in_write) return store_fail(err, "%s: store_live_undo_block outside a transaction", c->s->path);
    c->wrote = true;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "SELECT undo FROM live_block_undo WHERE number = ?1", -1, &st, NULL) != SQLITE_OK)
        return fail_db(err, c->db, c->s->path);
    bind_u64(st, 1, number);
    bytebuf undo = {0};
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found = true;
        bytebuf_append(&undo, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail_db(err, c->db, c->s->path);
    undo_reader r = {undo.data, undo.len};
    undo_entry *entries = NULL;
    size_t n = 0;
    bool ok = true;
    if (r.left && (r.p[0] == UNDO_FORMAT || r.p[0] == UNDO_FORMAT_1)) {
        uint8_t format = r.p[0];
        get_bytes(&r, NULL, 1);
        ok = undo_decode(&r, format, &entries, &n);
    } else {
        ok = undo_decode_legacy(&r, &entries, &n);
    }
    if (!ok) ok = store_fail(err, "%s: malformed undo record of block %" PRIu64, c->s->path, number);
    while (ok && n) ok = undo_restore(c, &entries[--n], err);
    free(entries);
    bytebuf_free(&undo);
    if (ok && *found) {
        if (sqlite3_prepare_v2(c->db, "DELETE FROM live_block_undo WHERE number = ?1", -1, &st, NULL) != SQLITE_OK)
            return fail_db(err, c->db, c->s->path);
        bind_u64(st, 1, number);
        ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
        if (!ok) return fail_db(err, c->db, c->s->path);
    }
    return ok;
}

bool store_live_undo_clear(store_conn *c, store_error *err)
{
    c->undo_on = false;
    return exec_bound(c, "DELETE FROM live_block_undo", NULL, 0, NULL, 0, err);
}

bool store_live_apply_account(store_conn *c, const address *a, int fields, const account_info *info,
                              const uint8_t *code, size_t code_len, store_error *err)
{
    if (!c->in_write) return store_fail(err, "%s: store_live_apply_account outside a transaction", c->s->path);
    c->wrote = true;
    if (!info) {
        undo_note_account(c, a);
        if (!undo_note_all_slots(c, a, err)) return false;
        return exec_bound(c, "DELETE FROM account WHERE address = ?1", a->b, 20, NULL, 0, err) &&
               exec_bound(c, "DELETE FROM storage WHERE address = ?1", a->b, 20, NULL, 0, err) &&
               exec_bound(c, "DELETE FROM live_zero_slot WHERE address = ?1", a->b, 20, NULL, 0, err) &&
               exec_bound(c, "DELETE FROM live_has_storage WHERE address = ?1", a->b, 20, NULL, 0, err) &&
               exec_bound(c, "INSERT OR IGNORE INTO live_absent_account (address) VALUES (?1)", a->b, 20, NULL, 0, err);
    }
    account_info cur;
    bool has_row = read_account(c, a, &cur);
    bool absent = !has_row && fact_exists(c, ST_LIVE_ABSENT, a, NULL);
    /* Noted even when not held: a value fetched later at this block must
     * be forgotten when the block is undone. */
    undo_note_account(c, a);
    if (!has_row && !absent && fields != (LIVE_BALANCE | LIVE_NONCE | LIVE_CODE)) return true; /* not held */
    if (!has_row) {
        memset(&cur, 0, sizeof cur);
        cur.code_hash = KECCAK_EMPTY;
    }
    if (fields & LIVE_BALANCE) cur.balance = info->balance;
    if (fields & LIVE_NONCE) cur.nonce = info->nonce;
    if (fields & LIVE_CODE) cur.code_hash = info->code_hash;
    bool empty = cur.nonce == 0 && u256_is_zero(&cur.balance) && memcmp(cur.code_hash.b, KECCAK_EMPTY.b, 32) == 0;
    if (empty)
        return exec_bound(c, "DELETE FROM account WHERE address = ?1", a->b, 20, NULL, 0, err) &&
               exec_bound(c, "INSERT OR IGNORE INTO live_absent_account (address) VALUES (?1)", a->b, 20, NULL, 0, err);
    if ((fields & LIVE_CODE) && code_len &&
        !exec_bound(c, "INSERT OR IGNORE INTO code (hash, code) VALUES (?1, ?2)", cur.code_hash.b, 32, code,
                    (int)code_len, err))
        return false;
    if (!write_account(c, a, &cur)) return fail_db(err, c->db, c->s->path);
    return exec_bound(c, "DELETE FROM live_absent_account WHERE address = ?1", a->b, 20, NULL, 0, err);
}

bool store_live_apply_slot(store_conn *c, const address *a, const u256 *key, const u256 *value, store_error *err)
{
    if (!c->in_write) return store_fail(err, "%s: store_live_apply_slot outside a transaction", c->s->path);
    c->wrote = true;
    uint8_t slot[32];
    u256_store_be(slot, key);
    sqlite3_stmt *st = c->stmt[ST_GET_STORAGE];
    bind_blob(st, 1, a->b, 20);
    bind_blob(st, 2, slot, 32);
    bool has_row = sqlite3_step(st) == SQLITE_ROW;
    u256 old = u256_zero();
    if (has_row && !column_u256(st, 0, &old)) has_row = false;
    sqlite3_reset(st);
    bool zero = !has_row && fact_exists(c, ST_LIVE_ZERO, a, slot);
    bool known = has_row || zero || fact_exists(c, ST_LIVE_ABSENT, a, NULL);
    undo_note_slot(c, a, key, has_row ? UNDO_ROW : zero ? UNDO_ABSENT : UNDO_UNKNOWN, &old);
    if (!known) return true;
    if (u256_is_zero(value))
        return exec_bound(c, "DELETE FROM storage WHERE address = ?1 AND slot = ?2", a->b, 20, slot, 32, err) &&
               exec_bound(c, "INSERT OR IGNORE INTO live_zero_slot (address, slot) VALUES (?1, ?2)", a->b, 20, slot,
                          32, err);
    if (!write_slot(c, a, key, value)) return fail_db(err, c->db, c->s->path);
    return exec_bound(c, "DELETE FROM live_zero_slot WHERE address = ?1 AND slot = ?2", a->b, 20, slot, 32, err);
}

bool store_live_add_balance(store_conn *c, const address *a, const u256 *amount, store_error *err)
{
    if (!c->in_write) return store_fail(err, "%s: store_live_add_balance outside a transaction", c->s->path);
    account_info cur;
    bool has_row = read_account(c, a, &cur);
    if (!has_row && !fact_exists(c, ST_LIVE_ABSENT, a, NULL)) {
        undo_note_account(c, a);
        return true; /* not held */
    }
    if (!has_row) {
        memset(&cur, 0, sizeof cur);
        cur.code_hash = KECCAK_EMPTY;
    }
    cur.balance = u256_add(&cur.balance, amount);
    return store_live_apply_account(c, a, LIVE_BALANCE, &cur, NULL, 0, err);
}

/* The first row of `sql` (?1 a blob of `len` random bytes, ?2 `fixed`
 * when given) at or after the random start, or the first row at all. */
static int sample_row(store_conn *c, const char *sql, const uint8_t *fixed, int len, sqlite3_stmt **out)
{
    uint8_t start[32];
    randombytes_buf(start, sizeof start);
    if (sqlite3_prepare_v2(c->db, sql, -1, out, NULL) != SQLITE_OK) return SQLITE_ERROR;
    int rc = SQLITE_DONE;
    for (int pass = 0; pass < 2 && rc == SQLITE_DONE; pass++) { /* past the last key: from the first */
        sqlite3_reset(*out);
        bind_blob(*out, 1, pass ? (const uint8_t *)"" : start, pass ? 0 : len);
        if (fixed) bind_blob(*out, 2, fixed, 20);
        rc = sqlite3_step(*out);
    }
    return rc;
}

bool store_live_sample(store_conn *c, store_live_key *keys, u256 *values, size_t max, size_t *n, store_error *err)
{
    *n = 0;
    /* Alternately an account, and a run of up to 4 slots of an address with
     * storage from a random slot on (neighbours in key order: a random
     * start alone favours the keys after wide gaps). */
    for (size_t i = 0; i < max && *n < max; i++) {
        bool slot = i & 1;
        store_live_key *k = &keys[*n];
        memset(k, 0, sizeof *k);
        sqlite3_stmt *st = NULL;
        int rc = sample_row(c, slot ? "SELECT address FROM storage WHERE address >= ?1 ORDER BY address LIMIT 1"
                                    : "SELECT address, balance FROM account WHERE address >= ?1 ORDER BY address LIMIT 1",
                            NULL, 20, &st);
        bool got = rc == SQLITE_ROW && column_fixed(st, 0, k->a.b, 20) && (slot || column_u256(st, 1, &values[*n]));
        sqlite3_finalize(st);
        if (got && !slot) ++*n;
        if (got && slot) {
            address a = k->a;
            rc = sample_row(c, "SELECT slot, value FROM storage WHERE slot >= ?1 AND address = ?2 ORDER BY slot LIMIT 4",
                            a.b, 32, &st);
            for (; rc == SQLITE_ROW && *n < max; rc = sqlite3_step(st)) {
                uint8_t key[32];
                k = &keys[*n];
                memset(k, 0, sizeof *k);
                k->a = a;
                k->is_slot = true;
                if (!column_fixed(st, 0, key, 32) || !column_u256(st, 1, &values[*n])) continue;
                k->key = u256_load_be(key);
                ++*n;
            }
            sqlite3_finalize(st);
            if (rc == SQLITE_ROW) rc = SQLITE_DONE;
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail_db(err, c->db, c->s->path);
    }
    *n = live_keys_unique_values(keys, values, *n);
    return true;
}

bool store_live_drop_cache(store_conn *c, store_error *err)
{
    if (!c->in_write) return store_fail(err, "%s: store_live_drop_cache outside a transaction", c->s->path);
    c->wrote = true;
    return exec_bound(c, "DELETE FROM account", NULL, 0, NULL, 0, err) &&
           exec_bound(c, "DELETE FROM storage", NULL, 0, NULL, 0, err) &&
           exec_bound(c, "DELETE FROM live_absent_account", NULL, 0, NULL, 0, err) &&
           exec_bound(c, "DELETE FROM live_has_storage", NULL, 0, NULL, 0, err) &&
           exec_bound(c, "DELETE FROM live_zero_slot", NULL, 0, NULL, 0, err);
}

bool store_live_mark_storage(store_conn *c, const address *a, store_error *err)
{
    if (!c->in_write) return store_fail(err, "%s: store_live_mark_storage outside a transaction", c->s->path);
    account_info cur;
    if (!read_account(c, a, &cur) && !fact_exists(c, ST_LIVE_ABSENT, a, NULL)) return true; /* not held */
    undo_note_account(c, a); /* the mark goes when the block is undone */
    return exec_bound(c, "INSERT OR IGNORE INTO live_has_storage (address) VALUES (?1)", a->b, 20, NULL, 0, err);
}

bool store_live_forget(store_conn *c, const address *a, store_error *err)
{
    if (!c->in_write) return store_fail(err, "%s: store_live_forget outside a transaction", c->s->path);
    c->wrote = true;
    return exec_bound(c, "DELETE FROM account WHERE address = ?1", a->b, 20, NULL, 0, err) &&
           exec_bound(c, "DELETE FROM storage WHERE address = ?1", a->b, 20, NULL, 0, err) &&
           exec_bound(c, "DELETE FROM live_zero_slot WHERE address = ?1", a->b, 20, NULL, 0, err) &&
           exec_bound(c, "DELETE FROM live_absent_account WHERE address = ?1", a->b, 20, NULL, 0, err) &&
           exec_bound(c, "DELETE FROM live_has_storage WHERE address = ?1", a->b, 20, NULL, 0, err);
}

/* ------------------------------------------------------------ genesis */

static bool write_genesis(store_conn *c, const void *arg, store_error *err)
{
    const store_genesis *g = arg;
    if (g->extra_data_len > STORE_GENESIS_EXTRA_MAX || g->n_forkid_blocks > STORE_FORKID_BLOCKS_MAX)
        return store_fail(err, "%s: genesis extraData or fork list too long", c->s->path);
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_exec(c->db, "DELETE FROM chain_genesis; DELETE FROM chain_forkid_block", NULL, NULL, NULL) ==
                  SQLITE_OK &&
              sqlite3_prepare_v2(c->db,
                                 "INSERT INTO chain_genesis (id, number, timestamp, extra_data, nonce, deposit_contract) "
                                 "VALUES (1, ?1, ?2, ?3, ?4, ?5)",
                                 -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        bind_u64(st, 1, g->number);
        bind_u64(st, 2, g->timestamp);
        sqlite3_bind_blob(st, 3, g->extra_data, (int)g->extra_data_len, SQLITE_STATIC);
        bind_u64(st, 4, g->nonce);
        if (g->has_deposit_contract) sqlite3_bind_blob(st, 5, g->deposit_contract.b, 20, SQLITE_STATIC);
        ok = step_done(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (ok)
        ok = sqlite3_prepare_v2(c->db, "INSERT OR IGNORE INTO chain_forkid_block (number) VALUES (?1)", -1, &st,
                                NULL) == SQLITE_OK;
    for (size_t i = 0; ok && i < g->n_forkid_blocks; i++) {
        bind_u64(st, 1, g->forkid_blocks[i]);
        ok = step_done(st);
    }
    sqlite3_finalize(st);
    return ok || fail_db(err, c->db, c->s->path);
}

bool store_set_genesis(store_conn *c, const store_genesis *g, store_error *err)
{
    return in_transaction(c, write_genesis, g, err);
}

typedef struct {
    store_genesis *out;
    bool *found;
} genesis_read;

static bool read_genesis_fn(store_conn *c, void *arg, store_error *err)
{
    genesis_read *r = arg;
    store_genesis *g = r->out;
    memset(g, 0, sizeof *g);
    *r->found = false;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "SELECT number, timestamp, extra_data, nonce, deposit_contract FROM chain_genesis",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(err, c->db, c->s->path);
    int rc = sqlite3_step(st);
    bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    if (rc == SQLITE_ROW) {
        size_t extra = (size_t)sqlite3_column_bytes(st, 2), dep = (size_t)sqlite3_column_bytes(st, 4);
        if (extra > STORE_GENESIS_EXTRA_MAX || (dep != 0 && dep != 20)) {
            sqlite3_finalize(st);
            return store_fail(err, "%s: malformed chain_genesis row", c->s->path);
        }
        g->number = (uint64_t)sqlite3_column_int64(st, 0);
        g->timestamp = (uint64_t)sqlite3_column_int64(st, 1);
        if (extra) memcpy(g->extra_data, sqlite3_column_blob(st, 2), extra);
        g->extra_data_len = extra;
        g->nonce = (uint64_t)sqlite3_column_int64(st, 3);
        g->has_deposit_contract = dep == 20;
        if (dep) memcpy(g->deposit_contract.b, sqlite3_column_blob(st, 4), 20);
        *r->found = true;
    }
    sqlite3_finalize(st);
    if (!ok) return fail_db(err, c->db, c->s->path);
    if (!*r->found) return true;
    if (sqlite3_prepare_v2(c->db, "SELECT number FROM chain_forkid_block ORDER BY number", -1, &st, NULL) != SQLITE_OK)
        return fail_db(err, c->db, c->s->path);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && g->n_forkid_blocks < STORE_FORKID_BLOCKS_MAX)
        g->forkid_blocks[g->n_forkid_blocks++] = (uint64_t)sqlite3_column_int64(st, 0);
    ok = rc == SQLITE_DONE || rc == SQLITE_ROW;
    sqlite3_finalize(st);
    return ok || fail_db(err, c->db, c->s->path);
}

bool store_get_genesis(store_conn *c, store_genesis *out, bool *found, store_error *err)
{
    genesis_read r = {out, found};
    return in_snapshot(c, read_genesis_fn, &r, err);
}
