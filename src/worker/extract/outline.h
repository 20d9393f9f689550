/*
 * outline.h - a PDF's outline (bookmarks) from the XML that poppler's
 * `pdftohtml -xml` prints: nested <outline> lists of <item page="N">title</item>.
 * Pure: no I/O, no allocation; used by the helper (ocr.c runs pdftohtml) and
 * by the unit tests and fuzzers on arbitrary bytes.
 */
#ifndef WORKER_EXTRACT_OUTLINE_H
#define WORKER_EXTRACT_OUTLINE_H

#include <stddef.h>

/* Called once per item: level 1 for the top list, page >= 1, title unescaped
 * (NUL-terminated, at most EXTRACT_OUTLINE_TITLE_MAX - 1 bytes, not yet cleaned).
 * A non-zero return stops the parse. */
typedef int (*outline_item_fn)(void *arg, int level, long page, const char *title);

/*
 * Walk xml[0..n) line by line: "<outline>" and "</outline>" lines open and close
 * a level, an "<item page=\"N\">...</item>" line inside one is an entry (items
 * without a page, deeper than EXTRACT_OUTLINE_DEPTH or not on one line are
 * skipped). Entities &amp; &lt; &gt; &quot; &apos; and &#N; / &#xH; are decoded
 * (a code point that is NUL, a surrogate or past U+10FFFF is dropped). Returns
 * the number of items reported, or -1 when fn stopped the walk.
 */
int extract_outline_parse(const char *xml, size_t n, outline_item_fn fn, void *arg);

#endif
