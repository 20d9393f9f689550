/*
 * core-api [serve|migrate|bootstrap ...|crash-guard ...|config|--help]
 *
 * Exit codes (DESIGN 11): 0 clean stop, 2 bad configuration or usage, 1 anything else.
 */
#include "api/cmd/bootstrap.h"
#include "api/cmd/crash_guard.h"
#include "api/cmd/migrate.h"
#include "api/auth/auth.h"
#include "api/handlers/routes.h"
#include "api/handlers/runs.h"
#include "api/outbox.h"
#include "api/http/server.h"
#include "api/http/static_files.h"
#include "api/listener.h"
#include "api/upload_store.h"
#include "common/config.h"
#include "common/db.h"
#include "common/failpoint.h"
#include "common/takeover.h"
#include "common/log.h"
#include "common/memo.h"
#include "common/principal_cache.h"
#include "common/signals.h"
#include "common/timeutil.h"
#include "common/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static volatile sig_atomic_t stop_requested;

static void usage(FILE *f)
{
    fputs("usage: core-api [command]\n"
          "\n"
          "commands:\n"
          "  serve                 run the HTTP API (default)\n"
          "  migrate               apply db/migrations/*.sql (MIGRATIONS_DIR) to MIGRATE_DATABASE_URL or DATABASE_URL\n"
          "  bootstrap --tenant SLUG --name NAME --email EMAIL\n"
          "                        create a tenant and its first admin (password on stdin or BOOTSTRAP_PASSWORD)\n"
          "  crash-guard [--now TIME]\n"
          "                        run one crash guard scan and exit\n"
          "  config                print every setting, its default and bounds\n"
          "  --help                this text\n",
          f);
}

static int env_true(const char *name)
{
    const char *v = getenv(name);

    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

/* migrate and bootstrap may run without the full configuration: LOG_LEVEL alone. */
static void init_log_from_env(void)
{
    log_init_named("core-api", getenv("LOG_LEVEL"));
}

/* The owner login that runs DDL: MIGRATE_DATABASE_URL, else DATABASE_URL. */
static const char *migrate_url(void)
{
    const char *u = getenv("MIGRATE_DATABASE_URL");

    if (u && *u)
        return u;
    u = getenv("DATABASE_URL");
    return u && *u ? u : NULL;
}

static int cmd_migrate(void)
{
    const char *url = migrate_url();
    char err[512];

    init_log_from_env();
    if (!url) {
        fprintf(stderr, "core-api: DATABASE_URL is required: libpq connection string or URI "
                        "(MIGRATE_DATABASE_URL overrides it for migrate)\n");
        return 2;
    }
    if (migrate_run(url, migrate_default_dir(), err, sizeof(err)) < 0) {
        log_event(LOG_ERROR, "migration failed", json_pack("{s:s}", "error", err));
        fprintf(stderr, "core-api migrate: %s\n", err);
        return 1;
    }
    return 0;
}

static int cmd_bootstrap(int argc, char **argv)
{
    struct config cfg;
    char err[512];

    /*
     * bootstrap only needs the database: with the full API environment use it,
     * otherwise (no JWT_SECRET or queue settings on an operator's shell) fall
     * back to DATABASE_URL alone.
     */
    if (config_load(&cfg, CONFIG_API, err, sizeof(err)) < 0) {
        const char *url = getenv("API_DATABASE_URL");

        if (!url || !*url)
            url = getenv("DATABASE_URL");
        if (!url || !*url) {
            fprintf(stderr, "core-api: DATABASE_URL is required: libpq connection string or URI\n");
            return 2;
        }
        memset(&cfg, 0, sizeof(cfg));
        cfg.database_url = url;
        cfg.log_level = "info";
    }
    init_log_from_env();
    return bootstrap_main(&cfg, argc, argv);
}

static int cmd_crash_guard(int argc, char **argv)
{
    struct config cfg;

    if (config_load_report(&cfg, CONFIG_API, "core-api") < 0)
        return 2;
    log_init_named("core-api", cfg.log_level);
    return crash_guard_main(&cfg, argc, argv);
}

/*
 * The principal cache (unless PRINCIPAL_CACHE_TTL=0), the run read cache
 * (unless RUN_CACHE_TTL=0), the run watchers and the LISTEN thread that feeds
 * them. 0, or -1 (logged) when memory is out.
 */
static int push_start(struct api_app *app, struct listener **l, volatile sig_atomic_t *stop)
{
    const struct config *cfg = app->cfg;

    if (cfg->principal_cache_ttl_ms > 0) {
        app->principals = principal_cache_new((size_t)cfg->principal_cache_size, cfg->principal_cache_ttl_ms);
        if (!app->principals)
            return -1;
    }
    if (cfg->run_cache_ttl_ms > 0) {
        app->run_reads = memo_new((size_t)cfg->run_cache_size, RUN_CACHE_VALUE_MAX, cfg->run_cache_ttl_ms);
        app->list_reads = memo_new(LIST_CACHE_SLOTS, LIST_CACHE_VALUE_MAX, cfg->run_cache_ttl_ms);
        if (!app->run_reads || !app->list_reads)
            return -1;
    }
    app->runs = watch_new();
    if (!app->runs)
        return -1;
    *l = listener_start(app, stop);
    return *l ? 0 : -1;
}

static void push_stop(struct api_app *app, struct listener **l)
{
    listener_stop(l);
    principal_cache_free(&app->principals);
    memo_free(&app->run_reads);
    memo_free(&app->list_reads);
    watch_free(&app->runs);
}

/*
 * RUNNING_TTL against the takeover bound the workers published (common/takeover.h):
 * a warning now; the crash guard applies the larger of the two anyway.
 */
static void check_running_ttl(const struct api_app *app)
{
    PGconn *c = db_pool_acquire(app->db);
    int64_t bound = c ? takeover_bound_seen(c) : -1;

    if (c)
        db_pool_release(app->db, c);
    if (bound < 0)
        log_event(LOG_WARN, "cannot read the workers' takeover bound (database unreachable); checked again in /readyz",
                  NULL);
    else
        takeover_warn_if_short(app->cfg->running_ttl_ms, bound);
}

static int cmd_serve(void)
{
    struct listener *listener = NULL;
    struct config cfg;
    struct api_app app;
    char err[512];
    int rc = 1;
    int guard = 0, outbox = 0;
    const struct server_hooks hooks = {
        .routes = api_routes,
        .nroutes = api_routes_count,
        .authenticate = auth_authenticate,
        .fallback = static_serve,
    };

    if (config_load_report(&cfg, CONFIG_API, "core-api") < 0)
        return 2;
    log_init_named("core-api", cfg.log_level);

    if (!cfg.auth_enabled) {
        for (int i = 0; i < 3; i++)
            log_event(LOG_WARN, "!!! AUTH_ENABLED=false: AUTHENTICATION IS OFF, every request acts as a dev admin. "
                                "Development only - never expose this instance !!!",
                      json_pack("{s:b}", "auth_enabled", 0));
    }

    if (env_true("MIGRATE_ON_START")) {
        const char *url = migrate_url();

        if (!url)
            url = cfg.database_url;
        if (migrate_run(url, migrate_default_dir(), err, sizeof(err)) < 0) {
            log_event(LOG_ERROR, "migration at start failed", json_pack("{s:s}", "error", err));
            return 1;
        }
    }

    memset(&app, 0, sizeof(app));
    app.cfg = &cfg;
    app.started_ms = time_now_ms();
    upload_store_configure(&cfg);   /* UPLOAD_STORE=s3: uploads stream to S3 */
    app.db = db_pool_new(cfg.database_url, DB_ROLE_API, (int)cfg.db_pool_size, cfg.db_acquire_timeout_ms);
    if (!app.db) {
        log_event(LOG_ERROR, "out of memory creating the database pool", NULL);
        return 1;
    }

    signals_install(&stop_requested);

    if (crash_guard_start(&app) < 0) {
        log_event(LOG_ERROR, "cannot start the crash guard", NULL);
        goto out;
    }
    guard = 1;
    if (push_start(&app, &listener, &stop_requested) < 0) {
        log_event(LOG_ERROR, "cannot start the principal cache and run watchers", NULL);
        goto out;
    }
    if (outbox_start(&app) < 0) {
        log_event(LOG_ERROR, "cannot start the outbox publisher", NULL);
        goto out;
    }
    outbox = 1;
    check_running_ttl(&app);
    if (failpoint_compiled_in() && getenv("FAILPOINTS") && *getenv("FAILPOINTS"))
        log_event(LOG_WARN, "failpoints armed (tests only)", json_pack("{s:s}", "FAILPOINTS", getenv("FAILPOINTS")));
    log_event(LOG_INFO, "core-api starting",
              json_pack("{s:s,s:b,s:s,s:I}", "http_addr", cfg.http_addr, "auth_enabled", cfg.auth_enabled,
                        "web_dir", cfg.web_dir, "db_pool_size", (json_int_t)cfg.db_pool_size));
    if (server_run(&app, &hooks, &stop_requested) < 0) {
        fprintf(stderr, "core-api: cannot serve on %s (see the log above)\n", cfg.http_addr);
        goto out;
    }
    rc = 0;
out:
    if (outbox)
        outbox_stop();
    if (guard)
        crash_guard_stop();
    push_stop(&app, &listener);
    db_pool_free(&app.db);
    log_event(LOG_INFO, "core-api stopped", json_pack("{s:i}", "exit_code", rc));
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "serve";

    if (strcmp(cmd, "serve") == 0) {
        if (argc > 2) {
            usage(stderr);
            return 2;
        }
        return cmd_serve();
    }
    if (strcmp(cmd, "migrate") == 0)
        return argc > 2 ? (usage(stderr), 2) : cmd_migrate();
    if (strcmp(cmd, "bootstrap") == 0)
        return cmd_bootstrap(argc - 2, argv + 2);
    if (strcmp(cmd, "crash-guard") == 0)
        return cmd_crash_guard(argc - 2, argv + 2);
    if (strcmp(cmd, "config") == 0) {
        config_print_table(CONFIG_API);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "core-api: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
