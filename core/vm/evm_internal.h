/* What both tiers share with the call machinery: the evm context, the call
 * frame, the instruction helpers (instr_*.c; declared from the opcode
 * table's helper kinds) that implement the opcodes too large to inline, and
 * opcode_functions. Every helper is the single definition of its opcode's
 * semantics. */
#ifndef JITEVM_EVM_INTERNAL_H
#define JITEVM_EVM_INTERNAL_H

#include "vm/evm.h"
#include "vm/opcodes.h"

/* Memory past this size costs more gas than any transaction can carry
 * (3*2^27 + 2^54/512 gas at 4 GiB), so larger offsets are out of gas. */
#define EVM_MAX_MEMORY ((uint64_t)1 << 32)

#define EVM_BUFFER_CHUNK 16

/* Reusable per-depth buffers, so a call frame allocates nothing once the
 * evm has warmed up. */
typedef struct {
    uint8_t *memory;
    size_t memory_cap;
    /* memory[memory_dirty .. memory_cap) is known to be zero (no frame has
     * grown its memory that far since it was allocated), so growing there
     * needs no clearing. */
    size_t memory_dirty;
    /* memory[f->memory_size .. memory_zero_end) is zero for the frame
     * running on these buffers (reset to 0 when a frame starts; at most
     * memory_cap): growth up to it clears nothing. Growth past it clears
     * ahead of the new size (instr_memory.c's zero_ahead), so that memory
     * grown a word at a time over an earlier frame's bytes is cleared in
     * chunks, not a word per growth. The compiled code's own growth ignores
     * it (it clears by memory_dirty alone, also right). */
    size_t memory_zero_end;
    u256 *stack;        /* EVM_STACK_LIMIT words, allocated on first use */
    bytebuf precompile_output;
} frame_buffers;

/* Frees a frame_buffers' memory buffer (heap or mapping) and empties it. */
void memory_buffer_free(frame_buffers *b);

/* The frame's EVM stack for either tier, allocated on first use. */
u256 *frame_stack_alloc(frame_buffers *b);
static inline u256 *frame_stack(frame_buffers *b) { return b->stack ? b->stack : frame_stack_alloc(b); }

struct evm {
    state *st;
    const block_env *block;
    enum fork fork;
    const fork_opcode_table *optab;
    address origin;
    u256 gas_price;
    const hash32 *blob_hashes;
    size_t n_blob_hashes;
    tracer trace;
    bool tracing;
    const atomic_int *abort_flag;  /* never NULL: evm_no_abort when none is set */
    const precompile_move *moves;
    size_t n_moves;
    int engine;                    /* enum engine */
    /* Frames may run compiled: an engine other than the interpreter, and
     * no tracer (kept by evm_set_engine and evm_set_tracer, so that a frame
     * tests one flag). */
    bool run_compiled;
    uint32_t frames_interp, frames_compiled, deopts; /* flushed to jit_stats by evm_free */
    /* EVM memory buffers allocated (bytes, all depths; counted in the
     * process's budget until evm_free), the limit, and whether it was hit. */
    size_t memory_allocated, memory_limit;
    bool memory_limit_hit;
    /* Per-depth buffers in chunks allocated on first use, so a fresh evm
     * costs one small allocation and frames never see their buffers move. */
    /* One past the deepest depth whose buffers were asked for: evm_new
     * zeroes nothing from buffer_chunks on (it sets chunk 0 and depth_end 1
     * from the thread's spare), evm_buffers sets chunks below it, and
     * evm_free and the thread's spare look no further. */
    int depth_end;
    frame_buffers *buffer_chunks[(EVM_MAX_DEPTH + 1 + EVM_BUFFER_CHUNK - 1) / EVM_BUFFER_CHUNK];
};

/* Accounts `more` bytes of EVM memory to the execution before they are
 * allocated (instr_memory.c's growth, both tiers); false: refused by the
 * execution's limit or the process's budget. */
bool evm_memory_grow(evm *e, size_t more);

/* The buffers of call depth `depth`. */
frame_buffers *evm_buffers(evm *e, int depth);

typedef struct {
    evm *e;
    const message *msg;
    const code_info *code;
    int64_t gas;
    uint8_t *memory;
    size_t memory_size;        /* always a multiple of 32 */
    frame_buffers *buffers;
    const uint8_t *return_data;
    size_t return_data_len;
    /* Set by RETURN/REVERT. */
    const uint8_t *output;
    size_t output_len;
} frame;

/* Runs code in a frame; the frame's gas, memory and output are updated.
 * Returns the frame's status (the caller reverts state when not success).
 * interp_run_from continues a frame at `pc` with `stack_height` items
 * already on the frame's stack (where compiled code handed over). */
enum exec_status interp_run_from(frame *f, size_t pc, size_t stack_height);
static inline enum exec_status interp_run(frame *f) { return interp_run_from(f, 0, 0); }

/* --- Helpers for the instructions. Each takes the frame and `sp`, a
 * pointer to the current top of the stack (sp[0] is the top, sp[-1] the
 * next), after the stack height and base gas have been checked. Results
 * are written in place as the opcode's stack effect says. A helper returns
 * EXEC_SUCCESS to continue, anything else to halt the frame. */

/* Grows memory to cover [offset, offset + size) and charges for it. */
enum exec_status mem_expand(frame *f, const u256 *offset, const u256 *size);
/* The same for an offset/size already known to be small. */
enum exec_status mem_expand_u64(frame *f, uint64_t offset, uint64_t size);

/* instr_NAME for every opcode whose kind is a helper (opcodes.h). */
#define INSTR_DECLARE_HELPER(name) enum exec_status instr_##name(frame *f, u256 *sp);
#define INSTR_DECLARE_HELPER_FAST(name) INSTR_DECLARE_HELPER(name)
#define INSTR_DECLARE_INVALID(name)
#define INSTR_DECLARE_BUILTIN(name)
#define INSTR_DECLARE_PUSH(name)
#define INSTR_DECLARE_DUP(name)
#define INSTR_DECLARE_SWAP(name)
#define INSTR_DECLARE_STACK(name)
#define INSTR_DECLARE_CONTEXT(name)
#define INSTR_DECLARE_ROW(op, name, imm, in, out, gas, fork, kind, flags) INSTR_DECLARE_##kind(name)
OPCODES(INSTR_DECLARE_ROW)
#undef INSTR_DECLARE_ROW

/* Per opcode with opcode_has_function, the function implementing it with
 * the signature its kind gives (opcodes.h); NULL for the others. What the
 * compiler calls; the interpreter inlines the same definitions. */
extern const void *const opcode_functions[256];

/* Address conversions. */
static inline address address_from_word(const u256 *w)
{
    uint8_t b[32];
    u256_store_be(b, w);
    address a;
    for (int i = 0; i < 20; i++) a.b[i] = b[12 + i];
    return a;
}

static inline u256 word_from_address(const address *a)
{
    uint8_t b[32] = {0};
    for (int i = 0; i < 20; i++) b[12 + i] = a->b[i];
    return u256_load_be(b);
}

#endif
