/*
 * test_session.c - the session endpoints alone (with the auth objects,
 * request.o, the shared handler helpers and libcommon: Makefile,
 * UNIT_HANDLERS): login's input rules, logout without a token, the
 * database-down answers.
 */
#include "api/handlers/session.h"

#include "fixture.h"

static void login_expect(const char *body, unsigned status, const char *needle)
{
    fixture_call(session_login, ROLE_NONE, NULL, body, status, needle);
}

static void login_checks_its_input(void **state)
{
    (void)state;
    login_expect(NULL, 400, "a JSON object body is required");
    login_expect("{\"tenant\": \"acme\"", 400, "malformed JSON body");
    login_expect("{}", 400, "tenant, email and password are required strings");
    login_expect("{\"tenant\": \"acme\", \"email\": \"a@acme.test\"}", 400, "required strings");
    login_expect("{\"tenant\": \"acme\", \"email\": \"a@acme.test\", \"password\": 12345678}", 400,
                 "required strings");
}

static void without_database_is_503(void **state)
{
    (void)state;
    login_expect("{\"tenant\": \"acme\", \"email\": \"a@acme.test\", \"password\": \"whatever it is\"}", 503,
                 "database unavailable");
    fixture_call(session_me, ROLE_USER, NULL, NULL, 503, "database unavailable");
}

static void logout_without_token_clears_the_cookie(void **state)
{
    struct fixture f;
    const struct req_header *h;

    (void)state;
    fixture_init(&f, "POST", "/v1/auth/logout", ROLE_NONE);
    session_logout(&f.r);
    assert_true(f.r.answered);
    assert_int_equal(f.r.status, 204);
    assert_null(f.r.db);
    for (h = f.r.resp_headers; h && strcmp(h->name, "Set-Cookie") != 0; h = h->next)
        ;
    assert_non_null(h);
    assert_non_null(strstr(h->value, "session=;"));
    assert_non_null(strstr(h->value, "Max-Age=0"));
    assert_null(strstr(h->value, "Secure"));
    fixture_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(login_checks_its_input),
        cmocka_unit_test(without_database_is_503),
        cmocka_unit_test(logout_without_token_clears_the_cookie),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
