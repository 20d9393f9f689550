/*
 * metrics.h - process counters for GET /metrics (Prometheus text format).
 * Counters are atomics: any thread may record. Runs by status are read from
 * the database at scrape time (ops.c), so every instance reports the same.
 */
#ifndef API_METRICS_H
#define API_METRICS_H

#include "common/buf.h"

#include <stdint.h>

/* One finished HTTP request: route pattern (or "static"/"unmatched"), status, duration. */
void metrics_request(const char *route, const char *method, unsigned status, int64_t duration_ms);
/* One accepted upload of bytes. */
void metrics_upload(uint64_t bytes);
/* Append the counters in Prometheus text format. Returns 0 or -1. */
int metrics_render(struct buf *out);

#endif
