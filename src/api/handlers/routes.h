/*
 * routes.h - core-api's route table (routes.c): every endpoint, its flags and
 * its handler. main.c passes it to server_run(); the HTTP layer names none.
 */
#ifndef API_HANDLERS_ROUTES_H
#define API_HANDLERS_ROUTES_H

#include "api/http/router.h"

#include <stddef.h>

extern const struct route api_routes[];
extern const size_t api_routes_count;

#endif
