/* geth's struct logger (eth/tracers/logger): one entry per instruction
 * executed, in execution order across frames, as geth's legacy JSON:
 *   {"pc","op","gas","gasCost","depth","error"?,"stack"?,"returnData"?,
 *    "memory"?,"storage"?,"refund"?}
 * stack bottom first as quantities; memory as 32-byte words (enableMemory);
 * returnData the last call's output (enableReturnData); storage, on SLOAD
 * and SSTORE only, every slot of the executing account this trace has seen
 * read or written so far (geth's per-contract map: SLOAD records the value
 * read, SSTORE the value written); refund the refund counter, left out at 0.
 *
 * gasCost. geth gives each instruction its whole cost, dynamic parts and
 * the gas a CALL or CREATE hands its child included. The core's step hook
 * runs before the instruction with its static cost only, so the cost is
 * completed by the frame's next event: the next step of the same frame
 * costs `gas before - gas after + gas its children gave back`, and the
 * frame's last step (a halt) `gas before - gas left` when it returned or
 * reverted. An instruction that failed (out of gas, stack, invalid opcode)
 * keeps its static cost, as geth reports a failed instruction's cost.
 * Invariants: at most one step per depth awaits its cost (pending[depth]);
 * a child's on_exit adds its gas left to its parent's pending step;
 * on_enter clears the new depth's slot.
 *
 * Rendering. Each step is rendered when it happens into `text`, in two
 * pieces around the parts only known later (gasCost, error): head
 * `{"pc":..,"op":..,"gas":..` and tail `,"stack":..}`. The answer joins
 * them. The rendered size is bounded (STRUCT_LOG_MAX_BYTES): past it the
 * trace stops recording, asks the run to stop and is refused. geth's
 * `limit` (bytes of rendered steps, as geth counts since 1.14) stops
 * adding steps once those so far exceed it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/format.h"
#include "hexjson.h"
#include "rpc/trace_tracers.h"
#include "vm/opcodes.h"

enum { MAX_DEPTH_SLOTS = EVM_MAX_DEPTH + 2 };

typedef struct {
    size_t head, head_len, tail, tail_len; /* offsets into text */
    int64_t cost;
    int depth;
    uint8_t op;
    uint32_t stack_len;
    char *error; /* malloc'd; NULL: none */
} step_rec;

typedef struct {
    u256 key, value;
} slot_value;

typedef struct {
    address addr;
    slot_value *slots; /* sorted by key (as geth's JSON sorts the map's keys) */
    size_t n, cap;
} account_slots;

typedef struct {
    bool active;
    size_t index;   /* into steps */
    int64_t gas;    /* before the instruction */
    int64_t given_back;
} pending_step;

struct struct_logger {
    struct_log_config cfg;
    const evm *e;
    bytebuf text;
    step_rec *steps;
    size_t n_steps, cap_steps;
    size_t raw_size; /* rendered bytes of the steps so far, cost and error left out */
    bool full;       /* `limit` reached: no more steps */
    bool overflow;   /* STRUCT_LOG_MAX_BYTES reached */
    atomic_int *abort;
    account_slots *accounts;
    size_t n_accounts;
    address frame_address[MAX_DEPTH_SLOTS]; /* by step depth (1 = the transaction's frame) */
    pending_step pending[MAX_DEPTH_SLOTS];
};

struct_logger *struct_logger_new(const struct_log_config *cfg)
{
    struct_logger *l = xcalloc(1, sizeof *l);
    l->cfg = *cfg;
    return l;
}

void struct_logger_free(struct_logger *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n_steps; i++) free(l->steps[i].error);
    for (size_t i = 0; i < l->n_accounts; i++) free(l->accounts[i].slots);
    free(l->accounts);
    free(l->steps);
    bytebuf_free(&l->text);
    free(l);
}

bool struct_logger_overflowed(const struct_logger *l) { return l->overflow; }
void struct_logger_set_abort(struct_logger *l, atomic_int *abort) { l->abort = abort; }

static account_slots *slots_of(struct_logger *l, const address *a)
{
    for (size_t i = 0; i < l->n_accounts; i++)
        if (memcmp(l->accounts[i].addr.b, a->b, 20) == 0) return &l->accounts[i];
    l->accounts = xrealloc(l->accounts, (l->n_accounts + 1) * sizeof *l->accounts);
    account_slots *s = &l->accounts[l->n_accounts++];
    memset(s, 0, sizeof *s);
    s->addr = *a;
    return s;
}

static int key_cmp(const u256 *a, const u256 *b)
{
    for (int i = 3; i >= 0; i--)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static void slots_set(account_slots *s, const u256 *key, const u256 *value)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = key_cmp(&s->slots[mid].key, key);
        if (c == 0) {
            s->slots[mid].value = *value;
            return;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->slots = xrealloc(s->slots, s->cap * sizeof *s->slots);
    }
    memmove(&s->slots[lo + 1], &s->slots[lo], (s->n - lo) * sizeof *s->slots);
    s->slots[lo].key = *key;
    s->slots[lo].value = *value;
    s->n++;
}

static void put_word(bytebuf *b, const uint8_t *w32)
{
    static const char digits[] = "0123456789abcdef";
    char out[2 + 64 + 2];
    out[0] = '"';
    out[1] = '0';
    out[2] = 'x';
    for (int i = 0; i < 32; i++) {
        out[3 + 2 * i] = digits[w32[i] >> 4];
        out[4 + 2 * i] = digits[w32[i] & 15];
    }
    bytebuf_append(b, out, 3 + 64);
    bytebuf_push(b, '"');
}

static void put_u256_word(bytebuf *b, const u256 *v)
{
    uint8_t w[32];
    u256_store_be(w, v);
    put_word(b, w);
}

static void finish_cost(struct_logger *l, int depth, int64_t gas_after)
{
    pending_step *p = &l->pending[depth];
    if (!p->active) return;
    p->active = false;
    if (p->index < l->n_steps) l->steps[p->index].cost = p->gas - gas_after + p->given_back;
}

static void logger_step(void *ctx, const trace_step *s)
{
    struct_logger *l = ctx;
    int d = s->depth;
    if (d < 1 || d >= MAX_DEPTH_SLOTS) return;
    finish_cost(l, d, s->gas);
    if (l->full || l->overflow) return;

    size_t head = l->text.len;
    char name_buf[32];
    const char *name = opcode_table[s->op].name;
    if (s->op == 0x44) name = "DIFFICULTY"; /* geth's name for 0x44 on every fork */
    if (!name) {
        snprintf(name_buf, sizeof name_buf, "opcode %#x not defined", s->op);
        name = name_buf;
    }
    bytebuf_printf(&l->text, "{\"pc\":%u,\"op\":\"%s\",\"gas\":%lld", s->pc, name, (long long)s->gas);
    size_t tail = l->text.len;
    bytebuf *b = &l->text;
    if (!l->cfg.disable_stack) {
        bytebuf_append(b, ",\"stack\":[", 10);
        for (size_t i = 0; i < s->stack_len; i++) {
            char hex[HEX_U256_LEN];
            hex_from_u256(&s->stack[i], hex);
            if (i) bytebuf_push(b, ',');
            bytebuf_printf(b, "\"%s\"", hex);
        }
        bytebuf_push(b, ']');
    }
    if (l->cfg.enable_return_data && s->return_data_len) {
        bytebuf_append(b, ",\"returnData\":\"0x", 17);
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < s->return_data_len; i++) {
            bytebuf_push(b, (uint8_t)digits[s->return_data[i] >> 4]);
            bytebuf_push(b, (uint8_t)digits[s->return_data[i] & 15]);
        }
        bytebuf_push(b, '"');
    }
    if (l->cfg.enable_memory && s->mem_size) {
        bytebuf_append(b, ",\"memory\":[", 11);
        for (size_t i = 0; i < s->mem_size; i += 32) {
            if (i) bytebuf_push(b, ',');
            put_word(b, s->memory + i); /* memory is a multiple of 32 bytes */
        }
        bytebuf_push(b, ']');
    }
    if (!l->cfg.disable_storage && (s->op == OP_SLOAD || s->op == OP_SSTORE) &&
        s->stack_len >= (s->op == OP_SLOAD ? 1u : 2u)) {
        const address *self = &l->frame_address[d];
        account_slots *acct = slots_of(l, self);
        const u256 *key = &s->stack[s->stack_len - 1];
        u256 value = s->op == OP_SLOAD ? state_get_storage(evm_state(l->e), self, key) : s->stack[s->stack_len - 2];
        slots_set(acct, key, &value);
        bytebuf_append(b, ",\"storage\":{", 12);
        for (size_t i = 0; i < acct->n; i++) {
            if (i) bytebuf_push(b, ',');
            put_u256_word(b, &acct->slots[i].key);
            bytebuf_push(b, ':');
            put_u256_word(b, &acct->slots[i].value);
        }
        bytebuf_push(b, '}');
    }
    if (s->refund > 0) bytebuf_printf(b, ",\"refund\":%lld", (long long)s->refund);
    bytebuf_push(b, '}');

    if (l->n_steps == l->cap_steps) {
        l->cap_steps = l->cap_steps ? 2 * l->cap_steps : 1024;
        l->steps = xrealloc(l->steps, l->cap_steps * sizeof *l->steps);
    }
    step_rec *r = &l->steps[l->n_steps];
    *r = (step_rec){.head = head, .head_len = tail - head, .tail = tail, .tail_len = l->text.len - tail,
                    .cost = s->gas_cost, .depth = d, .op = s->op, .stack_len = (uint32_t)s->stack_len};
    l->pending[d] = (pending_step){.active = true, .index = l->n_steps, .gas = s->gas};
    l->n_steps++;
    /* gasCost and depth: at least 21 bytes once joined. */
    l->raw_size += l->text.len - head + 21;
    if (l->cfg.limit && (int64_t)l->raw_size > l->cfg.limit) l->full = true;
    if (l->text.len + l->n_steps * sizeof(step_rec) > STRUCT_LOG_MAX_BYTES) {
        l->overflow = true;
        if (l->abort) atomic_store(l->abort, 1);
    }
}

static void logger_enter(void *ctx, const evm *e, const message *msg)
{
    struct_logger *l = ctx;
    l->e = e;
    int d = msg->depth + 1;
    if (d >= MAX_DEPTH_SLOTS) return;
    l->frame_address[d] = msg->recipient;
    l->pending[d].active = false;
}

bool trace_error_names_step(enum exec_status status, enum fork f)
{
    return status == EXEC_INVALID_OPCODE || status == EXEC_STACK_UNDERFLOW || status == EXEC_STACK_OVERFLOW ||
           (status == EXEC_OUT_OF_GAS && f >= FORK_ISTANBUL);
}

char *trace_step_error_text(uint8_t op, size_t stack_len, int64_t gas, enum exec_status status, enum fork f)
{
    const opcode_info *info = &opcode_table[op];
    switch (status) {
    case EXEC_OUT_OF_GAS:
        /* EIP-2200's sentry fails in geth's dynamic-gas function, whose
         * error geth wraps. */
        if (op == OP_SSTORE && f >= FORK_ISTANBUL && gas <= GAS_CALL_STIPEND)
            return str_printf(NULL, "out of gas: not enough gas for reentrancy sentry");
        return str_printf(NULL, "out of gas");
    case EXEC_INVALID_OPCODE:
        if (info->name) return str_printf(NULL, "invalid opcode: %s", info->name);
        return str_printf(NULL, "invalid opcode: opcode %#x not defined", op);
    case EXEC_STACK_UNDERFLOW: return str_printf(NULL, "stack underflow (%zu <=> %d)", stack_len, info->stack_in);
    case EXEC_STACK_OVERFLOW:
        return str_printf(NULL, "stack limit reached %zu (%d)", stack_len, EVM_STACK_LIMIT + info->stack_in - info->stack_out);
    default: return str_printf(NULL, "%s", exec_status_name(status));
    }
}

static void logger_exit(void *ctx, const evm *e, const message *msg, const exec_result *r)
{
    struct_logger *l = ctx;
    int d = msg->depth + 1;
    if (d >= MAX_DEPTH_SLOTS) return;
    pending_step *p = &l->pending[d];
    bool creation = msg->kind == CALL_CREATE || msg->kind == CALL_CREATE2;
    if (p->active) {
        if (r->status == EXEC_SUCCESS || r->status == EXEC_REVERT) {
            /* A creation's RETURN does not include the code deposit paid after it. */
            int64_t deposit = creation && r->status == EXEC_SUCCESS ? (int64_t)(r->output_len * GAS_CODE_DEPOSIT) : 0;
            finish_cost(l, d, r->gas_left + deposit);
        } else if (creation && p->index < l->n_steps && l->steps[p->index].op == OP_RETURN) {
            /* The code was refused after RETURN ran (size, 0xef prefix,
             * deposit): the instruction itself succeeded. */
            p->active = false;
        } else {
            /* Failed where it stood: its static cost, and the error. Refusals
             * of the frame itself (depth, balance) have no step. */
            p->active = false;
            if (p->index < l->n_steps && r->status != EXEC_TIMEOUT) {
                step_rec *s = &l->steps[p->index];
                free(s->error);
                s->error = trace_step_error_text(s->op, s->stack_len, p->gas, r->status, evm_fork(e));
            }
        }
    }
    if (msg->depth > 0) l->pending[msg->depth].given_back += r->gas_left;
}

tracer struct_logger_tracer(struct_logger *l)
{
    return (tracer){.ctx = l, .on_step = logger_step, .on_enter = logger_enter, .on_exit = logger_exit};
}

json_t *struct_logger_result(struct_logger *l, uint64_t gas_used, enum exec_status status, const uint8_t *output,
                             size_t output_len)
{
    bytebuf out = {0};
    bool failed = status != EXEC_SUCCESS;
    if (failed && status != EXEC_REVERT) output_len = 0;
    bytebuf_printf(&out, "{\"gas\":%llu,\"failed\":%s,\"returnValue\":\"0x", (unsigned long long)gas_used,
                   failed ? "true" : "false");
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < output_len; i++) {
        bytebuf_push(&out, (uint8_t)digits[output[i] >> 4]);
        bytebuf_push(&out, (uint8_t)digits[output[i] & 15]);
    }
    bytebuf_append(&out, "\",\"structLogs\":[", 16);
    size_t emitted = 0; /* geth: a step is added while the steps before it total at most `limit` bytes */
    for (size_t i = 0; i < l->n_steps; i++) {
        if (l->cfg.limit && (int64_t)emitted > l->cfg.limit) break;
        const step_rec *s = &l->steps[i];
        size_t start = out.len;
        if (i) bytebuf_push(&out, ',');
        bytebuf_append(&out, l->text.data + s->head, s->head_len);
        bytebuf_printf(&out, ",\"gasCost\":%lld,\"depth\":%d", (long long)s->cost, s->depth);
        if (s->error) {
            json_t *str = json_string(s->error);
            char *quoted = json_dumps(str, JSON_ENCODE_ANY);
            bytebuf_printf(&out, ",\"error\":%s", quoted);
            free(quoted);
            json_decref(str);
        }
        bytebuf_append(&out, l->text.data + s->tail, s->tail_len);
        emitted += out.len - start - (i ? 1 : 0);
    }
    bytebuf_append(&out, "]}", 2);
    json_error_t jerr;
    json_t *result = json_loadb((const char *)out.data, out.len, 0, &jerr);
    bytebuf_free(&out);
    return result;
}
