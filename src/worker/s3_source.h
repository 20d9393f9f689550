/*
 * s3_source.h - the worker's S3 access: a client for a source (its endpoint,
 * region and credentials reference) and the download of one s3:// object of
 * an ingest run into a private scratch folder, so the rest of the pipeline
 * reads a local file as it does for file:// uploads.
 *
 * Credentials (docs/sources.md): credentials_ref "" uses the worker's own
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; "env:NAME" uses NAME_ACCESS_KEY_ID
 * and NAME_SECRET_ACCESS_KEY of the worker's environment. The endpoint is the
 * source's, else AWS_ENDPOINT_URL, else AWS's regional one.
 */
#ifndef WORKER_S3_SOURCE_H
#define WORKER_S3_SOURCE_H

#include "common/config.h"
#include "common/errors.h"
#include "common/s3.h"

#include <libpq-fe.h>
#include <stddef.h>

/* A client for these settings, or NULL with a reason in err (an unset variable, memory). */
struct s3_client *s3_source_client(const struct config *cfg, const char *endpoint, const char *region,
                                   const char *credentials_ref, char *err, size_t errlen);

/*
 * Download upload_uri (s3://bucket/key) of run_id into
 * ARTIFACTS_DIR/s3-<run_id>/object<.ext> (ext: the key's, when short and
 * alphanumeric), signing as the run's source (config.source_id) or, without
 * one, as the worker. At most MAX_UPLOAD_BYTES: past it RUN_FAIL_TOO_LARGE.
 * RUN_OK with the file's path in path (the folder is for s3_source_cleanup),
 * else a failure code (UPLOAD_MISSING for a missing object, INVALID_MESSAGE
 * for a bad URI, INTERNAL for a transport error, which is retried) and detail.
 */
enum run_fail s3_source_fetch(PGconn *c, const struct config *cfg, const char *run_id, const char *upload_uri,
                              char *path, size_t pathlen, char *detail, size_t detaillen);

/* Remove the file of s3_source_fetch and its folder (path as it returned). Accepts "". */
void s3_source_cleanup(const char *path);

/* 1 if upload_uri is an object of the S3 upload store (UPLOAD_S3_BUCKET under UPLOAD_S3_PREFIX). */
int s3_source_is_upload_store(const struct config *cfg, const char *upload_uri);

/*
 * UPLOAD_RETENTION=delete for the S3 upload store: DeleteObject of upload_uri
 * when it is an upload store object; a source's objects are never touched.
 * Failures are logged.
 */
void s3_source_remove_upload(const struct config *cfg, const char *upload_uri);

#endif
