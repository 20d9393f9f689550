/*
 * test_server_addr.c - HTTP_ADDR parsing (server_parse_addr): "host:port",
 * an empty host (any address), names, bad and out-of-range ports, and the
 * messages that name the setting.
 */
#include "api/http/server.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

/* addr parses to ip:port (ip in dotted form). */
static void expect_addr(const char *addr, const char *ip, unsigned port)
{
    struct sockaddr_in sa;
    char err[256] = "", got[INET_ADDRSTRLEN];

    memset(&sa, 0xAA, sizeof(sa));
    assert_int_equal(server_parse_addr(addr, &sa, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(sa.sin_family, AF_INET);
    assert_non_null(inet_ntop(AF_INET, &sa.sin_addr, got, sizeof(got)));
    assert_string_equal(got, ip);
    assert_int_equal(ntohs(sa.sin_port), port);
}

/* addr is refused with exactly want as the message. */
static void expect_refused(const char *addr, const char *want)
{
    struct sockaddr_in sa;
    char err[512] = "";

    assert_int_equal(server_parse_addr(addr, &sa, err, sizeof(err)), -1);
    assert_string_equal(err, want);
}

static void test_accepted(void **state)
{
    static const struct {
        const char *addr, *ip;
        unsigned port;
    } ok[] = {
        {"127.0.0.1:8000", "127.0.0.1", 8000},
        {"10.1.2.3:443", "10.1.2.3", 443},
        {"0.0.0.0:8000", "0.0.0.0", 8000},
        /* port 0: the kernel picks one (the test harness reads it from the log) */
        {"127.0.0.1:0", "127.0.0.1", 0},
        {"127.0.0.1:65535", "127.0.0.1", 65535},
        /* strtol's leading blanks and sign are accepted, as they always were */
        {"127.0.0.1: 80", "127.0.0.1", 80},
        {"127.0.0.1:+80", "127.0.0.1", 80},
        /* an empty host: any address */
        {":8000", "0.0.0.0", 8000},
        {":0", "0.0.0.0", 0},
        /* names resolve to their IPv4 address */
        {"localhost:8080", "127.0.0.1", 8080},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        expect_addr(ok[i].addr, ok[i].ip, ok[i].port);
}

static void test_unknown_name(void **state)
{
    (void)state;
    expect_refused("no-such-host.invalid:80",
                   "HTTP_ADDR: cannot resolve \"no-such-host.invalid:80\" as an IPv4 address");
}

static void test_missing_port(void **state)
{
    (void)state;
    expect_refused("127.0.0.1", "HTTP_ADDR: expected host:port, got \"127.0.0.1\"");
    expect_refused("", "HTTP_ADDR: expected host:port, got \"\"");
    expect_refused(NULL, "HTTP_ADDR: expected host:port, got \"\"");
}

static void test_bad_port(void **state)
{
    static const char *const bad[] = {
        "127.0.0.1:",  "127.0.0.1:80x", "127.0.0.1:http", "127.0.0.1:-1",
        "127.0.0.1:65536", "127.0.0.1:70000", "127.0.0.1:99999999999999999999",
    };
    char want[256];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(want, sizeof(want), "HTTP_ADDR: expected host:port (IPv4, port 0-65535), got \"%s\"", bad[i]);
        expect_refused(bad[i], want);
    }
}

static void test_host_too_long_or_ipv6(void **state)
{
    char addr[300], want[400];

    (void)state;
    memset(addr, 'a', 256);
    memcpy(addr + 256, ":80", 4);
    snprintf(want, sizeof(want), "HTTP_ADDR: expected host:port (IPv4, port 0-65535), got \"%s\"", addr);
    expect_refused(addr, want);
    /* IPv4 only: the last colon splits, and "[::1]" is no IPv4 host */
    expect_refused("[::1]:80", "HTTP_ADDR: cannot resolve \"[::1]:80\" as an IPv4 address");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),   cmocka_unit_test(test_unknown_name),
        cmocka_unit_test(test_missing_port), cmocka_unit_test(test_bad_port),
        cmocka_unit_test(test_host_too_long_or_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
