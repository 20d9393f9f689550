// Authenticated reads against the spec's Go design, measured in the same run
// (issue 13): GET /v1/ingestion-runs/:id by 32 connections (wrk -t2 -c32),
// core-api vs the Go anchor (/work/shared/anchors/go-spec-design, or
// GO_ANCHOR_DIR) on the same PostgreSQL cluster, and vs core-api's /healthz
// (no auth, no database). Also the database transactions per read
// (pg_stat_database), i.e. the round trips a read costs.
//
//   node bench/reads_bench.mjs            BENCH_SECONDS (5) per phase, BENCH_ROUNDS (1),
//                                         BENCH_LOG_LEVEL (warn: no access log line, like the Go design)
//
// Needs wrk, and to build the anchor golang-go and golang-github-jackc-pgx-v4-dev
// (Debian); without Go the anchor's figures are left out and said so.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startStack } from '../tests/lib/stack.mjs';
import { envNum, f1, f2, row, sleep, procMem } from './lib.mjs';

const SECONDS = envNum('BENCH_SECONDS', 5);
const ROUNDS = envNum('BENCH_ROUNDS', 1);
const CONNS = envNum('BENCH_CONNECTIONS', 32);
const ANCHOR = process.env.GO_ANCHOR_DIR ?? '/work/shared/anchors/go-spec-design';

function haveCmd(c) {
  return spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
}

// wrk's requests/s, p50 and p99 (ms) and non-2xx count.
function wrk(url, token) {
  const args = ['-t2', `-c${CONNS}`, `-d${SECONDS}s`, '--latency'];
  if (token) args.push('-H', `Authorization: Bearer ${token}`);
  const out = execFileSync('wrk', [...args, url], { encoding: 'utf8' });
  const ms = (label) => {
    const m = out.match(new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s)`, 'm'));
    if (!m) return NaN;
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  };
  const non2xx = Number((out.match(/Non-2xx or 3xx responses: (\d+)/) ?? [])[1] ?? 0);
  return { rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]), p50: ms('50'), p99: ms('99'), non2xx };
}

function buildAnchor(dir) {
  if (!haveCmd('go') || !fs.existsSync(path.join(ANCHOR, 'main.go'))) return null;
  const gopath = execFileSync('sh', ['-c', "dpkg -L golang-github-jackc-pgx-v4-dev | grep -m1 /src/github.com | sed 's,/src/.*,,'"],
    { encoding: 'utf8' }).trim();
  const bin = path.join(dir, 'anchor');
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: ANCHOR, stdio: 'inherit',
    env: { ...process.env, GOPATH: gopath, GO111MODULE: 'off', GOFLAGS: '', GOCACHE: path.join(dir, 'gocache') } });
  return bin;
}

// An HS256 token like the anchor's mkjwt.py.
function anchorToken(secret, tid) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const hp = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: '00000000-0000-0000-0000-000000000001', tid, role: 'admin',
    exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${hp}.${crypto.createHmac('sha256', secret).update(hp).digest('base64url')}`;
}

async function startAnchor(stack, bin) {
  await stack.sql('CREATE DATABASE anchor');
  const url = stack.pg.url('anchor');
  execFileSync('psql', ['-q', url, '-f', path.join(ANCHOR, 'schema.sql')]);
  const secret = crypto.randomBytes(24).toString('hex');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const upDir = path.join(stack.dir, 'anchor-up');
  fs.mkdirSync(upDir);
  const child = spawn(bin, [], { env: { JWT_SECRET: secret, UPLOAD_DIR: upDir, DATABASE_URL: url, ADDR: `127.0.0.1:${port}` },
    stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  const tid = '11111111-1111-1111-1111-111111111111';
  const token = anchorToken(secret, tid);
  for (let i = 0; i < 100; i++) {
    try {
      const form = new FormData();
      form.append('file', new Blob(['bench anchor run\n']), 'small.txt');
      const r = await fetch(`${base}/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
      const j = await r.json();
      if (j.run_id) return { child, url: `${base}/v1/ingestion-runs/${j.run_id}`, token };
    } catch {}
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error('Go anchor did not start');
}

async function xacts(stack, db) {
  const r = await stack.sql('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [db]);
  return Number(r[0].n);
}

async function main() {
  if (!haveCmd('wrk')) throw new Error('wrk is required (apt-get install wrk)');
  const stack = await startStack({ worker: false, apiEnv: { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' } });
  let anchor = null;
  try {
    const admin = await stack.tenant('bench');
    const up = await stack.upload({ token: admin.token, content: 'bench run\n', filename: 'bench.txt' });
    const ours = `${stack.baseUrl}/v1/ingestion-runs/${up.json.run_id}`;
    const bin = buildAnchor(stack.dir);
    if (bin) anchor = await startAnchor(stack, bin);

    console.log(`reads: wrk -t2 -c${CONNS} -d${SECONDS}s, ${ROUNDS} round(s), shared 2-core machine`);
    const best = { ours: null, healthz: null, go: null };
    const keep = (k, r) => { if (!best[k] || r.rps > best[k].rps) best[k] = r; };
    let perRead = NaN;
    for (let i = 0; i < ROUNDS; i++) {
      if (anchor) keep('go', wrk(anchor.url, anchor.token));
      const x0 = await xacts(stack, stack.db);
      const r = wrk(ours, admin.token);
      const x1 = await xacts(stack, stack.db);
      perRead = (x1 - x0 - 2) / (r.rps * SECONDS);   // the two probes' own transactions left out
      keep('ours', r);
      keep('healthz', wrk(`${stack.baseUrl}/healthz`));
    }
    const o = best.ours;
    const h = best.healthz;
    row('core-api GET run req/s', f1(o.rps), 'req/s', `p50 ${f2(o.p50)} ms, p99 ${f2(o.p99)} ms, non-2xx ${o.non2xx}`);
    row('core-api /healthz req/s (baseline)', f1(h.rps), 'req/s', `p50 ${f2(h.p50)} ms, p99 ${f2(h.p99)} ms`);
    row('GET run / healthz', f2(o.rps / h.rps), 'x');
    row('core-api db transactions per read', f2(perRead), '', 'pg_stat_database, whole run');
    if (best.go) {
      const g = best.go;
      row('Go design GET run req/s (baseline)', f1(g.rps), 'req/s', `p50 ${f2(g.p50)} ms, p99 ${f2(g.p99)} ms, non-2xx ${g.non2xx}`);
      row('core-api / Go design', f2(o.rps / g.rps), 'x', 'target >= 2.00, p99 < 10 ms');
    } else {
      row('Go design GET run req/s (baseline)', 'n/a', '', 'go or the anchor missing: not measured');
    }
    row('core-api RSS', procMem(stack.apiPid).rss, 'KiB');
    // The same server with both caches off: prepared statements and the kept tenant alone.
    await stack.stopApi();
    await stack.startApi({ PRINCIPAL_CACHE_TTL: '0', RUN_CACHE_TTL: '0' });
    const x0 = await xacts(stack, stack.db);
    const nc = wrk(ours, admin.token);
    const x1 = await xacts(stack, stack.db);
    row('caches off: GET run req/s', f1(nc.rps), 'req/s', `p50 ${f2(nc.p50)} ms, p99 ${f2(nc.p99)} ms, non-2xx ${nc.non2xx}`);
    row('caches off: db transactions per read', f2((x1 - x0 - 2) / (nc.rps * SECONDS)), '', 'principal + run: 2 statements, no tenant set/clear');
    if (best.go) row('caches off / Go design', f2(nc.rps / best.go.rps), 'x');
  } finally {
    if (anchor) anchor.child.kill('SIGKILL');
    await stack.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
