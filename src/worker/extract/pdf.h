/* pdf.h - PDF text via poppler's pdftotext, run as a separate program. */
#ifndef WORKER_EXTRACT_PDF_H
#define WORKER_EXTRACT_PDF_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

/* The most pdftotext processes one PDF is split across (EXTRACT_PDF_PARTS is capped to it). */
#define EXTRACT_PDF_PARTS_MAX 16

/*
 * The text of the PDF at path as `pdftotext -q -enc UTF-8 -eol unix FILE -` prints
 * it (no -layout: reading order chunks better), its raw output (pages ended by
 * form feeds) appended to out. Meant for the sandboxed child: every pdftotext
 * inherits its limits (RLIMIT_CPU and RLIMIT_AS each) and process group.
 * With parts >= 2 the file's pages pages (pdfinfo's count) are read by parts
 * concurrent `pdftotext -f A -l B` processes over contiguous ranges, part i
 * reading pages 1 + i*pages/parts .. (i+1)*pages/parts, their pipes polled
 * together and their outputs joined in page order: the same bytes, byte for
 * byte. parts is capped at EXTRACT_PDF_PARTS_MAX and at pages; below 2 (or
 * pages unknown, <= 0) one process reads the whole file through the same loop.
 * out's max bounds the parts' bytes together (over it: every part is killed,
 * TOO_LARGE); progress (extract_pdf_progress) counts every part's page ends.
 * The first failing part in page order gives the code and detail
 * ("pdftotext exit 1": CORRUPT, its CPU limit: TIMEOUT, killed: EXTRACT_FAILED,
 * out of memory: INTERNAL); out is released on failure.
 */
enum run_fail extract_pdf_text(const char *path, long pages, int parts, struct buf *out, char *detail,
                               size_t detail_len);

#endif
