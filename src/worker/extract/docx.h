/*
 * docx.h - DOCX text: libzip for the container, libxml2's reader for
 * word/document.xml, then the headers, footers, footnotes, endnotes and
 * comments (no network, no entity substitution, no DTD loading; ozip.h).
 *
 * Zip bombs: each entry's declared uncompressed size and the archive total
 * are checked against max_uncompressed before anything is inflated, and the
 * bytes actually inflated are counted too, since headers can lie.
 */
#ifndef WORKER_EXTRACT_DOCX_H
#define WORKER_EXTRACT_DOCX_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

/*
 * Append the text of the DOCX in p[0..n) (or in the file path) to out:
 * w:t text, w:tab -> tab, w:br/w:cr -> newline, end of w:p -> blank line;
 * a table row is a line of its cells joined by " | ". Title and author from
 * docProps/core.xml (extract_meta).
 * Returns RUN_OK, or EXTRACT_FAILED (not a zip, no word/document.xml,
 * malformed XML), TOO_LARGE ("docx uncompressed size over limit", or out full),
 * INTERNAL (memory), with a detail.
 */
enum run_fail extract_docx_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out,
                                  char *detail, size_t detail_len);
enum run_fail extract_docx_file(const char *path, long max_uncompressed, struct buf *out, char *detail,
                                size_t detail_len);

#endif
