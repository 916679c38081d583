/* The upstream node: a JSON-RPC client over HTTP(S) with libcurl.
 *
 * What it guarantees: a call either returns the node's result for every
 * request it carried, or fails as a whole with a one-line reason that names
 * the upstream by its public part only (scheme, host and port: a URL's
 * user:password, path and query may hold credentials or API keys and are
 * never logged or put in a message). Transport failures (no connection, a
 * timeout, HTTP 429 or 5xx) are retried with exponential backoff; a
 * JSON-RPC error object or a malformed answer is not (asking again would get
 * the same). At most `max_in_flight` HTTP requests run at once across all
 * threads; others wait their turn. Thread-safe: one upstream is shared by
 * every worker. Counters (requests, errors, seconds) are kept for metrics,
 * and whether the node is reachable (for /health): a request that got no
 * usable HTTP answer after its retries marks it down until one does; the
 * change is logged once each way, not each failed request. */
#ifndef JITEVM_UPSTREAM_H
#define JITEVM_UPSTREAM_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct upstream upstream;

typedef struct {
    char msg[384];
} upstream_error;

typedef struct {
    unsigned timeout_ms;    /* per HTTP request, connect included (default 10000) */
    unsigned retries;       /* after the first attempt (default 2) */
    unsigned backoff_ms;    /* before the first retry, doubled each time (default 100) */
    unsigned max_in_flight; /* HTTP requests at once (default UPSTREAM_MAX_IN_FLIGHT) */
} upstream_options;
#define UPSTREAM_MAX_IN_FLIGHT 16

/* NULL with err set when the URL is not http(s)://host... */
upstream *upstream_new(const char *url, const upstream_options *o, upstream_error *err);
void upstream_free(upstream *u);
/* "http://127.0.0.1:8545": what messages and logs may show. */
const char *upstream_name(const upstream *u);

/* One request; *result is a new reference (the caller decrefs). `params`
 * is borrowed. */
bool upstream_call(upstream *u, const char *method, json_t *params, json_t **result, upstream_error *err);

/* n requests in one HTTP round trip (a JSON-RPC batch); results[i] answers
 * methods[i] (new references). All or nothing: on failure no result is set. */
bool upstream_batch(upstream *u, size_t n, const char *const *methods, json_t *const *params, json_t **results,
                    upstream_error *err);

/* As upstream_batch, but a request i with optional[i] that gets a JSON-RPC
 * error leaves results[i] NULL instead of failing the batch (a request
 * carried along whose failure only costs its answer). */
bool upstream_batch_optional(upstream *u, size_t n, const char *const *methods, json_t *const *params,
                             const bool *optional, json_t **results, upstream_error *err);

/* One request passed through: *response is the node's whole response
 * object (a result or an error object, new reference). False only when no
 * JSON-RPC response came (transport failure, not JSON). */
bool upstream_forward(upstream *u, const char *method, json_t *params, json_t **response, upstream_error *err);

/* On the calling thread from now on: with `flag` set, a request is not sent
 * (the thread must not wait on the network: an HTTP polling thread, whose
 * every connection would wait too); *flag is set to 1 (the caller's abort
 * flag: it runs the request again where waiting is allowed) and the call
 * fails at once, counted and logged as nothing. NULL: requests are sent. */
void upstream_defer_on_this_thread(atomic_int *flag);

typedef struct {
    uint64_t requests;      /* HTTP requests sent (retries included) */
    uint64_t calls;         /* JSON-RPC requests carried */
    uint64_t errors;        /* calls or batches that failed */
    double seconds;         /* total HTTP time */
    bool down;              /* the last request got no HTTP answer (after its retries) */
    double down_seconds;    /* since the first such request */
    char down_reason[sizeof(upstream_error)]; /* that request's error */
} upstream_stats;
upstream_stats upstream_get_stats(const upstream *u);

#endif
