-- 0019: the worker writes a chunk's lexemes itself, each computed once (issue 16,
-- worker speed; docs/decisions.md "Worker write: each lexeme computed once").
--
-- 0001 and 0015 made tsv, head_tsv and sketch generated columns. PostgreSQL then
-- parsed every chunk's text twice (tsv, and again inside chunk_sketch(), since a
-- generated column cannot read another one) and every chunk's heading path once
-- per chunk, though a section's chunks share it: two of the three largest parts
-- of the worker's database time. Now:
--
-- 1. The three columns are plain columns. The worker's INSERT computes tsv once
--    per chunk, the sketch from that tsv (chunk_sketch_tsv: the same 16 smallest
--    hashtext() values as chunk_sketch(text)), and head_tsv once per distinct
--    heading path of the write (chunk_head_tsv: the same expression as 0015).
-- 2. Every other writer (a bulk load, a test, a repair) keeps the old behaviour:
--    a row inserted without one of the three gets all three computed by the
--    trigger below, and an UPDATE of text or section recomputes them, so no row
--    holds values that differ from its text. The trigger's WHEN is checked
--    without calling the function: the worker's rows cost nothing more.
--    tests/integration/worker.test.mjs compares the worker's rows with the
--    expressions recomputed.
-- 3. The search index keeps 0017's 256 kB pending list: a 4 MB list measured
--    0.33 s against 0.375 s of the backend's CPU for 1,729 chunks (insert plus
--    merge), about 0.09 s over the benchmark's corpus, while a search would read
--    up to 512 pending pages during every write instead of 32.
--
-- On an existing database: no row is rewritten, no index rebuilt (DROP
-- EXPRESSION keeps the stored values).

CREATE FUNCTION chunk_sketch_tsv(tsv tsvector) RETURNS integer[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY(SELECT hashtext(l) FROM unnest(tsvector_to_array(tsv)) l ORDER BY 1 LIMIT 16);

CREATE FUNCTION chunk_head_tsv(section text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_tsvector('english'::regconfig, coalesce(substring(section FROM '.* > (.*)$'), ''));

ALTER TABLE chunks
    ALTER COLUMN tsv DROP EXPRESSION,
    ALTER COLUMN head_tsv DROP EXPRESSION,
    ALTER COLUMN sketch DROP EXPRESSION;

CREATE FUNCTION chunks_lexemes() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    NEW.tsv := to_tsvector('english'::regconfig, NEW.text);
    NEW.head_tsv := chunk_head_tsv(NEW.section);
    NEW.sketch := chunk_sketch_tsv(NEW.tsv);
    RETURN NEW;
END $$;

CREATE TRIGGER chunks_lexemes_insert BEFORE INSERT ON chunks
    FOR EACH ROW WHEN (NEW.tsv IS NULL OR NEW.head_tsv IS NULL OR NEW.sketch IS NULL)
    EXECUTE FUNCTION chunks_lexemes();
CREATE TRIGGER chunks_lexemes_update BEFORE UPDATE OF text, section, tsv, head_tsv, sketch ON chunks
    FOR EACH ROW EXECUTE FUNCTION chunks_lexemes();
