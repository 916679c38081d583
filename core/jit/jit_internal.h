/* What the parts of the compiler tier share with each other and with the
 * code they generate:
 *   jit_analysis.c  bytecode to a per-block description (jit_block);
 *   jit_codegen.c   that description to x86-64 (via x86_encode.c);
 *   jit_compile.c   the driver: limits, analysis, codegen, layout;
 *   jit_abi.c       the layout compiled code depends on, asserted and
 *                   fingerprinted into the stored compiler version;
 *   jit_mcode.c     executable memory (W^X);
 *   jit_blob.c      the stored form of a program;
 *   jit_store.c     the program store hooks;
 *   jit_tier.c      which program a frame runs, the background queue;
 *   jit_stats.c     process-wide counters;
 *   jit_runtime.c   running a program, engine names, targets;
 *   jit_ops.c       the helper table compiled code calls through. */
#ifndef JITEVM_JIT_INTERNAL_H
#define JITEVM_JIT_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>

#include "vm/evm_internal.h"
#include "jit/jit.h"

/* Returned by compiled code when it hands the frame to the interpreter:
 * ctx.deopt_pc and ctx.deopt_sp say where, the frame's gas is exact. */
#define JIT_DEOPT 0x7f

/* The generated code's view of one run. Its field offsets are baked into
 * the code; jit_abi.c asserts what the code assumes of them and folds them
 * into JIT_VERSION. */
typedef struct {
    u256 *sp;                     /* in: top of stack (stack_bottom when empty); out on deopt */
    int64_t gas;                  /* in */
    u256 *stack_bottom;           /* the slot below the first item */
    const int32_t *jump_table;    /* pc -> native offset of its block, 0 when not a JUMPDEST */
    const uint8_t *native;        /* the program's code */
    const atomic_int *abort_flag; /* polled at every taken jump */
    uint32_t deopt_pc;            /* out */
} jit_ctx;

/* Every field compiled code reads or writes, with the size it accesses it
 * as: (struct, field, bytes). Code generation names an offset only through
 * JIT_OFFSET, which exists for the fields listed here; jit_abi.c asserts
 * each size and alignment and folds each offset into JIT_VERSION. */
#define JIT_ABI_FIELDS(X)                                                                             \
    X(jit_ctx, sp, 8) X(jit_ctx, gas, 8) X(jit_ctx, stack_bottom, 8) X(jit_ctx, jump_table, 8)         \
    X(jit_ctx, native, 8) X(jit_ctx, abort_flag, 8) X(jit_ctx, deopt_pc, 4)                            \
    X(frame, gas, 8) X(frame, memory, 8) X(frame, memory_size, 8) X(frame, buffers, 8)                \
    X(frame_buffers, memory_cap, 8) X(frame_buffers, memory_dirty, 8)

enum jit_abi_offset {
#define JIT_ABI_OFFSET_ENUM(type, field, bytes) JIT_OFFSET_##type##_##field = offsetof(type, field),
    JIT_ABI_FIELDS(JIT_ABI_OFFSET_ENUM)
#undef JIT_ABI_OFFSET_ENUM
};
/* The offset of a field compiled code uses (a compile error for others). */
#define JIT_OFFSET(type, field) ((int32_t)JIT_OFFSET_##type##_##field)

/* A compiled program's position-independent image: what the store keeps. */
typedef struct {
    uint8_t *native;
    size_t native_len;
    size_t native_cap;   /* bytes allocated at native (jit_image_free keeps them for the next compilation) */
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
/* The opcode table's kind column as the compiler sees it (jit_ops.c). */
enum jit_op_kind jit_op_kind(uint8_t op);

/* The stack operations of kind OPK_STACK the compiler emits itself, by how. */
enum jit_native_op {
    JN_NONE,    /* called through the helper table */
    JN_ARITH,   /* ADD SUB AND OR XOR MUL: limb by limb, an operand may be a folded PUSH */
    JN_COMPARE, /* the table's comparisons: flags, then a 0/1 word or a fused JUMPI */
    JN_NOT,
    JN_DIVMOD,  /* DIV MOD SDIV SMOD: by a divisor (magnitude) that fits 64 bits with the div instruction, else the helper out of line */
    JN_SHIFT,   /* SHL SHR SAR: by a constant amount limb by limb, else through a scratch area indexed by the amount */
};
enum jit_native_op jit_native_op(uint8_t op);

typedef enum exec_status (*jit_entry_fn)(jit_ctx *ctx, frame *f, const void *const *helpers);

typedef struct jit_program {
    jit_image image;    /* native points at the executable mapping */
    size_t mapped_len;
    jit_entry_fn entry;
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

/* ---- executable memory (jit_mcode.c) */

/* The program of `img`, its code copied into a mapping that is written
 * while writable and then made read+execute, never both; `img`'s native
 * buffer is freed and its jump table moved into the program. NULL (img
 * untouched) when memory cannot be had. */
jit_program *jit_mcode_map(jit_image *img);
/* The same from native code anywhere (say, a blob): `jump_table` (code_len
 * entries, malloc'd) is the program's on success, the caller's otherwise. */
jit_program *jit_mcode_map_code(const uint8_t *native, size_t native_len, int32_t *jump_table, size_t code_len);
void jit_mcode_free(jit_program *p);
/* A mapping being filled: jit_mcode_reserve gives `native_len` writable
 * bytes (a page-aligned start, and the lead page before it writable too:
 * room for a blob's header), from the pool of freed programs' mappings or
 * new; jit_mcode_seal makes them the program's code, read+execute (the
 * jump table is the program's on success, the caller's otherwise; on
 * failure the mapping is gone), jit_mcode_unreserve unmaps them (what
 * they hold was never checked: never made executable). */
typedef struct {
    uint8_t *base;
    size_t len;
    size_t dirty; /* bytes from the code's start to make int3 past the code when sealed */
} jit_mcode_region;
uint8_t *jit_mcode_reserve(size_t native_len, jit_mcode_region *r);
jit_program *jit_mcode_seal(jit_mcode_region *r, size_t native_len, int32_t *jump_table, size_t code_len);
void jit_mcode_unreserve(jit_mcode_region *r);
/* Unmaps the pooled mappings (a test or the bench measuring new ones). */
void jit_mcode_pool_drain(void);
/* Mappings reused from the pool and made new, since the start. */
void jit_mcode_pool_counts(uint64_t *reused, uint64_t *made);
/* Mappings alive now (programs' and pooled; two VMAs each). */
size_t jit_mcode_live(void);
/* Whether the live mappings are at their cap (a new one is refused). */
bool jit_mcode_at_cap(void);
/* Tests: caps the live mappings at `max_live` (0: back to a quarter of
 * vm.max_map_count); past it jit_mcode_reserve refuses. */
void jit_mcode_set_max_live(size_t max_live);

/* ---- the stored form (jit_blob.c) */

/* The blob of `img` compiled for fork `f` (malloc'd, *len bytes). */
uint8_t *jit_blob_from_image(const jit_image *img, enum fork f, size_t *len);
/* The same in the thread's scratch (JS_BLOB, *cap bytes): give it back
 * with jit_scratch_give. */
uint8_t *jit_blob_scratch(const jit_image *img, enum fork f, size_t *len, size_t *cap);
/* The image in a blob, checked against the code it claims to be for and
 * against this build's JIT_VERSION; false when it does not fit. */
bool jit_blob_to_image(const uint8_t *blob, size_t len, const code_info *ci, enum fork f, jit_image *img);
/* The program in a blob, checked as jit_blob_to_image does, its native
 * code copied once, straight from the blob into executable memory (a
 * program load); NULL when it does not fit or memory cannot be had. */
jit_program *jit_program_from_blob(const uint8_t *blob, size_t len, const code_info *ci, enum fork f);
/* The program of (ci, f) read through `s` (load_into when it has one: the
 * blob copied once, into the mapping it will run from), or NULL: none
 * stored (*found false), or one that does not fit the code. */
jit_program *jit_program_load(const jit_store *s, const code_info *ci, enum fork f, bool *found);

/* ---- the program store (jit_store.c) */

/* Saves the program of (ci, f) when a store is set. */
void jit_store_save(const code_info *ci, enum fork f, const jit_image *img);
/* The stored blob for (ci, f): false when there is no store or no blob. */
bool jit_store_load(const code_info *ci, enum fork f, uint8_t **blob, size_t *len);
/* The stored program of (ci, f), mapped, or NULL (no store, none stored,
 * or one that does not fit: counted as store hits and misses). */
jit_program *jit_store_load_program(const code_info *ci, enum fork f);

/* ---- working memory of compilations (jit_scratch.c) */

/* The arrays a compilation works in, kept per thread between compilations
 * so that their pages are not faulted in again each time. */
enum jit_scratch_slot {
    JS_INSNS,     /* jit_analysis.insns */
    JS_BLOCKS,    /* jit_analysis.blocks */
    JS_TARGETS,   /* the analysis's static jump targets */
    JS_NATIVE,    /* the machine code buffer (a jit_image's native) */
    JS_BLOCK_AT,  /* the code generator's tables */
    JS_FIX,
    JS_STUBS,
    JS_COLD,
    JS_ENTRIES,
    JS_STUB_AT,
    JS_BLOB,      /* a program's blob being saved */
    JS_COUNT
};
/* An array of at least `need` items of `elem` bytes (malloc'd, contents
 * undefined): the thread's kept one when large enough, else a new one.
 * *cap: the items it holds. Free it with jit_scratch_give (or free). */
void *jit_scratch_take(enum jit_scratch_slot slot, size_t need, size_t elem, size_t *cap);
/* Keeps `p` (`cap` items of `elem` bytes) for the thread's next take of
 * `slot`, or frees it (the slot is full, or too much is kept). */
void jit_scratch_give(enum jit_scratch_slot slot, void *p, size_t cap, size_t elem);
/* Frees what the calling thread keeps (its exit does too). */
void jit_scratch_release(void);

/* Grows an array of `elem`-byte items to hold at least `need` (its
 * capacity in *cap), doubling. */
static inline void *jit_grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return p;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    *cap = n;
    return xrealloc(p, n * elem);
}

/* ---- statistics (jit_stats.c) */

typedef struct {
    atomic_uint_fast64_t frames_interp, frames_compiled, deopts, compiled, compile_failed, compile_ns;
    atomic_uint_fast64_t store_hits, store_misses, store_saves, queued, queue_full, programs, native_bytes;
} jit_counters;
extern jit_counters jit_count;


#endif
