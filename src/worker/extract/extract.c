/*
 * extract.c - dispatch by type, run the extractor in the sandbox, normalize.
 *
 * Child side: read/parse the file with the format's extractor into a raw
 * buffer, normalize it (UTF-8 repair, NULs, line ends, page breaks) and send
 *   payload = int32 pages | uint64 page_starts[pages] | text
 * Parent side: check the payload (page table ordered and in range, text valid
 * UTF-8 without NULs: a child compromised by a parser bug must not be able to
 * hand the worker malformed data) and fill struct extract_result.
 */
#include "worker/extract/extract.h"
#include "common/errors.h"
#include "common/sniff.h"
#include "worker/extract/docx.h"
#include "worker/extract/html.h"
#include "worker/extract/pdf.h"
#include "worker/extract/sandbox.h"
#include "worker/extract/text.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXTRACT_MAX_PAGES 1000000
#define DEFAULT_MAX_UNCOMPRESSED (512L << 20)

enum extract_kind { K_PDF, K_DOCX, K_HTML, K_MARKDOWN, K_TEXT };

struct job {
    const char *path;
    enum extract_kind kind;
    size_t max_chars;
    long max_uncompressed;
};

/* ---- normalization ---------------------------------------------------- */

/* Length of a valid UTF-8 sequence at p (strict), 0 when invalid or cut. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t l, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        l = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        l = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        l = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (l > n)
        return 0;
    for (i = 1; i < l; i++)
        if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xBF))
            return 0;
    return l;
}

static int norm_add(struct buf *out, const void *p, size_t n)
{
    if (n > out->max - out->len) {
        buf_release(out);
        return RUN_FAIL_TOO_LARGE;
    }
    if (buf_add(out, p, n) < 0)
        return RUN_FAIL_INTERNAL;
    return RUN_OK;
}

static int add_page(size_t **starts, int *pages, size_t *cap, size_t off)
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

int extract_normalize(const char *src, size_t n, struct buf *out, size_t **page_starts, int *pages)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t i = 0, cap = 0, *starts = NULL;
    int np = 0, pending = 0, rc;

    if (page_starts) {
        *page_starts = NULL;
        *pages = 0;
        rc = add_page(&starts, &np, &cap, out->len);
        if (rc != RUN_OK)
            goto out;
    }
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    rc = RUN_OK;
    while (i < n) {
        size_t run = i, l;

        /* a run of bytes copied as they are */
        while (run < n) {
            unsigned char c = p[run];

            if (c >= 0x20 && c < 0x7F)
                run++;
            else if (c == '\n' || c == '\t')
                run++;
            else if (c >= 0x80 && (l = utf8_len(p + run, n - run)) > 0)
                run += l;
            else
                break;
        }
        if (run > i) {
            if (pending && page_starts) {
                /* pages start after a paragraph break, so no chunk straddles
                 * two pages without a boundary to cut at */
                while (out->len && rc == RUN_OK &&
                       !(out->len >= 2 && out->ptr[out->len - 1] == '\n' &&
                         out->ptr[out->len - 2] == '\n'))
                    rc = norm_add(out, "\n", 1);
                for (; pending > 0 && rc == RUN_OK; pending--)
                    rc = add_page(&starts, &np, &cap, out->len);
                if (rc != RUN_OK)
                    goto out;
            }
            rc = norm_add(out, p + i, run - i);
            if (rc != RUN_OK)
                goto out;
            i = run;
            continue;
        }
        /* p[i] needs care */
        if (p[i] == '\r') {
            if (!(i + 1 < n && p[i + 1] == '\n'))
                rc = norm_add(out, "\n", 1);
        } else if (p[i] == '\f') {
            if (page_starts)
                pending++;
            else
                rc = norm_add(out, "\n", 1);
        } else if (p[i] == '\v') {
            rc = norm_add(out, "\n", 1);
        } else if (p[i] >= 0x80) {
            rc = norm_add(out, "\xEF\xBF\xBD", 3);
        }
        /* NUL, other C0 controls and DEL are dropped */
        if (rc != RUN_OK)
            goto out;
        i++;
    }
    /* pdftotext ends every page with a form feed: the last one closes the
     * last page; any more are empty pages at the end */
    for (; pending > 1; pending--) {
        rc = add_page(&starts, &np, &cap, out->len);
        if (rc != RUN_OK)
            goto out;
    }
    if (page_starts) {
        *page_starts = starts;
        *pages = np;
        starts = NULL;
    }
out:
    free(starts);
    if (rc == RUN_FAIL_INTERNAL)
        buf_release(out);
    return rc;
}

/* ---- child side --------------------------------------------------------- */

static int read_file(const char *path, size_t max, struct buf *out, char *detail, size_t dlen)
{
    struct stat st;
    char chunk[65536];
    int fd, rc = RUN_FAIL_EXTRACT_FAILED;

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

static int child_extract(void *arg, struct buf *out, char *detail, size_t dlen)
{
    const struct job *job = arg;
    struct buf raw, file, text;
    size_t *starts = NULL;
    int pages = 0, rc = RUN_FAIL_INTERNAL, i;
    size_t raw_max = job->max_chars + job->max_chars / 4 + 65536;

    buf_init(&raw, raw_max);
    buf_init(&file, (size_t)job->max_uncompressed);
    buf_init(&text, job->max_chars);

    switch (job->kind) {
    case K_PDF:
        rc = extract_pdf_file(job->path, &raw, detail, dlen);
        break;
    case K_DOCX:
        rc = extract_docx_file(job->path, job->max_uncompressed, &raw, detail, dlen);
        break;
    case K_HTML:
    case K_MARKDOWN:
    case K_TEXT:
        rc = read_file(job->path, (size_t)job->max_uncompressed, &file, detail, dlen);
        if (rc != RUN_OK)
            break;
        if (job->kind == K_HTML)
            rc = extract_html_buffer(file.ptr ? file.ptr : "", file.len, &raw, detail, dlen);
        else
            rc = extract_text_buffer(file.ptr ? file.ptr : "", file.len,
                                     job->kind == K_MARKDOWN ? EXTRACT_TEXT_MARKDOWN : 0, &raw,
                                     detail, dlen);
        buf_release(&file);
        break;
    }
    if (rc != RUN_OK)
        goto out;
    rc = extract_normalize(raw.ptr ? raw.ptr : "", raw.len, &text,
                           job->kind == K_PDF ? &starts : NULL, &pages);
    buf_release(&raw);
    if (rc == RUN_FAIL_TOO_LARGE) {
        snprintf(detail, dlen, "extracted text over %zu bytes", job->max_chars);
        goto out;
    }
    if (rc != RUN_OK) {
        snprintf(detail, dlen, "out of memory");
        goto out;
    }
    if (job->kind != K_PDF) {
        pages = 1;
        starts = calloc(1, sizeof(*starts));
        if (!starts) {
            rc = RUN_FAIL_INTERNAL;
            snprintf(detail, dlen, "out of memory");
            goto out;
        }
    }
    {
        int32_t np = pages;

        rc = RUN_FAIL_INTERNAL;
        if (buf_add(out, &np, sizeof(np)) < 0)
            goto oom;
        for (i = 0; i < pages; i++) {
            uint64_t s = starts[i];

            if (buf_add(out, &s, sizeof(s)) < 0)
                goto oom;
        }
        if (buf_add(out, text.ptr ? text.ptr : "", text.len) < 0)
            goto oom;
        rc = RUN_OK;
    }
    goto out;
oom:
    snprintf(detail, dlen, "result over the transfer limit");
    rc = RUN_FAIL_TOO_LARGE;
out:
    free(starts);
    buf_release(&raw);
    buf_release(&file);
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
    else
        return -1;
    return 0;
}

static int valid_text(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, l;

    while (i < n) {
        if (p[i] == 0)
            return 0;
        l = utf8_len(p + i, n - i);
        if (!l)
            return 0;
        i += l;
    }
    return 1;
}

int extract_file(const char *path, const char *mime, const struct extract_limits *lim,
                 struct extract_result *out, char *detail, size_t detail_len)
{
    struct sandbox_limits sl;
    struct job job;
    struct buf payload;
    size_t *starts = NULL, off, text_len;
    char *text = NULL;
    int32_t pages;
    int rc, i;

    memset(out, 0, sizeof(*out));
    buf_init(&payload, 1);
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
    /* libxml2's global state must exist before fork, not be half-built by a
     * child (xmlInitParser is idempotent and thread-safe) */
    xmlInitParser();

    memset(&sl, 0, sizeof(sl));
    sl.timeout_ms = lim->timeout_ms > 0 ? lim->timeout_ms : 120000;
    sl.memory_mb = lim->memory_mb > 0 ? lim->memory_mb : 1024;
    sl.fsize_bytes = 0;
    sl.nofile = 64;
    sl.max_output = job.max_chars + sizeof(int32_t) + (size_t)EXTRACT_MAX_PAGES * sizeof(uint64_t);

    rc = sandbox_run(child_extract, &job, &sl, &payload, detail, detail_len);
    if (rc != RUN_OK)
        goto out;

    rc = RUN_FAIL_EXTRACT_FAILED;
    if (payload.len < sizeof(pages))
        goto bad;
    memcpy(&pages, payload.ptr, sizeof(pages));
    if (pages < 1 || pages > EXTRACT_MAX_PAGES ||
        payload.len - sizeof(pages) < (size_t)pages * sizeof(uint64_t))
        goto bad;
    off = sizeof(pages) + (size_t)pages * sizeof(uint64_t);
    text_len = payload.len - off;
    starts = malloc((size_t)pages * sizeof(*starts));
    text = malloc(text_len + 1);
    if (!starts || !text) {
        rc = RUN_FAIL_INTERNAL;
        snprintf(detail, detail_len, "out of memory");
        goto out;
    }
    for (i = 0; i < pages; i++) {
        uint64_t s;

        memcpy(&s, payload.ptr + sizeof(pages) + (size_t)i * sizeof(s), sizeof(s));
        if (s > text_len || (i == 0 && s != 0) || (i > 0 && s < starts[i - 1]))
            goto bad;
        starts[i] = (size_t)s;
    }
    memcpy(text, payload.ptr + off, text_len);
    text[text_len] = '\0';
    if (!valid_text(text, text_len))
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
    buf_release(&payload);
    return rc;
}

void extract_result_release(struct extract_result *r)
{
    if (!r)
        return;
    free(r->text);
    free(r->page_starts);
    memset(r, 0, sizeof(*r));
}
