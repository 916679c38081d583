/* The program store: compiled programs kept in SQLite under a keyed MAC.
 * Round trips; rows altered in the blob or the tag, read under another
 * key, version or target; the tag's layout against an independent
 * computation; the key file (created private, reused, refused when readable
 * by others or of the wrong size, one key when processes create it at
 * once); malformed hex keys; 4 threads loading and saving at once, and
 * loading in place while the rows are replaced; a program stored by a build
 * with another layout (another compiler version), or tagged by the older
 * scheme (Poly1305), refused and compiled again. */
#include <check.h>
#include <openssl/evp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "base/keccak.h"
#include "jit/jit.h"
#include "ghash.h"
#include "program_store.h"
#include "state/memstate.h"
#include "store.h"
#include "vm/code_cache.h"
#include "vm/evm.h"

/* ---- helpers ------------------------------------------------------------ */

static char tmp_dir[256];
static char db_path[512];
static char key_path[600];

static void setup(void)
{
    test_temp_dir(tmp_dir, sizeof tmp_dir, "test_program_store");
    snprintf(db_path, sizeof db_path, "%s/p.db", tmp_dir);
    ck_assert(program_store_key_path(db_path, key_path, sizeof key_path));
}

static void teardown(void) { test_remove_dir(tmp_dir); }

/* The code whose hash code_hash_of(n) is: the store keeps programs only for
 * code the database holds. */
#define N_CODES 32
static size_t code_for(unsigned n, uint8_t code[4])
{
    code[0] = 0x60; /* PUSH1 n; STOP */
    code[1] = (uint8_t)n;
    code[2] = 0x00;
    return 3;
}

static store *db_create(void)
{
    store_error err;
    store *s;
    store_conn *c = test_store_create(db_path, &s);
    for (unsigned n = 0; n < N_CODES; n++) {
        uint8_t code[4];
        address a = {{0}};
        a.b[0] = 0xc0, a.b[19] = (uint8_t)n;
        ck_assert_msg(store_set_code(c, &a, code, code_for(n, code), &err), "store_set_code: %s", err.msg);
    }
    store_disconnect(c);
    return s;
}

static void ps_open(program_store *ps, store *s, const char *key_hex)
{
    char err[512];
    ck_assert_msg(program_store_open(ps, s, db_path, key_hex, err, sizeof err), "program_store_open: %s", err);
}

/* db_create and a program store over it, keyed by the key file (created
 * when absent); closed in the reverse order. */
static store *db_open_with_programs(program_store *ps)
{
    store *s = db_create();
    ps_open(ps, s, NULL);
    return s;
}

static void db_close_with_programs(store *s, program_store *ps)
{
    program_store_close(ps);
    store_close(s);
}

/* The 32 bytes of the key file. */
static void read_key_file(uint8_t key[32])
{
    int fd = open(key_path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(read(fd, key, 32), 32);
    close(fd);
}

/* program_store_open must fail with a message containing `fragment`. */
static void ps_refused(store *s, const char *key_hex, const char *fragment)
{
    program_store ps;
    char err[512] = "";
    ck_assert_msg(!program_store_open(&ps, s, db_path, key_hex, err, sizeof err), "accepted (wanted: %s)", fragment);
    ck_assert_msg(strstr(err, fragment) != NULL, "message '%s' lacks '%s'", err, fragment);
    ck_assert_ptr_null(strchr(err, '\n'));
}

static hash32 code_hash_of(unsigned n)
{
    uint8_t code[4];
    hash32 h;
    keccak256(code, code_for(n, code), h.b);
    return h;
}

/* A blob whose bytes depend on the code hash and a round number. */
static size_t blob_for(const hash32 *h, unsigned round, uint8_t *out, size_t cap)
{
    size_t len = 64 + (h->b[0] + round) % 900;
    if (len > cap) len = cap;
    for (size_t i = 0; i < len; i++) out[i] = (uint8_t)(h->b[i % 32] ^ (i * 31) ^ round);
    return len;
}

static void save(program_store *ps, const hash32 *h, uint32_t version, const char *target, const uint8_t *blob,
                 size_t len)
{
    const jit_store *js = program_store_hooks(ps);
    js->save(js->ctx, h, version, target, blob, len);
}

static bool load(program_store *ps, const hash32 *h, uint32_t version, const char *target, uint8_t **blob,
                 size_t *len)
{
    const jit_store *js = program_store_hooks(ps);
    return js->load(js->ctx, h, version, target, blob, len);
}

static const char *const TARGET = "x86_64-sysv/Cancun";

static int warnings;
static char last_warning[1024];
static void count_warning(const char *line)
{
    warnings++;
    snprintf(last_warning, sizeof last_warning, "%s", line);
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(round_trip)
{
    program_store ps;
    store *s = db_open_with_programs(&ps);
    program_store_stats before = program_store_get_stats();
    hash32 h = code_hash_of(1);
    uint8_t blob[4096];
    size_t n = blob_for(&h, 0, blob, sizeof blob);
    uint8_t *got;
    size_t got_len;
    ck_assert(!load(&ps, &h, JIT_VERSION, TARGET, &got, &got_len)); /* nothing stored yet */
    ck_assert_ptr_null(got);
    save(&ps, &h, JIT_VERSION, TARGET, blob, n);
    ck_assert(load(&ps, &h, JIT_VERSION, TARGET, &got, &got_len));
    ck_assert_uint_eq(got_len, n);
    ck_assert_mem_eq(got, blob, n);
    free(got);
    /* A second save replaces the row. */
    save(&ps, &h, JIT_VERSION, TARGET, blob + 1, 10);
    ck_assert(load(&ps, &h, JIT_VERSION, TARGET, &got, &got_len));
    ck_assert_uint_eq(got_len, 10);
    ck_assert_mem_eq(got, blob + 1, 10);
    free(got);
    /* An empty blob is a blob too. */
    hash32 h2 = code_hash_of(2);
    save(&ps, &h2, JIT_VERSION, TARGET, blob, 0);
    ck_assert(load(&ps, &h2, JIT_VERSION, TARGET, &got, &got_len));
    ck_assert_uint_eq(got_len, 0);
    free(got);
    program_store_stats after = program_store_get_stats();
    ck_assert_uint_eq(after.saved - before.saved, 3);
    ck_assert_uint_eq(after.loaded - before.loaded, 3);
    ck_assert_uint_eq(after.rejected - before.rejected, 0);
    ck_assert_uint_eq(after.save_failed - before.save_failed, 0);
    ck_assert_uint_eq(after.load_failed - before.load_failed, 0);
    /* The row is the one store_get_program sees, with the documented tag. */
    store_error se;
    store_conn *c = store_connect(s, &se);
    ck_assert_ptr_nonnull(c);
    uint8_t tag[32], key[32], want[32];
    ck_assert(store_get_program(c, &h, JIT_VERSION, TARGET, &got, &got_len, tag, &se));
    read_key_file(key);
    ck_assert(program_store_tag(key, tag, &h, JIT_VERSION, TARGET, got, got_len, want)); /* the row's nonce */
    ck_assert_mem_eq(tag, want, 32);
    free(got);
    store_disconnect(c);
    db_close_with_programs(s, &ps);
}
END_TEST

/* Code that exists only in one call (a state override, a contract the
 * call creates) is compiled and used, but its program is never written:
 * otherwise any caller could grow the database file at will. */
START_TEST(programs_of_code_not_in_the_database_not_kept)
{
    program_store ps;
    store *s = db_open_with_programs(&ps);
    program_store_stats before = program_store_get_stats();
    hash32 h = code_hash_of(N_CODES + 5); /* not written by db_create */
    uint8_t blob[256], *got;
    size_t got_len, n = blob_for(&h, 0, blob, sizeof blob);
    save(&ps, &h, JIT_VERSION, TARGET, blob, n);
    program_store_stats after = program_store_get_stats();
    ck_assert_uint_eq(after.not_kept, before.not_kept + 1);
    ck_assert_uint_eq(after.saved, before.saved);
    ck_assert_uint_eq(after.save_failed, before.save_failed);
    ck_assert(!load(&ps, &h, JIT_VERSION, TARGET, &got, &got_len));
    /* ... while code the database holds is kept. */
    hash32 held = code_hash_of(3);
    save(&ps, &held, JIT_VERSION, TARGET, blob, n);
    ck_assert_uint_eq(program_store_get_stats().saved, after.saved + 1);
    ck_assert(load(&ps, &held, JIT_VERSION, TARGET, &got, &got_len));
    free(got);
    db_close_with_programs(s, &ps);
}
END_TEST

/* The message a tag is over: code_hash || version LE32 || target || 0 ||
 * blob, in one piece; its length. */
static size_t tag_message(const hash32 *h, uint32_t version, const char *target, const uint8_t *blob, size_t len,
                          uint8_t *msg)
{
    size_t n = 0;
    memcpy(msg, h->b, 32), n = 32;
    for (int i = 0; i < 4; i++) msg[n++] = (uint8_t)(version >> 8 * i);
    memcpy(msg + n, target, strlen(target) + 1), n += strlen(target) + 1;
    memcpy(msg + n, blob, len), n += len;
    return n;
}

/* AES-256-GMAC of msg computed apart from the store (which uses OpenSSL's
 * EVP_MAC): as the tag of an AES-256-GCM encryption of nothing with msg as
 * associated data, by libsodium when this CPU has its AES-NI code, else by
 * OpenSSL's cipher interface. */
static void gmac_apart(const uint8_t key[32], const uint8_t iv[12], const uint8_t *msg, size_t n, uint8_t mac[16])
{
    if (crypto_aead_aes256gcm_is_available()) {
        unsigned long long clen = 0;
        ck_assert_int_eq(crypto_aead_aes256gcm_encrypt(mac, &clen, NULL, 0, msg, n, NULL, iv, key), 0);
        ck_assert_uint_eq(clen, 16);
        return;
    }
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int outl = 0;
    ck_assert(c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv) == 1);
    ck_assert(EVP_EncryptUpdate(c, NULL, &outl, msg, (int)n) == 1);
    ck_assert(EVP_EncryptFinal_ex(c, mac, &outl) == 1);
    ck_assert(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, mac) == 1);
    EVP_CIPHER_CTX_free(c);
}

/* The tag is the nonce, then AES-256-GMAC under the key and IV
 * BLAKE2b-352(program key, nonce) (32 + 12 bytes) over tag_message,
 * computed here apart from the store. */
START_TEST(tag_layout)
{
    uint8_t key[32], nonce[16];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < 16; i++) nonce[i] = (uint8_t)(0x31 * i + 5);
    hash32 h = code_hash_of(7);
    const char *target = "x86_64-sysv/Prague";
    /* Lengths around GHASH's 16-byte blocks and OpenSSL's bulk sizes. */
    static const size_t lens[] = {0, 1, 15, 16, 17, 300, 4096 + 3, 100 * 1024 + 37};
    uint8_t *blob = malloc(100 * 1024 + 37), *msg = malloc(100 * 1024 + 37 + 64 + 36);
    for (size_t i = 0; i < 100 * 1024 + 37; i++) blob[i] = (uint8_t)(i * 13 + 1 + (i >> 8));
    uint32_t version = 0x01020304;
    uint8_t kiv[44], want[32], got[32];
    ck_assert_int_eq(crypto_generichash(kiv, sizeof kiv, nonce, 16, key, 32), 0);
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t n = tag_message(&h, version, target, blob, lens[k], msg);
        ck_assert_uint_eq(msg[32], 0x04);
        ck_assert_uint_eq(msg[35], 0x01);
        memcpy(want, nonce, 16);
        gmac_apart(kiv, kiv + 32, msg, n, want + 16);
        ck_assert(program_store_tag(key, nonce, &h, version, target, blob, lens[k], got));
        ck_assert_msg(memcmp(got, want, 32) == 0, "blob of %zu bytes: the tag differs", lens[k]);
    }
    /* Moving a byte from the target into the blob changes the tag. */
    uint8_t moved[32], b2[1 + 300];
    ck_assert(program_store_tag(key, nonce, &h, version, target, blob, 300, got));
    b2[0] = 'e';
    memcpy(b2 + 1, blob, 300);
    ck_assert(program_store_tag(key, nonce, &h, version, "x86_64-sysv/Pragu", b2, sizeof b2, moved));
    ck_assert_int_ne(memcmp(moved, got, 32), 0);
    /* Another nonce: another key, another MAC. */
    uint8_t other[32];
    nonce[15] ^= 1;
    ck_assert(program_store_tag(key, nonce, &h, version, target, blob, 300, other));
    ck_assert_int_ne(memcmp(other + 16, got + 16, 16), 0);
    free(blob);
    free(msg);
}
END_TEST

/* Rewrites the stored row through the store, keeping or replacing its tag. */
static void alter_row(store *s, const hash32 *h, int flip_blob_byte, int flip_tag_byte)
{
    store_error se;
    store_conn *c = store_connect(s, &se);
    ck_assert_ptr_nonnull(c);
    uint8_t *blob, tag[32];
    size_t len;
    ck_assert(store_get_program(c, h, JIT_VERSION, TARGET, &blob, &len, tag, &se));
    if (flip_blob_byte >= 0) blob[flip_blob_byte] ^= 0x01;
    if (flip_tag_byte >= 0) tag[flip_tag_byte] ^= 0x80;
    ck_assert_msg(store_put_program(c, h, JIT_VERSION, TARGET, blob, len, tag, &se), "%s", se.msg);
    free(blob);
    store_disconnect(c);
}

START_TEST(altered_rows_rejected)
{
    program_store ps;
    store *s = db_open_with_programs(&ps);
    warnings = 0;
    program_store_set_warn(&ps, count_warning);
    uint8_t blob[4096], *got;
    size_t got_len;
    hash32 h = code_hash_of(3);
    size_t n = blob_for(&h, 0, blob, sizeof blob);
    program_store_stats before = program_store_get_stats();

    save(&ps, &h, JIT_VERSION, TARGET, blob, n);
    alter_row(s, &h, (int)n - 1, -1); /* one bit of the blob's last byte */
    got = (uint8_t *)&got_len; /* must be reset */
    ck_assert(!load(&ps, &h, JIT_VERSION, TARGET, &got, &got_len));
    ck_assert_ptr_null(got);
    ck_assert_uint_eq(got_len, 0);
    ck_assert_int_eq(warnings, 1);
    ck_assert_ptr_nonnull(strstr(last_warning, "fails its integrity check"));
    ck_assert_ptr_null(strchr(last_warning, '\n'));

    save(&ps, &h, JIT_VERSION, TARGET, blob, n); /* a fresh save repairs it */
    ck_assert(load(&ps, &h, JIT_VERSION, TARGET, &got, &got_len));
    free(got);
    alter_row(s, &h, 0, -1); /* the first byte */
    ck_assert(!load(&ps, &h, JIT_VERSION, TARGET, &got, &got_len));

    save(&ps, &h, JIT_VERSION, TARGET, blob, n);
    alter_row(s, &h, -1, 31); /* the tag's last byte */
    ck_assert(!load(&ps, &h, JIT_VERSION, TARGET, &got, &got_len));
    save(&ps, &h, JIT_VERSION, TARGET, blob, n);
    alter_row(s, &h, -1, 0); /* the nonce's first byte: another one-time key */
    ck_assert(!load(&ps, &h, JIT_VERSION, TARGET, &got, &got_len));
    ck_assert_int_eq(warnings, 1); /* logged once, counted every time */

    program_store_stats after = program_store_get_stats();
    ck_assert_uint_eq(after.rejected - before.rejected, 4);
    ck_assert_uint_eq(after.loaded - before.loaded, 1);

    /* Another key: the row (intact) does not verify under it. */
    save(&ps, &h, JIT_VERSION, TARGET, blob, n);
    program_store other;
    ps_open(&other, s, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    ck_assert(!load(&other, &h, JIT_VERSION, TARGET, &got, &got_len));
    ck_assert_ptr_null(got);
    after = program_store_get_stats();
    ck_assert_uint_eq(after.rejected - before.rejected, 5);
    /* ... and what it saves does not verify under the first key. */
    save(&other, &h, JIT_VERSION, TARGET, blob, n);
    ck_assert(load(&other, &h, JIT_VERSION, TARGET, &got, &got_len));
    free(got);
    ck_assert(!load(&ps, &h, JIT_VERSION, TARGET, &got, &got_len));
    after = program_store_get_stats();
    ck_assert_uint_eq(after.rejected - before.rejected, 6);
    program_store_close(&other);

    /* Another version or target: no such row, so nothing to reject. */
    save(&ps, &h, JIT_VERSION, TARGET, blob, n);
    ck_assert(!load(&ps, &h, JIT_VERSION + 1, TARGET, &got, &got_len));
    ck_assert(!load(&ps, &h, JIT_VERSION, "x86_64-sysv/Prague", &got, &got_len));
    ck_assert(!load(&ps, &h, JIT_VERSION, "", &got, &got_len));
    ck_assert(!load(&ps, &h, 0x80000000u, TARGET, &got, &got_len));
    program_store_stats last = program_store_get_stats();
    ck_assert_uint_eq(last.rejected, after.rejected);
    ck_assert_uint_eq(last.load_failed, before.load_failed);
    ck_assert(load(&ps, &h, JIT_VERSION, TARGET, &got, &got_len)); /* still there */
    free(got);

    /* A row copied under another code hash, tag and all, does not verify:
     * the tag covers the key columns too. */
    hash32 h2 = code_hash_of(4);
    store_error se;
    store_conn *c = store_connect(s, &se);
    uint8_t *raw, tag[32];
    size_t raw_len;
    ck_assert(store_get_program(c, &h, JIT_VERSION, TARGET, &raw, &raw_len, tag, &se));
    ck_assert(store_put_program(c, &h2, JIT_VERSION, TARGET, raw, raw_len, tag, &se));
    ck_assert(store_put_program(c, &h, JIT_VERSION + 1, TARGET, raw, raw_len, tag, &se));
    ck_assert(store_put_program(c, &h, JIT_VERSION, "x86_64-sysv/Osaka", raw, raw_len, tag, &se));
    free(raw);
    store_disconnect(c);
    ck_assert(!load(&ps, &h2, JIT_VERSION, TARGET, &got, &got_len));
    ck_assert(!load(&ps, &h, JIT_VERSION + 1, TARGET, &got, &got_len));
    ck_assert(!load(&ps, &h, JIT_VERSION, "x86_64-sysv/Osaka", &got, &got_len));
    ck_assert_uint_eq(program_store_get_stats().rejected - last.rejected, 3);
    db_close_with_programs(s, &ps);
}
END_TEST

START_TEST(key_file_created_private_and_reused)
{
    store *s = db_create();
    ck_assert_int_ne(access(key_path, F_OK), 0);
    mode_t old_mask = umask(0); /* a permissive umask must not widen the file */
    program_store ps;
    ps_open(&ps, s, NULL);
    umask(old_mask);
    struct stat st;
    ck_assert_int_eq(stat(key_path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(st.st_size, 32);
    /* Nothing else left beside it (the temporary file was renamed). */
    DIR *d = opendir(tmp_dir);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, "p.db.program-key", 16) == 0) entries++;
    closedir(d);
    ck_assert_int_eq(entries, 1);

    uint8_t key[32];
    read_key_file(key);
    hash32 h = code_hash_of(5);
    uint8_t blob[4096], *got;
    size_t got_len, n = blob_for(&h, 0, blob, sizeof blob);
    save(&ps, &h, JIT_VERSION, TARGET, blob, n);
    program_store_close(&ps);

    /* Reopened: the same key, so the program loads (as after a restart). */
    program_store again;
    ps_open(&again, s, NULL);
    ck_assert(load(&again, &h, JIT_VERSION, TARGET, &got, &got_len));
    ck_assert_mem_eq(got, blob, n);
    free(got);
    program_store_close(&again);
    uint8_t key2[32];
    read_key_file(key2);
    ck_assert_mem_eq(key, key2, 32);

    /* The same key given as hex (upper case) works too. */
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, key, 32);
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
    program_store explicit_key;
    ps_open(&explicit_key, s, hex);
    ck_assert(load(&explicit_key, &h, JIT_VERSION, TARGET, &got, &got_len));
    free(got);
    program_store_close(&explicit_key);
    store_close(s);
}
END_TEST

/* Processes starting together on a new database all end up with the one
 * key that is in the file (none replaces another's). */
START_TEST(key_file_creation_race)
{
    enum { PROCS = 4, ROUNDS = 10 };
    for (int round = 0; round < ROUNDS; round++) {
        unlink(key_path);
        int go[2];
        ck_assert_int_eq(pipe(go), 0);
        int out[PROCS][2];
        pid_t pid[PROCS];
        for (int i = 0; i < PROCS; i++) {
            ck_assert_int_eq(pipe(out[i]), 0);
            pid[i] = fork();
            ck_assert_int_ge(pid[i], 0);
            if (pid[i] == 0) {
                close(go[1]);
                char c;
                if (read(go[0], &c, 1) != 0) _exit(3); /* released when the parent closes the pipe */
                program_store ps;
                char err[512];
                if (!program_store_open(&ps, NULL, db_path, NULL, err, sizeof err)) _exit(2);
                _exit(write(out[i][1], ps.key, sizeof ps.key) == (ssize_t)sizeof ps.key ? 0 : 4);
            }
            close(out[i][1]);
        }
        close(go[0]);
        close(go[1]);
        uint8_t file_key[32];
        for (int i = 0; i < PROCS; i++) {
            int status;
            ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
            ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %d", i, status);
        }
        read_key_file(file_key);
        for (int i = 0; i < PROCS; i++) {
            uint8_t key[32];
            ck_assert_int_eq(read(out[i][0], key, 32), 32);
            close(out[i][0]);
            ck_assert_mem_eq(key, file_key, 32);
        }
    }
}
END_TEST

START_TEST(key_file_refused)
{
    program_store ps;
    store *s = db_open_with_programs(&ps);
    program_store_close(&ps);
    ck_assert_int_eq(chmod(key_path, 0644), 0);
    ps_refused(s, NULL, "must not be accessible to group or others (chmod 600");
    ck_assert_int_eq(chmod(key_path, 0640), 0);
    ps_refused(s, NULL, "has mode 0640");
    ck_assert_int_eq(chmod(key_path, 0602), 0);
    ps_refused(s, NULL, "has mode 0602");
    ck_assert_int_eq(chmod(key_path, 0600), 0);
    ps_open(&ps, s, NULL);
    program_store_close(&ps);

    /* Wrong sizes: short, long, empty. */
    static const size_t sizes[] = {31, 33, 0, 64};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unlink(key_path);
        int fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        ck_assert_int_ge(fd, 0);
        uint8_t bytes[64] = {1};
        ck_assert_int_eq(write(fd, bytes, sizes[i]), (ssize_t)sizes[i]);
        close(fd);
        char want[64];
        snprintf(want, sizeof want, "holds %zu bytes, not 32", sizes[i]);
        ps_refused(s, NULL, want);
    }
    /* Not a file. */
    unlink(key_path);
    ck_assert_int_eq(mkdir(key_path, 0700), 0);
    ps_refused(s, NULL, "is not a regular file");
    rmdir(key_path);
    /* A directory where the key cannot be created. */
    char missing_db[600];
    snprintf(missing_db, sizeof missing_db, "%s/no-such-dir/p.db", tmp_dir);
    char err[512] = "";
    ck_assert(!program_store_open(&ps, s, missing_db, NULL, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "cannot create the program key file"));
    store_close(s);
}
END_TEST

START_TEST(bad_hex_key_refused)
{
    store *s = db_create();
    static const char *const bad[] = {
        "",
        "00",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",   /* 63 */
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0", /* 65 */
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeegg",
        "0x112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "00112233445566778899aabbccddeeff 0112233445566778899aabbccddeeff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) ps_refused(s, bad[i], "expected 64 hex digits");
    /* No key file is made for a given key, valid or not. */
    program_store ps;
    ps_open(&ps, s, "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100");
    program_store_close(&ps);
    ck_assert_int_ne(access(key_path, F_OK), 0);
    store_close(s);
}
END_TEST

#define N_THREADS 4
#define N_ROUNDS 150
#define N_HASHES 24

typedef struct {
    program_store *ps;
    int id;
    int bad;
} worker_arg;

/* Each thread saves programs (some code hashes only its own, some shared)
 * and loads them back; whatever a load returns must be a blob some thread
 * saved for that hash, intact. */
static void *worker(void *p)
{
    worker_arg *a = p;
    uint8_t blob[4096];
    for (unsigned r = 0; r < N_ROUNDS; r++) {
        unsigned k = (r * 7 + (unsigned)a->id * 3) % N_HASHES;
        hash32 h = code_hash_of(k);
        size_t n = blob_for(&h, 0, blob, sizeof blob);
        if (r % 3 == 0) save(a->ps, &h, JIT_VERSION, TARGET, blob, n);
        uint8_t *got;
        size_t got_len;
        if (load(a->ps, &h, JIT_VERSION, TARGET, &got, &got_len)) {
            if (got_len != n || memcmp(got, blob, n) != 0) a->bad++;
            free(got);
        }
    }
    return NULL;
}

START_TEST(concurrent_load_save)
{
    program_store ps;
    store *s = db_open_with_programs(&ps);
    program_store_stats before = program_store_get_stats();
    pthread_t t[N_THREADS];
    worker_arg args[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        args[i] = (worker_arg){.ps = &ps, .id = i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(args[i].bad, 0);
    }
    program_store_stats after = program_store_get_stats();
    ck_assert_uint_eq(after.save_failed - before.save_failed, 0);
    ck_assert_uint_eq(after.load_failed - before.load_failed, 0);
    ck_assert_uint_eq(after.rejected - before.rejected, 0);
    ck_assert_uint_eq(after.saved - before.saved, N_THREADS * ((N_ROUNDS + 2) / 3));
    ck_assert_uint_ge(after.loaded - before.loaded, N_THREADS * ((N_ROUNDS + 2) / 3));
    /* Every hash saved at least once is there afterwards. */
    for (unsigned k = 0; k < N_HASHES; k++) {
        hash32 h = code_hash_of(k);
        uint8_t *got;
        size_t got_len;
        if (load(&ps, &h, JIT_VERSION, TARGET, &got, &got_len)) free(got);
    }
    ck_assert_ptr_nonnull(ps.idle);
    ck_assert_uint_le(ps.n_idle, N_THREADS); /* one connection per concurrent caller, at most */
    db_close_with_programs(s, &ps);
}
END_TEST

/* Loads in place while other threads replace the same rows with blobs of
 * other lengths and bytes: the row's tag and its blob are read in one read
 * transaction (the blob handle opened while the row's statement is on its
 * row), so a load gets one whole blob some thread saved, or none, and never
 * a torn one (which would fail its tag and be counted as rejected). */
#define BIG_VARIANTS 3
static size_t big_blob(const hash32 *h, unsigned variant, uint8_t *out)
{
    size_t len = 40 * 1024 + variant * 23 * 1024 + h->b[1]; /* two to four 32 KB pieces */
    for (size_t i = 0; i < len; i++) out[i] = (uint8_t)(h->b[i % 32] + i * 7 + variant * 101 + (i >> 12));
    return len;
}

typedef struct {
    program_store *ps;
    int id;
    int bad, loaded;
} big_worker_arg;

static uint8_t *place_malloc(void *ctx, size_t len)
{
    uint8_t **buf = ctx;
    free(*buf);
    *buf = malloc(len ? len : 1);
    return *buf;
}

static void *big_worker(void *p)
{
    big_worker_arg *a = p;
    const jit_store *js = program_store_hooks(a->ps);
    uint8_t *want = malloc(128 * 1024), *got = NULL;
    jit_blob_dest dest = {place_malloc, &got};
    for (unsigned r = 0; r < 60; r++) {
        hash32 h = code_hash_of(r % 4); /* four rows, all threads on each */
        if ((r + (unsigned)a->id) % 2 == 0) {
            size_t n = big_blob(&h, (r + (unsigned)a->id) % BIG_VARIANTS, want);
            save(a->ps, &h, JIT_VERSION, TARGET, want, n);
        }
        size_t len = 0;
        if (!js->load_into(js->ctx, &h, JIT_VERSION, TARGET, &dest, &len)) continue;
        a->loaded++;
        bool one_of_them = false;
        for (unsigned v = 0; v < BIG_VARIANTS && !one_of_them; v++) {
            size_t n = big_blob(&h, v, want);
            one_of_them = n == len && memcmp(want, got, n) == 0;
        }
        if (!one_of_them) a->bad++;
    }
    free(got);
    free(want);
    return NULL;
}

START_TEST(concurrent_load_into_while_rows_are_replaced)
{
    program_store ps;
    store *s = db_open_with_programs(&ps);
    program_store_stats before = program_store_get_stats();
    pthread_t t[N_THREADS];
    big_worker_arg args[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        args[i] = (big_worker_arg){.ps = &ps, .id = i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, big_worker, &args[i]), 0);
    }
    int loaded = 0;
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(args[i].bad, 0);
        loaded += args[i].loaded;
    }
    program_store_stats after = program_store_get_stats();
    ck_assert_uint_eq(after.rejected - before.rejected, 0);
    ck_assert_uint_eq(after.load_failed - before.load_failed, 0);
    ck_assert_uint_eq(after.save_failed - before.save_failed, 0);
    ck_assert_uint_eq(after.saved - before.saved, N_THREADS * 30);
    ck_assert_int_ge(loaded, N_THREADS * 30); /* every load after a thread's own save finds a row */
    ck_assert_uint_eq(after.loaded - before.loaded, (uint64_t)loaded);
    db_close_with_programs(s, &ps);
}
END_TEST

typedef struct {
    program_store *ps;
    atomic_bool done;
} closer_arg;

static void *save_one(void *p)
{
    closer_arg *a = p;
    hash32 h = code_hash_of(11);
    uint8_t blob[100];
    save(a->ps, &h, JIT_VERSION, TARGET, blob, blob_for(&h, 0, blob, sizeof blob));
    atomic_store(&a->done, true);
    return NULL;
}

static void *close_store(void *p)
{
    closer_arg *a = p;
    program_store_close(a->ps);
    atomic_store(&a->done, true);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000};
    nanosleep(&ts, NULL);
}

/* program_store_close waits for a save in progress (here one waiting for
 * another connection's write lock), and the save completes. */
START_TEST(close_waits_for_callbacks)
{
    program_store ps;
    store *s = db_open_with_programs(&ps);
    store_error se;
    store_conn *writer = store_connect(s, &se);
    ck_assert_msg(store_begin(writer, &se), "%s", se.msg); /* holds the write lock */
    program_store_stats before = program_store_get_stats();
    closer_arg saver = {.ps = &ps}, closer = {.ps = &ps};
    pthread_t ts, tc;
    ck_assert_int_eq(pthread_create(&ts, NULL, save_one, &saver), 0);
    for (bool entered = false; !entered; sleep_ms(5)) { /* until the save holds a connection */
        pthread_mutex_lock(&ps.lock);
        entered = ps.in_use == 1;
        pthread_mutex_unlock(&ps.lock);
    }
    sleep_ms(50);
    ck_assert(!atomic_load(&saver.done)); /* waiting for the write lock */
    ck_assert_int_eq(pthread_create(&tc, NULL, close_store, &closer), 0);
    sleep_ms(100);
    ck_assert(!atomic_load(&closer.done)); /* the save is still in progress */
    store_rollback(writer);
    pthread_join(ts, NULL);
    pthread_join(tc, NULL);
    ck_assert(atomic_load(&closer.done));
    program_store_stats after = program_store_get_stats();
    ck_assert_uint_eq(after.saved - before.saved, 1);
    ck_assert_uint_eq(after.save_failed - before.save_failed, 0);
    store_disconnect(writer);
    store_close(s);
}
END_TEST

/* Save failures are counted and reported once, not fatal. */
START_TEST(save_failure_counted)
{
    program_store ps;
    store *s = db_open_with_programs(&ps);
    warnings = 0;
    program_store_set_warn(&ps, count_warning);
    program_store_stats before = program_store_get_stats();
    /* Rows the store cannot hold: an empty target (refused by
     * store_put_program), a version beyond its INTEGER column's int. */
    hash32 h = code_hash_of(9);
    uint8_t blob[16] = {0};
    save(&ps, &h, JIT_VERSION, "", blob, sizeof blob);
    save(&ps, &h, 0x80000000u, TARGET, blob, sizeof blob);
    program_store_stats after = program_store_get_stats();
    ck_assert_uint_eq(after.save_failed - before.save_failed, 2);
    ck_assert_uint_eq(after.saved - before.saved, 0);
    ck_assert_int_eq(warnings, 1);
    ck_assert_ptr_nonnull(strstr(last_warning, "cannot keep the compiled program"));
    db_close_with_programs(s, &ps);
}
END_TEST

/* Runs code_for(n) as a call on the jit engine (Cancun); its status. */
static enum exec_status run_code(unsigned n)
{
    static const address contract = {{[0] = 0xc0, [19] = 0x01}}, sender = {{[19] = 0x5e}};
    uint8_t code[4];
    size_t len = code_for(n, code);
    memstate *m = memstate_new();
    u256 balance = u256_from_u64(1000000);
    memstate_put_account(m, &contract, 1, &balance, code, len);
    memstate_put_account(m, &sender, 0, &balance, NULL, 0);
    state_backend b = memstate_backend(m);
    state *st = state_new(&b);
    block_env block = {.number = 1, .timestamp = 1000, .gas_limit = 30000000};
    block.chain_id = u256_from_u64(1);
    block_env_default_blob_schedule(&block, FORK_CANCUN);
    evm *e = evm_new(st, &block, FORK_CANCUN);
    evm_set_engine(e, ENGINE_JIT);
    u256 price = u256_from_u64(1);
    evm_set_tx_context(e, &sender, &price, NULL, 0);
    message msg = {.kind = CALL_CALL, .gas = 100000, .recipient = contract, .sender = sender, .code_address = contract};
    enum exec_status status = evm_execute(e, &msg).status;
    evm_free(e);
    state_free(st);
    memstate_free(m);
    code_cache_set_budget(0); /* drop the compiled program, as a restart would */
    code_cache_set_budget((size_t)64 << 20);
    return status;
}

/* A jit_store that keeps the last blob saved. */
static uint8_t *kept_blob;
static size_t kept_len;
static void keep_save(void *ctx, const hash32 *h, uint32_t version, const char *target, const uint8_t *blob,
                      size_t len)
{
    (void)ctx, (void)h, (void)version, (void)target;
    free(kept_blob);
    kept_blob = malloc(len);
    memcpy(kept_blob, blob, len);
    kept_len = len;
}
static bool keep_load(void *ctx, const hash32 *h, uint32_t version, const char *target, uint8_t **blob, size_t *len)
{
    (void)ctx, (void)h, (void)version, (void)target, (void)blob, (void)len;
    return false;
}

/* Puts `blob`, its header's version field set to `blob_version`, as the row
 * of (h, row_version, TARGET) with a valid tag. */
static void put_row(store *s, const hash32 *h, uint32_t row_version, uint32_t blob_version, const uint8_t *blob,
                    size_t len)
{
    uint8_t key[32], tag[32], nonce[16] = {1, 2, 3};
    read_key_file(key);
    uint8_t *copy = malloc(len);
    memcpy(copy, blob, len);
    memcpy(copy + 8, &blob_version, 4); /* the blob header's version (jit_blob.c) */
    ck_assert(program_store_tag(key, nonce, h, row_version, TARGET, copy, len, tag));
    store_error se;
    store_conn *c = store_connect(s, &se);
    ck_assert_ptr_nonnull(c);
    ck_assert_msg(store_put_program(c, h, (int)row_version, TARGET, copy, len, tag, &se), "%s", se.msg);
    store_disconnect(c);
    free(copy);
}

/* The compiler version is a fingerprint of the layout compiled code bakes
 * in: a build that differs in its ABI, its helper table or its code
 * generation revision has another version, and its stored programs, tags
 * valid, are never loaded: the code is compiled again and stored under
 * this build's version. Also when a row is filed under this version but
 * its blob says it was built by another. */
/* load_into (the jit tier's path): the blob copied once into memory the
 * caller places, the tag checked over that copy; the same answers as load,
 * an altered row rejected and counted, and a destination without memory
 * neither loaded nor rejected. */
typedef struct {
    uint8_t *buf;
    size_t asked;
    bool refuse;
} test_dest;

static uint8_t *test_place(void *ctx, size_t len)
{
    test_dest *d = ctx;
    d->asked = len;
    if (d->refuse) return NULL;
    free(d->buf);
    d->buf = malloc(len ? len : 1);
    return d->buf;
}

START_TEST(load_into_checks_the_copy)
{
    program_store ps;
    store *s = db_open_with_programs(&ps);
    const jit_store *js = program_store_hooks(&ps);
    ck_assert_ptr_nonnull(js->load_into);
    warnings = 0;
    program_store_set_warn(&ps, count_warning);
    /* Larger than one chunk of the copy-and-MAC loop, and not a multiple of it. */
    size_t n = 100 * 1024 + 37;
    uint8_t *blob = malloc(n);
    for (size_t i = 0; i < n; i++) blob[i] = (uint8_t)(i * 131 + (i >> 9));
    hash32 h = code_hash_of(30);
    test_dest td = {NULL, 0, false};
    jit_blob_dest dest = {test_place, &td};
    size_t len = 1;
    program_store_stats before = program_store_get_stats();
    ck_assert(!js->load_into(js->ctx, &h, JIT_VERSION, TARGET, &dest, &len)); /* nothing stored */
    ck_assert_ptr_null(td.buf);
    save(&ps, &h, JIT_VERSION, TARGET, blob, n);
    ck_assert(js->load_into(js->ctx, &h, JIT_VERSION, TARGET, &dest, &len));
    ck_assert_uint_eq(len, n);
    ck_assert_uint_eq(td.asked, n);
    ck_assert_mem_eq(td.buf, blob, n);
    uint8_t *got;
    size_t got_len;
    ck_assert(load(&ps, &h, JIT_VERSION, TARGET, &got, &got_len)); /* the same as load gives */
    ck_assert_uint_eq(got_len, n);
    ck_assert_mem_eq(got, td.buf, n);
    free(got);
    program_store_stats mid = program_store_get_stats();
    ck_assert_uint_eq(mid.loaded - before.loaded, 2);
    ck_assert_uint_eq(mid.rejected - before.rejected, 0);

    /* One bit in the last chunk, then in the first: rejected, counted, logged once. */
    alter_row(s, &h, (int)n - 1, -1);
    ck_assert(!js->load_into(js->ctx, &h, JIT_VERSION, TARGET, &dest, &len));
    save(&ps, &h, JIT_VERSION, TARGET, blob, n);
    alter_row(s, &h, 5, -1);
    ck_assert(!js->load_into(js->ctx, &h, JIT_VERSION, TARGET, &dest, &len));
    program_store_stats after = program_store_get_stats();
    ck_assert_uint_eq(after.rejected - mid.rejected, 2);
    ck_assert_uint_eq(after.loaded, mid.loaded);
    ck_assert_int_eq(warnings, 1);
    ck_assert_ptr_nonnull(strstr(last_warning, "fails its integrity check"));

    /* No memory for it: not loaded, and not counted as a rejection either. */
    save(&ps, &h, JIT_VERSION, TARGET, blob, n);
    td.refuse = true;
    ck_assert(!js->load_into(js->ctx, &h, JIT_VERSION, TARGET, &dest, &len));
    ck_assert_uint_eq(td.asked, n);
    program_store_stats last = program_store_get_stats();
    ck_assert_uint_eq(last.rejected, after.rejected);
    ck_assert_uint_eq(last.loaded, after.loaded);
    td.refuse = false;
    ck_assert(js->load_into(js->ctx, &h, JIT_VERSION, TARGET, &dest, &len));
    ck_assert_mem_eq(td.buf, blob, n);

    /* An empty blob, as load gives it. */
    hash32 h2 = code_hash_of(31);
    save(&ps, &h2, JIT_VERSION, TARGET, blob, 0);
    ck_assert(js->load_into(js->ctx, &h2, JIT_VERSION, TARGET, &dest, &len));
    ck_assert_uint_eq(len, 0);
    free(td.buf);
    free(blob);
    db_close_with_programs(s, &ps);
}
END_TEST

/* ghash.c's GHASH (the default where the CPU has it) and OpenSSL's GMAC
 * make the same tags: over blobs of every length up to past two of its
 * 64-block reductions and some long ones, under several nonces and
 * targets; and fed in pieces of any size (a load feeds SQLite's reads
 * piece by piece) the GHASH is that of the whole. A row saved under one
 * loads under the other. */
START_TEST(fast_gmac_tags_as_openssl_does)
{
    if (!program_store_fast_gmac(true)) {
        printf("SKIPPED: fast_gmac_tags_as_openssl_does: no VPCLMULQDQ/AVX-512 here\n");
        return;
    }
    uint8_t key[32];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)(7 * i + 3);
    size_t max = 300 * 1024 + 77;
    uint8_t *blob = malloc(max);
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < max; i++) x = x * 6364136223846793005u + 1442695040888963407u, blob[i] = (uint8_t)(x >> 56);
    static const char *const targets[] = {"x86_64-sysv/Cancun", "t", "x86_64-sysv/Istanbul-and-then-some"};
    for (size_t len = 0; len <= 16 * 2 * GHASH_AGGREGATE + 40; len += len < 300 ? 1 : 7) {
        uint8_t nonce[16], fast[32], slow[32];
        for (int i = 0; i < 16; i++) nonce[i] = (uint8_t)(len * 31 + (size_t)i);
        hash32 h = code_hash_of((unsigned)len);
        const char *target = targets[len % 3];
        ck_assert(program_store_fast_gmac(true));
        ck_assert(program_store_tag(key, nonce, &h, 0x01020304, target, blob + len % 5, len, fast));
        ck_assert(!program_store_fast_gmac(false));
        ck_assert(program_store_tag(key, nonce, &h, 0x01020304, target, blob + len % 5, len, slow));
        ck_assert_msg(memcmp(fast, slow, 32) == 0, "blob of %zu bytes: the tags differ", len);
    }
    for (size_t len = 64 * 1024 - 3; len <= max; len += 77 * 1024 + 11) {
        uint8_t nonce[16] = {1, 2, 3}, fast[32], slow[32];
        hash32 h = code_hash_of(9);
        ck_assert(program_store_fast_gmac(true));
        ck_assert(program_store_tag(key, nonce, &h, 77, "x86_64-sysv/Prague", blob, len, fast));
        ck_assert(!program_store_fast_gmac(false));
        ck_assert(program_store_tag(key, nonce, &h, 77, "x86_64-sysv/Prague", blob, len, slow));
        ck_assert_msg(memcmp(fast, slow, 32) == 0, "blob of %zu bytes: the tags differ", len);
    }
    /* In pieces: random cuts, the same GHASH as in one go. */
    uint8_t hkey[16] = {0x66, 0xe9, 0x4b, 0xd4, 0xef, 0x8a, 0x2c, 0x3b, 0x88, 0x4c, 0xfa, 0x59, 0xca, 0x34, 0x2b, 0x2e};
    ghash_state *g = aligned_alloc(64, sizeof *g);
    for (int round = 0; round < 200; round++) {
        size_t len = (size_t)(x % (40 * 1024)), at = 0;
        uint8_t whole[16], pieces[16];
        ghash_init(g, hkey);
        ghash_update(g, blob, len);
        ghash_final(g, whole);
        ghash_init(g, hkey);
        while (at < len) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            size_t n = (size_t)(x >> 33) % (round % 2 ? 40 : 3000);
            if (n > len - at) n = len - at;
            ghash_update(g, blob + at, n);
            at += n;
        }
        ghash_final(g, pieces);
        ck_assert_msg(memcmp(whole, pieces, 16) == 0, "%zu bytes in pieces: another GHASH", len);
        x = x * 6364136223846793005u + 1442695040888963407u;
    }
    free(g);

    /* Saved under OpenSSL's, loaded under ours; and the other way. */
    program_store ps;
    store *s = db_open_with_programs(&ps);
    const jit_store *js = program_store_hooks(&ps);
    for (int way = 0; way < 2; way++) {
        hash32 h = code_hash_of(20 + (unsigned)way); /* held by the database (N_CODES) */
        size_t n = 100 * 1024 + 37 + (size_t)way;
        program_store_fast_gmac(way == 1);
        save(&ps, &h, JIT_VERSION, TARGET, blob, n);
        program_store_fast_gmac(way == 0);
        test_dest td = {NULL, 0, false};
        jit_blob_dest dest = {test_place, &td};
        size_t len = 0;
        ck_assert(js->load_into(js->ctx, &h, JIT_VERSION, TARGET, &dest, &len));
        ck_assert_uint_eq(len, n);
        ck_assert_mem_eq(td.buf, blob, n);
        free(td.buf);
    }
    program_store_fast_gmac(true);
    db_close_with_programs(s, &ps);
    free(blob);
}
END_TEST

/* A program recompiled by this build: its row now holds `blob` under this
 * build's version, and the next run of code `n` loads it without compiling. */
static void assert_stored_and_reloaded(program_store *ps, const hash32 *h, const uint8_t *blob, size_t len, unsigned n)
{
    uint8_t *got;
    size_t got_len;
    ck_assert(load(ps, h, JIT_VERSION, TARGET, &got, &got_len));
    ck_assert_uint_eq(got_len, len);
    ck_assert_mem_eq(got, blob, got_len);
    free(got);
    jit_stats before = jit_get_stats();
    ck_assert_int_eq(run_code(n), EXEC_SUCCESS);
    jit_stats after = jit_get_stats();
    ck_assert_uint_eq(after.store_hits, before.store_hits + 1);
    ck_assert_uint_eq(after.compiled, before.compiled);
}

/* The program this build compiles for code `n`, kept by the keeper store
 * (which stays installed); malloc'd, the caller frees. */
static uint8_t *compiled_blob(unsigned n, size_t *len)
{
    static jit_store keeper = {.load = keep_load, .save = keep_save};
    jit_set_store(&keeper);
    ck_assert_int_eq(run_code(n), EXEC_SUCCESS);
    uint8_t *blob = kept_blob;
    *len = kept_len;
    kept_blob = NULL;
    ck_assert_ptr_nonnull(blob);
    return blob;
}

START_TEST(program_of_another_layout_refused_and_recompiled)
{
    uint32_t v = JIT_VERSION;
    ck_assert_uint_ge(v, 1);
    ck_assert_uint_le(v, 0x7fffffffu);
    ck_assert_uint_eq(v, jit_version_from(JIT_CODEGEN_REVISION, jit_abi_fingerprint(), jit_helper_fingerprint()));
    uint32_t other_abi = jit_version_from(JIT_CODEGEN_REVISION, jit_abi_fingerprint() ^ 8, jit_helper_fingerprint());
    uint32_t other_helpers = jit_version_from(JIT_CODEGEN_REVISION, jit_abi_fingerprint(), jit_helper_fingerprint() + 1);
    uint32_t other_revision = jit_version_from(JIT_CODEGEN_REVISION + 1, jit_abi_fingerprint(), jit_helper_fingerprint());
    ck_assert_uint_ne(other_abi, v);
    ck_assert_uint_ne(other_helpers, v);
    ck_assert_uint_ne(other_revision, v);

    /* Real programs for codes 20 and 21, as this build compiles them. */
    size_t len20, len21;
    uint8_t *blob20 = compiled_blob(20, &len20), *blob21 = compiled_blob(21, &len21);

    program_store ps;
    store *s = db_open_with_programs(&ps);
    hash32 h20 = code_hash_of(20), h21 = code_hash_of(21);
    put_row(s, &h20, other_abi, other_abi, blob20, len20); /* as the other build stored it */
    put_row(s, &h21, v, other_abi, blob21, len21);         /* filed under ours, built by another */
    jit_set_store(program_store_hooks(&ps));
    for (int round = 0; round < 2; round++) {
        const hash32 *h = round ? &h21 : &h20;
        jit_stats before = jit_get_stats();
        ck_assert_int_eq(run_code(round ? 21 : 20), EXEC_SUCCESS);
        jit_stats after = jit_get_stats();
        ck_assert_uint_eq(after.store_hits, before.store_hits);
        ck_assert_uint_eq(after.store_misses, before.store_misses + 1);
        ck_assert_uint_eq(after.compiled, before.compiled + 1);
        ck_assert_uint_eq(after.store_saves, before.store_saves + 1);
        /* Stored again under this build's version, and loaded from there next time. */
        assert_stored_and_reloaded(&ps, h, round ? blob21 : blob20, round ? len21 : len20, round ? 21 : 20);
    }
    jit_set_store(NULL);
    free(blob20);
    free(blob21);
    db_close_with_programs(s, &ps);
}
END_TEST

/* The tag scheme before this one, as that build tagged a row: Poly1305
 * under the one-time key BLAKE2b-256(program key, nonce), over the same
 * message (computed here with libsodium). */
static void older_scheme_tag(const uint8_t key[32], const uint8_t nonce[16], const hash32 *h, uint32_t version,
                             const uint8_t *blob, size_t len, uint8_t tag[32])
{
    uint8_t otk[32], *msg = malloc(len + 128);
    size_t n = tag_message(h, version, TARGET, blob, len, msg);
    ck_assert_int_eq(crypto_generichash(otk, sizeof otk, nonce, 16, key, 32), 0);
    memcpy(tag, nonce, 16);
    ck_assert_int_eq(crypto_onetimeauth(tag + 16, msg, n, otk), 0);
    free(msg);
}

/* Puts (h, row_version, TARGET) -> blob, its header's version field set to
 * `row_version`, tagged by the older scheme. */
static void put_older_row(store *s, const hash32 *h, uint32_t row_version, const uint8_t *blob, size_t len)
{
    uint8_t key[32], tag[32], nonce[16] = {9, 8, 7};
    read_key_file(key);
    uint8_t *copy = malloc(len);
    memcpy(copy, blob, len);
    memcpy(copy + 8, &row_version, 4); /* the blob header's version (jit_blob.c) */
    older_scheme_tag(key, nonce, h, row_version, copy, len, tag);
    store_error se;
    store_conn *c = store_connect(s, &se);
    ck_assert_ptr_nonnull(c);
    ck_assert_msg(store_put_program(c, h, (int)row_version, TARGET, copy, len, tag, &se), "%s", se.msg);
    store_disconnect(c);
    free(copy);
}

/* The tag scheme is part of the stored format. Rows the build before this
 * one stored (tagged by Poly1305, filed under its compiler version, made
 * of JIT_CODEGEN_REVISION - 1) are refused cleanly: not found, so neither
 * loaded nor counted or logged as rejected, and the code is compiled again
 * and stored under this build's version and tag. A row tagged by the older
 * scheme but filed under this build's version (the scheme changed without
 * the revision bump) does not verify: rejected, counted, recompiled. */
START_TEST(programs_of_the_older_tag_scheme_refused_and_recompiled)
{
    uint32_t v = JIT_VERSION;
    uint32_t before = jit_version_from(JIT_CODEGEN_REVISION - 1, jit_abi_fingerprint(), jit_helper_fingerprint());
    ck_assert_uint_ne(before, v);

    /* Real programs for codes 22 and 23, as this build compiles them. */
    size_t len22, len23;
    uint8_t *blob22 = compiled_blob(22, &len22), *blob23 = compiled_blob(23, &len23);

    program_store ps;
    store *s = db_open_with_programs(&ps);
    warnings = 0;
    program_store_set_warn(&ps, count_warning);
    hash32 h22 = code_hash_of(22), h23 = code_hash_of(23);
    put_older_row(s, &h22, before, blob22, len22);
    put_older_row(s, &h23, v, blob23, len23);
    jit_set_store(program_store_hooks(&ps));
    for (int round = 0; round < 2; round++) {
        const hash32 *h = round ? &h23 : &h22;
        program_store_stats ps_before = program_store_get_stats();
        jit_stats before_run = jit_get_stats();
        ck_assert_int_eq(run_code(round ? 23 : 22), EXEC_SUCCESS);
        jit_stats after_run = jit_get_stats();
        program_store_stats ps_after = program_store_get_stats();
        ck_assert_uint_eq(after_run.store_hits, before_run.store_hits);
        ck_assert_uint_eq(after_run.store_misses, before_run.store_misses + 1);
        ck_assert_uint_eq(after_run.compiled, before_run.compiled + 1);
        ck_assert_uint_eq(after_run.store_saves, before_run.store_saves + 1);
        ck_assert_uint_eq(ps_after.loaded, ps_before.loaded);
        /* Filed under the older version: not even read. Under ours: rejected. */
        ck_assert_uint_eq(ps_after.rejected - ps_before.rejected, (uint64_t)round);
        ck_assert_int_eq(warnings, round);
        /* Stored again under this build's version and tag, and loaded from there next time. */
        assert_stored_and_reloaded(&ps, h, round ? blob23 : blob22, round ? len23 : len22, round ? 23 : 22);
    }
    jit_set_store(NULL);
    free(blob22);
    free(blob23);
    db_close_with_programs(s, &ps);
}
END_TEST

int main(void)
{
    return TEST_RUN("program_store",
        {.name = "program_store", .timeout = 60, .setup = setup, .teardown = teardown,
         .tests = TESTS(round_trip,
            programs_of_code_not_in_the_database_not_kept, tag_layout, altered_rows_rejected,
            key_file_created_private_and_reused, key_file_creation_race, key_file_refused, bad_hex_key_refused,
            concurrent_load_save, concurrent_load_into_while_rows_are_replaced, save_failure_counted, load_into_checks_the_copy, close_waits_for_callbacks,
            program_of_another_layout_refused_and_recompiled,
            programs_of_the_older_tag_scheme_refused_and_recompiled, fast_gmac_tags_as_openssl_does)});
}
