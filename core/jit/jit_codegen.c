/* Code generation: the analysis (jit_analysis.h) to x86-64 machine code,
 * through the encoder (x86_encode.h). Nothing here reads the bytecode: the
 * blocks, their gas and stack needs, and the fused patterns with their
 * folded constants all come from the analysis.
 *
 * Each block pays its base gas and checks its stack height once, on entry;
 * a block that cannot is handed to the interpreter at its first instruction
 * with its gas untouched. Inside a block the stack pointer is a compile-time
 * offset, and the stack is partly virtual: a PUSH (PC, a DUP or SWAP of a
 * constant) emits nothing, the item's value is known here, and what uses
 * it folds it (an immediate operand, a known divisor or shift amount, a
 * result computed at compile time, a JUMPI that is a jump or nothing).
 * Known items are written to memory at the block's end, before helper
 * calls, dynamic jumps and hand-overs, and when more than MAX_PENDING are
 * held: whatever reads the stack in memory (a helper, the interpreter
 * after a hand-over, the next block) finds it whole. PUSH+JUMP(I) to a
 * valid destination is a direct jump; a comparison followed by [ISZERO]
 * PUSH JUMPI is one conditional jump; only dynamic jumps look up their
 * target. DIV, MOD, SDIV, SMOD by a divisor whose magnitude fits 64 bits
 * are the div instruction, the helper out of line otherwise; shifts by an
 * amount known only at run time go through a scratch area on the native
 * stack. The word an instruction produced stays in r8..r11 for the next
 * (and is stored too, so the cached word needs no write-back).
 *
 * Gas invariant: the exact gas before any instruction equals r12 plus the
 * base gas of the block's instructions from that one on (known here at
 * compile time). Helpers that charge dynamic gas or read the gas (memory,
 * storage, calls) are given the exact figure, so every failure they report
 * is the interpreter's, and a deopt can always rebuild the frame's gas.
 *
 * Registers while compiled code runs (all callee-saved, so helper calls
 * keep them): rbx the stack top, r12 gas, r13 the jit_ctx, rbp the frame,
 * r14 the stack bottom, r15 the helper table; r8..r11 the cached word,
 * rax, rcx, rdx, rsi, rdi scratch, and 64 bytes at [rsp]. The code refers
 * to nothing by absolute address (jumps are relative, helpers are called
 * through r15, fields are named only through JIT_OFFSET): it is
 * position-independent, and can be stored.
 *
 * Layout: the blocks in code order, then the slow paths (MLOAD/MSTORE, divisions),
 * the chained blocks' entries for jumps, one hand-over stub per exit (it
 * sets the registers, then jumps to the one tail that hands over), the
 * timeout exit and the epilogue; jumps to any of these are patched once all
 * are placed. */
#include <stdlib.h>
#include <string.h>

#include "jit/jit_analysis.h"
#include "jit/x86_encode.h"

#define R_SP RBX
#define R_GAS R12
#define R_CTX R13
#define R_FRAME RBP
#define R_BOTTOM R14
#define R_HELPERS R15

/* Where a jump goes, patched once everything is laid out. */
enum target_kind {
    TO_BLOCK,
    TO_STUB,
    TO_EPILOGUE,
    TO_TIMEOUT,
    TO_PC_STUB,
    TO_MEMORY_ROUTINE,
    TO_MUL_ROUTINE,
    TO_MULMOD_ONES_ROUTINE,
    TO_SIGNED_WIDE_ROUTINE, /* index: 0 SDIV, 1 SMOD */
    TO_POWER_OF_TWO_ROUTINE /* index: 0 DIV, 1 MOD */
};
typedef struct {
    size_t at; /* offset of the rel32 */
    enum target_kind kind;
    uint32_t index; /* pc for TO_BLOCK, stub number for TO_STUB, enum memory_routine */
} fixup;

/* A hand-over to the interpreter at `pc`, with the stack `sp_off` items
 * from rbx and `gas_add` gas to add back to r12. */
typedef struct {
    uint32_t pc;
    int32_t sp_off;
    int64_t gas_add;
} stub;

/* The helper call behind a fast path (MLOAD/MSTORE, DIV/MOD), emitted out
 * of line: entered by the jumps at from[0..n_from), it returns to
 * `resume`. It runs in the compile-time state the fast path had (stack
 * offset, gas spent). */
typedef struct {
    uint8_t op;       /* OP_MLOAD, OP_MSTORE, OP_DIV or OP_MOD */
    uint8_t kind;     /* how its helper is called: JIT_INSTR or JIT_STACK */
    bool push_imm;    /* the instruction's first operand is a folded PUSH: store it first */
    bool reload;      /* the result is the top word, in r8..r11 after the fast path too */
    bool flush_top;   /* MSTORE of a dirty cached word: stored to the stack before the helper */
    u256 imm;
    int32_t off;
    int64_t block_cost, spent;
    size_t next_pc;
    size_t from[3], n_from;
    size_t resume;
} cold_path;

/* The jump entry of a chained block (jit_analysis.h): its rest of the
 * chain's checks, out of line, then its code at `body`. */
typedef struct {
    uint32_t pc;
    size_t body;
    int64_t gas;
    int stack_min, max_growth;
    bool lone; /* the block is a JUMPDEST alone: 1 gas, no stack */
} chain_entry;

/* The shared slow paths of MLOAD and MSTORE (emit_memory_routine), by
 * instruction and by whether the offset was a folded PUSH; and the whole
 * accesses of compact code (emit_memory_access_compact). */
enum memory_routine { MR_MLOAD, MR_MSTORE, MR_MLOAD_CONST, MR_MSTORE_CONST, MR_MLOAD_COMPACT, MR_MSTORE_COMPACT, MR_COUNT };

/* Constants the virtual stack holds at most (more are written back). */
#define MAX_PENDING 32

typedef struct {
    const code_info *ci;
    x86_buf *b;
    bool compact_memory; /* jit_analysis.compact_memory */
    fixup *fix;
    size_t n_fix, cap_fix;
    stub *stubs;
    size_t n_stubs, cap_stubs;
    int32_t *block_at; /* pc -> native offset of the block starting there, -1 */
    /* The current block. */
    int64_t block_cost; /* base gas of the whole block */
    int64_t spent;      /* base gas of the block's instructions up to and including the current one */
    int64_t memory_checked; /* the block has seen memory_size >= this (0: nothing) */
    int32_t off;        /* stack top = rbx + 32 * off */
    /* One stack word may also be in r8..r11 (write-through: memory always
     * holds it too, so hand-overs, helpers and jumps need no flush): the
     * word at rbx + 32 * cache_pos, when `cached`. */
    bool cached;
    int32_t cache_pos;
    /* The cached word is not in memory yet (an arithmetic result, stored
     * only when something needs it there: flush_cache). */
    bool dirty;
    /* The virtual stack: items whose value is a constant known here (the
     * word at rbx + 32 * pos), folded into the instructions that use them.
     * Those not `stored` are not yet in memory: they are written at the
     * block's edges, before helper calls and before hand-overs. A stored
     * one is in memory too and stays known until something writes its
     * slot (a helper's outputs, an instruction's result), so constants
     * pushed before a helper still fold after it. Never the cached word. */
    struct {
        int32_t pos;
        bool stored;
        bool is_copy; /* a DUP not yet written: the word at rbx + 32 * src, not `value` */
        int32_t src;
        u256 value;
    } pending[MAX_PENDING];
    int n_pending;
    bool has_copies; /* some entry may be a copy (cleared when all are written out) */
    /* Slow paths emitted after the main code, so hot code stays dense. */
    cold_path *cold;
    size_t n_cold, cap_cold;
    chain_entry *entries;
    size_t n_entries, cap_entries;
    bool uses_pc_stub; /* a jump goes to the hand-over at the pc in rdx */
    bool uses_memory_routine[MR_COUNT];
    bool uses_mul_routine;
    bool uses_mulmod_ones_routine;
    bool uses_signed_wide_routine[2]; /* SDIV, SMOD */
    bool uses_power_of_two_routine[2]; /* DIV, MOD */
} compiler;

/* ------------------------------------------------------ jumps and stubs */

static void add_fixup(compiler *c, size_t at, enum target_kind kind, uint32_t index)
{
    c->fix = jit_grow(c->fix, &c->cap_fix, c->n_fix + 1, sizeof *c->fix);
    c->fix[c->n_fix++] = (fixup){at, kind, index};
}

static void jcc_to(compiler *c, enum x86_cond cc, enum target_kind kind, uint32_t index)
{
    add_fixup(c, x86_jcc_rel32(c->b, cc), kind, index);
}

static void jmp_to(compiler *c, enum target_kind kind, uint32_t index) { add_fixup(c, x86_jmp_rel32(c->b), kind, index); }

/* Binds a forward branch's displacement to here. */
static void bind_short(compiler *c, size_t at) { x86_patch_rel8(c->b, at, c->b->len); }
static void bind_near(compiler *c, size_t at) { x86_patch_rel32(c->b, at, c->b->len); }

static uint32_t new_stub(compiler *c, uint32_t pc, int32_t sp_off, int64_t gas_add)
{
    c->stubs = jit_grow(c->stubs, &c->cap_stubs, c->n_stubs + 1, sizeof *c->stubs);
    c->stubs[c->n_stubs] = (stub){pc, sp_off, gas_add};
    return (uint32_t)c->n_stubs++;
}

/* ------------------------------------------------- stack and the cache */

/* Stack item `i` from the top (0 = top) as a displacement from rbx. */
static int32_t item(const compiler *c, int i) { return 32 * (c->off - i); }

static const int cache_reg[4] = {R8, R9, R10, R11};

/* Stores a dirty cached word that is still on the stack (movs: the flags
 * survive); it stays cached. */
static void flush_cache(compiler *c)
{
    if (c->cached && c->dirty && c->cache_pos <= c->off)
        for (int k = 0; k < 4; k++) x86_mov_m64_r64(c->b, R_SP, 32 * c->cache_pos + 8 * k, cache_reg[k]);
    c->dirty = false;
}

/* r8..r11 are about to be clobbered. */
static void cache_drop(compiler *c)
{
    flush_cache(c);
    c->cached = false;
}

/* Whether stack item i is the cached word. */
static bool in_cache(const compiler *c, int i) { return c->cached && c->cache_pos == c->off - i; }

/* The index in c->pending of stack item i, or -1. */
static int pending_index(const compiler *c, int i)
{
    for (int k = 0; k < c->n_pending; k++)
        if (c->pending[k].pos == c->off - i) return k;
    return -1;
}

/* The constant stack item i holds in the virtual stack, or NULL. */
static const u256 *pending_value(const compiler *c, int i)
{
    int k = pending_index(c, i);
    return k < 0 || c->pending[k].is_copy ? NULL : &c->pending[k].value;
}

static void pending_remove(compiler *c, int k) { c->pending[k] = c->pending[--c->n_pending]; }

/* Stack item i is written: a constant the virtual stack held for it is void. */
static void pending_forget(compiler *c, int i)
{
    int k = pending_index(c, i);
    if (k >= 0) pending_remove(c, k);
}

/* Drops the constants of items popped off the stack. */
static void pending_prune(compiler *c)
{
    for (int k = c->n_pending - 1; k >= 0; k--)
        if (c->pending[k].pos > c->off) pending_remove(c, k);
}

/* Stack item i is now the word in r8..r11 (and in memory). */
static void cache_hold(compiler *c, int i)
{
    c->cached = true;
    c->dirty = false;
    c->cache_pos = c->off - i;
    pending_forget(c, i);
}

/* Stack item i is about to be written other than through the cache. */
static void cache_forget(compiler *c, int i)
{
    if (in_cache(c, i)) c->cached = c->dirty = false; /* written whole: a dirty word is dropped */
    pending_forget(c, i);
}

/* Makes rbx the real stack top (lea keeps the flags). */
static void sync_sp(compiler *c)
{
    if (c->off) x86_lea_r64_m(c->b, R_SP, R_SP, 32 * c->off);
    c->cache_pos -= c->off;
    for (int k = 0; k < c->n_pending; k++) c->pending[k].pos -= c->off, c->pending[k].src -= c->off;
    c->off = 0;
}

/* --------------------------------------------------------- blocks, gas */

/* The entry checks of the code from block pc on: `gas` paid, the stack
 * height at least min_height and at most the limit less max_growth; a
 * hand-over at pc, with the gas untouched, when any fails. */
static void entry_checks(compiler *c, uint32_t pc, int64_t gas, int min_height, int max_growth)
{
    x86_buf *b = c->b;
    if (gas > INT32_MAX) b->failed = true;
    if (gas == 0 && min_height == 0 && max_growth == 0) return;
    uint32_t s = new_stub(c, pc, 0, gas);
    if (gas) {
        x86_alu_r64_imm(b, X86_SUB, R_GAS, (int32_t)gas);
        jcc_to(c, CC_S, TO_STUB, s);
    }
    if (min_height && max_growth && min_height + max_growth <= EVM_STACK_LIMIT) {
        /* Both bounds as one unsigned range check: x = rbx - 32*min - r14
         * must be in [0, 32*(limit - min - growth)]; below the minimum x
         * wraps to a huge value. Four instructions for the usual seven
         * (most blocks both need items and push). */
        x86_lea_r64_m(b, RAX, R_SP, -32 * min_height);
        x86_alu_r64_r64(b, X86_SUB, RAX, R_BOTTOM);
        x86_alu_r64_imm(b, X86_CMP, RAX, 32 * (EVM_STACK_LIMIT - min_height - max_growth));
        jcc_to(c, CC_A, TO_STUB, s);
        return;
    }
    if (min_height) { /* height >= min: rbx - 32*min >= r14 */
        x86_lea_r64_m(b, RAX, R_SP, -32 * min_height);
        x86_alu_r64_r64(b, X86_CMP, RAX, R_BOTTOM);
        jcc_to(c, CC_B, TO_STUB, s);
    }
    if (max_growth) { /* height + growth <= limit: rbx + 32*growth - r14 <= 32*limit */
        x86_lea_r64_m(b, RAX, R_SP, 32 * max_growth);
        x86_alu_r64_r64(b, X86_SUB, RAX, R_BOTTOM);
        x86_alu_r64_imm(b, X86_CMP, RAX, 32 * EVM_STACK_LIMIT);
        jcc_to(c, CC_A, TO_STUB, s);
    }
}

/* A block's start. The first of a chain checks the whole chain here; a
 * chained block, entered by falling through, checks nothing (its entry
 * for jumps is emitted out of line). Either way the gas invariant holds
 * with block_cost the gas of the rest of the chain. */
static void start_block(compiler *c, const jit_block *blk, bool lone)
{
    x86_buf *b = c->b;
    c->block_cost = blk->chain_gas;
    c->spent = 0;
    c->memory_checked = 0;
    c->off = 0;
    c->n_pending = 0;
    c->has_copies = false;
    c->cached = c->dirty = false; /* reached by jumps: nothing is known (the block before wrote all back) */
    if (blk->gas > INT32_MAX) b->failed = true;
    if (blk->chained) {
        c->entries = jit_grow(c->entries, &c->cap_entries, c->n_entries + 1, sizeof *c->entries);
        c->entries[c->n_entries++] = (chain_entry){blk->pc, b->len, blk->chain_gas, blk->chain_stack_min,
                                                   blk->chain_max_growth, lone};
        return;
    }
    c->block_at[blk->pc] = (int32_t)b->len;
    if (blk->stack_checked) /* only its JUMPI's block falls into it, and checked its stack needs */
        entry_checks(c, blk->pc, blk->chain_gas, 0, 0);
    else
        entry_checks(c, blk->pc, blk->chain_gas, blk->chain_stack_min, blk->chain_max_growth);
}

/* The chained blocks' entries for jumps: checks, then a jump to the body.
 * A run of chained blocks that are each a JUMPDEST alone, at consecutive
 * pcs and followed by another chained block, shares one entry (their
 * bodies are empty: all of them are the next block's): the destination's
 * pc arrives in rdx (dynamic_target), the entry pays the JUMPDESTs from
 * there to the run's end (as many as the pcs between, 1 gas each) and
 * goes on as the next block's entry; without that gas it hands over at
 * the destination, its gas untouched. micro/loop_with_many_jumpdests has
 * 24K of them, 88 bytes of code each (its checks, its stub) otherwise. */
static void emit_chain_entries(compiler *c)
{
    x86_buf *b = c->b;
    for (size_t i = 0; i < c->n_entries; i++) {
        size_t j = i;
        while (j + 1 < c->n_entries && c->entries[j].lone && c->entries[j + 1].pc == c->entries[j].pc + 1) j++;
        if (j > i) { /* entries i..j-1 are the run, j the block after it */
            for (size_t k = i; k < j; k++) c->block_at[c->entries[k].pc] = (int32_t)b->len;
            x86_lea_r64_base_index(b, RAX, R_GAS, RDX);
            x86_alu_r64_imm(b, X86_SUB, RAX, (int32_t)c->entries[j].pc); /* r12 - (JUMPDESTs from rdx on) */
            jcc_to(c, CC_S, TO_PC_STUB, 0);
            x86_mov_r64_r64(b, R_GAS, RAX);
            c->uses_pc_stub = true;
            i = j;
        }
        const chain_entry *e = &c->entries[i];
        c->block_at[e->pc] = (int32_t)c->b->len;
        entry_checks(c, e->pc, e->gas, e->stack_min, e->max_growth);
        x86_patch_rel32(c->b, x86_jmp_rel32(c->b), e->body);
    }
}

/* Gas of the block's instructions after the current one. */
static int64_t rest_after(const compiler *c) { return c->block_cost - c->spent; }

/* A hand-over to the interpreter at unit `in` (not executed). */
static uint32_t deopt_here(compiler *c, const jit_insn *in)
{
    return new_stub(c, in->pc, c->off, rest_after(c) + in->gas);
}

/* Makes frame->gas exact (before a helper reads or charges it). */
static void gas_to_frame(compiler *c)
{
    int64_t rest = rest_after(c);
    if (rest) {
        x86_lea_r64_m(c->b, RAX, R_GAS, (int32_t)rest);
        x86_mov_m64_r64(c->b, R_FRAME, JIT_OFFSET(frame, gas), RAX);
    } else {
        x86_mov_m64_r64(c->b, R_FRAME, JIT_OFFSET(frame, gas), R_GAS);
    }
}

static void call_helper(compiler *c, uint8_t op) { x86_call_m64(c->b, R_HELPERS, 8 * op); }

static void poll_abort(compiler *c)
{
    x86_mov_r64_m64(c->b, RCX, R_CTX, JIT_OFFSET(jit_ctx, abort_flag));
    x86_cmp_m32_imm8(c->b, RCX, 0, 0);
    jcc_to(c, CC_NE, TO_TIMEOUT, 0);
}

/* rax = the native address for the destination in stack item `i`, rdx =
 * the destination (for a shared entry, emit_chain_entries), or a hand-over
 * at the stub when it is not a JUMPDEST (the interpreter then reports the
 * bad jump). */
static void dynamic_target(compiler *c, int i, uint32_t stub_index)
{
    x86_buf *b = c->b;
    int32_t d = item(c, i);
    x86_mov_r64_m64(b, RAX, R_SP, d + 8);
    x86_alu_r64_m64(b, X86_OR, RAX, R_SP, d + 16);
    x86_alu_r64_m64(b, X86_OR, RAX, R_SP, d + 24);
    jcc_to(c, CC_NE, TO_STUB, stub_index);
    x86_mov_r64_m64(b, RDX, R_SP, d);
    x86_alu_r64_imm(b, X86_CMP, RDX, (int32_t)c->ci->code_len);
    jcc_to(c, CC_AE, TO_STUB, stub_index);
    x86_mov_r64_m64(b, RCX, R_CTX, JIT_OFFSET(jit_ctx, jump_table));
    x86_movsxd_r64_m32_index4(b, RAX, RCX, RDX);
    x86_test_r64_r64(b, RAX, RAX);
    jcc_to(c, CC_E, TO_STUB, stub_index);
    x86_alu_r64_m64(b, X86_ADD, RAX, R_CTX, JIT_OFFSET(jit_ctx, native));
}

/* rax = (stack item i) != 0, as flags: ZF set when zero. */
static void test_word(compiler *c, int i)
{
    if (in_cache(c, i)) {
        x86_mov_r64_r64(c->b, RAX, cache_reg[0]);
        for (int k = 1; k < 4; k++) x86_alu_r64_r64(c->b, X86_OR, RAX, cache_reg[k]);
        return;
    }
    int32_t d = item(c, i);
    x86_mov_r64_m64(c->b, RAX, R_SP, d);
    for (int k = 1; k < 4; k++) x86_alu_r64_m64(c->b, X86_OR, RAX, R_SP, d + 8 * k);
}

/* Limbs of the word at rbx + d that are in `zero` (a bit per limb) = 0,
 * through xmm2 zeroed (pxor, movq, movdqu: the flags survive): 14 bytes
 * for three limbs, where three 8-byte immediates took 24. */
static void store_zero_limbs(compiler *c, int32_t d, unsigned zero)
{
    x86_pxor_x_x(c->b, 2, 2);
    for (int k = 0; k < 4; k += 2) {
        unsigned pair = (zero >> k) & 3;
        if (pair == 3)
            x86_movdqu_m_x(c->b, R_SP, d + 8 * k, 2);
        else if (pair)
            x86_movq_m_x(c->b, R_SP, d + 8 * (k + (pair == 2)), 2);
    }
}

/* The word at rbx + d = v (movs and SSE moves only: the flags survive). */
static void store_constant(compiler *c, int32_t d, const u256 *v)
{
    unsigned zero = 0;
    for (int k = 0; k < 4; k++)
        if (!v->w[k]) zero |= 1u << k;
    if (__builtin_popcount(zero) >= 2)
        store_zero_limbs(c, d, zero);
    else
        zero = 0;
    for (int k = 0; k < 4; k++) {
        uint64_t limb = v->w[k];
        if (zero >> k & 1) continue;
        if ((int64_t)limb == (int64_t)(int32_t)limb) {
            x86_mov_m64_imm32(c->b, R_SP, d + 8 * k, (int32_t)limb);
        } else {
            x86_mov_r64_imm(c->b, RAX, limb);
            x86_mov_m64_r64(c->b, R_SP, d + 8 * k, RAX);
        }
    }
}

/* Pushes v, written to memory now (the slow paths, out of line). */
static void push_constant(compiler *c, const u256 *v)
{
    c->off++;
    cache_forget(c, 0);
    store_constant(c, item(c, 0), v);
}

/* Writes the word at rbx + 32 * src (in r8..r11 when cached) to rbx + 32
 * * pos: two 16-byte moves (20 bytes where four 8-byte loads and stores
 * took 32), or the cached registers stored. Flags survive. */
static void copy_word(compiler *c, int32_t src, int32_t pos)
{
    int32_t from = 32 * src, to = 32 * pos;
    if (c->cached && c->cache_pos == src) {
        for (int k = 0; k < 4; k++) x86_mov_m64_r64(c->b, R_SP, to + 8 * k, cache_reg[k]);
        return;
    }
    x86_movdqu_x_m(c->b, 0, R_SP, from);
    x86_movdqu_x_m(c->b, 1, R_SP, from + 16);
    x86_movdqu_m_x(c->b, R_SP, to, 0);
    x86_movdqu_m_x(c->b, R_SP, to + 16, 1);
}

/* Writes item k of the virtual stack to its stack slot (once): a constant
 * stays known; a copy is then a word like any other (its entry is dropped
 * by drop_stored_copies). */
static void materialize(compiler *c, int k)
{
    if (c->pending[k].stored) return;
    if (c->pending[k].is_copy)
        copy_word(c, c->pending[k].src, c->pending[k].pos);
    else
        store_constant(c, 32 * c->pending[k].pos, &c->pending[k].value);
    c->pending[k].stored = true;
}

static void drop_stored_copies(compiler *c)
{
    if (!c->has_copies) return;
    for (int k = c->n_pending - 1; k >= 0; k--)
        if (c->pending[k].is_copy && c->pending[k].stored) pending_remove(c, k);
}

/* Writes every copy of the virtual stack to memory (flags survive). */
static void materialize_copies(compiler *c)
{
    if (!c->has_copies) return;
    for (int k = 0; k < c->n_pending; k++)
        if (c->pending[k].is_copy) materialize(c, k);
    drop_stored_copies(c);
    c->has_copies = false;
}

/* Writes every item of the virtual stack to memory (flags survive). */
static void materialize_all(compiler *c)
{
    for (int k = 0; k < c->n_pending; k++) materialize(c, k);
    drop_stored_copies(c);
    c->has_copies = false;
    flush_cache(c);
}

/* The slot at rbx + 32 * pos is about to be written: the copies of the
 * word it holds, that live on below it, are written out first. (Copies
 * above it are operands the writing instruction consumes.) */
static void clobber_slot(compiler *c, int32_t pos)
{
    if (!c->has_copies) return;
    bool any = false;
    for (int k = 0; k < c->n_pending; k++)
        if (c->pending[k].is_copy && !c->pending[k].stored && c->pending[k].src == pos && c->pending[k].pos < pos) {
            materialize(c, k);
            any = true;
        }
    if (any) drop_stored_copies(c);
}

static void materialize_item(compiler *c, int i)
{
    int k = pending_index(c, i);
    if (k < 0) return;
    materialize(c, k);
    if (c->pending[k].is_copy) pending_remove(c, k);
}

/* Stack item i becomes the constant v, kept in the virtual stack. */
/* A new entry of the virtual stack for item i (room made first). */
static int new_pending(compiler *c, int i)
{
    clobber_slot(c, c->off - i);
    cache_forget(c, i);
    if (c->n_pending == MAX_PENDING) { /* one is forgotten: a stored one, else the oldest, written first */
        int k = 0;
        for (int j = 0; j < c->n_pending; j++)
            if (c->pending[j].stored) k = j;
        materialize(c, k);
        pending_remove(c, k);
    }
    int k = c->n_pending++;
    c->pending[k].pos = c->off - i;
    c->pending[k].stored = false;
    c->pending[k].is_copy = false;
    c->pending[k].src = 0;
    return k;
}

static void set_pending(compiler *c, int i, const u256 *v)
{
    c->pending[new_pending(c, i)].value = *v;
}

/* PUSH v: nothing emitted until the value is needed in memory. */
static void push_pending(compiler *c, const u256 *v)
{
    c->off++;
    set_pending(c, 0, v);
}

/* A 0/1 result in eax into stack item i. */
static void store_flag(compiler *c, int i)
{
    cache_forget(c, i);
    int32_t d = item(c, i);
    x86_mov_m64_r64(c->b, R_SP, d, RAX);
    store_zero_limbs(c, d, 0xe);
}

/* STOP: the frame ends successfully with r12 as its gas (a block's last
 * instruction, so r12 is exact). */
static void emit_stop(compiler *c)
{
    x86_mov_m64_r64(c->b, R_FRAME, JIT_OFFSET(frame, gas), R_GAS);
    x86_xor_r32_r32(c->b, RAX, RAX); /* EXEC_SUCCESS */
    jmp_to(c, TO_EPILOGUE, 0);
}

/* ------------------------------------------------ single instructions */

/* JUMP, JUMPI to a destination known only at run time. */
static void emit_dynamic_jump(compiler *c, const jit_insn *in)
{
    x86_buf *b = c->b;
    uint32_t s = deopt_here(c, in);
    if (in->op == OP_JUMP) {
        dynamic_target(c, 0, s);
        c->off--;
        sync_sp(c);
        poll_abort(c);
        x86_jmp_r64(b, RAX);
        return;
    }
    test_word(c, 1);
    size_t not_taken = x86_jcc_rel8(b, CC_E);
    dynamic_target(c, 0, s);
    x86_lea_r64_m(b, R_SP, R_SP, 32 * (c->off - 2));
    poll_abort(c);
    x86_jmp_r64(b, RAX);
    bind_short(c, not_taken);
    c->off -= 2;
    sync_sp(c);
}

/* DUPn: a copy in the virtual stack (of a constant, another constant). */
static void emit_dup(compiler *c, int n)
{
    const u256 *v = pending_value(c, n - 1);
    if (v) {
        u256 copy = *v;
        push_pending(c, &copy);
        return;
    }
    /* A copy in the virtual stack: nothing emitted; what uses it reads the
     * word where it is (memory, or r8..r11), and what would change that
     * word, or reads the stack in memory, writes the copy out first. */
    int k = pending_index(c, n - 1);
    int32_t src = k >= 0 ? c->pending[k].src : c->off - (n - 1); /* a copy of a copy: of the same word */
    c->off++;
    int j = new_pending(c, 0);
    c->pending[j].is_copy = true;
    c->pending[j].src = src;
    c->has_copies = true;
}

/* SWAPn: the word in r8..r11 (the cached one, else item n loaded there)
 * follows its value to its new place. */
static void emit_swap(compiler *c, int n)
{
    static const int scratch[4] = {RAX, RCX, RDX, RSI};
    x86_buf *b = c->b;
    int kt = pending_index(c, 0), kn = pending_index(c, n);
    if (kt >= 0 && kn >= 0) { /* two constants: only what is known changes */
        u256 t = c->pending[kt].value;
        c->pending[kt].value = c->pending[kn].value;
        c->pending[kn].value = t;
        c->pending[kt].stored = c->pending[kn].stored = false; /* memory holds them swapped back */
        return;
    }
    if (kt >= 0 || kn >= 0) { /* one constant: the other word moves (through r8..r11), the constant is renamed */
        int word = kt >= 0 ? n : 0, konst = kt >= 0 ? 0 : n;
        u256 v = c->pending[kt >= 0 ? kt : kn].value;
        int32_t from = item(c, word), to = item(c, konst);
        if (!in_cache(c, word))
            for (int k = 0; k < 4; k++) x86_mov_r64_m64(b, cache_reg[k], R_SP, from + 8 * k);
        for (int k = 0; k < 4; k++) x86_mov_m64_r64(b, R_SP, to + 8 * k, cache_reg[k]);
        cache_hold(c, konst); /* drops the constant there */
        set_pending(c, word, &v);
        return;
    }
    int32_t top = item(c, 0), other = item(c, n);
    bool top_cached = in_cache(c, 0);
    int32_t reg_from = top_cached ? top : other, reg_to = top_cached ? other : top;
    if (!top_cached && !in_cache(c, n))
        for (int k = 0; k < 4; k++) x86_mov_r64_m64(b, cache_reg[k], R_SP, other + 8 * k);
    for (int k = 0; k < 4; k++) x86_mov_r64_m64(b, scratch[k], R_SP, reg_to + 8 * k);
    for (int k = 0; k < 4; k++) x86_mov_m64_r64(b, R_SP, reg_from + 8 * k, scratch[k]);
    for (int k = 0; k < 4; k++) x86_mov_m64_r64(b, R_SP, reg_to + 8 * k, cache_reg[k]);
    cache_hold(c, top_cached ? n : 0);
}

static void emit_variable_shift(compiler *c, uint8_t op);

/* An instruction of kind JIT_NATIVE on its own. */
static void emit_native(compiler *c, const jit_insn *in)
{
    uint8_t op = in->op;
    switch (op) {
    case OP_STOP: emit_stop(c); return;
    case OP_NOT:
        if (pending_value(c, 0)) {
            u256 v = u256_not(pending_value(c, 0));
            set_pending(c, 0, &v);
            return;
        }
        cache_forget(c, 0);
        for (int k = 0; k < 4; k++) x86_not_m64(c->b, R_SP, item(c, 0) + 8 * k);
        return;
    case OP_POP: c->off--; return;
    case OP_PC: {
        u256 v = u256_from_u64(in->pc);
        push_pending(c, &v);
        return;
    }
    case OP_GAS:
        x86_lea_r64_m(c->b, RAX, R_GAS, (int32_t)rest_after(c));
        c->off++;
        store_flag(c, 0);
        return;
    case OP_JUMPDEST: return;
    case OP_JUMP:
    case OP_JUMPI: emit_dynamic_jump(c, in); return;
    default: break;
    }
    if (jit_native_op(op) == JN_SHIFT) {
        emit_variable_shift(c, op);
        return;
    }
    switch (opcode_kind(op)) {
    case OPK_DUP: emit_dup(c, opcode_table[op].stack_in); return; /* DUPn takes n */
    case OPK_SWAP: emit_swap(c, opcode_table[op].stack_in - 1); return; /* SWAPn takes n + 1 */
    case OPK_PUSH: push_pending(c, &in->imm); return;
    default: c->b->failed = true; return; /* a JIT_NATIVE opcode without code here */
    }
}

/* A helper call for one instruction of kind JIT_STACK/CONTEXT/INSTR/END. */
static void emit_helper(compiler *c, uint8_t op, enum jit_op_kind kind, size_t next_pc)
{
    x86_buf *b = c->b;
    cache_drop(c); /* a call clobbers r8..r11 */
    const opcode_info *info = &opcode_table[op];
    switch (kind) {
    case JIT_STACK:
        x86_lea_r64_m(b, RDI, R_SP, item(c, 0));
        call_helper(c, op);
        break;
    case JIT_CONTEXT:
        x86_mov_r64_r64(b, RDI, R_FRAME);
        x86_lea_r64_m(b, RSI, R_SP, item(c, 0));
        call_helper(c, op);
        break;
    case JIT_INSTR:
    case JIT_END: {
        gas_to_frame(c);
        x86_mov_r64_r64(b, RDI, R_FRAME);
        x86_lea_r64_m(b, RSI, R_SP, item(c, 0));
        call_helper(c, op);
        if (kind == JIT_END) { /* eax: the frame's status; frame->gas is exact */
            jmp_to(c, TO_EPILOGUE, 0);
            return;
        }
        x86_test_r32_r32(b, RAX, RAX); /* the status is 32 bits, rax's upper half is undefined */
        jcc_to(c, CC_NE, TO_EPILOGUE, 0);
        x86_mov_r64_m64(b, R_GAS, R_FRAME, JIT_OFFSET(frame, gas));
        c->off += info->stack_out - info->stack_in;
        for (int i = 0; i < info->stack_out; i++) pending_forget(c, i); /* the helper wrote them */
        int64_t rest = rest_after(c);
        if (rest) {
            /* The rest of the block can no longer be paid for: the
             * interpreter finds where it runs out. */
            x86_alu_r64_imm(b, X86_SUB, R_GAS, (int32_t)rest);
            jcc_to(c, CC_S, TO_STUB, new_stub(c, (uint32_t)next_pc, c->off, rest));
        }
        return;
    }
    default:
        return;
    }
    c->off += info->stack_out - info->stack_in;
    for (int i = 0; i < info->stack_out; i++) pending_forget(c, i); /* the helper wrote them */
}

/* ------------------------------------------------------------- memory */

/* rax = frame memory + the offset in stack item `i` when [offset, offset+32)
 * lies in memory already paid for; otherwise a jump whose rel32 positions
 * go to slow[0..2]. */
static void memory_word_address(compiler *c, int i, size_t slow[3])
{
    x86_buf *b = c->b;
    int32_t d = item(c, i);
    x86_mov_r64_m64(b, RAX, R_SP, d + 8);
    x86_alu_r64_m64(b, X86_OR, RAX, R_SP, d + 16);
    x86_alu_r64_m64(b, X86_OR, RAX, R_SP, d + 24);
    slow[0] = x86_jcc_rel32(b, CC_NE);
    x86_mov_r64_m64(b, RCX, R_FRAME, JIT_OFFSET(frame, memory_size));
    x86_alu_r64_imm(b, X86_SUB, RCX, 32);
    slow[1] = x86_jcc_rel32(b, CC_B); /* less than 32 bytes of memory */
    x86_mov_r64_m64(b, RAX, R_SP, d);
    x86_alu_r64_r64(b, X86_CMP, RAX, RCX); /* offset > size - 32 */
    slow[2] = x86_jcc_rel32(b, CC_A);
    x86_alu_r64_m64(b, X86_ADD, RAX, R_FRAME, JIT_OFFSET(frame, memory));
}

/* Memory word at rax + disp into stack item `dest`: r8..r11 hold it, and
 * it is stored when needed (dirty; the slow path's helper stores it, which
 * only makes memory agree early). */
static void load_memory_word(compiler *c, int32_t disp, int dest)
{
    for (int k = 0; k < 4; k++) {
        x86_mov_r64_m64(c->b, cache_reg[k], RAX, disp + 24 - 8 * k);
        x86_bswap_r64(c->b, cache_reg[k]);
    }
    cache_hold(c, dest);
    c->dirty = true;
}

/* Stack item `src` (from r8..r11 when cached) to the memory word at rax + disp. */
static void store_memory_word(compiler *c, int src, int32_t disp)
{
    bool cached = in_cache(c, src);
    int32_t s = item(c, src);
    for (int k = 0; k < 4; k++) {
        if (cached)
            x86_mov_r64_r64(c->b, RCX, cache_reg[k]);
        else
            x86_mov_r64_m64(c->b, RCX, R_SP, s + 8 * k);
        x86_bswap_r64(c->b, RCX);
        x86_mov_m64_r64(c->b, RAX, disp + 24 - 8 * k, RCX);
    }
}

static cold_path *new_cold_path(compiler *c, uint8_t op, size_t next_pc)
{
    c->cold = jit_grow(c->cold, &c->cap_cold, c->n_cold + 1, sizeof *c->cold);
    cold_path *p = &c->cold[c->n_cold++];
    *p = (cold_path){.op = op, .kind = JIT_INSTR, .reload = op == OP_MLOAD, .off = c->off, .block_cost = c->block_cost,
                     .spent = c->spent, .next_pc = next_pc};
    return p;
}

static void emit_memory_access_compact(compiler *c, uint8_t op, size_t next_pc);

/* MLOAD and MSTORE inside memory already paid for, as machine code; the
 * helper otherwise (growth, gas, huge offsets), out of line. An MLOAD
 * leaves its word in r8..r11 on both paths. */
static void emit_memory_access(compiler *c, uint8_t op, size_t next_pc)
{
    if (c->compact_memory && c->block_cost - c->spent <= (int64_t)UINT32_MAX) { /* the rest's gas fits its data */
        emit_memory_access_compact(c, op, next_pc);
        return;
    }
    size_t slow[3];
    memory_word_address(c, 0, slow);
    cold_path *p = new_cold_path(c, op, next_pc);
    p->n_from = 3;
    for (int k = 0; k < 3; k++) p->from[k] = slow[k];
    if (op == OP_MLOAD) {
        load_memory_word(c, 0, 0);
    } else {
        store_memory_word(c, 1, 0);
        c->off -= 2;
        cache_drop(c);
    }
    p->resume = c->b->len;
}

/* An MLOAD or MSTORE of compact code (long code without jumps: each
 * access runs at most once a call, so its size counts more than its
 * speed): 19 bytes, where the fast path, its slow path and its hand-over
 * stub take about 120. A call to the routine of its kind with rsi the
 * offset's slot, followed by the gas of the rest of the block and the
 * next pc as data, which a short jump steps over when the routine
 * returns (a plain return, which the processor predicts); the routine reads
 * them through its return address, and hands over at that pc itself. An
 * MLOAD's word is in r8..r11 after it, as after the fast path. */
static void emit_memory_access_compact(compiler *c, uint8_t op, size_t next_pc)
{
    x86_buf *b = c->b;
    enum memory_routine r = op == OP_MLOAD ? MR_MLOAD_COMPACT : MR_MSTORE_COMPACT;
    x86_lea_r64_m(b, RSI, R_SP, item(c, 0));
    add_fixup(c, x86_call_rel32(b), TO_MEMORY_ROUTINE, r);
    c->uses_memory_routine[r] = true;
    size_t over = x86_jmp_rel8(b);
    x86_put32(b, (uint32_t)(c->block_cost - c->spent));
    x86_put32(b, (uint32_t)next_pc);
    x86_patch_rel8(b, over, b->len);
    if (op == OP_MLOAD) {
        cache_hold(c, 0);
        c->dirty = true;
    } else {
        c->off -= 2;
        cache_drop(c);
    }
}

/* PUSH offset; MLOAD or MSTORE with a small offset: the bounds check is
 * one compare with the memory size; the helper (with the offset stored as
 * its operand) when it fails. */
static void emit_memory_constant(compiler *c, const jit_insn *in)
{
    x86_buf *b = c->b;
    int32_t offset = (int32_t)in->imm.w[0];
    cold_path *p = NULL;
    /* A frame's memory never shrinks: a bound this block has checked
     * already holds for every access below it (fast path or slow). */
    if (offset + 32 > c->memory_checked) {
        x86_cmp_m64_imm32(b, R_FRAME, JIT_OFFSET(frame, memory_size), offset + 32);
        p = new_cold_path(c, in->op, in->next_pc);
        p->push_imm = true;
        p->imm = in->imm;
        p->n_from = 1;
        p->from[0] = x86_jcc_rel32(b, CC_B);
        c->memory_checked = offset + 32;
        p->flush_top = in->op == OP_MSTORE && c->dirty && in_cache(c, 0);
    }
    x86_mov_r64_m64(b, RAX, R_FRAME, JIT_OFFSET(frame, memory));
    if (in->op == OP_MLOAD) {
        c->off++;
        load_memory_word(c, offset, 0);
    } else {
        store_memory_word(c, 0, offset);
        c->off--;
        cache_drop(c);
    }
    if (p) p->resume = b->len;
}

/* The slow path of an MLOAD or MSTORE fast path, out of line: a few
 * bytes that set the routine's registers (rsi the helper's stack top, ecx
 * the gas of the rest of the block, edx a folded offset), call the shared
 * routine, hand over at the next instruction when the rest of the block
 * can no longer be paid for (sign set), and go back. 30 bytes or so, where
 * the helper call made in place took about 100. */
static void emit_memory_slow_path(compiler *c, const cold_path *p)
{
    x86_buf *b = c->b;
    enum memory_routine r = (p->op == OP_MLOAD ? MR_MLOAD : MR_MSTORE) + (p->push_imm ? MR_MLOAD_CONST : 0);
    int32_t top = p->off + (p->push_imm ? 1 : 0);
    if (p->flush_top)
        for (int k = 0; k < 4; k++) x86_mov_m64_r64(b, R_SP, 32 * p->off + 8 * k, cache_reg[k]);
    x86_lea_r64_m(b, RSI, R_SP, 32 * top);
    if (p->push_imm) x86_mov_r64_imm(b, RDX, p->imm.w[0]);
    int64_t rest = p->block_cost - p->spent;
    if (rest)
        x86_mov_r64_imm(b, RCX, (uint64_t)rest);
    else
        x86_xor_r32_r32(b, RCX, RCX);
    add_fixup(c, x86_call_rel32(b), TO_MEMORY_ROUTINE, r);
    c->uses_memory_routine[r] = true;
    const opcode_info *info = &opcode_table[p->op];
    int32_t after = top + info->stack_out - info->stack_in;
    jcc_to(c, CC_S, TO_STUB, new_stub(c, (uint32_t)p->next_pc, after, rest));
    x86_patch_rel32(b, x86_jmp_rel32(b), p->resume);
}

_Static_assert((MEMORY_QUAD_COEFF_DIV & (MEMORY_QUAD_COEFF_DIV - 1)) == 0,
               "the quadratic memory cost divides with a shift");
_Static_assert(EVM_MAX_MEMORY <= (uint64_t)1 << 32, "a native growth's offset is below 2^32");

/* dst = the gas of `words` words of memory (evm_memory_cost), words below
 * 2^27: w^2 / D + G w is w (w + G D) / D, floors alike (G D w is a
 * multiple of D), one product where two took two and an add. */
static void emit_memory_cost(x86_buf *b, int dst, int words)
{
    x86_mov_r64_r64(b, dst, words);
    x86_alu_r64_imm(b, X86_ADD, dst, GAS_MEMORY_PER_WORD * MEMORY_QUAD_COEFF_DIV);
    x86_imul_r64_r64(b, dst, words);
    x86_shr_r64_imm8(b, dst, (uint8_t)__builtin_ctz(MEMORY_QUAD_COEFF_DIV));
}

/* The common growth of a word access done here, without the helper (its
 * call, saved registers and gas round trip were most of an access that
 * grows memory: structarray_alloc grows 20,000 times a call): the offset
 * below 2^32, the new size within the buffer, and the gas enough (the
 * bytes an earlier frame left past the memory are cleared here); anything else jumps to the returned rel32
 * positions (the helper, which decides). Then memory_size and the dirty
 * mark are set, the word read into r8..r11 or written from [rsi - 32], r12
 * lowered by the cost (sign set when the rest of the block can no longer
 * be paid for) and the routine returns. r8..r11 are free here: after an
 * MSTORE the fast path has dropped them, an MLOAD loads them. */
static void emit_memory_return(compiler *c, bool compact, size_t handovers[2], int *n_handovers);

static void emit_memory_growth(compiler *c, uint8_t op, bool known_offset, bool compact, size_t to_helper[8],
                               int *n_to_helper, size_t handovers[2], int *n_handovers)
{
    x86_buf *b = c->b;
    int n = 0;
    if (!known_offset) { /* a folded PUSH offset is small */
        x86_mov_r64_m64(b, RAX, RSI, 8);
        x86_alu_r64_m64(b, X86_OR, RAX, RSI, 16);
        x86_alu_r64_m64(b, X86_OR, RAX, RSI, 24);
        to_helper[n++] = x86_jcc_rel32(b, CC_NE);
    }
    x86_mov_r64_m64(b, RAX, RSI, 0); /* the offset */
    x86_mov_r64_r64(b, RDI, RAX);
    x86_shr_r64_imm8(b, RDI, 32);
    to_helper[n++] = x86_jcc_rel32(b, CC_NE);
    x86_lea_r64_m(b, RDI, RAX, 63);
    x86_alu_r64_imm(b, X86_AND, RDI, -32); /* the new size: whole words to offset + 32 */
    x86_mov_r64_m64(b, RDX, R_FRAME, JIT_OFFSET(frame, buffers));
    x86_alu_r64_m64(b, X86_CMP, RDI, RDX, JIT_OFFSET(frame_buffers, memory_cap));
    to_helper[n++] = x86_jcc_rel32(b, CC_A);
    x86_mov_r64_m64(b, R8, R_FRAME, JIT_OFFSET(frame, memory_size)); /* kept: the old size */
    x86_alu_r64_r64(b, X86_CMP, RDI, R8);
    to_helper[n++] = x86_jcc_rel32(b, x86_negate(CC_A)); /* no growth: the helper (never on these paths) */
    x86_mov_r64_r64(b, R9, R8);
    x86_shr_r64_imm8(b, R9, 5);
    emit_memory_cost(b, R10, R9);
    x86_mov_r64_r64(b, R9, RDI);
    x86_shr_r64_imm8(b, R9, 5);
    emit_memory_cost(b, R11, R9);
    x86_alu_r64_r64(b, X86_SUB, R11, R10); /* the cost */
    x86_lea_r64_base_index(b, R10, R_GAS, RCX); /* the exact gas */
    x86_alu_r64_r64(b, X86_CMP, R10, R11);
    to_helper[n++] = x86_jcc_rel32(b, CC_L); /* out of gas: the helper says so */
    /* rcx is free from here on: the helper is no longer called. The bytes
     * an earlier frame on this buffer left in [old size, min(dirty, new
     * size)) are cleared, a word at a time (sizes are whole words). */
    x86_mov_r64_m64(b, RCX, RDX, JIT_OFFSET(frame_buffers, memory_dirty));
    x86_alu_r64_r64(b, X86_CMP, RCX, RDI);
    size_t below_new = x86_jcc_rel8(b, CC_B);
    x86_mov_r64_r64(b, RCX, RDI);
    x86_patch_rel8(b, below_new, b->len);
    x86_alu_r64_r64(b, X86_CMP, RCX, R8);
    size_t clean = x86_jcc_rel8(b, x86_negate(CC_A));
    x86_mov_r64_m64(b, R9, R_FRAME, JIT_OFFSET(frame, memory));
    x86_alu_r64_r64(b, X86_ADD, R8, R9);
    x86_alu_r64_r64(b, X86_ADD, RCX, R9);
    x86_pxor_x_x(b, 2, 2);
    size_t clear = b->len;
    x86_movdqu_m_x(b, R8, 0, 2);
    x86_movdqu_m_x(b, R8, 16, 2);
    x86_alu_r64_imm(b, X86_ADD, R8, 32);
    x86_alu_r64_r64(b, X86_CMP, R8, RCX);
    x86_patch_rel8(b, x86_jcc_rel8(b, CC_B), clear);
    x86_patch_rel8(b, clean, b->len);
    x86_mov_m64_r64(b, R_FRAME, JIT_OFFSET(frame, memory_size), RDI);
    x86_alu_r64_m64(b, X86_CMP, RDI, RDX, JIT_OFFSET(frame_buffers, memory_dirty));
    size_t dirty_above = x86_jcc_rel8(b, x86_negate(CC_A));
    x86_mov_m64_r64(b, RDX, JIT_OFFSET(frame_buffers, memory_dirty), RDI);
    x86_patch_rel8(b, dirty_above, b->len);
    x86_alu_r64_m64(b, X86_ADD, RAX, R_FRAME, JIT_OFFSET(frame, memory));
    x86_alu_r64_r64(b, X86_SUB, R_GAS, R11); /* the flags survive the moves and bswaps below */
    if (op == OP_MLOAD) { /* in the stack too: a hand-over after it reads it there */
        for (int k = 0; k < 4; k++) {
            x86_mov_r64_m64(b, cache_reg[k], RAX, 24 - 8 * k);
            x86_bswap_r64(b, cache_reg[k]);
            x86_mov_m64_r64(b, RSI, 8 * k, cache_reg[k]);
        }
    } else {
        for (int k = 0; k < 4; k++) {
            x86_mov_r64_m64(b, RDX, RSI, -32 + 8 * k);
            x86_bswap_r64(b, RDX);
            x86_mov_m64_r64(b, RAX, 24 - 8 * k, RDX);
        }
    }
    emit_memory_return(c, compact, handovers, n_handovers);
    *n_to_helper = n;
}

/* The routine's return: for compact code, a hand-over first when the sign
 * is set (its rel32 positions go to handovers). */
static void emit_memory_return(compiler *c, bool compact, size_t handovers[2], int *n_handovers)
{
    if (compact) handovers[(*n_handovers)++] = x86_jcc_rel32(c->b, CC_S);
    x86_ret(c->b);
}

/* rdx = the return address's data of a compact access: `at` 2 (the gas
 * of the rest of the block) or 6 (the next pc), 32 bits zero-extended. */
static void read_site_data(x86_buf *b, int dst, int32_t at)
{
    x86_mov_r64_m64(b, dst, RSP, 0);
    x86_mov_r64_m64(b, dst, dst, at);
    x86_shl_r64_imm8(b, dst, 32);
    x86_shr_r64_imm8(b, dst, 32);
}

/* The routine the slow paths of one kind of MLOAD/MSTORE share, called
 * with rsi the helper's stack top, ecx the gas of the rest of the block,
 * edx the offset when it was a folded PUSH (stored here as the helper's
 * operand): frame->gas made exact, the helper called (rsp 16-byte aligned:
 * the call's return address and three words), a failure's status returned
 * from the frame (the return address dropped first), else r12 the gas
 * less the rest of the block (sign set when that is negative) and, for
 * MLOAD, the word read into r8..r11 as the fast path leaves it. The growth
 * is made here when it can be (emit_memory_growth). A compact access's
 * routine (MR_*_COMPACT) first makes the access itself when it is within
 * memory, takes the gas of the rest of the block from the call site's data,
 * and hands over itself. */
static void emit_memory_routine(compiler *c, enum memory_routine r)
{
    x86_buf *b = c->b;
    uint8_t op = (r == MR_MLOAD || r == MR_MLOAD_CONST || r == MR_MLOAD_COMPACT) ? OP_MLOAD : OP_MSTORE;
    bool known_offset = r == MR_MLOAD_CONST || r == MR_MSTORE_CONST;
    bool compact = r == MR_MLOAD_COMPACT || r == MR_MSTORE_COMPACT;
    if (known_offset) {
        x86_mov_m64_r64(b, RSI, 0, RDX);
        x86_xor_r32_r32(b, RAX, RAX);
        for (int k = 1; k < 4; k++) x86_mov_m64_r64(b, RSI, 8 * k, RAX);
    }
    size_t to_growth[3];
    if (compact) { /* the access within memory already paid for, as the fast path does it */
        x86_mov_r64_m64(b, RAX, RSI, 8);
        x86_alu_r64_m64(b, X86_OR, RAX, RSI, 16);
        x86_alu_r64_m64(b, X86_OR, RAX, RSI, 24);
        to_growth[0] = x86_jcc_rel32(b, CC_NE);
        x86_mov_r64_m64(b, RCX, R_FRAME, JIT_OFFSET(frame, memory_size));
        x86_alu_r64_imm(b, X86_SUB, RCX, 32);
        to_growth[1] = x86_jcc_rel32(b, CC_B);
        x86_mov_r64_m64(b, RAX, RSI, 0);
        x86_alu_r64_r64(b, X86_CMP, RAX, RCX);
        to_growth[2] = x86_jcc_rel32(b, CC_A);
        x86_alu_r64_m64(b, X86_ADD, RAX, R_FRAME, JIT_OFFSET(frame, memory));
        for (int k = 0; k < 4; k++) {
            if (op == OP_MLOAD) {
                x86_mov_r64_m64(b, cache_reg[k], RAX, 24 - 8 * k);
                x86_bswap_r64(b, cache_reg[k]);
            } else {
                x86_mov_r64_m64(b, RDX, RSI, -32 + 8 * k);
                x86_bswap_r64(b, RDX);
                x86_mov_m64_r64(b, RAX, 24 - 8 * k, RDX);
            }
        }
        x86_ret(b);
        for (int k = 0; k < 3; k++) x86_patch_rel32(b, to_growth[k], b->len);
        read_site_data(b, RCX, 2);
    }
    size_t to_helper[8], handovers[2];
    int n_to_helper, n_handovers = 0;
    emit_memory_growth(c, op, known_offset, compact, to_helper, &n_to_helper, handovers, &n_handovers);
    for (int k = 0; k < n_to_helper; k++) x86_patch_rel32(b, to_helper[k], b->len);
    x86_lea_r64_base_index(b, RAX, R_GAS, RCX);
    x86_mov_m64_r64(b, R_FRAME, JIT_OFFSET(frame, gas), RAX);
    x86_push_r64(b, RCX);
    x86_push_r64(b, RSI);
    x86_alu_r64_imm(b, X86_SUB, RSP, 8);
    x86_mov_r64_r64(b, RDI, R_FRAME);
    call_helper(c, op);
    x86_alu_r64_imm(b, X86_ADD, RSP, 8);
    x86_pop_r64(b, RSI);
    x86_pop_r64(b, RCX);
    x86_test_r32_r32(b, RAX, RAX); /* the status is 32 bits */
    size_t ok = x86_jcc_rel8(b, CC_E);
    x86_alu_r64_imm(b, X86_ADD, RSP, 8);
    jmp_to(c, TO_EPILOGUE, 0);
    bind_short(c, ok);
    x86_mov_r64_m64(b, R_GAS, R_FRAME, JIT_OFFSET(frame, gas));
    if (op == OP_MLOAD)
        for (int k = 0; k < 4; k++) x86_mov_r64_m64(b, cache_reg[k], RSI, 8 * k);
    x86_alu_r64_r64(b, X86_SUB, R_GAS, RCX);
    emit_memory_return(c, compact, handovers, &n_handovers);
    if (!compact) return;
    /* The hand-over at the next instruction (the rest of the block can no
     * longer be paid for), as a stub does it: r12 the frame's gas, rbx the
     * stack top after the access, edx the pc; the return address dropped. */
    for (int k = 0; k < n_handovers; k++) x86_patch_rel32(b, handovers[k], b->len);
    read_site_data(b, RCX, 2);
    x86_alu_r64_r64(b, X86_ADD, R_GAS, RCX);
    x86_lea_r64_m(b, R_SP, RSI, op == OP_MLOAD ? 0 : -64);
    read_site_data(b, RDX, 6);
    x86_alu_r64_imm(b, X86_ADD, RSP, 8);
    jmp_to(c, TO_PC_STUB, 0);
    c->uses_pc_stub = true;
}

/* The MUL of two words every such MUL calls (13 to 19 bytes a site where
 * the schoolbook product in place took about 170): r8..r11 = the low 256
 * bits of [rsi] * [rdi], ten products; rax, rdx clobbered. */
static void emit_mul_routine(compiler *c)
{
    x86_buf *b = c->b;
    for (int k = 0; k < 4; k++) x86_xor_r32_r32(b, cache_reg[k], cache_reg[k]);
    for (int i = 0; i < 4; i++)
        for (int j = 0; i + j < 4; j++) {
            bool top = i + j == 3; /* only the low half of the product counts */
            x86_mov_r64_m64(b, RAX, RSI, 8 * i);
            if (top)
                x86_imul_r64_m64(b, RAX, RDI, 8 * j);
            else
                x86_mul_m64(b, RDI, 8 * j);
            x86_alu_r64_r64(b, X86_ADD, cache_reg[i + j], RAX);
            if (top) continue;
            x86_alu_r64_r64(b, X86_ADC, cache_reg[i + j + 1], RDX);
            for (int k = i + j + 2; k < 4; k++) x86_alu_r64_imm(b, X86_ADC, cache_reg[k], 0);
        }
    x86_ret(b);
}

/* The MULMOD by 2^256 - 1 every such MULMOD calls (Uniswap's FullMath.mulDiv
 * takes the high half of a 512-bit product from mulmod(a, b, not(0))):
 * r8..r11 = [rsi] * [rdi] mod 2^256 - 1. As 2^256 = 1 modulo 2^256 - 1, the
 * product of limbs i and j is added at limb (i + j) mod 4, and a carry out
 * of the top limb counts 1 in rcx (an end-around carry); rcx is added last,
 * with its own carry (which cannot carry again), and 2^256 - 1 itself is 0.
 * Sixteen products; rax, rcx, rdx clobbered. */
static void emit_mulmod_ones_routine(compiler *c)
{
    x86_buf *b = c->b;
    const int *acc = cache_reg;
    for (int k = 0; k < 4; k++) x86_xor_r32_r32(b, acc[k], acc[k]);
    x86_xor_r32_r32(b, RCX, RCX);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            int k = (i + j) & 3;
            x86_mov_r64_m64(b, RAX, RSI, 8 * i);
            x86_mul_m64(b, RDI, 8 * j);
            x86_alu_r64_r64(b, X86_ADD, acc[k], RAX);
            if (k == 3) { /* the high limb wraps to limb 0 */
                x86_alu_r64_imm(b, X86_ADC, RCX, 0);
                x86_alu_r64_r64(b, X86_ADD, acc[0], RDX);
                for (int m = 1; m < 4; m++) x86_alu_r64_imm(b, X86_ADC, acc[m], 0);
            } else {
                x86_alu_r64_r64(b, X86_ADC, acc[k + 1], RDX);
                for (int m = k + 2; m < 4; m++) x86_alu_r64_imm(b, X86_ADC, acc[m], 0);
            }
            x86_alu_r64_imm(b, X86_ADC, RCX, 0);
        }
    x86_alu_r64_r64(b, X86_ADD, acc[0], RCX);
    for (int m = 1; m < 4; m++) x86_alu_r64_imm(b, X86_ADC, acc[m], 0);
    x86_setcc_r8(b, CC_B, RCX); /* the last carry, 0 or 1 (setcc and movzx keep the flags) */
    x86_movzx_r32_r8(b, RCX, RCX);
    x86_alu_r64_r64(b, X86_ADD, acc[0], RCX);
    for (int m = 1; m < 4; m++) x86_alu_r64_imm(b, X86_ADC, acc[m], 0);
    x86_mov_r64_r64(b, RAX, acc[0]);
    for (int m = 1; m < 4; m++) x86_alu_r64_r64(b, X86_AND, RAX, acc[m]);
    x86_alu_r64_imm(b, X86_CMP, RAX, -1);
    size_t not_ones = x86_jcc_rel8(b, CC_NE);
    for (int k = 0; k < 4; k++) x86_xor_r32_r32(b, acc[k], acc[k]);
    x86_patch_rel8(b, not_ones, b->len);
    x86_ret(b);
}

/* The slow paths, after the main code: each as the helper call its fast
 * path stands for, in that fast path's compile-time state, then back. */
static void emit_cold_paths(compiler *c)
{
    x86_buf *b = c->b;
    for (size_t i = 0; i < c->n_cold; i++) {
        const cold_path *p = &c->cold[i];
        for (size_t k = 0; k < p->n_from; k++) bind_near(c, p->from[k]);
        if (p->op == OP_MLOAD || p->op == OP_MSTORE) {
            emit_memory_slow_path(c, p);
            continue;
        }
        c->cached = c->dirty = false; /* the fast path wrote all back before the jump here */
        c->off = p->off;
        c->block_cost = p->block_cost;
        c->spent = p->spent;
        c->n_pending = 0, c->has_copies = false; /* the fast path's items were written back before it, or are not read here */
        if (p->push_imm) push_constant(c, &p->imm);
        emit_helper(c, p->op, (enum jit_op_kind)p->kind, p->next_pc);
        if (p->reload) /* the word in r8..r11, as the fast path leaves it */
            for (int k = 0; k < 4; k++) x86_mov_r64_m64(b, cache_reg[k], R_SP, item(c, 0) + 8 * k);
        x86_patch_rel32(b, x86_jmp_rel32(b), p->resume);
    }
}

/* ------------------------------------------------------ fused arithmetic */

/* k when v == 2^k, else -1. */
static int power_of_two_exponent(const u256 *v)
{
    int k = -1;
    for (int i = 0; i < 4; i++) {
        uint64_t w = v->w[i];
        if (!w) continue;
        if (k >= 0 || (w & (w - 1))) return -1;
        k = 64 * i + __builtin_ctzll(w);
    }
    return k;
}

/* An operand of a two-word operation: a stack item in memory (or r8..r11),
 * or a constant: a PUSH folded into the instruction after it (item -1), or
 * a stack item the virtual stack knows. */
typedef struct {
    bool is_const;
    int item; /* where the word is read: a copy's source */
    u256 value;
    int own;      /* the stack item it is */
    bool is_copy; /* a copy in the virtual stack, read at its source */
} operand;

static operand stack_operand(const compiler *c, int item)
{
    int k = pending_index(c, item);
    if (k >= 0 && !c->pending[k].is_copy)
        return (operand){.is_const = true, .item = item, .value = c->pending[k].value, .own = item};
    if (k >= 0) return (operand){.item = c->off - c->pending[k].src, .own = item, .is_copy = true};
    return (operand){.item = item, .own = item};
}

/* A constant or copied operand that is a stack item, written to memory:
 * from here on an operand like any other item. */
static void operand_to_memory(compiler *c, operand *o)
{
    if (!(o->is_const || o->is_copy) || o->own < 0) return;
    materialize_item(c, o->own);
    o->is_const = o->is_copy = false;
    o->item = o->own;
}

static bool operand_cached(const compiler *c, const operand *o) { return !o->is_const && in_cache(c, o->item); }

/* reg = limb k of an operand. */
static void load_operand(compiler *c, int reg, const operand *o, int k)
{
    if (o->is_const)
        x86_mov_r64_imm(c->b, reg, o->value.w[k]);
    else if (operand_cached(c, o)) {
        if (reg != cache_reg[k]) x86_mov_r64_r64(c->b, reg, cache_reg[k]);
    } else
        x86_mov_r64_m64(c->b, reg, R_SP, item(c, o->item) + 8 * k);
}

/* reg (op)= limb k of an operand; rcx is scratch for wide constants. */
static void alu_operand(compiler *c, enum x86_alu op, int reg, const operand *o, int k)
{
    if (operand_cached(c, o)) {
        x86_alu_r64_r64(c->b, op, reg, cache_reg[k]);
        return;
    }
    if (!o->is_const) {
        x86_alu_r64_m64(c->b, op, reg, R_SP, item(c, o->item) + 8 * k);
        return;
    }
    uint64_t v = o->value.w[k];
    if ((int64_t)v == (int64_t)(int32_t)v) {
        x86_alu_r64_imm(c->b, op, reg, (int32_t)v);
    } else {
        x86_mov_r64_imm(c->b, RCX, v);
        x86_alu_r64_r64(c->b, op, reg, RCX);
    }
}

/* The operands of unit `in` (an arithmetic or comparison instruction): a
 * folded constant and the top item, the top item alone (ISZERO), or the
 * top two; *dest the item the result goes to, *pops the items it removes
 * besides. */
static void unit_operands(const compiler *c, const jit_insn *in, operand *a, operand *b, int *dest, int *pops)
{
    if (in->has_imm) {
        *a = (operand){.is_const = true, .item = -1, .value = in->imm, .own = -1};
        *b = stack_operand(c, 0);
        *dest = 0, *pops = 0;
    } else if (in->op == OP_ISZERO) {
        *a = *b = stack_operand(c, 0);
        *dest = 0, *pops = 0;
    } else {
        *a = stack_operand(c, 0), *b = stack_operand(c, 1);
        *dest = 1, *pops = 1;
    }
}

/* The EVM's a op b, for an arithmetic or comparison op on two constants
 * (known at compile time). */
static u256 fold(uint8_t op, const u256 *a, const u256 *b)
{
    switch (op) {
    case OP_ADD: return u256_add(a, b);
    case OP_SUB: return u256_sub(a, b);
    case OP_MUL: return u256_mul(a, b);
    case OP_DIV: return u256_div(a, b);
    case OP_MOD: return u256_mod(a, b);
    case OP_SDIV: return u256_sdiv(a, b);
    case OP_SMOD: return u256_smod(a, b);
    case OP_AND: return u256_and(a, b);
    case OP_OR: return u256_or(a, b);
    case OP_XOR: return u256_xor(a, b);
    case OP_LT: return u256_from_u64(u256_lt(a, b));
    case OP_GT: return u256_from_u64(u256_lt(b, a));
    case OP_SLT: return u256_from_u64(u256_slt(a, b));
    case OP_SGT: return u256_from_u64(u256_slt(b, a));
    case OP_EQ: return u256_from_u64(u256_eq(a, b));
    case OP_ISZERO: return u256_from_u64(u256_is_zero(a));
    case OP_SHL: return u256_shl(a, b);
    case OP_SHR: return u256_shr(a, b);
    default: return u256_sar(a, b); /* OP_SAR */
    }
}

/* r8..r11 mod 2^keep_bits (keep_bits <= 256): the limbs above cleared, the
 * one it cuts masked (rcx scratch). */
static void keep_low_bits(compiler *c, int keep_bits)
{
    for (int k = 0; k < 4; k++) {
        int bits = keep_bits - 64 * k;
        if (bits >= 64) continue;
        if (bits <= 0) {
            x86_xor_r32_r32(c->b, cache_reg[k], cache_reg[k]);
        } else if (bits < 32) {
            x86_alu_r64_imm(c->b, X86_AND, cache_reg[k], (int32_t)((1u << bits) - 1));
        } else {
            x86_mov_r64_imm(c->b, RCX, ((uint64_t)1 << bits) - 1);
            x86_alu_r64_r64(c->b, X86_AND, cache_reg[k], RCX);
        }
    }
}

/* ADD, SUB, AND, OR, XOR: a op b (mod 2^keep_bits: ADDMOD by a power of
 * two) into stack item `dest`, which becomes the cached word (computed in
 * r8..r11, then stored). */
static void emit_arith(compiler *c, uint8_t op, const operand *a, const operand *b, int dest, int keep_bits)
{
    enum x86_alu first, next;
    switch (op) {
    case OP_ADD: first = X86_ADD, next = X86_ADC; break;
    case OP_SUB: first = X86_SUB, next = X86_SBB; break;
    case OP_AND: first = next = X86_AND; break;
    case OP_OR: first = next = X86_OR; break;
    default: first = next = X86_XOR; break;
    }
    if (op != OP_SUB && (operand_cached(c, b) || (a->is_const && !b->is_const))) {
        /* commutative: work on the cached one in place, or take the
         * constant as the immediates (adc r, 0: 4 bytes; mov r32, 0 then
         * adc r, [m]: 10) */
        const operand *t = a;
        a = b;
        b = t;
    }
    if (c->cached && c->dirty && c->cache_pos < c->off - dest) flush_cache(c); /* r8..r11 get the result: a word that stays below it is stored */
    bool a_cached = operand_cached(c, a), b_cached = operand_cached(c, b);
    for (int k = 0; k < 4; k++) { /* mov leaves the carry alone */
        if (b_cached) { /* SUB from the cached word: through rax */
            load_operand(c, RAX, a, k);
            alu_operand(c, k ? next : first, RAX, b, k);
            x86_mov_r64_r64(c->b, cache_reg[k], RAX);
        } else {
            if (!a_cached) load_operand(c, cache_reg[k], a, k);
            alu_operand(c, k ? next : first, cache_reg[k], b, k);
        }
    }
    keep_low_bits(c, keep_bits);
    cache_hold(c, dest);
    c->dirty = true; /* stored when needed */
}

/* MUL: the low 256 bits of a * b (mod 2^keep_bits: MULMOD by a power of
 * two) into stack item `dest`, schoolbook, with the products of a
 * constant's zero limbs and of limbs above keep_bits left out. */
static void emit_mul(compiler *c, const operand *a, const operand *b, int dest, int keep_bits)
{
    x86_buf *bf = c->b;
    cache_drop(c); /* r8..r11 are the accumulators: operands from memory */
    if (!a->is_const && !b->is_const && keep_bits == 256) { /* two words: the shared routine */
        x86_lea_r64_m(bf, RSI, R_SP, item(c, a->item));
        x86_lea_r64_m(bf, RDI, R_SP, item(c, b->item));
        add_fixup(c, x86_call_rel32(bf), TO_MUL_ROUTINE, 0);
        c->uses_mul_routine = true;
        cache_hold(c, dest);
        c->dirty = true; /* stored when needed */
        return;
    }
    if (a->is_const) { /* the constant, if any, as b: multiplied from rcx */
        const operand *t = a;
        a = b;
        b = t;
    }
    const int *acc = cache_reg;
    for (int k = 0; k < 4; k++) x86_xor_r32_r32(bf, acc[k], acc[k]); /* 3 bytes, where mov r32, 0 takes 6 */
    int limbs = (keep_bits + 63) / 64; /* of the result that count */
    for (int i = 0; i < limbs; i++) {
        for (int j = 0; i + j < limbs; j++) {
            if (b->is_const && b->value.w[j] == 0) continue;
            if (a->is_const && a->value.w[i] == 0) continue;
            load_operand(c, RAX, a, i);
            bool top = i + j == limbs - 1; /* only the low half of the product counts */
            if (b->is_const) {
                x86_mov_r64_imm(bf, RCX, b->value.w[j]);
                if (top)
                    x86_imul_r64_r64(bf, RAX, RCX);
                else
                    x86_mul_r64(bf, RCX);
            } else if (top) {
                x86_imul_r64_m64(bf, RAX, R_SP, item(c, b->item) + 8 * j);
            } else {
                x86_mul_m64(bf, R_SP, item(c, b->item) + 8 * j);
            }
            x86_alu_r64_r64(bf, X86_ADD, acc[i + j], RAX);
            if (!top) {
                x86_alu_r64_r64(bf, X86_ADC, acc[i + j + 1], RDX);
                for (int k = i + j + 2; k < limbs; k++) x86_alu_r64_imm(bf, X86_ADC, acc[k], 0);
            }
        }
    }
    keep_low_bits(c, keep_bits);
    cache_hold(c, dest);
    c->dirty = true; /* stored when needed */
}

/* The 128-by-64 divisions of a dividend by rcx (not zero), its high limb
 * first, each remainder carried in rdx into the next: with `quotient`,
 * r8..r11 = the quotient; rdx = the remainder. The dividend is `a`, or
 * with a NULL, r8..r11 themselves. Most dividends are far below 2^256 (a
 * fixed-point number, an amount, an offset): a division of a zero top limb
 * gives 0 and leaves rdx 0, so those divisions are skipped, at run time
 * (two tests pick where to start: limb 3 when limb 3 or 2 is not zero,
 * limb 1 when limb 1 is not, else limb 0), or at compile time for a known
 * dividend. A skipped limb of the quotient is 0: r8..r11 are zeroed first
 * unless they hold the dividend, whose skipped limbs are 0. Each div is
 * serial (rdx) and slow, so snailtracer's SDIVs of 128-bit magnitudes take
 * two where they took four. rax clobbered. */
static void emit_div_steps(compiler *c, bool quotient, const operand *a)
{
    x86_buf *bf = c->b;
    bool in_regs = !a || operand_cached(c, a);
#define DIVIDEND_LIMB(k) (a ? load_operand(c, RAX, a, (k)) : x86_mov_r64_r64(bf, RAX, cache_reg[k]))
    int top = 3;
    if (a && a->is_const)
        while (top > 0 && a->value.w[top] == 0) top--;
    bool skip = !(a && a->is_const);
    if (quotient && !in_regs) /* the limbs that may be skipped: 1..3 at run time, those above top when known */
        for (int k = skip ? 1 : top + 1; k < 4; k++) x86_xor_r32_r32(bf, cache_reg[k], cache_reg[k]);
    x86_xor_r32_r32(bf, RDX, RDX);
    size_t to_limb3 = 0, to_limb1 = 0, to_limb0 = 0;
    if (skip) {
        DIVIDEND_LIMB(3);
        if (a)
            alu_operand(c, X86_OR, RAX, a, 2);
        else
            x86_alu_r64_r64(bf, X86_OR, RAX, cache_reg[2]);
        to_limb3 = x86_jcc_rel8(bf, CC_NE);
        DIVIDEND_LIMB(1);
        x86_test_r64_r64(bf, RAX, RAX);
        to_limb1 = x86_jcc_rel8(bf, CC_NE);
        to_limb0 = x86_jmp_rel8(bf);
    }
    for (int k = top; k >= 0; k--) { /* limb k of a is read before r8..r11's limb k is written */
        if (skip && k == 3) bind_short(c, to_limb3);
        if (skip && k == 1) bind_short(c, to_limb1);
        if (skip && k == 0) bind_short(c, to_limb0);
        DIVIDEND_LIMB(k);
        x86_div_r64(bf, RCX);
        if (quotient) x86_mov_r64_r64(bf, cache_reg[k], RAX);
    }
#undef DIVIDEND_LIMB
}

/* a / rcx or a % rcx (rcx not zero) into stack item `dest`, which becomes
 * the cached word. */
static void emit_div_limbs(compiler *c, uint8_t op, const operand *a, int dest)
{
    x86_buf *bf = c->b;
    emit_div_steps(c, op == OP_DIV, a);
    if (op == OP_MOD) {
        x86_mov_r64_r64(bf, cache_reg[0], RDX);
        for (int k = 1; k < 4; k++) x86_xor_r32_r32(bf, cache_reg[k], cache_reg[k]);
    }
    cache_hold(c, dest);
    c->dirty = true; /* stored when needed (a slow path's helper stored it: the same word) */
}

/* The helper behind a division's fast path (whose jumps to it the caller
 * records in from[0..2)): the operands the virtual stack knows are written
 * to memory first, where the helper reads them (a folded PUSH is stored by
 * the slow path itself). */
static cold_path *division_slow_path(compiler *c, const jit_insn *in, operand *a, operand *b)
{
    operand_to_memory(c, a);
    operand_to_memory(c, b);
    cold_path *p = new_cold_path(c, in->op, in->next_pc);
    p->kind = JIT_STACK;
    p->reload = true;
    p->push_imm = in->has_imm;
    p->imm = in->imm;
    p->n_from = 2;
    return p;
}

/* r8..r11 = (r8..r11 ^ m) - m: negated when m (a register) is all ones,
 * unchanged when 0. Subtracting the word whose limbs are all m subtracts -1
 * or 0. */
static void negate_if(compiler *c, int m)
{
    for (int k = 0; k < 4; k++) x86_alu_r64_r64(c->b, X86_XOR, cache_reg[k], m);
    for (int k = 0; k < 4; k++) x86_alu_r64_r64(c->b, k ? X86_SBB : X86_SUB, cache_reg[k], m);
}

/* SDIV, SMOD: on magnitudes, when the divisor's fits 64 bits (and is not
 * zero): |a| / |b| or |a| % |b| by four div instructions, then the sign
 * (SDIV: a's and b's differ; SMOD: a's). -2^255 / -1 comes out as -2^255,
 * as the EVM wants. Other divisors: the helper, out of line. */
static void emit_signed_divmod(compiler *c, const jit_insn *in, const operand *a, const operand *b, int dest)
{
    x86_buf *bf = c->b;
    operand a_mem = *a, b_mem = *b;
    cold_path *p = division_slow_path(c, in, &a_mem, &b_mem);
    a = &a_mem, b = &b_mem;
    load_operand(c, RDX, b, 3); /* rdx = b's sign mask */
    x86_sar_r64_imm8(bf, RDX, 63);
    load_operand(c, RCX, b, 1); /* |b| fits 64 bits: b's limbs 1..3 are all the sign */
    x86_alu_r64_r64(bf, X86_XOR, RCX, RDX);
    for (int k = 2; k < 4; k++) {
        load_operand(c, RAX, b, k);
        x86_alu_r64_r64(bf, X86_XOR, RAX, RDX);
        x86_alu_r64_r64(bf, X86_OR, RCX, RAX);
    }
    size_t wide = 0, narrow = 0;
    bool try_wide = !a->is_const && !b->is_const; /* both in memory (a folded PUSH is not) */
    if (try_wide) {
        narrow = x86_jcc_rel8(bf, CC_E);
        x86_lea_r64_m(bf, RSI, R_SP, item(c, a->item));
        x86_lea_r64_m(bf, RDI, R_SP, item(c, b->item));
        int w = in->op == OP_SMOD;
        add_fixup(c, x86_call_rel32(bf), TO_SIGNED_WIDE_ROUTINE, (uint32_t)w);
        c->uses_signed_wide_routine[w] = true;
        p->from[0] = x86_jcc_rel32(bf, CC_NE); /* not 128 bits: the helper */
        wide = x86_jmp_rel32(bf);
        x86_patch_rel8(bf, narrow, bf->len);
    } else {
        p->from[0] = x86_jcc_rel32(bf, CC_NE);
    }
    load_operand(c, RCX, b, 0); /* rcx = |b|, 0 also for -2^64k */
    x86_alu_r64_r64(bf, X86_XOR, RCX, RDX);
    x86_alu_r64_r64(bf, X86_SUB, RCX, RDX);
    p->from[1] = x86_jcc_rel32(bf, CC_E);
    load_operand(c, RSI, a, 3); /* rsi = a's sign mask, rdi = the result's */
    x86_sar_r64_imm8(bf, RSI, 63);
    x86_mov_r64_r64(bf, RDI, RSI);
    if (in->op == OP_SDIV) x86_alu_r64_r64(bf, X86_XOR, RDI, RDX);
    for (int k = 0; k < 4; k++) load_operand(c, cache_reg[k], a, k); /* b is read: r8..r11 are free */
    negate_if(c, RSI);
    emit_div_steps(c, in->op == OP_SDIV, NULL);
    if (in->op == OP_SMOD) {
        x86_mov_r64_r64(bf, cache_reg[0], RDX);
        for (int k = 1; k < 4; k++) x86_xor_r32_r32(bf, cache_reg[k], cache_reg[k]);
    }
    negate_if(c, RDI);
    cache_hold(c, dest);
    c->dirty = true; /* stored when needed (a slow path's helper stored it: the same word) */
    p->resume = bf->len;
    if (try_wide) x86_patch_rel32(bf, wide, p->resume);
}

/* The two ends of a shared routine: returns with ZF set (done) here, and
 * with ZF clear (the caller goes to the helper) from each of the n jumps
 * in fail[]. */
static void emit_routine_ends(x86_buf *b, const size_t *fail, int n)
{
    x86_xor_r32_r32(b, RAX, RAX);
    x86_ret(b);
    for (int k = 0; k < n; k++) x86_patch_rel32(b, fail[k], b->len);
    x86_mov_r64_imm(b, RAX, 1);
    x86_test_r32_r32(b, RAX, RAX);
    x86_ret(b);
}

/* The magnitude of the word at [src] into hi:lo and its sign (0 or -1)
 * into `sign`, when the word is a signed 128-bit value: limbs 2 and 3 its
 * sign, and limb 1 too in its top bit; else a jump to be patched to the
 * helper path, added to fail[] (src is read before lo is written, so lo may
 * be src). rax clobbered. Returns the new count of fail[]. */
static int emit_abs_signed128(x86_buf *b, int src, int sign, int hi, int lo, size_t *fail, int n)
{
    x86_mov_r64_m64(b, sign, src, 24);
    x86_sar_r64_imm8(b, sign, 63);
    for (int k = 2; k < 4; k++) {
        x86_mov_r64_m64(b, RAX, src, 8 * k);
        x86_alu_r64_r64(b, X86_XOR, RAX, sign);
        fail[n++] = x86_jcc_rel32(b, CC_NE);
    }
    x86_mov_r64_m64(b, hi, src, 8);
    x86_alu_r64_r64(b, X86_XOR, hi, sign);
    fail[n++] = x86_jcc_rel32(b, CC_S);
    x86_mov_r64_m64(b, lo, src, 0);
    x86_alu_r64_r64(b, X86_XOR, lo, sign);
    x86_alu_r64_r64(b, X86_SUB, lo, sign);
    x86_alu_r64_r64(b, X86_SBB, hi, sign);
    return n;
}

/* The SDIV (or SMOD) of [rsi] by [rdi] whose divisor's magnitude is over 64
 * bits, when both are signed 128-bit words (snailtracer's fixed-point
 * divisions): r8..r11 the result and ZF set; ZF clear when they are not
 * (the caller then calls the helper). |a| / |b| is one 128-by-64 division
 * of |a| / 2 by the top 64 bits of |b| normalized, the estimate shifted
 * back and lowered by one, then corrected by at most one (Hacker's Delight,
 * divlu), the remainder |a| - q * |b|; then the sign as the 64-bit path
 * applies it. rax, rcx, rdx, rsi, rdi clobbered. */
static void emit_signed_wide_routine(compiler *c, uint8_t op)
{
    x86_buf *b = c->b;
    size_t fail[8];
    int n = 0;
    n = emit_abs_signed128(b, RSI, R10, R9, R8, fail, n);  /* r9:r8 = |a|, r10 its sign */
    n = emit_abs_signed128(b, RDI, R11, RCX, RSI, fail, n); /* rcx:rsi = |b|, r11 its sign */
    fail[n++] = x86_jcc_rel32(b, CC_E); /* |b| fits 64 bits: not this path's */
    if (op == OP_SDIV) x86_alu_r64_r64(b, X86_XOR, R10, R11); /* r10 = the result's sign */
    /* rdi = |b|'s top 64 bits normalized, cl = the shift (63 - its top bit) */
    x86_mov_r64_r64(b, R11, RCX); /* r11:rsi = |b| */
    x86_bsr_r64_r64(b, RAX, RCX);
    x86_mov_r64_imm(b, RCX, 63);
    x86_alu_r64_r64(b, X86_SUB, RCX, RAX);
    x86_mov_r64_r64(b, RDI, R11);
    x86_shld_r64_r64_cl(b, RDI, RSI);
    /* rax = (|a| / 2) / rdi (below 2^64: |a| / 2 < 2^127, rdi >= 2^63) */
    x86_mov_r64_r64(b, RAX, R8);
    x86_shrd_r64_r64_imm8(b, RAX, R9, 1);
    x86_mov_r64_r64(b, RDX, R9);
    x86_shr_r64_imm8(b, RDX, 1);
    x86_div_r64(b, RDI);
    /* q = rax >> (63 - shift), less one unless zero */
    x86_alu_r64_imm(b, X86_XOR, RCX, 63);
    x86_xor_r32_r32(b, RDX, RDX);
    x86_shrd_r64_r64_cl(b, RAX, RDX);
    x86_alu_r64_imm(b, X86_CMP, RAX, 1);
    x86_alu_r64_imm(b, X86_ADC, RAX, -1);
    /* r9:r8 = |a| - q * |b|; once more |b| off it (q one more) when it is still >= |b| */
    x86_mov_r64_r64(b, RDI, RAX);
    x86_mul_r64(b, RSI);
    x86_alu_r64_r64(b, X86_SUB, R8, RAX);
    x86_alu_r64_r64(b, X86_SBB, R9, RDX);
    x86_mov_r64_r64(b, RAX, RDI);
    x86_imul_r64_r64(b, RAX, R11);
    x86_alu_r64_r64(b, X86_SUB, R9, RAX);
    x86_mov_r64_r64(b, RAX, R8);
    x86_mov_r64_r64(b, RDX, R9);
    x86_alu_r64_r64(b, X86_SUB, RAX, RSI);
    x86_alu_r64_r64(b, X86_SBB, RDX, R11);
    size_t below = x86_jcc_rel8(b, CC_B);
    x86_mov_r64_r64(b, R8, RAX);
    x86_mov_r64_r64(b, R9, RDX);
    x86_alu_r64_imm(b, X86_ADD, RDI, 1);
    x86_patch_rel8(b, below, b->len);
    x86_mov_r64_r64(b, RDX, R10); /* the sign mask */
    if (op == OP_SDIV) {
        x86_mov_r64_r64(b, R8, RDI);
        x86_xor_r32_r32(b, R9, R9);
    }
    x86_xor_r32_r32(b, R10, R10);
    x86_xor_r32_r32(b, R11, R11);
    negate_if(c, RDX);
    emit_routine_ends(b, fail, n);
}

/* DIV, MOD by a known 2^k into stack item `dest`, which becomes the cached
 * word: a >> k limb by limb (double shifts, ascending, so each limb of a
 * is read before its register is written when a is the cached word), or
 * the low k bits of a. sha1_divs shifts by dividing by 2^32..2^224. */
static void emit_divmod_by_power_of_two(compiler *c, uint8_t op, const operand *a, int k, int dest)
{
    x86_buf *bf = c->b;
    if (op == OP_MOD) {
        for (int i = 0; i < 4; i++) load_operand(c, cache_reg[i], a, i);
        keep_low_bits(c, k);
    } else {
        int limbs = k / 64, bits = k % 64;
        for (int i = 0; i < 4; i++) {
            int lo = i + limbs, hi = lo + 1;
            if (lo > 3) {
                x86_xor_r32_r32(bf, cache_reg[i], cache_reg[i]);
                continue;
            }
            load_operand(c, RAX, a, lo);
            if (bits && hi <= 3) {
                load_operand(c, RDX, a, hi);
                x86_shrd_r64_r64_imm8(bf, RAX, RDX, (uint8_t)bits);
            } else if (bits) {
                x86_shr_r64_imm8(bf, RAX, (uint8_t)bits);
            }
            x86_mov_r64_r64(bf, cache_reg[i], RAX);
        }
    }
    cache_hold(c, dest);
    c->dirty = true; /* stored when needed (a slow path's helper stored it: the same word) */
}

/* DIV, MOD: a / b or a % b into stack item `dest`, which becomes the cached
 * word. A known power of two is a shift or a mask. A divisor that fits 64 bits (and is not zero) takes four 128-by-64
 * divisions, the dividend's high limb first, each remainder carried in rdx
 * into the next; any other divisor goes to the helper, out of line. */
static void emit_divmod(compiler *c, const jit_insn *in, const operand *a, const operand *b, int dest)
{
    x86_buf *bf = c->b;
    int k = b->is_const ? power_of_two_exponent(&b->value) : -1;
    if (k >= 0) {
        emit_divmod_by_power_of_two(c, in->op, a, k, dest);
        return;
    }
    if (b->is_const && u256_fits_u64(&b->value) && b->value.w[0]) { /* a known divisor: no checks, no slow path */
        x86_mov_r64_imm(bf, RCX, b->value.w[0]);
        emit_div_limbs(c, in->op, a, dest);
        return;
    }
    operand a_mem = *a, b_mem = *b;
    cold_path *p = division_slow_path(c, in, &a_mem, &b_mem);
    a = &a_mem, b = &b_mem;
    load_operand(c, RCX, b, 1); /* b is a stack item (a folded PUSH is a) */
    for (int k = 2; k < 4; k++) alu_operand(c, X86_OR, RCX, b, k);
    size_t wide = 0;
    bool try_power = !a->is_const && !b->is_const; /* both in memory */
    if (try_power) { /* a divisor over 64 bits: a power of two in the shared routine, else the helper */
        size_t narrow = x86_jcc_rel8(bf, CC_E);
        x86_lea_r64_m(bf, RSI, R_SP, item(c, a->item));
        x86_lea_r64_m(bf, RDI, R_SP, item(c, b->item));
        int w = in->op == OP_MOD;
        add_fixup(c, x86_call_rel32(bf), TO_POWER_OF_TWO_ROUTINE, (uint32_t)w);
        c->uses_power_of_two_routine[w] = true;
        p->from[0] = x86_jcc_rel32(bf, CC_NE);
        wide = x86_jmp_rel32(bf);
        x86_patch_rel8(bf, narrow, bf->len);
    } else {
        p->from[0] = x86_jcc_rel32(bf, CC_NE);
    }
    load_operand(c, RCX, b, 0);
    x86_test_r64_r64(bf, RCX, RCX);
    p->from[1] = x86_jcc_rel32(bf, CC_E); /* by zero: the helper's 0 */
    emit_div_limbs(c, in->op, a, dest);
    p->resume = bf->len;
    if (try_power) x86_patch_rel32(bf, wide, p->resume);
}

/* The DIV (or MOD) of [rsi] by [rdi], a divisor over 64 bits, when that
 * divisor is a power of two 2^k known only at run time (swap_math divides
 * by 2^96 so): r8..r11 = a >> k (whole limbs, then a double shift by
 * k mod 64) or a & (2^k - 1), and ZF set; ZF clear for any other divisor
 * (the caller then calls the helper). rax, rcx clobbered. */
static void emit_power_of_two_routine(compiler *c, uint8_t op)
{
    x86_buf *b = c->b;
    /* b & (b - 1) == 0: one bit set (b is not zero: its high limbs are not) */
    for (int k = 0; k < 4; k++) {
        x86_mov_r64_m64(b, cache_reg[k], RDI, 8 * k);
        if (k == 0)
            x86_alu_r64_imm(b, X86_SUB, cache_reg[k], 1);
        else
            x86_alu_r64_imm(b, X86_SBB, cache_reg[k], 0);
    }
    if (op == OP_MOD) { /* b - 1 is the mask: keep it */
        x86_mov_r64_r64(b, RAX, cache_reg[0]);
        x86_alu_r64_m64(b, X86_AND, RAX, RDI, 0);
        for (int k = 1; k < 4; k++) {
            x86_mov_r64_r64(b, RCX, cache_reg[k]);
            x86_alu_r64_m64(b, X86_AND, RCX, RDI, 8 * k);
            x86_alu_r64_r64(b, X86_OR, RAX, RCX);
        }
        size_t fail = x86_jcc_rel32(b, CC_NE);
        for (int k = 0; k < 4; k++) x86_alu_r64_m64(b, X86_AND, cache_reg[k], RSI, 8 * k);
        emit_routine_ends(b, &fail, 1);
        return;
    }
    for (int k = 0; k < 4; k++) x86_alu_r64_m64(b, X86_AND, cache_reg[k], RDI, 8 * k);
    for (int k = 1; k < 4; k++) x86_alu_r64_r64(b, X86_OR, cache_reg[0], cache_reg[k]);
    size_t fail = x86_jcc_rel32(b, CC_NE);
    /* ecx = k: 64 * the limb of the bit plus its index (limbs 1..3) */
    size_t found[2];
    for (int k = 3; k >= 2; k--) {
        x86_mov_r64_m64(b, RAX, RDI, 8 * k);
        x86_mov_r64_imm(b, RCX, (uint64_t)(64 * k)); /* a mov: the flags of the test survive */
        x86_test_r64_r64(b, RAX, RAX);
        found[3 - k] = x86_jcc_rel8(b, CC_NE);
    }
    x86_mov_r64_m64(b, RAX, RDI, 8);
    x86_mov_r64_imm(b, RCX, 64);
    for (int k = 0; k < 2; k++) x86_patch_rel8(b, found[k], b->len);
    x86_bsr_r64_r64(b, RAX, RAX);
    x86_alu_r64_r64(b, X86_ADD, RCX, RAX);
    /* a >> k: a limb down while k >= 64 (at least once), then by k mod 64 */
    for (int k = 0; k < 4; k++) x86_mov_r64_m64(b, cache_reg[k], RSI, 8 * k);
    size_t limb = b->len;
    for (int k = 0; k < 3; k++) x86_mov_r64_r64(b, cache_reg[k], cache_reg[k + 1]);
    x86_xor_r32_r32(b, cache_reg[3], cache_reg[3]);
    x86_alu_r64_imm(b, X86_SUB, RCX, 64);
    x86_alu_r64_imm(b, X86_CMP, RCX, 64);
    x86_patch_rel8(b, x86_jcc_rel8(b, CC_AE), limb);
    x86_xor_r32_r32(b, RAX, RAX);
    for (int k = 0; k < 4; k++) x86_shrd_r64_r64_cl(b, cache_reg[k], k < 3 ? cache_reg[k + 1] : RAX);
    emit_routine_ends(b, &fail, 1);
}

/* SHL by a constant amount of the word at displacement d, in place. */
static void emit_shl(compiler *c, int32_t d, unsigned limbs, unsigned bits)
{
    x86_buf *b = c->b;
    for (int k = 3; k >= 0; k--) {
        int hi = k - (int)limbs, lo = hi - 1;
        if (hi < 0) {
            x86_mov_m64_imm32(b, R_SP, d + 8 * k, 0);
            continue;
        }
        x86_mov_r64_m64(b, RAX, R_SP, d + 8 * hi);
        if (bits) {
            if (lo >= 0) {
                x86_mov_r64_m64(b, RDX, R_SP, d + 8 * lo);
                x86_shld_r64_r64_imm8(b, RAX, RDX, (uint8_t)bits);
            } else {
                x86_shl_r64_imm8(b, RAX, (uint8_t)bits);
            }
        }
        x86_mov_m64_r64(b, R_SP, d + 8 * k, RAX);
    }
}

/* SHL, SHR, SAR by a constant amount of the word in stack item `x`, in place. */
static void emit_shift(compiler *c, uint8_t op, const u256 *amount, int x)
{
    x86_buf *b = c->b;
    cache_forget(c, x);
    int32_t d = item(c, x);
    bool all = !u256_fits_u64(amount) || amount->w[0] >= 256;
    unsigned n = all ? 256 : (unsigned)amount->w[0];
    unsigned limbs = n / 64, bits = n % 64;
    if (op == OP_SHL) {
        emit_shl(c, d, limbs, bits);
        return;
    }
    if (op == OP_SAR) { /* rsi = the fill: 0 or all ones */
        x86_mov_r64_m64(b, RSI, R_SP, d + 24);
        x86_sar_r64_imm8(b, RSI, 63);
    }
    for (int k = 0; k < 4; k++) { /* SHR, SAR */
        int lo = k + (int)limbs, hi = lo + 1;
        if (lo > 3) {
            if (op == OP_SAR)
                x86_mov_m64_r64(b, R_SP, d + 8 * k, RSI);
            else
                x86_mov_m64_imm32(b, R_SP, d + 8 * k, 0);
            continue;
        }
        x86_mov_r64_m64(b, RAX, R_SP, d + 8 * lo);
        if (bits) {
            if (hi <= 3 || op == OP_SAR) { /* shrd rax, rdx (or the fill), bits */
                if (hi <= 3)
                    x86_mov_r64_m64(b, RDX, R_SP, d + 8 * hi);
                else
                    x86_mov_r64_r64(b, RDX, RSI);
                x86_shrd_r64_r64_imm8(b, RAX, RDX, (uint8_t)bits);
            } else {
                x86_shr_r64_imm8(b, RAX, (uint8_t)bits);
            }
        }
        x86_mov_m64_r64(b, R_SP, d + 8 * k, RAX);
    }
}

/* SHL, SHR, SAR of stack item 0 by an amount known here: folded when the
 * word is known too. */
static void emit_known_shift(compiler *c, uint8_t op, const u256 *amount)
{
    const u256 *x = pending_value(c, 0);
    if (x) {
        u256 v = fold(op, amount, x);
        set_pending(c, 0, &v);
    } else {
        emit_shift(c, op, amount, 0);
    }
}

/* SHL, SHR, SAR by the amount in stack item 0 of the word in item 1: by a
 * known amount as above; else the word and 256 bits of fill (zeros, or
 * SAR's sign) go to the scratch area, and each limb of the result is a
 * double shift by the amount's bits of the two limbs the amount's limb
 * count selects (an indexed load). Amounts from 256 up give the fill. */
static void emit_variable_shift(compiler *c, uint8_t op)
{
    x86_buf *b = c->b;
    const u256 *known = pending_value(c, 0);
    if (known) { /* in place, in memory */
        u256 amount = *known;
        materialize_copies(c);
        flush_cache(c);
        c->off--;
        pending_prune(c);
        emit_known_shift(c, op, &amount);
        return;
    }
    /* The result goes to r8..r11 (dirty): a word they hold that stays below it is stored. */
    if (c->cached && c->dirty && c->cache_pos < c->off - 1) flush_cache(c);
    operand amount = stack_operand(c, 0), x = stack_operand(c, 1);
    if (op == OP_SAR) { /* rsi = the fill */
        load_operand(c, RSI, &x, 3);
        x86_sar_r64_imm8(b, RSI, 63);
    } else {
        x86_xor_r32_r32(b, RSI, RSI);
    }
    load_operand(c, RCX, &amount, 1);
    for (int k = 2; k < 4; k++) alu_operand(c, X86_OR, RCX, &amount, k);
    size_t big0 = x86_jcc_rel32(b, CC_NE);
    load_operand(c, RCX, &amount, 0);
    x86_alu_r64_imm(b, X86_CMP, RCX, 255);
    size_t big1 = x86_jcc_rel32(b, CC_A);
    /* SHR, SAR: the word, then the fill above it; SHL: the fill, then the word. */
    int32_t word_at = op == OP_SHL ? 32 : 0, fill_at = 32 - word_at;
    bool x_cached = operand_cached(c, &x);
    for (int k = 0; k < 4; k++) {
        if (!x_cached) load_operand(c, RAX, &x, k);
        x86_mov_m64_r64(b, RSP, word_at + 8 * k, x_cached ? cache_reg[k] : RAX);
        x86_mov_m64_r64(b, RSP, fill_at + 8 * k, RSI);
    }
    x86_mov_r64_r64(b, RDX, RCX);
    x86_shr_r64_imm8(b, RDX, 6); /* whole limbs */
    if (op == OP_SHL) x86_neg_r64(b, RDX);
    for (int k = 0; k < 4; k++) { /* limb k from limbs k + n, k + n + 1 (SHR) or k - n, k - n - 1 (SHL) */
        int8_t hi = (int8_t)(op == OP_SHL ? 32 + 8 * k : 8 * k), lo = (int8_t)(op == OP_SHL ? hi - 8 : hi + 8);
        x86_mov_r64_m64_index8(b, cache_reg[k], RSP, RDX, hi);
        x86_mov_r64_m64_index8(b, RAX, RSP, RDX, lo);
        if (op == OP_SHL)
            x86_shld_r64_r64_cl(b, cache_reg[k], RAX);
        else
            x86_shrd_r64_r64_cl(b, cache_reg[k], RAX);
    }
    size_t done = x86_jmp_rel8(b);
    bind_near(c, big0);
    bind_near(c, big1);
    for (int k = 0; k < 4; k++) x86_mov_r64_r64(b, cache_reg[k], RSI);
    bind_short(c, done);
    c->off--;
    cache_hold(c, 0);
    c->dirty = true; /* stored when needed */
}

/* The flags of a comparison (or ISZERO of a), and the condition under which
 * the EVM's result is 1. */
static enum x86_cond emit_condition(compiler *c, uint8_t op, const operand *a, const operand *b)
{
    switch (op) {
    case OP_ISZERO:
        load_operand(c, RAX, a, 0);
        for (int k = 1; k < 4; k++) alu_operand(c, X86_OR, RAX, a, k);
        return CC_E;
    case OP_EQ:
        load_operand(c, RAX, a, 0);
        alu_operand(c, X86_XOR, RAX, b, 0);
        for (int k = 1; k < 4; k++) {
            load_operand(c, RDX, a, k);
            alu_operand(c, X86_XOR, RDX, b, k);
            x86_alu_r64_r64(c->b, X86_OR, RAX, RDX);
        }
        return CC_E;
    default: { /* LT, SLT: a - b; GT, SGT: b - a; the borrow (or sign) says */
        const operand *x = (op == OP_LT || op == OP_SLT) ? a : b, *y = x == a ? b : a;
        for (int k = 0; k < 4; k++) {
            load_operand(c, RAX, x, k);
            alu_operand(c, k ? X86_SBB : X86_CMP, RAX, y, k);
        }
        return (op == OP_LT || op == OP_GT) ? CC_B : CC_L;
    }
    }
}

/* A taken jump to block `target` on condition cc; backward jumps poll the
 * abort flag first. */
static void emit_branch_to(compiler *c, enum x86_cond cc, uint32_t target, bool backward)
{
    if (backward) {
        size_t skip = x86_jcc_rel8(c->b, x86_negate(cc));
        poll_abort(c);
        jmp_to(c, TO_BLOCK, target);
        bind_short(c, skip);
    } else {
        jcc_to(c, cc, TO_BLOCK, target);
    }
}

/* JP_ARITH, JP_SHIFT, JP_COMPARE, JP_BRANCH. */
static void emit_operation(compiler *c, const jit_insn *in)
{
    operand a, b;
    int dest, pops;
    unit_operands(c, in, &a, &b, &dest, &pops);
    if (jit_native_op(in->op) == JN_DIVMOD) flush_cache(c); /* the helper path reads the operands in memory */
    if (in->pattern != JP_SHIFT) { /* the result's slot: its copies first (none today: a copy lies above its source) */
        clobber_slot(c, c->off - dest);
        unit_operands(c, in, &a, &b, &dest, &pops);
    }
    if (in->pattern == JP_SHIFT) { /* the amount is in imm, the word in item 0 */
        emit_known_shift(c, in->op, &in->imm);
        return;
    }
    if (a.is_const && b.is_const) { /* known at compile time */
        u256 v = fold(in->op, &a.value, &b.value);
        c->off -= pops + (in->pattern == JP_BRANCH);
        if (in->pattern != JP_BRANCH) {
            set_pending(c, 0, &v);
            return;
        }
        if (in->negate) v = u256_from_u64(u256_is_zero(&v));
        pending_prune(c);
        materialize_all(c);
        sync_sp(c);
        if (u256_is_zero(&v)) return; /* never taken */
        if (in->target <= in->pc) poll_abort(c);
        jmp_to(c, TO_BLOCK, in->target);
        return;
    }
    switch (in->pattern) {
    case JP_ARITH:
        if (in->op == OP_MUL)
            emit_mul(c, &a, &b, dest, 256);
        else if (in->op == OP_DIV || in->op == OP_MOD)
            emit_divmod(c, in, &a, &b, dest);
        else if (in->op == OP_SDIV || in->op == OP_SMOD)
            emit_signed_divmod(c, in, &a, &b, dest);
        else
            emit_arith(c, in->op, &a, &b, dest, 256);
        c->off -= pops;
        return;
    default: break;
    }
    enum x86_cond cc = emit_condition(c, in->op, &a, &b);
    if (in->pattern == JP_BRANCH) { /* the comparison, [ISZERO], PUSH dest, JUMPI */
        if (in->negate) cc = x86_negate(cc);
        c->off -= pops + 1;
        pending_prune(c);
        materialize_all(c); /* movs and lea: the flags survive */
        sync_sp(c);
        emit_branch_to(c, cc, in->target, in->target <= in->pc);
        return;
    }
    x86_setcc_r8(c->b, cc, RAX);
    x86_movzx_r32_r8(c->b, RAX, RAX);
    store_flag(c, dest);
    c->off -= pops;
}

/* PUSH dest; JUMP or JUMPI, dest a JUMPDEST: a direct jump. */
static void emit_static_jump(compiler *c, const jit_insn *in)
{
    bool backward = in->target <= in->pc;
    const u256 *cond = in->op == OP_JUMPI ? pending_value(c, 0) : NULL;
    bool known = in->op == OP_JUMP || cond;
    bool taken = in->op == OP_JUMP || (cond && !u256_is_zero(cond));
    if (in->op == OP_JUMPI) {
        if (!cond) test_word(c, 0);
        c->off--;
        pending_prune(c);
    }
    materialize_all(c); /* movs and lea: the flags survive */
    sync_sp(c);
    if (known) {
        if (!taken) return;
        if (backward) poll_abort(c);
        jmp_to(c, TO_BLOCK, in->target);
        return;
    }
    if (!backward) { /* one conditional jump, where a jump over a jump took two */
        jcc_to(c, CC_NE, TO_BLOCK, in->target);
        return;
    }
    size_t not_taken = x86_jcc_rel8(c->b, CC_E);
    poll_abort(c);
    jmp_to(c, TO_BLOCK, in->target);
    bind_short(c, not_taken);
}

/* ADDMOD, MULMOD whose modulus (stack item 2) the virtual stack knows to be
 * 0 or a power of two 2^k (blake2b's 64-bit additions are ADDMOD 2^64): the
 * result is the low k bits of the 256-bit sum or product (2^k divides
 * 2^256, so the bits lost above 256 do not count), or 0. False, with
 * nothing emitted, for any other modulus: the helper then runs it. */
static bool emit_modular_power_of_two(compiler *c, const jit_insn *in)
{
    const u256 *m = pending_value(c, 2);
    if (!m) return false;
    int k = u256_is_zero(m) ? 0 : power_of_two_exponent(m);
    if (k < 0) return false;
    operand a = stack_operand(c, 0), b = stack_operand(c, 1);
    if (k == 0 || (a.is_const && b.is_const)) { /* known at compile time */
        u256 v = u256_from_u64(0);
        if (k) v = in->op == OP_ADDMOD ? u256_addmod(&a.value, &b.value, m) : u256_mulmod(&a.value, &b.value, m);
        c->off -= 2;
        set_pending(c, 0, &v);
        return true;
    }
    if (in->op == OP_ADDMOD)
        emit_arith(c, OP_ADD, &a, &b, 2, k);
    else
        emit_mul(c, &a, &b, 2, k);
    c->off -= 2;
    return true;
}

/* MULMOD whose modulus (stack item 2) the virtual stack knows to be
 * 2^256 - 1: a call to the shared routine (emit_mulmod_ones_routine) with
 * both factors in memory, the result in r8..r11 as stack item 0 after it;
 * two known factors fold. False, with nothing emitted, for any other
 * modulus. */
static bool emit_mulmod_all_ones(compiler *c, const jit_insn *in)
{
    const u256 *m = pending_value(c, 2);
    if (in->op != OP_MULMOD || !m) return false;
    for (int k = 0; k < 4; k++)
        if (m->w[k] != UINT64_MAX) return false;
    operand a = stack_operand(c, 0), b = stack_operand(c, 1);
    if (a.is_const && b.is_const) {
        u256 v = u256_mulmod(&a.value, &b.value, m);
        c->off -= 2;
        set_pending(c, 0, &v);
        return true;
    }
    if (a.is_const) operand_to_memory(c, &a);
    if (b.is_const) operand_to_memory(c, &b);
    cache_drop(c); /* the factors read from memory; r8..r11 the result */
    x86_lea_r64_m(c->b, RSI, R_SP, item(c, a.item));
    x86_lea_r64_m(c->b, RDI, R_SP, item(c, b.item));
    add_fixup(c, x86_call_rel32(c->b), TO_MULMOD_ONES_ROUTINE, 0);
    c->uses_mulmod_ones_routine = true;
    cache_hold(c, 2);
    c->dirty = true; /* stored when needed */
    c->off -= 2;
    return true;
}

/* SIGNEXTEND by a byte index the virtual stack knows (item 0) of the word
 * in item 1, in place: only the limb holding the sign bit (shifted left
 * and back arithmetically) and the limbs above it (its sign) are written;
 * a known word folds, an index from 31 up leaves the word. False, with
 * nothing emitted, when the index is not known: the helper then runs it. */
static bool emit_known_signextend(compiler *c)
{
    x86_buf *b = c->b;
    const u256 *known = pending_value(c, 0);
    if (!known) return false;
    u256 index = *known;
    c->off--;
    pending_prune(c);
    const u256 *x = pending_value(c, 0);
    if (x) {
        u256 v = u256_signextend(&index, x);
        set_pending(c, 0, &v);
        return true;
    }
    if (!u256_fits_u64(&index) || index.w[0] >= 31) return true;
    unsigned sign_bit = (unsigned)index.w[0] * 8 + 7, limb = sign_bit / 64, shift = 63 - sign_bit % 64;
    int32_t d = item(c, 0);
    bool cached = in_cache(c, 0); /* then r8..r11 are kept equal to memory */
    int r = cached ? cache_reg[limb] : RAX;
    if (!cached) x86_mov_r64_m64(b, RAX, R_SP, d + 8 * (int32_t)limb);
    if (shift) {
        x86_shl_r64_imm8(b, r, (uint8_t)shift);
        x86_sar_r64_imm8(b, r, (uint8_t)shift);
        x86_mov_m64_r64(b, R_SP, d + 8 * (int32_t)limb, r);
    }
    if (limb == 3) return true;
    if (r != RAX) x86_mov_r64_r64(b, RAX, r);
    x86_sar_r64_imm8(b, RAX, 63); /* the fill */
    for (unsigned k = limb + 1; k < 4; k++) {
        x86_mov_m64_r64(b, R_SP, d + 8 * (int32_t)k, RAX);
        if (cached) x86_mov_r64_r64(b, cache_reg[k], RAX);
    }
    return true;
}

/* --------------------------------------------------------------- units */

/* rbx follows the stack top when it drifts more than a few words from it
 * (one lea): the top items stay within a one-byte displacement of rbx,
 * which saves three bytes in every instruction that names them. */
#define REBASE_ABOVE 2
#define REBASE_BELOW (-4)

/* Units that keep the virtual stack's copies (DUP): they write no slot
 * that a copy reads (a copy's source lies below it, and these write only
 * the top items), or read their operands through operand(). Before every
 * other unit the copies are written to memory. */
static bool keeps_copies(const jit_insn *in)
{
    switch ((enum jit_pattern)in->pattern) {
    case JP_ARITH:
    case JP_COMPARE:
    case JP_BRANCH:
    case JP_DROPPED_PUSH: return true;
    case JP_SINGLE: { /* and shifts by an amount on the stack (emit_variable_shift) */
        enum opcode_kind k = opcode_kind(in->op);
        return k == OPK_DUP || k == OPK_PUSH || in->op == OP_POP ||
               (in->kind == JIT_NATIVE && jit_native_op(in->op) == JN_SHIFT);
    }
    default: return false;
    }
}

/* Units that store the word in r8..r11 themselves when it is dirty: a
 * PUSH offset MSTORE of it (its slow path writes it to the stack first),
 * a SWAP of it (emit_swap writes both words). */
static bool stores_dirty_word(const compiler *c, const jit_insn *in)
{
    if (in->pattern == JP_MEMORY_CONST) return in->op == OP_MSTORE && in_cache(c, 0);
    if (in->pattern != JP_SINGLE || opcode_kind(in->op) != OPK_SWAP) return false;
    int n = opcode_table[in->op].stack_in - 1;
    if (pending_index(c, 0) >= 0 && pending_index(c, n) >= 0) return false; /* two constants: the word stays where it is */
    return in_cache(c, 0) || in_cache(c, n);
}

static void emit_unit(compiler *c, const jit_insn *in)
{
    c->spent += in->gas;
    pending_prune(c);
    if (!keeps_copies(in)) { /* and the word in r8..r11, unless the unit stores it itself */
        materialize_copies(c);
        if (!stores_dirty_word(c, in)) flush_cache(c);
    }
    if (c->off > REBASE_ABOVE || c->off < REBASE_BELOW) sync_sp(c);
    if (in->pattern == JP_SINGLE && (in->op == OP_ADDMOD || in->op == OP_MULMOD) && emit_modular_power_of_two(c, in))
        return;
    if (in->pattern == JP_SINGLE && emit_mulmod_all_ones(c, in)) return;
    if (in->pattern == JP_SINGLE && in->op == OP_SIGNEXTEND && emit_known_signextend(c)) return;
    /* What reads or hands over the stack in memory gets the virtual stack
     * written back first; the rest folds its constants. */
    bool folds = in->pattern == JP_ARITH || in->pattern == JP_SHIFT || in->pattern == JP_COMPARE ||
                 in->pattern == JP_BRANCH || in->pattern == JP_STATIC_JUMP || in->pattern == JP_DROPPED_PUSH ||
                 in->pattern == JP_END_OF_CODE ||
                 (in->pattern == JP_SINGLE && in->kind == JIT_NATIVE && in->op != OP_JUMP && in->op != OP_JUMPI &&
                  opcode_kind(in->op) != OPK_HELPER_FAST);
    if (!folds) materialize_all(c);
    switch ((enum jit_pattern)in->pattern) {
    case JP_UNDEFINED: jmp_to(c, TO_STUB, new_stub(c, in->pc, c->off, rest_after(c))); return;
    case JP_ARITH:
    case JP_SHIFT:
    case JP_COMPARE:
    case JP_BRANCH: emit_operation(c, in); return;
    case JP_STATIC_JUMP: emit_static_jump(c, in); return;
    case JP_DROPPED_PUSH: return; /* the block charged both */
    case JP_MEMORY_CONST: emit_memory_constant(c, in); return;
    case JP_END_OF_CODE:
        sync_sp(c);
        emit_stop(c);
        return;
    case JP_SINGLE: break;
    }
    if (opcode_kind(in->op) == OPK_HELPER_FAST) /* MLOAD, MSTORE */
        emit_memory_access(c, in->op, in->next_pc);
    else if (in->kind == JIT_NATIVE)
        emit_native(c, in);
    else
        emit_helper(c, in->op, (enum jit_op_kind)in->kind, in->next_pc);
}

/* ------------------------------------------------------------- framing */

static const int saved_regs[6] = {RBX, RBP, R12, R13, R14, R15};
/* Below the saved registers: 64 bytes of scratch at rsp (variable shifts)
 * and 8 that align rsp to 16 bytes for helper calls. */
#define FRAME_PAD (64 + 8)

static void emit_prologue(x86_buf *b)
{
    for (int i = 0; i < 6; i++) x86_push_r64(b, saved_regs[i]);
    x86_alu_r64_imm(b, X86_SUB, RSP, FRAME_PAD); /* 16-byte alignment for helper calls, the scratch area */
    x86_mov_r64_r64(b, R_CTX, RDI);
    x86_mov_r64_r64(b, R_FRAME, RSI);
    x86_mov_r64_r64(b, R_HELPERS, RDX);
    x86_mov_r64_m64(b, R_SP, R_CTX, JIT_OFFSET(jit_ctx, sp));
    x86_mov_r64_m64(b, R_GAS, R_CTX, JIT_OFFSET(jit_ctx, gas));
    x86_mov_r64_m64(b, R_BOTTOM, R_CTX, JIT_OFFSET(jit_ctx, stack_bottom));
}

static void emit_epilogue(x86_buf *b)
{
    x86_alu_r64_imm(b, X86_ADD, RSP, FRAME_PAD);
    for (int i = 5; i >= 0; i--) x86_pop_r64(b, saved_regs[i]);
    x86_ret(b);
}

/* A hand-over: r12, rbx and edx made the frame's gas, stack top and pc,
 * then the shared tail that stores them (lay_out). The registers are the
 * caller's again after the epilogue; nothing runs after it here. 14 to 25
 * bytes each, where storing them in every stub took 37 to 45. */
static void emit_stub(compiler *c, const stub *s)
{
    x86_buf *b = c->b;
    if (s->gas_add) x86_lea_r64_m(b, R_GAS, R_GAS, (int32_t)s->gas_add);
    if (s->sp_off) x86_lea_r64_m(b, R_SP, R_SP, 32 * s->sp_off);
    x86_mov_r64_imm(b, RDX, s->pc);
    jmp_to(c, TO_PC_STUB, 0);
    c->uses_pc_stub = true;
}

/* Everything after the blocks (slow paths, stubs, exits), then every jump
 * patched. False when a target is missing. */
static bool lay_out(compiler *c)
{
    x86_buf *b = c->b;
    emit_cold_paths(c);
    size_t routine_at[MR_COUNT] = {0};
    for (int r = 0; r < MR_COUNT; r++)
        if (c->uses_memory_routine[r]) {
            routine_at[r] = b->len;
            emit_memory_routine(c, (enum memory_routine)r);
        }
    size_t mul_routine_at = b->len;
    if (c->uses_mul_routine) emit_mul_routine(c);
    size_t mulmod_ones_routine_at = b->len;
    if (c->uses_mulmod_ones_routine) emit_mulmod_ones_routine(c);
    size_t signed_wide_routine_at[2] = {0, 0};
    for (int w = 0; w < 2; w++)
        if (c->uses_signed_wide_routine[w]) {
            signed_wide_routine_at[w] = b->len;
            emit_signed_wide_routine(c, w ? OP_SMOD : OP_SDIV);
        }
    size_t power_of_two_routine_at[2] = {0, 0};
    for (int w = 0; w < 2; w++)
        if (c->uses_power_of_two_routine[w]) {
            power_of_two_routine_at[w] = b->len;
            emit_power_of_two_routine(c, w ? OP_MOD : OP_DIV);
        }
    emit_chain_entries(c);
    size_t cap_stub_at;
    size_t *stub_at = jit_scratch_take(JS_STUB_AT, c->n_stubs + 1, sizeof *stub_at, &cap_stub_at);
    for (size_t i = 0; i < c->n_stubs; i++) { /* emit_stub adds no stubs */
        stub_at[i] = b->len;
        emit_stub(c, &c->stubs[i]);
    }
    size_t pc_stub_at = b->len;
    if (c->uses_pc_stub) { /* every hand-over: at the pc in edx, the stack top rbx, the gas r12 */
        x86_mov_m64_r64(b, R_FRAME, JIT_OFFSET(frame, gas), R_GAS);
        x86_mov_m64_r64(b, R_CTX, JIT_OFFSET(jit_ctx, sp), R_SP);
        x86_mov_m32_r32(b, R_CTX, JIT_OFFSET(jit_ctx, deopt_pc), RDX);
        x86_mov_r64_imm(b, RAX, JIT_DEOPT);
        jmp_to(c, TO_EPILOGUE, 0);
    }
    size_t timeout_at = b->len;
    x86_mov_r64_imm(b, RAX, EXEC_TIMEOUT);
    size_t epilogue_at = b->len;
    emit_epilogue(b);
    bool ok = true;
    for (size_t i = 0; i < c->n_fix && ok; i++) {
        const fixup *fx = &c->fix[i];
        int64_t target = 0;
        switch (fx->kind) {
        case TO_BLOCK:
            target = c->block_at[fx->index];
            ok = target >= 0; /* a JUMPDEST always starts a block */
            break;
        case TO_STUB: target = (int64_t)stub_at[fx->index]; break;
        case TO_EPILOGUE: target = (int64_t)epilogue_at; break;
        case TO_TIMEOUT: target = (int64_t)timeout_at; break;
        case TO_PC_STUB: target = (int64_t)pc_stub_at; break;
        case TO_MEMORY_ROUTINE: target = (int64_t)routine_at[fx->index]; break;
        case TO_MUL_ROUTINE: target = (int64_t)mul_routine_at; break;
        case TO_MULMOD_ONES_ROUTINE: target = (int64_t)mulmod_ones_routine_at; break;
        case TO_SIGNED_WIDE_ROUTINE: target = (int64_t)signed_wide_routine_at[fx->index]; break;
        case TO_POWER_OF_TWO_ROUTINE: target = (int64_t)power_of_two_routine_at[fx->index]; break;
        }
        if (ok) x86_patch_rel32(b, fx->at, (size_t)target);
    }
    jit_scratch_give(JS_STUB_AT, stub_at, cap_stub_at, sizeof *stub_at);
    return ok;
}

bool jit_codegen(const code_info *ci, const jit_analysis *a, jit_image *out)
{
    memset(out, 0, sizeof *out);
    /* Room for the code of most contracts at once (about 20 bytes per
     * byte of EVM code and the prologue): growing by doubling copies. */
    x86_buf b = {0};
    b.p = jit_scratch_take(JS_NATIVE, 24 * ci->code_len + 4096, 1, &b.cap);
    compiler c = {.ci = ci, .b = &b, .compact_memory = a->compact_memory};
    size_t cap_block_at;
    c.block_at = jit_scratch_take(JS_BLOCK_AT, ci->code_len + 1, sizeof *c.block_at, &cap_block_at);
    for (size_t i = 0; i <= ci->code_len; i++) c.block_at[i] = -1;
    c.fix = jit_scratch_take(JS_FIX, 64, sizeof *c.fix, &c.cap_fix);
    c.stubs = jit_scratch_take(JS_STUBS, 64, sizeof *c.stubs, &c.cap_stubs);
    c.cold = jit_scratch_take(JS_COLD, 64, sizeof *c.cold, &c.cap_cold);
    c.entries = jit_scratch_take(JS_ENTRIES, 64, sizeof *c.entries, &c.cap_entries);
    emit_prologue(&b);
    for (size_t i = 0; i < a->n_blocks && !b.failed; i++) {
        const jit_block *blk = &a->blocks[i];
        const jit_insn *first = &a->insns[blk->first];
        bool lone = blk->count == 1 && first->pattern == JP_SINGLE && first->op == OP_JUMPDEST && blk->gas == 1 &&
                    blk->stack_min == 0 && blk->stack_max_growth == 0;
        start_block(&c, blk, lone);
        for (uint32_t k = 0; k < blk->count && !b.failed; k++) emit_unit(&c, &a->insns[blk->first + k]);
        if (blk->end == JB_FALLTHROUGH) { /* into the next block, which knows nothing */
            pending_prune(&c);
            materialize_all(&c);
            sync_sp(&c);
        }
    }
    bool ok = !b.failed && lay_out(&c) && !b.failed && b.len <= INT32_MAX;
    jit_scratch_give(JS_COLD, c.cold, c.cap_cold, sizeof *c.cold);
    jit_scratch_give(JS_ENTRIES, c.entries, c.cap_entries, sizeof *c.entries);
    jit_scratch_give(JS_FIX, c.fix, c.cap_fix, sizeof *c.fix);
    jit_scratch_give(JS_STUBS, c.stubs, c.cap_stubs, sizeof *c.stubs);
    if (!ok) {
        jit_scratch_give(JS_NATIVE, b.p, b.cap, 1);
        jit_scratch_give(JS_BLOCK_AT, c.block_at, cap_block_at, sizeof *c.block_at);
        return false;
    }
    out->native = b.p;
    out->native_len = b.len;
    out->native_cap = b.cap;
    out->code_len = ci->code_len;
    out->jump_table = xcalloc(ci->code_len, sizeof *out->jump_table);
    for (size_t i = 0; i < ci->code_len; i++)
        if (code_is_jumpdest(ci, i)) out->jump_table[i] = c.block_at[i];
    jit_scratch_give(JS_BLOCK_AT, c.block_at, cap_block_at, sizeof *c.block_at);
    return true;
}
