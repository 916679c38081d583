/* The hex parser and encoder (core/base/hex.c): every accept and refuse
 * rule, under the rule sets of its three kinds of callers: JSON-RPC
 * (geth's hexutil), fixture files (service/hexjson.c) and the alloc and
 * genesis importer (schema/alloc.c). The same inputs are run through each
 * rule set, so that a difference between callers shows as a difference
 * here. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "base/hex.h"
#include "hexjson.h"

/* The callers' rule sets, as they pass them. */
#define RPC_QUANTITY (HEX_NO_LEADING_ZEROS | HEX_LENGTH_FIRST)
#define RPC_BYTES (HEX_EMPTY_OK | HEX_LENGTH_FIRST)
#define FIXTURE_QUANTITY HEX_AT_MOST_64_DIGITS
#define ALLOC_QUANTITY 0

static enum hex_status quantity(const char *s, unsigned flags, unsigned bits, u256 *v)
{
    return hex_parse_quantity(s, strlen(s), flags, bits, v, NULL);
}

static const char *repeat(char c, size_t n)
{
    static char buf[4][300];
    static int next;
    char *b = buf[next++ % 4];
    b[0] = '0', b[1] = 'x';
    memset(b + 2, c, n);
    b[2 + n] = '\0';
    return b;
}

START_TEST(test_digit_values)
{
    const char *digits = "0123456789abcdefABCDEF";
    for (int i = 0; digits[i]; i++) ck_assert_int_eq(hex_digit_value(digits[i]), i < 16 ? i : i - 6);
    ck_assert_int_eq(hex_digit_value('g'), -1);
    ck_assert_int_eq(hex_digit_value('G'), -1);
    ck_assert_int_eq(hex_digit_value(' '), -1);
    ck_assert_int_eq(hex_digit_value('x'), -1);
    ck_assert_int_eq(hex_digit_value('\0'), -1);
    ck_assert_int_eq(hex_digit_value((char)0xff), -1);
    ck_assert(hex_has_prefix("0x", 2) && hex_has_prefix("0X1", 3));
    ck_assert(!hex_has_prefix("0", 1) && !hex_has_prefix("x0", 2) && !hex_has_prefix("0x", 1));
}
END_TEST

/* What every rule set accepts alike. */
START_TEST(test_quantity_common)
{
    static const unsigned sets[] = {RPC_QUANTITY, FIXTURE_QUANTITY, ALLOC_QUANTITY};
    for (size_t i = 0; i < 3; i++) {
        u256 v;
        ck_assert_int_eq(quantity("0x0", sets[i], 256, &v), HEX_OK);
        ck_assert(u256_is_zero(&v));
        ck_assert_int_eq(quantity("0x1f", sets[i], 64, &v), HEX_OK);
        ck_assert(v.w[0] == 0x1f && v.w[1] == 0);
        ck_assert_int_eq(quantity("0XaBc", sets[i], 256, &v), HEX_OK);
        ck_assert(v.w[0] == 0xabc);
        ck_assert_int_eq(quantity("0xffffffffffffffff", sets[i], 64, &v), HEX_OK);
        ck_assert(v.w[0] == UINT64_MAX);
        ck_assert_int_eq(quantity(repeat('f', 64), sets[i], 256, &v), HEX_OK);
        ck_assert(v.w[0] == UINT64_MAX && v.w[3] == UINT64_MAX);
        ck_assert_int_eq(quantity("0x123456789abcdef0123456789", sets[i], 256, &v), HEX_OK);
        ck_assert(v.w[0] == 0xabcdef0123456789ULL && v.w[1] == 0x123456789ULL);
        /* Refused by all. */
        ck_assert_int_eq(quantity("", sets[i], 256, &v), HEX_EMPTY);
        ck_assert_int_eq(quantity("12", sets[i], 256, &v), HEX_NO_PREFIX);
        ck_assert_int_eq(quantity("0", sets[i], 256, &v), HEX_NO_PREFIX);
        ck_assert_int_eq(quantity("x1", sets[i], 256, &v), HEX_NO_PREFIX);
        ck_assert_int_eq(quantity("0x", sets[i], 256, &v), HEX_NO_DIGITS);
        ck_assert_int_eq(quantity("0x1g", sets[i], 256, &v), HEX_BAD_DIGIT);
        ck_assert_int_eq(quantity("0x 1", sets[i], 256, &v), HEX_BAD_DIGIT);
        ck_assert_int_eq(quantity("0x-1", sets[i], 256, &v), HEX_BAD_DIGIT);
        ck_assert_int_eq(quantity("0x10000000000000000", sets[i], 64, &v), HEX_TOO_BIG);
        ck_assert_int_eq(quantity(repeat('f', 65), sets[i], 256, &v), HEX_TOO_BIG);
    }
}
END_TEST

/* "0x00", "0x01": leading zeros. */
START_TEST(test_quantity_leading_zeros)
{
    u256 v;
    ck_assert_int_eq(quantity("0x00", RPC_QUANTITY, 256, &v), HEX_LEADING_ZERO);
    ck_assert_int_eq(quantity("0x01", RPC_QUANTITY, 64, &v), HEX_LEADING_ZERO);
    /* Before a digit check: geth says "leading zero digits" for "0x0g". */
    ck_assert_int_eq(quantity("0x0g", RPC_QUANTITY, 64, &v), HEX_LEADING_ZERO);
    ck_assert_int_eq(quantity("0x00", FIXTURE_QUANTITY, 256, &v), HEX_OK);
    ck_assert(u256_is_zero(&v));
    ck_assert_int_eq(quantity("0x01", ALLOC_QUANTITY, 64, &v), HEX_OK);
    ck_assert(v.w[0] == 1);
    /* Leading zeros do not count toward the bits... */
    ck_assert_int_eq(quantity("0x0000000000000000000001", ALLOC_QUANTITY, 64, &v), HEX_OK);
    ck_assert(v.w[0] == 1);
    ck_assert_int_eq(quantity("0x0000000000000000000001", FIXTURE_QUANTITY, 64, &v), HEX_OK);
    ck_assert_int_eq(quantity("0x00ffffffffffffffff", FIXTURE_QUANTITY, 64, &v), HEX_OK);
    ck_assert(v.w[0] == UINT64_MAX);
    /* ...but the fixtures' rule counts every digit against 64. */
    const char *zeros65 = repeat('0', 65);
    ck_assert_int_eq(quantity(zeros65, FIXTURE_QUANTITY, 256, &v), HEX_TOO_BIG);
    ck_assert_int_eq(quantity(zeros65, ALLOC_QUANTITY, 256, &v), HEX_OK);
    ck_assert(u256_is_zero(&v));
    char long_one[200];
    strcpy(long_one, repeat('0', 100));
    long_one[101] = '7';
    ck_assert_int_eq(quantity(long_one, ALLOC_QUANTITY, 64, &v), HEX_OK);
    ck_assert(v.w[0] == 7);
    ck_assert_int_eq(quantity(long_one, FIXTURE_QUANTITY, 256, &v), HEX_TOO_BIG);
    ck_assert_int_eq(quantity(long_one, RPC_QUANTITY, 256, &v), HEX_LEADING_ZERO);
}
END_TEST

/* Too long and a bad digit: geth reports the length, the others the digit. */
START_TEST(test_quantity_check_order)
{
    u256 v;
    char s[80] = "0x1";
    memset(s + 3, 'f', 16);
    s[10] = 'z'; /* 17 digits, one of them bad */
    ck_assert_int_eq(quantity(s, RPC_QUANTITY, 64, &v), HEX_TOO_BIG);
    ck_assert_int_eq(quantity(s, ALLOC_QUANTITY, 64, &v), HEX_BAD_DIGIT);
    ck_assert_int_eq(quantity(s, FIXTURE_QUANTITY, 64, &v), HEX_BAD_DIGIT);
    /* Within the length, a bad digit is a bad digit for all, and the
     * detail says where. */
    hex_detail d;
    ck_assert_int_eq(hex_parse_quantity("0x12z4", 6, RPC_QUANTITY, 64, &v, &d), HEX_BAD_DIGIT);
    ck_assert_uint_eq(d.bad_at, 4);
    ck_assert_uint_eq(d.digits, 4);
    ck_assert_int_eq(hex_parse_quantity("0x0012z4", 8, ALLOC_QUANTITY, 64, &v, &d), HEX_BAD_DIGIT);
    ck_assert_uint_eq(d.bad_at, 6);
    /* The length given, not the NUL, ends the text. */
    ck_assert_int_eq(hex_parse_quantity("0x12zz", 4, RPC_QUANTITY, 64, &v, NULL), HEX_OK);
    ck_assert(v.w[0] == 0x12);
}
END_TEST

START_TEST(test_quantity_bits)
{
    u256 v;
    /* 2^255 fits 256 bits, 2^256 does not; 2^63 fits 64 bits. */
    char top[70] = "0x8";
    memset(top + 3, '0', 63);
    top[66] = '\0';
    ck_assert_int_eq(quantity(top, ALLOC_QUANTITY, 256, &v), HEX_OK);
    ck_assert(v.w[3] == 1ULL << 63 && v.w[0] == 0);
    ck_assert_int_eq(quantity("0x8000000000000000", RPC_QUANTITY, 64, &v), HEX_OK);
    ck_assert(v.w[0] == 1ULL << 63);
    char over[70] = "0x1";
    memset(over + 3, '0', 64);
    over[67] = '\0';
    ck_assert_int_eq(quantity(over, RPC_QUANTITY, 256, &v), HEX_TOO_BIG);
    ck_assert_int_eq(quantity(over, FIXTURE_QUANTITY, 256, &v), HEX_TOO_BIG);
    ck_assert_int_eq(quantity(over, ALLOC_QUANTITY, 256, &v), HEX_TOO_BIG);
    /* A failed parse leaves the output alone. */
    v = u256_from_u64(42);
    ck_assert_int_eq(quantity("0x1g", ALLOC_QUANTITY, 256, &v), HEX_BAD_DIGIT);
    ck_assert(v.w[0] == 42);
}
END_TEST

START_TEST(test_bytes)
{
    bytebuf b = {0};
    hex_detail d;
    ck_assert_int_eq(hex_parse_bytes("0x", 2, 0, &b, NULL), HEX_OK);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(hex_parse_bytes("0x00ff10", 8, 0, &b, NULL), HEX_OK);
    ck_assert(b.len == 3 && b.data[0] == 0 && b.data[1] == 0xff && b.data[2] == 0x10);
    /* Appends. */
    ck_assert_int_eq(hex_parse_bytes("0XAb", 4, 0, &b, NULL), HEX_OK);
    ck_assert(b.len == 4 && b.data[3] == 0xab);
    /* Errors leave the buffer alone. */
    ck_assert_int_eq(hex_parse_bytes("0x123", 5, 0, &b, &d), HEX_ODD_LENGTH);
    ck_assert_uint_eq(d.digits, 3);
    ck_assert_int_eq(hex_parse_bytes("12", 2, 0, &b, NULL), HEX_NO_PREFIX);
    ck_assert_int_eq(hex_parse_bytes("0x1 ", 4, 0, &b, &d), HEX_BAD_DIGIT);
    ck_assert_uint_eq(d.bad_at, 3);
    ck_assert_uint_eq(b.len, 4);
    /* "": an error for fixtures and allocs, no bytes for geth. */
    ck_assert_int_eq(hex_parse_bytes("", 0, 0, &b, NULL), HEX_EMPTY);
    ck_assert_int_eq(hex_parse_bytes("", 0, RPC_BYTES, &b, NULL), HEX_OK);
    ck_assert_uint_eq(b.len, 4);
    /* Odd and a bad digit: geth reports the odd length first. */
    ck_assert_int_eq(hex_parse_bytes("0x12g", 5, RPC_BYTES, &b, NULL), HEX_ODD_LENGTH);
    ck_assert_int_eq(hex_parse_bytes("0x12g", 5, 0, &b, &d), HEX_BAD_DIGIT);
    ck_assert_uint_eq(d.bad_at, 4);
    ck_assert_int_eq(hex_parse_bytes("0x12gg", 6, RPC_BYTES, &b, &d), HEX_BAD_DIGIT);
    ck_assert_uint_eq(d.bad_at, 4);
    /* The prefix may not be left out of a byte string by geth either. */
    ck_assert_int_eq(hex_parse_bytes("1234", 4, RPC_BYTES, &b, NULL), HEX_NO_PREFIX);
    ck_assert_int_eq(hex_parse_bytes("1234", 4, HEX_PREFIX_OPTIONAL, &b, NULL), HEX_OK);
    ck_assert(b.len == 6 && b.data[4] == 0x12 && b.data[5] == 0x34);
    bytebuf_free(&b);
}
END_TEST

START_TEST(test_fixed)
{
    address a;
    hash32 h;
    hex_detail d;
    const char *addr = "0xA94F5374fce5edbc8e2a8697c15331677e6ebf0b";
    ck_assert_int_eq(hex_parse_fixed(addr, 42, 0, a.b, 20, NULL), HEX_OK);
    ck_assert(a.b[0] == 0xa9 && a.b[19] == 0x0b);
    /* Without "0x": only where the prefix is optional (alloc keys). */
    ck_assert_int_eq(hex_parse_fixed(addr + 2, 40, 0, a.b, 20, NULL), HEX_NO_PREFIX);
    ck_assert_int_eq(hex_parse_fixed(addr + 2, 40, HEX_PREFIX_OPTIONAL, a.b, 20, NULL), HEX_OK);
    ck_assert_int_eq(hex_parse_fixed(addr, 42, HEX_PREFIX_OPTIONAL, a.b, 20, NULL), HEX_OK);
    /* One digit short or long, and the detail's count for geth's message. */
    ck_assert_int_eq(hex_parse_fixed(addr, 40, 0, a.b, 20, &d), HEX_WRONG_LENGTH);
    ck_assert_uint_eq(d.digits, 38);
    ck_assert_int_eq(hex_parse_fixed("0x00a94f5374fce5edbc8e2a8697c15331677e6ebf0b", 44, 0, a.b, 20, &d),
                     HEX_WRONG_LENGTH);
    ck_assert_uint_eq(d.digits, 42);
    ck_assert_int_eq(hex_parse_fixed(addr, 41, RPC_BYTES, a.b, 20, NULL), HEX_ODD_LENGTH);
    ck_assert_int_eq(hex_parse_fixed("0x01", 4, 0, h.b, 32, NULL), HEX_WRONG_LENGTH);
    /* "" is the wrong length for geth, no value for the others. */
    ck_assert_int_eq(hex_parse_fixed("", 0, RPC_BYTES, a.b, 20, &d), HEX_WRONG_LENGTH);
    ck_assert_uint_eq(d.digits, 0);
    ck_assert_int_eq(hex_parse_fixed("", 0, 0, a.b, 20, NULL), HEX_EMPTY);
    /* A bad digit in a value of the wrong length: geth says length. */
    ck_assert_int_eq(hex_parse_fixed("0x0g", 4, RPC_BYTES, a.b, 20, NULL), HEX_WRONG_LENGTH);
    ck_assert_int_eq(hex_parse_fixed("0x0g", 4, 0, a.b, 20, NULL), HEX_BAD_DIGIT);
    const char *bad_hash = "0x00000000000000000000000000000000000000000000000000000000000000zz";
    ck_assert_int_eq(hex_parse_fixed(bad_hash, 66, RPC_BYTES, h.b, 32, &d), HEX_BAD_DIGIT);
    ck_assert_uint_eq(d.bad_at, 64);
    ck_assert_int_eq(hex_parse_fixed(repeat('e', 64), 66, 0, h.b, 32, NULL), HEX_OK);
    ck_assert(h.b[0] == 0xee && h.b[31] == 0xee);
}
END_TEST

START_TEST(test_encode)
{
    const uint8_t bytes[] = {0x00, 0x01, 0xab, 0xff};
    char out[9] = {0};
    hex_encode(bytes, 4, out);
    ck_assert_str_eq(out, "0001abff");
    /* Every byte value, at every place of a word and in the tail, against
     * the digits written one by one. */
    uint8_t all[263];
    char digits_out[2 * sizeof all], want[2 * sizeof all];
    for (size_t i = 0; i < sizeof all; i++) all[i] = (uint8_t)(i * 7 + i / 256);
    for (size_t start = 0; start < 4; start++)
        for (size_t n = 0; n + start <= sizeof all; n += 1 + n / 8) {
            memset(digits_out, '?', sizeof digits_out);
            hex_encode(all + start, n, digits_out);
            for (size_t i = 0; i < n; i++) {
                want[2 * i] = "0123456789abcdef"[all[start + i] >> 4];
                want[2 * i + 1] = "0123456789abcdef"[all[start + i] & 15];
            }
            ck_assert_msg(memcmp(digits_out, want, 2 * n) == 0, "start %zu, %zu bytes", start, n);
            if (2 * n < sizeof digits_out) ck_assert_int_eq(digits_out[2 * n], '?'); /* nothing written past the digits */
        }
    char q[HEX_QUANTITY_LEN];
    u256 v = u256_zero();
    hex_encode_quantity(&v, q);
    ck_assert_str_eq(q, "0x0");
    v = u256_from_u64(0x1f);
    hex_encode_quantity(&v, q);
    ck_assert_str_eq(q, "0x1f");
    v = (u256){{0, 0, 0, 1ULL << 63}};
    hex_encode_quantity(&v, q);
    ck_assert_str_eq(q, "0x8000000000000000000000000000000000000000000000000000000000000000");
    /* Digits from a limb below the top one, whole limbs of zeros after it;
     * the length returned. */
    v = (u256){{0, 0x0f, 0, 0}};
    ck_assert_uint_eq(hex_encode_quantity(&v, q), 19);
    ck_assert_str_eq(q, "0xf0000000000000000");
    v = (u256){{0xffffffffffffffffULL, 0, 0x1, 0}};
    ck_assert_uint_eq(hex_encode_quantity(&v, q), 35);
    ck_assert_str_eq(q, "0x10000000000000000ffffffffffffffff");
    /* Round trip through the stream writer. */
    uint8_t big[10000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert(hex_write(big, sizeof big, f));
    fclose(f);
    ck_assert_uint_eq(len, 2 * sizeof big);
    bytebuf back = {0};
    ck_assert_int_eq(hex_parse_bytes(text, len, HEX_PREFIX_OPTIONAL, &back, NULL), HEX_OK);
    ck_assert(back.len == sizeof big && memcmp(back.data, big, sizeof big) == 0);
    bytebuf_free(&back);
    free(text);
}
END_TEST

/* The fixture wrappers of service/hexjson.c keep their rules. */
START_TEST(test_fixture_wrappers)
{
    u256 v;
    uint64_t x;
    address a;
    bytebuf b = {0};
    ck_assert(hex_to_u256("0x00", &v) && u256_is_zero(&v));
    ck_assert(!hex_to_u256(repeat('0', 65), &v));
    ck_assert(!hex_to_u256(NULL, &v));
    ck_assert(hex_to_u64("0x00000000000000001", &x) && x == 1);
    ck_assert(!hex_to_u64("0x10000000000000000", &x));
    ck_assert(!hex_to_address("a94f5374fce5edbc8e2a8697c15331677e6ebf0b", &a));
    ck_assert(!hex_to_bytes("", &b));
    ck_assert(hex_to_bytes("0x", &b) && b.len == 0);
    bytebuf_free(&b);
}
END_TEST

int main(void)
{
    return TEST_RUN("hex",
        TEST_GROUP("core", 0, test_digit_values, test_quantity_common, test_quantity_leading_zeros,
            test_quantity_check_order, test_quantity_bits, test_bytes, test_fixed, test_encode,
            test_fixture_wrappers));
}
