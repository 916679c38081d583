/* The compiler tier: contracts translated once into native x86-64 code.
 *
 * A program is compiled per (code hash, fork): the fork decides which
 * opcodes exist and what they cost. The compiled code runs the common path
 * only (block-level gas and stack checks, instructions inline or through the
 * same helpers the interpreter calls); whenever anything unusual happens —
 * a block that cannot pay its gas, a stack that would under- or overflow, a
 * jump to a bad destination, an undefined opcode — it hands the frame, at
 * that instruction and with its exact gas and stack, to the interpreter,
 * which then decides (and names) the outcome. So the interpreter remains
 * the one reference for every failure.
 *
 * Engines:
 *   interp   every frame on the interpreter;
 *   jit      each code compiled before its first frame, synchronously
 *            (conformance runs, benchmarks of the compiler); code the
 *            compiler declines and frames under a tracer run interpreted;
 *   tiered   the service's mode: the first frames of a new code hash run on
 *            the interpreter while a background thread compiles it (or loads
 *            it from the program store); later frames run compiled. */
#ifndef JITEVM_JIT_H
#define JITEVM_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/fork.h"
#include "base/types.h"
#include "state/state.h"

enum engine { ENGINE_INTERP, ENGINE_JIT, ENGINE_TIERED };
#define ENGINE_NAMES "interp, jit, tiered"
/* "interp", "jit" or "tiered"; false for anything else. */
bool engine_parse(const char *name, enum engine *out);
const char *engine_name(enum engine e);

/* The compiler version programs are stored and looked up under: a
 * fingerprint of JIT_CODEGEN_REVISION, of the layout compiled code bakes in
 * (the offsets of the frame and context fields it reads and writes, the
 * status codes it returns, the stack limit), of the helper table's calling
 * conventions and of the opcode tables whose gas and stack effects it
 * compiles in. A program built by a build that differs in any of these is
 * refused automatically and compiled again. Always in 1..INT32_MAX (the
 * store keeps it as a SQL integer). */
uint32_t jit_compiler_version(void);
#define JIT_VERSION (jit_compiler_version())
/* Bumped when the generated code changes in a way the fingerprint cannot
 * see (a bug fixed in code generation, a new blob field). */
#define JIT_CODEGEN_REVISION 16

/* The two halves of the fingerprint, and the version they make: exposed so
 * that tests can name the version of a build with another layout. */
uint64_t jit_abi_fingerprint(void);
uint64_t jit_helper_fingerprint(void);
uint32_t jit_version_from(uint32_t revision, uint64_t abi_fingerprint, uint64_t helper_fingerprint);

/* Compilations waiting at most: a flood of new code (say, eth_call state
 * overrides) must not pile up memory; the rest run interpreted for now. */
#define JIT_QUEUE_MAX 256

/* The target a program was compiled for: instruction set, ABI and fork,
 * e.g. "x86_64-sysv/Cancun". Programs are stored and looked up under it. */
const char *jit_target(enum fork f);

/* Whether this machine can run compiled code (x86-64 Linux); when not,
 * every engine runs the interpreter. */
bool jit_supported(void);

/* Where compiled programs persist (the service's SQLite store). Both
 * callbacks may be called from any thread, concurrently.
 *   load: the stored blob for (code_hash, JIT_VERSION, target) in a
 *         malloc'd buffer the caller frees; false when there is none or the
 *         store rejected it (bad integrity tag).
 *   load_into (may be NULL, then load is used): the same, copied once,
 *         straight into the memory `dest` places it in (writable, private
 *         to this process), its tag checked over that copy, so that what
 *         was checked is what runs; *len its length. False when none, when
 *         rejected, or when dest had no memory.
 *   save: stores a freshly compiled program's blob. */
typedef struct {
    uint8_t *(*place)(void *ctx, size_t len); /* memory for len bytes, or NULL */
    void *ctx;
} jit_blob_dest;
typedef struct {
    void *ctx;
    bool (*load)(void *ctx, const hash32 *code_hash, uint32_t version, const char *target, uint8_t **blob,
                 size_t *len);
    bool (*load_into)(void *ctx, const hash32 *code_hash, uint32_t version, const char *target,
                      const jit_blob_dest *dest, size_t *len);
    void (*save)(void *ctx, const hash32 *code_hash, uint32_t version, const char *target, const uint8_t *blob,
                 size_t len);
} jit_store;
/* Sets (or, with NULL, clears) the program store. Call before executing. */
void jit_set_store(const jit_store *store);

/* Ahead-of-time compilation (`jitevm compile`): afterwards the program of
 * `ci` for fork `f` is in the program store, unless the compiler declines
 * the code. Says which happened. */
enum jit_aot_result { JIT_AOT_ALREADY_STORED, JIT_AOT_COMPILED, JIT_AOT_DECLINED };
enum jit_aot_result jit_compile_to_store(const code_info *ci, enum fork f);

typedef struct {
    uint64_t frames_interp;    /* frames run on the interpreter */
    uint64_t frames_compiled;  /* frames run (at least in part) as compiled code */
    uint64_t deopts;           /* compiled frames handed to the interpreter mid-way */
    uint64_t compiled;         /* programs compiled */
    uint64_t compile_failed;   /* compilations refused: code too large, long code without jumps
                                  (faster interpreted), out of memory */
    uint64_t compile_ns;       /* time spent compiling */
    uint64_t store_hits;       /* programs loaded from the store */
    uint64_t store_misses;     /* lookups that found nothing usable */
    uint64_t store_saves;      /* programs written to the store */
    uint64_t queued;           /* compilations waiting now (at most JIT_QUEUE_MAX) */
    uint64_t queue_full;       /* compilations not queued because the queue was full
                                  (a later call of the code tries again) */
    uint64_t programs;         /* compiled programs alive now */
    uint64_t native_bytes;     /* their native code */
} jit_stats;
jit_stats jit_get_stats(void);

/* Blocks until the background compiler has nothing queued (tests, bench). */
void jit_wait_idle(void);
/* Tests: while held, the background compiler starts no new job. */
void jit_hold_background(bool hold);

#endif
