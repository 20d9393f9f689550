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

/* The most pdftotext processes one PDF is split across (EXTRACT_PDF_PARTS is capped to it). */
#define EXTRACT_PDF_PARTS_MAX 16

/*
 * The same text as extract_pdf_file(), byte for byte, read by parts concurrent
 * `pdftotext -f A -l B` processes over contiguous page ranges of the file's
 * pages pages (pdfinfo's count): part i reads pages 1 + i*pages/parts ..
 * (i+1)*pages/parts. Their pipes are polled together, their outputs joined in
 * page order into out. parts is capped at EXTRACT_PDF_PARTS_MAX and at pages;
 * below 2 this is extract_pdf_file(). Every part inherits the caller's limits
 * (RLIMIT_CPU and RLIMIT_AS each, process group); out's max bounds the parts'
 * bytes together (over it: every part is killed, TOO_LARGE); progress
 * (extract_pdf_progress) counts every part's page ends. The first failing part
 * in page order gives the code and detail, with extract_pdf_file()'s codes
 * ("pdftotext exit 1": CORRUPT, its CPU limit: TIMEOUT); out is released on failure.
 */
enum run_fail extract_pdf_text(const char *path, long pages, int parts, struct buf *out, char *detail,
                               size_t detail_len);

#endif
