/*
 * xlsx.c - XLSX text (xlsx.h): shared strings, then each sheet of
 * xl/workbook.xml through its relationship, streamed by libxml2's reader.
 */
#include "worker/extract/xlsx.h"
#include "worker/extract/ctx.h"
#include "worker/extract/extract.h"
#include "worker/extract/ozip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sst {
    struct buf text;    /* the strings, each NUL-ended */
    size_t *off;
    size_t n, cap;
    int in_si, in_t, in_rph;
};

struct sheet {
    struct buf *out;
    const struct sst *sst;
    struct buf val;     /* the current cell's text */
    long *cells, *rows; /* workbook totals */
    int row_cells, in_v, in_t, in_is, shared, boolean;
    char *detail;
    size_t dlen;
};

static enum run_fail sst_add(struct sst *s)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        size_t *o = ncap <= (size_t)XLSX_MAX_CELLS ? realloc(s->off, ncap * sizeof(*o)) : NULL;

        if (!o)
            return ncap > (size_t)XLSX_MAX_CELLS ? RUN_FAIL_TOO_LARGE : RUN_FAIL_INTERNAL;
        s->off = o;
        s->cap = ncap;
    }
    s->off[s->n++] = s->text.len;
    return RUN_OK;
}

/* xl/sharedStrings.xml: si holds t (plain) or r/t (rich runs); rPh (phonetic) is skipped. */
static enum run_fail sst_event(xmlTextReaderPtr r, int type, const char *name, int *skip, void *arg)
{
    struct sst *s = arg;
    const char *v;

    if (type == XML_READER_TYPE_ELEMENT) {
        if (strcmp(name, "rPh") == 0)
            *skip = 1;
        else if (strcmp(name, "si") == 0) {
            enum run_fail rc = sst_add(s);

            if (rc != RUN_OK || xmlTextReaderIsEmptyElement(r))
                return rc != RUN_OK ? rc : extract_put(&s->text, "", 1);
            s->in_si = 1;
        } else if (strcmp(name, "t") == 0 && s->in_si && !xmlTextReaderIsEmptyElement(r))
            s->in_t = 1;
    } else if (type == XML_READER_TYPE_END_ELEMENT) {
        if (strcmp(name, "t") == 0)
            s->in_t = 0;
        else if (strcmp(name, "si") == 0) {
            s->in_si = 0;
            return extract_put(&s->text, "", 1);
        }
    } else if (s->in_t && (v = ozip_text(r, type)))
        return extract_put(&s->text, v, strlen(v));
    return RUN_OK;
}

/* One cell's value into the row: " | " between non-empty cells. */
static enum run_fail put_cell(struct sheet *sh)
{
    const char *v = sh->val.ptr ? sh->val.ptr : "";
    enum run_fail rc = RUN_OK;

    if (sh->shared) {
        char *end;
        unsigned long i = strtoul(v, &end, 10);

        v = end != v && i < sh->sst->n ? sh->sst->text.ptr + sh->sst->off[i] : "";
    } else if (sh->boolean)
        v = strcmp(v, "1") == 0 ? "TRUE" : "FALSE";
    if (v[0] && sh->row_cells++ > 0)
        rc = extract_put(sh->out, " | ", 3);
    if (v[0] && rc == RUN_OK)
        rc = extract_put(sh->out, v, strlen(v));
    buf_reset(&sh->val);
    return rc;
}

static enum run_fail cell_start(xmlTextReaderPtr r, struct sheet *sh)
{
    xmlChar *t;

    if (++*sh->cells > XLSX_MAX_CELLS) {
        snprintf(sh->detail, sh->dlen, "xlsx over %ld cells", XLSX_MAX_CELLS);
        return RUN_FAIL_TOO_LARGE;
    }
    t = xmlTextReaderGetAttribute(r, (const xmlChar *)"t");
    sh->shared = t && strcmp((const char *)t, "s") == 0;
    sh->boolean = t && strcmp((const char *)t, "b") == 0;
    xmlFree(t);
    buf_reset(&sh->val);
    return RUN_OK;
}

static enum run_fail sheet_start(xmlTextReaderPtr r, const char *name, int *skip, struct sheet *sh)
{
    if (strcmp(name, "row") == 0) {
        sh->row_cells = 0;
        if (++*sh->rows > XLSX_MAX_ROWS) {
            snprintf(sh->detail, sh->dlen, "xlsx over %ld rows", XLSX_MAX_ROWS);
            return RUN_FAIL_TOO_LARGE;
        }
    } else if (strcmp(name, "c") == 0)
        return cell_start(r, sh);
    else if (strcmp(name, "f") == 0 || strcmp(name, "rPh") == 0)
        *skip = 1;
    else if (strcmp(name, "v") == 0)
        sh->in_v = !xmlTextReaderIsEmptyElement(r);
    else if (strcmp(name, "is") == 0) {
        sh->in_is = !xmlTextReaderIsEmptyElement(r);
        sh->shared = sh->boolean = 0;
    } else if (strcmp(name, "t") == 0)
        sh->in_t = sh->in_is && !xmlTextReaderIsEmptyElement(r);
    return RUN_OK;
}

static enum run_fail sheet_event(xmlTextReaderPtr r, int type, const char *name, int *skip, void *arg)
{
    struct sheet *sh = arg;
    const char *v;

    if (type == XML_READER_TYPE_ELEMENT)
        return sheet_start(r, name, skip, sh);
    if (type == XML_READER_TYPE_END_ELEMENT) {
        if (strcmp(name, "v") == 0 && sh->in_v) {
            sh->in_v = 0;
            return put_cell(sh);
        }
        if (strcmp(name, "t") == 0)
            sh->in_t = 0;
        else if (strcmp(name, "is") == 0 && sh->in_is) {
            sh->in_is = 0;
            return put_cell(sh);
        } else if (strcmp(name, "row") == 0 && sh->row_cells > 0)
            return extract_put(sh->out, "\n", 1);
        return RUN_OK;
    }
    if ((sh->in_v || sh->in_t) && (v = ozip_text(r, type)) && sh->val.len + strlen(v) < XLSX_MAX_CELL)
        return extract_put(&sh->val, v, strlen(v)) == RUN_FAIL_INTERNAL ? RUN_FAIL_INTERNAL : RUN_OK;
    return RUN_OK;
}

/* One sheet: its name, its rows, a form feed. */
static enum run_fail one_sheet(struct ozip *z, xmlNode *el, xmlDocPtr rels, struct sheet *sh)
{
    char name[512], rid[256], part[OZIP_NAME_MAX];
    enum run_fail rc;

    ozip_attr(el, "name", name, sizeof(name));
    ozip_attr(el, "id", rid, sizeof(rid));
    rc = ozip_rel_target(z, rels, "xl/workbook.xml", rid, part, sizeof(part));
    if (rc == RUN_OK && name[0] && (rc = extract_put(sh->out, name, strlen(name))) == RUN_OK)
        rc = extract_put(sh->out, "\n\n", 2);
    if (rc == RUN_OK)
        rc = ozip_walk_events(z, part, sheet_event, sh);
    if (rc == RUN_OK)
        rc = extract_put(sh->out, "\n\f", 2);
    return rc;
}

static enum run_fail sheets(struct ozip *z, const struct sst *sst, struct buf *out)
{
    xmlDocPtr wb = NULL, rels = NULL;
    xmlNode *list;
    struct sheet sh;
    long cells = 0, rows = 0, total = 0, done = 0;
    enum run_fail rc = ozip_doc(z, "xl/workbook.xml", &wb);

    if (rc == RUN_OK)
        rc = ozip_doc(z, "xl/_rels/workbook.xml.rels", &rels);
    list = rc == RUN_OK ? ozip_child(xmlDocGetRootElement(wb), "sheets") : NULL;
    memset(&sh, 0, sizeof(sh));
    sh.out = out;
    sh.sst = sst;
    sh.cells = &cells;
    sh.rows = &rows;
    sh.detail = z->detail;
    sh.dlen = z->dlen;
    buf_init(&sh.val, XLSX_MAX_CELL + 4096);
    for (xmlNode *s = list ? list->children : NULL; s; s = s->next)
        total += ozip_is(s, "sheet");
    for (xmlNode *s = list ? list->children : NULL; s && rc == RUN_OK; s = s->next)
        if (ozip_is(s, "sheet")) {
            rc = one_sheet(z, s, rels, &sh);
            extract_progress(++done, total);
        }
    buf_release(&sh.val);
    xmlFreeDoc(wb);
    xmlFreeDoc(rels);
    return rc;
}

static enum run_fail xlsx_from_zip(struct ozip *z, struct buf *out)
{
    struct sst sst;
    enum run_fail rc = RUN_OK;

    memset(&sst, 0, sizeof(sst));
    buf_init(&sst.text, out->max);
    if (ozip_has(z, "xl/sharedStrings.xml"))
        rc = ozip_walk_events(z, "xl/sharedStrings.xml", sst_event, &sst);
    if (rc == RUN_FAIL_TOO_LARGE && sst.n >= (size_t)XLSX_MAX_CELLS)
        snprintf(z->detail, z->dlen, "xlsx over %ld cells", XLSX_MAX_CELLS);
    if (rc == RUN_OK)
        rc = sheets(z, &sst, out);
    ozip_meta(z, "docProps/core.xml");
    buf_release(&sst.text);
    free(sst.off);
    return rc;
}

enum run_fail extract_xlsx_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                  size_t detail_len)
{
    return ozip_extract(p, n, max_uncompressed, "xlsx", xlsx_from_zip, out, detail, detail_len);
}
