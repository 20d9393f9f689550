/*
 * odf.c - OpenDocument text (odf.h): one pass over content.xml by events.
 */
#include "worker/extract/odf.h"
#include "worker/extract/extract.h"
#include "worker/extract/ozip.h"

#include <stdio.h>
#include <string.h>

struct odf {
    struct buf *out;
    int pages;          /* 1: spreadsheet or presentation, a page per table / draw:page */
    int para, list;     /* depth in text:p/text:h, in text:list */
    int cell, cell_text, row_text, cell_space;
    long cells;
    char *detail;
    size_t dlen;
};

static const char *const skipped[] = {"tracked-changes", "note-citation", "forms", "sequence-decls",
                                      "automatic-styles", "font-face-decls", "scripts", "desc", NULL};

static int in(const char *name, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}

/* Text inside a cell: " | " before the row's next non-empty cell. */
static enum run_fail put_text(struct odf *o, const char *v, size_t n)
{
    enum run_fail rc = RUN_OK;

    if (o->cell && !o->cell_text) {
        if (o->row_text)
            rc = extract_put(o->out, " | ", 3);
        o->cell_text = o->row_text = 1;
    } else if (o->cell && o->cell_space)
        rc = extract_put(o->out, " ", 1);   /* between a cell's paragraphs */
    o->cell_space = 0;
    return rc == RUN_OK ? extract_put(o->out, v, n) : rc;
}

static enum run_fail table_name(xmlTextReaderPtr r, struct odf *o)
{
    xmlChar *name = xmlTextReaderGetAttribute(r, (const xmlChar *)"table:name");
    enum run_fail rc = RUN_OK;

    if (name && o->pages && (rc = extract_put(o->out, (const char *)name, strlen((const char *)name))) == RUN_OK)
        rc = extract_put(o->out, "\n\n", 2);
    xmlFree(name);
    return rc;
}

static enum run_fail odf_start(xmlTextReaderPtr r, const char *name, int *skip, struct odf *o)
{
    int empty = xmlTextReaderIsEmptyElement(r);

    if (in(name, skipped))
        *skip = 1;
    else if (strcmp(name, "spreadsheet") == 0 || strcmp(name, "presentation") == 0)
        o->pages = 1;
    else if ((strcmp(name, "p") == 0 || strcmp(name, "h") == 0) && !empty)
        o->para++;
    else if (strcmp(name, "list") == 0 && !empty)
        o->list++;
    else if (strcmp(name, "table") == 0)
        return table_name(r, o);
    else if (strcmp(name, "table-row") == 0)
        o->row_text = 0;
    else if (strcmp(name, "table-cell") == 0 || strcmp(name, "covered-table-cell") == 0) {
        if (++o->cells > ODF_MAX_CELLS) {
            snprintf(o->detail, o->dlen, "odf over %ld table cells", ODF_MAX_CELLS);
            return RUN_FAIL_TOO_LARGE;
        }
        o->cell = !empty;
        o->cell_text = o->cell_space = 0;
    } else if (strcmp(name, "s") == 0 && o->para)
        return put_text(o, " ", 1);
    else if (strcmp(name, "tab") == 0 && o->para)
        return put_text(o, "\t", 1);
    else if (strcmp(name, "line-break") == 0 && o->para)
        return put_text(o, "\n", 1);
    return RUN_OK;
}

static enum run_fail odf_end(const char *name, struct odf *o)
{
    if ((strcmp(name, "p") == 0 || strcmp(name, "h") == 0) && o->para) {
        o->para--;
        if (o->cell) {
            o->cell_space = o->cell_text;
            return RUN_OK;
        }
        return extract_put(o->out, o->list ? "\n" : "\n\n", o->list ? 1 : 2);
    }
    if (strcmp(name, "list") == 0 && o->list && --o->list == 0)
        return extract_put(o->out, "\n", 1);
    if (strcmp(name, "table-cell") == 0 || strcmp(name, "covered-table-cell") == 0)
        o->cell = 0;
    else if (strcmp(name, "table-row") == 0 && o->row_text)
        return extract_put(o->out, "\n", 1);
    else if (strcmp(name, "table") == 0)
        return extract_put(o->out, o->pages ? "\n\f" : "\n\n", 2);
    else if (strcmp(name, "page") == 0)
        return extract_put(o->out, "\n\f", 2);
    return RUN_OK;
}

static enum run_fail odf_event(xmlTextReaderPtr r, int type, const char *name, int *skip, void *arg)
{
    struct odf *o = arg;
    const char *v;

    if (type == XML_READER_TYPE_ELEMENT)
        return odf_start(r, name, skip, o);
    if (type == XML_READER_TYPE_END_ELEMENT)
        return odf_end(name, o);
    if (o->para && (v = ozip_text(r, type)))
        return put_text(o, v, strlen(v));
    return RUN_OK;
}

static enum run_fail odf_from_zip(struct ozip *z, struct buf *out)
{
    struct odf o;
    enum run_fail rc;

    memset(&o, 0, sizeof(o));
    o.out = out;
    o.detail = z->detail;
    o.dlen = z->dlen;
    rc = ozip_walk_events(z, "content.xml", odf_event, &o);
    ozip_meta(z, "meta.xml");
    return rc;
}

enum run_fail extract_odf_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                 size_t detail_len)
{
    return ozip_extract(p, n, max_uncompressed, "odf", odf_from_zip, out, detail, detail_len);
}
