/*
 * config.c - the settings table of both programs and its loader (config.h):
 * one row per setting, one parser per type, cross-checks after the table.
 */
#include "common/config.h"
#include "common/netaddr.h"
#include "common/timeutil.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL, CFG_DURATION, CFG_BYTES, CFG_ENUM, CFG_REAL, CFG_ADDRS };

struct cfg_entry {
    const char *env;
    enum cfg_type type;
    size_t offset;
    unsigned programs;
    const char *def;      /* NULL: required */
    int64_t min, max;     /* numbers: bounds (durations in ms, CFG_REAL in thousandths); strings: min length */
    const char *choices;  /* CFG_ENUM: "a|b|c" */
    const char *help;
};

#define API    CONFIG_API
#define WORKER CONFIG_WORKER
#define BOTH   (CONFIG_API | CONFIG_WORKER)
#define F(field) offsetof(struct config, field)
#define SEC(n) ((int64_t)(n) * 1000)
#define MIB(n) ((int64_t)(n) << 20)

static const struct cfg_entry cfg_table[] = {
    /* shared */
    {"DATABASE_URL", CFG_STR, F(database_url), BOTH, NULL, 1, 0, NULL,
     "libpq connection string or URI (API_DATABASE_URL / WORKER_DATABASE_URL override it per program)"},
    {"LOG_LEVEL", CFG_ENUM, F(log_level), BOTH, "info", 0, 0, "debug|info|warn|error",
     "lowest level written to the JSON log on stderr"},
    {"UPLOAD_DIR", CFG_STR, F(upload_dir), BOTH, "/data/uploads", 1, 0, NULL,
     "shared volume for raw uploads (<tenant>/<run>/<file>)"},
    {"ARTIFACTS_DIR", CFG_STR, F(artifacts_dir), BOTH, "/data/artifacts", 1, 0, NULL,
     "worker scratch and artifacts (extracted text)"},
    {"SQS_INGEST_QUEUE_URL", CFG_STR, F(sqs_queue_url), BOTH, NULL, 1, 0, NULL,
     "QueueUrl of the ingest queue"},
    {"SQS_INGEST_DLQ_URL", CFG_STR, F(sqs_dlq_url), BOTH, "", 0, 0, NULL,
     "QueueUrl of the dead-letter queue (readiness and operations)"},
    {"AWS_REGION", CFG_STR, F(aws_region), BOTH, "us-east-1", 1, 0, NULL, "SigV4 region"},
    {"AWS_ENDPOINT_URL", CFG_STR, F(aws_endpoint_url), BOTH, "", 0, 0, NULL,
     "SQS endpoint; empty: https://sqs.<region>.amazonaws.com"},
    {"AWS_ACCESS_KEY_ID", CFG_STR, F(aws_access_key_id), BOTH, NULL, 1, 0, NULL, "SigV4 key id"},
    {"AWS_SECRET_ACCESS_KEY", CFG_STR, F(aws_secret_access_key), BOTH, NULL, 1, 0, NULL,
     "SigV4 secret"},
    {"INGEST_MODE", CFG_ENUM, F(ingest_mode), BOTH, "orchestrated", 0, 0, "orchestrated|proxy",
     "orchestrated: core-api publishes each job on the queue; proxy (the rollback path, spec 11): core-api "
     "hands it to the worker's internal endpoint INGEST_PROXY_URL instead (docs/operations.md)"},
    {"MAX_UPLOAD_BYTES", CFG_BYTES, F(max_upload_bytes), BOTH, "100M", 1, (int64_t)1 << 40, NULL,
     "largest accepted upload (bytes, or with K/M/G suffix)"},
    {"MAX_RECEIVE_COUNT", CFG_INT, F(max_receive_count), BOTH, "3", 1, 1000, NULL,
     "the queue's RedrivePolicy maxReceiveCount: the worker's last attempt marks the run failed"},

    /* core-api */
    {"HTTP_ADDR", CFG_STR, F(http_addr), API, "0.0.0.0:8000", 3, 0, NULL, "listen address host:port"},
    {"HTTP_HEAD_TIMEOUT", CFG_DURATION, F(http_head_timeout_ms), API, "10s", SEC(1), SEC(3600), NULL,
     "a request head must be complete this long after the connection opened or the previous answer "
     "(slowloris); an idle keep-alive connection is closed after it too"},
    {"HTTP_BODY_MIN_RATE", CFG_BYTES, F(http_body_min_rate), API, "1K", 0, (int64_t)1 << 30, NULL,
     "bytes per second a request body must keep up over each HTTP_BODY_RATE_WINDOW, else the "
     "connection is closed and a partial upload removed; 0: no minimum"},
    {"HTTP_BODY_RATE_WINDOW", CFG_DURATION, F(http_body_window_ms), API, "10s", SEC(1), SEC(3600), NULL,
     "window over which HTTP_BODY_MIN_RATE is measured (a stalled body is cut after one window)"},
    {"HTTP_MAX_CONN_PER_ADDR", CFG_INT, F(http_max_conn_per_addr), API, "64", 1, 512, NULL,
     "open connections from one client address (TRUSTED_PROXIES exempt); the next one is closed unanswered"},
    {"TRUSTED_PROXIES", CFG_ADDRS, F(trusted_proxies), API, "", 0, 0, NULL,
     "addresses or CIDR ranges of reverse proxies (comma-separated) whose X-Forwarded-For is believed; "
     "empty: none, the client is the TCP peer"},
    {"JWT_SECRET", CFG_STR, F(jwt_secret), API, "", 0, 0, NULL,
     "HS256 key, at least 32 bytes (required when AUTH_ENABLED=true)"},
    {"AUTH_ENABLED", CFG_BOOL, F(auth_enabled), API, "true", 0, 0, NULL,
     "false only for local development: every request acts as a fixed dev admin"},
    {"COOKIE_SECURE", CFG_BOOL, F(cookie_secure), API, "true", 0, 0, NULL,
     "add Secure to the session cookie (browsers then send it over HTTPS only); false only for "
     "plain-HTTP development (scripts/dev.sh and the test harness set it)"},
    {"METRICS_TOKEN", CFG_STR, F(metrics_token), API, "", 0, 0, NULL,
     "GET /metrics needs Authorization: Bearer <this> (use a long random value); empty: /metrics "
     "answers only loopback clients whose request names no proxy (X-Forwarded-For, Forwarded, X-Real-IP)"},
    {"WEB_DIR", CFG_STR, F(web_dir), API, "web/out", 1, 0, NULL, "static web UI files"},
    {"DB_POOL_SIZE", CFG_INT, F(db_pool_size), API, "8", 1, 256, NULL, "PostgreSQL connections"},
    {"DB_ACQUIRE_TIMEOUT", CFG_DURATION, F(db_acquire_timeout_ms), API, "5s", 0, SEC(60), NULL,
     "longest wait of a request for a free pooled connection; past it the request answers 503 with Retry-After"},
    {"MAX_UPLOADS_PER_TENANT", CFG_INT, F(max_uploads_per_tenant), API, "32", 1, 10000, NULL,
     "uploads one tenant may stream into one core-api instance at once; the next one answers 429"},
    {"MAX_UPLOADS_PER_USER", CFG_INT, F(max_uploads_per_user), API, "8", 1, 10000, NULL,
     "uploads one user may stream into one core-api instance at once; the next one answers 429"},
    {"SESSION_TTL", CFG_DURATION, F(session_ttl_ms), API, "12h", SEC(60), SEC(30 * 86400), NULL,
     "session token lifetime"},
    {"LOGIN_MAX_FAILURES", CFG_INT, F(login_max_failures), API, "5", 1, 1000, NULL,
     "failed logins for one account from one client address inside LOGIN_WINDOW before 429; "
     "past as many for the account from any address, each failure doubles a delay (LOGIN_DELAY_MAX)"},
    {"LOGIN_MAX_FAILURES_PER_ADDR", CFG_INT, F(login_max_failures_per_addr), API, "50", 1, 100000, NULL,
     "failed logins from one client address, all accounts together, inside LOGIN_WINDOW before 429"},
    {"LOGIN_DELAY_MAX", CFG_DURATION, F(login_delay_max_ms), API, "60s", SEC(1), SEC(3600), NULL,
     "cap of an account's progressive delay (1 s after its last failure, doubled per further failure)"},
    {"LOGIN_WINDOW", CFG_DURATION, F(login_window_ms), API, "15m", SEC(1), SEC(86400), NULL,
     "window of the failed-login throttle"},
    {"QUEUED_TTL", CFG_DURATION, F(queued_ttl_ms), API, "15m", SEC(1), SEC(7 * 86400), NULL,
     "a run queued longer than this is re-published by the crash guard"},
    {"RUNNING_TTL", CFG_DURATION, F(running_ttl_ms), API, "10m", SEC(1), SEC(7 * 86400), NULL,
     "a running run whose heartbeat is older than this fails stale_running"},
    {"CRASH_GUARD_INTERVAL", CFG_DURATION, F(crash_guard_interval_ms), API, "60s", 100, SEC(86400), NULL,
     "period of the crash guard scan (also runs at start-up)"},
    {"QUEUED_MAX_REPUBLISH", CFG_INT, F(queued_max_republish), API, "3", 0, 1000, NULL,
     "re-publications of a stale queued run before it fails stale_queued"},
    {"UPLOAD_ORPHAN_GRACE", CFG_DURATION, F(orphan_grace_ms), API, "1h", SEC(1), SEC(30 * 86400), NULL,
     "upload folders with no run older than this are removed"},
    /* reliability (issue 14): outbox, storage hygiene, overload */
    {"OUTBOX_INTERVAL", CFG_DURATION, F(outbox_interval_ms), API, "1s", 100, SEC(3600), NULL,
     "period of the outbox publisher (sends the messages of committed runs their request did not send)"},
    {"OUTBOX_DELAY", CFG_DURATION, F(outbox_delay_ms), API, "2s", 0, SEC(3600), NULL,
     "an outbox row is left to the request that wrote it this long before any instance's publisher sends it"},
    {"FAILED_UPLOAD_RETENTION", CFG_DURATION, F(failed_upload_retention_ms), API, "7d", 0, SEC(365 * 86400),
     NULL, "a failed run's upload is kept this long after the run ended (for a retry), then removed by the crash guard"},
    {"MAX_UPLOADS_PER_INSTANCE", CFG_INT, F(max_uploads_per_instance), API, "64", 1, 100000, NULL,
     "uploads streaming into one core-api instance at once, all tenants together; the next one answers 503 "
     "with Retry-After"},
    {"UPLOAD_RATE_PER_TENANT", CFG_INT, F(upload_rate_per_tenant), API, "600", 0, 1000000, NULL,
     "uploads a tenant may start per minute on one core-api instance (bursts up to the same number); "
     "past it 429 with Retry-After; 0: no limit"},

    /* ingest-worker */
    {"WORKER_CONCURRENCY", CFG_INT, F(worker_concurrency), WORKER, "2", 1, 64, NULL,
     "jobs processed at once"},
    {"MAX_INFLIGHT", CFG_INT, F(max_inflight), WORKER, "4", 1, 256, NULL,
     "messages held at once (received, not yet deleted)"},
    {"HEARTBEAT_INTERVAL", CFG_DURATION, F(heartbeat_interval_ms), WORKER, "10s", 100, SEC(3600), NULL,
     "running jobs touch updated_at at least this often"},
    {"VISIBILITY_TIMEOUT", CFG_DURATION, F(visibility_timeout_ms), WORKER, "60s", SEC(1), SEC(43200), NULL,
     "visibility of a received message, extended while its job runs"},
    {"TAKEOVER_AFTER", CFG_DURATION, F(takeover_after_ms), WORKER, "60s", SEC(1), SEC(86400), NULL,
     "a redelivered running run whose heartbeat is older than this is taken over"},
    {"SHUTDOWN_GRACE", CFG_DURATION, F(shutdown_grace_ms), WORKER, "30s", 0, SEC(3600), NULL,
     "on SIGTERM, how long in-flight jobs may finish before their messages are released"},
    {"RECEIVE_WAIT", CFG_DURATION, F(receive_wait_ms), WORKER, "20s", SEC(1), SEC(20), NULL,
     "long poll of each ReceiveMessage (whole seconds, SQS allows at most 20 s); a graceful stop waits "
     "for the poll in flight, so a shorter poll stops faster at the cost of more empty receives"},
    {"EMBED_PROVIDER", CFG_ENUM, F(embed_provider), BOTH, "hash", 0, 0, "hash|openai",
     "hash: feature hashing, no model; openai: an OpenAI-compatible /v1/embeddings"},
    {"EMBED_URL", CFG_STR, F(embed_url), BOTH, "", 0, 0, NULL,
     "base URL of the embeddings API (openai provider), e.g. http://127.0.0.1:8080"},
    {"EMBED_MODEL", CFG_STR, F(embed_model), BOTH, "hash-v1", 1, 0, NULL, "embedding model name"},
    {"EMBED_API_KEY", CFG_STR, F(embed_api_key), BOTH, "", 0, 0, NULL, "bearer key of the embeddings API"},
    {"EMBED_DIM", CFG_INT, F(embed_dim), BOTH, "256", 8, 8192, NULL, "embedding dimension"},
    {"EMBED_BATCH", CFG_INT, F(embed_batch), WORKER, "32", 1, 2048, NULL, "texts per embeddings request"},
    {"SEARCH_MIN_COSINE", CFG_REAL, F(search_min_cosine), API, "0.25", -1000, 1000, NULL,
     "cosine similarity below which a chunk's vector adds nothing to its relevance (recalibrate for another model)"},
    /* core-api: hot paths (docs/operations.md, "Principal cache" and "Run status push") */
    {"PRINCIPAL_CACHE_TTL", CFG_DURATION, F(principal_cache_ttl_ms), API, "60s", 0, SEC(300), NULL,
     "longest a cached session check (user active, role, session not revoked) is trusted without the "
     "database; changes reach every instance at once by LISTEN/NOTIFY, this bounds a missed one; 0: no cache"},
    {"PRINCIPAL_CACHE_SIZE", CFG_INT, F(principal_cache_size), API, "10000", 1, 1000000, NULL,
     "sessions the principal cache holds per core-api instance (a full cache evicts)"},
    {"RUN_CACHE_TTL", CFG_DURATION, F(run_cache_ttl_ms), API, "60s", 0, SEC(300), NULL,
     "longest a cached GET /v1/ingestion-runs/:id answer is served without the database; a run change "
     "forgets it at once on every instance by LISTEN/NOTIFY, this bounds a missed one; 0: no cache"},
    {"RUN_CACHE_SIZE", CFG_INT, F(run_cache_size), API, "10000", 1, 1000000, NULL,
     "runs the read cache holds per core-api instance (at most 16 KiB each; a full cache evicts)"},
    {"RUN_WAIT_MAX", CFG_DURATION, F(run_wait_max_ms), API, "30s", SEC(1), SEC(55), NULL,
     "longest ?wait= of GET /v1/ingestion-runs/:id (long poll); a larger one answers 400 (at most 55s: "
     "below the server's 60 s connection timeout)"},
    {"HTTP_CONN_MEMORY", CFG_BYTES, F(http_conn_memory), API, "32K", 16 * 1024, MIB(1), NULL,
     "memory of each connection's request head and read buffer (libmicrohttpd's pool); a kept-alive "
     "connection keeps it touched, so 1,000 long polls cost about 1,000 times this"},
    {"HTTP_MAX_CONNECTIONS", CFG_INT, F(http_max_connections), API, "2048", 16, 65536, NULL,
     "open connections one core-api instance holds (one thread each; long polls count); the next one is refused"},
    {"SEARCH_MIN_SCORE", CFG_REAL, F(search_min_score), API, "0.13", 0, 1000, NULL,
     "search abstains when no chunk's 0-1 evidence reaches this (docs/retrieval.md)"},
    {"SEARCH_VECTOR_WEIGHT", CFG_REAL, F(search_vector_weight), API, "0.5", 0, 10000, NULL,
     "weight of the embedding's cosine (above SEARCH_MIN_COSINE) in relevance; 0: full-text ranking only"},
    {"SEARCH_MAX_PER_DOC", CFG_INT, F(search_max_per_doc), API, "4", 0, 50, NULL,
     "results of one document in a search while other documents have evidence (0: no limit)"},
    {"SEARCH_COMPOUNDS", CFG_BOOL, F(search_compounds), API, "true", 0, 0, NULL,
     "search also for adjacent query words joined (\"time zone\" finds \"timezone\"), words one apart "
     "joined at half weight (\"add another user\" finds \"adduser\") and the words of a "
     "file name (\"tar.xz\" finds \"tar\") when the tenant's documents use them (docs/retrieval.md)"},
    {"SEARCH_WORDNET", CFG_STR, F(search_wordnet), API, "/usr/share/wordnet", 0, 0, NULL,
     "directory of the WordNet 3.0 database (Debian wordnet-base): a query word that neither the tenant's "
     "documents nor WordNet know (\"zsh\") weighs more against evidence; off (or unreadable): without it "
     "(docs/retrieval.md)"},
    {"SEARCH_FEEDBACK", CFG_REAL, F(search_feedback), API, "0", 0, 10000, NULL,
     "weight of pseudo-relevance feedback: the words the best 3 candidates share reorder the best candidates "
     "(never the abstain decision); 0: off (docs/retrieval.md)"},
    {"SEARCH_SYNONYMS", CFG_BOOL, F(search_synonyms), API, "false", 0, 0, NULL,
     "search also for WordNet synonyms of the query's words (SEARCH_WORDNET), at half weight, when the "
     "tenant's documents use them"},
    {"EMBED_TIMEOUT", CFG_DURATION, F(embed_timeout_ms), BOTH, "30s", 100, SEC(600), NULL,
     "timeout of one embeddings request"},
    {"EXTRACT_TIMEOUT", CFG_DURATION, F(extract_timeout_ms), WORKER, "120s", 100, SEC(3600), NULL,
     "wall-clock limit of the extraction child"},
    {"EXTRACT_MEMORY_MB", CFG_INT, F(extract_memory_mb), WORKER, "1024", 32, 65536, NULL,
     "address-space limit of the extraction child and each program it runs (MiB); a PDF up to a quarter of it is read into memory by pdftotext"},
    {"EXTRACT_MAX_CHARS", CFG_INT, F(extract_max_chars), WORKER, "50000000", 1000, (int64_t)1 << 34, NULL,
     "extracted text larger than this fails the run too_large"},
    {"EXTRACT_MAX_UNCOMPRESSED", CFG_BYTES, F(extract_max_uncompressed), WORKER, "256M", 1 << 20,
     (int64_t)1 << 40, NULL, "DOCX: most bytes its parts may inflate to (zip bombs fail the run too_large)"},
    {"CHUNK_SIZE", CFG_INT, F(chunk_size), WORKER, "1200", 100, 100000, NULL, "target chunk size (bytes)"},
    {"CHUNK_OVERLAP", CFG_INT, F(chunk_overlap), WORKER, "200", 0, 50000, NULL,
     "bytes of the previous chunk repeated at the start of the next"},
    {"UPLOAD_RETENTION", CFG_ENUM, F(upload_retention), BOTH, "keep", 0, 0, "keep|delete",
     "delete: remove the raw upload after its run succeeds (the worker; core-api's crash guard removes one "
     "left behind)"},
    {"WORKER_HEALTH_ADDR", CFG_STR, F(worker_health_addr), WORKER, "", 0, 0, NULL,
     "optional 127.0.0.1:PORT for the worker's /healthz and /metrics"},
    {"EXTRACT_HELPER", CFG_STR, F(extract_helper), WORKER, "", 0, 0, NULL,
     "the ingest-extract program run per job; empty: the one beside ingest-worker"},
    {"OCR", CFG_ENUM, F(ocr), WORKER, "on", 0, 0, "on|off",
     "on: OCR images and PDF pages without a text layer (tesseract); off: images fail unsupported_type"},
    {"OCR_LANGS", CFG_STR, F(ocr_langs), WORKER, "eng", 1, 0, NULL,
     "tesseract languages, e.g. eng or eng+deu (each needs its tesseract-ocr-<lang> package)"},
    {"OCR_PAGE_TIMEOUT", CFG_DURATION, F(ocr_page_timeout_ms), WORKER, "60s", 100, SEC(3600), NULL,
     "wall-clock and CPU limit of one page's rendering and OCR (an image: all its pages)"},
    {"OCR_MAX_PIXELS", CFG_INT, F(ocr_max_pixels), WORKER, "50000000", 10000, (int64_t)1 << 32, NULL,
     "an image larger than this fails too_large; PDF pages are rendered at a lower resolution to fit"},
    {"EXTRACT_PDF_PARTS", CFG_INT, F(extract_pdf_parts), WORKER, "2", 1, 16, NULL,
     "a large PDF is read by up to this many concurrent pdftotext processes over page ranges, fewer when this worker's other jobs keep the cores busy (1: one)"},
    {"EXTRACT_PDF_SPLIT_PAGES", CFG_INT, F(extract_pdf_split_pages), WORKER, "64", 2, 10000000, NULL,
     "a PDF of at least this many pages (pdfinfo's count) is split into EXTRACT_PDF_PARTS ranges"},

    /* issue 17: the upload store on S3 and the proxy mode */
    {"UPLOAD_STORE", CFG_ENUM, F(upload_store), BOTH, "local", 0, 0, "local|s3",
     "where raw uploads live: local (UPLOAD_DIR) or s3 (UPLOAD_S3_BUCKET, streamed as a multipart upload)"},
    {"UPLOAD_S3_BUCKET", CFG_STR, F(upload_s3_bucket), BOTH, "", 0, 0, NULL,
     "bucket of the upload store when UPLOAD_STORE=s3 (required then)"},
    {"UPLOAD_S3_PREFIX", CFG_STR, F(upload_s3_prefix), BOTH, "uploads/", 0, 0, NULL,
     "key prefix of uploads in UPLOAD_S3_BUCKET (<prefix><tenant>/<run>/<file>)"},
    {"UPLOAD_S3_ENDPOINT", CFG_STR, F(upload_s3_endpoint), BOTH, "", 0, 0, NULL,
     "S3 endpoint of the upload store; empty: AWS_ENDPOINT_URL, else https://s3.<region>.amazonaws.com"},
    {"UPLOAD_S3_PART_SIZE", CFG_BYTES, F(upload_s3_part_size), API, "8M", MIB(5), MIB(512), NULL,
     "multipart part size: the memory one upload holds at most while it streams to S3"},
    {"INGEST_PROXY_ADDR", CFG_STR, F(ingest_proxy_addr), WORKER, "", 0, 0, NULL,
     "worker: loopback or private host:port of the internal ingest endpoint (INGEST_MODE=proxy; never publish it)"},
    {"INGEST_PROXY_URL", CFG_STR, F(ingest_proxy_url), API, "", 0, 0, NULL,
     "core-api: http://host:port of the worker's internal ingest endpoint (required when INGEST_MODE=proxy)"},
};

/* Strict base-10 integer: the whole text, no overflow. */
static int parse_int64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int parse_bytes(const char *s, int64_t *out)
{
    char *end;
    long long v;
    int shift = 0;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return -1;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    else if (*end == 'T' || *end == 't')
        shift = 40;
    else if (*end != '\0')
        return -1;
    if (shift && end[1] != '\0' && strcasecmp(end + 1, "ib") != 0 && strcasecmp(end + 1, "b") != 0)
        return -1;
    if (v > (INT64_MAX >> shift))
        return -1;
    *out = (int64_t)v << shift;
    return 0;
}

static int choice_ok(const char *choices, const char *v)
{
    size_t n = strlen(v);
    const char *p = choices;

    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);

        if (len == n && strncmp(p, v, n) == 0)
            return 1;
        if (!bar)
            break;
        p = bar + 1;
    }
    return 0;
}

/*
 * One parser per type (cfg_types below): store the value v of entry e at dst,
 * or return -1 without touching dst when v is not acceptable.
 */
static int store_str(const struct cfg_entry *e, const char *v, void *dst)
{
    if ((int64_t)strlen(v) < e->min)
        return -1;
    *(const char **)dst = v;
    return 0;
}

static int store_enum(const struct cfg_entry *e, const char *v, void *dst)
{
    if (!choice_ok(e->choices, v))
        return -1;
    *(const char **)dst = v;
    return 0;
}

static int store_bool(const struct cfg_entry *e, const char *v, void *dst)
{
    (void)e;
    if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0)
        *(int *)dst = 1;
    else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0)
        *(int *)dst = 0;
    else
        return -1;
    return 0;
}

/* The integer types: convert v with conv, then keep it only inside [e->min, e->max]. */
static int store_bounded(const struct cfg_entry *e, const char *v, void *dst,
                         int (*conv)(const char *s, int64_t *out))
{
    int64_t n;

    if (conv(v, &n) < 0 || n < e->min || n > e->max)
        return -1;
    *(int64_t *)dst = n;
    return 0;
}

static int store_int(const struct cfg_entry *e, const char *v, void *dst)
{
    return store_bounded(e, v, dst, parse_int64);
}

static int store_duration(const struct cfg_entry *e, const char *v, void *dst)
{
    return store_bounded(e, v, dst, time_parse_duration_ms);
}

static int store_bytes(const struct cfg_entry *e, const char *v, void *dst)
{
    return store_bounded(e, v, dst, parse_bytes);
}

/* Bounds of CFG_REAL are in thousandths, so the table stays integer. */
static int store_real(const struct cfg_entry *e, const char *v, void *dst)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || *end != '\0' || d * 1000 < (double)e->min || d * 1000 > (double)e->max)
        return -1;
    *(double *)dst = d;
    return 0;
}

/* A list of addresses and CIDR ranges (common/netaddr.h), kept as text once it parses. */
static int store_addrs(const struct cfg_entry *e, const char *v, void *dst)
{
    struct netaddr_list l;
    char why[160];

    (void)e;
    if (netaddr_list_parse(v, &l, why, sizeof(why)) < 0)
        return -1;
    *(const char **)dst = v;
    return 0;
}

static const struct cfg_type_ops {
    const char *name;    /* as `config` prints it */
    int (*store)(const struct cfg_entry *e, const char *v, void *dst);
} cfg_types[] = {
    [CFG_STR] = {"string", store_str},
    [CFG_INT] = {"integer", store_int},
    [CFG_BOOL] = {"boolean", store_bool},
    [CFG_DURATION] = {"duration", store_duration},
    [CFG_BYTES] = {"bytes", store_bytes},
    [CFG_ENUM] = {"enum", store_enum},
    [CFG_REAL] = {"number", store_real},
    [CFG_ADDRS] = {"addresses", store_addrs},
};

/* What an entry accepts, for the message that refuses a value: "an integer from 1 to 64". */
static void describe_accepted(const struct cfg_entry *e, char *out, size_t outlen)
{
    long long lo = (long long)e->min, hi = (long long)e->max;

    switch (e->type) {
    case CFG_STR:
        snprintf(out, outlen, "must be set");
        break;
    case CFG_ENUM:
        snprintf(out, outlen, "accepted: %s", e->choices);
        break;
    case CFG_BOOL:
        snprintf(out, outlen, "accepted: true|false");
        break;
    case CFG_INT:
        snprintf(out, outlen, "an integer from %lld to %lld", lo, hi);
        break;
    case CFG_DURATION:
        snprintf(out, outlen, "a duration from %lldms to %llds: seconds or 500ms, 90s, 15m, 2h", lo, hi / 1000);
        break;
    case CFG_REAL:
        snprintf(out, outlen, "a number from %g to %g", (double)lo / 1000, (double)hi / 1000);
        break;
    case CFG_BYTES:
        snprintf(out, outlen, "bytes from %lld to %lld, suffix K, M, G allowed", lo, hi);
        break;
    case CFG_ADDRS:
        snprintf(out, outlen, "IP addresses or CIDR ranges like 10.0.0.0/8, separated by commas");
        break;
    }
}

static int load_entry(const struct cfg_entry *e, struct config *cfg, const char *v,
                      char *err, size_t errlen)
{
    char accepted[128];

    if (cfg_types[e->type].store(e, v, (char *)cfg + e->offset) == 0)
        return 0;
    describe_accepted(e, accepted, sizeof(accepted));
    /* An empty string is "not set", and the help says what it should be. */
    if (e->type == CFG_STR)
        snprintf(err, errlen, "%s: %s (%s)", e->env, e->help, accepted);
    else
        snprintf(err, errlen, "%s: invalid value \"%s\" (%s)", e->env, v, accepted);
    return -1;
}

/* The settings UPLOAD_STORE=s3 and INGEST_MODE=proxy need. 0 or -1 with err. */
static int check_modes(const struct config *cfg, unsigned program, char *err, size_t errlen)
{
    if (strcmp(cfg->upload_store, "s3") == 0 && !*cfg->upload_s3_bucket) {
        snprintf(err, errlen, "UPLOAD_S3_BUCKET: required when UPLOAD_STORE=s3");
        return -1;
    }
    if ((program & CONFIG_API) && strcmp(cfg->ingest_mode, "proxy") == 0 &&
        strncmp(cfg->ingest_proxy_url, "http://", 7) != 0 && strncmp(cfg->ingest_proxy_url, "https://", 8) != 0) {
        snprintf(err, errlen, "INGEST_PROXY_URL: an http:// URL is required when INGEST_MODE=proxy");
        return -1;
    }
    return 0;
}

int config_load(struct config *cfg, unsigned program, char *err, size_t errlen)
{
    const char *override = program == CONFIG_API ? "API_DATABASE_URL" : "WORKER_DATABASE_URL";

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < sizeof(cfg_table) / sizeof(cfg_table[0]); i++) {
        const struct cfg_entry *e = &cfg_table[i];
        const char *v;

        if (!(e->programs & program))
            continue;
        v = getenv(e->env);
        if (e->offset == offsetof(struct config, database_url) && getenv(override) && *getenv(override))
            v = getenv(override);
        if (!v || (!*v && e->def && *e->def))
            v = e->def;
        if (!v) {
            snprintf(err, errlen, "%s is required: %s", e->env, e->help);
            return -1;
        }
        if (load_entry(e, cfg, v, err, errlen) < 0)
            return -1;
    }
    if ((program & CONFIG_API) && cfg->auth_enabled && strlen(cfg->jwt_secret) < 32) {
        snprintf(err, errlen, "JWT_SECRET: must be at least 32 bytes when AUTH_ENABLED=true");
        return -1;
    }
    if ((program & CONFIG_WORKER) && cfg->chunk_overlap >= cfg->chunk_size) {
        snprintf(err, errlen, "CHUNK_OVERLAP: must be smaller than CHUNK_SIZE (%lld)",
                 (long long)cfg->chunk_size);
        return -1;
    }
    if ((program & CONFIG_WORKER) && cfg->max_inflight < cfg->worker_concurrency) {
        snprintf(err, errlen, "MAX_INFLIGHT: must be at least WORKER_CONCURRENCY (%lld)",
                 (long long)cfg->worker_concurrency);
        return -1;
    }
    if (strcmp(cfg->embed_provider, "openai") == 0 && !*cfg->embed_url) {
        snprintf(err, errlen, "EMBED_URL: required when EMBED_PROVIDER=openai");
        return -1;
    }
    return check_modes(cfg, program, err, errlen);
}

int config_load_report(struct config *cfg, unsigned program, const char *svc)
{
    char err[512];

    if (config_load(cfg, program, err, sizeof(err)) == 0)
        return 0;
    fprintf(stderr, "%s: %s\n", svc, err);
    return -1;
}

void config_print_table(unsigned program)
{
    for (size_t i = 0; i < sizeof(cfg_table) / sizeof(cfg_table[0]); i++) {
        const struct cfg_entry *e = &cfg_table[i];

        if (!(e->programs & program))
            continue;
        printf("%-24s %-8s default=%-16s %s\n", e->env, cfg_types[e->type].name,
               e->def ? (*e->def ? e->def : "\"\"") : "(required)", e->help);
    }
}

struct sqs_config config_sqs(const struct config *cfg, long timeout_ms)
{
    struct sqs_config sc = {
        .endpoint = cfg->aws_endpoint_url,
        .region = cfg->aws_region,
        .access_key_id = cfg->aws_access_key_id,
        .secret_access_key = cfg->aws_secret_access_key,
        .timeout_ms = timeout_ms,
    };

    return sc;
}

int64_t config_takeover_bound_ms(const struct config *cfg)
{
    return cfg->visibility_timeout_ms + cfg->takeover_after_ms + cfg->heartbeat_interval_ms + CONFIG_TAKEOVER_MARGIN_MS;
}

struct embed_config config_embed(const struct config *cfg)
{
    struct embed_config ec = {
        .provider = cfg->embed_provider,
        .url = cfg->embed_url,
        .model = cfg->embed_model,
        .api_key = cfg->embed_api_key,
        .dim = (int)cfg->embed_dim,
        .batch = (int)cfg->embed_batch,
        .timeout_ms = (long)cfg->embed_timeout_ms,
    };

    return ec;
}
