/* The helpers that end the frame (OPF_HALTS): RETURN and REVERT set its
 * output from memory; SELFDESTRUCT moves the balance and, per fork, deletes
 * the account. Their status is the frame's. */
#include "base/params.h"
#include "vm/instr_internal.h"

static enum exec_status set_output(frame *f, u256 *sp)
{
    const u256 *offset = &sp[0], *size = &sp[-1];
    enum exec_status st = mem_expand(f, offset, size);
    if (st != EXEC_SUCCESS) return st;
    f->output_len = u256_is_zero(size) ? 0 : (size_t)size->w[0];
    f->output = f->output_len ? f->memory + offset->w[0] : NULL;
    return EXEC_SUCCESS;
}

enum exec_status instr_RETURN(frame *f, u256 *sp) { return set_output(f, sp); }

enum exec_status instr_REVERT(frame *f, u256 *sp)
{
    enum exec_status st = set_output(f, sp);
    return st == EXEC_SUCCESS ? EXEC_REVERT : st;
}

enum exec_status instr_SELFDESTRUCT(frame *f, u256 *sp)
{
    evm *e = f->e;
    state *st = e->st;
    enum fork fk = e->fork;
    const address *self = &f->msg->recipient;
    address beneficiary = address_from_word(&sp[0]);
    if (fk >= FORK_BERLIN && !state_warm_account(st, &beneficiary) && !charge(f, GAS_COLD_ACCOUNT_ACCESS))
        return EXEC_OUT_OF_GAS;
    u256 balance = state_get_balance(st, self);
    /* EIP-150 charges for creating the beneficiary; EIP-161 only when value
     * actually moves to a dead account. */
    if (fk >= FORK_SPURIOUS_DRAGON) {
        if (!u256_is_zero(&balance) && !state_is_alive(st, &beneficiary) && !charge(f, GAS_NEW_ACCOUNT))
            return EXEC_OUT_OF_GAS;
    } else if (fk >= FORK_TANGERINE_WHISTLE) {
        if (!state_exists(st, &beneficiary) && !charge(f, GAS_NEW_ACCOUNT)) return EXEC_OUT_OF_GAS;
    }
    if (f->msg->is_static) return EXEC_STATIC_VIOLATION;
    if (fk < FORK_LONDON && !state_is_destructed(st, self)) state_add_refund(st, GAS_SELFDESTRUCT_REFUND);
    if (e->trace.on_enter) {
        message frame = {.kind = CALL_SELFDESTRUCT, .depth = f->msg->depth + 1, .sender = *self,
                         .recipient = beneficiary, .code_address = beneficiary, .value = balance,
                         .transfers_value = true};
        exec_result done = {.status = EXEC_SUCCESS};
        e->trace.on_enter(e->trace.ctx, e, &frame);
        if (e->trace.on_exit) e->trace.on_exit(e->trace.ctx, e, &frame, &done);
    }

    if (fk >= FORK_CANCUN) {
        /* EIP-6780: the balance moves; the account is only deleted when it
         * was created in this transaction (then a self-payment burns). */
        state_sub_balance(st, self, &balance);
        state_add_balance(st, &beneficiary, &balance);
        if (state_created_in_tx(st, self)) {
            u256 zero = u256_zero();
            state_set_balance(st, self, &zero);
            state_mark_destructed(st, self);
        }
    } else {
        state_add_balance(st, &beneficiary, &balance);
        u256 zero = u256_zero();
        state_set_balance(st, self, &zero);
        state_mark_destructed(st, self);
    }
    if (fk >= FORK_SPURIOUS_DRAGON) state_touch(st, &beneficiary);
    return EXEC_SUCCESS;
}
