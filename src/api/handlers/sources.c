/*
 * sources.c - /v1/sources (sources.h): validation of a source's fields, and
 * statements keyed by the caller's tenant that build the JSON answer in SQL
 * (SOURCE_JSON), so a list, a read and a write answer the same object.
 *
 * Secrets: a body that carries a key pair (access_key_id, secret_access_key,
 * session_token) is refused with 400; credentials are only ever named, as
 * credentials_ref "env:NAME": the worker signs with NAME_ACCESS_KEY_ID and
 * NAME_SECRET_ACCESS_KEY of its own environment (docs/sources.md). So no
 * read can return a secret: none is stored.
 */
#include "api/handlers/sources.h"

#include "api/handlers/params.h"
#include "api/handlers/rows.h"
#include "api/source_sync.h"
#include "common/db.h"
#include "common/timeutil.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOURCES_NOT_FOUND "source not found"
#define SOURCES_DB_WHAT "a source with this name already exists"
#define SOURCES_GLOBS_MAX 50
#define SOURCES_GLOB_LEN_MAX 256
#define SOURCES_SCHEDULE_MIN_MS (60LL * 1000)
#define SOURCES_SCHEDULE_MAX_MS (7LL * 86400 * 1000)
#define SOURCES_SYNCS_SHOWN "20"

/* One source as JSON text, from sources s (no secret exists to leak). */
#define SOURCE_JSON                                                                                              \
    "json_build_object('source_id', s.source_id, 'name', s.name, 'type', s.type, 'bucket', s.bucket,"            \
    " 'prefix', s.prefix, 'region', s.region, 'endpoint', nullif(s.endpoint, ''),"                               \
    " 'credentials_ref', nullif(s.credentials_ref, ''), 'include', s.include_globs, 'exclude', s.exclude_globs," \
    " 'schedule', CASE WHEN s.schedule_s = 0 THEN 'manual' ELSE 'every ' || s.schedule_s || 's' END,"            \
    " 'schedule_seconds', s.schedule_s, 'created_at', s.created_at, 'updated_at', s.updated_at,"                 \
    " 'documents', (SELECT count(*) FROM source_objects o WHERE o.source_id = s.source_id"                      \
    "                AND o.removed_at IS NULL AND o.doc_id IS NOT NULL),"                                         \
    " 'last_sync', (SELECT to_json(y) FROM (SELECT y.sync_id, y.status, y.trigger, y.created_at, y.started_at,"  \
    "   y.finished_at, y.stats, y.error FROM source_syncs y WHERE y.source_id = s.source_id"                     \
    "   ORDER BY y.created_at DESC LIMIT 1) y))::text"

/* The fields of a POST or PATCH body; NULL: absent (PATCH keeps the stored value). */
struct source_in {
    const char *name, *type, *bucket, *prefix, *region, *endpoint, *credentials_ref;
    const char *include, *exclude;   /* JSON array text */
    const char *schedule_s;          /* decimal seconds, "0" for manual */
    char schedule_buf[24];
};

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static const char *check_name(const char *s)
{
    size_t n = strlen(s);

    return n < 1 || n > 200 || has_control(s) ? "name must be 1 to 200 characters without control characters" : NULL;
}

static const char *check_type(const char *s)
{
    return strcmp(s, "s3") != 0 ? "type must be \"s3\"" : NULL;
}

/* S3's bucket naming rules (3-63 of a-z 0-9 . -, starting and ending with a letter or digit). */
static const char *check_bucket(const char *s)
{
    size_t n = strlen(s);
    const char *msg = "bucket must be a valid S3 bucket name (3 to 63 of a-z, 0-9, '.', '-')";

    if (n < 3 || n > 63 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return msg;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '.' && s[i] != '-')
            return msg;
    return NULL;
}

static const char *check_prefix(const char *s)
{
    return strlen(s) > 1024 || has_control(s) ? "prefix must be at most 1024 bytes without control characters" : NULL;
}

static const char *check_region(const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return "region must be like \"us-east-1\"";
    return n > 32 ? "region must be like \"us-east-1\"" : NULL;
}

static const char *check_endpoint(const char *s)
{
    const char *msg = "endpoint must be an http:// or https:// URL of at most 512 bytes";

    if (!s[0])
        return NULL;
    if (strlen(s) > 512 || has_control(s) || strchr(s, ' ') || strchr(s, '?') || strchr(s, '#'))
        return msg;
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ? NULL : msg;
}

/* "" or "env:NAME" with NAME an environment variable name in upper case. */
static const char *check_credentials(const char *s)
{
    const char *msg = "credentials_ref must be \"env:NAME\" (NAME: A-Z, 0-9, _; at most 64) or empty";
    size_t n;

    if (!s[0])
        return NULL;
    if (strncmp(s, "env:", 4) != 0)
        return msg;
    s += 4;
    n = strlen(s);
    if (n < 1 || n > 64 || (s[0] >= '0' && s[0] <= '9'))
        return msg;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return msg;
    return NULL;
}

struct str_field {
    const char *key;
    const char *(*check)(const char *);
    size_t offset;
};

static const struct str_field str_fields[] = {
    {"name", check_name, offsetof(struct source_in, name)},
    {"type", check_type, offsetof(struct source_in, type)},
    {"bucket", check_bucket, offsetof(struct source_in, bucket)},
    {"prefix", check_prefix, offsetof(struct source_in, prefix)},
    {"region", check_region, offsetof(struct source_in, region)},
    {"endpoint", check_endpoint, offsetof(struct source_in, endpoint)},
    {"credentials_ref", check_credentials, offsetof(struct source_in, credentials_ref)},
};

/* v as compact JSON text in the request's arena; NULL if memory is out. */
static const char *json_text(struct req *r, json_t *v)
{
    char *t = json_dumps(v, JSON_COMPACT);
    const char *out = t ? arena_strdup(&r->arena, t) : NULL;

    free(t);
    return out;
}

/* An include/exclude list: an array of glob strings, as JSON text in the arena; NULL message when fine. */
static const char *globs_field(struct req *r, json_t *body, const char *key, const char **out)
{
    json_t *v = json_object_get(body, key), *g;
    size_t i;

    *out = NULL;
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_array(v) || json_array_size(v) > SOURCES_GLOBS_MAX)
        return "include and exclude must be arrays of at most 50 glob strings";
    json_array_foreach(v, i, g) {
        if (!json_is_string(g) || json_string_length(g) < 1 || json_string_length(g) > SOURCES_GLOB_LEN_MAX ||
            has_control(json_string_value(g)) || strlen(json_string_value(g)) != json_string_length(g))
            return "each include or exclude glob must be a string of 1 to 256 characters";
    }
    *out = json_text(r, v);
    return *out ? NULL : "out of memory";
}

/* "manual", or a period ("15m", "every 15m", "900s") from 60 s to 7 days, as seconds text. */
static const char *schedule_field(json_t *body, struct source_in *in)
{
    json_t *v = json_object_get(body, "schedule");
    const char *s;
    int64_t ms;

    in->schedule_s = NULL;
    if (!v || json_is_null(v))
        return NULL;
    s = json_string_value(v);
    if (s && strcmp(s, "manual") == 0) {
        in->schedule_s = "0";
        return NULL;
    }
    if (s && strncmp(s, "every ", 6) == 0)
        s += 6;
    if (!s || time_parse_duration_ms(s, &ms) < 0 || ms < SOURCES_SCHEDULE_MIN_MS || ms > SOURCES_SCHEDULE_MAX_MS)
        return "schedule must be \"manual\" or a period such as \"every 15m\" (from 60s to 7d)";
    snprintf(in->schedule_buf, sizeof(in->schedule_buf), "%lld", (long long)(ms / 1000));
    in->schedule_s = in->schedule_buf;
    return NULL;
}

/* Every field of body into in, each checked; -1 after answering 400. */
static int source_parse(struct req *r, json_t *body, struct source_in *in)
{
    static const char *const secrets[] = {"access_key_id", "secret_access_key", "session_token", "credentials"};
    const char *msg = NULL;

    memset(in, 0, sizeof(*in));
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]) && !msg; i++)
        if (json_object_get(body, secrets[i]))
            msg = "secrets are not accepted: set credentials_ref to \"env:NAME\" and give the worker "
                  "NAME_ACCESS_KEY_ID and NAME_SECRET_ACCESS_KEY (docs/sources.md)";
    for (size_t i = 0; i < sizeof(str_fields) / sizeof(str_fields[0]) && !msg; i++) {
        json_t *v = json_object_get(body, str_fields[i].key);
        const char **dst = (const char **)((char *)in + str_fields[i].offset);

        if (!v || json_is_null(v))
            continue;
        *dst = json_string_value(v);
        if (!*dst || strlen(*dst) != json_string_length(v))
            msg = "name, type, bucket, prefix, region, endpoint and credentials_ref must be strings";
        else
            msg = str_fields[i].check(*dst);
    }
    if (!msg)
        msg = globs_field(r, body, "include", &in->include);
    if (!msg)
        msg = globs_field(r, body, "exclude", &in->exclude);
    if (!msg)
        msg = schedule_field(body, in);
    if (msg) {
        req_error(r, API_ERR_BAD_REQUEST, msg);
        return -1;
    }
    return 0;
}

/* Answer status with the one SOURCE_JSON text of res, or 404. */
static void answer_source(struct req *r, unsigned status, PGresult *res)
{
    json_t *o;

    if (PQntuples(res) != 1) {
        req_error(r, API_ERR_NOT_FOUND, SOURCES_NOT_FOUND);
        return;
    }
    o = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    if (!o) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    req_json(r, status, o);
}

void sources_list(struct req *r)
{
    const char *params[1] = {r->principal.tenant_id};
    PGresult *res;
    json_t *list;

    res = rows_query(r, "SELECT coalesce(json_agg(x.j ORDER BY x.name), '[]')::text FROM"
                        " (SELECT s.name, (" SOURCE_JSON ")::json AS j FROM sources s WHERE s.tenant_id = $1) x",
                     1, params, SOURCES_DB_WHAT);
    if (!res)
        return;
    list = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    if (!list) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    req_json(r, 200, json_pack("{s:o,s:I}", "sources", list, "total", (json_int_t)json_array_size(list)));
}

void sources_get(struct req *r)
{
    PGresult *res;
    json_t *o, *syncs;

    res = rows_by_id(r,
                     "SELECT " SOURCE_JSON ", (SELECT coalesce(json_agg(y ORDER BY y.created_at DESC), '[]') FROM"
                     " (SELECT y.sync_id, y.status, y.trigger, y.created_at, y.started_at, y.finished_at, y.stats,"
                     "  y.error FROM source_syncs y WHERE y.source_id = s.source_id ORDER BY y.created_at DESC"
                     "  LIMIT " SOURCES_SYNCS_SHOWN ") y)::text"
                     " FROM sources s WHERE s.source_id = $1 AND s.tenant_id = $2",
                     SOURCES_DB_WHAT, SOURCES_NOT_FOUND);
    if (!res)
        return;
    o = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    syncs = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
    if (!o || !syncs || json_object_set_new(o, "syncs", syncs) < 0) {
        json_decref(o);
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    req_json(r, 200, o);
}

void sources_create(struct req *r)
{
    json_t *body = req_body_json(r);
    struct source_in in;
    const char *params[10];
    PGresult *res;

    if (!body || source_parse(r, body, &in) < 0)
        return;
    if (!in.name || !in.bucket) {
        req_error(r, API_ERR_BAD_REQUEST, "name and bucket are required");
        return;
    }
    params[0] = r->principal.tenant_id;
    params[1] = in.name;
    params[2] = in.bucket;
    params[3] = in.prefix;
    params[4] = in.region;
    params[5] = in.endpoint;
    params[6] = in.credentials_ref;
    params[7] = in.include;
    params[8] = in.exclude;
    params[9] = in.schedule_s;
    res = rows_query(r,
                     "WITH s AS (INSERT INTO sources (tenant_id, name, bucket, prefix, region, endpoint,"
                     "  credentials_ref, include_globs, exclude_globs, schedule_s)"
                     " VALUES ($1, $2, $3, coalesce($4, ''), coalesce($5, ''), coalesce($6, ''), coalesce($7, ''),"
                     "  ARRAY(SELECT json_array_elements_text(coalesce($8, '[]')::json)),"
                     "  ARRAY(SELECT json_array_elements_text(coalesce($9, '[]')::json)),"
                     "  coalesce($10::integer, 0)) RETURNING *)"
                     " SELECT " SOURCE_JSON " FROM s",
                     10, params, SOURCES_DB_WHAT);
    if (res)
        answer_source(r, 201, res);
}

void sources_update(struct req *r)
{
    json_t *body = req_body_json(r);
    struct source_in in;
    const char *params[11];
    PGresult *res;

    if (!body || source_parse(r, body, &in) < 0)
        return;
    params[0] = params_id(r, 0, SOURCES_NOT_FOUND);
    if (!params[0])
        return;
    params[1] = r->principal.tenant_id;
    params[2] = in.name;
    params[3] = in.bucket;
    params[4] = in.prefix;
    params[5] = in.region;
    params[6] = in.endpoint;
    params[7] = in.credentials_ref;
    params[8] = in.include;
    params[9] = in.exclude;
    params[10] = in.schedule_s;
    res = rows_query(r,
                     "WITH s AS (UPDATE sources SET name = coalesce($3, name), bucket = coalesce($4, bucket),"
                     "  prefix = coalesce($5, prefix), region = coalesce($6, region),"
                     "  endpoint = coalesce($7, endpoint), credentials_ref = coalesce($8, credentials_ref),"
                     "  include_globs = CASE WHEN $9::text IS NULL THEN include_globs"
                     "   ELSE ARRAY(SELECT json_array_elements_text($9::json)) END,"
                     "  exclude_globs = CASE WHEN $10::text IS NULL THEN exclude_globs"
                     "   ELSE ARRAY(SELECT json_array_elements_text($10::json)) END,"
                     "  schedule_s = coalesce($11::integer, schedule_s), updated_at = now()"
                     " WHERE source_id = $1 AND tenant_id = $2 RETURNING *)"
                     " SELECT " SOURCE_JSON " FROM s",
                     11, params, SOURCES_DB_WHAT);
    if (res)
        answer_source(r, 200, res);
}

void sources_delete(struct req *r)
{
    const char *params[2];
    PGresult *res;

    params[0] = params_id(r, 0, SOURCES_NOT_FOUND);
    if (!params[0])
        return;
    params[1] = r->principal.tenant_id;
    /* Its syncs and object memory go with it (ON DELETE CASCADE); its documents stay (docs/sources.md). */
    res = rows_query(r, "DELETE FROM sources WHERE source_id = $1 AND tenant_id = $2 RETURNING source_id", 2,
                     params, SOURCES_DB_WHAT);
    if (!res)
        return;
    if (PQntuples(res) != 1) {
        req_error(r, API_ERR_NOT_FOUND, SOURCES_NOT_FOUND);
        return;
    }
    req_no_content(r);
}

void sources_sync(struct req *r)
{
    const char *source_id = params_id(r, 0, SOURCES_NOT_FOUND);
    char sync_id[ID_UUID_LEN + 1] = "";
    PGconn *db;

    if (!source_id)
        return;
    db = req_db(r);
    if (!db)
        return;
    switch (source_sync_start(db, req_sqs(r), r->app->cfg, r->principal.tenant_id, source_id, "manual", sync_id)) {
    case SOURCE_SYNC_QUEUED:
        req_json(r, 202, json_pack("{s:s,s:s,s:s}", "sync_id", sync_id, "source_id", source_id, "status", "queued"));
        break;
    case SOURCE_SYNC_NOT_FOUND:
        req_error(r, API_ERR_NOT_FOUND, SOURCES_NOT_FOUND);
        break;
    case SOURCE_SYNC_BUSY:
        req_error_extra(r, API_ERR_CONFLICT, "a sync of this source is already queued or running",
                        json_pack("{s:s}", "sync_id", sync_id));
        break;
    case SOURCE_SYNC_ENQUEUE_FAILED:
        req_error(r, API_ERR_UNAVAILABLE, "the sync could not be queued; try again");
        break;
    default:
        req_db_error(r, SOURCES_DB_WHAT);
        break;
    }
}
