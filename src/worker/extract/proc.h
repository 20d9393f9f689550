/*
 * proc.h - the process steps the sandbox (sandbox.c) and pdftotext (pdf.c)
 * share: fork a child whose output comes back over a pipe, and reap it.
 */
#ifndef WORKER_EXTRACT_PROC_H
#define WORKER_EXTRACT_PROC_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Make a pipe (O_CLOEXEC) and fork.
 * In the parent: returns the child's pid, *fd is the pipe's read end (the
 * write end is closed).
 * In the child: returns 0, *fd is the pipe's write end (the read end is
 * closed); the child must end in _exit() or exec, never return to its caller's
 * caller.
 * On failure: returns -1 with "pipe: <reason>" or "fork: <reason>" in detail;
 * nothing is left open.
 */
pid_t proc_spawn_piped(int *fd, char *detail, size_t detail_len);

/* waitpid() for pid, retried on EINTR. Returns the wait status (0 if it could not be had). */
int proc_reap(pid_t pid);

#endif
