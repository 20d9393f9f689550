/*
 * csv.h - CSV and TSV text: each record a line, its fields joined by " | "
 * (RFC 4180 quoting: "a, b" and "" inside quotes; a line break inside quotes
 * becomes a space); pages of CSV_PAGE_ROWS records, the header record (the
 * first) repeated at the top of every page so a cited page reads on its own.
 */
#ifndef WORKER_EXTRACT_CSV_H
#define WORKER_EXTRACT_CSV_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

#define CSV_PAGE_ROWS 50          /* data records per page (the header not counted) */
#define CSV_MAX_ROWS 2000000L     /* more records: TOO_LARGE */
#define CSV_MAX_HEADER 65536      /* bytes of the header line repeated per page */

/*
 * Append the text of the table p[0..n) with field separator sep (',' or
 * '\t') to out, a form feed after each page. Returns RUN_OK, TOO_LARGE
 * ("csv over 2000000 rows", out full), INTERNAL, with a detail.
 */
enum run_fail extract_csv_table(const char *p, size_t n, char sep, struct buf *out, char *detail, size_t detail_len);

/* The same as buffer extractors (formats.c's signature): sep ',' and '\t'. */
enum run_fail extract_csv_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                 size_t detail_len);
enum run_fail extract_tsv_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                 size_t detail_len);

#endif
