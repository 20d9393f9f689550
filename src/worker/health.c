/*
 * health.c - the worker's optional /healthz and /metrics listener on a
 * loopback address (health.h), served by a thread of its own.
 */
#include "worker/health.h"

#include "common/buf.h"
#include "worker/consumer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct health {
    struct MHD_Daemon *d;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
    struct consumer_stats s;
    struct buf b;
    enum MHD_Result ret;

    (void)cls;
    (void)version;
    (void)upload_data;
    (void)upload_size;
    (void)req_cls;
    if (strcmp(method, "GET") != 0)
        return reply(conn, 405, "text/plain", "method not allowed\n");
    consumer_stats_get(&s);
    if (strcmp(url, "/healthz") == 0)
        return s.db_ok ? reply(conn, 200, "application/json", "{\"status\":\"ok\"}\n")
                       : reply(conn, 503, "application/json", "{\"status\":\"database unreachable\"}\n");
    if (strcmp(url, "/metrics") != 0)
        return reply(conn, 404, "text/plain", "not found\n");
    buf_init(&b, 8192);
    if (buf_addf(&b,
                 "# TYPE ingest_worker_messages_received_total counter\ningest_worker_messages_received_total %lld\n"
                 "# TYPE ingest_worker_jobs_succeeded_total counter\ningest_worker_jobs_succeeded_total %lld\n"
                 "# TYPE ingest_worker_jobs_failed_total counter\ningest_worker_jobs_failed_total %lld\n"
                 "# TYPE ingest_worker_jobs_requeued_total counter\ningest_worker_jobs_requeued_total %lld\n"
                 "# TYPE ingest_worker_messages_released_total counter\ningest_worker_messages_released_total %lld\n"
                 "# TYPE ingest_worker_messages_dlq_total counter\ningest_worker_messages_dlq_total %lld\n"
                 "# TYPE ingest_worker_messages_held gauge\ningest_worker_messages_held %lld\n"
                 "# TYPE ingest_worker_jobs_running gauge\ningest_worker_jobs_running %lld\n"
                 "# TYPE ingest_worker_database_up gauge\ningest_worker_database_up %d\n",
                 s.received, s.succeeded, s.failed, s.requeued, s.released, s.dlq, s.held, s.running,
                 s.db_ok) < 0)
        return reply(conn, 500, "text/plain", "internal\n");
    ret = reply(conn, 200, "text/plain; version=0.0.4", b.ptr);
    buf_release(&b);
    return ret;
}

struct health *health_start(const char *addr, char *err, size_t errlen)
{
    struct sockaddr_in sin;
    const char *colon = strrchr(addr, ':');
    char host[64];
    char *end;
    long port;
    struct health *h;

    if (!colon || (size_t)(colon - addr) >= sizeof(host)) {
        snprintf(err, errlen, "expected 127.0.0.1:PORT");
        return NULL;
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    if (errno || *end || port < 1 || port > 65535 || inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        snprintf(err, errlen, "expected 127.0.0.1:PORT");
        return NULL;
    }
    if ((ntohl(sin.sin_addr.s_addr) >> 24) != 127) {
        snprintf(err, errlen, "must be a loopback address (the worker publishes nothing)");
        return NULL;
    }
    sin.sin_port = htons((uint16_t)port);
    h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, NULL,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_CONNECTION_LIMIT, 16U,
                            MHD_OPTION_CONNECTION_TIMEOUT, 5U, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "cannot listen on %s", addr);
        free(h);
        return NULL;
    }
    return h;
}

void health_stop(struct health **h)
{
    if (!h || !*h)
        return;
    MHD_stop_daemon((*h)->d);
    free(*h);
    *h = NULL;
}
