/*
 * epub.c - EPUB text (epub.h): container.xml -> OPF -> spine -> chapters.
 */
#include "worker/extract/epub.h"
#include "worker/extract/ctx.h"
#include "worker/extract/extract.h"
#include "worker/extract/html.h"
#include "worker/extract/ozip.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int epub_declares_entity(const char *p, size_t n)
{
    const char *d = memmem(p, n, "<!DOCTYPE", 9), *end = p + n, *gt, *br;

    if (!d)
        d = memmem(p, n, "<!doctype", 9);
    if (!d)
        return 0;
    gt = memchr(d, '>', (size_t)(end - d));
    br = memchr(d, '[', (size_t)(end - d));
    if (br && (!gt || br < gt)) {   /* an internal subset: look to its end */
        gt = memmem(br, (size_t)(end - br), "]>", 2);
        gt = gt ? gt : end;
    }
    for (const char *s = d; gt && s + 8 <= gt; s++)
        if (s[0] == '<' && s[1] == '!' && strncasecmp(s + 2, "ENTITY", 6) == 0)
            return 1;
    return 0;
}

/* The OPF's path from META-INF/container.xml. */
static enum run_fail package_path(struct ozip *z, char *dst, size_t cap)
{
    xmlDocPtr doc = NULL;
    xmlNode *files;
    enum run_fail rc = ozip_doc(z, "META-INF/container.xml", &doc);

    if (rc != RUN_OK)
        return rc;
    files = ozip_child(xmlDocGetRootElement(doc), "rootfiles");
    ozip_attr(ozip_child(files, "rootfile"), "full-path", dst, cap);
    xmlFreeDoc(doc);
    if (!dst[0]) {
        snprintf(z->detail, z->dlen, "epub: container.xml names no package");
        return RUN_FAIL_EXTRACT_FAILED;
    }
    return RUN_OK;
}

/* The manifest item of id idref: its resolved path and whether it is (X)HTML. 0 or -1. */
static int manifest_item(xmlNode *manifest, const char *opf, const char *idref, char *dst, size_t cap, int *html)
{
    char id[256], href[OZIP_NAME_MAX], type[128];

    for (xmlNode *it = manifest ? manifest->children : NULL; it; it = it->next) {
        if (!ozip_is(it, "item"))
            continue;
        ozip_attr(it, "id", id, sizeof(id));
        if (strcmp(id, idref) != 0)
            continue;
        ozip_attr(it, "href", href, sizeof(href));
        ozip_attr(it, "media-type", type, sizeof(type));
        *html = strcmp(type, "application/xhtml+xml") == 0 || strcmp(type, "text/html") == 0;
        return ozip_resolve(opf, href, dst, cap);
    }
    return -1;
}

static enum run_fail chapter(struct ozip *z, const char *part, struct buf *out)
{
    struct buf b;
    enum run_fail rc;

    buf_init(&b, EPUB_MAX_CHAPTER);
    rc = ozip_read(z, part, &b);
    if (rc == RUN_OK && epub_declares_entity(b.ptr ? b.ptr : "", b.len)) {
        snprintf(z->detail, z->dlen, "epub: %s declares XML entities", part);
        rc = RUN_FAIL_UNSUPPORTED_TYPE;   /* permanent: an XXE attempt is refused, not retried */
    }
    if (rc == RUN_OK)
        rc = extract_html_buffer(b.ptr ? b.ptr : "", b.len, out, z->detail, z->dlen);
    if (rc == RUN_OK)
        rc = extract_put(out, "\n\f", 2);
    buf_release(&b);
    return rc;
}

static enum run_fail spine(struct ozip *z, xmlNode *root, const char *opf, struct buf *out)
{
    xmlNode *manifest = ozip_child(root, "manifest"), *sp = ozip_child(root, "spine");
    char idref[256], part[OZIP_NAME_MAX];
    long total = 0, done = 0;
    enum run_fail rc = RUN_OK;
    int html = 0;

    for (xmlNode *it = sp ? sp->children : NULL; it; it = it->next)
        total += ozip_is(it, "itemref");
    if (total > EPUB_MAX_CHAPTERS) {
        snprintf(z->detail, z->dlen, "epub over %d chapters", EPUB_MAX_CHAPTERS);
        return RUN_FAIL_TOO_LARGE;
    }
    for (xmlNode *it = sp ? sp->children : NULL; it && rc == RUN_OK; it = it->next) {
        if (!ozip_is(it, "itemref"))
            continue;
        ozip_attr(it, "idref", idref, sizeof(idref));
        if (manifest_item(manifest, opf, idref, part, sizeof(part), &html) < 0) {
            snprintf(z->detail, z->dlen, "epub: spine item %.200s not in the manifest", idref);
            rc = RUN_FAIL_EXTRACT_FAILED;
        } else if (html)
            rc = chapter(z, part, out);
        extract_progress(++done, total);
    }
    return rc;
}

static enum run_fail epub_from_zip(struct ozip *z, struct buf *out)
{
    char opf[OZIP_NAME_MAX];
    xmlDocPtr doc = NULL;
    xmlNode *root, *meta;
    enum run_fail rc = package_path(z, opf, sizeof(opf));

    if (rc == RUN_OK)
        rc = ozip_doc(z, opf, &doc);
    if (rc != RUN_OK)
        return rc;
    root = xmlDocGetRootElement(doc);
    meta = ozip_child(root, "metadata");
    for (xmlNode *m = meta ? meta->children : NULL; m; m = m->next) {
        xmlChar *v = ozip_is(m, "title") || ozip_is(m, "creator") ? xmlNodeGetContent(m) : NULL;

        if (v)
            extract_meta(ozip_is(m, "title") ? "title" : "author", (const char *)v);
        xmlFree(v);
    }
    rc = spine(z, root, opf, out);
    xmlFreeDoc(doc);
    return rc;
}

enum run_fail extract_epub_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                  size_t detail_len)
{
    return ozip_extract(p, n, max_uncompressed, "epub", epub_from_zip, out, detail, detail_len);
}
