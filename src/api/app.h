/*
 * app.h - core-api's process-wide state: the configuration, the database pool
 * and the start time, shared read-only by every request and by the
 * subcommands that run without the HTTP server (crash guard); the principal
 * cache and the run watchers, fed by the LISTEN connection (listener.h).
 */
#ifndef API_APP_H
#define API_APP_H

#include <stdint.h>

struct config;
struct db_pool;
struct memo;
struct principal_cache;
struct watch;

struct api_app {
    const struct config *cfg;
    struct db_pool *db;
    int64_t started_ms;
    struct principal_cache *principals;   /* NULL: no cache (PRINCIPAL_CACHE_TTL=0, tests) */
    struct watch *runs;                   /* long polls by "<tenant_id>/<run_id>"; NULL: none */
    struct memo *run_reads;               /* GET run by id, by the same key; NULL: no cache */
    struct memo *list_reads;              /* GET runs list pages, tagged by tenant; NULL: no cache */
};

#endif
