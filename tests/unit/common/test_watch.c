/* watch: a fired key wakes its waiter only, a registered waiter misses no event, deadlines, close. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "common/watch.h"

static void test_fire_reaches_only_its_key(void **state)
{
    struct watch *reg = watch_new();
    struct watch_waiter a, b;

    (void)state;
    assert_non_null(reg);
    watch_add(reg, &a, "t1/run-a");
    watch_add(reg, &b, "t2/run-a");   /* the same run id under another tenant is another key */
    assert_int_equal(watch_count(reg), 2);
    watch_fire(reg, "t1/run-a");
    assert_int_equal(watch_wait(reg, &a, time_mono_ms() + 1000), 1);
    assert_int_equal(watch_wait(reg, &b, time_mono_ms() + 50), 0);
    watch_rearm(reg, &a);
    assert_int_equal(watch_wait(reg, &a, time_mono_ms() + 50), 0);
    watch_remove(reg, &a);
    watch_remove(reg, &b);
    assert_int_equal(watch_count(reg), 0);
    watch_free(&reg);
    assert_null(reg);
}

/* An event between registering and sleeping is kept (the waiter finds it fired). */
static void test_event_before_sleep_is_kept(void **state)
{
    struct watch *reg = watch_new();
    struct watch_waiter w;
    int64_t t0;

    (void)state;
    watch_add(reg, &w, "k");
    watch_fire(reg, "k");
    t0 = time_mono_ms();
    assert_int_equal(watch_wait(reg, &w, t0 + 5000), 1);
    assert_true(time_mono_ms() - t0 < 1000);
    watch_remove(reg, &w);
    watch_free(&reg);
}

struct waiter_arg {
    struct watch *reg;
    int fired;
    int64_t waited_ms;
};

static void *waiter_main(void *p)
{
    struct waiter_arg *a = p;
    struct watch_waiter w;
    int64_t t0 = time_mono_ms();

    watch_add(a->reg, &w, "slow");
    a->fired = watch_wait(a->reg, &w, t0 + 5000);
    a->waited_ms = time_mono_ms() - t0;
    watch_remove(a->reg, &w);
    return NULL;
}

static void test_fire_all_and_close_wake_sleepers(void **state)
{
    struct watch *reg = watch_new();
    struct waiter_arg a = {reg, 0, 0};
    struct watch_waiter late;
    pthread_t t;

    (void)state;
    assert_int_equal(pthread_create(&t, NULL, waiter_main, &a), 0);
    while (watch_count(reg) == 0)
        usleep(1000);
    usleep(20000);
    watch_close(reg);
    pthread_join(t, NULL);
    assert_int_equal(a.fired, 1);
    assert_true(a.waited_ms < 2000);
    /* after close, a new waiter is fired at once, and rearm cannot undo it */
    watch_add(reg, &late, "any");
    watch_rearm(reg, &late);
    assert_int_equal(watch_wait(reg, &late, time_mono_ms() + 5000), 1);
    watch_remove(reg, &late);
    watch_free(&reg);
    watch_fire(NULL, "k");
    watch_fire_all(NULL);
    assert_int_equal(watch_count(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fire_reaches_only_its_key),
        cmocka_unit_test(test_event_before_sleep_is_kept),
        cmocka_unit_test(test_fire_all_and_close_wake_sleepers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
