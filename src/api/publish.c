/*
 * publish.c - the queue or the worker's internal endpoint (publish.h).
 */
#include "api/publish.h"

#include "common/config.h"
#include "common/httpc.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define PUBLISH_PROXY_TIMEOUT_MS 10000L

/* POST text to the worker's endpoint; 0 when it answered 202. */
static int proxy_send(const struct config *cfg, const char *text, char *message_id, size_t message_id_len,
                      struct sqs_error *err)
{
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    char url[1024], terr[256];
    struct httpc h;
    struct httpc_request rq;
    struct httpc_response resp;
    json_t *body;
    int rc = -1, got;

    snprintf(url, sizeof(url), "%s/internal/ingest", cfg->ingest_proxy_url);
    memset(&rq, 0, sizeof(rq));
    rq.url = url;
    rq.body = text;
    rq.body_len = strlen(text);
    rq.headers = headers;
    rq.timeout_ms = PUBLISH_PROXY_TIMEOUT_MS;
    rq.max_response = 64 * 1024;
    if (httpc_init(&h) < 0) {
        snprintf(err->code, sizeof(err->code), "internal");
        return -1;
    }
    got = httpc_do(&h, &rq, &resp, terr, sizeof(terr)) == 0;
    if (!got) {
        snprintf(err->code, sizeof(err->code), "transport");
        snprintf(err->message, sizeof(err->message), "%.100s: %.140s", url, terr);
    } else if (resp.status != 202) {
        err->http_status = resp.status;
        snprintf(err->code, sizeof(err->code), "proxy_refused");
        snprintf(err->message, sizeof(err->message), "HTTP %ld: %.200s", resp.status, resp.body.ptr);
    } else {
        body = json_loads(resp.body.ptr, 0, NULL);
        if (message_id)
            snprintf(message_id, message_id_len, "proxy:%s", json_string_value(json_object_get(body, "run_id"))
                                                                ? json_string_value(json_object_get(body, "run_id"))
                                                                : "");
        json_decref(body);
        rc = 0;
    }
    if (got)
        httpc_response_release(&resp);
    httpc_release(&h);
    return rc;
}

int job_publish(const struct config *cfg, struct sqs_client *sqs, const char *text, char *message_id,
                size_t message_id_len, struct sqs_error *err)
{
    if (strcmp(cfg->ingest_mode, "proxy") == 0) {
        memset(err, 0, sizeof(*err));
        return proxy_send(cfg, text, message_id, message_id_len, err);
    }
    return sqs_send(sqs, cfg->sqs_queue_url, text, 0, message_id, message_id_len, err);
}
