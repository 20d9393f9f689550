// S3 sources and sync jobs (issue 17, docs/sources.md) against the emulator's S3
// (fauxqs serves S3 on the SQS port), through the real core-api and ingest-worker:
// a 50-object bucket synced, re-synced (nothing enqueued), then changed, pruned and
// grown; two core-api instances triggering one source at once; the worker's advisory
// lock; tenant isolation and the admin-only writes; bad input on the API, on the sync
// run and on the object's run. Everything on loopback, every wait bounded.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import path from 'node:path';
import { startStack, waitFor } from '../lib/stack.mjs';
import { freePort } from '../lib/pg-cluster.mjs';
import { startS3AuthFront } from '../lib/s3-auth-front.mjs';

const MAX_UPLOAD = 2 * 1024 * 1024;   // the workers' MAX_UPLOAD_BYTES here: a 3 MiB object is too large
const TERMINAL_SYNC = new Set(['succeeded', 'failed']);

let stack;
let A;
let B;
let S3;

before(async () => {
  stack = await startStack({ worker: true, env: { MAX_UPLOAD_BYTES: String(MAX_UPLOAD) },
    workerEnv: { WORKER_CONCURRENCY: '2', GOOD_ACCESS_KEY_ID: 'test', GOOD_SECRET_ACCESS_KEY: 'test',
      WRONG_ACCESS_KEY_ID: 'AKIAWRONGKEY', WRONG_SECRET_ACCESS_KEY: 'wrong', BADSECRET_ACCESS_KEY_ID: 'test',
      BADSECRET_SECRET_ACCESS_KEY: 'not-the-secret', EMPTY_ACCESS_KEY_ID: '',
      EMPTY_SECRET_ACCESS_KEY: '' } });
  S3 = stack.sqs.endpoint;
  A = await stack.tenant('src-a');
  B = await stack.tenant('src-b');
});

after(async () => {
  await stack?.stop();
});

// ---- the emulator's S3, as any S3 client would use it (path style) ----
const keyPath = (key) => key.split('/').map(encodeURIComponent).join('/');
async function s3(method, p, body) {
  const r = await fetch(`${S3}${p}`, { method, body });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`s3 ${method} ${p}: ${r.status} ${text.slice(0, 200)}`);
  return text;
}
const mkBucket = (b) => s3('PUT', `/${b}`);
const put = (b, key, body) => s3('PUT', `/${b}/${keyPath(key)}`, body);
const del = (b, key) => s3('DELETE', `/${b}/${keyPath(key)}`);

const fixture = (name) => fs.readFileSync(path.join(stack.fixtures, name));

async function createSource(who, body) {
  const r = await stack.api('POST', '/v1/sources', { token: who.token, body: { endpoint: S3, ...body } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function sync(who, id) {
  const r = await stack.api('POST', `/v1/sources/${id}/sync`, { token: who.token });
  assert.equal(r.status, 202, r.text);
  return r.json.sync_id;
}

// Wait until the sync is terminal; returns it as GET /v1/sources/:id shows it.
async function waitSync(who, id, syncId, timeoutMs = 60000) {
  return waitFor(async () => {
    const r = await stack.api('GET', `/v1/sources/${id}`, { token: who.token });
    const s = r.json?.syncs?.find((x) => x.sync_id === syncId);
    return s && TERMINAL_SYNC.has(s.status) ? s : null;
  }, { timeoutMs, what: `sync ${syncId}` });
}

async function runsOf(tenantId) {
  return stack.sql(`SELECT r.run_id, r.status, r.error, d.source_uri, d.source_type, d.doc_id
    FROM ingestion_runs r JOIN documents d USING (doc_id) WHERE r.tenant_id = $1`, [tenantId]);
}

async function waitRunsTerminal(tenantId, n, timeoutMs = 120000) {
  return waitFor(async () => {
    const rows = await runsOf(tenantId);
    return rows.length === n && rows.every((x) => ['succeeded', 'failed', 'skipped'].includes(x.status)) ? rows : null;
  }, { timeoutMs, intervalMs: 250, what: `${n} terminal runs` });
}

const search = (who, query) => stack.api('POST', '/v1/search', { token: who.token, body: { query, top_k: 10 } });

describe('a 50-object bucket', () => {
  const BUCKET = 'team-docs';
  const keys = [];
  let src;

  test('the first sync ingests every supported object; unsupported ones fail unsupported_type', async () => {
    await mkBucket(BUCKET);
    for (let i = 0; i < 30; i++) keys.push([`docs/notes/note ${i}.txt`, `Note ${i} is about the marker kw${i}q and nothing else.\n`]);
    for (let i = 30; i < 35; i++) keys.push([`docs/md/page-${i}.md`, `# Page ${i}\n\nThe marker kw${i}q lives here.\n`]);
    for (let i = 35; i < 40; i++) keys.push([`docs/web/p${i}.html`, `<html><body><p>The marker kw${i}q in HTML.</p></body></html>`]);
    for (let i = 40; i < 43; i++) keys.push([`docs/pdf/s${i}.pdf`, fixture('sample.pdf')]);
    for (let i = 43; i < 45; i++) keys.push([`docs/word/s${i}.docx`, fixture('sample.docx')]);
    for (let i = 45; i < 50; i++) keys.push([`docs/bin/blob${i}.bin`, crypto.randomBytes(4096)]);
    for (const [k, v] of keys) await put(BUCKET, k, v);
    await put(BUCKET, 'other/outside.txt', 'outside the prefix');
    src = await createSource(A, { name: 'team', bucket: BUCKET, prefix: 'docs/', schedule: 'manual' });
    assert.equal(src.type, 's3');
    assert.equal(src.schedule, 'manual');

    const s1 = await waitSync(A, src.source_id, await sync(A, src.source_id));
    assert.equal(s1.status, 'succeeded', JSON.stringify(s1));
    assert.deepEqual(s1.stats, { listed: 50, new: 50, changed: 0, removed: 0, unchanged: 0, failed: 0, ignored: 0 });
    const runs = await waitRunsTerminal(A.user.tenant_id, 50);
    const failed = runs.filter((r) => r.status === 'failed');
    assert.equal(failed.length, 5, JSON.stringify(failed));
    assert.ok(failed.every((r) => r.error.startsWith('unsupported_type') && r.source_uri.endsWith('.bin')), JSON.stringify(failed));
    assert.equal(runs.filter((r) => r.status === 'succeeded').length, 45);
    assert.ok(runs.every((r) => r.source_type === 's3' && r.source_uri.startsWith(`s3://${BUCKET}/docs/`)));
    assert.ok(runs.some((r) => r.source_uri === `s3://${BUCKET}/docs/notes/note 7.txt`), 'the key is the identity, unencoded');
    const hit = await search(A, 'kw7q');
    assert.equal(hit.json.status, 'answered');
    assert.match(hit.json.results[0].snippet, /kw7q/);
  });

  test('a second sync with nothing changed enqueues nothing', async () => {
    const before2 = (await runsOf(A.user.tenant_id)).length;
    const s2 = await waitSync(A, src.source_id, await sync(A, src.source_id));
    assert.equal(s2.status, 'succeeded');
    assert.deepEqual(s2.stats, { listed: 50, new: 0, changed: 0, removed: 0, unchanged: 50, failed: 0, ignored: 0 });
    assert.equal((await runsOf(A.user.tenant_id)).length, before2);
  });

  test('3 changed, 2 deleted, 1 added: 3 new versions (newest active), 2 documents deactivated, 1 added', async () => {
    const changed = [0, 1, 2].map((i) => keys[i][0]);
    const removed = [3, 4].map((i) => keys[i][0]);
    for (const [n, k] of changed.entries()) await put(BUCKET, k, `Rewritten note ${n} now says kwnew${n}z instead.\n`);
    for (const k of removed) await del(BUCKET, k);
    await put(BUCKET, 'docs/md/added.md', '# Added\n\nA brand new page with kwadded9q.\n');
    const before3 = (await runsOf(A.user.tenant_id)).length;

    const s3r = await waitSync(A, src.source_id, await sync(A, src.source_id));
    assert.equal(s3r.status, 'succeeded');
    assert.deepEqual(s3r.stats, { listed: 49, new: 1, changed: 3, removed: 2, unchanged: 45, failed: 0, ignored: 0 });
    const runs = await waitRunsTerminal(A.user.tenant_id, before3 + 4);
    assert.ok(runs.every((r) => r.status !== 'queued' && r.status !== 'running'));

    for (const k of changed) {
      const doc = runs.find((r) => r.source_uri === `s3://${BUCKET}/${k}`).doc_id;
      const d = await stack.api('GET', `/v1/documents/${doc}`, { token: A.token });
      assert.equal(d.status, 200);
      assert.equal(d.json.versions.length, 2, `${k}: a new version of the same document`);
      const active = d.json.versions.filter((v) => v.is_active);
      assert.equal(active.length, 1);
      const newest = await stack.sql(`SELECT v.version_id FROM document_versions v WHERE v.doc_id = $1
        ORDER BY v.uploaded_at DESC LIMIT 1`, [doc]);
      assert.equal(active[0].version_id, newest[0].version_id, 'the newest version is the active one');
    }
    assert.equal((await search(A, 'kwnew1z')).json.status, 'answered');
    for (const [n, k] of removed.entries()) {
      const doc = runs.find((r) => r.source_uri === `s3://${BUCKET}/${k}`).doc_id;
      const active = await stack.sql('SELECT count(*)::int AS n FROM document_versions WHERE doc_id = $1 AND is_active', [doc]);
      assert.equal(active[0].n, 0, `${k}: deactivated`);
      const r = await search(A, `kw${3 + n}q`);
      assert.ok(!r.json.results.some((c) => c.doc_id === doc), `${k}: no longer returned by search`);
    }
    const added = await search(A, 'kwadded9q');
    assert.equal(added.json.status, 'answered');
    assert.match(added.json.results[0].snippet, /kwadded9q/);

    const got = await stack.api('GET', `/v1/sources/${src.source_id}`, { token: A.token });
    assert.equal(got.json.last_sync.sync_id, s3r.sync_id);
    assert.equal(got.json.documents, 49);
  });

  test("the documents list filters by source: its documents only; another tenant's view is empty; a bad id is 400", async () => {
    const other = await stack.ingest({ token: A.token, filename: 'not-synced.txt', content: 'uploaded by hand, kwhand1q\n' });
    assert.equal(other.run.status, 'succeeded');
    const under = await stack.sql(`SELECT d.doc_id, bool_or(v.is_active) AS active FROM documents d
      LEFT JOIN document_versions v ON v.doc_id = d.doc_id WHERE d.tenant_id = $1 AND d.source_uri LIKE $2
      GROUP BY d.doc_id`, [A.user.tenant_id, `s3://${BUCKET}/docs/%`]);
    const list = async (q, who = A) => stack.api('GET', `/v1/documents?limit=100&source_id=${q}`, { token: who.token });

    const active = await list(src.source_id);
    assert.equal(active.status, 200, active.text);
    const want = under.filter((d) => d.active).map((d) => d.doc_id).sort();
    assert.equal(want.length, 44, '45 ingested, 2 removed, 1 added');
    assert.deepEqual(active.json.documents.map((d) => d.doc_id).sort(), want);
    assert.equal(active.json.total, 44);
    assert.ok(active.json.documents.every((d) => d.source_type === 's3' && d.source_uri.startsWith(`s3://${BUCKET}/docs/`)));
    const all = await list(`${src.source_id}&include_inactive=true`);
    assert.deepEqual(all.json.documents.map((d) => d.doc_id).sort(), under.map((d) => d.doc_id).sort(),
      'with include_inactive: the removed and the failed ones too');
    const unfiltered = await stack.api('GET', '/v1/documents?limit=100', { token: A.token });
    assert.ok(unfiltered.json.documents.some((d) => d.doc_id === other.upload.json.doc_id),
      'the hand upload is listed without the filter');

    const fromB = await list(src.source_id, B);
    assert.equal(fromB.status, 200);
    assert.equal(fromB.json.total, 0, "tenant B sees none of A's documents");
    for (const bad of ['nope', '1234', "x'--"]) {
      const r = await list(encodeURIComponent(bad));
      assert.equal(r.status, 400, `${bad}: ${r.text}`);
      assert.match(r.json.error.message, /source_id must be a UUID/);
    }
  });
});

// A second core-api on its own port, the same database and queue.
async function secondApi() {
  const port = await freePort();
  const env = { ...stack.env, HTTP_ADDR: `127.0.0.1:${port}` };
  const log = fs.openSync(path.join(stack.dir, 'core-api-2.log'), 'a');
  const child = spawn(stack.bin('core-api'), ['serve'], { env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => null))?.status === 200,
    { timeoutMs: 20000, what: 'second core-api' });
  return { url, stop: () => new Promise((r) => { child.on('exit', r); child.kill('SIGTERM'); }) };
}

describe('one sync per source', () => {
  test('two triggers at once from two core-api instances: one 202, the other 409 naming it', async () => {
    await mkBucket('race');
    await put('race', 'a.txt', 'race file');
    const src = await createSource(A, { name: 'race', bucket: 'race' });
    const api2 = await secondApi();
    // No worker while the triggers race: the first sync stays queued, so the second one
    // meets it (a worker would finish a one-object sync before the second request lands).
    await stack.killWorker(stack.workers.at(-1), 'SIGKILL');
    try {
      const post = (base) => fetch(`${base}/v1/sources/${src.source_id}/sync`,
        { method: 'POST', headers: { authorization: `Bearer ${A.token}` } }).then(async (r) => ({ status: r.status, json: await r.json() }));
      const rs = await Promise.all([post(stack.baseUrl), post(api2.url)]);
      const ok = rs.filter((r) => r.status === 202);
      const busy = rs.filter((r) => r.status === 409);
      assert.equal(ok.length, 1, JSON.stringify(rs));
      assert.equal(busy.length, 1, JSON.stringify(rs));
      assert.equal(busy[0].json.sync_id, ok[0].json.sync_id, 'the 409 names the sync that runs');
      await stack.startWorker();
      const s = await waitSync(A, src.source_id, ok[0].json.sync_id);
      assert.equal(s.status, 'succeeded');
      const all = await stack.sql('SELECT count(*)::int AS n FROM source_syncs WHERE source_id = $1', [src.source_id]);
      assert.equal(all[0].n, 1, 'exactly one sync ran');
    } finally {
      await api2.stop();
    }
  });

  test('a sync whose source is locked by another session is coalesced, not run twice', async () => {
    await mkBucket('locked');
    await put('locked', 'a.txt', 'locked file');
    const src = await createSource(A, { name: 'locked', bucket: 'locked' });
    const c = new pg.Client({ connectionString: stack.superUrl });
    await c.connect();
    try {
      await c.query("SELECT pg_advisory_lock(hashtextextended('source_sync:' || $1, 0))", [src.source_id]);
      const s = await waitSync(A, src.source_id, await sync(A, src.source_id));
      assert.equal(s.status, 'failed');
      assert.match(s.error, /^sync_busy/);
      const objs = await stack.sql('SELECT count(*)::int AS n FROM source_objects WHERE source_id = $1', [src.source_id]);
      assert.equal(objs[0].n, 0, 'nothing was listed while the lock was held');
    } finally {
      await c.end();
    }
    const again = await waitSync(A, src.source_id, await sync(A, src.source_id));
    assert.equal(again.status, 'succeeded');
    assert.equal(again.stats.new, 1);
  });
});

describe('isolation and roles', () => {
  let src;
  let user;

  before(async () => {
    src = await createSource(A, { name: 'private', bucket: 'private-bucket', prefix: 'x/' });
    const r = await stack.api('POST', '/v1/users', { token: A.token,
      body: { email: 'reader@src-a.test', password: 'correct horse battery', role: 'user' } });
    assert.equal(r.status, 201, r.text);
    user = await stack.login({ tenant: 'src-a', email: 'reader@src-a.test', password: 'correct horse battery' });
  });

  test("tenant B sees none of tenant A's sources: 404 on every path", async () => {
    const list = await stack.api('GET', '/v1/sources', { token: B.token });
    assert.equal(list.status, 200);
    assert.equal(list.json.sources.length, 0);
    for (const [m, p, body] of [['GET', ''], ['PATCH', '', { name: 'stolen' }], ['DELETE', ''], ['POST', '/sync']]) {
      const r = await stack.api(m, `/v1/sources/${src.source_id}${p}`, { token: B.token, body });
      assert.equal(r.status, 404, `${m} ${p}: ${r.text}`);
    }
    const still = await stack.api('GET', `/v1/sources/${src.source_id}`, { token: A.token });
    assert.equal(still.json.name, 'private');
  });

  test('a user lists and reads sources but gets 403 on create, update, delete and sync', async () => {
    const list = await stack.api('GET', '/v1/sources', { token: user.token });
    assert.equal(list.status, 200);
    assert.ok(list.json.sources.some((s) => s.source_id === src.source_id));
    assert.equal((await stack.api('GET', `/v1/sources/${src.source_id}`, { token: user.token })).status, 200);
    const tries = [['POST', '/v1/sources', { name: 'n', bucket: 'abc' }], ['PATCH', `/v1/sources/${src.source_id}`, { name: 'n' }],
      ['DELETE', `/v1/sources/${src.source_id}`], ['POST', `/v1/sources/${src.source_id}/sync`]];
    for (const [m, p, body] of tries) {
      const r = await stack.api(m, p, { token: user.token, body });
      assert.equal(r.status, 403, `${m} ${p}: ${r.text}`);
    }
  });

  test('no read returns a secret; a key pair in the body is refused', async () => {
    const r = await stack.api('POST', '/v1/sources', { token: A.token,
      body: { name: 'keys', bucket: 'abc', access_key_id: 'AKIA', secret_access_key: 'sssh' } });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /credentials_ref/);
    const s = await createSource(A, { name: 'withref', bucket: 'abc', credentials_ref: 'env:GOOD' });
    const got = await stack.api('GET', `/v1/sources/${s.source_id}`, { token: A.token });
    assert.equal(got.json.credentials_ref, 'env:GOOD');
    assert.doesNotMatch(got.text, /secret_access_key|"test"/);
  });

  test('update and delete', async () => {
    const s = await createSource(A, { name: 'temp', bucket: 'abc', include: ['*.pdf'] });
    const u = await stack.api('PATCH', `/v1/sources/${s.source_id}`, { token: A.token,
      body: { prefix: 'new/', schedule: 'every 15m', exclude: ['*.tmp'] } });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.json.prefix, 'new/');
    assert.equal(u.json.schedule_seconds, 900);
    assert.deepEqual(u.json.include, ['*.pdf']);
    assert.deepEqual(u.json.exclude, ['*.tmp']);
    assert.equal((await stack.api('POST', '/v1/sources', { token: A.token, body: { name: 'temp', bucket: 'abc' } })).status, 409);
    assert.equal((await stack.api('DELETE', `/v1/sources/${s.source_id}`, { token: A.token })).status, 204);
    assert.equal((await stack.api('GET', `/v1/sources/${s.source_id}`, { token: A.token })).status, 404);
    assert.equal((await stack.api('DELETE', `/v1/sources/${s.source_id}`, { token: A.token })).status, 404);
  });
});

describe('bad input', () => {
  test('invalid fields answer 400 with a clear message, nothing stored', async () => {
    const cases = [
      [{ bucket: 'abc' }, /name and bucket/],
      [{ name: 'x' }, /name and bucket/],
      [{ name: 'x', bucket: 'No_Such' }, /bucket/],
      [{ name: 'x', bucket: 'ab' }, /bucket/],
      [{ name: 'x', bucket: 'abc', type: 'gcs' }, /type/],
      [{ name: 'x', bucket: 'abc', endpoint: 'ftp://h' }, /endpoint/],
      [{ name: 'x', bucket: 'abc', credentials_ref: 'AKIAXXXX' }, /credentials_ref/],
      [{ name: 'x', bucket: 'abc', schedule: 'sometimes' }, /schedule/],
      [{ name: 'x', bucket: 'abc', schedule: 'every 5s' }, /schedule/],
      [{ name: 'x', bucket: 'abc', include: '*.pdf' }, /include/],
      [{ name: 'x', bucket: 'abc', include: [3] }, /glob/],
      [{ name: 'x', bucket: 'abc', region: 'US EAST' }, /region/],
      [{ name: 'x', bucket: 7 }, /strings/],
    ];
    for (const [body, re] of cases) {
      const r = await stack.api('POST', '/v1/sources', { token: A.token, body: { endpoint: S3, ...body } });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.match(r.json.error.message, re, JSON.stringify(body));
    }
    assert.equal((await stack.api('POST', '/v1/sources', { token: A.token, raw: '{', headers: { 'content-type': 'application/json' } })).status, 400);
    assert.equal((await stack.api('POST', '/v1/sources/not-a-uuid/sync', { token: A.token })).status, 404);
    const n = await stack.sql("SELECT count(*)::int AS n FROM sources WHERE name = 'x'");
    assert.equal(n[0].n, 0);
  });

  test('a missing bucket, missing credentials and a refused endpoint fail the sync run clearly', async () => {
    const closed = await freePort();   // nothing listens there
    const cases = [
      [{ name: 'nobucket', bucket: 'does-not-exist' }, /^s3_error: NoSuchBucket/],
      [{ name: 'nocreds', bucket: 'team-docs', credentials_ref: 'env:MISSING' }, /MISSING_ACCESS_KEY_ID/],
      [{ name: 'refused', bucket: 'team-docs', endpoint: `http://127.0.0.1:${closed}` }, /^s3_error: transport/],
    ];
    for (const [body, re] of cases) {
      const src = await createSource(A, body);
      const s = await waitSync(A, src.source_id, await sync(A, src.source_id));
      assert.equal(s.status, 'failed', body.name);
      assert.match(s.error, re, body.name);
      assert.equal(s.stats.removed, 0);
    }
    // A failed sync leaves nothing queued: the next trigger is accepted at once.
    const src = await stack.api('GET', '/v1/sources', { token: A.token });
    const nob = src.json.sources.find((x) => x.name === 'nobucket');
    assert.equal((await stack.api('POST', `/v1/sources/${nob.source_id}/sync`, { token: A.token })).status, 202);
  });

  test('a prefix with 0 objects syncs to zero counts; credentials by reference work', async () => {
    const src = await createSource(A, { name: 'empty', bucket: 'team-docs', prefix: 'nothing-here/', credentials_ref: 'env:GOOD' });
    const s = await waitSync(A, src.source_id, await sync(A, src.source_id));
    assert.equal(s.status, 'succeeded');
    assert.equal(s.stats.listed, 0);
    assert.equal(s.stats.new, 0);
  });

  test('an object over MAX_UPLOAD_BYTES fails its run too_large; a unicode key with spaces ingests', async () => {
    await mkBucket('edge');
    await put('edge', 'in/big file.txt', Buffer.alloc(MAX_UPLOAD + 1024 * 1024, 'a'));
    const key = 'in/Ünïcødé répört 東京 ✓.md';
    await put('edge', key, '# Rapport\n\nThe unicode marker kwuni5q.\n');
    const src = await createSource(A, { name: 'edge', bucket: 'edge', prefix: 'in/' });
    const s = await waitSync(A, src.source_id, await sync(A, src.source_id));
    assert.equal(s.status, 'succeeded');
    assert.equal(s.stats.new, 2);
    const runs = await waitFor(async () => {
      const rows = await stack.sql(`SELECT r.status, r.error, d.source_uri, d.title FROM ingestion_runs r JOIN documents d USING (doc_id)
        WHERE d.source_uri LIKE 's3://edge/%'`);
      return rows.length === 2 && rows.every((x) => x.status === 'succeeded' || x.status === 'failed') ? rows : null;
    }, { timeoutMs: 60000, what: 'edge runs' });
    const big = runs.find((r) => r.source_uri === 's3://edge/in/big file.txt');
    assert.equal(big.status, 'failed');
    assert.match(big.error, /^too_large/);
    const uni = runs.find((r) => r.source_uri === `s3://edge/${key}`);
    assert.equal(uni.status, 'succeeded', JSON.stringify(uni));
    assert.equal(uni.title, 'Ünïcødé répört 東京 ✓.md');
    assert.equal((await search(A, 'kwuni5q')).json.status, 'answered');
    const left = fs.readdirSync(stack.artifactsDir).filter((f) => f.startsWith('s3-'));
    assert.deepEqual(left, [], 'downloads are removed after their run');
  });

  // The emulator checks no signature: a stand-in front verifies SigV4 and answers S3's 403s
  // (tests/lib/s3-auth-front.mjs); the worker's good signatures pass it.
  test('refused credentials (403: unknown key, wrong secret) and an empty credentials variable fail the sync clearly; a policy-denied object fails its run once', async () => {
    const front = await startS3AuthFront({ target: S3, keys: { test: 'test' }, denyGet: /^\/authz\/in\/private\// });
    try {
      await mkBucket('authz');
      await put('authz', 'in/open.md', '# Open\n\nThe open marker kwopen3z.\n');
      await put('authz', 'in/private/closed.md', '# Closed\n\nNot for this worker.\n');
      const at = { bucket: 'authz', prefix: 'in/', endpoint: front.endpoint };
      for (const [body, re] of [
        [{ name: 'wrongkey', ...at, credentials_ref: 'env:WRONG' }, /^s3_error: InvalidAccessKeyId: The AWS Access Key Id/],
        [{ name: 'wrongsecret', ...at, credentials_ref: 'env:BADSECRET' }, /^s3_error: SignatureDoesNotMatch: The request signature/],
        [{ name: 'emptykey', ...at, credentials_ref: 'env:EMPTY' }, /^s3_error: credentials env:EMPTY: EMPTY_ACCESS_KEY_ID or EMPTY_SECRET_ACCESS_KEY is not set/],
      ]) {
        const src = await createSource(A, body);
        const sy = await waitSync(A, src.source_id, await sync(A, src.source_id));
        assert.equal(sy.status, 'failed', body.name);
        assert.match(sy.error, re, body.name);
        assert.deepEqual([sy.stats.listed ?? 0, sy.stats.new ?? 0, sy.stats.removed ?? 0], [0, 0, 0], body.name);
      }
      assert.equal(front.requests.refused, 2, 'the wrong key and secret reached the front; the empty one never left the worker');
      // The worker's own key passes; the object a bucket policy denies fails its run at once (a 403 is not retried).
      const src = await createSource(A, { name: 'authz-ok', ...at });
      const sy = await waitSync(A, src.source_id, await sync(A, src.source_id));
      assert.equal(sy.status, 'succeeded', sy.error);
      assert.equal(sy.stats.new, 2);
      const runs = await waitFor(async () => {
        const rows = await stack.sql(`SELECT r.status, r.error, r.attempt, d.source_uri FROM ingestion_runs r JOIN documents d
          USING (doc_id) WHERE d.source_uri LIKE 's3://authz/%'`);
        return rows.length === 2 && rows.every((x) => x.status === 'succeeded' || x.status === 'failed') ? rows : null;
      }, { timeoutMs: 60000, what: 'authz runs' });
      const closed = runs.find((r) => r.source_uri === 's3://authz/in/private/closed.md');
      assert.equal(closed.status, 'failed');
      assert.match(closed.error, /^upload_missing: s3: AccessDenied: Access Denied/);
      assert.equal(closed.attempt, 1, 'not retried');
      assert.equal(runs.find((r) => r.source_uri === 's3://authz/in/open.md').status, 'succeeded');
      assert.equal((await search(A, 'kwopen3z')).json.status, 'answered');
    } finally {
      await front.stop();
    }
  });
});

test('no worker or program wrote a sanitizer report', () => {
  assert.deepEqual(stack.sanitizerReports(), []);
});

describe('content hash', () => {
  test('an object rewritten with the same bytes is seen as changed, then skipped by its content hash', async () => {
    await mkBucket('same');
    await put('same', 'a.md', '# Same\n\nThe same bytes kwsame4q.\n');
    const src = await createSource(A, { name: 'same', bucket: 'same' });
    const s1 = await waitSync(A, src.source_id, await sync(A, src.source_id));
    assert.equal(s1.stats.new, 1);
    const runOf = async () => stack.sql(`SELECT r.status, r.stats, d.doc_id FROM ingestion_runs r JOIN documents d USING (doc_id)
      WHERE d.source_uri = 's3://same/a.md' ORDER BY r.created_at`);
    await waitFor(async () => (await runOf())[0]?.status === 'succeeded', { what: 'first run' });
    await new Promise((r) => setTimeout(r, 1100));   // a new LastModified (second resolution on AWS)
    await put('same', 'a.md', '# Same\n\nThe same bytes kwsame4q.\n');
    const s2 = await waitSync(A, src.source_id, await sync(A, src.source_id));
    assert.equal(s2.stats.changed, 1, JSON.stringify(s2.stats));
    const runs = await waitFor(async () => {
      const r = await runOf();
      return r.length === 2 && r[1].status !== 'queued' && r[1].status !== 'running' ? r : null;
    }, { what: 'second run' });
    assert.equal(runs[1].status, 'skipped');
    assert.equal(runs[1].stats.reason, 'duplicate content');
    const versions = await stack.sql('SELECT count(*)::int AS n FROM document_versions WHERE doc_id = $1', [runs[0].doc_id]);
    assert.equal(versions[0].n, 1, 'no second version of the same bytes');
  });
});

describe('schedule', () => {
  test("the crash guard's scan starts a due sync once; a manual source is never scheduled", async () => {
    await mkBucket('sched');
    await put('sched', 'a.txt', 'scheduled file kwsched1q');
    const due = await createSource(A, { name: 'sched', bucket: 'sched', schedule: 'every 1m' });
    const manual = await createSource(A, { name: 'sched-manual', bucket: 'sched' });
    const count = async (id) => (await stack.sql('SELECT count(*)::int AS n FROM source_syncs WHERE source_id = $1', [id]))[0].n;
    let r = await stack.runApi(['crash-guard', '--now', 'now']);
    assert.equal(r.code, 0, r.stderr);
    const [row] = await stack.sql("SELECT sync_id::text, trigger FROM source_syncs WHERE source_id = $1", [due.source_id]);
    assert.equal(row.trigger, 'schedule');
    const s = await waitSync(A, due.source_id, row.sync_id);
    assert.equal(s.status, 'succeeded');
    assert.equal(s.stats.new, 1);
    // Not due again within its period, and the manual source never.
    r = await stack.runApi(['crash-guard', '--now', 'now']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await count(due.source_id), 1);
    assert.equal(await count(manual.source_id), 0);
  });

  test('a sync left queued past QUEUED_TTL (its message lost) does not block the next trigger', async () => {
    const src = await createSource(A, { name: 'lost', bucket: 'sched' });
    const [lost] = await stack.sql(`INSERT INTO source_syncs (tenant_id, source_id, trigger, created_at)
      VALUES ($1, $2, 'manual', now() - interval '1 day') RETURNING sync_id::text`, [A.user.tenant_id, src.source_id]);
    const id = await sync(A, src.source_id);
    assert.notEqual(id, lost.sync_id);
    const [old] = await stack.sql('SELECT status, error FROM source_syncs WHERE sync_id = $1', [lost.sync_id]);
    assert.equal(old.status, 'failed');
    assert.match(old.error, /^stale_queued/);
    assert.equal((await waitSync(A, src.source_id, id)).status, 'succeeded');
  });
});
