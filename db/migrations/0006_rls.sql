-- Row-level security: the second wall of tenant isolation (docs/decisions.md,
-- Security; docs/operations.md, "Row-level security").
--
-- The first wall stays: every query carries tenant_id = $n. This one holds when
-- a query forgets it. Every table with a tenant_id column gets a policy for the
-- application roles: a row is visible, and may be written, only when its
-- tenant_id is the session's app.tenant_id. core-api sets app.tenant_id from
-- the verified principal when a request takes its connection (and clears it
-- when the connection goes back to the pool); the worker sets it from the
-- message's tenant before the claim and again in the content transaction. With
-- the setting unset or empty, the application roles see no row at all.
--
-- Not FORCE: the table owner (the migration login) keeps bypassing the
-- policies. The programs never run a statement as the owner (db_connect SETs
-- ROLE before the first one); migrations must be able to rewrite every
-- tenant's rows, and the few narrow SECURITY DEFINER functions below, owned by
-- that login, are the documented paths that see several tenants.

-- The session's tenant: NULL (no row matches) when unset or empty. Plain SQL,
-- no SET clause, so the planner inlines it and uses the tenant_id indexes.
CREATE FUNCTION app_tenant_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT nullif(current_setting('app.tenant_id', true), '')::uuid
$$;

-- One policy per tenant-owned table, for both application roles. The GRANTs of
-- 0002 still decide which commands each role may run at all.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'users', 'documents', 'ingestion_runs', 'idempotency_keys',
                             'document_versions', 'chunks', 'chunk_embeddings'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I TO core_api, ingest_worker'
                       ' USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id())', t);
    END LOOP;
END
$$;

-- Not tenant-owned (no tenant_id, no policy): login_failures (buckets of an
-- address or a tenant slug and e-mail, before anyone is known), revoked_sessions
-- (keyed by a token's random jti) and schema_migrations.

-- The wall is only as good as these: an application role that owned a table,
-- or had SUPERUSER or BYPASSRLS, would skip every policy. Refuse to go on.
DO $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(rolname, ', ') INTO bad FROM pg_roles
     WHERE rolname IN ('core_api', 'ingest_worker') AND (rolsuper OR rolbypassrls);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'row-level security: role(s) % must be NOSUPERUSER NOBYPASSRLS', bad;
    END IF;
    SELECT string_agg(c.relname, ', ') INTO bad
      FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
       AND r.rolname IN ('core_api', 'ingest_worker');
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'row-level security: % owned by an application role; the owner must be the migration login', bad;
    END IF;
END
$$;

-- Search reads chunks through this view (handlers/search.c). The full-text
-- match (@@) is not LEAKPROOF, so under a policy PostgreSQL may not use the GIN
-- index for it and would read every chunk of the tenant. The view belongs to
-- the table owner, so its reads are not subject to the policy; its own WHERE is
-- the same rule, written once here, and rls.test.mjs checks it like a table.
CREATE VIEW tenant_chunks AS
    SELECT chunk_id, tenant_id, doc_id, version_id, ordinal, text, page_start, page_end,
           char_start, char_end, tsv
      FROM chunks
     WHERE tenant_id = app_tenant_id()
    WITH CHECK OPTION;   -- read-only for core_api; a write through it would still need the tenant
GRANT SELECT ON tenant_chunks TO core_api;

-- The paths that legitimately see several tenants, each a narrow SECURITY
-- DEFINER function run as the owner (who bypasses the policies), with a fixed
-- search_path, executable by core_api only. None returns a row of content.

-- Login, bootstrap and AUTH_ENABLED=false: the tenant of a slug, before any
-- principal exists (then the caller sets app.tenant_id to it).
CREATE FUNCTION tenant_id_by_slug(p_slug text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT tenant_id FROM public.tenants WHERE slug = p_slug
$$;

-- GET /metrics: runs by status, totals across tenants, no ids.
CREATE FUNCTION run_status_counts() RETURNS TABLE (status text, runs bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.status, count(*) FROM public.ingestion_runs r GROUP BY r.status
$$;

-- The crash guard: the tenants that have runs in p_status not updated since
-- p_before (ids only); it then sets each tenant and works under the policy.
CREATE FUNCTION stale_run_tenants(p_status text, p_before timestamptz, p_limit integer) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT DISTINCT r.tenant_id FROM public.ingestion_runs r
     WHERE r.status = p_status AND r.updated_at < p_before
     LIMIT p_limit
$$;

-- The crash guard: Idempotency-Key rows created before p_before, of every
-- tenant, deleted. Returns how many.
CREATE FUNCTION expire_idempotency_keys(p_before timestamptz) RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH gone AS (DELETE FROM public.idempotency_keys WHERE created_at < p_before RETURNING 1)
    SELECT count(*) FROM gone
$$;

-- Search's candidate choice: the share of all chunks containing a lexeme, from
-- the planner's statistics (0 when not among the most common). pg_stats hides
-- the statistics of a table under row-level security from the roles it
-- applies to; this is one number for one word the caller already has.
CREATE FUNCTION chunk_lexeme_freq(p_lexeme text) RETURNS real
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT s.most_common_elem_freqs[array_position(s.most_common_elems::text::text[], p_lexeme)]
                       FROM pg_catalog.pg_stats s
                      WHERE s.schemaname = 'public' AND s.tablename = 'chunks' AND s.attname = 'tsv'
                      LIMIT 1), 0)
$$;

REVOKE ALL ON FUNCTION tenant_id_by_slug(text), run_status_counts(),
    stale_run_tenants(text, timestamptz, integer), expire_idempotency_keys(timestamptz),
    chunk_lexeme_freq(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_id_by_slug(text), run_status_counts(),
    stale_run_tenants(text, timestamptz, integer), expire_idempotency_keys(timestamptz),
    chunk_lexeme_freq(text) TO core_api;

-- COPY FROM is refused on a table with row-level security, so the worker
-- copies chunks and embeddings into temporary tables of its transaction and
-- moves them with INSERT ... SELECT (worker/store.c), where the policy checks
-- each row. PUBLIC has TEMPORARY by default; grant it to the role as well, for
-- databases where it was revoked (a login that may not grant it gets a warning).
DO $$
BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO ingest_worker', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'cannot grant TEMPORARY on database % to ingest_worker: grant it as the database owner',
        current_database();
END
$$;
