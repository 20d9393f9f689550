/*
 * ops.c - /healthz (process alive), /readyz (database and queue reachable),
 * /metrics (METRICS_TOKEN's bearer token, or a loopback client without one).
 */
#include "api/handlers/ops.h"
#include "api/http/metrics.h"
#include "common/db.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/memo.h"
#include "common/principal_cache.h"
#include "common/run_state.h"
#include "common/sqs.h"
#include "common/watch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define METRICS_TEXT_MAX ((size_t)4 << 20)

void ops_healthz(struct req *r)
{
    req_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

/* A pooled connection held by the request (released when it ends), or NULL; never answers. */
static PGconn *ops_db(struct req *r)
{
    if (!r->db && r->app && r->app->db)
        r->db = db_pool_acquire(r->app->db);
    return r->db;
}

static int database_ok(struct req *r)
{
    PGconn *c = ops_db(r);

    return c && db_exec(c, "SELECT 1", 0, NULL) == 0;
}

static int queue_ok(struct req *r)
{
    static const char *const names[] = {"ApproximateNumberOfMessages", NULL};
    struct sqs_client *c = req_sqs(r);
    struct sqs_error err;
    json_t *attrs = NULL;
    int rc;

    if (!c || !r->app->cfg->sqs_queue_url || !*r->app->cfg->sqs_queue_url)
        return 0;
    memset(&err, 0, sizeof(err));
    rc = sqs_get_attributes(c, r->app->cfg->sqs_queue_url, names, &attrs, &err);
    json_decref(attrs);
    if (rc < 0) {
        log_event(LOG_WARN, "readiness: queue unreachable",
                  json_pack("{s:s,s:s,s:i}", "code", err.code, "error", err.message, "http_status",
                            (int)err.http_status));
        return 0;
    }
    return 1;
}

void ops_readyz(struct req *r)
{
    int db = database_ok(r);
    int queue = queue_ok(r);
    json_t *checks = json_pack("{s:s,s:s}", "database", db ? "ok" : "down", "queue", queue ? "ok" : "down");

    if (db && queue)
        req_json(r, 200, json_pack("{s:s,s:o}", "status", "ready", "checks", checks));
    else
        req_json(r, 503, json_pack("{s:s,s:o}", "status", "unavailable", "checks", checks));
}

int ops_is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (addr && inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (addr && inet_pton(AF_INET6, addr, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return 0;
}

/* 1 if the Authorization header is "Bearer <token>"; compared as SHA-256 digests, in constant time. */
static int bearer_is(struct req *r, const char *token)
{
    const char *auth = req_header(r, "Authorization");
    char want[HASH_SHA256_HEX_LEN + 1], got[HASH_SHA256_HEX_LEN + 1];

    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return 0;
    if (sha256_hex(token, strlen(token), want) < 0 || sha256_hex(auth + 7, strlen(auth + 7), got) < 0)
        return 0;
    return CRYPTO_memcmp(want, got, HASH_SHA256_HEX_LEN) == 0;
}

/* 1 if the caller may read the metrics; else answers 401 (token set) or 403 and returns 0. */
static int metrics_allowed(struct req *r)
{
    const char *token = r->app->cfg->metrics_token;

    if (token && *token) {
        if (bearer_is(r, token))
            return 1;
        req_set_header(r, "WWW-Authenticate", "Bearer realm=\"metrics\"");
        req_error(r, API_ERR_UNAUTHORIZED, "metrics need Authorization: Bearer <METRICS_TOKEN>");
        return 0;
    }
    /* a proxy on the same host would make every client look local */
    if (ops_is_loopback(req_client_addr(r)) && !req_header(r, "X-Forwarded-For") && !req_header(r, "Forwarded") &&
        !req_header(r, "X-Real-IP"))
        return 1;
    req_error(r, API_ERR_FORBIDDEN, "metrics are served to loopback clients only unless METRICS_TOKEN is set");
    return 0;
}

/* The caches and the long polls of this instance (docs/operations.md, "Principal cache and run status push"). */
static int hot_path_metrics(struct req *r, struct buf *out)
{
    return buf_addf(out,
                    "# HELP core_api_principal_cache_entries Sessions whose check is cached by this instance.\n"
                    "# TYPE core_api_principal_cache_entries gauge\n"
                    "core_api_principal_cache_entries %zu\n"
                    "# HELP core_api_run_cache_entries Run answers cached by this instance.\n"
                    "# TYPE core_api_run_cache_entries gauge\n"
                    "core_api_run_cache_entries %zu\n"
                    "# HELP core_api_long_polls Long polls of GET /v1/ingestion-runs/:id waiting on this instance.\n"
                    "# TYPE core_api_long_polls gauge\n"
                    "core_api_long_polls %zu\n",
                    principal_cache_count(r->app->principals), memo_count(r->app->run_reads),
                    watch_count(r->app->runs));
}

void ops_metrics(struct req *r)
{
    struct buf out;
    PGconn *c;
    PGresult *res = NULL;
    char *text;
    size_t len;
    int rc;

    if (!metrics_allowed(r))
        return;
    buf_init(&out, METRICS_TEXT_MAX);
    rc = metrics_render(&out);
    c = ops_db(r);
    if (c)
        /* All tenants' totals: row-level security would show none here, run_status_counts() is the exception. */
        res = arena_pg(&r->arena, db_query(c, "SELECT status, runs FROM run_status_counts()", 0, NULL));
    if (rc == 0)
        rc = buf_adds(&out, "# HELP ingest_runs Ingestion runs by status (all tenants).\n"
                            "# TYPE ingest_runs gauge\n");
    for (int i = 0; res && rc == 0 && i < RUN_STATUS__COUNT; i++) {
        const char *name = run_status_name((enum run_status)i), *n = "0";

        for (int row = 0; row < PQntuples(res); row++)
            if (strcmp(PQgetvalue(res, row, 0), name) == 0)
                n = PQgetvalue(res, row, 1);
        rc = buf_addf(&out, "ingest_runs{status=\"%s\"} %s\n", name, n);
    }
    if (rc == 0)
        rc = hot_path_metrics(r, &out);
    if (rc == 0)
        rc = buf_addf(&out, "# HELP ingest_runs_scrape_ok 1 if the run counts could be read from the database.\n"
                            "# TYPE ingest_runs_scrape_ok gauge\n"
                            "ingest_runs_scrape_ok %d\n",
                      res ? 1 : 0);
    if (rc < 0) {
        buf_release(&out);
        log_event(LOG_ERROR, "cannot render metrics", NULL);
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    text = buf_detach(&out, &len);
    req_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", text ? text : "", text ? len : 0);
    free(text);
}
