#include "worker/job.h"

#include "common/db.h"
#include "common/log.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static int string_field(json_t *root, const char *key, int required, struct arena *a, const char **out,
                        char *err, size_t errlen)
{
    json_t *v = json_object_get(root, key);

    *out = "";
    if (!v || json_is_null(v)) {
        if (required) {
            snprintf(err, errlen, "%s missing", key);
            return -1;
        }
        return 0;
    }
    if (!json_is_string(v)) {
        snprintf(err, errlen, "%s is not a string", key);
        return -1;
    }
    if (required && json_string_length(v) == 0) {
        snprintf(err, errlen, "%s is empty", key);
        return -1;
    }
    if (memchr(json_string_value(v), '\0', json_string_length(v))) {
        snprintf(err, errlen, "%s contains NUL", key);
        return -1;
    }
    *out = arena_strdup(a, json_string_value(v));
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int job_msg_parse(const char *body, size_t len, struct arena *a, struct job_msg *m,
                  char *err, size_t errlen)
{
    json_t *root = NULL;
    json_t *jt;
    json_error_t jerr;
    int rc = -1;

    memset(m, 0, sizeof(*m));
    m->source_uri = m->upload_uri = m->title = m->received_at = "";
    if (!body || len == 0) {
        snprintf(err, errlen, "empty body");
        goto out;
    }
    if (len > JOB_MAX_BODY) {
        snprintf(err, errlen, "body larger than %d bytes", JOB_MAX_BODY);
        goto out;
    }
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "not JSON: %s", jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "not a JSON object");
        goto out;
    }
    /* Identify the run first, so even a bad message can fail its run. */
    if (uuid_field(root, "run_id", 1, m->run_id, err, errlen) < 0)
        goto out;
    if (uuid_field(root, "tenant_id", 1, m->tenant_id, err, errlen) < 0) {
        m->run_id[0] = '\0';
        goto out;
    }
    jt = json_object_get(root, "job_type");
    if (!json_is_string(jt) || strcmp(json_string_value(jt), "upload_ingest") != 0) {
        snprintf(err, errlen, "job_type is not \"upload_ingest\"");
        goto out;
    }
    if (uuid_field(root, "doc_id", 1, m->doc_id, err, errlen) < 0 ||
        uuid_field(root, "user_id", 0, m->user_id, err, errlen) < 0 ||
        string_field(root, "source_uri", 1, a, &m->source_uri, err, errlen) < 0 ||
        string_field(root, "upload_uri", 1, a, &m->upload_uri, err, errlen) < 0 ||
        string_field(root, "title", 0, a, &m->title, err, errlen) < 0 ||
        string_field(root, "received_at", 0, a, &m->received_at, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode into out; -1 on a bad escape, %00 or overflow. */
static int percent_decode(const char *s, char *out, size_t outlen)
{
    size_t o = 0;

    for (; *s; s++) {
        char c = *s;

        if (c == '%') {
            int h = hexval(s[1]), l = h < 0 ? -1 : hexval(s[2]);

            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return -1;
            c = (char)(h * 16 + l);
            s += 2;
        }
        if (o + 1 >= outlen)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

enum run_fail job_upload_path(const char *upload_uri, const char *upload_dir, const char *tenant_id,
                              char *out, size_t outlen, char *err, size_t errlen)
{
    static const char scheme[] = "file://";
    char raw[PATH_MAX], decoded[PATH_MAX], root[PATH_MAX], real[PATH_MAX], prefix[PATH_MAX + 64];
    const char *p;
    const char *candidate;
    struct stat st;
    size_t plen;

    if (!upload_uri || strncmp(upload_uri, scheme, sizeof(scheme) - 1) != 0) {
        snprintf(err, errlen, "upload_uri is not a file:// URI");
        return RUN_FAIL_INVALID_MESSAGE;
    }
    p = upload_uri + sizeof(scheme) - 1;
    if (strncmp(p, "localhost/", 10) == 0)
        p += 9;
    if (*p != '/') {
        snprintf(err, errlen, "upload_uri has a host or a relative path");
        return RUN_FAIL_INVALID_MESSAGE;
    }
    if (strlen(p) >= sizeof(raw)) {
        snprintf(err, errlen, "upload_uri too long");
        return RUN_FAIL_INVALID_MESSAGE;
    }
    snprintf(raw, sizeof(raw), "%s", p);
    if (!realpath(upload_dir, root)) {
        snprintf(err, errlen, "UPLOAD_DIR cannot be resolved: %s", strerror(errno));
        return RUN_FAIL_UPLOAD_MISSING;
    }
    plen = (size_t)snprintf(prefix, sizeof(prefix), "%s%s%s/", root,
                            strcmp(root, "/") == 0 ? "" : "/", tenant_id);
    /* The raw path first (core-api writes it unencoded); then the percent-decoded form. */
    candidate = raw;
    if (!realpath(candidate, real)) {
        if (errno == ENOENT && strchr(raw, '%') && percent_decode(raw, decoded, sizeof(decoded)) == 0) {
            candidate = decoded;
            if (realpath(candidate, real))
                goto resolved;
        }
        /* Say "missing" only for a path that would have been inside the folder. */
        if (strncmp(raw, prefix, plen) != 0 || strstr(raw, "/../") || strstr(raw, "/./")) {
            snprintf(err, errlen, "upload_uri is outside the tenant's upload folder");
            return RUN_FAIL_INVALID_MESSAGE;
        }
        snprintf(err, errlen, "upload file not found");
        return RUN_FAIL_UPLOAD_MISSING;
    }
resolved:
    if (strncmp(real, prefix, plen) != 0 || strlen(real) == plen) {
        snprintf(err, errlen, "upload_uri is outside the tenant's upload folder");
        return RUN_FAIL_INVALID_MESSAGE;
    }
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "upload is not a regular file");
        return RUN_FAIL_UPLOAD_MISSING;
    }
    if (strlen(real) >= outlen) {
        snprintf(err, errlen, "upload path too long");
        return RUN_FAIL_INVALID_MESSAGE;
    }
    snprintf(out, outlen, "%s", real);
    return RUN_OK;
}

static void copy_id(char dst[ID_UUID_LEN + 1], const char *src)
{
    snprintf(dst, ID_UUID_LEN + 1, "%s", src ? src : "");
}

static enum job_claim fill_run(PGresult *res, struct job_run *run, int takeover)
{
    const char *hash = db_val(res, 0, 3);

    memset(run, 0, sizeof(*run));
    copy_id(run->run_id, db_val(res, 0, 0));
    copy_id(run->tenant_id, db_val(res, 0, 1));
    copy_id(run->doc_id, db_val(res, 0, 2));
    snprintf(run->content_hash, sizeof(run->content_hash), "%s", hash ? hash : "");
    run->attempt = (int)strtol(db_val(res, 0, 4), NULL, 10);
    run->takeover = takeover;
    return JOB_CLAIMED;
}

enum job_claim job_claim(PGconn *c, const char *run_id, const char *tenant_id, int64_t takeover_after_ms,
                         struct job_run *run)
{
    static const char claim_sql[] =
        "UPDATE ingestion_runs SET status = 'running', started_at = COALESCE(started_at, now()),"
        " updated_at = now(), attempt = attempt + 1, error = NULL,"
        " stats = stats || jsonb_build_object('attempt', attempt + 1,"
        "   'progress', jsonb_build_object('stage', 'claimed', 'done', 0, 'total', 0))"
        " WHERE run_id = $1 AND tenant_id = $2 AND status = 'queued'"
        " RETURNING run_id, tenant_id, doc_id, content_hash, attempt";
    static const char look_sql[] =
        "SELECT status, attempt, (updated_at < now() - make_interval(secs => $3::double precision))"
        " FROM ingestion_runs WHERE run_id = $1 AND tenant_id = $2";
    /* Only one taker matches the attempt it saw; the staleness is re-checked under the row lock. */
    static const char takeover_sql[] =
        "UPDATE ingestion_runs SET updated_at = now(), attempt = attempt + 1,"
        " stats = stats || jsonb_build_object('attempt', attempt + 1, 'takeover_from', attempt,"
        "   'progress', jsonb_build_object('stage', 'claimed', 'done', 0, 'total', 0))"
        " WHERE run_id = $1 AND tenant_id = $2 AND status = 'running' AND attempt = $4"
        "   AND updated_at < now() - make_interval(secs => $3::double precision)"
        " RETURNING run_id, tenant_id, doc_id, content_hash, attempt";
    char secs[32];
    const char *p[4];
    PGresult *res;
    enum job_claim out = JOB_DB_ERROR;
    char status[16], attempt[16];

    p[0] = run_id;
    p[1] = tenant_id;
    res = db_query(c, claim_sql, 2, p);
    if (!res)
        return JOB_DB_ERROR;
    if (PQntuples(res) == 1) {
        out = fill_run(res, run, 0);
        PQclear(res);
        return out;
    }
    PQclear(res);

    snprintf(secs, sizeof(secs), "%.3f", (double)takeover_after_ms / 1000.0);
    p[2] = secs;
    res = db_query(c, look_sql, 3, p);
    if (!res)
        return JOB_DB_ERROR;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return JOB_MISSING;
    }
    snprintf(status, sizeof(status), "%s", db_val(res, 0, 0));
    snprintf(attempt, sizeof(attempt), "%s", db_val(res, 0, 1));
    if (strcmp(status, "queued") == 0) {
        /* Requeued between our two statements: let the redelivery claim it. */
        PQclear(res);
        return JOB_BUSY;
    }
    if (strcmp(status, "running") != 0) {
        PQclear(res);
        return JOB_TERMINAL;
    }
    if (strcmp(db_val(res, 0, 2), "t") != 0) {
        PQclear(res);
        return JOB_BUSY;
    }
    PQclear(res);
    p[3] = attempt;
    res = db_query(c, takeover_sql, 4, p);
    if (!res)
        return JOB_DB_ERROR;
    out = PQntuples(res) == 1 ? fill_run(res, run, 1) : JOB_BUSY;
    PQclear(res);
    return out;
}

static enum job_write conditional(PGconn *c, const char *sql, int n, const char *const *p)
{
    PGresult *res = db_query(c, sql, n, p);
    enum job_write w;

    if (!res)
        return JOB_WRITE_DB;
    w = strcmp(PQcmdTuples(res), "1") == 0 ? JOB_WRITE_OK : JOB_WRITE_LOST;
    PQclear(res);
    return w;
}

enum job_write job_heartbeat(PGconn *c, const struct job_run *r, const char *stage, long done, long total)
{
    static const char sql[] =
        "UPDATE ingestion_runs SET updated_at = now(),"
        " stats = stats || jsonb_build_object('progress', jsonb_build_object("
        "   'stage', $4::text, 'done', $5::bigint, 'total', $6::bigint))"
        " WHERE run_id = $1 AND tenant_id = $2 AND status = 'running' AND attempt = $3::int";
    char attempt[16], sdone[24], stotal[24];
    const char *p[6];

    snprintf(attempt, sizeof(attempt), "%d", r->attempt);
    snprintf(sdone, sizeof(sdone), "%ld", done);
    snprintf(stotal, sizeof(stotal), "%ld", total);
    p[0] = r->run_id;
    p[1] = r->tenant_id;
    p[2] = attempt;
    p[3] = stage;
    p[4] = sdone;
    p[5] = stotal;
    return conditional(c, sql, 6, p);
}

void job_error_text(enum run_fail code, const char *detail, char *out, size_t outlen)
{
    size_t n;

    snprintf(out, outlen, "%s: %s", run_fail_code(code), detail && *detail ? detail : "no detail");
    /* Keep it one line; it is shown in the UI and the logs. */
    for (n = 0; out[n]; n++)
        if (out[n] == '\n' || out[n] == '\r')
            out[n] = ' ';
}

/* An UPDATE of a run this attempt owns ($1 run, $2 tenant, $3 attempt) with $4 = "<code>: <detail>". */
static enum job_write owned_update(PGconn *c, const char *sql, const struct job_run *r, enum run_fail code,
                                   const char *detail)
{
    char attempt[16], text[512];
    const char *p[4];

    snprintf(attempt, sizeof(attempt), "%d", r->attempt);
    job_error_text(code, detail, text, sizeof(text));
    p[0] = r->run_id;
    p[1] = r->tenant_id;
    p[2] = attempt;
    p[3] = text;
    return conditional(c, sql, 4, p);
}

enum job_write job_fail(PGconn *c, const struct job_run *r, enum run_fail code, const char *detail)
{
    return owned_update(c,
        "UPDATE ingestion_runs SET status = 'failed', finished_at = now(), updated_at = now(), error = $4,"
        " stats = stats || jsonb_build_object('progress', jsonb_build_object('stage', 'failed'))"
        " WHERE run_id = $1 AND tenant_id = $2 AND status = 'running' AND attempt = $3::int",
        r, code, detail);
}

enum job_write job_requeue(PGconn *c, const struct job_run *r, enum run_fail code, const char *detail)
{
    return owned_update(c,
        "UPDATE ingestion_runs SET status = 'queued', updated_at = now(),"
        " stats = stats || jsonb_build_object('last_error', $4::text,"
        "   'progress', jsonb_build_object('stage', 'retry_wait'))"
        " WHERE run_id = $1 AND tenant_id = $2 AND status = 'running' AND attempt = $3::int",
        r, code, detail);
}
