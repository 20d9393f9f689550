/*
 * multipart.h - a streaming multipart/form-data parser (RFC 7578, RFC 2046).
 *
 * Why not libmicrohttpd's MHD_PostProcessor: it needs a live MHD connection
 * (it reads Content-Type from it), so it cannot be unit-tested on its own
 * with arbitrary chunk splits; it only reports a missing final boundary as
 * a boolean from MHD_destroy_post_processor; and its Content-Disposition
 * parsing does not handle escaped quotes or RFC 5987 filename*. This parser is
 * a small byte-at-a-time state machine that never buffers part data: body bytes
 * are handed to the callback as they arrive (only up to delimiter-length bytes
 * that might start a boundary are held back between feeds). Only part headers
 * are buffered, bounded by MULTIPART_HEADERS_MAX.
 *
 * Use: multipart_new(boundary, callbacks, ud); multipart_feed() every piece of
 * the body; multipart_finish() at the end of the body: -1 means the final
 * boundary never came (a truncated upload). A callback returning nonzero stops
 * the parser: multipart_feed() returns that value from then on.
 */
#ifndef API_MULTIPART_H
#define API_MULTIPART_H

#include <stddef.h>

#define MULTIPART_BOUNDARY_MAX 70       /* RFC 2046 */
#define MULTIPART_HEADERS_MAX  16384    /* all header lines of one part */

struct multipart_part {
    const char *name;          /* form field name ("" if none), NUL-terminated */
    size_t name_len;
    const char *filename;      /* NULL if the part has no filename parameter */
    size_t filename_len;       /* may contain NUL bytes: use the length */
    const char *content_type;  /* part Content-Type or NULL */
};

struct multipart_callbacks {
    /* Headers of a part are complete. Pointers are valid until part_end. */
    int (*part_begin)(void *ud, const struct multipart_part *part);
    int (*part_data)(void *ud, const char *p, size_t n);
    int (*part_end)(void *ud);
};

enum multipart_status {
    MULTIPART_OK = 0,
    MULTIPART_MALFORMED = -1,  /* not valid multipart (details in multipart_error) */
    MULTIPART_NOMEM = -2,
};

struct multipart;

/* boundary: the Content-Type's boundary parameter (1..70 bytes). NULL if invalid or out of memory. */
struct multipart *multipart_new(const char *boundary, const struct multipart_callbacks *cb, void *ud);
void multipart_free(struct multipart **m);

/* Returns 0, an enum multipart_status, or the nonzero value a callback returned. */
int multipart_feed(struct multipart *m, const char *p, size_t n);
/* 0 when the closing boundary was seen (body complete), -1 when it was not (truncated). */
int multipart_finish(struct multipart *m);
/* A short reason for the last failure ("" if none). */
const char *multipart_error(const struct multipart *m);

/*
 * Read the boundary parameter of a multipart/form-data Content-Type into out.
 * Returns 1 on success, 0 if the type is not multipart/form-data, -1 if it is
 * but the boundary is missing or invalid.
 */
int multipart_boundary(const char *content_type, char *out, size_t outsz);

#endif
