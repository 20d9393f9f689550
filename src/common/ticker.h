/*
 * ticker.h - a background thread that does one piece of periodic work
 * (core-api's crash guard scan, its outbox publisher) until asked to stop.
 *
 * The thread calls tick(arg) at once, then again after the number of
 * milliseconds tick returned (0: at once), waiting on a condition variable
 * (CLOCK_MONOTONIC) so ticker_stop() wakes it and waits for it at any time
 * but in the middle of a tick. done(arg), if given, runs in the thread as it
 * ends, to release what the ticks kept (connections, clients).
 *
 *     static struct ticker t = TICKER_INIT;
 *     ticker_start(&t, my_tick, my_done, &state);
 *     ...
 *     ticker_stop(&t);
 */
#ifndef COMMON_TICKER_H
#define COMMON_TICKER_H

#include <pthread.h>
#include <stdint.h>

struct ticker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int started;
    int stop;
    int64_t (*tick)(void *arg);
    void (*done)(void *arg);
    void *arg;
};

#define TICKER_INIT {.mu = PTHREAD_MUTEX_INITIALIZER}

/* Start t's thread (a no-op if started). 0, or -1 if the thread could not be created. */
int ticker_start(struct ticker *t, int64_t (*tick)(void *arg), void (*done)(void *arg), void *arg);
/* Wake the thread, wait for it to end (after its tick in progress, if any). A no-op if not started. */
void ticker_stop(struct ticker *t);

#endif
