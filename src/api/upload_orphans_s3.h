/*
 * upload_orphans_s3.h - the crash guard's storage sweep for UPLOAD_STORE=s3:
 * objects of the upload store (<UPLOAD_S3_PREFIX><tenant>/<run>/<name>) older
 * than the cutoff are deleted when the crash guard's policy lets their run's
 * uploads go, as the local sweep removes run folders: no run row (an orphan),
 * a failed run past FAILED_UPLOAD_RETENTION, a skipped run, a succeeded run
 * under UPLOAD_RETENTION=delete; never while a queued or running run names
 * them. Parts of multipart uploads that were never completed are S3's to
 * expire (a bucket lifecycle rule, docs/sources.md).
 */
#ifndef API_UPLOAD_ORPHANS_S3_H
#define API_UPLOAD_ORPHANS_S3_H

#include <libpq-fe.h>
#include <stdint.h>

struct config;

/*
 * The policy: why the uploads of run_id in tenant_id (every upload_uri starting
 * with prefix, "s3://<bucket>/<UPLOAD_S3_PREFIX><tenant>/<run>/") may go, as a
 * word for the log ("orphan" for a run that does not exist), or NULL to keep
 * them; *err set on database trouble. The tenant is already set on db.
 */
typedef const char *upload_policy_fn(void *ctx, PGconn *db, const char *tenant_id, const char *run_id,
                                     const char *prefix, int *err);

/*
 * One sweep (at most 100 pages of 1000 keys). db is the crash guard's
 * connection: each object's tenant is set on it for policy and cleared at
 * the end. *orphans and *uploads receive the deletions ("orphan" and any
 * other reason). 0, or -1 on database trouble (an S3 error is logged and
 * ends the sweep with 0).
 */
int upload_s3_sweep(PGconn *db, const struct config *cfg, int64_t cutoff_ms, upload_policy_fn *policy, void *ctx,
                    int *orphans, int *uploads);

#endif
