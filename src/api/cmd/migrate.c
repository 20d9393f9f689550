/* migrate.c - see migrate.h. Migration files are trusted (they ship with the binary), so each is sent whole with PQexec. */
#include "api/cmd/migrate.h"
#include "common/buf.h"
#include "common/db.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATION_FILE_MAX ((size_t)16 << 20)

const char *migrate_default_dir(void)
{
    const char *d = getenv("MIGRATIONS_DIR");

    return d && *d ? d : "db/migrations";
}

/* Server NOTICEs ("relation already exists, skipping") go to the log, not raw to stderr. */
static void on_notice(void *arg, const char *message)
{
    char line[512];

    (void)arg;
    snprintf(line, sizeof(line), "%s", message);
    line[strcspn(line, "\n")] = '\0';
    log_event(LOG_DEBUG, "migrate: server notice", json_pack("{s:s}", "notice", line));
}

static int is_sql_file(const struct dirent *e)
{
    size_t n = strlen(e->d_name);

    return e->d_name[0] != '.' && n > 4 && strcmp(e->d_name + n - 4, ".sql") == 0;
}

/* Run sql (no parameters) and require success; on failure err gets the server's message. */
static int exec_plain(PGconn *c, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s: %s", what, res ? PQresultErrorMessage(res) : PQerrorMessage(c));
        err[strcspn(err, "\n")] = '\0';
        rc = -1;
    }
    PQclear(res);
    return rc;
}

static int read_file(const char *path, struct buf *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t n;
    int rc = 0;

    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_add(out, chunk, n) < 0) {
            snprintf(err, errlen, "%s: larger than %zu bytes", path, (size_t)MIGRATION_FILE_MAX);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "cannot read %s", path);
        rc = -1;
    }
    fclose(f);
    if (rc == 0 && buf_add(out, "", 0) < 0)
        rc = -1;
    return rc;
}

/* Apply one file with its schema_migrations row in one transaction. 1 applied, 0 already, -1 error. */
static int apply_one(PGconn *c, const char *dir, const char *name, char *err, size_t errlen)
{
    char version[256];
    char path[4096];
    const char *params[1];
    PGresult *res;
    struct buf sql;
    int rc = -1;
    size_t n = strlen(name) - 4;

    if (n >= sizeof(version)) {
        snprintf(err, errlen, "migration file name too long: %s", name);
        return -1;
    }
    memcpy(version, name, n);
    version[n] = '\0';
    params[0] = version;
    res = db_query(c, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, params);
    if (!res) {
        snprintf(err, errlen, "cannot read schema_migrations");
        return -1;
    }
    n = (size_t)PQntuples(res);
    PQclear(res);
    if (n > 0)
        return 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    buf_init(&sql, MIGRATION_FILE_MAX);
    if (read_file(path, &sql, err, errlen) < 0)
        goto out;
    if (exec_plain(c, "BEGIN", "BEGIN", err, errlen) < 0)
        goto out;
    if (exec_plain(c, sql.ptr ? sql.ptr : "", name, err, errlen) < 0 ||
        db_exec(c, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, params) < 0) {
        if (!err[0])
            snprintf(err, errlen, "%s: cannot record the migration", name);
        db_tx_rollback(c);
        goto out;
    }
    if (db_tx_commit(c) < 0) {
        snprintf(err, errlen, "%s: COMMIT failed", name);
        goto out;
    }
    log_event(LOG_INFO, "migration applied", json_pack("{s:s}", "version", version));
    rc = 1;
out:
    buf_release(&sql);
    return rc;
}

int migrate_run(const char *url, const char *dir, char *err, size_t errlen)
{
    struct dirent **names = NULL;
    PGconn *c = NULL;
    int count = -1;
    int applied = 0;
    int rc = -1;
    int locked = 0;
    char lock_key[24];
    const char *lock_params[1] = {lock_key};

    err[0] = '\0';
    c = db_connect(url, NULL, err, errlen);
    if (!c)
        goto out;
    PQsetNoticeProcessor(c, on_notice, NULL);
    snprintf(lock_key, sizeof(lock_key), "%lld", (long long)MIGRATE_LOCK_KEY);
    if (db_exec(c, "SELECT pg_advisory_lock($1::bigint)", 1, lock_params) < 0) {
        snprintf(err, errlen, "advisory lock: %s", PQerrorMessage(c));
        goto out;
    }
    locked = 1;
    if (exec_plain(c,
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version text PRIMARY KEY,"
                   " applied_at timestamptz NOT NULL DEFAULT now())",
                   "create schema_migrations", err, errlen) < 0)
        goto out;
    count = scandir(dir, &names, is_sql_file, alphasort);
    if (count < 0) {
        snprintf(err, errlen, "cannot read migrations directory %s: %s", dir, strerror(errno));
        goto out;
    }
    for (int i = 0; i < count; i++) {
        int one = apply_one(c, dir, names[i]->d_name, err, errlen);

        if (one < 0)
            goto out;
        applied += one;
    }
    log_event(LOG_INFO, applied ? "migrations done" : "migrations: database up to date",
              json_pack("{s:i,s:i,s:s}", "applied", applied, "files", count, "dir", dir));
    rc = 0;
out:
    if (locked && c && PQstatus(c) == CONNECTION_OK) {
        db_exec(c, "SELECT pg_advisory_unlock($1::bigint)", 1, lock_params);
    }
    for (int i = 0; i < count; i++)
        free(names[i]);
    free(names);
    db_close(&c);
    return rc;
}
