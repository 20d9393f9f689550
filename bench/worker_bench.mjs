#!/usr/bin/env node
// End-to-end ingestion throughput through the real pipeline, for a text corpus and a
// PDF corpus.
//
//   make -j2 && node bench/worker_bench.mjs
//   BENCH_DOCS=50 node bench/worker_bench.mjs                (scaled down)
//   BUILD_DIR=/tmp/bench-build node bench/worker_bench.mjs    (other build dir)
//
// Env: BENCH_DOCS (documents per corpus, default 200), BENCH_PDF_DOCS (PDF corpus
// size, default BENCH_DOCS), BENCH_DOC_KB (text per document, default 20),
// BENCH_UPLOAD_CONCURRENCY (uploads in flight, default 4), BENCH_TIMEOUT_S (default 1800),
// BENCH_WORKER_CONCURRENCY (the worker's WORKER_CONCURRENCY; default: the worker's own default).
//
// Starts its own throwaway stack (tests/lib/stack.mjs: PostgreSQL, SQS emulator,
// core-api, and one ingest-worker with its default WORKER_CONCURRENCY), then for each
// corpus, in its own tenant:
//   - writes the corpus to a temp folder: N plain-text files of ~BENCH_DOC_KB KiB of
//     generated prose, or N multi-page PDFs carrying the same kind of prose (written
//     object by object like tests/fixtures/make-fixtures.mjs writes sample.pdf);
//   - uploads every file through POST /v1/ingest (BENCH_UPLOAD_CONCURRENCY at a time)
//     while the worker consumes, and measures wall time from the first upload to the
//     moment the last run is terminal (polled every 50 ms); every run must succeed;
//   - prints documents/s and MB/s (input bytes), the per-stage worker times summed
//     from the runs' stats.durations_ms, and baselines measured in the same run:
//       text: read + SHA-256 of every file in node, sequentially;
//       PDF:  `pdftotext -q -enc UTF-8 -eol unix FILE -` (the worker's own command
//             line) over every PDF, sequentially;
//     run once before and once after the pipeline (the mean is used), with the
//     ratio pipeline wall time / baseline time;
//   - the per-job spawn overhead of the extraction helper (ingest-extract) against a
//     spawn of /bin/true, both measured in the same run.
// MB here means MiB (2^20 bytes). Nothing fails on speed.
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makePdf } from '../tests/lib/pdf-writer.mjs';
import { startStack } from '../tests/lib/stack.mjs';
import { MiB, envNum, f1, f2, f3, nowMs, prose, row, sleep } from './lib.mjs';

const DOCS = envNum('BENCH_DOCS', 200);
const PDF_DOCS = envNum('BENCH_PDF_DOCS', DOCS);
const DOC_KB = envNum('BENCH_DOC_KB', 20);
const UPLOAD_CONC = envNum('BENCH_UPLOAD_CONCURRENCY', 4);
const TIMEOUT_S = envNum('BENCH_TIMEOUT_S', 1800);
// Optional: override the worker's WORKER_CONCURRENCY (unset: the worker's default).
const WORKER_CONC = process.env.BENCH_WORKER_CONCURRENCY;

// ---- corpus ----------------------------------------------------------------
function textDoc(i, seed) {
  const p = prose(seed + i);
  return `Bench document ${i} (${seed})\n\n` + p.text(DOC_KB * 1024);
}

// Wrap prose into PDF lines of at most `width` characters.
function wrap(text, width = 90) {
  const lines = [];
  for (const para of text.split('\n')) {
    if (para === '') { lines.push(''); continue; }
    let cur = '';
    for (const w of para.split(' ')) {
      if (cur && cur.length + 1 + w.length > width) { lines.push(cur); cur = w; } else cur = cur ? `${cur} ${w}` : w;
    }
    if (cur) lines.push(cur);
  }
  return lines;
}

// Pages set a little denser than the fixtures, so a page holds more prose.
const pdf = (pages) => makePdf(pages, { fontSize: 11, leading: 14, x: 54, y: 750 });

function pdfDoc(i, seed) {
  const lines = wrap(textDoc(i, seed));
  const pages = [];
  for (let k = 0; k < lines.length; k += 50) pages.push(lines.slice(k, k + 50));
  return { data: pdf(pages), pages: pages.length };
}

function writeCorpus(dir, kind, n) {
  fs.mkdirSync(dir, { recursive: true });
  const seed = (Date.now() % 1e6) * 1000 + (kind === 'pdf' ? 500 : 0);
  const files = [];
  let bytes = 0;
  let pages = 0;
  for (let i = 0; i < n; i++) {
    const name = `doc-${String(i).padStart(5, '0')}.${kind === 'pdf' ? 'pdf' : 'txt'}`;
    const file = path.join(dir, name);
    let data;
    if (kind === 'pdf') {
      const d = pdfDoc(i, seed);
      data = d.data;
      pages += d.pages;
    } else data = Buffer.from(textDoc(i, seed), 'latin1');
    fs.writeFileSync(file, data);
    bytes += data.length;
    files.push({ file, name });
  }
  return { files, bytes, pages };
}

// ---- pipeline run ----------------------------------------------------------
async function ingestCorpus(stack, slug, corpus, type) {
  const t = await stack.tenant(slug);
  const tenantId = t.user.tenant_id;
  const n = corpus.files.length;
  const t0 = nowMs();
  let next = 0;
  const uploader = async () => {
    while (next < n) {
      const f = corpus.files[next++];
      const up = await stack.upload({ token: t.token, filename: f.name, content: fs.readFileSync(f.file), type });
      if (up.status !== 202) throw new Error(`upload ${f.name}: ${up.status} ${up.text}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(UPLOAD_CONC, n) }, uploader));
  const uploadMs = nowMs() - t0;
  const deadline = Date.now() + TIMEOUT_S * 1000;
  let last;
  for (;;) {
    [last] = await stack.sql(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE status IN ('succeeded','failed','skipped'))::int AS done,
              count(*) FILTER (WHERE status = 'succeeded')::int AS ok
         FROM ingestion_runs WHERE tenant_id = $1`, [tenantId]);
    if (last.total === n && last.done === n) break;
    if (Date.now() > deadline) throw new Error(`timeout: ${JSON.stringify(last)}`);
    await sleep(50);
  }
  const wallMs = nowMs() - t0;
  const [agg] = await stack.sql(
    `SELECT sum((stats->'durations_ms'->>'extract')::bigint)::float8 AS extract,
            sum((stats->'durations_ms'->>'chunk')::bigint)::float8 AS chunk,
            sum((stats->'durations_ms'->>'embed')::bigint)::float8 AS embed,
            sum((stats->>'chunks')::bigint)::float8 AS chunks,
            sum((stats->>'pages')::bigint)::float8 AS pages,
            extract(epoch FROM max(finished_at) - min(created_at)) * 1000 AS db_wall_ms
       FROM ingestion_runs WHERE tenant_id = $1 AND status = 'succeeded'`, [tenantId]);
  if (last.ok !== n) {
    const bad = await stack.sql(`SELECT status, error, count(*)::int AS n FROM ingestion_runs
      WHERE tenant_id = $1 AND status <> 'succeeded' GROUP BY 1, 2`, [tenantId]);
    console.log(`  WARNING: ${n - last.ok} of ${n} runs did not succeed: ${JSON.stringify(bad)}`);
  }
  return { uploadMs, wallMs, ok: last.ok, agg };
}

// ---- baselines -------------------------------------------------------------
async function hashBaseline(files) {
  const t0 = nowMs();
  for (const f of files) {
    const data = fs.readFileSync(f.file);
    crypto.createHash('sha256').update(data).digest('hex');
  }
  return nowMs() - t0;
}

function pdftotext(file) {
  return new Promise((resolve, reject) => {
    execFile('pdftotext', ['-q', '-enc', 'UTF-8', '-eol', 'unix', file, '-'], { maxBuffer: 256 * MiB, encoding: 'buffer' },
      (err, stdout) => (err ? reject(err) : resolve(stdout.length)));
  });
}

async function pdftotextBaseline(files) {
  const t0 = nowMs();
  let chars = 0;
  for (const f of files) chars += await pdftotext(f.file);
  return { ms: nowMs() - t0, chars };
}

// ---- spawn overhead of the extraction helper ---------------------------------
// The per-job cost of the exec'd sandbox: N runs of build/ingest-extract on a tiny
// text file (spawn, limits, network namespace, answer on fd 3), against N spawns of
// /bin/true in the same run. Both sequential, from node.
function spawnOnce(cmd, args, extraFd) {
  return new Promise((resolve, reject) => {
    const stdio = ['ignore', 'ignore', 'inherit', ...(extraFd ? ['pipe'] : [])];
    const c = spawn(cmd, args, { stdio });
    if (extraFd) c.stdio[3].resume();
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exit ${code}`))));
  });
}

async function spawnOverhead(tmp, n = 50) {
  const helper = path.join(process.env.BUILD_DIR ?? path.join(path.dirname(new URL(import.meta.url).pathname), '../build'), 'ingest-extract');
  const file = path.join(tmp, 'tiny.txt');
  fs.writeFileSync(file, 'a tiny document\n');
  const args = [`--parent=${process.pid}`, '--mime=text/plain', `--path=${file}`, '--timeout-ms=10000',
    '--memory-mb=1024', '--max-chars=100000', '--max-uncompressed=1048576', '--ocr=0'];
  const time = async (fn) => { const t0 = nowMs(); for (let i = 0; i < n; i++) await fn(); return (nowMs() - t0) / n; };
  await spawnOnce(helper, args, true);
  const base = await time(() => spawnOnce('/bin/true', [], false));
  const ms = await time(() => spawnOnce(helper, args, true));
  console.log('');
  console.log(`extraction helper spawn overhead (${n} sequential runs each):`);
  row('ingest-extract on a 16-byte text file', f3(ms), 'ms/job');
  row('baseline: spawn of /bin/true', f3(base), 'ms');
  row('ratio helper / baseline', f1(ms / base), 'x');
}

// ---- report ----------------------------------------------------------------
function report(label, corpus, r, baseName, baseRuns) {
  const baseMs = (baseRuns[0] + baseRuns[1]) / 2;
  const n = corpus.files.length;
  const mb = corpus.bytes / MiB;
  const s = r.wallMs / 1000;
  const a = r.agg;
  console.log('');
  console.log(`${label}: ${n} files, ${f2(mb)} MiB${corpus.pages ? `, ${corpus.pages} pages` : ''}; ` +
    `${r.ok}/${n} runs succeeded, ${a.chunks ?? 0} chunks`);
  row('wall, 1st upload -> last run done', f2(s), 's', `uploads done after ${f2(r.uploadMs / 1000)} s; DB clock ${f2(a.db_wall_ms / 1000)} s`);
  row('documents/s', f1(n / s), 'docs/s');
  row('throughput', f2(mb / s), 'MB/s');
  row('worker stage time summed over runs', '', '',
    `extract ${f2(a.extract / 1000)} s, chunk ${f2(a.chunk / 1000)} s, embed ${f2(a.embed / 1000)} s`);
  row(`baseline: ${baseName}`, f3(baseMs / 1000), 's',
    `mean of before ${f3(baseRuns[0] / 1000)} s / after ${f3(baseRuns[1] / 1000)} s`);
  row('  baseline documents/s', f1(n / (baseMs / 1000)), 'docs/s');
  row('  baseline throughput', f2(mb / (baseMs / 1000)), 'MB/s');
  row('ratio pipeline / baseline (time)', f1(r.wallMs / baseMs), 'x');
}

async function main() {
  console.log(`worker_bench  ${new Date().toISOString()}  ${os.cpus().length} cpus  node ${process.version}  loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  console.log(`  BENCH_DOCS=${DOCS} BENCH_PDF_DOCS=${PDF_DOCS} BENCH_DOC_KB=${DOC_KB} BENCH_UPLOAD_CONCURRENCY=${UPLOAD_CONC}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-bench-'));
  const workerEnv = WORKER_CONC ? { WORKER_CONCURRENCY: String(WORKER_CONC) } : {};
  const stack = await startStack({ worker: true, env: { LOG_LEVEL: 'warn' }, workerEnv });
  try {
    const text = writeCorpus(path.join(tmp, 'text'), 'text', DOCS);
    const pdfs = writeCorpus(path.join(tmp, 'pdf'), 'pdf', PDF_DOCS);
    console.log(`  worker: 1 process, WORKER_CONCURRENCY=${WORKER_CONC ?? `${stack.env.WORKER_CONCURRENCY ?? 2} (default)`}, hash embeddings`);

    // Baselines are run before and after the pipeline and averaged (the machine may be
    // shared; both figures are printed). One unmeasured warm-up pass each first (JIT and
    // crypto init; pdftotext's shared libraries; the page cache for both corpora).
    await hashBaseline(text.files);
    await pdftotextBaseline(pdfs.files.slice(0, 3));
    const hash1 = await hashBaseline(text.files);
    const ptt1 = (await pdftotextBaseline(pdfs.files)).ms;

    const rt = await ingestCorpus(stack, 'benchtext', text, 'text/plain');
    const rp = await ingestCorpus(stack, 'benchpdf', pdfs, 'application/pdf');

    const hash2 = await hashBaseline(text.files);
    const ptt2 = (await pdftotextBaseline(pdfs.files)).ms;
    report('text corpus', text, rt, 'read + sha256 in node', [hash1, hash2]);
    report('pdf corpus', pdfs, rp, 'pdftotext alone, sequential', [ptt1, ptt2]);
    await spawnOverhead(tmp);
    console.log('');
    console.log('  (client, PostgreSQL, SQS emulator, core-api and worker share the same 2 cores)');
  } finally {
    await stack.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e?.stack ?? e);
  process.exit(1);
});
