/* Unit tests of api/rank.c: RRF, cosine, vector parsing, the evidence threshold, snippets. */
#include "api/handlers/rank.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#define assert_close(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9)

static void test_rrf(void **state)
{
    (void)state;
    assert_close(rank_rrf(1, 60), 1.0 / 61);
    assert_close(rank_rrf(10, 60), 1.0 / 70);
    assert_close(rank_rrf(0, 60), 0.0);
    assert_close(rank_rrf(-3, 60), 0.0);
}

static void test_cosine(void **state)
{
    float a[3] = {1, 0, 0}, b[3] = {0, 1, 0}, c[3] = {2, 0, 0}, d[3] = {-1, 0, 0}, z[3] = {0, 0, 0};
    float e[2] = {1, 1}, f[2] = {1, 0};

    (void)state;
    assert_close(rank_cosine(a, b, 3), 0.0);
    assert_close(rank_cosine(a, c, 3), 1.0);   /* not only unit vectors */
    assert_close(rank_cosine(a, d, 3), -1.0);
    assert_close(rank_cosine(a, z, 3), 0.0);   /* zero vector: no similarity, no NaN */
    assert_true(fabs(rank_cosine(e, f, 2) - sqrt(0.5)) < 1e-6);
    assert_close(rank_cosine(a, b, 0), 0.0);
}

static void test_parse_vector(void **state)
{
    float v[3];

    (void)state;
    assert_int_equal(rank_parse_vector("{0.5,-1,2e-05}", v, 3), 0);
    assert_true(fabsf(v[0] - 0.5f) < 1e-7f && fabsf(v[1] + 1.0f) < 1e-7f && fabsf(v[2] - 2e-05f) < 1e-9f);
    assert_int_equal(rank_parse_vector("{0.5,-1}", v, 3), -1);         /* too short */
    assert_int_equal(rank_parse_vector("{0.5,-1,2,3}", v, 3), -1);     /* too long */
    assert_int_equal(rank_parse_vector("{0.5,x,2}", v, 3), -1);
    assert_int_equal(rank_parse_vector("{0.5,NaN,2}", v, 3), -1);
    assert_int_equal(rank_parse_vector("{}", v, 3), -1);
    assert_int_equal(rank_parse_vector("0.5,1,2", v, 3), -1);
    assert_int_equal(rank_parse_vector("{0.5,1,2}x", v, 3), -1);
    assert_int_equal(rank_parse_vector(NULL, v, 3), -1);
}

static void test_fuse(void **state)
{
    /* idx 0: best FTS, weak vector; idx 1: second FTS, best vector; idx 2: no vector. */
    struct rank_cand c[3];

    (void)state;
    memset(c, 0, sizeof(c));
    c[0].idx = 0; c[0].fts = 0.9; c[0].has_vec = 1; c[0].cosine = 0.1;
    c[1].idx = 1; c[1].fts = 0.5; c[1].has_vec = 1; c[1].cosine = 0.8;
    c[2].idx = 2; c[2].fts = 0.7; c[2].has_vec = 0;
    rank_fuse(c, 3, RANK_RRF_K);
    /* idx 0: 1/61 + 1/62 beats idx 1: 1/63 + 1/61 */
    assert_int_equal(c[0].idx, 0);
    assert_int_equal(c[0].fts_rank, 1);
    assert_int_equal(c[0].vec_rank, 2);
    assert_close(c[0].fused, 1.0 / 61 + 1.0 / 62);
    assert_int_equal(c[1].idx, 1);
    assert_int_equal(c[1].fts_rank, 3);
    assert_int_equal(c[1].vec_rank, 1);
    assert_close(c[1].fused, 1.0 / 63 + 1.0 / 61);
    /* no vector: FTS term only, so it sinks below both despite FTS rank 2 */
    assert_int_equal(c[2].idx, 2);
    assert_int_equal(c[2].vec_rank, 0);
    assert_close(c[2].fused, 1.0 / 62);

    /* vector rank can lift a lower FTS candidate above a higher one */
    memset(c, 0, sizeof(c));
    c[0].idx = 0; c[0].fts = 0.9; c[0].has_vec = 1; c[0].cosine = 0.1;
    c[1].idx = 1; c[1].fts = 0.8; c[1].has_vec = 1; c[1].cosine = 0.9;
    c[2].idx = 2; c[2].fts = 0.7; c[2].has_vec = 1; c[2].cosine = 0.3;
    rank_fuse(c, 3, RANK_RRF_K);
    assert_int_equal(c[0].idx, 1);   /* 1/62 + 1/61 > 1/61 + 1/63 */
    assert_int_equal(c[1].idx, 0);
    /* equal fused scores (ranks swapped) are broken by the FTS rank */
    memset(c, 0, sizeof(c));
    c[0].idx = 0; c[0].fts = 0.9; c[0].has_vec = 1; c[0].cosine = 0.2;
    c[1].idx = 1; c[1].fts = 0.8; c[1].has_vec = 1; c[1].cosine = 0.9;
    rank_fuse(c, 2, RANK_RRF_K);
    assert_int_equal(c[0].idx, 0);
    rank_fuse(c, 0, RANK_RRF_K);     /* n = 0 is fine */
}

static void test_fuse_ties_deterministic(void **state)
{
    struct rank_cand c[4];
    size_t i;

    (void)state;
    memset(c, 0, sizeof(c));
    for (i = 0; i < 4; i++) {
        c[i].idx = 3 - i;
        c[i].fts = 0.5;
    }
    rank_fuse(c, 4, RANK_RRF_K);
    for (i = 0; i < 4; i++)
        assert_int_equal(c[i].idx, i);
}

static void test_threshold(void **state)
{
    struct rank_cand c;

    (void)state;
    assert_int_equal(rank_required_matches(1), 1);
    assert_int_equal(rank_required_matches(2), 1);
    assert_int_equal(rank_required_matches(3), 2);
    assert_int_equal(rank_required_matches(4), 2);
    assert_int_equal(rank_required_matches(5), 3);
    assert_int_equal(rank_required_matches(12), RANK_MATCH_CAP);
    assert_int_equal(rank_required_matches(0), 1);

    memset(&c, 0, sizeof(c));
    /* no lexeme matched: never evidence, whatever the vector says */
    c.nlex = 3; c.matched = 0; c.has_vec = 1; c.cosine = 0.99;
    assert_int_equal(rank_is_evidence(&c, RANK_MIN_COSINE), 0);
    /* one of one */
    c.nlex = 1; c.matched = 1; c.has_vec = 0;
    assert_int_equal(rank_is_evidence(&c, RANK_MIN_COSINE), 1);
    /* one of five: only with a close vector */
    c.nlex = 5; c.matched = 1; c.has_vec = 1; c.cosine = RANK_MIN_COSINE - 0.01;
    assert_int_equal(rank_is_evidence(&c, RANK_MIN_COSINE), 0);
    c.cosine = RANK_MIN_COSINE;
    assert_int_equal(rank_is_evidence(&c, RANK_MIN_COSINE), 1);
    c.has_vec = 0;   /* a cosine without a comparable vector does not count */
    assert_int_equal(rank_is_evidence(&c, RANK_MIN_COSINE), 0);
    /* three of twelve: coverage capped */
    c.nlex = 12; c.matched = 3;
    assert_int_equal(rank_is_evidence(&c, RANK_MIN_COSINE), 1);
    c.matched = 2;
    assert_int_equal(rank_is_evidence(&c, RANK_MIN_COSINE), 0);
}

static void snippet_is(const char *in, size_t len, const char *want)
{
    struct buf b;

    buf_init(&b, 1 << 16);
    assert_int_equal(rank_snippet(in, len, &b), 0);
    assert_string_equal(b.ptr, want);
    buf_release(&b);
}

#define SNIP(in, want) snippet_is((in), sizeof(in) - 1, (want))

static void test_snippet(void **state)
{
    (void)state;
    SNIP("plain text", "plain text");
    SNIP("", "");
    SNIP("a \x01match\x02 here", "a <mark>match</mark> here");
    SNIP("<script>alert('x')</script> & \x01refund\x02",
         "&lt;script&gt;alert('x')&lt;/script&gt; &amp; <mark>refund</mark>");
    SNIP("already &amp; escaped", "already &amp;amp; escaped");
    SNIP("<mark>fake</mark>", "&lt;mark&gt;fake&lt;/mark&gt;");
    /* unbalanced markers never produce unbalanced tags */
    SNIP("stray\x02 close", "stray close");
    SNIP("\x01open \x01twice\x02", "<mark>open twice</mark>");
    SNIP("\x01unclosed", "<mark>unclosed</mark>");
    /* other control characters become spaces, tab and newline stay */
    SNIP("a\x03" "b\tc\nd\x7f", "a b\tc\nd ");
    /* UTF-8 passes through untouched */
    SNIP("caf\xc3\xa9 \x01na\xc3\xafve\x02", "caf\xc3\xa9 <mark>na\xc3\xafve</mark>");
}

static void test_snippet_bounded(void **state)
{
    struct buf b;
    char in[64];

    (void)state;
    memset(in, '<', sizeof(in));
    buf_init(&b, 32);
    assert_int_equal(rank_snippet(in, sizeof(in), &b), -1);
    assert_null(b.ptr);   /* released on failure */
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rrf),
        cmocka_unit_test(test_cosine),
        cmocka_unit_test(test_parse_vector),
        cmocka_unit_test(test_fuse),
        cmocka_unit_test(test_fuse_ties_deterministic),
        cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_snippet),
        cmocka_unit_test(test_snippet_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
