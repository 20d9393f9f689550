/*
 * charset.c - declared charsets and decoding (charset.h): a byte order mark,
 * the XML declaration, then a simplified form of HTML's <meta> prescan; iconv
 * for support checks and decoding.
 */
#include "common/charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* One attribute of a tag; val NULL when it has no "=". */
struct attr {
    const unsigned char *name, *val;
    size_t nlen, vlen;
};

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static const unsigned char *skip_space(const unsigned char *p, const unsigned char *end)
{
    while (p < end && is_space(*p))
        p++;
    return p;
}

static int ci_prefix(const unsigned char *p, const unsigned char *end, const char *word)
{
    size_t m = strlen(word);

    return (size_t)(end - p) >= m && strncasecmp((const char *)p, word, m) == 0;
}

static int ci_equal(const unsigned char *p, size_t n, const char *word)
{
    return p && n == strlen(word) && strncasecmp((const char *)p, word, n) == 0;
}

/* The first place word (any case) starts in p[0..end), or NULL. */
static const unsigned char *ci_find(const unsigned char *p, const unsigned char *end, const char *word)
{
    for (; p < end; p++)
        if (ci_prefix(p, end, word))
            return p;
    return NULL;
}

/* 1 if s (NUL-terminated) is a label we hand to iconv: 1..40 bytes of [A-Za-z0-9-_.:()]. */
static int label_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n >= CHARSET_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_alpha((unsigned char)s[i]) && !(s[i] >= '0' && s[i] <= '9') && !strchr("-_.:()", s[i]))
            return 0;
    return 1;
}

/* The label p[0..n), blanks around it trimmed, into out: 0, or -1 (out "") when it is not acceptable. */
static int take_label(const unsigned char *p, size_t n, char *out, size_t outlen)
{
    out[0] = '\0';
    while (n && is_space(*p)) {
        p++;
        n--;
    }
    while (n && is_space(p[n - 1]))
        n--;
    if (n == 0 || n >= CHARSET_NAME_MAX || n >= outlen)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    if (!label_ok(out)) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/*
 * Read one attribute at *pp, HTML's "get an attribute" simplified: 1 with a
 * filled, or 0 at the tag's '>' or the end. Always moves on, so a caller's
 * loop ends within the bytes.
 */
static int next_attr(const unsigned char **pp, const unsigned char *end, struct attr *a)
{
    const unsigned char *p = *pp;

    memset(a, 0, sizeof(*a));
    while (p < end && (is_space(*p) || *p == '/'))
        p++;
    if (p >= end || *p == '>') {
        *pp = p;
        return 0;
    }
    a->name = p;
    while (p < end && !is_space(*p) && *p != '/' && *p != '>' && *p != '=')
        p++;
    a->nlen = (size_t)(p - a->name);
    p = skip_space(p, end);
    if (p < end && *p == '=') {
        p = skip_space(p + 1, end);
        if (p < end && (*p == '"' || *p == '\'')) {
            unsigned char q = *p++;

            a->val = p;
            while (p < end && *p != q)
                p++;
            a->vlen = (size_t)(p - a->val);
            if (p >= end) {   /* cut by the end: no attribute */
                *pp = end;
                return 0;
            }
            p++;
        } else {
            a->val = p;
            while (p < end && !is_space(*p) && *p != '>')
                p++;
            a->vlen = (size_t)(p - a->val);
        }
    }
    *pp = p;
    return 1;
}

/* HTML's "extract a character encoding from a meta element" on a content value: 0 with out, or -1. */
static int content_charset(const unsigned char *p, size_t n, char *out, size_t outlen)
{
    const unsigned char *end = p + n;

    while (p < end) {
        const unsigned char *q = ci_find(p, end, "charset");

        if (!q)
            return -1;
        p = skip_space(q + 7, end);
        if (p >= end || *p != '=')
            continue;
        p = skip_space(p + 1, end);
        if (p < end && (*p == '"' || *p == '\'')) {
            const unsigned char *close = memchr(p + 1, *p, (size_t)(end - p - 1));

            return close ? take_label(p + 1, (size_t)(close - p - 1), out, outlen) : -1;
        }
        q = p;
        while (q < end && !is_space(*q) && *q != ';')
            q++;
        return take_label(p, (size_t)(q - p), out, outlen);
    }
    return -1;
}

/* After "<meta": the charset it declares into out (0), or -1; *pp moves past the tag. */
static int meta_charset(const unsigned char **pp, const unsigned char *end, char *out, size_t outlen)
{
    struct attr a, charset = {0}, content = {0};
    int http_equiv = 0;

    while (next_attr(pp, end, &a)) {
        if (ci_equal(a.name, a.nlen, "charset") && !charset.name)
            charset = a;
        else if (ci_equal(a.name, a.nlen, "http-equiv"))
            http_equiv = http_equiv || ci_equal(a.val, a.vlen, "content-type");
        else if (ci_equal(a.name, a.nlen, "content") && !content.name)
            content = a;
    }
    if (*pp < end)
        (*pp)++;    /* the '>' */
    if (charset.name)
        return charset.val ? take_label(charset.val, charset.vlen, out, outlen) : -1;
    if (http_equiv && content.val)
        return content_charset(content.val, content.vlen, out, outlen);
    return -1;
}

/* <?xml ... encoding="X" ...?> at p: 0 with out, or -1. */
static int xml_encoding(const unsigned char *p, const unsigned char *end, char *out, size_t outlen)
{
    const unsigned char *close, *q;

    if ((size_t)(end - p) < 6 || memcmp(p, "<?xml", 5) != 0 || !is_space(p[5]))
        return -1;
    close = memmem(p, (size_t)(end - p), "?>", 2);
    q = close ? memmem(p, (size_t)(close - p), "encoding", 8) : NULL;
    if (!q)
        return -1;
    q = skip_space(q + 8, close);
    if (q >= close || *q != '=')
        return -1;
    q = skip_space(q + 1, close);
    if (q >= close || (*q != '"' && *q != '\''))
        return -1;
    p = memchr(q + 1, *q, (size_t)(close - q - 1));
    return p ? take_label(q + 1, (size_t)(p - q - 1), out, outlen) : -1;
}

/* Skip a tag that is not <meta> at p ('<' then a letter, or "</" then a letter): past its '>'. */
static const unsigned char *skip_tag(const unsigned char *p, const unsigned char *end)
{
    struct attr a;

    p += p[1] == '/' ? 2 : 1;
    while (p < end && !is_space(*p) && *p != '>')
        p++;
    while (next_attr(&p, end, &a))
        ;
    return p < end ? p + 1 : end;
}

/* The <meta> prescan over p[0..end): CHARSET_META with out, or CHARSET_NONE. */
static enum charset_source prescan(const unsigned char *p, const unsigned char *end, char *out, size_t outlen)
{
    while (p < end) {
        const unsigned char *lt = memchr(p, '<', (size_t)(end - p)), *q;

        if (!lt || lt + 1 >= end)
            break;
        p = lt;
        if (ci_prefix(p, end, "<!--")) {
            q = memmem(p + 2, (size_t)(end - p - 2), "-->", 3);
            p = q ? q + 3 : end;
        } else if (ci_prefix(p, end, "<meta") && p + 5 < end && (is_space(p[5]) || p[5] == '/')) {
            p += 5;
            if (meta_charset(&p, end, out, outlen) == 0)
                return CHARSET_META;
        } else if (is_alpha(p[1]) || (p[1] == '/' && p + 2 < end && is_alpha(p[2]))) {
            p = skip_tag(p, end);
        } else if (p[1] == '!' || p[1] == '/' || p[1] == '?') {
            q = memchr(p, '>', (size_t)(end - p));
            p = q ? q + 1 : end;
        } else {
            p++;
        }
    }
    out[0] = '\0';
    return CHARSET_NONE;
}

enum charset_source charset_declared(const unsigned char *p, size_t n, char *out, size_t outlen)
{
    const unsigned char *end;
    static const struct {
        const char *bom;
        size_t len;
        const char *name;
    } boms[] = {{"\xEF\xBB\xBF", 3, "UTF-8"}, {"\xFF\xFE", 2, "UTF-16LE"}, {"\xFE\xFF", 2, "UTF-16BE"}};

    if (!out || outlen < CHARSET_NAME_MAX)
        return CHARSET_NONE;
    out[0] = '\0';
    if (!p)
        return CHARSET_NONE;
    if (n > CHARSET_SCAN_MAX)
        n = CHARSET_SCAN_MAX;
    end = p + n;
    for (size_t i = 0; i < sizeof(boms) / sizeof(boms[0]); i++)
        if (n >= boms[i].len && memcmp(p, boms[i].bom, boms[i].len) == 0) {
            memcpy(out, boms[i].name, strlen(boms[i].name) + 1);
            return CHARSET_BOM;
        }
    if (xml_encoding(skip_space(p, end), end, out, outlen) == 0)
        return CHARSET_XML;
    return prescan(p, end, out, outlen);
}

int charset_supported(const char *name)
{
    iconv_t cd;

    if (!label_ok(name))
        return 0;
    cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1)
        return 0;
    iconv_close(cd);
    cd = iconv_open(name, "UTF-8");
    if (cd == (iconv_t)-1)
        return 0;
    iconv_close(cd);
    return 1;
}

int charset_ascii_compatible(const char *name)
{
    /* what a declaration is read with: letters, digits, blanks and the markup's punctuation */
    static const char probe[] = "\t\n\r !\"'-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
                                "abcdefghijklmnopqrstuvwxyz";
    char out[4 * sizeof(probe)];
    size_t len = 0;

    if (charset_to_utf8(name, (const unsigned char *)probe, sizeof(probe) - 1, out, sizeof(out), &len) != 0)
        return 0;
    return len == sizeof(probe) - 1 && memcmp(out, probe, len) == 0;
}

int charset_to_utf8(const char *name, const unsigned char *p, size_t n, char *out, size_t outlen, size_t *outn)
{
    iconv_t cd;
    char *in = (char *)(uintptr_t)p, *o = out;
    size_t inleft = n, outleft = outlen;
    int rc = 0;

    *outn = 0;
    if (!label_ok(name))
        return -1;
    cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1)
        return -1;
    /* EINVAL: a sequence cut by the end of p; E2BIG: out is full. Both leave a good prefix. */
    if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1 && errno == EILSEQ)
        rc = -2;
    iconv_close(cd);
    *outn = (size_t)(o - out);
    return rc;
}
