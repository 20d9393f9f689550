/*
 * test_params.c - the helpers every handler shares (handlers/params,
 * handlers/rows): numeric query parameters, pages, path ids, the by-id lookup's
 * answers without a database, nullable columns.
 */
#include "api/handlers/params.h"
#include "api/handlers/rows.h"

#include <limits.h>

#include "fixture.h"

/* params_uint(in, max): rc, and the value when rc is 0 (else *out must stay untouched). */
static const struct {
    const char *in;
    long long max;
    int rc;
    long long value;
} uint_cases[] = {
    {"0", 100, 0, 0},
    {"100", 100, 0, 100},
    {"0042", 100, 0, 42},
    {"999999999", 999999999, 0, 999999999},
    {"9223372036854775807", LLONG_MAX, 0, LLONG_MAX},
    {"101", 100, -1, 0},
    {"7", 5, -1, 0},
    {"1000000000", 999999999, -1, 0},
    {"9223372036854775808", LLONG_MAX, -1, 0},
    {"99999999999999999999", LLONG_MAX, -1, 0},
    {"", 100, -1, 0},
    {NULL, 100, -1, 0},
    {"-1", 100, -1, 0},
    {"+1", 100, -1, 0},
    {" 1", 100, -1, 0},
    {"1 ", 100, -1, 0},
    {"1e3", LLONG_MAX, -1, 0},
    {"abc", 100, -1, 0},
};

static void uint_digits_up_to_max(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(uint_cases) / sizeof(uint_cases[0]); i++) {
        long long v = -7;

        if (params_uint(uint_cases[i].in, uint_cases[i].max, &v) != uint_cases[i].rc)
            fail_msg("params_uint(\"%s\", %lld) is not %d", uint_cases[i].in ? uint_cases[i].in : "(null)",
                     uint_cases[i].max, uint_cases[i].rc);
        assert_true(v == (uint_cases[i].rc == 0 ? uint_cases[i].value : -7));
    }
}

/* params_page_parse(limit, offset, default 20): rc, the page or the reason. */
static const struct {
    const char *limit, *offset;
    int rc;
    long long l, o;
    const char *why;
} page_cases[] = {
    {NULL, NULL, 0, 20, 0, NULL},
    {"", "", 0, 20, 0, NULL},
    {"1", "0", 0, 1, 0, NULL},
    {"100", "999999999", 0, 100, 999999999, NULL},
    {"0", NULL, -1, 0, 0, PARAMS_LIMIT_MSG},
    {"101", NULL, -1, 0, 0, PARAMS_LIMIT_MSG},
    {"5000", NULL, -1, 0, 0, PARAMS_LIMIT_MSG},
    {"-1", NULL, -1, 0, 0, PARAMS_LIMIT_MSG},
    {"1e3", NULL, -1, 0, 0, PARAMS_LIMIT_MSG},
    {"abc", "0", -1, 0, 0, PARAMS_LIMIT_MSG},
    {NULL, "-1", -1, 0, 0, PARAMS_OFFSET_MSG},
    {NULL, "1.5", -1, 0, 0, PARAMS_OFFSET_MSG},
    {NULL, "1000000000", -1, 0, 0, PARAMS_OFFSET_MSG},
    {"10", "x", -1, 0, 0, PARAMS_OFFSET_MSG},
};

static void page_bounds_are_the_same_everywhere(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(page_cases) / sizeof(page_cases[0]); i++) {
        struct params_page p = {-7, -7};
        const char *why = NULL;
        int rc = params_page_parse(page_cases[i].limit, page_cases[i].offset, 20, &p, &why);

        if (rc != page_cases[i].rc)
            fail_msg("params_page_parse(\"%s\", \"%s\") is %d, not %d",
                     page_cases[i].limit ? page_cases[i].limit : "(null)",
                     page_cases[i].offset ? page_cases[i].offset : "(null)", rc, page_cases[i].rc);
        if (rc == 0) {
            assert_true(p.limit == page_cases[i].l);
            assert_true(p.offset == page_cases[i].o);
        } else {
            assert_string_equal(why, page_cases[i].why);
            assert_true(p.limit == -7 && p.offset == -7);   /* untouched */
        }
    }
}

/* Without a connection there is no query string: every parameter is absent, nothing is answered. */
static void query_without_a_connection_is_absent(void **state)
{
    struct fixture f;
    struct params_page p;
    const char *v = "x";

    (void)state;
    fixture_init(&f, "GET", "/v1/things", ROLE_USER);
    assert_int_equal(params_query(&f.r, "title", &v), 0);
    assert_null(v);
    assert_int_equal(params_page(&f.r, 20, &p), 0);
    assert_true(p.limit == 20 && p.offset == 0);
    assert_false(f.r.answered);
    fixture_release(&f);
}

static void id_must_be_a_uuid(void **state)
{
    struct fixture f;

    (void)state;
    fixture_init(&f, "GET", "/v1/things/x", ROLE_USER);
    f.r.params[0] = FIXTURE_UUID;
    assert_string_equal(params_id(&f.r, 0, "thing not found"), FIXTURE_UUID);
    assert_false(f.r.answered);
    assert_null(params_id(&f.r, 1, "thing not found"));   /* no second parameter */
    fixture_expect(&f, 404, "thing not found");
    fixture_release(&f);

    fixture_init(&f, "GET", "/v1/things/x", ROLE_USER);
    f.r.params[0] = "7d444840-9dc0-11d1-b245-5ffdce74fad";
    assert_null(params_id(&f.r, 0, "thing not found"));
    fixture_expect(&f, 404, "\"not_found\"");
    fixture_release(&f);
}

static void by_id_answers_without_a_database(void **state)
{
    struct fixture f;

    (void)state;
    fixture_init(&f, "GET", "/v1/things/x", ROLE_USER);
    f.r.params[0] = "nope";
    assert_null(rows_by_id(&f.r, "SELECT 1", "bad thing", "thing not found"));
    fixture_expect(&f, 404, "thing not found");
    fixture_release(&f);

    fixture_init(&f, "GET", "/v1/things/x", ROLE_USER);
    f.r.params[0] = FIXTURE_UUID;
    assert_null(rows_by_id(&f.r, "SELECT 1", "bad thing", "thing not found"));
    fixture_expect(&f, 503, "database unavailable");
    fixture_release(&f);

    fixture_init(&f, "GET", "/v1/things", ROLE_USER);
    assert_null(rows_query(&f.r, "SELECT 1", 0, NULL, "bad thing"));
    fixture_expect(&f, 503, "database unavailable");
    fixture_release(&f);
}

static void nullable_columns(void **state)
{
    json_t *j;

    (void)state;
    j = rows_str(NULL);
    assert_true(json_is_null(j));
    json_decref(j);
    j = rows_str("x");
    assert_string_equal(json_string_value(j), "x");
    json_decref(j);
    j = rows_int(NULL);
    assert_true(json_is_null(j));
    json_decref(j);
    j = rows_int("-42");
    assert_int_equal(json_integer_value(j), -42);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uint_digits_up_to_max),
        cmocka_unit_test(page_bounds_are_the_same_everywhere),
        cmocka_unit_test(query_without_a_connection_is_absent),
        cmocka_unit_test(id_must_be_a_uuid),
        cmocka_unit_test(by_id_answers_without_a_database),
        cmocka_unit_test(nullable_columns),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
