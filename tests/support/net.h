/*
 * net.h - loopback TCP helpers shared by the C tests (tests/unit and
 * tests/integration/c): a listening socket for a server the test runs itself,
 * and a port where nobody listens, for "connection refused" cases.
 *
 * Everything is IPv4 loopback on a port the kernel picks, never a fixed port
 * that two test runs on one machine could both want. No state is kept: each
 * call stands alone and is safe from any thread. Linked into the test
 * binaries by the Makefile (TEST_SUPPORT); include it as "../../support/net.h".
 */
#ifndef TESTS_SUPPORT_NET_H
#define TESTS_SUPPORT_NET_H

/*
 * Open a TCP socket listening on 127.0.0.1 at a port the kernel picks, with
 * the given backlog. Returns 0 and stores the socket (close-on-exec, owned by
 * the caller, who closes it) in *fd and its port in *port; returns -1 with
 * errno set and stores nothing on failure.
 */
int net_listen_loopback(int backlog, int *fd, unsigned short *port);

/*
 * Find a loopback port with no listener: bind one as above, read its number,
 * close it. Connecting to 127.0.0.1 at *port is then refused, unless another
 * process took the port in between (unlikely: the kernel does not hand the
 * same ephemeral port straight out again). Not for starting a server on, since
 * the port may be gone by then: use net_listen_loopback. Returns 0, or -1 with
 * errno set; *port is written only on success.
 */
int net_closed_port(unsigned short *port);

#endif
