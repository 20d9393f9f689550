#!/usr/bin/env node
// End-to-end ingestion throughput through the real pipeline, for a text corpus and a
// PDF corpus.
//
//   make -j2 && node bench/worker_bench.mjs
//   BENCH_DOCS=50 node bench/worker_bench.mjs                (scaled down)
//   BUILD_DIR=/tmp/bench-build node bench/worker_bench.mjs    (other build dir)
//   BENCH_MODE=real node bench/worker_bench.mjs               (real manuals + OCR, issue 16)
//
// BENCH_MODE=real (a few minutes at most) replaces the generated corpora with:
//   - the PDF manuals installed by the Debian packages bash-doc and gnuplot-doc
//     (`dpkg -L bash-doc gnuplot-doc`, .pdf or .pdf.gz, symlinks resolved and deduplicated),
//     copied BENCH_REAL_COPIES times (default 2) to a temp dir, each copy made distinct by a
//     trailing PDF comment line after %%EOF so no upload is a duplicate; the worker's wall
//     time for the whole corpus against `pdftotext FILE -` on the same files with the same
//     parallelism: as many concurrent pdftotext processes as the worker has job threads
//     (WORKER_CONCURRENCY), before and after, mean; the ratio. And against `pdftotext - - <FILE`,
//     the worker's own command line: the helper gives pdftotext the PDF on its stdin, which
//     saves poppler's 256-byte pread()s (about a quarter of its CPU), so this second ratio is
//     the pipeline's overhead over its own extractor, the first what a user sees against
//     the extractor as anyone runs it.
//   - OCR: BENCH_OCR_PAGES pages (default 12) of the first manual rendered with
//     `pdftoppm -r 150 -gray -png`, uploaded as PNG images (OCR'd by the worker), pages/s
//     through the worker against `tesseract FILE stdout -l eng` (OMP_THREAD_LIMIT=1, as
//     the helper runs it) on the same images with the same parallelism; the ratio.
//   - the spawn overhead of the extraction helper, as in the default mode.
//   - EXTRACT_PDF_PARTS: the corpus above runs with the shipped default (a PDF of 64 pages or
//     more read by 2 pdftotext over page ranges, so the worker may run more pdftotext processes
//     than the baseline); then the worker is restarted with EXTRACT_PDF_PARTS=1 and a fresh copy
//     of the corpus is ingested against its own same-run pdftotext baseline (the strict
//     comparison: the same number of pdftotext processes as the baseline). Both settings also
//     ingest the largest manual (gnuplot.pdf) alone, BENCH_SINGLE_ROUNDS times (default 3,
//     median), against one `pdftotext` over that file before and after: what a user uploading
//     one big manual waits for.
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
import pg from 'pg';
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
// SQL run as the superuser on the bench's own database before any upload, to measure a
// schema variant without shipping it (e.g. "DROP INDEX chunks_tsv"); printed in the header.
const PG_SQL = process.env.BENCH_PG_SQL ?? '';

async function pgVariant(stack) {
  if (!PG_SQL) return;
  await stack.sql(PG_SQL);
  console.log(`  BENCH_PG_SQL (this run's database only): ${PG_SQL}`);
}

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
  // One connection for the polling: a connection per poll (stack.sql) started a backend every
  // 50 ms, ~5 ms of CPU each (measured: 100 connections, 0.49 s), counted as PostgreSQL's
  // share of the pipeline: 0.25-0.5 s of a 2.5-5 s run that was the bench's, not the worker's.
  const poll = new pg.Client({ connectionString: stack.superUrl });
  await poll.connect();
  try {
    for (;;) {
      ({ rows: [last] } = await poll.query(
        `SELECT count(*)::int AS total,
                count(*) FILTER (WHERE status IN ('succeeded','failed','skipped'))::int AS done,
                count(*) FILTER (WHERE status = 'succeeded')::int AS ok
           FROM ingestion_runs WHERE tenant_id = $1`, [tenantId]));
      if (last.total === n && last.done === n) break;
      if (Date.now() > deadline) throw new Error(`timeout: ${JSON.stringify(last)}`);
      await sleep(50);
    }
    // The worker merges the search index's pending list after each commit, i.e. after a run
    // is terminal: wait for the last merge (this waits for one in progress) and merge what is
    // left, so the wall time and PostgreSQL's CPU count all the work the writes caused.
    await poll.query(`SELECT gin_clean_pending_list('chunks_tenant_tsv'::regclass)`);
  } finally {
    await poll.end();
  }
  const wallMs = nowMs() - t0;
  const [agg] = await stack.sql(
    `SELECT sum((stats->'durations_ms'->>'extract')::bigint)::float8 AS extract,
            sum((stats->'durations_ms'->>'chunk')::bigint)::float8 AS chunk,
            sum((stats->'durations_ms'->>'embed')::bigint)::float8 AS embed,
            sum((stats->'durations_ms'->>'write')::bigint)::float8 AS write,
            sum((stats->'durations_ms'->>'write_copy')::bigint)::float8 AS write_copy,
            sum((stats->'durations_ms'->>'write_index')::bigint)::float8 AS write_index,
            sum((stats->'durations_ms'->>'write_activate')::bigint)::float8 AS write_activate,
            sum((stats->>'chunks')::bigint)::float8 AS chunks,
            sum((stats->>'pages')::bigint)::float8 AS pages,
            extract(epoch FROM max(finished_at) - min(created_at)) * 1000 AS db_wall_ms
       FROM ingestion_runs WHERE tenant_id = $1 AND status = 'succeeded'`, [tenantId]);
  if (last.ok !== n) {
    const bad = await stack.sql(`SELECT status, error, count(*)::int AS n FROM ingestion_runs
      WHERE tenant_id = $1 AND status <> 'succeeded' GROUP BY 1, 2`, [tenantId]);
    console.log(`  WARNING: ${n - last.ok} of ${n} runs did not succeed: ${JSON.stringify(bad)}`);
  }
  return { uploadMs, wallMs, ok: last.ok, agg, tenantId };
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
    `extract ${f2(a.extract / 1000)} s, chunk ${f2(a.chunk / 1000)} s, embed ${f2(a.embed / 1000)} s, write ${f2(a.write / 1000)} s`);
  row('  write: copy / tables+indexes / activation', '', '',
    `${f2(a.write_copy / 1000)} / ${f2(a.write_index / 1000)} / ${f2(a.write_activate / 1000)} s (to_tsvector and the indexes; term statistics)`);
  row(`baseline: ${baseName}`, f3(baseMs / 1000), 's',
    `mean of before ${f3(baseRuns[0] / 1000)} s / after ${f3(baseRuns[1] / 1000)} s`);
  row('  baseline documents/s', f1(n / (baseMs / 1000)), 'docs/s');
  row('  baseline throughput', f2(mb / (baseMs / 1000)), 'MB/s');
  row('ratio pipeline / baseline (time)', f2(r.wallMs / baseMs), 'x');
}

// ---- BENCH_MODE=real: the Debian manuals and OCR --------------------------------
const REAL_COPIES = envNum('BENCH_REAL_COPIES', 2);
const OCR_PAGES = process.env.BENCH_OCR_PAGES === '0' ? 0 : envNum('BENCH_OCR_PAGES', 12);
// More rounds of the PDF corpus (fresh copies, a tenant each, pdftotext before and after each
// round): on a shared machine one wall ratio moves with the neighbours, their median less.
const ROUNDS = Math.max(1, envNum('BENCH_ROUNDS', 1));

const SINGLE_ROUNDS = Math.max(1, envNum('BENCH_SINGLE_ROUNDS', 3));
const medianOf = (a) => { const b = [...a].sort((x, y) => x - y); return b.length % 2 ? b[(b.length - 1) / 2] : (b[b.length / 2 - 1] + b[b.length / 2]) / 2; };

// The largest manual uploaded alone, SINGLE_ROUNDS times (fresh copy, a tenant each), against
// one pdftotext over the same file before and after each upload: the wall a user waits for.
async function singleLarge(stack, tmp, slug, label, src) {
  const dir = path.join(tmp, `single-${slug}`);
  fs.mkdirSync(dir, { recursive: true });
  const ratios = [];
  const ratiosIn = [];
  let pages = 0;
  for (let r = 1; r <= SINGLE_ROUNDS; r++) {
    const file = path.join(dir, `${path.basename(src, '.pdf')}-${r}.pdf`);
    fs.writeFileSync(file, Buffer.concat([fs.readFileSync(src), Buffer.from(`\n% worker_bench single ${slug} ${r} ${Date.now()}\n`)]));
    pages = Number(((await run('pdfinfo', [file])).toString('utf8').match(/^Pages:\s+(\d+)/m) ?? [])[1] ?? 0);
    const one = () => pool([file], 1, (f) => run('pdftotext', ['-q', '-enc', 'UTF-8', '-eol', 'unix', f, '-']));
    const oneIn = () => pool([file], 1, (f) => runIn('pdftotext', ['-q', '-enc', 'UTF-8', '-eol', 'unix', '-', '-'], f));
    const i1 = await oneIn();
    const b1 = await one();
    const rs = await ingestCorpus(stack, `single-${slug}-${r}`, { files: [{ file, name: path.basename(file) }], bytes: 0, pages }, 'application/pdf');
    const b2 = await one();
    const i2 = await oneIn();
    if (rs.ok !== 1) throw new Error(`single ${label} round ${r}: the run failed`);
    ratios.push(rs.wallMs / ((b1 + b2) / 2));
    ratiosIn.push(rs.wallMs / ((i1 + i2) / 2));
    row(`  ${label}, round ${r}: worker / one pdftotext`, f2(ratios.at(-1)), 'x',
      `worker ${f3(rs.wallMs / 1000)} s (upload to run done, extract ${f3(rs.agg.extract / 1000)} s), pdftotext ${f3(b1 / 1000)} / ${f3(b2 / 1000)} s; ` +
      `on stdin ${f3(i1 / 1000)} / ${f3(i2 / 1000)} s (${f2(ratiosIn.at(-1))} x); loadavg ${os.loadavg()[0].toFixed(2)}`);
  }
  row(`${path.basename(src)} alone (${pages} pages), ${label}: median`, f2(medianOf(ratios)), 'x',
    `of ${ratios.map(f2).join(' ')}; against pdftotext on stdin ${f2(medianOf(ratiosIn))} x`);
  return medianOf(ratios);
}

// Restart the worker (its CPU counters start again) with extra environment.
async function restartWorker(stack, env) {
  await stack.workers[0].stop('SIGTERM');
  stack.workers.shift();
  await stack.startWorker(env);
}

// Rounds 2..ROUNDS of the PDF corpus; each prints its wall and CPU ratios, then the median
// of all rounds (the first one's ratios given) is printed.
async function moreRounds(stack, tmp, conc, ptt, pttIn, first) {
  const wall = [first.wall];
  const cpu = [first.cpu];
  const wallIn = [first.wallIn];
  for (let r = 2; r <= ROUNDS; r++) {
    const pdfs = await debianManuals(path.join(tmp, `pdf-round${r}`));
    const i1 = await pttIn(pdfs.files);
    const c0 = cpuNow(stack);
    const b1 = await ptt(pdfs.files);
    const c1 = cpuNow(stack);
    const rp = await ingestCorpus(stack, `benchreal${r}`, pdfs, 'application/pdf');
    const c2 = cpuNow(stack);
    const b2 = await ptt(pdfs.files);
    const i2 = await pttIn(pdfs.files);
    const pipe = (c2.helpers - c1.helpers) + (c2.worker - c1.worker) + (c2.pg - c1.pg);
    wall.push(rp.wallMs / ((b1 + b2) / 2));
    wallIn.push(rp.wallMs / ((i1 + i2) / 2));
    cpu.push(pipe / (c1.benchKids - c0.benchKids));
    row(`round ${r}: ratio wall / CPU`, `${f2(wall.at(-1))} / ${f2(cpu.at(-1))}`, 'x',
      `wall ${f2(rp.wallMs / 1000)} s, pdftotext ${f3(b1 / 1000)} / ${f3(b2 / 1000)} s; ${rp.ok}/${pdfs.files.length} ok, loadavg ${os.loadavg()[0].toFixed(2)}`);
    row('  CPU split', f2(pipe), 's', `pdftotext ${f2(c1.benchKids - c0.benchKids)} s; helpers ${f2(c2.helpers - c1.helpers)} s, ` +
      `worker threads ${f2(c2.worker - c1.worker)} s, PostgreSQL ${f2(c2.pg - c1.pg)} s`);
    row('  ratio wall / pdftotext on stdin', f2(wallIn.at(-1)), 'x', `pdftotext - <FILE ${f3(i1 / 1000)} / ${f3(i2 / 1000)} s`);
  }
  const median = (a) => { const b = [...a].sort((x, y) => x - y); return b.length % 2 ? b[(b.length - 1) / 2] : (b[b.length / 2 - 1] + b[b.length / 2]) / 2; };
  row(`median of ${ROUNDS} rounds: ratio wall / CPU`, `${f2(median(wall))} / ${f2(median(cpu))}`, 'x',
    `wall ${wall.map(f2).join(' ')}; CPU ${cpu.map(f2).join(' ')}`);
  row(`median of ${ROUNDS} rounds: ratio wall / pdftotext on stdin`, f2(median(wallIn)), 'x', wallIn.map(f2).join(' '));
}

// cmd with file on its stdin; its stdout read (and dropped) as run() reads it.
function runIn(cmd, args, file) {
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(file, 'r');
    const c = spawn(cmd, args, { stdio: [fd, 'pipe', 'ignore'] });
    fs.closeSync(fd);
    let n = 0;
    c.stdout.on('data', (d) => { n += d.length; });
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(n) : reject(new Error(`${cmd} ${args.join(' ')} <${file}: exit ${code}`))));
  });
}

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 256 * MiB, encoding: 'buffer', env: env ? { ...process.env, ...env } : process.env },
      (err, stdout) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}`)) : resolve(stdout)));
  });
}

// Run fn over items with at most conc in flight; returns the wall time in ms.
async function pool(items, conc, fn) {
  const t0 = nowMs();
  let next = 0;
  const one = async () => { while (next < items.length) await fn(items[next++]); };
  await Promise.all(Array.from({ length: Math.min(conc, items.length) }, one));
  return nowMs() - t0;
}

async function debianManuals(dir) {
  const list = (await run('dpkg', ['-L', 'bash-doc', 'gnuplot-doc'])).toString('utf8').split('\n')
    .filter((l) => /\.pdf(\.gz)?$/i.test(l) && fs.existsSync(l));
  const seen = new Set();
  const srcs = [];
  for (const l of list) {
    const real = fs.realpathSync(l);
    if (!seen.has(real) && fs.statSync(real).isFile()) { seen.add(real); srcs.push(real); }
  }
  if (srcs.length === 0) throw new Error('no PDF from bash-doc or gnuplot-doc: apt-get install bash-doc gnuplot-doc');
  fs.mkdirSync(dir, { recursive: true });
  const files = [];
  let bytes = 0;
  let pages = 0;
  for (let c = 0; c < REAL_COPIES; c++) {
    for (const src of srcs) {
      let data = fs.readFileSync(src);
      if (/\.gz$/i.test(src)) data = (await import('node:zlib')).gunzipSync(data);
      data = Buffer.concat([data, Buffer.from(`\n% worker_bench copy ${c} ${Date.now()}\n`)]);
      const name = `${path.basename(src).replace(/\.gz$/i, '').replace(/\.pdf$/i, '')}-${c}.pdf`;
      const file = path.join(dir, name);
      fs.writeFileSync(file, data);
      const info = (await run('pdfinfo', [file])).toString('utf8');
      pages += Number((info.match(/^Pages:\s+(\d+)/m) ?? [])[1] ?? 0);
      bytes += data.length;
      files.push({ file, name });
    }
  }
  return { files, bytes, pages, srcs };
}

async function ocrImages(dir, pdfFile) {
  fs.mkdirSync(dir, { recursive: true });
  await run('pdftoppm', ['-f', '1', '-l', String(OCR_PAGES), '-r', '150', '-gray', '-png', pdfFile, path.join(dir, 'page')]);
  const files = fs.readdirSync(dir).filter((n) => n.endsWith('.png')).sort()
    .map((name) => ({ file: path.join(dir, name), name }));
  const bytes = files.reduce((a, f) => a + fs.statSync(f.file).size, 0);
  return { files, bytes, pages: files.length };
}

// The worker's own per-stage log lines ("job stage", LOG_LEVEL=info) for the runs of
// one tenant, laid out per run on the wall clock of the corpus (ms from t0): where the
// time between the first upload and the last run's end goes.
function profile(stack, tenantId, t0Wall) {
  const runs = new Map();
  for (const line of stack.workers[0].log().split('\n')) {
    if (!line.includes('"job stage"') || !line.includes(tenantId)) continue;
    let j;
    try { j = JSON.parse(line); } catch { continue; }
    const r = runs.get(j.run_id) ?? { stages: {}, end: 0, start: Infinity };
    const end = Date.parse(j.ts) - t0Wall;
    r.stages[j.stage] = (r.stages[j.stage] ?? 0) + j.duration_ms;
    r.end = Math.max(r.end, end);
    r.start = Math.min(r.start, end - j.duration_ms);
    runs.set(j.run_id, r);
  }
  console.log('  per run (ms from the first upload; the worker\'s stage log lines):');
  const list = [...runs.values()].sort((a, b) => a.start - b.start);
  for (const r of list) {
    const st = Object.entries(r.stages).map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(`    ${String(Math.round(r.start)).padStart(6)} -> ${String(Math.round(r.end)).padStart(6)}  ${st}`);
  }
}

// CPU seconds (user + system) from /proc: a process with its reaped children, or
// PostgreSQL (the postmaster, its live backends and the ones it reaped). On a shared
// machine wall time moves with the neighbours' load; CPU time says what the worker
// itself costs.
function procCpu(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // after "pid (comm) ": state is field 0, ppid 1, utime 11, stime 12, cutime 13, cstime 14
    return { ppid: Number(f[1]), self: (Number(f[11]) + Number(f[12])) / 100, kids: (Number(f[13]) + Number(f[14])) / 100 };
  } catch { return null; }
}

function cpuNow(stack) {
  const w = procCpu(stack.workers[0].pid);
  const pm = Number(fs.readFileSync(path.join(stack.pg.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const m = procCpu(pm);
  let pg = m ? m.self + m.kids : 0;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === pm) continue;
    const p = procCpu(d);
    if (p && p.ppid === pm) pg += p.self;
  }
  const me = procCpu(process.pid);
  return { worker: w ? w.self : 0, helpers: w ? w.kids : 0, pg, benchKids: me ? me.kids : 0 };
}

// The single large manual with the shipped EXTRACT_PDF_PARTS (the running worker), then the
// worker restarted with EXTRACT_PDF_PARTS=1: the corpus again (the strict comparison, as many
// pdftotext processes as the baseline) and the single manual again.
async function partsComparison(stack, tmp, conc, ptt, pttIn, pdfs) {
  const big = pdfs.srcs.map((f) => ({ f, size: fs.statSync(f).size })).sort((a, b) => b.size - a.size)[0].f;
  console.log('');
  console.log(`single large document: ${path.basename(big)} uploaded alone against one pdftotext on it`);
  const s2 = await singleLarge(stack, tmp, 'parts2', 'parts 2 (shipped)', big);
  await restartWorker(stack, { EXTRACT_PDF_PARTS: '1' });
  const s1 = await singleLarge(stack, tmp, 'parts1', 'parts 1', big);
  const strict = await debianManuals(path.join(tmp, 'pdf-parts1'));
  const i1 = await pttIn(strict.files);
  const c0 = cpuNow(stack);
  const b1 = await ptt(strict.files);
  const c1 = cpuNow(stack);
  const rp = await ingestCorpus(stack, 'benchparts1', strict, 'application/pdf');
  const c2 = cpuNow(stack);
  const b2 = await ptt(strict.files);
  const i2 = await pttIn(strict.files);
  const cpu = (c2.helpers - c1.helpers) + (c2.worker - c1.worker) + (c2.pg - c1.pg);
  console.log('');
  console.log(`strict comparison: EXTRACT_PDF_PARTS=1 (one pdftotext per file, ${conc} files at a time, as the baseline)`);
  row('ratio wall worker / pdftotext, parts 1', f2(rp.wallMs / ((b1 + b2) / 2)), 'x',
    `wall ${f2(rp.wallMs / 1000)} s, pdftotext ${f3(b1 / 1000)} / ${f3(b2 / 1000)} s; ${rp.ok}/${strict.files.length} ok, loadavg ${os.loadavg()[0].toFixed(2)}`);
  row('ratio wall worker / pdftotext on stdin, parts 1', f2(rp.wallMs / ((i1 + i2) / 2)), 'x',
    `pdftotext - <FILE ${f3(i1 / 1000)} / ${f3(i2 / 1000)} s`);
  row('ratio CPU worker / pdftotext, parts 1', f2(cpu / (c1.benchKids - c0.benchKids)), 'x',
    `pdftotext ${f2(c1.benchKids - c0.benchKids)} s; helpers ${f2(c2.helpers - c1.helpers)} s, worker threads ${f2(c2.worker - c1.worker)} s, PostgreSQL ${f2(c2.pg - c1.pg)} s`);
  row('single large document, worker / one pdftotext', `${f2(s2)} / ${f2(s1)}`, 'x', 'parts 2 (shipped) / parts 1');
}

async function mainReal(conc) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-bench-'));
  const stack = await startStack({ worker: true, env: { LOG_LEVEL: 'warn' },
    workerEnv: { WORKER_CONCURRENCY: String(conc), LOG_LEVEL: 'info' } });
  try {
    await pgVariant(stack);
    const pdfs = await debianManuals(path.join(tmp, 'pdf'));
    // BENCH_OCR_PAGES=0: the PDF corpus only (a shorter run while profiling)
    const imgs = OCR_PAGES > 0 ? await ocrImages(path.join(tmp, 'ocr'), pdfs.files[0].file) : { files: [], bytes: 0, pages: 0 };
    console.log(`  BENCH_MODE=real BENCH_REAL_COPIES=${REAL_COPIES} BENCH_OCR_PAGES=${OCR_PAGES} BENCH_ROUNDS=${ROUNDS}; worker: 1 process, WORKER_CONCURRENCY=${conc}, hash embeddings`);
    console.log(`  manuals: ${pdfs.srcs.join(' ')}`);
    const ptt = (files) => pool(files, conc, (f) => run('pdftotext', ['-q', '-enc', 'UTF-8', '-eol', 'unix', f.file, '-']));
    const pttIn = (files) => pool(files, conc, (f) => runIn('pdftotext', ['-q', '-enc', 'UTF-8', '-eol', 'unix', '-', '-'], f.file));
    const tess = (files) => pool(files, conc, (f) => run('tesseract', [f.file, 'stdout', '-l', 'eng'], { OMP_THREAD_LIMIT: '1' }));
    await ptt(pdfs.files);                    // warm-up: libraries and the page cache
    const in1 = await pttIn(pdfs.files);
    if (imgs.pages) await tess(imgs.files.slice(0, 1));
    const c0 = cpuNow(stack);
    const ptt1 = await ptt(pdfs.files);
    const c1 = cpuNow(stack);
    const tess1 = await tess(imgs.files);

    const t0Wall = Date.now();
    const c2 = cpuNow(stack);
    const rp = await ingestCorpus(stack, 'benchreal', pdfs, 'application/pdf');
    const c3 = cpuNow(stack);
    const ro = imgs.pages ? await ingestCorpus(stack, 'benchocr', imgs, 'image/png') : null;

    const ptt2 = await ptt(pdfs.files);
    const in2 = await pttIn(pdfs.files);
    const tess2 = await tess(imgs.files);
    // the shipped EXTRACT_PDF_PARTS (2): a manual of 64 pages or more is read by 2 pdftotext at
    // once, so the worker may run more pdftotext processes than the baseline's conc
    report('pdf corpus (Debian manuals), EXTRACT_PDF_PARTS=2 shipped: up to 2 pdftotext per manual, more than the baseline',
      pdfs, rp, `pdftotext alone, ${conc} in parallel`, [ptt1, ptt2]);
    row(`baseline: pdftotext on stdin (the worker's command line), ${conc} in parallel`, f3((in1 + in2) / 2000), 's',
      `mean of before ${f3(in1 / 1000)} s / after ${f3(in2 / 1000)} s`);
    row('ratio pipeline / pdftotext on stdin (time)', f2(rp.wallMs / ((in1 + in2) / 2)), 'x');
    row('pages/s, worker', f1(pdfs.pages / (rp.wallMs / 1000)), 'pages/s');
    const pttCpu = c1.benchKids - c0.benchKids;
    const wcpu = { helpers: c3.helpers - c2.helpers, worker: c3.worker - c2.worker, pg: c3.pg - c2.pg };
    row('CPU: pdftotext alone (one pass)', f2(pttCpu), 's');
    row('CPU: worker pipeline', f2(wcpu.helpers + wcpu.worker + wcpu.pg), 's',
      `helpers (pdftotext inside) ${f2(wcpu.helpers)} s, worker threads ${f2(wcpu.worker)} s, PostgreSQL ${f2(wcpu.pg)} s`);
    row('ratio worker CPU / pdftotext CPU', f2((wcpu.helpers + wcpu.worker + wcpu.pg) / pttCpu), 'x');
    profile(stack, rp.tenantId, t0Wall);
    if (ROUNDS > 1) {
      await moreRounds(stack, tmp, conc, ptt, pttIn, { wall: rp.wallMs / ((ptt1 + ptt2) / 2),
        cpu: (wcpu.helpers + wcpu.worker + wcpu.pg) / pttCpu, wallIn: rp.wallMs / ((in1 + in2) / 2) });
    }
    const tessMs = (tess1 + tess2) / 2;
    if (ro) {
    console.log('');
    console.log(`ocr: ${imgs.pages} PNG pages (pdftoppm -r 150 -gray of ${path.basename(pdfs.files[0].file)}), ${f2(imgs.bytes / MiB)} MiB; ` +
      `${ro.ok}/${imgs.pages} runs succeeded, ${ro.agg.chunks ?? 0} chunks`);
    row('wall, 1st upload -> last run done', f2(ro.wallMs / 1000), 's', `worker stage time: extract ${f2(ro.agg.extract / 1000)} s summed`);
    row('OCR pages/s, worker', f2(imgs.pages / (ro.wallMs / 1000)), 'pages/s');
    row(`baseline: tesseract alone, ${conc} in parallel`, f2(imgs.pages / (tessMs / 1000)), 'pages/s',
      `mean of before ${f3(tess1 / 1000)} s / after ${f3(tess2 / 1000)} s`);
    row('ratio worker / tesseract (time)', f2(ro.wallMs / tessMs), 'x');
    }
    await partsComparison(stack, tmp, conc, ptt, pttIn, pdfs);
    await spawnOverhead(tmp);
    console.log('');
    console.log('  (client, PostgreSQL, SQS emulator, core-api and worker share the same cores)');
  } finally {
    await stack.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function main() {
  if (process.env.BENCH_MODE === 'real') {
    console.log(`worker_bench  ${new Date().toISOString()}  ${os.cpus().length} cpus  node ${process.version}  loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
    return mainReal(Number(WORKER_CONC ?? 2));
  }
  console.log(`worker_bench  ${new Date().toISOString()}  ${os.cpus().length} cpus  node ${process.version}  loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  console.log(`  BENCH_DOCS=${DOCS} BENCH_PDF_DOCS=${PDF_DOCS} BENCH_DOC_KB=${DOC_KB} BENCH_UPLOAD_CONCURRENCY=${UPLOAD_CONC}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-bench-'));
  const workerEnv = WORKER_CONC ? { WORKER_CONCURRENCY: String(WORKER_CONC) } : {};
  const stack = await startStack({ worker: true, env: { LOG_LEVEL: 'warn' }, workerEnv });
  try {
    await pgVariant(stack);
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
