#include "worker/extract/pdf.h"
#include "common/errors.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int extract_pdf_file(const char *path, struct buf *out, char *detail, size_t detail_len)
{
    char arg[4096];
    const char *argv[9];
    int fds[2], rc = RUN_FAIL_EXTRACT_FAILED, status = 0, over = 0;
    pid_t pid;

    /* a path starting with '-' would be read as an option */
    if (snprintf(arg, sizeof(arg), "%s%s", path[0] == '-' ? "./" : "", path) >= (int)sizeof(arg)) {
        snprintf(detail, detail_len, "path too long");
        return RUN_FAIL_EXTRACT_FAILED;
    }
    argv[0] = "pdftotext";
    argv[1] = "-q";
    argv[2] = "-enc";
    argv[3] = "UTF-8";
    argv[4] = "-eol";
    argv[5] = "unix";
    argv[6] = arg;
    argv[7] = "-";
    argv[8] = NULL;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(detail, detail_len, "pipe: %s", strerror(errno));
        return RUN_FAIL_INTERNAL;
    }
    pid = fork();
    if (pid < 0) {
        snprintf(detail, detail_len, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return RUN_FAIL_INTERNAL;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);

        if (dup2(fds[1], 1) < 0)
            _exit(126);
        if (devnull >= 0)
            dup2(devnull, 2);
        execvp("pdftotext", (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        char chunk[65536];
        ssize_t r = read(fds[0], chunk, sizeof(chunk));

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if ((size_t)r > out->max - out->len) {
            over = 1;
            kill(pid, SIGKILL);
            break;
        }
        if (buf_add(out, chunk, (size_t)r) < 0) {
            kill(pid, SIGKILL);
            rc = RUN_FAIL_INTERNAL;
            snprintf(detail, detail_len, "out of memory reading pdftotext output");
            break;
        }
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc == RUN_FAIL_INTERNAL)
        goto out;
    if (over) {
        rc = RUN_FAIL_TOO_LARGE;
        snprintf(detail, detail_len, "pdftotext output over the limit");
        goto out;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        rc = RUN_OK;
        goto out;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        snprintf(detail, detail_len, "pdftotext not found");
    else if (WIFEXITED(status))
        snprintf(detail, detail_len, "pdftotext exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
        rc = RUN_FAIL_TIMEOUT;
        snprintf(detail, detail_len, "pdftotext over its CPU time limit");
    } else if (WIFSIGNALED(status))
        snprintf(detail, detail_len, "pdftotext killed by signal %d", WTERMSIG(status));
out:
    if (rc != RUN_OK)
        buf_release(out);
    return rc;
}
