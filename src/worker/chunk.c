/*
 * chunk.c - split extracted text into overlapping chunks (chunk.h), and tell
 * whether a text holds anything worth indexing.
 */
#include "worker/chunk.h"
#include "common/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum cut_kind { CUT_PARA, CUT_SENTENCE, CUT_SPACE };

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* A blank line starts at i: "\n" then optional blanks then "\n". */
static int para_at(const unsigned char *t, size_t len, size_t i)
{
    size_t j;

    if (t[i] != '\n')
        return 0;
    for (j = i + 1; j < len && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r'); j++)
        ;
    return j < len && t[j] == '\n';
}

/* A sentence ends just before i: "...end." + optional closers, then whitespace at i. */
static int sentence_at(const unsigned char *t, size_t len, size_t lo, size_t i)
{
    size_t j = i, k;

    if (i >= 3 && i - 3 >= lo &&
        (memcmp(t + i - 3, "\xE3\x80\x82", 3) == 0 || memcmp(t + i - 3, "\xEF\xBC\x81", 3) == 0 ||
         memcmp(t + i - 3, "\xEF\xBC\x9F", 3) == 0))
        return 1;
    if (i >= len || !is_ws(t[i]))
        return 0;
    for (k = 0; k < 4 && j > lo; k++) {
        unsigned char c = t[j - 1];

        if (c == '"' || c == '\'' || c == ')' || c == ']' || c == '*' || c == '_')
            j--;
        else if (j >= lo + 3 && (memcmp(t + j - 3, "\xE2\x80\x9D", 3) == 0 ||
                                 memcmp(t + j - 3, "\xE2\x80\x99", 3) == 0))
            j -= 3;
        else
            break;
    }
    return j > lo && (t[j - 1] == '.' || t[j - 1] == '!' || t[j - 1] == '?' || t[j - 1] == ':');
}

static int cut_at(const unsigned char *t, size_t len, size_t lo, size_t i, enum cut_kind k)
{
    switch (k) {
    case CUT_PARA:
        return para_at(t, len, i);
    case CUT_SENTENCE:
        return para_at(t, len, i) || sentence_at(t, len, lo, i);
    case CUT_SPACE:
        return is_ws(t[i]);
    }
    return 0;
}

/* Last i in [from, to] with a cut of kind k; 0 when none (from > 0 always). */
static size_t last_cut(const unsigned char *t, size_t len, size_t lo, size_t from, size_t to,
                       enum cut_kind k)
{
    size_t i;

    for (i = to; i >= from; i--)
        if (i < len && cut_at(t, len, lo, i, k))
            return i;
    return 0;
}

static size_t first_cut(const unsigned char *t, size_t len, size_t lo, size_t from, size_t to,
                        enum cut_kind k)
{
    size_t i;

    for (i = from; i <= to && i < len; i++)
        if (cut_at(t, len, lo, i, k))
            return i;
    return 0;
}

static size_t choose_end(const unsigned char *t, size_t len, size_t pos, size_t target)
{
    size_t lo = pos + target / 2, tgt = pos + target, hard = pos + CHUNK_HARD_MAX(target), e;

    if (len - pos <= CHUNK_HARD_MAX(target))
        return len;
    e = last_cut(t, len, pos, lo, tgt, CUT_PARA);
    if (!e)
        e = last_cut(t, len, pos, lo, tgt, CUT_SENTENCE);
    if (!e)
        e = first_cut(t, len, pos, tgt + 1, hard, CUT_SENTENCE);
    if (!e)
        e = last_cut(t, len, pos, lo, tgt, CUT_SPACE);
    if (!e) {
        e = tgt;
        while (e > pos + 1 && is_cont(t[e]))
            e--;
        if (e <= pos + 1)
            e = tgt;   /* not UTF-8 at all: any cut will do */
    }
    return e;
}

/* Where the next chunk starts: the first sentence (else word) start in [from, e). */
static size_t overlap_start(const unsigned char *t, size_t len, size_t pos, size_t from, size_t e)
{
    size_t i;

    if (from >= e)
        return 0;
    i = first_cut(t, len, pos, from, e - 1, CUT_SENTENCE);
    if (!i)
        i = first_cut(t, len, pos, from, e - 1, CUT_SPACE);
    return i;
}

static int page_of(const size_t *page_starts, int pages, size_t off)
{
    int lo = 0, hi = pages - 1;

    if (!page_starts || pages <= 1)
        return 1;
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;

        if (page_starts[mid] <= off)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo + 1;
}

int chunk_text(const char *text, size_t len, const size_t *page_starts, int pages, size_t target,
               size_t overlap, struct chunk **out, size_t *n)
{
    const unsigned char *t = (const unsigned char *)text;
    struct chunk *v = NULL;
    size_t cnt = 0, cap = 0, pos = 0, last_end = 0;
    int rc = -1;

    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    if (!out || !n || (!text && len) || target < 16 || target > ((size_t)1 << 40))
        goto out;
    while (pos < len) {
        size_t end, e, ov, next;

        while (pos < len && is_ws(t[pos]))
            pos++;
        if (pos >= len)
            break;
        end = choose_end(t, len, pos, target);
        e = end;
        while (e > pos && is_ws(t[e - 1]))
            e--;
        /* e <= last_end: an overlap start followed only by blanks; the
         * previous chunk already holds all of it */
        if (e > pos && e > last_end) {
            if (cnt == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                struct chunk *nv = realloc(v, ncap * sizeof(*v));

                if (!nv)
                    goto out;
                v = nv;
                cap = ncap;
            }
            v[cnt].start = pos;
            v[cnt].end = e;
            v[cnt].page_start = page_of(page_starts, pages, pos);
            v[cnt].page_end = page_of(page_starts, pages, e - 1);
            v[cnt].section = NULL;
            v[cnt].page_label = NULL;
            cnt++;
            last_end = e;
        }
        if (end >= len)
            break;
        ov = overlap < (e - pos) / 2 ? overlap : (e - pos) / 2;
        next = ov ? overlap_start(t, len, pos, e - ov, e) : 0;
        pos = next > pos ? next : end;
    }
    rc = 0;
    *out = v;
    *n = cnt;
    v = NULL;
out:
    free(v);
    return rc;
}

static int blank_codepoint(uint32_t cp)
{
    return cp <= 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0xA0) || cp == 0xAD || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) || (cp >= 0x205F && cp <= 0x2064) ||
           cp == 0x3000 || cp == 0xFEFF || cp == 0xFFFD;
}

int chunk_has_text(const char *text, size_t len)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t i = 0;

    if (!text)
        return 0;
    while (i < len) {
        uint32_t cp = 0xFFFD;
        size_t l = utf8_next(t + i, len - i, &cp);

        /* lenient: a byte that starts no valid sequence counts as one U+FFFD */
        if (l == 0) {
            cp = 0xFFFD;
            l = 1;
        }
        if (!blank_codepoint(cp))
            return 1;
        i += l;
    }
    return 0;
}
