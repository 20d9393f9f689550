/* ingest.h - POST /v1/ingest: streamed multipart upload, dedup, document get-or-create, run insert, enqueue. */
#ifndef API_INGEST_H
#define API_INGEST_H

#include "api/http/router.h"

extern const struct stream_ops ingest_stream_ops;   /* POST /v1/ingest (ROUTE_STREAM) */

#endif
