/* Arena: allocations, big blocks, cleanups run newest first at release. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/arena.h"
#include "common/ids.h"

static int order[4];
static int norder;

static void record(void *p)
{
    order[norder++] = *(int *)p;
}

static void test_alloc_and_cleanup_order(void **state)
{
    struct arena a;
    static int one = 1, two = 2;
    char *s;
    char *big;

    (void)state;
    norder = 0;
    arena_init(&a);
    s = arena_printf(&a, "%s-%d", "run", 7);
    assert_string_equal(s, "run-7");
    big = arena_alloc(&a, 100000);
    assert_non_null(big);
    memset(big, 1, 100000);
    assert_string_equal(arena_strndup(&a, "abcdef", 3), "abc");
    arena_defer(&a, record, &one);
    arena_defer(&a, record, &two);
    assert_null(arena_defer(&a, record, NULL));
    arena_release(&a);
    assert_int_equal(norder, 2);
    assert_int_equal(order[0], 2);
    assert_int_equal(order[1], 1);
    assert_null(a.blocks);
}

static void test_json_is_released(void **state)
{
    struct arena a;
    json_t *j;

    (void)state;
    arena_init(&a);
    j = arena_json(&a, json_pack("{s:i}", "n", 1));
    assert_non_null(j);
    arena_release(&a);   /* leak checkers (ASan) would flag a missed decref */
}

static void test_uuid(void **state)
{
    char id[ID_UUID_LEN + 1], id2[ID_UUID_LEN + 1];

    (void)state;
    id_uuid_new(id);
    id_uuid_new(id2);
    assert_true(id_is_uuid(id));
    assert_string_not_equal(id, id2);
    assert_int_equal(id[14], '4');
    assert_false(id_is_uuid("not-a-uuid"));
    assert_false(id_is_uuid(NULL));
    assert_false(id_is_uuid("123e4567-e89b-12d3-a456-42661417400g"));
    assert_true(id_is_uuid("123E4567-E89B-12D3-A456-426614174000"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_and_cleanup_order),
        cmocka_unit_test(test_json_is_released),
        cmocka_unit_test(test_uuid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
