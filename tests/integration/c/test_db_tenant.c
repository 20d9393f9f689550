/*
 * test_db_tenant - the row-level security tenant of a connection (common/db.c:
 * db_set_tenant, db_pool_acquire_tenant, db_pool_release) against a live
 * PostgreSQL with the migrations applied. Run by tests/integration/rls.test.mjs
 * with TEST_DATABASE_URL (the application login, which may SET ROLE core_api)
 * and TEST_TENANT_A / TEST_TENANT_B (two tenants with rows in users).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *g_url, *g_a, *g_b;

/* The one text value of sql on c (asserted to succeed), copied into out. */
static void one_value(PGconn *c, const char *sql, char *out, size_t n)
{
    PGresult *res = db_query(c, sql, 0, NULL);

    assert_non_null(res);
    assert_int_equal(PQntuples(res), 1);
    snprintf(out, n, "%s", PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
    PQclear(res);
}

static void setting(PGconn *c, char *out, size_t n)
{
    one_value(c, "SELECT coalesce(current_setting('app.tenant_id', true), '')", out, n);
}

/* The distinct tenants of users this connection can see, as "a,b" (ordered), "" if none. */
static void visible_users(PGconn *c, char *out, size_t n)
{
    one_value(c, "SELECT coalesce(string_agg(DISTINCT tenant_id::text, ',' ORDER BY tenant_id::text), '')"
                 " FROM users", out, n);
}

static PGconn *connect_api(void)
{
    char err[256];
    PGconn *c = db_connect(g_url, DB_ROLE_API, err, sizeof(err));

    if (!c)
        fail_msg("connect: %s", err);
    return c;
}

static void test_set_and_clear(void **state)
{
    PGconn *c = connect_api();
    char v[128];

    (void)state;
    visible_users(c, v, sizeof(v));
    assert_string_equal(v, "");                     /* never set: nothing */
    assert_int_equal(db_set_tenant(c, g_a), 0);
    setting(c, v, sizeof(v));
    assert_string_equal(v, g_a);
    visible_users(c, v, sizeof(v));
    assert_string_equal(v, g_a);                    /* no predicate, one tenant */
    assert_int_equal(db_set_tenant(c, g_b), 0);
    visible_users(c, v, sizeof(v));
    assert_string_equal(v, g_b);
    assert_int_equal(db_set_tenant(c, NULL), 0);
    setting(c, v, sizeof(v));
    assert_string_equal(v, "");
    visible_users(c, v, sizeof(v));
    assert_string_equal(v, "");                     /* cleared: nothing again */
    assert_int_equal(db_set_tenant(c, ""), 0);
    visible_users(c, v, sizeof(v));
    assert_string_equal(v, "");
    db_close(&c);
}

static void test_uuid_checked_and_normalized(void **state)
{
    PGconn *c = connect_api();
    char upper[64], v[128];

    (void)state;
    snprintf(upper, sizeof(upper), "%s", g_a);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_int_equal(db_set_tenant(c, upper), 0);
    setting(c, v, sizeof(v));
    assert_string_equal(v, g_a);                    /* the canonical text, as the policies compare */
    assert_int_equal(db_set_tenant(c, "not-a-uuid' OR true --"), -1);
    assert_string_equal(db_last_sqlstate(), "22P02");
    setting(c, v, sizeof(v));
    assert_string_equal(v, g_a);                    /* a refused value changes nothing */
    db_close(&c);
}

static void test_rollback_undoes_a_change_inside(void **state)
{
    PGconn *c = connect_api();
    char v[128];

    (void)state;
    assert_int_equal(db_set_tenant(c, g_a), 0);
    assert_int_equal(db_tx_begin(c), 0);
    assert_int_equal(db_set_tenant(c, g_b), 0);
    db_tx_rollback(c);
    setting(c, v, sizeof(v));
    assert_string_equal(v, g_a);
    db_close(&c);
}

static void test_pool_release_clears_the_tenant(void **state)
{
    struct db_pool *p = db_pool_new(g_url, DB_ROLE_API, 1, 5000);
    char pid1[32], pid2[32], v[128];
    PGconn *c;

    (void)state;
    assert_non_null(p);
    c = db_pool_acquire_tenant(p, g_a);
    assert_non_null(c);
    one_value(c, "SELECT pg_backend_pid()", pid1, sizeof(pid1));
    visible_users(c, v, sizeof(v));
    assert_string_equal(v, g_a);
    /* an aborted transaction left behind is rolled back, then the tenant cleared */
    assert_int_equal(db_tx_begin(c), 0);
    assert_null(db_query(c, "SELECT 1/0", 0, NULL));
    db_pool_release(p, c);
    assert_string_equal(db_last_sqlstate(), "22012");   /* the borrower's own failure stays readable */
    c = db_pool_acquire(p);                              /* size 1: the same connection again */
    assert_non_null(c);
    one_value(c, "SELECT pg_backend_pid()", pid2, sizeof(pid2));
    assert_string_equal(pid1, pid2);
    setting(c, v, sizeof(v));
    assert_string_equal(v, "");
    visible_users(c, v, sizeof(v));
    assert_string_equal(v, "");
    db_pool_release(p, c);
    c = db_pool_acquire_tenant(p, g_b);
    assert_non_null(c);
    visible_users(c, v, sizeof(v));
    assert_string_equal(v, g_b);
    db_pool_release(p, c);
    db_pool_free(&p);
}

/* A statement prepared per connection: the session's tenant and the tenants of users it sees. */
static struct db_stmt g_seen_stmt = {
    "SELECT coalesce(current_setting('app.tenant_id', true), ''),"
    "       coalesce((SELECT string_agg(DISTINCT tenant_id::text, ',' ORDER BY tenant_id::text) FROM users), '')"
    "  WHERE $1::int = 1", 0};
static struct db_stmt g_fail_stmt = {"SELECT 1 / $1::int", 0};

/* The messages named what ("Sync", "Execute") c sent in trace (libpq's PQtrace output). */
static int sent(FILE *trace, const char *what)
{
    char line[1024];
    int n = 0;

    fflush(trace);
    rewind(trace);
    while (fgets(line, sizeof(line), trace))
        n += strstr(line, "F\t") && strstr(line, what);   /* "[time\t]F\t4\tSync": frontend, length, name */
    return n;
}

/*
 * A pooled connection that had another tenant takes the one asked for with
 * its first prepared statement, in the same round trip (one Sync sent); a
 * statement that fails there leaves no tenant behind for the next borrower.
 */
static void test_pool_sets_the_tenant_with_the_first_statement(void **state)
{
    struct db_pool *p = db_pool_new(g_url, DB_ROLE_API, 1, 5000);
    const char *one[1] = {"1"}, *zero[1] = {"0"};
    FILE *trace = tmpfile();
    PGresult *res;
    PGconn *c;
    char v[128];

    (void)state;
    assert_non_null(p);
    assert_non_null(trace);
    c = db_pool_acquire_tenant(p, g_a);
    assert_non_null(c);
    visible_users(c, v, sizeof(v));   /* a plain statement: the tenant set before it */
    assert_string_equal(v, g_a);
    db_pool_release(p, c);
    c = db_pool_acquire_tenant(p, g_b);   /* size 1: the same connection, tenant A */
    assert_non_null(c);
    res = db_query_prepared(c, &g_seen_stmt, 1, one);   /* prepared here: its own round trip */
    assert_non_null(res);
    assert_string_equal(PQgetvalue(res, 0, 0), g_b);
    assert_string_equal(PQgetvalue(res, 0, 1), g_b);
    PQclear(res);
    db_pool_release(p, c);
    c = db_pool_acquire_tenant(p, g_a);
    assert_non_null(c);
    PQtrace(c, trace);
    res = db_query_prepared(c, &g_seen_stmt, 1, one);
    PQuntrace(c);
    assert_non_null(res);
    assert_string_equal(PQgetvalue(res, 0, 0), g_a);
    assert_string_equal(PQgetvalue(res, 0, 1), g_a);
    PQclear(res);
    assert_int_equal(sent(trace, "\tExecute\t"), 2);   /* the set_config and the statement */
    assert_int_equal(sent(trace, "\tSync"), 1);         /* in one round trip */
    visible_users(c, v, sizeof(v));   /* and it stays */
    assert_string_equal(v, g_a);
    db_pool_release(p, c);
    c = db_pool_acquire_tenant(p, g_b);
    assert_non_null(c);
    assert_int_equal(PQpipelineStatus(c), PQ_PIPELINE_OFF);
    assert_null(db_query_prepared(c, &g_fail_stmt, 1, zero));   /* 1 / 0 in the same round trip as the tenant */
    assert_string_equal(db_last_sqlstate(), "22012");
    assert_int_equal(PQpipelineStatus(c), PQ_PIPELINE_OFF);
    db_pool_release(p, c);
    c = db_pool_acquire(p);
    assert_non_null(c);
    setting(c, v, sizeof(v));
    assert_string_equal(v, "");
    visible_users(c, v, sizeof(v));
    assert_string_equal(v, "");
    db_pool_release(p, c);
    db_pool_free(&p);
    fclose(trace);
}

/* A connection whose tenant cannot be cleared (its server process is gone) is closed, not lent. */
static void test_pool_closes_what_it_cannot_clear(void **state)
{
    struct db_pool *p = db_pool_new(g_url, DB_ROLE_API, 1, 5000);
    char err[256], pid1[32], pid2[32], v[128];
    PGconn *killer = db_connect(g_url, NULL, err, sizeof(err));
    PGconn *c;

    (void)state;
    assert_non_null(p);
    assert_non_null(killer);
    c = db_pool_acquire_tenant(p, g_a);
    assert_non_null(c);
    one_value(c, "SELECT pg_backend_pid()", pid1, sizeof(pid1));
    {
        const char *params[1] = {pid1};
        PGresult *res = db_query(killer, "SELECT pg_terminate_backend($1::int, 5000)", 1, params);

        assert_non_null(res);
        assert_string_equal(PQgetvalue(res, 0, 0), "t");
        PQclear(res);
    }
    db_pool_release(p, c);
    c = db_pool_acquire(p);
    assert_non_null(c);
    one_value(c, "SELECT pg_backend_pid()", pid2, sizeof(pid2));
    assert_string_not_equal(pid1, pid2);
    setting(c, v, sizeof(v));
    assert_string_equal(v, "");
    db_pool_release(p, c);
    db_pool_free(&p);
    db_close(&killer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_clear),
        cmocka_unit_test(test_uuid_checked_and_normalized),
        cmocka_unit_test(test_rollback_undoes_a_change_inside),
        cmocka_unit_test(test_pool_release_clears_the_tenant),
        cmocka_unit_test(test_pool_closes_what_it_cannot_clear),
        cmocka_unit_test(test_pool_sets_the_tenant_with_the_first_statement),
    };

    g_url = getenv("TEST_DATABASE_URL");
    g_a = getenv("TEST_TENANT_A");
    g_b = getenv("TEST_TENANT_B");
    if (!g_url || !g_a || !g_b) {
        fprintf(stderr, "test_db_tenant: set TEST_DATABASE_URL, TEST_TENANT_A and TEST_TENANT_B\n");
        return 2;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
