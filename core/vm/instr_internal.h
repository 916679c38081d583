/* What the instruction helpers (instr_*.c) share: gas charging and the
 * copies into memory. Each helper is the one definition of its opcode's
 * semantics and dynamic gas, per fork; the caller checked the stack height
 * and charged the base gas (opcodes.h). */
#ifndef JITEVM_INSTR_INTERNAL_H
#define JITEVM_INSTR_INTERNAL_H

#include "vm/evm_internal.h"

static inline uint64_t words(uint64_t bytes) { return (bytes + 31) / 32; }

/* Takes `amount` from the frame's gas; false when that leaves it negative. */
static inline bool charge(frame *f, int64_t amount)
{
    f->gas -= amount;
    return f->gas >= 0;
}

/* Copies `size` bytes of src starting at src_offset into memory, with zeros
 * past the end of src (CALLDATACOPY, CODECOPY, EXTCODECOPY). */
void copy_padded(uint8_t *dst, const uint8_t *src, size_t src_len, const u256 *src_offset, size_t size);
/* Charges memory and the per-word copy cost of a copy of `size` bytes to
 * memory at `mem_offset`. */
enum exec_status charge_copy(frame *f, const u256 *mem_offset, const u256 *size);

#endif
