-- Orchestration tables (written by core-api) and content tables (written by
-- ingest-worker). Spec section 1, DESIGN section 4.

CREATE TABLE tenants (
    tenant_id  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    user_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants,
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('user', 'admin')),
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Spec 1.1 asks for UNIQUE (tenant_id, email); emails compare case-insensitively.
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, lower(email));

CREATE TABLE documents (
    doc_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants,
    source_type text NOT NULL CHECK (source_type IN ('upload', 's3')),
    source_uri  text NOT NULL,
    title       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,
    deleted_by  uuid,
    UNIQUE (tenant_id, source_uri)          -- get-or-create (spec 4.2)
);
CREATE INDEX documents_tenant_updated ON documents (tenant_id, updated_at DESC);

CREATE TABLE ingestion_runs (
    run_id       uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants,
    doc_id       uuid NOT NULL REFERENCES documents,
    status       text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'skipped')),
    content_hash text,                      -- sha256 hex of this run's upload
    attempt      integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    config       jsonb NOT NULL DEFAULT '{}',
    stats        jsonb NOT NULL DEFAULT '{}',
    error        text
);
CREATE INDEX ingestion_runs_tenant_created ON ingestion_runs (tenant_id, created_at DESC);
CREATE INDEX ingestion_runs_status_updated ON ingestion_runs (status, updated_at);   -- crash guard
CREATE INDEX ingestion_runs_doc ON ingestion_runs (doc_id, created_at DESC);
-- Two concurrent uploads of the same content in one tenant make one ingestion:
-- the second insert hits this index and gets the first run back.
CREATE UNIQUE INDEX ingestion_runs_inflight_content ON ingestion_runs (tenant_id, content_hash)
    WHERE status IN ('queued', 'running');

-- Idempotency-Key: the first response of (user, key) replayed for 24 hours.
CREATE TABLE idempotency_keys (
    user_id    uuid NOT NULL,
    key        text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    tenant_id  uuid NOT NULL REFERENCES tenants,
    status     integer NOT NULL,
    response   jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- Failed logins, per client address and per account, shared by every core-api instance.
CREATE TABLE login_failures (
    bucket    text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_bucket ON login_failures (bucket, failed_at);

-- Content tables.
CREATE TABLE document_versions (
    version_id   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants,
    doc_id       uuid NOT NULL REFERENCES documents,
    run_id       uuid NOT NULL UNIQUE REFERENCES ingestion_runs,   -- a retried run never makes two versions
    content_hash text NOT NULL,
    is_active    boolean NOT NULL DEFAULT false,
    byte_size    bigint NOT NULL,
    pages        integer,
    chars        bigint,
    mime         text NOT NULL,
    uploaded_at  timestamptz NOT NULL,      -- the run's created_at: newest upload wins (invariant 7)
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- Invariant 2: at most one active version per document.
CREATE UNIQUE INDEX document_versions_one_active ON document_versions (doc_id) WHERE is_active;
CREATE INDEX document_versions_tenant_hash ON document_versions (tenant_id, content_hash) WHERE is_active;
CREATE INDEX document_versions_doc ON document_versions (doc_id, uploaded_at DESC);

CREATE TABLE chunks (
    chunk_id   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL,
    doc_id     uuid NOT NULL,
    version_id uuid NOT NULL REFERENCES document_versions ON DELETE CASCADE,
    ordinal    integer NOT NULL,
    text       text NOT NULL,
    page_start integer,
    page_end   integer,
    char_start bigint NOT NULL,
    char_end   bigint NOT NULL,
    tsv        tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    UNIQUE (version_id, ordinal)
);
CREATE INDEX chunks_tsv ON chunks USING gin (tsv);
CREATE INDEX chunks_tenant ON chunks (tenant_id);

-- pgvector is not available here: vectors are real[] and re-ranked in C.
CREATE TABLE chunk_embeddings (
    chunk_id  uuid PRIMARY KEY REFERENCES chunks ON DELETE CASCADE,
    tenant_id uuid NOT NULL,
    model     text NOT NULL,
    dim       integer NOT NULL,
    vector    real[] NOT NULL CHECK (cardinality(vector) = dim)
);
