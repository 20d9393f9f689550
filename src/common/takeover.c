/*
 * takeover.c - the workers' published takeover bound, read and compared by
 * core-api (takeover.h).
 */
#include "common/takeover.h"

#include "common/db.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int takeover_publish(PGconn *c, const struct config *cfg)
{
    char id[300], host[256] = "", bound[24], settings[256];
    const char *params[3] = {id, bound, settings};

    if (gethostname(host, sizeof(host) - 1) < 0)
        snprintf(host, sizeof(host), "unknown");
    snprintf(id, sizeof(id), "%.200s:%ld", host, (long)getpid());
    snprintf(bound, sizeof(bound), "%lld", (long long)config_takeover_bound_ms(cfg));
    snprintf(settings, sizeof(settings),
             "{\"visibility_timeout_ms\":%lld,\"takeover_after_ms\":%lld,\"heartbeat_interval_ms\":%lld}",
             (long long)cfg->visibility_timeout_ms, (long long)cfg->takeover_after_ms,
             (long long)cfg->heartbeat_interval_ms);
    return db_exec(c,
                   "INSERT INTO worker_settings (worker_id, takeover_bound_ms, settings, seen_at)"
                   " VALUES (left($1, 200), $2::bigint, $3::jsonb, now())"
                   " ON CONFLICT (worker_id) DO UPDATE SET takeover_bound_ms = EXCLUDED.takeover_bound_ms,"
                   " settings = EXCLUDED.settings, seen_at = now()",
                   3, params);
}

int64_t takeover_bound_seen(PGconn *c)
{
    PGresult *res = db_query(c,
                             "SELECT COALESCE(max(takeover_bound_ms), 0) FROM worker_settings"
                             " WHERE seen_at > now() - interval '" TAKEOVER_SEEN_WINDOW "'",
                             0, NULL);
    int64_t v;

    if (!res)
        return -1;
    v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

int64_t takeover_running_ttl(int64_t running_ttl_ms, int64_t bound_ms)
{
    return bound_ms > running_ttl_ms ? bound_ms : running_ttl_ms;
}

int takeover_ttl_too_short(int64_t running_ttl_ms, int64_t bound_ms)
{
    return bound_ms > 0 && running_ttl_ms <= bound_ms;
}

int takeover_warn_if_short(int64_t running_ttl_ms, int64_t bound_ms)
{
    if (!takeover_ttl_too_short(running_ttl_ms, bound_ms))
        return 0;
    log_event(LOG_WARN,
              "RUNNING_TTL is not above the workers' takeover bound: a run of a crashed worker would fail "
              "stale_running before another worker takes it over; the crash guard waits the bound instead "
              "(set RUNNING_TTL > VISIBILITY_TIMEOUT + TAKEOVER_AFTER + HEARTBEAT_INTERVAL + 5s)",
              json_pack("{s:I,s:I}", "running_ttl_ms", (json_int_t)running_ttl_ms, "takeover_bound_ms",
                        (json_int_t)bound_ms));
    return 1;
}
