/* Prometheus metrics: counters and histograms updated with atomics from any
 * thread, rendered in the text exposition format for GET /metrics. */
#ifndef JITEVM_METRICS_H
#define JITEVM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* `names` are the JSON-RPC methods counted by name (the array must outlive
 * the metrics); calls to other names count as "unknown", and envelope errors
 * that belong to no method (parse error, invalid request) as "none". */
void metrics_init(const char *const *names, size_t n_names);
void metrics_free(void);
/* Index for a method name: its position in `names`, or the "unknown" slot. */
int metrics_method_index(const char *name);
int metrics_none_index(void);

/* One JSON-RPC call answered: its latency and its error code (0: success). */
void metrics_record_call(int method_index, double seconds, int error_code);
void metrics_record_http(int status);
/* The gas of one EVM execution (eth_call, each estimateGas step, ...).
 * Executions by tier are the engine's own counts (jit_get_stats). */
void metrics_record_gas(uint64_t gas_used);
void metrics_inflight_add(int delta);
void metrics_queue_depth_add(int delta);
void metrics_set_draining(bool draining);
/* A request begun on its HTTP thread went to a worker: it spent the inline
 * budget, or it had to wait on the upstream. */
void metrics_record_handoff(bool over_budget);
/* A connection the fast HTTP path handed to libmicrohttpd: at a request it
 * does not take, or with a call that needs a worker. */
void metrics_record_fast_hand_over(bool to_worker);

/* A hostile-load limit was hit (jitevm_limit_hits_total{limit=...}); `limit`
 * is one of the names in metrics.c's limit table (others count as "other"). */
void metrics_record_limit(const char *limit);

/* The exposition text; malloc'd, *len set. */
char *metrics_render(size_t *len);

#endif
