/*
 * job_msg.h - the queue message of one ingestion job (spec 4.5): the one
 * contract between whoever publishes it (core-api's upload, the crash guard's
 * re-publication) and the worker that consumes it.
 *
 * The message is one JSON object with exactly these keys:
 *     {"job_type": "upload_ingest", "run_id", "tenant_id", "user_id", "doc_id",
 *      "source_uri", "upload_uri", "title", "received_at"}
 * job_msg_encode() is the only builder and job_msg_parse() the only reader,
 * so the two cannot drift apart. The text is pure ASCII: anything beyond it
 * (a title or a file name with an emoji) travels as \u escapes, which every
 * JSON reader decodes and every queue accepts.
 *
 * A second job type shares the queue (issue 17): a source sync,
 *     {"job_type": "source_sync", "sync_id", "source_id", "tenant_id", "requested_at"}
 * with type JOB_SOURCE_SYNC; its run_id, doc_id and the upload strings are
 * empty ("") after parsing and not sent.
 *
 * Typical use:
 *     char *text = job_msg_encode(&m);        // publish text, then free(text)
 *     job_msg_send(sqs, queue_url, &m, code, sizeof(code));   // or encode and send now
 *     if (job_msg_parse(body, len, arena, &m, err, sizeof(err)) < 0) ...
 */
#ifndef COMMON_JOB_MSG_H
#define COMMON_JOB_MSG_H

#include "common/arena.h"
#include "common/ids.h"

#include <stddef.h>

#define JOB_MSG_MAX_BODY (256 * 1024)   /* SQS' own limit */
#define JOB_MSG_TYPE "upload_ingest"
#define JOB_MSG_TYPE_SYNC "source_sync"

enum job_type {
    JOB_UPLOAD_INGEST = 0,            /* the spec 4.5 message (the zero value) */
    JOB_SOURCE_SYNC,                  /* list a source and enqueue its new and changed objects */
};

/*
 * The spec 4.5 message. Ids are lower-case UUID text; user_id is optional
 * ("" when absent). After job_msg_parse() the strings live in its arena and
 * are never NULL ("" when absent); for job_msg_encode() a NULL string is sent
 * as JSON null.
 */
struct job_msg {
    enum job_type type;
    char sync_id[ID_UUID_LEN + 1];    /* JOB_SOURCE_SYNC only */
    char source_id[ID_UUID_LEN + 1];  /* JOB_SOURCE_SYNC only */
    char run_id[ID_UUID_LEN + 1];     /* "" when the message does not name a valid one */
    char tenant_id[ID_UUID_LEN + 1];
    char user_id[ID_UUID_LEN + 1];
    char doc_id[ID_UUID_LEN + 1];
    const char *source_uri;
    const char *upload_uri;
    const char *title;                /* "" if absent */
    const char *received_at;          /* "" if absent; a sync's requested_at */
};

/*
 * The message as compact JSON text with only ASCII bytes (JSON_ENSURE_ASCII),
 * malloc'd for the caller to free; NULL when out of memory or when a string
 * is not UTF-8. An empty user_id is sent as null.
 */
char *job_msg_encode(const struct job_msg *m);

/*
 * Parse and validate a message body of len bytes. Returns 0, or -1 with a
 * one-line reason in err; even on -1, run_id and tenant_id are filled when the
 * body names valid ones (both, or neither), so the caller can fail that run
 * "invalid_message: <err>". Strings are copied into a.
 */
int job_msg_parse(const char *body, size_t len, struct arena *a, struct job_msg *m, char *err, size_t errlen);

struct sqs_client;

/*
 * Publish m straight to the queue at queue_url: encoded with received_at (a sync's
 * requested_at) set to the current time, sent with sqs. Returns 0, or -1 with the
 * failure's code in code ("nomem" when the message could not be encoded, "no_queue"
 * without a client, else the SQS error code). The one sender of the worker's sync
 * (its ingest messages) and of core-api's sync trigger; an upload and its
 * re-publication go through job_publish() (api/publish.h), which may take the proxy.
 */
int job_msg_send(struct sqs_client *sqs, const char *queue_url, const struct job_msg *m, char *code,
                 size_t codelen);

#endif
