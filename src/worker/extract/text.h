/* text.h - plain text and Markdown. */
#ifndef WORKER_EXTRACT_TEXT_H
#define WORKER_EXTRACT_TEXT_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

enum extract_text_flags {
    EXTRACT_TEXT_MARKDOWN = 1 << 0,   /* light Markdown cleanup */
};

/*
 * Append p[0..n) to out. Plain text is copied as is (normalization happens
 * later, in extract_normalize). With EXTRACT_TEXT_MARKDOWN: a leading UTF-8
 * BOM is dropped, ATX heading marks ("## ") are stripped, code fence lines
 * (``` or ~~~) and setext underlines (=== / ---) are dropped; list markers
 * and inline markup are kept. Returns RUN_OK, TOO_LARGE (out full, then
 * released) or INTERNAL (memory).
 */
enum run_fail extract_text_buffer(const char *p, size_t n, unsigned flags, struct buf *out, char *detail,
                                  size_t detail_len);

#endif
