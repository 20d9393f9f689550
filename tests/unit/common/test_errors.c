/*
 * test_errors - common/errors.c, the X-macro tables of errors.h: every API
 * error has a 4xx/5xx status and a unique stable code, the lookups return the
 * table's row for every enum value (and a safe answer for values outside it),
 * and run failure codes are unique prefixes (NO_TEXT shares extract_failed by
 * design) with a 0/1 transient flag.
 */
#include "common/errors.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* The rows as the header spells them, to compare with what the lookups return. */
struct row {
    int value;          /* the enum value */
    const char *name;   /* its name without the prefix */
    const char *code;
    int extra;          /* HTTP status, or the transient flag */
};

static const struct row api_rows[] = {
#define X(name, str, status) {API_ERR_##name, #name, str, status},
    API_ERR_MAP(X)
#undef X
};
static const struct row run_rows[] = {
#define X(name, str, transient) {RUN_FAIL_##name, #name, str, transient},
    RUN_FAIL_MAP(X)
#undef X
};
#define N_API (sizeof(api_rows) / sizeof(api_rows[0]))
#define N_RUN (sizeof(run_rows) / sizeof(run_rows[0]))

/* A stable code: non-empty lower-case snake case (no ':' or space, so "<code>: " parses). */
static void assert_code_shape(const char *what, const char *code)
{
    if (!code || !*code)
        fail_msg("%s: empty code", what);
    if (code[0] == '_' || code[strlen(code) - 1] == '_')
        fail_msg("%s: code \"%s\" starts or ends with '_'", what, code);
    for (const char *p = code; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
            fail_msg("%s: code \"%s\" has '%c'", what, code, *p);
}

static void test_api_every_row(void **state)
{
    (void)state;
    /* the enum counts exactly the rows, after API_OK */
    assert_int_equal(API_ERR__COUNT, N_API + 1);
    for (size_t i = 0; i < N_API; i++) {
        const struct row *r = &api_rows[i];
        const char *code = api_err_code((enum api_err)r->value);
        unsigned st = api_err_status((enum api_err)r->value);

        assert_int_equal(r->value, i + 1);
        assert_code_shape(r->name, code);
        if (strcmp(code, r->code) != 0)
            fail_msg("API_ERR_%s: code \"%s\", table says \"%s\"", r->name, code, r->code);
        if (st != (unsigned)r->extra)
            fail_msg("API_ERR_%s: status %u, table says %d", r->name, st, r->extra);
        if (st < 400 || st > 599)
            fail_msg("API_ERR_%s: status %u is not an error status", r->name, st);
    }
}

static void test_api_codes_unique_and_round_trip(void **state)
{
    (void)state;
    for (int e = 1; e < API_ERR__COUNT; e++) {
        const char *code = api_err_code((enum api_err)e);
        int found = -1;

        /* code -> enum by search, then back: exactly one value has this code */
        for (int o = 1; o < API_ERR__COUNT; o++) {
            if (strcmp(api_err_code((enum api_err)o), code) != 0)
                continue;
            if (found >= 0)
                fail_msg("\"%s\" is the code of both %d and %d", code, found, o);
            found = o;
        }
        assert_int_equal(found, e);
        assert_string_equal(api_err_code((enum api_err)found), code);
    }
}

/* Clients depend on these strings and statuses, spelled out here: a rename breaks them. */
static void test_api_stable_contract(void **state)
{
    static const struct {
        enum api_err e;
        const char *code;
        unsigned status;
    } want[] = {
        {API_ERR_BAD_REQUEST, "bad_request", 400},
        {API_ERR_UNAUTHORIZED, "unauthorized", 401},
        {API_ERR_FORBIDDEN, "forbidden", 403},
        {API_ERR_NOT_FOUND, "not_found", 404},
        {API_ERR_METHOD, "method_not_allowed", 405},
        {API_ERR_CONFLICT, "conflict", 409},
        {API_ERR_TOO_LARGE, "too_large", 413},
        {API_ERR_UNSUPPORTED_TYPE, "unsupported_type", 415},
        {API_ERR_RATE_LIMITED, "rate_limited", 429},
        {API_ERR_INTERNAL, "internal", 500},
        {API_ERR_UNAVAILABLE, "unavailable", 503},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_string_equal(api_err_code(want[i].e), want[i].code);
        assert_int_equal(api_err_status(want[i].e), want[i].status);
    }
}

static void test_api_unknown_values(void **state)
{
    static const int unknown[] = {API_ERR__COUNT, API_ERR__COUNT + 1, 1000, -1, INT32_MIN};

    (void)state;
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_string_equal(api_err_code((enum api_err)unknown[i]), "internal");
        assert_int_equal(api_err_status((enum api_err)unknown[i]), 500);
    }
}

static void test_run_every_row(void **state)
{
    (void)state;
    assert_int_equal(RUN_FAIL__COUNT, N_RUN + 1);    /* RUN_OK = 0 comes first */
    for (size_t i = 0; i < N_RUN; i++) {
        const struct row *r = &run_rows[i];
        const char *code = run_fail_code((enum run_fail)r->value);
        int tr = run_fail_transient((enum run_fail)r->value);

        assert_int_equal(r->value, i + 1);
        assert_code_shape(r->name, code);
        if (strcmp(code, r->code) != 0)
            fail_msg("RUN_FAIL_%s: code \"%s\", table says \"%s\"", r->name, code, r->code);
        if (tr != 0 && tr != 1)
            fail_msg("RUN_FAIL_%s: transient is %d, not 0 or 1", r->name, tr);
        if (tr != r->extra)
            fail_msg("RUN_FAIL_%s: transient %d, table says %d", r->name, tr, r->extra);
    }
}

/* Codes are unique but for NO_TEXT and CORRUPT, which share EXTRACT_FAILED's on purpose. */
static void test_run_codes_unique_but_no_text(void **state)
{
    int shared = 0;

    (void)state;
    for (int a = 1; a < RUN_FAIL__COUNT; a++) {
        for (int b = a + 1; b < RUN_FAIL__COUNT; b++) {
            if (strcmp(run_fail_code((enum run_fail)a), run_fail_code((enum run_fail)b)) != 0)
                continue;
            if (!((a == RUN_FAIL_EXTRACT_FAILED || a == RUN_FAIL_NO_TEXT) &&
                  (b == RUN_FAIL_NO_TEXT || b == RUN_FAIL_CORRUPT)))
                fail_msg("run failures %d and %d share the code \"%s\"", a, b,
                         run_fail_code((enum run_fail)a));
            shared++;
        }
    }
    assert_int_equal(shared, 3);   /* EXTRACT_FAILED-NO_TEXT, EXTRACT_FAILED-CORRUPT, NO_TEXT-CORRUPT */
}

/* What errors.h documents in prose about the flags. */
static void test_run_documented_flags(void **state)
{
    (void)state;
    assert_string_equal(run_fail_code(RUN_FAIL_EXTRACT_FAILED), "extract_failed");
    assert_int_equal(run_fail_transient(RUN_FAIL_EXTRACT_FAILED), 1);
    /* same prefix for users, but a retry cannot find text: permanent */
    assert_string_equal(run_fail_code(RUN_FAIL_NO_TEXT), "extract_failed");
    assert_int_equal(run_fail_transient(RUN_FAIL_NO_TEXT), 0);
    /* a damaged file: the same prefix, permanent too */
    assert_string_equal(run_fail_code(RUN_FAIL_CORRUPT), "extract_failed");
    assert_int_equal(run_fail_transient(RUN_FAIL_CORRUPT), 0);
    /* a retry of the same bytes cannot change the type or the size */
    assert_int_equal(run_fail_transient(RUN_FAIL_UNSUPPORTED_TYPE), 0);
    assert_int_equal(run_fail_transient(RUN_FAIL_TOO_LARGE), 0);
    assert_int_equal(run_fail_transient(RUN_FAIL_INVALID_MESSAGE), 0);
    /* both kinds exist, so a failure can go either way */
    {
        int transient = 0, permanent = 0;

        for (int f = 1; f < RUN_FAIL__COUNT; f++) {
            if (run_fail_transient((enum run_fail)f))
                transient++;
            else
                permanent++;
        }
        assert_true(transient > 0 && permanent > 0);
    }
}

/* 0 is success (libuv): RUN_OK reads "ok" and is nothing to retry. */
static void test_run_ok_is_zero(void **state)
{
    (void)state;
    assert_int_equal(RUN_OK, 0);
    assert_string_equal(run_fail_code(RUN_OK), "ok");
    assert_int_equal(run_fail_transient(RUN_OK), 0);
}

static void test_run_unknown_values(void **state)
{
    static const int unknown[] = {RUN_FAIL__COUNT, RUN_FAIL__COUNT + 1, 1000, -1, INT32_MIN};

    (void)state;
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        const char *code = run_fail_code((enum run_fail)unknown[i]);
        int tr = run_fail_transient((enum run_fail)unknown[i]);

        /* never NULL (it is formatted into ingestion_runs.error), a flag 0 or 1 */
        assert_non_null(code);
        assert_code_shape("unknown", code);
        assert_true(tr == 0 || tr == 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_every_row),
        cmocka_unit_test(test_api_codes_unique_and_round_trip),
        cmocka_unit_test(test_api_stable_contract),
        cmocka_unit_test(test_api_unknown_values),
        cmocka_unit_test(test_run_every_row),
        cmocka_unit_test(test_run_codes_unique_but_no_text),
        cmocka_unit_test(test_run_documented_flags),
        cmocka_unit_test(test_run_ok_is_zero),
        cmocka_unit_test(test_run_unknown_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
