/*
 * sandbox.c - posix_spawn the extraction helper (a new program image, never a
 * forked copy of the threaded worker), limit it, read its answer over a pipe.
 * Design notes in README.md.
 *
 * Wire format, child -> parent (native byte order, same machine), any number
 * of progress frames then one answer frame:
 *   progress: struct frame_head { PROGRESS_MAGIC, 0, 0, 16 } | int64 done | int64 total
 *   answer:   struct frame_head { FRAME_MAGIC, code, detail_len, payload_len } | detail | payload
 * The parent trusts nothing in it: lengths are checked against the limits
 * before anything is read, and a short or missing frame means the child died.
 */
#include "worker/extract/sandbox.h"
#include "common/errors.h"
#include "worker/extract/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
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

#define FRAME_MAGIC 0x53424f58u      /* "SBOX" */
#define PROGRESS_MAGIC 0x474f5250u   /* "PROG" */
#define PROGRESS_MAX_FRAMES 10000000 /* a child that only ever sends progress still ends at the deadline */
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

int sandbox_child_setup(const struct sandbox_limits *lim, pid_t parent_pid)
{
    int netns;

    /* die with the worker (and if it is already gone, do nothing at all);
     * never gain privileges through exec */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (parent_pid > 0 && getppid() != parent_pid)
        _exit(5);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 0);
    netns = unshare(CLONE_NEWNET) == 0;
    child_limits(lim);
    return netns;
}

int sandbox_child_progress(int fd, long done, long total)
{
    struct frame_head h;
    int64_t v[2] = { done, total };

    memset(&h, 0, sizeof(h));
    h.magic = PROGRESS_MAGIC;
    h.payload_len = sizeof(v);
    if (write_all(fd, &h, sizeof(h)) < 0 || write_all(fd, v, sizeof(v)) < 0)
        return -1;
    return 0;
}

int sandbox_child_answer(int fd, enum run_fail code, const char *detail, const struct buf *out)
{
    struct frame_head h;
    size_t len = code == RUN_OK && out ? out->len : 0;

    memset(&h, 0, sizeof(h));
    h.magic = FRAME_MAGIC;
    h.code = code;
    h.detail_len = detail ? (uint32_t)strnlen(detail, DETAIL_MAX - 1) : 0;
    h.payload_len = len;
    if (write_all(fd, &h, sizeof(h)) < 0 || write_all(fd, detail ? detail : "", h.detail_len) < 0 ||
        (len && write_all(fd, out->ptr, len) < 0))
        return -1;
    return 0;
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

/* A progress frame's body: two int64, done <= total; handed to lim->progress.
 * 0, -1 when the pipe ended early, 1 when it is malformed. */
static int read_progress(struct reader *rd, const struct frame_head *h, const struct sandbox_limits *lim)
{
    int64_t v[2];

    if (h->code != 0 || h->detail_len != 0 || h->payload_len != sizeof(v))
        return 1;
    if (read_exact(rd, v, sizeof(v)) < 0)
        return -1;
    if (v[0] < 0 || v[1] < 0 || v[0] > v[1])
        return 1;
    if (lim->progress)
        lim->progress(lim->progress_arg, (long)v[0], (long)v[1]);
    return 0;
}

/* The next answer frame's head, after any progress frames. 0, -1 (pipe ended), 1 (malformed). */
static int read_head(struct reader *rd, const struct sandbox_limits *lim, struct frame_head *h)
{
    for (long n = 0; n < PROGRESS_MAX_FRAMES; n++) {
        int rc;

        if (read_exact(rd, h, sizeof(*h)) < 0)
            return -1;
        if (h->magic != PROGRESS_MAGIC)
            return 0;
        rc = read_progress(rd, h, lim);
        if (rc != 0)
            return rc;
    }
    return 1;
}

/*
 * Read the child's frames. 0 with *code (and detail) set: the child's own
 * answer, or the parent's refusal of a malformed or oversized one. -1: the
 * pipe ended before a whole frame (the child died, or the deadline passed).
 */
static int read_answer(struct reader *rd, const struct sandbox_limits *lim, struct buf *out, enum run_fail *code,
                       char *detail, size_t detail_len)
{
    struct frame_head h;
    char d[DETAIL_MAX];
    int rc = read_head(rd, lim, &h);

    if (rc < 0)
        return -1;
    if (rc > 0 || h.magic != FRAME_MAGIC || h.detail_len >= sizeof(d) || h.code < 0 ||
        h.code >= RUN_FAIL__COUNT) {
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

/* The helper's environment: nothing of the worker's (database URL, keys), only
 * what the programs it runs need. */
static void child_env(char **env, size_t n, char store[][512])
{
    static const char *const keep[] = {"PATH", "TESSDATA_PREFIX", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                                       "LSAN_OPTIONS", NULL};
    size_t k = 0;

    for (size_t i = 0; keep[i] && k + 3 < n; i++) {
        const char *v = getenv(keep[i]);

        if (v && snprintf(store[k], 512, "%s=%s", keep[i], v) < 512)
            env[k] = store[k], k++;
    }
    if (!getenv("PATH"))
        env[k++] = (char *)"PATH=/usr/local/bin:/usr/bin:/bin";
    env[k++] = (char *)"LC_ALL=C.UTF-8";
    env[k++] = (char *)"OMP_THREAD_LIMIT=1";   /* tesseract: one thread, so RLIMIT_CPU means wall time */
    env[k] = NULL;
}

/*
 * Spawn argv with the write end wfd as SANDBOX_CHILD_FD, stdin/stdout on
 * /dev/null, stderr kept (sanitizer reports), every other descriptor closed, in
 * a process group of its own, default signal dispositions and an empty mask.
 */
static pid_t spawn_helper(char *const argv[], int wfd, char *detail, size_t detail_len)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    char *env[12], store[8][512];
    pid_t pid = -1;
    int err;

    child_env(env, sizeof(env) / sizeof(env[0]), store);
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, wfd, SANDBOX_CHILD_FD);
    posix_spawn_file_actions_addclosefrom_np(&fa, SANDBOX_CHILD_FD + 1);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    err = posix_spawn(&pid, argv[0], &fa, &at, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (err != 0) {
        snprintf(detail, detail_len, "spawn %s: %s", argv[0], strerror(err));
        return -1;
    }
    return pid;
}

/* A pipe whose write end is above SANDBOX_CHILD_FD (so the dup2 onto it always
 * makes a descriptor without CLOEXEC); both ends CLOEXEC, so no other spawn
 * of another worker thread inherits them. 0 or -1. */
static int helper_pipe(int fds[2], char *detail, size_t detail_len)
{
    int w;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(detail, detail_len, "pipe: %s", strerror(errno));
        return -1;
    }
    if (fds[1] > SANDBOX_CHILD_FD)
        return 0;
    w = fcntl(fds[1], F_DUPFD_CLOEXEC, SANDBOX_CHILD_FD + 1);
    close(fds[1]);
    fds[1] = w;
    if (w >= 0)
        return 0;
    snprintf(detail, detail_len, "pipe: %s", strerror(errno));
    close(fds[0]);
    return -1;
}

enum run_fail sandbox_run(char *const argv[], const struct sandbox_limits *lim, struct buf *out,
                          char *detail, size_t detail_len)
{
    struct reader rd;
    enum run_fail code = RUN_FAIL_INTERNAL;
    int died = 0, status, fds[2];

    memset(&rd, 0, sizeof(rd));
    buf_init(out, lim->max_output);
    if (detail_len)
        detail[0] = '\0';
    if (helper_pipe(fds, detail, detail_len) < 0)
        return RUN_FAIL_INTERNAL;
    rd.pid = spawn_helper(argv, fds[1], detail, detail_len);
    close(fds[1]);
    rd.fd = fds[0];
    if (rd.pid < 0) {
        close(rd.fd);
        return RUN_FAIL_INTERNAL;
    }
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
     * this also kills grandchildren (pdftotext, tesseract) left in the group */
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
