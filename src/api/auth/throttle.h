/*
 * throttle.h - the failed-login throttle, kept in the shared login_failures
 * table so every core-api instance sees the same counts (docs/api.md
 * "Login throttling" has the policy, docs/decisions.md the reasons).
 *
 * A login counts against three buckets:
 *   pair     "pair:" + SHA-256 of the account key and the client's address:
 *            LOGIN_MAX_FAILURES inside LOGIN_WINDOW, then 429 until the
 *            oldest counted failure leaves the window. Only that address is
 *            refused for that account: a stranger can only lock out the
 *            address they use.
 *   address  "ip:<addr>", all accounts together: LOGIN_MAX_FAILURES_PER_ADDR
 *            (higher: many people may share an address behind a proxy).
 *   account  "acct:" + SHA-256 of lower(tenant) LF lower(email), from every
 *            address: no lock, a progressive delay. Once it holds
 *            LOGIN_MAX_FAILURES failures inside the window, the next attempt
 *            must wait 1 s after the last one, doubled for each failure past
 *            that, capped at LOGIN_DELAY_MAX. So failures from elsewhere can
 *            slow the owner down by at most LOGIN_DELAY_MAX, never lock them out.
 * The hashes keep the table free of e-mail addresses and fixed in size.
 *
 * Atomic: throttle_reserve() decides and records in one transaction holding
 * advisory locks on the address and account buckets, and it records the
 * guess (one row per bucket) BEFORE the password is checked. Parallel
 * attempts are serialized on the buckets they share, so no more guesses are
 * checked than the limits allow. The rows of a wrong password stay as the
 * failure; throttle_release() removes them otherwise. Old rows are pruned now
 * and then by the logins themselves.
 */
#ifndef API_AUTH_THROTTLE_H
#define API_AUTH_THROTTLE_H

#include "common/arena.h"
#include "common/config.h"
#include "common/ids.h"

#include <libpq-fe.h>
#include <stdint.h>

struct throttle_buckets {
    char *pair;      /* "pair:<sha256 hex>" of the account and the address */
    char *ip;        /* "ip:<addr>" */
    char *account;   /* "acct:<sha256 hex>" */
};

/* One reserved guess: the id of its rows. */
struct throttle_attempt {
    char id[ID_UUID_LEN + 1];
};

/*
 * The buckets of a login from addr (NULL: "unknown") for tenant and email,
 * allocated in a. 0, or -1 if memory is out.
 */
int throttle_buckets(struct arena *a, const char *addr, const char *tenant, const char *email,
                     struct throttle_buckets *b);

/*
 * Reserve one guess for b, before the password is checked. 0: reserved
 * (*attempt names it); > 0: throttled, the seconds until a login of b may be
 * tried again (nothing recorded); -1 on a database error (the failed
 * statement's SQLSTATE is in db_last_sqlstate(), nothing recorded).
 */
int64_t throttle_reserve(PGconn *db, const struct config *cfg, const struct throttle_buckets *b,
                         struct throttle_attempt *attempt);

enum throttle_outcome {
    THROTTLE_NOT_CHECKED,   /* the password was never checked (an internal error): forget the guess */
    THROTTLE_SUCCESS,       /* right password: forget the guess and the pair's and account's failures */
};

/*
 * After a reserved guess that was not a wrong password. The address's other
 * failures stay. Best effort: never fails the request.
 */
void throttle_release(PGconn *db, const struct throttle_buckets *b, const struct throttle_attempt *attempt,
                      enum throttle_outcome outcome);

/* One call in LOGIN_PRUNE_EVERY deletes rows too old to count for any instance. */
void throttle_maybe_prune(PGconn *db);

#endif
