/*
 * httpc.c - the libcurl client of httpc.h: one reset easy handle per request,
 * a bounded body buffer, Retry-After parsing, no redirects, no signals.
 */
#include "common/httpc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTPC_DEFAULT_TIMEOUT_MS   30000L
#define HTTPC_MAX_CONNECT_MS       10000L
#define HTTPC_DEFAULT_MAX_RESPONSE (8u * 1024u * 1024u)

/*
 * curl_global_init is not thread-safe and must run once before any easy
 * handle exists; both programs create clients from several threads.
 */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* One transfer's state, shared with the curl callbacks. */
struct xfer {
    struct httpc_response *resp;
    size_t max;                      /* the body's limit */
    int overflow;                    /* the body went past max */
    char errbuf[CURL_ERROR_SIZE];    /* curl's detail of a failure */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    size_t n = size * nmemb;

    if (buf_add(&x->resp->body, data, n) < 0) {
        x->overflow = 1;
        return 0;    /* makes curl fail the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

/* Retry-After is delta-seconds or an HTTP-date (RFC 9110 10.2.3). */
static long parse_retry_after(const char *v, size_t len)
{
    char tmp[128];
    char *end;
    long secs;
    time_t when, now;

    while (len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '
                       || v[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, v, len);
    tmp[len] = '\0';

    if (tmp[0] >= '0' && tmp[0] <= '9') {
        secs = strtol(tmp, &end, 10);
        if (*end != '\0' || secs < 0)
            return -1;
        return secs;
    }
    when = curl_getdate(tmp, NULL);
    if (when == (time_t)-1)
        return -1;
    now = time(NULL);
    return when > now ? (long)(when - now) : 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    const size_t name_len = sizeof(name) - 1;

    /* A new status line (after a 1xx) starts a new header block. */
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
        x->resp->retry_after_s = -1;
    else if (n > name_len && strncasecmp(data, name, name_len) == 0)
        x->resp->retry_after_s = parse_retry_after(data + name_len, n - name_len);
    return n;
}

int httpc_init(struct httpc *h)
{
    h->curl = NULL;
    if (pthread_once(&global_once, global_init) != 0 || global_rc != CURLE_OK)
        return -1;
    h->curl = curl_easy_init();
    return h->curl ? 0 : -1;
}

void httpc_release(struct httpc *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    h->curl = NULL;
}

void httpc_response_release(struct httpc_response *resp)
{
    if (!resp)
        return;
    buf_release(&resp->body);
    resp->status = 0;
    resp->retry_after_s = -1;
}

static void set_err(char *err, size_t errlen, const char *what, const char *detail)
{
    if (!err || errlen == 0)
        return;
    if (detail && detail[0])
        snprintf(err, errlen, "%s: %s", what, detail);
    else
        snprintf(err, errlen, "%s", what);
}

static int add_header(struct curl_slist **list, const char *header)
{
    struct curl_slist *tmp = curl_slist_append(*list, header);

    if (!tmp)
        return -1;
    *list = tmp;
    return 0;
}

/* The request's headers into *list (the caller frees it, also after -1). */
static int build_headers(const struct httpc_request *req, struct curl_slist **list)
{
    for (const char *const *p = req->headers; p && *p; p++)
        if (add_header(list, *p) < 0)
            return -1;
    /*
     * No "Expect: 100-continue" round trip on large bodies. Not when signing:
     * libcurl 7.88 lists the blanked header in SignedHeaders without sending
     * it, which breaks the signature.
     */
    if (!req->aws_sigv4 && add_header(list, "Expect:") < 0)
        return -1;
    return 0;
}

/* Every option of this request, set afresh on a reset handle. */
static void set_options(CURL *curl, const struct httpc_request *req, struct curl_slist *hdrs, struct xfer *x)
{
    long timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : HTTPC_DEFAULT_TIMEOUT_MS;
    long connect_ms = timeout_ms < HTTPC_MAX_CONNECT_MS ? timeout_ms : HTTPC_MAX_CONNECT_MS;

    /* Signals cannot be used for timeouts in a multithreaded program. */
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "ingest-system/1 (libcurl)");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, x);
    if (req->body) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
    } else {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    }
    if (req->aws_sigv4) {
        curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, req->aws_sigv4);
        if (req->userpwd)
            curl_easy_setopt(curl, CURLOPT_USERPWD, req->userpwd);
    }
}

/* A transfer that failed: say why in err, and drop what arrived of the response. */
static void transfer_failed(struct xfer *x, CURLcode rc, char *err, size_t errlen)
{
    if (x->overflow) {
        char lim[64];

        snprintf(lim, sizeof(lim), "more than %zu bytes", x->max);
        set_err(err, errlen, "response too large", lim);
    } else {
        set_err(err, errlen, curl_easy_strerror(rc), x->errbuf);
    }
    buf_release(&x->resp->body);
    x->resp->retry_after_s = -1;
}

int httpc_do(struct httpc *h, const struct httpc_request *req, struct httpc_response *resp,
             char *err, size_t errlen)
{
    CURL *curl = h ? h->curl : NULL;
    struct curl_slist *hdrs = NULL;
    struct xfer x;
    CURLcode rc;
    int ret = -1;

    x.max = req->max_response ? req->max_response : HTTPC_DEFAULT_MAX_RESPONSE;
    resp->status = 0;
    resp->retry_after_s = -1;
    buf_init(&resp->body, x.max);
    if (err && errlen)
        err[0] = '\0';
    if (!curl || !req->url) {
        set_err(err, errlen, "httpc: not initialized or no url", NULL);
        return -1;
    }
    x.resp = resp;
    x.overflow = 0;
    x.errbuf[0] = '\0';

    /* Reset drops the previous request's options but keeps live connections. */
    curl_easy_reset(curl);
    if (build_headers(req, &hdrs) < 0) {
        set_err(err, errlen, "httpc: out of memory", NULL);
        goto out;
    }
    set_options(curl, req, hdrs, &x);
    rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        transfer_failed(&x, rc, err, errlen);
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    /* An empty body still reads as "" rather than NULL. */
    if (!resp->body.ptr && buf_add(&resp->body, "", 0) < 0) {
        set_err(err, errlen, "httpc: out of memory", NULL);
        resp->status = 0;
        goto out;
    }
    ret = 0;
out:
    /* The handle must not keep pointers to this call's header list or error buffer. */
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdrs);
    return ret;
}

int httpc_aws_init(struct httpc_aws *a, const char *endpoint, const char *region, const char *service,
                   const char *key_id, const char *secret)
{
    const char *r = region && region[0] ? region : "us-east-1";
    int ok;

    memset(a, 0, sizeof(*a));
    if (endpoint && endpoint[0])
        ok = (a->endpoint = strdup(endpoint)) != NULL;
    else
        ok = asprintf(&a->endpoint, "https://%s.%s.amazonaws.com", service, r) >= 0;
    if (ok)
        ok = asprintf(&a->sigv4, "aws:amz:%s:%s", r, service) >= 0;
    else
        a->endpoint = NULL;
    if (!ok)
        a->sigv4 = NULL;
    if (ok && key_id && key_id[0] && asprintf(&a->userpwd, "%s:%s", key_id, secret ? secret : "") < 0) {
        a->userpwd = NULL;
        ok = 0;
    }
    if (!ok)
        httpc_aws_release(a);
    return ok ? 0 : -1;
}

void httpc_aws_release(struct httpc_aws *a)
{
    free(a->endpoint);
    free(a->sigv4);
    if (a->userpwd) {
        explicit_bzero(a->userpwd, strlen(a->userpwd));
        free(a->userpwd);
    }
    memset(a, 0, sizeof(*a));
}
