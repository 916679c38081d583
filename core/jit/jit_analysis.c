/* The analysis pass: bytecode to basic blocks of instructions and fused
 * patterns, for one fork, before any machine code is emitted.
 *
 * Blocks: a block starts at every JUMPDEST, after every JUMPI and at pc 0,
 * and ends at a jump, a halting instruction, an instruction undefined on
 * the fork (handed to the interpreter) or the next JUMPDEST. Code after an
 * exit that no JUMPDEST starts is unreachable and gets no block. Each block
 * records the base gas of all its instructions and its stack needs (items
 * required on entry, most items added at any point, the net change), so
 * its checks can be made once, on entry.
 *
 * Patterns: units code generation emits as one, each carrying the base gas
 * of all the instructions it stands for:
 *   PUSH c; ADD/SUB/AND/OR/XOR/MUL, SHL/SHR/SAR or a comparison: c folded
 *     into the instruction as an immediate;
 *   comparison [ISZERO] PUSH dest JUMPI, dest a JUMPDEST: one conditional
 *     jump on the comparison's flags;
 *   PUSH dest; JUMP or JUMPI, dest a JUMPDEST: a direct jump;
 *   PUSHn/PC/DUPn; POP: nothing at all;
 *   PUSH offset; MLOAD or MSTORE, offset small: a constant address.
 * A pattern never spans a block boundary, and every instruction in one is
 * defined on the fork, so block gas is the sum of its units' gas. */
#include <stdlib.h>
#include <string.h>

#include "jit/jit_analysis.h"

static enum jit_op_kind kind_in_fork(const fork_opcode_table *t, uint8_t op)
{
    return t->defined[op] ? jit_op_kind(op) : JIT_DEOPT_OP;
}

static bool ends_block(uint8_t op, enum jit_op_kind kind) { return kind == JIT_DEOPT_OP || opcode_ends_block(op); }

static bool is_comparison(uint8_t op) { return jit_native_op(op) == JN_COMPARE; }

/* Two-word operations that may take a folded PUSH as their first operand. */
static bool is_arith(uint8_t op)
{
    enum jit_native_op n = jit_native_op(op);
    return n == JN_ARITH || n == JN_DIVMOD;
}

/* Shifts: a PUSHed amount folds into them. */
static bool is_shift(uint8_t op) { return jit_native_op(op) == JN_SHIFT; }

/* Instructions that can take a preceding PUSH's value as an immediate. */
static bool takes_constant(uint8_t op) { return is_arith(op) || is_shift(op) || (is_comparison(op) && op != OP_ISZERO); }

/* PUSH1..PUSH32: a PUSH with immediate data to fold. */
static bool is_push_n(uint8_t op) { return opcode_kind(op) == OPK_PUSH && opcode_table[op].immediate > 0; }

/* Instructions that only push a word computed from nothing else. */
static bool pure_push(uint8_t op)
{
    enum opcode_kind k = opcode_kind(op);
    return k == OPK_PUSH || k == OPK_DUP || op == OP_PC;
}

typedef struct {
    const code_info *ci;
    const fork_opcode_table *t;
    jit_analysis *a;
    jit_block *block; /* the open block */
    int height;       /* its stack height relative to its entry */
} analyser;

static u256 push_value(const analyser *an, size_t pc)
{
    size_t n = opcode_table[an->ci->code[pc]].immediate;
    return n ? u256_load_be_n(an->ci->code + pc + 1, n) : u256_zero();
}

/* The byte at pc, when inside the code. */
static bool code_is(const analyser *an, size_t pc, uint8_t op) { return pc < an->ci->code_len && an->ci->code[pc] == op; }

/* Whether the PUSH at pc pushes a JUMPDEST's position; *dest = it. */
static bool pushes_jumpdest(const analyser *an, size_t pc, uint32_t *dest)
{
    u256 v = push_value(an, pc);
    if (!u256_fits_u64(&v) || !code_is_jumpdest(an->ci, v.w[0])) return false;
    *dest = (uint32_t)v.w[0];
    return true;
}

/* Instruction `op` belongs to the open block (and to unit `in`). */
static void account(analyser *an, jit_insn *in, uint8_t op)
{
    const opcode_info *info = &opcode_table[op];
    jit_block *b = an->block;
    if (info->stack_in - an->height > b->stack_min) b->stack_min = info->stack_in - an->height;
    an->height += info->stack_out - info->stack_in;
    if (an->height > b->stack_max_growth) b->stack_max_growth = an->height;
    b->gas += an->t->base_gas[op];
    in->gas += an->t->base_gas[op];
}

static void open_block(analyser *an, size_t pc)
{
    jit_analysis *a = an->a;
    a->blocks = jit_grow(a->blocks, &a->cap_blocks, a->n_blocks + 1, sizeof *a->blocks);
    an->block = &a->blocks[a->n_blocks++];
    *an->block = (jit_block){.pc = (uint32_t)pc, .first = (uint32_t)a->n_insns};
    an->height = 0;
}

static void close_block(analyser *an, enum jit_block_end end)
{
    an->block->count = (uint32_t)(an->a->n_insns - an->block->first);
    an->block->stack_delta = an->height;
    an->block->end = (uint8_t)end;
    an->block = NULL;
}

static void add_insn(analyser *an, const jit_insn *in)
{
    jit_analysis *a = an->a;
    a->insns = jit_grow(a->insns, &a->cap_insns, a->n_insns + 1, sizeof *a->insns);
    a->insns[a->n_insns++] = *in;
}

/* A comparison ending at `after`: followed by [ISZERO] PUSH dest JUMPI it
 * becomes a branch, else it leaves its 0/1 word. */
static void match_comparison(analyser *an, jit_insn *in, size_t after)
{
    const uint8_t *code = an->ci->code;
    size_t at = after;
    bool negate = code_is(an, at, OP_ISZERO) && an->t->defined[OP_ISZERO];
    if (negate) at++;
    uint32_t dest;
    if (at < an->ci->code_len && is_push_n(code[at])) {
        size_t jumpi = at + jit_instr_len(code[at]);
        if (code_is(an, jumpi, OP_JUMPI) && pushes_jumpdest(an, at, &dest)) {
            if (negate) account(an, in, OP_ISZERO);
            account(an, in, code[at]);
            account(an, in, OP_JUMPI);
            in->pattern = JP_BRANCH;
            in->negate = negate;
            in->target = dest;
            in->next_pc = (uint32_t)(jumpi + 1);
            return;
        }
    }
    in->pattern = JP_COMPARE;
    in->next_pc = (uint32_t)after;
}

/* The unit starting with `op` at pc (defined on the fork). */
static jit_insn match(analyser *an, size_t pc, uint8_t op, enum jit_op_kind kind)
{
    const uint8_t *code = an->ci->code;
    const fork_opcode_table *t = an->t;
    size_t next = pc + jit_instr_len(op), len = an->ci->code_len;
    jit_insn in = {.pc = (uint32_t)pc, .next_pc = (uint32_t)next, .op = op, .pattern = JP_SINGLE, .kind = (uint8_t)kind};
    account(an, &in, op);
    uint8_t after_op = next < len ? code[next] : OP_STOP;
    bool after_defined = next < len && t->defined[after_op];
    if (is_push_n(op) && after_defined && takes_constant(after_op)) {
        in.has_imm = true;
        in.imm = push_value(an, pc);
        in.op = after_op;
        in.kind = (uint8_t)jit_op_kind(after_op);
        account(an, &in, after_op);
        in.next_pc = (uint32_t)(next + 1);
        if (is_arith(after_op))
            in.pattern = JP_ARITH;
        else if (is_shift(after_op))
            in.pattern = JP_SHIFT;
        else
            match_comparison(an, &in, next + 1);
    } else if (is_arith(op)) {
        in.pattern = JP_ARITH;
    } else if (is_comparison(op)) {
        match_comparison(an, &in, next);
    } else if (is_push_n(op) && after_defined && (after_op == OP_JUMP || after_op == OP_JUMPI) &&
               pushes_jumpdest(an, pc, &in.target)) {
        in.pattern = JP_STATIC_JUMP;
        in.op = after_op;
        account(an, &in, after_op);
        in.next_pc = (uint32_t)(next + 1);
    } else if (pure_push(op) && after_op == OP_POP && after_defined) {
        in.pattern = JP_DROPPED_PUSH;
        account(an, &in, OP_POP);
        in.next_pc = (uint32_t)(next + 1);
    } else if (is_push_n(op) && opcode_table[op].immediate <= 4 && opcode_kind(after_op) == OPK_HELPER_FAST && next < len &&
               push_value(an, pc).w[0] <= (uint64_t)INT32_MAX - 64) {
        in.pattern = JP_MEMORY_CONST;
        in.has_imm = true;
        in.imm = push_value(an, pc);
        in.op = after_op;
        account(an, &in, after_op);
        in.next_pc = (uint32_t)(next + 1);
    } else if (opcode_kind(op) == OPK_PUSH) {
        in.has_imm = true;
        in.imm = push_value(an, pc);
    }
    return in;
}

/* How unit `in` ends its block, or -1 when it does not. */
static int block_end_of(const jit_insn *in)
{
    switch (in->pattern) {
    case JP_BRANCH: return JB_BRANCH;
    case JP_STATIC_JUMP: return in->op == OP_JUMPI ? JB_BRANCH : JB_EXIT;
    case JP_SINGLE:
        if (!ends_block(in->op, (enum jit_op_kind)in->kind)) return -1;
        return in->op == OP_JUMPI ? JB_BRANCH : JB_EXIT; /* only JUMPI falls through */
    default: return -1;
    }
}

/* The most gas a chain of blocks pays at once: its sums stay far from
 * int32 (one block alone may still be larger; codegen refuses those). */
#define CHAIN_MAX_GAS ((int64_t)1 << 30)

static int max_int(int a, int b) { return a > b ? a : b; }

/* The most items by which including the block after a JUMPI
 * (stack_checked) may raise a block's stack checks: past it, that block
 * checks its own, so that a frame near the stack's ends is not handed
 * over early for the needs of code that may not run. */
#define STACK_FOLD_MAX 64

/* Marks the chained blocks and sums each block's rest of its chain (see
 * jit_block), last block first. */
static void chain_blocks(const code_info *ci, jit_analysis *a)
{
    size_t cap_targets;
    bool *static_target = jit_scratch_take(JS_TARGETS, ci->code_len + 1, sizeof *static_target, &cap_targets);
    memset(static_target, 0, (ci->code_len + 1) * sizeof *static_target);
    for (size_t i = 0; i < a->n_insns; i++) {
        const jit_insn *in = &a->insns[i];
        if (in->pattern == JP_BRANCH || in->pattern == JP_STATIC_JUMP) static_target[in->target] = true;
    }
    for (size_t i = a->n_blocks; i-- > 0;) {
        jit_block *b = &a->blocks[i];
        b->chain_gas = b->gas;
        b->chain_stack_min = b->stack_min;
        b->chain_max_growth = b->stack_max_growth;
        b->chained = i > 0 && a->blocks[i - 1].end == JB_FALLTHROUGH && !static_target[b->pc];
        b->stack_checked = false;
        if (i + 1 < a->n_blocks && b->end == JB_BRANCH && b->count > 0) {
            jit_block *after = &a->blocks[i + 1]; /* its chain's figures are final: later blocks come first */
            int min = max_int(b->stack_min, after->chain_stack_min - b->stack_delta);
            int growth = max_int(b->stack_max_growth, b->stack_delta + after->chain_max_growth);
            if (after->pc == a->insns[b->first + b->count - 1].next_pc &&
                (after->pc >= ci->code_len || !code_is_jumpdest(ci, after->pc)) &&
                min - b->stack_min <= STACK_FOLD_MAX && growth - b->stack_max_growth <= STACK_FOLD_MAX) {
                after->stack_checked = true;
                b->chain_stack_min = min;
                b->chain_max_growth = growth;
            }
        }
        if (i + 1 == a->n_blocks || !a->blocks[i + 1].chained) continue;
        const jit_block *next = &a->blocks[i + 1];
        if (b->gas + next->chain_gas > CHAIN_MAX_GAS) { /* the next block starts a chain of its own */
            a->blocks[i + 1].chained = false;
            continue;
        }
        b->chain_gas += next->chain_gas;
        b->chain_stack_min = max_int(b->stack_min, next->chain_stack_min - b->stack_delta);
        b->chain_max_growth = max_int(b->stack_max_growth, b->stack_delta + next->chain_max_growth);
    }
    jit_scratch_give(JS_TARGETS, static_target, cap_targets, sizeof *static_target);
}

void jit_analyse(const code_info *ci, enum fork f, jit_analysis *out)
{
    *out = (jit_analysis){0};
    analyser an = {.ci = ci, .t = opcode_table_for_fork(f), .a = out};
    /* At most one unit and one block per byte, and the STOP past the end:
     * sized once, since growing by doubling copied ~20% of a compile's
     * instructions on 24 KiB (callgrind). */
    out->insns = jit_scratch_take(JS_INSNS, ci->code_len + 2, sizeof *out->insns, &out->cap_insns);
    out->blocks = jit_scratch_take(JS_BLOCKS, ci->code_len + 2, sizeof *out->blocks, &out->cap_blocks);
    bool dead = false; /* after an exit, until a JUMPDEST */
    for (size_t pc = 0; pc < ci->code_len;) {
        uint8_t op = ci->code[pc];
        if (op == OP_JUMPDEST) {
            if (an.block) close_block(&an, JB_FALLTHROUGH);
            open_block(&an, pc);
            dead = false;
        } else if (dead) {
            pc += jit_instr_len(op);
            continue;
        } else if (!an.block) {
            open_block(&an, pc);
        }
        enum jit_op_kind kind = kind_in_fork(an.t, op);
        jit_insn in;
        if (kind == JIT_DEOPT_OP) {
            in = (jit_insn){.pc = (uint32_t)pc, .next_pc = (uint32_t)(pc + jit_instr_len(op)), .op = op,
                            .pattern = JP_UNDEFINED, .kind = JIT_DEOPT_OP};
        } else {
            in = match(&an, pc, op, kind);
        }
        add_insn(&an, &in);
        int end = in.pattern == JP_UNDEFINED ? JB_EXIT : block_end_of(&in);
        if (end >= 0) {
            close_block(&an, (enum jit_block_end)end);
            dead = end == JB_EXIT;
        }
        pc = in.next_pc;
    }
    if (!dead) { /* running off the end (or into the padding of a cut PUSH) is STOP */
        if (!an.block) open_block(&an, ci->code_len);
        jit_insn stop = {.pc = (uint32_t)ci->code_len, .next_pc = (uint32_t)ci->code_len, .op = OP_STOP,
                         .pattern = JP_END_OF_CODE, .kind = JIT_NATIVE};
        account(&an, &stop, OP_STOP);
        add_insn(&an, &stop);
        close_block(&an, JB_END_OF_CODE);
    }
    chain_blocks(ci, out);
}

void jit_analysis_free(jit_analysis *a)
{
    jit_scratch_give(JS_INSNS, a->insns, a->cap_insns, sizeof *a->insns);
    jit_scratch_give(JS_BLOCKS, a->blocks, a->cap_blocks, sizeof *a->blocks);
    *a = (jit_analysis){0};
}
