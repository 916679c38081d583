/* A strict HTTP/1.1 framing check between the sockets and libmicrohttpd
 * (http_gate.c): every request head on a connection is read, checked and
 * only then handed on; what libmicrohttpd 0.9.75 would refuse itself (with
 * an HTML page), or read differently from a proxy, is refused here with a
 * JSON-RPC error body. Internal to rpc_server.c. */
#ifndef JITEVM_HTTP_GATE_H
#define JITEVM_HTTP_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest request head (request line and headers) and, with it, the
 * trailers of a chunked body: bytes, and header fields (Apache's
 * LimitRequestFields default). rpc_server.c sizes libmicrohttpd's
 * per-connection memory so that any head within both fits (past about 125
 * fields of an 8 KB head it would refuse with its own HTML page). */
#define HTTP_GATE_HEAD_MAX 8192
#define HTTP_GATE_FIELDS_MAX 100

/* After a refusal, how long and how much of the client's remaining upload
 * is read and dropped before the socket closes (see http_gate.c). */
#define HTTP_GATE_LINGER_MS 2000
#define HTTP_GATE_LINGER_BYTES (16u << 20)

typedef struct http_gate http_gate;

/* Once, before connections: sizes the table of gated sockets (by the
 * process's descriptor limit). `on_refusal` (may be NULL) is told of each
 * refusal, on the connection's polling thread. False when out of memory. */
bool http_gate_init(void (*on_refusal)(unsigned status, const char *why));

/* Gates socket `fd` (a new connection, before libmicrohttpd reads it);
 * bodies may be `max_body` bytes at most. NULL when fd is beyond the table
 * (the connection must then be closed). */
http_gate *http_gate_open(int fd, size_t max_body);
/* Before libmicrohttpd closes the socket. */
void http_gate_close(http_gate *g);
/* A request on the connection was answered (libmicrohttpd's completion
 * callback): a refusal held back until the requests before it had their
 * answers goes out now. */
void http_gate_request_done(http_gate *g);

/* [*p, *end), a header value, without the optional whitespace around it
 * (spaces and tabs). */
void http_trim_ows(const uint8_t **p, const uint8_t **end);

/* The caller's record of the connection, and the record of the gated
 * socket `fd` (NULL when none). */
void http_gate_set_user(http_gate *g, void *user);
void *http_gate_user_of(int fd);
/* Puts back `n` bytes a reader took (checked bytes, handed on before):
 * the next recv() returns them first. The fast HTTP path gives
 * libmicrohttpd the requests it did not answer this way. */
void http_gate_unread(http_gate *g, const void *bytes, size_t n);

/* When the lingering after a refusal ends (monotonic ns; 0: no refusal
 * yet). The guard thread shuts down a socket past it, for a client that
 * neither sends nor ends its side. Any thread. */
uint64_t http_gate_linger_deadline(const http_gate *g);

#endif
