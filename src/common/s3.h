/*
 * s3.h - a small Amazon S3 client: path-style requests
 * (<endpoint>/<bucket>/<key>), SigV4-signed by libcurl (CURLOPT_AWS_SIGV4,
 * service "s3", payload UNSIGNED-PAYLOAD), XML answers parsed with libxml2.
 * The same code talks to AWS S3, MinIO or the local emulator (fauxqs).
 *
 * A client is used by one thread at a time. Failures fill struct s3_error
 * with S3's error code ("NoSuchBucket", "AccessDenied", ...), "transport"
 * when no answer came (connection refused, timeout), "bad_response" when the
 * answer was not the expected XML, "too_large" when an object passed the
 * caller's limit.
 */
#ifndef COMMON_S3_H
#define COMMON_S3_H

#include <stddef.h>
#include <stdint.h>

struct s3_config {
    const char *endpoint;          /* "http://127.0.0.1:4566"; NULL/"": https://s3.<region>.amazonaws.com */
    const char *region;            /* NULL/"": us-east-1 */
    const char *access_key_id;     /* NULL/"": requests go unsigned (only an emulator accepts them) */
    const char *secret_access_key;
    long timeout_ms;               /* per request; 0: 60 s (a download: no total limit, a low-speed cut instead) */
};

struct s3_error {
    long http_status;              /* 0 when no response */
    char code[96];
    char message[256];
};

struct s3_object {
    char *key;
    char etag[80];                 /* as listed, quotes removed */
    long long size;
    char last_modified[40];
};

/* One ListObjectsV2 page. */
struct s3_page {
    struct s3_object *objects;
    size_t n;
    int truncated;                 /* more pages: call again with next_token */
    char *next_token;              /* NULL when not truncated */
};

struct s3_client;

/* Copies the config strings. NULL if memory is out. */
struct s3_client *s3_new(const struct s3_config *cfg);
void s3_free(struct s3_client **c);

/*
 * ListObjectsV2 of bucket under prefix (may be NULL), starting after token
 * (NULL for the first page), at most 1000 keys. 0 with page filled (release
 * with s3_page_release), or -1 with err.
 */
int s3_list(struct s3_client *c, const char *bucket, const char *prefix, const char *token, struct s3_page *page,
            struct s3_error *err);
void s3_page_release(struct s3_page *page);

/*
 * Every object of bucket under prefix, page after page (at most max_pages),
 * handed to fn in listing order; a nonzero return of fn stops the walk.
 * 0 when the listing was walked to its end (or max_pages), 1 when fn stopped
 * it, -1 on an S3 error (err).
 */
typedef int (*s3_each_fn)(void *ctx, const struct s3_object *o);
int s3_list_each(struct s3_client *c, const char *bucket, const char *prefix, int max_pages, s3_each_fn fn,
                 void *ctx, struct s3_error *err);

/*
 * Parse a ListObjectsV2 answer (len bytes of XML from the network, untrusted):
 * 0 with page filled, or -1 with err ("bad_response", "internal") and page
 * empty. What s3_list uses; exposed for the fuzzer and the unit tests.
 */
int s3_parse_list(const char *xml, size_t len, struct s3_page *page, struct s3_error *err);

/*
 * GetObject of bucket/key written to fd. More than max_bytes stops the
 * transfer: -1 with err->code "too_large". *size receives the bytes written.
 */
int s3_get_to_fd(struct s3_client *c, const char *bucket, const char *key, int fd, uint64_t max_bytes,
                 uint64_t *size, struct s3_error *err);

/* PutObject of len bytes of data (one request; S3 takes up to 5 GiB so). 0 or -1. */
int s3_put(struct s3_client *c, const char *bucket, const char *key, const void *data, size_t len,
           struct s3_error *err);
/* DeleteObject (a missing key is no error on S3). 0 or -1. */
int s3_delete(struct s3_client *c, const char *bucket, const char *key, struct s3_error *err);

/*
 * Multipart upload: begin (upload_id receives S3's id, len bytes), parts
 * numbered from 1 (every part but the last at least 5 MiB; etag receives the
 * part's ETag, 80 bytes), complete with the parts' ETags in order, or abort
 * (S3 frees the parts). Each 0 or -1 with err.
 */
int s3_multipart_begin(struct s3_client *c, const char *bucket, const char *key, char *upload_id, size_t len,
                       struct s3_error *err);
int s3_multipart_part(struct s3_client *c, const char *bucket, const char *key, const char *upload_id, int part,
                      const void *data, size_t len, char *etag, struct s3_error *err);
int s3_multipart_complete(struct s3_client *c, const char *bucket, const char *key, const char *upload_id,
                          const char (*etags)[80], int nparts, struct s3_error *err);
int s3_multipart_abort(struct s3_client *c, const char *bucket, const char *key, const char *upload_id,
                       struct s3_error *err);

/*
 * Split "s3://bucket/key" into bucket (at most 63 bytes, NUL-terminated into
 * a buffer of bucket_len) and *key (pointing into uri). 0, or -1 when uri is
 * not of that form (no key, empty bucket).
 */
int s3_uri_split(const char *uri, char *bucket, size_t bucket_len, const char **key);

/*
 * "s3://bucket/key" as a malloc'd string; NULL if memory is out.
 */
char *s3_uri(const char *bucket, const char *key);

#endif
