/* users.h - admin user management, confined to the admin's tenant. */
#ifndef API_USERS_H
#define API_USERS_H

#include "api/http/request.h"

void users_list(struct req *r);      /* GET /v1/users */
void users_create(struct req *r);    /* POST /v1/users */
void users_update(struct req *r);    /* PATCH /v1/users/:user_id */

#endif
