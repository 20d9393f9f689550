/*
 * router.c - the pure route matcher (http/router.h): pattern segments, ":name"
 * parameters copied into the request arena, 405 detection with an Allow list.
 */
#include "api/http/router.h"

#include <stdio.h>
#include <string.h>

/* Length of the segment starting at s (up to '/' or the end). */
static size_t seg_len(const char *s)
{
    return strcspn(s, "/");
}

int route_match(const char *pattern, const char *path, struct arena *a, const char **params)
{
    const char *found[API_MAX_PATH_PARAMS] = {NULL};
    int nparams = 0;
    const char *p = pattern;
    const char *u = path;

    if (!pattern || !path || *pattern != '/' || *path != '/')
        return 0;
    for (;;) {
        size_t pl, ul;

        /* Both at a '/': step over it. */
        p++;
        u++;
        pl = seg_len(p);
        ul = seg_len(u);
        if (pl == 0 && p[0] == '\0') {
            /* Pattern done: the path may only have one trailing slash left. */
            if (ul == 0 && u[0] == '\0')
                break;
            return 0;
        }
        if (ul == 0)
            return 0;    /* empty path segment ("//" or a trailing slash too early) */
        if (p[0] == ':') {
            char *v;

            if (nparams >= API_MAX_PATH_PARAMS)
                return 0;
            v = a ? arena_strndup(a, u, ul) : NULL;
            if (a && !v)
                return 0;
            found[nparams++] = v;
        } else if (pl != ul || memcmp(p, u, pl) != 0) {
            return 0;
        }
        p += pl;
        u += ul;
        if (*u == '\0' && *p == '\0')
            break;
        if (*u == '\0')
            return 0;    /* path shorter than the pattern */
        if (*p == '\0') {
            /* Pattern done; accept exactly one trailing slash on the path. */
            if (u[0] == '/' && u[1] == '\0')
                break;
            return 0;
        }
    }
    if (params)
        for (int i = 0; i < API_MAX_PATH_PARAMS; i++)
            params[i] = found[i];
    return 1;
}

const struct route *route_find(const struct route *table, size_t n, const char *method, const char *path,
                               struct arena *a, const char **params, int *path_known, char *allow,
                               size_t allowlen)
{
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    size_t used = 0;

    if (path_known)
        *path_known = 0;
    if (allow && allowlen)
        allow[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!route_match(table[i].pattern, path, NULL, NULL))
            continue;
        if (strcmp(table[i].method, m) == 0) {
            route_match(table[i].pattern, path, a, params);
            return &table[i];
        }
        if (path_known)
            *path_known = 1;
        if (allow && allowlen > used) {
            int get = strcmp(table[i].method, "GET") == 0;
            int w = snprintf(allow + used, allowlen - used, "%s%s%s", used ? ", " : "", table[i].method,
                             get ? ", HEAD" : "");

            if (w > 0)
                used += (size_t)w < allowlen - used ? (size_t)w : allowlen - used - 1;
        }
    }
    return NULL;
}
