/*
 * test_runs.c - the runs handler alone. This binary links only
 * src/api/handlers/runs.o, src/api/http/request.o and libcommon (Makefile,
 * UNIT_HANDLERS): if a handler ever needed the HTTP server, the router or
 * another handler again, it would stop linking. It also pins the one mapping
 * from SQLSTATE classes to API errors (req_db_error_of).
 */
#include "api/handlers/runs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* A request as the server would hand it over, with no connection and no database pool. */
static void req_setup(struct req *r, const struct api_app *app, const char *run_id)
{
    assert_int_equal(req_init(r, app, NULL, "GET", "/v1/ingestion-runs/x"), 0);
    r->route = "/v1/ingestion-runs/:run_id";
    r->params[0] = run_id;
    strcpy(r->principal.tenant_id, "00000000-0000-4000-8000-000000000001");
    r->principal.role = ROLE_USER;
}

static void get_not_a_uuid_is_404_without_database(void **state)
{
    struct api_app app = {0};
    struct req r;

    (void)state;
    req_setup(&r, &app, "not-a-uuid");
    runs_get(&r);
    assert_true(r.answered);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.resp_body, "\"not_found\""));
    assert_null(r.db);
    req_release(&r);
}

static void get_without_database_is_503(void **state)
{
    struct api_app app = {0};
    struct req r;

    (void)state;
    req_setup(&r, &app, "7d444840-9dc0-11d1-b245-5ffdce74fad2");
    runs_get(&r);
    assert_true(r.answered);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.resp_body, "database unavailable"));
    req_release(&r);
}

static void second_answer_is_dropped(void **state)
{
    struct api_app app = {0};
    struct req r;

    (void)state;
    req_setup(&r, &app, "x");
    req_error(&r, API_ERR_CONFLICT, "first");
    req_error(&r, API_ERR_INTERNAL, "second");
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.resp_body, "first"));
    req_release(&r);
}

static void sqlstate_classes(void **state)
{
    (void)state;
    assert_int_equal(req_db_error_of(NULL), API_ERR_UNAVAILABLE);
    assert_int_equal(req_db_error_of(""), API_ERR_UNAVAILABLE);
    assert_int_equal(req_db_error_of("08006"), API_ERR_UNAVAILABLE);
    assert_int_equal(req_db_error_of("57P01"), API_ERR_UNAVAILABLE);
    assert_int_equal(req_db_error_of("53300"), API_ERR_UNAVAILABLE);
    assert_int_equal(req_db_error_of("40P01"), API_ERR_UNAVAILABLE);
    assert_int_equal(req_db_error_of("40001"), API_ERR_UNAVAILABLE);
    assert_int_equal(req_db_error_of("22021"), API_ERR_BAD_REQUEST);
    assert_int_equal(req_db_error_of("22P02"), API_ERR_BAD_REQUEST);
    assert_int_equal(req_db_error_of("23503"), API_ERR_BAD_REQUEST);
    assert_int_equal(req_db_error_of("23505"), API_ERR_CONFLICT);
    assert_int_equal(req_db_error_of("42501"), API_ERR_INTERNAL);
    assert_int_equal(req_db_error_of("42P01"), API_ERR_INTERNAL);
    assert_int_equal(req_db_error_of("XX000"), API_ERR_INTERNAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_not_a_uuid_is_404_without_database),
        cmocka_unit_test(get_without_database_is_503),
        cmocka_unit_test(second_answer_is_dropped),
        cmocka_unit_test(sqlstate_classes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
