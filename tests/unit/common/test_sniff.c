/* Unit tests of common/sniff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/sniff.h"

#include <stdio.h>
#include <string.h>

#define S(lit) (const unsigned char *)(lit), sizeof(lit) - 1

static void expect(const char *got, const char *want)
{
    if (!want) {
        if (got)
            fail_msg("expected NULL, got %s", got);
        return;
    }
    if (!got)
        fail_msg("expected %s, got NULL", want);
    assert_string_equal(got, want);
}

static void test_pdf(void **state)
{
    (void)state;
    expect(sniff_mime(S("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), "a.pdf"), SNIFF_MIME_PDF);
    expect(sniff_mime(S("%PDF-1.4\n"), "notes.txt"), SNIFF_MIME_PDF);   /* bytes win */
    expect(sniff_mime(S("\r\n%PDF-1.4\n"), NULL), SNIFF_MIME_PDF);
}

static void test_zip(void **state)
{
    /* a local header naming word/document.xml, sizes 0, stored */
    static const unsigned char docx[] =
        "PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x11\x00\x00\x00word/document.xml";
    static const unsigned char other[] =
        "PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x0b\x00\x00\x00xl/book.xml";

    (void)state;
    expect(sniff_mime(docx, sizeof(docx) - 1, "x.bin"), SNIFF_MIME_DOCX);
    static const unsigned char plain[] =
        "PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x0b\x00\x00\x00" "abc/def.txt";
    static const unsigned char ppt[] =
        "PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x0b\x00\x00\x00ppt/pre.xml";
    /* OpenDocument / EPUB: the first entry "mimetype", stored (method 0), 39 bytes of type */
    static const unsigned char odt[] =
        "PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00\x00\x00\x00\x00\x27\x00\x00\x00"
        "\x27\x00\x00\x00\x08\x00\x00\x00mimetypeapplication/vnd.oasis.opendocument.text";
    static const unsigned char epub[] =
        "PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00\x00\x00\x00\x00\x14\x00\x00\x00"
        "\x14\x00\x00\x00\x08\x00\x00\x00mimetypeapplication/epub+zip";

    expect(sniff_detect(other, sizeof(other) - 1, "a.zip"), SNIFF_MIME_XLSX);
    expect(sniff_detect(ppt, sizeof(ppt) - 1, "a.zip"), SNIFF_MIME_PPTX);
    expect(sniff_detect(odt, sizeof(odt) - 1, "a.zip"), SNIFF_MIME_ODT);
    expect(sniff_detect(epub, sizeof(epub) - 1, "a.docx"), SNIFF_MIME_EPUB);
    expect(sniff_mime(plain, sizeof(plain) - 1, "a.zip"), NULL);
    expect(sniff_mime(plain, sizeof(plain) - 1, "Report.DOCX"), SNIFF_MIME_DOCX);
    expect(sniff_detect(plain, sizeof(plain) - 1, "deck.pptx"), SNIFF_MIME_PPTX);
    /* each detected type has its extractor now, so the upload filter passes it */
    expect(sniff_mime(other, sizeof(other) - 1, "a.zip"), SNIFF_MIME_XLSX);
    expect(sniff_mime(ppt, sizeof(ppt) - 1, "a.zip"), SNIFF_MIME_PPTX);
    expect(sniff_mime(odt, sizeof(odt) - 1, "a.zip"), SNIFF_MIME_ODT);
    expect(sniff_mime(epub, sizeof(epub) - 1, "a.docx"), SNIFF_MIME_EPUB);
    expect(sniff_mime(S("PK\x05\x06\0\0\0\0"), "a.docx"), NULL);
}

static void test_html(void **state)
{
    (void)state;
    expect(sniff_mime(S("<!DOCTYPE html><html><body>x</body></html>"), "a.txt"), SNIFF_MIME_HTML);
    expect(sniff_mime(S("\xEF\xBB\xBF  \n<html lang=en>"), NULL), SNIFF_MIME_HTML);
    expect(sniff_mime(S("<!-- saved page --><!doctype HTML>"), NULL), SNIFF_MIME_HTML);
    expect(sniff_mime(S("<?xml version=\"1.0\"?><html xmlns=\"x\">"), NULL), SNIFF_MIME_HTML);
    expect(sniff_mime(S("<HEAD><title>t</title>"), NULL), SNIFF_MIME_HTML);
    expect(sniff_mime(S("<p>fragment</p>"), "page.htm"), SNIFF_MIME_HTML);
    expect(sniff_mime(S("# Title\n\nsee <html> tags"), "a.md"), SNIFF_MIME_MARKDOWN);
}

static void test_text(void **state)
{
    (void)state;
    expect(sniff_mime(S("# Title\n\nBody"), "README.md"), SNIFF_MIME_MARKDOWN);
    expect(sniff_mime(S("# Title\n\nBody"), "notes.markdown"), SNIFF_MIME_MARKDOWN);
    expect(sniff_mime(S("plain words\r\n"), "a.txt"), SNIFF_MIME_TEXT);
    expect(sniff_mime(S("plain words"), NULL), SNIFF_MIME_TEXT);
    expect(sniff_mime(S("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80"), "x"), SNIFF_MIME_TEXT);
    expect(sniff_mime(S(""), "empty.txt"), SNIFF_MIME_TEXT);
}

static void test_cut_sequence(void **state)
{
    unsigned char head[SNIFF_HEAD_MAX];

    (void)state;
    /* the head ends in the middle of a 3-byte character: still text */
    memset(head, 'a', sizeof(head));
    memcpy(head + sizeof(head) - 2, "\xE6\x97", 2);
    expect(sniff_mime(head, sizeof(head), "a.txt"), SNIFF_MIME_TEXT);
    memcpy(head + sizeof(head) - 3, "\xF0\x9F\x98", 3);
    expect(sniff_mime(head, sizeof(head), "a.txt"), SNIFF_MIME_TEXT);
    /* but an invalid byte there is not */
    head[sizeof(head) - 1] = 0xFF;
    expect(sniff_mime(head, sizeof(head), "a.txt"), NULL);
    /* nor a cut sequence whose second byte is out of its lead's range (past U+10FFFF, overlong) */
    memcpy(head + sizeof(head) - 3, "a\xF4\x90", 3);
    expect(sniff_mime(head, sizeof(head), "a.txt"), NULL);
    memcpy(head + sizeof(head) - 3, "a\xE0\x80", 3);
    expect(sniff_mime(head, sizeof(head), "a.txt"), NULL);
    /* a lone lead byte at the very end is a cut sequence too */
    memcpy(head + sizeof(head) - 3, "aa\xC3", 3);
    expect(sniff_mime(head, sizeof(head), "a.txt"), SNIFF_MIME_TEXT);
}

static void test_binary(void **state)
{
    (void)state;
    /* images are documents now (OCR), by their bytes whatever the name */
    expect(sniff_mime(S("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "a.txt"), SNIFF_MIME_PNG);
    expect(sniff_mime(S("\xFF\xD8\xFF\xE0\0\x10JFIF"), "a.txt"), SNIFF_MIME_JPEG);
    expect(sniff_mime(S("II*\0\x08\0\0\0"), "a.txt"), SNIFF_MIME_TIFF);
    expect(sniff_mime(S("\x7f" "ELF\x02\x01\x01"), "a.md"), NULL);
    expect(sniff_mime(S("\x1f\x8b\x08\x00"), "a.txt"), NULL);
    expect(sniff_mime(S("GIF89a"), "a.txt"), NULL);
    expect(sniff_mime(S("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), "old.doc"), NULL);
    expect(sniff_mime(S("\xFF\xFEh\0i\0"), "utf16.txt"), NULL);
    expect(sniff_mime(S("text with a NUL\0 inside"), "a.txt"), NULL);
    expect(sniff_mime(S("latin1 caf\xe9 text"), "a.txt"), NULL);
    expect(sniff_mime(S("overlong \xC0\xAF"), "a.txt"), NULL);
    expect(sniff_mime(S("surrogate \xED\xA0\x80"), "a.txt"), NULL);
    expect(sniff_mime(S("\x01\x02\x03\x04\x05\x06 mostly control"), "a.txt"), NULL);
    expect(sniff_detect(S("{\\rtf1\\ansi hello}"), "a.txt"), SNIFF_MIME_RTF);
    /* e-mail by its header block; tables only when name and lines agree */
    expect(sniff_detect(S("From: a@example.org\r\nSubject: hi\r\n\r\nbody"), "x.txt"), SNIFF_MIME_EML);
    expect(sniff_mime(S("From: a@example.org\nno header line\n"), "x.txt"), SNIFF_MIME_TEXT);
    expect(sniff_detect(S("a,b,c\n1,2,3\n\"x,y\",5,6\n"), "t.csv"), SNIFF_MIME_CSV);
    expect(sniff_mime(S("a,b,c\n1,2\n"), "t.csv"), SNIFF_MIME_TEXT);
    expect(sniff_mime(S("a,b,c\n1,2,3\n"), "t.txt"), SNIFF_MIME_TEXT);
    expect(sniff_detect(S("a\tb\n1\t2\n"), "t.tsv"), SNIFF_MIME_TSV);
    expect(sniff_mime(S("{\\rtf1\\ansi hello}"), "a.txt"), SNIFF_MIME_RTF);
    expect(sniff_mime(S("From: a@example.org\r\nSubject: hi\r\n\r\nbody"), "x.txt"), SNIFF_MIME_EML);
    expect(sniff_mime(S("a,b,c\n1,2,3\n"), "t.csv"), SNIFF_MIME_CSV);
    expect(sniff_mime(S("a\tb\n1\t2\n"), "t.tsv"), SNIFF_MIME_TSV);
    expect(sniff_mime(NULL, 10, "a.txt"), SNIFF_MIME_TEXT);
}

/* HTML that is not UTF-8 but declares its charset (issue: ISO-8859-1 pages were refused 415). */
static void test_declared_charset(void **state)
{
    static const unsigned char utf16le[] = "\xFF\xFE<\0h\0t\0m\0l\0>\0c\0a\0f\0\xe9\0";
    static const unsigned char utf16be[] = "\xFE\xFF\0<\0h\0t\0m\0l\0>\0\xe9";

    (void)state;
    expect(sniff_mime(S("<!DOCTYPE html><html><head><meta charset=\"iso-8859-1\"></head>"
                        "<body>caf\xe9 na\xefve Stra\xdf" "e</body></html>"), "page.html"), SNIFF_MIME_HTML);
    expect(sniff_mime(S("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">"
                        "<body>\x93quoted\x94 \x80"), NULL), SNIFF_MIME_HTML);
    expect(sniff_mime(S("<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\">"
                        "<body>\xa4</body></html>"), "a.xhtml"), SNIFF_MIME_HTML);
    expect(sniff_mime(S("<html><head><meta charset=shift_jis></head><body>\x93\xfa\x96\x7b\x8c\xea"), NULL),
           SNIFF_MIME_HTML);
    /* the declaration after the first non-ASCII byte still counts */
    expect(sniff_mime(S("<html><head><title>\xf0\xd2</title><meta charset=koi8-r>"), NULL), SNIFF_MIME_HTML);
    expect(sniff_mime(utf16le, sizeof(utf16le) - 1, "x.html"), SNIFF_MIME_HTML);
    expect(sniff_mime(utf16be, sizeof(utf16be) - 1, NULL), SNIFF_MIME_HTML);
    /* a fragment with a declaration is HTML only when named so */
    expect(sniff_mime(S("<meta charset=latin1><p>caf\xe9</p>"), "frag.htm"), SNIFF_MIME_HTML);
    expect(sniff_mime(S("<meta charset=latin1><p>caf\xe9</p>"), "frag.txt"), NULL);
}

/* What a declaration does not make acceptable. */
static void test_declared_charset_refused(void **state)
{
    static const unsigned char utf16_text[] = "\xFF\xFEh\0i\0\xe9\0";
    static const unsigned char utf16_bad[] = "\xFF\xFE<\0h\0t\0m\0l\0>\0\x00\xD8x\0";

    (void)state;
    /* no declaration: Latin-1 bytes are refused, as before */
    expect(sniff_mime(S("<html><body>caf\xe9</body></html>"), "a.html"), NULL);
    /* an unknown charset, a label that would reach iconv's options, a declared UTF-8 that is not */
    expect(sniff_mime(S("<html><meta charset=x-bogus><body>caf\xe9 x"), NULL), NULL);
    expect(sniff_mime(S("<html><meta charset=\"utf-8//IGNORE\"><body>caf\xe9 x"), NULL), NULL);
    expect(sniff_mime(S("<html><meta charset=utf-8><body>caf\xe9 x"), NULL), NULL);
    /* a declaration read as ASCII cannot be true in UTF-16 or EBCDIC */
    expect(sniff_mime(S("<html><meta charset=utf-16le><body>caf\xe9 x"), "x.html"), NULL);
    expect(sniff_mime(S("<html><meta charset=IBM037><body>caf\xe9 x"), "x.html"), NULL);
    /* an invalid sequence in the declared charset (a lone Shift_JIS lead byte before a blank) */
    expect(sniff_mime(S("<html><meta charset=shift_jis><body>\x81 \x81 x"), NULL), NULL);
    /* binary junk after a declaration: NULs and control bytes stay refused */
    expect(sniff_mime(S("<html><meta charset=latin1>\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\xe9"), NULL), NULL);
    expect(sniff_mime(S("<html><meta charset=latin1><body>\xe9\0\0\0"), NULL), NULL);
    /* plain text or Markdown stays UTF-8 only, BOM or not */
    expect(sniff_mime(utf16_text, sizeof(utf16_text) - 1, "notes.txt"), NULL);
    expect(sniff_mime(S("# Caf\xe9\n<meta charset=latin1>"), "a.md"), NULL);
    /* an unpaired surrogate is invalid UTF-16 */
    expect(sniff_mime(utf16_bad, sizeof(utf16_bad) - 1, "x.html"), NULL);
    /* other binary magic still wins over a later declaration */
    expect(sniff_mime(S("\x89PNG\r\n\x1a\n<meta charset=latin1>"), "a.html"), SNIFF_MIME_PNG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pdf),  cmocka_unit_test(test_zip),
        cmocka_unit_test(test_html), cmocka_unit_test(test_text),
        cmocka_unit_test(test_cut_sequence), cmocka_unit_test(test_binary),
        cmocka_unit_test(test_declared_charset), cmocka_unit_test(test_declared_charset_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
