/* auth.h - login, logout, me; session tokens (HS256 JWT); the authentication middleware (auth_authenticate in server.h). */
#ifndef API_AUTH_H
#define API_AUTH_H

#include "api/server.h"

void auth_login(struct req *r);      /* POST /v1/auth/login */
void auth_logout(struct req *r);     /* POST /v1/auth/logout */
void auth_me(struct req *r);         /* GET /v1/auth/me */

#endif
