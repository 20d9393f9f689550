/*
 * sqs.c - the SQS client of sqs.h: one JSON 1.0 call (sqs_call) under every
 * public function, SigV4 signing left to libcurl, errors in struct sqs_error.
 */
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
    struct httpc_aws aws;   /* endpoint, "aws:amz:<region>:sqs", "key:secret" or NULL */
    long timeout_ms;
    struct httpc http;
};

struct sqs_client *sqs_new(const struct sqs_config *cfg)
{
    struct sqs_client *c;

    c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (httpc_init(&c->http) < 0)
        goto fail;
    /* Without keys requests go unsigned, which only an emulator accepts. */
    if (httpc_aws_init(&c->aws, cfg->endpoint, cfg->region, "sqs", cfg->access_key_id, cfg->secret_access_key) < 0)
        goto fail;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : SQS_DEFAULT_TIMEOUT_MS;
    return c;
fail:
    sqs_free(&c);
    return NULL;
}

void sqs_free(struct sqs_client **cp)
{
    struct sqs_client *c = cp ? *cp : NULL;

    if (!c)
        return;
    httpc_release(&c->http);
    httpc_aws_release(&c->aws);
    free(c);
    *cp = NULL;
}

static void err_clear(struct sqs_error *err)
{
    err->http_status = 0;
    err->code[0] = '\0';
    err->message[0] = '\0';
}

/* Callers may pass NULL for err: the helpers then write to *local. Cleared either way. */
static struct sqs_error *err_start(struct sqs_error *err, struct sqs_error *local)
{
    struct sqs_error *e = err ? err : local;

    err_clear(e);
    return e;
}

static void err_vset(struct sqs_error *err, long status, const char *code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void err_vset(struct sqs_error *err, long status, const char *code, const char *fmt, va_list ap)
{
    err->http_status = status;
    snprintf(err->code, sizeof(err->code), "%s", code);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

static void err_set(struct sqs_error *err, long status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void err_set(struct sqs_error *err, long status, const char *code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vset(err, status, code, fmt, ap);
    va_end(ap);
}

/* Arguments refused before any request is made: -1 with the code invalid_argument. */
static int bad_argument(struct sqs_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad_argument(struct sqs_error *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vset(err, 0, "invalid_argument", fmt, ap);
    va_end(ap);
    return -1;
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
    hr.url = c->aws.endpoint;
    hr.body = body;
    hr.body_len = strlen(body);
    hr.headers = headers;
    hr.timeout_ms = c->timeout_ms + extra_timeout_ms;
    if (c->aws.userpwd) {
        hr.aws_sigv4 = c->aws.sigv4;
        hr.userpwd = c->aws.userpwd;
    }
    hr.max_response = max_response;

    if (httpc_do(&c->http, &hr, &resp, terr, sizeof(terr)) < 0) {
        err_set(err, 0, "transport", "%s %s: %s", action, c->aws.endpoint, terr);
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

/*
 * A call whose answer must carry the string member name: that string, or NULL
 * with err set. *resp receives the answer either way (the caller decrefs it).
 */
static const char *call_for_string(struct sqs_client *c, const char *action, json_t *req, const char *name,
                                   json_t **resp, struct sqs_error *err)
{
    const char *v;

    if (sqs_call(c, action, req, 0, 0, resp, err) < 0)
        return NULL;
    v = json_string_value(json_object_get(*resp, name));
    if (!v)
        err_set(err, 200, "bad_response", "%s: no %s in the response", action, name);
    return v;
}

int sqs_send(struct sqs_client *c, const char *queue_url, const char *body, int delay_s,
             char *message_id, size_t message_id_len, struct sqs_error *err_in)
{
    struct sqs_error local, *err = err_start(err_in, &local);
    json_t *req, *resp = NULL;
    const char *id;

    if (!queue_url || !body)
        return bad_argument(err, "SendMessage: queue url and body are required");
    req = json_pack("{s:s, s:s}", "QueueUrl", queue_url, "MessageBody", body);
    if (req && delay_s > 0)
        json_object_set_new(req, "DelaySeconds", json_integer(delay_s));
    id = call_for_string(c, "SendMessage", req, "MessageId", &resp, err);
    if (id && message_id && message_id_len)
        snprintf(message_id, message_id_len, "%s", id);
    json_decref(resp);
    return id ? 0 : -1;
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

/*
 * The ReceiveMessage request. The attribute list goes under both names:
 * AttributeNames is the one older servers know, MessageSystemAttributeNames
 * the current one.
 */
static json_t *receive_request(const char *queue_url, int max, int wait_s, int visibility_s)
{
    json_t *req = json_pack("{s:s, s:i, s:i, s:[s], s:[s]}", "QueueUrl", queue_url,
                            "MaxNumberOfMessages", max, "WaitTimeSeconds", wait_s,
                            "AttributeNames", "ApproximateReceiveCount",
                            "MessageSystemAttributeNames", "ApproximateReceiveCount");

    if (req && visibility_s >= 0)
        json_object_set_new(req, "VisibilityTimeout", json_integer(visibility_s));
    return req;
}

/* One message of the answer into *out (zeroed); on -1 *out may hold some copies to free. */
static int copy_message(json_t *m, struct sqs_message *out, struct sqs_error *err)
{
    const char *id = json_string_value(json_object_get(m, "MessageId"));
    const char *rh = json_string_value(json_object_get(m, "ReceiptHandle"));
    const char *body = json_string_value(json_object_get(m, "Body"));

    if (!id || !rh || !body) {
        err_set(err, 200, "bad_response", "ReceiveMessage: a message lacks MessageId, ReceiptHandle or Body");
        return -1;
    }
    out->message_id = strdup(id);
    out->receipt_handle = strdup(rh);
    out->body = strdup(body);
    out->receive_count = parse_count(json_object_get(m, "Attributes"));
    if (!out->message_id || !out->receipt_handle || !out->body) {
        err_set(err, 0, "internal", "out of memory");
        return -1;
    }
    return 0;
}

/* The answer's Messages (absent, null or empty: none) into a new array of *n_out. */
static int parse_messages(json_t *resp, struct sqs_message **msgs_out, int *n_out, struct sqs_error *err)
{
    json_t *arr = json_object_get(resp, "Messages"), *m;
    struct sqs_message *msgs;
    size_t count, i;
    int n = 0;

    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr)) {
        err_set(err, 200, "bad_response", "ReceiveMessage: Messages is not an array");
        return -1;
    }
    count = json_array_size(arr);
    if (count == 0)
        return 0;
    msgs = calloc(count, sizeof(*msgs));
    if (!msgs) {
        err_set(err, 0, "internal", "out of memory");
        return -1;
    }
    json_array_foreach(arr, i, m) {
        /* Counted before the check: a half-copied message is freed with the rest. */
        int rc = copy_message(m, &msgs[n++], err);

        if (rc < 0) {
            sqs_messages_free(msgs, n);
            return -1;
        }
    }
    *msgs_out = msgs;
    *n_out = n;
    return 0;
}

int sqs_receive(struct sqs_client *c, const char *queue_url, int max, int wait_s, int visibility_s,
                struct sqs_message **msgs_out, int *n_out, struct sqs_error *err_in)
{
    struct sqs_error local, *err = err_start(err_in, &local);
    json_t *resp = NULL;
    int ret;

    *msgs_out = NULL;
    *n_out = 0;
    if (!queue_url || max < 1 || max > 10 || wait_s < 0 || wait_s > 20)
        return bad_argument(err, "ReceiveMessage: need a queue url, max in 1..10 and wait in 0..20 (got %d, %d)",
                            max, wait_s);
    if (sqs_call(c, "ReceiveMessage", receive_request(queue_url, max, wait_s, visibility_s), (long)wait_s * 1000L,
                 SQS_RECEIVE_MAX_RESPONSE, &resp, err) < 0)
        return -1;
    ret = parse_messages(resp, msgs_out, n_out, err);
    json_decref(resp);
    return ret;
}

int sqs_delete(struct sqs_client *c, const char *queue_url, const char *receipt_handle,
               struct sqs_error *err_in)
{
    struct sqs_error local, *err = err_start(err_in, &local);

    if (!queue_url || !receipt_handle)
        return bad_argument(err, "DeleteMessage: queue url and receipt handle are required");
    return sqs_call(c, "DeleteMessage",
                    json_pack("{s:s, s:s}", "QueueUrl", queue_url, "ReceiptHandle", receipt_handle),
                    0, 0, NULL, err);
}

int sqs_change_visibility(struct sqs_client *c, const char *queue_url, const char *receipt_handle,
                          int visibility_s, struct sqs_error *err_in)
{
    struct sqs_error local, *err = err_start(err_in, &local);

    if (!queue_url || !receipt_handle || visibility_s < 0)
        return bad_argument(err, "ChangeMessageVisibility: queue url, receipt handle and a timeout >= 0 are "
                                 "required");
    return sqs_call(c, "ChangeMessageVisibility",
                    json_pack("{s:s, s:s, s:i}", "QueueUrl", queue_url, "ReceiptHandle",
                              receipt_handle, "VisibilityTimeout", visibility_s),
                    0, 0, NULL, err);
}

/* The GetQueueAttributes request for names (NULL-terminated; NULL: "All"). NULL if memory is out. */
static json_t *attributes_request(const char *queue_url, const char *const *names)
{
    json_t *list = json_array();

    if (!list)
        return NULL;
    for (const char *const *p = names; p && *p; p++)
        json_array_append_new(list, json_string(*p));
    if (!names)
        json_array_append_new(list, json_string("All"));
    return json_pack("{s:s, s:o}", "QueueUrl", queue_url, "AttributeNames", list);
}

int sqs_get_attributes(struct sqs_client *c, const char *queue_url, const char *const *names,
                       json_t **attrs, struct sqs_error *err_in)
{
    struct sqs_error local, *err = err_start(err_in, &local);
    json_t *resp = NULL, *a;
    int ret = -1;

    *attrs = NULL;
    if (!queue_url)
        return bad_argument(err, "GetQueueAttributes: queue url is required");
    if (sqs_call(c, "GetQueueAttributes", attributes_request(queue_url, names), 0, 0, &resp, err) < 0)
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
    struct sqs_error local, *err = err_start(err_in, &local);
    json_t *req, *resp = NULL;
    const char *url;
    int ret = -1;

    if (!name)
        return bad_argument(err, "CreateQueue: a name is required");
    req = json_pack("{s:s}", "QueueName", name);
    if (req && attributes)
        json_object_set(req, "Attributes", attributes);
    url = call_for_string(c, "CreateQueue", req, "QueueUrl", &resp, err);
    if (!url)
        goto out;
    if (queue_url && queue_url_len && strlen(url) >= queue_url_len) {
        err_set(err, 200, "bad_response", "CreateQueue: queue url longer than %zu bytes", queue_url_len - 1);
        goto out;
    }
    if (queue_url && queue_url_len)
        snprintf(queue_url, queue_url_len, "%s", url);
    ret = 0;
out:
    json_decref(resp);
    return ret;
}

int sqs_purge(struct sqs_client *c, const char *queue_url, struct sqs_error *err_in)
{
    struct sqs_error local, *err = err_start(err_in, &local);

    if (!queue_url)
        return bad_argument(err, "PurgeQueue: queue url is required");
    return sqs_call(c, "PurgeQueue", json_pack("{s:s}", "QueueUrl", queue_url), 0, 0, NULL, err);
}
