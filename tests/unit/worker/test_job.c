/* Unit tests of the worker's pure logic: message validation, upload_uri checks, COPY escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/arena.h"
#include "common/buf.h"
#include "worker/job.h"
#include "worker/pipeline.h"
#include "worker/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- upload_uri -> path ---- */

static char g_dir[256];

static int setup_dir(void **state)
{
    char path[512];
    FILE *f;

    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/test_job_XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    snprintf(path, sizeof(path), "%s/" TEN, g_dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/" TEN "/" RUN, g_dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/" TEN "/" RUN "/my file.txt", g_dir);
    f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("hello", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/other", g_dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/other/secret.txt", g_dir);
    f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("x", f);
    fclose(f);
    {
        char link[512];

        snprintf(link, sizeof(link), "%s/" TEN "/" RUN "/link.txt", g_dir);
        if (symlink(path, link) != 0)
            return -1;
    }
    return 0;
}

static int teardown_dir(void **state)
{
    char cmd[600];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* uri_fmt with "%s" replaced by the test folder */
static enum run_fail up(const char *uri_fmt, char *out)
{
    char uri[1024], err[256];
    const char *at = strstr(uri_fmt, "%s");

    snprintf(uri, sizeof(uri), "%.*s%s%s", (int)(at - uri_fmt), uri_fmt, g_dir, at + 2);
    return job_upload_path(uri, g_dir, TEN, out, 1024, err, sizeof(err));
}

static void test_upload_path(void **state)
{
    char out[1024], want[1024];

    (void)state;
    snprintf(want, sizeof(want), "%s/" TEN "/" RUN "/my file.txt", g_dir);
    assert_int_equal(up("file://%s/" TEN "/" RUN "/my file.txt", out), RUN_OK);
    assert_string_equal(out, want);
    /* percent-encoded form */
    assert_int_equal(up("file://%s/" TEN "/" RUN "/my%20file.txt", out), RUN_OK);
    assert_string_equal(out, want);
    /* file://localhost/ */
    assert_int_equal(up("file://localhost%s/" TEN "/" RUN "/my file.txt", out), RUN_OK);
    /* missing inside the folder */
    assert_int_equal(up("file://%s/" TEN "/" RUN "/gone.txt", out), RUN_FAIL_UPLOAD_MISSING);
    /* a directory is not an upload */
    assert_int_equal(up("file://%s/" TEN "/" RUN, out), RUN_FAIL_UPLOAD_MISSING);
    /* escapes */
    assert_int_equal(up("file://%s/" TEN "/../other/secret.txt", out), RUN_FAIL_INVALID_MESSAGE);
    assert_int_equal(up("file://%s/other/secret.txt", out), RUN_FAIL_INVALID_MESSAGE);
    assert_int_equal(up("file://%s/" TEN "/" RUN "/link.txt", out), RUN_FAIL_INVALID_MESSAGE);
    assert_int_equal(up("file://%s/" TEN "/../other/gone.txt", out), RUN_FAIL_INVALID_MESSAGE);
    assert_int_equal(up("file:///etc/passwd%s", out), RUN_FAIL_INVALID_MESSAGE);
    /* not file:// */
    assert_int_equal(up("s3://bucket%s/key", out), RUN_FAIL_INVALID_MESSAGE);
    assert_int_equal(up("file://host%s/x", out), RUN_FAIL_INVALID_MESSAGE);
    assert_int_equal(up("%s/" TEN "/" RUN "/my file.txt", out), RUN_FAIL_INVALID_MESSAGE);
    {
        char err[256];

        assert_int_equal(job_upload_path(NULL, g_dir, TEN, out, 1024, err, sizeof(err)), RUN_FAIL_INVALID_MESSAGE);
    }
}

/* ---- COPY ---- */

static void test_copy_escape(void **state)
{
    struct buf b;
    static const char in[] = "a\tb\nc\\d\re\0f";

    (void)state;
    buf_init(&b, 1024);
    assert_int_equal(store_copy_escape(&b, in, sizeof(in) - 1), 0);
    assert_string_equal(b.ptr, "a\\tb\\nc\\\\d\\ref");
    buf_reset(&b);
    assert_int_equal(store_copy_escape(&b, "", 0), 0);
    assert_string_equal(b.ptr, "");
    buf_reset(&b);
    assert_int_equal(store_copy_escape(&b, "plain \xc3\xa9", 8), 0);
    assert_string_equal(b.ptr, "plain \xc3\xa9");
    buf_reset(&b);
    /* \N in text must stay text: the backslash is doubled */
    assert_int_equal(store_copy_escape(&b, "\\N", 2), 0);
    assert_string_equal(b.ptr, "\\\\N");
    buf_release(&b);

    /* the max is enforced */
    buf_init(&b, 4);
    assert_int_equal(store_copy_escape(&b, "\\\\\\", 3), -1);
    buf_release(&b);
}

static void test_vector_literal(void **state)
{
    struct buf b;
    float v[4] = {0.5f, -0.25f, 0.0f, 1e-5f};
    float bad[2] = {0.0f, 0.0f};

    (void)state;
    bad[0] = 1.0f / bad[1];   /* inf */
    buf_init(&b, 1024);
    assert_int_equal(store_vector_literal(&b, v, 4), 0);
    assert_string_equal(b.ptr, "{0.5,-0.25,0,9.99999975e-06}");
    buf_reset(&b);
    assert_int_equal(store_vector_literal(&b, bad, 2), 0);
    assert_string_equal(b.ptr, "{0,0}");
    buf_release(&b);
}

static void test_retry_policy(void **state)
{
    char text[64];

    (void)state;
    assert_true(run_fail_transient(RUN_FAIL_EXTRACT_FAILED));
    assert_true(run_fail_transient(RUN_FAIL_TIMEOUT));
    assert_true(run_fail_transient(RUN_FAIL_EMBED_FAILED));
    assert_false(run_fail_transient(RUN_FAIL_UNSUPPORTED_TYPE));
    assert_false(run_fail_transient(RUN_FAIL_TOO_LARGE));
    assert_false(run_fail_transient(RUN_FAIL_UPLOAD_MISSING));
    assert_false(run_fail_transient(RUN_FAIL_INVALID_MESSAGE));
    assert_int_equal(pipeline_backoff_s(1, 60000), 2);
    assert_int_equal(pipeline_backoff_s(2, 60000), 4);
    assert_int_equal(pipeline_backoff_s(9, 60000), 60);
    assert_int_equal(pipeline_backoff_s(0, 500), 1);
    job_error_text(RUN_FAIL_EXTRACT_FAILED, "pdftotext\nexit 1", text, sizeof(text));
    assert_string_equal(text, "extract_failed: pdftotext exit 1");
    job_error_text(RUN_FAIL_TOO_LARGE, NULL, text, sizeof(text));
    assert_string_equal(text, "too_large: no detail");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_valid),
        cmocka_unit_test(test_msg_uppercase_ids_lowered),
        cmocka_unit_test(test_msg_invalid_keeps_identity),
        cmocka_unit_test(test_msg_unidentifiable),
        cmocka_unit_test(test_msg_types),
        cmocka_unit_test_setup_teardown(test_upload_path, setup_dir, teardown_dir),
        cmocka_unit_test(test_copy_escape),
        cmocka_unit_test(test_vector_literal),
        cmocka_unit_test(test_retry_policy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
