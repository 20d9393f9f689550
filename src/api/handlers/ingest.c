/*
 * ingest.c - POST /v1/ingest (spec 4): the multipart body is parsed as it
 * arrives (multipart.c) and the `file` part streams into the upload store
 * (upload_store.c), hashed on the way; nothing of the file is held in memory
 * but the first SNIFF_HEAD_MAX bytes used to decide its type.
 *
 * Order of decisions, each one before anything is recorded or queued:
 *   begin: multipart Content-Type (415/400), Content-Length (413), an upload
 *          slot of the tenant and the user (429 with Retry-After past
 *          MAX_UPLOADS_PER_TENANT or MAX_UPLOADS_PER_USER; upload_slots.h),
 *          then the Idempotency-Key (see "Idempotency-Key" below): the stored
 *          answer replayed, or 409 while another request holds the key
 *          (neither creates anything), or the key claimed for this request;
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
 *
 * The database is used in short checkouts only, never while the body streams
 * in at the client's pace: authentication and the key's claim give their
 * connection back before data() runs; end() takes one for its transactions
 * and gives it back before it calls the queue.
 * The upload slot is held from begin to the end of end() or abort().
 */
#include "api/handlers/ingest.h"
#include "api/publish.h"

#include "api/http/metrics.h"
#include "api/http/multipart.h"
#include "api/outbox.h"
#include "api/upload_gate.h"
#include "api/upload_slots.h"
#include "api/upload_store.h"
#include "common/buf.h"
#include "common/db.h"
#include "common/errors.h"
#include "common/failpoint.h"
#include "common/hash.h"
#include "common/ids.h"
#include "common/job_msg.h"
#include "common/log.h"
#include "common/run_state.h"
#include "common/sniff.h"
#include "common/sqs.h"
#include "common/timeutil.h"
#include "common/utf8.h"

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
/* Retry-After (seconds) of a 429 for too many uploads at once: about how long a small upload takes. */
#define INGEST_SLOT_RETRY_AFTER "5"
/* Retry-After (seconds) of a 507 for a full upload volume: space comes back when runs finish or an operator acts. */
#define INGEST_FULL_RETRY_AFTER "60"

enum part_kind { PART_IGNORE, PART_FILE, PART_TITLE, PART_DOC_ID };

struct ingest {
    struct req *r;
    int64_t t0;
    char run_id[ID_UUID_LEN + 1];
    char received_at[40];
    const char *idem_key;
    int idem_claimed;               /* this request holds the key's pending row */
    struct upload_slot slot;        /* counts against MAX_UPLOADS_PER_TENANT and _PER_USER */
    struct upload_gate gate;        /* counts against MAX_UPLOADS_PER_INSTANCE (upload_gate.h) */
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
    upload_slot_release(&st->slot);
    upload_gate_leave(&st->gate);
    if (!st->keep_file)
        upload_store_abort(&st->store);
    upload_store_release(&st->store);
    multipart_free(&st->mp);
    buf_release(&st->title);
    buf_release(&st->doc_id);
    free(st->display_name);
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
        size_t k;

        if (p[i] == '\0') {
            i++;
            continue;
        }
        k = utf8_next((const unsigned char *)p + i, n - i, NULL);
        if (k == 0) {
            if (buf_add(&b, "\xef\xbf\xbd", 3) < 0)
                return NULL;
            i++;
            continue;
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
    if (e == API_ERR_STORAGE_FULL)
        req_set_header(st->r, "Retry-After", INGEST_FULL_RETRY_AFTER);
    log_rejected(st, api_err_status(e), msg);
    req_error(st->r, e, msg);
}

/* reject() for a failed statement of this thread: the answer is req_db_error()'s. */
static void reject_db(struct ingest *st, const char *what)
{
    enum api_err e = req_db_error_of(db_last_sqlstate());

    upload_store_abort(&st->store);
    log_rejected(st, api_err_status(e), e == API_ERR_UNAVAILABLE ? "database unavailable" : what);
    req_db_error(st->r, what);
}

/* ---------- multipart callbacks ---------- */

static int stop_with(struct ingest *st, enum api_err e, const char *msg)
{
    st->err = e;
    st->err_msg = msg;
    return 1;
}

/* A failed upload store write or commit: 503 when the store (S3) was unreachable, else 500. */
static enum api_err store_error(const struct ingest *st)
{
    return upload_store_unavailable(&st->store) ? API_ERR_UNAVAILABLE : API_ERR_INTERNAL;
}

static const char *store_error_message(const struct ingest *st)
{
    return upload_store_unavailable(&st->store) ? "upload storage unavailable; try again" : "internal error";
}

/*
 * The upload store failed: a full volume is the client's 507 (retry later), an
 * unreachable store (S3) 503, anything else 500.
 */
static int stop_store_failed(struct ingest *st)
{
    if (upload_store_full())
        return stop_with(st, API_ERR_STORAGE_FULL, "the upload store is full; try again later");
    return stop_with(st, store_error(st), store_error_message(st));
}

static int sniff_now(struct ingest *st)
{
    st->sniffed = 1;
    st->mime = sniff_mime(st->head, st->head_len, st->store.name);
    if (!st->mime)
        return stop_with(st, API_ERR_UNSUPPORTED_TYPE,
                         "unsupported file type (PDF, DOCX, HTML, Markdown or plain text; text must be "
                         "UTF-8, HTML in another charset must declare it)");
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
            return stop_store_failed(st);
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
            return stop_store_failed(st);
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
        db = r->app->db ? db_pool_acquire_tenant(r->app->db, r->principal.tenant_id) : NULL;
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

    /* A short checkout (with the principal's tenant), given back below: the upload itself may take minutes. */
    db = req_db(r);
    if (!db)
        return -1;   /* 503 with Retry-After */
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
    req_db_release(r);
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

/* The request's upload state, in its arena, released with it. NULL when memory is out. */
static struct ingest *ingest_new(struct req *r)
{
    struct ingest *st = arena_alloc(&r->arena, sizeof(*st));

    if (!st)
        return NULL;
    st->r = r;
    st->t0 = time_mono_ms();
    upload_slot_init(&st->slot);
    st->gate.held = 0;
    upload_store_init(&st->store);
    buf_init(&st->title, INGEST_TITLE_MAX);
    buf_init(&st->doc_id, INGEST_DOC_ID_MAX);
    id_uuid_new(st->run_id);
    time_format_rfc3339(time_now_ms(), st->received_at, sizeof(st->received_at));
    st->body_max = (uint64_t)r->app->cfg->max_upload_bytes + INGEST_BODY_OVERHEAD;
    arena_defer(&r->arena, ingest_cleanup, st);
    r->stream_state = st;
    return st;
}

/* A Content-Length, when given, must be a number within the limit. 0, or -1 after answering. */
static int check_length(struct ingest *st)
{
    const char *cl = req_header(st->r, "Content-Length");
    char *end;
    unsigned long long v;

    if (!cl)
        return 0;
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
    return 0;
}

/* 503 with Retry-After: this instance streams MAX_UPLOADS_PER_INSTANCE uploads already. */
static void reject_instance_full(struct ingest *st, int64_t retry_s)
{
    char retry[24];

    snprintf(retry, sizeof(retry), "%lld", (long long)retry_s);
    req_set_header(st->r, "Retry-After", retry);
    reject(st, API_ERR_UNAVAILABLE, "too many uploads in progress on this server; try again shortly");
}

/*
 * Before authentication (stream_ops.admit): the instance already at
 * MAX_UPLOADS_PER_INSTANCE answers 503 at once, without a database round
 * trip. A peek: the place itself is taken in begin (take_place).
 */
static int ingest_admit(struct req *r)
{
    struct ingest *st;

    if (!upload_gate_full(r->app->cfg->max_uploads_per_instance))
        return 0;
    st = ingest_new(r);
    if (!st) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return -1;
    }
    reject_instance_full(st, UPLOAD_GATE_RETRY_S);
    return -1;
}

/* A place among MAX_UPLOADS_PER_INSTANCE (upload_gate.h). 0, or -1 after answering 503. */
static int take_place(struct ingest *st)
{
    int64_t retry_s = UPLOAD_GATE_RETRY_S;

    if (upload_gate_enter(&st->gate, st->r->app->cfg->max_uploads_per_instance, &retry_s) == UPLOAD_GATE_OK)
        return 0;
    reject_instance_full(st, retry_s);
    return -1;
}

/* The tenant's UPLOAD_RATE_PER_TENANT (upload_gate.h): 0, or -1 after answering 429 with Retry-After. */
static int take_token(struct ingest *st)
{
    int64_t retry_s = 1;
    char retry[24];
    enum upload_gate_result rc = upload_gate_token(st->r->principal.tenant_id,
                                                   st->r->app->cfg->upload_rate_per_tenant, time_mono_ms(),
                                                   &retry_s);

    if (rc == UPLOAD_GATE_OK)
        return 0;
    if (rc == UPLOAD_GATE_NOMEM) {
        reject(st, API_ERR_INTERNAL, "internal error");
        return -1;
    }
    snprintf(retry, sizeof(retry), "%lld", (long long)retry_s);
    req_set_header(st->r, "Retry-After", retry);
    reject(st, API_ERR_RATE_LIMITED, "too many uploads started by this tenant in the last minute; try again later");
    return -1;
}

/* An upload slot of the tenant and the user (upload_slots.h). 0, or -1 after answering 429 or 500. */
static int take_slot(struct ingest *st)
{
    const struct config *cfg = st->r->app->cfg;
    const struct principal *p = &st->r->principal;

    switch (upload_slot_take(&st->slot, p->tenant_id, p->user_id, cfg->max_uploads_per_tenant,
                             cfg->max_uploads_per_user)) {
    case UPLOAD_SLOT_OK:
        return 0;
    case UPLOAD_SLOT_TENANT_FULL:
        req_set_header(st->r, "Retry-After", INGEST_SLOT_RETRY_AFTER);
        reject(st, API_ERR_RATE_LIMITED,
               "too many uploads in progress for this tenant; try again when one has finished");
        return -1;
    case UPLOAD_SLOT_USER_FULL:
        req_set_header(st->r, "Retry-After", INGEST_SLOT_RETRY_AFTER);
        reject(st, API_ERR_RATE_LIMITED,
               "too many uploads in progress for this user; try again when one has finished");
        return -1;
    case UPLOAD_SLOT_NOMEM:
        break;
    }
    reject(st, API_ERR_INTERNAL, "internal error");
    return -1;
}

/* An Idempotency-Key, when given, is checked and claimed (idem_claim). 0, or -1 after answering. */
static int claim_key(struct ingest *st)
{
    const char *key = req_header(st->r, "Idempotency-Key");
    size_t n;

    if (!key)
        return 0;
    n = strlen(key);
    if (n < 1 || n > INGEST_IDEM_KEY_MAX || !utf8_valid(key, n)) {
        reject(st, API_ERR_BAD_REQUEST, "Idempotency-Key must be 1 to 255 bytes");
        return -1;
    }
    st->idem_key = arena_strdup(&st->r->arena, key);
    if (!st->idem_key) {
        reject(st, API_ERR_INTERNAL, "internal error");
        return -1;
    }
    return idem_claim(st);
}

static int ingest_begin(struct req *r)
{
    struct ingest *st = ingest_new(r);
    char boundary[MULTIPART_BOUNDARY_MAX + 1];
    int rc;

    if (!st) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return -1;
    }
    rc = multipart_boundary(req_header(r, "Content-Type"), boundary, sizeof(boundary));
    if (rc == 0) {
        reject(st, API_ERR_UNSUPPORTED_TYPE, "expected a multipart/form-data body");
        return -1;
    }
    if (rc < 0) {
        reject(st, API_ERR_BAD_REQUEST, "missing or invalid multipart boundary");
        return -1;
    }
    if (check_length(st) < 0 || take_place(st) < 0 || take_token(st) < 0 || take_slot(st) < 0 ||
        claim_key(st) < 0)
        return -1;
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
    upload_slot_release(&st->slot);
    upload_gate_leave(&st->gate);
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
    struct run_new run = {st->run_id, st->r->principal.tenant_id, doc_id, st->store.sha256, cj};
    int rc = cj && sj ? run_create_skipped(db, &run, sj) : 1;

    json_decref(config);
    json_decref(stats);
    free(cj);
    free(sj);
    if (rc != 0) {
        if (rc > 0)
            reject(st, API_ERR_INTERNAL, "internal error");
        else
            reject_db(st, "upload not recorded");
        return;
    }
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
    char error[160];

    run_error_text(RUN_FAIL_ENQUEUE_FAILED, err->code[0] ? err->code : "unknown", error, sizeof(error));
    return run_fail_queued(db, st->run_id, st->r->principal.tenant_id, error, -1) == 1;
}

/* What the end of an upload works out, step by step (ingest_finish), and the run transaction's state. */
struct finish {
    struct ingest *st;
    PGconn *db;
    const char *want_doc;                 /* the doc_id field, or NULL (get-or-create by content) */
    const char *title_in;                 /* the title field, "" if none */
    char title[INGEST_TITLE_MAX + 1];     /* the run's title */
    char source_uri[32 + HASH_SHA256_HEX_LEN];
    const char *config;                   /* the run's config as JSON text */
    char doc_id[ID_UUID_LEN + 1];
    char doc_uri[1024];
    char *message;                        /* the run's queue message (spec 4.5), also in its outbox row */
    int dup_seen;                         /* a run of this content was queued or running */
    PGresult *in_progress;                /* that run (run_id, doc_id, status), once found */
};

/* Outcomes of create_run_tx() besides 0 (committed). */
enum { RUN_TX_NO_DOC = 1, RUN_TX_IN_PROGRESS = 2 };

/* The form fields: the title is UTF-8, a doc_id is a UUID. 0, or -1 after answering. */
static int check_fields(struct ingest *st)
{
    if (st->title_bad || (st->title.len && !utf8_valid(st->title.ptr, st->title.len))) {
        reject(st, API_ERR_BAD_REQUEST, "title must be UTF-8 text of at most 1000 bytes");
        return -1;
    }
    /* A malformed id names no document of this tenant: the same 404 as a missing one. */
    if (st->doc_id_bad || (st->doc_id.len && !id_is_uuid(st->doc_id.ptr))) {
        reject(st, API_ERR_NOT_FOUND, "document not found");
        return -1;
    }
    return 0;
}

/* The run's title: the field, else the doc_id's document title or the file name. 0, or -1 after answering. */
static int resolve_title(struct ingest *st, struct finish *f)
{
    const char *params[2] = {f->want_doc, st->r->principal.tenant_id};
    PGresult *res;

    if (!f->want_doc) {
        snprintf(f->title, sizeof(f->title), "%s", *f->title_in ? f->title_in : st->store.name);
        return 0;
    }
    res = arena_pg(&st->r->arena,
                   db_query(f->db,
                            "SELECT doc_id, title, deleted_at IS NOT NULL FROM documents"
                            " WHERE doc_id = $1 AND tenant_id = $2",
                            2, params));
    if (!res) {
        reject_db(st, "invalid doc_id");
        return -1;
    }
    if (PQntuples(res) != 1) {
        reject(st, API_ERR_NOT_FOUND, "document not found");
        return -1;
    }
    /* Deletion is final (docs/decisions.md "Versions and deletion"): no silent revival. */
    if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
        reject(st, API_ERR_CONFLICT,
               "this document was deleted; upload the file without doc_id to add it as a new document");
        return -1;
    }
    snprintf(f->title, sizeof(f->title), "%s", *f->title_in ? f->title_in : PQgetvalue(res, 0, 1));
    return 0;
}

/* Dedup (spec 4.4): an active version with this content answers skipped. 1 if answered, 0 to go on. */
static int answer_if_duplicate(struct ingest *st, struct finish *f)
{
    const char *params[3] = {st->r->principal.tenant_id, st->store.sha256, f->want_doc};
    PGresult *res;

    /* With doc_id, only that document's versions count. */
    res = arena_pg(&st->r->arena,
                   db_query(f->db,
                            "SELECT v.version_id, v.doc_id, d.title FROM document_versions v"
                            " JOIN documents d ON d.doc_id = v.doc_id"
                            " WHERE v.tenant_id = $1 AND v.content_hash = $2 AND v.is_active"
                            " AND ($3::uuid IS NULL OR v.doc_id = $3::uuid)"
                            " ORDER BY v.created_at DESC LIMIT 1",
                            3, params));
    if (!res) {
        reject_db(st, "upload not recorded");
        return 1;
    }
    if (PQntuples(res) != 1)
        return 0;
    finish_skipped(st, f->db, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0),
                   *f->title_in ? f->title_in : PQgetvalue(res, 0, 2));
    return 1;
}

/* The run's config as JSON text, freed with the request; NULL when memory is out. */
static const char *config_text(struct ingest *st, const char *title)
{
    json_t *config = run_config(st, title, 1);
    char *text = config ? json_dumps(config, JSON_COMPACT) : NULL;

    json_decref(config);
    return arena_defer(&st->r->arena, free, text);
}

/* The document row (RETURNING doc_id, source_uri): the doc_id's, or the get-or-create by content. */
static PGresult *upsert_document(PGconn *db, const struct finish *f)
{
    struct ingest *st = f->st;
    const char *tenant = st->r->principal.tenant_id;

    if (f->want_doc) {
        /* A new version of an existing document: it keeps its source_uri; never a deleted one. */
        const char *params[3] = {f->want_doc, tenant, f->title_in};

        return arena_pg(&st->r->arena,
                        db_query(db,
                                 "UPDATE documents SET updated_at = now(),"
                                 " title = CASE WHEN $3 <> '' THEN $3 ELSE title END"
                                 " WHERE doc_id = $1 AND tenant_id = $2 AND deleted_at IS NULL"
                                 " RETURNING doc_id, source_uri",
                                 3, params));
    }
    {
        const char *params[3] = {tenant, f->source_uri, f->title};

        return arena_pg(&st->r->arena,
                        db_query(db,
                                 "INSERT INTO documents (tenant_id, source_type, source_uri, title)"
                                 " VALUES ($1, 'upload', $2, $3)"
                                 " ON CONFLICT (tenant_id, source_uri) DO UPDATE SET updated_at = now()"
                                 " WHERE documents.deleted_at IS NULL"
                                 " RETURNING doc_id, source_uri",
                                 3, params));
    }
}

/* The run's queue message (spec 4.5) as JSON text, malloc'd; NULL when memory is out. */
static char *run_message(const struct ingest *st, const struct finish *f)
{
    struct job_msg m;

    memset(&m, 0, sizeof(m));
    snprintf(m.run_id, sizeof(m.run_id), "%s", st->run_id);
    snprintf(m.tenant_id, sizeof(m.tenant_id), "%s", st->r->principal.tenant_id);
    snprintf(m.user_id, sizeof(m.user_id), "%s", st->r->principal.user_id);
    snprintf(m.doc_id, sizeof(m.doc_id), "%s", f->doc_id);
    m.source_uri = f->doc_uri;
    m.upload_uri = st->store.uri;
    m.title = f->title;
    m.received_at = st->received_at;
    return job_msg_encode(&m);
}

/*
 * The run's message into the outbox, in the run's transaction (api/outbox.h):
 * committed together, so the message outlives this process. 0, or -1.
 */
static int outbox_in_tx(PGconn *db, struct finish *f)
{
    free(f->message);
    f->message = run_message(f->st, f);
    if (!f->message)
        return -1;
    return outbox_add(db, f->st->run_id, f->message, f->st->r->app->cfg->outbox_delay_ms);
}

/* The message is sent (or the run failed): its outbox row goes, on a short loan. Best effort. */
static void outbox_clear(struct ingest *st)
{
    struct db_pool *pool = st->r->app->db;
    PGconn *db = pool ? db_pool_acquire_tenant(pool, st->r->principal.tenant_id) : NULL;

    /* A row left behind is sent once more by a publisher: a duplicate the worker drops. */
    if (!db || outbox_remove(db, st->run_id) < 0)
        log_event(LOG_WARN, "outbox row not cleared (its message will be sent again)",
                  json_pack("{s:s}", "run_id", st->run_id));
    if (db)
        db_pool_release(pool, db);
}

/*
 * The run transaction (db_tx_fn): the document, then its queued run. A run of
 * the same content already queued or running makes the insert fail (unique
 * index): the next attempt looks that run up and, if it is still there, it is
 * the answer (RUN_TX_IN_PROGRESS); if it finished in between, try again.
 */
static int create_run_tx(PGconn *db, void *arg)
{
    struct finish *f = arg;
    struct ingest *st = f->st;
    struct run_new run = {st->run_id, st->r->principal.tenant_id, NULL, st->store.sha256, f->config};
    PGresult *res;

    if (f->dup_seen) {
        res = arena_pg(&st->r->arena, run_find_in_progress(db, run.tenant_id, run.content_hash));
        if (!res)
            return -1;
        if (PQntuples(res) == 1) {
            f->in_progress = res;
            return RUN_TX_IN_PROGRESS;
        }
    }
    res = upsert_document(db, f);
    if (!res)
        return -1;
    if (PQntuples(res) != 1)
        return RUN_TX_NO_DOC;
    snprintf(f->doc_id, sizeof(f->doc_id), "%s", PQgetvalue(res, 0, 0));
    snprintf(f->doc_uri, sizeof(f->doc_uri), "%s", PQgetvalue(res, 0, 1));
    run.doc_id = f->doc_id;
    /* received_at is the run's created_at, so a re-published message (crash guard) is the same. */
    if (run_create_queued(db, &run, st->received_at, sizeof(st->received_at)) == 0)
        return outbox_in_tx(db, f);
    if (strcmp(db_last_sqlstate(), DB_UNIQUE_VIOLATION) != 0)
        return -1;
    f->dup_seen = 1;
    return DB_TX_RETRY;
}

/* Same content already queued or running in this tenant: that run is the answer (200). */
static void answer_in_progress(struct ingest *st, PGresult *res)
{
    upload_store_abort(&st->store);
    log_upload(st, "already in progress", 200, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0), NULL);
    answer_ok(st, 200,
              json_pack("{s:s,s:s,s:s,s:s}", "run_id", PQgetvalue(res, 0, 0), "doc_id", PQgetvalue(res, 0, 1),
                        "status", PQgetvalue(res, 0, 2), "reason", "already in progress"));
}

/* Record the document and the queued run. 0 when recorded; otherwise the request is answered. */
static int create_run(struct ingest *st, struct finish *f)
{
    int rc = db_tx_run(f->db, INGEST_TX_ATTEMPTS, create_run_tx, f);

    switch (rc) {
    case 0:
        return 0;
    case RUN_TX_NO_DOC:
        reject(st, API_ERR_NOT_FOUND, "document not found");
        break;
    case RUN_TX_IN_PROGRESS:
        answer_in_progress(st, f->in_progress);
        break;
    case DB_TX_RETRY:
        reject(st, API_ERR_UNAVAILABLE, "busy, try again");
        break;
    default:
        reject_db(st, "upload not recorded");
        break;
    }
    return -1;
}

/* The message could not be published: 503 with the run_id, and the run failed enqueue_failed. */
static void answer_enqueue_failed(struct ingest *st, const struct finish *f, const struct sqs_error *qerr)
{
    /* A short loan, not req_db(): the answer is this 503 with the run_id whatever the pool says. */
    struct db_pool *pool = st->r->app->db;
    PGconn *db = pool ? db_pool_acquire_tenant(pool, st->r->principal.tenant_id) : NULL;
    int failed = db && fail_enqueue(st, db, qerr);

    /* Failed for good: nothing to send. Otherwise the row stays and a publisher sends it later. */
    if (failed && outbox_remove(db, st->run_id) < 0)
        log_event(LOG_WARN, "outbox row of a failed run not cleared", json_pack("{s:s}", "run_id", st->run_id));
    if (db)
        db_pool_release(pool, db);
    if (failed) {
        /* The run is terminal: its upload would stay on disk forever. */
        upload_store_abort(&st->store);
        st->keep_file = 0;
    }
    log_event(LOG_ERROR, "enqueue failed",
              json_pack("{s:s,s:s,s:s,s:I}", "run_id", st->run_id, "code", qerr->code, "message", qerr->message,
                        "http_status", (json_int_t)qerr->http_status));
    log_upload(st, "enqueue_failed", 503, f->doc_id, st->run_id, NULL);
    req_error_extra(st->r, API_ERR_UNAVAILABLE, "queue unavailable", json_pack("{s:s}", "run_id", st->run_id));
}

/* Publish the run's message (spec 4.5) and answer 202, or 503 when the queue refuses it. */
static void publish(struct ingest *st, const struct finish *f)
{
    struct req *r = st->r;
    char message_id[160] = "";
    struct sqs_error qerr;
    struct sqs_client *sqs = req_sqs(r);

    memset(&qerr, 0, sizeof(qerr));
    if (!sqs || job_publish(r->app->cfg, sqs, f->message, message_id, sizeof(message_id), &qerr) < 0) {
        if (!qerr.code[0])
            snprintf(qerr.code, sizeof(qerr.code), "%s", !sqs ? "nomem" : "transport");
        answer_enqueue_failed(st, f, &qerr);
        return;
    }
    outbox_clear(st);
    metrics_upload(st->store.size);
    log_upload(st, "queued", 202, f->doc_id, st->run_id, message_id);
    answer_ok(st, 202, json_pack("{s:s,s:s,s:s}", "run_id", st->run_id, "doc_id", f->doc_id, "status", "queued"));
}

static void ingest_finish(struct ingest *st)
{
    struct finish f;

    if (check_fields(st) < 0)
        return;
    memset(&f, 0, sizeof(f));
    f.st = st;
    f.title_in = st->title.len ? st->title.ptr : "";
    f.want_doc = st->doc_id.len ? st->doc_id.ptr : NULL;
    snprintf(f.source_uri, sizeof(f.source_uri), "upload://sha256:%s", st->store.sha256);
    f.db = req_db(st->r);
    if (!f.db) {
        upload_store_abort(&st->store);   /* req_db answered 503 */
        return;
    }
    if (resolve_title(st, &f) < 0 || answer_if_duplicate(st, &f))
        return;
    f.config = config_text(st, f.title);
    if (!f.config) {
        reject(st, API_ERR_INTERNAL, "internal error");
        return;
    }
    if (create_run(st, &f) < 0) {
        free(f.message);
        return;
    }
    /* The run exists: from here on the file is its upload and stays. */
    st->keep_file = 1;
    /* Tests kill the process here: the run and its outbox row are committed, the message unsent. */
    FAILPOINT("after_run_commit");
    /* The queue may take seconds to answer: the pool does not wait for it. */
    req_db_release(st->r);
    f.db = NULL;
    publish(st, &f);
    free(f.message);
}

static void ingest_end_body(struct ingest *st);

static void ingest_end(struct req *r)
{
    struct ingest *st = r->stream_state;

    ingest_end_body(st);
    /* Any answer but a stored 2xx (4xx, 503, database error): give the key back before the client sees it. */
    idem_release(st);
    /* And the slot: the client may start its next upload as soon as it has this answer. */
    upload_slot_release(&st->slot);
    upload_gate_leave(&st->gate);
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
        stop_store_failed(st);
        reject(st, st->err, st->err_msg);
        return;
    }
    ingest_finish(st);
}

const struct stream_ops ingest_stream_ops = {
    .admit = ingest_admit,
    .begin = ingest_begin,
    .data = ingest_data,
    .end = ingest_end,
    .abort = ingest_abort,
};
