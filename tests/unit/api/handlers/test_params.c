/*
 * test_params.c - the helpers every handler shares (handlers/params,
 * handlers/rows): numeric query parameters, path ids, the by-id lookup's
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
        cmocka_unit_test(id_must_be_a_uuid),
        cmocka_unit_test(by_id_answers_without_a_database),
        cmocka_unit_test(nullable_columns),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
