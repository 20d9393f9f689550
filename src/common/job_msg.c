/*
 * job_msg.c - the spec 4.5 queue message (job_msg.h): the one builder and the
 * one validating reader.
 */
#include "common/job_msg.h"

#include "common/sqs.h"
#include "common/timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *job_msg_encode(const struct job_msg *m)
{
    json_t *o;
    char *text;

    /* Insertion order is the order on the wire: the same for every publisher. */
    if (m->type == JOB_SOURCE_SYNC)
        o = json_pack("{s:s,s:s,s:s,s:s,s:s?}", "job_type", JOB_MSG_TYPE_SYNC, "sync_id", m->sync_id, "source_id",
                      m->source_id, "tenant_id", m->tenant_id, "requested_at", m->received_at);
    else
        o = json_pack("{s:s,s:s,s:s,s:s?,s:s,s:s?,s:s?,s:s?,s:s?}", "job_type", JOB_MSG_TYPE, "run_id", m->run_id,
                  "tenant_id", m->tenant_id, "user_id", m->user_id[0] ? m->user_id : NULL, "doc_id", m->doc_id,
                  "source_uri", m->source_uri, "upload_uri", m->upload_uri, "title", m->title, "received_at",
                  m->received_at);
    if (!o)
        return NULL;
    text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    return text;
}

static void lower_copy(char *dst, const char *src)
{
    size_t i;

    for (i = 0; i < ID_UUID_LEN && src[i]; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'F') ? (char)(src[i] - 'A' + 'a') : src[i];
    dst[i] = '\0';
}

/* A UUID field: required or optional; -1 with err set when wrong. */
static int uuid_field(json_t *root, const char *key, int required, char out[ID_UUID_LEN + 1],
                      char *err, size_t errlen)
{
    json_t *v = json_object_get(root, key);

    out[0] = '\0';
    if (!v || json_is_null(v)) {
        if (required) {
            snprintf(err, errlen, "%s missing", key);
            return -1;
        }
        return 0;
    }
    if (!json_is_string(v) || !id_is_uuid(json_string_value(v))) {
        snprintf(err, errlen, "%s is not a UUID", key);
        return -1;
    }
    lower_copy(out, json_string_value(v));
    return 0;
}

/* What is wrong with a string field's value, or NULL if it is fine. */
static const char *string_problem(json_t *v, int required)
{
    if (!json_is_string(v))
        return "is not a string";
    if (required && json_string_length(v) == 0)
        return "is empty";
    if (memchr(json_string_value(v), '\0', json_string_length(v)))
        return "contains NUL";
    return NULL;
}

static int string_field(json_t *root, const char *key, int required, struct arena *a, const char **out,
                        char *err, size_t errlen)
{
    json_t *v = json_object_get(root, key);
    const char *problem;

    *out = "";
    if (!v || json_is_null(v)) {
        if (required) {
            snprintf(err, errlen, "%s missing", key);
            return -1;
        }
        return 0;
    }
    problem = string_problem(v, required);
    if (problem) {
        snprintf(err, errlen, "%s %s", key, problem);
        return -1;
    }
    *out = arena_strdup(a, json_string_value(v));
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* The body as a JSON object (for the caller to json_decref), or NULL with err set. */
static json_t *load_object(const char *body, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root;

    if (!body || len == 0) {
        snprintf(err, errlen, "empty body");
        return NULL;
    }
    if (len > JOB_MSG_MAX_BODY) {
        snprintf(err, errlen, "body larger than %d bytes", JOB_MSG_MAX_BODY);
        return NULL;
    }
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "not JSON: %s", jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "not a JSON object");
        json_decref(root);
        return NULL;
    }
    return root;
}

/* run_id and tenant_id, both or neither: a run without its tenant cannot be failed safely. */
static int identify(json_t *root, struct job_msg *m, char *err, size_t errlen)
{
    if (uuid_field(root, "run_id", 1, m->run_id, err, errlen) < 0)
        return -1;
    if (uuid_field(root, "tenant_id", 1, m->tenant_id, err, errlen) < 0) {
        m->run_id[0] = '\0';
        return -1;
    }
    return 0;
}

static int job_fields(json_t *root, struct arena *a, struct job_msg *m, char *err, size_t errlen)
{
    json_t *jt = json_object_get(root, "job_type");

    if (!json_is_string(jt) || strcmp(json_string_value(jt), JOB_MSG_TYPE) != 0) {
        snprintf(err, errlen, "job_type is not \"" JOB_MSG_TYPE "\"");
        return -1;
    }
    if (uuid_field(root, "doc_id", 1, m->doc_id, err, errlen) < 0 ||
        uuid_field(root, "user_id", 0, m->user_id, err, errlen) < 0 ||
        string_field(root, "source_uri", 1, a, &m->source_uri, err, errlen) < 0 ||
        string_field(root, "upload_uri", 1, a, &m->upload_uri, err, errlen) < 0 ||
        string_field(root, "title", 0, a, &m->title, err, errlen) < 0 ||
        string_field(root, "received_at", 0, a, &m->received_at, err, errlen) < 0)
        return -1;
    return 0;
}

/* A source_sync message: every id required. */
static int sync_fields(json_t *root, struct arena *a, struct job_msg *m, char *err, size_t errlen)
{
    m->type = JOB_SOURCE_SYNC;
    if (uuid_field(root, "sync_id", 1, m->sync_id, err, errlen) < 0 ||
        uuid_field(root, "source_id", 1, m->source_id, err, errlen) < 0 ||
        uuid_field(root, "tenant_id", 1, m->tenant_id, err, errlen) < 0 ||
        string_field(root, "requested_at", 0, a, &m->received_at, err, errlen) < 0)
        return -1;
    return 0;
}

static int is_sync(json_t *root)
{
    json_t *jt = json_object_get(root, "job_type");

    return json_is_string(jt) && strcmp(json_string_value(jt), JOB_MSG_TYPE_SYNC) == 0;
}

int job_msg_parse(const char *body, size_t len, struct arena *a, struct job_msg *m, char *err, size_t errlen)
{
    json_t *root;
    int rc = -1;

    memset(m, 0, sizeof(*m));
    m->source_uri = m->upload_uri = m->title = m->received_at = "";
    root = load_object(body, len, err, errlen);
    if (root && is_sync(root))
        rc = sync_fields(root, a, m, err, errlen);
    /* Identify the run first, so even a bad message can fail its run. */
    else if (root && identify(root, m, err, errlen) == 0)
        rc = job_fields(root, a, m, err, errlen);
    json_decref(root);
    return rc;
}

int job_msg_send(struct sqs_client *sqs, const char *queue_url, const struct job_msg *m, char *code,
                 size_t codelen)
{
    struct job_msg now_m = *m;
    struct sqs_error e;
    char now[40];
    char *text;
    int rc = -1;

    memset(&e, 0, sizeof(e));
    time_format_rfc3339(time_now_ms(), now, sizeof(now));
    now_m.received_at = now;
    text = job_msg_encode(&now_m);
    if (text && sqs && sqs_send(sqs, queue_url, text, 0, NULL, 0, &e) == 0)
        rc = 0;
    else
        snprintf(code, codelen, "%s", !text ? "nomem" : !sqs ? "no_queue" : e.code[0] ? e.code : "transport");
    free(text);
    return rc;
}
