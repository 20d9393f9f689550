/*
 * csp.h - the Content-Security-Policy of core-api's HTML answers.
 *
 * Scripts: 'self' plus, for a page of the web UI's static export, the SHA-256
 * hashes of that page's inline <script> elements, never 'unsafe-inline'. The
 * hashes come from WEB_DIR/csp.json, written by web/scripts/csp-hashes.mjs after
 * `next build`:
 *     {"version": 1, "pages": {"index.html": ["'sha256-<base64>'", ...], ...}}
 * keyed by the file's path relative to WEB_DIR. The manifest is read on first
 * use and again whenever the file changes (a new build while core-api runs).
 * A missing, unreadable or malformed manifest, or a page it does not list,
 * gives the page the default policy: its inline scripts are blocked (and the
 * browser says so in its console), nothing is ever allowed by accident.
 *
 * Styles keep 'unsafe-inline': React sets style attributes and Next.js inlines
 * critical CSS; the issue is about scripts, and a style cannot run code.
 */
#ifndef API_HTTP_CSP_H
#define API_HTTP_CSP_H

#define CSP_POLICY_HEAD "default-src 'self'; script-src 'self'"
#define CSP_POLICY_TAIL                                                                            \
    "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "                \
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
/* The policy of an HTML answer with no inline script allowed. */
#define CSP_POLICY_DEFAULT CSP_POLICY_HEAD CSP_POLICY_TAIL

/* The manifest's name inside WEB_DIR. */
#define CSP_MANIFEST "csp.json"
/* A manifest larger than this is refused (it would be a broken build). */
#define CSP_MANIFEST_MAX ((long)4 << 20)
/* A page whose policy would be longer than this gets the default one. */
#define CSP_POLICY_MAX 16384

/*
 * The policy for the exported page rel (its path relative to web_dir, no
 * leading '/', e.g. "login/index.html"): CSP_POLICY_DEFAULT with the page's
 * hashes from web_dir/csp.json added to script-src. Thread-safe. Returns a
 * malloc'd string the caller frees, or NULL when memory is out.
 */
char *csp_page_policy(const char *web_dir, const char *rel);

/* 1 if s is a source the manifest may list: 'sha256-' + 43 base64 characters + "='". */
int csp_hash_source_ok(const char *s);

#endif
