/* Unit tests for RUNNING_TTL against the workers' takeover bound (src/common/takeover.c, config.c). */
#include "common/config.h"
#include "common/takeover.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* VISIBILITY_TIMEOUT + TAKEOVER_AFTER + HEARTBEAT_INTERVAL + 5 s: 135 s with the defaults. */
static void test_bound_of_settings(void **state)
{
    struct config cfg;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.visibility_timeout_ms = 60000;
    cfg.takeover_after_ms = 60000;
    cfg.heartbeat_interval_ms = 10000;
    assert_int_equal(config_takeover_bound_ms(&cfg), 135000);
    cfg.visibility_timeout_ms = 2000;
    assert_int_equal(config_takeover_bound_ms(&cfg), 77000);
}

/* The guard waits the larger of the two; "too short" only with a bound seen and a TTL not above it. */
static void test_ttl_against_bound(void **state)
{
    (void)state;
    assert_int_equal(takeover_running_ttl(20000, 135000), 135000);
    assert_int_equal(takeover_running_ttl(600000, 135000), 600000);
    assert_int_equal(takeover_running_ttl(20000, 0), 20000);
    assert_true(takeover_ttl_too_short(20000, 135000));
    assert_true(takeover_ttl_too_short(135000, 135000));
    assert_false(takeover_ttl_too_short(135001, 135000));
    assert_false(takeover_ttl_too_short(20000, 0));   /* no worker seen: nothing to compare */
    assert_int_equal(takeover_warn_if_short(600000, 135000), 0);
    assert_int_equal(takeover_warn_if_short(20000, 135000), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_of_settings),
        cmocka_unit_test(test_ttl_against_bound),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
