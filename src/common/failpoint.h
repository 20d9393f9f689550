/*
 * failpoint.h - named places where a test can make a program die or stall,
 * to prove what happens when a process is killed at the worst moment (a
 * core-api between the run's commit and its SendMessage, a worker between its
 * content commit and its ACK).
 *
 * Compiled in only when the build defines FAILPOINTS (`make FAILPOINTS=1`,
 * the default of the development and test builds; the release image builds
 * with FAILPOINTS=0 and every FAILPOINT() is then nothing at all). Even when
 * compiled in, a failpoint does nothing unless the environment variable
 * FAILPOINTS names it, so the default is off:
 *
 *     FAILPOINTS="after_run_commit:exit"              die at once (exit code 86)
 *     FAILPOINTS="after_content_commit:exit,x:sleep=500"   several, comma-separated
 *
 * Actions: "exit" (a line on stderr, then _exit(FAILPOINT_EXIT_CODE): no
 * clean-up, no flush, like kill -9) and "sleep=MS" (stall the calling thread).
 * The variable is read once, at the first FAILPOINT() of the process.
 *
 * The failpoints of the programs (each named where it is hit):
 *   after_run_commit      core-api, POST /v1/ingest: the queued run and its
 *                         outbox row are committed, the message not yet sent
 *   after_content_commit  ingest-worker: the version, chunks and `succeeded`
 *                         are committed, the message not yet deleted (ACK)
 */
#ifndef COMMON_FAILPOINT_H
#define COMMON_FAILPOINT_H

#define FAILPOINT_EXIT_CODE 86

#ifdef FAILPOINTS
/* Act on the failpoint name if the FAILPOINTS variable names it; else return at once. */
void failpoint_hit(const char *name);
#define FAILPOINT(name) failpoint_hit(name)
#else
#define FAILPOINT(name) ((void)0)
#endif

/*
 * 1 if the program was built with failpoints (it may then be told to die by
 * its environment), else 0. Logged at start so an operator sees it.
 */
int failpoint_compiled_in(void);

#endif
