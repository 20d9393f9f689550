#!/usr/bin/env node
// Search latency at 10k and 100k chunks (issue 5).
//
//   make && node bench/search_bench.mjs            (BENCH_QUERIES=200 by default)
//
// Starts its own throwaway stack (tests/lib/stack.mjs: PostgreSQL, SQS emulator,
// core-api; no worker), bootstraps a tenant, then loads a synthetic corpus
// directly with SQL as the superuser: documents, succeeded runs, active
// versions, chunks and hash embeddings made by bench/gen_chunks.c with the same
// embedding code core-api uses for queries. At each size it runs the same
// natural-language queries through POST /v1/search one at a time and prints
// p50/p95, next to two baselines measured in the same run:
//   - GET /healthz over HTTP (the server's own floor),
//   - the FTS candidate statement alone, run directly on PostgreSQL;
// and the cost a vector-only path would add (fetching all of the tenant's vectors).
// BENCH_API_ENV: JSON of extra core-api settings, e.g. {"SEARCH_COMPOUNDS":"false"}.
import { execFileSync, spawn } from 'node:child_process';
import pg from 'pg';
import { startStack } from '../tests/lib/stack.mjs';
import { buildGenChunks } from './lib.mjs';

const N = Number(process.env.BENCH_QUERIES ?? 200);
const DOCS_SMALL = Number(process.env.BENCH_DOCS_SMALL ?? 200);    // 50 chunks each: 10k chunks
const DOCS_LARGE = Number(process.env.BENCH_DOCS_LARGE ?? 2000);   // 100k chunks
const TOP_K = 8;

function load(gen, url, tenant, first, ndocs) {
  return new Promise((resolve, reject) => {
    const g = spawn(gen, ['corpus', tenant, String(first), String(ndocs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const p = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url], { stdio: ['pipe', 'ignore', 'inherit'] });
    g.stdout.pipe(p.stdin);
    let gc;
    g.on('exit', (c) => { gc = c; });
    p.on('exit', (c) => (c === 0 && gc === 0 ? resolve() : reject(new Error(`load failed: gen ${gc} psql ${c}`))));
  });
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function timeIt(fn) {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [Number(process.hrtime.bigint() - t) / 1e6, r];
}

// Baseline: the FTS candidate statement with ALL query lexemes OR-ed (what a plain OR search costs),
// run directly on PostgreSQL; search.c narrows candidates to the rare lexemes instead.
const FTS_SQL = `
  WITH q AS (SELECT (SELECT string_agg('''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''', ' | ')::tsquery
                       FROM unnest(to_tsvector('english', $2))) AS tq)
  SELECT c.chunk_id, ts_rank_cd(c.tsv, (SELECT tq FROM q)) AS fts
    FROM chunks c
    JOIN document_versions v ON v.version_id = c.version_id AND v.is_active AND v.tenant_id = $1
    JOIN documents d ON d.doc_id = c.doc_id AND d.tenant_id = $1 AND d.deleted_at IS NULL
   WHERE c.tenant_id = $1 AND c.tsv @@ (SELECT tq FROM q)
   ORDER BY fts DESC, c.chunk_id LIMIT 200`;

async function measure(stack, token, tenantId, queries, label) {
  const db = new pg.Client({ connectionString: stack.superUrl });
  await db.connect();
  // warm-up: caches, connection pool, thread embedders
  for (const q of queries.slice(0, 20)) await stack.api('POST', '/v1/search', { token, body: { query: q, top_k: TOP_K } });
  const search = [];
  const health = [];
  const fts = [];
  const cands = [];
  let answered = 0;
  for (const q of queries) {
    const [ms, r] = await timeIt(() => stack.api('POST', '/v1/search', { token, body: { query: q, top_k: TOP_K } }));
    if (r.status !== 200) throw new Error(`search ${r.status}: ${r.text}`);
    if (r.json.status === 'answered') answered++;
    search.push(ms);
    health.push((await timeIt(() => fetch(`${stack.baseUrl}/healthz`).then((x) => x.text())))[0]);
    const [fms, rows] = await timeIt(() => db.query(FTS_SQL, [tenantId, q]));
    fts.push(fms);
    cands.push(rows.rowCount);
  }
  const [vecMs, vecRows] = await timeIt(() => db.query(
    'SELECT chunk_id, vector FROM chunk_embeddings WHERE tenant_id = $1', [tenantId]));
  const matching = await db.query(
    `SELECT avg(n)::int AS avg FROM (SELECT (SELECT count(*) FROM chunks c WHERE c.tenant_id = $1 AND c.tsv @@
       (SELECT string_agg('''' || lexeme || '''', ' | ')::tsquery FROM unnest(to_tsvector('english', q)))) AS n
       FROM unnest($2::text[]) q) s`, [tenantId, queries.slice(0, 20)]);
  await db.end();
  const row = {
    size: label,
    queries: queries.length,
    answered,
    search_p50_ms: +pct(search, 50).toFixed(2),
    search_p95_ms: +pct(search, 95).toFixed(2),
    healthz_p50_ms: +pct(health, 50).toFixed(2),
    fts_sql_p50_ms: +pct(fts, 50).toFixed(2),
    fts_sql_p95_ms: +pct(fts, 95).toFixed(2),
    ratio_vs_healthz: +(pct(search, 50) / pct(health, 50)).toFixed(1),
    ratio_vs_fts_sql: +(pct(search, 50) / pct(fts, 50)).toFixed(2),
    avg_candidates: Math.round(cands.reduce((a, b) => a + b, 0) / cands.length),
    avg_fts_matches: matching.rows[0].avg,
    all_vectors_fetch_ms: +vecMs.toFixed(0),
    all_vectors_rows: vecRows.rowCount,
  };
  console.log(JSON.stringify(row));
  return row;
}

async function main() {
  const stack = await startStack({ worker: false, apiEnv: { LOG_LEVEL: 'warn', ...JSON.parse(process.env.BENCH_API_ENV ?? '{}') } });
  try {
    const gen = buildGenChunks(stack.buildDir);
    const admin = await stack.tenant('bench');
    const [{ tenant_id: tenantId }] = await stack.sql("SELECT tenant_id FROM tenants WHERE slug = 'bench'");
    const queries = execFileSync(gen, ['queries', String(N), '42'], { encoding: 'utf8' }).trim().split('\n');
    const rows = [];

    let t = Date.now();
    await load(gen, stack.superUrl, tenantId, 0, DOCS_SMALL);
    console.error(`loaded ${DOCS_SMALL * 50} chunks in ${Date.now() - t} ms`);
    rows.push(await measure(stack, admin.token, tenantId, queries, `${DOCS_SMALL * 50 / 1000}k`));

    t = Date.now();
    await load(gen, stack.superUrl, tenantId, DOCS_SMALL, DOCS_LARGE - DOCS_SMALL);
    console.error(`loaded ${DOCS_LARGE * 50} chunks in ${Date.now() - t} ms`);
    rows.push(await measure(stack, admin.token, tenantId, queries, `${DOCS_LARGE * 50 / 1000}k`));

    console.log('\nsize  queries answered  search p50/p95 ms  healthz p50  fts-all-lexemes p50/p95  x healthz  x fts-all  cands  all-vectors fetch');
    for (const r of rows) {
      console.log(`${r.size.padEnd(5)} ${String(r.queries).padStart(7)} ${String(r.answered).padStart(8)}  ` +
        `${`${r.search_p50_ms} / ${r.search_p95_ms}`.padStart(17)}  ${String(r.healthz_p50_ms).padStart(11)}  ` +
        `${`${r.fts_sql_p50_ms} / ${r.fts_sql_p95_ms}`.padStart(15)}  ${String(r.ratio_vs_healthz).padStart(9)}  ` +
        `${String(r.ratio_vs_fts_sql).padStart(9)}  ${String(r.avg_candidates).padStart(5)}  ` +
        `${r.all_vectors_fetch_ms} ms / ${r.all_vectors_rows} rows`);
    }
  } finally {
    await stack.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
