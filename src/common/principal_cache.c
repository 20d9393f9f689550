/*
 * principal_cache.c - the session check cache (principal_cache.h): a fixed
 * direct-mapped table under one mutex.
 */
#include "common/principal_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PC_ID_LEN 40   /* a UUID's text and its NUL, with room to spare */

struct pc_entry {
    char jti[PC_ID_LEN];          /* "" : free slot */
    char user_id[PC_ID_LEN];
    char tenant_id[PC_ID_LEN];
    int role;
    int64_t until_ms;
};

struct principal_cache {
    pthread_mutex_t mu;
    struct pc_entry *slots;
    size_t nslots;                /* a power of two */
    int64_t ttl_ms;
    uint64_t gen;
    int live;
};

struct principal_cache *principal_cache_new(size_t entries, int64_t ttl_ms)
{
    struct principal_cache *pc;
    size_t n = 1;

    if (entries == 0 || ttl_ms <= 0)
        return NULL;
    /* Twice the entries, rounded up to a power of two: few collisions. */
    while (n < entries * 2)
        n <<= 1;
    pc = calloc(1, sizeof(*pc));
    if (!pc)
        return NULL;
    pc->slots = calloc(n, sizeof(*pc->slots));
    if (!pc->slots) {
        free(pc);
        return NULL;
    }
    pthread_mutex_init(&pc->mu, NULL);
    pc->nslots = n;
    pc->ttl_ms = ttl_ms;
    return pc;
}

void principal_cache_free(struct principal_cache **pc)
{
    if (!pc || !*pc)
        return;
    pthread_mutex_destroy(&(*pc)->mu);
    free((*pc)->slots);
    free(*pc);
    *pc = NULL;
}

/* FNV-1a of a case-folded id: its slot. */
static struct pc_entry *slot_of(struct principal_cache *pc, const char *jti)
{
    uint64_t h = 1469598103934665603ull;

    for (const unsigned char *p = (const unsigned char *)jti; *p; p++) {
        h ^= (uint64_t)(*p | 0x20);
        h *= 1099511628211ull;
    }
    return &pc->slots[h & (pc->nslots - 1)];
}

int principal_cache_get(struct principal_cache *pc, const char *jti, const char *user_id, const char *tenant_id,
                        int64_t now_ms, int *role)
{
    struct pc_entry *e;
    int hit;

    if (!pc || !jti || !*jti)
        return 0;
    pthread_mutex_lock(&pc->mu);
    e = slot_of(pc, jti);
    hit = pc->live && strcasecmp(e->jti, jti) == 0 && strcasecmp(e->user_id, user_id) == 0 &&
          strcasecmp(e->tenant_id, tenant_id) == 0 && now_ms < e->until_ms;
    if (hit)
        *role = e->role;
    pthread_mutex_unlock(&pc->mu);
    return hit;
}

uint64_t principal_cache_gen(struct principal_cache *pc)
{
    uint64_t g;

    if (!pc)
        return 0;
    pthread_mutex_lock(&pc->mu);
    g = pc->gen;
    pthread_mutex_unlock(&pc->mu);
    return g;
}

void principal_cache_put(struct principal_cache *pc, uint64_t gen, const char *jti, const char *user_id,
                         const char *tenant_id, int role, int64_t now_ms, int64_t exp_ms)
{
    struct pc_entry *e;
    int64_t until;

    if (!pc || !jti || strlen(jti) >= PC_ID_LEN || strlen(user_id) >= PC_ID_LEN || strlen(tenant_id) >= PC_ID_LEN)
        return;
    until = now_ms + pc->ttl_ms;
    if (exp_ms < until)
        until = exp_ms;
    pthread_mutex_lock(&pc->mu);
    if (pc->live && pc->gen == gen) {
        e = slot_of(pc, jti);
        snprintf(e->jti, sizeof(e->jti), "%s", jti);
        snprintf(e->user_id, sizeof(e->user_id), "%s", user_id);
        snprintf(e->tenant_id, sizeof(e->tenant_id), "%s", tenant_id);
        e->role = role;
        e->until_ms = until;
    }
    pthread_mutex_unlock(&pc->mu);
}

void principal_cache_forget_session(struct principal_cache *pc, const char *jti)
{
    struct pc_entry *e;

    if (!pc || !jti)
        return;
    pthread_mutex_lock(&pc->mu);
    pc->gen++;
    e = slot_of(pc, jti);
    if (strcasecmp(e->jti, jti) == 0)
        memset(e, 0, sizeof(*e));
    pthread_mutex_unlock(&pc->mu);
}

void principal_cache_forget_user(struct principal_cache *pc, const char *user_id)
{
    if (!pc || !user_id)
        return;
    pthread_mutex_lock(&pc->mu);
    pc->gen++;
    /* Rare (an admin action, a password change): a scan of the table is fine. */
    for (size_t i = 0; i < pc->nslots; i++)
        if (pc->slots[i].jti[0] && strcasecmp(pc->slots[i].user_id, user_id) == 0)
            memset(&pc->slots[i], 0, sizeof(pc->slots[i]));
    pthread_mutex_unlock(&pc->mu);
}

/* Under pc->mu: forget everything. */
static void clear_locked(struct principal_cache *pc)
{
    pc->gen++;
    memset(pc->slots, 0, pc->nslots * sizeof(*pc->slots));
}

void principal_cache_clear(struct principal_cache *pc)
{
    if (!pc)
        return;
    pthread_mutex_lock(&pc->mu);
    clear_locked(pc);
    pthread_mutex_unlock(&pc->mu);
}

void principal_cache_notify(struct principal_cache *pc, const char *payload)
{
    if (!pc)
        return;
    if (payload && strncmp(payload, "s:", 2) == 0 && payload[2])
        principal_cache_forget_session(pc, payload + 2);
    else if (payload && strncmp(payload, "u:", 2) == 0 && payload[2])
        principal_cache_forget_user(pc, payload + 2);
    else
        principal_cache_clear(pc);
}

void principal_cache_set_live(struct principal_cache *pc, int live)
{
    if (!pc)
        return;
    pthread_mutex_lock(&pc->mu);
    clear_locked(pc);
    pc->live = live;
    pthread_mutex_unlock(&pc->mu);
}

size_t principal_cache_count(struct principal_cache *pc)
{
    size_t n = 0;

    if (!pc)
        return 0;
    pthread_mutex_lock(&pc->mu);
    for (size_t i = 0; i < pc->nslots; i++)
        n += pc->slots[i].jti[0] != '\0';
    pthread_mutex_unlock(&pc->mu);
    return n;
}
