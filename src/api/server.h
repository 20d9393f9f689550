/*
 * server.h - core-api's HTTP layer over libmicrohttpd: routing, the per-request
 * context, authentication hook, JSON responses.
 *
 * A handler gets a struct req whose arena lives exactly as long as the request:
 * strings, PGresults (arena_pg) and JSON (arena_json) put there need no other
 * release. The database connection from req_db() is returned to the pool when
 * the request ends. Handlers answer once, with req_json() or req_error().
 *
 * Two kinds of routes:
 *  - plain: the body (at most API_JSON_BODY_MAX bytes, else 413) is collected,
 *    then handle() runs once;
 *  - streaming (ROUTE_STREAM): stream->begin() runs once the headers are in
 *    (after authentication), stream->data() for every piece of the body as it
 *    arrives, stream->end() at the end of the body. stream->abort() runs if the
 *    client goes away or an earlier callback failed, so partial work is undone.
 */
#ifndef API_SERVER_H
#define API_SERVER_H

#include "common/arena.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/errors.h"
#include "common/ids.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define API_JSON_BODY_MAX (1u << 20)
#define API_MAX_PATH_PARAMS 2

struct sqs_client;
struct db_pool;
struct MHD_Connection;

enum role { ROLE_NONE = 0, ROLE_USER = 1, ROLE_ADMIN = 2 };

/* Who is calling: from the verified token only, never from the request (invariant 1). */
struct principal {
    char tenant_id[ID_UUID_LEN + 1];
    char user_id[ID_UUID_LEN + 1];
    enum role role;
    int via_cookie;          /* 1: authenticated by the session cookie (CSRF checks apply) */
};

/* Process-wide state shared by all requests (read-only after start-up). */
struct api_app {
    const struct config *cfg;
    struct db_pool *db;
    int64_t started_ms;
};

struct req {
    struct arena arena;
    const struct api_app *app;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const char *params[API_MAX_PATH_PARAMS];   /* ":id" segments of the pattern, in order */
    const char *route;                         /* matched pattern, for metrics and logs */
    struct principal principal;
    struct buf body;                           /* plain routes: the request body */
    void *stream_state;                        /* streaming routes: the handler's state */
    int64_t start_ms;

    /* response, set by req_json / req_error / req_raw */
    unsigned status;
    char *resp_body;
    size_t resp_len;
    const char *resp_type;
    struct req_header *resp_headers;
    int answered;

    PGconn *db;                                /* lazily acquired by req_db() */

    /* Added after the first interface; the server fills them before any callback. */
    int64_t content_length;                    /* Content-Length of the body, -1 if absent (chunked) */
    int resp_fd;                               /* req_file(): file to send, -1 if none */
    uint64_t resp_fd_size;
};

struct req_header;

enum route_flags {
    ROUTE_PUBLIC = 1 << 0,    /* no authentication (login, health, static files) */
    ROUTE_ADMIN  = 1 << 1,    /* role admin required (403 otherwise) */
    ROUTE_STREAM = 1 << 2,    /* body streamed to stream ops */
};

struct stream_ops {
    /* 0 to go on; -1 after answering (e.g. req_error) to stop reading the body. */
    int (*begin)(struct req *r);
    int (*data)(struct req *r, const char *p, size_t n);
    /* The whole body arrived: answer. */
    void (*end)(struct req *r);
    /* Undo partial work (remove temp files). Runs at most once, never after end(). */
    void (*abort)(struct req *r);
};

struct route {
    const char *method;       /* "GET", "POST", ... */
    const char *pattern;      /* "/v1/ingestion-runs/:id" */
    unsigned flags;
    void (*handle)(struct req *r);
    const struct stream_ops *stream;
};

/* The route table (routes.c) and its length. */
extern const struct route api_routes[];
extern const size_t api_routes_count;

/* Start the daemon on cfg->http_addr; serve until *stop becomes nonzero. Returns 0 or -1. */
int server_run(struct api_app *app, volatile int *stop);
/* Parse "host:port" (IPv4 address or name; empty host: any) into out. 0, or -1 with a message. */
struct sockaddr_in;
int server_parse_addr(const char *addr, struct sockaddr_in *out, char *err, size_t errlen);

/* --- responses --- */
/* Answer with a JSON body (reference stolen). */
void req_json(struct req *r, unsigned status, json_t *body);
/* Answer {"error": {"code", "message"}} with the error's status. */
void req_error(struct req *r, enum api_err e, const char *message);
/* Same, with extra top-level keys merged into the body (stolen; may be NULL). */
void req_error_extra(struct req *r, enum api_err e, const char *message, json_t *extra);
/* Answer with raw bytes (copied into the arena). */
void req_raw(struct req *r, unsigned status, const char *content_type, const void *p, size_t n);
/* Answer 204 with no body. */
void req_no_content(struct req *r);
/*
 * Answer with size bytes of the open file fd (ownership passes to the request,
 * which closes it), sent without buffering the file (static files).
 */
void req_file(struct req *r, unsigned status, const char *content_type, int fd, uint64_t size);
/* Add a response header (both strings copied). */
void req_set_header(struct req *r, const char *name, const char *value);

/* --- request --- */
/* Request header value or NULL. */
const char *req_header(struct req *r, const char *name);
/* Query-string value or NULL. */
const char *req_query(struct req *r, const char *key);
/* Cookie value or NULL. */
const char *req_cookie(struct req *r, const char *name);
/* Client IP address text (for throttling and logs). */
const char *req_client_addr(struct req *r);
/* The body parsed as a JSON object; on failure answers 400 and returns NULL. */
json_t *req_body_json(struct req *r);
/* A connection from the pool, held until the request ends; NULL (after answering 503) if down. */
PGconn *req_db(struct req *r);

/* This thread's SQS client (created on first use from the config); NULL if memory is out. */
struct sqs_client *req_sqs(struct req *r);

/* --- routing (routes.c; pure, for tests) --- */
/*
 * Match path against pattern ("/v1/ingestion-runs/:id"). A trailing slash on
 * the path is ignored; a ":name" segment matches one non-empty segment, whose
 * text is copied into the arena and stored in params (in order). 1 on a match.
 */
int route_match(const char *pattern, const char *path, struct arena *a, const char **params);
/*
 * The route of table for method and path (HEAD matches GET routes), or NULL.
 * When NULL, *path_known is 1 if the path matched a route of another method
 * (405) and allow (may be NULL) receives "GET, POST" style text.
 */
const struct route *route_find(const struct route *table, size_t n, const char *method, const char *path,
                               struct arena *a, const char **params, int *path_known, char *allow,
                               size_t allowlen);

/* --- provided by auth.c (called by the server for non-public routes) --- */
/*
 * Fill r->principal from the cookie or bearer token, enforce CSRF for cookie
 * writes. Returns 0, or -1 after answering 401/403.
 */
int auth_authenticate(struct req *r);

#endif
