/*
 * principal_cache.h - core-api's cache of session checks: for a verified
 * token's session id (jti), whether the session still counts (user active,
 * session not revoked, token not older than the user's sessions_valid_after)
 * and the user's role, so an authenticated request needs no database read.
 *
 * Staleness is bounded three ways (docs/operations.md, "Principal cache"):
 *  - the instance that changes a user or ends a session forgets it at once
 *    (principal_cache_forget_user / _session, called by the handler);
 *  - every other instance forgets it when the database's NOTIFY arrives
 *    (principal_cache_notify, fed by core-api's listener, migration 0008);
 *  - an entry is trusted at most ttl_ms after it was read, which bounds a
 *    NOTIFY that never came; while the listener is not connected
 *    (principal_cache_set_live(0)) nothing is served from the cache.
 *
 * A fill races with an invalidation (read the row, the row changes, the
 * NOTIFY is applied, then the stale row is put): principal_cache_gen() before
 * the read and principal_cache_put(gen) after it refuse such a put.
 *
 * A memo (memo.h) underneath: thread-safe, bounded (a fixed table,
 * direct-mapped by jti: a collision evicts). Every function accepts NULL (no
 * cache: misses, no-ops).
 */
#ifndef COMMON_PRINCIPAL_CACHE_H
#define COMMON_PRINCIPAL_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* NOTIFY channel whose payloads principal_cache_notify() understands. */
#define PRINCIPAL_CACHE_CHANNEL "principal_changed"

struct principal_cache;

/* A cache of at most entries sessions, each trusted ttl_ms; NULL when entries or ttl_ms is 0, or memory is out. */
struct principal_cache *principal_cache_new(size_t entries, int64_t ttl_ms);
/* Free; accepts NULL and sets *pc to NULL. */
void principal_cache_free(struct principal_cache **pc);

/*
 * 1 and *role if session jti of user_id in tenant_id is cached and still
 * trusted at now_ms (the cache is live, the entry younger than the TTL and
 * the token's exp); 0 otherwise.
 */
int principal_cache_get(struct principal_cache *pc, const char *jti, const char *user_id, const char *tenant_id,
                        int64_t now_ms, int *role);
/* The invalidation count of session jti: read it before the database read whose answer is put. */
uint64_t principal_cache_gen(struct principal_cache *pc, const char *jti);
/*
 * Remember that session jti counts with role, read when principal_cache_gen()
 * was gen, trusted until min(now_ms + ttl, exp_ms). Dropped if anything was
 * invalidated since gen, or if the cache is not live.
 */
void principal_cache_put(struct principal_cache *pc, uint64_t gen, const char *jti, const char *user_id,
                         const char *tenant_id, int role, int64_t now_ms, int64_t exp_ms);
/* Forget one session (logout). */
void principal_cache_forget_session(struct principal_cache *pc, const char *jti);
/* Forget every session of a user (deactivation, role or password change). */
void principal_cache_forget_user(struct principal_cache *pc, const char *user_id);
/* Forget everything. */
void principal_cache_clear(struct principal_cache *pc);
/*
 * Apply a NOTIFY payload: "s:<jti>" forgets a session, "u:<user_id>" a user,
 * anything else everything (an unknown payload is treated as the widest).
 */
void principal_cache_notify(struct principal_cache *pc, const char *payload);
/*
 * live 1: invalidations are being received (the listener is connected), the
 * cache may serve; 0: it may not. Either way everything is forgotten, since
 * a NOTIFY may have been lost in between.
 */
void principal_cache_set_live(struct principal_cache *pc, int live);
/* Sessions currently held (metrics, tests). */
size_t principal_cache_count(struct principal_cache *pc);

#endif
