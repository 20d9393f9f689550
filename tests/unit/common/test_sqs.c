/*
 * test_sqs - the SQS client without a server: arguments refused before any
 * request (with and without a struct sqs_error), and the "transport" error when
 * nothing listens. The protocol itself runs against the emulator in
 * tests/integration/sqs.test.mjs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/sqs.h"

static struct sqs_client *client(void)
{
    /* Port 1 on loopback: nothing listens, so a request fails at once. */
    const struct sqs_config cfg = {"http://127.0.0.1:1", "us-east-1", "key", "secret", 2000};
    struct sqs_client *c = sqs_new(&cfg);

    assert_non_null(c);
    return c;
}

static void expect_invalid(int rc, const struct sqs_error *err, const char *message)
{
    assert_int_equal(rc, -1);
    assert_int_equal(err->http_status, 0);
    assert_string_equal(err->code, "invalid_argument");
    assert_string_equal(err->message, message);
}

static void test_invalid_arguments(void **state)
{
    struct sqs_client *c = client();
    struct sqs_message *msgs = (struct sqs_message *)1;
    struct sqs_error err;
    json_t *attrs = (json_t *)1;
    char url[512];
    int n = 7;

    (void)state;
    expect_invalid(sqs_send(c, NULL, "{}", 0, NULL, 0, &err), &err,
                   "SendMessage: queue url and body are required");
    expect_invalid(sqs_receive(c, "q", 11, 0, -1, &msgs, &n, &err), &err,
                   "ReceiveMessage: need a queue url, max in 1..10 and wait in 0..20 (got 11, 0)");
    assert_null(msgs);
    assert_int_equal(n, 0);
    expect_invalid(sqs_receive(c, "q", 1, 21, -1, &msgs, &n, &err), &err,
                   "ReceiveMessage: need a queue url, max in 1..10 and wait in 0..20 (got 1, 21)");
    expect_invalid(sqs_delete(c, "q", NULL, &err), &err,
                   "DeleteMessage: queue url and receipt handle are required");
    expect_invalid(sqs_change_visibility(c, "q", "rh", -1, &err), &err,
                   "ChangeMessageVisibility: queue url, receipt handle and a timeout >= 0 are required");
    expect_invalid(sqs_get_attributes(c, NULL, NULL, &attrs, &err), &err,
                   "GetQueueAttributes: queue url is required");
    assert_null(attrs);
    expect_invalid(sqs_create_queue(c, NULL, NULL, url, sizeof(url), &err), &err,
                   "CreateQueue: a name is required");
    expect_invalid(sqs_purge(c, NULL, &err), &err, "PurgeQueue: queue url is required");
    sqs_free(&c);
    assert_null(c);
    sqs_free(&c);
    sqs_free(NULL);
}

static void test_null_error_is_allowed(void **state)
{
    struct sqs_client *c = client();
    struct sqs_message *msgs = NULL;
    int n = 0;

    (void)state;
    assert_int_equal(sqs_send(c, "q", NULL, 0, NULL, 0, NULL), -1);
    assert_int_equal(sqs_receive(c, NULL, 1, 0, -1, &msgs, &n, NULL), -1);
    assert_int_equal(sqs_purge(c, "http://127.0.0.1:1/000000000000/q", NULL), -1);
    sqs_free(&c);
}

static void test_transport_error(void **state)
{
    struct sqs_client *c = client();
    struct sqs_message *msgs = NULL;
    struct sqs_error err;
    char id[128] = "unchanged";
    int n = 0;

    (void)state;
    assert_int_equal(sqs_send(c, "http://127.0.0.1:1/000000000000/q", "{}", 0, id, sizeof(id), &err), -1);
    assert_string_equal(err.code, "transport");
    assert_int_equal(err.http_status, 0);
    assert_non_null(strstr(err.message, "SendMessage http://127.0.0.1:1"));
    assert_string_equal(id, "unchanged");
    assert_int_equal(sqs_receive(c, "http://127.0.0.1:1/000000000000/q", 10, 0, 30, &msgs, &n, &err), -1);
    assert_string_equal(err.code, "transport");
    assert_null(msgs);
    assert_int_equal(n, 0);
    sqs_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_null_error_is_allowed),
        cmocka_unit_test(test_transport_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
