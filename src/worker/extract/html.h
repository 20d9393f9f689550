/*
 * html.h - HTML text with libxml2's forgiving HTML parser (no network).
 * script, style, noscript, template and similar are dropped; block elements
 * become paragraph breaks; whitespace is collapsed (kept inside <pre>);
 * entities are decoded by the parser.
 */
#ifndef WORKER_EXTRACT_HTML_H
#define WORKER_EXTRACT_HTML_H

#include "common/buf.h"

#include <stddef.h>

/*
 * Append the text of the HTML document p[0..n) to out. Bytes that are valid
 * UTF-8 are read as UTF-8; otherwise the document's declared charset (or
 * libxml2's default) applies. Returns RUN_OK, EXTRACT_FAILED,
 * TOO_LARGE (out full) or INTERNAL, with a detail.
 */
int extract_html_buffer(const char *p, size_t n, struct buf *out, char *detail, size_t detail_len);

#endif
