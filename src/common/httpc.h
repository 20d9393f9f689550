/*
 * httpc.h - a small HTTP client over libcurl for JSON APIs (SQS, embeddings).
 *
 * One struct httpc per thread: it keeps a curl easy handle so connections are
 * reused. Responses are read into a bounded buffer (struct buf), so a peer can
 * never make the process grow past max_response.
 *
 * Safe in threaded programs: curl_global_init runs once (pthread_once) on the
 * first httpc_init, and timeouts use no signals (CURLOPT_NOSIGNAL). Only http
 * and https URLs are allowed; redirects are not followed. Each httpc_do sets
 * every option afresh, so nothing (headers, body, credentials) leaks from one
 * request into the next.
 */
#ifndef COMMON_HTTPC_H
#define COMMON_HTTPC_H

#include "common/buf.h"

#include <stddef.h>

struct httpc {
    void *curl;    /* CURL * */
};

struct httpc_request {
    const char *url;
    const char *body;              /* POST body (NULL: GET) */
    size_t body_len;
    const char *const *headers;    /* "Name: value" strings, NULL-terminated; may be NULL */
    long timeout_ms;               /* whole request; 0: 30 s */
    const char *aws_sigv4;         /* e.g. "aws:amz:us-east-1:sqs" (CURLOPT_AWS_SIGV4), or NULL */
    const char *userpwd;           /* "key:secret" for SigV4, or NULL */
    size_t max_response;           /* 0: 8 MiB */
};

struct httpc_response {
    long status;                   /* HTTP status, 0 if none */
    struct buf body;               /* NUL-terminated; release with httpc_response_release */
    long retry_after_s;            /* Retry-After in seconds (delta-seconds or an HTTP-date,
                                      0 if that date is past), -1 if absent or unparsable */
};

/*
 * The endpoint and SigV4 settings of an AWS client (SQS, S3), built once:
 * endpoint (the given one, or "https://<service>.<region>.amazonaws.com"),
 * sigv4 ("aws:amz:<region>:<service>", for httpc_request.aws_sigv4) and
 * userpwd ("key:secret", NULL without a key: requests then go unsigned, which
 * only an emulator accepts). region NULL or "": us-east-1.
 */
struct httpc_aws {
    char *endpoint;
    char *sigv4;
    char *userpwd;
};

/* 0, or -1 when memory is out (a has been released then). */
int httpc_aws_init(struct httpc_aws *a, const char *endpoint, const char *region, const char *service,
                   const char *key_id, const char *secret);
/* Free the strings (the secret wiped first). Accepts a zeroed struct. */
void httpc_aws_release(struct httpc_aws *a);

int httpc_init(struct httpc *h);
void httpc_release(struct httpc *h);

/*
 * Perform the request. Returns 0 when a response arrived (any status; check
 * resp->status), -1 on a transport failure (connect, timeout, oversized
 * response) with a message in err. resp is initialized either way: on 0 the
 * body is a NUL-terminated string ("" when empty), on -1 it is released.
 */
int httpc_do(struct httpc *h, const struct httpc_request *req, struct httpc_response *resp,
             char *err, size_t errlen);
void httpc_response_release(struct httpc_response *resp);

#endif
