-- 0015_search_precomputed.sql - search at scale, fourth pass (issue 13;
-- docs/retrieval.md "Cost that follows the answer", docs/decisions.md "Search
-- at scale: what a search computes is computed at write time").
--
-- What search.c computed for every candidate at query time is now stored with
-- the row, by the database itself (generated columns: no writer changes, and a
-- row can never hold a stale value):
--
-- 1. documents.title_tsv: the lexemes of the document's title (was a
--    to_tsvector of the title per candidate chunk, 200 a search).
-- 2. chunks.head_tsv: the lexemes of the chunk's own heading, the last level of
--    a heading path of two levels or more (was a regular expression and a
--    to_tsvector per candidate).
-- 3. chunks.sketch: the bottom-16 MinHash sketch of the chunk's lexemes, the
--    16 smallest hashtext() values (rank.h RANK_SKETCH must stay 16), for the
--    near-duplicate check (was hashtext of every lexeme of the best 40
--    candidates and a sort, in a statement of its own). Made from the text as
--    tsv is (a generated column cannot read another one): one more to_tsvector
--    per chunk at write time.
--
-- The view tenant_chunks gains ocr, head_tsv and sketch, so the candidate
-- statement reads them with the row it has already fetched (ocr was a primary
-- key look-up per candidate).
--
-- 4. The whole-table full-text index chunks_tsv (0001) is dropped: every search
--    statement matches tsv with tenant_id = the caller's tenant, which the
--    per-tenant index chunks_tenant_tsv (0008) serves (EXPLAIN at 100k chunks,
--    big and small tenants, docs/retrieval.md); nothing else matches tsv. The
--    worker then maintains one GIN index a chunk instead of two.
--
-- 5. chunks keep their rows whole up to 8160 bytes (toast_tuple_target): with
--    the PostgreSQL default (2032) a chunk of ~1000 bytes of text and its tsv
--    (~1200 bytes, which pglz does not compress) passed the threshold, so tsv
--    went out of line to the TOAST table for nearly every chunk: every
--    candidate then cost a TOAST index probe and page more, each time its tsv
--    was read (the pre-ranking, then the hits). Now a chunk is one heap page
--    read. The heap grows (text is no longer compressed either), TOAST shrinks
--    to the chunks that are really large.
--
-- On an existing database, adding stored generated columns rewrites chunks and
-- documents once (and rebuilds their indexes): about a minute per million
-- chunks on the benchmark machine. No row changes meaning.

CREATE FUNCTION chunk_sketch(body text) RETURNS integer[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY(SELECT hashtext(l) FROM unnest(tsvector_to_array(to_tsvector('english'::regconfig, body))) l
                  ORDER BY 1 LIMIT 16);

ALTER TABLE documents
    ADD COLUMN title_tsv tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, coalesce(title, ''))) STORED;

DROP INDEX IF EXISTS chunks_tsv;

-- Before the rewrite below, which stores every row again under the new target.
ALTER TABLE chunks SET (toast_tuple_target = 8160);

ALTER TABLE chunks
    ADD COLUMN head_tsv tsvector
        GENERATED ALWAYS AS (to_tsvector('english'::regconfig, coalesce(substring(section FROM '.* > (.*)$'), ''))) STORED,
    ADD COLUMN sketch integer[] GENERATED ALWAYS AS (chunk_sketch(text)) STORED;

-- A view's column list is fixed when it is made: add the new ones at the end (same policy as 0006).
CREATE OR REPLACE VIEW tenant_chunks AS
    SELECT chunk_id, tenant_id, doc_id, version_id, ordinal, text, page_start, page_end,
           char_start, char_end, tsv, section, page_label, ocr, head_tsv, sketch
      FROM chunks
     WHERE tenant_id = app_tenant_id()
    WITH CHECK OPTION;
