-- Server-side session revocation (docs/decisions.md, Security). Session tokens
-- stay signed JWTs; auth_authenticate's one user query also refuses:
--   * a token whose jti is in revoked_sessions (POST /v1/auth/logout puts it there);
--   * a token issued before users.sessions_valid_after (set by a password change,
--     bootstrap --reset-password and deactivation: every older session ends).

-- Logged-out tokens, kept until they would have expired anyway (then pruned by
-- core-api on an occasional logout).
CREATE TABLE revoked_sessions (
    jti        uuid PRIMARY KEY,
    user_id    uuid NOT NULL,
    expires_at timestamptz NOT NULL         -- the token's exp
);
CREATE INDEX revoked_sessions_expires ON revoked_sessions (expires_at);

-- Tokens with iat earlier than this instant are refused; NULL: no cutoff.
ALTER TABLE users ADD COLUMN sessions_valid_after timestamptz;

-- Written by core-api only (DESIGN invariant 5). core_api already has UPDATE on
-- users (the new column included); ingest_worker gets nothing here.
GRANT SELECT, INSERT, DELETE ON revoked_sessions TO core_api;
