#!/usr/bin/env node
// /healthz latency while a connection flood opens uploads (issue 14), against the same
// probe on the idle server, same run, same machine.
//
//   make -j2 && node bench/flood_bench.mjs
//   BENCH_FLOOD=500 node bench/flood_bench.mjs          (a smaller flood)
//
// Starts its own throwaway stack (tests/lib/stack.mjs: PostgreSQL, SQS emulator,
// core-api with MAX_UPLOADS_PER_INSTANCE=50 and room for the connections; no worker),
// then:
//  1. Baseline: /healthz on a fresh connection every 10 ms for BENCH_SECONDS (3 s), from
//     a thread of its own (tests/lib/flood.mjs), on the idle server: p50, p99.
//  2. Flood: BENCH_FLOOD (2000) connections from 127.0.0.2-5 open uploads at once
//     (headers only); 50 are admitted, the rest answered 503 + Retry-After. The same
//     probe runs during the flood: p50, p99, and their ratios to the baseline.
// Nothing fails on speed; the target is p99 under 50 ms during the flood.
import { flood, probeSummary, startProber } from '../tests/lib/flood.mjs';
import { startStack } from '../tests/lib/stack.mjs';
import { envNum, f1, f2, sleep } from './lib.mjs';

const N = envNum('BENCH_FLOOD', 2000);
const SECONDS = envNum('BENCH_SECONDS', 3);

const stack = await startStack({
  worker: false,
  env: {
    MAX_UPLOADS_PER_INSTANCE: '50', MAX_UPLOADS_PER_TENANT: '10000', MAX_UPLOADS_PER_USER: '10000',
    UPLOAD_RATE_PER_TENANT: '0', HTTP_MAX_CONNECTIONS: String(N + 200), HTTP_MAX_CONN_PER_ADDR: '512',
    LOG_LEVEL: 'warn',
  },
});
try {
  const A = await stack.tenant('bench-flood');
  const idle = startProber(stack.apiPort);
  await sleep(SECONDS * 1000);
  const base = probeSummary(await idle.stop());
  const f = await flood({ port: stack.apiPort, pid: stack.apiPid, token: A.token, n: N, waitMs: 15000 });
  f.closeAll();
  const during = probeSummary(f.probes);
  console.log(`flood: ${N} connections, ${JSON.stringify(f.byStatus)} (0 = admitted, held open), ${f.ms} ms`);
  console.log('| /healthz | probes | p50 ms | p99 ms | p50 ratio | p99 ratio |');
  console.log('|---|---|---|---|---|---|');
  console.log(`| idle (baseline) | ${base.n} | ${f2(base.p50)} | ${f2(base.p99)} | 1.00 | 1.00 |`);
  console.log(`| during the flood | ${during.n} (${during.failed} failed) | ${f2(during.p50)} | ${f2(during.p99)} | `
    + `${f1(during.p50 / base.p50)} | ${f1(during.p99 / base.p99)} |`);
} finally {
  await stack.stop();
}
