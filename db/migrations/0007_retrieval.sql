-- 0007_retrieval.sql - what ranking needs (docs/retrieval.md, issue 12):
--
-- 1. Structure of a chunk from extraction: `section` (the heading path, " > "
--    between levels) and `page_label` (the printed page number of page_start).
-- 2. Per-tenant term statistics over ACTIVE versions, for BM25 and for choosing
--    the candidate words: term_stats (document frequency of each lexeme, in
--    chunks) and corpus_stats (number of chunks and their bytes). They are kept
--    by a trigger on document_versions whenever a version becomes active or
--    inactive (or an active one is inserted or deleted), and by one on chunks
--    added to or removed from an active version, in the transaction that
--    changes them, so search never depends on when ANALYZE last ran (0006's
--    chunk_lexeme_freq read pg_stats; it is dropped).

ALTER TABLE chunks ADD COLUMN section text, ADD COLUMN page_label text;

-- A view's column list is fixed when it is made: add the new ones (same policy as 0006).
CREATE OR REPLACE VIEW tenant_chunks AS
    SELECT chunk_id, tenant_id, doc_id, version_id, ordinal, text, page_start, page_end,
           char_start, char_end, tsv, section, page_label
      FROM chunks
     WHERE tenant_id = app_tenant_id()
    WITH CHECK OPTION;

CREATE TABLE term_stats (
    tenant_id uuid NOT NULL,
    lexeme    text NOT NULL,
    df        integer NOT NULL,            -- active chunks containing the lexeme
    PRIMARY KEY (tenant_id, lexeme)
);

CREATE TABLE corpus_stats (
    tenant_id uuid PRIMARY KEY,
    chunks    bigint NOT NULL,             -- active chunks
    bytes     bigint NOT NULL              -- their octet_length(text), summed
);

ALTER TABLE term_stats ENABLE ROW LEVEL SECURITY;
ALTER TABLE corpus_stats ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON term_stats TO core_api, ingest_worker
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON corpus_stats TO core_api, ingest_worker
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT ON term_stats, corpus_stats TO core_api;
GRANT SELECT, INSERT, UPDATE ON term_stats, corpus_stats TO ingest_worker;

-- Add (sign 1) or remove (sign -1) the chunks of one version to the statistics.
-- Lexemes are upserted in lexeme order, so two transactions of one tenant wait
-- for each other instead of deadlocking on the same rows.
-- A fixed search_path: these run from triggers, also inside SECURITY DEFINER
-- functions whose search_path is pg_catalog only (0012's source_object_removed).
CREATE FUNCTION term_stats_apply(p_tenant uuid, p_version uuid, p_sign integer) RETURNS void
LANGUAGE sql SET search_path = public, pg_temp AS $$
    INSERT INTO term_stats AS s (tenant_id, lexeme, df)
    SELECT p_tenant, u.lexeme, p_sign * count(*)
      FROM chunks c, unnest(c.tsv) u
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

CREATE FUNCTION term_stats_trigger() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.is_active THEN
            PERFORM term_stats_apply(OLD.tenant_id, OLD.version_id, -1);
        END IF;
        RETURN OLD;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.is_active THEN
            PERFORM term_stats_apply(NEW.tenant_id, NEW.version_id, 1);
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.is_active AND NOT NEW.is_active THEN
        PERFORM term_stats_apply(OLD.tenant_id, OLD.version_id, -1);
    ELSIF NEW.is_active AND NOT OLD.is_active THEN
        PERFORM term_stats_apply(NEW.tenant_id, NEW.version_id, 1);
    END IF;
    RETURN NEW;
END
$$;

-- BEFORE DELETE: the version's chunks are still there (the cascade runs after).
CREATE TRIGGER term_stats_delete BEFORE DELETE ON document_versions
    FOR EACH ROW EXECUTE FUNCTION term_stats_trigger();
CREATE TRIGGER term_stats_change AFTER INSERT OR UPDATE OF is_active ON document_versions
    FOR EACH ROW EXECUTE FUNCTION term_stats_trigger();

-- Chunks added to or removed from a version that is active already (the worker
-- never does this: it writes a version's chunks before activating it; a bulk
-- load or a repair might). A chunk deleted with its version is not counted twice:
-- by then the version row is gone, so the join finds nothing.
CREATE FUNCTION term_stats_chunks_trigger() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    sign integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    INSERT INTO term_stats AS s (tenant_id, lexeme, df)
    SELECT c.tenant_id, u.lexeme, sign * count(*)
      FROM changed c JOIN document_versions v ON v.version_id = c.version_id AND v.is_active, unnest(c.tsv) u
     GROUP BY c.tenant_id, u.lexeme
     ORDER BY c.tenant_id, u.lexeme
    ON CONFLICT (tenant_id, lexeme) DO UPDATE SET df = s.df + EXCLUDED.df;
    INSERT INTO corpus_stats AS s (tenant_id, chunks, bytes)
    SELECT c.tenant_id, sign * count(*), sign * sum(octet_length(c.text))
      FROM changed c JOIN document_versions v ON v.version_id = c.version_id AND v.is_active
     GROUP BY c.tenant_id
     ORDER BY c.tenant_id
    ON CONFLICT (tenant_id) DO UPDATE SET chunks = s.chunks + EXCLUDED.chunks, bytes = s.bytes + EXCLUDED.bytes;
    RETURN NULL;
END
$$;

CREATE TRIGGER term_stats_chunks_insert AFTER INSERT ON chunks
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION term_stats_chunks_trigger();
CREATE TRIGGER term_stats_chunks_delete AFTER DELETE ON chunks
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION term_stats_chunks_trigger();

REVOKE ALL ON FUNCTION term_stats_apply(uuid, uuid, integer), term_stats_trigger(), term_stats_chunks_trigger()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION term_stats_apply(uuid, uuid, integer), term_stats_trigger(), term_stats_chunks_trigger()
    TO ingest_worker;

-- The statistics of what is active already.
INSERT INTO term_stats (tenant_id, lexeme, df)
SELECT c.tenant_id, u.lexeme, count(*)
  FROM chunks c JOIN document_versions v ON v.version_id = c.version_id AND v.is_active, unnest(c.tsv) u
 GROUP BY c.tenant_id, u.lexeme;
INSERT INTO corpus_stats (tenant_id, chunks, bytes)
SELECT c.tenant_id, count(*), sum(octet_length(c.text))
  FROM chunks c JOIN document_versions v ON v.version_id = c.version_id AND v.is_active
 GROUP BY c.tenant_id;

DROP FUNCTION chunk_lexeme_freq(text);
