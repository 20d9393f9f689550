/*
 * auth.h - the authenticate hook the server calls for non-public routes, and
 * what the session endpoints (api/handlers/session.h) share with it: the
 * cookie's name, the one 401 message, how a bearer token is read.
 *
 * Sessions are signed tokens (api/auth/jwt.h), checked against the user's
 * row (one prepared, indexed query) unless the principal cache holds a fresh
 * check of that session (common/principal_cache.h): the query refuses a
 * deactivated user, a logged-out token (its jti in revoked_sessions) and one
 * issued before the user's sessions_valid_after (password change,
 * deactivation), and gives the current role. Changes reach the cache of this
 * instance at once (the handler that makes them forgets the user or session)
 * and of every other instance by NOTIFY (migration 0008), with
 * PRINCIPAL_CACHE_TTL as the bound when a NOTIFY is missed. The principal's
 * tenant_id always comes from the verified token, never from a body, form or
 * query string (invariant 1).
 */
#ifndef API_AUTH_H
#define API_AUTH_H

#include "api/http/request.h"

/* Name of the session cookie. */
#define AUTH_COOKIE "session"

/* The one body of every rejected token, whatever the cause. */
#define AUTH_REQUIRED_MSG "authentication required"

/*
 * The token of an Authorization header value of the Bearer scheme (any case,
 * blanks after it skipped), pointing into authz; NULL for another scheme.
 */
const char *auth_bearer_token(const char *authz);

/*
 * The authenticate hook (struct server_hooks): fill r->principal from the
 * cookie or bearer token, enforce CSRF for cookie writes. Returns 0, or -1
 * after answering 401/403 (or 503 and the like when the database fails).
 * A cache hit runs no statement; otherwise the user's row is read with a
 * short checkout: the connection is back in the pool when it returns,
 * whatever the outcome, so a request whose body then trickles in holds none.
 */
int auth_authenticate(struct req *r);

#endif
