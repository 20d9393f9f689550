/*
 * pptx.c - PPTX text (pptx.h): presentation.xml's slide ids through their
 * relationships to the slide parts, each slide then its notes slide, streamed.
 */
#include "worker/extract/pptx.h"
#include "worker/extract/ctx.h"
#include "worker/extract/extract.h"
#include "worker/extract/ozip.h"

#include <stdio.h>
#include <string.h>

struct slide {
    struct buf *out;
    int in_t;
};

static enum run_fail slide_event(xmlTextReaderPtr r, int type, const char *name, int *skip, void *arg)
{
    struct slide *s = arg;
    const char *v;

    if (type == XML_READER_TYPE_ELEMENT) {
        if (strcmp(name, "fld") == 0)
            *skip = 1;   /* slide number, date: not the slide's text */
        else if (strcmp(name, "t") == 0)
            s->in_t = !xmlTextReaderIsEmptyElement(r);
        else if (strcmp(name, "br") == 0)
            return extract_put(s->out, "\n", 1);
    } else if (type == XML_READER_TYPE_END_ELEMENT) {
        if (strcmp(name, "t") == 0)
            s->in_t = 0;
        else if (strcmp(name, "p") == 0)
            return extract_put(s->out, "\n", 1);
        else if (strcmp(name, "tc") == 0)
            return extract_put(s->out, " | ", 3);
        else if (strcmp(name, "sp") == 0 || strcmp(name, "graphicFrame") == 0)
            return extract_put(s->out, "\n", 1);
    } else if (s->in_t && (v = ozip_text(r, type)))
        return extract_put(s->out, v, strlen(v));
    return RUN_OK;
}

/* "ppt/slides/slide1.xml" -> "ppt/slides/_rels/slide1.xml.rels". 0 or -1. */
static int rels_of(const char *part, char *dst, size_t cap)
{
    const char *slash = strrchr(part, '/');
    int dir = slash ? (int)(slash - part) + 1 : 0;
    int n = snprintf(dst, cap, "%.*s_rels/%s.rels", dir, part, part + dir);

    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* The notes slide of a slide, by its relationship type; "" when it has none. */
static void notes_of(struct ozip *z, const char *slide, char *dst, size_t cap)
{
    char rels[OZIP_NAME_MAX], type[512], target[OZIP_NAME_MAX];
    xmlDocPtr doc = NULL;
    size_t tl;

    dst[0] = '\0';
    if (rels_of(slide, rels, sizeof(rels)) < 0 || !ozip_has(z, rels) || ozip_doc(z, rels, &doc) != RUN_OK) {
        z->detail[0] = '\0';
        return;
    }
    for (xmlNode *n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
        ozip_attr(n, "Type", type, sizeof(type));
        tl = strlen(type);
        if (!ozip_is(n, "Relationship") || tl < 11 || strcmp(type + tl - 11, "/notesSlide") != 0)
            continue;
        ozip_attr(n, "Target", target, sizeof(target));
        if (ozip_resolve(slide, target, dst, cap) < 0 || !ozip_has(z, dst))
            dst[0] = '\0';
        break;
    }
    xmlFreeDoc(doc);
}

static enum run_fail one_slide(struct ozip *z, xmlDocPtr rels, xmlNode *id, struct buf *out)
{
    char rid[256], part[OZIP_NAME_MAX], notes[OZIP_NAME_MAX];
    struct slide s = {out, 0};
    enum run_fail rc;

    ozip_attr(id, "id", rid, sizeof(rid));   /* r:id (the p:sldId's own id is numeric, also "id") */
    for (xmlAttr *a = id->properties; a; a = a->next)
        if (a->ns && a->ns->prefix && strcmp((const char *)a->name, "id") == 0) {
            xmlChar *v = xmlNodeListGetString(id->doc, a->children, 1);

            snprintf(rid, sizeof(rid), "%s", v ? (const char *)v : "");
            xmlFree(v);
        }
    rc = ozip_rel_target(z, rels, "ppt/presentation.xml", rid, part, sizeof(part));
    if (rc == RUN_OK)
        rc = ozip_walk_events(z, part, slide_event, &s);
    if (rc == RUN_OK) {
        notes_of(z, part, notes, sizeof(notes));
        if (notes[0] && (rc = extract_put(out, "\n\n", 2)) == RUN_OK)
            rc = ozip_walk_events(z, notes, slide_event, &s);
    }
    return rc == RUN_OK ? extract_put(out, "\n\f", 2) : rc;
}

static enum run_fail pptx_from_zip(struct ozip *z, struct buf *out)
{
    xmlDocPtr pres = NULL, rels = NULL;
    xmlNode *list = NULL;
    long total = 0, done = 0;
    enum run_fail rc = ozip_doc(z, "ppt/presentation.xml", &pres);

    if (rc == RUN_OK)
        rc = ozip_doc(z, "ppt/_rels/presentation.xml.rels", &rels);
    if (rc == RUN_OK)
        list = ozip_child(xmlDocGetRootElement(pres), "sldIdLst");
    for (xmlNode *s = list ? list->children : NULL; s; s = s->next)
        total += ozip_is(s, "sldId");
    if (total > PPTX_MAX_SLIDES) {
        snprintf(z->detail, z->dlen, "pptx over %d slides", PPTX_MAX_SLIDES);
        rc = RUN_FAIL_TOO_LARGE;
    }
    for (xmlNode *s = list ? list->children : NULL; s && rc == RUN_OK; s = s->next)
        if (ozip_is(s, "sldId")) {
            rc = one_slide(z, rels, s, out);
            extract_progress(++done, total);
        }
    xmlFreeDoc(pres);
    xmlFreeDoc(rels);
    ozip_meta(z, "docProps/core.xml");
    return rc;
}

enum run_fail extract_pptx_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                  size_t detail_len)
{
    return ozip_extract(p, n, max_uncompressed, "pptx", pptx_from_zip, out, detail, detail_len);
}
