/*
 * ctx.h - what the extraction helper (ingest-extract) knows about its one job,
 * and what the extractors report besides their text: page progress, which
 * pages came from OCR, the document's title and author.
 *
 * Lives only in the helper process (single-threaded, one job, then exit): the
 * extractors reach it through extract_ctx_current().
 */
#ifndef WORKER_EXTRACT_CTX_H
#define WORKER_EXTRACT_CTX_H

#include "worker/extract/extract.h"

#include <stddef.h>

#define EXTRACT_META_MAX 512   /* bytes of a title or an author kept (cut at a UTF-8 boundary) */

struct extract_ctx {
    const char *path;
    const char *mime;
    size_t max_chars;
    long max_uncompressed;      /* zip containers: most bytes their parts may inflate to */
    long memory_mb;             /* the helper's address-space limit (OCR children get it too) */
    int ocr;                    /* 1: OCR image-only PDF pages and images */
    const char *ocr_langs;      /* tesseract -l, e.g. "eng" or "eng+deu" */
    long ocr_page_timeout_ms;   /* wall clock of one page's render + OCR */
    long ocr_max_pixels;        /* an image or rendered page larger than this: too_large */
    int pdf_parts;              /* pdftotext processes over page ranges of one PDF; <= 1: one */
    long pdf_split_pages;       /* a PDF of fewer pages is read by one pdftotext */
    int progress_fd;            /* -1: no progress frames */
    long progress_last_ms;
    unsigned char *page_ocr;    /* page_ocr_n entries: 1 when that page's text is OCR output */
    int page_ocr_n;
    char title[EXTRACT_META_MAX];
    char author[EXTRACT_META_MAX];
    struct extract_outline *outline;   /* outline_n entries (PDF bookmarks), titles malloc'ed */
    int outline_n;
};

/* The helper's context, or NULL outside the helper (fuzzers, unit tests of a parser). */
struct extract_ctx *extract_ctx_current(void);
void extract_ctx_set_current(struct extract_ctx *c);

/* Report done of total pages (or other units): one progress frame, at most
 * every 200 ms but always for the last one. No-op without a context. */
void extract_progress(long done, long total);

/* Mark page index (0-based) as OCR output. 0, or -1 when memory is out. No-op without a context. */
int extract_mark_ocr(int page);

/* Keep a title or author (field "title" or "author") from the file's metadata:
 * whitespace collapsed, control bytes dropped, cut to EXTRACT_META_MAX - 1 bytes.
 * The first non-empty value wins. No-op without a context. */
void extract_meta(const char *field, const char *value);

/* Keep one outline entry (a PDF bookmark): level 1..EXTRACT_OUTLINE_DEPTH, page >= 1,
 * its title cleaned like extract_meta()'s and cut below EXTRACT_OUTLINE_TITLE_MAX
 * bytes. Entries out of range, with an empty title or past EXTRACT_OUTLINE_MAX are
 * dropped. 0, or -1 when memory is out. No-op without a context. */
int extract_outline_add(int level, long page, const char *title);

/* Free the context's outline entries. */
void extract_outline_clear(struct extract_ctx *c);

#endif
