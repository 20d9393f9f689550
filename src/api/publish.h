/*
 * publish.h - where core-api sends an encoded job message (common/job_msg.h):
 * INGEST_MODE=orchestrated publishes it on the ingest queue (SendMessage);
 * INGEST_MODE=proxy, the rollback path of spec 11, POSTs it to the worker's
 * internal endpoint INGEST_PROXY_URL/internal/ingest instead (worker/proxy.h)
 * and succeeds when the worker answered 202 (accepted). The one switch
 * between the two, used by the upload and by the crash guard's re-publication.
 */
#ifndef API_PUBLISH_H
#define API_PUBLISH_H

#include "common/sqs.h"

#include <stddef.h>

struct config;

/*
 * Send text. 0, or -1 with err filled (an SQS error, or "proxy_refused" /
 * "transport" for the proxy). message_id (may be NULL) receives the SQS
 * message id, or "proxy:<run_id>" in proxy mode.
 */
int job_publish(const struct config *cfg, struct sqs_client *sqs, const char *text, char *message_id,
                size_t message_id_len, struct sqs_error *err);

#endif
