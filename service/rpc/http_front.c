/* The fast HTTP path: see http_front.h.
 *
 * Why: measured with one CPU for the server, libmicrohttpd's per-request
 * work (its connection state machine, header lists, a response object with
 * malloc'd headers, the Date formatting, its timeout clock reads, the
 * zeroing of its 16 KiB pool) cost about 1.3 us of user time per request
 * over a bare recv/send server, mostly as instruction-cache misses: more
 * than the warm eth_call itself. Here a request costs one recv, a scan of
 * its head, the answer, and one sendmsg.
 *
 * What it takes: a request whose head the framing gate has checked (the
 * bytes come through the same recv()), whose line is exactly
 * "POST / HTTP/1.1", with a Host, a JSON Content-Type, a Content-Length of
 * at least 1 and a whole request within FRONT_BUFFER, and no
 * Authorization, Expect, Transfer-Encoding, Upgrade or Connection other
 * than keep-alive; answered on this thread (stateless, or a read-only call
 * within the inline budget). Anything else goes to libmicrohttpd with the
 * connection, as a plain connection would have: the unanswered bytes go
 * back into the gate, which hands them to libmicrohttpd's first recv
 * (libmicrohttpd's turbo mode reads a new connection at once, without
 * waiting for an event the socket will not raise).
 *
 * Invariants: a connection belongs to one thread (fd % threads), which
 * alone reads, writes and closes it; the answers of a connection go out in
 * order, and no request is taken while an answer waits to be written; the
 * gate is told a request is done only once its answer is all written (a
 * refusal queued behind it must not overtake it). */
#include "rpc/http_front.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/types.h"

/* A request (head and body) larger than this goes to libmicrohttpd; also
 * the memory a connection holds (libmicrohttpd's pool is as large). */
#define FRONT_BUFFER 16384
#define FRONT_EVENTS 64

typedef struct front_thread front_thread;

typedef struct front_conn {
    int fd;
    http_gate *gate;
    void *user;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    struct front_conn *prev, *next; /* the thread's list, under its lock */
    uint8_t in[FRONT_BUFFER];       /* read, not yet answered */
    size_t in_len;
    bytebuf out;                    /* an answer not yet all written */
    size_t out_sent;
    bool close_when_sent;
    bool body_reported; /* HTTP_FRONT_BODY_PENDING told for the request in progress */
} front_conn;

struct front_thread {
    http_front *front;
    pthread_t thread;
    bool started;
    int epfd, wake_fd;
    pthread_mutex_t lock;
    front_conn *conns;
};

struct http_front {
    http_front_hooks hooks;
    char cors[600]; /* the CORS header lines of every answer */
    size_t cors_len;
    int n_threads;
    front_thread *threads;
    _Atomic bool draining, stopping;
};

bool http_json_media_type(const char *v, size_t n)
{
    while (n && *v == ' ') v++, n--;
    const char *semi = memchr(v, ';', n);
    if (semi) n = (size_t)(semi - v);
    while (n && v[n - 1] == ' ') n--;
    static const char *const accepted[] = {"application/json", "application/json-rpc", "application/jsonrequest"};
    for (size_t i = 0; i < 3; i++)
        if (strlen(accepted[i]) == n && strncasecmp(v, accepted[i], n) == 0) return true;
    return false;
}

/* ------------------------------------------------------------ requests */

enum scan_result { SCAN_INCOMPLETE, SCAN_COMPLETE, SCAN_NOT_OURS };

typedef struct {
    size_t skipped;  /* empty lines before the head */
    size_t head_len; /* request line and headers, blank line included */
    uint64_t body_len;
} request_shape;

static bool name_is(const uint8_t *p, size_t n, const char *name, size_t name_len)
{
    return n == name_len && strncasecmp((const char *)p, name, n) == 0;
}

/* Headers whose requests libmicrohttpd answers (the admin token's check,
 * 100 Continue, chunked bodies, an upgrade it refuses). */
static const char *const left_to_mhd[] = {"Authorization", "Expect", "Transfer-Encoding", "Upgrade"};

/* Reads the request at the start of [p, p+len). The gate hands on only
 * checked, whole heads (request line syntax, header syntax, one valid
 * Content-Length, ...), so what is left here is whether it is ours. */
static enum scan_result scan_request(const uint8_t *p, size_t len, request_shape *r)
{
    static const char line[] = "POST / HTTP/1.1\r\n";
    size_t skip = 0;
    while (len - skip >= 2 && p[skip] == '\r' && p[skip + 1] == '\n') skip += 2;
    p += skip;
    len -= skip;
    r->skipped = skip;
    r->head_len = 0;
    r->body_len = 0;
    if (len == 0) return SCAN_INCOMPLETE;
    if (len < sizeof line - 1) return memcmp(p, line, len) == 0 ? SCAN_INCOMPLETE : SCAN_NOT_OURS;
    if (memcmp(p, line, sizeof line - 1) != 0) return SCAN_NOT_OURS;
    bool host = false, json = false;
    uint64_t length = 0;
    const uint8_t *q = p + sizeof line - 1, *end = p + len;
    for (;;) { /* header lines, up to the empty one */
        const uint8_t *eol = memchr(q, '\r', (size_t)(end - q));
        if (!eol || eol + 1 == end) return SCAN_INCOMPLETE; /* (the buffer ends inside the head) */
        if (eol == q) break;
        const uint8_t *colon = memchr(q, ':', (size_t)(eol - q));
        if (!colon) return SCAN_NOT_OURS; /* the gate refuses these first; not ours to judge */
        size_t n = (size_t)(colon - q);
        const uint8_t *v = colon + 1, *vend = eol;
        http_trim_ows(&v, &vend);
        size_t vlen = (size_t)(vend - v);
        switch (n) {
        case 4:
            host |= name_is(q, n, "Host", 4);
            break;
        case 14:
            if (name_is(q, n, "Content-Length", 14)) {
                length = 0;
                for (const uint8_t *d = v; d < vend; d++) length = length * 10 + (uint64_t)(*d - '0');
            }
            break;
        case 12:
            if (name_is(q, n, "Content-Type", 12)) json = http_json_media_type((const char *)v, vlen);
            break;
        case 10:
            if (name_is(q, n, "Connection", 10) && !name_is(v, vlen, "keep-alive", 10)) return SCAN_NOT_OURS;
            break;
        default:
            for (size_t i = 0; i < sizeof left_to_mhd / sizeof *left_to_mhd; i++)
                if (name_is(q, n, left_to_mhd[i], strlen(left_to_mhd[i]))) return SCAN_NOT_OURS;
        }
        q = eol + 2;
    }
    r->head_len = (size_t)(q + 2 - p);
    if (!host || !json || length == 0 || r->head_len + length > FRONT_BUFFER - skip)
        return SCAN_NOT_OURS;
    r->body_len = length;
    return len - r->head_len >= length ? SCAN_COMPLETE : SCAN_INCOMPLETE;
}

/* ------------------------------------------------------------ answers */

/* "Date: ..." as RFC 9110's IMF-fixdate, remade once a second per thread
 * (the coarse clock: a read of shared memory, no system call). */
static __thread char date_line[64];
static __thread size_t date_len;
static __thread time_t date_second = -1;

static void date_refresh(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec == date_second) return;
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(date_line, sizeof date_line, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", days[tm.tm_wday], tm.tm_mday,
                     months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    date_len = n > 0 && (size_t)n < sizeof date_line ? (size_t)n : 0;
    date_second = ts.tv_sec;
}

static size_t put(char *at, const char *s, size_t n)
{
    memcpy(at, s, n);
    return n;
}

/* The head of a 200 answer of `body_len` bytes, in libmicrohttpd's order. */
static size_t answer_head(const http_front *f, char *out, size_t body_len, bool close)
{
    static const char status[] = "HTTP/1.1 200 OK\r\n", conn_close[] = "Connection: close\r\n",
                      type[] = "Content-Type: application/json\r\n", length[] = "Content-Length: ";
    date_refresh();
    size_t n = put(out, status, sizeof status - 1);
    n += put(out + n, date_line, date_len);
    if (close) n += put(out + n, conn_close, sizeof conn_close - 1);
    n += put(out + n, type, sizeof type - 1);
    n += put(out + n, f->cors, f->cors_len);
    n += put(out + n, length, sizeof length - 1);
    char digits[24];
    size_t k = sizeof digits;
    do digits[--k] = (char)('0' + body_len % 10);
    while ((body_len /= 10) != 0);
    n += put(out + n, digits + k, sizeof digits - k);
    n += put(out + n, "\r\n\r\n", 4);
    return n;
}

/* Writes what is left of the pending answer. False: the connection failed. */
static bool flush(front_conn *c)
{
    while (c->out_sent < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return errno == EAGAIN || errno == EWOULDBLOCK; /* full: its next EPOLLOUT edge comes back here */
        c->out_sent += (size_t)w;
    }
    bytebuf_free(&c->out);
    c->out_sent = 0;
    http_gate_request_done(c->gate);
    return true;
}

/* Sends an answer (taking `body`): at once when the socket takes it all,
 * else what is left waits in c->out. False: the connection failed. */
static bool send_answer(http_front *f, front_conn *c, char *body, size_t len, bool close)
{
    char head[800];
    struct iovec iov[2] = {{head, answer_head(f, head, len, close)}, {body, len}};
    size_t total = iov[0].iov_len + len;
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t w;
    do w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR); /* (an edge-triggered socket raises no event for a write never tried) */
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        free(body);
        return false;
    }
    size_t sent = w < 0 ? 0 : (size_t)w;
    if (sent == total) {
        free(body);
        http_gate_request_done(c->gate);
        return true;
    }
    if (sent < iov[0].iov_len) bytebuf_append(&c->out, head + sent, iov[0].iov_len - sent);
    size_t body_sent = sent > iov[0].iov_len ? sent - iov[0].iov_len : 0;
    bytebuf_append(&c->out, body + body_sent, len - body_sent);
    free(body);
    c->out_sent = 0;
    return true;
}

/* ------------------------------------------------------------ connections */

static void unlink_conn(front_thread *t, front_conn *c)
{
    pthread_mutex_lock(&t->lock);
    if (c->prev) c->prev->next = c->next;
    else t->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    pthread_mutex_unlock(&t->lock);
}

/* The end of a connection out of its thread's list and epoll set: the
 * server forgets it, then its socket closes. */
static void end_conn(front_thread *t, front_conn *c)
{
    t->front->hooks.closed(t->front->hooks.ctx, c->user);
    close(c->fd);
    bytebuf_free(&c->out);
    free(c);
}

static void close_conn(front_thread *t, front_conn *c)
{
    epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    unlink_conn(t, c);
    end_conn(t, c);
}

/* Hands the connection to libmicrohttpd from byte `from` of its buffer (the
 * first request not answered). Only with no answer waiting to be written. */
static void hand_off(front_thread *t, front_conn *c, size_t from, bool to_worker)
{
    epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    unlink_conn(t, c);
    http_gate_unread(c->gate, c->in + from, c->in_len - from);
    t->front->hooks.hand_off(t->front->hooks.ctx, c->user, c->fd, (struct sockaddr *)&c->addr, c->addr_len, to_worker);
    bytebuf_free(&c->out);
    free(c);
}

enum outcome { KEEP, GONE };

/* Answers the whole requests in the buffer, in order. GONE: the connection
 * was closed or handed off. */
static enum outcome answer_buffered(front_thread *t, front_conn *c)
{
    http_front *f = t->front;
    size_t used = 0;
    while (c->out.len == 0 && !c->close_when_sent) {
        request_shape r;
        enum scan_result s = scan_request(c->in + used, c->in_len - used, &r);
        if (s == SCAN_NOT_OURS) {
            hand_off(t, c, used, false);
            return GONE;
        }
        if (s == SCAN_INCOMPLETE) {
            used += r.skipped;
            if (r.head_len && !c->body_reported) {
                c->body_reported = true;
                f->hooks.event(f->hooks.ctx, c->user, HTTP_FRONT_BODY_PENDING, r.body_len);
            }
            break;
        }
        const uint8_t *body = c->in + used + r.skipped + r.head_len;
        size_t answer_len;
        bool to_worker = false;
        char *answer = f->hooks.answer(f->hooks.ctx, c->user, body, (size_t)r.body_len, &answer_len, &to_worker);
        if (!answer) {
            hand_off(t, c, used, to_worker);
            return GONE;
        }
        used += r.skipped + r.head_len + (size_t)r.body_len;
        c->body_reported = false;
        bool close = atomic_load_explicit(&f->draining, memory_order_relaxed);
        f->hooks.event(f->hooks.ctx, c->user, HTTP_FRONT_ANSWERED, 0);
        if (!send_answer(f, c, answer, answer_len, close)) {
            close_conn(t, c);
            return GONE;
        }
        c->close_when_sent = close;
    }
    if (used) {
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
    }
    if (c->close_when_sent && c->out.len == 0) {
        close_conn(t, c);
        return GONE;
    }
    return KEEP;
}

/* An event on a connection: writes what waits, then reads and answers
 * until the socket is drained (edge-triggered: a short read from the gate
 * means drained, and new bytes raise a new event). */
static void serve(front_thread *t, front_conn *c)
{
    if (c->out.len && !flush(c)) {
        close_conn(t, c);
        return;
    }
    for (;;) {
        if (answer_buffered(t, c) == GONE) return;
        if (c->out.len) return; /* the next requests wait for the socket to take this answer */
        size_t space = sizeof c->in - c->in_len;
        if (space == 0) { /* a request larger than the buffer */
            hand_off(t, c, 0, false);
            return;
        }
        ssize_t r = recv(c->fd, c->in + c->in_len, space, 0);
        if (r > 0) {
            c->in_len += (size_t)r;
            if ((size_t)r < space) { /* drained: answer what came, then wait */
                (void)answer_buffered(t, c);
                return;
            }
            continue;
        }
        if (r < 0 && errno == EINTR) continue; /* the inline budget's signal: the edge is spent, read again */
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        close_conn(t, c); /* the client's end (or the guard's shutdown), or an error */
        return;
    }
}

static void *front_main(void *arg)
{
    front_thread *t = arg;
    struct epoll_event events[FRONT_EVENTS];
    while (!atomic_load(&t->front->stopping)) {
        int n = epoll_wait(t->epfd, events, FRONT_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue; /* the inline budget's timer signal */
            break;
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == t) {
                uint64_t v;
                (void)!read(t->wake_fd, &v, sizeof v);
                continue;
            }
            serve(t, events[i].data.ptr);
        }
    }
    pthread_mutex_lock(&t->lock);
    front_conn *all = t->conns;
    t->conns = NULL;
    pthread_mutex_unlock(&t->lock);
    while (all) {
        front_conn *c = all;
        all = c->next;
        end_conn(t, c); /* (its epoll set closes with the thread) */
    }
    return NULL;
}

/* ------------------------------------------------------------ start, stop */

http_front *http_front_start(const http_front_config *cfg, const http_front_hooks *hooks)
{
    http_front *f = xcalloc(1, sizeof *f);
    f->hooks = *hooks;
    if (cfg->cors_origin[0]) {
        int n = snprintf(f->cors, sizeof f->cors, "Access-Control-Allow-Origin: %s\r\n%s", cfg->cors_origin,
                         strcmp(cfg->cors_origin, "*") != 0 ? "Vary: Origin\r\n" : "");
        f->cors_len = n > 0 && (size_t)n < sizeof f->cors ? (size_t)n : 0;
    }
    f->n_threads = cfg->threads < 1 ? 1 : cfg->threads;
    f->threads = xcalloc((size_t)f->n_threads, sizeof *f->threads);
    for (int i = 0; i < f->n_threads; i++) f->threads[i].epfd = f->threads[i].wake_fd = -1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, cfg->stack_size);
    bool ok = true;
    for (int i = 0; i < f->n_threads; i++) {
        front_thread *t = &f->threads[i];
        t->front = f;
        pthread_mutex_init(&t->lock, NULL);
        if (!ok) continue;
        t->epfd = epoll_create1(EPOLL_CLOEXEC);
        t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = t};
        ok = t->epfd >= 0 && t->wake_fd >= 0 && epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wake_fd, &ev) == 0 &&
             pthread_create(&t->thread, &attr, front_main, t) == 0;
        t->started = ok;
    }
    pthread_attr_destroy(&attr);
    if (!ok) {
        http_front_stop(f);
        return NULL;
    }
    return f;
}

bool http_front_add(http_front *f, int fd, const struct sockaddr *addr, socklen_t addr_len, http_gate *gate, void *conn)
{
    front_thread *t = &f->threads[(unsigned)fd % (unsigned)f->n_threads];
    /* An answer is one write and the client waits for it: Nagle's delay
     * (until the previous segment's ACK) would only hold it back. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    front_conn *c = malloc(sizeof *c);
    if (!c) return false;
    c->fd = fd;
    c->gate = gate;
    c->user = conn;
    c->addr_len = addr_len <= sizeof c->addr ? addr_len : 0;
    memcpy(&c->addr, addr, c->addr_len);
    c->in_len = 0;
    c->out = (bytebuf){0};
    c->out_sent = 0;
    c->close_when_sent = c->body_reported = false;
    c->prev = NULL;
    pthread_mutex_lock(&t->lock);
    c->next = t->conns;
    if (t->conns) t->conns->prev = c;
    t->conns = c;
    pthread_mutex_unlock(&t->lock);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        unlink_conn(t, c);
        free(c);
        return false;
    }
    return true;
}

void http_front_drain(http_front *f)
{
    if (f) atomic_store(&f->draining, true);
}

void http_front_stop(http_front *f)
{
    if (!f) return;
    atomic_store(&f->stopping, true);
    for (int i = 0; i < f->n_threads; i++) {
        front_thread *t = &f->threads[i];
        if (t->started) {
            uint64_t one = 1;
            (void)!write(t->wake_fd, &one, sizeof one);
            pthread_join(t->thread, NULL);
        }
        if (t->epfd >= 0) close(t->epfd);
        if (t->wake_fd >= 0) close(t->wake_fd);
        pthread_mutex_destroy(&t->lock);
    }
    free(f->threads);
    free(f);
}
