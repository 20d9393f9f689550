/*
 * memo.c - the invalidated cache (memo.h): a direct-mapped table of slots
 * under one read-write lock (gets read, everything else writes), values
 * copied in and out.
 */
#include "common/memo.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct memo_slot {
    char key[MEMO_KEY_MAX];       /* "" : free */
    char tag[MEMO_TAG_MAX];
    char *value;
    size_t len;
    int aux;
    int64_t until_ms;
    uint32_t gen;                 /* forgets of this slot */
};

struct memo {
    pthread_rwlock_t mu;          /* gets share it: a reader descheduled inside blocks no other reader */
    struct memo_slot *slots;
    size_t nslots;                /* a power of two */
    size_t value_max;
    int64_t ttl_ms;
    uint64_t gen;
    int live;
};

struct memo *memo_new(size_t entries, size_t value_max, int64_t ttl_ms)
{
    struct memo *m;
    size_t n = 1;

    if (entries == 0 || ttl_ms <= 0)
        return NULL;
    /* Twice the entries, rounded up to a power of two: few collisions. */
    while (n < entries * 2)
        n <<= 1;
    m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->slots = calloc(n, sizeof(*m->slots));
    if (!m->slots) {
        free(m);
        return NULL;
    }
    pthread_rwlock_init(&m->mu, NULL);
    m->nslots = n;
    m->value_max = value_max;
    m->ttl_ms = ttl_ms;
    return m;
}

/* Empty s; its generation goes on (a put read before this must not land). */
static void slot_clear(struct memo_slot *s)
{
    uint32_t gen = s->gen + 1;

    free(s->value);
    memset(s, 0, sizeof(*s));
    s->gen = gen;
}

void memo_free(struct memo **mp)
{
    struct memo *m;

    if (!mp || !*mp)
        return;
    m = *mp;
    for (size_t i = 0; i < m->nslots; i++)
        slot_clear(&m->slots[i]);
    pthread_rwlock_destroy(&m->mu);
    free(m->slots);
    free(m);
    *mp = NULL;
}

/* FNV-1a of the case-folded key (UUIDs compare in any case): its slot. */
static struct memo_slot *slot_of(struct memo *m, const char *key)
{
    uint64_t h = 1469598103934665603ull;

    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= (uint64_t)(*p | 0x20);
        h *= 1099511628211ull;
    }
    return &m->slots[h & (m->nslots - 1)];
}

int memo_get(struct memo *m, const char *key, int64_t now_ms, char *out, size_t outlen, size_t *len, int *aux)
{
    struct memo_slot *s;
    int hit;

    if (!m || !key || !*key)
        return 0;
    pthread_rwlock_rdlock(&m->mu);
    s = slot_of(m, key);
    hit = m->live && strcasecmp(s->key, key) == 0 && now_ms < s->until_ms;
    if (hit && s->len > outlen && len)
        *len = s->len;   /* the room it would need */
    hit = hit && s->len <= outlen;
    if (hit) {
        if (s->len)
            memcpy(out, s->value, s->len);
        if (s->len < outlen)
            out[s->len] = '\0';
        if (len)
            *len = s->len;
        if (aux)
            *aux = s->aux;
    }
    pthread_rwlock_unlock(&m->mu);
    return hit;
}

/* Under m->mu: the generation a put of key must still find (whole-cache count, slot count). */
static uint64_t gen_of(struct memo *m, const char *key)
{
    return (m->gen << 32) ^ slot_of(m, key)->gen;
}

uint64_t memo_gen(struct memo *m, const char *key)
{
    uint64_t g;

    if (!m || !key)
        return 0;
    pthread_rwlock_rdlock(&m->mu);
    g = gen_of(m, key);
    pthread_rwlock_unlock(&m->mu);
    return g;
}

void memo_put(struct memo *m, uint64_t gen, const char *key, const char *tag, const void *value, size_t n, int aux,
              int64_t now_ms, int64_t until_ms)
{
    struct memo_slot *s;
    char *copy;

    if (!m || !key || !*key || strlen(key) >= MEMO_KEY_MAX || (tag && strlen(tag) >= MEMO_TAG_MAX) || n > m->value_max)
        return;
    /* Copied outside the lock; dropped below if the put does not count. */
    copy = malloc(n ? n : 1);
    if (!copy)
        return;
    if (n)
        memcpy(copy, value, n);
    if (until_ms > now_ms + m->ttl_ms)
        until_ms = now_ms + m->ttl_ms;
    pthread_rwlock_wrlock(&m->mu);
    if (m->live && gen_of(m, key) == gen) {
        s = slot_of(m, key);
        slot_clear(s);
        snprintf(s->key, sizeof(s->key), "%s", key);
        snprintf(s->tag, sizeof(s->tag), "%s", tag ? tag : "");
        s->value = copy;
        s->len = n;
        s->aux = aux;
        s->until_ms = until_ms;
        copy = NULL;
    }
    pthread_rwlock_unlock(&m->mu);
    free(copy);
}

void memo_forget_key(struct memo *m, const char *key)
{
    struct memo_slot *s;

    if (!m || !key)
        return;
    pthread_rwlock_wrlock(&m->mu);
    /* The slot's generation moves even when it holds another key: a put of key read before may not land. */
    s = slot_of(m, key);
    if (strcasecmp(s->key, key) == 0)
        slot_clear(s);
    else
        s->gen++;
    pthread_rwlock_unlock(&m->mu);
}

void memo_forget_tag(struct memo *m, const char *tag)
{
    if (!m || !tag || !*tag)
        return;
    pthread_rwlock_wrlock(&m->mu);
    m->gen++;
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].key[0] && strcasecmp(m->slots[i].tag, tag) == 0)
            slot_clear(&m->slots[i]);
    pthread_rwlock_unlock(&m->mu);
}

/* Under m->mu: forget everything. */
static void clear_locked(struct memo *m)
{
    m->gen++;
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].key[0])
            slot_clear(&m->slots[i]);
}

void memo_clear(struct memo *m)
{
    if (!m)
        return;
    pthread_rwlock_wrlock(&m->mu);
    clear_locked(m);
    pthread_rwlock_unlock(&m->mu);
}

void memo_set_live(struct memo *m, int live)
{
    if (!m)
        return;
    pthread_rwlock_wrlock(&m->mu);
    clear_locked(m);
    m->live = live;
    pthread_rwlock_unlock(&m->mu);
}

size_t memo_count(struct memo *m)
{
    size_t n = 0;

    if (!m)
        return 0;
    pthread_rwlock_rdlock(&m->mu);
    for (size_t i = 0; i < m->nslots; i++)
        n += m->slots[i].key[0] != '\0';
    pthread_rwlock_unlock(&m->mu);
    return n;
}
