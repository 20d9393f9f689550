-- Reliability (issue 14): the transactional outbox and the workers' published
-- takeover bound.
--
-- outbox: one row per queue message still to be sent. POST /v1/ingest inserts
-- it in the same transaction as the queued run, so a committed run always has
-- either a sent message or a row here, whatever happens to the process after
-- the commit. The request that made it sends the message at once and deletes
-- the row; a row left behind (core-api died between the commit and the
-- SendMessage, or the queue refused) is sent by the outbox publisher of any
-- core-api instance once next_at has passed, and deleted after the send. The
-- crash guard's QUEUED_TTL re-publication stays as the last resort.
-- Not tenant-owned (no tenant_id, no policy): only core-api's publisher reads
-- it, across tenants; the message names its tenant, and the run row (which
-- has the policy) is what every reader of a run sees.
CREATE TABLE outbox (
    run_id     uuid PRIMARY KEY REFERENCES ingestion_runs ON DELETE CASCADE,
    message    text NOT NULL,                 -- the spec 4.5 body, exactly as sent
    created_at timestamptz NOT NULL DEFAULT now(),
    next_at    timestamptz NOT NULL,          -- not sent by a publisher before this
    attempts   integer NOT NULL DEFAULT 0
);
CREATE INDEX outbox_next ON outbox (next_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON outbox TO core_api;

-- worker_settings: each ingest-worker process publishes, at start and then
-- every minute, the longest a run of a crashed worker can stay `running`
-- before another worker takes it over (VISIBILITY_TIMEOUT + TAKEOVER_AFTER +
-- HEARTBEAT_INTERVAL + a margin). core-api compares its RUNNING_TTL with the
-- largest bound of the workers seen lately: it warns at start and in /readyz,
-- and the crash guard never fails a run stale_running sooner than that bound
-- (docs/operations.md, "RUNNING_TTL and the workers' takeover bound").
-- Not tenant-owned.
CREATE TABLE worker_settings (
    worker_id         text PRIMARY KEY CHECK (length(worker_id) BETWEEN 1 AND 200),
    takeover_bound_ms bigint NOT NULL CHECK (takeover_bound_ms > 0),
    settings          jsonb NOT NULL DEFAULT '{}',
    seen_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX worker_settings_seen ON worker_settings (seen_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON worker_settings TO ingest_worker;
GRANT SELECT ON worker_settings TO core_api;
