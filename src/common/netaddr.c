/*
 * netaddr.c - IP addresses, the TRUSTED_PROXIES list and the X-Forwarded-For
 * rule (netaddr.h). inet_pton/inet_ntop do the text; the rest is byte
 * comparisons.
 */
#include "common/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const unsigned char v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* An IPv6 address that is an IPv4-mapped one becomes that IPv4 address. */
static void set_v6(struct netaddr *out, const unsigned char b[16])
{
    memset(out, 0, sizeof(*out));
    if (memcmp(b, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0) {
        out->family = AF_INET;
        memcpy(out->bytes, b + 12, 4);
        return;
    }
    out->family = AF_INET6;
    memcpy(out->bytes, b, 16);
}

int netaddr_parse(const char *text, size_t len, struct netaddr *out)
{
    char tmp[NETADDR_TEXT_LEN];
    unsigned char b[16];

    if (!text || len == 0 || len >= sizeof(tmp) || memchr(text, '\0', len))
        return -1;
    memcpy(tmp, text, len);
    tmp[len] = '\0';
    if (inet_pton(AF_INET, tmp, b) == 1) {
        memset(out, 0, sizeof(*out));
        out->family = AF_INET;
        memcpy(out->bytes, b, 4);
        return 0;
    }
    if (inet_pton(AF_INET6, tmp, b) == 1) {
        set_v6(out, b);
        return 0;
    }
    return -1;
}

int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out)
{
    if (!sa)
        return -1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

        memset(out, 0, sizeof(*out));
        out->family = AF_INET;
        memcpy(out->bytes, &in->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

        set_v6(out, in6->sin6_addr.s6_addr);
        return 0;
    }
    return -1;
}

int netaddr_format(const struct netaddr *a, char *out, size_t outlen)
{
    if (!a || (a->family != AF_INET && a->family != AF_INET6) || !out)
        return -1;
    return inet_ntop(a->family, a->bytes, out, (socklen_t)outlen) ? 0 : -1;
}

int netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
    size_t n = a->family == AF_INET ? 4 : 16;

    return a->family == b->family && a->family != 0 && memcmp(a->bytes, b->bytes, n) == 0;
}

/* 1 if the first prefix bits of a and b agree. */
static int prefix_equal(const unsigned char *a, const unsigned char *b, unsigned prefix)
{
    unsigned whole = prefix / 8, rest = prefix % 8;
    unsigned char mask;

    if (memcmp(a, b, whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    mask = (unsigned char)(0xffu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

int netaddr_list_contains(const struct netaddr_list *l, const struct netaddr *a)
{
    if (!l || !a || a->family == 0)
        return 0;
    for (size_t i = 0; i < l->n; i++) {
        const struct netaddr_range *r = &l->items[i];

        if (r->addr.family == a->family && prefix_equal(r->addr.bytes, a->bytes, r->prefix))
            return 1;
    }
    return 0;
}

/* "/N" after an address: the prefix length, at most max. 0, or -1. */
static int parse_prefix(const char *p, size_t n, unsigned max, unsigned *out)
{
    unsigned v = 0;

    if (n == 0 || n > 3)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* One entry of a list ("10.0.0.0/8", "192.0.2.7"): 0, or -1. */
static int parse_range(const char *p, size_t n, struct netaddr_range *out)
{
    const char *slash = memchr(p, '/', n);
    size_t alen = slash ? (size_t)(slash - p) : n;
    struct netaddr_range r;
    unsigned max;

    if (netaddr_parse(p, alen, &r.addr) < 0)
        return -1;
    max = r.addr.family == AF_INET ? 32 : 128;
    r.prefix = max;
    if (slash && parse_prefix(slash + 1, n - alen - 1, max, &r.prefix) < 0)
        return -1;
    /* host bits set past the prefix: the range the operator meant is unclear */
    for (unsigned bit = r.prefix; bit < max; bit++)
        if (r.addr.bytes[bit / 8] & (0x80u >> (bit % 8)))
            return -1;
    *out = r;
    return 0;
}

static int is_list_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t';
}

int netaddr_list_parse(const char *text, struct netaddr_list *out, char *err, size_t errlen)
{
    const char *p = text ? text : "";

    out->n = 0;
    while (*p) {
        size_t n;

        while (*p && is_list_sep(*p))
            p++;
        if (!*p)
            break;
        for (n = 0; p[n] && !is_list_sep(p[n]); n++)
            ;
        if (out->n == NETADDR_LIST_MAX) {
            snprintf(err, errlen, "more than %d entries", NETADDR_LIST_MAX);
            out->n = 0;
            return -1;
        }
        if (parse_range(p, n, &out->items[out->n]) < 0) {
            snprintf(err, errlen, "\"%.*s\" is not an IP address or a range like 10.0.0.0/8",
                     n > 64 ? 64 : (int)n, p);
            out->n = 0;
            return -1;
        }
        out->n++;
        p += n;
    }
    return 0;
}

/* Trim spaces and tabs around [*p, *p + *n). */
static void trim_ows(const char **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

/*
 * Walk one header line's entries from the right. *cur is the address read so
 * far. Returns 1 when the walk is over (an untrusted entry, now in *cur, or an
 * entry that is not an address), 0 to go on to the line before.
 */
static int walk_line(const struct netaddr_list *trusted, const char *line, struct netaddr *cur)
{
    size_t end = strlen(line);

    while (end > 0) {
        size_t start = end;
        const char *e;
        size_t n;
        struct netaddr a;

        while (start > 0 && line[start - 1] != ',')
            start--;
        e = line + start;
        n = end - start;
        end = start > 0 ? start - 1 : 0;
        trim_ows(&e, &n);
        if (n == 0)
            continue;
        if (netaddr_parse(e, n, &a) < 0)
            return 1;
        *cur = a;
        if (!netaddr_list_contains(trusted, &a))
            return 1;
    }
    return 0;
}

int netaddr_client(const struct netaddr_list *trusted, const struct netaddr *peer, const char *const *xff,
                   size_t nxff, struct netaddr *out)
{
    struct netaddr cur;

    if (!peer)
        return -1;
    cur = *peer;
    if (netaddr_list_contains(trusted, peer)) {
        for (size_t i = nxff; i > 0; i--)
            if (xff[i - 1] && walk_line(trusted, xff[i - 1], &cur))
                break;
    }
    *out = cur;
    return 0;
}
