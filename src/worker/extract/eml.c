/*
 * eml.c - e-mail text with GMime (eml.h): parse, check the parts' sizes,
 * then headers and the preferred text parts.
 */
#include "worker/extract/eml.h"
#include "worker/extract/ctx.h"
#include "worker/extract/extract.h"
#include "worker/extract/html.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct walk {
    struct buf *out;
    int want_html;        /* 0: collect text/plain parts, 1: text/html */
    long parts, found;
    gint64 biggest;
    enum run_fail rc;
    char *detail;
    size_t dlen;
};

/* "multipart/" in the raw bytes, case-insensitively: a bound on nesting GMime would recurse into. */
static long count_multiparts(const char *p, size_t n)
{
    long c = 0;

    for (size_t i = 0; i + 10 <= n && c <= EML_MAX_MULTIPARTS; i++)
        if ((p[i] | 0x20) == 'm' && strncasecmp(p + i, "multipart/", 10) == 0)
            c++;
    return c;
}

static gint64 part_size(GMimePart *part)
{
    GMimeDataWrapper *content = g_mime_part_get_content(part);
    GMimeStream *s = content ? g_mime_data_wrapper_get_stream(content) : NULL;

    return s ? g_mime_stream_length(s) : 0;
}

/* First pass (g_mime_message_foreach): count the parts, find the biggest. */
static void measure(GMimeObject *parent, GMimeObject *part, gpointer arg)
{
    struct walk *w = arg;
    gint64 sz;

    (void)parent;
    w->parts++;
    if (GMIME_IS_PART(part) && (sz = part_size((GMimePart *)part)) > w->biggest)
        w->biggest = sz;
}

static void collect(GMimeObject *parent, GMimeObject *part, gpointer arg)
{
    struct walk *w = arg;
    GMimeContentType *ct;
    char *text;

    (void)parent;
    if (w->rc != RUN_OK || !GMIME_IS_TEXT_PART(part) || g_mime_part_is_attachment((GMimePart *)part))
        return;
    ct = g_mime_object_get_content_type(part);
    if (!g_mime_content_type_is_type(ct, "text", w->want_html ? "html" : "plain"))
        return;
    text = g_mime_text_part_get_text((GMimeTextPart *)part);
    if (!text)
        return;
    w->found++;
    if (w->want_html)
        w->rc = extract_html_buffer(text, strlen(text), w->out, w->detail, w->dlen);
    else
        w->rc = extract_put(w->out, text, strlen(text));
    if (w->rc == RUN_OK)
        w->rc = extract_put(w->out, "\n\n", 2);
    g_free(text);
}

/* "Name: value" lines for the headers a reader sees first. */
static enum run_fail headers(GMimeMessage *msg, struct buf *out)
{
    static const char *const names[] = {"From", "To", "Cc", "Subject", "Date", NULL};
    enum run_fail rc = RUN_OK;

    for (int i = 0; names[i] && rc == RUN_OK; i++) {
        const char *raw = g_mime_object_get_header((GMimeObject *)msg, names[i]);
        char *v = raw ? g_mime_utils_header_decode_text(NULL, raw) : NULL;

        if (v && v[0] && (rc = extract_put(out, names[i], strlen(names[i]))) == RUN_OK &&
            (rc = extract_put(out, ": ", 2)) == RUN_OK && (rc = extract_put(out, v, strlen(v))) == RUN_OK)
            rc = extract_put(out, "\n", 1);
        if (v && i == 0)
            extract_meta("author", v);
        if (v && i == 3)
            extract_meta("title", v);
        g_free(v);
    }
    return rc == RUN_OK ? extract_put(out, "\n", 1) : rc;
}

/* Check the bounds, then headers and text. */
static enum run_fail message_text(GMimeMessage *msg, struct walk *w)
{
    g_mime_message_foreach(msg, measure, w);
    if (w->parts > EML_MAX_PARTS) {
        snprintf(w->detail, w->dlen, "eml over %d parts", EML_MAX_PARTS);
        return RUN_FAIL_TOO_LARGE;
    }
    if (w->biggest > EML_MAX_PART || (!w->parts && GMIME_IS_PART(msg->mime_part) &&
                                      part_size((GMimePart *)msg->mime_part) > EML_MAX_PART)) {
        snprintf(w->detail, w->dlen, "eml part of %lld bytes over the %ld byte limit", (long long)w->biggest,
                 EML_MAX_PART);
        return RUN_FAIL_TOO_LARGE;
    }
    w->rc = headers(msg, w->out);
    if (w->rc == RUN_OK && msg->mime_part) {
        if (GMIME_IS_MULTIPART(msg->mime_part))
            g_mime_message_foreach(msg, collect, w);
        else
            collect(NULL, msg->mime_part, w);
        if (w->rc == RUN_OK && !w->found) {
            w->want_html = 1;
            if (GMIME_IS_MULTIPART(msg->mime_part))
                g_mime_message_foreach(msg, collect, w);
            else
                collect(NULL, msg->mime_part, w);
        }
    }
    return w->rc;
}

enum run_fail extract_eml_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                 size_t detail_len)
{
    static int ready;
    struct walk w = {out, 0, 0, 0, 0, RUN_OK, detail, detail_len};
    GMimeStream *s;
    GMimeParser *parser;
    GMimeMessage *msg;
    enum run_fail rc;

    (void)max_uncompressed;
    if (count_multiparts(p, n) > EML_MAX_MULTIPARTS) {
        snprintf(detail, detail_len, "eml over %d multiparts", EML_MAX_MULTIPARTS);
        return RUN_FAIL_TOO_LARGE;
    }
    if (!ready++)
        g_mime_init();
    s = g_mime_stream_mem_new_with_buffer(p, n);
    parser = g_mime_parser_new_with_stream(s);
    msg = g_mime_parser_construct_message(parser, NULL);
    if (!msg) {
        snprintf(detail, detail_len, "eml: not a MIME message");
        rc = RUN_FAIL_EXTRACT_FAILED;
    } else
        rc = message_text(msg, &w);
    if (rc != RUN_OK && !detail[0])
        snprintf(detail, detail_len, rc == RUN_FAIL_TOO_LARGE ? "eml text over the limit" : "out of memory");
    if (msg)
        g_object_unref(msg);
    g_object_unref(parser);
    g_object_unref(s);
    return rc;
}
