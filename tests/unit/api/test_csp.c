/* test_csp.c - HTML answers' Content-Security-Policy: the manifest of inline script hashes (http/csp). */
#include "api/http/csp.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define H1 "'sha256-6NQ1iengf37+UHSfJVS4OdR9r5n4Hoo9IcgBm2FADs4='"
#define H2 "'sha256-OBTN3RiyCV4Bq7dFqZ5a2pAXjnCcCYeTJMO2I/LYKeo='"
#define H3 "'sha256-fZbhFeyCeumDa2WHjdyhV/KvbHCYj9GDUNBnkFJQxVQ='"

static char root[PATH_MAX / 2];

/* Replace root/csp.json with text (a new file, as a build's rename makes it), or remove it (NULL). */
static void manifest(const char *text)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/csp.json", root);
    if (!text) {
        unlink(path);
        return;
    }
    snprintf(tmp, sizeof(tmp), "%s/.csp.json.tmp", root);
    f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0);
}

/* The policy of page rel is want. */
static void expect_policy(const char *rel, const char *want)
{
    char *got = csp_page_policy(root, rel);
    const char *script, *end;

    assert_non_null(got);
    assert_string_equal(got, want);
    /* whatever the manifest says, scripts never get 'unsafe-inline' (issue item 6) */
    script = strstr(got, "script-src ");
    assert_non_null(script);
    end = strchr(script, ';');
    assert_non_null(end);
    assert_null(memmem(script, (size_t)(end - script), "unsafe", 6));
    free(got);
}

static int setup(void **state)
{
    char tmpl[] = "/tmp/test_csp_XXXXXX";

    (void)state;
    assert_non_null(mkdtemp(tmpl));
    snprintf(root, sizeof(root), "%s", tmpl);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    manifest(NULL);
    rmdir(root);
    return 0;
}

static void test_default_has_no_unsafe_inline_script(void **state)
{
    (void)state;
    assert_non_null(strstr(CSP_POLICY_DEFAULT, "script-src 'self';"));
    assert_null(strstr(CSP_POLICY_HEAD, "unsafe"));
    assert_non_null(strstr(CSP_POLICY_DEFAULT, "object-src 'none'"));
    assert_non_null(strstr(CSP_POLICY_DEFAULT, "frame-ancestors 'none'"));
}

static void test_hash_source_ok(void **state)
{
    (void)state;
    assert_true(csp_hash_source_ok(H1));
    assert_true(csp_hash_source_ok(H2));
    assert_false(csp_hash_source_ok("'unsafe-inline'"));
    assert_false(csp_hash_source_ok("'sha256-6NQ1iengf37+UHSfJVS4OdR9r5n4Hoo9IcgBm2FADs4'"));
    assert_false(csp_hash_source_ok("'sha256-6NQ1iengf37+UHSfJVS4OdR9r5n4Hoo9IcgBm2F;Ds4='"));
    assert_false(csp_hash_source_ok("'sha256-6NQ1iengf37+UHSfJVS4OdR9r5n4Hoo9IcgBm2FAD s4='"));
    assert_false(csp_hash_source_ok("'sha384-6NQ1iengf37+UHSfJVS4OdR9r5n4Hoo9IcgBm2FADs4='"));
    assert_false(csp_hash_source_ok(""));
    assert_false(csp_hash_source_ok(NULL));
}

static void test_page_hashes(void **state)
{
    (void)state;
    manifest("{\"version\": 1, \"pages\": {\"index.html\": [" "\"" H1 "\", \"" H2 "\"], "
             "\"login/index.html\": [\"" H3 "\"], \"empty.html\": []}}");
    expect_policy("index.html", CSP_POLICY_HEAD " " H1 " " H2 CSP_POLICY_TAIL);
    expect_policy("login/index.html", CSP_POLICY_HEAD " " H3 CSP_POLICY_TAIL);
    expect_policy("empty.html", CSP_POLICY_DEFAULT);
    /* a page the manifest does not list: no inline script allowed */
    expect_policy("upload/index.html", CSP_POLICY_DEFAULT);
}

static void test_manifest_replaced(void **state)
{
    (void)state;
    manifest("{\"version\": 1, \"pages\": {\"index.html\": [\"" H1 "\"]}}");
    expect_policy("index.html", CSP_POLICY_HEAD " " H1 CSP_POLICY_TAIL);
    /* a new build while the server runs: its hashes apply at once */
    manifest("{\"version\": 1, \"pages\": {\"index.html\": [\"" H2 "\"]}}");
    expect_policy("index.html", CSP_POLICY_HEAD " " H2 CSP_POLICY_TAIL);
    manifest(NULL);
    expect_policy("index.html", CSP_POLICY_DEFAULT);
}

static void test_bad_manifest_allows_nothing(void **state)
{
    static const char *const bad[] = {
        "{\"version\": 1, \"pages\": {\"index.html\": [\"'unsafe-inline'\"]}}",
        "{\"version\": 1, \"pages\": {\"index.html\": [\"" H1 "; script-src *\"]}}",
        "{\"version\": 1, \"pages\": {\"index.html\": [\"" H1 "\", 42]}}",
        "{\"version\": 1, \"pages\": {\"index.html\": \"" H1 "\"}}",
        "{\"version\": 2, \"pages\": {\"index.html\": [\"" H1 "\"]}}",
        "{\"pages\": {\"index.html\": [\"" H1 "\"]}}",
        "{\"version\": 1, \"pages\": [\"" H1 "\"]}",
        "{\"version\": 1, \"pages\": {\"index.html\": [\"" H1 "\"], \"index.html\": []}}",
        "{\"version\": 1, \"pages\": {\"index.html\": [\"" H1 "\"]",
        "",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        manifest(bad[i]);
        expect_policy("index.html", CSP_POLICY_DEFAULT);
    }
}

static void test_policy_too_long(void **state)
{
    char *text = malloc(1 << 20);
    size_t len = 0;

    (void)state;
    assert_non_null(text);
    len += (size_t)snprintf(text, 1 << 20, "{\"version\": 1, \"pages\": {\"big.html\": [\"%s\"", H1);
    for (int i = 0; i < CSP_POLICY_MAX / 50; i++)
        len += (size_t)snprintf(text + len, (1 << 20) - len, ", \"%s\"", (i & 1) ? H2 : H3);
    snprintf(text + len, (1 << 20) - len, "]}}");
    manifest(text);
    expect_policy("big.html", CSP_POLICY_DEFAULT);
    free(text);
}

static void test_no_web_dir(void **state)
{
    char *p = csp_page_policy(NULL, "index.html");

    (void)state;
    assert_string_equal(p, CSP_POLICY_DEFAULT);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_has_no_unsafe_inline_script),
        cmocka_unit_test(test_hash_source_ok),
        cmocka_unit_test(test_page_hashes),
        cmocka_unit_test(test_manifest_replaced),
        cmocka_unit_test(test_bad_manifest_allows_nothing),
        cmocka_unit_test(test_policy_too_long),
        cmocka_unit_test(test_no_web_dir),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
