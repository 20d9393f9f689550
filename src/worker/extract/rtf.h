/*
 * rtf.h - RTF text, a small bounded reader: groups, control words and
 * symbols, \par and \line, \tab, \cell and \row (rows of cells), \'hh
 * (Windows-1252), \uN with its \ucN fallback skip, \binN skipped; the
 * font, colour and style tables, pictures, objects and every \* destination
 * are dropped; \info's \title and \author become the document's metadata.
 * One page (RTF has no reliable page boundaries).
 */
#ifndef WORKER_EXTRACT_RTF_H
#define WORKER_EXTRACT_RTF_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

#define RTF_MAX_DEPTH 1000   /* nested groups; deeper is EXTRACT_FAILED */

/*
 * Append the text of the RTF document p[0..n) to out. Returns RUN_OK,
 * EXTRACT_FAILED ("rtf: not an RTF document", "rtf: groups nested over 1000
 * deep"), TOO_LARGE (out full), INTERNAL, with a detail.
 */
enum run_fail extract_rtf_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                 size_t detail_len);

#endif
