/* Unit tests of worker/structure: running heads, page labels, leaders, glyph junk, heading paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/sniff.h"
#include "worker/chunk.h"
#include "worker/extract/extract.h"
#include "worker/structure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGES 12

/* A PDF-like text: every page opens with a running head and a page number, one page is a TOC. */
static char *make_pdf_text(size_t *starts, size_t *len)
{
    static const char *const words[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
                                        "india", "juliet", "kilo", "lima"};
    static char t[16384];
    size_t n = 0;

    for (int p = 0; p < PAGES; p++) {
        starts[p] = n;
        n += (size_t)snprintf(t + n, sizeof(t) - n, "%s\n%d\n\n",
                              p < 6 ? "Chapter 3: Basic Shell Features" : "Chapter 4: Shell Builtin Commands", p + 7);
        if (p == 0)
            n += (size_t)snprintf(t + n, sizeof(t) - n,
                                  "grace note, tweaking . . . . . . . . . 134\nPattern Matching ......... 36\n\n");
        n += (size_t)snprintf(t + n, sizeof(t) - n,
                              "Body text of page %d explains the dotglob option in plain words.\n"
                              "\xc2\xaa h h hhN \xc2\xb7 \xc2\xb7\n"
                              "$ ls -l | grep %s\nThe %s section ends here.\n\n", p + 1, words[p], words[p]);
    }
    *len = n;
    return t;
}

static void test_pdf_boilerplate(void **state)
{
    size_t starts[PAGES], len;
    char *t = make_pdf_text(starts, &len);
    struct structure st;

    (void)state;
    assert_int_equal(structure_build(t, len, starts, PAGES, SNIFF_MIME_PDF, &st), 0);
    assert_int_equal(st.pages, PAGES);
    assert_null(strstr(st.text, "Chapter 3"));          /* running heads gone */
    assert_null(strstr(st.text, "Chapter 4"));
    assert_null(strstr(st.text, ". . . . ."));          /* TOC / index leaders gone */
    assert_null(strstr(st.text, "........."));
    assert_null(strstr(st.text, "hhN"));                /* glyph junk gone */
    assert_non_null(strstr(st.text, "$ ls -l | grep lima"));   /* ASCII code stays */
    assert_non_null(strstr(st.text, "Body text of page 12"));
    assert_non_null(strstr(st.text, "The alpha section ends here."));   /* a last line that differs stays */
    /* the page number lines became the labels, physical page 1 is printed 7 */
    assert_string_equal(st.labels[0], "7");
    assert_string_equal(st.labels[5], "12");
    /* every page still starts where its text does, after a paragraph break */
    for (int p = 0; p < PAGES; p++) {
        char want[64];

        snprintf(want, sizeof(want), "Body text of page %d", p + 1);
        assert_true(st.page_starts[p] <= (size_t)(strstr(st.text, want) - st.text));
        if (p)
            assert_true(st.page_starts[p] >= 2 && st.text[st.page_starts[p] - 1] == '\n' &&
                        st.text[st.page_starts[p] - 2] == '\n');
    }
    /* the running head that changes is the section; its page number is not part of it */
    assert_true(st.nheads >= 2);
    assert_string_equal(st.heads[0].path, "Chapter 3: Basic Shell Features");
    assert_string_equal(st.heads[st.nheads - 1].path, "Chapter 4: Shell Builtin Commands");
    assert_true(st.dropped_lines >= PAGES * 2);
    structure_release(&st);
}

static void test_plain_text_untouched(void **state)
{
    static const char t[] = "Chapter 1\n7\n\nSome text.\n. . . . . . dots kept\n# not a heading\n";
    size_t zero = 0;
    struct structure st;

    (void)state;
    assert_int_equal(structure_build(t, sizeof(t) - 1, &zero, 1, SNIFF_MIME_TEXT, &st), 0);
    assert_memory_equal(st.text, t, sizeof(t) - 2);   /* all of it but the final newline */
    assert_int_equal(st.nheads, 0);
    assert_null(st.labels[0]);
    structure_release(&st);
}

static void test_markdown_headings(void **state)
{
    static const char t[] = "# Guide\nintro\n\n## Install\nsteps\n\n```\n# apt install x\n```\n\n### From source\n"
                            "make\n\n## Use\nrun it\n";
    size_t zero = 0;
    struct structure st;
    struct chunk c[3] = {{0, 5, 1, 1, NULL, NULL}, {0, 0, 1, 1, NULL, NULL}, {0, 0, 1, 1, NULL, NULL}};

    (void)state;
    assert_int_equal(structure_build(t, sizeof(t) - 1, &zero, 1, SNIFF_MIME_MARKDOWN, &st), 0);
    assert_int_equal(st.nheads, 4);   /* "# apt install x" inside ``` is code */
    assert_string_equal(st.heads[0].path, "Guide");
    assert_string_equal(st.heads[1].path, "Guide > Install");
    assert_string_equal(st.heads[2].path, "Guide > Install > From source");
    assert_string_equal(st.heads[3].path, "Guide > Use");
    assert_null(strstr(st.text, "## "));                /* markers removed, words kept */
    assert_non_null(strstr(st.text, "From source\nmake"));
    assert_non_null(strstr(st.text, "# apt install x"));
    /* chunks in text order, as chunk_text() makes them */
    c[1].start = (size_t)(strstr(st.text, "steps") - st.text);
    c[1].end = (size_t)(strstr(st.text, "make") - st.text);   /* "From source" starts in its second half */
    c[2].start = c[1].end;
    c[2].end = c[2].start + 4;
    structure_label_chunks(&st, c, 3);
    assert_string_equal(c[0].section, "Guide");
    assert_string_equal(c[1].section, "Guide > Install");
    assert_string_equal(c[2].section, "Guide > Install > From source");
    assert_null(c[0].page_label);
    structure_release(&st);
}

static void test_html_marks(void **state)
{
    char t[256];
    size_t zero = 0, n;
    struct structure st;

    (void)state;
    n = (size_t)snprintf(t, sizeof(t), EXTRACT_HEADING_MARK "1Manual\n\n" EXTRACT_HEADING_MARK "2Setup\n\n"
                                       "# root prompt in a pre block\n\nbody\n");
    assert_int_equal(structure_build(t, n, &zero, 1, SNIFF_MIME_HTML, &st), 0);
    assert_int_equal(st.nheads, 2);
    assert_string_equal(st.heads[1].path, "Manual > Setup");
    assert_null(strstr(st.text, EXTRACT_HEADING_MARK));
    assert_non_null(strstr(st.text, "# root prompt"));   /* a "#" line of HTML is text */
    structure_release(&st);
}

/* A PDF outline: headings at the matching line of their page, else at the page's start. */
static void test_pdf_outline(void **state)
{
    size_t starts[PAGES], len;
    char *t = make_pdf_text(starts, &len);
    struct extract_outline ol[] = {
        {1, 1, (char *)"Basic Shell Features"},            /* no such line: page 1's start */
        {2, 3, (char *)"3.2 The charlie section ends here"},   /* the line, its number aside */
        {1, 7, (char *)"Shell Builtin Commands"},
        {2, 9, (char *)"Nothing like this"},               /* page 9's start */
        {2, 2, (char *)"Backwards"},                       /* page 2 was passed: unused */
    };
    struct structure st;
    const char *charlie;
    int seen = 0;

    (void)state;
    assert_int_equal(structure_build_outline(t, len, starts, PAGES, SNIFF_MIME_PDF, ol, 5, &st), 0);
    charlie = strstr(st.text, "The charlie section ends here.");
    assert_non_null(charlie);
    assert_null(strstr(st.text, "Chapter 3"));   /* running heads still removed */
    assert_string_equal(st.labels[0], "7");      /* and still give labels */
    for (size_t i = 0; i < st.nheads; i++) {
        const char *p = st.heads[i].path;

        assert_null(strstr(p, "Chapter"));       /* sections come from the outline, not the heads */
        assert_null(strstr(p, "Backwards"));
        if (strcmp(p, "Basic Shell Features") == 0)
            seen |= 1, assert_int_equal(st.heads[i].off, st.page_starts[0]);
        if (strcmp(p, "Basic Shell Features > 3.2 The charlie section ends here") == 0)
            seen |= 2, assert_int_equal(st.heads[i].off, (size_t)(charlie - st.text));
        if (strcmp(p, "Shell Builtin Commands") == 0)
            seen |= 4, assert_int_equal(st.heads[i].off, st.page_starts[6]);
        if (strcmp(p, "Shell Builtin Commands > Nothing like this") == 0)
            seen |= 8, assert_int_equal(st.heads[i].off, st.page_starts[8]);
    }
    assert_int_equal(seen, 15);
    assert_int_equal(st.nheads, 4);
    structure_release(&st);
    /* without the outline the running heads give the sections, as before */
    assert_int_equal(structure_build(t, len, starts, PAGES, SNIFF_MIME_PDF, &st), 0);
    assert_true(st.nheads > 0 && strstr(st.heads[0].path, "Chapter 3") != NULL);
    structure_release(&st);
    /* an outline on another type is ignored */
    assert_int_equal(structure_build_outline(t, len, starts, PAGES, SNIFF_MIME_TEXT, ol, 5, &st), 0);
    assert_int_equal(st.nheads, 0);
    structure_release(&st);
}

static void test_empty(void **state)
{
    struct structure st;

    (void)state;
    assert_int_equal(structure_build("", 0, NULL, 0, SNIFF_MIME_PDF, &st), 0);
    assert_int_equal(st.len, 0);
    assert_int_equal(st.pages, 1);
    structure_release(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pdf_boilerplate),
        cmocka_unit_test(test_plain_text_untouched),
        cmocka_unit_test(test_markdown_headings),
        cmocka_unit_test(test_html_marks),
        cmocka_unit_test(test_pdf_outline),
        cmocka_unit_test(test_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
