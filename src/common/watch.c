/*
 * watch.c - keyed waiters (watch.h): buckets of intrusive lists, one mutex
 * and one CLOCK_MONOTONIC condition variable per bucket.
 */
#include "common/watch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WATCH_BUCKETS 64

struct watch_bucket {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct watch_waiter *head;
    size_t count;
};

struct watch {
    struct watch_bucket b[WATCH_BUCKETS];
    int closed;          /* read and written under b[0].mu */
};

struct watch *watch_new(void)
{
    struct watch *reg = calloc(1, sizeof(*reg));
    pthread_condattr_t ca;

    if (!reg)
        return NULL;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    for (int i = 0; i < WATCH_BUCKETS; i++) {
        pthread_mutex_init(&reg->b[i].mu, NULL);
        pthread_cond_init(&reg->b[i].cv, &ca);
    }
    pthread_condattr_destroy(&ca);
    return reg;
}

void watch_free(struct watch **w)
{
    if (!w || !*w)
        return;
    for (int i = 0; i < WATCH_BUCKETS; i++) {
        pthread_mutex_destroy(&(*w)->b[i].mu);
        pthread_cond_destroy(&(*w)->b[i].cv);
    }
    free(*w);
    *w = NULL;
}

static unsigned bucket_of(const char *key)
{
    uint32_t h = 2166136261u;

    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h % WATCH_BUCKETS;
}

static int is_closed(struct watch *reg)
{
    int c;

    pthread_mutex_lock(&reg->b[0].mu);
    c = reg->closed;
    pthread_mutex_unlock(&reg->b[0].mu);
    return c;
}

void watch_add(struct watch *reg, struct watch_waiter *w, const char *key)
{
    struct watch_bucket *b;

    snprintf(w->key, sizeof(w->key), "%s", key);
    w->bucket = bucket_of(w->key);
    w->fired = 0;
    b = &reg->b[w->bucket];
    pthread_mutex_lock(&b->mu);
    w->next = b->head;
    b->head = w;
    b->count++;
    pthread_mutex_unlock(&b->mu);
    /* After the insert: a watch_close() either fires this waiter or is seen here. */
    if (is_closed(reg)) {
        pthread_mutex_lock(&b->mu);
        w->fired = 1;
        pthread_mutex_unlock(&b->mu);
    }
}

/* CLOCK_MONOTONIC timespec of a time_mono_ms()-style deadline. */
static struct timespec mono_ts(int64_t ms)
{
    struct timespec t;

    t.tv_sec = (time_t)(ms / 1000);
    t.tv_nsec = (long)(ms % 1000) * 1000000L;
    return t;
}

int watch_wait(struct watch *reg, struct watch_waiter *w, int64_t deadline_ms)
{
    struct watch_bucket *b = &reg->b[w->bucket];
    struct timespec until = mono_ts(deadline_ms);
    int rc = 0, fired;

    pthread_mutex_lock(&b->mu);
    while (!w->fired && rc == 0)
        rc = pthread_cond_timedwait(&b->cv, &b->mu, &until);
    fired = w->fired;
    pthread_mutex_unlock(&b->mu);
    return fired;
}

void watch_rearm(struct watch *reg, struct watch_waiter *w)
{
    struct watch_bucket *b = &reg->b[w->bucket];

    pthread_mutex_lock(&b->mu);
    w->fired = 0;
    pthread_mutex_unlock(&b->mu);
    /* As in watch_add: a close either comes after (and fires w) or is seen here. */
    if (is_closed(reg)) {
        pthread_mutex_lock(&b->mu);
        w->fired = 1;
        pthread_mutex_unlock(&b->mu);
    }
}

void watch_remove(struct watch *reg, struct watch_waiter *w)
{
    struct watch_bucket *b = &reg->b[w->bucket];

    pthread_mutex_lock(&b->mu);
    for (struct watch_waiter **p = &b->head; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            b->count--;
            break;
        }
    }
    pthread_mutex_unlock(&b->mu);
}

/* Fire the waiters of bucket i whose key is key (NULL: all of them). */
static void fire_bucket(struct watch *reg, unsigned i, const char *key)
{
    struct watch_bucket *b = &reg->b[i];
    int any = 0;

    pthread_mutex_lock(&b->mu);
    for (struct watch_waiter *w = b->head; w; w = w->next) {
        if (!key || strcmp(w->key, key) == 0) {
            w->fired = 1;
            any = 1;
        }
    }
    if (any)
        pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

void watch_fire(struct watch *reg, const char *key)
{
    char k[WATCH_KEY_MAX];

    if (!reg || !key)
        return;
    snprintf(k, sizeof(k), "%s", key);
    fire_bucket(reg, bucket_of(k), k);
}

void watch_fire_all(struct watch *reg)
{
    if (!reg)
        return;
    for (unsigned i = 0; i < WATCH_BUCKETS; i++)
        fire_bucket(reg, i, NULL);
}

void watch_close(struct watch *reg)
{
    if (!reg)
        return;
    pthread_mutex_lock(&reg->b[0].mu);
    reg->closed = 1;
    pthread_mutex_unlock(&reg->b[0].mu);
    watch_fire_all(reg);
}

size_t watch_count(struct watch *reg)
{
    size_t n = 0;

    if (!reg)
        return 0;
    for (int i = 0; i < WATCH_BUCKETS; i++) {
        pthread_mutex_lock(&reg->b[i].mu);
        n += reg->b[i].count;
        pthread_mutex_unlock(&reg->b[i].mu);
    }
    return n;
}
