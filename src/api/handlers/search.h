/* search.h - POST /v1/search: hybrid retrieval over active versions, citations, abstention. */
#ifndef API_SEARCH_H
#define API_SEARCH_H

#include "api/http/request.h"

void search_handle(struct req *r);   /* POST /v1/search */

#endif
