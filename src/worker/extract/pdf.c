/*
 * pdf.c - PDF text through pdftotext (pdf.h): fork it with its stdout on a
 * pipe (proc.h), read that into the bounded buffer, map its exit status.
 */
#include "worker/extract/pdf.h"
#include "worker/extract/ocr.h"
#include "worker/extract/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the child: stdout to the pipe, stderr to /dev/null, then pdftotext. Never returns. */
static void exec_pdftotext(const char *const *argv, int wfd)
{
    int devnull = open("/dev/null", O_RDWR);

    if (dup2(wfd, 1) < 0)
        _exit(126);
    if (devnull >= 0)
        dup2(devnull, 2);
    execvp("pdftotext", (char *const *)argv);
    _exit(127);
}

/* Read pdftotext's output into out until EOF; past out's max or out of memory, kill it. */
static enum run_fail read_output(pid_t pid, int fd, struct buf *out, char *detail, size_t detail_len)
{
    char chunk[65536];

    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return RUN_OK;
        extract_pdf_progress(chunk, (size_t)r);
        if ((size_t)r > out->max - out->len) {
            kill(pid, SIGKILL);
            snprintf(detail, detail_len, "pdftotext output over the limit");
            return RUN_FAIL_TOO_LARGE;
        }
        if (buf_add(out, chunk, (size_t)r) < 0) {
            kill(pid, SIGKILL);
            snprintf(detail, detail_len, "out of memory reading pdftotext output");
            return RUN_FAIL_INTERNAL;
        }
    }
}

/* What pdftotext's wait status means for the run. */
static enum run_fail exit_result(int status, char *detail, size_t detail_len)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return RUN_OK;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        snprintf(detail, detail_len, "pdftotext not found");
    else if (WIFEXITED(status)) {
        /* pdftotext's own verdict on the file (1: cannot open or parse it, 3: encrypted): permanent. */
        snprintf(detail, detail_len, "pdftotext exit %d", WEXITSTATUS(status));
        return RUN_FAIL_CORRUPT;
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
        snprintf(detail, detail_len, "pdftotext over its CPU time limit");
        return RUN_FAIL_TIMEOUT;
    } else if (WIFSIGNALED(status))
        snprintf(detail, detail_len, "pdftotext killed by signal %d", WTERMSIG(status));
    return RUN_FAIL_EXTRACT_FAILED;
}

enum run_fail extract_pdf_file(const char *path, struct buf *out, char *detail, size_t detail_len)
{
    char arg[4096];
    const char *const argv[] = {"pdftotext", "-q", "-enc", "UTF-8", "-eol", "unix", arg, "-", NULL};
    enum run_fail rc;
    pid_t pid;
    int fd, status;

    /* a path starting with '-' would be read as an option */
    if (snprintf(arg, sizeof(arg), "%s%s", path[0] == '-' ? "./" : "", path) >= (int)sizeof(arg)) {
        snprintf(detail, detail_len, "path too long");
        buf_release(out);
        return RUN_FAIL_EXTRACT_FAILED;
    }
    pid = proc_spawn_piped(&fd, detail, detail_len);
    if (pid < 0) {
        buf_release(out);
        return RUN_FAIL_INTERNAL;
    }
    if (pid == 0)
        exec_pdftotext(argv, fd);
    rc = read_output(pid, fd, out, detail, detail_len);
    close(fd);
    status = proc_reap(pid);
    if (rc == RUN_OK)
        rc = exit_result(status, detail, detail_len);
    if (rc != RUN_OK)
        buf_release(out);
    return rc;
}
