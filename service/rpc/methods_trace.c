/* debug_traceCall: a call run as eth_call runs it (the same environment,
 * overrides, checks and gas), with a tracer watching it.
 *
 * Served tracers: geth's struct logger (no `tracer`; trace_struct.c),
 * callTracer (`onlyTopCall`, `withLog`; here), prestateTracer
 * (`diffMode`, `disableCode`, `disableStorage`, `includeEmpty`;
 * trace_prestate.c), 4byteTracer and noopTracer; others answer -32000
 * naming the tracer. `timeout` is Go's duration syntax, as geth's; past
 * it the answer is geth's "execution timeout".
 *
 * The call tree. The core calls on_enter before every message runs and
 * on_exit after, with its result (core/vm/evm.h); a traced run is on the
 * interpreter. Frames are built on a stack (frames[0] the transaction's
 * own message): on_enter pushes, on_exit completes the frame and appends
 * it to its parent's `calls`. Invariants:
 *   - the stack depth equals the message depth + 1 between the hooks
 *     (with onlyTopCall only frames[0] is kept; deeper messages are
 *     counted in `skipped` and leave no frame);
 *   - logs (withLog) are taken from the state's log list: every log in
 *     [log_mark, count) was emitted by the innermost open frame since the
 *     last hook, so each hook first hands those to that frame (with
 *     position = the number of calls it had then) and moves log_mark to
 *     the end. A frame that fails loses its logs and its children's, as
 *     the state's revert drops them (geth's clearFailedLogs);
 *   - the top frame's gas and gasUsed are the transaction's (its gas limit,
 *     its gas used after refunds), filled once the run is over; every
 *     other frame's are the message's gas and what it did not return.
 * Nothing is written: the run is on an overlay, thrown away. */
#include "rpc/methods_trace.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hexjson.h"
#include "precompile/precompile.h"
#include "base/format.h"
#include "rpc/exec_run.h"
#include "rpc/json_values.h"
#include "rpc/rpc_exec.h"
#include "rpc/rpc_params.h"
#include "rpc/trace_tracers.h"
#include "vm/opcodes.h"

enum { TRACE_MAX_FRAMES = 1025 }; /* call depth 1024 and the transaction */

/* A frame that failed in a way geth words after the instruction (out of
 * gas, invalid opcode, stack), by its place among all frame exits (see
 * name_failures). */
typedef struct {
    unsigned exit_ordinal;
    json_t *frame;
    bool creation;
} oog_frame;

typedef struct {
    bool only_top_call, with_log;
    json_t *frames[TRACE_MAX_FRAMES];
    int depth;        /* frames open */
    int skipped;      /* open messages without a frame (onlyTopCall) */
    size_t log_mark;
    unsigned exits;   /* frame exits so far, skipped ones included */
    oog_frame *oog;
    size_t n_oog;
} call_tracer;

static const char *call_type(enum call_kind k)
{
    switch (k) {
    case CALL_CALL: return "CALL";
    case CALL_CALLCODE: return "CALLCODE";
    case CALL_DELEGATECALL: return "DELEGATECALL";
    case CALL_STATICCALL: return "STATICCALL";
    case CALL_CREATE: return "CREATE";
    case CALL_CREATE2: return "CREATE2";
    case CALL_SELFDESTRUCT: return "SELFDESTRUCT";
    }
    return "CALL";
}

/* Hands the logs emitted since the last hook to the innermost frame. */
static void take_logs(call_tracer *t, const evm *e)
{
    const state *st = evm_state(e);
    size_t n = state_log_count(st);
    if (t->with_log && t->skipped == 0 && t->depth > 0 && n > t->log_mark) {
        json_t *frame = t->frames[t->depth - 1];
        json_t *logs = json_object_get(frame, "logs");
        if (!logs) {
            logs = json_array();
            json_object_set_new(frame, "logs", logs);
        }
        json_t *calls = json_object_get(frame, "calls");
        const log_entry *all = state_logs(st);
        for (size_t i = t->log_mark; i < n; i++) {
            json_t *l = json_object(), *topics = json_array();
            json_object_set_new(l, "address", jv_address(&all[i].addr));
            for (unsigned k = 0; k < all[i].n_topics; k++) json_array_append_new(topics, jv_hash(&all[i].topics[k]));
            json_object_set_new(l, "topics", topics);
            json_object_set_new(l, "data", jv_data(all[i].data, all[i].data_len));
            json_object_set_new(l, "index", jv_u64(i)); /* the log's index in the transaction */
            json_object_set_new(l, "position", jv_u64(calls ? json_array_size(calls) : 0));
            json_array_append_new(logs, l);
        }
    }
    t->log_mark = n;
}

/* A failed frame keeps no logs, nor do its children. */
static void drop_logs(json_t *frame)
{
    json_object_del(frame, "logs");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(frame, "calls"), i, c) drop_logs(c);
}

static void frame_enter(void *ctx, const evm *e, const message *msg)
{
    call_tracer *t = ctx;
    take_logs(t, e);
    if (t->skipped > 0 || (t->only_top_call && t->depth > 0) || t->depth >= TRACE_MAX_FRAMES) {
        t->skipped++;
        return;
    }
    /* DELEGATECALL and CALLCODE run another account's code in the caller's
     * frame: geth names the calling contract `from` and the code `to`. */
    bool in_caller = msg->kind == CALL_DELEGATECALL || msg->kind == CALL_CALLCODE;
    json_t *f = json_object();
    json_object_set_new(f, "type", json_string(call_type(msg->kind)));
    json_object_set_new(f, "from", jv_address(in_caller ? &msg->recipient : &msg->sender));
    json_object_set_new(f, "gas", jv_u64((uint64_t)msg->gas));
    json_object_set_new(f, "gasUsed", jv_u64(0));
    json_object_set_new(f, "to", jv_address(in_caller ? &msg->code_address : &msg->recipient));
    json_object_set_new(f, "input", jv_data(msg->input, msg->input_len));
    /* geth gives STATICCALL no value (omitted) and DELEGATECALL the caller's. */
    if (msg->kind != CALL_STATICCALL) json_object_set_new(f, "value", jv_quantity(&msg->value));
    t->frames[t->depth++] = f;
}

static void frame_exit(void *ctx, const evm *e, const message *msg, const exec_result *r)
{
    call_tracer *t = ctx;
    take_logs(t, e);
    unsigned ordinal = t->exits++;
    if (t->skipped > 0) {
        t->skipped--;
        return;
    }
    json_t *f = t->frames[t->depth - 1];
    if (r->status == EXEC_OUT_OF_GAS || r->status == EXEC_INVALID_OPCODE || r->status == EXEC_STACK_UNDERFLOW ||
        r->status == EXEC_STACK_OVERFLOW) {
        t->oog = xrealloc(t->oog, (t->n_oog + 1) * sizeof *t->oog);
        t->oog[t->n_oog++] = (oog_frame){ordinal, f, msg->kind == CALL_CREATE || msg->kind == CALL_CREATE2};
    }
    json_object_set_new(f, "gasUsed", jv_u64((uint64_t)(msg->gas - r->gas_left)));
    if (msg->kind == CALL_CREATE || msg->kind == CALL_CREATE2) {
        /* geth names no `to` for a creation that failed (refused ones too). */
        if (r->status == EXEC_SUCCESS) json_object_set_new(f, "to", jv_address(&r->create_address));
        else json_object_del(f, "to");
    }
    if (r->status == EXEC_SUCCESS) {
        if (r->output_len) json_object_set_new(f, "output", jv_data(r->output, r->output_len));
    } else {
        json_object_set_new(f, "error", json_string(exec_status_name(r->status)));
        if (r->status == EXEC_REVERT && r->output_len) {
            json_object_set_new(f, "output", jv_data(r->output, r->output_len));
            char *reason;
            size_t reason_len;
            if (revert_reason(r->output, r->output_len, &reason, &reason_len)) {
                json_object_set_new(f, "revertReason", json_stringn(reason, reason_len));
                free(reason);
            }
        }
        drop_logs(f);
    }
    if (t->depth > 1) {
        json_t *parent = t->frames[t->depth - 2];
        json_t *calls = json_object_get(parent, "calls");
        if (!calls) {
            calls = json_array();
            json_object_set_new(parent, "calls", calls);
        }
        json_array_append_new(calls, f);
        t->depth--;
    }
    /* frames[0] stays for the caller. */
}

/* geth words some failures after the instruction that failed: "invalid
 * opcode: INVALID", "stack underflow (0 <=> 2)", an SSTORE at EIP-2200's
 * sentry "out of gas: not enough gas for reentrancy sentry", a creation
 * short of gas for its code deposit "contract creation code storage out
 * of gas". The call tree does not watch instructions, so when a frame
 * failed so the call runs again with a tracer that keeps each depth's
 * last instruction; frames are matched by their place among all exits
 * (the runs are the same). */
typedef struct {
    uint8_t last_op[TRACE_MAX_FRAMES + 1];
    int64_t last_gas[TRACE_MAX_FRAMES + 1];
    uint32_t last_stack[TRACE_MAX_FRAMES + 1];
    bool stepped[TRACE_MAX_FRAMES + 1];
    unsigned exits;
    enum fork fork;
    const oog_frame *failed;
    size_t n_failed;
} failure_namer;

static void namer_step(void *ctx, const trace_step *s)
{
    failure_namer *f = ctx;
    if (s->depth < 0 || s->depth > TRACE_MAX_FRAMES) return;
    f->last_op[s->depth] = s->op;
    f->last_gas[s->depth] = s->gas;
    f->last_stack[s->depth] = (uint32_t)s->stack_len;
    f->stepped[s->depth] = true;
}

static void namer_enter(void *ctx, const evm *e, const message *msg)
{
    (void)e;
    failure_namer *f = ctx;
    if (msg->depth + 1 <= TRACE_MAX_FRAMES) f->stepped[msg->depth + 1] = false;
}

static void namer_exit(void *ctx, const evm *e, const message *msg, const exec_result *r)
{
    (void)e;
    failure_namer *f = ctx;
    unsigned ordinal = f->exits++;
    int d = msg->depth + 1;
    if (d > TRACE_MAX_FRAMES || !f->stepped[d]) return;
    for (size_t i = 0; i < f->n_failed; i++) {
        if (f->failed[i].exit_ordinal != ordinal) continue;
        char *text;
        if (f->failed[i].creation && f->last_op[d] == OP_RETURN && r->status == EXEC_OUT_OF_GAS)
            text = str_printf(NULL, "contract creation code storage out of gas");
        else
            text = trace_step_error_text(f->last_op[d], f->last_stack[d], f->last_gas[d], r->status, f->fork);
        json_object_set_new(f->failed[i].frame, "error", json_string(text));
        free(text);
    }
}

static void name_failures(rpc_ctx *ctx, const exec_env *ee, const call_msg *m, const call_tracer *t)
{
    if (!t->n_oog) return;
    failure_namer *f = xcalloc(1, sizeof *f);
    f->fork = ee->fork;
    f->failed = t->oog;
    f->n_failed = t->n_oog;
    tracer tr = {.ctx = f, .on_step = namer_step, .on_enter = namer_enter, .on_exit = namer_exit};
    tx_options opts = {.trace = &tr};
    run_result r;
    exec_arm_timeout(ctx);
    run_message(ctx, ee, m, m->gas, &opts, &r);
    exec_disarm_timeout(ctx);
    run_result_free(&r);
    free(f);
}

/* ------------------------------------------------------------ 4byteTracer */

/* geth's 4byteTracer: "selector-argument bytes" -> how many calls had
 * them, over the CALL-family messages (the transaction's own included)
 * with at least 4 bytes of input, calls to precompiles left out. */
typedef struct {
    json_t *counts;
    enum fork fork;
} four_byte_tracer;

static void four_byte_enter(void *ctx, const evm *e, const message *msg)
{
    (void)e;
    four_byte_tracer *t = ctx;
    if (msg->kind == CALL_CREATE || msg->kind == CALL_CREATE2 || msg->input_len < 4) return;
    if (precompile_is_active(&msg->code_address, t->fork)) return;
    char key[48];
    snprintf(key, sizeof key, "0x%02x%02x%02x%02x-%zu", msg->input[0], msg->input[1], msg->input[2], msg->input[3],
             msg->input_len - 4);
    json_t *n = json_object_get(t->counts, key);
    json_object_set_new(t->counts, key, json_integer(n ? json_integer_value(n) + 1 : 1));
}

/* ------------------------------------------------------------ the timeout */

/* A tracer wrapped with debug_traceCall's own `timeout`: the clock is read
 * every TIMEOUT_CHECK_STEPS instructions and at every frame; past the
 * deadline the run is asked to stop (the worker's abort flag, which the
 * call timer also uses and disarm clears). */
enum { TIMEOUT_CHECK_STEPS = 1024 };

typedef struct {
    tracer inner;
    uint64_t deadline_ns;
    unsigned countdown;
    atomic_int *abort;
    bool timed_out;
} timed_tracer;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void check_deadline(timed_tracer *t)
{
    if (!t->timed_out && now_ns() >= t->deadline_ns) {
        t->timed_out = true;
        if (t->abort) atomic_store(t->abort, 1);
    }
}

static void timed_step(void *ctx, const trace_step *s)
{
    timed_tracer *t = ctx;
    if (t->inner.on_step) t->inner.on_step(t->inner.ctx, s);
    if (--t->countdown == 0) {
        t->countdown = TIMEOUT_CHECK_STEPS;
        check_deadline(t);
    }
}

static void timed_enter(void *ctx, const evm *e, const message *msg)
{
    timed_tracer *t = ctx;
    if (t->inner.on_enter) t->inner.on_enter(t->inner.ctx, e, msg);
    check_deadline(t);
}

static void timed_exit(void *ctx, const evm *e, const message *msg, const exec_result *r)
{
    timed_tracer *t = ctx;
    if (t->inner.on_exit) t->inner.on_exit(t->inner.ctx, e, msg, r);
}

static void timed_tx_end(void *ctx, const evm *e)
{
    timed_tracer *t = ctx;
    if (t->inner.on_tx_end) t->inner.on_tx_end(t->inner.ctx, e);
}

/* Go's time.ParseDuration, which geth applies to `timeout`: a sign, then
 * one or more decimal numbers (with an optional fraction) each followed by
 * a unit (ns, us, µs, μs, ms, s, m, h); "0" alone needs no unit. On error
 * `msg` gets Go's words. */
static bool parse_go_duration(const char *orig, int64_t *out_ns, char *msg, size_t msg_len)
{
    static const struct {
        const char *name;
        double ns;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3}, {"ms", 1e6},
                 {"s", 1e9}, {"m", 60e9},  {"h", 3600e9}};
    const char *s = orig;
    bool neg = false;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    if (strcmp(s, "0") == 0) {
        *out_ns = 0;
        return true;
    }
    if (!*s) goto invalid;
    long double total = 0;
    while (*s) {
        if (!(*s == '.' || (*s >= '0' && *s <= '9'))) goto invalid;
        long double v = 0;
        const char *p = s;
        while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
        bool pre = s != p, post = false;
        if (*s == '.') {
            s++;
            long double scale = 1;
            const char *q = s;
            while (*s >= '0' && *s <= '9') {
                scale /= 10;
                v += (*s++ - '0') * scale;
            }
            post = s != q;
        }
        if (!pre && !post) goto invalid;
        const char *u = s;
        while (*s && *s != '.' && !(*s >= '0' && *s <= '9')) s++;
        if (s == u) {
            snprintf(msg, msg_len, "time: missing unit in duration \"%s\"", orig);
            return false;
        }
        size_t ulen = (size_t)(s - u);
        double unit = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].name) == ulen && memcmp(units[i].name, u, ulen) == 0) unit = units[i].ns;
        if (unit == 0) {
            snprintf(msg, msg_len, "time: unknown unit \"%.*s\" in duration \"%s\"", (int)ulen, u, orig);
            return false;
        }
        total += v * unit;
        if (total > 9223372036854775807.0L) goto invalid;
    }
    *out_ns = neg ? -(int64_t)total : (int64_t)total;
    return true;
invalid:
    snprintf(msg, msg_len, "time: invalid duration \"%s\"", orig);
    return false;
}

/* ------------------------------------------------------------ the method */

static bool fail_arg(rpc_error *err, int i, const char *fmt, const char *what)
{
    return rpc_fail(err, RPC_INVALID_PARAMS, fmt, i, what);
}

enum tracer_kind { TRACER_STRUCT, TRACER_CALL, TRACER_PRESTATE, TRACER_4BYTE, TRACER_NOOP };

/* The tracer config (geth's TraceCallConfig: the struct logger's options
 * at the top level, the named tracer's in tracerConfig). */
typedef struct {
    enum tracer_kind kind;
    bool only_top_call, with_log;
    struct_log_config logger;
    prestate_config prestate;
    bool has_timeout;
    int64_t timeout_ns;
    json_t *state_ov, *block_ov;
} trace_config;

/* A config member as Go's encoding/json finds it: the key matched without
 * regard to case, the last such key winning. */
static json_t *member(json_t *obj, const char *key)
{
    const char *k;
    json_t *v, *found = NULL;
    json_object_foreach(obj, k, v)
        if (strcasecmp(k, key) == 0) found = v;
    return found;
}

static bool bool_member(json_t *obj, const char *key, const char *strct, bool *out, int code, rpc_error *err)
{
    json_t *v = member(obj, key);
    if (!v || json_is_null(v)) return true;
    if (!json_is_boolean(v)) {
        if (code == RPC_INVALID_PARAMS)
            return rpc_fail(err, code, "invalid argument 2: json: cannot unmarshal %s into Go struct field %s.%s of type bool",
                            json_kind_go(v), strct, key);
        return rpc_fail(err, code, "json: cannot unmarshal %s into Go struct field %s.%s of type bool", json_kind_go(v),
                        strct, key);
    }
    *out = json_is_true(v);
    return true;
}

static bool parse_config(json_t *v, trace_config *c, rpc_error *err)
{
    memset(c, 0, sizeof *c);
    c->kind = TRACER_STRUCT;
    if (!v) return true;
    if (!json_is_object(v))
        return fail_arg(err, 2, "invalid argument %d: json: cannot unmarshal %s into Go value of type tracers.TraceCallConfig",
                        json_kind_go(v));
    json_t *tr = member(v, "tracer");
    const char *name = NULL;
    if (tr && !json_is_null(tr)) {
        if (!json_is_string(tr))
            return fail_arg(err, 2, "invalid argument %d: json: cannot unmarshal %s into Go struct field TraceCallConfig.tracer of type string",
                            json_kind_go(tr));
        if (json_string_length(tr)) name = json_string_value(tr);
    }
    /* The struct logger's options (geth reads them whatever the tracer). */
    if (!bool_member(v, "enableMemory", "TraceCallConfig", &c->logger.enable_memory, RPC_INVALID_PARAMS, err) ||
        !bool_member(v, "disableStack", "TraceCallConfig", &c->logger.disable_stack, RPC_INVALID_PARAMS, err) ||
        !bool_member(v, "disableStorage", "TraceCallConfig", &c->logger.disable_storage, RPC_INVALID_PARAMS, err) ||
        !bool_member(v, "enableReturnData", "TraceCallConfig", &c->logger.enable_return_data, RPC_INVALID_PARAMS, err))
        return false;
    json_t *limit = member(v, "limit");
    if (limit && !json_is_null(limit)) {
        if (json_is_real(limit))
            return rpc_fail(err, RPC_INVALID_PARAMS,
                            "invalid argument 2: json: cannot unmarshal number %g into Go struct field TraceCallConfig.limit of type int",
                            json_real_value(limit));
        if (!json_is_integer(limit))
            return fail_arg(err, 2, "invalid argument %d: json: cannot unmarshal %s into Go struct field TraceCallConfig.limit of type int",
                            json_kind_go(limit));
        c->logger.limit = json_integer_value(limit);
    }
    json_t *timeout = member(v, "timeout");
    if (timeout && !json_is_null(timeout)) {
        if (!json_is_string(timeout))
            return fail_arg(err, 2, "invalid argument %d: json: cannot unmarshal %s into Go struct field TraceCallConfig.timeout of type string",
                            json_kind_go(timeout));
        char msg[256];
        if (!parse_go_duration(json_string_value(timeout), &c->timeout_ns, msg, sizeof msg))
            return rpc_fail(err, RPC_SERVER_ERROR, "%s", msg);
        c->has_timeout = true;
    }
    if (!name) c->kind = TRACER_STRUCT;
    else if (strcmp(name, "callTracer") == 0) c->kind = TRACER_CALL;
    else if (strcmp(name, "prestateTracer") == 0) c->kind = TRACER_PRESTATE;
    else if (strcmp(name, "4byteTracer") == 0) c->kind = TRACER_4BYTE;
    else if (strcmp(name, "noopTracer") == 0) c->kind = TRACER_NOOP;
    else
        return rpc_fail(err, RPC_SERVER_ERROR,
                        "tracer %s is not served by jitevm (served: the struct logger, callTracer, prestateTracer, 4byteTracer, noopTracer)",
                        name);
    json_t *tc = member(v, "tracerConfig");
    if (tc && !json_is_null(tc) && (c->kind == TRACER_CALL || c->kind == TRACER_PRESTATE)) {
        const char *strct = c->kind == TRACER_CALL ? "callTracerConfig" : "PrestateTracerConfig";
        if (!json_is_object(tc))
            return rpc_fail(err, RPC_SERVER_ERROR, "json: cannot unmarshal %s into Go value of type native.%s",
                            json_kind_go(tc), strct);
        if (c->kind == TRACER_CALL) {
            if (!bool_member(tc, "onlyTopCall", strct, &c->only_top_call, RPC_SERVER_ERROR, err) ||
                !bool_member(tc, "withLog", strct, &c->with_log, RPC_SERVER_ERROR, err))
                return false;
        } else {
            if (!bool_member(tc, "diffMode", strct, &c->prestate.diff_mode, RPC_SERVER_ERROR, err) ||
                !bool_member(tc, "disableCode", strct, &c->prestate.disable_code, RPC_SERVER_ERROR, err) ||
                !bool_member(tc, "disableStorage", strct, &c->prestate.disable_storage, RPC_SERVER_ERROR, err) ||
                !bool_member(tc, "includeEmpty", strct, &c->prestate.include_empty, RPC_SERVER_ERROR, err))
                return false;
            if (c->prestate.diff_mode && c->prestate.include_empty)
                return rpc_fail(err, RPC_SERVER_ERROR, "cannot use diffMode with includeEmpty");
        }
    }
    /* txIndex: the state before that transaction of the block; jitevm keeps
     * only the state after the head block. */
    json_t *tx_index = member(v, "txIndex");
    if (tx_index && !json_is_null(tx_index)) {
        if (!json_is_string(tx_index))
            return rpc_fail(err, RPC_INVALID_PARAMS,
                            "invalid argument 2: json: cannot unmarshal non-string into Go struct field TraceCallConfig.TxIndex of type hexutil.Uint");
        return rpc_fail(err, RPC_SERVER_ERROR,
                        "txIndex is not served: jitevm keeps the state after the head block, not the states within it");
    }
    c->state_ov = member(v, "stateOverrides");
    if (c->state_ov && json_is_null(c->state_ov)) c->state_ov = NULL;
    c->block_ov = member(v, "blockOverrides");
    if (c->block_ov && json_is_null(c->block_ov)) c->block_ov = NULL;
    return true;
}

/* The authorities of an authorization list, as prestateTracer looks them up
 * (signatures that do not recover are skipped, as geth skips them). */
static address *recover_authorities(const call_msg *m, size_t *n)
{
    address *out = xcalloc(m->n_auths + 1, sizeof *out);
    *n = 0;
    for (size_t i = 0; i < m->n_auths; i++)
        if (tx_recover_authority(&m->auths[i], &out[*n])) (*n)++;
    return out;
}

json_t *m_trace_call(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    json_t *txv = json_array_get(params, 0);
    if (!txv || json_is_null(txv)) return rpc_fail(err, RPC_INVALID_PARAMS, "missing value for required argument 0"), NULL;
    call_args a = {0};
    param_error pe;
    if (!p_call_args(txv, &a, &pe)) {
        call_args_free(&a);
        return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 0: %s", pe.msg), NULL;
    }
    block_selector sel = {.tag = BLOCK_LATEST};
    json_t *bv = json_array_get(params, 1);
    if (bv && !json_is_null(bv) && !p_block(bv, &sel, &pe)) {
        call_args_free(&a);
        return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 1: %s", pe.msg), NULL;
    }
    trace_config c;
    json_t *cv = json_array_get(params, 2);
    if (!parse_config(cv && !json_is_null(cv) ? cv : NULL, &c, err)) {
        call_args_free(&a);
        return NULL;
    }
    /* geth refuses "pending" (its contents are not known to the tracer). */
    if (sel.tag == BLOCK_PENDING) {
        call_args_free(&a);
        return rpc_fail(err, RPC_SERVER_ERROR, "tracing on top of pending is not supported"), NULL;
    }

    exec_env ee;
    json_t *result = NULL;
    if (exec_env_open(ctx, &sel, c.state_ov, 2, c.block_ov, 2, true, &ee, err)) {
        call_msg m;
        if (call_msg_build(ctx, &ee, &a, &m, err)) {
            call_tracer *t = xcalloc(1, sizeof *t);
            t->only_top_call = c.only_top_call;
            t->with_log = c.with_log;
            four_byte_tracer fb = {.counts = json_object(), .fork = ee.fork};
            struct_logger *sl = NULL;
            prestate_tracer *ps = NULL;
            tracer tr = {0};
            switch (c.kind) {
            case TRACER_CALL: tr = (tracer){.ctx = t, .on_enter = frame_enter, .on_exit = frame_exit}; break;
            case TRACER_4BYTE: tr = (tracer){.ctx = &fb, .on_enter = four_byte_enter}; break;
            case TRACER_NOOP: break;
            case TRACER_STRUCT:
                sl = struct_logger_new(&c.logger);
                struct_logger_set_abort(sl, ctx->abort_flag);
                tr = struct_logger_tracer(sl);
                break;
            case TRACER_PRESTATE: {
                ps = prestate_new(&c.prestate, &ee.backend, ee.fork);
                size_t n_auth = 0;
                address *auths = recover_authorities(&m, &n_auth);
                account_info info;
                uint64_t nonce = ee.backend.get_account(ee.backend.ctx, &m.from, &info) ? info.nonce : 0;
                address to = m.has_to ? m.to : create_address(&m.from, nonce);
                prestate_tx_start(ps, &m.from, &to, !m.has_to, &ee.env.coinbase, auths, n_auth);
                free(auths);
                tr = prestate_tracer_hooks(ps);
                break;
            }
            }
            /* A timeout shorter than the server's call timeout is watched
             * from the trace itself; a longer one is capped by the server's. */
            timed_tracer timed = {.inner = tr, .countdown = TIMEOUT_CHECK_STEPS, .abort = ctx->abort_flag};
            bool watch = c.has_timeout && (ctx->cfg->call_timeout_ms == 0 ||
                                           c.timeout_ns < (int64_t)(ctx->cfg->call_timeout_ms * 1000000u));
            if (watch) {
                timed.deadline_ns = c.timeout_ns <= 0 ? 0 : now_ns() + (uint64_t)c.timeout_ns;
                tr = (tracer){.ctx = &timed, .on_step = timed_step, .on_enter = timed_enter, .on_exit = timed_exit,
                              .on_tx_end = timed_tx_end};
            }
            tx_options opts = {.trace = &tr};
            run_result r;
            exec_arm_timeout(ctx);
            if (watch && c.timeout_ns <= 0) {
                /* geth's deadline has passed before the run starts. */
                memset(&r, 0, sizeof r);
                r.kind = RUN_ABORTED;
                timed.timed_out = true;
            } else
                run_message(ctx, &ee, &m, m.gas, &opts, &r);
            exec_disarm_timeout(ctx);
            json_t *top = t->depth > 0 ? t->frames[0] : NULL;
            for (int i = 1; i < t->depth; i++) json_decref(t->frames[i]); /* an aborted run's open frames */
            if (sl && struct_logger_overflowed(sl))
                rpc_fail(err, RPC_SERVER_ERROR,
                         "trace too large: the struct logs passed %zu MiB; narrow it with limit, disableStack, "
                         "disableStorage or enableMemory false",
                         STRUCT_LOG_MAX_BYTES >> 20);
            else if (r.kind == RUN_ABORTED) {
                if (timed.timed_out || !(ctx->shutting_down && *ctx->shutting_down))
                    rpc_fail(err, RPC_SERVER_ERROR, "execution timeout");
                else
                    timeout_error(ctx, err);
            } else if (r.kind == RUN_INVALID) rpc_fail(err, RPC_SERVER_ERROR, "tracing failed: %s", r.invalid);
            else if (c.kind == TRACER_NOOP) result = json_object();
            else if (c.kind == TRACER_4BYTE) {
                result = fb.counts;
                fb.counts = NULL;
            } else if (c.kind == TRACER_STRUCT) {
                result = struct_logger_result(sl, r.res.gas_used, r.res.status, r.res.output, r.res.output_len);
                if (!result) rpc_fail(err, RPC_INTERNAL_ERROR, "the struct logs did not render");
            } else if (c.kind == TRACER_PRESTATE) result = prestate_result(ps);
            else if (top) {
                name_failures(ctx, &ee, &m, t);
                json_object_set_new(top, "gas", jv_u64(m.gas));
                json_object_set_new(top, "gasUsed", jv_u64(r.res.gas_used));
                result = top;
                top = NULL;
            } else rpc_fail(err, RPC_INTERNAL_ERROR, "the call left no frame");
            json_decref(top);
            json_decref(fb.counts);
            struct_logger_free(sl);
            prestate_free(ps);
            run_result_free(&r);
            free(t->oog);
            free(t);
        }
        exec_env_close(&ee);
    }
    call_args_free(&a);
    return result;
}
