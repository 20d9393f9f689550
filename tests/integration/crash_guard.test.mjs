// Crash guard (issue 7, spec 6): time is injected with `core-api crash-guard --now`
// instead of slept. A queued run whose message was lost is re-published (and a worker
// then finishes it); past QUEUED_MAX_REPUBLISH, or with its upload gone, it fails
// stale_queued; a running run with an old heartbeat fails stale_running; fresh and
// terminal runs are untouched; orphan upload folders go after the grace period; one
// instance scans at a time (advisory lock); the serve process scans at start-up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startStack, waitFor } from '../lib/stack.mjs';

const SPEC_45_FIELDS = ['doc_id', 'job_type', 'received_at', 'run_id', 'source_uri', 'tenant_id',
  'title', 'upload_uri', 'user_id'];
const LOCK_KEY = '7165064482919916644'; // crash_guard.c CRASH_GUARD_LOCK_KEY

let stack;
let A;

before(async () => {
  // QUEUED_TTL 15m, RUNNING_TTL 10m, QUEUED_MAX_REPUBLISH 3, UPLOAD_ORPHAN_GRACE 1h: the defaults, stated.
  stack = await startStack({ worker: false, env: { QUEUED_TTL: '15m', RUNNING_TTL: '10m',
    QUEUED_MAX_REPUBLISH: '3', UPLOAD_ORPHAN_GRACE: '1h' } });
  A = await stack.tenant('acme');
});
after(async () => { await stack?.stop(); });

const runById = async (id) => (await stack.sql('SELECT * FROM ingestion_runs WHERE run_id = $1', [id]))[0];

async function guard(now) {
  const r = await stack.runApi(['crash-guard', '--now', now]);
  assert.equal(r.code, 0, `crash-guard --now ${now}: ${r.code}\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

async function drainQueue() {
  const all = [];
  for (;;) {
    const msgs = await stack.receiveMessages(stack.sqs.queueUrl, { max: 10, wait: 0, visibility: 60 });
    if (msgs.length === 0) return all;
    for (const m of msgs) {
      all.push(m);
      await stack.sqsCall('DeleteMessage', { QueueUrl: stack.sqs.queueUrl, ReceiptHandle: m.ReceiptHandle });
    }
  }
}

async function queuedRun(label) {
  const up = await stack.upload({ token: A.token, filename: `${label}.txt`,
    content: `${label}: refunds are processed within 14 days. ${crypto.randomUUID()}\n` });
  assert.equal(up.status, 202, up.text);
  return up.json.run_id;
}

test('a queued run whose message was lost is re-published (same message), then a worker finishes it', async () => {
  await drainQueue();
  const runId = await queuedRun('lost');
  const original = (await drainQueue()).map((m) => JSON.parse(m.Body)).find((m) => m.run_id === runId);
  assert.ok(original, 'the upload published its message');
  // the message is gone (deleted above): nothing will ever pick the run up unless re-published

  const fresh = await guard('now');
  assert.equal(fresh.republished, 0);
  assert.equal((await runById(runId)).status, 'queued');

  const s = await guard('+16m');
  assert.ok(s.republished >= 1, JSON.stringify(s));
  const msgs = (await drainQueue()).map((m) => JSON.parse(m.Body)).filter((m) => m.run_id === runId);
  assert.equal(msgs.length, 1);
  assert.deepEqual(Object.keys(msgs[0]).sort(), SPEC_45_FIELDS);
  assert.deepEqual(msgs[0], original);
  let run = await runById(runId);
  assert.equal(run.status, 'queued');
  assert.equal(run.config.republished, 1);
  assert.equal(run.error, null);

  // re-published again only after another QUEUED_TTL (updated_at moved to the injected time)
  const again = await guard('+20m');
  assert.equal((await drainQueue()).filter((m) => JSON.parse(m.Body).run_id === runId).length, 0, JSON.stringify(again));
  assert.equal((await runById(runId)).config.republished, 1);

  // put the message back once more and let a real worker finish the run
  await guard('+35m');
  run = await runById(runId);
  assert.equal(run.config.republished, 2);
  await stack.startWorker();
  try {
    const done = await stack.waitRun(runId, { timeoutMs: 60000 });
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
  } finally {
    for (const w of stack.workers) await w.stop('SIGTERM');
    stack.workers.length = 0;
  }
});

test('a queued run past QUEUED_MAX_REPUBLISH fails stale_queued; one whose upload is gone too', async () => {
  await drainQueue();
  const limit = await queuedRun('limit');
  await stack.sql("UPDATE ingestion_runs SET config = jsonb_set(config, '{republished}', '3') WHERE run_id = $1", [limit]);
  const missing = await queuedRun('missing');
  const m = await runById(missing);
  fs.rmSync(path.join(stack.uploadDir, m.tenant_id, missing), { recursive: true, force: true });
  await drainQueue();

  const s = await guard('+16m');
  assert.ok(s.stale_queued >= 2, JSON.stringify(s));
  const a = await runById(limit);
  assert.equal(a.status, 'failed');
  assert.equal(a.error, 'stale_queued: not picked up after 3 re-publications');
  assert.ok(a.finished_at);
  const b = await runById(missing);
  assert.equal(b.status, 'failed');
  assert.equal(b.error, 'stale_queued: upload missing');
  const republishedIds = (await drainQueue()).map((x) => JSON.parse(x.Body).run_id);
  assert.ok(!republishedIds.includes(limit) && !republishedIds.includes(missing));
});

test('a running run with an old heartbeat fails stale_running; a fresh one is untouched', async () => {
  const runId = await queuedRun('running');
  await stack.sql(`UPDATE ingestion_runs SET status = 'running', started_at = now(), updated_at = now(), attempt = 1
    WHERE run_id = $1`, [runId]);
  const hb = (await stack.sql(`SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS t
    FROM ingestion_runs WHERE run_id = $1`, [runId]))[0].t;

  await guard('+9m');
  assert.equal((await runById(runId)).status, 'running');

  const s = await guard('+11m');
  assert.ok(s.stale_running >= 1, JSON.stringify(s));
  const run = await runById(runId);
  assert.equal(run.status, 'failed');
  assert.equal(run.error, `stale_running: no heartbeat since ${hb}`);
  assert.ok(run.finished_at);
  const api = await stack.api('GET', `/v1/ingestion-runs/${runId}`, { token: A.token });
  assert.equal(api.json.status, 'failed');
  assert.match(api.json.error, /^stale_running: /);
});

test('fresh and terminal runs are untouched', async () => {
  await drainQueue();
  const fresh = await queuedRun('fresh');
  const terminal = {};
  for (const st of ['succeeded', 'failed', 'skipped']) {
    const id = await queuedRun(`term-${st}`);
    await stack.sql(`UPDATE ingestion_runs SET status = $2, finished_at = now() - interval '3 days',
      updated_at = now() - interval '3 days', error = CASE WHEN $2 = 'failed' THEN 'extract_failed: x' END
      WHERE run_id = $1`, [id, st]);
    terminal[st] = await runById(id);
  }
  await drainQueue();
  const before = await runById(fresh);
  await guard('+14m');
  const after = await runById(fresh);
  assert.deepEqual(after, before);
  assert.equal((await drainQueue()).filter((m) => JSON.parse(m.Body).run_id === fresh).length, 0);

  await guard('+30d');
  for (const [st, row] of Object.entries(terminal)) assert.deepEqual(await runById(row.run_id), row, st);
});

test('upload folders with no run are removed after UPLOAD_ORPHAN_GRACE, others kept', async () => {
  const tdir = path.join(stack.uploadDir, A.user.tenant_id);
  const mk = (name, ageMs) => {
    const d = path.join(tdir, name);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, '.upload.part'), 'partial');
    const t = new Date(Date.now() - ageMs);
    fs.utimesSync(path.join(d, '.upload.part'), t, t);
    fs.utimesSync(d, t, t);
    return d;
  };
  const old = mk(crypto.randomUUID(), 2 * 3600e3);
  const young = mk(crypto.randomUUID(), 10 * 60e3);
  const withRun = await queuedRun('kept');
  const keptDir = path.join(tdir, withRun);
  const t = new Date(Date.now() - 5 * 3600e3);
  for (const f of fs.readdirSync(keptDir)) fs.utimesSync(path.join(keptDir, f), t, t);
  fs.utimesSync(keptDir, t, t);
  const notUuid = mk('not-a-run', 5 * 3600e3);

  const s = await guard('now');
  assert.ok(s.orphans_removed >= 1, JSON.stringify(s));
  assert.equal(fs.existsSync(old), false);
  assert.equal(fs.existsSync(young), true);
  assert.equal(fs.existsSync(keptDir), true);
  assert.equal(fs.existsSync(notUuid), true);
  // the young one goes once it is old enough
  await guard('+2h');
  assert.equal(fs.existsSync(young), false);
  assert.equal(fs.existsSync(keptDir), true);
});

test('one instance at a time: while another holds the advisory lock the scan is skipped', async () => {
  const runId = await queuedRun('locked');
  await stack.sql("UPDATE ingestion_runs SET config = jsonb_set(config, '{republished}', '99') WHERE run_id = $1", [runId]);
  const c = new pg.Client({ connectionString: stack.superUrl });
  await c.connect();
  try {
    await c.query(`SELECT pg_advisory_lock(${LOCK_KEY})`);
    const s = await guard('+1d');
    assert.equal(s.skipped, true);
    assert.equal((await runById(runId)).status, 'queued');
  } finally {
    await c.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`);
    await c.end();
  }
  const s2 = await guard('+1d');
  assert.equal(s2.skipped, false);
  assert.equal((await runById(runId)).status, 'failed');
});

test('crash-guard usage errors exit 2', async () => {
  for (const args of [['--now', 'yesterday'], ['--now'], ['--bogus']]) {
    const r = await stack.runApi(['crash-guard', ...args]);
    assert.equal(r.code, 2, `${args}: ${r.stdout} ${r.stderr}`);
  }
});

test('core-api serve scans at start-up and stops promptly', async () => {
  const runId = await queuedRun('startup');
  await stack.sql(`UPDATE ingestion_runs SET status = 'running', started_at = now() - interval '1 day',
    updated_at = now() - interval '1 day' WHERE run_id = $1`, [runId]);
  await stack.stopApi();
  await stack.startApi();
  const run = await waitFor(async () => {
    const r = await runById(runId);
    return r.status === 'failed' ? r : null;
  }, { what: 'start-up scan', timeoutMs: 15000 });
  assert.match(run.error, /^stale_running: no heartbeat since /);
  const t0 = Date.now();
  await stack.stopApi();
  assert.ok(Date.now() - t0 < 5000, `stop took ${Date.now() - t0} ms (CRASH_GUARD_INTERVAL is 24h)`);
  await stack.startApi();
});
