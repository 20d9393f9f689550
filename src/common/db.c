/*
 * db.c - PostgreSQL access (db.h): role-assuming connections, parameterized
 * queries that log their failures, transactions and their retry loop, a pool.
 */
#include "common/db.h"
#include "common/log.h"

#include <libpq-events.h>

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static _Thread_local char last_sqlstate[6];

const char *db_last_sqlstate(void)
{
    return last_sqlstate;
}

int db_last_was_connection_error(void)
{
    return strncmp(last_sqlstate, "08", 2) == 0 || strncmp(last_sqlstate, "57P", 3) == 0;
}

int db_last_was_conflict(void)
{
    return strcmp(last_sqlstate, DB_SERIALIZATION_FAILURE) == 0 || strcmp(last_sqlstate, DB_DEADLOCK_DETECTED) == 0;
}

static void set_sqlstate(const char *s)
{
    snprintf(last_sqlstate, sizeof(last_sqlstate), "%s", s ? s : "");
}

/*
 * What this program knows about one connection's session, attached to the
 * PGconn with libpq's event API (PQsetInstanceData) so it lives and dies with
 * the connection: a reconnect starts from nothing known.
 */
struct conn_state {
    int tenant_known;                         /* tenant is the session's app.tenant_id */
    char tenant[40];                          /* "" : none */
    uint64_t prepared[DB_STMT_MAX / 64];      /* bit n: statement n is prepared here */
    int pending;                              /* 1: pending_tenant to be set before the next statement */
    char pending_tenant[40];                  /* db_pool_acquire_tenant's, "" : none */
};

static int conn_event(PGEventId id, void *info, void *pass)
{
    (void)pass;
    if (id == PGEVT_CONNDESTROY) {
        const PGEventConnDestroy *e = info;

        free(PQinstanceData(e->conn, conn_event));
    }
    return 1;
}

/* Attach an empty conn_state to c. 0, or -1 if memory is out. */
static int conn_state_attach(PGconn *c)
{
    struct conn_state *st = calloc(1, sizeof(*st));

    if (!st || !PQregisterEventProc(c, conn_event, "db", NULL)) {
        free(st);
        return -1;
    }
    if (!PQsetInstanceData(c, conn_event, st)) {
        free(st);
        return -1;
    }
    return 0;
}

static struct conn_state *conn_state_of(const PGconn *c)
{
    return c ? PQinstanceData(c, conn_event) : NULL;
}

PGconn *db_connect(const char *url, const char *role, char *err, size_t errlen)
{
    PGconn *c = PQconnectdb(url);
    PGresult *res;
    char *ident;
    char sql[128];

    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "database connection failed: %s", PQerrorMessage(c));
        /* libpq messages end in a newline; keep the log line on one line */
        err[strcspn(err, "\n")] = '\0';
        PQfinish(c);
        return NULL;
    }
    if (role) {
        /* An identifier cannot be a $1 parameter; quote it with libpq instead. */
        ident = PQescapeIdentifier(c, role, strlen(role));
        if (!ident) {
            snprintf(err, errlen, "cannot quote role name");
            PQfinish(c);
            return NULL;
        }
        snprintf(sql, sizeof(sql), "SET ROLE %s", ident);
        PQfreemem(ident);
        res = PQexec(c, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            snprintf(err, errlen, "SET ROLE %s failed: %s", role, PQresultErrorMessage(res));
            err[strcspn(err, "\n")] = '\0';
            PQclear(res);
            PQfinish(c);
            return NULL;
        }
        PQclear(res);
    }
    if (conn_state_attach(c) < 0) {
        snprintf(err, errlen, "out of memory");
        PQfinish(c);
        return NULL;
    }
    return c;
}

void db_close(PGconn **c)
{
    if (c && *c) {
        PQfinish(*c);
        *c = NULL;
    }
}

/*
 * PQstatus only knows what the last call saw. A server that shut down or
 * restarted has sent a termination notice and closed our socket; an idle
 * connection otherwise has nothing to read (we never LISTEN). So input waiting
 * on an idle connection means it is going away: replace it, rather than let
 * the next query fail on it.
 */
static int conn_alive(PGconn *c)
{
    struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};

    if (PQstatus(c) != CONNECTION_OK || p.fd < 0)
        return 0;
    if (PQtransactionStatus(c) == PQTRANS_IDLE && poll(&p, 1, 0) != 0)
        return 0;
    return 1;
}

int db_ensure(PGconn **c, const char *url, const char *role)
{
    char err[512];

    if (*c && conn_alive(*c))
        return 0;
    db_close(c);
    *c = db_connect(url, role, err, sizeof(err));
    if (!*c) {
        log_event(LOG_WARN, "database unreachable", json_pack("{s:s}", "error", err));
        return -1;
    }
    return 0;
}

/* A statement of c failed with res (may be NULL): keep its SQLSTATE, log it, free res. */
static void query_failed(PGconn *c, PGresult *res, const char *sql)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c);
    char first[96];

    if (PQstatus(c) != CONNECTION_OK)
        state = "08006";
    set_sqlstate(state ? state : "08006");
    snprintf(first, sizeof(first), "%s", sql);
    first[strcspn(first, "\n")] = '\0';
    /* Unique violations are expected flow (get-or-create, 409s): debug only. */
    log_event(strcmp(last_sqlstate, DB_UNIQUE_VIOLATION) == 0 ? LOG_DEBUG : LOG_WARN, "query failed",
              json_pack("{s:s,s:s,s:s}", "sqlstate", last_sqlstate, "error", msg ? msg : "", "sql", first));
    PQclear(res);
}

/* res if it is a success (PGRES_TUPLES_OK or PGRES_COMMAND_OK), else NULL after query_failed(). */
static PGresult *query_result(PGconn *c, PGresult *res, const char *sql)
{
    ExecStatusType st = PQresultStatus(res);

    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    query_failed(c, res, sql);
    return NULL;
}

static int tenant_flush(PGconn *c);

PGresult *db_query(PGconn *c, const char *sql, int n, const char *const *params)
{
    set_sqlstate("");
    if (tenant_flush(c) < 0)
        return NULL;
    return query_result(c, PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0), sql);
}

int db_exec(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *res = db_query(c, sql, n, params);

    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

int db_tx_begin(PGconn *c)
{
    return db_exec(c, "BEGIN", 0, NULL);
}

int db_tx_commit(PGconn *c)
{
    PGresult *res = db_query(c, "COMMIT", 0, NULL);
    int ok;

    if (!res)
        return -1;
    /* COMMIT of a failed transaction answers ROLLBACK: nothing was written. */
    ok = strcmp(PQcmdStatus(res), "COMMIT") == 0;
    PQclear(res);
    if (!ok)
        set_sqlstate("25P02");
    return ok ? 0 : -1;
}

void db_tx_rollback(PGconn *c)
{
    if (c && PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE) {
        PGresult *res = PQexec(c, "ROLLBACK");

        PQclear(res);
    }
}

/* One attempt: BEGIN, fn, COMMIT; rolled back unless committed. */
static int tx_once(PGconn *c, db_tx_fn fn, void *arg)
{
    int rc;

    if (db_tx_begin(c) < 0)
        return -1;
    rc = fn(c, arg);
    if (rc == 0 && db_tx_commit(c) < 0)
        rc = -1;
    if (rc != 0)
        db_tx_rollback(c);
    return rc;
}

int db_tx_run(PGconn *c, int attempts, db_tx_fn fn, void *arg)
{
    int rc = -1;

    for (int i = 0; i < attempts; i++) {
        rc = tx_once(c, fn, arg);
        if (rc != DB_TX_RETRY && !(rc < 0 && db_last_was_conflict()))
            break;
    }
    return rc;
}

const char *db_val(const PGresult *res, int r, int col)
{
    if (PQgetisnull(res, r, col))
        return NULL;
    return PQgetvalue(res, r, col);
}

static struct db_stmt set_tenant_stmt = {
    "SELECT set_config('app.tenant_id', coalesce($1::uuid::text, ''), false)", 0};

/*
 * What set_tenant_stmt's result res (NULL: it failed) says of c's session
 * tenant. Known from here on only outside a transaction: a rollback would
 * undo a change made inside one. The value is PostgreSQL's own spelling of it.
 */
static void tenant_record(PGconn *c, struct conn_state *st, const PGresult *res)
{
    const char *now = res ? db_val(res, 0, 0) : NULL;

    if (!st)
        return;
    st->tenant_known = now && PQtransactionStatus(c) == PQTRANS_IDLE && strlen(now) < sizeof(st->tenant);
    snprintf(st->tenant, sizeof(st->tenant), "%s", st->tenant_known ? now : "");
}

int db_set_tenant(PGconn *c, const char *tenant_id)
{
    const char *params[1] = {tenant_id && *tenant_id ? tenant_id : NULL};
    struct conn_state *st = conn_state_of(c);
    PGresult *res;

    if (st)
        st->pending = 0;   /* set now, whatever an acquire deferred */
    res = db_query_prepared(c, &set_tenant_stmt, 1, params);
    tenant_record(c, st, res);
    PQclear(res);
    return res ? 0 : -1;
}

/* 1 if c's session tenant is known (set outside a transaction by db_set_tenant). */
static int tenant_known(const PGconn *c)
{
    const struct conn_state *st = conn_state_of(c);

    return st && st->tenant_known;
}

/* 1 if c's session is known to have tenant_id ("" or NULL: none) as its tenant. */
static int tenant_is(const PGconn *c, const char *tenant_id)
{
    const struct conn_state *st = conn_state_of(c);

    if (!st || !st->tenant_known)
        return 0;
    return strcasecmp(st->tenant, tenant_id ? tenant_id : "") == 0;
}

/* The tenant an acquire deferred (tenant_defer), set alone now: 0, or -1 like db_set_tenant(). */
static int tenant_flush(PGconn *c)
{
    struct conn_state *st = conn_state_of(c);

    if (!st || !st->pending)
        return 0;
    return db_set_tenant(c, st->pending_tenant);
}

/*
 * Have c's next statement set tenant_id (NULL or "": none) first, in the same
 * round trip when it is a prepared one (prepared_exec), unless c is known to
 * have it already. 0, or -1 like db_set_tenant() when it is set at once.
 */
static int tenant_defer(PGconn *c, const char *tenant_id)
{
    struct conn_state *st = conn_state_of(c);
    const char *t = tenant_id ? tenant_id : "";

    if (PQtransactionStatus(c) == PQTRANS_IDLE && tenant_is(c, t)) {
        if (st)
            st->pending = 0;
        return 0;
    }
    if (!st || PQtransactionStatus(c) != PQTRANS_IDLE || strlen(t) >= sizeof(st->pending_tenant))
        return db_set_tenant(c, tenant_id);
    snprintf(st->pending_tenant, sizeof(st->pending_tenant), "%s", t);
    st->pending = 1;
    return 0;
}

int db_use_tenant(PGconn *c, const char *tenant_id)
{
    if (tenant_flush(c) < 0)
        return -1;
    if (PQtransactionStatus(c) == PQTRANS_IDLE && tenant_is(c, tenant_id))
        return 0;
    return db_set_tenant(c, tenant_id);
}

/* Statement ids, given out on first use (0: not yet). */
static atomic_int stmt_ids;

static int stmt_id(struct db_stmt *s)
{
    int id = atomic_load(&s->id);

    if (id == 0) {
        int fresh = atomic_fetch_add(&stmt_ids, 1) + 1;

        /* Two threads may race: the first id stored wins, the other is never used. */
        if (!atomic_compare_exchange_strong(&s->id, &id, fresh))
            return id;
        id = fresh;
    }
    return id <= DB_STMT_MAX - 1 ? id : -1;
}

/* Prepare s on c as name unless it is. 0, or -1 (logged, db_last_sqlstate()). */
static int stmt_prepare(PGconn *c, struct conn_state *st, int id, const char *name, const struct db_stmt *s, int n)
{
    PGresult *res;

    if (st->prepared[id / 64] & ((uint64_t)1 << (id % 64)))
        return 0;
    res = query_result(c, PQprepare(c, name, s->sql, n, NULL), s->sql);
    if (!res)
        return -1;
    st->prepared[id / 64] |= (uint64_t)1 << (id % 64);
    PQclear(res);
    return 0;
}

/* The next result of a pipeline and the NULL that ends it; NULL if none came. */
static PGresult *pipeline_result(PGconn *c)
{
    PGresult *res = PQgetResult(c);

    if (res && PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
        PGresult *end = PQgetResult(c);

        PQclear(end);   /* NULL: the end of this query's results */
    }
    return res;
}

/*
 * Leave pipeline mode on c once every result up to the sync point is read
 * (at most n more). -1 if c could not leave it: its tenant is then unknown,
 * so db_pool_release() clears it, which fails in that state, and closes it.
 */
static int pipeline_end(PGconn *c, int n)
{
    for (int i = 0; i < n && PQpipelineStatus(c) != PQ_PIPELINE_OFF; i++) {
        PGresult *res = PQgetResult(c);
        int sync = res && PQresultStatus(res) == PGRES_PIPELINE_SYNC;

        PQclear(res);
        if ((sync || !res) && PQexitPipelineMode(c))
            return 0;
        if (!res && PQstatus(c) != CONNECTION_OK)
            break;
    }
    return PQpipelineStatus(c) == PQ_PIPELINE_OFF || PQexitPipelineMode(c) ? 0 : -1;
}

/*
 * Prepared statement name (s, n parameters) on c, preceded in the same round
 * trip by the set_config of the tenant an acquire deferred (libpq pipeline
 * mode, one sync: both in one implicit transaction, so a failure of the
 * statement also undoes the tenant, which is then unknown). 0-or-result like
 * prepared_exec().
 */
static PGresult *exec_with_tenant(PGconn *c, struct conn_state *st, const char *name, const struct db_stmt *s, int n,
                                  const char *const *params, int format)
{
    int tid = stmt_id(&set_tenant_stmt);
    const char *tp[1] = {st->pending_tenant[0] ? st->pending_tenant : NULL};
    char tname[16];
    PGresult *set, *res;

    st->pending = 0;
    snprintf(tname, sizeof(tname), "s%d", tid);
    if (tid < 0 || stmt_prepare(c, st, tid, tname, &set_tenant_stmt, 1) < 0 || !PQenterPipelineMode(c))
        return db_set_tenant(c, tp[0]) < 0 ? NULL
                                          : query_result(c, PQexecPrepared(c, name, n, params, NULL, NULL, format), s->sql);
    st->tenant_known = 0;   /* until the set is read back */
    if (!PQsendQueryPrepared(c, tname, 1, tp, NULL, NULL, 0) ||
        !PQsendQueryPrepared(c, name, n, params, NULL, NULL, format) || !PQpipelineSync(c)) {
        query_failed(c, NULL, s->sql);
        pipeline_end(c, 8);
        return NULL;
    }
    set = pipeline_result(c);
    res = pipeline_result(c);
    if (pipeline_end(c, 4) < 0) {
        PQclear(set);
        PQclear(res);
        query_failed(c, NULL, s->sql);
        return NULL;
    }
    set = query_result(c, set, set_tenant_stmt.sql);
    res = set ? query_result(c, res, s->sql) : (PQclear(res), NULL);
    tenant_record(c, st, set && res ? set : NULL);
    PQclear(set);
    return res;
}

/* db_query_prepared() with the result in format (0 text, 1 binary). */
static PGresult *prepared_exec(PGconn *c, struct db_stmt *s, int n, const char *const *params, int format)
{
    struct conn_state *st = conn_state_of(c);
    int id = stmt_id(s);
    char name[16];

    set_sqlstate("");
    /* A connection made elsewhere, or more statements than the bitmap holds: plain. */
    if (!st || id < 0)
        return tenant_flush(c) < 0 ? NULL
                                   : query_result(c, PQexecParams(c, s->sql, n, NULL, params, NULL, NULL, format), s->sql);
    snprintf(name, sizeof(name), "s%d", id);
    if (stmt_prepare(c, st, id, name, s, n) < 0)
        return NULL;
    if (st->pending)
        return exec_with_tenant(c, st, name, s, n, params, format);
    return query_result(c, PQexecPrepared(c, name, n, params, NULL, NULL, format), s->sql);
}

PGresult *db_query_prepared(PGconn *c, struct db_stmt *s, int n, const char *const *params)
{
    return prepared_exec(c, s, n, params, 0);
}

PGresult *db_query_prepared_binary(PGconn *c, struct db_stmt *s, int n, const char *const *params)
{
    return prepared_exec(c, s, n, params, 1);
}

struct db_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;     /* on CLOCK_MONOTONIC: acquire deadlines ignore wall-clock steps */
    char *url;
    char *role;
    int size;
    int nfree;
    int64_t acquire_timeout_ms;
    PGconn **free;    /* connections ready to lend (may be NULL: connect lazily) */
};

struct db_pool *db_pool_new(const char *url, const char *role, int size, int64_t acquire_timeout_ms)
{
    struct db_pool *p = calloc(1, sizeof(*p));
    pthread_condattr_t ca;

    if (!p)
        return NULL;
    p->free = calloc((size_t)size, sizeof(PGconn *));
    p->url = strdup(url);
    p->role = role ? strdup(role) : NULL;
    if (!p->free || !p->url || (role && !p->role)) {
        db_pool_free(&p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    p->size = size;
    p->nfree = size;
    p->acquire_timeout_ms = acquire_timeout_ms > 0 ? acquire_timeout_ms : 0;
    return p;
}

/* now (CLOCK_MONOTONIC) + ms, for pthread_cond_timedwait on the pool's condition. */
static struct timespec deadline_after(int64_t ms)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Put a slot back (c, or NULL: connect on the next acquire) and wake one waiter. */
static void pool_put(struct db_pool *p, PGconn *c)
{
    pthread_mutex_lock(&p->mu);
    p->free[p->nfree++] = c;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/*
 * Under p->mu, with a free slot: the index of a free connection known to have
 * tenant_id already, else the most recently released one.
 */
static int pool_pick(const struct db_pool *p, const char *tenant_id)
{
    for (int i = p->nfree - 1; i >= 0; i--)
        if (p->free[i] && tenant_is(p->free[i], tenant_id))
            return i;
    return p->nfree - 1;
}

/* A connection, connected, whatever tenant it last had; NULL as db_pool_acquire() says. */
static PGconn *pool_take(struct db_pool *p, const char *tenant_id)
{
    struct timespec until = deadline_after(p->acquire_timeout_ms);
    PGconn *c;
    int rc = 0, i;

    pthread_mutex_lock(&p->mu);
    /* Spurious wake-ups and a slot taken by another thread first: wait again, up to the same deadline. */
    while (p->nfree == 0 && rc == 0)
        rc = pthread_cond_timedwait(&p->cv, &p->mu, &until);
    if (p->nfree == 0) {
        pthread_mutex_unlock(&p->mu);
        set_sqlstate(DB_POOL_EXHAUSTED);
        log_event(LOG_WARN, "database pool exhausted: no connection came free in time",
                  json_pack("{s:i,s:I}", "pool_size", p->size, "acquire_timeout_ms",
                            (json_int_t)p->acquire_timeout_ms));
        return NULL;
    }
    i = pool_pick(p, tenant_id);
    c = p->free[i];
    p->free[i] = p->free[--p->nfree];
    p->free[p->nfree] = NULL;
    pthread_mutex_unlock(&p->mu);
    /* Connect outside the lock: a down database must not stall other threads. */
    if (db_ensure(&c, p->url, p->role) < 0) {
        pool_put(p, NULL);
        set_sqlstate(DB_POOL_UNREACHABLE);
        return NULL;
    }
    return c;
}

PGconn *db_pool_acquire_tenant(struct db_pool *p, const char *tenant_id)
{
    PGconn *c = pool_take(p, tenant_id ? tenant_id : "");

    /*
     * No statement at all when the connection already has that tenant (or
     * none, as asked); else it is set with the first statement, in the same
     * round trip when that one is prepared (tenant_defer).
     */
    if (c && tenant_defer(c, tenant_id) < 0) {
        db_pool_release(p, c);
        return NULL;
    }
    return c;
}

PGconn *db_pool_acquire(struct db_pool *p)
{
    return db_pool_acquire_tenant(p, NULL);
}

void db_pool_release(struct db_pool *p, PGconn *c)
{
    char kept[sizeof(last_sqlstate)];
    struct conn_state *st = conn_state_of(c);

    /* The caller may still ask why its own last statement failed. */
    memcpy(kept, last_sqlstate, sizeof(kept));
    if (st)
        st->pending = 0;   /* a tenant deferred and never used: the session keeps the one it has */
    if (c && PQstatus(c) == CONNECTION_OK)
        db_tx_rollback(c);
    /*
     * The tenant stays on an idle connection (the next borrower asking for the
     * same one then needs no statement); every acquire sets the tenant it asks
     * for, or clears it, before lending. A connection whose tenant is not
     * known for sure is cleared here, or closed if that fails.
     */
    if (c && (PQstatus(c) != CONNECTION_OK || (!tenant_known(c) && db_set_tenant(c, NULL) < 0)))
        db_close(&c);
    memcpy(last_sqlstate, kept, sizeof(kept));
    pool_put(p, c);
}

void db_pool_free(struct db_pool **pp)
{
    struct db_pool *p;

    if (!pp || !*pp)
        return;
    p = *pp;
    if (p->size) {
        for (int i = 0; i < p->nfree; i++)
            db_close(&p->free[i]);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
    }
    free(p->free);
    free(p->url);
    free(p->role);
    free(p);
    *pp = NULL;
}
