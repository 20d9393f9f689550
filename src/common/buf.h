/*
 * buf.h - a growable byte buffer with a mandatory maximum (after curl's dynbuf).
 *
 * Anything sized by untrusted input goes through a buf: it can never grow past
 * the max given at buf_init(), and a failed append frees the contents, so a
 * caller that ignores the error cannot keep using a half-written buffer.
 * The contents are always NUL-terminated (the terminator is not counted in len).
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stddef.h>

struct buf {
    char *ptr;     /* NULL until the first append */
    size_t len;    /* bytes used, not counting the NUL */
    size_t cap;    /* bytes allocated */
    size_t max;    /* the most len may ever be */
};

/* Set up an empty buffer that may hold at most max bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);
/* Free the contents; the buffer is empty and reusable with the same max. */
void buf_release(struct buf *b);
/* Forget the contents without freeing (len 0, memory kept). */
void buf_reset(struct buf *b);

/*
 * Append n bytes. Returns 0, or -1 when the max would be exceeded or memory is
 * short; on -1 the contents are released.
 */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Hand the contents to the caller (free() them); the buffer is left empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
