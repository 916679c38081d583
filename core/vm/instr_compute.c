/* EXP and KECCAK256: computations priced by the size of their operand. */
#include "base/keccak.h"
#include "base/params.h"
#include "vm/instr_internal.h"

enum exec_status instr_EXP(frame *f, u256 *sp)
{
    /* EIP-160 raised the per-byte price from 10 to 50. */
    int64_t per_byte = f->e->fork >= FORK_SPURIOUS_DRAGON ? 50 : 10;
    if (!charge(f, per_byte * (int64_t)u256_byte_length(&sp[-1]))) return EXEC_OUT_OF_GAS;
    sp[-1] = u256_exp(&sp[0], &sp[-1]);
    return EXEC_SUCCESS;
}

enum exec_status instr_KECCAK256(frame *f, u256 *sp)
{
    const u256 *offset = &sp[0], *size = &sp[-1];
    enum exec_status st = mem_expand(f, offset, size);
    if (st != EXEC_SUCCESS) return st;
    if (!charge(f, (int64_t)(GAS_KECCAK_PER_WORD * words(size->w[0])))) return EXEC_OUT_OF_GAS;
    uint8_t h[32];
    keccak256(u256_is_zero(size) ? NULL : f->memory + offset->w[0], u256_is_zero(size) ? 0 : (size_t)size->w[0], h);
    sp[-1] = u256_load_be(h);
    return EXEC_SUCCESS;
}
