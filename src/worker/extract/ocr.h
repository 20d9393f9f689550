/*
 * ocr.h - text from pictures with Tesseract: PDF pages without a text layer
 * (rendered by poppler's pdftoppm) and uploaded images (PNG, JPEG, TIFF).
 *
 * Runs inside the extraction helper. pdftoppm and tesseract are separate
 * programs it forks and execs, one page at a time, each with the page's CPU
 * limit (OCR_PAGE_TIMEOUT) and the helper's address-space limit, killed at the
 * page's wall-clock deadline. Languages: the helper's ocr_langs (OCR_LANGS),
 * whose traineddata ship in Debian's tesseract-ocr-<lang> packages.
 */
#ifndef WORKER_EXTRACT_OCR_H
#define WORKER_EXTRACT_OCR_H

#include "common/buf.h"
#include "common/errors.h"
#include "worker/extract/ctx.h"

#include <stddef.h>

/* A page whose text layer has fewer non-blank characters than this (and that
 * holds an image) is OCR'd. */
#define OCR_MIN_PAGE_CHARS 16

/*
 * Before pdftotext: read the page count (pdfinfo) for progress, and the
 * document information's Title as the file's title. ctx may be NULL.
 */
void extract_pdf_info(struct extract_ctx *ctx);

/*
 * The PDF's outline (bookmarks) into ctx (extract_outline_add), from
 * `pdftohtml -xml -i -q -stdout -f 1 -l 1` (the outline comes whole with the
 * first page's text), within 20 s and 8 MiB of output. A file without an
 * outline, or one pdftohtml cannot read, leaves none: never a failure. ctx may be NULL.
 */
void extract_pdf_outline(struct extract_ctx *ctx);

/* The page count pdfinfo gave extract_pdf_info(); 0 when unknown (pdfinfo failed). */
long extract_pdf_page_count(void);

/* pdftotext's output as it arrives: count its page ends and send progress. */
void extract_pdf_progress(const char *p, size_t n);

/*
 * After pdftotext: raw holds its pages ended by form feeds. With ctx->ocr,
 * every page with under OCR_MIN_PAGE_CHARS non-blank characters that holds an
 * image (pdfimages -list) is rendered and OCR'd; its text replaces the page's
 * and the page is marked OCR (extract_mark_ocr). Without ctx or with OCR off,
 * raw is left as it is. Returns RUN_OK, TIMEOUT (a page over its limit:
 * "ocr of page 3 over 60000 ms"), TOO_LARGE (text over the limit),
 * EXTRACT_FAILED ("tesseract exit 1", "tesseract not found"), INTERNAL.
 */
enum run_fail extract_pdf_ocr(struct extract_ctx *ctx, struct buf *raw, char *detail, size_t detail_len);

/*
 * An image file (ctx->path): its size is read from its header first (PNG
 * IHDR, JPEG SOF, TIFF IFDs) and an image over ctx->ocr_max_pixels fails
 * TOO_LARGE ("image of 30000x30000 px over the 50000000 pixel limit") before
 * anything decodes it; then tesseract. Each TIFF page is a page (form feeds),
 * every page marked OCR. OCR off: UNSUPPORTED_TYPE ("OCR is off").
 */
enum run_fail extract_image_ocr(struct extract_ctx *ctx, struct buf *raw, char *detail, size_t detail_len);

/*
 * Width and height of the PNG, JPEG or TIFF in p[0..n) (for TIFF, the largest
 * page). 0, or -1 when the header is not understood.
 */
int ocr_image_size(const unsigned char *p, size_t n, unsigned long *w, unsigned long *h);

#endif
