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
#include "worker/extract/proc.h"

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

/* In the child: detach from the worker's resources (signals, stdin, descriptors but wfd). */
static void child_isolate(int wfd)
{
    int devnull;

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
}

/* In the child: the resource limits (see README.md). */
static void child_limits(const struct sandbox_limits *lim)
{
    long cpu = lim->cpu_s > 0 ? lim->cpu_s : (lim->timeout_ms + 999) / 1000 + 1;
    struct rlimit rl = { (rlim_t)cpu, (rlim_t)cpu + 1 };

    setrlimit(RLIMIT_CPU, &rl);   /* SIGXCPU at the soft limit, SIGKILL at the hard */
#ifndef SANDBOX_NO_RLIMIT_AS
    if (lim->memory_mb > 0)
        set_limit(RLIMIT_AS, (rlim_t)lim->memory_mb << 20);
#endif
    set_limit(RLIMIT_FSIZE, (rlim_t)(lim->fsize_bytes > 0 ? lim->fsize_bytes : 0));
    set_limit(RLIMIT_NOFILE, (rlim_t)(lim->nofile > 0 ? lim->nofile : 64));
    set_limit(RLIMIT_CORE, 0);
}

static void child_main(sandbox_fn fn, void *arg, const struct sandbox_limits *lim, int wfd)
{
    struct frame_head h;
    struct buf out;
    char detail[DETAIL_MAX] = "";
    enum run_fail code;

    child_isolate(wfd);
    child_limits(lim);
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

/* The parent's side of one run. */
struct reader {
    pid_t pid;
    int fd;              /* the pipe's read end */
    int64_t deadline;    /* mono ms: the wall-clock limit */
    int gone;            /* the child has exited (seen with WNOWAIT: not reaped yet) */
    int timed_out;       /* the deadline passed while reading */
};

/* 1 once the child has exited. WNOWAIT leaves the zombie, so its pid and group
 * cannot be reused before the final kill and waitpid. */
static int child_exited(struct reader *rd)
{
    siginfo_t si;

    if (rd->gone)
        return 1;
    memset(&si, 0, sizeof(si));
    if (waitid(P_PID, (id_t)rd->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == rd->pid)
        rd->gone = 1;
    return rd->gone;
}

/* Read exactly want bytes into dst. 0, or -1 at the deadline (timed_out set),
 * on EOF or a read error, or once the exited child has nothing more to read. */
static int read_exact(struct reader *rd, void *dst, size_t want)
{
    size_t got = 0;

    while (got < want) {
        struct pollfd pfd = { rd->fd, POLLIN, 0 };
        int64_t left = rd->deadline - now_ms();
        int pr;
        ssize_t r;

        if (left <= 0) {
            rd->timed_out = 1;
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
             * the child itself. Nothing left to read and it exited: done.
             * Seen exiting just now: drain what it wrote before that. */
            int was_gone = rd->gone;

            if (child_exited(rd) && was_gone)
                return -1;
            continue;
        }
        r = read(rd->fd, (char *)dst + got, want - got);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Read the payload_len bytes of payload into out. 0, -1 when the pipe ended
 * early, 1 when memory ran out (*code and detail set). */
static int read_payload(struct reader *rd, uint64_t payload_len, struct buf *out, enum run_fail *code,
                        char *detail, size_t detail_len)
{
    char chunk[65536];

    while (out->len < payload_len) {
        size_t want = payload_len - out->len < sizeof(chunk) ? (size_t)(payload_len - out->len) : sizeof(chunk);

        if (read_exact(rd, chunk, want) < 0)
            return -1;
        if (buf_add(out, chunk, want) < 0) {
            snprintf(detail, detail_len, "out of memory for %llu bytes of text", (unsigned long long)payload_len);
            *code = RUN_FAIL_INTERNAL;
            return 1;
        }
    }
    return 0;
}

/*
 * Read the child's frame. 0 with *code (and detail) set: the child's own
 * answer, or the parent's refusal of a malformed or oversized one. -1: the
 * pipe ended before a whole frame (the child died, or the deadline passed).
 */
static int read_answer(struct reader *rd, const struct sandbox_limits *lim, struct buf *out, enum run_fail *code,
                       char *detail, size_t detail_len)
{
    struct frame_head h;
    char d[DETAIL_MAX];
    int rc;

    if (read_exact(rd, &h, sizeof(h)) < 0)
        return -1;
    if (h.magic != FRAME_MAGIC || h.detail_len >= sizeof(d) || h.code < 0 || h.code >= RUN_FAIL__COUNT) {
        snprintf(detail, detail_len, "extractor sent a malformed answer");
        *code = RUN_FAIL_EXTRACT_FAILED;
        return 0;
    }
    if (h.payload_len > lim->max_output) {
        snprintf(detail, detail_len, "extracted text over the limit");
        *code = RUN_FAIL_TOO_LARGE;
        return 0;
    }
    if (read_exact(rd, d, h.detail_len) < 0)
        return -1;
    d[h.detail_len] = '\0';
    rc = read_payload(rd, h.payload_len, out, code, detail, detail_len);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    *code = (enum run_fail)h.code;
    snprintf(detail, detail_len, "%s", d);
    return 0;
}

/* The pipe closed early: give the child until the deadline to finish exiting,
 * so its own exit status (signal, code) can be reported. */
static void await_exit(struct reader *rd)
{
    struct timespec ts = { 0, 5 * 1000000L };

    while (!child_exited(rd) && now_ms() < rd->deadline)
        nanosleep(&ts, NULL);
}

/* Why a child that sent no answer failed, from its wait status. */
static enum run_fail death_result(const struct reader *rd, int status, const struct sandbox_limits *lim,
                                  char *detail, size_t detail_len)
{
    if (!rd->gone) {
        snprintf(detail, detail_len, "extraction over %ld ms", lim->timeout_ms);
        return RUN_FAIL_TIMEOUT;
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
        snprintf(detail, detail_len, "extractor over its CPU time limit");
        return RUN_FAIL_TIMEOUT;
    }
    if (WIFSIGNALED(status))
        snprintf(detail, detail_len, "extractor killed by signal %d", WTERMSIG(status));
    else
        snprintf(detail, detail_len, "extractor exited %d without an answer",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return RUN_FAIL_EXTRACT_FAILED;
}

enum run_fail sandbox_run(sandbox_fn fn, void *arg, const struct sandbox_limits *lim, struct buf *out,
                          char *detail, size_t detail_len)
{
    struct reader rd;
    enum run_fail code = RUN_FAIL_INTERNAL;
    int died = 0, status;

    memset(&rd, 0, sizeof(rd));
    buf_init(out, lim->max_output);
    if (detail_len)
        detail[0] = '\0';
    rd.pid = proc_spawn_piped(&rd.fd, detail, detail_len);
    if (rd.pid < 0)
        return RUN_FAIL_INTERNAL;
    if (rd.pid == 0) {
        child_main(fn, arg, lim, rd.fd);
        _exit(4);
    }
    setpgid(rd.pid, rd.pid);   /* also done by the child: whichever runs first wins the race */
    rd.deadline = now_ms() + (lim->timeout_ms > 0 ? lim->timeout_ms : 120000);

    if (read_answer(&rd, lim, out, &code, detail, detail_len) < 0) {
        if (rd.timed_out) {
            snprintf(detail, detail_len, "extraction over %ld ms", lim->timeout_ms);
            code = RUN_FAIL_TIMEOUT;
        } else {
            died = 1;
            await_exit(&rd);
        }
    }
    /* the child is unreaped until here, so pid and group id are still ours;
     * this also kills grandchildren (pdftotext) left in the group */
    kill(-rd.pid, SIGKILL);
    kill(rd.pid, SIGKILL);
    status = proc_reap(rd.pid);
    close(rd.fd);
    if (died)
        code = death_result(&rd, status, lim, detail, detail_len);
    if (code != RUN_OK)
        buf_release(out);
    return code;
}
