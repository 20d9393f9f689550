/*
 * request.h - one HTTP request as a handler sees it: who is calling, the path
 * parameters, the body, and the calls that answer it.
 *
 * A handler gets a struct req whose arena lives exactly as long as the request:
 * strings, PGresults (arena_pg) and JSON (arena_json) put there need no other
 * release. A connection from req_db() is held only while it is needed: it goes
 * back to the pool with req_db_release(), and at the latest when the request
 * ends. Handlers answer once, with req_json() or req_error(); a second answer
 * is dropped and logged.
 *
 * This is the only HTTP header a handler includes. It names no handler and no
 * server internals, so a handler module links with request.o and common alone
 * (the server, router and static files are not needed to test one).
 */
#ifndef API_HTTP_REQUEST_H
#define API_HTTP_REQUEST_H

#include "api/app.h"
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
#define REQ_ADDR_LEN 46          /* INET6_ADDRSTRLEN */
/* Retry-After (seconds) of a 503 for a database that is busy or away. */
#define REQ_DB_RETRY_AFTER "1"

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

/* A response header, kept in the request's arena (req_set_header). */
struct req_header {
    struct req_header *next;
    const char *name;
    const char *value;
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
    int64_t content_length;                    /* Content-Length of the body, -1 if absent (chunked) */

    /* response, set by req_json / req_error / req_raw / req_file */
    unsigned status;
    char *resp_body;
    size_t resp_len;
    const char *resp_type;
    struct req_header *resp_headers;
    int answered;
    int resp_fd;                               /* req_file(): file to send, -1 if none */
    uint64_t resp_fd_size;
    uint64_t resp_fd_offset;                   /* req_file_at(): first byte sent */

    PGconn *db;                                /* lazily acquired by req_db(), until req_db_release() */
    char client_addr[REQ_ADDR_LEN];            /* filled on first req_client_addr() */
};

/*
 * Set up r for one request on conn (arena, body buffer, no answer yet). The
 * server calls it; tests may call it with conn NULL. 0, or -1 if memory is out.
 */
int req_init(struct req *r, const struct api_app *app, struct MHD_Connection *conn, const char *method,
             const char *path);
/* Give back the database connection, close a pending file, release the arena (r stays valid to re-init). */
void req_release(struct req *r);

/* --- responses --- */
/* Answer with a JSON body (reference stolen). */
void req_json(struct req *r, unsigned status, json_t *body);
/* Answer {"error": {"code", "message"}} with the error's status. */
void req_error(struct req *r, enum api_err e, const char *message);
/* Same, with extra top-level keys merged into the body (stolen; may be NULL). */
void req_error_extra(struct req *r, enum api_err e, const char *message, json_t *extra);
/*
 * Answer for a failed db_query()/db_exec() of this thread: the one mapping
 * from SQLSTATE (db_last_sqlstate()) to HTTP. Class 08 (connection), 53
 * (resources), 57 (operator intervention), 40 (serialization, deadlock) and
 * no SQLSTATE at all answer 503 "database unavailable" with Retry-After:
 * REQ_DB_RETRY_AFTER; 23505 (unique) 409 and
 * the rest of 22 (data exception: a malformed UUID, invalid UTF-8) and 23
 * (integrity) 400, each with what as the message; anything else 500
 * "internal error" (db_query has logged the statement). Returns the error.
 */
enum api_err req_db_error(struct req *r, const char *what);
/* The API error req_db_error() answers for a SQLSTATE (NULL or "": no statement ran). Pure. */
enum api_err req_db_error_of(const char *sqlstate);
/* Answer with raw bytes (copied into the arena). */
void req_raw(struct req *r, unsigned status, const char *content_type, const void *p, size_t n);
/* Answer 204 with no body. */
void req_no_content(struct req *r);
/*
 * Answer with size bytes of the open file fd (ownership passes to the request,
 * which closes it), sent without buffering the file (static files).
 */
void req_file(struct req *r, unsigned status, const char *content_type, int fd, uint64_t size);
/* req_file() of the size bytes from offset on (a range request's 206). */
void req_file_at(struct req *r, unsigned status, const char *content_type, int fd, uint64_t offset, uint64_t size);
/* Add a response header (both strings copied). */
void req_set_header(struct req *r, const char *name, const char *value);
/* 1 if a response header of that name (any case) is set. */
int req_has_resp_header(const struct req *r, const char *name);

/* --- request --- */
/* Request header value or NULL. */
const char *req_header(struct req *r, const char *name);
/* Query-string value or NULL. */
const char *req_query(struct req *r, const char *key);
/*
 * The same with its decoded length in *len (0 when absent): a "%00" in the
 * value ends req_query()'s C string early but not this one, so a caller can
 * refuse it. NULL when absent or when the request has no connection.
 */
const char *req_query_n(struct req *r, const char *key, size_t *len);
/* Cookie value or NULL. */
const char *req_cookie(struct req *r, const char *name);
/* Client IP address text (for throttling and logs). */
const char *req_client_addr(struct req *r);
/* The body parsed as a JSON object; on failure answers 400 and returns NULL. */
json_t *req_body_json(struct req *r);
/*
 * The request's connection: the one it holds, or one from the pool, waiting
 * at most DB_ACQUIRE_TIMEOUT for it. NULL after answering 503 with
 * Retry-After when none came free in time ("database busy") or the database
 * is down ("database unavailable"). Held until req_db_release() or the end
 * of the request.
 */
PGconn *req_db(struct req *r);
/*
 * Give the request's connection back now (an open transaction is rolled
 * back); a later req_db() takes one again. Call it before anything that waits
 * on the client, such as reading a request body: a connection held across a
 * slow client is one every other tenant waits for. No-op without one.
 */
void req_db_release(struct req *r);

/* This thread's SQS client (created on first use from the config); NULL if memory is out. */
struct sqs_client *req_sqs(struct req *r);

#endif
