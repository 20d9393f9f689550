/*
 * test_db_pool - the connection pool's acquire deadline (src/common/db.c)
 * against a live PostgreSQL, normally the one tests/integration/isolation.test.mjs
 * starts.
 *
 * Env: TEST_DATABASE_URL (a login that may SET ROLE core_api). Every wait is
 * bounded: the pool's own deadline is at most 3 s, and each case asserts the
 * time it took.
 */
#include "common/db.h"
#include "../../support/net.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static const char *g_url;

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An exhausted pool answers NULL after its deadline, not before and not much later. */
static void test_exhausted_pool_times_out(void **state)
{
    struct db_pool *p = db_pool_new(g_url, DB_ROLE_API, 1, 400);
    PGconn *held, *again;
    int64_t t0, took;

    (void)state;
    assert_non_null(p);
    held = db_pool_acquire(p);
    assert_non_null(held);
    assert_int_equal(db_exec(held, "SELECT 1", 0, NULL), 0);
    t0 = mono_ms();
    again = db_pool_acquire(p);
    took = mono_ms() - t0;
    assert_null(again);
    assert_string_equal(db_last_sqlstate(), DB_POOL_EXHAUSTED);
    if (took < 390 || took > 1500)
        fail_msg("acquire on an exhausted pool took %lld ms, want about 400", (long long)took);
    /* given back, the connection is lent again at once */
    db_pool_release(p, held);
    t0 = mono_ms();
    again = db_pool_acquire(p);
    assert_non_null(again);
    assert_true(mono_ms() - t0 < 1000);
    db_pool_release(p, again);
    db_pool_free(&p);
    assert_null(p);
}

/* DB_ACQUIRE_TIMEOUT=0: no wait at all. */
static void test_zero_timeout_fails_at_once(void **state)
{
    struct db_pool *p = db_pool_new(g_url, DB_ROLE_API, 1, 0);
    PGconn *held;
    int64_t t0;

    (void)state;
    assert_non_null(p);
    held = db_pool_acquire(p);
    assert_non_null(held);
    t0 = mono_ms();
    assert_null(db_pool_acquire(p));
    assert_true(mono_ms() - t0 < 200);
    assert_string_equal(db_last_sqlstate(), DB_POOL_EXHAUSTED);
    db_pool_release(p, held);
    db_pool_free(&p);
}

struct waiter {
    struct db_pool *p;
    PGconn *got;
    int64_t waited_ms;
};

static void *wait_for_connection(void *arg)
{
    struct waiter *w = arg;
    int64_t t0 = mono_ms();

    w->got = db_pool_acquire(w->p);
    w->waited_ms = mono_ms() - t0;
    return NULL;
}

/* A waiter gets the connection as soon as it comes back, well before its deadline. */
static void test_waiter_wakes_on_release(void **state)
{
    struct db_pool *p = db_pool_new(g_url, DB_ROLE_API, 1, 3000);
    struct waiter w = {0};
    pthread_t t;
    PGconn *held;

    (void)state;
    assert_non_null(p);
    held = db_pool_acquire(p);
    assert_non_null(held);
    w.p = p;
    assert_int_equal(pthread_create(&t, NULL, wait_for_connection, &w), 0);
    usleep(200 * 1000);
    db_pool_release(p, held);
    pthread_join(t, NULL);
    assert_non_null(w.got);
    if (w.waited_ms < 150 || w.waited_ms > 2000)
        fail_msg("the waiter waited %lld ms, want about 200", (long long)w.waited_ms);
    assert_int_equal(db_exec(w.got, "SELECT 1", 0, NULL), 0);
    db_pool_release(p, w.got);
    db_pool_free(&p);
}

/* A database nobody answers for: NULL with the connection SQLSTATE, and the slot stays usable. */
static void test_unreachable_database(void **state)
{
    struct db_pool *p;
    unsigned short port;
    char url[128];
    int64_t t0;

    (void)state;
    assert_int_equal(net_closed_port(&port), 0);
    snprintf(url, sizeof(url), "postgresql://nobody@127.0.0.1:%u/none?connect_timeout=2", (unsigned)port);
    p = db_pool_new(url, NULL, 1, 3000);
    assert_non_null(p);
    for (int i = 0; i < 2; i++) {
        t0 = mono_ms();
        assert_null(db_pool_acquire(p));
        assert_string_equal(db_last_sqlstate(), DB_POOL_UNREACHABLE);
        /* refused at once: the slot came back, nobody waits for the deadline */
        assert_true(mono_ms() - t0 < 2500);
    }
    db_pool_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exhausted_pool_times_out),
        cmocka_unit_test(test_zero_timeout_fails_at_once),
        cmocka_unit_test(test_waiter_wakes_on_release),
        cmocka_unit_test(test_unreachable_database),
    };

    g_url = getenv("TEST_DATABASE_URL");
    if (!g_url || !*g_url) {
        fprintf(stderr, "test_db_pool: TEST_DATABASE_URL is not set\n");
        return 2;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
