/*
 * rank.h - the pure parts of retrieval (search.c): BM25F with proximity,
 * the 0-1 score and the threshold that decides answer or abstain, near-duplicate
 * and per-document diversity selection, cosine similarity, snippet escaping. No I/O, no database: unit-testable on their own.
 * docs/retrieval.md explains how they fit together and why the numbers are
 * what they are.
 */
#ifndef API_RANK_H
#define API_RANK_H

#include "common/buf.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Ranking (docs/retrieval.md "Ranking"): BM25F over the query's lexemes with
 * per-tenant document frequencies (term_stats, active versions only), the
 * document title and the chunk's heading path as a second field, proximity of
 * the query's words, and optionally the embedding's cosine. A candidate's
 * relevance x is that total divided by the query's IDF mass (what a chunk
 * matching every word once, at average length, would get), and its score is
 * 1 - exp(-x): 0..1, the same scale for every query.
 */
#define RANK_MAX_TERMS 64      /* lexemes of a query that are ranked (the rarest) */
#define RANK_MAX_EXPAND 16     /* of which expansions at most (expand.h; the query's own words first) */
#define RANK_K1 1.2
#define RANK_B 0.75
#define RANK_HEAD_WEIGHT 2.0   /* a title or heading match counts as this many body occurrences */
#define RANK_QWORD_WEIGHT 0.3  /* question words ("how long", "use") weigh this much of their IDF */
#define RANK_PROX_WEIGHT 0.5   /* weight of the proximity evidence */
#define RANK_PROX_WINDOW 8     /* words: farther apart, two query words are not near */
#define RANK_MAX_POS 64        /* positions of one lexeme read per chunk */
#define RANK_POS_LIMIT 16383   /* PostgreSQL's largest tsvector position (MAXENTRYPOS - 1); larger ones read as it */
#define RANK_SKETCH 16         /* bottom-k sketch size of a chunk's lexemes (near-duplicates) */
#define RANK_COVER_POWER 2.0   /* evidence (abstain): the matched IDF share to this power */
#define RANK_ORDER_POWER 1.0   /* order and score: the matched IDF share to this power */
#define RANK_FB_DOCS 3         /* pseudo-relevance feedback: the best candidates its words come from */
#define RANK_FB_TERMS 10       /* ... and how many of their words (rank_feedback) */
#define RANK_NAME_WEIGHT 1.0   /* an unknown name's extra weight against evidence (rank_query_name) */
#define RANK_CTX_WEIGHT 0.3    /* share of an adjacent chunk's evidence added to a chunk's (passage context) */
#define RANK_TAIL 0.5          /* once one result reaches min_score, others need this share of it */
#define RANK_DUP_JACCARD 0.7   /* estimated Jaccard similarity at or above which chunks are near-duplicates */

/* Defaults of the settings (docs/configuration.md). */
#define RANK_MIN_COSINE 0.25   /* SEARCH_MIN_COSINE: cosine below it is no evidence */
#define RANK_MIN_SCORE 0.13    /* SEARCH_MIN_SCORE: the abstain threshold on evidence */

/* Markers ts_headline() is asked to put around matches; rank_snippet() turns them into <mark>. */
#define RANK_MARK_OPEN '\x01'
#define RANK_MARK_CLOSE '\x02'

/* The query as ranked: its lexemes' statistics (in the order of the SQL's term array). */
struct rank_query {
    int nterms;
    double idf[RANK_MAX_TERMS];
    int qword[RANK_MAX_TERMS];   /* 1: a question word (weight RANK_QWORD_WEIGHT, not in idf_sum) */
    int expn[RANK_MAX_TERMS];    /* 1: an expansion (a compound or synonym of origin's words, not in idf_sum) */
    double weight[RANK_MAX_TERMS];    /* an expansion's weight (1 for the query's own words) */
    uint64_t origin[RANK_MAX_TERMS];  /* an expansion's query words (bit j: term j) */
    double n;                    /* active chunks of the tenant */
    double avgdl;                /* their mean length in bytes */
    double idf_sum;              /* IDF mass of the content words */
    double name_mass;            /* IDF of the unknown names (rank_query_name), again: evidence only */
};

struct rank_cand {
    size_t idx;          /* caller's row index, carried through the sort */
    const char *id;      /* chunk_id: the last tie-break */
    const char *doc;     /* doc_id: per-document diversity */
    const char *version; /* version_id and ordinal: adjacent chunks (context) */
    int ordinal;
    uint64_t mask;       /* query terms matched (bit i: term i) */
    double ctx;          /* context part: RANK_CTX_WEIGHT of the best adjacent candidate's bm25 */
    double bm25;         /* BM25F part of the relevance */
    double prox;         /* proximity part */
    int matched;         /* distinct content words matched (body or heading) */
    double cover;        /* IDF mass of those words (divided by idf_sum in rank_finish) */
    int has_vec;         /* 1 if cosine is meaningful (same model and dim as the query) */
    double cosine;       /* cosine similarity with the query, when has_vec */
    double rel;          /* relevance: x = (bm25 + prox + ctx + vector) / idf_sum, times (cover / idf_sum) */
    double score;        /* 1 - exp(-rel) */
    double evidence;     /* 1 - exp(-x * cover^RANK_COVER_POWER): whether the chunk is evidence at all */
    double fb;           /* feedback words' evidence in the chunk (rank_feedback_parse) */
    int nsketch;
    int sketch[RANK_SKETCH];   /* the smallest hashes of the chunk's lexemes, ascending */
};

/* Selection settings. */
struct rank_select {
    double min_score;     /* evidence threshold */
    double min_cosine;    /* cosine below this adds nothing */
    double vec_weight;    /* weight of (cosine - min_cosine) in rel */
    int max_per_doc;      /* at most this many results of one document while others have evidence */
    int top_k;
};

/* Robertson/Sparck Jones IDF with the +1 of Lucene's BM25 (never negative); df 0 counts as unseen. */
double rank_idf(double n, double df);

/* Start q for a tenant of n chunks holding bytes bytes. */
void rank_query_init(struct rank_query *q, double n, double bytes);

/* Add the next lexeme (df: its document frequency; qword: 1 for a question word); -1 when full. */
int rank_query_add(struct rank_query *q, double df, int qword);

/*
 * Term i is a word no chunk of the tenant contains and no English word
 * (expand_names: "zsh", "ggplot2"): most likely the name of what the question
 * is about, which the documents never mention. It counts RANK_NAME_WEIGHT
 * times more against the evidence of every candidate (not against its order).
 */
void rank_query_name(struct rank_query *q, int i);

/*
 * Add the next lexeme as an expansion (a compound or synonym, df > 0) of
 * weight w; set q->origin[i] to the query words it stands for once they are
 * added. In BM25F it counts w times; for coverage, a matched expansion
 * covers w of the IDF of each of its origin words the chunk lacks. -1 when full.
 */
int rank_query_expand(struct rank_query *q, double df, double w);

/*
 * Term i, one of the query's own content words, is a hyphenated compound whose
 * parts are the query words in parts ("c-style" and "c", "style": PostgreSQL's
 * parser yields all three): make it an expansion of weight 1 standing for them,
 * out of the IDF mass, so the compound and its parts are not counted twice (a
 * chunk that writes "c-style" covers both parts). No-op when parts is 0.
 */
void rank_query_compound(struct rank_query *q, int i, uint64_t parts);

/* One term's evidence in a chunk: its word positions (ascending, at most RANK_MAX_POS), and the title or heading. */
struct rank_hits {
    int tf;
    int npos;
    int pos[RANK_MAX_POS];
    int field;   /* 1: in the title or heading path */
};

/*
 * Score one candidate into c (bm25, prox, matched) from h (q->nterms entries,
 * filled by rank_tsv_hits) and dl, its length in bytes.
 */
void rank_score_hits(const struct rank_query *q, const struct rank_hits *h, double dl, struct rank_cand *c);

/*
 * Score one candidate into c (bm25, prox, matched): hits is "i:p,p,...;j:p,..."
 * (1-based term index into q, then the lexeme's word positions in the chunk),
 * fields is "i,j,..." (terms present in the title or heading path), dl its length
 * in bytes. NULL or empty strings mean no match. Malformed parts are skipped.
 * The same as rank_score_hits on those lists (the unit tests' compact form).
 */
void rank_score(const struct rank_query *q, const char *hits, const char *fields, double dl, struct rank_cand *c);

/*
 * Passage context: each candidate gets RANK_CTX_WEIGHT of the BM25 of the best
 * adjacent chunk (same version, ordinal +-1) among the candidates, and of the
 * IDF mass of the words only that neighbour matches. c is reordered.
 */
void rank_context(const struct rank_query *q, struct rank_cand *c, size_t n);

/* Combine c's parts (and cosine) into rel and score. */
void rank_finish(const struct rank_query *q, const struct rank_select *o, struct rank_cand *c);

/*
 * Pseudo-relevance feedback (RM3-style, without a second retrieval): the
 * words that the RANK_FB_DOCS best candidates share most, weighted by IDF, are
 * read for each of the best candidates as "df:k:tf df:k:tf ..." (df: the word's
 * document frequency, k: how many of the feedback candidates hold it, tf: its
 * occurrences in this chunk). Returns the chunk's feedback evidence: the sum
 * of k / RANK_FB_DOCS * IDF * tf (k1 + 1) / (tf + k1). Malformed parts are skipped.
 */
double rank_feedback_parse(const struct rank_query *q, const char *text);

/*
 * Add weight times each candidate's feedback evidence (its fb, relative to the
 * largest among the n) to its rel and score, and sort again. Evidence (the
 * abstain decision) is left alone: feedback words reorder, never answer.
 */
void rank_feedback(struct rank_cand *c, size_t n, double weight);

/*
 * Read PostgreSQL's text form of a tsvector ("'lex':1A,5 'it''s':3": quotes
 * and backslashes doubled inside a lexeme, a weight letter after a position)
 * straight into h (one entry per term, zeroed by the caller; counts add up):
 * each lexeme that is one of terms[0..n) (the first when repeated) adds its
 * positions to that term's tf and pos or, with fields set, sets its field.
 * Lexemes not in terms are skipped. Malformed text ends the list.
 */
void rank_tsv_hits(const char *tsv, const char *const *terms, int n, int fields, struct rank_hits *h);

/* Parse PostgreSQL's int[] text ("{-5,3}") into out (at most max); returns the count (0 on error). */
int rank_parse_sketch(const char *text, int *out, int max);

/*
 * strtol(s, end, 10) exactly (leading white space, a sign, saturation at
 * LONG_MIN / LONG_MAX, *end = s when there is no digit) but errno, without
 * the locale: the numbers of the candidate rows (hits, fields, sketches).
 */
long rank_strtol(const char *s, char **end);

/* Estimated Jaccard similarity of two bottom-k sketches (ascending); 0 if either is empty. */
double rank_jaccard(const int *a, int na, const int *b, int nb);

/* Sort by rel, descending; ties by id (strcmp), then idx: the same input always gives the same order. */
void rank_sort(struct rank_cand *c, size_t n);

/*
 * From c (sorted by rank_sort), pick at most o->top_k results into out:
 * nothing when no candidate's evidence reaches o->min_score (abstain), else those
 * with score >= RANK_TAIL * o->min_score, not a near-duplicate of one already picked, and at
 * most o->max_per_doc per document unless no other document has evidence left
 * (then the best deferred ones fill the rest, in order). Returns the count.
 */
int rank_pick(const struct rank_cand *c, size_t n, const struct rank_select *o, struct rank_cand *out);

/* Cosine similarity of a and b (dim entries); 0 when either is a zero vector or dim <= 0. */
double rank_cosine(const float *a, const float *b, int dim);

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
