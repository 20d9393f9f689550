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
/* First key of the throttle's advisory locks ("LOGI"): the two-key space is apart
 * from the one-key locks of documents, the worker, migrate and the crash guard. */
#define THROTTLE_LOCK_CLASS "1280263753"

static atomic_uint login_counter;

/*
 * Lock the address and account buckets until the transaction ends, in one
 * order for everyone (by key), so two logins that share both cannot deadlock.
 * The pair bucket needs no lock: its logins share both of the others.
 */
static const char lock_sql[] =
    "SELECT pg_advisory_xact_lock(" THROTTLE_LOCK_CLASS ", k)"
    "  FROM (SELECT hashtext(b) AS k FROM unnest(ARRAY[$1, $2]::text[]) AS b ORDER BY 1) AS s";

/*
 * Under the locks, and in a statement that starts after them (so it sees every
 * reservation committed before): the wait, and the reservation when it is 0.
 * $1 pair, $2 address, $3 account, $4 window (ms), $5 LOGIN_MAX_FAILURES,
 * $6 LOGIN_MAX_FAILURES_PER_ADDR, $7 LOGIN_DELAY_MAX (ms), $8 attempt.
 * pair and address open when their limit-th newest failure leaves the window;
 * the account opens 2^(n - $5) s (at most $7) after its last failure once it
 * holds n >= $5 failures (the exponent is capped so that power() stays finite).
 */
static const char reserve_sql[] =
    "WITH now AS (SELECT clock_timestamp() AS t),"
    " win AS (SELECT t, t - $4::bigint * interval '1 millisecond' AS since FROM now),"
    " capped AS ("
    "  SELECT (SELECT l.failed_at FROM login_failures l"
    "           WHERE l.bucket = b.bucket AND l.failed_at > win.since"
    "           ORDER BY l.failed_at DESC OFFSET b.lim - 1 LIMIT 1) AS nth"
    "    FROM win, (VALUES ($1::text, $5::int), ($2::text, $6::int)) AS b(bucket, lim)),"
    " acct AS ("
    "  SELECT count(*) AS n, max(l.failed_at) AS last"
    "    FROM login_failures l, win WHERE l.bucket = $3 AND l.failed_at > win.since),"
    " wait AS ("
    "  SELECT greatest((SELECT max(nth) FROM capped) + $4::bigint * interval '1 millisecond',"
    "                  (SELECT last + least(power(2, least(n - $5::int, 30)) * interval '1 second',"
    "                                       $7::bigint * interval '1 millisecond')"
    "                     FROM acct WHERE n >= $5::int)) - win.t AS w"
    "    FROM win),"
    " ins AS ("
    "  INSERT INTO login_failures (bucket, failed_at, attempt)"
    "  SELECT b, win.t, $8::uuid FROM unnest(ARRAY[$1, $2, $3]::text[]) AS b, win, wait"
    "   WHERE wait.w IS NULL OR wait.w <= interval '0'"
    "  RETURNING 1)"
    "SELECT CASE WHEN w > interval '0' THEN ceil(extract(epoch FROM w))::bigint ELSE 0 END FROM wait";

/* prefix + sha256(lower(tenant) LF lower(email) [LF addr]): fixed size whatever the input. */
static char *hashed_bucket(struct arena *a, const char *prefix, const char *tenant, const char *email,
                           const char *addr)
{
    size_t tl = strlen(tenant), el = strlen(email), al = addr ? strlen(addr) + 1 : 0;
    char *key = arena_alloc(a, tl + 1 + el + al + 1);
    char hex[HASH_SHA256_HEX_LEN + 1];

    if (!key)
        return NULL;
    for (size_t i = 0; i < tl; i++)
        key[i] = (char)tolower((unsigned char)tenant[i]);
    key[tl] = '\n';
    for (size_t i = 0; i < el; i++)
        key[tl + 1 + i] = (char)tolower((unsigned char)email[i]);
    if (addr) {
        key[tl + 1 + el] = '\n';
        memcpy(key + tl + 1 + el + 1, addr, al - 1);
    }
    if (sha256_hex(key, tl + 1 + el + al, hex) < 0)
        return NULL;
    return arena_printf(a, "%s:%s", prefix, hex);
}

int throttle_buckets(struct arena *a, const char *addr, const char *tenant, const char *email,
                     struct throttle_buckets *b)
{
    if (!addr)
        addr = "unknown";
    b->ip = arena_printf(a, "ip:%s", addr);
    b->account = hashed_bucket(a, "acct", tenant, email, NULL);
    b->pair = hashed_bucket(a, "pair", tenant, email, addr);
    return b->ip && b->account && b->pair ? 0 : -1;
}

int64_t throttle_reserve(PGconn *db, const struct config *cfg, const struct throttle_buckets *b,
                         struct throttle_attempt *attempt)
{
    char window[24], max_pair[24], max_ip[24], delay_max[24];
    const char *params[8] = {b->pair, b->ip, b->account, window, max_pair, max_ip, delay_max, attempt->id};
    PGresult *res = NULL;
    const char *v;
    int64_t rc = -1;

    id_uuid_new(attempt->id);
    snprintf(window, sizeof(window), "%lld", (long long)cfg->login_window_ms);
    snprintf(max_pair, sizeof(max_pair), "%lld", (long long)cfg->login_max_failures);
    snprintf(max_ip, sizeof(max_ip), "%lld", (long long)cfg->login_max_failures_per_addr);
    snprintf(delay_max, sizeof(delay_max), "%lld", (long long)cfg->login_delay_max_ms);
    if (db_tx_begin(db) < 0)
        return -1;
    if (db_exec(db, lock_sql, 2, &params[1]) < 0)
        goto out;
    res = db_query(db, reserve_sql, 8, params);
    if (!res)
        goto out;
    v = db_val(res, 0, 0);
    if (db_tx_commit(db) < 0)
        goto out;
    rc = v ? strtoll(v, NULL, 10) : 0;
out:
    PQclear(res);
    if (rc < 0)
        db_tx_rollback(db);
    return rc;
}

void throttle_release(PGconn *db, const struct throttle_buckets *b, const struct throttle_attempt *attempt,
                      enum throttle_outcome outcome)
{
    const char *params[5] = {b->pair, b->ip, b->account, attempt->id,
                             outcome == THROTTLE_SUCCESS ? "true" : "false"};

    /* Best effort: a row left behind counts as one failure, it must not fail the request. */
    (void)db_exec(db,
        "DELETE FROM login_failures"
        " WHERE bucket = ANY (ARRAY[$1, $2, $3]::text[])"
        "   AND (attempt = $4::uuid OR ($5::boolean AND bucket <> $2))",
        5, params);
}

void throttle_maybe_prune(PGconn *db)
{
    if (atomic_fetch_add(&login_counter, 1) % LOGIN_PRUNE_EVERY != 0)
        return;
    (void)db_exec(db, "DELETE FROM login_failures WHERE failed_at < now() - interval '"
                      LOGIN_PRUNE_AFTER "'", 0, NULL);
}
