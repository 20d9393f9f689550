/*
 * stubs.c - TEMPORARY weak stand-ins for the handlers other modules provide,
 * so core-api links while they are written. A module's real (strong)
 * definition replaces these at link time with no edit here; delete this file
 * once every module has landed.
 *
 * Only objects linked directly (the src/api objects) may be stubbed like this: a weak
 * definition also satisfies the linker for an archive member, which would keep
 * the real one in libcommon.a from ever being pulled in.
 */
#include "api/auth.h"
#include "api/bootstrap.h"
#include "api/crash_guard.h"
#include "api/documents.h"
#include "api/ingest.h"
#include "api/runs.h"
#include "api/search.h"
#include "api/server.h"
#include "api/users.h"
#include "common/log.h"

#include <stdio.h>
#include <string.h>

#define WEAK __attribute__((weak))

static void not_implemented(struct req *r)
{
    static const char body[] = "{\"error\":{\"code\":\"internal\",\"message\":\"not implemented\"}}";

    req_raw(r, 501, "application/json", body, sizeof(body) - 1);
}

/* Secure by default: without the real auth module nobody is authenticated. */
WEAK int auth_authenticate(struct req *r)
{
    req_error(r, API_ERR_UNAUTHORIZED, "unauthorized");
    return -1;
}

WEAK void auth_login(struct req *r) { not_implemented(r); }
WEAK void auth_logout(struct req *r) { not_implemented(r); }
WEAK void auth_me(struct req *r) { not_implemented(r); }

WEAK void users_list(struct req *r) { not_implemented(r); }
WEAK void users_create(struct req *r) { not_implemented(r); }
WEAK void users_update(struct req *r) { not_implemented(r); }

WEAK void runs_get(struct req *r) { not_implemented(r); }
WEAK void runs_list(struct req *r) { not_implemented(r); }

WEAK void documents_list(struct req *r) { not_implemented(r); }
WEAK void documents_get(struct req *r) { not_implemented(r); }
WEAK void documents_delete(struct req *r) { not_implemented(r); }

WEAK void search_handle(struct req *r) { not_implemented(r); }

static int stub_ingest_begin(struct req *r)
{
    not_implemented(r);
    return -1;
}

static int stub_ingest_data(struct req *r, const char *p, size_t n)
{
    (void)r;
    (void)p;
    (void)n;
    return -1;
}

static void stub_ingest_end(struct req *r) { not_implemented(r); }
static void stub_ingest_abort(struct req *r) { (void)r; }

WEAK const struct stream_ops ingest_stream_ops = {
    .begin = stub_ingest_begin,
    .data = stub_ingest_data,
    .end = stub_ingest_end,
    .abort = stub_ingest_abort,
};

WEAK int crash_guard_scan(const struct api_app *app, int64_t now_ms)
{
    (void)app;
    (void)now_ms;
    return -1;
}

/* Returns 0 so the server can be tried before the crash guard exists; it says so in the log. */
WEAK int crash_guard_start(const struct api_app *app)
{
    (void)app;
    log_event(LOG_WARN, "crash guard not built into this binary (stub)", NULL);
    return 0;
}

WEAK void crash_guard_stop(void) {}

WEAK int crash_guard_main(const struct config *cfg, int argc, char **argv)
{
    (void)cfg;
    (void)argc;
    (void)argv;
    fprintf(stderr, "core-api crash-guard: not implemented in this build\n");
    return 1;
}

WEAK int bootstrap_main(const struct config *cfg, int argc, char **argv)
{
    (void)cfg;
    (void)argc;
    (void)argv;
    fprintf(stderr, "core-api bootstrap: not implemented in this build\n");
    return 1;
}
