/*
 * The openai embedding provider against tests/lib/fake-embeddings.mjs.
 * Run by tests/integration/embed.test.mjs with TEST_EMBED_URL set; each case
 * sets the fake server up through its control endpoint (POST /__control).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/embed.h"
#include "common/httpc.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DIM 64

static const char *base;

static json_t *control(const char *body)
{
    struct httpc h;
    struct httpc_request req;
    struct httpc_response resp;
    char url[512], err[256];
    json_t *j;

    snprintf(url, sizeof(url), "%s/__control", base);
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.timeout_ms = 5000;
    assert_int_equal(httpc_init(&h), 0);
    if (httpc_do(&h, &req, &resp, err, sizeof(err)) < 0)
        fail_msg("control: %s", err);
    assert_int_equal(resp.status, 200);
    j = json_loads(resp.body.ptr, 0, NULL);
    assert_non_null(j);
    httpc_response_release(&resp);
    httpc_release(&h);
    return j;
}

static void setup_fake(const char *body)
{
    json_decref(control("{\"reset\": true}"));
    if (body)
        json_decref(control(body));
}

static long requests(void)
{
    json_t *j = control(NULL);
    long n = (long)json_integer_value(json_object_get(j, "requests"));

    json_decref(j);
    return n;
}

static struct embedder *new_openai(int batch, long timeout_ms)
{
    struct embed_config cfg = { "openai", base, "fake-model", "sk-test", DIM, batch, timeout_ms };
    char err[256];
    struct embedder *e = embed_new(&cfg, err, sizeof(err));

    if (!e)
        fail_msg("embed_new: %s", err);
    return e;
}

static void texts10(const char *texts[10], size_t lens[10])
{
    static char store[10][32];
    int i;

    for (i = 0; i < 10; i++) {
        snprintf(store[i], sizeof(store[i]), "text number %d", i % 7);
        texts[i] = store[i];
        lens[i] = strlen(store[i]);
    }
}

static void test_batching_and_order(void **state)
{
    struct embedder *e = new_openai(4, 5000);
    const char *texts[10];
    size_t lens[10];
    float v[10 * DIM], w[10 * DIM];
    char err[256];
    json_t *j;
    int i;

    (void)state;
    texts10(texts, lens);
    setup_fake(NULL);
    assert_int_equal(embed_texts(e, texts, lens, 10, v, err, sizeof(err)), 0);
    j = control(NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "requests")), 3);
    assert_int_equal(json_array_size(json_object_get(j, "inputs")), 3);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "inputs"), 0)), 4);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "inputs"), 2)), 2);
    json_decref(j);
    for (i = 0; i < 10; i++) {
        double s = 0;
        int k;

        for (k = 0; k < DIM; k++)
            s += (double)v[i * DIM + k] * v[i * DIM + k];
        assert_true(fabs(s - 1.0) < 1e-4);
    }
    /* text 7 is text 0 again, in another batch: same vector */
    assert_memory_equal(v, v + 7 * DIM, DIM * sizeof(float));
    assert_memory_not_equal(v, v + DIM, DIM * sizeof(float));
    /* the server answers in reverse order: data[i].index puts them back */
    setup_fake("{\"shuffle\": true}");
    assert_int_equal(embed_texts(e, texts, lens, 10, w, err, sizeof(err)), 0);
    assert_memory_equal(v, w, sizeof(v));
    embed_free(&e);
}

static void test_retry_then_success(void **state)
{
    struct embedder *e = new_openai(16, 5000);
    const char *texts[10];
    size_t lens[10];
    float v[10 * DIM];
    char err[256];

    (void)state;
    texts10(texts, lens);
    setup_fake("{\"failures\": {\"status\": 429, \"count\": 2, \"retryAfter\": 0}}");
    if (embed_texts(e, texts, lens, 10, v, err, sizeof(err)) != 0)
        fail_msg("429: %s", err);
    assert_int_equal(requests(), 3);
    setup_fake("{\"failures\": {\"status\": 503, \"count\": 2}}");
    if (embed_texts(e, texts, lens, 10, v, err, sizeof(err)) != 0)
        fail_msg("503: %s", err);
    assert_int_equal(requests(), 3);
    embed_free(&e);
}

static void test_retry_after_honoured(void **state)
{
    struct embedder *e = new_openai(16, 5000);
    const char *texts[1] = { "hello" };
    size_t lens[1] = { 5 };
    float v[DIM];
    char err[256];
    struct timespec t0, t1;
    double secs;

    (void)state;
    setup_fake("{\"failures\": {\"status\": 429, \"count\": 1, \"retryAfter\": 1}}");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(embed_texts(e, texts, lens, 1, v, err, sizeof(err)), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs >= 0.95);
    embed_free(&e);
}

static void test_gives_up(void **state)
{
    struct embedder *e = new_openai(16, 5000);
    const char *texts[1] = { "hello" };
    size_t lens[1] = { 5 };
    float v[DIM];
    char err[256];

    (void)state;
    setup_fake("{\"failures\": {\"status\": 500, \"count\": 100}}");
    assert_int_equal(embed_texts(e, texts, lens, 1, v, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "HTTP 500"));
    assert_non_null(strstr(err, "5 attempts"));
    assert_int_equal(requests(), 5);
    /* a client error is not retried */
    setup_fake("{\"failures\": {\"status\": 401, \"count\": 100}}");
    assert_int_equal(embed_texts(e, texts, lens, 1, v, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "HTTP 401"));
    assert_int_equal(requests(), 1);
    embed_free(&e);
}

static void test_timeout(void **state)
{
    struct embedder *e = new_openai(16, 300);
    const char *texts[1] = { "slow" };
    size_t lens[1] = { 4 };
    float v[DIM];
    char err[256];

    (void)state;
    /* one slow answer: timed out, retried, then fine */
    setup_fake("{\"failures\": {\"delayMs\": 1500, \"count\": 1}}");
    if (embed_texts(e, texts, lens, 1, v, err, sizeof(err)) != 0)
        fail_msg("timeout once: %s", err);
    assert_int_equal(requests(), 2);
    /* always slow: an error after the attempts */
    setup_fake("{\"failures\": {\"delayMs\": 1500, \"count\": 100}}");
    assert_int_equal(embed_texts(e, texts, lens, 1, v, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "transport"));
    embed_free(&e);
}

static void test_dimension_mismatch(void **state)
{
    struct embedder *e = new_openai(16, 5000);
    const char *texts[1] = { "hello" };
    size_t lens[1] = { 5 };
    float v[DIM];
    char err[256];

    (void)state;
    setup_fake("{\"dim\": 32}");
    assert_int_equal(embed_texts(e, texts, lens, 1, v, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "dimension mismatch"));
    embed_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batching_and_order),
        cmocka_unit_test(test_retry_then_success),
        cmocka_unit_test(test_retry_after_honoured),
        cmocka_unit_test(test_gives_up),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_dimension_mismatch),
    };

    base = getenv("TEST_EMBED_URL");
    if (!base || !*base) {
        fprintf(stderr, "TEST_EMBED_URL is not set (run through tests/integration/embed.test.mjs)\n");
        return 2;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
