/*
 * html.c - HTML to text (html.h): libxml2 builds the tree, an iterative walk
 * turns elements into breaks and text nodes into collapsed text.
 */
#include "worker/extract/html.h"
#include "common/charset.h"
#include "common/errors.h"
#include "common/utf8.h"
#include "worker/extract/extract.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum brk { BRK_NONE, BRK_SPACE, BRK_LINE, BRK_PARA };

struct html_out {
    struct buf *out;
    int pending;    /* enum brk owed before the next text */
    int pre;        /* depth of <pre>/<textarea> */
    enum run_fail rc;   /* RUN_OK while fine */
};

static const char *const skip_tags[] = {
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math",
    "canvas", "select", NULL,
};
static const char *const para_tags[] = {
    "address", "article", "aside", "blockquote", "body", "caption", "center", "details",
    "dialog", "dir", "div", "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "main", "menu", "nav", "ol",
    "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "title", "ul",
    "legend", "textarea", NULL,
};
static const char *const line_tags[] = { "br", "li", "tr", "dt", "dd", "option", NULL };
static const char *const cell_tags[] = { "td", "th", NULL };

static int in_list(const xmlChar *name, const char *const *list)
{
    size_t i;

    for (i = 0; list[i]; i++)
        if (strcasecmp((const char *)name, list[i]) == 0)
            return 1;
    return 0;
}

static void put(struct html_out *h, const char *p, size_t n)
{
    if (h->rc == RUN_OK && n)
        h->rc = extract_put(h->out, p, n);
}

static void flush_break(struct html_out *h)
{
    if (h->out->len) {
        if (h->pending == BRK_SPACE)
            put(h, " ", 1);
        else if (h->pending == BRK_LINE)
            put(h, "\n", 1);
        else if (h->pending == BRK_PARA)
            put(h, "\n\n", 2);
    }
    h->pending = BRK_NONE;
}

static void want(struct html_out *h, int brk)
{
    if (brk > h->pending)
        h->pending = brk;
}

static void text(struct html_out *h, const unsigned char *s)
{
    size_t i = 0, run;

    while (s[i] && h->rc == RUN_OK) {
        if (h->pre) {
            if (s[i] == '\n') {
                want(h, BRK_LINE);
                flush_break(h);
                i++;
                continue;
            }
        } else if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f') {
            want(h, BRK_SPACE);
            i++;
            continue;
        } else if (s[i] == 0xC2 && s[i + 1] == 0xA0) {   /* no-break space */
            want(h, BRK_SPACE);
            i += 2;
            continue;
        }
        run = i;
        while (s[run] && s[run] != ' ' && s[run] != '\t' && s[run] != '\n' && s[run] != '\r' &&
               s[run] != '\f' && !(s[run] == 0xC2 && s[run + 1] == 0xA0))
            run++;
        if (run == i)
            run = i + 1;   /* a blank inside <pre>: kept as is */
        flush_break(h);
        put(h, (const char *)s + i, run - i);
        i = run;
    }
}

/* The break an element asks for before and after its content. */
static void element_break(struct html_out *h, const xmlNode *n)
{
    if (in_list(n->name, para_tags))
        want(h, BRK_PARA);
    else if (in_list(n->name, line_tags))
        want(h, BRK_LINE);
    else if (in_list(n->name, cell_tags))
        want(h, BRK_SPACE);
}

/* <pre> and <textarea> keep their whitespace. */
static int keeps_space(const xmlNode *n)
{
    return strcasecmp((const char *)n->name, "pre") == 0 || strcasecmp((const char *)n->name, "textarea") == 0;
}

/* h1..h4: 1..4, else 0. */
static int heading_level(const xmlNode *n)
{
    const char *name = (const char *)n->name;

    if (!name || (name[0] != 'h' && name[0] != 'H') || name[1] < '1' || name[1] > '4' || name[2])
        return 0;
    return name[1] - '0';
}

/*
 * A heading starts its own paragraph with EXTRACT_HEADING_MARK and its level
 * ('1'..'4'): worker/structure.c turns those lines into heading paths and
 * removes the markers (a "#" would be ambiguous: "# apt update" in a <pre>).
 */
static void open_el(struct html_out *h, xmlNode *n)
{
    int level = heading_level(n);

    element_break(h, n);
    if (level && !h->pre) {
        flush_break(h);
        char lv = (char)('0' + level);

        put(h, EXTRACT_HEADING_MARK, sizeof(EXTRACT_HEADING_MARK) - 1);
        put(h, &lv, 1);
    }
    if (keeps_space(n))
        h->pre++;
}

static void close_el(struct html_out *h, xmlNode *n)
{
    element_break(h, n);
    if (keeps_space(n) && h->pre > 0)
        h->pre--;
}

static int skipped(xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE && n->name && in_list(n->name, skip_tags);
}

/*
 * The charset libxml2 is told: UTF-8 when the bytes are UTF-8 (without a
 * declaration libxml2 would guess Latin-1), else the one the document declares
 * (sniff_mime() accepted it for that charset; libxml2's HTML parser ignores an
 * XML declaration's and a <meta> after the first non-ASCII byte), else NULL:
 * libxml2's own guess.
 */
static const char *html_charset(const char *p, size_t n, char *name, size_t len)
{
    if (utf8_valid(p, n))
        return "UTF-8";
    if (charset_declared((const unsigned char *)p, n, name, len) != CHARSET_NONE && charset_supported(name))
        return name;
    return NULL;
}

enum run_fail extract_html_buffer(const char *p, size_t n, struct buf *out, char *detail, size_t detail_len)
{
    struct html_out h;
    htmlDocPtr doc;
    xmlNode *cur;
    char charset[CHARSET_NAME_MAX];
    int opts = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER;

    if (n > INT_MAX) {
        snprintf(detail, detail_len, "html over 2 GiB");
        return RUN_FAIL_TOO_LARGE;
    }
    doc = htmlReadMemory(p, (int)n, NULL, html_charset(p, n, charset, sizeof(charset)), opts);
    if (!doc) {
        if (n == 0)
            return RUN_OK;
        snprintf(detail, detail_len, "html could not be parsed");
        return RUN_FAIL_EXTRACT_FAILED;
    }
    memset(&h, 0, sizeof(h));
    h.out = out;
    h.rc = RUN_OK;

    /* iterative walk: deep nesting must not exhaust the stack */
    cur = doc->children;
    while (cur && h.rc == RUN_OK) {
        int descend = 0;

        if (cur->type == XML_ELEMENT_NODE && !skipped(cur)) {
            open_el(&h, cur);
            if (cur->children)
                descend = 1;
            else
                close_el(&h, cur);
        } else if ((cur->type == XML_TEXT_NODE || cur->type == XML_CDATA_SECTION_NODE) &&
                   cur->content) {
            text(&h, cur->content);
        }
        if (descend) {
            cur = cur->children;
            continue;
        }
        while (cur && !cur->next) {
            cur = cur->parent;
            if (!cur || cur->type == XML_HTML_DOCUMENT_NODE || cur->type == XML_DOCUMENT_NODE) {
                cur = NULL;
                break;
            }
            if (cur->type == XML_ELEMENT_NODE)
                close_el(&h, cur);
        }
        if (cur)
            cur = cur->next;
    }
    xmlFreeDoc(doc);
    if (h.rc == RUN_FAIL_TOO_LARGE)
        snprintf(detail, detail_len, "html text over the limit");
    else if (h.rc == RUN_FAIL_INTERNAL)
        snprintf(detail, detail_len, "out of memory");
    return h.rc;
}
