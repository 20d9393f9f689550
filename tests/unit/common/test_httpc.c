/*
 * test_httpc - the libcurl wrapper against a tiny HTTP/1.1 server run in a
 * thread of this process on 127.0.0.1 (an ephemeral port): status codes,
 * Retry-After (seconds and HTTP-date), the response size bound, timeouts,
 * POST bodies and headers, and connection reuse.
 */
#include "common/httpc.h"
#include "../../support/net.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

struct server {
    int fd;
    unsigned short port;
    pthread_t th;
    int accepts;                 /* connections accepted */
    char last_header[256];       /* value of X-Test seen last */
    size_t last_body_len;
    char last_body[256];
};

static struct server g_srv;

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void respond(int fd, int status, const char *extra, const char *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", status,
                     len, extra ? extra : "");

    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

/* Serves one connection until the peer closes it. Requests are small. */
static void serve_conn(struct server *s, int fd)
{
    char req[16384];
    size_t have = 0;

    for (;;) {
        char *end, *cl, *hdr, path[128];
        size_t head_len, body_len = 0;
        ssize_t r;

        end = NULL;
        while (!(end = memmem(req, have, "\r\n\r\n", 4))) {
            if (have == sizeof(req))
                return;
            r = recv(fd, req + have, sizeof(req) - have, 0);
            if (r <= 0)
                return;
            have += (size_t)r;
        }
        head_len = (size_t)(end - req) + 4;
        *end = '\0';
        cl = strcasestr(req, "\r\nContent-Length:");
        if (cl)
            body_len = strtoul(cl + 17, NULL, 10);
        if (body_len > sizeof(req) - head_len)
            return;
        while (have < head_len + body_len) {
            r = recv(fd, req + have, sizeof(req) - have, 0);
            if (r <= 0)
                return;
            have += (size_t)r;
        }
        if (sscanf(req, "%*s %127s", path) != 1)
            return;
        hdr = strcasestr(req, "\r\nX-Test:");
        if (hdr) {
            size_t i = 0;

            hdr += 9;
            while (*hdr == ' ')
                hdr++;
            while (hdr[i] && hdr[i] != '\r' && i < sizeof(s->last_header) - 1) {
                s->last_header[i] = hdr[i];
                i++;
            }
            s->last_header[i] = '\0';
        }
        s->last_body_len = body_len;
        snprintf(s->last_body, sizeof(s->last_body), "%.*s", (int)body_len, req + head_len);

        if (strcmp(path, "/ok") == 0) {
            respond(fd, 200, NULL, "hello", 5);
        } else if (strcmp(path, "/empty") == 0) {
            respond(fd, 204, NULL, "", 0);
        } else if (strcmp(path, "/retry") == 0) {
            respond(fd, 429, "Retry-After: 7\r\n", "{}", 2);
        } else if (strcmp(path, "/retry-date") == 0) {
            char extra[128], date[64];
            time_t t = time(NULL) + 100;
            struct tm tm;

            gmtime_r(&t, &tm);
            strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
            snprintf(extra, sizeof(extra), "Retry-After: %s\r\n", date);
            respond(fd, 503, extra, "busy", 4);
        } else if (strcmp(path, "/retry-junk") == 0) {
            respond(fd, 503, "Retry-After: soon\r\n", "busy", 4);
        } else if (strcmp(path, "/big") == 0) {
            static char big[4000];

            memset(big, 'x', sizeof(big));
            respond(fd, 200, NULL, big, sizeof(big));
        } else if (strcmp(path, "/slow") == 0) {
            sleep(2);
            respond(fd, 200, NULL, "late", 4);
        } else if (strcmp(path, "/echo") == 0) {
            respond(fd, 200, NULL, req + head_len, body_len);
        } else {
            respond(fd, 404, NULL, "no", 2);
        }
        memmove(req, req + head_len + body_len, have - head_len - body_len);
        have -= head_len + body_len;
    }
}

static void *server_main(void *arg)
{
    struct server *s = arg;

    for (;;) {
        int fd = accept(s->fd, NULL, NULL);

        if (fd < 0)
            return NULL;    /* the listening socket was shut down */
        s->accepts++;
        serve_conn(s, fd);
        close(fd);
    }
}

static int server_start(void **state)
{
    (void)state;
    memset(&g_srv, 0, sizeof(g_srv));
    if (net_listen_loopback(8, &g_srv.fd, &g_srv.port) != 0)
        return -1;
    return pthread_create(&g_srv.th, NULL, server_main, &g_srv) == 0 ? 0 : -1;
}

static int server_stop(void **state)
{
    (void)state;
    shutdown(g_srv.fd, SHUT_RDWR);
    close(g_srv.fd);
    pthread_join(g_srv.th, NULL);
    return 0;
}

static void url_for(char *out, size_t len, const char *path)
{
    snprintf(out, len, "http://127.0.0.1:%u%s", (unsigned)g_srv.port, path);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_get_ok_and_reuse(void **state)
{
    struct httpc h;
    struct httpc_request req;
    struct httpc_response resp;
    char url[128], err[256];
    int before;

    (void)state;
    assert_int_equal(httpc_init(&h), 0);
    url_for(url, sizeof(url), "/ok");
    memset(&req, 0, sizeof(req));
    req.url = url;
    before = g_srv.accepts;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(httpc_do(&h, &req, &resp, err, sizeof(err)), 0);
        assert_int_equal(resp.status, 200);
        assert_int_equal(resp.body.len, 5);
        assert_string_equal(resp.body.ptr, "hello");
        assert_int_equal(resp.retry_after_s, -1);
        httpc_response_release(&resp);
    }
    /* One easy handle per struct httpc: the connection is kept and reused. */
    assert_int_equal(g_srv.accepts - before, 1);
    httpc_release(&h);
    httpc_release(&h);    /* idempotent */
}

static void test_empty_body_is_empty_string(void **state)
{
    struct httpc h;
    struct httpc_request req;
    struct httpc_response resp;
    char url[128], err[256];

    (void)state;
    assert_int_equal(httpc_init(&h), 0);
    url_for(url, sizeof(url), "/empty");
    memset(&req, 0, sizeof(req));
    req.url = url;
    assert_int_equal(httpc_do(&h, &req, &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.status, 204);
    assert_non_null(resp.body.ptr);
    assert_string_equal(resp.body.ptr, "");
    httpc_response_release(&resp);
    httpc_release(&h);
}

static void test_retry_after(void **state)
{
    struct httpc h;
    struct httpc_request req;
    struct httpc_response resp;
    char url[128], err[256];

    (void)state;
    assert_int_equal(httpc_init(&h), 0);
    memset(&req, 0, sizeof(req));
    req.url = url;

    url_for(url, sizeof(url), "/retry");
    assert_int_equal(httpc_do(&h, &req, &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.status, 429);
    assert_int_equal(resp.retry_after_s, 7);
    httpc_response_release(&resp);

    url_for(url, sizeof(url), "/retry-date");
    assert_int_equal(httpc_do(&h, &req, &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.status, 503);
    assert_in_range(resp.retry_after_s, 95, 101);
    httpc_response_release(&resp);

    url_for(url, sizeof(url), "/retry-junk");
    assert_int_equal(httpc_do(&h, &req, &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.retry_after_s, -1);
    httpc_response_release(&resp);

    /* The next response without the header does not inherit the old value. */
    url_for(url, sizeof(url), "/ok");
    assert_int_equal(httpc_do(&h, &req, &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.retry_after_s, -1);
    httpc_response_release(&resp);
    httpc_release(&h);
}

static void test_response_bound(void **state)
{
    struct httpc h;
    struct httpc_request req;
    struct httpc_response resp;
    char url[128], err[256];

    (void)state;
    assert_int_equal(httpc_init(&h), 0);
    url_for(url, sizeof(url), "/big");
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.max_response = 1000;
    assert_int_equal(httpc_do(&h, &req, &resp, err, sizeof(err)), -1);
    print_message("oversized: %s\n", err);
    assert_non_null(strstr(err, "too large"));
    assert_null(resp.body.ptr);
    httpc_response_release(&resp);

    req.max_response = 4000;    /* exactly fits */
    assert_int_equal(httpc_do(&h, &req, &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.body.len, 4000);
    httpc_response_release(&resp);
    httpc_release(&h);
}

static void test_timeout(void **state)
{
    struct httpc h;
    struct httpc_request req;
    struct httpc_response resp;
    char url[128], err[256];
    double t0, dt;

    (void)state;
    assert_int_equal(httpc_init(&h), 0);
    url_for(url, sizeof(url), "/slow");
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.timeout_ms = 300;
    t0 = now_s();
    assert_int_equal(httpc_do(&h, &req, &resp, err, sizeof(err)), -1);
    dt = now_s() - t0;
    print_message("timeout after %.2f s: %s\n", dt, err);
    assert_int_equal(resp.status, 0);
    assert_true(dt < 1.5);
    assert_true(strlen(err) > 0);
    httpc_response_release(&resp);
    httpc_release(&h);
}

static void test_post_body_and_headers(void **state)
{
    static const char body[] = "{\"a\":1,\"b\":\"two\"}";
    const char *headers[] = {"Content-Type: application/json", "X-Test: marker-42", NULL};
    struct httpc h;
    struct httpc_request req;
    struct httpc_response resp;
    char url[128], err[256];

    (void)state;
    assert_int_equal(httpc_init(&h), 0);
    url_for(url, sizeof(url), "/echo");
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.body = body;
    req.body_len = strlen(body);
    req.headers = headers;
    assert_int_equal(httpc_do(&h, &req, &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body.ptr, body);
    assert_string_equal(g_srv.last_header, "marker-42");
    httpc_response_release(&resp);

    /* Headers and body do not stick to the handle: a GET after it sends neither. */
    g_srv.last_header[0] = '\0';
    req.body = NULL;
    req.body_len = 0;
    req.headers = NULL;
    assert_int_equal(httpc_do(&h, &req, &resp, err, sizeof(err)), 0);
    assert_string_equal(g_srv.last_header, "");
    assert_int_equal(g_srv.last_body_len, 0);
    httpc_response_release(&resp);
    httpc_release(&h);
}

static void test_connect_refused(void **state)
{
    struct httpc h;
    struct httpc_request req;
    struct httpc_response resp;
    char url[128], err[256];
    unsigned short port;

    (void)state;
    assert_int_equal(net_closed_port(&port), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)port);

    assert_int_equal(httpc_init(&h), 0);
    memset(&req, 0, sizeof(req));
    req.url = url;
    assert_int_equal(httpc_do(&h, &req, &resp, err, sizeof(err)), -1);
    assert_int_equal(resp.status, 0);
    assert_true(strlen(err) > 0);
    httpc_response_release(&resp);

    /* Only http and https: no file:// or other schemes through this client. */
    req.url = "file:///etc/passwd";
    assert_int_equal(httpc_do(&h, &req, &resp, err, sizeof(err)), -1);
    assert_null(resp.body.ptr);
    httpc_response_release(&resp);
    httpc_release(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_ok_and_reuse),
        cmocka_unit_test(test_empty_body_is_empty_string),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_response_bound),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_post_body_and_headers),
        cmocka_unit_test(test_connect_refused),
    };

    return cmocka_run_group_tests_name("httpc", tests, server_start, server_stop);
}
