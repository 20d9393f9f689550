/*
 * multipart.c - the streaming multipart/form-data parser of multipart.h: a
 * table of states, each a step over the bytes of one feed; a delimiter scanner
 * that holds back only what may start a boundary.
 */
#include "api/http/multipart.h"
#include "common/hash.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum mp_state {
    MP_PREAMBLE,      /* before the first delimiter: bytes discarded */
    MP_AFTER_DELIM,   /* "\r\n--boundary" seen: "--" or padding then CRLF */
    MP_DASH2,         /* one '-' of the closing "--" seen */
    MP_DELIM_LF,      /* CR after the delimiter seen, LF expected */
    MP_HEADERS,       /* part header lines */
    MP_BODY,          /* part data */
    MP_DONE,          /* closing delimiter seen: the epilogue is ignored */
    MP_ERROR,
};

struct multipart {
    enum mp_state state;
    int stop;                      /* sticky result once nonzero */
    const struct multipart_callbacks *cb;
    void *ud;
    char delim[4 + MULTIPART_BOUNDARY_MAX + 1];   /* "\r\n--" boundary */
    size_t dlen;
    size_t match;                  /* delimiter bytes matched (held back) */
    char hdr[MULTIPART_HEADERS_MAX + 1];
    size_t hdr_len;
    size_t line_start;
    struct multipart_part part;
    char *name, *filename, *ctype;
    char err[96];
};

static int valid_boundary(const char *b, size_t n)
{
    /* RFC 2046 bchars; no CR or LF, which the delimiter scanner relies on. */
    static const char extra[] = "'()+_,-./:=? ";

    if (n < 1 || n > MULTIPART_BOUNDARY_MAX || b[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)b[i]) && !strchr(extra, b[i]))
            return 0;
    return 1;
}

struct multipart *multipart_new(const char *boundary, const struct multipart_callbacks *cb, void *ud)
{
    struct multipart *m;
    size_t blen = boundary ? strlen(boundary) : 0;

    if (!valid_boundary(boundary ? boundary : "", blen))
        return NULL;
    m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->cb = cb;
    m->ud = ud;
    memcpy(m->delim, "\r\n--", 4);
    memcpy(m->delim + 4, boundary, blen);
    m->dlen = 4 + blen;
    m->state = MP_PREAMBLE;
    /* The first delimiter may open the body without a CRLF before it: pretend one was there. */
    m->match = 2;
    m->err[0] = '\0';
    return m;
}

static void part_clear(struct multipart *m)
{
    free(m->name);
    free(m->filename);
    free(m->ctype);
    m->name = m->filename = m->ctype = NULL;
    memset(&m->part, 0, sizeof(m->part));
}

void multipart_free(struct multipart **mp)
{
    if (!mp || !*mp)
        return;
    part_clear(*mp);
    free(*mp);
    *mp = NULL;
}

const char *multipart_error(const struct multipart *m)
{
    return m ? m->err : "";
}

static int fail(struct multipart *m, int code, const char *why)
{
    snprintf(m->err, sizeof(m->err), "%s", why);
    m->state = MP_ERROR;
    m->stop = code;
    return code;
}

/*
 * Decode a parameter value in place. all_pct: RFC 5987 ext-value (decode every
 * %XX); otherwise only the escapes browsers use in form-data names (WHATWG:
 * %22 for '"', %0D and %0A), so a literal "100%.txt" stays as it is.
 */
static size_t pct_decode(char *s, size_t n, int all_pct)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n) {
            int hi = hex_value((unsigned char)s[i + 1]);
            int lo = hex_value((unsigned char)s[i + 2]);

            if (hi >= 0 && lo >= 0) {
                int v = hi * 16 + lo;

                if (all_pct || v == 0x22 || v == 0x0D || v == 0x0A) {
                    s[o++] = (char)v;
                    i += 2;
                    continue;
                }
            }
        }
        s[o++] = s[i];
    }
    s[o] = '\0';
    return o;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/*
 * Parse one parameter value starting at *pp (quoted string or token) into a
 * new string; *pp is advanced past it. Returns NULL when memory is out.
 */
static char *param_value(const char **pp, const char *end, size_t *len)
{
    const char *p = *pp;
    char *v = malloc((size_t)(end - p) + 1);
    size_t n = 0;

    if (!v)
        return NULL;
    if (p < end && *p == '"') {
        p++;
        while (p < end && *p != '"') {
            /*
             * Backslash escapes only a quote or a backslash: browsers never
             * escape, and "C:\dir\file.txt" from old clients must survive.
             */
            if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
                p++;
            v[n++] = *p++;
        }
        if (p < end)
            p++;   /* closing quote */
    } else {
        while (p < end && *p != ';' && *p != ' ' && *p != '\t')
            v[n++] = *p++;
    }
    v[n] = '\0';
    *pp = p;
    *len = n;
    return v;
}

/* Content-Disposition: form-data; name="..."; filename="..."; filename*=UTF-8''... */
static int parse_disposition(struct multipart *m, const char *p, const char *end)
{
    int have_ext = 0;

    p = memchr(p, ';', (size_t)(end - p));
    while (p && p < end) {
        const char *k, *kend;
        char *v;
        size_t vlen, klen;

        p = skip_ws(p + 1, end);
        k = p;
        while (p < end && *p != '=' && *p != ';')
            p++;
        kend = p;
        while (kend > k && (kend[-1] == ' ' || kend[-1] == '\t'))
            kend--;
        klen = (size_t)(kend - k);
        if (p >= end || *p != '=') {
            p = memchr(p, ';', (size_t)(end - p));
            continue;
        }
        p = skip_ws(p + 1, end);
        v = param_value(&p, end, &vlen);
        if (!v)
            return -1;
        if (klen == 4 && strncasecmp(k, "name", 4) == 0) {
            free(m->name);
            m->name = v;
            m->part.name_len = pct_decode(v, vlen, 0);
        } else if (klen == 8 && strncasecmp(k, "filename", 8) == 0 && !have_ext) {
            free(m->filename);
            m->filename = v;
            m->part.filename_len = pct_decode(v, vlen, 0);
        } else if (klen == 9 && strncasecmp(k, "filename*", 9) == 0) {
            /* RFC 5987: charset'language'pct-encoded; preferred over filename. */
            char *q1 = strchr(v, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;

            if (q2) {
                size_t rest = strlen(q2 + 1);

                memmove(v, q2 + 1, rest + 1);
                free(m->filename);
                m->filename = v;
                m->part.filename_len = pct_decode(v, rest, 1);
                have_ext = 1;
            } else {
                free(v);
            }
        } else {
            free(v);
        }
        p = memchr(p, ';', (size_t)(end - p));
    }
    return 0;
}

static int parse_headers(struct multipart *m)
{
    const char *p = m->hdr, *end = m->hdr + m->hdr_len;

    part_clear(m);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *lend = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(lend - p));

        if (lend > p && lend[-1] == '\r')
            lend--;
        if (colon && colon < lend) {
            size_t klen = (size_t)(colon - p);
            const char *v = skip_ws(colon + 1, lend);

            if (klen == 19 && strncasecmp(p, "Content-Disposition", 19) == 0) {
                if (parse_disposition(m, v, lend) < 0)
                    return -1;
            } else if (klen == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
                free(m->ctype);
                m->ctype = strndup(v, (size_t)(lend - v));
                if (!m->ctype)
                    return -1;
            }
        }
        p = eol ? eol + 1 : end;
    }
    if (!m->name) {
        m->name = strdup("");
        if (!m->name)
            return -1;
    }
    m->part.name = m->name;
    m->part.filename = m->filename;
    m->part.content_type = m->ctype;
    return 0;
}

static int emit(struct multipart *m, const char *p, size_t n)
{
    if (n == 0 || m->state != MP_BODY || !m->cb->part_data)
        return 0;
    return m->cb->part_data(m->ud, p, n);
}

/*
 * Scan part data (or the preamble) for the delimiter. Every byte that cannot
 * start a delimiter is passed on at once; a partial match is held back, and
 * since '\r' occurs only at the start of the delimiter, a mismatch never needs
 * to re-scan the held bytes.
 */
static int scan(struct multipart *m, const char *p, size_t n, size_t *pos)
{
    size_t i = *pos, i0 = *pos, emit_start = *pos;
    ptrdiff_t ms = (ptrdiff_t)i - (ptrdiff_t)m->match;   /* where the current match began */
    int rc;

    while (i < n) {
        if (m->match == 0) {
            const char *cr = memchr(p + i, '\r', n - i);

            if (!cr) {
                i = n;
                break;
            }
            i = (size_t)(cr - p);
            ms = (ptrdiff_t)i;
            m->match = 1;
            i++;
            continue;
        }
        if (p[i] == m->delim[m->match]) {
            m->match++;
            i++;
            if (m->match == m->dlen) {
                if (ms > (ptrdiff_t)emit_start) {
                    rc = emit(m, p + emit_start, (size_t)ms - emit_start);
                    if (rc)
                        return rc;
                }
                m->match = 0;
                if (m->state == MP_BODY && m->cb->part_end) {
                    rc = m->cb->part_end(m->ud);
                    if (rc)
                        return rc;
                }
                part_clear(m);
                /* The next part's headers start empty. */
                m->hdr_len = 0;
                m->line_start = 0;
                m->state = MP_AFTER_DELIM;
                *pos = i;
                return 0;
            }
            continue;
        }
        /* Mismatch: what was held from earlier feeds is data after all. */
        if (ms < (ptrdiff_t)i0) {
            rc = emit(m, m->delim, (size_t)((ptrdiff_t)i0 - ms));
            if (rc)
                return rc;
        }
        m->match = 0;
        /* p[i] is looked at again with no match in progress. */
    }
    {
        size_t end = n;

        if (m->match)
            end = ms > (ptrdiff_t)emit_start ? (size_t)ms : emit_start;
        if (end > emit_start) {
            rc = emit(m, p + emit_start, end - emit_start);
            if (rc)
                return rc;
        }
    }
    *pos = n;
    return 0;
}

/*
 * One row per state: the step that consumes bytes in it, from p[*i] on, and
 * advances *i. 0 to go on; nonzero stops the feed with that value (the parser
 * is then in MP_ERROR with m->stop set). States that accept exactly one byte
 * (want) share expect_byte, which moves to next or fails with why.
 */
struct mp_row {
    int (*step)(struct multipart *m, const struct mp_row *row, const char *p, size_t n, size_t *i);
    char want;
    enum mp_state next;
    const char *why;
};

/* Preamble and part data: pass bytes on until a delimiter. */
static int step_data(struct multipart *m, const struct mp_row *row, const char *p, size_t n, size_t *i)
{
    int rc = scan(m, p, n, i);

    (void)row;
    return rc ? fail(m, rc, "stopped by callback") : 0;
}

/* After "\r\n--boundary": "--" closes the body, CRLF opens a part, blanks are padding. */
static int step_after_delim(struct multipart *m, const struct mp_row *row, const char *p, size_t n, size_t *i)
{
    char c = p[(*i)++];

    (void)row;
    (void)n;
    if (c == '-')
        m->state = MP_DASH2;
    else if (c == '\r')
        m->state = MP_DELIM_LF;
    else if (c != ' ' && c != '\t')
        return fail(m, MULTIPART_MALFORMED, "garbage after boundary");
    return 0;
}

static int expect_byte(struct multipart *m, const struct mp_row *row, const char *p, size_t n, size_t *i)
{
    (void)n;
    if (p[(*i)++] != row->want)
        return fail(m, MULTIPART_MALFORMED, row->why);
    m->state = row->next;
    return 0;
}

/* The empty line after a part's headers: parse them, enter the body, part_begin. */
static int part_start(struct multipart *m)
{
    int rc;

    m->hdr_len = m->line_start;
    m->hdr[m->hdr_len] = '\0';
    if (parse_headers(m) < 0)
        return fail(m, MULTIPART_NOMEM, "out of memory");
    m->state = MP_BODY;
    rc = m->cb->part_begin ? m->cb->part_begin(m->ud, &m->part) : 0;
    return rc ? fail(m, rc, "stopped by callback") : 0;
}

/* Part header bytes, up to and including the next LF; an empty line ends them. */
static int step_headers(struct multipart *m, const struct mp_row *row, const char *p, size_t n, size_t *i)
{
    const char *nl = memchr(p + *i, '\n', n - *i);
    size_t take = nl ? (size_t)(nl - (p + *i)) + 1 : n - *i;
    size_t line_len;

    (void)row;
    if (m->hdr_len + take > MULTIPART_HEADERS_MAX)
        return fail(m, MULTIPART_MALFORMED, "part headers too large");
    memcpy(m->hdr + m->hdr_len, p + *i, take);
    m->hdr_len += take;
    *i += take;
    if (!nl)
        return 0;
    line_len = m->hdr_len - m->line_start;   /* with its LF */
    if (line_len == 1 || (line_len == 2 && m->hdr[m->line_start] == '\r'))
        return part_start(m);
    m->line_start = m->hdr_len;
    return 0;
}

/* After the closing delimiter: the epilogue is ignored. */
static int step_done(struct multipart *m, const struct mp_row *row, const char *p, size_t n, size_t *i)
{
    (void)m;
    (void)row;
    (void)p;
    *i = n;
    return 0;
}

static int step_error(struct multipart *m, const struct mp_row *row, const char *p, size_t n, size_t *i)
{
    (void)row;
    (void)p;
    (void)n;
    (void)i;
    return m->stop ? m->stop : MULTIPART_MALFORMED;
}

static const struct mp_row mp_rows[] = {
    [MP_PREAMBLE] = {step_data, 0, MP_PREAMBLE, NULL},
    [MP_AFTER_DELIM] = {step_after_delim, 0, MP_AFTER_DELIM, NULL},
    [MP_DASH2] = {expect_byte, '-', MP_DONE, "garbage after boundary"},
    [MP_DELIM_LF] = {expect_byte, '\n', MP_HEADERS, "CR without LF after boundary"},
    [MP_HEADERS] = {step_headers, 0, MP_HEADERS, NULL},
    [MP_BODY] = {step_data, 0, MP_BODY, NULL},
    [MP_DONE] = {step_done, 0, MP_DONE, NULL},
    [MP_ERROR] = {step_error, 0, MP_ERROR, NULL},
};

int multipart_feed(struct multipart *m, const char *p, size_t n)
{
    size_t i = 0;
    int rc = m->stop;

    while (!rc && i < n)
        rc = mp_rows[m->state].step(m, &mp_rows[m->state], p, n, &i);
    return rc;
}

int multipart_finish(struct multipart *m)
{
    if (m->state == MP_DONE)
        return 0;
    if (m->state != MP_ERROR)
        snprintf(m->err, sizeof(m->err), "body ended before the closing boundary");
    return -1;
}

int multipart_boundary(const char *ct, char *out, size_t outsz)
{
    const char *p, *end;

    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, "multipart/form-data", 19) != 0 ||
        (ct[19] != '\0' && ct[19] != ';' && ct[19] != ' ' && ct[19] != '\t'))
        return 0;
    p = ct + 19;
    end = p + strlen(p);
    for (p = memchr(p, ';', (size_t)(end - p)); p; p = memchr(p, ';', (size_t)(end - p))) {
        const char *k;
        size_t vlen;
        char *v;

        p = skip_ws(p + 1, end);
        k = p;
        if ((size_t)(end - k) < 9 || strncasecmp(k, "boundary", 8) != 0)
            continue;
        p = skip_ws(k + 8, end);
        if (p >= end || *p != '=')
            continue;
        p = skip_ws(p + 1, end);
        v = param_value(&p, end, &vlen);
        if (!v)
            return -1;
        if (!valid_boundary(v, vlen) || vlen + 1 > outsz) {
            free(v);
            return -1;
        }
        memcpy(out, v, vlen + 1);
        free(v);
        return 1;
    }
    return -1;
}
