/*
 * listener.h - core-api's one LISTEN connection: the database tells every
 * instance what changed (migration 0008's triggers), and this thread applies
 * it: a user or session change to the principal cache, a run change to the
 * run read cache and the long polls waiting on that run.
 *
 * Channels: PRINCIPAL_CACHE_CHANNEL ("principal_changed", payload "u:<user>"
 * or "s:<jti>") and LISTENER_RUN_CHANNEL ("run_changed", payload
 * "<tenant_id>/<run_id>", the watch key of one run's long polls; the
 * "<tenant_id>" part is fired too, the key of the tenant's list long polls).
 *
 * While the connection is down the caches serve nothing (set_live 0) and
 * every long poll is woken to read again, since a NOTIFY may have been
 * lost; the thread reconnects every LISTENER_RETRY_MS. When *stop is set it
 * closes the run watchers (long polls answer at once) and ends.
 */
#ifndef API_LISTENER_H
#define API_LISTENER_H

#include <signal.h>

#define LISTENER_RUN_CHANNEL "run_changed"
#define LISTENER_RETRY_MS 1000

struct api_app;
struct listener;

/*
 * Start the thread for app (its cfg, principals and runs; either may be NULL).
 * NULL if the thread cannot be created or memory is out (logged). The first
 * connection is made by the thread: until it succeeds the cache stays off.
 */
struct listener *listener_start(struct api_app *app, volatile sig_atomic_t *stop);
/* Stop and join the thread, close its connection; accepts NULL and sets *l to NULL. */
void listener_stop(struct listener **l);

#endif
