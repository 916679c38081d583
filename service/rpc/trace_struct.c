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
 * reverted. An instruction that failed keeps the cost geth's interpreter
 * had computed when its check failed (failed_cost below): the static cost
 * when that part failed (or for a stack error or an invalid opcode);
 * static plus dynamic when the dynamic charge failed; the static cost
 * alone when geth's dynamic-gas function stopped early with its own error
 * (a CALL's cold access or intrinsic gas, SELFDESTRUCT's cold access, a
 * memory size past what the cost can count).
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
    /* For an instruction that grows memory: geth's whole cost (static,
     * memory, per word or byte), what it reports when the instruction runs
     * out of gas; -1 for the others. */
    int64_t memory_op_cost;
    int64_t memory_growth;  /* its memory part */
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

static uint64_t word_count(uint64_t bytes) { return bytes / 32 + (bytes % 32 != 0); }

/* geth's cost of a memory instruction that runs out of gas: its static
 * cost, the memory growth and its per-word (LOG: per-byte and per-topic)
 * part, charged by geth at once. A size past what geth's memory cost can
 * count leaves the static cost (geth's early "gas uint64 overflow"); a
 * LOG's static cost is 0 in geth (the table's base is all dynamic there).
 * -1: not a memory instruction. */
static int64_t memory_op_cost(const trace_step *s, enum fork f, int64_t *growth)
{
    *growth = 0;
    if (s->stack_len == 0 || s->stack_len < (size_t)opcode_table[s->op].stack_in) return -1; /* a stack error */
    const u256 *top = &s->stack[s->stack_len - 1];
    const u256 *offset = NULL, *size = NULL;
    u256 fixed_size;
    uint64_t per_word = 0, per_byte = 0, fixed = 0;
    int64_t static_cost = s->gas_cost;
    switch (s->op) {
    case OP_MLOAD: case OP_MSTORE: case OP_MSTORE8:
        fixed_size = u256_from_u64(s->op == OP_MSTORE8 ? 1 : 32);
        offset = top, size = &fixed_size;
        break;
    case OP_KECCAK256: offset = top, size = top - 1, per_word = GAS_KECCAK_PER_WORD; break;
    case OP_CALLDATACOPY: case OP_CODECOPY: case OP_RETURNDATACOPY:
        offset = top, size = top - 2, per_word = GAS_COPY_PER_WORD;
        break;
    case OP_EXTCODECOPY: offset = top - 1, size = top - 3, per_word = GAS_COPY_PER_WORD; break;
    case OP_MCOPY: /* the farther of source and destination */
        offset = u256_lt(top, top - 1) ? top - 1 : top, size = top - 2, per_word = GAS_COPY_PER_WORD;
        break;
    case OP_RETURN: case OP_REVERT: offset = top, size = top - 1; break;
    case OP_LOG0: case OP_LOG1: case OP_LOG2: case OP_LOG3: case OP_LOG4:
        offset = top, size = top - 1, per_byte = GAS_LOG_DATA;
        fixed = GAS_LOG + GAS_LOG_TOPIC * (uint64_t)(s->op - OP_LOG0);
        static_cost = 0;
        break;
    case OP_CREATE: case OP_CREATE2:
        offset = top - 1, size = top - 2;
        if (f >= FORK_SHANGHAI) {
            per_word = GAS_INITCODE_PER_WORD;
            /* EIP-3860: geth refuses a too long initcode in its dynamic-gas function. */
            if (!u256_fits_u64(size) || size->w[0] > MAX_INITCODE_SIZE) return static_cost;
        }
        if (s->op == OP_CREATE2) per_word += GAS_KECCAK_PER_WORD;
        break;
    default: return -1;
    }
    if (u256_is_zero(size)) return static_cost + (int64_t)fixed;
    if (!u256_fits_u64(offset) || !u256_fits_u64(size) || offset->w[0] > MEMORY_GAS_SIZE_LIMIT ||
        size->w[0] > MEMORY_GAS_SIZE_LIMIT - offset->w[0])
        return static_cost;
    uint64_t new_words = word_count(offset->w[0] + size->w[0]), old_words = s->mem_size / 32;
    uint64_t memory = new_words > old_words ? evm_memory_cost(new_words) - evm_memory_cost(old_words) : 0;
    *growth = (int64_t)memory;
    return static_cost + (int64_t)(fixed + memory + per_word * word_count(size->w[0]) + per_byte * size->w[0]);
}

static bool is_call_op(uint8_t op)
{
    return op == OP_CALL || op == OP_CALLCODE || op == OP_DELEGATECALL || op == OP_STATICCALL;
}

/* The gasCost geth's interpreter reports for an instruction that ran out
 * of gas, `charged` being what the core had charged it (static, then the
 * dynamic parts up to the one that failed, that one included). geth
 * checks the static cost first, then computes the whole dynamic cost and
 * charges it at once; its dynamic-gas functions for the CALL family
 * (EIP-150 on) and SELFDESTRUCT (EIP-2929 on) stop early, with an error,
 * when the cold access or the call's intrinsic gas cannot be paid, and
 * the cost stays the static one. */
static int64_t failed_cost(const step_rec *s, const pending_step *p, int64_t charged, enum fork f, bool *stopped_early)
{
    int64_t static_cost = s->cost;
    *stopped_early = false;
    if (p->memory_op_cost >= 0) {
        if (s->op >= OP_LOG0 && s->op <= OP_LOG4) return p->memory_op_cost;
        if (p->gas < static_cost) return static_cost;
        int64_t cost = p->memory_op_cost;
        /* EXTCODECOPY: geth adds the cold surcharge, which the core charges
         * first: the charge stopped at it, at the memory or at the copy. */
        if (s->op == OP_EXTCODECOPY && f >= FORK_BERLIN) {
            int64_t cold = GAS_COLD_ACCOUNT_ACCESS - GAS_WARM_ACCESS, x = charged - static_cost;
            if (x == cold || x == cold + p->memory_growth || x == cold + cost - static_cost) cost += cold;
        }
        return cost;
    }
    if (is_call_op(s->op) && f >= FORK_TANGERINE_WHISTLE) return static_cost;
    if (s->op == OP_SELFDESTRUCT && f >= FORK_BERLIN && charged - static_cost == GAS_COLD_ACCOUNT_ACCESS &&
        p->gas - static_cost < GAS_COLD_ACCOUNT_ACCESS) {
        *stopped_early = true;
        return static_cost;
    }
    return charged > static_cost ? charged : static_cost;
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
    int64_t growth;
    step_rec *r = &l->steps[l->n_steps];
    *r = (step_rec){.head = head, .head_len = tail - head, .tail = tail, .tail_len = l->text.len - tail,
                    .cost = s->gas_cost, .depth = d, .op = s->op, .stack_len = (uint32_t)s->stack_len};
    l->pending[d] = (pending_step){.active = true, .index = l->n_steps, .gas = s->gas,
                                   .memory_op_cost = memory_op_cost(s, evm_fork(l->e), &growth)};
    l->pending[d].memory_growth = growth;
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
           (status == EXEC_OUT_OF_GAS && f >= FORK_TANGERINE_WHISTLE);
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
        /* So does the CALL family's (EIP-150 on), which ends early when the
         * cold access or the call's intrinsic gas cannot be paid: every
         * failure past the static cost. */
        if (is_call_op(op) && f >= FORK_TANGERINE_WHISTLE && gas >= opcode_table_for_fork(f)->base_gas[op])
            return str_printf(NULL, "out of gas: out of gas");
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
            /* Failed where it stood: geth's cost of a failed instruction,
             * and the error. Refusals of the frame itself (depth, balance)
             * have no step. */
            p->active = false;
            if (p->index < l->n_steps && r->status != EXEC_TIMEOUT) {
                step_rec *s = &l->steps[p->index];
                bool stopped_early = false;
                if (r->status == EXEC_OUT_OF_GAS)
                    s->cost = failed_cost(s, p, p->gas - r->gas_at_halt, evm_fork(e), &stopped_early);
                free(s->error);
                /* SELFDESTRUCT's cold access: geth wraps its gas function's error. */
                s->error = stopped_early ? str_printf(NULL, "out of gas: out of gas")
                                         : trace_step_error_text(s->op, s->stack_len, p->gas, r->status, evm_fork(e));
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
