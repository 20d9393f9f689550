/*
 * sniff.c - an upload's type from its first bytes, then its name (sniff.h):
 * magic numbers, zip local headers for DOCX, strict UTF-8 for text, and for
 * HTML that is not UTF-8 its declared charset (common/charset).
 */
#include "common/sniff.h"
#include "common/charset.h"
#include "common/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int name_ends(const char *name, const char *suffix)
{
    size_t n, s;

    if (!name)
        return 0;
    n = strlen(name);
    s = strlen(suffix);
    return n >= s && strcasecmp(name + n - s, suffix) == 0;
}

_Static_assert(SNIFF_HEAD_MAX >= CHARSET_SCAN_MAX, "the head holds every byte a declaration is looked for in");

static int has_prefix(const unsigned char *p, size_t n, const void *magic, size_t m)
{
    return n >= m && memcmp(p, magic, m) == 0;
}

static int starts_ci(const unsigned char *p, size_t n, const char *word)
{
    size_t m = strlen(word);

    return n >= m && strncasecmp((const char *)p, word, m) == 0;
}

/* 1 when p[0..n) is text: valid UTF-8, no NUL, few control bytes. */
static int is_text(const unsigned char *p, size_t n)
{
    size_t i = 0, controls = 0;

    while (i < n) {
        size_t l;

        if (p[i] == 0)
            return 0;
        if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' && p[i] != '\f' &&
            p[i] != '\v' && p[i] != 0x1b)
            controls++;
        if (p[i] == 0x7f)
            controls++;
        l = utf8_next(p + i, n - i, NULL);
        if (l == 0 && utf8_cut(p + i, n - i))
            break;   /* cut by the end of the head: fine */
        if (l == 0)
            return 0;
        i += l;
    }
    return controls * 32 <= n;
}

static uint32_t le16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const unsigned char *p)
{
    return le16(p) | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Walk the zip's local file headers visible in head; 1 when one names word/... */
static int zip_names_word(const unsigned char *p, size_t n)
{
    size_t off = 0;
    int guard;

    for (guard = 0; guard < 64 && off + 30 <= n; guard++) {
        uint32_t csize, nlen, elen;

        if (memcmp(p + off, "PK\x03\x04", 4) != 0)
            break;
        csize = le32(p + off + 18);
        nlen = le16(p + off + 26);
        elen = le16(p + off + 28);
        if (nlen >= 5 && off + 30 + 5 <= n && memcmp(p + off + 30, "word/", 5) == 0)
            return 1;
        /* bit 3: sizes follow the data, so the next header cannot be found */
        if (le16(p + off + 6) & 0x08)
            break;
        off += 30 + (size_t)nlen + elen + csize;
    }
    /* fall back to a plain search: names are stored uncompressed */
    return memmem(p, n, "word/document.xml", 17) != NULL;
}

/* The zip's local header names a folder prefix (ppt/, xl/). */
static int zip_names(const unsigned char *p, size_t n, const char *prefix)
{
    size_t off = 0, pl = strlen(prefix);

    for (int guard = 0; guard < 64 && off + 30 <= n; guard++) {
        uint32_t csize = le32(p + off + 18), nlen = le16(p + off + 26), elen = le16(p + off + 28);

        if (memcmp(p + off, "PK\x03\x04", 4) != 0)
            break;
        if (nlen >= pl && off + 30 + pl <= n && memcmp(p + off + 30, prefix, pl) == 0)
            return 1;
        if (le16(p + off + 6) & 0x08)
            break;
        off += 30 + (size_t)nlen + elen + csize;
    }
    return 0;
}

/* OpenDocument and EPUB: a first entry "mimetype", stored, holding the type. */
static const char *zip_mimetype(const unsigned char *p, size_t n)
{
    static const char *const types[] = {SNIFF_MIME_EPUB, SNIFF_MIME_ODT, SNIFF_MIME_ODS, SNIFF_MIME_ODP, NULL};
    uint32_t size, nlen, elen;

    if (n < 38 || memcmp(p + 30, "mimetype", 8) != 0 || le16(p + 8) != 0)
        return NULL;
    size = le32(p + 22);
    nlen = le16(p + 26);
    elen = le16(p + 28);
    if (nlen != 8 || 30 + 8 + (size_t)elen + size > n)
        return NULL;
    for (int i = 0; types[i]; i++)
        if (size == strlen(types[i]) && memcmp(p + 38 + elen, types[i], size) == 0)
            return types[i];
    return NULL;
}

static const char *sniff_zip(const unsigned char *head, size_t n, const char *filename)
{
    const char *m = zip_mimetype(head, n);

    if (m)
        return m;
    if (zip_names(head, n, "ppt/"))
        return SNIFF_MIME_PPTX;
    if (zip_names(head, n, "xl/"))
        return SNIFF_MIME_XLSX;
    if (zip_names_word(head, n) || name_ends(filename, ".docx"))
        return SNIFF_MIME_DOCX;
    if (name_ends(filename, ".pptx"))
        return SNIFF_MIME_PPTX;
    if (name_ends(filename, ".xlsx"))
        return SNIFF_MIME_XLSX;
    return NULL;
}

/* An RFC 5322 header block: "Name: value" lines (folded lines allowed) up to a
 * blank line or the end of head, with From: and another message field. */
static int looks_eml(const unsigned char *p, size_t n)
{
    static const char *const more[] = {"date:", "subject:", "message-id:", "mime-version:", "received:", NULL};
    size_t i = 0;
    int from = 0, other = 0, lines = 0;

    while (i < n && lines < 200) {
        const unsigned char *nl = memchr(p + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (p + i)) : n - i, k = 0;

        if (len == 0 || (len == 1 && p[i] == '\r'))
            break;
        if (p[i] != ' ' && p[i] != '\t') {
            while (k < len && p[i + k] > ' ' && p[i + k] != ':' && p[i + k] < 0x7F)
                k++;
            if (k == 0 || k >= len || p[i + k] != ':')
                return 0;
            from |= starts_ci(p + i, len, "from:");
            for (int m = 0; more[m]; m++)
                other |= starts_ci(p + i, len, more[m]);
        } else if (lines == 0)
            return 0;
        lines++;
        if (!nl)
            break;
        i += len + 1;
    }
    return from && other;
}

/* The first lines (at least 2, up to 20, the last maybe cut) split into the
 * same number >= 2 of fields on sep, outside double quotes. */
static int looks_table(const unsigned char *p, size_t n, unsigned char sep)
{
    size_t i = 0;
    int lines = 0, want = -1, fields = 1, quoted = 0;

    for (; i < n && lines < 20; i++) {
        if (p[i] == '"')
            quoted = !quoted;
        else if (!quoted && p[i] == sep)
            fields++;
        else if (!quoted && p[i] == '\n') {
            if (want >= 0 && fields != want)
                return 0;
            want = fields;
            fields = 1;
            lines++;
        }
    }
    return want >= 2 && (lines >= 2 || i == n);
}

static const char *image_or_rtf(const unsigned char *head, size_t n)
{
    if (has_prefix(head, n, "\x89PNG\r\n\x1a\n", 8))
        return SNIFF_MIME_PNG;
    if (has_prefix(head, n, "\xFF\xD8\xFF", 3))
        return SNIFF_MIME_JPEG;
    if (has_prefix(head, n, "II*\0", 4) || has_prefix(head, n, "MM\0*", 4))
        return SNIFF_MIME_TIFF;
    if (has_prefix(head, n, "{\\rtf", 5))
        return SNIFF_MIME_RTF;
    return NULL;
}

/* Text that is an e-mail, or a table whose name and lines agree. */
static const char *mail_or_table(const unsigned char *head, size_t n, const char *filename)
{
    if (looks_eml(head, n))
        return SNIFF_MIME_EML;
    if (name_ends(filename, ".csv") && looks_table(head, n, ','))
        return SNIFF_MIME_CSV;
    if (name_ends(filename, ".tsv") && looks_table(head, n, '\t'))
        return SNIFF_MIME_TSV;
    return NULL;
}

static const unsigned char *skip_blank(const unsigned char *p, const unsigned char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\f'))
        p++;
    return p;
}

static int looks_html(const unsigned char *p, size_t n)
{
    const unsigned char *end = p + n, *q;
    int guard;

    if (has_prefix(p, n, "\xEF\xBB\xBF", 3))
        p += 3;
    for (guard = 0; guard < 16; guard++) {
        p = skip_blank(p, end);
        if (p >= end || *p != '<')
            return 0;
        if (starts_ci(p, (size_t)(end - p), "<!--")) {
            q = memmem(p + 4, (size_t)(end - p - 4), "-->", 3);
            if (!q)
                return 0;
            p = q + 3;
            continue;
        }
        if (starts_ci(p, (size_t)(end - p), "<?xml")) {
            q = memmem(p, (size_t)(end - p), "?>", 2);
            if (!q)
                return 0;
            p = q + 2;
            continue;
        }
        break;
    }
    n = (size_t)(end - p);
    return starts_ci(p, n, "<!doctype html") || starts_ci(p, n, "<html") ||
           starts_ci(p, n, "<head") || starts_ci(p, n, "<body");
}

/* Empty zip, spanned zip, other binary magic numbers: never text. (UTF-16 BOMs are charset's.) */
static int binary_magic(const unsigned char *head, size_t n)
{
    return has_prefix(head, n, "PK\x05\x06", 4) || has_prefix(head, n, "PK\x07\x08", 4) ||
           has_prefix(head, n, "\x89PNG", 4) || has_prefix(head, n, "GIF8", 4) ||
           has_prefix(head, n, "\xFF\xD8\xFF", 3) || has_prefix(head, n, "\x7F" "ELF", 4) ||
           has_prefix(head, n, "\x1F\x8B", 2) || has_prefix(head, n, "BZh", 3) ||
           has_prefix(head, n, "\xFD" "7zXZ", 5) || has_prefix(head, n, "7z\xBC\xAF", 4) ||
           has_prefix(head, n, "Rar!", 4) || has_prefix(head, n, "\xD0\xCF\x11\xE0", 4) ||
           has_prefix(head, n, "\x28\xB5\x2F\xFD", 4) || has_prefix(head, n, "{\\rtf", 5);
}

static int html_name(const char *filename)
{
    return name_ends(filename, ".html") || name_ends(filename, ".htm") || name_ends(filename, ".xhtml");
}

/*
 * Bytes that are not UTF-8 text: HTML when they declare a charset iconv (so
 * libxml2) can decode, decode in it without an invalid sequence into text, and
 * that text looks like HTML or the name says so. A declaration read as ASCII
 * (XML, <meta>) only counts in a charset that writes ASCII as ASCII.
 */
static const char *declared_html(const unsigned char *head, size_t n, const char *filename)
{
    char cs[CHARSET_NAME_MAX];
    enum charset_source src = charset_declared(head, n, cs, sizeof(cs));
    size_t cap = 4 * n + 4, len = 0;
    const char *mime = NULL;
    char *text;

    if (src == CHARSET_NONE || (src != CHARSET_BOM && !charset_ascii_compatible(cs)))
        return NULL;
    text = malloc(cap);
    if (!text)
        return NULL;
    if (charset_to_utf8(cs, head, n, text, cap, &len) == 0 && len > 0 &&
        is_text((const unsigned char *)text, len) &&
        (looks_html((const unsigned char *)text, len) || html_name(filename)))
        mime = SNIFF_MIME_HTML;
    free(text);
    return mime;
}

/* The types that have an extractor (a type detected before its extractor exists is refused). */
static int extracted(const char *m)
{
    static const char *const types[] = {SNIFF_MIME_PDF, SNIFF_MIME_DOCX, SNIFF_MIME_HTML, SNIFF_MIME_MARKDOWN,
                                        SNIFF_MIME_TEXT, SNIFF_MIME_PNG, SNIFF_MIME_JPEG, SNIFF_MIME_TIFF,
                                        SNIFF_MIME_XLSX, SNIFF_MIME_PPTX, SNIFF_MIME_ODT, SNIFF_MIME_ODS,
                                        SNIFF_MIME_ODP, SNIFF_MIME_EPUB, SNIFF_MIME_RTF, SNIFF_MIME_CSV,
                                        SNIFF_MIME_TSV, SNIFF_MIME_EML, NULL};

    for (int i = 0; m && types[i]; i++)
        if (m == types[i])
            return 1;
    return 0;
}

const char *sniff_mime(const unsigned char *head, size_t n, const char *filename)
{
    const char *m = sniff_detect(head, n, filename);

    return extracted(m) ? m : NULL;
}

const char *sniff_detect(const unsigned char *head, size_t n, const char *filename)
{
    size_t i;

    if (!head)
        n = 0;
    if (n > SNIFF_HEAD_MAX)
        n = SNIFF_HEAD_MAX;

    for (i = 0; i + 5 <= n && i < 1024; i++)
        if (head[i] == '%' && memcmp(head + i, "%PDF-", 5) == 0)
            return SNIFF_MIME_PDF;

    if (has_prefix(head, n, "PK\x03\x04", 4))
        return sniff_zip(head, n, filename);
    if (image_or_rtf(head, n) || binary_magic(head, n))
        return image_or_rtf(head, n);
    if (!is_text(head, n))
        return declared_html(head, n, filename);
    if (looks_html(head, n) || html_name(filename))
        return SNIFF_MIME_HTML;
    if (mail_or_table(head, n, filename))
        return mail_or_table(head, n, filename);
    if (name_ends(filename, ".md") || name_ends(filename, ".markdown"))
        return SNIFF_MIME_MARKDOWN;
    return SNIFF_MIME_TEXT;
}
