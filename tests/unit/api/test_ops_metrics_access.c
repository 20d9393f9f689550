/* test_ops_metrics_access.c - who may read GET /metrics (METRICS_TOKEN, loopback clients). */
#include "api/handlers/ops.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* GET /metrics from client addr (no connection: no request headers), with METRICS_TOKEN token. */
static void call(const char *token, const char *addr, unsigned want_status, const char *needle)
{
    struct config cfg;
    struct api_app app;
    struct req r;

    memset(&cfg, 0, sizeof(cfg));
    memset(&app, 0, sizeof(app));
    cfg.metrics_token = token;
    app.cfg = &cfg;
    assert_int_equal(req_init(&r, &app, NULL, "GET", "/metrics"), 0);
    snprintf(r.client_addr, sizeof(r.client_addr), "%s", addr);
    ops_metrics(&r);
    assert_true(r.answered);
    assert_int_equal(r.status, want_status);
    assert_non_null(r.resp_body);
    if (!strstr(r.resp_body, needle))
        fail_msg("\"%s\" not in the answer %s", needle, r.resp_body);
    if (want_status == 401)
        assert_true(req_has_resp_header(&r, "WWW-Authenticate"));
    req_release(&r);
}

static void loopback_addresses(void **state)
{
    (void)state;
    assert_true(ops_is_loopback("127.0.0.1"));
    assert_true(ops_is_loopback("127.255.0.9"));
    assert_true(ops_is_loopback("::1"));
    assert_true(ops_is_loopback("::ffff:127.0.0.1"));
    assert_false(ops_is_loopback("10.0.0.1"));
    assert_false(ops_is_loopback("128.0.0.1"));
    assert_false(ops_is_loopback("::ffff:10.0.0.1"));
    assert_false(ops_is_loopback("::2"));
    assert_false(ops_is_loopback("fe80::1"));
    assert_false(ops_is_loopback("unknown"));
    assert_false(ops_is_loopback(""));
    assert_false(ops_is_loopback(NULL));
}

static void no_token_loopback_only(void **state)
{
    (void)state;
    /* no database: the text is still served, with the scrape marked failed */
    call("", "127.0.0.1", 200, "ingest_runs_scrape_ok 0");
    call(NULL, "::1", 200, "ingest_runs_scrape_ok 0");
    call("", "192.0.2.10", 403, "loopback clients only");
    call("", "2001:db8::1", 403, "METRICS_TOKEN");
    call("", "unknown", 403, "\"forbidden\"");
}

static void token_required_everywhere(void **state)
{
    (void)state;
    /* with a token, loopback is no exception: no Authorization header here, so 401 */
    call("a-long-random-metrics-token", "127.0.0.1", 401, "\"unauthorized\"");
    call("a-long-random-metrics-token", "192.0.2.10", 401, "Bearer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loopback_addresses),
        cmocka_unit_test(no_token_loopback_only),
        cmocka_unit_test(token_required_everywhere),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
