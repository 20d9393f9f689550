/*
 * head_check.c - request head rules against smuggling and malformed headers
 * (head_check.h): a scan of each line, then one verdict.
 */
#include "api/http/head_check.h"

#include <string.h>
#include <strings.h>

#define HEAD_CHECK_LENGTH_DIGITS 19   /* fits int64_t */
#define HEAD_CHECK_EOL 2              /* bytes of one line end: CR LF */

void head_check_init(struct head_check *c)
{
    memset(c, 0, sizeof(*c));
}

/* tchar of RFC 9110 5.6.2. */
static int is_tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return 1;
    return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int name_ok(const char *name, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)name[i]))
            return 0;
    return 1;
}

/* field-value: visible bytes, space, tab and obs-text; no other control character. */
static int value_ok(const char *value, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)value[i];

        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return 0;
    }
    return 1;
}

static int is_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

static int digits_ok(const char *v, size_t n)
{
    while (n && is_ows(*v)) {
        v++;
        n--;
    }
    while (n && is_ows(v[n - 1]))
        n--;
    if (n == 0 || n > HEAD_CHECK_LENGTH_DIGITS)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return 0;
    return 1;
}

/* Transfer-Encoding: a comma-separated list of codings; count chunked, flag the rest. */
static void add_codings(struct head_check *c, const char *v, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t start, end;

        while (i < n && (is_ows(v[i]) || v[i] == ','))
            i++;
        start = i;
        while (i < n && v[i] != ',')
            i++;
        end = i;
        while (end > start && is_ows(v[end - 1]))
            end--;
        if (end == start)
            continue;
        if (end - start == 7 && strncasecmp(v + start, "chunked", 7) == 0)
            c->chunked++;
        else
            c->unknown_coding = 1;
    }
}

void head_check_region(struct head_check *c, const char *head, size_t len)
{
    c->head = head;
    c->end = head ? head + len : NULL;
    c->cursor = NULL;
}

/*
 * [p, end) holds only line ends as MHD leaves them (NUL for CR and LF, or CR,
 * LF), at most max bytes: one line end (CRLF) between lines, two at the end.
 */
static int only_line_ends(const char *p, const char *end, size_t max)
{
    if (end < p || (size_t)(end - p) > max)
        return 0;
    for (; p < end; p++)
        if (*p != '\0' && *p != '\r' && *p != '\n')
            return 0;
    return 1;
}

/* [p, end): the NUL that was the colon, then spaces and tabs. */
static int colon_gap_ok(const char *p, const char *end)
{
    if (p >= end || *p != '\0')
        return 0;
    for (p++; p < end; p++)
        if (!is_ows(*p))
            return 0;
    return 1;
}

/* The line's name and value must sit in the region, in order, with no hidden bytes around them. */
static void check_in_region(struct head_check *c, const char *name, size_t name_len, const char *value,
                            size_t value_len)
{
    const char *name_end = name + name_len, *value_end = value + value_len;

    if (name < c->head || (c->cursor && name < c->cursor) || value < name_end || value_end > c->end ||
        (c->cursor && !only_line_ends(c->cursor, name, HEAD_CHECK_EOL)) || !colon_gap_ok(name_end, value)) {
        c->bad_line = 1;
        return;
    }
    c->cursor = value_end;
}

void head_check_add(struct head_check *c, const char *name, size_t name_len, const char *value, size_t value_len)
{
    if (c->head && name && value && !c->bad_line)
        check_in_region(c, name, name_len, value, value_len);
    if (!name || !name_ok(name, name_len) || (value_len && !value) || (value && !value_ok(value, value_len))) {
        c->bad_field = 1;
        return;
    }
    if (name_len == 14 && strncasecmp(name, "Content-Length", 14) == 0) {
        c->content_length++;
        if (!digits_ok(value, value_len))
            c->bad_length = 1;
    } else if (name_len == 17 && strncasecmp(name, "Transfer-Encoding", 17) == 0) {
        c->transfer_encoding++;
        add_codings(c, value, value_len);
    } else if (name_len == 4 && strncasecmp(name, "Host", 4) == 0) {
        c->host++;
    }
}

unsigned head_check_verdict(const struct head_check *c, int http10, const char **why)
{
    static const struct {
        unsigned status;
        const char *why;
    } verdicts[] = {
        {0, NULL},
        {400, "invalid character in a header field"},
        {400, "more than one Content-Length"},
        {400, "malformed Content-Length"},
        {400, "both Content-Length and Transfer-Encoding"},
        {400, "Transfer-Encoding in an HTTP/1.0 request"},
        {501, "transfer coding not implemented (only chunked)"},
        {400, "malformed Transfer-Encoding"},
        {400, "more than one Host header"},
        {400, "Host header required"},
        {400, "malformed header line (a NUL byte or a folded line)"},
    };
    size_t v = 0;

    if (c->bad_field)
        v = 1;
    else if (c->bad_line || (c->head && c->cursor && !only_line_ends(c->cursor, c->end, 2 * HEAD_CHECK_EOL)))
        v = 10;
    else if (c->content_length > 1)
        v = 2;
    else if (c->bad_length)
        v = 3;
    else if (c->content_length && c->transfer_encoding)
        v = 4;
    else if (c->transfer_encoding && http10)
        v = 5;
    else if (c->unknown_coding)
        v = 6;
    else if (c->transfer_encoding && c->chunked != 1)
        v = 7;
    else if (c->host > 1)
        v = 8;
    else if (!http10 && c->host == 0)
        v = 9;
    if (why)
        *why = verdicts[v].why;
    return verdicts[v].status;
}
