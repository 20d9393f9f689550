/*
 * rows.c - nullable columns as JSON and the by-id lookup (rows.h).
 */
#include "api/handlers/rows.h"

#include "api/handlers/params.h"
#include "common/db.h"

#include <stdlib.h>

json_t *rows_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *rows_int(const char *s)
{
    return s ? json_integer(strtoll(s, NULL, 10)) : json_null();
}

PGresult *rows_query(struct req *r, const char *sql, int n, const char *const *params, const char *what)
{
    PGconn *db = req_db(r);
    PGresult *res;

    if (!db)
        return NULL;
    res = arena_pg(&r->arena, db_query(db, sql, n, params));
    if (!res)
        req_db_error(r, what);
    return res;
}

PGresult *rows_prepared(struct req *r, struct db_stmt *s, int n, const char *const *params, int binary,
                        const char *what)
{
    PGconn *db = req_db(r);
    PGresult *res;

    if (!db)
        return NULL;
    res = arena_pg(&r->arena, binary ? db_query_prepared_binary(db, s, n, params) : db_query_prepared(db, s, n, params));
    if (!res)
        req_db_error(r, what);
    return res;
}

PGresult *rows_by_id(struct req *r, const char *sql, const char *what, const char *not_found)
{
    const char *params[2];
    PGresult *res;

    params[0] = params_id(r, 0, not_found);
    if (!params[0])
        return NULL;
    params[1] = r->principal.tenant_id;
    res = rows_query(r, sql, 2, params, what);
    if (!res)
        return NULL;
    if (PQntuples(res) != 1) {
        req_error(r, API_ERR_NOT_FOUND, not_found);
        return NULL;
    }
    return res;
}
