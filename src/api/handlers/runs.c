/*
 * runs.c - GET /v1/ingestion-runs/:run_id and GET /v1/ingestion-runs (spec 5).
 *
 * Every query is confined to the caller's tenant (r->principal), so another
 * tenant's run answers 404 exactly like a missing one. The Run object is built
 * by PostgreSQL (json_build_object), so config and stats stay JSON objects and
 * times are formatted once, in UTC, the same way for every endpoint.
 *
 * GET one run is also a long poll (?wait=SECONDS, with If-None-Match or
 * ?since=<updated_at>): it answers at once when the run differs from what the
 * caller has, else when a NOTIFY says it changed (common/watch.h), else when
 * the wait ends (304 for If-None-Match, 200 with the same run for since).
 * The list is a long poll too (?wait= with If-None-Match or ?since=<version>,
 * the list's ETag): woken by any run change of the tenant.
 */
#include "api/handlers/runs.h"

#include "api/handlers/params.h"
#include "api/handlers/rows.h"
#include "common/db.h"
#include "common/memo.h"
#include "common/run_state.h"
#include "common/timeutil.h"
#include "common/watch.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS_LIMIT_DEFAULT 20
/* The message of a statement error that is the request's fault (req_db_error). */
#define RUNS_DB_WHAT "invalid run request"


/*
 * config keeps upload_uri (file:// + the absolute path) for the crash guard's
 * re-publication; users see upload_key instead, the upload's place inside the
 * store (common/upload_path.h: <tenant_id>/<run_id>/<name>), never a server path.
 */
#define RUN_CONFIG_JSON                                                                              \
    "(config - 'upload_uri') || CASE WHEN config ? 'upload_uri' THEN jsonb_build_object('upload_key'," \
    " tenant_id::text || '/' || run_id::text || '/' || regexp_replace(config->>'upload_uri', '^.*/', ''))" \
    " ELSE '{}'::jsonb END"

#define RUN_JSON                                                                                     \
    "json_build_object('run_id', run_id, 'doc_id', doc_id, 'status', status,"                       \
    " 'created_at', " DB_TS("created_at") ", 'updated_at', " DB_TS("updated_at") ","                       \
    " 'started_at', " DB_TS("started_at") ", 'finished_at', " DB_TS("finished_at") ","                     \
    " 'attempt', attempt, 'content_hash', content_hash,"                                             \
    " 'config', " RUN_CONFIG_JSON ", 'stats', stats, 'error', error,"                                 \
    " 'uploaded_by', (SELECT u.email FROM users u WHERE u.tenant_id = ingestion_runs.tenant_id"         \
    "     AND u.user_id::text = ingestion_runs.config->>'created_by_user_id'),"                           \
    " 'document_title', (SELECT d.title FROM documents d WHERE d.doc_id = ingestion_runs.doc_id"        \
    "     AND d.tenant_id = ingestion_runs.tenant_id))::text"

static const char *const run_statuses[] = {
#define X(name, str) str,
    RUN_STATUS_MAP(X)
#undef X
};

/* The run and its updated_at ($1 run_id, $2 tenant_id), prepared on each pooled connection. */
static struct db_stmt run_stmt = {
    "SELECT " RUN_JSON ", " DB_TS("updated_at") " FROM ingestion_runs WHERE run_id = $1 AND tenant_id = $2", 0};

/* What the caller of a long poll already has: the ETag it sent and/or the updated_at. */
struct run_poll {
    const char *id;
    const char *if_none_match;   /* NULL: none */
    const char *since;           /* NULL: none */
    long long wait_s;            /* -1: no ?wait= */
    char key[WATCH_KEY_MAX];     /* "<tenant_id>/<run_id>", lower case, as the NOTIFY names it */
    char etag[24];               /* of the last read: W/"<16 hex>" */
};

/* One read of the run: its JSON text and its updated_at, both in the request's arena. */
struct run_read {
    const char *json;
    const char *updated_at;
};

/* ETag of a run's JSON text: FNV-1a 64 of its bytes (changes whenever any field does). */
static void run_etag(const char *json, char *out, size_t n)
{
    uint64_t h = 1469598103934665603ull;

    for (const unsigned char *p = (const unsigned char *)json; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    snprintf(out, n, "W/\"%016llx\"", (unsigned long long)h);
}

/* ?wait= (-1 when absent), If-None-Match and ?since= of a long poll. 0, or -1 after answering 400. */
static int wait_parse(struct req *r, long long *wait_s, const char **if_none_match, const char **since)
{
    const char *wait;
    long long max_s = r->app->cfg ? r->app->cfg->run_wait_max_ms / 1000 : 0;
    char msg[96];

    *wait_s = -1;
    *if_none_match = req_header(r, "If-None-Match");
    if (params_query(r, "wait", &wait) < 0 || params_query(r, "since", since) < 0)
        return -1;
    if (wait && params_uint(wait, max_s, wait_s) < 0) {
        snprintf(msg, sizeof(msg), "wait must be a whole number of seconds from 0 to %lld", max_s);
        req_error(r, API_ERR_BAD_REQUEST, msg);
        return -1;
    }
    return 0;
}

/* ?wait=, If-None-Match and ?since= into *p. 0, or -1 after answering 400. */
static int poll_parse(struct req *r, struct run_poll *p)
{
    if (wait_parse(r, &p->wait_s, &p->if_none_match, &p->since) < 0)
        return -1;
    snprintf(p->key, sizeof(p->key), "%s/%s", r->principal.tenant_id, p->id);
    for (char *c = p->key; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return 0;
}

/* 1 if the run read (its JSON's ETag in p->etag) is what the caller already has. */
static int poll_unchanged(const struct run_poll *p, const struct run_read *rd)
{
    if (!p->if_none_match && !p->since)
        return 0;   /* nothing to compare with: any state is news */
    if (p->if_none_match && strcmp(p->if_none_match, p->etag) != 0 && strcmp(p->if_none_match, "*") != 0)
        return 0;
    if (p->since && (!rd->updated_at || strcmp(p->since, rd->updated_at) != 0))
        return 0;
    return 1;
}

/*
 * The run from the read cache (r->app->run_reads, "<updated_at>\t<json>"),
 * forgotten by the run_changed NOTIFY: 1 on a hit, 0 on a miss.
 */
static int run_cached(struct req *r, const struct run_poll *p, struct run_read *rd)
{
    char small[2048], *buf = small, *tab;
    size_t len = 0;
    int hit = memo_get(r->app->run_reads, p->key, time_now_ms(), small, sizeof(small), &len, NULL);

    /* Most runs fit the stack buffer; a larger one is copied again into the arena. */
    if (!hit && len >= sizeof(small)) {
        buf = arena_alloc(&r->arena, len + 1);
        hit = buf && memo_get(r->app->run_reads, p->key, time_now_ms(), buf, len + 1, NULL, NULL);
    }
    if (!hit)
        return 0;
    tab = strchr(buf, '\t');
    if (!tab)
        return 0;
    *tab = '\0';
    rd->updated_at = arena_strdup(&r->arena, buf);
    rd->json = arena_strdup(&r->arena, tab + 1);
    return rd->updated_at && rd->json;
}

/* The run from the database, put in the read cache. 0, or -1 after answering (404, database error). */
static int run_fetch(struct req *r, const struct run_poll *p, struct run_read *rd)
{
    const char *params[2] = {p->id, r->principal.tenant_id};
    uint64_t gen = memo_gen(r->app->run_reads, p->key);
    PGconn *db = req_db(r);
    PGresult *res;
    char *v;

    if (!db)
        return -1;
    res = arena_pg(&r->arena, db_query_prepared(db, &run_stmt, 2, params));
    if (!res) {
        req_db_error(r, RUNS_DB_WHAT);
        return -1;
    }
    if (PQntuples(res) != 1) {
        req_error(r, API_ERR_NOT_FOUND, "run not found");
        return -1;
    }
    rd->json = PQgetvalue(res, 0, 0);
    rd->updated_at = PQgetvalue(res, 0, 1);
    v = arena_printf(&r->arena, "%s\t%s", rd->updated_at, rd->json);
    if (v)
        memo_put(r->app->run_reads, gen, p->key, NULL, v, strlen(v) + 1, 0, time_now_ms(), INT64_MAX);
    return 0;
}

/*
 * One fill at a time per stripe of keys: when a change wakes 1,000 long polls
 * of one run, the first reads the database and the others find its answer in
 * the cache, instead of 1,000 reads of the same row.
 */
#define RUN_FILL_STRIPES 64
static pthread_mutex_t fill_locks[RUN_FILL_STRIPES] = {
#define L4 PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER
    L4, L4, L4, L4, L4, L4, L4, L4, L4, L4, L4, L4, L4, L4, L4, L4,
#undef L4
};

static pthread_mutex_t *fill_lock(const char *key)
{
    unsigned h = 0;

    for (const unsigned char *c = (const unsigned char *)key; *c; c++)
        h = h * 31u + *c;
    return &fill_locks[h % RUN_FILL_STRIPES];
}

/* Read the run (cache, else database) into *rd and its ETag. 0, or -1 after answering. */
static int run_read(struct req *r, struct run_poll *p, struct run_read *rd)
{
    pthread_mutex_t *mu;
    int rc = 0;

    if (!run_cached(r, p, rd)) {
        /* Without a cache there is nothing to share: no lock. */
        mu = r->app->run_reads ? fill_lock(p->key) : NULL;
        if (mu)
            pthread_mutex_lock(mu);
        if (!mu || !run_cached(r, p, rd))
            rc = run_fetch(r, p, rd);
        if (mu)
            pthread_mutex_unlock(mu);
    }
    if (rc < 0)
        return -1;
    run_etag(rd->json, p->etag, sizeof(p->etag));
    return 0;
}

/* Answer the run read: 304 when the caller's ETag still matches, else 200 with it. */
static void run_answer(struct req *r, const struct run_poll *p, const struct run_read *rd)
{
    req_set_header(r, "ETag", p->etag);
    req_set_header(r, "Cache-Control", "no-cache");
    if (p->if_none_match && poll_unchanged(p, rd)) {
        req_raw(r, 304, NULL, NULL, 0);
        return;
    }
    /* The text PostgreSQL built, as it is: no parse and print again. */
    req_raw(r, 200, "application/json", rd->json, strlen(rd->json));
}

/*
 * The long poll: read, and while the run is what the caller has, give the
 * connection back and sleep until a NOTIFY names the run (listener.c) or the
 * wait ends; then read again. Registered before the first read, so a change
 * between a read and the sleep is not missed.
 */
static void run_poll(struct req *r, struct run_poll *p)
{
    int64_t deadline = time_mono_ms() + p->wait_s * 1000;
    struct watch_waiter w;
    struct run_read rd;
    int waiting = p->wait_s > 0 && r->app->runs;

    if (waiting)
        watch_add(r->app->runs, &w, p->key);
    for (;;) {
        if (run_read(r, p, &rd) < 0)
            break;
        if (!waiting || !poll_unchanged(p, &rd) || time_mono_ms() >= deadline) {
            run_answer(r, p, &rd);
            break;
        }
        /* No connection held while nothing happens: 1,000 watchers cost the database nothing. */
        req_db_release(r);
        if (!watch_wait(r->app->runs, &w, deadline)) {
            run_answer(r, p, &rd);
            break;
        }
        watch_rearm(r->app->runs, &w);
    }
    if (waiting)
        watch_remove(r->app->runs, &w);
}

void runs_get(struct req *r)
{
    struct run_poll p;

    memset(&p, 0, sizeof(p));
    /* Not a UUID cannot be a run of this tenant: the same 404 as a missing one. */
    p.id = params_id(r, 0, "run not found");
    if (!p.id || poll_parse(r, &p) < 0)
        return;
    run_poll(r, &p);
}

/* The status filter (NULL: every status) into *status; -1 after answering 400. */
static int status_filter(struct req *r, const char **status)
{
    if (params_query(r, "status", status) < 0)
        return -1;
    for (size_t i = 0; *status && i < sizeof(run_statuses) / sizeof(run_statuses[0]); i++)
        if (strcmp(*status, run_statuses[i]) == 0)
            return 0;
    if (*status) {
        req_error(r, API_ERR_BAD_REQUEST, "status must be one of queued, running, succeeded, failed, skipped");
        return -1;
    }
    return 0;
}

/* mine=true: only the caller's uploads (the upload screen's list); *mine the user id, or NULL. -1 after 400. */
static int mine_filter(struct req *r, const char **mine)
{
    const char *q;

    *mine = NULL;
    if (params_query(r, "mine", &q) < 0)
        return -1;
    if (q && strcmp(q, "true") != 0 && strcmp(q, "false") != 0) {
        req_error(r, API_ERR_BAD_REQUEST, "mine must be true or false");
        return -1;
    }
    if (q && strcmp(q, "true") == 0)
        *mine = r->principal.user_id;
    return 0;
}

/* With mine=true, total counts the caller's runs (of the status filter). -1 after answering. */
static int runs_mine_total(struct req *r, const char *const *params, json_t *body)
{
    const char *p[3] = {params[0], params[1], params[4]};
    PGresult *res = rows_query(r,
                               "SELECT count(*) FROM ingestion_runs WHERE tenant_id = $1"
                               " AND ($2::text IS NULL OR status = $2) AND config->>'created_by_user_id' = $3",
                               3, p, RUNS_DB_WHAT);

    if (!res)
        return -1;
    json_object_set_new(body, "total", json_integer(strtoll(PQgetvalue(res, 0, 0), NULL, 10)));
    return 0;
}

/* What a list read asks: its filters, and what the caller of a list long poll already has. */
struct list_poll {
    struct params_page page;
    const char *status;          /* NULL: every status */
    const char *mine;            /* the caller's user id with mine=true, else NULL */
    const char *if_none_match;   /* NULL: none */
    const char *since;           /* the list's "version" the caller has; NULL: none */
    long long wait_s;            /* -1: no ?wait= */
    char key[WATCH_KEY_MAX];     /* "<tenant_id>", lower case: the listener fires it for any run of the tenant */
    char etag[24];               /* of the last read */
    const char *text;            /* the last read's JSON, in the arena */
};

/* Filters, ?wait=, If-None-Match and ?since= of a list into *q. 0, or -1 after answering 400. */
static int list_parse(struct req *r, struct list_poll *q)
{
    if (params_page(r, RUNS_LIMIT_DEFAULT, &q->page) < 0 || status_filter(r, &q->status) < 0 ||
        mine_filter(r, &q->mine) < 0 || wait_parse(r, &q->wait_s, &q->if_none_match, &q->since) < 0)
        return -1;
    snprintf(q->key, sizeof(q->key), "%s", r->principal.tenant_id);
    for (char *c = q->key; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return 0;
}

/* The list's body without its version: runs, total, limit, offset, counts. NULL after answering. */
static json_t *list_body(struct req *r, const struct list_poll *q)
{
    char limit_s[24], offset_s[24];
    const char *params[5];
    PGresult *res;
    json_t *body, *runs, *counts;

    snprintf(limit_s, sizeof(limit_s), "%lld", q->page.limit);
    snprintf(offset_s, sizeof(offset_s), "%lld", q->page.offset);
    params[0] = r->principal.tenant_id;
    params[1] = q->status;
    params[2] = limit_s;
    params[3] = offset_s;
    params[4] = q->mine;

    body = arena_json(&r->arena, json_object());
    runs = json_array();
    counts = json_object();
    json_object_set_new(body, "runs", runs);
    json_object_set_new(body, "total", json_integer(0));
    json_object_set_new(body, "limit", json_integer(q->page.limit));
    json_object_set_new(body, "offset", json_integer(q->page.offset));
    json_object_set_new(body, "counts", counts);
    for (size_t i = 0; i < sizeof(run_statuses) / sizeof(run_statuses[0]); i++)
        json_object_set_new(counts, run_statuses[i], json_integer(0));

    res = rows_query(r,
                     "SELECT " RUN_JSON " FROM ingestion_runs"
                     " WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)"
                     "   AND ($5::text IS NULL OR config->>'created_by_user_id' = $5)"
                     " ORDER BY created_at DESC, run_id DESC LIMIT $3::bigint OFFSET $4::bigint",
                     5, params, RUNS_DB_WHAT);
    if (!res)
        return NULL;
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *run = json_loads(PQgetvalue(res, i, 0), 0, NULL);

        if (!run) {
            req_error(r, API_ERR_INTERNAL, "internal error");
            return NULL;
        }
        json_array_append_new(runs, run);
    }
    /* Counts by status over the whole tenant; total is the filtered count. */
    res = rows_query(r, "SELECT status, count(*) FROM ingestion_runs WHERE tenant_id = $1 GROUP BY status",
                     1, params, RUNS_DB_WHAT);
    if (!res)
        return NULL;
    {
        long long total = 0;

        for (int i = 0; i < PQntuples(res); i++) {
            long long c = strtoll(PQgetvalue(res, i, 1), NULL, 10);

            json_object_set_new(counts, PQgetvalue(res, i, 0), json_integer(c));
            if (!q->status || strcmp(q->status, PQgetvalue(res, i, 0)) == 0)
                total += c;
        }
        json_object_set_new(body, "total", json_integer(total));
    }
    if (q->mine && runs_mine_total(r, params, body) < 0)
        return NULL;
    return body;
}

/* The list read from the database into q->text and q->etag. 0, or -1 after answering. */
static int list_fetch(struct req *r, struct list_poll *q)
{
    json_t *body = list_body(r, q);
    char *text;

    if (!body)
        return -1;
    text = json_dumps(body, JSON_COMPACT);
    if (text) {
        /* The version is the ETag of everything else in the list. */
        run_etag(text, q->etag, sizeof(q->etag));
        free(text);
        json_object_set_new(body, "version", json_string(q->etag));
        text = json_dumps(body, JSON_COMPACT);
    }
    q->text = text ? arena_strdup(&r->arena, text) : NULL;
    free(text);
    if (!q->text) {
        req_error(r, API_ERR_INTERNAL, "out of memory");
        return -1;
    }
    return 0;
}

/* The page from the list cache ("<etag>\t<json>") into q->etag and q->text: 1 on a hit. */
static int list_cached(struct req *r, const char *key, struct list_poll *q)
{
    char small[4096], *buf = small, *tab;
    size_t len = 0;
    int hit = memo_get(r->app->list_reads, key, time_now_ms(), small, sizeof(small), &len, NULL);

    if (!hit && len >= sizeof(small)) {
        buf = arena_alloc(&r->arena, len + 1);
        hit = buf && memo_get(r->app->list_reads, key, time_now_ms(), buf, len + 1, NULL, NULL);
    }
    tab = hit ? strchr(buf, '\t') : NULL;
    if (!tab || (size_t)(tab - buf) >= sizeof(q->etag))
        return 0;
    memcpy(q->etag, buf, (size_t)(tab - buf));
    q->etag[tab - buf] = '\0';
    q->text = arena_strdup(&r->arena, tab + 1);
    return q->text != NULL;
}

/*
 * The list into q->text with its "version" (the ETag of everything else in
 * it, also in q->etag): from the list cache when the page is there (every
 * page but mine=true), else read by one of the requests that want it while
 * the others wait for its answer (a change wakes every open runs page of the
 * tenant at once). 0, or -1 after answering.
 */
static int list_read(struct req *r, struct list_poll *q)
{
    char key[MEMO_KEY_MAX], *v;
    pthread_mutex_t *mu;
    uint64_t gen;
    int rc = 0, n;

    n = snprintf(key, sizeof(key), "%s|%s|%lld|%lld", q->key, q->status ? q->status : "", q->page.limit,
                 q->page.offset);
    /* Never a cut key: two pages would share it. */
    if (!r->app->list_reads || q->mine || n < 0 || (size_t)n >= sizeof(key))
        return list_fetch(r, q);
    if (list_cached(r, key, q))
        return 0;
    mu = fill_lock(key);
    pthread_mutex_lock(mu);
    if (!list_cached(r, key, q)) {
        gen = memo_gen(r->app->list_reads, key);
        rc = list_fetch(r, q);
        v = rc == 0 ? arena_printf(&r->arena, "%s\t%s", q->etag, q->text) : NULL;
        if (v)
            memo_put(r->app->list_reads, gen, key, q->key, v, strlen(v) + 1, 0, time_now_ms(), INT64_MAX);
    }
    pthread_mutex_unlock(mu);
    return rc;
}

/* 1 if the list read (its ETag in q->etag) is what the caller already has. */
static int list_unchanged(const struct list_poll *q)
{
    if (!q->if_none_match && !q->since)
        return 0;   /* nothing to compare with: any state is news */
    if (q->if_none_match && strcmp(q->if_none_match, q->etag) != 0 && strcmp(q->if_none_match, "*") != 0)
        return 0;
    if (q->since && strcmp(q->since, q->etag) != 0)
        return 0;
    return 1;
}

/* Answer the list: 304 when the caller's ETag still matches, else 200 with it. */
static void list_answer(struct req *r, const struct list_poll *q)
{
    req_set_header(r, "ETag", q->etag);
    req_set_header(r, "Cache-Control", "no-cache");
    if (q->if_none_match && list_unchanged(q)) {
        req_raw(r, 304, NULL, NULL, 0);
        return;
    }
    req_raw(r, 200, "application/json", q->text, strlen(q->text));
}

/*
 * GET /v1/ingestion-runs, also a long poll (?wait= with If-None-Match or
 * ?since=<version>): while the list is what the caller has, sleep until a
 * NOTIFY names any run of the tenant (listener.c fires the tenant's key) or
 * the wait ends, holding no database connection; then read again.
 */
void runs_list(struct req *r)
{
    struct list_poll q;
    struct watch_waiter w;
    int64_t deadline;
    int waiting;

    memset(&q, 0, sizeof(q));
    if (list_parse(r, &q) < 0)
        return;
    deadline = time_mono_ms() + q.wait_s * 1000;
    waiting = q.wait_s > 0 && r->app->runs;
    if (waiting)
        watch_add(r->app->runs, &w, q.key);
    for (;;) {
        if (list_read(r, &q) < 0)
            break;
        if (!waiting || !list_unchanged(&q) || time_mono_ms() >= deadline) {
            list_answer(r, &q);
            break;
        }
        req_db_release(r);
        if (!watch_wait(r->app->runs, &w, deadline)) {
            list_answer(r, &q);
            break;
        }
        watch_rearm(r->app->runs, &w);
    }
    if (waiting)
        watch_remove(r->app->runs, &w);
}
