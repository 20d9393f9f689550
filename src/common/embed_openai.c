/*
 * embed_openai.c - the "openai" provider: any OpenAI-compatible embeddings API.
 *
 * POST {url}/v1/embeddings {"model": ..., "input": [...]} in batches of
 * cfg->batch texts. 429, 5xx and transport errors (connect, timeout) are
 * retried up to EMBED_MAX_ATTEMPTS times with exponential backoff and full
 * jitter; a Retry-After header raises the wait (capped). Other statuses fail
 * at once. Vectors are placed by data[i].index, checked against cfg->dim and
 * L2-normalized.
 */
#include "common/embed_provider.h"
#include "common/buf.h"
#include "common/httpc.h"
#include "common/utf8.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EMBED_MAX_ATTEMPTS 5
#define EMBED_BACKOFF_BASE_MS 200
#define EMBED_BACKOFF_MAX_MS 10000
#define EMBED_RETRY_AFTER_MAX_MS 30000

struct openai_state {
    struct httpc http;
    char *endpoint;        /* {url}/v1/embeddings */
    char *model;
    char *auth_header;     /* "Authorization: Bearer ..." or NULL */
    int dim;
    int batch;
    long timeout_ms;
    uint64_t rng;
};

static void openai_free(void *state);

static void *openai_new(const struct embed_config *cfg, char *err, size_t errlen)
{
    struct openai_state *st = NULL, *result = NULL;
    struct buf b;
    size_t ulen;
    struct timespec ts;

    buf_init(&b, 4096);
    if (!cfg->url || !*cfg->url) {
        snprintf(err, errlen, "openai embeddings need a URL (EMBED_URL)");
        goto out;
    }
    st = calloc(1, sizeof(*st));
    if (!st || httpc_init(&st->http) < 0) {
        free(st);
        st = NULL;
        snprintf(err, errlen, "cannot set up the HTTP client");
        goto out;
    }
    ulen = strlen(cfg->url);
    while (ulen && cfg->url[ulen - 1] == '/')
        ulen--;
    /* accept a base URL that already ends in /v1 */
    if (ulen >= 3 && memcmp(cfg->url + ulen - 3, "/v1", 3) == 0)
        ulen -= 3;
    if (buf_add(&b, cfg->url, ulen) < 0 || buf_adds(&b, "/v1/embeddings") < 0) {
        snprintf(err, errlen, "embeddings URL too long");
        goto out;
    }
    st->endpoint = buf_detach(&b, NULL);
    st->model = strdup(cfg->model);
    if (cfg->api_key && *cfg->api_key) {
        if (buf_addf(&b, "Authorization: Bearer %s", cfg->api_key) < 0 ||
            !(st->auth_header = buf_detach(&b, NULL))) {
            snprintf(err, errlen, "embeddings API key too long");
            goto out;
        }
    }
    if (!st->endpoint || !st->model) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    st->dim = cfg->dim;
    st->batch = cfg->batch > 0 ? cfg->batch : 32;
    st->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    st->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uintptr_t)st;
    result = st;
    st = NULL;
out:
    buf_release(&b);
    if (st)
        openai_free(st);
    return result;
}

static void openai_free(void *state)
{
    struct openai_state *st = state;

    if (!st)
        return;
    httpc_release(&st->http);
    free(st->endpoint);
    free(st->model);
    free(st->auth_header);
    free(st);
}

static uint64_t next_rand(struct openai_state *st)
{
    uint64_t x = st->rng ? st->rng : 0x9e3779b97f4a7c15ULL;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    st->rng = x;
    return x;
}

static void sleep_ms(long ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/*
 * Copy s[0..n) with invalid UTF-8 replaced by U+FFFD, since JSON must be valid
 * UTF-8. Each invalid byte becomes one U+FFFD and the scan resumes at the next
 * byte; NUL is replaced as well once the text needs repairing at all.
 */
static json_t *json_text(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    json_t *j = json_stringn(s, n);
    struct buf b;
    size_t i = 0;

    if (j)
        return j;
    buf_init(&b, n * 3 + 16);
    while (i < n) {
        size_t l = p[i] ? utf8_next(p + i, n - i, NULL) : 0;
        int rc = l ? buf_add(&b, p + i, l) : buf_add(&b, "\xEF\xBF\xBD", 3);

        if (rc < 0)
            break;
        i += l ? l : 1;
    }
    j = i == n ? json_stringn(b.ptr ? b.ptr : "", b.len) : NULL;
    buf_release(&b);
    return j;
}

/* The index data[i] answers for: its "index" member (0..n-1) when present, else i. */
static int item_slot(json_t *item, size_t i, size_t n, size_t *at, char *err, size_t errlen)
{
    json_t *idx = json_object_get(item, "index");

    *at = i;
    if (!idx)
        return 0;
    if (!json_is_integer(idx) || json_integer_value(idx) < 0 || (uint64_t)json_integer_value(idx) >= n) {
        snprintf(err, errlen, "embeddings response: bad index");
        return -1;
    }
    *at = (size_t)json_integer_value(idx);
    return 0;
}

/* One "embedding" array of dim finite numbers into v[0..dim), L2-normalized. */
static int read_vector(json_t *emb, int dim, float *v, char *err, size_t errlen)
{
    size_t k;
    json_t *x;

    if (!json_is_array(emb)) {
        snprintf(err, errlen, "embeddings response: no embedding array (base64 is not supported)");
        return -1;
    }
    if (json_array_size(emb) != (size_t)dim) {
        snprintf(err, errlen, "embedding dimension mismatch: got %zu, configured %d", json_array_size(emb), dim);
        return -1;
    }
    json_array_foreach(emb, k, x) {
        double d = json_number_value(x);

        if (!json_is_number(x)) {
            snprintf(err, errlen, "embeddings response: a value is not a number");
            return -1;
        }
        if (!isfinite(d) || fabs(d) > 1e30) {
            snprintf(err, errlen, "embeddings response: value out of range");
            return -1;
        }
        v[k] = (float)d;
    }
    embed_normalize(v, dim);
    return 0;
}

/* data[i] into its slot of out; seen[] catches an index answered twice. */
static int read_item(const struct openai_state *st, json_t *item, size_t i, size_t n, unsigned char *seen,
                     float *out, char *err, size_t errlen)
{
    size_t at;

    if (item_slot(item, i, n, &at, err, errlen) < 0)
        return -1;
    if (seen[at]) {
        snprintf(err, errlen, "embeddings response: index %zu twice", at);
        return -1;
    }
    seen[at] = 1;
    return read_vector(json_object_get(item, "embedding"), st->dim, out + at * (size_t)st->dim, err, errlen);
}

/* Parse a response into out[n*dim]; 0 or -1 with err. */
static int parse_response(const struct openai_state *st, const char *body, size_t len, size_t n,
                          float *out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = NULL, *data, *item;
    unsigned char *seen = NULL;
    size_t i;
    int rc = -1;

    root = json_loadb(body, len, 0, &jerr);
    data = root ? json_object_get(root, "data") : NULL;
    if (!json_is_array(data)) {
        snprintf(err, errlen, "embeddings response has no data array");
        goto out;
    }
    if (json_array_size(data) != n) {
        snprintf(err, errlen, "embeddings response has %zu vectors for %zu inputs", json_array_size(data), n);
        goto out;
    }
    seen = calloc(n, 1);
    if (!seen) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    json_array_foreach(data, i, item) {
        if (read_item(st, item, i, n, seen, out, err, errlen) < 0)
            goto out;
    }
    rc = 0;
out:
    free(seen);
    json_decref(root);
    return rc;
}

/* A short, log-safe excerpt of an error body. */
static void body_excerpt(const struct httpc_response *resp, char *dst, size_t dlen)
{
    size_t i, n = resp->body.len < 160 ? resp->body.len : 160;

    if (!dlen)
        return;
    for (i = 0; i < n && i + 1 < dlen; i++) {
        unsigned char c = (unsigned char)resp->body.ptr[i];

        dst[i] = (c < 0x20 || c >= 0x7f) ? ' ' : (char)c;
    }
    dst[i] = '\0';
}

static int embed_batch(struct openai_state *st, const char *const *texts, const size_t *lens,
                       size_t n, float *out, char *err, size_t errlen)
{
    json_t *req = NULL, *input;
    char *body = NULL;
    const char *headers[4];
    struct httpc_request hr;
    struct httpc_response resp;
    char last[256] = "";
    size_t i;
    int attempt, rc = -1, h = 0;

    memset(&resp, 0, sizeof(resp));
    buf_init(&resp.body, 1);
    input = json_array();
    req = json_pack("{s:s, s:o}", "model", st->model, "input", input);
    if (!req) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        json_t *s = json_text(texts[i] ? texts[i] : "", texts[i] ? lens[i] : 0);

        if (!s || json_array_append_new(input, s) < 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    body = json_dumps(req, JSON_COMPACT);
    if (!body) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    headers[h++] = "Content-Type: application/json";
    headers[h++] = "Accept: application/json";
    if (st->auth_header)
        headers[h++] = st->auth_header;
    headers[h] = NULL;

    memset(&hr, 0, sizeof(hr));
    hr.url = st->endpoint;
    hr.body = body;
    hr.body_len = strlen(body);
    hr.headers = headers;
    hr.timeout_ms = st->timeout_ms;
    /* ~24 bytes per number in JSON, plus room for the envelope */
    hr.max_response = (size_t)n * (size_t)st->dim * 32 + (1 << 16);
    if (hr.max_response < (8u << 20))
        hr.max_response = 8u << 20;

    for (attempt = 1; attempt <= EMBED_MAX_ATTEMPTS; attempt++) {
        char terr[200] = "";
        long wait_ms, cap;
        int retryable;

        httpc_response_release(&resp);
        if (httpc_do(&st->http, &hr, &resp, terr, sizeof(terr)) < 0) {
            snprintf(last, sizeof(last), "transport: %s", terr);
            retryable = 1;
        } else if (resp.status >= 200 && resp.status < 300) {
            rc = parse_response(st, resp.body.ptr ? resp.body.ptr : "", resp.body.len, n, out,
                                err, errlen);
            goto out;
        } else {
            char ex[161];

            body_excerpt(&resp, ex, sizeof(ex));
            snprintf(last, sizeof(last), "HTTP %ld: %s", resp.status, ex);
            retryable = resp.status == 429 || resp.status == 408 || resp.status >= 500;
        }
        if (!retryable || attempt == EMBED_MAX_ATTEMPTS)
            break;
        /* full jitter over an exponential cap: spreads retries of many workers */
        cap = EMBED_BACKOFF_BASE_MS << (attempt - 1);
        if (cap > EMBED_BACKOFF_MAX_MS)
            cap = EMBED_BACKOFF_MAX_MS;
        wait_ms = cap / 2 + (long)(next_rand(st) % (uint64_t)(cap / 2 + 1));
        if (resp.retry_after_s >= 0) {
            long ra = resp.retry_after_s * 1000;

            if (ra > EMBED_RETRY_AFTER_MAX_MS)
                ra = EMBED_RETRY_AFTER_MAX_MS;
            if (ra > wait_ms)
                wait_ms = ra;
        }
        sleep_ms(wait_ms);
    }
    snprintf(err, errlen, "embeddings request failed after %d attempt%s: %s",
             attempt > EMBED_MAX_ATTEMPTS ? EMBED_MAX_ATTEMPTS : attempt,
             attempt == 1 ? "" : "s", last);
out:
    httpc_response_release(&resp);
    free(body);
    json_decref(req);
    return rc;
}

static int openai_texts(void *state, const char *const *texts, const size_t *lens, size_t n,
                       float *out, char *err, size_t errlen)
{
    struct openai_state *st = state;
    size_t i;

    for (i = 0; i < n; i += (size_t)st->batch) {
        size_t m = n - i < (size_t)st->batch ? n - i : (size_t)st->batch;

        if (embed_batch(st, texts + i, lens + i, m, out + i * (size_t)st->dim, err, errlen) < 0)
            return -1;
    }
    return 0;
}

const struct embed_provider embed_provider_openai = {
    .name = "openai",
    .default_model = NULL,
    .create = openai_new,
    .destroy = openai_free,
    .texts = openai_texts,
};
