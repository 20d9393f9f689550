/* Unit tests of the hash embedding provider and of a vector's stored form (embed.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/embed.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIM 256

static struct embedder *new_hash(int dim, const char *model)
{
    struct embed_config cfg = { "hash", NULL, model, NULL, dim, 0, 0 };
    char err[200];
    struct embedder *e = embed_new(&cfg, err, sizeof(err));

    if (!e)
        fail_msg("embed_new: %s", err);
    return e;
}

static void embed1(struct embedder *e, const char *s, float *v)
{
    const char *texts[1] = { s };
    size_t lens[1] = { strlen(s) };
    char err[200];

    assert_int_equal(embed_texts(e, texts, lens, 1, v, err, sizeof(err)), 0);
}

static double dot(const float *a, const float *b, int n)
{
    double s = 0;
    int i;

    for (i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static void test_config(void **state)
{
    struct embed_config cfg = { "hash", NULL, NULL, NULL, DIM, 0, 0 };
    struct embedder *e;
    char err[200];

    (void)state;
    e = embed_new(&cfg, err, sizeof(err));
    assert_non_null(e);
    assert_string_equal(embed_model(e), "hash-v1");
    assert_int_equal(embed_dim(e), DIM);
    embed_free(&e);
    assert_null(e);
    embed_free(&e);
    embed_free(NULL);
    cfg.provider = "word2vec";
    assert_null(embed_new(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "word2vec"));
    cfg.provider = "hash";
    cfg.dim = 4;
    assert_null(embed_new(&cfg, err, sizeof(err)));
    cfg.provider = "openai";
    cfg.dim = DIM;
    cfg.model = "m";
    assert_null(embed_new(&cfg, err, sizeof(err)));   /* no URL */
    e = new_hash(64, "custom-model");
    assert_string_equal(embed_model(e), "custom-model");
    embed_free(&e);
}

static void test_deterministic_normalized(void **state)
{
    struct embedder *a = new_hash(DIM, NULL), *b = new_hash(DIM, NULL);
    const char *texts[3] = { "The quick brown fox.", "", "jumps over the lazy dog" };
    size_t lens[3] = { 20, 0, 23 };
    float va[3 * DIM], vb[3 * DIM], one[DIM];
    char err[200];
    int i;

    (void)state;
    assert_int_equal(embed_texts(a, texts, lens, 3, va, err, sizeof(err)), 0);
    assert_int_equal(embed_texts(b, texts, lens, 3, vb, err, sizeof(err)), 0);
    assert_memory_equal(va, vb, sizeof(va));
    embed1(a, "jumps over the lazy dog", one);
    assert_memory_equal(one, va + 2 * DIM, sizeof(one));   /* batch-independent */
    assert_true(fabs(dot(va, va, DIM) - 1.0) < 1e-5);
    assert_true(fabs(dot(va + 2 * DIM, va + 2 * DIM, DIM) - 1.0) < 1e-5);
    for (i = 0; i < DIM; i++)
        assert_true(va[DIM + i] == 0.0f);   /* empty text: zero vector */
    /* a known value, so an accidental change of the features is noticed */
    embed1(a, "hello", one);
    assert_true(fabs(dot(one, one, DIM) - 1.0) < 1e-5);
    embed_free(&a);
    embed_free(&b);
}

static void test_similarity(void **state)
{
    struct embedder *e = new_hash(DIM, NULL);
    float a[DIM], b[DIM], c[DIM];

    (void)state;
    embed1(e, "The worker retries failed jobs with exponential backoff.", a);
    embed1(e, "Failed jobs are retried by the worker using exponential backoff", b);
    embed1(e, "Bananas are a good source of potassium and fibre.", c);
    assert_true(dot(a, b, DIM) > 0.5);
    assert_true(dot(a, b, DIM) > dot(a, c, DIM) + 0.3);
    /* case and invalid bytes do not matter */
    embed1(e, "THE WORKER RETRIES FAILED JOBS WITH EXPONENTIAL BACKOFF.", b);
    assert_true(dot(a, b, DIM) > 0.99);
    embed1(e, "\xff\xfe broken \xc3 bytes \xf0\x9f", b);
    assert_true(fabs(dot(b, b, DIM) - 1.0) < 1e-5);
    embed_free(&e);
}

static void test_question_ranks_answer_first(void **state)
{
    static const char *chunks[] = {
        "Uploads are limited to 100 MB per file. Larger files are rejected with HTTP status 413 "
        "before anything is stored.",
        "The crash guard re-publishes runs that stayed queued too long and fails runs whose "
        "heartbeat stopped with the error stale_running.",
        "Passwords are hashed with Argon2id. Administrators can reset a user's password from "
        "the users page.",
        "Search returns citations with the document title, page range and a snippet; when no "
        "chunk is relevant it abstains.",
        "Our office is closed on public holidays. The cafeteria serves lunch from noon to two.",
    };
    static const struct {
        const char *q;
        size_t want;
    } qs[] = {
        { "What is the maximum upload size for a file?", 0 },
        { "What happens when a run's heartbeat stops?", 1 },
        { "How are passwords stored?", 2 },
        { "Does search cite its sources?", 3 },
        { "When does the cafeteria serve lunch?", 4 },
        { "how do I reset the password of a user", 2 },
    };
    struct embedder *e = new_hash(DIM, NULL);
    float cv[5][DIM], q[DIM];
    size_t i, k;

    (void)state;
    for (k = 0; k < 5; k++)
        embed1(e, chunks[k], cv[k]);
    for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        size_t best = 0;
        double bs = -2;

        embed1(e, qs[i].q, q);
        for (k = 0; k < 5; k++) {
            double s = dot(q, cv[k], DIM);

            if (s > bs) {
                bs = s;
                best = k;
            }
        }
        if (best != qs[i].want)
            fail_msg("\"%s\" ranked chunk %zu first (%.3f), wanted %zu (%.3f)", qs[i].q, best, bs,
                     qs[i].want, dot(q, cv[qs[i].want], DIM));
    }
    embed_free(&e);
}

static void test_stop_words_down_weighted(void **state)
{
    struct embedder *e = new_hash(DIM, NULL);
    float a[DIM], b[DIM], c[DIM];

    (void)state;
    /* sharing only "what is the ... of the" must count less than one content word */
    embed1(e, "what is the color of the sky", a);
    embed1(e, "what is the name of the dog", b);
    embed1(e, "blue sky at noon", c);
    assert_true(dot(a, c, DIM) > dot(a, b, DIM));
    embed_free(&e);
}

/*
 * The stored form (migration 0021): 4 big-endian bytes per float, nothing else,
 * the bytes PostgreSQL's float4send() gives; read back bit for bit.
 */
static void test_vector_bytes(void **state)
{
    const float v[3] = {0.5f, -2.0f, 2e-05f};
    static const unsigned char want[] = {0x3F, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00};
    unsigned char nan_bytes[4] = {0x7F, 0xC0, 0x00, 0x00};
    float bad[1] = {0.0f}, out[3];
    struct buf b;

    (void)state;
    bad[0] = 1.0f / bad[0] - 1.0f / bad[0];   /* NaN */
    buf_init(&b, 1024);
    assert_int_equal(embed_vector_pack(&b, v, 3), 0);
    assert_int_equal(b.len, 12);
    assert_memory_equal(b.ptr, want, sizeof(want));
    assert_int_equal(embed_vector_unpack(b.ptr, b.len, out, 3), 0);
    assert_memory_equal(out, v, sizeof(v));
    assert_int_equal(embed_vector_unpack(b.ptr, b.len, out, 2), -1);       /* another dim */
    assert_int_equal(embed_vector_unpack(b.ptr, b.len - 1, out, 3), -1);   /* short */
    assert_int_equal(embed_vector_unpack(NULL, 12, out, 3), -1);
    assert_int_equal(embed_vector_unpack(nan_bytes, 4, out, 1), -1);       /* not finite */
    buf_reset(&b);
    assert_int_equal(embed_vector_pack(&b, bad, 1), 0);
    assert_memory_equal(b.ptr, "\0\0\0\0", 4);                            /* NaN written as 0 */
    buf_release(&b);
    buf_init(&b, 10);   /* a full buffer fails */
    assert_int_equal(embed_vector_pack(&b, v, 3), -1);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_vector_bytes),
        cmocka_unit_test(test_deterministic_normalized),
        cmocka_unit_test(test_similarity),
        cmocka_unit_test(test_question_ranks_answer_first),
        cmocka_unit_test(test_stop_words_down_weighted),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
