/* test_password.c - password policy and Argon2id hash/verify. */
#include "api/auth/password.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static void test_policy(void **state)
{
    const char *why = NULL;
    char big[PASSWORD_MAX_BYTES + 2];

    (void)state;
    assert_int_equal(password_check("correct horse", &why), 0);
    assert_int_equal(password_check("12345678", &why), 0);
    assert_int_equal(password_check("1234567", &why), -1);
    assert_non_null(why);
    assert_int_equal(password_check("", &why), -1);
    assert_int_equal(password_check(NULL, &why), -1);
    /* 8 code points, 16 bytes: counts characters, not bytes */
    assert_int_equal(password_check("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", &why), 0);
    /* 4 code points of 2 bytes: too short although 8 bytes */
    assert_int_equal(password_check("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", &why), -1);
    /* invalid UTF-8, overlong, surrogate, control characters */
    assert_int_equal(password_check("abcdefgh\xff", &why), -1);
    assert_int_equal(password_check("abcdefgh\xc0\xaf", &why), -1);
    assert_int_equal(password_check("abcdefgh\xed\xa0\x80", &why), -1);
    assert_int_equal(password_check("abcdefgh\xc3", &why), -1);
    assert_int_equal(password_check("abcd\nefgh", &why), -1);
    assert_int_equal(password_check("abcd\x7f" "efgh", &why), -1);
    /* the byte cap */
    memset(big, 'a', sizeof(big));
    big[PASSWORD_MAX_BYTES] = '\0';
    assert_int_equal(password_check(big, &why), 0);
    big[PASSWORD_MAX_BYTES] = 'a';
    big[PASSWORD_MAX_BYTES + 1] = '\0';
    assert_int_equal(password_check(big, &why), -1);
}

static void test_hash_verify(void **state)
{
    char h1[PASSWORD_ENCODED_MAX], h2[PASSWORD_ENCODED_MAX], expect[64];

    (void)state;
    assert_int_equal(password_hash("correct horse battery", h1, sizeof(h1)), 0);
    snprintf(expect, sizeof(expect), "$argon2id$v=19$m=%d,t=%d,p=%d$", PASSWORD_M_COST_KIB, PASSWORD_T_COST,
             PASSWORD_PARALLELISM);
    assert_true(strncmp(h1, expect, strlen(expect)) == 0);
    assert_int_equal(password_verify(h1, "correct horse battery"), 1);
    assert_int_equal(password_verify(h1, "correct horse batterY"), 0);
    assert_int_equal(password_verify(h1, ""), 0);
    /* fresh salt every time */
    assert_int_equal(password_hash("correct horse battery", h2, sizeof(h2)), 0);
    assert_string_not_equal(h1, h2);
    assert_int_equal(password_verify(h2, "correct horse battery"), 1);
    /* a too-small output buffer fails instead of truncating */
    assert_int_equal(password_hash("correct horse battery", h2, 20), -1);
}

static void test_verify_refuses_other_hashes(void **state)
{
    (void)state;
    assert_int_equal(password_verify(NULL, "x"), 0);
    assert_int_equal(password_verify("", "x"), 0);
    assert_int_equal(password_verify("!disabled", "x"), 0);
    assert_int_equal(password_verify("$argon2id$garbage", "x"), 0);
    /* argon2i (not id) of "password": refused even when it would match */
    assert_int_equal(password_verify("$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Lb6x7SJ8oK5m2jYJ0pXmxw", "password"),
                     0);
    /* a plain-text or other-scheme value never matches its own text */
    assert_int_equal(password_verify("password", "password"), 0);
}

static double ms_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void test_dummy_costs_a_verify(void **state)
{
    char h[PASSWORD_ENCODED_MAX];
    double t0, real, dummy;

    (void)state;
    assert_int_equal(password_hash("correct horse battery", h, sizeof(h)), 0);
    password_verify_dummy("warm up");   /* first call also builds the dummy hash */
    t0 = ms_now();
    assert_int_equal(password_verify(h, "wrong password"), 0);
    real = ms_now() - t0;
    t0 = ms_now();
    password_verify_dummy("wrong password");
    dummy = ms_now() - t0;
    print_message("verify %.1f ms, dummy verify %.1f ms\n", real, dummy);
    /* Loose bound (shared CI machines are noisy): the dummy does real Argon2 work. */
    assert_true(dummy > real / 5);
    password_verify_dummy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_hash_verify),
        cmocka_unit_test(test_verify_refuses_other_hashes),
        cmocka_unit_test(test_dummy_costs_a_verify),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
