/*
 * s3.c - the S3 client of s3.h: one request function (s3_perform) under the
 * list and the download, URLs percent-encoded here (RFC 3986 unreserved kept,
 * '/' kept inside keys, the query sorted by name as SigV4 wants it), signing
 * left to libcurl, XML read with libxml2 (no network, no entities).
 */
#include "common/s3.h"

#include "common/buf.h"
#include "common/httpc.h"

#include <curl/curl.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define S3_DEFAULT_TIMEOUT_MS 60000L
#define S3_CONNECT_TIMEOUT_MS 10000L
#define S3_MAX_XML (16u * 1024u * 1024u)
#define S3_MAX_ERROR_BODY (64u * 1024u)

struct s3_client {
    struct httpc_aws aws;   /* endpoint (no trailing '/'), "aws:amz:<region>:s3", "key:secret" or NULL */
    long timeout_ms;
    struct httpc http;  /* owns the curl easy handle and the one-time global init */
};

static void err_set(struct s3_error *err, long status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void err_set(struct s3_error *err, long status, const char *code, const char *fmt, ...)
{
    va_list ap;

    err->http_status = status;
    snprintf(err->code, sizeof(err->code), "%s", code);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

struct s3_client *s3_new(const struct s3_config *cfg)
{
    struct s3_client *c = calloc(1, sizeof(*c));
    char *e;

    if (!c)
        return NULL;
    xmlInitParser();
    if (httpc_init(&c->http) < 0 ||
        httpc_aws_init(&c->aws, cfg->endpoint, cfg->region, "s3", cfg->access_key_id, cfg->secret_access_key) < 0) {
        s3_free(&c);
        return NULL;
    }
    /* A trailing '/' of the endpoint would double the path's first one. */
    e = c->aws.endpoint;
    while (e[0] && e[strlen(e) - 1] == '/')
        e[strlen(e) - 1] = '\0';
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : S3_DEFAULT_TIMEOUT_MS;
    return c;
}

void s3_free(struct s3_client **cp)
{
    struct s3_client *c = cp ? *cp : NULL;

    if (!c)
        return;
    httpc_release(&c->http);
    httpc_aws_release(&c->aws);
    free(c);
    *cp = NULL;
}

/* Append s percent-encoded (RFC 3986 unreserved bytes kept; '/' kept when keep_slash). */
static int encode(struct buf *b, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
        int plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                    ch == '-' || ch == '_' || ch == '.' || ch == '~' || (keep_slash && ch == '/');

        if ((plain ? buf_add(b, s, 1) : buf_add(b, esc, 3)) < 0)
            return -1;
    }
    return 0;
}

/* One transfer: where a 2xx body goes (fd or the bounded buffer), errors always to the buffer. */
struct s3_xfer {
    CURL *curl;
    const char *method;     /* NULL: GET */
    const void *send;       /* request body (PUT, POST), or NULL */
    size_t send_len;
    char etag[80];          /* the answer's ETag header, quotes removed */
    struct buf body;
    int fd;                 /* -1: the body goes to body */
    uint64_t max_bytes;     /* fd only */
    uint64_t written;
    int too_large;
    int write_failed;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct s3_xfer *x = userdata;
    size_t n = size * nmemb, off = 0;
    long status = 0;

    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
    if (x->fd < 0 || status < 200 || status > 299)
        return buf_add(&x->body, data, n) < 0 ? 0 : n;
    if (x->written + n > x->max_bytes) {
        x->too_large = 1;
        return 0;
    }
    while (off < n) {
        ssize_t w = write(x->fd, data + off, n - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            x->write_failed = 1;
            return 0;
        }
        off += (size_t)w;
    }
    x->written += n;
    return n;
}

/* Keep the ETag response header (UploadPart answers with it). */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct s3_xfer *x = userdata;
    size_t n = size * nmemb, i = 5;

    if (n > 5 && strncasecmp(data, "etag:", 5) == 0) {
        while (i < n && (data[i] == ' ' || data[i] == '"'))
            i++;
        size_t e = n;
        while (e > i && (data[e - 1] == '\r' || data[e - 1] == '\n' || data[e - 1] == ' ' || data[e - 1] == '"'))
            e--;
        snprintf(x->etag, sizeof(x->etag), "%.*s", (int)(e - i), data + i);
    }
    return n;
}

/* S3's <Error><Code>..</Code><Message>..</Message></Error>, or the status when the body is not that. */
static void err_from_xml(struct s3_error *err, long status, const struct buf *body)
{
    xmlDocPtr doc = body->len ? xmlReadMemory(body->ptr, (int)body->len, NULL, NULL, XML_PARSE_NONET) : NULL;
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlChar *code = NULL, *msg = NULL;

    for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!code && xmlStrcmp(n->name, BAD_CAST "Code") == 0)
            code = xmlNodeGetContent(n);
        else if (!msg && xmlStrcmp(n->name, BAD_CAST "Message") == 0)
            msg = xmlNodeGetContent(n);
    }
    if (code)
        err_set(err, status, (const char *)code, "%s", msg ? (const char *)msg : "");
    else
        err_set(err, status, status == 404 ? "NoSuchKey" : "http_error", "HTTP %ld", status);
    xmlFree(code);
    xmlFree(msg);
    xmlFreeDoc(doc);
}

/* GET url, signed. 0 on a 2xx answer (body in x), -1 with err otherwise. */
static int s3_perform(struct s3_client *c, const char *url, struct s3_xfer *x, struct s3_error *err)
{
    static const char *const hdrs[] = {"x-amz-content-sha256: UNSIGNED-PAYLOAD", "Expect:",
                                       "Content-Type: application/octet-stream", NULL};
    struct curl_slist *list = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    long status = 0;
    CURLcode rc;

    x->curl = c->http.curl;
    curl_easy_reset(x->curl);
    for (int i = 0; hdrs[i]; i++)
        list = curl_slist_append(list, hdrs[i]);
    curl_easy_setopt(x->curl, CURLOPT_URL, url);
    curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(x->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(x->curl, CURLOPT_CONNECTTIMEOUT_MS, S3_CONNECT_TIMEOUT_MS);
    if (x->fd < 0) {
        curl_easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    } else {
        /* A download may be long: cut it when under 1 KiB/s for the timeout instead. */
        curl_easy_setopt(x->curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        curl_easy_setopt(x->curl, CURLOPT_LOW_SPEED_TIME, c->timeout_ms / 1000 > 0 ? c->timeout_ms / 1000 : 1);
    }
    curl_easy_setopt(x->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->curl, CURLOPT_HEADERDATA, x);
    if (x->method)
        curl_easy_setopt(x->curl, CURLOPT_CUSTOMREQUEST, x->method);
    if (x->send) {
        curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, x->send);
        curl_easy_setopt(x->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->send_len);
    }
    if (c->aws.userpwd) {
        curl_easy_setopt(x->curl, CURLOPT_AWS_SIGV4, c->aws.sigv4);
        curl_easy_setopt(x->curl, CURLOPT_USERPWD, c->aws.userpwd);
    }
    rc = curl_easy_perform(x->curl);
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(list);
    if (x->too_large) {
        err_set(err, status, "too_large", "object larger than %llu bytes", (unsigned long long)x->max_bytes);
        return -1;
    }
    if (rc != CURLE_OK && !(status && x->body.len && rc == CURLE_WRITE_ERROR)) {
        err_set(err, status, x->write_failed ? "write_failed" : "transport", "%s: %s", c->aws.endpoint,
                errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return -1;
    }
    if (status < 200 || status > 299) {
        err_from_xml(err, status, &x->body);
        return -1;
    }
    return 0;
}

/* The text of element child named name, copied into out. */
static void child_text(xmlNodePtr n, char *out, size_t outlen)
{
    xmlChar *t = xmlNodeGetContent(n);

    snprintf(out, outlen, "%s", t ? (const char *)t : "");
    xmlFree(t);
}

/* One <Contents> element into o; -1 if memory is out. */
static int parse_contents(xmlNodePtr e, struct s3_object *o)
{
    char size[32] = "0";

    memset(o, 0, sizeof(*o));
    for (xmlNodePtr n = e->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrcmp(n->name, BAD_CAST "Key") == 0 && !o->key) {
            xmlChar *k = xmlNodeGetContent(n);

            o->key = k ? strdup((const char *)k) : NULL;
            xmlFree(k);
            if (!o->key)
                return -1;
        } else if (xmlStrcmp(n->name, BAD_CAST "ETag") == 0) {
            child_text(n, o->etag, sizeof(o->etag));
        } else if (xmlStrcmp(n->name, BAD_CAST "Size") == 0) {
            child_text(n, size, sizeof(size));
        } else if (xmlStrcmp(n->name, BAD_CAST "LastModified") == 0) {
            child_text(n, o->last_modified, sizeof(o->last_modified));
        }
    }
    /* ETags are quoted ("\"abc\""); keep what is inside. */
    if (o->etag[0] == '"') {
        size_t n = strlen(o->etag);

        memmove(o->etag, o->etag + 1, n);
        if (n >= 2 && o->etag[n - 2] == '"')
            o->etag[n - 2] = '\0';
    }
    o->size = strtoll(size, NULL, 10);
    return o->key ? 0 : -1;
}

int s3_parse_list(const char *xml, size_t len, struct s3_page *page, struct s3_error *err)
{
    xmlDocPtr doc = len && len < INT32_MAX ? xmlReadMemory(xml, (int)len, NULL, NULL, XML_PARSE_NONET) : NULL;
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    size_t cap = 0;
    int rc = -1;

    memset(page, 0, sizeof(*page));
    memset(err, 0, sizeof(*err));
    if (!root || xmlStrcmp(root->name, BAD_CAST "ListBucketResult") != 0) {
        err_set(err, 200, "bad_response", "not a ListBucketResult");
        goto out;
    }
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrcmp(n->name, BAD_CAST "Contents") == 0) {
            if (page->n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                struct s3_object *p = realloc(page->objects, ncap * sizeof(*p));

                if (!p)
                    goto nomem;
                page->objects = p;
                cap = ncap;
            }
            if (parse_contents(n, &page->objects[page->n]) < 0) {
                free(page->objects[page->n].key);
                goto nomem;
            }
            page->n++;
        } else if (xmlStrcmp(n->name, BAD_CAST "IsTruncated") == 0) {
            char t[8];

            child_text(n, t, sizeof(t));
            page->truncated = strcmp(t, "true") == 0;
        } else if (xmlStrcmp(n->name, BAD_CAST "NextContinuationToken") == 0 && !page->next_token) {
            xmlChar *t = xmlNodeGetContent(n);

            page->next_token = t ? strdup((const char *)t) : NULL;
            xmlFree(t);
        }
    }
    if (page->truncated && !page->next_token) {
        err_set(err, 200, "bad_response", "truncated listing without NextContinuationToken");
        goto out;
    }
    rc = 0;
    goto out;
nomem:
    err_set(err, 0, "internal", "out of memory");
out:
    if (rc < 0)
        s3_page_release(page);
    xmlFreeDoc(doc);
    return rc;
}

int s3_list(struct s3_client *c, const char *bucket, const char *prefix, const char *token, struct s3_page *page,
            struct s3_error *err)
{
    struct buf url;
    struct s3_xfer x;
    int rc = -1;

    memset(page, 0, sizeof(*page));
    memset(&x, 0, sizeof(x));
    memset(err, 0, sizeof(*err));
    x.fd = -1;
    buf_init(&x.body, S3_MAX_XML);
    buf_init(&url, 8192);
    /* Query parameters in name order: continuation-token, list-type, prefix (SigV4's canonical order). */
    if (buf_addf(&url, "%s/", c->aws.endpoint) < 0 || encode(&url, bucket, 0) < 0 || buf_adds(&url, "?") < 0 ||
        (token && (buf_adds(&url, "continuation-token=") < 0 || encode(&url, token, 0) < 0 ||
                   buf_adds(&url, "&") < 0)) ||
        buf_adds(&url, "list-type=2&prefix=") < 0 || encode(&url, prefix ? prefix : "", 0) < 0) {
        err_set(err, 0, "internal", "URL too long or out of memory");
        goto out;
    }
    if (s3_perform(c, url.ptr, &x, err) < 0)
        goto out;
    rc = s3_parse_list(x.body.ptr, x.body.len, page, err);
out:
    if (rc < 0)
        s3_page_release(page);
    buf_release(&x.body);
    buf_release(&url);
    return rc;
}

int s3_list_each(struct s3_client *c, const char *bucket, const char *prefix, int max_pages, s3_each_fn fn,
                 void *ctx, struct s3_error *err)
{
    struct s3_page page;
    char *token = NULL;
    int rc = 0;

    for (int p = 0; p < max_pages && rc == 0; p++) {
        if (s3_list(c, bucket, prefix, token, &page, err) < 0) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < page.n && rc == 0; i++)
            rc = fn(ctx, &page.objects[i]) ? 1 : 0;
        free(token);
        token = page.truncated ? page.next_token : NULL;
        page.next_token = NULL;
        s3_page_release(&page);
        if (!token)
            break;
    }
    free(token);
    return rc;
}

void s3_page_release(struct s3_page *page)
{
    if (!page)
        return;
    for (size_t i = 0; i < page->n; i++)
        free(page->objects[i].key);
    free(page->objects);
    free(page->next_token);
    memset(page, 0, sizeof(*page));
}

int s3_get_to_fd(struct s3_client *c, const char *bucket, const char *key, int fd, uint64_t max_bytes,
                 uint64_t *size, struct s3_error *err)
{
    struct buf url;
    struct s3_xfer x;
    int rc = -1;

    memset(&x, 0, sizeof(x));
    memset(err, 0, sizeof(*err));
    x.fd = fd;
    x.max_bytes = max_bytes;
    buf_init(&x.body, S3_MAX_ERROR_BODY);
    buf_init(&url, 8192);
    if (buf_addf(&url, "%s/", c->aws.endpoint) < 0 || encode(&url, bucket, 0) < 0 || buf_adds(&url, "/") < 0 ||
        encode(&url, key, 1) < 0) {
        err_set(err, 0, "internal", "URL too long or out of memory");
        goto out;
    }
    rc = s3_perform(c, url.ptr, &x, err);
out:
    *size = x.written;
    buf_release(&x.body);
    buf_release(&url);
    return rc;
}

int s3_uri_split(const char *uri, char *bucket, size_t bucket_len, const char **key)
{
    const char *b, *slash;

    if (!uri || strncmp(uri, "s3://", 5) != 0)
        return -1;
    b = uri + 5;
    slash = strchr(b, '/');
    if (!slash || slash == b || !slash[1] || (size_t)(slash - b) >= bucket_len || slash - b > 63)
        return -1;
    memcpy(bucket, b, (size_t)(slash - b));
    bucket[slash - b] = '\0';
    *key = slash + 1;
    return 0;
}

char *s3_uri(const char *bucket, const char *key)
{
    char *u;

    return asprintf(&u, "s3://%s/%s", bucket, key) < 0 ? NULL : u;
}

/* "<endpoint>/<bucket>/<key>" percent-encoded, then query (already encoded, may be NULL) into url. */
static int object_url(struct s3_client *c, struct buf *url, const char *bucket, const char *key, const char *query)
{
    buf_init(url, 8192);
    if (buf_addf(url, "%s/", c->aws.endpoint) < 0 || encode(url, bucket, 0) < 0 || buf_adds(url, "/") < 0 ||
        encode(url, key, 1) < 0 || (query && buf_adds(url, query) < 0))
        return -1;
    return 0;
}

/* One object request with a body in memory: method on bucket/key?query. etag (80 bytes) may be NULL. */
static int object_call(struct s3_client *c, const char *method, const char *bucket, const char *key,
                       const char *query, const void *body, size_t len, struct buf *resp, char *etag,
                       struct s3_error *err)
{
    struct buf url;
    struct s3_xfer x;
    int rc = -1;

    memset(&x, 0, sizeof(x));
    memset(err, 0, sizeof(*err));
    x.fd = -1;
    x.method = method;
    x.send = body ? body : "";
    x.send_len = body ? len : 0;
    buf_init(&x.body, S3_MAX_XML);
    if (object_url(c, &url, bucket, key, query) < 0) {
        err_set(err, 0, "internal", "URL too long or out of memory");
        goto out;
    }
    rc = s3_perform(c, url.ptr, &x, err);
    if (rc == 0 && etag)
        snprintf(etag, 80, "%s", x.etag);
    if (rc == 0 && resp) {
        *resp = x.body;
        buf_init(&x.body, 1);
    }
out:
    buf_release(&x.body);
    buf_release(&url);
    return rc;
}

int s3_put(struct s3_client *c, const char *bucket, const char *key, const void *data, size_t len,
           struct s3_error *err)
{
    return object_call(c, "PUT", bucket, key, NULL, data, len, NULL, NULL, err);
}

int s3_delete(struct s3_client *c, const char *bucket, const char *key, struct s3_error *err)
{
    return object_call(c, "DELETE", bucket, key, NULL, NULL, 0, NULL, NULL, err);
}

/* The text of the first element named name anywhere under the root of an XML answer. */
static int xml_find(const struct buf *body, const char *name, char *out, size_t outlen)
{
    xmlDocPtr doc = body->len ? xmlReadMemory(body->ptr, (int)body->len, NULL, NULL, XML_PARSE_NONET) : NULL;
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    int rc = -1;

    for (xmlNodePtr n = root ? root->children : NULL; n && rc < 0; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0) {
            child_text(n, out, outlen);
            rc = out[0] ? 0 : -1;
        }
    }
    xmlFreeDoc(doc);
    return rc;
}

int s3_multipart_begin(struct s3_client *c, const char *bucket, const char *key, char *upload_id, size_t len,
                       struct s3_error *err)
{
    struct buf resp;
    int rc;

    buf_init(&resp, 1);
    rc = object_call(c, "POST", bucket, key, "?uploads", NULL, 0, &resp, NULL, err);
    if (rc == 0 && xml_find(&resp, "UploadId", upload_id, len) < 0) {
        err_set(err, 200, "bad_response", "CreateMultipartUpload answered no UploadId");
        rc = -1;
    }
    buf_release(&resp);
    return rc;
}

/* "?partNumber=N&uploadId=ID" or "?uploadId=ID" (names in SigV4's order), into q. */
static int upload_query(struct buf *q, int part, const char *upload_id)
{
    buf_init(q, 4096);
    if ((part > 0 ? buf_addf(q, "?partNumber=%d&uploadId=", part) : buf_adds(q, "?uploadId=")) < 0)
        return -1;
    return encode(q, upload_id, 0);
}

int s3_multipart_part(struct s3_client *c, const char *bucket, const char *key, const char *upload_id, int part,
                      const void *data, size_t len, char *etag, struct s3_error *err)
{
    struct buf q;
    int rc = -1;

    if (upload_query(&q, part, upload_id) < 0)
        err_set(err, 0, "internal", "out of memory");
    else
        rc = object_call(c, "PUT", bucket, key, q.ptr, data, len, NULL, etag, err);
    if (rc == 0 && !etag[0]) {
        err_set(err, 200, "bad_response", "UploadPart answered no ETag");
        rc = -1;
    }
    buf_release(&q);
    return rc;
}

int s3_multipart_complete(struct s3_client *c, const char *bucket, const char *key, const char *upload_id,
                          const char (*etags)[80], int nparts, struct s3_error *err)
{
    struct buf q, body;
    int rc = -1;

    buf_init(&body, (size_t)nparts * 160 + 256);
    if (upload_query(&q, 0, upload_id) < 0 || buf_adds(&body, "<CompleteMultipartUpload>") < 0)
        goto nomem;
    for (int i = 0; i < nparts; i++)
        if (buf_addf(&body, "<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>", i + 1, etags[i]) < 0)
            goto nomem;
    if (buf_adds(&body, "</CompleteMultipartUpload>") < 0)
        goto nomem;
    rc = object_call(c, "POST", bucket, key, q.ptr, body.ptr, body.len, NULL, NULL, err);
    goto out;
nomem:
    err_set(err, 0, "internal", "out of memory");
out:
    buf_release(&q);
    buf_release(&body);
    return rc;
}

int s3_multipart_abort(struct s3_client *c, const char *bucket, const char *key, const char *upload_id,
                       struct s3_error *err)
{
    struct buf q;
    int rc = -1;

    if (upload_query(&q, 0, upload_id) < 0)
        err_set(err, 0, "internal", "out of memory");
    else
        rc = object_call(c, "DELETE", bucket, key, q.ptr, NULL, 0, NULL, NULL, err);
    buf_release(&q);
    return rc;
}
