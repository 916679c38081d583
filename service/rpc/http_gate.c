/* The HTTP framing gate: a strict HTTP/1.1 reader in front of
 * libmicrohttpd's own.
 *
 * Why here: libmicrohttpd 0.9.75 (Debian 12) parses the request line and
 * headers before any application callback runs (its URI log callback sees
 * the target only, its access handler the parsed head), and refuses on its
 * own some heads (a Content-Length of "-1" or "abc", with its response
 * head sent twice; a head over its buffer, 414/431; an unknown version,
 * 505; bad chunks, 413) with fixed HTML bodies; it also waits for a chunk
 * of 2^63 bytes. None of that can be changed through its options.
 *
 * How: libmicrohttpd reads its sockets with recv(), which it imports from
 * libc; this file defines recv() in the executable, which the dynamic
 * linker binds libmicrohttpd's calls to (symbol interposition, as malloc
 * replacements work). For a socket that is not gated (anything but a
 * served connection: curl's, SQLite's files never go through recv) it is
 * the system call, unchanged. For a gated one, the bytes read from the
 * socket wait in the gate until they are known to be sound:
 *   - a head is handed on only once complete (CRLF CRLF) and checked:
 *     request line METHOD SP TARGET SP HTTP/1.0|1.1, header names tokens,
 *     no obsolete line folding, no bare CR or LF, at most one
 *     Content-Length (1..18 digits, at most the body limit), at most one
 *     Transfer-Encoding and only "chunked", never both, at most
 *     HTTP_GATE_HEAD_MAX bytes and HTTP_GATE_FIELDS_MAX fields;
 *   - the body follows the framing the gate read: Content-Length bytes, or
 *     chunks of at most 15 hex digits each whose sum stays within the body
 *     limit, each ended by CRLF, then trailers (header lines) and CRLF,
 *     within the head's limits together with the head;
 *   - then the next request's head, so that every request of a kept-alive
 *     or pipelined connection is checked, not only the first.
 * A refusal is one response (the status, a JSON-RPC error -32600 body,
 * Connection: close), written to the socket after the answers of the
 * requests before it (http_gate_request_done counts them); then the gate
 * lingers: it reads and drops what the client still sends (the rest of a
 * body it was uploading) until the client ends its side, for at most
 * HTTP_GATE_LINGER_MS and HTTP_GATE_LINGER_BYTES, and only then lets
 * libmicrohttpd close. Closing a socket with unread bytes makes the kernel
 * send a reset, and a client still uploading then loses the refusal (curl
 * reported the "100 Continue" before it as the status, 1 time in 10).
 *
 * Invariants: a gated socket is used by one polling thread at a time
 * (libmicrohttpd's thread of that connection), which also calls
 * http_gate_request_done; the table maps a descriptor to its gate from
 * before libmicrohttpd's first read (its connection-started notice) until
 * before it closes the socket (its closed notice). recv() answers short
 * (or EAGAIN) only when the socket had no more bytes at its last read and
 * none is held back that is ready to hand on, as libmicrohttpd's
 * edge-triggered epoll loop relies on (it waits for the next event after a
 * short read). */
#include "rpc/http_gate.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/types.h"
#include "rpc/rpc.h"

enum gate_phase {
    GATE_HEAD,        /* collecting a request head */
    GATE_BODY,        /* `remaining` bytes of a Content-Length body */
    GATE_CHUNK_SIZE,  /* a chunk-size line */
    GATE_CHUNK_DATA,  /* `remaining` bytes of a chunk */
    GATE_CHUNK_END,   /* the CRLF after a chunk's data */
    GATE_TRAILERS,    /* trailer lines up to an empty one */
    GATE_REFUSED,     /* a refusal waits for the answers before it */
    GATE_CLOSED,      /* the refusal went out: what follows is read and dropped (lingering) */
};

#define GATE_READ_SIZE 16384
#define CHUNK_LINE_MAX 1024

struct http_gate {
    int fd;
    size_t max_body;
    uint8_t *buf;       /* read from the socket, not yet handed on */
    size_t len, cap;
    size_t ready;       /* buf[0, ready) is checked and may be handed on */
    enum gate_phase phase;
    uint64_t remaining; /* of the body or the chunk */
    uint64_t body_seen; /* chunked body bytes so far */
    /* The current request's head and trailers together (HTTP_GATE_HEAD_MAX,
     * HTTP_GATE_FIELDS_MAX): libmicrohttpd keeps both in one pool. */
    size_t head_bytes, fields;
    bool eof;
    /* Requests handed on whole (head and body), and answered. */
    unsigned long complete, answered;
    unsigned status;    /* the refusal's */
    char why[160];
    /* After the refusal: when lingering ends (read by the guard thread), and
     * the bytes dropped so far. */
    _Atomic uint64_t linger_until_ns;
    uint64_t lingered;
    void *user; /* the server's record of the connection */
};

static _Atomic(http_gate *) *gates;
static size_t n_gates;
static void (*refusal_hook)(unsigned status, const char *why);

bool http_gate_init(void (*on_refusal)(unsigned status, const char *why))
{
    struct rlimit rl;
    size_t n = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > n) n = (size_t)rl.rlim_cur;
    if (n > ((size_t)1 << 22)) n = (size_t)1 << 22;
    gates = calloc(n, sizeof *gates); /* untouched pages cost nothing */
    if (!gates) return false;
    n_gates = n;
    refusal_hook = on_refusal;
    return true;
}

http_gate *http_gate_open(int fd, size_t max_body)
{
    if (fd < 0 || (size_t)fd >= n_gates) return NULL;
    http_gate *g = xcalloc(1, sizeof *g);
    g->fd = fd;
    g->max_body = max_body;
    atomic_store_explicit(&gates[fd], g, memory_order_release);
    return g;
}

void http_gate_close(http_gate *g)
{
    if (!g) return;
    /* Only its own entry: when libmicrohttpd closed the socket itself (a
     * failed hand-off), the descriptor may already be a new connection's. */
    http_gate *mine = g;
    atomic_compare_exchange_strong_explicit(&gates[g->fd], &mine, NULL, memory_order_acq_rel, memory_order_acquire);
    free(g->buf);
    free(g);
}

void http_gate_set_user(http_gate *g, void *user) { g->user = user; }

void *http_gate_user_of(int fd)
{
    http_gate *g = fd >= 0 && (size_t)fd < n_gates ? atomic_load_explicit(&gates[fd], memory_order_acquire) : NULL;
    return g ? g->user : NULL;
}

void http_gate_unread(http_gate *g, const void *bytes, size_t n)
{
    if (!n) return;
    if (g->cap - g->len < n) {
        g->cap = g->len + n;
        g->buf = xrealloc(g->buf, g->cap);
    }
    memmove(g->buf + n, g->buf, g->len);
    memcpy(g->buf, bytes, n);
    g->len += n;
    g->ready += n;
}

/* ------------------------------------------------------------ checks */

static bool refuse_with(http_gate *g, unsigned status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool refuse_with(http_gate *g, unsigned status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->why, sizeof g->why, fmt, ap);
    va_end(ap);
    g->status = status;
    g->phase = GATE_REFUSED;
    g->len = g->ready; /* what follows the refused part is never handed on */
    return false;
}

/* Per byte: 1, a token character (RFC 9110 tchar: header names, methods);
 * 2, a byte a header value may not hold (controls but tab, and DEL). A
 * table: every byte of every request head is looked up. */
enum { BYTE_TCHAR = 1, BYTE_BAD_IN_VALUE = 2 };
static const uint8_t byte_class[256] = {
    2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 2,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static bool is_tchar(uint8_t c) { return byte_class[c] & BYTE_TCHAR; }

void http_trim_ows(const uint8_t **p, const uint8_t **end)
{
    while (*p < *end && (**p == ' ' || **p == '\t')) (*p)++;
    while (*end > *p && ((*end)[-1] == ' ' || (*end)[-1] == '\t')) (*end)--;
}

/* One header (or trailer) line without its CRLF; counts the framing
 * headers. False: refused. */
static bool check_header_line(http_gate *g, const uint8_t *p, const uint8_t *end, int *n_length, int *n_encoding,
                              uint64_t *length)
{
    if (p == end || *p == ' ' || *p == '\t') return refuse_with(g, 400, "bad request: obsolete line folding or empty header name");
    const uint8_t *colon = p;
    while (colon < end && is_tchar(*colon)) colon++;
    if (colon == end || *colon != ':') return refuse_with(g, 400, "bad request: malformed header line");
    for (const uint8_t *q = colon + 1; q < end; q++)
        if (byte_class[*q] & BYTE_BAD_IN_VALUE) return refuse_with(g, 400, "bad request: control character in a header value");
    const uint8_t *v = colon + 1, *vend = end;
    http_trim_ows(&v, &vend);
    size_t name_len = (size_t)(colon - p), vlen = (size_t)(vend - v);
    if (name_len == 14 && strncasecmp((const char *)p, "Content-Length", 14) == 0) {
        if (++*n_length > 1) return refuse_with(g, 400, "bad request: more than one Content-Length");
        if (vlen == 0 || vlen > 18) return refuse_with(g, 400, "bad request: invalid Content-Length");
        uint64_t n = 0;
        for (const uint8_t *q = v; q < vend; q++) {
            if (*q < '0' || *q > '9') return refuse_with(g, 400, "bad request: invalid Content-Length");
            n = n * 10 + (uint64_t)(*q - '0');
        }
        *length = n;
    } else if (name_len == 17 && strncasecmp((const char *)p, "Transfer-Encoding", 17) == 0) {
        if (++*n_encoding > 1 || vlen != 7 || strncasecmp((const char *)v, "chunked", 7) != 0)
            return refuse_with(g, 400, "bad request: unsupported Transfer-Encoding (only chunked)");
    }
    return true;
}

/* The next CRLF-ended line in [p, end): its end (at the CR), or NULL when
 * not complete; a bare CR or LF refuses. */
static const uint8_t *line_end(http_gate *g, const uint8_t *p, const uint8_t *end, bool *bad)
{
    *bad = false;
    /* The first CR, and no LF before it (memchr: vectorised). */
    const uint8_t *q = memchr(p, '\r', (size_t)(end - p));
    if (memchr(p, '\n', (size_t)((q ? q : end) - p))) {
        *bad = true;
        refuse_with(g, 400, "bad request: bare LF in the request head");
        return NULL;
    }
    if (!q || q + 1 == end) return NULL;
    if (q[1] != '\n') {
        *bad = true;
        refuse_with(g, 400, "bad request: bare CR in the request head");
        return NULL;
    }
    return q;
}

/* A complete head [p, end) (end after its blank line). False: refused. */
static bool check_head(http_gate *g, const uint8_t *p, const uint8_t *end)
{
    bool bad;
    const uint8_t *eol = line_end(g, p, end, &bad);
    if (!eol) return bad ? false : refuse_with(g, 400, "bad request: malformed request line");
    /* METHOD SP TARGET SP HTTP/d.d */
    const uint8_t *m = p;
    while (m < eol && is_tchar(*m)) m++;
    if (m == p || m == eol || *m != ' ') return refuse_with(g, 400, "bad request: malformed request line");
    const uint8_t *t = m + 1, *tend = t;
    while (tend < eol && *tend > 0x20 && *tend != 0x7f) tend++;
    if (tend == t || tend == eol || *tend != ' ') return refuse_with(g, 400, "bad request: malformed request line");
    const uint8_t *ver = tend + 1;
    size_t vlen = (size_t)(eol - ver);
    if (vlen != 8 || memcmp(ver, "HTTP/", 5) != 0 || ver[5] < '0' || ver[5] > '9' || ver[6] != '.' || ver[7] < '0' || ver[7] > '9')
        return refuse_with(g, 400, "bad request: malformed request line");
    bool http10 = memcmp(ver, "HTTP/1.0", 8) == 0;
    if (!http10 && memcmp(ver, "HTTP/1.1", 8) != 0) return refuse_with(g, 505, "HTTP version not supported (only 1.0 and 1.1)");
    int n_length = 0, n_encoding = 0;
    uint64_t length = 0;
    g->fields = 0;
    g->head_bytes = (size_t)(end - p);
    for (const uint8_t *line = eol + 2; line < end - 2;) {
        const uint8_t *le = line_end(g, line, end, &bad);
        if (!le) return bad ? false : refuse_with(g, 400, "bad request: malformed header line");
        if (++g->fields > HTTP_GATE_FIELDS_MAX)
            return refuse_with(g, 431, "request header fields too large (more than %d fields)", HTTP_GATE_FIELDS_MAX);
        if (!check_header_line(g, line, le, &n_length, &n_encoding, &length)) return false;
        line = le + 2;
    }
    if (n_length && n_encoding) return refuse_with(g, 400, "bad request: Transfer-Encoding with Content-Length");
    if (n_encoding && http10) return refuse_with(g, 400, "bad request: Transfer-Encoding in an HTTP/1.0 request");
    if (n_length && length > g->max_body)
        return refuse_with(g, 413, "content length too large (%llu>%zu)", (unsigned long long)length, g->max_body);
    if (n_encoding) {
        g->phase = GATE_CHUNK_SIZE;
        g->body_seen = 0;
    } else if (length) {
        g->phase = GATE_BODY;
        g->remaining = length;
    } else {
        g->complete++;
    }
    return true;
}

/* The first CRLF CRLF in [p, p+n), or NULL: a line at a time (memchr is
 * vectorised; glibc's memmem costs about 500 instructions per head). */
static const uint8_t *find_blank_line(const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    for (const uint8_t *q = p; q < end;) {
        const uint8_t *lf = memchr(q, '\n', (size_t)(end - q));
        if (!lf) return NULL;
        if (lf - p >= 3 && lf[-1] == '\r' && lf[-2] == '\n' && lf[-3] == '\r') return lf - 3;
        q = lf + 1;
    }
    return NULL;
}

/* Moves `ready` over what the bytes read so far show to be sound; stops at
 * an incomplete part or a refusal. */
static void scan(http_gate *g)
{
    for (;;) {
        const uint8_t *p = g->buf + g->ready, *end = g->buf + g->len;
        size_t avail = g->len - g->ready;
        bool bad;
        switch (g->phase) {
        case GATE_HEAD: {
            while (avail >= 2 && p[0] == '\r' && p[1] == '\n') { /* empty lines before a request are allowed */
                g->ready += 2;
                p += 2;
                avail -= 2;
            }
            if (avail == 0) return;
            const uint8_t *blank = avail >= 4 ? find_blank_line(p, avail) : NULL;
            size_t head_len = blank ? (size_t)(blank - p) + 4 : avail;
            if (head_len > HTTP_GATE_HEAD_MAX) {
                if (!memmem(p, HTTP_GATE_HEAD_MAX, "\r\n", 2))
                    refuse_with(g, 414, "URI too long (the request line is over %d bytes)", HTTP_GATE_HEAD_MAX);
                else
                    refuse_with(g, 431, "request header fields too large (over %d bytes)", HTTP_GATE_HEAD_MAX);
                return;
            }
            if (!blank) {
                (void)line_end(g, p, end, &bad); /* refuses a bare CR or LF in the first line at once */
                return;
            }
            if (!check_head(g, p, p + head_len)) return;
            g->ready += head_len;
            break;
        }
        case GATE_BODY:
        case GATE_CHUNK_DATA: {
            if (avail == 0) return;
            uint64_t k = avail < g->remaining ? avail : g->remaining;
            g->ready += (size_t)k;
            g->remaining -= k;
            if (g->remaining == 0) {
                if (g->phase == GATE_BODY) {
                    g->phase = GATE_HEAD;
                    g->complete++;
                } else {
                    g->phase = GATE_CHUNK_END;
                }
            }
            break;
        }
        case GATE_CHUNK_SIZE: {
            const uint8_t *eol = avail ? memchr(p, '\n', avail) : NULL;
            if (!eol) {
                if (avail > CHUNK_LINE_MAX) refuse_with(g, 400, "bad request: chunk-size line too long");
                return;
            }
            if (eol == p || eol[-1] != '\r' || eol - p > CHUNK_LINE_MAX) {
                refuse_with(g, 400, "bad request: malformed chunk-size line");
                return;
            }
            const uint8_t *q = p;
            uint64_t size = 0;
            int digits = 0;
            for (; q < eol - 1 && digits <= 15; q++, digits++) {
                int d = *q >= '0' && *q <= '9' ? *q - '0' : (*q | 0x20) >= 'a' && (*q | 0x20) <= 'f' ? (*q | 0x20) - 'a' + 10 : -1;
                if (d < 0) break;
                size = size << 4 | (uint64_t)d;
            }
            if (digits == 0 || digits > 15 || (q < eol - 1 && *q != ';' && *q != ' ' && *q != '\t')) {
                refuse_with(g, 400, "bad request: malformed chunk size (at most 15 hex digits)");
                return;
            }
            for (const uint8_t *x = q; x < eol - 1; x++)
                if ((*x < 0x20 && *x != '\t') || *x == 0x7f) {
                    refuse_with(g, 400, "bad request: control character in a chunk extension");
                    return;
                }
            if (size > g->max_body - g->body_seen) {
                refuse_with(g, 413, "content length too large (chunked body over %zu)", g->max_body);
                return;
            }
            g->body_seen += size;
            g->ready += (size_t)(eol + 1 - p);
            if (size) {
                g->phase = GATE_CHUNK_DATA;
                g->remaining = size;
            } else {
                g->phase = GATE_TRAILERS;
            }
            break;
        }
        case GATE_CHUNK_END:
            if (avail < 2) return;
            if (p[0] != '\r' || p[1] != '\n') {
                refuse_with(g, 400, "bad request: chunk data not followed by CRLF");
                return;
            }
            g->ready += 2;
            g->phase = GATE_CHUNK_SIZE;
            break;
        case GATE_TRAILERS: {
            const uint8_t *le = line_end(g, p, end, &bad);
            if (!le) {
                if (!bad && avail + g->head_bytes > HTTP_GATE_HEAD_MAX)
                    refuse_with(g, 431, "request header fields too large (head and trailers over %d bytes)", HTTP_GATE_HEAD_MAX);
                return;
            }
            size_t n = (size_t)(le - p) + 2;
            g->head_bytes += n;
            if (g->head_bytes > HTTP_GATE_HEAD_MAX) {
                refuse_with(g, 431, "request header fields too large (head and trailers over %d bytes)", HTTP_GATE_HEAD_MAX);
                return;
            }
            if (le > p && ++g->fields > HTTP_GATE_FIELDS_MAX) {
                refuse_with(g, 431, "request header fields too large (more than %d fields with the trailers)", HTTP_GATE_FIELDS_MAX);
                return;
            }
            if (le > p) {
                int nl = 0, ne = 0;
                uint64_t unused;
                if (!check_header_line(g, p, le, &nl, &ne, &unused)) return;
                if (nl || ne) {
                    refuse_with(g, 400, "bad request: framing header in the trailers");
                    return;
                }
            }
            g->ready += n;
            if (le == p) {
                g->phase = GATE_HEAD;
                g->complete++;
            }
            break;
        }
        case GATE_REFUSED:
        case GATE_CLOSED: return;
        }
    }
}

/* ------------------------------------------------------------ refusal */

static ssize_t sys_recv(int fd, void *buf, size_t len, int flags)
{
    return (ssize_t)syscall(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
}


static const char *reason_phrase(unsigned status)
{
    switch (status) {
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 505: return "HTTP Version Not Supported";
    default: return "Bad Request";
    }
}

/* Writes the refusal (a small response into an idle socket's send buffer:
 * one send) and ends the stream. */
static void send_refusal(http_gate *g)
{
    size_t body_len;
    char *body = rpc_error_text(RPC_INVALID_REQUEST, g->why, &body_len);
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     g->status, reason_phrase(g->status), body_len);
    bytebuf out = {0};
    bytebuf_append(&out, head, (size_t)n);
    bytebuf_append(&out, body, body_len);
    free(body);
    (void)send(g->fd, out.data, out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    bytebuf_free(&out);
    shutdown(g->fd, SHUT_WR);
    g->phase = GATE_CLOSED;
    g->len = g->ready = 0;
    atomic_store_explicit(&g->linger_until_ns, monotonic_ns() + (uint64_t)HTTP_GATE_LINGER_MS * 1000000u,
                          memory_order_relaxed);
    if (refusal_hook) refusal_hook(g->status, g->why);
}

uint64_t http_gate_linger_deadline(const http_gate *g)
{
    return g ? atomic_load_explicit(&g->linger_until_ns, memory_order_relaxed) : 0;
}

/* recv() on a socket whose refusal went out: drops what arrives; 0 (the
 * end, libmicrohttpd closes) once the client ended its side or the linger
 * ran out of time or bytes, else EAGAIN (wait for the next bytes). */
static ssize_t linger_recv(http_gate *g, int fd, int flags)
{
    uint8_t sink[GATE_READ_SIZE];
    for (;;) {
        if (g->eof || g->lingered >= HTTP_GATE_LINGER_BYTES ||
            monotonic_ns() >= atomic_load_explicit(&g->linger_until_ns, memory_order_relaxed))
            return 0;
        ssize_t r = sys_recv(fd, sink, sizeof sink, flags | MSG_DONTWAIT);
        if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : 0;
        if (r == 0) g->eof = true;
        g->lingered += (uint64_t)r;
    }
}

void http_gate_request_done(http_gate *g)
{
    if (!g) return;
    g->answered++;
    if (g->phase == GATE_REFUSED && g->ready == 0 && g->answered >= g->complete) {
        send_refusal(g); /* the client's end of the stream, or the guard at the linger deadline, wakes libmicrohttpd */
    }
}

/* ------------------------------------------------------------ recv */

ssize_t recv(int fd, void *out, size_t n, int flags)
{
    http_gate *g = fd >= 0 && (size_t)fd < n_gates ? atomic_load_explicit(&gates[fd], memory_order_acquire) : NULL;
    if (!g || n == 0 || (flags & MSG_PEEK)) return sys_recv(fd, out, n, flags);
    size_t given = 0;
    bool drained = false; /* a read in this call got less than it asked: the socket had no more */
    for (;;) {
        size_t k = g->ready < n - given ? g->ready : n - given;
        if (k) {
            memcpy((uint8_t *)out + given, g->buf, k);
            memmove(g->buf, g->buf + k, g->len - k);
            g->len -= k;
            g->ready -= k;
            given += k;
        }
        if (given == n) return (ssize_t)given;
        if (g->phase == GATE_REFUSED) {
            /* libmicrohttpd takes a short read as "drained" and waits for
             * the socket's next event: when the refusal is due (no earlier
             * answer pending) it goes out now, and the client's end of the
             * stream (or the guard, at the linger deadline) is that event. */
            if (given && g->answered >= g->complete) send_refusal(g);
            if (given) return (ssize_t)given;
            if (g->answered >= g->complete) {
                send_refusal(g);
                return linger_recv(g, fd, flags);
            }
            errno = EAGAIN; /* the answers before the refusal come first (http_gate_request_done) */
            return -1;
        }
        if (g->phase == GATE_CLOSED) return given ? (ssize_t)given : linger_recv(g, fd, flags);
        if (g->eof) return (ssize_t)given;
        /* A socket drained by this call needs no second read to say so (an
         * EAGAIN would cost a system call per request): a short answer
         * tells libmicrohttpd the same, and new bytes raise a new epoll
         * event. Not one drained by an earlier call: bytes that arrived
         * since raised their event while libmicrohttpd still counted the
         * socket readable (that call's answer was full), so a short answer
         * now would leave them unread, and a client whose window is full
         * then waits for the idle timeout. */
        if (drained) {
            if (given) return (ssize_t)given;
            errno = EAGAIN;
            return -1;
        }
        if (g->cap - g->len < GATE_READ_SIZE) {
            g->cap = g->len + GATE_READ_SIZE;
            g->buf = xrealloc(g->buf, g->cap);
        }
        size_t space = g->cap - g->len;
        ssize_t r = sys_recv(fd, g->buf + g->len, space, flags);
        if (r < 0) {
            if (given) return (ssize_t)given;
            return -1; /* errno from the socket: EAGAIN when drained */
        }
        if (r == 0) {
            g->eof = true; /* an incomplete head or body left: never handed on */
            continue;
        }
        g->len += (size_t)r;
        drained = (size_t)r < space;
        scan(g);
    }
}
