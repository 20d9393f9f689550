/*
 * pptx.h - PPTX (PowerPoint) text: each slide a page, in the order of
 * ppt/presentation.xml's slide list; the slide's text, then its speaker
 * notes. Container and XML as in ozip.h.
 */
#ifndef WORKER_EXTRACT_PPTX_H
#define WORKER_EXTRACT_PPTX_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

#define PPTX_MAX_SLIDES 10000

/*
 * Append the text of the PPTX in p[0..n) to out, a form feed after each slide
 * (a:p -> line, a:br -> line break, slide-number fields dropped). Returns
 * RUN_OK, or EXTRACT_FAILED (not a zip, no ppt/presentation.xml, a slide
 * missing, malformed XML), TOO_LARGE ("pptx uncompressed size over limit",
 * "pptx over 10000 slides", out full), INTERNAL.
 */
enum run_fail extract_pptx_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                  size_t detail_len);

#endif
