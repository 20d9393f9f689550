/*
 * test_log - common/log.c: level names, filtering by the minimum level, the
 * JSON line ({"ts","level","svc","msg",...fields}, one line, ASCII only),
 * escaping, the stolen fields reference, and whole lines under threads.
 * stderr is captured by pointing file descriptor 2 at a temporary file for the
 * duration of the calls; it is restored before any assertion runs.
 */
#include "common/log.h"
#include "common/timeutil.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define CAP_MAX (1 << 20)

struct capture {
    FILE *file;
    int saved_fd;
};

static void capture_begin(struct capture *c)
{
    fflush(stderr);
    c->file = tmpfile();
    assert_non_null(c->file);
    c->saved_fd = dup(STDERR_FILENO);
    assert_true(c->saved_fd >= 0);
    assert_true(dup2(fileno(c->file), STDERR_FILENO) >= 0);
}

/* Restores stderr and returns what was written meanwhile (malloc'd, NUL-terminated). */
static char *capture_end(struct capture *c)
{
    char *text = malloc(CAP_MAX + 1);
    size_t n;

    assert_true(dup2(c->saved_fd, STDERR_FILENO) >= 0);
    close(c->saved_fd);
    assert_non_null(text);
    rewind(c->file);
    n = fread(text, 1, CAP_MAX, c->file);
    text[n] = '\0';
    fclose(c->file);
    return text;
}

/* Parses a capture that must hold exactly one line; returns the object. */
static json_t *one_line(const char *text)
{
    size_t len = strlen(text);
    json_error_t jerr;
    json_t *j;

    if (len == 0)
        fail_msg("no line was written");
    if (text[len - 1] != '\n' || strchr(text, '\n') != text + len - 1)
        fail_msg("not exactly one newline-terminated line: [%s]", text);
    j = json_loads(text, JSON_DISABLE_EOF_CHECK, &jerr);
    if (!json_is_object(j))
        fail_msg("not a JSON object (%s): [%s]", jerr.text, text);
    return j;
}

static const char *str_field(json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));

    if (!s)
        fail_msg("no string field \"%s\"", key);
    return s;
}

static void test_level_parse(void **state)
{
    (void)state;
    assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
    assert_int_equal(log_level_parse("info"), LOG_INFO);
    assert_int_equal(log_level_parse("warn"), LOG_WARN);
    assert_int_equal(log_level_parse("error"), LOG_ERROR);
    assert_int_equal(log_level_parse(""), -1);
    assert_int_equal(log_level_parse("INFO"), -1);
    assert_int_equal(log_level_parse("warning"), -1);
    assert_int_equal(log_level_parse("err"), -1);
    assert_int_equal(log_level_parse("info "), -1);
    assert_int_equal(log_level_parse("fatal"), -1);
    assert_int_equal(log_level_parse(NULL), -1);
}

/* Writes one line at each level with the given minimum; returns the levels seen. */
static void levels_written(enum log_level min, char *seen, size_t seen_len)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    struct capture c;
    char *text, *line, *save = NULL;

    log_init("test-svc", min);
    capture_begin(&c);
    for (int l = LOG_DEBUG; l <= LOG_ERROR; l++)
        log_event((enum log_level)l, names[l], NULL);
    text = capture_end(&c);
    seen[0] = '\0';
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);

        assert_non_null(j);
        /* the level field names the level the line was written at */
        assert_string_equal(str_field(j, "level"), str_field(j, "msg"));
        snprintf(seen + strlen(seen), seen_len - strlen(seen), "%s%s", *seen ? "," : "",
                 str_field(j, "level"));
        json_decref(j);
    }
    free(text);
}

static void test_filtering(void **state)
{
    char seen[64];

    (void)state;
    levels_written(LOG_DEBUG, seen, sizeof(seen));
    assert_string_equal(seen, "debug,info,warn,error");
    levels_written(LOG_INFO, seen, sizeof(seen));
    assert_string_equal(seen, "info,warn,error");
    levels_written(LOG_WARN, seen, sizeof(seen));
    assert_string_equal(seen, "warn,error");
    levels_written(LOG_ERROR, seen, sizeof(seen));
    assert_string_equal(seen, "error");
}

static void test_shorthands_and_msgf(void **state)
{
    struct capture c;
    char *text;
    json_t *j;

    (void)state;
    log_init("svc-a", LOG_INFO);
    capture_begin(&c);
    log_debug("hidden", NULL);
    log_msgf(LOG_DEBUG, "hidden %d", 1);
    text = capture_end(&c);
    assert_string_equal(text, "");   /* below the minimum: nothing at all */
    free(text);

    capture_begin(&c);
    log_msgf(LOG_WARN, "n=%d s=%s pct=%%", 42, "x");
    text = capture_end(&c);
    j = one_line(text);
    assert_string_equal(str_field(j, "msg"), "n=42 s=x pct=%");
    assert_string_equal(str_field(j, "level"), "warn");
    assert_string_equal(str_field(j, "svc"), "svc-a");
    json_decref(j);
    free(text);

    capture_begin(&c);
    log_error("boom", NULL);
    text = capture_end(&c);
    j = one_line(text);
    assert_string_equal(str_field(j, "level"), "error");
    json_decref(j);
    free(text);
}

static void test_line_format(void **state)
{
    struct capture c;
    char *text, before[40], after[40];
    const char *ts, *p_ts, *p_level, *p_svc, *p_msg;
    json_t *j;

    (void)state;
    log_init("core-api", LOG_DEBUG);
    time_format_rfc3339(time_now_ms(), before, sizeof(before));
    capture_begin(&c);
    log_info("started", json_pack("{s:s,s:i,s:b}", "tenant", "t1", "port", 8080, "tls", 0));
    text = capture_end(&c);
    time_format_rfc3339(time_now_ms(), after, sizeof(after));

    j = one_line(text);
    /* the four keys come first and in this order, then the fields */
    assert_true(strncmp(text, "{\"ts\":\"", 7) == 0);
    p_ts = strstr(text, "\"ts\":");
    p_level = strstr(text, "\"level\":");
    p_svc = strstr(text, "\"svc\":");
    p_msg = strstr(text, "\"msg\":");
    assert_non_null(p_level);
    assert_non_null(p_svc);
    assert_non_null(p_msg);
    assert_true(p_ts < p_level && p_level < p_svc && p_svc < p_msg);
    assert_true(p_msg < strstr(text, "\"tenant\":"));
    /* compact: no space after separators */
    assert_null(strstr(text, "\": "));
    assert_null(strstr(text, ", \""));

    assert_string_equal(str_field(j, "level"), "info");
    assert_string_equal(str_field(j, "svc"), "core-api");
    assert_string_equal(str_field(j, "msg"), "started");
    assert_string_equal(str_field(j, "tenant"), "t1");
    assert_int_equal(json_integer_value(json_object_get(j, "port")), 8080);
    assert_true(json_is_false(json_object_get(j, "tls")));
    assert_int_equal(json_object_size(j), 7);
    /* ts: RFC 3339 UTC with milliseconds, taken between the two clock reads */
    ts = str_field(j, "ts");
    assert_int_equal(strlen(ts), 24);
    assert_int_equal(ts[23], 'Z');
    assert_true(strcmp(before, ts) <= 0);
    assert_true(strcmp(ts, after) <= 0);
    json_decref(j);
    free(text);
}

static void test_fields_cannot_replace_the_fixed_keys(void **state)
{
    struct capture c;
    char *text;
    json_t *j;

    (void)state;
    log_init("svc-b", LOG_INFO);
    capture_begin(&c);
    log_warn("real", json_pack("{s:s,s:s,s:s,s:s,s:s}", "msg", "forged", "level", "debug",
                               "svc", "other", "ts", "1970", "extra", "kept"));
    text = capture_end(&c);
    j = one_line(text);
    assert_string_equal(str_field(j, "msg"), "real");
    assert_string_equal(str_field(j, "level"), "warn");
    assert_string_equal(str_field(j, "svc"), "svc-b");
    assert_string_not_equal(str_field(j, "ts"), "1970");
    assert_string_equal(str_field(j, "extra"), "kept");
    assert_int_equal(json_object_size(j), 5);
    json_decref(j);
    free(text);
}

/* The fields reference is stolen on every path (the sanitizer build catches leaks). */
static void test_fields_reference_is_stolen(void **state)
{
    struct capture c;
    char *text;
    json_t *kept = json_string("x");
    json_t *j;

    (void)state;
    log_init("svc-c", LOG_INFO);
    capture_begin(&c);
    log_debug("filtered", json_pack("{s:s}", "k", "v"));   /* below the minimum */
    log_info("not an object", json_integer(7));            /* ignored, still released */
    json_incref(kept);
    log_info("with a shared value", json_pack("{s:o}", "v", kept));
    log_info(NULL, NULL);                                  /* NULL msg: empty string */
    text = capture_end(&c);
    /* the caller's own reference to kept is still valid */
    assert_int_equal(kept->refcount, 1);
    assert_string_equal(json_string_value(kept), "x");
    json_decref(kept);

    j = json_loads(text, JSON_DISABLE_EOF_CHECK, NULL);
    assert_non_null(j);
    assert_string_equal(str_field(j, "msg"), "not an object");
    assert_int_equal(json_object_size(j), 4);
    json_decref(j);
    assert_non_null(strstr(text, "\"v\":\"x\""));
    assert_non_null(strstr(text, "\"msg\":\"\""));
    free(text);
}

static void test_escaping(void **state)
{
    static const char msg[] = "quote \" backslash \\ newline \n cr \r tab \t ctl \x01 "
                              "caf\xc3\xa9 \xe2\x82\xac </script>";
    struct capture c;
    char *text;
    json_t *j;

    (void)state;
    log_init("svc-d", LOG_INFO);
    capture_begin(&c);
    log_info(msg, json_pack("{s:s}", "path", "/tmp/a\nb\"c"));
    text = capture_end(&c);
    j = one_line(text);   /* the newlines inside did not split the line */
    assert_string_equal(str_field(j, "msg"), msg);
    assert_string_equal(str_field(j, "path"), "/tmp/a\nb\"c");
    for (const char *p = text; *p; p++) {
        if ((unsigned char)*p >= 0x80 || ((unsigned char)*p < 0x20 && *p != '\n'))
            fail_msg("raw byte 0x%02x at offset %td of [%s]", (unsigned char)*p, p - text, text);
    }
    assert_non_null(strcasestr(text, "caf\\u00e9"));   /* hex digits in either case */
    assert_non_null(strcasestr(text, "\\u20ac"));
    assert_non_null(strstr(text, "\\\""));
    assert_non_null(strstr(text, "\\\\"));
    json_decref(j);
    free(text);
}

static void test_long_printf_message(void **state)
{
    char big[3000];
    struct capture c;
    char *text;
    const char *msg;
    json_t *j;

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_init("svc-e", LOG_INFO);
    capture_begin(&c);
    log_msgf(LOG_INFO, "<%s>", big);
    text = capture_end(&c);
    j = one_line(text);
    msg = str_field(j, "msg");
    /* still one well-formed line carrying the start of the message */
    assert_true(strlen(msg) > 100);
    assert_true(strncmp(msg, "<aaaa", 5) == 0);
    json_decref(j);
    free(text);
}

#define THREADS 4
#define LINES_PER_THREAD 300

static void *log_many(void *arg)
{
    int id = (int)(intptr_t)arg;

    for (int i = 0; i < LINES_PER_THREAD; i++)
        log_msgf(LOG_INFO, "thread %d line %d %s", id, i,
                 "padding padding padding padding padding padding padding padding");
    return NULL;
}

static void test_threads_write_whole_lines(void **state)
{
    pthread_t th[THREADS];
    struct capture c;
    char *text, *line, *save = NULL;
    int count[THREADS] = {0}, lines = 0;

    (void)state;
    log_init("svc-f", LOG_INFO);
    capture_begin(&c);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, log_many, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    text = capture_end(&c);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        int id = -1, n = -1;

        if (!j)
            fail_msg("line %d is not JSON: [%s]", lines, line);
        assert_int_equal(sscanf(str_field(j, "msg"), "thread %d line %d", &id, &n), 2);
        assert_true(id >= 0 && id < THREADS);
        assert_int_equal(n, count[id]);   /* each thread's lines in its own order */
        count[id]++;
        lines++;
        json_decref(j);
    }
    assert_int_equal(lines, THREADS * LINES_PER_THREAD);
    free(text);
}

/* log_enabled says yes exactly for the levels log_event writes, whatever the minimum. */
static void test_enabled_as_written(void **state)
{
    char seen[64];

    (void)state;
    for (int min = LOG_DEBUG; min <= LOG_ERROR; min++) {
        levels_written((enum log_level)min, seen, sizeof(seen));
        for (int l = LOG_DEBUG; l <= LOG_ERROR; l++) {
            static const char *const names[] = {"debug", "info", "warn", "error"};

            assert_int_equal(log_enabled((enum log_level)l), strstr(seen, names[l]) != NULL);
        }
    }
    log_init("test-svc", LOG_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_filtering),
        cmocka_unit_test(test_shorthands_and_msgf),
        cmocka_unit_test(test_line_format),
        cmocka_unit_test(test_fields_cannot_replace_the_fixed_keys),
        cmocka_unit_test(test_fields_reference_is_stolen),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_long_printf_message),
        cmocka_unit_test(test_threads_write_whole_lines),
        cmocka_unit_test(test_enabled_as_written),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
