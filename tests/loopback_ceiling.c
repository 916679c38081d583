/* loopback-ceiling: an HTTP/1.1 server that does nothing but answer every
 * request with the same JSON-RPC result, as cheaply as the kernel allows.
 * The benchmarks run it beside jitevm and anvil under the same wrk load:
 * its rate is the most any server can answer on this machine with the load
 * generator sharing the CPUs, so a ratio against another server reads
 * against that bound (on 2 CPUs most of a request's time is the kernel's
 * loopback TCP, for the client and the server alike).
 *
 * What keeps it cheap: a few threads (default one per CPU it may run on), each with its
 * own epoll and an even share of the connections (handed out in turn by
 * the accepting thread); one recv and one send per request; no allocation
 * after accept.
 * It still frames requests properly (head, Content-Length, pipelining), so
 * that it answers exactly one response per request.
 *
 * Usage: loopback-ceiling [PORT [THREADS]]   (port 0 or none: a free one). Prints
 * "listening on 127.0.0.1:PORT" once it accepts; runs until killed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, memmem */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_THREADS 64
#define CONN_BUFFER 16384 /* a request (head and body) larger than this closes the connection */

/* The size of a balanceOf answer. */
static const char BODY[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
                           "\"0x0000000000000000000000000000000000000000000000000000000000000000\"}";
static char reply[256]; /* the head and BODY, made in main */
static size_t reply_len;

typedef struct {
    int fd;
    size_t used;
    char buf[CONN_BUFFER];
} connection;

/* The length of the first whole request in buf[0..len), 0 if it is not all
 * there yet, -1 if it is malformed or too large. */
static long request_length(const char *buf, size_t len)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end) return len >= CONN_BUFFER ? -1 : 0;
    size_t head = (size_t)(end - buf) + 4;
    size_t body = 0;
    for (const char *line = memchr(buf, '\n', head); line && line + 1 < buf + head; line = memchr(line + 1, '\n', (size_t)(buf + head - line - 1))) {
        if (strncasecmp(line + 1, "content-length:", 15) == 0) {
            char *stop;
            unsigned long v = strtoul(line + 16, &stop, 10);
            if (stop == line + 16 || v > CONN_BUFFER) return -1;
            body = v;
        }
    }
    if (head + body > CONN_BUFFER) return -1;
    return head + body <= len ? (long)(head + body) : 0;
}

static void close_connection(int epoll_fd, connection *c)
{
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Reads what the connection has and answers each whole request in it. */
static void serve_readable(int epoll_fd, connection *c)
{
    ssize_t got = recv(c->fd, c->buf + c->used, CONN_BUFFER - c->used, 0);
    if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
        close_connection(epoll_fd, c);
        return;
    }
    c->used += (size_t)got;
    size_t answers = 0, consumed = 0;
    long n;
    while ((n = request_length(c->buf + consumed, c->used - consumed)) > 0) {
        consumed += (size_t)n;
        answers++;
    }
    if (n < 0) {
        close_connection(epoll_fd, c);
        return;
    }
    memmove(c->buf, c->buf + consumed, c->used - consumed);
    c->used -= consumed;
    /* Pipelined requests get their answers in one send. */
    static __thread char out[16 * sizeof reply];
    while (answers > 0) {
        size_t k = answers < 16 ? answers : 16, len = 0;
        for (size_t i = 0; i < k; i++, len += reply_len)
            memcpy(out + len, reply, reply_len);
        /* The client reads its answers before it sends more: the socket
         * buffer takes these few hundred bytes whole. */
        if (send(c->fd, out, len, MSG_NOSIGNAL) != (ssize_t)len) {
            close_connection(epoll_fd, c);
            return;
        }
        answers -= k;
    }
}

static void *serve_thread(void *arg)
{
    int epoll_fd = (int)(intptr_t)arg;
    struct epoll_event events[64];
    for (;;) {
        int n = epoll_wait(epoll_fd, events, 64, -1);
        for (int i = 0; i < n; i++)
            serve_readable(epoll_fd, events[i].data.ptr);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    /* The CPUs it may run on (taskset), not the machine's: bench-fork pins
     * it to one, and a second thread there only sleeps and wakes in turn
     * with the first (measured: 7.2 us of CPU per request against 6.0). */
    cpu_set_t allowed;
    int cpus = sched_getaffinity(0, sizeof allowed, &allowed) == 0 ? CPU_COUNT(&allowed) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    int threads = argc > 2 ? atoi(argv[2]) : cpus < 1 ? 1 : cpus;
    if (threads < 1 || threads > MAX_THREADS) {
        fprintf(stderr, "loopback-ceiling: THREADS must be 1..%d\n", MAX_THREADS);
        return 1;
    }
    reply_len = (size_t)snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                 sizeof BODY - 1, BODY);
    int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t addr_len = sizeof addr;
    if (listen_fd < 0 || setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listen_fd, 1024) != 0 ||
        getsockname(listen_fd, (struct sockaddr *)&addr, &addr_len) != 0) {
        fprintf(stderr, "loopback-ceiling: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    int epoll_fds[MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        pthread_t tid;
        epoll_fds[i] = epoll_create1(EPOLL_CLOEXEC);
        if (epoll_fds[i] < 0 || pthread_create(&tid, NULL, serve_thread, (void *)(intptr_t)epoll_fds[i]) != 0) {
            fprintf(stderr, "loopback-ceiling: cannot start a thread\n");
            return 1;
        }
    }
    printf("listening on 127.0.0.1:%d (%d threads)\n", ntohs(addr.sin_port), threads);
    fflush(stdout);
    /* Connections go to the threads in turn: the load is spread evenly
     * whatever the kernel's wake-up order. */
    for (unsigned next = 0;; next++) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        connection *c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->used = 0;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epoll_fds[next % (unsigned)threads], EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            free(c);
        }
    }
}
