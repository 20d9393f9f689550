/*
 * app.h - core-api's process-wide state: the configuration, the database pool
 * and the start time, shared read-only by every request and by the
 * subcommands that run without the HTTP server (crash guard).
 */
#ifndef API_APP_H
#define API_APP_H

#include <stdint.h>

struct config;
struct db_pool;

struct api_app {
    const struct config *cfg;
    struct db_pool *db;
    int64_t started_ms;
};

#endif
