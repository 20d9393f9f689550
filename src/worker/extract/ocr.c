/*
 * ocr.c - OCR of image-only PDF pages and of images with tesseract (ocr.h).
 *
 * Every program (pdfinfo, pdfimages, pdftoppm, tesseract) is forked and
 * exec'd by the helper, which is single-threaded, so fork is safe here. Each
 * gets stdin from the helper (or /dev/null), stdout on a pipe read into a
 * bounded buffer, stderr on /dev/null, RLIMIT_CPU for its page, and the
 * helper's other limits; past the page's deadline it is SIGKILLed.
 */
#include "worker/extract/ocr.h"
#include "worker/extract/extract.h"
#include "worker/extract/outline.h"
#include "worker/extract/pdf.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OCR_DPI 300
#define OCR_MIN_DPI 30

static long pdf_pages;       /* from pdfinfo; 0: unknown */
static long pdf_pages_done;  /* form feeds seen in pdftotext's output */

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One program run: argv, optional stdin bytes, stdout into out (bounded by its max). */
struct prog {
    const char *const *argv;
    const void *in;
    size_t in_len;
    struct buf *out;
    long deadline;   /* mono ms */
    long cpu_s;
    const char *in_path;   /* no in bytes: stdin from this file (NULL: /dev/null) */
};

/* In the forked child: wire stdin/stdout/stderr, the CPU limit, exec. Never returns. */
static void prog_child(const struct prog *pr, int in_fd, int out_fd)
{
    int devnull = open("/dev/null", O_RDWR);
    struct rlimit rl = { (rlim_t)pr->cpu_s, (rlim_t)pr->cpu_s + 1 };

    if (in_fd < 0 && pr->in_path && (in_fd = open(pr->in_path, O_RDONLY)) < 0)
        _exit(126);
    if (dup2(in_fd >= 0 ? in_fd : devnull, 0) < 0 || dup2(out_fd, 1) < 0)
        _exit(126);
    if (devnull >= 0)
        dup2(devnull, 2);
    setrlimit(RLIMIT_CPU, &rl);
    execvp(pr->argv[0], (char *const *)pr->argv);
    _exit(127);
}

/* Move bytes: stdin from pr->in at *off, stdout into pr->out. 0 on progress or
 * EOF of stdout (*eof), -1 when out is full or memory is out. */
static int pump(const struct prog *pr, struct pollfd *fds, size_t *off, int *eof)
{
    char chunk[65536];

    if (fds[1].fd >= 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t w = write(fds[1].fd, (const char *)pr->in + *off, pr->in_len - *off);

        if (w > 0)
            *off += (size_t)w;
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || *off == pr->in_len) {
            close(fds[1].fd);
            fds[1].fd = -1;
        }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t r = read(fds[0].fd, chunk, sizeof(chunk));

        if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
            *eof = 1;
        else if (r > 0 && buf_add(pr->out, chunk, (size_t)r) < 0)
            return -1;
    }
    return 0;
}

/* The parent's loop until stdout ends. 0, 1 (deadline), -1 (out full). */
static int prog_loop(const struct prog *pr, int out_fd, int in_fd)
{
    struct pollfd fds[2] = { { out_fd, POLLIN, 0 }, { in_fd, POLLOUT, 0 } };
    size_t off = 0;
    int eof = 0;

    if (in_fd >= 0)
        fcntl(in_fd, F_SETFL, O_NONBLOCK);
    while (!eof) {
        long left = pr->deadline - now_ms();
        int n = fds[1].fd >= 0 ? 2 : 1;

        if (left <= 0)
            return 1;
        if (poll(fds, (nfds_t)n, left > 1000 ? 1000 : (int)left) < 0 && errno != EINTR)
            return -1;
        if (pump(pr, fds, &off, &eof) < 0) {
            if (fds[1].fd >= 0)
                close(fds[1].fd);
            return -1;
        }
    }
    if (fds[1].fd >= 0)
        close(fds[1].fd);
    return 0;
}

/* What a program's end means for the run. */
static enum run_fail prog_result(const char *name, int loop, int status, const struct buf *out,
                                 char *detail, size_t dlen)
{
    if (loop == 1 || (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)) {
        snprintf(detail, dlen, "%s over its time limit", name);
        return RUN_FAIL_TIMEOUT;
    }
    if (loop < 0) {
        snprintf(detail, dlen, "%s output over the limit", name);
        return out->ptr || out->len ? RUN_FAIL_INTERNAL : RUN_FAIL_TOO_LARGE;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return RUN_OK;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        snprintf(detail, dlen, "%s not found", name);
    else if (WIFEXITED(status))
        snprintf(detail, dlen, "%s exit %d", name, WEXITSTATUS(status));
    else
        snprintf(detail, dlen, "%s killed by signal %d", name, WTERMSIG(status));
    return RUN_FAIL_EXTRACT_FAILED;
}

/* Run pr to its end (or deadline). RUN_OK with pr->out filled, or a failure with a detail. */
static enum run_fail run_prog(const struct prog *pr, char *detail, size_t dlen)
{
    int out[2] = { -1, -1 }, in[2] = { -1, -1 }, status = 0, loop;
    pid_t pid;

    if (pipe2(out, O_CLOEXEC) < 0 || (pr->in && pipe2(in, O_CLOEXEC) < 0)) {
        snprintf(detail, dlen, "pipe: %s", strerror(errno));
        if (out[0] >= 0) {
            close(out[0]);
            close(out[1]);
        }
        return RUN_FAIL_INTERNAL;
    }
    pid = fork();
    if (pid == 0)
        prog_child(pr, in[0], out[1]);
    close(out[1]);
    if (in[0] >= 0)
        close(in[0]);
    if (pid < 0) {
        snprintf(detail, dlen, "fork: %s", strerror(errno));
        close(out[0]);
        if (in[1] >= 0)
            close(in[1]);
        return RUN_FAIL_INTERNAL;
    }
    loop = prog_loop(pr, out[0], in[1]);
    close(out[0]);
    if (loop != 0)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return prog_result(pr->argv[0], loop, status, pr->out, detail, dlen);
}

/* A program with the page's limits and no stdin: its output in out. */
static enum run_fail run_simple(const char *const *argv, struct buf *out, long timeout_ms, char *detail,
                                size_t dlen)
{
    struct prog pr = { argv, NULL, 0, out, now_ms() + timeout_ms, timeout_ms / 1000 + 1, NULL };

    return run_prog(&pr, detail, dlen);
}

/* A path poppler and tesseract never read as an option. */
static void safe_path(const char *path, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s%s", path[0] == '-' ? "./" : "", path);
}

/* The document information's Title from pdfinfo's output (UTF-8, its default) into the metadata. */
static void pdf_title(const char *info)
{
    const char *p = strncmp(info, "Title:", 6) == 0 ? info : strstr(info, "\nTitle:");
    char title[EXTRACT_META_MAX];
    size_t n;

    if (!p)
        return;
    p += (*p == '\n') + 6;
    n = strcspn(p, "\n");
    if (n >= sizeof(title))
        n = sizeof(title) - 1;
    memcpy(title, p, n);
    title[n] = '\0';
    extract_meta("title", title);   /* whitespace trimmed, cut at a character boundary */
}

void extract_pdf_info(struct extract_ctx *ctx)
{
    char path[4200], detail[256];
    const char *argv[] = {"pdfinfo", path, NULL};
    struct buf out;
    const char *p;

    pdf_pages = 0;
    pdf_pages_done = 0;
    if (!ctx)
        return;
    safe_path(ctx->path, path, sizeof(path));
    buf_init(&out, 1 << 20);
    if (run_simple(argv, &out, 20000, detail, sizeof(detail)) == RUN_OK && out.ptr) {
        p = strstr(out.ptr, "\nPages:");
        if (p)
            pdf_pages = strtol(p + 7, NULL, 10);
        if (pdf_pages < 0 || pdf_pages > 10000000)
            pdf_pages = 0;
        pdf_title(out.ptr);
    }
    buf_release(&out);
    if (pdf_pages > 0)
        extract_progress(0, pdf_pages);
}

static int outline_item(void *arg, int level, long page, const char *title)
{
    (void)arg;
    return extract_outline_add(level, page, title);
}

void extract_pdf_outline(struct extract_ctx *ctx)
{
    char path[4200], detail[256];
    const char *argv[] = {"pdftohtml", "-xml", "-i", "-q", "-stdout", "-f", "1", "-l", "1", path, NULL};
    struct buf out;

    if (!ctx)
        return;
    safe_path(ctx->path, path, sizeof(path));
    buf_init(&out, 8u << 20);
    if (run_simple(argv, &out, 20000, detail, sizeof(detail)) == RUN_OK && out.ptr &&
        extract_outline_parse(out.ptr, out.len, outline_item, NULL) < 0)
        extract_outline_clear(ctx);   /* out of memory: no outline rather than half of one */
    buf_release(&out);
}

long extract_pdf_page_count(void)
{
    return pdf_pages;
}

void extract_pdf_progress(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pdf_pages_done += p[i] == '\f';
    if (pdf_pages > 0)
        extract_progress(pdf_pages_done < pdf_pages ? pdf_pages_done : pdf_pages, pdf_pages);
}

/* ---- PDF pages ----------------------------------------------------------- */

/* Pages (1-based) that hold at least one image, from `pdfimages -list`: has[p] = 1. It reads
 * every page, so the PDF goes on its stdin when pdftotext's does (pdf.h: poppler holds it in
 * memory rather than reading it through 256-byte pread()s). */
static enum run_fail pages_with_images(const struct extract_ctx *ctx, unsigned char *has, long npages,
                                       char *detail, size_t dlen)
{
    char path[4200];
    int in_stdin = extract_pdf_on_stdin(ctx->path, extract_pdf_stdin_max(ctx->memory_mb));
    const char *argv[] = {"pdfimages", "-list", in_stdin ? "-" : path, NULL};
    struct buf out;
    struct prog pr;
    enum run_fail rc;

    safe_path(ctx->path, path, sizeof(path));
    buf_init(&out, 64u << 20);
    pr = (struct prog){ argv, NULL, 0, &out, now_ms() + ctx->ocr_page_timeout_ms, ctx->ocr_page_timeout_ms / 1000 + 1,
                        in_stdin ? ctx->path : NULL };
    rc = run_prog(&pr, detail, dlen);
    for (const char *p = out.ptr; rc == RUN_OK && p && *p;) {
        const char *nl = strchr(p, '\n');
        char *end;
        long page = strtol(p, &end, 10);

        if (end != p && page >= 1 && page <= npages)
            has[page] = 1;
        p = nl ? nl + 1 : p + strlen(p);
    }
    buf_release(&out);
    return rc;
}

/* The resolution that keeps the page (w x h points) under max_pixels, at most OCR_DPI. */
static long page_dpi(const struct extract_ctx *ctx, long page, long deadline)
{
    char path[4200], first[24], detail[128], pat[48];
    const char *argv[] = {"pdfinfo", "-f", first, "-l", first, path, NULL};
    struct buf out;
    double w = 612, h = 792, dpi = OCR_DPI;
    const char *p;

    safe_path(ctx->path, path, sizeof(path));
    snprintf(first, sizeof(first), "%ld", page);
    snprintf(pat, sizeof(pat), "Page %ld size:", page);
    buf_init(&out, 1 << 20);
    if (run_simple(argv, &out, deadline - now_ms(), detail, sizeof(detail)) == RUN_OK && out.ptr) {
        /* "Page    3 size: 612 x 792 pts": collapse the padding before matching */
        for (p = strstr(out.ptr, "Page "); p; p = strstr(p + 1, "Page ")) {
            char *e;
            long n = strtol(p + 5, &e, 10);

            if (n == page && sscanf(e, " size: %lf x %lf", &w, &h) == 2)
                break;
        }
    }
    buf_release(&out);
    if (w > 0 && h > 0 && (w / 72 * dpi) * (h / 72 * dpi) > (double)ctx->ocr_max_pixels)
        dpi = 72 * sqrt((double)ctx->ocr_max_pixels / (w * h));
    return dpi < OCR_MIN_DPI ? OCR_MIN_DPI : (long)dpi;
}

/* Tesseract over the image bytes img[0..n) (or, img NULL, the file path), into out. */
static enum run_fail tesseract(const struct extract_ctx *ctx, const void *img, size_t n, const char *path,
                               long dpi, long deadline, struct buf *out, char *detail, size_t dlen)
{
    char dpis[24], file[4200];
    const char *argv[] = {"tesseract", file, "stdout", "-l", ctx->ocr_langs, "--dpi", dpis, NULL};
    struct prog pr = { argv, img, n, out, deadline, (deadline - now_ms()) / 1000 + 1, NULL };

    snprintf(dpis, sizeof(dpis), "%ld", dpi);
    if (img)
        snprintf(file, sizeof(file), "stdin");
    else
        safe_path(path, file, sizeof(file));
    if (dpi <= 0)
        argv[5] = NULL;
    return run_prog(&pr, detail, dlen);
}

/* Render page (1-based) and OCR it: its text appended to out. */
static enum run_fail ocr_pdf_page(const struct extract_ctx *ctx, long page, struct buf *out, char *detail,
                                  size_t dlen)
{
    long deadline = now_ms() + ctx->ocr_page_timeout_ms, dpi = page_dpi(ctx, page, deadline);
    char path[4200], first[24], res[24];
    const char *argv[] = {"pdftoppm", "-f", first, "-l", first, "-r", res, "-gray", "-png", path, NULL};
    struct buf png, text;
    struct prog pr;
    enum run_fail rc;

    safe_path(ctx->path, path, sizeof(path));
    snprintf(first, sizeof(first), "%ld", page);
    snprintf(res, sizeof(res), "%ld", dpi);
    buf_init(&png, (size_t)ctx->ocr_max_pixels * 2 + (1u << 20));
    buf_init(&text, out->max);
    pr = (struct prog){ argv, NULL, 0, &png, deadline, ctx->ocr_page_timeout_ms / 1000 + 1, NULL };
    rc = run_prog(&pr, detail, dlen);
    if (rc == RUN_OK)
        rc = tesseract(ctx, png.ptr ? png.ptr : "", png.len, NULL, dpi, deadline, &text, detail, dlen);
    buf_release(&png);
    /* tesseract ends its page with a form feed: the caller ends the page itself */
    while (text.len && text.ptr[text.len - 1] == '\f')
        text.len--;
    if (rc == RUN_OK)
        rc = extract_put(out, text.ptr ? text.ptr : "", text.len);
    buf_release(&text);
    if (rc == RUN_FAIL_TIMEOUT)
        snprintf(detail, dlen, "ocr of page %ld over %ld ms", page, ctx->ocr_page_timeout_ms);
    return rc;
}

/* Non-blank bytes of p[0..n), counted up to the threshold. */
static int thin_page(const char *p, size_t n)
{
    int k = 0;

    for (size_t i = 0; i < n && k < OCR_MIN_PAGE_CHARS; i++)
        k += (unsigned char)p[i] > ' ';
    return k < OCR_MIN_PAGE_CHARS;
}

/* Page offsets of raw (pages end with a form feed): starts[i], and their count. */
static long split_pages(const struct buf *raw, size_t **starts)
{
    long n = 1, k = 1;

    for (size_t i = 0; i < raw->len; i++)
        n += raw->ptr[i] == '\f';
    *starts = malloc((size_t)(n + 1) * sizeof(**starts));
    if (!*starts)
        return -1;
    (*starts)[0] = 0;
    for (size_t i = 0; i < raw->len; i++)
        if (raw->ptr[i] == '\f')
            (*starts)[k++] = i + 1;
    (*starts)[n] = raw->len + 1;
    /* pdftotext ends the last page with a form feed too: no page after it */
    return raw->len && raw->ptr[raw->len - 1] == '\f' ? n - 1 : n;
}

/*
 * Rebuild raw into out: OCR for the thin pages with images, the rest copied.
 * Progress goes on from the text pass in the same units, one range for the
 * whole extraction: each page read by pdftotext is a step (all n done by
 * now), each page to OCR one more, so done runs n .. n + todo of a total
 * n + todo and never goes back to 0.
 */
static enum run_fail rebuild(struct extract_ctx *ctx, const struct buf *raw, const size_t *starts, long n,
                             const unsigned char *has, struct buf *out, char *detail, size_t dlen)
{
    enum run_fail rc = RUN_OK;
    long todo = 0, done = 0;

    for (long i = 0; i < n; i++)
        todo += has[i + 1] != 0;
    for (long i = 0; i < n && rc == RUN_OK; i++) {
        const char *p = raw->ptr + starts[i];
        size_t len = starts[i + 1] - 1 - starts[i];

        if (has[i + 1]) {
            extract_progress(n + done, n + todo);
            rc = ocr_pdf_page(ctx, i + 1, out, detail, dlen);
            done++;
            if (rc == RUN_OK && extract_mark_ocr((int)i) < 0)
                rc = RUN_FAIL_INTERNAL;
        } else
            rc = extract_put(out, p, len);
        if (rc == RUN_OK)
            rc = extract_put(out, "\f", 1);
    }
    if (rc == RUN_OK)
        extract_progress(n + done, n + todo);
    return rc;
}

enum run_fail extract_pdf_ocr(struct extract_ctx *ctx, struct buf *raw, char *detail, size_t dlen)
{
    size_t *starts = NULL;
    unsigned char *has = NULL;
    long n, thin = 0;
    struct buf out;
    enum run_fail rc = RUN_OK;

    if (!ctx || !ctx->ocr || !raw->ptr)
        return RUN_OK;
    n = split_pages(raw, &starts);
    has = n > 0 ? calloc((size_t)n + 2, 1) : NULL;
    if (!has) {
        free(starts);
        snprintf(detail, dlen, "out of memory");
        return RUN_FAIL_INTERNAL;
    }
    for (long i = 0; i < n; i++)
        thin += thin_page(raw->ptr + starts[i], starts[i + 1] - 1 - starts[i]);
    if (thin > 0)
        rc = pages_with_images(ctx, has, n, detail, dlen);
    for (long i = 0; i < n && rc == RUN_OK; i++)
        has[i + 1] = has[i + 1] && thin_page(raw->ptr + starts[i], starts[i + 1] - 1 - starts[i]);
    buf_init(&out, raw->max);
    if (rc == RUN_OK && thin > 0)
        rc = rebuild(ctx, raw, starts, n, has, &out, detail, dlen);
    if (rc == RUN_OK && thin > 0) {
        buf_release(raw);
        *raw = out;
    } else
        buf_release(&out);
    free(starts);
    free(has);
    if (rc == RUN_FAIL_TOO_LARGE && !detail[0])
        snprintf(detail, dlen, "extracted text over the limit");
    return rc;
}

/* ---- images -------------------------------------------------------------- */

static unsigned long be16(const unsigned char *p)
{
    return (unsigned long)p[0] << 8 | p[1];
}

static unsigned long be32(const unsigned char *p)
{
    return be16(p) << 16 | be16(p + 2);
}

static unsigned long rd16(const unsigned char *p, int le)
{
    return le ? (unsigned long)p[1] << 8 | p[0] : be16(p);
}

static unsigned long rd32(const unsigned char *p, int le)
{
    return le ? rd16(p + 2, 1) << 16 | rd16(p, 1) : be32(p);
}

/* JPEG: the first start-of-frame marker's height and width. */
static int jpeg_size(const unsigned char *p, size_t n, unsigned long *w, unsigned long *h)
{
    size_t i = 2;

    while (i + 9 < n) {
        unsigned char m;

        if (p[i] != 0xFF)
            return -1;
        m = p[i + 1];
        if (m == 0xFF) {
            i++;
            continue;
        }
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            *h = be16(p + i + 5);
            *w = be16(p + i + 7);
            return 0;
        }
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) {
            i += 2;
            continue;
        }
        i += 2 + be16(p + i + 2);
    }
    return -1;
}

/* TIFF: the largest ImageWidth x ImageLength over the IFD chain (at most 4096 IFDs). */
static int tiff_size(const unsigned char *p, size_t n, unsigned long *w, unsigned long *h)
{
    int le = p[0] == 'I';
    unsigned long off = rd32(p + 4, le), best = 0;
    int ifds = 0, seen = 0;

    while (off && off + 2 <= n && ifds++ < 4096) {
        unsigned long cnt = rd16(p + off, le), cw = 0, ch = 0;

        if (off + 2 + cnt * 12 + 4 > n)
            return seen ? 0 : -1;
        for (unsigned long k = 0; k < cnt; k++) {
            const unsigned char *e = p + off + 2 + k * 12;
            unsigned long tag = rd16(e, le), type = rd16(e + 2, le);
            unsigned long v = type == 3 ? rd16(e + 8, le) : rd32(e + 8, le);

            if (tag == 256)
                cw = v;
            else if (tag == 257)
                ch = v;
        }
        if (cw * (double)ch >= (double)best) {
            best = cw * ch;
            *w = cw;
            *h = ch;
            seen = 1;
        }
        off = rd32(p + off + 2 + cnt * 12, le);
    }
    return seen ? 0 : -1;
}

int ocr_image_size(const unsigned char *p, size_t n, unsigned long *w, unsigned long *h)
{
    *w = *h = 0;
    if (n >= 24 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(p + 12, "IHDR", 4) == 0) {
        *w = be32(p + 16);
        *h = be32(p + 20);
        return 0;
    }
    if (n >= 4 && p[0] == 0xFF && p[1] == 0xD8)
        return jpeg_size(p, n, w, h);
    if (n >= 8 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0))
        return tiff_size(p, n, w, h);
    return -1;
}

/* The first up to 4 MiB of the file: enough for a PNG or JPEG header and a TIFF's IFDs. */
static int read_head(const char *path, unsigned char *dst, size_t cap, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t r = 0;

    *n = 0;
    if (fd < 0)
        return -1;
    while (*n < cap && (r = read(fd, dst + *n, cap - *n)) > 0)
        *n += (size_t)r;
    close(fd);
    return r < 0 ? -1 : 0;
}

/* Image size against the pixel limit: RUN_OK or a failure with its detail. */
static enum run_fail check_image(const struct extract_ctx *ctx, char *detail, size_t dlen)
{
    size_t cap = 4u << 20, n;
    unsigned char *head = malloc(cap);
    unsigned long w, h;
    enum run_fail rc = RUN_FAIL_EXTRACT_FAILED;

    if (!head) {
        snprintf(detail, dlen, "out of memory");
        return RUN_FAIL_INTERNAL;
    }
    if (read_head(ctx->path, head, cap, &n) < 0)
        snprintf(detail, dlen, "cannot read the image: %s", strerror(errno));
    else if (ocr_image_size(head, n, &w, &h) < 0 || w == 0 || h == 0)
        snprintf(detail, dlen, "image header not understood");
    else if ((double)w * (double)h > (double)ctx->ocr_max_pixels) {
        snprintf(detail, dlen, "image of %lux%lu px over the %ld pixel limit", w, h, ctx->ocr_max_pixels);
        rc = RUN_FAIL_TOO_LARGE;
    } else
        rc = RUN_OK;
    free(head);
    return rc;
}

enum run_fail extract_image_ocr(struct extract_ctx *ctx, struct buf *raw, char *detail, size_t dlen)
{
    long deadline;
    enum run_fail rc;
    int page = 0;

    if (!ctx->ocr) {
        snprintf(detail, dlen, "image needs OCR, and OCR is off");
        return RUN_FAIL_UNSUPPORTED_TYPE;
    }
    rc = check_image(ctx, detail, dlen);
    if (rc != RUN_OK)
        return rc;
    deadline = now_ms() + ctx->ocr_page_timeout_ms;
    rc = tesseract(ctx, NULL, 0, ctx->path, 0, deadline, raw, detail, dlen);
    for (size_t i = 0; rc == RUN_OK && i < raw->len; i++)
        if (raw->ptr[i] == '\f' && extract_mark_ocr(page++) < 0)
            rc = RUN_FAIL_INTERNAL;
    if (rc == RUN_OK && page == 0 && extract_mark_ocr(0) < 0)
        rc = RUN_FAIL_INTERNAL;
    if (rc == RUN_FAIL_TIMEOUT)
        snprintf(detail, dlen, "ocr over %ld ms", ctx->ocr_page_timeout_ms);
    if (rc != RUN_OK)
        buf_release(raw);
    return rc;
}
