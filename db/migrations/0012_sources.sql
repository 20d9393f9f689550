-- S3 sources and their sync runs (issue 17, spec section 12; docs/sources.md).
--
-- sources        what to list: a bucket and prefix, where it lives, how to sign
--                (credentials_ref names environment variables of the worker,
--                never a secret), which keys (globs), how often (schedule_s).
--                Written by core-api (admin), read by the worker.
-- source_syncs   one row per sync: queued -> running -> succeeded | failed,
--                with its counts in stats. core-api inserts it (the trigger or
--                the schedule), the worker runs it. At most one queued or
--                running sync per source (source_syncs_one_active): a second
--                trigger answers 409 with the running one.
-- source_objects what the last sync saw of each key (ETag, size,
--                last-modified) and its document: the worker's own memory,
--                compared with the next listing.
--
-- The write split holds: the worker creates the document and the queued run
-- of a new or changed object, and deactivates the document of a removed one,
-- only through the two SECURITY DEFINER functions below, which act in the
-- caller's tenant (app.tenant_id) and nowhere else.

CREATE TABLE sources (
    source_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL REFERENCES tenants,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    type            text NOT NULL DEFAULT 's3' CHECK (type = 's3'),
    bucket          text NOT NULL CHECK (length(bucket) BETWEEN 3 AND 63),
    prefix          text NOT NULL DEFAULT '' CHECK (length(prefix) <= 1024),
    region          text NOT NULL DEFAULT '',
    endpoint        text NOT NULL DEFAULT '',
    credentials_ref text NOT NULL DEFAULT '',
    include_globs   text[] NOT NULL DEFAULT '{}',
    exclude_globs   text[] NOT NULL DEFAULT '{}',
    schedule_s      integer NOT NULL DEFAULT 0 CHECK (schedule_s >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE source_syncs (
    sync_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants,
    source_id   uuid NOT NULL REFERENCES sources ON DELETE CASCADE,
    status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    trigger     text NOT NULL CHECK (trigger IN ('manual', 'schedule')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz,
    stats       jsonb NOT NULL DEFAULT '{}',
    error       text
);
CREATE UNIQUE INDEX source_syncs_one_active ON source_syncs (source_id) WHERE status IN ('queued', 'running');
CREATE INDEX source_syncs_source_created ON source_syncs (source_id, created_at DESC);

CREATE TABLE source_objects (
    source_id     uuid NOT NULL REFERENCES sources ON DELETE CASCADE,
    tenant_id     uuid NOT NULL REFERENCES tenants,
    key           text NOT NULL,
    etag          text NOT NULL,
    size          bigint NOT NULL,
    last_modified text NOT NULL,
    doc_id        uuid REFERENCES documents,
    run_id        uuid,
    seen_sync_id  uuid,
    removed_at    timestamptz,
    PRIMARY KEY (source_id, key)
);
CREATE INDEX source_objects_doc ON source_objects (doc_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON sources TO core_api;
GRANT SELECT, INSERT, UPDATE ON source_syncs TO core_api;
GRANT SELECT ON source_objects TO core_api;
GRANT SELECT ON sources TO ingest_worker;
GRANT SELECT ON source_syncs TO ingest_worker;
GRANT UPDATE (status, updated_at, started_at, finished_at, stats, error) ON source_syncs TO ingest_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON source_objects TO ingest_worker;

-- Tenant isolation, as 0006 set it up for the older tables.
ALTER TABLE sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE source_syncs ENABLE ROW LEVEL SECURITY;
ALTER TABLE source_objects ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sources TO core_api, ingest_worker
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON source_syncs TO core_api, ingest_worker
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON source_objects TO core_api, ingest_worker
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

-- The worker's sync: get or create the document of source_uri (an s3:// URI,
-- the spec's identity) and insert its queued run with the given config. Only in
-- the caller's tenant. Returns the doc_id.
CREATE FUNCTION source_object_run(p_run uuid, p_uri text, p_title text, p_config jsonb) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t uuid := public.app_tenant_id();
    d uuid;
BEGIN
    IF t IS NULL OR p_uri NOT LIKE 's3://%' THEN
        RAISE EXCEPTION 'source_object_run: no tenant set or not an s3:// URI' USING ERRCODE = '42501';
    END IF;
    INSERT INTO public.documents (tenant_id, source_type, source_uri, title)
    VALUES (t, 's3', p_uri, p_title)
    ON CONFLICT (tenant_id, source_uri) DO UPDATE SET updated_at = now(), deleted_at = NULL, deleted_by = NULL
    RETURNING doc_id INTO d;
    INSERT INTO public.ingestion_runs (run_id, tenant_id, doc_id, status, config)
    VALUES (p_run, t, d, 'queued', p_config);
    RETURN d;
END
$$;

-- The worker's sync: an object gone from the bucket. Its document is marked
-- deleted and every version deactivated (as DELETE /v1/documents does), only
-- for an s3 document of the caller's tenant. Returns the versions deactivated.
CREATE FUNCTION source_object_removed(p_doc uuid) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t uuid := public.app_tenant_id();
    n integer;
BEGIN
    UPDATE public.documents SET deleted_at = now(), updated_at = now()
     WHERE doc_id = p_doc AND tenant_id = t AND source_type = 's3';
    UPDATE public.document_versions SET is_active = false
     WHERE doc_id = p_doc AND tenant_id = t AND is_active;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- The schedule (core-api's crash guard timer): sources of every tenant whose
-- schedule is due and that have no queued or running sync. Ids only.
CREATE FUNCTION due_source_syncs(p_limit integer) RETURNS TABLE (tenant_id uuid, source_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.tenant_id, s.source_id FROM public.sources s
     WHERE s.schedule_s > 0
       AND NOT EXISTS (SELECT 1 FROM public.source_syncs y
                        WHERE y.source_id = s.source_id
                          AND (y.status IN ('queued', 'running')
                               OR y.created_at > now() - make_interval(secs => s.schedule_s)))
     ORDER BY s.source_id LIMIT p_limit
$$;

REVOKE ALL ON FUNCTION source_object_run(uuid, text, text, jsonb), source_object_removed(uuid),
    due_source_syncs(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION source_object_run(uuid, text, text, jsonb), source_object_removed(uuid) TO ingest_worker;
GRANT EXECUTE ON FUNCTION due_source_syncs(integer) TO core_api;
