/*
 * routes.c - the route table of core-api (docs/api.md), handed to the server
 * by main.c.
 *
 * Anything not in this table is a static file of the web UI (static_files.c),
 * except paths under /v1, which answer 404 JSON.
 */
#include "api/handlers/routes.h"
#include "api/handlers/documents.h"
#include "api/handlers/ingest.h"
#include "api/handlers/ops.h"
#include "api/handlers/runs.h"
#include "api/handlers/search.h"
#include "api/handlers/session.h"
#include "api/handlers/sources.h"
#include "api/handlers/users.h"
#include "api/handlers/retry.h"
#include "api/handlers/versions.h"

const struct route api_routes[] = {
    {"POST", "/v1/auth/login", ROUTE_PUBLIC, session_login, NULL},
    /* Public so an expired or revoked cookie can still be cleared. */
    {"POST", "/v1/auth/logout", ROUTE_PUBLIC, session_logout, NULL},
    {"GET", "/v1/auth/me", 0, session_me, NULL},

    {"POST", "/v1/ingest", ROUTE_STREAM, NULL, &ingest_stream_ops},
    {"GET", "/v1/ingestion-runs", 0, runs_list, NULL},
    {"GET", "/v1/ingestion-runs/:run_id", 0, runs_get, NULL},
    {"POST", "/v1/ingestion-runs/:run_id/retry", 0, runs_retry, NULL},

    {"GET", "/v1/documents", 0, documents_list, NULL},
    {"GET", "/v1/documents/:doc_id", 0, documents_get, NULL},
    {"DELETE", "/v1/documents/:doc_id", ROUTE_ADMIN, documents_delete, NULL},
    {"GET", "/v1/documents/:doc_id/versions/:version_id/content", 0, versions_content, NULL},
    {"GET", "/v1/documents/:doc_id/versions/:version_id/chunks", 0, versions_chunks, NULL},
    {"POST", "/v1/documents/:doc_id/versions/:version_id/activate", ROUTE_ADMIN, versions_activate, NULL},

    {"POST", "/v1/search", 0, search_handle, NULL},

    {"GET", "/v1/users", ROUTE_ADMIN, users_list, NULL},
    {"POST", "/v1/users", ROUTE_ADMIN, users_create, NULL},
    {"PATCH", "/v1/users/:user_id", ROUTE_ADMIN, users_update, NULL},

    {"GET", "/v1/sources", 0, sources_list, NULL},
    {"POST", "/v1/sources", ROUTE_ADMIN, sources_create, NULL},
    {"GET", "/v1/sources/:source_id", 0, sources_get, NULL},
    {"PATCH", "/v1/sources/:source_id", ROUTE_ADMIN, sources_update, NULL},
    {"DELETE", "/v1/sources/:source_id", ROUTE_ADMIN, sources_delete, NULL},
    {"POST", "/v1/sources/:source_id/sync", ROUTE_ADMIN, sources_sync, NULL},

    {"GET", "/healthz", ROUTE_PUBLIC, ops_healthz, NULL},
    {"GET", "/readyz", ROUTE_PUBLIC, ops_readyz, NULL},
    {"GET", "/metrics", ROUTE_PUBLIC, ops_metrics, NULL},
};

const size_t api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);
