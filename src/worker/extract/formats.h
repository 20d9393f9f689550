/*
 * formats.h - the formats added after PDF, DOCX, HTML and text (issue 16):
 * images by OCR (ocr.h), and the office, e-book, table and mail formats, one
 * file each. Each appends raw text to out with a form feed after every page
 * (slide, sheet, chapter, image page), the same convention as pdftotext, so
 * page numbers reach the citations.
 */
#ifndef WORKER_EXTRACT_FORMATS_H
#define WORKER_EXTRACT_FORMATS_H

#include "common/buf.h"
#include "common/errors.h"
#include "worker/extract/ctx.h"

#include <stddef.h>

/* 1 when mime (a SNIFF_MIME_* string) is one of these formats. */
int extract_other_handles(const char *mime);

/* Extract ctx->path of type ctx->mime into raw. RUN_OK or a run_fail code with a detail. */
enum run_fail extract_other_file(struct extract_ctx *ctx, struct buf *raw, char *detail, size_t detail_len);

#endif
