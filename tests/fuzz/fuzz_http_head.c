/*
 * libFuzzer: the HTTP edge's parsers of client bytes, api/http/head_check.h and
 * common/netaddr.h (X-Forwarded-For).
 *
 * The first byte picks a mode, modulo 3 (the rest is the input proper):
 *   0, 1  the bytes are a request head (HTTP/1.1, HTTP/1.0); the harness
 *         lays it out the way libmicrohttpd 0.9.75 does (CR, LF and each line's first colon
 *         become NUL, values end at their first NUL) and feeds head_check
 *         with the region. The verdict must be 0, 400 or 501 with a message
 *         for a refusal, and the same lines without the region may only be
 *         judged more leniently (the region adds checks, it never removes one);
 *   2     the bytes are X-Forwarded-For lines split at '\n', behind a fixed
 *         trusted list, from a trusted peer: the client must be the peer or
 *         an address that formats and parses back to itself.
 */
#include "api/http/head_check.h"
#include "common/netaddr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct lines {
    const char *name[MAX_LINES], *value[MAX_LINES];
    size_t name_len[MAX_LINES], value_len[MAX_LINES], n;
};

/* MHD's in-place layout of buf (len bytes, NUL-terminated): header lines after the request line. */
static size_t lay_out(char *buf, size_t len, struct lines *l)
{
    size_t i = 0;

    l->n = 0;
    while (i < len && buf[i] != '\n')
        i++;
    if (i < len)
        buf[i++] = '\0';
    while (i < len && buf[i] != '\n' && buf[i] != '\r' && l->n < MAX_LINES) {
        char *line = buf + i, *colon;
        size_t end = i;

        while (end < len && buf[end] != '\n')
            end++;
        if (end > i && buf[end - 1] == '\r')
            buf[end - 1] = '\0';
        buf[end] = '\0';
        colon = strchr(line, ':');
        if (!colon)
            break;    /* MHD answers 400 itself */
        *colon++ = '\0';
        while (*colon == ' ' || *colon == '\t')
            colon++;
        l->name[l->n] = line;
        l->name_len[l->n] = strlen(line);
        l->value[l->n] = colon;
        l->value_len[l->n] = strlen(colon);
        l->n++;
        i = end + 1;
    }
    return i < len ? i : len;
}

static unsigned judge(const struct lines *l, const char *region, size_t region_len, int http10)
{
    struct head_check c;
    const char *why = NULL;
    unsigned v;

    head_check_init(&c);
    if (region)
        head_check_region(&c, region, region_len);
    for (size_t i = 0; i < l->n; i++)
        head_check_add(&c, l->name[i], l->name_len[i], l->value[i], l->value_len[i]);
    v = head_check_verdict(&c, http10, &why);
    if (v != 0 && v != 400 && v != 501)
        abort();
    if ((v == 0) != (why == NULL))
        abort();
    return v;
}

static void fuzz_head(const char *p, size_t n, int http10)
{
    char *buf = malloc(n + 1);
    struct lines l;
    size_t head_len;
    unsigned with, without;

    if (!buf)
        return;
    memcpy(buf, p, n);
    buf[n] = '\0';
    head_len = lay_out(buf, n, &l);
    with = judge(&l, buf, head_len, http10);
    without = judge(&l, NULL, 0, http10);
    if (without != 0 && with == 0)
        abort();
    free(buf);
}

static void fuzz_forwarded(const char *p, size_t n)
{
    static const char trusted_text[] = "10.0.0.0/8, 192.0.2.1, 2001:db8::/32";
    struct netaddr_list trusted;
    struct netaddr peer, out, back;
    const char *xff[MAX_LINES];
    char *buf = malloc(n + 1), *s, err[128], text[NETADDR_TEXT_LEN];
    size_t nx = 0;

    if (!buf)
        return;
    memcpy(buf, p, n);
    buf[n] = '\0';
    for (s = buf; nx < MAX_LINES;) {
        char *nl = strchr(s, '\n');

        xff[nx++] = s;
        if (!nl)
            break;
        *nl = '\0';
        s = nl + 1;
    }
    if (netaddr_list_parse(trusted_text, &trusted, err, sizeof(err)) < 0 ||
        netaddr_parse("192.0.2.1", 9, &peer) < 0)
        abort();
    if (netaddr_client(&trusted, &peer, xff, nx, &out) < 0)
        abort();
    if (!netaddr_equal(&out, &peer)) {
        if (netaddr_format(&out, text, sizeof(text)) < 0 || netaddr_parse(text, strlen(text), &back) < 0 ||
            !netaddr_equal(&out, &back))
            abort();
    }
    /* the same bytes as a TRUSTED_PROXIES list: parse or refuse, never crash */
    netaddr_list_parse(buf, &trusted, err, sizeof(err));
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_head((const char *)data + 1, size - 1, 0);
        break;
    case 1:
        fuzz_head((const char *)data + 1, size - 1, 1);
        break;
    default:
        fuzz_forwarded((const char *)data + 1, size - 1);
        break;
    }
    return 0;
}
