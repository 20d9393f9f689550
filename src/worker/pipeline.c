/*
 * pipeline.c - one received message end to end (pipeline.h): a table of
 * stages run in order by run_stages(), which writes each stage's milestone
 * heartbeat, checks cancellation between stages, logs one "job stage" line
 * per stage and turns the first failure into a requeue, a failed run or a
 * DLQ copy (finish_failure). The stages share the job's state in struct job.
 */
#include "worker/pipeline.h"

#include "common/db.h"
#include "common/errors.h"
#include "common/failpoint.h"
#include "common/hash.h"
#include "common/job_msg.h"
#include "common/log.h"
#include "common/run_state.h"
#include "common/sniff.h"
#include "common/timeutil.h"
#include "common/upload_path.h"
#include "worker/chunk.h"
#include "worker/s3_source.h"
#include "worker/sync.h"
#include "worker/extract/extract.h"
#include "worker/store.h"
#include "worker/structure.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_WAIT_MAX_MS (15LL * 60 * 1000)   /* hold a message at most this long while the database is away */
#define DB_ERROR_RELEASE_S 5

/* What a stage tells the loop. */
enum stage_rc {
    STAGE_NEXT = 0,   /* done: go on to the next stage */
    STAGE_FAIL,       /* the job failed: j->code and j->detail say why */
    STAGE_STOP,       /* ownership lost or shutdown, seen inside the stage */
    STAGE_END,        /* the stage settled the message itself (j->out filled): no failure, nothing more */
};

/* The stages, in order (indexes into the table and j->ms). */
enum stage_id { ST_CLAIM, ST_LOCATE, ST_EXTRACT, ST_CHUNK, ST_EMBED, ST_STORE, ST__COUNT };

struct job {
    const struct pipeline_env *env;
    struct arena *a;
    const struct job_msg *msg;
    int msg_valid;                  /* job_msg_parse() accepted the body */
    const char *msg_err;            /* its reason when not */
    struct pipeline_result *out;
    struct run_owner run;
    int receive_count;
    int lost;                       /* a milestone heartbeat matched 0 rows */
    int64_t t0;
    int64_t ms[ST__COUNT];          /* each stage's duration */
    const char *transition;         /* the status change the running stage made, for its log line */
    /* what the stages produce, in order */
    char path[PATH_MAX];            /* locate */
    int fetched;                    /* path is a download of an s3:// upload_uri (removed at the end) */
    char hash[65];
    long long size;
    const char *mime;
    struct extract_result ex;       /* extract */
    int pdf_parts;                  /* the pdftotext processes a PDF was allowed (stats.pdf_parts_allowed) */
    struct structure st;            /* chunk: ex's text without boilerplate, headings, page labels */
    int64_t progress_ms;            /* the last extract progress written */
    struct chunk *chunks;           /* chunk */
    size_t nchunks;
    int chunked;
    int dim;                        /* embed */
    float *vectors;
    const char **texts;
    size_t *lens;
    char version_id[ID_UUID_LEN + 1];   /* store */
    int activated;
    /* a failed stage's reason */
    enum run_fail code;
    char detail[512];
};

static void log_stage(const struct job *j, const char *stage, const char *transition, int64_t duration_ms,
                      long chunks, const char *error)
{
    json_t *f = json_pack("{s:s,s:s,s:s,s:I}", "run_id", j->run.run_id[0] ? j->run.run_id : j->msg->run_id,
                          "tenant_id", j->run.tenant_id[0] ? j->run.tenant_id : j->msg->tenant_id, "stage", stage,
                          "duration_ms", (json_int_t)duration_ms);

    if (!f)
        return;
    json_object_set_new(f, "attempt", json_integer(j->run.attempt));
    if (transition)
        json_object_set_new(f, "status_transition", json_string(transition));
    if (chunks >= 0)
        json_object_set_new(f, "chunks", json_integer(chunks));
    if (error)
        json_object_set_new(f, "error", json_string(error));
    log_event(error ? LOG_WARN : LOG_INFO, "job stage", f);
}

/* The chunk count for log lines and progress: -1 (none) until the text is chunked. */
static long chunk_count(const struct job *j)
{
    return j->chunked ? (long)j->nchunks : -1;
}

/* A failed stage: record the code and a detail, return STAGE_FAIL. */
__attribute__((format(printf, 3, 4))) static enum stage_rc stage_fail(struct job *j, enum run_fail code,
                                                                      const char *fmt, ...)
{
    va_list ap;

    j->code = code;
    va_start(ap, fmt);
    vsnprintf(j->detail, sizeof(j->detail), fmt, ap);
    va_end(ap);
    return STAGE_FAIL;
}

static void set_release(struct pipeline_result *out, int visibility_s, const char *outcome)
{
    out->action = PIPE_ACT_RELEASE;
    out->visibility_s = visibility_s;
    out->outcome = outcome;
}

static int should_stop(const struct job *j)
{
    const struct pipeline_hooks *h = &j->env->hooks;

    return j->lost || (h->should_stop && h->should_stop(h->hook));
}

/* Milestone: tell the keeper (it repeats the heartbeat) and write it now. */
static void progress(struct job *j, const char *stage, long done, long total)
{
    const struct pipeline_hooks *h = &j->env->hooks;

    if (h->progress)
        h->progress(h->hook, j->run.run_id, j->run.tenant_id, j->run.attempt, stage, done, total);
    /* With the database away, leave it to the keeper (and the store's wait) rather than log every batch. */
    if (*j->env->conn && PQstatus(*j->env->conn) == CONNECTION_OK &&
        run_heartbeat(*j->env->conn, &j->run, stage, done, total) == RUN_WRITE_LOST)
        j->lost = 1;
}

static int conn_broken(const struct pipeline_env *env)
{
    return !*env->conn || PQstatus(*env->conn) != CONNECTION_OK || db_last_was_connection_error();
}

/*
 * The job's connection, reconnected if it went away, with the session's
 * tenant set to tenant_id (row-level security: a new connection has none, and
 * every statement of the job must see its tenant's rows only). 0 or -1.
 */
static int job_db(const struct pipeline_env *env, const char *tenant_id)
{
    if (db_ensure(env->conn, env->cfg->database_url, DB_ROLE_WORKER) < 0)
        return -1;
    return db_set_tenant(*env->conn, tenant_id);
}

/*
 * The database went away: hold the message (the keeper keeps extending its
 * visibility, so its receive count does not grow) and wait for the database.
 * 0 when it is back (the tenant set again), -1 on shutdown or after DB_WAIT_MAX_MS.
 */
static int wait_db(const struct pipeline_env *env, const char *tenant_id)
{
    int64_t deadline = time_mono_ms() + DB_WAIT_MAX_MS;
    int logged = 0;

    for (;;) {
        if (job_db(env, tenant_id) == 0)
            return 0;
        if (!logged) {
            log_event(LOG_WARN, "database unreachable: holding the message until it is back", NULL);
            logged = 1;
        }
        if (time_mono_ms() > deadline || (env->hooks.should_stop && env->hooks.should_stop(env->hooks.hook)))
            return -1;
        time_sleep_ms(1000);
    }
}

int pipeline_backoff_s(int receive_count, long long visibility_timeout_ms)
{
    long long cap = visibility_timeout_ms / 1000;
    long long b;

    if (receive_count < 1)
        receive_count = 1;
    if (receive_count > 10)
        receive_count = 10;
    b = 1LL << receive_count;
    if (cap < 1)
        cap = 1;
    return (int)(b < cap ? b : cap);
}

/* After a LOST write: a run that reached a terminal state is ACKed, else forgotten. */
static void after_lost(const struct job *j)
{
    const char *p[2] = {j->run.run_id, j->run.tenant_id};
    PGresult *res = db_query(*j->env->conn,
                             "SELECT status FROM ingestion_runs WHERE run_id = $1 AND tenant_id = $2", 2, p);
    struct pipeline_result *out = j->out;

    out->action = PIPE_ACT_DROP;
    out->outcome = "lost";
    if (res && PQntuples(res) == 1) {
        const char *s = PQgetvalue(res, 0, 0);

        if (strcmp(s, "succeeded") == 0 || strcmp(s, "failed") == 0 || strcmp(s, "skipped") == 0) {
            out->action = PIPE_ACT_DELETE;
            out->outcome = "terminal";
        }
    }
    PQclear(res);
}

/*
 * A failed job: requeue it for the redelivery while receives remain and the
 * failure is worth retrying; otherwise fail the run. See README.md (retries).
 */
static void finish_failure(struct job *j, enum run_fail code, const char *detail)
{
    const struct pipeline_env *env = j->env;
    struct pipeline_result *out = j->out;
    int retryable = run_fail_transient(code);
    int retry = retryable && j->receive_count < env->max_receive_count;
    char text[512];
    enum run_write w;

    run_error_text(code, detail, text, sizeof(text));
    for (;;) {
        w = retry ? run_requeue(*env->conn, &j->run, code, detail) : run_fail(*env->conn, &j->run, code, detail);
        if (w != RUN_WRITE_DB || !conn_broken(env) || wait_db(env, j->run.tenant_id) < 0)
            break;
    }
    if (w == RUN_WRITE_DB) {
        /* Nothing committed: never ACK. The redelivery retries the whole job. */
        set_release(out, DB_ERROR_RELEASE_S, "db_error");
        log_stage(j, "failed", NULL, time_mono_ms() - j->t0, -1, text);
        return;
    }
    if (w == RUN_WRITE_LOST) {
        after_lost(j);
        return;
    }
    if (retry) {
        set_release(out, pipeline_backoff_s(j->receive_count, env->cfg->visibility_timeout_ms), "requeued");
        log_stage(j, "requeued", "running->queued", time_mono_ms() - j->t0, -1, text);
    } else if (retryable) {
        /* Last attempt: leave the message un-ACKed and visible at once, so the
         * queue's redrive moves it to the DLQ on the next receive. */
        set_release(out, 0, "failed");
        log_stage(j, "failed", "running->failed", time_mono_ms() - j->t0, -1, text);
    } else {
        out->action = PIPE_ACT_DLQ;
        out->outcome = "failed";
        log_stage(j, "failed", "running->failed", time_mono_ms() - j->t0, -1, text);
    }
}

/* ownership lost or shutdown between (or inside) stages */
static void stopped(struct job *j)
{
    log_stage(j, "stopped", NULL, time_mono_ms() - j->t0, -1, j->lost ? "run no longer owned" : "shutdown");
    if (j->lost)
        after_lost(j);
    else
        set_release(j->out, 0, "shutdown");   /* the consumer requeues the run and releases the message */
}

/* ---- claim: the run becomes ours -------------------------------------------------- */

/* The claim did not give us the run: what becomes of the message. */
static void claim_refused(struct job *j, enum run_claim cl)
{
    struct pipeline_result *out = j->out;
    long long s;

    switch (cl) {
    case RUN_CLAIM_TERMINAL:
        out->action = PIPE_ACT_DELETE;
        out->outcome = "already_terminal";
        break;
    case RUN_CLAIM_BUSY:
        /* Someone else works on it: come back when its heartbeat could be stale. */
        s = j->env->cfg->takeover_after_ms / 1000 + 1;
        set_release(out, (int)(s > 43200 ? 43200 : s), "busy");
        break;
    case RUN_CLAIM_MISSING:
        log_event(LOG_WARN, "message names no run of that tenant",
                  json_pack("{s:s,s:s}", "run_id", j->msg->run_id, "tenant_id", j->msg->tenant_id));
        out->action = PIPE_ACT_DLQ;
        out->outcome = "missing";
        break;
    case RUN_CLAIM_DB_ERROR:
    case RUN_CLAIMED:
        set_release(out, DB_ERROR_RELEASE_S, "db_error");
        break;
    }
}

static enum stage_rc stage_claim(struct job *j)
{
    const struct pipeline_env *env = j->env;
    enum run_claim cl;

    /* From here the connection sees the message's tenant only (row-level security). */
    if (job_db(env, j->msg->tenant_id) < 0) {
        set_release(j->out, DB_ERROR_RELEASE_S, "db_error");
        return STAGE_END;
    }
    cl = run_claim(*env->conn, j->msg->run_id, j->msg->tenant_id, env->cfg->takeover_after_ms, &j->run);
    if (cl != RUN_CLAIMED) {
        claim_refused(j, cl);
        return STAGE_END;
    }
    if (!j->msg_valid)
        return stage_fail(j, RUN_FAIL_INVALID_MESSAGE, "%s", j->msg_err);
    if (strcmp(j->msg->doc_id, j->run.doc_id) != 0)
        return stage_fail(j, RUN_FAIL_INVALID_MESSAGE, "doc_id does not match the run");
    j->transition = j->run.takeover ? "running->running (takeover)" : "queued->running";
    return STAGE_NEXT;
}

/* ---- locate: the upload, its hash, size and type ---------------------------------- */

/* sha256 of the file and its first bytes; -1 on a read error. */
static int read_upload(const char *path, unsigned char *head, size_t *headlen, char hash[65], long long *size)
{
    unsigned char block[65536];
    struct sha256 h;
    struct stat st;
    ssize_t n;
    int fd, rc = -1;

    *headlen = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || sha256_init(&h) != 0) {
        close(fd);
        return -1;
    }
    *size = (long long)st.st_size;
    for (;;) {
        n = read(fd, block, sizeof(block));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (n == 0) {
            rc = 0;
            break;
        }
        if (*headlen < SNIFF_HEAD_MAX) {
            size_t take = SNIFF_HEAD_MAX - *headlen < (size_t)n ? SNIFF_HEAD_MAX - *headlen : (size_t)n;

            memcpy(head + *headlen, block, take);
            *headlen += take;
        }
        if (sha256_update(&h, block, (size_t)n) != 0)
            break;
    }
    close(fd);
    if (rc == 0)
        rc = sha256_final_hex(&h, hash) == 0 ? 0 : -1;
    else
        sha256_release(&h);
    return rc;
}

/*
 * A downloaded s3:// object whose bytes are those of its document's active
 * version (a sync saw new metadata, not new content): the run ends skipped
 * ("duplicate content", as an identical upload does) and no version is made.
 */
static enum stage_rc skip_if_unchanged(struct job *j)
{
    const char *params[2] = {j->run.doc_id, j->hash};
    PGresult *res = db_query(*j->env->conn,
                             "SELECT version_id FROM document_versions WHERE doc_id = $1 AND is_active"
                             " AND content_hash = $2",
                             2, params);
    char stats[256];
    int same = res && PQntuples(res) == 1;
    enum run_write w;

    if (same)
        snprintf(stats, sizeof(stats), "{\"reason\":\"duplicate content\",\"sha256\":\"%s\",\"version_id\":\"%s\"}",
                 j->hash, PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!same)
        return STAGE_NEXT;   /* new content (or the lookup failed: ingesting again is harmless) */
    w = run_skip(*j->env->conn, &j->run, stats);
    if (w == RUN_WRITE_DB) {
        set_release(j->out, DB_ERROR_RELEASE_S, "db_error");
        return STAGE_END;
    }
    log_event(LOG_INFO, "job skipped: content unchanged", json_pack("{s:s,s:s}", "run_id", j->run.run_id, "sha256", j->hash));
    j->out->action = PIPE_ACT_DELETE;
    j->out->outcome = w == RUN_WRITE_OK ? "skipped" : "lost";
    return STAGE_END;
}

static enum stage_rc stage_locate(struct job *j)
{
    const struct config *cfg = j->env->cfg;
    unsigned char *head;
    size_t headlen = 0;
    const char *base;

    if (strncmp(j->msg->upload_uri, "s3://", 5) == 0) {
        j->code = s3_source_fetch(*j->env->conn, cfg, j->run.run_id, j->msg->upload_uri, j->path, sizeof(j->path),
                                  j->detail, sizeof(j->detail));
        j->fetched = j->code == RUN_OK;
    } else {
        j->code = upload_path_resolve(j->msg->upload_uri, cfg->upload_dir, j->run.tenant_id, j->path,
                                      sizeof(j->path), j->detail, sizeof(j->detail));
    }
    if (j->code != RUN_OK)
        return STAGE_FAIL;
    head = arena_alloc(j->a, SNIFF_HEAD_MAX);
    if (!head)
        return stage_fail(j, RUN_FAIL_INTERNAL, "out of memory");
    if (read_upload(j->path, head, &headlen, j->hash, &j->size) < 0)
        return stage_fail(j, RUN_FAIL_UPLOAD_MISSING, "cannot read the upload: %s", strerror(errno));
    if (j->run.content_hash[0] && strcmp(j->run.content_hash, j->hash) != 0)
        log_event(LOG_WARN, "upload content differs from the run's content_hash",
                  json_pack("{s:s,s:s}", "run_id", j->run.run_id, "sha256", j->hash));
    if (j->size > cfg->max_upload_bytes)
        return stage_fail(j, RUN_FAIL_TOO_LARGE, "upload of %lld bytes is over MAX_UPLOAD_BYTES", j->size);
    base = strrchr(j->path, '/');
    base = base ? base + 1 : j->path;
    j->mime = sniff_mime(head, headlen, base);
    if (!j->mime)
        return stage_fail(j, RUN_FAIL_UNSUPPORTED_TYPE, "not a supported document type (docs/api.md)");
    return j->fetched ? skip_if_unchanged(j) : STAGE_NEXT;
}

/* ---- extract, chunk, embed -------------------------------------------------------- */

/* Pages done of total, sent by the extraction helper as it goes: the
 * keeper repeats it; written at once at most every second. */
static void extract_progress_cb(void *arg, long done, long total)
{
    struct job *j = arg;
    int64_t now = time_mono_ms();

    if (done < total && now - j->progress_ms < 1000)
        return;
    j->progress_ms = now;
    progress(j, "extract", done, total);
}

/* Ingestion jobs in run_stages() in this worker now, for extract_pdf_parts_now(). */
static atomic_int jobs_running;

/* Sandboxed helper (ingest-extract); the keeper heartbeats while we wait. */
static enum stage_rc stage_extract(struct job *j)
{
    const struct config *cfg = j->env->cfg;
    struct extract_limits lim;

    memset(&lim, 0, sizeof(lim));
    lim.timeout_ms = (long)cfg->extract_timeout_ms;
    lim.memory_mb = (long)cfg->extract_memory_mb;
    lim.max_chars = (long)cfg->extract_max_chars;
    lim.max_uncompressed_bytes = (long)cfg->extract_max_uncompressed;
    lim.helper = cfg->extract_helper;
    lim.ocr = cfg->ocr && strcmp(cfg->ocr, "on") == 0;
    lim.ocr_langs = cfg->ocr_langs;
    lim.ocr_page_timeout_ms = (long)cfg->ocr_page_timeout_ms;
    lim.ocr_max_pixels = (long)cfg->ocr_max_pixels;
    /* parts only while a core would idle: the cores per job this worker runs now (docs/decisions.md) */
    lim.pdf_parts = extract_pdf_parts_now((int)cfg->extract_pdf_parts, atomic_load(&jobs_running),
                                          extract_cpu_count());
    j->pdf_parts = lim.pdf_parts;
    lim.pdf_split_pages = (long)cfg->extract_pdf_split_pages;
    lim.progress = extract_progress_cb;
    lim.progress_arg = j;
    j->code = extract_file(j->path, j->mime, &lim, &j->ex, j->detail, sizeof(j->detail));
    return j->code == RUN_OK ? STAGE_NEXT : STAGE_FAIL;
}

static enum stage_rc stage_chunk(struct job *j)
{
    const struct config *cfg = j->env->cfg;

    /* A scanned PDF without a text layer, a blank file: succeeding with 0 chunks would
     * activate an empty version (hiding the document's earlier content) and tell the
     * user all is well. The same bytes give the same nothing: fail at once (permanent). */
    if (!chunk_has_text(j->ex.text, j->ex.len))
        return stage_fail(j, RUN_FAIL_NO_TEXT, "no text found");
    if (structure_build_outline(j->ex.text, j->ex.len, j->ex.page_starts, j->ex.pages, j->mime, j->ex.outline,
                                j->ex.noutline, &j->st) != 0)
        return stage_fail(j, RUN_FAIL_INTERNAL, "out of memory for the document structure");
    /* Only boilerplate (a file of page numbers): index what extraction gave, as before. */
    if (!chunk_has_text(j->st.text, j->st.len)) {
        structure_release(&j->st);
        if (structure_build(j->ex.text, j->ex.len, j->ex.page_starts, j->ex.pages, SNIFF_MIME_TEXT, &j->st) != 0)
            return stage_fail(j, RUN_FAIL_INTERNAL, "out of memory for the document structure");
    }
    if (chunk_text(j->st.text, j->st.len, j->st.page_starts, j->st.pages, (size_t)cfg->chunk_size,
                   (size_t)cfg->chunk_overlap, &j->chunks, &j->nchunks) != 0)
        return stage_fail(j, RUN_FAIL_INTERNAL, "chunking failed");
    structure_label_chunks(&j->st, j->chunks, j->nchunks);
    j->chunked = 1;
    return STAGE_NEXT;
}

/* In batches, a heartbeat and a cancellation check between them. */
static enum stage_rc stage_embed(struct job *j)
{
    const struct pipeline_env *env = j->env;
    size_t n = j->nchunks, batch = env->cfg->embed_batch > 0 ? (size_t)env->cfg->embed_batch : 32;

    j->dim = embed_dim(env->embedder);
    if (!n)
        return STAGE_NEXT;
    j->vectors = malloc(n * (size_t)j->dim * sizeof(float));
    j->texts = malloc(n * sizeof(*j->texts));
    j->lens = malloc(n * sizeof(*j->lens));
    if (!j->vectors || !j->texts || !j->lens)
        return stage_fail(j, RUN_FAIL_INTERNAL, "out of memory for %zu embeddings", n);
    for (size_t i = 0; i < n; i++) {
        j->texts[i] = j->st.text + j->chunks[i].start;
        j->lens[i] = j->chunks[i].end - j->chunks[i].start;
    }
    for (size_t i = 0; i < n; i += batch) {
        size_t nb = n - i < batch ? n - i : batch;

        /* the first batch's milestone and check are the loop's, before the stage */
        if (i > 0) {
            progress(j, "embed", (long)i, (long)n);
            if (should_stop(j))
                return STAGE_STOP;
        }
        if (embed_texts(env->embedder, j->texts + i, j->lens + i, nb, j->vectors + i * (size_t)j->dim, j->detail,
                        sizeof(j->detail)) != 0) {
            j->code = RUN_FAIL_EMBED_FAILED;
            return STAGE_FAIL;
        }
    }
    return STAGE_NEXT;
}

/* ---- store: the content write, in one transaction --------------------------------- */

/* The run's stats (borrowed by the store; freed with the job's arena), NULL when memory is out. */
static json_t *job_stats(struct job *j)
{
    json_t *stats = json_pack(
        "{s:i,s:I,s:I,s:s,s:i,s:i,s:s,s:I,s:{s:I,s:I,s:I},s:{s:s,s:I,s:I}}", "pages", j->ex.pages, "chars",
        (json_int_t)j->st.len, "chunks", (json_int_t)j->nchunks, "embedding_model", embed_model(j->env->embedder),
        "embedding_dim", j->dim, "attempt", j->run.attempt, "mime", j->mime, "byte_size", (json_int_t)j->size,
        "durations_ms", "extract", (json_int_t)j->ms[ST_EXTRACT], "chunk", (json_int_t)j->ms[ST_CHUNK], "embed",
        (json_int_t)j->ms[ST_EMBED], "progress", "stage", "done", "done", (json_int_t)j->nchunks, "total",
        (json_int_t)j->nchunks);

    /* a PDF's parts as allowed when its extraction started (the helper uses 1 under EXTRACT_PDF_SPLIT_PAGES) */
    if (stats && j->mime && strcmp(j->mime, SNIFF_MIME_PDF) == 0)
        json_object_set_new(stats, "pdf_parts_allowed", json_integer(j->pdf_parts));
    if (stats)
        arena_json(j->a, stats);
    return stats;
}

/*
 * store_write until it commits (it retries a deadlock or serialization
 * failure itself, db_tx_run); a database outage waits for the database
 * (nothing is ACKed meanwhile) and writes again.
 */
static enum stage_rc write_content(struct job *j, const struct store_input *in)
{
    int64_t t = time_mono_ms();
    enum store_result sr;

    for (;;) {
        sr = store_write(*j->env->conn, in, &j->activated, j->version_id);
        if (sr == STORE_OK) {
            j->transition = "running->succeeded";
            if (in->nchunks && store_merge_index(*j->env->conn) < 0)
                log_stage(j, "write", NULL, time_mono_ms() - t, (long)j->nchunks,
                          "index merge failed (left to the next insert or autovacuum)");
            return STAGE_NEXT;
        }
        if (sr == STORE_LOST) {
            log_stage(j, "write", NULL, time_mono_ms() - t, (long)j->nchunks, "run no longer owned; rolled back");
            after_lost(j);
            return STAGE_END;
        }
        if (conn_broken(j->env)) {
            /* PostgreSQL went away at write/commit time: nothing is ACKed; wait and write again. */
            log_stage(j, "write", NULL, time_mono_ms() - t, (long)j->nchunks, "database unreachable");
            if (wait_db(j->env, j->run.tenant_id) == 0 && !should_stop(j))
                continue;
            set_release(j->out, DB_ERROR_RELEASE_S, "db_error");
            return STAGE_END;
        }
        return stage_fail(j, RUN_FAIL_STORE_FAILED, "content write failed (SQLSTATE %s)", db_last_sqlstate());
    }
}

static enum stage_rc stage_store(struct job *j)
{
    struct store_input in;

    memset(&in, 0, sizeof(in));
    in.stats = job_stats(j);
    if (!in.stats)
        return stage_fail(j, RUN_FAIL_INTERNAL, "out of memory");
    in.run = &j->run;
    in.content_hash = j->hash;
    in.byte_size = j->size;
    in.mime = j->mime;
    in.pages = j->ex.pages;
    in.text = j->st.text;
    in.chars = j->st.len;
    in.chunks = j->chunks;
    in.nchunks = j->nchunks;
    in.vectors = j->vectors;
    in.dim = j->dim;
    in.model = embed_model(j->env->embedder);
    in.started_mono = j->t0;
    in.page_ocr = j->ex.page_ocr;
    in.title = j->ex.title;
    in.author = j->ex.author;
    in.filename = strrchr(j->path, '/') ? strrchr(j->path, '/') + 1 : j->path;
    return write_content(j, &in);
}

static void remove_upload(const char *path)
{
    char dir[PATH_MAX];
    char *slash;

    if (unlink(path) != 0) {
        log_event(LOG_WARN, "upload removal failed", json_pack("{s:s}", "error", strerror(errno)));
        return;
    }
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        (void)rmdir(dir);   /* the run's folder, if now empty */
    }
}

/* Every stage done: the run's success is committed. */
static void succeeded(struct job *j)
{
    json_t *f = json_pack("{s:s,s:s,s:s,s:b,s:I,s:I}", "run_id", j->run.run_id, "tenant_id", j->run.tenant_id,
                          "version_id", j->version_id, "activated", j->activated, "chunks",
                          (json_int_t)j->nchunks, "duration_ms", (json_int_t)(time_mono_ms() - j->t0));

    log_event(LOG_INFO, "job succeeded", f);
    /* Tests kill the worker here: the content and `succeeded` are committed, the message not deleted. */
    FAILPOINT("after_content_commit");
    if (strcmp(j->env->cfg->upload_retention, "delete") == 0 && !j->fetched)
        remove_upload(j->path);
    else if (strcmp(j->env->cfg->upload_retention, "delete") == 0)
        s3_source_remove_upload(j->env->cfg, j->msg->upload_uri);
    j->out->action = PIPE_ACT_DELETE;
    j->out->outcome = "succeeded";
}

/* ---- the table and its loop ------------------------------------------------------- */

enum stage_flags {
    STAGE_LOG_FAILURE = 1 << 0,   /* a failure also gets the stage's log line, error = the code */
};

struct stage {
    const char *name;             /* for the reader: what the stage does */
    enum stage_rc (*fn)(struct job *j);
    const char *progress;         /* stats.progress.stage written before it runs; NULL: none */
    const char *log;              /* its "job stage" log line when it succeeds; NULL: none */
    unsigned flags;
};

static const struct stage stages[ST__COUNT] = {
    [ST_CLAIM] = {"claim", stage_claim, NULL, "claimed", 0},
    [ST_LOCATE] = {"locate", stage_locate, "read", NULL, 0},
    [ST_EXTRACT] = {"extract", stage_extract, "extract", "extract", STAGE_LOG_FAILURE},
    [ST_CHUNK] = {"chunk", stage_chunk, "chunk", "chunk", 0},
    [ST_EMBED] = {"embed", stage_embed, "embed", "embed", 0},
    [ST_STORE] = {"store", stage_store, "write", "write", 0},
};

/*
 * Run the stages in order. Before each one but the claim: its milestone
 * heartbeat, then the cancellation check. After it: its log line, or the
 * failure's handling, or nothing when it settled the message itself.
 */
static void run_stages(struct job *j)
{
    for (int i = 0; i < ST__COUNT; i++) {
        const struct stage *st = &stages[i];
        enum stage_rc rc;
        int64_t t;

        if (st->progress)
            progress(j, st->progress, 0, j->chunked ? (long)j->nchunks : 0);
        if (i != ST_CLAIM && should_stop(j)) {
            stopped(j);
            return;
        }
        j->transition = NULL;
        t = time_mono_ms();
        rc = st->fn(j);
        j->ms[i] = time_mono_ms() - t;
        if (rc == STAGE_NEXT) {
            if (st->log)
                log_stage(j, st->log, j->transition, j->ms[i], chunk_count(j), NULL);
            continue;
        }
        if (rc == STAGE_FAIL && (st->flags & STAGE_LOG_FAILURE))
            log_stage(j, st->log, NULL, j->ms[i], -1, run_fail_code(j->code));
        if (rc == STAGE_FAIL)
            finish_failure(j, j->code, j->detail);
        else if (rc == STAGE_STOP)
            stopped(j);
        return;
    }
    succeeded(j);
}

static void job_release(struct job *j)
{
    if (j->fetched)
        s3_source_cleanup(j->path);
    extract_result_release(&j->ex);
    structure_release(&j->st);
    free(j->chunks);
    free(j->vectors);
    free(j->texts);
    free(j->lens);
}

void pipeline_process(const struct pipeline_env *env, struct arena *a, const char *body, size_t len,
                      int receive_count, struct pipeline_result *out)
{
    struct job_msg msg;
    struct job j;
    char err[256];

    memset(out, 0, sizeof(*out));
    memset(&j, 0, sizeof(j));
    j.env = env;
    j.a = a;
    j.msg = &msg;
    j.out = out;
    j.receive_count = receive_count < 1 ? 1 : receive_count;
    j.t0 = time_mono_ms();

    j.msg_valid = job_msg_parse(body, len, a, &msg, err, sizeof(err)) == 0;
    j.msg_err = err;
    if (j.msg_valid && msg.type == JOB_SOURCE_SYNC) {
        sync_process(env, a, &msg, out);
        return;
    }
    snprintf(out->run_id, sizeof(out->run_id), "%s", msg.run_id);
    if (!msg.run_id[0] || !msg.tenant_id[0]) {
        /* Nothing to fail: a message that can never succeed goes to the DLQ for a human. */
        log_event(LOG_WARN, "invalid message", json_pack("{s:s}", "error", err));
        out->action = PIPE_ACT_DLQ;
        out->outcome = "invalid";
        return;
    }
    atomic_fetch_add(&jobs_running, 1);
    run_stages(&j);
    atomic_fetch_sub(&jobs_running, 1);
    job_release(&j);
    /* The connection outlives the job: it keeps no tenant (closed if that cannot be cleared). */
    if (*env->conn && PQstatus(*env->conn) == CONNECTION_OK && db_set_tenant(*env->conn, NULL) < 0)
        db_close(env->conn);
}
