#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "json_reader.h"
#include "base/hex.h"
#include "base/keccak.h"
#include "base/trie.h"

#define PROGRESS_INTERVAL_NS 50000000LL
/* How many items between looks at the clock. */
#define PROGRESS_CHECK_EVERY 4096
/* Longest piece of input quoted in an error message. */
#define SHOWN_MAX 66

/* ------------------------------------------------------------ key sets */

/* A set of 32-byte keys (addresses are zero-padded) that empties in O(1):
 * an entry counts only when it carries the current generation, so each
 * account's slot set starts empty without touching the table. */
typedef struct {
    uint8_t key[32];
    uint32_t gen;
} keyset_entry;

typedef struct {
    keyset_entry *e;
    size_t cap, count;
    uint32_t gen;
} keyset;

static uint64_t key_hash(const uint8_t key[32])
{
    uint64_t a, b, c, d;
    memcpy(&a, key, 8);
    memcpy(&b, key + 8, 8);
    memcpy(&c, key + 16, 8);
    memcpy(&d, key + 24, 8);
    uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ULL) ^ (c * 0xc2b2ae3d27d4eb4fULL) ^ (d * 0x165667b19e3779f9ULL);
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    return x;
}

static size_t keyset_find(const keyset *s, const uint8_t key[32])
{
    size_t mask = s->cap - 1;
    for (size_t i = key_hash(key) & mask;; i = (i + 1) & mask)
        if (s->e[i].gen != s->gen || memcmp(s->e[i].key, key, 32) == 0) return i;
}

static void keyset_clear(keyset *s)
{
    /* After a big account, a small table again: one that fits in the CPU
     * caches serves the many small accounts much faster. */
    if (s->cap > 4096 && s->count * 16 < s->cap) {
        free(s->e);
        s->e = NULL;
        s->cap = 0;
    }
    s->count = 0;
    if (++s->gen == 0) { /* wrapped: old entries could look current again */
        memset(s->e, 0, s->cap * sizeof *s->e);
        s->gen = 1;
    }
}

/* Adds the key; false when it was already there. */
static bool keyset_add(keyset *s, const uint8_t key[32])
{
    if (s->gen == 0) s->gen = 1;
    if ((s->count + 1) * 4 > s->cap * 3) {
        keyset bigger = {xcalloc(s->cap ? s->cap * 2 : 1024, sizeof(keyset_entry)), s->cap ? s->cap * 2 : 1024,
                         s->count, 1};
        for (size_t i = 0; i < s->cap; i++)
            if (s->e[i].gen == s->gen) {
                keyset_entry *to = &bigger.e[keyset_find(&bigger, s->e[i].key)];
                memcpy(to->key, s->e[i].key, 32);
                to->gen = 1;
            }
        free(s->e);
        *s = bigger;
    }
    keyset_entry *e = &s->e[keyset_find(s, key)];
    if (e->gen == s->gen) return false;
    memcpy(e->key, key, 32);
    e->gen = s->gen;
    s->count++;
    return true;
}

static void keyset_free(keyset *s)
{
    free(s->e);
}

/* ----------------------------------------------------------- hex text */

/* 40 hex digits, with or without "0x" (geth accepts both in an alloc). */
static bool parse_address(const char *s, size_t n, address *out)
{
    return hex_parse_fixed(s, n, HEX_PREFIX_OPTIONAL, out->b, 20, NULL) == HEX_OK;
}

enum number_error { NUM_OK, NUM_SYNTAX, NUM_TOO_BIG };

/* "0x" and 1 or more hex digits (leading zeros allowed), at most `bits`
 * significant bits. */
static enum number_error parse_hex_u256(const char *s, size_t n, unsigned bits, u256 *out)
{
    enum hex_status st = hex_parse_quantity(s, n, 0, bits, out, NULL);
    return st == HEX_OK ? NUM_OK : st == HEX_TOO_BIG ? NUM_TOO_BIG : NUM_SYNTAX;
}

/* Decimal digits only, value below 2^bits. */
static enum number_error parse_decimal_u256(const char *s, size_t n, unsigned bits, u256 *out)
{
    if (n == 0) return NUM_SYNTAX;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return NUM_SYNTAX;
    /* floor((2^256 - 1) / 10): a larger value times 10 overflows. */
    static const u256 limit = {{0x9999999999999999ULL, 0x9999999999999999ULL, 0x9999999999999999ULL,
                                0x1999999999999999ULL}};
    const u256 ten = u256_from_u64(10);
    u256 v = u256_zero();
    for (size_t i = 0; i < n; i++) {
        if (u256_lt(&limit, &v)) return NUM_TOO_BIG;
        u256 times = u256_mul(&v, &ten);
        u256 digit = u256_from_u64((uint64_t)(s[i] - '0'));
        v = u256_add(&times, &digit);
        if (u256_lt(&v, &times)) return NUM_TOO_BIG; /* wrapped */
    }
    if (256 - u256_clz(&v) > bits) return NUM_TOO_BIG;
    *out = v;
    return NUM_OK;
}

/* ------------------------------------------------------------ importer */

enum doc_kind { DOC_UNKNOWN, DOC_ALLOC, DOC_GENESIS, DOC_FIXTURE, DOC_CASE };

static const char *const doc_kind_names[] = {
    [DOC_UNKNOWN] = "?", [DOC_ALLOC] = "an alloc", [DOC_GENESIS] = "a genesis file",
    [DOC_FIXTURE] = "a state-test fixture", [DOC_CASE] = "a state-test case",
};

typedef struct {
    store_conn *c;
    json_reader r;
    const import_options *o;
    import_stats *st;
    state_sink sink;
    enum doc_kind kind;
    keyset addresses; /* imported so far: duplicates are errors */
    keyset slots;     /* of the current account */
    bytebuf code;
    char account[2 + 40 + 1]; /* the current account, for messages; "" outside one */
    size_t cases_seen;
    char first_case[SHOWN_MAX + 4];
    bool case_found, post_found;
    bool state_empty; /* when the import started */
    /* Genesis parts. */
    chain_spec spec;
    bool has_config, has_chain_id, has_base_fee;
    /* Progress. */
    size_t total;
    unsigned since_check;
    uint64_t last_report_ns;
} importer;

/* Fails at `at` (the start of the offending value), with the current
 * account as context. */
static bool bad(importer *im, const char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool bad(importer *im, const char *at, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at) im->r.p = at;
    if (im->account[0]) return jr_fail(&im->r, "account %s: %s", im->account, msg);
    return jr_fail(&im->r, "%s", msg);
}

/* Input text for a message: at most SHOWN_MAX characters, printable. */
static const char *shown(const char *s, size_t n, char buf[SHOWN_MAX + 4])
{
    size_t k = n < SHOWN_MAX ? n : SHOWN_MAX;
    for (size_t i = 0; i < k; i++) buf[i] = ((unsigned char)s[i] >= 0x20 && s[i] != 0x7f) ? s[i] : '?';
    if (n > k) {
        memcpy(buf + k, "...", 4);
    } else {
        buf[k] = '\0';
    }
    return buf;
}

static void progress_tick(importer *im)
{
    if (!im->o->progress || ++im->since_check < PROGRESS_CHECK_EVERY) return;
    im->since_check = 0;
    uint64_t now = monotonic_ns();
    if (now - im->last_report_ns < PROGRESS_INTERVAL_NS) return;
    im->last_report_ns = now;
    im->st->bytes_read = jr_offset(&im->r);
    im->o->progress(im->o->progress_ctx, im->st->bytes_read, im->total, im->st);
}

static bool set_kind(importer *im, enum doc_kind kind, const char *at)
{
    if (im->kind == DOC_UNKNOWN) im->kind = kind;
    if (im->kind == kind) return true;
    return bad(im, at, "the top-level object mixes the members of %s and %s (expected a geth genesis file, an alloc "
                       "object or a state-test fixture)",
               doc_kind_names[im->kind], doc_kind_names[kind]);
}

/* The start of the next value, which must be of `kind`; else NULL, after
 * failing with the message (or with the reader's own error). */
static const char *expect_value(importer *im, enum json_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static const char *expect_value(importer *im, enum json_kind kind, const char *fmt, ...)
{
    json_reader *r = &im->r;
    enum json_kind k = jr_peek(r);
    const char *at = r->p;
    if (k == kind) return at;
    if (!r->err[0]) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        bad(im, at, "%s", msg);
    }
    return NULL;
}

/* An object's members one at a time:
 *     members m;
 *     if (!open_object(im, &m)) return false;
 *     while (next_member(im, &m)) { read the value of m.key }
 *     return m.status == 0;
 * status: 1 at a member, 0 after the closing brace, -1 on an error. */
typedef struct {
    bool first;
    const char *key;
    size_t key_len;
    int status;
} members;

static bool open_object(importer *im, members *m)
{
    m->first = true;
    m->status = -1;
    return jr_object_begin(&im->r);
}

static bool next_member(importer *im, members *m)
{
    m->status = jr_object_next(&im->r, &m->first, &m->key, &m->key_len);
    return m->status == 1;
}

static bool key_is(const char *key, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(key, word, len) == 0;
}

/* A quantity: a "0x" hex or decimal string, or a JSON integer. */
static bool read_quantity(importer *im, const char *what, unsigned bits, u256 *out)
{
    json_reader *r = &im->r;
    enum json_kind k = jr_peek(r);
    const char *at = r->p, *s;
    size_t n;
    char buf[SHOWN_MAX + 4];
    enum number_error e;
    if (k == JSON_KIND_STRING) {
        if (!jr_string(r, &s, &n)) return false;
        e = hex_has_prefix(s, n) ? parse_hex_u256(s, n, bits, out) : parse_decimal_u256(s, n, bits, out);
    } else if (k == JSON_KIND_NUMBER) {
        if (!jr_number(r, &s, &n)) return false;
        e = parse_decimal_u256(s, n, bits, out);
        if (e == NUM_SYNTAX)
            return bad(im, at, "%s: %s is not a non-negative integer", what, shown(s, n, buf));
    } else {
        return k == JSON_KIND_END ? false : bad(im, at, "%s: expected a quantity (a \"0x\" hex string, a decimal "
                                                        "string or an integer)", what);
    }
    if (e == NUM_SYNTAX)
        return bad(im, at, "%s: \"%s\" is not a quantity (\"0x\" and hex digits, or decimal digits)", what,
                   shown(s, n, buf));
    if (e == NUM_TOO_BIG) return bad(im, at, "%s: %s does not fit in %u bits", what, shown(s, n, buf), bits);
    return true;
}

static bool read_u64(importer *im, const char *what, uint64_t *out)
{
    u256 v;
    if (!read_quantity(im, what, 64, &v)) return false;
    *out = v.w[0];
    return true;
}

/* A 32-byte word in a storage map: "0x" and 1 to 64 hex digits. */
static bool parse_word(importer *im, const char *what, const char *s, size_t n, const char *at, u256 *out)
{
    char buf[SHOWN_MAX + 4];
    enum number_error e = parse_hex_u256(s, n, 256, out);
    if (e == NUM_SYNTAX)
        return bad(im, at, "%s \"%s\" is not \"0x\" followed by hex digits", what, shown(s, n, buf));
    if (e == NUM_TOO_BIG) return bad(im, at, "%s %s is longer than 32 bytes", what, shown(s, n, buf));
    return true;
}

/* "0x" and an even number of hex digits. */
static bool read_bytes(importer *im, const char *what, bytebuf *out)
{
    const char *at = expect_value(im, JSON_KIND_STRING, "%s: expected a hex string", what), *s;
    size_t n;
    char buf[SHOWN_MAX + 4];
    if (!at || !jr_string(&im->r, &s, &n)) return false;
    out->len = 0;
    hex_detail d;
    enum hex_status st = hex_parse_bytes(s, n, 0, out, &d);
    if (st == HEX_OK) return true;
    if (st == HEX_BAD_DIGIT)
        return bad(im, at, "%s: '%c' is not a hex digit", what, (unsigned char)s[d.bad_at] >= 0x20 ? s[d.bad_at] : '?');
    if (st == HEX_ODD_LENGTH) return bad(im, at, "%s: odd number of hex digits (%zu)", what, d.digits);
    return bad(im, at, "%s: \"%s\" does not start with \"0x\"", what, shown(s, n, buf));
}

static bool read_storage(importer *im, const address *a)
{
    json_reader *r = &im->r;
    members m;
    if (!expect_value(im, JSON_KIND_OBJECT, "storage: expected an object") || !open_object(im, &m)) return false;
    keyset_clear(&im->slots);
    while (next_member(im, &m)) {
        const char *key_at = r->p;
        u256 k, v;
        if (!parse_word(im, "storage key", m.key, m.key_len, key_at, &k)) return false;
        uint8_t be[32];
        u256_store_be(be, &k);
        char buf[SHOWN_MAX + 4];
        if (!keyset_add(&im->slots, be))
            return bad(im, key_at, "duplicate storage key %s", shown(m.key, m.key_len, buf));
        const char *value_at = expect_value(im, JSON_KIND_STRING, "storage value: expected a hex string"), *s;
        size_t n;
        if (!value_at || !jr_string(r, &s, &n) || !parse_word(im, "storage value", s, n, value_at, &v)) return false;
        if (!u256_is_zero(&v)) { /* zero is "no slot", as in the trie */
            im->sink.put_storage(im->sink.ctx, a, &k, &v);
            im->st->slots++;
        }
        progress_tick(im);
    }
    return m.status == 0;
}

static bool read_account(importer *im, const char *key, size_t key_len)
{
    json_reader *r = &im->r;
    const char *at = r->p;
    char buf[SHOWN_MAX + 4];
    address a;
    if (!parse_address(key, key_len, &a))
        return bad(im, at, "bad address \"%s\" (expected 40 hex digits)", shown(key, key_len, buf));
    uint8_t padded[32] = {0};
    memcpy(padded, a.b, 20);
    im->account[0] = '0', im->account[1] = 'x';
    hex_encode(a.b, 20, im->account + 2);
    im->account[42] = '\0';
    if (!keyset_add(&im->addresses, padded)) return bad(im, at, "duplicate address");
    if (!expect_value(im, JSON_KIND_OBJECT, "expected an account object")) return false;
    /* The file's account replaces the database's, storage included. */
    if (!im->state_empty) im->sink.delete_account(im->sink.ctx, &a);
    account_info info = {.nonce = 0, .balance = u256_zero(), .code_hash = KECCAK_EMPTY};
    im->code.len = 0;
    unsigned seen = 0;
    enum { SEEN_BALANCE = 1, SEEN_NONCE = 2, SEEN_CODE = 4, SEEN_STORAGE = 8 };
    members m;
    if (!open_object(im, &m)) return false;
    while (next_member(im, &m)) {
        unsigned bit = 0;
        bool ok;
        const char *field_at = r->p;
        if (jr_peek(r) == JSON_KIND_NULL) {
            ok = jr_skip(r); /* null: absent, whichever member */
        } else if (key_is(m.key, m.key_len, "balance")) {
            bit = SEEN_BALANCE;
            ok = read_quantity(im, "balance", 256, &info.balance);
        } else if (key_is(m.key, m.key_len, "nonce")) {
            bit = SEEN_NONCE;
            ok = read_u64(im, "nonce", &info.nonce);
        } else if (key_is(m.key, m.key_len, "code")) {
            bit = SEEN_CODE;
            ok = read_bytes(im, "code", &im->code);
        } else if (key_is(m.key, m.key_len, "storage")) {
            bit = SEEN_STORAGE;
            ok = read_storage(im, &a);
        } else {
            ok = jr_skip(r); /* e.g. geth's "secretKey" */
        }
        if (!ok) return false;
        if (seen & bit) return bad(im, field_at, "duplicate member \"%s\"", shown(m.key, m.key_len, buf));
        seen |= bit;
    }
    if (m.status < 0) return false;
    if (im->code.len) keccak256(im->code.data, im->code.len, info.code_hash.b);
    im->sink.put_account(im->sink.ctx, &a, &info, im->code.data, im->code.len, true);
    im->st->accounts++;
    im->st->code_bytes += im->code.len;
    im->account[0] = '\0';
    progress_tick(im);
    return true;
}

/* An object of accounts (`alloc`, `pre`, a post entry's `state`). */
static bool read_alloc(importer *im, const char *what)
{
    members m;
    if (!expect_value(im, JSON_KIND_OBJECT, "%s: expected an object", what) || !open_object(im, &m)) return false;
    while (next_member(im, &m))
        if (!read_account(im, m.key, m.key_len)) return false;
    return m.status == 0;
}

/* ------------------------------------------------------ fixtures, post */

static bool read_post(importer *im)
{
    json_reader *r = &im->r;
    members m;
    if (!expect_value(im, JSON_KIND_OBJECT, "post: expected an object") || !open_object(im, &m)) return false;
    while (next_member(im, &m)) {
        if (strlen(im->o->post_fork) != m.key_len || strncasecmp(m.key, im->o->post_fork, m.key_len) != 0) {
            if (!jr_skip(r)) return false;
            continue;
        }
        if (!expect_value(im, JSON_KIND_ARRAY, "post.%s: expected an array", im->o->post_fork) || !jr_array_begin(r))
            return false;
        bool first_item = true;
        int item;
        for (size_t i = 0; (item = jr_array_next(r, &first_item)) == 1; i++) {
            if (i != im->o->post_index) {
                if (!jr_skip(r)) return false;
                continue;
            }
            members entry;
            if (!expect_value(im, JSON_KIND_OBJECT, "post entry: expected an object") || !open_object(im, &entry))
                return false;
            while (next_member(im, &entry)) {
                if (key_is(entry.key, entry.key_len, "state")) {
                    if (!read_alloc(im, "post state")) return false;
                    im->post_found = true;
                } else if (!jr_skip(r)) {
                    return false;
                }
            }
            if (entry.status < 0) return false;
        }
        if (item < 0) return false;
    }
    return m.status == 0;
}

/* One member of a test case object. */
static bool case_member(importer *im, const char *key, size_t key_len)
{
    if (key_is(key, key_len, "pre") && !im->o->post_fork) return read_alloc(im, "pre");
    if (key_is(key, key_len, "post") && im->o->post_fork) return read_post(im);
    return jr_skip(&im->r);
}

static bool read_case(importer *im)
{
    members m;
    if (!open_object(im, &m)) return false;
    while (next_member(im, &m))
        if (!case_member(im, m.key, m.key_len)) return false;
    return m.status == 0;
}

/* A member of the top level that is neither an address nor a genesis
 * field: a test case of a fixture file. */
static bool fixture_case(importer *im, const char *key, size_t key_len)
{
    json_reader *r = &im->r;
    const char *at = (jr_peek(r), r->p);
    char buf[SHOWN_MAX + 4];
    if (!set_kind(im, DOC_FIXTURE, at)) return false;
    if (!expect_value(im, JSON_KIND_OBJECT, "member \"%s\" is not a test case object", shown(key, key_len, buf)))
        return false;
    if (im->o->case_name) {
        if (strlen(im->o->case_name) != key_len || memcmp(key, im->o->case_name, key_len) != 0) return jr_skip(r);
        im->case_found = true;
        return read_case(im);
    }
    if (im->cases_seen++ > 0)
        return bad(im, at, "the fixture holds several test cases (\"%s\", \"%s\", ...); choose one by name",
                   im->first_case, shown(key, key_len, buf));
    shown(key, key_len, im->first_case);
    im->case_found = true;
    return read_case(im);
}

/* ------------------------------------------------------------ genesis */

typedef struct {
    const char *key;
    enum fork fork;
} geth_fork_key;

/* geth's chain config names for the forks' activation. EIP-155 and EIP-158
 * are both Spurious Dragon (the later of the two counts); a missing
 * petersburgBlock means "with Constantinople", as in geth. */
static const geth_fork_key geth_forks[] = {
    {"homesteadBlock", FORK_HOMESTEAD},   {"eip150Block", FORK_TANGERINE_WHISTLE},
    {"eip155Block", FORK_SPURIOUS_DRAGON}, {"eip158Block", FORK_SPURIOUS_DRAGON},
    {"byzantiumBlock", FORK_BYZANTIUM},   {"constantinopleBlock", FORK_CONSTANTINOPLE},
    {"petersburgBlock", FORK_PETERSBURG}, {"istanbulBlock", FORK_ISTANBUL},
    {"berlinBlock", FORK_BERLIN},         {"londonBlock", FORK_LONDON},
    {"mergeNetsplitBlock", FORK_PARIS},   {"shanghaiTime", FORK_SHANGHAI},
    {"cancunTime", FORK_CANCUN},          {"pragueTime", FORK_PRAGUE},
    {"osakaTime", FORK_OSAKA},
};

/* The blob-parameter-only fork named `name` ("bpo1"), added when new (its
 * activation UINT64_MAX until a "bpoNTime" gives it); NULL when the name
 * is not "bpo" and digits, or there are too many. */
static blob_fork *bpo_entry(importer *im, const char *name, size_t len)
{
    if (len < 4 || len >= BLOB_FORK_NAME_MAX || strncmp(name, "bpo", 3) != 0) return NULL;
    for (size_t i = 3; i < len; i++)
        if (name[i] < '0' || name[i] > '9') return NULL;
    chain_spec *spec = &im->spec;
    for (size_t i = 0; i < spec->n_bpo; i++)
        if (strlen(spec->bpo[i].name) == len && memcmp(spec->bpo[i].name, name, len) == 0) return &spec->bpo[i];
    if (spec->n_bpo == CHAIN_MAX_BLOB_FORKS) return NULL;
    blob_fork *bf = &spec->bpo[spec->n_bpo++];
    memset(bf, 0, sizeof *bf);
    memcpy(bf->name, name, len);
    bf->activation = UINT64_MAX;
    return bf;
}

static bool read_blob_schedule(importer *im)
{
    json_reader *r = &im->r;
    members m;
    if (!expect_value(im, JSON_KIND_OBJECT, "config.blobSchedule: expected an object") || !open_object(im, &m))
        return false;
    while (next_member(im, &m)) {
        char name[32];
        int f = -1;
        blob_schedule *bs = NULL;
        if (m.key_len < sizeof name) {
            for (size_t i = 0; i < m.key_len; i++)
                name[i] = (char)((m.key[i] >= 'A' && m.key[i] <= 'Z') ? m.key[i] + 32 : m.key[i]);
            name[m.key_len] = '\0';
            f = store_fork_from_db_name(name);
            if (f >= 0) bs = &im->spec.blob[f];
            else {
                blob_fork *bf = bpo_entry(im, name, m.key_len);
                if (bf) bs = &bf->blob;
            }
        }
        if (!bs) { /* a fork this engine does not know: nothing to apply it to */
            if (!jr_skip(r)) return false;
            continue;
        }
        members field;
        if (!open_object(im, &field)) return false;
        while (next_member(im, &field)) {
            const char *k = field.key;
            size_t k_len = field.key_len;
            bool ok = key_is(k, k_len, "target")                  ? read_u64(im, "blob target", &bs->target)
                      : key_is(k, k_len, "max")                   ? read_u64(im, "blob max", &bs->max)
                      : key_is(k, k_len, "baseFeeUpdateFraction") ? read_u64(im, "blob update fraction", &bs->update_fraction)
                                                                  : jr_skip(r);
            if (!ok) return false;
        }
        if (field.status < 0) return false;
    }
    return m.status == 0;
}

/* "bpo1Time" .. "bpoNTime": a blob-parameter-only fork's timestamp. */
static bool read_bpo_time(importer *im, const char *key, size_t len, bool *matched)
{
    *matched = len > 7 && key_is(key + len - 4, 4, "Time") && len - 4 < BLOB_FORK_NAME_MAX;
    if (!*matched) return true;
    blob_fork *bf = bpo_entry(im, key, len - 4);
    if (!bf) {
        *matched = false;
        return true;
    }
    if (jr_peek(&im->r) == JSON_KIND_NULL) return jr_skip(&im->r);
    return read_u64(im, "config.bpoNTime", &bf->activation);
}

/* Blob-parameter-only forks keep their place only with both a time and a
 * complete schedule; a time without a schedule is an error (as geth's
 * config check says), a schedule without a time is not scheduled. */
static bool check_bpo_forks(importer *im, const char *at)
{
    chain_spec *spec = &im->spec;
    size_t kept = 0;
    for (size_t i = 0; i < spec->n_bpo; i++) {
        blob_fork *bf = &spec->bpo[i];
        if (bf->activation == UINT64_MAX) continue;
        if (!bf->blob.target || !bf->blob.max || !bf->blob.update_fraction)
            return bad(im, at, "config.%sTime is set but config.blobSchedule.%s lacks its target, max or "
                               "baseFeeUpdateFraction", bf->name, bf->name);
        spec->bpo[kept++] = *bf;
    }
    spec->n_bpo = kept;
    return true;
}

/* geth's `...Block` activations that change no EVM rule: the engine's
 * schedule has no place for them, but EIP-2124's fork id counts them. */
static const char *const forkid_only_blocks[] = {"daoForkBlock", "muirGlacierBlock", "arrowGlacierBlock",
                                                 "grayGlacierBlock"};

static bool add_forkid_block(importer *im, uint64_t at)
{
    chain_spec *spec = &im->spec;
    if (spec->n_genesis_forkid_blocks == STORE_FORKID_BLOCKS_MAX)
        return bad(im, NULL, "config: more than %d block-numbered forks", STORE_FORKID_BLOCKS_MAX);
    spec->genesis_forkid_blocks[spec->n_genesis_forkid_blocks++] = at;
    spec->has_genesis_forkid_blocks = true;
    return true;
}

static bool read_config(importer *im)
{
    json_reader *r = &im->r;
    members m;
    if (!expect_value(im, JSON_KIND_OBJECT, "config: expected an object") || !open_object(im, &m)) return false;
    im->has_config = true;
    uint64_t at_block[sizeof geth_forks / sizeof geth_forks[0]];
    bool given[sizeof geth_forks / sizeof geth_forks[0]] = {false};
    bool ttd_zero = false;
    const char *at = (jr_peek(r), r->p);
    while (next_member(im, &m)) {
        bool ok = true, matched = false;
        for (size_t i = 0; i < sizeof geth_forks / sizeof geth_forks[0]; i++) {
            if (!key_is(m.key, m.key_len, geth_forks[i].key)) continue;
            matched = true;
            if (jr_peek(r) == JSON_KIND_NULL) {
                ok = jr_skip(r);
            } else {
                ok = read_u64(im, geth_forks[i].key, &at_block[i]);
                given[i] = true;
                if (ok && geth_forks[i].fork < FORK_SHANGHAI) ok = add_forkid_block(im, at_block[i]);
            }
        }
        for (size_t i = 0; !matched && i < sizeof forkid_only_blocks / sizeof forkid_only_blocks[0]; i++) {
            if (!key_is(m.key, m.key_len, forkid_only_blocks[i])) continue;
            matched = true;
            uint64_t at;
            if (jr_peek(r) == JSON_KIND_NULL) ok = jr_skip(r);
            else ok = read_u64(im, forkid_only_blocks[i], &at) && add_forkid_block(im, at);
        }
        if (!matched) ok = read_bpo_time(im, m.key, m.key_len, &matched);
        if (matched) {
        } else if (key_is(m.key, m.key_len, "chainId")) {
            ok = read_u64(im, "config.chainId", &im->spec.config.chain_id);
            im->has_chain_id = true;
        } else if (key_is(m.key, m.key_len, "terminalTotalDifficulty") && jr_peek(r) != JSON_KIND_NULL) {
            u256 ttd;
            ok = read_quantity(im, "config.terminalTotalDifficulty", 256, &ttd);
            ttd_zero = ok && u256_is_zero(&ttd);
        } else if (key_is(m.key, m.key_len, "blobSchedule")) {
            ok = read_blob_schedule(im);
        } else if (key_is(m.key, m.key_len, "depositContractAddress") && jr_peek(r) != JSON_KIND_NULL) {
            const char *s, *at_dep = r->p;
            size_t n;
            char buf[SHOWN_MAX + 4];
            ok = expect_value(im, JSON_KIND_STRING, "config.depositContractAddress: expected a hex string") &&
                 jr_string(r, &s, &n);
            if (ok && hex_parse_fixed(s, n, 0, im->spec.deposit_address.b, 20, NULL) != HEX_OK)
                ok = bad(im, at_dep, "config.depositContractAddress: \"%s\" is not a 20-byte hex address",
                         shown(s, n, buf));
        } else {
            ok = jr_skip(r);
        }
        if (!ok) return false;
    }
    if (m.status < 0 || !check_bpo_forks(im, at)) return false;
    chain_config *cfg = &im->spec.config;
    for (size_t i = 0; i < sizeof geth_forks / sizeof geth_forks[0]; i++) {
        if (!given[i]) continue;
        enum fork f = geth_forks[i].fork;
        if (cfg->activation[f] == UINT64_MAX || at_block[i] > cfg->activation[f]) cfg->activation[f] = at_block[i];
        cfg->by_timestamp[f] = f >= FORK_SHANGHAI;
    }
    if (cfg->activation[FORK_PETERSBURG] == UINT64_MAX)
        cfg->activation[FORK_PETERSBURG] = cfg->activation[FORK_CONSTANTINOPLE];
    /* The merge block is only known from mergeNetsplitBlock, or when the
     * chain was merged from genesis (terminal total difficulty 0). */
    if (cfg->activation[FORK_PARIS] == UINT64_MAX && ttd_zero) cfg->activation[FORK_PARIS] = 0;
    return true;
}

/* A field of a geth genesis file's top level; false in *matched when the
 * key is not one. */
static bool genesis_field(importer *im, const char *key, size_t key_len, bool *matched)
{
    json_reader *r = &im->r;
    block_env *h = &im->spec.head;
    const char *at = (jr_peek(r), r->p);
    *matched = true;
    if (key_is(key, key_len, "config")) return read_config(im);
    if (key_is(key, key_len, "alloc")) return set_kind(im, DOC_GENESIS, at) && read_alloc(im, "alloc");
    static const char *const ignored[] = {"blobGasUsed"};
    static const char *const known[] = {"timestamp", "gasLimit", "difficulty", "mixHash", "coinbase", "number",
                                        "baseFeePerGas", "excessBlobGas", "parentHash", "nonce", "extraData",
                                        "gasUsed"};
    bool is_known = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) is_known |= key_is(key, key_len, known[i]);
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        if (key_is(key, key_len, ignored[i])) return set_kind(im, DOC_GENESIS, at) && jr_skip(r);
    if (!is_known) {
        *matched = false;
        return true;
    }
    if (!set_kind(im, DOC_GENESIS, at)) return false;
    if (jr_peek(r) == JSON_KIND_NULL) return jr_skip(r);
    const char *s;
    size_t n;
    if (key_is(key, key_len, "timestamp")) return read_u64(im, "timestamp", &h->timestamp);
    if (key_is(key, key_len, "gasLimit")) return read_u64(im, "gasLimit", &h->gas_limit);
    if (key_is(key, key_len, "number")) return read_u64(im, "number", &h->number);
    if (key_is(key, key_len, "excessBlobGas")) return read_u64(im, "excessBlobGas", &h->excess_blob_gas);
    if (key_is(key, key_len, "nonce")) return read_u64(im, "nonce", &im->spec.nonce);
    if (key_is(key, key_len, "gasUsed")) return read_u64(im, "gasUsed", &im->spec.gas_used);
    if (key_is(key, key_len, "extraData")) {
        const char *s0;
        size_t n0;
        /* geth takes "" for no extraData, as "0x" */
        if (jr_peek(r) == JSON_KIND_STRING && jr_string(r, &s0, &n0) && n0 == 0) return true;
        r->p = at;
        if (!read_bytes(im, "extraData", &im->code)) return false;
        if (im->code.len > STORE_GENESIS_EXTRA_MAX)
            return bad(im, at, "extraData: %zu bytes (at most %d)", im->code.len, STORE_GENESIS_EXTRA_MAX);
        if (im->code.len) memcpy(im->spec.extra_data, im->code.data, im->code.len);
        im->spec.extra_data_len = im->code.len;
        im->code.len = 0;
        return true;
    }
    if (key_is(key, key_len, "difficulty")) return read_quantity(im, "difficulty", 256, &h->difficulty);
    if (key_is(key, key_len, "baseFeePerGas")) {
        im->has_base_fee = true;
        return read_quantity(im, "baseFeePerGas", 256, &h->base_fee);
    }
    if (!expect_value(im, JSON_KIND_STRING, "%.*s: expected a hex string", (int)key_len, key) || !jr_string(r, &s, &n))
        return false;
    char buf[SHOWN_MAX + 4];
    if (key_is(key, key_len, "coinbase")) {
        if (hex_parse_fixed(s, n, 0, h->coinbase.b, 20, NULL) != HEX_OK)
            return bad(im, at, "coinbase: \"%s\" is not a 20-byte hex address", shown(s, n, buf));
        return true;
    }
    if (key_is(key, key_len, "parentHash")) {
        if (hex_parse_fixed(s, n, 0, im->spec.parent_hash.b, 32, NULL) != HEX_OK)
            return bad(im, at, "parentHash: \"%s\" is not a 32-byte hex hash", shown(s, n, buf));
        static const hash32 zero;
        im->spec.has_parent_hash = memcmp(im->spec.parent_hash.b, zero.b, 32) != 0;
        return true;
    }
    /* mixHash: the genesis block's prevrandao. */
    if (hex_parse_fixed(s, n, 0, h->prevrandao.b, 32, NULL) != HEX_OK)
        return bad(im, at, "mixHash: \"%s\" is not a 32-byte hex hash", shown(s, n, buf));
    return true;
}

/* --------------------------------------------------------------- top */

static bool read_document(importer *im)
{
    json_reader *r = &im->r;
    members m;
    if (!expect_value(im, JSON_KIND_OBJECT, "expected a JSON object (a genesis file, an alloc or a state-test fixture)") ||
        !open_object(im, &m))
        return false;
    while (next_member(im, &m)) {
        const char *at = r->p, *key = m.key;
        size_t key_len = m.key_len;
        bool matched;
        /* Fixture case names never start with "0x": such a key is an
         * address, and a malformed one is an error, not a case. */
        address a;
        if (hex_has_prefix(key, key_len) || parse_address(key, key_len, &a)) {
            if (!set_kind(im, DOC_ALLOC, at) || !read_account(im, key, key_len)) return false;
            continue;
        }
        if (!genesis_field(im, key, key_len, &matched)) return false;
        if (matched) continue;
        if (key_is(key, key_len, "pre") || key_is(key, key_len, "post") || key_is(key, key_len, "env") ||
            key_is(key, key_len, "transaction") || key_is(key, key_len, "_info")) {
            if (!set_kind(im, DOC_CASE, at)) return false;
            if (key_is(key, key_len, "pre") || key_is(key, key_len, "post")) im->case_found = true;
            if (!case_member(im, key, key_len)) return false;
            continue;
        }
        if (!fixture_case(im, key, key_len)) return false;
    }
    return m.status == 0 && jr_end(r);
}

static void importer_free(importer *im)
{
    jr_reader_free(&im->r);
    keyset_free(&im->addresses);
    keyset_free(&im->slots);
    bytebuf_free(&im->code);
}

/* Checks after the whole text is read: what was asked for was there. */
static bool check_document(importer *im, const char *name, store_error *err)
{
    const import_options *o = im->o;
    if (o->genesis && im->kind != DOC_GENESIS)
        return store_fail(err, "%s: not a geth genesis file (it has no \"alloc\")", name);
    if (o->genesis && (!im->has_config || !im->has_chain_id))
        return store_fail(err, "%s: the genesis file has no config.chainId", name);
    if ((im->kind == DOC_ALLOC || im->kind == DOC_GENESIS) && (o->case_name || o->post_fork))
        return store_fail(err, "%s: is %s, not a state-test fixture: a test case or post state cannot be chosen", name,
                         doc_kind_names[im->kind]);
    if (o->case_name && !im->case_found) return store_fail(err, "%s: no test case named \"%s\"", name, o->case_name);
    if ((im->kind == DOC_FIXTURE || im->kind == DOC_CASE) && !im->case_found)
        return store_fail(err, "%s: the fixture holds no test case", name);
    if (o->post_fork && !im->post_found)
        return store_fail(err, "%s: no post state for fork %s, index %zu", name, o->post_fork, o->post_index);
    if (im->kind == DOC_GENESIS && o->expect_chain_id && im->has_chain_id &&
        im->spec.config.chain_id != o->expect_chain_id)
        return store_fail(err, "%s: the genesis file is for chain id %llu, the database's chain id is %llu", name,
                         (unsigned long long)im->spec.config.chain_id, (unsigned long long)o->expect_chain_id);
    return true;
}

static bool stop_at_first(void *ctx, const address *a, const account_info *info, const uint8_t *code, size_t len)
{
    (void)a, (void)info, (void)code, (void)len;
    *(bool *)ctx = false;
    return false;
}

/* Whether the database holds no account (reads one row at most). */
static bool db_has_no_accounts(store_conn *c, bool *ok, store_error *err)
{
    bool empty = true;
    store_visitor v = {.ctx = &empty, .account = stop_at_first};
    if (!store_visit(c, NULL, &v, err) && empty) *ok = false; /* a real error, not the stop */
    return empty;
}

bool alloc_import_text(store_conn *c, const char *name, const char *text, size_t len, const import_options *o,
                       import_stats *st, store_error *err)
{
    import_options defaults = {0};
    if (!o) o = &defaults;
    memset(st, 0, sizeof *st);
    importer im = {.c = c, .o = o, .st = st, .sink = store_sink(c), .total = len};
    chain_spec_init_empty(&im.spec, name);
    jr_reader_init(&im.r, text, len);
    im.last_report_ns = monotonic_ns();
    if (!o->in_transaction && !store_begin(c, err)) {
        importer_free(&im);
        return false;
    }
    bool ok = true;
    if (o->replace && !store_clear_state(c, err)) ok = false;
    /* Into an empty state (or a cleared one) there is nothing to replace:
     * the per-account deletes are skipped. */
    im.state_empty = o->replace || (ok && db_has_no_accounts(c, &ok, err));
    if (ok && !read_document(&im)) ok = store_fail(err, "%s: %s", name, im.r.err);
    if (ok) ok = check_document(&im, name, err);
    /* A failure inside a sink call (disk full, ...) surfaces here. */
    store_error sink_err;
    if (ok && store_take_error(c, &sink_err)) ok = store_fail(err, "%s: %s", name, sink_err.msg);
    if (ok && o->genesis) {
        chain_spec *g = o->genesis;
        const char *keep_name = g->name;
        *g = im.spec;
        g->name = keep_name;
        /* Its block 0 is the header geth builds from the file (the genesis
         * hash: BLOCKHASH, eth_config's forkId); its deposit contract the
         * config's, zero when not given (geth's default). */
        g->genesis_hash_from_state = true;
        g->has_deposit_address = true;
        /* geth gives a London-from-genesis chain EIP-1559's initial base fee. */
        if (!im.has_base_fee && g->config.activation[FORK_LONDON] == 0) g->head.base_fee = u256_from_u64(1000000000);
    }
    if (!o->in_transaction) {
        if (ok)
            ok = store_commit(c, err);
        else
            store_rollback(c);
    }
    st->bytes_read = jr_offset(&im.r);
    if (ok && o->progress) o->progress(o->progress_ctx, len, len, st);
    importer_free(&im);
    return ok;
}

bool alloc_import_file(store_conn *c, const char *path, const import_options *o, import_stats *st, store_error *err)
{
    memset(st, 0, sizeof *st);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return store_fail(err, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return store_fail(err, "%s: %s", path, strerror(e));
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return store_fail(err, "%s: is a directory", path);
    }
    if (sb.st_size == 0) {
        close(fd);
        return store_fail(err, "%s: empty file (expected JSON)", path);
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    close(fd);
    if (map == MAP_FAILED) return store_fail(err, "%s: %s", path, strerror(map_errno));
    madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
    bool ok = alloc_import_text(c, path, map, (size_t)sb.st_size, o, st, err);
    munmap(map, (size_t)sb.st_size);
    return ok;
}

/* --------------------------------------------------------------- dump */

typedef struct {
    FILE *out;
    bool any_account;
    bool any_slot; /* of the current account */
} dumper;

/* "0x" and the minimal hex digits ("0x0" for zero). */
static void put_quantity(FILE *out, const u256 *v)
{
    char hex[HEX_QUANTITY_LEN];
    hex_encode_quantity(v, hex);
    fputs(hex, out);
}

static bool dump_account(void *ctx, const address *a, const account_info *info, const uint8_t *code, size_t code_len)
{
    dumper *d = ctx;
    char addr[2 + 40 + 1] = "0x";
    hex_encode(a->b, 20, addr + 2);
    addr[42] = '\0';
    fputs(d->any_account ? ",\n  \"" : "{\n  \"", d->out);
    d->any_account = true;
    d->any_slot = false;
    fputs(addr, d->out);
    fputs("\": {\n    \"balance\": \"", d->out);
    put_quantity(d->out, &info->balance);
    fputs("\",\n    \"nonce\": \"", d->out);
    u256 nonce = u256_from_u64(info->nonce);
    put_quantity(d->out, &nonce);
    fputc('"', d->out);
    if (code_len) {
        fputs(",\n    \"code\": \"0x", d->out);
        hex_write(code, code_len, d->out);
        fputc('"', d->out);
    }
    return !ferror(d->out);
}

static bool dump_slot(void *ctx, const address *a, const u256 *key, const u256 *value)
{
    (void)a;
    dumper *d = ctx;
    /* ,\n      "0x<64>": "0x<64>" */
    char line[32 + 2 * 66 + 8];
    size_t n = 0;
    const char *lead = d->any_slot ? ",\n      \"0x" : ",\n    \"storage\": {\n      \"0x";
    size_t lead_len = strlen(lead);
    memcpy(line, lead, lead_len);
    n = lead_len;
    uint8_t be[32];
    u256_store_be(be, key);
    hex_encode(be, 32, line + n);
    n += 64;
    memcpy(line + n, "\": \"0x", 6);
    n += 6;
    u256_store_be(be, value);
    hex_encode(be, 32, line + n);
    n += 64;
    line[n++] = '"';
    fwrite(line, 1, n, d->out);
    d->any_slot = true;
    return !ferror(d->out);
}

static bool dump_account_end(void *ctx, const address *a, const account_info *info)
{
    (void)a, (void)info;
    dumper *d = ctx;
    fputs(d->any_slot ? "\n    }\n  }" : "\n  }", d->out);
    return !ferror(d->out);
}

bool alloc_dump(store_conn *c, FILE *out, const address *only, store_error *err)
{
    dumper d = {.out = out};
    store_visitor v = {
        .ctx = &d,
        .want_code = true,
        .account = dump_account,
        .slot = dump_slot,
        .account_end = dump_account_end,
    };
    if (!store_visit(c, only, &v, err)) {
        if (!err->msg[0]) return store_fail(err, "cannot write the dump: %s", strerror(errno));
        return false;
    }
    if (only && !d.any_account) {
        char addr[2 + 40 + 1] = "0x";
        hex_encode(only->b, 20, addr + 2);
        addr[42] = '\0';
        return store_fail(err, "no account %s in the database", addr);
    }
    fputs(d.any_account ? "\n}\n" : "{}\n", out);
    if (fflush(out) != 0 || ferror(out)) return store_fail(err, "cannot write the dump: %s", strerror(errno));
    return true;
}
