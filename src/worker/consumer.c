/*
 * consumer.c - the worker's threads (consumer.h, design in README.md): the
 * receiver fills slots with held messages, job threads run the pipeline on
 * them and act on the result, the keeper extends visibility, repeats
 * heartbeats and probes the database; consumer_run starts them and drains.
 */
#include "worker/consumer.h"

#include "common/arena.h"
#include "common/db.h"
#include "common/embed.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/run_state.h"
#include "common/sqs.h"
#include "common/takeover.h"
#include "common/timeutil.h"
#include "common/upload_path.h"
#include "worker/pipeline.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define KEEPER_TICK_MS 200
#define DB_PROBE_MS 2000
/* A waiting message overtaken by this many larger ones is taken next, whatever its size. */
#define OVERTAKE_LIMIT 4

enum slot_state { SLOT_FREE, SLOT_WAITING, SLOT_RUNNING };

struct slot {
    enum slot_state state;
    char *receipt;
    char *body;
    char *message_id;
    int receive_count;
    long long weight;         /* the upload's size in bytes (0: unknown): larger jobs start first */
    uint64_t seq;             /* arrival order */
    int overtaken;            /* later, larger messages taken before this one */
    int64_t extend_at;        /* mono ms: next ChangeMessageVisibility */
    int finishing;            /* the job thread is acting on the message: keeper hands off */
    int extending;            /* the keeper is in a call for this slot */
    /* heartbeat, set by the job's progress hook */
    int hb_active;
    char run_id[ID_UUID_LEN + 1];
    char tenant_id[ID_UUID_LEN + 1];
    int attempt;
    char stage[24];
    long done, total;
    int64_t last_hb;
    int lost;
};

struct consumer {
    const struct config *cfg;
    volatile sig_atomic_t *stop;
    struct sqs_config sqs_cfg;
    int max_receive_count;
    int vis_s;

    pthread_mutex_t mu;
    pthread_cond_t work_cv;       /* job threads: a slot is waiting, or stopping */
    pthread_cond_t space_cv;      /* receiver and drain: a slot was freed */
    pthread_cond_t keeper_cv;     /* a keeper call for a slot ended */
    struct slot *slots;
    int nslots;
    int held;
    int running;
    int stopping;                 /* no more receives, job threads exit when idle */
    uint64_t next_seq;            /* arrival order of held messages */
    int deadline_passed;          /* SHUTDOWN_GRACE over: running jobs should stop */
    int keeper_stop;
    int receiver_done;
    int db_ok;

    /* the threads (consumer_run) */
    struct job_thread *jt;
    pthread_t *jobs;
    int njobs;
    int started;                  /* job threads running */
    pthread_t keeper, receiver;
    int keeper_up, receiver_up;
};

static struct {
    pthread_mutex_t mu;
    struct consumer_stats s;
} g_stats = {PTHREAD_MUTEX_INITIALIZER, {0}};

static void stat_add(long long *field, long long n)
{
    pthread_mutex_lock(&g_stats.mu);
    *field += n;
    pthread_mutex_unlock(&g_stats.mu);
}

void consumer_stats_get(struct consumer_stats *out)
{
    pthread_mutex_lock(&g_stats.mu);
    *out = g_stats.s;
    pthread_mutex_unlock(&g_stats.mu);
}

static void cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cv, mu, &ts);
}

static void slot_clear(struct slot *s)
{
    free(s->receipt);
    free(s->body);
    free(s->message_id);
    memset(s, 0, sizeof(*s));
}

static void log_sqs_error(const char *what, const struct sqs_error *e)
{
    log_event(LOG_WARN, what, json_pack("{s:s,s:s,s:I}", "code", e->code, "error", e->message,
                                        "http_status", (json_int_t)e->http_status));
}

/* ---- hooks handed to the pipeline ---- */

struct job_thread {
    struct consumer *c;
    int index;
    struct slot *slot;            /* the slot being processed */
};

static void hook_progress(void *hook, const char *run_id, const char *tenant_id, int attempt, const char *stage,
                          long done, long total)
{
    struct job_thread *t = hook;
    struct slot *s = t->slot;

    pthread_mutex_lock(&t->c->mu);
    s->hb_active = 1;
    snprintf(s->run_id, sizeof(s->run_id), "%s", run_id);
    snprintf(s->tenant_id, sizeof(s->tenant_id), "%s", tenant_id);
    s->attempt = attempt;
    snprintf(s->stage, sizeof(s->stage), "%s", stage);
    s->done = done;
    s->total = total;
    s->last_hb = time_mono_ms();   /* the job writes this milestone itself */
    pthread_mutex_unlock(&t->c->mu);
}

static int hook_should_stop(void *hook)
{
    struct job_thread *t = hook;
    int r;

    pthread_mutex_lock(&t->c->mu);
    r = t->slot->lost || t->c->deadline_passed;
    pthread_mutex_unlock(&t->c->mu);
    return r;
}

/* Tell the keeper to leave the slot alone and wait for any call it is in. */
static void slot_begin_finish(struct consumer *c, struct slot *s)
{
    pthread_mutex_lock(&c->mu);
    s->finishing = 1;
    while (s->extending)
        pthread_cond_wait(&c->keeper_cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

static void slot_free(struct consumer *c, struct slot *s)
{
    pthread_mutex_lock(&c->mu);
    if (s->state == SLOT_RUNNING)
        c->running--;
    slot_clear(s);
    c->held--;
    pthread_cond_broadcast(&c->space_cv);
    pthread_mutex_unlock(&c->mu);
}

static void act(struct consumer *c, struct sqs_client *q, struct slot *s, const struct pipeline_result *r)
{
    struct sqs_error e;

    switch (r->action) {
    case PIPE_ACT_DELETE:
        if (sqs_delete(q, c->cfg->sqs_queue_url, s->receipt, &e) != 0)
            log_sqs_error("delete failed (the message will come back and be dropped)", &e);
        break;
    case PIPE_ACT_DLQ:
        if (!c->cfg->sqs_dlq_url[0]) {
            if (sqs_delete(q, c->cfg->sqs_queue_url, s->receipt, &e) != 0)
                log_sqs_error("delete failed", &e);
            break;
        }
        /* Copy first, delete second: at worst a duplicate in the DLQ, never a loss. */
        if (sqs_send(q, c->cfg->sqs_dlq_url, s->body, 0, NULL, 0, &e) != 0) {
            log_sqs_error("send to DLQ failed; message left for redelivery", &e);
            (void)sqs_change_visibility(q, c->cfg->sqs_queue_url, s->receipt, 5, NULL);
            break;
        }
        stat_add(&g_stats.s.dlq, 1);
        if (sqs_delete(q, c->cfg->sqs_queue_url, s->receipt, &e) != 0)
            log_sqs_error("delete failed after the DLQ copy", &e);
        break;
    case PIPE_ACT_RELEASE:
        stat_add(&g_stats.s.released, 1);
        if (sqs_change_visibility(q, c->cfg->sqs_queue_url, s->receipt, r->visibility_s, &e) != 0)
            log_sqs_error("visibility change failed", &e);
        break;
    case PIPE_ACT_DROP:
        break;
    }
}

/*
 * The waiting message a free job thread takes: the largest upload first (a
 * long extraction started last would run alone at the end while the other
 * threads idle), the oldest among equals; a message overtaken OVERTAKE_LIMIT
 * times goes first, so a small one is never starved by a stream of large ones.
 * Under c->mu.
 */
static struct slot *pick_slot(struct consumer *c)
{
    struct slot *best = NULL;

    for (int i = 0; i < c->nslots; i++) {
        struct slot *s = &c->slots[i];
        int due, best_due;

        if (s->state != SLOT_WAITING)
            continue;
        due = s->overtaken >= OVERTAKE_LIMIT;
        best_due = best && best->overtaken >= OVERTAKE_LIMIT;
        if (!best || due > best_due ||
            (due == best_due && (due ? s->seq < best->seq
                                     : s->weight > best->weight || (s->weight == best->weight && s->seq < best->seq))))
            best = s;
    }
    for (int i = 0; best && i < c->nslots; i++)
        if (c->slots[i].state == SLOT_WAITING && c->slots[i].seq < best->seq)
            c->slots[i].overtaken++;
    return best;
}

/* Wait for a held message no job thread has taken; NULL when stopping. Marks it running. */
static struct slot *take_slot(struct consumer *c)
{
    struct slot *s = NULL;

    pthread_mutex_lock(&c->mu);
    while (!c->stopping) {
        s = pick_slot(c);
        if (s)
            break;
        pthread_cond_wait(&c->work_cv, &c->mu);
    }
    if (s) {
        s->state = SLOT_RUNNING;
        c->running++;
    }
    pthread_mutex_unlock(&c->mu);
    return s;
}

/* After the pipeline: act on the message, log it, count the outcome. */
static void finish_message(struct consumer *c, struct sqs_client *q, struct slot *s, const struct pipeline_result *r)
{
    slot_begin_finish(c, s);
    act(c, q, s, r);
    log_event(LOG_INFO, "message done",
              json_pack("{s:s,s:s,s:s,s:i}", "message_id", s->message_id ? s->message_id : "", "run_id", r->run_id,
                        "outcome", r->outcome ? r->outcome : "", "receive_count", s->receive_count));
    if (r->outcome && strcmp(r->outcome, "succeeded") == 0)
        stat_add(&g_stats.s.succeeded, 1);
    else if (r->outcome && strcmp(r->outcome, "failed") == 0)
        stat_add(&g_stats.s.failed, 1);
    else if (r->outcome && strcmp(r->outcome, "requeued") == 0)
        stat_add(&g_stats.s.requeued, 1);
}

static void *job_main(void *arg)
{
    struct job_thread *t = arg;
    struct consumer *c = t->c;
    struct sqs_client *q = sqs_new(&c->sqs_cfg);
    struct embed_config ec = config_embed(c->cfg);
    char err[256];
    struct embedder *emb = embed_new(&ec, err, sizeof(err));
    PGconn *conn = NULL;
    struct pipeline_env env;
    struct slot *s;
    struct arena a;

    if (!q || !emb) {
        log_event(LOG_ERROR, "job thread cannot start", json_pack("{s:s}", "error", emb ? "sqs client" : err));
        sqs_free(&q);
        embed_free(&emb);
        return NULL;
    }
    memset(&env, 0, sizeof(env));
    env.cfg = c->cfg;
    env.conn = &conn;
    env.embedder = emb;
    env.sqs = q;
    env.max_receive_count = c->max_receive_count;
    env.hooks.progress = hook_progress;
    env.hooks.should_stop = hook_should_stop;
    env.hooks.hook = t;
    arena_init(&a);
    for (;;) {
        struct pipeline_result r;

        s = take_slot(c);
        if (!s)
            break;
        t->slot = s;
        pipeline_process(&env, &a, s->body, strlen(s->body), s->receive_count, &r);
        arena_release(&a);
        finish_message(c, q, s, &r);
        t->slot = NULL;
        slot_free(c, s);
    }
    db_close(&conn);
    embed_free(&emb);
    sqs_free(&q);
    return NULL;
}

/* Wait until a slot is free. Returns the room for messages (0: the database is
 * down, do not receive), or -1 when stopping. */
static int wait_room(struct consumer *c)
{
    int room;

    pthread_mutex_lock(&c->mu);
    while (!c->stopping && c->held >= c->nslots)
        cond_wait_ms(&c->space_cv, &c->mu, 1000);
    room = c->stopping ? -1 : c->db_ok ? c->nslots - c->held : 0;
    pthread_mutex_unlock(&c->mu);
    return room;
}

/* The size of the upload a message names, for the order jobs start in (0: unknown,
 * not an upload, not a local file). The pipeline validates the message itself. */
static long long message_weight(const struct consumer *c, const char *body)
{
    json_t *j = json_loads(body, 0, NULL);
    const char *uri = json_string_value(json_object_get(j, "upload_uri"));
    const char *tenant = json_string_value(json_object_get(j, "tenant_id"));
    char path[PATH_MAX], err[160];
    struct stat st;
    long long w = 0;

    if (uri && tenant && c->cfg->upload_dir &&
        upload_path_resolve(uri, c->cfg->upload_dir, tenant, path, sizeof(path), err, sizeof(err)) == RUN_OK &&
        stat(path, &st) == 0)
        w = (long long)st.st_size;
    json_decref(j);
    return w;
}

/* Put a received message in a free slot for the job threads: 0, or -1 when stopping or out of memory. */
static int hold_message(struct consumer *c, const struct sqs_message *m)
{
    struct slot *s = NULL;
    long long weight = message_weight(c, m->body);

    pthread_mutex_lock(&c->mu);
    for (int k = 0; k < c->nslots && !c->stopping && !s; k++)
        if (c->slots[k].state == SLOT_FREE)
            s = &c->slots[k];
    if (s) {
        s->receipt = strdup(m->receipt_handle);
        s->body = strdup(m->body);
        s->message_id = strdup(m->message_id);
        if (!s->receipt || !s->body || !s->message_id) {
            slot_clear(s);
            s = NULL;
        } else {
            s->receive_count = m->receive_count > 0 ? m->receive_count : 1;
            s->weight = weight;
            s->seq = c->next_seq++;
            s->extend_at = time_mono_ms() + (int64_t)c->vis_s * 500;
            s->state = SLOT_WAITING;
            c->held++;
            pthread_cond_signal(&c->work_cv);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return s ? 0 : -1;
}

static void *receiver_main(void *arg)
{
    struct consumer *c = arg;
    struct sqs_client *q = sqs_new(&c->sqs_cfg);
    int backoff_ms = 500;

    if (!q)
        log_event(LOG_ERROR, "receiver cannot start", NULL);
    while (q) {
        struct sqs_message *msgs = NULL;
        struct sqs_error e;
        int n = 0, room = wait_room(c);

        if (room < 0)
            break;
        if (room == 0) {
            /* Without the database no job can progress; every receive would only
             * burn one of the message's maxReceiveCount deliveries. */
            time_sleep_ms(500);
            continue;
        }
        if (sqs_receive(q, c->cfg->sqs_queue_url, room > 10 ? 10 : room,
                        (int)(c->cfg->receive_wait_ms / 1000), c->vis_s, &msgs, &n,
                        &e) != 0) {
            log_sqs_error("receive failed", &e);
            time_sleep_ms(backoff_ms);
            backoff_ms = backoff_ms < 8000 ? backoff_ms * 2 : 8000;
            continue;
        }
        backoff_ms = 500;
        for (int i = 0; i < n; i++) {
            if (hold_message(c, &msgs[i]) == 0)
                stat_add(&g_stats.s.received, 1);
            else   /* Stopping (or out of memory): give it back at once. */
                (void)sqs_change_visibility(q, c->cfg->sqs_queue_url, msgs[i].receipt_handle, 0, NULL);
        }
        sqs_messages_free(msgs, n);
    }
    sqs_free(&q);
    pthread_mutex_lock(&c->mu);
    c->receiver_done = 1;
    pthread_cond_broadcast(&c->space_cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

struct keeper_task {
    int slot;
    char *receipt;               /* extend visibility (NULL: no) */
    int heartbeat;
    struct run_owner run;
    char stage[24];
    long done, total;
};

/* Under c->mu: the calls due for slot s (a visibility extension, a heartbeat) into t. 1 if any. */
static int keeper_task_for(struct consumer *c, struct slot *s, int64_t now, struct keeper_task *t)
{
    memset(t, 0, sizeof(*t));
    if (s->state == SLOT_FREE || s->finishing)
        return 0;
    if (now >= s->extend_at)
        t->receipt = strdup(s->receipt);
    if (s->state == SLOT_RUNNING && s->hb_active && !s->lost && strcmp(s->stage, "write") != 0 &&
        now - s->last_hb >= c->cfg->heartbeat_interval_ms) {
        t->heartbeat = 1;
        snprintf(t->run.run_id, sizeof(t->run.run_id), "%s", s->run_id);
        snprintf(t->run.tenant_id, sizeof(t->run.tenant_id), "%s", s->tenant_id);
        t->run.attempt = s->attempt;
        snprintf(t->stage, sizeof(t->stage), "%s", s->stage);
        t->done = s->done;
        t->total = s->total;
    }
    return t->receipt || t->heartbeat;
}

/* Collect the calls due this tick; the slots they are for are marked extending. Returns their number. */
static int keeper_collect(struct consumer *c, struct keeper_task *tasks, int64_t now)
{
    int nt = 0;

    for (int i = 0; i < c->nslots; i++) {
        if (!keeper_task_for(c, &c->slots[i], now, &tasks[nt]))
            continue;
        tasks[nt].slot = i;
        c->slots[i].extending = 1;
        nt++;
    }
    return nt;
}

/* Make one task's calls (without the lock), then record what they did in its slot. */
static void keeper_run(struct consumer *c, struct sqs_client *q, PGconn **conn, struct keeper_task *t)
{
    struct sqs_error e;
    struct slot *s = &c->slots[t->slot];
    enum run_write w = RUN_WRITE_OK;
    int ok = 1;

    if (t->receipt && sqs_change_visibility(q, c->cfg->sqs_queue_url, t->receipt, c->vis_s, &e) != 0) {
        log_sqs_error("visibility extension failed", &e);
        ok = 0;
    }
    if (t->heartbeat) {
        /* One connection for every slot's heartbeat: each sets its run's tenant (row-level security). */
        if (db_ensure(conn, c->cfg->database_url, DB_ROLE_WORKER) == 0 && db_set_tenant(*conn, t->run.tenant_id) == 0)
            w = run_heartbeat(*conn, &t->run, t->stage, t->done, t->total);
        else
            w = RUN_WRITE_DB;
    }
    pthread_mutex_lock(&c->mu);
    if (t->receipt)
        s->extend_at = time_mono_ms() + (ok ? (int64_t)c->vis_s * 500 : 1000);
    if (t->heartbeat && w != RUN_WRITE_DB)
        s->last_hb = time_mono_ms();
    if (w == RUN_WRITE_LOST) {
        s->lost = 1;
        log_event(LOG_WARN, "heartbeat matched no row: the run is no longer ours",
                  json_pack("{s:s,s:i}", "run_id", t->run.run_id, "attempt", t->run.attempt));
    }
    s->extending = 0;
    pthread_cond_broadcast(&c->keeper_cv);
    pthread_mutex_unlock(&c->mu);
    free(t->receipt);
    t->receipt = NULL;
}

/* Is the database there? Pauses receiving while it is not (and tells /healthz). */
static void keeper_probe_db(struct consumer *c, PGconn **conn)
{
    int ok = db_ensure(conn, c->cfg->database_url, DB_ROLE_WORKER) == 0 && db_exec(*conn, "SELECT 1", 0, NULL) == 0;

    pthread_mutex_lock(&c->mu);
    if (ok != c->db_ok)
        log_event(ok ? LOG_INFO : LOG_WARN, ok ? "database reachable" : "database unreachable: receiving paused",
                  NULL);
    c->db_ok = ok;
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_lock(&g_stats.mu);
    g_stats.s.db_ok = ok;
    pthread_mutex_unlock(&g_stats.mu);
}

/* The held and running gauges for /metrics. */
static void publish_gauges(struct consumer *c)
{
    pthread_mutex_lock(&g_stats.mu);
    pthread_mutex_lock(&c->mu);
    g_stats.s.held = c->held;
    g_stats.s.running = c->running;
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_unlock(&g_stats.mu);
}

static void *keeper_main(void *arg)
{
    struct consumer *c = arg;
    struct sqs_client *q = sqs_new(&c->sqs_cfg);
    PGconn *conn = NULL;
    struct keeper_task *tasks = calloc((size_t)c->nslots, sizeof(*tasks));
    int64_t next_probe = 0, next_publish = 0;

    if (!q || !tasks)
        log_event(LOG_ERROR, "keeper cannot start", NULL);
    while (q && tasks) {
        int64_t now = time_mono_ms();
        int nt;

        pthread_mutex_lock(&c->mu);
        nt = c->keeper_stop ? -1 : keeper_collect(c, tasks, now);
        pthread_mutex_unlock(&c->mu);
        if (nt < 0)
            break;
        for (int k = 0; k < nt; k++)
            keeper_run(c, q, &conn, &tasks[k]);
        if (now >= next_probe) {
            keeper_probe_db(c, &conn);
            next_probe = time_mono_ms() + DB_PROBE_MS;
        }
        if (now >= next_publish && c->db_ok && conn && takeover_publish(conn, c->cfg) == 0)
            next_publish = now + TAKEOVER_PUBLISH_MS;   /* core-api checks RUNNING_TTL against it */
        publish_gauges(c);
        time_sleep_ms(KEEPER_TICK_MS);
    }
    db_close(&conn);
    sqs_free(&q);
    free(tasks);
    return NULL;
}

/*
 * The worker's last attempt relies on the queue's redrive to move the message
 * to the DLQ, so it must know the queue's real maxReceiveCount.
 */
static int redrive_max_receive(const struct config *cfg, const struct sqs_config *sc)
{
    static const char *const names[] = {"RedrivePolicy", NULL};
    struct sqs_client *q = sqs_new(sc);
    json_t *attrs = NULL, *policy = NULL;
    struct sqs_error e;
    int n = (int)cfg->max_receive_count;

    if (!q)
        return n;
    if (sqs_get_attributes(q, cfg->sqs_queue_url, names, &attrs, &e) != 0) {
        log_sqs_error("cannot read the queue's RedrivePolicy; using MAX_RECEIVE_COUNT", &e);
        goto out;
    }
    if (json_is_string(json_object_get(attrs, "RedrivePolicy")))
        policy = json_loads(json_string_value(json_object_get(attrs, "RedrivePolicy")), 0, NULL);
    if (!policy) {
        log_event(LOG_WARN, "the queue has no RedrivePolicy: failed jobs' messages will not reach a DLQ by redrive",
                  NULL);
        goto out;
    }
    {
        json_t *m = json_object_get(policy, "maxReceiveCount");
        long v = json_is_integer(m) ? (long)json_integer_value(m)
                 : json_is_string(m) ? strtol(json_string_value(m), NULL, 10) : 0;

        if (v > 0 && v != n) {
            log_event(LOG_WARN, "MAX_RECEIVE_COUNT differs from the queue's RedrivePolicy; using the queue's",
                      json_pack("{s:I,s:I}", "configured", (json_int_t)n, "queue", (json_int_t)v));
            n = (int)v;
        }
    }
out:
    json_decref(policy);
    json_decref(attrs);
    sqs_free(&q);
    return n;
}

/*
 * Requeue a run whose job did not finish by the deadline, so its redelivery can claim it at once.
 * The job threads still run: a slot is read under the lock and copied, because a job that
 * finishes meanwhile frees its receipt (slot_free) while we would be using it.
 */
static void requeue_unfinished(struct consumer *c, struct sqs_client *q)
{
    PGconn *conn = NULL;
    char err[256];

    for (int i = 0; i < c->nslots; i++) {
        struct slot *s = &c->slots[i];
        struct run_owner run;
        char *receipt = NULL;
        int hb;

        pthread_mutex_lock(&c->mu);
        if (s->state != SLOT_RUNNING || s->finishing) {
            pthread_mutex_unlock(&c->mu);
            continue;
        }
        hb = s->hb_active;
        memset(&run, 0, sizeof(run));
        snprintf(run.run_id, sizeof(run.run_id), "%s", s->run_id);
        snprintf(run.tenant_id, sizeof(run.tenant_id), "%s", s->tenant_id);
        run.attempt = s->attempt;
        receipt = s->receipt ? strdup(s->receipt) : NULL;
        pthread_mutex_unlock(&c->mu);
        if (hb) {
            if (!conn)
                conn = db_connect(c->cfg->database_url, DB_ROLE_WORKER, err, sizeof(err));
            if (conn && db_set_tenant(conn, run.tenant_id) == 0)
                (void)run_requeue(conn, &run, RUN_FAIL_INTERNAL, "worker shut down before the job finished");
        }
        if (receipt)
            (void)sqs_change_visibility(q, c->cfg->sqs_queue_url, receipt, 0, NULL);
        free(receipt);
        log_event(LOG_WARN, "shutdown deadline: job abandoned and its message released",
                  json_pack("{s:s}", "run_id", run.run_id));
    }
    db_close(&conn);
}

/* The consumer with its slots and thread tables (check them: NULL when memory was short). NULL if none. */
static struct consumer *consumer_new(const struct config *cfg, volatile sig_atomic_t *stop)
{
    struct consumer *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->cfg = cfg;
    c->stop = stop;
    c->sqs_cfg = config_sqs(cfg, 15000);
    c->vis_s = (int)(cfg->visibility_timeout_ms / 1000);
    if (c->vis_s < 1)
        c->vis_s = 1;
    c->nslots = (int)cfg->max_inflight;
    c->njobs = (int)cfg->worker_concurrency;
    if (c->nslots < c->njobs)
        log_event(LOG_WARN, "MAX_INFLIGHT is below WORKER_CONCURRENCY: some job threads will idle", NULL);
    c->db_ok = 1;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->work_cv, NULL);
    pthread_cond_init(&c->space_cv, NULL);
    pthread_cond_init(&c->keeper_cv, NULL);
    c->slots = calloc((size_t)c->nslots, sizeof(*c->slots));
    c->jobs = calloc((size_t)c->njobs, sizeof(*c->jobs));
    c->jt = calloc((size_t)c->njobs, sizeof(*c->jt));
    return c;
}

/* Only once no thread uses it any more. */
static void consumer_free(struct consumer **cp)
{
    struct consumer *c = *cp;

    if (!c)
        return;
    free(c->slots);
    free(c->jobs);
    free(c->jt);
    free(c);
    *cp = NULL;
}

/* Keeper, job threads, receiver: 0 when all run, -1 when one could not start (those up stay up). */
static int start_threads(struct consumer *c)
{
    if (pthread_create(&c->keeper, NULL, keeper_main, c) != 0)
        return -1;
    c->keeper_up = 1;
    for (; c->started < c->njobs; c->started++) {
        c->jt[c->started].c = c;
        c->jt[c->started].index = c->started;
        if (pthread_create(&c->jobs[c->started], NULL, job_main, &c->jt[c->started]) != 0)
            return -1;
    }
    if (pthread_create(&c->receiver, NULL, receiver_main, c) != 0)
        return -1;
    c->receiver_up = 1;
    return 0;
}

/* Give back the messages no job thread has started (visibility 0). */
static void release_waiting(struct consumer *c, struct sqs_client *q)
{
    for (int i = 0; i < c->nslots; i++) {
        struct slot *s = &c->slots[i];
        int waiting;

        pthread_mutex_lock(&c->mu);
        waiting = s->state == SLOT_WAITING;
        if (waiting) {
            s->finishing = 1;
            while (s->extending)
                pthread_cond_wait(&c->keeper_cv, &c->mu);
        }
        pthread_mutex_unlock(&c->mu);
        if (!waiting)
            continue;
        (void)sqs_change_visibility(q, c->cfg->sqs_queue_url, s->receipt, 0, NULL);
        pthread_mutex_lock(&c->mu);
        slot_clear(s);
        c->held--;
        pthread_mutex_unlock(&c->mu);
    }
}

/* Let running jobs finish until deadline, then stop the keeper. 1 if jobs are still running. */
static int wait_jobs(struct consumer *c, int64_t deadline)
{
    int left;

    pthread_mutex_lock(&c->mu);
    while (c->running > 0 && time_mono_ms() < deadline)
        cond_wait_ms(&c->space_cv, &c->mu, 200);
    left = c->running > 0;
    if (left)
        c->deadline_passed = 1;
    c->keeper_stop = 1;
    pthread_mutex_unlock(&c->mu);
    if (c->keeper_up)
        pthread_join(c->keeper, NULL);
    return left;
}

/*
 * A long poll cannot be interrupted, and a message the queue hands to a poll
 * nobody reads any more stays invisible for a whole visibility timeout (and
 * uses up one of its receives): wait for the poll to end, within the grace
 * period (at least a moment), so the receiver can give such messages back.
 * 1 if the receiver is still in its poll.
 */
static int wait_receiver(struct consumer *c, int64_t deadline)
{
    int64_t until = deadline > time_mono_ms() + 1000 ? deadline : time_mono_ms() + 1000;
    int done;

    if (!c->receiver_up)
        return 0;
    pthread_mutex_lock(&c->mu);
    while (!c->receiver_done && time_mono_ms() < until)
        cond_wait_ms(&c->space_cv, &c->mu, 100);
    done = c->receiver_done;
    pthread_mutex_unlock(&c->mu);
    if (done)
        pthread_join(c->receiver, NULL);
    return !done;
}

/* Stop receiving, give back what was not started, let running jobs finish, then
 * requeue what is left. *threads_left: threads still run (the consumer must stay). */
static void drain(struct consumer *c, struct sqs_client *q, int *threads_left)
{
    int64_t deadline;

    log_event(LOG_INFO, "shutting down: draining in-flight jobs",
              json_pack("{s:I}", "grace_ms", (json_int_t)c->cfg->shutdown_grace_ms));
    pthread_mutex_lock(&c->mu);
    c->stopping = 1;
    pthread_cond_broadcast(&c->work_cv);
    pthread_cond_broadcast(&c->space_cv);
    pthread_mutex_unlock(&c->mu);
    if (c->slots && q)
        release_waiting(c, q);
    deadline = time_mono_ms() + c->cfg->shutdown_grace_ms;
    *threads_left = wait_jobs(c, deadline);
    if (*threads_left && q)
        requeue_unfinished(c, q);
    if (!*threads_left) {
        for (int i = 0; i < c->started; i++)
            pthread_join(c->jobs[i], NULL);
    }
    if (wait_receiver(c, deadline))
        *threads_left = 1;
    log_event(LOG_INFO, "consumer stopped", json_pack("{s:b}", "clean", !*threads_left));
}

int consumer_run(const struct config *cfg, volatile sig_atomic_t *stop, int *threads_left)
{
    /* Not on this stack: with jobs left past the deadline this function returns while
     * their threads still use the consumer (mutex, slots), until the process _exits. */
    struct consumer *c = consumer_new(cfg, stop);
    struct sqs_client *q = NULL;
    int rc = 1;

    *threads_left = 0;
    if (!c) {
        log_event(LOG_ERROR, "out of memory at start-up", NULL);
        return 1;
    }
    q = sqs_new(&c->sqs_cfg);
    if (!c->slots || !c->jobs || !c->jt || !q) {
        log_event(LOG_ERROR, "out of memory at start-up", NULL);
    } else {
        c->max_receive_count = redrive_max_receive(cfg, &c->sqs_cfg);
        if (start_threads(c) == 0) {
            log_event(LOG_INFO, "consumer started",
                      json_pack("{s:i,s:i,s:i,s:i,s:s}", "concurrency", c->njobs, "max_inflight", c->nslots,
                                "visibility_s", c->vis_s, "max_receive_count", c->max_receive_count, "queue",
                                cfg->sqs_queue_url));
            while (!*stop)
                time_sleep_ms(100);
            rc = 0;
        }
    }
    drain(c, q, threads_left);
    sqs_free(&q);
    if (!*threads_left)
        consumer_free(&c);
    return rc;
}
