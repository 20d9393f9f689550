/*
 * utf8.c - strict UTF-8 decoding (utf8.h). The table of RFC 3629 section 4:
 * the first byte fixes the length and the range of the second byte, which is
 * what excludes overlong forms, surrogates and code points past U+10FFFF.
 */
#include "common/utf8.h"

/* Length of the sequence a lead byte starts (0: not a lead byte), and its second byte's range. */
static size_t lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0)
            *lo = 0xA0;
        if (c == 0xED)
            *hi = 0x9F;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0)
            *lo = 0x90;
        if (c == 0xF4)
            *hi = 0x8F;
        return 4;
    }
    return 0;
}

/* Number of bytes after the lead that are valid continuations (at most len - 1, at most n - 1). */
static size_t continuations(const unsigned char *p, size_t n, size_t len, unsigned char lo, unsigned char hi)
{
    size_t i;

    for (i = 1; i < len && i < n; i++)
        if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xBF))
            break;
    return i - 1;
}

/* The code point of a sequence of len bytes already checked. */
static uint32_t decode(const unsigned char *p, size_t len)
{
    uint32_t c = len == 1 ? p[0] : (uint32_t)(p[0] & (0x7F >> len));

    for (size_t i = 1; i < len; i++)
        c = (c << 6) | (p[i] & 0x3F);
    return c;
}

size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char lo, hi;
    size_t len = n ? lead(p[0], &lo, &hi) : 0;

    if (len == 0 || len > n || continuations(p, n, len, lo, hi) != len - 1)
        return 0;
    if (cp)
        *cp = decode(p, len);
    return len;
}

size_t utf8_next_lax(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char lo, hi;
    size_t len = n ? lead(p[0], &lo, &hi) : 0;

    /* Any continuation byte will do, whatever the lead's range for the second. */
    if (len == 0 || len > n || continuations(p, n, len, 0x80, 0xBF) != len - 1) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = decode(p, len);
    return len;
}

int utf8_cut(const unsigned char *p, size_t n)
{
    unsigned char lo, hi;
    size_t len = n ? lead(p[0], &lo, &hi) : 0;

    return len > n && continuations(p, n, len, lo, hi) == n - 1;
}

int utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;

    for (size_t i = 0; i < n;) {
        size_t l = u[i] ? utf8_next(u + i, n - i, NULL) : 0;

        if (l == 0)
            return 0;
        i += l;
    }
    return 1;
}

long utf8_count(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    long count = 0;

    for (size_t i = 0; i < n; count++) {
        size_t l = utf8_next(u + i, n - i, NULL);

        if (l == 0)
            return -1;
        i += l;
    }
    return count;
}

size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if ((cp >= 0xD800 && cp < 0xE000) || cp > 0x10FFFF)
        cp = 0xFFFD;
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
