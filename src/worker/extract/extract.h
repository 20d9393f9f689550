/*
 * extract.h - turn an upload into plain UTF-8 text with page offsets.
 *
 * Every format runs in a sandboxed child (sandbox.h): a hostile or corrupt file
 * can fail its run but never crash, hang or bloat the worker. See README.md.
 * The text handed back is always valid UTF-8 (invalid sequences become U+FFFD),
 * has no NULs, and uses LF line ends; paragraphs are separated by a blank line.
 */
#ifndef WORKER_EXTRACT_EXTRACT_H
#define WORKER_EXTRACT_EXTRACT_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

/*
 * HTML headings h1-h4 start a line with this (U+E000, a private-use
 * character) and the level digit; worker/structure.c reads and removes them.
 */
#define EXTRACT_HEADING_MARK "\xEE\x80\x80"

/*
 * A PDF's outline (bookmarks), read by the helper and checked by the parent:
 * at most EXTRACT_OUTLINE_MAX entries, levels 1..EXTRACT_OUTLINE_DEPTH, a
 * title of fewer than EXTRACT_OUTLINE_TITLE_MAX bytes (valid UTF-8, no control
 * bytes), a physical page 1..pages. worker/structure.c makes them headings.
 */
#define EXTRACT_OUTLINE_MAX 4096
#define EXTRACT_OUTLINE_DEPTH 8
#define EXTRACT_OUTLINE_TITLE_MAX 256

struct extract_outline {
    int level;                    /* 1: top */
    int page;                     /* 1-based physical page */
    char *title;                  /* malloc'ed */
};

struct extract_limits {
    long timeout_ms;              /* wall clock of the child; <= 0: 120 s */
    long memory_mb;               /* RLIMIT_AS of the child; <= 0: 1024 */
    long max_chars;               /* max bytes of extracted UTF-8 text; over it: TOO_LARGE */
    long max_uncompressed_bytes;  /* zip formats: max inflated size of the archive; other formats:
                                     max file size read; <= 0: 512 MiB */
    const char *helper;           /* the ingest-extract program; NULL or "": next to this
                                     program's own /proc/self/exe */
    int ocr;                      /* 1: OCR image-only PDF pages and images (PNG, JPEG, TIFF) */
    const char *ocr_langs;        /* tesseract languages; NULL: "eng" */
    long ocr_page_timeout_ms;     /* one page's render + OCR; <= 0: 60 s */
    long ocr_max_pixels;          /* larger images / rendered pages fail too_large; <= 0: 50 M */
    int pdf_parts;                /* a PDF of at least pdf_split_pages pages is read by this many
                                     concurrent pdftotext over page ranges; <= 0: 2, 1: one */
    long pdf_split_pages;         /* <= 0: 64 */
    /* optional: pages done of total, from the extractor as it goes */
    void (*progress)(void *arg, long done, long total);
    void *progress_arg;
};

struct extract_result {
    char *text;                   /* NUL-terminated, len bytes */
    size_t len;
    int pages;                    /* >= 1 */
    size_t *page_starts;          /* pages entries: byte offset where page i+1 starts;
                                     pages = 1, page_starts[0] = 0 for unpaged formats */
    unsigned char *page_ocr;      /* pages entries: 1 when the page's text came from OCR */
    char *title;                  /* from the file's metadata, or NULL */
    char *author;                 /* from the file's metadata, or NULL */
    struct extract_outline *outline;   /* noutline entries in document order (PDF), or NULL */
    int noutline;
};

/*
 * Extract path (of type mime, a SNIFF_MIME_* string) in a sandboxed child
 * (the ingest-extract helper, posix_spawn'ed; RLIMIT_AS/CPU/FSIZE/NOFILE, its
 * own network namespace where permitted; killed at the wall-clock limit; the
 * result comes back over a pipe, bounded by max_chars).
 * Returns RUN_OK on success (out filled; release it with
 * extract_result_release) or a run_fail code - EXTRACT_FAILED,
 * UNSUPPORTED_TYPE, TOO_LARGE, TIMEOUT, INTERNAL - with a short detail such as
 * "pdftotext exit 1" or "docx uncompressed size over limit" (out zeroed).
 */
enum run_fail extract_file(const char *path, const char *mime, const struct extract_limits *lim,
                           struct extract_result *out, char *detail, size_t detail_len);
/* Free what extract_file() filled in r and zero it. Accepts NULL. */
void extract_result_release(struct extract_result *r);

/*
 * How many pdftotext processes a large PDF gets now: EXTRACT_PDF_PARTS
 * (configured) only while cores would idle, i.e. the cores per job running in
 * this worker, ncpu / running (this job included), capped at configured and at
 * least 1. Parts cost 4-10 % more CPU than one process (a second parse of the
 * xref and fonts): worth it for the wall only when a core has nothing else to
 * do. With 2 cores: alone, 2 parts; two jobs running, 1 each.
 */
int extract_pdf_parts_now(int configured, int running, int ncpu);

/* The cores this process may run on (its affinity mask), at least 1. */
int extract_cpu_count(void);

/*
 * The in-process steps, exposed for the fuzzers and unit tests. They run
 * without a sandbox: call them only inside one or on trusted bytes.
 *
 * Append the cleaned form of raw extractor output p[0..n) to out: invalid
 * UTF-8 -> U+FFFD, NULs and other control bytes dropped, CRLF/CR -> LF.
 * With pages != NULL, a form feed ends a page (pdftotext's separator): it is
 * replaced by a paragraph break and the offset where each page starts is
 * recorded in *page_starts (malloc'ed, *pages entries, at least 1).
 * Without, a form feed is a line break. Returns RUN_OK, or TOO_LARGE
 * when out's max is reached, or INTERNAL when memory is out.
 */
enum run_fail extract_normalize(const char *p, size_t n, struct buf *out, size_t **page_starts, int *pages);

/*
 * The parent's side of the helper's answer: check payload (int32 pages | uint64
 * page_starts[pages] | uint8 page_ocr[pages] | title | author | outline | text,
 * extract.c's header) and fill out (zeroed first) from it; nothing in it is trusted. RUN_OK;
 * EXTRACT_FAILED ("extractor sent a malformed result") with out zeroed when any
 * length, offset, flag, level, page or string is out of bounds; INTERNAL when
 * memory is out.
 */
enum run_fail extract_unpack(const struct buf *payload, struct extract_result *out, char *detail, size_t detail_len);

/*
 * Append p[0..n) to out: the one way the format extractors grow their output.
 * Returns RUN_OK; TOO_LARGE when out's max would be passed (out is then
 * released: a cut text is of no use); INTERNAL when memory is out.
 */
enum run_fail extract_put(struct buf *out, const void *p, size_t n);

/*
 * An explicit page break of a word-processing file (DOCX w:br type="page" and
 * w:lastRenderedPageBreak, ODF soft-page-break and fo:break-before/after,
 * RTF \page): a form feed, which extract_normalize() turns into a new page
 * when text follows it. *mark is where the last break was put (0 at the
 * start): a break with no visible text since it (or before the first text)
 * is dropped, so a page break Word also marks as rendered counts once and no
 * empty page is made. Returns as extract_put().
 */
enum run_fail extract_page_break(struct buf *out, size_t *mark);

/*
 * Read the file at path (no symlink) into out, at most max bytes. RUN_OK,
 * TOO_LARGE ("file over the N byte limit"), EXTRACT_FAILED (open/read error),
 * INTERNAL, with a detail.
 */
enum run_fail extract_read_file(const char *path, size_t max, struct buf *out, char *detail, size_t dlen);

/*
 * The helper program's whole work (helper/main.c): parse argv (as built by
 * extract_file), apply the limits, extract, answer on SANDBOX_CHILD_FD.
 * Returns the process exit status.
 */
int extract_child_main(int argc, char **argv);

/* The type extract_file() accepts for a self-test of the helper: its text is
 * the helper's own /proc/self/exe (tests prove the child is a new program). */
#define EXTRACT_MIME_PROBE "application/x-ingest-probe"

#endif
