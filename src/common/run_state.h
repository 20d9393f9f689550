/*
 * run_state.h - the ingestion_runs state machine: its statuses and every
 * transition of a run row, each one documented SQL statement. Nothing else in
 * src/ writes ingestion_runs, so the transitions and their guards are read in
 * one place:
 *
 *     (upload) --create_queued--> queued --claim--> running --succeed--> succeeded
 *     (upload) --create_skipped-> skipped             |  ^ \--fail------> failed
 *                                 queued <--requeue---/  |
 *                                 queued --fail_queued--------------------> failed
 *                                 running --fail_stale_running------------> failed
 *                                 running --claim (takeover)--> running
 *
 * Statuses come from RUN_STATUS_MAP and reach SQL as parameters
 * (run_status_name()), never as literals written again elsewhere.
 *
 * Ownership (the worker): a worker owns a run while status = 'running' AND
 * attempt = the attempt its claim produced (struct run_owner). Every write of
 * a job (heartbeat, fail, requeue, the final succeed) is conditioned on both,
 * so a worker that lost the run (taken over after a stale heartbeat, failed by
 * the crash guard) can never overwrite the new owner's work: its statements
 * match 0 rows (RUN_WRITE_LOST) and it backs off.
 *
 * Time: core-api and the worker use the database's now(); the crash guard
 * passes its own clock (at_ms, milliseconds since the epoch) so tests inject
 * time instead of sleeping.
 */
#ifndef COMMON_RUN_STATE_H
#define COMMON_RUN_STATE_H

#include "common/errors.h"
#include "common/ids.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* The statuses of ingestion_runs.status (the table's CHECK lists the same). */
#define RUN_STATUS_MAP(X)            \
    X(QUEUED,    "queued")           \
    X(RUNNING,   "running")          \
    X(SUCCEEDED, "succeeded")        \
    X(FAILED,    "failed")           \
    X(SKIPPED,   "skipped")

enum run_status {
#define X(name, str) RUN_STATUS_##name,
    RUN_STATUS_MAP(X)
#undef X
    RUN_STATUS__COUNT   /* the table's size, not a status */
};

/* The status's text ("queued"); NULL for a value outside the table. */
const char *run_status_name(enum run_status s);
/* The status named s (exact, lower case): 0 with *out set, or -1. Accepts NULL. */
int run_status_parse(const char *s, enum run_status *out);
/* 1 for succeeded, failed and skipped: no transition leaves them. */
int run_status_terminal(enum run_status s);

/* "<code>: <detail>" (ingestion_runs.error), one line, clipped to outlen. */
void run_error_text(enum run_fail code, const char *detail, char *out, size_t outlen);

/* ---------- core-api: the upload ---------- */

/* A new run row. config is the run's config as JSON text. */
struct run_new {
    const char *run_id;
    const char *tenant_id;
    const char *doc_id;
    const char *content_hash;
    const char *config;
};

/*
 * (none) -> queued:
 *     INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status, content_hash, config)
 *     VALUES (..., 'queued', ...) RETURNING <created_at as RFC 3339>
 * created_at goes to received_at (the message's received_at: a re-published
 * message is the same). Returns 0, or -1; a unique violation
 * (DB_UNIQUE_VIOLATION) means a run of the same content is queued or running
 * in the tenant (run_find_in_progress()).
 */
int run_create_queued(PGconn *c, const struct run_new *n, char *received_at, size_t len);

/*
 * (none) -> skipped, the content is already served:
 *     INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status, content_hash,
 *                                 finished_at, config, stats)
 *     VALUES (..., 'skipped', ..., now(), config, stats)
 * stats is JSON text. Returns 0 or -1.
 */
int run_create_skipped(PGconn *c, const struct run_new *n, const char *stats);

/*
 * The tenant's run of this content that is queued or running (what the unique
 * index on (tenant_id, content_hash) WHERE status IN ('queued', 'running')
 * refuses a second of):
 *     SELECT run_id, doc_id, status FROM ingestion_runs
 *     WHERE tenant_id = $1 AND content_hash = $2 AND status IN ('queued', 'running') LIMIT 1
 * Returns the result (0 or 1 rows) for the caller to PQclear, or NULL.
 */
PGresult *run_find_in_progress(PGconn *c, const char *tenant_id, const char *content_hash);

/* ---------- queued runs: enqueue failure, crash guard ---------- */

/*
 * queued -> failed (the message could not be published; not picked up):
 *     UPDATE ingestion_runs SET status = 'failed', error = $error,
 *            finished_at = <at>, updated_at = <at>
 *     WHERE run_id = $1 AND tenant_id = $2 AND status = 'queued'
 * at is at_ms, or now() when at_ms < 0. Returns 1 (failed now), 0 (no longer
 * queued) or -1 (database error).
 */
int run_fail_queued(PGconn *c, const char *run_id, const char *tenant_id, const char *error, int64_t at_ms);

/*
 * queued -> queued, re-published by the crash guard:
 *     UPDATE ingestion_runs SET config = jsonb_set(config, '{republished}', $count),
 *            updated_at = <at_ms>
 *     WHERE run_id = $1 AND status = 'queued'
 * Returns 0 (also when the run left queued meanwhile) or -1.
 */
int run_mark_republished(PGconn *c, const char *run_id, long long count, int64_t at_ms);

/*
 * running -> failed for every run of the tenant whose heartbeat (updated_at)
 * is older than cutoff_ms (crash guard, one tenant at a time under row-level
 * security):
 *     UPDATE ingestion_runs SET status = 'failed',
 *            error = 'stale_running: no heartbeat since ' || <updated_at as RFC 3339>,
 *            finished_at = <at_ms>, updated_at = <at_ms>
 *     WHERE tenant_id = $tenant AND status = 'running' AND updated_at < <cutoff_ms>
 *     RETURNING run_id, tenant_id, error
 * Returns the result for the caller to PQclear, or NULL.
 */
PGresult *run_fail_stale_running(PGconn *c, const char *tenant_id, int64_t cutoff_ms, int64_t at_ms);

/* ---------- the worker: claim and owned writes ---------- */

/* The run as this worker holds it after a successful claim. */
struct run_owner {
    char run_id[ID_UUID_LEN + 1];
    char tenant_id[ID_UUID_LEN + 1];
    char doc_id[ID_UUID_LEN + 1];     /* from the run row (authoritative) */
    char content_hash[65];            /* the run's, "" if NULL */
    int attempt;                      /* ownership token */
    int takeover;                     /* 1 if this claim took a stale running run over */
};

enum run_claim {
    RUN_CLAIMED,          /* we own the run now */
    RUN_CLAIM_TERMINAL,   /* succeeded/failed/skipped: ACK and drop */
    RUN_CLAIM_BUSY,       /* running with a fresh heartbeat (or lost a takeover race): leave it */
    RUN_CLAIM_MISSING,    /* no such run for that tenant: the message can never succeed */
    RUN_CLAIM_DB_ERROR,   /* try again later, do not ACK */
};

/*
 * queued -> running (spec 7.2), atomic:
 *     UPDATE ingestion_runs SET status = 'running', started_at = COALESCE(started_at, now()),
 *            updated_at = now(), attempt = attempt + 1, error = NULL,
 *            stats = stats || {attempt, progress: {stage: claimed}}
 *     WHERE run_id = $1 AND tenant_id = $2 AND status = 'queued'
 * or, when that matches nothing and the run is running with a heartbeat older
 * than takeover_after_ms, running -> running (takeover):
 *     UPDATE ingestion_runs SET updated_at = now(), attempt = attempt + 1,
 *            stats = stats || {attempt, takeover_from, progress: {stage: claimed}}
 *     WHERE run_id = $1 AND tenant_id = $2 AND status = 'running' AND attempt = <seen>
 *       AND updated_at < now() - <takeover_after_ms>
 * (conditional on the attempt seen, so exactly one taker wins). Fills owner on
 * RUN_CLAIMED.
 */
enum run_claim run_claim(PGconn *c, const char *run_id, const char *tenant_id, int64_t takeover_after_ms,
                         struct run_owner *owner);

/* Results of the owned writes below. */
enum run_write {
    RUN_WRITE_OK = 0,
    RUN_WRITE_LOST = 1,      /* 0 rows: the run is no longer ours */
    RUN_WRITE_DB = -1,       /* database error (see db_last_was_connection_error) */
};

/*
 * running -> running, the heartbeat:
 *     UPDATE ingestion_runs SET updated_at = now(),
 *            stats = stats || {progress: {stage, done, total}}
 *     WHERE run_id = $1 AND tenant_id = $2 AND status = 'running' AND attempt = $attempt
 */
enum run_write run_heartbeat(PGconn *c, const struct run_owner *o, const char *stage, long done, long total);

/*
 * running -> failed, terminal:
 *     UPDATE ingestion_runs SET status = 'failed', finished_at = now(), updated_at = now(),
 *            error = '<code>: <detail>', stats = stats || {progress: {stage: failed}}
 *     WHERE <owned, as run_heartbeat>
 */
enum run_write run_fail(PGconn *c, const struct run_owner *o, enum run_fail code, const char *detail);

/*
 * running -> queued, for the redelivery (a transient failure):
 *     UPDATE ingestion_runs SET status = 'queued', updated_at = now(),
 *            stats = stats || {last_error: '<code>: <detail>', progress: {stage: retry_wait}}
 *     WHERE <owned, as run_heartbeat>
 */
enum run_write run_requeue(PGconn *c, const struct run_owner *o, enum run_fail code, const char *detail);

/*
 * Is the run still ours? (Inside the content transaction, before writing.)
 *     SELECT 1 FROM ingestion_runs WHERE <owned, as run_heartbeat>
 */
enum run_write run_check_owner(PGconn *c, const struct run_owner *o);

/*
 * running -> succeeded, the last statement of the content transaction
 * (worker/store.c), so the status commits with the content or not at all:
 *     UPDATE ingestion_runs SET status = 'succeeded', finished_at = now(), updated_at = now(),
 *            error = NULL, stats = stats || $stats
 *     WHERE <owned, as run_heartbeat>
 * stats is JSON text.
 */
enum run_write run_succeed(PGconn *c, const struct run_owner *o, const char *stats);

/*
 * running -> skipped, terminal: the worker found the run's content already
 * active for its document (an S3 object whose metadata changed but whose
 * bytes did not; docs/sources.md):
 *     UPDATE ingestion_runs SET status = 'skipped', finished_at = now(), updated_at = now(),
 *            error = NULL, stats = stats || $stats
 *     WHERE <owned, as run_heartbeat>
 */
enum run_write run_skip(PGconn *c, const struct run_owner *o, const char *stats);

#endif
