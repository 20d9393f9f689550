-- 0020: activation's term statistics counted by ts_stat() and written as HOT
-- updates; no planner statistics of the embedding vectors (issue 16, worker speed;
-- docs/decisions.md "Worker write: PostgreSQL's CPU, second pass").
--
-- 1. term_stats_apply() (0007, 0016: activation and deactivation of a version)
--    counted each lexeme's chunks with unnest(tsvector_to_array(tsv)), a row per
--    lexeme per chunk (55,470 rows for a manual of 855 chunks and 5,501 distinct
--    lexemes) into a hash aggregate. ts_stat() walks the same tsvectors in C and
--    returns, per distinct lexeme, ndoc: the number of the version's chunks that
--    hold it, which is the same count (a tsvector holds a lexeme once). Measured
--    38 -> 11 ms of the backend's CPU for that manual. Same rows, same values,
--    same order (ORDER BY the lexeme under the database's collation, as before:
--    writers of one tenant still take the rows' locks in one order). The inner
--    query runs with the caller's rights and policies, as the old one did.
-- 2. term_stats gets fillfactor 50: an activation updates df of every lexeme the
--    tenant already has (ON CONFLICT DO UPDATE); df is in no index, so with room
--    left on the page the new row version is a heap-only tuple and the primary key
--    (tenant_id, lexeme) is not inserted into again. Measured 30 -> 18 ms for the
--    5,501 lexemes above. The table takes up to twice the space (tens of bytes a
--    lexeme); search reads it by primary key probes only.
-- 3. chunk_embeddings.vector gets no planner statistics (SET STATISTICS 0). Every
--    ANALYZE (autovacuum runs one after each 10 % of new rows, so about once per
--    corpus the worker writes into a small database) computed element statistics of
--    the real[] vectors: 256 floats a row, hashed and counted for up to 30,000 sampled
--    rows. Measured: ANALYZE chunk_embeddings of 13,680 rows 1,295 ms, 36 ms without
--    them. No statement filters, joins or sorts on vector (search reads it by
--    chunk_id); the other columns keep their statistics.
--
-- On an existing database: nothing is recomputed or rewritten; the fillfactor
-- applies to pages written from now on (a VACUUM FULL term_stats in a quiet hour
-- applies it to all).

CREATE OR REPLACE FUNCTION term_stats_apply(p_tenant uuid, p_version uuid, p_sign integer) RETURNS void
LANGUAGE sql SET search_path = public, pg_temp AS $$
    INSERT INTO term_stats AS s (tenant_id, lexeme, df)
    SELECT p_tenant, u.word, p_sign * u.ndoc
      FROM ts_stat(format('SELECT tsv FROM public.chunks WHERE version_id = %L', p_version)) AS u
     ORDER BY u.word
    ON CONFLICT (tenant_id, lexeme) DO UPDATE SET df = s.df + EXCLUDED.df;
    INSERT INTO corpus_stats AS s (tenant_id, chunks, bytes)
    SELECT p_tenant, p_sign * count(*), p_sign * coalesce(sum(octet_length(c.text)), 0)
      FROM chunks c
     WHERE c.version_id = p_version
    ON CONFLICT (tenant_id) DO UPDATE SET chunks = s.chunks + EXCLUDED.chunks, bytes = s.bytes + EXCLUDED.bytes;
$$;

ALTER TABLE term_stats SET (fillfactor = 50);

ALTER TABLE chunk_embeddings ALTER COLUMN vector SET STATISTICS 0;
