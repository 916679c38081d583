/* The x86-64 encoder's [base + disp] forms (x86_encode.c composes their
 * ModRM, SIB and displacement in one word and stores it at once): a list
 * of encodings taken from GNU as, and every register pair with every
 * class of displacement (none, disp8 at both ends, disp32 at both ends,
 * the rbp/r13 and rsp/r12 special cases) against a reference encoder
 * written byte by byte from the Intel manual's tables, each instruction
 * emitted after another so that one overwriting its neighbour shows. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "jit/x86_encode.h"

static void expect_bytes(x86_buf *b, const char *what, const uint8_t *want, size_t n)
{
    ck_assert_msg(b->len == n, "%s: %zu bytes, expected %zu", what, b->len, n);
    ck_assert_msg(memcmp(b->p, want, n) == 0, "%s: bytes differ", what);
    b->len = 0;
}

#define EXPECT(b, what, ...)                                                                                           \
    do {                                                                                                               \
        static const uint8_t want_[] = {__VA_ARGS__};                                                                  \
        expect_bytes(b, what, want_, sizeof want_);                                                                    \
    } while (0)

START_TEST(encodings_match_gnu_as)
{
    x86_buf b = {0};
    x86_mov_r64_m64(&b, RAX, RSP, 0);
    EXPECT(&b, "mov rax, [rsp]", 0x48, 0x8b, 0x04, 0x24);
    x86_mov_r64_m64(&b, R12, R13, 0);
    EXPECT(&b, "mov r12, [r13]", 0x4d, 0x8b, 0x65, 0x00);
    x86_mov_m64_r64(&b, R12, 0x80, R15);
    EXPECT(&b, "mov [r12+0x80], r15", 0x4d, 0x89, 0xbc, 0x24, 0x80, 0x00, 0x00, 0x00);
    x86_lea_r64_m(&b, RDI, RBP, -8);
    EXPECT(&b, "lea rdi, [rbp-8]", 0x48, 0x8d, 0x7d, 0xf8);
    x86_mov_r64_m64(&b, RCX, RBX, 127);
    EXPECT(&b, "mov rcx, [rbx+127]", 0x48, 0x8b, 0x4b, 0x7f);
    x86_mov_r64_m64(&b, RCX, RBX, -128);
    EXPECT(&b, "mov rcx, [rbx-128]", 0x48, 0x8b, 0x4b, 0x80);
    x86_mov_r64_m64(&b, RCX, RBX, 128);
    EXPECT(&b, "mov rcx, [rbx+128]", 0x48, 0x8b, 0x8b, 0x80, 0x00, 0x00, 0x00);
    x86_mov_m64_r64(&b, RSP, -129, R8);
    EXPECT(&b, "mov [rsp-129], r8", 0x4c, 0x89, 0x84, 0x24, 0x7f, 0xff, 0xff, 0xff);
    x86_cmp_m64_imm32(&b, R14, 16, 1000);
    EXPECT(&b, "cmp qword [r14+16], 1000", 0x49, 0x81, 0x7e, 0x10, 0xe8, 0x03, 0x00, 0x00);
    x86_movdqu_x_m(&b, 9, R12, 32);
    EXPECT(&b, "movdqu xmm9, [r12+32]", 0xf3, 0x45, 0x0f, 0x6f, 0x4c, 0x24, 0x20);
    x86_alu_r64_m64(&b, X86_ADD, R11, RAX, 0);
    EXPECT(&b, "add r11, [rax]", 0x4c, 0x03, 0x18);
    x86_mov_m32_imm32(&b, R13, 4, 7);
    EXPECT(&b, "mov dword [r13+4], 7", 0x41, 0xc7, 0x45, 0x04, 0x07, 0x00, 0x00, 0x00);
    free(b.p);
}
END_TEST

/* The reference: [REX] opcode ModRM [SIB] [disp8 | disp32], byte by byte. */
static size_t ref_mem(uint8_t *o, bool w, const uint8_t *prefix, size_t n_prefix, const uint8_t *opcode,
                      size_t n_opcode, int reg, int base, int32_t disp, bool rex_after_prefix)
{
    size_t n = 0;
    uint8_t rex = 0x40;
    if (w) rex |= 0x08;
    if (reg & 8) rex |= 0x04;
    if (base & 8) rex |= 0x01;
    if (!rex_after_prefix && rex != 0x40) o[n++] = rex;
    for (size_t i = 0; i < n_prefix; i++) o[n++] = prefix[i];
    if (rex_after_prefix && rex != 0x40) o[n++] = rex;
    for (size_t i = 0; i < n_opcode; i++) o[n++] = opcode[i];
    int mod;
    if (disp == 0 && (base & 7) != 5)
        mod = 0;
    else if (disp >= -128 && disp <= 127)
        mod = 1;
    else
        mod = 2;
    o[n++] = (uint8_t)(mod * 64 + (reg & 7) * 8 + (base & 7));
    if ((base & 7) == 4) o[n++] = 0x24; /* scale 1, no index, base rsp/r12 */
    if (mod == 1) o[n++] = (uint8_t)(int8_t)disp;
    if (mod == 2)
        for (int i = 0; i < 4; i++) o[n++] = (uint8_t)((uint32_t)disp >> (8 * i));
    return n;
}

static const int32_t DISPS[] = {0, 1, -1, 8, 127, -128, 128, -129, 0x1234, 0x12345678, INT32_MIN, INT32_MAX};

START_TEST(every_register_and_displacement_matches_the_reference)
{
    x86_buf b = {0};
    uint8_t want[256]; /* 7 forms of at most 12 bytes, and markers */
    size_t checked = 0;
    for (int reg = 0; reg < 16; reg++) {
        for (int base = 0; base < 16; base++) {
            for (size_t d = 0; d < sizeof DISPS / sizeof DISPS[0]; d++) {
                int32_t disp = DISPS[d];
                /* Each form after a 1-byte marker and before another: a
                 * store past an instruction's end must be overwritten by
                 * what follows, never leave stray bytes. */
                uint8_t *w = want;
#define FORM(call, ...)                                                                                                \
    do {                                                                                                               \
        x86_put8(&b, 0x90);                                                                                            \
        *w++ = 0x90;                                                                                                   \
        call;                                                                                                          \
        w += ref_mem(w, __VA_ARGS__);                                                                                  \
    } while (0)
                FORM(x86_mov_r64_m64(&b, reg, base, disp), true, NULL, 0, (const uint8_t[]){0x8b}, 1, reg, base, disp,
                     false);
                FORM(x86_mov_m64_r64(&b, base, disp, reg), true, NULL, 0, (const uint8_t[]){0x89}, 1, reg, base, disp,
                     false);
                FORM(x86_lea_r64_m(&b, reg, base, disp), true, NULL, 0, (const uint8_t[]){0x8d}, 1, reg, base, disp,
                     false);
                FORM(x86_alu_r64_m64(&b, X86_SUB, reg, base, disp), true, NULL, 0, (const uint8_t[]){0x2b}, 1, reg,
                     base, disp, false);
                FORM(x86_mov_m32_r32(&b, base, disp, reg), false, NULL, 0, (const uint8_t[]){0x89}, 1, reg, base, disp,
                     false);
                FORM(x86_imul_r64_m64(&b, reg, base, disp), true, NULL, 0, (const uint8_t[]){0x0f, 0xaf}, 2, reg, base,
                     disp, false);
                FORM(x86_movdqu_m_x(&b, base, disp, reg), false, (const uint8_t[]){0xf3}, 1,
                     (const uint8_t[]){0x0f, 0x7f}, 2, reg, base, disp, true);
                *w++ = 0x90;
                x86_put8(&b, 0x90);
                size_t n = (size_t)(w - want);
                ck_assert_msg(b.len == n && memcmp(b.p, want, n) == 0, "reg %d base %d disp %d", reg, base, disp);
                b.len = 0;
                checked++;
            }
        }
    }
    ck_assert_uint_eq(checked, 16 * 16 * sizeof DISPS / sizeof DISPS[0]);
    /* The forms with no register operand: their /digit in the reg field,
     * an immediate after the displacement. */
    for (int base = 0; base < 16; base++) {
        for (size_t d = 0; d < sizeof DISPS / sizeof DISPS[0]; d++) {
            int32_t disp = DISPS[d];
            size_t n = ref_mem(want, true, NULL, 0, (const uint8_t[]){0x81}, 1, X86_CMP, base, disp, false);
            memcpy(want + n, (const uint8_t[]){0x78, 0x56, 0x34, 0x12}, 4);
            x86_cmp_m64_imm32(&b, base, disp, 0x12345678);
            ck_assert_msg(b.len == n + 4 && memcmp(b.p, want, n + 4) == 0, "cmp base %d disp %d", base, disp);
            b.len = 0;
            /* call [base + disp] needs no REX.W: its reference without W */
            n = ref_mem(want, false, NULL, 0, (const uint8_t[]){0xff}, 1, 2, base, disp, false);
            x86_call_m64(&b, base, disp);
            ck_assert_msg(b.len == n && memcmp(b.p, want, n) == 0, "call base %d disp %d", base, disp);
            b.len = 0;
        }
    }
    free(b.p);
}
END_TEST

int main(void)
{
    return TEST_RUN("x86_encode", TEST_GROUP("memory operands", 30, encodings_match_gnu_as,
                                             every_register_and_displacement_matches_the_reference));
}
