/*
 * html.h - HTML text with libxml2's forgiving HTML parser (no network).
 * script, style, noscript, template and similar are dropped; block elements
 * become paragraph breaks; whitespace is collapsed (kept inside <pre>);
 * entities are decoded by the parser.
 */
#ifndef WORKER_EXTRACT_HTML_H
#define WORKER_EXTRACT_HTML_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

/*
 * Append the text of the HTML document p[0..n) to out. A document that is all
 * valid UTF-8 without NULs (utf8_valid) is read as UTF-8; otherwise the document's declared charset (or
 * libxml2's default) applies. Returns RUN_OK, EXTRACT_FAILED,
 * TOO_LARGE (out full) or INTERNAL, with a detail.
 */
enum run_fail extract_html_buffer(const char *p, size_t n, struct buf *out, char *detail, size_t detail_len);

#endif
