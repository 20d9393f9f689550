/*
 * utf8.h - strict UTF-8 (RFC 3629): decoding, validation and counting, the
 * one copy every module uses (uploads' names and bodies, passwords, search
 * queries, extraction's normalization, the chunker, the type sniffer).
 *
 * Strict means: no overlong forms, no surrogates (U+D800..U+DFFF), nothing
 * above U+10FFFF, no stray continuation bytes. Pure functions, no allocation.
 */
#ifndef COMMON_UTF8_H
#define COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the sequence at p (n bytes available, n >= 1). Returns its length
 * (1 to 4) and stores the code point in *cp (may be NULL), or 0 when the bytes
 * are not a valid sequence or it is cut off by n (see utf8_cut()).
 */
size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp);

/*
 * Lenient decoding, for the one user whose results must never change (the hash
 * embedder: its vectors are stored). Like utf8_next(), except that the second
 * byte's range is not checked, so overlong forms, surrogates and F4 9x..BF
 * sequences decode as their bits say. Any other invalid or cut sequence reads
 * as U+FFFD of length 1. n >= 1; returns 1 to 4.
 */
size_t utf8_next_lax(const unsigned char *p, size_t n, uint32_t *cp);

/*
 * 1 if the n bytes at p (n >= 1) are the valid start of a sequence that needs
 * more bytes than n: a buffer that ends mid-character, not bad input.
 */
int utf8_cut(const unsigned char *p, size_t n);

/* 1 if all n bytes are valid UTF-8 and none is NUL (text), else 0. */
int utf8_valid(const char *s, size_t n);

/* Number of code points in the n bytes at s, or -1 if they are not valid UTF-8. */
long utf8_count(const char *s, size_t n);

/* Write code point cp as UTF-8 into out (room for 4 bytes); surrogates and
 * values over U+10FFFF become U+FFFD. Returns the bytes written (1..4). */
size_t utf8_encode(uint32_t cp, char *out);

#endif
