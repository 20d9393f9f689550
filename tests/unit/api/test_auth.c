/*
 * test_auth.c - the authenticate hook's answers that need no database, the
 * bearer-token reader, and the failed-login throttle's buckets.
 */
#include "api/auth/auth.h"
#include "api/auth/throttle.h"

#include "handlers/fixture.h"

static void bearer_token(void **state)
{
    (void)state;
    assert_string_equal(auth_bearer_token("Bearer abc.def.ghi"), "abc.def.ghi");
    assert_string_equal(auth_bearer_token("bearer \t  tok"), "tok");
    assert_string_equal(auth_bearer_token("BEARER\ttok"), "tok");
    assert_string_equal(auth_bearer_token("Bearer "), "");
    assert_null(auth_bearer_token("Bearer"));
    assert_null(auth_bearer_token("Bearertok"));
    assert_null(auth_bearer_token("Basic dXNlcjpwYXNz"));
    assert_null(auth_bearer_token(""));
}

static void no_token_is_401(void **state)
{
    struct fixture f;

    (void)state;
    fixture_init(&f, "GET", "/v1/auth/me", ROLE_NONE);
    assert_int_equal(auth_authenticate(&f.r), -1);
    fixture_expect(&f, 401, "authentication required");
    assert_null(f.r.db);
    fixture_release(&f);
}

static void auth_disabled_without_database_is_503(void **state)
{
    struct fixture f;

    (void)state;
    fixture_init(&f, "GET", "/v1/auth/me", ROLE_NONE);
    f.cfg.auth_enabled = 0;
    assert_int_equal(auth_authenticate(&f.r), -1);
    fixture_expect(&f, 503, "database unavailable");
    assert_int_equal(f.r.principal.role, ROLE_NONE);
    fixture_release(&f);
}

static void throttle_buckets_ignore_case(void **state)
{
    struct arena a;
    struct throttle_buckets b1, b2, b3;

    (void)state;
    arena_init(&a);
    assert_int_equal(throttle_buckets(&a, "192.0.2.1", "Acme", "Admin@Acme.TEST", &b1), 0);
    assert_int_equal(throttle_buckets(&a, NULL, "acme", "admin@acme.test", &b2), 0);
    assert_int_equal(throttle_buckets(&a, "192.0.2.1", "acme", "other@acme.test", &b3), 0);
    assert_string_equal(b1.ip, "ip:192.0.2.1");
    assert_string_equal(b2.ip, "ip:unknown");
    assert_string_equal(b1.account, b2.account);
    assert_string_not_equal(b1.account, b3.account);
    /* "acct:" and a SHA-256 in hex: no e-mail address in the table, whatever its length */
    assert_int_equal(strncmp(b1.account, "acct:", 5), 0);
    assert_int_equal(strlen(b1.account), 5 + 64);
    assert_null(strchr(b1.account, '@'));
    /* tenant and e-mail are kept apart: "a" + "bc..." is not "ab" + "c..." */
    assert_int_equal(throttle_buckets(&a, NULL, "a", "bc@x.test", &b1), 0);
    assert_int_equal(throttle_buckets(&a, NULL, "ab", "c@x.test", &b2), 0);
    assert_string_not_equal(b1.account, b2.account);
    arena_release(&a);
}

/* The pair bucket is the account from one address: another address, another pair. */
static void throttle_pair_bucket_is_account_and_address(void **state)
{
    struct arena a;
    struct throttle_buckets b1, b2, b3, b4;

    (void)state;
    arena_init(&a);
    assert_int_equal(throttle_buckets(&a, "192.0.2.1", "Acme", "Admin@Acme.TEST", &b1), 0);
    assert_int_equal(throttle_buckets(&a, "192.0.2.1", "acme", "admin@acme.test", &b2), 0);
    assert_int_equal(throttle_buckets(&a, "192.0.2.2", "acme", "admin@acme.test", &b3), 0);
    assert_int_equal(throttle_buckets(&a, "192.0.2.1", "acme", "other@acme.test", &b4), 0);
    assert_string_equal(b1.pair, b2.pair);
    assert_string_not_equal(b1.pair, b3.pair);
    assert_string_not_equal(b1.pair, b4.pair);
    assert_string_equal(b1.account, b3.account);
    assert_int_equal(strncmp(b1.pair, "pair:", 5), 0);
    assert_int_equal(strlen(b1.pair), 5 + 64);
    assert_string_not_equal(b1.pair + 5, b1.account + 5);
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bearer_token),
        cmocka_unit_test(no_token_is_401),
        cmocka_unit_test(auth_disabled_without_database_is_503),
        cmocka_unit_test(throttle_buckets_ignore_case),
        cmocka_unit_test(throttle_pair_bucket_is_account_and_address),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
