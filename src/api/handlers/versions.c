/*
 * versions.c - one version of a document: its original file, its chunks, and
 * the admin's re-activation (docs/api.md "Versions").
 *
 *   GET  /v1/documents/:doc_id/versions/:version_id/content   the uploaded bytes
 *   GET  /v1/documents/:doc_id/versions/:version_id/chunks    the extracted text, chunk by chunk
 *   POST /v1/documents/:doc_id/versions/:version_id/activate  (admin) make it the active one
 *
 * Every statement carries the caller's tenant; another tenant's ids, a
 * malformed id and a missing one answer the same 404, and so does any version
 * of a deleted document (a deletion stops serving its content, not only its
 * search results). The original file is found through the run that made the
 * version (its config's upload_uri, opened by upload_store_open inside the
 * tenant's folder of the local store or its prefix of the S3 store): no path
 * or store detail reaches the answer.
 */
#include "api/handlers/versions.h"

#include "api/handlers/params.h"
#include "api/handlers/rows.h"
#include "api/upload_store.h"
#include "common/db.h"
#include "common/log.h"
#include "common/sniff.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define VERSIONS_DB_WHAT "invalid version request"
#define VERSION_NOT_FOUND "version not found"
/* At most this many chunks in one answer of /chunks (the text view of a long file is cut there). */
#define CHUNKS_MAX 2000

/* The version of the path, its document not deleted. $1 version, $2 doc, $3 tenant. */
static const char file_sql[] =
    "SELECT v.mime, r.config->>'upload_uri', coalesce(r.config->>'original_filename', ''), d.title"
    "  FROM document_versions v"
    "  JOIN documents d ON d.doc_id = v.doc_id AND d.tenant_id = v.tenant_id AND d.deleted_at IS NULL"
    "  JOIN ingestion_runs r ON r.run_id = v.run_id AND r.tenant_id = v.tenant_id"
    " WHERE v.version_id = $1 AND v.doc_id = $2 AND v.tenant_id = $3";

enum { F_MIME, F_URI, F_NAME, F_TITLE };

static const char chunks_sql[] =
    "SELECT c.chunk_id, c.ordinal, c.text, c.page_start, c.page_end, c.char_start, c.char_end"
    "  FROM chunks c"
    "  JOIN document_versions v ON v.version_id = c.version_id AND v.tenant_id = c.tenant_id"
    "  JOIN documents d ON d.doc_id = v.doc_id AND d.tenant_id = v.tenant_id AND d.deleted_at IS NULL"
    " WHERE c.version_id = $1 AND v.doc_id = $2 AND c.tenant_id = $3"
    "   AND ($4::uuid IS NULL OR c.chunk_id = $4::uuid)"
    " ORDER BY c.ordinal LIMIT 2001";   /* CHUNKS_MAX + 1: tells a cut list */

/* The two path ids into p[0] (version) and p[1] (doc), p[2] the tenant. -1 after answering 404. */
static int version_params(struct req *r, const char **p)
{
    p[1] = params_id(r, 0, VERSION_NOT_FOUND);
    if (!p[1])
        return -1;
    p[0] = params_id(r, 1, VERSION_NOT_FOUND);
    if (!p[0])
        return -1;
    p[2] = r->principal.tenant_id;
    return 0;
}

/*
 * Decimal digits at *h into *v (moving *h past them): 1, 0 when there are none.
 * A number past UINT64_MAX saturates there: no file is that long, so a first
 * byte that large is past the end (a 416) and a last byte or suffix that large
 * means "to the end" / "the whole file", as the RFC reads any too-large value.
 */
static int range_number(const char **h, uint64_t *v)
{
    if (**h < '0' || **h > '9')
        return 0;
    *v = 0;
    for (; **h >= '0' && **h <= '9'; (*h)++) {
        unsigned d = (unsigned)(**h - '0');

        *v = *v > (UINT64_MAX - d) / 10 ? UINT64_MAX : *v * 10 + d;
    }
    return 1;
}

int versions_range_parse(const char *h, uint64_t size, uint64_t *start, uint64_t *len)
{
    uint64_t a = 0, b = 0;
    int have_a, have_b;

    /* Not one byte range: the whole file (RFC 9110 14.2 lets a server ignore it).
     * The unit is compared without regard to case (RFC 9110 14.1). */
    if (!h || strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    h += 6;
    have_a = range_number(&h, &a);
    if (*h++ != '-')
        return 0;
    have_b = range_number(&h, &b);
    if (*h != '\0' || (!have_a && !have_b))
        return 0;
    if (!have_a) {                       /* bytes=-N: the last N bytes */
        if (b == 0 || size == 0)
            return -1;
        *start = b >= size ? 0 : size - b;
        *len = size - *start;
        return 1;
    }
    if (a >= size || (have_b && b < a))
        return -1;
    *start = a;
    *len = (have_b && b < size - 1 ? b : size - 1) - a + 1;
    return 1;
}

/* Content-Disposition: inline only for types the browser shows safely; an ASCII name and the UTF-8 one. */
static void set_disposition(struct req *r, const char *mime, const char *name, int download)
{
    char ascii[256], enc[1024], v[1400];
    size_t i, o = 0, e = 0;
    int inl = !download && (strcmp(mime, SNIFF_MIME_PDF) == 0 || strcmp(mime, "text/plain") == 0 ||
                            strcmp(mime, "text/markdown") == 0);

    for (i = 0; name[i] && o < sizeof(ascii) - 1; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c >= 0x80 && c < 0xc0)
            continue;   /* one '_' per UTF-8 character, not per byte */
        ascii[o++] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%' && c != ';' ? (char)c : '_';
    }
    ascii[o] = '\0';
    for (i = 0; name[i] && e < sizeof(enc) - 4; i++) {
        unsigned char c = (unsigned char)name[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~", c))
            enc[e++] = (char)c;
        else
            e += (size_t)snprintf(enc + e, sizeof(enc) - e, "%%%02X", c);
    }
    enc[e] = '\0';
    snprintf(v, sizeof(v), "%s; filename=\"%s\"; filename*=UTF-8''%s", inl ? "inline" : "attachment",
             o ? ascii : "document", e ? enc : "document");
    req_set_header(r, "Content-Disposition", v);
}

/* The file's Content-Type: the version's type, text in UTF-8 (what the upload check accepted). */
static const char *content_type(const char *mime)
{
    if (strcmp(mime, "text/plain") == 0)
        return "text/plain; charset=utf-8";
    if (strcmp(mime, "text/markdown") == 0)
        return "text/markdown; charset=utf-8";
    return mime;
}

/* Open the version's upload (either store): fd and size, or -1 after answering 404. */
static int open_original(struct req *r, const PGresult *res, uint64_t *size)
{
    int fd = upload_store_open(r->app->cfg->upload_dir, r->principal.tenant_id, db_val(res, 0, F_URI),
                               (uint64_t)r->app->cfg->max_upload_bytes, size);

    if (fd < 0)
        req_error(r, API_ERR_NOT_FOUND, "the original file of this version is not kept");
    return fd;
}

void versions_content(struct req *r)
{
    const char *p[3], *dl;
    char cr[96];
    uint64_t size = 0, start = 0, len = 0;
    PGresult *res;
    int fd, rc;

    if (version_params(r, p) < 0 || params_query(r, "download", &dl) < 0)
        return;
    res = rows_query(r, file_sql, 3, p, VERSIONS_DB_WHAT);
    if (!res)
        return;
    if (PQntuples(res) != 1) {
        req_error(r, API_ERR_NOT_FOUND, VERSION_NOT_FOUND);
        return;
    }
    req_db_release(r);          /* the file is sent without holding a connection */
    fd = open_original(r, res, &size);
    if (fd < 0)
        return;
    set_disposition(r, db_val(res, 0, F_MIME), *db_val(res, 0, F_NAME) ? db_val(res, 0, F_NAME)
                                                                         : db_val(res, 0, F_TITLE), dl != NULL);
    req_set_header(r, "Accept-Ranges", "bytes");
    /* An uploaded page must never run as this origin: no script, no plugin, a unique origin. */
    req_set_header(r, "Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'");
    rc = versions_range_parse(req_header(r, "Range"), size, &start, &len);
    if (rc < 0) {
        close(fd);
        snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
        req_set_header(r, "Content-Range", cr);
        req_raw(r, 416, "text/plain; charset=utf-8", "range not satisfiable\n", 22);
        return;
    }
    if (rc == 0) {
        req_file(r, 200, content_type(db_val(res, 0, F_MIME)), fd, size);
        return;
    }
    snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)start,
             (unsigned long long)(start + len - 1), (unsigned long long)size);
    req_set_header(r, "Content-Range", cr);
    req_file_at(r, 206, content_type(db_val(res, 0, F_MIME)), fd, start, len);
}

static json_t *chunk_json(const PGresult *res, int i)
{
    return json_pack("{s:s,s:o,s:s,s:o,s:o,s:o,s:o}", "chunk_id", db_val(res, i, 0), "ordinal",
                     rows_int(db_val(res, i, 1)), "text", db_val(res, i, 2), "page_start",
                     rows_int(db_val(res, i, 3)), "page_end", rows_int(db_val(res, i, 4)), "char_start",
                     rows_int(db_val(res, i, 5)), "char_end", rows_int(db_val(res, i, 6)));
}

void versions_chunks(struct req *r)
{
    const char *p[4], *chunk;
    PGresult *ver, *res;
    json_t *arr;
    int n;

    if (version_params(r, p) < 0 || params_query(r, "chunk_id", &chunk) < 0)
        return;
    if (chunk && !id_is_uuid(chunk)) {
        req_error(r, API_ERR_NOT_FOUND, "chunk not found");
        return;
    }
    p[3] = chunk;
    /* The version itself first: an empty list must mean "no such chunk", never "not yours". */
    ver = rows_query(r, file_sql, 3, p, VERSIONS_DB_WHAT);
    if (!ver)
        return;
    if (PQntuples(ver) != 1) {
        req_error(r, API_ERR_NOT_FOUND, VERSION_NOT_FOUND);
        return;
    }
    res = rows_query(r, chunks_sql, 4, p, VERSIONS_DB_WHAT);
    if (!res)
        return;
    n = PQntuples(res) > CHUNKS_MAX ? CHUNKS_MAX : PQntuples(res);
    arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, chunk_json(res, i));
    req_json(r, 200, json_pack("{s:o,s:b,s:s}", "chunks", arr, "truncated", PQntuples(res) > CHUNKS_MAX, "mime",
                               db_val(ver, 0, F_MIME)));
}

/* The activation transaction (db_tx_fn): 0 done, 1 no such version, 2 deleted, -1 database. */
static int activate_tx(PGconn *db, void *arg)
{
    const char *const *p = arg;
    const char *fp[3] = {p[2], p[1], p[0]};
    PGresult *res = db_query(db, "SELECT activate_document_version($1, $2, $3)", 3, fp);
    int rc;

    if (!res)
        return -1;
    rc = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (rc != 1)
        return rc < 0 ? 2 : 1;
    return db_exec(db, "UPDATE documents SET updated_at = now() WHERE doc_id = $1 AND tenant_id = $2", 2, p + 1) < 0
               ? -1
               : 0;
}

void versions_activate(struct req *r)
{
    const char *p[3];
    PGconn *db;
    int rc;

    if (version_params(r, p) < 0)
        return;
    db = req_db(r);
    if (!db)
        return;
    rc = db_tx_run(db, 2, activate_tx, (void *)p);
    if (rc == 1 || rc == 2) {
        req_error(r, rc == 2 ? API_ERR_CONFLICT : API_ERR_NOT_FOUND,
                  rc == 2 ? "the document is deleted" : VERSION_NOT_FOUND);
        return;
    }
    if (rc != 0) {
        req_db_error(r, VERSIONS_DB_WHAT);
        return;
    }
    log_info("version activated", json_pack("{s:s,s:s,s:s,s:s}", "tenant_id", p[2], "doc_id", p[1], "version_id",
                                            p[0], "user_id", r->principal.user_id));
    req_json(r, 200, json_pack("{s:s,s:s,s:b}", "doc_id", p[1], "version_id", p[0], "is_active", 1));
}
