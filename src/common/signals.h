/*
 * signals.h - the one signal setup of core-api and ingest-worker.
 *
 * A handler only sets a flag (redis' sigShutdownHandler, h2o): the program's
 * main loop watches the flag, drains in-flight work up to its deadline and
 * exits cleanly. SIGPIPE is ignored, so a peer that closes a socket mid-write
 * gives EPIPE to the writer instead of killing the process.
 */
#ifndef COMMON_SIGNALS_H
#define COMMON_SIGNALS_H

#include <signal.h>

/*
 * Install flag-only handlers: SIGTERM and SIGINT set *stop to 1 (the caller
 * owns the flag and must keep it alive for the life of the process); SIGPIPE
 * is ignored. Interrupted system calls are not restarted (no SA_RESTART), so
 * a blocking wait returns EINTR and the loop sees the flag at once.
 * Returns 0, or -1 with errno set by sigaction(2).
 */
int signals_install(volatile sig_atomic_t *stop);

#endif
