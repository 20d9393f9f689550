/*
 * odf.c - OpenDocument text (odf.h): one pass over content.xml by events.
 */
#include "worker/extract/odf.h"
#include "worker/extract/extract.h"
#include "worker/extract/ozip.h"

#include <stdio.h>
#include <string.h>

#define ODF_STYLE_NAME 64
#define ODF_BREAK_STYLES 256

struct odf {
    struct buf *out;
    int pages;          /* 1: spreadsheet or presentation, a page per table / draw:page */
    int para, list;     /* depth in text:p/text:h, in text:list */
    int cell, cell_text, row_text, cell_space;
    long cells;
    char *detail;
    size_t dlen;
    /* text documents: explicit page breaks (extract_page_break) */
    int styles;                          /* inside office:automatic-styles */
    char style[ODF_STYLE_NAME];          /* the style:style being read */
    char brk[ODF_BREAK_STYLES][ODF_STYLE_NAME];   /* paragraph styles that break the page... */
    unsigned char brk_after[ODF_BREAK_STYLES];     /* ...before (0) or after (1) the paragraph */
    int nbrk;
    int after;                           /* break when this paragraph ends */
    size_t page_mark;
};

static const char *const skipped[] = {"tracked-changes", "note-citation", "forms", "sequence-decls",
                                      "font-face-decls", "scripts", "desc", NULL};

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

/* An attribute's value copied into dst (cap bytes, "" when absent or too long). */
static void attr(xmlTextReaderPtr r, const char *qname, char *dst, size_t cap)
{
    xmlChar *v = xmlTextReaderGetAttribute(r, (const xmlChar *)qname);

    dst[0] = '\0';
    if (v && strlen((const char *)v) < cap)
        snprintf(dst, cap, "%s", (const char *)v);
    xmlFree(v);
}

/* In office:automatic-styles: remember the paragraph styles with fo:break-before
 * or fo:break-after="page" (at most ODF_BREAK_STYLES of them). */
static void style_event(xmlTextReaderPtr r, const char *name, struct odf *o)
{
    char before[16], after[16];

    if (strcmp(name, "style") == 0)
        attr(r, "style:name", o->style, sizeof(o->style));
    else if (strcmp(name, "default-style") == 0)
        o->style[0] = '\0';   /* its properties belong to no named style */
    if (strcmp(name, "paragraph-properties") != 0 || !o->style[0] || o->nbrk >= ODF_BREAK_STYLES)
        return;
    attr(r, "fo:break-before", before, sizeof(before));
    attr(r, "fo:break-after", after, sizeof(after));
    if (strcmp(before, "page") != 0 && strcmp(after, "page") != 0)
        return;
    snprintf(o->brk[o->nbrk], sizeof(o->brk[o->nbrk]), "%s", o->style);
    o->brk_after[o->nbrk++] = strcmp(before, "page") != 0;
}

/* A text document's page breaks: text:soft-page-break (where the last layout
 * started a page) and a paragraph whose style breaks before or after it. */
static enum run_fail para_breaks(xmlTextReaderPtr r, const char *name, struct odf *o)
{
    char style[ODF_STYLE_NAME];

    if (o->pages)
        return RUN_OK;
    if (strcmp(name, "soft-page-break") == 0)
        return extract_page_break(o->out, &o->page_mark);
    if ((strcmp(name, "p") != 0 && strcmp(name, "h") != 0) || o->para > 1 || o->cell)
        return RUN_OK;
    attr(r, "text:style-name", style, sizeof(style));
    for (int i = 0; style[0] && i < o->nbrk; i++)
        if (strcmp(o->brk[i], style) == 0) {
            if (o->brk_after[i]) {
                o->after = 1;
                return RUN_OK;
            }
            return extract_page_break(o->out, &o->page_mark);
        }
    return RUN_OK;
}

static enum run_fail odf_start(xmlTextReaderPtr r, const char *name, int *skip, struct odf *o)
{
    int empty = xmlTextReaderIsEmptyElement(r);

    if (o->styles)
        style_event(r, name, o);
    else if (strcmp(name, "automatic-styles") == 0)
        o->styles = !empty;
    else if (in(name, skipped))
        *skip = 1;
    else if (strcmp(name, "spreadsheet") == 0 || strcmp(name, "presentation") == 0)
        o->pages = 1;
    else if (((strcmp(name, "p") == 0 || strcmp(name, "h") == 0) && !empty) || strcmp(name, "soft-page-break") == 0) {
        o->para += name[0] != 's';
        return para_breaks(r, name, o);
    } else if (strcmp(name, "list") == 0 && !empty)
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
    enum run_fail rc;

    if (strcmp(name, "automatic-styles") == 0)
        o->styles = 0;
    if ((strcmp(name, "p") == 0 || strcmp(name, "h") == 0) && o->para) {
        o->para--;
        if (o->cell) {
            o->cell_space = o->cell_text;
            return RUN_OK;
        }
        rc = extract_put(o->out, o->list ? "\n" : "\n\n", o->list ? 1 : 2);
        if (rc == RUN_OK && o->after && o->para == 0) {
            o->after = 0;
            rc = extract_page_break(o->out, &o->page_mark);
        }
        return rc;
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
