/*
 * pipeline.h - what happens to one received message: parse, claim the run,
 * read the upload, extract, chunk, embed, store; or fail / requeue the run.
 * The result says what the consumer must do with the message (ACK rule:
 * PIPE_ACT_DELETE only once the run's terminal status is committed).
 */
#ifndef WORKER_PIPELINE_H
#define WORKER_PIPELINE_H

#include "common/arena.h"
#include "common/config.h"
#include "common/embed.h"

#include <libpq-fe.h>

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
