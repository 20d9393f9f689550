/*
 * test_versions.c - the Range header parser of a version's content
 * (versions_range_parse, handlers/versions.h): single byte ranges, suffix and
 * open ranges, the headers a server may ignore (several ranges, another unit,
 * garbage) and the unsatisfiable ones that answer 416, numbers past 64 bits.
 */
#include "api/handlers/versions.h"

#include <stdint.h>

#include "fixture.h"

#define U64MAX UINT64_MAX

/* versions_range_parse(in, size): rc, and start/len when rc is 1. */
static const struct {
    const char *in;
    uint64_t size;
    int rc;
    uint64_t start, len;
} cases[] = {
    /* one byte range */
    {"bytes=0-0", 100, 1, 0, 1},
    {"bytes=0-99", 100, 1, 0, 100},
    {"bytes=10-19", 100, 1, 10, 10},
    {"bytes=99-99", 100, 1, 99, 1},
    {"bytes=0-0", 1, 1, 0, 1},
    {"bytes=007-008", 100, 1, 7, 2},
    /* the last byte past the end is cut to the end */
    {"bytes=90-1000", 100, 1, 90, 10},
    {"bytes=0-18446744073709551615", 100, 1, 0, 100},
    {"bytes=5-99999999999999999999999999", 100, 1, 5, 95},
    /* open ranges: to the end */
    {"bytes=0-", 100, 1, 0, 100},
    {"bytes=42-", 100, 1, 42, 58},
    {"bytes=99-", 100, 1, 99, 1},
    /* suffix ranges: the last N bytes, all of them when N is larger */
    {"bytes=-1", 100, 1, 99, 1},
    {"bytes=-10", 100, 1, 90, 10},
    {"bytes=-100", 100, 1, 0, 100},
    {"bytes=-101", 100, 1, 0, 100},
    {"bytes=-99999999999999999999999999", 100, 1, 0, 100},
    /* the unit in any case (RFC 9110 14.1) */
    {"Bytes=1-2", 100, 1, 1, 2},
    {"BYTES=-5", 100, 1, 95, 5},
    /* a file too large for a 32-bit length */
    {"bytes=4294967296-4294967305", 8589934592ULL, 1, 4294967296ULL, 10},
    {"bytes=-1", U64MAX, 1, U64MAX - 1, 1},
    {"bytes=0-", U64MAX, 1, 0, U64MAX},

    /* unsatisfiable: 416 */
    {"bytes=100-", 100, -1, 0, 0},
    {"bytes=100-200", 100, -1, 0, 0},
    {"bytes=1000-2000", 100, -1, 0, 0},
    {"bytes=18446744073709551615-", 100, -1, 0, 0},
    {"bytes=99999999999999999999999999-", 100, -1, 0, 0},
    {"bytes=99999999999999999999999999-5", 100, -1, 0, 0},
    {"bytes=5-3", 100, -1, 0, 0},
    {"bytes=-0", 100, -1, 0, 0},
    {"bytes=-000", 100, -1, 0, 0},
    {"bytes=0-0", 0, -1, 0, 0},
    {"bytes=0-", 0, -1, 0, 0},
    {"bytes=-5", 0, -1, 0, 0},

    /* ignored: the whole file (a server may ignore these, RFC 9110 14.2) */
    {NULL, 100, 0, 0, 0},
    {"", 100, 0, 0, 0},
    {"bytes=", 100, 0, 0, 0},
    {"bytes=-", 100, 0, 0, 0},
    {"bytes=--1", 100, 0, 0, 0},
    {"bytes=1--2", 100, 0, 0, 0},
    {"bytes=0-1,5-6", 100, 0, 0, 0},
    {"bytes=0-1,", 100, 0, 0, 0},
    {"bytes=200-300,400-500", 100, 0, 0, 0},
    {"bytes=1", 100, 0, 0, 0},
    {"bytes=a-b", 100, 0, 0, 0},
    {"bytes=1-2x", 100, 0, 0, 0},
    {"bytes=1-2 ", 100, 0, 0, 0},
    {"bytes= 1-2", 100, 0, 0, 0},
    {"bytes=+1-2", 100, 0, 0, 0},
    {"bytes=1-+2", 100, 0, 0, 0},
    {"bytes=0x10-0x20", 100, 0, 0, 0},
    {"bytes=1.5-2", 100, 0, 0, 0},
    {"bytes 0-1", 100, 0, 0, 0},
    {"byte=0-1", 100, 0, 0, 0},
    {"items=0-1", 100, 0, 0, 0},
    {"bytes=0-1\r\n", 100, 0, 0, 0},
    {"=0-1", 100, 0, 0, 0},
};

static void range_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t start = 777, len = 888;
        int rc = versions_range_parse(cases[i].in, cases[i].size, &start, &len);

        if (rc != cases[i].rc)
            fail_msg("\"%s\" of %llu bytes: rc %d, not %d", cases[i].in ? cases[i].in : "(null)",
                     (unsigned long long)cases[i].size, rc, cases[i].rc);
        if (rc == 1 && (start != cases[i].start || len != cases[i].len))
            fail_msg("\"%s\" of %llu bytes: %llu+%llu, not %llu+%llu", cases[i].in,
                     (unsigned long long)cases[i].size, (unsigned long long)start, (unsigned long long)len,
                     (unsigned long long)cases[i].start, (unsigned long long)cases[i].len);
        if (rc != 1 && (start != 777 || len != 888))
            fail_msg("\"%s\": rc %d but the outputs were written", cases[i].in ? cases[i].in : "(null)", rc);
    }
}

/* Every range of a small file, written out: the answer lies inside the file. */
static void every_small_range_stays_inside(void **state)
{
    char h[64];

    (void)state;
    for (uint64_t size = 0; size <= 12; size++) {
        for (uint64_t a = 0; a <= 14; a++) {
            for (uint64_t b = 0; b <= 14; b++) {
                uint64_t start, len;
                int rc;

                snprintf(h, sizeof(h), "bytes=%llu-%llu", (unsigned long long)a, (unsigned long long)b);
                rc = versions_range_parse(h, size, &start, &len);
                assert_int_equal(rc, a >= size || b < a ? -1 : 1);
                if (rc == 1) {
                    assert_int_equal(start, a);
                    assert_int_equal(len, (b < size ? b : size - 1) - a + 1);
                    assert_true(len >= 1 && start + len <= size);
                }
            }
            snprintf(h, sizeof(h), "bytes=-%llu", (unsigned long long)a);
            {
                uint64_t start, len;
                int rc = versions_range_parse(h, size, &start, &len);

                assert_int_equal(rc, a == 0 || size == 0 ? -1 : 1);
                if (rc == 1) {
                    assert_int_equal(len, a < size ? a : size);
                    assert_int_equal(start + len, size);
                }
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(range_cases),
        cmocka_unit_test(every_small_range_stays_inside),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
