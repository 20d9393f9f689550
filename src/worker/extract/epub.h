/*
 * epub.h - EPUB text: META-INF/container.xml names the package (OPF), whose
 * spine gives the chapters' order; each XHTML chapter goes through the HTML
 * extractor's text path (html.h) and is a page. Title and author from the
 * OPF's dc:title and dc:creator. Container and XML as in ozip.h; a chapter
 * whose DOCTYPE declares entities is refused (an XXE attempt).
 */
#ifndef WORKER_EXTRACT_EPUB_H
#define WORKER_EXTRACT_EPUB_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

#define EPUB_MAX_CHAPTERS 10000
#define EPUB_MAX_CHAPTER (64u << 20)   /* bytes of one XHTML chapter */

/*
 * Append the text of the EPUB in p[0..n) to out, a form feed after each
 * chapter of the spine. Returns RUN_OK, or EXTRACT_FAILED (not a zip, no
 * container.xml or package, a spine item missing), UNSUPPORTED_TYPE ("epub:
 * <part> declares XML entities"), TOO_LARGE ("epub uncompressed size over limit", "epub over
 * 10000 chapters", a chapter over 64 MiB, out full), INTERNAL.
 */
enum run_fail extract_epub_buffer(const char *p, size_t n, long max_uncompressed, struct buf *out, char *detail,
                                  size_t detail_len);

/* 1 when the XML or XHTML document p[0..n) has a DOCTYPE whose internal subset declares an entity. */
int epub_declares_entity(const char *p, size_t n);

#endif
