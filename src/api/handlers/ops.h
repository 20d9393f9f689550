/* ops.h - health, readiness and metrics endpoints. */
#ifndef API_OPS_H
#define API_OPS_H

#include "api/http/request.h"

void ops_healthz(struct req *r);     /* GET /healthz */
void ops_readyz(struct req *r);      /* GET /readyz */
/*
 * GET /metrics (Prometheus text). With METRICS_TOKEN set, only a request with
 * "Authorization: Bearer <METRICS_TOKEN>" gets it (401 otherwise); without, only
 * a loopback client whose request carries no proxy header (X-Forwarded-For,
 * Forwarded, X-Real-IP), 403 otherwise.
 */
void ops_metrics(struct req *r);
/* 1 if addr (an address as text) is loopback: 127.0.0.0/8, ::1, ::ffff:127.x.y.z. */
int ops_is_loopback(const char *addr);

#endif
