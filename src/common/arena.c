/*
 * arena.c - lifetime-scoped memory (arena.h): 8 KiB blocks (a larger request
 * gets a block of its own), and a list of cleanups (PGresult, json_t, files)
 * that arena_release() runs before it frees the blocks.
 */
#include "common/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 8192

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

struct arena_cleanup {
    struct arena_cleanup *next;
    void (*fn)(void *);
    void *p;
};

void arena_init(struct arena *a)
{
    a->blocks = NULL;
    a->cleanups = NULL;
}

void arena_release(struct arena *a)
{
    /* Cleanups first: they may point into blocks. */
    while (a->cleanups) {
        struct arena_cleanup *c = a->cleanups;

        a->cleanups = c->next;
        c->fn(c->p);
        free(c);
    }
    while (a->blocks) {
        struct arena_block *b = a->blocks;

        a->blocks = b->next;
        free(b);
    }
}

void *arena_alloc(struct arena *a, size_t n)
{
    struct arena_block *b = a->blocks;
    size_t align = sizeof(max_align_t);
    size_t need = (n + align - 1) / align * align;
    void *p;

    if (need < n)
        return NULL;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > ARENA_BLOCK ? need : ARENA_BLOCK;

        b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        /* A big one-off block goes behind the current one so its room stays usable. */
        if (a->blocks && need > ARENA_BLOCK) {
            b->next = a->blocks->next;
            a->blocks->next = b;
        } else {
            b->next = a->blocks;
            a->blocks = b;
        }
    }
    p = (char *)b->data + b->used;
    b->used += need;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);

    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    p = arena_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void *arena_defer(struct arena *a, void (*fn)(void *), void *p)
{
    struct arena_cleanup *c;

    if (!p)
        return NULL;
    c = malloc(sizeof(*c));
    if (!c) {
        /* Out of memory: clean up now rather than leak; the caller sees NULL. */
        fn(p);
        return NULL;
    }
    c->fn = fn;
    c->p = p;
    c->next = a->cleanups;
    a->cleanups = c;
    return p;
}

static void pg_clear(void *p)
{
    PQclear(p);
}

static void json_release(void *p)
{
    json_decref(p);
}

PGresult *arena_pg(struct arena *a, PGresult *res)
{
    return arena_defer(a, pg_clear, res);
}

json_t *arena_json(struct arena *a, json_t *j)
{
    return arena_defer(a, json_release, j);
}
