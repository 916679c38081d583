/* Keccak-256, RLP and Merkle-Patricia trie roots against published vectors
 * (Keccak team KATs, the Ethereum RLP spec, the classic trie examples) and
 * one post-state root from the state-test fixtures. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "base/keccak.h"
#include "base/rlp.h"
#include "base/trie.h"

/* ---- helpers ---- */

static void hash_from_hex(const char *hex, uint8_t out[32])
{
    size_t n;
    uint8_t *b = test_unhex_alloc(hex, &n);
    ck_assert_uint_eq(n, 32);
    memcpy(out, b, 32);
    free(b);
}

#define ck_assert_hash_hex(got, hex) do { \
        uint8_t want_[32]; \
        hash_from_hex((hex), want_); \
        ck_assert_mem_eq((got), want_, 32); \
    } while (0)

#define ck_assert_buf_hex(buf, hex) do { \
        size_t want_len_; \
        uint8_t *want_ = test_unhex_alloc((hex), &want_len_); \
        ck_assert_uint_eq((buf)->len, want_len_); \
        if (want_len_) ck_assert_mem_eq((buf)->data, want_, want_len_); \
        free(want_); \
    } while (0)

/* ---- Keccak ---- */

static void check_keccak_hex_message(const char *msg_hex, const char *digest_hex)
{
    size_t n;
    uint8_t *msg = test_unhex_alloc(msg_hex, &n);
    uint8_t out[32];
    keccak256(msg, n, out);
    ck_assert_hash_hex(out, digest_hex);
    free(msg);
}

START_TEST(keccak_empty_and_abc)
{
    uint8_t out[32];
    keccak256("", 0, out);
    ck_assert_hash_hex(out, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    ck_assert_mem_eq(out, KECCAK_EMPTY.b, 32);
    keccak256(NULL, 0, out);
    ck_assert_mem_eq(out, KECCAK_EMPTY.b, 32);
    keccak256("abc", 3, out);
    ck_assert_hash_hex(out, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}
END_TEST

/* Keccak team ShortMsgKAT_256 (the SHA-3 round-3 Keccak-256, which is
 * Ethereum's): 135 bytes (padding bytes 0x01 and 0x80 share one byte),
 * 136 bytes (exactly one block, padding fills a second) and 200 bytes. */
static const char KAT_135[] =
    "2f3fb9e6321405869ff0e6271369357ee08c9c27837fe300adf3766a61979591d64e7809627e8f026e762982df5f00bf"
    "eb9ce76f1ccb70c9bee6331f7dc8b15417295d7aa7ec7c1662a69842059901f136e96052b4d01b72b64f92331744872f"
    "6de4a915d0262b33ccc375d25d77c3936023e514f30187a9501adc685e6497cc4841e119670d4d";
static const char KAT_136[] =
    "33d0c3052e3ac8c19beca6b0dfa73888f753655fb2c9f77e1238602c9f6d7ad33e3dd96c78a22e148ed4c46d7cfdf674"
    "505bd40325cb813804e264a450de778f1c50fc94f32aa881fe6def7b6ae6efbb42c3be678f40a09322053773e3af0200"
    "00fe94f3283c7527aa64a2144b92cf8d568df4e6cd957af09ab1637e61667e616412558d4fcab4f9";
static const char KAT_200[] =
    "9b518dcebd7aab3c6a961705d93b2733f5303ea8185653f1b91f163a105811aca99e7a671925a483bcbb8995f6b0c8ec"
    "e10795fa5de8eb17080152195963c503013f6b1a650f9e21ca28b7c0d880adba8742b4e42aa0fb33a24d4cfbb112ffb2"
    "516acdb7796cd8449490056d10b22797f4dc7c1f7c78531ec59f1a77b21a290485f7bbfe649442f924476634fa8eccee"
    "6b480ee8c06107860122fdb33c27b7c11f72c08406037d2a4be35f45722b34dd7442c534a3ccbba4eeb9582be00fec00"
    "82ad8488b001b3fc";

START_TEST(keccak_multi_block_vectors)
{
    check_keccak_hex_message(KAT_135, "0484f02cc16415e7e9f28f95b6bb77209e1b25ec35015de84facbc8f9605b39e");
    check_keccak_hex_message(KAT_136, "b30ad6fc320c0d70309dc39953895cb7cf3fbedec7d86a5f7aa9f2bb760f6dba");
    check_keccak_hex_message(KAT_200, "3619785381f9290b0180fe87186e3b8e352d0bee8dec2321198770b67d8c26da");
}
END_TEST

START_TEST(keccak_incremental_matches_one_shot)
{
    /* A message of several blocks, fed in chunks of sizes that straddle the
     * 136-byte block boundary in every way. */
    enum { LEN = 1000 };
    uint8_t msg[LEN];
    for (int i = 0; i < LEN; i++) msg[i] = (uint8_t)(i * 31 + 7);
    static const size_t chunk_sizes[] = {1, 3, 7, 13, 64, 135, 136, 137, 271, 999};
    for (size_t total = 0; total <= LEN; total += 97) {
        uint8_t want[32];
        keccak256(msg, total, want);
        for (size_t c = 0; c < sizeof chunk_sizes / sizeof chunk_sizes[0]; c++) {
            keccak_ctx ctx;
            keccak256_init(&ctx);
            size_t pos = 0;
            while (pos < total) {
                size_t take = chunk_sizes[c];
                if (take > total - pos) take = total - pos;
                keccak256_update(&ctx, msg + pos, take);
                keccak256_update(&ctx, msg + pos + take, 0); /* empty updates are harmless */
                pos += take;
            }
            uint8_t got[32];
            keccak256_final(&ctx, got);
            ck_assert_mem_eq(got, want, 32);
        }
    }
    /* The 200-byte vector fed in odd chunks. */
    size_t n;
    uint8_t *kat = test_unhex_alloc(KAT_200, &n);
    keccak_ctx ctx;
    keccak256_init(&ctx);
    keccak256_update(&ctx, kat, 5);
    keccak256_update(&ctx, kat + 5, 131);
    keccak256_update(&ctx, kat + 136, 1);
    keccak256_update(&ctx, kat + 137, n - 137);
    uint8_t got[32];
    keccak256_final(&ctx, got);
    ck_assert_hash_hex(got, "3619785381f9290b0180fe87186e3b8e352d0bee8dec2321198770b67d8c26da");
    free(kat);
}
END_TEST

START_TEST(keccak_permutation_zero_state)
{
    /* Keccak-f[1600] applied to the all-zero state: first lane of the
     * Keccak team's published intermediate values. */
    uint64_t s[25] = {0};
    keccak_f1600(s);
    ck_assert_uint_eq(s[0], 0xF1258F7940E1DDE7ULL);
    ck_assert_uint_eq(s[1], 0x84D5CCF933C0478AULL);
    ck_assert_uint_eq(s[24], 0xEAF1FF7B5CECA249ULL);
}
END_TEST

/* ---- an independent, deliberately plain Keccak-f[1600] and sponge ----
 * Written straight from the specification's step definitions, with loops,
 * the rotation offsets and round constants derived here (not copied from
 * keccak.c), to check the optimised code against. */

static uint64_t ref_rol(uint64_t v, unsigned n)
{
    n %= 64;
    return n == 0 ? v : (v << n) | (v >> (64 - n));
}

/* The spec's rc(t): bit 0 of step t of the LFSR x^8 + x^6 + x^5 + x^4 + 1. */
static int ref_rc_bit(int t)
{
    unsigned r = 1;
    for (int i = 0; i < t % 255; i++) {
        r <<= 1;
        if (r & 0x100) r ^= 0x171;
    }
    return r & 1;
}

static void ref_keccak_f1600(uint64_t a[25]) /* lane (x, y) at a[x + 5y] */
{
    int rot[25] = {0};
    for (int t = 0, x = 1, y = 0; t < 24; t++) {
        rot[x + 5 * y] = ((t + 1) * (t + 2) / 2) % 64;
        int nx = y, ny = (2 * x + 3 * y) % 5;
        x = nx;
        y = ny;
    }
    for (int round = 0; round < 24; round++) {
        uint64_t c[5], b[25];
        for (int x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                a[x + 5 * y] ^= c[(x + 4) % 5] ^ ref_rol(c[(x + 1) % 5], 1);
        for (int x = 0; x < 5; x++) /* rho and pi: B[y, 2x+3y] = rot(A[x, y]) */
            for (int y = 0; y < 5; y++)
                b[y + 5 * ((2 * x + 3 * y) % 5)] = ref_rol(a[x + 5 * y], (unsigned)rot[x + 5 * y]);
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                a[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
        for (int j = 0; j <= 6; j++)
            if (ref_rc_bit(j + 7 * round)) a[0] ^= 1ULL << ((1 << j) - 1);
    }
}

/* Keccak-256 byte by byte: rate 136, padding 0x01 ... 0x80. */
static void ref_keccak256(const uint8_t *msg, size_t len, uint8_t out[32])
{
    uint64_t s[25] = {0};
    size_t padded = (len / 136 + 1) * 136;
    for (size_t i = 0; i < padded; i++) {
        uint8_t byte = i < len ? msg[i] : 0;
        if (i == len) byte ^= 0x01;
        if (i == padded - 1) byte ^= 0x80;
        s[(i % 136) / 8] ^= (uint64_t)byte << (8 * (i % 8));
        if (i % 136 == 135) ref_keccak_f1600(s);
    }
    for (int i = 0; i < 32; i++) out[i] = (uint8_t)(s[i / 8] >> (8 * (i % 8)));
}

/* The Keccak team's published states after applying Keccak-f[1600] once and
 * twice to the all-zero state. */
static const uint64_t ZERO_STATE_ONCE[25] = {
    0xF1258F7940E1DDE7ULL, 0x84D5CCF933C0478AULL, 0xD598261EA65AA9EEULL, 0xBD1547306F80494DULL,
    0x8B284E056253D057ULL, 0xFF97A42D7F8E6FD4ULL, 0x90FEE5A0A44647C4ULL, 0x8C5BDA0CD6192E76ULL,
    0xAD30A6F71B19059CULL, 0x30935AB7D08FFC64ULL, 0xEB5AA93F2317D635ULL, 0xA9A6E6260D712103ULL,
    0x81A57C16DBCF555FULL, 0x43B831CD0347C826ULL, 0x01F22F1A11A5569FULL, 0x05E5635A21D9AE61ULL,
    0x64BEFEF28CC970F2ULL, 0x613670957BC46611ULL, 0xB87C5A554FD00ECBULL, 0x8C3EE88A1CCF32C8ULL,
    0x940C7922AE3A2614ULL, 0x1841F924A2C509E4ULL, 0x16F53526E70465C2ULL, 0x75F644E97F30A13BULL,
    0xEAF1FF7B5CECA249ULL,
};
static const uint64_t ZERO_STATE_TWICE[25] = {
    0x2D5C954DF96ECB3CULL, 0x6A332CD07057B56DULL, 0x093D8D1270D76B6CULL, 0x8A20D9B25569D094ULL,
    0x4F9C4F99E5E7F156ULL, 0xF957B9A2DA65FB38ULL, 0x85773DAE1275AF0DULL, 0xFAF4F247C3D810F7ULL,
    0x1F1B9EE6F79A8759ULL, 0xE4FECC0FEE98B425ULL, 0x68CE61B6B9CE68A1ULL, 0xDEEA66C4BA8F974FULL,
    0x33C43D836EAFB1F5ULL, 0xE00654042719DBD9ULL, 0x7CF8A9F009831265ULL, 0xFD5449A6BF174743ULL,
    0x97DDAD33D8994B40ULL, 0x48EAD5FC5D0BE774ULL, 0xE3B8C8EE55B7B03CULL, 0x91A0226E649E42E9ULL,
    0x900E3129E7BADD7BULL, 0x202A9EC5FAA3CCE8ULL, 0x5B3402464E1C3DB6ULL, 0x609F4E62A44C1059ULL,
    0x20D06CD26A8FBF5CULL,
};

static void check_zero_state_vectors(void (*permute)(uint64_t[25]), const char *name)
{
    uint64_t s[25] = {0};
    permute(s);
    for (int i = 0; i < 25; i++) ck_assert_msg(s[i] == ZERO_STATE_ONCE[i], "%s: lane %d after one", name, i);
    permute(s);
    for (int i = 0; i < 25; i++) ck_assert_msg(s[i] == ZERO_STATE_TWICE[i], "%s: lane %d after two", name, i);
}

START_TEST(keccak_permutation_official_vectors)
{
    check_zero_state_vectors(ref_keccak_f1600, "reference");
    check_zero_state_vectors(keccak_f1600, "keccak_f1600");
    check_zero_state_vectors(keccak_f1600_portable, "keccak_f1600_portable");
}
END_TEST

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

START_TEST(keccak_permutation_matches_reference_on_random_states)
{
    /* Every lane value pattern reaches the complemented-lane code paths; all
     * ones and single bits are included as edge states. */
    uint64_t seed = 42;
    for (int n = 0; n < 300; n++) {
        uint64_t want[25], fast[25], portable[25];
        for (int i = 0; i < 25; i++) {
            if (n == 0) want[i] = ~0ULL;
            else if (n < 26) want[i] = i == n - 1 ? 1ULL << (n % 64) : 0;
            else want[i] = splitmix64(&seed);
        }
        memcpy(fast, want, sizeof want);
        memcpy(portable, want, sizeof want);
        ref_keccak_f1600(want);
        keccak_f1600(fast);
        keccak_f1600_portable(portable);
        ck_assert_msg(memcmp(fast, want, sizeof want) == 0, "keccak_f1600 differs on state %d", n);
        ck_assert_msg(memcmp(portable, want, sizeof want) == 0, "keccak_f1600_portable differs on state %d", n);
    }
}
END_TEST

static void check_sponge_against_reference(const uint8_t *msg, size_t len)
{
    uint8_t want[32], got[32];
    ref_keccak256(msg, len, want);
    keccak256(msg, len, got);
    ck_assert_msg(memcmp(got, want, 32) == 0, "one-shot keccak256 differs at length %zu", len);
    /* Incremental, in uneven pieces that straddle block boundaries. */
    keccak_ctx ctx;
    keccak256_init(&ctx);
    size_t off = 0, piece = 1;
    while (off < len) {
        size_t take = len - off < piece ? len - off : piece;
        keccak256_update(&ctx, msg + off, take);
        off += take;
        piece = piece * 3 + 7;
        if (piece > 5000) piece = 1;
    }
    keccak256_final(&ctx, got);
    ck_assert_msg(memcmp(got, want, 32) == 0, "incremental keccak256 differs at length %zu", len);
}

START_TEST(keccak_sponge_lengths_match_reference)
{
    static const size_t lengths[] = {0, 1, 7, 8, 32, 64, 135, 136, 137, 271, 272, 273};
    uint8_t msg[273];
    uint64_t seed = 7;
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)splitmix64(&seed);
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++)
        check_sponge_against_reference(msg, lengths[i]);
    /* The reference itself against the published empty-string digest. */
    uint8_t empty[32];
    ref_keccak256(NULL, 0, empty);
    ck_assert_hash_hex(empty, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}
END_TEST

START_TEST(keccak_sponge_multi_megabyte_matches_reference)
{
    size_t len = 3 * 1024 * 1024 + 77; /* not a whole number of blocks */
    uint8_t *msg = malloc(len);
    ck_assert_ptr_nonnull(msg);
    uint64_t seed = 1234;
    for (size_t i = 0; i < len; i++) msg[i] = (uint8_t)(splitmix64(&seed) >> 11);
    check_sponge_against_reference(msg, len);
    free(msg);
}
END_TEST

START_TEST(keccak_constants)
{
    uint8_t out[32];
    keccak256("\x80", 1, out);
    ck_assert_mem_eq(out, TRIE_EMPTY_ROOT.b, 32);
    keccak256("\xc0", 1, out);
    ck_assert_mem_eq(out, KECCAK_EMPTY_LIST.b, 32);
}
END_TEST

/* ---- RLP encoding ---- */

START_TEST(rlp_spec_strings_and_integers)
{
    static const struct {
        const char *bytes; /* NULL: the integer u64 */
        size_t len;
        uint64_t u64;
        const char *rlp;
    } cases[] = {
        {"dog", 3, 0, "83646f67"},
        {"", 0, 0, "80"},
        {NULL, 0, 0, "80"},
        {"\x00", 1, 0, "00"}, /* the byte 0x00 */
        {NULL, 0, 15, "0f"},
        {NULL, 0, 1024, "820400"},
        {NULL, 0, 0x7f, "7f"},
        {NULL, 0, 0x80, "8180"},
        {NULL, 0, UINT64_MAX, "88ffffffffffffffff"},
    };
    bytebuf b = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        b.len = 0;
        if (cases[i].bytes)
            rlp_put_bytes(&b, cases[i].len ? (const uint8_t *)cases[i].bytes : NULL, cases[i].len);
        else
            rlp_put_u64(&b, cases[i].u64);
        ck_assert_buf_hex(&b, cases[i].rlp);
    }
    b.len = 0;
    const char *lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
    rlp_put_bytes(&b, (const uint8_t *)lorem, strlen(lorem));
    ck_assert_uint_eq(b.len, 58);
    ck_assert_uint_eq(b.data[0], 0xb8);
    ck_assert_uint_eq(b.data[1], 0x38);
    ck_assert_mem_eq(b.data + 2, lorem, 56);
    bytebuf_free(&b);
}
END_TEST

START_TEST(rlp_u256)
{
    static const struct {
        u256 v;
        const char *rlp;
    } cases[] = {
        {{{0, 0, 0, 0}}, "80"},
        {{{0x7f, 0, 0, 0}}, "7f"},
        {{{0x80, 0, 0, 0}}, "8180"},
        {{{1024, 0, 0, 0}}, "820400"},
        /* The edges of one word (written from the word) and two. */
        {{{UINT64_MAX, 0, 0, 0}}, "88ffffffffffffffff"},
        {{{0, 1, 0, 0}}, "89010000000000000000"},
        {{{0, 0, 0, 1}}, "9901000000000000000000000000000000000000000000000000"},
        {{{0x35c9adc5de9c0702ULL, 0x36, 0, 0}}, "893635c9adc5de9c0702"},
        {{{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}},
         "a0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
    };
    bytebuf b = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        b.len = 0;
        rlp_put_u256(&b, &cases[i].v);
        ck_assert_buf_hex(&b, cases[i].rlp);
    }
    bytebuf_free(&b);
}
END_TEST

START_TEST(rlp_spec_lists)
{
    bytebuf b = {0};
    size_t m = rlp_list_begin(&b);
    rlp_put_bytes(&b, (const uint8_t *)"cat", 3);
    rlp_put_bytes(&b, (const uint8_t *)"dog", 3);
    rlp_list_end(&b, m);
    ck_assert_buf_hex(&b, "c88363617483646f67");

    b.len = 0;
    m = rlp_list_begin(&b);
    rlp_list_end(&b, m);
    ck_assert_buf_hex(&b, "c0");

    /* The set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ]. */
    b.len = 0;
    size_t three = rlp_list_begin(&b);
    rlp_list_end(&b, rlp_list_begin(&b));
    size_t one = rlp_list_begin(&b);
    rlp_list_end(&b, rlp_list_begin(&b));
    rlp_list_end(&b, one);
    size_t two = rlp_list_begin(&b);
    rlp_list_end(&b, rlp_list_begin(&b));
    size_t inner = rlp_list_begin(&b);
    rlp_list_end(&b, rlp_list_begin(&b));
    rlp_list_end(&b, inner);
    rlp_list_end(&b, two);
    rlp_list_end(&b, three);
    ck_assert_buf_hex(&b, "c7c0c1c0c3c0c1c0");

    /* A list whose payload needs the long form (patched by shifting). */
    b.len = 0;
    const char *lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
    m = rlp_list_begin(&b);
    rlp_put_bytes(&b, (const uint8_t *)lorem, strlen(lorem));
    rlp_list_end(&b, m);
    ck_assert_uint_eq(b.len, 60);
    ck_assert_uint_eq(b.data[0], 0xf8);
    ck_assert_uint_eq(b.data[1], 58);
    ck_assert_uint_eq(b.data[2], 0xb8);
    ck_assert_uint_eq(b.data[3], 56);
    ck_assert_mem_eq(b.data + 4, lorem, 56);

    /* A 1000-byte payload: two length bytes; nested inside another list. */
    b.len = 0;
    uint8_t big[1000];
    memset(big, 0xab, sizeof big);
    size_t outer = rlp_list_begin(&b);
    rlp_put_u64(&b, 1);
    m = rlp_list_begin(&b);
    rlp_put_bytes(&b, big, sizeof big);
    rlp_list_end(&b, m);
    rlp_list_end(&b, outer);
    /* outer: f9 03ef | 01 | f9 03eb | b9 03e8 | 1000 bytes */
    ck_assert_uint_eq(b.len, 3 + 1 + 3 + 3 + 1000);
    ck_assert_uint_eq(b.data[0], 0xf9);
    ck_assert_uint_eq(b.data[1], 0x03);
    ck_assert_uint_eq(b.data[2], 0xef);
    ck_assert_uint_eq(b.data[3], 0x01);
    ck_assert_uint_eq(b.data[4], 0xf9);
    ck_assert_uint_eq(b.data[5], 0x03);
    ck_assert_uint_eq(b.data[6], 0xeb);
    ck_assert_uint_eq(b.data[7], 0xb9);
    ck_assert_uint_eq(b.data[8], 0x03);
    ck_assert_uint_eq(b.data[9], 0xe8);
    ck_assert_mem_eq(b.data + 10, big, sizeof big);

    /* Raw items go in as they are. */
    b.len = 0;
    m = rlp_list_begin(&b);
    rlp_put_raw(&b, (const uint8_t *)"\x83" "cat", 4);
    rlp_list_end(&b, m);
    ck_assert_buf_hex(&b, "c483636174");
    bytebuf_free(&b);
}
END_TEST

/* ---- RLP decoding ---- */

static int decode_hex(const char *hex, rlp_item *it, uint8_t **storage)
{
    size_t n;
    *storage = test_unhex_alloc(hex, &n);
    return rlp_decode_exact(*storage, n, it);
}

START_TEST(rlp_decode_spec_vectors)
{
    uint8_t *buf;
    rlp_item it;
    ck_assert_int_eq(decode_hex("83646f67", &it, &buf), 0);
    ck_assert(!it.is_list);
    ck_assert_uint_eq(it.payload_len, 3);
    ck_assert_mem_eq(it.payload, "dog", 3);
    free(buf);

    ck_assert_int_eq(decode_hex("0f", &it, &buf), 0);
    ck_assert_uint_eq(it.payload_len, 1);
    ck_assert_uint_eq(it.payload[0], 0x0f);
    uint64_t v;
    ck_assert_int_eq(rlp_item_u64(&it, &v), 0);
    ck_assert_uint_eq(v, 15);
    free(buf);

    ck_assert_int_eq(decode_hex("820400", &it, &buf), 0);
    ck_assert_int_eq(rlp_item_u64(&it, &v), 0);
    ck_assert_uint_eq(v, 1024);
    free(buf);

    ck_assert_int_eq(decode_hex("80", &it, &buf), 0);
    ck_assert(!it.is_list);
    ck_assert_uint_eq(it.payload_len, 0);
    ck_assert_int_eq(rlp_item_u64(&it, &v), 0);
    ck_assert_uint_eq(v, 0);
    free(buf);

    ck_assert_int_eq(decode_hex("c0", &it, &buf), 0);
    ck_assert(it.is_list);
    ck_assert_uint_eq(it.payload_len, 0);
    size_t pos = 0;
    rlp_item child;
    ck_assert_int_eq(rlp_list_next(&it, &pos, &child), 0);
    free(buf);

    ck_assert_int_eq(decode_hex("c88363617483646f67", &it, &buf), 0);
    ck_assert(it.is_list);
    pos = 0;
    ck_assert_int_eq(rlp_list_next(&it, &pos, &child), 1);
    ck_assert_mem_eq(child.payload, "cat", 3);
    ck_assert_int_eq(rlp_list_next(&it, &pos, &child), 1);
    ck_assert_mem_eq(child.payload, "dog", 3);
    ck_assert_int_eq(rlp_list_next(&it, &pos, &child), 0);
    free(buf);

    /* Three, walked: [ [], [[]], [ [], [[]] ] ]. */
    ck_assert_int_eq(decode_hex("c7c0c1c0c3c0c1c0", &it, &buf), 0);
    static const size_t child_payload_lens[] = {0, 1, 3};
    pos = 0;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(rlp_list_next(&it, &pos, &child), 1);
        ck_assert(child.is_list);
        ck_assert_uint_eq(child.payload_len, child_payload_lens[i]);
    }
    ck_assert_int_eq(rlp_list_next(&it, &pos, &child), 0);
    free(buf);

    const char *lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
    bytebuf b = {0};
    rlp_put_bytes(&b, (const uint8_t *)lorem, strlen(lorem));
    ck_assert_int_eq(rlp_decode_exact(b.data, b.len, &it), 0);
    ck_assert_uint_eq(it.payload_len, 56);
    ck_assert_mem_eq(it.payload, lorem, 56);
    ck_assert_uint_eq(it.total_len, 58);
    bytebuf_free(&b);
}
END_TEST

START_TEST(rlp_round_trip)
{
    /* [ u64s of every byte length, a 300-byte string, [ "", [], u256 ] ] */
    static const uint64_t values[] = {0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000,
                                      0xffffffffULL, 0x100000000ULL, UINT64_MAX};
    enum { NV = sizeof values / sizeof values[0] };
    uint8_t big[300];
    for (int i = 0; i < 300; i++) big[i] = (uint8_t)i;
    u256 word = {{1, 2, 3, 0x0400000000000000ULL}};

    bytebuf b = {0};
    size_t top = rlp_list_begin(&b);
    for (int i = 0; i < NV; i++) rlp_put_u64(&b, values[i]);
    rlp_put_bytes(&b, big, sizeof big);
    size_t inner = rlp_list_begin(&b);
    rlp_put_bytes(&b, NULL, 0);
    rlp_list_end(&b, rlp_list_begin(&b));
    rlp_put_u256(&b, &word);
    rlp_list_end(&b, inner);
    rlp_list_end(&b, top);

    rlp_item it, child;
    ck_assert_int_eq(rlp_decode_exact(b.data, b.len, &it), 0);
    ck_assert(it.is_list);
    size_t pos = 0;
    for (int i = 0; i < NV; i++) {
        ck_assert_int_eq(rlp_list_next(&it, &pos, &child), 1);
        uint64_t v;
        ck_assert_int_eq(rlp_item_u64(&child, &v), 0);
        ck_assert_uint_eq(v, values[i]);
    }
    ck_assert_int_eq(rlp_list_next(&it, &pos, &child), 1);
    ck_assert(!child.is_list);
    ck_assert_uint_eq(child.payload_len, sizeof big);
    ck_assert_mem_eq(child.payload, big, sizeof big);
    ck_assert_int_eq(rlp_list_next(&it, &pos, &child), 1);
    ck_assert(child.is_list);
    rlp_item inner_list = child, grandchild;
    size_t ipos = 0;
    ck_assert_int_eq(rlp_list_next(&inner_list, &ipos, &grandchild), 1);
    ck_assert(!grandchild.is_list);
    ck_assert_uint_eq(grandchild.payload_len, 0);
    ck_assert_int_eq(rlp_list_next(&inner_list, &ipos, &grandchild), 1);
    ck_assert(grandchild.is_list);
    ck_assert_uint_eq(grandchild.payload_len, 0);
    ck_assert_int_eq(rlp_list_next(&inner_list, &ipos, &grandchild), 1);
    u256 back;
    ck_assert_int_eq(rlp_item_u256(&grandchild, &back), 0);
    ck_assert(u256_eq(&back, &word));
    ck_assert_int_eq(rlp_list_next(&inner_list, &ipos, &grandchild), 0);
    ck_assert_int_eq(rlp_list_next(&it, &pos, &child), 0);
    bytebuf_free(&b);
}
END_TEST

static void assert_rejected(const char *hex)
{
    size_t n;
    uint8_t *buf = test_unhex_alloc(hex, &n);
    rlp_item it;
    ck_assert_msg(rlp_decode(buf, n, &it) != 0, "accepted non-canonical %s", hex);
    free(buf);
}

START_TEST(rlp_decoder_rejects_non_canonical)
{
    assert_rejected("");         /* nothing */
    assert_rejected("8105");     /* single byte < 0x80 behind a 0x81 header */
    assert_rejected("817f");
    assert_rejected("b80568656c6c6f");     /* long string form for 5 bytes */
    assert_rejected("f803c0c0c0");         /* long list form for 3 bytes */
    /* long form, length 56 written with a leading zero byte */
    assert_rejected("b90038"
                    "4c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572"
                    "2061646970697369636967656c6974");
    assert_rejected("f90038c0");           /* the same for a list */
    assert_rejected("83646f");             /* string past the end */
    assert_rejected("c883636174836466");   /* list past the end */
    assert_rejected("b8");                 /* length bytes missing */
    assert_rejected("b938");               /* second length byte missing */
    assert_rejected("b838");               /* 56 bytes promised, none there */
    assert_rejected("bfffffffffffffffff"); /* absurd 8-byte length */

    /* These decode, and are still canonical: the boundary cases. */
    uint8_t ok1[] = {0x81, 0x80};
    rlp_item it;
    ck_assert_int_eq(rlp_decode(ok1, sizeof ok1, &it), 0);
    uint8_t ok2[] = {0x7f};
    ck_assert_int_eq(rlp_decode(ok2, sizeof ok2, &it), 0);

    /* Trailing bytes after the item: rlp_decode reads the first item only,
     * rlp_decode_exact refuses the rest. */
    uint8_t trailing[] = {0x83, 'd', 'o', 'g', 0x00};
    ck_assert_int_eq(rlp_decode(trailing, sizeof trailing, &it), 0);
    ck_assert_uint_eq(it.total_len, 4);
    ck_assert_int_eq(rlp_decode_exact(trailing, sizeof trailing, &it), -1);

    /* An item inside a list that runs past the list's payload (though not
     * past the input): the list header says 3, the string inside says 3+1. */
    uint8_t overrun[] = {0xc3, 0x83, 'd', 'o', 'g'};
    ck_assert_int_eq(rlp_decode(overrun, 4, &it), 0); /* header alone fits */
    ck_assert_uint_eq(it.payload_len, 3);
    size_t pos = 0;
    rlp_item child;
    ck_assert_int_eq(rlp_list_next(&it, &pos, &child), -1);

    /* A list whose payload ends in a truncated item (stray trailing bytes
     * inside the list). */
    uint8_t stray[] = {0xc6, 0x83, 'd', 'o', 'g', 0x82, 'a'};
    ck_assert_int_eq(rlp_decode_exact(stray, sizeof stray, &it), 0);
    pos = 0;
    ck_assert_int_eq(rlp_list_next(&it, &pos, &child), 1);
    ck_assert_int_eq(rlp_list_next(&it, &pos, &child), -1);

    /* A non-canonical item nested in a list is caught when reached. */
    uint8_t nested[] = {0xc3, 0x81, 0x05, 0x01};
    ck_assert_int_eq(rlp_decode_exact(nested, sizeof nested, &it), 0);
    pos = 0;
    ck_assert_int_eq(rlp_list_next(&it, &pos, &child), -1);
}
END_TEST

START_TEST(rlp_integer_reading_is_strict)
{
    rlp_item it;
    uint64_t v;
    u256 w;
    uint8_t leading_zero[] = {0x82, 0x00, 0x01};
    ck_assert_int_eq(rlp_decode(leading_zero, sizeof leading_zero, &it), 0); /* valid bytes */
    ck_assert_int_eq(rlp_item_u64(&it, &v), -1);                             /* not an integer */
    ck_assert_int_eq(rlp_item_u256(&it, &w), -1);
    uint8_t zero_byte[] = {0x00};
    ck_assert_int_eq(rlp_decode(zero_byte, 1, &it), 0);
    ck_assert_int_eq(rlp_item_u64(&it, &v), -1); /* zero is 0x80 */
    uint8_t nine_bytes[] = {0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    ck_assert_int_eq(rlp_decode(nine_bytes, sizeof nine_bytes, &it), 0);
    ck_assert_int_eq(rlp_item_u64(&it, &v), -1);
    ck_assert_int_eq(rlp_item_u256(&it, &w), 0);
    ck_assert_uint_eq(w.w[0], 0x0203040506070809ULL);
    ck_assert_uint_eq(w.w[1], 0x01);
    uint8_t list[] = {0xc0};
    ck_assert_int_eq(rlp_decode(list, 1, &it), 0);
    ck_assert_int_eq(rlp_item_u64(&it, &v), -1);
}
END_TEST

/* ---- trie ---- */

typedef struct {
    const char *key;
    const char *value;
} string_pair;

static void root_of_strings(const string_pair *pairs, size_t n, uint8_t out[32])
{
    trie_entry *e = xcalloc(n ? n : 1, sizeof *e);
    for (size_t i = 0; i < n; i++) {
        e[i].key = (const uint8_t *)pairs[i].key;
        e[i].key_len = strlen(pairs[i].key);
        e[i].value = (const uint8_t *)pairs[i].value;
        e[i].value_len = strlen(pairs[i].value);
    }
    hash32 root;
    trie_root(e, n, &root);
    memcpy(out, root.b, 32);
    free(e);
}

/* Checks the root of `pairs` in the given order and in every rotation and
 * reversal of it (trie_root must not depend on the input order). */
static void check_string_trie(const string_pair *pairs, size_t n, const char *root_hex)
{
    string_pair *perm = xmalloc((n ? n : 1) * sizeof *perm);
    uint8_t got[32];
    for (size_t rot = 0; rot < (n ? n : 1); rot++) {
        for (int reverse = 0; reverse < 2; reverse++) {
            for (size_t i = 0; i < n; i++) {
                size_t j = (i + rot) % n;
                perm[reverse ? n - 1 - i : i] = pairs[j];
            }
            root_of_strings(perm, n, got);
            ck_assert_hash_hex(got, root_hex);
        }
    }
    free(perm);
}

START_TEST(trie_empty_and_single)
{
    hash32 root;
    trie_root(NULL, 0, &root);
    ck_assert_mem_eq(root.b, TRIE_EMPTY_ROOT.b, 32);
    ck_assert_hash_hex(root.b, "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");

    static const string_pair single[] = {{"A", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}};
    check_string_trie(single, 1, "d23786fb4a010da3ce639d66d5e904a11dbc02746d1ce25029e53290cabf28ab");

    /* An entry with an empty value is absent. */
    trie_entry e[2] = {
        {(const uint8_t *)"A", 1, (const uint8_t *)"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 50},
        {(const uint8_t *)"B", 1, (const uint8_t *)"", 0},
    };
    trie_root(e, 2, &root);
    ck_assert_hash_hex(root.b, "d23786fb4a010da3ce639d66d5e904a11dbc02746d1ce25029e53290cabf28ab");
    trie_root(e + 1, 1, &root);
    ck_assert_mem_eq(root.b, TRIE_EMPTY_ROOT.b, 32);
}
END_TEST

START_TEST(trie_classic_examples)
{
    static const string_pair dogs[] = {
        {"doe", "reindeer"}, {"dog", "puppy"}, {"dogglesworth", "cat"}};
    check_string_trie(dogs, 3, "8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3");

    /* "do" is a prefix of "dog", which is a prefix of "doge": values in
     * branch value slots. */
    static const string_pair puppy[] = {
        {"do", "verb"}, {"horse", "stallion"}, {"doge", "coin"}, {"dog", "puppy"}};
    check_string_trie(puppy, 4, "5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84");

    static const string_pair foo[] = {{"foo", "bar"}, {"food", "bass"}};
    check_string_trie(foo, 2, "17beaa1648bafa633cda809c90c04af50fc8aed3cb40d16efbddee6fdf63c4c3");

    static const string_pair abc[] = {{"abc", "abc"}, {"abcd", "abcd"}};
    check_string_trie(abc, 2, "7a320748f780ad9ad5b0837302075ce0eeba6c26e3d8562c67ccc0f1b273298a");

    /* Prefix keys with long values (hashed leaves under branches). */
    static const string_pair middle[] = {
        {"key1aa", "0123456789012345678901234567890123456789xxx"},
        {"key1", "0123456789012345678901234567890123456789Very_Long"},
        {"key2bb", "aval3"},
        {"key2", "short"},
        {"key3cc", "aval3"},
        {"key3", "1234567890123456789012345678901"},
    };
    check_string_trie(middle, 6, "cb65032e2f76c48b82b5c24b3db8f670ce73982869d38cd39a624f23d62a9e89");
}
END_TEST

/* Binary keys and values given in hex. */
static void check_hex_trie(const string_pair *pairs, size_t n, const char *root_hex)
{
    trie_entry *e = xcalloc(n, sizeof *e);
    uint8_t **bufs = xcalloc(2 * n, sizeof *bufs);
    for (size_t i = 0; i < n; i++) {
        bufs[2 * i] = test_unhex_alloc(pairs[i].key, &e[i].key_len);
        bufs[2 * i + 1] = test_unhex_alloc(pairs[i].value, &e[i].value_len);
        e[i].key = bufs[2 * i];
        e[i].value = bufs[2 * i + 1];
    }
    hash32 root;
    trie_root(e, n, &root);
    ck_assert_hash_hex(root.b, root_hex);
    for (size_t i = 0; i < 2 * n; i++) free(bufs[i]);
    free(bufs);
    free(e);
}

START_TEST(trie_long_shared_prefixes)
{
    static const string_pair hex_keys[] = {
        {"0x0045", "0x0123456789"}, {"0x4500", "0x9876543210"}};
    check_hex_trie(hex_keys, 2, "285505fcabe84badc8aa310e2aae17eddc7d120aabec8a476902c8184b3a3503");

    /* 32-byte keys, several agreeing on their first 62 or 24 nibbles. */
    static const string_pair jeff[] = {
        {"0000000000000000000000000000000000000000000000000000000000000045",
         "22b224a1420a802ab51d326e29fa98e34c4f24ea"},
        {"0000000000000000000000000000000000000000000000000000000000000046",
         "67706c2076330000000000000000000000000000000000000000000000000000"},
        {"0000000000000000000000007ef9e639e2733cb34e4dfc576d4b23f72db776b2",
         "4655474156000000000000000000000000000000000000000000000000000000"},
        {"000000000000000000000000ec4f34c97e43fbb2816cfd95e388353c7181dab1",
         "4e616d6552656700000000000000000000000000000000000000000000000000"},
        {"4655474156000000000000000000000000000000000000000000000000000000",
         "7ef9e639e2733cb34e4dfc576d4b23f72db776b2"},
        {"4e616d6552656700000000000000000000000000000000000000000000000000",
         "ec4f34c97e43fbb2816cfd95e388353c7181dab1"},
        {"000000000000000000000000697c7b8c961b56f675d570498424ac8de1a918f6",
         "6f6f6f6820736f2067726561742c207265616c6c6c793f000000000000000000"},
        {"6f6f6f6820736f2067726561742c207265616c6c6c793f000000000000000000",
         "697c7b8c961b56f675d570498424ac8de1a918f6"},
    };
    check_hex_trie(jeff, sizeof jeff / sizeof jeff[0],
                   "9f6221ebb8efe7cff60a716ecb886e67dd042014be444669f0159d8e68b42100");
}
END_TEST

/* A small deterministic generator for the shuffling test. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

START_TEST(trie_order_independent_large)
{
    /* 20000 secure-trie style entries (32-byte hashed keys, short values),
     * plus a cluster of keys sharing 31 bytes; the root must not depend on
     * the input order. */
    enum { N = 20000 };
    uint8_t (*keys)[32] = xmalloc(N * sizeof *keys);
    uint8_t (*vals)[8] = xmalloc(N * sizeof *vals);
    trie_entry *e = xmalloc(N * sizeof *e);
    for (uint32_t i = 0; i < N; i++) {
        uint8_t seed[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        keccak256(seed, 4, keys[i]);
        if (i < 256) { /* common 31-byte prefix, last byte differs */
            memset(keys[i], 0x5a, 31);
            keys[i][31] = (uint8_t)i;
        }
        memcpy(vals[i], seed, 4);
        memcpy(vals[i] + 4, "\x01\x02\x03", 4);
        e[i] = (trie_entry){keys[i], 32, vals[i], 1 + i % 8};
    }
    hash32 first, again;
    trie_root(e, N, &first); /* also sorts e */
    trie_root(e, N, &again); /* already sorted input */
    ck_assert_mem_eq(first.b, again.b, 32);
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    for (int round = 0; round < 3; round++) {
        for (size_t i = N - 1; i > 0; i--) {
            size_t j = next_random(&rng) % (i + 1);
            trie_entry t = e[i];
            e[i] = e[j];
            e[j] = t;
        }
        trie_root(e, N, &again);
        ck_assert_mem_eq(first.b, again.b, 32);
    }
    /* Changing one value changes the root. */
    vals[N / 2][0] ^= 1;
    trie_root(e, N, &again);
    ck_assert(memcmp(first.b, again.b, 32) != 0);
    free(keys);
    free(vals);
    free(e);
}
END_TEST

/* ---- a state root from the fixtures ----
 * state_tests/osaka/eip7939_count_leading_zeros/test_clz_gas_cost.json,
 * post.Osaka[0]: three accounts, one with code and one storage slot. */

typedef struct {
    const char *address;
    uint64_t nonce;
    u256 balance;
    const char *code;
    const char *slot; /* one storage slot or NULL */
    uint64_t slot_value;
} fixture_account;

static void secure_key(const char *hex, uint8_t out[32])
{
    size_t n;
    uint8_t *b = test_unhex_alloc(hex, &n);
    keccak256(b, n, out);
    free(b);
}

START_TEST(trie_fixture_state_root)
{
    static const fixture_account accounts[] = {
        {"469f8d5a95cbf56a1ce34adf172267a1b342f78a", 1, {{0, 0, 0, 0}},
         "5a60011e5a905090036005900360005500600055",
         "0000000000000000000000000000000000000000000000000000000000000000", 5},
        {"ad03789c8706c6d7a68eedf5907a4f7a27c3dc2e", 1, {{0x35c9adc5de9c0702ULL, 0x36, 0, 0}},
         "", NULL, 0},
        {"2adc25665018aa1fe0e6bc666dac8fc2697ff9ba", 0, {{0x013119, 0, 0, 0}}, "", NULL, 0},
    };
    enum { NA = sizeof accounts / sizeof accounts[0] };
    uint8_t keys[NA][32];
    bytebuf values[NA] = {{0}};
    trie_entry entries[NA];

    for (int i = 0; i < NA; i++) {
        const fixture_account *a = &accounts[i];
        hash32 storage_root = TRIE_EMPTY_ROOT;
        if (a->slot) {
            uint8_t slot_key[32];
            secure_key(a->slot, slot_key);
            bytebuf slot_value = {0};
            rlp_put_u64(&slot_value, a->slot_value);
            trie_entry slot = {slot_key, 32, slot_value.data, slot_value.len};
            trie_root(&slot, 1, &storage_root);
            bytebuf_free(&slot_value);
        }
        uint8_t code_hash[32];
        size_t code_len;
        uint8_t *code = test_unhex_alloc(a->code, &code_len);
        keccak256(code, code_len, code_hash);
        free(code);
        if (code_len == 0) ck_assert_mem_eq(code_hash, KECCAK_EMPTY.b, 32);

        size_t m = rlp_list_begin(&values[i]);
        rlp_put_u64(&values[i], a->nonce);
        rlp_put_u256(&values[i], &a->balance);
        rlp_put_bytes(&values[i], storage_root.b, 32);
        rlp_put_bytes(&values[i], code_hash, 32);
        rlp_list_end(&values[i], m);

        secure_key(a->address, keys[i]);
        entries[i] = (trie_entry){keys[i], 32, values[i].data, values[i].len};
    }
    hash32 root;
    trie_root(entries, NA, &root);
    ck_assert_hash_hex(root.b, "57bb109fab4c60a28a249646c2c66560164cde891a2d427ec87b0c9fa6107ffd");
    for (int i = 0; i < NA; i++) bytebuf_free(&values[i]);
}
END_TEST

int main(void)
{
    return TEST_RUN("hashing",
        TEST_GROUP("keccak", 60, keccak_empty_and_abc, keccak_multi_block_vectors,
            keccak_incremental_matches_one_shot, keccak_permutation_zero_state, keccak_constants,
            keccak_permutation_official_vectors, keccak_permutation_matches_reference_on_random_states,
            keccak_sponge_lengths_match_reference, keccak_sponge_multi_megabyte_matches_reference),
        TEST_GROUP("rlp", 0, rlp_spec_strings_and_integers, rlp_u256, rlp_spec_lists, rlp_decode_spec_vectors,
            rlp_round_trip, rlp_decoder_rejects_non_canonical, rlp_integer_reading_is_strict),
        TEST_GROUP("trie", 60, trie_empty_and_single, trie_classic_examples, trie_long_shared_prefixes,
            trie_order_independent_large, trie_fixture_state_root));
}
