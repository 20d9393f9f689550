/*
 * source_sync.c - one sync started (source_sync.h): the row, then the message;
 * a message that cannot be sent fails the row at once, so nothing stays
 * queued that no worker will ever see.
 */
#include "api/source_sync.h"

#include "common/config.h"
#include "common/db.h"
#include "common/job_msg.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The queued or running sync of the source, into sync_id; 0 if found. One
 * still queued after QUEUED_TTL lost its message (no worker ever took it): it
 * fails stale_queued and 1 is returned, so the caller may start a new one.
 */
static int active_sync(PGconn *db, const struct config *cfg, const char *tenant_id, const char *source_id,
                       char *sync_id)
{
    char ttl[24];
    const char *params[3] = {source_id, tenant_id, ttl};
    PGresult *res;
    int rc = -1;

    snprintf(ttl, sizeof(ttl), "%lld", (long long)cfg->queued_ttl_ms);
    res = db_query(db,
                   "WITH a AS (SELECT sync_id, status = 'queued' AND created_at < now() - $3::bigint * interval '1 ms'"
                   "  AS stale FROM source_syncs WHERE source_id = $1 AND tenant_id = $2"
                   "  AND status IN ('queued', 'running')),"
                   " f AS (UPDATE source_syncs y SET status = 'failed', finished_at = now(), updated_at = now(),"
                   "  error = 'stale_queued: no worker took the sync' FROM a WHERE y.sync_id = a.sync_id AND a.stale)"
                   " SELECT sync_id, stale FROM a",
                   3, params);
    if (res && PQntuples(res) == 1) {
        snprintf(sync_id, ID_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
        rc = strcmp(PQgetvalue(res, 0, 1), "t") == 0 ? 1 : 0;
    }
    PQclear(res);
    return rc;
}

/* The sync's message on the queue; 0 or -1 with the SQS error code in code. */
static int publish(struct sqs_client *sqs, const struct config *cfg, const char *tenant_id, const char *source_id,
                   const char *sync_id, char *code, size_t codelen)
{
    struct job_msg m;

    memset(&m, 0, sizeof(m));
    m.type = JOB_SOURCE_SYNC;
    snprintf(m.sync_id, sizeof(m.sync_id), "%s", sync_id);
    snprintf(m.source_id, sizeof(m.source_id), "%s", source_id);
    snprintf(m.tenant_id, sizeof(m.tenant_id), "%s", tenant_id);
    return job_msg_send(sqs, cfg->sqs_queue_url, &m, code, codelen);
}

/* The queued row; SOURCE_SYNC_QUEUED with its id, or why not. */
static enum source_sync_result insert_sync(PGconn *db, const struct config *cfg, const char *tenant_id,
                                           const char *source_id, const char *trigger, char *sync_id)
{
    const char *params[3] = {source_id, tenant_id, trigger};
    enum source_sync_result r = SOURCE_SYNC_NOT_FOUND;

    /* Twice at most: the second time after a stale queued sync was failed. */
    for (int attempt = 0; attempt < 2 && r == SOURCE_SYNC_NOT_FOUND; attempt++) {
        PGresult *res = db_query(db,
                                 "INSERT INTO source_syncs (tenant_id, source_id, trigger)"
                                 " SELECT tenant_id, source_id, $3 FROM sources WHERE source_id = $1 AND tenant_id = $2"
                                 " ON CONFLICT (source_id) WHERE status IN ('queued', 'running') DO NOTHING"
                                 " RETURNING sync_id",
                                 3, params);
        int active;

        if (!res)
            return SOURCE_SYNC_DB_ERROR;
        if (PQntuples(res) == 1) {
            snprintf(sync_id, ID_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
            PQclear(res);
            return SOURCE_SYNC_QUEUED;
        }
        PQclear(res);
        /* No row: the source is not there, or one of its syncs is active (that one answers). */
        active = active_sync(db, cfg, tenant_id, source_id, sync_id);
        if (active == 0)
            r = SOURCE_SYNC_BUSY;
        else if (active < 0)
            break;
    }
    return r;
}

enum source_sync_result source_sync_start(PGconn *db, struct sqs_client *sqs, const struct config *cfg,
                                          const char *tenant_id, const char *source_id, const char *trigger,
                                          char *sync_id)
{
    char code[96] = "";
    const char *fail[2];
    enum source_sync_result r = insert_sync(db, cfg, tenant_id, source_id, trigger, sync_id);

    if (r != SOURCE_SYNC_QUEUED)
        return r;
    if (publish(sqs, cfg, tenant_id, source_id, sync_id, code, sizeof(code)) == 0) {
        log_event(LOG_INFO, "source sync queued", json_pack("{s:s,s:s,s:s,s:s}", "sync_id", sync_id, "source_id",
                                                            source_id, "tenant_id", tenant_id, "trigger", trigger));
        return SOURCE_SYNC_QUEUED;
    }
    log_event(LOG_WARN, "source sync: enqueue failed", json_pack("{s:s,s:s}", "sync_id", sync_id, "code", code));
    fail[0] = sync_id;
    fail[1] = code;
    (void)db_exec(db,
                  "UPDATE source_syncs SET status = 'failed', finished_at = now(), updated_at = now(),"
                  " error = 'enqueue_failed: ' || $2 WHERE sync_id = $1",
                  2, fail);
    return SOURCE_SYNC_ENQUEUE_FAILED;
}

int source_sync_schedule(PGconn *db, struct sqs_client *sqs, const struct config *cfg, int *started)
{
    PGresult *res = db_query(db, "SELECT tenant_id, source_id FROM due_source_syncs(100)", 0, NULL);
    char sync_id[ID_UUID_LEN + 1];
    int rc = 0;

    *started = 0;
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        /* Each source in its own tenant (row-level security), as a request would. */
        if (db_set_tenant(db, PQgetvalue(res, i, 0)) < 0) {
            rc = -1;
            break;
        }
        switch (source_sync_start(db, sqs, cfg, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), "schedule", sync_id)) {
        case SOURCE_SYNC_QUEUED:
            (*started)++;
            break;
        case SOURCE_SYNC_DB_ERROR:
            rc = -1;
            break;
        default:
            break;   /* gone, coalesced into a running one, or the queue is down: the next scan tries again */
        }
    }
    PQclear(res);
    if (db_set_tenant(db, NULL) < 0)
        rc = -1;
    return rc;
}
