/*
 * structure.h - the structure of an extracted text that ranking and
 * citations use, and the boilerplate it drops (docs/retrieval.md "Structure"):
 *
 *  - PDF: lines repeated at the top or bottom of many pages (running heads and
 *    footers, page numbers) are removed; the page number they carry becomes the
 *    page's printed label, and a running head that changes through the document
 *    ("Chapter 3: Basic Shell Features") its section, unless the PDF has an
 *    outline (bookmarks): then the outline gives the heading paths
 *    (structure_build_outline). Lines that are mostly
 *    dot leaders (tables of contents, back-of-book indexes: "grace note . . . 134")
 *    and lines of glyph junk (few letters or digits among the characters) are
 *    removed.
 *  - HTML and DOCX (whose extractors mark h1-h4 and Heading1-4 paragraphs with
 *    EXTRACT_HEADING_MARK) and Markdown ("#" lines):
 *    heading lines give the heading path ("Install > From source"); the
 *    markers are removed from the text.
 *
 * Pure: no I/O. The text stays valid UTF-8 (only whole lines are removed).
 */
#ifndef WORKER_STRUCTURE_H
#define WORKER_STRUCTURE_H

#include "worker/chunk.h"
#include "worker/extract/extract.h"

#include <stddef.h>

#define STRUCTURE_MAX_LEVEL 4        /* heading levels kept in a path */
#define STRUCTURE_PATH_MAX 512       /* bytes of a heading path (cut at a character boundary) */
#define STRUCTURE_LABEL_MAX 16       /* bytes of a page label */

struct structure_heading {
    size_t off;      /* in the new text: the path holds from here on */
    char *path;      /* "A > B > C" */
};

struct structure {
    char *text;                  /* the cleaned text (malloc'ed), len bytes, NUL-terminated */
    size_t len;
    size_t *page_starts;         /* pages entries (malloc'ed) */
    int pages;
    char **labels;               /* pages entries, each NULL or a printed page label */
    struct structure_heading *heads;   /* ascending off */
    size_t nheads;
    size_t dropped_lines;        /* boilerplate lines removed */
};

/*
 * Build st from text[0..len) with pages page_starts (as extract_result gives
 * them) for a document of type mime (a SNIFF_MIME_* string). Returns 0, or -1
 * when out of memory (st released).
 */
int structure_build(const char *text, size_t len, const size_t *page_starts, int pages, const char *mime,
                    struct structure *st);

/*
 * Give each chunk (made from st->text, in text order) its section and page label: pointers
 * into st, valid while st is. The section is the heading path in force at the
 * chunk's start, or the one of a heading that starts in its first half.
 */
/*
 * structure_build() for a PDF with its outline (bookmarks: extract_result's
 * outline, noutline entries in document order; ignored for other types): each
 * entry becomes a heading at the line of its page that reads as its title (its
 * section number aside), or at the page's start (or after the entry before it
 * on the same page) when none does; levels past STRUCTURE_MAX_LEVEL are not in
 * paths. With an outline, running heads no longer give sections (they are
 * still removed and still give page labels).
 */
int structure_build_outline(const char *text, size_t len, const size_t *page_starts, int pages, const char *mime,
                            const struct extract_outline *outline, int noutline, struct structure *st);

void structure_label_chunks(const struct structure *st, struct chunk *c, size_t n);

void structure_release(struct structure *st);

#endif
