/*
 * upload_path.c - the upload folder layout and the upload_uri <-> path
 * mapping (upload_path.h).
 */
#include "common/upload_path.h"

#include "common/hash.h"
#include "common/ids.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define URI_SCHEME "file://"
#define OUTSIDE "upload_uri is outside the tenant's upload folder"

int upload_path_is_id(const char *name)
{
    return id_is_uuid(name);
}

static char *join(const char *a, const char *b)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s", a, b) < 0)
        return NULL;
    return p;
}

char *upload_path_tenant_dir(const char *root, const char *tenant_id)
{
    if (!upload_path_is_id(tenant_id))
        return NULL;
    return join(root, tenant_id);
}

char *upload_path_run_dir(const char *root, const char *tenant_id, const char *run_id)
{
    char *tenant_dir, *run_dir;

    if (!upload_path_is_id(run_id))
        return NULL;
    tenant_dir = upload_path_tenant_dir(root, tenant_id);
    if (!tenant_dir)
        return NULL;
    run_dir = join(tenant_dir, run_id);
    free(tenant_dir);
    return run_dir;
}

char *upload_path_file(const char *run_dir, const char *name)
{
    return join(run_dir, name);
}

char *upload_path_temp(const char *run_dir)
{
    return join(run_dir, UPLOAD_PATH_TEMP_NAME);
}

char *upload_path_uri(const char *path)
{
    char *uri = NULL;

    if (asprintf(&uri, URI_SCHEME "%s", path) < 0)
        return NULL;
    return uri;
}

/* Percent-decode into out; -1 on a bad escape, %00 or overflow. */
static int percent_decode(const char *s, char *out, size_t outlen)
{
    size_t o = 0;

    for (; *s; s++) {
        char c = *s;

        if (c == '%') {
            int h = hex_value((unsigned char)s[1]), l = h < 0 ? -1 : hex_value((unsigned char)s[2]);

            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return -1;
            c = (char)(h * 16 + l);
            s += 2;
        }
        if (o + 1 >= outlen)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

/* Say why in err and return code. */
static enum run_fail refuse(char *err, size_t errlen, enum run_fail code, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return code;
}

/* The path after "file://" (and an optional "localhost"), or NULL if uri is not a file:// URI. */
static const char *uri_path(const char *uri)
{
    const char *p;

    if (!uri || strncmp(uri, URI_SCHEME, sizeof(URI_SCHEME) - 1) != 0)
        return NULL;
    p = uri + sizeof(URI_SCHEME) - 1;
    if (strncmp(p, "localhost/", 10) == 0)
        p += 9;
    return p;
}

/* The absolute path of upload_uri into raw: RUN_OK, or RUN_FAIL_INVALID_MESSAGE with err set. */
static enum run_fail raw_path(const char *upload_uri, char *raw, size_t rawlen, char *err, size_t errlen)
{
    const char *p = uri_path(upload_uri);

    if (!p)
        return refuse(err, errlen, RUN_FAIL_INVALID_MESSAGE, "upload_uri is not a file:// URI");
    if (*p != '/')
        return refuse(err, errlen, RUN_FAIL_INVALID_MESSAGE, "upload_uri has a host or a relative path");
    if (strlen(p) >= rawlen)
        return refuse(err, errlen, RUN_FAIL_INVALID_MESSAGE, "upload_uri too long");
    snprintf(raw, rawlen, "%s", p);
    return RUN_OK;
}

/* "<real upload_dir>/<tenant_id>/" into prefix: its length, or 0 with err set. */
static size_t tenant_prefix(const char *upload_dir, const char *tenant_id, char *prefix, size_t len, char *err,
                            size_t errlen)
{
    char root[PATH_MAX];

    if (!realpath(upload_dir, root)) {
        snprintf(err, errlen, "UPLOAD_DIR cannot be resolved: %s", strerror(errno));
        return 0;
    }
    return (size_t)snprintf(prefix, len, "%s%s%s/", root, strcmp(root, "/") == 0 ? "" : "/", tenant_id);
}

/* The real path of raw, or of its percent-decoded form when raw does not exist. 0, or -1. */
static int real_path(const char *raw, char *real)
{
    char decoded[PATH_MAX];

    if (realpath(raw, real))
        return 0;
    /* core-api writes the path unencoded; a percent-encoded URI is someone else's way of writing it. */
    if (errno == ENOENT && strchr(raw, '%') && percent_decode(raw, decoded, sizeof(decoded)) == 0 &&
        realpath(decoded, real))
        return 0;
    return -1;
}

/* A path that does not resolve: "missing" only when it would have been inside the tenant's folder. */
static enum run_fail unresolved(const char *raw, const char *prefix, size_t plen, char *err, size_t errlen)
{
    if (strncmp(raw, prefix, plen) != 0 || strstr(raw, "/../") || strstr(raw, "/./"))
        return refuse(err, errlen, RUN_FAIL_INVALID_MESSAGE, OUTSIDE);
    return refuse(err, errlen, RUN_FAIL_UPLOAD_MISSING, "upload file not found");
}

enum run_fail upload_path_resolve(const char *upload_uri, const char *upload_dir, const char *tenant_id,
                                  char *out, size_t outlen, char *err, size_t errlen)
{
    char raw[PATH_MAX], real[PATH_MAX], prefix[PATH_MAX + 64];
    struct stat st;
    size_t plen;
    enum run_fail rc = raw_path(upload_uri, raw, sizeof(raw), err, errlen);

    if (rc != RUN_OK)
        return rc;
    plen = tenant_prefix(upload_dir, tenant_id, prefix, sizeof(prefix), err, errlen);
    if (plen == 0)
        return RUN_FAIL_UPLOAD_MISSING;
    if (real_path(raw, real) < 0)
        return unresolved(raw, prefix, plen, err, errlen);
    if (strncmp(real, prefix, plen) != 0 || strlen(real) == plen)
        return refuse(err, errlen, RUN_FAIL_INVALID_MESSAGE, OUTSIDE);
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode))
        return refuse(err, errlen, RUN_FAIL_UPLOAD_MISSING, "upload is not a regular file");
    if (strlen(real) >= outlen)
        return refuse(err, errlen, RUN_FAIL_INVALID_MESSAGE, "upload path too long");
    snprintf(out, outlen, "%s", real);
    return RUN_OK;
}

static int gone(const char *path)
{
    struct stat st;

    return stat(path, &st) < 0 && errno == ENOENT;
}

int upload_path_uri_missing(const char *uri)
{
    const char *p = uri_path(uri);
    char decoded[PATH_MAX];

    if (!p || !gone(p))
        return 0;
    if (strchr(p, '%') && percent_decode(p, decoded, sizeof(decoded)) == 0)
        return gone(decoded);
    return 1;
}
