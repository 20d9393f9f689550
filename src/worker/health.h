/*
 * health.h - the worker's optional /healthz and /metrics (Prometheus text) on
 * WORKER_HEALTH_ADDR, which must be a loopback address: the worker publishes
 * nothing (DESIGN section 2).
 */
#ifndef WORKER_HEALTH_H
#define WORKER_HEALTH_H

#include <stddef.h>

struct health;

/* addr "127.0.0.1:PORT" (or "localhost:PORT"). NULL with err set on a bad or non-loopback address. */
struct health *health_start(const char *addr, char *err, size_t errlen);
/* Accepts NULL and a pointer to NULL. */
void health_stop(struct health **h);

#endif
