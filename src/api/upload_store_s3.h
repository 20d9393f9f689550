/*
 * upload_store_s3.h - the S3 side of the upload store (upload_store.h): with
 * UPLOAD_STORE=s3 the same upload_store_* calls stream the upload to
 * UPLOAD_S3_BUCKET under <UPLOAD_S3_PREFIX><tenant>/<run>/<name> while hashing
 * it. Memory: one part buffer of UPLOAD_S3_PART_SIZE per upload, never the
 * whole file, no temporary copy on disk. An upload smaller than one part is
 * one PutObject; a larger one a multipart upload whose parts go out as the
 * buffer fills, completed on commit and aborted on any failure. upload_uri is
 * "s3://<bucket>/<key>". Only upload_store.c calls these.
 */
#ifndef API_UPLOAD_STORE_S3_H
#define API_UPLOAD_STORE_S3_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct upload_store;
struct upload_s3;

/* Remember cfg (it outlives every upload) as the S3 store's settings. */
void upload_s3_configure(const struct config *cfg);
/* 1 when UPLOAD_STORE=s3 was configured. */
int upload_s3_enabled(void);

/*
 * The upload_store_* calls for an S3 store (s->s3 set by begin). Same
 * contracts as upload_store.h; upload_s3_write is called by
 * upload_store_write once it has checked the state and the limit and hashed
 * the bytes.
 */
int upload_s3_begin(struct upload_store *s, const char *tenant_id, const char *run_id);
int upload_s3_write(struct upload_store *s, const void *p, size_t n);
int upload_s3_commit(struct upload_store *s);
void upload_s3_abort(struct upload_store *s);
void upload_s3_release(struct upload_store *s);

/*
 * Reading a committed upload back (upload_store_open/kept): uri must be an
 * s3:// URI of the configured bucket under <UPLOAD_S3_PREFIX><tenant_id>/.
 * upload_s3_open: an fd of an unlinked temporary file (TMPDIR, else /tmp)
 * holding the object, *size its bytes; -1 when not kept or on failure.
 * upload_s3_kept: 1 when the object exists, 0 when not (or S3 cannot say).
 */
int upload_s3_open(const char *tenant_id, const char *uri, uint64_t max_bytes, uint64_t *size);
int upload_s3_kept(const char *tenant_id, const char *uri);

#endif
