/*
 * search.c - POST /v1/search: hybrid retrieval over the caller's tenant's
 * active versions, with citations, or an honest abstention.
 *
 * A first statement reads the query's lexemes with their per-tenant document
 * frequencies (term_stats); a second fetches the candidates (chunks holding
 * one of the rarest content words, or every one of them when the rarest alone
 * passes a fixed budget, at most SEARCH_CANDIDATES) with what rank.c
 * needs: term positions, title and heading matches, near-duplicate sketches;
 * a third the vectors of the candidates that can still reach the pick window
 * (search_vector_reach; their stored bytes, embed.h); with feedback only, a fourth the
 * feedback words of the best. rank.c scores them (BM25F, proximity, a 0-1 score), and picks the
 * results (threshold, near-duplicates, per-document cap); a last statement
 * makes the snippets of the chunks returned. Every statement is prepared once
 * per pooled connection (db_query_prepared). docs/retrieval.md has the
 * reasoning and the figures.
 *
 * Latest-only and tenant isolation live in the SQL: every chunk is joined to
 * an active version and a live document of the caller's tenant (from the
 * token), so nothing else can ever become a citation.
 */
#include "api/handlers/search.h"

#include "api/handlers/expand.h"
#include "api/handlers/rank.h"
#include "api/handlers/rows.h"
#include "api/handlers/snippet.h"
#include "common/config.h"
#include "common/db.h"
#include "common/embed.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/utf8.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_TOP_K_DEFAULT 8
#define SEARCH_TOP_K_MAX 50
#define SEARCH_QUERY_MAX_CHARS 1000
/*
 * Candidates scored (pre-ranked by ts_rank_cd when more match), or the best
 * top_k * SEARCH_PICK_FACTOR + SEARCH_PICK_EXTRA when that is more (top_k 50).
 * 200 until issue 13's fourth pass: 100 with SEARCH_RARE_BUDGET 250 measured
 * no loss on bench/retrieval_eval.mjs (HTML the same, PDF MRR@10 +0.3 points)
 * for about a third less CPU a search; 64 with 200 lost 4 points of PDF
 * recall@5 (docs/retrieval.md "At scale, fourth pass").
 */
#define SEARCH_CANDIDATES 100
#define SEARCH_SNIPPET_MAX (64 * 1024)
/*
 * The most chunks one candidate statement reads from the index, whatever
 * matches (a widened query, or the fallback to the rarest word when its
 * chunks holding every rare word are too few, over a big corpus): beyond it,
 * chunks are not pre-ranked at all. 4000 until issue 13's fourth pass: at a
 * million chunks those statements were the big tenant's slowest searches;
 * 1000 changed no citation on the benchmark's 100k chunks nor any figure of
 * bench/retrieval_eval.mjs.
 */
#define SEARCH_SCAN_CAP 1000
/* The message of a statement error that is the request's fault (req_db_error). */
#define SEARCH_DB_WHAT "invalid search query"

/*
 * The query as an OR of its lexemes. Built from to_tsvector() rather than
 * plainto_tsquery() because the latter raises a NOTICE for a query made only
 * of stop words; here such a query is simply NULL and matches nothing.
 * Lexemes are quoted for the tsquery parser (\ and ' escaped) and cast, not
 * re-normalized, so they stay exactly as to_tsvector() made them.
 */
#define SEARCH_QUOTE_LEXEME "'''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || ''''"
#define SEARCH_XSTR(x) #x
#define SEARCH_STR(x) SEARCH_XSTR(x)
/* The query's own lexemes that are ranked (the rest of RANK_MAX_TERMS is for expansions). */
#define SEARCH_OWN_TERMS 48
/*
 * The query's lexemes with their per-tenant document frequency (term_stats,
 * kept over active versions by the trigger of db/migrations/0007_retrieval.sql)
 * and whether each is a question word, plus the tenant's chunk count and bytes
 * (corpus_stats): the inputs of BM25. The rarest RANK_MAX_TERMS -
 * RANK_MAX_EXPAND (a word no chunk contains has df 0), then the expansions
 * (expand.h: $4 words standing for the query words $5, weights $6) that are
 * one lexeme, not a query lexeme, and in some chunk of the tenant, at most
 * RANK_MAX_EXPAND, heaviest and rarest first; origin is the lexemes of the
 * query words an expansion stands for (NULL for the query's own). All ordered
 * rarest first, ties by lexeme: a stable order. name: the lexeme is one of
 * the words $7 that WordNet does not know (expand_names: "zsh", "ggplot2").
 * The parameters' lexemes are made once, in p: a custom plan folded them into
 * constants while planning (~0.6 ms a call), a generic plan evaluated the
 * ones in a WHERE or select list per row; made once, the generic plan costs
 * less than a custom one plus its planning and PostgreSQL keeps it.
 */
static struct db_stmt terms_stmt = {
    "WITH p AS MATERIALIZED ("
    "  SELECT to_tsvector('english', $2) AS qv, tsvector_to_array(to_tsvector('english', $2)) AS ql,"
    "         tsvector_to_array(to_tsvector('english', $3)) AS qw,"
    "         tsvector_to_array(to_tsvector('english', $7)) AS nm"
    "), o AS ("
    "  SELECT t.lexeme, coalesce(greatest(s.df, 0), 0) AS df, t.lexeme = ANY (p.qw) AS qword,"
    "         NULL::text AS origin, 1.0::float8 AS weight, t.lexeme = ANY (p.nm) AS name"
    "    FROM p CROSS JOIN LATERAL unnest(p.qv) t"
    "    LEFT JOIN term_stats s ON s.tenant_id = $1 AND s.lexeme = t.lexeme"
    "   ORDER BY df, t.lexeme"
    "   LIMIT " SEARCH_STR(SEARCH_OWN_TERMS)
    "), x AS ("
    "  SELECT DISTINCT ON (v.lexeme) v.lexeme, v.df, false AS qword, v.origin, v.weight, false AS name"
    "    FROM (SELECT w.*, (SELECT s.df FROM term_stats s WHERE s.tenant_id = $1 AND s.lexeme = w.lexeme) AS df"
    "            FROM (SELECT (tsvector_to_array(to_tsvector('english', e.word)))[1] AS lexeme, e.weight,"
    "                         array_to_string(tsvector_to_array(to_tsvector('english', e.origin)), ' ') AS origin"
    "                    FROM unnest($4::text[], $5::text[], $6::float8[]) e(word, origin, weight)"
    "                   WHERE length(to_tsvector('english', e.word)) = 1) w) v"
    "   WHERE v.df > 0 AND v.lexeme <> ALL ((SELECT p.ql FROM p)::text[])"
    "   ORDER BY v.lexeme, v.weight DESC, v.origin"
    "), xs AS ("
    "  SELECT * FROM x ORDER BY weight DESC, df, lexeme LIMIT " SEARCH_STR(RANK_MAX_EXPAND)
    ")"
    "SELECT u.lexeme, u.df, u.qword,"
    "       coalesce(greatest(cs.chunks, 0), 0) AS n, coalesce(greatest(cs.bytes, 0), 0) AS bytes,"
    "       u.origin, u.weight, u.name"
    "  FROM (SELECT * FROM o UNION ALL SELECT * FROM xs) u"
    "  LEFT JOIN corpus_stats cs ON cs.tenant_id = $1"
    " ORDER BY u.df, u.lexeme",
    0};

enum { T_LEXEME, T_DF, T_QWORD, T_N, T_BYTES, T_ORIGIN, T_WEIGHT, T_NAME };

/*
 * Candidates: chunks containing any ($5 ' | ') or every ($5 ' & ') of the
 * candidate lexemes $3 (the rarest content words of the query, search.c picks
 * them from term_stats; at most SEARCH_SCAN_CAP rows are read), pre-ranked
 * by the number of positions of every lexeme $2 they hold, at most $4 (when
 * no more match, all are kept whatever their rank: no pre-rank is computed).
 * That count orders them as ts_rank_cd(tsv, $2 as an OR query) did: on the
 * generated tsv (weight D everywhere) every position is a cover of its own,
 * worth 0.1 (checked equal on the benchmark's rows), but ts_rank_cd evaluates
 * the whole query for each cover, 4 us a chunk for 4 lexemes and 31 us for 34
 * (expansions included), where the count costs ~3 us (docs/retrieval.md "At
 * scale, tenth pass"). It is counted from the hits below, made once. For each, what rank.c
 * scores: the query lexemes it holds with their positions ("i:p,p;j:p", i the
 * 1-based index in $2), the ones in its document title or its own heading
 * (the last level of a heading path of two levels or more: a top-level
 * heading or a PDF's running head names a whole chapter: documents.title_tsv
 * and chunks.head_tsv, stored at write time by db/migrations/0015), its
 * length in bytes, whether it came from OCR, and its near-duplicate sketch
 * (chunks.sketch, also stored at write time). The hits are the positions of ts_filter(setweight(tsv,
 * 'A', $2), '{a}'): the query's lexemes alone, made in one pass over the
 * tsvector (the generated tsv has weight D everywhere) instead of a row per
 * lexeme of the chunk; the fields the same of the title's and heading's
 * lexemes. Both come as tsvectors, mapped to the terms' indexes by search.c
 * (rank_tsv_hits): a row per lexeme, array_position and string_agg per
 * candidate cost PostgreSQL more than the whole ranking in C. The vectors
 * come after, in binary (vectors_stmt).
 *
 * Whether a chunk is of an active version of a live document is asked per
 * chunk, best pre-ranked first, until $4 pass (a LATERAL subquery that OFFSET
 * 0 keeps a nested loop of primary-key probes): the cost follows the
 * candidates, where a join read all of the tenant's documents and versions
 * (10,000 of each for the benchmark's big tenant at a million chunks). The
 * same chunks pass, in the same order, as when the join came first: only
 * chunks that do not pass are ranked in vain. (When more than $4 chunks match
 * but at most $4 pass, all that pass are kept, as before, now in rank order.)
 *
 * Row-level security (db/migrations/0006_rls.sql): the chunks come from the
 * view tenant_chunks, which filters on the session's tenant itself, matched in
 * their own subquery (its LIMIT keeps it one): joined in one query level, the
 * policies of documents and document_versions would reach the chunks scan
 * through tenant_id = $1 and forbid the GIN index (docs/retrieval.md).
 */
static struct db_stmt candidates_stmt = {
    "WITH q AS ("
    "  SELECT (SELECT string_agg(" SEARCH_QUOTE_LEXEME ", $5)::tsquery FROM unnest($3::text[]) lexeme) AS tq_cand"
    "), hit AS MATERIALIZED ("
    "  SELECT c.chunk_id, c.doc_id, c.version_id, c.ordinal, c.page_start, c.page_end, c.section, c.page_label, c.tsv,"
    "         octet_length(c.text) AS bytes, c.ocr, c.head_tsv, c.sketch"
    "    FROM (SELECT m.* FROM tenant_chunks m"
    "           WHERE m.tenant_id = $1 AND m.tsv @@ (SELECT tq_cand FROM q) LIMIT " SEARCH_STR(SEARCH_SCAN_CAP) ") c"
    "), cand AS ("
    "  SELECT h.*, d.title, d.source_uri, d.title_tsv"
    "    FROM (SELECT h.*, CASE WHEN (SELECT count(*) FROM hit) > $4::integer"
    "                           THEN (SELECT coalesce(sum(cardinality(u.positions)), 0) FROM unnest(h.hits) u) END AS pre"
    "            FROM (SELECT h.*, ts_filter(setweight(h.tsv, 'A', $2::text[]), '{a}') AS hits FROM hit h OFFSET 0) h"
    "           ORDER BY pre DESC, h.chunk_id) h"
    "   CROSS JOIN LATERAL ("
    "         SELECT d.title, d.source_uri, d.title_tsv FROM documents d"
    "          WHERE d.doc_id = h.doc_id AND d.tenant_id = $1 AND d.deleted_at IS NULL"
    "            AND EXISTS (SELECT 1 FROM document_versions v"
    "                         WHERE v.version_id = h.version_id AND v.is_active AND v.tenant_id = $1)"
    "         OFFSET 0) d"
    "   ORDER BY h.pre DESC, h.chunk_id"   /* the order the subquery sorted: no sort again */
    "   LIMIT $4::integer"
    ")"
    "SELECT cand.chunk_id, cand.doc_id, cand.version_id, cand.title, cand.source_uri,"
    "       cand.page_start, cand.page_end, cand.section, cand.page_label, cand.bytes, cand.ordinal,"
    "       cand.hits,"
    "       ts_filter(setweight(cand.title_tsv || cand.head_tsv, 'A', $2::text[]), '{a}') AS fields,"
    "       cand.ocr, cand.sketch"
    "  FROM cand",
    0};

/*
 * The vectors of the candidates $1 (row i of the candidates is element i of
 * $1) made by model $3 with dim $4, run with a binary result: each vector is
 * its stored bytes (embed.h, migration 0021), copied out as they are. As a
 * real[] they cost array_send() 13 us each (float4send per element), about a
 * quarter of a search's PostgreSQL time; as text, more again to print and parse.
 */
static struct db_stmt vectors_stmt = {
    "SELECT u.i::integer, e.vector FROM unnest($1::uuid[]) WITH ORDINALITY u(id, i)"
    "  JOIN chunk_embeddings e ON e.chunk_id = u.id"
    " WHERE e.tenant_id = $2 AND e.model = $3 AND e.dim = $4::integer",
    0};

/*
 * The candidate lexemes may cover together at most this many chunks, whatever
 * the size of the tenant's corpus: the cost of a search follows the answer,
 * not the corpus. When the rarest content word alone is commoner, the
 * candidates are the chunks holding every one of the rarest words, as many as
 * bring the expected count under the budget (docs/retrieval.md "Candidates").
 */
#define SEARCH_RARE_BUDGET 250.0

/* Which lexemes a candidate statement uses (terms_literal). */
enum terms_mode {
    TERMS_ALL,     /* every ranked lexeme ($2) */
    TERMS_ANY,     /* content words, rarest first within the budget, any of them */
    TERMS_EVERY,   /* the rarest content words, every one of them */
    TERMS_WIDE     /* every content word, any of them */
};

/*
 * Words of how people ask rather than of what they ask about ("how long does
 * a refund take?"). They weigh RANK_QWORD_WEIGHT of their IDF and do not count
 * in the query's IDF mass: a passage about refunds answers that question even
 * though it never says "long" or "take". PostgreSQL's English stop words are
 * dropped already; these are the common verbs and adverbs its list keeps.
 * Stemmed by to_tsvector like the query.
 */
#define SEARCH_QUESTION_WORDS                                                      \
    "long take takes took much many get gets make need needs use work works way " \
    "mean means go goes come want know tell find happen possible often ever "     \
    "also still would could should please thing something anything best good"

enum { C_CHUNK, C_DOC, C_VERSION, C_TITLE, C_URI, C_PSTART, C_PEND, C_SECTION, C_PLABEL, C_BYTES, C_ORDINAL, C_HITS,
       C_FIELDS, C_OCR, C_SKETCH };

/*
 * Pseudo-relevance feedback (rank_feedback, SEARCH_FEEDBACK > 0): the
 * bottom-k sketches (chunks.sketch: the RANK_SKETCH smallest hashes of a
 * chunk's lexemes, stored at write time) of the best-ranked candidates $2, and
 * the RANK_FB_TERMS words that most of the RANK_FB_DOCS best candidates ($3)
 * hold (at least 2 chunks of the tenant, not a query lexeme $4), rarest first
 * ($5: the tenant's chunk count), each row saying which of them it holds:
 * "df:k:tf ..." (rank_feedback_parse). Without feedback the sketches come with
 * the candidates (C_SKETCH) and no statement is made.
 */
static struct db_stmt sketches_fb_stmt = {
    "WITH c AS ("
    "  SELECT c.chunk_id, c.tsv, c.sketch FROM unnest($2::uuid[]) u(id) JOIN tenant_chunks c ON c.chunk_id = u.id"
    "   WHERE c.tenant_id = $1"   /* primary-key probes, never the tenant's range (snippets_stmt) */
    "), fb AS ("
    "  SELECT u.lexeme, s.df, count(*) AS k"
    "    FROM c, unnest(c.tsv) u, term_stats s"
    "   WHERE c.chunk_id = ANY ($3::uuid[]) AND s.tenant_id = $1 AND s.lexeme = u.lexeme AND s.df >= 2"
    "     AND u.lexeme <> ALL ($4::text[])"
    "   GROUP BY u.lexeme, s.df"
    "   ORDER BY count(*) * ln(1 + $5::float8 / s.df) DESC, u.lexeme"
    "   LIMIT " SEARCH_STR(RANK_FB_TERMS)
    ")"
    "SELECT c.chunk_id, c.sketch,"
    "       (SELECT string_agg(f.df || ':' || f.k || ':' || coalesce(array_length(u.positions, 1), 1), ' ')"
    "          FROM fb f JOIN unnest(c.tsv) u ON u.lexeme = f.lexeme)"
    "  FROM c",
    0};

/* Candidates, best first, among which the results are picked: top_k times this, plus a few. */
#define SEARCH_PICK_FACTOR 4
#define SEARCH_PICK_EXTRA 8

/*
 * The text of the chunks returned, for their snippets (snippet.c, in
 * core-api: ts_headline() here parsed and stemmed each one again, about a
 * third of a search's PostgreSQL time at 100k chunks). Each id is probed by
 * primary key (a nested loop over unnest): written as chunk_id = ANY ($2)
 * AND tenant_id = $1, the generic plan PostgreSQL keeps after five executions
 * ANDed a bitmap of the tenant's whole chunks_tenant range with the primary
 * key's (50,000 entries, ~4 ms, for the benchmark's big tenant at 100k).
 */
static struct db_stmt snippets_stmt = {
    "SELECT c.chunk_id, c.text FROM unnest($2::uuid[]) u(id) JOIN chunks c ON c.chunk_id = u.id"
    " WHERE c.tenant_id = $1",
    0};

/* One embedder per HTTP thread (an embedder is not thread-safe), freed when the thread ends. */
static pthread_key_t embed_key;
static pthread_once_t embed_once = PTHREAD_ONCE_INIT;
static int embed_key_ok;

static void embed_key_destroy(void *p)
{
    struct embedder *e = p;

    embed_free(&e);
}

static void embed_key_init(void)
{
    embed_key_ok = pthread_key_create(&embed_key, embed_key_destroy) == 0;
}

static struct embedder *thread_embedder(const struct config *cfg)
{
    struct embedder *e;
    struct embed_config ec;
    char err[256];

    pthread_once(&embed_once, embed_key_init);
    if (!embed_key_ok)
        return NULL;
    e = pthread_getspecific(embed_key);
    if (e)
        return e;
    ec = config_embed(cfg);
    ec.batch = 1;   /* one query at a time */
    e = embed_new(&ec, err, sizeof(err));
    if (!e) {
        log_warn("query embedder unavailable", json_pack("{s:s}", "error", err));
        return NULL;
    }
    if (pthread_setspecific(embed_key, e) != 0) {
        embed_free(&e);
        return NULL;
    }
    return e;
}

/* Trim ASCII white space; *len is updated. */
static const char *trim(const char *s, size_t *len)
{
    size_t n = *len;

    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r' ||
                 s[n - 1] == '\f' || s[n - 1] == '\v'))
        n--;
    *len = n;
    return s;
}

/* The statements of a search, timed apart for the log line (search_rows). */
enum search_stage { ST_TERMS, ST_CANDIDATES, ST_VECTORS, ST_FEEDBACK, ST_SNIPPETS, ST_COUNT };

/* One search, from the parsed body to the answer. */
struct search {
    struct req *r;
    int64_t t0;              /* time_mono_ms() at the start, for the log line */
    int64_t db_us[ST_COUNT]; /* microseconds waited for each statement (search_rows) */
    int ncq;                 /* candidate statements run (a widened search runs two or three) */
    char *query;             /* trimmed, NUL-terminated, in the arena */
    int top_k;
    struct embedder *emb;    /* the query's embedder, NULL when ranking by FTS only */
    float *qvec;             /* the query's vector (dim floats), or NULL */
    int dim;                 /* 0 without a vector */
    PGresult *terms;         /* terms_stmt's rows (T_* columns) */
    struct rank_query rq;    /* their statistics, in the same order */
    char *all_terms;         /* text[] literal of every ranked lexeme ($2 of candidates_stmt) */
    char *cand_terms;        /* text[] literal of the candidate lexemes ($3) */
    const char **lex;        /* the lexemes of s->terms, in order (search_lex), or NULL */
    struct rank_hits *hits;  /* one candidate's evidence, rq.nterms entries (score_row) */
    struct snippet_terms sterms;  /* the same lexemes for the snippets (search_lex) */
    PGresult *cands;         /* candidates_stmt's rows (C_* columns) */
    int ncands;
    int widened;             /* 1: the candidates come from every known content lexeme */
    enum terms_mode mode;    /* the lexemes of the candidates (terms_literal) */
    int nvec;                /* candidates ranked by their vector too */
    struct rank_cand *sel;   /* the results, in order */
    int nsel;
};

/* rows_prepared() for s, its wait added to s->db_us[stage]. */
static PGresult *search_rows(struct search *s, enum search_stage stage, struct db_stmt *st, int n,
                             const char *const *params, int binary)
{
    int64_t t = time_mono_us();
    PGresult *res = rows_prepared(s->r, st, n, params, binary, SEARCH_DB_WHAT);

    s->db_us[stage] += time_mono_us() - t;
    return res;
}

static void abstain(struct req *r)
{
    req_json(r, 200, json_pack("{s:s,s:s,s:[]}", "status", "abstained", "reason", "no evidence", "results"));
}

/* The search's one log line; never the query text. */
static void log_search(const struct search *s, const char *status)
{
    if (!log_enabled(LOG_INFO))
        return;   /* not built to be dropped */
    log_info("search", json_pack("{s:s,s:i,s:i,s:i,s:b,s:s,s:i,s:I,s:i,s:{s:I,s:I,s:I,s:I,s:I}}",
                                 "tenant_id", s->r->principal.tenant_id,
                                 "top_k", s->top_k, "candidates", s->ncands, "with_vectors", s->nvec,
                                 "widened", s->widened,
                                 "status", status, "results", s->nsel,
                                 "duration_ms", (json_int_t)(time_mono_ms() - s->t0),
                                 "candidate_statements", s->ncq, "db_us",
                                 "terms", (json_int_t)s->db_us[ST_TERMS],
                                 "candidates", (json_int_t)s->db_us[ST_CANDIDATES],
                                 "vectors", (json_int_t)s->db_us[ST_VECTORS],
                                 "feedback", (json_int_t)s->db_us[ST_FEEDBACK],
                                 "snippets", (json_int_t)s->db_us[ST_SNIPPETS]));
}

/* The body's query, trimmed and NUL-terminated in the arena; NULL after answering. */
static char *parse_query(struct req *r, json_t *body)
{
    json_t *jq = json_object_get(body, "query");
    const char *q;
    size_t len;
    long chars;
    char *copy;

    if (!json_is_string(jq)) {
        req_error(r, API_ERR_BAD_REQUEST, "query must be a string");
        return NULL;
    }
    q = json_string_value(jq);
    len = json_string_length(jq);
    if (strlen(q) != len) {
        req_error(r, API_ERR_BAD_REQUEST, "query must not contain NUL characters");
        return NULL;
    }
    q = trim(q, &len);
    if (len == 0) {
        req_error(r, API_ERR_BAD_REQUEST, "query must not be empty");
        return NULL;
    }
    chars = utf8_count(q, len);   /* jansson has validated it: never -1 here */
    if (chars < 0 || chars > SEARCH_QUERY_MAX_CHARS) {
        req_error(r, API_ERR_BAD_REQUEST, "query must be at most 1000 characters");
        return NULL;
    }
    copy = arena_strndup(&r->arena, q, len);
    if (!copy)
        req_error(r, API_ERR_INTERNAL, "out of memory");
    return copy;
}

/* The body's top_k (absent or null: the default); -1 after answering 400. */
static int parse_top_k(struct req *r, json_t *body)
{
    json_t *jk = json_object_get(body, "top_k");
    json_int_t k;

    if (!jk || json_is_null(jk))
        return SEARCH_TOP_K_DEFAULT;
    k = json_is_integer(jk) ? json_integer_value(jk) : 0;
    if (k < 1 || k > SEARCH_TOP_K_MAX) {
        req_error(r, API_ERR_BAD_REQUEST, "top_k must be an integer from 1 to 50");
        return -1;
    }
    return (int)k;
}

/* Parse and validate the body into s->query and s->top_k; 0 or -1 (answered). */
static int parse_request(struct search *s)
{
    json_t *body = req_body_json(s->r);

    if (!body)
        return -1;
    s->query = parse_query(s->r, body);
    if (!s->query)
        return -1;
    s->top_k = parse_top_k(s->r, body);
    return s->top_k < 0 ? -1 : 0;
}

/* Embed the query; NULL when no embedder is available (search goes on, FTS only). */
static float *embed_query(struct req *r, const char *query, struct embedder **out_e)
{
    struct embedder *e = thread_embedder(r->app->cfg);
    const char *texts[1];
    size_t lens[1];
    float *vec;
    char err[256];

    *out_e = NULL;
    if (!e)
        return NULL;
    vec = arena_alloc(&r->arena, sizeof(float) * (size_t)embed_dim(e));
    if (!vec)
        return NULL;
    texts[0] = query;
    lens[0] = strlen(query);
    if (embed_texts(e, texts, lens, 1, vec, err, sizeof(err)) < 0) {
        log_warn("query embedding failed, ranking by full-text only", json_pack("{s:s}", "error", err));
        return NULL;
    }
    *out_e = e;
    return vec;
}

/*
 * "{id,id,...}" for the chosen chunks, or rows 0..n-1 when sel is NULL (UUIDs
 * need no quoting), then NULLs (which join no chunk) up to min entries.
 */
static char *uuid_array(struct req *r, const PGresult *res, const struct rank_cand *sel, int n, int min)
{
    int total = n > min ? n : min;
    size_t cap = (size_t)total * (ID_UUID_LEN + 1) + 3, off = 0;
    char *s = arena_alloc(&r->arena, cap);

    if (!s)
        return NULL;
    s[off++] = '{';
    for (int i = 0; i < total; i++) {
        const char *id = i < n ? db_val(res, sel ? (int)sel[i].idx : i, C_CHUNK) : "NULL";
        size_t len = i < n ? ID_UUID_LEN : 4;

        if (i)
            s[off++] = ',';
        memcpy(s + off, id, len);
        off += len;
    }
    s[off++] = '}';
    s[off] = '\0';
    return s;
}

/*
 * The snippet of a returned chunk's text (snippet.h) for every ranked lexeme
 * (the $2 of the candidates, expansions too: "tar" of "tar.xz" is marked),
 * escaped with <mark> by rank_snippet(); "" when it cannot be made.
 */
static json_t *make_snippet(const struct search *s, const char *text)
{
    struct buf marked, b;
    json_t *j = NULL;

    buf_init(&marked, SEARCH_SNIPPET_MAX);
    buf_init(&b, SEARCH_SNIPPET_MAX);
    if (text && snippet_make(snippet_stemmer(), text, strlen(text), &s->sterms, &marked) == 0 &&
        rank_snippet(marked.ptr ? marked.ptr : "", marked.len, &b) == 0)
        j = json_stringn(b.ptr, b.len);
    buf_release(&marked);
    buf_release(&b);
    return j ? j : json_string("");
}

/*
 * s->lex, the lexemes of s->terms in order, and s->sterms, the same for the
 * snippets: made once per search. 0, or -1 when out of memory.
 */
static int search_lex(struct search *s)
{
    int n = PQntuples(s->terms);

    if (s->lex)
        return 0;
    s->lex = arena_alloc(&s->r->arena, sizeof(*s->lex) * (size_t)(n ? n : 1));
    if (!s->lex)
        return -1;
    for (int t = 0; t < n; t++)
        s->lex[t] = db_val(s->terms, t, T_LEXEME);
    snippet_terms_init(&s->sterms, s->lex, n);
    return 0;
}

/* Append the PostgreSQL array literal element "v" (quotes and backslashes escaped). */
static int array_elem(struct buf *b, const char *v)
{
    if (b->len > 1 && buf_add(b, ",", 1) < 0)
        return -1;
    if (buf_add(b, "\"", 1) < 0)
        return -1;
    for (; *v; v++) {
        if ((*v == '"' || *v == '\\') && buf_add(b, "\\", 1) < 0)
            return -1;
        if (buf_add(b, v, 1) < 0)
            return -1;
    }
    return buf_add(b, "\"", 1);
}

/*
 * Whether content lexeme i (df) ends the list of mode: TERMS_ANY stops before
 * the summed df would pass the budget, TERMS_EVERY once the expected count of
 * chunks holding every word so far (independent words: n times the product of
 * df/n) is within it; never before the first.
 */
static int terms_stop(enum terms_mode mode, int count, double *cum, double df, double n)
{
    if (mode == TERMS_ANY) {
        if (count && *cum + df > SEARCH_RARE_BUDGET)
            return 1;
        *cum += df;
        return 0;
    }
    if (mode != TERMS_EVERY)
        return 0;
    if (count && *cum <= SEARCH_RARE_BUDGET)
        return 1;
    *cum = count ? *cum * df / n : df;
    return 0;
}

/*
 * The text[] literal of the lexemes of mode (enum terms_mode): rarest first,
 * only content words that some chunk contains but for TERMS_ALL. In the arena;
 * NULL when out of memory.
 */
static char *terms_literal(struct search *s, enum terms_mode mode)
{
    double cum = 0.0;
    struct buf b;
    char *out = NULL;
    int fail, count = 0;

    buf_init(&b, 1 << 20);
    fail = buf_add(&b, "{", 1) < 0;
    for (int i = 0; i < PQntuples(s->terms) && !fail; i++) {
        double df = strtod(db_val(s->terms, i, T_DF), NULL);

        if (mode != TERMS_ALL && (s->rq.qword[i] || df <= 0 || (mode == TERMS_EVERY && s->rq.expn[i])))
            continue;   /* an expansion is an alternative, never required */
        if (terms_stop(mode, count, &cum, df, s->rq.n > 0 ? s->rq.n : 1.0))
            break;   /* rarest first: the rest are commoner */
        count++;
        fail = array_elem(&b, db_val(s->terms, i, T_LEXEME)) < 0;
    }
    if (!fail && buf_add(&b, "}", 1) == 0)
        out = arena_strndup(&s->r->arena, b.ptr, b.len);
    buf_release(&b);
    return out;
}

/* The first mode of candidates: every rarest word when the rarest alone passes the budget. */
static enum terms_mode first_mode(const struct search *s)
{
    for (int i = 0; i < PQntuples(s->terms); i++) {
        double df = strtod(db_val(s->terms, i, T_DF), NULL);

        if (!s->rq.qword[i] && !s->rq.expn[i] && df > 0)
            return df > SEARCH_RARE_BUDGET ? TERMS_EVERY : TERMS_ANY;
    }
    return TERMS_ANY;
}

/* The WordNet database of SEARCH_WORDNET, opened once per process; NULL when off or unreadable. */
static struct wordnet *search_wordnet;
static pthread_once_t wordnet_once = PTHREAD_ONCE_INIT;
static const char *wordnet_dir;

static void wordnet_init(void)
{
    char err[256];

    if (!wordnet_dir || !wordnet_dir[0] || strcmp(wordnet_dir, "off") == 0)
        return;
    search_wordnet = wordnet_open(wordnet_dir, err, sizeof(err));
    if (!search_wordnet)
        log_warn("WordNet unavailable, searching without synonyms", json_pack("{s:s}", "error", err));
}

static const struct wordnet *thread_wordnet(const struct config *cfg)
{
    wordnet_dir = cfg->search_wordnet;
    pthread_once(&wordnet_once, wordnet_init);
    return search_wordnet;
}

/*
 * The query's expansions (expand.h) as three array literals in the arena:
 * words, origins (text[]) and weights (float8[]). 0, or -1 when out of memory.
 */
static int expansion_params(struct search *s, const char **params)
{
    const struct config *cfg = s->r->app->cfg;
    struct expansion ex[EXPAND_MAX];
    struct buf w, o, g;
    char num[32];
    int n, fail;

    n = expand_query(s->query, cfg->search_compounds, cfg->search_synonyms ? thread_wordnet(cfg) : NULL,
                     SEARCH_QUESTION_WORDS, ex, EXPAND_MAX);
    if (!cfg->search_synonyms)   /* synonyms hold the variants already */
        n = expand_variants(s->query, thread_wordnet(cfg), ex, n, EXPAND_MAX);
    buf_init(&w, 1 << 16);
    buf_init(&o, 1 << 16);
    buf_init(&g, 1 << 16);
    fail = buf_add(&w, "{", 1) < 0 || buf_add(&o, "{", 1) < 0 || buf_add(&g, "{", 1) < 0;
    for (int i = 0; i < n && !fail; i++) {
        snprintf(num, sizeof(num), "%s%.3f", i ? "," : "", ex[i].weight);
        fail = array_elem(&w, ex[i].word) < 0 || array_elem(&o, ex[i].origin) < 0 || buf_add(&g, num, strlen(num)) < 0;
    }
    fail = fail || buf_add(&w, "}", 1) < 0 || buf_add(&o, "}", 1) < 0 || buf_add(&g, "}", 1) < 0;
    if (!fail) {
        params[0] = arena_strndup(&s->r->arena, w.ptr, w.len);
        params[1] = arena_strndup(&s->r->arena, o.ptr, o.len);
        params[2] = arena_strndup(&s->r->arena, g.ptr, g.len);
        fail = !params[0] || !params[1] || !params[2];
    }
    buf_release(&w);
    buf_release(&o);
    buf_release(&g);
    return fail ? -1 : 0;
}

/* The query words expansion row i stands for, as a mask of the query's own rows. */
static uint64_t origin_mask(const struct search *s, int i)
{
    const char *p = db_val(s->terms, i, T_ORIGIN);
    uint64_t mask = 0;

    while (*p) {
        size_t len = strcspn(p, " ");

        for (int j = 0; j < s->rq.nterms; j++)
            if (!s->rq.expn[j] && strlen(db_val(s->terms, j, T_LEXEME)) == len &&
                strncmp(db_val(s->terms, j, T_LEXEME), p, len) == 0)
                mask |= (uint64_t)1 << j;
        p += len;
        p += *p == ' ';
    }
    return mask;
}

/* The query's own hyphenated words ("c-style") stand for their parts ("c", "style"), not beside them. */
static void hyphen_compounds(struct search *s, int n)
{
    const char *lex[RANK_MAX_TERMS];
    int m = n < s->rq.nterms ? n : s->rq.nterms;

    for (int i = 0; i < m; i++)
        lex[i] = s->rq.expn[i] || s->rq.qword[i] ? NULL : db_val(s->terms, i, T_LEXEME);
    for (int i = 0; i < m; i++)
        if (lex[i])
            rank_query_compound(&s->rq, i, expand_hyphen_parts(lex[i], lex, m));
}

/*
 * The query's lexemes and their statistics into s->terms and s->rq. 0; 1 when
 * the query has no content word some chunk contains (nothing can be evidence:
 * abstain); -1 after answering.
 */
static int fetch_terms(struct search *s)
{
    const char *params[7] = {s->r->principal.tenant_id, s->query, SEARCH_QUESTION_WORDS};
    char *names = arena_alloc(&s->r->arena, strlen(s->query) + 1);
    int n, known = 0;

    if (names)
        expand_names(s->query, thread_wordnet(s->r->app->cfg), names, strlen(s->query) + 1);
    params[6] = names;
    if (!names || expansion_params(s, params + 3) < 0) {
        req_error(s->r, API_ERR_INTERNAL, "out of memory");
        return -1;
    }
    s->terms = search_rows(s, ST_TERMS, &terms_stmt, 7, params, 0);
    if (!s->terms)
        return -1;
    n = PQntuples(s->terms);
    if (n == 0)
        return 1;
    rank_query_init(&s->rq, strtod(db_val(s->terms, 0, T_N), NULL), strtod(db_val(s->terms, 0, T_BYTES), NULL));
    for (int i = 0; i < n; i++) {
        double df = strtod(db_val(s->terms, i, T_DF), NULL);
        int qword = strcmp(db_val(s->terms, i, T_QWORD), "t") == 0;

        if (!PQgetisnull(s->terms, i, T_ORIGIN))
            rank_query_expand(&s->rq, df, strtod(db_val(s->terms, i, T_WEIGHT), NULL));
        else if (rank_query_add(&s->rq, df, qword) == 0 && df <= 0 && strcmp(db_val(s->terms, i, T_NAME), "t") == 0)
            rank_query_name(&s->rq, i);
        known += !qword && df > 0;
    }
    for (int i = 0; i < n; i++)
        if (s->rq.expn[i])
            s->rq.origin[i] = origin_mask(s, i);
    hyphen_compounds(s, n);
    return known ? 0 : 1;
}

/* The candidates, best first, among which the results are picked (SEARCH_PICK_FACTOR). */
static int pick_window(const struct search *s)
{
    return s->top_k * SEARCH_PICK_FACTOR + SEARCH_PICK_EXTRA;
}

/* candidates_stmt with the candidate lexemes of mode into s->cands; 0 or -1 (answered). */
static int query_candidates(struct search *s, enum terms_mode mode)
{
    struct req *r = s->r;
    char limit[16];
    const char *params[5];

    s->mode = mode;
    s->widened = mode == TERMS_WIDE;
    s->cand_terms = terms_literal(s, mode);
    if (!s->cand_terms) {
        req_error(r, API_ERR_INTERNAL, "out of memory");
        return -1;
    }
    snprintf(limit, sizeof(limit), "%d", pick_window(s) > SEARCH_CANDIDATES ? pick_window(s) : SEARCH_CANDIDATES);
    params[0] = r->principal.tenant_id;
    params[1] = s->all_terms;
    params[2] = s->cand_terms;
    params[3] = limit;
    params[4] = mode == TERMS_EVERY ? " & " : " | ";
    s->ncq++;
    s->cands = search_rows(s, ST_CANDIDATES, &candidates_stmt, 5, params, 0);
    return s->cands ? 0 : -1;
}

/*
 * The candidates with their embeddings into s->cands: from the rarest content
 * lexemes first (every one of them when the rarest alone is common, then any
 * of them); too few of them widen to every one. 0, or -1 after answering.
 */
static int fetch_candidates(struct search *s)
{
    enum terms_mode mode = first_mode(s);

    s->all_terms = terms_literal(s, TERMS_ALL);
    if (!s->all_terms) {
        req_error(s->r, API_ERR_INTERNAL, "out of memory");
        return -1;
    }
    for (;;) {
        if (query_candidates(s, mode) < 0)
            return -1;
        if (PQntuples(s->cands) >= s->top_k || mode == TERMS_WIDE)
            break;
        mode = mode == TERMS_EVERY ? TERMS_ANY : TERMS_WIDE;
    }
    s->ncands = PQntuples(s->cands);
    return 0;
}

/* qsort: doubles, largest first. */
static int cmp_desc(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;

    return a > b ? -1 : a < b;
}

/* The int4 in binary form at p (network byte order). */
static int be_int4(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;

    return (int)((uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | (uint32_t)u[3]);
}

int search_vector_reach(const struct rank_query *q, const struct rank_select *o, const struct rank_cand *c, int n,
                        int m, int *keep)
{
    double *rel, bar = -HUGE_VAL;
    int k = 0, evidence = 0;

    if (m < n) {
        rel = malloc(sizeof(*rel) * (size_t)n);
        if (!rel)
            return -1;
        for (int i = 0; i < n; i++)
            rel[i] = c[i].rel;
        qsort(rel, (size_t)n, sizeof(*rel), cmp_desc);
        bar = m > 0 ? rel[m - 1] : HUGE_VAL;
        free(rel);
    }
    for (int i = 0; i < n; i++) {
        struct rank_cand best = c[i];

        best.has_vec = 1;
        best.cosine = 1.0;   /* the most a cosine can be */
        rank_finish(q, o, &best);
        evidence |= best.evidence >= o->min_score;
        if (best.rel >= bar && best.score >= RANK_TAIL * o->min_score)
            keep[k++] = i;
    }
    return evidence ? k : 0;   /* none can be evidence: the search abstains whatever the vectors */
}

/*
 * The vectors of the query's model and dimension of the nk candidates c[keep[j]]
 * into their cosine, and c[keep[j]] scored again (counts s->nvec). 0, or -1
 * after answering.
 */
static int read_vectors(struct search *s, struct rank_cand *c, const int *keep, int nk, const struct rank_select *o)
{
    struct rank_cand *kc = arena_alloc(&s->r->arena, sizeof(*kc) * (size_t)(nk ? nk : 1));
    float *tmp = arena_alloc(&s->r->arena, sizeof(float) * (size_t)s->dim);
    const char *params[4];
    char dimtxt[16];
    PGresult *res;

    if (nk == 0)
        return 0;
    for (int j = 0; kc && j < nk; j++)
        kc[j].idx = c[keep[j]].idx;
    snprintf(dimtxt, sizeof(dimtxt), "%d", s->dim);
    params[0] = kc ? uuid_array(s->r, s->cands, kc, nk, 0) : NULL;
    params[1] = s->r->principal.tenant_id;
    params[2] = embed_model(s->emb);
    params[3] = dimtxt;
    if (!params[0] || !tmp) {
        req_error(s->r, API_ERR_INTERNAL, "out of memory");
        return -1;
    }
    res = search_rows(s, ST_VECTORS, &vectors_stmt, 4, params, 1);
    if (!res)
        return -1;
    for (int j = 0; j < PQntuples(res); j++) {
        int i = PQgetlength(res, j, 0) == 4 ? be_int4(PQgetvalue(res, j, 0)) - 1 : -1;
        struct rank_cand *x = i >= 0 && i < nk ? &c[keep[i]] : NULL;

        /* A chunk embedded by another model (or a malformed vector) is ranked by FTS only. */
        if (!x || PQgetisnull(res, j, 1) ||
            embed_vector_unpack(PQgetvalue(res, j, 1), (size_t)PQgetlength(res, j, 1), tmp, s->dim) != 0)
            continue;
        x->has_vec = 1;
        x->cosine = rank_cosine(s->qvec, tmp, s->dim);
        rank_finish(&s->rq, o, x);
        s->nvec++;
    }
    return 0;
}

/*
 * Score candidate row i into c: its hits and fields tsvectors (C_HITS,
 * C_FIELDS) read straight into the terms' evidence (rank_tsv_hits) by the
 * terms' indexes in $2 (every row of s->terms, in order). 0, or -1 when out
 * of memory.
 */
static int score_row(struct search *s, int i, struct rank_cand *c)
{
    const char *hits = db_val(s->cands, i, C_HITS), *fields = db_val(s->cands, i, C_FIELDS);
    int n = s->rq.nterms;

    if (!s->hits) {
        s->hits = arena_alloc(&s->r->arena, sizeof(*s->hits) * (size_t)(n ? n : 1));
        if (!s->hits || search_lex(s) < 0)
            return -1;
    }
    memset(s->hits, 0, sizeof(*s->hits) * (size_t)(n ? n : 1));
    rank_tsv_hits(hits ? hits : "", s->lex, n, 0, s->hits);
    rank_tsv_hits(fields ? fields : "", s->lex, n, 1, s->hits);
    rank_score_hits(&s->rq, s->hits, strtod(db_val(s->cands, i, C_BYTES), NULL), c);
    return 0;
}

/*
 * The ranking inputs of every candidate row, scored into c (s->ncands
 * entries) by full text; then, with a vector weight, the query embedded and
 * the vectors of the candidates that can still be picked (search_vector_reach:
 * none, and no embedding, when none can) read and those scored again. 0, or
 * -1 after answering.
 */
static int read_candidates(struct search *s, struct rank_cand *c, const struct rank_select *o, int m)
{
    int *keep, nk;

    for (int i = 0; i < s->ncands; i++) {
        c[i].idx = (size_t)i;
        c[i].id = db_val(s->cands, i, C_CHUNK);
        c[i].doc = db_val(s->cands, i, C_DOC);
        c[i].version = db_val(s->cands, i, C_VERSION);
        c[i].ordinal = (int)strtol(db_val(s->cands, i, C_ORDINAL), NULL, 10);
        if (score_row(s, i, &c[i]) < 0) {
            req_error(s->r, API_ERR_INTERNAL, "out of memory");
            return -1;
        }
    }
    rank_context(&s->rq, c, (size_t)s->ncands);
    for (int i = 0; i < s->ncands; i++)
        rank_finish(&s->rq, o, &c[i]);
    if (o->vec_weight <= 0)
        return 0;   /* a vector that weighs nothing is not made, nor are the candidates' read */
    keep = arena_alloc(&s->r->arena, sizeof(*keep) * (size_t)s->ncands);
    nk = keep ? search_vector_reach(&s->rq, o, c, s->ncands, m, keep) : -1;
    if (nk < 0) {
        req_error(s->r, API_ERR_INTERNAL, "out of memory");
        return -1;
    }
    if (nk > 0)   /* the query is embedded only when some vector can count */
        s->qvec = embed_query(s->r, s->query, &s->emb);
    s->dim = s->qvec ? embed_dim(s->emb) : 0;
    return s->qvec ? read_vectors(s, c, keep, nk, o) : 0;
}

/*
 * The sketches and feedback evidence of the first n of c (sorted): the
 * sketches from the candidate rows, or with feedback both from
 * sketches_fb_stmt; then the feedback applied (c[0..n) sorted again). 0 or -1
 * (answered).
 */
static int read_sketches(struct search *s, struct rank_cand *c, int n)
{
    double weight = s->r->app->cfg->search_feedback;
    int nfb = weight > 0 ? (n < RANK_FB_DOCS ? n : RANK_FB_DOCS) : 0;
    char total[32];
    const char *params[5] = {s->r->principal.tenant_id, NULL, NULL, s->all_terms, total};
    PGresult *res;

    if (nfb == 0) {
        for (int i = 0; i < n; i++)
            c[i].nsketch = rank_parse_sketch(db_val(s->cands, (int)c[i].idx, C_SKETCH), c[i].sketch, RANK_SKETCH);
        return 0;
    }
    params[1] = uuid_array(s->r, s->cands, c, n, 0);
    params[2] = uuid_array(s->r, s->cands, c, nfb, 0);
    if (!params[1] || !params[2]) {
        req_error(s->r, API_ERR_INTERNAL, "out of memory");
        return -1;
    }
    snprintf(total, sizeof(total), "%.0f", s->rq.n);
    res = search_rows(s, ST_FEEDBACK, &sketches_fb_stmt, 5, params, 0);
    if (!res)
        return -1;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < PQntuples(res); j++)
            if (strcmp(c[i].id, db_val(res, j, 0)) == 0) {
                c[i].nsketch = rank_parse_sketch(db_val(res, j, 1), c[i].sketch, RANK_SKETCH);
                c[i].fb = rank_feedback_parse(&s->rq, db_val(res, j, 2));
            }
    rank_feedback(c, (size_t)n, weight);
    return 0;
}

/* Rank the candidates and pick the results into s->sel; -1 after answering. */
static int select_evidence(struct search *s)
{
    struct arena *a = &s->r->arena;
    const struct config *cfg = s->r->app->cfg;
    struct rank_cand *c = arena_alloc(a, sizeof(*c) * (size_t)s->ncands);
    struct rank_select o = {cfg->search_min_score, cfg->search_min_cosine, cfg->search_vector_weight,
                            (int)cfg->search_max_per_doc, s->top_k};
    int m = pick_window(s);

    s->sel = arena_alloc(a, sizeof(*s->sel) * (size_t)s->top_k);
    if (!c || !s->sel) {
        req_error(s->r, API_ERR_INTERNAL, "out of memory");
        return -1;
    }
    memset(c, 0, sizeof(*c) * (size_t)s->ncands);
    if (read_candidates(s, c, &o, m) < 0)
        return -1;
    rank_sort(c, (size_t)s->ncands);
    while (m > 0 && (m > s->ncands || c[m - 1].score < RANK_TAIL * o.min_score))
        m--;   /* only evidence can be picked */
    if (m > 0 && read_sketches(s, c, m) < 0)
        return -1;
    s->nsel = rank_pick(c, (size_t)m, &o, s->sel);
    return 0;
}

/*
 * The ids of the snippets statement are padded with NULLs (which join no
 * chunk) to at least this many: PostgreSQL plans a prepared statement for its
 * parameters five times, then keeps the generic plan only if that costs less
 * than the custom ones did. The generic plan reckons unnest($2) at 10 rows; a
 * custom one at the array's length, 8 for the default top_k, cheaper, so it
 * planned every snippets statement again (0.22 ms a search, 30 ms of planning
 * in 136 calls, pg_stat_statements). Padded, the plan is the same nested loop
 * of primary-key probes, made once.
 */
#define SEARCH_SNIPPET_IDS_MIN 16

/* The text of the selected chunks (chunk_id, text); NULL after answering. */
static PGresult *fetch_snippets(struct search *s)
{
    struct req *r = s->r;
    const char *params[2];

    params[0] = r->principal.tenant_id;
    params[1] = uuid_array(r, s->cands, s->sel, s->nsel, SEARCH_SNIPPET_IDS_MIN);
    if (!params[1]) {
        req_error(r, API_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    return search_rows(s, ST_SNIPPETS, &snippets_stmt, 2, params, 0);
}

/* The text of chunk_id in snip, or NULL. */
static const char *text_of(const PGresult *snip, const char *chunk_id)
{
    for (int i = 0; i < PQntuples(snip); i++)
        if (strcmp(db_val(snip, i, 0), chunk_id) == 0)
            return db_val(snip, i, 1);
    return NULL;
}

/* The citation of selected candidate i. */
static json_t *result_json(const struct search *s, int i, const PGresult *snip)
{
    const PGresult *res = s->cands;
    int row = (int)s->sel[i].idx;
    const char *chunk_id = db_val(res, row, C_CHUNK);
    double score = floor(s->sel[i].score * 10000.0 + 0.5) / 10000.0;

    return json_pack("{s:s,s:s,s:s,s:s,s:s?,s:o,s:o,s:o,s:o,s:o,s:f,s:b}", "chunk_id", chunk_id,
                     "doc_id", db_val(res, row, C_DOC), "version_id", db_val(res, row, C_VERSION),
                     "title", db_val(res, row, C_TITLE), "source_uri", db_val(res, row, C_URI),
                     "page_start", rows_int(db_val(res, row, C_PSTART)),
                     "page_end", rows_int(db_val(res, row, C_PEND)),
                     "page_label", rows_str(db_val(res, row, C_PLABEL)),
                     "section", rows_str(db_val(res, row, C_SECTION)),
                     "snippet", make_snippet(s, text_of(snip, chunk_id)), "score", score,
                     "ocr", db_val(res, row, C_OCR) && strcmp(db_val(res, row, C_OCR), "t") == 0);
}

/* Answer 200 "answered" with the selected candidates as citations. */
static void answer(struct search *s, const PGresult *snip)
{
    json_t *results = arena_json(&s->r->arena, json_array());

    if (search_lex(s) < 0) {
        req_error(s->r, API_ERR_INTERNAL, "out of memory");
        return;
    }
    for (int i = 0; i < s->nsel; i++) {
        json_t *c = result_json(s, i, snip);

        if (!c || json_array_append_new(results, c) < 0) {
            req_error(s->r, API_ERR_INTERNAL, "out of memory");
            return;
        }
    }
    log_search(s, "answered");
    req_json(s->r, 200, json_pack("{s:s,s:O}", "status", "answered", "results", results));
}

void search_handle(struct req *r)
{
    struct search s;
    PGresult *snip;
    int rc;

    memset(&s, 0, sizeof(s));
    s.r = r;
    s.t0 = time_mono_ms();
    if (parse_request(&s) < 0)
        return;
    rc = fetch_terms(&s);
    if (rc < 0)
        return;
    if (rc == 0 && fetch_candidates(&s) < 0)
        return;
    if (s.ncands > 0 && select_evidence(&s) < 0)
        return;
    if (s.nsel == 0) {
        log_search(&s, "abstained");
        abstain(r);
        return;
    }
    snip = fetch_snippets(&s);
    if (snip)
        answer(&s, snip);
}
