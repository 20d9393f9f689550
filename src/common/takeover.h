/*
 * takeover.h - RUNNING_TTL (core-api) against the workers' takeover bound.
 *
 * A run of a worker that died mid-job stays `running` until another worker
 * takes it over, at most config_takeover_bound_ms() of that worker's settings
 * (VISIBILITY_TIMEOUT + TAKEOVER_AFTER + HEARTBEAT_INTERVAL + 5 s). If
 * core-api's crash guard failed such a run stale_running sooner, every worker
 * crash would lose its run. The two settings live in two programs, so each
 * worker publishes its bound in worker_settings (db/migrations/0009), at start
 * and every TAKEOVER_PUBLISH_MS; core-api reads the largest bound of the
 * workers seen within TAKEOVER_SEEN_WINDOW, warns at start and in /readyz
 * when RUNNING_TTL is not above it, and its crash guard waits
 * takeover_running_ttl() = max(RUNNING_TTL, bound) before it fails a run
 * stale_running: a short RUNNING_TTL cannot make a crash lose a run.
 */
#ifndef COMMON_TAKEOVER_H
#define COMMON_TAKEOVER_H

#include "common/config.h"

#include <libpq-fe.h>
#include <stdint.h>

#define TAKEOVER_PUBLISH_MS 60000
/* Workers not seen for this long no longer count (their runs were taken over or failed by then). */
#define TAKEOVER_SEEN_WINDOW "10 minutes"

/* Worker: record this process's bound (and the settings it comes from). 0, or -1 on database trouble. */
int takeover_publish(PGconn *c, const struct config *cfg);

/* core-api: the largest bound of the workers seen lately in ms, 0 if none, -1 on database trouble. */
int64_t takeover_bound_seen(PGconn *c);

/* The stale_running age the crash guard applies: the larger of running_ttl_ms and bound_ms. */
int64_t takeover_running_ttl(int64_t running_ttl_ms, int64_t bound_ms);

/* 1 if running_ttl_ms is not above bound_ms (a bound > 0 seen), else 0. */
int takeover_ttl_too_short(int64_t running_ttl_ms, int64_t bound_ms);

/* Log the warning (once per call) when takeover_ttl_too_short(); returns what it returned. */
int takeover_warn_if_short(int64_t running_ttl_ms, int64_t bound_ms);

#endif
