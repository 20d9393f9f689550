/*
 * params.h - what handlers read from a request besides its body: the path's
 * ids and the numeric query parameters, checked the same way by every
 * resource (documents, runs, users).
 */
#ifndef API_HANDLERS_PARAMS_H
#define API_HANDLERS_PARAMS_H

#include "api/http/request.h"

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

#endif
