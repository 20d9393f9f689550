/*
 * crash_guard.c - no run stays stuck forever (spec 6, DESIGN 7).
 *
 * One scan, under a session advisory lock so that one core-api instance scans
 * at a time (the others skip), with its own connection and SQS client:
 *  (a) a run queued longer than QUEUED_TTL (by updated_at, which each
 *      re-publication moves) is re-published with the spec 4.5 message: its
 *      message may have been lost between commit and publish, or may just wait
 *      in a backlog, and the worker's atomic queued->running transition makes
 *      duplicates harmless. It fails stale_queued only when its upload file is
 *      gone or after QUEUED_MAX_REPUBLISH re-publications;
 *  (b) a run running whose heartbeat (updated_at) is older than RUNNING_TTL
 *      fails stale_running; never sooner than the takeover bound the workers
 *      published (common/takeover.h), so a short RUNNING_TTL cannot fail runs
 *      another worker is about to take over;
 *  (c) upload folders UPLOAD_DIR/<tenant>/<run>/ whose newest mtime is older
 *      than UPLOAD_ORPHAN_GRACE (with UPLOAD_STORE=s3: objects of the upload
 *      store older than that, upload_orphans_s3.h) are removed when no policy keeps them
 *      (upload_folder_policy: no run row, i.e. a crash between write and
 *      commit; a failed run ended longer than FAILED_UPLOAD_RETENTION ago; a
 *      skipped run; a succeeded run under UPLOAD_RETENTION=delete), never
 *      while a queued or running run names a file in it;
 *  (d) Idempotency-Key rows older than 24 h are deleted: stored answers and
 *      pending claims alike (a claim older than 1 h is already taken over by
 *      the next request with its key, see ingest.c).
 * Every change is conditional on the run still being in the state it was
 * found in. Time comes from the caller (now_ms) and is passed to SQL as a
 * parameter, never now(), so tests inject it instead of sleeping.
 *
 * Row-level security (db/migrations/0006_rls.sql) shows core_api one tenant
 * at a time, so the guard works tenant by tenant: (a) and (b) ask
 * stale_run_tenants() which tenants have stale runs and set each one before
 * touching its runs; (c) sets the tenant of each tenant folder; (d) calls
 * expire_idempotency_keys(). Those two functions are its only look across
 * tenants, and they return ids and counts, never a row.
 */
#include "api/cmd/crash_guard.h"

#include "api/publish.h"
#include "api/source_sync.h"
#include "api/upload_orphans_s3.h"
#include "common/config.h"
#include "common/db.h"
#include "common/errors.h"
#include "common/job_msg.h"
#include "common/log.h"
#include "common/run_state.h"
#include "common/sqs.h"
#include "common/takeover.h"
#include "common/ticker.h"
#include "common/timeutil.h"
#include "common/upload_path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* pg advisory lock key of the crash guard ("crashgrd" in ASCII). */
#define CRASH_GUARD_LOCK_KEY "7165064482919916644"
#define CRASH_GUARD_BATCH "1000"
#define CRASH_GUARD_SQS_TIMEOUT_MS 5000

struct scan_stats {
    int skipped;          /* another instance held the lock */
    int republished;
    int stale_queued;
    int stale_running;
    int orphans_removed;
    int uploads_removed;  /* of failed (past retention), skipped, or succeeded (UPLOAD_RETENTION=delete) runs */
    int publish_errors;
    int syncs_scheduled;  /* source syncs the schedule started (docs/sources.md) */
};

static struct sqs_client *guard_sqs_new(const struct config *cfg)
{
    struct sqs_config sc = config_sqs(cfg, CRASH_GUARD_SQS_TIMEOUT_MS);

    return sqs_new(&sc);
}

static void ms_text(int64_t ms, char *out, size_t n)
{
    snprintf(out, n, "%lld", (long long)ms);
}

/* Fail a queued run (only if still queued): 1 if it was failed now, 0 if not, -1 on database trouble. */
static int fail_queued(PGconn *db, const char *run_id, const char *tenant_id, const char *detail, int64_t now_ms)
{
    char error[128];
    int changed;

    run_error_text(RUN_FAIL_STALE_QUEUED, detail, error, sizeof(error));
    changed = run_fail_queued(db, run_id, tenant_id, error, now_ms);
    if (changed > 0)
        log_event(LOG_WARN, "crash guard: queued run failed", json_pack("{s:s,s:s}", "run_id", run_id, "error", error));
    return changed;
}

/* Columns of the stale queued scan. */
enum { Q_RUN, Q_TENANT, Q_DOC, Q_UPLOAD_URI, Q_TITLE, Q_USER, Q_REPUBLISHED, Q_SOURCE_URI, Q_CREATED };

/* The same message as the upload sent (spec 4.5), rebuilt from the run row i. */
static char *rebuild_message(PGresult *res, int i)
{
    struct job_msg m;

    memset(&m, 0, sizeof(m));
    snprintf(m.run_id, sizeof(m.run_id), "%s", PQgetvalue(res, i, Q_RUN));
    snprintf(m.tenant_id, sizeof(m.tenant_id), "%s", PQgetvalue(res, i, Q_TENANT));
    snprintf(m.user_id, sizeof(m.user_id), "%s", PQgetvalue(res, i, Q_USER));
    snprintf(m.doc_id, sizeof(m.doc_id), "%s", PQgetvalue(res, i, Q_DOC));
    m.source_uri = db_val(res, i, Q_SOURCE_URI);
    m.upload_uri = db_val(res, i, Q_UPLOAD_URI);
    m.title = PQgetvalue(res, i, Q_TITLE);
    m.received_at = PQgetvalue(res, i, Q_CREATED);
    return job_msg_encode(&m);
}

/* Publish the run's message again and count it in the run. 0, or -1 on database trouble. */
static int republish(const struct config *cfg, PGconn *db, struct sqs_client *sqs, PGresult *res, int i,
                     int64_t now_ms, struct scan_stats *stats)
{
    const char *run_id = PQgetvalue(res, i, Q_RUN);
    long long republished = strtoll(PQgetvalue(res, i, Q_REPUBLISHED), NULL, 10);
    char *text = rebuild_message(res, i);
    char message_id[160] = "";
    struct sqs_error qerr;

    memset(&qerr, 0, sizeof(qerr));
    if (!text || !sqs || job_publish(cfg, sqs, text, message_id, sizeof(message_id), &qerr) < 0) {
        /* Left as it is: the next scan tries again; nothing is lost by waiting. */
        log_event(LOG_WARN, "crash guard: re-publish failed",
                  json_pack("{s:s,s:s}", "run_id", run_id, "code", qerr.code[0] ? qerr.code : "nomem"));
        free(text);
        stats->publish_errors++;
        return 0;
    }
    free(text);
    if (run_mark_republished(db, run_id, republished + 1, now_ms) < 0)
        return -1;
    stats->republished++;
    log_event(LOG_INFO, "crash guard: queued run re-published",
              json_pack("{s:s,s:s,s:I,s:s}", "run_id", run_id, "tenant_id", PQgetvalue(res, i, Q_TENANT),
                        "republished", (json_int_t)(republished + 1), "queue_message_id", message_id));
    return 0;
}

/* One stale queued run: failed when its upload is gone or it was re-published enough, else re-published. */
static int handle_queued(const struct config *cfg, PGconn *db, struct sqs_client *sqs, PGresult *res, int i,
                         int64_t now_ms, struct scan_stats *stats)
{
    const char *run_id = PQgetvalue(res, i, Q_RUN), *tenant_id = PQgetvalue(res, i, Q_TENANT);
    long long republished = strtoll(PQgetvalue(res, i, Q_REPUBLISHED), NULL, 10);
    char detail[96];
    int rc;

    if (upload_path_uri_missing(db_val(res, i, Q_UPLOAD_URI))) {
        rc = fail_queued(db, run_id, tenant_id, "upload missing", now_ms);
    } else if (republished >= cfg->queued_max_republish) {
        snprintf(detail, sizeof(detail), "not picked up after %lld re-publications", republished);
        rc = fail_queued(db, run_id, tenant_id, detail, now_ms);
    } else {
        return republish(cfg, db, sqs, res, i, now_ms, stats);
    }
    if (rc < 0)
        return -1;
    stats->stale_queued += rc;
    return 0;
}

/* What the guard does for one tenant with stale runs (the connection's tenant already set to it). */
typedef int (*tenant_scan_fn)(const struct config *cfg, PGconn *db, struct sqs_client *sqs, const char *tenant_id,
                              int64_t cutoff_ms, int64_t now_ms, struct scan_stats *stats);

/*
 * fn for each tenant that has runs in status not updated since cutoff_ms, with
 * the connection's tenant set to it (at most CRASH_GUARD_BATCH tenants a scan;
 * the next scan takes the rest). 0, or -1 on database trouble.
 */
static int for_stale_tenants(const struct config *cfg, PGconn *db, struct sqs_client *sqs, enum run_status status,
                             int64_t cutoff_ms, int64_t now_ms, struct scan_stats *stats, tenant_scan_fn fn)
{
    char cutoff_s[24];
    const char *params[2] = {run_status_name(status), cutoff_s};
    PGresult *res;
    int rc = 0;

    ms_text(cutoff_ms, cutoff_s, sizeof(cutoff_s));
    res = db_query(db,
                   "SELECT t::text FROM stale_run_tenants($1, to_timestamp($2::double precision / 1000.0), "
                   CRASH_GUARD_BATCH ") t",
                   2, params);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        const char *tenant_id = PQgetvalue(res, i, 0);

        rc = db_set_tenant(db, tenant_id) < 0 ? -1 : fn(cfg, db, sqs, tenant_id, cutoff_ms, now_ms, stats);
    }
    PQclear(res);
    return rc;
}

static int scan_queued_tenant(const struct config *cfg, PGconn *db, struct sqs_client *sqs, const char *tenant_id,
                              int64_t cutoff_ms, int64_t now_ms, struct scan_stats *stats)
{
    char cutoff_s[24];
    const char *params[3] = {cutoff_s, run_status_name(RUN_STATUS_QUEUED), tenant_id};
    PGresult *res;
    int rc = 0;

    ms_text(cutoff_ms, cutoff_s, sizeof(cutoff_s));
    res = db_query(db,
                   "SELECT r.run_id, r.tenant_id, r.doc_id, r.config->>'upload_uri',"
                   " COALESCE(r.config->>'title', ''), COALESCE(r.config->>'created_by_user_id', ''),"
                   " CASE WHEN jsonb_typeof(r.config->'republished') = 'number'"
                   "  THEN (r.config->>'republished')::numeric::bigint ELSE 0 END,"
                   " d.source_uri, " DB_TS("r.created_at")
                   " FROM ingestion_runs r JOIN documents d ON d.doc_id = r.doc_id"
                   " WHERE r.tenant_id = $3 AND r.status = $2"
                   "   AND r.updated_at < to_timestamp($1::double precision / 1000.0)"
                   " ORDER BY r.updated_at LIMIT " CRASH_GUARD_BATCH,
                   3, params);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++)
        rc = handle_queued(cfg, db, sqs, res, i, now_ms, stats);
    PQclear(res);
    return rc;
}

static int scan_running_tenant(const struct config *cfg, PGconn *db, struct sqs_client *sqs, const char *tenant_id,
                               int64_t cutoff_ms, int64_t now_ms, struct scan_stats *stats)
{
    PGresult *res = run_fail_stale_running(db, tenant_id, cutoff_ms, now_ms);

    (void)cfg;
    (void)sqs;
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        log_event(LOG_WARN, "crash guard: running run failed",
                  json_pack("{s:s,s:s,s:s}", "run_id", PQgetvalue(res, i, 0), "tenant_id", PQgetvalue(res, i, 1),
                            "error", PQgetvalue(res, i, 2)));
    stats->stale_running += PQntuples(res);
    PQclear(res);
    return 0;
}

static int dot_entry(const char *name)
{
    return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static int64_t mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* The folder name inside folder dfd, never through a symlink: an fd, or -1. */
static int open_folder_at(int dfd, const char *name)
{
    return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* A DIR stream that owns fd (closed here if that fails); NULL also when fd < 0. */
static DIR *folder_stream(int fd)
{
    DIR *d = fd < 0 ? NULL : fdopendir(fd);

    if (!d && fd >= 0)
        close(fd);
    return d;
}

/* Newest mtime (ms) of a run folder and the files in it; -1 if it cannot be read. */
static int64_t folder_newest_ms(int dfd)
{
    struct stat st;
    int64_t newest;
    DIR *d;
    struct dirent *e;

    if (fstat(dfd, &st) < 0)
        return -1;
    newest = mtime_ms(&st);
    d = folder_stream(dup(dfd));
    if (!d)
        return -1;
    for (e = readdir(d); e; e = readdir(d)) {
        if (dot_entry(e->d_name) || fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (mtime_ms(&st) > newest)
            newest = mtime_ms(&st);
    }
    closedir(d);
    return newest;
}

/* Remove the plain entries of a run folder, then the folder. Returns 0 or -1. */
static int remove_run_folder(int tdfd, const char *name)
{
    DIR *d = folder_stream(open_folder_at(tdfd, name));
    struct dirent *e;
    int rc = 0;

    if (!d)
        return -1;
    for (e = readdir(d); e; e = readdir(d)) {
        if (dot_entry(e->d_name))
            continue;
        /* Upload folders hold files only; anything else is left for a human. */
        if (unlinkat(dirfd(d), e->d_name, 0) < 0)
            rc = -1;
    }
    closedir(d);
    if (unlinkat(tdfd, name, AT_REMOVEDIR) < 0)
        rc = -1;
    return rc;
}

/* 1 if the run folder name of tenant folder tdfd is untouched since before cutoff, else 0. */
static int folder_idle(int tdfd, const char *name, int64_t cutoff)
{
    int rdfd = open_folder_at(tdfd, name);
    int64_t newest;

    if (rdfd < 0)
        return 0;
    newest = folder_newest_ms(rdfd);
    close(rdfd);
    return newest >= 0 && newest < cutoff;
}

const char *upload_folder_policy(const char *status, int expired, int in_use, int delete_succeeded)
{
    if (in_use)
        return NULL;
    if (!status)
        return "orphan";
    if (strcmp(status, "failed") == 0)
        return expired ? "failed_retention" : NULL;
    if (strcmp(status, "skipped") == 0)
        return "skipped";
    if (strcmp(status, "succeeded") == 0 && delete_succeeded)
        return "succeeded_retention";
    return NULL;   /* queued, running, succeeded kept */
}

/* What the storage scan knows of one run folder. */
struct folder_scan {
    const struct config *cfg;
    const char *root;          /* UPLOAD_DIR, absolute */
    const char *tenant_id;
    int64_t now_ms;
    struct scan_stats *stats;
};

/*
 * Why the uploads of run_id (every upload_uri that starts with prefix: its folder, or its
 * keys in the S3 store) may go (upload_folder_policy), NULL to keep them; *err set on
 * database trouble. The tenant is set on db.
 */
static const char *upload_decision(PGconn *db, const struct config *cfg, int64_t now_ms, const char *tenant_id,
                                   const char *run_id, const char *prefix, int *err)
{
    char now_s[24], keep_s[24];
    const char *params[5] = {tenant_id, run_id, now_s, keep_s, prefix};
    const char *why;
    PGresult *res;

    ms_text(now_ms, now_s, sizeof(now_s));
    ms_text(cfg->failed_upload_retention_ms, keep_s, sizeof(keep_s));
    res = db_query(db,
                   "SELECT (SELECT status FROM ingestion_runs WHERE run_id = $2 AND tenant_id = $1),"
                   " COALESCE((SELECT COALESCE(finished_at, updated_at) < to_timestamp($3::double precision / 1000.0)"
                   "   - $4::bigint * interval '1 millisecond' FROM ingestion_runs WHERE run_id = $2 AND tenant_id = $1),"
                   "   false),"
                   " EXISTS (SELECT 1 FROM ingestion_runs WHERE tenant_id = $1 AND status IN ('queued', 'running')"
                   "   AND starts_with(config->>'upload_uri', $5))",
                   5, params);
    if (!res) {
        *err = 1;
        return NULL;
    }
    why = upload_folder_policy(db_val(res, 0, 0), strcmp(PQgetvalue(res, 0, 1), "t") == 0,
                               strcmp(PQgetvalue(res, 0, 2), "t") == 0,
                               strcmp(cfg->upload_retention, "delete") == 0);
    PQclear(res);
    return why;
}

/* The run folder run_id of the local store: upload_decision on its file:// prefix. */
static const char *folder_decision(PGconn *db, const struct folder_scan *fs, const char *run_id, int *err)
{
    char prefix[1200];

    snprintf(prefix, sizeof(prefix), "file://%s/%s/%s/", fs->root, fs->tenant_id, run_id);
    return upload_decision(db, fs->cfg, fs->now_ms, fs->tenant_id, run_id, prefix, err);
}

/* The S3 store's sweep asks the same rule (upload_orphans_s3.h: upload_policy_fn). */
static const char *s3_decision(void *ctx, PGconn *db, const char *tenant_id, const char *run_id, const char *prefix,
                               int *err)
{
    const struct folder_scan *fs = ctx;

    return upload_decision(db, fs->cfg, fs->now_ms, tenant_id, run_id, prefix, err);
}

static void remove_orphan(int tdfd, const char *tenant_id, const char *run_id, const char *why,
                          struct scan_stats *stats)
{
    if (remove_run_folder(tdfd, run_id) == 0) {
        if (strcmp(why, "orphan") == 0)
            stats->orphans_removed++;
        else
            stats->uploads_removed++;
        log_event(LOG_INFO, "crash guard: upload folder removed",
                  json_pack("{s:s,s:s,s:s}", "tenant_id", tenant_id, "run_id", run_id, "reason", why));
    } else {
        log_event(LOG_WARN, "crash guard: cannot remove orphan upload folder",
                  json_pack("{s:s,s:s,s:s}", "tenant_id", tenant_id, "run_id", run_id, "error", strerror(errno)));
    }
}

/*
 * The run folders of one tenant folder: idle ones without a run row of that
 * tenant are removed (the folder's name is the tenant the connection is set
 * to). 0, or -1 on database trouble.
 */
static int scan_tenant(PGconn *db, int rootfd, struct folder_scan *fs, int64_t cutoff)
{
    const char *tenant_id = fs->tenant_id;
    DIR *tdir = folder_stream(open_folder_at(rootfd, tenant_id));
    struct dirent *re;
    int rc = 0;

    if (!tdir)
        return 0;
    if (db_set_tenant(db, tenant_id) < 0) {
        closedir(tdir);
        return -1;
    }
    for (re = readdir(tdir); re && rc == 0; re = readdir(tdir)) {
        const char *why;
        int err = 0;

        if (!upload_path_is_id(re->d_name) || !folder_idle(dirfd(tdir), re->d_name, cutoff))
            continue;
        why = folder_decision(db, fs, re->d_name, &err);
        if (err)
            rc = -1;
        else if (why)
            remove_orphan(dirfd(tdir), tenant_id, re->d_name, why, fs->stats);
    }
    closedir(tdir);
    return rc;
}

static int scan_orphans(const struct config *cfg, PGconn *db, int64_t now_ms, struct scan_stats *stats)
{
    DIR *root;
    struct dirent *te;
    int64_t cutoff = now_ms - cfg->orphan_grace_ms;
    char *abs;
    struct folder_scan fs = {cfg, NULL, NULL, now_ms, stats};
    int rc = 0;

    if (strcmp(cfg->upload_store, "s3") == 0)
        return upload_s3_sweep(db, cfg, cutoff, s3_decision, &fs, &stats->orphans_removed, &stats->uploads_removed);
    root = opendir(cfg->upload_dir);
    abs = root ? realpath(cfg->upload_dir, NULL) : NULL;
    fs.root = abs;
    if (root && !abs) {
        closedir(root);
        root = NULL;
    }
    if (!root) {
        if (errno != ENOENT)
            log_event(LOG_WARN, "crash guard: cannot read UPLOAD_DIR",
                      json_pack("{s:s,s:s}", "dir", cfg->upload_dir, "error", strerror(errno)));
        return 0;
    }
    for (te = readdir(root); te && rc == 0; te = readdir(root)) {
        if (!upload_path_is_id(te->d_name))
            continue;
        fs.tenant_id = te->d_name;
        rc = scan_tenant(db, dirfd(root), &fs, cutoff);
    }
    closedir(root);
    free(abs);
    return rc;
}

/* Answers (status 2xx) and pending claims (status 0) alike, by created_at, of every tenant. */
static int scan_idempotency(PGconn *db, int64_t now_ms)
{
    char now_s[24];
    const char *params[1];

    ms_text(now_ms, now_s, sizeof(now_s));
    params[0] = now_s;
    return db_exec(db,
                   "SELECT expire_idempotency_keys(to_timestamp($1::double precision / 1000.0) - interval '24 hours')",
                   1, params);
}

static int scan_locked(const struct config *cfg, PGconn *db, struct sqs_client *sqs, int64_t now_ms,
                       struct scan_stats *stats)
{
    const char *key[1] = {CRASH_GUARD_LOCK_KEY};
    PGresult *res;
    int rc = 0, got;
    int64_t bound;

    memset(stats, 0, sizeof(*stats));
    res = db_query(db, "SELECT pg_try_advisory_lock($1::bigint)", 1, key);
    if (!res)
        return -1;
    got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!got) {
        stats->skipped = 1;
        log_event(LOG_DEBUG, "crash guard: another instance is scanning", NULL);
        return 0;
    }
    if (for_stale_tenants(cfg, db, sqs, RUN_STATUS_QUEUED, now_ms - cfg->queued_ttl_ms, now_ms, stats,
                          scan_queued_tenant) < 0)
        rc = -1;
    bound = takeover_bound_seen(db);
    if (for_stale_tenants(cfg, db, sqs, RUN_STATUS_RUNNING,
                          now_ms - takeover_running_ttl(cfg->running_ttl_ms, bound > 0 ? bound : 0), now_ms, stats,
                          scan_running_tenant) < 0)
        rc = -1;
    if (rc == 0 && scan_orphans(cfg, db, now_ms, stats) < 0)
        rc = -1;
    if (rc == 0 && scan_idempotency(db, now_ms) < 0)
        rc = -1;
    if (rc == 0 && source_sync_schedule(db, sqs, cfg, &stats->syncs_scheduled) < 0)
        rc = -1;
    /* The guard's connection lives on between scans: it keeps no tenant. */
    if (db_set_tenant(db, NULL) < 0)
        rc = -1;
    db_exec(db, "SELECT pg_advisory_unlock($1::bigint)", 1, key);
    if (stats->republished || stats->stale_queued || stats->stale_running || stats->orphans_removed ||
        stats->uploads_removed || stats->syncs_scheduled)
        log_event(LOG_INFO, "crash guard scan",
                  json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "republished", stats->republished, "stale_queued",
                            stats->stale_queued, "stale_running", stats->stale_running, "orphans_removed",
                            stats->orphans_removed, "uploads_removed", stats->uploads_removed, "publish_errors",
                            stats->publish_errors, "syncs_scheduled", stats->syncs_scheduled));
    return rc;
}

static int scan_once(const struct config *cfg, int64_t now_ms, struct scan_stats *stats)
{
    char err[512];
    PGconn *db = db_connect(cfg->database_url, DB_ROLE_API, err, sizeof(err));
    struct sqs_client *sqs;
    int rc;

    memset(stats, 0, sizeof(*stats));
    if (!db) {
        log_event(LOG_WARN, "crash guard: database unreachable", json_pack("{s:s}", "error", err));
        return -1;
    }
    sqs = guard_sqs_new(cfg);
    rc = scan_locked(cfg, db, sqs, now_ms, stats);
    sqs_free(&sqs);
    db_close(&db);
    return rc;
}

int crash_guard_scan(const struct api_app *app, int64_t now_ms)
{
    struct scan_stats stats;

    return scan_once(app->cfg, now_ms, &stats);
}

/* ---------- background thread ---------- */

static struct {
    struct ticker ticker;
    const struct config *cfg;
    struct sqs_client *sqs;
    PGconn *db;
} guard = {.ticker = TICKER_INIT};

/* One scan (at start-up, then every CRASH_GUARD_INTERVAL) on the thread's own connection. */
static int64_t guard_tick(void *arg)
{
    struct scan_stats stats;

    (void)arg;
    if (db_ensure(&guard.db, guard.cfg->database_url, DB_ROLE_API) == 0 &&
        scan_locked(guard.cfg, guard.db, guard.sqs, time_now_ms(), &stats) < 0 && db_last_was_connection_error())
        db_close(&guard.db);
    return guard.cfg->crash_guard_interval_ms;
}

static void guard_done(void *arg)
{
    (void)arg;
    sqs_free(&guard.sqs);
    db_close(&guard.db);
}

int crash_guard_start(const struct api_app *app)
{
    if (guard.ticker.started)
        return 0;
    guard.cfg = app->cfg;
    guard.sqs = guard_sqs_new(app->cfg);
    if (ticker_start(&guard.ticker, guard_tick, guard_done, NULL) < 0) {
        sqs_free(&guard.sqs);
        return -1;
    }
    log_event(LOG_INFO, "crash guard started",
              json_pack("{s:I,s:I,s:I,s:I}", "interval_ms", (json_int_t)app->cfg->crash_guard_interval_ms,
                        "queued_ttl_ms", (json_int_t)app->cfg->queued_ttl_ms, "running_ttl_ms",
                        (json_int_t)app->cfg->running_ttl_ms, "queued_max_republish",
                        (json_int_t)app->cfg->queued_max_republish));
    return 0;
}

void crash_guard_stop(void)
{
    ticker_stop(&guard.ticker);
}

/* ---------- core-api crash-guard ---------- */

/* RFC 3339 ("2026-11-29T05:01:02.123Z", "...+02:00"), "now", or "+30m"/"-5m" from now. */
static int parse_now(const char *s, int64_t *out)
{
    int64_t now = time_now_ms(), d;
    struct tm tm;
    const char *p;
    long frac_ms = 0;
    time_t secs;

    if (strcmp(s, "now") == 0) {
        *out = now;
        return 0;
    }
    if (s[0] == '+' || s[0] == '-') {
        if (time_parse_duration_ms(s + 1, &d) < 0)
            return -1;
        *out = s[0] == '+' ? now + d : now - d;
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    if (*p == '.') {
        long scale = 100;

        for (p++; *p >= '0' && *p <= '9'; p++) {
            frac_ms += (*p - '0') * scale;
            scale /= 10;
        }
    }
    secs = timegm(&tm);
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (p[4] - '0') * 10 + (p[5] - '0');
        long off = (long)hh * 3600 + (long)mm * 60;

        secs = *p == '+' ? secs - off : secs + off;
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    *out = (int64_t)secs * 1000 + frac_ms;
    return 0;
}

int crash_guard_main(const struct config *cfg, int argc, char **argv)
{
    int64_t now_ms = time_now_ms();
    struct scan_stats stats;
    char now_text[40];
    int i = 0, rc;

    if (argc > 0 && strcmp(argv[0], "crash-guard") == 0)
        i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
            if (parse_now(argv[++i], &now_ms) < 0) {
                fprintf(stderr, "core-api crash-guard: --now takes RFC 3339, \"now\" or +/-DURATION (e.g. +30m)\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: core-api crash-guard [--now RFC3339|now|+DURATION|-DURATION]\n");
            return 2;
        }
    }
    time_format_rfc3339(now_ms, now_text, sizeof(now_text));
    rc = scan_once(cfg, now_ms, &stats);
    printf("{\"now\":\"%s\",\"ok\":%s,\"skipped\":%s,\"republished\":%d,\"stale_queued\":%d,"
           "\"stale_running\":%d,\"orphans_removed\":%d,\"uploads_removed\":%d,\"publish_errors\":%d}\n",
           now_text, rc == 0 ? "true" : "false", stats.skipped ? "true" : "false", stats.republished,
           stats.stale_queued, stats.stale_running, stats.orphans_removed, stats.uploads_removed,
           stats.publish_errors);
    fflush(stdout);
    return rc == 0 ? 0 : 1;
}
