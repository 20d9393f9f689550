/*
 * docx.c - DOCX text (docx.h): bound the archive's inflated size (ozip.h), then
 * stream word/document.xml, then the headers, footers, footnotes, endnotes and
 * comments through libxml2's reader and keep the run text; tables as rows of cells;
 * the body's explicit page breaks as pages; each footnote and endnote after the
 * paragraph that references it.
 */
#include "worker/extract/docx.h"
#include "common/errors.h"
#include "worker/extract/extract.h"
#include "worker/extract/ozip.h"

#include <libxml/xmlreader.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOCX_MAX_NOTES 100000

static int is(const xmlChar *name, const char *s)
{
    return name && strcmp((const char *)name, s) == 0;
}

#define DOCX_PENDING 64   /* note references of one paragraph placed after it */

/* A footnote or endnote, read before the body so it can follow its reference. */
struct note {
    long id;
    int end;             /* an endnote (else a footnote) */
    size_t start, len;   /* in the notes' text */
    int used;            /* placed after its reference */
};

struct notes {
    struct buf text;
    struct note *v;
    size_t n, cap;
    int end;             /* reading word/endnotes.xml */
};

/* The part being read: page breaks count in word/document.xml only. */
struct docx {
    struct buf *out;
    int body;
    size_t page_mark;    /* extract_page_break()'s */
    struct notes *notes;
    int collect;         /* reading the notes' parts into notes->text */
    struct note pending[DOCX_PENDING];   /* references in the paragraph being read: id, end */
    int npending;
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

/* A w:id attribute as a number (-1 when absent). */
static long w_id(xmlTextReaderPtr r)
{
    xmlChar *v = w_attr(r, "id");
    long id = v ? strtol((const char *)v, NULL, 10) : -1;

    xmlFree(v);
    return id;
}

/* A note's start (reading the notes' parts) or a reference to one (the body). 1 when handled. */
static int note_open(xmlTextReaderPtr r, const xmlChar *name, struct docx *d, enum run_fail *rc)
{
    struct notes *ns = d->notes;
    int ref = is(name, "footnoteReference") || is(name, "endnoteReference");

    if (d->collect && (is(name, "footnote") || is(name, "endnote"))) {
        if (ns->n == ns->cap) {
            size_t cap = ns->cap ? ns->cap * 2 : 16;
            struct note *v = cap <= DOCX_MAX_NOTES ? realloc(ns->v, cap * sizeof(*v)) : NULL;

            if (!v) {
                *rc = cap <= DOCX_MAX_NOTES ? RUN_FAIL_INTERNAL : RUN_FAIL_TOO_LARGE;
                return 1;
            }
            ns->v = v;
            ns->cap = cap;
        }
        ns->v[ns->n++] = (struct note){w_id(r), ns->end, d->out->len, 0, 0};
        return 1;
    }
    if (!ref || !d->body)
        return 0;
    if (d->npending < DOCX_PENDING)
        d->pending[d->npending++] = (struct note){w_id(r), name[0] == 'e', 0, 0, 0};
    return 1;
}

static int note_cmp(const void *a, const void *b)
{
    const struct note *x = a, *y = b;

    if (x->end != y->end)
        return x->end - y->end;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Append note n's text as a paragraph of its own, once. */
static enum run_fail put_note(struct docx *d, struct note *n)
{
    enum run_fail rc = RUN_OK;

    if (n->used || n->len == 0)
        return RUN_OK;
    n->used = 1;
    rc = extract_put(d->out, "\n\n", 2);
    return rc == RUN_OK ? extract_put(d->out, d->notes->text.ptr + n->start, n->len) : rc;
}

/* After a body paragraph (or table): the notes it referenced, so they share its page. */
static enum run_fail place_notes(struct docx *d)
{
    enum run_fail rc = RUN_OK;

    for (int i = 0; i < d->npending && rc == RUN_OK; i++) {
        struct note *n = bsearch(&d->pending[i], d->notes->v, d->notes->n, sizeof(struct note), note_cmp);

        if (n)
            rc = put_note(d, n);
    }
    d->npending = 0;
    return rc;
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
            if (table_open(r, name, &ts, out, &rc) || page_break(r, name, d, &rc) || note_open(r, name, d, &rc))
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
            else if (d->collect && (is(name, "footnote") || is(name, "endnote")) && d->notes->n)
                d->notes->v[d->notes->n - 1].len = out->len - d->notes->v[d->notes->n - 1].start;
            if (rc == RUN_OK && d->npending && !ts.tbl && (is(name, "p") || is(name, "tbl")))
                rc = place_notes(d);
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

/* The parts of ranks [from, to) in the archive's order. */
static enum run_fail walk_ranked(struct ozip *z, struct docx *d, int from, int to)
{
    zip_int64_t n = zip_get_num_entries(z->za, 0);
    enum run_fail rc = RUN_OK;

    for (int rank = from; rank < to && rc == RUN_OK; rank++)
        for (zip_int64_t i = 0; i < n && rc == RUN_OK; i++) {
            const char *name = zip_get_name(z->za, (zip_uint64_t)i, 0);

            if (name && part_rank(name) == rank)
                rc = ozip_walk(z, name, walk_part, d);
        }
    return rc;
}

/* Footnotes and endnotes into d->notes (sorted by kind and id), before the body. */
static enum run_fail collect_notes(struct ozip *z, struct docx *d)
{
    static const char *const parts[] = {"word/footnotes.xml", "word/endnotes.xml"};
    struct buf *out = d->out;
    enum run_fail rc = RUN_OK;

    d->collect = 1;
    d->out = &d->notes->text;
    for (int i = 0; i < 2 && rc == RUN_OK; i++)
        if (ozip_has(z, parts[i])) {
            d->notes->end = i;
            rc = ozip_walk(z, parts[i], walk_part, d);
        }
    d->collect = 0;
    d->out = out;
    if (d->notes->n)
        qsort(d->notes->v, d->notes->n, sizeof(struct note), note_cmp);
    return rc;
}

/*
 * The body, each footnote and endnote after the paragraph that references it
 * (so it is cited on that paragraph's page), then the headers and footers, the
 * notes nothing referenced, and the comments.
 */
static enum run_fail docx_from_zip(struct ozip *z, struct buf *out)
{
    struct notes notes;
    struct docx d;
    enum run_fail rc;

    memset(&notes, 0, sizeof(notes));
    memset(&d, 0, sizeof(d));
    buf_init(&notes.text, out->max);
    d.out = out;
    d.notes = &notes;
    rc = collect_notes(z, &d);
    d.body = 1;
    if (rc == RUN_OK)
        rc = ozip_walk(z, "word/document.xml", walk_part, &d);
    d.body = 0;
    if (rc == RUN_OK)
        rc = walk_ranked(z, &d, 0, 2);
    for (size_t i = 0; i < notes.n && rc == RUN_OK; i++)
        rc = put_note(&d, &notes.v[i]);
    if (rc == RUN_OK)
        rc = walk_ranked(z, &d, 4, 5);
    ozip_meta(z, "docProps/core.xml");
    buf_release(&notes.text);
    free(notes.v);
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
