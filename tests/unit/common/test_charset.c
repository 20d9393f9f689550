/* Unit tests of common/charset: declarations (BOM, XML, <meta>), support checks, decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/charset.h"

#include <stdio.h>
#include <string.h>

#define S(lit) (const unsigned char *)(lit), sizeof(lit) - 1

/* The declaration of the bytes is want (NULL: none) from source src. */
static void expect_decl(const unsigned char *p, size_t n, enum charset_source src, const char *want)
{
    char out[CHARSET_NAME_MAX];
    enum charset_source got = charset_declared(p, n, out, sizeof(out));

    if (got != src)
        fail_msg("source %d, expected %d (label \"%s\") for %.*s", (int)got, (int)src, out, (int)n, (const char *)p);
    assert_string_equal(out, want ? want : "");
}

static void test_bom(void **state)
{
    (void)state;
    expect_decl(S("\xEF\xBB\xBF<html>"), CHARSET_BOM, "UTF-8");
    expect_decl(S("\xFF\xFE<\0h\0"), CHARSET_BOM, "UTF-16LE");
    expect_decl(S("\xFE\xFF\0<\0h"), CHARSET_BOM, "UTF-16BE");
    /* the BOM wins over what the text says */
    expect_decl(S("\xEF\xBB\xBF<meta charset=latin1>"), CHARSET_BOM, "UTF-8");
}

static void test_xml(void **state)
{
    (void)state;
    expect_decl(S("<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?><html>"), CHARSET_XML, "ISO-8859-15");
    expect_decl(S("\n <?xml version='1.0' encoding = 'Shift_JIS' ?>"), CHARSET_XML, "Shift_JIS");
    /* no encoding: the <meta> prescan still runs */
    expect_decl(S("<?xml version=\"1.0\"?><html><meta charset=koi8-r>"), CHARSET_META, "koi8-r");
    /* not a declaration: "encoding" after "?>", unterminated, no quotes */
    expect_decl(S("<?xml version=\"1.0\"?>encoding=\"latin1\""), CHARSET_NONE, NULL);
    expect_decl(S("<?xml version=\"1.0\" encoding=\"latin1\""), CHARSET_NONE, NULL);
    expect_decl(S("<?xml encoding=latin1?>"), CHARSET_NONE, NULL);
}

static void test_meta(void **state)
{
    (void)state;
    expect_decl(S("<html><head><meta charset=\"iso-8859-1\">"), CHARSET_META, "iso-8859-1");
    expect_decl(S("<META CHARSET=windows-1252>"), CHARSET_META, "windows-1252");
    expect_decl(S("<meta charset='  latin1 '/>"), CHARSET_META, "latin1");
    expect_decl(S("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=euc-jp\">"), CHARSET_META,
                "euc-jp");
    /* attributes in any order, charset quoted inside content, blanks around "=" */
    expect_decl(S("<meta content='text/html;CHARSET = \"big5\"' http-equiv=content-type>"), CHARSET_META, "big5");
    /* content without http-equiv=content-type declares nothing */
    expect_decl(S("<meta name=x content=\"charset=latin1\"><p>"), CHARSET_NONE, NULL);
    /* comments, other tags' attribute values and <metadata> are not declarations */
    expect_decl(S("<!-- <meta charset=latin1> --><p>"), CHARSET_NONE, NULL);
    expect_decl(S("<div title=\"<meta charset=latin1>\"><p>"), CHARSET_NONE, NULL);
    expect_decl(S("<metadata charset=latin1>"), CHARSET_NONE, NULL);
    /* the first usable declaration counts: a bad label is skipped */
    expect_decl(S("<meta charset=\"UTF-8//IGNORE\"><meta charset=latin2>"), CHARSET_META, "latin2");
    expect_decl(S("<meta charset=\"\"><meta charset=x(y)>"), CHARSET_META, "x(y)");
    expect_decl(S("<meta charset=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">"), CHARSET_NONE, NULL);
    expect_decl(S("<meta charset>"), CHARSET_NONE, NULL);
    /* cut by the end of the bytes */
    expect_decl(S("<meta charset=\"latin1"), CHARSET_NONE, NULL);
    expect_decl(S("<meta"), CHARSET_NONE, NULL);
    expect_decl(S("<!-- <meta charset=latin1>"), CHARSET_NONE, NULL);
    expect_decl(S(""), CHARSET_NONE, NULL);
    expect_decl(NULL, 10, CHARSET_NONE, NULL);
}

static void test_scan_limit(void **state)
{
    static unsigned char head[CHARSET_SCAN_MAX + 64];
    static const char meta[] = "<meta charset=latin1>";

    (void)state;
    memset(head, ' ', sizeof(head));
    memcpy(head + CHARSET_SCAN_MAX - sizeof(meta) + 1, meta, sizeof(meta) - 1);
    expect_decl(head, sizeof(head), CHARSET_META, "latin1");
    memset(head, ' ', sizeof(head));
    memcpy(head + CHARSET_SCAN_MAX, meta, sizeof(meta) - 1);
    expect_decl(head, sizeof(head), CHARSET_NONE, NULL);
}

static void test_supported(void **state)
{
    (void)state;
    assert_true(charset_supported("ISO-8859-1"));
    assert_true(charset_supported("latin1"));
    assert_true(charset_supported("windows-1252"));
    assert_true(charset_supported("Shift_JIS"));
    assert_true(charset_supported("UTF-16LE"));
    assert_false(charset_supported("x-no-such-charset"));
    assert_false(charset_supported("UTF-8//IGNORE"));
    assert_false(charset_supported(""));
    assert_false(charset_supported(NULL));

    assert_true(charset_ascii_compatible("iso-8859-15"));
    assert_true(charset_ascii_compatible("KOI8-R"));
    assert_true(charset_ascii_compatible("Shift_JIS"));
    assert_false(charset_ascii_compatible("UTF-16LE"));
    assert_false(charset_ascii_compatible("UTF-32"));
    assert_false(charset_ascii_compatible("IBM037"));   /* EBCDIC */
    assert_false(charset_ascii_compatible("x-no-such-charset"));
}

static void test_decode(void **state)
{
    char out[64];
    size_t len;

    (void)state;
    assert_int_equal(charset_to_utf8("ISO-8859-1", S("caf\xe9 Stra\xdf" "e"), out, sizeof(out), &len), 0);
    assert_int_equal(len, 13);
    assert_memory_equal(out, "caf\xc3\xa9 Stra\xc3\x9f" "e", 13);
    assert_int_equal(charset_to_utf8("UTF-16LE", S("h\0\xe9\0"), out, sizeof(out), &len), 0);
    assert_memory_equal(out, "h\xc3\xa9", 3);
    assert_int_equal(len, 3);
    /* a sequence cut by the end is fine; an invalid one is not */
    assert_int_equal(charset_to_utf8("Shift_JIS", S("\x93\xfa\x96"), out, sizeof(out), &len), 0);
    assert_int_equal(len, 3);   /* 日 */
    assert_int_equal(charset_to_utf8("UTF-8", S("ok \xff"), out, sizeof(out), &len), -2);
    assert_int_equal(charset_to_utf8("x-no-such-charset", S("abc"), out, sizeof(out), &len), -1);
    assert_int_equal(len, 0);
    /* out fills up: the prefix is kept */
    assert_int_equal(charset_to_utf8("ISO-8859-1", S("\xe9\xe9\xe9\xe9"), out, 5, &len), 0);
    assert_int_equal(len, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bom),        cmocka_unit_test(test_xml),       cmocka_unit_test(test_meta),
        cmocka_unit_test(test_scan_limit), cmocka_unit_test(test_supported), cmocka_unit_test(test_decode),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
