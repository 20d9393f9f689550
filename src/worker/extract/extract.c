/*
 * extract.c - dispatch by type, run the extractor in the sandbox, normalize.
 *
 * Child side (the ingest-extract helper, extract_child_main): read/parse the
 * file with the format's extractor into a raw buffer, normalize it (UTF-8
 * repair, NULs, line ends, page breaks) and send
 *   payload = int32 pages | uint64 page_starts[pages] | uint8 page_ocr[pages]
 *             | uint32 title_len | title | uint32 author_len | author
 *             | uint32 entries | entries x (uint8 level | uint32 page | uint32 len | title) | text
 * Parent side: spawn the helper, check the payload (page table ordered and in
 * range, flags 0/1, title, author, outline titles and text valid UTF-8 without
 * NULs, outline levels and pages in range: a child
 * compromised by a parser bug must not be able to hand the worker malformed
 * data) and fill struct extract_result.
 */
#include "worker/extract/extract.h"
#include "common/errors.h"
#include "common/sniff.h"
#include "common/utf8.h"
#include "worker/extract/ctx.h"
#include "worker/extract/docx.h"
#include "worker/extract/formats.h"
#include "worker/extract/html.h"
#include "worker/extract/ocr.h"
#include "worker/extract/pdf.h"
#include "worker/extract/sandbox.h"
#include "worker/extract/text.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <libxml/parser.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXTRACT_MAX_PAGES 1000000
#define DEFAULT_MAX_UNCOMPRESSED (512L << 20)

enum extract_kind { K_PDF, K_DOCX, K_HTML, K_MARKDOWN, K_TEXT, K_OTHER, K_PROBE };

struct job {
    const char *path;
    enum extract_kind kind;
    size_t max_chars;
    long max_uncompressed;
    struct extract_ctx *ctx;   /* in the helper: OCR settings, progress, metadata */
};

static enum run_fail extract_probe(struct buf *raw, char *detail, size_t dlen);

/* ---- normalization ---------------------------------------------------- */

enum run_fail extract_put(struct buf *out, const void *p, size_t n)
{
    if (n > out->max - out->len) {
        buf_release(out);
        return RUN_FAIL_TOO_LARGE;
    }
    if (buf_add(out, p, n) < 0)
        return RUN_FAIL_INTERNAL;
    return RUN_OK;
}

enum run_fail extract_page_break(struct buf *out, size_t *mark)
{
    size_t i = *mark;
    enum run_fail rc;

    while (i < out->len && (unsigned char)out->ptr[i] <= ' ')
        i++;
    if (i >= out->len)
        return RUN_OK;
    rc = extract_put(out, "\n\f", 2);
    *mark = out->len;
    return rc;
}

static enum run_fail add_page(size_t **starts, int *pages, size_t *cap, size_t off)
{
    if (*pages >= EXTRACT_MAX_PAGES)
        return RUN_FAIL_TOO_LARGE;
    if ((size_t)*pages == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        size_t *n = realloc(*starts, ncap * sizeof(**starts));

        if (!n)
            return RUN_FAIL_INTERNAL;
        *starts = n;
        *cap = ncap;
    }
    (*starts)[(*pages)++] = off;
    return RUN_OK;
}

/* Length of the run at p of bytes copied as they are: printable ASCII, LF,
 * tab and valid UTF-8 sequences. */
static size_t clean_run(const unsigned char *p, size_t n)
{
    size_t run = 0;

    while (run < n) {
        unsigned char c = p[run];
        size_t l = 0;

        if ((c >= 0x20 && c < 0x7F) || c == '\n' || c == '\t')
            l = 1;
        else if (c >= 0x80)
            l = utf8_next(p + run, n - run, NULL);
        if (l == 0)
            break;
        run += l;
    }
    return run;
}

/* One byte that is not copied as it is: line ends, form feeds (pages), invalid UTF-8. */
static enum run_fail add_special(struct buf *out, unsigned char c, unsigned char next, int paged, int *pending)
{
    if (c == '\r')
        return next == '\n' ? RUN_OK : extract_put(out, "\n", 1);
    if (c == '\f' && paged) {
        (*pending)++;
        return RUN_OK;
    }
    if (c == '\f' || c == '\v')
        return extract_put(out, "\n", 1);
    if (c >= 0x80)
        return extract_put(out, "\xEF\xBF\xBD", 3);
    return RUN_OK;   /* NUL, other C0 controls and DEL are dropped */
}

/* Pages start after a paragraph break, so no chunk straddles two pages
 * without a boundary to cut at: end the text with one, then record the pages. */
static enum run_fail start_pages(struct buf *out, size_t **starts, int *np, size_t *cap, int *pending)
{
    enum run_fail rc = RUN_OK;

    while (out->len && rc == RUN_OK && !(out->len >= 2 && out->ptr[out->len - 1] == '\n' &&
                                         out->ptr[out->len - 2] == '\n'))
        rc = extract_put(out, "\n", 1);
    for (; *pending > 0 && rc == RUN_OK; (*pending)--)
        rc = add_page(starts, np, cap, out->len);
    return rc;
}

enum run_fail extract_normalize(const char *src, size_t n, struct buf *out, size_t **page_starts, int *pages)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t i = 0, cap = 0, *starts = NULL;
    int np = 0, pending = 0;
    enum run_fail rc = RUN_OK;

    if (page_starts) {
        *page_starts = NULL;
        *pages = 0;
        rc = add_page(&starts, &np, &cap, out->len);
    }
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < n && rc == RUN_OK) {
        size_t run = clean_run(p + i, n - i);

        if (run == 0) {
            rc = add_special(out, p[i], i + 1 < n ? p[i + 1] : 0, page_starts != NULL, &pending);
            i++;
            continue;
        }
        if (pending && page_starts)
            rc = start_pages(out, &starts, &np, &cap, &pending);
        if (rc == RUN_OK)
            rc = extract_put(out, p + i, run);
        i += run;
    }
    /* pdftotext ends every page with a form feed: the last one closes the
     * last page; any more are empty pages at the end */
    for (; pending > 1 && rc == RUN_OK; pending--)
        rc = add_page(&starts, &np, &cap, out->len);
    if (rc == RUN_OK && page_starts) {
        *page_starts = starts;
        *pages = np;
        starts = NULL;
    }
    free(starts);
    if (rc == RUN_FAIL_INTERNAL)
        buf_release(out);
    return rc;
}

/* ---- child side --------------------------------------------------------- */

enum run_fail extract_read_file(const char *path, size_t max, struct buf *out, char *detail, size_t dlen)
{
    struct stat st;
    char chunk[65536];
    enum run_fail rc = RUN_FAIL_EXTRACT_FAILED;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(detail, dlen, "cannot open the upload: %s", strerror(errno));
        return RUN_FAIL_EXTRACT_FAILED;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(detail, dlen, "upload is not a regular file");
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        snprintf(detail, dlen, "file of %lld bytes over the %zu byte limit",
                 (long long)st.st_size, max);
        rc = RUN_FAIL_TOO_LARGE;
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(detail, dlen, "read: %s", strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        if ((size_t)r > out->max - out->len) {
            snprintf(detail, dlen, "file over the %zu byte limit", max);
            rc = RUN_FAIL_TOO_LARGE;
            goto out;
        }
        if (buf_add(out, chunk, (size_t)r) < 0) {
            snprintf(detail, dlen, "out of memory reading the file");
            rc = RUN_FAIL_INTERNAL;
            goto out;
        }
    }
    rc = RUN_OK;
out:
    close(fd);
    return rc;
}

/* How many pdftotext processes read this PDF: EXTRACT_PDF_PARTS from EXTRACT_PDF_SPLIT_PAGES pages on. */
static int pdf_parts_for(const struct extract_ctx *ctx)
{
    if (!ctx || ctx->pdf_parts < 2 || extract_pdf_page_count() < ctx->pdf_split_pages)
        return 1;
    return ctx->pdf_parts;
}

/* Run the format's extractor on job->path: its raw output into raw. */
static enum run_fail extract_raw(const struct job *job, struct buf *raw, char *detail, size_t dlen)
{
    struct buf file;
    enum run_fail rc;

    if (job->kind == K_PDF) {
        extract_pdf_info(job->ctx);
        extract_pdf_outline(job->ctx);
        rc = extract_pdf_text(job->path, extract_pdf_page_count(), pdf_parts_for(job->ctx),
                              extract_pdf_stdin_max(job->ctx ? job->ctx->memory_mb : 0), raw, detail, dlen);
        return rc == RUN_OK ? extract_pdf_ocr(job->ctx, raw, detail, dlen) : rc;
    }
    if (job->kind == K_OTHER)
        return extract_other_file(job->ctx, raw, detail, dlen);
    if (job->kind == K_PROBE)
        return extract_probe(raw, detail, dlen);
    if (job->kind == K_DOCX)
        return extract_docx_file(job->path, job->max_uncompressed, raw, detail, dlen);
    buf_init(&file, (size_t)job->max_uncompressed);
    rc = extract_read_file(job->path, (size_t)job->max_uncompressed, &file, detail, dlen);
    if (rc == RUN_OK && job->kind == K_HTML)
        rc = extract_html_buffer(file.ptr ? file.ptr : "", file.len, raw, detail, dlen);
    else if (rc == RUN_OK)
        rc = extract_text_buffer(file.ptr ? file.ptr : "", file.len,
                                 job->kind == K_MARKDOWN ? EXTRACT_TEXT_MARKDOWN : 0, raw, detail, dlen);
    buf_release(&file);
    return rc;
}

/* Normalize raw into text with its page table (one page at 0 but for PDFs). */
static enum run_fail normalize_raw(const struct job *job, const struct buf *raw, struct buf *text,
                                   size_t **starts, int *pages, char *detail, size_t dlen)
{
    int paged = job->kind == K_PDF || job->kind == K_OTHER || job->kind == K_DOCX;
    enum run_fail rc = extract_normalize(raw->ptr ? raw->ptr : "", raw->len, text, paged ? starts : NULL, pages);

    if (rc == RUN_FAIL_TOO_LARGE) {
        snprintf(detail, dlen, "extracted text over %zu bytes", job->max_chars);
        return rc;
    }
    if (rc == RUN_OK && !paged) {
        *pages = 1;
        *starts = calloc(1, sizeof(**starts));
        if (!*starts)
            rc = RUN_FAIL_INTERNAL;
    }
    if (rc != RUN_OK)
        snprintf(detail, dlen, "out of memory");
    return rc;
}

/* uint32 length | bytes */
static int pack_string(struct buf *out, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);

    return buf_add(out, &n, sizeof(n)) < 0 || buf_add(out, s, n) < 0 ? -1 : 0;
}

/* The outline: uint32 entries | entries x (uint8 level | uint32 page | uint32 len | title). */
static int pack_outline(struct buf *out, const struct extract_ctx *ctx)
{
    uint32_t n = ctx ? (uint32_t)ctx->outline_n : 0;

    if (buf_add(out, &n, sizeof(n)) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        const struct extract_outline *e = &ctx->outline[i];
        unsigned char level = (unsigned char)e->level;
        uint32_t page = (uint32_t)e->page;

        if (buf_add(out, &level, 1) < 0 || buf_add(out, &page, sizeof(page)) < 0 || pack_string(out, e->title) < 0)
            return -1;
    }
    return 0;
}

/* payload = int32 pages | uint64 page_starts[pages] | uint8 page_ocr[pages] | title | author | outline | text */
static enum run_fail pack_payload(struct buf *out, const size_t *starts, int pages, const struct buf *text,
                                  const struct extract_ctx *ctx, char *detail, size_t dlen)
{
    int32_t np = pages;

    if (buf_add(out, &np, sizeof(np)) < 0)
        goto full;
    for (int i = 0; i < pages; i++) {
        uint64_t s = starts[i];

        if (buf_add(out, &s, sizeof(s)) < 0)
            goto full;
    }
    for (int i = 0; i < pages; i++) {
        unsigned char f = ctx && i < ctx->page_ocr_n ? ctx->page_ocr[i] : 0;

        if (buf_add(out, &f, 1) < 0)
            goto full;
    }
    if (pack_string(out, ctx ? ctx->title : "") < 0 || pack_string(out, ctx ? ctx->author : "") < 0 ||
        pack_outline(out, ctx) < 0)
        goto full;
    if (buf_add(out, text->ptr ? text->ptr : "", text->len) < 0)
        goto full;
    return RUN_OK;
full:
    snprintf(detail, dlen, "result over the transfer limit");
    return RUN_FAIL_TOO_LARGE;
}

/* The sandboxed child's work (a sandbox_fn): extract, normalize, pack. */
static enum run_fail child_extract(void *arg, struct buf *out, char *detail, size_t dlen)
{
    const struct job *job = arg;
    struct buf raw, text;
    size_t *starts = NULL;
    int pages = 0;
    enum run_fail rc;

    buf_init(&raw, job->max_chars + job->max_chars / 4 + 65536);
    buf_init(&text, job->max_chars);
    rc = extract_raw(job, &raw, detail, dlen);
    if (rc == RUN_OK)
        rc = normalize_raw(job, &raw, &text, &starts, &pages, detail, dlen);
    buf_release(&raw);
    if (rc == RUN_OK)
        rc = pack_payload(out, starts, pages, &text, job->ctx, detail, dlen);
    free(starts);
    buf_release(&text);
    return rc;
}

/* ---- parent side -------------------------------------------------------- */

static int kind_of(const char *mime, enum extract_kind *k)
{
    if (!mime)
        return -1;
    if (strcmp(mime, SNIFF_MIME_PDF) == 0)
        *k = K_PDF;
    else if (strcmp(mime, SNIFF_MIME_DOCX) == 0)
        *k = K_DOCX;
    else if (strcmp(mime, SNIFF_MIME_HTML) == 0)
        *k = K_HTML;
    else if (strcmp(mime, SNIFF_MIME_MARKDOWN) == 0)
        *k = K_MARKDOWN;
    else if (strcmp(mime, SNIFF_MIME_TEXT) == 0)
        *k = K_TEXT;
    else if (extract_other_handles(mime))
        *k = K_OTHER;
    else if (strcmp(mime, EXTRACT_MIME_PROBE) == 0)
        *k = K_PROBE;
    else
        return -1;
    return 0;
}

/* Copy the payload's page table into starts: 0, or -1 unless it starts at 0,
 * is ordered and stays inside the text. */
static int read_page_starts(const char *p, int32_t pages, size_t text_len, size_t *starts)
{
    for (int32_t i = 0; i < pages; i++) {
        uint64_t s;

        memcpy(&s, p + (size_t)i * sizeof(s), sizeof(s));
        if (s > text_len || (i == 0 && s != 0) || (i > 0 && s < starts[i - 1]))
            return -1;
        starts[i] = (size_t)s;
    }
    return 0;
}

/* A length-prefixed string of the payload at *off (at most EXTRACT_META_MAX
 * bytes, valid UTF-8, no NUL): a malloc'ed copy ("" kept as NULL) or -1. */
static int take_string(const struct buf *payload, size_t *off, char **dst)
{
    uint32_t n;

    *dst = NULL;
    if (payload->len - *off < sizeof(n))
        return -1;
    memcpy(&n, payload->ptr + *off, sizeof(n));
    *off += sizeof(n);
    if (n >= EXTRACT_META_MAX || payload->len - *off < n || !utf8_valid(payload->ptr + *off, n) ||
        memchr(payload->ptr + *off, '\0', n))
        return -1;
    if (n > 0 && !(*dst = strndup(payload->ptr + *off, n)))
        return -1;
    *off += n;
    return 0;
}

/* A length-prefixed outline title: like take_string, but not empty, shorter than
 * EXTRACT_OUTLINE_TITLE_MAX and without control bytes. 0 or -1. */
static int take_title(const struct buf *payload, size_t *off, char **dst)
{
    uint32_t n;

    *dst = NULL;
    if (payload->len - *off < sizeof(n))
        return -1;
    memcpy(&n, payload->ptr + *off, sizeof(n));
    if (n == 0 || n >= EXTRACT_OUTLINE_TITLE_MAX)
        return -1;
    for (uint32_t i = 0; i < n && payload->len - *off - sizeof(n) >= n; i++)
        if ((unsigned char)payload->ptr[*off + sizeof(n) + i] < 0x20)
            return -1;
    return take_string(payload, off, dst);
}

/* The outline after the metadata: counts, levels and pages in range, titles checked. 0 or -1. */
static int take_outline(const struct buf *payload, size_t *off, int32_t pages, struct extract_result *out)
{
    uint32_t n;

    if (payload->len - *off < sizeof(n))
        return -1;
    memcpy(&n, payload->ptr + *off, sizeof(n));
    *off += sizeof(n);
    if (n > EXTRACT_OUTLINE_MAX)
        return -1;
    if (n == 0)
        return 0;
    out->outline = calloc(n, sizeof(*out->outline));
    if (!out->outline)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        struct extract_outline *e = &out->outline[i];
        unsigned char level;
        uint32_t page;

        if (payload->len - *off < 1 + sizeof(page))
            return -1;
        level = (unsigned char)payload->ptr[*off];
        memcpy(&page, payload->ptr + *off + 1, sizeof(page));
        *off += 1 + sizeof(page);
        if (level < 1 || level > EXTRACT_OUTLINE_DEPTH || page < 1 || page > (uint32_t)pages ||
            take_title(payload, off, &e->title) < 0)
            return -1;
        e->level = level;
        e->page = (int)page;
        out->noutline = (int)i + 1;
    }
    return 0;
}

/* The page flags (each 0 or 1) and the metadata after the page table. 0 or -1. */
static int take_extras(const struct buf *payload, size_t *off, int32_t pages, struct extract_result *out)
{
    if (payload->len - *off < (size_t)pages)
        return -1;
    out->page_ocr = malloc((size_t)pages);
    if (!out->page_ocr)
        return -1;
    for (int32_t i = 0; i < pages; i++) {
        unsigned char f = (unsigned char)payload->ptr[*off + (size_t)i];

        if (f > 1)
            return -1;
        out->page_ocr[i] = f;
    }
    *off += (size_t)pages;
    if (take_string(payload, off, &out->title) < 0 || take_string(payload, off, &out->author) < 0)
        return -1;
    return take_outline(payload, off, pages, out);
}

enum run_fail extract_unpack(const struct buf *payload, struct extract_result *out, char *detail, size_t detail_len)
{
    enum run_fail rc = RUN_FAIL_EXTRACT_FAILED;
    size_t *starts = NULL, off, text_len;
    char *text = NULL;
    int32_t pages;

    memset(out, 0, sizeof(*out));
    if (payload->len < sizeof(pages))
        goto bad;
    memcpy(&pages, payload->ptr, sizeof(pages));
    if (pages < 1 || pages > EXTRACT_MAX_PAGES || payload->len - sizeof(pages) < (size_t)pages * sizeof(uint64_t))
        goto bad;
    off = sizeof(pages) + (size_t)pages * sizeof(uint64_t);
    if (take_extras(payload, &off, pages, out) < 0)
        goto bad;
    text_len = payload->len - off;
    starts = malloc((size_t)pages * sizeof(*starts));
    text = malloc(text_len + 1);
    if (!starts || !text) {
        rc = RUN_FAIL_INTERNAL;
        snprintf(detail, detail_len, "out of memory");
        goto out;
    }
    if (read_page_starts(payload->ptr + sizeof(pages), pages, text_len, starts) < 0)
        goto bad;
    memcpy(text, payload->ptr + off, text_len);
    text[text_len] = '\0';
    if (!utf8_valid(text, text_len))
        goto bad;
    out->text = text;
    out->len = text_len;
    out->pages = pages;
    out->page_starts = starts;
    text = NULL;
    starts = NULL;
    rc = RUN_OK;
    goto out;
bad:
    snprintf(detail, detail_len, "extractor sent a malformed result");
out:
    free(text);
    free(starts);
    if (rc != RUN_OK)
        extract_result_release(out);
    return rc;
}

/* The helper's path: lim->helper, else ingest-extract beside /proc/self/exe. 0 or -1. */
static int helper_path(const struct extract_limits *lim, char *dst, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n;

    if (lim->helper && lim->helper[0])
        return snprintf(dst, cap, "%s", lim->helper) < (int)cap ? 0 : -1;
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    return snprintf(dst, cap, "%s/ingest-extract", dirname(self)) < (int)cap ? 0 : -1;
}

/* The helper's command line: every setting as --name=value (extract_child_main parses them). */
enum { ARG_N = 16, ARG_LEN = 4200 };
static int build_argv(const struct extract_limits *lim, const struct job *job, const char *mime,
                      char store[ARG_N][ARG_LEN], char *argv[ARG_N + 1])
{
    int k = 0, bad = 0;

#define ARG(...) (bad |= snprintf(store[k], ARG_LEN, __VA_ARGS__) >= ARG_LEN, argv[k] = store[k], k++)
    if (helper_path(lim, store[0], ARG_LEN) < 0)
        return -1;
    argv[k] = store[k];
    k++;
    ARG("--parent=%ld", (long)getpid());
    ARG("--mime=%s", mime);
    ARG("--path=%s", job->path);
    ARG("--timeout-ms=%ld", lim->timeout_ms > 0 ? lim->timeout_ms : 120000);
    ARG("--memory-mb=%ld", lim->memory_mb > 0 ? lim->memory_mb : 1024);
    ARG("--max-chars=%zu", job->max_chars);
    ARG("--max-uncompressed=%ld", job->max_uncompressed);
    ARG("--ocr=%d", lim->ocr ? 1 : 0);
    ARG("--ocr-langs=%s", lim->ocr_langs && lim->ocr_langs[0] ? lim->ocr_langs : "eng");
    ARG("--ocr-page-ms=%ld", lim->ocr_page_timeout_ms > 0 ? lim->ocr_page_timeout_ms : 60000);
    ARG("--ocr-max-pixels=%ld", lim->ocr_max_pixels > 0 ? lim->ocr_max_pixels : 50000000L);
    ARG("--pdf-parts=%d", lim->pdf_parts > 0 ? lim->pdf_parts : 2);
    ARG("--pdf-split-pages=%ld", lim->pdf_split_pages > 0 ? lim->pdf_split_pages : 64L);
#undef ARG
    argv[k] = NULL;
    return bad ? -1 : 0;
}

/* The child's limits, the same in the parent (to check) and in the helper (to apply). */
static void child_limits(struct sandbox_limits *sl, long timeout_ms, long memory_mb, size_t max_chars)
{
    memset(sl, 0, sizeof(*sl));
    sl->timeout_ms = timeout_ms > 0 ? timeout_ms : 120000;
    sl->memory_mb = memory_mb > 0 ? memory_mb : 1024;
    sl->fsize_bytes = 0;
    sl->nofile = 64;
    sl->max_output = max_chars + sizeof(int32_t) + (size_t)EXTRACT_MAX_PAGES * (sizeof(uint64_t) + 1) +
                     2 * (sizeof(uint32_t) + EXTRACT_META_MAX);
}

int extract_pdf_parts_now(int configured, int running, int ncpu)
{
    int share = ncpu / (running > 1 ? running : 1);

    if (configured > share)
        configured = share;
    return configured < 1 ? 1 : configured;
}

int extract_cpu_count(void)
{
    cpu_set_t set;
    int n;

    if (sched_getaffinity(0, sizeof(set), &set) == 0 && (n = CPU_COUNT(&set)) > 0)
        return n;
    n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

enum run_fail extract_file(const char *path, const char *mime, const struct extract_limits *lim,
                           struct extract_result *out, char *detail, size_t detail_len)
{
    char (*args)[ARG_LEN] = NULL;   /* on the heap: too big for a job thread's stack */
    char *argv[ARG_N + 1];
    struct sandbox_limits sl;
    struct job job;
    struct buf payload;
    enum run_fail rc;

    memset(out, 0, sizeof(*out));
    if (detail_len)
        detail[0] = '\0';
    if (kind_of(mime, &job.kind) < 0) {
        snprintf(detail, detail_len, "no extractor for %s", mime ? mime : "unknown type");
        return RUN_FAIL_UNSUPPORTED_TYPE;
    }
    job.path = path;
    job.max_chars = lim->max_chars > 0 ? (size_t)lim->max_chars : 50000000;
    job.max_uncompressed = lim->max_uncompressed_bytes > 0 ? lim->max_uncompressed_bytes
                                                           : DEFAULT_MAX_UNCOMPRESSED;
    args = malloc(sizeof(char[ARG_N][ARG_LEN]));
    if (!args) {
        snprintf(detail, detail_len, "out of memory");
        return RUN_FAIL_INTERNAL;
    }
    if (build_argv(lim, &job, mime, args, argv) < 0) {
        free(args);
        snprintf(detail, detail_len, "upload or helper path too long");
        return RUN_FAIL_EXTRACT_FAILED;
    }
    child_limits(&sl, lim->timeout_ms, lim->memory_mb, job.max_chars);
    sl.progress = lim->progress;
    sl.progress_arg = lim->progress_arg;
    rc = sandbox_run(argv, &sl, &payload, detail, detail_len);
    free(args);
    if (rc == RUN_OK)
        rc = extract_unpack(&payload, out, detail, detail_len);
    buf_release(&payload);
    return rc;
}

void extract_result_release(struct extract_result *r)
{
    if (!r)
        return;
    free(r->text);
    free(r->page_starts);
    free(r->page_ocr);
    free(r->title);
    free(r->author);
    for (int i = 0; i < r->noutline; i++)
        free(r->outline[i].title);
    free(r->outline);
    memset(r, 0, sizeof(*r));
}

/* ---- the helper program ------------------------------------------------------ */

/* The probe kind: the helper's own program image, so a test can see it is not the worker. */
static enum run_fail extract_probe(struct buf *raw, char *detail, size_t dlen)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n <= 0) {
        snprintf(detail, dlen, "readlink /proc/self/exe: %s", strerror(errno));
        return RUN_FAIL_EXTRACT_FAILED;
    }
    return extract_put(raw, self, (size_t)n);
}

/* --name=value: value, or NULL when arg is another option. */
static const char *opt(const char *arg, const char *name)
{
    size_t n = strlen(name);

    return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

/* Fill the job and its context from the helper's command line. 0, or -1 on a bad one. */
static int parse_args(int argc, char **argv, struct job *job, struct extract_ctx *c, long *timeout_ms, long *parent)
{
    const char *v;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if ((v = opt(a, "--parent")))
            *parent = strtol(v, NULL, 10);
        else if ((v = opt(a, "--mime")))
            c->mime = v;
        else if ((v = opt(a, "--path")))
            c->path = v;
        else if ((v = opt(a, "--timeout-ms")))
            *timeout_ms = strtol(v, NULL, 10);
        else if ((v = opt(a, "--memory-mb")))
            c->memory_mb = strtol(v, NULL, 10);
        else if ((v = opt(a, "--max-chars")))
            c->max_chars = (size_t)strtoull(v, NULL, 10);
        else if ((v = opt(a, "--max-uncompressed")))
            c->max_uncompressed = strtol(v, NULL, 10);
        else if ((v = opt(a, "--ocr")))
            c->ocr = strtol(v, NULL, 10) == 1;
        else if ((v = opt(a, "--ocr-langs")))
            c->ocr_langs = v;
        else if ((v = opt(a, "--ocr-page-ms")))
            c->ocr_page_timeout_ms = strtol(v, NULL, 10);
        else if ((v = opt(a, "--ocr-max-pixels")))
            c->ocr_max_pixels = strtol(v, NULL, 10);
        else if ((v = opt(a, "--pdf-parts")))
            c->pdf_parts = (int)strtol(v, NULL, 10);
        else if ((v = opt(a, "--pdf-split-pages")))
            c->pdf_split_pages = strtol(v, NULL, 10);
        else
            return -1;
    }
    if (!c->path || !c->mime || c->max_chars == 0 || kind_of(c->mime, &job->kind) < 0)
        return -1;
    job->path = c->path;
    job->max_chars = c->max_chars;
    job->max_uncompressed = c->max_uncompressed > 0 ? c->max_uncompressed : DEFAULT_MAX_UNCOMPRESSED;
    job->ctx = c;
    return 0;
}

int extract_child_main(int argc, char **argv)
{
    struct extract_ctx ctx;
    struct sandbox_limits sl;
    struct job job;
    struct buf out;
    char detail[512] = "";
    long timeout_ms = 0, parent = 0;
    enum run_fail code;

    memset(&ctx, 0, sizeof(ctx));
    memset(&job, 0, sizeof(job));
    ctx.progress_fd = SANDBOX_CHILD_FD;
    if (parse_args(argc, argv, &job, &ctx, &timeout_ms, &parent) < 0) {
        sandbox_child_answer(SANDBOX_CHILD_FD, RUN_FAIL_INTERNAL, "extraction helper: bad arguments", NULL);
        return 2;
    }
    child_limits(&sl, timeout_ms, ctx.memory_mb, job.max_chars);
    sandbox_child_setup(&sl, (pid_t)parent);
    extract_ctx_set_current(&ctx);
    xmlInitParser();
    buf_init(&out, sl.max_output);
    code = child_extract(&job, &out, detail, sizeof(detail));
    if (code == RUN_FAIL_INTERNAL) {
        /* in the helper only an allocation fails this way: the file needs more
         * memory than EXTRACT_MEMORY_MB allows */
        code = RUN_FAIL_TOO_LARGE;
        snprintf(detail, sizeof(detail), "extractor over its memory limit (%ld MiB)", ctx.memory_mb);
    }
    if (sandbox_child_answer(SANDBOX_CHILD_FD, code, detail, &out) < 0)
        return 3;
    buf_release(&out);
    free(ctx.page_ocr);
    extract_outline_clear(&ctx);
    return 0;
}
