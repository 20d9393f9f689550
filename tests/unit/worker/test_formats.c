/* Unit tests of the issue-16 format parsers in process: zip paths, entity
 * detection, RTF, CSV and e-mail edge cases, XLSX/ODS cell caps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/errors.h"
#include "worker/extract/csv.h"
#include "worker/extract/eml.h"
#include "worker/extract/epub.h"
#include "worker/extract/ozip.h"
#include "worker/extract/rtf.h"
#include "worker/extract/xlsx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

typedef enum run_fail (*parse_fn)(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                  size_t detail_len);

static char detail[512];

/* Run fn on s[0..n): the text (static, NUL-ended) or NULL, rc in *rc. */
static const char *run(parse_fn fn, const char *s, size_t n, enum run_fail *rc)
{
    static char text[65536];
    struct buf out;

    detail[0] = '\0';
    buf_init(&out, sizeof(text) - 1);
    *rc = fn(s, n, 16 << 20, &out, detail, sizeof(detail));
    snprintf(text, sizeof(text), "%.*s", (int)out.len, out.ptr ? out.ptr : "");
    buf_release(&out);
    return *rc == RUN_OK ? text : NULL;
}

static void test_resolve(void **state)
{
    char d[256];

    (void)state;
    assert_int_equal(ozip_resolve("ppt/slides/slide1.xml", "../notesSlides/n1.xml", d, sizeof(d)), 0);
    assert_string_equal(d, "ppt/notesSlides/n1.xml");
    assert_int_equal(ozip_resolve("xl/workbook.xml", "/xl/worksheets/sheet1.xml", d, sizeof(d)), 0);
    assert_string_equal(d, "xl/worksheets/sheet1.xml");
    assert_int_equal(ozip_resolve("OEBPS/content.opf", "text/ch%201.xhtml#frag", d, sizeof(d)), 0);
    assert_string_equal(d, "OEBPS/text/ch 1.xhtml");
    assert_int_equal(ozip_resolve("a.opf", "../../etc/passwd", d, sizeof(d)), -1);
    assert_int_equal(ozip_resolve("a/b.xml", "./c/./d.xml", d, sizeof(d)), 0);
    assert_string_equal(d, "a/c/d.xml");
}

static void test_entities(void **state)
{
    static const char xxe[] = "<?xml version=\"1.0\"?>\n<!DOCTYPE html [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                              "<html>&x;</html>";
    static const char plain[] = "<?xml version=\"1.0\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.1//EN\" "
                                "\"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd\"><html><p>&lt;!ENTITY</p></html>";

    (void)state;
    assert_true(epub_declares_entity(xxe, sizeof(xxe) - 1));
    assert_false(epub_declares_entity(plain, sizeof(plain) - 1));
    assert_false(epub_declares_entity("<html/>", 7));
}

static void test_rtf(void **state)
{
    static const char doc[] = "{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}{\\*\\x hidden}A\\'e9\\u-4064?B\\uc2\\u8364 xyC"
                              "\\bin4 }}}}D\\par E\\tab F\\~G}";
    char deep[RTF_MAX_DEPTH * 2 + 16];
    enum run_fail rc;
    const char *t = run(extract_rtf_buffer, doc, sizeof(doc) - 1, &rc);

    (void)state;
    assert_int_equal(rc, RUN_OK);
    /* \u-4064 is U+F020 (negative = +65536), its one fallback char skipped;
     * \uc2 skips two; \bin4 skips four raw bytes, braces or not */
    assert_string_equal(t, "A\xC3\xA9\xEF\x80\xA0" "B\xE2\x82\xAC" "CD\n\nE\tF G");
    memset(deep, '{', sizeof(deep));
    memcpy(deep, "{\\rtf1", 6);
    assert_null(run(extract_rtf_buffer, deep, sizeof(deep), &rc));
    assert_int_equal(rc, RUN_FAIL_EXTRACT_FAILED);
    assert_string_equal(detail, "rtf: groups nested over 1000 deep");
    assert_null(run(extract_rtf_buffer, "hello", 5, &rc));
    assert_int_equal(rc, RUN_FAIL_EXTRACT_FAILED);
}

static void test_csv(void **state)
{
    static const char doc[] = "h1,h2\n\"a, \"\"q\"\"\",\"two\nlines\"\r\n,x\n";
    char big[4000];
    size_t o = 0;
    int ff = 0;
    enum run_fail rc;
    const char *t = run(extract_csv_buffer, doc, sizeof(doc) - 1, &rc);

    (void)state;
    assert_string_equal(t, "h1 | h2\na, \"q\" | two lines\n | x\n\f");
    o += (size_t)snprintf(big, sizeof(big), "k\tv\n");
    for (int i = 0; i < 120; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "%d\tv\n", i);
    t = run(extract_tsv_buffer, big, o, &rc);
    assert_non_null(t);
    for (const char *p = t; (p = strchr(p, '\f')); p++)
        ff++;
    assert_int_equal(ff, 3);   /* 120 records: pages of 50, 50, 20 */
    assert_non_null(strstr(t, "\fk | v\n50 | v\n"));
}

static void test_eml(void **state)
{
    static const char msg[] = "From: Ann <a@example.org>\nSubject: =?UTF-8?B?w6l0w6k=?=\nMIME-Version: 1.0\n"
                              "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: "
                              "quoted-printable\n\nt=E9l=E9phone\n";
    enum run_fail rc;
    const char *t = run(extract_eml_buffer, msg, sizeof(msg) - 1, &rc);
    struct buf big;

    (void)state;
    assert_non_null(t);
    assert_string_equal(t, "From: Ann <a@example.org>\nSubject: \xC3\xA9t\xC3\xA9\n\nt\xC3\xA9l\xC3\xA9phone\n\n\n");
    buf_init(&big, 1u << 20);
    for (int i = 0; i < EML_MAX_MULTIPARTS + 1; i++)
        assert_int_equal(buf_adds(&big, "Content-Type: multipart/mixed; boundary=x\n"), 0);
    assert_null(run(extract_eml_buffer, big.ptr, big.len, &rc));
    assert_int_equal(rc, RUN_FAIL_TOO_LARGE);
    assert_string_equal(detail, "eml over 100 multiparts");
    buf_release(&big);
}

/* A zip of (name, data) pairs, built with libzip into a malloc'ed buffer. */
static char *zip_of(const char *const *entries, size_t *len)
{
    zip_error_t ze;
    zip_source_t *src;
    zip_t *za;
    zip_stat_t st;
    char *out;

    zip_error_init(&ze);
    src = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_source_keep(src);
    za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    for (size_t i = 0; entries[i]; i += 2)
        assert_true(zip_file_add(za, entries[i], zip_source_buffer(za, entries[i + 1], strlen(entries[i + 1]), 0),
                                 0) >= 0);
    assert_int_equal(zip_close(za), 0);
    assert_int_equal(zip_source_stat(src, &st), 0);
    out = malloc(st.size);
    assert_int_equal(zip_source_open(src), 0);
    assert_int_equal(zip_source_read(src, out, st.size), (zip_int64_t)st.size);
    zip_source_close(src);
    zip_source_free(src);
    zip_error_fini(&ze);
    *len = st.size;
    return out;
}

static void test_xlsx(void **state)
{
    static const char rels[] = "<Relationships><Relationship Id=\"r1\" Target=\"worksheets/s.xml\"/></Relationships>";
    static const char wb[] = "<workbook xmlns:r=\"urn:r\"><sheets><sheet name=\"S\" r:id=\"r1\"/></sheets></workbook>";
    static const char sst[] = "<sst><si><t>shared</t><rPh><t>phonetic</t></rPh></si><si><r><t>ri</t></r><r><t>ch</t></r></si></sst>";
    static const char sheet[] = "<worksheet><sheetData><row><c t=\"s\"><v>1</v></c><c/><c t=\"b\"><v>1</v></c>"
                                "<c><f>SUM(A1)</f><v>3.5</v></c><c t=\"inlineStr\"><is><t>in</t></is></c></row>"
                                "<row><c t=\"s\"><v>0</v></c><c t=\"s\"><v>99</v></c></row></sheetData></worksheet>";
    const char *entries[] = {"xl/workbook.xml", wb, "xl/_rels/workbook.xml.rels", rels, "xl/sharedStrings.xml", sst,
                             "xl/worksheets/s.xml", sheet, NULL};
    size_t n;
    char *z = zip_of(entries, &n);
    enum run_fail rc;
    const char *t = run(extract_xlsx_buffer, z, n, &rc);

    (void)state;
    assert_string_equal(t, "S\n\nrich | TRUE | 3.5 | in\nshared\n\n\f");
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve), cmocka_unit_test(test_entities), cmocka_unit_test(test_rtf),
        cmocka_unit_test(test_csv),     cmocka_unit_test(test_eml),      cmocka_unit_test(test_xlsx),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
