#!/usr/bin/env node
// Where PostgreSQL's share of the worker's write goes, per chunk (a profile: numbers only,
// no target, nothing stored changes). Starts a throwaway stack, ingests the Debian manuals
// of BENCH_MODE=real (bash.pdf, bashref.pdf, gnuplot.pdf) once, then times each piece of the
// write alone in SQL over those chunks (EXPLAIN ANALYZE TIMING OFF execution time, min of 3):
// to_tsvector, the sketch (chunk_sketch_tsv), the heading lexemes, the rows with their
// b-trees, the GIN index with and without its pending list, the embeddings.
//
//   make -j2 && node bench/worker_write_profile.mjs
import fs from 'node:fs';
import { startStack } from '../tests/lib/stack.mjs';
const stack = await startStack({ worker: true, env: { LOG_LEVEL: 'warn' } });
try {
  const t = await stack.tenant('prof');
  for (const f of ['/usr/share/doc/bash/bash.pdf', '/usr/share/doc/bash/bashref.pdf', '/usr/share/doc/gnuplot/gnuplot.pdf']) {
    if (!fs.existsSync(f)) continue;
    const { run } = await stack.ingest({ token: t.token ?? t.json?.access_token ?? t.json?.token, filename: f.split('/').pop(), content: fs.readFileSync(f), type: 'application/pdf' }, { timeoutMs: 120000 });
    if (run.status !== 'succeeded') throw new Error(run.error);
  }
  const [{ n, bytes }] = await stack.sql('SELECT count(*)::int AS n, sum(length(text))::bigint AS bytes FROM chunks');
  console.log(`chunks ${n}, ${bytes} chars`);
  const time = async (label, sql, setup = null) => {
    const ms = [];
    for (let i = 0; i < 3; i++) {
      if (setup) await stack.sql(setup);
      const rows = await stack.sql(`EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ${sql}`);
      ms.push(rows[0]['QUERY PLAN'][0]['Execution Time']);
    }
    const m = Math.min(...ms);
    console.log(`${label.padEnd(58)} ${m.toFixed(1).padStart(8)} ms  ${(m * 1000 / n).toFixed(1).padStart(7)} us/chunk`);
    return m;
  };
  await time('scan (length(text))', 'SELECT count(length(text)) FROM chunks');
  await time('to_tsvector(english, text)', "SELECT count(to_tsvector('english'::regconfig, text)) FROM chunks");
  await time('chunk_sketch_tsv(tsv) from the stored tsv', 'SELECT count(public.chunk_sketch_tsv(tsv)) FROM chunks');
  await time('chunk_head_tsv(section), every row', 'SELECT count(public.chunk_head_tsv(section)) FROM chunks');
  await time('chunk_head_tsv(section), distinct paths', 'SELECT count(public.chunk_head_tsv(k)) FROM (SELECT DISTINCT section AS k FROM chunks) d');
  await stack.sql('CREATE TABLE prof_plain AS SELECT * FROM chunks WITH NO DATA');
  await time('INSERT rows, no index', 'INSERT INTO prof_plain SELECT * FROM chunks', 'TRUNCATE prof_plain');
  await stack.sql('CREATE TABLE prof_btree AS SELECT * FROM chunks WITH NO DATA; ALTER TABLE prof_btree ADD PRIMARY KEY (chunk_id); CREATE INDEX ON prof_btree (tenant_id)');
  await time('INSERT rows + pkey + tenant b-tree', 'INSERT INTO prof_btree SELECT * FROM chunks', 'TRUNCATE prof_btree');
  await stack.sql('CREATE TABLE prof_gin AS SELECT * FROM chunks WITH NO DATA; CREATE INDEX ON prof_gin USING gin (tsv) WITH (fastupdate = off)');
  await time('INSERT rows + GIN (tsv)', 'INSERT INTO prof_gin SELECT * FROM chunks', 'TRUNCATE prof_gin');
  const gin2 = (await stack.sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'chunks_tenant_tsv'"))[0].indexdef;
  await stack.sql('CREATE TABLE prof_gin2 AS SELECT * FROM chunks WITH NO DATA; ' + gin2.replace('chunks_tenant_tsv', 'prof_gin2_i').replace(/ON public\.chunks/, 'ON prof_gin2') + (gin2.includes('WITH') ? '' : ' WITH (fastupdate = off)'));
  await time('INSERT rows + GIN (tenant_id, tsv)', 'INSERT INTO prof_gin2 SELECT * FROM chunks', 'TRUNCATE prof_gin2');
  await time('  its pending list merged (gin_clean_pending_list)', "SELECT gin_clean_pending_list('prof_gin2_i'::regclass)", 'TRUNCATE prof_gin2; INSERT INTO prof_gin2 SELECT * FROM chunks');
  await stack.sql('CREATE TABLE prof_gin3 AS SELECT * FROM chunks WITH NO DATA; ' + gin2.replace('chunks_tenant_tsv', 'prof_gin3_i').replace(/ON public\.chunks/, 'ON prof_gin3').replace(/WITH \(.*\)/, 'WITH (fastupdate = off)'));
  await time('INSERT rows + GIN (tenant_id, tsv), no pending list', 'INSERT INTO prof_gin3 SELECT * FROM chunks', 'TRUNCATE prof_gin3');
  const [{ e }] = await stack.sql('SELECT count(*)::int AS e FROM chunk_embeddings');
  await stack.sql('CREATE TABLE prof_emb AS SELECT * FROM chunk_embeddings WITH NO DATA');
  await time(`INSERT embeddings (${e} rows), no index`, 'INSERT INTO prof_emb SELECT * FROM chunk_embeddings', 'TRUNCATE prof_emb');
  await stack.sql('ALTER TABLE prof_emb ADD PRIMARY KEY (chunk_id)');
  await time('INSERT embeddings + pkey', 'INSERT INTO prof_emb SELECT * FROM chunk_embeddings', 'TRUNCATE prof_emb');
  console.log((await stack.sql("SELECT indexdef FROM pg_indexes WHERE tablename IN ('chunks','chunk_embeddings')")).map((r) => r.indexdef).join('\n'));
  console.log(JSON.stringify(await stack.sql("SELECT tgname FROM pg_trigger WHERE tgrelid = 'chunks'::regclass AND NOT tgisinternal")));
} finally {
  await stack.stop();
}
