/*
 * libFuzzer: search's query expansion on arbitrary query text (expand_query
 * with compounds, file-name words and WordNet synonyms, expand_variants,
 * expand_names, expand_hyphen_parts of the text against its own space-separated
 * words) and
 * rank_feedback_parse on arbitrary statement output, checking bounds: never
 * more proposals than asked, every word and origin NUL-terminated within its
 * buffer, names within theirs, a finite feedback sum; and rank_strtol against
 * libc's strtol at every offset of the text (the same value and end).
 */
#include "api/handlers/expand.h"
#include "api/handlers/rank.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wordnet *wn;
static int wn_tried;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct expansion x[EXPAND_MAX];
    struct rank_query q;
    char err[256], names[256], *text;
    int max, n;

    if (!wn_tried) {
        wn_tried = 1;
        wn = wordnet_open("/usr/share/wordnet", err, sizeof(err));   /* NULL: expansion without it */
    }
    if (size < 1)
        return 0;
    max = 1 + data[0] % EXPAND_MAX;
    text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    n = expand_query(text, data[0] & 1, (data[0] & 2) ? wn : NULL, "long take", x, max);
    if (n < 0 || n > max)
        abort();
    n = expand_variants(text, wn, x, n, max);
    if (n < 0 || n > max)
        abort();
    for (int i = 0; i < n; i++)
        if (!memchr(x[i].word, '\0', sizeof(x[i].word)) || !memchr(x[i].origin, '\0', sizeof(x[i].origin)) ||
            !(x[i].weight > 0))
            abort();
    n = expand_names(text, wn, names, (size_t)(data[0] % sizeof(names)) + 1);
    if (n < 0 || !memchr(names, '\0', (size_t)(data[0] % sizeof(names)) + 1))
        abort();
    {
        const char *lex[8];
        char *save = NULL, *w, *copy = strdup(text);
        int nl = 0;

        for (w = copy ? strtok_r(copy, " ", &save) : NULL; w && nl < 8; w = strtok_r(NULL, " ", &save))
            lex[nl++] = w;
        if (nl > 0 && expand_hyphen_parts(lex[0], lex, nl) >> nl)
            abort();   /* only bits of the given lexemes */
        free(copy);
    }
    for (size_t i = 0; i + 1 < size; i++) {
        char *e1, *e2;

        if (strtol(text + i, &e1, 10) != rank_strtol(text + i, &e2) || e1 != e2)
            abort();
    }
    rank_query_init(&q, 1000, 1e6);
    if (!isfinite(rank_feedback_parse(&q, text)) || rank_feedback_parse(&q, text) < 0)
        abort();
    free(text);
    return 0;
}
