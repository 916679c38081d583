/* The x86-64 encoder (see x86_encode.h): REX, ModRM and SIB bytes are
 * composed here and nowhere else. Registers are numbered 0..15 as the
 * hardware numbers them; bit 3 goes to the REX prefix, which is omitted
 * when it would be 0x40 (no register needs it: code never names spl..dil). */
#include <string.h>

#include "base/types.h"
#include "jit/x86_encode.h"

/* Each instruction is written straight into the output buffer through a
 * local cursor (which the compiler keeps in a register: nothing else can
 * alias it), room for the longest instruction made first, the buffer's
 * length set once at the end: the encoder was about half of jit_compile's
 * instructions when every byte went through a bounds-checked store to the
 * buffer, and 5% less again (callgrind) than composing in a local array and
 * copying it out. Nothing may grow `out` between an instruction's start
 * (insn_begin, or the NO_ROOM check below) and flush. */
typedef struct {
    uint8_t *p;
} insn;

#define X86_MAX_INSN 16 /* x86 allows 15 bytes */

__attribute__((noinline, cold)) static void reserve(x86_buf *b, size_t n)
{
    if (b->len + n <= b->cap) return;
    size_t cap = b->cap ? 2 * b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    b->cap = cap;
    b->p = xrealloc(b->p, cap);
}

/* An encoder whose buffer lacks room for one more instruction grows it in
 * its _grow twin, out of line, which calls the encoder again: the common
 * path then calls nothing, so it needs no stack frame and no saved
 * registers (those were a fifth of a mov's instructions, callgrind). */
#define NO_ROOM(out) __builtin_expect((out)->len + X86_MAX_INSN > (out)->cap, 0)
#define GROW_VOID(name, params, args) \
    __attribute__((noinline, cold)) static void name##_grow params { reserve(out, X86_MAX_INSN); name args; }
#define GROW_SIZE(name, params, args) \
    __attribute__((noinline, cold)) static size_t name##_grow params { reserve(out, X86_MAX_INSN); return name args; }

static inline __attribute__((always_inline)) insn insn_begin(x86_buf *out)
{
    if (out->len + X86_MAX_INSN > out->cap) reserve(out, X86_MAX_INSN);
    return (insn){out->p + out->len};
}

static inline __attribute__((always_inline)) void i8(insn *b, uint8_t v) { *b->p++ = v; }

static inline __attribute__((always_inline)) void i32(insn *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) i8(b, (uint8_t)(v >> (8 * i)));
}

/* Ends the instruction begun by insn_begin. */
static inline __attribute__((always_inline)) void flush(x86_buf *out, const insn *b)
{
    out->len = (size_t)(b->p - out->p);
}

void x86_put8(x86_buf *b, uint8_t v)
{
    reserve(b, 1);
    b->p[b->len++] = v;
}

void x86_put32(x86_buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) x86_put8(b, (uint8_t)(v >> (8 * i)));
}

static inline __attribute__((always_inline)) void put64(insn *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) i8(b, (uint8_t)(v >> (8 * i)));
}

/* REX with W (64-bit operand), R (reg field) and B (r/m or base). */
static inline __attribute__((always_inline)) void rex(insn *b, bool w, int reg, int base)
{
    uint8_t r = (uint8_t)(0x40 | (w << 3) | ((reg >> 3) << 2) | (base >> 3));
    if (r != 0x40) i8(b, r);
}

/* ModRM (+SIB, + displacement) for [base + disp], reg field `reg`. */
static inline __attribute__((always_inline)) void modrm_mem(insn *b, int reg, int base, int32_t disp)
{
    int r = reg & 7, bs = base & 7;
    if (disp == 0 && bs != 5) {
        i8(b, (uint8_t)(r << 3 | bs));
        if (bs == 4) i8(b, 0x24);
    } else if (disp >= -128 && disp <= 127) {
        i8(b, (uint8_t)(0x40 | r << 3 | bs));
        if (bs == 4) i8(b, 0x24);
        i8(b, (uint8_t)disp);
    } else {
        i8(b, (uint8_t)(0x80 | r << 3 | bs));
        if (bs == 4) i8(b, 0x24);
        i32(b, (uint32_t)disp);
    }
}

static inline __attribute__((always_inline)) void modrm_reg(insn *b, int reg, int rm) { i8(b, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7))); }

/* opcode with a 64-bit operand: reg and [base + disp]. */
static inline __attribute__((always_inline)) void op_r64_m(insn *b, uint8_t opcode, int reg, int base, int32_t disp)
{
    rex(b, true, reg, base);
    i8(b, opcode);
    modrm_mem(b, reg, base, disp);
}

/* opcode in the "r/m, reg" form on two 64-bit registers: dst is r/m. */
static inline __attribute__((always_inline)) void op_rm_r64(insn *b, uint8_t opcode, int dst, int src)
{
    rex(b, true, src, dst);
    i8(b, opcode);
    modrm_reg(b, src, dst);
}

GROW_VOID(x86_mov_r64_m64, (x86_buf *out, int dst, int base, int32_t disp), (out, dst, base, disp))
void x86_mov_r64_m64(x86_buf *out, int dst, int base, int32_t disp)
{
    if (NO_ROOM(out)) { x86_mov_r64_m64_grow(out, dst, base, disp); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    op_r64_m(b, 0x8b, dst, base, disp);
    flush(out, b);
}

GROW_VOID(x86_mov_m64_r64, (x86_buf *out, int base, int32_t disp, int src), (out, base, disp, src))
void x86_mov_m64_r64(x86_buf *out, int base, int32_t disp, int src)
{
    if (NO_ROOM(out)) { x86_mov_m64_r64_grow(out, base, disp, src); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    op_r64_m(b, 0x89, src, base, disp);
    flush(out, b);
}

/* F3 [REX] 0F op ModRM: movdqu's two directions. */
static inline __attribute__((always_inline)) void movdqu(x86_buf *out, uint8_t opcode, int xmm, int base, int32_t disp)
{
    insn bi = {out->p + out->len}, *b = &bi; /* room made by the callers */
    i8(b, 0xf3);
    rex(b, false, xmm, base);
    i8(b, 0x0f);
    i8(b, opcode);
    modrm_mem(b, xmm, base, disp);
    flush(out, b);
}

GROW_VOID(x86_movdqu_x_m, (x86_buf *out, int xmm, int base, int32_t disp), (out, xmm, base, disp))
void x86_movdqu_x_m(x86_buf *out, int xmm, int base, int32_t disp)
{
    if (NO_ROOM(out)) { x86_movdqu_x_m_grow(out, xmm, base, disp); return; }
    movdqu(out, 0x6f, xmm, base, disp);
}

GROW_VOID(x86_movq_m_x, (x86_buf *out, int base, int32_t disp, int xmm), (out, base, disp, xmm))
void x86_movq_m_x(x86_buf *out, int base, int32_t disp, int xmm)
{
    if (NO_ROOM(out)) { x86_movq_m_x_grow(out, base, disp, xmm); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    i8(b, 0x66);
    rex(b, false, xmm, base);
    i8(b, 0x0f);
    i8(b, 0xd6);
    modrm_mem(b, xmm, base, disp);
    flush(out, b);
}

GROW_VOID(x86_pxor_x_x, (x86_buf *out, int dst, int src), (out, dst, src))
void x86_pxor_x_x(x86_buf *out, int dst, int src)
{
    if (NO_ROOM(out)) { x86_pxor_x_x_grow(out, dst, src); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    i8(b, 0x66);
    rex(b, false, dst, src);
    i8(b, 0x0f);
    i8(b, 0xef);
    modrm_reg(b, dst, src);
    flush(out, b);
}
GROW_VOID(x86_movdqu_m_x, (x86_buf *out, int base, int32_t disp, int xmm), (out, base, disp, xmm))
void x86_movdqu_m_x(x86_buf *out, int base, int32_t disp, int xmm)
{
    if (NO_ROOM(out)) { x86_movdqu_m_x_grow(out, base, disp, xmm); return; }
    movdqu(out, 0x7f, xmm, base, disp);
}

GROW_VOID(x86_lea_r64_m, (x86_buf *out, int dst, int base, int32_t disp), (out, dst, base, disp))
void x86_lea_r64_m(x86_buf *out, int dst, int base, int32_t disp)
{
    if (NO_ROOM(out)) { x86_lea_r64_m_grow(out, dst, base, disp); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    op_r64_m(b, 0x8d, dst, base, disp);
    flush(out, b);
}

GROW_VOID(x86_mov_r64_r64, (x86_buf *out, int dst, int src), (out, dst, src))
void x86_mov_r64_r64(x86_buf *out, int dst, int src)
{
    if (NO_ROOM(out)) { x86_mov_r64_r64_grow(out, dst, src); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    op_rm_r64(b, 0x89, dst, src);
    flush(out, b);
}

GROW_VOID(x86_mov_m64_imm32, (x86_buf *out, int base, int32_t disp, int32_t imm), (out, base, disp, imm))
void x86_mov_m64_imm32(x86_buf *out, int base, int32_t disp, int32_t imm)
{
    if (NO_ROOM(out)) { x86_mov_m64_imm32_grow(out, base, disp, imm); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, true, 0, base);
    i8(b, 0xc7);
    modrm_mem(b, 0, base, disp);
    i32(b, (uint32_t)imm);
    flush(out, b);
}

GROW_VOID(x86_mov_m32_imm32, (x86_buf *out, int base, int32_t disp, uint32_t imm), (out, base, disp, imm))
void x86_mov_m32_imm32(x86_buf *out, int base, int32_t disp, uint32_t imm)
{
    if (NO_ROOM(out)) { x86_mov_m32_imm32_grow(out, base, disp, imm); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, false, 0, base);
    i8(b, 0xc7);
    modrm_mem(b, 0, base, disp);
    i32(b, imm);
    flush(out, b);
}

GROW_VOID(x86_mov_r64_imm, (x86_buf *out, int dst, uint64_t imm), (out, dst, imm))
void x86_mov_r64_imm(x86_buf *out, int dst, uint64_t imm)
{
    if (NO_ROOM(out)) { x86_mov_r64_imm_grow(out, dst, imm); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    if (imm <= 0xffffffffu) { /* mov r32, imm32 zero-extends */
        rex(b, false, 0, dst);
        i8(b, (uint8_t)(0xb8 | (dst & 7)));
        i32(b, (uint32_t)imm);
    } else {
        rex(b, true, 0, dst);
        i8(b, (uint8_t)(0xb8 | (dst & 7)));
        put64(b, imm);
    }
    flush(out, b);
}

GROW_VOID(x86_movsxd_r64_m32_index4, (x86_buf *out, int dst, int base, int index), (out, dst, base, index))
void x86_movsxd_r64_m32_index4(x86_buf *out, int dst, int base, int index)
{
    if (NO_ROOM(out)) { x86_movsxd_r64_m32_index4_grow(out, dst, base, index); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    uint8_t r = (uint8_t)(0x48 | ((dst >> 3) << 2) | ((index >> 3) << 1) | (base >> 3));
    i8(b, r);
    i8(b, 0x63);
    i8(b, (uint8_t)((dst & 7) << 3 | 4)); /* ModRM: SIB follows, no displacement */
    i8(b, (uint8_t)(2 << 6 | (index & 7) << 3 | (base & 7))); /* scale 4 */
    flush(out, b);
}

GROW_VOID(x86_lea_r64_base_index, (x86_buf *out, int dst, int base, int index), (out, dst, base, index))
void x86_lea_r64_base_index(x86_buf *out, int dst, int base, int index)
{
    if (NO_ROOM(out)) { x86_lea_r64_base_index_grow(out, dst, base, index); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    uint8_t r = (uint8_t)(0x48 | ((dst >> 3) << 2) | ((index >> 3) << 1) | (base >> 3));
    i8(b, r);
    i8(b, 0x8d);
    if ((base & 7) == 5) { /* rbp/r13 as a base take a displacement: disp8 0 */
        i8(b, (uint8_t)(0x40 | (dst & 7) << 3 | 4));
        i8(b, (uint8_t)((index & 7) << 3 | (base & 7)));
        i8(b, 0);
        flush(out, b);
        return;
    }
    i8(b, (uint8_t)((dst & 7) << 3 | 4)); /* ModRM: SIB follows, no displacement */
    i8(b, (uint8_t)((index & 7) << 3 | (base & 7))); /* scale 1 */
    flush(out, b);
}

GROW_VOID(x86_mov_m32_r32, (x86_buf *out, int base, int32_t disp, int src), (out, base, disp, src))
void x86_mov_m32_r32(x86_buf *out, int base, int32_t disp, int src)
{
    if (NO_ROOM(out)) { x86_mov_m32_r32_grow(out, base, disp, src); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, false, src, base);
    i8(b, 0x89);
    modrm_mem(b, src, base, disp);
    flush(out, b);
}

GROW_VOID(x86_mov_r64_m64_index8, (x86_buf *out, int dst, int base, int index, int8_t disp), (out, dst, base, index, disp))
void x86_mov_r64_m64_index8(x86_buf *out, int dst, int base, int index, int8_t disp)
{
    if (NO_ROOM(out)) { x86_mov_r64_m64_index8_grow(out, dst, base, index, disp); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    uint8_t r = (uint8_t)(0x48 | ((dst >> 3) << 2) | ((index >> 3) << 1) | (base >> 3));
    i8(b, r);
    i8(b, 0x8b);
    i8(b, (uint8_t)(0x40 | (dst & 7) << 3 | 4)); /* ModRM: SIB and a disp8 follow */
    i8(b, (uint8_t)(3 << 6 | (index & 7) << 3 | (base & 7))); /* scale 8 */
    i8(b, (uint8_t)disp);
    flush(out, b);
}

GROW_VOID(x86_movzx_r32_r8, (x86_buf *out, int dst, int src), (out, dst, src))
void x86_movzx_r32_r8(x86_buf *out, int dst, int src)
{
    if (NO_ROOM(out)) { x86_movzx_r32_r8_grow(out, dst, src); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, false, dst, src);
    i8(b, 0x0f);
    i8(b, 0xb6);
    modrm_reg(b, dst, src);
    flush(out, b);
}

GROW_VOID(x86_bswap_r64, (x86_buf *out, int reg), (out, reg))
void x86_bswap_r64(x86_buf *out, int reg)
{
    if (NO_ROOM(out)) { x86_bswap_r64_grow(out, reg); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, true, 0, reg);
    i8(b, 0x0f);
    i8(b, (uint8_t)(0xc8 | (reg & 7)));
    flush(out, b);
}

GROW_VOID(x86_push_r64, (x86_buf *out, int reg), (out, reg))
void x86_push_r64(x86_buf *out, int reg)
{
    if (NO_ROOM(out)) { x86_push_r64_grow(out, reg); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, false, 0, reg);
    i8(b, (uint8_t)(0x50 | (reg & 7)));
    flush(out, b);
}

GROW_VOID(x86_pop_r64, (x86_buf *out, int reg), (out, reg))
void x86_pop_r64(x86_buf *out, int reg)
{
    if (NO_ROOM(out)) { x86_pop_r64_grow(out, reg); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, false, 0, reg);
    i8(b, (uint8_t)(0x58 | (reg & 7)));
    flush(out, b);
}

GROW_VOID(x86_alu_r64_r64, (x86_buf *out, enum x86_alu op, int dst, int src), (out, op, dst, src))
void x86_alu_r64_r64(x86_buf *out, enum x86_alu op, int dst, int src)
{
    if (NO_ROOM(out)) { x86_alu_r64_r64_grow(out, op, dst, src); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    op_rm_r64(b, (uint8_t)(op << 3 | 1), dst, src);
    flush(out, b);
}

GROW_VOID(x86_alu_r64_m64, (x86_buf *out, enum x86_alu op, int dst, int base, int32_t disp), (out, op, dst, base, disp))
void x86_alu_r64_m64(x86_buf *out, enum x86_alu op, int dst, int base, int32_t disp)
{
    if (NO_ROOM(out)) { x86_alu_r64_m64_grow(out, op, dst, base, disp); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    op_r64_m(b, (uint8_t)(op << 3 | 3), dst, base, disp);
    flush(out, b);
}

GROW_VOID(x86_alu_r64_imm, (x86_buf *out, enum x86_alu op, int dst, int32_t imm), (out, op, dst, imm))
void x86_alu_r64_imm(x86_buf *out, enum x86_alu op, int dst, int32_t imm)
{
    if (NO_ROOM(out)) { x86_alu_r64_imm_grow(out, op, dst, imm); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, true, 0, dst);
    bool short_imm = imm >= -128 && imm <= 127;
    i8(b, short_imm ? 0x83 : 0x81);
    modrm_reg(b, (int)op, dst);
    if (short_imm)
        i8(b, (uint8_t)imm);
    else
        i32(b, (uint32_t)imm);
    flush(out, b);
}

GROW_VOID(x86_cmp_m64_imm32, (x86_buf *out, int base, int32_t disp, int32_t imm), (out, base, disp, imm))
void x86_cmp_m64_imm32(x86_buf *out, int base, int32_t disp, int32_t imm)
{
    if (NO_ROOM(out)) { x86_cmp_m64_imm32_grow(out, base, disp, imm); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    op_r64_m(b, 0x81, X86_CMP, base, disp);
    i32(b, (uint32_t)imm);
    flush(out, b);
}

GROW_VOID(x86_cmp_m32_imm8, (x86_buf *out, int base, int32_t disp, int8_t imm), (out, base, disp, imm))
void x86_cmp_m32_imm8(x86_buf *out, int base, int32_t disp, int8_t imm)
{
    if (NO_ROOM(out)) { x86_cmp_m32_imm8_grow(out, base, disp, imm); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, false, 0, base);
    i8(b, 0x83);
    modrm_mem(b, X86_CMP, base, disp);
    i8(b, (uint8_t)imm);
    flush(out, b);
}

GROW_VOID(x86_test_r64_r64, (x86_buf *out, int a, int c), (out, a, c))
void x86_test_r64_r64(x86_buf *out, int a, int c)
{
    if (NO_ROOM(out)) { x86_test_r64_r64_grow(out, a, c); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    op_rm_r64(b, 0x85, a, c);
    flush(out, b);
}

GROW_VOID(x86_test_r32_r32, (x86_buf *out, int a, int c), (out, a, c))
void x86_test_r32_r32(x86_buf *out, int a, int c)
{
    if (NO_ROOM(out)) { x86_test_r32_r32_grow(out, a, c); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, false, c, a);
    i8(b, 0x85);
    modrm_reg(b, c, a);
    flush(out, b);
}

GROW_VOID(x86_xor_r32_r32, (x86_buf *out, int dst, int src), (out, dst, src))
void x86_xor_r32_r32(x86_buf *out, int dst, int src)
{
    if (NO_ROOM(out)) { x86_xor_r32_r32_grow(out, dst, src); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, false, src, dst);
    i8(b, 0x31);
    modrm_reg(b, src, dst);
    flush(out, b);
}

/* Group 3 (0xf7) and group 2 shifts (0xc1) on a 64-bit register, by /digit. */
static void group_r64(insn *b, uint8_t opcode, int digit, int reg)
{
    rex(b, true, 0, reg);
    i8(b, opcode);
    modrm_reg(b, digit, reg);
}

GROW_VOID(x86_not_m64, (x86_buf *out, int base, int32_t disp), (out, base, disp))
void x86_not_m64(x86_buf *out, int base, int32_t disp)
{
    if (NO_ROOM(out)) { x86_not_m64_grow(out, base, disp); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    op_r64_m(b, 0xf7, 2, base, disp);
    flush(out, b);
}

GROW_VOID(x86_mul_r64, (x86_buf *out, int src), (out, src))
void x86_mul_r64(x86_buf *out, int src)
{
    if (NO_ROOM(out)) { x86_mul_r64_grow(out, src); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    group_r64(b, 0xf7, 4, src);
    flush(out, b);
}

GROW_VOID(x86_mul_m64, (x86_buf *out, int base, int32_t disp), (out, base, disp))
void x86_mul_m64(x86_buf *out, int base, int32_t disp)
{
    if (NO_ROOM(out)) { x86_mul_m64_grow(out, base, disp); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    op_r64_m(b, 0xf7, 4, base, disp);
    flush(out, b);
}

GROW_VOID(x86_div_r64, (x86_buf *out, int src), (out, src))
void x86_div_r64(x86_buf *out, int src)
{
    if (NO_ROOM(out)) { x86_div_r64_grow(out, src); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    group_r64(b, 0xf7, 6, src);
    flush(out, b);
}

GROW_VOID(x86_neg_r64, (x86_buf *out, int reg), (out, reg))
void x86_neg_r64(x86_buf *out, int reg)
{
    if (NO_ROOM(out)) { x86_neg_r64_grow(out, reg); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    group_r64(b, 0xf7, 3, reg);
    flush(out, b);
}

GROW_VOID(x86_imul_r64_r64, (x86_buf *out, int dst, int src), (out, dst, src))
void x86_imul_r64_r64(x86_buf *out, int dst, int src)
{
    if (NO_ROOM(out)) { x86_imul_r64_r64_grow(out, dst, src); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, true, dst, src);
    i8(b, 0x0f);
    i8(b, 0xaf);
    modrm_reg(b, dst, src);
    flush(out, b);
}

GROW_VOID(x86_imul_r64_m64, (x86_buf *out, int dst, int base, int32_t disp), (out, dst, base, disp))
void x86_imul_r64_m64(x86_buf *out, int dst, int base, int32_t disp)
{
    if (NO_ROOM(out)) { x86_imul_r64_m64_grow(out, dst, base, disp); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, true, dst, base);
    i8(b, 0x0f);
    i8(b, 0xaf);
    modrm_mem(b, dst, base, disp);
    flush(out, b);
}

static void shift_imm8(insn *b, int digit, int reg, uint8_t n)
{
    group_r64(b, 0xc1, digit, reg);
    i8(b, n);
}

GROW_VOID(x86_shl_r64_imm8, (x86_buf *out, int reg, uint8_t n), (out, reg, n))
void x86_shl_r64_imm8(x86_buf *out, int reg, uint8_t n)
{
    if (NO_ROOM(out)) { x86_shl_r64_imm8_grow(out, reg, n); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    shift_imm8(b, 4, reg, n);
    flush(out, b);
}

GROW_VOID(x86_shr_r64_imm8, (x86_buf *out, int reg, uint8_t n), (out, reg, n))
void x86_shr_r64_imm8(x86_buf *out, int reg, uint8_t n)
{
    if (NO_ROOM(out)) { x86_shr_r64_imm8_grow(out, reg, n); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    shift_imm8(b, 5, reg, n);
    flush(out, b);
}

GROW_VOID(x86_sar_r64_imm8, (x86_buf *out, int reg, uint8_t n), (out, reg, n))
void x86_sar_r64_imm8(x86_buf *out, int reg, uint8_t n)
{
    if (NO_ROOM(out)) { x86_sar_r64_imm8_grow(out, reg, n); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    shift_imm8(b, 7, reg, n);
    flush(out, b);
}

/* shld/shrd dst, src, n: 0f a4 / 0f ac with dst as r/m. */
static void double_shift(insn *b, uint8_t opcode, int dst, int src, uint8_t n)
{
    rex(b, true, src, dst);
    i8(b, 0x0f);
    i8(b, opcode);
    modrm_reg(b, src, dst);
    i8(b, n);
}

GROW_VOID(x86_shld_r64_r64_imm8, (x86_buf *out, int dst, int src, uint8_t n), (out, dst, src, n))
void x86_shld_r64_r64_imm8(x86_buf *out, int dst, int src, uint8_t n)
{
    if (NO_ROOM(out)) { x86_shld_r64_r64_imm8_grow(out, dst, src, n); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    double_shift(b, 0xa4, dst, src, n);
    flush(out, b);
}

GROW_VOID(x86_shrd_r64_r64_imm8, (x86_buf *out, int dst, int src, uint8_t n), (out, dst, src, n))
void x86_shrd_r64_r64_imm8(x86_buf *out, int dst, int src, uint8_t n)
{
    if (NO_ROOM(out)) { x86_shrd_r64_r64_imm8_grow(out, dst, src, n); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    double_shift(b, 0xac, dst, src, n);
    flush(out, b);
}

/* shld/shrd dst, src, cl: 0f a5 / 0f ad. */
static void double_shift_cl(insn *b, uint8_t opcode, int dst, int src)
{
    rex(b, true, src, dst);
    i8(b, 0x0f);
    i8(b, opcode);
    modrm_reg(b, src, dst);
}

GROW_VOID(x86_shld_r64_r64_cl, (x86_buf *out, int dst, int src), (out, dst, src))
void x86_shld_r64_r64_cl(x86_buf *out, int dst, int src)
{
    if (NO_ROOM(out)) { x86_shld_r64_r64_cl_grow(out, dst, src); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    double_shift_cl(b, 0xa5, dst, src);
    flush(out, b);
}

GROW_VOID(x86_shrd_r64_r64_cl, (x86_buf *out, int dst, int src), (out, dst, src))
void x86_shrd_r64_r64_cl(x86_buf *out, int dst, int src)
{
    if (NO_ROOM(out)) { x86_shrd_r64_r64_cl_grow(out, dst, src); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    double_shift_cl(b, 0xad, dst, src);
    flush(out, b);
}

GROW_VOID(x86_setcc_r8, (x86_buf *out, enum x86_cond cc, int reg), (out, cc, reg))
void x86_setcc_r8(x86_buf *out, enum x86_cond cc, int reg)
{
    if (NO_ROOM(out)) { x86_setcc_r8_grow(out, cc, reg); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, false, 0, reg);
    i8(b, 0x0f);
    i8(b, (uint8_t)(0x90 | cc));
    modrm_reg(b, 0, reg);
    flush(out, b);
}

GROW_VOID(x86_call_m64, (x86_buf *out, int base, int32_t disp), (out, base, disp))
void x86_call_m64(x86_buf *out, int base, int32_t disp)
{
    if (NO_ROOM(out)) { x86_call_m64_grow(out, base, disp); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, false, 0, base);
    i8(b, 0xff);
    modrm_mem(b, 2, base, disp);
    flush(out, b);
}

GROW_VOID(x86_jmp_r64, (x86_buf *out, int reg), (out, reg))
void x86_jmp_r64(x86_buf *out, int reg)
{
    if (NO_ROOM(out)) { x86_jmp_r64_grow(out, reg); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    rex(b, false, 0, reg);
    i8(b, 0xff);
    modrm_reg(b, 4, reg);
    flush(out, b);
}

GROW_VOID(x86_ret, (x86_buf *out), (out))
void x86_ret(x86_buf *out)
{
    if (NO_ROOM(out)) { x86_ret_grow(out); return; }
    insn bi = {out->p + out->len}, *b = &bi;
    i8(b, 0xc3);
    flush(out, b);
}

GROW_SIZE(x86_jmp_rel8, (x86_buf *out), (out))
size_t x86_jmp_rel8(x86_buf *out)
{
    if (NO_ROOM(out)) return x86_jmp_rel8_grow(out);
    insn bi = {out->p + out->len}, *b = &bi;
    i8(b, 0xeb);
    i8(b, 0);
    flush(out, b);
    return out->len - 1;
}

GROW_SIZE(x86_call_rel32, (x86_buf *out), (out))
size_t x86_call_rel32(x86_buf *out)
{
    if (NO_ROOM(out)) return x86_call_rel32_grow(out);
    insn bi = {out->p + out->len}, *b = &bi;
    i8(b, 0xe8);
    i32(b, 0);
    flush(out, b);
    return out->len - 4;
}

GROW_SIZE(x86_jmp_rel32, (x86_buf *out), (out))
size_t x86_jmp_rel32(x86_buf *out)
{
    if (NO_ROOM(out)) return x86_jmp_rel32_grow(out);
    insn bi = {out->p + out->len}, *b = &bi;
    i8(b, 0xe9);
    i32(b, 0);
    flush(out, b);
    return out->len - 4;
}

GROW_SIZE(x86_jcc_rel32, (x86_buf *out, enum x86_cond cc), (out, cc))
size_t x86_jcc_rel32(x86_buf *out, enum x86_cond cc)
{
    if (NO_ROOM(out)) return x86_jcc_rel32_grow(out, cc);
    insn bi = {out->p + out->len}, *b = &bi;
    i8(b, 0x0f);
    i8(b, (uint8_t)(0x80 | cc));
    i32(b, 0);
    flush(out, b);
    return out->len - 4;
}

GROW_SIZE(x86_jcc_rel8, (x86_buf *out, enum x86_cond cc), (out, cc))
size_t x86_jcc_rel8(x86_buf *out, enum x86_cond cc)
{
    if (NO_ROOM(out)) return x86_jcc_rel8_grow(out, cc);
    insn bi = {out->p + out->len}, *b = &bi;
    i8(b, (uint8_t)(0x70 | cc));
    i8(b, 0);
    flush(out, b);
    return out->len - 1;
}

void x86_patch_rel32(x86_buf *b, size_t at, size_t target)
{
    int32_t rel = (int32_t)((int64_t)target - (int64_t)(at + 4));
    memcpy(b->p + at, &rel, 4);
}

void x86_patch_rel8(x86_buf *b, size_t at, size_t target)
{
    int64_t rel = (int64_t)target - (int64_t)(at + 1);
    if (rel < -128 || rel > 127) {
        b->failed = true;
        return;
    }
    b->p[at] = (uint8_t)(int8_t)rel;
}

void x86_bsr_r64_r64(x86_buf *out, int dst, int src)
{
    insn bi = insn_begin(out), *b = &bi;
    rex(b, true, dst, src);
    i8(b, 0x0f);
    i8(b, 0xbd);
    modrm_reg(b, dst, src);
    flush(out, b);
}
