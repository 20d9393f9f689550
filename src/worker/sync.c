/*
 * sync.c - the source_sync job (sync.h): lock, claim, list page by page,
 * one decision per object, the removals once the listing is complete, the
 * counts, unlock.
 */
#include "worker/sync.h"

#include "common/db.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/s3.h"
#include "worker/s3_source.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYNC_MAX_PAGES 10000            /* 10 million keys at 1000 a page */
#define SYNC_DB_RETRY_S 5
#define SYNC_LOCK_KEY "hashtextextended('source_sync:' || $1, 0)"

enum sync_count { C_LISTED, C_NEW, C_CHANGED, C_REMOVED, C_UNCHANGED, C_FAILED, C_IGNORED, C__COUNT };
static const char *const count_names[C__COUNT] = {"listed", "new", "changed", "removed", "unchanged", "failed",
                                                  "ignored"};

struct sync {
    const struct pipeline_env *env;
    const struct job_msg *msg;
    PGconn *c;
    char bucket[64];
    char *prefix, *endpoint, *region, *credentials_ref;
    json_t *include, *exclude;          /* arrays of glob strings */
    struct s3_client *s3;
    long long n[C__COUNT];
    int db_failed;                      /* a statement failed: release the message for a retry */
    char error[512];                    /* the sync's failure, "" while it goes well */
};

static int db_fail(struct sync *s)
{
    s->db_failed = 1;
    return -1;
}

/* Lock the source for this session; 1 taken, 0 busy, -1 database trouble. */
static int sync_lock(struct sync *s, int take)
{
    const char *params[1] = {s->msg->source_id};
    PGresult *res = db_query(s->c, take ? "SELECT pg_try_advisory_lock(" SYNC_LOCK_KEY ")"
                                        : "SELECT pg_advisory_unlock(" SYNC_LOCK_KEY ")", 1, params);
    int rc = res ? strcmp(PQgetvalue(res, 0, 0), "t") == 0 : -1;

    PQclear(res);
    return rc;
}

/* queued (or running, taken over under the lock) -> running; 1 claimed, 0 not ours (terminal, gone), -1 db. */
static int sync_claim(struct sync *s)
{
    const char *params[1] = {s->msg->sync_id};
    PGresult *res = db_query(s->c,
                             "UPDATE source_syncs SET status = 'running', updated_at = now(),"
                             " started_at = coalesce(started_at, now())"
                             " WHERE sync_id = $1 AND status IN ('queued', 'running') RETURNING sync_id",
                             1, params);
    int rc = res ? PQntuples(res) == 1 : -1;

    PQclear(res);
    return rc;
}

/* The source's settings into s; 0, 1 when the source is gone, -1 on database trouble. */
static int sync_load(struct sync *s)
{
    const char *params[1] = {s->msg->source_id};
    PGresult *res = db_query(s->c,
                             "SELECT bucket, prefix, endpoint, region, credentials_ref, to_json(include_globs)::text,"
                             " to_json(exclude_globs)::text FROM sources WHERE source_id = $1",
                             1, params);
    int rc = -1;

    if (!res)
        return db_fail(s);
    if (PQntuples(res) == 1) {
        snprintf(s->bucket, sizeof(s->bucket), "%s", PQgetvalue(res, 0, 0));
        s->prefix = strdup(PQgetvalue(res, 0, 1));
        s->endpoint = strdup(PQgetvalue(res, 0, 2));
        s->region = strdup(PQgetvalue(res, 0, 3));
        s->credentials_ref = strdup(PQgetvalue(res, 0, 4));
        s->include = json_loads(PQgetvalue(res, 0, 5), 0, NULL);
        s->exclude = json_loads(PQgetvalue(res, 0, 6), 0, NULL);
        rc = s->prefix && s->endpoint && s->region && s->credentials_ref && s->include && s->exclude ? 0 : -1;
        if (rc < 0)
            snprintf(s->error, sizeof(s->error), "internal: out of memory");
    } else {
        rc = 1;
    }
    PQclear(res);
    return rc;
}

/* 1 if key (relative to the prefix) matches one of the globs of arr. */
static int glob_any(json_t *arr, const char *rel)
{
    size_t i;
    json_t *g;

    json_array_foreach(arr, i, g) {
        if (fnmatch(json_string_value(g), rel, 0) == 0)
            return 1;
    }
    return 0;
}

/* Folder markers and keys the globs leave out are not synced. */
static int wanted(const struct sync *s, const char *key)
{
    const char *rel = key + (strncmp(key, s->prefix, strlen(s->prefix)) == 0 ? strlen(s->prefix) : 0);
    size_t n = strlen(key);

    if (n == 0 || key[n - 1] == '/')
        return 0;
    if (json_array_size(s->include) > 0 && !glob_any(s->include, rel))
        return 0;
    return !glob_any(s->exclude, rel);
}

/* Publish the ingest message of a new run; 0 or -1. */
static int publish_ingest(struct sync *s, const char *run_id, const char *doc_id, const char *uri, const char *title)
{
    struct job_msg m;
    char code[64];

    memset(&m, 0, sizeof(m));
    snprintf(m.run_id, sizeof(m.run_id), "%s", run_id);
    snprintf(m.tenant_id, sizeof(m.tenant_id), "%s", s->msg->tenant_id);
    snprintf(m.doc_id, sizeof(m.doc_id), "%s", doc_id);
    m.source_uri = uri;
    m.upload_uri = uri;
    m.title = title;
    if (job_msg_send(s->env->sqs, s->env->cfg->sqs_queue_url, &m, code, sizeof(code)) == 0)
        return 0;
    log_event(LOG_WARN, "source sync: publish failed (the crash guard re-publishes the queued run)",
              json_pack("{s:s,s:s}", "run_id", run_id, "code", code));
    return -1;
}

/* The queued run and document of a new or changed object and its memory row, in one transaction. */
static int enqueue_tx(struct sync *s, const struct s3_object *o, const char *uri, const char *title,
                      const char *run_id, char *doc_id)
{
    char size[24];
    json_t *cfgj = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "source_id", s->msg->source_id, "sync_id",
                             s->msg->sync_id, "key", o->key, "etag", o->etag, "upload_uri", uri, "title", title);
    char *config = cfgj ? json_dumps(cfgj, JSON_COMPACT) : NULL;
    const char *p1[4] = {run_id, uri, title, config};
    const char *p2[9] = {s->msg->source_id, s->msg->tenant_id, o->key, o->etag, size, o->last_modified, NULL,
                         run_id, s->msg->sync_id};
    PGresult *res = NULL;
    int rc = -1;

    snprintf(size, sizeof(size), "%lld", o->size);
    if (!config || db_tx_begin(s->c) < 0)
        goto out;
    res = db_query(s->c, "SELECT source_object_run($1, $2, $3, $4::jsonb)", 4, p1);
    if (!res || PQntuples(res) != 1)
        goto out;
    snprintf(doc_id, ID_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
    p2[6] = doc_id;
    if (db_exec(s->c,
                "INSERT INTO source_objects (source_id, tenant_id, key, etag, size, last_modified, doc_id, run_id,"
                " seen_sync_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                " ON CONFLICT (source_id, key) DO UPDATE SET etag = $4, size = $5, last_modified = $6, doc_id = $7,"
                " run_id = $8, seen_sync_id = $9, removed_at = NULL",
                9, p2) < 0)
        goto out;
    rc = db_tx_commit(s->c);
out:
    if (rc < 0)
        db_tx_rollback(s->c);
    PQclear(res);
    json_decref(cfgj);
    free(config);
    return rc;
}

/* A new or changed object: run, memory, message. 0, or -1 on database trouble. */
static int enqueue_object(struct sync *s, const struct s3_object *o, enum sync_count kind)
{
    char run_id[ID_UUID_LEN + 1], doc_id[ID_UUID_LEN + 1];
    const char *base = strrchr(o->key, '/');
    char *uri = s3_uri(s->bucket, o->key);
    int rc = -1;

    id_uuid_new(run_id);
    if (uri && enqueue_tx(s, o, uri, base ? base + 1 : o->key, run_id, doc_id) == 0) {
        rc = 0;
        s->n[publish_ingest(s, run_id, doc_id, uri, base ? base + 1 : o->key) == 0 ? kind : C_FAILED]++;
    }
    free(uri);
    return rc < 0 ? db_fail(s) : 0;
}

/* One listed object: compare with what the last sync saw. 0, or -1 on database trouble. */
static int sync_object(struct sync *s, const struct s3_object *o)
{
    char size[24];
    const char *params[3] = {s->msg->source_id, o->key, s->msg->sync_id};
    PGresult *res;
    int same, known;

    snprintf(size, sizeof(size), "%lld", o->size);
    res = db_query(s->c,
                   "SELECT etag, size::text, last_modified, removed_at IS NULL FROM source_objects"
                   " WHERE source_id = $1 AND key = $2",
                   2, params);
    if (!res)
        return db_fail(s);
    known = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 3), "t") == 0;
    same = known && strcmp(PQgetvalue(res, 0, 0), o->etag) == 0 && strcmp(PQgetvalue(res, 0, 1), size) == 0 &&
           strcmp(PQgetvalue(res, 0, 2), o->last_modified) == 0;
    PQclear(res);
    if (!same)
        return enqueue_object(s, o, known ? C_CHANGED : C_NEW);
    s->n[C_UNCHANGED]++;
    if (db_exec(s->c, "UPDATE source_objects SET seen_sync_id = $3 WHERE source_id = $1 AND key = $2", 3,
                params) < 0)
        return db_fail(s);
    return 0;
}

/* One listed object (s3_list_each): 0 to go on, nonzero to stop (shutdown, database trouble). */
static int on_object(void *ctx, const struct s3_object *o)
{
    struct sync *s = ctx;

    if (s->env->hooks.should_stop && s->env->hooks.should_stop(s->env->hooks.hook))
        return db_fail(s);   /* shutdown: the message comes back and the sync resumes */
    s->n[C_LISTED]++;
    if (!wanted(s, o->key)) {
        s->n[C_IGNORED]++;
        return 0;
    }
    return sync_object(s, o);
}

/* The whole listing; 0 when complete, -1 with s->error or s->db_failed. */
static int sync_list(struct sync *s)
{
    struct s3_error e;
    int rc = s3_list_each(s->s3, s->bucket, s->prefix, SYNC_MAX_PAGES, on_object, s, &e);

    if (rc < 0)
        snprintf(s->error, sizeof(s->error), "s3_error: %s: %s", e.code, e.message);
    return rc == 0 ? 0 : -1;
}

/* Objects the complete listing no longer has: their documents deactivated. 0 or -1. */
static int sync_removals(struct sync *s)
{
    const char *params[2] = {s->msg->source_id, s->msg->sync_id};
    PGresult *res = db_query(s->c,
                             "SELECT key, doc_id FROM source_objects WHERE source_id = $1 AND removed_at IS NULL"
                             " AND seen_sync_id IS DISTINCT FROM $2",
                             2, params);
    int rc = 0;

    if (!res)
        return db_fail(s);
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        const char *p1[1] = {db_val(res, i, 1)};
        const char *p2[2] = {s->msg->source_id, PQgetvalue(res, i, 0)};

        if (db_tx_begin(s->c) < 0 || (p1[0] && db_exec(s->c, "SELECT source_object_removed($1)", 1, p1) < 0) ||
            db_exec(s->c, "UPDATE source_objects SET removed_at = now() WHERE source_id = $1 AND key = $2", 2,
                    p2) < 0 ||
            db_tx_commit(s->c) < 0) {
            db_tx_rollback(s->c);
            rc = db_fail(s);
        } else {
            s->n[C_REMOVED]++;
        }
    }
    PQclear(res);
    return rc;
}

/* The sync row's end: succeeded or failed with the counts. 0 or -1. */
static int sync_finish(struct sync *s)
{
    json_t *stats = json_object();
    char *text;
    const char *params[4];
    int rc;

    for (int i = 0; i < C__COUNT; i++)
        json_object_set_new(stats, count_names[i], json_integer(s->n[i]));
    text = json_dumps(stats, JSON_COMPACT);
    json_decref(stats);
    params[0] = s->msg->sync_id;
    params[1] = s->error[0] ? "failed" : "succeeded";
    params[2] = text ? text : "{}";
    params[3] = s->error[0] ? s->error : NULL;
    rc = db_exec(s->c,
                 "UPDATE source_syncs SET status = $2, stats = $3::jsonb, error = $4, finished_at = now(),"
                 " updated_at = now() WHERE sync_id = $1 AND status = 'running'",
                 4, params);
    log_event(s->error[0] ? LOG_WARN : LOG_INFO, "source sync finished",
              json_pack("{s:s,s:s,s:s,s:o?,s:s?}", "sync_id", s->msg->sync_id, "source_id", s->msg->source_id,
                        "status", params[1], "stats", text ? json_loads(text, 0, NULL) : NULL, "error", params[3]));
    free(text);
    return rc;
}

/* Claimed and locked: load, list, remove, finish. */
static void sync_body(struct sync *s)
{
    int loaded = sync_load(s);

    if (loaded == 1 || loaded < 0)
        return;   /* gone (its sync row went with it) or database trouble */
    s->s3 = s3_source_client(s->env->cfg, s->endpoint, s->region, s->credentials_ref, s->error, sizeof(s->error));
    if (!s->s3) {
        char why[sizeof(s->error)];

        snprintf(why, sizeof(why), "%s", s->error);
        snprintf(s->error, sizeof(s->error), "s3_error: %.400s", why);
    }
    if (s->s3 && sync_list(s) == 0)
        (void)sync_removals(s);
    if (!s->db_failed && sync_finish(s) < 0)
        s->db_failed = 1;
}

static void sync_release(struct sync *s)
{
    s3_free(&s->s3);
    free(s->prefix);
    free(s->endpoint);
    free(s->region);
    free(s->credentials_ref);
    json_decref(s->include);
    json_decref(s->exclude);
}

/* The lock was taken by another session: this delivery's sync row, if still queued, is coalesced. */
static void sync_busy(struct sync *s)
{
    const char *params[1] = {s->msg->sync_id};

    (void)db_exec(s->c,
                  "UPDATE source_syncs SET status = 'failed', finished_at = now(), updated_at = now(),"
                  " error = 'sync_busy: another sync of this source was running' WHERE sync_id = $1"
                  " AND status = 'queued'",
                  1, params);
    log_event(LOG_INFO, "source sync coalesced: the source is locked by another sync",
              json_pack("{s:s,s:s}", "sync_id", s->msg->sync_id, "source_id", s->msg->source_id));
}

void sync_process(const struct pipeline_env *env, struct arena *a, const struct job_msg *msg,
                  struct pipeline_result *out)
{
    struct sync s;
    int locked = 0, claimed = 0;

    (void)a;
    memset(&s, 0, sizeof(s));
    s.env = env;
    s.msg = msg;
    snprintf(out->run_id, sizeof(out->run_id), "%s", msg->sync_id);
    if (db_ensure(env->conn, env->cfg->database_url, DB_ROLE_WORKER) < 0 ||
        db_set_tenant(*env->conn, msg->tenant_id) < 0) {
        s.db_failed = 1;
        goto out;
    }
    s.c = *env->conn;
    locked = sync_lock(&s, 1);
    if (locked == 0)
        sync_busy(&s);
    claimed = locked == 1 ? sync_claim(&s) : 0;
    if (locked < 0 || claimed < 0)
        s.db_failed = 1;
    if (claimed == 1)
        sync_body(&s);
    if (locked == 1 && sync_lock(&s, 0) < 0)
        db_close(env->conn);   /* a lock we cannot release must not outlive the job: drop the session */
out:
    sync_release(&s);
    if (*env->conn && PQstatus(*env->conn) == CONNECTION_OK && db_set_tenant(*env->conn, NULL) < 0)
        db_close(env->conn);
    out->action = s.db_failed ? PIPE_ACT_RELEASE : PIPE_ACT_DELETE;
    out->visibility_s = s.db_failed ? SYNC_DB_RETRY_S : 0;
    out->outcome = s.db_failed ? "sync_retry" : claimed == 1 ? (s.error[0] ? "sync_failed" : "sync_done") : "sync_skip";
}
