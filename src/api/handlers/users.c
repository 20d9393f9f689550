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
#include "api/auth/password.h"
#include "api/handlers/params.h"
#include "api/handlers/rows.h"
#include "common/db.h"
#include "common/log.h"
#include "common/principal_cache.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * GET /v1/users pages like every list (params_page) but shows a whole page of
 * 100 by default: the admin page lists a tenant's users without paging.
 */
#define USERS_LIMIT_DEFAULT PARAMS_LIMIT_MAX
/* The message of a statement error that is the request's fault (req_db_error). */
#define USERS_DB_WHAT "invalid user request"

static int require_admin(struct req *r)
{
    /* The router checks ROUTE_ADMIN already; this is a second lock on the same door. */
    if (r->principal.role != ROLE_ADMIN) {
        req_error(r, API_ERR_FORBIDDEN, "admin role required");
        return -1;
    }
    return 0;
}

/*
 * One page of the tenant's users and their total in one statement: the count
 * row is always there, its user columns are NULL when the offset is past the
 * end (as GET /v1/documents does).
 */
static const char list_sql[] =
    "SELECT n.total, p.* FROM (SELECT count(*) AS total FROM users WHERE tenant_id = $1) n"
    "  LEFT JOIN LATERAL ("
    "    SELECT " AUTH_USER_COLS
    "      FROM users u JOIN tenants t ON t.tenant_id = u.tenant_id"
    "     WHERE u.tenant_id = $1"
    "     ORDER BY u.created_at, u.user_id LIMIT $2::bigint OFFSET $3::bigint) p ON true";

/* The User objects of a list_sql result (AUTH_USER_COLS from column 1); NULL if memory is out. */
static json_t *users_json(const PGresult *res)
{
    json_t *users = json_array();

    for (int i = 0; users && i < PQntuples(res); i++) {
        if (!db_val(res, i, 1))
            continue;
        if (json_array_append_new(users, auth_user_json(res, i, 1)) < 0) {
            json_decref(users);
            users = NULL;
        }
    }
    return users;
}

void users_list(struct req *r)
{
    struct params_page page;
    char limit_s[24], offset_s[24];
    const char *params[3] = {r->principal.tenant_id, limit_s, offset_s};
    PGresult *res;
    json_t *users;

    if (require_admin(r) < 0 || params_page(r, USERS_LIMIT_DEFAULT, &page) < 0)
        return;
    snprintf(limit_s, sizeof(limit_s), "%lld", page.limit);
    snprintf(offset_s, sizeof(offset_s), "%lld", page.offset);
    res = rows_query(r, list_sql, 3, params, USERS_DB_WHAT);
    if (!res)
        return;
    users = users_json(res);
    if (!users) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    req_json(r, 200, json_pack("{s:o, s:I, s:I, s:I}", "users", users,
                               "total", (json_int_t)(PQntuples(res) ? strtoll(db_val(res, 0, 0), NULL, 10) : 0),
                               "limit", (json_int_t)page.limit, "offset", (json_int_t)page.offset));
}

/* Field key of o, or NULL when it is absent or JSON null. */
static json_t *opt_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_null(v) ? NULL : v;
}

/* Field key of o: absent or null -> *out NULL and 0; a string -> 0; anything else -> -1. */
static int opt_string(json_t *o, const char *key, const char **out)
{
    json_t *v = opt_field(o, key);

    *out = json_is_string(v) ? json_string_value(v) : NULL;
    return v && !*out ? -1 : 0;
}

/* Field key of o: absent or null -> *out NULL and 0; a boolean -> "true" or "false" and 0; else -1. */
static int opt_bool(json_t *o, const char *key, const char **out)
{
    json_t *v = opt_field(o, key);

    *out = !json_is_boolean(v) ? NULL : json_is_true(v) ? "true" : "false";
    return v && !*out ? -1 : 0;
}

/* A POST /v1/users body. */
struct new_user {
    const char *email;
    const char *password;
    const char *role;        /* "user" when absent */
};

/* The body as a new user, every rule checked; -1 after answering 400. */
static int new_user_parse(struct req *r, struct new_user *u)
{
    json_t *body = req_body_json(r);
    const char *why;

    if (!body)
        return -1;
    if (opt_string(body, "email", &u->email) < 0 || opt_string(body, "password", &u->password) < 0 ||
        opt_string(body, "role", &u->role) < 0) {
        req_error(r, API_ERR_BAD_REQUEST, "email, password and role must be strings");
        return -1;
    }
    if (!auth_email_valid(u->email)) {
        req_error(r, API_ERR_BAD_REQUEST, "email is missing or invalid");
        return -1;
    }
    if (password_check(u->password, &why) < 0) {
        req_error(r, API_ERR_BAD_REQUEST, why);
        return -1;
    }
    if (!u->role)
        u->role = "user";
    if (!auth_role_valid(u->role)) {
        req_error(r, API_ERR_BAD_REQUEST, "role must be \"user\" or \"admin\"");
        return -1;
    }
    return 0;
}

/* Insert u with its password hash: the new row (AUTH_USER_COLS), or NULL after answering. */
static PGresult *new_user_insert(struct req *r, const struct new_user *u, const char *hash)
{
    const char *params[4] = {r->principal.tenant_id, u->email, hash, u->role};

    /* users_tenant_email (tenant, lower(email)) is the one unique index a valid insert can hit: 409. */
    return rows_query(r,
        "WITH u AS ("
        "  INSERT INTO users (tenant_id, email, password_hash, role)"
        "  VALUES ($1, $2, $3, $4) RETURNING *)"
        "SELECT " AUTH_USER_COLS " FROM u JOIN tenants t ON t.tenant_id = u.tenant_id",
        4, params, "a user with this email already exists");
}

void users_create(struct req *r)
{
    struct new_user u;
    char hash[PASSWORD_ENCODED_MAX];
    PGresult *res;
    json_t *user;

    if (require_admin(r) < 0 || new_user_parse(r, &u) < 0)
        return;
    if (password_hash(u.password, hash, sizeof(hash)) < 0) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    res = new_user_insert(r, &u, hash);
    OPENSSL_cleanse(hash, sizeof(hash));
    if (!res)
        return;
    user = PQntuples(res) == 1 ? auth_user_json(res, 0, 0) : NULL;
    if (!user) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    log_event(LOG_INFO, "user created", json_pack("{s:s?, s:s, s:s, s:s}", "user_id", db_val(res, 0, 0),
                                                  "tenant_id", r->principal.tenant_id, "role", u.role,
                                                  "by", r->principal.user_id));
    req_json(r, 201, json_pack("{s:o}", "user", user));
}

/* A PATCH /v1/users/:user_id body: NULL fields stay as they are. */
struct user_change {
    const char *role;
    const char *is_active;   /* "true" or "false" */
    const char *hash;        /* the new password's hash */
};

/*
 * The body as a change, every rule checked, a new password hashed into hash
 * (before the transaction: no row lock is held for the ~50 ms of Argon2).
 * -1 after answering.
 */
static int change_parse(struct req *r, struct user_change *c, char *hash, size_t hashlen)
{
    json_t *body = req_body_json(r);
    const char *password, *why;

    memset(c, 0, sizeof(*c));
    if (!body)
        return -1;
    if (opt_string(body, "role", &c->role) < 0 || opt_string(body, "password", &password) < 0) {
        req_error(r, API_ERR_BAD_REQUEST, "role and password must be strings");
        return -1;
    }
    if (c->role && !auth_role_valid(c->role)) {
        req_error(r, API_ERR_BAD_REQUEST, "role must be \"user\" or \"admin\"");
        return -1;
    }
    if (opt_bool(body, "is_active", &c->is_active) < 0) {
        req_error(r, API_ERR_BAD_REQUEST, "is_active must be a boolean");
        return -1;
    }
    if (password && password_check(password, &why) < 0) {
        req_error(r, API_ERR_BAD_REQUEST, why);
        return -1;
    }
    if (password && password_hash(password, hash, hashlen) < 0) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return -1;
    }
    c->hash = password ? hash : NULL;
    return 0;
}

/* 1 if c takes the admin role away from the target row (role, is_active) while it is an active admin. */
static int change_demotes(const PGresult *target, const struct user_change *c)
{
    const char *role = db_val(target, 0, 0), *active = db_val(target, 0, 1);

    return role && strcmp(role, "admin") == 0 && active && active[0] == 't' &&
           ((c->role && strcmp(c->role, "admin") != 0) || (c->is_active && strcmp(c->is_active, "false") == 0));
}

/* Active admins of admins (one user_id column) other than id. */
static int other_admins(const PGresult *admins, const char *id)
{
    int others = 0;

    for (int i = 0; i < PQntuples(admins); i++)
        if (strcmp(db_val(admins, i, 0), id) != 0)
            others++;
    return others;
}

/*
 * In the open transaction: lock the tenant's active admins, then the target,
 * and refuse a change that would leave the tenant without an active admin.
 * 0, or -1 after answering (404 no such user, 409 the last admin).
 */
static int change_allowed(struct req *r, const char *id, const struct user_change *c)
{
    const char *params[2] = {r->principal.tenant_id, NULL};
    PGresult *admins, *target;

    admins = rows_query(r,
        "SELECT user_id::text FROM users"
        " WHERE tenant_id = $1 AND role = 'admin' AND is_active"
        " ORDER BY user_id FOR UPDATE",
        1, params, USERS_DB_WHAT);
    params[0] = id;
    params[1] = r->principal.tenant_id;
    target = admins ? rows_query(r,
        "SELECT role, is_active FROM users WHERE user_id = $1 AND tenant_id = $2 FOR UPDATE",
        2, params, USERS_DB_WHAT) : NULL;
    if (!target)
        return -1;
    if (PQntuples(target) != 1) {
        req_error(r, API_ERR_NOT_FOUND, "user not found");
        return -1;
    }
    if (change_demotes(target, c) && other_admins(admins, id) == 0) {
        req_error(r, API_ERR_CONFLICT, "the tenant must keep at least one active admin");
        return -1;
    }
    return 0;
}

/* Apply c to the target: the updated User object, or NULL after answering. */
static json_t *change_apply(struct req *r, const char *id, const struct user_change *c)
{
    const char *params[5] = {id, r->principal.tenant_id, c->role, c->is_active, c->hash};
    PGresult *res;
    json_t *user;

    res = rows_query(r,
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
        5, params, USERS_DB_WHAT);
    if (!res)
        return NULL;
    /* The row is locked (change_allowed): not finding it again is a bug, not a client error. */
    user = PQntuples(res) == 1 ? auth_user_json(res, 0, 0) : NULL;
    if (!user)
        req_error(r, API_ERR_INTERNAL, "internal error");
    return user;
}

/* The change as one transaction, then the answer. */
static void change_run(struct req *r, const char *id, const struct user_change *c)
{
    PGconn *db = req_db(r);
    json_t *user = NULL;

    if (!db)
        return;
    if (db_tx_begin(db) < 0) {
        req_db_error(r, USERS_DB_WHAT);
        return;
    }
    if (change_allowed(r, id, c) == 0)
        user = change_apply(r, id, c);
    if (!user) {
        db_tx_rollback(db);
        return;
    }
    if (db_tx_commit(db) < 0) {
        json_decref(user);
        req_db_error(r, USERS_DB_WHAT);
        return;
    }
    /* At once on this instance; the others by the NOTIFY of the update (migration 0008). */
    principal_cache_forget_user(r->app->principals, id);
    log_event(LOG_INFO, "user updated",
              json_pack("{s:s, s:s, s:s?, s:s?, s:b, s:s}", "user_id", id, "tenant_id", r->principal.tenant_id,
                        "role", c->role, "is_active", c->is_active, "password_reset", c->hash != NULL,
                        "by", r->principal.user_id));
    req_json(r, 200, json_pack("{s:o}", "user", user));
}

void users_update(struct req *r)
{
    const char *id;
    char hash[PASSWORD_ENCODED_MAX];
    struct user_change c;

    if (require_admin(r) < 0)
        return;
    id = params_id(r, 0, "user not found");
    if (!id)
        return;
    hash[0] = '\0';
    if (change_parse(r, &c, hash, sizeof(hash)) == 0)
        change_run(r, id, &c);
    OPENSSL_cleanse(hash, sizeof(hash));
}
