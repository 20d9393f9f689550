/*
 * sqs.h - an Amazon SQS client: AWS JSON 1.0 protocol, SigV4-signed by libcurl
 * (CURLOPT_AWS_SIGV4), so the same code talks to AWS SQS, LocalStack or the
 * local emulator. Every call POSTs to the endpoint with the QueueUrl in the
 * JSON body, as the JSON protocol does.
 *
 * A client is used by one thread at a time (it owns a struct httpc); create one
 * per thread, they are cheap. Failures fill struct sqs_error with the SQS error
 * code (e.g. "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist") or
 * "transport" when no answer came.
 */
#ifndef COMMON_SQS_H
#define COMMON_SQS_H

#include <jansson.h>
#include <stddef.h>

struct sqs_config {
    const char *endpoint;      /* "http://127.0.0.1:4566"; NULL/"": https://sqs.<region>.amazonaws.com */
    const char *region;
    const char *access_key_id;
    const char *secret_access_key;
    long timeout_ms;           /* per call, added to any long-poll wait; 0: 10 s */
};

struct sqs_error {
    long http_status;          /* 0 when no response */
    char code[96];
    char message[256];
};

struct sqs_message {
    char *message_id;
    char *receipt_handle;
    char *body;
    int receive_count;         /* ApproximateReceiveCount, 0 if absent */
};

struct sqs_client;

/* Copies the config strings. NULL if memory is out. */
struct sqs_client *sqs_new(const struct sqs_config *cfg);
void sqs_free(struct sqs_client **c);

/* SendMessage. message_id (may be NULL) receives the id (at least 128 bytes). */
int sqs_send(struct sqs_client *c, const char *queue_url, const char *body, int delay_s,
             char *message_id, size_t message_id_len, struct sqs_error *err);

/*
 * ReceiveMessage: up to max (1..10) messages, waiting up to wait_s (0..20) for
 * the first, with visibility_s (<0: the queue's default). Asks for the
 * ApproximateReceiveCount attribute. On success *msgs is an array of *n
 * messages (possibly 0) to release with sqs_messages_free.
 */
int sqs_receive(struct sqs_client *c, const char *queue_url, int max, int wait_s, int visibility_s,
                struct sqs_message **msgs, int *n, struct sqs_error *err);
void sqs_messages_free(struct sqs_message *msgs, int n);

int sqs_delete(struct sqs_client *c, const char *queue_url, const char *receipt_handle,
               struct sqs_error *err);
int sqs_change_visibility(struct sqs_client *c, const char *queue_url, const char *receipt_handle,
                          int visibility_s, struct sqs_error *err);

/*
 * GetQueueAttributes for the given names (NULL-terminated; NULL means "All").
 * *attrs receives a JSON object of name -> string value (caller decrefs).
 */
int sqs_get_attributes(struct sqs_client *c, const char *queue_url, const char *const *names,
                       json_t **attrs, struct sqs_error *err);

/*
 * CreateQueue with attributes (JSON object of string values, may be NULL),
 * e.g. {"RedrivePolicy": "{\"deadLetterTargetArn\":\"...\",\"maxReceiveCount\":\"3\"}"}.
 * queue_url receives the URL (at least 512 bytes).
 */
int sqs_create_queue(struct sqs_client *c, const char *name, json_t *attributes,
                     char *queue_url, size_t queue_url_len, struct sqs_error *err);

/* PurgeQueue (tests and operations). */
int sqs_purge(struct sqs_client *c, const char *queue_url, struct sqs_error *err);

#endif
