/*
 * docx.c - DOCX text (docx.h): bound the archive's inflated size, then stream
 * word/document.xml through libxml2's reader and keep the run text.
 */
#include "worker/extract/docx.h"
#include "common/errors.h"
#include "worker/extract/extract.h"

#include <libxml/xmlreader.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zip.h>

#define DOCX_MAX_ENTRIES 20000

struct zread {
    zip_file_t *zf;
    uint64_t got;      /* bytes inflated so far */
    uint64_t limit;
    int over;          /* inflated past the limit: the header lied or it is a bomb */
    int failed;        /* libzip read error (CRC, corrupt stream) */
};

static int zread_cb(void *ctx, char *dst, int len)
{
    struct zread *z = ctx;
    zip_int64_t r;

    if (z->over || z->failed)
        return -1;
    r = zip_fread(z->zf, dst, (zip_uint64_t)len);
    if (r < 0) {
        z->failed = 1;
        return -1;
    }
    z->got += (uint64_t)r;
    if (z->got > z->limit) {
        z->over = 1;
        return -1;
    }
    return (int)r;
}

static int zclose_cb(void *ctx)
{
    (void)ctx;
    return 0;
}

static void quiet_reader(void *arg, const char *msg, xmlParserSeverities sev,
                         xmlTextReaderLocatorPtr loc)
{
    (void)arg;
    (void)msg;
    (void)sev;
    (void)loc;
}

static int is(const xmlChar *name, const char *s)
{
    return name && strcmp((const char *)name, s) == 0;
}

/*
 * A paragraph style "Heading1".."Heading4" (the style ids Word writes) opens the
 * paragraph with EXTRACT_HEADING_MARK and the level: worker/structure.c makes
 * heading paths of them. w:pPr, which holds w:pStyle, comes before the runs.
 */
static enum run_fail heading_style(xmlTextReaderPtr r, struct buf *out)
{
    xmlChar *v = xmlTextReaderGetAttributeNs(r, (const xmlChar *)"val",
                                             (const xmlChar *)"http://schemas.openxmlformats.org/wordprocessingml/2006/main");
    enum run_fail rc = RUN_OK;

    if (v && strncasecmp((const char *)v, "heading", 7) == 0 && v[7] >= '1' && v[7] <= '4' && !v[8]) {
        rc = extract_put(out, EXTRACT_HEADING_MARK, sizeof(EXTRACT_HEADING_MARK) - 1);
        if (rc == RUN_OK)
            rc = extract_put(out, (const char *)v + 7, 1);
    }
    xmlFree(v);
    return rc;
}

/* Walk word/document.xml and append its text. */
static enum run_fail read_document(xmlTextReaderPtr r, struct buf *out)
{
    enum run_fail rc = RUN_OK;
    int ret, in_t = 0;

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
            if (is(name, "t") && !xmlTextReaderIsEmptyElement(r))
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

static enum run_fail docx_from_zip(zip_t *za, long max_uncompressed, struct buf *out, char *detail,
                                   size_t detail_len)
{
    struct zread z;
    xmlTextReaderPtr r = NULL;
    zip_int64_t n, i, doc;
    zip_stat_t st;
    uint64_t total = 0, limit = max_uncompressed > 0 ? (uint64_t)max_uncompressed : (512u << 20);
    enum run_fail rc = RUN_FAIL_EXTRACT_FAILED;

    memset(&z, 0, sizeof(z));
    n = zip_get_num_entries(za, 0);
    if (n < 0 || n > DOCX_MAX_ENTRIES) {
        snprintf(detail, detail_len, "docx has %lld entries", (long long)n);
        goto out;
    }
    /* the declared sizes first: refuse a bomb before inflating a byte */
    for (i = 0; i < n; i++) {
        zip_stat_init(&st);
        if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE)) {
            snprintf(detail, detail_len, "docx entry %lld unreadable", (long long)i);
            goto out;
        }
        total += st.size;
        if (st.size > limit || total > limit) {
            snprintf(detail, detail_len, "docx uncompressed size over limit");
            rc = RUN_FAIL_TOO_LARGE;
            goto out;
        }
    }
    doc = zip_name_locate(za, "word/document.xml", 0);
    if (doc < 0) {
        snprintf(detail, detail_len, "docx has no word/document.xml");
        goto out;
    }
    z.zf = zip_fopen_index(za, (zip_uint64_t)doc, 0);
    if (!z.zf) {
        snprintf(detail, detail_len, "docx: cannot open word/document.xml: %s",
                 zip_strerror(za));
        goto out;
    }
    zip_stat_init(&st);
    zip_stat_index(za, (zip_uint64_t)doc, 0, &st);
    /* headers can lie: count what is really inflated, against the smaller
     * of the declared size and the limit */
    z.limit = (st.valid & ZIP_STAT_SIZE) && st.size < limit ? st.size : limit;
    r = xmlReaderForIO(zread_cb, zclose_cb, &z, "word/document.xml", NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!r) {
        rc = RUN_FAIL_INTERNAL;
        snprintf(detail, detail_len, "out of memory");
        goto out;
    }
    xmlTextReaderSetErrorHandler(r, quiet_reader, NULL);
    rc = read_document(r, out);
    if (z.over) {
        rc = RUN_FAIL_TOO_LARGE;
        buf_release(out);
        snprintf(detail, detail_len, "docx uncompressed size over limit");
    } else if (z.failed) {
        rc = RUN_FAIL_EXTRACT_FAILED;
        snprintf(detail, detail_len, "docx: corrupt word/document.xml stream");
    } else if (rc == RUN_FAIL_EXTRACT_FAILED)
        snprintf(detail, detail_len, "docx: malformed word/document.xml");
    else if (rc == RUN_FAIL_TOO_LARGE)
        snprintf(detail, detail_len, "docx text over the limit");
    else if (rc == RUN_FAIL_INTERNAL)
        snprintf(detail, detail_len, "out of memory");
out:
    if (r)
        xmlFreeTextReader(r);
    if (z.zf)
        zip_fclose(z.zf);
    if (rc != RUN_OK)
        buf_release(out);
    return rc;
}

enum run_fail extract_docx_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out,
                                  char *detail, size_t detail_len)
{
    zip_error_t ze;
    zip_source_t *src;
    zip_t *za;
    enum run_fail rc;

    zip_error_init(&ze);
    src = zip_source_buffer_create(p, n, 0, &ze);
    if (!src) {
        zip_error_fini(&ze);
        snprintf(detail, detail_len, "out of memory");
        return RUN_FAIL_INTERNAL;
    }
    za = zip_open_from_source(src, ZIP_RDONLY, &ze);
    if (!za) {
        zip_source_free(src);
        snprintf(detail, detail_len, "docx is not a valid zip: %s", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return RUN_FAIL_CORRUPT;   /* the same bytes are never a zip: permanent */
    }
    zip_error_fini(&ze);
    rc = docx_from_zip(za, max_uncompressed, out, detail, detail_len);
    zip_discard(za);
    return rc;
}

enum run_fail extract_docx_file(const char *path, long max_uncompressed, struct buf *out, char *detail,
                                size_t detail_len)
{
    zip_t *za;
    enum run_fail rc;
    int err = 0;

    za = zip_open(path, ZIP_RDONLY, &err);
    if (!za) {
        zip_error_t ze;

        zip_error_init_with_code(&ze, err);
        snprintf(detail, detail_len, "docx is not a valid zip: %s", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return RUN_FAIL_CORRUPT;   /* the same bytes are never a zip: permanent */
    }
    rc = docx_from_zip(za, max_uncompressed, out, detail, detail_len);
    zip_discard(za);
    return rc;
}
