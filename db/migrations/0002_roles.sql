-- DESIGN invariant 5: core-api writes orchestration tables only, ingest-worker
-- writes content tables and run status. Each program SET ROLEs to its role right
-- after connecting; these GRANTs are what the split rests on.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'core_api') THEN
        CREATE ROLE core_api NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ingest_worker') THEN
        CREATE ROLE ingest_worker NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO core_api, ingest_worker;

-- core-api
GRANT SELECT, INSERT, UPDATE ON tenants, users, documents, ingestion_runs TO core_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys, login_failures TO core_api;
GRANT SELECT ON document_versions, chunks, chunk_embeddings TO core_api;

-- ingest-worker: reads orchestration rows, updates only the run's progress columns.
GRANT SELECT ON tenants, documents TO ingest_worker;
GRANT SELECT ON ingestion_runs TO ingest_worker;
GRANT UPDATE (status, attempt, updated_at, started_at, finished_at, stats, error)
    ON ingestion_runs TO ingest_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON document_versions, chunks, chunk_embeddings TO ingest_worker;

-- DELETE /v1/documents (admin) must stop search at once by deactivating the
-- document's versions, a content write. Rather than give core-api UPDATE on
-- document_versions, it calls this one narrow function, which runs with the
-- worker role's rights and can do nothing else.
CREATE FUNCTION deactivate_document_versions(p_tenant uuid, p_doc uuid) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    WITH changed AS (
        UPDATE document_versions SET is_active = false
         WHERE tenant_id = p_tenant AND doc_id = p_doc AND is_active
        RETURNING 1)
    SELECT count(*)::integer FROM changed
$$;
ALTER FUNCTION deactivate_document_versions(uuid, uuid) OWNER TO ingest_worker;
REVOKE ALL ON FUNCTION deactivate_document_versions(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION deactivate_document_versions(uuid, uuid) TO core_api;
