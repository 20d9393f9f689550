/*
 * source_sync.h - start one sync of an S3 source: the queued source_syncs row
 * and its queue message (common/job_msg.h, JOB_SOURCE_SYNC). Shared by
 * POST /v1/sources/:id/sync and the schedule (the crash guard's timer), so the
 * two cannot start a sync differently.
 *
 * At most one sync of a source is queued or running (the unique index
 * source_syncs_one_active of migration 0012): a second start finds the
 * active one and returns SOURCE_SYNC_BUSY with its id, whoever asked and on
 * whichever core-api instance. The worker additionally runs each sync under
 * a PostgreSQL advisory lock on the source (docs/sources.md).
 *
 * The connection must have the tenant set (db_set_tenant / req_db), so the
 * source is looked up in that tenant only.
 */
#ifndef API_SOURCE_SYNC_H
#define API_SOURCE_SYNC_H

#include "common/ids.h"

#include <libpq-fe.h>

struct config;
struct sqs_client;

enum source_sync_result {
    SOURCE_SYNC_QUEUED = 0,         /* row inserted, message sent: sync_id is the new sync */
    SOURCE_SYNC_NOT_FOUND,          /* no such source in the connection's tenant */
    SOURCE_SYNC_BUSY,               /* a sync is queued or running: sync_id is that one */
    SOURCE_SYNC_DB_ERROR,           /* a statement failed (db_last_sqlstate() says which) */
    SOURCE_SYNC_ENQUEUE_FAILED,     /* the message could not be sent: the sync row is failed */
};

/*
 * Insert a queued sync of source_id for tenant_id (trigger "manual" or
 * "schedule") and publish its message on cfg's ingest queue. sync_id
 * (ID_UUID_LEN + 1 bytes) receives the new or the active sync's id.
 */
enum source_sync_result source_sync_start(PGconn *db, struct sqs_client *sqs, const struct config *cfg,
                                          const char *tenant_id, const char *source_id, const char *trigger,
                                          char *sync_id);

/*
 * The schedule: start a "schedule" sync of every source whose schedule_s has
 * passed since its last sync and that has none active (due_source_syncs(),
 * of every tenant, at most 100 a call), each under its own tenant. Called by
 * the crash guard's scan, which one core-api instance at a time runs (its
 * advisory lock). *started receives how many were queued. 0, or -1 on
 * database trouble. Leaves the connection with no tenant.
 */
int source_sync_schedule(PGconn *db, struct sqs_client *sqs, const struct config *cfg, int *started);

#endif
