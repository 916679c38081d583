/* The CALL family (CALL, CALLCODE, DELEGATECALL, STATICCALL, with EIP-7702
 * delegations) and the CREATE family (CREATE, CREATE2, and the addresses
 * they derive): each charges, then runs the child message through
 * evm_execute and writes its result. */
#include <string.h>

#include "base/keccak.h"
#include "base/params.h"
#include "base/rlp.h"
#include "vm/instr_internal.h"

bool delegation_target(const uint8_t *code, size_t len, address *target)
{
    if (len != 23 || code[0] != 0xef || code[1] != 0x01 || code[2] != 0x00) return false;
    memcpy(target->b, code + 3, 20);
    return true;
}

/* A child message refused before it ran (call depth, balance, nonce): a
 * tracer still sees it entered and left with all its gas, as geth's
 * Call/Create report it. Only reached with a tracer set. */
static void trace_refused(evm *e, const message *child, enum exec_status why)
{
    e->trace.on_enter(e->trace.ctx, e, child);
    exec_result r = {.status = why, .gas_left = child->gas};
    if (e->trace.on_exit) e->trace.on_exit(e->trace.ctx, e, child, &r);
}

static void trace_refused_call(frame *f, enum call_kind kind, const address *to, const address *code_address,
                               const u256 *value, bool delegated, int64_t child_gas, const u256 *in_offset,
                               const u256 *in_size, enum exec_status why)
{
    const message *msg = f->msg;
    message child = {
        .kind = kind,
        .depth = msg->depth + 1,
        .is_static = msg->is_static || kind == CALL_STATICCALL,
        .gas = child_gas,
        .recipient = (kind == CALL_CALL || kind == CALL_STATICCALL) ? *to : msg->recipient,
        .sender = kind == CALL_DELEGATECALL ? msg->sender : msg->recipient,
        .code_address = *code_address,
        .value = kind == CALL_DELEGATECALL ? msg->value : *value,
        .transfers_value = kind != CALL_DELEGATECALL,
        .is_delegated = delegated,
        .input = u256_is_zero(in_size) ? NULL : f->memory + in_offset->w[0],
        .input_len = u256_is_zero(in_size) ? 0 : (size_t)in_size->w[0],
    };
    trace_refused(f->e, &child, why);
}

static enum exec_status do_call(frame *f, u256 *sp, enum call_kind kind)
{
    evm *e = f->e;
    state *st = e->st;
    enum fork fk = e->fork;
    const message *msg = f->msg;
    bool has_value = kind == CALL_CALL || kind == CALL_CALLCODE;
    u256 requested_gas = sp[0];
    address to = address_from_word(&sp[-1]);
    u256 value = has_value ? sp[-2] : u256_zero();
    u256 *args = has_value ? &sp[-3] : &sp[-2];
    u256 in_offset = args[0], in_size = args[-1], out_offset = args[-2], out_size = args[-3];
    u256 *result = &args[-3];
    bool value_nonzero = !u256_is_zero(&value);

    enum exec_status status = mem_expand(f, &in_offset, &in_size);
    if (status == EXEC_SUCCESS) status = mem_expand(f, &out_offset, &out_size);
    if (status != EXEC_SUCCESS) return status;

    int64_t extra = 0;
    if (fk >= FORK_BERLIN && !state_warm_account(st, &to)) extra += GAS_COLD_ACCOUNT_ACCESS - GAS_WARM_ACCESS;
    address code_address = to;
    bool delegated = false;
    if (fk >= FORK_PRAGUE) {
        const code_info *ci = state_get_code(st, &to);
        if (delegation_target(ci->code, ci->code_len, &code_address)) {
            delegated = true;
            extra += state_warm_account(st, &code_address) ? GAS_WARM_ACCESS : GAS_COLD_ACCOUNT_ACCESS;
        }
    }
    if (kind == CALL_CALL) {
        bool new_account = fk >= FORK_SPURIOUS_DRAGON ? value_nonzero && !state_is_alive(st, &to)
                                                      : !state_exists(st, &to);
        if (new_account) extra += GAS_NEW_ACCOUNT;
    }
    if (value_nonzero) extra += GAS_CALL_VALUE;

    int64_t child_gas;
    if (fk >= FORK_TANGERINE_WHISTLE) {
        /* EIP-150: at most all but one 64th of what is left. */
        if (f->gas < extra) return EXEC_OUT_OF_GAS;
        int64_t available = f->gas - extra;
        int64_t cap = available - available / 64;
        child_gas = (u256_fits_u64(&requested_gas) && requested_gas.w[0] < (uint64_t)cap)
                        ? (int64_t)requested_gas.w[0]
                        : cap;
    } else {
        if (!u256_fits_u64(&requested_gas) || requested_gas.w[0] > (uint64_t)INT64_MAX)
            return EXEC_OUT_OF_GAS;
        child_gas = (int64_t)requested_gas.w[0];
        if (child_gas > f->gas - extra) return EXEC_OUT_OF_GAS;
    }
    if (!charge(f, extra + child_gas)) return EXEC_OUT_OF_GAS;
    if (kind == CALL_CALL && msg->is_static && value_nonzero) return EXEC_STATIC_VIOLATION;
    if (value_nonzero) child_gas += GAS_CALL_STIPEND;

    f->return_data_len = 0;
    if (msg->depth + 1 > EVM_MAX_DEPTH) {
        if (e->trace.on_enter)
            trace_refused_call(f, kind, &to, &code_address, &value, delegated, child_gas, &in_offset, &in_size, EXEC_CALL_DEPTH);
        f->gas += child_gas;
        *result = u256_zero();
        return EXEC_SUCCESS;
    }
    if (has_value) {
        u256 balance = state_get_balance(st, &msg->recipient);
        if (u256_lt(&balance, &value)) {
            if (e->trace.on_enter)
                trace_refused_call(f, kind, &to, &code_address, &value, delegated, child_gas, &in_offset, &in_size,
                                   EXEC_INSUFFICIENT_BALANCE);
            f->gas += child_gas;
            *result = u256_zero();
            return EXEC_SUCCESS;
        }
    }

    message child = {
        .kind = kind,
        .depth = msg->depth + 1,
        .is_static = msg->is_static || kind == CALL_STATICCALL,
        .gas = child_gas,
        .recipient = (kind == CALL_CALL || kind == CALL_STATICCALL) ? to : msg->recipient,
        .sender = kind == CALL_DELEGATECALL ? msg->sender : msg->recipient,
        .code_address = code_address,
        .value = kind == CALL_DELEGATECALL ? msg->value : value,
        .transfers_value = kind != CALL_DELEGATECALL,
        .is_delegated = delegated,
        .input = u256_is_zero(&in_size) ? NULL : f->memory + in_offset.w[0],
        .input_len = u256_is_zero(&in_size) ? 0 : (size_t)in_size.w[0],
    };
    exec_result r = evm_execute(e, &child);
    f->gas += r.gas_left;
    f->return_data = r.output;
    f->return_data_len = r.output_len;
    *result = u256_from_u64(r.status == EXEC_SUCCESS);
    if (!u256_is_zero(&out_size) && r.output_len) {
        size_t n = r.output_len < out_size.w[0] ? r.output_len : (size_t)out_size.w[0];
        memcpy(f->memory + out_offset.w[0], r.output, n);
    }
    return EXEC_SUCCESS;
}

enum exec_status instr_CALL(frame *f, u256 *sp) { return do_call(f, sp, CALL_CALL); }
enum exec_status instr_CALLCODE(frame *f, u256 *sp) { return do_call(f, sp, CALL_CALLCODE); }
enum exec_status instr_DELEGATECALL(frame *f, u256 *sp) { return do_call(f, sp, CALL_DELEGATECALL); }
enum exec_status instr_STATICCALL(frame *f, u256 *sp) { return do_call(f, sp, CALL_STATICCALL); }

/* ---- creation ---- */

address create_address(const address *sender, uint64_t nonce)
{
    bytebuf b = {0};
    size_t mark = rlp_list_begin(&b);
    rlp_put_bytes(&b, sender->b, 20);
    rlp_put_u64(&b, nonce);
    rlp_list_end(&b, mark);
    uint8_t h[32];
    keccak256(b.data, b.len, h);
    bytebuf_free(&b);
    address a;
    memcpy(a.b, h + 12, 20);
    return a;
}

address create2_address(const address *sender, const u256 *salt, const uint8_t *initcode, size_t len)
{
    uint8_t buf[1 + 20 + 32 + 32];
    buf[0] = 0xff;
    memcpy(buf + 1, sender->b, 20);
    u256_store_be(buf + 21, salt);
    keccak256(initcode, len, buf + 53);
    uint8_t h[32];
    keccak256(buf, sizeof buf, h);
    address a;
    memcpy(a.b, h + 12, 20);
    return a;
}

static enum exec_status do_create(frame *f, u256 *sp, enum call_kind kind)
{
    evm *e = f->e;
    state *st = e->st;
    enum fork fk = e->fork;
    const message *msg = f->msg;
    u256 value = sp[0], offset = sp[-1], size = sp[-2];
    u256 *result = kind == CALL_CREATE2 ? &sp[-3] : &sp[-2];

    if (msg->is_static) return EXEC_STATIC_VIOLATION;
    enum exec_status status = mem_expand(f, &offset, &size);
    if (status != EXEC_SUCCESS) return status;
    uint64_t len = u256_is_zero(&size) ? 0 : size.w[0];
    if (fk >= FORK_SHANGHAI) {
        /* EIP-3860: initcode is limited and metered. */
        if (len > MAX_INITCODE_SIZE) return EXEC_OUT_OF_GAS;
        if (!charge(f, (int64_t)(GAS_INITCODE_PER_WORD * words(len)))) return EXEC_OUT_OF_GAS;
    }
    if (kind == CALL_CREATE2 && !charge(f, (int64_t)(GAS_KECCAK_PER_WORD * words(len)))) return EXEC_OUT_OF_GAS;

    f->return_data_len = 0;
    int64_t child_gas = fk >= FORK_TANGERINE_WHISTLE ? f->gas - f->gas / 64 : f->gas;
    f->gas -= child_gas;
    const address *self = &msg->recipient;
    u256 balance = state_get_balance(st, self);
    uint64_t nonce = state_get_nonce(st, self);
    if (u256_lt(&balance, &value) || nonce == UINT64_MAX || msg->depth + 1 > EVM_MAX_DEPTH) {
        if (e->trace.on_enter) {
            /* geth derives the address before its checks (CREATE2's from the salt). */
            const uint8_t *code = len ? f->memory + offset.w[0] : NULL;
            message child = {
                .kind = kind,
                .depth = msg->depth + 1,
                .gas = child_gas,
                .sender = *self,
                .value = value,
                .transfers_value = true,
                .input = code,
                .input_len = len,
            };
            child.recipient = child.code_address = kind == CALL_CREATE2 ? create2_address(self, &sp[-3], code, len)
                                                                        : create_address(self, nonce);
            trace_refused(e, &child, msg->depth + 1 > EVM_MAX_DEPTH ? EXEC_CALL_DEPTH
                                     : u256_lt(&balance, &value) ? EXEC_INSUFFICIENT_BALANCE
                                                                 : EXEC_NONCE_OVERFLOW);
        }
        f->gas += child_gas;
        *result = u256_zero();
        return EXEC_SUCCESS;
    }
    const uint8_t *initcode = len ? f->memory + offset.w[0] : NULL;
    address new_address = kind == CALL_CREATE2 ? create2_address(self, &sp[-3], initcode, len)
                                               : create_address(self, nonce);
    if (fk >= FORK_BERLIN) state_warm_account(st, &new_address);
    state_set_nonce(st, self, nonce + 1);

    message child = {
        .kind = kind,
        .depth = msg->depth + 1,
        .gas = child_gas,
        .recipient = new_address,
        .sender = *self,
        .code_address = new_address,
        .value = value,
        .transfers_value = true,
        .input = initcode,
        .input_len = len,
    };
    exec_result r = evm_execute(e, &child);
    f->gas += r.gas_left;
    if (r.status == EXEC_SUCCESS) {
        *result = word_from_address(&new_address);
    } else {
        *result = u256_zero();
        if (r.status == EXEC_REVERT) {
            f->return_data = r.output;
            f->return_data_len = r.output_len;
        }
    }
    return EXEC_SUCCESS;
}

enum exec_status instr_CREATE(frame *f, u256 *sp) { return do_create(f, sp, CALL_CREATE); }
enum exec_status instr_CREATE2(frame *f, u256 *sp) { return do_create(f, sp, CALL_CREATE2); }
