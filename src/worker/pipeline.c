#include "worker/pipeline.h"

#include "common/db.h"
#include "common/errors.h"
#include "common/hash.h"
#include "common/job_msg.h"
#include "common/log.h"
#include "common/run_state.h"
#include "common/sniff.h"
#include "common/timeutil.h"
#include "common/upload_path.h"
#include "worker/chunk.h"
#include "worker/extract/extract.h"
#include "worker/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_WAIT_MAX_MS (15LL * 60 * 1000)   /* hold a message at most this long while the database is away */
#define DB_ERROR_RELEASE_S 5

struct job {
    const struct pipeline_env *env;
    struct arena *a;
    const struct job_msg *msg;
    struct run_owner run;
    int receive_count;
    int lost;               /* a milestone heartbeat matched 0 rows */
    int64_t t0;
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
 * The database went away: hold the message (the keeper keeps extending its
 * visibility, so its receive count does not grow) and wait for the database.
 * 0 when it is back, -1 on shutdown or after DB_WAIT_MAX_MS.
 */
static int wait_db(const struct pipeline_env *env)
{
    int64_t deadline = time_mono_ms() + DB_WAIT_MAX_MS;
    int logged = 0;

    for (;;) {
        if (db_ensure(env->conn, env->cfg->database_url, DB_ROLE_WORKER) == 0)
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
static void after_lost(const struct pipeline_env *env, const struct job *j, struct pipeline_result *out)
{
    const char *p[2] = {j->run.run_id, j->run.tenant_id};
    PGresult *res = db_query(*env->conn, "SELECT status FROM ingestion_runs WHERE run_id = $1 AND tenant_id = $2",
                             2, p);

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
static void finish_failure(struct job *j, enum run_fail code, const char *detail, struct pipeline_result *out)
{
    const struct pipeline_env *env = j->env;
    int retryable = run_fail_transient(code);
    int retry = retryable && j->receive_count < env->max_receive_count;
    char text[512];
    enum run_write w;

    run_error_text(code, detail, text, sizeof(text));
    for (;;) {
        w = retry ? run_requeue(*env->conn, &j->run, code, detail) : run_fail(*env->conn, &j->run, code, detail);
        if (w != RUN_WRITE_DB || !conn_broken(env) || wait_db(env) < 0)
            break;
    }
    if (w == RUN_WRITE_DB) {
        /* Nothing committed: never ACK. The redelivery retries the whole job. */
        out->action = PIPE_ACT_RELEASE;
        out->visibility_s = DB_ERROR_RELEASE_S;
        out->outcome = "db_error";
        log_stage(j, "failed", NULL, time_mono_ms() - j->t0, -1, text);
        return;
    }
    if (w == RUN_WRITE_LOST) {
        after_lost(env, j, out);
        return;
    }
    if (retry) {
        out->action = PIPE_ACT_RELEASE;
        out->visibility_s = pipeline_backoff_s(j->receive_count, env->cfg->visibility_timeout_ms);
        out->outcome = "requeued";
        log_stage(j, "requeued", "running->queued", time_mono_ms() - j->t0, -1, text);
    } else if (retryable) {
        /* Last attempt: leave the message un-ACKed and visible at once, so the
         * queue's redrive moves it to the DLQ on the next receive. */
        out->action = PIPE_ACT_RELEASE;
        out->visibility_s = 0;
        out->outcome = "failed";
        log_stage(j, "failed", "running->failed", time_mono_ms() - j->t0, -1, text);
    } else {
        out->action = PIPE_ACT_DLQ;
        out->outcome = "failed";
        log_stage(j, "failed", "running->failed", time_mono_ms() - j->t0, -1, text);
    }
}

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

static void run_job(struct job *j, struct pipeline_result *out)
{
    const struct pipeline_env *env = j->env;
    const struct config *cfg = env->cfg;
    char path[PATH_MAX], detail[512], hash[65], version_id[ID_UUID_LEN + 1];
    unsigned char *head = NULL;
    size_t headlen = 0, nchunks = 0;
    long long size = 0;
    const char *mime;
    const char *base;
    struct extract_result ex;
    struct extract_limits lim;
    struct chunk *chunks = NULL;
    float *vectors = NULL;
    const char **texts = NULL;
    size_t *lens = NULL;
    int64_t t, d_extract, d_chunk, d_embed;
    enum run_fail code;
    json_t *stats = NULL;
    int dim, activated = 0;
    struct store_input in;
    enum store_result sr;

    memset(&ex, 0, sizeof(ex));
    detail[0] = '\0';
    log_stage(j, "claimed", j->run.takeover ? "running->running (takeover)" : "queued->running", 0, -1, NULL);
    progress(j, "read", 0, 0);

    code = upload_path_resolve(j->msg->upload_uri, cfg->upload_dir, j->run.tenant_id, path, sizeof(path), detail,
                               sizeof(detail));
    if (code != RUN_OK)
        goto fail;
    head = arena_alloc(j->a, SNIFF_HEAD_MAX);
    if (!head) {
        code = RUN_FAIL_INTERNAL;
        snprintf(detail, sizeof(detail), "out of memory");
        goto fail;
    }
    if (read_upload(path, head, &headlen, hash, &size) < 0) {
        code = RUN_FAIL_UPLOAD_MISSING;
        snprintf(detail, sizeof(detail), "cannot read the upload: %s", strerror(errno));
        goto fail;
    }
    if (j->run.content_hash[0] && strcmp(j->run.content_hash, hash) != 0)
        log_event(LOG_WARN, "upload content differs from the run's content_hash",
                  json_pack("{s:s,s:s}", "run_id", j->run.run_id, "sha256", hash));
    if (size > cfg->max_upload_bytes) {
        code = RUN_FAIL_TOO_LARGE;
        snprintf(detail, sizeof(detail), "upload of %lld bytes is over MAX_UPLOAD_BYTES", size);
        goto fail;
    }
    base = strrchr(path, '/');
    base = base ? base + 1 : path;
    mime = sniff_mime(head, headlen, base);
    if (!mime) {
        code = RUN_FAIL_UNSUPPORTED_TYPE;
        snprintf(detail, sizeof(detail), "not PDF, DOCX, HTML, Markdown or plain text");
        goto fail;
    }

    /* Extract (sandboxed child; the keeper heartbeats while we wait). */
    progress(j, "extract", 0, 0);
    lim.timeout_ms = (long)cfg->extract_timeout_ms;
    lim.memory_mb = (long)cfg->extract_memory_mb;
    lim.max_chars = (long)cfg->extract_max_chars;
    lim.max_uncompressed_bytes = (long)cfg->extract_max_uncompressed;
    t = time_mono_ms();
    code = (enum run_fail)extract_file(path, mime, &lim, &ex, detail, sizeof(detail));
    d_extract = time_mono_ms() - t;
    if (code != RUN_OK) {
        log_stage(j, "extract", NULL, d_extract, -1, run_fail_code(code));
        goto fail;
    }
    log_stage(j, "extract", NULL, d_extract, -1, NULL);
    if (should_stop(j))
        goto lost;
    /* A scanned PDF without a text layer, a blank file: succeeding with 0 chunks would
     * activate an empty version (hiding the document's earlier content) and tell the
     * user all is well. The same bytes give the same nothing: fail at once (permanent). */
    if (!chunk_has_text(ex.text, ex.len)) {
        code = RUN_FAIL_NO_TEXT;
        snprintf(detail, sizeof(detail), "no text found");
        goto fail;
    }

    progress(j, "chunk", 0, 0);
    t = time_mono_ms();
    if (chunk_text(ex.text, ex.len, ex.page_starts, ex.pages, (size_t)cfg->chunk_size, (size_t)cfg->chunk_overlap,
                   &chunks, &nchunks) != 0) {
        code = RUN_FAIL_INTERNAL;
        snprintf(detail, sizeof(detail), "chunking failed");
        goto fail;
    }
    d_chunk = time_mono_ms() - t;
    log_stage(j, "chunk", NULL, d_chunk, (long)nchunks, NULL);

    /* Embed in batches, a heartbeat between them. */
    dim = embed_dim(env->embedder);
    t = time_mono_ms();
    if (nchunks) {
        size_t batch = cfg->embed_batch > 0 ? (size_t)cfg->embed_batch : 32;

        vectors = malloc(nchunks * (size_t)dim * sizeof(float));
        texts = malloc(nchunks * sizeof(*texts));
        lens = malloc(nchunks * sizeof(*lens));
        if (!vectors || !texts || !lens) {
            code = RUN_FAIL_INTERNAL;
            snprintf(detail, sizeof(detail), "out of memory for %zu embeddings", nchunks);
            goto fail;
        }
        for (size_t i = 0; i < nchunks; i++) {
            texts[i] = ex.text + chunks[i].start;
            lens[i] = chunks[i].end - chunks[i].start;
        }
        for (size_t i = 0; i < nchunks; i += batch) {
            size_t nb = nchunks - i < batch ? nchunks - i : batch;

            progress(j, "embed", (long)i, (long)nchunks);
            if (should_stop(j))
                goto lost;
            if (embed_texts(env->embedder, texts + i, lens + i, nb, vectors + i * (size_t)dim, detail,
                            sizeof(detail)) != 0) {
                code = RUN_FAIL_EMBED_FAILED;
                goto fail;
            }
        }
    }
    d_embed = time_mono_ms() - t;
    log_stage(j, "embed", NULL, d_embed, (long)nchunks, NULL);
    if (should_stop(j))
        goto lost;

    stats = json_pack("{s:i,s:I,s:I,s:s,s:i,s:i,s:s,s:I,s:{s:I,s:I,s:I},s:{s:s,s:I,s:I}}", "pages", ex.pages,
                      "chars", (json_int_t)ex.len, "chunks", (json_int_t)nchunks, "embedding_model",
                      embed_model(env->embedder), "embedding_dim", dim, "attempt", j->run.attempt, "mime", mime,
                      "byte_size", (json_int_t)size, "durations_ms", "extract", (json_int_t)d_extract, "chunk",
                      (json_int_t)d_chunk, "embed", (json_int_t)d_embed, "progress", "stage", "done", "done",
                      (json_int_t)nchunks, "total", (json_int_t)nchunks);
    if (!stats) {
        code = RUN_FAIL_INTERNAL;
        snprintf(detail, sizeof(detail), "out of memory");
        goto fail;
    }
    arena_json(j->a, stats);

    progress(j, "write", 0, (long)nchunks);
    memset(&in, 0, sizeof(in));
    in.run = &j->run;
    in.content_hash = hash;
    in.byte_size = size;
    in.mime = mime;
    in.pages = ex.pages;
    in.text = ex.text;
    in.chars = ex.len;
    in.chunks = chunks;
    in.nchunks = nchunks;
    in.vectors = vectors;
    in.dim = dim;
    in.model = embed_model(env->embedder);
    in.stats = stats;
    in.started_mono = j->t0;
    t = time_mono_ms();
    for (;;) {
        sr = store_write(*env->conn, &in, &activated, version_id);
        if (sr != STORE_DB)
            break;
        if (conn_broken(env)) {
            /* PostgreSQL went away at write/commit time: nothing is ACKed; wait and write again. */
            log_stage(j, "write", NULL, time_mono_ms() - t, (long)nchunks, "database unreachable");
            if (wait_db(env) == 0 && !should_stop(j))
                continue;
            out->action = PIPE_ACT_RELEASE;
            out->visibility_s = DB_ERROR_RELEASE_S;
            out->outcome = "db_error";
            goto out;
        }
        code = RUN_FAIL_STORE_FAILED;
        snprintf(detail, sizeof(detail), "content write failed (SQLSTATE %s)", db_last_sqlstate());
        goto fail;
    }
    if (sr == STORE_LOST) {
        log_stage(j, "write", NULL, time_mono_ms() - t, (long)nchunks, "run no longer owned; rolled back");
        after_lost(env, j, out);
        goto out;
    }
    log_stage(j, "write", "running->succeeded", time_mono_ms() - t, (long)nchunks, NULL);
    {
        json_t *f = json_pack("{s:s,s:s,s:s,s:b,s:I,s:I}", "run_id", j->run.run_id, "tenant_id", j->run.tenant_id,
                              "version_id", version_id, "activated", activated, "chunks", (json_int_t)nchunks,
                              "duration_ms", (json_int_t)(time_mono_ms() - j->t0));

        log_event(LOG_INFO, "job succeeded", f);
    }
    if (strcmp(cfg->upload_retention, "delete") == 0)
        remove_upload(path);
    out->action = PIPE_ACT_DELETE;
    out->outcome = "succeeded";
    goto out;

lost:
    log_stage(j, "stopped", NULL, time_mono_ms() - j->t0, -1, j->lost ? "run no longer owned" : "shutdown");
    if (j->lost) {
        after_lost(env, j, out);
    } else {
        /* Shutdown deadline: the consumer requeues the run and releases the message. */
        out->action = PIPE_ACT_RELEASE;
        out->visibility_s = 0;
        out->outcome = "shutdown";
    }
    goto out;
fail:
    finish_failure(j, code, detail, out);
out:
    extract_result_release(&ex);
    free(chunks);
    free(vectors);
    free(texts);
    free(lens);
}

static void set_run_id(struct pipeline_result *out, const char *id)
{
    snprintf(out->run_id, sizeof(out->run_id), "%s", id ? id : "");
}

void pipeline_process(const struct pipeline_env *env, struct arena *a, const char *body, size_t len,
                      int receive_count, struct pipeline_result *out)
{
    struct job_msg msg;
    struct job j;
    char err[256];
    int valid;
    enum run_claim cl;

    memset(out, 0, sizeof(*out));
    memset(&j, 0, sizeof(j));
    j.env = env;
    j.a = a;
    j.msg = &msg;
    j.receive_count = receive_count < 1 ? 1 : receive_count;
    j.t0 = time_mono_ms();

    valid = job_msg_parse(body, len, a, &msg, err, sizeof(err)) == 0;
    set_run_id(out, msg.run_id);
    if (!msg.run_id[0] || !msg.tenant_id[0]) {
        /* Nothing to fail: a message that can never succeed goes to the DLQ for a human. */
        log_event(LOG_WARN, "invalid message", json_pack("{s:s}", "error", err));
        out->action = PIPE_ACT_DLQ;
        out->outcome = "invalid";
        return;
    }
    if (db_ensure(env->conn, env->cfg->database_url, DB_ROLE_WORKER) < 0) {
        out->action = PIPE_ACT_RELEASE;
        out->visibility_s = DB_ERROR_RELEASE_S;
        out->outcome = "db_error";
        return;
    }
    cl = run_claim(*env->conn, msg.run_id, msg.tenant_id, env->cfg->takeover_after_ms, &j.run);
    switch (cl) {
    case RUN_CLAIM_TERMINAL:
        out->action = PIPE_ACT_DELETE;
        out->outcome = "already_terminal";
        return;
    case RUN_CLAIM_BUSY: {
        /* Someone else works on it: come back when its heartbeat could be stale. */
        long long s = env->cfg->takeover_after_ms / 1000 + 1;

        out->action = PIPE_ACT_RELEASE;
        out->visibility_s = (int)(s > 43200 ? 43200 : s);
        out->outcome = "busy";
        return;
    }
    case RUN_CLAIM_MISSING:
        log_event(LOG_WARN, "message names no run of that tenant",
                  json_pack("{s:s,s:s}", "run_id", msg.run_id, "tenant_id", msg.tenant_id));
        out->action = PIPE_ACT_DLQ;
        out->outcome = "missing";
        return;
    case RUN_CLAIM_DB_ERROR:
        out->action = PIPE_ACT_RELEASE;
        out->visibility_s = DB_ERROR_RELEASE_S;
        out->outcome = "db_error";
        return;
    case RUN_CLAIMED:
        break;
    }
    if (!valid) {
        finish_failure(&j, RUN_FAIL_INVALID_MESSAGE, err, out);
        return;
    }
    if (strcmp(msg.doc_id, j.run.doc_id) != 0) {
        finish_failure(&j, RUN_FAIL_INVALID_MESSAGE, "doc_id does not match the run", out);
        return;
    }
    run_job(&j, out);
}
