/*
 * eml.h - e-mail (RFC 822 / MIME) text with GMime: the From, To, Cc,
 * Subject and Date headers as the first lines, then the body's text/plain
 * parts (transfer encodings and charsets decoded by GMime), or when there is
 * none its text/html parts through the HTML extractor. Attachments are not
 * extracted. Title from Subject, author from From.
 *
 * Bounds, checked before GMime decodes anything: at most EML_MAX_MULTIPARTS
 * "multipart/" types in the raw message (so nesting is bounded too), and no
 * MIME part (attachments included) whose encoded body is over EML_MAX_PART.
 */
#ifndef WORKER_EXTRACT_EML_H
#define WORKER_EXTRACT_EML_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

#define EML_MAX_PART (16L << 20)    /* bytes of one part's encoded body */
#define EML_MAX_MULTIPARTS 100
#define EML_MAX_PARTS 1000

/*
 * Append the text of the message p[0..n) to out. Returns RUN_OK,
 * EXTRACT_FAILED ("eml: not a MIME message"), TOO_LARGE ("eml part of N
 * bytes over the 16777216 byte limit", "eml over 100 multiparts", "eml over
 * 1000 parts", out full), INTERNAL, with a detail.
 */
enum run_fail extract_eml_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                 size_t detail_len);

#endif
