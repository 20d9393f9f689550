/*
 * conn_guard.h - slow and greedy clients at core-api's HTTP edge.
 *
 * libmicrohttpd 0.9.75 has an idle timeout (reset by every byte received)
 * and a global connection cap, so one client trickling a byte every few
 * seconds, on as many connections as it likes, could hold every connection
 * slot (slowloris). The guard keeps a record of each open connection and
 * enforces three limits:
 *
 *  - head deadline: the request head must be complete within
 *    head_timeout_ms of the connection opening, or of the previous answer on
 *    a keep-alive connection (so an idle keep-alive connection is closed
 *    after that long too);
 *  - body rate: while a request body is being received, every window of
 *    body_window_ms must bring at least body_min_rate bytes per second
 *    (a stalled body too: the check does not wait for bytes to arrive);
 *  - per-address connections: at most max_per_addr open connections from one
 *    peer address; the next one is closed as soon as it is accepted. Peers in
 *    `exempt` (the trusted proxies, which carry many clients) have no limit.
 *
 * A connection over a limit is shut down (shutdown(2) on its socket, which
 * the connection's thread sees as the client going away): its request, if
 * any, ends as interrupted, so a streaming upload's abort() removes the
 * partial file. The client sees the connection closed without an answer.
 * Each cut is logged (refusals at most once a second, with a count).
 *
 * The server calls conn_guard_open()/conn_guard_close() from MHD's connection
 * notifications, the phase calls from its request callbacks, and
 * conn_guard_scan() from its main loop. Times are time_mono_ms() values,
 * passed in so the unit test can move the clock. All calls are thread-safe.
 */
#ifndef API_HTTP_CONN_GUARD_H
#define API_HTTP_CONN_GUARD_H

#include "common/netaddr.h"

#include <stddef.h>
#include <stdint.h>

struct sockaddr;
struct conn_guard;
struct conn_watch;

struct conn_guard_config {
    int64_t head_timeout_ms;    /* 0: no head deadline */
    int64_t body_min_rate;      /* bytes per second; 0: no minimum */
    int64_t body_window_ms;     /* > 0 when body_min_rate is */
    unsigned max_per_addr;      /* 0: no limit */
    struct netaddr_list exempt; /* peers without the per-address limit */
};

/* A guard with a copy of cfg; NULL if memory is out. */
struct conn_guard *conn_guard_new(const struct conn_guard_config *cfg);
/* Free the guard (connections still recorded are forgotten, not closed); *g becomes NULL. Accepts NULL. */
void conn_guard_free(struct conn_guard **g);

/*
 * A connection was accepted on socket fd from peer. Returns its record, in
 * the head phase; or NULL after shutting fd down when the peer is over its
 * limit (or memory is out): the caller lets the connection end.
 */
struct conn_watch *conn_guard_open(struct conn_guard *g, int fd, const struct sockaddr *peer, int64_t now_ms);
/* The connection is gone: forget and free its record; *w becomes NULL. Accepts NULL. */
void conn_guard_close(struct conn_guard *g, struct conn_watch **w);

/* Phases of one request on the connection (w may be NULL: nothing to do). */
/* The head is complete; the body (if any) is now expected at the minimum rate. */
void conn_guard_head_done(struct conn_guard *g, struct conn_watch *w, int64_t now_ms);
/* n more bytes of body arrived. */
void conn_guard_body(struct conn_watch *w, size_t n);
/* The body is complete (or the answer is going out): no deadline while core-api works or answers. */
void conn_guard_body_done(struct conn_guard *g, struct conn_watch *w);
/* The answer went out: the next request's head is due within the head deadline. */
void conn_guard_request_done(struct conn_guard *g, struct conn_watch *w, int64_t now_ms);

/* Cut every connection past its head deadline or below the body rate. Returns how many were cut. */
unsigned conn_guard_scan(struct conn_guard *g, int64_t now_ms);
/* Connections recorded now (tests and metrics). */
unsigned conn_guard_count(struct conn_guard *g);

#endif
