/* signals.c - flag-only SIGTERM/SIGINT handlers and an ignored SIGPIPE (signals.h). */
#include "common/signals.h"

#include <stddef.h>
#include <string.h>

/* Set once, before the handlers are installed; the handlers only read it. */
static volatile sig_atomic_t *stop_flag;

static void on_stop_signal(int sig)
{
    (void)sig;
    if (stop_flag)
        *stop_flag = 1;
}

int signals_install(volatile sig_atomic_t *stop)
{
    struct sigaction sa;

    stop_flag = stop;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop_signal;
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        return -1;
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}
