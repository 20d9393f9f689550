/*
 * account.h - account rules shared by login, the users API and `core-api
 * bootstrap`: valid e-mails and roles, the User object's columns and JSON.
 * Pure (no request, no server), so the bootstrap command links without HTTP.
 */
#ifndef API_AUTH_ACCOUNT_H
#define API_AUTH_ACCOUNT_H

#include "common/db.h"

#include <jansson.h>
#include <libpq-fe.h>

/*
 * The columns of a User (docs/api.md), for "SELECT " AUTH_USER_COLS " FROM users u
 * JOIN tenants t ON t.tenant_id = u.tenant_id ...": eight text columns that
 * auth_user_json() turns into the JSON object. Never includes password_hash.
 */
#define AUTH_USER_COLS                                                         \
    "u.user_id::text, u.tenant_id::text, t.slug, u.email, u.role, u.is_active, " \
    DB_TS("u.created_at") ", " DB_TS("u.updated_at")
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
