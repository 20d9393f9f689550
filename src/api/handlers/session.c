/*
 * session.c - POST /v1/auth/login, POST /v1/auth/logout and GET /v1/auth/me
 * (session.h).
 */
#include "api/handlers/session.h"

#include "api/auth/account.h"
#include "api/auth/auth.h"
#include "api/auth/jwt.h"
#include "api/auth/password.h"
#include "api/auth/throttle.h"
#include "api/handlers/rows.h"
#include "common/db.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/principal_cache.h"
#include "common/timeutil.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one body of every failed login, whatever the cause (no account enumeration). */
#define LOGIN_FAILED_MSG "invalid credentials"
/* One logout in this many also prunes revoked_sessions rows of expired tokens. */
#define REVOKED_PRUNE_EVERY 32
/* A revoked token's row is kept this long past its exp: jwt_verify accepts a token
 * up to JWT_LEEWAY_S after exp, and instances' clocks may differ from the database's. */
#define REVOKED_PRUNE_MARGIN "5 minutes"
/* 9999-12-31T23:59:59Z: a later exp (INT64_MAX verifies) would overflow to_timestamp. */
#define EPOCH_MAX_S INT64_C(253402300799)
/* The message of a statement error that is the request's fault (req_db_error). */
#define SESSION_DB_WHAT "invalid session request"

static atomic_uint logout_counter;

static void set_session_cookie(struct req *r, const char *token, int64_t max_age_s)
{
    const char *v = arena_printf(&r->arena, AUTH_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld%s",
                                 token, (long long)max_age_s,
                                 r->app->cfg->cookie_secure ? "; Secure" : "");

    if (v)
        req_set_header(r, "Set-Cookie", v);
}

static const char *json_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- login ---- */

/* One login attempt. */
struct login {
    const char *tenant;
    const char *email;
    const char *password;
    const char *addr;                 /* the client's address, for the throttle and logs */
    struct throttle_buckets buckets;
    struct throttle_attempt attempt;  /* the guess reserved by login_throttle */
    PGresult *user;                   /* the account's row (login_lookup), NULL if none */
    int active;                       /* 1: user is there and active */
    int64_t valid_from_s;             /* its sessions_valid_after, rounded up to a second */
};

/* The body's tenant, email and password into l; -1 after answering 400. */
static int login_parse(struct req *r, struct login *l)
{
    json_t *body = req_body_json(r);

    memset(l, 0, sizeof(*l));
    if (!body)
        return -1;
    l->tenant = json_str(body, "tenant");
    l->email = json_str(body, "email");
    l->password = json_str(body, "password");
    if (!l->tenant || !l->email || !l->password) {
        req_error(r, API_ERR_BAD_REQUEST, "tenant, email and password are required strings");
        return -1;
    }
    return 0;
}

/*
 * The throttle comes before any password work: a throttled guess costs
 * nothing, and a guess that may go on is reserved (counted) before its
 * password is checked, so parallel guesses cannot slip past the limit.
 * -1 after answering (429 with Retry-After when throttled).
 */
static int login_throttle(struct req *r, PGconn *db, struct login *l)
{
    int64_t wait_s;
    char retry[32];

    l->addr = req_client_addr(r);
    if (throttle_buckets(&r->arena, l->addr, l->tenant, l->email, &l->buckets) < 0) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return -1;
    }
    wait_s = throttle_reserve(db, r->app->cfg, &l->buckets, &l->attempt);
    if (wait_s < 0) {
        req_db_error(r, SESSION_DB_WHAT);
        return -1;
    }
    if (wait_s == 0)
        return 0;
    snprintf(retry, sizeof(retry), "%lld", (long long)wait_s);
    req_set_header(r, "Retry-After", retry);
    log_event(LOG_WARN, "login throttled", json_pack("{s:s, s:I}", "client", l->addr ? l->addr : "",
                                                      "retry_after_s", (json_int_t)wait_s));
    req_error(r, API_ERR_RATE_LIMITED, "too many failed logins, try again later");
    return -1;
}

/*
 * The tenant of the slug params[0] into params[2] (NULL: no such tenant), and
 * the request's connection scoped to it (row-level security; no tenant at all
 * for an unknown slug, so the same statements run and find nothing): no
 * principal exists yet, so this lookup by slug is login's one cross-tenant
 * step (tenant_id_by_slug(), db/migrations/0006_rls.sql). -1 after answering.
 */
static int login_tenant(struct req *r, const char *params[3])
{
    PGresult *res = rows_query(r, "SELECT tenant_id_by_slug($1)::text", 1, params, SESSION_DB_WHAT);

    if (!res)
        return -1;
    params[2] = db_val(res, 0, 0);
    if (db_set_tenant(r->db, params[2]) < 0) {
        req_db_error(r, SESSION_DB_WHAT);
        return -1;
    }
    return 0;
}

/* The account's row into l (l->user stays NULL when there is none); -1 after answering. */
static int login_lookup(struct req *r, struct login *l)
{
    const char *params[3] = {l->tenant, l->email, NULL};
    const char *active, *cutoff;
    PGresult *res;

    /* Inputs the schema cannot hold need no lookup; they still cost one verify (login_verify). */
    if (strlen(l->tenant) > 63 || !auth_email_valid(l->email))
        return 0;
    /* An unknown tenant runs the same statements as an unknown e-mail: comparable timing. */
    if (login_tenant(r, params) < 0)
        return -1;
    res = rows_query(r,
        "SELECT " AUTH_USER_COLS ", u.password_hash,"
        "       ceil(extract(epoch FROM u.sessions_valid_after))::bigint"
        "  FROM users u JOIN tenants t ON t.tenant_id = u.tenant_id"
        " WHERE t.slug = $1 AND lower(u.email) = lower($2) AND u.tenant_id = $3",
        3, params, SESSION_DB_WHAT);
    if (!res)
        return -1;
    if (PQntuples(res) != 1)
        return 0;
    l->user = res;
    active = db_val(res, 0, 5);
    l->active = active && active[0] == 't';
    cutoff = db_val(res, 0, AUTH_USER_NCOLS + 1);
    l->valid_from_s = cutoff ? strtoll(cutoff, NULL, 10) : 0;
    return 0;
}

/* 1 if the password is the active account's, 0 if not, -1 on an internal error. */
static int login_verify(const struct login *l)
{
    /* Same work whether or not the account exists or is active: comparable timing. */
    if (l->active)
        return password_verify(db_val(l->user, 0, AUTH_USER_NCOLS), l->password);
    password_verify_dummy(l->password);
    return 0;
}

/* A signed token for l's user into *token (freed with the request), with its claims; 0 or -1. */
static int login_token(struct req *r, const struct login *l, struct jwt_claims *claims, char **token)
{
    const struct config *cfg = r->app->cfg;

    memset(claims, 0, sizeof(*claims));
    snprintf(claims->sub, sizeof(claims->sub), "%s", db_val(l->user, 0, 0));
    snprintf(claims->tid, sizeof(claims->tid), "%s", db_val(l->user, 0, 1));
    snprintf(claims->role, sizeof(claims->role), "%s", db_val(l->user, 0, 4));
    id_uuid_new(claims->jti);
    /*
     * iat has whole seconds; sessions_valid_after (a password change, a
     * deactivation) has microseconds, and a token counts only if
     * iat >= that instant. A login in the same second as the cutoff, after
     * it, gets the next whole second as iat (at most 1 s ahead, also when
     * this clock is behind the database's), so it works at once while every
     * token issued before the cutoff, in that second too, stays refused.
     * nbf stays the real time.
     */
    claims->nbf = time_now_ms() / 1000;
    claims->iat = claims->nbf > l->valid_from_s ? claims->nbf : l->valid_from_s;
    claims->exp = claims->iat + cfg->session_ttl_ms / 1000;
    if (jwt_sign(claims, cfg->jwt_secret, strlen(cfg->jwt_secret), token) < 0)
        return -1;
    arena_defer(&r->arena, free, *token);
    return 0;
}

/* Answer a successful login: the user, the token (also as the cookie) and its expiry. */
static void login_answer(struct req *r, const struct login *l)
{
    struct jwt_claims claims;
    char expires[40];
    char *token = NULL;
    json_t *user, *out = NULL;

    if (login_token(r, l, &claims, &token) == 0) {
        time_format_rfc3339(claims.exp * 1000, expires, sizeof(expires));
        user = auth_user_json(l->user, 0, 0);
        out = user ? json_pack("{s:o, s:s, s:s}", "user", user, "token", token, "expires_at", expires) : NULL;
    }
    if (!out) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    set_session_cookie(r, token, r->app->cfg->session_ttl_ms / 1000);
    req_set_header(r, "Cache-Control", "no-store");
    log_event(LOG_INFO, "login", json_pack("{s:s, s:s}", "user_id", claims.sub, "tenant_id", claims.tid));
    req_json(r, 200, out);
}

void session_login(struct req *r)
{
    struct login l;
    PGconn *db;
    int ok;

    if (login_parse(r, &l) < 0)
        return;
    db = req_db(r);
    if (!db || login_throttle(r, db, &l) < 0)
        return;
    /* A guess is reserved from here: it stays counted only if it was a wrong password. */
    ok = login_lookup(r, &l) < 0 ? -1 : login_verify(&l);
    throttle_maybe_prune(db);
    if (ok < 0) {
        throttle_release(db, &l.buckets, &l.attempt, THROTTLE_NOT_CHECKED);
        if (!r->answered)
            req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    if (ok != 1) {
        log_event(LOG_INFO, "login failed", json_pack("{s:s}", "client", l.addr ? l.addr : ""));
        req_error(r, API_ERR_UNAUTHORIZED, LOGIN_FAILED_MSG);
        return;
    }
    throttle_release(db, &l.buckets, &l.attempt, THROTTLE_SUCCESS);
    login_answer(r, &l);
}

/* ---- logout ---- */

/*
 * Revoke token if it verifies (ours, not expired): its jti goes into
 * revoked_sessions until its exp. 0 done or nothing to revoke, -1 database error.
 */
static int revoke_token(struct req *r, PGconn *db, const char *token)
{
    const struct config *cfg = r->app->cfg;
    struct jwt_claims c;
    char exp[32];
    const char *params[3];

    if (!token || !*token)
        return 0;
    if (jwt_verify(token, cfg->jwt_secret, strlen(cfg->jwt_secret), time_now_ms() / 1000, &c) != JWT_OK)
        return 0;   /* forged, expired or garbage: nothing that could be used */
    snprintf(exp, sizeof(exp), "%lld", (long long)(c.exp < EPOCH_MAX_S ? c.exp : EPOCH_MAX_S));
    params[0] = c.jti;
    params[1] = c.sub;
    params[2] = exp;
    if (db_exec(db, "INSERT INTO revoked_sessions (jti, user_id, expires_at)"
                    " VALUES ($1, $2, to_timestamp($3::bigint)) ON CONFLICT (jti) DO NOTHING",
                3, params) < 0)
        return -1;
    /* At once on this instance; the others by the NOTIFY of the insert (migration 0008). */
    principal_cache_forget_session(r->app->principals, c.jti);
    log_event(LOG_INFO, "logout", json_pack("{s:s, s:s}", "user_id", c.sub, "tenant_id", c.tid));
    return 0;
}

static void revoked_maybe_prune(PGconn *db)
{
    if (atomic_fetch_add(&logout_counter, 1) % REVOKED_PRUNE_EVERY != 0)
        return;
    (void)db_exec(db, "DELETE FROM revoked_sessions WHERE expires_at < now() - interval '"
                      REVOKED_PRUNE_MARGIN "'", 0, NULL);
}

/*
 * Public route: a stale or invalid cookie is cleared all the same. A token
 * that verifies (the Bearer one and the cookie, when present) is revoked
 * server-side, so a copy of it stops working too. No same-origin check: a
 * forged logout only logs the victim out, which clearing the cookie did anyway.
 */
void session_logout(struct req *r)
{
    const char *authz = req_header(r, "Authorization");
    const char *bearer = authz ? auth_bearer_token(authz) : NULL;
    const char *cookie = req_cookie(r, AUTH_COOKIE);
    PGconn *db;

    set_session_cookie(r, "", 0);
    if (r->app->cfg->auth_enabled && ((bearer && *bearer) || (cookie && *cookie))) {
        db = req_db(r);
        if (!db)
            return;   /* 503 (with the cookie cleared): the token is still valid */
        if (revoke_token(r, db, bearer) < 0 ||
            (!(bearer && cookie && strcmp(bearer, cookie) == 0) && revoke_token(r, db, cookie) < 0)) {
            req_db_error(r, SESSION_DB_WHAT);
            return;
        }
        revoked_maybe_prune(db);
    }
    req_no_content(r);
}

/* ---- me ---- */

void session_me(struct req *r)
{
    const char *params[2] = {r->principal.user_id, r->principal.tenant_id};
    PGresult *res;
    json_t *user;

    res = rows_query(r,
        "SELECT " AUTH_USER_COLS
        "  FROM users u JOIN tenants t ON t.tenant_id = u.tenant_id"
        " WHERE u.user_id = $1 AND u.tenant_id = $2 AND u.is_active",
        2, params, SESSION_DB_WHAT);
    if (!res)
        return;
    if (PQntuples(res) != 1) {
        req_error(r, API_ERR_UNAUTHORIZED, AUTH_REQUIRED_MSG);
        return;
    }
    user = auth_user_json(res, 0, 0);
    if (!user) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    /* the limits a client should check before sending (docs/api.md) */
    req_json(r, 200, json_pack("{s:o, s:{s:I}}", "user", user,
                               "limits", "max_upload_bytes",
                               (json_int_t)r->app->cfg->max_upload_bytes));
}
