// INGEST_MODE=proxy (issue 17, spec 11's rollback path): core-api hands each job to the
// worker's internal endpoint instead of the queue. With the queue stopped an upload still
// ends succeeded, with run and version rows shaped exactly as in orchestrated mode; the
// internal endpoint lives only on the worker's loopback/private address. Loopback only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startStack, waitFor } from '../lib/stack.mjs';
import { freePort } from '../lib/pg-cluster.mjs';
import { startFakeEmbeddings } from '../lib/fake-embeddings.mjs';

let stack;
let A;
let proxyPort;

before(async () => {
  proxyPort = await freePort();
  stack = await startStack({ worker: true, workerEnv: { INGEST_PROXY_ADDR: `127.0.0.1:${proxyPort}` } });
  A = await stack.tenant('proxy');
});
after(async () => { await stack?.stop(); });

const shape = (o) => Object.keys(o ?? {}).sort();
async function rowsOf(runId) {
  const [run] = await stack.sql(`SELECT status, attempt, error, content_hash, stats, config,
      started_at IS NOT NULL AS started, finished_at IS NOT NULL AS finished FROM ingestion_runs WHERE run_id = $1`, [runId]);
  const versions = await stack.sql(`SELECT is_active, content_hash, byte_size, mime, pages IS NULL AS no_pages
      FROM document_versions WHERE run_id = $1`, [runId]);
  return { run, versions };
}

test('orchestrated, then proxy with the queue stopped: the upload succeeds with the same rows', async () => {
  const c1 = `Orchestrated upload about kwproxy1q.\n${crypto.randomUUID()}\n`;
  const o = await stack.ingest({ token: A.token, filename: 'o.txt', content: c1 });
  assert.equal(o.run.status, 'succeeded');

  // Switch core-api to proxy mode, then take the queue away.
  await stack.stopApi();
  await stack.startApi({ INGEST_MODE: 'proxy', INGEST_PROXY_URL: `http://127.0.0.1:${proxyPort}` });
  await stack.stopSqs();
  const c2 = `Proxied upload about kwproxy2q.\n${crypto.randomUUID()}\n`;
  const p = await stack.ingest({ token: A.token, filename: 'p.txt', content: c2 }, { timeoutMs: 60000 });
  assert.equal(p.upload.status, 202, p.upload.text);
  assert.equal(p.upload.json.status, 'queued');
  assert.equal(p.run.status, 'succeeded', JSON.stringify(p.run));

  const a = await rowsOf(o.upload.json.run_id);
  const b = await rowsOf(p.upload.json.run_id);
  assert.equal(b.run.content_hash, crypto.createHash('sha256').update(c2).digest('hex'));
  for (const k of ['status', 'attempt', 'error', 'started', 'finished']) assert.deepEqual(b.run[k], a.run[k], k);
  assert.deepEqual(shape(b.run.stats), shape(a.run.stats), 'stats keys');
  assert.deepEqual(shape(b.run.config), shape(a.run.config), 'config keys');
  assert.equal(b.versions.length, 1);
  assert.deepEqual({ ...b.versions[0], content_hash: 'x', byte_size: 0 }, { ...a.versions[0], content_hash: 'x', byte_size: 0 });
  assert.equal(Number(b.versions[0].byte_size), Buffer.byteLength(c2));
  const s = await stack.api('POST', '/v1/search', { token: A.token, body: { query: 'kwproxy2q' } });
  assert.equal(s.json.status, 'answered');
});

test('the internal endpoint is not on the public address and takes only job messages', async () => {
  const pub = await stack.api('POST', '/internal/ingest', { token: A.token, body: { job_type: 'upload_ingest' } });
  // Not a route of core-api: a POST outside /v1 meets only the static files (405), never the worker.
  assert.ok([404, 405].includes(pub.status), `core-api does not route it: ${pub.status}`);
  assert.doesNotMatch(pub.text, /accepted/);
  const bad = await fetch(`http://127.0.0.1:${proxyPort}/internal/ingest`, { method: 'POST', body: '{"job_type":"x"}' });
  assert.equal(bad.status, 400);
  const other = await fetch(`http://127.0.0.1:${proxyPort}/v1/ingest`, { method: 'POST', body: '{}' });
  assert.equal(other.status, 404);
  for (const addr of ['0.0.0.0:1', '8.8.8.8:1', 'nonsense']) {
    const r = await stack.runBin('ingest-worker', ['run'], { INGEST_PROXY_ADDR: addr });
    assert.equal(r.code, 2, `${addr}: ${r.stderr}`);
    assert.match(r.stderr, /INGEST_PROXY_ADDR/);
  }
  const r = await stack.runApi(['serve'], { INGEST_MODE: 'proxy', INGEST_PROXY_URL: '' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /INGEST_PROXY_URL/);
});

// The queue consumer's keeper repeats a job's last milestone every HEARTBEAT_INTERVAL; the
// proxy's job threads have the same keeper, or a long stage would look stale to the crash guard.
test('a long job in proxy mode keeps its run alive: heartbeats during a slow embeddings call', async () => {
  const fake = await startFakeEmbeddings({ dim: 256 });
  await stack.workers[0].stop('SIGTERM');
  const w = await stack.startWorker({ EMBED_PROVIDER: 'openai', EMBED_URL: fake.url, EMBED_MODEL: 'hash-v1',
    EMBED_DIM: '256', HEARTBEAT_INTERVAL: '300ms' });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${proxyPort}/`).catch(() => null))?.status === 404,
      { timeoutMs: 10000, what: 'the proxy endpoint' });
    fake.setFailures({ count: 1, delayMs: 6000 });   // the first embeddings call answers after 6 s
    const up = await stack.upload({ token: A.token, filename: 'long.txt',
      content: `A long proxied job about kwproxyhb.\n${crypto.randomUUID()}\n` });
    assert.equal(up.status, 202, up.text);
    const runId = up.json.run_id;
    const row = async () => (await stack.sql('SELECT status, stats, updated_at, error FROM ingestion_runs WHERE run_id = $1',
      [runId]))[0];
    const t0 = await waitFor(async () => {
      const r = await row();
      return r?.status === 'running' && r.stats?.progress?.stage === 'embed' ? r : null;
    }, { timeoutMs: 20000, intervalMs: 50, what: 'the embed stage' });
    await new Promise((r) => setTimeout(r, 2500));
    const mid = await row();
    assert.equal(mid.status, 'running');
    assert.equal(mid.stats.progress.stage, 'embed', 'still inside the slow call');
    assert.ok(mid.updated_at - t0.updated_at >= 1500,
      `the heartbeat moved updated_at during the stage (${t0.updated_at.toISOString()} -> ${mid.updated_at.toISOString()})`);
    // A crash guard with a 1 s RUNNING_TTL finds a fresh heartbeat: nothing is failed stale_running.
    const g = await stack.runApi(['crash-guard', '--now', 'now'], { RUNNING_TTL: '1s' });
    assert.equal(g.code, 0, g.stderr);
    assert.equal(JSON.parse(g.stdout.trim().split('\n').pop()).stale_running, 0, g.stdout);
    assert.equal((await row()).status, 'running');
    const run = await stack.waitRun(runId, { timeoutMs: 30000 });
    assert.equal(run.status, 'succeeded', run.error);
    assert.equal(run.attempt, 1);
    assert.equal(fake.requests() >= 1, true);
  } finally {
    await w.stop('SIGTERM');   // the next test wants no worker on the proxy address
    await fake.stop();
  }
});

test('a worker that is down: the upload answers 503 and its run fails enqueue_failed, nothing stuck', async () => {
  await stack.killWorker(stack.workers[0], 'SIGKILL');
  const up = await stack.upload({ token: A.token, filename: 'down.txt', content: `worker down ${crypto.randomUUID()}` });
  assert.equal(up.status, 503, up.text);
  const [run] = await stack.sql(`SELECT status, error FROM ingestion_runs WHERE tenant_id = $1
    ORDER BY created_at DESC LIMIT 1`, [A.user.tenant_id]);
  assert.equal(run.status, 'failed');
  assert.match(run.error, /^enqueue_failed/);
});

test('no program wrote a sanitizer report', () => {
  assert.deepEqual(stack.sanitizerReports(), []);
});
