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
#include "common/sqs.h"
#include "common/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The queued or running sync of the source, into sync_id; 0 if found. */
static int active_sync(PGconn *db, const char *tenant_id, const char *source_id, char *sync_id)
{
    const char *params[2] = {source_id, tenant_id};
    PGresult *res = db_query(db,
                             "SELECT sync_id FROM source_syncs WHERE source_id = $1 AND tenant_id = $2"
                             " AND status IN ('queued', 'running')",
                             2, params);
    int rc = -1;

    if (res && PQntuples(res) == 1) {
        snprintf(sync_id, ID_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
        rc = 0;
    }
    PQclear(res);
    return rc;
}

/* The sync's message on the queue; 0 or -1 with the SQS error code in code. */
static int publish(struct sqs_client *sqs, const struct config *cfg, const char *tenant_id, const char *source_id,
                   const char *sync_id, char *code, size_t codelen)
{
    struct job_msg m;
    struct sqs_error qerr;
    char now[40];
    char *text;
    int rc = -1;

    memset(&m, 0, sizeof(m));
    memset(&qerr, 0, sizeof(qerr));
    m.type = JOB_SOURCE_SYNC;
    snprintf(m.sync_id, sizeof(m.sync_id), "%s", sync_id);
    snprintf(m.source_id, sizeof(m.source_id), "%s", source_id);
    snprintf(m.tenant_id, sizeof(m.tenant_id), "%s", tenant_id);
    time_format_rfc3339(time_now_ms(), now, sizeof(now));
    m.received_at = now;
    text = job_msg_encode(&m);
    if (text && sqs && sqs_send(sqs, cfg->sqs_queue_url, text, 0, NULL, 0, &qerr) == 0)
        rc = 0;
    else
        snprintf(code, codelen, "%s", qerr.code[0] ? qerr.code : "nomem");
    free(text);
    return rc;
}

enum source_sync_result source_sync_start(PGconn *db, struct sqs_client *sqs, const struct config *cfg,
                                          const char *tenant_id, const char *source_id, const char *trigger,
                                          char *sync_id)
{
    const char *params[3] = {source_id, tenant_id, trigger};
    char code[96] = "";
    PGresult *res;
    const char *fail[2];

    res = db_query(db,
                   "INSERT INTO source_syncs (tenant_id, source_id, trigger)"
                   " SELECT tenant_id, source_id, $3 FROM sources WHERE source_id = $1 AND tenant_id = $2"
                   " ON CONFLICT (source_id) WHERE status IN ('queued', 'running') DO NOTHING"
                   " RETURNING sync_id",
                   3, params);
    if (!res)
        return SOURCE_SYNC_DB_ERROR;
    if (PQntuples(res) != 1) {
        /* No row: the source is not there, or one of its syncs is active (that one answers). */
        PQclear(res);
        return active_sync(db, tenant_id, source_id, sync_id) == 0 ? SOURCE_SYNC_BUSY : SOURCE_SYNC_NOT_FOUND;
    }
    snprintf(sync_id, ID_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
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
