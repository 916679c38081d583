/* What the compiler (jit_compile.c), its runtime (jit_runtime.c) and the
 * generated code share. */
#ifndef JITEVM_JIT_INTERNAL_H
#define JITEVM_JIT_INTERNAL_H

#include "vm/evm_internal.h"
#include "jit/jit.h"

/* Returned by compiled code when it hands the frame to the interpreter:
 * ctx.deopt_pc and ctx.deopt_sp say where, the frame's gas is exact. */
#define JIT_DEOPT 0x7f

/* The generated code's view of one run. Its field offsets are baked into
 * the code (hence JIT_VERSION). */
typedef struct {
    u256 *sp;                     /* in: top of stack (stack_bottom when empty); out on deopt */
    int64_t gas;                  /* in */
    u256 *stack_bottom;           /* the slot below the first item */
    const int32_t *jump_table;    /* pc -> native offset of its block, 0 when not a JUMPDEST */
    const uint8_t *native;        /* the program's code */
    const atomic_int *abort_flag; /* polled at every taken jump */
    uint32_t deopt_pc;            /* out */
} jit_ctx;

/* A compiled program's position-independent image: what the store keeps. */
typedef struct {
    uint8_t *native;
    size_t native_len;
    int32_t *jump_table; /* code_len entries */
    size_t code_len;
} jit_image;

/* Compiles `ci` for fork `f`; false when the code is too large, or is long
 * straight-line code the interpreter runs faster (the frame then runs on
 * the interpreter). */
bool jit_compile(const code_info *ci, enum fork f, jit_image *out);
void jit_image_free(jit_image *img);

/* The table compiled code calls through (r15): one entry per opcode, a
 * function whose kind the compiler knows from jit_op_kind. */
#define jit_helper_table opcode_functions

enum jit_op_kind {
    JIT_NATIVE,  /* emitted as machine code */
    JIT_STACK,   /* void fn(u256 *sp) */
    JIT_CONTEXT, /* void fn(const frame *f, u256 *sp): pushes one word or rewrites the top */
    JIT_INSTR,   /* enum exec_status fn(frame *f, u256 *sp), with f->gas exact */
    JIT_END,     /* like JIT_INSTR, and the frame ends with its status */
    JIT_DEOPT_OP /* handed to the interpreter (undefined, INVALID) */
};
enum jit_op_kind jit_op_kind(uint8_t op);

typedef struct jit_program {
    jit_image image;    /* native points at the executable mapping */
    size_t mapped_len;
    enum exec_status (*entry)(jit_ctx *ctx, frame *f, const void *const *helpers);
} jit_program;

/* Runs frame `f` on program `p` (deopting to the interpreter as needed). */
enum exec_status jit_run(frame *f, const jit_program *p, bool *deopted);
/* The program to run this frame with, per the evm's engine: compiled now
 * (ENGINE_JIT), already compiled or loaded from the store (ENGINE_TIERED,
 * which otherwise queues a compilation and answers NULL), or NULL. */
const jit_program *jit_program_for(evm *e, const code_info *ci);
/* Frees the programs compiled from `ci` (code_info_free). */
void jit_release_programs(code_info *ci);
/* Adds an evm's frame counts to the process-wide statistics. */
void jit_count_frames(uint64_t interp, uint64_t compiled, uint64_t deopts);

#endif
