/*
 * fixture.h - a request as the server would hand it to a handler, for the
 * handler layer tests (test_*.c here): no connection (req_header, req_query
 * and req_cookie find nothing), no database pool (req_db answers 503), a
 * configuration that needs no network (the hash embedder).
 *
 * Header-only (static inline functions): each test binary links one handler and
 * request.o, nothing shared by the tests themselves.
 */
#ifndef TESTS_UNIT_API_HANDLERS_FIXTURE_H
#define TESTS_UNIT_API_HANDLERS_FIXTURE_H

#include "api/http/request.h"
#include "common/config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define FIXTURE_TENANT "00000000-0000-4000-8000-000000000001"
#define FIXTURE_USER "00000000-0000-4000-8000-000000000002"
#define FIXTURE_UUID "7d444840-9dc0-11d1-b245-5ffdce74fad2"

struct fixture {
    struct config cfg;
    struct api_app app;   /* app.db NULL: the database is "down" */
    struct req r;
};

/* f's request: method on path, by a caller of role in FIXTURE_TENANT. */
static inline void fixture_init(struct fixture *f, const char *method, const char *path, enum role role)
{
    memset(f, 0, sizeof(*f));
    f->cfg.jwt_secret = "a test secret of some length, not a real one";
    f->cfg.auth_enabled = 1;
    f->cfg.session_ttl_ms = 3600 * 1000;
    f->cfg.login_window_ms = 15 * 60 * 1000;
    f->cfg.login_max_failures = 5;
    f->cfg.max_upload_bytes = 1 << 20;
    f->cfg.embed_provider = "hash";
    f->cfg.embed_dim = 64;
    f->cfg.search_min_cosine = 0.25;
    f->cfg.search_min_score = 0.15;
    f->cfg.search_max_per_doc = 4;
    f->app.cfg = &f->cfg;
    assert_int_equal(req_init(&f->r, &f->app, NULL, method, path), 0);
    strcpy(f->r.principal.tenant_id, FIXTURE_TENANT);
    strcpy(f->r.principal.user_id, FIXTURE_USER);
    f->r.principal.role = role;
}

/* Set the request's body (as the server would have read it). */
static inline void fixture_body(struct fixture *f, const char *body)
{
    assert_int_equal(buf_add(&f->r.body, body, strlen(body)), 0);
}

/* The handler answered status, with needle somewhere in the body. */
static inline void fixture_expect(struct fixture *f, unsigned status, const char *needle)
{
    assert_true(f->r.answered);
    assert_int_equal(f->r.status, status);
    assert_non_null(f->r.resp_body);
    if (!strstr(f->r.resp_body, needle))
        fail_msg("\"%s\" not in the answer %s", needle, f->r.resp_body);
}

static inline void fixture_release(struct fixture *f)
{
    req_release(&f->r);
}

/*
 * Call handler on a fresh request by a caller of role, with path parameter
 * id and body (each may be NULL), and check its answer (fixture_expect).
 */
static inline void fixture_call(void (*handler)(struct req *r), enum role role, const char *id, const char *body,
                                unsigned status, const char *needle)
{
    struct fixture f;

    fixture_init(&f, "POST", "/", role);
    f.r.params[0] = id;
    if (body)
        fixture_body(&f, body);
    handler(&f.r);
    fixture_expect(&f, status, needle);
    fixture_release(&f);
}

#endif
