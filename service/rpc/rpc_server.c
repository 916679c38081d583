/* The HTTP side of `jitevm serve`.
 *
 * Every connection starts on the fast HTTP path (http_front.c), which
 * answers plain JSON-RPC POSTs itself with answer_here, below, and hands
 * the connection to libmicrohttpd at the first request it does not take.
 * libmicrohttpd runs its own polling threads (epoll, a thread pool). Requests
 * that need no state (eth_chainId, errors) are answered there. A read-only
 * request that needs the state first runs there too, under a short budget
 * (--inline-budget): most calls take microseconds, and handing them to
 * another thread and back costs more than the call. A per-thread POSIX timer
 * sets the polling thread's abort flag when the budget is spent; the partial
 * answer is then thrown away and the request goes to a bounded pool of EVM
 * workers (running it again is harmless: it writes nothing), with its
 * connection suspended meanwhile, so a long call holds up the other
 * connections of its polling thread for at most the budget. Each executing
 * thread has its own SQLite connection and a large stack (the interpreter
 * recurses once per call frame, 1024 deep). A watchdog thread enforces the
 * per-call timeout by setting the worker's abort flag, which the
 * interpreter polls. */
#include "rpc/rpc_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <sys/stat.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/format.h"
#include "config.h"
#include "live.h"
#include "vm/code_cache.h"
#include "vm/evm.h"
#include "jit/jit.h"
#include "log.h"
#include "metrics.h"
#include "program_store.h"
#include "rpc/http_front.h"
#include "rpc/http_gate.h"
#include "rpc/rpc.h"
#include "rpc/rpc_fast.h"
#include "rpc/rpc_json.h"
#include "store.h"
#include "upstream.h"

/* Bodies up to this size are parsed on the polling thread (to answer
 * stateless requests there); larger ones are parsed by a worker. */
#define INLINE_PARSE_LIMIT (256 * 1024)

#if defined(__SANITIZE_ADDRESS__)
#define WORKER_STACK_SIZE ((size_t)256 << 20) /* ASan frames are several times larger */
#else
#define WORKER_STACK_SIZE ((size_t)64 << 20)
#endif

typedef struct server server;

/* What a polling thread needs to run calls itself (made on first use). */
typedef struct inline_runner {
    rpc_ctx ctx;
    timer_t timer;
    /* Held by its polling thread while it uses ctx.conn (SQLite opened
     * NOMUTEX: one thread at a time); the guard takes it with trylock to end
     * a parked snapshot its idle thread would otherwise keep. */
    pthread_mutex_t use_lock;
    struct inline_runner *next;
} inline_runner;

/* The signal of the inline budget's timer, and what its handler reads and
 * sets: the polling thread's own (the timer signals the thread it belongs
 * to). The timer ticks every budget of the thread's CPU time; a run that
 * is still the same at two ticks in a row has had at least one budget and
 * is aborted. (Re-arming a timer per run costs two system calls, about as
 * much as a short call.) */
#define INLINE_BUDGET_SIGNAL (SIGRTMIN + 3)
static __thread atomic_int inline_abort;
static __thread volatile sig_atomic_t inline_running;
static __thread volatile unsigned inline_run, inline_run_seen;
/* The budget's timer raised inline_abort (else a wait on the upstream did). */
static __thread volatile sig_atomic_t inline_over_budget;
static __thread inline_runner *inline_self;
static __thread bool inline_unavailable;

typedef struct http_request http_request;

typedef struct {
    server *srv;
    pthread_t thread;
    rpc_ctx ctx;
    atomic_int abort_flag;
    uint64_t deadline_ns; /* 0: no call running; guarded by srv->watch_lock */
    http_request *req;    /* the request it runs; guarded by srv->queue_lock */
} worker;

/* One open connection (libmicrohttpd's socket context), from accept to
 * close: its client's address, for the per-address limit, and the time by
 * which its current request's head or body must have arrived (0: none; a
 * request being answered has the request timeout instead). The guard
 * thread shuts down the socket of a connection past its deadline, and
 * libmicrohttpd then closes it as any connection the client dropped. */
typedef struct conn_slot {
    struct conn_slot *prev, *next; /* guarded by srv->conns_lock */
    MHD_socket fd;
    http_gate *gate; /* the framing check of its bytes (http_gate.c) */
    char client[INET6_ADDRSTRLEN];
    _Atomic uint64_t deadline_ns;
    /* Handed over by the fast HTTP path with a request that needs a worker
     * (it ran out of the inline budget there): no second inline attempt. */
    bool next_to_worker;
    /* The last request, completed and emptied (its body buffer kept when
     * small), for the next request on this kept-alive connection: two
     * allocations less per request. Only its polling thread touches it. */
    http_request *spare_req;
} conn_slot;

enum { SPARE_BODY_MAX = 4096 };

enum route { ROUTE_RPC, ROUTE_HEALTH, ROUTE_METRICS, ROUTE_PREFLIGHT, ROUTE_NOT_ALLOWED, ROUTE_NOT_FOUND };

/* One HTTP request, from its headers to its completion. */
struct http_request {
    server *srv;
    conn_slot *slot; /* NULL when the connection had no slot */
    struct MHD_Connection *conn;
    enum route route;
    bytebuf body;
    bool too_large;
    bool over_buffer_budget; /* all connections together hold --max-buffered in bodies */
    size_t buffered;         /* body bytes counted against the budget */
    bool authorized, admin_rejected;
    json_t *root; /* parsed body, when parsed on the polling thread */
    /* Filled by the worker before the connection is resumed. */
    char *answer;
    size_t answer_len;
    bool answered;
    /* A request handed to the workers (guarded by srv->queue_lock): its
     * answer goes out through read_answer, which suspends the connection
     * until the worker is done; a request whose connection completed first
     * (the client went away) is orphaned and freed by its worker. */
    bool in_worker, suspended, orphaned;
    atomic_bool cancelled;
    bool straight_to_worker; /* tried inline on the fast HTTP path already */
    uint64_t deadline_ns; /* the whole request's (0: none) */
    char client[INET6_ADDRSTRLEN]; /* the peer's address ("" when unknown) */
};

struct server {
    rpc_config *cfg;
    store *db;
    chain_config chain;
    struct MHD_Daemon *daemon;
    http_front *front; /* the fast HTTP path (NULL: --no-fast-http) */
    /* The listening socket and the thread that accepts on it (start_daemon). */
    int listen_fd, acceptor_wake;
    uint16_t listen_port;
    pthread_t acceptor;
    bool acceptor_started;
    _Atomic bool acceptor_stop;
    uint8_t token_hash[crypto_generichash_BYTES];

    worker *workers;
    int n_workers;
    pthread_mutex_t queue_lock;
    pthread_cond_t queue_cond;
    http_request **queue; /* in arrival order; workers take the oldest of the client with the fewest running */
    int queue_count, queue_cap;
    bool stopping;

    pthread_t watchdog;
    pthread_mutex_t watch_lock;
    pthread_cond_t watch_cond;
    bool watch_stop;
    uint64_t watch_wake_ns; /* when the watchdog wakes next; 0: only when signalled */
    _Atomic bool abort_all; /* shutdown took too long: every running call aborts */

    rpc_ctx inline_ctx; /* what requests answered on the HTTP threads start from */
    pthread_mutex_t runners_lock;
    inline_runner *runners; /* one per polling thread that ran a call */
    /* Connections opened at start for the inline runners, so that a polling
     * thread's first call does not prepare a connection's statements (about
     * a millisecond) while its client waits. Under runners_lock. */
    store_conn **spare_conns;
    int n_spare_conns;
    _Atomic int inflight;
    _Atomic bool draining;

    char token_file[PATH_MAX]; /* where a generated admin token was written ("" : none) */
    pthread_mutex_t auth_lock;
    struct auth_failures {
        char client[INET6_ADDRSTRLEN];
        uint64_t window_ns; /* the start of its minute */
        unsigned count;
    } auth_failures[256]; /* by a hash of the address; a collision shares a row */
    program_store programs; /* compiled programs kept in the database (not with --engine interp) */
    bool programs_open;

    /* Snapshot switching (SIGHUP): every use of the database (a worker's
     * call, an inline run, making an inline runner) holds the read side;
     * the switch holds the write side while it swaps the connections. */
    pthread_rwlock_t snapshot_lock;
    _Atomic bool switching;
    _Atomic unsigned snapshot_generation; /* switches done */
    char program_key[PROGRAM_KEY_HEX_LEN + 1]; /* a given key, for the program store of the next snapshot */
    pthread_mutex_t conns_lock;
    conn_slot *conns; /* every open connection */
    int n_conns;
    pthread_t guard;
    bool guard_started, guard_stop; /* guard_stop: guarded by conns_lock */
    pthread_cond_t guard_cond;
};

/* ------------------------------------------------------------ timeouts */

static void arm_timeout(rpc_ctx *ctx)
{
    worker *w = ctx->owner;
    server *s = w->srv;
    pthread_mutex_lock(&s->watch_lock);
    w->abort_flag = s->abort_all || (ctx->cancelled && atomic_load(ctx->cancelled));
    uint64_t deadline = s->cfg->call_timeout_ms ? monotonic_ns() + s->cfg->call_timeout_ms * 1000000u : 0;
    if (ctx->request_deadline_ns && (!deadline || ctx->request_deadline_ns < deadline))
        deadline = ctx->request_deadline_ns;
    if (deadline) {
        w->deadline_ns = deadline;
        /* The watchdog only needs waking when it would sleep past this
         * deadline; under load it wakes about once per timeout period. */
        if (!s->watch_wake_ns || w->deadline_ns < s->watch_wake_ns) pthread_cond_signal(&s->watch_cond);
    }
    pthread_mutex_unlock(&s->watch_lock);
}

static void disarm_timeout(rpc_ctx *ctx)
{
    worker *w = ctx->owner;
    pthread_mutex_lock(&w->srv->watch_lock);
    w->deadline_ns = 0;
    w->abort_flag = 0;
    pthread_mutex_unlock(&w->srv->watch_lock);
}

static void *watchdog_main(void *arg)
{
    server *s = arg;
    pthread_mutex_lock(&s->watch_lock);
    while (!s->watch_stop) {
        uint64_t now = monotonic_ns(), next = 0;
        for (int i = 0; i < s->n_workers; i++) {
            worker *w = &s->workers[i];
            if (!w->deadline_ns) continue;
            if (w->deadline_ns <= now) {
                w->abort_flag = 1;
                w->deadline_ns = 0;
            } else if (!next || w->deadline_ns < next) {
                next = w->deadline_ns;
            }
        }
        s->watch_wake_ns = next;
        if (!next) {
            pthread_cond_wait(&s->watch_cond, &s->watch_lock);
        } else {
            struct timespec ts = {(time_t)(next / 1000000000u), (long)(next % 1000000000u)};
            pthread_cond_timedwait(&s->watch_cond, &s->watch_lock, &ts);
        }
    }
    pthread_mutex_unlock(&s->watch_lock);
    return NULL;
}

/* ------------------------------------------------------------ responses */

static bool json_content_type(const char *ct) { return ct && http_json_media_type(ct, strlen(ct)); }

static enum MHD_Result queue_with_headers(server *s, struct MHD_Connection *conn, unsigned status,
                                          struct MHD_Response *r, const char *content_type);

/* Queues `body` (malloc'd; freed by libmicrohttpd) with the common headers. */
static enum MHD_Result respond(server *s, struct MHD_Connection *conn, unsigned status, char *body, size_t len,
                               const char *content_type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    enum MHD_Result ret = queue_with_headers(s, conn, status, r, content_type);
    MHD_destroy_response(r);
    return ret;
}

/* Adds the common headers to `r` and queues it (the caller keeps its
 * reference to `r`). */
static enum MHD_Result queue_with_headers(server *s, struct MHD_Connection *conn, unsigned status,
                                          struct MHD_Response *r, const char *content_type)
{
    if (content_type) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    /* /metrics is for the operator's scraper, not for pages in browsers. */
    bool metrics = content_type && strncmp(content_type, "text/plain", 10) == 0;
    if (s->cfg->cors_origin[0] && !metrics) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, s->cfg->cors_origin);
        if (strcmp(s->cfg->cors_origin, "*") != 0) MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
    }
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST, OPTIONS");
    if (atomic_load(&s->draining)) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    metrics_record_http((int)status);
    return ret;
}

static enum MHD_Result respond_json(server *s, struct MHD_Connection *conn, unsigned status, char *body, size_t len)
{
    return respond(s, conn, status, body, len, "application/json");
}

/* An HTTP-level refusal, with a JSON-RPC error body for clients that parse it. */
static enum MHD_Result refuse(server *s, struct MHD_Connection *conn, unsigned status, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum MHD_Result refuse(server *s, struct MHD_Connection *conn, unsigned status, int code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t len;
    char *body = rpc_error_text(code, msg, &len);
    log_warn("http %u: %s", status, msg);
    return respond_json(s, conn, status, body, len);
}

static char *copy_text(const char *text, size_t *len)
{
    *len = strlen(text);
    char *s = xmalloc(*len + 1);
    memcpy(s, text, *len + 1);
    return s;
}

/* ------------------------------------------------------------ the queue */

/* Hands the request to the workers and suspends its connection; false
 * (nothing done) when the queue is full. The connection is suspended under
 * the queue lock so that no worker can resume it before it is suspended. */
static bool enqueue(server *s, http_request *req)
{
    pthread_mutex_lock(&s->queue_lock);
    bool ok = s->queue_count < s->queue_cap;
    if (ok) {
        req->in_worker = true;
        s->queue[s->queue_count++] = req;
        pthread_cond_signal(&s->queue_cond);
        metrics_queue_depth_add(1);
    }
    pthread_mutex_unlock(&s->queue_lock);
    return ok;
}

/* How many workers run a request of `client` (queue_lock held). */
static int running_for(const server *s, const char *client)
{
    int n = 0;
    for (int i = 0; i < s->n_workers; i++)
        if (s->workers[i].req && strcmp(s->workers[i].req->client, client) == 0) n++;
    return n;
}

/* How many of the first `window` queued requests are `client`'s
 * (queue_lock held). */
static int queued_for(const server *s, const char *client, int window)
{
    int n = 0;
    for (int i = 0; i < s->queue_count && i < window; i++) n += strcmp(s->queue[i]->client, client) == 0;
    return n;
}

/* The next request for `w`: of the oldest queued requests, the first of
 * the client with the fewest requests running, then with the fewest
 * waiting, so that a client that floods the queue gets no more than its
 * share of the workers while others wait. (Only the head of the queue is
 * weighed, which bounds the work under the lock.) */
enum { FAIR_CANDIDATES = 32, FAIR_WINDOW = 256 };

static http_request *dequeue(server *s, worker *w)
{
    pthread_mutex_lock(&s->queue_lock);
    w->req = NULL;
    while (!s->queue_count && !s->stopping) pthread_cond_wait(&s->queue_cond, &s->queue_lock);
    http_request *req = NULL;
    if (s->queue_count) {
        int best = 0;
        long best_score = -1;
        for (int i = 0; i < s->queue_count && i < FAIR_CANDIDATES && best_score != 1; i++) {
            const char *client = s->queue[i]->client;
            bool seen = false;
            for (int k = 0; k < i && !seen; k++) seen = strcmp(s->queue[k]->client, client) == 0;
            if (seen) continue; /* its oldest request was weighed already */
            long score = (long)running_for(s, client) * (FAIR_WINDOW + 1) + queued_for(s, client, FAIR_WINDOW);
            if (best_score < 0 || score < best_score) best = i, best_score = score;
        }
        req = s->queue[best];
        memmove(&s->queue[best], &s->queue[best + 1], (size_t)(s->queue_count - best - 1) * sizeof *s->queue);
        s->queue_count--;
        w->req = req;
        metrics_queue_depth_add(-1);
    }
    pthread_mutex_unlock(&s->queue_lock);
    return req;
}

/* The body of a worker's answer, read by libmicrohttpd: the response is
 * queued (200, chunked) as soon as the request goes to a worker, so that
 * libmicrohttpd never waits for it in a state where it reads the socket
 * (reading the end of a client that half-closed its side would close the
 * connection and lose the answer). Until the worker is done the reader
 * suspends the connection; the worker resumes it. */
static ssize_t read_answer(void *cls, uint64_t pos, char *buf, size_t max)
{
    http_request *req = cls;
    server *s = req->srv;
    pthread_mutex_lock(&s->queue_lock);
    bool answered = req->answered;
    if (!answered) {
        MHD_suspend_connection(req->conn);
        req->suspended = true;
    }
    pthread_mutex_unlock(&s->queue_lock);
    if (!answered) return 0;
    if (pos >= req->answer_len) return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = req->answer_len - (size_t)pos < max ? req->answer_len - (size_t)pos : max;
    memcpy(buf, req->answer + pos, n);
    return (ssize_t)n;
}

/* Marks the worker's request answered and hands it back to its
 * connection, or frees it when its connection is gone. */
static void finish_worker_request(server *s, worker *w, http_request *req)
{
    pthread_mutex_lock(&s->queue_lock);
    w->req = NULL;
    req->answered = true;
    req->in_worker = false;
    bool orphaned = req->orphaned;
    if (req->suspended) {
        req->suspended = false;
        MHD_resume_connection(req->conn);
    }
    pthread_mutex_unlock(&s->queue_lock);
    if (orphaned) {
        bytebuf_free(&req->body);
        json_decref(req->root);
        free(req->answer);
        free(req);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    server *s = w->srv;
    for (;;) {
        http_request *req = dequeue(s, w);
        if (!req) break; /* stopping and the queue is empty */
        w->ctx.authorized = req->authorized;
        w->ctx.admin_rejected = req->admin_rejected;
        w->ctx.request_deadline_ns = req->deadline_ns;
        w->ctx.cancelled = &req->cancelled;
        size_t len = 0;
        char *answer;
        pthread_rwlock_rdlock(&s->snapshot_lock);
        if (atomic_load(&req->cancelled)) {
            answer = NULL; /* nobody to answer */
        } else if (req->root) {
            answer = rpc_dispatch(&w->ctx, req->root, &len);
            json_decref(req->root);
            req->root = NULL;
        } else {
            answer = rpc_dispatch_text(&w->ctx, (const char *)req->body.data, req->body.len, &len);
        }
        pthread_rwlock_unlock(&s->snapshot_lock);
        req->answer = answer;
        req->answer_len = len;
        w->ctx.cancelled = NULL;
        /* After this the request belongs to the polling thread again. */
        finish_worker_request(s, w, req);
    }
    return NULL;
}

/* ------------------------------------------------------- inline runs */

static void on_inline_budget(int sig)
{
    (void)sig;
    if (!inline_running) return;
    if (inline_run_seen == inline_run) {
        inline_over_budget = 1;
        atomic_store_explicit(&inline_abort, 1, memory_order_relaxed);
    }
    inline_run_seen = inline_run;
}

/* A runner's connection keeps its snapshots, and never waits on the
 * upstream: a fetch raises the runner's abort flag instead, and the
 * request goes to a worker (a wait here would hold every connection of
 * the polling thread, and the CPU-time budget does not see it). */
static void runner_conn_setup(inline_runner *r)
{
    store_keep_snapshots(r->ctx.conn, true);
    store_defer_fetches(r->ctx.conn, r->ctx.abort_flag);
}

/* This polling thread's runner; NULL when one cannot be made (the
 * requests then go to the workers). */
static inline_runner *inline_runner_get(server *s)
{
    if (inline_self || inline_unavailable) return inline_self;
    inline_unavailable = true;
    inline_runner *r = xcalloc(1, sizeof *r);
    /* The budget is CPU time: a thread that waits for a CPU is not running
     * a long call. (The kernel checks CPU timers at its ticks, so a run may
     * go on for up to two budgets plus a tick.) */
    struct sigevent ev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = INLINE_BUDGET_SIGNAL};
    ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    clockid_t cpu_clock;
    if (pthread_getcpuclockid(pthread_self(), &cpu_clock) != 0 || timer_create(cpu_clock, &ev, &r->timer) != 0) {
        log_warn("no inline runs on this HTTP thread: timer_create: %s", strerror(errno));
        free(r);
        return NULL;
    }
    store_error se;
    r->ctx = s->inline_ctx;
    r->ctx.abort_flag = &inline_abort;
    r->ctx.discard_on_abort = true;
    r->ctx.shutting_down = &s->abort_all;
    pthread_mutex_lock(&s->runners_lock);
    r->ctx.conn = s->n_spare_conns ? s->spare_conns[--s->n_spare_conns] : NULL;
    pthread_mutex_unlock(&s->runners_lock);
    if (!r->ctx.conn) r->ctx.conn = store_connect(s->db, &se);
    if (r->ctx.conn) runner_conn_setup(r);
    if (!r->ctx.conn) {
        log_warn("no inline runs on this HTTP thread: %s", se.msg);
        timer_delete(r->timer);
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->use_lock, NULL);
    uint64_t budget_ns = s->cfg->inline_budget_ms * 1000000u;
    struct timespec period = {(time_t)(budget_ns / 1000000000u), (long)(budget_ns % 1000000000u)};
    struct itimerspec every = {.it_interval = period, .it_value = period};
    timer_settime(r->timer, 0, &every, NULL);
    pthread_mutex_lock(&s->runners_lock);
    r->next = s->runners;
    s->runners = r;
    pthread_mutex_unlock(&s->runners_lock);
    inline_unavailable = false;
    inline_self = r;
    return r;
}

/* Runs `root` (or `fast`, read from the text) on this polling thread
 * within the budget. Returns the answer (as rpc_dispatch) with *done set,
 * or *done false when the budget ran out (nothing to send: the request
 * goes to a worker) or, *fell_back set, when `fast` must go the tree's way
 * (nothing was run). */
static char *run_on_runner(server *s, inline_runner *r, http_request *req, json_t *root, const rpc_fast_request *fast,
                           size_t *len, bool *done, bool *fell_back)
{
    *fell_back = false;
    r->ctx.authorized = req->authorized;
    r->ctx.admin_rejected = req->admin_rejected;
    atomic_store(&inline_abort, atomic_load(&s->abort_all) ? 1 : 0);
    inline_over_budget = 0;
    inline_run++;
    atomic_signal_fence(memory_order_seq_cst);
    inline_running = 1;
    atomic_signal_fence(memory_order_seq_cst);
    upstream_defer_on_this_thread(&inline_abort);
    char *answer = fast ? rpc_dispatch_fast(&r->ctx, fast, len, fell_back) : rpc_dispatch(&r->ctx, root, len);
    upstream_defer_on_this_thread(NULL);
    atomic_signal_fence(memory_order_seq_cst);
    inline_running = 0;
    atomic_signal_fence(memory_order_seq_cst);
    /* A budget that ran out just after the answer was complete also sends
     * the request to a worker: rare, and harmless. */
    *done = !atomic_load(&inline_abort) && !*fell_back;
    if (!*done && !*fell_back) {
        free(answer);
        answer = NULL;
        if (!atomic_load(&s->abort_all)) metrics_record_handoff(inline_over_budget);
    }
    return answer;
}

/* run_on_runner on this polling thread's runner, holding what a run holds:
 * the read side of the snapshot switch's lock and the runner's use lock
 * (the guard's trylock). *done false, nothing run, when the thread has no
 * runner (the request then goes to a worker). */
static char *run_inline(server *s, http_request *req, json_t *root, const rpc_fast_request *fast, size_t *len,
                        bool *done, bool *fell_back)
{
    *done = *fell_back = false;
    char *answer = NULL;
    pthread_rwlock_rdlock(&s->snapshot_lock);
    inline_runner *r = inline_runner_get(s);
    if (r) {
        pthread_mutex_lock(&r->use_lock);
        answer = run_on_runner(s, r, req, root, fast, len, done, fell_back);
        pthread_mutex_unlock(&r->use_lock);
    }
    pthread_rwlock_unlock(&s->snapshot_lock);
    return answer;
}

/* What a request that needs no database is answered with: the settings and
 * the chain, and the request's authorization. */
static rpc_ctx stateless_ctx(const server *s, const http_request *req)
{
    rpc_ctx ctx = s->inline_ctx;
    ctx.authorized = req->authorized;
    ctx.admin_rejected = req->admin_rejected;
    return ctx;
}

/* Opens up to n spare connections for the inline runners; fewer is no
 * error (a runner then connects when it is made). */
static void spare_conns_open(server *s, int n)
{
    store_conn **conns = xcalloc((size_t)n + 1, sizeof *conns);
    int k = 0;
    store_error se;
    while (k < n && (conns[k] = store_connect(s->db, &se)) != NULL) k++;
    pthread_mutex_lock(&s->runners_lock);
    s->spare_conns = conns;
    s->n_spare_conns = k;
    pthread_mutex_unlock(&s->runners_lock);
}

/* Closes the spare connections (at exit, and before a snapshot switch: a
 * runner made later connects to the new database). Under runners_lock. */
static void spare_conns_close_locked(server *s)
{
    while (s->n_spare_conns) store_disconnect(s->spare_conns[--s->n_spare_conns]);
}

static void inline_runners_free(server *s)
{
    pthread_mutex_lock(&s->runners_lock);
    spare_conns_close_locked(s);
    free(s->spare_conns);
    s->spare_conns = NULL;
    pthread_mutex_unlock(&s->runners_lock);
    while (s->runners) {
        inline_runner *r = s->runners;
        s->runners = r->next;
        timer_delete(r->timer);
        store_disconnect(r->ctx.conn);
        pthread_mutex_destroy(&r->use_lock);
        free(r);
    }
}

/* ------------------------------------------------------------ requests */

static bool token_matches(server *s, const char *header)
{
    static const char prefix[] = "Bearer ";
    if (!header || strncasecmp(header, prefix, sizeof prefix - 1) != 0) return false;
    const char *token = header + sizeof prefix - 1;
    /* Hashing both sides first makes the comparison independent of the
     * given token's length as well as its content. */
    uint8_t h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, (const uint8_t *)token, strlen(token), NULL, 0);
    return sodium_memcmp(h, s->token_hash, sizeof h) == 0;
}

/* /health, for load balancers: 200 while serving, 503 while draining (a
 * SIGTERM: take it out of rotation), and what the replica has open. */
static char *health_body(server *s, unsigned *status, size_t *len)
{
    bool draining = atomic_load(&s->draining), lagging;
    bytebuf live_json = {0}; /* live mode: the head's lag (the check proxyd/eRPC make) */
    live_health(&live_json, s->cfg->health_max_lag, &lagging);
    *status = draining || lagging ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK;
    char *body = str_printf(len, "{\"status\":\"%s\",\"draining\":%s,\"database\":\"%s\",\"snapshot\":%u%.*s}",
                           draining ? "draining" : lagging ? "lagging" : "ok", draining ? "true" : "false",
                           atomic_load(&s->switching) ? "switching" : "open", atomic_load(&s->snapshot_generation),
                           (int)live_json.len, live_json.data ? (const char *)live_json.data : "");
    bytebuf_free(&live_json);
    return body;
}

static enum route route_of(const char *method, const char *url)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (strcmp(method, "OPTIONS") == 0) return ROUTE_PREFLIGHT;
    if (strcmp(url, "/health") == 0) return get ? ROUTE_HEALTH : ROUTE_NOT_ALLOWED;
    if (strcmp(url, "/metrics") == 0) return get ? ROUTE_METRICS : ROUTE_NOT_ALLOWED;
    if (strcmp(url, "/") != 0) return ROUTE_NOT_FOUND;
    return strcmp(method, "POST") == 0 ? ROUTE_RPC : ROUTE_NOT_ALLOWED;
}

/* A body of one of the common shapes (rpc_fast.c) answered without a
 * jansson tree, as answer_rpc would answer it: its answer (never NULL
 * then: these requests have ids), or NULL when it goes the tree's way;
 * *handed_off: it ran out of the inline budget (or would wait on the
 * upstream) and goes to a worker without a second inline attempt. */
static char *try_fast(server *s, http_request *req, size_t *len, bool *handed_off)
{
    rpc_fast_request fast;
    if (!rpc_fast_parse((const char *)req->body.data, req->body.len, &fast)) return NULL;
    char *answer = NULL;
    bool done = false, fell_back = false;
    if (fast.method->flags & RPC_INLINE) {
        rpc_ctx ctx = stateless_ctx(s, req);
        answer = rpc_dispatch_fast(&ctx, &fast, len, &fell_back);
        done = !fell_back;
    } else if (s->cfg->inline_budget_ms && !atomic_load(&s->draining)) {
        answer = run_inline(s, req, NULL, &fast, len, &done, &fell_back);
        /* (Also when the thread has no runner: the tree's attempt would
         * find none either.) */
        *handed_off = !done && !fell_back;
    }
    if (done && !answer) answer = copy_text("", len); /* as answer_rpc: an answer that could not be encoded */
    return done ? answer : NULL;
}

/* The answer to `req` on this thread: requests that need no state, and
 * read-only ones within the inline budget ("" when the body holds only
 * notifications). NULL: it needs a worker; req->root then holds its parse
 * when it was parsed here. */
static char *answer_here(server *s, http_request *req, size_t *len)
{
    if (req->body.len > INLINE_PARSE_LIMIT) return NULL;
    bool handed_off = req->straight_to_worker; /* a fast request ran out of budget: straight to a worker */
    char *answer = handed_off ? NULL : try_fast(s, req, len, &handed_off);
    if (answer) return answer;
    json_t *root = rpc_json_parse((const char *)req->body.data, req->body.len);
    if (!root) return rpc_error_text(RPC_PARSE_ERROR, "parse error", len);
    bool is_inline, read_only;
    rpc_body_classify(root, &is_inline, &read_only);
    if (is_inline) {
        rpc_ctx ctx = stateless_ctx(s, req);
        answer = rpc_dispatch(&ctx, root, len);
        json_decref(root);
        return answer ? answer : copy_text("", len);
    }
    if (s->cfg->inline_budget_ms && !atomic_load(&s->draining) && read_only && !handed_off) {
        bool done, fell_back;
        answer = run_inline(s, req, root, NULL, len, &done, &fell_back);
        if (done) {
            json_decref(root);
            return answer ? answer : copy_text("", len);
        }
    }
    req->root = root;
    return NULL;
}

static enum MHD_Result answer_rpc(server *s, http_request *req)
{
    struct MHD_Connection *conn = req->conn;
    if (req->over_buffer_budget)
        return refuse(s, conn, MHD_HTTP_SERVICE_UNAVAILABLE, RPC_LIMIT_EXCEEDED,
                      "server busy: request bodies in memory at the limit (%zu bytes)", s->cfg->max_buffered);
    if (req->too_large)
        return refuse(s, conn, MHD_HTTP_CONTENT_TOO_LARGE, RPC_INVALID_REQUEST, "content length too large (>%zu)",
                      s->cfg->max_body);
    size_t len;
    char *answer = answer_here(s, req, &len);
    if (answer) return respond_json(s, conn, MHD_HTTP_OK, answer, len);
    if (!enqueue(s, req)) {
        json_decref(req->root);
        req->root = NULL;
        /* A 503 tells load balancers to back off; the body says why. */
        return refuse(s, conn, MHD_HTTP_SERVICE_UNAVAILABLE, RPC_LIMIT_EXCEEDED,
                      "server busy: %d requests are waiting for a worker", s->queue_cap);
    }
    /* From here a worker may answer (and resume) at any time. */
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, read_answer, req, NULL);
    if (!r) return MHD_NO; /* the connection closes; on_completed orphans the request */
    enum MHD_Result ret = queue_with_headers(s, conn, MHD_HTTP_OK, r, "application/json");
    MHD_destroy_response(r);
    return ret;
}

/* A generated admin token is never logged: it goes into DB.admin-token,
 * readable by its owner only, or (when that cannot be written) once to
 * stderr, apart from the log. */
static void save_generated_token(server *s)
{
    const rpc_config *cfg = s->cfg;
    if (!cfg->admin || !cfg->admin_token_generated) return;
    char path[PATH_MAX];
    int fd = -1;
    if ((size_t)snprintf(path, sizeof path, "%s.admin-token", cfg->db_path) < sizeof path)
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0 && fchmod(fd, 0600) == 0) {
        size_t n = strlen(cfg->admin_token);
        bool ok = write(fd, cfg->admin_token, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
        close(fd);
        if (ok) {
            snprintf(s->token_file, sizeof s->token_file, "%s", path);
            return;
        }
    } else if (fd >= 0) {
        close(fd);
    }
    fprintf(stderr, "admin bearer token (generated; shown once, never logged): %s\n", cfg->admin_token);
}

/* Failed admin authentications: an address with AUTH_FAILURES_PER_MINUTE
 * in its current minute is refused (HTTP 429) until the minute is over. */
#define AUTH_FAILURES_PER_MINUTE 10

static struct auth_failures *auth_row(server *s, const char *client)
{
    size_t h = 5381;
    for (const char *p = client; *p; p++) h = h * 33 + (unsigned char)*p;
    struct auth_failures *r = &s->auth_failures[h % (sizeof s->auth_failures / sizeof s->auth_failures[0])];
    uint64_t now = monotonic_ns();
    if (strcmp(r->client, client) != 0 || now - r->window_ns > 60000000000u) {
        snprintf(r->client, sizeof r->client, "%s", client);
        r->window_ns = now;
        r->count = 0;
    }
    return r;
}

static bool auth_blocked(server *s, const char *client)
{
    pthread_mutex_lock(&s->auth_lock);
    bool blocked = auth_row(s, client)->count >= AUTH_FAILURES_PER_MINUTE;
    pthread_mutex_unlock(&s->auth_lock);
    return blocked;
}

static void auth_failed(server *s, const char *client)
{
    pthread_mutex_lock(&s->auth_lock);
    auth_row(s, client)->count++;
    pthread_mutex_unlock(&s->auth_lock);
    metrics_record_limit("auth_failures");
}

/* ------------------------------------------------------ hostile clients */

/* The request headers on_request reads, collected in one pass over
 * libmicrohttpd's list (a lookup per header walks the list each time),
 * with a count of the framing headers: a refusal of the request's framing
 * before its body is read, for the forms that two HTTP parsers (a proxy's
 * and ours) could read differently or that announce an absurd length. The
 * framing gate (http_gate.c) refuses these before libmicrohttpd sees the
 * head; this is the second line. */
typedef struct {
    const char *content_length, *content_type, *authorization;
    int content_lengths, transfer_encodings;
    bool bad_length, bad_encoding;
} head_fields;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    head_fields *f = cls;
    switch (key[0] | 0x20) {
    case 'c':
        if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
            f->content_lengths++;
            f->content_length = value;
            size_t n = value ? strlen(value) : 0;
            /* Digits only (no sign, no spaces), and at most 18 of them (no overflow). */
            if (n == 0 || n > 18 || strspn(value, "0123456789") != n) f->bad_length = true;
        } else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_TYPE) == 0 && !f->content_type) {
            f->content_type = value;
        }
        break;
    case 't':
        if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
            f->transfer_encodings++;
            if (!value || strcasecmp(value, "chunked") != 0) f->bad_encoding = true;
        }
        break;
    case 'a':
        if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0 && !f->authorization) f->authorization = value;
        break;
    }
    return MHD_YES;
}

static const char *framing_error(const head_fields *f)
{
    if (f->bad_length) return "bad request: invalid Content-Length";
    if (f->content_lengths > 1) return "bad request: more than one Content-Length";
    if (f->transfer_encodings && f->content_lengths) return "bad request: Transfer-Encoding with Content-Length";
    if (f->transfer_encodings > 1 || f->bad_encoding) return "bad request: unsupported Transfer-Encoding (only chunked)";
    return NULL;
}

/* The peer's address as text ("" when unknown). */
static void client_text(const struct sockaddr *addr, char out[INET6_ADDRSTRLEN])
{
    out[0] = '\0';
    if (addr && addr->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, out, INET6_ADDRSTRLEN);
    else if (addr && addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, out, INET6_ADDRSTRLEN);
}

/* When the head of a connection's first request must be in. */
static uint64_t head_deadline_ns(const server *s) { return monotonic_ns() + s->cfg->head_timeout_ms * 1000000u; }

/* When a body of `length` bytes, whose head just arrived, must be in: the
 * body timeout plus its length at the minimum rate. */
static uint64_t body_deadline_ns(const server *s, uint64_t length)
{
    uint64_t ms = s->cfg->body_timeout_ms + length * 1000u / s->cfg->min_body_rate;
    return monotonic_ns() + ms * 1000000u;
}

/* When the next head of a kept-alive connection whose request was just
 * answered must be in: the idle timeout plus the head timeout. */
static uint64_t idle_deadline_ns(const server *s)
{
    return monotonic_ns() + (s->cfg->idle_timeout_s * 1000u + s->cfg->head_timeout_ms) * 1000000u;
}

/* The head of a request arrived: its body now gets the body timeout plus
 * its length (announced, else the body limit) at the minimum rate. */
static void request_started(server *s, http_request *req, const char *cl)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    req->slot = ci ? ci->socket_context : NULL;
    if (!req->slot) return;
    memcpy(req->client, req->slot->client, sizeof req->client);
    uint64_t length = s->cfg->max_body;
    if (cl && strspn(cl, "0123456789") == strlen(cl) && strlen(cl) <= 18) {
        uint64_t n = strtoull(cl, NULL, 10);
        if (n < length) length = n;
    }
    req->slot->deadline_ns = body_deadline_ns(s, length);
}

/* The whole request arrived: no more read deadline; the request timeout
 * runs from here, queue time included. */
static void body_complete(server *s, http_request *req)
{
    if (req->slot) req->slot->deadline_ns = 0;
    if (s->cfg->request_timeout_ms && !req->deadline_ns)
        req->deadline_ns = monotonic_ns() + s->cfg->request_timeout_ms * 1000000u;
}

/* on_completed of a request a worker still holds (its client went away):
 * the worker is told to stop and frees the request. True when orphaned. */
static bool orphan_if_in_worker(server *s, http_request *req)
{
    pthread_mutex_lock(&s->queue_lock);
    bool in_worker = req->in_worker;
    if (in_worker) {
        req->orphaned = true;
        atomic_store(&req->cancelled, true);
        for (int i = 0; i < s->n_workers; i++)
            if (s->workers[i].req == req) s->workers[i].abort_flag = 1;
    }
    pthread_mutex_unlock(&s->queue_lock);
    return in_worker;
}

/* Whether the client of a suspended request dropped its connection (a
 * half-closed one has not: it still reads). The response head went out
 * before the suspension, so a closed peer has answered it with a reset. */
static bool client_gone(const http_request *req)
{
    if (!req->slot || req->slot->fd == MHD_INVALID_SOCKET) return false;
    struct pollfd p = {.fd = req->slot->fd, .events = 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* Every running request whose client dropped its connection is aborted. */
static void cancel_abandoned(server *s)
{
    pthread_mutex_lock(&s->queue_lock);
    for (int i = 0; i < s->n_workers; i++) {
        http_request *req = s->workers[i].req;
        if (req && req->suspended && !req->orphaned && !atomic_load(&req->cancelled) && client_gone(req)) {
            atomic_store(&req->cancelled, true);
            s->workers[i].abort_flag = 1;
            metrics_record_limit("client_gone");
        }
    }
    pthread_mutex_unlock(&s->queue_lock);
}

/* The accept policy (the acceptor applies it to every connection before
 * libmicrohttpd sees it): over the connection limit, or the limit of one
 * address, a connection is closed at once (not left waiting in the
 * kernel's backlog). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addrlen;
    server *s = cls;
    char client[INET6_ADDRSTRLEN];
    client_text(addr, client);
    pthread_mutex_lock(&s->conns_lock);
    int total = s->n_conns, same = 0;
    for (conn_slot *c = s->conns; c && same < s->cfg->max_connections_per_ip; c = c->next) same += strcmp(c->client, client) == 0;
    pthread_mutex_unlock(&s->conns_lock);
    if (total >= s->cfg->max_connections) {
        metrics_record_limit("max_connections");
        return MHD_NO;
    }
    if (same >= s->cfg->max_connections_per_ip) {
        metrics_record_limit("max_connections_per_ip");
        return MHD_NO;
    }
    return MHD_YES;
}

/* The record of a new connection (socket `fd`, gated from here on), in the
 * list the guard and the accept policy read. */
static conn_slot *slot_open(server *s, int fd, const struct sockaddr *addr)
{
    conn_slot *c = xcalloc(1, sizeof *c);
    c->fd = fd;
    client_text(addr, c->client);
    c->deadline_ns = head_deadline_ns(s);
    c->gate = c->fd == MHD_INVALID_SOCKET ? NULL : http_gate_open(c->fd, s->cfg->max_body);
    if (c->gate) http_gate_set_user(c->gate, c);
    pthread_mutex_lock(&s->conns_lock);
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    pthread_mutex_unlock(&s->conns_lock);
    return c;
}

/* Before its socket closes. */
static void slot_close(server *s, conn_slot *c)
{
    pthread_mutex_lock(&s->conns_lock);
    if (c->prev) c->prev->next = c->next;
    else s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->n_conns--;
    pthread_mutex_unlock(&s->conns_lock);
    http_gate_close(c->gate);
    if (c->spare_req) bytebuf_free(&c->spare_req->body);
    free(c->spare_req);
    free(c);
    /* This thread's kept read snapshot is ended when one of its
     * connections closes, so that a thread gone idle does not hold one
     * (which keeps the WAL from being restarted) past --idle-timeout. */
    if (inline_self) {
        pthread_rwlock_rdlock(&s->snapshot_lock);
        pthread_mutex_lock(&inline_self->use_lock);
        store_snapshot_release(inline_self->ctx.conn);
        pthread_mutex_unlock(&inline_self->use_lock);
        pthread_rwlock_unlock(&s->snapshot_lock);
    }
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        int sock = fd ? fd->connect_fd : MHD_INVALID_SOCKET;
        /* Handed over by the fast HTTP path: its record (and gate) carry on. */
        conn_slot *c = sock != MHD_INVALID_SOCKET ? http_gate_user_of(sock) : NULL;
        if (c) {
            c->deadline_ns = head_deadline_ns(s);
        } else {
            const union MHD_ConnectionInfo *addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
            c = slot_open(s, sock, addr ? addr->client_addr : NULL);
            if (!c->gate) shutdown(c->fd, SHUT_RDWR); /* never served unchecked */
        }
        *socket_context = c;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        slot_close(s, *socket_context);
        *socket_context = NULL;
    }
}

/* ------------------------------------------------------- fast HTTP path */

/* The request the fast path answers on this thread (its body stays in the
 * connection's buffer). */
static __thread http_request front_req;

static char *front_answer(void *ctx, void *conn, const uint8_t *body, size_t len, size_t *answer_len, bool *to_worker)
{
    server *s = ctx;
    http_request *req = &front_req;
    memset(req, 0, sizeof *req);
    req->srv = s;
    req->slot = conn;
    req->route = ROUTE_RPC;
    req->body.data = (uint8_t *)body;
    req->body.len = len;
    atomic_fetch_add(&s->inflight, 1);
    metrics_inflight_add(1);
    char *answer = answer_here(s, req, answer_len);
    if (answer) {
        metrics_record_http(MHD_HTTP_OK);
    } else {
        json_decref(req->root);
        *to_worker = true;
    }
    atomic_fetch_sub(&s->inflight, 1);
    metrics_inflight_add(-1);
    return answer;
}

static void front_event(void *ctx, void *conn, enum http_front_event e, uint64_t length)
{
    server *s = ctx;
    conn_slot *slot = conn;
    slot->deadline_ns = e == HTTP_FRONT_BODY_PENDING ? body_deadline_ns(s, length) : idle_deadline_ns(s);
}

static void front_hand_off(void *ctx, void *conn, int fd, const struct sockaddr *addr, socklen_t addr_len, bool to_worker)
{
    server *s = ctx;
    conn_slot *slot = conn;
    slot->next_to_worker = to_worker;
    /* No deadline until libmicrohttpd takes it up (on_connection): a
     * connection it fails to take it closes without a word, and the guard
     * must not then shut down whatever socket comes to have that number. */
    slot->deadline_ns = 0;
    metrics_record_fast_hand_over(to_worker);
    if (MHD_add_connection(s->daemon, fd, addr, addr_len) != MHD_YES) slot_close(s, slot); /* it closed fd */
}

static void front_closed(void *ctx, void *conn) { slot_close(ctx, conn); }

/* Ends the parked snapshots that can no longer be reused (older than
 * STORE_SNAPSHOT_MAX_MS, or a commit came since): a thread whose kept-alive
 * connections sit idle would otherwise hold its read transaction, and with
 * it the WAL unrestarted, until a request or a close. Only a runner its
 * thread is not using (trylock: the guard never waits for a call), and not
 * during a switch (which replaces the connections). */
static void release_idle_snapshots(server *s)
{
    if (pthread_rwlock_tryrdlock(&s->snapshot_lock) != 0) return;
    pthread_mutex_lock(&s->runners_lock);
    for (inline_runner *r = s->runners; r; r = r->next) {
        if (pthread_mutex_trylock(&r->use_lock) != 0) continue;
        if (r->ctx.conn && store_snapshot_parked(r->ctx.conn)) store_snapshot_settle(r->ctx.conn);
        pthread_mutex_unlock(&r->use_lock);
    }
    pthread_mutex_unlock(&s->runners_lock);
    pthread_rwlock_unlock(&s->snapshot_lock);
}

/* The guard: every 100 ms, shuts down the sockets of connections past
 * their head or body deadline, or the end of their lingering after a
 * refusal (libmicrohttpd then closes them), aborts the running requests
 * whose clients went away, and ends the parked read snapshots of idle HTTP
 * threads. */
static void *guard_main(void *arg)
{
    server *s = arg;
    pthread_mutex_lock(&s->conns_lock);
    while (!s->guard_stop) {
        uint64_t now = monotonic_ns();
        for (conn_slot *c = s->conns; c; c = c->next) {
            uint64_t d = c->deadline_ns, linger = http_gate_linger_deadline(c->gate);
            if (linger && (!d || linger < d)) d = linger;
            if (d && d <= now && c->fd != MHD_INVALID_SOCKET) {
                c->deadline_ns = 0;
                shutdown(c->fd, SHUT_RDWR);
                metrics_record_limit("read_deadline");
            }
        }
        pthread_mutex_unlock(&s->conns_lock);
        cancel_abandoned(s);
        release_idle_snapshots(s);
        pthread_mutex_lock(&s->conns_lock);
        uint64_t wake = monotonic_ns() + 100000000u;
        struct timespec ts = {(time_t)(wake / 1000000000u), (long)(wake % 1000000000u)};
        if (!s->guard_stop) pthread_cond_timedwait(&s->guard_cond, &s->conns_lock, &ts);
    }
    pthread_mutex_unlock(&s->conns_lock);
    return NULL;
}

static bool start_guard(server *s)
{
    pthread_mutex_init(&s->conns_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->guard_cond, &ca);
    pthread_condattr_destroy(&ca);
    s->guard_started = pthread_create(&s->guard, NULL, guard_main, s) == 0;
    if (!s->guard_started) log_error("cannot start the connection guard thread");
    return s->guard_started;
}

static void stop_guard(server *s)
{
    if (!s->guard_started) return;
    pthread_mutex_lock(&s->conns_lock);
    s->guard_stop = true;
    pthread_cond_signal(&s->guard_cond);
    pthread_mutex_unlock(&s->conns_lock);
    pthread_join(s->guard, NULL);
    s->guard_started = false;
}

/* The bytes of request bodies held in memory, all connections together,
 * against --max-buffered: partial uploads cannot add up to
 * max-connections x max-body. */
static _Atomic size_t buffered_total;

static bool buffer_reserve(server *s, http_request *req, size_t n)
{
    size_t now = atomic_fetch_add(&buffered_total, n) + n;
    req->buffered += n;
    if (now <= s->cfg->max_buffered) return true;
    metrics_record_limit("buffered_bytes");
    return false;
}

static void buffer_release(server *s, http_request *req)
{
    (void)s;
    atomic_fetch_sub(&buffered_total, req->buffered);
    req->buffered = 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    server *s = cls;
    http_request *req = *con_cls;
    if (!req) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        conn_slot *slot = ci ? ci->socket_context : NULL;
        if (slot && slot->spare_req) {
            req = slot->spare_req;
            slot->spare_req = NULL;
            bytebuf body = req->body;
            memset(req, 0, sizeof *req);
            req->body = body;
        } else {
            req = xcalloc(1, sizeof *req);
        }
        req->srv = s;
        req->conn = conn;
        req->route = route_of(method, url);
        if (slot && slot->next_to_worker) {
            req->straight_to_worker = true;
            slot->next_to_worker = false;
        }
        *con_cls = req;
        atomic_fetch_add(&s->inflight, 1);
        metrics_inflight_add(1);
        head_fields head = {0};
        MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &head);
        request_started(s, req, head.content_length);
        const char *framing = framing_error(&head);
        if (framing) return refuse(s, conn, MHD_HTTP_BAD_REQUEST, RPC_INVALID_REQUEST, "%s", framing);
        if (req->route == ROUTE_RPC) {
            const char *auth = head.authorization;
            if (auth && s->cfg->admin) {
                if (auth_blocked(s, req->client))
                    return refuse(s, conn, MHD_HTTP_TOO_MANY_REQUESTS, RPC_UNAUTHORIZED,
                                  "too many failed authentications from this address; retry in a minute");
                req->authorized = token_matches(s, auth);
                req->admin_rejected = !req->authorized;
                if (req->admin_rejected) auth_failed(s, req->client);
            }
            if (!json_content_type(head.content_type))
                return refuse(s, conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, RPC_INVALID_REQUEST,
                              "invalid content type, only application/json is supported");
            const char *cl = head.content_length;
            if (cl) {
                /* The framing gate let through 1 to 18 digits (strtoull,
                 * locale-aware, cost more than the rest of this check). */
                unsigned long long n = 0;
                const char *q = cl;
                while (*q >= '0' && *q <= '9') n = n * 10 + (unsigned)(*q++ - '0');
                if (*q || q == cl || q - cl > 18) n = strtoull(cl, NULL, 10);
                if (n > s->cfg->max_body)
                    return refuse(s, conn, MHD_HTTP_CONTENT_TOO_LARGE, RPC_INVALID_REQUEST,
                                  "content length too large (%llu>%zu)", n, s->cfg->max_body);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (req->route == ROUTE_RPC && !req->too_large && !req->over_buffer_budget) {
            if (!buffer_reserve(s, req, *upload_data_size)) {
                req->over_buffer_budget = true;
                buffer_release(s, req);
                bytebuf_free(&req->body);
            } else if (req->body.len + *upload_data_size > s->cfg->max_body) {
                req->too_large = true;
                bytebuf_free(&req->body);
            } else {
                bytebuf_append(&req->body, upload_data, *upload_data_size);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    body_complete(s, req);
    size_t len;
    switch (req->route) {
    case ROUTE_RPC:
        return answer_rpc(s, req);
    case ROUTE_HEALTH: {
        unsigned status;
        char *body = health_body(s, &status, &len);
        return respond_json(s, conn, status, body, len);
    }
    case ROUTE_METRICS: {
        char *body = metrics_render(&len);
        return respond(s, conn, MHD_HTTP_OK, body, len, "text/plain; version=0.0.4; charset=utf-8");
    }
    case ROUTE_PREFLIGHT: {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (s->cfg->cors_origin[0]) {
            MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, s->cfg->cors_origin);
            MHD_add_response_header(r, "Access-Control-Allow-Methods", "POST, GET, OPTIONS");
            MHD_add_response_header(r, "Access-Control-Allow-Headers", "Content-Type, Authorization");
            MHD_add_response_header(r, "Access-Control-Max-Age", "600");
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST, GET, OPTIONS");
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, r);
        MHD_destroy_response(r);
        metrics_record_http(MHD_HTTP_NO_CONTENT);
        return ret;
    }
    case ROUTE_NOT_ALLOWED:
        return refuse(s, conn, MHD_HTTP_METHOD_NOT_ALLOWED, RPC_INVALID_REQUEST, "method not allowed");
    case ROUTE_NOT_FOUND:
    default: return refuse(s, conn, MHD_HTTP_NOT_FOUND, RPC_INVALID_REQUEST, "not found: %.100s", url);
    }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    server *s = cls;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci && ci->socket_context) http_gate_request_done(((conn_slot *)ci->socket_context)->gate);
    http_request *req = *con_cls;
    if (!req) return;
    *con_cls = NULL;
    atomic_fetch_sub(&s->inflight, 1);
    metrics_inflight_add(-1);
    if (req->slot) req->slot->deadline_ns = idle_deadline_ns(s); /* a kept-alive connection */
    buffer_release(s, req);
    if (orphan_if_in_worker(s, req)) return;
    if (req->body.cap > SPARE_BODY_MAX) bytebuf_free(&req->body);
    req->body.len = 0;
    json_decref(req->root);
    req->root = NULL;
    free(req->answer);
    req->answer = NULL;
    if (req->slot && !req->slot->spare_req) {
        req->slot->spare_req = req;
        return;
    }
    bytebuf_free(&req->body);
    free(req);
}

/* ------------------------------------------------------------ startup */

static bool resolve_listen(const rpc_config *cfg, struct sockaddr_storage *ss, bool *v6, char *err, size_t err_len)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    int rc = getaddrinfo(cfg->listen_host, NULL, &hints, &res);
    if (rc) {
        snprintf(err, err_len, "cannot resolve listen address '%s': %s", cfg->listen_host, gai_strerror(rc));
        return false;
    }
    memset(ss, 0, sizeof *ss);
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    if (*v6) ((struct sockaddr_in6 *)ss)->sin6_port = htons(cfg->listen_port);
    else ((struct sockaddr_in *)ss)->sin_port = htons(cfg->listen_port);
    freeaddrinfo(res);
    return true;
}

static void log_startup(server *s, uint16_t port, store_conn *conn)
{
    const rpc_config *cfg = s->cfg;
    block_env head;
    store_error se;
    char head_text[96] = "no head", counts[128] = "";
    if (store_get_head(conn, &head, &se))
        snprintf(head_text, sizeof head_text, "head #%llu (%s)", (unsigned long long)head.number,
                 fork_name(chain_config_fork_at(&s->chain, head.number, head.timestamp)));
    uint64_t accounts, slots, code_bytes;
    if (store_counts(conn, &accounts, &slots, &code_bytes, &se))
        snprintf(counts, sizeof counts, ", %llu accounts, %llu slots, %llu code bytes", (unsigned long long)accounts,
                 (unsigned long long)slots, (unsigned long long)code_bytes);
    char timeout[32];
    format_go_duration(cfg->call_timeout_ms, timeout, sizeof timeout);
    bool v6 = strchr(cfg->listen_host, ':') != NULL;
    log_notice("jitevm %s serving JSON-RPC on http://%s%s%s:%u", JITEVM_VERSION, v6 ? "[" : "", cfg->listen_host,
             v6 ? "]" : "", port);
    log_notice("database %s: schema v%d, chain id %llu, %s%s", cfg->db_path, store_schema_version(),
             (unsigned long long)s->chain.chain_id, head_text, counts);
    log_notice("config: engine=%s code-cache=%zuM threads=%d workers=%d queue=%d max-connections=%d max-body=%zu max-batch=%zu gas-cap=%llu "
             "call-timeout=%s inline-budget=%llums cors-origin='%s' admin=%s log-level=%s fast-http=%s",
             engine_name(cfg->engine), cfg->code_cache_bytes >> 20, cfg->http_threads, cfg->workers, cfg->queue_size, cfg->max_connections, cfg->max_body, cfg->max_batch,
             (unsigned long long)cfg->gas_cap, timeout, (unsigned long long)cfg->inline_budget_ms, cfg->cors_origin, cfg->admin ? "on" : "off",
             log_level_name(cfg->log_level), cfg->no_fast_http ? "off" : "on");
    if (cfg->engine != ENGINE_INTERP && !jit_supported())
        log_warn("engine %s: this machine cannot run compiled code; every call runs on the interpreter",
                 engine_name(cfg->engine));
    if (cfg->admin && cfg->admin_token_generated && s->token_file[0])
        log_notice("admin methods enabled; bearer token generated into %s (mode 0600)", s->token_file);
    else if (cfg->admin && cfg->admin_token_generated)
        log_notice("admin methods enabled; bearer token generated (printed once above, not logged)");
    else if (cfg->admin)
        log_info("admin methods enabled; bearer token as configured");
}

/* Waits until no request is in flight or `ms` have passed. */
static bool wait_idle(server *s, uint64_t ms)
{
    uint64_t end = monotonic_ns() + ms * 1000000u;
    while (atomic_load(&s->inflight) > 0) {
        if (monotonic_ns() >= end) return false;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return true;
}

static void log_program_store_warning(const char *line) { log_warn("%s", line); }

/* The program store, so that compiled programs outlive the process (the
 * interpreter alone needs none). */
static bool open_programs(server *s)
{
    rpc_config *cfg = s->cfg;
    char err[512];
    code_cache_set_budget(cfg->code_cache_bytes);
    if (cfg->engine == ENGINE_INTERP) return true;
    if (cfg->read_only) {
        /* Compiled code then lives in memory only. */
        sodium_memzero(cfg->program_key, sizeof cfg->program_key);
        log_notice("read-only mode: compiled programs are kept in memory only, not in the database");
        return true;
    }
    bool ok = program_store_open(&s->programs, s->db, cfg->db_path, cfg->program_key[0] ? cfg->program_key : NULL,
                                 err, sizeof err);
    sodium_memzero(cfg->program_key, sizeof cfg->program_key); /* the store keeps its own copy */
    if (!ok) {
        log_error("cannot open the program store: %s", err);
        return false;
    }
    program_store_set_warn(&s->programs, log_program_store_warning);
    jit_set_store(program_store_hooks(&s->programs));
    /* The compiler's version (a hash of its helpers, computed once: about
     * 340,000 instructions) is part of every program's key: computed now,
     * not in the first call that loads a program. */
    (void)jit_compiler_version();
    s->programs_open = true;
    return true;
}

static void close_programs(server *s)
{
    if (!s->programs_open) return;
    jit_set_store(NULL);
    /* The background compiler may be inside a save it began before: once
     * idle it is not (what it still compiles is no longer saved). */
    jit_wait_idle();
    program_store_close(&s->programs);
    s->programs_open = false;
}

static void stop_workers(server *s, int started)
{
    pthread_mutex_lock(&s->queue_lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->queue_cond);
    pthread_mutex_unlock(&s->queue_lock);
    for (int i = 0; i < started; i++) {
        pthread_join(s->workers[i].thread, NULL);
        if (s->workers[i].ctx.conn) store_disconnect(s->workers[i].ctx.conn);
    }
}

/* The process-wide setup before any thread: logging, libsodium, the
 * jansson hash seed, SQLite's memory statistics, the admin token. */
static bool init_process(rpc_config *cfg)
{
    log_set_level(cfg->log_level);
    if (sodium_init() < 0) {
        log_error("libsodium failed to initialise");
        return false;
    }
    json_object_seed(0); /* before any thread: jansson's hash seed */
    /* SQLite's memory statistics take a process-wide mutex on every
     * allocation; the polling threads and workers would contend for it.
     * (Only possible before SQLite initialises, i.e. before the store opens.) */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (cfg->admin) rpc_config_ensure_token(cfg);
    evm_set_memory_budget(cfg->max_exec_memory);
    return true;
}

/* The database as configured: read-only with --read-only, and read-only
 * by itself when it cannot be written (a read-only volume or file). */
/* Read-only: a plain read-only open sees the commits of a writer beside
 * it, but needs the -shm file (made if missing); where that cannot be
 * (a read-only volume), the file is a snapshot nothing writes, and
 * SQLite's immutable open serves it without any lock or side file. */
static store *open_read_only(const char *path, store_error *se)
{
    store *db = store_open(path, STORE_OPEN_READONLY, se);
    if (db) return db;
    store_error plain = *se;
    db = store_open(path, STORE_OPEN_READONLY | STORE_OPEN_IMMUTABLE, se);
    if (db) log_notice("read-only mode: the database opened immutable (a snapshot that must not change while served): %s", plain.msg);
    return db;
}

static store *open_store(rpc_config *cfg, store_error *se)
{
    if (cfg->read_only) return open_read_only(cfg->db_path, se);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", cfg->db_path);
    char *slash = strrchr(dir, '/');
    if (slash) slash[slash == dir ? 1 : 0] = '\0';
    else snprintf(dir, sizeof dir, ".");
    const char *why = access(cfg->db_path, W_OK) != 0 ? "the database file is not writable"
                      : access(dir, W_OK) != 0       ? "its directory is not writable"
                                                     : NULL;
    store *db = why ? NULL : store_open(cfg->db_path, STORE_OPEN_EXISTING, se);
    if (db) return db;
    store_error ro;
    db = open_read_only(cfg->db_path, &ro);
    if (!db) {
        if (why) *se = ro;
        return NULL;
    }
    log_notice("read-only mode: %s", why ? why : se->msg);
    cfg->read_only = true;
    return db;
}

/* The database, its chain configuration and the program store; *main_conn
 * is the connection kept for the startup log. */
static bool open_database(server *s, store_conn **main_conn)
{
    store_error se;
    s->db = open_store(s->cfg, &se);
    if (!s->db) {
        log_error("cannot open the database: %s", se.msg);
        return false;
    }
    *main_conn = store_connect(s->db, &se);
    if (!*main_conn || !store_get_chain_config(*main_conn, &s->chain, &se)) {
        log_error("cannot read the database: %s", se.msg);
        if (*main_conn) store_disconnect(*main_conn);
        store_close(s->db);
        return false;
    }
    if (!open_programs(s)) {
        store_disconnect(*main_conn);
        store_close(s->db);
        return false;
    }
    bool is_live;
    if (!live_attach(s->db, *main_conn, s->cfg, &is_live, &se)) {
        log_error("cannot start live mode: %s", se.msg);
        store_disconnect(*main_conn);
        close_programs(s);
        store_close(s->db);
        return false;
    }
    /* A live database's workers wait on the upstream (the HTTP threads hand
     * them every fetch): by default as many as the upstream's requests at
     * once, so that cold calls do not queue behind a few waiting ones. */
    if (is_live && !s->cfg->workers_given && s->cfg->workers < UPSTREAM_MAX_IN_FLIGHT)
        s->cfg->workers = UPSTREAM_MAX_IN_FLIGHT;
    return true;
}

/* Signals go to the main thread only (sigwait in cmd_serve); the locks,
 * the request queue and the worker table. */
static void init_server_state(server *s, sigset_t *sigs)
{
    sigemptyset(sigs);
    sigaddset(sigs, SIGINT);
    sigaddset(sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    s->listen_fd = s->acceptor_wake = -1;
    pthread_mutex_init(&s->runners_lock, NULL);
    pthread_mutex_init(&s->auth_lock, NULL);
    struct sigaction sa = {.sa_handler = on_inline_budget, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(INLINE_BUDGET_SIGNAL, &sa, NULL);
    pthread_mutex_init(&s->queue_lock, NULL);
    pthread_cond_init(&s->queue_cond, NULL);
    pthread_mutex_init(&s->watch_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->watch_cond, &ca);
    pthread_condattr_destroy(&ca);
    s->queue_cap = s->cfg->queue_size;
    s->queue = xcalloc((size_t)s->queue_cap, sizeof *s->queue);
    s->n_workers = s->cfg->workers;
    s->workers = xcalloc((size_t)s->n_workers, sizeof *s->workers);
}

/* Starts the workers, each with its own database connection; *started
 * counts those running (to be joined), also on failure. */
static bool start_workers(server *s, int *started)
{
    store_error se;
    bool ok = true;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
    for (int i = 0; ok && i < s->n_workers; i++) {
        worker *w = &s->workers[i];
        w->srv = s;
        w->ctx.cfg = s->cfg;
        w->ctx.chain = s->chain;
        w->ctx.abort_flag = &w->abort_flag;
        w->ctx.shutting_down = &s->abort_all;
        w->ctx.arm_timeout = arm_timeout;
        w->ctx.disarm_timeout = disarm_timeout;
        w->ctx.owner = w;
        w->ctx.conn = store_connect(s->db, &se);
        if (!w->ctx.conn) {
            log_error("cannot open a database connection: %s", se.msg);
            ok = false;
        } else if (pthread_create(&w->thread, &attr, worker_main, w) != 0) {
            log_error("cannot start worker thread %d: %s", i, strerror(errno));
            store_disconnect(w->ctx.conn);
            w->ctx.conn = NULL;
            ok = false;
        } else {
            (*started)++;
        }
    }
    pthread_attr_destroy(&attr);
    return ok;
}

/* The HTTP daemon on the configured address. */
/* The acceptor: one thread accepts every connection and hands it to
 * libmicrohttpd (MHD_add_connection), which places it on polling thread
 * (fd + i) mod threads, the first of them with room. Left to accept on a
 * shared listening socket, the polling threads race for each connection
 * and the one already awake wins: measured with 32 kept-alive
 * connections, 8 threads held 16, 7, 5, 5, 1, 1, 0, 0 of them (and 2
 * threads 30 and 2), and since the scheduler shares the CPU between
 * threads, not connections, those on a crowded thread waited longest: the
 * tail of the latency. Connections open at once have distinct, mostly
 * consecutive descriptors, so they spread evenly. */
static void *acceptor_main(void *arg)
{
    server *s = arg;
    struct pollfd p[2] = {{.fd = s->listen_fd, .events = POLLIN}, {.fd = s->acceptor_wake, .events = POLLIN}};
    while (!atomic_load(&s->acceptor_stop)) {
        if (poll(p, 2, -1) < 0 && errno != EINTR) break;
        for (int n = 0; n < 64 && !atomic_load(&s->acceptor_stop); n++) {
            struct sockaddr_storage addr;
            socklen_t len = sizeof addr;
            int fd = accept4(s->listen_fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                    metrics_record_limit("max_connections");
                    poll(NULL, 0, 10); /* out of descriptors: let some close */
                }
                break; /* EAGAIN: all taken */
            }
            if (on_accept(s, (struct sockaddr *)&addr, len) != MHD_YES) {
                close(fd); /* over a connection limit: closed at once */
                continue;
            }
            if (s->front) {
                conn_slot *slot = slot_open(s, fd, (struct sockaddr *)&addr);
                if (!slot->gate || !http_front_add(s->front, fd, (struct sockaddr *)&addr, len, slot->gate, slot)) {
                    slot_close(s, slot);
                    close(fd);
                }
                continue;
            }
            MHD_add_connection(s->daemon, fd, (struct sockaddr *)&addr, len); /* closes fd when it fails */
        }
    }
    return NULL;
}

/* Listens on the configured address; the acceptor starts later. */
static bool open_listener(server *s, char *err, size_t err_len)
{
    struct sockaddr_storage addr;
    bool v6;
    if (!resolve_listen(s->cfg, &addr, &v6, err, err_len)) return false;
    s->listen_fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    socklen_t alen = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (s->listen_fd < 0 || setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(s->listen_fd, (struct sockaddr *)&addr, alen) != 0 || listen(s->listen_fd, SOMAXCONN) != 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&addr, &alen) != 0) {
        snprintf(err, err_len, "cannot listen on %s: %s", s->cfg->listen, strerror(errno));
        if (s->listen_fd >= 0) close(s->listen_fd);
        s->listen_fd = -1;
        return false;
    }
    s->listen_port = ntohs(v6 ? ((struct sockaddr_in6 *)&addr)->sin6_port : ((struct sockaddr_in *)&addr)->sin_port);
    return true;
}

/* No new connections: the acceptor stops and the socket closes. */
static void close_listener(server *s)
{
    if (s->acceptor_started) {
        atomic_store(&s->acceptor_stop, true);
        uint64_t one = 1;
        (void)!write(s->acceptor_wake, &one, sizeof one);
        pthread_join(s->acceptor, NULL);
        s->acceptor_started = false;
    }
    if (s->acceptor_wake >= 0) close(s->acceptor_wake);
    if (s->listen_fd >= 0) close(s->listen_fd);
    s->acceptor_wake = s->listen_fd = -1;
}

/* A request refused by the framing gate (it answered the client). */
static void on_gate_refusal(unsigned status, const char *why)
{
    metrics_record_http((int)status);
    metrics_record_limit("framing");
    log_debug("framing refused (%u): %s", status, why);
}

static bool start_daemon(server *s)
{
    const rpc_config *cfg = s->cfg;
    char err[512];
    if (!open_listener(s, err, sizeof err)) {
        log_error("%s", err);
        return false;
    }
    if (!http_gate_init(on_gate_refusal)) {
        log_error("out of memory for the framing gate");
        return false;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                     MHD_USE_NO_LISTEN_SOCKET;
    /* A connection the fast path hands over may hold a request its gate
     * already read: turbo mode reads a new connection at once, where the
     * default waits for the socket's next event. */
    if (!cfg->no_fast_http) flags |= MHD_USE_TURBO;
    /* The per-connection memory pool is zeroed whole at the end of every
     * request (memset of its size: with 32 KiB, 63% of the instructions of
     * answering eth_chainId, and the whole L1 data cache) and only holds
     * the head, its header list, a read buffer and the response head
     * (bodies pass through in chunks): a small one is cheaper, but it
     * must take any head the framing gate lets through, so that
     * libmicrohttpd refuses none itself: measured, 16 KiB takes an 8 KiB
     * head of up to about 125 fields, and the gate lets through 100
     * (HTTP_GATE_HEAD_MAX, HTTP_GATE_FIELDS_MAX, trailers included). */
    /* Our accept policy enforces the connection limits (closing what is
     * over them at once); libmicrohttpd's own limit, split between its
     * threads, is set well above so that it never stops accepting first. */
    unsigned mhd_limit = (unsigned)cfg->max_connections * 2u + (unsigned)cfg->http_threads * 16u;
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads,
                                 MHD_OPTION_THREAD_STACK_SIZE, (size_t)WORKER_STACK_SIZE, MHD_OPTION_CONNECTION_LIMIT,
                                 mhd_limit, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned)cfg->idle_timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_GATE_HEAD_MAX * 2, MHD_OPTION_END);
    if (!s->daemon) {
        log_error("cannot listen on %s: %s", cfg->listen, errno ? strerror(errno) : "libmicrohttpd refused to start");
        return false;
    }
    if (!cfg->no_fast_http) {
        http_front_config fc = {.threads = cfg->http_threads, .stack_size = WORKER_STACK_SIZE, .cors_origin = cfg->cors_origin};
        http_front_hooks hooks = {
            .ctx = s, .answer = front_answer, .event = front_event, .hand_off = front_hand_off, .closed = front_closed};
        s->front = http_front_start(&fc, &hooks);
        if (!s->front) {
            log_error("cannot start the fast HTTP path's threads");
            return false;
        }
    }
    s->acceptor_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->acceptor_started = s->acceptor_wake >= 0 && pthread_create(&s->acceptor, NULL, acceptor_main, s) == 0;
    if (!s->acceptor_started) {
        log_error("cannot start the acceptor thread");
        return false;
    }
    return true;
}

/* After SIGINT/SIGTERM: no new connections; the requests in flight get
 * the shutdown timeout, then are aborted. *started is 0 when the workers
 * had to be joined here. */
static void drain(server *s, int sig, int *started)
{
    atomic_store(&s->draining, true);
    metrics_set_draining(true);
    log_notice("%s received: no new connections; finishing %d requests in flight", sig == SIGINT ? "SIGINT" : "SIGTERM",
             atomic_load(&s->inflight));
    close_listener(s);
    http_front_drain(s->front);
    if (!wait_idle(s, s->cfg->shutdown_timeout_ms)) {
        /* Every call still running or queued is aborted and answered so;
         * the workers are joined so that no connection stays suspended,
         * then the answers get a moment to be sent. */
        log_warn("requests still running after the shutdown timeout: aborting them");
        pthread_mutex_lock(&s->watch_lock);
        s->abort_all = true;
        for (int i = 0; i < s->n_workers; i++) s->workers[i].abort_flag = 1;
        pthread_mutex_unlock(&s->watch_lock);
        stop_workers(s, *started);
        *started = 0;
        wait_idle(s, 2000);
    }
    http_front_stop(s->front); /* before libmicrohttpd, which its hand-offs reach */
    s->front = NULL;
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
}

/* Stops whatever was started, in order: the daemon (joining its polling
 * threads), the workers, the watchdog; then the stores. */
static void shut_down(server *s, int started, bool watchdog_started, store_conn *main_conn)
{
    close_listener(s);
    http_front_stop(s->front);
    s->front = NULL;
    if (s->daemon) MHD_stop_daemon(s->daemon);
    stop_guard(s);
    stop_workers(s, started);
    inline_runners_free(s);
    if (watchdog_started) {
        pthread_mutex_lock(&s->watch_lock);
        s->watch_stop = true;
        pthread_cond_signal(&s->watch_cond);
        pthread_mutex_unlock(&s->watch_lock);
        pthread_join(s->watchdog, NULL);
    }
    if (main_conn) store_disconnect(main_conn);
    close_programs(s); /* no call runs any more; compilations still queued keep nothing */
    live_detach(s->db);
    store_close(s->db);
    free(s->queue);
    free(s->workers);
    metrics_free();
    sodium_memzero(s->program_key, sizeof s->program_key);
}

/* ------------------------------------------------- snapshots, health */

/* SIGHUP switches the service to the database now at --db, atomically:
 * the operator puts the new snapshot in place first (--db a symlink
 * re-pointed with a rename, or a new file renamed over a path no process
 * has open), then signals. The new file is opened and checked (same chain
 * id) while calls go on; then, under the write side of snapshot_lock
 * (calls in flight finish first, new ones wait: none is dropped or sees a
 * mix), every connection is moved to it and the program store reopened;
 * the old database is closed. On any failure the old one stays in use. */
static void snapshot_init(server *s, sigset_t *sigs)
{
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    /* Writer first: a steady stream of calls must not hold a switch off. */
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->snapshot_lock, &a);
    pthread_rwlockattr_destroy(&a);
    memcpy(s->program_key, s->cfg->program_key, sizeof s->program_key);
    sigaddset(sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, sigs, NULL);
}

/* New connections to `next` for every worker and inline runner, or none. */
static bool snapshot_connect_all(store *next, store_conn **conns, int n, store_error *se)
{
    for (int i = 0; i < n; i++) {
        conns[i] = store_connect(next, se);
        if (!conns[i]) {
            while (i--) store_disconnect(conns[i]);
            return false;
        }
    }
    return true;
}

static void snapshot_switch(server *s)
{
    uint64_t t0 = monotonic_ns();
    store_error se;
    store *next = s->cfg->read_only ? open_read_only(s->cfg->db_path, &se) : store_open(s->cfg->db_path, STORE_OPEN_EXISTING, &se);
    store_conn *probe = next ? store_connect(next, &se) : NULL;
    chain_config chain;
    bool ok = probe && store_get_chain_config(probe, &chain, &se);
    if (ok && chain.chain_id != s->chain.chain_id) {
        ok = false;
        store_fail(&se, "its chain id is %llu, this replica serves %llu", (unsigned long long)chain.chain_id,
                   (unsigned long long)s->chain.chain_id);
    }
    if (ok && live_refuses_switch(probe, &se)) ok = false; /* live mode: see live.h */
    if (probe) store_disconnect(probe);
    if (!ok) {
        if (next) store_close(next);
        log_error("SIGHUP: keeping the current database: %s", se.msg);
        return;
    }
    atomic_store(&s->switching, true);
    pthread_rwlock_wrlock(&s->snapshot_lock);
    pthread_mutex_lock(&s->runners_lock);
    int n_runners = 0;
    for (inline_runner *r = s->runners; r; r = r->next) n_runners++;
    int n = s->n_workers + n_runners;
    store_conn **conns = xcalloc((size_t)n + 1, sizeof *conns);
    ok = snapshot_connect_all(next, conns, n, &se);
    if (ok) {
        close_programs(s);
        spare_conns_close_locked(s);
        int i = 0;
        for (; i < s->n_workers; i++) {
            store_disconnect(s->workers[i].ctx.conn);
            s->workers[i].ctx.conn = conns[i];
            s->workers[i].ctx.chain = chain;
            s->workers[i].ctx.head_cache.valid = false;
        }
        for (inline_runner *r = s->runners; r; r = r->next, i++) {
            store_disconnect(r->ctx.conn);
            r->ctx.conn = conns[i];
            runner_conn_setup(r);
            r->ctx.chain = chain;
            r->ctx.head_cache.valid = false;
        }
        store_close(s->db);
        s->db = next;
        s->chain = chain;
        s->inline_ctx.chain = chain;
        memcpy(s->cfg->program_key, s->program_key, sizeof s->program_key);
        if (!open_programs(s)) log_warn("SIGHUP: serving without stored programs (compiled again as needed)");
        atomic_fetch_add(&s->snapshot_generation, 1);
    }
    pthread_mutex_unlock(&s->runners_lock);
    pthread_rwlock_unlock(&s->snapshot_lock);
    atomic_store(&s->switching, false);
    free(conns);
    if (!ok) {
        store_close(next);
        log_error("SIGHUP: keeping the current database: %s", se.msg);
        return;
    }
    log_notice("SIGHUP: now serving %s (switch %u, %.1f ms)", s->cfg->db_path, atomic_load(&s->snapshot_generation),
               (double)(monotonic_ns() - t0) / 1e6);
}

/* The main thread's wait: SIGHUP switches the snapshot, SIGINT/SIGTERM end
 * the wait (returned). */
static int snapshot_wait_signals(server *s, sigset_t *sigs)
{
    int sig = 0;
    while (sigwait(sigs, &sig) == 0 && sig == SIGHUP) snapshot_switch(s);
    return sig;
}

int cmd_serve(int argc, char **argv)
{
    static rpc_config cfg;
    bool help;
    char err[512];
    if (!rpc_config_load(&cfg, argc, argv, &help, err, sizeof err)) {
        fprintf(stderr, "jitevm serve: %s\nTry 'jitevm serve --help'.\n", err);
        return 2;
    }
    if (help) {
        printf("Usage: jitevm serve %s\n\nOptions (each also as the environment variable shown):\n", CMD_SERVE_USAGE);
        rpc_config_usage(stdout);
        return 0;
    }
    if (!init_process(&cfg)) return 1;

    server s = {.cfg = &cfg};
    save_generated_token(&s);
    crypto_generichash(s.token_hash, sizeof s.token_hash, (const uint8_t *)cfg.admin_token, strlen(cfg.admin_token),
                       NULL, 0);
    store_conn *main_conn = NULL;
    if (!open_database(&s, &main_conn)) return 1;
    metrics_init(rpc_method_names(), rpc_n_methods);
    s.inline_ctx = (rpc_ctx){.cfg = &cfg, .chain = s.chain};
    sigset_t sigs;
    init_server_state(&s, &sigs);
    snapshot_init(&s, &sigs);

    int status = 1, started = 0;
    bool watchdog_started = false;
    if (!start_workers(&s, &started)) goto out;
    if (cfg.inline_budget_ms) spare_conns_open(&s, cfg.http_threads);
    if (pthread_create(&s.watchdog, NULL, watchdog_main, &s) != 0) {
        log_error("cannot start the watchdog thread");
        goto out;
    }
    watchdog_started = true;
    if (!start_guard(&s) || !start_daemon(&s)) goto out;
    log_startup(&s, s.listen_port, main_conn);
    store_disconnect(main_conn);
    main_conn = NULL;

    int sig = snapshot_wait_signals(&s, &sigs);
    drain(&s, sig, &started);
    status = 0;
out:
    shut_down(&s, started, watchdog_started, main_conn);
    if (status == 0) log_notice("stopped cleanly");
    return status;
}
