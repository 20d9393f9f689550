/*
 * store.h - the content write of a job, in ONE transaction: version, chunks
 * (COPY), embeddings (COPY), activation (DESIGN invariant 7), run succeeded.
 *
 * Per-document serialization: pg_advisory_xact_lock(hashtextextended(doc_id, 0))
 * (the worker role may not lock the documents row FOR UPDATE), so two runs of
 * one document decide activation one after the other and the partial unique
 * index document_versions_one_active is never the tie-breaker.
 *
 * Activation: this version becomes active only if no active version of the
 * document has a newer upload time (the run's created_at; ties broken by
 * run_id) and the document was not deleted after this run was created. So the
 * newest upload wins, whatever order the runs finish in.
 */
#ifndef WORKER_STORE_H
#define WORKER_STORE_H

#include "common/buf.h"
#include "common/run_state.h"
#include "worker/chunk.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

struct store_input {
    const struct run_owner *run;
    const char *content_hash;     /* sha256 hex of the upload */
    long long byte_size;
    const char *mime;
    int pages;
    const char *text;             /* the extracted text; chunks index into it */
    size_t chars;                 /* bytes of text */
    const struct chunk *chunks;
    size_t nchunks;
    const float *vectors;         /* nchunks * dim */
    int dim;
    const char *model;
    json_t *stats;                /* merged into the run's stats (borrowed); its durations_ms
                                     object gains write and total */
    long long started_mono;       /* time_mono_ms() when the job started (for durations_ms.total) */
    const unsigned char *page_ocr; /* pages entries or NULL: 1 = that page's text is OCR output;
                                     chunks touching such a page get chunks.ocr */
    const char *title;            /* from the file's metadata, or NULL: document_versions.meta_title, */
    const char *author;           /* and the document's title if it was empty or the file name */
    const char *filename;         /* the upload's file name (what core-api titles a document without one) */
};

enum store_result {
    STORE_OK = 0,        /* committed: the run is succeeded */
    STORE_LOST = 1,      /* the run is no longer ours: rolled back, nothing written */
    STORE_DB = -1,       /* database error (connection or statement): rolled back */
};

/*
 * Write everything and set the run succeeded (run_succeed()), in one
 * transaction that is run again from the start on a deadlock or serialization
 * failure (db_tx_run()). On STORE_OK, *activated and version_id (37 bytes)
 * tell what happened; stats gains version_id and activated. On STORE_DB,
 * db_last_sqlstate() says why.
 */
enum store_result store_write(PGconn *c, const struct store_input *in, int *activated, char *version_id);
/*
 * Merge the search index's pending list (chunks_index_merge(), migration
 * 0017) after a committed write, so searches do not read the chunks just
 * written from the list. Outside any transaction; best effort: a failure
 * changes nothing (the next insert past the list's limit, or autovacuum,
 * merges it). Returns 0 or -1 (db_last_sqlstate() says why).
 */
int store_merge_index(PGconn *c);

/*
 * COPY text-format field escaping: backslash, tab, newline and carriage
 * return are escaped; NUL bytes (impossible in a PostgreSQL text) are dropped.
 * Returns 0 or -1 (the buffer's max was reached; it is then released).
 */
int store_copy_escape(struct buf *b, const char *s, size_t n);

#endif
