/*
 * ingest.c - POST /v1/ingest (spec 4): the multipart body is parsed as it
 * arrives (multipart.c) and the `file` part streams into the upload store
 * (upload_store.c), hashed on the way; nothing of the file is held in memory
 * but the first SNIFF_HEAD_MAX bytes used to decide its type.
 *
 * Order of decisions, each one before anything is recorded or queued:
 *   begin: multipart Content-Type (415/400), Content-Length (413), then the
 *          Idempotency-Key (see "Idempotency-Key" below): the stored answer
 *          replayed, or 409 while another request holds the key (neither
 *          creates anything), or the key claimed for this request;
 *   data:  body over MAX_UPLOAD_BYTES + overhead or file over MAX_UPLOAD_BYTES
 *          (413, partial file removed), malformed multipart (400), type
 *          sniffed from the first bytes (415);
 *   end:   truncated body (400), no file part or an empty file (400), doc_id not the tenant's
 *          (404), then dedup against active versions (200 skipped), then one
 *          transaction (document get-or-create + queued run; a concurrent
 *          upload of the same content answers 200 with that run), then the
 *          queue message (503 and the run failed enqueue_failed if that fails).
 * A claimed Idempotency-Key ends with the 2xx answer stored in its row, or
 * with the row deleted on every other way out (an error answer from begin,
 * data or end, 503, the client gone: abort()), so the client may retry.
 */
#include "api/handlers/ingest.h"

#include "api/http/metrics.h"
#include "api/http/multipart.h"
#include "api/upload_store.h"
#include "common/buf.h"
#include "common/db.h"
#include "common/errors.h"
#include "common/hash.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/sniff.h"
#include "common/sqs.h"
#include "common/timeutil.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Body bytes allowed beyond the file itself: part headers, title, doc_id, boundaries. */
#define INGEST_BODY_OVERHEAD (1u << 20)
#define INGEST_TITLE_MAX 1000
#define INGEST_DOC_ID_MAX 64
#define INGEST_IDEM_KEY_MAX 255
#define INGEST_DISPLAY_NAME_MAX 1024
#define INGEST_TX_ATTEMPTS 3
#define INGEST_IDEM_CLAIM_ATTEMPTS 3
/* A pending Idempotency-Key row this old is a dead request's (core-api crashed): taken over. */
#define INGEST_IDEM_PENDING_TTL "1 hour"

enum part_kind { PART_IGNORE, PART_FILE, PART_TITLE, PART_DOC_ID };

struct ingest {
    struct req *r;
    int64_t t0;
    char run_id[ID_UUID_LEN + 1];
    char received_at[40];
    const char *idem_key;
    int idem_claimed;               /* this request holds the key's pending row */
    struct multipart *mp;
    struct upload_store store;
    int have_file;
    int keep_file;                  /* the upload belongs to a committed run now */
    enum part_kind kind;
    struct buf title;
    struct buf doc_id;
    int title_bad, doc_id_bad;
    char *display_name;             /* client's file name, made JSON-safe, for config and logs */
    unsigned char head[SNIFF_HEAD_MAX];
    size_t head_len;
    const char *mime;
    int sniffed;
    uint64_t body_bytes, body_max;
    enum api_err err;               /* set by a parser callback before it stops the parser */
    const char *err_msg;
};

static void idem_release(struct ingest *st);

static void ingest_cleanup(void *p)
{
    struct ingest *st = p;

    /* Last resort: end() and abort() release a claim already; try again if that failed. */
    if (st->idem_claimed)
        idem_release(st);
    if (!st->keep_file)
        upload_store_abort(&st->store);
    upload_store_release(&st->store);
    multipart_free(&st->mp);
    buf_release(&st->title);
    buf_release(&st->doc_id);
    free(st->display_name);
}

static int is_utf8_text(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;

    for (size_t i = 0; i < n;) {
        size_t k;

        if (u[i] == 0)
            return 0;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        if (u[i] >= 0xC2 && u[i] <= 0xDF)
            k = 2;
        else if (u[i] >= 0xE0 && u[i] <= 0xEF)
            k = 3;
        else if (u[i] >= 0xF0 && u[i] <= 0xF4)
            k = 4;
        else
            return 0;
        if (i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++)
            if ((u[i + j] & 0xC0) != 0x80)
                return 0;
        /* Overlong 3/4-byte forms and surrogates. */
        if ((u[i] == 0xE0 && u[i + 1] < 0xA0) || (u[i] == 0xED && u[i + 1] > 0x9F) ||
            (u[i] == 0xF0 && u[i + 1] < 0x90) || (u[i] == 0xF4 && u[i + 1] > 0x8F))
            return 0;
        i += k;
    }
    return 1;
}

/*
 * The client's name as JSON can carry it (PostgreSQL jsonb refuses \u0000):
 * NULs dropped, bytes that are not UTF-8 replaced by U+FFFD, capped.
 */
static char *display_name(const char *p, size_t n)
{
    struct buf b;

    buf_init(&b, INGEST_DISPLAY_NAME_MAX + 8);
    if (buf_add(&b, "", 0) < 0)
        return NULL;
    for (size_t i = 0; i < n && b.len < INGEST_DISPLAY_NAME_MAX;) {
        size_t k = 1;

        if (p[i] == '\0') {
            i++;
            continue;
        }
        if ((unsigned char)p[i] >= 0x80) {
            for (k = 2; k <= 4 && i + k <= n; k++)
                if (is_utf8_text(p + i, k))
                    break;
            if (k > 4 || i + k > n) {
                if (buf_add(&b, "\xef\xbf\xbd", 3) < 0)
                    return NULL;
                i++;
                continue;
            }
        }
        if (buf_add(&b, p + i, k) < 0)
            return NULL;
        i += k;
    }
    return buf_detach(&b, NULL);
}

static void log_rejected(struct ingest *st, unsigned status, const char *why)
{
    log_event(LOG_INFO, "upload rejected",
              json_pack("{s:s,s:s,s:s,s:i,s:s,s:s?,s:I,s:I}", "tenant_id", st->r->principal.tenant_id,
                        "user_id", st->r->principal.user_id, "run_id", st->run_id, "status", (int)status,
                        "reason", why, "filename", st->display_name, "bytes_received",
                        (json_int_t)st->body_bytes, "duration_ms", (json_int_t)(time_mono_ms() - st->t0)));
}

/* Answer an error and make sure nothing of the upload stays on disk. */
static void reject(struct ingest *st, enum api_err e, const char *msg)
{
    upload_store_abort(&st->store);
    log_rejected(st, api_err_status(e), msg);
    req_error(st->r, e, msg);
}

/* ---------- multipart callbacks ---------- */

static int stop_with(struct ingest *st, enum api_err e, const char *msg)
{
    st->err = e;
    st->err_msg = msg;
    return 1;
}

static int sniff_now(struct ingest *st)
{
    st->sniffed = 1;
    st->mime = sniff_mime(st->head, st->head_len, st->store.name);
    if (!st->mime)
        return stop_with(st, API_ERR_UNSUPPORTED_TYPE,
                         "unsupported file type (PDF, DOCX, HTML, Markdown or plain text)");
    return 0;
}

static int on_part_begin(void *ud, const struct multipart_part *part)
{
    struct ingest *st = ud;
    const struct config *cfg = st->r->app->cfg;

    st->kind = PART_IGNORE;
    if (strcmp(part->name, "file") == 0) {
        if (st->have_file)
            return stop_with(st, API_ERR_BAD_REQUEST, "more than one file part");
        st->have_file = 1;
        st->kind = PART_FILE;
        st->display_name = display_name(part->filename ? part->filename : "", part->filename_len);
        if (!st->display_name)
            return stop_with(st, API_ERR_INTERNAL, "internal error");
        if (upload_store_begin(&st->store, cfg->upload_dir, st->r->principal.tenant_id, st->run_id,
                               part->filename, part->filename ? part->filename_len : 0,
                               (uint64_t)cfg->max_upload_bytes) < 0)
            return stop_with(st, API_ERR_INTERNAL, "internal error");
    } else if (strcmp(part->name, "title") == 0) {
        st->kind = PART_TITLE;
        buf_release(&st->title);
        st->title_bad = 0;
    } else if (strcmp(part->name, "doc_id") == 0) {
        st->kind = PART_DOC_ID;
        buf_release(&st->doc_id);
        st->doc_id_bad = 0;
    }
    /* Anything else (tenant_id included: invariant 1) is read and ignored. */
    return 0;
}

static int on_part_data(void *ud, const char *p, size_t n)
{
    struct ingest *st = ud;
    int rc;

    switch (st->kind) {
    case PART_FILE:
        if (!st->sniffed) {
            size_t take = sizeof(st->head) - st->head_len;

            if (take > n)
                take = n;
            memcpy(st->head + st->head_len, p, take);
            st->head_len += take;
            if (st->head_len == sizeof(st->head) && sniff_now(st))
                return 1;
        }
        rc = upload_store_write(&st->store, p, n);
        if (rc == UPLOAD_STORE_TOO_LARGE)
            return stop_with(st, API_ERR_TOO_LARGE, "upload larger than MAX_UPLOAD_BYTES");
        if (rc != UPLOAD_STORE_OK)
            return stop_with(st, API_ERR_INTERNAL, "internal error");
        return 0;
    case PART_TITLE:
        if (!st->title_bad && buf_add(&st->title, p, n) < 0)
            st->title_bad = 1;
        return 0;
    case PART_DOC_ID:
        if (!st->doc_id_bad && buf_add(&st->doc_id, p, n) < 0)
            st->doc_id_bad = 1;
        return 0;
    case PART_IGNORE:
        return 0;
    }
    return 0;
}

static int on_part_end(void *ud)
{
    struct ingest *st = ud;

    /* Before the type: an empty file sniffs as text, and would make a run with nothing to index. */
    if (st->kind == PART_FILE && st->store.size == 0)
        return stop_with(st, API_ERR_BAD_REQUEST, "empty file");
    if (st->kind == PART_FILE && !st->sniffed && sniff_now(st))
        return 1;
    st->kind = PART_IGNORE;
    return 0;
}

static const struct multipart_callbacks ingest_mp_callbacks = {
    .part_begin = on_part_begin,
    .part_data = on_part_data,
    .part_end = on_part_end,
};

/* ---------- Idempotency-Key ---------- */

/*
 * One row per (user, key) in idempotency_keys: status 0 while a request holds
 * it (claim_id = that request's run_id), else the first 2xx answer, replayed
 * for 24 h. Claimed in begin with one INSERT ... ON CONFLICT: it inserts the
 * pending row, or takes the row over when it is only a leftover (a pending row
 * older than INGEST_IDEM_PENDING_TTL, an answer older than 24 h), atomically,
 * so of two simultaneous requests exactly one holds the key.
 */

/* Run a statement about this request's key: the request's own connection if it has one, else a short loan. */
static int idem_exec(struct ingest *st, const char *sql, int n, const char *const *params, int *rows)
{
    struct req *r = st->r;
    PGconn *db = r->db;
    PGresult *res;
    int loaned = 0;

    if (!db) {
        /* Never a second connection while this thread holds one (the pool blocks). */
        db = r->app->db ? db_pool_acquire(r->app->db) : NULL;
        if (!db)
            return -1;
        loaned = 1;
    } else if (PQtransactionStatus(db) != PQTRANS_IDLE) {
        db_tx_rollback(db);
    }
    res = db_query(db, sql, n, params);
    if (res && rows)
        *rows = (int)strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    if (loaned)
        db_pool_release(r->app->db, db);
    return res ? 0 : -1;
}

/* Give the key up (any answer but a stored 2xx): the client may retry with it. */
static void idem_release(struct ingest *st)
{
    const char *params[3] = {st->r->principal.user_id, st->idem_key, st->run_id};

    if (!st->idem_claimed)
        return;
    if (idem_exec(st,
                  "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND claim_id = $3 AND status = 0",
                  3, params, NULL) == 0)
        st->idem_claimed = 0;
    else   /* the row stays pending: taken over after INGEST_IDEM_PENDING_TTL */
        log_event(LOG_WARN, "Idempotency-Key claim not released",
                  json_pack("{s:s,s:s,s:s}", "tenant_id", st->r->principal.tenant_id, "user_id",
                            st->r->principal.user_id, "run_id", st->run_id));
}

/* Answer from an existing row: its stored answer, or 409 while pending. 1 if answered, 0 if the row is gone. */
static int idem_answer(struct ingest *st, PGconn *db)
{
    struct req *r = st->r;
    const char *params[2] = {r->principal.user_id, st->idem_key};
    PGresult *res;
    json_t *body;
    long status;

    res = db_query(db, "SELECT status, response::text FROM idempotency_keys WHERE user_id = $1 AND key = $2", 2,
                   params);
    if (!res) {
        req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
        return 1;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;   /* released in between: claim again */
    }
    status = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    if (status == 0) {
        PQclear(res);
        reject(st, API_ERR_CONFLICT, "a request with this Idempotency-Key is in progress");
        return 1;
    }
    body = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
    PQclear(res);
    if (!body || status < 200 || status >= 600) {
        json_decref(body);
        req_error(r, API_ERR_INTERNAL, "internal error");
        return 1;
    }
    log_event(LOG_INFO, "upload replayed (Idempotency-Key)",
              json_pack("{s:s,s:s,s:i}", "tenant_id", r->principal.tenant_id, "user_id", r->principal.user_id,
                        "status", (int)status));
    req_json(r, (unsigned)status, body);
    return 1;
}

/* 0 if this request now holds the key; -1 after answering (replay, 409, 503). */
static int idem_claim(struct ingest *st)
{
    struct req *r = st->r;
    const char *params[4] = {r->principal.user_id, st->idem_key, r->principal.tenant_id, st->run_id};
    PGconn *db;
    PGresult *res;
    int rc = -1, attempt;

    /* A short loan from the pool: the upload itself may take minutes. */
    db = r->app->db ? db_pool_acquire(r->app->db) : NULL;
    if (!db) {
        req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
        return -1;
    }
    for (attempt = 0; attempt < INGEST_IDEM_CLAIM_ATTEMPTS; attempt++) {
        res = db_query(db,
                       "INSERT INTO idempotency_keys (user_id, key, tenant_id, status, response, claim_id)"
                       " VALUES ($1, $2, $3, 0, '{}', $4)"
                       " ON CONFLICT (user_id, key) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, status = 0,"
                       " response = '{}', claim_id = EXCLUDED.claim_id, created_at = now()"
                       " WHERE (idempotency_keys.status = 0"
                       "        AND idempotency_keys.created_at <= now() - interval '" INGEST_IDEM_PENDING_TTL "')"
                       " OR (idempotency_keys.status <> 0"
                       "     AND idempotency_keys.created_at <= now() - interval '24 hours')"
                       " RETURNING xmax::text = '0'",
                       4, params);
        if (!res) {
            req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
            break;
        }
        if (PQntuples(res) == 1) {
            if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
                log_event(LOG_INFO, "Idempotency-Key taken over (pending too long or expired)",
                          json_pack("{s:s,s:s,s:s}", "tenant_id", r->principal.tenant_id, "user_id",
                                    r->principal.user_id, "run_id", st->run_id));
            PQclear(res);
            st->idem_claimed = 1;
            rc = 0;
            break;
        }
        PQclear(res);
        if (idem_answer(st, db))
            break;
    }
    if (attempt == INGEST_IDEM_CLAIM_ATTEMPTS)
        req_error(r, API_ERR_UNAVAILABLE, "busy, try again");
    db_pool_release(r->app->db, db);
    return rc;
}

/* Store a 2xx answer in the claimed row (the first one wins for 24 h). */
static void idem_store(struct ingest *st, unsigned status, const json_t *body)
{
    char *text, code[8];
    const char *params[5];
    int rows = 0;

    if (!st->idem_claimed)
        return;
    text = json_dumps(body, JSON_COMPACT);
    if (!text)
        return;   /* the claim is released at the end of the request */
    snprintf(code, sizeof(code), "%u", status);
    params[0] = st->r->principal.user_id;
    params[1] = st->idem_key;
    params[2] = st->run_id;
    params[3] = code;
    params[4] = text;
    if (idem_exec(st,
                  "UPDATE idempotency_keys SET status = $4::integer, response = $5::jsonb, created_at = now()"
                  " WHERE user_id = $1 AND key = $2 AND claim_id = $3 AND status = 0",
                  5, params, &rows) == 0) {
        st->idem_claimed = 0;
        if (rows != 1)   /* held longer than INGEST_IDEM_PENDING_TTL and taken over: the other request's now */
            log_event(LOG_WARN, "Idempotency-Key claim lost before the answer",
                      json_pack("{s:s,s:s,s:s}", "tenant_id", st->r->principal.tenant_id, "user_id",
                                st->r->principal.user_id, "run_id", st->run_id));
    }
    free(text);
}

/* ---------- stream ops ---------- */

static int ingest_begin(struct req *r)
{
    const struct config *cfg = r->app->cfg;
    struct ingest *st;
    char boundary[MULTIPART_BOUNDARY_MAX + 1];
    const char *cl, *key;
    int rc;

    st = arena_alloc(&r->arena, sizeof(*st));
    if (!st) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return -1;
    }
    st->r = r;
    st->t0 = time_mono_ms();
    upload_store_init(&st->store);
    buf_init(&st->title, INGEST_TITLE_MAX);
    buf_init(&st->doc_id, INGEST_DOC_ID_MAX);
    id_uuid_new(st->run_id);
    time_format_rfc3339(time_now_ms(), st->received_at, sizeof(st->received_at));
    st->body_max = (uint64_t)cfg->max_upload_bytes + INGEST_BODY_OVERHEAD;
    arena_defer(&r->arena, ingest_cleanup, st);
    r->stream_state = st;

    rc = multipart_boundary(req_header(r, "Content-Type"), boundary, sizeof(boundary));
    if (rc == 0) {
        reject(st, API_ERR_UNSUPPORTED_TYPE, "expected a multipart/form-data body");
        return -1;
    }
    if (rc < 0) {
        reject(st, API_ERR_BAD_REQUEST, "missing or invalid multipart boundary");
        return -1;
    }
    cl = req_header(r, "Content-Length");
    if (cl) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(cl, &end, 10);
        if (errno || end == cl || *end || cl[0] == '-') {
            reject(st, API_ERR_BAD_REQUEST, "invalid Content-Length");
            return -1;
        }
        if (v > st->body_max) {
            reject(st, API_ERR_TOO_LARGE, "upload larger than MAX_UPLOAD_BYTES");
            return -1;
        }
    }
    key = req_header(r, "Idempotency-Key");
    if (key) {
        size_t n = strlen(key);

        if (n < 1 || n > INGEST_IDEM_KEY_MAX || !is_utf8_text(key, n)) {
            reject(st, API_ERR_BAD_REQUEST, "Idempotency-Key must be 1 to 255 bytes");
            return -1;
        }
        st->idem_key = arena_strdup(&r->arena, key);
        if (!st->idem_key) {
            reject(st, API_ERR_INTERNAL, "internal error");
            return -1;
        }
        if (idem_claim(st) < 0)
            return -1;
    }
    /* From here on every way out releases the claim: end() or abort() (which also runs when begin fails). */
    st->mp = multipart_new(boundary, &ingest_mp_callbacks, st);
    if (!st->mp) {
        reject(st, API_ERR_INTERNAL, "internal error");
        return -1;
    }
    return 0;
}

static int ingest_data(struct req *r, const char *p, size_t n)
{
    struct ingest *st = r->stream_state;
    int rc;

    st->body_bytes += n;
    if (st->body_bytes > st->body_max) {
        reject(st, API_ERR_TOO_LARGE, "upload larger than MAX_UPLOAD_BYTES");
        return -1;
    }
    rc = multipart_feed(st->mp, p, n);
    if (rc == 0)
        return 0;
    if (st->err != API_OK)
        reject(st, st->err, st->err_msg);
    else
        reject(st, API_ERR_BAD_REQUEST, "malformed multipart body");
    return -1;
}

static void ingest_abort(struct req *r)
{
    struct ingest *st = r->stream_state;

    if (!st)
        return;
    if (!st->keep_file)
        upload_store_abort(&st->store);
    idem_release(st);   /* the client went away or was answered early: it may retry with the key */
}

/* Common config of the run (spec 4.3 plus size, hash and the crash guard's counter). */
static json_t *run_config(struct ingest *st, const char *title, int with_uri)
{
    return json_pack("{s:s,s:s?,s:s,s:s,s:s,s:s,s:I,s:s,s:i}", "created_by_user_id",
                     st->r->principal.user_id, "upload_uri", with_uri ? st->store.uri : NULL, "title", title,
                     "original_filename", st->display_name ? st->display_name : "", "content_type", st->mime,
                     "source_type", "upload", "size_bytes", (json_int_t)st->store.size, "sha256",
                     st->store.sha256, "republished", 0);
}

static void log_upload(struct ingest *st, const char *outcome, unsigned status, const char *doc_id,
                       const char *run_id, const char *message_id)
{
    log_event(LOG_INFO, "upload",
              json_pack("{s:s,s:s,s:s,s:s?,s:s,s:s,s:I,s:s,s:s?,s:s?,s:s,s:i,s:s,s:I}", "tenant_id",
                        st->r->principal.tenant_id, "user_id", st->r->principal.user_id, "run_id", run_id,
                        "doc_id", doc_id, "filename", st->display_name ? st->display_name : "",
                        "stored_name", st->store.name, "size_bytes", (json_int_t)st->store.size, "sha256",
                        st->store.sha256, "upload_uri", st->keep_file ? st->store.uri : NULL,
                        "queue_message_id", message_id, "content_type", st->mime ? st->mime : "",
                        "status", (int)status, "outcome", outcome, "duration_ms",
                        (json_int_t)(time_mono_ms() - st->t0)));
}

/* Answer 2xx, remembering it for the Idempotency-Key. */
static void answer_ok(struct ingest *st, unsigned status, json_t *body)
{
    idem_store(st, status, body);
    req_json(st->r, status, body);
}

/* The tenant already serves this content: a terminal skipped run, nothing queued. */
static void finish_skipped(struct ingest *st, PGconn *db, const char *doc_id, const char *version_id,
                           const char *title)
{
    json_t *config = run_config(st, title, 0);
    json_t *stats = json_pack("{s:s,s:s}", "reason", "duplicate content", "duplicate_of_version", version_id);
    char *cj = config ? json_dumps(config, JSON_COMPACT) : NULL;
    char *sj = stats ? json_dumps(stats, JSON_COMPACT) : NULL;
    const char *params[6] = {st->run_id, st->r->principal.tenant_id, doc_id, st->store.sha256, cj, sj};

    json_decref(config);
    json_decref(stats);
    if (!cj || !sj ||
        db_exec(db,
                "INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status, content_hash, finished_at,"
                " config, stats) VALUES ($1, $2, $3, 'skipped', $4, now(), $5::jsonb, $6::jsonb)",
                6, params) < 0) {
        free(cj);
        free(sj);
        reject(st, db_last_was_connection_error() ? API_ERR_UNAVAILABLE : API_ERR_INTERNAL,
               db_last_was_connection_error() ? "database unavailable" : "internal error");
        return;
    }
    free(cj);
    free(sj);
    /* The content is already served: the copy just received is not needed. */
    upload_store_abort(&st->store);
    log_upload(st, "skipped", 200, doc_id, st->run_id, NULL);
    answer_ok(st, 200,
              json_pack("{s:s,s:s,s:s,s:s}", "status", "skipped", "reason", "duplicate content", "doc_id", doc_id,
                        "run_id", st->run_id));
}

/*
 * Mark the run failed because the message could not be published (only if still
 * queued). 1 when this failed it: the run is terminal and nothing will ever read
 * its upload. 0 otherwise (the database is away too): the run stays queued, the
 * crash guard re-publishes it, and the file must stay.
 */
static int fail_enqueue(struct ingest *st, PGconn *db, const struct sqs_error *err)
{
    char *error = arena_printf(&st->r->arena, "%s: %s", run_fail_code(RUN_FAIL_ENQUEUE_FAILED),
                               err->code[0] ? err->code : "unknown");
    const char *params[3] = {st->run_id, st->r->principal.tenant_id, error};
    PGresult *res;
    int failed;

    if (!error)
        return 0;
    res = db_query(db,
                   "UPDATE ingestion_runs SET status = 'failed', error = $3, finished_at = now(), updated_at = now()"
                   " WHERE run_id = $1 AND tenant_id = $2 AND status = 'queued'",
                   3, params);
    failed = res && strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    return failed;
}

static void internal_or_unavailable(struct ingest *st)
{
    int conn = db_last_was_connection_error();

    reject(st, conn ? API_ERR_UNAVAILABLE : API_ERR_INTERNAL, conn ? "database unavailable" : "internal error");
}

static void ingest_finish(struct ingest *st)
{
    struct req *r = st->r;
    const struct config *cfg = r->app->cfg;
    const char *tenant = r->principal.tenant_id;
    const char *want_doc = NULL, *title_in = "";
    char source_uri[32 + HASH_SHA256_HEX_LEN];
    char doc_id[ID_UUID_LEN + 1] = "", doc_uri[1024] = "", title[INGEST_TITLE_MAX + 1];
    PGconn *db;
    PGresult *res;
    json_t *config, *msg;
    char *config_text, *msg_text;
    char message_id[160] = "";
    struct sqs_error qerr;
    struct sqs_client *sqs;
    int attempt;

    if (st->title_bad || (st->title.len && !is_utf8_text(st->title.ptr, st->title.len))) {
        reject(st, API_ERR_BAD_REQUEST, "title must be UTF-8 text of at most 1000 bytes");
        return;
    }
    if (st->title.len)
        title_in = st->title.ptr;
    if (st->doc_id_bad || st->doc_id.len) {
        /* A malformed id names no document of this tenant: the same 404 as a missing one. */
        if (st->doc_id_bad || !id_is_uuid(st->doc_id.ptr)) {
            reject(st, API_ERR_NOT_FOUND, "document not found");
            return;
        }
        want_doc = st->doc_id.ptr;
    }
    snprintf(source_uri, sizeof(source_uri), "upload://sha256:%s", st->store.sha256);

    db = req_db(r);
    if (!db) {
        upload_store_abort(&st->store);   /* req_db answered 503 */
        return;
    }

    if (want_doc) {
        const char *params[2] = {want_doc, tenant};

        res = arena_pg(&r->arena, db_query(db, "SELECT doc_id, title FROM documents WHERE doc_id = $1 AND tenant_id = $2",
                                           2, params));
        if (!res) {
            internal_or_unavailable(st);
            return;
        }
        if (PQntuples(res) != 1) {
            reject(st, API_ERR_NOT_FOUND, "document not found");
            return;
        }
        snprintf(title, sizeof(title), "%s", *title_in ? title_in : PQgetvalue(res, 0, 1));
    } else {
        snprintf(title, sizeof(title), "%s", *title_in ? title_in : st->store.name);
    }

    /* Dedup (spec 4.4): an active version with this content. With doc_id, only that document's. */
    {
        const char *params[3] = {tenant, st->store.sha256, want_doc};

        res = arena_pg(&r->arena,
                       db_query(db,
                                "SELECT v.version_id, v.doc_id, d.title FROM document_versions v"
                                " JOIN documents d ON d.doc_id = v.doc_id"
                                " WHERE v.tenant_id = $1 AND v.content_hash = $2 AND v.is_active"
                                " AND ($3::uuid IS NULL OR v.doc_id = $3::uuid)"
                                " ORDER BY v.created_at DESC LIMIT 1",
                                3, params));
        if (!res) {
            internal_or_unavailable(st);
            return;
        }
        if (PQntuples(res) == 1) {
            finish_skipped(st, db, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0),
                           *title_in ? title_in : PQgetvalue(res, 0, 2));
            return;
        }
    }

    config = run_config(st, title, 1);
    config_text = config ? json_dumps(config, JSON_COMPACT) : NULL;
    json_decref(config);
    if (!config_text) {
        reject(st, API_ERR_INTERNAL, "internal error");
        return;
    }
    arena_defer(&r->arena, free, config_text);

    for (attempt = 0; attempt < INGEST_TX_ATTEMPTS; attempt++) {
        int dup = 0;

        if (db_tx_begin(db) < 0) {
            internal_or_unavailable(st);
            return;
        }
        if (want_doc) {
            /* A new version of an existing document: it keeps its source_uri; a deleted one comes back. */
            const char *params[3] = {want_doc, tenant, title_in};

            res = arena_pg(&r->arena,
                           db_query(db,
                                    "UPDATE documents SET updated_at = now(), deleted_at = NULL, deleted_by = NULL,"
                                    " title = CASE WHEN $3 <> '' THEN $3 ELSE title END"
                                    " WHERE doc_id = $1 AND tenant_id = $2 RETURNING doc_id, source_uri",
                                    3, params));
        } else {
            const char *params[3] = {tenant, source_uri, title};

            res = arena_pg(&r->arena,
                           db_query(db,
                                    "INSERT INTO documents (tenant_id, source_type, source_uri, title)"
                                    " VALUES ($1, 'upload', $2, $3)"
                                    " ON CONFLICT (tenant_id, source_uri) DO UPDATE SET updated_at = now(),"
                                    " deleted_at = NULL, deleted_by = NULL"
                                    " RETURNING doc_id, source_uri",
                                    3, params));
        }
        if (!res) {
            db_tx_rollback(db);
            internal_or_unavailable(st);
            return;
        }
        if (PQntuples(res) != 1) {
            db_tx_rollback(db);
            reject(st, API_ERR_NOT_FOUND, "document not found");
            return;
        }
        snprintf(doc_id, sizeof(doc_id), "%s", PQgetvalue(res, 0, 0));
        snprintf(doc_uri, sizeof(doc_uri), "%s", PQgetvalue(res, 0, 1));
        {
            const char *params[5] = {st->run_id, tenant, doc_id, st->store.sha256, config_text};

            /* received_at is the run's created_at, so a re-published message (crash guard) is the same. */
            res = arena_pg(&r->arena,
                           db_query(db,
                                    "INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status, content_hash, config)"
                                    " VALUES ($1, $2, $3, 'queued', $4, $5::jsonb)"
                                    " RETURNING to_char(created_at AT TIME ZONE 'UTC',"
                                    " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
                                    5, params));
            if (res) {
                snprintf(st->received_at, sizeof(st->received_at), "%s", PQgetvalue(res, 0, 0));
            } else {
                dup = strcmp(db_last_sqlstate(), DB_UNIQUE_VIOLATION) == 0;
                db_tx_rollback(db);
                if (!dup) {
                    internal_or_unavailable(st);
                    return;
                }
            }
        }
        if (dup) {
            /* Same content already queued or running in this tenant: that run is the answer. */
            const char *params[2] = {tenant, st->store.sha256};

            res = arena_pg(&r->arena, db_query(db,
                                               "SELECT run_id, doc_id, status FROM ingestion_runs"
                                               " WHERE tenant_id = $1 AND content_hash = $2"
                                               " AND status IN ('queued', 'running') LIMIT 1",
                                               2, params));
            if (!res) {
                internal_or_unavailable(st);
                return;
            }
            if (PQntuples(res) == 1) {
                upload_store_abort(&st->store);
                log_upload(st, "already in progress", 200, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0), NULL);
                answer_ok(st, 200,
                          json_pack("{s:s,s:s,s:s,s:s}", "run_id", PQgetvalue(res, 0, 0), "doc_id",
                                    PQgetvalue(res, 0, 1), "status", PQgetvalue(res, 0, 2), "reason",
                                    "already in progress"));
                return;
            }
            continue;   /* it finished in between: try again */
        }
        if (db_tx_commit(db) < 0) {
            internal_or_unavailable(st);
            return;
        }
        break;
    }
    if (attempt == INGEST_TX_ATTEMPTS) {
        reject(st, API_ERR_UNAVAILABLE, "busy, try again");
        return;
    }
    /* The run exists: from here on the file is its upload and stays. */
    st->keep_file = 1;

    msg = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "job_type", "upload_ingest", "run_id", st->run_id,
                    "tenant_id", tenant, "user_id", r->principal.user_id, "doc_id", doc_id, "source_uri", doc_uri,
                    "upload_uri", st->store.uri, "title", title, "received_at", st->received_at);
    msg_text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    memset(&qerr, 0, sizeof(qerr));
    sqs = req_sqs(r);
    if (!msg_text || !sqs ||
        sqs_send(sqs, cfg->sqs_queue_url, msg_text, 0, message_id, sizeof(message_id), &qerr) < 0) {
        if (!qerr.code[0])
            snprintf(qerr.code, sizeof(qerr.code), "%s", !msg_text || !sqs ? "nomem" : "transport");
        free(msg_text);
        if (fail_enqueue(st, db, &qerr)) {
            /* The run is terminal: its upload would stay on disk forever. */
            upload_store_abort(&st->store);
            st->keep_file = 0;
        }
        log_event(LOG_ERROR, "enqueue failed",
                  json_pack("{s:s,s:s,s:s,s:I}", "run_id", st->run_id, "code", qerr.code, "message", qerr.message,
                            "http_status", (json_int_t)qerr.http_status));
        log_upload(st, "enqueue_failed", 503, doc_id, st->run_id, NULL);
        req_error_extra(r, API_ERR_UNAVAILABLE, "queue unavailable", json_pack("{s:s}", "run_id", st->run_id));
        return;
    }
    free(msg_text);
    metrics_upload(st->store.size);
    log_upload(st, "queued", 202, doc_id, st->run_id, message_id);
    answer_ok(st, 202, json_pack("{s:s,s:s,s:s}", "run_id", st->run_id, "doc_id", doc_id, "status", "queued"));
}

static void ingest_end_body(struct ingest *st);

static void ingest_end(struct req *r)
{
    struct ingest *st = r->stream_state;

    ingest_end_body(st);
    /* Any answer but a stored 2xx (4xx, 503, database error): give the key back before the client sees it. */
    idem_release(st);
}

static void ingest_end_body(struct ingest *st)
{
    if (multipart_finish(st->mp) < 0) {
        reject(st, API_ERR_BAD_REQUEST, "truncated multipart body");
        return;
    }
    if (!st->have_file) {
        reject(st, API_ERR_BAD_REQUEST, "missing file part");
        return;
    }
    if (st->store.size == 0) {
        reject(st, API_ERR_BAD_REQUEST, "empty file");
        return;
    }
    if (!st->sniffed && sniff_now(st)) {
        reject(st, st->err, st->err_msg);
        return;
    }
    if (upload_store_commit(&st->store) < 0) {
        reject(st, API_ERR_INTERNAL, "internal error");
        return;
    }
    ingest_finish(st);
}

const struct stream_ops ingest_stream_ops = {
    .begin = ingest_begin,
    .data = ingest_data,
    .end = ingest_end,
    .abort = ingest_abort,
};
