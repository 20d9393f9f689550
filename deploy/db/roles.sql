-- Run by the one-shot `db-roles` service after `core-api migrate` (which creates the
-- NOLOGIN roles core_api and ingest_worker in db/migrations/0002_roles.sql).
-- Creates (or updates the password of) one login per program and makes it a member
-- of its role only: core-api's login cannot write content tables, the worker's login
-- cannot write orchestration tables (DESIGN invariant 5). Each program runs SET ROLE
-- to its role right after connecting. Idempotent: safe on every `up`.
--
-- psql variables (set by docker-compose.yml): api_user, api_password, worker_user,
-- worker_password.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

SELECT format('CREATE ROLE %I LOGIN', :'api_user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'api_user') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'worker_user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'worker_user') \gexec

ALTER ROLE :"api_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'api_password';
ALTER ROLE :"worker_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'worker_password';

GRANT core_api TO :"api_user";
GRANT ingest_worker TO :"worker_user";
