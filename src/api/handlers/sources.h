/*
 * sources.h - S3 sources of the caller's tenant (docs/api.md "Sources",
 * docs/sources.md): admins create, change, delete and sync them; users list
 * and read them. A source of another tenant answers 404 like a missing one.
 * No read ever returns a secret: credentials are only a reference to the
 * worker's environment (credentials_ref "env:NAME").
 */
#ifndef API_SOURCES_H
#define API_SOURCES_H

#include "api/http/request.h"

void sources_list(struct req *r);     /* GET /v1/sources */
void sources_get(struct req *r);      /* GET /v1/sources/:source_id (with its recent syncs) */
void sources_create(struct req *r);   /* POST /v1/sources (admin) */
void sources_update(struct req *r);   /* PATCH /v1/sources/:source_id (admin) */
void sources_delete(struct req *r);   /* DELETE /v1/sources/:source_id (admin) */
void sources_sync(struct req *r);     /* POST /v1/sources/:source_id/sync (admin) */

#endif
