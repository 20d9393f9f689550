/*
 * chunk.h - split extracted text into overlapping chunks for retrieval.
 *
 * A chunk ends, in order of preference, at a paragraph break, at a sentence
 * end, at a sentence end a little past the target (a long sentence may run
 * over by up to CHUNK_SLACK(target)), at whitespace, or at a UTF-8 character
 * boundary. Its length is never more than CHUNK_HARD_MAX(target) bytes, and
 * it never starts or ends inside a UTF-8 sequence. Chunk ranges are trimmed
 * of surrounding whitespace; whitespace-only chunks are skipped.
 * The next chunk starts about `overlap` bytes before the previous end, at the
 * first sentence start (else word start) inside that window; no overlap when
 * neither exists. The overlap is capped at half the previous chunk so the
 * split always moves forward.
 */
#ifndef WORKER_CHUNK_H
#define WORKER_CHUNK_H

#include <stddef.h>

#define CHUNK_SLACK(target)    ((target) / 5)
#define CHUNK_HARD_MAX(target) ((target) + CHUNK_SLACK(target))

struct chunk {
    size_t start, end;          /* byte range [start, end) of text */
    int page_start, page_end;   /* 1-based pages of the first and last byte */
    const char *section;        /* heading path, or NULL (set by structure_label_chunks) */
    const char *page_label;     /* printed label of page_start, or NULL (likewise) */
};

/*
 * page_starts: pages entries, page_starts[i] is the offset where page i+1
 * starts (NULL or pages <= 0: everything is page 1). target >= 16.
 * *out is malloc'ed (NULL when *n is 0). Returns 0, or -1 (bad arguments or
 * memory), leaving *out NULL and *n 0.
 */
int chunk_text(const char *text, size_t len, const size_t *page_starts, int pages, size_t target,
               size_t overlap, struct chunk **out, size_t *n);

/*
 * 1 when text[0..len) (valid UTF-8) holds something to index: a character
 * that is neither whitespace (ASCII, NBSP, the U+2000 spaces, line/paragraph
 * separators, ideographic space), an invisible format character (zero-width
 * ones, BOM) nor U+FFFD alone. 0 for an empty, blank or whitespace-only text,
 * the result of a scanned PDF without a text layer: nothing to chunk or search.
 * Lenient on invalid UTF-8: a byte that starts no valid sequence counts as U+FFFD.
 */
int chunk_has_text(const char *text, size_t len);

#endif
