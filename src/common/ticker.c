/*
 * ticker.c - the periodic background thread of ticker.h.
 */
#include "common/ticker.h"

#include <errno.h>
#include <time.h>

/* Wait up to ms on t's condition; 1 if asked to stop. */
static int ticker_wait(struct ticker *t, int64_t ms)
{
    struct timespec at;
    int stop;

    clock_gettime(CLOCK_MONOTONIC, &at);
    at.tv_sec += ms / 1000;
    at.tv_nsec += (ms % 1000) * 1000000;
    if (at.tv_nsec >= 1000000000) {
        at.tv_sec++;
        at.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&t->mu);
    while (!t->stop && pthread_cond_timedwait(&t->cv, &t->mu, &at) != ETIMEDOUT)
        ;
    stop = t->stop;
    pthread_mutex_unlock(&t->mu);
    return stop;
}

static void *ticker_main(void *arg)
{
    struct ticker *t = arg;

    while (!ticker_wait(t, t->tick(t->arg)))
        ;
    if (t->done)
        t->done(t->arg);
    return NULL;
}

int ticker_start(struct ticker *t, int64_t (*tick)(void *arg), void (*done)(void *arg), void *arg)
{
    pthread_condattr_t ca;

    if (t->started)
        return 0;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    t->tick = tick;
    t->done = done;
    t->arg = arg;
    t->stop = 0;
    if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
        pthread_cond_destroy(&t->cv);
        return -1;
    }
    t->started = 1;
    return 0;
}

void ticker_stop(struct ticker *t)
{
    if (!t->started)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cv);
    t->started = 0;
}
