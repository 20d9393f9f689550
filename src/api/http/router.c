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

/*
 * One pattern segment p[0..pl) against one path segment u[0..ul) (ul > 0). A
 * ":name" segment matches any text, copied into the arena (when there is one)
 * as found[*nparams]; another must be equal. 1 on a match.
 */
static int match_segment(const char *p, size_t pl, const char *u, size_t ul, struct arena *a,
                         const char **found, int *nparams)
{
    char *v;

    if (p[0] != ':')
        return pl == ul && memcmp(p, u, pl) == 0;
    if (*nparams >= API_MAX_PATH_PARAMS)
        return 0;
    v = a ? arena_strndup(a, u, ul) : NULL;
    if (a && !v)
        return 0;
    found[(*nparams)++] = v;
    return 1;
}

int route_match(const char *pattern, const char *path, struct arena *a, const char **params)
{
    const char *found[API_MAX_PATH_PARAMS] = {NULL};
    int nparams = 0, matched = 0;
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
        if (*p == '\0') {
            /* The pattern ends in this '/': so must the path. */
            matched = *u == '\0';
            break;
        }
        /* An empty path segment ("//" or a trailing slash too early) matches nothing. */
        if (ul == 0 || !match_segment(p, pl, u, ul, a, found, &nparams))
            break;
        p += pl;
        u += ul;
        if (*p == '\0') {
            /* Pattern done: the path may only have one trailing slash left. */
            matched = *u == '\0' || (u[0] == '/' && u[1] == '\0');
            break;
        }
        if (*u == '\0')
            break;    /* path shorter than the pattern */
    }
    if (matched && params)
        for (int i = 0; i < API_MAX_PATH_PARAMS; i++)
            params[i] = found[i];
    return matched;
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
