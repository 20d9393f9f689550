/*
 * pdf.c - PDF text through pdftotext (pdf.h): fork it with its stdout on a
 * pipe (proc.h), read that into the bounded buffer, map its exit status. One
 * mechanism for one process and many: a large PDF can be read by several
 * pdftotext processes over contiguous page ranges at once (extract_pdf_text):
 * their pipes are polled together and the outputs joined in page order, the
 * same bytes as one pdftotext over the file; one part is the same loop with
 * one pipe and no page range.
 *
 * A PDF up to stdin_max bytes reaches pdftotext on its stdin ("-" for the
 * file name), not by path: given a path, poppler reads the file through
 * 256-byte pread()s (130,000 system calls for a 1.2 MB manual, a quarter of
 * pdftotext's CPU); from stdin it reads the file once into memory, the same
 * output for less CPU and a resident copy of the file per process.
 */
#include "worker/extract/pdf.h"
#include "worker/extract/ocr.h"
#include "worker/extract/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the child: stdin from in_path (NULL: none), stdout to the pipe, stderr to /dev/null, then
 * pdftotext. Never returns. */
static void exec_pdftotext(const char *const *argv, const char *in_path, int wfd)
{
    int devnull = open("/dev/null", O_RDWR), in = in_path ? open(in_path, O_RDONLY) : devnull;

    if (in < 0 || dup2(in, 0) < 0 || dup2(wfd, 1) < 0)
        _exit(126);
    if (devnull >= 0)
        dup2(devnull, 2);
    execvp("pdftotext", (char *const *)argv);
    _exit(127);
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

/* One pdftotext over pages first..last: its pipe and what it has written. */
struct pdf_part {
    pid_t pid;
    int fd;              /* -1 once at EOF */
    struct buf own;      /* parts after the first; the first writes into out itself */
    struct buf *text;
};

/*
 * Fork pdftotext -f first -l last on path (already made safe) for part p; first 0: the whole
 * file, no range (one part, or no page count); in_stdin: the file on its stdin, opened by the
 * child itself (its own offset). 0, or -1 with a detail.
 */
static int part_spawn(struct pdf_part *p, const char *path, int in_stdin, long first, long last,
                      char *detail, size_t detail_len)
{
    char f[24], l[24];
    const char *file = in_stdin ? "-" : path;
    const char *const ranged[] = {"pdftotext", "-q", "-f", f, "-l", l, "-enc", "UTF-8", "-eol", "unix",
                                  file, "-", NULL};
    const char *const whole[] = {"pdftotext", "-q", "-enc", "UTF-8", "-eol", "unix", file, "-", NULL};
    const char *const *argv = first > 0 ? ranged : whole;

    snprintf(f, sizeof(f), "%ld", first);
    snprintf(l, sizeof(l), "%ld", last);
    p->pid = proc_spawn_piped(&p->fd, detail, detail_len);
    if (p->pid < 0)
        return -1;
    if (p->pid == 0)
        exec_pdftotext(argv, in_stdin ? path : NULL, p->fd);
    return 0;
}

/* One read from part p: 1 at EOF, 0 on bytes kept, or a failure (over max in total, memory). */
static int part_read(struct pdf_part *p, size_t *total, size_t max, enum run_fail *rc, char *detail,
                     size_t detail_len)
{
    char chunk[65536];
    ssize_t r = read(p->fd, chunk, sizeof(chunk));

    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (r <= 0)
        return 1;
    extract_pdf_progress(chunk, (size_t)r);   /* form feeds of every part: pages done of the total */
    if ((size_t)r > max - *total) {
        snprintf(detail, detail_len, "pdftotext output over the limit");
        *rc = RUN_FAIL_TOO_LARGE;
        return -1;
    }
    if (buf_add(p->text, chunk, (size_t)r) < 0) {
        snprintf(detail, detail_len, "out of memory reading pdftotext output");
        *rc = RUN_FAIL_INTERNAL;
        return -1;
    }
    *total += (size_t)r;
    return 0;
}

/* Read every part's pipe as it fills until all are at EOF; the bytes together stay within max. */
static enum run_fail parts_read(struct pdf_part *parts, int n, size_t max, char *detail, size_t detail_len)
{
    struct pollfd fds[EXTRACT_PDF_PARTS_MAX];
    enum run_fail rc = RUN_OK;
    size_t total = 0;
    int open_n = n;

    while (open_n > 0) {
        for (int i = 0; i < n; i++)
            fds[i] = (struct pollfd){ .fd = parts[i].fd, .events = POLLIN };
        if (poll(fds, (nfds_t)n, -1) < 0) {   /* the wall clock is the parent's: it kills the group */
            if (errno == EINTR)
                continue;
            snprintf(detail, detail_len, "poll: %s", strerror(errno));
            return RUN_FAIL_INTERNAL;
        }
        for (int i = 0; i < n; i++) {
            int r;

            if (parts[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            r = part_read(&parts[i], &total, max, &rc, detail, detail_len);
            if (r < 0)
                return rc;
            if (r == 1) {
                close(parts[i].fd);
                parts[i].fd = -1;
                open_n--;
            }
        }
    }
    return RUN_OK;
}

/* Kill (on failure), close and reap every spawned part; the first part's failure in page order wins. */
static enum run_fail parts_end(struct pdf_part *parts, int n, enum run_fail rc, char *detail, size_t detail_len)
{
    for (int i = 0; i < n; i++) {
        if (rc != RUN_OK)
            kill(parts[i].pid, SIGKILL);
        if (parts[i].fd >= 0)
            close(parts[i].fd);
    }
    for (int i = 0; i < n; i++) {
        int status = proc_reap(parts[i].pid);

        if (rc == RUN_OK)
            rc = exit_result(status, detail, detail_len);
    }
    return rc;
}

/* n parts of pages pages: part i reads 1 + i * pages / n .. (i + 1) * pages / n, joined into out. */
static enum run_fail pdf_parts(const char *path, int in_stdin, long pages, int n, struct buf *out,
                               char *detail, size_t detail_len)
{
    struct pdf_part parts[EXTRACT_PDF_PARTS_MAX];
    enum run_fail rc = RUN_OK;
    int spawned = 0;

    for (int i = 0; i < n; i++) {
        buf_init(&parts[i].own, out->max);
        parts[i].text = i == 0 ? out : &parts[i].own;
    }
    for (; spawned < n && rc == RUN_OK; spawned++)
        if (part_spawn(&parts[spawned], path, in_stdin, n > 1 ? 1 + spawned * pages / n : 0, (spawned + 1) * pages / n,
                       detail, detail_len) < 0)
            rc = RUN_FAIL_INTERNAL;
    if (rc != RUN_OK)
        spawned--;   /* the last one did not start */
    if (rc == RUN_OK)
        rc = parts_read(parts, n, out->max, detail, detail_len);
    rc = parts_end(parts, spawned, rc, detail, detail_len);
    for (int i = 1; i < n; i++) {
        if (rc == RUN_OK && parts[i].own.len && buf_add(out, parts[i].own.ptr, parts[i].own.len) < 0) {
            snprintf(detail, detail_len, "out of memory joining pdftotext output");
            rc = RUN_FAIL_INTERNAL;
        }
        buf_release(&parts[i].own);
    }
    if (rc != RUN_OK)
        buf_release(out);
    return rc;
}

long long extract_pdf_stdin_max(long memory_mb)
{
    return memory_mb > 0 ? (long long)memory_mb * (1LL << 20) / 4 : -1;
}

int extract_pdf_on_stdin(const char *path, long long stdin_max)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= stdin_max;
}

enum run_fail extract_pdf_text(const char *path, long pages, int parts, long long stdin_max, struct buf *out,
                               char *detail, size_t detail_len)
{
    char arg[4096];
    int in_stdin = extract_pdf_on_stdin(path, stdin_max);

    if (parts > EXTRACT_PDF_PARTS_MAX)
        parts = EXTRACT_PDF_PARTS_MAX;
    if (parts > pages)
        parts = (int)pages;
    if (parts < 1)
        parts = 1;   /* no page count (pdfinfo failed): the whole file in one process */
    if (snprintf(arg, sizeof(arg), "%s%s", path[0] == '-' ? "./" : "", path) >= (int)sizeof(arg)) {
        snprintf(detail, detail_len, "path too long");
        buf_release(out);
        return RUN_FAIL_EXTRACT_FAILED;
    }
    return pdf_parts(arg, in_stdin, pages, parts, out, detail, detail_len);
}
