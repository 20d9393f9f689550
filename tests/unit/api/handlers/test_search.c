/*
 * test_search.c - the search handler alone (with rank.o, request.o, the
 * shared handler helpers and libcommon: Makefile, UNIT_HANDLERS): every
 * malformed body answers 400 before any database work, and a valid one
 * answers 503 when the database is down.
 */
#include "api/handlers/search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

/* POST body as a user; the answer must be status with needle in it. */
static void search_expect(const char *body, unsigned status, const char *needle)
{
    fixture_call(search_handle, ROLE_USER, NULL, body, status, needle);
}

static void bad_bodies_are_400(void **state)
{
    (void)state;
    search_expect(NULL, 400, "a JSON object body is required");
    search_expect("{\"query\": ", 400, "malformed JSON body");
    search_expect("[\"beta\"]", 400, "the body must be a JSON object");
    search_expect("{\"query\": \"a\", \"query\": \"b\"}", 400, "malformed JSON body");
}

static void missing_or_empty_query_is_400(void **state)
{
    (void)state;
    search_expect("{}", 400, "query must be a string");
    search_expect("{\"query\": 42}", 400, "query must be a string");
    search_expect("{\"query\": null}", 400, "query must be a string");
    search_expect("{\"query\": \"\"}", 400, "query must not be empty");
    search_expect("{\"query\": \" \\t\\n \"}", 400, "query must not be empty");
    /* jansson refuses \u0000 (no JSON_ALLOW_NUL): a NUL never reaches the handler */
    search_expect("{\"query\": \"a\\u0000b\"}", 400, "malformed JSON body");
}

static void query_length_counts_characters(void **state)
{
    char body[8192];
    size_t off;

    (void)state;
    /* 1001 ASCII characters: too long */
    off = (size_t)snprintf(body, sizeof(body), "{\"query\": \"");
    memset(body + off, 'x', 1001);
    snprintf(body + off + 1001, sizeof(body) - off - 1001, "\"}");
    search_expect(body, 400, "query must be at most 1000 characters");
    /* 1000 two-byte characters (2000 bytes) are fine: 503, the database is down */
    off = (size_t)snprintf(body, sizeof(body), "{\"query\": \"");
    for (int i = 0; i < 1000; i++, off += 2)
        memcpy(body + off, "\xc3\xa9", 2);
    snprintf(body + off, sizeof(body) - off, "\"}");
    search_expect(body, 503, "database unavailable");
}

static void top_k_out_of_range_is_400(void **state)
{
    (void)state;
    search_expect("{\"query\": \"beta\", \"top_k\": 0}", 400, "top_k must be an integer from 1 to 50");
    search_expect("{\"query\": \"beta\", \"top_k\": 51}", 400, "top_k");
    search_expect("{\"query\": \"beta\", \"top_k\": -1}", 400, "top_k");
    search_expect("{\"query\": \"beta\", \"top_k\": \"5\"}", 400, "top_k");
    search_expect("{\"query\": \"beta\", \"top_k\": 2.5}", 400, "top_k");
    search_expect("{\"query\": \"beta\", \"top_k\": 1e3}", 400, "top_k");
}

static void valid_request_without_database_is_503(void **state)
{
    (void)state;
    search_expect("{\"query\": \"beta\"}", 503, "database unavailable");
    search_expect("{\"query\": \"beta\", \"top_k\": null}", 503, "database unavailable");
    search_expect("{\"query\": \" beta \", \"top_k\": 50}", 503, "\"unavailable\"");
}

/*
 * search_vector_reach: candidates 0..3 with rel 2.0, 1.5, 1.0, 0.2 (by full
 * text) and a query whose cosine can add at most vec_weight * (1 - min_cosine)
 * = 0.5 (idf_sum 1, cover 1): for the best 2, the bar is 1.5, which candidate
 * 2 (1.0 + 0.5) can still reach and candidate 3 (0.2 + 0.5) cannot.
 */
static void vector_reach_skips_the_hopeless(void **state)
{
    struct rank_query q;
    struct rank_select o = {0.1, 0.5, 1.0, 0, 2};
    struct rank_cand c[4];
    const double bm25[4] = {2.0, 1.5, 1.0, 0.2};
    int keep[4];

    (void)state;
    memset(&q, 0, sizeof(q));
    memset(c, 0, sizeof(c));
    q.idf_sum = 1.0;
    for (int i = 0; i < 4; i++) {
        c[i].bm25 = bm25[i];
        c[i].cover = 1.0;
        rank_finish(&q, &o, &c[i]);
    }
    assert_int_equal(search_vector_reach(&q, &o, c, 4, 2, keep), 3);
    assert_int_equal(keep[0], 0);
    assert_int_equal(keep[1], 1);
    assert_int_equal(keep[2], 2);
    /* every candidate when the window holds them all */
    assert_int_equal(search_vector_reach(&q, &o, c, 4, 4, keep), 4);
    assert_int_equal(keep[3], 3);
    /* a heavier vector: every one can still reach the bar */
    o.vec_weight = 4.0;
    assert_int_equal(search_vector_reach(&q, &o, c, 4, 2, keep), 4);
    /* a cosine that never counts (min_cosine 1): only the best 2 */
    o.min_cosine = 1.0;
    assert_int_equal(search_vector_reach(&q, &o, c, 4, 2, keep), 2);
    /* whatever the window, a score that cannot reach RANK_TAIL * min_score: candidate 3
     * (rel 0.2, score 0.18) under 0.5 * 0.4, candidates 0-2 (score 0.63 and more) over it */
    o.min_score = 0.4;
    assert_int_equal(search_vector_reach(&q, &o, c, 4, 4, keep), 3);
    assert_int_equal(keep[2], 2);
    /* no candidate can be evidence (all under 0.9): nothing is read */
    o.min_score = 0.9;
    assert_int_equal(search_vector_reach(&q, &o, c, 4, 4, keep), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_bodies_are_400),
        cmocka_unit_test(missing_or_empty_query_is_400),
        cmocka_unit_test(query_length_counts_characters),
        cmocka_unit_test(top_k_out_of_range_is_400),
        cmocka_unit_test(valid_request_without_database_is_503),
        cmocka_unit_test(vector_reach_skips_the_hopeless),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
