/*
 * pipeline.h - what happens to one received message: parse it, then run the
 * job's stages; or fail / requeue the run. The result says what the consumer
 * must do with the message (ACK rule: PIPE_ACT_DELETE only once the run's
 * terminal status is committed).
 *
 * The stages are one table in pipeline.c, run in order by one loop:
 *
 *   stage     progress  log line   does
 *   claim     -         claimed    db_ensure, the atomic claim (run_claim), message checks
 *   locate    read      -          upload_uri -> path, sha256, size, type sniffing
 *   extract   extract   extract    extract_file() in the sandbox (also logged when it fails)
 *   chunk     chunk     chunk      the no-text check, chunk_text()
 *   embed     embed     embed      embed_texts() in EMBED_BATCH batches
 *   store     write     write      stats, store_write() (retried over outages and deadlocks)
 *
 * Before every stage but the claim the loop writes its milestone heartbeat
 * ("progress": the hook and stats.progress) and then checks cancellation
 * (should_stop, or a heartbeat that matched no row): a stopped job writes
 * nothing more. After a stage it logs the stage's "job stage" line (run_id,
 * tenant_id, stage, status_transition, duration_ms, chunks). A stage ends in
 * one of: next; failed (run_fail code + detail: requeue, fail the run, or
 * DLQ, by run_fail_transient() and the receive count); stopped (ownership
 * lost or shutdown, also seen between embedding batches); or settled (the
 * claim refused, the run lost at write time, the database gone for good:
 * the stage has filled the result). All stages done: the run succeeded.
 */
#ifndef WORKER_PIPELINE_H
#define WORKER_PIPELINE_H

#include "common/arena.h"
#include "common/config.h"
#include "common/embed.h"

#include <libpq-fe.h>

struct sqs_client;

enum pipeline_action {
    PIPE_ACT_DELETE,     /* terminal status committed (or the run was already terminal): ACK */
    PIPE_ACT_DLQ,        /* permanent failure committed, or a message that can never succeed:
                            copy it to the DLQ, then ACK */
    PIPE_ACT_RELEASE,    /* not ACKed: visible again after visibility_s (0: at once) */
    PIPE_ACT_DROP,       /* the run is not ours any more: forget the message, no call */
};

struct pipeline_hooks {
    /* Called at each milestone; the consumer's keeper repeats it as the heartbeat. */
    void (*progress)(void *hook, const char *run_id, const char *tenant_id, int attempt,
                     const char *stage, long done, long total);
    /* 1 when the job must stop: ownership lost (keeper saw 0 rows) or shutdown deadline. */
    int (*should_stop)(void *hook);
    void *hook;
};

struct pipeline_env {
    const struct config *cfg;
    PGconn **conn;                 /* the job thread's connection (re-made by db_ensure) */
    struct embedder *embedder;     /* the job thread's */
    struct sqs_client *sqs;        /* the job thread's (a source sync publishes ingest jobs) */
    int max_receive_count;
    struct pipeline_hooks hooks;
};

struct pipeline_result {
    enum pipeline_action action;
    int visibility_s;              /* PIPE_ACT_RELEASE */
    char run_id[40];               /* for the log, "" if unknown */
    const char *outcome;           /* short word for the log: succeeded, failed, requeued, ... */
};

/* Process one message body (receive_count: ApproximateReceiveCount, >= 1). */
void pipeline_process(const struct pipeline_env *env, struct arena *a, const char *body, size_t len,
                      int receive_count, struct pipeline_result *out);

/* Backoff before the n-th redelivery of a requeued job (seconds, capped by the visibility timeout). */
int pipeline_backoff_s(int receive_count, long long visibility_timeout_ms);

#endif
