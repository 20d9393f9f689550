/*
 * consumer.h - the queue consumer of ingest-worker (design: README.md).
 *
 * One receiver thread long-polls SQS while fewer than MAX_INFLIGHT messages
 * are held; WORKER_CONCURRENCY job threads (each with its own PGconn, SQS
 * client and embedder) run pipeline_process() on them; one keeper thread
 * extends held messages' visibility at half the timeout and writes the
 * running jobs' heartbeats at least every HEARTBEAT_INTERVAL.
 */
#ifndef WORKER_CONSUMER_H
#define WORKER_CONSUMER_H

#include "common/config.h"

#include <signal.h>

struct consumer_stats {
    long long received, succeeded, failed, requeued, released, dlq, held, running;
    int db_ok;
};

/*
 * Run until *stop becomes non-zero, then drain: stop receiving, release the
 * messages not started (visibility 0), let running jobs finish within
 * SHUTDOWN_GRACE, then requeue the runs still going and release their
 * messages. Returns 0 after a clean drain, 1 when start-up failed.
 * *threads_left is set when job threads were still busy at exit (the caller
 * should then _exit rather than run atexit handlers under them).
 */
int consumer_run(const struct config *cfg, volatile sig_atomic_t *stop, int *threads_left);

/* A snapshot of the counters (for /metrics); zeros before consumer_run starts. */
void consumer_stats_get(struct consumer_stats *out);

#endif
