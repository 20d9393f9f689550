/*
 * params.c - path ids and numeric query parameters (params.h).
 */
#include "api/handlers/params.h"

#include "common/ids.h"

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
