/*
 * config.h - every setting of both programs, from one declarative table.
 *
 * config.c holds the table: name, environment variable, type, bounds, default,
 * and which program reads it. config_load() validates all of it at start-up; a
 * missing or malformed value gives one line naming the variable and what it
 * accepts, and the program exits 2. docs/configuration.md mirrors the table
 * (`core-api config` / `ingest-worker config` print it).
 */
#ifndef COMMON_CONFIG_H
#define COMMON_CONFIG_H

#include "common/embed.h"
#include "common/sqs.h"

#include <stddef.h>
#include <stdint.h>

enum config_program {
    CONFIG_API    = 1 << 0,
    CONFIG_WORKER = 1 << 1,
};

struct config {
    /* shared */
    const char *database_url;
    const char *log_level;
    const char *upload_dir;
    const char *artifacts_dir;
    const char *sqs_queue_url;
    const char *sqs_dlq_url;
    const char *aws_region;
    const char *aws_endpoint_url;
    const char *aws_access_key_id;
    const char *aws_secret_access_key;
    const char *ingest_mode;
    int64_t max_upload_bytes;
    int64_t max_receive_count;

    /* core-api */
    const char *http_addr;
    int64_t http_head_timeout_ms;
    int64_t http_body_min_rate;
    int64_t http_body_window_ms;
    int64_t http_max_conn_per_addr;
    const char *trusted_proxies;
    const char *jwt_secret;
    int auth_enabled;
    int cookie_secure;
    const char *metrics_token;
    const char *web_dir;
    int64_t db_pool_size;
    int64_t db_acquire_timeout_ms;
    int64_t max_uploads_per_tenant;
    int64_t max_uploads_per_user;
    int64_t session_ttl_ms;
    int64_t login_max_failures;
    int64_t login_max_failures_per_addr;
    int64_t login_delay_max_ms;
    int64_t login_window_ms;
    int64_t queued_ttl_ms;
    int64_t running_ttl_ms;
    int64_t crash_guard_interval_ms;
    int64_t queued_max_republish;
    int64_t orphan_grace_ms;
    double search_min_cosine;
    int64_t principal_cache_ttl_ms;
    int64_t principal_cache_size;
    int64_t run_cache_ttl_ms;
    int64_t run_cache_size;
    int64_t run_wait_max_ms;
    int64_t http_max_connections;
    int64_t http_conn_memory;
    double search_min_score;
    double search_vector_weight;
    int64_t search_max_per_doc;
    const char *search_wordnet;
    int search_compounds;
    int search_synonyms;
    double search_feedback;
    int64_t outbox_interval_ms;
    int64_t outbox_delay_ms;
    int64_t failed_upload_retention_ms;
    int64_t max_uploads_per_instance;
    int64_t upload_rate_per_tenant;

    /* ingest-worker */
    int64_t worker_concurrency;
    int64_t max_inflight;
    int64_t heartbeat_interval_ms;
    int64_t visibility_timeout_ms;
    int64_t takeover_after_ms;
    int64_t shutdown_grace_ms;
    int64_t receive_wait_ms;
    const char *embed_provider;
    const char *embed_url;
    const char *embed_model;
    const char *embed_api_key;
    int64_t embed_dim;
    int64_t embed_batch;
    int64_t embed_timeout_ms;
    int64_t extract_timeout_ms;
    int64_t extract_memory_mb;
    int64_t extract_max_chars;
    int64_t extract_max_uncompressed;
    int64_t chunk_size;
    int64_t chunk_overlap;
    const char *upload_retention;
    const char *worker_health_addr;
    /* issue 16: the extraction helper and OCR */
    const char *extract_helper;
    const char *ocr;
    const char *ocr_langs;
    int64_t ocr_page_timeout_ms;
    int64_t ocr_max_pixels;
    int64_t extract_pdf_parts;
    int64_t extract_pdf_split_pages;

    /* issue 17: the upload store on S3, the proxy mode */
    const char *upload_store;          /* "local" | "s3" */
    const char *upload_s3_bucket;
    const char *upload_s3_prefix;
    const char *upload_s3_endpoint;
    int64_t upload_s3_part_size;
    const char *ingest_proxy_addr;     /* worker */
    const char *ingest_proxy_url;      /* core-api */
};

/*
 * Fill cfg for program (one of enum config_program) from the environment
 * (getenv). Returns 0, or -1 with a one-line message in err naming the variable.
 * String values point into the environment or static defaults: do not free them.
 */
int config_load(struct config *cfg, unsigned program, char *err, size_t errlen);
/*
 * config_load() at a program's start: on failure the message goes to stderr
 * as "<svc>: <message>", the one line an operator sees before the exit code 2.
 * Returns 0 or -1.
 */
int config_load_report(struct config *cfg, unsigned program, const char *svc);

/* Print the table (name, type, default, bounds, description) for program. */
void config_print_table(unsigned program);

/*
 * The SQS client's settings from the loaded configuration (endpoint, region,
 * keys), with timeout_ms per call. The one place both programs build it.
 */
struct sqs_config config_sqs(const struct config *cfg, long timeout_ms);
/*
 * The worker's takeover bound: the longest a run of a crashed worker stays
 * `running` before another worker takes it over. Its message becomes visible
 * again at most VISIBILITY_TIMEOUT after the last extension; its heartbeat is at
 * most HEARTBEAT_INTERVAL older than the crash; a redelivery that finds the
 * heartbeat younger than TAKEOVER_AFTER waits TAKEOVER_AFTER + 1 s more. So
 * VISIBILITY_TIMEOUT + TAKEOVER_AFTER + HEARTBEAT_INTERVAL + CONFIG_TAKEOVER_MARGIN_MS
 * (receive polling, the 1 s, clocks). core-api's RUNNING_TTL must be above it
 * (docs/operations.md); workers publish it in worker_settings.
 */
#define CONFIG_TAKEOVER_MARGIN_MS 5000
int64_t config_takeover_bound_ms(const struct config *cfg);
/* The embedder's settings (provider, URL, model, key, dimension, batch, timeout). */
struct embed_config config_embed(const struct config *cfg);

#endif
