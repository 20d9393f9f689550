#include "worker/store.h"

#include "common/db.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COPY_FLUSH (1u << 20)
#define COPY_BUF_MAX ((size_t)64 << 20)

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

int store_vector_literal(struct buf *b, const float *v, int dim)
{
    if (buf_add(b, "{", 1) < 0)
        return -1;
    for (int i = 0; i < dim; i++) {
        float x = isfinite(v[i]) ? v[i] : 0.0f;

        if (buf_addf(b, i ? ",%.9g" : "%.9g", (double)x) < 0)
            return -1;
    }
    return buf_add(b, "}", 1);
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

static int copy_chunks(PGconn *c, const struct store_input *in, const char *version_id, char (*ids)[ID_UUID_LEN + 1])
{
    struct buf b;
    int failed = 0;
    char num[32];

    if (copy_begin(c, "COPY chunks (chunk_id, tenant_id, doc_id, version_id, ordinal, text, page_start,"
                      " page_end, char_start, char_end) FROM STDIN") < 0)
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
        if (put_field_sep(&b, num, '\n') < 0) {
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

static int copy_embeddings(PGconn *c, const struct store_input *in, char (*ids)[ID_UUID_LEN + 1])
{
    struct buf b;
    int failed = 0;
    char dim[16];

    if (copy_begin(c, "COPY chunk_embeddings (chunk_id, tenant_id, model, dim, vector) FROM STDIN") < 0)
        return -1;
    snprintf(dim, sizeof(dim), "%d", in->dim);
    buf_init(&b, COPY_BUF_MAX);
    for (size_t i = 0; i < in->nchunks; i++) {
        if (put_field_sep(&b, ids[i], '\t') < 0 || put_field_sep(&b, in->run->tenant_id, '\t') < 0 ||
            store_copy_escape(&b, in->model, strlen(in->model)) < 0 || buf_add(&b, "\t", 1) < 0 ||
            put_field_sep(&b, dim, '\t') < 0 ||
            store_vector_literal(&b, in->vectors + i * (size_t)in->dim, in->dim) < 0 ||
            buf_add(&b, "\n", 1) < 0) {
            failed = 1;
            break;
        }
        if (b.len >= COPY_FLUSH && copy_flush(c, &b) < 0) {
            failed = 1;
            break;
        }
    }
    if (!failed && copy_flush(c, &b) < 0)
        failed = 1;
    buf_release(&b);
    return copy_end(c, failed);
}

enum store_result store_write(PGconn *c, const struct store_input *in, int *activated, char *version_id)
{
    const struct job_run *r = in->run;
    char vid[ID_UUID_LEN + 1], attempt[16], bytes[32], pages[16], chars[32];
    char (*ids)[ID_UUID_LEN + 1] = NULL;
    const char *p[11];
    PGresult *res = NULL;
    char *stats_text = NULL;
    enum store_result rc = STORE_DB;
    int activate = 0;
    int64_t t0 = time_mono_ms();
    json_t *durations;

    *activated = 0;
    snprintf(attempt, sizeof(attempt), "%d", r->attempt);
    if (in->nchunks) {
        ids = calloc(in->nchunks, sizeof(*ids));
        if (!ids)
            return STORE_DB;
        for (size_t i = 0; i < in->nchunks; i++)
            id_uuid_new(ids[i]);
    }
    id_uuid_new(vid);

    if (db_tx_begin(c) < 0)
        goto out;
    p[0] = r->doc_id;
    if (db_exec(c, "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))", 1, p) < 0)
        goto out;

    /* Still ours? (Taken over, or failed by the crash guard, while we worked.) */
    p[0] = r->run_id;
    p[1] = r->tenant_id;
    p[2] = attempt;
    res = db_query(c, "SELECT 1 FROM ingestion_runs WHERE run_id = $1 AND tenant_id = $2"
                      " AND status = 'running' AND attempt = $3::int", 3, p);
    if (!res)
        goto out;
    if (PQntuples(res) != 1) {
        rc = STORE_LOST;
        goto out;
    }
    PQclear(res);
    res = NULL;

    /* A version left by an earlier attempt of this run cannot exist (same
     * transaction as the status), but run_id is UNIQUE: never risk a retry loop. */
    p[0] = r->run_id;
    if (db_exec(c, "DELETE FROM document_versions WHERE run_id = $1 AND NOT is_active", 1, p) < 0)
        goto out;

    snprintf(bytes, sizeof(bytes), "%lld", in->byte_size);
    snprintf(pages, sizeof(pages), "%d", in->pages);
    snprintf(chars, sizeof(chars), "%zu", in->chars);
    p[0] = vid;
    p[1] = r->tenant_id;
    p[2] = r->doc_id;
    p[3] = r->run_id;
    p[4] = in->content_hash;
    p[5] = bytes;
    p[6] = pages;
    p[7] = chars;
    p[8] = in->mime;
    if (db_exec(c, "INSERT INTO document_versions (version_id, tenant_id, doc_id, run_id, content_hash,"
                   " is_active, byte_size, pages, chars, mime, uploaded_at)"
                   " SELECT $1, $2, $3, $4, $5, false, $6::bigint, $7::int, $8::bigint, $9, r.created_at"
                   " FROM ingestion_runs r WHERE r.run_id = $4", 9, p) < 0)
        goto out;

    if (in->nchunks) {
        if (copy_chunks(c, in, vid, ids) < 0 || copy_embeddings(c, in, ids) < 0)
            goto out;
    }

    /* Invariant 7: newest upload (run created_at, then run_id) wins, whatever the finishing order. */
    p[0] = r->doc_id;
    p[1] = r->run_id;
    res = db_query(c,
                   "WITH me AS (SELECT created_at FROM ingestion_runs WHERE run_id = $2)"
                   " SELECT NOT EXISTS (SELECT 1 FROM document_versions v, me"
                   "     WHERE v.doc_id = $1 AND v.is_active AND v.run_id <> $2"
                   "       AND (v.uploaded_at, v.run_id) > (me.created_at, $2::uuid))"
                   "   AND NOT EXISTS (SELECT 1 FROM documents d, me WHERE d.doc_id = $1"
                   "       AND d.deleted_at IS NOT NULL AND d.deleted_at >= me.created_at)",
                   2, p);
    if (!res)
        goto out;
    activate = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    res = NULL;
    if (activate) {
        p[0] = r->doc_id;
        p[1] = vid;
        /* Deactivate first: the partial unique index never sees two. */
        if (db_exec(c, "UPDATE document_versions SET is_active = false WHERE doc_id = $1 AND is_active", 1, p) < 0 ||
            db_exec(c, "UPDATE document_versions SET is_active = true WHERE version_id = $2 AND doc_id = $1", 2, p) < 0)
            goto out;
    }

    json_object_set_new(in->stats, "version_id", json_string(vid));
    json_object_set_new(in->stats, "activated", json_boolean(activate));
    durations = json_object_get(in->stats, "durations_ms");
    if (json_is_object(durations)) {
        json_object_set_new(durations, "write", json_integer(time_mono_ms() - t0));
        json_object_set_new(durations, "total", json_integer(time_mono_ms() - in->started_mono));
    }
    stats_text = json_dumps(in->stats, JSON_COMPACT);
    if (!stats_text)
        goto out;
    p[0] = r->run_id;
    p[1] = r->tenant_id;
    p[2] = attempt;
    p[3] = stats_text;
    res = db_query(c, "UPDATE ingestion_runs SET status = 'succeeded', finished_at = now(), updated_at = now(),"
                      " error = NULL, stats = stats || $4::jsonb"
                      " WHERE run_id = $1 AND tenant_id = $2 AND status = 'running' AND attempt = $3::int",
                   4, p);
    if (!res)
        goto out;
    if (strcmp(PQcmdTuples(res), "1") != 0) {
        rc = STORE_LOST;
        goto out;
    }
    if (db_tx_commit(c) < 0)
        goto out;
    rc = STORE_OK;
    *activated = activate;
    snprintf(version_id, ID_UUID_LEN + 1, "%s", vid);
out:
    if (rc != STORE_OK)
        db_tx_rollback(c);
    PQclear(res);
    free(stats_text);
    free(ids);
    return rc;
}
