/* test_utf8.c - strict UTF-8: the RFC 3629 boundaries, cut sequences, validation and counting. */
#include "common/utf8.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static size_t next(const char *s, size_t n, uint32_t *cp)
{
    return utf8_next((const unsigned char *)s, n, cp);
}

static void decodes_each_length(void **state)
{
    uint32_t cp = 0;

    (void)state;
    assert_int_equal(next("A", 1, &cp), 1);
    assert_int_equal(cp, 0x41);
    assert_int_equal(next("\xC3\xA9", 2, &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(next("\xE2\x82\xAC", 3, &cp), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(next("\xF0\x9F\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(next("\xF4\x8F\xBF\xBF", 4, &cp), 4);
    assert_int_equal(cp, 0x10FFFF);
    assert_int_equal(next("\xEF\xBF\xBF", 3, &cp), 3);
    assert_int_equal(cp, 0xFFFF);
}

static void refuses_what_rfc3629_excludes(void **state)
{
    (void)state;
    assert_int_equal(next("\xC0\xAF", 2, NULL), 0);         /* overlong '/' */
    assert_int_equal(next("\xC1\xBF", 2, NULL), 0);
    assert_int_equal(next("\xE0\x80\xAF", 3, NULL), 0);     /* overlong 3-byte */
    assert_int_equal(next("\xF0\x80\x80\xAF", 4, NULL), 0); /* overlong 4-byte */
    assert_int_equal(next("\xED\xA0\x80", 3, NULL), 0);     /* surrogate U+D800 */
    assert_int_equal(next("\xED\xBF\xBF", 3, NULL), 0);     /* surrogate U+DFFF */
    assert_int_equal(next("\xF4\x90\x80\x80", 4, NULL), 0); /* U+110000 */
    assert_int_equal(next("\xF5\x80\x80\x80", 4, NULL), 0);
    assert_int_equal(next("\x80", 1, NULL), 0);             /* stray continuation */
    assert_int_equal(next("\xFF", 1, NULL), 0);
    assert_int_equal(next("\xC3\x28", 2, NULL), 0);         /* bad continuation */
    assert_int_equal(next("\xE2\x82\x28", 3, NULL), 0);
}

static void tells_cut_from_invalid(void **state)
{
    (void)state;
    assert_int_equal(next("\xE2\x82", 2, NULL), 0);
    assert_true(utf8_cut((const unsigned char *)"\xE2\x82", 2));
    assert_true(utf8_cut((const unsigned char *)"\xF0", 1));
    assert_true(utf8_cut((const unsigned char *)"\xF0\x9F\x98", 3));
    assert_false(utf8_cut((const unsigned char *)"\xE2\x28", 2));   /* bad, not cut */
    assert_false(utf8_cut((const unsigned char *)"\xED\xA0", 2));   /* surrogate start */
    assert_false(utf8_cut((const unsigned char *)"\xC3\xA9", 2));   /* complete */
    assert_false(utf8_cut((const unsigned char *)"A", 1));
    assert_false(utf8_cut((const unsigned char *)"\x80", 1));
}

static void validates_text(void **state)
{
    (void)state;
    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14));
    assert_false(utf8_valid("a\0b", 3));                    /* NUL is not text */
    assert_false(utf8_valid("caf\xC3", 4));                  /* cut at the end */
    assert_false(utf8_valid("\xFF\xFE", 2));
    assert_false(utf8_valid("ok \xED\xA0\x80", 6));
}

static void counts_code_points(void **state)
{
    (void)state;
    assert_int_equal(utf8_count("", 0), 0);
    assert_int_equal(utf8_count("abc", 3), 3);
    assert_int_equal(utf8_count("\xC3\xA9t\xC3\xA9", 5), 3);
    assert_int_equal(utf8_count("\xF0\x9F\x98\x80!", 5), 2);
    assert_int_equal(utf8_count("a\xC3", 2), -1);
    assert_int_equal(utf8_count("\xC0\x80", 2), -1);
}

/* utf8_encode round-trips through the strict decoder; surrogates become U+FFFD. */
static void encodes_code_points(void **state)
{
    static const uint32_t cps[] = {0x41, 0x7F, 0x80, 0xE9, 0x7FF, 0x800, 0x20AC, 0xFFFD, 0x10000, 0x1F600, 0x10FFFF};
    char o[4];
    uint32_t back;

    (void)state;
    for (size_t i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
        size_t l = utf8_encode(cps[i], o);

        assert_int_equal(utf8_next((const unsigned char *)o, l, &back), l);
        assert_int_equal(back, cps[i]);
    }
    assert_int_equal(utf8_encode(0xD800, o), 3);
    assert_memory_equal(o, "\xEF\xBF\xBD", 3);
    assert_int_equal(utf8_encode(0x110000, o), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_each_length),
        cmocka_unit_test(refuses_what_rfc3629_excludes),
        cmocka_unit_test(tells_cut_from_invalid),
        cmocka_unit_test(validates_text),
        cmocka_unit_test(counts_code_points),
        cmocka_unit_test(encodes_code_points),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
