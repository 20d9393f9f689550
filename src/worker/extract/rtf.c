/*
 * rtf.c - RTF to text (rtf.h): one pass, a stack of group states.
 */
#include "worker/extract/rtf.h"
#include "common/utf8.h"
#include "worker/extract/ctx.h"
#include "worker/extract/extract.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { META_NONE, META_TITLE, META_AUTHOR };

struct group {
    unsigned char skip;   /* a dropped destination */
    unsigned char meta;   /* collecting \title or \author */
    unsigned char uc;     /* fallback characters after \uN */
};

struct rtf {
    const char *p;
    size_t n, i;
    struct buf *out;
    struct group g[RTF_MAX_DEPTH + 1];
    int depth;
    int pending_skip;     /* fallback characters still to skip after \uN */
    char meta[512];
    size_t meta_len;
    size_t page_mark;     /* extract_page_break()'s mark */
};

static const char *const dropped[] = {
    "fonttbl", "colortbl", "stylesheet", "listtable", "listoverridetable", "pict", "object", "themedata",
    "colorschememapping", "datastore", "latentstyles", "xmlnstbl", "rsidtbl", "generator", "filetbl",
    "revtbl", "pgdsctbl", "fldinst", "private", "nonshppict", "shppict", "blipuid", "info", NULL,
};

/* Windows-1252's 0x80..0x9F; the rest of the high half is Latin-1. */
static const unsigned short cp1252[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152,
    0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122,
    0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

/* One character of text (a code point below 0x10000) to the output or the metadata being collected. */
static enum run_fail put_cp(struct rtf *r, unsigned long cp)
{
    struct group *g = &r->g[r->depth];
    char o[4];
    size_t l;

    if (r->pending_skip > 0) {
        r->pending_skip--;
        return RUN_OK;
    }
    if (g->skip && !g->meta)
        return RUN_OK;
    l = utf8_encode((uint32_t)cp, o);
    if (g->meta) {
        if (r->meta_len + l < sizeof(r->meta)) {
            memcpy(r->meta + r->meta_len, o, l);
            r->meta_len += l;
        }
        return RUN_OK;
    }
    return extract_put(r->out, o, l);
}

static enum run_fail put_byte(struct rtf *r, unsigned char c)
{
    return put_cp(r, c >= 0x80 && c < 0xA0 ? cp1252[c - 0x80] : c);
}

static enum run_fail put_str(struct rtf *r, const char *s)
{
    struct group *g = &r->g[r->depth];

    if (g->skip || r->depth == 0)
        return RUN_OK;
    r->pending_skip = 0;
    return extract_put(r->out, s, strlen(s));
}

static int is_dropped(const char *w)
{
    for (int i = 0; dropped[i]; i++)
        if (strcmp(w, dropped[i]) == 0)
            return 1;
    return 0;
}

/* Control words that are text. 1 when handled. */
static int word_text(struct rtf *r, const char *w, enum run_fail *rc)
{
    static const struct {
        const char *word, *text;
    } map[] = {
        {"par", "\n\n"}, {"line", "\n"}, {"sect", "\n\n"}, {"tab", "\t"}, {"cell", " | "},
        {"row", "\n"}, {"emdash", "\xE2\x80\x94"}, {"endash", "\xE2\x80\x93"}, {"bullet", "\xE2\x80\xA2"},
        {"lquote", "\xE2\x80\x98"}, {"rquote", "\xE2\x80\x99"}, {"ldblquote", "\xE2\x80\x9C"},
        {"rdblquote", "\xE2\x80\x9D"}, {"emspace", " "}, {"enspace", " "}, {"qmspace", " "},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(w, map[i].word) == 0) {
            *rc = put_str(r, map[i].text);
            return 1;
        }
    return 0;
}

/* A control word and its parameter. */
static enum run_fail control_word(struct rtf *r, const char *w, int has_n, long num)
{
    struct group *g = &r->g[r->depth];
    enum run_fail rc = RUN_OK;

    if (strcmp(w, "u") == 0 && has_n) {
        rc = put_cp(r, (unsigned long)(num < 0 ? num + 65536 : num) & 0xFFFF);
        r->pending_skip = g->uc;
    } else if (strcmp(w, "uc") == 0 && has_n)
        g->uc = (unsigned char)(num < 0 ? 0 : num > 8 ? 8 : num);
    else if (strcmp(w, "bin") == 0 && has_n && num > 0)
        r->i += (size_t)num < r->n - r->i ? (size_t)num : r->n - r->i;
    else if (strcmp(w, "title") == 0 || strcmp(w, "author") == 0) {
        g->meta = w[0] == 't' ? META_TITLE : META_AUTHOR;
        g->skip = 1;
        r->meta_len = 0;
    } else if (is_dropped(w))
        g->skip = 1;
    else if ((strcmp(w, "page") == 0 || strcmp(w, "pagebb") == 0) && !g->skip && r->depth > 0)
        rc = extract_page_break(r->out, &r->page_mark);   /* a new page (\pagebb: before this paragraph) */
    else
        word_text(r, w, &rc);
    return rc;
}

/* After a backslash: a control word (letters, an optional signed number, an
 * optional space), a hex byte \'hh, or a control symbol. */
static enum run_fail control(struct rtf *r)
{
    char w[33];
    size_t l = 0;
    long num = 0;
    int has_n = 0, neg = 0, digits = 0;
    unsigned char c = r->i < r->n ? (unsigned char)r->p[r->i] : 0;

    if (!isalpha(c)) {
        r->i++;
        if (c == '\'' && r->i + 2 <= r->n && isxdigit((unsigned char)r->p[r->i]) &&
            isxdigit((unsigned char)r->p[r->i + 1])) {
            char hex[3] = {r->p[r->i], r->p[r->i + 1], 0};

            r->i += 2;
            return put_byte(r, (unsigned char)strtoul(hex, NULL, 16));
        }
        if (c == '\\' || c == '{' || c == '}')
            return put_byte(r, c);
        if (c == '~')
            return put_byte(r, ' ');
        if (c == '_')
            return put_byte(r, '-');
        return c == '\n' || c == '\r' ? put_str(r, "\n\n") : RUN_OK;
    }
    while (r->i < r->n && isalpha((unsigned char)r->p[r->i]) && l < sizeof(w) - 1)
        w[l++] = r->p[r->i++];
    w[l] = '\0';
    if (r->i < r->n && r->p[r->i] == '-' && r->i + 1 < r->n && isdigit((unsigned char)r->p[r->i + 1]))
        neg = 1, r->i++;
    while (r->i < r->n && isdigit((unsigned char)r->p[r->i]) && digits++ < 10)
        num = num * 10 + (r->p[r->i++] - '0'), has_n = 1;
    if (r->i < r->n && r->p[r->i] == ' ')
        r->i++;
    return control_word(r, w, has_n, neg ? -num : num);
}

static enum run_fail group_open(struct rtf *r)
{
    if (r->depth >= RTF_MAX_DEPTH)
        return RUN_FAIL_EXTRACT_FAILED;
    r->g[r->depth + 1] = r->g[r->depth];
    r->depth++;
    r->g[r->depth].meta = META_NONE;
    /* {\* ...}: a destination this reader need not know; dropped */
    if (r->i + 1 < r->n && r->p[r->i] == '\\' && r->p[r->i + 1] == '*')
        r->g[r->depth].skip = 1;
    return RUN_OK;
}

static void group_close(struct rtf *r)
{
    struct group *g = &r->g[r->depth];

    if (r->depth == 0)
        return;
    if (g->meta && !r->g[r->depth - 1].meta) {
        r->meta[r->meta_len] = '\0';
        extract_meta(g->meta == META_TITLE ? "title" : "author", r->meta);
        r->meta_len = 0;
    }
    r->depth--;
    r->pending_skip = 0;
}

enum run_fail extract_rtf_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                 size_t detail_len)
{
    struct rtf *r;
    enum run_fail rc = RUN_OK;

    (void)max_uncompressed;
    if (n < 5 || memcmp(p, "{\\rtf", 5) != 0) {
        snprintf(detail, detail_len, "rtf: not an RTF document");
        return RUN_FAIL_EXTRACT_FAILED;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(detail, detail_len, "out of memory");
        return RUN_FAIL_INTERNAL;
    }
    r->p = p;
    r->n = n;
    r->out = out;
    r->g[0].uc = 1;
    while (r->i < n && rc == RUN_OK) {
        char c = p[r->i++];

        if (c == '{')
            rc = group_open(r);
        else if (c == '}')
            group_close(r);
        else if (c == '\\')
            rc = control(r);
        else if (c != '\r' && c != '\n' && r->depth > 0)
            rc = put_byte(r, (unsigned char)c);
    }
    free(r);
    if (rc == RUN_FAIL_EXTRACT_FAILED)
        snprintf(detail, detail_len, "rtf: groups nested over %d deep", RTF_MAX_DEPTH);
    else if (rc != RUN_OK)
        snprintf(detail, detail_len, rc == RUN_FAIL_TOO_LARGE ? "rtf text over the limit" : "out of memory");
    return rc;
}
