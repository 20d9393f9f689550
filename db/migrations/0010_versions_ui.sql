-- Versions the UI can act on (issue 15; docs/decisions.md "Versions and deletion").
--
-- 1. Re-activation of an older version by an admin. Activation is a content
--    write, which core-api's role may not make (DESIGN invariant 5); like the
--    deletion's deactivate_document_versions (0002), it calls one narrow
--    function owned by the worker role that can do nothing else. It takes the
--    worker's per-document activation lock (src/worker/store.c), so it never
--    interleaves with a run's write, and keeps invariant 2: the old active
--    version is switched off before the new one is switched on, so the partial
--    unique index never sees two. Row-level security applies (the caller's
--    app.tenant_id): another tenant's version is not found.
--    Returns 1 (activated, or already active), 0 (no such succeeded version of
--    that document in the tenant), -1 (the document is deleted).
CREATE FUNCTION activate_document_version(p_tenant uuid, p_doc uuid, p_version uuid) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_doc::text, 0));
    IF NOT EXISTS (SELECT 1 FROM document_versions v JOIN ingestion_runs r ON r.run_id = v.run_id
                    WHERE v.version_id = p_version AND v.doc_id = p_doc AND v.tenant_id = p_tenant
                      AND r.status = 'succeeded') THEN
        RETURN 0;
    END IF;
    IF EXISTS (SELECT 1 FROM documents d WHERE d.doc_id = p_doc AND d.tenant_id = p_tenant
                  AND d.deleted_at IS NOT NULL) THEN
        RETURN -1;
    END IF;
    UPDATE document_versions SET is_active = false
     WHERE tenant_id = p_tenant AND doc_id = p_doc AND is_active AND version_id <> p_version;
    UPDATE document_versions SET is_active = true
     WHERE tenant_id = p_tenant AND doc_id = p_doc AND version_id = p_version AND NOT is_active;
    RETURN 1;
END
$$;
ALTER FUNCTION activate_document_version(uuid, uuid, uuid) OWNER TO ingest_worker;
REVOKE ALL ON FUNCTION activate_document_version(uuid, uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION activate_document_version(uuid, uuid, uuid) TO core_api;

-- 2. The deletion record is final. A deleted document is never revived: its
--    deleted_at/deleted_by stay as the audit trail. So that the same content
--    can be uploaded again as a NEW document (its identity, upload://sha256:…,
--    is unique per tenant), deletion moves a content-addressed document's
--    source_uri aside ("#deleted-<doc_id>" appended; core-api does it from now
--    on). Documents deleted before this migration get the same treatment.
UPDATE documents SET source_uri = source_uri || '#deleted-' || doc_id::text
 WHERE deleted_at IS NOT NULL AND source_type = 'upload' AND source_uri LIKE 'upload://sha256:%'
   AND source_uri NOT LIKE '%#deleted-%';
