/*
 * xlsx.h - XLSX (Excel) text: each sheet a page (in workbook order), its name
 * on the first line, each row a line with its non-empty cells joined by " | ",
 * shared strings resolved. Container and XML as in ozip.h.
 */
#ifndef WORKER_EXTRACT_XLSX_H
#define WORKER_EXTRACT_XLSX_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

#define XLSX_MAX_CELLS 1000000L   /* cells (empty or not) in the workbook: more is TOO_LARGE */
#define XLSX_MAX_ROWS 2000000L    /* rows, empty or not */
#define XLSX_MAX_CELL 65536       /* bytes of one cell's text kept */

/*
 * Append the text of the XLSX in p[0..n) to out, a form feed after each sheet.
 * Returns RUN_OK, or EXTRACT_FAILED (not a zip, no xl/workbook.xml, malformed
 * XML, declared entities), TOO_LARGE ("xlsx uncompressed size over limit",
 * "xlsx over 1000000 cells", "xlsx over 2000000 rows", out full), INTERNAL.
 */
enum run_fail extract_xlsx_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                  size_t detail_len);

#endif
