/* LOG0..LOG4: a log of memory and topics from the stack, forbidden in a
 * static call. */
#include "base/params.h"
#include "vm/instr_internal.h"

static enum exec_status do_log(frame *f, u256 *sp, unsigned n_topics)
{
    if (f->msg->is_static) return EXEC_STATIC_VIOLATION;
    const u256 *offset = &sp[0], *size = &sp[-1];
    enum exec_status st = mem_expand(f, offset, size);
    if (st != EXEC_SUCCESS) return st;
    if (!charge(f, (int64_t)(GAS_LOG_DATA * size->w[0]))) return EXEC_OUT_OF_GAS;
    hash32 topics[4];
    for (unsigned i = 0; i < n_topics; i++) u256_store_be(topics[i].b, &sp[-2 - (int)i]);
    size_t len = u256_is_zero(size) ? 0 : (size_t)size->w[0];
    state_add_log(f->e->st, &f->msg->recipient, topics, n_topics, len ? f->memory + offset->w[0] : NULL, len);
    return EXEC_SUCCESS;
}

enum exec_status instr_LOG0(frame *f, u256 *sp) { return do_log(f, sp, 0); }
enum exec_status instr_LOG1(frame *f, u256 *sp) { return do_log(f, sp, 1); }
enum exec_status instr_LOG2(frame *f, u256 *sp) { return do_log(f, sp, 2); }
enum exec_status instr_LOG3(frame *f, u256 *sp) { return do_log(f, sp, 3); }
enum exec_status instr_LOG4(frame *f, u256 *sp) { return do_log(f, sp, 4); }
