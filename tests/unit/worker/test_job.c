/*
 * Unit tests of the worker's pure logic around one job: COPY escaping and
 * vector literals (store.c), the retry policy (pipeline.c, common/errors.h).
 * The message and upload path tests live with their modules now:
 * tests/unit/common/test_job_msg.c, test_upload_path.c, test_run_state.c
 * (with the "<code>: <detail>" error text).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/errors.h"
#include "worker/pipeline.h"
#include "worker/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- COPY ---- */

static void test_copy_escape(void **state)
{
    struct buf b;
    static const char in[] = "a\tb\nc\\d\re\0f";

    (void)state;
    buf_init(&b, 1024);
    assert_int_equal(store_copy_escape(&b, in, sizeof(in) - 1), 0);
    assert_string_equal(b.ptr, "a\\tb\\nc\\\\d\\ref");
    buf_reset(&b);
    assert_int_equal(store_copy_escape(&b, "", 0), 0);
    assert_string_equal(b.ptr, "");
    buf_reset(&b);
    assert_int_equal(store_copy_escape(&b, "plain \xc3\xa9", 8), 0);
    assert_string_equal(b.ptr, "plain \xc3\xa9");
    buf_reset(&b);
    /* \N in text must stay text: the backslash is doubled */
    assert_int_equal(store_copy_escape(&b, "\\N", 2), 0);
    assert_string_equal(b.ptr, "\\\\N");
    buf_release(&b);

    /* the max is enforced */
    buf_init(&b, 4);
    assert_int_equal(store_copy_escape(&b, "\\\\\\", 3), -1);
    buf_release(&b);
}

static void test_retry_policy(void **state)
{
    (void)state;
    assert_true(run_fail_transient(RUN_FAIL_EXTRACT_FAILED));
    assert_true(run_fail_transient(RUN_FAIL_TIMEOUT));
    assert_true(run_fail_transient(RUN_FAIL_EMBED_FAILED));
    assert_false(run_fail_transient(RUN_FAIL_UNSUPPORTED_TYPE));
    assert_false(run_fail_transient(RUN_FAIL_TOO_LARGE));
    assert_false(run_fail_transient(RUN_FAIL_UPLOAD_MISSING));
    assert_false(run_fail_transient(RUN_FAIL_INVALID_MESSAGE));
    assert_int_equal(pipeline_backoff_s(1, 60000), 2);
    assert_int_equal(pipeline_backoff_s(2, 60000), 4);
    assert_int_equal(pipeline_backoff_s(9, 60000), 60);
    assert_int_equal(pipeline_backoff_s(0, 500), 1);
    /* the error text's cases are in tests/unit/common/test_run_state.c */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_escape),
        cmocka_unit_test(test_retry_policy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
