/*
 * ozip.h - the zip + XML layer the container formats share (DOCX, XLSX, PPTX,
 * ODT/ODS/ODP, EPUB): libzip for the archive, libxml2 for its parts.
 *
 * Zip bombs: ozip_open() checks the entry count and every entry's declared
 * uncompressed size, and their sum, against the limit before anything is
 * inflated; then the bytes really inflated are counted across every part
 * read (headers can lie), against the same limit. Over it: TOO_LARGE
 * "<what> uncompressed size over limit".
 * XML: XML_PARSE_NONET, no entity substitution, no DTD loading; a part whose
 * internal DTD subset declares entities is refused (UNSUPPORTED_TYPE "<what>:
 * <part> declares XML entities": permanent, not retried).
 */
#ifndef WORKER_EXTRACT_OZIP_H
#define WORKER_EXTRACT_OZIP_H

#include "common/buf.h"
#include "common/errors.h"

#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <stddef.h>
#include <stdint.h>
#include <zip.h>

#define OZIP_MAX_ENTRIES 20000
#define OZIP_DEFAULT_LIMIT (512ull << 20)
#define OZIP_SMALL_PART (16u << 20)   /* rels, manifests, metadata: read whole, at most this */
#define OZIP_NAME_MAX 1024

struct ozip {
    zip_t *za;
    uint64_t limit;      /* most bytes all parts may inflate to */
    uint64_t used;       /* inflated so far, across parts */
    const char *what;    /* "docx", "xlsx", ...: the prefix of details */
    char *detail;        /* where failures are described */
    size_t dlen;
};

/* Open the zip in p[0..n) (not copied: keep it alive until ozip_close) with
 * what as the format's name; check the entries' declared sizes against
 * max_uncompressed (<= 0: 512 MiB). RUN_OK, EXTRACT_FAILED (not a zip, an
 * unreadable entry, too many entries), TOO_LARGE, INTERNAL, with a detail. */
enum run_fail ozip_open(struct ozip *z, const void *p, size_t n, long max_uncompressed, const char *what,
                        char *detail, size_t dlen);
/* The same for the file at path. */
enum run_fail ozip_open_file(struct ozip *z, const char *path, long max_uncompressed, const char *what,
                             char *detail, size_t dlen);
/* Release the archive (also after a failed open). */
void ozip_close(struct ozip *z);

/* 1 when the archive has an entry of that exact name. */
int ozip_has(struct ozip *z, const char *name);

/* Read the part name whole into out (bounded by out's max and the inflation
 * budget). Missing part: EXTRACT_FAILED "<what> has no <name>". */
enum run_fail ozip_read(struct ozip *z, const char *name, struct buf *out);

/* Parse a small part (at most OZIP_SMALL_PART) as XML into *doc (xmlFreeDoc it).
 * Missing part or malformed XML: EXTRACT_FAILED; declared entities: UNSUPPORTED_TYPE. */
enum run_fail ozip_doc(struct ozip *z, const char *name, xmlDocPtr *doc);

/* Stream the part name through libxml2's reader: fn(reader, arg) walks it
 * (returning RUN_OK, or EXTRACT_FAILED when the reader reported an error,
 * TOO_LARGE / INTERNAL from extract_put). The inflation budget is enforced
 * while fn reads; a part over it makes the result TOO_LARGE whatever fn said. */
typedef enum run_fail (*ozip_walk_fn)(xmlTextReaderPtr r, void *arg);
enum run_fail ozip_walk(struct ozip *z, const char *name, ozip_walk_fn fn, void *arg);

/* A walk by events: fn sees each node's type (XML_READER_TYPE_*), its local
 * name (elements and end tags; "" else) and may set *skip to pass over an
 * element's subtree. Stops at the first rc other than RUN_OK; a reader error
 * is EXTRACT_FAILED. Empty elements get no end event: fn checks
 * xmlTextReaderIsEmptyElement(r) itself. */
typedef enum run_fail (*ozip_event_fn)(xmlTextReaderPtr r, int type, const char *name, int *skip, void *arg);
enum run_fail ozip_events(xmlTextReaderPtr r, ozip_event_fn fn, void *arg);
/* ozip_walk() with ozip_events(fn, arg) as the walker. */
enum run_fail ozip_walk_events(struct ozip *z, const char *name, ozip_event_fn fn, void *arg);
/* The text of a text, CDATA or whitespace node (else NULL). */
const char *ozip_text(xmlTextReaderPtr r, int type);

/* Tree helpers for small parts. */
int ozip_is(const xmlNode *n, const char *local);               /* element with that local name */
xmlNode *ozip_child(xmlNode *n, const char *local);            /* first such child element */
/* The attribute's value (by local name, any namespace) copied into dst; "" when absent. */
void ozip_attr(xmlNode *n, const char *local, char *dst, size_t cap);
/* Resolve target against the folder of the part base ("ppt/slides/slide1.xml"
 * + "../notesSlides/n1.xml" -> "ppt/notesSlides/n1.xml"; a target starting
 * with '/' is from the root). Percent-escapes decoded. 0, or -1 (too long,
 * climbs above the root). */
int ozip_resolve(const char *base, const char *target, char *dst, size_t cap);
/* The package relationships of part (its _rels/<name>.rels): the target of
 * the one with Id id, resolved, into dst. RUN_OK or EXTRACT_FAILED. */
enum run_fail ozip_rel_target(struct ozip *z, xmlDocPtr rels, const char *part, const char *id, char *dst,
                              size_t cap);
/* dc:title and dc:creator (or meta:initial-creator) under the element meta
 * of a core-properties or ODF meta part, to extract_meta(). A missing part is fine. */
void ozip_meta(struct ozip *z, const char *part);

/* The whole of a container format's buffer entry point: open p[0..n) as
 * what, run fn, close; out released on failure. */
typedef enum run_fail (*ozip_format_fn)(struct ozip *z, struct buf *out);
enum run_fail ozip_extract(const char *p, size_t n, long max_uncompressed, const char *what, ozip_format_fn fn,
                           struct buf *out, char *detail, size_t dlen);

/* The detail of a walk's failure: "<what>: malformed <part>", "<what> text over the limit", ... */
void ozip_fail_detail(struct ozip *z, enum run_fail rc, const char *part);

#endif
