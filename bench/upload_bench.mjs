#!/usr/bin/env node
// Upload throughput, core-api memory during a large upload, and run-read throughput.
//
//   make -j2 && node bench/upload_bench.mjs
//   BENCH_UPLOAD_MB=256 BENCH_SECONDS=5 node bench/upload_bench.mjs      (scaled down)
//   BUILD_DIR=/tmp/bench-build node bench/upload_bench.mjs                (other build dir)
//
// Starts its own throwaway stack (tests/lib/stack.mjs: PostgreSQL, SQS emulator and
// core-api with MAX_UPLOAD_BYTES=2G; no worker), bootstraps a tenant, then:
//
//  1. Upload. Generates a BENCH_UPLOAD_MB (default 1024) MiB text file in a temp
//     folder (written block by block, never held in memory), and POSTs it to
//     /v1/ingest as one multipart request whose body is the multipart head, the file
//     piped from a read stream, and the tail (Content-Length known, nothing buffered).
//     Measures MB/s from the first byte sent to the 202, and samples core-api's
//     VmRSS every 20 ms (plus VmHWM at the end) from /proc/<pid>/status.
//     Baseline, same run, same filesystem: copy the same file with fs streams and
//     fsync the copy (core-api fsyncs every upload before it answers).
//  2. Reads. GET /v1/ingestion-runs/:id (authenticated, one DB read) at
//     BENCH_CONNECTIONS (default 32) concurrent keep-alive connections for
//     BENCH_SECONDS (default 10) after a 1 s warm-up: requests/s, p50/p99.
//     Baseline, same run, same load: GET /healthz (no auth, no database).
//
// Every figure is printed with its ratio to the baseline. Nothing fails on speed.
// MB here means MiB (2^20 bytes).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { startStack } from '../tests/lib/stack.mjs';
import { MiB, envNum, f1, f2, f3, generateText, load, measuredUpload, nowMs, row, sleep } from './lib.mjs';

const UPLOAD_MB = envNum('BENCH_UPLOAD_MB', 1024);
const SECONDS = envNum('BENCH_SECONDS', 10);
const CONNECTIONS = envNum('BENCH_CONNECTIONS', 32);

async function copyBaseline(src, dst) {
  const t0 = nowMs();
  await pipeline(fs.createReadStream(src, { highWaterMark: MiB }), fs.createWriteStream(dst, { highWaterMark: MiB }));
  const fd = fs.openSync(dst, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  return nowMs() - t0;
}

async function main() {
  const started = new Date();
  console.log(`upload_bench  ${started.toISOString()}  ${os.cpus().length} cpus  node ${process.version}  loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  console.log(`  BENCH_UPLOAD_MB=${UPLOAD_MB} BENCH_SECONDS=${SECONDS} BENCH_CONNECTIONS=${CONNECTIONS}`);

  const stack = await startStack({ worker: false, apiEnv: { MAX_UPLOAD_BYTES: '2G', LOG_LEVEL: 'warn' } });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'upload-bench-'));
  try {
    const t = await stack.tenant('bench');
    const file = path.join(tmp, 'big.txt');
    let t0 = nowMs();
    await generateText(file, UPLOAD_MB);
    const bytes = fs.statSync(file).size;
    const mb = bytes / MiB;
    console.log(`  generated ${f1(mb)} MiB in ${f1((nowMs() - t0) / 1000)} s (${tmp})`);

    // ---- 1. upload vs. copy ----
    const copyMs = await copyBaseline(file, path.join(tmp, 'copy.txt'));
    fs.rmSync(path.join(tmp, 'copy.txt'));

    const { up, idle, mem, growth } = await measuredUpload(stack, t.token, file,
      { filename: 'big.txt', fields: { title: 'upload bench' } });
    const runId = up.json.run_id;
    const stored = (await stack.sql('SELECT config FROM ingestion_runs WHERE run_id = $1', [runId]))[0]?.config;
    if (stored && Number(stored.size_bytes) !== bytes) throw new Error(`stored size ${stored.size_bytes} != ${bytes}`);

    const upRate = mb / (up.ms / 1000);
    const copyRate = mb / (copyMs / 1000);
    console.log('');
    console.log(`upload: ${f1(mb)} MiB text file, one streamed multipart POST /v1/ingest -> ${up.status} ${up.json.status}`);
    row('upload throughput', f1(upRate), 'MB/s', `${f2(up.ms / 1000)} s`);
    row('baseline: fs stream copy + fsync', f1(copyRate), 'MB/s', `${f2(copyMs / 1000)} s`);
    row('ratio upload / copy', f3(upRate / copyRate), 'x');
    row('core-api RSS before upload', f1(idle.rss / 1024), 'MiB');
    row('core-api peak RSS during upload', f1(mem.maxRss / 1024), 'MiB', `max of ${mem.samples} samples every 20 ms`);
    row('core-api VmHWM after upload', f1(mem.hwm / 1024), 'MiB',
      `peak since process start (was ${f1(idle.hwm / 1024)} MiB before the upload: login's Argon2id)`);
    row('peak RSS growth during upload', f1(growth), 'MiB', `${f3((100 * growth) / mb)} % of the upload size`);
    fs.rmSync(file);

    // ---- 2. GET /v1/ingestion-runs/:id vs. GET /healthz ----
    await sleep(1000);
    const health = await load({ url: `${stack.baseUrl}/healthz`, connections: CONNECTIONS, seconds: SECONDS });
    await sleep(500);
    const runs = await load({ url: `${stack.baseUrl}/v1/ingestion-runs/${runId}`, headers: { authorization: `Bearer ${t.token}` },
      connections: CONNECTIONS, seconds: SECONDS });
    const errs = (r) => (r.bad ? `${r.bad} non-200: ${JSON.stringify(r.statuses)}` : '0 errors');
    console.log('');
    console.log(`reads: ${CONNECTIONS} keep-alive connections, closed loop, ${SECONDS} s each after 1 s warm-up`);
    row('GET /v1/ingestion-runs/:id', f1(runs.rps), 'req/s', `${runs.ok} ok, ${errs(runs)}`);
    row('  p50 / p99', `${f2(runs.p50)} / ${f2(runs.p99)}`, 'ms');
    row('baseline: GET /healthz', f1(health.rps), 'req/s', `${health.ok} ok, ${errs(health)}`);
    row('  p50 / p99', `${f2(health.p50)} / ${f2(health.p99)}`, 'ms');
    row('ratio runs / healthz (req/s)', f3(runs.rps / health.rps), 'x');
    row('ratio runs / healthz (p50)', f2(runs.p50 / health.p50), 'x');
    row('ratio runs / healthz (p99)', f2(runs.p99 / health.p99), 'x');
    console.log('');
    console.log('  (the load generator is one node process on the same 2-core machine as the server)');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    await stack.stop();
  }
}

main().catch((e) => {
  console.error(e?.stack ?? e);
  process.exit(1);
});
