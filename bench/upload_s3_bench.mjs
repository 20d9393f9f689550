#!/usr/bin/env node
// UPLOAD_STORE=s3 (issue 17): a large upload streamed by core-api to the emulator's S3 as a
// multipart upload: throughput, core-api memory, and the stored object's SHA-256.
//
//   make -j2 && node bench/upload_s3_bench.mjs                   (1 GiB)
//   BENCH_UPLOAD_MB=256 node bench/upload_s3_bench.mjs           (scaled down)
//
// One throwaway stack (tests/lib/stack.mjs), core-api with MAX_UPLOAD_BYTES=2G, no worker.
// The same generated file is uploaded twice in the same run:
//  1. baseline: UPLOAD_STORE=local (streamed to UPLOAD_DIR, fsynced);
//  2. UPLOAD_STORE=s3 (UPLOAD_S3_PART_SIZE, default 8 MiB), against fauxqs's S3 on loopback.
// Prints MB/s, core-api RSS before / peak during (sampled every 20 ms) and the growth, each
// with its ratio to the baseline, then reads the object back from S3 and compares its
// SHA-256 with the file's. Nothing fails on speed; a hash mismatch exits 1.
// BENCH_WORKER=1 then starts a worker on the same S3 store and follows the S3 upload's run
// to its end: its status (a 1 GiB text passes EXTRACT_MAX_CHARS, 50 M by default, so the
// documented outcome is too_large unless that limit is raised), wall time, worker peak RSS.
// Note: the emulator keeps objects in its own memory (about the upload's size).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from '../tests/lib/stack.mjs';
import { MiB, envNum, f1, f3, generateText, measuredUpload, memSampler, procMem, row, sha256File } from './lib.mjs';

const UPLOAD_MB = envNum('BENCH_UPLOAD_MB', 1024);
const PART = process.env.BENCH_PART_SIZE ?? '8M';
const BUCKET = 'bench-uploads';
const WORKER = process.env.BENCH_WORKER === '1';

async function sha256Url(url) {
  const r = await fetch(url);
  const h = crypto.createHash('sha256');
  let n = 0;
  for await (const c of r.body) { h.update(c); n += c.length; }
  return { hash: h.digest('hex'), bytes: n };
}

// A worker on the S3 store takes the upload's run to its end: status, time, peak RSS.
async function followWorker(stack, runId, env) {
  const t0 = Date.now();
  const w = await stack.startWorker({ ...env, LOG_LEVEL: 'warn' });
  const idle = procMem(w.child.pid).rss;
  const sampler = memSampler(w.child.pid, 50);
  const run = await stack.waitRun(runId, { timeoutMs: 30 * 60000 });
  const mem = sampler.stop();
  row('worker: the S3 upload\'s run', run.status, '', `${run.error ?? ''} after ${f1((Date.now() - t0) / 1000)} s`);
  row('worker RSS (ingest-worker)', f1((mem.maxRss - idle) / 1024), 'MiB', `${f1(idle / 1024)} -> peak ${f1(mem.maxRss / 1024)} MiB`);
  if (run.status !== 'succeeded' && !/^too_large/.test(run.error ?? '')) process.exitCode = 1;
}

async function main() {
  console.log(`upload_s3_bench  ${new Date().toISOString()}  ${os.cpus().length} cpus  node ${process.version}  loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`  BENCH_UPLOAD_MB=${UPLOAD_MB} BENCH_PART_SIZE=${PART}`);
  const stack = await startStack({ worker: false, api: false, apiEnv: { MAX_UPLOAD_BYTES: '2G', LOG_LEVEL: 'warn' } });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'upload-s3-bench-'));
  try {
    await fetch(`${stack.sqs.endpoint}/${BUCKET}`, { method: 'PUT' });
    await stack.startApi();
    const t = await stack.tenant('bench');
    const file = path.join(tmp, 'big.txt');
    await generateText(file, UPLOAD_MB);
    const mb = fs.statSync(file).size / MiB;

    const local = await measuredUpload(stack, t.token, file, { filename: 'local.txt' });
    await stack.stopApi();
    await stack.startApi({ UPLOAD_STORE: 's3', UPLOAD_S3_BUCKET: BUCKET, UPLOAD_S3_PART_SIZE: PART });
    const t2 = await stack.login({ tenant: 'bench', email: t.email, password: t.password });
    // A different name: the same content in one tenant would be a duplicate (skipped).
    fs.appendFileSync(file, 'x');
    const want = await sha256File(file);
    const s3 = await measuredUpload(stack, t2.token, file, { filename: 's3.txt' });
    const cfg = (await stack.sql('SELECT config FROM ingestion_runs WHERE run_id = $1', [s3.up.json.run_id]))[0].config;
    const back = await sha256Url(`${stack.sqs.endpoint}/${cfg.upload_uri.slice(5).split('/').map(encodeURIComponent).join('/')}`);

    const rate = (x) => mb / (x.up.ms / 1000);
    console.log('');
    console.log(`${f1(mb)} MiB text file, one streamed multipart POST /v1/ingest each`);
    row('baseline: UPLOAD_STORE=local', f1(rate(local)), 'MB/s', `RSS ${f1(local.idle.rss / 1024)} -> peak ${f1(local.mem.maxRss / 1024)} MiB (+${f1(local.growth)})`);
    row('UPLOAD_STORE=s3 (multipart)', f1(rate(s3)), 'MB/s', `RSS ${f1(s3.idle.rss / 1024)} -> peak ${f1(s3.mem.maxRss / 1024)} MiB (+${f1(s3.growth)})`);
    row('ratio s3 / local (MB/s)', f3(rate(s3) / rate(local)), 'x');
    row('RSS growth s3 - local', f1(s3.growth - local.growth), 'MiB', `part buffer ${PART}`);
    row('stored object SHA-256', back.hash === want ? 'equal' : 'DIFFERENT', '', `${back.bytes} bytes; run content_hash ${cfg.sha256 === want ? 'equal' : 'different'}`);
    if (back.hash !== want) process.exitCode = 1;
    if (WORKER) await followWorker(stack, s3.up.json.run_id, { UPLOAD_STORE: 's3', UPLOAD_S3_BUCKET: BUCKET, MAX_UPLOAD_BYTES: '2G' });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    await stack.stop();
  }
}

main().catch((e) => {
  console.error(e?.stack ?? e);
  process.exit(1);
});
