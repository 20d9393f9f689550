-- Login throttling that cannot be raced (docs/decisions.md, Security; docs/api.md).
--
-- login_failures now holds reservations: a login inserts one row per bucket it
-- counts against (the account and address pair, the address, the account)
-- BEFORE the password is checked, in a short transaction that holds an
-- advisory lock on the address and account buckets, so N parallel attempts
-- can never check more guesses than the limits allow. A wrong password leaves
-- its rows as the failure; a right one deletes its own rows (and the pair's and
-- account's older failures); a login that never got to check the password
-- deletes its own rows. attempt names the rows of one login.
ALTER TABLE login_failures ADD COLUMN attempt uuid;

-- Written by core-api only (DESIGN invariant 5): core_api already has SELECT,
-- INSERT, UPDATE, DELETE on login_failures (0002_roles.sql), which covers the new
-- column; ingest_worker has no right on the table and gets none here.
REVOKE ALL ON login_failures FROM ingest_worker;
