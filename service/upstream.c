#include "upstream.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "log.h"

struct upstream {
    char *url;      /* the whole URL, credentials included: only given to libcurl */
    char name[256]; /* scheme://host[:port] */
    upstream_options o;
    pthread_mutex_t lock;
    pthread_cond_t slot_free;
    unsigned in_flight;
    /* Idle libcurl handles (each keeps its connection alive between
     * requests): at most max_in_flight exist, one per request in flight. */
    CURL **idle;
    unsigned n_idle;
    _Atomic uint64_t requests, calls, errors, micros;
    _Atomic uint64_t next_id;
    /* Reachability, for /health: down from the first request that got no
     * HTTP answer (after its retries) until the next that got one; guarded
     * by lock. A JSON-RPC error is an answer: the node is up. */
    bool down;
    uint64_t down_since_ns;
    char down_reason[sizeof(upstream_error)];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* upstream_defer_on_this_thread's flag. */
static _Thread_local atomic_int *defer_flag;

void upstream_defer_on_this_thread(atomic_int *flag) { defer_flag = flag; }

static bool fail(upstream_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(upstream_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return false;
}

/* scheme://host[:port] of url, without user:password@, path or query. */
static bool public_name(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    if (!p) return false;
    size_t scheme_len = (size_t)(p - url);
    if (!((scheme_len == 4 && strncmp(url, "http", 4) == 0) || (scheme_len == 5 && strncmp(url, "https", 5) == 0)))
        return false;
    const char *host = p + 3, *end = host + strcspn(host, "/?#");
    for (const char *q = host; q < end; q++)
        if (*q == '@') host = q + 1;
    if (host == end) return false;
    int n = snprintf(out, cap, "%.*s://%.*s", (int)scheme_len, url, (int)(end - host), host);
    return n > 0 && (size_t)n < cap;
}

upstream *upstream_new(const char *url, const upstream_options *o, upstream_error *err)
{
    upstream *u = calloc(1, sizeof *u);
    if (!u) {
        fail(err, "out of memory");
        return NULL;
    }
    if (!public_name(url, u->name, sizeof u->name)) {
        free(u);
        fail(err, "the upstream URL must be http://HOST[:PORT][/PATH] or https://...");
        return NULL;
    }
    pthread_once(&curl_once, curl_init_once);
    u->url = strdup(url);
    upstream_options d = {.timeout_ms = 10000, .retries = 2, .backoff_ms = 100, .max_in_flight = UPSTREAM_MAX_IN_FLIGHT};
    if (o) {
        if (o->timeout_ms) d.timeout_ms = o->timeout_ms;
        d.retries = o->retries;
        if (o->backoff_ms) d.backoff_ms = o->backoff_ms;
        if (o->max_in_flight) d.max_in_flight = o->max_in_flight;
    }
    u->o = d;
    u->idle = calloc(d.max_in_flight, sizeof *u->idle);
    pthread_mutex_init(&u->lock, NULL);
    pthread_cond_init(&u->slot_free, NULL);
    return u;
}

void upstream_free(upstream *u)
{
    if (!u) return;
    pthread_mutex_destroy(&u->lock);
    pthread_cond_destroy(&u->slot_free);
    for (unsigned i = 0; i < u->n_idle; i++) curl_easy_cleanup(u->idle[i]);
    free(u->idle);
    free(u->url);
    free(u);
}

const char *upstream_name(const upstream *u) { return u->name; }

upstream_stats upstream_get_stats(const upstream *u)
{
    upstream_stats s = {
        .requests = atomic_load(&((upstream *)u)->requests),
        .calls = atomic_load(&((upstream *)u)->calls),
        .errors = atomic_load(&((upstream *)u)->errors),
        .seconds = (double)atomic_load(&((upstream *)u)->micros) / 1e6,
    };
    pthread_mutex_lock(&((upstream *)u)->lock);
    s.down = u->down;
    if (u->down) {
        s.down_seconds = (double)(monotonic_ns() - u->down_since_ns) / 1e9;
        snprintf(s.down_reason, sizeof s.down_reason, "%s", u->down_reason);
    }
    pthread_mutex_unlock(&((upstream *)u)->lock);
    return s;
}

/* A request got an HTTP answer (answered) or none after its retries: the
 * change of state is logged once, not every failed poll. *logged: a
 * failure is logged here (as the upstream going down) or was already. */
static void note_reachability(upstream *u, bool answered, const upstream_error *err, bool *logged)
{
    pthread_mutex_lock(&u->lock);
    bool was_down = u->down;
    double down_s = was_down ? (double)(monotonic_ns() - u->down_since_ns) / 1e9 : 0;
    if (!answered && !was_down) {
        u->down = true;
        u->down_since_ns = monotonic_ns();
        snprintf(u->down_reason, sizeof u->down_reason, "%s", err->msg);
    } else if (answered) {
        u->down = false;
    }
    pthread_mutex_unlock(&u->lock);
    *logged = !answered;
    if (answered && was_down) log_notice("upstream %s: reachable again after %.1f s", u->name, down_s);
    else if (!answered && !was_down) log_warn("upstream unreachable: %s", err->msg);
}

/* ------------------------------------------------------------- HTTP */

typedef struct {
    char *data;
    size_t len, cap;
} body;

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    body *b = ctx;
    size_t add = size * n;
    if (b->len + add + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096);
        while (cap < b->len + add + 1) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* Waits for a free slot; returns its handle (an idle one, or a new one;
 * NULL when libcurl cannot make one: the slot is given back). */
static CURL *take_slot(upstream *u)
{
    pthread_mutex_lock(&u->lock);
    while (u->in_flight >= u->o.max_in_flight) pthread_cond_wait(&u->slot_free, &u->lock);
    u->in_flight++;
    CURL *h = u->n_idle ? u->idle[--u->n_idle] : NULL;
    pthread_mutex_unlock(&u->lock);
    if (!h && !(h = curl_easy_init())) {
        pthread_mutex_lock(&u->lock);
        u->in_flight--;
        pthread_cond_signal(&u->slot_free);
        pthread_mutex_unlock(&u->lock);
    }
    return h;
}

static void give_slot(upstream *u, CURL *h)
{
    pthread_mutex_lock(&u->lock);
    u->idle[u->n_idle++] = h;
    u->in_flight--;
    pthread_cond_signal(&u->slot_free);
    pthread_mutex_unlock(&u->lock);
}

/* One POST; *retry says whether another attempt may succeed. */
static bool post_once(upstream *u, const char *text, body *out, bool *retry, upstream_error *err)
{
    CURL *h = take_slot(u);
    if (!h) {
        *retry = false;
        return fail(err, "upstream %s: cannot start a libcurl handle", u->name);
    }
    curl_easy_reset(h);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    /* No "Expect: 100-continue" (libcurl's past 1 MB): waiting for the go-ahead
     * costs a round trip, or a second from a node that never sends it. */
    headers = curl_slist_append(headers, "Expect:");
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, u->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)u->o.timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    uint64_t t0 = monotonic_ns();
    CURLcode rc = curl_easy_perform(h);
    atomic_fetch_add(&u->micros, (monotonic_ns() - t0) / 1000);
    atomic_fetch_add(&u->requests, 1);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    give_slot(u, h);
    curl_slist_free_all(headers);
    /* libcurl's messages may quote the URL: only its own short text for
     * the code is used. */
    if (rc != CURLE_OK) {
        *retry = rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR ||
                 rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_COULDNT_RESOLVE_HOST;
        return fail(err, "upstream %s: %s", u->name, curl_easy_strerror(rc));
    }
    if (status != 200) {
        *retry = status == 429 || status >= 500;
        return fail(err, "upstream %s: HTTP status %ld", u->name, status);
    }
    *retry = false;
    return true;
}

/* *quiet: a transport failure, logged by note_reachability (once per
 * outage, not once per poll). */
static bool post(upstream *u, const char *text, body *out, bool *quiet, upstream_error *err)
{
    unsigned wait_ms = u->o.backoff_ms;
    *quiet = false;
    for (unsigned attempt = 0;; attempt++) {
        bool retry = false;
        out->len = 0;
        if (post_once(u, text, out, &retry, err)) {
            note_reachability(u, true, err, quiet);
            return true;
        }
        if (!retry || attempt >= u->o.retries) {
            if (attempt > 0) {
                size_t len = strlen(err->msg);
                snprintf(err->msg + len, sizeof err->msg - len, " (after %u attempts)", attempt + 1);
            }
            /* An HTTP error status is an answer of sorts, but not one a
             * fetch can use: the node counts as down until it answers. */
            note_reachability(u, false, err, quiet);
            return false;
        }
        struct timespec ts = {wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        wait_ms *= 2;
    }
}

/* ------------------------------------------------------- JSON-RPC */

/* Whether this thread may not wait for `method`'s answer: then the
 * caller's flag is raised and err says why. */
static bool deferred(upstream *u, const char *method, upstream_error *err)
{
    if (!defer_flag) return false;
    atomic_store(defer_flag, 1);
    fail(err, "upstream %s: %s: left to a thread that may wait for it", u->name, method);
    return true;
}

static json_t *request(const char *method, json_t *params, uint64_t id)
{
    return json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", (json_int_t)id, "method", method, "params",
                     params ? json_incref(params) : json_array());
}

/* The result of one response object, or an error naming the method. */
static bool take_result(upstream *u, const char *method, json_t *resp, json_t **result, upstream_error *err)
{
    json_t *e = json_object_get(resp, "error");
    if (e && !json_is_null(e)) {
        const char *msg = json_string_value(json_object_get(e, "message"));
        return fail(err, "upstream %s: %s: error %lld: %s", u->name, method,
                    (long long)json_integer_value(json_object_get(e, "code")), msg ? msg : "(no message)");
    }
    json_t *r = json_object_get(resp, "result");
    if (!r) return fail(err, "upstream %s: %s: malformed answer (no result)", u->name, method);
    *result = json_incref(r);
    return true;
}

bool upstream_batch(upstream *u, size_t n, const char *const *methods, json_t *const *params, json_t **results,
                    upstream_error *err)
{
    return upstream_batch_optional(u, n, methods, params, NULL, results, err);
}

bool upstream_batch_optional(upstream *u, size_t n, const char *const *methods, json_t *const *params,
                             const bool *optional, json_t **results, upstream_error *err)
{
    if (deferred(u, methods[0], err)) return false;
    atomic_fetch_add(&u->calls, n);
    uint64_t first = atomic_fetch_add(&u->next_id, n);
    json_t *req = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(req, request(methods[i], params[i], first + i));
    char *text = json_dumps(n == 1 ? json_array_get(req, 0) : req, JSON_COMPACT);
    json_decref(req);
    body b = {0};
    bool quiet = false;
    bool ok = text && post(u, text, &b, &quiet, err);
    free(text);
    json_t *resp = NULL;
    if (ok) {
        json_error_t jerr;
        resp = json_loadb(b.data ? b.data : "", b.len, 0, &jerr);
        if (!resp) ok = fail(err, "upstream %s: malformed answer (not JSON: %s)", u->name, jerr.text);
    }
    free(b.data);
    size_t done = 0;
    if (ok && n == 1) {
        json_t *e = json_is_object(resp) ? json_object_get(resp, "error") : NULL;
        if (optional && optional[0] && e && !json_is_null(e)) results[0] = NULL;
        else
            ok = json_is_object(resp) ? take_result(u, methods[0], resp, &results[0], err)
                                      : fail(err, "upstream %s: malformed answer (not a JSON-RPC response)", u->name);
        done = ok;
    } else if (ok) {
        if (!json_is_array(resp)) {
            /* A node without batches answers one error object. */
            json_t *e = json_object_get(resp, "error");
            const char *msg = e ? json_string_value(json_object_get(e, "message")) : NULL;
            ok = fail(err, "upstream %s: batch refused: %s", u->name, msg ? msg : "malformed answer");
        }
        for (size_t i = 0; ok && i < n; i++) {
            json_t *match = NULL;
            for (size_t k = 0; k < json_array_size(resp) && !match; k++) {
                json_t *r = json_array_get(resp, k);
                if ((uint64_t)json_integer_value(json_object_get(r, "id")) == first + i) match = r;
            }
            json_t *e = match ? json_object_get(match, "error") : NULL;
            if (!match) ok = fail(err, "upstream %s: %s: no answer in the batch", u->name, methods[i]);
            else if (optional && optional[i] && e && !json_is_null(e)) results[i] = NULL;
            else ok = take_result(u, methods[i], match, &results[i], err);
            if (ok) done++;
        }
    }
    json_decref(resp);
    if (!ok) {
        for (size_t i = 0; i < done; i++) {
            json_decref(results[i]);
            results[i] = NULL;
        }
        atomic_fetch_add(&u->errors, 1);
        if (!quiet) log_warn("upstream: %s", err->msg);
    }
    return ok;
}

bool upstream_call(upstream *u, const char *method, json_t *params, json_t **result, upstream_error *err)
{
    return upstream_batch(u, 1, &method, &params, result, err);
}

bool upstream_forward(upstream *u, const char *method, json_t *params, json_t **response, upstream_error *err)
{
    *response = NULL;
    if (deferred(u, method, err)) return false;
    atomic_fetch_add(&u->calls, 1);
    json_t *req = request(method, params, atomic_fetch_add(&u->next_id, 1));
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    body b = {0};
    bool quiet = false;
    bool ok = text && post(u, text, &b, &quiet, err);
    free(text);
    *response = NULL;
    if (ok) {
        json_error_t jerr;
        *response = json_loadb(b.data ? b.data : "", b.len, 0, &jerr);
        if (!*response) ok = fail(err, "upstream %s: %s: malformed answer (not JSON: %s)", u->name, method, jerr.text);
        else if (!json_is_object(*response) ||
                 (!json_object_get(*response, "result") && !json_is_object(json_object_get(*response, "error")))) {
            json_decref(*response);
            *response = NULL;
            ok = fail(err, "upstream %s: %s: malformed answer (not a JSON-RPC response)", u->name, method);
        }
    }
    free(b.data);
    if (!ok) {
        atomic_fetch_add(&u->errors, 1);
        if (!quiet) log_warn("upstream: %s", err->msg);
    }
    return ok;
}
