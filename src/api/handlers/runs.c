/*
 * runs.c - GET /v1/ingestion-runs/:run_id and GET /v1/ingestion-runs (spec 5).
 *
 * Every query is confined to the caller's tenant (r->principal), so another
 * tenant's run answers 404 exactly like a missing one. The Run object is built
 * by PostgreSQL (json_build_object), so config and stats stay JSON objects and
 * times are formatted once, in UTC, the same way for every endpoint.
 */
#include "api/handlers/runs.h"

#include "api/handlers/params.h"
#include "api/handlers/rows.h"
#include "common/db.h"
#include "common/run_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS_LIMIT_DEFAULT 20
/* The message of a statement error that is the request's fault (req_db_error). */
#define RUNS_DB_WHAT "invalid run request"


/*
 * config keeps upload_uri (file:// + the absolute path) for the crash guard's
 * re-publication; users see upload_key instead, the upload's place inside the
 * store (common/upload_path.h: <tenant_id>/<run_id>/<name>), never a server path.
 */
#define RUN_CONFIG_JSON                                                                              \
    "(config - 'upload_uri') || CASE WHEN config ? 'upload_uri' THEN jsonb_build_object('upload_key'," \
    " tenant_id::text || '/' || run_id::text || '/' || regexp_replace(config->>'upload_uri', '^.*/', ''))" \
    " ELSE '{}'::jsonb END"

#define RUN_JSON                                                                                     \
    "json_build_object('run_id', run_id, 'doc_id', doc_id, 'status', status,"                       \
    " 'created_at', " DB_TS("created_at") ", 'updated_at', " DB_TS("updated_at") ","                       \
    " 'started_at', " DB_TS("started_at") ", 'finished_at', " DB_TS("finished_at") ","                     \
    " 'attempt', attempt, 'content_hash', content_hash,"                                             \
    " 'config', " RUN_CONFIG_JSON ", 'stats', stats, 'error', error,"                                 \
    " 'uploaded_by', (SELECT u.email FROM users u WHERE u.tenant_id = ingestion_runs.tenant_id"         \
    "     AND u.user_id::text = ingestion_runs.config->>'created_by_user_id'),"                           \
    " 'document_title', (SELECT d.title FROM documents d WHERE d.doc_id = ingestion_runs.doc_id"        \
    "     AND d.tenant_id = ingestion_runs.tenant_id))::text"

static const char *const run_statuses[] = {
#define X(name, str) str,
    RUN_STATUS_MAP(X)
#undef X
};

void runs_get(struct req *r)
{
    PGresult *res;
    json_t *run;

    /* Not a UUID cannot be a run of this tenant: the same 404 as a missing one. */
    res = rows_by_id(r, "SELECT " RUN_JSON " FROM ingestion_runs WHERE run_id = $1 AND tenant_id = $2",
                     RUNS_DB_WHAT, "run not found");
    if (!res)
        return;
    run = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    if (!run) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    req_json(r, 200, run);
}

/* The status filter (NULL: every status) into *status; -1 after answering 400. */
static int status_filter(struct req *r, const char **status)
{
    if (params_query(r, "status", status) < 0)
        return -1;
    for (size_t i = 0; *status && i < sizeof(run_statuses) / sizeof(run_statuses[0]); i++)
        if (strcmp(*status, run_statuses[i]) == 0)
            return 0;
    if (*status) {
        req_error(r, API_ERR_BAD_REQUEST, "status must be one of queued, running, succeeded, failed, skipped");
        return -1;
    }
    return 0;
}

/* mine=true: only the caller's uploads (the upload screen's list); *mine the user id, or NULL. -1 after 400. */
static int mine_filter(struct req *r, const char **mine)
{
    const char *q;

    *mine = NULL;
    if (params_query(r, "mine", &q) < 0)
        return -1;
    if (q && strcmp(q, "true") != 0 && strcmp(q, "false") != 0) {
        req_error(r, API_ERR_BAD_REQUEST, "mine must be true or false");
        return -1;
    }
    if (q && strcmp(q, "true") == 0)
        *mine = r->principal.user_id;
    return 0;
}

/* With mine=true, total counts the caller's runs (of the status filter). -1 after answering. */
static int runs_mine_total(struct req *r, const char *const *params, json_t *body)
{
    const char *p[3] = {params[0], params[1], params[4]};
    PGresult *res = rows_query(r,
                               "SELECT count(*) FROM ingestion_runs WHERE tenant_id = $1"
                               " AND ($2::text IS NULL OR status = $2) AND config->>'created_by_user_id' = $3",
                               3, p, RUNS_DB_WHAT);

    if (!res)
        return -1;
    json_object_set_new(body, "total", json_integer(strtoll(PQgetvalue(res, 0, 0), NULL, 10)));
    return 0;
}

void runs_list(struct req *r)
{
    struct params_page page;
    const char *status, *mine;
    char limit_s[24], offset_s[24];
    const char *params[5];
    PGresult *res;
    PGconn *db;
    json_t *body, *runs, *counts;

    if (params_page(r, RUNS_LIMIT_DEFAULT, &page) < 0 || status_filter(r, &status) < 0 || mine_filter(r, &mine) < 0)
        return;
    db = req_db(r);
    if (!db)
        return;
    snprintf(limit_s, sizeof(limit_s), "%lld", page.limit);
    snprintf(offset_s, sizeof(offset_s), "%lld", page.offset);
    params[0] = r->principal.tenant_id;
    params[1] = status;
    params[2] = limit_s;
    params[3] = offset_s;
    params[4] = mine;

    body = arena_json(&r->arena, json_object());
    runs = json_array();
    counts = json_object();
    json_object_set_new(body, "runs", runs);
    json_object_set_new(body, "total", json_integer(0));
    json_object_set_new(body, "limit", json_integer(page.limit));
    json_object_set_new(body, "offset", json_integer(page.offset));
    json_object_set_new(body, "counts", counts);
    for (size_t i = 0; i < sizeof(run_statuses) / sizeof(run_statuses[0]); i++)
        json_object_set_new(counts, run_statuses[i], json_integer(0));

    res = rows_query(r,
                     "SELECT " RUN_JSON " FROM ingestion_runs"
                     " WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)"
                     "   AND ($5::text IS NULL OR config->>'created_by_user_id' = $5)"
                     " ORDER BY created_at DESC, run_id DESC LIMIT $3::bigint OFFSET $4::bigint",
                     5, params, RUNS_DB_WHAT);
    if (!res)
        return;
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *run = json_loads(PQgetvalue(res, i, 0), 0, NULL);

        if (!run) {
            req_error(r, API_ERR_INTERNAL, "internal error");
            return;
        }
        json_array_append_new(runs, run);
    }
    /* Counts by status over the whole tenant; total is the filtered count. */
    res = rows_query(r, "SELECT status, count(*) FROM ingestion_runs WHERE tenant_id = $1 GROUP BY status",
                     1, params, RUNS_DB_WHAT);
    if (!res)
        return;
    {
        long long total = 0;

        for (int i = 0; i < PQntuples(res); i++) {
            long long c = strtoll(PQgetvalue(res, i, 1), NULL, 10);

            json_object_set_new(counts, PQgetvalue(res, i, 0), json_integer(c));
            if (!status || strcmp(status, PQgetvalue(res, i, 0)) == 0)
                total += c;
        }
        json_object_set_new(body, "total", json_integer(total));
    }
    if (mine && runs_mine_total(r, params, body) < 0)
        return;
    req_json(r, 200, json_incref(body));
}
