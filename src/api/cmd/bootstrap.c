/*
 * bootstrap.c - `core-api bootstrap --tenant SLUG --name NAME --email EMAIL
 *               [--role admin|user] [--reset-password]`
 *
 * The only way to create a tenant and its first admin (there is no
 * unauthenticated HTTP endpoint for it). The password comes from
 * BOOTSTRAP_PASSWORD or, if that is unset or empty, from the first line of
 * standard input, never from the command line (visible in ps).
 *
 * Idempotent: the tenant is looked up by slug and created if missing (an
 * existing tenant keeps its name); the user is created if (tenant,
 * lower(email)) is new, else left exactly as it is, password included, so a
 * repeated run changes nothing. --reset-password is the recovery path: it
 * sets the password of the existing user, re-activates it and gives it the
 * requested role, and ends the user's existing sessions (sessions_valid_after).
 *
 * Exit codes: 0 done (created or already there), 2 usage or invalid input,
 * 1 anything else (database unreachable, query failed).
 */
#include "api/cmd/bootstrap.h"

#include "api/auth/account.h"
#include "api/auth/password.h"
#include "common/config.h"
#include "common/db.h"
#include "common/ids.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bootstrap_args {
    const char *tenant;
    const char *name;
    const char *email;
    const char *role;
    int reset_password;
};

static void usage(void)
{
    fprintf(stderr,
            "usage: core-api bootstrap --tenant SLUG --name NAME --email EMAIL [--role admin|user]\n"
            "                          [--reset-password]\n"
            "  password: BOOTSTRAP_PASSWORD, else the first line of standard input\n");
}

static int slug_valid(const char *s)
{
    size_t n = strlen(s);

    if (n < 1 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);

        if (!ok)
            return 0;
    }
    return 1;
}

static int parse_args(int argc, char **argv, struct bootstrap_args *a)
{
    struct { const char *name; const char **slot; } opts[] = {
        {"--tenant", &a->tenant}, {"--name", &a->name}, {"--email", &a->email}, {"--role", &a->role},
    };
    const char *arg, *eq;
    size_t n, k;
    int i = 0;

    a->tenant = a->name = a->email = NULL;
    a->role = "admin";
    a->reset_password = 0;
    /* Accept argv with or without the subcommand itself in front. */
    if (argc > 0 && strcmp(argv[0], "bootstrap") == 0)
        i = 1;
    for (; i < argc; i++) {
        arg = argv[i];
        if (strcmp(arg, "--reset-password") == 0) {
            a->reset_password = 1;
            continue;
        }
        /* "--name VALUE" or "--name=VALUE" */
        eq = strchr(arg, '=');
        n = eq ? (size_t)(eq - arg) : strlen(arg);
        for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
            if (strlen(opts[k].name) == n && strncmp(arg, opts[k].name, n) == 0)
                break;
        }
        if (k == sizeof(opts) / sizeof(opts[0])) {
            fprintf(stderr, "bootstrap: unknown argument: %s\n", arg);
            return -1;
        }
        if (eq) {
            *opts[k].slot = eq + 1;
        } else if (i + 1 < argc) {
            i++;
            *opts[k].slot = argv[i];
        } else {
            fprintf(stderr, "bootstrap: %s needs a value\n", arg);
            return -1;
        }
    }
    if (!a->tenant || !a->name || !a->email) {
        fprintf(stderr, "bootstrap: --tenant, --name and --email are required\n");
        return -1;
    }
    if (!slug_valid(a->tenant)) {
        fprintf(stderr, "bootstrap: --tenant must match ^[a-z0-9][a-z0-9-]{0,62}$\n");
        return -1;
    }
    if (!*a->name || strlen(a->name) > 200) {
        fprintf(stderr, "bootstrap: --name must be 1 to 200 bytes\n");
        return -1;
    }
    if (!auth_email_valid(a->email)) {
        fprintf(stderr, "bootstrap: --email is not a valid email address\n");
        return -1;
    }
    if (!auth_role_valid(a->role)) {
        fprintf(stderr, "bootstrap: --role must be admin or user\n");
        return -1;
    }
    return 0;
}

/* The password into pw (pwlen bytes); 0, or -1 with a message printed. */
static int read_password(char *pw, size_t pwlen)
{
    const char *env = getenv("BOOTSTRAP_PASSWORD");
    size_t n;

    if (env && *env) {
        if (strlen(env) >= pwlen) {
            fprintf(stderr, "bootstrap: BOOTSTRAP_PASSWORD is longer than %d bytes\n", PASSWORD_MAX_BYTES);
            return -1;
        }
        snprintf(pw, pwlen, "%s", env);
        return 0;
    }
    if (!fgets(pw, (int)pwlen, stdin)) {
        fprintf(stderr, "bootstrap: no password: set BOOTSTRAP_PASSWORD or write it on standard input\n");
        return -1;
    }
    n = strcspn(pw, "\r\n");
    if (pw[n] == '\0' && n == pwlen - 1) {
        fprintf(stderr, "bootstrap: the password line is longer than %d bytes\n", PASSWORD_MAX_BYTES);
        return -1;
    }
    pw[n] = '\0';
    return 0;
}

/* One run: the arguments, the password and its hash (both wiped at the end), what was found. */
struct bootstrap {
    struct bootstrap_args a;
    char pw[PASSWORD_MAX_BYTES + 2];
    char hash[PASSWORD_ENCODED_MAX];
    const char *url;
    char tenant_id[ID_UUID_LEN + 1];
    int user_created;
};

/*
 * Everything that needs no database: the password read and checked, the
 * database URL found, the password hashed (Argon2 before connecting: no
 * connection or transaction waits on it). 0, or the exit code (2 bad input,
 * 1 failure) with a message printed.
 */
static int bootstrap_prepare(const struct config *cfg, struct bootstrap *b)
{
    const char *why;

    if (read_password(b->pw, sizeof(b->pw)) < 0)
        return 2;
    if (password_check(b->pw, &why) < 0) {
        fprintf(stderr, "bootstrap: %s\n", why);
        return 2;
    }
    b->url = cfg && cfg->database_url && *cfg->database_url ? cfg->database_url : getenv("DATABASE_URL");
    if (!b->url || !*b->url) {
        fprintf(stderr, "bootstrap: DATABASE_URL is not set\n");
        return 2;
    }
    if (password_hash(b->pw, b->hash, sizeof(b->hash)) < 0) {
        fprintf(stderr, "bootstrap: cannot hash the password\n");
        return 1;
    }
    return 0;
}

/* The id of the tenant with slug params[0] into b->tenant_id ("" if none): 0 or -1. */
static int tenant_by_slug(PGconn *db, const char *const *params, struct bootstrap *b)
{
    PGresult *res = db_query(db, "SELECT tenant_id_by_slug($1)::text", 1, params);

    if (!res)
        return -1;
    snprintf(b->tenant_id, sizeof(b->tenant_id), "%s", db_val(res, 0, 0) ? db_val(res, 0, 0) : "");
    PQclear(res);
    return 0;
}

/*
 * The tenant by slug, created if missing (an existing one keeps its name), its
 * id into b and the connection's tenant set to it (row-level security: core_api
 * sees only that tenant's rows; tenant_id_by_slug() is the one lookup across
 * tenants). A new tenant's id is made here so it can be set before the insert.
 * 0 or -1.
 */
static int ensure_tenant(PGconn *db, struct bootstrap *b)
{
    const char *params[3] = {b->a.tenant, b->a.name, b->tenant_id};
    PGresult *res;
    int created = 0;

    if (tenant_by_slug(db, params, b) < 0)
        return -1;
    if (!b->tenant_id[0]) {
        id_uuid_new(b->tenant_id);
        res = db_set_tenant(db, b->tenant_id) < 0 ? NULL
              : db_query(db, "INSERT INTO tenants (tenant_id, slug, name) VALUES ($3, $1, $2)"
                             " ON CONFLICT (slug) DO NOTHING", 3, params);
        if (!res)
            return -1;
        created = strcmp(PQcmdTuples(res), "1") == 0;
        PQclear(res);
        /* Another bootstrap created the slug meanwhile: take its tenant. */
        if (!created && tenant_by_slug(db, params, b) < 0)
            return -1;
    }
    if (db_set_tenant(db, b->tenant_id) < 0)
        return -1;
    params[1] = b->tenant_id;
    res = db_query(db, "SELECT tenant_id::text, name FROM tenants WHERE slug = $1 AND tenant_id = $2", 2, params);
    if (!res || PQntuples(res) != 1) {
        PQclear(res);
        return -1;
    }
    snprintf(b->tenant_id, sizeof(b->tenant_id), "%s", db_val(res, 0, 0));
    printf("tenant %s (%s): %s\n", b->a.tenant, b->tenant_id, created ? "created" : "exists");
    if (!created && strcmp(db_val(res, 0, 1), b->a.name) != 0)
        fprintf(stderr, "bootstrap: note: tenant %s keeps its name \"%s\"\n", b->a.tenant, db_val(res, 0, 1));
    PQclear(res);
    return 0;
}

/* Print what became of the user, as the transaction now sees it. 0 or -1. */
static int report_user(PGconn *db, const struct bootstrap *b)
{
    const char *params[2] = {b->tenant_id, b->a.email};
    PGresult *u = db_query(db, "SELECT user_id::text, role, is_active FROM users"
                               " WHERE tenant_id = $1 AND lower(email) = lower($2)", 2, params);

    if (!u || PQntuples(u) != 1) {
        PQclear(u);
        return -1;
    }
    printf("user %s (%s): %s, role %s%s\n", b->a.email, db_val(u, 0, 0),
           b->user_created ? "created" : b->a.reset_password ? "password reset" : "exists, left unchanged",
           db_val(u, 0, 1), db_val(u, 0, 2)[0] == 't' ? "" : ", inactive");
    if (!b->user_created && !b->a.reset_password)
        fprintf(stderr, "bootstrap: note: %s already exists; its password was not changed "
                        "(use --reset-password to set it)\n", b->a.email);
    PQclear(u);
    return 0;
}

/* The user (tenant, lower(email)): created if new, reset with --reset-password, else left alone. 0 or -1. */
static int ensure_user(PGconn *db, struct bootstrap *b)
{
    const char *params[4] = {b->tenant_id, b->a.email, b->hash, b->a.role};
    PGresult *ins = db_query(db,
        "INSERT INTO users (tenant_id, email, password_hash, role) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (tenant_id, lower(email)) DO NOTHING RETURNING user_id::text",
        4, params);

    if (!ins)
        return -1;
    b->user_created = PQntuples(ins) == 1;
    PQclear(ins);
    if (!b->user_created && b->a.reset_password &&
        db_exec(db,
                "UPDATE users SET password_hash = $3, role = $4, is_active = true,"
                "       sessions_valid_after = now(), updated_at = now()"
                " WHERE tenant_id = $1 AND lower(email) = lower($2)",
                4, params) < 0)
        return -1;
    return report_user(db, b);
}

/* Tenant and user in one transaction. 0, or 1 with a message printed (nothing was changed). */
static int bootstrap_apply(struct bootstrap *b)
{
    char err[512];
    PGconn *db = db_connect(b->url, DB_ROLE_API, err, sizeof(err));
    int rc = 1;

    if (!db) {
        fprintf(stderr, "bootstrap: %s\n", err);
        return 1;
    }
    if (db_tx_begin(db) == 0 && ensure_tenant(db, b) == 0 && ensure_user(db, b) == 0 && db_tx_commit(db) == 0) {
        rc = 0;
    } else {
        fprintf(stderr, "bootstrap: database error (SQLSTATE %s); nothing was changed\n",
                db_last_sqlstate()[0] ? db_last_sqlstate() : "unknown");
        db_tx_rollback(db);
    }
    db_close(&db);
    return rc;
}

int bootstrap_main(const struct config *cfg, int argc, char **argv)
{
    struct bootstrap b;
    int rc;

    memset(&b, 0, sizeof(b));
    if (parse_args(argc, argv, &b.a) < 0) {
        usage();
        return 2;
    }
    rc = bootstrap_prepare(cfg, &b);
    if (rc == 0)
        rc = bootstrap_apply(&b);
    OPENSSL_cleanse(b.pw, sizeof(b.pw));
    OPENSSL_cleanse(b.hash, sizeof(b.hash));
    return rc;
}
