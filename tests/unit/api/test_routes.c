/* test_routes.c - the route matcher (params, trailing slashes) and the route table. */
#include "api/handlers/routes.h"
#include "api/http/server.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

static void match_plain(void **state)
{
    (void)state;
    assert_int_equal(route_match("/v1/users", "/v1/users", NULL, NULL), 1);
    assert_int_equal(route_match("/v1/users", "/v1/users/", NULL, NULL), 1);
    assert_int_equal(route_match("/v1/users", "/v1/users//", NULL, NULL), 0);
    assert_int_equal(route_match("/v1/users", "/v1/user", NULL, NULL), 0);
    assert_int_equal(route_match("/v1/users", "/v1/usersx", NULL, NULL), 0);
    assert_int_equal(route_match("/v1/users", "/v1/users/x", NULL, NULL), 0);
    assert_int_equal(route_match("/v1/users", "/v1", NULL, NULL), 0);
    assert_int_equal(route_match("/v1/users", "/", NULL, NULL), 0);
    assert_int_equal(route_match("/v1/users", "v1/users", NULL, NULL), 0);
    assert_int_equal(route_match("/v1/users", "//v1/users", NULL, NULL), 0);
    assert_int_equal(route_match("/healthz", "/healthz", NULL, NULL), 1);
    assert_int_equal(route_match("/healthz", "/healthz/", NULL, NULL), 1);
    assert_int_equal(route_match("/healthz", "/", NULL, NULL), 0);
}

static void match_params(void **state)
{
    struct arena a;
    const char *params[API_MAX_PATH_PARAMS] = {"x", "y"};

    (void)state;
    arena_init(&a);
    assert_int_equal(route_match("/v1/ingestion-runs/:run_id", "/v1/ingestion-runs/abc-123", &a, params), 1);
    assert_string_equal(params[0], "abc-123");
    assert_null(params[1]);
    assert_int_equal(route_match("/v1/ingestion-runs/:run_id", "/v1/ingestion-runs/abc/", &a, params), 1);
    assert_string_equal(params[0], "abc");
    /* an empty segment never fills a parameter */
    assert_int_equal(route_match("/v1/ingestion-runs/:run_id", "/v1/ingestion-runs/", &a, params), 0);
    assert_int_equal(route_match("/v1/ingestion-runs/:run_id", "/v1/ingestion-runs//", &a, params), 0);
    assert_int_equal(route_match("/v1/ingestion-runs/:run_id", "/v1/ingestion-runs", &a, params), 0);
    assert_int_equal(route_match("/v1/ingestion-runs/:run_id", "/v1/ingestion-runs/a/b", &a, params), 0);
    assert_int_equal(route_match("/t/:a/x/:b", "/t/one/x/two", &a, params), 1);
    assert_string_equal(params[0], "one");
    assert_string_equal(params[1], "two");
    assert_int_equal(route_match("/t/:a/:b/:c", "/t/1/2/3", &a, params), 0);    /* too many params */
    arena_release(&a);
}

static void find_routes(void **state)
{
    struct arena a;
    const char *params[API_MAX_PATH_PARAMS];
    const struct route *rt;
    int known;
    char allow[64];

    (void)state;
    arena_init(&a);
    rt = route_find(api_routes, api_routes_count, "GET", "/v1/documents/d1", &a, params, &known, allow,
                    sizeof(allow));
    assert_non_null(rt);
    assert_string_equal(rt->pattern, "/v1/documents/:doc_id");
    assert_string_equal(rt->method, "GET");
    assert_string_equal(params[0], "d1");

    rt = route_find(api_routes, api_routes_count, "DELETE", "/v1/documents/d1", &a, params, &known, allow,
                    sizeof(allow));
    assert_non_null(rt);
    assert_true(rt->flags & ROUTE_ADMIN);

    rt = route_find(api_routes, api_routes_count, "HEAD", "/healthz", &a, params, &known, allow, sizeof(allow));
    assert_non_null(rt);
    assert_string_equal(rt->method, "GET");

    rt = route_find(api_routes, api_routes_count, "PUT", "/v1/documents/d1", &a, params, &known, allow,
                    sizeof(allow));
    assert_null(rt);
    assert_int_equal(known, 1);
    assert_string_equal(allow, "GET, HEAD, DELETE");

    rt = route_find(api_routes, api_routes_count, "GET", "/v1/nothing", &a, params, &known, allow, sizeof(allow));
    assert_null(rt);
    assert_int_equal(known, 0);
    arena_release(&a);
}

static const struct route *only(const char *method, const char *path)
{
    return route_find(api_routes, api_routes_count, method, path, NULL, NULL, NULL, NULL, 0);
}

static void table_flags(void **state)
{
    (void)state;
    /* public: login, logout (clears a stale cookie) and operations only */
    for (size_t i = 0; i < api_routes_count; i++) {
        const struct route *rt = &api_routes[i];
        int public = (rt->flags & ROUTE_PUBLIC) != 0;
        int expect = strcmp(rt->pattern, "/v1/auth/login") == 0 || strcmp(rt->pattern, "/v1/auth/logout") == 0 ||
                     strcmp(rt->pattern, "/healthz") == 0 ||
                     strcmp(rt->pattern, "/readyz") == 0 || strcmp(rt->pattern, "/metrics") == 0;

        assert_int_equal(public, expect);
        assert_true((rt->handle != NULL) != (rt->stream != NULL));
        assert_int_equal(rt->stream != NULL, (rt->flags & ROUTE_STREAM) != 0);
    }
    assert_true(only("GET", "/v1/users")->flags & ROUTE_ADMIN);
    assert_true(only("POST", "/v1/users")->flags & ROUTE_ADMIN);
    assert_true(only("PATCH", "/v1/users/u1")->flags & ROUTE_ADMIN);
    assert_false(only("GET", "/v1/documents")->flags & ROUTE_ADMIN);
    assert_true(only("POST", "/v1/ingest")->flags & ROUTE_STREAM);
    assert_non_null(only("POST", "/v1/search"));
    assert_non_null(only("GET", "/v1/ingestion-runs"));
    assert_non_null(only("GET", "/v1/ingestion-runs/r1"));
    assert_non_null(only("POST", "/v1/auth/logout"));
    assert_non_null(only("GET", "/v1/auth/me"));
    assert_null(only("GET", "/v1/auth/login"));
}

static void parse_addr(void **state)
{
    struct sockaddr_in sa;
    char err[256];
    char text[32];

    (void)state;
    assert_int_equal(server_parse_addr("127.0.0.1:8000", &sa, err, sizeof(err)), 0);
    assert_int_equal(ntohs(sa.sin_port), 8000);
    inet_ntop(AF_INET, &sa.sin_addr, text, sizeof(text));
    assert_string_equal(text, "127.0.0.1");
    assert_int_equal(server_parse_addr("0.0.0.0:0", &sa, err, sizeof(err)), 0);
    assert_int_equal(server_parse_addr(":8000", &sa, err, sizeof(err)), 0);
    inet_ntop(AF_INET, &sa.sin_addr, text, sizeof(text));
    assert_string_equal(text, "0.0.0.0");
    assert_int_equal(server_parse_addr("127.0.0.1", &sa, err, sizeof(err)), -1);
    assert_int_equal(server_parse_addr("127.0.0.1:70000", &sa, err, sizeof(err)), -1);
    assert_int_equal(server_parse_addr("127.0.0.1:80x", &sa, err, sizeof(err)), -1);
    assert_int_equal(server_parse_addr("127.0.0.1:", &sa, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "HTTP_ADDR"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(match_plain), cmocka_unit_test(match_params), cmocka_unit_test(find_routes),
        cmocka_unit_test(table_flags), cmocka_unit_test(parse_addr),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
