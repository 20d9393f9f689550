// Search at scale (issue 13): POST /v1/search over 100 tenants of skewed sizes
// (one tenant holds half the chunks, the other 99 share the rest with Zipf-like
// sizes), by BENCH_CLIENTS (8) concurrent clients, at each of BENCH_SIZES chunks
// (10000,100000 by default; add 1000000 for the million, which takes long to load:
// BENCH_SIZES=10000,100000,1000000). Half the questions go to the big tenant, half
// to the small ones.
//
// At each size, in the same run:
//   - p50/p95/p99 with migration 0008's per-tenant full-text index (and by 1 client, the
//     latency without queuing for the CPU),
//   - the same questions without it (the unoptimised path: the whole-table index of migration
//     0001 in its place, which migration 0015 dropped), and
//     whether both return the same chunks in the same order for every question,
//   - GET /healthz under the same concurrency (the server's floor),
//   - the CPU one search costs PostgreSQL and core-api (from /proc, by one client),
//   - with BENCH_BASELINE_BUILD=<build dir> (BENCH_BASELINE_LABEL names it): the same
//     questions against that build's core-api on the same database in the same run, its
//     latencies and CPU, and whether every citation (id, score, snippet) is the same.
//     The baseline build must know this schema: a build from before migration 0021 reads the
//     vectors as real[] and ranks by full text only (its citations then differ).
//   - PostgreSQL runs with shared_buffers a quarter of the memory (BENCH_PG_SHARED_BUFFERS).
//
//   - with BENCH_TAIL=N: each question alone N times, the heaviest tenth and their statements
//     (tailQuestions).
//
//   node bench/search_scale_bench.mjs     BENCH_QUERIES (200 per phase)
//
// The corpus is bench/gen_chunks.c's (Zipf-distributed synthetic words, ~1000 bytes
// a chunk, hash embeddings as core-api makes them), loaded with COPY as the superuser.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from '../tests/lib/stack.mjs';
import { buildGenChunks, envNum, f1, f2, httpRequest, pct, row } from './lib.mjs';

const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const TENANTS = 100;
const CLIENTS = envNum('BENCH_CLIENTS', 8);
const QUERIES = envNum('BENCH_QUERIES', 200);
const CHUNKS_PER_DOC = 50;
const TOP_K = 8;
// Migration 0008's index: dropped and made again here for the unoptimised baseline, which
// has the whole-table index of 0001 in its place (migration 0015 dropped that one).
const INDEX_NAME = 'chunks_tenant_tsv';
// As migration 0017 leaves it (a 256 kB pending list; empty after a bulk build either way).
const INDEX_SQL = `CREATE INDEX ${INDEX_NAME} ON chunks USING gin (tenant_id, tsv) WITH (fastupdate = on, gin_pending_list_limit = 256)`;
const OLD_INDEX = 'chunks_tsv';
const OLD_INDEX_SQL = `CREATE INDEX ${OLD_INDEX} ON chunks USING gin (tsv) WITH (fastupdate = off)`;

// Documents per tenant for a corpus of size chunks: tenant 0 half, the rest by 1/rank, at least one each.
function shares(size) {
  const docs = Math.round(size / CHUNKS_PER_DOC);
  const big = Math.floor(docs / 2);
  const rest = docs - big;
  const w = Array.from({ length: TENANTS - 1 }, (_, i) => 1 / (i + 1));
  const sw = w.reduce((a, b) => a + b, 0);
  const small = w.map((x) => Math.max(1, Math.floor((x / sw) * rest)));
  let left = rest - small.reduce((a, b) => a + b, 0);
  for (let i = 0; left > 0; i = (i + 1) % small.length, left--) small[i]++;
  return [big, ...small];
}

// The term statistics of migration 0007, computed once over everything active (the load runs
// without triggers: kept row by row, the tenant's term_stats rows were rewritten once per
// document inside one transaction, and loading 50k chunks of one tenant took over 10 minutes).
const STATS_SQL = `BEGIN;
DELETE FROM term_stats;
DELETE FROM corpus_stats;
WITH active AS (
  SELECT c.tenant_id, c.tsv, octet_length(c.text) AS bytes FROM chunks c
   WHERE EXISTS (SELECT 1 FROM document_versions v WHERE v.version_id = c.version_id AND v.is_active)
), df AS (
  INSERT INTO term_stats (tenant_id, lexeme, df)
  SELECT tenant_id, lexeme, count(*) FROM active, unnest(tsvector_to_array(tsv)) lexeme GROUP BY 1, 2
)
INSERT INTO corpus_stats (tenant_id, chunks, bytes) SELECT tenant_id, count(*), sum(bytes) FROM active GROUP BY 1;
COMMIT;
`;

// Load docs [from, to) of every tenant through one psql, triggers off (session_replication_role)
// but 0019's lexemes trigger, the full-text index dropped during the load and built once after
// it (kept row by row with fastupdate off, it made most of the million's 20 minutes of loading).
async function loadDelta(gen, url, tenants, have, want) {
  const p = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url], { stdio: ['pipe', 'ignore', 'inherit'] });
  const done = new Promise((resolve, reject) => p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`psql ${c}`)))));
  // Migration 0019's trigger fills a chunk's tsv, head_tsv and sketch when the row leaves them out
  // (as gen_chunks does): it must fire in replica mode too, or the chunks load without lexemes.
  p.stdin.write(`SET session_replication_role = replica;\nALTER TABLE chunks ENABLE ALWAYS TRIGGER chunks_lexemes_insert;\n` +
    `DROP INDEX IF EXISTS ${INDEX_NAME};\n`);
  for (let t = 0; t < tenants.length; t++) {
    if (want[t] <= have[t]) continue;
    const g = spawn(gen, ['corpus', tenants[t].id, String(have[t]), String(want[t] - have[t])],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, GEN_NO_ANALYZE: '1' } });
    for await (const chunk of g.stdout) if (!p.stdin.write(chunk)) await new Promise((r) => p.stdin.once('drain', r));
  }
  p.stdin.end(`${STATS_SQL}SET maintenance_work_mem = '256MB';\n${INDEX_SQL};\nANALYZE documents, document_versions, chunks, chunk_embeddings, term_stats, corpus_stats;\n`);
  await done;
}

// Tenants and an active user each, made with SQL; their tokens signed with the stack's JWT secret.
async function makeTenants(stack) {
  const rows = await stack.sql(`
    WITH t AS (INSERT INTO tenants (slug, name) SELECT 'scale-' || i, 'Scale ' || i FROM generate_series(0, $1 - 1) i
               RETURNING tenant_id, slug)
    INSERT INTO users (tenant_id, email, password_hash, role)
    SELECT tenant_id, 'bench@' || slug || '.test', 'x', 'user' FROM t RETURNING user_id, tenant_id, email`, [TENANTS]);
  rows.sort((a, b) => Number(a.email.match(/scale-(\d+)/)[1]) - Number(b.email.match(/scale-(\d+)/)[1]));
  const now = Math.floor(Date.now() / 1000);
  const b64u = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return rows.map((r) => {
    const hp = `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u({ sub: r.user_id, tid: r.tenant_id, role: 'user', iat: now,
      nbf: now, exp: now + 86400, jti: crypto.randomUUID() })}`;
    return { id: r.tenant_id, token: `${hp}.${crypto.createHmac('sha256', stack.env.JWT_SECRET).update(hp).digest('base64url')}` };
  });
}

// The tenant question i goes to: every other one the big tenant, the rest the small ones in turn.
const tenantOf = (i) => (i % 2 === 0 ? 0 : 1 + (Math.floor(i / 2) % (TENANTS - 1)));

// Every question once, CLIENTS at a time: latencies (ms) overall, big tenant, small tenants; the chunk ids answered.
async function runQueries(stack, tenants, queries, clients = CLIENTS, base = stack.baseUrl) {
  const lat = { all: [], big: [], small: [] };
  const answers = new Array(queries.length);
  let next = 0;
  async function client() {
    for (let i = next++; i < queries.length; i = next++) {
      const t = tenantOf(i);
      const t0 = process.hrtime.bigint();
      const r = await httpRequest(`${base}/v1/search`, { method: 'POST', body: JSON.stringify({ query: queries[i], top_k: TOP_K }),
        headers: { authorization: `Bearer ${tenants[t].token}`, 'content-type': 'application/json' } });
      const { text } = r;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 200) throw new Error(`search ${r.status}: ${text}`);
      lat.all.push(ms);
      lat[t === 0 ? 'big' : 'small'].push(ms);
      const json = JSON.parse(text);
      // ids, scores and snippets: "same answers" means the whole citation list
      answers[i] = JSON.stringify((json.results ?? []).map((c) => [c.chunk_id, c.score, c.snippet]));
    }
  }
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: clients }, client));
  const cpu = process.cpuUsage(cpu0);
  for (const k of Object.keys(lat)) lat[k].sort((a, b) => a - b);
  // the client's own CPU a search (this process, JSON and HTTP), on the same cores as the server
  return { lat, answers, clientMs: (cpu.user + cpu.system) / 1000 / Math.max(1, queries.length) };
}

async function healthz(stack, n) {
  const xs = [];
  let next = 0;
  async function client() {
    for (let i = next++; i < n; i = next++) {
      const t0 = process.hrtime.bigint();
      await httpRequest(`${stack.baseUrl}/healthz`);
      xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return xs.sort((a, b) => a - b);
}

const p3 = (xs) => `${f1(pct(xs, 50))} / ${f1(pct(xs, 95))} / ${f1(pct(xs, 99))}`;

// CPU ticks (user + system) by pid of the cluster's PostgreSQL processes and of the core-api at apiPid.
function cpuTicks(pgDir, apiPid) {
  const pids = new Set([apiPid]);
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(pgDir)) pids.add(Number(d));
      const ppid = Number(fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      if (ppid && fs.readFileSync(`/proc/${ppid}/cmdline`, 'utf8').includes(pgDir)) pids.add(Number(d));
    } catch {}
  }
  const t = new Map();
  for (const p of pids) {
    try {
      const f = fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      t.set(p, Number(f[11]) + Number(f[12]));
    } catch {}
  }
  return t;
}

// Milliseconds of CPU one search costs the server side (PostgreSQL and core-api, and each), by one
// client: a figure that queuing behind other work on a shared machine does not inflate as much as
// latency. Summed per process over the processes alive at the end (a process that started during
// the phase counts from 0): an autovacuum worker that ends during the phase, its ticks gone from
// /proc, no longer takes them off the sum.
async function searchCpu(stack, tenants, queries, base = stack.baseUrl, pid = stack.apiPid) {
  const qs = queries.slice(0, 100);
  const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  const t0 = cpuTicks(stack.pg.dir, pid);
  await runQueries(stack, tenants, qs, 1, base);
  const t1 = cpuTicks(stack.pg.dir, pid);
  let pg = 0;
  for (const [p, t] of t1) if (p !== pid) pg += t - (t0.get(p) ?? 0);
  const api = (t1.get(pid) ?? 0) - (t0.get(pid) ?? 0);
  const ms = (ticks) => (ticks * 1000) / hz / qs.length;
  return { ms: ms(pg + api), pg: ms(pg), api: ms(api), n: qs.length };
}

const BASE_BUILD = process.env.BENCH_BASELINE_BUILD;
const BASE_LABEL = process.env.BENCH_BASELINE_LABEL ?? BASE_BUILD;
let baseApi = null;

async function baselineBuild(stack, tenants, queries, api) {
  await runQueries(stack, tenants, queries.slice(0, 40), CLIENTS, api.baseUrl);   // warm-up
  const fast = await runQueries(stack, tenants, queries, CLIENTS, api.baseUrl);
  const one = await runQueries(stack, tenants, queries.slice(0, 60), 1, api.baseUrl);
  const cpu = await searchCpu(stack, tenants, queries, api.baseUrl, api.pid);
  return { fast, one, cpu };
}

// After a load, the database as an operator's looks: VACUUM (ANALYZE) of the search's tables, then
// no autovacuum worker left (at most 120 s): measured while autovacuum ran, the first phase after
// the load was the slower one whichever build ran in it.
async function settle(stack) {
  await stack.sql('VACUUM (ANALYZE) documents, document_versions, chunks, chunk_embeddings, term_stats, corpus_stats');
  const until = Date.now() + 120000;
  for (;;) {
    const [{ n }] = await stack.sql("SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'");
    if (n === 0 || Date.now() > until) return { n, mb: await prewarm(stack) };
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// The relations a search reads, into shared_buffers (pg_prewarm, shipped with PostgreSQL), as in a
// database that has served searches for a while: straight after the load they were in the
// kernel's page cache only, and the first phase paid a read per candidate's page (the 40-question
// warm-up touches a small part of them). Returns the MiB read.
const SEARCHED = ['chunks', 'chunks_pkey', 'chunks_tenant_tsv', 'chunk_embeddings', 'chunk_embeddings_pkey', 'documents',
  'documents_pkey', 'document_versions', 'document_versions_pkey', 'term_stats', 'term_stats_pkey', 'corpus_stats'];
async function prewarm(stack) {
  await stack.sql('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
  const [{ mb }] = await stack.sql(`SELECT (sum(pg_prewarm(c.oid)) * current_setting('block_size')::int / 1048576)::int AS mb
    FROM pg_class c WHERE c.relname = ANY ($1::text[]) AND c.relnamespace = 'public'::regnamespace`, [SEARCHED]);
  return mb;
}

// PostgreSQL's shared_buffers as an operator sizes it (docs/operations.md "Sizing PostgreSQL"): a
// quarter of the machine's memory, at most 8 GiB, or BENCH_PG_SHARED_BUFFERS (e.g. 128MB, the test
// suites' setting). With 128 MB the 100k corpus (chunks 295 MB, embeddings 115 MB) did not fit, and
// every candidate's heap page was read again through the kernel: 118 rows took 9 ms of a 11 ms
// statement (auto_explain, Buffers: read=104).
const SHARED_BUFFERS = process.env.BENCH_PG_SHARED_BUFFERS ??
  `${Math.min(8192, Math.floor(os.totalmem() / 4 / 1048576))}MB`;
process.env.STACK_PG_OPTS = `${process.env.STACK_PG_OPTS ?? ''} -c shared_buffers=${SHARED_BUFFERS}`;

// BENCH_PG_STATEMENTS=1: pg_stat_statements loaded in the bench's own PostgreSQL, and after each
// build's phases the statements that cost the most execution time, per call.
const PG_STATEMENTS = process.env.BENCH_PG_STATEMENTS === '1';
if (PG_STATEMENTS) process.env.STACK_PG_OPTS = `${process.env.STACK_PG_OPTS ?? ''} -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on`;

async function topStatements(stack, label) {
  if (!PG_STATEMENTS) return;
  const rows = await stack.sql(`SELECT calls, total_exec_time / calls AS exec_ms, total_plan_time / calls AS plan_ms,
      left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS q
    FROM pg_stat_statements WHERE calls >= 20 ORDER BY total_exec_time DESC LIMIT 8`);
  console.log(`  pg_stat_statements, ${label}:`);
  for (const r of rows) console.log(`    ${String(r.calls).padStart(6)} calls ${f2(r.exec_ms)} ms exec ${f2(r.plan_ms)} ms plan  ${r.q}`);
  await stack.sql('SELECT pg_stat_statements_reset()');
}

// BENCH_TAIL=N: after this build's phases, each question alone N times (1 client) against a
// core-api of this build logging at info, whose search line holds each statement's wait
// (db_us); the questions whose fastest run is slowest are those the p95 queues behind. Prints
// the heaviest tenth with their statements' times, and the mean per statement of that tenth
// against the rest; with BENCH_BASELINE_BUILD, each question alone against that build too
// (fastest of N, right after: the same machine state), in parentheses.
const TAIL = envNum('BENCH_TAIL', 0);

// Question i alone against base, the fastest of TAIL runs (ms).
async function aloneMs(tenants, queries, i, base) {
  let best = Infinity;
  for (let k = 0; k < TAIL; k++) {
    const t0 = process.hrtime.bigint();
    await httpRequest(`${base}/v1/search`, { method: 'POST', body: JSON.stringify({ query: queries[i], top_k: TOP_K }),
      headers: { authorization: `Bearer ${tenants[tenantOf(i)].token}`, 'content-type': 'application/json' } });
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

async function tailQuestions(stack, tenants, queries, api) {
  const per = [];
  let seen = api.log().length;
  for (let i = 0; i < queries.length; i++) {
    let best = null;
    for (let k = 0; k < TAIL; k++) {
      const t = tenantOf(i);
      const t0 = process.hrtime.bigint();
      await httpRequest(`${api.baseUrl}/v1/search`, { method: 'POST', body: JSON.stringify({ query: queries[i], top_k: TOP_K }),
        headers: { authorization: `Bearer ${tenants[t].token}`, 'content-type': 'application/json' } });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const log = api.log();
      const line = log.slice(seen).split('\n').reverse().find((l) => l.includes('"msg":"search"'));
      seen = log.length;
      if (!line) throw new Error('BENCH_TAIL: no search log line');
      if (!best || ms < best.ms) best = { i, ms, big: t === 0, ...JSON.parse(line) };
    }
    // the baseline build alone on the same question, right after (same machine state)
    if (baseApi) best.base = await aloneMs(tenants, queries, i, baseApi.baseUrl);
    per.push(best);
  }
  per.sort((a, b) => b.ms - a.ms);
  const top = per.slice(0, Math.max(1, Math.round(per.length / 10)));
  const rest = per.slice(top.length);
  const stages = ['terms', 'candidates', 'vectors', 'feedback', 'snippets'];
  const mean = (xs, f) => xs.reduce((s, x) => s + f(x), 0) / Math.max(1, xs.length);
  console.log(`  heaviest ${top.length} of ${per.length} questions alone (fastest of ${TAIL}; ms; statements' waits in ms):`);
  for (const p of top) {
    console.log(`    ${f1(p.ms).padStart(6)}${baseApi ? ` (${f1(p.base).padStart(5)})` : ''} ${p.big ? 'big  ' : 'small'} cands ${String(p.candidates).padStart(3)} ` +
      `stmts ${p.candidate_statements} widened ${p.widened ? 1 : 0} vec ${String(p.with_vectors).padStart(3)} res ${p.results} | ` +
      stages.map((s) => `${s} ${f2(p.db_us[s] / 1000)}`).join(' ') + ` | q${p.i}: ${queries[p.i].slice(0, 60)}`);
  }
  for (const [label, xs] of [['heaviest tenth', top], ['the rest', rest]])
    console.log(`  mean, ${label}: ${f2(mean(xs, (p) => p.ms))} ms` +
      (baseApi ? ` (build ${BASE_LABEL} alone on the same questions: ${f2(mean(xs, (p) => p.base))} ms)` : '') +
      `; candidates ${f1(mean(xs, (p) => p.candidates))}; ` +
      stages.map((s) => `${s} ${f2(mean(xs, (p) => p.db_us[s] / 1000))}`).join(' ') +
      `; big tenant ${xs.filter((p) => p.big).length}/${xs.length}`);
}

async function main() {
  const stack = await startStack({ worker: false, apiEnv: { LOG_LEVEL: 'warn', DB_POOL_SIZE: '8' } });
  try {
    if (BASE_BUILD) baseApi = await stack.startExtraApi({}, path.join(path.resolve(BASE_BUILD), 'core-api'));
    const tailApi = TAIL > 0 ? await stack.startExtraApi({ LOG_LEVEL: 'info' }) : null;
    const gen = buildGenChunks(stack.buildDir);
    const tenants = await makeTenants(stack);
    const queries = execFileSync(gen, ['queries', String(QUERIES), '42'], { encoding: 'utf8' }).trim().split('\n');
    let have = new Array(TENANTS).fill(0);
    console.log(`search at scale: ${TENANTS} tenants (one with half the chunks), ${CLIENTS} clients, ${QUERIES} questions a phase, shared 2-core machine, PostgreSQL shared_buffers ${SHARED_BUFFERS}`);
    for (const size of SIZES) {
      const want = shares(size);
      let t0 = Date.now();
      await loadDelta(gen, stack.superUrl, tenants, have, want);
      have = want;
      const [{ n }] = await stack.sql('SELECT count(*)::int AS n FROM chunks');
      console.log(`\n${n} chunks (big tenant ${want[0] * CHUNKS_PER_DOC}, smallest ${Math.min(...want) * CHUNKS_PER_DOC}), loaded in ${f1((Date.now() - t0) / 1000)} s`);
      t0 = Date.now();
      const { n: av, mb } = await settle(stack);
      console.log(`VACUUM (ANALYZE), autovacuum and pg_prewarm (${mb} MiB) done in ${f1((Date.now() - t0) / 1000)} s${av ? ` (${av} autovacuum workers still running)` : ''}; load average ${os.loadavg().map(f2).join(' ')}`);
      if (PG_STATEMENTS) {
        await stack.sql('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
        await stack.sql('SELECT pg_stat_statements_reset()');
      }
      await runQueries(stack, tenants, queries.slice(0, 40));   // warm-up
      const fast = await runQueries(stack, tenants, queries);
      const one = await runQueries(stack, tenants, queries.slice(0, 60), 1);
      const cpu = await searchCpu(stack, tenants, queries);
      await topStatements(stack, 'this build');
      if (tailApi) await tailQuestions(stack, tenants, queries, tailApi);
      const prev = baseApi ? await baselineBuild(stack, tenants, queries, baseApi) : null;
      if (prev) await topStatements(stack, `build ${BASE_LABEL}`);
      await stack.sql(`DROP INDEX IF EXISTS ${INDEX_NAME}`);
      await stack.sql(OLD_INDEX_SQL);
      const slow = await runQueries(stack, tenants, queries);
      await stack.sql(`DROP INDEX ${OLD_INDEX}`);
      t0 = Date.now();
      await stack.sql(INDEX_SQL);
      const indexS = (Date.now() - t0) / 1000;
      const same = fast.answers.filter((a, i) => a === slow.answers[i]).length;
      const found = fast.answers.filter((a) => a !== '[]').length;
      // A corpus whose every question abstains measures nothing (a load without lexemes once did).
      if (found < queries.length / 4) throw new Error(`only ${found} of ${queries.length} questions answered with chunks`);
      const h = await healthz(stack, QUERIES);
      row(`search p50/p95/p99 all`, p3(fast.lat.all), 'ms', size >= 1000000 ? 'target p95 <= 150' : size >= 100000 ? 'target p95 <= 40' : '');
      row(`  big tenant`, p3(fast.lat.big), 'ms');
      row(`  small tenants`, p3(fast.lat.small), 'ms');
      row('  the bench client\'s own CPU a search', f2(fast.clientMs), 'ms', 'node:http, same cores');
      row('  1 client (no queuing)', p3(one.lat.all), 'ms', `big ${f1(pct(one.lat.big, 50))}, small ${f1(pct(one.lat.small, 50))} ms p50`);
      row(`baseline: ${OLD_INDEX}, not ${INDEX_NAME}`, p3(slow.lat.all), 'ms', `p95 with / without ${f2(pct(fast.lat.all, 95) / pct(slow.lat.all, 95))} x`);
      row(`  big tenant`, p3(slow.lat.big), 'ms');
      row(`  small tenants`, p3(slow.lat.small), 'ms');
      row(`same chunks, same order as with ${OLD_INDEX}`, `${same}/${queries.length}`, '', `${found} questions answered with chunks`);
      row('  CPU per search (PostgreSQL + core-api)', f1(cpu.ms), 'ms', `${cpu.n} questions by 1 client, /proc`);
      row('    PostgreSQL / core-api', `${f2(cpu.pg)} / ${f2(cpu.api)}`, 'ms');
      if (prev) {
        row(`baseline: build ${BASE_LABEL}`, p3(prev.fast.lat.all), 'ms',
          `p95 this / baseline ${f2(pct(fast.lat.all, 95) / pct(prev.fast.lat.all, 95))} x`);
        row('  1 client (no queuing)', p3(prev.one.lat.all), 'ms');
        row('  CPU per search (PostgreSQL + core-api)', f1(prev.cpu.ms), 'ms',
          `this / baseline ${f2(cpu.ms / prev.cpu.ms)} x`);
        row('    PostgreSQL / core-api', `${f2(prev.cpu.pg)} / ${f2(prev.cpu.api)}`, 'ms',
          `core-api this / baseline ${f2(cpu.api / prev.cpu.api)} x`);
        row('same citations (ids, scores, snippets) as baseline',
          `${fast.answers.filter((a, i) => a === prev.fast.answers[i]).length}/${queries.length}`, '');
        // the ranking alone (a change of the snippets' making changes the line above only)
        const ranked = (a) => JSON.stringify(JSON.parse(a).map(([id, score]) => [id, score]));
        row('  same ids and scores, in the same order',
          `${fast.answers.filter((a, i) => ranked(a) === ranked(prev.fast.answers[i])).length}/${queries.length}`, '');
      }
      row('baseline: /healthz', p3(h), 'ms', `${CLIENTS} clients`);
      row(`${INDEX_NAME} build`, f1(indexS), 's');
    }
  } finally {
    await stack.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
