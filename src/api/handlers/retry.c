/*
 * retry.c - POST /v1/ingestion-runs/:run_id/retry: a new attempt of a failed
 * upload (docs/api.md "Retry").
 *
 * Allowed to an admin and to the user who uploaded the file (the run's
 * config.created_by_user_id); anyone else of the tenant gets 403, another
 * tenant 404. The failed run stays as it was (its error is the record of what
 * happened); the retry is a new queued run of the same document and content,
 * whose config is the old one plus retry_of and retried_by_user_id, reading
 * the same stored upload. It is refused with 409 when the run is not failed,
 * its document was deleted, or its upload is no longer in the store. A run of
 * the same content already queued or running is the answer (200), as for an
 * upload.
 */
#include "api/handlers/retry.h"

#include "api/handlers/params.h"
#include "api/handlers/rows.h"
#include "api/publish.h"
#include "api/upload_store.h"
#include "common/db.h"
#include "common/job_msg.h"
#include "common/log.h"
#include "common/run_state.h"
#include "common/sqs.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define RETRY_DB_WHAT "invalid retry request"

static const char run_sql[] =
    "SELECT r.status, r.doc_id, r.content_hash, coalesce(r.config->>'created_by_user_id', ''),"
    "       r.config->>'upload_uri', d.source_uri, d.title, d.deleted_at IS NOT NULL,"
    "       (r.config || jsonb_build_object('retry_of', r.run_id::text, 'retried_by_user_id', $3::text,"
    "                                      'republished', 0))::text"
    "  FROM ingestion_runs r JOIN documents d ON d.doc_id = r.doc_id AND d.tenant_id = r.tenant_id"
    " WHERE r.run_id = $1 AND r.tenant_id = $2";

enum { R_STATUS, R_DOC, R_HASH, R_BY, R_URI, R_SOURCE, R_TITLE, R_DELETED, R_CONFIG };

/* Who may, and whether it can be retried. 0, or -1 after answering. */
static int retry_allowed(struct req *r, const PGresult *run)
{
    const char *uri = db_val(run, 0, R_URI);

    if (r->principal.role != ROLE_ADMIN && strcmp(db_val(run, 0, R_BY), r->principal.user_id) != 0) {
        req_error(r, API_ERR_FORBIDDEN, "only an admin or the person who uploaded the file can retry it");
        return -1;
    }
    if (strcmp(db_val(run, 0, R_STATUS), "failed") != 0) {
        req_error(r, API_ERR_CONFLICT, "only a failed run can be retried");
        return -1;
    }
    if (strcmp(db_val(run, 0, R_DELETED), "t") == 0) {
        req_error(r, API_ERR_CONFLICT, "the document was deleted");
        return -1;
    }
    if (!upload_store_kept(r->app->cfg->upload_dir, r->principal.tenant_id, uri)) {
        req_error(r, API_ERR_CONFLICT, "the uploaded file is no longer kept: upload it again");
        return -1;
    }
    return 0;
}

/* Publish the new run's message; 503 (the run failed enqueue_failed) when the queue refuses it. */
static void publish(struct req *r, const PGresult *run, const char *run_id, const char *received_at)
{
    struct job_msg m;
    struct sqs_error qerr;
    struct sqs_client *sqs = req_sqs(r);
    char message_id[160] = "", error[160];
    char *text;

    memset(&m, 0, sizeof(m));
    snprintf(m.run_id, sizeof(m.run_id), "%s", run_id);
    snprintf(m.tenant_id, sizeof(m.tenant_id), "%s", r->principal.tenant_id);
    snprintf(m.user_id, sizeof(m.user_id), "%s", r->principal.user_id);
    snprintf(m.doc_id, sizeof(m.doc_id), "%s", db_val(run, 0, R_DOC));
    m.source_uri = db_val(run, 0, R_SOURCE);
    m.upload_uri = db_val(run, 0, R_URI);
    m.title = db_val(run, 0, R_TITLE);
    m.received_at = received_at;
    text = job_msg_encode(&m);
    memset(&qerr, 0, sizeof(qerr));
    if (text && sqs && job_publish(r->app->cfg, sqs, text, message_id, sizeof(message_id), &qerr) == 0) {
        free(text);
        log_info("run retried", json_pack("{s:s,s:s,s:s,s:s}", "tenant_id", r->principal.tenant_id, "run_id", run_id,
                                          "retry_of", r->params[0], "user_id", r->principal.user_id));
        req_json(r, 202, json_pack("{s:s,s:s,s:s,s:s}", "run_id", run_id, "doc_id", db_val(run, 0, R_DOC), "status",
                                   "queued", "retry_of", r->params[0]));
        return;
    }
    free(text);
    run_error_text(RUN_FAIL_ENQUEUE_FAILED, qerr.code[0] ? qerr.code : "transport", error, sizeof(error));
    if (req_db(r))
        (void)run_fail_queued(r->db, run_id, r->principal.tenant_id, error, -1);
    req_error_extra(r, API_ERR_UNAVAILABLE, "queue unavailable", json_pack("{s:s}", "run_id", run_id));
}

/* The same content is already queued or running: that run is the answer (200). */
static void answer_in_progress(struct req *r, PGconn *db, const PGresult *run)
{
    PGresult *res = arena_pg(&r->arena, run_find_in_progress(db, r->principal.tenant_id, db_val(run, 0, R_HASH)));

    if (!res || PQntuples(res) != 1) {
        req_error(r, API_ERR_UNAVAILABLE, "busy, try again");
        return;
    }
    req_json(r, 200, json_pack("{s:s,s:s,s:s,s:s}", "run_id", PQgetvalue(res, 0, 0), "doc_id", PQgetvalue(res, 0, 1),
                               "status", PQgetvalue(res, 0, 2), "reason", "already in progress"));
}

void runs_retry(struct req *r)
{
    const char *p[3];
    char run_id[ID_UUID_LEN + 1], received_at[64];
    struct run_new n;
    PGresult *run;
    PGconn *db;

    p[0] = params_id(r, 0, "run not found");
    if (!p[0])
        return;
    p[1] = r->principal.tenant_id;
    p[2] = r->principal.user_id;
    run = rows_query(r, run_sql, 3, p, RETRY_DB_WHAT);
    if (!run)
        return;
    if (PQntuples(run) != 1) {
        req_error(r, API_ERR_NOT_FOUND, "run not found");
        return;
    }
    if (retry_allowed(r, run) < 0)
        return;
    db = req_db(r);
    if (!db)
        return;
    id_uuid_new(run_id);
    n = (struct run_new){run_id, r->principal.tenant_id, db_val(run, 0, R_DOC), db_val(run, 0, R_HASH),
                         db_val(run, 0, R_CONFIG)};
    if (run_create_queued(db, &n, received_at, sizeof(received_at)) != 0) {
        if (strcmp(db_last_sqlstate(), DB_UNIQUE_VIOLATION) == 0)
            answer_in_progress(r, db, run);
        else
            req_db_error(r, RETRY_DB_WHAT);
        return;
    }
    req_db_release(r);   /* the queue may take seconds to answer */
    publish(r, run, run_id, received_at);
}
