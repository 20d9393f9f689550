/* Unit tests for the failpoints (src/common/failpoint.c): off unless named, sleep and exit act. */
#include "common/failpoint.h"
#include "common/timeutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#ifdef FAILPOINTS
/* The variable is read once, at the first hit: set it before anything else runs. */
static int setup(void **state)
{
    (void)state;
    return setenv("FAILPOINTS", "fp_sleep:sleep=120,fp_exit:exit", 1);
}

static void test_unnamed_does_nothing(void **state)
{
    int64_t t0 = time_mono_ms();

    (void)state;
    FAILPOINT("not_named");
    FAILPOINT("fp_slee");     /* a prefix of a name is not the name */
    assert_true(time_mono_ms() - t0 < 100);
    assert_int_equal(failpoint_compiled_in(), 1);
}

static void test_sleep(void **state)
{
    int64_t t0 = time_mono_ms();

    (void)state;
    FAILPOINT("fp_sleep");
    assert_true(time_mono_ms() - t0 >= 120);
}

/* In a child process: the exit action ends it at once with FAILPOINT_EXIT_CODE. */
static void test_exit(void **state)
{
    pid_t pid;
    int status = 0;

    (void)state;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FAILPOINT("fp_exit");
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), FAILPOINT_EXIT_CODE);
}
#else
static int setup(void **state)
{
    (void)state;
    return 0;
}

static void test_unnamed_does_nothing(void **state)
{
    (void)state;
    assert_int_equal(failpoint_compiled_in(), 0);
}

static void test_sleep(void **state)
{
    (void)state;
    skip();
}

static void test_exit(void **state)
{
    (void)state;
    skip();
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unnamed_does_nothing),
        cmocka_unit_test(test_sleep),
        cmocka_unit_test(test_exit),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
