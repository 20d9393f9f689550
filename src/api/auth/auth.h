/*
 * auth.h - login, logout, me; session tokens (HS256 JWT, api/jwt.h); the
 * authenticate hook the server calls for non-public routes.
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

#include "api/http/request.h"

#include <libpq-fe.h>

void auth_login(struct req *r);      /* POST /v1/auth/login */
void auth_logout(struct req *r);     /* POST /v1/auth/logout */
void auth_me(struct req *r);         /* GET /v1/auth/me */

/* Name of the session cookie. */
#define AUTH_COOKIE "session"

/*
 * The authenticate hook (struct server_hooks): fill r->principal from the
 * cookie or bearer token, enforce CSRF for cookie writes. Returns 0, or -1
 * after answering 401/403.
 */
int auth_authenticate(struct req *r);

#endif
