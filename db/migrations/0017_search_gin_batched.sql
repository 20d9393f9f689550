-- 0017: the search index takes the worker's inserts in batches again, and the
-- worker merges them into the index as soon as its write commits (issue 16,
-- worker speed; docs/decisions.md "Search index: batched inserts, merged after
-- each write").
--
-- 0014 turned the GIN pending list off because every search reads the whole
-- pending list: 417 pending pages made a big tenant's candidate scan 3 to 15 ms
-- where it takes under 1 ms. Without it each chunk's lexemes go into the index
-- one by one, the largest part of the worker's database time (bench/
-- worker_bench.mjs: PostgreSQL 3.1 s of CPU for 3,458 chunks; 2.2 s with a
-- 256 kB pending list). This keeps both: inserts go to a pending list of at most
-- 256 kB (PostgreSQL merges it in sorted batches whenever it passes the limit,
-- inside the inserting transaction), and after every committed write the worker
-- calls chunks_index_merge(), so the list a search reads is empty again a moment
-- after each document lands, and never over 256 kB (32 pages) meanwhile.
--
-- gin_clean_pending_list() is allowed to the index's owner only; the function
-- below runs as that owner (the migration login), takes no argument, reads no
-- row and is executable by the worker only. On an existing database this only
-- changes the index's storage parameters: no rebuild, no rewrite.
ALTER INDEX chunks_tenant_tsv SET (fastupdate = on, gin_pending_list_limit = 256);

CREATE FUNCTION chunks_index_merge() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.gin_clean_pending_list('public.chunks_tenant_tsv'::pg_catalog.regclass)
$$;

REVOKE ALL ON FUNCTION chunks_index_merge() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chunks_index_merge() TO ingest_worker;
