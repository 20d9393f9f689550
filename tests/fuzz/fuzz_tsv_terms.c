/*
 * libFuzzer: a tsvector's text into search's hits and fields
 * (rank_tsv_terms) on arbitrary input: the first input line is the terms,
 * space-separated, the rest the tsvector text. Checks: the output fits the
 * documented size (2 * strlen + 16) with room to spare, its length is the one
 * returned, and every index in it names one of the terms.
 */
#include "api/handlers/rank.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless every number of s before a ':' (hits) or each one (fields) is in 1..n. */
static void check_indexes(const char *s, int n, int fields)
{
    int head = 1;

    while (*s) {
        char *end;
        long v = rank_strtol(s, &end);

        if (end == s)
            abort();
        if ((fields || head) && (v < 1 || v > n))
            abort();
        head = fields || *end == ';';
        s = *end ? end + 1 : end;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1), *nl, *out;
    const char *terms[64];
    int n = 0;
    size_t cap;

    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    nl = strchr(in, '\n');
    if (nl)
        *nl = '\0';
    for (char *save = NULL, *t = strtok_r(nl ? in : in + size, " ", &save); t && n < 64; t = strtok_r(NULL, " ", &save))
        terms[n++] = t;
    cap = 2 * strlen(nl ? nl + 1 : in) + 16;
    out = malloc(cap);
    for (int fields = 0; out && fields < 2; fields++) {
        size_t len = rank_tsv_terms(nl ? nl + 1 : in, terms, n, fields, out, cap);

        if (len != strlen(out) || len + 1 >= cap)
            abort();
        check_indexes(out, n, fields);
    }
    free(out);
    free(in);
    return 0;
}
