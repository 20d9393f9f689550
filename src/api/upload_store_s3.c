/*
 * upload_store_s3.c - an upload streamed to S3 while hashed (upload_store_s3.h):
 * a bounded part buffer, multipart upload once it first fills, one PutObject
 * when it never does.
 */
#include "api/upload_store_s3.h"

#include "api/upload_store.h"
#include "common/config.h"
#include "common/log.h"
#include "common/s3.h"
#include "common/upload_path.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UPLOAD_S3_TIMEOUT_MS 120000L
#define UPLOAD_S3_MAX_PARTS 10000          /* S3's limit */

struct upload_s3 {
    struct s3_client *c;
    char *key;
    unsigned char *part;                   /* the part being filled */
    size_t part_len;
    size_t part_cap;
    char upload_id[512];                   /* "" until the multipart upload began */
    char (*etags)[80];                     /* one per sent part */
    int nparts;
    int committed;
};

static const struct config *s3cfg;

void upload_s3_configure(const struct config *cfg)
{
    s3cfg = cfg && strcmp(cfg->upload_store, "s3") == 0 ? cfg : NULL;
}

int upload_s3_enabled(void)
{
    return s3cfg != NULL;
}

static void log_s3(const char *what, struct upload_store *s, const struct s3_error *e)
{
    s->unavailable = strcmp(e->code, "transport") == 0 || e->http_status >= 500 || strcmp(e->code, "SlowDown") == 0;
    log_event(LOG_ERROR, "upload store failure",
              json_pack("{s:s,s:s,s:s,s:s,s:I}", "op", what, "key", s->s3 && s->s3->key ? s->s3->key : "", "code",
                        e->code, "error", e->message, "status", (json_int_t)e->http_status));
}

/* A client for the store, or NULL. */
static struct s3_client *store_client(void)
{
    struct s3_config sc;

    memset(&sc, 0, sizeof(sc));
    sc.endpoint = s3cfg->upload_s3_endpoint[0] ? s3cfg->upload_s3_endpoint : s3cfg->aws_endpoint_url;
    sc.region = s3cfg->aws_region;
    sc.access_key_id = s3cfg->aws_access_key_id;
    sc.secret_access_key = s3cfg->aws_secret_access_key;
    sc.timeout_ms = UPLOAD_S3_TIMEOUT_MS;
    return s3_new(&sc);
}

int upload_s3_begin(struct upload_store *s, const char *tenant_id, const char *run_id)
{
    struct upload_s3 *u;

    if (!upload_path_is_id(tenant_id) || !upload_path_is_id(run_id))
        return -1;
    u = calloc(1, sizeof(*u));
    if (!u)
        return -1;
    s->s3 = u;
    u->c = store_client();
    u->part_cap = (size_t)s3cfg->upload_s3_part_size;
    u->part = malloc(u->part_cap);
    if (asprintf(&u->key, "%s%s/%s/%s", s3cfg->upload_s3_prefix, tenant_id, run_id, s->name) < 0)
        u->key = NULL;
    if (!u->c || !u->part || !u->key || sha256_init(&s->hash) < 0) {
        upload_s3_release(s);
        return -1;
    }
    s->hash_live = 1;
    s->state = UPLOAD_STORE_WRITING;
    return 0;
}

/* Send the filled part (the multipart upload begins with the first). 0 or -1. */
static int send_part(struct upload_store *s)
{
    struct upload_s3 *u = s->s3;
    struct s3_error e;
    void *grown;

    if (u->nparts >= UPLOAD_S3_MAX_PARTS)
        return -1;
    if (!u->upload_id[0] &&
        s3_multipart_begin(u->c, s3cfg->upload_s3_bucket, u->key, u->upload_id, sizeof(u->upload_id), &e) < 0) {
        log_s3("multipart begin", s, &e);
        return -1;
    }
    grown = realloc(u->etags, (size_t)(u->nparts + 1) * sizeof(*u->etags));
    if (!grown)
        return -1;
    u->etags = grown;
    if (s3_multipart_part(u->c, s3cfg->upload_s3_bucket, u->key, u->upload_id, u->nparts + 1, u->part, u->part_len,
                          u->etags[u->nparts], &e) < 0) {
        log_s3("upload part", s, &e);
        return -1;
    }
    u->nparts++;
    u->part_len = 0;
    return 0;
}

/* upload_store_write() has checked the state and the limit and hashed the bytes. */
int upload_s3_write(struct upload_store *s, const void *p, size_t n)
{
    struct upload_s3 *u = s->s3;
    const unsigned char *c = p;

    while (n > 0) {
        size_t take = u->part_cap - u->part_len < n ? u->part_cap - u->part_len : n;

        memcpy(u->part + u->part_len, c, take);
        u->part_len += take;
        c += take;
        n -= take;
        s->size += take;
        if (u->part_len == u->part_cap && send_part(s) < 0)
            return UPLOAD_STORE_ERROR;
    }
    return UPLOAD_STORE_OK;
}

int upload_s3_commit(struct upload_store *s)
{
    struct upload_s3 *u = s->s3;
    struct s3_error e;
    int rc;

    if (s->state != UPLOAD_STORE_WRITING)
        return -1;
    s->hash_live = 0;
    if (sha256_final_hex(&s->hash, s->sha256) < 0)
        return -1;
    if (!u->upload_id[0]) {
        rc = s3_put(u->c, s3cfg->upload_s3_bucket, u->key, u->part, u->part_len, &e);
    } else {
        rc = u->part_len > 0 ? send_part(s) : 0;
        if (rc == 0)
            rc = s3_multipart_complete(u->c, s3cfg->upload_s3_bucket, u->key, u->upload_id,
                                       (const char (*)[80])u->etags, u->nparts, &e);
        else
            snprintf(e.code, sizeof(e.code), "part");
    }
    if (rc < 0) {
        log_s3("commit", s, &e);
        return -1;
    }
    u->committed = 1;
    free(u->part);   /* the memory goes back as soon as the bytes are in S3 */
    u->part = NULL;
    s->uri = s3_uri(s3cfg->upload_s3_bucket, u->key);
    s->state = UPLOAD_STORE_COMMITTED;
    return s->uri ? 0 : -1;
}

void upload_s3_abort(struct upload_store *s)
{
    struct upload_s3 *u = s->s3;
    struct s3_error e;

    if (!u)
        return;
    if (s->hash_live) {
        sha256_release(&s->hash);
        s->hash_live = 0;
    }
    if (u->committed && s3_delete(u->c, s3cfg->upload_s3_bucket, u->key, &e) < 0)
        log_s3("delete", s, &e);
    else if (!u->committed && u->upload_id[0] &&
             s3_multipart_abort(u->c, s3cfg->upload_s3_bucket, u->key, u->upload_id, &e) < 0)
        log_s3("multipart abort", s, &e);
    u->committed = 0;
    u->upload_id[0] = '\0';
    s->state = UPLOAD_STORE_IDLE;
}

void upload_s3_release(struct upload_store *s)
{
    struct upload_s3 *u = s->s3;

    if (!u)
        return;
    /* An upload never committed nor aborted leaves no parts behind either. */
    if (!u->committed && u->upload_id[0])
        upload_s3_abort(s);
    if (s->hash_live) {
        sha256_release(&s->hash);
        s->hash_live = 0;
    }
    s3_free(&u->c);
    free(u->key);
    free(u->part);
    free(u->etags);
    free(u);
    s->s3 = NULL;
}

/* The key of uri when it is an upload of tenant_id in this store, else NULL. */
static const char *tenant_key(const char *tenant_id, const char *uri)
{
    char bucket[64], want[200];
    const char *key;

    if (!s3cfg || !upload_path_is_id(tenant_id) || s3_uri_split(uri, bucket, sizeof(bucket), &key) < 0 ||
        strcmp(bucket, s3cfg->upload_s3_bucket) != 0)
        return NULL;
    snprintf(want, sizeof(want), "%s%s/", s3cfg->upload_s3_prefix, tenant_id);
    return strncmp(key, want, strlen(want)) == 0 && !strstr(key, "/../") ? key : NULL;
}

/* GetObject of key into fd (at most max_bytes): 0, or -1 with e. */
static int get_into(const char *key, int fd, uint64_t max_bytes, uint64_t *size, struct s3_error *e)
{
    struct s3_client *c = store_client();
    int rc = c ? s3_get_to_fd(c, s3cfg->upload_s3_bucket, key, fd, max_bytes, size, e) : -1;

    if (!c)
        snprintf(e->code, sizeof(e->code), "internal");
    s3_free(&c);
    return rc;
}

int upload_s3_open(const char *tenant_id, const char *uri, uint64_t max_bytes, uint64_t *size)
{
    const char *key = tenant_key(tenant_id, uri);
    const char *tmp = getenv("TMPDIR");
    struct s3_error e;
    int fd;

    if (!key)
        return -1;
    fd = open(tmp && *tmp ? tmp : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    memset(&e, 0, sizeof(e));
    if (fd < 0 || get_into(key, fd, max_bytes, size, &e) < 0 || lseek(fd, 0, SEEK_SET) != 0) {
        if (fd >= 0 && strcmp(e.code, "NoSuchKey") != 0)
            log_event(LOG_WARN, "upload store: cannot read an upload back",
                      json_pack("{s:s,s:s,s:s}", "key", key, "code", e.code, "error", e.message));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int upload_s3_kept(const char *tenant_id, const char *uri)
{
    const char *key = tenant_key(tenant_id, uri);
    struct s3_error e;
    uint64_t n = 0;
    int fd, rc;

    if (!key || (fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
        return 0;
    memset(&e, 0, sizeof(e));
    /* An upload is never empty (0 bytes are refused): a GET stopped at its first byte proves it is there. */
    rc = get_into(key, fd, 0, &n, &e);
    close(fd);
    return rc == 0 || strcmp(e.code, "too_large") == 0;
}
