/*
 * embed.h - text embeddings for chunks (ingest-worker) and queries (core-api).
 *
 * Both programs must embed with the same code and settings, or query vectors
 * would not be comparable with stored ones; hence this lives in common/.
 * Providers:
 *   "hash"   feature hashing of words, word bigrams and character trigrams
 *            (embed_hash.c): deterministic, no model, no network.
 *   "openai" any OpenAI-compatible POST {url}/v1/embeddings (embed_openai.c):
 *            batching, per-request timeout, retries with backoff on 429/5xx.
 * Vectors are always L2-normalized, so a dot product is the cosine similarity.
 * An embedder is not thread-safe: use one per thread.
 */
#ifndef COMMON_EMBED_H
#define COMMON_EMBED_H

#include <stddef.h>

struct embed_config {
    const char *provider;   /* "hash" | "openai" */
    const char *url;        /* openai: base URL, e.g. http://127.0.0.1:8080 */
    const char *model;      /* stored with the vectors; NULL/"": "hash-v1" for hash */
    const char *api_key;    /* openai: bearer key, NULL/"" for none */
    int dim;                /* vector dimension (8..8192) */
    int batch;              /* openai: texts per request; <= 0: 32 */
    long timeout_ms;        /* openai: one request; <= 0: 30 s */
};

struct embedder;

/* NULL with a message in err when the configuration is invalid. */
struct embedder *embed_new(const struct embed_config *cfg, char *err, size_t errlen);
/* Accepts NULL and a pointer to NULL; sets *e to NULL. */
void embed_free(struct embedder **e);
const char *embed_model(const struct embedder *e);   /* stored with the vectors */
int embed_dim(const struct embedder *e);
/*
 * n texts (texts[i] of lens[i] bytes, UTF-8; invalid bytes are tolerated)
 * -> out[n*dim] floats, L2-normalized (an empty text gives a zero vector with
 * the hash provider). Returns 0, or -1 with a message in err (the run fails
 * embed_failed); out is unspecified after -1.
 */
int embed_texts(struct embedder *e, const char *const *texts, const size_t *lens, size_t n,
                float *out, char *err, size_t errlen);

/* Scale v[0..dim) to unit length (a zero vector stays zero). */
void embed_normalize(float *v, int dim);

/*
 * Provider entry points, used by embed.c only. Each provider's new() returns
 * its private state; texts() has the contract of embed_texts().
 */
void *embed_hash_new(const struct embed_config *cfg, char *err, size_t errlen);
void embed_hash_free(void *state);
int embed_hash_texts(void *state, const char *const *texts, const size_t *lens, size_t n,
                     float *out, char *err, size_t errlen);
void *embed_openai_new(const struct embed_config *cfg, char *err, size_t errlen);
void embed_openai_free(void *state);
int embed_openai_texts(void *state, const char *const *texts, const size_t *lens, size_t n,
                       float *out, char *err, size_t errlen);

#endif
