/*
 * request.c - the handler's side of a request (http/request.h): answers,
 * request accessors, the pooled database connection, the per-thread SQS
 * client, and the one mapping from database errors to HTTP statuses.
 */
#include "api/http/request.h"
#include "common/db.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "common/sqs.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ_SQS_TIMEOUT_MS 5000

int req_init(struct req *r, const struct api_app *app, struct MHD_Connection *conn, const char *method,
             const char *path)
{
    memset(r, 0, sizeof(*r));
    arena_init(&r->arena);
    buf_init(&r->body, API_JSON_BODY_MAX);
    r->app = app;
    r->conn = conn;
    r->resp_fd = -1;
    r->content_length = -1;
    r->method = arena_strdup(&r->arena, method ? method : "");
    r->path = arena_strdup(&r->arena, path && *path ? path : "/");
    return r->method && r->path ? 0 : -1;
}

void req_release(struct req *r)
{
    req_db_release(r);
    if (r->resp_fd >= 0)
        close(r->resp_fd);
    r->resp_fd = -1;
    buf_release(&r->body);
    arena_release(&r->arena);
}

/* ------------------------------------------------------------------ responses */

static int refuse_second_answer(struct req *r)
{
    if (!r->answered)
        return 0;
    log_event(LOG_WARN, "handler answered twice; second answer dropped",
              json_pack("{s:s,s:s}", "route", r->route ? r->route : "", "method", r->method ? r->method : ""));
    return 1;
}

void req_raw(struct req *r, unsigned status, const char *content_type, const void *p, size_t n)
{
    char *copy;

    if (refuse_second_answer(r))
        return;
    copy = arena_alloc(&r->arena, n + 1);
    if (!copy) {
        /* Out of memory: a static body needs no allocation. */
        r->status = 500;
        r->resp_body = (char *)"{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}";
        r->resp_len = strlen(r->resp_body);
        r->resp_type = "application/json";
        r->answered = 1;
        return;
    }
    if (n)
        memcpy(copy, p, n);
    r->status = status;
    r->resp_body = copy;
    r->resp_len = n;
    r->resp_type = content_type;
    r->answered = 1;
}

void req_json(struct req *r, unsigned status, json_t *body)
{
    char *text;

    if (refuse_second_answer(r)) {
        json_decref(body);
        return;
    }
    text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (!text) {
        static const char fail[] = "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}";

        log_event(LOG_ERROR, "cannot serialize response", NULL);
        req_raw(r, 500, "application/json", fail, sizeof(fail) - 1);
        return;
    }
    req_raw(r, status, "application/json", text, strlen(text));
    free(text);
}

void req_error_extra(struct req *r, enum api_err e, const char *message, json_t *extra)
{
    json_t *body;

    if (refuse_second_answer(r)) {
        json_decref(extra);
        return;
    }
    body = json_pack("{s:{s:s,s:s}}", "error", "code", api_err_code(e), "message",
                     message ? message : api_err_code(e));
    if (body && json_is_object(extra))
        json_object_update_missing(body, extra);
    json_decref(extra);
    req_json(r, api_err_status(e), body);
}

void req_error(struct req *r, enum api_err e, const char *message)
{
    req_error_extra(r, e, message, NULL);
}

void req_no_content(struct req *r)
{
    req_raw(r, 204, NULL, NULL, 0);
}

void req_file(struct req *r, unsigned status, const char *content_type, int fd, uint64_t size)
{
    if (refuse_second_answer(r)) {
        close(fd);
        return;
    }
    r->status = status;
    r->resp_body = NULL;
    r->resp_len = 0;
    r->resp_type = content_type;
    r->resp_fd = fd;
    r->resp_fd_size = size;
    r->resp_fd_offset = 0;
    r->answered = 1;
}

void req_set_header(struct req *r, const char *name, const char *value)
{
    struct req_header *h = arena_alloc(&r->arena, sizeof(*h));
    struct req_header **tail = &r->resp_headers;

    if (!h)
        return;
    h->name = arena_strdup(&r->arena, name);
    h->value = arena_strdup(&r->arena, value);
    if (!h->name || !h->value)
        return;
    while (*tail)
        tail = &(*tail)->next;
    *tail = h;
}

int req_has_resp_header(const struct req *r, const char *name)
{
    for (const struct req_header *h = r->resp_headers; h; h = h->next)
        if (strcasecmp(h->name, name) == 0)
            return 1;
    return 0;
}

enum api_err req_db_error_of(const char *state)
{
    static const struct {
        const char *prefix;
        enum api_err err;
    } map[] = {
        {"08", API_ERR_UNAVAILABLE},  /* connection exception */
        {"53", API_ERR_UNAVAILABLE},  /* insufficient resources */
        {"57", API_ERR_UNAVAILABLE},  /* operator intervention (shutdown, cancel) */
        {"40", API_ERR_UNAVAILABLE},  /* serialization failure, deadlock: try again */
        {"23505", API_ERR_CONFLICT},  /* unique violation */
        {"22", API_ERR_BAD_REQUEST},  /* data exception (bad UUID, invalid UTF-8, out of range) */
        {"23", API_ERR_BAD_REQUEST},  /* other integrity violations */
    };

    if (!state || !*state)
        return API_ERR_UNAVAILABLE;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strncmp(state, map[i].prefix, strlen(map[i].prefix)) == 0)
            return map[i].err;
    return API_ERR_INTERNAL;
}

/* 503 for a database that is busy (the pool's deadline passed) or away, with Retry-After. */
static void answer_db_unavailable(struct req *r, const char *msg)
{
    /* An answer already made keeps its headers (req_error drops the second answer and logs it). */
    if (!r->answered)
        req_set_header(r, "Retry-After", REQ_DB_RETRY_AFTER);
    req_error(r, API_ERR_UNAVAILABLE, msg);
}

enum api_err req_db_error(struct req *r, const char *what)
{
    enum api_err e = req_db_error_of(db_last_sqlstate());

    switch (e) {
    case API_ERR_UNAVAILABLE:
        answer_db_unavailable(r, "database unavailable");
        break;
    case API_ERR_INTERNAL:
        req_error(r, e, "internal error");
        break;
    default:
        req_error(r, e, what);
        break;
    }
    return e;
}

/* ------------------------------------------------------------------- request */

const char *req_header(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_query(struct req *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *req_query_n(struct req *r, const char *key, size_t *len)
{
    const char *v = NULL;
    size_t n = 0;

    *len = 0;
    if (!r->conn ||
        MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, key, strlen(key), &v, &n) != MHD_YES)
        return NULL;
    *len = n;
    return v;
}

const char *req_cookie(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

/* The X-Forwarded-For lines of a request, in order; the last REQ_XFF_LINES are kept. */
#define REQ_XFF_LINES 16
struct xff_lines {
    const char *v[REQ_XFF_LINES];
    size_t n;
};

static enum MHD_Result xff_line(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct xff_lines *x = cls;

    (void)kind;
    if (!key || strcasecmp(key, "X-Forwarded-For") != 0 || !value)
        return MHD_YES;
    if (x->n == REQ_XFF_LINES) {
        memmove(x->v, x->v + 1, sizeof(x->v[0]) * (REQ_XFF_LINES - 1));
        x->n--;
    }
    x->v[x->n++] = value;
    return MHD_YES;
}

/*
 * The TCP peer, or behind a proxy of TRUSTED_PROXIES the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy (netaddr_client()).
 * Canonical text, so one client is one key for the login throttle.
 */
const char *req_client_addr(struct req *r)
{
    const union MHD_ConnectionInfo *ci;
    struct netaddr peer, client;
    struct netaddr_list trusted;
    struct xff_lines xff = {{NULL}, 0};
    char err[160];

    if (r->client_addr[0])
        return r->client_addr;
    ci = r->conn ? MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
    if (!ci || netaddr_from_sockaddr(ci->client_addr, &peer) < 0) {
        snprintf(r->client_addr, sizeof(r->client_addr), "unknown");
        return r->client_addr;
    }
    client = peer;
    if (r->app && r->app->cfg && r->app->cfg->trusted_proxies &&
        netaddr_list_parse(r->app->cfg->trusted_proxies, &trusted, err, sizeof(err)) == 0 &&
        netaddr_list_contains(&trusted, &peer)) {
        MHD_get_connection_values(r->conn, MHD_HEADER_KIND, xff_line, &xff);
        netaddr_client(&trusted, &peer, xff.v, xff.n, &client);
    }
    if (netaddr_format(&client, r->client_addr, sizeof(r->client_addr)) < 0)
        snprintf(r->client_addr, sizeof(r->client_addr), "unknown");
    return r->client_addr;
}

json_t *req_body_json(struct req *r)
{
    json_error_t jerr;
    json_t *j;

    if (!r->body.ptr || r->body.len == 0) {
        req_error(r, API_ERR_BAD_REQUEST, "a JSON object body is required");
        return NULL;
    }
    j = json_loadb(r->body.ptr, r->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        req_error(r, API_ERR_BAD_REQUEST, "malformed JSON body");
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        req_error(r, API_ERR_BAD_REQUEST, "the body must be a JSON object");
        return NULL;
    }
    return arena_json(&r->arena, j);
}

PGconn *req_db(struct req *r)
{
    if (r->db)
        return r->db;
    if (!r->app || !r->app->db) {
        answer_db_unavailable(r, "database unavailable");
        return NULL;
    }
    /* Row-level security: the connection sees the principal's tenant only (none before authentication). */
    r->db = db_pool_acquire_tenant(r->app->db, r->principal.tenant_id);
    if (!r->db)
        answer_db_unavailable(r, strcmp(db_last_sqlstate(), DB_POOL_EXHAUSTED) == 0 ? "database busy"
                                                                                   : "database unavailable");
    return r->db;
}

void req_db_release(struct req *r)
{
    if (r->db && r->app && r->app->db)
        db_pool_release(r->app->db, r->db);
    r->db = NULL;
}

/* One SQS client per thread, freed when the thread (one per connection) ends. */
static pthread_key_t sqs_key;
static pthread_once_t sqs_once = PTHREAD_ONCE_INIT;

static void sqs_key_free(void *p)
{
    struct sqs_client *c = p;

    sqs_free(&c);
}

static void sqs_key_make(void)
{
    pthread_key_create(&sqs_key, sqs_key_free);
}

struct sqs_client *req_sqs(struct req *r)
{
    struct sqs_client *c;

    pthread_once(&sqs_once, sqs_key_make);
    c = pthread_getspecific(sqs_key);
    if (!c && r->app && r->app->cfg) {
        struct sqs_config sc = config_sqs(r->app->cfg, REQ_SQS_TIMEOUT_MS);

        c = sqs_new(&sc);
        if (c && pthread_setspecific(sqs_key, c) != 0)
            sqs_free(&c);
    }
    return c;
}

void req_file_at(struct req *r, unsigned status, const char *content_type, int fd, uint64_t offset, uint64_t size)
{
    req_file(r, status, content_type, fd, size);
    if (r->resp_fd == fd)
        r->resp_fd_offset = offset;
}
