/* The analysis pass's output: what code generation needs to know about a
 * contract, with nothing left to re-read from the bytecode. */
#ifndef JITEVM_JIT_ANALYSIS_H
#define JITEVM_JIT_ANALYSIS_H

#include "jit/jit_internal.h"

/* What one unit of emitted code stands for: one instruction, or several
 * fused into one. */
enum jit_pattern {
    JP_SINGLE,       /* one instruction, emitted by its kind; a PUSH's value in imm */
    JP_UNDEFINED,    /* not defined on this fork: handed to the interpreter at pc */
    JP_ARITH,        /* ADD SUB AND OR XOR MUL DIV MOD SDIV SMOD on the top two items, or [PUSH c] op with c in imm */
    JP_SHIFT,        /* PUSH amount; SHL SHR SAR (amount in imm) */
    JP_COMPARE,      /* EQ LT GT SLT SGT ([PUSH c] op) or ISZERO: a 0/1 word */
    JP_BRANCH,       /* [PUSH c] comparison [ISZERO] PUSH dest JUMPI: a conditional jump on the flags */
    JP_STATIC_JUMP,  /* PUSH dest; JUMP or JUMPI with dest a JUMPDEST */
    JP_DROPPED_PUSH, /* PUSHn, PC or DUPn, then POP: nothing to emit */
    JP_MEMORY_CONST, /* PUSH offset; MLOAD or MSTORE, with a small offset (imm) */
    JP_END_OF_CODE,  /* running off the end of the code: STOP */
};

typedef struct {
    uint32_t pc;      /* the first instruction */
    uint32_t next_pc; /* after the last */
    uint8_t op;       /* the instruction that says what is done (the arithmetic, comparison, jump or access) */
    uint8_t pattern;  /* enum jit_pattern */
    uint8_t kind;     /* enum jit_op_kind of op on this fork */
    bool has_imm;     /* imm is a folded PUSH's value (an operand, an amount, an offset) */
    bool negate;      /* JP_BRANCH: an ISZERO between the comparison and the jump */
    uint32_t target;  /* JP_BRANCH, JP_STATIC_JUMP: the destination, a JUMPDEST */
    int64_t gas;      /* base gas of all the instructions it stands for */
    u256 imm;
} jit_insn;

/* How a block ends, and so what follows it. */
enum jit_block_end {
    JB_FALLTHROUGH, /* into the JUMPDEST that starts the next block */
    JB_BRANCH,      /* a JUMPI: not taken, the next block starts right after */
    JB_EXIT,        /* a jump, a halt or a hand-over: nothing reaches what follows but a jump */
    JB_END_OF_CODE, /* runs off the end (JP_END_OF_CODE) */
};

/* A basic block: it starts at a JUMPDEST, after a JUMPI, or at pc 0, and
 * ends at a jump, a halting instruction, an undefined one or the next
 * JUMPDEST. Its checks are made once, on entry.
 *
 * Chains: a block that the one before falls into (it starts at a JUMPDEST)
 * and that no PUSH+JUMP(I) targets is `chained`: the block entered first
 * pays the gas and checks the stack of the whole chain, so falling through
 * costs nothing. Entered by a dynamic jump, a chained block makes the
 * checks of its own rest of the chain (chain_*), out of line. A chain's gas
 * stays under 2^30, so its figures fit 32-bit immediates. */
typedef struct {
    uint32_t pc;            /* where it starts (code_len: the STOP past the end) */
    uint32_t first, count;  /* its instructions: insns[first .. first + count) */
    int64_t gas;            /* base gas of all of them */
    int stack_min;          /* items it needs on entry */
    int stack_max_growth;   /* most items it has above the entry height at any point */
    int stack_delta;        /* height on exit minus height on entry (when it runs to its end) */
    uint8_t end;            /* enum jit_block_end */
    bool chained;           /* entered by falling through with its checks made: see above */
    int64_t chain_gas;      /* base gas of it and of the blocks chained after it */
    int chain_stack_min;    /* items they need on its entry */
    int chain_max_growth;   /* most items they add above its entry height */
    /* The block starts right after a JUMPI and is no JUMPDEST, so only
     * that JUMPI's block falls into it: its stack needs (chain_stack_min,
     * chain_max_growth) are checked with that block's (or that block's
     * chain's), and it checks only its gas. A check that fails there for a
     * JUMPI that would have been taken hands the frame over a block early:
     * the interpreter decides, as for any hand-over. */
    bool stack_checked;
} jit_block;

typedef struct {
    jit_insn *insns;
    size_t n_insns, cap_insns;
    jit_block *blocks;
    size_t n_blocks, cap_blocks;
    /* Long code without jumps that reads or writes memory at computed
     * offsets (jit_compile decides): each such access is a call to a
     * shared routine, to keep the code small (jit_codegen.c). */
    bool compact_memory;
} jit_analysis;

/* Analyses `ci` for fork `f`. Unreachable code (after an exit, before the
 * next JUMPDEST) gets no block. */
void jit_analyse(const code_info *ci, enum fork f, jit_analysis *out);
void jit_analysis_free(jit_analysis *a);

/* Code generation (jit_codegen.c): the machine code of analysis `a` of
 * `ci`; false when it cannot be had (a block's gas beyond 32 bits, code
 * past 2 GiB). */
bool jit_codegen(const code_info *ci, const jit_analysis *a, jit_image *out);

/* Instruction length: the opcode and its immediate bytes. */
static inline size_t jit_instr_len(uint8_t op) { return 1 + (size_t)opcode_table[op].immediate; }

#endif
