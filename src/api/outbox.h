/*
 * outbox.h - the transactional outbox of queue messages (issue 14).
 *
 * POST /v1/ingest writes the run's message into the outbox table in the same
 * transaction that records the queued run (outbox_add), so once the run is
 * committed its message cannot be lost: either the request sends it and
 * deletes the row (outbox_remove), or the row stays (the process died between
 * the commit and the SendMessage, the queue refused, the delete failed) and
 * the publisher of any core-api instance sends it once its next_at has passed
 * (OUTBOX_DELAY after the commit), then deletes it. Several instances share
 * the table: a due row is leased (its next_at moved OUTBOX_LEASE ahead) under
 * FOR UPDATE SKIP LOCKED, so two publishers do not send the same row at once;
 * a publisher that dies after the send and before the delete makes a
 * duplicate message, which the worker tolerates (its atomic claim).
 *
 * The table has no tenant_id and no row-level security (db/migrations/0009):
 * the publisher works across tenants and only ever reads messages to send.
 */
#ifndef API_OUTBOX_H
#define API_OUTBOX_H

#include "api/app.h"

#include <libpq-fe.h>
#include <stdint.h>

struct sqs_client;

/* A leased row not deleted (send failed) is tried again this long after the lease. */
#define OUTBOX_LEASE_MS 5000
/* Rows sent per publisher pass at most (the next pass takes the rest at once). */
#define OUTBOX_BATCH 100

/*
 * Record message (the spec 4.5 body) for run_id, to be sent by a publisher not
 * before delay_ms from now. Call inside the run's transaction on c. 0, or -1
 * on a database error (db_last_sqlstate()).
 */
int outbox_add(PGconn *c, const char *run_id, const char *message, int64_t delay_ms);

/* The run's message was sent (or is not needed any more): delete its row. 0, or -1. */
int outbox_remove(PGconn *c, const char *run_id);

/*
 * One publisher pass on c: lease the due rows (at most OUTBOX_BATCH), send
 * each with job_publish() (the queue, or the worker in INGEST_MODE=proxy) and delete the sent ones. Returns how many were sent, or
 * -1 on database trouble. Rows whose send failed stay, due again after the lease.
 */
int outbox_publish_due(PGconn *c, struct sqs_client *sqs, const struct config *cfg);

/* Rows waiting in the outbox (for /metrics); -1 on database trouble. */
int64_t outbox_pending(PGconn *c);

/*
 * The publisher thread of this instance: a pass every OUTBOX_INTERVAL (and at
 * once after a full batch), with its own connection and SQS client.
 * outbox_start() returns 0 or -1; outbox_stop() waits for the thread (no-op
 * if not started).
 */
int outbox_start(const struct api_app *app);
void outbox_stop(void);

#endif
