/*
 * test_utf8_lax.c - utf8_next_lax(), the lenient decoder the hash embedder
 * keeps so its stored vectors never change: what it accepts beyond strict
 * UTF-8 and what reads as U+FFFD.
 */
#include "common/utf8.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

struct lax_case {
    const char *bytes;
    size_t n;
    size_t len;
    uint32_t cp;
};

static void expect_cases(const struct lax_case *c, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint32_t cp = 0x12345678;

        assert_int_equal(utf8_next_lax((const unsigned char *)c[i].bytes, c[i].n, &cp), c[i].len);
        assert_int_equal(cp, c[i].cp);
    }
}

static void test_valid_as_strict(void **state)
{
    static const struct lax_case cases[] = {
        {"A", 1, 1, 0x41},
        {"\0", 1, 1, 0},
        {"\xC3\xA9", 2, 2, 0xE9},
        {"\xE2\x82\xAC", 3, 3, 0x20AC},
        {"\xF0\x9F\x98\x80", 4, 4, 0x1F600},
        {"\xF4\x8F\xBF\xBF", 4, 4, 0x10FFFF},
        {"\xC3\xA9zz", 4, 2, 0xE9},
    };

    (void)state;
    expect_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_second_byte_range_not_checked(void **state)
{
    static const struct lax_case cases[] = {
        {"\xE0\x80\x80", 3, 3, 0},            /* overlong */
        {"\xED\xA0\x80", 3, 3, 0xD800},       /* surrogate */
        {"\xF0\x80\x80\x80", 4, 4, 0},        /* overlong */
        {"\xF4\x90\x80\x80", 4, 4, 0x110000}, /* past U+10FFFF */
    };
    uint32_t cp;

    (void)state;
    expect_cases(cases, sizeof(cases) / sizeof(cases[0]));
    /* strict decoding refuses all of them */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(utf8_next((const unsigned char *)cases[i].bytes, cases[i].n, &cp), 0);
}

static void test_invalid_is_replacement_of_one_byte(void **state)
{
    static const struct lax_case cases[] = {
        {"\x80", 1, 1, 0xFFFD},                /* stray continuation */
        {"\xC0\xAF", 2, 1, 0xFFFD},            /* C0, C1 never lead */
        {"\xC1\xBF", 2, 1, 0xFFFD},
        {"\xF5\x80\x80\x80", 4, 1, 0xFFFD},    /* past F4 */
        {"\xFF", 1, 1, 0xFFFD},
        {"\xC3" "A", 2, 1, 0xFFFD},            /* not a continuation */
        {"\xE2\x82" "A", 3, 1, 0xFFFD},
        {"\xE2\x82", 2, 1, 0xFFFD},            /* cut by n */
        {"\xF0\x9F\x98", 3, 1, 0xFFFD},
    };

    (void)state;
    expect_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_as_strict),
        cmocka_unit_test(test_second_byte_range_not_checked),
        cmocka_unit_test(test_invalid_is_replacement_of_one_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
