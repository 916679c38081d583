/* The upstream client against a real HTTP server on a loopback port
 * (libmicrohttpd, in this process): what it shows of a URL, batches
 * matched by id, JSON-RPC errors not retried, HTTP 503 retried with
 * backoff, a dead port failing after its retries, a forwarded request's
 * response passed through whole, the bound on requests in flight held
 * under eight threads, and no Expect: 100-continue on a large body. */
#include <check.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testlib.h"
#include "upstream.h"

/* ---- the server: answers each request of a batch with its id echoed,
 * result "0x" + method name length; "fail_*" methods get a JSON-RPC error;
 * the first `unavailable` requests get HTTP 503; each request takes
 * `delay_ms`; the most requests seen at once is kept. */
static atomic_int unavailable, in_handler, max_in_handler, delay_ms, hits, expects;

typedef struct {
    char *body;
    size_t len;
} request_body;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **req_cls)
{
    (void)cls, (void)url, (void)method, (void)version;
    request_body *rb = *req_cls;
    if (!rb) {
        *req_cls = calloc(1, sizeof *rb);
        if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect")) atomic_fetch_add(&expects, 1);
        return MHD_YES;
    }
    if (*size) {
        rb->body = realloc(rb->body, rb->len + *size + 1);
        memcpy(rb->body + rb->len, data, *size);
        rb->len += *size;
        rb->body[rb->len] = '\0';
        *size = 0;
        return MHD_YES;
    }
    atomic_fetch_add(&hits, 1);
    int now = atomic_fetch_add(&in_handler, 1) + 1;
    for (int seen = atomic_load(&max_in_handler); now > seen && !atomic_compare_exchange_weak(&max_in_handler, &seen, now);) {
    }
    if (atomic_load(&delay_ms)) {
        struct timespec ts = {0, atomic_load(&delay_ms) * 1000000L};
        nanosleep(&ts, NULL);
    }
    atomic_fetch_sub(&in_handler, 1);
    char out[4096];
    unsigned status = MHD_HTTP_OK;
    if (atomic_fetch_sub(&unavailable, 1) > 0) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        snprintf(out, sizeof out, "busy");
    } else {
        /* Requests are {"jsonrpc","id","method","params"}; answer each, in
         * reverse order for batches (ids must match them up). */
        const char *p = rb->body ? rb->body : "";
        bool batch = *p == '[';
        long ids[16];
        char methods[16][64];
        int n = 0;
        for (const char *q = p; n < 16 && (q = strstr(q, "\"id\":")); q += 5) {
            ids[n] = strtol(q + 5, NULL, 10);
            const char *m = strstr(q, "\"method\":\"");
            size_t len = m ? strcspn(m + 10, "\"") : 0;
            snprintf(methods[n], sizeof methods[n], "%.*s", (int)len, m ? m + 10 : "");
            n++;
        }
        size_t o = 0;
        if (batch) out[o++] = '[';
        for (int i = n - 1; i >= 0; i--) {
            if (strncmp(methods[i], "fail_", 5) == 0)
                o += (size_t)snprintf(out + o, sizeof out - o,
                                      "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"error\":{\"code\":-32601,\"message\":\"no %s\"}}%s",
                                      ids[i], methods[i], i ? "," : "");
            else
                o += (size_t)snprintf(out + o, sizeof out - o, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"result\":\"0x%zx\"}%s",
                                      ids[i], strlen(methods[i]), i ? "," : "");
        }
        if (batch) out[o++] = ']';
        out[o] = '\0';
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(out), out, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls, (void)c, (void)t;
    request_body *rb = *req_cls;
    if (rb) free(rb->body);
    free(rb);
}

static struct MHD_Daemon *server;
static char url[128];

static void start_server(void)
{
    atomic_store(&unavailable, 0);
    atomic_store(&max_in_handler, 0);
    atomic_store(&delay_ms, 0);
    atomic_store(&hits, 0);
    atomic_store(&expects, 0);
    server = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
                              on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
    ck_assert(server != NULL);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(server, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(url, sizeof url, "http://user:secret@127.0.0.1:%u/path/secret?key=secret", info->port);
}

START_TEST(names_hide_credentials)
{
    upstream_error err;
    upstream *u = upstream_new("https://me:pw@node.example:8443/v3/KEY?apikey=K", NULL, &err);
    ck_assert(u != NULL);
    ck_assert_str_eq(upstream_name(u), "https://node.example:8443");
    upstream_free(u);
    ck_assert(upstream_new("ftp://node.example/", NULL, &err) == NULL);
    ck_assert(upstream_new("node.example:8545", NULL, &err) == NULL);
    ck_assert(upstream_new("http://", NULL, &err) == NULL);
}
END_TEST

START_TEST(batches_errors_and_retries)
{
    start_server();
    upstream_error err;
    upstream_options o = {.retries = 2, .backoff_ms = 20, .timeout_ms = 2000};
    upstream *u = upstream_new(url, &o, &err);
    ck_assert(u != NULL);
    ck_assert(strstr(upstream_name(u), "secret") == NULL);

    const char *methods[3] = {"a", "bbb", "cc"};
    json_t *params[3] = {json_array(), json_array(), json_array()}, *results[3];
    ck_assert_msg(upstream_batch(u, 3, methods, params, results, &err), "%s", err.msg);
    ck_assert_str_eq(json_string_value(results[0]), "0x1");
    ck_assert_str_eq(json_string_value(results[1]), "0x3");
    ck_assert_str_eq(json_string_value(results[2]), "0x2");
    for (int i = 0; i < 3; i++) json_decref(results[i]);
    ck_assert_int_eq(atomic_load(&hits), 1); /* one round trip */

    /* A JSON-RPC error fails the whole batch, is named, and is not retried. */
    methods[1] = "fail_this";
    ck_assert(!upstream_batch(u, 3, methods, params, results, &err));
    ck_assert_msg(strstr(err.msg, "fail_this: error -32601: no fail_this") != NULL, "%s", err.msg);
    ck_assert(strstr(err.msg, "secret") == NULL);
    ck_assert_int_eq(atomic_load(&hits), 2);
    ck_assert(!upstream_get_stats(u).down); /* an error object is an answer: the node is up */

    /* HTTP 503 twice, then an answer: three attempts, success. */
    atomic_store(&unavailable, 2);
    json_t *r;
    ck_assert_msg(upstream_call(u, "x", params[0], &r, &err), "%s", err.msg);
    json_decref(r);
    ck_assert_int_eq(atomic_load(&hits), 5);
    /* Three times: the retries run out. */
    atomic_store(&unavailable, 3);
    ck_assert(!upstream_call(u, "x", params[0], &r, &err));
    ck_assert_msg(strstr(err.msg, "HTTP status 503 (after 3 attempts)") != NULL, "%s", err.msg);
    upstream_stats st = upstream_get_stats(u);
    ck_assert_uint_eq(st.requests, 8);
    ck_assert_uint_eq(st.errors, 2);
    /* No usable answer after the retries: down, with the reason, until
     * the next answer. */
    ck_assert(st.down);
    ck_assert_msg(strstr(st.down_reason, "HTTP status 503 (after 3 attempts)") != NULL, "%s", st.down_reason);
    ck_assert(st.down_seconds >= 0);
    ck_assert_msg(upstream_call(u, "x", params[0], &r, &err), "%s", err.msg);
    json_decref(r);
    ck_assert(!upstream_get_stats(u).down);
    for (int i = 0; i < 3; i++) json_decref(params[i]);
    upstream_free(u);
    MHD_stop_daemon(server);

    /* Nobody listening: connection refused after the retries. */
    u = upstream_new(url, &o, &err);
    ck_assert(!upstream_call(u, "x", NULL, &r, &err));
    ck_assert_msg(strstr(err.msg, "Couldn't connect to server (after 3 attempts)") != NULL, "%s", err.msg);
    ck_assert(strstr(err.msg, "secret") == NULL);
    st = upstream_get_stats(u);
    ck_assert(st.down && strstr(st.down_reason, "Couldn't connect") && !strstr(st.down_reason, "secret"));
    upstream_free(u);
}
END_TEST

/* A forwarded request gets the node's whole response: its result, or its
 * error object as the node wrote it (not an upstream failure). */
START_TEST(forward_passes_the_response_through)
{
    start_server();
    upstream_error err;
    upstream_options o = {.retries = 1, .backoff_ms = 20, .timeout_ms = 2000};
    upstream *u = upstream_new(url, &o, &err);
    json_t *params = json_array(), *resp = NULL;
    ck_assert_msg(upstream_forward(u, "eth_getLogs", params, &resp, &err), "%s", err.msg);
    ck_assert_str_eq(json_string_value(json_object_get(resp, "result")), "0xb");
    json_decref(resp);
    ck_assert_msg(upstream_forward(u, "fail_forward", params, &resp, &err), "%s", err.msg);
    const json_t *e = json_object_get(resp, "error");
    ck_assert_int_eq(json_integer_value(json_object_get(e, "code")), -32601);
    ck_assert_str_eq(json_string_value(json_object_get(e, "message")), "no fail_forward");
    json_decref(resp);
    ck_assert_uint_eq(upstream_get_stats(u).errors, 0);
    /* No response at all is a failure, named without the credentials. */
    atomic_store(&unavailable, 5);
    ck_assert(!upstream_forward(u, "eth_getLogs", params, &resp, &err));
    ck_assert(resp == NULL);
    ck_assert_msg(strstr(err.msg, "HTTP status 503 (after 2 attempts)") != NULL, "%s", err.msg);
    ck_assert(strstr(err.msg, "secret") == NULL);
    json_decref(params);
    upstream_free(u);
    MHD_stop_daemon(server);
}
END_TEST

static upstream *shared;

static void *call_once(void *arg)
{
    (void)arg;
    upstream_error err;
    json_t *r = NULL;
    bool ok = upstream_call(shared, "m", NULL, &r, &err);
    json_decref(r);
    return ok ? (void *)1 : NULL;
}

START_TEST(in_flight_is_bounded)
{
    start_server();
    atomic_store(&delay_ms, 50);
    upstream_error err;
    upstream_options o = {.max_in_flight = 2, .timeout_ms = 5000};
    shared = upstream_new(url, &o, &err);
    pthread_t t[8];
    for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, call_once, NULL);
    for (int i = 0; i < 8; i++) {
        void *ok;
        pthread_join(t[i], &ok);
        ck_assert(ok != NULL);
    }
    ck_assert_int_eq(atomic_load(&hits), 8);
    ck_assert_int_le(atomic_load(&max_in_handler), 2);
    ck_assert_int_eq(atomic_load(&max_in_handler), 2); /* and the bound was reached */
    upstream_free(shared);
    MHD_stop_daemon(server);
}
END_TEST

/* A request carried along (optional) that gets a JSON-RPC error leaves its
 * result NULL and the batch stands; a required one still fails it. */
START_TEST(an_optional_request_may_fail_alone)
{
    start_server();
    upstream_error err;
    upstream_options o = {.retries = 0, .timeout_ms = 2000};
    upstream *u = upstream_new(url, &o, &err);
    ck_assert(u != NULL);
    const char *methods[3] = {"a", "fail_access_list", "cc"};
    json_t *params[3] = {json_array(), json_array(), json_array()}, *results[3] = {NULL, NULL, NULL};
    const bool optional[3] = {false, true, false};
    ck_assert_msg(upstream_batch_optional(u, 3, methods, params, optional, results, &err), "%s", err.msg);
    ck_assert_str_eq(json_string_value(results[0]), "0x1");
    ck_assert(results[1] == NULL);
    ck_assert_str_eq(json_string_value(results[2]), "0x2");
    json_decref(results[0]);
    json_decref(results[2]);
    ck_assert_uint_eq(upstream_get_stats(u).errors, 0);
    /* Alone in its request (no batch array) as well. */
    ck_assert_msg(upstream_batch_optional(u, 1, methods + 1, params + 1, optional + 1, results, &err), "%s", err.msg);
    ck_assert(results[0] == NULL);
    /* A required request's error fails the batch, named; no result is left set. */
    const bool only_first[3] = {true, false, false};
    methods[1] = "fail_required";
    results[0] = results[2] = NULL;
    ck_assert(!upstream_batch_optional(u, 3, methods, params, only_first, results, &err));
    ck_assert_msg(strstr(err.msg, "fail_required: error -32601") != NULL, "%s", err.msg);
    ck_assert(results[0] == NULL && results[2] == NULL);
    for (int i = 0; i < 3; i++) json_decref(params[i]);
    upstream_free(u);
    MHD_stop_daemon(server);
}
END_TEST

/* A large body goes without "Expect: 100-continue" (libcurl asks it past
 * 1 MB and then waits for the server's go-ahead: one more round trip, up
 * to a second with a server that does not answer it). */
START_TEST(a_large_body_waits_for_no_go_ahead)
{
    start_server();
    upstream_error err;
    upstream_options o = {.retries = 0, .timeout_ms = 5000};
    upstream *u = upstream_new(url, &o, &err);
    ck_assert(u != NULL);
    size_t len = 2u << 20;
    char *big = malloc(len + 1);
    memset(big, 'a', len);
    big[len] = '\0';
    json_t *params = json_pack("[s]", big), *result = NULL;
    free(big);
    ck_assert_msg(upstream_call(u, "abc", params, &result, &err), "%s", err.msg);
    ck_assert_str_eq(json_string_value(result), "0x3");
    ck_assert_int_eq(atomic_load(&expects), 0);
    json_decref(result);
    json_decref(params);
    upstream_free(u);
    MHD_stop_daemon(server);
}
END_TEST

int main(void)
{
    return TEST_RUN("upstream",
        TEST_GROUP("client", 60, names_hide_credentials, batches_errors_and_retries, forward_passes_the_response_through,
                   in_flight_is_bounded, an_optional_request_may_fail_alone, a_large_body_waits_for_no_go_ahead));
}
