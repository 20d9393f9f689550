/*
 * params.c - path ids, query parameters and pages (params.h).
 */
#include "api/handlers/params.h"

#include "common/ids.h"
#include "common/utf8.h"

#include <string.h>

const char *params_id(struct req *r, int i, const char *not_found)
{
    const char *id = i >= 0 && i < API_MAX_PATH_PARAMS ? r->params[i] : NULL;

    if (!id || !id_is_uuid(id)) {
        req_error(r, API_ERR_NOT_FOUND, not_found);
        return NULL;
    }
    return id;
}

int params_uint(const char *s, long long max, long long *out)
{
    long long v = 0;

    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        int d = *s - '0';

        /* not a digit, or v * 10 + d > max (tested without overflowing) */
        if (d < 0 || d > 9 || d > max || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int params_query(struct req *r, const char *key, const char **out)
{
    size_t n;
    /* With its decoded length: req_query()'s C string would end at a %00 and hide the rest. */
    const char *v = req_query_n(r, key, &n);
    const char *msg;

    *out = NULL;
    if (!v || n == 0)
        return 0;
    if (!utf8_valid(v, n)) {
        msg = arena_printf(&r->arena, "%s must be valid UTF-8", key);
        req_error(r, API_ERR_BAD_REQUEST, msg ? msg : "a query parameter must be valid UTF-8");
        return -1;
    }
    *out = v;
    return 0;
}

int params_page_parse(const char *limit, const char *offset, long long limit_default, struct params_page *p,
                      const char **why)
{
    long long l = limit_default, o = 0;

    if (limit && *limit && (params_uint(limit, PARAMS_LIMIT_MAX, &l) < 0 || l < 1)) {
        *why = PARAMS_LIMIT_MSG;
        return -1;
    }
    if (offset && *offset && params_uint(offset, PARAMS_OFFSET_MAX, &o) < 0) {
        *why = PARAMS_OFFSET_MSG;
        return -1;
    }
    p->limit = l;
    p->offset = o;
    return 0;
}

int params_page(struct req *r, long long limit_default, struct params_page *p)
{
    const char *limit, *offset, *why;

    if (params_query(r, "limit", &limit) < 0 || params_query(r, "offset", &offset) < 0)
        return -1;
    if (params_page_parse(limit, offset, limit_default, p, &why) < 0) {
        req_error(r, API_ERR_BAD_REQUEST, why);
        return -1;
    }
    return 0;
}
