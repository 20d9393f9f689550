/*
 * throttle.c - the failed-login throttle over the login_failures table
 * (throttle.h).
 */
#include "api/auth/throttle.h"

#include "common/db.h"
#include "common/hash.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* login_failures rows older than this are pruned: LOGIN_WINDOW's upper bound, so
 * an instance configured with a shorter window never prunes another's rows. */
#define LOGIN_PRUNE_AFTER "1 day"
/* One login in this many also prunes old login_failures rows. */
#define LOGIN_PRUNE_EVERY 32

static atomic_uint login_counter;

/* "acct:" + sha256(lower(tenant) LF lower(email)): fixed size whatever the input. */
static char *account_bucket(struct arena *a, const char *tenant, const char *email)
{
    size_t tl = strlen(tenant), el = strlen(email);
    char *key = arena_alloc(a, tl + 1 + el + 1);
    char hex[HASH_SHA256_HEX_LEN + 1];

    if (!key)
        return NULL;
    for (size_t i = 0; i < tl; i++)
        key[i] = (char)tolower((unsigned char)tenant[i]);
    key[tl] = '\n';
    for (size_t i = 0; i < el; i++)
        key[tl + 1 + i] = (char)tolower((unsigned char)email[i]);
    if (sha256_hex(key, tl + 1 + el, hex) < 0)
        return NULL;
    return arena_printf(a, "acct:%s", hex);
}

int throttle_buckets(struct arena *a, const char *addr, const char *tenant, const char *email,
                     struct throttle_buckets *b)
{
    b->ip = arena_printf(a, "ip:%s", addr ? addr : "unknown");
    b->account = account_bucket(a, tenant, email);
    return b->ip && b->account ? 0 : -1;
}

/*
 * A bucket is throttled when it holds max failures inside the window; it
 * opens again when the max-th newest of them (the oldest counted one) leaves
 * the window.
 */
int64_t throttle_retry_after(PGconn *db, const struct config *cfg, const struct throttle_buckets *b)
{
    char window[32], max[32];
    const char *params[4] = {b->ip, b->account, window, max};
    PGresult *res;
    const char *v;
    int64_t wait_s;

    snprintf(window, sizeof(window), "%lld", (long long)cfg->login_window_ms);
    snprintf(max, sizeof(max), "%lld", (long long)cfg->login_max_failures);
    res = db_query(db,
        "SELECT coalesce(max(ceil(extract(epoch FROM"
        "         f.failed_at + $3::bigint * interval '1 millisecond' - now()))), 0)::bigint"
        "  FROM unnest(ARRAY[$1, $2]::text[]) AS b(bucket)"
        " CROSS JOIN LATERAL ("
        "   SELECT l.failed_at FROM login_failures l"
        "    WHERE l.bucket = b.bucket"
        "      AND l.failed_at > now() - $3::bigint * interval '1 millisecond'"
        "    ORDER BY l.failed_at DESC OFFSET $4::int - 1 LIMIT 1) f",
        4, params);
    if (!res)
        return -1;
    v = db_val(res, 0, 0);
    wait_s = v ? strtoll(v, NULL, 10) : 0;
    PQclear(res);
    return wait_s;
}

void throttle_record_failure(PGconn *db, const struct throttle_buckets *b)
{
    const char *params[2] = {b->ip, b->account};

    /* Best effort: a lost row weakens the throttle a little, it must not fail the request. */
    (void)db_exec(db, "INSERT INTO login_failures (bucket) VALUES ($1), ($2)", 2, params);
}

void throttle_clear_account(PGconn *db, const struct throttle_buckets *b)
{
    const char *params[1] = {b->account};

    (void)db_exec(db, "DELETE FROM login_failures WHERE bucket = $1", 1, params);
}

void throttle_maybe_prune(PGconn *db)
{
    if (atomic_fetch_add(&login_counter, 1) % LOGIN_PRUNE_EVERY != 0)
        return;
    (void)db_exec(db, "DELETE FROM login_failures WHERE failed_at < now() - interval '"
                      LOGIN_PRUNE_AFTER "'", 0, NULL);
}
