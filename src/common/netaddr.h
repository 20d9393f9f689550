/*
 * netaddr.h - IP addresses and address ranges as core-api's HTTP edge uses
 * them: the peer of a connection, the TRUSTED_PROXIES list, and the rule that
 * picks a request's client address out of X-Forwarded-For.
 *
 * Addresses are held as bytes (IPv4 in the first 4, IPv6 in all 16); an
 * IPv4-mapped IPv6 address (::ffff:192.0.2.1) is stored as the IPv4 address,
 * so the two spellings of one client compare equal and meet the same ranges.
 * Nothing here allocates or blocks: the list has a fixed maximum size, and
 * every function is safe to call from any thread.
 *
 * It lives in common/ because handlers link http/request.o and libcommon.a
 * only (the layer tests), and req_client_addr() applies the proxy rule.
 */
#ifndef COMMON_NETADDR_H
#define COMMON_NETADDR_H

#include <stddef.h>

struct sockaddr;

#define NETADDR_TEXT_LEN 46   /* INET6_ADDRSTRLEN */
#define NETADDR_LIST_MAX 64   /* entries of a TRUSTED_PROXIES list */

struct netaddr {
    int family;               /* AF_INET or AF_INET6; 0: none */
    unsigned char bytes[16];  /* network order; AF_INET uses the first 4 */
};

/* An address range: addr with its first prefix bits significant. */
struct netaddr_range {
    struct netaddr addr;
    unsigned prefix;          /* 0..32 (IPv4) or 0..128 (IPv6) */
};

struct netaddr_list {
    size_t n;
    struct netaddr_range items[NETADDR_LIST_MAX];
};

/*
 * Parse exactly len bytes of text as one IPv4 or IPv6 address (no port, no
 * brackets, no surrounding space). 0, or -1 (out untouched).
 */
int netaddr_parse(const char *text, size_t len, struct netaddr *out);
/* The address of an AF_INET or AF_INET6 socket address. 0, or -1 for other families or NULL. */
int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out);
/* The canonical text ("192.0.2.1", "2001:db8::1") into out (NETADDR_TEXT_LEN bytes). 0 or -1. */
int netaddr_format(const struct netaddr *a, char *out, size_t outlen);
/* 1 if a and b are the same address, else 0. */
int netaddr_equal(const struct netaddr *a, const struct netaddr *b);

/*
 * Parse a list of addresses and ranges separated by commas or spaces:
 * "10.0.0.0/8, 192.0.2.7 2001:db8::/32". An address without a prefix is the
 * single address. An empty text is the empty list. 0, or -1 with a one-line
 * message in err naming the entry that is not an address or range, or saying
 * there are more than NETADDR_LIST_MAX entries. A range with bits set past its
 * prefix (10.1.2.3/8) is refused: it usually means a typo.
 */
int netaddr_list_parse(const char *text, struct netaddr_list *out, char *err, size_t errlen);
/* 1 if a lies in one of the list's ranges (same family), else 0. */
int netaddr_list_contains(const struct netaddr_list *l, const struct netaddr *a);

/*
 * The client address of a request that came from peer, given the values of
 * its X-Forwarded-For header lines in order (xff[0] first; each a
 * comma-separated list, the right-most entry added last).
 *
 * The header is believed only as far as trusted proxies wrote it: if peer is
 * not in trusted, the client is peer. Otherwise the entries are read from the
 * right; each one is the address the hop before it saw. The first entry that
 * is not in trusted is the client; an entry that is not a bare address stops
 * the walk (nothing left of it can be believed) and the client is the last
 * trusted hop read. If every entry is trusted, the client is the left-most.
 * Empty entries are skipped. Stores the client in out and returns 0; -1 only
 * if peer is NULL.
 */
int netaddr_client(const struct netaddr_list *trusted, const struct netaddr *peer, const char *const *xff,
                   size_t nxff, struct netaddr *out);

#endif
