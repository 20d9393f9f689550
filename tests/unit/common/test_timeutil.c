/*
 * test_timeutil - common/timeutil.c: RFC 3339 text of known instants, the
 * clocks (wall clock near time(2), monotonic never backwards, sleep long
 * enough), and duration parsing: every unit, bounds, overflow and bad input.
 */
#include "common/timeutil.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static void format_is(int64_t ms, const char *want)
{
    char out[32];

    memset(out, 'X', sizeof(out));
    time_format_rfc3339(ms, out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_format_known_instants(void **state)
{
    (void)state;
    format_is(0, "1970-01-01T00:00:00.000Z");
    format_is(1, "1970-01-01T00:00:00.001Z");
    format_is(999, "1970-01-01T00:00:00.999Z");
    format_is(1000, "1970-01-01T00:00:01.000Z");
    format_is(1795928462123, "2026-11-29T05:01:02.123Z");   /* the header's example */
    format_is(1709251199999, "2024-02-29T23:59:59.999Z");   /* leap day */
    format_is(946684799005, "1999-12-31T23:59:59.005Z");
    format_is(946684800000, "2000-01-01T00:00:00.000Z");
    format_is(253402300799999, "9999-12-31T23:59:59.999Z"); /* the widest year */
    /* before the epoch: the millisecond part stays 000..999 */
    format_is(-1, "1969-12-31T23:59:59.999Z");
    format_is(-1000, "1969-12-31T23:59:59.000Z");
    format_is(-1001, "1969-12-31T23:59:58.999Z");
}

/* The "Z" is true whatever the local time zone: UTC, not local time. */
static void test_format_ignores_local_zone(void **state)
{
    (void)state;
    assert_int_equal(setenv("TZ", "XYZ+5:30", 1), 0);   /* POSIX form: needs no tzdata */
    tzset();
    format_is(0, "1970-01-01T00:00:00.000Z");
    format_is(1795928462123, "2026-11-29T05:01:02.123Z");
}

static int unset_tz(void **state)
{
    (void)state;
    unsetenv("TZ");
    tzset();
    return 0;
}

static void test_format_parses_back(void **state)
{
    char out[32];
    struct tm tm;
    int64_t now = time_now_ms();
    int ms = -1;
    const char *rest;

    (void)state;
    time_format_rfc3339(now, out, sizeof(out));
    assert_int_equal(strlen(out), 24);
    memset(&tm, 0, sizeof(tm));
    rest = strptime(out, "%Y-%m-%dT%H:%M:%S", &tm);
    assert_non_null(rest);
    assert_int_equal(sscanf(rest, ".%3dZ", &ms), 1);
    assert_string_equal(rest + 4, "Z");
    assert_int_equal((int64_t)timegm(&tm) * 1000 + ms, now);
}

static void test_now_is_the_wall_clock(void **state)
{
    int64_t before = (int64_t)time(NULL) * 1000;
    int64_t now = time_now_ms();
    int64_t after = ((int64_t)time(NULL) + 1) * 1000;

    (void)state;
    assert_true(now >= before);
    assert_true(now <= after);
}

static void test_mono_and_sleep(void **state)
{
    int64_t t0, t1, prev;

    (void)state;
    prev = time_mono_ms();
    for (int i = 0; i < 1000; i++) {
        int64_t t = time_mono_ms();

        assert_true(t >= prev);
        prev = t;
    }
    t0 = time_mono_ms();
    time_sleep_ms(120);
    t1 = time_mono_ms();
    assert_true(t1 - t0 >= 119);      /* whole milliseconds: allow the rounding */
    assert_true(t1 - t0 < 5000);      /* a shared machine, but not seconds late */
    t0 = time_mono_ms();
    time_sleep_ms(1100);              /* crosses a second: tv_sec and tv_nsec both set */
    t1 = time_mono_ms();
    assert_true(t1 - t0 >= 1099);
    assert_true(t1 - t0 < 6000);
    t0 = time_mono_ms();
    time_sleep_ms(0);
    assert_true(time_mono_ms() - t0 < 1000);
}

/* time_mono_us is the same clock as time_mono_ms, in microseconds. */
static void test_mono_us(void **state)
{
    int64_t ms0, us0, us1, ms1;

    (void)state;
    ms0 = time_mono_ms();
    us0 = time_mono_us();
    time_sleep_ms(30);
    us1 = time_mono_us();
    ms1 = time_mono_ms();
    assert_true(us0 / 1000 >= ms0 && us1 / 1000 <= ms1);   /* read between the ms reads */
    assert_true(us1 - us0 >= 29000 && us1 - us0 < 5000000);
}

static void duration_is(const char *s, int64_t want)
{
    int64_t ms = -12345;

    if (time_parse_duration_ms(s, &ms) != 0)
        fail_msg("\"%s\" was refused", s);
    if (ms != want)
        fail_msg("\"%s\": got %lld ms, want %lld", s, (long long)ms, (long long)want);
}

static void duration_refused(const char *s)
{
    int64_t ms = -12345;
    int rc = time_parse_duration_ms(s, &ms);

    if (rc != -1)
        fail_msg("\"%s\" was accepted (rc %d, %lld ms)", s ? s : "(null)", rc, (long long)ms);
    if (ms != -12345)
        fail_msg("\"%s\" was refused but the output changed to %lld", s ? s : "(null)",
                 (long long)ms);
}

static void test_duration_units(void **state)
{
    (void)state;
    duration_is("90", 90000);          /* plain seconds */
    duration_is("0", 0);
    duration_is("500ms", 500);
    duration_is("0ms", 0);
    duration_is("90s", 90000);
    duration_is("15m", 15 * 60 * 1000);
    duration_is("2h", 2 * 3600 * 1000);
    duration_is("1d", 86400 * 1000);
    duration_is("007s", 7000);         /* decimal, not octal */
    duration_is("30d", INT64_C(30) * 86400 * 1000);
}

static void test_duration_bounds(void **state)
{
    (void)state;
    /* the largest value of each unit that fits, and the next one */
    duration_is("9223372036854775807ms", INT64_MAX);
    duration_refused("9223372036854775808ms");
    duration_is("9223372036854775s", INT64_C(9223372036854775000));
    duration_refused("9223372036854776s");
    duration_refused("9223372036854776");
    duration_is("153722867280912m", INT64_C(153722867280912) * 60000);
    duration_refused("153722867280913m");
    duration_is("2562047788015h", INT64_C(2562047788015) * 3600000);
    duration_refused("2562047788016h");
    duration_is("106751991167d", INT64_C(106751991167) * 86400000);
    duration_refused("106751991168d");
    duration_refused("99999999999999999999999999");
}

static void test_duration_bad_input(void **state)
{
    (void)state;
    duration_refused(NULL);
    duration_refused("");
    duration_refused("s");
    duration_refused("ms");
    duration_refused("abc");
    duration_refused("-5");
    duration_refused("-5s");
    duration_refused("1.5h");
    duration_refused("5x");
    duration_refused("5S");
    duration_refused("5MS");
    duration_refused("5 s");
    duration_refused("5s ");
    duration_refused("5sec");
    duration_refused("5mss");
    duration_refused("5sm");
    duration_refused("5hh");
    duration_refused("5dd");
    duration_refused("1day");
    duration_refused("5w");
    duration_refused("0x10");
    duration_refused("1e3");
    /* strtoll would take these; a duration starts with a digit */
    duration_refused(" 5");
    duration_refused("+5");
    duration_refused("-0");
    duration_refused("\t5s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_known_instants),
        cmocka_unit_test_teardown(test_format_ignores_local_zone, unset_tz),
        cmocka_unit_test(test_format_parses_back),
        cmocka_unit_test(test_now_is_the_wall_clock),
        cmocka_unit_test(test_mono_and_sleep),
        cmocka_unit_test(test_mono_us),
        cmocka_unit_test(test_duration_units),
        cmocka_unit_test(test_duration_bounds),
        cmocka_unit_test(test_duration_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
