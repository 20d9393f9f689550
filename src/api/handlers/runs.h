/* runs.h - ingestion run reads, confined to the caller's tenant. */
#ifndef API_RUNS_H
#define API_RUNS_H

#include "api/http/request.h"

/* Longest cached run answer (app->run_reads, bytes): a larger one is read every time. */
#define RUN_CACHE_VALUE_MAX 16384
/*
 * The runs list pages cached (app->list_reads; mine=true pages are not), and the
 * longest one: slots x this bounds its memory. Forgotten by any run change of
 * the tenant, trusted at most RUN_CACHE_TTL.
 */
#define LIST_CACHE_SLOTS 256
#define LIST_CACHE_VALUE_MAX (128 * 1024)

void runs_get(struct req *r);        /* GET /v1/ingestion-runs/:run_id */
void runs_list(struct req *r);       /* GET /v1/ingestion-runs */

#endif
