/* Memory: its expansion and gas (mem_expand, used by every helper that
 * touches memory), MLOAD, MSTORE, MSTORE8, MCOPY, and the copies into memory
 * from the frame (CALLDATACOPY, CODECOPY, RETURNDATACOPY). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/params.h"
#include "vm/instr_internal.h"

/* Buffers of at least this many bytes are their own anonymous mappings:
 * the kernel hands out their pages zeroed, and mremap grows them in place
 * or moves their pages without copying, so growing one clears and copies
 * nothing. (Each growth used to allocate, zero the whole new buffer and
 * copy the old memory: 12% of snailtracer's compiled run, whose memory
 * reaches megabytes.) Smaller ones come from the heap. */
#define MEMORY_MAP_MIN ((size_t)256 << 10)

static bool buffer_is_mapped(size_t cap) { return cap >= MEMORY_MAP_MIN; }

u256 *frame_stack_alloc(frame_buffers *b)
{
    /* Cache-line aligned, so that no stack word straddles two lines (a
     * 16-byte aligned block put the fourth word across a line and a page). */
    b->stack = aligned_alloc(64, EVM_STACK_LIMIT * sizeof(u256));
    if (!b->stack) b->stack = xmalloc(EVM_STACK_LIMIT * sizeof(u256));
    return b->stack;
}

void memory_buffer_free(frame_buffers *b)
{
    if (b->memory && buffer_is_mapped(b->memory_cap))
        munmap(b->memory, b->memory_cap);
    else
        free(b->memory);
    b->memory = NULL;
    b->memory_cap = 0;
    b->memory_dirty = 0;
    b->memory_zero_end = 0;
}

/* A larger buffer for memory of at least `need` bytes, its capacity
 * doubled, with memory_dirty kept true (the bytes past it zero). It is
 * cache-line aligned (mappings are page aligned), so that a word at a
 * multiple of 32 (nearly every MLOAD/MSTORE) never straddles two lines:
 * calloc's 16-byte alignment (its large blocks start 16 bytes into a
 * page) split every other one. */
static bool grow_buffer(frame *f, frame_buffers *b, size_t need)
{
    size_t old_cap = b->memory_cap;
    size_t cap = old_cap ? old_cap : 4096;
    while (cap < need) cap *= 2;
    /* The memory limits apart from gas (evm_memory_grow): refused growth
     * ends the execution as EXEC_MEMORY_LIMIT. */
    if (!evm_memory_grow(f->e, cap - old_cap)) return false;
    if (buffer_is_mapped(cap)) {
        if (b->memory && buffer_is_mapped(old_cap)) {
            /* The old pages keep their bytes; the new ones are zero. */
            void *m = mremap(b->memory, old_cap, cap, MREMAP_MAYMOVE);
            if (m != MAP_FAILED) {
                b->memory = f->memory = m;
                b->memory_cap = cap;
                return true;
            }
        } else {
            void *m = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m != MAP_FAILED) {
                if (f->memory_size) memcpy(m, f->memory, f->memory_size);
                memory_buffer_free(b);
                b->memory = f->memory = m;
                b->memory_cap = cap;
                b->memory_dirty = f->memory_size;
                return true;
            }
        }
        /* No mapping to be had: ended like a refusal by the memory
         * limit (EXEC_MEMORY_LIMIT, not a consensus out of gas). */
        f->e->memory_limit_hit = true;
        return false;
    }
    uint8_t *m = aligned_alloc(64, cap);
    if (!m) m = xmalloc(cap);
    if (f->memory_size) memcpy(m, f->memory, f->memory_size);
    memset(m + f->memory_size, 0, cap - f->memory_size);
    free(b->memory);
    b->memory = f->memory = m;
    b->memory_cap = cap;
    b->memory_dirty = f->memory_size;
    return true;
}

/* How far past a new size its growth clears an earlier frame's bytes:
 * as far again as the size, at most 4 KiB (a short call after a long one
 * clears little more than it uses; memory grown a word at a time over
 * those bytes, as structarray_alloc and memory_grow_* grow it, clears
 * once per 4 KiB instead of a word per growth: measured 6-7% of their
 * time). */
#define ZERO_AHEAD_MAX ((size_t)4 << 10)

/* Makes memory[f->memory_size .. new_size) zero, the buffer large enough
 * for new_size, and memory_zero_end at least new_size; false when the
 * buffer cannot grow. Apart, so that the common growth (up to
 * memory_zero_end) saves no registers for it. */
static __attribute__((noinline)) bool zero_ahead(frame *f, frame_buffers *b, size_t new_size)
{
    if (new_size > b->memory_cap && !grow_buffer(f, b, new_size)) return false;
    /* [memory_size, from) is zero already, and so is all past memory_dirty. */
    size_t from = b->memory_zero_end > f->memory_size ? b->memory_zero_end : f->memory_size;
    if (b->memory_dirty <= from) {
        b->memory_zero_end = b->memory_cap; /* nothing left behind past the memory */
        return true;
    }
    size_t ahead = new_size < ZERO_AHEAD_MAX ? new_size : ZERO_AHEAD_MAX;
    size_t to = b->memory_cap - new_size < ahead ? b->memory_cap : new_size + ahead;
    size_t clear_end = b->memory_dirty < to ? b->memory_dirty : to;
    if (clear_end > from) memset(f->memory + from, 0, clear_end - from);
    b->memory_zero_end = to;
    return true;
}

/* Memory grown to cover `end` bytes, end > f->memory_size, end <= 2^33:
 * the gas for the new words, then the buffer and its clearing (the memory
 * limits apart from gas only once the gas is paid). */
static inline __attribute__((always_inline)) enum exec_status grow_to(frame *f, uint64_t end)
{
    uint64_t new_words = words(end);
    int64_t cost = (int64_t)(evm_memory_cost(new_words) - evm_memory_cost(f->memory_size / 32));
    if (!charge(f, cost)) return EXEC_OUT_OF_GAS;
    size_t new_size = new_words * 32;
    frame_buffers *b = f->buffers;
    if (__builtin_expect(new_size > b->memory_zero_end, 0) && !zero_ahead(f, b, new_size))
        return EXEC_OUT_OF_GAS; /* ends the execution: EXEC_MEMORY_LIMIT */
    if (new_size > b->memory_dirty) b->memory_dirty = new_size;
    f->memory_size = new_size;
    return EXEC_SUCCESS;
}

enum exec_status mem_expand_u64(frame *f, uint64_t offset, uint64_t size)
{
    if (size == 0) return EXEC_SUCCESS;
    uint64_t end = offset + size;
    if (end <= f->memory_size) return EXEC_SUCCESS;
    return grow_to(f, end);
}

enum exec_status mem_expand(frame *f, const u256 *offset, const u256 *size)
{
    if (u256_is_zero(size)) return EXEC_SUCCESS;
    if (!u256_fits_u64(offset) || !u256_fits_u64(size) || offset->w[0] > EVM_MAX_MEMORY ||
        size->w[0] > EVM_MAX_MEMORY)
        return EXEC_OUT_OF_GAS;
    return mem_expand_u64(f, offset->w[0], size->w[0]);
}

void copy_padded(uint8_t *dst, const uint8_t *src, size_t src_len, const u256 *src_offset, size_t size)
{
    size_t copied = 0;
    if (u256_fits_u64(src_offset) && src_offset->w[0] < src_len) {
        size_t off = (size_t)src_offset->w[0];
        copied = src_len - off < size ? src_len - off : size;
        memcpy(dst, src + off, copied);
    }
    memset(dst + copied, 0, size - copied);
}

enum exec_status charge_copy(frame *f, const u256 *mem_offset, const u256 *size)
{
    enum exec_status st = mem_expand(f, mem_offset, size);
    if (st != EXEC_SUCCESS) return st;
    if (!charge(f, (int64_t)(GAS_COPY_PER_WORD * words(size->w[0])))) return EXEC_OUT_OF_GAS;
    return EXEC_SUCCESS;
}

static enum exec_status copy_to_memory(frame *f, u256 *sp, const uint8_t *src, size_t src_len)
{
    const u256 *mem_offset = &sp[0], *src_offset = &sp[-1], *size = &sp[-2];
    enum exec_status st = charge_copy(f, mem_offset, size);
    if (st != EXEC_SUCCESS || u256_is_zero(size)) return st;
    copy_padded(f->memory + mem_offset->w[0], src, src_len, src_offset, (size_t)size->w[0]);
    return EXEC_SUCCESS;
}

enum exec_status instr_CALLDATACOPY(frame *f, u256 *sp)
{
    return copy_to_memory(f, sp, f->msg->input, f->msg->input_len);
}

enum exec_status instr_CODECOPY(frame *f, u256 *sp)
{
    return copy_to_memory(f, sp, f->code->code, f->code->code_len);
}

enum exec_status instr_RETURNDATACOPY(frame *f, u256 *sp)
{
    const u256 *mem_offset = &sp[0], *src_offset = &sp[-1], *size = &sp[-2];
    enum exec_status st = charge_copy(f, mem_offset, size);
    if (st != EXEC_SUCCESS) return st;
    /* EIP-211: reading past the end of the return data is an exceptional halt. */
    u256 end = u256_add(src_offset, size);
    if (!u256_fits_u64(src_offset) || u256_lt(&end, src_offset) || !u256_fits_u64(&end) ||
        end.w[0] > f->return_data_len)
        return EXEC_RETURNDATA_OUT_OF_BOUNDS;
    if (!u256_is_zero(size))
        memcpy(f->memory + mem_offset->w[0], f->return_data + src_offset->w[0], (size_t)size->w[0]);
    return EXEC_SUCCESS;
}

enum exec_status instr_MCOPY(frame *f, u256 *sp)
{
    const u256 *dst = &sp[0], *src = &sp[-1], *size = &sp[-2];
    if (u256_is_zero(size)) return EXEC_SUCCESS;
    const u256 *far = u256_lt(dst, src) ? src : dst;
    enum exec_status st = mem_expand(f, far, size);
    if (st != EXEC_SUCCESS) return st;
    if (!charge(f, (int64_t)(GAS_COPY_PER_WORD * words(size->w[0])))) return EXEC_OUT_OF_GAS;
    memmove(f->memory + dst->w[0], f->memory + src->w[0], (size_t)size->w[0]);
    return EXEC_SUCCESS;
}

/* MLOAD and MSTORE past the memory paid for (the interpreter and the
 * compiled code try op_MLOAD_in_bounds / op_MSTORE_in_bounds first). */
static inline __attribute__((always_inline)) enum exec_status expand_for_word(frame *f, const u256 *offset)
{
    if (!u256_fits_u64(offset) || offset->w[0] > EVM_MAX_MEMORY) return EXEC_OUT_OF_GAS;
    uint64_t end = offset->w[0] + 32;
    if (end <= f->memory_size) return EXEC_SUCCESS;
    return grow_to(f, end);
}

/* The common growth of a word access, done in place: true when the word
 * at `offset` is in memory now (grown, paid for, the new bytes zero).
 * False, with nothing changed, when it needs expand_for_word: an offset
 * out of range, too little gas, or growth past memory_zero_end (a larger
 * buffer, or an earlier frame's bytes to clear). Keeping those out leaves
 * the fast path without calls, so its helper saves no registers (the
 * growth of structarray_alloc and memory_grow_*: 20,000 and 4,096 per
 * execution). */
static inline __attribute__((always_inline)) bool word_grown_in_place(frame *f, const u256 *offset)
{
    if (!u256_fits_u64(offset) || offset->w[0] > EVM_MAX_MEMORY) return false;
    uint64_t end = offset->w[0] + 32, old_size = f->memory_size;
    if (end <= old_size) return true;
    uint64_t new_words = words(end);
    size_t new_size = new_words * 32;
    frame_buffers *b = f->buffers;
    if (new_size > b->memory_zero_end) return false;
    int64_t cost = (int64_t)(evm_memory_cost(new_words) - evm_memory_cost(old_size / 32));
    if (f->gas < cost) return false;
    f->gas -= cost;
    if (new_size > b->memory_dirty) b->memory_dirty = new_size;
    f->memory_size = new_size;
    return true;
}

static __attribute__((noinline)) enum exec_status mload_grow(frame *f, u256 *sp)
{
    enum exec_status st = expand_for_word(f, &sp[0]);
    if (st != EXEC_SUCCESS) return st;
    sp[0] = u256_load_be(f->memory + sp[0].w[0]);
    return EXEC_SUCCESS;
}

static __attribute__((noinline)) enum exec_status mstore_grow(frame *f, u256 *sp)
{
    enum exec_status st = expand_for_word(f, &sp[0]);
    if (st != EXEC_SUCCESS) return st;
    u256_store_be(f->memory + sp[0].w[0], &sp[-1]);
    return EXEC_SUCCESS;
}

enum exec_status instr_MLOAD(frame *f, u256 *sp)
{
    if (!word_grown_in_place(f, &sp[0])) return mload_grow(f, sp);
    sp[0] = u256_load_be(f->memory + sp[0].w[0]);
    return EXEC_SUCCESS;
}

enum exec_status instr_MSTORE(frame *f, u256 *sp)
{
    if (!word_grown_in_place(f, &sp[0])) return mstore_grow(f, sp);
    u256_store_be(f->memory + sp[0].w[0], &sp[-1]);
    return EXEC_SUCCESS;
}

enum exec_status instr_MSTORE8(frame *f, u256 *sp)
{
    static const u256 one = {{1, 0, 0, 0}};
    enum exec_status st = mem_expand(f, &sp[0], &one);
    if (st != EXEC_SUCCESS) return st;
    f->memory[sp[0].w[0]] = (uint8_t)sp[-1].w[0];
    return EXEC_SUCCESS;
}
