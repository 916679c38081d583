/* The JSON-RPC 2.0 envelope as geth implements it: single requests and
 * batches, ids, notifications, the request/response checks and error
 * objects; per-call metrics and logging. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/format.h"
#include "base/hex.h"
#include "log.h"
#include "metrics.h"
#include "rpc/rpc.h"
#include "rpc/rpc_fast.h"
#include "rpc/rpc_json.h"
#include "config.h"
#include "hexjson.h"

enum { MAX_METHOD_NAME = 2048 };

bool rpc_fail(rpc_error *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t len;
    char *msg = str_vprintf(&len, fmt, ap);
    va_end(ap);
    rpc_fail_owned(e, code, msg, len);
    return false;
}

rpc_live_hooks rpc_live;

bool rpc_fail_store(rpc_error *err, const store_error *se)
{
    if (strncmp(se->msg, "upstream ", 9) == 0) return rpc_fail(err, RPC_SERVER_ERROR, "%s", se->msg);
    return rpc_fail(err, RPC_SERVER_ERROR, "database error: %s", se->msg);
}

void rpc_fail_owned(rpc_error *e, int code, char *message, size_t len)
{
    free(e->message);
    e->code = code;
    e->message = message;
    e->message_len = len;
}

void rpc_error_clear(rpc_error *e)
{
    free(e->message);
    free(e->data);
    memset(e, 0, sizeof *e);
}

/* Go's JSON encoding of a string with invalid UTF-8: each bad byte becomes
 * U+FFFD. jansson refuses invalid UTF-8, so messages are mended first. */
static json_t *utf8_string(const char *s, size_t n)
{
    bytebuf out = {0};
    bytebuf_reserve(&out, n + 1);
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        bool ok = len > 0 && i + len <= n;
        uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
        for (size_t k = 1; ok && k < len; k++) {
            ok = (p[i + k] & 0xc0) == 0x80;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
        if (ok && ((len == 2 && cp < 0x80) || (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
                   (len == 4 && (cp < 0x10000 || cp > 0x10ffff))))
            ok = false;
        if (ok) {
            bytebuf_append(&out, p + i, len);
            i += len;
        } else {
            bytebuf_append(&out, "\xef\xbf\xbd", 3);
            i++;
        }
    }
    json_t *j = json_stringn((const char *)out.data, out.len);
    bytebuf_free(&out);
    return j;
}

json_t *rpc_message_json(const char *s, size_t n) { return utf8_string(s, n); }

/* ------------------------------------------------ results as text */

json_t *rpc_result_hex_bytes(rpc_ctx *ctx, const uint8_t *p, size_t n)
{
    if (n > (RPC_RESULT_TEXT_MAX - 4) / 2) return hex_json_bytes(p, n);
    char *t = ctx->result_text;
    memcpy(t, "\"0x", 3);
    hex_encode(p, n, t + 3);
    t[3 + 2 * n] = '"';
    ctx->result_text_len = 4 + 2 * n;
    return json_null();
}

json_t *rpc_result_quantity(rpc_ctx *ctx, const u256 *v)
{
    char *t = ctx->result_text;
    size_t n;
    if (u256_fits_u64(v)) {
        /* The common case (a chain id, most balances): the digits of one
         * word, not the 64 nibbles hex_encode_quantity looks at. */
        static const char digits[] = "0123456789abcdef";
        uint64_t w = v->w[0];
        int nibbles = 1;
        while (nibbles < 16 && (w >> (4 * nibbles))) nibbles++;
        memcpy(t, "\"0x", 3);
        for (int i = 0; i < nibbles; i++) t[3 + i] = digits[(w >> (4 * (nibbles - 1 - i))) & 15];
        n = 3 + (size_t)nibbles;
    } else {
        char hex[HEX_QUANTITY_LEN];
        hex_encode_quantity(v, hex);
        size_t len = strlen(hex);
        t[0] = '"';
        memcpy(t + 1, hex, len);
        n = 1 + len;
    }
    t[n] = '"';
    ctx->result_text_len = n + 1;
    return json_null();
}

/* Responses are written as text straight into the answer (no jansson
 * tree per response: building and freeing one cost about as much as the
 * rest of answering eth_chainId), in the order jansson wrote them:
 * {"jsonrpc":"2.0","id":...,"result":...} or
 * {"jsonrpc":"2.0","id":...,"error":{"code":...,"message":...,"data":...}}.
 * False when a value cannot be encoded (the answer is then dropped). */
static bool write_response(bytebuf *out, const json_t *id, const json_t *result, const rpc_error *err,
                           const char *result_text, size_t result_text_len, const char *id_text, size_t id_len)
{
    static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":";
    bytebuf_append(out, head, sizeof head - 1);
    if (id_text) {
        bytebuf_append(out, id_text, id_len); /* a fast request's id, as written (rpc_fast.c) */
    } else if (id) {
        if (!rpc_json_write(out, id)) return false;
    } else {
        bytebuf_append(out, "null", 4);
    }
    bool ok = true;
    if (err && err->code) {
        char code[48];
        int n = snprintf(code, sizeof code, ",\"error\":{\"code\":%d", err->code);
        bytebuf_append(out, code, (size_t)n);
        json_t *message = utf8_string(err->message, err->message_len);
        if (message) {
            bytebuf_append(out, ",\"message\":", 11);
            ok = rpc_json_write(out, message);
        }
        json_decref(message);
        json_t *data = err->data ? json_string(err->data) : NULL; /* as before: data that is not UTF-8 is left out */
        if (ok && data) {
            bytebuf_append(out, ",\"data\":", 8);
            ok = rpc_json_write(out, data);
        }
        json_decref(data);
        bytebuf_push(out, '}');
    } else {
        bytebuf_append(out, ",\"result\":", 10);
        if (result_text_len) bytebuf_append(out, result_text, result_text_len);
        else if (result) ok = rpc_json_write(out, result);
        else bytebuf_append(out, "null", 4);
    }
    bytebuf_push(out, '}');
    return ok;
}

static bool envelope_error(bytebuf *out, const json_t *id, int code, const char *message)
{
    rpc_error e = {.code = code, .message = (char *)message, .message_len = strlen(message)};
    metrics_record_call(metrics_none_index(), 0, code);
    log_warn("rpc invalid request: %s", message);
    return write_response(out, id, NULL, &e, NULL, 0, NULL, 0);
}

/* The answer text (NUL-terminated, *len without the NUL), or NULL when
 * nothing could be encoded. */
static char *finish_answer(bytebuf *out, bool ok, size_t *len)
{
    if (!ok) {
        bytebuf_free(out);
        return NULL;
    }
    bytebuf_push(out, '\0');
    *len = out->len - 1;
    return (char *)out->data;
}

char *rpc_error_text(int code, const char *message, size_t *len)
{
    bytebuf out = {0};
    bytebuf_reserve(&out, 128);
    bool ok = envelope_error(&out, NULL, code, message);
    return finish_answer(&out, ok, len);
}

/* geth's hasValidID: present and not an object or an array (null counts). */
static bool valid_id(const json_t *id)
{
    return id && (!json_is_object(id) || rpc_json_raw_number(id, NULL)) && !json_is_array(id);
}

static const char *method_of(const json_t *msg)
{
    const json_t *m = json_object_get(msg, "method");
    return json_is_string(m) ? json_string_value(m) : "";
}

static bool has_valid_version(const json_t *msg)
{
    const json_t *v = json_object_get(msg, "jsonrpc");
    return json_is_string(v) && strcmp(json_string_value(v), "2.0") == 0;
}

/* Errors go to clients without the database's path (a store error names
 * it): every occurrence becomes "<database>". The log keeps the path. */
static void hide_database_path(const rpc_ctx *ctx, rpc_error *err)
{
    const char *path = ctx->cfg ? ctx->cfg->db_path : NULL;
    size_t plen = path ? strlen(path) : 0;
    if (!err->code || !plen || !err->message || !memmem(err->message, err->message_len, path, plen)) return;
    bytebuf out = {0};
    const char *p = err->message, *end = err->message + err->message_len, *hit;
    while ((hit = memmem(p, (size_t)(end - p), path, plen))) {
        bytebuf_append(&out, p, (size_t)(hit - p));
        bytebuf_append(&out, "<database>", 10);
        p = hit + plen;
    }
    bytebuf_append(&out, p, (size_t)(end - p));
    bytebuf_push(&out, '\0');
    rpc_fail_owned(err, err->code, (char *)out.data, out.len - 1);
}

/* True when the whole request's time is up at `now_ns` or its client is
 * gone; *err then says so (the calls not yet run are answered with it). */
static bool request_exhausted(const rpc_ctx *ctx, uint64_t now_ns, rpc_error *err)
{
    if (ctx->cancelled && atomic_load(ctx->cancelled))
        return !rpc_fail(err, RPC_SERVER_ERROR, "request cancelled: the client disconnected");
    if (ctx->request_deadline_ns && now_ns >= ctx->request_deadline_ns) {
        char d[32];
        format_go_duration(ctx->cfg->request_timeout_ms, d, sizeof d);
        return !rpc_fail(err, RPC_SERVER_ERROR, "request timeout (%s): not run", d);
    }
    return false;
}

/* One call: its response appended to `out` (none without an id). `fast`:
 * a request read from the text (rpc_fast.c), which carries its method,
 * parameters and id instead of params and id; *fell_back is then set when
 * it must go the tree's way after all (nothing was run, counted or
 * written). */
static bool run_call(rpc_ctx *ctx, bytebuf *out, json_t *params, json_t *id, const char *name,
                     const rpc_fast_request *fast, bool *fell_back)
{
    /* One clock read for the call's timing and the deadline check. */
    uint64_t start_ns = monotonic_ns();
    rpc_error err = {0};
    json_t *result = NULL;
    const rpc_method *m = fast ? fast->method : rpc_find_method(name);
    ctx->result_text_len = 0;
    int metric = metrics_method_index(m ? m->name : "");
    if (request_exhausted(ctx, start_ns, &err)) {
        /* err says why */
    } else if (!fast && strlen(name) > MAX_METHOD_NAME) { /* a fast request's name is the table's own */
        rpc_fail(&err, RPC_INVALID_REQUEST, "method name too long: %zu > %d", strlen(name), MAX_METHOD_NAME);
    } else if (!m || ((m->flags & RPC_ADMIN) && !ctx->cfg->admin)) {
        rpc_fail(&err, RPC_METHOD_NOT_FOUND, "the method %s does not exist/is not available", name);
    } else if ((m->flags & RPC_ADMIN) && !ctx->authorized) {
        rpc_fail(&err, RPC_UNAUTHORIZED, "unauthorized: %s needs the admin bearer token (%s)", name,
                 ctx->admin_rejected ? "the one given is wrong" : "none was given");
    } else if ((m->flags & RPC_ADMIN) && rpc_live.upstream) {
        rpc_fail(&err, RPC_SERVER_ERROR, "live mode: %s is refused: the state comes from the upstream %s, which stays "
                 "the source of truth", name, rpc_live.upstream);
    } else if ((m->flags & RPC_FORWARD) && rpc_live.forward &&
               rpc_live.forward(m->name, params, &result, &err)) {
        /* answered by the upstream */
    } else if ((m->flags & RPC_ADMIN) && ctx->cfg->read_only) {
        rpc_fail(&err, RPC_SERVER_ERROR, "read-only mode: %s is refused (the database is opened read-only)", name);
    } else {
        json_t *empty = NULL;
        if (!fast && (!params || json_is_null(params))) params = empty = json_array();
        /* A fast request's parameters fit its method (rpc_fast_parse). */
        if (!fast && !json_is_array(params)) {
            rpc_fail(&err, RPC_INVALID_PARAMS, "non-array args");
        } else if (!fast && json_array_size(params) > (size_t)m->max_args) {
            rpc_fail(&err, RPC_INVALID_PARAMS, "too many arguments, want at most %d", m->max_args);
        } else if (!ctx->conn && !(m->flags & RPC_INLINE)) {
            rpc_fail(&err, RPC_INTERNAL_ERROR, "internal error: %s reached a thread without a database", name);
        } else {
            /* Reads see one consistent snapshot of the database (writes
             * take their own transaction). */
            store_error se;
            bool snapshot = ctx->conn && !(m->flags & RPC_ADMIN);
            /* A snapshot kept from an earlier request (store_keep_snapshots)
             * is ended here when a commit made it stale: the live hook reads
             * before the snapshot begins, and a write must see the latest. */
            if (snapshot) store_snapshot_settle(ctx->conn);
            else if (ctx->conn) store_snapshot_release(ctx->conn);
            if (fast && snapshot && fast->kind == RPC_FAST_CALL && rpc_live.warm_call &&
                !rpc_live.warm_call(ctx->conn, fast->from_text, fast->from_len, fast->to_text, fast->to_len,
                                    fast->selector, fast->selector_len)) {
                /* Not known warm: the tree's way, whose hook fetches. */
                json_decref(empty);
                *fell_back = true;
                return true;
            } else if (!fast && snapshot && rpc_live.before && !rpc_live.before(ctx->conn, m->name, params, &se)) {
                rpc_fail_store(&err, &se);
            } else if (snapshot && !store_read_begin(ctx->conn, &se)) {
                rpc_fail_store(&err, &se);
                if (rpc_live.after) rpc_live.after(ctx->conn);
            } else {
                result = fast ? rpc_fast_run(ctx, fast, &err) : m->fn(ctx, params, &err);
                if (snapshot) store_read_end(ctx->conn);
                if (snapshot && rpc_live.after) rpc_live.after(ctx->conn);
                /* A read that failed inside the engine (I/O error, the
                 * upstream) makes the answer untrustworthy. */
                if (ctx->conn && store_take_error(ctx->conn, &se)) rpc_fail_store(&err, &se);
                if (!result && !err.code) rpc_fail(&err, RPC_INTERNAL_ERROR, "internal error: %s gave no answer", name);
            }
            /* State at a block other than the head: the upstream's (live
             * mode). Only a request from the tree: the text's fast path
             * takes the head only. */
            if (err.code && err.not_head && !fast && rpc_live.forward_state) {
                json_t *answer = NULL;
                rpc_error upstream_err = {0};
                if (rpc_live.forward_state(m->name, params, &answer, &upstream_err)) {
                    rpc_error_clear(&err);
                    err = upstream_err;
                    json_decref(result);
                    result = answer;
                } else {
                    rpc_error_clear(&upstream_err);
                }
            }
            if (err.code && result) {
                json_decref(result);
                result = NULL;
            }
        }
        json_decref(empty);
    }
    double elapsed = (double)(monotonic_ns() - start_ns) * 1e-9;
    if (ctx->discard_on_abort && ctx->abort_flag && atomic_load(ctx->abort_flag)) {
        /* Thrown away by the caller; the retry records it. */
    } else if (metrics_record_call(metric, elapsed, err.code), err.code) {
        size_t idlen;
        char *idtext = fast ? str_printf(&idlen, "%.*s", (int)fast->id_len, fast->id) : id ? rpc_json_dump(id, &idlen) : NULL;
        log_warn("rpc %.64s id=%.64s %.3fms error %d: %.*s", name, idtext ? idtext : "-", elapsed * 1e3, err.code,
                 (int)(err.message_len > 300 ? 300 : err.message_len), err.message);
        free(idtext);
    } else if (log_enabled(JLOG_DEBUG)) {
        size_t idlen;
        char *idtext = fast ? str_printf(&idlen, "%.*s", (int)fast->id_len, fast->id) : id ? rpc_json_dump(id, &idlen) : NULL;
        log_debug("rpc %s id=%.64s %.3fms", name, idtext ? idtext : "-", elapsed * 1e3);
        free(idtext);
    }
    hide_database_path(ctx, &err);
    bool ok = (!id && !fast) || write_response(out, id, result, &err, ctx->result_text, err.code ? 0 : ctx->result_text_len,
                                               fast ? fast->id : NULL, fast ? fast->id_len : 0);
    ctx->result_text_len = 0;
    json_decref(result);
    rpc_error_clear(&err);
    return ok;
}

/* One request: its response appended to `out` (nothing for a
 * notification); *wrote says whether one was. False: encoding failed. */
static bool handle_one(rpc_ctx *ctx, bytebuf *out, json_t *msg, bool *wrote)
{
    *wrote = true;
    if (!json_is_object(msg)) return envelope_error(out, NULL, RPC_INVALID_REQUEST, "invalid request");
    /* One pass over the envelope's members (its keys are unique: the
     * parser keeps the last of repeated ones) instead of a hash lookup
     * per member. */
    json_t *id = NULL, *params = NULL, *version_value = NULL, *method = NULL;
    const char *key;
    size_t key_len;
    json_t *value;
    /* Lengths compared too: a key may hold a NUL ("id\u0000x" is not "id"). */
#define IS_KEY(k) (key_len == sizeof k - 1 && memcmp(key, k, sizeof k - 1) == 0)
    json_object_keylen_foreach(msg, key, key_len, value) {
        if (IS_KEY("id")) id = value;
        else if (IS_KEY("method")) method = value;
        else if (IS_KEY("params")) params = value;
        else if (IS_KEY("jsonrpc")) version_value = value;
    }
#undef IS_KEY
    const char *name = json_is_string(method) ? json_string_value(method) : "";
    bool version = json_is_string(version_value) && strcmp(json_string_value(version_value), "2.0") == 0;
    if (version && *name && valid_id(id)) return run_call(ctx, out, params, id, name, NULL, NULL);
    if (version && *name && !id) {
        *wrote = false;
        return run_call(ctx, out, params, NULL, name, NULL, NULL);
    }
    return envelope_error(out, valid_id(id) ? id : NULL, RPC_INVALID_REQUEST, "invalid request");
}

char *rpc_dispatch(rpc_ctx *ctx, json_t *root, size_t *len)
{
    ctx->gas_left = ctx->cfg->request_gas;
    ctx->gas_budget_hit = false;
    bytebuf out = {0};
    bytebuf_reserve(&out, 256);
    bool ok = true, wrote;
    if (json_is_array(root)) {
        size_t n = json_array_size(root);
        if (n == 0) {
            ok = envelope_error(&out, NULL, RPC_INVALID_REQUEST, "empty batch");
        } else if (n > ctx->cfg->max_batch) {
            /* One error, carrying the id of the first call. */
            json_t *first_id = NULL;
            for (size_t i = 0; i < n && !first_id; i++) {
                json_t *msg = json_array_get(root, i), *id = json_object_get(msg, "id");
                if (json_is_object(msg) && has_valid_version(msg) && *method_of(msg) && valid_id(id)) first_id = id;
            }
            bytebuf_push(&out, '[');
            ok = envelope_error(&out, first_id, RPC_INVALID_REQUEST, "batch too large");
            bytebuf_push(&out, ']');
        } else {
            size_t answered = 0;
            bytebuf_push(&out, '[');
            for (size_t i = 0; i < n; i++) {
                size_t mark = out.len;
                if (answered) bytebuf_push(&out, ',');
                if (!handle_one(ctx, &out, json_array_get(root, i), &wrote)) ok = false;
                if (wrote) answered++;
                else out.len = mark; /* a notification: no separator either */
            }
            bytebuf_push(&out, ']');
            if (!answered) ok = false; /* all notifications: no answer at all */
        }
    } else {
        ok = handle_one(ctx, &out, root, &wrote) && wrote;
    }
    return finish_answer(&out, ok, len);
}

char *rpc_dispatch_fast(rpc_ctx *ctx, const rpc_fast_request *r, size_t *len, bool *fell_back)
{
    ctx->gas_left = ctx->cfg->request_gas;
    ctx->gas_budget_hit = false;
    *fell_back = false;
    bytebuf out = {0};
    bytebuf_reserve(&out, 256);
    bool ok = run_call(ctx, &out, NULL, NULL, r->method->name, r, fell_back);
    if (*fell_back) {
        bytebuf_free(&out);
        return NULL;
    }
    return finish_answer(&out, ok, len);
}

char *rpc_dispatch_text(rpc_ctx *ctx, const char *body, size_t body_len, size_t *len)
{
    json_t *root = rpc_json_parse(body, body_len);
    if (!root) return rpc_error_text(RPC_PARSE_ERROR, "parse error", len);
    char *r = rpc_dispatch(ctx, root, len);
    json_decref(root);
    return r;
}

static bool method_is_inline(const rpc_method *method)
{
    /* Forwarded, it waits for the upstream: not on an HTTP thread. */
    if (method && (method->flags & RPC_FORWARD) && rpc_live.forward) return false;
    return !method || (method->flags & RPC_INLINE);
}

static bool request_is_inline(const json_t *msg)
{
    if (!json_is_object(msg)) return true; /* an error needs no database */
    const json_t *m = json_object_get(msg, "method");
    if (!json_is_string(m)) return true;
    return method_is_inline(rpc_find_method(json_string_value(m)));
}

bool rpc_body_is_inline(const json_t *root)
{
    if (!json_is_array(root)) return request_is_inline(root);
    size_t n = json_array_size(root);
    for (size_t i = 0; i < n; i++)
        if (!request_is_inline(json_array_get(root, i))) return false;
    return true;
}

void rpc_body_classify(const json_t *root, bool *is_inline, bool *read_only)
{
    *is_inline = *read_only = true;
    size_t n = json_is_array(root) ? json_array_size(root) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *msg = json_is_array(root) ? json_array_get(root, i) : root;
        const json_t *m = json_is_object(msg) ? json_object_get(msg, "method") : NULL;
        if (!json_is_string(m)) continue; /* an error: inline, writes nothing */
        const rpc_method *method = rpc_find_method(json_string_value(m));
        if (!method_is_inline(method)) *is_inline = false;
        if (method && (method->flags & RPC_ADMIN)) *read_only = false;
    }
}

