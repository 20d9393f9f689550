/*
 * ops.c - /healthz (process alive), /readyz (database and queue reachable,
 * upload store writable; RUNNING_TTL against the workers' takeover bound as a
 * warning), /metrics (METRICS_TOKEN's bearer token, or a loopback client
 * without one).
 */
#include "api/handlers/ops.h"
#include "api/http/metrics.h"
#include "api/outbox.h"
#include "api/upload_store.h"
#include "common/config.h"
#include "common/db.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/memo.h"
#include "common/principal_cache.h"
#include "common/run_state.h"
#include "common/sqs.h"
#include "common/watch.h"
#include "common/takeover.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/stat.h>
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

/* Can the upload store take a file (upload_store_probe)? 1 or 0, logged when not. */
static int store_ok(struct req *r)
{
    const char *dir = r->app->cfg->upload_dir;
    int err;

    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        err = errno;
    else
        err = upload_store_probe(dir);
    if (err)
        log_event(LOG_WARN, "readiness: upload store not writable",
                  json_pack("{s:s,s:s}", "dir", dir, "error", strerror(err)));
    return err == 0;
}

/*
 * RUNNING_TTL against the workers' published takeover bound (common/takeover.h):
 * "ok", "too_short" (a warning in the answer: the crash guard waits the bound
 * anyway, so the instance stays ready) or "unknown" (no worker seen, or no database).
 */
static const char *running_ttl_check(struct req *r, json_t *warnings)
{
    PGconn *c = ops_db(r);
    int64_t bound = c ? takeover_bound_seen(c) : -1, ttl = r->app->cfg->running_ttl_ms;
    char text[320];

    if (bound <= 0)
        return "unknown";
    if (!takeover_ttl_too_short(ttl, bound))
        return "ok";
    snprintf(text, sizeof(text),
             "RUNNING_TTL (%llds) is not above the workers' takeover bound (%llds, VISIBILITY_TIMEOUT + "
             "TAKEOVER_AFTER + HEARTBEAT_INTERVAL + 5s): the crash guard waits %llds before stale_running",
             (long long)(ttl / 1000), (long long)(bound / 1000), (long long)(bound / 1000));
    json_array_append_new(warnings, json_string(text));
    return "too_short";
}

void ops_readyz(struct req *r)
{
    int db = database_ok(r);
    int queue = queue_ok(r);
    int store = store_ok(r);
    json_t *warnings = json_array();
    const char *ttl = db ? running_ttl_check(r, warnings) : "unknown";
    json_t *checks = json_pack("{s:s,s:s,s:s,s:s}", "database", db ? "ok" : "down", "queue", queue ? "ok" : "down",
                               "upload_store", store ? "ok" : "not_writable", "running_ttl", ttl);
    int ready = db && queue && store;

    if (!ready)
        req_set_header(r, "Retry-After", "5");
    req_json(r, ready ? 200 : 503,
             json_pack("{s:s,s:o,s:o}", "status", ready ? "ready" : "unavailable", "checks", checks, "warnings",
                       warnings));
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

/* The upload store's size and free space, the outbox backlog, RUNNING_TTL and the workers' bound. */
static int metrics_reliability(struct req *r, PGconn *c, struct buf *out)
{
    const struct config *cfg = r->app->cfg;
    struct upload_store_usage u;
    int usage_ok = upload_store_usage(cfg->upload_dir, &u) == 0;
    long long pending = c ? (long long)outbox_pending(c) : -1, bound = c ? (long long)takeover_bound_seen(c) : -1;

    return buf_addf(out,
                    "# HELP ingest_upload_store_bytes Bytes of the files in the upload store (UPLOAD_DIR).\n"
                    "# TYPE ingest_upload_store_bytes gauge\ningest_upload_store_bytes %llu\n"
                    "# HELP ingest_upload_store_files Files in the upload store.\n"
                    "# TYPE ingest_upload_store_files gauge\ningest_upload_store_files %llu\n"
                    "# HELP ingest_upload_store_run_folders Run folders in the upload store.\n"
                    "# TYPE ingest_upload_store_run_folders gauge\ningest_upload_store_run_folders %llu\n"
                    "# HELP ingest_upload_store_free_bytes Bytes free for core-api on the upload store's volume.\n"
                    "# TYPE ingest_upload_store_free_bytes gauge\ningest_upload_store_free_bytes %llu\n"
                    "# HELP ingest_upload_store_volume_bytes Size of the upload store's volume.\n"
                    "# TYPE ingest_upload_store_volume_bytes gauge\ningest_upload_store_volume_bytes %llu\n"
                    "# HELP ingest_upload_store_scrape_ok 1 if UPLOAD_DIR could be read.\n"
                    "# TYPE ingest_upload_store_scrape_ok gauge\ningest_upload_store_scrape_ok %d\n"
                    "# HELP ingest_outbox_pending Committed runs whose message is still in the outbox (-1: unknown).\n"
                    "# TYPE ingest_outbox_pending gauge\ningest_outbox_pending %lld\n"
                    "# HELP ingest_running_ttl_seconds RUNNING_TTL of this core-api.\n"
                    "# TYPE ingest_running_ttl_seconds gauge\ningest_running_ttl_seconds %lld\n"
                    "# HELP ingest_worker_takeover_bound_seconds Largest takeover bound of the workers seen "
                    "lately (0: none, -1: unknown); RUNNING_TTL must be above it.\n"
                    "# TYPE ingest_worker_takeover_bound_seconds gauge\ningest_worker_takeover_bound_seconds %lld\n",
                    (unsigned long long)u.bytes, (unsigned long long)u.files, (unsigned long long)u.folders,
                    (unsigned long long)u.free_bytes, (unsigned long long)u.fs_bytes, usage_ok ? 1 : 0, pending,
                    (long long)(cfg->running_ttl_ms / 1000), bound < 0 ? -1 : bound / 1000);
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
    if (rc == 0)
        rc = metrics_reliability(r, c, &out);
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
