/*
 * auth.h - login, logout, me; session tokens (HS256 JWT, api/jwt.h); the
 * authentication middleware (auth_authenticate in server.h).
 *
 * Sessions are signed tokens, but every authenticated request re-reads the
 * user's row (one indexed query), so deactivation and role changes take
 * effect on the next request; the same query refuses a logged-out token (its
 * jti in revoked_sessions) and one issued before the user's
 * sessions_valid_after (password change, deactivation). The principal's
 * tenant_id always comes from the verified token, never from a body, form or
 * query string (invariant 1).
 *
 * Failed logins are throttled per client address and per account in the
 * shared login_failures table (so every core-api instance sees the same
 * counts): after LOGIN_MAX_FAILURES failures inside LOGIN_WINDOW a bucket
 * answers 429 with Retry-After until its oldest counted failure leaves the
 * window. A success clears the account's bucket, not the address's.
 */
#ifndef API_AUTH_H
#define API_AUTH_H

#include "api/server.h"

#include <libpq-fe.h>

void auth_login(struct req *r);      /* POST /v1/auth/login */
void auth_logout(struct req *r);     /* POST /v1/auth/logout */
void auth_me(struct req *r);         /* GET /v1/auth/me */

/* Name of the session cookie. */
#define AUTH_COOKIE "session"

/*
 * The columns of a User (docs/api.md), for "SELECT " AUTH_USER_COLS " FROM users u
 * JOIN tenants t ON t.tenant_id = u.tenant_id ...": eight text columns that
 * auth_user_json() turns into the JSON object. Never includes password_hash.
 */
#define AUTH_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define AUTH_USER_COLS                                                         \
    "u.user_id::text, u.tenant_id::text, t.slug, u.email, u.role, u.is_active, " \
    AUTH_TS("u.created_at") ", " AUTH_TS("u.updated_at")
#define AUTH_USER_NCOLS 8

/* A new reference to the User object of row `row` (columns from col0 on); NULL if memory is out. */
json_t *auth_user_json(const PGresult *res, int row, int col0);

/*
 * 1 if s is an acceptable email address: 3 to 320 bytes, one '@' with a
 * non-empty local part (at most 64 bytes) and domain, no spaces or control
 * characters. Deliberately loose: delivery is not our concern, uniqueness is.
 */
int auth_email_valid(const char *s);

/* 1 if s is "user" or "admin". */
int auth_role_valid(const char *s);

#endif
