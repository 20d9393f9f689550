/*
 * rank.c - the pure parts of retrieval (rank.h): BM25F with proximity, the
 * 0-1 score, near-duplicate and diversity selection, cosine, snippets.
 * No database and no request: search.c feeds it rows, tests feed it arrays.
 */
#include "api/handlers/rank.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

double rank_idf(double n, double df)
{
    if (df < 0)
        df = 0;
    if (df > n)
        n = df;
    return log(1.0 + (n - df + 0.5) / (df + 0.5));
}

void rank_query_init(struct rank_query *q, double n, double bytes)
{
    memset(q, 0, sizeof(*q));
    q->n = n > 0 ? n : 0;
    q->avgdl = n > 0 && bytes > 0 ? bytes / n : 1.0;
}

int rank_query_add(struct rank_query *q, double df, int qword)
{
    int i = q->nterms;

    if (i >= RANK_MAX_TERMS)
        return -1;
    /* A word no chunk contains weighs as much as the rarest one: it counts against
     * the coverage of every candidate, but a typo or a synonym is not a veto. */
    q->idf[i] = rank_idf(q->n, df < 1 ? 1 : df);
    q->qword[i] = qword;
    q->weight[i] = 1.0;
    if (!qword)
        q->idf_sum += q->idf[i];
    q->nterms++;
    return 0;
}

void rank_query_name(struct rank_query *q, int i)
{
    if (i >= 0 && i < q->nterms && !q->qword[i] && !q->expn[i])
        q->name_mass += RANK_NAME_WEIGHT * q->idf[i];
}

int rank_query_expand(struct rank_query *q, double df, double w)
{
    int i = q->nterms;

    if (i >= RANK_MAX_TERMS)
        return -1;
    q->idf[i] = rank_idf(q->n, df < 1 ? 1 : df);
    q->expn[i] = 1;
    q->weight[i] = w > 0 ? w : 0.0;
    q->nterms++;
    return 0;
}

void rank_query_compound(struct rank_query *q, int i, uint64_t parts)
{
    parts &= ~((uint64_t)1 << i);
    if (i < 0 || i >= q->nterms || !parts || q->expn[i] || q->qword[i])
        return;
    q->expn[i] = 1;
    q->weight[i] = 1.0;
    q->origin[i] = parts;
    q->idf_sum -= q->idf[i];
}

/*
 * Coverage that the matched expansions in mask add: weight times the IDF of
 * each origin word not matched itself (each word credited once, by the
 * heaviest expansion first met: compounds and synonyms rarely overlap).
 */
static double expansion_cover(const struct rank_query *q, uint64_t mask, int *matched)
{
    uint64_t done = mask;
    double cover = 0.0;

    for (int i = 0; i < q->nterms; i++) {
        if (!q->expn[i] || !(mask >> i & 1))
            continue;
        for (int j = 0; j < q->nterms; j++) {
            if (!(q->origin[i] >> j & 1) || (done >> j & 1) || q->qword[j] || q->expn[j])
                continue;
            cover += q->weight[i] * q->idf[j];
            done |= (uint64_t)1 << j;
            (*matched)++;
        }
    }
    return cover;
}

long rank_strtol(const char *s, char **end)
{
    const char *p = s;
    unsigned long v = 0, lim;
    int neg = 0, over = 0;

    while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        p++;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    lim = neg ? (unsigned long)LONG_MAX + 1 : (unsigned long)LONG_MAX;
    if (*p < '0' || *p > '9') {
        *end = (char *)s;
        return 0;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');

        over |= v > (lim - d) / 10;
        v = over ? lim : v * 10 + d;
    }
    *end = (char *)p;
    if (neg)
        return v == (unsigned long)LONG_MAX + 1 ? LONG_MIN : -(long)v;
    return (long)v;
}

/*
 * The lexeme quoted at s (just after its opening quote) into lex (cap bytes,
 * "" when longer), undoubling quotes and backslashes; returns the text after
 * its closing quote, NULL when unterminated.
 */
static const char *tsv_lexeme(const char *s, char *lex, size_t cap)
{
    size_t k = 0;

    for (; *s; s++) {
        if (*s == '\'' && s[1] != '\'')
            break;
        if ((*s == '\'' || *s == '\\') && s[1])
            s++;   /* the first of a doubled pair */
        if (k + 1 < cap)
            lex[k++] = *s;
        else
            cap = 0;   /* too long: matches no term */
    }
    lex[cap ? k : 0] = '\0';
    return *s ? s + 1 : NULL;
}

/* 1-based index of lex in terms (n entries), 0 when absent or empty. */
static int tsv_term(const char *lex, const char *const *terms, int n)
{
    for (int i = 0; *lex && i < n; i++)
        if (terms[i] && strcmp(terms[i], lex) == 0)
            return i + 1;
    return 0;
}

/* A parsed position, in PostgreSQL's range 0..RANK_POS_LIMIT (as it clamps them itself), so
 * distances between positions cannot overflow whatever text reached the parser. */
static int tsv_pos(long p)
{
    return p < 0 ? 0 : p > RANK_POS_LIMIT ? RANK_POS_LIMIT : (int)p;
}

/* One lexeme's positions at s (after ':') counted into th (NULL: skipped); returns the text after them. */
static const char *tsv_positions(const char *s, struct rank_hits *th)
{
    if (*s != ':')
        return s;
    for (s++; *s >= '0' && *s <= '9';) {
        char *end;
        long p = rank_strtol(s, &end);

        s = end;
        if (th) {
            th->tf++;
            if (th->npos < RANK_MAX_POS)
                th->pos[th->npos++] = tsv_pos(p);
        }
        if (*s >= 'A' && *s <= 'D')
            s++;
        if (*s == ',')
            s++;
    }
    return s;
}

void rank_tsv_hits(const char *tsv, const char *const *terms, int n, int fields, struct rank_hits *h)
{
    char lex[2048];   /* PostgreSQL's lexemes are shorter than 2 KiB */
    const char *s = tsv;

    while (s && *s) {
        int t;

        while (*s == ' ')
            s++;
        if (*s != '\'')
            break;
        s = tsv_lexeme(s + 1, lex, sizeof lex);
        if (!s)
            break;
        t = tsv_term(lex, terms, n);
        if (t && fields)
            h[t - 1].field = 1;
        s = tsv_positions(s, t && !fields ? &h[t - 1] : NULL);
    }
}

/* Parse "i:p,p;j:p" into h (q->nterms entries, zeroed by the caller). */
static void parse_hits(const struct rank_query *q, const char *s, struct rank_hits *h)
{
    while (s && *s) {
        char *end;
        long t = rank_strtol(s, &end);
        struct rank_hits *th = NULL;

        if (end != s && *end == ':' && t >= 1 && t <= q->nterms)
            th = &h[t - 1];
        s = end;
        while (*s && *s != ';') {
            long p;

            s++;
            p = rank_strtol(s, &end);
            if (end == s)
                break;
            s = end;
            if (!th)
                continue;
            th->tf++;
            if (th->npos < RANK_MAX_POS)
                th->pos[th->npos++] = tsv_pos(p);
        }
        while (*s && *s != ';')
            s++;
        if (*s == ';')
            s++;
    }
}

/* Mark the terms listed in "i,j" as present in the title or heading path. */
static void parse_fields(const struct rank_query *q, const char *s, struct rank_hits *h)
{
    while (s && *s) {
        char *end;
        long t = rank_strtol(s, &end);

        if (end == s)
            return;
        if (t >= 1 && t <= q->nterms)
            h[t - 1].field = 1;
        s = *end == ',' ? end + 1 : end;
    }
}

/* Smallest distance between two ascending position lists (INT_MAX when either is empty). */
static int min_distance(const int *a, int na, const int *b, int nb)
{
    int i = 0, j = 0, best = INT_MAX;

    while (i < na && j < nb) {
        int d = a[i] - b[j];

        if (d < 0)
            d = -d;
        if (d < best)
            best = d;
        if (a[i] < b[j])
            i++;
        else
            j++;
    }
    return best;
}

/* Proximity: for each pair of content terms both present, min(idf) / distance when within the window. */
static double proximity(const struct rank_query *q, const struct rank_hits *h)
{
    double p = 0.0;

    for (int i = 0; i < q->nterms; i++) {
        if (q->qword[i] || !h[i].npos)
            continue;
        for (int j = i + 1; j < q->nterms; j++) {
            int d;

            if (q->qword[j] || !h[j].npos)
                continue;
            d = min_distance(h[i].pos, h[i].npos, h[j].pos, h[j].npos);
            if (d >= 1 && d <= RANK_PROX_WINDOW)
                p += fmin(q->idf[i], q->idf[j]) / (double)d;
        }
    }
    return p;
}

void rank_score_hits(const struct rank_query *q, const struct rank_hits *h, double dl, struct rank_cand *c)
{
    double norm = RANK_K1 * (1.0 - RANK_B + RANK_B * (dl > 0 ? dl : q->avgdl) / q->avgdl);

    c->bm25 = c->prox = c->cover = c->ctx = 0.0;
    c->matched = 0;
    c->mask = 0;
    for (int i = 0; i < q->nterms; i++) {
        double tf = (double)h[i].tf + (h[i].field ? RANK_HEAD_WEIGHT : 0.0);
        double w = q->qword[i] ? RANK_QWORD_WEIGHT : q->weight[i];

        if (tf <= 0.0)
            continue;
        c->bm25 += w * q->idf[i] * tf * (RANK_K1 + 1.0) / (tf + norm);
        c->mask |= (uint64_t)1 << i;
        if (!q->qword[i] && !q->expn[i]) {
            c->matched++;
            c->cover += q->idf[i];
        }
    }
    c->cover += expansion_cover(q, c->mask, &c->matched);
    c->prox = RANK_PROX_WEIGHT * proximity(q, h);
}

void rank_score(const struct rank_query *q, const char *hits, const char *fields, double dl, struct rank_cand *c)
{
    struct rank_hits *h = calloc((size_t)(q->nterms ? q->nterms : 1), sizeof(*h));

    c->bm25 = c->prox = c->cover = c->ctx = 0.0;
    c->matched = 0;
    c->mask = 0;
    if (!h)
        return;
    parse_hits(q, hits, h);
    parse_fields(q, fields, h);
    rank_score_hits(q, h, dl, c);
    free(h);
}

void rank_finish(const struct rank_query *q, const struct rank_select *o, struct rank_cand *c)
{
    double total = c->bm25 + c->prox + c->ctx, x, cover, ecover;

    if (c->has_vec && c->cosine > o->min_cosine)
        total += o->vec_weight * (c->cosine - o->min_cosine) * q->idf_sum;
    x = q->idf_sum > 0 ? total / q->idf_sum : 0.0;
    cover = q->idf_sum > 0 ? fmin(1.0, c->cover / q->idf_sum) : 0.0;
    ecover = q->idf_sum > 0 ? fmin(1.0, c->cover / (q->idf_sum + q->name_mass)) : 0.0;
    c->rel = x * pow(cover, RANK_ORDER_POWER);
    c->score = 1.0 - exp(-c->rel);
    c->evidence = 1.0 - exp(-x * pow(ecover, RANK_COVER_POWER));
}

double rank_feedback_parse(const struct rank_query *q, const char *text)
{
    const char *p = text;
    double sum = 0.0;

    while (p && *p) {
        char *end;
        double df = strtod(p, &end), k = 0, tf = 0;
        int ok = end != p && *end == ':';

        if (ok) {
            k = strtod(end + 1, &end);
            ok = *end == ':';
        }
        if (ok) {
            tf = strtod(end + 1, &end);
            ok = (*end == ' ' || *end == '\0') && df >= 1 && k > 0 && tf > 0;
        }
        if (ok)
            sum += fmin(k, RANK_FB_DOCS) / RANK_FB_DOCS * rank_idf(q->n, df) * tf * (RANK_K1 + 1.0) / (tf + RANK_K1);
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return sum;
}

void rank_feedback(struct rank_cand *c, size_t n, double weight)
{
    double best = 0.0;

    for (size_t i = 0; i < n; i++)
        best = fmax(best, c[i].fb);
    if (best <= 0.0 || weight <= 0.0)
        return;
    for (size_t i = 0; i < n; i++) {
        c[i].rel *= 1.0 + weight * c[i].fb / best;
        c[i].score = 1.0 - exp(-c[i].rel);
    }
    rank_sort(c, n);
}

static int cmp_pos(const void *pa, const void *pb)
{
    const struct rank_cand *a = pa, *b = pb;
    int c = strcmp(a->version ? a->version : "", b->version ? b->version : "");

    if (c)
        return c;
    return (a->ordinal > b->ordinal) - (a->ordinal < b->ordinal);
}

/* The IDF mass of the content terms in mask. */
static double mass(const struct rank_query *q, uint64_t mask)
{
    double m = 0.0;

    for (int i = 0; i < q->nterms; i++)
        if (!q->qword[i] && !q->expn[i] && (mask >> i & 1))
            m += q->idf[i];
    return m;
}

/* 1 if b is the chunk right after a in the same version. */
static int adjacent(const struct rank_cand *a, const struct rank_cand *b)
{
    return a->version && b->version && strcmp(a->version, b->version) == 0 && b->ordinal == a->ordinal + 1;
}

void rank_context(const struct rank_query *q, struct rank_cand *c, size_t n)
{
    if (n > 1)
        qsort(c, n, sizeof(*c), cmp_pos);
    for (size_t i = 0; i < n; i++) {
        double best = 0.0;
        uint64_t nb = 0;

        if (i > 0 && adjacent(&c[i - 1], &c[i])) {
            best = c[i - 1].bm25;
            nb |= c[i - 1].mask;
        }
        if (i + 1 < n && adjacent(&c[i], &c[i + 1])) {
            best = fmax(best, c[i + 1].bm25);
            nb |= c[i + 1].mask;
        }
        c[i].ctx = RANK_CTX_WEIGHT * best;
        c[i].cover += RANK_CTX_WEIGHT * mass(q, nb & ~c[i].mask);
    }
}

int rank_parse_sketch(const char *text, int *out, int max)
{
    const char *p = text;
    int n = 0;

    if (!p || *p != '{')
        return 0;
    p++;
    while (*p && *p != '}' && n < max) {
        char *end;
        long v = rank_strtol(p, &end);

        if (end == p)
            return 0;
        out[n++] = (int)v;
        p = *end == ',' ? end + 1 : end;
    }
    return n;
}

double rank_jaccard(const int *a, int na, const int *b, int nb)
{
    int i = 0, j = 0, k = 0, both = 0, cap;

    if (na <= 0 || nb <= 0)
        return 0.0;
    cap = na < nb ? na : nb;
    /* The k smallest of the union; those in both sketches estimate the shared share. */
    while (k < cap && (i < na || j < nb)) {
        if (j >= nb || (i < na && a[i] < b[j])) {
            i++;
        } else if (i >= na || b[j] < a[i]) {
            j++;
        } else {
            both++;
            i++;
            j++;
        }
        k++;
    }
    return (double)both / (double)k;
}

static int cmp_rel(const void *pa, const void *pb)
{
    const struct rank_cand *a = pa, *b = pb;
    int c;

    if (a->rel != b->rel)
        return a->rel > b->rel ? -1 : 1;
    c = strcmp(a->id ? a->id : "", b->id ? b->id : "");
    if (c)
        return c;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

void rank_sort(struct rank_cand *c, size_t n)
{
    if (n > 1)
        qsort(c, n, sizeof(*c), cmp_rel);
}

/* 1 if c is a near-duplicate of one of the n picked. */
static int is_duplicate(const struct rank_cand *c, const struct rank_cand *picked, int n)
{
    for (int i = 0; i < n; i++)
        if (rank_jaccard(c->sketch, c->nsketch, picked[i].sketch, picked[i].nsketch) >= RANK_DUP_JACCARD)
            return 1;
    return 0;
}

/* 1 if row idx is among the n picked. */
static int picked_already(size_t idx, const struct rank_cand *picked, int n)
{
    for (int i = 0; i < n; i++)
        if (picked[i].idx == idx)
            return 1;
    return 0;
}

/* How many of the n picked come from doc. */
static int doc_count(const char *doc, const struct rank_cand *picked, int n)
{
    int k = 0;

    for (int i = 0; i < n; i++)
        if (doc && picked[i].doc && strcmp(doc, picked[i].doc) == 0)
            k++;
    return k;
}

int rank_pick(const struct rank_cand *c, size_t n, const struct rank_select *o, struct rank_cand *out)
{
    int k = 0;
    size_t i;

    for (i = 0; i < n && c[i].evidence < o->min_score; i++)
        ;
    if (i == n)
        return 0;   /* no candidate is evidence: abstain */
    /* First pass: the diversity cap holds; second pass: fill with what it deferred. */
    for (int pass = 0; pass < 2 && k < o->top_k; pass++) {
        for (i = 0; i < n && k < o->top_k; i++) {
            int in_doc;

            if (c[i].score < RANK_TAIL * o->min_score)
                break;   /* sorted: nothing after it is evidence */
            if (picked_already(c[i].idx, out, k) || is_duplicate(&c[i], out, k))
                continue;
            in_doc = doc_count(c[i].doc, out, k);
            if (pass == 0 && o->max_per_doc > 0 && in_doc >= o->max_per_doc)
                continue;
            out[k++] = c[i];
        }
    }
    return k;
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
