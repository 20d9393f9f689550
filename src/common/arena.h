/*
 * arena.h - lifetime-scoped memory: one arena per HTTP request in core-api and
 * per job in ingest-worker (after h2o's request pools and postgres' memory
 * contexts). Allocations and registered cleanups (PGresult, json_t, files) are
 * all released by one arena_release(); nothing allocated from it is freed alone.
 */
#ifndef COMMON_ARENA_H
#define COMMON_ARENA_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

struct arena_block;
struct arena_cleanup;

struct arena {
    struct arena_block *blocks;
    struct arena_cleanup *cleanups;
};

void arena_init(struct arena *a);
/* Run cleanups (newest first) and free every block; the arena is reusable. */
void arena_release(struct arena *a);

/* Zeroed memory that lives until arena_release; NULL only when memory is out. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Call fn(p) at release. Returns p (so calls can be nested), NULL if p is NULL. */
void *arena_defer(struct arena *a, void (*fn)(void *), void *p);
/* Shorthands that hand a PGresult or a json_t reference to the arena. */
PGresult *arena_pg(struct arena *a, PGresult *res);
json_t *arena_json(struct arena *a, json_t *j);

#endif
