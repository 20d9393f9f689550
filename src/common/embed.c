/*
 * embed.c - the embedder (embed.h): picks a provider by name from a table
 * (embed_provider.h), checks the settings, keeps the model name and dimension;
 * and the stored form of a vector (embed_vector_pack / embed_vector_unpack).
 */
#include "common/embed.h"

#include "common/buf.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct embedder {
    const struct embed_provider *p;
    void *state;
    char *model;
    int dim;
};

static const struct embed_provider *const providers[] = {&embed_provider_hash, &embed_provider_openai};

static const struct embed_provider *provider_named(const char *name)
{
    for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
        if (strcmp(providers[i]->name, name) == 0)
            return providers[i];
    return NULL;
}

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
    e->p = provider_named(provider);
    if (!e->p) {
        snprintf(err, errlen, "unknown embedding provider \"%s\" (hash|openai)", provider);
        goto out;
    }
    model = cfg->model && *cfg->model ? cfg->model : e->p->default_model;
    if (!model) {
        snprintf(err, errlen, "%s embeddings need a model name", provider);
        goto out;
    }
    e->state = e->p->create(cfg, err, errlen);
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
    if (e->state)
        e->p->destroy(e->state);
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
    return e->p->texts(e->state, texts, lens, n, out, err, errlen);
}

int embed_vector_pack(struct buf *b, const float *v, int dim)
{
    for (int i = 0; i < dim; i++) {
        float x = isfinite(v[i]) ? v[i] : 0.0f;
        uint32_t u;
        unsigned char p[4];

        memcpy(&u, &x, sizeof(u));
        p[0] = (unsigned char)(u >> 24);
        p[1] = (unsigned char)(u >> 16);
        p[2] = (unsigned char)(u >> 8);
        p[3] = (unsigned char)u;
        if (buf_add(b, p, sizeof(p)) < 0)
            return -1;
    }
    return 0;
}

int embed_vector_unpack(const void *data, size_t len, float *out, int dim)
{
    const unsigned char *p = data;

    if (!p || dim <= 0 || len != 4 * (size_t)dim)
        return -1;
    for (int i = 0; i < dim; i++, p += 4) {
        uint32_t u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        float x;

        memcpy(&x, &u, sizeof(x));
        if (!isfinite(x))
            return -1;
        out[i] = x;
    }
    return 0;
}
