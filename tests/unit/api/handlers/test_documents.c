/*
 * test_documents.c - the documents handler alone (with request.o, the shared
 * handler helpers and libcommon: Makefile, UNIT_HANDLERS): the answers it
 * gives before touching the database, and the database-down answer.
 */
#include "api/handlers/documents.h"

#include "fixture.h"

static void not_a_uuid_is_404_without_database(void **state)
{
    (void)state;
    fixture_call(documents_get, ROLE_USER, "not-a-uuid", NULL, 404, "document not found");
    fixture_call(documents_get, ROLE_USER, NULL, NULL, 404, "document not found");
    /* one digit short */
    fixture_call(documents_delete, ROLE_ADMIN, "00000000-0000-4000-8000-00000000000", NULL, 404,
                 "document not found");
}

static void without_database_is_503(void **state)
{
    (void)state;
    fixture_call(documents_get, ROLE_USER, FIXTURE_UUID, NULL, 503, "database unavailable");
    fixture_call(documents_list, ROLE_USER, NULL, NULL, 503, "\"unavailable\"");
    fixture_call(documents_delete, ROLE_ADMIN, FIXTURE_UUID, NULL, 503, "database unavailable");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(not_a_uuid_is_404_without_database),
        cmocka_unit_test(without_database_is_503),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
