/*
 * outline.c - parse the <outline> lists of `pdftohtml -xml` (outline.h).
 * poppler prints one list tag or item per line, the title escaped by its
 * HtmlFilter (&amp; &lt; &gt; &quot; &#39; ...), so a line walk is enough:
 * text elements of the page (<text ...>) never start with these tags.
 */
#include "worker/extract/outline.h"
#include "worker/extract/extract.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Append code point cp to dst (o bytes of cap used) as UTF-8; the new length. */
static size_t put_cp(char *dst, size_t o, size_t cap, uint32_t cp)
{
    unsigned char b[4];
    size_t n;

    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return o;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (o + n >= cap)
        return o;
    memcpy(dst + o, b, n);
    return o + n;
}

/* The entity at p (after '&', up to ';' before end): its code point, or 0 if unknown. */
static uint32_t entity(const char *p, const char *semi)
{
    static const struct { const char *name; uint32_t cp; } named[] = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", 0xA0},
    };
    size_t n = (size_t)(semi - p);
    char num[16];
    char *end;
    unsigned long v;

    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (strlen(named[i].name) == n && memcmp(named[i].name, p, n) == 0)
            return named[i].cp;
    if (n < 2 || n >= sizeof(num) || p[0] != '#')
        return 0;
    memcpy(num, p + 1, n - 1);
    num[n - 1] = '\0';
    v = (num[0] == 'x' || num[0] == 'X') ? strtoul(num + 1, &end, 16) : strtoul(num, &end, 10);
    return *end || end == num || v > 0x10FFFF ? 0 : (uint32_t)v;
}

/* Unescape p[0..n) into dst (cap bytes, NUL-terminated, cut when full). */
static void unescape(const char *p, size_t n, char *dst, size_t cap)
{
    size_t i = 0, o = 0;

    while (i < n) {
        const char *semi = p[i] == '&' ? memchr(p + i, ';', n - i < 12 ? n - i : 12) : NULL;

        if (semi) {
            o = put_cp(dst, o, cap, entity(p + i + 1, semi));
            i = (size_t)(semi - p) + 1;
        } else {
            if (o + 1 < cap)
                dst[o++] = p[i];
            i++;
        }
    }
    dst[o] = '\0';
}

/* An item line l[0..n): its page and title into fn. 1 reported, 0 skipped, -1 stop. */
static int item(const char *l, size_t n, int level, outline_item_fn fn, void *arg)
{
    static const char open[] = "<item page=\"", close[] = "</item>";
    char title[EXTRACT_OUTLINE_TITLE_MAX * 2];
    const char *q, *t;
    long page = 0;
    size_t k;

    if (n < sizeof(open) - 1 + sizeof(close) || memcmp(l, open, sizeof(open) - 1) != 0 ||
        memcmp(l + n - (sizeof(close) - 1), close, sizeof(close) - 1) != 0)
        return 0;
    for (q = l + sizeof(open) - 1; q < l + n && *q >= '0' && *q <= '9' && page < 100000000; q++)
        page = page * 10 + (*q - '0');
    if (q + 2 > l + n || q[0] != '"' || q[1] != '>' || page < 1)
        return 0;
    t = q + 2;
    unescape(t, (size_t)(l + n - (sizeof(close) - 1) - t), title, sizeof(title));
    k = strlen(title);
    if (k >= EXTRACT_OUTLINE_TITLE_MAX) {   /* cut at a character boundary below the entry limit */
        k = EXTRACT_OUTLINE_TITLE_MAX - 1;
        while (k > 0 && ((unsigned char)title[k] & 0xC0) == 0x80)
            k--;
        title[k] = '\0';
    }
    return fn(arg, level, page, title) != 0 ? -1 : 1;
}

int extract_outline_parse(const char *xml, size_t n, outline_item_fn fn, void *arg)
{
    size_t i = 0;
    int depth = 0, count = 0;

    while (i < n) {
        const char *nl = memchr(xml + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - xml) : n, a = i, len;
        int rc = 0;

        while (a < e && (xml[a] == ' ' || xml[a] == '\t'))
            a++;
        len = e - a;
        while (len && (xml[a + len - 1] == '\r' || xml[a + len - 1] == ' '))
            len--;
        if (len == 9 && memcmp(xml + a, "<outline>", 9) == 0)
            depth++;
        else if (len == 10 && memcmp(xml + a, "</outline>", 10) == 0 && depth > 0)
            depth--;
        else if (depth >= 1 && depth <= EXTRACT_OUTLINE_DEPTH)
            rc = item(xml + a, len, depth, fn, arg);
        if (rc < 0)
            return -1;
        count += rc;
        i = e + 1;
    }
    return count;
}
