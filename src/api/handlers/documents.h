/* documents.h - document reads (active versions by default) and admin deletion. */
#ifndef API_DOCUMENTS_H
#define API_DOCUMENTS_H

#include "api/http/request.h"

void documents_list(struct req *r);    /* GET /v1/documents */
void documents_get(struct req *r);     /* GET /v1/documents/:doc_id */
void documents_delete(struct req *r);  /* DELETE /v1/documents/:doc_id (admin) */

#endif
