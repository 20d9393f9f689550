/* pdf.h - PDF text via poppler's pdftotext, run as a separate program. */
#ifndef WORKER_EXTRACT_PDF_H
#define WORKER_EXTRACT_PDF_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

/*
 * Run `pdftotext -enc UTF-8 -eol unix FILE -` (no -layout: reading order chunks
 * better) and append its raw output (pages ended by form feeds) to out.
 * Meant for the sandboxed child: pdftotext inherits its limits and process group.
 * Returns RUN_OK, EXTRACT_FAILED ("pdftotext exit 1"), TIMEOUT (its CPU limit),
 * TOO_LARGE or INTERNAL; out is released on failure.
 */
enum run_fail extract_pdf_file(const char *path, struct buf *out, char *detail, size_t detail_len);

#endif
