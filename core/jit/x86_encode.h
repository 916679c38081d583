/* The x86-64 encoder: one function per instruction form, named after it
 * (x86_<mnemonic>_<operands>: r64 a 64-bit register, m64 a qword at
 * [base + disp], imm an immediate), appending its bytes to a growing
 * buffer. Nothing here knows about the EVM: code generation (jit_codegen.c)
 * says what to emit, this file only how it is encoded.
 *
 * Encoding choices are fixed so that the same request always yields the
 * same bytes: the shortest displacement (none, disp8, disp32) for
 * [base + disp], with a SIB byte for rsp/r12 bases; imm8 for ALU
 * immediates in -128..127, else imm32; "mov r32, imm32" for constants that
 * fit 32 bits unsigned, else "mov r64, imm64". Branches to labels not yet
 * known are emitted with a zero displacement and the position of that
 * displacement returned, to be patched by x86_patch_rel8/rel32. */
#ifndef JITEVM_X86_ENCODE_H
#define JITEVM_X86_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum x86_reg { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* Condition codes (the low nibble of jcc/setcc). */
enum x86_cond { CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_A = 7, CC_S = 8, CC_L = 0xc };
/* The opposite condition. */
static inline enum x86_cond x86_negate(enum x86_cond cc) { return (enum x86_cond)(cc ^ 1); }

/* The eight two-operand integer operations, numbered as the ModRM /digit
 * of their immediate form (and opcode bits 5..3 of the others). */
enum x86_alu { X86_ADD = 0, X86_OR = 1, X86_ADC = 2, X86_SBB = 3, X86_AND = 4, X86_SUB = 5, X86_XOR = 6, X86_CMP = 7 };

typedef struct {
    uint8_t *p;
    size_t len, cap;
    bool failed; /* a patch that did not fit: the code is unusable */
} x86_buf;

void x86_put8(x86_buf *b, uint8_t v);
void x86_put32(x86_buf *b, uint32_t v);

/* ---- moves */
void x86_mov_r64_m64(x86_buf *b, int dst, int base, int32_t disp);   /* mov dst, [base + disp] */
void x86_mov_m64_r64(x86_buf *b, int base, int32_t disp, int src);   /* mov [base + disp], src */
void x86_mov_m64_imm32(x86_buf *b, int base, int32_t disp, int32_t imm); /* sign-extended */
void x86_mov_m32_imm32(x86_buf *b, int base, int32_t disp, uint32_t imm);
void x86_mov_r64_r64(x86_buf *b, int dst, int src);
void x86_mov_r64_imm(x86_buf *b, int dst, uint64_t imm); /* shortest form */
void x86_lea_r64_m(x86_buf *b, int dst, int base, int32_t disp);
void x86_movsxd_r64_m32_index4(x86_buf *b, int dst, int base, int index); /* movsxd dst, [base + index*4] */
void x86_lea_r64_base_index(x86_buf *b, int dst, int base, int index); /* lea dst, [base + index] (index not rsp) */
void x86_mov_m32_r32(x86_buf *b, int base, int32_t disp, int src);     /* mov [base + disp], src32 */
void x86_mov_r64_m64_index8(x86_buf *b, int dst, int base, int index, int8_t disp); /* mov dst, [base + index*8 + disp] */
void x86_movzx_r32_r8(x86_buf *b, int dst, int src);
/* 16-byte moves through xmm0..xmm15 (SSE2, which every x86-64 has); they
 * leave the flags alone. */
void x86_movdqu_x_m(x86_buf *b, int xmm, int base, int32_t disp); /* movdqu xmm, [base + disp] */
void x86_movdqu_m_x(x86_buf *b, int base, int32_t disp, int xmm); /* movdqu [base + disp], xmm */
void x86_movq_m_x(x86_buf *b, int base, int32_t disp, int xmm);   /* movq [base + disp], xmm (its low 8 bytes) */
void x86_pxor_x_x(x86_buf *b, int dst, int src);                   /* pxor dst, src: with itself, a zero */
void x86_bswap_r64(x86_buf *b, int reg);
void x86_push_r64(x86_buf *b, int reg);
void x86_pop_r64(x86_buf *b, int reg);

/* ---- arithmetic */
void x86_alu_r64_r64(x86_buf *b, enum x86_alu op, int dst, int src);          /* op dst, src */
void x86_alu_r64_m64(x86_buf *b, enum x86_alu op, int dst, int base, int32_t disp);
void x86_alu_r64_imm(x86_buf *b, enum x86_alu op, int dst, int32_t imm);      /* imm8 when it fits */
void x86_cmp_m64_imm32(x86_buf *b, int base, int32_t disp, int32_t imm);
void x86_cmp_m32_imm8(x86_buf *b, int base, int32_t disp, int8_t imm);
void x86_test_r64_r64(x86_buf *b, int a, int c);
void x86_test_r32_r32(x86_buf *b, int a, int c);
void x86_xor_r32_r32(x86_buf *b, int dst, int src);
void x86_not_m64(x86_buf *b, int base, int32_t disp);
void x86_mul_r64(x86_buf *b, int src);                    /* rdx:rax = rax * src */
void x86_mul_m64(x86_buf *b, int base, int32_t disp);     /* rdx:rax = rax * [base + disp] */
void x86_neg_r64(x86_buf *b, int reg);
void x86_div_r64(x86_buf *b, int src);                    /* rax, rdx = rdx:rax / src, remainder (unsigned) */
void x86_imul_r64_r64(x86_buf *b, int dst, int src);      /* dst = low half of dst * src */
void x86_imul_r64_m64(x86_buf *b, int dst, int base, int32_t disp);
void x86_shl_r64_imm8(x86_buf *b, int reg, uint8_t n);
void x86_shr_r64_imm8(x86_buf *b, int reg, uint8_t n);
void x86_sar_r64_imm8(x86_buf *b, int reg, uint8_t n);
void x86_shld_r64_r64_imm8(x86_buf *b, int dst, int src, uint8_t n);
void x86_shrd_r64_r64_imm8(x86_buf *b, int dst, int src, uint8_t n);
void x86_shld_r64_r64_cl(x86_buf *b, int dst, int src); /* by cl mod 64 */
void x86_shrd_r64_r64_cl(x86_buf *b, int dst, int src);
void x86_setcc_r8(x86_buf *b, enum x86_cond cc, int reg);

/* ---- control */
void x86_call_m64(x86_buf *b, int base, int32_t disp); /* call [base + disp] */
void x86_jmp_r64(x86_buf *b, int reg);
void x86_ret(x86_buf *b);
/* Branches with a displacement to patch: the position of that displacement. */
size_t x86_jmp_rel32(x86_buf *b);
size_t x86_call_rel32(x86_buf *b);
size_t x86_jmp_rel8(x86_buf *b); /* patch with x86_patch_rel8 */
size_t x86_jcc_rel32(x86_buf *b, enum x86_cond cc);
size_t x86_jcc_rel8(x86_buf *b, enum x86_cond cc);
/* Points the displacement at `at` to `target` (a buffer offset). */
void x86_patch_rel32(x86_buf *b, size_t at, size_t target);
void x86_patch_rel8(x86_buf *b, size_t at, size_t target); /* sets failed when out of reach */

/* bsr dst, src: the index of src's highest set bit (src not zero; bsr,
 * not lzcnt, which older processors read as bsr). */
void x86_bsr_r64_r64(x86_buf *b, int dst, int src);

#endif
