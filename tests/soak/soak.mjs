#!/usr/bin/env node
// The fault-injection soak (issue 14): one command, on loopback, bounded in time.
//
//   node tests/soak/soak.mjs                              CI form (~3 min), SOAK_PROFILE=ci
//   SOAK_PROFILE=long node tests/soak/soak.mjs            long form (~15 min of load)
//   BUILD_DIR=build-san node tests/soak/soak.mjs          against the ASan+UBSan build (CI)
//
// Two core-api instances and two workers on one throwaway stack (tests/lib/stack.mjs),
// UPLOAD_DIR on a tmpfs of its own when this process may mount one (root), a mixed
// corpus (generated text and HTML; real 36-397-page PDFs from Debian doc packages,
// each upload made unique by a trailing PDF comment), duplicates and new versions of
// earlier documents, uploaded by SOAK_CLIENTS clients to both instances. Faults on a
// schedule: kill -9 of a worker every SOAK_KILL_EVERY seconds, of workers caught
// mid-extraction and mid-write, of a core-api in the middle of a burst of 30 uploads;
// a PostgreSQL restart while a worker is in its write (COPY) stage; the queue down
// with every message lost; the upload volume filled. Slow disks are not simulated.
// Then it drains and checks, with SQL and the API, the invariants below, prints one
// table of figures, and exits 1 if any check fails.
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { startStack } from '../lib/stack.mjs';

const PROFILES = {
  // a short form for CI under the sanitizers: ~150 s of load and faults, then the drain
  // pace: each client's pause between uploads (ms, ±50 %); two workers keep up with ~1.5 uploads/s
  ci: { seconds: 140, clients: 2, pace: 1300, killEvery: 15, outage: 8, drain: 75 },
  long: { seconds: 900, clients: 3, pace: 1800, killEvery: 15, outage: 20, drain: 300 },
};
const P = { ...PROFILES[process.env.SOAK_PROFILE ?? 'ci'] };
if (!PROFILES[process.env.SOAK_PROFILE ?? 'ci']) throw new Error('SOAK_PROFILE is ci or long');
for (const [k, env] of [['seconds', 'SOAK_SECONDS'], ['clients', 'SOAK_CLIENTS'], ['killEvery', 'SOAK_KILL_EVERY']]) {
  if (process.env[env]) P[k] = Number(process.env[env]);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => console.log(`[soak ${((Date.now() - T0) / 1000).toFixed(0).padStart(4)}s] ${msg}`);
const T0 = Date.now();

// Real PDFs from Debian doc packages (scripts/install-deps.sh installs them).
const PDF_SOURCES = ['/usr/share/doc/bash/bashref.pdf', '/usr/share/doc/bash/bash.pdf',
  '/usr/share/doc/gnuplot/gnuplot.pdf', '/usr/share/doc/libtasn1-doc/libtasn1.pdf',
  '/usr/share/doc/valgrind/valgrind_manual.pdf.gz'];
function loadPdfs() {
  const out = [];
  for (const p of PDF_SOURCES) {
    if (!fs.existsSync(p)) continue;
    const bytes = p.endsWith('.gz') ? zlib.gunzipSync(fs.readFileSync(p)) : fs.readFileSync(p);
    out.push({ name: path.basename(p).replace(/\.gz$/, ''), bytes });
  }
  return out;
}

const WORDS = ('refund policy warranty shipping invoice customer account password reset delivery order '
  + 'return exchange support ticket priority escalation manager contract renewal pricing discount '
  + 'subscription billing cycle payment method card bank transfer receipt tax region compliance audit').split(' ');
function prose(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const len = 8 + crypto.randomInt(12);
    const w = Array.from({ length: len }, () => WORDS[crypto.randomInt(WORDS.length)]);
    out.push(`${w.join(' ')}.`);
    if (i % 6 === 5) out.push('\n\n');
  }
  return out.join(' ');
}

// ---- the stack ----
const stats = {
  uploads: 0, accepted202: 0, accepted200: 0, refused: {}, noAnswer: 0, workerKills: 0, killedMidExtract: 0,
  killedMidWrite: 0, apiKills: 0, pgRestarts: 0, pgMidCopy: 0, queueOutages: 0, diskFull: 0, disk507: 0,
  readyz503WhileFull: 0, pdfUploads: 0, duplicates: 0, newVersions: 0,
};
const accepted = [];    // {run_id, doc_id, status, kind}
const docs = [];        // {doc_id, token} of documents created, for new versions
const sent = [];        // {bytes, filename} of earlier uploads, for duplicates
let stopping = false;
let quietUntil = 0;     // no worker kills before this (after a queue outage: see below)
let lastKillAt = 0;     // when a worker was last killed (a queue outage waits for its takeover)
// A killed worker's runs are taken over from their redelivered messages: within
// VISIBILITY_TIMEOUT + TAKEOVER_AFTER (5 + 5 s) and a redelivery that finds the
// heartbeat still fresh ("busy"). A queue outage inside that window loses those
// messages and leaves runs nothing can re-deliver, which the crash guard fails
// stale_running by design (docs/operations.md): the same combination the quiet time
// after an outage avoids, so the outage waits this long after the last kill and
// scheduled kills pause this long before it.
const QUIET_AROUND_OUTAGE_MS = 20000;

const workerEnv = {
  VISIBILITY_TIMEOUT: '5s', TAKEOVER_AFTER: '5s', HEARTBEAT_INTERVAL: '1s', SHUTDOWN_GRACE: '5s',
  WORKER_CONCURRENCY: '2', MAX_INFLIGHT: '4', UPLOAD_RETENTION: 'delete',
};
const stack = await startStack({
  worker: false,
  maxReceiveCount: 20,
  visibilityTimeout: 5,
  env: {
    MAX_RECEIVE_COUNT: '20', RUNNING_TTL: '60s', QUEUED_TTL: '45s', CRASH_GUARD_INTERVAL: '5s', MAX_UPLOADS_PER_USER: '64',
    QUEUED_MAX_REPUBLISH: '100', UPLOAD_ORPHAN_GRACE: '10s', UPLOAD_RETENTION: 'delete', UPLOAD_RATE_PER_TENANT: '0',
    LOG_LEVEL: 'info',
  },
});
let tmpfs = false;
const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2g,mode=0755', 'tmpfs', stack.uploadDir], { encoding: 'utf8' });
tmpfs = m.status === 0;
const apis = [{ proc: stack.api_, url: stack.baseUrl, primary: true }];
let exitCode = 1;
try {
  exitCode = await main();
} catch (e) {
  console.error(e);
  console.error(`PostgreSQL running: ${stack.pg.running()}; its log ends:\n${pgLogTail()}`);
} finally {
  stopping = true;
  // keep the stack's folder (logs, PostgreSQL's data) when anything failed
  if (exitCode !== 0) process.env.KEEP_STACK = '1';
  if (tmpfs) {
    for (const w of stack.workers) await w.stop('SIGKILL');
    for (const a of stack.extraApis ?? []) await a.stop('SIGKILL');
    await stack.api_?.stop('SIGTERM');
    spawnSync('umount', ['-l', stack.uploadDir]);
  }
  try {
    await stack.stop();
  } catch (e) {
    console.error(String(e));
    exitCode = 1;
  }
}
process.exit(exitCode);

function pgLogTail() {
  try { return fs.readFileSync(stack.pg.log, 'utf8').split('\n').slice(-30).join('\n'); } catch { return '(no log)'; }
}

async function main() {
  const pdfs = loadPdfs();
  log(`profile ${process.env.SOAK_PROFILE ?? 'ci'}: ${JSON.stringify(P)}; build ${stack.buildDir}; `
    + `${pdfs.length} real PDFs; upload volume ${tmpfs ? 'a 2 GiB tmpfs' : 'the stack folder (no tmpfs: disk-full fault skipped)'}`);
  const extra = await stack.startExtraApi();
  apis.push({ proc: extra, url: extra.baseUrl });
  await stack.startWorker(workerEnv);
  await stack.startWorker(workerEnv);
  const tenants = [await stack.tenant('soak-a'), await stack.tenant('soak-b')];

  const end = Date.now() + P.seconds * 1000;
  const clients = Array.from({ length: P.clients }, (_, i) => client(i, tenants, pdfs, end));
  const faults = faultSchedule(tenants, end);
  await Promise.all([...clients, faults]);
  log(`load over: ${stats.uploads} uploads; draining (at most ${P.drain} s)`);
  // every process back, nothing armed
  await ensureWorkers(2);
  for (const a of apis) if (!a.proc.alive) await restartApi(a);
  return await checkAll(await drain());
}

// ---- clients ----
function pickApi() {
  const alive = apis.filter((a) => a.proc.alive);
  return alive.length ? alive[crypto.randomInt(alive.length)] : apis[0];
}

async function upload(api, t, { filename, bytes, docId }) {
  const form = new FormData();
  if (docId) form.append('doc_id', docId);
  form.append('file', new Blob([bytes]), filename);
  stats.uploads++;
  try {
    const r = await fetch(`${api.url}/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${t.token}` },
      body: form, signal: AbortSignal.timeout(60000) });
    const text = await r.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: r.status, json };
  } catch (e) {
    stats.noAnswer++;
    return { status: 0, error: e.cause?.code ?? e.name };
  }
}

function record(kind, r, t, bytes, filename) {
  if (r.status === 202 || r.status === 200) {
    if (r.status === 202) stats.accepted202++;
    else stats.accepted200++;
    accepted.push({ run_id: r.json.run_id, doc_id: r.json.doc_id, status: r.status, kind });
    if (r.status === 202 && kind !== 'version') docs.push({ doc_id: r.json.doc_id, t });
    sent.push({ bytes, filename, t });
  } else if (r.status) {
    stats.refused[r.status] = (stats.refused[r.status] ?? 0) + 1;
  }
}

async function client(i, tenants, pdfs, end) {
  let n = 0;
  while (Date.now() < end && !stopping) {
    const t = tenants[(i + n++) % tenants.length];
    const roll = crypto.randomInt(100);
    let kind;
    let bytes;
    let filename;
    let docId;
    if (roll < 15 && sent.length) {
      kind = 'duplicate';
      const s = sent[crypto.randomInt(sent.length)];
      ({ bytes, filename } = s);
      if (s.t !== t) continue;
      stats.duplicates++;
    } else if (roll < 30 && docs.length) {
      kind = 'version';
      const d = docs[crypto.randomInt(docs.length)];
      if (d.t !== t) continue;
      docId = d.doc_id;
      bytes = Buffer.from(`# Revision ${crypto.randomUUID()}\n\n${prose(40 + crypto.randomInt(200))}\n`);
      filename = 'revision.md';
      stats.newVersions++;
    } else if (roll < 40 && pdfs.length) {
      kind = 'pdf';
      const p = pdfs[crypto.randomInt(pdfs.length)];
      bytes = Buffer.concat([p.bytes, Buffer.from(`\n%soak ${crypto.randomUUID()}\n`)]);
      filename = p.name;
      stats.pdfUploads++;
    } else if (roll < 60) {
      kind = 'html';
      bytes = Buffer.from(`<!doctype html><html><head><meta charset="utf-8"><title>Note ${crypto.randomUUID()}</title></head>`
        + `<body><h1>Policy</h1><p>${prose(20 + crypto.randomInt(120))}</p></body></html>`);
      filename = 'note.html';
    } else {
      kind = 'text';
      bytes = Buffer.from(`${crypto.randomUUID()}\n${prose(20 + crypto.randomInt(400))}\n`);
      filename = 'note.txt';
    }
    const r = await upload(pickApi(), t, { filename, bytes, docId });
    record(kind, r, t, bytes, filename);
    await sleep(P.pace * (0.5 + Math.random()));
  }
}

// ---- faults ----
// Dead workers stay in the list: each new one gets a fresh name and log file.
async function ensureWorkers(n) {
  while (stack.workers.filter((w) => w.alive).length < n) await stack.startWorker(workerEnv);
}

async function killWorker(w, why) {
  w.child.kill('SIGKILL');
  await w.exited;
  lastKillAt = Date.now();
  stats.workerKills++;
  log(`kill -9 ${w.name} (${why})`);
}

// A running run in the given progress stage, and the live workers whose log names it.
async function caughtIn(stage) {
  const rows = await stack.sql(`SELECT run_id::text FROM ingestion_runs
    WHERE status = 'running' AND stats->'progress'->>'stage' = $1 ORDER BY updated_at DESC LIMIT 5`, [stage]);
  for (const { run_id: id } of rows) {
    const holders = stack.workers.filter((w) => w.alive && w.log().includes(id));
    if (holders.length) return { id, holders };
  }
  return null;
}

// Watch for a run in `stage` for up to ms, then kill its worker(s); the fallback kills any worker.
async function killCaught(stage, ms, counter) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !stopping) {
    const c = await caughtIn(stage).catch(() => null);
    if (c) {
      for (const w of c.holders) await killWorker(w, `caught in ${stage} of run ${c.id}`);
      stats[counter]++;
      return;
    }
    await sleep(50);
  }
}

async function restartApi(a) {
  if (a.primary) {
    a.proc = await stack.startApi();
  } else {
    a.proc = await stack.startExtraApi();
    a.url = a.proc.baseUrl;
  }
}

async function apiBurst(tenants) {
  const a = apis[1];
  const t = tenants[0];
  const burst = Array.from({ length: 30 }, (_, i) => {
    const bytes = Buffer.from(`burst ${i} ${crypto.randomUUID()}\n${prose(300)}\n`);
    return upload(a, t, { filename: `burst-${i}.txt`, bytes }).then((r) => record('burst', r, t, bytes, 'burst.txt'));
  });
  await sleep(150);
  a.proc.child.kill('SIGKILL');
  await a.proc.exited;
  stats.apiKills++;
  log('kill -9 core-api-2 in the middle of a burst of 30 uploads');
  await Promise.all(burst);
  await restartApi(a);
}

async function pgRestart() {
  const deadline = Date.now() + 30000;
  let mid = false;
  while (Date.now() < deadline && !stopping) {
    if (await caughtIn('write').catch(() => null)) {
      mid = true;
      break;
    }
    await sleep(20);
  }
  await stack.stopPg();
  stats.pgRestarts++;
  stats.pgMidCopy += mid ? 1 : 0;
  log(`PostgreSQL stopped (fast) ${mid ? 'while a worker was in its write stage' : '(no write stage caught in 30 s)'}`);
  await sleep(3000);
  await stack.startPg();
  log('PostgreSQL started');
}

async function queueOutage() {
  const wait = lastKillAt + QUIET_AROUND_OUTAGE_MS - Date.now();
  if (wait > 0) {
    log(`queue outage waits ${(wait / 1000).toFixed(1)} s for the last killed worker's runs to be taken over`);
    await sleep(wait);
  }
  // the emulator keeps its queues in memory: stopping it loses every message
  await stack.stopSqs();
  stats.queueOutages++;
  log(`queue down for ${P.outage} s (every message lost)`);
  await sleep(P.outage * 1000);
  // same port: every program's configured queue URL works again
  await stack.startSqs();
  log('queue back (empty)');
  // A worker killed while it held a message lost in the outage leaves a run nothing can
  // re-deliver (the crash guard fails it stale_running): no worker kills until those runs ended.
  quietUntil = Date.now() + 30000;
}

async function diskFull() {
  if (!tmpfs) return;
  const filler = path.join(stack.uploadDir, '.filler');
  const fd = fs.openSync(filler, 'w');
  const block = Buffer.alloc(1 << 20);
  // 1 MiB blocks, then 4 KiB ones: full to the last block (the readiness probe writes 4 KiB)
  for (const b of [block, block.subarray(0, 4096)]) {
    try {
      for (;;) fs.writeSync(fd, b);
    } catch { /* ENOSPC */ }
  }
  fs.closeSync(fd);
  stats.diskFull++;
  log('upload volume full');
  const r = await fetch(`${stack.baseUrl}/readyz`).catch(() => null);
  if (r?.status === 503) stats.readyz503WhileFull++;
  await sleep(5000);
  fs.rmSync(filler);
  log('upload volume has space again');
}

async function faultSchedule(tenants, end) {
  const at = (frac) => T0 + frac * (end - T0);
  const plan = [
    { when: at(0.15), what: () => killCaught('extract', 20000, 'killedMidExtract') },
    { when: at(0.25), what: () => apiBurst(tenants) },
    { when: at(0.35), what: pgRestart },
    { when: at(0.5), what: () => killCaught('write', 20000, 'killedMidWrite') },
    { when: at(0.6), what: queueOutage },
    { when: at(0.8), what: diskFull },
  ];
  let nextKill = Date.now() + P.killEvery * 1000;
  while (Date.now() < end && !stopping) {
    const due = plan.find((p) => !p.done && Date.now() >= p.when);
    if (due) {
      due.done = true;
      await due.what();
      await ensureWorkers(2);
    } else if (Date.now() >= nextKill) {
      nextKill = Date.now() + P.killEvery * 1000;
      const live = stack.workers.filter((w) => w.alive);
      const outageSoon = plan.some((p) => !p.done && p.what === queueOutage && p.when - Date.now() < QUIET_AROUND_OUTAGE_MS);
      if (Date.now() >= quietUntil && !outageSoon && live.length) await killWorker(live[crypto.randomInt(live.length)], 'schedule');
      await ensureWorkers(2);
    }
    await sleep(200);
  }
}

// ---- drain and checks ----
async function drain() {
  const deadline = Date.now() + P.drain * 1000;
  for (;;) {
    const [r] = await stack.sql(`SELECT count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS open,
      (SELECT count(*)::int FROM outbox) AS outbox FROM ingestion_runs`);
    const q = await stack.queueDepth();
    if (r.open === 0 && r.outbox === 0 && q.visible + q.inflight === 0) return true;
    if (Date.now() > deadline) {
      log(`drain timed out: ${JSON.stringify({ ...r, queue: q })}`);
      return false;
    }
    await sleep(1000);
  }
}

async function checkAll(drained) {
  // a last storage scan, as the crash guard would make (UPLOAD_ORPHAN_GRACE 10 s: wait it out)
  await sleep(11000);
  const g = await stack.runApi(['crash-guard', '--now', 'now']);
  const one = async (sql, params = []) => Number(Object.values((await stack.sql(sql, params))[0])[0]);
  const ids = [...new Set(accepted.map((a) => a.run_id))];
  const acc202 = [...new Set(accepted.filter((a) => a.status === 202).map((a) => a.run_id))];
  const runStates = await stack.sql(`SELECT status, count(*)::int AS n FROM ingestion_runs GROUP BY 1 ORDER BY 1`);
  const failedWhy = await stack.sql(`SELECT split_part(error, ':', 1) AS code, count(*)::int AS n FROM ingestion_runs
    WHERE status = 'failed' GROUP BY 1`);
  const unanswered = await one(`SELECT count(*) FROM ingestion_runs WHERE status = 'succeeded'
    AND NOT (run_id = ANY($1::uuid[]))`, [ids]);
  const folders = [];
  for (const t of fs.readdirSync(stack.uploadDir).filter((n) => !n.startsWith('.'))) {
    for (const r of fs.readdirSync(path.join(stack.uploadDir, t))) folders.push({ t, r });
  }
  const kept = folders.length ? await stack.sql(`SELECT run_id::text, status FROM ingestion_runs
    WHERE run_id = ANY($1::uuid[])`, [folders.map((f) => f.r)]) : [];
  const keptBy = Object.fromEntries(kept.map((k) => [k.run_id, k.status]));
  const checks = {
    'accepted uploads not terminal (lost)': await one(`SELECT count(*) FROM ingestion_runs
      WHERE run_id = ANY($1::uuid[]) AND status NOT IN ('succeeded', 'failed', 'skipped')`, [ids]),
    'accepted (202) uploads not succeeded': await one(`SELECT count(*) FROM ingestion_runs
      WHERE run_id = ANY($1::uuid[]) AND status <> 'succeeded'`, [acc202]),
    'accepted uploads with no run row': ids.length - await one('SELECT count(*) FROM ingestion_runs WHERE run_id = ANY($1::uuid[])', [ids]),
    'stuck runs (queued or running)': await one("SELECT count(*) FROM ingestion_runs WHERE status IN ('queued', 'running')"),
    'documents with two active versions': await one(`SELECT count(*) FROM (SELECT doc_id FROM document_versions
      WHERE is_active GROUP BY doc_id HAVING count(*) > 1) x`),
    'active versions without chunks': await one(`SELECT count(*) FROM document_versions v WHERE v.is_active
      AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.version_id = v.version_id)`),
    'succeeded runs without a version': await one(`SELECT count(*) FROM ingestion_runs r WHERE r.status = 'succeeded'
      AND NOT EXISTS (SELECT 1 FROM document_versions v WHERE v.run_id = r.run_id)`),
    'documents whose newest succeeded upload is not the active version': await one(`SELECT count(*) FROM (
      SELECT DISTINCT ON (r.doc_id) r.doc_id, v.is_active FROM ingestion_runs r
        JOIN document_versions v ON v.run_id = r.run_id JOIN documents d ON d.doc_id = r.doc_id
       WHERE r.status = 'succeeded' AND d.deleted_at IS NULL ORDER BY r.doc_id, r.created_at DESC) x WHERE NOT is_active`),
    'messages left in the queue': (await stack.queueDepth()).visible + (await stack.queueDepth()).inflight,
    'messages in the DLQ': (await stack.dlqDepth()).visible + (await stack.dlqDepth()).inflight,
    'outbox rows left': await one('SELECT count(*) FROM outbox'),
    // kept: a failed run's (FAILED_UPLOAD_RETENTION), a queued or running one's (none once drained)
    'upload folders no policy keeps (leaked)': folders.filter((f) => !['failed', 'queued', 'running'].includes(keptBy[f.r])).length,
    'sanitizer reports': stack.sanitizerReports().length,
    'final crash-guard scan exit code': g.code,
  };
  if (!drained) checks['drained within the bound (0 = yes)'] = 1;

  const figures = {
    'profile / load seconds': `${process.env.SOAK_PROFILE ?? 'ci'} / ${P.seconds}`,
    'processes': '2 core-api, 2 workers (restarted after each kill), PostgreSQL, SQS emulator',
    'uploads attempted': stats.uploads,
    'accepted: 202 queued / 200 skipped or in progress': `${stats.accepted202} / ${stats.accepted200}`,
    'refused by status (no answer: core-api killed)': `${JSON.stringify(stats.refused)} (${stats.noAnswer})`,
    'PDF uploads (real, 36-397 pages) / duplicates / new versions': `${stats.pdfUploads} / ${stats.duplicates} / ${stats.newVersions}`,
    'worker kill -9 (caught mid-extraction / mid-write)': `${stats.workerKills} (${stats.killedMidExtract} / ${stats.killedMidWrite})`,
    'core-api kill -9 mid-burst': stats.apiKills,
    'PostgreSQL restarts (mid-COPY)': `${stats.pgRestarts} (${stats.pgMidCopy})`,
    'queue outages (messages lost)': stats.queueOutages,
    'full upload volume (/readyz 503 seen)': tmpfs ? `${stats.diskFull} (${stats.readyz503WhileFull})` : 'skipped (no tmpfs)',
    'succeeded runs whose upload got no answer (core-api killed after the commit)': unanswered,
    'runs by status': runStates.map((r) => `${r.status} ${r.n}`).join(', '),
    'failed runs by code': failedWhy.map((f) => `${f.code} ${f.n}`).join(', ') || 'none',
    'upload folders kept by policy (failed runs, for retry)': folders.length - checks['upload folders no policy keeps (leaked)'],
    'duration (s)': ((Date.now() - T0) / 1000).toFixed(0),
  };
  console.log('\n| soak figure | value |\n|---|---|');
  for (const [k, v] of Object.entries(figures)) console.log(`| ${k} | ${v} |`);
  console.log('\n| check | found | ok |\n|---|---|---|');
  let bad = 0;
  for (const [k, v] of Object.entries(checks)) {
    const ok = v === 0;
    bad += ok ? 0 : 1;
    console.log(`| ${k} | ${v} | ${ok ? 'yes' : 'NO'} |`);
  }
  const reports = stack.sanitizerReports();
  if (reports.length) console.log(reports.join('\n'));
  console.log(`\nsoak: ${Object.keys(checks).length - bad} passed, ${bad} failed`);
  return bad ? 1 : 0;
}
