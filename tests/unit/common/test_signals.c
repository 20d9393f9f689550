/* Signal setup shared by both programs: SIGTERM/SIGINT only set the flag, SIGPIPE is ignored. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/signals.h"

static volatile sig_atomic_t stop;

/* Install, raise sig twice (a second signal while draining changes nothing), see the flag. */
static void expect_stop_flag(int sig)
{
    stop = 0;
    assert_int_equal(signals_install(&stop), 0);
    assert_int_equal(raise(sig), 0);
    assert_int_equal(stop, 1);
    assert_int_equal(raise(sig), 0);
    assert_int_equal(stop, 1);
}

static void test_sigterm_and_sigint_set_the_flag(void **state)
{
    (void)state;
    expect_stop_flag(SIGTERM);
    expect_stop_flag(SIGINT);
}

static void test_sigpipe_is_ignored(void **state)
{
    struct sigaction sa;
    int fds[2];

    (void)state;
    stop = 0;
    assert_int_equal(signals_install(&stop), 0);
    assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_IGN);
    /* A write to a pipe with no reader fails with EPIPE instead of killing the process. */
    assert_int_equal(pipe(fds), 0);
    close(fds[0]);
    assert_int_equal(write(fds[1], "x", 1), -1);
    close(fds[1]);
    assert_int_equal(raise(SIGPIPE), 0);
    assert_int_equal(stop, 0);
}

static void test_handlers_do_not_restart_calls(void **state)
{
    struct sigaction sa;

    (void)state;
    assert_int_equal(signals_install(&stop), 0);
    assert_int_equal(sigaction(SIGTERM, NULL, &sa), 0);
    assert_true(sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
    assert_int_equal(sa.sa_flags & SA_RESTART, 0);
    assert_int_equal(sigaction(SIGINT, NULL, &sa), 0);
    assert_true(sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigterm_and_sigint_set_the_flag),
        cmocka_unit_test(test_sigpipe_is_ignored),
        cmocka_unit_test(test_handlers_do_not_restart_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
