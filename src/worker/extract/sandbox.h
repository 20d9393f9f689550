/*
 * sandbox.h - run a function in a forked, resource-limited child and collect
 * its output over a pipe. See README.md in this folder for the design.
 */
#ifndef WORKER_EXTRACT_SANDBOX_H
#define WORKER_EXTRACT_SANDBOX_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>

struct sandbox_limits {
    long timeout_ms;     /* wall clock; the child's process group is SIGKILLed past it */
    long memory_mb;      /* RLIMIT_AS (not applied under AddressSanitizer); <= 0: none */
    long cpu_s;          /* RLIMIT_CPU; <= 0: derived from timeout_ms */
    long fsize_bytes;    /* RLIMIT_FSIZE: the child writes no files; 0 forbids it */
    long nofile;         /* RLIMIT_NOFILE; <= 0: 64 */
    size_t max_output;   /* payload bytes accepted from the child */
};

/*
 * Runs in the child. Fill out (its max is the limits' max_output) and return
 * RUN_OK, or a run_fail code with a detail. The child must not log,
 * take locks other threads of the parent may hold, or return to the caller:
 * sandbox_run() _exit()s after sending the result.
 */
typedef enum run_fail (*sandbox_fn)(void *arg, struct buf *out, char *detail, size_t detail_len);

/*
 * Fork (proc.h), apply the limits in the child, run fn(arg) there and read
 * back its code, detail and payload. Returns fn's code with out holding the payload
 * (out initialized by the callee; release it), or TIMEOUT (wall clock or CPU
 * limit), TOO_LARGE (payload over max_output), EXTRACT_FAILED (child crashed or
 * died without answering), INTERNAL (fork/pipe failed), with a detail.
 */
enum run_fail sandbox_run(sandbox_fn fn, void *arg, const struct sandbox_limits *lim, struct buf *out,
                          char *detail, size_t detail_len);

#endif
