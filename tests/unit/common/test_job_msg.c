/*
 * test_job_msg.c - the spec 4.5 queue message (common/job_msg.c): parse
 * refusals and what a bad message still identifies, and encode -> parse round
 * trips (an emoji sent as \u escapes, missing optional fields); the
 * source_sync message of issue 17 (round trip, refusals); job_msg_send's
 * failure codes before the network (no client, a message it cannot encode).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/arena.h"
#include "common/job_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
#define TEN "11111111-2222-4333-8444-555555555555"
#define DOC "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define USR "99999999-8888-4777-8666-555555555555"

static int parse(const char *body, struct job_msg *m, char *err)
{
    struct arena a;
    int rc;

    arena_init(&a);
    rc = job_msg_parse(body, strlen(body), &a, m, err, 256);
    arena_release(&a);   /* strings die here: tests look at the fixed-size ids only */
    return rc;
}

static void test_msg_valid(void **state)
{
    struct arena a;
    struct job_msg m;
    char err[256];
    const char *body = "{\"job_type\":\"upload_ingest\",\"run_id\":\"" RUN "\",\"tenant_id\":\"" TEN
                       "\",\"user_id\":\"" USR "\",\"doc_id\":\"" DOC "\",\"source_uri\":\"upload://sha256:ab\","
                       "\"upload_uri\":\"file:///data/uploads/" TEN "/" RUN "/a.txt\",\"title\":\"T\","
                       "\"received_at\":\"2026-01-01T00:00:00Z\"}";

    (void)state;
    arena_init(&a);
    assert_int_equal(job_msg_parse(body, strlen(body), &a, &m, err, sizeof(err)), 0);
    assert_string_equal(m.run_id, RUN);
    assert_string_equal(m.tenant_id, TEN);
    assert_string_equal(m.doc_id, DOC);
    assert_string_equal(m.user_id, USR);
    assert_string_equal(m.upload_uri, "file:///data/uploads/" TEN "/" RUN "/a.txt");
    assert_string_equal(m.title, "T");
    arena_release(&a);
}

static void test_msg_uppercase_ids_lowered(void **state)
{
    struct job_msg m;
    char err[256];

    (void)state;
    assert_int_equal(parse("{\"job_type\":\"upload_ingest\",\"run_id\":\"3F1C2D4E-5A6B-4C7D-8E9F-0A1B2C3D4E5F\","
                           "\"tenant_id\":\"" TEN "\",\"doc_id\":\"" DOC "\",\"source_uri\":\"s\",\"upload_uri\":\"u\"}",
                           &m, err),
                     0);
    assert_string_equal(m.run_id, RUN);
}

static void test_msg_invalid_keeps_identity(void **state)
{
    struct job_msg m;
    char err[256];

    (void)state;
    /* Wrong job type: invalid, but the run can still be failed. */
    assert_int_equal(parse("{\"job_type\":\"other\",\"run_id\":\"" RUN "\",\"tenant_id\":\"" TEN "\"}", &m, err), -1);
    assert_string_equal(m.run_id, RUN);
    assert_string_equal(m.tenant_id, TEN);
    assert_non_null(strstr(err, "job_type"));
    /* Missing upload_uri. */
    assert_int_equal(parse("{\"job_type\":\"upload_ingest\",\"run_id\":\"" RUN "\",\"tenant_id\":\"" TEN
                           "\",\"doc_id\":\"" DOC "\",\"source_uri\":\"s\"}",
                           &m, err),
                     -1);
    assert_string_equal(m.run_id, RUN);
    assert_non_null(strstr(err, "upload_uri"));
    /* Bad doc_id. */
    assert_int_equal(parse("{\"job_type\":\"upload_ingest\",\"run_id\":\"" RUN "\",\"tenant_id\":\"" TEN
                           "\",\"doc_id\":\"nope\",\"source_uri\":\"s\",\"upload_uri\":\"u\"}",
                           &m, err),
                     -1);
    assert_non_null(strstr(err, "doc_id"));
}

static void test_msg_unidentifiable(void **state)
{
    struct job_msg m;
    char err[256];

    (void)state;
    assert_int_equal(parse("not json", &m, err), -1);
    assert_string_equal(m.run_id, "");
    assert_int_equal(parse("[1,2]", &m, err), -1);
    assert_string_equal(m.run_id, "");
    assert_int_equal(parse("{\"run_id\":\"" RUN "\"}", &m, err), -1);
    /* A run without its tenant cannot be failed safely. */
    assert_string_equal(m.run_id, "");
    assert_int_equal(parse("{\"run_id\":\"" RUN "\",\"tenant_id\":7}", &m, err), -1);
    assert_string_equal(m.run_id, "");
    assert_int_equal(parse("{\"run_id\":\"" RUN "\",\"run_id\":\"" RUN "\",\"tenant_id\":\"" TEN "\"}", &m, err), -1);
    assert_int_equal(parse("", &m, err), -1);
}

static void test_msg_types(void **state)
{
    struct job_msg m;
    char err[256];

    (void)state;
    assert_int_equal(parse("{\"job_type\":\"upload_ingest\",\"run_id\":\"" RUN "\",\"tenant_id\":\"" TEN
                           "\",\"doc_id\":\"" DOC "\",\"source_uri\":\"s\",\"upload_uri\":5}",
                           &m, err),
                     -1);
    assert_int_equal(parse("{\"job_type\":\"upload_ingest\",\"run_id\":\"" RUN "\",\"tenant_id\":\"" TEN
                           "\",\"doc_id\":\"" DOC "\",\"source_uri\":\"\",\"upload_uri\":\"u\"}",
                           &m, err),
                     -1);
    assert_int_equal(parse("{\"job_type\":\"upload_ingest\",\"run_id\":\"" RUN "\",\"tenant_id\":\"" TEN
                           "\",\"doc_id\":\"" DOC "\",\"source_uri\":\"s\",\"upload_uri\":\"a\\u0000b\"}",
                           &m, err),
                     -1);
    /* title null and user_id absent are fine */
    assert_int_equal(parse("{\"job_type\":\"upload_ingest\",\"run_id\":\"" RUN "\",\"tenant_id\":\"" TEN
                           "\",\"doc_id\":\"" DOC "\",\"source_uri\":\"s\",\"upload_uri\":\"u\",\"title\":null}",
                           &m, err),
                     0);
}

/* ---- encode ---- */

static void fill(struct job_msg *m)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->run_id, sizeof(m->run_id), "%s", RUN);
    snprintf(m->tenant_id, sizeof(m->tenant_id), "%s", TEN);
    snprintf(m->user_id, sizeof(m->user_id), "%s", USR);
    snprintf(m->doc_id, sizeof(m->doc_id), "%s", DOC);
    m->source_uri = "upload://sha256:ab";
    m->upload_uri = "file:///data/uploads/" TEN "/" RUN "/notes \xf0\x9f\x93\x9d.txt";
    m->title = "notes \xf0\x9f\x93\x9d \xc3\xa9t\xc3\xa9 \"quoted\"";
    m->received_at = "2026-01-01T00:00:00.000Z";
}

/* Every field of got equals want's (a NULL string of want counts as ""). */
static void assert_same_msg(const struct job_msg *got, const struct job_msg *want)
{
    assert_string_equal(got->run_id, want->run_id);
    assert_string_equal(got->tenant_id, want->tenant_id);
    assert_string_equal(got->user_id, want->user_id);
    assert_string_equal(got->doc_id, want->doc_id);
    assert_string_equal(got->source_uri, want->source_uri ? want->source_uri : "");
    assert_string_equal(got->upload_uri, want->upload_uri ? want->upload_uri : "");
    assert_string_equal(got->title, want->title ? want->title : "");
    assert_string_equal(got->received_at, want->received_at ? want->received_at : "");
}

static void test_encode_exact_keys_in_order(void **state)
{
    struct job_msg m;
    char *text;

    (void)state;
    fill(&m);
    m.title = "T";
    m.upload_uri = "file:///u/a.txt";
    text = job_msg_encode(&m);
    assert_non_null(text);
    assert_string_equal(text, "{\"job_type\":\"upload_ingest\",\"run_id\":\"" RUN "\",\"tenant_id\":\"" TEN
                              "\",\"user_id\":\"" USR "\",\"doc_id\":\"" DOC "\",\"source_uri\":\"upload://sha256:ab\","
                              "\"upload_uri\":\"file:///u/a.txt\",\"title\":\"T\","
                              "\"received_at\":\"2026-01-01T00:00:00.000Z\"}");
    free(text);
}

static void test_encode_is_ascii(void **state)
{
    struct job_msg m;
    char *text;

    (void)state;
    fill(&m);
    text = job_msg_encode(&m);
    assert_non_null(text);
    for (const char *p = text; *p; p++)
        assert_true((unsigned char)*p < 0x80);
    /* U+1F4DD as a UTF-16 surrogate pair, é as \u00E9 */
    assert_non_null(strstr(text, "notes \\uD83D\\uDCDD.txt"));
    assert_non_null(strstr(text, "\\u00E9t\\u00E9 \\\"quoted\\\""));
    free(text);
}

/* A round trip's state: the message sent, its text, and what parsing it gave back. */
struct rt {
    struct job_msg m, back;
    struct arena a;
    char err[256];
    char *text;
};

static int rt_setup(void **state)
{
    struct rt *t = calloc(1, sizeof(*t));

    if (!t)
        return -1;
    fill(&t->m);
    arena_init(&t->a);
    *state = t;
    return 0;
}

static int rt_teardown(void **state)
{
    struct rt *t = *state;

    arena_release(&t->a);
    free(t->text);
    free(t);
    return 0;
}

/* Encode t->m and parse the text back into t->back: the parse's result. */
static int round_trip(struct rt *t)
{
    t->text = job_msg_encode(&t->m);
    assert_non_null(t->text);
    return job_msg_parse(t->text, strlen(t->text), &t->a, &t->back, t->err, sizeof(t->err));
}

static void test_round_trip(void **state)
{
    struct rt *t = *state;

    assert_int_equal(round_trip(t), 0);
    assert_same_msg(&t->back, &t->m);
}

static void test_round_trip_missing_optional(void **state)
{
    struct rt *t = *state;

    t->m.user_id[0] = '\0';
    t->m.title = NULL;
    t->m.received_at = NULL;
    assert_int_equal(round_trip(t), 0);
    /* every key is there; the missing ones are null */
    assert_non_null(strstr(t->text, "\"user_id\":null"));
    assert_non_null(strstr(t->text, "\"title\":null"));
    assert_non_null(strstr(t->text, "\"received_at\":null"));
    assert_string_equal(t->back.user_id, "");
    assert_string_equal(t->back.title, "");
    assert_string_equal(t->back.received_at, "");
    assert_same_msg(&t->back, &t->m);
}

static void test_encode_refuses_what_parse_refuses(void **state)
{
    struct rt *t = *state;

    /* A message without its upload_uri is still sent (the worker fails that run), never a different shape. */
    t->m.upload_uri = NULL;
    assert_int_equal(round_trip(t), -1);
    assert_string_equal(t->back.run_id, RUN);
    assert_string_equal(t->back.tenant_id, TEN);
    assert_non_null(strstr(t->err, "upload_uri"));
    /* Not UTF-8: no message at all. */
    t->m.title = "bad \xff";
    assert_null(job_msg_encode(&t->m));
}

static void test_parse_size_limit(void **state)
{
    struct job_msg m;
    struct arena a;
    char err[256] = "";
    char *big = malloc(JOB_MSG_MAX_BODY + 2);

    (void)state;
    assert_non_null(big);
    memset(big, ' ', JOB_MSG_MAX_BODY + 1);
    big[JOB_MSG_MAX_BODY + 1] = '\0';
    arena_init(&a);
    assert_int_equal(job_msg_parse(big, JOB_MSG_MAX_BODY + 1, &a, &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "larger than"));
    assert_int_equal(job_msg_parse(NULL, 0, &a, &m, err, sizeof(err)), -1);
    assert_string_equal(err, "empty body");
    arena_release(&a);
    free(big);
}

/* A source sync round-trips with its ids; the upload fields stay empty and unsent. */
static void test_sync_round_trip(void **state)
{
    struct arena a;
    struct job_msg m, back;
    char err[256];
    char *text;

    (void)state;
    memset(&m, 0, sizeof(m));
    m.type = JOB_SOURCE_SYNC;
    snprintf(m.sync_id, sizeof(m.sync_id), "%s", RUN);
    snprintf(m.source_id, sizeof(m.source_id), "%s", DOC);
    snprintf(m.tenant_id, sizeof(m.tenant_id), "%s", TEN);
    m.received_at = "2026-01-01T00:00:00Z";
    text = job_msg_encode(&m);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"job_type\":\"source_sync\""));
    assert_null(strstr(text, "upload_uri"));
    arena_init(&a);
    assert_int_equal(job_msg_parse(text, strlen(text), &a, &back, err, sizeof(err)), 0);
    assert_int_equal(back.type, JOB_SOURCE_SYNC);
    assert_string_equal(back.sync_id, RUN);
    assert_string_equal(back.source_id, DOC);
    assert_string_equal(back.tenant_id, TEN);
    assert_string_equal(back.received_at, "2026-01-01T00:00:00Z");
    assert_string_equal(back.run_id, "");
    arena_release(&a);
    free(text);
}

/* A sync message missing an id, or with a bad one, is refused and names no run. */
static void test_sync_refused(void **state)
{
    struct job_msg m;
    char err[256];

    (void)state;
    assert_int_equal(parse("{\"job_type\":\"source_sync\",\"sync_id\":\"" RUN "\",\"tenant_id\":\"" TEN "\"}",
                           &m, err), -1);
    assert_non_null(strstr(err, "source_id"));
    assert_string_equal(m.run_id, "");
    assert_int_equal(parse("{\"job_type\":\"source_sync\",\"sync_id\":\"x\",\"source_id\":\"" DOC
                           "\",\"tenant_id\":\"" TEN "\"}", &m, err), -1);
    assert_non_null(strstr(err, "sync_id"));
}

/* job_msg_send names why nothing was sent: no queue client, or a message that cannot be encoded. */
static void test_send_failure_codes(void **state)
{
    struct job_msg m;
    char code[64] = "";

    (void)state;
    memset(&m, 0, sizeof(m));
    snprintf(m.run_id, sizeof(m.run_id), RUN);
    snprintf(m.tenant_id, sizeof(m.tenant_id), TEN);
    snprintf(m.doc_id, sizeof(m.doc_id), DOC);
    m.source_uri = "s3://b/k";
    m.upload_uri = "s3://b/k";
    m.title = "k";
    assert_int_equal(job_msg_send(NULL, "http://127.0.0.1:1/q", &m, code, sizeof(code)), -1);
    assert_string_equal(code, "no_queue");
    m.title = "\xff\xfe not UTF-8";
    assert_int_equal(job_msg_send(NULL, "http://127.0.0.1:1/q", &m, code, sizeof(code)), -1);
    assert_string_equal(code, "nomem");
    assert_null(m.received_at);   /* m itself is left as it was */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_valid),
        cmocka_unit_test(test_msg_uppercase_ids_lowered),
        cmocka_unit_test(test_msg_invalid_keeps_identity),
        cmocka_unit_test(test_msg_unidentifiable),
        cmocka_unit_test(test_msg_types),
        cmocka_unit_test(test_encode_exact_keys_in_order),
        cmocka_unit_test(test_encode_is_ascii),
        cmocka_unit_test_setup_teardown(test_round_trip, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_missing_optional, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_encode_refuses_what_parse_refuses, rt_setup, rt_teardown),
        cmocka_unit_test(test_parse_size_limit),
        cmocka_unit_test(test_sync_round_trip),
        cmocka_unit_test(test_sync_refused),
        cmocka_unit_test(test_send_failure_codes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
