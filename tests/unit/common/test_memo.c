/* memo and principal_cache: hits, TTL and expiry, forgetting by key, tag and all, live, the fill race, bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/memo.h"
#include "common/principal_cache.h"

#define U1 "11111111-1111-1111-1111-111111111111"
#define U2 "22222222-2222-2222-2222-222222222222"
#define T1 "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
#define J1 "0000000a-0000-0000-0000-000000000001"
#define J2 "0000000a-0000-0000-0000-000000000002"

static struct memo *live_memo(size_t n, size_t vmax, int64_t ttl)
{
    struct memo *m = memo_new(n, vmax, ttl);

    assert_non_null(m);
    memo_set_live(m, 1);
    return m;
}

static void test_hit_ttl_and_expiry(void **state)
{
    struct memo *m = live_memo(16, 64, 1000);
    char out[64];
    size_t len = 0;
    int aux = 0;

    (void)state;
    memo_put(m, memo_gen(m, "k"), "k", "t", "hello", 6, 7, 10000, 10500);
    assert_int_equal(memo_get(m, "k", 10001, out, sizeof(out), &len, &aux), 1);
    assert_string_equal(out, "hello");
    assert_int_equal(len, 6);
    assert_int_equal(aux, 7);
    assert_int_equal(memo_get(m, "K", 10499, out, sizeof(out), NULL, NULL), 1);   /* any case */
    assert_int_equal(memo_get(m, "k", 10500, out, sizeof(out), NULL, NULL), 0);   /* its own expiry */
    memo_put(m, memo_gen(m, "k"), "k", "t", "hello", 6, 7, 10000, INT64_MAX);
    assert_int_equal(memo_get(m, "k", 10999, out, sizeof(out), NULL, NULL), 1);
    assert_int_equal(memo_get(m, "k", 11000, out, sizeof(out), NULL, NULL), 0);   /* the TTL */
    memo_free(&m);
    assert_null(m);
}

static void test_forget_key_tag_all_and_live(void **state)
{
    struct memo *m = live_memo(16, 64, 1000);
    char out[64];

    (void)state;
    memo_put(m, memo_gen(m, "a"), "a", "u1", "1", 2, 0, 0, INT64_MAX);
    memo_put(m, memo_gen(m, "b"), "b", "u1", "2", 2, 0, 0, INT64_MAX);
    memo_put(m, memo_gen(m, "c"), "c", "u2", "3", 2, 0, 0, INT64_MAX);
    assert_int_equal(memo_count(m), 3);
    memo_forget_key(m, "a");
    assert_int_equal(memo_get(m, "a", 1, out, sizeof(out), NULL, NULL), 0);
    assert_int_equal(memo_get(m, "b", 1, out, sizeof(out), NULL, NULL), 1);
    memo_forget_tag(m, "u1");
    assert_int_equal(memo_get(m, "b", 1, out, sizeof(out), NULL, NULL), 0);
    assert_int_equal(memo_get(m, "c", 1, out, sizeof(out), NULL, NULL), 1);
    memo_set_live(m, 0);   /* the source went away: nothing served, nothing kept */
    assert_int_equal(memo_count(m), 0);
    memo_put(m, memo_gen(m, "c"), "c", "u2", "3", 2, 0, 0, INT64_MAX);
    assert_int_equal(memo_count(m), 0);
    memo_set_live(m, 1);
    memo_put(m, memo_gen(m, "c"), "c", "u2", "3", 2, 0, 0, INT64_MAX);
    memo_clear(m);
    assert_int_equal(memo_get(m, "c", 1, out, sizeof(out), NULL, NULL), 0);
    memo_free(&m);
}

/* Read, invalidate, then put what was read: the put must not land. Another key's forget does not matter. */
static void test_put_after_invalidation_is_dropped(void **state)
{
    struct memo *m = live_memo(1024, 64, 1000);
    char out[64];
    uint64_t g = memo_gen(m, "run-1");

    (void)state;
    memo_forget_key(m, "run-2");
    memo_put(m, g, "run-1", NULL, "v", 2, 0, 0, INT64_MAX);
    assert_int_equal(memo_get(m, "run-1", 1, out, sizeof(out), NULL, NULL), 1);
    g = memo_gen(m, "run-1");
    memo_forget_key(m, "run-1");   /* not even held: the slot still moves on */
    memo_forget_key(m, "run-1");
    memo_put(m, g, "run-1", NULL, "stale", 6, 0, 0, INT64_MAX);
    assert_int_equal(memo_get(m, "run-1", 1, out, sizeof(out), NULL, NULL), 0);
    g = memo_gen(m, "run-1");
    memo_forget_tag(m, "anyone");
    memo_put(m, g, "run-1", NULL, "stale", 6, 0, 0, INT64_MAX);
    assert_int_equal(memo_get(m, "run-1", 1, out, sizeof(out), NULL, NULL), 0);
    memo_free(&m);
}

static void test_bounds(void **state)
{
    struct memo *m = live_memo(4, 8, 1000);
    char small[4], out[16], key[MEMO_KEY_MAX + 8];
    size_t len = 0;

    (void)state;
    assert_null(memo_new(0, 8, 1000));
    assert_null(memo_new(4, 8, 0));
    memo_put(m, memo_gen(m, "big"), "big", NULL, "123456789", 10, 0, 0, INT64_MAX);   /* over value_max */
    assert_int_equal(memo_count(m), 0);
    memo_put(m, memo_gen(m, "k"), "k", NULL, "1234567", 8, 0, 0, INT64_MAX);
    assert_int_equal(memo_get(m, "k", 1, small, sizeof(small), &len, NULL), 0);   /* does not fit */
    assert_int_equal(len, 8);
    assert_int_equal(memo_get(m, "k", 1, out, sizeof(out), &len, NULL), 1);
    memset(key, 'x', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    memo_put(m, memo_gen(m, key), key, NULL, "1", 2, 0, 0, INT64_MAX);   /* key too long: not held */
    assert_int_equal(memo_count(m), 1);
    /* A full table evicts: at most its slots are ever held. */
    for (int i = 0; i < 100; i++) {
        char k[16];

        snprintf(k, sizeof(k), "key%d", i);
        memo_put(m, memo_gen(m, k), k, NULL, "v", 2, 0, 0, INT64_MAX);
    }
    assert_true(memo_count(m) <= 8);
    memo_free(&m);
    /* NULL: misses and no-ops */
    assert_int_equal(memo_get(NULL, "k", 1, out, sizeof(out), NULL, NULL), 0);
    memo_put(NULL, 0, "k", NULL, "v", 2, 0, 0, 1);
    memo_free(&m);
}

static void test_principal_cache(void **state)
{
    struct principal_cache *pc = principal_cache_new(100, 5000);
    int role = 0;

    (void)state;
    assert_non_null(pc);
    principal_cache_put(pc, principal_cache_gen(pc, J1), J1, U1, T1, 2, 0, 100000);
    assert_int_equal(principal_cache_get(pc, J1, U1, T1, 1, &role), 0);   /* not live yet */
    principal_cache_set_live(pc, 1);
    principal_cache_put(pc, principal_cache_gen(pc, J1), J1, U1, T1, 2, 0, 100000);
    principal_cache_put(pc, principal_cache_gen(pc, J2), J2, U1, T1, 1, 0, 100000);
    assert_int_equal(principal_cache_get(pc, J1, U1, T1, 1, &role), 1);
    assert_int_equal(role, 2);
    /* the same jti with another user or tenant than the token says: a miss */
    assert_int_equal(principal_cache_get(pc, J1, U2, T1, 1, &role), 0);
    assert_int_equal(principal_cache_get(pc, J1, U1, U2, 1, &role), 0);
    principal_cache_notify(pc, "s:" J1);
    assert_int_equal(principal_cache_get(pc, J1, U1, T1, 1, &role), 0);
    assert_int_equal(principal_cache_get(pc, J2, U1, T1, 1, &role), 1);
    principal_cache_notify(pc, "u:" U1);
    assert_int_equal(principal_cache_get(pc, J2, U1, T1, 1, &role), 0);
    principal_cache_put(pc, principal_cache_gen(pc, J2), J2, U1, T1, 1, 0, 100000);
    principal_cache_notify(pc, "garbage");   /* unknown: the widest, everything */
    assert_int_equal(principal_cache_count(pc), 0);
    principal_cache_free(&pc);
    assert_null(pc);
    assert_null(principal_cache_new(100, 0));   /* TTL 0: no cache */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_ttl_and_expiry),
        cmocka_unit_test(test_forget_key_tag_all_and_live),
        cmocka_unit_test(test_put_after_invalidation_is_dropped),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_principal_cache),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
