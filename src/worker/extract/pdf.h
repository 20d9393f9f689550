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
 * A regular file of at most stdin_max bytes is given to each pdftotext on its
 * stdin ("-" as the file name; each process opens the file itself): poppler
 * then holds the file in memory (its size per process, under the process's
 * RLIMIT_AS) instead of reading it through 256-byte pread()s, the same bytes
 * out for about a quarter less CPU. A larger file (or stdin_max < 0) is
 * passed by path.
 */
enum run_fail extract_pdf_text(const char *path, long pages, int parts, long long stdin_max, struct buf *out,
                               char *detail, size_t detail_len);

/* The largest PDF a poppler program gets on its stdin under an address-space limit of
 * memory_mb MiB (EXTRACT_MEMORY_MB): a quarter of it; -1 (never) when memory_mb <= 0. */
long long extract_pdf_stdin_max(long memory_mb);

/* 1 when path is a regular file of at most stdin_max bytes (given on stdin), else 0 (by path). */
int extract_pdf_on_stdin(const char *path, long long stdin_max);

#endif
