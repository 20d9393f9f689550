/* ops.h - health, readiness and metrics endpoints. */
#ifndef API_OPS_H
#define API_OPS_H

#include "api/http/request.h"

void ops_healthz(struct req *r);     /* GET /healthz */
void ops_readyz(struct req *r);      /* GET /readyz */
void ops_metrics(struct req *r);     /* GET /metrics */

#endif
