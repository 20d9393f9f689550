#include "common/sqs.h"

#include "common/httpc.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQS_DEFAULT_TIMEOUT_MS 10000L
/* Ten messages of up to 1 MiB each, JSON-escaped, plus envelope. */
#define SQS_RECEIVE_MAX_RESPONSE (32u * 1024u * 1024u)

struct sqs_client {
    char *endpoint;
    char *sigv4;       /* "aws:amz:<region>:sqs" */
    char *userpwd;     /* "key:secret", NULL when no keys are configured */
    long timeout_ms;
    struct httpc http;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char *alloc_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *alloc_printf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

struct sqs_client *sqs_new(const struct sqs_config *cfg)
{
    struct sqs_client *c;
    const char *region = cfg->region && cfg->region[0] ? cfg->region : "us-east-1";

    c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (httpc_init(&c->http) < 0)
        goto fail;
    if (cfg->endpoint && cfg->endpoint[0])
        c->endpoint = dup_or_null(cfg->endpoint);
    else
        c->endpoint = alloc_printf("https://sqs.%s.amazonaws.com", region);
    c->sigv4 = alloc_printf("aws:amz:%s:sqs", region);
    if (!c->endpoint || !c->sigv4)
        goto fail;
    /* Without keys requests go unsigned, which only an emulator accepts. */
    if (cfg->access_key_id && cfg->access_key_id[0]) {
        c->userpwd = alloc_printf("%s:%s", cfg->access_key_id,
                                  cfg->secret_access_key ? cfg->secret_access_key : "");
        if (!c->userpwd)
            goto fail;
    }
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : SQS_DEFAULT_TIMEOUT_MS;
    return c;
fail:
    sqs_free(&c);
    return NULL;
}

void sqs_free(struct sqs_client **cp)
{
    struct sqs_client *c;

    if (!cp || !*cp)
        return;
    c = *cp;
    httpc_release(&c->http);
    free(c->endpoint);
    free(c->sigv4);
    if (c->userpwd) {
        explicit_bzero(c->userpwd, strlen(c->userpwd));
        free(c->userpwd);
    }
    free(c);
    *cp = NULL;
}

static void err_clear(struct sqs_error *err)
{
    err->http_status = 0;
    err->code[0] = '\0';
    err->message[0] = '\0';
}

static void err_set(struct sqs_error *err, long status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void err_set(struct sqs_error *err, long status, const char *code, const char *fmt, ...)
{
    va_list ap;

    err->http_status = status;
    snprintf(err->code, sizeof(err->code), "%s", code);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

/* "com.amazonaws.sqs#QueueDoesNotExist" -> "QueueDoesNotExist" */
static void err_from_body(struct sqs_error *err, long status, const char *body)
{
    json_t *root, *v;
    const char *type = NULL, *msg = NULL, *hash;

    root = json_loads(body, 0, NULL);
    if (json_is_object(root)) {
        v = json_object_get(root, "__type");
        if (!json_is_string(v))
            v = json_object_get(root, "code");
        type = json_string_value(v);
        v = json_object_get(root, "message");
        if (!json_is_string(v))
            v = json_object_get(root, "Message");
        msg = json_string_value(v);
    }
    if (type) {
        hash = strrchr(type, '#');
        if (hash)
            type = hash + 1;
        err_set(err, status, type, "%s", msg ? msg : "");
    } else {
        char code[32];

        /* Not a JSON error (a proxy, a load balancer): keep the start of the body. */
        snprintf(code, sizeof(code), "http_%ld", status);
        err_set(err, status, code, "%.200s", body ? body : "");
    }
    json_decref(root);
}

/*
 * One SQS JSON call. req is stolen. On success *out (if wanted) is the parsed
 * response object; an empty 2xx body reads as {}.
 */
static int sqs_call(struct sqs_client *c, const char *action, json_t *req, long extra_timeout_ms,
                    size_t max_response, json_t **out, struct sqs_error *err)
{
    char target[96];
    const char *headers[3];
    struct httpc_request hr;
    struct httpc_response resp;
    char terr[256];
    char *body = NULL;
    json_t *root = NULL;
    json_error_t jerr;
    int ret = -1;

    resp.status = 0;
    buf_init(&resp.body, 1);
    if (out)
        *out = NULL;
    if (!req) {
        err_set(err, 0, "internal", "out of memory building %s", action);
        goto out;
    }
    body = json_dumps(req, JSON_COMPACT);
    if (!body) {
        err_set(err, 0, "internal", "out of memory encoding %s", action);
        goto out;
    }
    snprintf(target, sizeof(target), "X-Amz-Target: AmazonSQS.%s", action);
    headers[0] = "Content-Type: application/x-amz-json-1.0";
    headers[1] = target;
    headers[2] = NULL;

    memset(&hr, 0, sizeof(hr));
    hr.url = c->endpoint;
    hr.body = body;
    hr.body_len = strlen(body);
    hr.headers = headers;
    hr.timeout_ms = c->timeout_ms + extra_timeout_ms;
    if (c->userpwd) {
        hr.aws_sigv4 = c->sigv4;
        hr.userpwd = c->userpwd;
    }
    hr.max_response = max_response;

    if (httpc_do(&c->http, &hr, &resp, terr, sizeof(terr)) < 0) {
        err_set(err, 0, "transport", "%s %s: %s", action, c->endpoint, terr);
        goto out;
    }
    if (resp.status < 200 || resp.status > 299) {
        err_from_body(err, resp.status, resp.body.ptr);
        goto out;
    }
    if (resp.body.len == 0) {
        root = json_object();
    } else {
        root = json_loadb(resp.body.ptr, resp.body.len, 0, &jerr);
        if (!json_is_object(root)) {
            err_set(err, resp.status, "bad_response", "%s: response is not a JSON object: %.120s",
                    action, resp.body.ptr);
            goto out;
        }
    }
    if (!root) {
        err_set(err, 0, "internal", "out of memory");
        goto out;
    }
    if (out) {
        *out = root;
        root = NULL;
    }
    ret = 0;
out:
    json_decref(root);
    json_decref(req);
    free(body);
    httpc_response_release(&resp);
    return ret;
}

/* Callers may pass NULL for err; the helpers always have somewhere to write. */
#define ERR_OR_LOCAL(err, local) ((err) ? (err) : &(local))

int sqs_send(struct sqs_client *c, const char *queue_url, const char *body, int delay_s,
             char *message_id, size_t message_id_len, struct sqs_error *err_in)
{
    struct sqs_error local, *err = ERR_OR_LOCAL(err_in, local);
    json_t *req, *resp = NULL;
    const char *id;
    int ret = -1;

    err_clear(err);
    if (!queue_url || !body) {
        err_set(err, 0, "invalid_argument", "SendMessage: queue url and body are required");
        return -1;
    }
    req = json_pack("{s:s, s:s}", "QueueUrl", queue_url, "MessageBody", body);
    if (req && delay_s > 0)
        json_object_set_new(req, "DelaySeconds", json_integer(delay_s));
    if (sqs_call(c, "SendMessage", req, 0, 0, &resp, err) < 0)
        goto out;
    id = json_string_value(json_object_get(resp, "MessageId"));
    if (!id) {
        err_set(err, 200, "bad_response", "SendMessage: no MessageId in the response");
        goto out;
    }
    if (message_id && message_id_len)
        snprintf(message_id, message_id_len, "%s", id);
    ret = 0;
out:
    json_decref(resp);
    return ret;
}

void sqs_messages_free(struct sqs_message *msgs, int n)
{
    if (!msgs)
        return;
    for (int i = 0; i < n; i++) {
        free(msgs[i].message_id);
        free(msgs[i].receipt_handle);
        free(msgs[i].body);
    }
    free(msgs);
}

static int parse_count(json_t *attrs)
{
    const char *s = json_string_value(json_object_get(attrs, "ApproximateReceiveCount"));
    char *end;
    long v;

    if (!s)
        return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < 0 || v > INT_MAX)
        return 0;
    return (int)v;
}

int sqs_receive(struct sqs_client *c, const char *queue_url, int max, int wait_s, int visibility_s,
                struct sqs_message **msgs_out, int *n_out, struct sqs_error *err_in)
{
    struct sqs_error local, *err = ERR_OR_LOCAL(err_in, local);
    json_t *req, *resp = NULL, *arr, *m;
    struct sqs_message *msgs = NULL;
    size_t count, i;
    int n = 0, ret = -1;

    err_clear(err);
    *msgs_out = NULL;
    *n_out = 0;
    if (!queue_url || max < 1 || max > 10 || wait_s < 0 || wait_s > 20) {
        err_set(err, 0, "invalid_argument",
                "ReceiveMessage: need a queue url, max in 1..10 and wait in 0..20 (got %d, %d)",
                max, wait_s);
        return -1;
    }
    /*
     * The attribute list goes under both names: AttributeNames is the one
     * older servers know, MessageSystemAttributeNames the current one.
     */
    req = json_pack("{s:s, s:i, s:i, s:[s], s:[s]}", "QueueUrl", queue_url,
                    "MaxNumberOfMessages", max, "WaitTimeSeconds", wait_s,
                    "AttributeNames", "ApproximateReceiveCount",
                    "MessageSystemAttributeNames", "ApproximateReceiveCount");
    if (req && visibility_s >= 0)
        json_object_set_new(req, "VisibilityTimeout", json_integer(visibility_s));
    if (sqs_call(c, "ReceiveMessage", req, (long)wait_s * 1000L, SQS_RECEIVE_MAX_RESPONSE, &resp,
                 err) < 0)
        goto out;

    arr = json_object_get(resp, "Messages");
    if (!arr || json_is_null(arr)) {
        ret = 0;
        goto out;
    }
    if (!json_is_array(arr)) {
        err_set(err, 200, "bad_response", "ReceiveMessage: Messages is not an array");
        goto out;
    }
    count = json_array_size(arr);
    if (count == 0) {
        ret = 0;
        goto out;
    }
    msgs = calloc(count, sizeof(*msgs));
    if (!msgs) {
        err_set(err, 0, "internal", "out of memory");
        goto out;
    }
    json_array_foreach(arr, i, m) {
        const char *id = json_string_value(json_object_get(m, "MessageId"));
        const char *rh = json_string_value(json_object_get(m, "ReceiptHandle"));
        const char *body = json_string_value(json_object_get(m, "Body"));

        if (!id || !rh || !body) {
            err_set(err, 200, "bad_response",
                    "ReceiveMessage: a message lacks MessageId, ReceiptHandle or Body");
            goto out;
        }
        msgs[n].message_id = strdup(id);
        msgs[n].receipt_handle = strdup(rh);
        msgs[n].body = strdup(body);
        msgs[n].receive_count = parse_count(json_object_get(m, "Attributes"));
        n++;
        if (!msgs[n - 1].message_id || !msgs[n - 1].receipt_handle || !msgs[n - 1].body) {
            err_set(err, 0, "internal", "out of memory");
            goto out;
        }
    }
    *msgs_out = msgs;
    *n_out = n;
    msgs = NULL;
    ret = 0;
out:
    sqs_messages_free(msgs, n);
    json_decref(resp);
    return ret;
}

int sqs_delete(struct sqs_client *c, const char *queue_url, const char *receipt_handle,
               struct sqs_error *err_in)
{
    struct sqs_error local, *err = ERR_OR_LOCAL(err_in, local);

    err_clear(err);
    if (!queue_url || !receipt_handle) {
        err_set(err, 0, "invalid_argument", "DeleteMessage: queue url and receipt handle are required");
        return -1;
    }
    return sqs_call(c, "DeleteMessage",
                    json_pack("{s:s, s:s}", "QueueUrl", queue_url, "ReceiptHandle", receipt_handle),
                    0, 0, NULL, err);
}

int sqs_change_visibility(struct sqs_client *c, const char *queue_url, const char *receipt_handle,
                          int visibility_s, struct sqs_error *err_in)
{
    struct sqs_error local, *err = ERR_OR_LOCAL(err_in, local);

    err_clear(err);
    if (!queue_url || !receipt_handle || visibility_s < 0) {
        err_set(err, 0, "invalid_argument",
                "ChangeMessageVisibility: queue url, receipt handle and a timeout >= 0 are required");
        return -1;
    }
    return sqs_call(c, "ChangeMessageVisibility",
                    json_pack("{s:s, s:s, s:i}", "QueueUrl", queue_url, "ReceiptHandle",
                              receipt_handle, "VisibilityTimeout", visibility_s),
                    0, 0, NULL, err);
}

int sqs_get_attributes(struct sqs_client *c, const char *queue_url, const char *const *names,
                       json_t **attrs, struct sqs_error *err_in)
{
    struct sqs_error local, *err = ERR_OR_LOCAL(err_in, local);
    json_t *req = NULL, *list, *resp = NULL, *a;
    int ret = -1;

    err_clear(err);
    *attrs = NULL;
    if (!queue_url) {
        err_set(err, 0, "invalid_argument", "GetQueueAttributes: queue url is required");
        return -1;
    }
    list = json_array();
    if (list && names) {
        for (const char *const *p = names; *p; p++)
            json_array_append_new(list, json_string(*p));
    } else if (list) {
        json_array_append_new(list, json_string("All"));
    }
    if (list)
        req = json_pack("{s:s, s:o}", "QueueUrl", queue_url, "AttributeNames", list);
    if (sqs_call(c, "GetQueueAttributes", req, 0, 0, &resp, err) < 0)
        goto out;
    a = json_object_get(resp, "Attributes");
    if (a && !json_is_object(a)) {
        err_set(err, 200, "bad_response", "GetQueueAttributes: Attributes is not an object");
        goto out;
    }
    *attrs = a ? json_incref(a) : json_object();
    if (!*attrs) {
        err_set(err, 0, "internal", "out of memory");
        goto out;
    }
    ret = 0;
out:
    json_decref(resp);
    return ret;
}

int sqs_create_queue(struct sqs_client *c, const char *name, json_t *attributes,
                     char *queue_url, size_t queue_url_len, struct sqs_error *err_in)
{
    struct sqs_error local, *err = ERR_OR_LOCAL(err_in, local);
    json_t *req, *resp = NULL;
    const char *url;
    int ret = -1;

    err_clear(err);
    if (!name) {
        err_set(err, 0, "invalid_argument", "CreateQueue: a name is required");
        return -1;
    }
    req = json_pack("{s:s}", "QueueName", name);
    if (req && attributes)
        json_object_set(req, "Attributes", attributes);
    if (sqs_call(c, "CreateQueue", req, 0, 0, &resp, err) < 0)
        goto out;
    url = json_string_value(json_object_get(resp, "QueueUrl"));
    if (!url) {
        err_set(err, 200, "bad_response", "CreateQueue: no QueueUrl in the response");
        goto out;
    }
    if (queue_url && queue_url_len) {
        if (strlen(url) >= queue_url_len) {
            err_set(err, 200, "bad_response", "CreateQueue: queue url longer than %zu bytes",
                    queue_url_len - 1);
            goto out;
        }
        snprintf(queue_url, queue_url_len, "%s", url);
    }
    ret = 0;
out:
    json_decref(resp);
    return ret;
}

int sqs_purge(struct sqs_client *c, const char *queue_url, struct sqs_error *err_in)
{
    struct sqs_error local, *err = ERR_OR_LOCAL(err_in, local);

    err_clear(err);
    if (!queue_url) {
        err_set(err, 0, "invalid_argument", "PurgeQueue: queue url is required");
        return -1;
    }
    return sqs_call(c, "PurgeQueue", json_pack("{s:s}", "QueueUrl", queue_url), 0, 0, NULL, err);
}
