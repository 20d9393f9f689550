-- Hot paths (docs/decisions.md, "Hot paths"; docs/operations.md, "Principal
-- cache" and "Run status push"): the database tells every core-api instance
-- what changed, by NOTIFY, so an instance can keep session checks in memory
-- and hold long polls without asking the database again and again.
--
-- The triggers run as whoever writes the row (core_api, ingest_worker, the
-- migration login, an operator's psql): every path that changes a user, ends
-- a session or moves a run is covered, not only core-api's handlers. A NOTIFY
-- is delivered when its transaction commits, never for one that rolls back.
-- pg_notify needs no privilege, so no GRANT is needed.

-- principal_changed: "u:<user_id>" when anything the session check reads
-- changes (active, role, password, sessions_valid_after, tenant) or the user
-- goes; "s:<jti>" when a session is logged out (src/api/listener.c,
-- common/principal_cache.h).
CREATE FUNCTION notify_principal_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'revoked_sessions' THEN
        PERFORM pg_notify('principal_changed', 's:' || NEW.jti::text);
    ELSE
        PERFORM pg_notify('principal_changed', 'u:' || OLD.user_id::text);   -- UPDATE or DELETE
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_principal_changed
    AFTER UPDATE OF is_active, role, password_hash, sessions_valid_after, tenant_id, user_id ON users
    FOR EACH ROW
    WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active OR OLD.role IS DISTINCT FROM NEW.role
          OR OLD.password_hash IS DISTINCT FROM NEW.password_hash
          OR OLD.sessions_valid_after IS DISTINCT FROM NEW.sessions_valid_after
          OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION notify_principal_changed();
CREATE TRIGGER users_principal_deleted
    AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_principal_changed();
CREATE TRIGGER revoked_sessions_principal_changed
    AFTER INSERT ON revoked_sessions
    FOR EACH ROW EXECUTE FUNCTION notify_principal_changed();

-- run_changed: "<tenant_id>/<run_id>" when a run is created or any of its
-- columns changes (every transition of common/run_state.c, the stats the
-- worker records, the crash guard's requeue). Long polls on
-- GET /v1/ingestion-runs/:id?wait= wait for it; the payload carries ids only,
-- the waiting request reads the row again under its own tenant.
CREATE FUNCTION notify_run_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('run_changed', NEW.tenant_id::text || '/' || NEW.run_id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER ingestion_runs_changed_insert
    AFTER INSERT ON ingestion_runs
    FOR EACH ROW EXECUTE FUNCTION notify_run_changed();
CREATE TRIGGER ingestion_runs_changed_update
    AFTER UPDATE ON ingestion_runs
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION notify_run_changed();

-- Search at scale: full-text candidates of ONE tenant. chunks_tsv (0001) indexes
-- every tenant's chunks together, so a small tenant's question walked the posting
-- lists of the whole corpus and dropped the other tenants' rows afterwards: its
-- cost grew with the corpus, not with its own chunks. A two-column GIN index on
-- (tenant_id, tsv) lets PostgreSQL intersect the tenant's entry with the rare
-- lexemes' entries inside the index (btree_gin gives uuid a GIN operator class;
-- it is a trusted extension, so the database owner may create it). Ranking is not
-- touched (handlers/search.c builds the same statement); the planner picks the
-- index. On an existing database this builds the index inside the migration's
-- transaction: writes to chunks wait for it (bench/search_scale_bench.mjs prints
-- its build time; about a second per 100k chunks on the benchmark machine).
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX chunks_tenant_tsv ON chunks USING gin (tenant_id, tsv);
