/*
 * sandbox.c - fork a resource-limited child, run one function there, read its
 * answer over a pipe. Design notes in README.md.
 *
 * Wire format, child -> parent (native byte order, same machine):
 *   struct frame_head { magic, code, detail_len, payload_len } | detail | payload
 * The parent trusts nothing in it: lengths are checked against the limits
 * before anything is read, and a short or missing frame means the child died.
 */
#include "worker/extract/sandbox.h"
#include "common/errors.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAGIC 0x53424f58u   /* "SBOX" */
#define DETAIL_MAX 512

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_NO_RLIMIT_AS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_NO_RLIMIT_AS 1
#endif
#endif

struct frame_head {
    uint32_t magic;
    int32_t code;
    uint32_t detail_len;
    uint32_t pad;
    uint64_t payload_len;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *s = p;

    while (n) {
        ssize_t w = write(fd, s, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static void set_limit(int res, rlim_t v)
{
    struct rlimit rl;

    rl.rlim_cur = v;
    rl.rlim_max = v;
    setrlimit(res, &rl);
}

/* Close every descriptor but 0-2 and keep: the child must not hold the worker's
 * sockets, database connections or other jobs' pipes. */
static void close_other_fds(int keep)
{
    int fd;

#ifdef SYS_close_range
    if (keep > 3)
        syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u);
    if (syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) == 0 && keep >= 3)
        return;
#endif
    for (fd = 3; fd < 65536; fd++)
        if (fd != keep)
            close(fd);
}

static void child_main(sandbox_fn fn, void *arg, const struct sandbox_limits *lim, int wfd)
{
    struct frame_head h;
    struct buf out;
    char detail[DETAIL_MAX] = "";
    long cpu;
    int code, devnull;

    /* die with the worker; never gain privileges through exec */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        if (devnull > 2)
            close(devnull);
    }
    close_other_fds(wfd);

    cpu = lim->cpu_s > 0 ? lim->cpu_s : (lim->timeout_ms + 999) / 1000 + 1;
    {
        struct rlimit rl = { (rlim_t)cpu, (rlim_t)cpu + 1 };

        setrlimit(RLIMIT_CPU, &rl);   /* SIGXCPU at the soft limit, SIGKILL at the hard */
    }
#ifndef SANDBOX_NO_RLIMIT_AS
    if (lim->memory_mb > 0)
        set_limit(RLIMIT_AS, (rlim_t)lim->memory_mb << 20);
#endif
    set_limit(RLIMIT_FSIZE, (rlim_t)(lim->fsize_bytes > 0 ? lim->fsize_bytes : 0));
    set_limit(RLIMIT_NOFILE, (rlim_t)(lim->nofile > 0 ? lim->nofile : 64));
    set_limit(RLIMIT_CORE, 0);

    buf_init(&out, lim->max_output);
    code = fn(arg, &out, detail, sizeof(detail));
    if (code != RUN_OK)
        buf_release(&out);

    memset(&h, 0, sizeof(h));
    h.magic = FRAME_MAGIC;
    h.code = code;
    h.detail_len = (uint32_t)strnlen(detail, sizeof(detail) - 1);
    h.payload_len = out.len;
    if (write_all(wfd, &h, sizeof(h)) < 0 || write_all(wfd, detail, h.detail_len) < 0 ||
        (out.len && write_all(wfd, out.ptr, out.len) < 0))
        _exit(3);
    _exit(0);
}

/* Read into dst up to want bytes; returns bytes read, stops at EOF or deadline. */
static int read_some(int fd, char *dst, size_t want, size_t *got, int64_t deadline, pid_t pid,
                     int *child_gone, int *timed_out)
{
    while (*got < want) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        int64_t left = deadline - now_ms();
        int pr;
        ssize_t r;

        if (left <= 0) {
            *timed_out = 1;
            return -1;
        }
        pr = poll(&pfd, 1, left > 100 ? 100 : (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -1;
        if (pr == 0) {
            /* Another thread's child may hold our write end (it was forked
             * while the pipe was open), so EOF is not enough: also look at
             * the child itself. Nothing left to read and it exited: done. */
            siginfo_t si;

            memset(&si, 0, sizeof(si));
            /* WNOWAIT: leave the zombie, so its pid and group cannot be reused
             * before the final kill and waitpid */
            if (!*child_gone && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                si.si_pid == pid) {
                *child_gone = 1;
                continue;   /* drain what it wrote before exiting */
            }
            if (*child_gone)
                return -1;
            continue;
        }
        r = read(fd, dst + *got, want - *got);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            return -1;
        *got += (size_t)r;
    }
    return 0;
}

int sandbox_run(sandbox_fn fn, void *arg, const struct sandbox_limits *lim, struct buf *out,
                char *detail, size_t detail_len)
{
    struct frame_head h;
    int fds[2] = { -1, -1 };
    pid_t pid;
    int64_t deadline;
    int code = RUN_FAIL_INTERNAL, gone = 0, timed_out = 0, status = 0, died = 0;
    size_t got;
    char d[DETAIL_MAX];

    buf_init(out, lim->max_output);
    if (detail_len)
        detail[0] = '\0';
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
        close(fds[0]);
        child_main(fn, arg, lim, fds[1]);
        _exit(4);
    }
    close(fds[1]);
    setpgid(pid, pid);   /* also done by the child: whichever runs first wins the race */
    deadline = now_ms() + (lim->timeout_ms > 0 ? lim->timeout_ms : 120000);

    got = 0;
    if (read_some(fds[0], (char *)&h, sizeof(h), &got, deadline, pid, &gone, &timed_out) < 0)
        goto dead;
    if (h.magic != FRAME_MAGIC || h.detail_len >= sizeof(d) || h.code < 0 ||
        h.code >= RUN_FAIL__COUNT) {
        snprintf(detail, detail_len, "extractor sent a malformed answer");
        code = RUN_FAIL_EXTRACT_FAILED;
        goto kill;
    }
    if (h.payload_len > lim->max_output) {
        snprintf(detail, detail_len, "extracted text over the limit");
        code = RUN_FAIL_TOO_LARGE;
        goto kill;
    }
    got = 0;
    if (read_some(fds[0], d, h.detail_len, &got, deadline, pid, &gone, &timed_out) < 0)
        goto dead;
    d[h.detail_len] = '\0';
    while (out->len < h.payload_len) {
        char chunk[65536];
        size_t want = h.payload_len - out->len < sizeof(chunk) ? (size_t)(h.payload_len - out->len)
                                                               : sizeof(chunk);

        got = 0;
        if (read_some(fds[0], chunk, want, &got, deadline, pid, &gone, &timed_out) < 0)
            goto dead;
        if (buf_add(out, chunk, got) < 0) {
            snprintf(detail, detail_len, "out of memory for %llu bytes of text",
                     (unsigned long long)h.payload_len);
            code = RUN_FAIL_INTERNAL;
            goto kill;
        }
    }
    code = h.code;
    snprintf(detail, detail_len, "%s", d);
    goto reap;

dead:
    buf_release(out);
    if (timed_out) {
        snprintf(detail, detail_len, "extraction over %ld ms", lim->timeout_ms);
        code = RUN_FAIL_TIMEOUT;
        goto reap;
    }
    died = 1;
    /* the pipe closed: give the child until the deadline to finish exiting,
     * so its own exit status (signal, code) can be reported */
    while (!gone && now_ms() < deadline) {
        siginfo_t si;
        struct timespec ts = { 0, 5 * 1000000L };

        memset(&si, 0, sizeof(si));
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
            gone = 1;
        else
            nanosleep(&ts, NULL);
    }
    goto reap;

kill:
    buf_release(out);
reap:
    /* the child is unreaped until here, so pid and group id are still ours;
     * this also kills grandchildren (pdftotext) left in the group */
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    close(fds[0]);
    if (died) {
        code = RUN_FAIL_EXTRACT_FAILED;
        if (!gone) {
            code = RUN_FAIL_TIMEOUT;
            snprintf(detail, detail_len, "extraction over %ld ms", lim->timeout_ms);
        } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
            code = RUN_FAIL_TIMEOUT;
            snprintf(detail, detail_len, "extractor over its CPU time limit");
        } else if (WIFSIGNALED(status))
            snprintf(detail, detail_len, "extractor killed by signal %d", WTERMSIG(status));
        else
            snprintf(detail, detail_len, "extractor exited %d without an answer",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    if (code != RUN_OK)
        buf_release(out);
    return code;
}
