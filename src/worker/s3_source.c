/*
 * s3_source.c - the worker's S3 client settings and the download of one
 * object (s3_source.h).
 */
#include "worker/s3_source.h"

#include "common/db.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S3_SOURCE_TIMEOUT_MS 60000L

/* NAME_<suffix> from the environment, or NULL. */
static const char *env_of(const char *name, const char *suffix)
{
    char var[160];

    snprintf(var, sizeof(var), "%s_%s", name, suffix);
    return getenv(var);
}

struct s3_client *s3_source_client(const struct config *cfg, const char *endpoint, const char *region,
                                   const char *credentials_ref, char *err, size_t errlen)
{
    struct s3_config sc;
    struct s3_client *c;

    memset(&sc, 0, sizeof(sc));
    sc.endpoint = endpoint && endpoint[0] ? endpoint : cfg->aws_endpoint_url;
    sc.region = region && region[0] ? region : cfg->aws_region;
    sc.timeout_ms = S3_SOURCE_TIMEOUT_MS;
    sc.access_key_id = cfg->aws_access_key_id;
    sc.secret_access_key = cfg->aws_secret_access_key;
    if (credentials_ref && strncmp(credentials_ref, "env:", 4) == 0) {
        sc.access_key_id = env_of(credentials_ref + 4, "ACCESS_KEY_ID");
        sc.secret_access_key = env_of(credentials_ref + 4, "SECRET_ACCESS_KEY");
        if (!sc.access_key_id || !sc.access_key_id[0] || !sc.secret_access_key || !sc.secret_access_key[0]) {
            snprintf(err, errlen, "credentials %s: %s_ACCESS_KEY_ID or %s_SECRET_ACCESS_KEY is not set in the "
                     "worker's environment", credentials_ref, credentials_ref + 4, credentials_ref + 4);
            return NULL;
        }
    }
    c = s3_new(&sc);
    if (!c)
        snprintf(err, errlen, "out of memory");
    return c;
}

/* "object" + the key's extension when it is short and plain, so type sniffing sees it. */
static void object_name(const char *key, char *out, size_t outlen)
{
    const char *base = strrchr(key, '/');
    const char *dot;
    size_t n;

    base = base ? base + 1 : key;
    dot = strrchr(base, '.');
    snprintf(out, outlen, "object");
    if (!dot || !dot[1] || (n = strlen(dot + 1)) > 16)
        return;
    for (size_t i = 1; i <= n; i++) {
        char ch = dot[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
            return;
    }
    snprintf(out, outlen, "object%s", dot);
}

/* The run's source settings (endpoint, region, credentials_ref), or a result of 0 rows. */
static PGresult *run_source(PGconn *c, const char *run_id)
{
    const char *params[1] = {run_id};

    return db_query(c,
                    "SELECT s.endpoint, s.region, s.credentials_ref FROM ingestion_runs r"
                    "  JOIN sources s ON s.source_id::text = r.config->>'source_id'"
                    " WHERE r.run_id = $1",
                    1, params);
}

/*
 * Map an S3 failure of a download to the run's failure code. A 403 (AccessDenied from a
 * policy, InvalidAccessKeyId, SignatureDoesNotMatch: wrong credentials) is final like a
 * missing object: retrying with the same credentials cannot succeed.
 */
static enum run_fail fetch_failure(const struct s3_error *e, char *detail, size_t detaillen)
{
    snprintf(detail, detaillen, "s3: %s: %s", e->code, e->message);
    if (strcmp(e->code, "too_large") == 0)
        return RUN_FAIL_TOO_LARGE;
    if (strcmp(e->code, "NoSuchKey") == 0 || strcmp(e->code, "NoSuchBucket") == 0 ||
        strcmp(e->code, "AccessDenied") == 0 || e->http_status == 403)
        return RUN_FAIL_UPLOAD_MISSING;
    return RUN_FAIL_INTERNAL;   /* transport, throttling, 5xx: retried */
}

/* Download into the open fd with the run's client. */
static enum run_fail fetch_into(PGconn *c, const struct config *cfg, const char *run_id, const char *bucket,
                                const char *key, int fd, char *detail, size_t detaillen)
{
    PGresult *res = run_source(c, run_id);
    struct s3_client *s3;
    struct s3_error e;
    uint64_t size = 0;
    int one = res && PQntuples(res) == 1;
    enum run_fail code = RUN_OK;

    if (!res) {
        snprintf(detail, detaillen, "cannot read the run's source");
        return RUN_FAIL_INTERNAL;
    }
    /* No source: an upload of the S3 upload store (UPLOAD_STORE=s3), signed as the worker. */
    s3 = s3_source_client(cfg, one ? PQgetvalue(res, 0, 0) : cfg->upload_s3_endpoint,
                          one ? PQgetvalue(res, 0, 1) : NULL, one ? PQgetvalue(res, 0, 2) : NULL, detail, detaillen);
    PQclear(res);
    if (!s3)
        return RUN_FAIL_UPLOAD_MISSING;
    if (s3_get_to_fd(s3, bucket, key, fd, (uint64_t)cfg->max_upload_bytes, &size, &e) < 0)
        code = fetch_failure(&e, detail, detaillen);
    else if (fsync(fd) != 0)
        code = RUN_FAIL_INTERNAL;
    s3_free(&s3);
    return code;
}

enum run_fail s3_source_fetch(PGconn *c, const struct config *cfg, const char *run_id, const char *upload_uri,
                              char *path, size_t pathlen, char *detail, size_t detaillen)
{
    char bucket[64], dir[PATH_MAX], name[32];
    const char *key;
    enum run_fail code;
    int fd;

    path[0] = '\0';
    if (s3_uri_split(upload_uri, bucket, sizeof(bucket), &key) < 0) {
        snprintf(detail, detaillen, "upload_uri is not s3://bucket/key");
        return RUN_FAIL_INVALID_MESSAGE;
    }
    object_name(key, name, sizeof(name));
    snprintf(dir, sizeof(dir), "%s/s3-%s", cfg->artifacts_dir, run_id);
    if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
        snprintf(path, pathlen, "%s/%s", dir, name) >= (int)pathlen) {
        snprintf(detail, detaillen, "cannot make the download folder: %s", strerror(errno));
        path[0] = '\0';
        return RUN_FAIL_INTERNAL;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(detail, detaillen, "cannot create the download file: %s", strerror(errno));
        path[0] = '\0';
        (void)rmdir(dir);
        return RUN_FAIL_INTERNAL;
    }
    code = fetch_into(c, cfg, run_id, bucket, key, fd, detail, detaillen);
    close(fd);
    if (code != RUN_OK) {
        s3_source_cleanup(path);
        path[0] = '\0';
    }
    return code;
}

void s3_source_cleanup(const char *path)
{
    char dir[PATH_MAX];
    char *slash;

    if (!path || !path[0])
        return;
    (void)unlink(path);
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        (void)rmdir(dir);
    }
}

int s3_source_is_upload_store(const struct config *cfg, const char *upload_uri)
{
    char bucket[64];
    const char *key;

    return strcmp(cfg->upload_store, "s3") == 0 && s3_uri_split(upload_uri, bucket, sizeof(bucket), &key) == 0 &&
           strcmp(bucket, cfg->upload_s3_bucket) == 0 &&
           strncmp(key, cfg->upload_s3_prefix, strlen(cfg->upload_s3_prefix)) == 0;
}

void s3_source_remove_upload(const struct config *cfg, const char *upload_uri)
{
    char bucket[64], err[256];
    const char *key;
    struct s3_client *c;
    struct s3_error e;

    if (!s3_source_is_upload_store(cfg, upload_uri) || s3_uri_split(upload_uri, bucket, sizeof(bucket), &key) < 0)
        return;
    c = s3_source_client(cfg, cfg->upload_s3_endpoint, NULL, NULL, err, sizeof(err));
    if (c && s3_delete(c, bucket, key, &e) < 0)
        log_event(LOG_WARN, "upload removal failed", json_pack("{s:s,s:s}", "code", e.code, "error", e.message));
    s3_free(&c);
}
