/*
 * outbox.c - the outbox table's statements and the publisher thread (outbox.h).
 */
#include "api/outbox.h"
#include "api/publish.h"

#include "common/config.h"
#include "common/db.h"
#include "common/log.h"
#include "common/sqs.h"
#include "common/ticker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTBOX_SQS_TIMEOUT_MS 5000
#define OUTBOX_STR(x) #x
#define OUTBOX_XSTR(x) OUTBOX_STR(x)

int outbox_add(PGconn *c, const char *run_id, const char *message, int64_t delay_ms)
{
    char delay[24];
    const char *params[3] = {run_id, message, delay};

    snprintf(delay, sizeof(delay), "%lld", (long long)delay_ms);
    return db_exec(c,
                   "INSERT INTO outbox (run_id, message, next_at)"
                   " VALUES ($1, $2, clock_timestamp() + $3::bigint * interval '1 millisecond')",
                   3, params);
}

int outbox_remove(PGconn *c, const char *run_id)
{
    const char *params[1] = {run_id};

    return db_exec(c, "DELETE FROM outbox WHERE run_id = $1", 1, params);
}

int64_t outbox_pending(PGconn *c)
{
    PGresult *res = db_query(c, "SELECT count(*) FROM outbox", 0, NULL);
    int64_t n;

    if (!res)
        return -1;
    n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

/* Send row i of a lease and delete it. 1 if sent, 0 if the send failed, -1 if the delete failed. */
static int send_one(PGconn *c, struct sqs_client *sqs, const struct config *cfg, PGresult *res, int i)
{
    const char *run_id = PQgetvalue(res, i, 0);
    char message_id[160] = "";
    struct sqs_error err;

    memset(&err, 0, sizeof(err));
    if (!sqs || job_publish(cfg, sqs, PQgetvalue(res, i, 1), message_id, sizeof(message_id), &err) < 0) {
        log_event(LOG_WARN, "outbox: send failed (tried again later)",
                  json_pack("{s:s,s:s,s:s}", "run_id", run_id, "code", err.code[0] ? err.code : "no client",
                            "attempts", PQgetvalue(res, i, 2)));
        return 0;
    }
    log_event(LOG_INFO, "outbox: message sent for a committed run",
              json_pack("{s:s,s:s,s:s}", "run_id", run_id, "queue_message_id", message_id, "attempts",
                        PQgetvalue(res, i, 2)));
    return outbox_remove(c, run_id) == 0 ? 1 : -1;
}

int outbox_publish_due(PGconn *c, struct sqs_client *sqs, const struct config *cfg)
{
    PGresult *res;
    int sent = 0, rc = 0;

    /* The lease commits at once (autocommit): no transaction stays open while the queue answers. */
    res = db_query(c,
                   "UPDATE outbox SET next_at = clock_timestamp() + interval '" OUTBOX_XSTR(OUTBOX_LEASE_MS)
                   " milliseconds', attempts = attempts + 1"
                   " WHERE run_id IN (SELECT run_id FROM outbox WHERE next_at <= clock_timestamp()"
                   "                  ORDER BY next_at LIMIT " OUTBOX_XSTR(OUTBOX_BATCH) " FOR UPDATE SKIP LOCKED)"
                   " RETURNING run_id::text, message, attempts::text",
                   0, NULL);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res) && rc >= 0; i++) {
        rc = send_one(c, sqs, cfg, res, i);
        sent += rc > 0;
    }
    PQclear(res);
    return rc < 0 ? -1 : sent;
}

/* ---------- the publisher thread ---------- */

static struct {
    struct ticker ticker;
    const struct config *cfg;
    struct sqs_client *sqs;
    PGconn *db;
} pub = {.ticker = TICKER_INIT};

/* One pass; the next one at once after a full batch, else after OUTBOX_INTERVAL. */
static int64_t pub_tick(void *arg)
{
    int sent;

    (void)arg;
    if (db_ensure(&pub.db, pub.cfg->database_url, DB_ROLE_API) < 0)
        return pub.cfg->outbox_interval_ms;
    sent = outbox_publish_due(pub.db, pub.sqs, pub.cfg);
    if (sent < 0 && db_last_was_connection_error())
        db_close(&pub.db);
    return sent >= OUTBOX_BATCH ? 0 : pub.cfg->outbox_interval_ms;
}

static void pub_done(void *arg)
{
    (void)arg;
    sqs_free(&pub.sqs);
    db_close(&pub.db);
}

int outbox_start(const struct api_app *app)
{
    struct sqs_config sc = config_sqs(app->cfg, OUTBOX_SQS_TIMEOUT_MS);

    if (pub.ticker.started)
        return 0;
    pub.cfg = app->cfg;
    pub.sqs = sqs_new(&sc);
    if (ticker_start(&pub.ticker, pub_tick, pub_done, NULL) < 0) {
        sqs_free(&pub.sqs);
        return -1;
    }
    log_event(LOG_INFO, "outbox publisher started",
              json_pack("{s:I,s:I}", "interval_ms", (json_int_t)app->cfg->outbox_interval_ms, "delay_ms",
                        (json_int_t)app->cfg->outbox_delay_ms));
    return 0;
}

void outbox_stop(void)
{
    ticker_stop(&pub.ticker);
}
