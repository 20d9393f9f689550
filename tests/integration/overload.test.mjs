// Overload (issue 14): FLOOD_CONNECTIONS (default 2,000) connections on loopback open
// an upload at once. MAX_UPLOADS_PER_INSTANCE of them stream in; every other one is
// answered 503 with Retry-After before its body is read, and the server stays
// responsive: every /healthz answered during the flood (its p99 is printed here; the
// 50 ms target is a speed figure, measured against an idle baseline in
// bench/flood_bench.mjs), its threads and file descriptors back to where they were
// afterwards, a normal upload accepted.
// UPLOAD_RATE_PER_TENANT is checked as well: past it 429 with Retry-After.
// Bounded: one flood, each socket closed by the end, the whole test under a minute.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { flood, probeSummary, procStats } from '../lib/flood.mjs';
import { startStack } from '../lib/stack.mjs';

const N = Number(process.env.FLOOD_CONNECTIONS ?? 2000);
const CAP = 50;
const POOL = 8;   // DB_POOL_SIZE (default)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let stack;
let A;

before(async () => {
  stack = await startStack({
    worker: false,
    env: {
      MAX_UPLOADS_PER_INSTANCE: String(CAP),
      MAX_UPLOADS_PER_TENANT: '10000',
      MAX_UPLOADS_PER_USER: '10000',
      UPLOAD_RATE_PER_TENANT: '0',
      HTTP_MAX_CONNECTIONS: String(N + 200),
      // the flood comes from 127.0.0.2-5, at most N/4 each (loopback only)
      HTTP_MAX_CONN_PER_ADDR: '512',
      LOG_LEVEL: 'warn',
    },
  });
  A = await stack.tenant('flood');
});
after(async () => { await stack?.stop(); });

test(`${N} connections opening uploads: ${CAP} admitted, the rest 503 + Retry-After; the server stays responsive`, async () => {
  const pid = stack.apiPid;
  // a minute's wait at most for the refusals; the admitted ones stay open until closeAll()
  const f = await flood({ port: stack.apiPort, pid, token: A.token, n: N, waitMs: 15000 });
  const { base, during, byStatus } = f;
  const h = probeSummary(f.probes);
  console.log(`flood: ${N} connections in ${f.ms} ms: ${JSON.stringify(byStatus)}; threads ${base.threads} -> `
    + `${during.threads}, fds ${base.fds} -> ${during.fds}; /healthz ${h.n} probes, p50 ${h.p50.toFixed(1)} ms, `
    + `p99 ${h.p99.toFixed(1)} ms (shared machine; bench/flood_bench.mjs prints it against an idle baseline)`);
  assert.equal(f.admitted.length, CAP, JSON.stringify(byStatus));
  assert.equal(f.refused.length, N - CAP, JSON.stringify(byStatus));
  assert.ok(f.refused.every((c) => Number(c.retryAfter) >= 1), 'every 503 carries Retry-After');
  assert.ok(during.threads < CAP + 100, `threads during the flood: ${during.threads} (the refused ones end at once)`);
  // responsive: every probe answered 200, none waited anywhere near a timeout
  assert.equal(h.failed, 0, 'every /healthz answered 200 during the flood');
  assert.ok(h.n >= 20, `${h.n} probes`);
  assert.ok(h.p99 < 1000, `/healthz p99 ${h.p99} ms`);

  // still full: refused before authentication (no database round trip), whatever the token
  const early = await stack.upload({ token: 'not-a-token', filename: 'x.txt', content: 'x\n' });
  assert.equal(early.status, 503, early.text);
  assert.equal(early.json.error.code, 'unavailable');
  assert.ok(Number(early.headers.get('retry-after')) >= 1);

  f.closeAll();
  // back to where it was: no thread or descriptor left behind
  const deadline = Date.now() + 15000;
  let after_;
  for (;;) {
    after_ = procStats(pid);
    if ((after_.threads <= base.threads + 2 && after_.fds <= base.fds + POOL + 2) || Date.now() > deadline) break;
    await sleep(200);
  }
  assert.ok(after_.threads <= base.threads + 2, `threads ${base.threads} -> ${after_.threads}`);
  // the database pool may have grown to DB_POOL_SIZE connections meanwhile: they stay
  assert.ok(after_.fds <= base.fds + POOL + 2, `fds ${base.fds} -> ${after_.fds}`);
  const bad = await stack.upload({ token: 'not-a-token', filename: 'x.txt', content: 'x\n' });
  assert.equal(bad.status, 401, 'with room again, authentication decides');
  const up = await stack.upload({ token: A.token, filename: 'after.txt', content: 'after the flood\n' });
  assert.equal(up.status, 202, up.text);
  assert.deepEqual(fs.readdirSync(stack.uploadDir).flatMap((t) => fs.readdirSync(`${stack.uploadDir}/${t}`)),
    [up.json.run_id], 'the admitted uploads that were cut left nothing behind');
});

test('UPLOAD_RATE_PER_TENANT: past a minute\'s worth, 429 with Retry-After; another tenant is not affected', async () => {
  await stack.stopApi();
  await stack.startApi({ UPLOAD_RATE_PER_TENANT: '3' });
  const B = await stack.tenant('other');
  const send = (t, i) => stack.upload({ token: t.token, filename: `r${i}.txt`, content: `rate ${t.slug} ${i} ${Date.now()}\n` });
  for (let i = 0; i < 3; i++) assert.equal((await send(A, i)).status, 202);
  const r = await send(A, 3);
  assert.equal(r.status, 429, r.text);
  assert.equal(r.json.error.code, 'rate_limited');
  assert.equal(r.headers.get('retry-after'), '20');   // one token every 20 s (rounded up)
  assert.equal((await send(B, 0)).status, 202);
});
