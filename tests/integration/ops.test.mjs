// Operations endpoints: /healthz, /readyz (database and queue, 503 when either is
// down), /metrics (Prometheus text), and recovery after a PostgreSQL restart: the
// first request after it must not fail on a pooled connection that died.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';

let stack;
let A;
before(async () => {
  stack = await startStack({ worker: false });
  A = await stack.tenant('opsco');
});
after(async () => { await stack?.stop(); });

// No worker runs in this suite: the RUNNING_TTL check has no takeover bound to compare with.
const UP = { database: 'ok', queue: 'ok', upload_store: 'ok', running_ttl: 'unknown' };

async function ready() {
  const r = await stack.api('GET', '/readyz');
  return { status: r.status, checks: r.json?.checks };
}

test('healthz and readyz answer 200 when everything is up', async () => {
  const h = await stack.api('GET', '/healthz');
  assert.equal(h.status, 200);
  assert.equal(h.json.status, 'ok');
  assert.deepEqual(await ready(), { status: 200, checks: UP });
});

test('readyz is 503 while the queue is down, 200 once it is back', async () => {
  await stack.stopSqs();
  try {
    assert.deepEqual(await ready(), { status: 503, checks: { ...UP, queue: 'down' } });
    assert.equal((await stack.api('GET', '/healthz')).status, 200, 'liveness does not depend on the queue');
  } finally {
    await stack.startSqs();
  }
  assert.deepEqual(await ready(), { status: 200, checks: UP });
});

test('after a PostgreSQL restart the first requests succeed (dead pooled connections are replaced)', async () => {
  // Use several pooled connections first, so more than one goes stale.
  await Promise.all(Array.from({ length: 6 }, () => stack.api('GET', '/v1/ingestion-runs', { token: A.token })));
  await stack.stopPg();
  try {
    const down = await ready();
    assert.equal(down.status, 503);
    assert.equal(down.checks.database, 'down');
    const r = await stack.api('GET', '/v1/ingestion-runs', { token: A.token });
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.error.code, 'unavailable');
    assert.ok(!/SQL|postgres|connection to server/i.test(r.text), `no internals in ${r.text}`);
  } finally {
    await stack.startPg();
  }
  assert.deepEqual(await ready(), { status: 200, checks: UP });
  const results = await Promise.all(Array.from({ length: 8 }, () =>
    stack.api('GET', '/v1/ingestion-runs', { token: A.token })));
  assert.deepEqual(results.map((x) => x.status), Array(8).fill(200));
});

test('metrics: request counters, latency histogram, uploads and runs by status', async () => {
  const up = await stack.upload({ token: A.token, filename: 'm.txt', content: 'metrics check: the heron counts fish.\n' });
  assert.equal(up.status, 202, up.text);
  // A request is counted when it completes, just after its answer went out: the upload's
  // counter may lag its 202 by a moment (under ASan too), so read until it shows, bounded.
  const counted = /^http_requests_total\{route="\/v1\/ingest",method="POST",status="2xx"\} /m;
  let m = await stack.api('GET', '/metrics');
  for (let i = 0; i < 30 && m.status === 200 && !counted.test(m.text); i++) {
    await new Promise((r) => setTimeout(r, 100));
    m = await stack.api('GET', '/metrics');
  }
  assert.equal(m.status, 200);
  assert.match(m.headers.get('content-type'), /^text\/plain/);
  const value = (re) => {
    const line = m.text.split('\n').find((l) => re.test(l));
    assert.ok(line, `no line matching ${re} in\n${m.text}`);
    return Number(line.split(' ').pop());
  };
  assert.ok(value(/^uploads_total /) >= 1);
  assert.ok(value(/^upload_bytes_total /) >= 38);
  assert.ok(value(/^ingest_runs\{status="queued"\} /) >= 1);
  assert.equal(value(/^ingest_runs_scrape_ok /), 1);
  assert.ok(value(/^http_requests_total\{route="\/v1\/ingest",method="POST",status="2xx"\} /) >= 1);
  assert.ok(value(/^http_requests_total\{route="\/v1\/ingestion-runs",method="GET",status="2xx"\} /) >= 8);
  assert.match(m.text, /^http_request_duration_seconds_bucket\{route="\/v1\/ingest",.*le="\+Inf"\} \d+$/m);
  assert.match(m.text, /# TYPE http_request_duration_seconds histogram/);
});
