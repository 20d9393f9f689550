/* retry.h - a new attempt of a failed upload (admin or the uploader). */
#ifndef API_RETRY_H
#define API_RETRY_H

#include "api/http/request.h"

void runs_retry(struct req *r);   /* POST /v1/ingestion-runs/:run_id/retry */

#endif
