/*
 * errors.h - the one table of API error codes and run failure codes.
 *
 * API errors: each row gives the enum name, the stable string clients see in
 * {"error": {"code": ...}} and the HTTP status. Run failure codes are the stable
 * prefixes of ingestion_runs.error ("extract_failed: pdftotext exit 1").
 * Add a row here and every user of the table follows.
 */
#ifndef COMMON_ERRORS_H
#define COMMON_ERRORS_H

#define API_ERR_MAP(X)                                  \
    X(BAD_REQUEST,      "bad_request",      400)       \
    X(UNAUTHORIZED,     "unauthorized",     401)       \
    X(FORBIDDEN,        "forbidden",        403)       \
    X(NOT_FOUND,        "not_found",        404)       \
    X(METHOD,           "method_not_allowed", 405)     \
    X(CONFLICT,         "conflict",         409)       \
    X(TOO_LARGE,        "too_large",        413)       \
    X(UNSUPPORTED_TYPE, "unsupported_type", 415)       \
    X(RATE_LIMITED,     "rate_limited",     429)       \
    X(INTERNAL,         "internal",         500)       \
    X(UNAVAILABLE,      "unavailable",      503)

enum api_err {
    API_OK = 0,
#define X(name, str, status) API_ERR_##name,
    API_ERR_MAP(X)
#undef X
    API_ERR__COUNT
};

/* Stable string of an API error ("not_found"); "internal" for unknown values. */
const char *api_err_code(enum api_err e);
/* HTTP status of an API error; 500 for unknown values. */
unsigned api_err_status(enum api_err e);

/*
 * Run failure codes: ingestion_runs.error is "<code>: <detail>".
 * The flag says whether retrying the same message can help (transient) or not;
 * a permanent failure fails the run at once instead of waiting for maxReceiveCount.
 * extract_failed counts as transient: a crashed or killed extraction child (out
 * of memory, a limit hit under load) looks the same as a corrupt file, so it gets
 * maxReceiveCount tries before the run fails (src/worker/README.md).
 * NO_TEXT is the one row whose string is shared: extraction worked but found
 * no text (a scanned PDF without a text layer, a blank or whitespace-only
 * file). Users see the same "extract_failed" prefix ("extract_failed: no text
 * found"), but a retry reads the same bytes and finds nothing again, so it is
 * permanent: the run fails at once and the message goes to the DLQ.
 */
#define RUN_FAIL_MAP(X)                                 \
    X(EXTRACT_FAILED,   "extract_failed",   1)         \
    X(NO_TEXT,          "extract_failed",   0)         \
    X(UNSUPPORTED_TYPE, "unsupported_type", 0)         \
    X(TOO_LARGE,        "too_large",        0)         \
    X(TIMEOUT,          "timeout",          1)         \
    X(EMBED_FAILED,     "embed_failed",     1)         \
    X(UPLOAD_MISSING,   "upload_missing",   0)         \
    X(INVALID_MESSAGE,  "invalid_message",  0)         \
    X(STORE_FAILED,     "store_failed",     1)         \
    X(STALE_QUEUED,     "stale_queued",     0)         \
    X(STALE_RUNNING,    "stale_running",    0)         \
    X(ENQUEUE_FAILED,   "enqueue_failed",   0)         \
    X(INTERNAL,         "internal",         1)

enum run_fail {
    RUN_OK = 0,       /* success: no failure (libuv's 0) */
#define X(name, str, transient) RUN_FAIL_##name,
    RUN_FAIL_MAP(X)
#undef X
    RUN_FAIL__COUNT
};

/* Stable string of a failure code ("extract_failed"); "ok" for RUN_OK, "internal" for unknown values. */
const char *run_fail_code(enum run_fail f);
/* 1 if a retry of the same job may succeed, 0 if it cannot. */
int run_fail_transient(enum run_fail f);

#endif
