/*
 * router.h - the shape of a route table and the pure matcher over it.
 *
 * A table is an array of struct route that the program passes to the server
 * (http/server.h); the HTTP layer itself knows no route. Two kinds of routes:
 *  - plain: the body (at most API_JSON_BODY_MAX bytes, else 413) is collected,
 *    then handle() runs once;
 *  - streaming (ROUTE_STREAM): stream->begin() runs once the headers are in
 *    (after authentication), stream->data() for every piece of the body as it
 *    arrives, stream->end() at the end of the body. stream->abort() runs if the
 *    client goes away or an earlier callback failed, so partial work is undone.
 */
#ifndef API_HTTP_ROUTER_H
#define API_HTTP_ROUTER_H

#include "api/http/request.h"

enum route_flags {
    ROUTE_PUBLIC = 1 << 0,    /* no authentication (login, health, static files) */
    ROUTE_ADMIN  = 1 << 1,    /* role admin required (403 otherwise) */
    ROUTE_STREAM = 1 << 2,    /* body streamed to stream ops */
};

struct stream_ops {
    /*
     * Optional, before authentication: a check that costs nothing (no database),
     * so a flood of requests the server cannot take is refused before it costs a
     * database round trip. 0 to go on; -1 after answering. Whatever it holds must
     * be released by the request's arena (abort() does not run if begin() never did).
     */
    int (*admit)(struct req *r);
    /* 0 to go on; -1 after answering (e.g. req_error) to stop reading the body. */
    int (*begin)(struct req *r);
    int (*data)(struct req *r, const char *p, size_t n);
    /* The whole body arrived: answer. */
    void (*end)(struct req *r);
    /* Undo partial work (remove temp files). Runs at most once, never after end(). */
    void (*abort)(struct req *r);
};

struct route {
    const char *method;       /* "GET", "POST", ... */
    const char *pattern;      /* "/v1/ingestion-runs/:id" */
    unsigned flags;
    void (*handle)(struct req *r);
    const struct stream_ops *stream;
};

/*
 * Match path against pattern ("/v1/ingestion-runs/:id"). A trailing slash on
 * the path is ignored; a ":name" segment matches one non-empty segment, whose
 * text is copied into the arena and stored in params (in order). 1 on a match.
 */
int route_match(const char *pattern, const char *path, struct arena *a, const char **params);
/*
 * The route of table for method and path (HEAD matches GET routes), or NULL.
 * When NULL, *path_known is 1 if the path matched a route of another method
 * (405) and allow (may be NULL) receives "GET, POST" style text.
 */
const struct route *route_find(const struct route *table, size_t n, const char *method, const char *path,
                               struct arena *a, const char **params, int *path_known, char *allow,
                               size_t allowlen);

#endif
