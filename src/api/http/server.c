/*
 * server.c - core-api's HTTP server over libmicrohttpd 0.9.75. It names no
 * handler: routes, the authenticate hook and the fallback come in through
 * struct server_hooks (server.h).
 *
 * Threading: one thread per connection (MHD_USE_THREAD_PER_CONNECTION). Every
 * handler blocks (libpq, libcurl for SQS, disk writes of uploads), so a slow
 * query or a queue timeout must only ever stall its own connection, never the
 * other connections a pool thread would also own. Concurrency is bounded by
 * HTTP_MAX_CONNECTIONS and, for database work, by the pool (DB_POOL_SIZE); a
 * long poll (GET /v1/ingestion-runs/:id?wait=) holds its thread but no
 * database connection while it waits.
 *
 * One request, as MHD drives it (con_cls holds our struct req_ctx):
 *  1. headers complete: route, authenticate, admin check, size check, and for
 *     streaming routes stream->begin(). An answer here waits until the body
 *     (at most SERVER_DISCARD_MAX bytes) has been read and dropped; a larger
 *     declared body is answered at once and MHD closes the connection.
 *  2. each piece of body: appended (plain routes, bounded) or stream->data().
 *     MHD 0.9.75 refuses MHD_queue_response while body data is being delivered,
 *     so an answer made here (413 mid-upload of a chunked body, a bad multipart
 *     part) is kept and the rest of the body is read and dropped, at most
 *     SERVER_DISCARD_MAX bytes; past that the connection is closed unanswered.
 *     Callers that know the size (Content-Length, in r->content_length) are
 *     refused in step 1 instead, which is what browsers and curl send.
 *  3. body complete: handle() or stream->end(), and the answer is queued.
 *  4. MHD_OPTION_NOTIFY_COMPLETED: stream->abort() if the body never completed,
 *     then the arena and the context are released, the request is logged and
 *     counted.
 * No pooled database connection is held while the client sends or reads:
 * steps 1 and 3 give back whatever the hooks left held (req_db_release).
 *
 * The edge (docs/operations.md, "HTTP limits"): before step 1 routes anything,
 * the head must pass head_check (one Content-Length, no Content-Length with
 * Transfer-Encoding, only the chunked coding, Host, no control characters);
 * a head that fails is answered 400 or 501 at once with "Connection: close"
 * and its body is never read, since its framing cannot be trusted. MHD's
 * connection notifications (MHD_OPTION_NOTIFY_CONNECTION) keep conn_guard's
 * record of every connection, the steps above move it through its phases, and
 * the main loop's conn_guard_scan() closes the connections past the head
 * deadline or below the body rate; conn_guard also refuses a connection over
 * the per-address limit when it is accepted.
 */
#include "api/http/server.h"
#include "api/http/conn_guard.h"
#include "api/http/csp.h"
#include "api/http/head_check.h"
#include "api/http/metrics.h"
#include "common/db.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "common/sqs.h"
#include "common/timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERVER_CONN_TIMEOUT_S 60
#define SERVER_DISCARD_MAX ((uint64_t)16 << 20)
#define SERVER_DRAIN_MS 5000
#define SERVER_TICK_MS 100          /* main loop: stop flag and conn_guard_scan() */

/* HTML answers without a policy of their own (the UI's pages have one: csp.h). */
#define CSP_HTML CSP_POLICY_DEFAULT

enum ctx_kind { CTX_ROUTE, CTX_STATIC, CTX_ANSWERED };

struct req_ctx {
    struct req r;
    const struct route *route;
    enum ctx_kind kind;
    int64_t mono_start;
    int stream_begun;
    int stream_done;        /* end() or abort() ran */
    int discarding;         /* answered before the body ended: drop the rest */
    uint64_t discarded;
    int close_after;        /* framing in doubt: answer now, "Connection: close", read nothing more */
    struct conn_watch *watch;   /* conn_guard's record of the connection (may be NULL) */
};

/* What on_request gets as its closure: the process state and the program's hooks. */
struct server {
    const struct api_app *app;
    const struct server_hooks *hooks;
    struct conn_guard *guard;
};

static atomic_int inflight;

static int is_api_path(const char *path)
{
    return strcmp(path, "/v1") == 0 || strncmp(path, "/v1/", 4) == 0;
}

/*
 * "Keep-Alive: timeout=N": an idle connection is closed after the head
 * deadline (conn_guard), and clients that read the hint (Node's undici)
 * stop reusing it before then instead of racing the close.
 */
static void add_keep_alive(struct MHD_Response *resp, const struct req *r)
{
    char v[32];

    if (!r->app || !r->app->cfg || r->app->cfg->http_head_timeout_ms <= 0)
        return;
    snprintf(v, sizeof(v), "timeout=%lld", (long long)(r->app->cfg->http_head_timeout_ms / 1000));
    MHD_add_response_header(resp, "Keep-Alive", v);
}

/* Turn r's answer into an MHD response and queue it. MHD_NO closes the connection. */
static enum MHD_Result queue_answer(struct req_ctx *ctx)
{
    struct req *r = &ctx->r;
    struct MHD_Response *resp;
    enum MHD_Result ok;

    if (!r->answered) {
        log_event(LOG_ERROR, "handler did not answer", json_pack("{s:s}", "route", r->route ? r->route : ""));
        req_error(r, API_ERR_INTERNAL, "internal error");
    }
    if (r->resp_fd >= 0) {
        resp = MHD_create_response_from_fd_at_offset64(r->resp_fd_size, r->resp_fd, r->resp_fd_offset);
        if (resp)
            r->resp_fd = -1;    /* MHD closes it */
    } else {
        resp = MHD_create_response_from_buffer(r->resp_len, r->resp_body ? r->resp_body : (char *)"",
                                               MHD_RESPMEM_MUST_COPY);
    }
    if (!resp)
        return MHD_NO;
    if (r->resp_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->resp_type);
    for (const struct req_header *h = r->resp_headers; h; h = h->next)
        MHD_add_response_header(resp, h->name, h->value);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    if (r->resp_type && strncasecmp(r->resp_type, "text/html", 9) == 0 &&
        !req_has_resp_header(r, "Content-Security-Policy"))
        MHD_add_response_header(resp, "Content-Security-Policy", CSP_HTML);
    /* API answers are per user: never let a cache keep them. */
    if (is_api_path(r->path) && !req_has_resp_header(r, "Cache-Control"))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (ctx->close_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    else
        add_keep_alive(resp, r);
    ok = MHD_queue_response(r->conn, r->status, resp);
    MHD_destroy_response(resp);
    if (ok != MHD_YES)
        log_event(LOG_WARN, "cannot queue response", json_pack("{s:s,s:i}", "route", r->route ? r->route : "",
                                                               "status", (int)r->status));
    return ok;
}

/* ---------------------------------------------------------------- MHD glue */

static int64_t content_length_of(struct MHD_Connection *conn)
{
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end;
    long long v;

    if (te || !cl)
        return -1;
    errno = 0;
    v = strtoll(cl, &end, 10);
    if (errno || end == cl || *end != '\0' || v < 0)
        return -1;
    return v;
}

/* Run the stream's abort() once, unless end() or abort() already ran. */
static void stream_abort(struct req_ctx *ctx)
{
    if (ctx->route && ctx->route->stream && ctx->stream_begun && !ctx->stream_done) {
        ctx->stream_done = 1;
        if (ctx->route->stream->abort)
            ctx->route->stream->abort(&ctx->r);
    }
}

/* No route matched method and path: answer 405/404, or leave it to the fallback. */
static void request_unrouted(const struct server *srv, struct req_ctx *ctx, int path_known, const char *allow)
{
    struct req *r = &ctx->r;

    ctx->kind = CTX_ANSWERED;
    if (path_known) {
        r->route = "unmatched";
        req_set_header(r, "Allow", allow);
        req_error(r, API_ERR_METHOD, "method not allowed");
    } else if (is_api_path(r->path) || !srv->hooks->fallback) {
        r->route = "unmatched";
        req_error(r, API_ERR_NOT_FOUND, "no such endpoint");
    } else if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        r->route = "static";
        req_set_header(r, "Allow", "GET, HEAD");
        req_error(r, API_ERR_METHOD, "method not allowed");
    } else {
        r->route = "static";
        ctx->kind = CTX_STATIC;
    }
}

/* Non-public route: authenticate, then the admin check. 0 to go on, -1 answered. */
static int request_authorize(const struct server *srv, struct req_ctx *ctx)
{
    struct req *r = &ctx->r;

    if (ctx->route->flags & ROUTE_PUBLIC)
        return 0;
    if (!srv->hooks->authenticate || srv->hooks->authenticate(r) < 0) {
        if (!r->answered)
            req_error(r, API_ERR_UNAUTHORIZED, "unauthorized");
        return -1;
    }
    if ((ctx->route->flags & ROUTE_ADMIN) && r->principal.role != ROLE_ADMIN) {
        req_error(r, API_ERR_FORBIDDEN, "admin role required");
        return -1;
    }
    return 0;
}

static enum MHD_Result head_line(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                  const char *value, size_t value_size)
{
    (void)kind;
    head_check_add(cls, key, key_size, value, value_size);
    return MHD_YES;
}

/*
 * The raw head for head_check_region(): MHD 0.9.75 parses it in place, from the
 * method on, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE bytes. Only when the URL
 * sits inside that span is the layout the one head_check knows; otherwise
 * (another MHD) the lines are checked without it.
 */
static void head_region(struct head_check *c, struct MHD_Connection *conn, const char *method, const char *url)
{
    const union MHD_ConnectionInfo *hs = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);

    if (hs && method && url && url > method && url < method + hs->header_size)
        head_check_region(c, method, hs->header_size);
}

/*
 * The head's framing and fields (head_check.h). 0 to go on; -1 after answering
 * 400 or 501, with the connection to be closed right after the answer.
 */
static int request_head_ok(struct req_ctx *ctx, const char *method, const char *url, const char *version)
{
    struct head_check c;
    const char *why = NULL;
    unsigned status;

    head_check_init(&c);
    head_region(&c, ctx->r.conn, method, url);
    MHD_get_connection_values_n(ctx->r.conn, MHD_HEADER_KIND, head_line, &c);
    status = head_check_verdict(&c, version && strcmp(version, MHD_HTTP_VERSION_1_0) == 0, &why);
    if (status == 0)
        return 0;
    ctx->r.route = "unmatched";
    ctx->close_after = 1;
    req_error(&ctx->r, status == 501 ? API_ERR_NOT_IMPLEMENTED : API_ERR_BAD_REQUEST, why);
    log_event(LOG_INFO, "refusing a request head", json_pack("{s:i,s:s}", "status", (int)status, "why", why));
    return -1;
}

/* conn_guard's record of the connection (set by on_connection), or NULL. */
static struct conn_watch *watch_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

/* Headers are in: route, authenticate, and start the body. Returns the ctx. */
static struct req_ctx *request_start(const struct server *srv, struct MHD_Connection *conn, const char *url,
                                     const char *method, const char *version)
{
    struct req_ctx *ctx = calloc(1, sizeof(*ctx));
    struct req *r;
    int path_known = 0;
    char allow[64];

    if (!ctx)
        return NULL;
    atomic_fetch_add(&inflight, 1);
    r = &ctx->r;
    ctx->mono_start = time_mono_ms();
    ctx->kind = CTX_ANSWERED;
    ctx->watch = watch_of(conn);
    conn_guard_head_done(srv->guard, ctx->watch, ctx->mono_start);
    if (req_init(r, srv->app, conn, method, url) < 0) {
        r->path = r->path ? r->path : "/";
        r->route = "unmatched";
        req_error(r, API_ERR_INTERNAL, "internal error");
        return ctx;
    }
    r->start_ms = time_now_ms();
    if (request_head_ok(ctx, method, url, version) < 0)
        return ctx;
    r->content_length = content_length_of(conn);

    ctx->route = route_find(srv->hooks->routes, srv->hooks->nroutes, r->method, r->path, &r->arena, r->params,
                            &path_known, allow, sizeof(allow));
    if (!ctx->route) {
        request_unrouted(srv, ctx, path_known, allow);
        return ctx;
    }
    r->route = ctx->route->pattern;
    if (ctx->route->stream && ctx->route->stream->admit && ctx->route->stream->admit(r) < 0) {
        if (!r->answered)
            req_error(r, API_ERR_INTERNAL, "internal error");
        return ctx;
    }
    if (request_authorize(srv, ctx) < 0)
        return ctx;

    ctx->kind = CTX_ROUTE;
    if (ctx->route->stream) {
        ctx->stream_begun = 1;
        if (ctx->route->stream->begin(r) < 0 || r->answered) {
            if (!r->answered)
                req_error(r, API_ERR_INTERNAL, "internal error");
            stream_abort(ctx);
            ctx->kind = CTX_ANSWERED;
        }
    } else if (r->content_length > (int64_t)API_JSON_BODY_MAX) {
        req_error(r, API_ERR_TOO_LARGE, "request body too large");
        ctx->kind = CTX_ANSWERED;
    }
    /* The body comes at the client's pace: no pooled connection may wait for it. */
    req_db_release(r);
    return ctx;
}

/* A piece of body. Returns MHD_NO to close the connection. */
static enum MHD_Result request_data(struct req_ctx *ctx, const char *data, size_t n)
{
    struct req *r = &ctx->r;

    conn_guard_body(ctx->watch, n);
    if (ctx->discarding || ctx->kind != CTX_ROUTE) {
        ctx->discarding = 1;
        ctx->discarded += n;
        if (ctx->discarded > SERVER_DISCARD_MAX) {
            log_event(LOG_INFO, "closing connection: body kept coming after the answer",
                      json_pack("{s:s,s:I}", "route", r->route ? r->route : "", "discarded",
                                (json_int_t)ctx->discarded));
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (ctx->route->stream) {
        if (ctx->route->stream->data(r, data, n) < 0 || r->answered) {
            if (!r->answered)
                req_error(r, API_ERR_INTERNAL, "internal error");
            stream_abort(ctx);
            ctx->discarding = 1;
        }
        return MHD_YES;
    }
    if (buf_add(&r->body, data, n) < 0) {
        req_error(r, API_ERR_TOO_LARGE, "request body too large");
        ctx->discarding = 1;
    }
    return MHD_YES;
}

/* The body is complete: run the handler (unless answered already) and queue the answer. */
static enum MHD_Result request_finish(const struct server *srv, struct req_ctx *ctx)
{
    struct req *r = &ctx->r;

    conn_guard_body_done(srv->guard, ctx->watch);
    if (ctx->kind == CTX_STATIC && !r->answered) {
        srv->hooks->fallback(r);
    } else if (ctx->kind == CTX_ROUTE && !r->answered) {
        if (ctx->route->stream) {
            ctx->stream_done = 1;
            ctx->route->stream->end(r);
        } else {
            ctx->route->handle(r);
        }
    }
    /* Nor for the client to read the answer. */
    req_db_release(r);
    return queue_answer(ctx);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    const struct server *srv = cls;
    struct req_ctx *ctx = *con_cls;

    if (!ctx) {
        ctx = request_start(srv, conn, url, method, version);
        if (!ctx)
            return MHD_NO;
        *con_cls = ctx;
        /* Framing in doubt: answer now and close; the body is never read. */
        if (ctx->close_after) {
            conn_guard_body_done(srv->guard, ctx->watch);
            return queue_answer(ctx);
        }
        /*
         * An answer made from the headers alone (401, 403, 413 by Content-Length...):
         * if the body is small enough to read, read and drop it and answer at its
         * end. Answering now makes MHD close the connection while the client is
         * still sending, and the client may then see a reset instead of the answer.
         * Only a body too large to drain is refused at once.
         */
        if (ctx->kind == CTX_ANSWERED) {
            if (ctx->r.content_length <= (int64_t)SERVER_DISCARD_MAX) {
                ctx->discarding = 1;
                return MHD_YES;
            }
            conn_guard_body_done(srv->guard, ctx->watch);
            return queue_answer(ctx);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;

        *upload_data_size = 0;
        return request_data(ctx, upload_data, n);
    }
    return request_finish(srv, ctx);
}

/* The request's log line (info): its fields are built only when info lines are written. */
static void log_request(const struct req *r, enum MHD_RequestTerminationCode toe, int64_t ms)
{
    json_t *fields;

    if (!log_enabled(LOG_INFO))
        return;
    fields = json_pack("{s:s,s:s,s:s,s:i,s:I}", "method", r->method ? r->method : "", "route",
                       r->route ? r->route : "unmatched", "path", r->path ? r->path : "", "status",
                       r->answered ? (int)r->status : 0, "duration_ms", (json_int_t)ms);
    if (fields && r->principal.tenant_id[0])
        json_object_set_new(fields, "tenant_id", json_string(r->principal.tenant_id));
    if (fields && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        json_object_set_new(fields, "terminated", json_integer((json_int_t)toe));
    log_event(LOG_INFO, "request", fields);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    const struct server *srv = cls;
    struct req_ctx *ctx = *con_cls;
    struct req *r;
    int64_t ms;

    (void)conn;
    if (!ctx)
        return;
    *con_cls = NULL;
    r = &ctx->r;
    conn_guard_request_done(srv->guard, ctx->watch, time_mono_ms());
    /* Client gone, timeout or shutdown before the body ended: undo partial work. */
    stream_abort(ctx);
    ms = time_mono_ms() - ctx->mono_start;
    log_request(r, toe, ms);
    /* A request that never got an answer out is counted as 499 ("client closed"), like nginx. */
    metrics_request(r->route ? r->route : "unmatched", r->method ? r->method : "",
                    r->answered ? r->status : 499, ms);
    req_release(r);
    free(ctx);
    atomic_fetch_sub(&inflight, 1);
}

/* MHD_OPTION_NOTIFY_CONNECTION: conn_guard records (or refuses) each connection. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    const struct server *srv = cls;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *peer = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

        *socket_context = fd ? conn_guard_open(srv->guard, fd->connect_fd, peer ? peer->client_addr : NULL,
                                               time_mono_ms())
                             : NULL;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_guard_close(srv->guard, (struct conn_watch **)socket_context);
    }
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_event(LOG_WARN, "http", json_pack("{s:s}", "detail", msg));
}
#pragma GCC diagnostic pop

/* ------------------------------------------------------------------ daemon */

int server_parse_addr(const char *addr, struct sockaddr_in *out, char *err, size_t errlen)
{
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    char host[256], port[8];
    struct addrinfo hints, *res = NULL;
    size_t hl;
    char *end;
    long pn;
    int rc;

    if (!colon) {
        snprintf(err, errlen, "HTTP_ADDR: expected host:port, got \"%s\"", addr ? addr : "");
        return -1;
    }
    hl = (size_t)(colon - addr);
    errno = 0;
    pn = strtol(colon + 1, &end, 10);
    if (hl >= sizeof(host) || errno || end == colon + 1 || *end || pn < 0 || pn > 65535) {
        snprintf(err, errlen, "HTTP_ADDR: expected host:port (IPv4, port 0-65535), got \"%s\"", addr);
        return -1;
    }
    memcpy(host, addr, hl);
    host[hl] = '\0';
    snprintf(port, sizeof(port), "%ld", pn);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(hl ? host : NULL, port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "HTTP_ADDR: cannot resolve \"%s\" as an IPv4 address", addr);
        if (res)
            freeaddrinfo(res);
        return -1;
    }
    memcpy(out, res->ai_addr, sizeof(*out));
    freeaddrinfo(res);
    return 0;
}

static int listen_on(const struct sockaddr_in *sa, const char *text, char *err, size_t errlen)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        snprintf(err, errlen, "cannot create a socket for %s: %s", text, strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", text, strerror(errno));
        close(fd);
        return -1;
    }
    if (listen(fd, 256) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", text, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* conn_guard's limits from the configuration; NULL (logged) if memory is out or TRUSTED_PROXIES is bad. */
static struct conn_guard *guard_from_config(const struct config *cfg)
{
    struct conn_guard_config gc;
    struct conn_guard *g;
    char err[160];

    memset(&gc, 0, sizeof(gc));
    gc.head_timeout_ms = cfg->http_head_timeout_ms;
    gc.body_min_rate = cfg->http_body_min_rate;
    gc.body_window_ms = cfg->http_body_window_ms;
    gc.max_per_addr = (unsigned)cfg->http_max_conn_per_addr;
    if (netaddr_list_parse(cfg->trusted_proxies, &gc.exempt, err, sizeof(err)) < 0) {
        log_event(LOG_ERROR, "cannot start the HTTP server", json_pack("{s:s,s:s}", "setting", "TRUSTED_PROXIES",
                                                                       "error", err));
        return NULL;
    }
    g = conn_guard_new(&gc);
    if (!g)
        log_event(LOG_ERROR, "cannot start the HTTP server", json_pack("{s:s}", "error", "out of memory"));
    return g;
}

static struct MHD_Daemon *start_daemon(struct server *srv, int fd)
{
    return MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                MHD_USE_ITC | MHD_USE_ERROR_LOG,
                            0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                            MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)SERVER_CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)srv->app->cfg->http_max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            (size_t)srv->app->cfg->http_conn_memory, MHD_OPTION_END);
}

int server_run(struct api_app *app, const struct server_hooks *hooks, volatile sig_atomic_t *stop)
{
    struct server srv = {app, hooks, NULL};
    struct sockaddr_in sa;
    struct MHD_Daemon *d = NULL;
    const union MHD_DaemonInfo *info;
    char err[256];
    int fd, qfd;
    int64_t deadline;

    if (server_parse_addr(app->cfg->http_addr, &sa, err, sizeof(err)) < 0) {
        log_event(LOG_ERROR, "cannot start the HTTP server", json_pack("{s:s}", "error", err));
        return -1;
    }
    srv.guard = guard_from_config(app->cfg);
    if (!srv.guard)
        return -1;
    fd = listen_on(&sa, app->cfg->http_addr, err, sizeof(err));
    if (fd < 0) {
        log_event(LOG_ERROR, "cannot start the HTTP server", json_pack("{s:s}", "error", err));
        conn_guard_free(&srv.guard);
        return -1;
    }
    d = start_daemon(&srv, fd);
    if (!d) {
        close(fd);
        conn_guard_free(&srv.guard);
        log_event(LOG_ERROR, "cannot start the HTTP server",
                  json_pack("{s:s,s:s}", "error", "MHD_start_daemon failed", "addr", app->cfg->http_addr));
        return -1;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    log_event(LOG_INFO, "listening",
              json_pack("{s:s,s:i}", "addr", app->cfg->http_addr, "port", info ? (int)info->port : -1));

    while (!*stop) {
        time_sleep_ms(SERVER_TICK_MS);
        conn_guard_scan(srv.guard, time_mono_ms());
    }

    /* Stop accepting, let in-flight requests finish for a while, then close everything. */
    qfd = MHD_quiesce_daemon(d);
    if (qfd >= 0)
        close(qfd);
    deadline = time_mono_ms() + SERVER_DRAIN_MS;
    while (atomic_load(&inflight) > 0 && time_mono_ms() < deadline)
        time_sleep_ms(50);
    if (atomic_load(&inflight) > 0)
        log_event(LOG_WARN, "shutdown: closing requests still in flight",
                  json_pack("{s:i}", "requests", atomic_load(&inflight)));
    MHD_stop_daemon(d);
    conn_guard_free(&srv.guard);
    log_event(LOG_INFO, "HTTP server stopped", NULL);
    return 0;
}
