/*
 * proc.c - fork a child with a pipe back to the parent, and reap it (proc.h).
 */
#include "worker/extract/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t proc_spawn_piped(int *fd, char *detail, size_t detail_len)
{
    int fds[2];
    pid_t pid;

    *fd = -1;
    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(detail, detail_len, "pipe: %s", strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        snprintf(detail, detail_len, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    close(fds[pid == 0 ? 0 : 1]);
    *fd = fds[pid == 0 ? 1 : 0];
    return pid;
}

int proc_reap(pid_t pid)
{
    int status = 0;

    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}
