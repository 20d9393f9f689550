/*
 * test_netaddr - common/netaddr.c: address text both ways (IPv4, IPv6, the
 * IPv4-mapped form), TRUSTED_PROXIES lists (ranges, bad entries, the size
 * cap) and the X-Forwarded-For rule: untrusted peers are believed as they
 * are, trusted ones hand over the right-most untrusted entry, and nothing
 * left of a malformed entry is believed.
 */
#include "common/netaddr.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static struct netaddr addr_of(const char *text)
{
    struct netaddr a;

    assert_int_equal(netaddr_parse(text, strlen(text), &a), 0);
    return a;
}

/* text parses and formats back as want. */
static void round_trip(const char *text, const char *want)
{
    struct netaddr a = addr_of(text);
    char out[NETADDR_TEXT_LEN];

    assert_int_equal(netaddr_format(&a, out, sizeof(out)), 0);
    assert_string_equal(out, want);
}

static void refused(const char *text)
{
    struct netaddr a;

    memset(&a, 0x5A, sizeof(a));
    if (netaddr_parse(text, strlen(text), &a) == 0)
        fail_msg("\"%s\" parsed as an address", text);
    assert_int_equal(a.family, 0x5A5A5A5A);   /* untouched */
}

static void test_parse_and_format(void **state)
{
    (void)state;
    round_trip("192.0.2.1", "192.0.2.1");
    round_trip("0.0.0.0", "0.0.0.0");
    round_trip("2001:DB8::1", "2001:db8::1");
    round_trip("::1", "::1");
    round_trip("::ffff:192.0.2.9", "192.0.2.9");   /* mapped: the IPv4 client */
    assert_int_equal(addr_of("::ffff:10.0.0.1").family, AF_INET);
    refused("");
    refused(" 192.0.2.1");
    refused("192.0.2.1 ");
    refused("192.0.2.1:80");
    refused("[::1]");
    refused("192.0.2");
    refused("192.0.2.256");
    refused("unknown");
    refused("1.2.3.4.5");
    refused("0123456789012345678901234567890123456789012345678");
    {
        struct netaddr a;

        /* a NUL inside the bytes is not silently cut */
        assert_int_equal(netaddr_parse("10.0.0.1\0x", 10, &a), -1);
        /* exactly len bytes are read */
        assert_int_equal(netaddr_parse("10.0.0.12", 8, &a), 0);
        round_trip("10.0.0.1", "10.0.0.1");
    }
}

static void test_from_sockaddr(void **state)
{
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    struct sockaddr other;
    struct netaddr a;
    char out[NETADDR_TEXT_LEN];

    (void)state;
    memset(&in4, 0, sizeof(in4));
    in4.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.2", &in4.sin_addr);
    assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&in4, &a), 0);
    assert_true(netaddr_equal(&a, &(struct netaddr){0}) == 0);
    assert_int_equal(netaddr_format(&a, out, sizeof(out)), 0);
    assert_string_equal(out, "127.0.0.2");

    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:127.0.0.2", &in6.sin6_addr);
    {
        struct netaddr b;

        assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&in6, &b), 0);
        assert_true(netaddr_equal(&a, &b));
    }
    memset(&other, 0, sizeof(other));
    other.sa_family = AF_UNIX;
    assert_int_equal(netaddr_from_sockaddr(&other, &a), -1);
    assert_int_equal(netaddr_from_sockaddr(NULL, &a), -1);
    a.family = 0;
    assert_int_equal(netaddr_format(&a, out, sizeof(out)), -1);
}

static void list_ok(const char *text, size_t n, struct netaddr_list *l)
{
    char err[128] = "";

    assert_int_equal(netaddr_list_parse(text, l, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(l->n, n);
}

static void list_refused(const char *text, const char *in_message)
{
    struct netaddr_list l;
    char err[128] = "";

    assert_int_equal(netaddr_list_parse(text, &l, err, sizeof(err)), -1);
    assert_int_equal(l.n, 0);
    if (!strstr(err, in_message))
        fail_msg("message \"%s\" does not contain \"%s\"", err, in_message);
}

static int contains(const struct netaddr_list *l, const char *text)
{
    struct netaddr a = addr_of(text);

    return netaddr_list_contains(l, &a);
}

static void test_list(void **state)
{
    struct netaddr_list l;

    (void)state;
    list_ok("", 0, &l);
    list_ok(" , ", 0, &l);
    assert_false(contains(&l, "10.0.0.1"));
    list_ok("10.0.0.0/8, 192.0.2.7 2001:db8::/32,172.16.0.0/12", 4, &l);
    assert_true(contains(&l, "10.255.1.2"));
    assert_false(contains(&l, "11.0.0.1"));
    assert_true(contains(&l, "192.0.2.7"));
    assert_false(contains(&l, "192.0.2.8"));
    assert_true(contains(&l, "2001:db8:ffff::1"));
    assert_false(contains(&l, "2001:db9::1"));
    assert_true(contains(&l, "172.31.255.255"));
    assert_false(contains(&l, "172.32.0.0"));
    assert_true(contains(&l, "::ffff:10.1.1.1"));   /* mapped form meets the IPv4 range */
    list_ok("0.0.0.0/0", 1, &l);
    assert_true(contains(&l, "203.0.113.5"));
    assert_false(contains(&l, "::1"));               /* families never mix */
    list_ok("127.0.0.0/31", 1, &l);                  /* odd prefix: bit-level compare */
    assert_true(contains(&l, "127.0.0.1"));
    assert_false(contains(&l, "127.0.0.2"));

    list_refused("10.0.0.0/8, proxy.example", "\"proxy.example\"");
    list_refused("10.0.0.0/33", "10.0.0.0/33");
    list_refused("10.0.0.0/", "10.0.0.0/");
    list_refused("10.0.0.0/-1", "10.0.0.0/-1");
    list_refused("10.1.2.3/8", "10.1.2.3/8");        /* host bits set */
    list_refused("127.0.0.1/31", "127.0.0.1/31");
    list_refused("::1/129", "::1/129");
    list_refused("10.0.0.0/8;", "10.0.0.0/8;");
    {
        char big[NETADDR_LIST_MAX * 12 + 16] = "";
        size_t o = 0;

        for (int i = 0; i <= NETADDR_LIST_MAX; i++)
            o += (size_t)snprintf(big + o, sizeof(big) - o, "10.0.%d.1,", i);
        list_refused(big, "more than");
        big[o - 10] = '\0';                          /* exactly the maximum */
        list_ok(big, NETADDR_LIST_MAX, &l);
    }
}

/* The client netaddr_client picks for peer and the header lines, as text. */
static void client_is(const char *trusted, const char *peer, const char *const *xff, size_t n, const char *want)
{
    struct netaddr_list l;
    struct netaddr p = addr_of(peer), out;
    char text[NETADDR_TEXT_LEN], err[128];

    assert_int_equal(netaddr_list_parse(trusted, &l, err, sizeof(err)), 0);
    assert_int_equal(netaddr_client(&l, &p, xff, n, &out), 0);
    assert_int_equal(netaddr_format(&out, text, sizeof(text)), 0);
    if (strcmp(text, want) != 0)
        fail_msg("trusted \"%s\", peer %s, %zu lines (last \"%s\"): got %s, want %s", trusted, peer, n,
                 n ? xff[n - 1] : "", text, want);
}

static void test_client_rule(void **state)
{
    const char *one[] = {"198.51.100.7"};
    const char *chain[] = {"203.0.113.9, 198.51.100.7, 10.0.0.2"};
    const char *forged[] = {"1.2.3.4", "198.51.100.7"};       /* client's own line, then the proxy's */
    const char *garbage[] = {"1.2.3.4, not-an-ip, 10.0.0.5"};
    const char *all_trusted[] = {"10.0.0.9, 10.0.0.8"};
    const char *spaces[] = {"  ,198.51.100.7 ,  , "};
    const char *v6[] = {"2001:db8::7"};

    (void)state;
    /* no proxies configured: the header changes nothing */
    client_is("", "198.51.100.1", one, 1, "198.51.100.1");
    /* the peer is not a trusted proxy: a client's own header is ignored */
    client_is("10.0.0.0/8", "198.51.100.1", one, 1, "198.51.100.1");
    /* a trusted proxy without the header: the proxy itself */
    client_is("10.0.0.0/8", "10.0.0.1", NULL, 0, "10.0.0.1");
    /* a trusted proxy: its entry */
    client_is("10.0.0.0/8", "10.0.0.1", one, 1, "198.51.100.7");
    /* two proxies: the right-most untrusted entry, not the left-most (which the client wrote) */
    client_is("10.0.0.0/8", "10.0.0.1", chain, 1, "198.51.100.7");
    /* several header lines are one list, in order */
    client_is("10.0.0.0/8", "10.0.0.1", forged, 2, "198.51.100.7");
    /* a malformed entry: the walk stops at the last trusted hop */
    client_is("10.0.0.0/8", "10.0.0.1", garbage, 1, "10.0.0.5");
    /* every entry trusted: the left-most */
    client_is("10.0.0.0/8", "10.0.0.1", all_trusted, 1, "10.0.0.9");
    client_is("10.0.0.0/8", "10.0.0.1", spaces, 1, "198.51.100.7");
    client_is("10.0.0.0/8", "10.0.0.1", v6, 1, "2001:db8::7");
    {
        const char *empty[] = {"", NULL};

        client_is("10.0.0.0/8", "10.0.0.1", empty, 2, "10.0.0.1");
    }
    {
        struct netaddr out;

        assert_int_equal(netaddr_client(NULL, NULL, NULL, 0, &out), -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_from_sockaddr),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_client_rule),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
