/*
 * gen_chunks.c - synthetic corpus for bench/search_bench.mjs.
 *
 * Writes a psql script on stdout that loads documents, succeeded runs, active
 * versions, chunks and their embeddings for one tenant, as the worker would
 * have stored them: the embeddings come from common/embed.h's hash provider
 * (the same code and settings core-api embeds queries with), so vector
 * re-ranking behaves as in production.
 *
 * Text: sentences of words drawn with a Zipf distribution from a vocabulary of
 * synthetic words (deterministic from the seed), about 1000 bytes per chunk,
 * 50 chunks per document.
 *
 *   gen_chunks corpus TENANT_UUID FIRST_DOC NDOCS [DIM [MODEL]]   > load.sql
 *                    (GEN_NO_ANALYZE=1 leaves out the closing ANALYZE)
 *   gen_chunks queries N [SEED]                                    (one query per line)
 *
 * Build (no Makefile rule; search_bench.mjs does this):
 *   cc -O2 -D_GNU_SOURCE -Isrc bench/gen_chunks.c build/libcommon.a \
 *      $(pkg-config --cflags --libs jansson libpq libcurl openssl uuid) -lm -o build/bench/gen_chunks
 */
#include "common/buf.h"
#include "common/embed.h"
#include "common/ids.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VOCAB 6000
#define CHUNKS_PER_DOC 50
#define CHUNK_BYTES 1000
#define MAX_TEXT 2048

static char vocab[VOCAB][16];
static double cdf[VOCAB];

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    /* xorshift64*: deterministic, good enough for text */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static double rng_unit(void)
{
    return (double)(rng() >> 11) / (double)(1ull << 53);
}

static void vocab_init(void)
{
    static const char *const syl[] = {"ka", "lo", "mi", "re", "su", "ta", "ven", "dor", "pli", "qua",
                                      "zen", "bro", "cal", "fin", "gar", "hul", "jor", "nex", "pon", "tri",
                                      "val", "wex", "yor", "mon", "sel", "ard", "est", "ion", "ule", "orn"};
    size_t ns = sizeof(syl) / sizeof(syl[0]);
    double sum = 0.0;
    int i;

    for (i = 0; i < VOCAB; i++) {
        int n = 2 + (int)(rng() % 3), k;

        vocab[i][0] = '\0';
        for (k = 0; k < n; k++)
            strncat(vocab[i], syl[rng() % ns], sizeof(vocab[i]) - strlen(vocab[i]) - 1);
    }
    for (i = 0; i < VOCAB; i++) {
        sum += 1.0 / (double)(i + 1);
        cdf[i] = sum;
    }
    for (i = 0; i < VOCAB; i++)
        cdf[i] /= sum;
}

static const char *zipf_word(void)
{
    double u = rng_unit();
    int lo = 0, hi = VOCAB - 1;

    while (lo < hi) {
        int mid = (lo + hi) / 2;

        if (cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return vocab[lo];
}

/* English glue words make the text look like prose (they are stop words to FTS). */
static const char *const glue[] = {"the", "of", "and", "to", "in", "is", "for", "with", "on", "by",
                                   "that", "this", "from", "at", "as", "be", "are", "was", "it", "an"};

static size_t make_text(char *out, size_t cap)
{
    size_t len = 0;

    while (len < CHUNK_BYTES) {
        int words = 6 + (int)(rng() % 13), w;

        for (w = 0; w < words && len + 40 < cap; w++) {
            const char *word = (rng() % 3 == 0) ? glue[rng() % (sizeof(glue) / sizeof(glue[0]))] : zipf_word();
            int n = snprintf(out + len, cap - len, "%s%s", w ? " " : (len ? " " : ""), word);

            if (w == 0)
                out[len + (len ? 1 : 0)] = (char)(out[len + (len ? 1 : 0)] - 'a' + 'A');
            len += (size_t)n;
        }
        if (len + 2 >= cap)
            break;
        out[len++] = '.';
        out[len] = '\0';
    }
    return len;
}

/*
 * The COPY of one document's embeddings: each vector in its stored form
 * (embed.h: big-endian float4 bytes) as a bytea in COPY's text format. 0 or -1.
 */
static int print_embeddings(char (*ids)[ID_UUID_LEN + 1], const float *vecs, const char *tenant,
                            const char *model, int dim)
{
    struct buf vb;

    buf_init(&vb, (size_t)dim * 4);
    printf("\\.\nCOPY chunk_embeddings (chunk_id, tenant_id, model, dim, vector) FROM stdin;\n");
    for (int i = 0; i < CHUNKS_PER_DOC; i++) {
        buf_reset(&vb);
        if (embed_vector_pack(&vb, vecs + (size_t)i * (size_t)dim, dim) < 0) {
            fprintf(stderr, "gen_chunks: out of memory\n");
            buf_release(&vb);
            return -1;
        }
        printf("%s\t%s\t%s\t%d\t\\\\x", ids[i], tenant, model, dim);
        for (size_t k = 0; k < vb.len; k++)
            printf("%02x", (unsigned char)vb.ptr[k]);
        printf("\n");
    }
    buf_release(&vb);
    return 0;
}

static int corpus(const char *tenant, long first, long ndocs, int dim, const char *model)
{
    struct embed_config ec = {"hash", NULL, model, NULL, dim, 0, 0};
    struct embedder *e;
    char err[256];
    static char texts[CHUNKS_PER_DOC][MAX_TEXT];
    const char *ptrs[CHUNKS_PER_DOC];
    size_t lens[CHUNKS_PER_DOC];
    float *vecs;
    char ids[CHUNKS_PER_DOC][ID_UUID_LEN + 1];
    long d;
    int i;

    e = embed_new(&ec, err, sizeof(err));
    if (!e) {
        fprintf(stderr, "gen_chunks: %s\n", err);
        return 1;
    }
    vecs = malloc(sizeof(float) * (size_t)dim * CHUNKS_PER_DOC);
    if (!vecs)
        return 1;
    rng_state ^= (uint64_t)first * 0x9E3779B97F4A7C15ull + 1;
    printf("\\set ON_ERROR_STOP on\nBEGIN;\n");
    for (d = first; d < first + ndocs; d++) {
        char doc[ID_UUID_LEN + 1], run[ID_UUID_LEN + 1], ver[ID_UUID_LEN + 1];
        long off = 0;

        id_uuid_new(doc);
        id_uuid_new(run);
        id_uuid_new(ver);
        /* Generated rows (uuids, numbers), loaded with COPY like the chunks below. */
        printf("COPY documents (doc_id, tenant_id, source_type, source_uri, title) FROM stdin;\n"
               "%s\t%s\tupload\tupload://sha256:bench%ld\tBench document %ld\n\\.\n", doc, tenant, d, d);
        printf("COPY ingestion_runs (run_id, tenant_id, doc_id, status, content_hash) FROM stdin;\n"
               "%s\t%s\t%s\tsucceeded\tbench%ld\n\\.\n", run, tenant, doc, d);
        printf("COPY document_versions (version_id, tenant_id, doc_id, run_id, content_hash, is_active,"
               " byte_size, mime, uploaded_at) FROM stdin;\n"
               "%s\t%s\t%s\t%s\tbench%ld\tt\t%d\ttext/plain\t2026-01-01 00:00:00+00\n\\.\n",
               ver, tenant, doc, run, d, CHUNKS_PER_DOC * CHUNK_BYTES);
        for (i = 0; i < CHUNKS_PER_DOC; i++) {
            lens[i] = make_text(texts[i], MAX_TEXT);
            ptrs[i] = texts[i];
            id_uuid_new(ids[i]);
        }
        if (embed_texts(e, ptrs, lens, CHUNKS_PER_DOC, vecs, err, sizeof(err)) < 0) {
            fprintf(stderr, "gen_chunks: %s\n", err);
            return 1;
        }
        printf("COPY chunks (chunk_id, tenant_id, doc_id, version_id, ordinal, text, char_start, char_end) "
               "FROM stdin;\n");
        for (i = 0; i < CHUNKS_PER_DOC; i++) {
            /* the generated text has no tab, newline or backslash: no COPY escaping needed */
            printf("%s\t%s\t%s\t%s\t%d\t%s\t%ld\t%ld\n", ids[i], tenant, doc, ver, i, texts[i], off,
                   off + (long)lens[i]);
            off += (long)lens[i];
        }
        if (print_embeddings(ids, vecs, tenant, embed_model(e), dim) < 0)
            return 1;
        printf("\\.\n");
    }
    /* GEN_NO_ANALYZE=1: the caller loads many tenants and analyzes once at the end. */
    printf("COMMIT;\n%s", getenv("GEN_NO_ANALYZE") ? "" : "ANALYZE documents, document_versions, chunks, chunk_embeddings;\n");
    free(vecs);
    embed_free(&e);
    return 0;
}

/* Natural-language questions over the vocabulary: a few content words, some glue. */
static int queries(long n)
{
    long i;

    for (i = 0; i < n; i++) {
        /* skip the very top of the Zipf head (words in most chunks), as real questions would */
        const char *a = vocab[20 + rng() % 2000], *b = zipf_word(), *c = vocab[20 + rng() % 500];

        switch (rng() % 5) {
        case 0: printf("how does %s %s work with %s?\n", a, b, c); break;
        case 1: printf("what is the %s of %s %s\n", a, b, c); break;
        case 2: printf("%s %s %s\n", a, b, c); break;
        case 3: printf("why is %s %s for %s?\n", a, b, c); break;
        default: printf("where do %s and %s meet %s\n", a, b, c); break;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    vocab_init();
    if (argc >= 5 && strcmp(argv[1], "corpus") == 0) {
        int dim = argc >= 6 ? (int)strtol(argv[5], NULL, 10) : 256;
        const char *model = argc >= 7 ? argv[6] : "hash-v1";

        if (!id_is_uuid(argv[2]))
            return 2;
        return corpus(argv[2], strtol(argv[3], NULL, 10), strtol(argv[4], NULL, 10), dim, model);
    }
    if (argc >= 3 && strcmp(argv[1], "queries") == 0) {
        if (argc >= 4)
            rng_state ^= (uint64_t)strtoull(argv[3], NULL, 10) * 0x9E3779B97F4A7C15ull + 7;
        return queries(strtol(argv[2], NULL, 10));
    }
    fprintf(stderr, "usage: gen_chunks corpus TENANT FIRST_DOC NDOCS [DIM [MODEL]] | queries N [SEED]\n");
    return 2;
}
