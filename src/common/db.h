/*
 * db.h - PostgreSQL access: connections that assume a role, a small pool,
 * parameterized queries only, transactions.
 *
 * Every query goes through db_query() with $n parameters; SQL text is never
 * built from input. A failed query is logged here (with its SQLSTATE and the
 * server's message) and the caller gets NULL plus db_last_sqlstate(), so no SQL
 * error text ever needs to travel further up.
 *
 * Roles (DESIGN invariant 5): each program runs SET ROLE right after connecting,
 * so the write split holds whatever login DATABASE_URL names.
 *
 * Tenants (row-level security, db/migrations/0006_rls.sql): the application
 * roles see and write only rows whose tenant_id is the session's app.tenant_id,
 * and nothing while it is unset. db_set_tenant() sets it; a pooled connection
 * takes its tenant with db_pool_acquire_tenant(), which has it set (or
 * cleared) before the borrower's first statement runs, so no borrower ever
 * works with the previous borrower's tenant: with a prepared first statement
 * the set_config goes in the same round trip (libpq pipeline mode, one sync),
 * else alone just before. An idle connection keeps its last tenant: a
 * borrower asking for the same one runs no statement for it.
 *
 * Prepared statements (db_query_prepared): a `static struct db_stmt` names a
 * statement once; each connection prepares it on its first use and runs it by
 * name afterwards (no parse or plan per request). What a connection has
 * prepared, and its tenant, live with the PGconn (libpq instance data), so a
 * reconnect starts from nothing.
 */
#ifndef COMMON_DB_H
#define COMMON_DB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define DB_ROLE_API    "core_api"
#define DB_ROLE_WORKER "ingest_worker"

/*
 * SQL for a timestamptz column as the API's RFC 3339 text in UTC with
 * milliseconds ("2026-12-03T05:30:00.123Z"): DB_TS("r.created_at").
 */
#define DB_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* SQLSTATEs callers branch on. */
#define DB_UNIQUE_VIOLATION "23505"
#define DB_INSUFFICIENT_PRIVILEGE "42501"
#define DB_SERIALIZATION_FAILURE "40001"
#define DB_DEADLOCK_DETECTED "40P01"

/*
 * Connect and SET ROLE role (NULL: stay the login user). Returns NULL and a
 * message in err (no password in it) on failure.
 */
PGconn *db_connect(const char *url, const char *role, char *err, size_t errlen);
/* Close; accepts NULL and sets *c to NULL. */
void db_close(PGconn **c);
/*
 * Make sure *c is usable: reconnect (and re-assume the role) if the server went
 * away, including a restart this connection has not noticed yet (non-blocking
 * probe). Returns 0, or -1 if the database is still unreachable.
 */
int db_ensure(PGconn **c, const char *url, const char *role);

/*
 * Run sql with n text parameters (NULL entries are SQL NULL). Returns the
 * result (PGRES_TUPLES_OK or PGRES_COMMAND_OK) for the caller to PQclear, or
 * NULL on any failure, logged, with the SQLSTATE in db_last_sqlstate().
 */
PGresult *db_query(PGconn *c, const char *sql, int n, const char *const *params);
/* Most statements a program may name with struct db_stmt (more run unprepared). */
#define DB_STMT_MAX 256

/*
 * A statement run prepared: declare it `static struct db_stmt x = {SQL, 0};`.
 * id is given out on first use (atomic), the same on every connection.
 */
struct db_stmt {
    const char *sql;
    _Atomic int id;
};

/*
 * db_query() for a prepared statement: on a connection from db_connect() (and
 * so from the pool) the statement is prepared on its first use there (one
 * more round trip, once per connection) and executed by name; elsewhere it
 * runs like db_query(). Same result and failure contract as db_query().
 */
PGresult *db_query_prepared(PGconn *c, struct db_stmt *s, int n, const char *const *params);
/*
 * db_query_prepared() with every column of the result in PostgreSQL's binary
 * form (PQgetvalue/PQgetlength: network byte order, a real[] as array_send
 * makes it): for large numeric columns that text would format and parse.
 */
PGresult *db_query_prepared_binary(PGconn *c, struct db_stmt *s, int n, const char *const *params);
/* Like db_query for statements whose result is not needed: 0 or -1. */
int db_exec(PGconn *c, const char *sql, int n, const char *const *params);
/* SQLSTATE of this thread's last failed db_query ("" if none, "08006" if the connection broke). */
const char *db_last_sqlstate(void);
/* 1 if the last failure of this thread was a lost or refused connection. */
int db_last_was_connection_error(void);
/*
 * 1 if the last failure of this thread was a serialization failure (40001)
 * or a deadlock (40P01): the transaction lost a race and running it again
 * from the start may well succeed.
 */
int db_last_was_conflict(void);

int db_tx_begin(PGconn *c);
int db_tx_commit(PGconn *c);   /* -1 if the commit failed: nothing was written */
void db_tx_rollback(PGconn *c);

/*
 * One transaction's body for db_tx_run(): the statements between BEGIN and
 * COMMIT. Returns 0 to commit; DB_TX_RETRY to roll back and run the whole
 * transaction again (it found a state that a new attempt resolves, such as a
 * row that finished meanwhile); any other value to roll back and hand that
 * value to the caller: > 0 is the caller's own outcome ("not found", "no
 * longer ours"), < 0 a failed statement (db_last_sqlstate() tells which).
 * It runs again from the start on a retry, so it must not keep results of an
 * earlier attempt it would not recompute.
 */
typedef int (*db_tx_fn)(PGconn *c, void *arg);

#define DB_TX_RETRY (-2)

/*
 * The transaction retry loop: BEGIN, fn(c, arg), COMMIT, at most attempts
 * times. The whole transaction runs again when fn asks for it (DB_TX_RETRY)
 * or when a statement or the COMMIT failed with a serialization failure or a
 * deadlock (db_last_was_conflict()); nothing else is retried. Returns 0
 * (committed), fn's positive value (rolled back), DB_TX_RETRY (every attempt
 * asked to run again), or -1 (rolled back: BEGIN, a statement or COMMIT
 * failed, or still conflicting after attempts; db_last_sqlstate() says why).
 * The transaction is never left open.
 */
int db_tx_run(PGconn *c, int attempts, db_tx_fn fn, void *arg);

/* Value of row r, column col, or NULL if SQL NULL. */
const char *db_val(const PGresult *res, int r, int col);

/*
 * Set the session's tenant (app.tenant_id, read by every row-level security
 * policy) to tenant_id, or clear it with NULL or "" (then no tenant-owned row is
 * visible). The value is checked as a UUID by PostgreSQL (a malformed one fails
 * with 22P02 and leaves the setting as it was). Session-wide: it outlives the
 * transaction, except that a transaction that rolls back also undoes a change
 * made inside it. Returns 0 or -1 (logged, db_last_sqlstate()).
 */
int db_set_tenant(PGconn *c, const char *tenant_id);
/*
 * db_set_tenant() unless the connection is known to have that tenant already
 * (set by db_set_tenant outside a transaction, on this same session): then no
 * statement runs. 0 or -1 like db_set_tenant().
 */
int db_use_tenant(PGconn *c, const char *tenant_id);

/*
 * SQLSTATE db_pool_acquire() leaves in db_last_sqlstate() when no connection
 * came free before the deadline (too_many_connections: class 53, so
 * req_db_error() answers 503 for it like any other lack of resources).
 */
#define DB_POOL_EXHAUSTED "53300"
/* SQLSTATE it leaves when the database could not be reached (unable to connect). */
#define DB_POOL_UNREACHABLE "08001"

/*
 * A fixed-size pool of connections shared by threads (core-api). Connections
 * are made lazily, on the first acquire of a free slot. A borrower should hold
 * one only for the statements it runs, never while it waits on something else
 * (a client's bytes): the pool is small and every thread shares it.
 */
struct db_pool;
/*
 * A pool of size connections to url (SET ROLE role), whose acquires wait at
 * most acquire_timeout_ms (0: take a free one or fail at once). NULL when
 * memory is out.
 */
struct db_pool *db_pool_new(const char *url, const char *role, int size, int64_t acquire_timeout_ms);
/*
 * A connection for this thread, waiting at most the pool's acquire timeout
 * (CLOCK_MONOTONIC, so a wall-clock step changes nothing) for one to come
 * free. NULL when the deadline passed (db_last_sqlstate() is
 * DB_POOL_EXHAUSTED, logged) or when the database cannot be reached
 * (DB_POOL_UNREACHABLE). Never blocks longer than the deadline plus one
 * connection attempt. A thread must not ask for a second connection while it
 * holds one: with every connection held that way, all of them would wait.
 * The connection has no tenant (see db_pool_acquire_tenant()).
 */
PGconn *db_pool_acquire(struct db_pool *p);
/*
 * db_pool_acquire() with the session's tenant set to tenant_id (NULL or "":
 * none). A free connection that already has that tenant is preferred and then
 * costs no statement; otherwise the tenant is set with the first statement
 * the borrower runs through this module (db_query, db_query_prepared,
 * db_tx_run, db_use_tenant...), in the same round trip when that one is
 * prepared. Both run in one implicit transaction: if the statement fails, the
 * tenant is undone with it, and the statement's error is the one reported
 * (the tenant is then unknown, so db_pool_release() clears it). A borrower
 * must not run statements on the PGconn with libpq directly. NULL if the
 * database cannot be reached.
 */
PGconn *db_pool_acquire_tenant(struct db_pool *p, const char *tenant_id);
/*
 * Return a connection from db_pool_acquire(): an open transaction is rolled
 * back. The connection keeps its tenant while idle (the next acquire sets the
 * one it asks for); one whose tenant is not known for sure (changed inside a
 * transaction) is cleared, or closed if that fails (the pool connects again
 * on the next acquire), rather than lent with it.
 */
void db_pool_release(struct db_pool *p, PGconn *c);
void db_pool_free(struct db_pool **p);

#endif
