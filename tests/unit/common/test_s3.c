/*
 * test_s3.c - the S3 client's pure parts (common/s3.c): the ListObjectsV2
 * answer parser (keys, quoted ETags, sizes, truncation and its token, refusals)
 * and the s3:// URI helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/s3.h"

#include <stdlib.h>
#include <string.h>

static const char page_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
    "<IsTruncated>true</IsTruncated><NextContinuationToken>tok+/=</NextContinuationToken>"
    "<Contents><Key>p/a b\xc3\xa9.txt</Key><Size>5</Size><ETag>&quot;5d41&quot;</ETag>"
    "<LastModified>2026-12-03T06:48:16.132Z</LastModified></Contents>"
    "<Contents><Key>p/c.txt</Key><Size>12345678901</Size><ETag>\"abc-2\"</ETag>"
    "<LastModified>2026-12-03T06:48:17.000Z</LastModified></Contents></ListBucketResult>";

static void test_parse_page(void **state)
{
    struct s3_page p;
    struct s3_error e;

    (void)state;
    assert_int_equal(s3_parse_list(page_xml, strlen(page_xml), &p, &e), 0);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.objects[0].key, "p/a b\xc3\xa9.txt");
    assert_string_equal(p.objects[0].etag, "5d41");
    assert_int_equal(p.objects[0].size, 5);
    assert_string_equal(p.objects[0].last_modified, "2026-12-03T06:48:16.132Z");
    assert_string_equal(p.objects[1].etag, "abc-2");
    assert_true(p.objects[1].size == 12345678901LL);
    assert_true(p.truncated);
    assert_string_equal(p.next_token, "tok+/=");
    s3_page_release(&p);
}

static void test_parse_refusals(void **state)
{
    static const char *const bad[] = {
        "<Error><Code>NoSuchBucket</Code></Error>",
        "not xml at all",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",   /* truncated, no token */
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>", /* no key */
    };
    struct s3_page p;
    struct s3_error e;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(s3_parse_list(bad[i], strlen(bad[i]), &p, &e), -1);
        assert_int_equal(p.n, 0);
        assert_null(p.objects);
        assert_true(e.code[0] != '\0');
    }
    assert_int_equal(s3_parse_list("", 0, &p, &e), -1);
}

static void test_empty_listing(void **state)
{
    static const char xml[] = "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>";
    struct s3_page p;
    struct s3_error e;

    (void)state;
    assert_int_equal(s3_parse_list(xml, strlen(xml), &p, &e), 0);
    assert_int_equal(p.n, 0);
    assert_false(p.truncated);
    s3_page_release(&p);
}

static void test_uri(void **state)
{
    char bucket[64];
    const char *key;
    char *u;

    (void)state;
    assert_int_equal(s3_uri_split("s3://bkt/a/b c.txt", bucket, sizeof(bucket), &key), 0);
    assert_string_equal(bucket, "bkt");
    assert_string_equal(key, "a/b c.txt");
    assert_int_equal(s3_uri_split("s3://bkt/", bucket, sizeof(bucket), &key), -1);
    assert_int_equal(s3_uri_split("s3:///k", bucket, sizeof(bucket), &key), -1);
    assert_int_equal(s3_uri_split("file:///x", bucket, sizeof(bucket), &key), -1);
    assert_int_equal(s3_uri_split("s3://bkt", bucket, sizeof(bucket), &key), -1);
    u = s3_uri("bkt", "a/b c.txt");
    assert_string_equal(u, "s3://bkt/a/b c.txt");
    free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_page),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_empty_listing),
        cmocka_unit_test(test_uri),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
