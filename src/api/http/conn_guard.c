/*
 * conn_guard.c - head deadline, minimum body rate and per-address connection
 * limit (conn_guard.h): a list of open connections under one mutex, scanned
 * by the server's main loop. At most a few hundred connections are open
 * (the server's cap), so a linear scan per accept and per tick is cheap.
 */
#include "api/http/conn_guard.h"
#include "common/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CONN_GUARD_REFUSAL_LOG_MS 1000

enum watch_phase {
    PHASE_HEAD,   /* waiting for a request head */
    PHASE_BODY,   /* receiving a body */
    PHASE_BUSY,   /* core-api works or answers: no deadline here */
    PHASE_CUT,    /* shut down, waiting for the connection to end */
};

struct conn_watch {
    struct conn_watch *prev, *next;
    int fd;
    struct netaddr addr;
    char addr_text[NETADDR_TEXT_LEN];
    int exempt;                 /* a trusted proxy: not counted against the per-address limit */
    enum watch_phase phase;     /* under the guard's mutex */
    int64_t since_ms;           /* HEAD: when the wait began; BODY: the current window's start */
    atomic_uint_fast64_t body_bytes;   /* bytes in the current window */
};

struct conn_guard {
    struct conn_guard_config cfg;
    pthread_mutex_t mu;
    struct conn_watch *head;
    unsigned n;
    int64_t refusal_logged_ms;  /* last refusal log line */
    unsigned refused_unlogged;  /* refusals since then */
};

struct conn_guard *conn_guard_new(const struct conn_guard_config *cfg)
{
    struct conn_guard *g = calloc(1, sizeof(*g));

    if (!g)
        return NULL;
    g->cfg = *cfg;
    g->refusal_logged_ms = INT64_MIN / 2;
    if (pthread_mutex_init(&g->mu, NULL) != 0) {
        free(g);
        return NULL;
    }
    return g;
}

void conn_guard_free(struct conn_guard **gp)
{
    struct conn_guard *g = gp ? *gp : NULL;

    if (!g)
        return;
    while (g->head) {
        struct conn_watch *w = g->head;

        g->head = w->next;
        free(w);
    }
    pthread_mutex_destroy(&g->mu);
    free(g);
    *gp = NULL;
}

/* Open connections from addr, the trusted proxies aside. Under the mutex. */
static unsigned count_from(const struct conn_guard *g, const struct netaddr *addr)
{
    unsigned n = 0;

    for (const struct conn_watch *w = g->head; w; w = w->next)
        if (netaddr_equal(&w->addr, addr))
            n++;
    return n;
}

/* One log line per second at most while refusals go on. Under the mutex. */
static void log_refusal(struct conn_guard *g, const char *addr, int64_t now_ms)
{
    g->refused_unlogged++;
    if (now_ms - g->refusal_logged_ms < CONN_GUARD_REFUSAL_LOG_MS)
        return;
    log_event(LOG_WARN, "refusing connections: too many open from one address",
              json_pack("{s:s,s:i,s:i}", "addr", addr, "limit", (int)g->cfg.max_per_addr, "refused",
                        (int)g->refused_unlogged));
    g->refusal_logged_ms = now_ms;
    g->refused_unlogged = 0;
}

struct conn_watch *conn_guard_open(struct conn_guard *g, int fd, const struct sockaddr *peer, int64_t now_ms)
{
    struct conn_watch *w = calloc(1, sizeof(*w));

    if (!w) {
        shutdown(fd, SHUT_RDWR);
        return NULL;
    }
    w->fd = fd;
    if (netaddr_from_sockaddr(peer, &w->addr) < 0 || netaddr_format(&w->addr, w->addr_text, sizeof(w->addr_text)) < 0)
        snprintf(w->addr_text, sizeof(w->addr_text), "unknown");
    w->exempt = netaddr_list_contains(&g->cfg.exempt, &w->addr);
    w->phase = PHASE_HEAD;
    w->since_ms = now_ms;
    atomic_init(&w->body_bytes, 0);

    pthread_mutex_lock(&g->mu);
    if (!w->exempt && w->addr.family && g->cfg.max_per_addr && count_from(g, &w->addr) >= g->cfg.max_per_addr) {
        log_refusal(g, w->addr_text, now_ms);
        pthread_mutex_unlock(&g->mu);
        shutdown(fd, SHUT_RDWR);
        free(w);
        return NULL;
    }
    w->next = g->head;
    if (g->head)
        g->head->prev = w;
    g->head = w;
    g->n++;
    pthread_mutex_unlock(&g->mu);
    return w;
}

void conn_guard_close(struct conn_guard *g, struct conn_watch **wp)
{
    struct conn_watch *w = wp ? *wp : NULL;

    if (!w)
        return;
    pthread_mutex_lock(&g->mu);
    if (w->prev)
        w->prev->next = w->next;
    else
        g->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    g->n--;
    pthread_mutex_unlock(&g->mu);
    free(w);
    *wp = NULL;
}

/* Move w to phase (a cut connection stays cut). */
static void set_phase(struct conn_guard *g, struct conn_watch *w, enum watch_phase phase, int64_t now_ms)
{
    if (!w)
        return;
    pthread_mutex_lock(&g->mu);
    if (w->phase != PHASE_CUT) {
        w->phase = phase;
        w->since_ms = now_ms;
        atomic_store(&w->body_bytes, 0);
    }
    pthread_mutex_unlock(&g->mu);
}

void conn_guard_head_done(struct conn_guard *g, struct conn_watch *w, int64_t now_ms)
{
    set_phase(g, w, PHASE_BODY, now_ms);
}

void conn_guard_body(struct conn_watch *w, size_t n)
{
    if (w)
        atomic_fetch_add(&w->body_bytes, (uint_fast64_t)n);
}

void conn_guard_body_done(struct conn_guard *g, struct conn_watch *w)
{
    set_phase(g, w, PHASE_BUSY, 0);
}

void conn_guard_request_done(struct conn_guard *g, struct conn_watch *w, int64_t now_ms)
{
    set_phase(g, w, PHASE_HEAD, now_ms);
}

/* Shut w down and say why. Under the mutex. */
static void cut(struct conn_watch *w, const char *why, int64_t waited_ms, uint64_t bytes)
{
    w->phase = PHASE_CUT;
    shutdown(w->fd, SHUT_RDWR);
    log_event(LOG_WARN, why,
              json_pack("{s:s,s:I,s:I}", "addr", w->addr_text, "waited_ms", (json_int_t)waited_ms, "body_bytes",
                        (json_int_t)bytes));
}

/* 1 if w was cut. Under the mutex. */
static int check_one(const struct conn_guard *g, struct conn_watch *w, int64_t now_ms)
{
    int64_t elapsed = now_ms - w->since_ms;
    uint64_t bytes;

    if (w->phase == PHASE_HEAD && g->cfg.head_timeout_ms > 0 && elapsed >= g->cfg.head_timeout_ms) {
        cut(w, "closing connection: request head not complete in time", elapsed, 0);
        return 1;
    }
    if (w->phase != PHASE_BODY || g->cfg.body_min_rate <= 0 || elapsed < g->cfg.body_window_ms)
        return 0;
    /* the window is over: it must have brought rate * elapsed bytes; then a new window */
    bytes = atomic_exchange(&w->body_bytes, 0);
    w->since_ms = now_ms;
    if (bytes * 1000 < (uint64_t)g->cfg.body_min_rate * (uint64_t)elapsed) {
        cut(w, "closing connection: request body slower than the minimum rate", elapsed, bytes);
        return 1;
    }
    return 0;
}

unsigned conn_guard_scan(struct conn_guard *g, int64_t now_ms)
{
    unsigned cuts = 0;

    pthread_mutex_lock(&g->mu);
    for (struct conn_watch *w = g->head; w; w = w->next)
        cuts += (unsigned)check_one(g, w, now_ms);
    pthread_mutex_unlock(&g->mu);
    return cuts;
}

unsigned conn_guard_count(struct conn_guard *g)
{
    unsigned n;

    pthread_mutex_lock(&g->mu);
    n = g->n;
    pthread_mutex_unlock(&g->mu);
    return n;
}
