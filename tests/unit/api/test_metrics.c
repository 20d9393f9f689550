/* test_metrics.c - counters and histograms in Prometheus text format. */
#include "api/http/metrics.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void render(void **state)
{
    struct buf out;

    (void)state;
    metrics_request("/v1/search", "POST", 200, 3);
    metrics_request("/v1/search", "POST", 200, 40);
    metrics_request("/v1/search", "POST", 503, 20000);
    metrics_request("/v1/search", "POST", 200, 60000);
    metrics_request("static", "GET", 404, 1);
    metrics_request("we\"ird", "GET", 200, 1);
    metrics_upload(100);
    metrics_upload(23);
    buf_init(&out, 1 << 20);
    assert_int_equal(metrics_render(&out), 0);
    assert_non_null(strstr(out.ptr, "http_requests_total{route=\"/v1/search\",method=\"POST\",status=\"2xx\"} 3\n"));
    assert_non_null(strstr(out.ptr, "http_requests_total{route=\"/v1/search\",method=\"POST\",status=\"5xx\"} 1\n"));
    assert_non_null(strstr(out.ptr, "http_requests_total{route=\"static\",method=\"GET\",status=\"4xx\"} 1\n"));
    assert_non_null(strstr(out.ptr, "route=\"we\\\"ird\""));
    assert_non_null(
        strstr(out.ptr, "http_request_duration_seconds_bucket{route=\"/v1/search\",method=\"POST\",le=\"0.005\"} 1\n"));
    assert_non_null(
        strstr(out.ptr, "http_request_duration_seconds_bucket{route=\"/v1/search\",method=\"POST\",le=\"0.05\"} 2\n"));
    assert_non_null(
        strstr(out.ptr, "http_request_duration_seconds_bucket{route=\"/v1/search\",method=\"POST\",le=\"30\"} 3\n"));
    assert_non_null(
        strstr(out.ptr, "http_request_duration_seconds_bucket{route=\"/v1/search\",method=\"POST\",le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(out.ptr, "http_request_duration_seconds_count{route=\"/v1/search\",method=\"POST\"} 4\n"));
    assert_non_null(strstr(out.ptr, "http_request_duration_seconds_sum{route=\"/v1/search\",method=\"POST\"} 80.043\n"));
    assert_non_null(strstr(out.ptr, "uploads_total 2\n"));
    assert_non_null(strstr(out.ptr, "upload_bytes_total 123\n"));
    buf_release(&out);
}

static void bounded_output(void **state)
{
    struct buf out;

    (void)state;
    metrics_request("/healthz", "GET", 200, 1);
    buf_init(&out, 64);
    assert_int_equal(metrics_render(&out), -1);
    buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(render), cmocka_unit_test(bounded_output)};

    return cmocka_run_group_tests(tests, NULL, NULL);
}
