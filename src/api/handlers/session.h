/*
 * session.h - the session endpoints: log in (a signed token, api/auth/jwt.h,
 * as a cookie and in the body), log out (the token is revoked server-side),
 * and who am I. The authenticate hook that checks the token on every other
 * route is api/auth/auth.h; the failed-login throttle is api/auth/throttle.h.
 *
 * A failed login answers one 401 body whatever the cause (unknown tenant or
 * e-mail, inactive account, wrong password), after the same password work,
 * so neither the body nor the time tells which accounts exist.
 */
#ifndef API_HANDLERS_SESSION_H
#define API_HANDLERS_SESSION_H

#include "api/http/request.h"

void session_login(struct req *r);      /* POST /v1/auth/login (public) */
void session_logout(struct req *r);     /* POST /v1/auth/logout (public) */
void session_me(struct req *r);         /* GET /v1/auth/me */

#endif
