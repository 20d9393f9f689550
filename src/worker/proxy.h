/*
 * proxy.h - INGEST_MODE=proxy, the rollback path of spec 11: an internal
 * endpoint through which core-api hands a job straight to this worker
 * instead of the queue (docs/operations.md, "INGEST_MODE").
 *
 *     POST /internal/ingest   body: the spec 4.5 message (common/job_msg.h)
 *     -> 202 {"accepted": true, "run_id"}   held for a job thread
 *     -> 400 not an upload_ingest message naming a run
 *     -> 503 every slot is taken (MAX_INFLIGHT held jobs): core-api answers 503
 *
 * It listens on INGEST_PROXY_ADDR, which must be a loopback or private IPv4
 * address (never 0.0.0.0, never published). An accepted job runs the same
 * pipeline (pipeline_process) on one of WORKER_CONCURRENCY threads of its
 * own; a retryable failure is tried again in process after the same backoff
 * the queue would give, up to MAX_RECEIVE_COUNT attempts, the last of which
 * fails the run; so run rows and statuses are those of the orchestrated mode.
 * A keeper thread repeats each running job's last milestone as its heartbeat
 * every HEARTBEAT_INTERVAL (run_heartbeat), as the queue consumer's keeper
 * does; a heartbeat that matches no row stops the job at its next stage.
 * Jobs still held at shutdown stay queued: the crash guard hands them over
 * again after QUEUED_TTL.
 */
#ifndef WORKER_PROXY_H
#define WORKER_PROXY_H

#include "common/config.h"

#include <signal.h>
#include <stddef.h>

struct proxy;

/* Listen on cfg->ingest_proxy_addr and start the job threads. NULL with err on a bad address or failure. */
struct proxy *proxy_start(const struct config *cfg, volatile sig_atomic_t *stop, char *err, size_t errlen);
/* Stop listening, let running jobs finish, free. Accepts NULL and a pointer to NULL. */
void proxy_stop(struct proxy **p);

#endif
