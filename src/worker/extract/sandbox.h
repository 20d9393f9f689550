/*
 * sandbox.h - run an extraction in a freshly exec'd, resource-limited helper
 * program (ingest-extract) and collect its framed answer over a pipe. See
 * README.md in this folder for the design.
 *
 * Parent side (the worker): sandbox_run() posix_spawn()s the helper with a
 * minimal environment, stdin and stdout on /dev/null, the pipe's write end as
 * descriptor SANDBOX_CHILD_FD and nothing else open, in its own process group;
 * it enforces the wall clock and validates every length it reads.
 * Child side (the helper): sandbox_child_setup() applies the limits before any
 * untrusted byte is read, then the helper answers with sandbox_child_answer().
 */
#ifndef WORKER_EXTRACT_SANDBOX_H
#define WORKER_EXTRACT_SANDBOX_H

#include "common/buf.h"
#include "common/errors.h"

#include <stddef.h>
#include <sys/types.h>

/* The helper's end of the answer pipe. */
#define SANDBOX_CHILD_FD 3

struct sandbox_limits {
    long timeout_ms;     /* wall clock; the child's process group is SIGKILLed past it */
    long memory_mb;      /* RLIMIT_AS (not applied under AddressSanitizer); <= 0: none */
    long cpu_s;          /* RLIMIT_CPU; <= 0: derived from timeout_ms */
    long fsize_bytes;    /* RLIMIT_FSIZE: the child writes no files; 0 forbids it */
    long nofile;         /* RLIMIT_NOFILE; <= 0: 64 */
    size_t max_output;   /* payload bytes accepted from the child */
    /* Optional: called in the parent for each progress frame the child sends
     * (done <= total, both checked); NULL: progress frames are read and dropped. */
    void (*progress)(void *arg, long done, long total);
    void *progress_arg;
};

/*
 * Parent: spawn argv[0] (an absolute path to the helper) with argv, read back
 * its progress frames (handed to lim->progress) and its one answer frame.
 * Returns the child's code with out holding the payload (out initialized by
 * the callee; release it), or TIMEOUT (wall clock or CPU limit), TOO_LARGE
 * (payload over max_output), EXTRACT_FAILED (child crashed or died without
 * answering; "extractor killed by signal 9"), INTERNAL (the helper could not
 * be spawned: "spawn /path: No such file or directory"), with a detail.
 */
enum run_fail sandbox_run(char *const argv[], const struct sandbox_limits *lim, struct buf *out,
                          char *detail, size_t detail_len);

/*
 * Child: detach and limit this process: die with the parent (PR_SET_PDEATHSIG;
 * exits at once if parent_pid is no longer the parent), no new privileges, no
 * core dumps, RLIMIT_CPU/AS/FSIZE/NOFILE from lim, and a network namespace of
 * its own (unshare(CLONE_NEWNET): no interface but a down loopback) where the
 * kernel permits it. Returns 1 when the network namespace was made, 0 when it
 * was refused (not privileged): the limits apply either way.
 */
int sandbox_child_setup(const struct sandbox_limits *lim, pid_t parent_pid);

/* Child: send one progress frame {done, total} on fd. 0, or -1 if the pipe is gone. */
int sandbox_child_progress(int fd, long done, long total);

/* Child: send the answer frame (code, detail, payload: out unless code != RUN_OK). 0 or -1. */
int sandbox_child_answer(int fd, enum run_fail code, const char *detail, const struct buf *out);

#endif
