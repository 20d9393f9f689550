/*
 * text.c - plain text and light Markdown cleanup (text.h), line by line.
 */
#include "worker/extract/text.h"
#include "common/errors.h"
#include "worker/extract/extract.h"

#include <stdio.h>
#include <string.h>

static enum run_fail add(struct buf *out, const char *p, size_t n, char *detail, size_t dlen)
{
    enum run_fail rc = extract_put(out, p, n);

    if (rc == RUN_FAIL_TOO_LARGE)
        snprintf(detail, dlen, "text over the limit");
    else if (rc != RUN_OK)
        snprintf(detail, dlen, "out of memory");
    return rc;
}

/* A line made only of c (at least 2 of them, blanks around allowed). */
static int rule_of(const char *s, size_t n, char c)
{
    size_t i, cnt = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == c)
            cnt++;
        else if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    }
    return cnt >= 2;
}

static int fence(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && i < 3 && s[i] == ' ')
        i++;
    return n - i >= 3 && (memcmp(s + i, "```", 3) == 0 || memcmp(s + i, "~~~", 3) == 0);
}

enum run_fail extract_text_buffer(const char *p, size_t n, unsigned flags, struct buf *out, char *detail,
                                  size_t detail_len)
{
    size_t i = 0;
    enum run_fail rc = RUN_OK;
    int prev_text = 0, in_code = 0;

    if (!(flags & EXTRACT_TEXT_MARKDOWN))
        return add(out, p, n, detail, detail_len);
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < n && rc == RUN_OK) {
        const char *nl = memchr(p + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - p) : n, s = i, len;

        len = end - s;
        if (fence(p + s, len)) {
            in_code = !in_code;
            prev_text = 0;
        } else if (!in_code && prev_text && (rule_of(p + s, len, '=') || rule_of(p + s, len, '-'))) {
            /* setext underline: the heading text above is kept */
            prev_text = 0;
        } else {
            size_t k = s;

            if (!in_code) {
                size_t h = s;

                while (h < end && h - s < 3 && p[h] == ' ')
                    h++;
                if (h < end && p[h] == '#') {
                    size_t m = h;

                    while (m < end && p[m] == '#')
                        m++;
                    if (m - h <= 6 && (m == end || p[m] == ' ' || p[m] == '\t')) {
                        k = m;
                        while (k < end && (p[k] == ' ' || p[k] == '\t'))
                            k++;
                        /* closing hashes: "## Title ##" */
                        while (end > k && (p[end - 1] == ' ' || p[end - 1] == '\t' ||
                                           p[end - 1] == '\r'))
                            end--;
                        while (end > k && p[end - 1] == '#')
                            end--;
                        while (end > k && (p[end - 1] == ' ' || p[end - 1] == '\t'))
                            end--;
                    }
                }
            }
            rc = add(out, p + k, end - k, detail, detail_len);
            prev_text = end > k;
        }
        if (rc == RUN_OK && nl)
            rc = add(out, "\n", 1, detail, detail_len);
        i = nl ? (size_t)(nl - p) + 1 : n;
    }
    return rc;
}
