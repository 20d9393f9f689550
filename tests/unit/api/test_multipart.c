/* Unit tests for the streaming multipart/form-data parser (src/api/multipart.c). */
#include "api/http/multipart.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Events as text: "[name|filename]" at part start, the data, "#" at part end. */
struct rec {
    char log[1 << 16];
    size_t len;
    size_t max_piece;   /* largest single data callback */
    int stop_at_begin;
};

static void rec_add(struct rec *r, const char *p, size_t n)
{
    assert_true(r->len + n < sizeof(r->log));
    memcpy(r->log + r->len, p, n);
    r->len += n;
    r->log[r->len] = '\0';
}

static int on_begin(void *ud, const struct multipart_part *part)
{
    struct rec *r = ud;

    rec_add(r, "[", 1);
    rec_add(r, part->name, part->name_len);
    if (part->filename) {
        rec_add(r, "|", 1);
        rec_add(r, part->filename, part->filename_len);
    }
    if (part->content_type) {
        rec_add(r, "|", 1);
        rec_add(r, part->content_type, strlen(part->content_type));
    }
    rec_add(r, "]", 1);
    return r->stop_at_begin ? 7 : 0;
}

static int on_data(void *ud, const char *p, size_t n)
{
    struct rec *r = ud;

    assert_true(n > 0);
    if (n > r->max_piece)
        r->max_piece = n;
    rec_add(r, p, n);
    return 0;
}

static int on_end(void *ud)
{
    rec_add(ud, "#", 1);
    return 0;
}

static const struct multipart_callbacks cbs = {on_begin, on_data, on_end};

/* Feed body in pieces of `step` bytes (0: pseudo-random sizes from seed). Returns finish(). */
static int run(const char *boundary, const char *body, size_t len, size_t step, unsigned seed,
               struct rec *r)
{
    struct multipart *m = multipart_new(boundary, &cbs, r);
    size_t i = 0;
    int rc = 0;

    assert_non_null(m);
    memset(r->log, 0, 16);
    r->len = 0;
    r->max_piece = 0;
    while (i < len && rc == 0) {
        size_t k = step;

        if (step == 0) {
            seed = seed * 1103515245u + 12345u;
            k = 1 + (seed >> 16) % 13;
        }
        if (k > len - i)
            k = len - i;
        rc = multipart_feed(m, body + i, k);
        i += k;
    }
    if (rc == 0)
        rc = multipart_finish(m);
    multipart_free(&m);
    assert_null(m);
    return rc;
}

#define B "----WebKitFormBoundaryQ1x"
static const char body1[] =
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "My title\r\n"
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"doc_id\"\r\n"
    "\r\n"
    "0b7e8c1e-6a5e-4c35-9d2d-6f1b2b3c4d5e\r\n"
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "line one\r\n"
    "\r\n--" "----WebKitFormBoundaryQ1" " almost a boundary\r\n"
    "\r\n-- not one either\r\r\n"
    "end\r\n"
    "--" B "--\r\n"
    "epilogue ignored";
static const char expect1[] =
    "[title]My title#"
    "[doc_id]0b7e8c1e-6a5e-4c35-9d2d-6f1b2b3c4d5e#"
    "[file|a.txt|text/plain]line one\r\n"
    "\r\n--" "----WebKitFormBoundaryQ1" " almost a boundary\r\n"
    "\r\n-- not one either\r\r\n"
    "end#";

static void test_every_chunk_size(void **state)
{
    struct rec *r = calloc(1, sizeof(*r));
    size_t len = sizeof(body1) - 1;

    (void)state;
    for (size_t step = 1; step <= len; step++) {
        assert_int_equal(run(B, body1, len, step, 0, r), 0);
        assert_string_equal(r->log, expect1);
    }
    /* A delimiter followed by anything but "--" or CRLF is not guessed at: rejected. */
    {
        static const char bad[] = "--b\r\n\r\nx\r\n--bx\r\n--b--";

        assert_int_equal(run("b", bad, sizeof(bad) - 1, 1, 0, r), MULTIPART_MALFORMED);
    }
    free(r);
}

static const char body2[] =
    "preamble text\r\n"
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "T\r\r\n"
    "--" B "\r\n"
    "content-disposition: form-data; name=\"file\"; filename=\"r\xc3\xa9sum\xc3\xa9 \\\"q\\\" %22x%22.txt\"\r\n"
    "\r\n"
    "\r\n\r\n-\r\n--\r\n--" "----WebKitFormBoundaryQ1\r\n"
    "data\rmore\n\r"
    "\r\n--" B "  \r\n"
    "Content-Disposition: form-data; name=\"empty\"\r\n"
    "\r\n"
    "\r\n--" B "--";
static const char expect2[] =
    "[title]T\r#"
    "[file|r\xc3\xa9sum\xc3\xa9 \"q\" \"x\".txt]"
    "\r\n\r\n-\r\n--\r\n------WebKitFormBoundaryQ1\r\n"
    "data\rmore\n\r#"
    "[empty]#";

static void test_splits(void **state)
{
    struct rec *r = calloc(1, sizeof(*r));
    size_t len = sizeof(body2) - 1;

    (void)state;
    for (size_t step = 1; step <= len; step++) {
        assert_int_equal(run(B, body2, len, step, 0, r), 0);
        assert_string_equal(r->log, expect2);
    }
    for (unsigned seed = 1; seed < 200; seed++) {
        assert_int_equal(run(B, body2, len, 0, seed, r), 0);
        assert_string_equal(r->log, expect2);
    }
    free(r);
}

static void test_boundary_straddles_chunks(void **state)
{
    struct rec *r = calloc(1, sizeof(*r));
    struct multipart *m = multipart_new("XyZ", &cbs, r);
    const char *pieces[] = {"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nab",
                            "c\r", "\n-", "-X", "y", "Z", "--\r\n"};

    (void)state;
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
        assert_int_equal(multipart_feed(m, pieces[i], strlen(pieces[i])), 0);
    assert_int_equal(multipart_finish(m), 0);
    assert_string_equal(r->log, "[file|f]abc#");
    multipart_free(&m);
    free(r);
}

static void test_truncated(void **state)
{
    struct rec *r = calloc(1, sizeof(*r));
    size_t len = sizeof(body2) - 1;

    (void)state;
    /* Every proper prefix of a valid body is reported as truncated. */
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(run(B, body2, cut, 7, 0, r), -1);
    /* Closing delimiter missing its "--": still truncated. */
    {
        static const char b[] = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nab\r\n--XyZ\r\n";

        assert_int_equal(run("XyZ", b, sizeof(b) - 1, 3, 0, r), -1);
    }
    free(r);
}

static void test_data_streams_without_buffering(void **state)
{
    struct rec *r = calloc(1, sizeof(*r));
    struct multipart *m = multipart_new("b", &cbs, r);
    static const char head[] = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big\"\r\n\r\n";
    char chunk[4096];

    (void)state;
    memset(chunk, 'z', sizeof(chunk));
    assert_int_equal(multipart_feed(m, head, sizeof(head) - 1), 0);
    r->len = 0;
    /* Every fed byte is passed on within the same feed (no CR: nothing held back). */
    for (int i = 0; i < 8; i++) {
        size_t before = r->len;

        assert_int_equal(multipart_feed(m, chunk, sizeof(chunk)), 0);
        assert_int_equal(r->len - before, sizeof(chunk));
        r->len = 0;
    }
    assert_true(r->max_piece <= sizeof(chunk));
    multipart_free(&m);
    free(r);
}

static void test_headers_and_names(void **state)
{
    struct rec *r = calloc(1, sizeof(*r));
    static const char b[] =
        "--b\r\n"
        "Content-Disposition: form-data; name=file; filename*=UTF-8''%E2%82%AC%20rate.pdf; filename=\"fallback.pdf\"\r\n"
        "\r\nX\r\n"
        "--b\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"C:\\Users\\me\\a;b.txt\"\r\n"
        "\r\nY\r\n"
        "--b\r\n"
        "Content-Disposition: form-data; name=\"f\"; filename=\"nul\"\r\n"
        "\r\n\r\n"
        "--b\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"a%0Ab\"\r\n"
        "\r\nZ\r\n"
        "--b--\r\n";
    static const char expect[] = "[file|\xe2\x82\xac rate.pdf]X#"
                                 "[file|C:\\Users\\me\\a;b.txt]Y#"
                                 "[f|nul]#"
                                 "[file|a\nb]Z#";

    (void)state;
    for (size_t step = 1; step < 40; step++) {
        assert_int_equal(run("b", b, sizeof(b) - 1, step, 0, r), 0);
        assert_string_equal(r->log, expect);
    }
    free(r);
}

static void test_malformed(void **state)
{
    struct rec *r = calloc(1, sizeof(*r));
    char big[MULTIPART_HEADERS_MAX + 200];
    size_t n;

    (void)state;
    /* Header section larger than the limit. */
    n = (size_t)snprintf(big, sizeof(big), "--b\r\nX-Pad: ");
    memset(big + n, 'a', sizeof(big) - n - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(run("b", big, strlen(big), 1000, 0, r), MULTIPART_MALFORMED);
    /* Garbage right after a delimiter. */
    assert_int_equal(run("b", "--bZ\r\n", 6, 2, 0, r), MULTIPART_MALFORMED);
    /* CR without LF. */
    assert_int_equal(run("b", "--b\rX", 5, 1, 0, r), MULTIPART_MALFORMED);
    /* A callback stops the parser with its own code. */
    r->stop_at_begin = 1;
    {
        static const char b[] = "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc\r\n--b--";
        struct multipart *m = multipart_new("b", &cbs, r);

        assert_int_equal(multipart_feed(m, b, sizeof(b) - 1), 7);
        assert_int_equal(multipart_feed(m, "x", 1), 7);
        assert_int_equal(multipart_finish(m), -1);
        multipart_free(&m);
    }
    free(r);
}

static void test_boundary_param(void **state)
{
    char out[MULTIPART_BOUNDARY_MAX + 1];

    (void)state;
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=abc", out, sizeof(out)), 1);
    assert_string_equal(out, "abc");
    assert_int_equal(multipart_boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b:c\"", out, sizeof(out)), 1);
    assert_string_equal(out, "a b:c");
    assert_int_equal(multipart_boundary("multipart/form-data", out, sizeof(out)), -1);
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=", out, sizeof(out)), -1);
    assert_int_equal(multipart_boundary("multipart/form-data; boundary=a\"b", out, sizeof(out)), -1);
    assert_int_equal(multipart_boundary(
                         "multipart/form-data; boundary=0123456789012345678901234567890123456789012345678901234567890123456789X",
                         out, sizeof(out)),
                     -1);
    assert_int_equal(multipart_boundary("application/json", out, sizeof(out)), 0);
    assert_int_equal(multipart_boundary("multipart/form-dataX; boundary=a", out, sizeof(out)), 0);
    assert_int_equal(multipart_boundary(NULL, out, sizeof(out)), 0);
    assert_null(multipart_new("", &cbs, NULL));
    assert_null(multipart_new("bad\r\n", &cbs, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_chunk_size),
        cmocka_unit_test(test_splits),
        cmocka_unit_test(test_boundary_straddles_chunks),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_data_streams_without_buffering),
        cmocka_unit_test(test_headers_and_names),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_boundary_param),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
