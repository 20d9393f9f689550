/*
 * sync.h - one source_sync job (docs/sources.md): list the source's bucket
 * (paginated ListObjectsV2), compare each key with what the last sync saw
 * (source_objects: ETag, size, last-modified), create a queued ingest run and
 * publish its message for each new or changed object (source_type 's3',
 * source_uri and upload_uri 's3://bucket/key'), deactivate the document of
 * each object gone from the listing, and record the counts on the sync row
 * (listed, new, changed, removed, unchanged, failed, ignored).
 *
 * The whole job holds a PostgreSQL advisory lock on the source
 * (pg_try_advisory_lock(hashtextextended('source_sync:' || source_id, 0))),
 * so two syncs of one source never overlap on any number of workers: a
 * delivery that finds the lock taken fails its own sync row "sync_busy" if it
 * is still queued and is ACKed (coalesced into the running one).
 *
 * A listing error (no such bucket, refused connection, bad credentials, a
 * missing credentials variable) fails the sync with "s3_error: <code>: ..."
 * and removes nothing. A database outage releases the message for a retry;
 * the retry takes the running row over under the lock.
 */
#ifndef WORKER_SYNC_H
#define WORKER_SYNC_H

#include "common/arena.h"
#include "common/job_msg.h"
#include "worker/pipeline.h"

/* Run the sync of a parsed JOB_SOURCE_SYNC message; out says what to do with the message. */
void sync_process(const struct pipeline_env *env, struct arena *a, const struct job_msg *msg,
                  struct pipeline_result *out);

#endif
