/* Unit tests for the instance's upload cap and the per-tenant upload rate (src/api/upload_gate.c). */
#include "api/upload_gate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define TENANT_A "11111111-2222-4333-8444-55555555555a"
#define TENANT_B "11111111-2222-4333-8444-55555555555b"

/* Past max_instance places (all tenants together: no tenant is known yet), the next upload is refused (503) until one leaves. */
static void test_instance_cap(void **state)
{
    struct upload_gate g[3] = {{0}}, extra = {0};
    int64_t retry = 0;

    (void)state;
    assert_int_equal(upload_gate_enter(&g[0], 3, &retry), UPLOAD_GATE_OK);
    assert_int_equal(upload_gate_enter(&g[1], 3, &retry), UPLOAD_GATE_OK);
    assert_int_equal(upload_gate_enter(&g[2], 3, &retry), UPLOAD_GATE_OK);
    assert_int_equal(upload_gate_in_progress(), 3);
    assert_true(upload_gate_full(3));
    assert_false(upload_gate_full(4));
    assert_int_equal(upload_gate_enter(&extra, 3, &retry), UPLOAD_GATE_INSTANCE_FULL);
    assert_int_equal(extra.held, 0);
    assert_true(retry >= 1);
    upload_gate_leave(&extra);   /* holds nothing: no effect */
    assert_int_equal(upload_gate_in_progress(), 3);
    upload_gate_leave(&g[1]);
    upload_gate_leave(&g[1]);    /* twice: the second is a no-op */
    assert_int_equal(upload_gate_in_progress(), 2);
    assert_false(upload_gate_full(3));
    assert_int_equal(upload_gate_enter(&extra, 3, &retry), UPLOAD_GATE_OK);
    upload_gate_leave(&extra);
    upload_gate_leave(&g[0]);
    upload_gate_leave(&g[2]);
    assert_int_equal(upload_gate_in_progress(), 0);
}

/* A tenant gets rate_per_min starts at once, then one per 60/rate seconds; another tenant has its own bucket. */
static void test_tenant_rate(void **state)
{
    int64_t retry = 0, t = 1000000;

    (void)state;
    for (int i = 0; i < 6; i++)
        assert_int_equal(upload_gate_token(TENANT_A, 6, t, &retry), UPLOAD_GATE_OK);
    assert_int_equal(upload_gate_token(TENANT_A, 6, t, &retry), UPLOAD_GATE_RATE);
    assert_int_equal(retry, 10);   /* one token every 10 s */
    assert_int_equal(upload_gate_in_progress(), 0);   /* tokens are not places */
    /* the other tenant is not affected */
    assert_int_equal(upload_gate_token(TENANT_B, 6, t, &retry), UPLOAD_GATE_OK);
    /* 5 s later: half a token, 5 s to go; 10 s later one token */
    assert_int_equal(upload_gate_token(TENANT_A, 6, t + 5000, &retry), UPLOAD_GATE_RATE);
    assert_int_equal(retry, 5);
    assert_int_equal(upload_gate_token(TENANT_A, 6, t + 10000, &retry), UPLOAD_GATE_OK);
    assert_int_equal(upload_gate_token(TENANT_A, 6, t + 10000, &retry), UPLOAD_GATE_RATE);
    /* a long pause refills at most a minute's worth */
    for (int i = 0; i < 6; i++)
        assert_int_equal(upload_gate_token(TENANT_A, 6, t + 3600000, &retry), UPLOAD_GATE_OK);
    assert_int_equal(upload_gate_token(TENANT_A, 6, t + 3600000, &retry), UPLOAD_GATE_RATE);
    /* rate 0: no limit */
    for (int i = 0; i < 100; i++)
        assert_int_equal(upload_gate_token(TENANT_B, 0, t, &retry), UPLOAD_GATE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_instance_cap),
        cmocka_unit_test(test_tenant_rate),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
