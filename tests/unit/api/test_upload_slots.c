/* Unit tests for the per-tenant and per-user upload limits (src/api/upload_slots.c). */
#include "api/upload_slots.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define TENANT_A "11111111-2222-4333-8444-55555555555a"
#define TENANT_B "11111111-2222-4333-8444-55555555555b"
#define USER_A1  "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeea1"
#define USER_A2  "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeea2"
#define USER_B1  "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeb1"

/* The tenant's limit holds across its users; another tenant is not affected. */
static void test_tenant_limit(void **state)
{
    struct upload_slot s[4], other, b;

    (void)state;
    for (int i = 0; i < 4; i++)
        upload_slot_init(&s[i]);
    upload_slot_init(&other);
    upload_slot_init(&b);
    assert_int_equal(upload_slot_take(&s[0], TENANT_A, USER_A1, 3, 10), UPLOAD_SLOT_OK);
    assert_int_equal(upload_slot_take(&s[1], TENANT_A, USER_A1, 3, 10), UPLOAD_SLOT_OK);
    assert_int_equal(upload_slot_take(&s[2], TENANT_A, USER_A2, 3, 10), UPLOAD_SLOT_OK);
    assert_int_equal(upload_slot_take(&s[3], TENANT_A, USER_A2, 3, 10), UPLOAD_SLOT_TENANT_FULL);
    assert_int_equal(s[3].held, 0);
    assert_int_equal(upload_slots_of_tenant(TENANT_A), 3);
    assert_int_equal(upload_slots_of_user(USER_A2), 1);
    assert_int_equal(upload_slot_take(&b, TENANT_B, USER_B1, 3, 10), UPLOAD_SLOT_OK);
    /* one ends: the next one of the tenant gets its slot */
    upload_slot_release(&s[0]);
    assert_int_equal(upload_slot_take(&other, TENANT_A, USER_A2, 3, 10), UPLOAD_SLOT_OK);
    upload_slot_release(&other);
    upload_slot_release(&s[1]);
    upload_slot_release(&s[2]);
    upload_slot_release(&b);
    assert_int_equal(upload_slots_of_tenant(TENANT_A), 0);
    assert_int_equal(upload_slots_of_tenant(TENANT_B), 0);
    assert_int_equal(upload_slots_of_user(USER_A1), 0);
}

/* A user at their limit is refused; another user of the same tenant is not. */
static void test_user_limit(void **state)
{
    struct upload_slot s1, s2, s3, s4;

    (void)state;
    upload_slot_init(&s1);
    upload_slot_init(&s2);
    upload_slot_init(&s3);
    upload_slot_init(&s4);
    assert_int_equal(upload_slot_take(&s1, TENANT_A, USER_A1, 10, 2), UPLOAD_SLOT_OK);
    assert_int_equal(upload_slot_take(&s2, TENANT_A, USER_A1, 10, 2), UPLOAD_SLOT_OK);
    assert_int_equal(upload_slot_take(&s3, TENANT_A, USER_A1, 10, 2), UPLOAD_SLOT_USER_FULL);
    /* a refusal counts nothing against the tenant */
    assert_int_equal(upload_slots_of_tenant(TENANT_A), 2);
    assert_int_equal(upload_slot_take(&s4, TENANT_A, USER_A2, 10, 2), UPLOAD_SLOT_OK);
    upload_slot_release(&s1);
    upload_slot_release(&s2);
    upload_slot_release(&s4);
    assert_int_equal(upload_slots_of_tenant(TENANT_A), 0);
}

/* Release is idempotent: every way out of an upload may call it. */
static void test_release_twice(void **state)
{
    struct upload_slot s, t;

    (void)state;
    upload_slot_init(&s);
    upload_slot_init(&t);
    upload_slot_release(&s);
    upload_slot_release(NULL);
    assert_int_equal(upload_slot_take(&s, TENANT_A, USER_A1, 1, 1), UPLOAD_SLOT_OK);
    assert_int_equal(upload_slot_take(&t, TENANT_A, USER_A1, 1, 1), UPLOAD_SLOT_TENANT_FULL);
    upload_slot_release(&s);
    upload_slot_release(&s);
    assert_int_equal(upload_slots_of_tenant(TENANT_A), 0);
    assert_int_equal(upload_slots_of_user(USER_A1), 0);
}

#define RACE_THREADS 8
#define RACE_ROUNDS 2000

static int64_t race_max_seen;
static pthread_mutex_t race_mu = PTHREAD_MUTEX_INITIALIZER;

static void *race_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < RACE_ROUNDS; i++) {
        struct upload_slot s;

        upload_slot_init(&s);
        if (upload_slot_take(&s, TENANT_B, USER_B1, 3, 100) == UPLOAD_SLOT_OK) {
            int64_t n = upload_slots_of_tenant(TENANT_B);

            pthread_mutex_lock(&race_mu);
            if (n > race_max_seen)
                race_max_seen = n;
            pthread_mutex_unlock(&race_mu);
            upload_slot_release(&s);
        }
    }
    return NULL;
}

/* Many threads at once never get past the limit, and every count returns to zero. */
static void test_threads_never_exceed(void **state)
{
    pthread_t t[RACE_THREADS];

    (void)state;
    for (int i = 0; i < RACE_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race_thread, NULL), 0);
    for (int i = 0; i < RACE_THREADS; i++)
        pthread_join(t[i], NULL);
    assert_true(race_max_seen >= 1);
    assert_true(race_max_seen <= 3);
    assert_int_equal(upload_slots_of_tenant(TENANT_B), 0);
    assert_int_equal(upload_slots_of_user(USER_B1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tenant_limit),
        cmocka_unit_test(test_user_limit),
        cmocka_unit_test(test_release_twice),
        cmocka_unit_test(test_threads_never_exceed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
