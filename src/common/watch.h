/*
 * watch.h - threads waiting for a keyed event (core-api's long polls): a
 * waiter registers under a key ("<tenant_id>/<run_id>"), then sleeps until
 * watch_fire() names that key, watch_fire_all() or watch_close() runs, or
 * its deadline passes. No database work: the events come from core-api's
 * LISTEN connection (src/api/listener.c).
 *
 * A waiter registers BEFORE it reads the state it waits on, so an event
 * between the read and the sleep is not lost (it finds fired set).
 *
 * Bounded: keys are at most WATCH_KEY_MAX bytes; waiters live on the
 * caller's stack (struct watch_waiter), the registry allocates nothing per
 * waiter. Thread-safe; buckets by key hash, so an event wakes only the
 * threads of its bucket.
 */
#ifndef COMMON_WATCH_H
#define COMMON_WATCH_H

#include <stddef.h>
#include <stdint.h>

#define WATCH_KEY_MAX 80

struct watch;

/* One waiting thread; fill nothing, watch_add() sets it up. */
struct watch_waiter {
    struct watch_waiter *next;
    char key[WATCH_KEY_MAX];
    unsigned bucket;
    int fired;
};

/* A registry; NULL if memory is out. */
struct watch *watch_new(void);
/* Free (no waiter may remain); accepts NULL and sets *w to NULL. */
void watch_free(struct watch **w);
/* Register w under key (cut at WATCH_KEY_MAX - 1 bytes). A closed registry fires it at once. */
void watch_add(struct watch *reg, struct watch_waiter *w, const char *key);
/*
 * Sleep until w fired or deadline_ms (CLOCK_MONOTONIC milliseconds,
 * time_mono_ms()) passed. 1 fired, 0 timed out.
 */
int watch_wait(struct watch *reg, struct watch_waiter *w, int64_t deadline_ms);
/*
 * Clear w's fired flag before reading the state again (unless the registry is
 * closed): an event after this call fires it anew.
 */
void watch_rearm(struct watch *reg, struct watch_waiter *w);
/* Unregister w (always, before w goes out of scope). */
void watch_remove(struct watch *reg, struct watch_waiter *w);
/* Fire every waiter registered under key. */
void watch_fire(struct watch *reg, const char *key);
/* Fire every waiter (the event source restarted: anything may have changed). */
void watch_fire_all(struct watch *reg);
/* Fire every waiter and every later one at once (shutting down). */
void watch_close(struct watch *reg);
/* Waiters registered now. */
size_t watch_count(struct watch *reg);

#endif
