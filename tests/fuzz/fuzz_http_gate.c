/* libFuzzer harness for the HTTP framing gate (service/rpc/http_gate.c):
 * any bytes a client can send, through the gate's recv() on one end of a
 * socket pair, as libmicrohttpd would read them.
 *
 * Input: byte 0 sets the body limit (64 << (b % 12)) and how many bytes
 * each read asks for (1 + b1 * 31, so 1 to 7906: reads split the stream
 * anywhere); bytes 2.. are the client's stream. After each read a request
 * is marked answered when the fuzz byte at that point says so, exercising
 * the refusal held back behind earlier answers.
 * Checked: no crash or sanitizer report; what the gate hands on is exactly
 * a prefix of what the client sent (it never alters, adds or reorders a
 * byte); what the client receives is nothing, or one response with a
 * status of 400, 413, 414, 431 or 505, `Connection: close`, and a body of
 * exactly its Content-Length holding a JSON-RPC -32600 error.
 * Build and run: make fuzz. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/http_gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        if (!http_gate_init(NULL)) abort();
        ready = true;
    }
    if (size < 2 || size > 60000) return 0;
    size_t max_body = (size_t)64 << (data[0] % 12), ask = 1 + (size_t)data[1] * 31;
    const uint8_t *stream = data + 2;
    size_t n = size - 2;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) abort();
    int buf = 1 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (write(sv[1], stream, n) != (ssize_t)n) abort();
    shutdown(sv[1], SHUT_WR);
    http_gate *g = http_gate_open(sv[0], max_body);
    if (!g) abort();

    uint8_t *out = malloc(n + 1);
    size_t got = 0;
    uint8_t *chunk = malloc(ask);
    for (int rounds = 0; rounds < 100000; rounds++) {
        ssize_t r = recv(sv[0], chunk, ask, 0);
        if (r > 0) {
            if (got + (size_t)r > n) abort(); /* more than was sent */
            memcpy(out + got, chunk, (size_t)r);
            got += (size_t)r;
        }
        if (got && stream[(got - 1) % n] & 1) http_gate_request_done(g);
        if (r == 0) break;
        if (r < 0 && errno != EAGAIN) break;
        if (r < 0) http_gate_request_done(g); /* what libmicrohttpd does next: answer what it has */
    }
    if (got && memcmp(out, stream, got) != 0) abort(); /* a prefix, unaltered */
    free(chunk);
    free(out);

    /* What the client got back: nothing, or exactly one well-formed refusal. */
    char reply[4096];
    ssize_t m = read(sv[1], reply, sizeof reply - 1);
    if (m > 0) {
        reply[m] = '\0';
        unsigned status;
        size_t length;
        char *body = strstr(reply, "\r\n\r\n"), *cl = strstr(reply, "Content-Length: ");
        if (sscanf(reply, "HTTP/1.1 %u ", &status) != 1 || !body || !cl || sscanf(cl, "Content-Length: %zu", &length) != 1 ||
            !strstr(reply, "Connection: close\r\n"))
            abort();
        if (status != 400 && status != 413 && status != 414 && status != 431 && status != 505) abort();
        body += 4;
        if (strlen(body) != length || !strstr(body, "\"code\":-32600") || strchr(body, '\r')) abort();
    }
    http_gate_close(g);
    close(sv[0]);
    close(sv[1]);
    return 0;
}
