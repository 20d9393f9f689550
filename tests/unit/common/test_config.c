/* Configuration table: defaults, bounds, durations, required variables, messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
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
        "CHUNK_SIZE", "CHUNK_OVERLAP", "SEARCH_MIN_COSINE", "HTTP_ADDR", "AWS_REGION", "AWS_ENDPOINT_URL",
        "EMBED_URL", "EMBED_MODEL", "EMBED_API_KEY", "EMBED_DIM", "EMBED_BATCH", "EMBED_TIMEOUT"};

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

/* The one-line message of a refused value, per type: what an operator reads before exit 2. */
static void expect_message(unsigned program, const char *var, const char *value, const char *want)
{
    struct config c;
    char err[256] = "";

    setenv(var, value, 1);
    assert_int_equal(config_load(&c, program, err, sizeof(err)), -1);
    assert_string_equal(err, want);
    unsetenv(var);
}

static void test_messages_per_type(void **state)
{
    (void)state;
    expect_message(CONFIG_WORKER, "WORKER_CONCURRENCY", "0",
                   "WORKER_CONCURRENCY: invalid value \"0\" (an integer from 1 to 64)");
    expect_message(CONFIG_WORKER, "WORKER_CONCURRENCY", "99999999999999999999",
                   "WORKER_CONCURRENCY: invalid value \"99999999999999999999\" (an integer from 1 to 64)");
    expect_message(CONFIG_API, "QUEUED_TTL", "soon",
                   "QUEUED_TTL: invalid value \"soon\" (a duration from 1000ms to 604800s: seconds or 500ms, "
                   "90s, 15m, 2h)");
    expect_message(CONFIG_API, "MAX_UPLOAD_BYTES", "2X",
                   "MAX_UPLOAD_BYTES: invalid value \"2X\" (bytes from 1 to 1099511627776, suffix K, M, G allowed)");
    expect_message(CONFIG_API, "MAX_UPLOAD_BYTES", "2Gx",
                   "MAX_UPLOAD_BYTES: invalid value \"2Gx\" (bytes from 1 to 1099511627776, suffix K, M, G allowed)");
    expect_message(CONFIG_API, "AUTH_ENABLED", "maybe", "AUTH_ENABLED: invalid value \"maybe\" (accepted: true|false)");
    expect_message(CONFIG_WORKER, "LOG_LEVEL", "loud",
                   "LOG_LEVEL: invalid value \"loud\" (accepted: debug|info|warn|error)");
    expect_message(CONFIG_API, "SEARCH_MIN_COSINE", "1.5",
                   "SEARCH_MIN_COSINE: invalid value \"1.5\" (a number from -1 to 1)");
    /* A string shorter than its minimum reads as not set: the help says what it should be. */
    expect_message(CONFIG_API, "HTTP_ADDR", "ab", "HTTP_ADDR: listen address host:port (must be set)");
}

static void test_booleans_and_byte_suffixes(void **state)
{
    static const char *const yes[] = {"true", "TRUE", "1", "yes", "Yes"};
    static const char *const no[] = {"false", "False", "0", "no", "NO"};
    struct config c;
    char err[256] = "";

    (void)state;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        setenv("AUTH_ENABLED", yes[i], 1);
        assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), 0);
        assert_int_equal(c.auth_enabled, 1);
        setenv("AUTH_ENABLED", no[i], 1);
        assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), 0);
        assert_int_equal(c.auth_enabled, 0);
    }
    setenv("MAX_UPLOAD_BYTES", "512k", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), 0);
    assert_int_equal(c.max_upload_bytes, 512 << 10);
    setenv("MAX_UPLOAD_BYTES", "3MiB", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), 0);
    assert_int_equal(c.max_upload_bytes, 3 << 20);
    setenv("MAX_UPLOAD_BYTES", "1TB", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), 0);
    assert_int_equal(c.max_upload_bytes, (int64_t)1 << 40);
    setenv("MAX_UPLOAD_BYTES", "2T", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), -1);
    setenv("MAX_UPLOAD_BYTES", "-1", 1);
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), -1);
}

static void test_config_sqs(void **state)
{
    struct config c;
    struct sqs_config sc;
    char err[256] = "";

    (void)state;
    setenv("AWS_REGION", "eu-west-1", 1);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566", 1);
    assert_int_equal(config_load(&c, CONFIG_WORKER, err, sizeof(err)), 0);
    sc = config_sqs(&c, 1234);
    assert_string_equal(sc.endpoint, "http://127.0.0.1:4566");
    assert_string_equal(sc.region, "eu-west-1");
    assert_string_equal(sc.access_key_id, "test");
    assert_string_equal(sc.secret_access_key, "test");
    assert_int_equal(sc.timeout_ms, 1234);
    /* Defaults: the AWS endpoint is derived by the client from an empty one. */
    unsetenv("AWS_REGION");
    unsetenv("AWS_ENDPOINT_URL");
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), 0);
    sc = config_sqs(&c, 0);
    assert_string_equal(sc.endpoint, "");
    assert_string_equal(sc.region, "us-east-1");
    assert_int_equal(sc.timeout_ms, 0);
}

static void expect_embed(const struct embed_config *got, const struct embed_config *want)
{
    assert_string_equal(got->provider, want->provider);
    assert_string_equal(got->url, want->url);
    assert_string_equal(got->model, want->model);
    assert_string_equal(got->api_key, want->api_key);
    assert_int_equal(got->dim, want->dim);
    assert_int_equal(got->batch, want->batch);
    assert_int_equal(got->timeout_ms, want->timeout_ms);
}

static void test_config_embed(void **state)
{
    const struct embed_config defaults = {"hash", "", "hash-v1", "", 256, 32, 30000};
    const struct embed_config openai = {"openai", "http://127.0.0.1:8080", "text-embedding-3-small", "sk-test",
                                        1536, 64, 5000};
    struct config c;
    struct embed_config ec;
    char err[256] = "";

    (void)state;
    assert_int_equal(config_load(&c, CONFIG_WORKER, err, sizeof(err)), 0);
    ec = config_embed(&c);
    expect_embed(&ec, &defaults);

    setenv("EMBED_PROVIDER", "openai", 1);
    setenv("EMBED_URL", "http://127.0.0.1:8080", 1);
    setenv("EMBED_MODEL", "text-embedding-3-small", 1);
    setenv("EMBED_API_KEY", "sk-test", 1);
    setenv("EMBED_DIM", "1536", 1);
    setenv("EMBED_BATCH", "64", 1);
    setenv("EMBED_TIMEOUT", "5s", 1);
    assert_int_equal(config_load(&c, CONFIG_WORKER, err, sizeof(err)), 0);
    ec = config_embed(&c);
    expect_embed(&ec, &openai);
    /* core-api reads no EMBED_BATCH: its embedder gets 0, which the provider reads as 32. */
    assert_int_equal(config_load(&c, CONFIG_API, err, sizeof(err)), 0);
    ec = config_embed(&c);
    assert_int_equal(ec.batch, 0);
    assert_int_equal(ec.dim, 1536);
}

/* Run fn with stderr sent to a temporary file; the file's text into out. */
static void capture_stderr(void (*fn)(void *arg), void *arg, char *out, size_t outlen)
{
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n;

    assert_non_null(tmp);
    assert_true(saved >= 0);
    fflush(stderr);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    fn(arg);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    n = fread(out, 1, outlen - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
}

struct report_call {
    unsigned program;
    int rc;
};

static void call_report(void *arg)
{
    struct report_call *rc = arg;
    struct config c;

    rc->rc = config_load_report(&c, rc->program, "ingest-worker");
}

static void test_load_report_prints_one_line(void **state)
{
    struct report_call call = {CONFIG_WORKER, 99};
    char text[512];

    (void)state;
    capture_stderr(call_report, &call, text, sizeof(text));
    assert_int_equal(call.rc, 0);
    assert_string_equal(text, "");
    unsetenv("DATABASE_URL");
    capture_stderr(call_report, &call, text, sizeof(text));
    assert_int_equal(call.rc, -1);
    assert_string_equal(text, "ingest-worker: DATABASE_URL is required: libpq connection string or URI "
                              "(API_DATABASE_URL / WORKER_DATABASE_URL override it per program)\n");
}

static void log_info_and_warn(void *arg)
{
    (void)arg;
    log_event(LOG_INFO, "an info line", NULL);
    log_event(LOG_WARN, "a warn line", NULL);
}

static void test_log_init_named(void **state)
{
    /* NULL, empty and unknown names start at info, as an unset LOG_LEVEL does. */
    static const struct {
        const char *svc, *level;
        int info_written, warn_written;
    } cases[] = {
        {"core-api", "warn", 0, 1},
        {"ingest-worker", NULL, 1, 1},
        {"core-api", "", 1, 1},
        {"core-api", "loud", 1, 1},
        {"core-api", "debug", 1, 1},
        {"ingest-worker", "error", 0, 0},
    };
    char text[1024], svc[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        log_init_named(cases[i].svc, cases[i].level);
        capture_stderr(log_info_and_warn, NULL, text, sizeof(text));
        assert_int_equal(strstr(text, "\"msg\":\"an info line\"") != NULL, cases[i].info_written);
        assert_int_equal(strstr(text, "\"msg\":\"a warn line\"") != NULL, cases[i].warn_written);
        snprintf(svc, sizeof(svc), "\"svc\":\"%s\"", cases[i].svc);
        if (cases[i].warn_written)
            assert_non_null(strstr(text, svc));
    }
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
        cmocka_unit_test_setup(test_messages_per_type, reset),
        cmocka_unit_test_setup(test_booleans_and_byte_suffixes, reset),
        cmocka_unit_test_setup(test_config_sqs, reset),
        cmocka_unit_test_setup(test_config_embed, reset),
        cmocka_unit_test_setup(test_load_report_prints_one_line, reset),
        cmocka_unit_test_setup(test_log_init_named, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
