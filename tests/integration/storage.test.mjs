// Storage hygiene (issue 14) on a real, small volume: UPLOAD_DIR is a 4 MiB tmpfs
// mounted for this suite (CI runs as root; without the right to mount, the disk-full
// tests are skipped and say so). A full volume answers 507 with Retry-After and leaves
// nothing behind; /readyz is 503 while the store cannot take a file and 200 once space
// is back; /metrics shows the store's size and free space; the crash guard's storage
// scan removes what no policy keeps (orphans, failed runs' uploads after
// FAILED_UPLOAD_RETENTION, skipped runs' leftovers, succeeded runs' under
// UPLOAD_RETENTION=delete) and keeps the rest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startStack } from '../lib/stack.mjs';

const VOLUME = 4 << 20;
let stack;
let A;
let mounted = false;

before(async () => {
  stack = await startStack({ worker: false, env: { MAX_UPLOAD_BYTES: '16M', UPLOAD_ORPHAN_GRACE: '1s' } });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${VOLUME},mode=0755`, 'tmpfs', stack.uploadDir],
    { encoding: 'utf8' });
  mounted = m.status === 0;
  if (!mounted) console.error(`storage.test: cannot mount a tmpfs (${m.stderr.trim()}): disk-full tests skipped`);
  A = await stack.tenant('store');
});
after(async () => {
  if (mounted) spawnSync('umount', [stack.uploadDir]);
  await stack?.stop();
});

// Every file under UPLOAD_DIR (relative paths), dot files included.
function files(dir = stack.uploadDir, rel = '') {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) out.push(`${p}/`, ...files(path.join(dir, e.name), p));
    else out.push(p);
  }
  return out;
}

const runCount = async () => (await stack.sql('SELECT count(*)::int AS n FROM ingestion_runs'))[0].n;
const metric = (text, name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);

test('an upload larger than the free space: 507 with Retry-After, nothing left on disk or in the database', async (t) => {
  if (!mounted) return t.skip('no tmpfs');
  // below the tenant folders (which stay: every upload of the tenant uses its one)
  const deep = () => files().filter((f) => f.split('/').filter(Boolean).length > 1);
  const before_ = deep();
  const runs = await runCount();
  const up = await stack.upload({ token: A.token, filename: 'big.txt', content: 'x'.repeat(6 << 20) });
  assert.equal(up.status, 507, up.text);
  assert.equal(up.json.error.code, 'storage_full');
  assert.equal(up.headers.get('retry-after'), '60');
  assert.deepEqual(deep(), before_, 'no partial file or run folder');
  assert.equal(await runCount(), runs, 'no run recorded');
  assert.match(stack.apiLog(), /"reason":"the upload store is full; try again later"/);
});

test('/readyz is 503 while the store is full, 200 when space is back; uploads then work', async (t) => {
  if (!mounted) return t.skip('no tmpfs');
  const filler = path.join(stack.uploadDir, '.filler');
  const fd = fs.openSync(filler, 'w');
  const block = Buffer.alloc(64 << 10);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (e) {
    assert.equal(e.code, 'ENOSPC');
  } finally {
    fs.closeSync(fd);
  }
  try {
    const r = await stack.api('GET', '/readyz');
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.checks.upload_store, 'not_writable');
    assert.equal(r.json.checks.database, 'ok');
    assert.ok(r.headers.get('retry-after'));
    const up = await stack.upload({ token: A.token, filename: 'small.txt', content: 'a small note\n'.repeat(400) });
    assert.equal(up.status, 507, up.text);
    const m = await stack.api('GET', '/metrics');
    assert.ok(metric(m.text, 'ingest_upload_store_free_bytes') < 64 << 10, 'free space near 0');
    assert.equal(metric(m.text, 'ingest_upload_store_volume_bytes'), VOLUME);
  } finally {
    fs.rmSync(filler);
  }
  const ok = await stack.api('GET', '/readyz');
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.checks.upload_store, 'ok');
  const up = await stack.upload({ token: A.token, filename: 'after.txt', content: `space is back ${crypto.randomUUID()}\n` });
  assert.equal(up.status, 202, up.text);
  assert.deepEqual(files().filter((f) => f.startsWith('.')), [], 'no probe file left');
});

test('/metrics reports the upload store: bytes, files, run folders, free space', async () => {
  const m = await stack.api('GET', '/metrics');
  let bytes = 0;
  let n = 0;
  for (const f of files()) {
    if (f.endsWith('/') || path.basename(f).startsWith('.')) continue;
    bytes += fs.statSync(path.join(stack.uploadDir, f)).size;
    n++;
  }
  assert.ok(n >= 1);
  assert.equal(metric(m.text, 'ingest_upload_store_bytes'), bytes);
  assert.equal(metric(m.text, 'ingest_upload_store_files'), n);
  assert.equal(metric(m.text, 'ingest_upload_store_scrape_ok'), 1);
  assert.ok(metric(m.text, 'ingest_upload_store_free_bytes') > 0);
  assert.equal(metric(m.text, 'ingest_outbox_pending'), 0, 'every accepted upload sent its message');
});

test('the storage scan removes what no policy keeps, in every run state, and keeps the rest', async () => {
  const guard = async (now, env = {}) => {
    const r = await stack.runApi(['crash-guard', '--now', now], env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  };
  const upload = async (label) => {
    const up = await stack.upload({ token: A.token, filename: `${label}.txt`, content: `${label} ${crypto.randomUUID()}\n` });
    assert.equal(up.status, 202, up.text);
    const [run] = await stack.sql("SELECT run_id::text, tenant_id::text, config->>'upload_uri' AS uri FROM ingestion_runs"
      + ' WHERE run_id = $1', [up.json.run_id]);
    return { ...run, dir: path.dirname(run.uri.replace(/^file:\/\//, '')) };
  };
  const setStatus = (run, status, finishedAgo = '0 seconds') => stack.sql(
    `UPDATE ingestion_runs SET status = $2, finished_at = now() - $3::interval, updated_at = now() - $3::interval
      WHERE run_id = $1`, [run.run_id, status, finishedAgo]);

  const failedOld = await upload('failed-old');
  const failedNew = await upload('failed-new');
  const succeeded = await upload('succeeded');
  const skipped = await upload('skipped');
  const queued = await upload('queued');
  await setStatus(failedOld, 'failed', '8 days');
  await setStatus(failedNew, 'failed', '1 day');
  await setStatus(succeeded, 'succeeded');
  await setStatus(skipped, 'skipped');
  // a folder no run row names (a crash between the write and the commit)
  const orphan = path.join(stack.uploadDir, failedOld.tenant_id, crypto.randomUUID());
  fs.mkdirSync(orphan);
  fs.writeFileSync(path.join(orphan, 'upload.txt'), 'orphan');
  // a failed run whose upload a queued run (a retry) still names: kept
  const retried = await upload('retried');
  await setStatus(retried, 'failed', '30 days');
  const retry = crypto.randomUUID();
  await stack.sql(`INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status, content_hash, config)
    SELECT $2, tenant_id, doc_id, 'queued', md5(random()::text), jsonb_build_object('upload_uri', $3::text)
    FROM ingestion_runs WHERE run_id = $1`, [retried.run_id, retry, retried.uri]);
  await new Promise((r) => setTimeout(r, 1100));   // UPLOAD_ORPHAN_GRACE=1s: the folders are idle

  const s = await guard('now');   // FAILED_UPLOAD_RETENTION 7d (default), UPLOAD_RETENTION keep
  assert.equal(s.orphans_removed, 1, JSON.stringify(s));
  assert.equal(s.uploads_removed, 2, JSON.stringify(s));   // failed 8 days ago, skipped
  assert.equal(fs.existsSync(orphan), false);
  assert.equal(fs.existsSync(failedOld.dir), false, 'failed past retention: removed');
  assert.equal(fs.existsSync(skipped.dir), false, 'skipped: removed');
  for (const kept of [failedNew, succeeded, queued, retried]) assert.ok(fs.existsSync(kept.uri.slice(7)), kept.uri);

  // UPLOAD_RETENTION=delete: a succeeded run's upload the worker did not remove goes too
  const s2 = await guard('now', { UPLOAD_RETENTION: 'delete' });
  assert.equal(s2.uploads_removed, 1, JSON.stringify(s2));
  assert.equal(fs.existsSync(succeeded.dir), false);
  // a shorter retention reaches the 1-day-old failed run; the retried one stays while its retry is queued
  const s3 = await guard('now', { FAILED_UPLOAD_RETENTION: '12h' });
  assert.equal(s3.uploads_removed, 1, JSON.stringify(s3));
  assert.equal(fs.existsSync(failedNew.dir), false);
  assert.ok(fs.existsSync(retried.uri.slice(7)), 'in use by a queued retry');
  assert.ok(fs.existsSync(queued.uri.slice(7)));
  const m = await stack.api('GET', '/metrics');
  assert.equal(metric(m.text, 'ingest_upload_store_run_folders'), files().filter((f) => /^[0-9a-f-]{36}\/[0-9a-f-]{36}\/$/.test(f)).length);
});
