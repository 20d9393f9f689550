/*
 * static_files.h - the web UI's statically exported files (WEB_DIR), served for
 * GET/HEAD of every path outside /v1 and the operations endpoints.
 *
 * Resolution (Next.js `output: 'export'` layout): the file itself, DIR/index.html,
 * PATH.html; otherwise the app's /index.html (client-side routes), except for
 * paths that look like assets (under /_next/ or with an extension), which 404.
 * A path with a ".." segment or a dot-file segment is refused, and the real
 * path (symlinks resolved) must stay inside WEB_DIR. An HTML file is sent with
 * its page's Content-Security-Policy (csp.h: script hashes from WEB_DIR/csp.json).
 */
#ifndef API_STATIC_FILES_H
#define API_STATIC_FILES_H

#include "api/http/request.h"

#include <stddef.h>

/*
 * Resolve url_path (decoded, starting with '/') under root. Returns 0 with the
 * real path of a regular file in out, or -1 when nothing may be served.
 */
int static_resolve(const char *root, const char *url_path, char *out, size_t outlen);
/* Content-Type for a file name, by extension ("application/octet-stream" if unknown). */
const char *static_content_type(const char *path);
/* Cache-Control for a request path and the content type served for it. */
const char *static_cache_control(const char *url_path, const char *content_type);
/* Answer r (GET or HEAD) from r->app->cfg->web_dir. */
void static_serve(struct req *r);

#endif
