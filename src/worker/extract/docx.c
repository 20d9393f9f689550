/*
 * docx.c - DOCX text (docx.h): bound the archive's inflated size (ozip.h), then
 * stream word/document.xml, then the headers, footers, footnotes, endnotes and
 * comments through libxml2's reader and keep the run text; tables as rows of cells;
 * the body's explicit page breaks as pages.
 */
#include "worker/extract/docx.h"
#include "common/errors.h"
#include "worker/extract/extract.h"
#include "worker/extract/ozip.h"

#include <libxml/xmlreader.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int is(const xmlChar *name, const char *s)
{
    return name && strcmp((const char *)name, s) == 0;
}

/* The part being read: page breaks count in word/document.xml only. */
struct docx {
    struct buf *out;
    int body;
    size_t page_mark;   /* extract_page_break()'s */
};

static xmlChar *w_attr(xmlTextReaderPtr r, const char *name)
{
    return xmlTextReaderGetAttributeNs(r, (const xmlChar *)name,
                                       (const xmlChar *)"http://schemas.openxmlformats.org/wordprocessingml/2006/main");
}

/*
 * A paragraph style "Heading1".."Heading4" (the style ids Word writes) opens the
 * paragraph with EXTRACT_HEADING_MARK and the level: worker/structure.c makes
 * heading paths of them. w:pPr, which holds w:pStyle, comes before the runs.
 */
static enum run_fail heading_style(xmlTextReaderPtr r, struct buf *out)
{
    xmlChar *v = w_attr(r, "val");
    enum run_fail rc = RUN_OK;

    if (v && strncasecmp((const char *)v, "heading", 7) == 0 && v[7] >= '1' && v[7] <= '4' && !v[8]) {
        rc = extract_put(out, EXTRACT_HEADING_MARK, sizeof(EXTRACT_HEADING_MARK) - 1);
        if (rc == RUN_OK)
            rc = extract_put(out, (const char *)v + 7, 1);
    }
    xmlFree(v);
    return rc;
}

/*
 * A page break of the body: w:br w:type="page", w:lastRenderedPageBreak (where
 * Word's last layout started a page) or w:pageBreakBefore (unless w:val is
 * off). 1 when name was one of these (a w:br of another type is a line break).
 */
static int page_break(xmlTextReaderPtr r, const xmlChar *name, struct docx *d, enum run_fail *rc)
{
    xmlChar *v;
    int brk;

    if (is(name, "lastRenderedPageBreak"))
        brk = 1;
    else if (is(name, "br") || is(name, "pageBreakBefore")) {
        v = w_attr(r, is(name, "br") ? "type" : "val");
        brk = is(name, "br") ? v && strcmp((const char *)v, "page") == 0
                             : !v || (strcmp((const char *)v, "0") != 0 && strcmp((const char *)v, "false") != 0);
        xmlFree(v);
        if (!brk && is(name, "br"))
            return 0;
    } else
        return 0;
    if (brk && d->body)
        *rc = extract_page_break(d->out, &d->page_mark);
    return 1;
}

/* Tables, rows of cells: inside w:tbl a cell's paragraphs are joined by a
 * space, its cells by " | ", and a row ends its line. */
struct tstate {
    int tbl, cells, paras;
};

/* 1 when the element was a table's (handled here). */
static int table_open(xmlTextReaderPtr r, const xmlChar *name, struct tstate *ts, struct buf *out,
                      enum run_fail *rc)
{
    if (is(name, "tbl") && !xmlTextReaderIsEmptyElement(r))
        ts->tbl++;
    else if (is(name, "tr"))
        ts->cells = 0;
    else if (is(name, "tc")) {
        ts->paras = 0;
        if (ts->cells++ > 0)
            *rc = extract_put(out, " | ", 3);
    } else if (is(name, "p") && ts->tbl) {
        if (ts->paras++ > 0)
            *rc = extract_put(out, " ", 1);
    } else
        return 0;
    return 1;
}

static int table_close(const xmlChar *name, struct tstate *ts, struct buf *out, enum run_fail *rc)
{
    if (!ts->tbl || is(name, "p"))
        return ts->tbl != 0;
    if (is(name, "tr"))
        *rc = extract_put(out, "\n", 1);
    else if (is(name, "tbl")) {
        ts->tbl--;
        *rc = extract_put(out, "\n\n", 2);
    } else
        return 0;
    return 1;
}

/* Walk one part (word/document.xml, a header, ...) and append its text. */
static enum run_fail read_document(xmlTextReaderPtr r, struct docx *d)
{
    struct buf *out = d->out;
    enum run_fail rc = RUN_OK;
    int ret, in_t = 0;
    struct tstate ts = {0, 0, 0};

    ret = xmlTextReaderRead(r);
    while (ret == 1 && rc == RUN_OK) {
        int type = xmlTextReaderNodeType(r);
        const xmlChar *name = xmlTextReaderConstLocalName(r);

        if (type == XML_READER_TYPE_ELEMENT) {
            /* mc:Fallback repeats the text of the mc:Choice before it */
            if (is(name, "Fallback")) {
                ret = xmlTextReaderNext(r);
                continue;
            }
            if (table_open(r, name, &ts, out, &rc) || page_break(r, name, d, &rc))
                ;
            else if (is(name, "t") && !xmlTextReaderIsEmptyElement(r))
                in_t++;
            else if (is(name, "tab"))
                rc = extract_put(out, "\t", 1);
            else if (is(name, "br") || is(name, "cr"))
                rc = extract_put(out, "\n", 1);
            else if (is(name, "noBreakHyphen"))
                rc = extract_put(out, "-", 1);
            else if (is(name, "p") && xmlTextReaderIsEmptyElement(r))
                rc = extract_put(out, "\n\n", 2);
            else if (is(name, "pStyle"))
                rc = heading_style(r, out);
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            if (is(name, "t") && in_t > 0)
                in_t--;
            else if (table_close(name, &ts, out, &rc))
                ;
            else if (is(name, "p"))
                rc = extract_put(out, "\n\n", 2);
        } else if (in_t && (type == XML_READER_TYPE_TEXT ||
                            type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
                            type == XML_READER_TYPE_WHITESPACE ||
                            type == XML_READER_TYPE_CDATA)) {
            const xmlChar *v = xmlTextReaderConstValue(r);

            if (v)
                rc = extract_put(out, (const char *)v, strlen((const char *)v));
        }
        if (rc == RUN_OK)
            ret = xmlTextReaderRead(r);
    }
    if (rc == RUN_OK && ret < 0)
        rc = RUN_FAIL_EXTRACT_FAILED;
    return rc;
}

static enum run_fail walk_part(xmlTextReaderPtr r, void *arg)
{
    return read_document(r, arg);
}

/* The parts after the body, in this order: headers, footers (in the archive's
 * order), footnotes, endnotes, comments. */
static int part_rank(const char *name)
{
    static const char *const prefixes[] = {"word/header", "word/footer", "word/footnotes.xml",
                                           "word/endnotes.xml", "word/comments.xml", NULL};
    size_t n = strlen(name);

    for (int i = 0; prefixes[i]; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0 && n > 4 && strcmp(name + n - 4, ".xml") == 0 &&
            !strchr(name + 5, '/'))
            return i;
    return -1;
}

static enum run_fail docx_from_zip(struct ozip *z, struct buf *out)
{
    zip_int64_t n = zip_get_num_entries(z->za, 0);
    struct docx d = {out, 1, 0};
    enum run_fail rc = ozip_walk(z, "word/document.xml", walk_part, &d);

    for (int rank = 0; rank < 5 && rc == RUN_OK; rank++)
        for (zip_int64_t i = 0; i < n && rc == RUN_OK; i++) {
            const char *name = zip_get_name(z->za, (zip_uint64_t)i, 0);

            if (name && part_rank(name) == rank) {
                d.body = 0;
                rc = ozip_walk(z, name, walk_part, &d);
            }
        }
    ozip_meta(z, "docProps/core.xml");
    if (rc != RUN_OK)
        buf_release(out);
    return rc;
}

enum run_fail extract_docx_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out,
                                  char *detail, size_t detail_len)
{
    return ozip_extract(p, n, max_uncompressed, "docx", docx_from_zip, out, detail, detail_len);
}

enum run_fail extract_docx_file(const char *path, long max_uncompressed, struct buf *out, char *detail,
                                size_t detail_len)
{
    struct ozip z;
    enum run_fail rc = ozip_open_file(&z, path, max_uncompressed, "docx", detail, detail_len);

    if (rc == RUN_OK)
        rc = docx_from_zip(&z, out);
    ozip_close(&z);
    return rc;
}
