/*
 * test_users.c - the users handler alone (with the account rules, request.o,
 * the shared handler helpers and libcommon: Makefile, UNIT_HANDLERS): the
 * role check, every input rule, and the database-down answer.
 */
#include "api/handlers/users.h"

#include "fixture.h"

#define PW "a long enough password"

static void create_expect(const char *body, unsigned status, const char *needle)
{
    fixture_call(users_create, ROLE_ADMIN, NULL, body, status, needle);
}

static void update_expect(const char *id, const char *body, unsigned status, const char *needle)
{
    fixture_call(users_update, ROLE_ADMIN, id, body, status, needle);
}

static void users_need_an_admin(void **state)
{
    (void)state;
    fixture_call(users_list, ROLE_USER, NULL, NULL, 403, "admin role required");
    fixture_call(users_create, ROLE_USER, NULL, "{\"email\": \"a@b.test\", \"password\": \"" PW "\"}", 403,
                 "admin role required");
    fixture_call(users_update, ROLE_USER, FIXTURE_UUID, "{}", 403, "admin role required");
}

static void create_checks_its_input(void **state)
{
    (void)state;
    create_expect("not json", 400, "malformed JSON body");
    create_expect("{\"email\": 1, \"password\": \"" PW "\"}", 400, "must be strings");
    create_expect("{\"password\": \"" PW "\"}", 400, "email is missing or invalid");
    create_expect("{\"email\": \"no-at-sign\", \"password\": \"" PW "\"}", 400, "email");
    create_expect("{\"email\": \"a@b.test\"}", 400, "password is required");
    create_expect("{\"email\": \"a@b.test\", \"password\": \"short\"}", 400, "at least 8");
    create_expect("{\"email\": \"a@b.test\", \"password\": \"" PW "\", \"role\": \"root\"}", 400, "role must be");
}

static void update_checks_its_input(void **state)
{
    (void)state;
    /* the id first: a bad one is 404 whatever the body */
    update_expect("not-a-uuid", "not json", 404, "user not found");
    update_expect(FIXTURE_UUID, "[]", 400, "the body must be a JSON object");
    update_expect(FIXTURE_UUID, "{\"role\": 1}", 400, "role and password must be strings");
    update_expect(FIXTURE_UUID, "{\"role\": \"root\"}", 400, "role must be");
    update_expect(FIXTURE_UUID, "{\"is_active\": \"no\"}", 400, "is_active must be a boolean");
    update_expect(FIXTURE_UUID, "{\"password\": \"short\"}", 400, "at least 8");
}

static void without_database_is_503(void **state)
{
    (void)state;
    fixture_call(users_list, ROLE_ADMIN, NULL, NULL, 503, "database unavailable");
    create_expect("{\"email\": \"a@b.test\", \"password\": \"" PW "\", \"role\": null}", 503, "database unavailable");
    update_expect(FIXTURE_UUID, "{}", 503, "database unavailable");
    update_expect(FIXTURE_UUID, "{\"role\": \"user\", \"is_active\": false, \"password\": null}", 503,
                  "database unavailable");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(users_need_an_admin),
        cmocka_unit_test(create_checks_its_input),
        cmocka_unit_test(update_checks_its_input),
        cmocka_unit_test(without_database_is_503),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
