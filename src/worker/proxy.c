/*
 * proxy.c - the internal ingest endpoint of INGEST_MODE=proxy (proxy.h): a
 * libmicrohttpd listener that checks and holds each message, job threads
 * that run it through the pipeline with in-process retries, and a keeper
 * that repeats each running job's last milestone as its heartbeat.
 */
#include "worker/proxy.h"

#include "common/arena.h"
#include "common/buf.h"
#include "common/db.h"
#include "common/embed.h"
#include "common/job_msg.h"
#include "common/log.h"
#include "common/run_state.h"
#include "common/sqs.h"
#include "common/timeutil.h"
#include "worker/pipeline.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROXY_MAX_THREADS 64
#define PROXY_KEEPER_TICK_MS 100

struct proxy;

/*
 * One job thread's run as its progress hook last reported it (under p->mu): the
 * keeper repeats it every HEARTBEAT_INTERVAL, as the queue consumer's keeper does,
 * so a long stage (an extraction, a slow embeddings call) keeps the run alive.
 */
struct proxy_beat {
    struct run_owner run;         /* run_id, tenant_id, attempt */
    char stage[24];
    long done, total;
};

struct proxy_job {
    struct proxy *p;
    int active;                   /* from the first milestone to the end of pipeline_process */
    struct proxy_beat beat;       /* the last milestone */
    int64_t last_hb;              /* mono ms of the last write, the job's own or the keeper's */
    int lost;                     /* a heartbeat matched no row: the run is no longer ours */
};

struct proxy {
    const struct config *cfg;
    volatile sig_atomic_t *stop;
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char **held;              /* ring of message bodies */
    int cap, head, n;
    int quit;
    int nthreads;
    pthread_t threads[PROXY_MAX_THREADS];
    struct proxy_job jobs[PROXY_MAX_THREADS];
    int has_keeper;
    int keeper_quit;              /* set after the job threads are joined: their runs beat to the end */
    pthread_t keeper;
};

/* 1 for 127/8, 10/8, 172.16/12, 192.168/16. */
static int private_v4(const struct in_addr *a)
{
    uint32_t h = ntohl(a->s_addr);

    return (h >> 24) == 127 || (h >> 24) == 10 || (h >> 20) == 0xAC1 || (h >> 16) == 0xC0A8;
}

/* "host:port" with host a loopback or private IPv4 address (or "localhost"). 0 or -1 with err. */
static int parse_addr(const char *addr, struct sockaddr_in *sin, char *err, size_t errlen)
{
    const char *colon = strrchr(addr, ':');
    char host[64], *end;
    long port;

    memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    if (!colon || (size_t)(colon - addr) >= sizeof(host)) {
        snprintf(err, errlen, "expected HOST:PORT with a loopback or private IPv4 HOST");
        return -1;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno || *end || port < 1 || port > 65535 || inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
        snprintf(err, errlen, "expected HOST:PORT with a loopback or private IPv4 HOST");
        return -1;
    }
    if (!private_v4(&sin->sin_addr)) {
        snprintf(err, errlen, "must be a loopback or private address: the internal endpoint is never published");
        return -1;
    }
    sin->sin_port = htons((uint16_t)port);
    return 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    struct MHD_Response *r;
    enum MHD_Result ret = MHD_NO;

    json_decref(body);
    r = text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static json_t *error_body(const char *code, const char *message)
{
    return json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
}

/* Check the message and hold it for a job thread: the HTTP status of the answer. */
static unsigned accept_job(struct proxy *p, const char *body, size_t len, char *run_id, const char **why)
{
    struct arena a;
    struct job_msg m;
    char err[256];
    char *copy;
    unsigned status = 202;

    arena_init(&a);
    if (job_msg_parse(body, len, &a, &m, err, sizeof(err)) < 0 || m.type != JOB_UPLOAD_INGEST) {
        *why = "not an upload_ingest message";
        arena_release(&a);
        return 400;
    }
    snprintf(run_id, ID_UUID_LEN + 1, "%s", m.run_id);
    arena_release(&a);
    copy = strndup(body, len);
    pthread_mutex_lock(&p->mu);
    if (!copy || p->n == p->cap || p->quit) {
        *why = "the worker is full or stopping";
        status = 503;
        free(copy);
    } else {
        p->held[(p->head + p->n) % p->cap] = copy;
        p->n++;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return status;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
    struct proxy *p = cls;
    struct buf *b = *req_cls;
    char run_id[ID_UUID_LEN + 1] = "";
    const char *why = "";
    unsigned status;

    (void)version;
    if (strcmp(url, "/internal/ingest") != 0 || strcmp(method, "POST") != 0)
        return reply(conn, 404, error_body("not_found", "POST /internal/ingest only"));
    if (!b) {
        b = malloc(sizeof(*b));
        if (!b)
            return MHD_NO;
        buf_init(b, JOB_MSG_MAX_BODY);
        *req_cls = b;
        return MHD_YES;
    }
    if (*upload_size) {
        if (buf_add(b, upload_data, *upload_size) < 0)
            return MHD_NO;   /* over the queue's own limit: the connection is closed */
        *upload_size = 0;
        return MHD_YES;
    }
    status = accept_job(p, b->ptr ? b->ptr : "", b->len, run_id, &why);
    if (status != 202)
        return reply(conn, status, error_body(status == 400 ? "bad_request" : "unavailable", why));
    return reply(conn, 202, json_pack("{s:b,s:s}", "accepted", 1, "run_id", run_id));
}

static void request_done(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode t)
{
    struct buf *b = *req_cls;

    (void)cls;
    (void)conn;
    (void)t;
    if (b) {
        buf_release(b);
        free(b);
        *req_cls = NULL;
    }
}

/* The next held body, or NULL when quitting. */
static char *take(struct proxy *p)
{
    char *body = NULL;

    pthread_mutex_lock(&p->mu);
    while (!p->quit && p->n == 0)
        pthread_cond_wait(&p->cv, &p->mu);
    if (!p->quit) {
        body = p->held[p->head];
        p->head = (p->head + 1) % p->cap;
        p->n--;
    }
    pthread_mutex_unlock(&p->mu);
    return body;
}

/* Sleep up to ms, in short steps, unless the worker stops. 0 slept, -1 stopping. */
static int nap(struct proxy *p, int64_t ms)
{
    for (int64_t end = time_mono_ms() + ms; time_mono_ms() < end;) {
        if (*p->stop || p->quit)
            return -1;
        time_sleep_ms(100);
    }
    return 0;
}

/* The pipeline's milestone hook: what the keeper repeats. */
static void hook_progress(void *hook, const char *run_id, const char *tenant_id, int attempt, const char *stage,
                          long done, long total)
{
    struct proxy_job *j = hook;
    struct proxy_beat b = {.run = {.attempt = attempt}, .done = done, .total = total};

    snprintf(b.run.run_id, sizeof(b.run.run_id), "%s", run_id);
    snprintf(b.run.tenant_id, sizeof(b.run.tenant_id), "%s", tenant_id);
    snprintf(b.stage, sizeof(b.stage), "%s", stage);
    pthread_mutex_lock(&j->p->mu);
    j->beat = b;
    j->active = 1;
    j->last_hb = time_mono_ms();   /* the job writes this milestone itself */
    pthread_mutex_unlock(&j->p->mu);
}

/* 1 when a heartbeat found the run taken from us (the crash guard failed it, a takeover). */
static int hook_should_stop(void *hook)
{
    struct proxy_job *j = hook;
    int r;

    pthread_mutex_lock(&j->p->mu);
    r = j->lost;
    pthread_mutex_unlock(&j->p->mu);
    return r;
}

/* The job's run is over: nothing for the keeper to repeat. */
static void job_idle(struct proxy_job *j)
{
    pthread_mutex_lock(&j->p->mu);
    j->active = 0;
    j->lost = 0;
    pthread_mutex_unlock(&j->p->mu);
}

/* One job: the pipeline, again after a backoff while it asks for a retry, as the queue would. */
static void run_job(struct proxy_job *j, const struct pipeline_env *env, struct arena *a, const char *body)
{
    struct proxy *p = j->p;
    struct pipeline_result r;

    for (int attempt = 1; attempt <= env->max_receive_count; attempt++) {
        pipeline_process(env, a, body, strlen(body), attempt, &r);
        arena_release(a);
        job_idle(j);
        if (r.action != PIPE_ACT_RELEASE || nap(p, (int64_t)r.visibility_s * 1000) < 0)
            break;
    }
    log_event(LOG_INFO, "proxy job done", json_pack("{s:s,s:s}", "run_id", r.run_id, "outcome",
                                                     r.outcome ? r.outcome : ""));
}

static void *job_main(void *arg)
{
    struct proxy_job *j = arg;
    struct proxy *p = j->p;
    struct embed_config ec = config_embed(p->cfg);
    struct sqs_config sc = config_sqs(p->cfg, 10000);
    char err[256];
    struct embedder *emb = embed_new(&ec, err, sizeof(err));
    struct sqs_client *q = sqs_new(&sc);
    PGconn *conn = NULL;
    struct pipeline_env env;
    struct arena a;
    char *body;

    memset(&env, 0, sizeof(env));
    env.cfg = p->cfg;
    env.conn = &conn;
    env.embedder = emb;
    env.sqs = q;
    env.max_receive_count = (int)p->cfg->max_receive_count;
    env.hooks.progress = hook_progress;
    env.hooks.should_stop = hook_should_stop;
    env.hooks.hook = j;
    arena_init(&a);
    while (emb && (body = take(p)) != NULL) {
        run_job(j, &env, &a, body);
        free(body);
    }
    if (!emb)
        log_event(LOG_ERROR, "proxy job thread cannot start", json_pack("{s:s}", "error", err));
    db_close(&conn);
    embed_free(&emb);
    sqs_free(&q);
    return NULL;
}

/* Write job j's heartbeat when one is due (without the lock while writing). */
static void keeper_beat(struct proxy *p, struct proxy_job *j, PGconn **conn)
{
    struct proxy_beat b;
    enum run_write w = RUN_WRITE_DB;
    int due;

    pthread_mutex_lock(&p->mu);
    due = j->active && !j->lost && strcmp(j->beat.stage, "write") != 0 &&
          time_mono_ms() - j->last_hb >= p->cfg->heartbeat_interval_ms;
    b = j->beat;
    pthread_mutex_unlock(&p->mu);
    if (!due)
        return;
    /* One connection for every job's heartbeat: each sets its run's tenant (row-level security). */
    if (db_ensure(conn, p->cfg->database_url, DB_ROLE_WORKER) == 0 && db_set_tenant(*conn, b.run.tenant_id) == 0)
        w = run_heartbeat(*conn, &b.run, b.stage, b.done, b.total);
    pthread_mutex_lock(&p->mu);
    /* Only for the run it was written for: the thread may have moved on to another one. */
    if (j->active && j->beat.run.attempt == b.run.attempt && strcmp(j->beat.run.run_id, b.run.run_id) == 0) {
        if (w != RUN_WRITE_DB)
            j->last_hb = time_mono_ms();
        if (w == RUN_WRITE_LOST) {
            j->lost = 1;
            log_event(LOG_WARN, "heartbeat matched no row: the run is no longer ours",
                      json_pack("{s:s,s:i}", "run_id", b.run.run_id, "attempt", b.run.attempt));
        }
    }
    pthread_mutex_unlock(&p->mu);
}

static void *keeper_main(void *arg)
{
    struct proxy *p = arg;
    PGconn *conn = NULL;
    int quit = 0;

    while (!quit) {
        for (int i = 0; i < p->nthreads; i++)
            keeper_beat(p, &p->jobs[i], &conn);
        time_sleep_ms(PROXY_KEEPER_TICK_MS);
        pthread_mutex_lock(&p->mu);
        quit = p->keeper_quit;
        pthread_mutex_unlock(&p->mu);
    }
    db_close(&conn);
    return NULL;
}

struct proxy *proxy_start(const struct config *cfg, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    struct sockaddr_in sin;
    struct proxy *p;

    if (parse_addr(cfg->ingest_proxy_addr, &sin, err, errlen) < 0)
        return NULL;
    p = calloc(1, sizeof(*p));
    if (!p || !(p->held = calloc((size_t)cfg->max_inflight, sizeof(char *)))) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->cfg = cfg;
    p->stop = stop;
    p->cap = (int)cfg->max_inflight;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 0; i < cfg->worker_concurrency && i < PROXY_MAX_THREADS; i++) {
        p->jobs[p->nthreads].p = p;
        if (pthread_create(&p->threads[p->nthreads], NULL, job_main, &p->jobs[p->nthreads]) == 0)
            p->nthreads++;
    }
    p->has_keeper = pthread_create(&p->keeper, NULL, keeper_main, p) == 0;
    p->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, p,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_CONNECTION_LIMIT, 64U,
                            MHD_OPTION_CONNECTION_TIMEOUT, 10U, MHD_OPTION_NOTIFY_COMPLETED, request_done, p,
                            MHD_OPTION_END);
    if (!p->d || p->nthreads == 0 || !p->has_keeper) {
        snprintf(err, errlen, "cannot listen on %s or start its threads", cfg->ingest_proxy_addr);
        proxy_stop(&p);
        return NULL;
    }
    log_event(LOG_INFO, "proxy endpoint listening", json_pack("{s:s}", "addr", cfg->ingest_proxy_addr));
    return p;
}

void proxy_stop(struct proxy **pp)
{
    struct proxy *p = pp ? *pp : NULL;

    if (!p)
        return;
    if (p->d)
        MHD_stop_daemon(p->d);
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_lock(&p->mu);
    p->keeper_quit = 1;
    pthread_mutex_unlock(&p->mu);
    if (p->has_keeper)
        pthread_join(p->keeper, NULL);
    /* Held jobs not started stay queued in the database: the crash guard hands them over again. */
    for (int i = 0; i < p->n; i++)
        free(p->held[(p->head + i) % p->cap]);
    free(p->held);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
    *pp = NULL;
}
