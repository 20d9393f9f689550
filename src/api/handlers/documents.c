/*
 * documents.c - GET /v1/documents, GET /v1/documents/:doc_id and the admin's
 * DELETE /v1/documents/:doc_id (docs/api.md, docs/retrieval.md "Documents").
 *
 * Every statement is confined to the caller's tenant (from the token). A
 * document of another tenant, a missing one and a malformed id all answer the
 * same 404. Deletion is soft: the document is marked deleted (who and when) and
 * all its versions deactivated in the same transaction, through the one
 * SECURITY DEFINER function core-api may call for that (db/migrations/0002).
 */
#include "api/handlers/documents.h"

#include "api/handlers/params.h"
#include "api/handlers/rows.h"
#include "common/db.h"
#include "common/ids.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOCS_LIMIT_DEFAULT 20
#define DOCS_TITLE_MAX 500
/* The message of a statement error that is the request's fault (req_db_error). */
#define DOCS_DB_WHAT "invalid document request"

/*
 * The page and the total in one statement: the count row is always there,
 * the page columns are NULL when the offset is past the end.
 * $2: include inactive (admins only), $3: ILIKE pattern or NULL, $7: the
 * source the documents came from (source_objects, the sync's record) or NULL.
 */
static const char list_sql[] =
    "WITH m AS ("
    "  SELECT d.doc_id, d.title, d.source_type, d.source_uri, d.created_at, d.updated_at,"
    "         v.version_id AS active_version_id, d.deleted_at, d.tenant_id, v.run_id AS active_run_id,"
    "         v.mime, v.pages, v.byte_size"
    "    FROM documents d"
    "    LEFT JOIN document_versions v"
    "      ON v.doc_id = d.doc_id AND v.is_active AND v.tenant_id = d.tenant_id AND d.deleted_at IS NULL"
    "   WHERE d.tenant_id = $1"
    "     AND ($2::boolean OR (v.version_id IS NOT NULL AND d.deleted_at IS NULL))"
    "     AND ($3::text IS NULL OR d.title ILIKE $3 ESCAPE '\\')"
    "     AND ($7::uuid IS NULL OR EXISTS (SELECT 1 FROM source_objects o"
    "                                       WHERE o.tenant_id = d.tenant_id AND o.doc_id = d.doc_id"
    "                                         AND o.source_id = $7::uuid))"
    ")"
    "SELECT t.total, p.doc_id, p.title, p.source_type, p.source_uri, " DB_TS("p.created_at") ", "
    DB_TS("p.updated_at") ", p.active_version_id, " DB_TS("p.deleted_at") ","
    "       p.mime, p.pages, p.byte_size,"
    /* Extras of the page's rows only: the uploader (of the active version, else of the newest run), the state. */
    "       (SELECT u.email FROM ingestion_runs r JOIN users u ON u.tenant_id = r.tenant_id"
    "                AND u.user_id::text = r.config->>'created_by_user_id'"
    "         WHERE r.doc_id = p.doc_id AND r.tenant_id = p.tenant_id"
    "         ORDER BY r.run_id = p.active_run_id DESC, r.created_at DESC LIMIT 1),"
    "       CASE WHEN p.deleted_at IS NOT NULL THEN 'deleted' WHEN p.active_version_id IS NOT NULL THEN 'active'"
    "            WHEN EXISTS (SELECT 1 FROM ingestion_runs r WHERE r.doc_id = p.doc_id AND r.tenant_id = p.tenant_id"
    "                          AND r.status IN ('queued', 'running')) THEN 'processing' ELSE 'failed' END"
    "  FROM (SELECT count(*) AS total FROM m) t"
    "  LEFT JOIN LATERAL (SELECT * FROM m ORDER BY"
    "       CASE WHEN $6 = 'title' THEN lower(m.title) END, CASE WHEN $6 = 'size' THEN m.byte_size END DESC NULLS LAST,"
    "       CASE WHEN $6 = 'pages' THEN m.pages END DESC NULLS LAST, m.updated_at DESC, m.doc_id"
    "       LIMIT $4 OFFSET $5) p ON true";

enum { L_TOTAL, L_DOC, L_TITLE, L_STYPE, L_URI, L_CREATED, L_UPDATED, L_ACTIVE, L_DELETED, L_MIME, L_PAGES, L_BYTES,
       L_BY, L_STATE };

/* A deleted document never shows an active version, even if a late run activated one. */
static const char doc_sql[] =
    "SELECT d.doc_id, d.title, d.source_type, d.source_uri, " DB_TS("d.created_at") ", " DB_TS("d.updated_at") ","
    "       CASE WHEN d.deleted_at IS NULL THEN"
    "         (SELECT v.version_id FROM document_versions v"
    "           WHERE v.doc_id = d.doc_id AND v.tenant_id = d.tenant_id AND v.is_active) END,"
    "       " DB_TS("d.deleted_at") ", d.deleted_by,"
    "       (SELECT u.email FROM users u WHERE u.user_id = d.deleted_by AND u.tenant_id = d.tenant_id),"
    "       CASE WHEN d.deleted_at IS NOT NULL THEN 'deleted'"
    "            WHEN EXISTS (SELECT 1 FROM document_versions v WHERE v.doc_id = d.doc_id"
    "                          AND v.tenant_id = d.tenant_id AND v.is_active) THEN 'active'"
    "            WHEN EXISTS (SELECT 1 FROM ingestion_runs r WHERE r.doc_id = d.doc_id AND r.tenant_id = d.tenant_id"
    "                          AND r.status IN ('queued', 'running')) THEN 'processing' ELSE 'failed' END"
    "  FROM documents d WHERE d.doc_id = $1 AND d.tenant_id = $2";

enum { D_DOC, D_TITLE, D_STYPE, D_URI, D_CREATED, D_UPDATED, D_ACTIVE, D_DELETED, D_DELETED_BY, D_DELETED_EMAIL,
       D_STATE };

static const char versions_sql[] =
    "SELECT v.version_id, v.run_id, v.content_hash, v.is_active AND d.deleted_at IS NULL, v.byte_size,"
    "       v.pages, v.mime, (SELECT count(*) FROM chunks c WHERE c.version_id = v.version_id),"
    "       " DB_TS("v.created_at") ", r.status, " DB_TS("v.uploaded_at") ","
    "       (SELECT u.email FROM users u WHERE u.tenant_id = v.tenant_id"
    "           AND u.user_id::text = r.config->>'created_by_user_id'),"
    "       r.config->>'original_filename',"
    /* Why a version is not served (docs/api.md "Versions"). */
    "       CASE WHEN d.deleted_at IS NOT NULL THEN 'deleted' WHEN v.is_active THEN NULL"
    "            WHEN r.stats->>'activated' = 'false' THEN 'finished_late' ELSE 'superseded' END"
    "  FROM document_versions v"
    "  JOIN documents d ON d.doc_id = v.doc_id"
    "  LEFT JOIN ingestion_runs r ON r.run_id = v.run_id AND r.tenant_id = v.tenant_id"
    " WHERE v.doc_id = $1 AND v.tenant_id = $2"
    " ORDER BY v.uploaded_at DESC, v.created_at DESC, v.version_id";

enum { V_VERSION, V_RUN, V_HASH, V_ACTIVE, V_BYTES, V_PAGES, V_MIME, V_CHUNKS, V_CREATED, V_RUN_STATUS,
       V_UPLOADED, V_BY, V_FILENAME, V_REASON };

static const char runs_sql[] =
    "SELECT r.run_id, r.status, " DB_TS("r.created_at") ", " DB_TS("r.finished_at") ", r.error"
    "  FROM ingestion_runs r WHERE r.doc_id = $1 AND r.tenant_id = $2"
    " ORDER BY r.created_at DESC, r.run_id LIMIT 50";

static const char delete_sql[] =
    "UPDATE documents SET deleted_at = now(), deleted_by = $3, updated_at = now(),"
    /* Final: the content may come back only as a new document (migration 0010). */
    "       source_uri = CASE WHEN source_type = 'upload' AND source_uri LIKE 'upload://sha256:%'"
    "                         THEN source_uri || '#deleted-' || doc_id::text ELSE source_uri END"
    " WHERE doc_id = $1 AND tenant_id = $2 AND deleted_at IS NULL RETURNING doc_id";
static const char exists_sql[] = "SELECT 1 FROM documents WHERE doc_id = $1 AND tenant_id = $2";
static const char deactivate_sql[] = "SELECT deactivate_document_versions($2, $1)";

/* "%" + title with \ % _ escaped + "%", for ILIKE ... ESCAPE '\'. */
static char *title_pattern(struct arena *a, const char *t)
{
    size_t n = strlen(t), i, o = 0;
    char *p = arena_alloc(a, 2 * n + 3);

    if (!p)
        return NULL;
    p[o++] = '%';
    for (i = 0; i < n; i++) {
        if (t[i] == '\\' || t[i] == '%' || t[i] == '_')
            p[o++] = '\\';
        p[o++] = t[i];
    }
    p[o++] = '%';
    p[o] = '\0';
    return p;
}

/* The ILIKE pattern of a non-empty title filter (valid UTF-8: params_query) into *pattern; -1 after answering. */
static int title_filter(struct req *r, const char *title, const char **pattern)
{
    size_t n = strlen(title);

    if (n > DOCS_TITLE_MAX) {
        req_error(r, API_ERR_BAD_REQUEST, "title filter is too long");
        return -1;
    }
    *pattern = title_pattern(&r->arena, title);
    if (!*pattern) {
        req_error(r, API_ERR_INTERNAL, "out of memory");
        return -1;
    }
    return 0;
}

/* One page of the listing, from the query string. */
struct docs_page {
    struct params_page page;
    int include_inactive;    /* admins only */
    const char *pattern;     /* ILIKE pattern of the title filter, or NULL */
    const char *sort;        /* updated (default), title, size, pages */
    const char *source_id;   /* documents of this source only, or NULL */
};

/* Fill p from the query string (an empty value counts as absent); -1 after answering 400. */
static int docs_page_parse(struct req *r, struct docs_page *p)
{
    const char *q_title, *q_inactive;

    p->pattern = NULL;
    if (params_page(r, DOCS_LIMIT_DEFAULT, &p->page) < 0 || params_query(r, "title", &q_title) < 0 ||
        params_query(r, "include_inactive", &q_inactive) < 0)
        return -1;
    if (q_title && title_filter(r, q_title, &p->pattern) < 0)
        return -1;
    if (params_query(r, "sort", &p->sort) < 0 || params_query(r, "source_id", &p->source_id) < 0)
        return -1;
    if (p->source_id && !id_is_uuid(p->source_id)) {
        req_error(r, API_ERR_BAD_REQUEST, "source_id must be a UUID");
        return -1;
    }
    if (!p->sort)
        p->sort = "updated";
    if (strcmp(p->sort, "updated") && strcmp(p->sort, "title") && strcmp(p->sort, "size") && strcmp(p->sort, "pages")) {
        req_error(r, API_ERR_BAD_REQUEST, "sort must be one of updated, title, size, pages");
        return -1;
    }
    if (q_inactive && strcmp(q_inactive, "true") != 0 && strcmp(q_inactive, "false") != 0) {
        req_error(r, API_ERR_BAD_REQUEST, "include_inactive must be true or false");
        return -1;
    }
    /* include_inactive is an admin view; for users it is ignored (docs/api.md). */
    p->include_inactive = q_inactive && strcmp(q_inactive, "true") == 0 && r->principal.role == ROLE_ADMIN;
    return 0;
}

/* The documents of a list_sql result (the count row of an empty page has none). */
static json_t *docs_page_json(const PGresult *res)
{
    json_t *docs = json_array();

    for (int i = 0; i < PQntuples(res); i++) {
        if (!db_val(res, i, L_DOC))
            continue;
        json_array_append_new(
            docs, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "doc_id", db_val(res, i, L_DOC),
                            "title", db_val(res, i, L_TITLE), "source_type", db_val(res, i, L_STYPE),
                            "source_uri", db_val(res, i, L_URI), "created_at", db_val(res, i, L_CREATED),
                            "updated_at", db_val(res, i, L_UPDATED),
                            "active_version_id", rows_str(db_val(res, i, L_ACTIVE)),
                            "deleted_at", rows_str(db_val(res, i, L_DELETED))));
        json_object_update_missing_new(
            json_array_get(docs, json_array_size(docs) - 1),
            json_pack("{s:o,s:o,s:o,s:o,s:s}", "mime", rows_str(db_val(res, i, L_MIME)), "pages",
                      rows_int(db_val(res, i, L_PAGES)), "byte_size", rows_int(db_val(res, i, L_BYTES)),
                      "uploaded_by", rows_str(db_val(res, i, L_BY)), "state", db_val(res, i, L_STATE)));
    }
    return docs;
}

void documents_list(struct req *r)
{
    struct docs_page p;
    char limit_s[24], offset_s[24];
    const char *params[7];
    PGresult *res;

    if (docs_page_parse(r, &p) < 0)
        return;
    snprintf(limit_s, sizeof(limit_s), "%lld", p.page.limit);
    snprintf(offset_s, sizeof(offset_s), "%lld", p.page.offset);
    params[0] = r->principal.tenant_id;
    params[1] = p.include_inactive ? "true" : "false";
    params[2] = p.pattern;
    params[3] = limit_s;
    params[4] = offset_s;
    params[5] = p.sort;
    params[6] = p.source_id;
    res = rows_query(r, list_sql, 7, params, DOCS_DB_WHAT);
    if (!res)
        return;
    req_json(r, 200, json_pack("{s:o,s:I,s:I,s:I}", "documents", docs_page_json(res), "total",
                               (json_int_t)(PQntuples(res) ? strtoll(db_val(res, 0, L_TOTAL), NULL, 10) : 0),
                               "limit", (json_int_t)p.page.limit, "offset", (json_int_t)p.page.offset));
}

static json_t *versions_json(const PGresult *vers)
{
    json_t *versions = json_array();

    for (int i = 0; i < PQntuples(vers); i++) {
        json_array_append_new(
            versions,
            json_pack("{s:s,s:s,s:s,s:b,s:o,s:o,s:s,s:o,s:s,s:o,s:s}", "version_id", db_val(vers, i, V_VERSION),
                      "run_id", db_val(vers, i, V_RUN), "content_hash", db_val(vers, i, V_HASH),
                      "is_active", strcmp(db_val(vers, i, V_ACTIVE), "t") == 0,
                      "byte_size", rows_int(db_val(vers, i, V_BYTES)),
                      "pages", rows_int(db_val(vers, i, V_PAGES)), "mime", db_val(vers, i, V_MIME),
                      "chunks", rows_int(db_val(vers, i, V_CHUNKS)),
                      "created_at", db_val(vers, i, V_CREATED),
                      "run_status", rows_str(db_val(vers, i, V_RUN_STATUS)),
                      "uploaded_at", db_val(vers, i, V_UPLOADED)));
        json_object_set_new(json_array_get(versions, json_array_size(versions) - 1), "uploaded_by",
                            rows_str(db_val(vers, i, V_BY)));
        json_object_set_new(json_array_get(versions, json_array_size(versions) - 1), "original_filename",
                            rows_str(db_val(vers, i, V_FILENAME)));
        json_object_set_new(json_array_get(versions, json_array_size(versions) - 1), "inactive_reason",
                            rows_str(db_val(vers, i, V_REASON)));
    }
    return versions;
}

static json_t *runs_json(const PGresult *runs)
{
    json_t *jruns = json_array();

    for (int i = 0; i < PQntuples(runs); i++) {
        json_array_append_new(jruns, json_pack("{s:s,s:s,s:s,s:o,s:o}", "run_id", db_val(runs, i, 0),
                                               "status", db_val(runs, i, 1), "created_at", db_val(runs, i, 2),
                                               "finished_at", rows_str(db_val(runs, i, 3)),
                                               "error", rows_str(db_val(runs, i, 4))));
    }
    return jruns;
}

/* The Document object of a doc_sql row, with its versions and runs (both stolen). */
static json_t *document_json(const PGresult *doc, json_t *versions, json_t *runs)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "doc_id", db_val(doc, 0, D_DOC),
                     "title", db_val(doc, 0, D_TITLE), "source_type", db_val(doc, 0, D_STYPE),
                     "source_uri", db_val(doc, 0, D_URI), "created_at", db_val(doc, 0, D_CREATED),
                     "updated_at", db_val(doc, 0, D_UPDATED),
                     "active_version_id", rows_str(db_val(doc, 0, D_ACTIVE)),
                     "deleted_at", rows_str(db_val(doc, 0, D_DELETED)),
                     "deleted_by", rows_str(db_val(doc, 0, D_DELETED_BY)),
                     "versions", versions, "runs", runs);
}

void documents_get(struct req *r)
{
    const char *params[2];
    PGresult *doc, *vers, *runs;
    json_t *body;

    doc = rows_by_id(r, doc_sql, DOCS_DB_WHAT, "document not found");
    if (!doc)
        return;
    params[0] = r->params[0];   /* a UUID: rows_by_id has checked it */
    params[1] = r->principal.tenant_id;
    vers = rows_query(r, versions_sql, 2, params, DOCS_DB_WHAT);
    runs = vers ? rows_query(r, runs_sql, 2, params, DOCS_DB_WHAT) : NULL;
    if (!runs)
        return;
    body = document_json(doc, versions_json(vers), runs_json(runs));
    if (body && json_object_set_new(body, "deleted_by_email", rows_str(db_val(doc, 0, D_DELETED_EMAIL))) == 0)
        json_object_set_new(body, "state", json_string(db_val(doc, 0, D_STATE)));
    if (!body) {
        req_error(r, API_ERR_INTERNAL, "out of memory");
        return;
    }
    req_json(r, 200, body);
}

struct delete_args {
    const char *const *params;
    long deactivated;
};

/*
 * The deletion transaction's body (db_tx_fn). Returns 0 (deleted or already
 * deleted; deactivated set), 1 (no such document in the tenant), -1 (database
 * failure).
 */
static int delete_tx(PGconn *db, void *arg)
{
    struct delete_args *d = arg;
    const char *const *params = d->params;
    PGresult *res = NULL;
    int rc = -1;

    /*
     * The worker's activation lock (store.c), taken first: without it a run committing
     * while this transaction runs can activate a version this deactivation cannot see
     * (inserted by an uncommitted transaction), leaving a deleted document with an
     * active version. With it, either the run commits first (and its version is
     * deactivated below) or it waits and then sees deleted_at, and stays inactive.
     * ::uuid::text: the same key as the worker's (lower case) whatever the URL's case.
     */
    if (db_exec(db, "SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text, 0))", 1, params) < 0)
        goto out;
    res = db_query(db, delete_sql, 3, params);
    if (!res)
        goto out;
    if (PQntuples(res) == 0) {
        /* Already deleted (keep who and when of the first deletion) or not ours. */
        PQclear(res);
        res = db_query(db, exists_sql, 2, params);
        if (!res)
            goto out;
        if (PQntuples(res) == 0) {
            rc = 1;
            goto out;
        }
    }
    PQclear(res);
    /* Repeated on an already deleted document too: it also catches a version a late run activated. */
    res = db_query(db, deactivate_sql, 2, params);
    if (!res)
        goto out;
    d->deactivated = strtol(db_val(res, 0, 0) ? db_val(res, 0, 0) : "0", NULL, 10);
    rc = 0;
out:
    PQclear(res);
    return rc;
}

void documents_delete(struct req *r)
{
    const char *doc_id = params_id(r, 0, "document not found");
    const char *params[3];
    PGconn *db;
    struct delete_args args = {params, 0};
    int rc;

    if (!doc_id)
        return;
    db = req_db(r);
    if (!db)
        return;
    params[0] = doc_id;
    params[1] = r->principal.tenant_id;
    params[2] = id_is_uuid(r->principal.user_id) ? r->principal.user_id : NULL;
    /* A deadlock with a worker activating a version of the same document is retried once. */
    rc = db_tx_run(db, 2, delete_tx, &args);
    if (rc == 1) {
        req_error(r, API_ERR_NOT_FOUND, "document not found");
        return;
    }
    if (rc < 0) {
        req_db_error(r, DOCS_DB_WHAT);
        return;
    }
    log_info("document deleted", json_pack("{s:s,s:s,s:s,s:i}", "tenant_id", r->principal.tenant_id,
                                           "doc_id", doc_id, "user_id", r->principal.user_id,
                                           "deactivated_versions", (int)args.deactivated));
    req_json(r, 200, json_pack("{s:s,s:b,s:I}", "doc_id", doc_id, "deleted", 1,
                               "deactivated_versions", (json_int_t)args.deactivated));
}
