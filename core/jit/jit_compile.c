/* The compiler: EVM bytecode to x86-64 machine code, one pass of each kind
 * per contract and fork, in the shape of LuaJIT's:
 *   jit_analysis.c  bytecode to basic blocks of instructions and fused
 *                   patterns, with each block's gas and stack needs;
 *   jit_codegen.c   those blocks to machine code (its opening comment
 *                   states the gas invariant, the registers and position
 *                   independence), and the layout of exits and stubs;
 *   x86_encode.c    the bytes of each x86-64 instruction.
 * This file decides what is worth compiling and runs the passes. Its
 * result, a jit_image, refers to nothing by absolute address, so it can be
 * stored (jit_blob.c) and mapped anywhere (jit_mcode.c). */
#include <stdlib.h>
#include <string.h>

#include "jit/jit_analysis.h"

/* Larger code runs on the interpreter (deployed code is at most 24 KiB,
 * initcode 48 KiB; older forks' tests go beyond). */
#define JIT_MAX_CODE ((size_t)64 * 1024)
/* Code without a single jump runs each instruction at most once per call,
 * and its machine code is fetched once per call. Past this size, if it
 * also reads or writes memory at computed offsets, each such access is a
 * 19-byte call to a shared routine (jit_analysis.compact_memory) instead
 * of an inline fast path with its slow path and hand-over stub (about 120
 * bytes): inline, micro/memory_grow_* (20 KiB of `DUP1 MLOAD POP DUP2 ADD`)
 * took about 36 bytes of machine code per EVM byte and ran 0.96-0.98x the
 * interpreter when every access grows memory (`bench --compare`, a loaded
 * machine), although it executes far fewer instructions. Such code used to
 * stay on the interpreter. */
#define JIT_COMPACT_MEMORY_ABOVE ((size_t)2048)

/* Whether the code has a JUMP or JUMPI instruction (not push data). */
static bool has_jump(const code_info *ci)
{
    for (size_t pc = 0; pc < ci->code_len; pc += jit_instr_len(ci->code[pc]))
        if (ci->code[pc] == OP_JUMP || ci->code[pc] == OP_JUMPI) return true;
    return false;
}

/* Whether the code has an MLOAD, MSTORE or MSTORE8 whose offset is not
 * the PUSH right before it. */
static bool has_computed_memory_access(const code_info *ci)
{
    uint8_t prev = OP_STOP;
    for (size_t pc = 0; pc < ci->code_len; pc += jit_instr_len(ci->code[pc])) {
        uint8_t op = ci->code[pc];
        if ((op == OP_MLOAD || op == OP_MSTORE || op == OP_MSTORE8) && opcode_kind(prev) != OPK_PUSH) return true;
        prev = op;
    }
    return false;
}

bool jit_compile(const code_info *ci, enum fork f, jit_image *out)
{
    memset(out, 0, sizeof *out);
    if (ci->code_len == 0 || ci->code_len > JIT_MAX_CODE) return false;
    jit_analysis a;
    jit_analyse(ci, f, &a);
    a.compact_memory = ci->code_len > JIT_COMPACT_MEMORY_ABOVE && !has_jump(ci) && has_computed_memory_access(ci);
    bool ok = jit_codegen(ci, &a, out);
    jit_analysis_free(&a);
    return ok;
}

void jit_image_free(jit_image *img)
{
    jit_scratch_give(JS_NATIVE, img->native, img->native_cap, 1);
    free(img->jump_table);
    memset(img, 0, sizeof *img);
}
