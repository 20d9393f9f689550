/* Configuration table: defaults, bounds, durations, required variables, messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/timeutil.h"

static void set_required(void)
{
    setenv("DATABASE_URL", "postgresql://x@127.0.0.1/db", 1);
    setenv("SQS_INGEST_QUEUE_URL", "http://127.0.0.1:1/000000000000/ingest", 1);
    setenv("AWS_ACCESS_KEY_ID", "test", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "test", 1);
    setenv("JWT_SECRET", "0123456789abcdef0123456789abcdef", 1);
}

static int reset(void **state)
{
    static const char *const vars[] = {"DATABASE_URL", "API_DATABASE_URL", "SQS_INGEST_QUEUE_URL",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "JWT_SECRET", "AUTH_ENABLED", "QUEUED_TTL",
        "WORKER_CONCURRENCY", "MAX_INFLIGHT", "MAX_UPLOAD_BYTES", "LOG_LEVEL", "EMBED_PROVIDER",
        "CHUNK_SIZE", "CHUNK_OVERLAP", "SEARCH_MIN_COSINE"};

    (void)state;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    set_required();
    return 0;
}

static void test_defaults(void **state)
{
    struct config c;
    char err[256] = "";

    (void)state;
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), 0);
    assert_string_equal(c.http_addr, "0.0.0.0:8000");
    assert_int_equal(c.auth_enabled, 1);
    assert_int_equal(c.queued_ttl_ms, 15 * 60 * 1000);
    assert_int_equal(c.max_upload_bytes, 100 << 20);
    assert_int_equal(config_load(&c, CONFIG_WORKER, err, sizeof(err)), 0);
    assert_int_equal(c.worker_concurrency, 2);
    assert_string_equal(c.embed_provider, "hash");
}

static void test_missing_required_names_variable(void **state)
{
    struct config c;
    char err[256] = "";

    (void)state;
    unsetenv("DATABASE_URL");
    assert_int_equal(config_load(&c, CONFIG_WORKER, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "DATABASE_URL"));
}

static void test_out_of_range_names_variable_and_range(void **state)
{
    struct config c;
    char err[256] = "";

    (void)state;
    setenv("WORKER_CONCURRENCY", "0", 1);
    assert_int_equal(config_load(&c, CONFIG_WORKER, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "WORKER_CONCURRENCY"));
    assert_non_null(strstr(err, "1 to 64"));
    setenv("WORKER_CONCURRENCY", "4x", 1);
    assert_int_equal(config_load(&c, CONFIG_WORKER, err, sizeof(err)), -1);
}

static void test_durations_and_bytes(void **state)
{
    struct config c;
    char err[256] = "";
    int64_t ms = 0;

    (void)state;
    assert_int_equal(time_parse_duration_ms("90", &ms), 0);
    assert_int_equal(ms, 90000);
    assert_int_equal(time_parse_duration_ms("15m", &ms), 0);
    assert_int_equal(ms, 900000);
    assert_int_equal(time_parse_duration_ms("2h", &ms), 0);
    assert_int_equal(ms, 7200000);
    assert_int_equal(time_parse_duration_ms("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(time_parse_duration_ms("5 minutes", &ms), -1);
    assert_int_equal(time_parse_duration_ms("-1s", &ms), -1);

    setenv("QUEUED_TTL", "2h", 1);
    setenv("MAX_UPLOAD_BYTES", "2G", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), 0);
    assert_int_equal(c.queued_ttl_ms, 7200000);
    assert_int_equal(c.max_upload_bytes, (int64_t)2 << 30);
    setenv("QUEUED_TTL", "soon", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "QUEUED_TTL"));
}

static void test_jwt_secret_required_with_auth(void **state)
{
    struct config c;
    char err[256] = "";

    (void)state;
    setenv("JWT_SECRET", "short", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "JWT_SECRET"));
    setenv("AUTH_ENABLED", "false", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), 0);
    assert_int_equal(c.auth_enabled, 0);
    setenv("AUTH_ENABLED", "maybe", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AUTH_ENABLED"));
}

static void test_enums_and_cross_checks(void **state)
{
    struct config c;
    char err[256] = "";

    (void)state;
    setenv("LOG_LEVEL", "loud", 1);
    assert_int_equal(config_load(&c, CONFIG_WORKER, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "LOG_LEVEL"));
    unsetenv("LOG_LEVEL");
    setenv("EMBED_PROVIDER", "openai", 1);
    assert_int_equal(config_load(&c, CONFIG_WORKER, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "EMBED_URL"));
    unsetenv("EMBED_PROVIDER");
    setenv("CHUNK_SIZE", "500", 1);
    setenv("CHUNK_OVERLAP", "500", 1);
    assert_int_equal(config_load(&c, CONFIG_WORKER, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "CHUNK_OVERLAP"));
}

static void test_real_numbers(void **state)
{
    struct config c;
    char err[256] = "";

    (void)state;
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), 0);
    assert_true(c.search_min_cosine > 0.2499 && c.search_min_cosine < 0.2501);
    setenv("SEARCH_MIN_COSINE", "0.4", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), 0);
    assert_true(c.search_min_cosine > 0.3999 && c.search_min_cosine < 0.4001);
    setenv("SEARCH_MIN_COSINE", "1.5", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "SEARCH_MIN_COSINE"));
    assert_non_null(strstr(err, "-1 to 1"));
    setenv("SEARCH_MIN_COSINE", "0.3x", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), -1);
}

static void test_role_specific_url_wins(void **state)
{
    struct config c;
    char err[256] = "";

    (void)state;
    setenv("API_DATABASE_URL", "postgresql://api@127.0.0.1/db", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), 0);
    assert_string_equal(c.database_url, "postgresql://api@127.0.0.1/db");
    assert_int_equal(config_load(&c, CONFIG_WORKER, err, sizeof(err)), 0);
    assert_string_equal(c.database_url, "postgresql://x@127.0.0.1/db");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, reset),
        cmocka_unit_test_setup(test_missing_required_names_variable, reset),
        cmocka_unit_test_setup(test_out_of_range_names_variable_and_range, reset),
        cmocka_unit_test_setup(test_durations_and_bytes, reset),
        cmocka_unit_test_setup(test_jwt_secret_required_with_auth, reset),
        cmocka_unit_test_setup(test_enums_and_cross_checks, reset),
        cmocka_unit_test_setup(test_real_numbers, reset),
        cmocka_unit_test_setup(test_role_specific_url_wins, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
