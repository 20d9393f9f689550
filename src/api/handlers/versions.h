/*
 * versions.h - one version of a document: its original file (with range
 * requests), its chunks, and the admin's re-activation (docs/api.md "Versions").
 */
#ifndef API_VERSIONS_H
#define API_VERSIONS_H

#include "api/http/request.h"

#include <stdint.h>

void versions_content(struct req *r);   /* GET /v1/documents/:doc_id/versions/:version_id/content */
void versions_chunks(struct req *r);    /* GET /v1/documents/:doc_id/versions/:version_id/chunks */
void versions_activate(struct req *r);  /* POST /v1/documents/:doc_id/versions/:version_id/activate (admin) */

/*
 * The Range header h of a file of size bytes (RFC 9110 14.1.2), single byte
 * ranges only. 1 with *start and *len set (a 206; 1 <= *len, *start + *len <=
 * size); 0 when the whole file is the answer (no header, a unit other than
 * "bytes=" in any case, several ranges, malformed: a server may ignore those);
 * -1 when the range cannot be satisfied (a 416: starts at or past the end, last
 * before first, a suffix of 0 bytes, or an empty file). A last byte past the
 * end is cut to the end, a suffix longer than the file is the whole file, and
 * numbers too large for 64 bits count as "larger than any file" (they saturate).
 * *start and *len are written only when 1 is returned.
 */
int versions_range_parse(const char *h, uint64_t size, uint64_t *start, uint64_t *len);

#endif
