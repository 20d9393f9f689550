/*
 * upload_path.h - the upload store's folder layout, the one place that spells
 * it (core-api writes it, the worker reads it, the crash guard sweeps it).
 *
 * Layout:
 *     <UPLOAD_DIR>/<tenant_id>/<run_id>/<name>       the committed upload
 *     <UPLOAD_DIR>/<tenant_id>/<run_id>/.upload.part while it is written
 * tenant_id and run_id are UUID text (upload_path_is_id), name a sanitized
 * single component (upload_store_sanitize_name: never '%', '?', '#', '/').
 *
 * upload_uri is "file://" + the absolute path, not percent-encoded. That is
 * safe because sanitized names never contain '%', so a reader that
 * percent-decodes the URI and one that merely strips "file://" get the same
 * path (assuming UPLOAD_DIR itself has no '%'). upload_path_resolve() accepts
 * both forms, and "file://localhost/...".
 *
 * The path builders return malloc'd strings for the caller to free, NULL when
 * out of memory or when an id is not a UUID.
 */
#ifndef COMMON_UPLOAD_PATH_H
#define COMMON_UPLOAD_PATH_H

#include "common/errors.h"

#include <stddef.h>

/* Name of the file an upload is written to before it is committed. */
#define UPLOAD_PATH_TEMP_NAME ".upload.part"

/* 1 if name can be a tenant or run folder of the layout (UUID text), else 0. Accepts NULL. */
int upload_path_is_id(const char *name);

/* "<root>/<tenant_id>". */
char *upload_path_tenant_dir(const char *root, const char *tenant_id);
/* "<root>/<tenant_id>/<run_id>". */
char *upload_path_run_dir(const char *root, const char *tenant_id, const char *run_id);
/* "<run_dir>/<name>" (name is one component: the caller sanitized it). */
char *upload_path_file(const char *run_dir, const char *name);
/* "<run_dir>/.upload.part". */
char *upload_path_temp(const char *run_dir);
/* The upload_uri of an absolute path: "file://<path>". */
char *upload_path_uri(const char *path);

/*
 * Map upload_uri to a local path: only file:// URIs whose real path lies
 * inside <upload_dir>/<tenant_id>/ (symlinks resolved) and names a regular file.
 * The path is tried as written, then percent-decoded. Returns RUN_OK with the
 * resolved path in out, or RUN_FAIL_INVALID_MESSAGE (not file://, relative,
 * escapes the tenant's folder) or RUN_FAIL_UPLOAD_MISSING (does not exist, not
 * a regular file), with a reason in err.
 */
enum run_fail upload_path_resolve(const char *upload_uri, const char *upload_dir, const char *tenant_id,
                                  char *out, size_t outlen, char *err, size_t errlen);

/*
 * 1 if uri is a file:// URI whose file is gone (neither the path as written
 * nor its percent-decoded form exists); 0 otherwise, other schemes included
 * (they are not checked).
 */
int upload_path_uri_missing(const char *uri);

#endif
