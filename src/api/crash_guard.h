/* crash_guard.h - re-publish stale queued runs, fail dead running runs, sweep orphan uploads (spec 6). */
#ifndef API_CRASH_GUARD_H
#define API_CRASH_GUARD_H

#include "api/server.h"

#include <stdint.h>

/* One scan at time now_ms (injected in tests). Returns 0, -1 on database trouble. */
int crash_guard_scan(const struct api_app *app, int64_t now_ms);
/* Scan at start-up, then every CRASH_GUARD_INTERVAL in a thread until crash_guard_stop(). */
int crash_guard_start(const struct api_app *app);
void crash_guard_stop(void);

#endif
