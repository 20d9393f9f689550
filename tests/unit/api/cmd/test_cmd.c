/*
 * test_cmd.c - the subcommands (migrate, bootstrap, crash guard) without the
 * HTTP layer. This binary links only the objects of src/api/cmd, the account rules
 * (auth/account.o, auth/password.o) and libcommon (Makefile, UNIT_CMD): it
 * stops linking if a subcommand reaches the server or a handler again. The
 * cases are the usage and input errors each command answers before it
 * touches a database.
 */
#include "api/cmd/bootstrap.h"
#include "api/cmd/crash_guard.h"
#include "api/cmd/migrate.h"
#include "common/config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* argv from string literals (mutable copies, as main() would get them; the previous call's are freed). */
static char **argv_of(const char *const *in, int n)
{
    static char *out[16];

    assert_true(n < 16);
    for (int i = 0; i < 16; i++) {
        free(out[i]);
        out[i] = i < n ? strdup(in[i]) : NULL;
    }
    out[n] = NULL;
    return out;
}

static void bootstrap_without_arguments_is_usage(void **state)
{
    const char *argv[] = {NULL};

    (void)state;
    assert_int_equal(bootstrap_main(NULL, 0, argv_of(argv, 0)), 2);
}

static void bootstrap_refuses_a_weak_password(void **state)
{
    const char *argv[] = {"--tenant", "acme", "--name", "Acme", "--email", "a@acme.test", NULL};

    (void)state;
    setenv("BOOTSTRAP_PASSWORD", "short", 1);
    assert_int_equal(bootstrap_main(NULL, 6, argv_of(argv, 6)), 2);
    unsetenv("BOOTSTRAP_PASSWORD");
}

static void bootstrap_refuses_a_bad_email(void **state)
{
    const char *argv[] = {"--tenant", "acme", "--name", "Acme", "--email", "no-at-sign", NULL};

    (void)state;
    setenv("BOOTSTRAP_PASSWORD", "a-long-enough-password-1", 1);
    assert_int_equal(bootstrap_main(NULL, 6, argv_of(argv, 6)), 2);
    unsetenv("BOOTSTRAP_PASSWORD");
}

static void bootstrap_needs_a_database_url(void **state)
{
    const char *argv[] = {"--tenant", "acme", "--name", "Acme", "--email", "a@acme.test", NULL};
    struct config cfg;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.database_url = "";
    unsetenv("DATABASE_URL");
    setenv("BOOTSTRAP_PASSWORD", "a-long-enough-password-1", 1);
    assert_int_equal(bootstrap_main(&cfg, 6, argv_of(argv, 6)), 2);
    unsetenv("BOOTSTRAP_PASSWORD");
}

static void crash_guard_bad_usage(void **state)
{
    const char *bad_now[] = {"crash-guard", "--now", "yesterday-ish", NULL};
    const char *unknown[] = {"crash-guard", "--frobnicate", NULL};

    (void)state;
    assert_int_equal(crash_guard_main(NULL, 3, argv_of(bad_now, 3)), 2);
    assert_int_equal(crash_guard_main(NULL, 2, argv_of(unknown, 2)), 2);
}

/* The storage scan keeps what a policy keeps and nothing else (issue 14). */
static void upload_folder_policy_rules(void **state)
{
    (void)state;
    assert_string_equal(upload_folder_policy(NULL, 0, 0, 0), "orphan");
    assert_null(upload_folder_policy(NULL, 0, 1, 0));   /* a queued run names a file in it */
    assert_null(upload_folder_policy("queued", 0, 0, 1));
    assert_null(upload_folder_policy("running", 1, 0, 1));
    assert_null(upload_folder_policy("failed", 0, 0, 0));   /* within FAILED_UPLOAD_RETENTION */
    assert_string_equal(upload_folder_policy("failed", 1, 0, 0), "failed_retention");
    assert_null(upload_folder_policy("failed", 1, 1, 0));   /* a retry uses it */
    assert_string_equal(upload_folder_policy("skipped", 0, 0, 0), "skipped");
    assert_null(upload_folder_policy("succeeded", 0, 0, 0));   /* UPLOAD_RETENTION=keep */
    assert_string_equal(upload_folder_policy("succeeded", 0, 0, 1), "succeeded_retention");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bootstrap_without_arguments_is_usage),
        cmocka_unit_test(upload_folder_policy_rules),
        cmocka_unit_test(bootstrap_refuses_a_weak_password),
        cmocka_unit_test(bootstrap_refuses_a_bad_email),
        cmocka_unit_test(bootstrap_needs_a_database_url),
        cmocka_unit_test(crash_guard_bad_usage),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
