/*
 * libFuzzer: the queue message parser (common/job_msg.h: job_msg_parse, spec
 * 4.5), the encoder on what it accepts (encode -> parse gives the same
 * message back), and the upload_uri -> path check (common/upload_path.h:
 * upload_path_resolve) on what it accepts.
 *
 * A fixed upload tree is made once under /tmp/fuzz_job_message/uploads (the
 * seeds point into it): a file and a folder for tenant TENANT_A, a file for
 * TENANT_B, and symlinks from A's folder to B's file, to /etc/hostname and to
 * A's own file. Whatever upload_path_resolve accepts must be a regular file whose
 * real path lies inside <uploads>/<tenant_id>/. The raw input, NUL-terminated,
 * is also tried directly as an upload_uri for tenant A. A source_sync message
 * (issue 17) that parses names valid sync, source and tenant ids and no run,
 * and round-trips too.
 */
#include "common/arena.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/job_msg.h"
#include "common/upload_path.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_ROOT "/tmp/fuzz_job_message"
#define UPLOADS   FUZZ_ROOT "/uploads"
#define TENANT_A  "11111111-1111-4111-8111-111111111111"
#define TENANT_B  "22222222-2222-4222-8222-222222222222"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char uploads_real[PATH_MAX];

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");

    if (f) {
        fputs("hello\n", f);
        fclose(f);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* idempotent: several fuzzers may share the tree */
    mkdir(FUZZ_ROOT, 0755);
    mkdir(UPLOADS, 0755);
    mkdir(UPLOADS "/" TENANT_A, 0755);
    mkdir(UPLOADS "/" TENANT_A "/dir", 0755);
    mkdir(UPLOADS "/" TENANT_B, 0755);
    touch(UPLOADS "/" TENANT_A "/a.txt");
    touch(UPLOADS "/" TENANT_A "/with space%20.txt");
    touch(UPLOADS "/" TENANT_B "/b.txt");
    if (symlink("../" TENANT_B "/b.txt", UPLOADS "/" TENANT_A "/to-b") < 0) {
        /* already there */
    }
    if (symlink("/etc/hostname", UPLOADS "/" TENANT_A "/to-etc") < 0) {
        /* already there */
    }
    if (symlink("a.txt", UPLOADS "/" TENANT_A "/to-a") < 0) {
        /* already there */
    }
    if (!realpath(UPLOADS, uploads_real))
        abort();
    return 0;
}

static void same_string(const char *a, const char *b)
{
    if (strcmp(a, b) != 0)
        abort();
}

/* A message that parsed is encoded again (ASCII only) and parses back to the same fields. */
static void check_round_trip(const struct job_msg *m)
{
    struct arena a;
    struct job_msg back;
    char err[256];
    char *text = job_msg_encode(m);

    if (!text)
        abort();
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p >= 0x80)
            abort();
    arena_init(&a);
    if (job_msg_parse(text, strlen(text), &a, &back, err, sizeof(err)) != 0)
        abort();
    if (back.type != m->type)
        abort();
    same_string(back.sync_id, m->sync_id);
    same_string(back.source_id, m->source_id);
    same_string(back.run_id, m->run_id);
    same_string(back.tenant_id, m->tenant_id);
    same_string(back.user_id, m->user_id);
    same_string(back.doc_id, m->doc_id);
    same_string(back.source_uri, m->source_uri);
    same_string(back.upload_uri, m->upload_uri);
    same_string(back.title, m->title);
    same_string(back.received_at, m->received_at);
    arena_release(&a);
    free(text);
}

static void check_path(const char *uri, const char *tenant)
{
    char out[PATH_MAX], err[256], prefix[PATH_MAX + 64];
    enum run_fail rc;
    struct stat st;
    int plen;

    out[0] = err[0] = '\0';
    rc = upload_path_resolve(uri, UPLOADS, tenant, out, sizeof(out), err, sizeof(err));
    if (rc == RUN_OK) {
        plen = snprintf(prefix, sizeof(prefix), "%s/%s/", uploads_real, tenant);
        if (strncmp(out, prefix, (size_t)plen) != 0 || strlen(out) == (size_t)plen)
            abort();
        if (strstr(out, "/../") || strstr(out, "/./"))
            abort();
        if (lstat(out, &st) != 0 || !S_ISREG(st.st_mode))
            abort();
    } else {
        if (rc != RUN_FAIL_INVALID_MESSAGE && rc != RUN_FAIL_UPLOAD_MISSING)
            abort();
        if (err[0] == '\0')
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    struct job_msg m;
    char err[256];
    char *uri;
    int rc;

    arena_init(&a);
    err[0] = '\0';
    rc = job_msg_parse((const char *)data, size, &a, &m, err, sizeof(err));
    /* even a rejected message names its run only by a valid id, lowercased */
    if (m.run_id[0] && (!id_is_uuid(m.run_id) || strpbrk(m.run_id, "ABCDEF")))
        abort();
    if (m.tenant_id[0] && (!id_is_uuid(m.tenant_id) || strpbrk(m.tenant_id, "ABCDEF")))
        abort();
    if (!m.source_uri || !m.upload_uri || !m.title || !m.received_at)
        abort();
    if (rc == 0 && m.type == JOB_SOURCE_SYNC) {
        if (m.run_id[0] || !id_is_uuid(m.sync_id) || !id_is_uuid(m.source_id) || !id_is_uuid(m.tenant_id))
            abort();
        check_round_trip(&m);
    } else if (rc == 0) {
        if (!m.run_id[0] || !m.tenant_id[0] || !id_is_uuid(m.doc_id))
            abort();
        if (m.user_id[0] && !id_is_uuid(m.user_id))
            abort();
        if (!m.source_uri[0] || !m.upload_uri[0])
            abort();
        check_path(m.upload_uri, m.tenant_id);
        check_round_trip(&m);
    } else if (rc != -1 || err[0] == '\0') {
        abort();
    }
    arena_release(&a);

    if (size > 0 && size < PATH_MAX + 64) {
        uri = malloc(size + 1);
        if (uri) {
            memcpy(uri, data, size);
            uri[size] = '\0';
            check_path(uri, TENANT_A);
            free(uri);
        }
    }
    return 0;
}
