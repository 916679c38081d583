/* debug_traceCall: a call run as eth_call runs it (the same environment,
 * overrides, checks and gas), with a tracer watching its call frames.
 *
 * Served tracers: geth's callTracer (`onlyTopCall`, `withLog`),
 * 4byteTracer and noopTracer. The struct logger (no `tracer`),
 * prestateTracer and the others answer -32000 naming the tracer: not
 * served yet.
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

#include "hexjson.h"
#include "precompile/precompile.h"
#include "base/format.h"
#include "rpc/exec_run.h"
#include "rpc/json_values.h"
#include "rpc/rpc_exec.h"
#include "rpc/rpc_params.h"

enum { TRACE_MAX_FRAMES = 1025 }; /* call depth 1024 and the transaction */

typedef struct {
    bool only_top_call, with_log;
    json_t *frames[TRACE_MAX_FRAMES];
    int depth;        /* frames open */
    int skipped;      /* open messages without a frame (onlyTopCall) */
    size_t log_mark;
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
    if (t->skipped > 0) {
        t->skipped--;
        return;
    }
    json_t *f = t->frames[t->depth - 1];
    json_object_set_new(f, "gasUsed", jv_u64((uint64_t)(msg->gas - r->gas_left)));
    if (msg->kind == CALL_CREATE || msg->kind == CALL_CREATE2) json_object_set_new(f, "to", jv_address(&r->create_address));
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

/* ------------------------------------------------------------ the method */

static bool fail_arg(rpc_error *err, int i, const char *fmt, const char *what)
{
    return rpc_fail(err, RPC_INVALID_PARAMS, fmt, i, what);
}

/* The tracer config (geth's TraceCallConfig). */
typedef struct {
    const char *tracer; /* NULL: the struct logger */
    bool only_top_call, with_log;
    json_t *state_ov, *block_ov;
} trace_config;

static bool bool_member(json_t *obj, const char *key, const char *strct, bool *out, rpc_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return true;
    if (!json_is_boolean(v))
        return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 2: json: cannot unmarshal %s into Go struct field %s.%s of type bool",
                        json_kind_go(v), strct, key);
    *out = json_is_true(v);
    return true;
}

static bool parse_config(json_t *v, trace_config *c, rpc_error *err)
{
    memset(c, 0, sizeof *c);
    if (!v) return true;
    if (!json_is_object(v))
        return fail_arg(err, 2, "invalid argument %d: json: cannot unmarshal %s into Go value of type tracers.TraceCallConfig",
                        json_kind_go(v));
    json_t *tr = json_object_get(v, "tracer");
    if (tr && !json_is_null(tr)) {
        if (!json_is_string(tr))
            return fail_arg(err, 2, "invalid argument %d: json: cannot unmarshal %s into Go struct field TraceCallConfig.tracer of type string",
                            json_kind_go(tr));
        if (json_string_length(tr)) c->tracer = json_string_value(tr);
    }
    json_t *tc = json_object_get(v, "tracerConfig");
    if (tc && !json_is_null(tc)) {
        if (!json_is_object(tc))
            return rpc_fail(err, RPC_SERVER_ERROR, "json: cannot unmarshal %s into Go value of type native.callTracerConfig",
                            json_kind_go(tc));
        if (!bool_member(tc, "onlyTopCall", "callTracerConfig", &c->only_top_call, err) ||
            !bool_member(tc, "withLog", "callTracerConfig", &c->with_log, err))
            return false;
    }
    json_t *timeout = json_object_get(v, "timeout");
    if (timeout && !json_is_null(timeout) && !json_is_string(timeout))
        return fail_arg(err, 2, "invalid argument %d: json: cannot unmarshal %s into Go struct field TraceCallConfig.timeout of type string",
                        json_kind_go(timeout));
    c->state_ov = json_object_get(v, "stateOverrides");
    if (c->state_ov && json_is_null(c->state_ov)) c->state_ov = NULL;
    c->block_ov = json_object_get(v, "blockOverrides");
    if (c->block_ov && json_is_null(c->block_ov)) c->block_ov = NULL;
    return true;
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
    bool noop = c.tracer && strcmp(c.tracer, "noopTracer") == 0;
    bool four_byte = c.tracer && strcmp(c.tracer, "4byteTracer") == 0;
    if (!noop && !four_byte && !(c.tracer && strcmp(c.tracer, "callTracer") == 0)) {
        call_args_free(&a);
        return rpc_fail(err, RPC_SERVER_ERROR,
                        "tracer %s is not served by jitevm (served: callTracer, 4byteTracer, noopTracer)",
                        c.tracer ? c.tracer : "(the struct logger)"),
               NULL;
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
            tracer tr = {.ctx = t, .on_enter = frame_enter, .on_exit = frame_exit};
            if (four_byte) tr = (tracer){.ctx = &fb, .on_enter = four_byte_enter};
            tx_options opts = {.trace = &tr};
            run_result r;
            exec_arm_timeout(ctx);
            run_message(ctx, &ee, &m, m.gas, &opts, &r);
            exec_disarm_timeout(ctx);
            json_t *top = t->depth > 0 ? t->frames[0] : NULL;
            for (int i = 1; i < t->depth; i++) json_decref(t->frames[i]); /* an aborted run's open frames */
            if (r.kind == RUN_ABORTED) timeout_error(ctx, err);
            else if (r.kind == RUN_INVALID) rpc_fail(err, RPC_SERVER_ERROR, "%s", r.invalid);
            else if (noop) result = json_object();
            else if (four_byte) {
                result = fb.counts;
                fb.counts = NULL;
            }
            else if (top) {
                json_object_set_new(top, "gas", jv_u64(m.gas));
                json_object_set_new(top, "gasUsed", jv_u64(r.res.gas_used));
                result = top;
                top = NULL;
            } else rpc_fail(err, RPC_INTERNAL_ERROR, "the call left no frame");
            json_decref(top);
            json_decref(fb.counts);
            run_result_free(&r);
            free(t);
        }
        exec_env_close(&ee);
    }
    call_args_free(&a);
    return result;
}
