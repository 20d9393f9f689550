/*
 * params.h - what handlers read from a request besides its body: the path's
 * ids, query parameters as checked text, and the limit/offset of a listing,
 * checked the same way by every resource (documents, runs, users).
 */
#ifndef API_HANDLERS_PARAMS_H
#define API_HANDLERS_PARAMS_H

#include "api/http/request.h"

/* Bounds of limit and offset on every list endpoint (docs/api.md "Lists"). */
#define PARAMS_LIMIT_MAX 100
#define PARAMS_OFFSET_MAX 999999999LL
#define PARAMS_LIMIT_MSG "limit must be an integer from 1 to 100"
#define PARAMS_OFFSET_MSG "offset must be an integer from 0 to 999999999"

/* One page of a listing. */
struct params_page {
    long long limit;
    long long offset;
};

/*
 * Path parameter i (0-based, in the pattern's order) when it is a UUID.
 * Otherwise answers 404 with not_found and returns NULL: an id that is not a
 * UUID names no row, so it gets the same answer as a missing row or another
 * tenant's (nothing to tell them apart by).
 */
const char *params_id(struct req *r, int i, const char *not_found);

/*
 * s as a non-negative decimal integer: digits only (no sign, space, exponent
 * or empty string) and at most max. 0 with the value in *out, or -1 with *out
 * untouched. Pure; the caller decides what an absent parameter means.
 */
int params_uint(const char *s, long long max, long long *out);

/*
 * Query parameter key as text: 0 with *out its value, or NULL when it is
 * absent or empty (an empty value means the same as none). -1 after
 * answering 400 "<key> must be valid UTF-8" when the decoded value is not
 * strict UTF-8 (utf8.h) or holds a NUL byte (a %00, which a C string would
 * silently cut short). Every query parameter a handler reads goes through
 * here, so bad bytes are a 400 before they reach a comparison or a statement.
 */
int params_query(struct req *r, const char *key, const char **out);

/*
 * The page of limit and offset (absent: limit_default and 0) into *p. 0, or
 * -1 with the client-safe reason (PARAMS_LIMIT_MSG, PARAMS_OFFSET_MSG) in
 * *why. Pure; params_page() is the same on a request's query string.
 */
int params_page_parse(const char *limit, const char *offset, long long limit_default, struct params_page *p,
                      const char **why);

/* params_page_parse() of the query's limit and offset; -1 after answering 400. */
int params_page(struct req *r, long long limit_default, struct params_page *p);

#endif
