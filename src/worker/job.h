/*
 * job.h - one ingestion job: the queue message (spec 4.5), the run's state
 * transitions in ingestion_runs, and the upload_uri -> path check.
 *
 * Ownership: a worker owns a run while status = 'running' AND attempt = the
 * attempt its claim produced. Every write of a job (heartbeat, fail, requeue,
 * the final store) is conditioned on both, so a worker that lost the run (taken
 * over after a stale heartbeat, failed by the crash guard) can never overwrite
 * the new owner's work: its statements match 0 rows and it backs off.
 */
#ifndef WORKER_JOB_H
#define WORKER_JOB_H

#include "common/arena.h"
#include "common/errors.h"
#include "common/ids.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define JOB_MAX_BODY (256 * 1024)   /* SQS' own limit */

/* The spec 4.5 message. Strings live in the arena given to job_msg_parse. */
struct job_msg {
    char run_id[ID_UUID_LEN + 1];     /* "" when the message does not name a valid one */
    char tenant_id[ID_UUID_LEN + 1];
    char user_id[ID_UUID_LEN + 1];
    char doc_id[ID_UUID_LEN + 1];
    const char *source_uri;
    const char *upload_uri;
    const char *title;                /* "" if absent */
    const char *received_at;          /* "" if absent */
};

/*
 * Parse and validate a message body. Returns 0, or -1 with a one-line reason
 * in err; even on -1, run_id and tenant_id are filled when the body names valid
 * ones, so the caller can fail that run "invalid_message: <err>".
 */
int job_msg_parse(const char *body, size_t len, struct arena *a, struct job_msg *m,
                  char *err, size_t errlen);

/*
 * Map upload_uri to a local path: only file:// URIs whose real path lies
 * inside <upload_dir>/<tenant_id>/ (symlinks resolved) and names a regular file.
 * Returns RUN_OK with the resolved path in out, or RUN_FAIL_INVALID_MESSAGE
 * (not file://, relative, escapes the tenant's folder) or RUN_FAIL_UPLOAD_MISSING
 * (does not exist, not a regular file), with a reason in err.
 */
enum run_fail job_upload_path(const char *upload_uri, const char *upload_dir, const char *tenant_id,
                              char *out, size_t outlen, char *err, size_t errlen);

/* The run as this worker holds it after a successful claim. */
struct job_run {
    char run_id[ID_UUID_LEN + 1];
    char tenant_id[ID_UUID_LEN + 1];
    char doc_id[ID_UUID_LEN + 1];     /* from the run row (authoritative) */
    char content_hash[65];            /* the run's, "" if NULL */
    int attempt;                      /* ownership token */
    int takeover;                     /* 1 if this claim took a stale running run over */
};

enum job_claim {
    JOB_CLAIMED,      /* we own the run now */
    JOB_TERMINAL,     /* succeeded/failed/skipped: ACK and drop */
    JOB_BUSY,         /* running with a fresh heartbeat (or lost a takeover race): leave it */
    JOB_MISSING,      /* no such run for that tenant: the message can never succeed */
    JOB_DB_ERROR,     /* try again later, do not ACK */
};

/*
 * The atomic queued -> running transition (spec 7.2), or the takeover of a run
 * whose heartbeat is older than takeover_after_ms (conditional on the attempt
 * seen, so exactly one taker wins). Fills run on JOB_CLAIMED.
 */
enum job_claim job_claim(PGconn *c, const char *run_id, const char *tenant_id, int64_t takeover_after_ms,
                         struct job_run *run);

/* Results of the conditional writes below. */
enum job_write {
    JOB_WRITE_OK = 0,
    JOB_WRITE_LOST = 1,      /* 0 rows: the run is no longer ours */
    JOB_WRITE_DB = -1,       /* database error (see db_last_was_connection_error) */
};

/* Touch updated_at and set stats.progress {stage, done, total}. */
enum job_write job_heartbeat(PGconn *c, const struct job_run *r, const char *stage, long done, long total);
/* Terminal failure: status failed, error "<code>: <detail>", finished_at. */
enum job_write job_fail(PGconn *c, const struct job_run *r, enum run_fail code, const char *detail);
/* Back to queued for the redelivery (transient failure), with stats.last_error. */
enum job_write job_requeue(PGconn *c, const struct job_run *r, enum run_fail code, const char *detail);

/* "<code>: <detail>" clipped to a sane length, into out. */
void job_error_text(enum run_fail code, const char *detail, char *out, size_t outlen);

#endif
