/* Bounded buffer: growth, the mandatory max, release on failure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

static void test_append_and_terminate(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 100);
    assert_int_equal(buf_adds(&b, "hello"), 0);
    assert_int_equal(buf_add(&b, ", ", 2), 0);
    assert_int_equal(buf_addf(&b, "%s %d", "world", 42), 0);
    assert_string_equal(b.ptr, "hello, world 42");
    assert_int_equal(b.len, strlen("hello, world 42"));
    buf_release(&b);
    assert_null(b.ptr);
}

static void test_max_is_enforced_and_releases(void **state)
{
    struct buf b;
    char big[64];

    (void)state;
    memset(big, 'x', sizeof(big));
    buf_init(&b, 100);
    assert_int_equal(buf_add(&b, big, 64), 0);
    assert_int_equal(buf_add(&b, big, 36), 0);      /* exactly max */
    assert_int_equal(b.len, 100);
    assert_int_equal(buf_add(&b, "y", 1), -1);      /* one past max */
    assert_null(b.ptr);                             /* contents released on failure */
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_addf(&b, "%0200d", 1), -1);
    assert_null(b.ptr);
}

static void test_detach_hands_over(void **state)
{
    struct buf b;
    size_t len = 0;
    char *p;

    (void)state;
    buf_init(&b, 10);
    assert_int_equal(buf_adds(&b, "abc"), 0);
    p = buf_detach(&b, &len);
    assert_string_equal(p, "abc");
    assert_int_equal(len, 3);
    assert_null(b.ptr);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_terminate),
        cmocka_unit_test(test_max_is_enforced_and_releases),
        cmocka_unit_test(test_detach_hands_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
