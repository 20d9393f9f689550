/*
 * auth.c - sessions: login, logout, me, and the authenticate hook the server
 * calls for non-public routes (auth.h).
 */
#include "api/auth/auth.h"

#include "api/auth/account.h"
#include "api/auth/jwt.h"
#include "api/auth/password.h"
#include "common/db.h"
#include "common/hash.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/timeutil.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The one body of every failed login, whatever the cause (no account enumeration). */
#define LOGIN_FAILED_MSG "invalid credentials"
/* The one body of every rejected token, whatever the cause. */
#define AUTH_REQUIRED_MSG "authentication required"
/* login_failures rows older than this are pruned: LOGIN_WINDOW's upper bound, so
 * an instance configured with a shorter window never prunes another's rows. */
#define LOGIN_PRUNE_AFTER "1 day"
/* One login in this many also prunes old login_failures rows. */
#define LOGIN_PRUNE_EVERY 32
/* One logout in this many also prunes revoked_sessions rows of expired tokens. */
#define REVOKED_PRUNE_EVERY 32
/* A revoked token's row is kept this long past its exp: jwt_verify accepts a token
 * up to JWT_LEEWAY_S after exp, and instances' clocks may differ from the database's. */
#define REVOKED_PRUNE_MARGIN "5 minutes"
/* 9999-12-31T23:59:59Z: a later exp (INT64_MAX verifies) would overflow to_timestamp. */
#define EPOCH_MAX_S INT64_C(253402300799)

static atomic_uint login_counter;
static atomic_uint logout_counter;
static atomic_flag dev_warned = ATOMIC_FLAG_INIT;

/* ---- cookies ---- */

static void set_session_cookie(struct req *r, const char *token, int64_t max_age_s)
{
    const char *v = arena_printf(&r->arena, AUTH_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld%s",
                                 token, (long long)max_age_s,
                                 r->app->cfg->cookie_secure ? "; Secure" : "");

    if (v)
        req_set_header(r, "Set-Cookie", v);
}

/* ---- failed-login throttle ---- */

/*
 * Seconds until the caller may try again (0: not throttled), or -1 on a
 * database error. A bucket is throttled when it holds max failures inside the
 * window; it opens again when the max-th newest of them (the oldest counted
 * one) leaves the window.
 */
static int64_t throttle_retry_after(struct req *r, PGconn *db, const char *ip_bucket,
                                    const char *acct_bucket)
{
    const struct config *cfg = r->app->cfg;
    char window[32], max[32];
    const char *params[4];
    PGresult *res;
    const char *v;

    snprintf(window, sizeof(window), "%lld", (long long)cfg->login_window_ms);
    snprintf(max, sizeof(max), "%lld", (long long)cfg->login_max_failures);
    params[0] = ip_bucket;
    params[1] = acct_bucket;
    params[2] = window;
    params[3] = max;
    res = arena_pg(&r->arena, db_query(db,
        "SELECT coalesce(max(ceil(extract(epoch FROM"
        "         f.failed_at + $3::bigint * interval '1 millisecond' - now()))), 0)::bigint"
        "  FROM unnest(ARRAY[$1, $2]::text[]) AS b(bucket)"
        " CROSS JOIN LATERAL ("
        "   SELECT l.failed_at FROM login_failures l"
        "    WHERE l.bucket = b.bucket"
        "      AND l.failed_at > now() - $3::bigint * interval '1 millisecond'"
        "    ORDER BY l.failed_at DESC OFFSET $4::int - 1 LIMIT 1) f",
        4, params));
    if (!res)
        return -1;
    v = db_val(res, 0, 0);
    if (!v)
        return 0;
    return strtoll(v, NULL, 10);
}

static void throttle_record_failure(PGconn *db, const char *ip_bucket, const char *acct_bucket)
{
    const char *params[2] = {ip_bucket, acct_bucket};

    /* Best effort: a lost row weakens the throttle a little, it must not fail the request. */
    (void)db_exec(db, "INSERT INTO login_failures (bucket) VALUES ($1), ($2)", 2, params);
}

static void throttle_maybe_prune(PGconn *db)
{
    if (atomic_fetch_add(&login_counter, 1) % LOGIN_PRUNE_EVERY != 0)
        return;
    (void)db_exec(db, "DELETE FROM login_failures WHERE failed_at < now() - interval '"
                      LOGIN_PRUNE_AFTER "'", 0, NULL);
}

/* "acct:" + sha256(lower(tenant) LF lower(email)): fixed size whatever the input. */
static char *account_bucket(struct arena *a, const char *tenant, const char *email)
{
    size_t tl = strlen(tenant), el = strlen(email);
    char *key = arena_alloc(a, tl + 1 + el + 1);
    char hex[HASH_SHA256_HEX_LEN + 1];

    if (!key)
        return NULL;
    for (size_t i = 0; i < tl; i++)
        key[i] = (char)tolower((unsigned char)tenant[i]);
    key[tl] = '\n';
    for (size_t i = 0; i < el; i++)
        key[tl + 1 + i] = (char)tolower((unsigned char)email[i]);
    if (sha256_hex(key, tl + 1 + el, hex) < 0)
        return NULL;
    return arena_printf(a, "acct:%s", hex);
}

/* ---- login / logout / me ---- */

static const char *bearer_token(const char *authz);

static const char *json_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

void auth_login(struct req *r)
{
    const struct config *cfg = r->app->cfg;
    const char *tenant, *email, *password, *addr, *hash = NULL, *active, *cutoff;
    char *ip_bucket, *acct_bucket, *token = NULL;
    const char *params[2];
    struct jwt_claims claims;
    char expires[40], retry[32];
    PGresult *res = NULL;
    json_t *body, *user, *out;
    PGconn *db;
    int64_t wait_s, now_ms, ttl_s, valid_from_s = 0;
    int found = 0, ok = 0;

    body = req_body_json(r);
    if (!body)
        return;
    tenant = json_str(body, "tenant");
    email = json_str(body, "email");
    password = json_str(body, "password");
    if (!tenant || !email || !password) {
        req_error(r, API_ERR_BAD_REQUEST, "tenant, email and password are required strings");
        return;
    }
    db = req_db(r);
    if (!db)
        return;
    addr = req_client_addr(r);
    ip_bucket = arena_printf(&r->arena, "ip:%s", addr ? addr : "unknown");
    acct_bucket = account_bucket(&r->arena, tenant, email);
    if (!ip_bucket || !acct_bucket) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }

    /* The throttle comes before any password work: a throttled guess costs nothing. */
    wait_s = throttle_retry_after(r, db, ip_bucket, acct_bucket);
    if (wait_s < 0) {
        req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
        return;
    }
    if (wait_s > 0) {
        snprintf(retry, sizeof(retry), "%lld", (long long)wait_s);
        req_set_header(r, "Retry-After", retry);
        log_event(LOG_WARN, "login throttled", json_pack("{s:s, s:I}", "client", addr ? addr : "",
                                                          "retry_after_s", (json_int_t)wait_s));
        req_error(r, API_ERR_RATE_LIMITED, "too many failed logins, try again later");
        return;
    }

    /* Inputs the schema cannot hold need no lookup; they still cost one verify below. */
    if (strlen(tenant) <= 63 && auth_email_valid(email)) {
        params[0] = tenant;
        params[1] = email;
        res = arena_pg(&r->arena, db_query(db,
            "SELECT " AUTH_USER_COLS ", u.password_hash,"
            "       ceil(extract(epoch FROM u.sessions_valid_after))::bigint"
            "  FROM users u JOIN tenants t ON t.tenant_id = u.tenant_id"
            " WHERE t.slug = $1 AND lower(u.email) = lower($2)",
            2, params));
        if (!res) {
            req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
            return;
        }
        if (PQntuples(res) == 1) {
            active = db_val(res, 0, 5);
            found = active && active[0] == 't';
            hash = db_val(res, 0, AUTH_USER_NCOLS);
            cutoff = db_val(res, 0, AUTH_USER_NCOLS + 1);
            if (cutoff)
                valid_from_s = strtoll(cutoff, NULL, 10);
        }
    }
    /* Same work whether or not the account exists or is active: comparable timing. */
    if (found) {
        ok = password_verify(hash, password);
    } else {
        password_verify_dummy(password);
        ok = 0;
    }
    throttle_maybe_prune(db);
    if (ok < 0) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    if (ok != 1) {
        throttle_record_failure(db, ip_bucket, acct_bucket);
        log_event(LOG_INFO, "login failed", json_pack("{s:s}", "client", addr ? addr : ""));
        req_error(r, API_ERR_UNAUTHORIZED, LOGIN_FAILED_MSG);
        return;
    }

    params[0] = acct_bucket;
    (void)db_exec(db, "DELETE FROM login_failures WHERE bucket = $1", 1, params);

    now_ms = time_now_ms();
    ttl_s = cfg->session_ttl_ms / 1000;
    memset(&claims, 0, sizeof(claims));
    snprintf(claims.sub, sizeof(claims.sub), "%s", db_val(res, 0, 0));
    snprintf(claims.tid, sizeof(claims.tid), "%s", db_val(res, 0, 1));
    snprintf(claims.role, sizeof(claims.role), "%s", db_val(res, 0, 4));
    id_uuid_new(claims.jti);
    /*
     * iat has whole seconds; sessions_valid_after (a password change, a
     * deactivation) has microseconds, and a token counts only if
     * iat >= that instant. A login in the same second as the cutoff, after
     * it, gets the next whole second as iat (at most 1 s ahead, also when
     * this clock is behind the database's), so it works at once while every
     * token issued before the cutoff, in that second too, stays refused.
     * nbf stays the real time.
     */
    claims.nbf = now_ms / 1000;
    claims.iat = claims.nbf > valid_from_s ? claims.nbf : valid_from_s;
    claims.exp = claims.iat + ttl_s;
    if (jwt_sign(&claims, cfg->jwt_secret, strlen(cfg->jwt_secret), &token) < 0) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    arena_defer(&r->arena, free, token);
    time_format_rfc3339(claims.exp * 1000, expires, sizeof(expires));
    user = auth_user_json(res, 0, 0);
    out = user ? json_pack("{s:o, s:s, s:s}", "user", user, "token", token, "expires_at", expires) : NULL;
    if (!out) {
        req_error(r, API_ERR_INTERNAL, "internal error");
        return;
    }
    set_session_cookie(r, token, ttl_s);
    req_set_header(r, "Cache-Control", "no-store");
    log_event(LOG_INFO, "login", json_pack("{s:s, s:s}", "user_id", claims.sub, "tenant_id", claims.tid));
    req_json(r, 200, out);
}

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
void auth_logout(struct req *r)
{
    const char *authz = req_header(r, "Authorization");
    const char *bearer = authz ? bearer_token(authz) : NULL;
    const char *cookie = req_cookie(r, AUTH_COOKIE);
    PGconn *db;

    set_session_cookie(r, "", 0);
    if (r->app->cfg->auth_enabled && ((bearer && *bearer) || (cookie && *cookie))) {
        db = req_db(r);
        if (!db)
            return;   /* 503 (with the cookie cleared): the token is still valid */
        if (revoke_token(r, db, bearer) < 0 ||
            (!(bearer && cookie && strcmp(bearer, cookie) == 0) && revoke_token(r, db, cookie) < 0)) {
            req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
            return;
        }
        revoked_maybe_prune(db);
    }
    req_no_content(r);
}

void auth_me(struct req *r)
{
    const char *params[2] = {r->principal.user_id, r->principal.tenant_id};
    PGconn *db = req_db(r);
    PGresult *res;
    json_t *user;

    if (!db)
        return;
    res = arena_pg(&r->arena, db_query(db,
        "SELECT " AUTH_USER_COLS
        "  FROM users u JOIN tenants t ON t.tenant_id = u.tenant_id"
        " WHERE u.user_id = $1 AND u.tenant_id = $2 AND u.is_active",
        2, params));
    if (!res) {
        req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
        return;
    }
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

/* ---- middleware ---- */

/* "scheme://host[:port]" of an Origin header -> host[:port], and whether it is https. */
static int origin_authority(const char *origin, const char **auth, int *https)
{
    if (strncasecmp(origin, "http://", 7) == 0) {
        *auth = origin + 7;
        *https = 0;
    } else if (strncasecmp(origin, "https://", 8) == 0) {
        *auth = origin + 8;
        *https = 1;
    } else {
        return -1;   /* includes "null" (opaque origins) */
    }
    if (**auth == '\0' || strpbrk(*auth, "/?#@ "))
        return -1;
    return 0;
}

/*
 * 1 if a cookie-authenticated write comes from our own origin: Origin's
 * host[:port] equals Host (a default port may be left out on either side), or,
 * without Origin, Sec-Fetch-Site is same-origin. Bearer requests never get
 * here: a browser cannot attach that header cross-origin on its own.
 */
static int same_origin(struct req *r)
{
    const char *origin = req_header(r, "Origin");
    const char *host = req_header(r, "Host");
    const char *site, *auth, *default_port;
    size_t al, hl;
    int https;

    if (!origin) {
        site = req_header(r, "Sec-Fetch-Site");
        return site && strcmp(site, "same-origin") == 0;
    }
    if (!host || !*host || origin_authority(origin, &auth, &https) < 0)
        return 0;
    if (strcasecmp(auth, host) == 0)
        return 1;
    /* "http://example.com" vs Host "example.com:80" and the reverse */
    default_port = https ? ":443" : ":80";
    al = strlen(auth);
    hl = strlen(host);
    if (hl == al + strlen(default_port) && strncasecmp(host, auth, al) == 0 &&
        strcmp(host + al, default_port) == 0)
        return 1;
    if (al == hl + strlen(default_port) && strncasecmp(auth, host, hl) == 0 &&
        strcmp(auth + hl, default_port) == 0)
        return 1;
    return 0;
}

static int is_write_method(const char *m)
{
    return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 ||
           strcmp(m, "DELETE") == 0;
}

/*
 * AUTH_ENABLED=false: every request is the oldest active admin of tenant "dev",
 * which `core-api bootstrap --tenant dev ...` must have created.
 */
static int dev_principal(struct req *r)
{
    PGconn *db;
    PGresult *res;

    if (!atomic_flag_test_and_set(&dev_warned))
        log_event(LOG_WARN, "AUTH_ENABLED=false: every request acts as the admin of tenant \"dev\" "
                            "(development only, never in production)", NULL);
    db = req_db(r);
    if (!db)
        return -1;
    res = arena_pg(&r->arena, db_query(db,
        "SELECT t.tenant_id::text, u.user_id::text"
        "  FROM tenants t JOIN users u ON u.tenant_id = t.tenant_id"
        " WHERE t.slug = 'dev' AND u.role = 'admin' AND u.is_active"
        " ORDER BY u.created_at, u.user_id LIMIT 1",
        0, NULL));
    if (!res) {
        req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
        return -1;
    }
    if (PQntuples(res) != 1) {
        req_error(r, API_ERR_UNAUTHORIZED,
                  "AUTH_ENABLED=false needs a tenant \"dev\" with an active admin: run "
                  "`core-api bootstrap --tenant dev --name Dev --email EMAIL` first");
        return -1;
    }
    memset(&r->principal, 0, sizeof(r->principal));
    snprintf(r->principal.tenant_id, sizeof(r->principal.tenant_id), "%s", db_val(res, 0, 0));
    snprintf(r->principal.user_id, sizeof(r->principal.user_id), "%s", db_val(res, 0, 1));
    r->principal.role = ROLE_ADMIN;
    r->principal.via_cookie = 0;
    return 0;
}

/* The bearer token of an Authorization header, or NULL if it is another scheme. */
static const char *bearer_token(const char *authz)
{
    if (strncasecmp(authz, "Bearer", 6) != 0 || (authz[6] != ' ' && authz[6] != '\t'))
        return NULL;
    authz += 7;
    while (*authz == ' ' || *authz == '\t')
        authz++;
    return authz;
}

int auth_authenticate(struct req *r)
{
    const struct config *cfg = r->app->cfg;
    const char *authz, *token = NULL, *role;
    const char *params[4];
    char iat[32];
    struct jwt_claims c;
    enum jwt_err e;
    PGresult *res;
    PGconn *db;
    int via_cookie = 0;

    if (!cfg->auth_enabled)
        return dev_principal(r);

    authz = req_header(r, "Authorization");
    if (authz)
        token = bearer_token(authz);
    if (!token) {
        token = req_cookie(r, AUTH_COOKIE);
        via_cookie = 1;
    }
    if (!token || !*token) {
        req_error(r, API_ERR_UNAUTHORIZED, AUTH_REQUIRED_MSG);
        return -1;
    }
    e = jwt_verify(token, cfg->jwt_secret, strlen(cfg->jwt_secret), time_now_ms() / 1000, &c);
    if (e != JWT_OK) {
        log_event(LOG_INFO, "token rejected", json_pack("{s:s, s:s}", "reason", jwt_err_str(e),
                                                        "via", via_cookie ? "cookie" : "bearer"));
        req_error(r, API_ERR_UNAUTHORIZED, AUTH_REQUIRED_MSG);
        return -1;
    }
    if (via_cookie && is_write_method(r->method) && !same_origin(r)) {
        log_event(LOG_WARN, "cross-origin cookie write refused",
                  json_pack("{s:s, s:s}", "method", r->method, "path", r->path ? r->path : ""));
        req_error(r, API_ERR_FORBIDDEN, "cross-origin request refused");
        return -1;
    }

    /*
     * The row decides, in one query: a deactivated user, a changed role, a
     * logged-out token (revoked_sessions) and a token issued before the
     * user's sessions_valid_after (password change, deactivation) count from
     * now on. iat >= ceil(epoch of the cutoff) is to_timestamp(iat) >= cutoff
     * for a whole-second iat, without to_timestamp's range error on a huge one.
     */
    db = req_db(r);
    if (!db)
        return -1;
    snprintf(iat, sizeof(iat), "%lld", (long long)c.iat);
    params[0] = c.sub;
    params[1] = c.tid;
    params[2] = iat;
    params[3] = c.jti;
    res = arena_pg(&r->arena, db_query(db,
        "SELECT u.role FROM users u"
        " WHERE u.user_id = $1 AND u.tenant_id = $2 AND u.is_active"
        "   AND (u.sessions_valid_after IS NULL"
        "        OR $3::bigint >= ceil(extract(epoch FROM u.sessions_valid_after)))"
        "   AND NOT EXISTS (SELECT 1 FROM revoked_sessions s WHERE s.jti = $4::uuid)",
        4, params));
    if (!res) {
        req_error(r, API_ERR_UNAVAILABLE, "database unavailable");
        return -1;
    }
    if (PQntuples(res) != 1) {
        log_event(LOG_INFO, "token rejected", json_pack("{s:s, s:s}", "reason", "user inactive or gone, or session ended",
                                                        "user_id", c.sub));
        req_error(r, API_ERR_UNAUTHORIZED, AUTH_REQUIRED_MSG);
        return -1;
    }
    role = db_val(res, 0, 0);
    memset(&r->principal, 0, sizeof(r->principal));
    memcpy(r->principal.tenant_id, c.tid, sizeof(r->principal.tenant_id));
    memcpy(r->principal.user_id, c.sub, sizeof(r->principal.user_id));
    r->principal.role = role && strcmp(role, "admin") == 0 ? ROLE_ADMIN : ROLE_USER;
    r->principal.via_cookie = via_cookie;
    return 0;
}
