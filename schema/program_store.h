/* Compiled programs persisted in the SQLite store: the compiler tier's
 * jit_store (core/jit/jit.h) over store_put_program / store_get_program.
 *
 * A stored blob is native code the process will execute, so a row is only
 * loaded when its tag verifies. The tag (32 bytes) is a nonce (16 random
 * bytes drawn at each save) followed by a keyed MAC (16 bytes): AES-256-GMAC
 * (OpenSSL's) under the row's own key and IV, the first 32 and the next 12
 * bytes of BLAKE2b-352(key = the 32-byte program key, message = the nonce),
 * over
 *     code_hash (32) || compiler_version (4, little-endian) || target || 0 || blob.
 * GMAC because the tag is checked over the whole blob at every program load
 * and it is the fastest keyed MAC at hand (see program_store.c). GMAC's rule
 * (one key and IV never tag two messages) holds because every save draws a
 * new nonce, so a new key, and a nonce an attacker writes into a row only
 * yields a key they cannot compute. Whoever can write the database but does
 * not hold the program key cannot make the service run code of their
 * choosing; a row that does not verify is rejected (counted, logged once)
 * and the program compiled again. The tag scheme is part of the stored
 * format: rows tagged by the scheme before (Poly1305 under a BLAKE2b-256
 * one-time key) were filed under an older compiler version (the change
 * bumped JIT_CODEGEN_REVISION), so they are never found, never counted as
 * rejected, and their programs are compiled again.
 *
 * Loading in place (jit_store.load_into) reads the blob with
 * sqlite3_blob_read straight into the program's mapping, a piece at a time,
 * and MACs each piece there: the bytes checked are the bytes that run.
 *
 * The key is given (64 hex digits), or kept in "<database>.program-key":
 * created on first use (32 random bytes, mode 0600, written to a temporary
 * file and renamed into place), refused when it has another size or any
 * group/other permission bit. */
#ifndef JITEVM_PROGRAM_STORE_H
#define JITEVM_PROGRAM_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/jit.h"
#include "store.h"

#define PROGRAM_KEY_BYTES 32
#define PROGRAM_TAG_BYTES 32
#define PROGRAM_NONCE_BYTES 16 /* the tag's first bytes */
/* Appended to the database path to name the key file. */
#define PROGRAM_KEY_SUFFIX ".program-key"

/* Fields are private to program_store.c. */
typedef struct {
    store *db;
    uint8_t key[PROGRAM_KEY_BYTES];
    jit_store hooks;
    void (*warn)(const char *line);
    /* Connections not in use. SQLite connections are used by one thread at
     * a time; the callbacks come from the compiler's threads and, with the
     * jit engine, from every executing thread, so each call takes one from
     * here (or opens one) and gives it back: as many connections as calls
     * ever ran at once, all closed by program_store_close. */
    pthread_mutex_t lock;
    pthread_cond_t idle_cond;
    store_conn **idle;
    size_t n_idle, cap_idle;
    size_t in_use;
    bool closing;
    bool reject_logged, save_failure_logged, load_failure_logged;
} program_store;

/* Opens the program store over `db` (which must outlive it). The key:
 * `key_hex` (64 hex digits) when not NULL, else the key file of `db_path`,
 * created when absent. False with a one-line reason in `err` when the key is
 * malformed or the key file cannot be read, created or is refused. */
bool program_store_open(program_store *ps, store *db, const char *db_path, const char *key_hex, char *err,
                        size_t errlen);
/* The callbacks to hand to jit_set_store. */
const jit_store *program_store_hooks(program_store *ps);
/* Where the first rejected row, the first failed save and the first failed
 * read are reported (one line, no newline); NULL: nowhere (the default).
 * Every one of them is counted either way. */
void program_store_set_warn(program_store *ps, void (*warn)(const char *line));
/* Waits for callbacks in progress, closes the connections and wipes the key.
 * Call after jit_set_store(NULL), before store_close. */
void program_store_close(program_store *ps);

/* The key file of a database: "<db_path>.program-key" into `out`. False when
 * it does not fit. */
bool program_store_key_path(const char *db_path, char *out, size_t len);
/* The tag of a row with this nonce (exposed for the tests): the nonce, then
 * the MAC. False (the tag zeroed) when OpenSSL provides no GMAC: then
 * nothing is saved and no row loads. */
bool program_store_tag(const uint8_t key[PROGRAM_KEY_BYTES], const uint8_t nonce[PROGRAM_NONCE_BYTES],
                       const hash32 *code_hash, uint32_t version, const char *target, const uint8_t *blob, size_t len,
                       uint8_t tag[PROGRAM_TAG_BYTES]);

/* Whether tags are computed with ghash.c's GHASH (where the CPU has it:
 * the default) or all by OpenSSL's GMAC: the same tags either way. Sets
 * it (on: only where available) and says which is now in use; for tests
 * comparing the two. */
bool program_store_fast_gmac(bool on);

/* Process-wide counts, over every program store (for the metrics). */
typedef struct {
    uint64_t loaded;      /* rows loaded (their tag verified) */
    uint64_t rejected;    /* rows whose tag did not verify */
    uint64_t saved;       /* programs written */
    uint64_t save_failed; /* writes that failed (the program is still used, only not kept) */
    uint64_t load_failed; /* reads that failed on a database error */
    uint64_t not_kept;    /* programs of code the database does not hold (state overrides,
                             contracts created inside a call): used, never written */
} program_store_stats;
program_store_stats program_store_get_stats(void);

#endif
