/*
 * principal_cache.c - the session check cache (principal_cache.h) on a memo
 * (memo.h): key the session's jti, tag its user, value "<user_id>/<tenant_id>"
 * (checked against the token's), int the role.
 */
#include "common/principal_cache.h"

#include "common/memo.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PC_OWNER_MAX 80   /* "<uuid>/<uuid>" and its NUL */

/* The cache is a memo under another name: the casts below are the whole binding. */
static struct memo *M(struct principal_cache *pc)
{
    return (struct memo *)pc;
}

struct principal_cache *principal_cache_new(size_t entries, int64_t ttl_ms)
{
    return (struct principal_cache *)memo_new(entries, PC_OWNER_MAX, ttl_ms);
}

void principal_cache_free(struct principal_cache **pc)
{
    memo_free((struct memo **)pc);
}

int principal_cache_get(struct principal_cache *pc, const char *jti, const char *user_id, const char *tenant_id,
                        int64_t now_ms, int *role)
{
    char owner[PC_OWNER_MAX], want[PC_OWNER_MAX];
    int aux;

    if (!memo_get(M(pc), jti, now_ms, owner, sizeof(owner), NULL, &aux))
        return 0;
    snprintf(want, sizeof(want), "%s/%s", user_id, tenant_id);
    if (strcasecmp(owner, want) != 0)
        return 0;
    *role = aux;
    return 1;
}

uint64_t principal_cache_gen(struct principal_cache *pc, const char *jti)
{
    return memo_gen(M(pc), jti);
}

void principal_cache_put(struct principal_cache *pc, uint64_t gen, const char *jti, const char *user_id,
                         const char *tenant_id, int role, int64_t now_ms, int64_t exp_ms)
{
    char owner[PC_OWNER_MAX];
    int n = snprintf(owner, sizeof(owner), "%s/%s", user_id, tenant_id);

    if (n < 0 || (size_t)n >= sizeof(owner))
        return;
    memo_put(M(pc), gen, jti, user_id, owner, (size_t)n + 1, role, now_ms, exp_ms);
}

void principal_cache_forget_session(struct principal_cache *pc, const char *jti)
{
    memo_forget_key(M(pc), jti);
}

void principal_cache_forget_user(struct principal_cache *pc, const char *user_id)
{
    memo_forget_tag(M(pc), user_id);
}

void principal_cache_clear(struct principal_cache *pc)
{
    memo_clear(M(pc));
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
    memo_set_live(M(pc), live);
}

size_t principal_cache_count(struct principal_cache *pc)
{
    return memo_count(M(pc));
}
