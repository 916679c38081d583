/* The compiler tier against the interpreter. The instructions the compiler
 * emits as machine code itself (stack moves, ADD, SUB, MUL, DIV, MOD, bitwise operations,
 * comparisons, jumps, PC, GAS) have no shared C function with the
 * interpreter, so they are checked differentially here: random programs run
 * on both engines must give the same status, gas, output and state, the
 * compiled side must have run compiled (not the interpreter twice), and a
 * good share of runs must end in compiled code rather than hand over. Also:
 * hand-overs to the interpreter, the abort flag in compiled loops, W^X,
 * tiering, and the program store round trip. (`make conformance` also runs
 * every state-test fixture with --engine jit: every frame is compiled first,
 * but code the compiler refuses, or frames under a tracer, run interpreted;
 * the runner prints both counts.) */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "testlib_evm.h"
#include "base/keccak.h"
#include "jit/jit_analysis.h"
#include "jit/jit_internal.h"
#include "vm/code_cache.h"
#include "vm/opcodes.h"

/* Runs `code` with `gas` on `engine` (testlib_evm.h's state), with some
 * calldata. */
static void run(const uint8_t *code, size_t len, int64_t gas, enum fork f, enum engine engine,
                const atomic_int *abort_flag, test_outcome *out)
{
    static const uint8_t calldata[40] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0xff, 0xfe};
    test_call call = {.fork = f, .engine = engine, .gas = gas, .calldata = calldata,
                      .calldata_len = sizeof calldata, .abort_flag = abort_flag};
    test_run_code(code, len, &call, out);
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Opcodes a random program draws from: every opcode the compiler emits
 * natively, and a selection of helper-called ones (cheap, no state). */
static const uint8_t native_ops[] = {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_SDIV, OP_SMOD, OP_SHL, OP_SHR, OP_SAR, OP_LT, OP_GT, OP_SLT, OP_SGT, OP_EQ, OP_ISZERO, OP_AND, OP_OR, OP_XOR, OP_NOT, OP_POP,
    OP_PC, OP_GAS, OP_JUMPDEST, OP_PUSH0, OP_DUP1, OP_DUP2, OP_DUP3, OP_DUP16, OP_SWAP1, OP_SWAP2,
    OP_SWAP3, OP_SWAP16, OP_JUMP, OP_JUMPI,
};
static const uint8_t helper_ops[] = {
    OP_DIV, OP_SDIV, OP_MOD, OP_SMOD, OP_ADDMOD, OP_MULMOD, OP_SIGNEXTEND, OP_BYTE, OP_SHL, OP_SHR,
    OP_SAR, OP_CLZ, OP_EXP, OP_CALLDATALOAD, OP_CALLDATASIZE, OP_ADDRESS, OP_CALLER, OP_MSIZE, OP_MLOAD,
    OP_MSTORE, OP_MSTORE8, OP_SLOAD, OP_SSTORE, OP_TLOAD, OP_TSTORE, OP_KECCAK256, OP_CODESIZE, 0xfe, 0x0c,
};

/* Interesting words for PUSH: edges of signedness and of each limb. */
static void push_word(uint8_t *code, size_t *n, size_t code_len)
{
    uint8_t w[32] = {0};
    int width;
    switch (rnd() % 8) {
    case 0: width = 1; w[31] = (uint8_t)rnd(); break;               /* small */
    case 1: width = 2; w[30] = (uint8_t)(rnd() % (code_len >> 8 | 1)); w[31] = (uint8_t)rnd(); break;
    case 2: width = 32; memset(w, 0xff, 32); break;                  /* -1 */
    case 3: width = 32; w[0] = 0x80; break;                          /* -2^255 */
    case 4: width = 8; memset(w + 24, 0xff, 8); break;               /* 2^64-1 */
    case 5: width = 9; w[23] = 1; break;                             /* 2^64 */
    default:
        width = 1 + (int)(rnd() % 32);
        for (int i = 32 - width; i < 32; i++) w[i] = (uint8_t)rnd();
    }
    code[(*n)++] = (uint8_t)(OP_PUSH1 + width - 1);
    memcpy(code + *n, w + 32 - width, (size_t)width);
    *n += (size_t)width;
}

/* The share (percent) of random_program's other instructions that are a
 * DUP1..DUP16 (each as deep as the stack allows): the DUP-heavy set. */
static int dup_pct;

/* A random program of `body` instructions that mostly keeps its stack
 * valid (so that runs get far), with jumps to its JUMPDESTs (mostly
 * forward; backward ones loop until the gas runs out), then code that stores
 * the top eight stack items and returns them. */
static size_t random_program(uint8_t *code, int body, bool with_helpers, int push_pct)
{
    size_t n = 0, jump_at[256], dest_at[256];
    int height = 0, n_jumps = 0, n_dests = 0;
    for (int i = 0; i < 12; i++, height++) push_word(code, &n, 256);
    for (int i = 0; i < body; i++) {
        uint64_t r = rnd() % 100;
        if (r < (uint64_t)push_pct || height < 4) {
            push_word(code, &n, 256);
            height++;
        } else if (r < (uint64_t)push_pct + 8 && n_jumps < 256 && n_dests < 255) {
            bool conditional = rnd() % 2;
            if (conditional && rnd() % 2) { /* a comparison [+ ISZERO] the compiler fuses with JUMPI */
                static const uint8_t cmp[] = {OP_LT, OP_GT, OP_SLT, OP_SGT, OP_EQ, OP_ISZERO};
                uint8_t op = cmp[rnd() % sizeof cmp];
                if (rnd() % 2) push_word(code, &n, 256), height++;
                code[n++] = op;
                height -= op != OP_ISZERO;
                if (rnd() % 3 == 0) code[n++] = OP_ISZERO;
            }
            code[n++] = OP_PUSH2;
            jump_at[n_jumps++] = n;
            n += 2;
            if (rnd() % 4 == 0) /* PUSH1 0 ADD: a jump the analysis cannot resolve, through the jump table */
                code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_ADD;
            code[n++] = conditional ? OP_JUMPI : OP_JUMP;
            height -= conditional;
            dest_at[n_dests++] = n;
            code[n++] = OP_JUMPDEST;
        } else if (rnd() % 150 == 0) {
            code[n++] = rnd() % 2 ? 0xfe : 0x0c; /* INVALID, undefined */
        } else if (dup_pct && rnd() % 8 == 0) { /* PUSH1 offset; MLOAD or MSTORE: bounds checked once per block and size */
            code[n++] = OP_PUSH1;
            code[n++] = (uint8_t)(rnd() % 7 * 32 + (rnd() % 4 == 0 ? rnd() % 32 : 0));
            bool load = rnd() % 2 || height < 1;
            code[n++] = load ? OP_MLOAD : OP_MSTORE;
            height += load ? 1 : -1;
        } else if ((int)(rnd() % 100) < dup_pct && height < 1000) {
            int depth = 1 + (int)(rnd() % (uint64_t)(height < 16 ? height : 16));
            code[n++] = (uint8_t)(OP_DUP1 + depth - 1);
            height++;
        } else {
            uint8_t op = with_helpers && r < (uint64_t)push_pct + 35 ? helper_ops[rnd() % sizeof helper_ops]
                                                : native_ops[rnd() % sizeof native_ops];
            if (op == OP_JUMP || op == OP_JUMPI || op == 0xfe || op == 0x0c) op = OP_JUMPDEST;
            const opcode_info *info = &opcode_table[op];
            if (info->stack_in > height || height - info->stack_in + info->stack_out > 1000) continue;
            if ((op == OP_ADDMOD || op == OP_MULMOD) && rnd() % 2) { /* by a known power of two: PUSH 2^k SWAP2 */
                uint8_t m[32] = {0};
                unsigned k = (unsigned)(rnd() % 264); /* 256: the modulus 0; from 257: 2^256 - 1 */
                if (k < 256) m[31 - k / 8] = (uint8_t)(1u << (k % 8));
                if (k > 256) memset(m, 0xff, sizeof m);
                code[n++] = OP_PUSH32;
                memcpy(code + n, m, 32), n += 32;
                code[n++] = OP_SWAP2;
                height++;
            }
            if (op == OP_JUMPDEST) dest_at[n_dests++] = n;
            code[n++] = op;
            height += info->stack_out - info->stack_in;
        }
    }
    for (int i = 0; i < n_jumps; i++) {
        size_t target = 0xffff;
        uint64_t r = rnd() % 100;
        if (r < 80) { /* forward, when there is a later JUMPDEST */
            for (int d = 0; d < n_dests; d++) {
                if (dest_at[d] > jump_at[i] && (target == 0xffff || rnd() % 3 == 0)) target = dest_at[d];
            }
        } else if (r < 95 && n_dests) {
            target = dest_at[rnd() % (uint64_t)n_dests];
        } else {
            target = rnd() % (n + 8); /* anything, mostly not a JUMPDEST */
        }
        if (target == 0xffff) target = n; /* past the last JUMPDEST: the tail */
        code[jump_at[i]] = (uint8_t)(target >> 8);
        code[jump_at[i] + 1] = (uint8_t)target;
    }
    /* The tail is a JUMPDEST so that jumps "past the end" land on it. */
    code[n++] = OP_JUMPDEST;
    for (int i = 0; i < 8; i++) {
        code[n++] = OP_PUSH1;
        code[n++] = (uint8_t)(32 * i);
        code[n++] = OP_MSTORE;
    }
    static const uint8_t tail[] = {OP_PUSH2, 0x01, 0x00, OP_PUSH1, 0x00, OP_RETURN};
    memcpy(code + n, tail, sizeof tail);
    return n + sizeof tail;
}

/* Runs the code on both engines, which must agree, and each as asked: the
 * interpreter's frame interpreted, the other compiled (the random programs
 * make no calls, so one frame each, and are small enough that the compiler
 * never refuses them). Returns whether the compiled frame ran to its end
 * without handing over to the interpreter. */
static bool check_same(const uint8_t *code, size_t len, int64_t gas, enum fork f)
{
    test_outcome a, b;
    run(code, len, gas, f, ENGINE_INTERP, NULL, &a);
    run(code, len, gas, f, ENGINE_JIT, NULL, &b);
    if (!test_outcome_same(&a, &b)) {
        fprintf(stderr, "engines differ (fork %s, gas %lld): interp %s gas %lld, jit %s gas %lld; code ",
                fork_name(f), (long long)gas, exec_status_name(a.status), (long long)a.gas_left,
                exec_status_name(b.status), (long long)b.gas_left);
        for (size_t i = 0; i < len; i++) fprintf(stderr, "%02x", code[i]);
        fprintf(stderr, "\n");
        ck_abort_msg("the compiled program differs from the interpreter");
    }
    ck_assert_msg(a.frames_interp == 1 && a.frames_compiled == 0, "interp: %llu frames interpreted, %llu compiled",
                  (unsigned long long)a.frames_interp, (unsigned long long)a.frames_compiled);
    ck_assert_msg(b.frames_compiled == 1 && b.frames_interp == 0, "jit: %llu frames compiled, %llu interpreted",
                  (unsigned long long)b.frames_compiled, (unsigned long long)b.frames_interp);
    return b.deopts == 0;
}

#define RANDOM_PROGRAMS 20000

/* RANDOM_PROGRAMS random programs (seeded; drawing helper-called opcodes
 * too when with_helpers) through check_same on the five forks, with gas
 * `plenty` or, a third of the time, below `starved` (hand-overs at every
 * block). Then: they were compiled (a program per code and fork; a few
 * repeat), and compiled code, not only the interpreter it hands over to,
 * ran them: a good share ran to their end compiled. */
static void differential(uint64_t seed, const enum fork forks[5], bool with_helpers, int push_pct, int64_t plenty,
                         int64_t starved)
{
    rng_state = seed;
    uint8_t code[4096];
    jit_stats before = jit_get_stats();
    int ran_through = 0;
    for (int i = 0; i < RANDOM_PROGRAMS; i++) {
        size_t len = random_program(code, 5 + (int)(rnd() % 60), with_helpers, push_pct);
        int64_t gas = rnd() % 3 ? plenty : (int64_t)(rnd() % (uint64_t)starved);
        ran_through += check_same(code, len, gas, forks[rnd() % 5]);
    }
    jit_stats after = jit_get_stats();
    ck_assert_uint_ge(after.compiled - before.compiled, RANDOM_PROGRAMS / 2);
    ck_assert_uint_eq(after.compile_failed, before.compile_failed);
    ck_assert_int_ge(ran_through, RANDOM_PROGRAMS / 4); /* measured: 39% (native), 53% (with helpers) */
}

START_TEST(native_instructions_match_the_interpreter)
{
    static const enum fork forks[] = {FORK_FRONTIER, FORK_BYZANTIUM, FORK_ISTANBUL, FORK_SHANGHAI, FORK_OSAKA};
    differential(0x9e3779b97f4a7c15ull, forks, false, 25, 100000, 400);
}
END_TEST

START_TEST(helper_instructions_match_the_interpreter)
{
    static const enum fork forks[] = {FORK_HOMESTEAD, FORK_CONSTANTINOPLE, FORK_BERLIN, FORK_CANCUN, FORK_OSAKA};
    differential(0x2545f4914f6cdd1dull, forks, true, 25, 200000, 30000);
}
END_TEST

/* Programs that push twice as often: long runs of constants the compiler
 * keeps in its virtual stack (more than it holds at once, so some are
 * written back early), folded through arithmetic, comparisons, shifts,
 * DUP/SWAP, DIV/MOD by known divisors and known JUMPI conditions, then
 * written back at every kind of edge: a jump, a fall-through, a helper
 * call, a hand-over (undefined opcodes, a starved block's gas, a bad
 * dynamic jump to a pushed non-JUMPDEST). */
START_TEST(constants_through_blocks_match_the_interpreter)
{
    static const enum fork forks[] = {FORK_BYZANTIUM, FORK_ISTANBUL, FORK_SHANGHAI, FORK_CANCUN, FORK_OSAKA};
    differential(0x853c49e6748fea9bull, forks, true, 55, 200000, 30000);
}
END_TEST

/* DUP-heavy programs: a DUP is a copy the compiler keeps in its virtual
 * stack (nothing emitted) and reads at its source, so copies of copies,
 * of the word in r8..r11 (also an arithmetic result not yet stored) and of
 * constants meet every consumer (arithmetic and comparisons reading them
 * in place, a division's helper path, SWAPs, shifts, MLOAD/MSTORE,
 * helpers) and every edge that writes them out (a jump, a fall-through, a
 * hand-over, a starved block). With MLOAD/MSTORE at small pushed offsets,
 * whose bounds a block checks once per size (growth through the shared
 * slow path in between, starved gas after it). */
START_TEST(copies_through_blocks_match_the_interpreter)
{
    static const enum fork forks[] = {FORK_HOMESTEAD, FORK_ISTANBUL, FORK_SHANGHAI, FORK_CANCUN, FORK_OSAKA};
    dup_pct = 45;
    differential(0x6a09e667f3bcc908ull, forks, true, 20, 200000, 30000);
    differential(0xbb67ae8584caa73bull, forks, false, 15, 100000, 400);
    dup_pct = 0;
}
END_TEST

/* Appends PUSH32 of a hex word (right-aligned). */
static void push_hex(uint8_t *code, size_t *n, const char *hex)
{
    uint8_t v[32];
    size_t len = test_unhex(hex, v, sizeof v);
    code[(*n)++] = OP_PUSH32;
    memset(code + *n, 0, 32 - len);
    memcpy(code + *n + 32 - len, v, len);
    *n += 32;
}

/* Appends code that returns the top word, runs the program on both
 * engines: they agree, and the compiled frame ran compiled to its end. */
static void check_word_program(uint8_t *code, size_t n, const char *what)
{
    static const uint8_t tail[] = {OP_PUSH1, 0, OP_MSTORE, OP_PUSH1, 32, OP_PUSH1, 0, OP_RETURN};
    memcpy(code + n, tail, sizeof tail), n += sizeof tail;
    test_outcome a, b;
    run(code, n, 100000, FORK_CANCUN, ENGINE_INTERP, NULL, &a);
    run(code, n, 100000, FORK_CANCUN, ENGINE_JIT, NULL, &b);
    ck_assert_msg(test_outcome_same(&a, &b), "%s: the engines differ", what);
    ck_assert_int_eq(b.status, EXEC_SUCCESS);
    ck_assert_uint_eq(b.frames_compiled, 1);
    ck_assert_uint_eq(b.deopts, 0);
}

/* The two operands of a binary instruction into code (returns the bytes
 * written): both words stored in memory (`second` at 0, `top` at 32), then
 * each put on the stack, `second` first: pushed (known to the compiler)
 * when its bit of `known` is set (1: second, 2: top), else loaded back from
 * memory (unknown). `helper_between`: an MSIZE/POP after them, so that a
 * loaded word is read from the stack, not from r8..r11. */
static size_t put_operands(uint8_t *code, const char *second, const char *top, int known, bool helper_between)
{
    size_t n = 0;
    const char *word[2] = {second, top};
    for (int k = 0; k < 2; k++) {
        push_hex(code, &n, word[k]);
        code[n++] = OP_PUSH1, code[n++] = (uint8_t)(32 * k), code[n++] = OP_MSTORE;
    }
    for (int k = 0; k < 2; k++) {
        if (known & (1 << k))
            push_hex(code, &n, word[k]);
        else
            code[n++] = OP_PUSH1, code[n++] = (uint8_t)(32 * k), code[n++] = OP_MLOAD;
    }
    if (helper_between) code[n++] = OP_MSIZE, code[n++] = OP_POP;
    return n;
}

/* DIV, MOD, SDIV and SMOD on every pair of edge words (divisors of one
 * limb, of more, zero, negative ones, signed 128-bit words and those just
 * outside them, powers of two over 64 bits and their neighbours; dividends
 * whose top limbs are zero in every pattern, which the divisions by one
 * limb skip), the dividend both folded from its PUSH and on the stack (in
 * r8..r11 after its MLOAD, or only in memory after a helper), the result returned: both engines give the same word, and the compiled
 * frame ran compiled to its end (the wide divisors through the helper,
 * out of line, and back). */
START_TEST(division_matches_the_interpreter)
{
    static const char *words[] = {
        "00", "01", "02", "03", "07", "0a", "8000000000000000", "ffffffffffffffff", "010000000000000000",
        "80000000", "0100000000000000000000000000000000", "0100000000000000000000000000000000000000000000000000000000",
        "0800000000000000000000000000000000000000", /* powers of two: shifts and masks */
        "fffffffffffffffffffffffffffffffe", "0100000000000000000000000000000005",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "8000000000000000000000000000000000000000000000000000000000000000",
        "123456789abcdef0fedcba98765432100123456789abcdef0fedcba987654321",
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe", /* -2 */
        "ffffffffffffffffffffffffffffffffffffffffffffffff0000000000000001", /* -(2^64 - 1) */
        "ffffffffffffffffffffffffffffffffffffffffffffffff0000000000000000", /* -2^64 */
        "ffffffffffffffffffffffffffffffffffffffffffffffff8000000000000000", /* -2^63 */
        /* signed 128-bit words (SDIV, SMOD through the 128-bit routine) and just past them */
        "7fffffffffffffffffffffffffffffff", "80000000000000000000000000000000", "40000000000000000000000000000000",
        "01ffffffffffffffff", "010000000000000001", "0123456789abcdef0123456789abcdef",
        "ffffffffffffffffffffffffffffffff80000000000000000000000000000000", /* -2^127 */
        "ffffffffffffffffffffffffffffffff80000000000000000000000000000001", /* -(2^127 - 1) */
        "fffffffffffffffffffffffffffffffffedcba9876543210fedcba9876543210",
        "fffffffffffffffffffffffffffffffffffffffffffffffe0000000000000001", /* -(2^65 - 1) */
        "ffffffffffffffffffffffffffffffff7fffffffffffffffffffffffffffffff", /* -(2^127 + 1) */
        /* divisors over 64 bits that are powers of two only at run time, and next to them */
        "01000000000000000000000000", "01000000000000000000000001", "03000000000000000000000000",
        "8000000000000000000000000000000000000000000000000000000000000001",
    };
    static const uint8_t ops[] = {OP_DIV, OP_MOD, OP_SDIV, OP_SMOD};
    size_t n_words = sizeof words / sizeof words[0];
    for (size_t x = 0; x < n_words; x++) {
        for (size_t y = 0; y < n_words; y++) {
            for (int form = 0; form < 32; form++) {
                uint8_t code[192];
                /* Known, the dividend folds into the instruction, a known
                 * divisor takes the path without checks, two known words fold. */
                size_t n = put_operands(code, words[y], words[x], form & 3, form & 16);
                uint8_t op = ops[(form / 4) % 4];
                code[n++] = op;
                char what[200];
                snprintf(what, sizeof what, "%s %s %s (form %d)", words[x], opcode_table[op].name, words[y], form);
                check_word_program(code, n, what);
            }
        }
    }
}
END_TEST

/* MUL on every pair of words of each width class (one limb, two, three,
 * four, each limb alone, all ones), each factor known (pushed) or loaded
 * back from memory (in r8..r11, or only in memory after a helper): both
 * engines return the same word, all of it compiled. Two loaded factors go
 * through the shared routine, a known one is multiplied in place. */
START_TEST(multiplication_matches_the_interpreter)
{
    static const char *words[] = {
        "00", "01", "02", "8000000000000000", "ffffffffffffffff", "010000000000000000", "010000000000000001",
        "ffffffffffffffffffffffffffffffff", "0123456789abcdef0123456789abcdef0123456789abcdef",
        "0100000000000000000000000000000000", "01000000000000000000000000000000000000000000000000",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "8000000000000000000000000000000000000000000000000000000000000000",
        "123456789abcdef0fedcba98765432100123456789abcdef0fedcba987654321",
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe",
        "0000000000000000fedcba98765432100000000000000000fedcba9876543210",
    };
    size_t n_words = sizeof words / sizeof words[0];
    for (size_t x = 0; x < n_words; x++) {
        for (size_t y = 0; y < n_words; y++) {
            for (int form = 0; form < 8; form++) {
                uint8_t code[192];
                size_t n = put_operands(code, words[y], words[x], form & 3, form & 4);
                code[n++] = OP_MUL;
                char what[200];
                snprintf(what, sizeof what, "%s MUL %s (form %d)", words[x], words[y], form);
                check_word_program(code, n, what);
            }
        }
    }
}
END_TEST

/* SHL, SHR, SAR by an amount the compiler cannot know (it comes back from
 * memory) of every limb and bit class, of a word known or not: both
 * engines return the same word, all of it compiled. */
START_TEST(shifts_by_unknown_amounts_match_the_interpreter)
{
    static const char *amounts[] = {"00", "01", "07", "3f", "40", "41", "7f", "80", "bf", "c0", "c1", "fe", "ff",
                                    "0100", "0101", "010000000000000000", "8000000000000000000000000000000000"};
    static const char *words[] = {"0123456789abcdef0fedcba98765432100112233445566778899aabbccddeeff",
                                  "fedcba98765432100123456789abcdef0fedcba987654321ffeeddccbbaa9988", "01"};
    static const uint8_t ops[] = {OP_SHL, OP_SHR, OP_SAR};
    for (size_t i = 0; i < sizeof amounts / sizeof amounts[0]; i++) {
        for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
            for (int form = 0; form < 6; form++) {
                uint8_t code[160];
                size_t n = 0;
                const char *first = form & 1 ? words[w] : amounts[i], *second = form & 1 ? amounts[i] : words[w];
                /* form & 1: the word is stored and reloaded (unknown), the amount pushed after it */
                push_hex(code, &n, first);
                code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_MSTORE;
                push_hex(code, &n, second);
                code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_MLOAD;
                if (form & 1) code[n++] = OP_SWAP1; /* the amount on top, known; the word unknown */
                code[n++] = ops[form / 2];
                char what[200];
                snprintf(what, sizeof what, "%s %s by %s (form %d)", opcode_table[ops[form / 2]].name, words[w], amounts[i],
                         form & 1);
                check_word_program(code, n, what);
            }
        }
    }
}
END_TEST

/* ADDMOD and MULMOD by a modulus pushed in the same block (known to the
 * compiler): powers of two from 2^0 to 2^255 and 0 take the machine-code
 * path (the low bits of the sum or product), MULMOD by 2^256 - 1 its
 * shared routine (with factors whose product is 2^256 - 1, 2^512 - 2^257 + 1
 * and carries through every limb), others the helper; the
 * operands known or loaded back from memory (unknown), of every limb
 * class: both engines return the same word, all of it compiled. */
START_TEST(modular_arithmetic_by_a_known_modulus_matches_the_interpreter)
{
    static const char *moduli[] = {"00", "01", "02", "80", "0100", "80000000", "0100000000", "8000000000000000",
                                   "010000000000000000", "0100000000000000000000000000000000",
                                   "8000000000000000000000000000000000000000000000000000000000000000",
                                   "03", "010000000000000001", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"};
    static const char *words[] = {"00", "01", "ffffffffffffffff", "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0",
                                  "0123456789abcdef0fedcba98765432100112233445566778899aabbccddeeff",
                                  "8000000000000000000000000000000000000000000000000000000000000001",
                                  /* 2^256 - 1 and its factors: products that are 2^256 - 1 (mod it 0) */
                                  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
                                  "ffffffffffffffffffffffffffffffff", "0100000000000000000000000000000001",
                                  "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe"};
    static const uint8_t ops[] = {OP_ADDMOD, OP_MULMOD};
    size_t n_words = sizeof words / sizeof words[0];
    for (size_t m = 0; m < sizeof moduli / sizeof moduli[0]; m++) {
        for (size_t x = 0; x < n_words; x++) {
            for (size_t y = 0; y < n_words; y++) {
                for (int form = 0; form < 8; form++) {
                    uint8_t code[256];
                    size_t n = 0;
                    const char *word[2] = {words[y], words[x]};
                    for (int k = 0; k < 2; k++) {
                        push_hex(code, &n, word[k]);
                        code[n++] = OP_PUSH1, code[n++] = (uint8_t)(32 * k), code[n++] = OP_MSTORE;
                    }
                    for (int k = 0; k < 2; k++) { /* b, then a on top: pushed (known) or loaded (not) */
                        if (form & (1 << k))
                            push_hex(code, &n, word[k]);
                        else
                            code[n++] = OP_PUSH1, code[n++] = (uint8_t)(32 * k), code[n++] = OP_MLOAD;
                    }
                    push_hex(code, &n, moduli[m]); /* after the loads (helpers), so that it stays known */
                    code[n++] = OP_SWAP2;
                    code[n++] = ops[form / 4];
                    char what[300];
                    snprintf(what, sizeof what, "%s %s %s mod %s (form %d)", opcode_table[ops[form / 4]].name, words[x],
                             words[y], moduli[m], form % 4);
                    check_word_program(code, n, what);
                }
            }
        }
    }
}
END_TEST

/* SIGNEXTEND by a known byte index (every index 0..32, and one past 64
 * bits) of words with the sign bit set or clear at every byte: the word
 * pushed (folded), loaded back from memory (unknown) or just computed (in
 * registers): both engines return the same word, all of it compiled. */
START_TEST(signextend_by_a_known_index_matches_the_interpreter)
{
    static const char *words[] = {"0123456789abcdef0fedcba98765432100112233445566778899aabbccddeeff",
                                  "fedcba98765432100123456789abcdef7fedcba987654321ffeeddccbbaa9988",
                                  "8080808080808080808080808080808080808080808080808080808080808080",
                                  "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f", "00"};
    for (int index = 0; index <= 33; index++) {
        for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
            for (int form = 0; form < 3; form++) {
                uint8_t code[160];
                size_t n = 0;
                push_hex(code, &n, words[w]);
                if (form) {
                    code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_MSTORE;
                    code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_MLOAD;
                    if (form == 2) code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_ADD; /* in r8..r11 */
                }
                if (index == 33)
                    push_hex(code, &n, "010000000000000000");
                else
                    code[n++] = OP_PUSH1, code[n++] = (uint8_t)index;
                code[n++] = OP_SIGNEXTEND;
                char what[200];
                snprintf(what, sizeof what, "SIGNEXTEND %s from byte %d (form %d)", words[w], index, form);
                check_word_program(code, n, what);
            }
        }
    }
}
END_TEST

/* Straight-line code (no jump) longer than 2 KiB is compiled, also when it
 * reads or writes memory at computed offsets (then each such access is a
 * call to a shared routine: jit_compile.c says why), and the engines agree. */
START_TEST(long_straight_line_code_is_compiled_with_or_without_memory)
{
    for (int with_memory = 0; with_memory < 2; with_memory++) {
        static uint8_t code[8192];
        size_t n = 0;
        static const uint8_t indices[] = {0, 1, 3, 7, 8, 10, 12, 15, 16, 17, 20, 23, 24, 27, 31};
        for (size_t i = 0; i < sizeof indices; i++) code[n++] = OP_PUSH1, code[n++] = indices[i];
        code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_CALLDATALOAD; /* the word to extend, unknown */
        for (int i = 0; n < 6000; i++) {
            if (with_memory && i % 8 == 0) { /* DUP1 MLOAD POP at the word's low byte: a computed offset */
                code[n++] = OP_DUP1, code[n++] = OP_PUSH1, code[n++] = 0xff, code[n++] = OP_AND;
                code[n++] = OP_MLOAD, code[n++] = OP_POP;
            }
            code[n++] = (uint8_t)(OP_DUP2 + i % 15), code[n++] = OP_SIGNEXTEND;
        }
        static const uint8_t tail[] = {OP_PUSH1, 0, OP_MSTORE, OP_PUSH1, 32, OP_PUSH1, 0, OP_RETURN};
        memcpy(code + n, tail, sizeof tail), n += sizeof tail;
        test_outcome a, b;
        run(code, n, 10000000, FORK_CANCUN, ENGINE_INTERP, NULL, &a);
        run(code, n, 10000000, FORK_CANCUN, ENGINE_JIT, NULL, &b);
        ck_assert_msg(test_outcome_same(&a, &b), "the engines differ (with memory: %d)", with_memory);
        ck_assert_int_eq(b.status, EXEC_SUCCESS);
        ck_assert_uint_eq(b.frames_compiled, 1); /* with memory: compact accesses (test_jit_memory.c) */
        ck_assert_uint_eq(b.frames_interp, 0);
    }
}
END_TEST

/* A chain of JUMPDEST blocks that fall into each other (the first pays for
 * all; a dynamic jump into the middle pays for the rest out of line), each
 * pushing, adding and popping, entered at the start or by a dynamic jump to
 * any of them, run with every gas from none to enough and with stacks too
 * high for some: both engines agree on status, gas and output, and with
 * enough gas the compiled frame runs to its end. */
START_TEST(fall_through_chains_match_the_interpreter)
{
    for (int entry = 0; entry <= 6; entry++) {
        for (int deep = 0; deep < 2; deep++) {
            uint8_t code[1200];
            size_t n = 0, dest[6];
            if (deep) /* 1020 items below: the chain's growth overflows the stack limit */
                for (int i = 0; i < 1020; i++) code[n++] = OP_PUSH0;
            size_t jump_push = n;
            code[n++] = OP_PUSH2, n += 2;
            code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_ADD; /* not resolved at compile time */
            code[n++] = OP_JUMP;
            for (int k = 0; k < 6; k++) {
                dest[k] = n;
                code[n++] = OP_JUMPDEST;
                code[n++] = OP_PUSH1, code[n++] = (uint8_t)(k + 1);
                code[n++] = OP_CALLDATASIZE; /* a helper in the chain */
                code[n++] = OP_ADD;
                if (k % 2) code[n++] = OP_DUP1; /* some blocks leave an item */
            }
            code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_MSTORE;
            code[n++] = OP_PUSH1, code[n++] = 32, code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_RETURN;
            size_t target = entry < 6 ? dest[entry] : jump_push; /* 6: a bad jump (to the PUSH2) */
            code[jump_push + 1] = (uint8_t)(target >> 8), code[jump_push + 2] = (uint8_t)target;
            int64_t from = deep ? 2040 : 0; /* the PUSH0s cost 2040 */
            for (int64_t gas = from; gas < from + 200; gas++) check_same(code, n, gas, FORK_CANCUN);
            bool through = check_same(code, n, 100000, FORK_CANCUN);
            if (entry < 6 && !deep) ck_assert_msg(through, "entry %d: handed over with plenty of gas", entry);
        }
    }
}
END_TEST

/* The block after a JUMPI (no JUMPDEST there) has its stack needs checked
 * with the JUMPI's block (jit_block.stack_checked): the analysis says so,
 * and with a condition from calldata, taken or not, over a stack with
 * enough items, too few for the block after (an underflow there) and
 * too many (an overflow there), at every gas from none to plenty, both
 * engines agree; with enough items the frame runs compiled to its end. */
START_TEST(stack_needs_after_a_jumpi_are_checked_before_it)
{
    for (int kind = 0; kind < 3; kind++) { /* 0: enough items, 1: an underflow after the JUMPI, 2: an overflow */
        for (int taken = 0; taken < 2; taken++) {
            uint8_t code[2200];
            size_t n = 0;
            int fill = kind == 2 ? 1020 : 3;
            for (int i = 0; i < fill; i++) code[n++] = OP_PUSH1, code[n++] = (uint8_t)i;
            code[n++] = OP_PUSH1, code[n++] = taken ? 0 : 20, code[n++] = OP_CALLDATALOAD; /* non-zero at 0, zero at 20 */
            size_t dest_at = n + 1;
            code[n++] = OP_PUSH2, n += 2;
            code[n++] = OP_JUMPI;
            size_t after = n;
            if (kind == 0)
                code[n++] = OP_POP, code[n++] = OP_ADD; /* three items: there */
            else if (kind == 1)
                for (int i = 0; i < 5; i++) code[n++] = OP_POP; /* five: two missing */
            else
                for (int i = 0; i < 8; i++) code[n++] = OP_PUSH1, code[n++] = 1; /* past 1024 */
            code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_MSTORE;
            code[n++] = OP_PUSH1, code[n++] = 32, code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_RETURN;
            code[dest_at] = (uint8_t)(n >> 8), code[dest_at + 1] = (uint8_t)n;
            code[n++] = OP_JUMPDEST;
            code[n++] = OP_PUSH1, code[n++] = 0x2a, code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_MSTORE;
            code[n++] = OP_PUSH1, code[n++] = 32, code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_RETURN;

            hash32 h;
            keccak256(code, n, h.b);
            const code_info *ci = code_cache_acquire(&h, code, n);
            ck_assert_ptr_nonnull(ci);
            jit_analysis a;
            jit_analyse(ci, FORK_CANCUN, &a);
            const jit_block *before = NULL, *checked = NULL;
            for (size_t i = 0; i + 1 < a.n_blocks; i++)
                if (a.blocks[i + 1].pc == after) before = &a.blocks[i], checked = &a.blocks[i + 1];
            ck_assert_ptr_nonnull(checked);
            ck_assert_msg(checked->stack_checked, "kind %d: the block after the JUMPI checks its own stack", kind);
            ck_assert_int_ge(before->chain_stack_min, checked->chain_stack_min - before->stack_delta);
            ck_assert_int_ge(before->chain_max_growth, before->stack_delta + checked->chain_max_growth);
            jit_analysis_free(&a);
            code_cache_release(ci);

            int64_t from = 3 * fill;
            for (int64_t gas = from; gas < from + 60; gas++) check_same(code, n, gas, FORK_CANCUN);
            bool through = check_same(code, n, 100000, FORK_CANCUN);
            if (kind == 0) ck_assert_msg(through, "taken %d: handed over with enough items and gas", taken);
        }
    }
}
END_TEST

/* A block that both needs items (DUP4: four) and grows the stack (five
 * above its entry height), entered by a jump over a stack of every height
 * at both edges: at 4 and at 1019 items it runs compiled to its end, below
 * 4 it underflows and above 1019 it overflows as the interpreter says
 * (the entry checks both bounds as one range). */
START_TEST(a_block_needing_items_and_growing_is_checked_at_both_edges)
{
    for (int height = 0; height <= 1023; height++) {
        if (height > 7 && height < 1014) continue;
        uint8_t code[1100];
        size_t n = 0;
        for (int i = 0; i < height; i++) code[n++] = OP_PUSH0;
        size_t dest_at = n + 1;
        code[n++] = OP_PUSH2, n += 2;
        code[n++] = OP_JUMP;
        code[dest_at] = (uint8_t)(n >> 8), code[dest_at + 1] = (uint8_t)n;
        code[n++] = OP_JUMPDEST;
        code[n++] = OP_DUP4, code[n++] = OP_PUSH0, code[n++] = OP_PUSH0; /* needs 4, then 3 above */
        code[n++] = OP_PUSH1, code[n++] = 32, code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_RETURN; /* 5 */
        bool through = check_same(code, n, 100000, FORK_CANCUN);
        if (height >= 4 && height <= 1019)
            ck_assert_msg(through, "height %d: handed over with room for the block", height);
    }
}
END_TEST

/* One block of 40 constants (more than the virtual stack holds, so the
 * oldest are written back while the block runs), over a word the compiler
 * does not know (from calldata) or over nothing, combined by 40 arithmetic
 * and DUP/SWAP instructions: both engines return the same word. */
START_TEST(a_block_of_more_constants_than_the_virtual_stack_holds)
{
    static const uint8_t ops[] = {OP_ADD, OP_SUB, OP_XOR, OP_MUL, OP_OR, OP_DIV, OP_MOD, OP_LT, OP_EQ, OP_AND};
    for (int variant = 0; variant < 2; variant++) {
        for (int shuffle = 0; shuffle < 8; shuffle++) {
            uint8_t code[512];
            size_t n = 0;
            if (variant) code[n++] = OP_PUSH1, code[n++] = 0, code[n++] = OP_CALLDATALOAD;
            for (int i = 0; i < 40; i++) {
                uint32_t v = (uint32_t)(0x9e3779b9u * (uint32_t)(i + 1 + 41 * shuffle));
                code[n++] = OP_PUSH4;
                for (int k = 3; k >= 0; k--) code[n++] = (uint8_t)(v >> (8 * k));
                if (i % 7 == 3) code[n++] = (uint8_t)(OP_DUP1 + (i + shuffle) % 3);
                if (i % 5 == 2) code[n++] = (uint8_t)(OP_SWAP1 + (i + shuffle) % 2);
            }
            for (int i = 0; i < 45 + variant; i++) code[n++] = ops[(i + shuffle) % sizeof ops]; /* down to one word */
            char what[64];
            snprintf(what, sizeof what, "variant %d, shuffle %d", variant, shuffle);
            check_word_program(code, n, what);
        }
    }
}
END_TEST

/* Each way compiled code hands a frame to the interpreter, and what the
 * interpreter then reports. */
START_TEST(hand_overs_report_the_interpreters_outcome)
{
    static const struct {
        const char *what;
        uint8_t code[16];
        size_t len;
        int64_t gas;
        enum exec_status want;
    } cases[] = {
        {"underflow at a block's start", {OP_ADD}, 1, 100, EXEC_STACK_UNDERFLOW},
        {"underflow later in the block", {OP_PUSH1, 1, OP_PUSH1, 2, OP_ADD, OP_ADD}, 6, 100, EXEC_STACK_UNDERFLOW},
        {"out of gas mid-block", {OP_PUSH1, 1, OP_PUSH1, 2, OP_ADD, OP_POP, OP_STOP}, 7, 8, EXEC_OUT_OF_GAS},
        {"bad static jump", {OP_PUSH1, 3, OP_JUMP, OP_STOP}, 4, 100, EXEC_BAD_JUMP},
        {"jump into push data", {OP_PUSH1, 0x5b, OP_PUSH1, 1, OP_JUMP}, 5, 100, EXEC_BAD_JUMP},
        {"bad dynamic jump", {OP_PUSH1, 9, OP_CALLDATASIZE, OP_ADD, OP_JUMP}, 5, 100, EXEC_BAD_JUMP},
        {"undefined opcode", {OP_PUSH1, 1, 0x0c}, 3, 100, EXEC_INVALID_OPCODE},
        {"INVALID", {OP_PUSH1, 1, 0xfe}, 3, 100, EXEC_INVALID_OPCODE},
        {"memory out of gas", {OP_PUSH1, 1, OP_PUSH3, 0xff, 0xff, 0xff, OP_MSTORE}, 7, 1000, EXEC_OUT_OF_GAS},
        {"gas runs out after a helper", {OP_PUSH1, 1, OP_PUSH1, 64, OP_MSTORE, OP_PUSH1, 1, OP_POP, OP_STOP}, 9, 20,
         EXEC_OUT_OF_GAS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_outcome a, b;
        run(cases[i].code, cases[i].len, cases[i].gas, FORK_CANCUN, ENGINE_INTERP, NULL, &a);
        run(cases[i].code, cases[i].len, cases[i].gas, FORK_CANCUN, ENGINE_JIT, NULL, &b);
        ck_assert_msg(a.status == cases[i].want, "%s: interpreter says %s", cases[i].what, exec_status_name(a.status));
        ck_assert_msg(b.status == cases[i].want, "%s: compiled says %s", cases[i].what, exec_status_name(b.status));
        ck_assert_int_eq(a.gas_left, b.gas_left);
    }
    /* The stack limit: 1025 pushes in one block. */
    uint8_t deep[1100];
    memset(deep, OP_PC, 1025);
    test_outcome a, b;
    run(deep, 1025, 1000000, FORK_CANCUN, ENGINE_INTERP, NULL, &a);
    run(deep, 1025, 1000000, FORK_CANCUN, ENGINE_JIT, NULL, &b);
    ck_assert_int_eq(a.status, EXEC_STACK_OVERFLOW);
    ck_assert_int_eq(b.status, EXEC_STACK_OVERFLOW);
    deep[1024] = OP_STOP; /* exactly 1024 fits */
    run(deep, 1025, 1000000, FORK_CANCUN, ENGINE_JIT, NULL, &b);
    ck_assert_int_eq(b.status, EXEC_SUCCESS);
    ck_assert_int_eq(b.gas_left, 1000000 - 2 * 1024);
}
END_TEST

static void *set_after(void *arg)
{
    usleep(50000);
    atomic_store((atomic_int *)arg, 1);
    return NULL;
}

START_TEST(abort_flag_stops_a_compiled_loop)
{
    /* JUMPDEST PUSH1 0 JUMP: forever, at 11 gas a turn. */
    static const uint8_t loop[] = {OP_JUMPDEST, OP_PUSH1, 0, OP_JUMP};
    /* ... and a dynamic one: JUMPDEST PUSH1 0 CALLDATASIZE MUL JUMP. */
    static const uint8_t dyn[] = {OP_JUMPDEST, OP_PUSH1, 0, OP_CALLDATASIZE, OP_MUL, OP_JUMP};
    const uint8_t *codes[] = {loop, dyn};
    size_t lens[] = {sizeof loop, sizeof dyn};
    for (int i = 0; i < 2; i++) {
        atomic_int flag = 0;
        pthread_t t;
        pthread_create(&t, NULL, set_after, &flag);
        uint64_t before = jit_get_stats().frames_compiled;
        test_outcome o;
        run(codes[i], lens[i], INT64_MAX / 2, FORK_CANCUN, ENGINE_JIT, &flag, &o);
        pthread_join(t, NULL);
        ck_assert_int_eq(o.status, EXEC_TIMEOUT);
        ck_assert_uint_eq(jit_get_stats().frames_compiled, before + 1);
    }
}
END_TEST

/* A program compiled by the previous code generation (the revision before
 * this build's, the layout otherwise the same) is stored under another
 * version, and its blob is refused: compiled code never meets a runtime
 * it was not generated for. This build's version is the fingerprint of
 * this revision; the blob of this build loads. */
START_TEST(programs_of_the_previous_codegen_revision_are_refused)
{
    static const uint8_t code[] = {OP_PUSH1, 7, OP_PUSH1, 9, OP_SHL, OP_CALLDATASIZE, OP_SDIV, OP_STOP};
    hash32 h;
    keccak256(code, sizeof code, h.b);
    const code_info *ci = code_cache_acquire(&h, code, sizeof code);
    ck_assert_ptr_nonnull(ci);
    jit_image img, back;
    ck_assert(jit_compile(ci, FORK_CANCUN, &img));
    uint32_t previous = jit_version_from(JIT_CODEGEN_REVISION - 1, jit_abi_fingerprint(), jit_helper_fingerprint());
    ck_assert_uint_eq(JIT_VERSION, jit_version_from(JIT_CODEGEN_REVISION, jit_abi_fingerprint(), jit_helper_fingerprint()));
    ck_assert_uint_ne(previous, JIT_VERSION);
    size_t len;
    uint8_t *blob = jit_blob_from_image(&img, FORK_CANCUN, &len);
    ck_assert(jit_blob_to_image(blob, len, ci, FORK_CANCUN, &back));
    jit_image_free(&back);
    memcpy(blob + 8, &previous, 4); /* the header's version (jit_blob.c) */
    ck_assert(!jit_blob_to_image(blob, len, ci, FORK_CANCUN, &back));
    free(blob);
    jit_image_free(&img);
    code_cache_release(ci);
}
END_TEST

/* A program store serving one blob through load_into, as the SQLite store
 * does: copied into the memory the loader places. */
static const uint8_t *served_blob;
static size_t served_len;
static bool serve_into(void *ctx, const hash32 *code_hash, uint32_t version, const char *target,
                       const jit_blob_dest *dest, size_t *len)
{
    (void)ctx, (void)code_hash, (void)version, (void)target;
    uint8_t *to = dest->place(dest->ctx, served_len);
    if (!to) return false;
    memcpy(to, served_blob, served_len);
    *len = served_len;
    return true;
}
static const jit_store serving_store = {.load_into = serve_into};

/* The permissions /proc/self/maps gives the mapping holding `addr`. */
static bool mapping_perms(const void *addr, char perms[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char pr[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, pr) == 3 && (uintptr_t)addr >= lo && (uintptr_t)addr < hi) {
            memcpy(perms, pr, 5);
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* The blob's layout 2 (jit_blob.c): its jump table is runs of JUMPDESTs
 * sharing an entry. A run of JUMPDESTs compiles to one shared entry, so its
 * table is one run, not an int32 per byte of code; the program loads from
 * it and runs as the interpreter does. A blob of layout 1 (its magic), one
 * whose runs miss or add a JUMPDEST, has an empty run, splits a run in two
 * or names an offset past the code is refused. */
START_TEST(blob_jump_table_is_runs_and_checked)
{
    /* PUSH1 dest PUSH1 0 ADD JUMP (a jump through the jump table), then
     * 200 JUMPDESTs, then STOP: the JUMPDESTs after the first but the last
     * are one run, entered through one shared entry. */
    enum { RUN = 200, FIRST = 6 };
    uint8_t code[FIRST + RUN + 1] = {OP_PUSH1, FIRST, OP_PUSH1, 0, OP_ADD, OP_JUMP};
    memset(code + FIRST, OP_JUMPDEST, RUN);
    code[FIRST + RUN] = OP_STOP;
    hash32 h;
    keccak256(code, sizeof code, h.b);
    const code_info *ci = code_cache_acquire(&h, code, sizeof code);
    ck_assert_ptr_nonnull(ci);
    jit_image img, back;
    ck_assert(jit_compile(ci, FORK_CANCUN, &img));
    size_t len;
    uint8_t *blob = jit_blob_from_image(&img, FORK_CANCUN, &len);
    uint64_t n_runs;
    memcpy(&n_runs, blob + 32, 8);
    ck_assert_uint_eq(n_runs, 3); /* the first JUMPDEST (a chain's head), the run, the last */
    ck_assert_uint_eq(len, 40 + img.native_len + 8 * n_runs);
    ck_assert(jit_blob_to_image(blob, len, ci, FORK_CANCUN, &back));
    ck_assert_mem_eq(back.jump_table, img.jump_table, sizeof code * sizeof(int32_t));
    jit_image_free(&back);
    jit_program *p = jit_program_from_blob(blob, len, ci, FORK_CANCUN);
    ck_assert_ptr_nonnull(p);
    jit_mcode_free(p);
    /* Loaded in place (load_into): the same program, its code page-aligned
     * where the blob was copied, read+execute and not writable. */
    served_blob = blob, served_len = len;
    bool found = false;
    p = jit_program_load(&serving_store, ci, FORK_CANCUN, &found);
    ck_assert(found);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p->image.native % 4096, 0);
    ck_assert_uint_eq(p->image.native_len, img.native_len);
    ck_assert_mem_eq(p->image.native, img.native, img.native_len);
    ck_assert_mem_eq(p->image.jump_table, img.jump_table, sizeof code * sizeof(int32_t));
    char perms[5];
    ck_assert(mapping_perms(p->image.native, perms));
    ck_assert_str_eq(perms, "r-xp");
    jit_mcode_free(p);

    uint8_t *bad = malloc(len + 8);
    uint8_t *runs = bad + 40 + img.native_len;
    uint32_t word;
#define REFUSED(edit)                                                                          \
    do {                                                                                       \
        memcpy(bad, blob, len);                                                                \
        size_t bad_len = len;                                                                  \
        edit;                                                                                  \
        ck_assert(!jit_blob_to_image(bad, bad_len, ci, FORK_CANCUN, &back));                   \
        ck_assert_ptr_null(jit_program_from_blob(bad, bad_len, ci, FORK_CANCUN));              \
        served_blob = bad, served_len = bad_len;                                               \
        ck_assert_ptr_null(jit_program_load(&serving_store, ci, FORK_CANCUN, &found));         \
        ck_assert(found);                                                                      \
        (void)bad_len;                                                                         \
    } while (0)
    REFUSED(memcpy(bad, "EMVPRGM1", 8));                                   /* layout 1 */
    REFUSED(memcpy(&word, runs, 4); word++; memcpy(runs, &word, 4));       /* one JUMPDEST too many */
    REFUSED(memcpy(&word, runs, 4); word--; memcpy(runs, &word, 4));       /* one too few, or an empty run */
    REFUSED(memset(runs + 4, 0, 4));                                       /* offset 0: no block */
    REFUSED(memcpy(&word, runs + 4, 4); word = (uint32_t)img.native_len; memcpy(runs + 4, &word, 4));
    REFUSED(bad_len -= 8);                                                 /* a run missing */
    REFUSED(bad_len = 10);                                                 /* shorter than a header */
    /* The run's entries as two runs at one offset: not the blob this build
     * writes, refused. */
    size_t mid = 40 + img.native_len + 8; /* the second run, the shared entry */
    uint32_t count, at;
    memcpy(&count, blob + mid, 4);
    memcpy(&at, blob + mid + 4, 4);
    ck_assert_uint_eq(count, RUN - 2);
    uint32_t one = 1, rest = count - 1;
    uint64_t more = n_runs + 1;
    REFUSED(memcpy(bad + 32, &more, 8); memcpy(bad + mid, &one, 4); memcpy(bad + mid + 8, &rest, 4);
            memcpy(bad + mid + 12, &at, 4); memcpy(bad + mid + 16, blob + mid + 8, 8); bad_len = len + 8);
#undef REFUSED
    free(bad);
    free(blob);
    jit_image_free(&img);

    /* Entered through the shared entry at every JUMPDEST of the run, with
     * gas for all, for none and for some of what follows: as interpreted. */
    for (int dest = FIRST; dest < FIRST + RUN; dest += 37) {
        code[1] = (uint8_t)dest;
        for (int64_t gas = 17; gas <= 17 + RUN + 2; gas += 29) { /* 17: up to the JUMP */
            test_outcome want, got;
            run(code, sizeof code, gas, FORK_CANCUN, ENGINE_INTERP, NULL, &want);
            run(code, sizeof code, gas, FORK_CANCUN, ENGINE_JIT, NULL, &got);
            ck_assert_msg(test_outcome_same(&got, &want), "dest %d gas %lld", dest, (long long)gas);
        }
    }
    code_cache_release(ci);
}
END_TEST

START_TEST(executable_memory_is_never_writable)
{
    static const uint8_t code[] = {OP_PUSH1, 1, OP_PUSH1, 2, OP_ADD, OP_STOP};
    test_outcome o;
    run(code, sizeof code, 1000, FORK_CANCUN, ENGINE_JIT, NULL, &o);
    ck_assert_uint_gt(jit_get_stats().programs, 0);
    FILE *maps = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(maps);
    char line[512];
    int executable_anonymous = 0;
    while (fgets(line, sizeof line, maps)) {
        char perms[8] = {0};
        if (sscanf(line, "%*s %7s", perms) != 1) continue;
        ck_assert_msg(!(perms[1] == 'w' && perms[2] == 'x'), "writable and executable: %s", line);
        if (perms[2] == 'x' && strchr(line, '/') == NULL) executable_anonymous++;
    }
    fclose(maps);
    ck_assert_int_gt(executable_anonymous, 0); /* the programs are there, read+execute */
}
END_TEST

/* An in-memory program store. */
static struct {
    pthread_mutex_t lock;
    hash32 hash;
    char target[64];
    uint8_t *blob;
    size_t len;
    int loads, saves;
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool fake_load(void *ctx, const hash32 *h, uint32_t version, const char *target, uint8_t **blob, size_t *len)
{
    (void)ctx;
    pthread_mutex_lock(&fake.lock);
    fake.loads++;
    bool found = fake.blob && version == JIT_VERSION && memcmp(h, &fake.hash, 32) == 0 &&
                 strcmp(target, fake.target) == 0;
    if (found) {
        *blob = malloc(fake.len);
        memcpy(*blob, fake.blob, fake.len);
        *len = fake.len;
    }
    pthread_mutex_unlock(&fake.lock);
    return found;
}

static void fake_save(void *ctx, const hash32 *h, uint32_t version, const char *target, const uint8_t *blob,
                      size_t len)
{
    (void)ctx;
    (void)version;
    pthread_mutex_lock(&fake.lock);
    fake.saves++;
    free(fake.blob);
    fake.blob = malloc(len);
    memcpy(fake.blob, blob, len);
    fake.len = len;
    fake.hash = *h;
    snprintf(fake.target, sizeof fake.target, "%s", target);
    pthread_mutex_unlock(&fake.lock);
}

START_TEST(tiered_compiles_in_the_background_and_reloads_from_the_store)
{
    jit_store s = {.load = fake_load, .save = fake_save};
    jit_set_store(&s);
    /* A loop of 300 turns, returning its counter (unique code for this test). */
    static const uint8_t code[] = {OP_PUSH2, 0x01, 0x2c, OP_JUMPDEST, OP_PUSH1, 1, OP_SWAP1, OP_SUB, OP_DUP1,
                                   OP_PUSH1, 3, OP_JUMPI, OP_PUSH1, 0, OP_MSTORE, OP_PUSH1, 32, OP_PUSH1, 0,
                                   OP_RETURN, OP_PUSH1, 0x77};
    test_outcome want, o;
    run(code, sizeof code, 1000000, FORK_PRAGUE, ENGINE_INTERP, NULL, &want);
    ck_assert_int_eq(want.status, EXEC_SUCCESS);

    jit_stats s0 = jit_get_stats();
    run(code, sizeof code, 1000000, FORK_PRAGUE, ENGINE_TIERED, NULL, &o); /* queued, runs interpreted */
    jit_wait_idle();
    jit_stats s1 = jit_get_stats();
    ck_assert_uint_eq(s1.frames_compiled, s0.frames_compiled);
    ck_assert_uint_eq(s1.compiled, s0.compiled + 1);
    ck_assert_int_eq(fake.saves, 1);
    ck_assert_str_eq(fake.target, jit_target(FORK_PRAGUE));
    run(code, sizeof code, 1000000, FORK_PRAGUE, ENGINE_TIERED, NULL, &o); /* compiled now */
    ck_assert_uint_eq(jit_get_stats().frames_compiled, s1.frames_compiled + 1);
    ck_assert(test_outcome_same(&o, &want));

    /* Drop the cached code (as a restart would): the program comes back
     * from the store, without compiling, and runs at once. */
    code_cache_set_budget(0);
    code_cache_set_budget((size_t)64 << 20);
    jit_stats s2 = jit_get_stats();
    run(code, sizeof code, 1000000, FORK_PRAGUE, ENGINE_TIERED, NULL, &o);
    jit_stats s3 = jit_get_stats();
    ck_assert_uint_eq(s3.store_hits, s2.store_hits + 1);
    ck_assert_uint_eq(s3.compiled, s2.compiled);
    ck_assert_uint_eq(s3.frames_compiled, s2.frames_compiled + 1);
    ck_assert(test_outcome_same(&o, &want));

    /* A stored program that does not match its code (here: its jump table,
     * one run for the one JUMPDEST, sends it to offset 0, no block) is
     * refused and the code compiled afresh. */
    code_cache_set_budget(0);
    code_cache_set_budget((size_t)64 << 20);
    memset(fake.blob + fake.len - 4, 0, 4); /* the last run's offset (jit_blob.c) */
    run(code, sizeof code, 1000000, FORK_PRAGUE, ENGINE_TIERED, NULL, &o);
    jit_wait_idle();
    jit_stats s4 = jit_get_stats();
    ck_assert_uint_eq(s4.store_misses, s3.store_misses + 1);
    ck_assert_uint_eq(s4.compiled, s3.compiled + 1);
    ck_assert(test_outcome_same(&o, &want));
    jit_set_store(NULL);
}
END_TEST

/* A flood of new code (eth_call overrides can bring any) queues at most
 * JIT_QUEUE_MAX compilations; the rest runs interpreted and is queued by a
 * later call, once there is room. */
START_TEST(compile_queue_is_bounded)
{
    enum { N = JIT_QUEUE_MAX + 40 };
    jit_hold_background(true);
    jit_stats s0 = jit_get_stats();
    uint8_t code[8] = {OP_PUSH2, 0, 0, OP_PUSH1, 0x2a, OP_POP, OP_POP, OP_STOP};
    test_outcome o;
    for (int i = 0; i < N; i++) { /* distinct code: PUSH2 i */
        code[1] = (uint8_t)(i >> 8), code[2] = (uint8_t)i;
        run(code, sizeof code, 100000, FORK_SHANGHAI, ENGINE_TIERED, NULL, &o);
        ck_assert_int_eq(o.status, EXEC_SUCCESS);
    }
    jit_stats s1 = jit_get_stats();
    ck_assert_uint_eq(s1.queued, JIT_QUEUE_MAX);
    ck_assert_uint_eq(s1.queue_full - s0.queue_full, N - JIT_QUEUE_MAX);
    ck_assert_uint_eq(s1.frames_compiled, s0.frames_compiled);
    jit_hold_background(false);
    jit_wait_idle();
    ck_assert_uint_eq(jit_get_stats().queued, 0);
    /* A code that found the queue full is queued by its next call. */
    code[1] = (uint8_t)((N - 1) >> 8), code[2] = (uint8_t)(N - 1);
    jit_stats s2 = jit_get_stats();
    run(code, sizeof code, 100000, FORK_SHANGHAI, ENGINE_TIERED, NULL, &o);
    jit_wait_idle();
    ck_assert_uint_eq(jit_get_stats().compiled, s2.compiled + 1);
}
END_TEST

/* The blob of `code` compiled for Cancun on this thread (malloc'd). */
static uint8_t *compiled_blob(const uint8_t *code, size_t n, size_t *len)
{
    hash32 h;
    keccak256(code, n, h.b);
    code_info *ci = code_info_new(code, n, &h);
    jit_image img;
    ck_assert(jit_compile(ci, FORK_CANCUN, &img));
    uint8_t *blob = jit_blob_from_image(&img, FORK_CANCUN, len);
    jit_image_free(&img);
    code_info_free(ci);
    return blob;
}

/* A compilation reuses the arrays the thread's last one left
 * (jit_scratch.c), dirty: none of their old contents may leak into the
 * next program. `chained` falls through 300 JUMPDEST blocks (chained: no
 * jump names them); `jumper` has JUMPDESTs at the same pcs and a JUMPI
 * to each, so its analysis marks them as jump targets and its code is
 * larger. Compiled after `jumper` (and after something larger still),
 * `chained` is byte for byte what it is on fresh memory. */
START_TEST(a_compilation_on_reused_memory_makes_the_same_program)
{
    enum { BLOCKS = 300 };
    static uint8_t chained[4 * BLOCKS + 1], jumper[4 * BLOCKS + 6 * BLOCKS + 1];
    size_t nc = 0, nj = 0;
    for (int k = 0; k < BLOCKS; k++) {
        chained[nc++] = OP_JUMPDEST, chained[nc++] = OP_PUSH1, chained[nc++] = (uint8_t)k, chained[nc++] = OP_POP;
        jumper[nj++] = OP_JUMPDEST, jumper[nj++] = OP_PUSH1, jumper[nj++] = (uint8_t)k, jumper[nj++] = OP_POP;
    }
    chained[nc++] = OP_STOP;
    for (int k = 0; k < BLOCKS; k++) { /* CALLDATASIZE PUSH2 4k JUMPI */
        jumper[nj++] = OP_CALLDATASIZE, jumper[nj++] = OP_PUSH2;
        jumper[nj++] = (uint8_t)((4 * k) >> 8), jumper[nj++] = (uint8_t)(4 * k), jumper[nj++] = OP_JUMPI;
        jumper[nj++] = OP_JUMPDEST;
    }
    jumper[nj++] = OP_STOP;
    jit_scratch_release(); /* fresh memory */
    size_t fresh_len, len;
    uint8_t *fresh = compiled_blob(chained, nc, &fresh_len);
    for (int round = 0; round < 2; round++) {
        free(compiled_blob(jumper, nj, &len));
        ck_assert_uint_gt(len, fresh_len);
        uint8_t *again = compiled_blob(chained, nc, &len);
        ck_assert_uint_eq(len, fresh_len);
        ck_assert_mem_eq(again, fresh, len);
        free(again);
    }
    free(fresh);
    jit_scratch_release();
}
END_TEST

/* Each thread keeps its own scratch (jit_scratch.c), freed when it exits
 * (LeakSanitizer, under `make asan`, sees it go): threads compiling at
 * once, each exiting after, make the same program as this thread. */
typedef struct {
    const uint8_t *code;
    size_t n, len;
    uint8_t *blob;
} thread_compile;

static void *compile_on_thread(void *arg)
{
    thread_compile *tc = arg;
    for (int i = 0; i < 3; i++) {
        free(tc->blob);
        tc->blob = compiled_blob(tc->code, tc->n, &tc->len);
    }
    return NULL;
}

START_TEST(threads_compile_with_scratch_of_their_own)
{
    uint8_t code[2000];
    size_t n = 0;
    for (int k = 0; k < 200; k++) {
        code[n++] = OP_JUMPDEST, code[n++] = OP_PUSH1, code[n++] = (uint8_t)k, code[n++] = OP_CALLDATASIZE;
        code[n++] = OP_ADD, code[n++] = OP_POP;
    }
    code[n++] = OP_STOP;
    size_t want_len;
    uint8_t *want = compiled_blob(code, n, &want_len);
    enum { THREADS = 4 };
    pthread_t t[THREADS];
    thread_compile tc[THREADS];
    for (int i = 0; i < THREADS; i++) {
        tc[i] = (thread_compile){code, n, 0, NULL};
        ck_assert_int_eq(pthread_create(&t[i], NULL, compile_on_thread, &tc[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_uint_eq(tc[i].len, want_len);
        ck_assert_mem_eq(tc[i].blob, want, want_len);
        free(tc[i].blob);
    }
    free(want);
}
END_TEST

int main(void)
{
    return TEST_RUN("jit",
        TEST_GROUP("jit", 120, native_instructions_match_the_interpreter, helper_instructions_match_the_interpreter,
            constants_through_blocks_match_the_interpreter, copies_through_blocks_match_the_interpreter, a_block_of_more_constants_than_the_virtual_stack_holds,
            shifts_by_unknown_amounts_match_the_interpreter, division_matches_the_interpreter, multiplication_matches_the_interpreter,
            modular_arithmetic_by_a_known_modulus_matches_the_interpreter, fall_through_chains_match_the_interpreter,
            stack_needs_after_a_jumpi_are_checked_before_it,
            a_block_needing_items_and_growing_is_checked_at_both_edges,
            signextend_by_a_known_index_matches_the_interpreter, long_straight_line_code_is_compiled_with_or_without_memory,
            hand_overs_report_the_interpreters_outcome, abort_flag_stops_a_compiled_loop,
            programs_of_the_previous_codegen_revision_are_refused, blob_jump_table_is_runs_and_checked, executable_memory_is_never_writable,
            tiered_compiles_in_the_background_and_reloads_from_the_store, compile_queue_is_bounded,
            a_compilation_on_reused_memory_makes_the_same_program, threads_compile_with_scratch_of_their_own));
}
