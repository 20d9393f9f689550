/*
 * odf.h - OpenDocument text, spreadsheet and presentation (ODT, ODS, ODP):
 * content.xml streamed by libxml2's reader; headings and paragraphs as
 * paragraphs, list items as lines, table rows as lines of cells joined by
 * " | "; each ODS sheet and each ODP slide a page (its notes with it); the
 * title and author from meta.xml. Container and XML as in ozip.h.
 */
#ifndef WORKER_EXTRACT_ODF_H
#define WORKER_EXTRACT_ODF_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

#define ODF_MAX_CELLS 1000000L   /* table cells in content.xml (a repeat count counts once) */

/*
 * Append the text of the ODT, ODS or ODP in p[0..n) to out (the kind is read
 * from content.xml's body). Returns RUN_OK, or EXTRACT_FAILED (not a zip, no
 * content.xml, malformed XML), TOO_LARGE ("odf uncompressed size over
 * limit", "odf over 1000000 table cells", out full), INTERNAL.
 */
enum run_fail extract_odf_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                 size_t detail_len);

#endif
