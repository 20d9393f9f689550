/*
 * embed_provider.h - what an embeddings provider implements, and what it may
 * use: the settings (struct embed_config) and embed_normalize(). embed.c picks
 * a provider by name from its table; a provider includes this header only,
 * never embed.h, so the dependency runs one way (embed.c -> providers).
 *
 * A new provider: a file common/embed_<name>.c defining a
 * `const struct embed_provider embed_provider_<name>`, a row in embed.c's
 * table, and a value of EMBED_PROVIDER (src/common/config.c).
 */
#ifndef COMMON_EMBED_PROVIDER_H
#define COMMON_EMBED_PROVIDER_H

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

struct embed_provider {
    const char *name;            /* the EMBED_PROVIDER value */
    const char *default_model;   /* model when none is configured; NULL: one is required */
    /* The provider's private state, or NULL with a message in err. */
    void *(*create)(const struct embed_config *cfg, char *err, size_t errlen);
    void (*destroy)(void *state);
    /* The contract of embed_texts() (embed.h). */
    int (*texts)(void *state, const char *const *texts, const size_t *lens, size_t n, float *out, char *err,
                 size_t errlen);
};

extern const struct embed_provider embed_provider_hash;     /* embed_hash.c */
extern const struct embed_provider embed_provider_openai;   /* embed_openai.c */

/* Scale v[0..dim) to unit length (a zero vector stays zero). */
void embed_normalize(float *v, int dim);

#endif
