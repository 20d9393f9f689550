/*
 * rank.c - the pure parts of retrieval (rank.h): reciprocal rank fusion,
 * cosine similarity, the evidence rule that answers or abstains, snippets.
 * No database and no request: search.c feeds it rows, tests feed it arrays.
 */
#include "api/handlers/rank.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double rank_rrf(int rank, int k)
{
    if (rank < 1)
        return 0.0;
    return 1.0 / ((double)k + (double)rank);
}

double rank_cosine(const float *a, const float *b, int dim)
{
    double dot = 0.0, na = 0.0, nb = 0.0;
    int i;

    if (!a || !b || dim <= 0)
        return 0.0;
    for (i = 0; i < dim; i++) {
        dot += (double)a[i] * (double)b[i];
        na += (double)a[i] * (double)a[i];
        nb += (double)b[i] * (double)b[i];
    }
    if (na <= 0.0 || nb <= 0.0)
        return 0.0;
    return dot / (sqrt(na) * sqrt(nb));
}

int rank_parse_vector(const char *text, float *out, int dim)
{
    const char *p = text;
    int i = 0;

    if (!p || *p != '{' || dim <= 0)
        return -1;
    p++;
    if (*p == '}')
        return -1;
    for (;;) {
        char *end;
        float v;

        if (i >= dim)
            return -1;
        errno = 0;
        v = strtof(p, &end);
        if (end == p || errno == ERANGE || !isfinite(v))
            return -1;
        out[i++] = v;
        p = end;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '}' && p[1] == '\0')
            break;
        return -1;
    }
    return i == dim ? 0 : -1;
}

/* Sort helpers: qsort is not stable, so every comparison ends on idx. */
static int cmp_fts(const void *pa, const void *pb)
{
    const struct rank_cand *a = pa, *b = pb;

    if (a->fts != b->fts)
        return a->fts > b->fts ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int cmp_vec(const void *pa, const void *pb)
{
    const struct rank_cand *a = pa, *b = pb;

    /* candidates without a vector go last */
    if (a->has_vec != b->has_vec)
        return a->has_vec ? -1 : 1;
    if (a->has_vec && a->cosine != b->cosine)
        return a->cosine > b->cosine ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int cmp_fused(const void *pa, const void *pb)
{
    const struct rank_cand *a = pa, *b = pb;

    if (a->fused != b->fused)
        return a->fused > b->fused ? -1 : 1;
    if (a->fts_rank != b->fts_rank)
        return a->fts_rank < b->fts_rank ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

void rank_fuse(struct rank_cand *c, size_t n, int k)
{
    size_t i;

    if (n == 0)
        return;
    qsort(c, n, sizeof(*c), cmp_fts);
    for (i = 0; i < n; i++)
        c[i].fts_rank = (int)i + 1;
    qsort(c, n, sizeof(*c), cmp_vec);
    for (i = 0; i < n; i++)
        c[i].vec_rank = c[i].has_vec ? (int)i + 1 : 0;
    for (i = 0; i < n; i++)
        c[i].fused = rank_rrf(c[i].fts_rank, k) + rank_rrf(c[i].vec_rank, k);
    qsort(c, n, sizeof(*c), cmp_fused);
}

int rank_required_matches(int nlex)
{
    int need;

    if (nlex <= 0)
        return 1;
    need = (int)ceil(RANK_MIN_COVERAGE * (double)nlex - 1e-9);
    if (need < 1)
        need = 1;
    if (need > RANK_MATCH_CAP)
        need = RANK_MATCH_CAP;
    return need;
}

int rank_is_evidence(const struct rank_cand *c, double min_cosine)
{
    if (c->matched < 1)
        return 0;
    if (c->matched >= rank_required_matches(c->nlex))
        return 1;
    return c->has_vec && c->cosine >= min_cosine;
}

int rank_snippet(const char *in, size_t len, struct buf *out)
{
    size_t i, start = 0;
    int open = 0;

    /* Copy runs of ordinary bytes at once; act on the few special ones. */
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        const char *rep = NULL;
        int skip = 0;

        switch (ch) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case (unsigned char)RANK_MARK_OPEN:
            if (open)
                skip = 1;
            else
                rep = "<mark>";
            open = 1;
            break;
        case (unsigned char)RANK_MARK_CLOSE:
            if (!open)
                skip = 1;
            else
                rep = "</mark>";
            open = 0;
            break;
        case '\t':
        case '\n':
            break;
        default:
            if (ch < 0x20 || ch == 0x7f)
                rep = " ";
            break;
        }
        if (!rep && !skip)
            continue;
        if (i > start && buf_add(out, in + start, i - start) < 0)
            return -1;
        if (rep && buf_adds(out, rep) < 0)
            return -1;
        start = i + 1;
    }
    if (i > start && buf_add(out, in + start, i - start) < 0)
        return -1;
    if (open && buf_adds(out, "</mark>") < 0)
        return -1;
    if (!out->ptr && buf_add(out, "", 0) < 0)
        return -1;
    return 0;
}
