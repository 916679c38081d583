/* The bytecode interpreter: one indirect jump per instruction (computed
 * goto). Its labels, their stack and base-gas checks and their bodies are
 * generated from the opcode table, each body by the row's kind: ops.h's
 * functions inline, the instr_* helpers called; only the builtins (control
 * flow, POP, PC, GAS) are written out here.
 *
 * Checks per segment: every opcode has two labels, L_ with its own stack
 * and gas checks and F_ without (its body). Where a segment is entered (the
 * frame's start, a jump's target, a JUMPI not taken; code_cache.h) its
 * static gas is charged and its stack bounds checked at once; when they
 * hold, `labels` is the F_ table until the segment's end, else the L_ table,
 * so that an instruction fails exactly where and how it fails checked one
 * by one. A helper is given the exact gas (the prepaid rest of the segment
 * added back: the 63/64 of a call, SSTORE's stipend check, where a memory
 * expansion runs out); if what it charged leaves less than the rest of the
 * segment, the rest runs checked. GAS pushes the exact gas likewise. A
 * traced run and code outside the cache are checked one by one throughout.
 *
 * The stack grows upwards; `sp` points at the top item, so an empty stack
 * has sp == stack - 1. Gas lives in a local and is written back to the
 * frame around helper calls. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "vm/code_cache.h"
#include "vm/evm_internal.h"
#include "vm/ops.h"

/* Base gas known at compile time: the table's price for every opcode no
 * later fork repriced (those have a gas delta in opcodes.c and read the
 * per-fork table; so do zero-priced ones, harmlessly). test_opcodes checks
 * that the repriced set matches. */
enum {
#define FIXED_GAS(op, name, imm, in, out, g, fork, kind, flags) GAS_FIXED_##name = ((flags) & OPF_REPRICED) ? 0 : (g),
    OPCODES(FIXED_GAS)
#undef FIXED_GAS
};

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static void *fork_labels[FORK_COUNT][256];      /* L_: checked one by one */
static void *fork_fast_labels[FORK_COUNT][256]; /* F_: in a segment already checked */
static atomic_bool fork_labels_ready[FORK_COUNT];
static pthread_mutex_t fork_labels_lock = PTHREAD_MUTEX_INITIALIZER;

/* Stack words are copied as four 64-bit moves: most were just written that
 * way by an arithmetic result, and a 16-byte load of them would miss store
 * forwarding (a struct assignment compiles to 16-byte moves). */
static inline void copy_word(u256 *dst, const u256 *src)
{
    uint64_t w0 = src->w[0], w1 = src->w[1], w2 = src->w[2], w3 = src->w[3];
    dst->w[0] = w0;
    dst->w[1] = w1;
    dst->w[2] = w2;
    dst->w[3] = w3;
}

/* PUSHn's value, n a constant once inlined: the short and full-width
 * cases skip the general byte loop. */
static inline __attribute__((always_inline)) u256 push_value(const uint8_t *imm, size_t n)
{
    if (n == 0) return u256_zero();
    if (n == 1) return u256_from_u64(imm[0]);
    if (n == 2) return u256_from_u64((uint64_t)imm[0] << 8 | imm[1]);
    if (n == 32) return u256_load_be(imm);
    return u256_load_be_n(imm, n);
}

/* The first byte after the run of JUMPDESTs starting at `ip`, read 8 bytes
 * at a time: a byte after a JUMPDEST starts an instruction, so a run of
 * 0x5b bytes is a run of JUMPDESTs. The code's zero padding (33 bytes)
 * ends every run, so no read passes it. */
static inline const uint8_t *after_jumpdests(const uint8_t *ip)
{
    for (ip++;; ip += 8) {
        uint64_t w;
        memcpy(&w, ip, 8);
        const uint64_t other = w ^ 0x0101010101010101ULL * OP_JUMPDEST; /* zero bytes: JUMPDESTs */
        if (other) return ip + (__builtin_ctzll(other) >> 3);
    }
}

/* The byte after a PUSH2's target (code_plus_1 + the immediate), from the
 * two immediate bytes with one shift and one add after their loads: in a
 * run of jumps the next PUSH2's loads wait on it, the loop's critical path
 * (the immediate's byte swap, then code + value + 1, was two more:
 * jump_around 10.1 -> 8.8 us). The jump takes the target back from it,
 * one subtraction off that path. */
static inline __attribute__((always_inline)) const uint8_t *push2_after_target(const uint8_t *code_plus_1,
                                                                                const uint8_t *ip)
{
    const uint8_t *p = code_plus_1 + ip[2];
    __asm__("" : "+r"(p)); /* kept apart: else GCC adds the byte-swapped immediate */
    return p + ((size_t)ip[1] << 8);
}

static void emit_trace(frame *f, const uint8_t *ip, int64_t gas, const u256 *sp, const u256 *stack)
{
    trace_step step;
    uint8_t op = *ip;
    step.pc = (uint32_t)(ip - f->code->code);
    step.op = op;
    step.gas = gas;
    step.gas_cost = f->e->optab->base_gas[op];
    step.mem_size = f->memory_size;
    step.memory = f->memory;
    step.stack = stack;
    step.stack_len = (size_t)(sp - stack + 1);
    step.return_data = f->return_data;
    step.return_data_len = f->return_data_len;
    step.depth = f->msg->depth + 1;
    step.refund = state_get_refund(f->e->st);
    f->e->trace.on_step(f->e->trace.ctx, &step);
}

enum exec_status interp_run_from(frame *f, size_t start_pc, size_t start_height)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
    static void *const all_labels[256] = {
        [0 ... 255] = &&L_UNDEFINED,
#define LABEL_ROW(op, name, imm, in, out, gas, fork, kind, flags) [op] = &&L_##name,
        OPCODES(LABEL_ROW)
#undef LABEL_ROW
    };
    static void *const all_fast_labels[256] = {
        [0 ... 255] = &&L_UNDEFINED,
#define FAST_LABEL_ROW(op, name, imm, in, out, gas, fork, kind, flags) [op] = &&F_##name,
        OPCODES(FAST_LABEL_ROW)
#undef FAST_LABEL_ROW
        [OP_JUMPDEST] = &&JUMPDEST_RUN,
        [OP_PUSH2] = &&PUSH2_THEN_JUMP,
    };
#pragma GCC diagnostic pop
    static void *const trace_labels[256] = {[0 ... 255] = &&L_TRACE};

    evm *e = f->e;
    const enum fork fork = e->fork;
    if (UNLIKELY(!atomic_load_explicit(&fork_labels_ready[fork], memory_order_acquire))) {
        pthread_mutex_lock(&fork_labels_lock);
        if (!atomic_load_explicit(&fork_labels_ready[fork], memory_order_relaxed)) {
            for (int op = 0; op < 256; op++) {
                fork_labels[fork][op] = e->optab->defined[op] ? all_labels[op] : &&L_UNDEFINED;
                fork_fast_labels[fork][op] = e->optab->defined[op] ? all_fast_labels[op] : &&L_UNDEFINED;
            }
            atomic_store_explicit(&fork_labels_ready[fork], true, memory_order_release);
        }
        pthread_mutex_unlock(&fork_labels_lock);
    }
    void *const *const exec_labels = fork_labels[fork];
    void *const *const slow_labels = e->tracing ? trace_labels : exec_labels;
    void *const *const fast_labels = fork_fast_labels[fork];
    void *const *labels = slow_labels;
    const int32_t *const base_gas = e->optab->base_gas;

    const uint8_t *const code = f->code->code;
    const uint8_t *const code_plus_1 = code + 1;
    const code_segment *const segments = e->tracing ? NULL : code_segments(f->code, fork);
    /* The code's length, which only a jump reads, is kept in memory (its
     * address escapes), so that the jump's bound check is one cmp from
     * memory: as a local GCC spilled it with code, segments and fast_labels
     * and reloaded each into a register on every taken jump. Moving code and
     * segments there too cost blake2b_huff's shifts 0.4-0.6% in instructions
     * (its register allocation changed); this alone costs nothing there. */
    struct {
        size_t code_len;
    } jump_bound = {.code_len = f->code->code_len};
    __asm__ volatile("" : : "r"(&jump_bound) : "memory");
    const atomic_int *const abort_flag = e->abort_flag; /* never NULL (evm_new) */

    u256 *const stack = frame_stack(f->buffers);
    u256 *const stack_bottom = stack - 1;
    u256 *const stack_limit = stack_bottom + EVM_STACK_LIMIT; /* the highest slot sp may reach */
    u256 *sp = stack_bottom + start_height;
    int64_t gas = f->gas;
    const uint8_t *ip = code + start_pc;
    enum exec_status status = EXEC_SUCCESS;

#define HEIGHT() (sp - stack_bottom)
/* Enters the segment at ip: its checks at once and the F_ table when they
 * hold (then `then_fast`), the L_ table else (then `then_slow`). */
#define ENTER_SEGMENT(then_fast, then_slow)                                                        \
    do {                                                                                           \
        if (LIKELY(segments != NULL)) {                                                            \
            const code_segment seg = segments[ip - code];                                          \
            const uint64_t height_bytes = (uint64_t)((const char *)sp - (const char *)stack_bottom); \
            if (LIKELY(gas >= (int64_t)seg.gas && height_bytes - seg.need <= seg.span)) {           \
                gas -= seg.gas;                                                                    \
                labels = fast_labels;                                                              \
                then_fast;                                                                         \
            }                                                                                      \
        }                                                                                          \
        labels = slow_labels;                                                                      \
        then_slow;                                                                                 \
    } while (0)
/* Static gas of the rest of the segment, prepaid: what a helper or GAS at ip
 * adds back to see the exact gas (nothing when checked one by one). */
#define BASE_GAS(name) (GAS_FIXED_##name ? GAS_FIXED_##name : base_gas[OP_##name])
#define REST_GAS(name) (labels == fast_labels ? (int64_t)segments[ip - code].gas - BASE_GAS(name) : 0)
/* The handler's address is loaded into a register and jumped to from there:
 * left to itself GCC folds the load into the jump (jmp *[table + op*8]),
 * which on this machine ran JUMPDEST_n0 and loop_with_many_jumpdests
 * 1.6-1.9x slower in wall clock for the same instructions. */
#define DISPATCH()                                \
    do {                                          \
        void *handler_ = labels[*ip];             \
        __asm__("" : "+r"(handler_));             \
        goto *handler_;                           \
    } while (0)
#define NEXT()    \
    do {          \
        ip++;     \
        DISPATCH(); \
    } while (0)
#define HALT(st)       \
    do {               \
        status = (st); \
        goto done;     \
    } while (0)
/* The checks every instruction makes before it runs, with its table row's
 * stack constants folded in at compile time; each failure has its own
 * label, so that no status is loaded before the branch. They compare `sp` with fixed
 * pointers (one cmp each) rather than a height computed from it (three
 * instructions each). An opcode taking nothing has no underflow check: it
 * cannot underflow, but GCC cannot know that of a pointer comparison and
 * kept one in every JUMPDEST, PUSH and PC (a third of JUMPDEST's handler). */
#define BEGIN(name, in, out)                                                     \
    L_##name:                                                                    \
    if ((in) > 0 && UNLIKELY(sp < stack_bottom + (in))) goto stack_underflow;  \
    if ((out) > (in) && UNLIKELY(sp > stack_limit - ((out) - (in))))             \
        goto stack_overflow;                                                     \
    gas -= BASE_GAS(name);                                                       \
    if (UNLIKELY(gas < 0)) goto out_of_gas;                                      \
    F_##name:
/* Calls an instruction's helper, with the exact gas synced through the
 * frame; the frame ends when the helper does not succeed, or always when
 * the opcode halts (its status is the frame's). */
#define CALL_HELPER(name, flags)                                                  \
    {                                                                             \
        const int64_t rest = REST_GAS(name);                                      \
        f->gas = gas + rest;                                                      \
        status = instr_##name(f, sp);                                             \
        gas = f->gas;                                                             \
        if (((flags) & OPF_HALTS) || UNLIKELY(status != EXEC_SUCCESS)) goto done; \
        gas -= rest;                                                              \
        if (UNLIKELY(gas < 0)) {                                                  \
            gas += rest;                                                          \
            labels = slow_labels;                                                 \
        }                                                                         \
    }

/* Each table row's body, chosen by its kind; the builtins' bodies are the
 * BUILTIN_<NAME> macros below. */
#define IMPL_INVALID(name, imm, in, out, flags) \
    L_##name:                                   \
    F_##name:                                   \
    HALT(EXEC_INVALID_OPCODE);
#define IMPL_BUILTIN(name, imm, in, out, flags) \
    BEGIN(name, in, out)                        \
    BUILTIN_##name
#define IMPL_PUSH(name, imm, in, out, flags) \
    BEGIN(name, in, out)                     \
    *++sp = push_value(ip + 1, imm);         \
    ip += (imm) + 1;                         \
    DISPATCH();
#define IMPL_DUP(name, imm, in, out, flags) \
    BEGIN(name, in, out)                    \
    copy_word(&sp[1], &sp[1 - (in)]);       \
    sp++;                                   \
    NEXT();
#define IMPL_SWAP(name, imm, in, out, flags) \
    BEGIN(name, in, out)                     \
    {                                        \
        u256 t;                              \
        copy_word(&t, &sp[0]);               \
        copy_word(&sp[0], &sp[1 - (in)]);    \
        copy_word(&sp[1 - (in)], &t);        \
    }                                        \
    NEXT();
#define IMPL_STACK(name, imm, in, out, flags) \
    BEGIN(name, in, out)                      \
    op_##name(sp);                            \
    sp += (out) - (in);                       \
    NEXT();
#define IMPL_CONTEXT(name, imm, in, out, flags) \
    BEGIN(name, in, out)                        \
    op_##name(f, sp);                           \
    sp += (out) - (in);                         \
    NEXT();
#define IMPL_HELPER(name, imm, in, out, flags) \
    BEGIN(name, in, out)                       \
    CALL_HELPER(name, flags)                   \
    sp += (out) - (in);                        \
    NEXT();
/* Within memory already paid for, the helper is skipped. */
#define IMPL_HELPER_FAST(name, imm, in, out, flags)  \
    BEGIN(name, in, out)                             \
    if (LIKELY(op_##name##_in_bounds(f, sp))) {      \
        sp += (out) - (in);                          \
        NEXT();                                      \
    }                                                \
    CALL_HELPER(name, flags)                         \
    sp += (out) - (in);                              \
    NEXT();

#define BUILTIN_STOP HALT(EXEC_SUCCESS);
#define BUILTIN_POP \
    sp--;           \
    NEXT();
#define BUILTIN_JUMPDEST NEXT();
#define BUILTIN_PC                                   \
    *++sp = u256_from_u64((uint64_t)(ip - code));    \
    NEXT();
#define BUILTIN_GAS                                         \
    *++sp = u256_from_u64((uint64_t)(gas + REST_GAS(GAS))); \
    NEXT();
/* A taken jump polls the abort flag, so a loop cannot run past a timeout.
 * Its target starts a segment, whose record also says whether a JUMPDEST
 * is there; when the segment is checked at once, that JUMPDEST (paid with
 * it) is stepped over. JUMP_WITH_SEGMENTS is the part for cached code
 * (segments != NULL), which PUSH2_THEN_JUMP also takes; `to_fast_table`
 * selects the F_ table, which PUSH2_THEN_JUMP, run from it, has already;
 * `after_target_` is code + target + 1, where a checked segment goes on. */
#define JUMP_WITH_SEGMENTS(target_, after_target_, to_fast_table)                                  \
    {                                                                                              \
        const uint64_t to = (target_);                                                             \
        if (UNLIKELY(to >= jump_bound.code_len)) HALT(EXEC_BAD_JUMP);                              \
        const code_segment seg = segments[to];                                                     \
        if (UNLIKELY(!(seg.span & 1))) HALT(EXEC_BAD_JUMP);                                        \
        if (UNLIKELY(atomic_load_explicit(abort_flag, memory_order_relaxed))) HALT(EXEC_TIMEOUT);  \
        const uint64_t height_bytes = (uint64_t)((const char *)sp - (const char *)stack_bottom);   \
        if (LIKELY(gas >= (int64_t)seg.gas && height_bytes - seg.need <= seg.span)) {             \
            gas -= seg.gas;                                                                        \
            to_fast_table;                                                                         \
            ip = (after_target_);                                                                  \
            DISPATCH();                                                                            \
        }                                                                                          \
        ip = code + to;                                                                            \
        labels = slow_labels;                                                                      \
        DISPATCH();                                                                                \
    }
#define JUMP_TO(dest)                                                                              \
    {                                                                                              \
        if (UNLIKELY(!u256_fits_u64(dest))) HALT(EXEC_BAD_JUMP);                                   \
        const uint64_t target = (dest)->w[0];                                                      \
        if (LIKELY(segments != NULL)) JUMP_WITH_SEGMENTS(target, code + target + 1, labels = fast_labels) \
        if (UNLIKELY(!code_is_jumpdest(f->code, target))) HALT(EXEC_BAD_JUMP);                     \
        if (UNLIKELY(atomic_load_explicit(abort_flag, memory_order_relaxed))) HALT(EXEC_TIMEOUT);  \
        ip = code + target;                                                                        \
        DISPATCH();                                                                                \
    }
#define BUILTIN_JUMP                \
    {                               \
        const u256 *dest = sp--;    \
        JUMP_TO(dest)               \
    }
#define BUILTIN_JUMPI                               \
    {                                               \
        const u256 *dest = sp, *cond = sp - 1;      \
        sp -= 2;                                    \
        if (!u256_is_zero(cond)) {                  \
            JUMP_TO(dest)                           \
        }                                           \
    }                                               \
    ip++;                                           \
    ENTER_SEGMENT(DISPATCH(), DISPATCH());

    if (start_pc <= jump_bound.code_len)
        ENTER_SEGMENT(DISPATCH(), DISPATCH());
    DISPATCH();

L_TRACE:
    f->gas = gas;
    emit_trace(f, ip, gas, sp, stack);
    goto *exec_labels[*ip];

/* JUMPDEST in a checked segment (the F_ table's entry): it and the
 * JUMPDESTs right after it were paid with the segment, and none has an
 * effect, so the run is stepped over at once (JUMPDEST-dense code: one
 * dispatch per run, not per byte). */
JUMPDEST_RUN:
    ip = after_jumpdests(ip);
    DISPATCH();

/* PUSH2 in a checked segment (the F_ table's entry): when a JUMP or JUMPI
 * follows (a jump to a constant: Solidity's every jump but a function's
 * return), the pair runs as one, the target taken from a register instead
 * of stored to the stack and loaded back (a store and a load on the path
 * from one block's code to the next); the JUMP or JUMPI, in the same
 * segment, was paid with it. Not PUSH1: mostly data, it paid more for the
 * test than its jumps gained (sha1_shifts). */
PUSH2_THEN_JUMP: {
    const uint8_t after = ip[3];
    if (after == OP_JUMP) {
        const uint8_t *const after_target = push2_after_target(code_plus_1, ip);
        JUMP_WITH_SEGMENTS((uint64_t)(after_target - code_plus_1), after_target, (void)0)
    }
    if (after == OP_JUMPI) {
        const bool taken = !u256_is_zero(sp);
        sp--;
        if (taken) {
            const uint8_t *const after_target = push2_after_target(code_plus_1, ip);
            JUMP_WITH_SEGMENTS((uint64_t)(after_target - code_plus_1), after_target, (void)0)
        }
        ip += 4;
        ENTER_SEGMENT(DISPATCH(), DISPATCH());
    }
    *++sp = u256_from_u64((uint64_t)ip[1] << 8 | ip[2]);
    ip += 3;
    DISPATCH();
}

L_UNDEFINED:
    HALT(EXEC_INVALID_OPCODE);
stack_underflow:
    /* An empty asm keeps this block apart: without it GCC loaded the status
     * into the return register before every underflow check. */
    __asm__ volatile("");
    HALT(EXEC_STACK_UNDERFLOW);
stack_overflow:
    HALT(EXEC_STACK_OVERFLOW);
out_of_gas:
    HALT(EXEC_OUT_OF_GAS);

#define IMPL_ROW(op, name, imm, in, out, gas, fork, kind, flags) IMPL_##kind(name, imm, in, out, flags)
    OPCODES(IMPL_ROW)
#undef IMPL_ROW

done:
    f->gas = gas;
    return status;
}
