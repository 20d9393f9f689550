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
    X(UNAVAILABLE,      "unavailable",      503)       \
    X(NOT_IMPLEMENTED,  "not_implemented",  501)       \
    X(STORAGE_FULL,     "storage_full",     507)

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
 * CORRUPT shares it too: the extractor ran to its end and said the file is
 * damaged or not what it claims (pdftotext exiting with its own error code,
 * a DOCX that is not a readable zip). The same bytes fail the same way, so it
 * is permanent; a child killed by a signal or a limit stays EXTRACT_FAILED
 * (transient), since load can cause it.
 */
#define RUN_FAIL_MAP(X)                                 \
    X(EXTRACT_FAILED,   "extract_failed",   1)         \
    X(NO_TEXT,          "extract_failed",   0)         \
    X(CORRUPT,          "extract_failed",   0)         \
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

/*
 * The enums of the two tables: OK = 0 is success (libuv's 0; for runs: no
 * failure), then one value per row in table order, then __COUNT, the table's
 * size (not a code).
 */
#define API_ERR_ENUM_ROW(name, str, status)     API_ERR_##name,
#define RUN_FAIL_ENUM_ROW(name, str, transient) RUN_FAIL_##name,
enum api_err { API_OK = 0, API_ERR_MAP(API_ERR_ENUM_ROW) API_ERR__COUNT };
enum run_fail { RUN_OK = 0, RUN_FAIL_MAP(RUN_FAIL_ENUM_ROW) RUN_FAIL__COUNT };

/*
 * Lookups in the two tables. Values outside a table read as its INTERNAL row
 * (a bug somewhere must not crash the answer or the run's bookkeeping):
 *
 * api_err_code:       stable string of an API error ("not_found"); "ok" for
 *                     API_OK; "internal" for unknown values.
 * api_err_status:     HTTP status of an API error; 200 for API_OK; 500 for
 *                     unknown values.
 * run_fail_code:      stable string of a failure code ("extract_failed"); "ok"
 *                     for RUN_OK; "internal" for unknown values.
 * run_fail_transient: 1 if a retry of the same job may succeed, 0 if it cannot
 *                     (0 for RUN_OK, 1 for unknown values).
 */
const char *api_err_code(enum api_err e);
unsigned api_err_status(enum api_err e);
const char *run_fail_code(enum run_fail f);
int run_fail_transient(enum run_fail f);

#endif
