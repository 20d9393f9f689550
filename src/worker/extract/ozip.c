/*
 * ozip.c - the zip + XML layer of the container formats (ozip.h): bounded
 * inflation counted across parts, safe libxml2 options, relationship and
 * metadata helpers.
 */
#include "worker/extract/ozip.h"
#include "worker/extract/ctx.h"
#include "worker/extract/extract.h"

#include <libxml/parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define XML_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

struct zread {
    struct ozip *z;
    zip_file_t *zf;
    uint64_t got, cap;   /* this part: inflated, the most it may (declared size, budget) */
    int over, failed;
};

static void fail(struct ozip *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct ozip *z, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(z->detail, z->dlen, fmt, ap);
    va_end(ap);
}

static void ozip_init(struct ozip *z, long max_uncompressed, const char *what, char *detail, size_t dlen)
{
    memset(z, 0, sizeof(*z));
    z->what = what;
    z->detail = detail;
    z->dlen = dlen;
    z->limit = max_uncompressed > 0 ? (uint64_t)max_uncompressed : OZIP_DEFAULT_LIMIT;
}

/* The entry count and the declared sizes: refuse a bomb before inflating a byte. */
static enum run_fail ozip_check(struct ozip *z)
{
    zip_int64_t cnt = zip_get_num_entries(z->za, 0);

    if (cnt < 0 || cnt > OZIP_MAX_ENTRIES) {
        snprintf(z->detail, z->dlen, "%s has %lld entries", z->what, (long long)cnt);
        return RUN_FAIL_CORRUPT;
    }
    for (uint64_t i = 0, total = 0; i < (uint64_t)cnt; i++) {
        zip_stat_t st;

        zip_stat_init(&st);
        if (zip_stat_index(z->za, i, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE)) {
            snprintf(z->detail, z->dlen, "%s entry %llu unreadable", z->what, (unsigned long long)i);
            return RUN_FAIL_CORRUPT;
        }
        total += st.size;
        if (st.size > z->limit || total > z->limit) {
            fail(z, "%s uncompressed size over limit", z->what);
            return RUN_FAIL_TOO_LARGE;
        }
    }
    return RUN_OK;
}

enum run_fail ozip_open(struct ozip *z, const void *p, size_t n, long max_uncompressed, const char *what,
                        char *detail, size_t dlen)
{
    zip_error_t ze;
    zip_source_t *src;

    ozip_init(z, max_uncompressed, what, detail, dlen);
    zip_error_init(&ze);
    src = zip_source_buffer_create(n ? p : "", n, 0, &ze);
    if (src && !(z->za = zip_open_from_source(src, ZIP_RDONLY, &ze)))
        zip_source_free(src);
    if (!z->za) {
        fail(z, "%s is not a valid zip: %s", what, src ? zip_error_strerror(&ze) : "out of memory");
        zip_error_fini(&ze);
        return src ? RUN_FAIL_CORRUPT : RUN_FAIL_INTERNAL;
    }
    zip_error_fini(&ze);
    return ozip_check(z);
}

enum run_fail ozip_open_file(struct ozip *z, const char *path, long max_uncompressed, const char *what,
                             char *detail, size_t dlen)
{
    zip_error_t ze;
    int err = 0;

    ozip_init(z, max_uncompressed, what, detail, dlen);
    z->za = zip_open(path, ZIP_RDONLY, &err);
    if (!z->za) {
        zip_error_init_with_code(&ze, err);
        fail(z, "%s is not a valid zip: %s", what, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return RUN_FAIL_CORRUPT;
    }
    return ozip_check(z);
}

enum run_fail ozip_extract(const char *p, size_t n, long max_uncompressed, const char *what, ozip_format_fn fn,
                           struct buf *out, char *detail, size_t dlen)
{
    struct ozip z;
    enum run_fail rc = ozip_open(&z, p, n, max_uncompressed, what, detail, dlen);

    if (rc == RUN_OK)
        rc = fn(&z, out);
    ozip_close(&z);
    if (rc != RUN_OK)
        buf_release(out);
    return rc;
}

void ozip_close(struct ozip *z)
{
    if (z->za)
        zip_discard(z->za);
    z->za = NULL;
}

int ozip_has(struct ozip *z, const char *name)
{
    return z->za && zip_name_locate(z->za, name, 0) >= 0;
}

/* Open part name for counted reading. RUN_OK or EXTRACT_FAILED. */
static enum run_fail zopen(struct ozip *z, const char *name, struct zread *r)
{
    zip_int64_t idx = zip_name_locate(z->za, name, 0);
    zip_stat_t st;

    memset(r, 0, sizeof(*r));
    r->z = z;
    if (idx < 0) {
        fail(z, "%s has no %s", z->what, name);
        return RUN_FAIL_CORRUPT;
    }
    zip_stat_init(&st);
    zip_stat_index(z->za, (zip_uint64_t)idx, 0, &st);
    r->zf = zip_fopen_index(z->za, (zip_uint64_t)idx, 0);
    if (!r->zf) {
        fail(z, "%s: cannot open %s", z->what, name);
        return RUN_FAIL_EXTRACT_FAILED;
    }
    r->cap = z->limit - z->used;
    if ((st.valid & ZIP_STAT_SIZE) && st.size < r->cap)
        r->cap = st.size;
    return RUN_OK;
}

static int zread_cb(void *ctx, char *dst, int len)
{
    struct zread *r = ctx;
    zip_int64_t got;

    if (r->over || r->failed)
        return -1;
    got = zip_fread(r->zf, dst, (zip_uint64_t)len);
    if (got < 0) {
        r->failed = 1;
        return -1;
    }
    r->got += (uint64_t)got;
    r->z->used += (uint64_t)got;
    if (r->got > r->cap) {
        r->over = 1;
        return -1;
    }
    return (int)got;
}

static int zclose_cb(void *ctx)
{
    (void)ctx;
    return 0;
}

/* The result of a part read: over the budget beats everything, then a corrupt stream. */
static enum run_fail zfinish(struct zread *r, const char *name, enum run_fail rc)
{
    if (r->zf)
        zip_fclose(r->zf);
    r->zf = NULL;
    if (r->over) {
        fail(r->z, "%s uncompressed size over limit", r->z->what);
        return RUN_FAIL_TOO_LARGE;
    }
    if (r->failed) {
        fail(r->z, "%s: corrupt %s stream", r->z->what, name);
        return RUN_FAIL_CORRUPT;
    }
    return rc;
}

enum run_fail ozip_read(struct ozip *z, const char *name, struct buf *out)
{
    struct zread r;
    char chunk[16384];
    enum run_fail rc = zopen(z, name, &r);
    int got;

    while (rc == RUN_OK && (got = zread_cb(&r, chunk, (int)sizeof(chunk))) > 0)
        rc = extract_put(out, chunk, (size_t)got);
    rc = zfinish(&r, name, rc);
    if (rc == RUN_FAIL_TOO_LARGE && r.got <= r.cap && !r.over)
        fail(z, "%s: %s over its size limit", z->what, name);
    else if (rc == RUN_FAIL_INTERNAL)
        fail(z, "out of memory");
    return rc;
}

static int declares_entities(xmlDocPtr doc)
{
    return doc->intSubset && doc->intSubset->entities;
}

enum run_fail ozip_doc(struct ozip *z, const char *name, xmlDocPtr *doc)
{
    struct buf b;
    enum run_fail rc;

    *doc = NULL;
    buf_init(&b, OZIP_SMALL_PART);
    rc = ozip_read(z, name, &b);
    if (rc == RUN_OK) {
        *doc = xmlReadMemory(b.ptr ? b.ptr : "", (int)b.len, name, NULL, XML_OPTS);
        if (!*doc || !xmlDocGetRootElement(*doc)) {
            fail(z, "%s: malformed %s", z->what, name);
            rc = RUN_FAIL_CORRUPT;
        } else if (declares_entities(*doc)) {
            fail(z, "%s: %s declares XML entities", z->what, name);
            rc = RUN_FAIL_UNSUPPORTED_TYPE;   /* permanent: the same bytes are refused again */
        }
    }
    if (rc != RUN_OK && *doc) {
        xmlFreeDoc(*doc);
        *doc = NULL;
    }
    buf_release(&b);
    return rc;
}

static void quiet_reader(void *arg, const char *msg, xmlParserSeverities sev, xmlTextReaderLocatorPtr loc)
{
    (void)arg;
    (void)msg;
    (void)sev;
    (void)loc;
}

void ozip_fail_detail(struct ozip *z, enum run_fail rc, const char *part)
{
    if (rc == RUN_FAIL_EXTRACT_FAILED || rc == RUN_FAIL_CORRUPT)
        fail(z, "%s: malformed %s", z->what, part);
    else if (rc == RUN_FAIL_TOO_LARGE)
        fail(z, "%s text over the limit", z->what);
    else if (rc == RUN_FAIL_INTERNAL)
        fail(z, "out of memory");
}

enum run_fail ozip_walk(struct ozip *z, const char *name, ozip_walk_fn fn, void *arg)
{
    struct zread r;
    xmlTextReaderPtr rd;
    enum run_fail rc = zopen(z, name, &r);

    if (rc != RUN_OK)
        return rc;
    rd = xmlReaderForIO(zread_cb, zclose_cb, &r, name, NULL, XML_OPTS);
    if (!rd) {
        zip_fclose(r.zf);
        fail(z, "out of memory");
        return RUN_FAIL_INTERNAL;
    }
    xmlTextReaderSetErrorHandler(rd, quiet_reader, NULL);
    if (z->dlen)
        z->detail[0] = '\0';
    rc = fn(rd, arg);
    xmlFreeTextReader(rd);
    if (rc != RUN_OK && !r.over && !r.failed && !z->detail[0])
        ozip_fail_detail(z, rc, name);
    return zfinish(&r, name, rc);
}

enum run_fail ozip_events(xmlTextReaderPtr r, ozip_event_fn fn, void *arg)
{
    enum run_fail rc = RUN_OK;
    int ret = xmlTextReaderRead(r);

    while (ret == 1 && rc == RUN_OK) {
        int type = xmlTextReaderNodeType(r), skip = 0;
        const char *name = NULL;

        if (type == XML_READER_TYPE_ELEMENT || type == XML_READER_TYPE_END_ELEMENT)
            name = (const char *)xmlTextReaderConstLocalName(r);
        rc = fn(r, type, name ? name : "", &skip, arg);
        if (rc == RUN_OK)
            ret = skip && type == XML_READER_TYPE_ELEMENT ? xmlTextReaderNext(r) : xmlTextReaderRead(r);
    }
    if (rc == RUN_OK && ret < 0)
        rc = RUN_FAIL_CORRUPT;
    return rc;
}

struct events {
    ozip_event_fn fn;
    void *arg;
};

static enum run_fail events_walk(xmlTextReaderPtr r, void *arg)
{
    struct events *e = arg;

    return ozip_events(r, e->fn, e->arg);
}

enum run_fail ozip_walk_events(struct ozip *z, const char *name, ozip_event_fn fn, void *arg)
{
    struct events e = {fn, arg};

    return ozip_walk(z, name, events_walk, &e);
}

const char *ozip_text(xmlTextReaderPtr r, int type)
{
    if (type != XML_READER_TYPE_TEXT && type != XML_READER_TYPE_CDATA &&
        type != XML_READER_TYPE_SIGNIFICANT_WHITESPACE && type != XML_READER_TYPE_WHITESPACE)
        return NULL;
    return (const char *)xmlTextReaderConstValue(r);
}

int ozip_is(const xmlNode *n, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, local) == 0;
}

xmlNode *ozip_child(xmlNode *n, const char *local)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (ozip_is(c, local))
            return c;
    return NULL;
}

void ozip_attr(xmlNode *n, const char *local, char *dst, size_t cap)
{
    dst[0] = '\0';
    for (xmlAttr *a = n ? n->properties : NULL; a; a = a->next) {
        if (a->name && strcmp((const char *)a->name, local) == 0) {
            xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);

            if (v)
                snprintf(dst, cap, "%s", (const char *)v);
            xmlFree(v);
            return;
        }
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Append segment s[0..n) to dst (len *o): "." skipped, ".." pops. 0 or -1. */
static int push_seg(char *dst, size_t cap, size_t *o, const char *s, size_t n)
{
    if (n == 0 || (n == 1 && s[0] == '.'))
        return 0;
    if (n == 2 && s[0] == '.' && s[1] == '.') {
        char *slash;

        if (*o == 0)
            return -1;
        dst[*o] = '\0';
        slash = strrchr(dst, '/');
        *o = slash ? (size_t)(slash - dst) : 0;
        dst[*o] = '\0';
        return 0;
    }
    if (*o + n + 2 > cap)
        return -1;
    if (*o)
        dst[(*o)++] = '/';
    for (size_t i = 0; i < n; i++) {
        int hi = s[i] == '%' && i + 2 < n ? hexval(s[i + 1]) : -1;
        int lo = hi >= 0 ? hexval(s[i + 2]) : -1;

        if (hi >= 0 && lo >= 0 && (hi || lo)) {
            dst[(*o)++] = (char)(hi * 16 + lo);
            i += 2;
        } else
            dst[(*o)++] = s[i];
    }
    dst[*o] = '\0';
    return 0;
}

/* Push every '/'-separated segment of s[0..n). */
static int push_path(char *dst, size_t cap, size_t *o, const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        const char *e = memchr(s + i, '/', n - i);
        size_t l = e ? (size_t)(e - (s + i)) : n - i;

        if (push_seg(dst, cap, o, s + i, l) < 0)
            return -1;
        i += l + 1;
    }
    return 0;
}

int ozip_resolve(const char *base, const char *target, char *dst, size_t cap)
{
    size_t o = 0, tl = strcspn(target, "#?");
    const char *slash = strrchr(base, '/');

    if (cap == 0)
        return -1;
    dst[0] = '\0';
    if (target[0] != '/' && slash && push_path(dst, cap, &o, base, (size_t)(slash - base)) < 0)
        return -1;
    if (push_path(dst, cap, &o, target, tl) < 0)
        return -1;
    return o ? 0 : -1;
}

enum run_fail ozip_rel_target(struct ozip *z, xmlDocPtr rels, const char *part, const char *id, char *dst,
                              size_t cap)
{
    char v[OZIP_NAME_MAX], t[OZIP_NAME_MAX];

    for (xmlNode *n = rels ? xmlDocGetRootElement(rels)->children : NULL; n; n = n->next) {
        if (!ozip_is(n, "Relationship"))
            continue;
        ozip_attr(n, "Id", v, sizeof(v));
        if (strcmp(v, id) != 0)
            continue;
        ozip_attr(n, "TargetMode", v, sizeof(v));
        ozip_attr(n, "Target", t, sizeof(t));
        if (strcmp(v, "External") != 0 && t[0] && ozip_resolve(part, t, dst, cap) == 0)
            return RUN_OK;
        break;
    }
    fail(z, "%s: relationship %s of %s not found", z->what, id, part);
    return RUN_FAIL_CORRUPT;
}

/* extract_meta(field) from the first child element named local. */
static void meta_from(xmlNode *parent, const char *local, const char *field)
{
    xmlNode *n = ozip_child(parent, local);
    xmlChar *v = n ? xmlNodeGetContent(n) : NULL;

    if (v)
        extract_meta(field, (const char *)v);
    xmlFree(v);
}

void ozip_meta(struct ozip *z, const char *part)
{
    xmlDocPtr doc = NULL;
    xmlNode *root;

    if (!extract_ctx_current() || !ozip_has(z, part))
        return;
    if (ozip_doc(z, part, &doc) != RUN_OK) {
        z->detail[0] = '\0';   /* metadata is optional: a bad part is not a failure */
        return;
    }
    root = xmlDocGetRootElement(doc);
    if (ozip_child(root, "meta"))
        root = ozip_child(root, "meta");   /* ODF: office:document-meta/office:meta */
    meta_from(root, "title", "title");
    meta_from(root, "initial-creator", "author");
    meta_from(root, "creator", "author");
    xmlFreeDoc(doc);
}
