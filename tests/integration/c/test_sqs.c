/*
 * test_sqs - the SQS client (src/common/sqs.c) against a live SQS-compatible
 * service, normally the fauxqs emulator started by tests/integration/sqs.test.mjs.
 *
 * Env: TEST_SQS_ENDPOINT, TEST_SQS_QUEUE_URL, TEST_SQS_DLQ_URL (the pair made by
 * startSqs() with maxReceiveCount 3). Region us-east-1, keys "test"/"test".
 * Tests that need a quiet queue create their own with sqs_create_queue, so
 * they never see each other's messages.
 */
#include "common/sqs.h"
#include "../../support/net.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define MAX_RECEIVE_COUNT 3

static const char *g_endpoint;
static const char *g_queue_url;
static const char *g_dlq_url;

static struct sqs_client *client_for(const char *endpoint)
{
    struct sqs_config cfg = {
        .endpoint = endpoint,
        .region = "us-east-1",
        .access_key_id = "test",
        .secret_access_key = "test",
        .timeout_ms = 5000,
    };
    struct sqs_client *c = sqs_new(&cfg);

    assert_non_null(c);
    return c;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail_err(const char *what, const struct sqs_error *e)
{
    print_error("%s failed: http %ld code '%s' message '%s'\n", what, e->http_status, e->code,
                e->message);
    fail();
}

#define CHECK_OK(call, what, err)       \
    do {                                \
        if ((call) != 0)                \
            fail_err((what), &(err));   \
    } while (0)

/* A queue of our own, named after the test and this process. */
static void make_queue(struct sqs_client *c, const char *tag, json_t *attrs, char *url, size_t len)
{
    char name[80];
    struct sqs_error err;

    snprintf(name, sizeof(name), "t-%ld-%s", (long)getpid(), tag);
    CHECK_OK(sqs_create_queue(c, name, attrs, url, len, &err), "create_queue", err);
    assert_true(strlen(url) > 0);
}

static int count_messages(struct sqs_client *c, const char *url)
{
    static const char *const names[] = {"ApproximateNumberOfMessages", NULL};
    struct sqs_error err;
    json_t *attrs = NULL;
    const char *v;
    int n;

    CHECK_OK(sqs_get_attributes(c, url, names, &attrs, &err), "get_attributes", err);
    v = json_string_value(json_object_get(attrs, "ApproximateNumberOfMessages"));
    assert_non_null(v);
    n = (int)strtol(v, NULL, 10);
    json_decref(attrs);
    return n;
}

static void test_round_trip(void **state)
{
    /*
     * JSON, quotes, backslashes, newlines and multi-byte UTF-8 must survive.
     * Characters beyond U+FFFF go as \u escapes: fauxqs 1.9.2 refuses them raw
     * (InvalidMessageContents) although SQS accepts them, so producers encode
     * message JSON with JSON_ENSURE_ASCII.
     */
    static const char body[] =
        "{\"run_id\":\"0b7c\",\"note\":\"quote \\\" backslash \\\\ tab\\t\","
        "\"utf8\":\"\xc3\xa9\xe2\x98\x83 \\ud83d\\udcc4\"}\nsecond line";
    struct sqs_client *c = client_for(g_endpoint);
    struct sqs_error err;
    struct sqs_message *msgs = NULL;
    char url[512], id[128];
    int n = -1;

    (void)state;
    make_queue(c, "roundtrip", NULL, url, sizeof(url));
    CHECK_OK(sqs_send(c, url, body, 0, id, sizeof(id), &err), "send", err);
    assert_true(strlen(id) > 0);
    assert_int_equal(count_messages(c, url), 1);

    CHECK_OK(sqs_receive(c, url, 10, 1, 30, &msgs, &n, &err), "receive", err);
    assert_int_equal(n, 1);
    assert_string_equal(msgs[0].body, body);
    assert_string_equal(msgs[0].message_id, id);
    assert_int_equal(msgs[0].receive_count, 1);
    assert_non_null(msgs[0].receipt_handle);

    CHECK_OK(sqs_delete(c, url, msgs[0].receipt_handle, &err), "delete", err);
    sqs_messages_free(msgs, n);

    /* Deleted means gone, even after its visibility would have ended. */
    CHECK_OK(sqs_receive(c, url, 10, 0, -1, &msgs, &n, &err), "receive after delete", err);
    assert_int_equal(n, 0);
    assert_null(msgs);
    assert_int_equal(count_messages(c, url), 0);
    sqs_free(&c);
    assert_null(c);
}

static void test_long_poll_empty_waits(void **state)
{
    struct sqs_client *c = client_for(g_endpoint);
    struct sqs_error err;
    struct sqs_message *msgs = NULL;
    char url[512];
    double t0, dt;
    int n = -1;

    (void)state;
    make_queue(c, "emptypoll", NULL, url, sizeof(url));
    t0 = now_s();
    CHECK_OK(sqs_receive(c, url, 1, 5, -1, &msgs, &n, &err), "long poll", err);
    dt = now_s() - t0;
    print_message("empty long poll of 5 s returned after %.2f s\n", dt);
    assert_int_equal(n, 0);
    assert_true(dt >= 4.0);
    assert_true(dt < 5.0 + 5.0);    /* wait + the client's own timeout */
    sqs_free(&c);
}

struct delayed_send {
    const char *url;
    int rc;
    struct sqs_error err;
};

static void *send_later(void *arg)
{
    struct delayed_send *d = arg;
    struct sqs_config cfg = {
        .endpoint = g_endpoint, .region = "us-east-1",
        .access_key_id = "test", .secret_access_key = "test",
    };
    /* A client belongs to one thread: this thread gets its own. */
    struct sqs_client *c = sqs_new(&cfg);

    sleep(1);
    d->rc = c ? sqs_send(c, d->url, "wake up", 0, NULL, 0, &d->err) : -1;
    sqs_free(&c);
    return NULL;
}

static void test_long_poll_wakes_on_send(void **state)
{
    struct sqs_client *c = client_for(g_endpoint);
    struct sqs_error err;
    struct sqs_message *msgs = NULL;
    struct delayed_send d;
    pthread_t th;
    char url[512];
    double t0, dt;
    int n = -1;

    (void)state;
    make_queue(c, "wakepoll", NULL, url, sizeof(url));
    memset(&d, 0, sizeof(d));
    d.url = url;
    assert_int_equal(pthread_create(&th, NULL, send_later, &d), 0);
    t0 = now_s();
    CHECK_OK(sqs_receive(c, url, 1, 5, 30, &msgs, &n, &err), "long poll", err);
    dt = now_s() - t0;
    assert_int_equal(pthread_join(th, NULL), 0);
    if (d.rc != 0)
        fail_err("delayed send", &d.err);
    print_message("long poll woke after %.2f s (send at 1 s)\n", dt);
    assert_int_equal(n, 1);
    assert_string_equal(msgs[0].body, "wake up");
    assert_true(dt >= 0.8);
    assert_true(dt < 3.0);
    CHECK_OK(sqs_delete(c, url, msgs[0].receipt_handle, &err), "delete", err);
    sqs_messages_free(msgs, n);
    sqs_free(&c);
}

static void test_visibility_timeout_redelivers(void **state)
{
    struct sqs_client *c = client_for(g_endpoint);
    struct sqs_error err;
    struct sqs_message *msgs = NULL;
    char url[512];
    int n = -1;

    (void)state;
    make_queue(c, "visibility", NULL, url, sizeof(url));
    CHECK_OK(sqs_send(c, url, "again", 0, NULL, 0, &err), "send", err);

    CHECK_OK(sqs_receive(c, url, 1, 0, 1, &msgs, &n, &err), "first receive", err);
    assert_int_equal(n, 1);
    assert_int_equal(msgs[0].receive_count, 1);
    sqs_messages_free(msgs, n);

    /* Invisible for now... */
    CHECK_OK(sqs_receive(c, url, 1, 0, -1, &msgs, &n, &err), "receive while invisible", err);
    assert_int_equal(n, 0);

    /* ...and back once the 1 s visibility ends. */
    CHECK_OK(sqs_receive(c, url, 1, 5, 30, &msgs, &n, &err), "receive after timeout", err);
    assert_int_equal(n, 1);
    assert_string_equal(msgs[0].body, "again");
    assert_int_equal(msgs[0].receive_count, 2);
    CHECK_OK(sqs_delete(c, url, msgs[0].receipt_handle, &err), "delete", err);
    sqs_messages_free(msgs, n);
    sqs_free(&c);
}

static void test_change_visibility(void **state)
{
    struct sqs_client *c = client_for(g_endpoint);
    struct sqs_error err;
    struct sqs_message *msgs = NULL, *again = NULL;
    char url[512];
    int n = -1, m = -1;

    (void)state;
    make_queue(c, "changevis", NULL, url, sizeof(url));
    CHECK_OK(sqs_send(c, url, "extend me", 0, NULL, 0, &err), "send", err);

    /* Extending: received for 1 s, extended to 30 s, still hidden after 2 s. */
    CHECK_OK(sqs_receive(c, url, 1, 0, 1, &msgs, &n, &err), "receive", err);
    assert_int_equal(n, 1);
    CHECK_OK(sqs_change_visibility(c, url, msgs[0].receipt_handle, 30, &err), "extend", err);
    sleep(2);
    CHECK_OK(sqs_receive(c, url, 1, 0, -1, &again, &m, &err), "receive after extend", err);
    assert_int_equal(m, 0);

    /* Releasing: visibility 0 makes it available at once. */
    CHECK_OK(sqs_change_visibility(c, url, msgs[0].receipt_handle, 0, &err), "release", err);
    sqs_messages_free(msgs, n);
    CHECK_OK(sqs_receive(c, url, 1, 2, 30, &msgs, &n, &err), "receive after release", err);
    assert_int_equal(n, 1);
    assert_string_equal(msgs[0].body, "extend me");
    assert_int_equal(msgs[0].receive_count, 2);

    /* A receipt handle the queue never issued is refused with an SQS error. */
    assert_int_equal(sqs_change_visibility(c, url, "not-a-receipt-handle", 10, &err), -1);
    print_message("bogus receipt handle: http %ld code %s\n", err.http_status, err.code);
    assert_true(err.http_status >= 400);
    assert_string_not_equal(err.code, "transport");
    assert_true(strlen(err.code) > 0);

    CHECK_OK(sqs_delete(c, url, msgs[0].receipt_handle, &err), "delete", err);
    sqs_messages_free(msgs, n);
    sqs_free(&c);
}

/* startSqs() must have wired the main queue to the DLQ with maxReceiveCount 3. */
static void test_redrive_policy_configured(void **state)
{
    static const char *const dlq_names[] = {"QueueArn", NULL};
    struct sqs_client *c = client_for(g_endpoint);
    struct sqs_error err;
    json_t *attrs = NULL, *dlq_attrs = NULL, *policy;
    const char *rp, *dlq_arn;

    (void)state;
    CHECK_OK(sqs_get_attributes(c, g_queue_url, NULL, &attrs, &err), "get_attributes All", err);
    CHECK_OK(sqs_get_attributes(c, g_dlq_url, dlq_names, &dlq_attrs, &err), "get DLQ arn", err);
    rp = json_string_value(json_object_get(attrs, "RedrivePolicy"));
    dlq_arn = json_string_value(json_object_get(dlq_attrs, "QueueArn"));
    assert_non_null(rp);
    assert_non_null(dlq_arn);
    policy = json_loads(rp, 0, NULL);
    assert_non_null(policy);
    assert_string_equal(json_string_value(json_object_get(policy, "deadLetterTargetArn")), dlq_arn);
    /* maxReceiveCount may come back as a number or a string. */
    {
        json_t *mrc = json_object_get(policy, "maxReceiveCount");
        long v = json_is_string(mrc) ? strtol(json_string_value(mrc), NULL, 10)
                                     : (long)json_integer_value(mrc);
        assert_int_equal(v, MAX_RECEIVE_COUNT);
    }
    json_decref(policy);
    json_decref(attrs);
    json_decref(dlq_attrs);
    sqs_free(&c);
}

/*
 * A message received maxReceiveCount times and never deleted moves to the DLQ
 * on the next attempt. Runs on the env pair (the real configuration) after a
 * purge, and on a pair of its own made with sqs_create_queue.
 */
static void check_dead_letter(struct sqs_client *c, const char *url, const char *dlq_url)
{
    struct sqs_error err;
    struct sqs_message *msgs = NULL;
    char id[128];
    int n = -1, i, tries;

    CHECK_OK(sqs_send(c, url, "poison", 0, id, sizeof(id), &err), "send", err);
    for (i = 1; i <= MAX_RECEIVE_COUNT; i++) {
        /* Visibility 0: back in the queue at once, as if the worker died. */
        CHECK_OK(sqs_receive(c, url, 1, 2, 0, &msgs, &n, &err), "receive", err);
        assert_int_equal(n, 1);
        assert_int_equal(msgs[0].receive_count, i);
        sqs_messages_free(msgs, n);
    }
    /* The next receive finds it over the limit: it goes to the DLQ, not to us. */
    CHECK_OK(sqs_receive(c, url, 1, 1, 0, &msgs, &n, &err), "receive over limit", err);
    assert_int_equal(n, 0);

    for (tries = 0; tries < 20 && count_messages(c, dlq_url) == 0; tries++)
        usleep(100 * 1000);
    assert_int_equal(count_messages(c, dlq_url), 1);
    assert_int_equal(count_messages(c, url), 0);

    CHECK_OK(sqs_receive(c, dlq_url, 10, 1, 30, &msgs, &n, &err), "receive from DLQ", err);
    assert_int_equal(n, 1);
    assert_string_equal(msgs[0].body, "poison");
    assert_string_equal(msgs[0].message_id, id);
    assert_true(msgs[0].receive_count > MAX_RECEIVE_COUNT);
    CHECK_OK(sqs_delete(c, dlq_url, msgs[0].receipt_handle, &err), "delete from DLQ", err);
    sqs_messages_free(msgs, n);
}

static void test_dead_letter_env_pair(void **state)
{
    struct sqs_client *c = client_for(g_endpoint);
    struct sqs_error err;

    (void)state;
    CHECK_OK(sqs_purge(c, g_queue_url, &err), "purge", err);
    CHECK_OK(sqs_purge(c, g_dlq_url, &err), "purge DLQ", err);
    check_dead_letter(c, g_queue_url, g_dlq_url);
    sqs_free(&c);
}

static void test_dead_letter_own_pair(void **state)
{
    static const char *const arn_name[] = {"QueueArn", NULL};
    struct sqs_client *c = client_for(g_endpoint);
    struct sqs_error err;
    json_t *attrs = NULL, *qattrs;
    char dlq[512], url[512], *policy;

    (void)state;
    make_queue(c, "own-dlq", NULL, dlq, sizeof(dlq));
    CHECK_OK(sqs_get_attributes(c, dlq, arn_name, &attrs, &err), "get DLQ arn", err);
    policy = NULL;
    assert_true(asprintf(&policy, "{\"deadLetterTargetArn\":\"%s\",\"maxReceiveCount\":\"%d\"}",
                         json_string_value(json_object_get(attrs, "QueueArn")),
                         MAX_RECEIVE_COUNT) > 0);
    qattrs = json_pack("{s:s, s:s}", "RedrivePolicy", policy, "VisibilityTimeout", "30");
    assert_non_null(qattrs);
    make_queue(c, "own-main", qattrs, url, sizeof(url));
    check_dead_letter(c, url, dlq);
    json_decref(qattrs);
    json_decref(attrs);
    free(policy);
    sqs_free(&c);
}

static void test_bad_queue_url(void **state)
{
    struct sqs_client *c = client_for(g_endpoint);
    struct sqs_error err;
    struct sqs_message *msgs = NULL;
    char url[600];
    int n = -1;

    (void)state;
    snprintf(url, sizeof(url), "%s/000000000000/no-such-queue-%ld", g_endpoint, (long)getpid());
    assert_int_equal(sqs_send(c, url, "x", 0, NULL, 0, &err), -1);
    print_message("bad queue url: http %ld code '%s' message '%s'\n", err.http_status, err.code,
                  err.message);
    assert_true(err.http_status >= 400 && err.http_status < 500);
    assert_true(strlen(err.code) > 0);
    assert_string_not_equal(err.code, "transport");
    assert_null(strchr(err.code, '#'));

    assert_int_equal(sqs_receive(c, url, 1, 0, -1, &msgs, &n, &err), -1);
    assert_null(msgs);
    assert_int_equal(n, 0);
    assert_string_not_equal(err.code, "transport");
    sqs_free(&c);
}

static void test_unreachable_endpoint(void **state)
{
    char endpoint[64];
    struct sqs_client *c;
    struct sqs_error err;
    unsigned short port;

    (void)state;
    /* A port that was free a moment ago and now has no listener. */
    assert_int_equal(net_closed_port(&port), 0);
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%u", (unsigned)port);

    c = client_for(endpoint);
    assert_int_equal(sqs_send(c, g_queue_url, "x", 0, NULL, 0, &err), -1);
    print_message("closed port: code '%s' message '%s'\n", err.code, err.message);
    assert_string_equal(err.code, "transport");
    assert_int_equal(err.http_status, 0);
    assert_true(strlen(err.message) > 0);
    /* err may be NULL: the call still fails cleanly. */
    assert_int_equal(sqs_purge(c, g_queue_url, NULL), -1);
    sqs_free(&c);
}

static void test_argument_checks(void **state)
{
    struct sqs_client *c = client_for(g_endpoint);
    struct sqs_error err;
    struct sqs_message *msgs = NULL;
    int n = -1;

    (void)state;
    assert_int_equal(sqs_receive(c, g_queue_url, 11, 0, -1, &msgs, &n, &err), -1);
    assert_string_equal(err.code, "invalid_argument");
    assert_int_equal(sqs_receive(c, g_queue_url, 1, 21, -1, &msgs, &n, &err), -1);
    assert_string_equal(err.code, "invalid_argument");
    sqs_free(&c);
    sqs_free(&c);    /* NULL-safe */
    sqs_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_long_poll_empty_waits),
        cmocka_unit_test(test_long_poll_wakes_on_send),
        cmocka_unit_test(test_visibility_timeout_redelivers),
        cmocka_unit_test(test_change_visibility),
        cmocka_unit_test(test_redrive_policy_configured),
        cmocka_unit_test(test_dead_letter_env_pair),
        cmocka_unit_test(test_dead_letter_own_pair),
        cmocka_unit_test(test_bad_queue_url),
        cmocka_unit_test(test_unreachable_endpoint),
        cmocka_unit_test(test_argument_checks),
    };

    g_endpoint = getenv("TEST_SQS_ENDPOINT");
    g_queue_url = getenv("TEST_SQS_QUEUE_URL");
    g_dlq_url = getenv("TEST_SQS_DLQ_URL");
    if (!g_endpoint || !*g_endpoint || !g_queue_url || !*g_queue_url || !g_dlq_url || !*g_dlq_url) {
        fprintf(stderr, "test_sqs: set TEST_SQS_ENDPOINT, TEST_SQS_QUEUE_URL and TEST_SQS_DLQ_URL "
                        "(tests/integration/sqs.test.mjs does)\n");
        return 2;
    }
    return cmocka_run_group_tests_name("sqs", tests, NULL, NULL);
}
