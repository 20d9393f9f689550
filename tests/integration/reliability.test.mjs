// Reliability (issue 14): the windows a crash used to leave open, closed and proven
// with failpoints (src/common/failpoint.h), on real processes killed at the worst
// moment:
//  - core-api dies between the queued run's commit and its SendMessage: the run's
//    outbox row (same transaction) is sent by another instance's publisher, and the
//    run reaches a worker within 10 s, QUEUED_TTL left at its default (15 min);
//  - a worker dies between its content commit and its ACK: the redelivered message
//    is dropped as already done, nothing written twice;
//  - RUNNING_TTL below the workers' published takeover bound: warned at start and in
//    /readyz, and the crash guard waits the bound instead of failing the run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startStack, waitFor } from '../lib/stack.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let stack;
let A;
let other;   // a second core-api instance (load-balanced peer)

before(async () => {
  // QUEUED_TTL and the crash guard are left alone: the harness's CRASH_GUARD_INTERVAL is 24h,
  // so nothing but the outbox can send a lost message during these tests.
  stack = await startStack({ worker: false, env: { RUNNING_TTL: '20s' } });
  A = await stack.tenant('rel');
});
after(async () => { await stack?.stop(); });

async function uploadTo(baseUrl, { token, filename, content }) {
  const form = new FormData();
  form.append('file', new Blob([content]), filename);
  const r = await fetch(`${baseUrl}/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${token}` },
    body: form });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined, headers: r.headers };
}

const text = (label) => `${label}: the warranty covers parts and labour for two years. ${crypto.randomUUID()}\n`;

test('core-api killed between the run commit and SendMessage: the run reaches a worker within 10 s', async () => {
  assert.equal(stack.env.QUEUED_TTL, undefined, 'QUEUED_TTL is left at its default');
  const worker = await stack.startWorker();
  other = await stack.startExtraApi();
  // the primary instance, armed: it dies right after committing the run and its outbox row
  await stack.stopApi();
  const armed = await stack.startApi({ FAILPOINTS: 'after_run_commit:exit' });

  const before_ = await stack.sql('SELECT count(*)::int AS n FROM ingestion_runs');
  await assert.rejects(stack.upload({ token: A.token, filename: 'outbox.txt', content: text('outbox') }),
    'the client sees the connection drop: core-api died before answering');
  const { code } = await armed.exited;
  const died = Date.now();
  assert.equal(code, 86, `core-api exited at the failpoint:\n${armed.log().slice(-2000)}`);
  assert.match(armed.log(), /failpoint after_run_commit: exit/);

  const [run] = await stack.sql('SELECT run_id::text, status, config FROM ingestion_runs ORDER BY created_at DESC LIMIT 1');
  assert.equal((await stack.sql('SELECT count(*)::int AS n FROM ingestion_runs'))[0].n, before_[0].n + 1);
  const [row] = await stack.sql('SELECT message FROM outbox WHERE run_id = $1', [run.run_id]);
  assert.ok(row || run.status !== 'queued', 'the committed run has its outbox row (unless already sent)');
  if (row) assert.equal(JSON.parse(row.message).run_id, run.run_id);

  // a worker claims it (status leaves queued) within 10 s of the death, then finishes it
  await stack.waitRun(run.run_id, { timeoutMs: 10000, statuses: new Set(['running', 'succeeded']) });
  const claimedAfter = Date.now() - died;
  assert.ok(claimedAfter < 10000, `claimed ${claimedAfter} ms after core-api died`);
  const done = await stack.waitRun(run.run_id, { timeoutMs: 30000 });
  assert.equal(done.status, 'succeeded', JSON.stringify(done));
  assert.equal(done.config.republished, 0, 'not the crash guard: the outbox sent it');
  assert.equal((await stack.sql('SELECT count(*)::int AS n FROM outbox'))[0].n, 0, 'outbox emptied');
  assert.match(other.log(), new RegExp(`outbox: message sent for a committed run.*${run.run_id}`));
  assert.match(worker.log(), new RegExp(`"run_id":"${run.run_id}"`));

  // the instance comes back without the failpoint: a normal upload clears its own row at once
  await stack.startApi();
  const up = await stack.upload({ token: A.token, filename: 'normal.txt', content: text('normal') });
  assert.equal(up.status, 202);
  assert.equal((await stack.sql('SELECT count(*)::int AS n FROM outbox WHERE run_id = $1', [up.json.run_id]))[0].n, 0,
    'the request that sent the message deleted its outbox row');
  await stack.waitRun(up.json.run_id);
  await worker.stop();
});

test('worker killed between its content commit and the ACK: the redelivery is dropped, nothing written twice', async () => {
  const vis = { VISIBILITY_TIMEOUT: '2s' };
  const w1 = await stack.startWorker({ ...vis, FAILPOINTS: 'after_content_commit:exit' });
  const up = await stack.upload({ token: A.token, filename: 'ack.txt', content: text('ack').repeat(50) });
  assert.equal(up.status, 202);
  const { code } = await w1.exited;
  assert.equal(code, 86, w1.log().slice(-2000));
  assert.match(w1.log(), /failpoint after_content_commit: exit/);

  const run = await stack.waitRun(up.json.run_id, { timeoutMs: 5000 });
  assert.equal(run.status, 'succeeded');
  const count = async () => (await stack.sql(`SELECT
      (SELECT count(*)::int FROM document_versions WHERE run_id = $1) AS versions,
      (SELECT count(*)::int FROM chunks c JOIN document_versions v ON v.version_id = c.version_id
        WHERE v.run_id = $1) AS chunks,
      (SELECT count(*)::int FROM chunk_embeddings e JOIN chunks c ON c.chunk_id = e.chunk_id
        JOIN document_versions v ON v.version_id = c.version_id WHERE v.run_id = $1) AS embeddings,
      (SELECT attempt FROM ingestion_runs WHERE run_id = $1) AS attempt,
      (SELECT finished_at::text FROM ingestion_runs WHERE run_id = $1) AS finished`, [up.json.run_id]))[0];
  const first = await count();
  assert.equal(first.versions, 1);
  assert.ok(first.chunks > 0);

  // the message was never deleted: it comes back to the next worker, which drops it as done
  const w2 = await stack.startWorker(vis);
  await waitFor(() => /already_terminal/.test(w2.log()), { timeoutMs: 20000, what: 'the redelivery dropped' });
  await waitFor(async () => { const d = await stack.queueDepth(); return d.visible + d.inflight === 0; },
    { timeoutMs: 10000, what: 'queue empty' });
  assert.deepEqual(await count(), first, 'versions, chunks, embeddings, attempt and finished_at unchanged');
  assert.equal((await stack.dlqDepth()).visible, 0, 'nothing in the DLQ');
  const [run2] = await stack.sql('SELECT status FROM ingestion_runs WHERE run_id = $1', [up.json.run_id]);
  assert.equal(run2.status, 'succeeded');
  await w2.stop();
});

test('RUNNING_TTL below the workers\' takeover bound: warned at start and in /readyz; the guard waits the bound', async () => {
  // a worker with the default settings publishes 60s + 60s + 10s + 5s = 135 s
  const w = await stack.startWorker();
  await waitFor(async () => (await stack.sql(
    "SELECT 1 FROM worker_settings WHERE takeover_bound_ms = 135000 AND seen_at > now() - interval '1 minute'")).length,
    { timeoutMs: 10000, what: 'the worker published its bound' });
  await stack.stopApi();
  await stack.startApi();   // RUNNING_TTL=20s (suite env)
  await waitFor(() => /RUNNING_TTL is not above the workers' takeover bound/.test(stack.apiLog()),
    { timeoutMs: 5000, what: 'the start-up warning' });

  const r = await stack.api('GET', '/readyz');
  assert.equal(r.status, 200, r.text);   // still ready: the crash guard applies the bound
  assert.equal(r.json.checks.running_ttl, 'too_short');
  assert.match(r.json.warnings[0], /RUNNING_TTL \(20s\) is not above the workers' takeover bound \(135s/);
  const m = await stack.api('GET', '/metrics');
  assert.match(m.text, /^ingest_worker_takeover_bound_seconds 135$/m);
  assert.match(m.text, /^ingest_running_ttl_seconds 20$/m);

  // a running run whose heartbeat stopped 60 s ago: past RUNNING_TTL, within the bound
  await w.stop();
  const [t] = await stack.sql("SELECT tenant_id FROM tenants WHERE slug = 'rel'");
  const [d] = await stack.sql(`INSERT INTO documents (tenant_id, source_type, source_uri, title)
    VALUES ($1, 'upload', 'upload://sha256:' || md5(random()::text), 'crashed') RETURNING doc_id`, [t.tenant_id]);
  const runId = crypto.randomUUID();
  await stack.sql(`INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status, attempt, updated_at, started_at)
    VALUES ($1, $2, $3, 'running', 1, now() - interval '60 seconds', now() - interval '70 seconds')`,
  [runId, t.tenant_id, d.doc_id]);
  const g1 = await stack.runApi(['crash-guard', '--now', 'now']);
  assert.equal(g1.code, 0, g1.stderr);
  assert.equal(JSON.parse(g1.stdout.trim().split('\n').pop()).stale_running, 0, g1.stdout);
  assert.equal((await stack.sql('SELECT status FROM ingestion_runs WHERE run_id = $1', [runId]))[0].status, 'running');
  // past the bound (60 s + 2 min > 135 s) it fails as before
  const g2 = await stack.runApi(['crash-guard', '--now', '+2m']);
  assert.equal(JSON.parse(g2.stdout.trim().split('\n').pop()).stale_running, 1, g2.stdout);

  // with a RUNNING_TTL above the bound: no warning
  await stack.stopApi();
  await stack.startApi({ RUNNING_TTL: '10m' });
  const ok = await stack.api('GET', '/readyz');
  assert.equal(ok.json.checks.running_ttl, 'ok');
  assert.deepEqual(ok.json.warnings, []);
  await sleep(200);
  assert.doesNotMatch(stack.apiLog().split('outbox publisher started').pop(), /RUNNING_TTL is not above/);
});
