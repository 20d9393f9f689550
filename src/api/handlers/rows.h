/*
 * rows.h - a handler's statements and their results: one call that runs a
 * statement and answers its failure, the lookup of one row of the caller's
 * tenant by the id in the path (every "GET /v1/<resource>/:id"), and
 * nullable columns as JSON values.
 */
#ifndef API_HANDLERS_ROWS_H
#define API_HANDLERS_ROWS_H

#include "api/http/request.h"

#include <jansson.h>
#include <libpq-fe.h>

/* A new JSON string of s, or JSON null when s is NULL (an SQL NULL). */
json_t *rows_str(const char *s);

/* A new JSON integer of the decimal text s, or JSON null when s is NULL. */
json_t *rows_int(const char *s);

/*
 * Run sql with n text parameters on the request's connection (req_db()):
 * the result, kept in r's arena, or NULL after answering: 503 when the
 * database is down, req_db_error(r, what) when the statement fails.
 */
PGresult *rows_query(struct req *r, const char *sql, int n, const char *const *params, const char *what);

struct db_stmt;

/*
 * rows_query() of a prepared statement (db_query_prepared: prepared once per
 * pooled connection), its result in binary form when binary is 1.
 */
PGresult *rows_prepared(struct req *r, struct db_stmt *s, int n, const char *const *params, int binary,
                        const char *what);

/*
 * The one row sql returns for $1 = path parameter 0 and $2 = the caller's
 * tenant (r->principal.tenant_id). The result lives in r's arena. NULL after
 * answering: 404 not_found when the id is not a UUID or no row matches, 503
 * when the database is down, and req_db_error(r, what) when sql fails.
 */
PGresult *rows_by_id(struct req *r, const char *sql, const char *what, const char *not_found);

#endif
