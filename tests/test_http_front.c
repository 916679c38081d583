/* The fast HTTP path (http_front.c) and what it needs of the framing gate,
 * over socket pairs with hooks of the test's own: the JSON media types; a
 * gate's put-back bytes come out of the next recv first; a gate closed
 * after its descriptor went to a new connection leaves the new one's;
 * pipelined POSTs answered in order with libmicrohttpd's head; a request in
 * pieces; a GET, and a call that needs a worker, handed over with their
 * bytes still to read; the client's close closes the connection. */
#include <check.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rpc/http_front.h"
#include "rpc/http_gate.h"
#include "testlib.h"

static const char *const accepted[] = {"application/json", "Application/JSON; charset=utf-8", " application/json-rpc ",
                                       "application/jsonrequest;x=1"};
static const char *const refused[] = {"text/plain", "application/jsonx", "application/", "", "json"};

START_TEST(json_media_types)
{
    for (size_t i = 0; i < sizeof accepted / sizeof *accepted; i++)
        ck_assert_msg(http_json_media_type(accepted[i], strlen(accepted[i])), "%s", accepted[i]);
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        ck_assert_msg(!http_json_media_type(refused[i], strlen(refused[i])), "%s", refused[i]);
}
END_TEST

/* The gate's table, once per process. */
static void gate_init(void)
{
    static bool done;
    if (!done) ck_assert(http_gate_init(NULL));
    done = true;
}

static void pair(int sp[2])
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
}

static void send_all(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        ck_assert_int_gt(w, 0);
        s += w;
        n -= (size_t)w;
    }
}

/* Reads from `fd` (non-blocking) until `want` bytes came or 5 s passed. */
static size_t read_for(int fd, char *buf, size_t want)
{
    size_t got = 0;
    for (int i = 0; i < 5000 && got < want; i++) {
        ssize_t r = recv(fd, buf + got, want - got, 0);
        if (r > 0) got += (size_t)r;
        else if (r == 0) break;
        else usleep(1000);
    }
    return got;
}

START_TEST(put_back_bytes_come_first)
{
    gate_init();
    int sp[2];
    pair(sp);
    http_gate *g = http_gate_open(sp[0], 1 << 20);
    int user;
    http_gate_set_user(g, &user);
    ck_assert_ptr_eq(http_gate_user_of(sp[0]), &user);
    const char *req = "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}";
    send_all(sp[1], req);
    char buf[256];
    size_t n = read_for(sp[0], buf, strlen(req));
    ck_assert_uint_eq(n, strlen(req));
    http_gate_unread(g, buf + 10, n - 10);
    send_all(sp[1], req);
    char again[512];
    size_t m = read_for(sp[0], again, n - 10 + strlen(req));
    ck_assert_uint_eq(m, n - 10 + strlen(req));
    ck_assert(memcmp(again, req + 10, n - 10) == 0);
    ck_assert(memcmp(again + n - 10, req, strlen(req)) == 0);
    /* The descriptor's entry is a new connection's: closing the old gate leaves it. */
    int other;
    http_gate *g2 = http_gate_open(sp[0], 1 << 20);
    http_gate_set_user(g2, &other);
    http_gate_close(g);
    ck_assert_ptr_eq(http_gate_user_of(sp[0]), &other);
    http_gate_close(g2);
    ck_assert_ptr_null(http_gate_user_of(sp[0]));
    close(sp[0]);
    close(sp[1]);
}
END_TEST

/* ---- the hooks: an answer echoes the body; a body "worker" needs a worker. */
static atomic_int answers, handed, handed_fd, handed_to_worker, closed, bodies_pending, answered_events;

static char *echo_answer(void *ctx, void *conn, const uint8_t *body, size_t len, size_t *answer_len, bool *to_worker)
{
    (void)ctx, (void)conn;
    if (len == 8 && memcmp(body, "\"worker\"", 8) == 0) {
        *to_worker = true;
        return NULL;
    }
    atomic_fetch_add(&answers, 1);
    char *out = malloc(len + 10);
    *answer_len = (size_t)sprintf(out, "{\"echo\":%.*s}", (int)len, (const char *)body);
    return out;
}

static void count_event(void *ctx, void *conn, enum http_front_event e, uint64_t length)
{
    (void)ctx, (void)conn, (void)length;
    atomic_fetch_add(e == HTTP_FRONT_BODY_PENDING ? &bodies_pending : &answered_events, 1);
}

static void record_hand_off(void *ctx, void *conn, int fd, const struct sockaddr *addr, socklen_t addr_len, bool to_worker)
{
    (void)ctx, (void)conn, (void)addr, (void)addr_len;
    atomic_store(&handed_to_worker, to_worker);
    atomic_store(&handed_fd, fd);
    atomic_fetch_add(&handed, 1);
}

static void record_close(void *ctx, void *conn)
{
    (void)ctx;
    http_gate_close(conn);
    atomic_fetch_add(&closed, 1);
}

static http_front *start_front(void)
{
    atomic_store(&answers, 0);
    atomic_store(&handed, 0);
    atomic_store(&closed, 0);
    atomic_store(&bodies_pending, 0);
    atomic_store(&answered_events, 0);
    gate_init();
    http_front_config cfg = {.threads = 2, .stack_size = 1 << 20, .cors_origin = "*"};
    http_front_hooks hooks = {.answer = echo_answer, .event = count_event, .hand_off = record_hand_off, .closed = record_close};
    http_front *f = http_front_start(&cfg, &hooks);
    ck_assert_ptr_nonnull(f);
    return f;
}

/* A connection on the front; the gate's user is the gate (record_close closes it). */
static http_gate *add_conn(http_front *f, int fd)
{
    http_gate *g = http_gate_open(fd, 1 << 20);
    http_gate_set_user(g, g);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    ck_assert(http_front_add(f, fd, (struct sockaddr *)&addr, sizeof addr, g, g));
    return g;
}

static bool wait_for(atomic_int *v, int want)
{
    for (int i = 0; i < 5000 && atomic_load(v) < want; i++) usleep(1000);
    return atomic_load(v) >= want;
}

#define POST(body) "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " #body "\r\n\r\n"

/* Strips the Date line (its value changes) from an answer head. */
static void without_date(char *s)
{
    char *d;
    while ((d = strstr(s, "Date: ")) != NULL) {
        char *end = strstr(d, "\r\n");
        memmove(d, end + 2, strlen(end + 2) + 1);
    }
}

START_TEST(plain_posts_are_answered_in_order)
{
    http_front *f = start_front();
    int sp[2];
    pair(sp);
    add_conn(f, sp[0]);
    send_all(sp[1], POST(3) "[1]" POST(3) "[2]");
    static const char one[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nAccess-Control-Allow-Origin: *\r\n"
                              "Content-Length: 12\r\n\r\n{\"echo\":[1]}";
    char buf[1024] = {0};
    /* Each head has a 37-byte Date line. */
    size_t want = 2 * (sizeof one - 1 + 37);
    ck_assert_uint_eq(read_for(sp[1], buf, want), want);
    ck_assert(strncmp(buf, "HTTP/1.1 200 OK\r\nDate: ", 23) == 0);
    without_date(buf);
    char expect[512];
    snprintf(expect, sizeof expect, "%s%s", one, one);
    expect[strlen(one) * 2 - 3] = '2';
    ck_assert_str_eq(buf, expect);
    /* A request in pieces: its body's arrival is waited for, with its deadline. */
    send_all(sp[1], "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n[");
    ck_assert(wait_for(&bodies_pending, 1));
    send_all(sp[1], "3]");
    memset(buf, 0, sizeof buf);
    ck_assert_uint_eq(read_for(sp[1], buf, sizeof one - 1 + 37), sizeof one - 1 + 37);
    ck_assert(strstr(buf, "{\"echo\":[3]}") != NULL);
    ck_assert_int_eq(atomic_load(&answers), 3);
    ck_assert_int_eq(atomic_load(&answered_events), 3);
    /* The client's close ends it. */
    close(sp[1]);
    ck_assert(wait_for(&closed, 1));
    ck_assert_int_eq(atomic_load(&handed), 0);
    http_front_stop(f);
}
END_TEST

START_TEST(what_it_does_not_take_is_handed_over_with_its_bytes)
{
    static const char *const cases[] = {
        "GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
        POST(8) "\"worker\"",
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nAuthorization: Bearer x\r\nContent-Length: 2\r\n\r\n{}",
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}",
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
        "POST / HTTP/1.0\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        "POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", /* no Host */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        http_front *f = start_front();
        int sp[2];
        pair(sp);
        http_gate *g = add_conn(f, sp[0]);
        /* One answered first, then the one it does not take, and one after it. */
        char sent[1024];
        snprintf(sent, sizeof sent, "%s%s", cases[i], POST(2) "{}");
        send_all(sp[1], POST(3) "[1]");
        char buf[1024];
        ck_assert_uint_gt(read_for(sp[1], buf, 100), 0);
        send_all(sp[1], sent);
        ck_assert_msg(wait_for(&handed, 1), "case %zu not handed over", i);
        ck_assert_int_eq(atomic_load(&handed_fd), sp[0]);
        ck_assert_int_eq(atomic_load(&handed_to_worker), i == 1);
        ck_assert_int_eq(atomic_load(&answers), 1);
        /* The socket's next reads give what was not answered, whole. */
        memset(buf, 0, sizeof buf);
        ck_assert_uint_eq(read_for(sp[0], buf, strlen(sent)), strlen(sent));
        ck_assert_str_eq(buf, sent);
        http_gate_close(g);
        close(sp[0]);
        close(sp[1]);
        http_front_stop(f);
        ck_assert_int_eq(atomic_load(&closed), 0);
    }
}
END_TEST

int main(void)
{
    return TEST_RUN("http_front", TEST_GROUP("http_front", 60, json_media_types, put_back_bytes_come_first,
                                             plain_posts_are_answered_in_order,
                                             what_it_does_not_take_is_handed_over_with_its_bytes));
}
