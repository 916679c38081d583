/* Compiled programs in the SQLite store, authenticated with a keyed MAC.
 * See program_store.h. */
#include "program_store.h"

#include "ghash.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static _Atomic uint64_t n_loaded, n_rejected, n_saved, n_save_failed, n_load_failed, n_not_kept;

program_store_stats program_store_get_stats(void)
{
    return (program_store_stats){
        .loaded = atomic_load(&n_loaded),
        .rejected = atomic_load(&n_rejected),
        .saved = atomic_load(&n_saved),
        .save_failed = atomic_load(&n_save_failed),
        .load_failed = atomic_load(&n_load_failed),
        .not_kept = atomic_load(&n_not_kept),
    };
}

static bool fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

/* ------------------------------------------------------------------ tag */

/* OpenSSL's GMAC (AES-256), fetched once. The tag is over native code
 * that is read at every program load, so the MAC is the fastest keyed one
 * at hand: GMAC is GHASH (carry-less multiplies) plus one AES block. A
 * whole program load (snailtracer, 480 KB, MAC'd in 32 KB pieces between
 * SQLite's reads) took about 100 us with it against 145 with OpenSSL's
 * Poly1305 (medians, interleaved), though alone over one buffer the two
 * ran at about the same speed; keyed BLAKE2b ran at about 0.45 GB/s and
 * HMAC-SHA256 at 0.7 here. Where the CPU has VPCLMULQDQ on 512-bit
 * registers, the same GMAC is computed with ghash.c's GHASH (and AES-256
 * from OpenSSL for its two blocks): OpenSSL 3.0 multiplies one block at a
 * time there, and was half of a program load. */
static EVP_MAC *gmac;
/* A GMAC context with its cipher (AES-256-GCM) set and no key: each tag
 * starts from a copy of it, so OpenSSL looks the cipher up once, not at
 * every load (EVP_CIPHER_fetch was about a tenth of a small program's
 * load). Only read, by every thread at once. */
static EVP_MAC_CTX *gmac_aes256;
/* AES-256 for the fast path's H and AES_K(J0); NULL: no fast path. */
static EVP_CIPHER *aes256_ecb;
static atomic_bool fast_gmac;
static pthread_once_t gmac_once = PTHREAD_ONCE_INIT;
static void gmac_fetch(void)
{
    gmac = EVP_MAC_fetch(NULL, "GMAC", NULL);
    gmac_aes256 = gmac ? EVP_MAC_CTX_new(gmac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-256-GCM", 0),
        OSSL_PARAM_construct_end(),
    };
    if (gmac_aes256 && !EVP_MAC_CTX_set_params(gmac_aes256, params)) {
        EVP_MAC_CTX_free(gmac_aes256);
        gmac_aes256 = NULL;
    }
    if (ghash_available()) aes256_ecb = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL);
    atomic_store(&fast_gmac, aes256_ecb != NULL);
}

bool program_store_fast_gmac(bool on)
{
    pthread_once(&gmac_once, gmac_fetch);
    atomic_store(&fast_gmac, on && aes256_ecb != NULL);
    return atomic_load(&fast_gmac);
}

/* What the row's key and IV are made of: PROGRAM_MAC_KEY_BYTES then
 * PROGRAM_MAC_IV_BYTES of BLAKE2b(key = the program key, message = the
 * row's nonce). */
#define PROGRAM_MAC_KEY_BYTES 32 /* AES-256 */
#define PROGRAM_MAC_IV_BYTES 12  /* GCM's native IV size: used as J0 directly */

/* A tag being computed: OpenSSL's GMAC (evp), or GHASH here and the
 * block AES_K(J0) its result is masked with. */
typedef struct {
    EVP_MAC_CTX *evp;
    bool fast, ok;
    ghash_state gh;
    uint8_t mask[16];
} tag_mac;

/* H = AES_K(0^128) and AES_K(J0), J0 = IV || 0^31 || 1 (a 96-bit IV). */
static bool fast_begin(tag_mac *m, const uint8_t kiv[PROGRAM_MAC_KEY_BYTES + PROGRAM_MAC_IV_BYTES])
{
    uint8_t in[32] = {0}, out[32];
    memcpy(in + 16, kiv + PROGRAM_MAC_KEY_BYTES, PROGRAM_MAC_IV_BYTES);
    in[31] = 1;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = c && EVP_EncryptInit_ex2(c, aes256_ecb, kiv, NULL, NULL) && EVP_CIPHER_CTX_set_padding(c, 0) &&
              EVP_EncryptUpdate(c, out, &n, in, sizeof in) && n == (int)sizeof out;
    EVP_CIPHER_CTX_free(c);
    if (ok) {
        ghash_init(&m->gh, out);
        memcpy(m->mask, out + 16, 16);
    }
    sodium_memzero(out, sizeof out);
    return ok;
}

static bool tag_update(tag_mac *m, const uint8_t *p, size_t n)
{
    if (!m->ok) return false;
    if (m->fast)
        ghash_update(&m->gh, p, n);
    else
        m->ok = EVP_MAC_update(m->evp, p, n);
    return m->ok;
}

/* Starts a tag (m->ok says whether it could be): the MAC keyed for
 * `nonce` over the message's fixed part (code hash, version, target); the
 * blob follows with tag_update. End it with tag_finish. */
static void tag_begin(tag_mac *m, const uint8_t key[PROGRAM_KEY_BYTES], const uint8_t nonce[PROGRAM_NONCE_BYTES],
                      const hash32 *code_hash, uint32_t version, const char *target)
{
    /* The row's own AES key and IV: a PRF (keyed BLAKE2b) of its random
     * nonce, so no two programs the service tags share a key (GMAC must
     * never tag two messages under one key and IV). Whoever lacks the
     * program key cannot compute them, for any nonce they put in a row. */
    uint8_t kiv[PROGRAM_MAC_KEY_BYTES + PROGRAM_MAC_IV_BYTES];
    crypto_generichash(kiv, sizeof kiv, nonce, PROGRAM_NONCE_BYTES, key, PROGRAM_KEY_BYTES);
    uint8_t v[4] = {(uint8_t)version, (uint8_t)(version >> 8), (uint8_t)(version >> 16), (uint8_t)(version >> 24)};
    pthread_once(&gmac_once, gmac_fetch);
    m->evp = NULL;
    m->fast = atomic_load(&fast_gmac);
    if (m->fast) {
        m->ok = fast_begin(m, kiv);
    } else {
        m->evp = gmac_aes256 ? EVP_MAC_CTX_dup(gmac_aes256) : NULL;
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_IV, kiv + PROGRAM_MAC_KEY_BYTES, PROGRAM_MAC_IV_BYTES),
            OSSL_PARAM_construct_end(),
        };
        m->ok = m->evp && EVP_MAC_init(m->evp, kiv, PROGRAM_MAC_KEY_BYTES, params);
    }
    sodium_memzero(kiv, sizeof kiv);
    /* The terminating zero keeps (target, blob) pairs apart: "ab" + blob
     * "c..." and "a" + blob "bc..." are different messages. */
    tag_update(m, code_hash->b, sizeof code_hash->b); /* each a no-op once one failed */
    tag_update(m, v, sizeof v);
    tag_update(m, (const uint8_t *)target, strlen(target) + 1);
}

/* The tag (nonce, then MAC) of what tag_begin and its updates fed, when
 * all went well; ends the tag either way. */
static bool tag_finish(tag_mac *m, const uint8_t nonce[PROGRAM_NONCE_BYTES], uint8_t tag[PROGRAM_TAG_BYTES])
{
    size_t out_len = 0;
    memcpy(tag, nonce, PROGRAM_NONCE_BYTES);
    bool ok = m->ok;
    if (m->fast) {
        uint8_t s[16];
        if (ok) {
            ghash_final(&m->gh, s); /* wipes it */
            for (int i = 0; i < 16; i++) tag[PROGRAM_NONCE_BYTES + i] = s[i] ^ m->mask[i];
            sodium_memzero(s, sizeof s);
        } else { /* failed, or not begun: its powers of H wiped all the same */
            sodium_memzero(&m->gh, sizeof m->gh);
        }
        sodium_memzero(m->mask, sizeof m->mask);
    } else {
        ok = ok &&
             EVP_MAC_final(m->evp, tag + PROGRAM_NONCE_BYTES, &out_len, PROGRAM_TAG_BYTES - PROGRAM_NONCE_BYTES) &&
             out_len == PROGRAM_TAG_BYTES - PROGRAM_NONCE_BYTES;
        EVP_MAC_CTX_free(m->evp);
        m->evp = NULL;
    }
    m->ok = false;
    if (!ok) sodium_memzero(tag, PROGRAM_TAG_BYTES);
    return ok;
}

bool program_store_tag(const uint8_t key[PROGRAM_KEY_BYTES], const uint8_t nonce[PROGRAM_NONCE_BYTES],
                       const hash32 *code_hash, uint32_t version, const char *target, const uint8_t *blob, size_t len,
                       uint8_t tag[PROGRAM_TAG_BYTES])
{
    uint8_t n[PROGRAM_NONCE_BYTES];
    memcpy(n, nonce, sizeof n); /* nonce and tag may be one buffer */
    tag_mac m;
    tag_begin(&m, key, n, code_hash, version, target);
    if (len) tag_update(&m, blob, len);
    return tag_finish(&m, n, tag);
}

/* ------------------------------------------------------------------ key */

bool program_store_key_path(const char *db_path, char *out, size_t len)
{
    int n = snprintf(out, len, "%s%s", db_path, PROGRAM_KEY_SUFFIX);
    return n > 0 && (size_t)n < len;
}

static bool parse_key_hex(const char *hex, uint8_t key[PROGRAM_KEY_BYTES], char *err, size_t errlen)
{
    size_t n = strlen(hex);
    bool digits = n == 2 * PROGRAM_KEY_BYTES;
    for (size_t i = 0; digits && i < n; i++) digits = isxdigit((unsigned char)hex[i]);
    size_t got = 0;
    if (!digits || sodium_hex2bin(key, PROGRAM_KEY_BYTES, hex, n, NULL, &got, NULL) != 0 ||
        got != PROGRAM_KEY_BYTES)
        return fail(err, errlen, "program key: expected %d hex digits (%d bytes), got %zu characters",
                    2 * PROGRAM_KEY_BYTES, PROGRAM_KEY_BYTES, n);
    return true;
}

/* Reads the key file; *absent set (and false returned) when there is none. */
static bool read_key_file(const char *path, uint8_t key[PROGRAM_KEY_BYTES], bool *absent, char *err, size_t errlen)
{
    *absent = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            *absent = true;
            return false;
        }
        return fail(err, errlen, "cannot open the program key file %s: %s", path, strerror(errno));
    }
    struct stat st;
    bool ok = false;
    if (fstat(fd, &st) != 0) {
        fail(err, errlen, "cannot read the program key file %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        fail(err, errlen, "the program key file %s is not a regular file", path);
    } else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        /* Whoever can read the key can forge programs the service will run. */
        fail(err, errlen,
             "the program key file %s has mode %04o: it must not be accessible to group or others (chmod 600 %s)",
             path, (unsigned)(st.st_mode & 07777), path);
    } else if (st.st_size != PROGRAM_KEY_BYTES) {
        fail(err, errlen, "the program key file %s holds %lld bytes, not %d: not a program key", path,
             (long long)st.st_size, PROGRAM_KEY_BYTES);
    } else {
        size_t have = 0;
        while (have < PROGRAM_KEY_BYTES) {
            ssize_t r = read(fd, key + have, PROGRAM_KEY_BYTES - have);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            have += (size_t)r;
        }
        ok = have == PROGRAM_KEY_BYTES;
        if (!ok) fail(err, errlen, "cannot read the program key file %s: %s", path, have ? "short read" : strerror(errno));
    }
    close(fd);
    return ok;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Makes a new key file: a private temporary file beside it, then a rename
 * that never replaces an existing file, so a reader sees either no file or
 * the whole key. *raced set when another process made one meanwhile (then
 * read that one). */
static bool create_key_file(const char *path, uint8_t key[PROGRAM_KEY_BYTES], bool *raced, char *err, size_t errlen)
{
    *raced = false;
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return fail(err, errlen, "program key file path too long: %s", path);
    int fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) return fail(err, errlen, "cannot create the program key file %s: %s", path, strerror(errno));
    randombytes_buf(key, PROGRAM_KEY_BYTES);
    bool ok = fchmod(fd, 0600) == 0 && write_all(fd, key, PROGRAM_KEY_BYTES) && fsync(fd) == 0;
    int saved_errno = errno;
    if (close(fd) != 0 && ok) ok = false, saved_errno = errno;
    if (!ok) {
        unlink(tmp);
        return fail(err, errlen, "cannot write the program key file %s: %s", path, strerror(saved_errno));
    }
    int rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) rc = rename(tmp, path); /* no RENAME_NOREPLACE here */
    if (rc != 0) {
        saved_errno = errno;
        unlink(tmp);
        if (saved_errno == EEXIST) {
            *raced = true;
            return false;
        }
        return fail(err, errlen, "cannot create the program key file %s: %s", path, strerror(saved_errno));
    }
    /* The rename itself made durable: losing the key would only cost
     * recompiling, but a database without its key would warn at every
     * restart. */
    char dir_buf[PATH_MAX];
    snprintf(dir_buf, sizeof dir_buf, "%s", path);
    int dfd = open(dirname(dir_buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return true;
}

static bool load_key(const char *db_path, uint8_t key[PROGRAM_KEY_BYTES], char *err, size_t errlen)
{
    char path[PATH_MAX];
    if (!db_path || !*db_path) return fail(err, errlen, "no database path to keep the program key beside");
    if (!program_store_key_path(db_path, path, sizeof path))
        return fail(err, errlen, "program key file path too long: %s%s", db_path, PROGRAM_KEY_SUFFIX);
    bool absent, raced;
    if (read_key_file(path, key, &absent, err, errlen)) return true;
    if (!absent) return false;
    if (create_key_file(path, key, &raced, err, errlen)) return true;
    if (!raced) return false;
    if (read_key_file(path, key, &absent, err, errlen)) return true;
    if (absent) fail(err, errlen, "the program key file %s disappeared while being created", path);
    return false;
}

/* ---------------------------------------------------------- connections */

/* A connection for this call; NULL when closing or when none can be opened
 * (`se` then says why, or is empty when closing). */
static store_conn *conn_take(program_store *ps, store_error *se)
{
    se->msg[0] = '\0';
    pthread_mutex_lock(&ps->lock);
    if (ps->closing) {
        pthread_mutex_unlock(&ps->lock);
        return NULL;
    }
    ps->in_use++;
    store_conn *c = ps->n_idle ? ps->idle[--ps->n_idle] : NULL;
    pthread_mutex_unlock(&ps->lock);
    if (!c) c = store_connect(ps->db, se);
    if (!c) {
        pthread_mutex_lock(&ps->lock);
        if (--ps->in_use == 0) pthread_cond_broadcast(&ps->idle_cond);
        pthread_mutex_unlock(&ps->lock);
    }
    return c;
}

static void conn_give(program_store *ps, store_conn *c)
{
    pthread_mutex_lock(&ps->lock);
    if (ps->n_idle == ps->cap_idle) {
        ps->cap_idle = ps->cap_idle ? 2 * ps->cap_idle : 8;
        ps->idle = xrealloc(ps->idle, ps->cap_idle * sizeof *ps->idle);
    }
    ps->idle[ps->n_idle++] = c;
    if (--ps->in_use == 0) pthread_cond_broadcast(&ps->idle_cond);
    pthread_mutex_unlock(&ps->lock);
}

/* Reports through the warn callback the first time `*flag` is clear. */
static void warn_once(program_store *ps, bool *flag, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn_once(program_store *ps, bool *flag, const char *fmt, ...)
{
    pthread_mutex_lock(&ps->lock);
    bool first = !*flag;
    *flag = true;
    void (*warn)(const char *) = ps->warn;
    pthread_mutex_unlock(&ps->lock);
    if (!first || !warn) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    warn(line);
}

static void hash_hex(const hash32 *h, char out[67])
{
    out[0] = '0', out[1] = 'x';
    sodium_bin2hex(out + 2, 65, h->b, sizeof h->b);
}

/* ------------------------------------------------------------ callbacks */

/* Counts (and reports the first) stored program that fails its tag. */
static void reject(program_store *ps, const hash32 *code_hash, uint32_t version, const char *target)
{
    atomic_fetch_add(&n_rejected, 1);
    char hex[67];
    hash_hex(code_hash, hex);
    warn_once(ps, &ps->reject_logged,
              "program store: the stored program for code %s (compiler version %" PRIu32 ", %s) fails its "
              "integrity check (altered, or written under another program key): not loaded, compiled again; "
              "further rejections are only counted",
              hex, version, target);
}

/* A program that could not be read: a database error (se's message set) is
 * counted and logged once; "not stored" is neither. Always false. */
static bool load_failed(program_store *ps, const store_error *se)
{
    if (se->msg[0]) {
        atomic_fetch_add(&n_load_failed, 1);
        warn_once(ps, &ps->load_failure_logged, "program store: cannot read stored programs: %s", se->msg);
    }
    return false;
}

static bool program_load(void *ctx, const hash32 *code_hash, uint32_t version, const char *target, uint8_t **blob,
                         size_t *len)
{
    program_store *ps = ctx;
    *blob = NULL;
    *len = 0;
    if (!target || !*target || version > INT_MAX) return false; /* nothing is stored under such keys */
    store_error se;
    store_conn *c = conn_take(ps, &se);
    if (!c) {
        return load_failed(ps, &se);
    }
    uint8_t *got = NULL, tag[PROGRAM_TAG_BYTES];
    size_t got_len = 0;
    bool found = store_get_program(c, code_hash, (int)version, target, &got, &got_len, tag, &se);
    conn_give(ps, c);
    if (!found) {
        return load_failed(ps, &se);
    }
    uint8_t want[PROGRAM_TAG_BYTES];
    /* With the row's nonce; no MAC at all (OpenSSL failing) verifies nothing. */
    if (!program_store_tag(ps->key, tag, code_hash, version, target, got, got_len, want) ||
        sodium_memcmp(want, tag, PROGRAM_TAG_BYTES) != 0) {
        free(got);
        reject(ps, code_hash, version, target);
        return false;
    }
    atomic_fetch_add(&n_loaded, 1);
    *blob = got;
    *len = got_len;
    return true;
}

/* A load in place (jit_store.load_into): the row's blob read by SQLite
 * straight into the destination (sqlite3_blob_read, no buffer of its own
 * in between), a piece at a time, each piece fed to the MAC from there
 * while it is still in cache. The destination is what is checked: it is
 * private to this process, so what passed is what will run. */
typedef struct {
    program_store *ps;
    const hash32 *code_hash;
    uint32_t version;
    const char *target;
    const jit_blob_dest *dest;
    bool begun;
    tag_mac mac;
    uint8_t tag[PROGRAM_TAG_BYTES]; /* the row's */
    size_t len, fed;
    bool no_memory;
} load_into_job;

/* The piece size: a piece is read into the mapping and then MAC'd while
 * still in cache. 16 KB to 1 MB measured alike (a 480 KB blob fits the
 * 2 MB L2); 8 KB was slower. */
#define TAG_CHUNK (32 * 1024)

static uint8_t *load_into_place(void *ctx, size_t len, const uint8_t tag[32])
{
    load_into_job *j = ctx;
    uint8_t *to = j->dest->place(j->dest->ctx, len);
    if (!to) {
        j->no_memory = true;
        return NULL;
    }
    j->len = len;
    memcpy(j->tag, tag, PROGRAM_TAG_BYTES);
    tag_begin(&j->mac, j->ps->key, tag, j->code_hash, j->version, j->target);
    j->begun = true;
    return j->mac.ok ? to : NULL; /* no MAC (OpenSSL failing): nothing to check it with */
}

static bool load_into_piece(void *ctx, const uint8_t *at, size_t n)
{
    load_into_job *j = ctx;
    if (!tag_update(&j->mac, at, n)) return false;
    j->fed += n;
    return true;
}

static bool program_load_into(void *ctx, const hash32 *code_hash, uint32_t version, const char *target,
                              const jit_blob_dest *dest, size_t *len)
{
    program_store *ps = ctx;
    *len = 0;
    if (!target || !*target || version > INT_MAX) return false; /* nothing is stored under such keys */
    store_error se;
    store_conn *c = conn_take(ps, &se);
    if (!c) {
        return load_failed(ps, &se);
    }
    load_into_job j = {.ps = ps, .code_hash = code_hash, .version = version, .target = target, .dest = dest};
    store_program_reader r = {&j, load_into_place, load_into_piece, TAG_CHUNK};
    bool found = store_read_program(c, code_hash, (int)version, target, &r, &se);
    conn_give(ps, c);
    uint8_t want[PROGRAM_TAG_BYTES];
    /* A MAC that failed, or did not see the whole blob, verifies nothing. */
    if (j.fed != j.len) j.mac.ok = false;
    bool tagged = j.begun && tag_finish(&j.mac, j.tag, want); /* with the row's nonce; ends the MAC either way */
    if (!found) return load_failed(ps, &se);
    if (j.no_memory) return false; /* nothing was checked: neither loaded nor rejected */
    if (!tagged || sodium_memcmp(want, j.tag, PROGRAM_TAG_BYTES) != 0) {
        reject(ps, code_hash, version, target);
        return false;
    }
    *len = j.len;
    atomic_fetch_add(&n_loaded, 1);
    return true;
}

static void program_save(void *ctx, const hash32 *code_hash, uint32_t version, const char *target,
                         const uint8_t *blob, size_t len)
{
    program_store *ps = ctx;
    store_error se = {{0}};
    bool ok = false;
    if (!target || !*target || version > INT_MAX) {
        snprintf(se.msg, sizeof se.msg, "no target or a version out of range");
    } else {
        uint8_t tag[PROGRAM_TAG_BYTES], nonce[PROGRAM_NONCE_BYTES];
        randombytes_buf(nonce, sizeof nonce);
        store_conn *c = NULL;
        if (!program_store_tag(ps->key, nonce, code_hash, version, target, blob, len, tag))
            snprintf(se.msg, sizeof se.msg, "no GMAC from OpenSSL to tag it with");
        else
            c = conn_take(ps, &se);
        if (!c && !se.msg[0]) return; /* closing: nothing to count */
        if (c) {
            /* Only programs of code the database holds are kept: code that
             * exists only in one call (a state override, a contract the call
             * creates) would otherwise let any caller grow the file. */
            bool held = false;
            ok = store_has_code(c, code_hash, &held, &se);
            if (ok && !held) {
                conn_give(ps, c);
                atomic_fetch_add(&n_not_kept, 1);
                return;
            }
            if (ok) ok = store_put_program(c, code_hash, (int)version, target, blob, len, tag, &se);
            conn_give(ps, c);
        }
    }
    if (ok) {
        atomic_fetch_add(&n_saved, 1);
        return;
    }
    atomic_fetch_add(&n_save_failed, 1);
    char hex[67];
    hash_hex(code_hash, hex);
    warn_once(ps, &ps->save_failure_logged,
              "program store: cannot keep the compiled program for code %s (it is used, only not kept): %s; further "
              "failures are only counted",
              hex, se.msg);
}

/* ---------------------------------------------------------------- public */

bool program_store_open(program_store *ps, store *db, const char *db_path, const char *key_hex, char *err,
                        size_t errlen)
{
    memset(ps, 0, sizeof *ps);
    if (sodium_init() < 0) return fail(err, errlen, "libsodium failed to initialise");
    bool ok = key_hex ? parse_key_hex(key_hex, ps->key, err, errlen) : load_key(db_path, ps->key, err, errlen);
    if (!ok) {
        sodium_memzero(ps->key, sizeof ps->key);
        return false;
    }
    ps->db = db;
    ps->hooks = (jit_store){.ctx = ps, .load = program_load, .load_into = program_load_into, .save = program_save};
    pthread_mutex_init(&ps->lock, NULL);
    pthread_cond_init(&ps->idle_cond, NULL);
    /* OpenSSL's first fetch of the MAC (loading its provider's algorithm
     * tables: about 2.7 million instructions, measured with callgrind) is
     * paid here rather than by the first call that loads a program. */
    pthread_once(&gmac_once, gmac_fetch);
    /* One connection opened now (preparing its statements costs about a
     * millisecond), so that the first program load of a call does not pay
     * for it; a failure here is left for that load to report. */
    if (db) {
        store_error se;
        store_conn *c = conn_take(ps, &se);
        if (c) conn_give(ps, c);
    }
    return true;
}

const jit_store *program_store_hooks(program_store *ps) { return &ps->hooks; }

void program_store_set_warn(program_store *ps, void (*warn)(const char *line))
{
    pthread_mutex_lock(&ps->lock);
    ps->warn = warn;
    pthread_mutex_unlock(&ps->lock);
}

void program_store_close(program_store *ps)
{
    if (!ps->db) return;
    pthread_mutex_lock(&ps->lock);
    ps->closing = true;
    while (ps->in_use) pthread_cond_wait(&ps->idle_cond, &ps->lock);
    pthread_mutex_unlock(&ps->lock);
    for (size_t i = 0; i < ps->n_idle; i++) store_disconnect(ps->idle[i]);
    free(ps->idle);
    ps->idle = NULL;
    ps->n_idle = ps->cap_idle = 0;
    sodium_memzero(ps->key, sizeof ps->key);
    pthread_cond_destroy(&ps->idle_cond);
    pthread_mutex_destroy(&ps->lock);
    ps->db = NULL;
}
