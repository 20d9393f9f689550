/*
 * libFuzzer: the streaming multipart/form-data parser (api/multipart.h) and
 * multipart_boundary on arbitrary bytes.
 *
 * Input layout: 4 control bytes, then the body (boundary "fuzzBOUNDARY").
 *   c[0..2]  piece sizes, cycled (0 = the whole rest), so delimiters, CRLFs
 *            and header lines straddle feeds in every possible way;
 *   c[3]     0 = callbacks never stop; n < 128: the n-th part_begin/part_end
 *            returns 7; n >= 128: the (n - 128)-th part_data call returns 7.
 * The body is parsed twice, split and in one piece: the two event streams
 * (part headers, data bytes, part ends, results) must be identical, since the
 * parser promises that chunking never changes what it reports (not compared
 * when part_data stops it: the number of data calls depends on the split).
 */
#include "api/http/multipart.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_BOUNDARY "fuzzBOUNDARY"
#define STOP_RC       7

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
    uint64_t h;           /* FNV-1a over every event and data byte */
    size_t data_bytes;
    unsigned calls;       /* part_begin + part_end calls so far */
    unsigned data_calls;
    unsigned stop_at;     /* 0 = never; else as c[3] */
    int in_part;
    int stopped;
};

static void mix(struct trace *t, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++) {
        t->h ^= b[i];
        t->h *= 1099511628211ULL;
    }
}

static int maybe_stop(struct trace *t, int is_data)
{
    unsigned *count = is_data ? &t->data_calls : &t->calls;
    unsigned at = is_data ? (t->stop_at >= 128 ? t->stop_at - 128 : 0) : (t->stop_at < 128 ? t->stop_at : 0);

    if (t->stopped)
        abort();   /* a callback after one returned nonzero */
    ++*count;
    if (at && *count == at) {
        t->stopped = 1;
        return STOP_RC;
    }
    return 0;
}

static int on_begin(void *ud, const struct multipart_part *part)
{
    struct trace *t = ud;

    if (t->in_part || !part->name || part->name[part->name_len] != '\0')
        abort();
    if (part->filename && part->filename[part->filename_len] != '\0')
        abort();
    t->in_part = 1;
    mix(t, "B", 1);
    mix(t, part->name, part->name_len + 1);
    if (part->filename)
        mix(t, part->filename, part->filename_len + 1);
    else
        mix(t, "-", 1);
    if (part->content_type)
        mix(t, part->content_type, strlen(part->content_type) + 1);
    else
        mix(t, "-", 1);
    return maybe_stop(t, 0);
}

static int on_data(void *ud, const char *p, size_t n)
{
    struct trace *t = ud;

    if (!t->in_part || n == 0)
        abort();
    /* data is hashed as one stream: how it is cut into calls may differ */
    mix(t, p, n);
    t->data_bytes += n;
    return maybe_stop(t, 1);
}

static int on_end(void *ud)
{
    struct trace *t = ud;

    if (!t->in_part)
        abort();
    t->in_part = 0;
    mix(t, "E", 1);
    return maybe_stop(t, 0);
}

static const struct multipart_callbacks cbs = { on_begin, on_data, on_end };

/* Parse body in pieces (sizes NULL: one piece); returns the trace. */
static struct trace run(const char *body, size_t n, const uint8_t sizes[3], unsigned stop_at)
{
    struct trace t = { 14695981039346656037ULL, 0, 0, 0, stop_at, 0, 0 };
    struct multipart *m = multipart_new(FUZZ_BOUNDARY, &cbs, &t);
    size_t off = 0, k = 0;
    int rc = 0, first = 0, fin;

    if (!m)
        abort();
    while (off < n) {
        size_t piece = n - off;

        if (sizes) {
            size_t s = sizes[k++ % 3];

            if (s && s < piece)
                piece = s;
        }
        rc = multipart_feed(m, body + off, piece);
        if (rc && !first)
            first = rc;
        /* a failure is sticky: the same value from then on */
        if (first && rc != first)
            abort();
        if (rc == STOP_RC && !t.stopped)
            abort();
        off += piece;
    }
    /* an empty feed is harmless */
    if (multipart_feed(m, body, 0) != first)
        abort();
    fin = multipart_finish(m);
    if (fin != 0 && fin != -1)
        abort();
    if (fin == -1 && multipart_error(m)[0] == '\0')
        abort();
    if (t.data_bytes > n)
        abort();
    mix(&t, &first, sizeof(first));
    mix(&t, &fin, sizeof(fin));
    multipart_free(&m);
    if (m)
        abort();
    return t;
}

static void fuzz_boundary(const uint8_t *data, size_t size)
{
    char *ct = malloc(size + 1);
    char out[MULTIPART_BOUNDARY_MAX + 1];
    int rc;

    if (!ct)
        return;
    memcpy(ct, data, size);
    ct[size] = '\0';
    rc = multipart_boundary(ct, out, sizeof(out));
    if (rc < -1 || rc > 1)
        abort();
    if (rc == 1) {
        struct trace t = { 0, 0, 0, 0, 0, 0, 0 };
        struct multipart *m;
        size_t len = strnlen(out, sizeof(out));

        /* what multipart_boundary accepts, multipart_new must accept too */
        if (len == 0 || len > MULTIPART_BOUNDARY_MAX)
            abort();
        m = multipart_new(out, &cbs, &t);
        if (!m)
            abort();
        multipart_free(&m);
    }
    free(ct);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct trace split, whole;
    const char *body;
    size_t n;

    fuzz_boundary(data, size);
    if (size < 4)
        return 0;
    body = (const char *)data + 4;
    n = size - 4;
    split = run(body, n, data, data[3]);
    whole = run(body, n, NULL, data[3]);
    if (data[3] < 128 &&
        (split.h != whole.h || split.data_bytes != whole.data_bytes || split.stopped != whole.stopped))
        abort();
    return 0;
}
