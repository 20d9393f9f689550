-- 0016: activation's term statistics read a chunk's lexemes only (issue 16,
-- worker speed; docs/decisions.md "Worker write: what PostgreSQL computes").
--
-- 0007's term_stats_apply() (activation and deactivation of a version) counted
-- a version's lexemes with unnest(tsv), which builds a positions array and a weights array
-- for every lexeme of every chunk only to drop them. tsvector_to_array(tsv) gives
-- the same lexemes (one per distinct lexeme of the chunk, as unnest does) without
-- them: the activation's aggregate takes about half the time (measured 55 -> 25 ms
-- for a 891-chunk manual). Same rows, same order (lexeme order: two transactions of
-- one tenant still wait for each other instead of deadlocking), same results.
--
-- CREATE OR REPLACE keeps the function's owner, grants and triggers; nothing is
-- recomputed on an existing database (the counts do not change). 0007's
-- term_stats_chunks_trigger() (chunks added to an active version: a bulk load or a
-- repair, never the worker) is left as it is.
CREATE OR REPLACE FUNCTION term_stats_apply(p_tenant uuid, p_version uuid, p_sign integer) RETURNS void
LANGUAGE sql SET search_path = public, pg_temp AS $$
    INSERT INTO term_stats AS s (tenant_id, lexeme, df)
    SELECT p_tenant, u.lexeme, p_sign * count(*)
      FROM chunks c, unnest(tsvector_to_array(c.tsv)) AS u(lexeme)
     WHERE c.version_id = p_version
     GROUP BY u.lexeme
     ORDER BY u.lexeme
    ON CONFLICT (tenant_id, lexeme) DO UPDATE SET df = s.df + EXCLUDED.df;
    INSERT INTO corpus_stats AS s (tenant_id, chunks, bytes)
    SELECT p_tenant, p_sign * count(*), p_sign * coalesce(sum(octet_length(c.text)), 0)
      FROM chunks c
     WHERE c.version_id = p_version
    ON CONFLICT (tenant_id) DO UPDATE SET chunks = s.chunks + EXCLUDED.chunks, bytes = s.bytes + EXCLUDED.bytes;
$$;
