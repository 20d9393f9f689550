/*
 * search.c - POST /v1/search: hybrid retrieval over the caller's tenant's
 * active versions, with citations, or an honest abstention.
 *
 * One statement fetches the full-text candidates (an OR of the query's
 * lexemes, ranked by ts_rank_cd, at most SEARCH_CANDIDATES) together with
 * their embeddings; rank.c fuses the FTS and vector ranks (RRF) and applies
 * the evidence threshold; a second statement makes the snippets of the chunks
 * that are returned. docs/retrieval.md has the reasoning and the figures.
 *
 * Latest-only and tenant isolation live in the SQL: every chunk is joined to
 * an active version and a live document of the caller's tenant (from the
 * token), so nothing else can ever become a citation.
 */
#include "api/handlers/search.h"

#include "api/handlers/rank.h"
#include "api/handlers/rows.h"
#include "common/config.h"
#include "common/db.h"
#include "common/embed.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/utf8.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_TOP_K_DEFAULT 8
#define SEARCH_TOP_K_MAX 50
#define SEARCH_QUERY_MAX_CHARS 1000
#define SEARCH_CANDIDATES 200
#define SEARCH_SNIPPET_MAX (64 * 1024)
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
#define SEARCH_TSQUERY_SQL                                                                 \
    "(SELECT string_agg(" SEARCH_QUOTE_LEXEME ", ' | ')::tsquery FROM unnest(to_tsvector('english', $2)))"

/*
 * Candidates. Ranking every chunk that contains any query word does not scale:
 * a common word ("work", "use") matches a large share of 100k chunks, and
 * ts_rank_cd must read each one's tsvector (docs/retrieval.md has the figures).
 * So candidates are the chunks matching the query's rarest lexemes, taken in
 * order of their frequency in the planner's statistics (pg_stats, filled by
 * ANALYZE for tsvector columns) while their summed frequency stays within
 * $6 (a fraction of all chunks), and at least the rarest one. They are still
 * ranked with the whole query. A lexeme the statistics do not list counts as
 * rare (frequency 0). With $6 = 1 every lexeme is used (the fallback when the
 * narrow set is too small).
 *
 * Row-level security (db/migrations/0006_rls.sql) would defeat both halves:
 * pg_stats hides a policy table's statistics, and the GIN index cannot serve
 * the (not LEAKPROOF) @@ under a policy. So the frequencies come from
 * chunk_lexeme_freq() and the chunks from the view tenant_chunks, which
 * filters on the session's tenant itself; m.tenant_id = $1 stays as well. The
 * chunks are matched in their own subquery (OFFSET 0 keeps it one): joined in
 * one query level, the policies of documents and document_versions would
 * reach the chunks scan through tenant_id = $1 (one equivalence class) and
 * forbid the index all the same (docs/retrieval.md has the figures).
 */
static const char candidates_sql[] =
    "WITH lex AS ("
    "  SELECT t.lexeme, chunk_lexeme_freq(t.lexeme) AS freq"
    "    FROM unnest(to_tsvector('english', $2)) t"
    "), sel AS ("
    "  SELECT lexeme, row_number() OVER w AS rn, sum(freq) OVER w AS cum"
    "    FROM lex WINDOW w AS (ORDER BY freq, lexeme)"
    "), q AS ("
    "  SELECT (SELECT string_agg(" SEARCH_QUOTE_LEXEME ", ' | ')::tsquery FROM lex) AS tq,"
    "         (SELECT string_agg(" SEARCH_QUOTE_LEXEME ", ' | ')::tsquery FROM sel"
    "           WHERE rn = 1 OR cum <= $6::float8) AS tq_cand,"
    "         ARRAY(SELECT lexeme FROM lex"
    "                WHERE lexeme <> ALL (tsvector_to_array(to_tsvector('english', $7)))) AS lex"
    "), cand AS ("
    "  SELECT c.chunk_id, c.doc_id, c.version_id, c.page_start, c.page_end, c.tsv,"
    "         ts_rank_cd(c.tsv, (SELECT tq FROM q)) AS fts"
    "    FROM (SELECT m.* FROM tenant_chunks m"
    "           WHERE m.tenant_id = $1 AND m.tsv @@ (SELECT tq_cand FROM q) OFFSET 0) c"
    "    JOIN document_versions v ON v.version_id = c.version_id AND v.is_active AND v.tenant_id = $1"
    "    JOIN documents d ON d.doc_id = c.doc_id AND d.tenant_id = $1 AND d.deleted_at IS NULL"
    "   ORDER BY fts DESC, c.chunk_id"
    "   LIMIT $3"
    ")"
    "SELECT cand.chunk_id, cand.doc_id, cand.version_id, d.title, d.source_uri,"
    "       cand.page_start, cand.page_end, cand.fts,"
    "       length(cand.tsv) - length(ts_delete(cand.tsv, q.lex)) AS matched,"
    "       cardinality(q.lex) AS nlex,"
    "       CASE WHEN e.model = $4 AND e.dim = $5::integer THEN e.vector END AS vector"
    "  FROM cand CROSS JOIN q"
    "  JOIN documents d ON d.doc_id = cand.doc_id"
    "  LEFT JOIN chunk_embeddings e ON e.chunk_id = cand.chunk_id";

/* Share of all chunks the candidate lexemes may cover together (see above). */
#define SEARCH_RARE_BUDGET "0.02"

/*
 * Words of how people ask rather than of what they ask about ("how long does
 * a refund take?"). They still rank candidates, but they do not count among the
 * lexemes a chunk must match to be evidence (matched / nlex): a passage about
 * refunds answers that question even though it never says "long" or "take".
 * PostgreSQL's English stop words are dropped already; these are the common
 * verbs and adverbs its list keeps. Stemmed by to_tsvector like the query.
 */
#define SEARCH_QUESTION_WORDS                                                      \
    "long take takes took much many get gets make need needs use work works way " \
    "mean means go goes come want know tell find happen possible often ever "     \
    "also still would could should please thing something anything"

enum { C_CHUNK, C_DOC, C_VERSION, C_TITLE, C_URI, C_PSTART, C_PEND, C_FTS, C_MATCHED, C_NLEX, C_VECTOR };

/*
 * Snippets only for the chunks returned. Control characters 1 and 2 mark the
 * matches (rank_snippet turns them into <mark>); any already in the text are
 * removed first so they cannot forge a mark.
 */
static const char snippets_sql[] =
    "SELECT c.chunk_id,"
    "       ts_headline('english', translate(c.text, chr(1) || chr(2), ''), " SEARCH_TSQUERY_SQL ", $4)"
    "  FROM chunks c"
    " WHERE c.tenant_id = $1 AND c.chunk_id = ANY ($3::uuid[])";

static const char headline_options[] =
    "StartSel=\x01, StopSel=\x02, MaxWords=40, MinWords=15, MaxFragments=2";

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

/* One search, from the parsed body to the answer. */
struct search {
    struct req *r;
    int64_t t0;              /* time_mono_ms() at the start, for the log line */
    char *query;             /* trimmed, NUL-terminated, in the arena */
    int top_k;
    struct embedder *emb;    /* the query's embedder, NULL when ranking by FTS only */
    float *qvec;             /* the query's vector (dim floats), or NULL */
    int dim;                 /* 0 without a vector */
    PGresult *cands;         /* candidates_sql's rows (C_* columns) */
    int ncands;
    int widened;             /* 1: the candidates come from every lexeme ($6 = 1) */
    int nvec;                /* candidates ranked by their vector too */
    struct rank_cand *sel;   /* the evidence, best first */
    int nsel;
};

static void abstain(struct req *r)
{
    req_json(r, 200, json_pack("{s:s,s:s,s:[]}", "status", "abstained", "reason", "no evidence", "results"));
}

/* The search's one log line; never the query text. */
static void log_search(const struct search *s, const char *status)
{
    log_info("search", json_pack("{s:s,s:i,s:i,s:i,s:b,s:s,s:i,s:I}", "tenant_id", s->r->principal.tenant_id,
                                 "top_k", s->top_k, "candidates", s->ncands, "with_vectors", s->nvec,
                                 "widened", s->widened,
                                 "status", status, "results", s->nsel,
                                 "duration_ms", (json_int_t)(time_mono_ms() - s->t0)));
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

/* "{id,id,...}" for the chosen chunks (UUIDs need no quoting). */
static char *uuid_array(struct req *r, const PGresult *res, const struct rank_cand *sel, int n)
{
    size_t cap = (size_t)n * (ID_UUID_LEN + 1) + 3, off = 0;
    char *s = arena_alloc(&r->arena, cap);
    int i;

    if (!s)
        return NULL;
    s[off++] = '{';
    for (i = 0; i < n; i++) {
        const char *id = db_val(res, (int)sel[i].idx, C_CHUNK);

        if (i)
            s[off++] = ',';
        memcpy(s + off, id, ID_UUID_LEN);
        off += ID_UUID_LEN;
    }
    s[off++] = '}';
    s[off] = '\0';
    return s;
}

static json_t *make_snippet(const char *headline)
{
    struct buf b;
    json_t *j = NULL;

    buf_init(&b, SEARCH_SNIPPET_MAX);
    if (headline && rank_snippet(headline, strlen(headline), &b) == 0)
        j = json_stringn(b.ptr, b.len);
    buf_release(&b);
    return j ? j : json_string("");
}

/*
 * The full-text candidates with their embeddings into s->cands: from the
 * rarest lexemes first; too few of them (e.g. a misspelt rare word) widen to
 * all of them. 0, or -1 after answering.
 */
static int fetch_candidates(struct search *s)
{
    struct req *r = s->r;
    char limit[16], dimtxt[16];
    const char *params[7];

    snprintf(limit, sizeof(limit), "%d", SEARCH_CANDIDATES);
    snprintf(dimtxt, sizeof(dimtxt), "%d", s->dim);
    params[0] = r->principal.tenant_id;
    params[1] = s->query;
    params[2] = limit;
    params[3] = s->qvec ? embed_model(s->emb) : NULL;
    params[4] = dimtxt;
    params[5] = SEARCH_RARE_BUDGET;
    params[6] = SEARCH_QUESTION_WORDS;
    s->cands = rows_query(r, candidates_sql, 7, params, SEARCH_DB_WHAT);
    if (s->cands && PQntuples(s->cands) < s->top_k) {
        params[5] = "1";
        s->cands = rows_query(r, candidates_sql, 7, params, SEARCH_DB_WHAT);
        s->widened = 1;
    }
    if (!s->cands)
        return -1;
    s->ncands = PQntuples(s->cands);
    return 0;
}

/* The ranking inputs of every candidate row, into c (s->ncands entries); counts s->nvec. */
static void read_candidates(struct search *s, struct rank_cand *c, float *tmp)
{
    for (int i = 0; i < s->ncands; i++) {
        const char *v = db_val(s->cands, i, C_VECTOR);

        c[i].idx = (size_t)i;
        c[i].fts = strtod(db_val(s->cands, i, C_FTS), NULL);
        c[i].matched = (int)strtol(db_val(s->cands, i, C_MATCHED), NULL, 10);
        c[i].nlex = (int)strtol(db_val(s->cands, i, C_NLEX), NULL, 10);
        /* A chunk embedded by another model (or a malformed vector) is ranked by FTS only. */
        if (v && s->qvec && rank_parse_vector(v, tmp, s->dim) == 0) {
            c[i].has_vec = 1;
            c[i].cosine = rank_cosine(s->qvec, tmp, s->dim);
            s->nvec++;
        }
    }
}

/* Rank the candidates (RRF) and keep the first top_k that are evidence in s->sel; -1 after answering. */
static int select_evidence(struct search *s)
{
    struct arena *a = &s->r->arena;
    struct rank_cand *c = arena_alloc(a, sizeof(*c) * (size_t)s->ncands);
    float *tmp = s->dim ? arena_alloc(a, sizeof(float) * (size_t)s->dim) : NULL;

    s->sel = arena_alloc(a, sizeof(*s->sel) * (size_t)s->top_k);
    if (!c || (s->dim && !tmp) || !s->sel) {
        req_error(s->r, API_ERR_INTERNAL, "out of memory");
        return -1;
    }
    memset(c, 0, sizeof(*c) * (size_t)s->ncands);
    read_candidates(s, c, tmp);
    rank_fuse(c, (size_t)s->ncands, RANK_RRF_K);
    for (int i = 0; i < s->ncands && s->nsel < s->top_k; i++)
        if (rank_is_evidence(&c[i], s->r->app->cfg->search_min_cosine))
            s->sel[s->nsel++] = c[i];
    return 0;
}

/* ts_headline() of the selected chunks (chunk_id, headline); NULL after answering. */
static PGresult *fetch_snippets(struct search *s)
{
    struct req *r = s->r;
    const char *params[4];

    params[0] = r->principal.tenant_id;
    params[1] = s->query;
    params[2] = uuid_array(r, s->cands, s->sel, s->nsel);
    params[3] = headline_options;
    if (!params[2]) {
        req_error(r, API_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    return rows_query(r, snippets_sql, 4, params, SEARCH_DB_WHAT);
}

/* The headline of chunk_id in snip, or NULL. */
static const char *headline_of(const PGresult *snip, const char *chunk_id)
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

    return json_pack("{s:s,s:s,s:s,s:s,s:s?,s:o,s:o,s:o,s:f}", "chunk_id", chunk_id,
                     "doc_id", db_val(res, row, C_DOC), "version_id", db_val(res, row, C_VERSION),
                     "title", db_val(res, row, C_TITLE), "source_uri", db_val(res, row, C_URI),
                     "page_start", rows_int(db_val(res, row, C_PSTART)),
                     "page_end", rows_int(db_val(res, row, C_PEND)),
                     "snippet", make_snippet(headline_of(snip, chunk_id)), "score", s->sel[i].fused);
}

/* Answer 200 "answered" with the selected candidates as citations. */
static void answer(struct search *s, const PGresult *snip)
{
    json_t *results = arena_json(&s->r->arena, json_array());

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

    memset(&s, 0, sizeof(s));
    s.r = r;
    s.t0 = time_mono_ms();
    if (parse_request(&s) < 0)
        return;
    s.qvec = embed_query(r, s.query, &s.emb);
    s.dim = s.qvec ? embed_dim(s.emb) : 0;
    if (fetch_candidates(&s) < 0)
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
