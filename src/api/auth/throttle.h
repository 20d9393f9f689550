/*
 * throttle.h - the failed-login throttle, kept in the shared login_failures
 * table so every core-api instance sees the same counts.
 *
 * A failed login counts against two buckets: the client's address
 * ("ip:<addr>") and the account ("acct:" + SHA-256 of lower(tenant) LF
 * lower(email): fixed size whatever the input, and no e-mail address in the
 * table). After LOGIN_MAX_FAILURES failures inside LOGIN_WINDOW a bucket is
 * throttled (the login answers 429 with Retry-After) until its oldest counted
 * failure leaves the window. A success clears the account's bucket, not the
 * address's. Old rows are pruned now and then by the logins themselves.
 */
#ifndef API_AUTH_THROTTLE_H
#define API_AUTH_THROTTLE_H

#include "common/arena.h"
#include "common/config.h"

#include <libpq-fe.h>
#include <stdint.h>

struct throttle_buckets {
    char *ip;        /* "ip:<addr>" */
    char *account;   /* "acct:<sha256 hex>" */
};

/*
 * The two buckets of a login from addr (NULL: "unknown") for tenant and
 * email, allocated in a. 0, or -1 if memory is out.
 */
int throttle_buckets(struct arena *a, const char *addr, const char *tenant, const char *email,
                     struct throttle_buckets *b);

/*
 * Seconds until a login of b may be tried again (0: not throttled, the
 * longer wait of the two buckets), or -1 on a database error (the failed
 * statement's SQLSTATE is in db_last_sqlstate()).
 */
int64_t throttle_retry_after(PGconn *db, const struct config *cfg, const struct throttle_buckets *b);

/* Count one failed login against both buckets. Best effort: never fails the request. */
void throttle_record_failure(PGconn *db, const struct throttle_buckets *b);

/* Forget the account's failures after a successful login (best effort). */
void throttle_clear_account(PGconn *db, const struct throttle_buckets *b);

/* One call in LOGIN_PRUNE_EVERY deletes rows too old to count for any instance. */
void throttle_maybe_prune(PGconn *db);

#endif
