/*
 * users.c - admin user management, confined to the caller's tenant.
 *
 * Every query is keyed by r->principal.tenant_id (from the verified token);
 * a tenant_id in the body or query string is never read. A user id that is
 * not a UUID, unknown, or of another tenant answers the same 404.
 *
 * Last-admin rule: a change that would leave the tenant without an active
 * admin (demoting or deactivating its only active admin, the caller included)
 * answers 409. The tenant's active admins are locked (FOR UPDATE) for the
 * check, so two admins demoting each other at once cannot both succeed.
 *
 * A password change or a deactivation sets sessions_valid_after: every token
 * issued before it is refused from then on (auth_authenticate), also after a
 * re-activation; a login after the change works at once.
 */
#include "api/handlers/users.h"

#include "api/auth/account.h"
#include "api/auth/auth.h"
#include "api/auth/password.h"
#include "common/db.h"
#include "common/ids.h"
#include "common/log.h"

#include <openssl/crypto.h>
#include <string.h>

static int require_admin(struct req *r)
{
    /* The router checks ROUTE_ADMIN already; this is a second lock on the same door. */
    if (r->principal.role != ROLE_ADMIN) {
        req_error(r, API_ERR_FORBIDDEN, "admin role required");
        return -1;
    }
    return 0;
}

void users_list(struct req *r)
{
    const char *params[1] = {r->principal.tenant_id};
    PGresult *res;
    json_t *users, *u;
    PGconn *db;

    if (require_admin(r) < 0)
        return;
    db = req_db(r);
    if (!db)
        return;
    res = arena_pg(&r->arena, db_query(db,
        "SELECT " AUTH_USER_COLS
        "  FROM users u JOIN tenants t ON t.tenant_id = u.tenant_id"
        " WHERE u.tenant_id = $1"
        " ORDER BY u.created_at, u.user_id",
        1, params));
    if (!res) {
        req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
        return;
    }
    users = arena_json(&r->arena, json_array());
    if (!users) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        u = auth_user_json(res, i, 0);
        if (!u || json_array_append_new(users, u) < 0) {
            req_error(r, API_ERR_INTERNAL, "internal error");
            return;
        }
    }
    req_json(r, 200, json_pack("{s:O}", "users", users));
}

/* Field `key` of o: absent or null -> *out NULL and 0; a string -> 0; anything else -> -1. */
static int opt_string(json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    *out = json_string_value(v);
    return 0;
}

void users_create(struct req *r)
{
    const char *email, *password, *role, *why;
    char hash[PASSWORD_ENCODED_MAX];
    const char *params[4];
    PGresult *res;
    json_t *body, *user;
    PGconn *db;

    if (require_admin(r) < 0)
        return;
    body = req_body_json(r);
    if (!body)
        return;
    if (opt_string(body, "email", &email) < 0 || opt_string(body, "password", &password) < 0 ||
        opt_string(body, "role", &role) < 0) {
        req_error(r, API_ERR_BAD_REQUEST, "email, password and role must be strings");
        return;
    }
    if (!auth_email_valid(email)) {
        req_error(r, API_ERR_BAD_REQUEST, "email is missing or invalid");
        return;
    }
    if (password_check(password, &why) < 0) {
        req_error(r, API_ERR_BAD_REQUEST, why);
        return;
    }
    if (!role)
        role = "user";
    if (!auth_role_valid(role)) {
        req_error(r, API_ERR_BAD_REQUEST, "role must be \"user\" or \"admin\"");
        return;
    }
    if (password_hash(password, hash, sizeof(hash)) < 0) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    db = req_db(r);
    if (!db)
        goto out;
    params[0] = r->principal.tenant_id;
    params[1] = email;
    params[2] = hash;
    params[3] = role;
    res = arena_pg(&r->arena, db_query(db,
        "WITH u AS ("
        "  INSERT INTO users (tenant_id, email, password_hash, role)"
        "  VALUES ($1, $2, $3, $4) RETURNING *)"
        "SELECT " AUTH_USER_COLS " FROM u JOIN tenants t ON t.tenant_id = u.tenant_id",
        4, params));
    if (!res) {
        if (strcmp(db_last_sqlstate(), DB_UNIQUE_VIOLATION) == 0)
            req_error(r, API_ERR_CONFLICT, "a user with this email already exists");
        else
            req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
        goto out;
    }
    user = PQntuples(res) == 1 ? auth_user_json(res, 0, 0) : NULL;
    if (!user) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        goto out;
    }
    log_event(LOG_INFO, "user created", json_pack("{s:s?, s:s, s:s, s:s}", "user_id", db_val(res, 0, 0),
                                                  "tenant_id", r->principal.tenant_id, "role", role,
                                                  "by", r->principal.user_id));
    req_json(r, 201, json_pack("{s:o}", "user", user));
out:
    OPENSSL_cleanse(hash, sizeof(hash));
}

void users_update(struct req *r)
{
    const char *id = r->params[0];
    const char *role, *password, *why, *cur_role, *cur_active;
    const char *is_active = NULL, *new_hash = NULL;
    char hash[PASSWORD_ENCODED_MAX];
    const char *params[5];
    PGresult *admins, *target, *res;
    json_t *body, *v, *user;
    PGconn *db;
    int others = 0, loses_admin;

    hash[0] = '\0';
    if (require_admin(r) < 0)
        return;
    if (!id_is_uuid(id)) {
        req_error(r, API_ERR_NOT_FOUND, "user not found");
        return;
    }
    body = req_body_json(r);
    if (!body)
        return;
    if (opt_string(body, "role", &role) < 0 || opt_string(body, "password", &password) < 0) {
        req_error(r, API_ERR_BAD_REQUEST, "role and password must be strings");
        return;
    }
    if (role && !auth_role_valid(role)) {
        req_error(r, API_ERR_BAD_REQUEST, "role must be \"user\" or \"admin\"");
        return;
    }
    v = json_object_get(body, "is_active");
    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v)) {
            req_error(r, API_ERR_BAD_REQUEST, "is_active must be a boolean");
            return;
        }
        is_active = json_is_true(v) ? "true" : "false";
    }
    if (password) {
        if (password_check(password, &why) < 0) {
            req_error(r, API_ERR_BAD_REQUEST, why);
            return;
        }
        /* Hash before the transaction: no row lock is held for the ~50 ms of Argon2. */
        if (password_hash(password, hash, sizeof(hash)) < 0) {
            req_error(r, API_ERR_INTERNAL, "internal error");
            return;
        }
        new_hash = hash;
    }

    db = req_db(r);
    if (!db)
        goto out;
    if (db_tx_begin(db) < 0) {
        req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
        goto out;
    }
    params[0] = r->principal.tenant_id;
    admins = arena_pg(&r->arena, db_query(db,
        "SELECT user_id::text FROM users"
        " WHERE tenant_id = $1 AND role = 'admin' AND is_active"
        " ORDER BY user_id FOR UPDATE",
        1, params));
    params[0] = id;
    params[1] = r->principal.tenant_id;
    target = admins ? arena_pg(&r->arena, db_query(db,
        "SELECT role, is_active FROM users WHERE user_id = $1 AND tenant_id = $2 FOR UPDATE",
        2, params)) : NULL;
    if (!target) {
        req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
        goto rollback;
    }
    if (PQntuples(target) != 1) {
        req_error(r, API_ERR_NOT_FOUND, "user not found");
        goto rollback;
    }
    cur_role = db_val(target, 0, 0);
    cur_active = db_val(target, 0, 1);
    loses_admin = cur_role && strcmp(cur_role, "admin") == 0 && cur_active && cur_active[0] == 't' &&
                  ((role && strcmp(role, "admin") != 0) || (is_active && strcmp(is_active, "false") == 0));
    if (loses_admin) {
        for (int i = 0; i < PQntuples(admins); i++) {
            if (strcmp(db_val(admins, i, 0), id) != 0)
                others++;
        }
        if (others == 0) {
            req_error(r, API_ERR_CONFLICT, "the tenant must keep at least one active admin");
            goto rollback;
        }
    }
    params[2] = role;
    params[3] = is_active;
    params[4] = new_hash;
    res = arena_pg(&r->arena, db_query(db,
        "WITH u AS ("
        "  UPDATE users SET role = coalesce($3, role),"
        "                   is_active = coalesce($4::boolean, is_active),"
        "                   password_hash = coalesce($5, password_hash),"
        /* a new password or a deactivation ends every session issued so far */
        "                   sessions_valid_after = CASE WHEN $5 IS NOT NULL OR $4::boolean IS FALSE"
        "                                               THEN now() ELSE sessions_valid_after END,"
        "                   updated_at = now()"
        "   WHERE user_id = $1 AND tenant_id = $2 RETURNING *)"
        "SELECT " AUTH_USER_COLS " FROM u JOIN tenants t ON t.tenant_id = u.tenant_id",
        5, params));
    if (!res || PQntuples(res) != 1) {
        req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
        goto rollback;
    }
    user = auth_user_json(res, 0, 0);
    if (!user) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        goto rollback;
    }
    if (db_tx_commit(db) < 0) {
        json_decref(user);
        req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
        goto out;
    }
    log_event(LOG_INFO, "user updated",
              json_pack("{s:s, s:s, s:s?, s:s?, s:b, s:s}", "user_id", id, "tenant_id", r->principal.tenant_id,
                        "role", role, "is_active", is_active, "password_reset", new_hash != NULL,
                        "by", r->principal.user_id));
    req_json(r, 200, json_pack("{s:o}", "user", user));
    goto out;
rollback:
    db_tx_rollback(db);
out:
    OPENSSL_cleanse(hash, sizeof(hash));
}
