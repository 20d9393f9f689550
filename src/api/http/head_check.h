/*
 * head_check.h - the rules a request head must meet before core-api reads its
 * body, on top of what libmicrohttpd 0.9.75 checks itself.
 *
 * A proxy in front and core-api must agree on where a request ends, or a
 * request can hide inside another one's body (request smuggling). MHD 0.9.75
 * takes the first of two Content-Length lines, lets Transfer-Encoding win over
 * Content-Length, waits for the connection to close on a transfer coding it
 * does not know, and keeps control characters in values. So every header line
 * is fed to head_check_add() and head_check_verdict() says whether the request
 * may go on (RFC 9110 / RFC 9112):
 *
 *   400  a field name that is not a token, or a value with a control
 *        character (NUL, bare CR or LF, anything below 0x20 but tab, DEL);
 *        more than one Content-Length line, even with equal values, or one
 *        that is not plain digits; Content-Length together with
 *        Transfer-Encoding; Transfer-Encoding in an HTTP/1.0 request;
 *        "chunked" not exactly once; more than one Host; an HTTP/1.1 request
 *        without Host;
 *   501  a transfer coding other than chunked (gzip, deflate, ...).
 *
 * The server answers these at once and closes the connection: once framing is
 * in doubt, nothing after the head can be trusted to be the next request.
 * Pure functions, no allocation.
 *
 * NUL bytes and folded lines. MHD 0.9.75 stores a value with strlen(), so
 * "a<NUL>b" reads as "a", and it drops the continuation of a folded line
 * (obs-fold), while a proxy may keep both. Neither shows in the values, but
 * MHD parses the head in place: the request line and the header lines stay in
 * its read buffer, with CR, LF and each colon overwritten by NUL. Given that
 * region (head_check_region()), every line must account for all of its bytes:
 * between a value's end and the next name one line end (at most 2 bytes: the
 * NULs MHD wrote over CR LF), after the last value at most two, and between a
 * name and its value the NUL of the colon and spaces or tabs. Anything else is
 * a hidden byte: 400. A name or value outside the region (MHD copies a folded
 * line elsewhere) is one as well. The one blind spot: a single NUL ending the
 * last line of a head whose line ends are bare LFs fits the space of a CR and
 * passes; the value read is then the proxy's minus that trailing NUL.
 */
#ifndef API_HTTP_HEAD_CHECK_H
#define API_HTTP_HEAD_CHECK_H

#include <stddef.h>

/* What the header lines said so far (head_check_init() clears it). */
struct head_check {
    unsigned content_length;   /* Content-Length lines */
    unsigned transfer_encoding; /* Transfer-Encoding lines */
    unsigned chunked;          /* "chunked" codings over all those lines */
    unsigned host;             /* Host lines */
    int bad_field;             /* a name that is not a token, a control character in a value */
    int bad_length;            /* a Content-Length that is not 1 to 19 digits */
    int unknown_coding;        /* a transfer coding other than chunked */
    int bad_line;              /* bytes a value does not show (NUL, folding): see above */
    const char *head, *end;    /* head_check_region(); NULL: not checked */
    const char *cursor;        /* end of the previous value in the region */
};

void head_check_init(struct head_check *c);
/*
 * The raw head as MHD keeps it: len bytes from the request line's start (MHD's
 * method pointer and MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE). Call before
 * the first head_check_add() to have the lines checked for hidden bytes.
 */
void head_check_region(struct head_check *c, const char *head, size_t len);
/* One header line, in the order received: name and value with their lengths. */
void head_check_add(struct head_check *c, const char *name, size_t name_len, const char *value, size_t value_len);
/*
 * The verdict once every line is in: 0 (go on), 400 or 501, with *why set to
 * a short message for the client ("more than one Content-Length"). http10 is 1
 * for an HTTP/1.0 request (Host optional, Transfer-Encoding refused).
 */
unsigned head_check_verdict(const struct head_check *c, int http10, const char **why);

#endif
