/*
 * auth.c - the authenticate hook (auth.h): who is calling, from the verified
 * session token and the user's current row (or its cached check,
 * common/principal_cache.h), and the CSRF rule for cookie writes.
 */
#include "api/auth/auth.h"

#include "api/auth/jwt.h"
#include "common/db.h"
#include "common/log.h"
#include "common/principal_cache.h"
#include "common/timeutil.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The message of a statement error that is the request's fault (req_db_error). */
#define AUTH_DB_WHAT "invalid session token"

static atomic_flag dev_warned = ATOMIC_FLAG_INIT;

/*
 * The role of the token's user ($1 sub, $2 tid, $3 iat, $4 jti) if the
 * session still counts. The row decides, in one query: a deactivated user, a
 * changed role, a logged-out token (revoked_sessions) and a token issued
 * before the user's sessions_valid_after (password change, deactivation)
 * count from now on. iat >= ceil(epoch of the cutoff) is to_timestamp(iat) >=
 * cutoff for a whole-second iat, without to_timestamp's range error on a
 * huge one.
 */
static struct db_stmt principal_stmt = {
    "SELECT u.role FROM users u"
    " WHERE u.user_id = $1 AND u.tenant_id = $2 AND u.is_active"
    "   AND (u.sessions_valid_after IS NULL"
    "        OR $3::bigint >= ceil(extract(epoch FROM u.sessions_valid_after)))"
    "   AND NOT EXISTS (SELECT 1 FROM revoked_sessions s WHERE s.jti = $4::uuid)", 0};

/*
 * AUTH_ENABLED=false: the tenant and user ids of the oldest active admin of
 * tenant "dev" ($1, its id from tenant_id_by_slug()).
 */
static const char dev_admin_sql[] =
    "SELECT t.tenant_id::text, u.user_id::text"
    "  FROM tenants t JOIN users u ON u.tenant_id = t.tenant_id"
    " WHERE t.slug = 'dev' AND t.tenant_id = $1 AND u.role = 'admin' AND u.is_active"
    " ORDER BY u.created_at, u.user_id LIMIT 1";

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
 * Run sql for the caller's row into *res (zero or more rows: the caller
 * decides what none means). 0, or -1 after answering (database down or the
 * statement failed).
 */
static int principal_query(struct req *r, const char *sql, int n, const char *const *params, PGresult **res)
{
    PGconn *db = req_db(r);

    if (!db)
        return -1;
    *res = arena_pg(&r->arena, db_query(db, sql, n, params));
    if (!*res) {
        req_db_error(r, AUTH_DB_WHAT);
        return -1;
    }
    return 0;
}

/*
 * Row-level security: the request's connection sees tenant_id's rows only
 * from here on (a token's tid is signed by us, and the principal query then
 * checks the user belongs to it). 0, or -1 after answering.
 */
static int principal_tenant(struct req *r, const char *tenant_id)
{
    PGconn *db = req_db(r);

    if (!db)
        return -1;
    if (db_set_tenant(db, tenant_id) < 0) {
        req_db_error(r, AUTH_DB_WHAT);
        return -1;
    }
    return 0;
}

/*
 * AUTH_ENABLED=false: every request is the oldest active admin of tenant "dev",
 * which `core-api bootstrap --tenant dev ...` must have created.
 */
static int dev_principal(struct req *r)
{
    const char *params[1];
    PGresult *res;

    if (!atomic_flag_test_and_set(&dev_warned))
        log_event(LOG_WARN, "AUTH_ENABLED=false: every request acts as the admin of tenant \"dev\" "
                            "(development only, never in production)", NULL);
    /* Before any principal: the one cross-tenant lookup, by slug (0006_rls.sql). */
    if (principal_query(r, "SELECT tenant_id_by_slug('dev')::text", 0, NULL, &res) < 0)
        return -1;
    params[0] = db_val(res, 0, 0);
    if (params[0] && (principal_tenant(r, params[0]) < 0 || principal_query(r, dev_admin_sql, 1, params, &res) < 0))
        return -1;
    if (!params[0] || PQntuples(res) != 1) {
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

const char *auth_bearer_token(const char *authz)
{
    if (strncasecmp(authz, "Bearer", 6) != 0 || (authz[6] != ' ' && authz[6] != '\t'))
        return NULL;
    authz += 7;
    while (*authz == ' ' || *authz == '\t')
        authz++;
    return authz;
}

/*
 * The verified claims of the request's token into *c, from the bearer token
 * or else the session cookie (*via_cookie set), with the CSRF rule for
 * cookie writes applied. 0, or -1 after answering 401 or 403.
 */
static int token_claims(struct req *r, struct jwt_claims *c, int *via_cookie)
{
    const struct config *cfg = r->app->cfg;
    const char *authz = req_header(r, "Authorization");
    const char *token = authz ? auth_bearer_token(authz) : NULL;
    enum jwt_err e;

    *via_cookie = !token;
    if (!token)
        token = req_cookie(r, AUTH_COOKIE);
    if (!token || !*token) {
        req_error(r, API_ERR_UNAUTHORIZED, AUTH_REQUIRED_MSG);
        return -1;
    }
    e = jwt_verify(token, cfg->jwt_secret, strlen(cfg->jwt_secret), time_now_ms() / 1000, c);
    if (e != JWT_OK) {
        log_event(LOG_INFO, "token rejected", json_pack("{s:s, s:s}", "reason", jwt_err_str(e),
                                                        "via", *via_cookie ? "cookie" : "bearer"));
        req_error(r, API_ERR_UNAUTHORIZED, AUTH_REQUIRED_MSG);
        return -1;
    }
    if (*via_cookie && is_write_method(r->method) && !same_origin(r)) {
        log_event(LOG_WARN, "cross-origin cookie write refused",
                  json_pack("{s:s, s:s}", "method", r->method, "path", r->path ? r->path : ""));
        req_error(r, API_ERR_FORBIDDEN, "cross-origin request refused");
        return -1;
    }
    return 0;
}

/* Fill r->principal from the verified claims and the role. */
static void principal_set(struct req *r, const struct jwt_claims *c, enum role role, int via_cookie)
{
    memset(&r->principal, 0, sizeof(r->principal));
    memcpy(r->principal.tenant_id, c->tid, sizeof(r->principal.tenant_id));
    memcpy(r->principal.user_id, c->sub, sizeof(r->principal.user_id));
    r->principal.role = role;
    r->principal.via_cookie = via_cookie;
}

/*
 * The role of c's session from the database (principal_stmt) into *role, and
 * into the cache. The connection is taken with the token's tenant already
 * set (a pooled one that has it costs no statement), so this is one round
 * trip. 0, or -1 after answering.
 */
static int principal_read(struct req *r, const struct jwt_claims *c, enum role *role)
{
    struct principal_cache *pc = r->app->principals;
    uint64_t gen = principal_cache_gen(pc, c->jti);
    const char *params[4], *v;
    char iat[32];
    PGresult *res;
    PGconn *db;

    /* Row-level security: the token's tid is signed by us; the statement then checks the user belongs to it. */
    memcpy(r->principal.tenant_id, c->tid, sizeof(r->principal.tenant_id));
    db = req_db(r);
    if (!db)
        return -1;
    snprintf(iat, sizeof(iat), "%lld", (long long)c->iat);
    params[0] = c->sub;
    params[1] = c->tid;
    params[2] = iat;
    params[3] = c->jti;
    res = arena_pg(&r->arena, db_query_prepared(db, &principal_stmt, 4, params));
    if (!res) {
        req_db_error(r, AUTH_DB_WHAT);
        return -1;
    }
    if (PQntuples(res) != 1) {
        log_event(LOG_INFO, "token rejected", json_pack("{s:s, s:s}", "reason", "user inactive or gone, or session ended",
                                                        "user_id", c->sub));
        req_error(r, API_ERR_UNAUTHORIZED, AUTH_REQUIRED_MSG);
        return -1;
    }
    v = db_val(res, 0, 0);
    *role = v && strcmp(v, "admin") == 0 ? ROLE_ADMIN : ROLE_USER;
    principal_cache_put(pc, gen, c->jti, c->sub, c->tid, (int)*role, time_now_ms(),
                        c->exp < INT64_MAX / 1000 ? c->exp * 1000 : INT64_MAX);
    return 0;
}

/* auth_authenticate() but for the connection, which it may leave held. */
static int authenticate(struct req *r)
{
    struct jwt_claims c;
    int via_cookie, cached;
    enum role role;
    int rc;

    if (!r->app->cfg->auth_enabled)
        return dev_principal(r);
    if (token_claims(r, &c, &via_cookie) < 0)
        return -1;
    rc = 0;
    if (principal_cache_get(r->app->principals, c.jti, c.sub, c.tid, time_now_ms(), &cached))
        role = (enum role)cached;
    else
        rc = principal_read(r, &c, &role);
    if (rc < 0) {
        memset(&r->principal, 0, sizeof(r->principal));
        return -1;
    }
    principal_set(r, &c, role, via_cookie);
    return 0;
}

int auth_authenticate(struct req *r)
{
    int rc = authenticate(r);

    /* The server reads the body next, at the client's pace: the pool must not wait for it. */
    req_db_release(r);
    return rc;
}
