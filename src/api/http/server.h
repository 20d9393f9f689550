/*
 * server.h - core-api's HTTP server over libmicrohttpd.
 *
 * The server names no handler (as h2o's core does not): the program passes in
 * its route table, the hook that authenticates non-public routes, and the
 * fallback that answers GET/HEAD for paths no route matches (the UI's static
 * files). See server.c for one request's lifecycle.
 */
#ifndef API_HTTP_SERVER_H
#define API_HTTP_SERVER_H

#include "api/http/router.h"

#include <signal.h>
#include <stddef.h>

struct sockaddr_in;

struct server_hooks {
    const struct route *routes;
    size_t nroutes;
    /*
     * Fill r->principal from the request's credentials (non-public routes).
     * 0, or -1 after answering 401/403 (401 is answered for it otherwise).
     */
    int (*authenticate)(struct req *r);
    /* Answer a GET/HEAD outside /v1 that no route matched; NULL: 404. */
    void (*fallback)(struct req *r);
};

/* Start the daemon on cfg->http_addr; serve until *stop becomes nonzero. Returns 0 or -1. */
int server_run(struct api_app *app, const struct server_hooks *hooks, volatile sig_atomic_t *stop);
/* Parse "host:port" (IPv4 address or name; empty host: any) into out. 0, or -1 with a message. */
int server_parse_addr(const char *addr, struct sockaddr_in *out, char *err, size_t errlen);

#endif
