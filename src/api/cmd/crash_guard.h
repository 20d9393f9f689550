/* crash_guard.h - re-publish stale queued runs, fail dead running runs, sweep orphan uploads (spec 6). */
#ifndef API_CRASH_GUARD_H
#define API_CRASH_GUARD_H

#include "api/app.h"

#include <stdint.h>

/* One scan at time now_ms (injected in tests). Returns 0, -1 on database trouble. */
int crash_guard_scan(const struct api_app *app, int64_t now_ms);
/*
 * The storage scan's rule for one idle upload folder UPLOAD_DIR/<tenant>/<run>/:
 * status is its run's (NULL: no run row), expired whether a failed run ended
 * more than FAILED_UPLOAD_RETENTION ago, in_use whether a queued or running run
 * names a file in it, delete_succeeded whether UPLOAD_RETENTION=delete. Returns
 * why it goes ("orphan", "failed_retention", "skipped", "succeeded_retention"),
 * or NULL when it stays (in use, queued, running, a failed run within its
 * retention, a succeeded run under UPLOAD_RETENTION=keep).
 */
const char *upload_folder_policy(const char *status, int expired, int in_use, int delete_succeeded);
/* Scan at start-up, then every CRASH_GUARD_INTERVAL in a thread until crash_guard_stop(). */
int crash_guard_start(const struct api_app *app);
void crash_guard_stop(void);

/*
 * `core-api crash-guard [--now TIME]`: one scan, then exit (operations, and
 * tests that inject time instead of sleeping). TIME is RFC 3339
 * ("2026-11-29T05:30:00Z", offsets allowed), "now", or a signed duration from
 * now ("+30m", "-5m", "+2h"). argv holds the arguments after the subcommand
 * name (a leading "crash-guard" is skipped). The caller has loaded the API
 * config and set up logging. Prints one JSON summary line on stdout.
 * Returns the exit code: 0 done (or skipped: another instance holds the lock),
 * 1 database trouble, 2 bad usage.
 */
struct config;
int crash_guard_main(const struct config *cfg, int argc, char **argv);

#endif
