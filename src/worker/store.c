/*
 * store.c - the content write of a job in one transaction (store.h): version,
 * chunks (text COPY) and embeddings (binary COPY), activation, and the run's
 * running -> succeeded.
 *
 * Row-level security (db/migrations/0006_rls.sql): the transaction sets the
 * run's tenant itself, and since PostgreSQL refuses COPY FROM into a table
 * with a policy, chunks and embeddings are copied into temporary tables of the
 * transaction (dropped at its end) and moved with INSERT ... SELECT, where the
 * policy checks every row's tenant.
 */
#include "worker/store.h"

#include "common/db.h"
#include "common/embed.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/run_state.h"
#include "common/timeutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#define COPY_FLUSH (1u << 20)
/* A deadlock or serialization failure reruns the whole transaction: this many times in all. */
#define STORE_TX_ATTEMPTS 4
#define COPY_BUF_MAX ((size_t)64 << 20)

/* The columns each COPY writes, in the order copy_chunks() and copy_embeddings() write them. */
#define CHUNK_COLS \
    "chunk_id, tenant_id, doc_id, version_id, ordinal, text, page_start, page_end, char_start, char_end, section, " \
    "page_label, ocr"
/* CHUNK_COLS read from the temporary table aliased s. */
#define STORE_CHUNK_SRC \
    "s.chunk_id, s.tenant_id, s.doc_id, s.version_id, s.ordinal, s.text, s.page_start, s.page_end, s.char_start, " \
    "s.char_end, s.section, s.page_label, s.ocr"
#define EMBED_COLS "chunk_id, tenant_id, model, dim, vector"

int store_copy_escape(struct buf *b, const char *s, size_t n)
{
    size_t i, run = 0;

    for (i = 0; i < n; i++) {
        const char *esc = NULL;

        switch (s[i]) {
        case '\\': esc = "\\\\"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\0': esc = ""; break;
        default: continue;
        }
        if (i > run && buf_add(b, s + run, i - run) < 0)
            return -1;
        if (*esc && buf_adds(b, esc) < 0)
            return -1;
        run = i + 1;
    }
    if (n > run && buf_add(b, s + run, n - run) < 0)
        return -1;
    /* buf_add of 0 bytes never happens above; make sure ptr exists for empty fields */
    if (!b->ptr && buf_add(b, "", 0) < 0)
        return -1;
    return 0;
}

/* Big-endian 16- and 32-bit integers, as COPY's binary format wants them. */
static int put_be16(struct buf *b, uint16_t v)
{
    unsigned char p[2] = {(unsigned char)(v >> 8), (unsigned char)v};

    return buf_add(b, p, 2);
}

static int put_be32(struct buf *b, uint32_t v)
{
    unsigned char p[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};

    return buf_add(b, p, 4);
}

/* A binary COPY field: its length, then its bytes. */
static int put_bin_field(struct buf *b, const void *p, size_t n)
{
    return put_be32(b, (uint32_t)n) < 0 ? -1 : buf_add(b, p, n);
}

/* A uuid in text form as a binary COPY field (16 bytes). */
static int put_bin_uuid(struct buf *b, const char *text)
{
    uuid_t u;

    return uuid_parse(text, u) < 0 ? -1 : put_bin_field(b, u, sizeof(u));
}

static int copy_begin(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    int ok = PQresultStatus(res) == PGRES_COPY_IN;

    if (!ok)
        log_event(LOG_WARN, "copy failed to start",
                  json_pack("{s:s,s:s}", "sql", sql, "error", PQerrorMessage(c)));
    PQclear(res);
    return ok ? 0 : -1;
}

static int copy_flush(PGconn *c, struct buf *b)
{
    if (b->len == 0)
        return 0;
    if (PQputCopyData(c, b->ptr, (int)b->len) != 1)
        return -1;
    buf_reset(b);
    return 0;
}

/* End the COPY (aborting it when failed) and collect its result. */
static int copy_end(PGconn *c, int failed)
{
    PGresult *res;
    int ok = 0;

    if (PQputCopyEnd(c, failed ? "worker aborted the copy" : NULL) != 1)
        failed = 1;
    while ((res = PQgetResult(c)) != NULL) {
        if (PQresultStatus(res) == PGRES_COMMAND_OK)
            ok = 1;
        else if (!failed)
            log_event(LOG_WARN, "copy failed", json_pack("{s:s}", "error", PQresultErrorMessage(res)));
        PQclear(res);
    }
    return ok && !failed ? 0 : -1;
}

static int put_field_sep(struct buf *b, const char *s, char sep)
{
    if (s ? buf_adds(b, s) < 0 : buf_adds(b, "\\N") < 0)
        return -1;
    return buf_add(b, &sep, 1);
}

/* A text field (escaped), or \N for NULL, then sep. */
static int put_text_sep(struct buf *b, const char *s, char sep)
{
    if (!s)
        return put_field_sep(b, NULL, sep);
    if (store_copy_escape(b, s, strlen(s)) < 0)
        return -1;
    return buf_add(b, &sep, 1);
}

/* chunks.ocr: the chunk touches a page whose text is OCR output. Written with the row, so
 * no UPDATE rewrites the chunks (and their tsvector and index entries) a second time. */
static int chunk_is_ocr(const struct store_input *in, const struct chunk *k)
{
    int last = k->page_end > 0 ? k->page_end : k->page_start;

    if (!in->page_ocr || k->page_start <= 0)
        return 0;
    for (int p = k->page_start; p <= last && p <= in->pages; p++)
        if (in->page_ocr[p - 1])
            return 1;
    return 0;
}

static int copy_chunks(PGconn *c, const struct store_input *in, const char *version_id, char (*ids)[ID_UUID_LEN + 1])
{
    struct buf b;
    int failed = 0;
    char num[32];

    if (db_exec(c, "CREATE TEMP TABLE store_chunks ON COMMIT DROP AS SELECT " CHUNK_COLS " FROM chunks WITH NO DATA",
                0, NULL) < 0 ||
        copy_begin(c, "COPY pg_temp.store_chunks (" CHUNK_COLS ") FROM STDIN") < 0)
        return -1;
    buf_init(&b, COPY_BUF_MAX);
    for (size_t i = 0; i < in->nchunks && !failed; i++) {
        const struct chunk *k = &in->chunks[i];

        if (put_field_sep(&b, ids[i], '\t') < 0 || put_field_sep(&b, in->run->tenant_id, '\t') < 0 ||
            put_field_sep(&b, in->run->doc_id, '\t') < 0 || put_field_sep(&b, version_id, '\t') < 0) {
            failed = 1;
            break;
        }
        snprintf(num, sizeof(num), "%zu", i);
        if (put_field_sep(&b, num, '\t') < 0 ||
            store_copy_escape(&b, in->text + k->start, k->end - k->start) < 0 || buf_add(&b, "\t", 1) < 0) {
            failed = 1;
            break;
        }
        snprintf(num, sizeof(num), "%d", k->page_start);
        if (put_field_sep(&b, k->page_start > 0 ? num : NULL, '\t') < 0) {
            failed = 1;
            break;
        }
        snprintf(num, sizeof(num), "%d", k->page_end);
        if (put_field_sep(&b, k->page_end > 0 ? num : NULL, '\t') < 0) {
            failed = 1;
            break;
        }
        snprintf(num, sizeof(num), "%zu", k->start);
        if (put_field_sep(&b, num, '\t') < 0) {
            failed = 1;
            break;
        }
        snprintf(num, sizeof(num), "%zu", k->end);
        if (put_field_sep(&b, num, '\t') < 0 || put_text_sep(&b, k->section, '\t') < 0 ||
            put_text_sep(&b, k->page_label, '\t') < 0 || put_field_sep(&b, chunk_is_ocr(in, k) ? "t" : "f", '\n') < 0) {
            failed = 1;
            break;
        }
        if (b.len >= COPY_FLUSH && copy_flush(c, &b) < 0)
            failed = 1;
    }
    if (!failed && copy_flush(c, &b) < 0)
        failed = 1;
    buf_release(&b);
    return copy_end(c, failed);
}

/* One embedding row in COPY's binary format: chunk_id, tenant_id, model, dim, vector. */
static int put_embedding_row(struct buf *b, const struct store_input *in, const char *id, size_t i)
{
    size_t vec_len = 4 * (size_t)in->dim;   /* the stored form (embed.h) */

    if (put_be16(b, 5) < 0 || put_bin_uuid(b, id) < 0 || put_bin_uuid(b, in->run->tenant_id) < 0 ||
        put_bin_field(b, in->model, strlen(in->model)) < 0 || put_be32(b, 4) < 0 ||
        put_be32(b, (uint32_t)in->dim) < 0 || put_be32(b, (uint32_t)vec_len) < 0)
        return -1;
    return embed_vector_pack(b, in->vectors + i * (size_t)in->dim, in->dim);
}

/* The embeddings by a binary COPY: no float is printed here or parsed by the server
 * (the text form's "%.9g" and float4in were a third of the write's time). */
static int copy_embeddings(PGconn *c, const struct store_input *in, char (*ids)[ID_UUID_LEN + 1])
{
    /* signature, flags, header extension length */
    static const char header[] = "PGCOPY\n\377\r\n\0" "\0\0\0\0" "\0\0\0\0";
    struct buf b;
    int failed = 0;

    if (db_exec(c, "CREATE TEMP TABLE store_embeddings ON COMMIT DROP AS SELECT " EMBED_COLS
                   " FROM chunk_embeddings WITH NO DATA", 0, NULL) < 0 ||
        copy_begin(c, "COPY pg_temp.store_embeddings (" EMBED_COLS ") FROM STDIN (FORMAT binary)") < 0)
        return -1;
    buf_init(&b, COPY_BUF_MAX);
    if (buf_add(&b, header, sizeof(header) - 1) < 0)
        failed = 1;
    for (size_t i = 0; i < in->nchunks && !failed; i++) {
        if (put_embedding_row(&b, in, ids[i], i) < 0 || (b.len >= COPY_FLUSH && copy_flush(c, &b) < 0))
            failed = 1;
    }
    if (!failed && (put_be16(&b, 0xFFFF) < 0 || copy_flush(c, &b) < 0))
        failed = 1;
    buf_release(&b);
    return copy_end(c, failed);
}

/*
 * The copied chunks, then their embeddings, into the tables: each row passes the tenant
 * policy. The chunk's lexemes are computed here, once each (migration 0019): tsv once per
 * chunk (OFFSET 0 keeps the sub-select from being inlined, which would parse the text again
 * for the sketch), head_tsv once per distinct heading path of the write.
 */
static int move_copied(PGconn *c)
{
    if (db_exec(c, "INSERT INTO chunks (" CHUNK_COLS ", tsv, head_tsv, sketch)"
                   " SELECT " STORE_CHUNK_SRC ", l.tsv, h.head_tsv, public.chunk_sketch_tsv(l.tsv)"
                   " FROM pg_temp.store_chunks s"
                   " CROSS JOIN LATERAL (SELECT to_tsvector('english'::regconfig, s.text) AS tsv OFFSET 0) l"
                   " JOIN (SELECT d.k, public.chunk_head_tsv(d.k) AS head_tsv"
                   "       FROM (SELECT DISTINCT coalesce(section, '') AS k FROM pg_temp.store_chunks) d) h"
                   "   ON h.k = coalesce(s.section, '')"
                   " ORDER BY s.ordinal", 0, NULL) < 0)
        return -1;
    return db_exec(c, "INSERT INTO chunk_embeddings (" EMBED_COLS ") SELECT " EMBED_COLS
                      " FROM pg_temp.store_embeddings", 0, NULL);
}

/* One content transaction's inputs and what it decided (db_tx_run() may run it more than once). */
struct store_tx {
    const struct store_input *in;
    char vid[ID_UUID_LEN + 1];
    char (*ids)[ID_UUID_LEN + 1];   /* one per chunk, made once: a retry reuses them */
    int64_t t0;
    int64_t ms_copy, ms_index, ms_activate;   /* parts of the last attempt (durations_ms.write_*) */
    int activate;
};

/* The version row, inactive, with the run's upload time. */
static int insert_version(PGconn *c, const struct store_tx *tx)
{
    const struct store_input *in = tx->in;
    const struct run_owner *r = in->run;
    char bytes[32], pages[16], chars[32];
    const char *p[9] = {tx->vid, r->tenant_id, r->doc_id, r->run_id, in->content_hash, bytes, pages, chars, in->mime};

    /* A version left by an earlier attempt of this run cannot exist (same
     * transaction as the status), but run_id is UNIQUE: never risk a retry loop. */
    if (db_exec(c, "DELETE FROM document_versions WHERE run_id = $1 AND NOT is_active", 1, &p[3]) < 0)
        return -1;
    snprintf(bytes, sizeof(bytes), "%lld", in->byte_size);
    snprintf(pages, sizeof(pages), "%d", in->pages);
    snprintf(chars, sizeof(chars), "%zu", in->chars);
    return db_exec(c, "INSERT INTO document_versions (version_id, tenant_id, doc_id, run_id, content_hash,"
                      " is_active, byte_size, pages, chars, mime, uploaded_at)"
                      " SELECT $1, $2, $3, $4, $5, false, $6::bigint, $7::int, $8::bigint, $9, r.created_at"
                      " FROM ingestion_runs r WHERE r.run_id = $4", 9, p);
}

/* Invariant 7: newest upload (run created_at, then run_id) wins, whatever the finishing order. */
static int activate_version(PGconn *c, struct store_tx *tx)
{
    const struct run_owner *r = tx->in->run;
    const char *p[2] = {r->doc_id, r->run_id};
    PGresult *res = db_query(c,
                             "WITH me AS (SELECT created_at FROM ingestion_runs WHERE run_id = $2)"
                             " SELECT NOT EXISTS (SELECT 1 FROM document_versions v, me"
                             "     WHERE v.doc_id = $1 AND v.is_active AND v.run_id <> $2"
                             "       AND (v.uploaded_at, v.run_id) > (me.created_at, $2::uuid))"
                             "   AND NOT EXISTS (SELECT 1 FROM documents d, me WHERE d.doc_id = $1"
                             "       AND d.deleted_at IS NOT NULL AND d.deleted_at >= me.created_at)",
                             2, p);

    if (!res)
        return -1;
    tx->activate = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!tx->activate)
        return 0;
    p[1] = tx->vid;
    /* Deactivate first: the partial unique index never sees two. */
    if (db_exec(c, "UPDATE document_versions SET is_active = false WHERE doc_id = $1 AND is_active", 1, p) < 0 ||
        db_exec(c, "UPDATE document_versions SET is_active = true WHERE version_id = $2 AND doc_id = $1", 2, p) < 0)
        return -1;
    return 0;
}

/* The run's final stats, then running -> succeeded. 0, STORE_LOST or -1. */
static int succeed_run(PGconn *c, const struct store_tx *tx)
{
    const struct store_input *in = tx->in;
    json_t *durations = json_object_get(in->stats, "durations_ms");
    char *stats_text;
    enum run_write w;

    json_object_set_new(in->stats, "version_id", json_string(tx->vid));
    json_object_set_new(in->stats, "activated", json_boolean(tx->activate));
    if (json_is_object(durations)) {
        json_object_set_new(durations, "write", json_integer(time_mono_ms() - tx->t0));
        json_object_set_new(durations, "write_copy", json_integer(tx->ms_copy));
        json_object_set_new(durations, "write_index", json_integer(tx->ms_index));
        json_object_set_new(durations, "write_activate", json_integer(tx->ms_activate));
        json_object_set_new(durations, "total", json_integer(time_mono_ms() - in->started_mono));
    }
    stats_text = json_dumps(in->stats, JSON_COMPACT);
    if (!stats_text)
        return -1;
    w = run_succeed(c, in->run, stats_text);
    free(stats_text);
    if (w == RUN_WRITE_DB)
        return -1;
    return w == RUN_WRITE_LOST ? STORE_LOST : 0;
}

/* What the extractor found besides the text: the file's title and author. 0 or -1. */
static int store_extras(PGconn *c, const struct store_tx *tx)
{
    const struct store_input *in = tx->in;
    const char *title = in->title ? in->title : "", *author = in->author ? in->author : "";
    const char *p[3] = {tx->vid, title, author};
    const char *q[3] = {in->run->doc_id, title, in->filename ? in->filename : ""};

    if (!title[0] && !author[0])
        return 0;
    if (db_exec(c, "UPDATE document_versions SET meta_title = $2, meta_author = $3 WHERE version_id = $1", 3,
                p) < 0)
        return -1;
    return title[0] ? db_exec(c, "SELECT document_title_from_file($1, $2, $3)", 3, q) : 0;
}

/* The content transaction's body (db_tx_fn): 0 to commit, STORE_LOST or -1 to roll back. */
static int store_tx_body(PGconn *c, void *arg)
{
    struct store_tx *tx = arg;
    const struct store_input *in = tx->in;
    const char *p[1] = {in->run->doc_id};
    enum run_write owned;
    int64_t t;

    /* The run's tenant, whatever the connection went through before (a reconnect has none). */
    if (db_set_tenant(c, in->run->tenant_id) < 0 ||
        db_exec(c, "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))", 1, p) < 0)
        return -1;
    /* Still ours? (Taken over, or failed by the crash guard, while we worked.) */
    owned = run_check_owner(c, in->run);
    if (owned != RUN_WRITE_OK)
        return owned == RUN_WRITE_LOST ? STORE_LOST : -1;
    if (insert_version(c, tx) < 0)
        return -1;
    t = time_mono_ms();
    if (in->nchunks && (copy_chunks(c, in, tx->vid, tx->ids) < 0 || copy_embeddings(c, in, tx->ids) < 0))
        return -1;
    tx->ms_copy = time_mono_ms() - t;
    t = time_mono_ms();
    /* the rows into the tables: to_tsvector (the generated tsv), the indexes */
    if (in->nchunks && move_copied(c) < 0)
        return -1;
    tx->ms_index = time_mono_ms() - t;
    if (store_extras(c, tx) < 0)
        return -1;
    t = time_mono_ms();
    /* activation: the term statistics' triggers run here */
    if (activate_version(c, tx) < 0)
        return -1;
    tx->ms_activate = time_mono_ms() - t;
    return succeed_run(c, tx);
}

enum store_result store_write(PGconn *c, const struct store_input *in, int *activated, char *version_id)
{
    struct store_tx tx;
    int rc;

    *activated = 0;
    memset(&tx, 0, sizeof(tx));
    tx.in = in;
    tx.t0 = time_mono_ms();
    if (in->nchunks) {
        tx.ids = calloc(in->nchunks, sizeof(*tx.ids));
        if (!tx.ids)
            return STORE_DB;
        for (size_t i = 0; i < in->nchunks; i++)
            id_uuid_new(tx.ids[i]);
    }
    id_uuid_new(tx.vid);
    rc = db_tx_run(c, STORE_TX_ATTEMPTS, store_tx_body, &tx);
    free(tx.ids);
    if (rc == STORE_LOST)
        return STORE_LOST;
    if (rc != 0)
        return STORE_DB;
    *activated = tx.activate;
    snprintf(version_id, ID_UUID_LEN + 1, "%s", tx.vid);
    return STORE_OK;
}

int store_merge_index(PGconn *c)
{
    return db_exec(c, "SELECT chunks_index_merge()", 0, NULL);
}
