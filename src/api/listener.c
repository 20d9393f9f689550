/*
 * listener.c - the LISTEN thread (listener.h): connect, LISTEN, wait on the
 * socket, hand each NOTIFY to the principal cache or the run watchers;
 * reconnect after a failure.
 */
#include "api/listener.h"

#include "api/app.h"
#include "common/config.h"
#include "common/db.h"
#include "common/log.h"
#include "common/memo.h"
#include "common/principal_cache.h"
#include "common/watch.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define LISTENER_POLL_MS 200

struct listener {
    struct api_app *app;
    volatile sig_atomic_t *stop;
    atomic_int quit;
    pthread_t thread;
    PGconn *conn;
};

static int stopping(struct listener *l)
{
    return atomic_load(&l->quit) || (l->stop && *l->stop);
}

/* Connect and LISTEN on both channels. 0, or -1 (logged, nothing held). */
static int listen_connect(struct listener *l)
{
    char err[512];

    l->conn = db_connect(l->app->cfg->database_url, DB_ROLE_API, err, sizeof(err));
    if (!l->conn) {
        log_event(LOG_WARN, "listener: database unreachable", json_pack("{s:s}", "error", err));
        return -1;
    }
    if (db_exec(l->conn, "LISTEN " PRINCIPAL_CACHE_CHANNEL, 0, NULL) < 0 ||
        db_exec(l->conn, "LISTEN " LISTENER_RUN_CHANNEL, 0, NULL) < 0) {
        db_close(&l->conn);
        return -1;
    }
    /* From here on no change is missed: the cache may serve, the long polls read again. */
    principal_cache_set_live(l->app->principals, 1);
    memo_set_live(l->app->run_reads, 1);
    memo_set_live(l->app->list_reads, 1);
    watch_fire_all(l->app->runs);
    log_event(LOG_INFO, "listener: listening", NULL);
    return 0;
}

/* The connection failed: serve nothing cached until a new one listens. */
static void listen_lost(struct listener *l)
{
    principal_cache_set_live(l->app->principals, 0);
    memo_set_live(l->app->run_reads, 0);
    memo_set_live(l->app->list_reads, 0);
    watch_fire_all(l->app->runs);
    db_close(&l->conn);
    log_event(LOG_WARN, "listener: connection lost, cache off until it is back", NULL);
}

/* Forget the tenant's cached list pages and wake its list long polls (runs.c): "<tenant_id>" of the payload. */
static void fire_tenant(struct listener *l, const char *payload)
{
    const char *slash = strchr(payload, '/');
    char key[WATCH_KEY_MAX];

    if (!slash || (size_t)(slash - payload) >= sizeof(key))
        return;
    memcpy(key, payload, (size_t)(slash - payload));
    key[slash - payload] = '\0';
    memo_forget_tag(l->app->list_reads, key);   /* first: a woken list must read the new state */
    watch_fire(l->app->runs, key);
}

static void dispatch(struct listener *l, const PGnotify *n)
{
    if (strcmp(n->relname, PRINCIPAL_CACHE_CHANNEL) == 0)
        principal_cache_notify(l->app->principals, n->extra);
    else if (strcmp(n->relname, LISTENER_RUN_CHANNEL) == 0) {
        /* Forget first: a woken long poll must read the new state. */
        memo_forget_key(l->app->run_reads, n->extra);
        watch_fire(l->app->runs, n->extra);
        fire_tenant(l, n->extra);
    }
}

/* Wait for input up to LISTENER_POLL_MS and apply every notification. 0, or -1 when the connection failed. */
static int listen_once(struct listener *l)
{
    struct pollfd p = {.fd = PQsocket(l->conn), .events = POLLIN};
    PGnotify *n;

    if (p.fd < 0)
        return -1;
    if (poll(&p, 1, LISTENER_POLL_MS) < 0)
        return 0;
    if (!PQconsumeInput(l->conn) || PQstatus(l->conn) != CONNECTION_OK)
        return -1;
    while ((n = PQnotifies(l->conn)) != NULL) {
        dispatch(l, n);
        PQfreemem(n);
    }
    return 0;
}

/* Sleep ms in LISTENER_POLL_MS steps, ending early when stopping. */
static void pause_ms(struct listener *l, int ms)
{
    for (int slept = 0; slept < ms && !stopping(l); slept += LISTENER_POLL_MS)
        poll(NULL, 0, LISTENER_POLL_MS);
}

static void *listen_main(void *arg)
{
    struct listener *l = arg;

    while (!stopping(l)) {
        if (!l->conn && listen_connect(l) < 0) {
            pause_ms(l, LISTENER_RETRY_MS);
            continue;
        }
        if (listen_once(l) < 0)
            listen_lost(l);
    }
    principal_cache_set_live(l->app->principals, 0);
    memo_set_live(l->app->run_reads, 0);
    memo_set_live(l->app->list_reads, 0);
    watch_close(l->app->runs);
    db_close(&l->conn);
    return NULL;
}

struct listener *listener_start(struct api_app *app, volatile sig_atomic_t *stop)
{
    struct listener *l = calloc(1, sizeof(*l));

    if (!l) {
        log_event(LOG_ERROR, "listener: out of memory", NULL);
        return NULL;
    }
    l->app = app;
    l->stop = stop;
    atomic_init(&l->quit, 0);
    if (pthread_create(&l->thread, NULL, listen_main, l) != 0) {
        log_event(LOG_ERROR, "listener: cannot create its thread", NULL);
        free(l);
        return NULL;
    }
    return l;
}

void listener_stop(struct listener **lp)
{
    struct listener *l;

    if (!lp || !*lp)
        return;
    l = *lp;
    atomic_store(&l->quit, 1);
    pthread_join(l->thread, NULL);
    free(l);
    *lp = NULL;
}
