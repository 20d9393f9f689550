/* Unit tests for the streaming upload store and file name sanitizer (src/api/upload_store.c). */
#include "api/upload_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define TENANT "11111111-2222-4333-8444-555555555555"
#define RUN    "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

static char root[256];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/test_upload_store.XXXXXX");
    assert_non_null(mkdtemp(root));
    return 0;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    for (e = readdir(d); e; e = readdir(d))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static int teardown(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *san(const char *in, size_t n)
{
    static char out[UPLOAD_NAME_MAX + 1];
    size_t len = upload_store_sanitize_name(in, n, out, sizeof(out));

    assert_int_equal(len, strlen(out));
    assert_true(len > 0 && len <= UPLOAD_NAME_MAX);
    assert_null(strchr(out, '/'));
    assert_null(strchr(out, '\\'));
    assert_true(out[0] != '.');
    for (size_t i = 0; i < len; i++)
        assert_true((unsigned char)out[i] >= 0x20 && out[i] != 0x7F && out[i] != '%');
    return out;
}
#define SAN(s) san((s), strlen(s))

static void test_sanitize_basic(void **state)
{
    (void)state;
    assert_string_equal(SAN("report.pdf"), "report.pdf");
    assert_string_equal(SAN("My Report (final)-v2_x.docx"), "My Report (final)-v2_x.docx");
    assert_string_equal(SAN("../../etc/passwd"), "passwd");
    assert_string_equal(SAN("..\\..\\windows\\win.ini"), "win.ini");
    assert_string_equal(SAN("C:\\Users\\me\\notes.md"), "notes.md");
    assert_string_equal(SAN(".."), "upload");
    assert_string_equal(SAN("."), "upload");
    assert_string_equal(SAN("../"), "upload");
    assert_string_equal(SAN(""), "upload");
    assert_string_equal(SAN("   "), "upload");
    assert_string_equal(SAN(".pdf"), "upload.pdf");
    assert_string_equal(SAN(".bashrc"), "upload.bashrc");
    assert_string_equal(SAN("...hidden.txt"), "hidden.txt");
    assert_string_equal(SAN("a\"b'c<d>e|f?g*h:i%j#k.txt"), "a_b_c_d_e_f_g_h_i_j_k.txt");
    assert_string_equal(SAN("trailing. . "), "trailing");
    assert_string_equal(SAN("r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.pdf"), "r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.pdf");
    /* Malformed UTF-8 and overlong forms become '_'; bidi override and zero-width space are dropped. */
    assert_string_equal(SAN("a\xff\xc0\xaf.txt"), "a___.txt");
    assert_string_equal(SAN("evil\xe2\x80\xaetxt.exe"), "eviltxt.exe");
    assert_string_equal(SAN("zw\xe2\x80\x8bsp.txt"), "zwsp.txt");
    assert_string_equal(SAN("\xc2\x85x.txt"), "x.txt");
}

static void test_sanitize_control_and_nul(void **state)
{
    static const char with_nul[] = "evil\0.txt/../x.md";
    static const char nul_only[] = "\0\0";

    (void)state;
    assert_string_equal(SAN("line\nbreak\r.txt"), "linebreak.txt");
    assert_string_equal(SAN("tab\there\x7f.txt"), "tabhere.txt");
    assert_string_equal(SAN("\n\n"), "upload");
    /* An embedded NUL does not end the name early, and never reaches the file system. */
    assert_string_equal(san(with_nul, sizeof(with_nul) - 1), "x.md");
    assert_string_equal(san("a\0b.txt", 7), "ab.txt");
    assert_string_equal(san(nul_only, 2), "upload");
    assert_string_equal(san(NULL, 0), "upload");
}

static void test_sanitize_long(void **state)
{
    char in[400], expect[UPLOAD_NAME_MAX + 1];
    const char *out;

    (void)state;
    /* 300 ASCII bytes with an extension: cut to 200, extension kept. */
    memset(in, 'a', 296);
    memcpy(in + 296, ".pdf", 5);
    out = SAN(in);
    assert_int_equal(strlen(out), UPLOAD_NAME_MAX);
    memset(expect, 'a', 196);
    memcpy(expect + 196, ".pdf", 5);
    assert_string_equal(out, expect);

    /* 300 bytes of 3-byte characters: cut on a character boundary. */
    for (int i = 0; i < 100; i++)
        memcpy(in + 3 * i, "\xe2\x82\xac", 3);
    memcpy(in + 300, ".txt", 5);
    out = SAN(in);
    assert_true(strlen(out) <= UPLOAD_NAME_MAX);
    assert_int_equal((strlen(out) - 4) % 3, 0);
    assert_string_equal(out + strlen(out) - 4, ".txt");

    /* No extension: just cut. */
    memset(in, 'b', 300);
    in[300] = '\0';
    assert_int_equal(strlen(SAN(in)), UPLOAD_NAME_MAX);
    /* An "extension" too long to be one is not kept whole. */
    memset(in, 'c', 100);
    in[100] = '.';
    memset(in + 101, 'd', 199);
    in[300] = '\0';
    out = SAN(in);
    assert_int_equal(strlen(out), UPLOAD_NAME_MAX);
    assert_int_equal(out[100], '.');
}

static void read_file(const char *path, char *out, size_t outsz, size_t *n)
{
    int fd = open(path, O_RDONLY);
    ssize_t r;

    assert_true(fd >= 0);
    r = read(fd, out, outsz);
    assert_true(r >= 0);
    *n = (size_t)r;
    close(fd);
}

static void test_store_commit_hash(void **state)
{
    struct upload_store s;
    char path[512], buf[64];
    size_t n;
    struct stat st;

    (void)state;
    upload_store_init(&s);
    assert_int_equal(upload_store_begin(&s, root, TENANT, RUN, "../../etc/passwd\n", 17, 1000), 0);
    /* "abc" in pieces: SHA-256 of "abc" is the FIPS 180-2 test vector. */
    assert_int_equal(upload_store_write(&s, "a", 1), UPLOAD_STORE_OK);
    assert_int_equal(upload_store_write(&s, "bc", 2), UPLOAD_STORE_OK);
    assert_int_equal(upload_store_commit(&s), 0);
    assert_string_equal(s.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(s.size, 3);
    snprintf(path, sizeof(path), "%s/%s/%s/passwd", root, TENANT, RUN);
    {
        char *real = realpath(path, NULL);

        assert_non_null(real);
        assert_string_equal(s.path, real);
        snprintf(buf, sizeof(buf), "file://");
        assert_memory_equal(s.uri, "file://", 7);
        assert_string_equal(s.uri + 7, real);
        free(real);
    }
    read_file(path, buf, sizeof(buf), &n);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "abc", 3);
    /* Only the final file is in the run folder; modes as documented. */
    snprintf(path, sizeof(path), "%s/%s/%s", root, TENANT, RUN);
    assert_int_equal(count_entries(path), 1);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0027, 0);
    assert_int_equal(stat(s.path, &st), 0);
    assert_int_equal(st.st_mode & 0137, 0);

    /* abort after commit removes the file and the run folder (dedup path). */
    upload_store_abort(&s);
    assert_int_equal(count_entries(path), -1);
    upload_store_abort(&s);   /* idempotent */
    upload_store_release(&s);
    snprintf(path, sizeof(path), "%s/%s", root, TENANT);
    assert_int_equal(count_entries(path), 0);
}

static void test_store_abort_leaves_nothing(void **state)
{
    struct upload_store s;
    char path[512];

    (void)state;
    upload_store_init(&s);
    assert_int_equal(upload_store_begin(&s, root, TENANT, RUN, "x.txt", 5, 1000), 0);
    assert_int_equal(upload_store_write(&s, "hello", 5), UPLOAD_STORE_OK);
    snprintf(path, sizeof(path), "%s/%s/%s", root, TENANT, RUN);
    assert_int_equal(count_entries(path), 1);
    upload_store_abort(&s);
    upload_store_release(&s);
    assert_int_equal(count_entries(path), -1);
    upload_store_release(NULL);
}

static void test_store_too_large(void **state)
{
    struct upload_store s;
    char path[512], data[100];

    (void)state;
    memset(data, 'x', sizeof(data));
    upload_store_init(&s);
    assert_int_equal(upload_store_begin(&s, root, TENANT, RUN, "big.txt", 7, 250), 0);
    assert_int_equal(upload_store_write(&s, data, 100), UPLOAD_STORE_OK);
    assert_int_equal(upload_store_write(&s, data, 100), UPLOAD_STORE_OK);
    assert_int_equal(upload_store_write(&s, data, 50), UPLOAD_STORE_OK);   /* exactly the max */
    assert_int_equal(upload_store_write(&s, data, 1), UPLOAD_STORE_TOO_LARGE);
    assert_int_equal(s.size, 250);
    upload_store_abort(&s);
    upload_store_release(&s);
    snprintf(path, sizeof(path), "%s/%s/%s", root, TENANT, RUN);
    assert_int_equal(count_entries(path), -1);
}

static void test_store_refuses_existing_run_folder(void **state)
{
    struct upload_store s;
    char path[512];

    (void)state;
    snprintf(path, sizeof(path), "%s/%s", root, TENANT);
    mkdir(path, 0750);
    snprintf(path, sizeof(path), "%s/%s/%s", root, TENANT, RUN);
    assert_int_equal(mkdir(path, 0750), 0);
    upload_store_init(&s);
    assert_int_equal(upload_store_begin(&s, root, TENANT, RUN, "x", 1, 10), -1);
    assert_int_equal(upload_store_begin(&s, root, "../x", RUN "x", "x", 1, 10), -1);
    upload_store_release(&s);
    assert_int_equal(count_entries(path), 0);
    rmdir(path);
}

/* Usage counts the committed files of run folders; the probe leaves nothing; a missing root is an error. */
static void test_store_usage_and_probe(void **state)
{
    struct upload_store s;
    struct upload_store_usage u;
    char missing[600];

    (void)state;
    upload_store_init(&s);
    assert_int_equal(upload_store_begin(&s, root, TENANT, RUN, "a.txt", 5, 1000), 0);
    assert_int_equal(upload_store_write(&s, "hello world", 11), UPLOAD_STORE_OK);
    assert_int_equal(upload_store_commit(&s), 0);
    assert_int_equal(upload_store_full(), 0);
    assert_int_equal(upload_store_usage(root, &u), 0);
    assert_int_equal(u.bytes, 11);
    assert_int_equal(u.files, 1);
    assert_int_equal(u.folders, 1);
    assert_true(u.fs_bytes > 0);
    assert_true(u.free_bytes <= u.fs_bytes);
    assert_int_equal(upload_store_probe(root), 0);
    assert_int_equal(upload_store_usage(root, &u), 0);
    assert_int_equal(u.files, 1);   /* the probe file is gone */
    snprintf(missing, sizeof(missing), "%s/no/such/dir", root);
    assert_int_equal(upload_store_probe(missing), ENOENT);
    assert_int_equal(upload_store_usage(missing, &u), -1);
    upload_store_abort(&s);
    upload_store_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sanitize_basic),
        cmocka_unit_test(test_sanitize_control_and_nul),
        cmocka_unit_test(test_sanitize_long),
        cmocka_unit_test_setup_teardown(test_store_commit_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_abort_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_refuses_existing_run_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_usage_and_probe, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
