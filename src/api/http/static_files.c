/*
 * static_files.c - the web UI's files (static_files.h): url path normalized,
 * then the Next.js export's candidates in order, each kept inside WEB_DIR.
 */
#include "api/http/static_files.h"
#include "api/http/csp.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"txt", "text/plain; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
};

const char *static_content_type(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');

    if (dot && dot[1])
        for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++)
            if (strcasecmp(dot + 1, content_types[i].ext) == 0)
                return content_types[i].type;
    return "application/octet-stream";
}

const char *static_cache_control(const char *url_path, const char *content_type)
{
    /* Next.js puts content hashes in every name under /_next/static/. */
    if (strncmp(url_path, "/_next/static/", 14) == 0)
        return "public, max-age=31536000, immutable";
    (void)content_type;
    /* Everything else (HTML above all) must be revalidated so a deploy shows at once. */
    return "no-cache";
}

/* 1 if real (a resolved path) is root itself or inside it. */
static int inside(const char *root, const char *real)
{
    size_t n = strlen(root);

    if (strncmp(root, real, n) != 0)
        return 0;
    return real[n] == '\0' || real[n] == '/' || (n == 1 && root[0] == '/');
}

/* Try root/rel: accept a regular file whose real path stays under root. */
static int try_candidate(const char *root, const char *rel, char *out, size_t outlen)
{
    char full[PATH_MAX], real[PATH_MAX];
    struct stat st;
    int n = snprintf(full, sizeof(full), "%s/%s", root, rel);

    if (n < 0 || (size_t)n >= sizeof(full))
        return -1;
    if (!realpath(full, real))
        return -1;
    if (!inside(root, real))
        return -1;
    if (stat(real, &st) < 0 || !S_ISREG(st.st_mode))
        return -1;
    if (strlen(real) >= outlen)
        return -1;
    memcpy(out, real, strlen(real) + 1);
    return 0;
}

/*
 * url_path into rel, a path relative to the root: empty and "." segments
 * dropped, ".." and dot-file segments (but .well-known) refused. *asset: the
 * path looks like an asset (under _next/, or a dot in its last segment).
 * Returns rel's length, or -1 when nothing may be served.
 */
static long normalize(const char *url_path, char *rel, size_t relsize, int *asset)
{
    const char *p = url_path, *last = "";
    size_t rl = 0, lastlen = 0;

    while (*p) {
        size_t n;

        while (*p == '/')
            p++;
        n = strcspn(p, "/");
        if (n == 0)
            break;
        if (n == 1 && p[0] == '.') {
            p += n;
            continue;
        }
        if (p[0] == '.' && !(n == 11 && strncmp(p, ".well-known", 11) == 0))
            return -1;    /* "..", ".env", ".git": never served */
        if (rl + n + 2 >= relsize)
            return -1;
        if (rl)
            rel[rl++] = '/';
        memcpy(rel + rl, p, n);
        rl += n;
        last = p;
        lastlen = n;
        p += n;
    }
    rel[rl] = '\0';
    *asset = (rl >= 5 && memcmp(rel, "_next", 5) == 0 && (rl == 5 || rel[5] == '/')) ||
             memchr(last, '.', lastlen) != NULL;
    return (long)rl;
}

/* The file for rel: itself, rel/index.html, then (not for assets) rel.html, then the app's index.html. */
static int try_page(const char *root, const char *rel, int asset, char *out, size_t outlen)
{
    static const char *const suffixes[] = {"", "/index.html", ".html"};
    char cand[PATH_MAX + 16];
    size_t tries = asset ? 2 : 3;

    for (size_t i = 0; i < tries; i++) {
        snprintf(cand, sizeof(cand), "%s%s", rel, suffixes[i]);
        if (try_candidate(root, cand, out, outlen) == 0)
            return 0;
    }
    /* A missing asset is a 404; any other path is a client-side route of the app. */
    return asset ? -1 : try_candidate(root, "index.html", out, outlen);
}

int static_resolve(const char *root, const char *url_path, char *out, size_t outlen)
{
    char realroot[PATH_MAX];
    char rel[PATH_MAX];
    int asset = 0;
    long rl;

    if (!root || !url_path || url_path[0] != '/' || !realpath(root, realroot))
        return -1;
    rl = normalize(url_path, rel, sizeof(rel), &asset);
    if (rl < 0)
        return -1;
    if (rl == 0)
        return try_candidate(realroot, "index.html", out, outlen);
    return try_page(realroot, rel, asset, out, outlen);
}

/* An exported page's Content-Security-Policy: its inline scripts' hashes (csp.h). */
static void set_page_policy(struct req *r, const char *root, const char *path)
{
    char realroot[PATH_MAX];
    size_t n;
    char *policy;

    if (!realpath(root, realroot))
        return;   /* the server adds the default policy */
    n = strlen(realroot);
    if (strncmp(path, realroot, n) != 0 || path[n] != '/')
        return;
    policy = csp_page_policy(realroot, path + n + 1);
    if (policy)
        req_set_header(r, "Content-Security-Policy", policy);
    free(policy);
}

void static_serve(struct req *r)
{
    const char *root = r->app && r->app->cfg ? r->app->cfg->web_dir : NULL;
    char path[PATH_MAX];
    char lm[64];
    const char *type, *ims;
    struct stat st;
    struct tm tm;
    int fd;

    if (static_resolve(root, r->path, path, sizeof(path)) < 0) {
        req_error(r, API_ERR_NOT_FOUND, "not found");
        return;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        log_event(LOG_WARN, "static file unreadable", json_pack("{s:s,s:s}", "path", path, "error", strerror(errno)));
        req_error(r, API_ERR_NOT_FOUND, "not found");
        return;
    }
    type = static_content_type(path);
    req_set_header(r, "Cache-Control", static_cache_control(r->path, type));
    if (strncmp(type, "text/html", 9) == 0)
        set_page_policy(r, root, path);
    if (gmtime_r(&st.st_mtime, &tm) && strftime(lm, sizeof(lm), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0) {
        req_set_header(r, "Last-Modified", lm);
        ims = req_header(r, "If-Modified-Since");
        if (ims && strcmp(ims, lm) == 0) {
            close(fd);
            req_raw(r, 304, NULL, NULL, 0);
            return;
        }
    }
    req_file(r, 200, type, fd, (uint64_t)st.st_size);
}
