/* The compiler: EVM bytecode to x86-64 machine code, one pass per contract.
 *
 * Code is cut into basic blocks (a block starts at a JUMPDEST and after a
 * JUMPI, and ends at a jump, a halting instruction or the next JUMPDEST).
 * Each block pays its base gas and checks its stack height once, on entry;
 * a block that cannot is handed to the interpreter at its first instruction
 * with its gas untouched. Inside a block the stack pointer is a compile-time
 * offset; a PUSH is a store of a constant, or folds into the next
 * instruction as an immediate (arithmetic, shifts, comparisons, MLOAD and
 * MSTORE offsets); PUSH+JUMP(I) to a valid destination is a direct jump; a
 * comparison followed by [ISZERO] PUSH JUMPI is one conditional jump; only
 * dynamic jumps look up their target. The word an instruction produced
 * stays in r8..r11 for the next (and is stored too: memory always holds
 * the whole stack, so hand-overs and helper calls need no flush).
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
 * rax, rcx, rdx, rsi, rdi scratch. The code refers to nothing
 * by absolute address: it is position-independent, and can be stored. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "jit/jit_internal.h"
#include "vm/opcodes.h"

/* Larger code runs on the interpreter (deployed code is at most 24 KiB,
 * initcode 48 KiB; older forks' tests go beyond). */
#define JIT_MAX_CODE ((size_t)64 * 1024)
/* Code without a single jump runs each instruction at most once per call;
 * past this size its machine code (20-30 bytes per EVM byte) costs more to
 * fetch than the interpreter's dispatch: measured 0.26x on 24 KiB of
 * DUP/SIGNEXTEND, 0.7x on 20 KiB of MLOAD/MSTORE (`jitevm bench --compare`).
 * Such code stays on the interpreter. */
#define JIT_MAX_STRAIGHT_LINE ((size_t)2048)

static size_t instr_len(uint8_t op) { return 1 + (size_t)opcode_table[op].immediate; }

/* Whether the code has a JUMP or JUMPI instruction (not push data). */
static bool has_jump(const code_info *ci)
{
    for (size_t pc = 0; pc < ci->code_len; pc += instr_len(ci->code[pc]))
        if (ci->code[pc] == OP_JUMP || ci->code[pc] == OP_JUMPI) return true;
    return false;
}

enum reg { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
#define R_SP RBX
#define R_GAS R12
#define R_CTX R13
#define R_FRAME RBP
#define R_BOTTOM R14
#define R_HELPERS R15

enum cond { CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_A = 7, CC_S = 8, CC_L = 0xc };

/* ALU opcodes of the "reg, r/m" form and the /digit of the imm forms. */
enum { ALU_ADD = 0x03, ALU_OR = 0x0b, ALU_ADC = 0x13, ALU_SBB = 0x1b, ALU_AND = 0x23, ALU_SUB = 0x2b,
       ALU_XOR = 0x33, ALU_CMP = 0x3b, MOV_LOAD = 0x8b, MOV_STORE = 0x89, LEA = 0x8d };
enum { IMM_ADD = 0, IMM_SUB = 5, IMM_CMP = 7 };

/* Where a jump goes, patched once everything is laid out. */
enum target_kind { TO_BLOCK, TO_STUB, TO_EPILOGUE, TO_TIMEOUT };
typedef struct {
    size_t at; /* offset of the rel32 */
    enum target_kind kind;
    uint32_t index; /* pc for TO_BLOCK, stub number for TO_STUB */
} fixup;

/* A hand-over to the interpreter at `pc`, with the stack `sp_off` items
 * from rbx and `gas_add` gas to add back to r12. */
typedef struct {
    uint32_t pc;
    int32_t sp_off;
    int64_t gas_add;
} stub;

typedef struct {
    uint8_t *p;
    size_t len, cap;
    fixup *fix;
    size_t n_fix, cap_fix;
    stub *stubs;
    size_t n_stubs, cap_stubs;
    bool failed;
} asm_buf;

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return p;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    *cap = n;
    return xrealloc(p, n * elem);
}

static void put8(asm_buf *b, uint8_t v)
{
    b->p = grow(b->p, &b->cap, b->len + 1, 1);
    b->p[b->len++] = v;
}

static void put32(asm_buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) put8(b, (uint8_t)(v >> (8 * i)));
}

static void put64(asm_buf *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) put8(b, (uint8_t)(v >> (8 * i)));
}

static void rex(asm_buf *b, bool w, int reg, int base)
{
    uint8_t r = (uint8_t)(0x40 | (w << 3) | ((reg >> 3) << 2) | (base >> 3));
    if (r != 0x40) put8(b, r);
}

/* ModRM (+SIB) for [base + disp]. */
static void mem(asm_buf *b, int reg, int base, int32_t disp)
{
    int r = reg & 7, bs = base & 7;
    if (disp == 0 && bs != 5) {
        put8(b, (uint8_t)(r << 3 | bs));
        if (bs == 4) put8(b, 0x24);
    } else if (disp >= -128 && disp <= 127) {
        put8(b, (uint8_t)(0x40 | r << 3 | bs));
        if (bs == 4) put8(b, 0x24);
        put8(b, (uint8_t)disp);
    } else {
        put8(b, (uint8_t)(0x80 | r << 3 | bs));
        if (bs == 4) put8(b, 0x24);
        put32(b, (uint32_t)disp);
    }
}

/* op reg64, [base + disp] (or [base + disp], reg64 for stores). */
static void rm(asm_buf *b, uint8_t opcode, int reg, int base, int32_t disp)
{
    rex(b, true, reg, base);
    put8(b, opcode);
    mem(b, reg, base, disp);
}

static void load(asm_buf *b, int reg, int base, int32_t disp) { rm(b, MOV_LOAD, reg, base, disp); }
static void store(asm_buf *b, int base, int32_t disp, int reg) { rm(b, MOV_STORE, reg, base, disp); }
static void lea(asm_buf *b, int reg, int base, int32_t disp) { rm(b, LEA, reg, base, disp); }

/* op dst64, src64 in the "r/m, reg" form (0x89 mov, 0x09 or, 0x85 test). */
static void rr(asm_buf *b, uint8_t opcode, int dst, int src)
{
    rex(b, true, src, dst);
    put8(b, opcode);
    put8(b, (uint8_t)(0xc0 | (src & 7) << 3 | (dst & 7)));
}

static void alu_imm(asm_buf *b, int digit, int reg, int32_t imm)
{
    rex(b, true, 0, reg);
    if (imm >= -128 && imm <= 127) {
        put8(b, 0x83);
        put8(b, (uint8_t)(0xc0 | digit << 3 | (reg & 7)));
        put8(b, (uint8_t)imm);
    } else {
        put8(b, 0x81);
        put8(b, (uint8_t)(0xc0 | digit << 3 | (reg & 7)));
        put32(b, (uint32_t)imm);
    }
}

/* mov qword [base + disp], imm (sign-extended 32-bit immediate). */
static void store_imm(asm_buf *b, int base, int32_t disp, int32_t imm)
{
    rex(b, true, 0, base);
    put8(b, 0xc7);
    mem(b, 0, base, disp);
    put32(b, (uint32_t)imm);
}

static void mov_imm(asm_buf *b, int reg, uint64_t v)
{
    if (v <= 0xffffffffu) { /* mov r32, imm32 zero-extends */
        rex(b, false, 0, reg);
        put8(b, (uint8_t)(0xb8 | (reg & 7)));
        put32(b, (uint32_t)v);
    } else {
        rex(b, true, 0, reg);
        put8(b, (uint8_t)(0xb8 | (reg & 7)));
        put64(b, v);
    }
}

static void push_reg(asm_buf *b, int reg)
{
    rex(b, false, 0, reg);
    put8(b, (uint8_t)(0x50 | (reg & 7)));
}

static void pop_reg(asm_buf *b, int reg)
{
    rex(b, false, 0, reg);
    put8(b, (uint8_t)(0x58 | (reg & 7)));
}

/* setcc al; movzx eax, al */
static void setcc_eax(asm_buf *b, enum cond cc)
{
    put8(b, 0x0f);
    put8(b, (uint8_t)(0x90 | cc));
    put8(b, 0xc0);
    put8(b, 0x0f);
    put8(b, 0xb6);
    put8(b, 0xc0);
}

static void add_fixup(asm_buf *b, enum target_kind kind, uint32_t index)
{
    b->fix = grow(b->fix, &b->cap_fix, b->n_fix + 1, sizeof *b->fix);
    b->fix[b->n_fix++] = (fixup){b->len, kind, index};
    put32(b, 0);
}

static void jcc_to(asm_buf *b, enum cond cc, enum target_kind kind, uint32_t index)
{
    put8(b, 0x0f);
    put8(b, (uint8_t)(0x80 | cc));
    add_fixup(b, kind, index);
}

static void jmp_to(asm_buf *b, enum target_kind kind, uint32_t index)
{
    put8(b, 0xe9);
    add_fixup(b, kind, index);
}

/* A short forward jcc whose target is bound later with bind_short. */
static size_t jcc_short(asm_buf *b, enum cond cc)
{
    put8(b, (uint8_t)(0x70 | cc));
    put8(b, 0);
    return b->len - 1;
}

static void bind_short(asm_buf *b, size_t at)
{
    size_t dist = b->len - (at + 1);
    if (dist > 127) {
        b->failed = true; /* cannot happen: the skipped code is a few dozen bytes */
        return;
    }
    b->p[at] = (uint8_t)dist;
}

/* A rel32 jcc to a label not yet emitted, bound later with bind_near. */
static size_t jcc_near(asm_buf *b, enum cond cc)
{
    put8(b, 0x0f);
    put8(b, (uint8_t)(0x80 | cc));
    put32(b, 0);
    return b->len - 4;
}

static void bind_near(asm_buf *b, size_t at)
{
    int32_t rel = (int32_t)(b->len - (at + 4));
    memcpy(b->p + at, &rel, 4);
}

static void bswap(asm_buf *b, int reg)
{
    rex(b, true, 0, reg);
    put8(b, 0x0f);
    put8(b, (uint8_t)(0xc8 | (reg & 7)));
}

static uint32_t new_stub(asm_buf *b, uint32_t pc, int32_t sp_off, int64_t gas_add)
{
    b->stubs = grow(b->stubs, &b->cap_stubs, b->n_stubs + 1, sizeof *b->stubs);
    b->stubs[b->n_stubs] = (stub){pc, sp_off, gas_add};
    return (uint32_t)b->n_stubs++;
}

/* ---------------------------------------------------------------- blocks */

typedef struct {
    const code_info *ci;
    const fork_opcode_table *optab;
    asm_buf *b;
    int32_t *block_at; /* pc -> native offset of the block starting there, -1 */
    /* The current block. */
    int64_t block_cost; /* base gas of the whole block */
    int64_t spent;      /* base gas of the block's instructions up to and including the current one */
    int32_t off;        /* stack top = rbx + 32 * off */
    /* One stack word may also be in r8..r11 (write-through: memory always
     * holds it too, so hand-overs, helpers and jumps need no flush): the
     * word at rbx + 32 * cache_pos, when `cached`. */
    bool cached;
    int32_t cache_pos;
    /* Slow paths emitted after the main code, so hot code stays dense. */
    struct cold_path *cold;
    size_t n_cold, cap_cold;
} compiler;

/* The helper call behind a fast MLOAD/MSTORE, emitted out of line: entered
 * by the jumps at from[0..n_from), it returns to `resume`. It runs in the
 * compile-time state the fast path had (stack offset, gas spent). */
typedef struct cold_path {
    uint8_t op;          /* OP_MLOAD or OP_MSTORE */
    bool push_offset;    /* the offset is a folded PUSH: store it first */
    u256 offset;
    int32_t off;
    int64_t block_cost, spent;
    size_t next_pc;
    size_t from[3], n_from;
    size_t resume;
} cold_path;


static enum jit_op_kind kind_in_fork(const compiler *c, uint8_t op)
{
    return c->optab->defined[op] ? jit_op_kind(op) : JIT_DEOPT_OP;
}

static bool ends_block(uint8_t op, enum jit_op_kind kind)
{
    return kind == JIT_END || kind == JIT_DEOPT_OP || op == OP_STOP || op == OP_JUMP || op == OP_JUMPI;
}

/* The base gas and the stack needs of the block starting at `start`. */
static void scan_block(const compiler *c, size_t start, int64_t *cost, int *min_height, int *max_growth)
{
    const uint8_t *code = c->ci->code;
    int height = 0;
    *cost = 0;
    *min_height = 0;
    *max_growth = 0;
    for (size_t pc = start; pc <= c->ci->code_len;) {
        uint8_t op = pc < c->ci->code_len ? code[pc] : OP_STOP;
        if (pc != start && op == OP_JUMPDEST) break;
        enum jit_op_kind kind = kind_in_fork(c, op);
        if (kind == JIT_DEOPT_OP) break;
        const opcode_info *info = &opcode_table[op];
        if (info->stack_in - height > *min_height) *min_height = info->stack_in - height;
        height += info->stack_out - info->stack_in;
        if (height > *max_growth) *max_growth = height;
        *cost += c->optab->base_gas[op];
        if (ends_block(op, kind)) break;
        pc += instr_len(op);
    }
}

/* Stack item `i` from the top (0 = top) as a displacement from rbx. */
static int32_t item(const compiler *c, int i) { return 32 * (c->off - i); }

static const int cache_reg[4] = {R8, R9, R10, R11};

static void cache_drop(compiler *c) { c->cached = false; }

/* Whether stack item i is the cached word. */
static bool in_cache(const compiler *c, int i) { return c->cached && c->cache_pos == c->off - i; }

/* Stack item i is now the word in r8..r11. */
static void cache_hold(compiler *c, int i)
{
    c->cached = true;
    c->cache_pos = c->off - i;
}

/* Stack item i is about to be written other than through the cache. */
static void cache_forget(compiler *c, int i)
{
    if (in_cache(c, i)) c->cached = false;
}

/* Makes rbx the real stack top (lea keeps the flags). */
static void sync_sp(compiler *c)
{
    if (c->off) lea(c->b, R_SP, R_SP, 32 * c->off);
    c->cache_pos -= c->off;
    c->off = 0;
}

static void start_block(compiler *c, size_t pc)
{
    asm_buf *b = c->b;
    c->block_at[pc] = (int32_t)b->len;
    int min_height, max_growth;
    scan_block(c, pc, &c->block_cost, &min_height, &max_growth);
    c->spent = 0;
    c->off = 0;
    cache_drop(c); /* reached by jumps: nothing is known */
    if (c->block_cost > INT32_MAX) b->failed = true;
    if (c->block_cost == 0 && min_height == 0 && max_growth == 0) return;
    uint32_t s = new_stub(b, (uint32_t)pc, 0, c->block_cost);
    if (c->block_cost) {
        alu_imm(b, IMM_SUB, R_GAS, (int32_t)c->block_cost);
        jcc_to(b, CC_S, TO_STUB, s);
    }
    if (min_height) { /* height >= min: rbx - 32*min >= r14 */
        lea(b, RAX, R_SP, -32 * min_height);
        rr(b, 0x39, RAX, R_BOTTOM); /* cmp rax, r14 */
        jcc_to(b, CC_B, TO_STUB, s);
    }
    if (max_growth) { /* height + growth <= limit: rbx + 32*growth - r14 <= 32*limit */
        lea(b, RAX, R_SP, 32 * max_growth);
        rr(b, 0x29, RAX, R_BOTTOM); /* sub rax, r14 */
        alu_imm(b, IMM_CMP, RAX, 32 * EVM_STACK_LIMIT);
        jcc_to(b, CC_A, TO_STUB, s);
    }
}

/* Gas of the block's instructions after the current one. */
static int64_t rest_after(const compiler *c) { return c->block_cost - c->spent; }

/* A hand-over to the interpreter at the current instruction (not executed). */
static uint32_t deopt_here(compiler *c, uint32_t pc, uint8_t op)
{
    return new_stub(c->b, pc, c->off, rest_after(c) + c->optab->base_gas[op]);
}

/* Makes frame->gas exact (before a helper reads or charges it). */
static void gas_to_frame(compiler *c)
{
    int64_t rest = rest_after(c);
    if (rest) {
        lea(c->b, RAX, R_GAS, (int32_t)rest);
        store(c->b, R_FRAME, offsetof(frame, gas), RAX);
    } else {
        store(c->b, R_FRAME, offsetof(frame, gas), R_GAS);
    }
}

static void call_helper(compiler *c, uint8_t op)
{
    asm_buf *b = c->b;
    rex(b, false, 0, R_HELPERS);
    put8(b, 0xff);
    mem(b, 2, R_HELPERS, 8 * op);
}

static void poll_abort(compiler *c)
{
    load(c->b, RCX, R_CTX, offsetof(jit_ctx, abort_flag));
    put8(c->b, 0x83); /* cmp dword [rcx], 0 */
    put8(c->b, 0x39);
    put8(c->b, 0x00);
    jcc_to(c->b, CC_NE, TO_TIMEOUT, 0);
}

/* rax = the native address for the destination in stack item `i`, or a
 * hand-over at `pc` when it is not a JUMPDEST (the interpreter then reports
 * the bad jump). */
static void dynamic_target(compiler *c, int i, uint32_t stub_index)
{
    asm_buf *b = c->b;
    int32_t d = item(c, i);
    load(b, RAX, R_SP, d + 8);
    rm(b, ALU_OR, RAX, R_SP, d + 16);
    rm(b, ALU_OR, RAX, R_SP, d + 24);
    jcc_to(b, CC_NE, TO_STUB, stub_index);
    load(b, RAX, R_SP, d);
    alu_imm(b, IMM_CMP, RAX, (int32_t)c->ci->code_len);
    jcc_to(b, CC_AE, TO_STUB, stub_index);
    load(b, RCX, R_CTX, offsetof(jit_ctx, jump_table));
    put8(b, 0x48); /* movsxd rax, dword [rcx + rax*4] */
    put8(b, 0x63);
    put8(b, 0x04);
    put8(b, 0x81);
    rr(b, 0x85, RAX, RAX); /* test rax, rax */
    jcc_to(b, CC_E, TO_STUB, stub_index);
    rm(b, ALU_ADD, RAX, R_CTX, offsetof(jit_ctx, native));
}

/* rax = (stack item i) != 0, as flags: ZF set when zero. */
static void test_word(compiler *c, int i)
{
    if (in_cache(c, i)) {
        rr(c->b, 0x89, RAX, cache_reg[0]);
        for (int k = 1; k < 4; k++) rr(c->b, 0x09, RAX, cache_reg[k]); /* or */
        return;
    }
    int32_t d = item(c, i);
    load(c->b, RAX, R_SP, d);
    for (int k = 1; k < 4; k++) rm(c->b, ALU_OR, RAX, R_SP, d + 8 * k);
}

static void push_constant(compiler *c, const u256 *v)
{
    c->off++;
    cache_forget(c, 0);
    int32_t d = item(c, 0);
    for (int k = 0; k < 4; k++) {
        uint64_t limb = v->w[k];
        if ((int64_t)limb == (int64_t)(int32_t)limb) {
            store_imm(c->b, R_SP, d + 8 * k, (int32_t)limb);
        } else {
            mov_imm(c->b, RAX, limb);
            store(c->b, R_SP, d + 8 * k, RAX);
        }
    }
}

/* A 0/1 result in eax into stack item i. */
static void store_flag(compiler *c, int i)
{
    cache_forget(c, i);
    int32_t d = item(c, i);
    store(c->b, R_SP, d, RAX);
    for (int k = 1; k < 4; k++) store_imm(c->b, R_SP, d + 8 * k, 0);
}

/* STOP: the frame ends successfully with r12 as its gas (a block's last
 * instruction, so r12 is exact). */
static void emit_stop(asm_buf *b)
{
    store(b, R_FRAME, offsetof(frame, gas), R_GAS);
    put8(b, 0x31); /* xor eax, eax (EXEC_SUCCESS) */
    put8(b, 0xc0);
    jmp_to(b, TO_EPILOGUE, 0);
}

static void emit_native(compiler *c, uint32_t pc, uint8_t op)
{
    asm_buf *b = c->b;
    static const int scratch[4] = {RAX, RCX, RDX, RSI};
    switch (op) {
    case OP_STOP:
        emit_stop(b);
        return;
    case OP_NOT:
        cache_forget(c, 0);
        for (int k = 0; k < 4; k++) {
            rex(b, true, 0, R_SP);
            put8(b, 0xf7);
            mem(b, 2, R_SP, item(c, 0) + 8 * k);
        }
        return;
    case OP_POP: c->off--; return;
    case OP_PC: {
        u256 v = u256_from_u64(pc);
        push_constant(c, &v);
        return;
    }
    case OP_GAS: {
        lea(b, RAX, R_GAS, (int32_t)rest_after(c));
        c->off++;
        store_flag(c, 0);
        return;
    }
    case OP_JUMPDEST: return;
    case OP_JUMP: {
        uint32_t s = deopt_here(c, pc, op);
        dynamic_target(c, 0, s);
        c->off--;
        sync_sp(c);
        poll_abort(c);
        put8(b, 0xff); /* jmp rax */
        put8(b, 0xe0);
        return;
    }
    case OP_JUMPI: {
        uint32_t s = deopt_here(c, pc, op);
        test_word(c, 1);
        size_t not_taken = jcc_short(b, CC_E);
        dynamic_target(c, 0, s);
        lea(b, R_SP, R_SP, 32 * (c->off - 2));
        poll_abort(c);
        put8(b, 0xff);
        put8(b, 0xe0);
        bind_short(b, not_taken);
        c->off -= 2;
        sync_sp(c);
        return;
    }
    default:
        break;
    }
    if (op >= OP_DUP1 && op <= OP_DUP16) { /* the copy becomes the cached word */
        int n = op - OP_DUP1 + 1;
        int32_t src = item(c, n - 1), dst = item(c, -1);
        if (!in_cache(c, n - 1))
            for (int k = 0; k < 4; k++) load(b, cache_reg[k], R_SP, src + 8 * k);
        for (int k = 0; k < 4; k++) store(b, R_SP, dst + 8 * k, cache_reg[k]);
        c->off++;
        cache_hold(c, 0);
    } else if (op >= OP_SWAP1 && op <= OP_SWAP16) {
        /* The word in r8..r11 (the cached one, else item n loaded there)
         * follows its value to its new place. */
        int n = op - OP_SWAP1 + 1;
        int32_t top = item(c, 0), other = item(c, n);
        bool top_cached = in_cache(c, 0);
        int32_t reg_from = top_cached ? top : other, reg_to = top_cached ? other : top;
        if (!top_cached && !in_cache(c, n))
            for (int k = 0; k < 4; k++) load(b, cache_reg[k], R_SP, other + 8 * k);
        for (int k = 0; k < 4; k++) load(b, scratch[k], R_SP, reg_to + 8 * k);
        for (int k = 0; k < 4; k++) store(b, R_SP, reg_from + 8 * k, scratch[k]);
        for (int k = 0; k < 4; k++) store(b, R_SP, reg_to + 8 * k, cache_reg[k]);
        cache_hold(c, top_cached ? n : 0);
    } else { /* PUSH0..PUSH32 */
        int n = op - OP_PUSH0;
        u256 v = n ? u256_load_be_n(c->ci->code + pc + 1, (size_t)n) : u256_zero();
        push_constant(c, &v);
    }
}

/* A helper call for one instruction of kind JIT_STACK/CONTEXT/INSTR/END. */
static void emit_helper(compiler *c, uint8_t op, enum jit_op_kind kind, size_t next_pc)
{
    asm_buf *b = c->b;
    cache_drop(c); /* a call clobbers r8..r11 */
    const opcode_info *info = &opcode_table[op];
    switch (kind) {
    case JIT_STACK:
        lea(b, RDI, R_SP, item(c, 0));
        call_helper(c, op);
        break;
    case JIT_CONTEXT:
        rr(b, 0x89, RDI, R_FRAME); /* mov rdi, rbp */
        lea(b, RSI, R_SP, item(c, 0));
        call_helper(c, op);
        break;
    case JIT_INSTR:
    case JIT_END: {
        gas_to_frame(c);
        rr(b, 0x89, RDI, R_FRAME);
        lea(b, RSI, R_SP, item(c, 0));
        call_helper(c, op);
        if (kind == JIT_END) { /* eax: the frame's status; frame->gas is exact */
            jmp_to(b, TO_EPILOGUE, 0);
            return;
        }
        put8(b, 0x85); /* test eax, eax: the status is 32 bits, rax's upper half is undefined */
        put8(b, 0xc0);
        jcc_to(b, CC_NE, TO_EPILOGUE, 0);
        load(b, R_GAS, R_FRAME, offsetof(frame, gas));
        c->off += info->stack_out - info->stack_in;
        int64_t rest = rest_after(c);
        if (rest) {
            /* The rest of the block can no longer be paid for: the
             * interpreter finds where it runs out. */
            alu_imm(b, IMM_SUB, R_GAS, (int32_t)rest);
            jcc_to(b, CC_S, TO_STUB, new_stub(b, (uint32_t)next_pc, c->off, rest));
        }
        return;
    }
    default:
        return;
    }
    c->off += info->stack_out - info->stack_in;
}

/* Instructions that only push a word computed from nothing else. */
static bool pure_push(uint8_t op) { return (op >= OP_PUSH0 && op <= OP_PUSH32) || op == OP_PC || (op >= OP_DUP1 && op <= OP_DUP16); }

/* A pure push whose word the next instruction, POP, throws away: nothing
 * to emit (the block already charged both). */
static bool elide_pop(compiler *c, uint8_t op, size_t next_pc)
{
    if (!pure_push(op) || next_pc >= c->ci->code_len || c->ci->code[next_pc] != OP_POP ||
        !c->optab->defined[op] || !c->optab->defined[OP_POP])
        return false;
    c->spent += c->optab->base_gas[OP_POP];
    return true;
}

/* rax = frame memory + the offset in stack item `i` when [offset, offset+32)
 * lies in memory already paid for; otherwise a jump whose rel32 positions
 * go to slow[0..2]. */
static void memory_word_address(compiler *c, int i, size_t slow[3])
{
    asm_buf *b = c->b;
    int32_t d = item(c, i);
    load(b, RAX, R_SP, d + 8);
    rm(b, ALU_OR, RAX, R_SP, d + 16);
    rm(b, ALU_OR, RAX, R_SP, d + 24);
    slow[0] = jcc_near(b, CC_NE);
    load(b, RCX, R_FRAME, offsetof(frame, memory_size));
    alu_imm(b, IMM_SUB, RCX, 32);
    slow[1] = jcc_near(b, CC_B);          /* less than 32 bytes of memory */
    load(b, RAX, R_SP, d);
    rr(b, 0x39, RAX, RCX);                /* offset > size - 32 */
    slow[2] = jcc_near(b, CC_A);
    rm(b, ALU_ADD, RAX, R_FRAME, offsetof(frame, memory));
}

/* Memory word at rax + disp into stack item `dest`, through r8..r11 (which
 * then hold it). */
static void load_memory_word(compiler *c, int32_t disp, int dest)
{
    int32_t d = item(c, dest);
    for (int k = 0; k < 4; k++) {
        load(c->b, cache_reg[k], RAX, disp + 24 - 8 * k);
        bswap(c->b, cache_reg[k]);
        store(c->b, R_SP, d + 8 * k, cache_reg[k]);
    }
}

/* Stack item `src` (from r8..r11 when cached) to the memory word at rax + disp. */
static void store_memory_word(compiler *c, int src, int32_t disp)
{
    bool cached = in_cache(c, src);
    int32_t s = item(c, src);
    for (int k = 0; k < 4; k++) {
        if (cached)
            rr(c->b, 0x89, RCX, cache_reg[k]);
        else
            load(c->b, RCX, R_SP, s + 8 * k);
        bswap(c->b, RCX);
        store(c->b, RAX, disp + 24 - 8 * k, RCX);
    }
}

static cold_path *new_cold_path(compiler *c, uint8_t op, size_t next_pc)
{
    c->cold = grow(c->cold, &c->cap_cold, c->n_cold + 1, sizeof *c->cold);
    cold_path *p = &c->cold[c->n_cold++];
    *p = (cold_path){.op = op, .off = c->off, .block_cost = c->block_cost, .spent = c->spent, .next_pc = next_pc};
    return p;
}

/* MLOAD and MSTORE inside memory already paid for, as machine code; the
 * helper otherwise (growth, gas, huge offsets), out of line. An MLOAD
 * leaves its word in r8..r11 on both paths. */
static void emit_memory_access(compiler *c, uint8_t op, size_t next_pc)
{
    size_t slow[3];
    memory_word_address(c, 0, slow);
    cold_path *p = new_cold_path(c, op, next_pc);
    p->n_from = 3;
    for (int k = 0; k < 3; k++) p->from[k] = slow[k];
    if (op == OP_MLOAD) {
        load_memory_word(c, 0, 0);
        cache_hold(c, 0);
    } else {
        store_memory_word(c, 1, 0);
        c->off -= 2;
        cache_drop(c);
    }
    p->resume = c->b->len;
}

/* PUSH c; MLOAD or MSTORE with c small: the bounds check is one compare
 * with the memory size; the helper (with c stored as its operand) when it
 * fails. */
static bool emit_memory_constant(compiler *c, uint32_t pc, uint8_t op, size_t next_pc)
{
    if (op < OP_PUSH1 || op > OP_PUSH4 || next_pc >= c->ci->code_len) return false;
    uint8_t access = c->ci->code[next_pc];
    if (access != OP_MLOAD && access != OP_MSTORE) return false;
    u256 v = u256_load_be_n(c->ci->code + pc + 1, (size_t)(op - OP_PUSH0));
    if (v.w[0] > (uint64_t)INT32_MAX - 64) return false;
    asm_buf *b = c->b;
    int32_t offset = (int32_t)v.w[0];
    c->spent += c->optab->base_gas[access];
    rex(b, true, 0, R_FRAME); /* cmp qword [rbp + memory_size], offset + 32 */
    put8(b, 0x81);
    mem(b, 7, R_FRAME, offsetof(frame, memory_size));
    put32(b, (uint32_t)(offset + 32));
    cold_path *p = new_cold_path(c, access, next_pc + 1);
    p->push_offset = true;
    p->offset = v;
    p->n_from = 1;
    p->from[0] = jcc_near(b, CC_B);
    load(b, RAX, R_FRAME, offsetof(frame, memory));
    if (access == OP_MLOAD) {
        c->off++;
        load_memory_word(c, offset, 0);
        cache_hold(c, 0);
    } else {
        store_memory_word(c, 0, offset);
        c->off--;
        cache_drop(c);
    }
    p->resume = b->len;
    return true;
}

/* The slow paths, after the main code: each as the helper call its fast
 * path stands for, in that fast path's compile-time state, then back. */
static void emit_cold_paths(compiler *c)
{
    asm_buf *b = c->b;
    for (size_t i = 0; i < c->n_cold; i++) {
        const cold_path *p = &c->cold[i];
        for (size_t k = 0; k < p->n_from; k++) bind_near(b, p->from[k]);
        c->off = p->off;
        c->block_cost = p->block_cost;
        c->spent = p->spent;
        if (p->push_offset) push_constant(c, &p->offset);
        emit_helper(c, p->op, JIT_INSTR, p->next_pc);
        if (p->op == OP_MLOAD) /* the word in r8..r11, as the fast path leaves it */
            for (int k = 0; k < 4; k++) load(b, cache_reg[k], R_SP, item(c, 0) + 8 * k);
        put8(b, 0xe9); /* jmp back */
        put32(b, (uint32_t)(int32_t)((int64_t)p->resume - (int64_t)(b->len + 4)));
    }
}

/* ------------------------------------------------------ fused arithmetic */

/* An operand of a two-word operation: a stack item, or the constant of a
 * PUSH folded into the instruction after it. */
typedef struct {
    bool is_const;
    int item;
    u256 value;
} operand;

static operand stack_operand(int item) { return (operand){.is_const = false, .item = item}; }

/* ALU opcodes of the "r/m, reg" register form. */
static uint8_t alu_rr_form(uint8_t rm_form) { return (uint8_t)(rm_form - 2); }
/* ... and the /digit of their immediate form. */
static int alu_digit(uint8_t rm_form) { return (rm_form >> 3) & 7; }

static bool operand_cached(const compiler *c, const operand *o) { return !o->is_const && in_cache(c, o->item); }

/* reg = limb k of an operand. */
static void load_operand(compiler *c, int reg, const operand *o, int k)
{
    if (o->is_const)
        mov_imm(c->b, reg, o->value.w[k]);
    else if (operand_cached(c, o)) {
        if (reg != cache_reg[k]) rr(c->b, 0x89, reg, cache_reg[k]);
    } else
        load(c->b, reg, R_SP, item(c, o->item) + 8 * k);
}

/* reg (op)= limb k of an operand; rcx is scratch for wide constants. */
static void alu_operand(compiler *c, uint8_t rm_form, int reg, const operand *o, int k)
{
    if (operand_cached(c, o)) {
        rr(c->b, alu_rr_form(rm_form), reg, cache_reg[k]);
        return;
    }
    if (!o->is_const) {
        rm(c->b, rm_form, reg, R_SP, item(c, o->item) + 8 * k);
        return;
    }
    uint64_t v = o->value.w[k];
    if ((int64_t)v == (int64_t)(int32_t)v) {
        alu_imm(c->b, alu_digit(rm_form), reg, (int32_t)v);
    } else {
        mov_imm(c->b, RCX, v);
        rr(c->b, alu_rr_form(rm_form), reg, RCX);
    }
}

/* ADD, SUB, AND, OR, XOR: a op b into stack item `dest`, which becomes the
 * cached word (computed in r8..r11, then stored). */
static void emit_arith(compiler *c, uint8_t op, const operand *a, const operand *b, int dest)
{
    uint8_t first, next;
    switch (op) {
    case OP_ADD: first = ALU_ADD, next = ALU_ADC; break;
    case OP_SUB: first = ALU_SUB, next = ALU_SBB; break;
    case OP_AND: first = next = ALU_AND; break;
    case OP_OR: first = next = ALU_OR; break;
    default: first = next = ALU_XOR; break;
    }
    if (operand_cached(c, b) && op != OP_SUB) { /* commutative: work on the cached one in place */
        const operand *t = a;
        a = b;
        b = t;
    }
    bool a_cached = operand_cached(c, a), b_cached = operand_cached(c, b);
    for (int k = 0; k < 4; k++) { /* mov leaves the carry alone */
        if (b_cached) { /* SUB from the cached word: through rax */
            load_operand(c, RAX, a, k);
            alu_operand(c, k ? next : first, RAX, b, k);
            rr(c->b, 0x89, cache_reg[k], RAX);
        } else {
            if (!a_cached) load_operand(c, cache_reg[k], a, k);
            alu_operand(c, k ? next : first, cache_reg[k], b, k);
        }
    }
    int32_t d = item(c, dest);
    for (int k = 0; k < 4; k++) store(c->b, R_SP, d + 8 * k, cache_reg[k]);
    cache_hold(c, dest);
}

/* MUL: the low 256 bits of a * b into stack item `dest`, schoolbook, with
 * the products of a constant's zero limbs left out. */
static void emit_mul(compiler *c, const operand *a, const operand *b, int dest)
{
    asm_buf *bf = c->b;
    cache_drop(c); /* r8..r11 are the accumulators: operands from memory */
    if (a->is_const) { /* the constant, if any, as b: multiplied from rcx */
        const operand *t = a;
        a = b;
        b = t;
    }
    const int *acc = cache_reg;
    for (int k = 0; k < 4; k++) mov_imm(bf, acc[k], 0);
    for (int i = 0; i < 4; i++) {
        for (int j = 0; i + j < 4; j++) {
            if (b->is_const && b->value.w[j] == 0) continue;
            if (a->is_const && a->value.w[i] == 0) continue;
            load_operand(c, RAX, a, i);
            int top = i + j == 3;
            if (b->is_const) {
                mov_imm(bf, RCX, b->value.w[j]);
                if (top) { /* imul rax, rcx: only the low half counts */
                    put8(bf, 0x48), put8(bf, 0x0f), put8(bf, 0xaf), put8(bf, 0xc1);
                } else { /* mul rcx */
                    put8(bf, 0x48), put8(bf, 0xf7), put8(bf, 0xe1);
                }
            } else if (top) { /* imul rax, [b_j] */
                rex(bf, true, RAX, R_SP);
                put8(bf, 0x0f), put8(bf, 0xaf);
                mem(bf, RAX, R_SP, item(c, b->item) + 8 * j);
            } else { /* mul qword [b_j] */
                rm(bf, 0xf7, 4, R_SP, item(c, b->item) + 8 * j);
            }
            rr(bf, 0x01, acc[i + j], RAX); /* add */
            if (!top) {
                rr(bf, 0x11, acc[i + j + 1], RDX); /* adc */
                for (int k = i + j + 2; k < 4; k++) alu_imm(bf, 2, acc[k], 0); /* adc 0 */
            }
        }
    }
    int32_t d = item(c, dest);
    for (int k = 0; k < 4; k++) store(bf, R_SP, d + 8 * k, acc[k]);
    cache_hold(c, dest);
}

/* SHL, SHR, SAR by a constant amount of the word in stack item `x`, in place. */
static void emit_shift(compiler *c, uint8_t op, const u256 *amount, int x)
{
    asm_buf *b = c->b;
    cache_forget(c, x);
    int32_t d = item(c, x);
    bool all = !u256_fits_u64(amount) || amount->w[0] >= 256;
    unsigned n = all ? 256 : (unsigned)amount->w[0];
    unsigned limbs = n / 64, bits = n % 64;
    if (op == OP_SAR) { /* rsi = the fill: 0 or all ones */
        load(b, RSI, R_SP, d + 24);
        rex(b, true, 0, RSI), put8(b, 0xc1), put8(b, 0xc0 | 7 << 3 | (RSI & 7)), put8(b, 63);
    }
    if (op == OP_SHL) {
        for (int k = 3; k >= 0; k--) {
            int hi = k - (int)limbs, lo = hi - 1;
            if (hi < 0) {
                store_imm(b, R_SP, d + 8 * k, 0);
                continue;
            }
            load(b, RAX, R_SP, d + 8 * hi);
            if (bits) {
                if (lo >= 0) { /* shld rax, rdx, bits */
                    load(b, RDX, R_SP, d + 8 * lo);
                    put8(b, 0x48), put8(b, 0x0f), put8(b, 0xa4), put8(b, 0xd0), put8(b, (uint8_t)bits);
                } else { /* shl rax, bits */
                    put8(b, 0x48), put8(b, 0xc1), put8(b, 0xe0), put8(b, (uint8_t)bits);
                }
            }
            store(b, R_SP, d + 8 * k, RAX);
        }
        return;
    }
    for (int k = 0; k < 4; k++) { /* SHR, SAR */
        int lo = k + (int)limbs, hi = lo + 1;
        if (lo > 3) {
            if (op == OP_SAR)
                store(b, R_SP, d + 8 * k, RSI);
            else
                store_imm(b, R_SP, d + 8 * k, 0);
            continue;
        }
        load(b, RAX, R_SP, d + 8 * lo);
        if (bits) {
            if (hi <= 3 || op == OP_SAR) { /* shrd rax, rdx (or the fill), bits */
                if (hi <= 3)
                    load(b, RDX, R_SP, d + 8 * hi);
                else
                    rr(b, 0x89, RDX, RSI);
                put8(b, 0x48), put8(b, 0x0f), put8(b, 0xac), put8(b, 0xd0), put8(b, (uint8_t)bits);
            } else { /* shr rax, bits */
                put8(b, 0x48), put8(b, 0xc1), put8(b, 0xe8), put8(b, (uint8_t)bits);
            }
        }
        store(b, R_SP, d + 8 * k, RAX);
    }
}

/* The flags of a comparison (or ISZERO of a), and the condition under which
 * the EVM's result is 1. */
static enum cond emit_condition(compiler *c, uint8_t op, const operand *a, const operand *b)
{
    switch (op) {
    case OP_ISZERO:
        load_operand(c, RAX, a, 0);
        for (int k = 1; k < 4; k++) alu_operand(c, ALU_OR, RAX, a, k);
        return CC_E;
    case OP_EQ:
        load_operand(c, RAX, a, 0);
        alu_operand(c, ALU_XOR, RAX, b, 0);
        for (int k = 1; k < 4; k++) {
            load_operand(c, RDX, a, k);
            alu_operand(c, ALU_XOR, RDX, b, k);
            rr(c->b, 0x09, RAX, RDX); /* or rax, rdx */
        }
        return CC_E;
    default: { /* LT, SLT: a - b; GT, SGT: b - a; the borrow (or sign) says */
        const operand *x = (op == OP_LT || op == OP_SLT) ? a : b, *y = x == a ? b : a;
        for (int k = 0; k < 4; k++) {
            load_operand(c, RAX, x, k);
            alu_operand(c, k ? ALU_SBB : ALU_CMP, RAX, y, k);
        }
        return (op == OP_LT || op == OP_GT) ? CC_B : CC_L;
    }
    }
}

static bool is_comparison(uint8_t op)
{
    return op == OP_EQ || op == OP_LT || op == OP_GT || op == OP_SLT || op == OP_SGT || op == OP_ISZERO;
}

/* Arithmetic the compiler emits from operands, with a preceding PUSH folded
 * in as a constant and a following [ISZERO] PUSH dest JUMPI folded into a
 * conditional jump. Returns the pc after everything emitted, 0 when `op`
 * starts no such sequence; *block_ended when a jump ended the block. */
static size_t emit_fused(compiler *c, size_t pc, uint8_t op, size_t next, bool *block_ended)
{
    const uint8_t *code = c->ci->code;
    size_t len = c->ci->code_len;
    const fork_opcode_table *t = c->optab;
    operand a, b;
    int dest, pops;
    uint8_t arith;
    size_t after;
    *block_ended = false;
    if (op >= OP_PUSH1 && op <= OP_PUSH32 && next < len && t->defined[code[next]] &&
        (code[next] == OP_ADD || code[next] == OP_SUB || code[next] == OP_AND || code[next] == OP_OR ||
         code[next] == OP_XOR || code[next] == OP_MUL || code[next] == OP_SHL || code[next] == OP_SHR ||
         code[next] == OP_SAR || (is_comparison(code[next]) && code[next] != OP_ISZERO))) {
        a = (operand){.is_const = true, .value = u256_load_be_n(code + pc + 1, (size_t)(op - OP_PUSH0))};
        b = stack_operand(0);
        dest = 0, pops = 0, arith = code[next], after = next + 1;
        c->spent += t->base_gas[arith];
    } else if (op == OP_ADD || op == OP_SUB || op == OP_AND || op == OP_OR || op == OP_XOR || op == OP_MUL ||
               (is_comparison(op) && op != OP_ISZERO)) {
        a = stack_operand(0), b = stack_operand(1);
        dest = 1, pops = 1, arith = op, after = next;
    } else if (op == OP_ISZERO) {
        a = stack_operand(0), b = a;
        dest = 0, pops = 0, arith = op, after = next;
    } else {
        return 0;
    }
    switch (arith) {
    case OP_ADD: case OP_SUB: case OP_AND: case OP_OR: case OP_XOR:
        emit_arith(c, arith, &a, &b, dest);
        c->off -= pops;
        return after;
    case OP_MUL:
        emit_mul(c, &a, &b, dest);
        c->off -= pops;
        return after;
    case OP_SHL: case OP_SHR: case OP_SAR:
        emit_shift(c, arith, &a.value, 0); /* only with a PUSHed amount */
        return after;
    default:
        break;
    }
    enum cond cc = emit_condition(c, arith, &a, &b);
    /* [ISZERO] PUSHn dest JUMPI, dest a JUMPDEST: jump on the flags. */
    size_t at = after;
    bool negate = at < len && code[at] == OP_ISZERO && t->defined[OP_ISZERO];
    if (negate) at++;
    if (at < len && code[at] >= OP_PUSH1 && code[at] <= OP_PUSH32) {
        size_t jumpi = at + instr_len(code[at]);
        u256 v = u256_load_be_n(code + at + 1, (size_t)(code[at] - OP_PUSH0));
        if (jumpi < len && code[jumpi] == OP_JUMPI && u256_fits_u64(&v) && code_is_jumpdest(c->ci, v.w[0])) {
            c->spent += (negate ? t->base_gas[OP_ISZERO] : 0) + t->base_gas[code[at]] + t->base_gas[OP_JUMPI];
            uint32_t target = (uint32_t)v.w[0];
            if (negate) cc = (enum cond)(cc ^ 1);
            c->off -= pops + 1;
            sync_sp(c); /* lea: the flags survive */
            if (target <= pc) { /* backward: poll the abort flag when taken */
                size_t skip = jcc_short(c->b, (enum cond)(cc ^ 1));
                poll_abort(c);
                jmp_to(c->b, TO_BLOCK, target);
                bind_short(c->b, skip);
            } else {
                jcc_to(c->b, cc, TO_BLOCK, target);
            }
            *block_ended = true;
            return jumpi + 1;
        }
    }
    setcc_eax(c->b, cc);
    store_flag(c, dest);
    c->off -= pops;
    return after;
}

/* PUSH followed by JUMP or JUMPI to a valid destination: a direct jump.
 * Returns false when not applicable. */
static bool emit_static_jump(compiler *c, uint32_t pc, uint8_t op, size_t next_pc)
{
    if (op < OP_PUSH1 || op > OP_PUSH32 || next_pc >= c->ci->code_len) return false;
    uint8_t jump = c->ci->code[next_pc];
    if ((jump != OP_JUMP && jump != OP_JUMPI) || !c->optab->defined[jump]) return false;
    u256 v = u256_load_be_n(c->ci->code + pc + 1, (size_t)(op - OP_PUSH0));
    if (!u256_fits_u64(&v) || !code_is_jumpdest(c->ci, v.w[0])) return false;
    uint32_t dest = (uint32_t)v.w[0];
    asm_buf *b = c->b;
    c->spent += c->optab->base_gas[jump];
    bool backward = dest <= pc;
    if (jump == OP_JUMP) {
        sync_sp(c);
        if (backward) poll_abort(c);
        jmp_to(b, TO_BLOCK, dest);
    } else {
        test_word(c, 0);
        c->off--;
        sync_sp(c);
        size_t not_taken = jcc_short(b, CC_E);
        if (backward) poll_abort(c);
        jmp_to(b, TO_BLOCK, dest);
        bind_short(b, not_taken);
    }
    return true;
}

static void emit_prologue(asm_buf *b)
{
    static const int saved[6] = {RBX, RBP, R12, R13, R14, R15};
    for (int i = 0; i < 6; i++) push_reg(b, saved[i]);
    alu_imm(b, IMM_SUB, RSP, 8); /* 16-byte alignment for helper calls */
    rr(b, 0x89, R_CTX, RDI);
    rr(b, 0x89, R_FRAME, RSI);
    rr(b, 0x89, R_HELPERS, RDX);
    load(b, R_SP, R_CTX, offsetof(jit_ctx, sp));
    load(b, R_GAS, R_CTX, offsetof(jit_ctx, gas));
    load(b, R_BOTTOM, R_CTX, offsetof(jit_ctx, stack_bottom));
}

static void emit_epilogue(asm_buf *b)
{
    static const int saved[6] = {RBX, RBP, R12, R13, R14, R15};
    alu_imm(b, IMM_ADD, RSP, 8);
    for (int i = 5; i >= 0; i--) pop_reg(b, saved[i]);
    put8(b, 0xc3);
}

static void emit_stub(asm_buf *b, const stub *s)
{
    if (s->gas_add) {
        lea(b, RAX, R_GAS, (int32_t)s->gas_add);
        store(b, R_FRAME, offsetof(frame, gas), RAX);
    } else {
        store(b, R_FRAME, offsetof(frame, gas), R_GAS);
    }
    lea(b, RAX, R_SP, 32 * s->sp_off);
    store(b, R_CTX, offsetof(jit_ctx, sp), RAX);
    rex(b, false, 0, R_CTX); /* mov dword [r13 + deopt_pc], pc */
    put8(b, 0xc7);
    mem(b, 0, R_CTX, offsetof(jit_ctx, deopt_pc));
    put32(b, s->pc);
    mov_imm(b, RAX, JIT_DEOPT);
    jmp_to(b, TO_EPILOGUE, 0);
}

bool jit_compile(const code_info *ci, enum fork f, jit_image *out)
{
    memset(out, 0, sizeof *out);
    if (ci->code_len == 0 || ci->code_len > JIT_MAX_CODE) return false;
    if (ci->code_len > JIT_MAX_STRAIGHT_LINE && !has_jump(ci)) return false;
    asm_buf b = {0};
    compiler c = {.ci = ci, .optab = opcode_table_for_fork(f), .b = &b};
    c.block_at = xmalloc((ci->code_len + 1) * sizeof *c.block_at);
    for (size_t i = 0; i <= ci->code_len; i++) c.block_at[i] = -1;

    emit_prologue(&b);
    const uint8_t *code = ci->code;
    bool in_block = false, dead = false;
    size_t pc = 0;
    while (pc < ci->code_len && !b.failed) {
        uint8_t op = code[pc];
        size_t next = pc + instr_len(op);
        if (op == OP_JUMPDEST) {
            if (in_block) sync_sp(&c);
            start_block(&c, pc);
            in_block = true;
            dead = false;
        } else if (dead) {
            pc = next;
            continue;
        } else if (!in_block) {
            start_block(&c, pc);
            in_block = true;
        }
        enum jit_op_kind kind = kind_in_fork(&c, op);
        if (kind == JIT_DEOPT_OP) {
            jmp_to(&b, TO_STUB, new_stub(&b, (uint32_t)pc, c.off, rest_after(&c)));
            in_block = false;
            dead = true;
            pc = next;
            continue;
        }
        c.spent += c.optab->base_gas[op];
        bool fused_jump;
        size_t fused_end = emit_fused(&c, pc, op, next, &fused_jump);
        if (fused_end) {
            next = fused_end;
            if (fused_jump) in_block = false; /* JUMPI: the fallthrough starts a block */
        } else if (emit_static_jump(&c, (uint32_t)pc, op, next)) {
            uint8_t jump = code[next];
            next += 1;
            in_block = false;
            dead = jump == OP_JUMP;
        } else if (elide_pop(&c, op, next) || emit_memory_constant(&c, (uint32_t)pc, op, next)) {
            next += 1; /* the POP, MLOAD or MSTORE: done */
        } else {
            if (op == OP_MLOAD || op == OP_MSTORE)
                emit_memory_access(&c, op, next);
            else if (kind == JIT_NATIVE)
                emit_native(&c, (uint32_t)pc, op);
            else
                emit_helper(&c, op, kind, next);
            if (ends_block(op, kind)) {
                in_block = false;
                dead = op != OP_JUMPI;
            }
        }
        pc = next;
    }
    if (!dead) { /* running off the end (or into the padding of a cut PUSH) is STOP */
        if (!in_block) start_block(&c, ci->code_len);
        sync_sp(&c);
        emit_stop(&b);
    }

    /* Out-of-line code, then the jumps patched. */
    emit_cold_paths(&c);
    free(c.cold);
    size_t *stub_at = xmalloc((b.n_stubs + 1) * sizeof *stub_at);
    for (size_t i = 0; i < b.n_stubs; i++) {
        stub_at[i] = b.len;
        emit_stub(&b, &b.stubs[i]);
    }
    size_t timeout_at = b.len;
    mov_imm(&b, RAX, EXEC_TIMEOUT);
    size_t epilogue_at = b.len;
    emit_epilogue(&b);
    for (size_t i = 0; i < b.n_fix && !b.failed; i++) {
        const fixup *fx = &b.fix[i];
        int64_t target = 0;
        switch (fx->kind) {
        case TO_BLOCK:
            target = c.block_at[fx->index];
            if (target < 0) b.failed = true; /* a JUMPDEST always starts a block */
            break;
        case TO_STUB: target = (int64_t)stub_at[fx->index]; break;
        case TO_EPILOGUE: target = (int64_t)epilogue_at; break;
        case TO_TIMEOUT: target = (int64_t)timeout_at; break;
        }
        int32_t rel = (int32_t)(target - (int64_t)(fx->at + 4));
        memcpy(b.p + fx->at, &rel, 4);
    }
    free(stub_at);
    free(b.fix);
    free(b.stubs);
    if (b.failed || b.len > INT32_MAX) {
        free(b.p);
        free(c.block_at);
        return false;
    }
    out->native = b.p;
    out->native_len = b.len;
    out->code_len = ci->code_len;
    out->jump_table = xcalloc(ci->code_len, sizeof *out->jump_table);
    for (size_t i = 0; i < ci->code_len; i++)
        if (code_is_jumpdest(ci, i)) out->jump_table[i] = c.block_at[i];
    free(c.block_at);
    return true;
}

void jit_image_free(jit_image *img)
{
    free(img->native);
    free(img->jump_table);
    memset(img, 0, sizeof *img);
}
