/* Unit tests of worker/extract: each format from tests/fixtures, limits, repair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/errors.h"
#include "common/sniff.h"
#include "worker/extract/docx.h"
#include "worker/extract/extract.h"
#include "worker/extract/html.h"
#include "worker/extract/outline.h"
#include "worker/extract/pdf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

static char fixtures[512];
static char tmpdir[256];
static char helper[600];   /* build/ingest-extract, found from this test's own path */

static const char *fixture(const char *name)
{
    static char path[600];

    snprintf(path, sizeof(path), "%s/%s", fixtures, name);
    return path;
}

static struct extract_limits limits(void)
{
    struct extract_limits l = { .timeout_ms = 20000, .memory_mb = 512, .max_chars = 1000000,
                                .max_uncompressed_bytes = 16L << 20 };

    l.helper = helper;
    l.ocr = 1;
    return l;
}

static enum run_fail run(const char *path, const char *mime, const struct extract_limits *lim,
                         struct extract_result *r, char *detail)
{
    enum run_fail rc = extract_file(path, mime, lim, r, detail, 256);

    if (rc != RUN_OK)
        print_message("extract %s: %s: %s\n", path, run_fail_code(rc), detail);
    return rc;
}

#define assert_contains(hay, needle)                                                   \
    do {                                                                               \
        if (!strstr((hay), (needle)))                                                  \
            fail_msg("\"%s\" not found in:\n%s", (needle), (hay));                     \
    } while (0)
#define assert_not_contains(hay, needle)                                               \
    do {                                                                               \
        if (strstr((hay), (needle)))                                                   \
            fail_msg("\"%s\" unexpectedly found in:\n%s", (needle), (hay));            \
    } while (0)

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void test_text(void **state)
{
    struct extract_limits lim = limits();
    struct extract_result r;
    char d[256];

    (void)state;
    assert_int_equal(run(fixture("sample.txt"), SNIFF_MIME_TEXT, &lim, &r, d), RUN_OK);
    assert_int_equal(r.pages, 1);
    assert_int_equal(r.page_starts[0], 0);
    assert_int_equal(strlen(r.text), r.len);
    assert_contains(r.text, "Plain text fixture for the ingestion pipeline.");
    assert_contains(r.text, "exponential backoff");
    extract_result_release(&r);
    assert_null(r.text);
}

static void test_markdown(void **state)
{
    struct extract_limits lim = limits();
    struct extract_result r;
    char d[256];

    (void)state;
    assert_int_equal(run(fixture("sample.md"), SNIFF_MIME_MARKDOWN, &lim, &r, d),
                     RUN_OK);
    assert_true(strncmp(r.text, "Ingestion Guide\n", 16) == 0);
    assert_contains(r.text, "\nUploading files\n");
    assert_contains(r.text, "\nSearch\n");
    assert_contains(r.text, "Setext Heading\n");
    assert_not_contains(r.text, "===");
    assert_not_contains(r.text, "```");
    assert_not_contains(r.text, "##");
    assert_contains(r.text, "curl -F file=@notes.md");
    assert_contains(r.text, "- Drag and drop several files.");
    extract_result_release(&r);
}

static void test_html(void **state)
{
    struct extract_limits lim = limits();
    struct extract_result r;
    char d[256];

    (void)state;
    assert_int_equal(run(fixture("sample.html"), SNIFF_MIME_HTML, &lim, &r, d), RUN_OK);
    assert_contains(r.text, "Sample Page");
    assert_contains(r.text, "Document Ingestion");
    assert_contains(r.text, "Fish & chips cost \xC2\xA3" "5 \xE2\x80\x94 caf\xC3\xA9 prices.");
    assert_contains(r.text, "First block\nsecond line");
    assert_contains(r.text, "alpha\nbeta");
    assert_contains(r.text, "cell one cell two");
    assert_contains(r.text, "code  keeps\n   spacing");
    assert_contains(r.text, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E and na\xC3\xAFve.");
    assert_contains(r.text, "Document Ingestion\n\nFish");
    assert_not_contains(r.text, "script text");
    assert_not_contains(r.text, "color: red");
    assert_not_contains(r.text, "enable javascript");
    assert_not_contains(r.text, "template text");
    extract_result_release(&r);
}

static void test_docx(void **state)
{
    struct extract_limits lim = limits();
    struct extract_result r;
    char d[256];

    (void)state;
    assert_int_equal(run(fixture("sample.docx"), SNIFF_MIME_DOCX, &lim, &r, d), RUN_OK);
    assert_true(strncmp(r.text, "Quarterly Report\n\n", 18) == 0);
    assert_contains(r.text, "processed 1,024 documents last quarter.\n\n");
    assert_contains(r.text, "Name\tValue\nLine after break");
    assert_contains(r.text, "Caf\xC3\xA9 na\xC3\xAFve");
    assert_contains(r.text, "Final paragraph & closing remarks.");
    assert_not_contains(r.text, "deleted words");
    assert_not_contains(r.text, "PAGE");
    assert_int_equal(r.pages, 1);
    extract_result_release(&r);
}

static void test_pdf_pages(void **state)
{
    struct extract_limits lim = limits();
    struct extract_result r;
    char d[256];
    const char *hit;
    size_t off;

    (void)state;
    assert_int_equal(run(fixture("sample.pdf"), SNIFF_MIME_PDF, &lim, &r, d), RUN_OK);
    assert_int_equal(r.pages, 3);
    assert_int_equal(r.page_starts[0], 0);
    assert_true(r.page_starts[1] > 0 && r.page_starts[2] > r.page_starts[1]);
    assert_true(r.page_starts[2] < r.len);
    assert_null(memchr(r.text, '\f', r.len));
    hit = strstr(r.text, "zebra quantum lighthouse");
    assert_non_null(hit);
    off = (size_t)(hit - r.text);
    assert_true(off >= r.page_starts[1] && off < r.page_starts[2]);
    assert_null(strstr(hit + 1, "zebra quantum lighthouse"));
    assert_true(strncmp(r.text + r.page_starts[1], "Page two", 8) == 0);
    assert_true(strncmp(r.text + r.page_starts[2], "Page three", 10) == 0);
    extract_result_release(&r);
}

static void test_pdf_corrupt(void **state)
{
    struct extract_limits lim = limits();
    struct extract_result r;
    char d[256];

    (void)state;
    /* pdftotext's own verdict: permanent, no queue retries (CORRUPT) */
    assert_int_equal(extract_file(fixture("corrupt.pdf"), SNIFF_MIME_PDF, &lim, &r, d, sizeof(d)),
                     RUN_FAIL_CORRUPT);
    assert_string_equal(d, "pdftotext exit 1");
    assert_null(r.text);
}

static void test_docx_bomb(void **state)
{
    struct extract_limits lim = limits();
    struct extract_result r;
    char d[256];

    (void)state;
    assert_int_equal(extract_file(fixture("bomb.docx"), SNIFF_MIME_DOCX, &lim, &r, d, sizeof(d)),
                     RUN_FAIL_TOO_LARGE);
    assert_string_equal(d, "docx uncompressed size over limit");
    /* headers that claim 1000 bytes: caught by counting what is inflated */
    assert_int_equal(
        extract_file(fixture("bomb-lying.docx"), SNIFF_MIME_DOCX, &lim, &r, d, sizeof(d)),
        RUN_FAIL_TOO_LARGE);
    assert_null(r.text);
}

static void test_timeout_fifo(void **state)
{
    struct extract_limits lim = limits();
    struct extract_result r;
    char path[512], d[256];
    enum run_fail rc;

    (void)state;
    /* opening a FIFO nobody writes blocks forever: a stand-in for a hung parser */
    snprintf(path, sizeof(path), "%s/hang.fifo", tmpdir);
    assert_int_equal(mkfifo(path, 0600), 0);
    lim.timeout_ms = 300;
    rc = extract_file(path, SNIFF_MIME_TEXT, &lim, &r, d, sizeof(d));
    assert_int_equal(rc, RUN_FAIL_TIMEOUT);
    assert_string_equal(d, "extraction over 300 ms");
    /* the same through pdftotext: its process group is killed with it */
    rc = extract_file(path, SNIFF_MIME_PDF, &lim, &r, d, sizeof(d));
    assert_int_equal(rc, RUN_FAIL_TIMEOUT);
    unlink(path);
}

static void test_repair(void **state)
{
    static const char raw[] = "abc\xff\xfe" "def\0ghi\r\nline\rx\xe2\x82\x01y\xed\xa0\x80z\x07!";
    static const char want[] = "abc\xEF\xBF\xBD\xEF\xBF\xBD" "defghi\nline\nx\xEF\xBF\xBD\xEF\xBF\xBDy"
                               "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz!";
    struct extract_limits lim = limits();
    struct extract_result r;
    char path[512], d[256];

    (void)state;
    snprintf(path, sizeof(path), "%s/bad.txt", tmpdir);
    write_file(path, raw, sizeof(raw) - 1);
    assert_int_equal(run(path, SNIFF_MIME_TEXT, &lim, &r, d), RUN_OK);
    assert_int_equal(r.len, sizeof(want) - 1);
    assert_memory_equal(r.text, want, sizeof(want) - 1);
    extract_result_release(&r);
}

static void test_limits(void **state)
{
    struct extract_limits lim = limits();
    struct extract_result r;
    char d[256];

    (void)state;
    lim.max_chars = 100;
    assert_int_equal(extract_file(fixture("sample.txt"), SNIFF_MIME_TEXT, &lim, &r, d, sizeof(d)),
                     RUN_FAIL_TOO_LARGE);
    assert_int_equal(extract_file(fixture("sample.pdf"), SNIFF_MIME_PDF, &lim, &r, d, sizeof(d)),
                     RUN_FAIL_TOO_LARGE);
    lim = limits();
    assert_int_equal(extract_file(fixture("sample.txt"), "application/x-unknown", &lim, &r, d, sizeof(d)),
                     RUN_FAIL_UNSUPPORTED_TYPE);
    /* an image type whose bytes are no image: refused by the header check, before any decoder */
    assert_int_equal(extract_file(fixture("sample.txt"), "image/png", &lim, &r, d, sizeof(d)),
                     RUN_FAIL_EXTRACT_FAILED);
    assert_string_equal(d, "image header not understood");
    assert_int_equal(extract_file(fixture("sample.txt"), NULL, &lim, &r, d, sizeof(d)),
                     RUN_FAIL_UNSUPPORTED_TYPE);
    assert_int_equal(extract_file("/nonexistent/x.txt", SNIFF_MIME_TEXT, &lim, &r, d, sizeof(d)),
                     RUN_FAIL_EXTRACT_FAILED);
    /* not a zip: the same bytes never will be, permanent */
    assert_int_equal(extract_file(fixture("sample.txt"), SNIFF_MIME_DOCX, &lim, &r, d, sizeof(d)),
                     RUN_FAIL_CORRUPT);
}

/* The sandbox is a new program image: the child reads its own /proc/self/exe,
 * which is the helper, not this test program (a fork would report the test). */
static void test_sandbox_exec(void **state)
{
    struct extract_limits lim = limits();
    struct extract_result r;
    char d[256], self[512];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    (void)state;
    assert_true(n > 0);
    self[n] = '\0';
    assert_int_equal(run(fixture("sample.txt"), EXTRACT_MIME_PROBE, &lim, &r, d), RUN_OK);
    assert_string_equal(r.text, helper);
    assert_string_not_equal(r.text, self);
    extract_result_release(&r);
    /* a helper that cannot be spawned: internal, said so */
    lim.helper = "/nonexistent/ingest-extract";
    assert_int_equal(extract_file(fixture("sample.txt"), SNIFF_MIME_TEXT, &lim, &r, d, sizeof(d)),
                     RUN_FAIL_INTERNAL);
    assert_contains(d, "spawn /nonexistent/ingest-extract");
}

/* A child over its memory limit fails too_large (RLIMIT_AS; not applied under ASan). */
static void test_sandbox_memory(void **state)
{
#if defined(__SANITIZE_ADDRESS__)
    (void)state;
    skip();
#else
    struct extract_limits lim = limits();
    struct extract_result r;
    char d[256], path[600];
    static char block[1 << 20];
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/big.txt", tmpdir);
    memset(block, 'a', sizeof(block));
    f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 96; i++)
        assert_int_equal(fwrite(block, 1, sizeof(block), f), sizeof(block));
    fclose(f);
    lim.memory_mb = 48;
    lim.max_chars = 200L << 20;
    lim.max_uncompressed_bytes = 200L << 20;
    assert_int_equal(extract_file(path, SNIFF_MIME_TEXT, &lim, &r, d, sizeof(d)), RUN_FAIL_TOO_LARGE);
    assert_contains(d, "memory limit");
#endif
}

static void test_normalize_pages(void **state)
{
    struct buf out;
    size_t *starts = NULL;
    int pages = 0;

    (void)state;
    buf_init(&out, 1000);
    assert_int_equal(extract_normalize("one\n\fTWO\fthree\n\f\f", 17, &out, &starts, &pages),
                     RUN_OK);
    assert_int_equal(pages, 4);
    assert_string_equal(out.ptr, "one\n\nTWO\n\nthree\n");
    assert_int_equal(starts[0], 0);
    assert_int_equal(starts[1], 5);
    assert_int_equal(starts[2], 10);
    assert_int_equal(starts[3], out.len);
    free(starts);
    buf_release(&out);
    /* a blank first page */
    buf_init(&out, 1000);
    assert_int_equal(extract_normalize("\fb\f", 3, &out, &starts, &pages), RUN_OK);
    assert_int_equal(pages, 2);
    assert_int_equal(starts[1], 0);
    free(starts);
    buf_release(&out);
}

/* Write a DOCX with the given document.xml through libzip. */
static void make_docx(const char *path, const char *xml)
{
    int err = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    zip_source_t *s;

    assert_non_null(za);
    s = zip_source_buffer(za, xml, strlen(xml), 0);
    assert_non_null(s);
    assert_true(zip_file_add(za, "word/document.xml", s, 0) >= 0);
    assert_int_equal(zip_close(za), 0);
}

static void test_docx_xxe(void **state)
{
    static const char xxe[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">"
        "<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
        "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY e \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>"
        "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
        "<w:body><w:p><w:r><w:t>safe &x; &e; end</w:t></w:r></w:p></w:body></w:document>";
    struct extract_limits lim = limits();
    struct extract_result r;
    char path[512], d[256];
    enum run_fail rc;

    (void)state;
    snprintf(path, sizeof(path), "%s/xxe.docx", tmpdir);
    make_docx(path, xxe);
    /* refusing the document is as good as ignoring the entities: no leak either way */
    rc = extract_file(path, SNIFF_MIME_DOCX, &lim, &r, d, sizeof(d));
    assert_true(rc == RUN_OK || rc == RUN_FAIL_EXTRACT_FAILED);
    if (rc == RUN_OK) {
        assert_not_contains(r.text, "root:");
        assert_true(r.len < 1000);
        extract_result_release(&r);
    }
}

/* Heading1..4 paragraph styles are marked for worker/structure.c; other styles are not. */
static void test_docx_headings(void **state)
{
    static const char xml[] =
        "<?xml version=\"1.0\"?>"
        "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>"
        "<w:p><w:pPr><w:pStyle w:val=\"Heading1\"/></w:pPr><w:r><w:t>Setup</w:t></w:r></w:p>"
        "<w:p><w:pPr><w:pStyle w:val=\"Heading2\"/></w:pPr><w:r><w:t>Cables</w:t></w:r></w:p>"
        "<w:p><w:pPr><w:pStyle w:val=\"Quote\"/></w:pPr><w:r><w:t>Plug it in.</w:t></w:r></w:p>"
        "<w:p><w:pPr><w:pStyle w:val=\"Heading9\"/></w:pPr><w:r><w:t>Deep</w:t></w:r></w:p>"
        "</w:body></w:document>";
    struct extract_limits lim = limits();
    struct extract_result r;
    char path[512], d[256];

    (void)state;
    snprintf(path, sizeof(path), "%s/headings.docx", tmpdir);
    make_docx(path, xml);
    assert_int_equal(extract_file(path, SNIFF_MIME_DOCX, &lim, &r, d, sizeof(d)), RUN_OK);
    assert_non_null(strstr(r.text, EXTRACT_HEADING_MARK "1Setup\n\n" EXTRACT_HEADING_MARK "2Cables\n\nPlug it in."));
    assert_non_null(strstr(r.text, "\n\nDeep"));   /* level 9 is not a heading we keep */
    extract_result_release(&r);
}

static void test_html_buffer(void **state)
{
    struct buf out;
    char d[256];
    static const char latin1[] =
        "<html><head><meta charset=\"iso-8859-1\"></head><body><p>caf\xe9</p></body></html>";

    (void)state;
    buf_init(&out, 1000);
    assert_int_equal(extract_html_buffer(latin1, sizeof(latin1) - 1, &out, d, sizeof(d)),
                     RUN_OK);
    assert_string_equal(out.ptr, "caf\xC3\xA9");
    buf_release(&out);
    buf_init(&out, 10);
    assert_int_equal(extract_html_buffer("<p>0123456789abcdef</p>", 23, &out, d, sizeof(d)),
                     RUN_FAIL_TOO_LARGE);
    buf_release(&out);
}

/* h1..h4 open their paragraph with the heading mark and level; h5 and <pre> "#" lines are text. */
static void test_html_headings(void **state)
{
    static const char html[] = "<h1>Guide</h1><p>intro</p><h3>Deep <b>dive</b></h3><h5>small</h5>"
                               "<pre># not a heading</pre>";
    struct buf out;
    char d[256];

    (void)state;
    buf_init(&out, 1000);
    assert_int_equal(extract_html_buffer(html, sizeof(html) - 1, &out, d, sizeof(d)), RUN_OK);
    assert_string_equal(out.ptr, EXTRACT_HEADING_MARK "1Guide\n\nintro\n\n" EXTRACT_HEADING_MARK "3Deep dive\n\n"
                                 "small\n\n# not a heading");
    buf_release(&out);
}

static void test_html_utf8_detection(void **state)
{
    struct buf out;
    char d[256];
    static const char utf8[] = "<p>caf\xC3\xA9 \xE6\x97\xA5</p>";
    static const char surrogate[] = "<p>a\xED\xA0\x80</p>";

    (void)state;
    /* all valid UTF-8, no charset declared: read as UTF-8, not Latin-1 */
    buf_init(&out, 1000);
    assert_int_equal(extract_html_buffer(utf8, sizeof(utf8) - 1, &out, d, sizeof(d)), RUN_OK);
    assert_string_equal(out.ptr, "caf\xC3\xA9 \xE6\x97\xA5");
    buf_release(&out);
    /* not strict UTF-8 (a surrogate): libxml2's default applies, whatever it makes of it */
    buf_init(&out, 1000);
    assert_int_equal(extract_html_buffer(surrogate, sizeof(surrogate) - 1, &out, d, sizeof(d)), RUN_OK);
    assert_non_null(out.ptr);
    assert_int_equal(out.ptr[0], 'a');
    buf_release(&out);
}

/* The text extract_html_buffer() makes of p[0..n) is want. */
static void expect_html_text(const char *p, size_t n, const char *want)
{
    struct buf out;
    char d[256];

    buf_init(&out, 1000);
    assert_int_equal(extract_html_buffer(p, n, &out, d, sizeof(d)), RUN_OK);
    assert_non_null(out.ptr);
    assert_string_equal(out.ptr, want);
    buf_release(&out);
}

/* The charset sniff_mime() accepted a page for is the one it is decoded with. */
static void test_html_declared_charsets(void **state)
{
    static const char xhtml[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\n"
                                "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body>\xa4 caf\xe9</body></html>";
    static const char late_meta[] = "<html><head><title>\xf0\xd2\xc9\xd7\xc5\xd4</title><meta charset=koi8-r>"
                                    "</head><body></body></html>";
    static const char cp1252[] = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
                                 "charset=windows-1252\"></head><body>\x93quoted\x94 \x80</body></html>";
    static const char sjis[] = "<html><head><meta charset=\"shift_jis\"></head><body>\x93\xfa\x96\x7b\x8c\xea</body></html>";
    static const char utf16le[] = "\xFF\xFE<\0p\0>\0c\0a\0f\0\xe9\0<\0/\0p\0>\0";

    (void)state;
    /* libxml2's HTML parser alone would read these as Latin-1 (ISO-8859-15's euro is 0xA4) */
    expect_html_text(xhtml, sizeof(xhtml) - 1, "\xE2\x82\xAC caf\xC3\xA9");
    expect_html_text(late_meta, sizeof(late_meta) - 1, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
    expect_html_text(cp1252, sizeof(cp1252) - 1, "\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x82\xAC");
    expect_html_text(sjis, sizeof(sjis) - 1, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
    /* a byte order mark, not shown in the text */
    expect_html_text(utf16le, sizeof(utf16le) - 1, "caf\xC3\xA9");
}

static void test_put(void **state)
{
    struct buf out;

    (void)state;
    buf_init(&out, 8);
    assert_int_equal(extract_put(&out, "abcd", 4), RUN_OK);
    assert_int_equal(extract_put(&out, "efgh", 4), RUN_OK);
    assert_string_equal(out.ptr, "abcdefgh");
    /* past the max: TOO_LARGE, and the cut contents are released */
    assert_int_equal(extract_put(&out, "i", 1), RUN_FAIL_TOO_LARGE);
    assert_null(out.ptr);
    assert_int_equal(out.len, 0);
    buf_release(&out);
}

static int setup(void **state)
{
    const char *env = getenv("FIXTURES_DIR");
    struct stat st;

    (void)state;
    snprintf(fixtures, sizeof(fixtures), "%s", env && *env ? env : "tests/fixtures");
    if (stat(fixture("sample.pdf"), &st) != 0) {
        /* run from elsewhere: find the fixtures next to this source file */
        char here[256], *slash;

        snprintf(here, sizeof(here), "%s", __FILE__);
        slash = strrchr(here, '/');
        if (slash)
            *slash = '\0';
        snprintf(fixtures, sizeof(fixtures), "%s/../../fixtures", here);
    }
    /* build/tests/unit/worker/test_extract -> build/ingest-extract */
    {
        char self[512];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

        if (n <= 0)
            return -1;
        self[n] = '\0';
        for (int up = 0; up < 4; up++)
            *strrchr(self, '/') = '\0';
        snprintf(helper, sizeof(helper), "%s/ingest-extract", self);
    }
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_extract.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[600];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A helper's payload with pages 0 and 7 of "Hello\n\nWorld", no flags or metadata, and the outline
 * entries given as (level, page, title); n_claimed entries announced. */
static void payload(struct buf *b, const int *level, const uint32_t *page, const char *const *title, int n,
                    uint32_t n_claimed)
{
    int32_t pages = 2;
    uint64_t st[2] = {0, 7};
    unsigned char flags[2] = {0, 0};
    uint32_t zero = 0;

    buf_init(b, 1 << 20);
    assert_int_equal(buf_add(b, &pages, 4) | buf_add(b, st, 16) | buf_add(b, flags, 2) | buf_add(b, &zero, 4) |
                         buf_add(b, &zero, 4) | buf_add(b, &n_claimed, 4), 0);
    for (int i = 0; i < n; i++) {
        unsigned char lv = (unsigned char)level[i];
        uint32_t len = (uint32_t)strlen(title[i]);

        assert_int_equal(buf_add(b, &lv, 1) | buf_add(b, &page[i], 4) | buf_add(b, &len, 4) |
                             buf_add(b, title[i], len), 0);
    }
    assert_int_equal(buf_add(b, "Hello\n\nWorld", 12), 0);
}

/* The parent checks every outline entry of the helper's payload: a forged one fails the run, nothing kept. */
static void test_unpack_outline(void **state)
{
    static const int lv[] = {1, 2};
    static const uint32_t pg[] = {1, 2};
    static const char *const ti[] = {"Intro", "Sub \xc3\xa9"};
    static const int bad_lv[][2] = {{1, 0}, {1, EXTRACT_OUTLINE_DEPTH + 1}, {1, 2}, {1, 2}, {1, 2}, {1, 2}, {1, 2}};
    static const uint32_t bad_pg[][2] = {{1, 2}, {1, 2}, {1, 3}, {1, 0}, {1, 2}, {1, 2}, {1, 2}};
    char long_title[EXTRACT_OUTLINE_TITLE_MAX + 1], d[128];
    const char *const bad_ti[][2] = {{"a", "b"}, {"a", "b"}, {"a", "b"}, {"a", "b"}, {"a", "two\nlines"},
                                     {"a", ""}, {"a", long_title}};
    struct extract_result r;
    struct buf b;

    (void)state;
    payload(&b, lv, pg, ti, 2, 2);
    assert_int_equal(extract_unpack(&b, &r, d, sizeof(d)), RUN_OK);
    buf_release(&b);
    assert_int_equal(r.noutline, 2);
    assert_int_equal(r.outline[1].level, 2);
    assert_int_equal(r.outline[1].page, 2);
    assert_string_equal(r.outline[1].title, "Sub \xc3\xa9");
    assert_string_equal(r.text, "Hello\n\nWorld");
    extract_result_release(&r);
    memset(long_title, 'x', sizeof(long_title) - 1);
    long_title[sizeof(long_title) - 1] = '\0';
    /* level 0, level 9, page past the last, page 0, a control byte, empty, 256 bytes */
    for (int k = 0; k < 7; k++) {
        payload(&b, bad_lv[k], bad_pg[k], bad_ti[k], 2, 2);
        assert_int_equal(extract_unpack(&b, &r, d, sizeof(d)), RUN_FAIL_EXTRACT_FAILED);
        assert_null(r.outline);
        assert_null(r.text);
        buf_release(&b);
    }
    payload(&b, lv, pg, ti, 2, 3);   /* announces more entries than it holds (the text is read as one) */
    assert_int_equal(extract_unpack(&b, &r, d, sizeof(d)), RUN_FAIL_EXTRACT_FAILED);
    buf_release(&b);
    payload(&b, lv, pg, ti, 0, EXTRACT_OUTLINE_MAX + 1);   /* over the bound */
    assert_int_equal(extract_unpack(&b, &r, d, sizeof(d)), RUN_FAIL_EXTRACT_FAILED);
    assert_string_equal(d, "extractor sent a malformed result");
    buf_release(&b);
}

struct got {
    int n, level[8];
    long page[8];
    char title[8][EXTRACT_OUTLINE_TITLE_MAX];
};

static int got_item(void *arg, int level, long page, const char *title)
{
    struct got *g = arg;

    if (g->n >= 8)
        return 1;
    g->level[g->n] = level;
    g->page[g->n] = page;
    snprintf(g->title[g->n], sizeof(g->title[0]), "%s", title);
    g->n++;
    return 0;
}

/* pdftohtml -xml's outline: nesting, entities, items without a page or outside a list skipped. */
static void test_outline_parse(void **state)
{
    static const char xml[] =
        "<page number=\"1\">\n<text top=\"1\">&lt;outline&gt;</text>\n</page>\n"
        "<item page=\"9\">Not in a list</item>\n"
        "<outline>\n<item page=\"7\">Introduction</item>\n<outline>\n"
        "<item page=\"8\">New data type &#34;array&#34; &amp; &lt;more&gt; &#x2013; &#0; done</item>\n"
        "<item>No page</item>\n<item page=\"x\">Bad page</item>\n"
        "<item page=\"10\">Cut off\n"
        "</outline>\n<item page=\"12\">Back to the top</item>\n</outline>\n";
    char big[EXTRACT_OUTLINE_TITLE_MAX * 3 + 64];
    struct got g;
    size_t n;

    (void)state;
    memset(&g, 0, sizeof(g));
    assert_int_equal(extract_outline_parse(xml, sizeof(xml) - 1, got_item, &g), 3);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.level[0], 1);
    assert_int_equal(g.page[0], 7);
    assert_string_equal(g.title[0], "Introduction");
    assert_int_equal(g.level[1], 2);
    assert_int_equal(g.page[1], 8);
    assert_string_equal(g.title[1], "New data type \"array\" & <more> \xe2\x80\x93  done");
    assert_int_equal(g.level[2], 1);
    assert_string_equal(g.title[2], "Back to the top");
    /* a long title is cut below the limit at a character boundary */
    n = (size_t)snprintf(big, sizeof(big), "<outline>\n<item page=\"1\">");
    for (int i = 0; i < EXTRACT_OUTLINE_TITLE_MAX; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "\xc3\xa9");
    n += (size_t)snprintf(big + n, sizeof(big) - n, "</item>\n</outline>\n");
    memset(&g, 0, sizeof(g));
    assert_int_equal(extract_outline_parse(big, n, got_item, &g), 1);
    assert_true(strlen(g.title[0]) < EXTRACT_OUTLINE_TITLE_MAX && strlen(g.title[0]) % 2 == 0);
    /* the callback can stop the walk */
    memset(&g, 0, sizeof(g));
    g.n = 8;
    assert_int_equal(extract_outline_parse(xml, sizeof(xml) - 1, got_item, &g), -1);
}

/* ---- a large PDF over page ranges (EXTRACT_PDF_PARTS) ------------------------ */

/* The bash reference manual (Debian bash-doc, installed by scripts/install-deps.sh): 196 pages. */
#define MANUAL_PDF "/usr/share/doc/bash-doc/bashref.pdf"
#define MANUAL_PAGES 196

/* Files up to this size reach pdftotext on its stdin; -1: always by path. */
#define BY_STDIN (1LL << 30)
#define BY_PATH (-1LL)

/* pdftotext over the whole file against 2, 3 and 7 parts, by path and on stdin: the same bytes,
 * page ends included. */
static void test_pdf_parts_identical(void **state)
{
    static const int nparts[] = { 2, 3, 7, MANUAL_PAGES };
    static const long long how[] = { BY_PATH, BY_STDIN };
    struct buf one, many;
    char d[256];

    (void)state;
    buf_init(&one, 64u << 20);
    assert_int_equal(extract_pdf_text(MANUAL_PDF, MANUAL_PAGES, 1, BY_PATH, &one, d, sizeof(d)), RUN_OK);
    assert_true(one.len > 100000);
    for (size_t h = 0; h < 2; h++)
        for (size_t k = 0; k < sizeof(nparts) / sizeof(nparts[0]) + 1; k++) {
            int n = k == 0 ? 1 : nparts[k - 1];
            size_t ff = 0;

            buf_init(&many, 64u << 20);
            assert_int_equal(extract_pdf_text(MANUAL_PDF, MANUAL_PAGES, n, how[h], &many, d, sizeof(d)), RUN_OK);
            assert_int_equal(many.len, one.len);
            assert_memory_equal(many.ptr, one.ptr, one.len);
            for (size_t i = 0; i < many.len; i++)
                ff += many.ptr[i] == '\f';
            assert_int_equal(ff, MANUAL_PAGES);
            buf_release(&many);
        }
    /* a 3-page fixture in 3 one-page parts, and on stdin */
    buf_reset(&one);
    buf_init(&many, 1u << 20);
    assert_int_equal(extract_pdf_text(fixture("sample.pdf"), 3, 1, BY_PATH, &one, d, sizeof(d)), RUN_OK);
    assert_int_equal(extract_pdf_text(fixture("sample.pdf"), 3, 3, BY_STDIN, &many, d, sizeof(d)), RUN_OK);
    assert_int_equal(many.len, one.len);
    assert_memory_equal(many.ptr, one.ptr, one.len);
    buf_release(&one);
    buf_release(&many);
}

/* extract_pdf_text on path fails with code (and detail, when given), out released. */
static void expect_pdf_fail(const char *path, long pages, int parts, size_t max, enum run_fail code,
                            const char *detail)
{
    static const long long how[] = { BY_PATH, BY_STDIN };
    struct buf out;
    char d[256];

    for (size_t h = 0; h < 2; h++) {
        buf_init(&out, max);
        assert_int_equal(extract_pdf_text(path, pages, parts, how[h], &out, d, sizeof(d)), code);
        if (detail)
            assert_string_equal(d, detail);
        assert_null(out.ptr);
    }
}

/* A part that fails fails the whole text with pdftotext's codes, by path and on stdin; the output
 * cap counts every part. */
static void test_pdf_parts_fail(void **state)
{
    struct buf out;
    char d[256];

    (void)state;
    expect_pdf_fail(fixture("corrupt.pdf"), 4, 2, 1u << 20, RUN_FAIL_CORRUPT, "pdftotext exit 1");
    /* each part alone is under 300 kB, both together over it */
    expect_pdf_fail(MANUAL_PDF, MANUAL_PAGES, 2, 300000, RUN_FAIL_TOO_LARGE, "pdftotext output over the limit");
    /* a page count past the file's end: pdftotext refuses a first page beyond it */
    expect_pdf_fail(fixture("sample.pdf"), 8, 2, 1u << 20, RUN_FAIL_CORRUPT, NULL);
    /* one part, the same loop: pdftotext's verdict, the cap, and no page count (pdfinfo failed) */
    expect_pdf_fail(fixture("corrupt.pdf"), 0, 1, 1u << 20, RUN_FAIL_CORRUPT, "pdftotext exit 1");
    expect_pdf_fail(MANUAL_PDF, MANUAL_PAGES, 1, 300000, RUN_FAIL_TOO_LARGE, "pdftotext output over the limit");
    buf_init(&out, 1u << 20);
    assert_int_equal(extract_pdf_text(fixture("sample.pdf"), 0, 4, BY_STDIN, &out, d, sizeof(d)), RUN_OK);
    assert_true(out.len > 0 && out.ptr[out.len - 1] == '\f');
    buf_release(&out);
}

/* Which PDFs go on stdin: a regular file of at most a quarter of the memory limit, nothing else. */
static void test_pdf_stdin_rule(void **state)
{
    struct stat st;
    const char *pdf = fixture("sample.pdf");

    (void)state;
    assert_int_equal(stat(pdf, &st), 0);
    assert_true(extract_pdf_stdin_max(1024) == 256LL << 20);
    assert_true(extract_pdf_stdin_max(32) == 8LL << 20);
    assert_true(extract_pdf_stdin_max(0) < 0);
    assert_int_equal(extract_pdf_on_stdin(pdf, extract_pdf_stdin_max(1024)), 1);
    assert_int_equal(extract_pdf_on_stdin(pdf, st.st_size), 1);          /* the bound is inclusive */
    assert_int_equal(extract_pdf_on_stdin(pdf, st.st_size - 1), 0);      /* one byte over: by path */
    assert_int_equal(extract_pdf_on_stdin(pdf, extract_pdf_stdin_max(0)), 0);
    assert_int_equal(extract_pdf_on_stdin("/nonexistent/x.pdf", 1LL << 30), 0);
    assert_int_equal(extract_pdf_on_stdin("/tmp", 1LL << 30), 0);        /* not a regular file */
}

/* Parts only while cores would idle: the cores per running job, capped at the setting, at least 1. */
static void test_pdf_parts_now(void **state)
{
    (void)state;
    assert_int_equal(extract_pdf_parts_now(2, 1, 2), 2);    /* alone on 2 cores */
    assert_int_equal(extract_pdf_parts_now(2, 2, 2), 1);    /* two jobs keep both cores busy */
    assert_int_equal(extract_pdf_parts_now(2, 3, 2), 1);
    assert_int_equal(extract_pdf_parts_now(4, 1, 2), 2);    /* never more parts than cores */
    assert_int_equal(extract_pdf_parts_now(4, 2, 8), 4);
    assert_int_equal(extract_pdf_parts_now(16, 3, 8), 2);
    assert_int_equal(extract_pdf_parts_now(1, 1, 8), 1);    /* 1: off */
    assert_int_equal(extract_pdf_parts_now(2, 0, 1), 1);    /* one core */
    assert_true(extract_cpu_count() >= 1);
}

struct progress_seen {
    long calls, last_done, last_total, back;
};

static void on_progress(void *arg, long done, long total)
{
    struct progress_seen *p = arg;

    p->back += done < p->last_done;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
}

/* Through the helper: split at 2 pages, the same text and pages as one pdftotext; progress sums the parts. */
static void test_pdf_parts_helper(void **state)
{
    struct extract_limits lim = limits();
    struct extract_result one, two;
    struct progress_seen seen = { 0 };
    char d[256];

    (void)state;
    lim.pdf_parts = 1;
    assert_int_equal(run(MANUAL_PDF, SNIFF_MIME_PDF, &lim, &one, d), RUN_OK);
    lim.pdf_parts = 3;
    lim.pdf_split_pages = 2;
    lim.progress = on_progress;
    lim.progress_arg = &seen;
    assert_int_equal(run(MANUAL_PDF, SNIFF_MIME_PDF, &lim, &two, d), RUN_OK);
    assert_int_equal(two.pages, MANUAL_PAGES);
    assert_int_equal(two.pages, one.pages);
    assert_int_equal(two.len, one.len);
    assert_memory_equal(two.text, one.text, one.len);
    assert_memory_equal(two.page_starts, one.page_starts, sizeof(size_t) * (size_t)one.pages);
    assert_int_equal(seen.last_done, MANUAL_PAGES);
    assert_int_equal(seen.last_total, MANUAL_PAGES);
    assert_int_equal(seen.back, 0);
    assert_true(seen.calls >= 2);
    extract_result_release(&one);
    extract_result_release(&two);
    /* the output cap holds for the parts together */
    lim.max_chars = 300000;
    assert_int_equal(extract_file(MANUAL_PDF, SNIFF_MIME_PDF, &lim, &two, d, sizeof(d)), RUN_FAIL_TOO_LARGE);
}

/* Whether a process still runs with needle in its command line. */
static int process_with_arg(const char *needle)
{
    DIR *dir = opendir("/proc");
    struct dirent *e;
    int found = 0;

    assert_non_null(dir);
    while (!found && (e = readdir(dir))) {
        char path[300], cmd[4096];
        ssize_t n;
        int fd;

        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        n = read(fd, cmd, sizeof(cmd) - 1);
        close(fd);
        for (ssize_t i = 0; i < n; i++)
            if (cmd[i] == '\0')
                cmd[i] = ' ';
        cmd[n > 0 ? n : 0] = '\0';
        found = strstr(cmd, needle) != NULL;
    }
    closedir(dir);
    return found;
}

/* The wall clock kills the helper's process group, every part with it. */
static void test_pdf_parts_timeout(void **state)
{
    struct extract_limits lim = limits();
    struct extract_result r;
    char path[512], d[256];
    FILE *in, *out;
    char chunk[65536];
    size_t n;

    (void)state;
    /* a copy under a name no other process has in its command line */
    snprintf(path, sizeof(path), "%s/parts-timeout-%ld.pdf", tmpdir, (long)getpid());
    in = fopen(MANUAL_PDF, "rb");
    out = fopen(path, "wb");
    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
        assert_int_equal(fwrite(chunk, 1, n, out), n);
    fclose(in);
    fclose(out);
    lim.pdf_parts = 2;
    lim.pdf_split_pages = 2;
    lim.timeout_ms = 150;
    assert_int_equal(extract_file(path, SNIFF_MIME_PDF, &lim, &r, d, sizeof(d)), RUN_FAIL_TIMEOUT);
    assert_string_equal(d, "extraction over 150 ms");
    /* SIGKILL is delivered at once, but give the kernel a moment to tear the processes down */
    for (int i = 0; i < 50 && process_with_arg(path); i++)
        usleep(20000);
    assert_false(process_with_arg(path));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),          cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_html),          cmocka_unit_test(test_docx),
        cmocka_unit_test(test_pdf_pages),     cmocka_unit_test(test_pdf_corrupt),
        cmocka_unit_test(test_docx_bomb),     cmocka_unit_test(test_timeout_fifo),
        cmocka_unit_test(test_repair),        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_normalize_pages), cmocka_unit_test(test_docx_xxe),
        cmocka_unit_test(test_docx_headings),   cmocka_unit_test(test_outline_parse),
        cmocka_unit_test(test_unpack_outline),
        cmocka_unit_test(test_html_headings),
        cmocka_unit_test(test_html_buffer),   cmocka_unit_test(test_html_utf8_detection),
        cmocka_unit_test(test_put),           cmocka_unit_test(test_html_declared_charsets),
        cmocka_unit_test(test_sandbox_exec),  cmocka_unit_test(test_sandbox_memory),
        cmocka_unit_test(test_pdf_parts_identical), cmocka_unit_test(test_pdf_parts_fail), cmocka_unit_test(test_pdf_stdin_rule),
        cmocka_unit_test(test_pdf_parts_helper), cmocka_unit_test(test_pdf_parts_now),    cmocka_unit_test(test_pdf_parts_timeout),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
