#include "metrics.h"

#include "live.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/format.h"
#include "log.h"
#include "vm/code_cache.h"
#include "jit/jit.h"
#include "program_store.h"
#include "base/types.h"

static const double bucket_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                       0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
#define N_BUCKETS (sizeof bucket_bounds / sizeof bucket_bounds[0])

/* The error codes counted per method; anything else is "other". */
static const int error_codes[] = {-32700, -32600, -32601, -32602, -32603, -32000, -32001, -32005, 3};
#define N_CODES (sizeof error_codes / sizeof error_codes[0])

typedef struct {
    _Atomic uint64_t requests;
    _Atomic uint64_t errors[N_CODES + 1];
    _Atomic uint64_t buckets[N_BUCKETS]; /* non-cumulative; summed when rendered */
    _Atomic uint64_t sum_ns;
} method_stats;

static const int http_statuses[] = {200, 204, 400, 401, 403, 404, 405, 413, 415, 500, 503};
#define N_STATUSES (sizeof http_statuses / sizeof http_statuses[0])

static struct {
    const char *const *names;
    size_t n_names;
    /* The names' positions by their pointers (the dispatcher passes the
     * method table's own strings): open addressing, position + 1 (0:
     * empty), at most half full. A scan of the ~70 pointers cost a call
     * ~80 instructions and a few cache lines. */
    uint32_t *by_pointer;
    size_t by_pointer_mask;
    method_stats *methods; /* n_names + unknown + none */
    _Atomic uint64_t http[N_STATUSES + 1];
    _Atomic uint64_t gas;
    _Atomic int64_t inflight;
    _Atomic int64_t queue_depth;
    _Atomic int draining;
    _Atomic uint64_t handoffs[2]; /* [over the budget, waits on the upstream] */
    _Atomic uint64_t fast_hand_overs[2]; /* [a request it does not take, a call for a worker] */
} m;

static size_t pointer_slot(const char *p) { return (size_t)(((uintptr_t)p * 0x9e3779b97f4a7c15u) >> 32); }

void metrics_init(const char *const *names, size_t n_names)
{
    m.names = names;
    m.n_names = n_names;
    m.methods = xcalloc(n_names + 2, sizeof *m.methods);
    free(m.by_pointer);
    size_t cells = 16;
    while (cells < 2 * n_names) cells *= 2;
    m.by_pointer_mask = cells - 1;
    m.by_pointer = xcalloc(cells, sizeof *m.by_pointer);
    for (size_t i = 0; i < n_names; i++) {
        size_t h = pointer_slot(names[i]) & m.by_pointer_mask;
        while (m.by_pointer[h]) h = (h + 1) & m.by_pointer_mask;
        m.by_pointer[h] = (uint32_t)i + 1;
    }
}

void metrics_free(void)
{
    free(m.methods);
    m.methods = NULL;
    free(m.by_pointer);
    m.by_pointer = NULL;
}

int metrics_method_index(const char *name)
{
    if (m.by_pointer)
        for (size_t h = pointer_slot(name) & m.by_pointer_mask; m.by_pointer[h]; h = (h + 1) & m.by_pointer_mask)
            if (m.names[m.by_pointer[h] - 1] == name) return (int)m.by_pointer[h] - 1;
    /* Another copy of a name (or before metrics_init): compared as text. */
    for (size_t i = 0; i < m.n_names; i++)
        if (strcmp(m.names[i], name) == 0) return (int)i;
    return (int)m.n_names;
}

int metrics_none_index(void) { return (int)m.n_names + 1; }

static const char *method_label(size_t i)
{
    return i < m.n_names ? m.names[i] : i == m.n_names ? "unknown" : "none";
}

void metrics_record_call(int method_index, double seconds, int error_code)
{
    if (!m.methods) return;
    method_stats *s = &m.methods[method_index];
    atomic_fetch_add_explicit(&s->requests, 1, memory_order_relaxed);
    if (error_code) {
        size_t c = N_CODES;
        for (size_t i = 0; i < N_CODES; i++)
            if (error_codes[i] == error_code) c = i;
        atomic_fetch_add_explicit(&s->errors[c], 1, memory_order_relaxed);
    }
    size_t b = 0;
    while (b < N_BUCKETS && seconds > bucket_bounds[b]) b++;
    if (b < N_BUCKETS) atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_ns, (uint64_t)(seconds * 1e9), memory_order_relaxed);
}

void metrics_record_http(int status)
{
    size_t i = N_STATUSES;
    for (size_t k = 0; k < N_STATUSES; k++)
        if (http_statuses[k] == status) i = k;
    atomic_fetch_add_explicit(&m.http[i], 1, memory_order_relaxed);
}

void metrics_record_gas(uint64_t gas_used) { atomic_fetch_add_explicit(&m.gas, gas_used, memory_order_relaxed); }

void metrics_inflight_add(int delta) { atomic_fetch_add(&m.inflight, delta); }
void metrics_queue_depth_add(int delta) { atomic_fetch_add(&m.queue_depth, delta); }
void metrics_set_draining(bool draining) { atomic_store(&m.draining, draining); }
void metrics_record_handoff(bool over_budget) { atomic_fetch_add(&m.handoffs[over_budget ? 0 : 1], 1); }
void metrics_record_fast_hand_over(bool to_worker) { atomic_fetch_add(&m.fast_hand_overs[to_worker ? 1 : 0], 1); }

/* The limits of README "Limits and security" that count their hits. */
static const char *const limit_names[] = {"max_connections", "max_connections_per_ip", "read_deadline", "client_gone",
                                          "auth_failures", "buffered_bytes", "framing", "other"};
#define N_LIMITS (sizeof limit_names / sizeof limit_names[0])
static _Atomic uint64_t limit_hits[N_LIMITS];

void metrics_record_limit(const char *limit)
{
    size_t i = 0;
    while (i < N_LIMITS - 1 && strcmp(limit_names[i], limit) != 0) i++;
    atomic_fetch_add(&limit_hits[i], 1);
}

static void render_limits(bytebuf *out)
{
    bytebuf_printf(out, "# HELP jitevm_limit_hits_total Requests or connections refused or cut by a hostile-load limit.\n"
                        "# TYPE jitevm_limit_hits_total counter\n");
    for (size_t i = 0; i < N_LIMITS; i++)
        bytebuf_printf(out, "jitevm_limit_hits_total{limit=\"%s\"} %llu\n", limit_names[i],
                       (unsigned long long)atomic_load(&limit_hits[i]));
    bytebuf_printf(out, "# HELP jitevm_log_lines_suppressed_total Warning and error lines dropped by the log's rate limit.\n"
                        "# TYPE jitevm_log_lines_suppressed_total counter\n"
                        "jitevm_log_lines_suppressed_total %llu\n",
                   (unsigned long long)atomic_load((_Atomic uint64_t *)&log_suppressed_total));
}

char *metrics_render(size_t *len)
{
    bytebuf out = {0};
    size_t n_slots = m.n_names + 2;

    bytebuf_printf(&out, "# HELP jitevm_rpc_requests_total JSON-RPC calls answered, by method.\n"
              "# TYPE jitevm_rpc_requests_total counter\n");
    for (size_t i = 0; i < n_slots; i++)
        bytebuf_printf(&out, "jitevm_rpc_requests_total{method=\"%s\"} %llu\n", method_label(i),
            (unsigned long long)atomic_load(&m.methods[i].requests));

    bytebuf_printf(&out, "# HELP jitevm_rpc_errors_total JSON-RPC calls answered with an error, by method and error code.\n"
              "# TYPE jitevm_rpc_errors_total counter\n");
    for (size_t i = 0; i < n_slots; i++)
        for (size_t c = 0; c <= N_CODES; c++) {
            uint64_t v = atomic_load(&m.methods[i].errors[c]);
            if (!v) continue;
            if (c < N_CODES)
                bytebuf_printf(&out, "jitevm_rpc_errors_total{method=\"%s\",code=\"%d\"} %llu\n", method_label(i),
                    error_codes[c], (unsigned long long)v);
            else
                bytebuf_printf(&out, "jitevm_rpc_errors_total{method=\"%s\",code=\"other\"} %llu\n", method_label(i),
                    (unsigned long long)v);
        }

    bytebuf_printf(&out, "# HELP jitevm_rpc_request_duration_seconds Time to answer one JSON-RPC call, by method.\n"
              "# TYPE jitevm_rpc_request_duration_seconds histogram\n");
    for (size_t i = 0; i < n_slots; i++) {
        const method_stats *s = &m.methods[i];
        uint64_t total = atomic_load(&s->requests), cumulative = 0;
        if (!total) continue;
        for (size_t b = 0; b < N_BUCKETS; b++) {
            cumulative += atomic_load(&s->buckets[b]);
            bytebuf_printf(&out, "jitevm_rpc_request_duration_seconds_bucket{method=\"%s\",le=\"%g\"} %llu\n", method_label(i),
                bucket_bounds[b], (unsigned long long)cumulative);
        }
        bytebuf_printf(&out, "jitevm_rpc_request_duration_seconds_bucket{method=\"%s\",le=\"+Inf\"} %llu\n", method_label(i),
            (unsigned long long)total);
        bytebuf_printf(&out, "jitevm_rpc_request_duration_seconds_sum{method=\"%s\"} %.9f\n", method_label(i),
            (double)atomic_load(&s->sum_ns) / 1e9);
        bytebuf_printf(&out, "jitevm_rpc_request_duration_seconds_count{method=\"%s\"} %llu\n", method_label(i),
            (unsigned long long)total);
    }

    render_limits(&out);

    bytebuf_printf(&out, "# HELP jitevm_http_responses_total HTTP responses, by status code.\n"
              "# TYPE jitevm_http_responses_total counter\n");
    for (size_t k = 0; k <= N_STATUSES; k++) {
        uint64_t v = atomic_load(&m.http[k]);
        if (k < N_STATUSES)
            bytebuf_printf(&out, "jitevm_http_responses_total{status=\"%d\"} %llu\n", http_statuses[k], (unsigned long long)v);
        else if (v)
            bytebuf_printf(&out, "jitevm_http_responses_total{status=\"other\"} %llu\n", (unsigned long long)v);
    }

    /* The engine's counts are process-wide: with `serve` that is the service. */
    jit_stats js = jit_get_stats();
    program_store_stats ps = program_store_get_stats();
    bytebuf_printf(&out, "# HELP jitevm_executions_total EVM call frames run, by execution tier (a compiled frame handed to the "
              "interpreter midway counts as compiled).\n"
              "# TYPE jitevm_executions_total counter\n"
              "jitevm_executions_total{tier=\"interpreter\"} %llu\n"
              "jitevm_executions_total{tier=\"compiled\"} %llu\n",
        (unsigned long long)js.frames_interp, (unsigned long long)js.frames_compiled);
    bytebuf_printf(&out, "# HELP jitevm_gas_executed_total Gas used by all EVM executions.\n"
              "# TYPE jitevm_gas_executed_total counter\n"
              "jitevm_gas_executed_total %llu\n",
        (unsigned long long)atomic_load(&m.gas));
    bytebuf_printf(&out, "# HELP jitevm_deopts_total Compiled frames handed to the interpreter midway (an unusual case: out of gas, "
              "a bad jump, a stack limit).\n"
              "# TYPE jitevm_deopts_total counter\n"
              "jitevm_deopts_total %llu\n",
        (unsigned long long)js.deopts);
    bytebuf_printf(&out, "# HELP jitevm_compile_cache_hits_total Compiled programs loaded from the program store instead of compiled.\n"
              "# TYPE jitevm_compile_cache_hits_total counter\n"
              "jitevm_compile_cache_hits_total %llu\n"
              "# HELP jitevm_compile_cache_misses_total Program-store lookups that found nothing usable (then compiled).\n"
              "# TYPE jitevm_compile_cache_misses_total counter\n"
              "jitevm_compile_cache_misses_total %llu\n",
        (unsigned long long)js.store_hits, (unsigned long long)js.store_misses);
    bytebuf_printf(&out, "# HELP jitevm_programs_compiled_total Contracts compiled to native code.\n"
              "# TYPE jitevm_programs_compiled_total counter\n"
              "jitevm_programs_compiled_total %llu\n"
              "# HELP jitevm_compile_failures_total Compilations refused (code too large, long code without jumps, out of memory); those run interpreted.\n"
              "# TYPE jitevm_compile_failures_total counter\n"
              "jitevm_compile_failures_total %llu\n"
              "# HELP jitevm_compile_seconds_total Time spent compiling.\n"
              "# TYPE jitevm_compile_seconds_total counter\n"
              "jitevm_compile_seconds_total %.6f\n"
              "# HELP jitevm_compile_queue Compilations waiting for the background compiler.\n"
              "# TYPE jitevm_compile_queue gauge\n"
              "jitevm_compile_queue %llu\n"
              "# HELP jitevm_compile_queue_full_total Compilations not queued because the queue was full (retried on a later call).\n"
              "# TYPE jitevm_compile_queue_full_total counter\n"
              "jitevm_compile_queue_full_total %llu\n"
              "# HELP jitevm_programs Compiled programs in memory.\n"
              "# TYPE jitevm_programs gauge\n"
              "jitevm_programs %llu\n"
              "# HELP jitevm_program_native_bytes Native code of the compiled programs in memory.\n"
              "# TYPE jitevm_program_native_bytes gauge\n"
              "jitevm_program_native_bytes %llu\n",
        (unsigned long long)js.compiled, (unsigned long long)js.compile_failed, (double)js.compile_ns / 1e9,
        (unsigned long long)js.queued, (unsigned long long)js.queue_full, (unsigned long long)js.programs, (unsigned long long)js.native_bytes);
    bytebuf_printf(&out, "# HELP jitevm_program_store_saves_total Compiled programs written to the database.\n"
              "# TYPE jitevm_program_store_saves_total counter\n"
              "jitevm_program_store_saves_total %llu\n"
              "# HELP jitevm_program_store_save_failures_total Compiled programs that could not be written (still used, not kept).\n"
              "# TYPE jitevm_program_store_save_failures_total counter\n"
              "jitevm_program_store_save_failures_total %llu\n"
              "# HELP jitevm_program_store_rejected_total Stored programs refused because their integrity tag did not verify.\n"
              "# TYPE jitevm_program_store_rejected_total counter\n"
              "jitevm_program_store_rejected_total %llu\n"
              "# HELP jitevm_program_store_not_kept_total Compiled programs of code the database does not hold (state overrides, contracts created in a call): used, not written.\n"
              "# TYPE jitevm_program_store_not_kept_total counter\n"
              "jitevm_program_store_not_kept_total %llu\n",
        (unsigned long long)ps.saved, (unsigned long long)ps.save_failed, (unsigned long long)ps.rejected,
        (unsigned long long)ps.not_kept);
    code_cache_stats cs = code_cache_get_stats();
    bytebuf_printf(&out, "# HELP jitevm_code_analysis_cache_hits_total Interpreter code-analysis cache hits.\n"
              "# TYPE jitevm_code_analysis_cache_hits_total counter\n"
              "jitevm_code_analysis_cache_hits_total %llu\n"
              "# HELP jitevm_code_analysis_cache_misses_total Interpreter code-analysis cache misses.\n"
              "# TYPE jitevm_code_analysis_cache_misses_total counter\n"
              "jitevm_code_analysis_cache_misses_total %llu\n"
              "# HELP jitevm_code_analysis_cache_bytes Bytes held by the code-analysis cache.\n"
              "# TYPE jitevm_code_analysis_cache_bytes gauge\n"
              "jitevm_code_analysis_cache_bytes %llu\n",
        (unsigned long long)cs.hits, (unsigned long long)cs.misses, (unsigned long long)cs.bytes);
    bytebuf_printf(&out, "# HELP jitevm_http_requests_in_flight HTTP requests received and not yet answered.\n"
              "# TYPE jitevm_http_requests_in_flight gauge\n"
              "jitevm_http_requests_in_flight %lld\n"
              "# HELP jitevm_worker_queue_depth Requests waiting for an EVM worker.\n"
              "# TYPE jitevm_worker_queue_depth gauge\n"
              "jitevm_worker_queue_depth %lld\n"
              "# HELP jitevm_draining 1 while shutting down (no new connections accepted).\n"
              "# TYPE jitevm_draining gauge\n"
              "jitevm_draining %d\n"
              "# HELP jitevm_inline_handoffs_total Requests begun on their HTTP thread and run again by a worker: over the "
              "inline budget, or waiting on the upstream (live mode).\n"
              "# TYPE jitevm_inline_handoffs_total counter\n"
              "jitevm_inline_handoffs_total{reason=\"budget\"} %llu\n"
              "jitevm_inline_handoffs_total{reason=\"upstream\"} %llu\n"
              "# HELP jitevm_fast_http_hand_overs_total Connections the fast HTTP path handed to libmicrohttpd: at a "
              "request it does not take (a GET, an admin call, chunked or large, Connection: close, HTTP/1.0), or with a "
              "call that needs a worker.\n"
              "# TYPE jitevm_fast_http_hand_overs_total counter\n"
              "jitevm_fast_http_hand_overs_total{reason=\"request\"} %llu\n"
              "jitevm_fast_http_hand_overs_total{reason=\"worker\"} %llu\n",
        (long long)atomic_load(&m.inflight), (long long)atomic_load(&m.queue_depth), atomic_load(&m.draining),
        (unsigned long long)atomic_load(&m.handoffs[0]), (unsigned long long)atomic_load(&m.handoffs[1]),
        (unsigned long long)atomic_load(&m.fast_hand_overs[0]), (unsigned long long)atomic_load(&m.fast_hand_overs[1]));
    live_metrics_render(&out);
    bytebuf_push(&out, '\0');
    *len = out.len - 1;
    return (char *)out.data;
}
