/*
 * test_conn_guard.c - slow and greedy clients (api/http/conn_guard.c) with a
 * clock the test moves: the head deadline from the connection's start and
 * again after each answer, the body rate per window (a stalled body too), no
 * deadline while core-api works, the per-address limit with its exemption and
 * a freed slot, and what a cut does to the socket (the other end reads EOF).
 * Each "connection" is a socketpair: the guard holds one end, the test reads
 * the other.
 */
#include "api/http/conn_guard.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

struct pair {
    int server, client;
};

static struct pair pair_new(void)
{
    int fds[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    return (struct pair){fds[0], fds[1]};
}

static void pair_close(struct pair *p)
{
    close(p->server);
    close(p->client);
}

/* 1 if the guard shut the server end down (the client reads EOF), 0 if it is still open. */
static int was_cut(const struct pair *p)
{
    char c;
    ssize_t n = recv(p->client, &c, 1, MSG_DONTWAIT);

    if (n == 0)
        return 1;
    assert_true(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    return 0;
}

static struct sockaddr_in peer(const char *ip)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(40000);
    assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    return sa;
}

static struct conn_guard *guard(int64_t head_ms, int64_t rate, int64_t window_ms, unsigned per_addr,
                                const char *exempt)
{
    struct conn_guard_config cfg;
    char err[128];
    struct conn_guard *g;

    memset(&cfg, 0, sizeof(cfg));
    cfg.head_timeout_ms = head_ms;
    cfg.body_min_rate = rate;
    cfg.body_window_ms = window_ms;
    cfg.max_per_addr = per_addr;
    assert_int_equal(netaddr_list_parse(exempt, &cfg.exempt, err, sizeof(err)), 0);
    g = conn_guard_new(&cfg);
    assert_non_null(g);
    return g;
}

static struct conn_watch *open_from(struct conn_guard *g, const struct pair *p, const char *ip, int64_t now)
{
    struct sockaddr_in sa = peer(ip);

    return conn_guard_open(g, p->server, (struct sockaddr *)&sa, now);
}

static void test_head_deadline(void **state)
{
    struct conn_guard *g = guard(1000, 0, 1000, 0, "");
    struct pair p = pair_new(), q = pair_new();
    struct conn_watch *w = open_from(g, &p, "192.0.2.1", 0);
    struct conn_watch *v = open_from(g, &q, "192.0.2.2", 500);

    (void)state;
    assert_non_null(w);
    assert_non_null(v);
    assert_int_equal(conn_guard_scan(g, 999), 0);
    assert_false(was_cut(&p));
    assert_int_equal(conn_guard_scan(g, 1000), 1);      /* w: its head is a second late */
    assert_true(was_cut(&p));
    assert_false(was_cut(&q));
    assert_int_equal(conn_guard_scan(g, 1200), 0);      /* a cut connection is cut once */
    /* v's head arrives in time; while core-api works there is no deadline */
    conn_guard_head_done(g, v, 900);
    conn_guard_body_done(g, v);
    assert_int_equal(conn_guard_scan(g, 100000), 0);
    /* after the answer, the next head is due a deadline later */
    conn_guard_request_done(g, v, 100000);
    assert_int_equal(conn_guard_scan(g, 100999), 0);
    assert_int_equal(conn_guard_scan(g, 101000), 1);
    assert_true(was_cut(&q));
    /* a cut stays a cut whatever phase call comes late */
    conn_guard_request_done(g, v, 101000);
    assert_int_equal(conn_guard_scan(g, 500000), 0);
    assert_int_equal(conn_guard_count(g), 2);
    conn_guard_close(g, &w);
    conn_guard_close(g, &v);
    assert_null(w);
    assert_int_equal(conn_guard_count(g), 0);
    conn_guard_free(&g);
    assert_null(g);
    conn_guard_free(&g);                                 /* NULL is fine */
    pair_close(&p);
    pair_close(&q);
}

static void test_body_rate(void **state)
{
    /* 100 B/s over 1 s windows; a long head deadline that never matters here */
    struct conn_guard *g = guard(60000, 100, 1000, 0, "");
    struct pair p = pair_new(), q = pair_new();
    struct conn_watch *w = open_from(g, &p, "192.0.2.1", 0);
    struct conn_watch *v = open_from(g, &q, "192.0.2.1", 0);

    (void)state;
    conn_guard_head_done(g, w, 0);
    conn_guard_head_done(g, v, 0);
    conn_guard_body(w, 150);
    conn_guard_body(v, 99);
    assert_int_equal(conn_guard_scan(g, 999), 0);       /* no verdict inside a window */
    assert_int_equal(conn_guard_scan(g, 1000), 1);      /* v: 99 B in 1 s */
    assert_false(was_cut(&p));
    assert_true(was_cut(&q));
    /* w's next window starts at 1000; a late scan measures the time that really passed */
    conn_guard_body(w, 150);
    assert_int_equal(conn_guard_scan(g, 2400), 0);      /* 150 B in 1.4 s: 107 B/s */
    conn_guard_body(w, 100);
    assert_int_equal(conn_guard_scan(g, 3600), 1);      /* 100 B in 1.2 s: 83 B/s */
    assert_true(was_cut(&p));
    conn_guard_close(g, &w);
    conn_guard_close(g, &v);
    pair_close(&p);
    pair_close(&q);

    /* a stalled body is cut after one window, without a byte arriving */
    p = pair_new();
    w = open_from(g, &p, "192.0.2.1", 5000);
    conn_guard_head_done(g, w, 5000);
    assert_int_equal(conn_guard_scan(g, 6000), 1);
    assert_true(was_cut(&p));
    conn_guard_close(g, &w);
    pair_close(&p);
    /* a complete body stops the clock */
    p = pair_new();
    w = open_from(g, &p, "192.0.2.1", 7000);
    conn_guard_head_done(g, w, 7000);
    conn_guard_body(w, 10);
    conn_guard_body_done(g, w);
    assert_int_equal(conn_guard_scan(g, 60000), 0);
    conn_guard_close(g, &w);
    pair_close(&p);
    conn_guard_free(&g);

    /* rate 0: no minimum at all */
    g = guard(60000, 0, 1000, 0, "");
    p = pair_new();
    w = open_from(g, &p, "192.0.2.1", 0);
    conn_guard_head_done(g, w, 0);
    assert_int_equal(conn_guard_scan(g, 59000), 0);
    conn_guard_close(g, &w);
    pair_close(&p);
    conn_guard_free(&g);
}

static void test_per_address(void **state)
{
    struct conn_guard *g = guard(60000, 0, 1000, 2, "198.51.100.0/24");
    struct pair p[6];
    struct conn_watch *w[6];

    (void)state;
    for (int i = 0; i < 6; i++)
        p[i] = pair_new();
    w[0] = open_from(g, &p[0], "192.0.2.1", 0);
    w[1] = open_from(g, &p[1], "192.0.2.1", 0);
    w[2] = open_from(g, &p[2], "192.0.2.1", 0);         /* the third from one address */
    assert_non_null(w[0]);
    assert_non_null(w[1]);
    assert_null(w[2]);
    assert_true(was_cut(&p[2]));
    assert_false(was_cut(&p[0]));
    /* another address has its own count */
    w[3] = open_from(g, &p[3], "192.0.2.2", 0);
    assert_non_null(w[3]);
    /* the exempt range (trusted proxies) has none */
    w[4] = open_from(g, &p[4], "198.51.100.7", 0);
    w[5] = open_from(g, &p[5], "198.51.100.7", 0);
    assert_non_null(w[4]);
    assert_non_null(w[5]);
    {
        struct pair extra = pair_new();
        struct conn_watch *x = open_from(g, &extra, "198.51.100.7", 0);

        assert_non_null(x);
        conn_guard_close(g, &x);
        pair_close(&extra);
    }
    /* a closed connection frees its slot */
    conn_guard_close(g, &w[0]);
    {
        struct pair again = pair_new();
        struct conn_watch *x = open_from(g, &again, "192.0.2.1", 0);

        assert_non_null(x);
        assert_false(was_cut(&again));
        conn_guard_close(g, &x);
        pair_close(&again);
    }
    assert_int_equal(conn_guard_count(g), 4);
    for (int i = 0; i < 6; i++) {
        conn_guard_close(g, &w[i]);
        pair_close(&p[i]);
    }
    conn_guard_close(g, NULL);
    conn_guard_free(&g);
}

static void test_unlimited_and_unknown_peer(void **state)
{
    struct conn_guard *g = guard(0, 0, 1000, 0, "");    /* no deadline, no limit */
    struct pair p[3];
    struct conn_watch *w[3];

    (void)state;
    for (int i = 0; i < 3; i++) {
        p[i] = pair_new();
        w[i] = open_from(g, &p[i], "192.0.2.1", 0);
        assert_non_null(w[i]);
    }
    assert_int_equal(conn_guard_scan(g, INT64_C(1) << 40), 0);
    for (int i = 0; i < 3; i++) {
        conn_guard_close(g, &w[i]);
        pair_close(&p[i]);
    }
    conn_guard_free(&g);

    /* a peer of no known family is watched but counted against no address */
    g = guard(1000, 0, 1000, 1, "");
    p[0] = pair_new();
    p[1] = pair_new();
    w[0] = conn_guard_open(g, p[0].server, NULL, 0);
    w[1] = conn_guard_open(g, p[1].server, NULL, 0);
    assert_non_null(w[0]);
    assert_non_null(w[1]);
    assert_int_equal(conn_guard_scan(g, 1000), 2);
    for (int i = 0; i < 2; i++) {
        conn_guard_close(g, &w[i]);
        pair_close(&p[i]);
    }
    conn_guard_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_deadline),
        cmocka_unit_test(test_body_rate),
        cmocka_unit_test(test_per_address),
        cmocka_unit_test(test_unlimited_and_unknown_peer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
