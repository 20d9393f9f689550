/*
 * charset.h - the charset an HTML or XML document declares (a byte order
 * mark, its XML declaration, a <meta> element) and decoding it to UTF-8.
 *
 * One reader of declarations for both programs, so that the upload check
 * (sniff_mime in core-api and again in the worker) and the HTML extractor
 * (worker/extract/html.c, which hands the same label to libxml2) can never
 * disagree about what a file is written in. Decoding goes through iconv, the
 * converter libxml2 itself uses for every charset it has no built-in table for.
 */
#ifndef COMMON_CHARSET_H
#define COMMON_CHARSET_H

#include <stddef.h>

/* Longest label charset_declared() reports, with its NUL. */
#define CHARSET_NAME_MAX 41
/* How many leading bytes charset_declared() reads (sniff.h's SNIFF_HEAD_MAX is not less). */
#define CHARSET_SCAN_MAX 8192

enum charset_source {
    CHARSET_NONE = 0,   /* nothing declared */
    CHARSET_BOM,        /* a byte order mark: "UTF-8", "UTF-16LE" or "UTF-16BE" */
    CHARSET_XML,        /* <?xml ... encoding="X"?> at the very start */
    CHARSET_META,       /* <meta charset=X> or <meta http-equiv=content-type content="...charset=X"> */
};

/*
 * Find the charset the first n bytes of p declare, in this order: a byte order
 * mark; an XML declaration opening the document; the first <meta> outside a
 * comment that declares one (HTML's prescan, simplified: attributes in any
 * order, quoted or not). The label is copied to out as declared (outlen >=
 * CHARSET_NAME_MAX): 1 to 40 bytes of letters, digits and "-_.:()"; anything
 * else (an empty or longer label, a "/" that would reach iconv's "//IGNORE")
 * counts as nothing declared, and the prescan goes on to the next <meta>. Only
 * the first CHARSET_SCAN_MAX bytes are looked at. Returns the source, or
 * CHARSET_NONE (out set to "") when nothing is declared. Whether the charset
 * can be decoded is charset_supported()'s question, whether a declaration read
 * as ASCII can be true charset_ascii_compatible()'s.
 */
enum charset_source charset_declared(const unsigned char *p, size_t n, char *out, size_t outlen);

/*
 * 1 if iconv converts between name and UTF-8 in both directions (what libxml2
 * asks of a charset it has no table for), else 0. NULL or "" is 0.
 */
int charset_supported(const char *name);

/*
 * 1 if name encodes ASCII as ASCII (a <meta> or XML declaration read as
 * ASCII can only be true in such a charset), else 0, also when unsupported.
 */
int charset_ascii_compatible(const char *name);

/*
 * Decode p[0..n) from charset name into UTF-8 at out (outlen bytes; 4 * n + 4
 * always holds all of it). *outn gets the bytes written. A multi-byte sequence
 * cut by the end of p is not an error (p is usually the head of a file), nor is
 * out filling up (the rest is not decoded). Returns 0; -1 when the charset is
 * not supported; -2 when p holds a sequence that is invalid in it.
 */
int charset_to_utf8(const char *name, const unsigned char *p, size_t n, char *out, size_t outlen, size_t *outn);

#endif
