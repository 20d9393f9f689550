/* Unit tests of worker/chunk: boundaries, overlap, UTF-8 safety, pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "worker/chunk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Invariants every split must keep. */
static void check_invariants(const char *t, size_t len, const struct chunk *c, size_t n,
                             size_t target)
{
    size_t i;

    for (i = 0; i < n; i++) {
        assert_true(c[i].start < c[i].end);
        assert_true(c[i].end <= len);
        assert_true(c[i].end - c[i].start <= CHUNK_HARD_MAX(target));
        assert_false(is_ws(t[c[i].start]));
        assert_false(is_ws(t[c[i].end - 1]));
        assert_true(((unsigned char)t[c[i].start] & 0xC0) != 0x80);
        if (c[i].end < len)
            assert_true(((unsigned char)t[c[i].end] & 0xC0) != 0x80);
        assert_true(c[i].page_start >= 1 && c[i].page_end >= c[i].page_start);
        if (i) {
            assert_true(c[i].start > c[i - 1].start);
            assert_true(c[i].end > c[i - 1].end);
            /* no text is lost between chunks */
            assert_true(c[i].start <= c[i - 1].end ||
                        strspn(t + c[i - 1].end, " \n\t\r") >= c[i].start - c[i - 1].end);
        }
    }
}

static void test_empty_and_blank(void **state)
{
    struct chunk *c = (struct chunk *)1;
    size_t n = 7;

    (void)state;
    assert_int_equal(chunk_text("", 0, NULL, 0, 100, 10, &c, &n), 0);
    assert_int_equal(n, 0);
    assert_null(c);
    assert_int_equal(chunk_text(" \n\n\t  \n", 7, NULL, 0, 100, 10, &c, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(chunk_text("x", 1, NULL, 0, 8, 0, &c, &n), -1);   /* target too small */
}

static void test_short_text_one_chunk(void **state)
{
    const char *t = "  Hello world. Short text.\n\n";
    struct chunk *c;
    size_t n;

    (void)state;
    assert_int_equal(chunk_text(t, strlen(t), NULL, 0, 100, 20, &c, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].start, 2);
    assert_int_equal(c[0].end, strlen("  Hello world. Short text."));
    assert_int_equal(c[0].page_start, 1);
    assert_int_equal(c[0].page_end, 1);
    free(c);
}

static void test_paragraph_boundaries(void **state)
{
    char t[4096];
    struct chunk *c;
    size_t n, i, len = 0;

    (void)state;
    /* paragraphs of ~70 bytes, two sentences each */
    for (i = 0; i < 30; i++)
        len += (size_t)snprintf(t + len, sizeof(t) - len,
                                "Paragraph %02zu has a first sentence. And a second one here.\n\n", i);
    assert_int_equal(chunk_text(t, len, NULL, 0, 200, 0, &c, &n), 0);
    assert_true(n >= 10);
    check_invariants(t, len, c, n, 200);
    for (i = 0; i < n; i++) {
        assert_true(strncmp(t + c[i].start, "Paragraph ", 10) == 0);
        assert_true(strncmp(t + c[i].end - 5, "here.", 5) == 0);
    }
    free(c);
}

static void test_sentence_boundaries(void **state)
{
    char t[4096];
    struct chunk *c;
    size_t n, i, len = 0;

    (void)state;
    /* one long paragraph: cuts fall after sentence ends */
    for (i = 0; i < 40; i++)
        len += (size_t)snprintf(t + len, sizeof(t) - len, "Sentence number %02zu is here! ", i);
    assert_int_equal(chunk_text(t, len, NULL, 0, 150, 0, &c, &n), 0);
    check_invariants(t, len, c, n, 150);
    for (i = 0; i < n; i++)
        assert_int_equal(t[c[i].end - 1], '!');
    free(c);
}

static void test_no_boundaries(void **state)
{
    char t[1000];
    struct chunk *c;
    size_t n;

    (void)state;
    memset(t, 'x', sizeof(t));
    assert_int_equal(chunk_text(t, sizeof(t), NULL, 0, 100, 30, &c, &n), 0);
    check_invariants(t, sizeof(t), c, n, 100);
    assert_int_equal(n, 10);   /* 9 x 100 bytes, then the last 100 */
    free(c);
}

static void test_overlap(void **state)
{
    char t[8192];
    struct chunk *c;
    size_t n, i, len = 0;

    (void)state;
    for (i = 0; i < 100; i++)
        len += (size_t)snprintf(t + len, sizeof(t) - len, "Fact %02zu is stated plainly. ", i);
    assert_int_equal(chunk_text(t, len, NULL, 0, 300, 80, &c, &n), 0);
    check_invariants(t, len, c, n, 300);
    assert_true(n > 5);
    for (i = 1; i < n; i++) {
        size_t ov;

        assert_true(c[i].start < c[i - 1].end);
        ov = c[i - 1].end - c[i].start;
        assert_true(ov > 20 && ov <= 80);
        /* the overlap starts at a sentence start */
        assert_true(strncmp(t + c[i].start, "Fact ", 5) == 0);
    }
    free(c);
}

static void test_utf8_safety(void **state)
{
    /* 3-byte and 4-byte characters with no spaces at all */
    char t[3000];
    struct chunk *c;
    size_t n, len = 0, i;

    (void)state;
    while (len + 7 < sizeof(t)) {
        memcpy(t + len, "\xE6\x97\xA5", 3);
        memcpy(t + len + 3, "\xF0\x9F\x98\x80", 4);
        len += 7;
    }
    for (i = 16; i < 200; i += 7) {
        size_t k;

        assert_int_equal(chunk_text(t, len, NULL, 0, i, i / 3, &c, &n), 0);
        check_invariants(t, len, c, n, i);
        /* cut at a character boundary at or before the target; only the
         * last chunk may use the slack */
        for (k = 0; k + 1 < n; k++)
            assert_true(c[k].end - c[k].start <= i);
        free(c);
    }
}

static void test_cjk_sentences(void **state)
{
    char t[4000];
    struct chunk *c;
    size_t n, len = 0, i;

    (void)state;
    while (len + 30 < sizeof(t)) {
        memcpy(t + len, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE6\x96\x87"
                        "\xE3\x81\xA7\xE3\x81\x99\xE3\x80\x82", 24);
        len += 24;
    }
    assert_int_equal(chunk_text(t, len, NULL, 0, 200, 0, &c, &n), 0);
    check_invariants(t, len, c, n, 200);
    for (i = 0; i + 1 < n; i++)
        assert_memory_equal(t + c[i].end - 3, "\xE3\x80\x82", 3);
    free(c);
}

static void test_pages(void **state)
{
    char t[6000];
    size_t starts[3], n, i, len = 0;
    struct chunk *c;
    int p;

    (void)state;
    for (p = 0; p < 3; p++) {
        starts[p] = len;
        for (i = 0; i < 20; i++)
            len += (size_t)snprintf(t + len, sizeof(t) - len, "Page %d line %02zu says something.\n\n",
                                    p + 1, i);
    }
    assert_int_equal(chunk_text(t, len, starts, 3, 250, 50, &c, &n), 0);
    check_invariants(t, len, c, n, 250);
    assert_int_equal(c[0].page_start, 1);
    assert_int_equal(c[n - 1].page_end, 3);
    for (i = 0; i < n; i++) {
        int first = t[c[i].start + 5] - '0', last;
        const char *q = t + c[i].start, *lastp = NULL;

        while ((q = strstr(q, "Page ")) && (size_t)(q - t) < c[i].end) {
            lastp = q;
            q++;
        }
        last = lastp[5] - '0';
        assert_int_equal(c[i].page_start, first);
        assert_int_equal(c[i].page_end, last);
    }
    free(c);
}

static void test_long_sentence_slack(void **state)
{
    /* a sentence end a little past the target wins over a word boundary */
    char t[400];
    struct chunk *c;
    size_t n;

    (void)state;
    memset(t, 0, sizeof(t));
    snprintf(t, sizeof(t), "%s", "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm "
                                 "nnnn oooo pppp qqqq rrrr ssss tttt uuuu vvvv wwww xxxx yyyy. "
                                 "Next sentence follows with more words to make it long enough.");
    assert_int_equal(chunk_text(t, strlen(t), NULL, 0, 110, 0, &c, &n), 0);
    check_invariants(t, strlen(t), c, n, 110);
    assert_int_equal(t[c[0].end - 1], '.');
    assert_true(c[0].end > 110);
    free(c);
}

static void test_has_text(void **state)
{
    (void)state;
    assert_int_equal(chunk_has_text(NULL, 0), 0);
    assert_int_equal(chunk_has_text("", 0), 0);
    assert_int_equal(chunk_has_text(" \t\n\n\r\f\v ", 9), 0);
    /* NBSP, em space, zero-width space, BOM, ideographic space, U+FFFD: still nothing */
    assert_int_equal(chunk_has_text("\xC2\xA0\xE2\x80\x83\xE2\x80\x8B\xEF\xBB\xBF\xE3\x80\x80\xEF\xBF\xBD\n", 18), 0);
    assert_int_equal(chunk_has_text("  x  ", 5), 1);
    assert_int_equal(chunk_has_text("\n\n.\n", 4), 1);
    assert_int_equal(chunk_has_text("\xC2\xA0\xC3\xA9", 4), 1);          /* e-acute */
    assert_int_equal(chunk_has_text("\xE3\x80\x80\xE6\x97\xA5", 6), 1);  /* CJK */
    /* a cut sequence at the end is not text */
    assert_int_equal(chunk_has_text(" \xE6\x97", 3), 0);
}

/* Lenient on invalid UTF-8: each byte that starts no valid sequence is one U+FFFD (blank). */
static void test_has_text_invalid_utf8(void **state)
{
    (void)state;
    assert_int_equal(chunk_has_text("\xFF\xFE \x80\n", 5), 0);
    assert_int_equal(chunk_has_text("\xC0\xAF\xED\xA0\x80", 5), 0);   /* overlong, surrogate */
    assert_int_equal(chunk_has_text("\xFFx", 2), 1);
    assert_int_equal(chunk_has_text("\x80\xC3\xA9", 3), 1);          /* stray byte, then e-acute */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_blank),   cmocka_unit_test(test_short_text_one_chunk),
        cmocka_unit_test(test_paragraph_boundaries), cmocka_unit_test(test_sentence_boundaries),
        cmocka_unit_test(test_no_boundaries),     cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_utf8_safety),       cmocka_unit_test(test_cjk_sentences),
        cmocka_unit_test(test_pages),             cmocka_unit_test(test_long_sentence_slack), cmocka_unit_test(test_has_text),
        cmocka_unit_test(test_has_text_invalid_utf8),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
