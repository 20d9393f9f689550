/*
 * run_state.c - every statement that creates or changes an ingestion_runs row
 * (run_state.h documents each transition and its guard). Statuses are bound
 * as parameters from RUN_STATUS_MAP, so the SQL spells none of them.
 */
#include "common/run_state.h"

#include "common/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {
#define X(name, str) str,
    RUN_STATUS_MAP(X)
#undef X
};

const char *run_status_name(enum run_status s)
{
    if ((int)s < 0 || s >= RUN_STATUS__COUNT)
        return NULL;
    return status_names[s];
}

int run_status_parse(const char *s, enum run_status *out)
{
    for (int i = 0; s && i < RUN_STATUS__COUNT; i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum run_status)i;
            return 0;
        }
    }
    return -1;
}

int run_status_terminal(enum run_status s)
{
    return s == RUN_STATUS_SUCCEEDED || s == RUN_STATUS_FAILED || s == RUN_STATUS_SKIPPED;
}

void run_error_text(enum run_fail code, const char *detail, char *out, size_t outlen)
{
    size_t n;

    snprintf(out, outlen, "%s: %s", run_fail_code(code), detail && *detail ? detail : "no detail");
    /* Keep it one line; it is shown in the UI and the logs. */
    for (n = 0; out[n]; n++)
        if (out[n] == '\n' || out[n] == '\r')
            out[n] = ' ';
}

#define S(status) run_status_name(RUN_STATUS_##status)

/* A time of the caller's clock as SQL: milliseconds since the epoch, bound as text. */
#define AT(n) "to_timestamp($" #n "::double precision / 1000.0)"

static void ms_text(int64_t ms, char out[24])
{
    snprintf(out, 24, "%lld", (long long)ms);
}

/* Rows a statement changed: 0 or more, or -1 on a database error. */
static int changed_rows(PGconn *c, const char *sql, int n, const char *const *p)
{
    PGresult *res = db_query(c, sql, n, p);
    int rows;

    if (!res)
        return -1;
    rows = (int)strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return rows;
}

/* ---------- core-api: the upload ---------- */

int run_create_queued(PGconn *c, const struct run_new *n, char *received_at, size_t len)
{
    const char *p[6] = {n->run_id, n->tenant_id, n->doc_id, n->content_hash, n->config, S(QUEUED)};
    PGresult *res = db_query(c,
                             "INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status, content_hash, config)"
                             " VALUES ($1, $2, $3, $6, $4, $5::jsonb)"
                             " RETURNING " DB_TS("created_at"),
                             6, p);

    if (!res)
        return -1;
    snprintf(received_at, len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int run_create_skipped(PGconn *c, const struct run_new *n, const char *stats)
{
    const char *p[7] = {n->run_id, n->tenant_id, n->doc_id, n->content_hash, n->config, stats, S(SKIPPED)};

    return db_exec(c,
                   "INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status, content_hash, finished_at,"
                   " config, stats) VALUES ($1, $2, $3, $7, $4, now(), $5::jsonb, $6::jsonb)",
                   7, p);
}

PGresult *run_find_in_progress(PGconn *c, const char *tenant_id, const char *content_hash)
{
    const char *p[4] = {tenant_id, content_hash, S(QUEUED), S(RUNNING)};

    return db_query(c,
                    "SELECT run_id, doc_id, status FROM ingestion_runs"
                    " WHERE tenant_id = $1 AND content_hash = $2 AND status IN ($3, $4) LIMIT 1",
                    4, p);
}

/* ---------- queued runs: enqueue failure, crash guard ---------- */

int run_fail_queued(PGconn *c, const char *run_id, const char *tenant_id, const char *error, int64_t at_ms)
{
    char at[24];
    const char *p[6] = {run_id, tenant_id, error, at_ms < 0 ? NULL : at, S(FAILED), S(QUEUED)};
    int rows;

    ms_text(at_ms, at);
    rows = changed_rows(c,
                        "UPDATE ingestion_runs SET status = $5, error = $3,"
                        " finished_at = COALESCE(" AT(4) ", now()), updated_at = COALESCE(" AT(4) ", now())"
                        " WHERE run_id = $1 AND tenant_id = $2 AND status = $6",
                        6, p);
    return rows < 0 ? -1 : rows > 0;
}

int run_mark_republished(PGconn *c, const char *run_id, long long count, int64_t at_ms)
{
    char n[24], at[24];
    const char *p[4] = {run_id, n, at, S(QUEUED)};

    snprintf(n, sizeof(n), "%lld", count);
    ms_text(at_ms, at);
    return db_exec(c,
                   "UPDATE ingestion_runs SET config = jsonb_set(config, '{republished}', to_jsonb($2::bigint)),"
                   " updated_at = " AT(3) " WHERE run_id = $1 AND status = $4",
                   4, p);
}

PGresult *run_fail_stale_running(PGconn *c, const char *tenant_id, int64_t cutoff_ms, int64_t at_ms)
{
    char cutoff[24], at[24], error[64];
    const char *p[6] = {cutoff, at, error, S(FAILED), S(RUNNING), tenant_id};

    ms_text(cutoff_ms, cutoff);
    ms_text(at_ms, at);
    run_error_text(RUN_FAIL_STALE_RUNNING, "no heartbeat since ", error, sizeof(error));
    return db_query(c,
                    "UPDATE ingestion_runs SET status = $4,"
                    " error = $3::text || " DB_TS("updated_at") ","
                    " finished_at = " AT(2) ", updated_at = " AT(2)
                    " WHERE tenant_id = $6 AND status = $5 AND updated_at < " AT(1)
                    " RETURNING run_id, tenant_id, error",
                    6, p);
}

/* ---------- the worker: claim ---------- */

static void copy_id(char dst[ID_UUID_LEN + 1], const char *src)
{
    snprintf(dst, ID_UUID_LEN + 1, "%s", src ? src : "");
}

/* The owner from a claim's RETURNING run_id, tenant_id, doc_id, content_hash, attempt. */
static enum run_claim fill_owner(PGresult *res, struct run_owner *o, int takeover)
{
    const char *hash = db_val(res, 0, 3);

    memset(o, 0, sizeof(*o));
    copy_id(o->run_id, db_val(res, 0, 0));
    copy_id(o->tenant_id, db_val(res, 0, 1));
    copy_id(o->doc_id, db_val(res, 0, 2));
    snprintf(o->content_hash, sizeof(o->content_hash), "%s", hash ? hash : "");
    o->attempt = (int)strtol(db_val(res, 0, 4), NULL, 10);
    o->takeover = takeover;
    return RUN_CLAIMED;
}

/* A claim statement: RUN_CLAIMED (owner filled), RUN_CLAIM_BUSY (0 rows) or RUN_CLAIM_DB_ERROR. */
static enum run_claim claim_exec(PGconn *c, const char *sql, int n, const char *const *p, struct run_owner *o,
                                 int takeover)
{
    PGresult *res = db_query(c, sql, n, p);
    enum run_claim rc;

    if (!res)
        return RUN_CLAIM_DB_ERROR;
    rc = PQntuples(res) == 1 ? fill_owner(res, o, takeover) : RUN_CLAIM_BUSY;
    PQclear(res);
    return rc;
}

/* queued -> running; RUN_CLAIM_BUSY here only means "was not queued". */
static enum run_claim claim_queued(PGconn *c, const char *run_id, const char *tenant_id, struct run_owner *o)
{
    const char *p[4] = {run_id, tenant_id, S(RUNNING), S(QUEUED)};

    return claim_exec(c,
                      "UPDATE ingestion_runs SET status = $3, started_at = COALESCE(started_at, now()),"
                      " updated_at = now(), attempt = attempt + 1, error = NULL,"
                      " stats = stats || jsonb_build_object('attempt', attempt + 1,"
                      "   'progress', jsonb_build_object('stage', 'claimed', 'done', 0, 'total', 0))"
                      " WHERE run_id = $1 AND tenant_id = $2 AND status = $4"
                      " RETURNING run_id, tenant_id, doc_id, content_hash, attempt",
                      4, p, o, 0);
}

/*
 * Why the claim matched nothing: MISSING, TERMINAL, BUSY (requeued in between,
 * or running with a fresh heartbeat) or DB_ERROR. A stale running run answers
 * BUSY with *stale = 1 and the attempt seen in attempt.
 */
static enum run_claim claim_look(PGconn *c, const char *const *p, char attempt[16], int *stale)
{
    PGresult *res = db_query(c,
                             "SELECT status, attempt, (updated_at < now() - make_interval(secs => $3::double precision))"
                             " FROM ingestion_runs WHERE run_id = $1 AND tenant_id = $2",
                             3, p);
    enum run_status status;
    enum run_claim rc = RUN_CLAIM_BUSY;

    *stale = 0;
    if (!res)
        return RUN_CLAIM_DB_ERROR;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return RUN_CLAIM_MISSING;
    }
    snprintf(attempt, 16, "%s", db_val(res, 0, 1));
    if (run_status_parse(db_val(res, 0, 0), &status) < 0 || run_status_terminal(status))
        rc = RUN_CLAIM_TERMINAL;
    else if (status == RUN_STATUS_RUNNING)
        *stale = strcmp(db_val(res, 0, 2), "t") == 0;
    /* queued: requeued between our two statements, the redelivery claims it */
    PQclear(res);
    return rc;
}

enum run_claim run_claim(PGconn *c, const char *run_id, const char *tenant_id, int64_t takeover_after_ms,
                         struct run_owner *owner)
{
    char secs[32], attempt[16];
    const char *p[5] = {run_id, tenant_id, secs, attempt, S(RUNNING)};
    enum run_claim rc;
    int stale;

    rc = claim_queued(c, run_id, tenant_id, owner);
    if (rc != RUN_CLAIM_BUSY)
        return rc;
    snprintf(secs, sizeof(secs), "%.3f", (double)takeover_after_ms / 1000.0);
    rc = claim_look(c, p, attempt, &stale);
    if (rc != RUN_CLAIM_BUSY || !stale)
        return rc;
    /* Only one taker matches the attempt it saw; the staleness is re-checked under the row lock. */
    return claim_exec(c,
                      "UPDATE ingestion_runs SET updated_at = now(), attempt = attempt + 1,"
                      " stats = stats || jsonb_build_object('attempt', attempt + 1, 'takeover_from', attempt,"
                      "   'progress', jsonb_build_object('stage', 'claimed', 'done', 0, 'total', 0))"
                      " WHERE run_id = $1 AND tenant_id = $2 AND status = $5 AND attempt = $4::int"
                      "   AND updated_at < now() - make_interval(secs => $3::double precision)"
                      " RETURNING run_id, tenant_id, doc_id, content_hash, attempt",
                      5, p, owner, 1);
}

/* ---------- the worker: owned writes ---------- */

/*
 * Every owned statement binds $1 run_id, $2 tenant_id, $3 'running', $4 the
 * attempt, then its own values from $5: OWNED is its guard.
 */
#define OWNED " WHERE run_id = $1 AND tenant_id = $2 AND status = $3 AND attempt = $4::int"

struct owned {
    char attempt[16];
    const char *p[8];
};

static void owned_init(struct owned *w, const struct run_owner *o)
{
    snprintf(w->attempt, sizeof(w->attempt), "%d", o->attempt);
    w->p[0] = o->run_id;
    w->p[1] = o->tenant_id;
    w->p[2] = S(RUNNING);
    w->p[3] = w->attempt;
}

/* RUN_WRITE_OK when the statement touched the one row, LOST when none, DB on error. */
static enum run_write owned_exec(PGconn *c, const char *sql, int n, const struct owned *w)
{
    int rows = changed_rows(c, sql, n, w->p);

    if (rows < 0)
        return RUN_WRITE_DB;
    return rows == 1 ? RUN_WRITE_OK : RUN_WRITE_LOST;
}

enum run_write run_heartbeat(PGconn *c, const struct run_owner *o, const char *stage, long done, long total)
{
    struct owned w;
    char sdone[24], stotal[24];

    owned_init(&w, o);
    snprintf(sdone, sizeof(sdone), "%ld", done);
    snprintf(stotal, sizeof(stotal), "%ld", total);
    w.p[4] = stage;
    w.p[5] = sdone;
    w.p[6] = stotal;
    return owned_exec(c,
                      "UPDATE ingestion_runs SET updated_at = now(),"
                      " stats = stats || jsonb_build_object('progress', jsonb_build_object("
                      "   'stage', $5::text, 'done', $6::bigint, 'total', $7::bigint))" OWNED,
                      7, &w);
}

/* An owned change to status to that records "<code>: <detail>" as $5 (status to is $6). */
static enum run_write owned_error_write(PGconn *c, const struct run_owner *o, const char *sql, enum run_status to,
                                        enum run_fail code, const char *detail)
{
    struct owned w;
    char text[512];

    owned_init(&w, o);
    run_error_text(code, detail, text, sizeof(text));
    w.p[4] = text;
    w.p[5] = run_status_name(to);
    return owned_exec(c, sql, 6, &w);
}

enum run_write run_fail(PGconn *c, const struct run_owner *o, enum run_fail code, const char *detail)
{
    return owned_error_write(c, o,
                             "UPDATE ingestion_runs SET status = $6, finished_at = now(), updated_at = now(),"
                             " error = $5, stats = stats || jsonb_build_object('progress',"
                             "   jsonb_build_object('stage', 'failed'))" OWNED,
                             RUN_STATUS_FAILED, code, detail);
}

enum run_write run_requeue(PGconn *c, const struct run_owner *o, enum run_fail code, const char *detail)
{
    return owned_error_write(c, o,
                             "UPDATE ingestion_runs SET status = $6, updated_at = now(),"
                             " stats = stats || jsonb_build_object('last_error', $5::text,"
                             "   'progress', jsonb_build_object('stage', 'retry_wait'))" OWNED,
                             RUN_STATUS_QUEUED, code, detail);
}

enum run_write run_check_owner(PGconn *c, const struct run_owner *o)
{
    struct owned w;
    PGresult *res;
    enum run_write rc;

    owned_init(&w, o);
    res = db_query(c, "SELECT 1 FROM ingestion_runs" OWNED, 4, w.p);
    if (!res)
        return RUN_WRITE_DB;
    rc = PQntuples(res) == 1 ? RUN_WRITE_OK : RUN_WRITE_LOST;
    PQclear(res);
    return rc;
}

/* running -> status (succeeded or skipped), terminal, with stats merged in. */
static enum run_write run_end_ok(PGconn *c, const struct run_owner *o, const char *stats, const char *status)
{
    struct owned w;

    owned_init(&w, o);
    w.p[4] = stats;
    w.p[5] = status;
    return owned_exec(c,
                      "UPDATE ingestion_runs SET status = $6, finished_at = now(), updated_at = now(),"
                      " error = NULL, stats = stats || $5::jsonb" OWNED,
                      6, &w);
}

enum run_write run_succeed(PGconn *c, const struct run_owner *o, const char *stats)
{
    return run_end_ok(c, o, stats, S(SUCCEEDED));
}

enum run_write run_skip(PGconn *c, const struct run_owner *o, const char *stats)
{
    return run_end_ok(c, o, stats, S(SKIPPED));
}
