-- Idempotency-Key claims (POST /v1/ingest). The first request with a (user, key)
-- inserts its row as pending (status 0) before it reads the body; a concurrent
-- request with the same key finds that row and answers 409 instead of running
-- as well. The holder then stores its 2xx answer in the row, or deletes the row
-- on any other outcome so the client may retry with the same key. A pending row
-- older than one hour (a core-api that died mid-upload) is taken over by the
-- next request; the crash guard still deletes every row older than 24 hours.
--
-- claim_id: the request holding (or that last held) the row, its run_id. Only
-- that request completes or deletes a pending row, so a request whose stale
-- claim was taken over cannot overwrite or release the new holder's row.
ALTER TABLE idempotency_keys ADD COLUMN claim_id uuid;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_status_pending_or_http
    CHECK (status = 0 OR status BETWEEN 200 AND 599);
