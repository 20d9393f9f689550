-- Search at scale, third pass (issue 13; docs/decisions.md "Search at scale: the
-- full-text indexes without a pending list"): the GIN indexes that find search
-- candidates stop deferring their inserts.
--
-- With fastupdate on (PostgreSQL's default) new chunks go to the index's pending
-- list, merged into the index only by a VACUUM, an autoanalyze or when the list
-- passes gin_pending_list_limit (4 MB). Every bitmap scan of the index reads the
-- whole pending list, whatever the question and the tenant: measured on the
-- benchmark's 100k chunks, 417 pending pages (1,663 chunks) made the candidate
-- index scan of a big tenant's question 3 to 15 ms where it takes 0.4 to 0.9 ms
-- once merged. A search then costs what the pending list holds, not what the
-- answer needs. With fastupdate off a chunk's lexemes go straight into the index:
-- each insert costs more (the worker writes a document's chunks in one
-- transaction; bench/worker_bench.mjs measures it), every search less.
--
-- On an existing database this merges what is pending now (the owner of the
-- indexes runs the migration) and changes the indexes' storage parameter; no
-- rebuild, and rows are not rewritten.
ALTER INDEX chunks_tenant_tsv SET (fastupdate = off);
ALTER INDEX chunks_tsv SET (fastupdate = off);
SELECT gin_clean_pending_list('chunks_tenant_tsv'::regclass);
SELECT gin_clean_pending_list('chunks_tsv'::regclass);
