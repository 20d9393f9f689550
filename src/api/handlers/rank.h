/*
 * rank.h - the pure parts of retrieval (search.c): reciprocal rank fusion,
 * cosine similarity, the evidence threshold that decides answer or abstain,
 * and the snippet escaping. No I/O, no database: unit-testable on their own.
 * docs/retrieval.md explains how they fit together and why the numbers are
 * what they are.
 */
#ifndef API_RANK_H
#define API_RANK_H

#include "common/buf.h"

#include <stddef.h>

/* Reciprocal rank fusion constant (Cormack et al. 2009). */
#define RANK_RRF_K 60

/*
 * Evidence threshold (docs/retrieval.md "Abstain"): a candidate is evidence when
 * it matched at least one query lexeme in full-text search AND either
 *  - it matched at least min(RANK_MATCH_CAP, ceil(RANK_MIN_COVERAGE * nlex))
 *    of the query's nlex distinct lexemes, or
 *  - its embedding's cosine similarity with the query is >= min_cosine
 *    (SEARCH_MIN_COSINE, default RANK_MIN_COSINE: calibrated for the hash embedder).
 */
#define RANK_MIN_COVERAGE 0.5
#define RANK_MATCH_CAP 3
#define RANK_MIN_COSINE 0.25

/* Markers ts_headline() is asked to put around matches; rank_snippet() turns them into <mark>. */
#define RANK_MARK_OPEN '\x01'
#define RANK_MARK_CLOSE '\x02'

struct rank_cand {
    /* inputs */
    double fts;          /* ts_rank_cd of the candidate (higher is better) */
    int has_vec;         /* 1 if cosine is meaningful (same model and dim as the query) */
    double cosine;       /* cosine similarity with the query, when has_vec */
    int matched;         /* distinct query lexemes present in the chunk */
    int nlex;            /* distinct lexemes of the query */
    size_t idx;          /* caller's row index, carried through the sort */
    /* outputs of rank_fuse */
    int fts_rank;        /* 1-based rank by fts (ties broken by idx) */
    int vec_rank;        /* 1-based rank by cosine among has_vec candidates, 0 if none */
    double fused;        /* RRF score: 1/(k+fts_rank) + 1/(k+vec_rank) (second term only with a vector) */
};

/* 1/(k + rank) for rank >= 1, else 0. */
double rank_rrf(int rank, int k);

/* Cosine similarity of a and b (dim entries); 0 when either is a zero vector or dim <= 0. */
double rank_cosine(const float *a, const float *b, int dim);

/*
 * Parse PostgreSQL's text form of a real[] ("{0.1,-2e-05,...}") into out.
 * Returns 0 when it holds exactly dim finite numbers, -1 otherwise.
 */
int rank_parse_vector(const char *text, float *out, int dim);

/*
 * Assign fts_rank, vec_rank and fused with constant k, then sort c by fused
 * (descending; ties by fts_rank, then idx). n may be 0.
 */
void rank_fuse(struct rank_cand *c, size_t n, int k);

/* Lexemes a candidate must match to pass on coverage alone, for a query of nlex lexemes. */
int rank_required_matches(int nlex);

/* 1 if the candidate is evidence by the threshold above, else 0. */
int rank_is_evidence(const struct rank_cand *c, double min_cosine);

/*
 * Turn ts_headline() output made with RANK_MARK_OPEN/RANK_MARK_CLOSE as
 * StartSel/StopSel into the API's snippet format: & < > escaped as entities,
 * the markers replaced by <mark> and </mark>. Markers are kept balanced
 * (a stray close is dropped, an unclosed open is closed at the end), and
 * any other control character except tab and newline becomes a space.
 * Appends to out; returns 0, or -1 if out's maximum was reached (out released).
 */
int rank_snippet(const char *in, size_t len, struct buf *out);

#endif
