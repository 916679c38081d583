/* World-state access: accounts (BALANCE, SELFBALANCE, EXTCODESIZE,
 * EXTCODECOPY, EXTCODEHASH) with EIP-2929's cold surcharge, storage (SLOAD,
 * SSTORE and its per-fork metering) and transient storage (TLOAD, TSTORE). */
#include "base/params.h"
#include "vm/instr_internal.h"

/* EIP-2929: the base (warm) price was charged; a cold account adds the
 * difference and becomes warm. */
static bool charge_account_access(frame *f, const address *a)
{
    if (f->e->fork < FORK_BERLIN) return true;
    if (state_warm_account(f->e->st, a)) return true;
    return charge(f, GAS_COLD_ACCOUNT_ACCESS - GAS_WARM_ACCESS);
}

enum exec_status instr_BALANCE(frame *f, u256 *sp)
{
    address a = address_from_word(&sp[0]);
    if (!charge_account_access(f, &a)) return EXEC_OUT_OF_GAS;
    sp[0] = state_get_balance(f->e->st, &a);
    return EXEC_SUCCESS;
}

enum exec_status instr_SELFBALANCE(frame *f, u256 *sp)
{
    sp[1] = state_get_balance(f->e->st, &f->msg->recipient);
    return EXEC_SUCCESS;
}

enum exec_status instr_EXTCODESIZE(frame *f, u256 *sp)
{
    address a = address_from_word(&sp[0]);
    if (!charge_account_access(f, &a)) return EXEC_OUT_OF_GAS;
    sp[0] = u256_from_u64(state_get_code(f->e->st, &a)->code_len);
    return EXEC_SUCCESS;
}

enum exec_status instr_EXTCODECOPY(frame *f, u256 *sp)
{
    address a = address_from_word(&sp[0]);
    if (!charge_account_access(f, &a)) return EXEC_OUT_OF_GAS;
    enum exec_status st = charge_copy(f, &sp[-1], &sp[-3]);
    if (st != EXEC_SUCCESS || u256_is_zero(&sp[-3])) return st;
    const code_info *ci = state_get_code(f->e->st, &a);
    copy_padded(f->memory + sp[-1].w[0], ci->code, ci->code_len, &sp[-2], (size_t)sp[-3].w[0]);
    return EXEC_SUCCESS;
}

enum exec_status instr_EXTCODEHASH(frame *f, u256 *sp)
{
    address a = address_from_word(&sp[0]);
    if (!charge_account_access(f, &a)) return EXEC_OUT_OF_GAS;
    /* EIP-1052 (with EIP-161's notion of empty): 0 for an account that is
     * dead, else the hash of its code. */
    if (!state_exists(f->e->st, &a) || state_is_empty(f->e->st, &a)) {
        sp[0] = u256_zero();
    } else {
        hash32 h = state_get_code_hash(f->e->st, &a);
        sp[0] = u256_load_be(h.b);
    }
    return EXEC_SUCCESS;
}

/* ---- storage ---- */

enum exec_status instr_SLOAD(frame *f, u256 *sp)
{
    evm *e = f->e;
    if (e->fork < FORK_BERLIN) {
        sp[0] = state_get_storage(e->st, &f->msg->recipient, &sp[0]);
        return EXEC_SUCCESS;
    }
    /* One slot lookup for the warmth and the value (two were ~half of a
     * warm SLOAD). Out of gas leaves the slot warm: the revert of the
     * frame undoes it from the journal, as before. */
    bool was_warm;
    u256 value = state_load_warm_slot(e->st, &f->msg->recipient, &sp[0], &was_warm);
    if (!was_warm && !charge(f, GAS_COLD_SLOAD - GAS_WARM_ACCESS)) return EXEC_OUT_OF_GAS;
    sp[0] = value;
    return EXEC_SUCCESS;
}

/* The net-metered SSTORE of EIP-1283 (Constantinople), EIP-2200
 * (Istanbul on), with EIP-2929's cold surcharge (Berlin) and EIP-3529's
 * smaller clearing refund (London). */
static enum exec_status sstore_net_metered(frame *f, const u256 *key, const u256 *value)
{
    evm *e = f->e;
    const address *self = &f->msg->recipient;
    enum fork fk = e->fork;
    if (fk >= FORK_ISTANBUL && f->gas <= GAS_CALL_STIPEND) return EXEC_OUT_OF_GAS;
    int64_t sload_gas = fk >= FORK_BERLIN ? GAS_WARM_ACCESS : fk >= FORK_ISTANBUL ? 800 : 200;
    int64_t reset_gas = fk >= FORK_BERLIN ? GAS_STORAGE_UPDATE - GAS_COLD_SLOAD : GAS_STORAGE_UPDATE;
    int64_t clear_refund = fk >= FORK_LONDON ? 4800 : 15000;
    int64_t cost = 0;
    if (fk >= FORK_BERLIN && !state_warm_slot(e->st, self, key)) cost += GAS_COLD_SLOAD;
    u256 current = state_get_storage(e->st, self, key);
    u256 original = state_get_original_storage(e->st, self, key);
    if (u256_eq(&original, &current) && !u256_eq(&current, value))
        cost += u256_is_zero(&original) ? GAS_STORAGE_SET : reset_gas;
    else
        cost += sload_gas;
    if (!charge(f, cost)) return EXEC_OUT_OF_GAS;
    if (!u256_eq(&current, value)) {
        if (!u256_is_zero(&original) && !u256_is_zero(&current) && u256_is_zero(value))
            state_add_refund(e->st, clear_refund);
        if (!u256_is_zero(&original) && u256_is_zero(&current)) state_add_refund(e->st, -clear_refund);
        if (u256_eq(&original, value))
            state_add_refund(e->st, u256_is_zero(&original) ? GAS_STORAGE_SET - sload_gas
                                                            : reset_gas - sload_gas);
    }
    state_set_storage(e->st, self, key, value);
    return EXEC_SUCCESS;
}

enum exec_status instr_SSTORE(frame *f, u256 *sp)
{
    if (f->msg->is_static) return EXEC_STATIC_VIOLATION;
    evm *e = f->e;
    const u256 *key = &sp[0], *value = &sp[-1];
    if (e->fork == FORK_CONSTANTINOPLE || e->fork >= FORK_ISTANBUL) return sstore_net_metered(f, key, value);
    /* Frontier..Byzantium and Petersburg: set 20000, otherwise 5000; a
     * clear refunds 15000. */
    u256 current = state_get_storage(e->st, &f->msg->recipient, key);
    bool set = u256_is_zero(&current) && !u256_is_zero(value);
    if (!charge(f, set ? GAS_STORAGE_SET : GAS_STORAGE_UPDATE)) return EXEC_OUT_OF_GAS;
    if (!u256_is_zero(&current) && u256_is_zero(value)) state_add_refund(e->st, 15000);
    state_set_storage(e->st, &f->msg->recipient, key, value);
    return EXEC_SUCCESS;
}

enum exec_status instr_TLOAD(frame *f, u256 *sp)
{
    sp[0] = state_get_transient(f->e->st, &f->msg->recipient, &sp[0]);
    return EXEC_SUCCESS;
}

enum exec_status instr_TSTORE(frame *f, u256 *sp)
{
    if (f->msg->is_static) return EXEC_STATIC_VIOLATION;
    state_set_transient(f->e->st, &f->msg->recipient, &sp[0], &sp[-1]);
    return EXEC_SUCCESS;
}
