/*
 * test_run_state.c - the pure parts of the run state machine
 * (common/run_state.c): status names both ways, terminal statuses, and the
 * "<code>: <detail>" error text. The SQL transitions run in the integration
 * suites (ingest, worker, crash_guard).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/run_state.h"

#include <string.h>

static void test_status_names(void **state)
{
    /* the table's CHECK (db/migrations/0001_schema.sql) lists exactly these, in this order */
    static const char *const want[] = {"queued", "running", "succeeded", "failed", "skipped"};

    (void)state;
    assert_int_equal(RUN_STATUS__COUNT, 5);
    for (int i = 0; i < RUN_STATUS__COUNT; i++)
        assert_string_equal(run_status_name((enum run_status)i), want[i]);
    assert_string_equal(run_status_name(RUN_STATUS_QUEUED), "queued");
    assert_string_equal(run_status_name(RUN_STATUS_SKIPPED), "skipped");
    assert_null(run_status_name(RUN_STATUS__COUNT));
    assert_null(run_status_name((enum run_status)-1));
}

static void test_status_parse(void **state)
{
    enum run_status s = RUN_STATUS_SKIPPED;

    (void)state;
    for (int i = 0; i < RUN_STATUS__COUNT; i++) {
        assert_int_equal(run_status_parse(run_status_name((enum run_status)i), &s), 0);
        assert_int_equal(s, i);
    }
    assert_int_equal(run_status_parse("running", &s), 0);
    assert_int_equal(s, RUN_STATUS_RUNNING);
    s = RUN_STATUS_FAILED;
    assert_int_equal(run_status_parse("RUNNING", &s), -1);
    assert_int_equal(run_status_parse("run", &s), -1);
    assert_int_equal(run_status_parse("runningx", &s), -1);
    assert_int_equal(run_status_parse("", &s), -1);
    assert_int_equal(run_status_parse(NULL, &s), -1);
    assert_int_equal(s, RUN_STATUS_FAILED);   /* untouched on -1 */
}

static void test_status_terminal(void **state)
{
    (void)state;
    assert_false(run_status_terminal(RUN_STATUS_QUEUED));
    assert_false(run_status_terminal(RUN_STATUS_RUNNING));
    assert_true(run_status_terminal(RUN_STATUS_SUCCEEDED));
    assert_true(run_status_terminal(RUN_STATUS_FAILED));
    assert_true(run_status_terminal(RUN_STATUS_SKIPPED));
}

static void test_error_text(void **state)
{
    char text[64], tiny[12];

    (void)state;
    run_error_text(RUN_FAIL_EXTRACT_FAILED, "pdftotext\nexit 1", text, sizeof(text));
    assert_string_equal(text, "extract_failed: pdftotext exit 1");
    run_error_text(RUN_FAIL_TOO_LARGE, NULL, text, sizeof(text));
    assert_string_equal(text, "too_large: no detail");
    run_error_text(RUN_FAIL_ENQUEUE_FAILED, "", text, sizeof(text));
    assert_string_equal(text, "enqueue_failed: no detail");
    run_error_text(RUN_FAIL_STALE_RUNNING, "no heartbeat since ", text, sizeof(text));
    assert_string_equal(text, "stale_running: no heartbeat since ");
    run_error_text(RUN_FAIL_STALE_QUEUED, "a\r\nb", text, sizeof(text));
    assert_string_equal(text, "stale_queued: a  b");
    /* clipped, still terminated */
    run_error_text(RUN_FAIL_INTERNAL, "long detail", tiny, sizeof(tiny));
    assert_string_equal(tiny, "internal: l");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_status_parse),
        cmocka_unit_test(test_status_terminal),
        cmocka_unit_test(test_error_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
