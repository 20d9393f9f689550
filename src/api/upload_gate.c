/*
 * upload_gate.c - the instance's count of uploads in progress and the
 * per-tenant token buckets (upload_gate.h), under one mutex. A bucket that
 * has refilled completely is forgotten, so the list holds only the tenants
 * that uploaded within the last minute or so.
 */
#include "api/upload_gate.h"

#include "common/ids.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bucket {
    struct bucket *next;
    double tokens;
    int64_t at_ms;     /* when tokens was last brought up to date */
    char tenant_id[ID_UUID_LEN + 1];
};

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t in_progress;
static struct bucket *buckets;

/* tokens of b brought up to now_ms (capped at a minute's worth). Under gate_mu. */
static double refill(const struct bucket *b, int64_t rate_per_min, int64_t now_ms)
{
    double t = b->tokens + (double)(now_ms - b->at_ms) * (double)rate_per_min / 60000.0;

    return t > (double)rate_per_min ? (double)rate_per_min : t;
}

/* The bucket of tenant_id (made full if new); full buckets of others are dropped. NULL if out of memory. */
static struct bucket *bucket_of(const char *tenant_id, int64_t rate_per_min, int64_t now_ms)
{
    struct bucket *found = NULL;

    for (struct bucket **pp = &buckets; *pp;) {
        struct bucket *b = *pp;

        if (strcmp(b->tenant_id, tenant_id) == 0) {
            found = b;
            pp = &b->next;
        } else if (refill(b, rate_per_min, now_ms) >= (double)rate_per_min) {
            *pp = b->next;
            free(b);
        } else {
            pp = &b->next;
        }
    }
    if (found)
        return found;
    found = calloc(1, sizeof(*found));
    if (!found)
        return NULL;
    snprintf(found->tenant_id, sizeof(found->tenant_id), "%s", tenant_id);
    found->tokens = (double)rate_per_min;
    found->at_ms = now_ms;
    found->next = buckets;
    buckets = found;
    return found;
}

/* Take one token of the tenant at now_ms: UPLOAD_GATE_OK, _RATE (with *retry_after_s) or _NOMEM. Under gate_mu. */
static enum upload_gate_result take_token(const char *tenant_id, int64_t rate_per_min, int64_t now_ms,
                                          int64_t *retry_after_s)
{
    struct bucket *b;

    if (rate_per_min <= 0)
        return UPLOAD_GATE_OK;
    b = bucket_of(tenant_id, rate_per_min, now_ms);
    if (!b)
        return UPLOAD_GATE_NOMEM;
    b->tokens = refill(b, rate_per_min, now_ms);
    b->at_ms = now_ms;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return UPLOAD_GATE_OK;
    }
    /* Seconds until the bucket holds one token again, rounded up. */
    *retry_after_s = (int64_t)ceil((1.0 - b->tokens) * 60.0 / (double)rate_per_min);
    if (*retry_after_s < 1)
        *retry_after_s = 1;
    return UPLOAD_GATE_RATE;
}

enum upload_gate_result upload_gate_enter(struct upload_gate *g, int64_t max_instance, int64_t *retry_after_s)
{
    int ok;

    *retry_after_s = UPLOAD_GATE_RETRY_S;
    pthread_mutex_lock(&gate_mu);
    ok = in_progress < max_instance;
    if (ok)
        in_progress++;
    pthread_mutex_unlock(&gate_mu);
    g->held = ok;
    return ok ? UPLOAD_GATE_OK : UPLOAD_GATE_INSTANCE_FULL;
}

enum upload_gate_result upload_gate_token(const char *tenant_id, int64_t rate_per_min, int64_t now_ms,
                                          int64_t *retry_after_s)
{
    enum upload_gate_result rc;

    *retry_after_s = 1;
    pthread_mutex_lock(&gate_mu);
    rc = take_token(tenant_id, rate_per_min, now_ms, retry_after_s);
    pthread_mutex_unlock(&gate_mu);
    return rc;
}

int upload_gate_full(int64_t max_instance)
{
    int full;

    pthread_mutex_lock(&gate_mu);
    full = in_progress >= max_instance;
    pthread_mutex_unlock(&gate_mu);
    return full;
}

void upload_gate_leave(struct upload_gate *g)
{
    if (!g || !g->held)
        return;
    pthread_mutex_lock(&gate_mu);
    in_progress--;
    pthread_mutex_unlock(&gate_mu);
    g->held = 0;
}

int64_t upload_gate_in_progress(void)
{
    int64_t n;

    pthread_mutex_lock(&gate_mu);
    n = in_progress;
    pthread_mutex_unlock(&gate_mu);
    return n;
}
