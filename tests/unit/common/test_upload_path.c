/*
 * test_upload_path.c - the upload folder layout (common/upload_path.c): the
 * path builders, and upload_uri -> path with the inside-the-tenant-folder
 * check (symlinks, "..", other tenants, percent-encoding, file://localhost).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/upload_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUN "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
#define TEN "11111111-2222-4333-8444-555555555555"

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
    return upload_path_resolve(uri, g_dir, TEN, out, 1024, err, sizeof(err));
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

        assert_int_equal(upload_path_resolve(NULL, g_dir, TEN, out, 1024, err, sizeof(err)), RUN_FAIL_INVALID_MESSAGE);
    }
}

/* ---- layout ---- */

static void test_layout(void **state)
{
    char *p;

    (void)state;
    p = upload_path_tenant_dir("/up", TEN);
    assert_string_equal(p, "/up/" TEN);
    free(p);
    p = upload_path_run_dir("/up", TEN, RUN);
    assert_string_equal(p, "/up/" TEN "/" RUN);
    free(p);
    p = upload_path_file("/up/" TEN "/" RUN, "a b.txt");
    assert_string_equal(p, "/up/" TEN "/" RUN "/a b.txt");
    free(p);
    p = upload_path_temp("/up/" TEN "/" RUN);
    assert_string_equal(p, "/up/" TEN "/" RUN "/" UPLOAD_PATH_TEMP_NAME);
    assert_string_equal(UPLOAD_PATH_TEMP_NAME, ".upload.part");
    free(p);
    p = upload_path_uri("/up/" TEN "/" RUN "/a b.txt");
    assert_string_equal(p, "file:///up/" TEN "/" RUN "/a b.txt");
    free(p);
    /* ids become path components: only UUID text */
    assert_null(upload_path_tenant_dir("/up", "../x"));
    assert_null(upload_path_run_dir("/up", TEN, RUN "x"));
    assert_null(upload_path_run_dir("/up", "..", RUN));
    assert_null(upload_path_run_dir("/up", TEN, NULL));
    assert_true(upload_path_is_id(RUN));
    assert_false(upload_path_is_id(".."));
    assert_false(upload_path_is_id(UPLOAD_PATH_TEMP_NAME));
    assert_false(upload_path_is_id(NULL));
}

/* What upload_path_uri() builds, upload_path_resolve() maps back. */
static void test_uri_round_trip(void **state)
{
    char path[512], out[1024], err[256];
    char *uri;

    (void)state;
    snprintf(path, sizeof(path), "%s/" TEN "/" RUN "/my file.txt", g_dir);
    uri = upload_path_uri(path);
    assert_non_null(uri);
    assert_int_equal(upload_path_resolve(uri, g_dir, TEN, out, sizeof(out), err, sizeof(err)), RUN_OK);
    assert_string_equal(out, path);
    free(uri);
}

static void test_uri_missing(void **state)
{
    char uri[1024];

    (void)state;
    snprintf(uri, sizeof(uri), "file://%s/" TEN "/" RUN "/my file.txt", g_dir);
    assert_false(upload_path_uri_missing(uri));
    snprintf(uri, sizeof(uri), "file://%s/" TEN "/" RUN "/my%%20file.txt", g_dir);
    assert_false(upload_path_uri_missing(uri));
    snprintf(uri, sizeof(uri), "file://localhost%s/" TEN "/" RUN "/my file.txt", g_dir);
    assert_false(upload_path_uri_missing(uri));
    snprintf(uri, sizeof(uri), "file://%s/" TEN "/" RUN "/gone.txt", g_dir);
    assert_true(upload_path_uri_missing(uri));
    snprintf(uri, sizeof(uri), "file://%s/" TEN "/gone/gone%%20too.txt", g_dir);
    assert_true(upload_path_uri_missing(uri));
    /* other schemes are not checked */
    assert_false(upload_path_uri_missing("s3://bucket/key"));
    assert_false(upload_path_uri_missing(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upload_path, setup_dir, teardown_dir),
        cmocka_unit_test(test_layout),
        cmocka_unit_test_setup_teardown(test_uri_round_trip, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_uri_missing, setup_dir, teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
