/* The environment reads that need more than ops.h's context functions:
 * BLOCKHASH (the chain's recent history, through the state backend) and
 * BLOBHASH (the transaction's blob hashes). */
#include "vm/instr_internal.h"

enum exec_status instr_BLOCKHASH(frame *f, u256 *sp)
{
    uint64_t current = f->e->block->number;
    const u256 *n = &sp[0];
    hash32 h;
    if (u256_fits_u64(n) && n->w[0] < current && current - n->w[0] <= 256) {
        const state_backend *b = state_get_backend(f->e->st);
        if (b->get_block_hash(b->ctx, n->w[0], &h)) {
            sp[0] = u256_load_be(h.b);
            return EXEC_SUCCESS;
        }
    }
    sp[0] = u256_zero();
    return EXEC_SUCCESS;
}

enum exec_status instr_BLOBHASH(frame *f, u256 *sp)
{
    const u256 *i = &sp[0];
    if (u256_fits_u64(i) && i->w[0] < f->e->n_blob_hashes)
        sp[0] = u256_load_be(f->e->blob_hashes[i->w[0]].b);
    else
        sp[0] = u256_zero();
    return EXEC_SUCCESS;
}
