/*
 * metrics.c - request counters and latency histograms, lock-free on the hot path.
 *
 * Series live in a fixed table of (route, method) slots. A slot is claimed once
 * under a mutex and published by bumping nslots (release); readers scan the
 * published slots without a lock. Routes are patterns (a handful), so the table
 * never fills in practice; if it did, the rest is counted under route "other".
 */
#include "api/http/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define METRICS_SLOTS 96
#define METRICS_ROUTE_MAX 64
#define METRICS_METHOD_MAX 12

/* Upper bounds of the latency buckets, in milliseconds. */
static const int64_t bucket_ms[] = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000};
#define NBUCKETS (sizeof(bucket_ms) / sizeof(bucket_ms[0]))

struct slot {
    char route[METRICS_ROUTE_MAX];
    char method[METRICS_METHOD_MAX];
    atomic_uint_fast64_t by_class[6];          /* index status/100 (0: other) */
    atomic_uint_fast64_t buckets[NBUCKETS];    /* not cumulative; summed at render */
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum_ms;
};

static struct slot slots[METRICS_SLOTS];
static atomic_size_t nslots;
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t uploads_total;
static atomic_uint_fast64_t upload_bytes_total;

static int slot_is(const struct slot *s, const char *route, const char *method)
{
    return strncmp(s->route, route, METRICS_ROUTE_MAX - 1) == 0 &&
           strncmp(s->method, method, METRICS_METHOD_MAX - 1) == 0;
}

static struct slot *slot_get(const char *route, const char *method)
{
    size_t n = atomic_load_explicit(&nslots, memory_order_acquire);
    struct slot *s = NULL;

    for (size_t i = 0; i < n; i++)
        if (slot_is(&slots[i], route, method))
            return &slots[i];
    pthread_mutex_lock(&slots_mu);
    n = atomic_load_explicit(&nslots, memory_order_relaxed);
    for (size_t i = 0; i < n && !s; i++)
        if (slot_is(&slots[i], route, method))
            s = &slots[i];
    if (!s && n < METRICS_SLOTS) {
        s = &slots[n];
        snprintf(s->route, sizeof(s->route), "%s", n == METRICS_SLOTS - 1 ? "other" : route);
        snprintf(s->method, sizeof(s->method), "%s", n == METRICS_SLOTS - 1 ? "" : method);
        atomic_store_explicit(&nslots, n + 1, memory_order_release);
    } else if (!s) {
        s = &slots[METRICS_SLOTS - 1];    /* "other" */
    }
    pthread_mutex_unlock(&slots_mu);
    return s;
}

void metrics_request(const char *route, const char *method, unsigned status, int64_t duration_ms)
{
    struct slot *s = slot_get(route ? route : "unmatched", method ? method : "");
    unsigned cls = status / 100;
    size_t b = 0;

    if (duration_ms < 0)
        duration_ms = 0;
    atomic_fetch_add_explicit(&s->by_class[cls >= 1 && cls <= 5 ? cls : 0], 1, memory_order_relaxed);
    while (b < NBUCKETS && duration_ms > bucket_ms[b])
        b++;
    if (b < NBUCKETS)
        atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_ms, (uint_fast64_t)duration_ms, memory_order_relaxed);
}

void metrics_upload(uint64_t bytes)
{
    atomic_fetch_add_explicit(&uploads_total, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&upload_bytes_total, bytes, memory_order_relaxed);
}

/* Label values: escape backslash, quote and newline (Prometheus text format). */
static void label_escape(const char *in, char *out, size_t outlen)
{
    size_t o = 0;

    for (; *in && o + 2 < outlen; in++) {
        if (*in == '\\' || *in == '"') {
            out[o++] = '\\';
            out[o++] = *in;
        } else if (*in == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
}

static const char *const class_names[6] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};

int metrics_render(struct buf *out)
{
    size_t n = atomic_load_explicit(&nslots, memory_order_acquire);
    int rc = 0;

    rc |= buf_adds(out, "# HELP http_requests_total HTTP requests by route pattern, method and status class.\n"
                        "# TYPE http_requests_total counter\n");
    for (size_t i = 0; i < n && rc == 0; i++) {
        char route[2 * METRICS_ROUTE_MAX], method[2 * METRICS_METHOD_MAX];

        label_escape(slots[i].route, route, sizeof(route));
        label_escape(slots[i].method, method, sizeof(method));
        for (int c = 0; c < 6 && rc == 0; c++) {
            uint64_t v = atomic_load_explicit(&slots[i].by_class[c], memory_order_relaxed);

            if (v)
                rc |= buf_addf(out, "http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} %llu\n",
                               route, method, class_names[c], (unsigned long long)v);
        }
    }
    rc |= buf_adds(out, "# HELP http_request_duration_seconds HTTP request latency by route pattern and method.\n"
                        "# TYPE http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < n && rc == 0; i++) {
        char route[2 * METRICS_ROUTE_MAX], method[2 * METRICS_METHOD_MAX];
        uint64_t cum = 0, count, sum;

        label_escape(slots[i].route, route, sizeof(route));
        label_escape(slots[i].method, method, sizeof(method));
        /* Read count first: buckets may run ahead of it, never behind, under concurrent updates. */
        count = atomic_load_explicit(&slots[i].count, memory_order_relaxed);
        sum = atomic_load_explicit(&slots[i].sum_ms, memory_order_relaxed);
        for (size_t b = 0; b < NBUCKETS && rc == 0; b++) {
            cum += atomic_load_explicit(&slots[i].buckets[b], memory_order_relaxed);
            rc |= buf_addf(out, "http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"%g\"} %llu\n",
                           route, method, (double)bucket_ms[b] / 1000.0,
                           (unsigned long long)(cum < count ? cum : count));
        }
        if (rc == 0)
            rc |= buf_addf(out,
                           "http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"+Inf\"} %llu\n"
                           "http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.3f\n"
                           "http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %llu\n",
                           route, method, (unsigned long long)count, route, method, (double)sum / 1000.0, route,
                           method, (unsigned long long)count);
    }
    if (rc == 0)
        rc |= buf_addf(out,
                       "# HELP uploads_total Uploads accepted (stored and queued or deduplicated).\n"
                       "# TYPE uploads_total counter\n"
                       "uploads_total %llu\n"
                       "# HELP upload_bytes_total Bytes of accepted uploads.\n"
                       "# TYPE upload_bytes_total counter\n"
                       "upload_bytes_total %llu\n",
                       (unsigned long long)atomic_load(&uploads_total),
                       (unsigned long long)atomic_load(&upload_bytes_total));
    return rc ? -1 : 0;
}
