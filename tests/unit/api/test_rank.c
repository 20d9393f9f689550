/* Unit tests of api/rank.c: BM25F, proximity, score, sketches, selection, cosine, vectors, snippets. */
#include "api/handlers/rank.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define assert_close(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9)

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

/* A query of three content words (df 5, 50, 0 in 1000 chunks of 1000 bytes) and a question word. */
static void three_word_query(struct rank_query *q)
{
    rank_query_init(q, 1000, 1000 * 1000);
    assert_int_equal(rank_query_add(q, 5, 0), 0);
    assert_int_equal(rank_query_add(q, 50, 0), 0);
    assert_int_equal(rank_query_add(q, 0, 0), 0);
    assert_int_equal(rank_query_add(q, 300, 1), 0);
}

static void test_idf(void **state)
{
    struct rank_query q;

    (void)state;
    assert_true(rank_idf(1000, 1) > rank_idf(1000, 10));
    assert_true(rank_idf(1000, 1000) > 0);              /* never negative */
    assert_close(rank_idf(1000, 0), log(1.0 + 1000.5 / 0.5));   /* unseen: the largest */
    three_word_query(&q);
    assert_int_equal(q.nterms, 4);
    assert_close(q.avgdl, 1000.0);
    /* the question word is not part of the IDF mass */
    /* an unseen word (df 0) weighs as much as the rarest possible (df 1) */
    assert_close(q.idf_sum, rank_idf(1000, 5) + rank_idf(1000, 50) + rank_idf(1000, 1));
    for (int i = q.nterms; i < RANK_MAX_TERMS; i++)
        assert_int_equal(rank_query_add(&q, 1, 0), 0);
    assert_int_equal(rank_query_add(&q, 1, 0), -1);     /* full */
}

static void test_score_bm25(void **state)
{
    struct rank_query q;
    struct rank_select o = {0.0, 0.25, 0.0, 3, 10};
    struct rank_cand a, b, c, d, e;

    (void)state;
    three_word_query(&q);
    memset(&a, 0, sizeof(a));
    b = c = d = e = a;
    rank_score(&q, "1:3", NULL, 1000, &a);                    /* the rare word once */
    rank_score(&q, "2:3", NULL, 1000, &b);                    /* the commoner word once */
    rank_score(&q, "1:3,40,90", NULL, 1000, &c);              /* the rare word three times */
    rank_score(&q, "1:3", NULL, 4000, &d);                    /* once, in a long chunk */
    rank_score(&q, "1:3;2:4", NULL, 1000, &e);                /* both, adjacent */
    assert_true(a.bm25 > b.bm25);                             /* IDF */
    assert_true(c.bm25 > a.bm25 && c.bm25 < 3 * a.bm25);      /* tf saturates */
    assert_true(d.bm25 < a.bm25);                             /* length normalization */
    assert_int_equal(e.matched, 2);
    assert_true(e.prox > 0 && a.prox == 0);                   /* proximity needs two words */
    /* at average length, a word once scores exactly its IDF */
    assert_close(a.bm25, rank_idf(1000, 5));
    rank_finish(&q, &o, &a);
    rank_finish(&q, &o, &e);
    assert_true(e.rel > a.rel);
    assert_true(a.score > 0 && a.score < 1 && e.score < 1);
    assert_close(a.score, 1 - exp(-a.rel));
    /* one word of three: ordered by x * cover, evidence by x * cover^2 */
    assert_true(a.evidence < a.score && a.evidence > 0);
    assert_close(-log(1 - a.evidence), a.rel * a.cover / q.idf_sum);
}

/* An expansion (a compound of terms 2 and 3) covers its origin words at its weight, never beyond. */
static void test_score_expansion(void **state)
{
    struct rank_query q;
    struct rank_select o = {0.0, 0.25, 0.0, 3, 10};
    struct rank_cand own, comp, syn, none;

    (void)state;
    rank_query_init(&q, 1000, 1000.0 * 1000);
    rank_query_add(&q, 5, 0);                      /* 1: "set" */
    rank_query_add(&q, 50, 0);                     /* 2: "time" */
    rank_query_add(&q, 40, 0);                     /* 3: "zone" */
    assert_int_equal(rank_query_expand(&q, 3, 1.0), 0);   /* 4: "timezone" */
    q.origin[3] = (uint64_t)(1 << 1 | 1 << 2);
    assert_int_equal(rank_query_expand(&q, 3, 0.5), 0);   /* 5: a synonym of "set" at half weight */
    q.origin[4] = 1;
    /* the expansions are not part of the query's IDF mass */
    assert_close(q.idf_sum, rank_idf(1000, 5) + rank_idf(1000, 50) + rank_idf(1000, 40));
    memset(&own, 0, sizeof(own));
    comp = syn = none = own;
    rank_score(&q, "1:1;2:2;3:3", NULL, 1000, &own);      /* the user's own words */
    rank_score(&q, "1:1;4:2", NULL, 1000, &comp);         /* "set timezone" */
    rank_score(&q, "5:1;4:2", NULL, 1000, &syn);          /* a synonym of "set", "timezone" */
    rank_score(&q, "2:9", NULL, 1000, &none);             /* "time" alone */
    assert_close(comp.cover, q.idf_sum);                  /* the compound covers both of its words */
    assert_int_equal(comp.matched, 3);
    assert_close(syn.cover, 0.5 * rank_idf(1000, 5) + rank_idf(1000, 50) + rank_idf(1000, 40));
    rank_finish(&q, &o, &own);
    rank_finish(&q, &o, &comp);
    rank_finish(&q, &o, &syn);
    rank_finish(&q, &o, &none);
    assert_true(comp.score > none.score && syn.score < comp.score);
    /* an expansion never doubles what the word itself covers */
    rank_score(&q, "1:1;5:2;2:3;3:4;4:5", NULL, 1000, &own);
    assert_close(own.cover, q.idf_sum);
}

/* A hyphenated query word stands for its parts: out of the IDF mass, it covers them when matched. */
static void test_score_hyphen_compound(void **state)
{
    struct rank_query q;
    struct rank_cand whole, parts, one;
    double mass;

    (void)state;
    rank_query_init(&q, 1000, 1000.0 * 1000);
    rank_query_add(&q, 0, 0);     /* 1: "c-style", in no chunk */
    rank_query_add(&q, 30, 0);    /* 2: "loop" */
    rank_query_add(&q, 200, 0);   /* 3: "c" */
    rank_query_add(&q, 60, 0);    /* 4: "style" */
    mass = q.idf_sum;
    rank_query_compound(&q, 0, 1u << 2 | 1u << 3 | 1u << 0);   /* itself is never its own part */
    assert_close(q.idf_sum, mass - rank_idf(1000, 1));
    assert_int_equal(q.expn[0], 1);
    assert_int_equal(q.origin[0], 1u << 2 | 1u << 3);
    rank_query_compound(&q, 0, 1u << 2);                      /* once only */
    assert_close(q.idf_sum, mass - rank_idf(1000, 1));
    rank_query_compound(&q, 1, 0);                            /* no parts: stays a word */
    assert_int_equal(q.expn[1], 0);
    memset(&whole, 0, sizeof(whole));
    parts = one = whole;
    rank_score(&q, "1:1;2:3", NULL, 1000, &whole);   /* "c-style ... loop" */
    rank_score(&q, "3:1;4:2;2:3", NULL, 1000, &parts);   /* "c style loop" */
    rank_score(&q, "2:3", NULL, 1000, &one);
    assert_close(whole.cover, q.idf_sum);
    assert_close(parts.cover, q.idf_sum);
    assert_close(one.cover, rank_idf(1000, 30));
}

/* Feedback words reorder the candidates, evidence stays; an unknown name weighs against evidence only. */
static void test_feedback_and_names(void **state)
{
    struct rank_query q;
    struct rank_select o = {0.0, 0.25, 0.0, 3, 10};
    struct rank_cand c[3], a, b;
    double one;

    (void)state;
    three_word_query(&q);
    /* df:k:tf; a word all three feedback chunks hold, once, at df 10 */
    one = rank_feedback_parse(&q, "10:3:1");
    assert_close(one, rank_idf(1000, 10));
    assert_close(rank_feedback_parse(&q, "10:3:1 10:3:1"), 2 * one);
    assert_close(rank_feedback_parse(&q, "10:1:1"), one / 3);         /* held by one feedback chunk of three */
    assert_close(rank_feedback_parse(&q, "x:1:1 10:0:1 0:3:1 10:3:"), 0.0);   /* malformed parts skipped */
    assert_close(rank_feedback_parse(&q, NULL), 0.0);
    memset(c, 0, sizeof(c));
    for (int i = 0; i < 3; i++) {
        c[i].id = i == 0 ? "a" : i == 1 ? "b" : "c";
        c[i].rel = 1.0 - 0.1 * i;
        c[i].evidence = 0.3;
    }
    c[2].fb = 2 * one;                          /* the third holds the feedback words */
    rank_feedback(c, 3, 0.0);                   /* off: nothing moves */
    assert_string_equal(c[0].id, "a");
    rank_feedback(c, 3, 0.5);
    assert_string_equal(c[0].id, "c");          /* 0.8 * (1 + 0.5) > 1.0 */
    assert_close(c[0].rel, 1.2);
    assert_close(c[0].score, 1 - exp(-1.2));
    assert_string_equal(c[1].id, "a");          /* no feedback words: unchanged */
    assert_close(c[1].rel, 1.0);
    assert_close(c[0].evidence, 0.3);
    /* a name no chunk holds: same order and score, less evidence */
    memset(&a, 0, sizeof(a));
    b = a;
    rank_score(&q, "1:3;2:4", NULL, 1000, &a);
    rank_finish(&q, &o, &a);
    rank_query_name(&q, 2);                     /* term 3 (df 0) */
    rank_score(&q, "1:3;2:4", NULL, 1000, &b);
    rank_finish(&q, &o, &b);
    assert_close(a.score, b.score);
    assert_true(b.evidence < a.evidence);
    rank_query_name(&q, 0 - 1);                 /* out of range: ignored */
    rank_query_name(&q, 99);
}

static void test_score_fields_and_parsing(void **state)
{
    struct rank_query q;
    struct rank_cand a, b, c, far;

    (void)state;
    three_word_query(&q);
    memset(&a, 0, sizeof(a));
    b = c = far = a;
    rank_score(&q, "1:3", "1", 1000, &a);                     /* also in the heading */
    rank_score(&q, "1:3", NULL, 1000, &b);
    assert_true(a.bm25 > b.bm25);
    rank_score(&q, "1:3;2:30", NULL, 1000, &far);            /* too far apart for proximity */
    assert_close(far.prox, 0.0);
    /* malformed or out-of-range parts are skipped, never read out of bounds */
    rank_score(&q, "9:1;x:2;0:3;1:;:;;2:7,", "77,a,", 1000, &c);
    assert_int_equal(c.matched, 1);
    rank_score(&q, NULL, NULL, 0, &c);
    assert_int_equal(c.matched, 0);
    assert_close(c.bm25, 0.0);
}

static void test_sketch(void **state)
{
    int a[RANK_SKETCH], b[RANK_SKETCH];
    int na, nb;

    (void)state;
    na = rank_parse_sketch("{-9,-3,1,4}", a, RANK_SKETCH);
    nb = rank_parse_sketch("{-9,-3,1,4}", b, RANK_SKETCH);
    assert_int_equal(na, 4);
    assert_close(rank_jaccard(a, na, b, nb), 1.0);
    nb = rank_parse_sketch("{-8,-2,2,5}", b, RANK_SKETCH);
    assert_close(rank_jaccard(a, na, b, nb), 0.0);
    nb = rank_parse_sketch("{-9,-3,2,5}", b, RANK_SKETCH);
    assert_true(rank_jaccard(a, na, b, nb) > 0.3 && rank_jaccard(a, na, b, nb) < 0.7);
    assert_int_equal(rank_parse_sketch("{x}", a, RANK_SKETCH), 0);
    assert_int_equal(rank_parse_sketch(NULL, a, RANK_SKETCH), 0);
    assert_close(rank_jaccard(a, 0, b, nb), 0.0);
}

static struct rank_cand cand(size_t idx, const char *id, const char *doc, double rel, int sk)
{
    struct rank_cand c;

    memset(&c, 0, sizeof(c));
    c.idx = idx;
    c.id = id;
    c.doc = doc;
    c.rel = rel;
    c.score = 1 - exp(-rel);
    c.evidence = c.score;
    c.nsketch = 4;
    for (int i = 0; i < 4; i++)
        c.sketch[i] = sk * 100 + i;
    return c;
}

static void test_sort_deterministic(void **state)
{
    struct rank_cand c[3] = {cand(0, "c", "d1", 1.0, 1), cand(1, "a", "d1", 1.0, 2), cand(2, "b", "d1", 2.0, 3)};

    (void)state;
    rank_sort(c, 3);
    assert_string_equal(c[0].id, "b");   /* best first */
    assert_string_equal(c[1].id, "a");   /* ties by chunk id, whatever the input order */
    assert_string_equal(c[2].id, "c");
}

static void test_pick(void **state)
{
    /* d1 has four results, one of them a near-duplicate (same sketch) of the best; d2 has one. */
    struct rank_cand c[6] = {cand(0, "a", "d1", 3.0, 1), cand(1, "b", "d1", 2.9, 1), cand(2, "c", "d1", 2.8, 2),
                             cand(3, "d", "d1", 2.7, 3), cand(4, "e", "d1", 2.6, 4), cand(5, "f", "d2", 0.1, 5)};
    struct rank_select o = {0.05, 0.25, 0.0, 2, 10};
    struct rank_cand out[10];
    int n;

    (void)state;
    n = rank_pick(c, 6, &o, out);
    assert_int_equal(n, 5);
    assert_string_equal(out[0].id, "a");
    assert_string_equal(out[1].id, "c");      /* b is a near-duplicate of a */
    assert_string_equal(out[2].id, "f");      /* d1 is at its cap of 2 while d2 has evidence */
    assert_string_equal(out[3].id, "d");      /* then what the cap deferred, in order */
    assert_string_equal(out[4].id, "e");
    o.top_k = 3;
    assert_int_equal(rank_pick(c, 6, &o, out), 3);
    assert_string_equal(out[2].id, "f");
    o.min_score = 0.5;                        /* f is below the threshold: no longer evidence */
    o.top_k = 10;
    n = rank_pick(c, 6, &o, out);
    assert_int_equal(n, 4);
    for (int i = 0; i < n; i++)
        assert_string_not_equal(out[i].id, "f");
    o.min_score = 0.99;                       /* nothing is evidence: abstain */
    assert_int_equal(rank_pick(c, 6, &o, out), 0);
    /* evidence, not order, decides: a well-ranked chunk covering too little of the query is none */
    o.min_score = 0.5;
    for (int i = 0; i < 6; i++)
        c[i].evidence = 0.2;
    assert_int_equal(rank_pick(c, 6, &o, out), 0);
    c[3].evidence = 0.6;                      /* one candidate is: the list is the usual one */
    assert_int_equal(rank_pick(c, 6, &o, out), 4);
    assert_string_equal(out[0].id, "a");
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

/* Assert term h's positions are the n of want. */
static void assert_positions(const struct rank_hits *h, int tf, const int *want, int n)
{
    assert_int_equal(h->tf, tf);
    assert_int_equal(h->npos, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(h->pos[i], want[i]);
}

/* A tsvector's text (quotes and backslashes doubled, weights after positions) read into the terms' hits and fields. */
static void test_tsv_hits(void **state)
{
    const char *terms[] = {"it's", "a\\b", "lex", "it's", "zz"};
    const char *v = "'a\\\\b':3A 'it''s':1A,5A,12 'lex':7A 'other':2A";
    struct rank_hits h[5];
    char many[512];
    size_t len;
    int p[70];

    (void)state;
    memset(h, 0, sizeof h);
    rank_tsv_hits(v, terms, 5, 0, h);
    assert_positions(&h[0], 3, (int[]){1, 5, 12}, 3);   /* the first index of a repeated term */
    assert_positions(&h[1], 1, (int[]){3}, 1);
    assert_positions(&h[2], 1, (int[]){7}, 1);
    assert_int_equal(h[3].tf + h[4].tf + h[0].field + h[1].field + h[2].field, 0);
    rank_tsv_hits(v, terms, 5, 1, h);
    assert_true(h[0].field && h[1].field && h[2].field && !h[3].field && !h[4].field);
    assert_int_equal(h[0].tf, 3);   /* fields leave the positions alone */
    memset(h, 0, sizeof h);
    rank_tsv_hits("'lex' 'zz':16383C", terms, 5, 0, h);   /* no positions: no hit */
    assert_int_equal(h[2].tf, 0);
    assert_positions(&h[4], 1, (int[]){16383}, 1);
    rank_tsv_hits("'lex' 'zz':4", terms, 5, 1, h);
    assert_true(h[2].field && h[4].field);
    memset(h, 0, sizeof h);
    rank_tsv_hits("'it''':1", terms, 5, 0, h);   /* it' is no term */
    rank_tsv_hits("", terms, 5, 0, h);
    rank_tsv_hits("'lex':1 'zz", terms, 5, 0, h);   /* unterminated: the list ends */
    assert_positions(&h[2], 1, (int[]){1}, 1);
    assert_int_equal(h[0].tf + h[1].tf + h[3].tf + h[4].tf, 0);
    memset(h, 0, sizeof h);
    rank_tsv_hits("'lex':2 'zz':1", terms, 3, 0, h);   /* only n terms */
    assert_positions(&h[2], 1, (int[]){2}, 1);
    assert_int_equal(h[4].tf, 0);
    len = (size_t)snprintf(many, sizeof many, "'lex':1");
    for (int i = 2; i <= 70; i++)
        len += (size_t)snprintf(many + len, sizeof many - len, ",%d", i);
    for (int i = 0; i < 70; i++)
        p[i] = i + 1;
    memset(h, 0, sizeof h);
    rank_tsv_hits(many, terms, 5, 0, h);   /* every position counts, the first RANK_MAX_POS are kept */
    assert_positions(&h[2], 70, p, RANK_MAX_POS);
}

/* Positions outside PostgreSQL's 0..16383 (text no real tsvector holds) read as its bounds:
 * the fuzzer's case, whose distance overflowed an int in the proximity score. */
static void test_tsv_positions_bounded(void **state)
{
    const char *terms[] = {"a", "b", "c"};
    struct rank_query q;
    struct rank_hits h[3];
    struct rank_cand c;

    (void)state;
    memset(h, 0, sizeof h);
    rank_tsv_hits("'b':-7", terms, 3, 0, h);   /* a sign is no position */
    assert_int_equal(h[1].tf, 0);
    rank_tsv_hits("'a':3,99999999999 'b':16380 'c':1410065320", terms, 3, 0, h);
    assert_positions(&h[0], 2, (int[]){3, RANK_POS_LIMIT}, 2);
    assert_positions(&h[1], 1, (int[]){16380}, 1);
    assert_positions(&h[2], 1, (int[]){RANK_POS_LIMIT}, 1);
    rank_query_init(&q, 1000, 1000 * 1000);
    for (int i = 0; i < 3; i++)
        assert_int_equal(rank_query_add(&q, 10, 0), 0);
    rank_score_hits(&q, h, 900, &c);   /* under UBSan an overflow here aborts */
    assert_true(isfinite(c.bm25) && isfinite(c.prox) && c.prox > 0);
}

/* Scoring the hits read from tsvectors is scoring their compact text form: the same numbers. */
static void test_score_hits_as_text(void **state)
{
    const char *terms[] = {"refund", "polici", "day", "how"};
    struct rank_query q;
    struct rank_hits h[4];
    struct rank_cand a, b;

    (void)state;
    three_word_query(&q);
    memset(h, 0, sizeof h);
    rank_tsv_hits("'day':9 'how':1A 'polici':4,30 'refund':3,12,40", terms, 4, 0, h);
    rank_tsv_hits("'polici':1 'refund':2", terms, 4, 1, h);
    rank_score_hits(&q, h, 800, &a);
    rank_score(&q, "1:3,12,40;2:4,30;3:9;4:1", "1,2", 800, &b);
    assert_true(a.bm25 > 0 && a.prox > 0);
    assert_true(a.bm25 == b.bm25 && a.prox == b.prox && a.cover == b.cover);
    assert_int_equal(a.matched, b.matched);
    assert_true(a.mask == b.mask && a.mask == 0xf);
}

/* rank_strtol gives strtol's value and end on every input: digits, signs, spaces, overflow, none. */
static void test_strtol_as_libc(void **state)
{
    static const char *const in[] = {
        "0", "7", "42:3,5", "-13", "+8;", "  12", "\t\n-4x", "-", "+", "", "x1", " ", "- 3", "--3", "+-3",
        "16383,16384", "2147483647", "-2147483648", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "99999999999999999999999,1", "-99999999999999999999999}",
        "007", "-0", "1e5", "0x1f", "12345678901234567890123456789012345678901234567890"};
    char buf[64];

    (void)state;
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        char *e1, *e2;
        long a = strtol(in[i], &e1, 10), b = rank_strtol(in[i], &e2);

        if (a != b || e1 != e2)
            fail_msg("%s: strtol %ld (+%td), rank_strtol %ld (+%td)", in[i], a, e1 - in[i], b, e2 - in[i]);
    }
    for (long v = -70000; v <= 70000; v += 7) {   /* every position size, both signs */
        char *e;

        snprintf(buf, sizeof(buf), "%ld,", v);
        assert_int_equal(rank_strtol(buf, &e), v);
        assert_int_equal(*e, ',');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cosine),
        cmocka_unit_test(test_idf),
        cmocka_unit_test(test_score_bm25),
        cmocka_unit_test(test_score_expansion),
        cmocka_unit_test(test_score_hyphen_compound),
        cmocka_unit_test(test_feedback_and_names),
        cmocka_unit_test(test_score_fields_and_parsing),
        cmocka_unit_test(test_sketch),
        cmocka_unit_test(test_sort_deterministic),
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_snippet),
        cmocka_unit_test(test_snippet_bounded),
        cmocka_unit_test(test_strtol_as_libc),
        cmocka_unit_test(test_tsv_hits),
        cmocka_unit_test(test_tsv_positions_bounded),
        cmocka_unit_test(test_score_hits_as_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
