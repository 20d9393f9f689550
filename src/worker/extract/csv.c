/*
 * csv.c - CSV / TSV as lines of " | "-joined fields, paged (csv.h).
 */
#include "worker/extract/csv.h"
#include "worker/extract/ctx.h"
#include "worker/extract/extract.h"

#include <stdio.h>
#include <string.h>

struct table {
    struct buf *out;
    struct buf header;   /* the first record's line */
    long rows;           /* records done */
    int fields;          /* in the current record */
    char *detail;
    size_t dlen;
};

/* Append the field p[0..n) (quotes already handled by the caller's flags). */
static enum run_fail field(struct table *t, const char *p, size_t n, int quoted)
{
    enum run_fail rc = RUN_OK;

    if (t->fields++ > 0)
        rc = extract_put(t->out, " | ", 3);
    if (!quoted)
        return rc == RUN_OK ? extract_put(t->out, p, n) : rc;
    for (size_t i = 0; i < n && rc == RUN_OK; i++) {
        if (p[i] == '"' && i + 1 < n && p[i + 1] == '"')
            i++;   /* "" inside quotes is one quote */
        else if (p[i] == '"')
            continue;
        rc = extract_put(t->out, p[i] == '\n' || p[i] == '\r' ? " " : p + i, 1);
    }
    return rc;
}

/* The end of a record: the line break, the header kept, a page ended every CSV_PAGE_ROWS. */
static enum run_fail record_end(struct table *t, size_t line_start)
{
    enum run_fail rc;

    t->fields = 0;
    if (++t->rows > CSV_MAX_ROWS) {
        snprintf(t->detail, t->dlen, "csv over %ld rows", CSV_MAX_ROWS);
        return RUN_FAIL_TOO_LARGE;
    }
    if (t->rows == 1 && t->out->len > line_start && t->out->len - line_start < CSV_MAX_HEADER &&
        buf_add(&t->header, t->out->ptr + line_start, t->out->len - line_start) < 0)
        return RUN_FAIL_INTERNAL;
    rc = extract_put(t->out, "\n", 1);
    if (rc == RUN_OK && t->rows > 1 && (t->rows - 1) % CSV_PAGE_ROWS == 0) {
        rc = extract_put(t->out, "\f", 1);
        if (rc == RUN_OK && t->header.len)
            rc = extract_put(t->out, t->header.ptr, t->header.len);
        if (rc == RUN_OK && t->header.len)
            rc = extract_put(t->out, "\n", 1);
    }
    return rc;
}

/* The end of the field starting at s: the separator, line end or end of input after it. */
static size_t field_end(const char *p, size_t n, size_t s, char sep, int *quoted)
{
    size_t i = s;

    *quoted = i < n && p[i] == '"';
    if (*quoted) {
        for (i++; i < n; i++)
            if (p[i] == '"' && (i + 1 >= n || p[i + 1] != '"'))
                break;
            else if (p[i] == '"')
                i++;
        i += i < n;
    }
    while (i < n && p[i] != sep && p[i] != '\n' && p[i] != '\r')
        i++;
    return i;
}

enum run_fail extract_csv_table(const char *p, size_t n, char sep, struct buf *out, char *detail, size_t detail_len)
{
    struct table t;
    size_t i = 0, line = out->len;
    enum run_fail rc = RUN_OK;

    memset(&t, 0, sizeof(t));
    t.out = out;
    t.detail = detail;
    t.dlen = detail_len;
    buf_init(&t.header, CSV_MAX_HEADER);
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < n && rc == RUN_OK) {
        int quoted;
        size_t e = field_end(p, n, i, sep, &quoted);

        rc = field(&t, p + i, e - i, quoted);
        i = e;
        if (rc == RUN_OK && (i >= n || p[i] != sep)) {
            rc = record_end(&t, line);
            i += i < n && p[i] == '\r';
            line = out->len;
        }
        i += i < n && (p[i] == sep || p[i] == '\n');
    }
    buf_release(&t.header);
    if (rc == RUN_OK)
        rc = extract_put(out, "\f", 1);
    if (rc != RUN_OK && !detail[0])
        snprintf(detail, detail_len, rc == RUN_FAIL_TOO_LARGE ? "csv text over the limit" : "out of memory");
    return rc;
}

enum run_fail extract_csv_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                 size_t detail_len)
{
    (void)max_uncompressed;
    return extract_csv_table(p, n, ',', out, detail, detail_len);
}

enum run_fail extract_tsv_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                 size_t detail_len)
{
    (void)max_uncompressed;
    return extract_csv_table(p, n, '\t', out, detail, detail_len);
}
