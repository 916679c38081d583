/* The fast HTTP path (http_front.c): plain JSON-RPC POSTs on kept-alive
 * connections, read, answered and written by a few epoll threads of its
 * own, without libmicrohttpd's per-request machinery. Every connection
 * starts here; the first request it does not take (anything but a plain
 * POST /, or one that needs an EVM worker) hands the connection to
 * libmicrohttpd for good, with the bytes already read. Internal to
 * rpc_server.c. */
#ifndef JITEVM_HTTP_FRONT_H
#define JITEVM_HTTP_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rpc/http_gate.h"

typedef struct http_front http_front;

enum http_front_event {
    HTTP_FRONT_BODY_PENDING, /* a request's head arrived; `length` body bytes are still to come */
    HTTP_FRONT_ANSWERED,     /* a request was answered: the connection waits for the next one */
};

/* What the server does for the fast path. `conn` is the caller's value given
 * to http_front_add. Each is called on the connection's thread. */
typedef struct {
    void *ctx;
    /* The answer to a JSON-RPC body (malloc'd, *answer_len bytes; "" for a
     * body of notifications only), or NULL: the request goes to
     * libmicrohttpd, *to_worker set when it needs an EVM worker (it was
     * tried here already). */
    char *(*answer)(void *ctx, void *conn, const uint8_t *body, size_t len, size_t *answer_len, bool *to_worker);
    void (*event)(void *ctx, void *conn, enum http_front_event e, uint64_t length);
    /* Takes over socket `fd` (libmicrohttpd's now); the gate holds the
     * bytes read but not answered. */
    void (*hand_off)(void *ctx, void *conn, int fd, const struct sockaddr *addr, socklen_t addr_len, bool to_worker);
    /* The connection ends; `fd` is closed after this returns. */
    void (*closed)(void *ctx, void *conn);
} http_front_hooks;

typedef struct {
    int threads;
    size_t stack_size;
    const char *cors_origin; /* "" : no CORS headers */
} http_front_config;

/* Whether a Content-Type value [v, v+n) names JSON (application/json,
 * application/json-rpc, application/jsonrequest; parameters ignored). */
bool http_json_media_type(const char *v, size_t n);

/* NULL when its threads cannot start. */
http_front *http_front_start(const http_front_config *cfg, const http_front_hooks *hooks);
/* Takes a new connection: `fd` non-blocking, gated by `gate` (whose user is
 * `conn`). False: not taken (the caller closes it). Any thread. */
bool http_front_add(http_front *f, int fd, const struct sockaddr *addr, socklen_t addr_len, http_gate *gate, void *conn);
/* From now on answers say Connection: close, and their connections close
 * once the answer is out. */
void http_front_drain(http_front *f);
/* Closes every connection it holds, joins its threads, frees it. */
void http_front_stop(http_front *f);

#endif
