#include "common/embed.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct embedder {
    void *state;
    void (*free_fn)(void *state);
    int (*texts_fn)(void *state, const char *const *texts, const size_t *lens, size_t n,
                    float *out, char *err, size_t errlen);
    char *model;
    int dim;
};

struct embedder *embed_new(const struct embed_config *cfg, char *err, size_t errlen)
{
    struct embedder *e = NULL, *result = NULL;
    const char *provider = cfg && cfg->provider && *cfg->provider ? cfg->provider : "hash";
    const char *model;

    if (!cfg || cfg->dim < 8 || cfg->dim > 8192) {
        snprintf(err, errlen, "embedding dimension must be 8..8192");
        goto out;
    }
    e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    e->dim = cfg->dim;
    if (strcmp(provider, "hash") == 0) {
        model = cfg->model && *cfg->model ? cfg->model : "hash-v1";
        e->free_fn = embed_hash_free;
        e->texts_fn = embed_hash_texts;
        e->state = embed_hash_new(cfg, err, errlen);
    } else if (strcmp(provider, "openai") == 0) {
        if (!cfg->model || !*cfg->model) {
            snprintf(err, errlen, "openai embeddings need a model name");
            goto out;
        }
        model = cfg->model;
        e->free_fn = embed_openai_free;
        e->texts_fn = embed_openai_texts;
        e->state = embed_openai_new(cfg, err, errlen);
    } else {
        snprintf(err, errlen, "unknown embedding provider \"%s\" (hash|openai)", provider);
        goto out;
    }
    if (!e->state)
        goto out;
    e->model = strdup(model);
    if (!e->model) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    result = e;
    e = NULL;
out:
    embed_free(&e);
    return result;
}

void embed_free(struct embedder **pe)
{
    struct embedder *e;

    if (!pe || !*pe)
        return;
    e = *pe;
    if (e->state && e->free_fn)
        e->free_fn(e->state);
    free(e->model);
    free(e);
    *pe = NULL;
}

const char *embed_model(const struct embedder *e)
{
    return e->model;
}

int embed_dim(const struct embedder *e)
{
    return e->dim;
}

int embed_texts(struct embedder *e, const char *const *texts, const size_t *lens, size_t n,
                float *out, char *err, size_t errlen)
{
    if (!e || (n && (!texts || !lens || !out))) {
        snprintf(err, errlen, "embed_texts: bad arguments");
        return -1;
    }
    if (n == 0)
        return 0;
    return e->texts_fn(e->state, texts, lens, n, out, err, errlen);
}

void embed_normalize(float *v, int dim)
{
    double sum = 0;
    int i;

    for (i = 0; i < dim; i++)
        sum += (double)v[i] * v[i];
    if (sum <= 0 || !isfinite(sum))
        return;
    sum = 1.0 / sqrt(sum);
    for (i = 0; i < dim; i++)
        v[i] = (float)(v[i] * sum);
}
