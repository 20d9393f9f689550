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
 *
 * A stored vector (chunk_embeddings.vector, bytea since migration 0021) is
 * its dim floats in IEEE 754 single precision, each big-endian, 4 * dim bytes
 * and nothing else: embed_vector_pack() writes it (the worker's binary COPY),
 * embed_vector_unpack() reads it (core-api's search, a binary result).
 */
#ifndef COMMON_EMBED_H
#define COMMON_EMBED_H

#include "common/embed_provider.h"

#include <stddef.h>

struct buf;

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

/*
 * Append the stored form of v[0..dim) to b (4 * dim bytes); a non-finite
 * component is written as 0. 0, or -1 when b is full (b keeps what fitted).
 */
int embed_vector_pack(struct buf *b, const float *v, int dim);
/*
 * The stored form data[0..len) into out[0..dim): 0, or -1 when len is not
 * 4 * dim or a component is not finite (out is then unspecified).
 */
int embed_vector_unpack(const void *data, size_t len, float *out, int dim);

#endif
