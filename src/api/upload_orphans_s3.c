/*
 * upload_orphans_s3.c - the S3 upload store's sweep of orphans and expired
 * uploads (upload_orphans_s3.h).
 */
#include "api/upload_orphans_s3.h"

#include "common/config.h"
#include "common/db.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/s3.h"
#include "common/upload_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SWEEP_MAX_PAGES 100
#define SWEEP_TIMEOUT_MS 30000L

/* "2026-12-03T06:48:16.132Z" in ms since the epoch, or -1. */
static int64_t iso_ms(const char *s)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    return end ? (int64_t)timegm(&tm) * 1000 : -1;
}

/* The tenant and run of an upload store key (after the prefix); 0, or -1 when it is not one. */
static int key_ids(const char *rest, char *tenant, char *run)
{
    if (strlen(rest) < 2 * ID_UUID_LEN + 3 || rest[ID_UUID_LEN] != '/' || rest[2 * ID_UUID_LEN + 1] != '/')
        return -1;
    snprintf(tenant, ID_UUID_LEN + 1, "%.*s", ID_UUID_LEN, rest);
    snprintf(run, ID_UUID_LEN + 1, "%.*s", ID_UUID_LEN, rest + ID_UUID_LEN + 1);
    return upload_path_is_id(tenant) && upload_path_is_id(run) ? 0 : -1;
}

struct sweep {
    PGconn *db;
    struct s3_client *c;
    const struct config *cfg;
    int64_t cutoff_ms;
    upload_policy_fn *policy;
    void *ctx;
    int *orphans, *uploads;
};

/* One listed object (s3_list_each): deleted when it is idle and the policy lets it go. 0, or -1 on database trouble. */
static int sweep_object(void *ctx, const struct s3_object *o)
{
    struct sweep *w = ctx;
    char tenant[ID_UUID_LEN + 1], run[ID_UUID_LEN + 1], prefix[1200];
    int64_t at = iso_ms(o->last_modified);
    struct s3_error e;
    const char *why;
    int err = 0;

    if (at < 0 || at >= w->cutoff_ms || key_ids(o->key + strlen(w->cfg->upload_s3_prefix), tenant, run) < 0)
        return 0;
    if (db_set_tenant(w->db, tenant) < 0)
        return -1;
    snprintf(prefix, sizeof(prefix), "s3://%s/%s%s/%s/", w->cfg->upload_s3_bucket, w->cfg->upload_s3_prefix, tenant,
             run);
    why = w->policy(w->ctx, w->db, tenant, run, prefix, &err);
    if (err || !why)
        return err ? -1 : 0;
    if (s3_delete(w->c, w->cfg->upload_s3_bucket, o->key, &e) < 0) {
        log_event(LOG_WARN, "crash guard: cannot delete an upload object",
                  json_pack("{s:s,s:s,s:s}", "key", o->key, "reason", why, "code", e.code));
        return 0;
    }
    (*(strcmp(why, "orphan") == 0 ? w->orphans : w->uploads))++;
    log_event(LOG_INFO, "crash guard: upload object removed",
              json_pack("{s:s,s:s,s:s}", "tenant_id", tenant, "run_id", run, "reason", why));
    return 0;
}

int upload_s3_sweep(PGconn *db, const struct config *cfg, int64_t cutoff_ms, upload_policy_fn *policy, void *ctx,
                    int *orphans, int *uploads)
{
    struct s3_config sc = {cfg->upload_s3_endpoint[0] ? cfg->upload_s3_endpoint : cfg->aws_endpoint_url,
                           cfg->aws_region, cfg->aws_access_key_id, cfg->aws_secret_access_key, SWEEP_TIMEOUT_MS};
    struct sweep w = {db, s3_new(&sc), cfg, cutoff_ms, policy, ctx, orphans, uploads};
    struct s3_error e;
    int rc = 0;

    *orphans = 0;
    *uploads = 0;
    if (w.c) {
        rc = s3_list_each(w.c, cfg->upload_s3_bucket, cfg->upload_s3_prefix, SWEEP_MAX_PAGES, sweep_object, &w, &e);
        if (rc < 0)
            log_event(LOG_WARN, "crash guard: cannot list the upload store",
                      json_pack("{s:s,s:s}", "code", e.code, "error", e.message));
    }
    s3_free(&w.c);
    /* An S3 error ends the sweep quietly; only the database stopping it (1) is a failure. */
    rc = rc == 1 ? -1 : 0;
    if (db_set_tenant(db, NULL) < 0)
        rc = -1;
    return rc;
}
