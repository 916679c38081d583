/* The opcodes too large to inline in the interpreter loop: memory,
 * hashing, state access, logs and the CALL/CREATE family. Each function is
 * the one definition of its opcode's semantics and dynamic gas, per fork;
 * the base gas and stack height were checked by the caller. */
#include <stdlib.h>
#include <string.h>

#include "vm/evm_internal.h"
#include "base/params.h"
#include "base/keccak.h"
#include "precompile/precompile.h"
#include "base/rlp.h"
#include "base/trie.h"


static uint64_t words(uint64_t bytes) { return (bytes + 31) / 32; }

static bool charge(frame *f, int64_t amount)
{
    f->gas -= amount;
    return f->gas >= 0;
}

/* ---- memory ---- */

static uint64_t memory_cost(uint64_t n_words) { return 3 * n_words + n_words * n_words / 512; }

enum exec_status mem_expand_u64(frame *f, uint64_t offset, uint64_t size)
{
    if (size == 0) return EXEC_SUCCESS;
    uint64_t end = offset + size;
    if (end <= f->memory_size) return EXEC_SUCCESS;
    uint64_t new_words = words(end);
    int64_t cost = (int64_t)(memory_cost(new_words) - memory_cost(f->memory_size / 32));
    if (!charge(f, cost)) return EXEC_OUT_OF_GAS;
    size_t new_size = new_words * 32;
    frame_buffers *b = f->buffers;
    if (new_size > b->memory_cap) {
        size_t cap = b->memory_cap ? b->memory_cap : 4096;
        while (cap < new_size) cap *= 2;
        b->memory = xrealloc(b->memory, cap);
        b->memory_cap = cap;
        f->memory = b->memory;
    }
    memset(f->memory + f->memory_size, 0, new_size - f->memory_size);
    f->memory_size = new_size;
    return EXEC_SUCCESS;
}

enum exec_status mem_expand(frame *f, const u256 *offset, const u256 *size)
{
    if (u256_is_zero(size)) return EXEC_SUCCESS;
    if (!u256_fits_u64(offset) || !u256_fits_u64(size) || offset->w[0] > EVM_MAX_MEMORY ||
        size->w[0] > EVM_MAX_MEMORY)
        return EXEC_OUT_OF_GAS;
    return mem_expand_u64(f, offset->w[0], size->w[0]);
}

/* Copies `size` bytes of src starting at src_offset into memory, with zeros
 * past the end of src (CALLDATACOPY, CODECOPY, EXTCODECOPY). */
static void copy_padded(uint8_t *dst, const uint8_t *src, size_t src_len, const u256 *src_offset,
                        size_t size)
{
    size_t copied = 0;
    if (u256_fits_u64(src_offset) && src_offset->w[0] < src_len) {
        size_t off = (size_t)src_offset->w[0];
        copied = src_len - off < size ? src_len - off : size;
        memcpy(dst, src + off, copied);
    }
    memset(dst + copied, 0, size - copied);
}

/* Charges memory and the per-word copy cost of a copy of `size` bytes to
 * memory at `mem_offset`. */
static enum exec_status charge_copy(frame *f, const u256 *mem_offset, const u256 *size)
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

enum exec_status instr_MLOAD(frame *f, u256 *sp)
{
    static const u256 thirty_two = {{32, 0, 0, 0}};
    enum exec_status st = mem_expand(f, &sp[0], &thirty_two);
    if (st != EXEC_SUCCESS) return st;
    sp[0] = u256_load_be(f->memory + sp[0].w[0]);
    return EXEC_SUCCESS;
}

enum exec_status instr_MSTORE(frame *f, u256 *sp)
{
    static const u256 thirty_two = {{32, 0, 0, 0}};
    enum exec_status st = mem_expand(f, &sp[0], &thirty_two);
    if (st != EXEC_SUCCESS) return st;
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

/* ---- arithmetic and hashing ---- */

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

/* ---- account access ---- */

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

/* ---- storage ---- */

enum exec_status instr_SLOAD(frame *f, u256 *sp)
{
    evm *e = f->e;
    if (e->fork >= FORK_BERLIN && !state_warm_slot(e->st, &f->msg->recipient, &sp[0]) &&
        !charge(f, GAS_COLD_SLOAD - GAS_WARM_ACCESS))
        return EXEC_OUT_OF_GAS;
    sp[0] = state_get_storage(e->st, &f->msg->recipient, &sp[0]);
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

/* ---- logs ---- */

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

/* ---- halting ---- */

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

/* ---- calls ---- */

bool delegation_target(const uint8_t *code, size_t len, address *target)
{
    if (len != 23 || code[0] != 0xef || code[1] != 0x01 || code[2] != 0x00) return false;
    memcpy(target->b, code + 3, 20);
    return true;
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
        f->gas += child_gas;
        *result = u256_zero();
        return EXEC_SUCCESS;
    }
    if (has_value) {
        u256 balance = state_get_balance(st, &msg->recipient);
        if (u256_lt(&balance, &value)) {
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
