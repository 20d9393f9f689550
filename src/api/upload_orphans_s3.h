/*
 * upload_orphans_s3.h - the crash guard's orphan sweep for UPLOAD_STORE=s3:
 * objects of the upload store (<UPLOAD_S3_PREFIX><tenant>/<run>/<name>) older
 * than the cutoff whose run row does not exist are deleted, as the local
 * sweep removes run folders without a run. Parts of multipart uploads that
 * were never completed are S3's to expire (a bucket lifecycle rule,
 * docs/sources.md).
 */
#ifndef API_UPLOAD_ORPHANS_S3_H
#define API_UPLOAD_ORPHANS_S3_H

#include <libpq-fe.h>
#include <stdint.h>

struct config;

/*
 * One sweep (at most 100 pages of 1000 keys). db is the crash guard's
 * connection: each object's tenant is set on it for the run lookup and
 * cleared at the end. *removed receives the deletions. 0, or -1 on database
 * trouble (an S3 error is logged and ends the sweep with 0).
 */
int upload_s3_sweep_orphans(PGconn *db, const struct config *cfg, int64_t cutoff_ms, int *removed);

#endif
