/* test_static_files.c - path resolution under WEB_DIR (Next.js export layout, SPA fallback, escapes). */
#include "api/http/static_files.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char root[PATH_MAX];     /* the web dir (real path) */
static char outside[PATH_MAX];  /* a sibling directory holding a secret */
static char base[PATH_MAX / 2]; /* the temporary directory holding both */

static void put(const char *rel, const char *text)
{
    char path[PATH_MAX * 2];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void dir(const char *rel)
{
    char path[PATH_MAX * 2];

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
    char tmpl[] = "/tmp/test_static_XXXXXX";
    char link_target[PATH_MAX * 2], link_path[PATH_MAX * 2];
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(tmpl));
    {
        char real[PATH_MAX];

        assert_non_null(realpath(tmpl, real));
        assert_true(strlen(real) < sizeof(base));
        memcpy(base, real, strlen(real) + 1);
    }
    snprintf(root, sizeof(root), "%s/web", base);
    snprintf(outside, sizeof(outside), "%s/outside", base);
    assert_int_equal(mkdir(root, 0755), 0);
    assert_int_equal(mkdir(outside, 0755), 0);
    snprintf(link_target, sizeof(link_target), "%s/secret.txt", outside);
    f = fopen(link_target, "w");
    assert_non_null(f);
    fputs("secret", f);
    fclose(f);

    put("index.html", "home");
    dir("runs");
    put("runs/index.html", "runs");
    put("documents.html", "documents");
    dir("_next");
    dir("_next/static");
    put("_next/static/app.js", "js");
    put(".env", "hidden");
    put("logo.svg", "<svg/>");
    snprintf(link_path, sizeof(link_path), "%s/leak.txt", root);
    assert_int_equal(symlink(link_target, link_path), 0);
    snprintf(link_path, sizeof(link_path), "%s/outdir", root);
    assert_int_equal(symlink(outside, link_path), 0);
    snprintf(link_path, sizeof(link_path), "%s/alias.html", root);
    assert_int_equal(symlink("documents.html", link_path), 0);    /* inside: allowed */
    return 0;
}

static int teardown(void **state)
{
    char cmd[PATH_MAX * 2 + 16];
    int rc;

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    rc = system(cmd);
    (void)rc;
    return 0;
}

/* The file a path resolves to, relative to root, or "-" when nothing is served. */
static const char *resolve(const char *url)
{
    static char rel[PATH_MAX];
    char out[PATH_MAX];
    size_t n = strlen(root);

    if (static_resolve(root, url, out, sizeof(out)) < 0)
        return "-";
    assert_memory_equal(out, root, n);
    snprintf(rel, sizeof(rel), "%s", out + n + 1);
    return rel;
}

static void layout(void **state)
{
    (void)state;
    assert_string_equal(resolve("/"), "index.html");
    assert_string_equal(resolve("/index.html"), "index.html");
    assert_string_equal(resolve("/runs/"), "runs/index.html");
    assert_string_equal(resolve("/runs"), "runs/index.html");
    assert_string_equal(resolve("/documents"), "documents.html");
    assert_string_equal(resolve("/documents/"), "documents.html");
    assert_string_equal(resolve("/_next/static/app.js"), "_next/static/app.js");
    assert_string_equal(resolve("//runs//./"), "runs/index.html");
    assert_string_equal(resolve("/alias.html"), "documents.html");
}

static void spa_fallback(void **state)
{
    (void)state;
    assert_string_equal(resolve("/runs/some-run-id"), "index.html");
    assert_string_equal(resolve("/admin/users"), "index.html");
    /* assets never fall back to the app */
    assert_string_equal(resolve("/_next/static/missing.js"), "-");
    assert_string_equal(resolve("/_next/data"), "-");
    assert_string_equal(resolve("/missing.png"), "-");
    assert_string_equal(resolve("/runs/x.json"), "-");
}

static void escapes(void **state)
{
    (void)state;
    assert_string_equal(resolve("/../outside/secret.txt"), "-");
    assert_string_equal(resolve("/runs/../../outside/secret.txt"), "-");
    assert_string_equal(resolve("/runs/../index.html"), "-");    /* any ".." is refused */
    assert_string_equal(resolve("/leak.txt"), "-");
    assert_string_equal(resolve("/outdir/secret.txt"), "-");
    assert_string_equal(resolve("/.env"), "-");
    assert_string_equal(resolve("relative"), "-");
    /* a directory that is a symlink out of root must not serve its index via the fallback either */
    assert_string_equal(resolve("/outdir"), "index.html");
}

static void missing_root(void **state)
{
    char out[PATH_MAX];

    (void)state;
    assert_int_equal(static_resolve("/nonexistent/web/dir", "/", out, sizeof(out)), -1);
    assert_int_equal(static_resolve(NULL, "/", out, sizeof(out)), -1);
}

static void types_and_caching(void **state)
{
    (void)state;
    assert_string_equal(static_content_type("/a/index.html"), "text/html; charset=utf-8");
    assert_string_equal(static_content_type("x.JS"), "text/javascript; charset=utf-8");
    assert_string_equal(static_content_type("x.css"), "text/css; charset=utf-8");
    assert_string_equal(static_content_type("x.svg"), "image/svg+xml");
    assert_string_equal(static_content_type("x.woff2"), "font/woff2");
    assert_string_equal(static_content_type("x.unknown"), "application/octet-stream");
    assert_string_equal(static_content_type("/dir.d/noext"), "application/octet-stream");
    assert_string_equal(static_cache_control("/_next/static/chunks/a.js", "text/javascript"),
                        "public, max-age=31536000, immutable");
    assert_string_equal(static_cache_control("/runs/", "text/html; charset=utf-8"), "no-cache");
    assert_string_equal(static_cache_control("/favicon.ico", "image/x-icon"), "no-cache");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layout),  cmocka_unit_test(spa_fallback),     cmocka_unit_test(escapes),
        cmocka_unit_test(missing_root), cmocka_unit_test(types_and_caching),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
