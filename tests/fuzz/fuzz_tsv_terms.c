/*
 * libFuzzer: a tsvector's text read into search's per-term evidence
 * (rank_tsv_hits) on arbitrary input: the first input line is the terms,
 * space-separated, the rest the tsvector text. Checks: nothing is written
 * past the n terms' entries (a guard entry after them stays zero), every
 * term keeps at most RANK_MAX_POS positions and no more than its count, a
 * fields pass sets only fields and leaves the positions as they were, and
 * the scores made from them (rank_score_hits) are finite.
 */
#include "api/handlers/rank.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless h[0..n) is within bounds and h[n] (the guard) is untouched. */
static void check_hits(const struct rank_hits *h, int n)
{
    static const struct rank_hits zero;

    for (int i = 0; i < n; i++)
        if (h[i].npos < 0 || h[i].npos > RANK_MAX_POS || h[i].npos > h[i].tf || (h[i].field & ~1))
            abort();
    for (int i = 0; i < n; i++)
        for (int k = 0; k < h[i].npos; k++)
            if (h[i].pos[k] < 0 || h[i].pos[k] > RANK_POS_LIMIT)
                abort();
    if (memcmp(&h[n], &zero, sizeof zero) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1), *nl;
    const char *terms[RANK_MAX_TERMS];
    struct rank_hits *h = calloc(RANK_MAX_TERMS + 1, sizeof(*h)), *before = malloc(sizeof(*h) * (RANK_MAX_TERMS + 1));
    struct rank_query q;
    struct rank_cand c;
    int n = 0;

    if (in && h && before) {
        memcpy(in, data, size);
        in[size] = '\0';
        nl = strchr(in, '\n');
        if (nl)
            *nl = '\0';
        for (char *save = NULL, *t = strtok_r(nl ? in : in + size, " ", &save); t && n < RANK_MAX_TERMS;
             t = strtok_r(NULL, " ", &save))
            terms[n++] = t;
        rank_tsv_hits(nl ? nl + 1 : in, terms, n, 0, h);
        check_hits(h, n);
        memcpy(before, h, sizeof(*h) * (RANK_MAX_TERMS + 1));
        rank_tsv_hits(nl ? nl + 1 : in, terms, n, 1, h);
        check_hits(h, n);
        for (int i = 0; i < n; i++)
            if (h[i].tf != before[i].tf || h[i].npos != before[i].npos)
                abort();
        rank_query_init(&q, 1000, 1000 * 1000);
        for (int i = 0; i < n; i++)
            rank_query_add(&q, (double)(i * 7 % 50), i % 5 == 4);
        rank_score_hits(&q, h, 900, &c);
        if (!isfinite(c.bm25) || !isfinite(c.prox) || !isfinite(c.cover))
            abort();
    }
    free(before);
    free(h);
    free(in);
    return 0;
}
