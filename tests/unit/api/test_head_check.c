/*
 * test_head_check.c - the request head rules (api/http/head_check.c): every
 * verdict with its status and message, which one wins when several apply,
 * the field syntax (token names, control characters in values), and the
 * in-place region checks that find NUL bytes and folded lines MHD hides.
 * The region tests build the buffer the way MHD 0.9.75 leaves it (CR, LF and
 * each colon overwritten by NUL, values cut by strlen); the integration suite
 * tests/integration/http.test.mjs checks the same against MHD itself.
 */
#include "api/http/head_check.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Header lines "Name: value" (value may hold any byte but NUL) and the verdict. */
static unsigned verdict_of(const char *const *lines, size_t n, int http10, const char **why)
{
    struct head_check c;

    head_check_init(&c);
    for (size_t i = 0; i < n; i++) {
        const char *colon = strchr(lines[i], ':');
        const char *v = colon + 1;

        assert_non_null(colon);
        while (*v == ' ')
            v++;
        head_check_add(&c, lines[i], (size_t)(colon - lines[i]), v, strlen(v));
    }
    return head_check_verdict(&c, http10, why);
}

static void expect_verdict(unsigned status, const char *needle, int http10, const char *const *lines, size_t n,
                           int line)
{
    const char *why = NULL;
    unsigned got = verdict_of(lines, n, http10, &why);

    if (got != status || (needle && (!why || !strstr(why, needle))))
        fail_msg("line %d: got %u \"%s\", want %u \"%s\"", line, got, why ? why : "", status, needle ? needle : "");
}

#define VERDICT(status, needle, http10, ...)                                                                       \
    do {                                                                                                           \
        const char *lines_[] = {__VA_ARGS__};                                                                      \
        expect_verdict((status), (needle), (http10), lines_, sizeof(lines_) / sizeof(lines_[0]), __LINE__);         \
    } while (0)

static void test_framing(void **state)
{
    (void)state;
    VERDICT(0, NULL, 0, "Host: a", "Content-Length: 12");
    VERDICT(0, NULL, 0, "Host: a", "Transfer-Encoding: chunked");
    VERDICT(0, NULL, 0, "Host: a", "transfer-encoding: CHUNKED ");
    VERDICT(0, NULL, 0, "Host: a", "Content-Length: 0");
    VERDICT(400, "more than one Content-Length", 0, "Host: a", "Content-Length: 2", "Content-Length: 3");
    VERDICT(400, "more than one Content-Length", 0, "Host: a", "Content-Length: 2", "content-length: 2");
    VERDICT(400, "malformed Content-Length", 0, "Host: a", "Content-Length: +2");
    VERDICT(400, "malformed Content-Length", 0, "Host: a", "Content-Length: 2, 2");
    VERDICT(400, "malformed Content-Length", 0, "Host: a", "Content-Length: ");
    VERDICT(400, "malformed Content-Length", 0, "Host: a", "Content-Length: 12345678901234567890");
    VERDICT(400, "both Content-Length and Transfer-Encoding", 0, "Host: a", "Content-Length: 5",
            "Transfer-Encoding: chunked");
    VERDICT(400, "both Content-Length and Transfer-Encoding", 0, "Host: a", "Transfer-Encoding: gzip",
            "Content-Length: 5");
    VERDICT(400, "HTTP/1.0", 1, "Transfer-Encoding: chunked");
    VERDICT(501, "only chunked", 0, "Host: a", "Transfer-Encoding: gzip");
    VERDICT(501, "only chunked", 0, "Host: a", "Transfer-Encoding: gzip, chunked");
    VERDICT(501, "only chunked", 0, "Host: a", "Transfer-Encoding: chunked", "Transfer-Encoding: identity");
    VERDICT(501, "only chunked", 0, "Host: a", "Transfer-Encoding: chunked;q=1");
    VERDICT(400, "malformed Transfer-Encoding", 0, "Host: a", "Transfer-Encoding: chunked, chunked");
    VERDICT(400, "malformed Transfer-Encoding", 0, "Host: a", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked");
    VERDICT(400, "malformed Transfer-Encoding", 0, "Host: a", "Transfer-Encoding: ");
    VERDICT(400, "malformed Transfer-Encoding", 0, "Host: a", "Transfer-Encoding: , ,");
    VERDICT(0, NULL, 0, "Host: a", "Transfer-Encoding: ,chunked,");   /* empty list elements are nothing */
}

static void test_host(void **state)
{
    (void)state;
    VERDICT(400, "Host header required", 0, "Accept: */*");
    VERDICT(0, NULL, 1, "Accept: */*");                /* HTTP/1.0 may leave it out */
    VERDICT(0, NULL, 0, "Host: ");                     /* empty: allowed (no authority) */
    VERDICT(400, "more than one Host", 0, "Host: a", "host: a");
    VERDICT(400, "more than one Host", 1, "Host: a", "Host: b");
}

static void test_fields(void **state)
{
    (void)state;
    VERDICT(0, NULL, 0, "Host: a", "X-Ok: a\tb ~ \x80\xff");
    VERDICT(400, "invalid character", 0, "Host: a", "X-Bad: a\rb");
    VERDICT(400, "invalid character", 0, "Host: a", "X-Bad: a\nb");
    VERDICT(400, "invalid character", 0, "Host: a", "X-Bad: a\x01");
    VERDICT(400, "invalid character", 0, "Host: a", "X-Bad: \x1f");
    VERDICT(400, "invalid character", 0, "Host: a", "X-Bad: a\x7f");
    VERDICT(400, "invalid character", 0, "Host: a", "X Bad: a");
    VERDICT(400, "invalid character", 0, "Host: a", "X-Bad : a");
    VERDICT(400, "invalid character", 0, "Host: a", "X(Bad): a");
    VERDICT(400, "invalid character", 0, "Host: a", ": a");
    VERDICT(0, NULL, 0, "Host: a", "!#$%&'*+-.^_`|~09azAZ: a");
    {
        struct head_check c;
        const char *why;

        /* a NUL counted in the value's length is a control character too */
        head_check_init(&c);
        head_check_add(&c, "Host", 4, "a", 1);
        head_check_add(&c, "X-Nul", 5, "a\0b", 3);
        assert_int_equal(head_check_verdict(&c, 0, &why), 400);
        /* the bad field wins over every framing verdict */
        head_check_init(&c);
        head_check_add(&c, "Transfer-Encoding", 17, "gzip", 4);
        head_check_add(&c, "X-Bad", 5, "\x01", 1);
        assert_int_equal(head_check_verdict(&c, 0, &why), 400);
        assert_non_null(strstr(why, "invalid character"));
        /* no message wanted */
        head_check_init(&c);
        assert_int_equal(head_check_verdict(&c, 1, NULL), 0);
    }
}

/*
 * The head as MHD 0.9.75 keeps it: raw bytes (the request line, the header
 * lines, the empty line) with CR, LF and the first colon of each header line
 * overwritten by NUL; each value starts after the colon's spaces and ends at
 * its first NUL (strlen).
 */
struct mhd_head {
    char buf[1024];
    size_t len;
    const char *name[16], *value[16];
    size_t name_len[16], value_len[16], n;
};

static void mhd_parse(struct mhd_head *h, const char *raw, size_t len)
{
    size_t i = 0;

    assert_true(len < sizeof(h->buf));
    memcpy(h->buf, raw, len);
    h->buf[len] = '\0';
    h->len = len;
    h->n = 0;
    while (i < len && h->buf[i] != '\n')   /* request line */
        i++;
    if (i > 0 && h->buf[i - 1] == '\r')
        h->buf[i - 1] = '\0';
    h->buf[i++] = '\0';
    while (i < len && h->buf[i] != '\r' && h->buf[i] != '\n') {
        char *line = h->buf + i, *colon = memchr(line, ':', len - i);
        size_t end = i;

        while (end < len && h->buf[end] != '\n')
            end++;
        if (end > i && h->buf[end - 1] == '\r')
            h->buf[end - 1] = '\0';
        h->buf[end] = '\0';
        assert_non_null(colon);
        *colon = '\0';
        h->name[h->n] = line;
        h->name_len[h->n] = (size_t)(colon - line);
        colon++;
        while (*colon == ' ' || *colon == '\t')
            colon++;
        h->value[h->n] = colon;
        h->value_len[h->n] = strlen(colon);
        h->n++;
        i = end + 1;
    }
    /* the empty line */
    if (i < len && h->buf[i] == '\r')
        h->buf[i++] = '\0';
    if (i < len && h->buf[i] == '\n')
        h->buf[i++] = '\0';
    h->len = i;                             /* MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE */
}

static unsigned region_verdict(const char *raw, size_t len, const char **why)
{
    struct mhd_head h;
    struct head_check c;

    mhd_parse(&h, raw, len);
    head_check_init(&c);
    head_check_region(&c, h.buf, h.len);
    for (size_t i = 0; i < h.n; i++)
        head_check_add(&c, h.name[i], h.name_len[i], h.value[i], h.value_len[i]);
    return head_check_verdict(&c, 0, why);
}

#define REGION(status, lit) region_is((status), (lit), sizeof(lit) - 1, __LINE__)

static void region_is(unsigned status, const char *raw, size_t len, int line)
{
    const char *why = NULL;
    unsigned got = region_verdict(raw, len, &why);

    if (got != status)
        fail_msg("line %d: got %u \"%s\", want %u", line, got, why ? why : "", status);
    if (status == 400 && !strstr(why, "NUL byte or a folded line"))
        fail_msg("line %d: message \"%s\"", line, why);
}

static void test_region(void **state)
{
    (void)state;
    REGION(0, "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\r\n");
    REGION(0, "GET / HTTP/1.1\nHost: a\nX-A: b\n\n");                      /* bare LF line ends */
    REGION(0, "GET / HTTP/1.1\r\nHost: a\r\nX-A:b\r\nX-E:\r\n\r\n");       /* no space, empty value */
    REGION(0, "GET / HTTP/1.1\r\nHost: a\r\nX-A: \t b  \r\n\r\n");         /* spaces around a value */
    REGION(400, "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\nX-B: d\r\n\r\n"); /* NUL mid-value */
    REGION(400, "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n");          /* ... on the last line */
    REGION(400, "GET / HTTP/1.1\r\nHost: a\r\nX-A: \0c\r\n\r\n");           /* an empty-looking value */
    REGION(400, "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0\r\nX-B: d\r\n\r\n");  /* a trailing NUL, then a line */
    REGION(400, "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0\r\n\r\n");           /* ... last line, CR LF ends */
    REGION(0, "GET / HTTP/1.1\nHost: a\nX-A: b\0\n\n");                     /* the documented blind spot */
    REGION(400, "GET / HTTP/1.1\r\nHost: a\r\nX-A:\0 b\r\n\r\n");           /* NUL before the value */
    {
        struct mhd_head h;
        struct head_check c;
        static const char folded[] = "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\r\n";
        char elsewhere[8] = "X-A";

        /* MHD copies a folded line's name out of the buffer: a name outside the region */
        mhd_parse(&h, folded, sizeof(folded) - 1);
        head_check_init(&c);
        head_check_region(&c, h.buf, h.len);
        head_check_add(&c, h.name[0], h.name_len[0], h.value[0], h.value_len[0]);
        head_check_add(&c, elsewhere, 3, h.value[1], h.value_len[1]);
        assert_int_equal(head_check_verdict(&c, 0, NULL), 400);
        /* lines out of order are not the layout either */
        head_check_init(&c);
        head_check_region(&c, h.buf, h.len);
        head_check_add(&c, h.name[1], h.name_len[1], h.value[1], h.value_len[1]);
        head_check_add(&c, h.name[0], h.name_len[0], h.value[0], h.value_len[0]);
        assert_int_equal(head_check_verdict(&c, 0, NULL), 400);
        /* a value past the end of the head */
        head_check_init(&c);
        head_check_region(&c, h.buf, (size_t)(h.value[0] - h.buf));
        head_check_add(&c, h.name[0], h.name_len[0], h.value[0], h.value_len[0]);
        assert_int_equal(head_check_verdict(&c, 0, NULL), 400);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_region),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
