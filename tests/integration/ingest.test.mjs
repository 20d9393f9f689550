// Upload orchestration and run reads (issue 7, spec 4, 5, 9): streaming multipart
// upload to the store while hashing, the type sniffed before anything is recorded, dedup
// (skipped / already in progress), document get-or-create under concurrency, doc_id
// versions confined to the tenant, hostile file names, size limit, truncated bodies,
// the exact queue message, queue outage, Idempotency-Key, run list and detail reads,
// and a 1 GiB upload that must not grow core-api's memory. Store-neutral: stored uploads
// are checked through stack.uploads, so STACK_UPLOAD_STORE=s3 runs the suite on the S3
// upload store (issue 17).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startStack, waitFor } from '../lib/stack.mjs';
import crypto from 'node:crypto';
import http from 'node:http';

const SPEC_45_FIELDS = ['doc_id', 'job_type', 'received_at', 'run_id', 'source_uri', 'tenant_id',
  'title', 'upload_uri', 'user_id'];

// parts: [{ name, filename?, content: Buffer|string, type?, disposition?: Buffer|string (replaces the header) }]
function multipart(parts, { boundary = `----testBoundary${crypto.randomBytes(8).toString('hex')}`, close = true } = {}) {
  const chunks = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n`));
    if (p.disposition !== undefined) {
      chunks.push(Buffer.from('Content-Disposition: '), Buffer.from(p.disposition), Buffer.from('\r\n'));
    } else {
      let d = `Content-Disposition: form-data; name="${p.name}"`;
      if (p.filename !== undefined) d += `; filename="${p.filename}"`;
      chunks.push(Buffer.from(d + '\r\n'));
    }
    if (p.type) chunks.push(Buffer.from(`Content-Type: ${p.type}\r\n`));
    chunks.push(Buffer.from('\r\n'), Buffer.from(p.content ?? ''), Buffer.from('\r\n'));
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { boundary, body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

// One HTTP request with full control of the body: a Buffer, or an async iterable of
// Buffers (streamed with back-pressure, chunked unless content-length is given).
// destroyAfter: close the socket after writing that body (a client that goes away).
// Resolves with the response even when the server answers before the body is sent.
function rawRequest(baseUrl, { method = 'POST', path: p = '/v1/ingest', headers = {}, body, destroy = false } = {}) {
  return new Promise((resolve) => {
    const u = new URL(baseUrl);
    const req = http.request({ host: u.hostname, port: u.port, method, path: p, headers });
    let settled = false;
    const finish = (v) => { if (!settled) { settled = true; resolve(v); } };
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        finish({ status: res.statusCode, text, json, headers: res.headers });
      });
      res.on('error', (e) => finish({ status: res.statusCode, text, error: e }));
    });
    // A write error (EPIPE/ECONNRESET) may come just before the early answer: wait for it a little.
    req.on('error', (e) => setTimeout(() => finish({ status: 0, error: e }), 1000));
    (async () => {
      try {
        if (body === undefined || Buffer.isBuffer(body) || typeof body === 'string') {
          if (destroy) { req.write(body); await new Promise((r) => setTimeout(r, 200)); req.destroy(); finish({ status: 0, destroyed: true }); return; }
          req.end(body);
          return;
        }
        for await (const chunk of body) {
          if (settled || req.destroyed) return;
          if (!req.write(chunk)) {
            await new Promise((r) => {
              const done = () => { req.off('drain', done); req.off('close', done); r(); };
              req.on('drain', done);
              req.on('close', done);
            });
          }
        }
        if (destroy) { await new Promise((r) => setTimeout(r, 200)); req.destroy(); finish({ status: 0, destroyed: true }); return; }
        req.end();
      } catch { /* reported through 'error' */ }
    })();
  });
}

async function postMultipart(stack, { token, parts, mp, headers = {}, ...rest }) {
  const m = mp ?? multipart(parts);
  return rawRequest(stack.baseUrl, {
    headers: { authorization: `Bearer ${token}`, 'content-type': m.contentType, 'content-length': m.body.length, ...headers },
    body: m.body, ...rest,
  });
}

// Every upload of a tenant as "run/name", in whichever store the stack runs (tests/lib/upload-store.mjs).
const uploadsOf = (stack, tenantId) => stack.uploads.list(tenantId);

async function drainQueue(stack) {
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

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

// ---------------------------------------------------------------- suite

const MAX = 1 << 20; // MAX_UPLOAD_BYTES of this suite (1M); the 1 GiB test restarts core-api with 2G
let stack;
let A; // admin of tenant acme
let B; // admin of tenant beta

before(async () => {
  stack = await startStack({ worker: false, apiEnv: { MAX_UPLOAD_BYTES: '1M' } });
  A = await stack.tenant('acme');
  B = await stack.tenant('beta');
});
after(async () => { await stack?.stop(); });

const tid = (who) => who.user.tenant_id;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const uniq = (label) => `${label} ${crypto.randomUUID()}\n`;
const runsOf = (who) => stack.sql('SELECT * FROM ingestion_runs WHERE tenant_id = $1 ORDER BY created_at', [tid(who)]);
const runById = async (id) => (await stack.sql('SELECT * FROM ingestion_runs WHERE run_id = $1', [id]))[0];
const storedUri = (who, runId, name) => stack.uploads.uri(tid(who), runId, name);
const storedNames = (who, runId) => stack.uploads.names(tid(who), runId);

// Mark a run succeeded with an active version, as the worker would (content tables are the worker's).
async function finishAsWorker(runId, mime = 'text/plain') {
  const run = await runById(runId);
  await stack.sql(`UPDATE ingestion_runs SET status = 'succeeded', started_at = now(), finished_at = now(),
    updated_at = now() WHERE run_id = $1`, [runId]);
  await stack.sql('UPDATE document_versions SET is_active = false WHERE doc_id = $1 AND is_active', [run.doc_id]);
  const v = await stack.sql(`INSERT INTO document_versions (tenant_id, doc_id, run_id, content_hash, is_active,
    byte_size, mime, uploaded_at) VALUES ($1, $2, $3, $4, true, $5, $6, $7) RETURNING version_id`,
  [run.tenant_id, run.doc_id, runId, run.content_hash, run.config.size_bytes, mime, run.created_at]);
  return v[0].version_id;
}

function assertSpecMessage(body, expect) {
  const msg = JSON.parse(body);
  assert.deepEqual(Object.keys(msg).sort(), SPEC_45_FIELDS);
  for (const [k, v] of Object.entries(expect)) assert.equal(msg[k], v, k);
  assert.match(msg.received_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  return msg;
}

// ---------------------------------------------------------------- happy path

test('upload -> 202 -> exactly the spec 4.5 message -> the run reads back', async () => {
  await drainQueue(stack);
  const content = uniq('hello world');
  const up = await stack.upload({ token: A.token, filename: 'hello.txt', content, title: 'Greeting' });
  assert.equal(up.status, 202, up.text);
  assert.deepEqual(Object.keys(up.json).sort(), ['doc_id', 'run_id', 'status']);
  assert.equal(up.json.status, 'queued');
  const { run_id: runId, doc_id: docId } = up.json;
  const hash = sha256(Buffer.from(content));

  // stored at <tenant>/<run>/<name> in the upload store (UPLOAD_DIR or the bucket), with exactly these bytes
  assert.equal((await stack.uploads.read(tid(A), runId, 'hello.txt')).toString('utf8'), content);
  assert.deepEqual((await uploadsOf(stack, tid(A))).filter((f) => f.startsWith(runId)), [`${runId}/hello.txt`]);

  const msgs = await drainQueue(stack);
  assert.equal(msgs.length, 1);
  assertSpecMessage(msgs[0].Body, {
    job_type: 'upload_ingest', run_id: runId, tenant_id: tid(A), user_id: A.user.user_id, doc_id: docId,
    source_uri: `upload://sha256:${hash}`, upload_uri: storedUri(A, runId, 'hello.txt'), title: 'Greeting',
  });

  const r = await stack.api('GET', `/v1/ingestion-runs/${runId}`, { token: A.token });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.run_id, runId);
  assert.equal(r.json.doc_id, docId);
  assert.equal(r.json.status, 'queued');
  assert.equal(r.json.error, null);
  assert.equal(r.json.started_at, null);
  assert.equal(r.json.finished_at, null);
  assert.match(r.json.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(r.json.stats, {});
  // the API shows the upload's place in the store, never the server path (the message has it)
  assert.deepEqual(r.json.config, {
    created_by_user_id: A.user.user_id, upload_key: `${tid(A)}/${runId}/hello.txt`, title: 'Greeting',
    original_filename: 'hello.txt', content_type: 'text/plain', source_type: 'upload',
    size_bytes: Buffer.byteLength(content), sha256: hash, republished: 0,
  });

  const doc = await stack.sql('SELECT * FROM documents WHERE doc_id = $1', [docId]);
  assert.equal(doc[0].source_uri, `upload://sha256:${hash}`);
  assert.equal(doc[0].source_type, 'upload');
  assert.equal(doc[0].tenant_id, tid(A));
  assert.equal(doc[0].title, 'Greeting');

  // the one JSON log line of the upload, with the spec 9 fields
  const line = await waitFor(() => stack.apiLog().split('\n').find((l) => l.includes('"msg":"upload"') && l.includes(runId)),
    { what: 'upload log line' });
  const log = JSON.parse(line);
  for (const k of ['tenant_id', 'user_id', 'run_id', 'doc_id', 'filename', 'size_bytes', 'sha256', 'upload_uri',
    'queue_message_id', 'duration_ms']) assert.ok(log[k] !== undefined && log[k] !== null, k);
  assert.equal(log.queue_message_id, msgs[0].MessageId);
  assert.equal(stack.apiLog().split('\n').filter((l) => l.includes('"msg":"upload"') && l.includes(runId)).length, 1);
});

test('the type decides, not the name: markdown, html, pdf sniffed; title defaults to the file name', async () => {
  const cases = [
    ['notes.md', '# Title\n\nSome *markdown* ' + crypto.randomUUID(), 'text/markdown'],
    ['page.html', `<!doctype html><html><body>${crypto.randomUUID()}</body></html>`, 'text/html'],
    ['paper.pdf', fs.readFileSync(path.join(stack.fixtures, 'sample.pdf')), 'application/pdf'],
  ];
  for (const [filename, content, mime] of cases) {
    const up = await stack.upload({ token: A.token, filename, content });
    if (up.status === 200) continue; // the fixture may have been uploaded by an earlier run of this test
    assert.equal(up.status, 202, `${filename}: ${up.text}`);
    const run = await runById(up.json.run_id);
    assert.equal(run.config.content_type, mime, filename);
    assert.equal(run.config.title, filename);
  }
});

// ---------------------------------------------------------------- rejected uploads leave nothing

test('unsupported type -> 415, nothing stored, recorded or queued', async () => {
  await drainQueue(stack);
  const before = (await runsOf(A)).length;
  const gif = Buffer.concat([Buffer.from('GIF89a'), crypto.randomBytes(3000)]);   // images OCR'd are PNG, JPEG and TIFF; GIF is not
  const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(20000)]);
  for (const [filename, content] of [['picture.gif', gif], ['notes.txt', elf], ['blob.txt', crypto.randomBytes(50000)]]) {
    const up = await stack.upload({ token: A.token, filename, content });
    assert.equal(up.status, 415, `${filename}: ${up.text}`);
    assert.equal(up.json.error.code, 'unsupported_type');
  }
  assert.equal((await runsOf(A)).length, before);
  assert.deepEqual((await uploadsOf(stack, tid(A))).filter((f) => f.endsWith('/')), [], 'no empty upload folder');
  const ids = new Set((await runsOf(A)).map((r) => r.run_id));
  assert.ok((await uploadsOf(stack, tid(A))).every((f) => ids.has(f.split('/')[0])), 'every upload folder has a run');
  assert.equal((await drainQueue(stack)).length, 0);
});

test('over MAX_UPLOAD_BYTES -> 413 (by Content-Length at once, or while streaming), no file left', async () => {
  const before = (await runsOf(A)).length;
  const folders = await uploadsOf(stack, tid(A));
  // declared too large: refused before the body is read
  const big = multipart([{ name: 'file', filename: 'big.txt', content: Buffer.alloc(MAX + 4096, 'a') }]);
  const r1 = await postMultipart(stack, { token: A.token, mp: big });
  assert.equal(r1.status, 413, JSON.stringify(r1));
  assert.equal(r1.json.error.code, 'too_large');

  // chunked (no Content-Length): refused as soon as the file passes the limit
  const b = `----chunked${crypto.randomUUID()}`;
  let sent = 0;
  async function* body() {
    yield Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="stream.txt"\r\n\r\n`);
    const block = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 64; i++) { sent += block.length; yield block; } // 4 MiB, never ends properly
  }
  const r2 = await rawRequest(stack.baseUrl, {
    headers: { authorization: `Bearer ${A.token}`, 'content-type': `multipart/form-data; boundary=${b}`,
      'transfer-encoding': 'chunked' }, body: body(),
  });
  assert.equal(r2.status, 413, JSON.stringify(r2));
  assert.equal(r2.json.error.code, 'too_large');

  // exactly the limit is fine
  const exact = Buffer.alloc(MAX, 'e');
  exact.write(crypto.randomUUID());
  const ok = await stack.upload({ token: A.token, filename: 'exact.txt', content: exact });
  assert.equal(ok.status, 202, ok.text);
  assert.equal(await stack.uploads.size(tid(A), ok.json.run_id, 'exact.txt'), MAX);

  await waitFor(async () => (await uploadsOf(stack, tid(A))).length === folders.length + 1, { what: 'no partial upload left' });
  assert.equal((await runsOf(A)).length, before + 1);
});

test('truncated multipart (no closing boundary) -> 400, no file, no run; a client that goes away leaves nothing', async () => {
  const before = (await runsOf(A)).length;
  const folders = await uploadsOf(stack, tid(A));
  const cut = multipart([{ name: 'file', filename: 'cut.txt', content: uniq('truncated body') }], { close: false });
  const r = await postMultipart(stack, { token: A.token, mp: cut });
  assert.equal(r.status, 400, JSON.stringify(r));
  assert.equal(r.json.error.code, 'bad_request');

  // closing boundary without its "--"
  const half = multipart([{ name: 'file', filename: 'cut.txt', content: uniq('half closed') }], { close: false });
  const mp2 = { ...half, body: Buffer.concat([half.body, Buffer.from(`--${half.boundary}\r\n`)]) };
  const r2 = await postMultipart(stack, { token: A.token, mp: mp2 });
  assert.equal(r2.status, 400, JSON.stringify(r2));

  // Content-Length promises more than is sent, then the client disconnects
  const full = multipart([{ name: 'file', filename: 'gone.txt', content: Buffer.alloc(200000, 'g') }]);
  const r3 = await rawRequest(stack.baseUrl, {
    headers: { authorization: `Bearer ${A.token}`, 'content-type': full.contentType, 'content-length': full.body.length },
    body: full.body.subarray(0, 100000), destroy: true,
  });
  assert.equal(r3.destroyed, true);

  await waitFor(async () => JSON.stringify(await uploadsOf(stack, tid(A))) === JSON.stringify(folders),
    { what: 'no upload folder left behind', timeoutMs: 10000 });
  assert.equal((await runsOf(A)).length, before);
});

test('empty (0-byte) file -> 400 "empty file", nothing stored, recorded or queued', async () => {
  await drainQueue(stack);
  const before = (await runsOf(A)).length;
  const folders = await uploadsOf(stack, tid(A));
  for (const filename of ['empty.txt', 'empty.pdf', 'noname']) {
    const up = await stack.upload({ token: A.token, filename, content: Buffer.alloc(0) });
    assert.equal(up.status, 400, `${filename}: ${up.text}`);
    assert.equal(up.json.error.code, 'bad_request');
    assert.equal(up.json.error.message, 'empty file');
  }
  // also with a title and doc_id after the file part, and with an Idempotency-Key
  const mp = multipart([{ name: 'file', filename: 'e.md', content: '' }, { name: 'title', content: 'Empty' }]);
  const r = await postMultipart(stack, { token: A.token, mp, headers: { 'idempotency-key': crypto.randomUUID() } });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.message, 'empty file');
  assert.equal((await runsOf(A)).length, before, 'no run recorded');
  assert.deepEqual(await uploadsOf(stack, tid(A)), folders, 'no upload folder left behind');
  assert.equal((await drainQueue(stack)).length, 0, 'nothing queued');
});

test('no file part -> 400; not multipart -> 415; bad boundary -> 400', async () => {
  const before = (await runsOf(A)).length;
  const r = await postMultipart(stack, { token: A.token, parts: [{ name: 'title', content: 'only a title' }] });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.code, 'bad_request');
  assert.match(r.json.error.message, /file/);

  const j = await stack.api('POST', '/v1/ingest', { token: A.token, body: { file: 'x' } });
  assert.equal(j.status, 415, j.text);
  const nb = await rawRequest(stack.baseUrl, { headers: { authorization: `Bearer ${A.token}`,
    'content-type': 'multipart/form-data', 'content-length': 4 }, body: 'abcd' });
  assert.equal(nb.status, 400, nb.text);
  // Refused from the headers alone, with a body on the wire: the client must get the
  // answer, never a reset (the server reads and drops a small body before answering).
  for (let i = 0; i < 30; i++) {
    const unauth = await stack.upload({ content: 'x'.repeat(1 + i * 4096) });
    assert.equal(unauth.status, 401);
  }
  assert.equal((await runsOf(A)).length, before);
});

// ---------------------------------------------------------------- hostile file names

test('file names ../../etc/passwd, 300 bytes, NUL, newline, quotes, UTF-8 -> stored inside the run folder', async () => {
  const long = `${'L'.repeat(296)}.txt`;
  const cases = [
    { raw: '../../etc/passwd', expect: 'passwd' },
    { raw: '..\\..\\windows\\system.ini', expect: 'system.ini' },
    { raw: long, expect: `${'L'.repeat(196)}.txt` },
    { raw: 'two\nlines\r.txt', expect: 'twolines.txt' },
    { raw: 'say "hi".txt', expect: 'say _hi_.txt' },
    { raw: 'résumé 日本.md', expect: 'résumé 日本.md' },
    { raw: '..', expect: 'upload' },
    { raw: '', expect: 'upload' },
    { raw: '.hidden', expect: 'upload.hidden' },
  ];
  for (const c of cases) {
    const up = await stack.upload({ token: A.token, filename: c.raw, content: uniq(`name test ${c.expect}`) });
    assert.equal(up.status, 202, `${JSON.stringify(c.raw)}: ${up.text}`);
    const runId = up.json.run_id;
    const names = await storedNames(A, runId);
    assert.deepEqual(names, [c.expect], JSON.stringify(c.raw));
    const run = await runById(runId);
    assert.equal(run.config.upload_uri, storedUri(A, runId, c.expect));
  }
  // A NUL byte inside the filename parameter (raw bytes: no browser would send it)
  const nul = multipart([{ name: 'file', disposition: Buffer.concat([Buffer.from('form-data; name="file"; filename="evil'),
    Buffer.from([0]), Buffer.from('.txt/../../x.md"')]), content: uniq('nul name') }]);
  const r = await postMultipart(stack, { token: A.token, mp: nul });
  assert.equal(r.status, 202, r.text);
  assert.deepEqual(await storedNames(A, r.json.run_id), ['x.md']);
  const nul2 = multipart([{ name: 'file', disposition: Buffer.concat([Buffer.from('form-data; name="file"; filename="a'),
    Buffer.from([0]), Buffer.from('b.txt"')]), content: uniq('nul name 2') }]);
  const r2 = await postMultipart(stack, { token: A.token, mp: nul2 });
  assert.equal(r2.status, 202, r2.text);
  assert.deepEqual(await storedNames(A, r2.json.run_id), ['ab.txt']);
  assert.equal((await runById(r2.json.run_id)).config.original_filename, 'ab.txt');

  // nothing escaped <tenant>/<run>/ in the store (nor the stack's folder): every stored name
  // is one plain name under a tenant id and a run id
  assert.equal(fs.existsSync(path.join(stack.dir, 'etc')), false);
  for (const t of await stack.uploads.tenants()) {
    assert.match(t, UUID_RE);
    for (const f of await stack.uploads.list(t)) {
      const [run, n, ...more] = f.split('/');
      assert.match(run, UUID_RE, f);
      assert.ok(n && !n.startsWith('.') && more.length === 0, f);
    }
  }
});

// ---------------------------------------------------------------- dedup

test('same content after success -> 200 skipped with a terminal skipped run, nothing queued, copy removed', async () => {
  const content = uniq('dedup me');
  const first = await stack.upload({ token: A.token, filename: 'a.txt', content });
  assert.equal(first.status, 202, first.text);
  const versionId = await finishAsWorker(first.json.run_id);
  await drainQueue(stack);

  const again = await stack.upload({ token: A.token, filename: 'b.txt', content, title: 'again' });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.json, { status: 'skipped', reason: 'duplicate content', doc_id: first.json.doc_id,
    run_id: again.json.run_id });
  assert.notEqual(again.json.run_id, first.json.run_id);
  const run = await runById(again.json.run_id);
  assert.equal(run.status, 'skipped');
  assert.equal(run.error, null);
  assert.ok(run.finished_at);
  assert.equal(run.content_hash, sha256(Buffer.from(content)));
  assert.deepEqual(run.stats, { reason: 'duplicate content', duplicate_of_version: versionId });
  assert.deepEqual(await storedNames(A, again.json.run_id), []);
  assert.equal((await drainQueue(stack)).length, 0);
  const rr = await stack.api('GET', `/v1/ingestion-runs/${again.json.run_id}`, { token: A.token });
  assert.equal(rr.json.status, 'skipped');

  // another tenant with the same bytes is not a duplicate
  const other = await stack.upload({ token: B.token, filename: 'a.txt', content });
  assert.equal(other.status, 202, other.text);
  assert.notEqual(other.json.doc_id, first.json.doc_id);
});

test('concurrent identical uploads -> one run, one document (get-or-create under concurrency)', async () => {
  await drainQueue(stack);
  const N = 8;
  const content = uniq('race');
  const hash = sha256(Buffer.from(content));
  const res = await Promise.all(Array.from({ length: N }, (_, i) =>
    stack.upload({ token: A.token, filename: `race-${i}.txt`, content })));
  for (const r of res) assert.ok(r.status === 202 || r.status === 200, r.text);
  const accepted = res.filter((r) => r.status === 202);
  assert.equal(accepted.length, 1, JSON.stringify(res.map((r) => r.json)));
  const runId = accepted[0].json.run_id;
  for (const r of res.filter((x) => x.status === 200)) {
    assert.deepEqual(r.json, { run_id: runId, doc_id: accepted[0].json.doc_id, status: 'queued', reason: 'already in progress' });
  }
  assert.equal(new Set(res.map((r) => r.json.doc_id)).size, 1);
  const runs = await stack.sql('SELECT run_id FROM ingestion_runs WHERE tenant_id = $1 AND content_hash = $2', [tid(A), hash]);
  assert.deepEqual(runs.map((r) => r.run_id), [runId]);
  const docs = await stack.sql('SELECT doc_id FROM documents WHERE tenant_id = $1 AND source_uri = $2',
    [tid(A), `upload://sha256:${hash}`]);
  assert.equal(docs.length, 1);
  // only the accepted run's folder remains; one message
  const folders = (await uploadsOf(stack, tid(A))).filter((f) => f.startsWith(runId));
  assert.equal(folders.length, 1);
  const ids = new Set((await runsOf(A)).map((r) => r.run_id));
  assert.ok((await uploadsOf(stack, tid(A))).every((f) => ids.has(f.split('/')[0])), 'losers removed their copies');
  const msgs = (await drainQueue(stack)).map((m) => JSON.parse(m.Body)).filter((m) => m.run_id === runId);
  assert.equal(msgs.length, 1);

  // once that run is no longer in flight (failed), the same content may be uploaded again
  await stack.sql("UPDATE ingestion_runs SET status = 'failed', error = 'extract_failed: test' WHERE run_id = $1", [runId]);
  const retry = await stack.upload({ token: A.token, filename: 'race.txt', content });
  assert.equal(retry.status, 202, retry.text);
  assert.equal(retry.json.doc_id, accepted[0].json.doc_id);
});

test('get-or-create statement: N parallel transactions of one source_uri -> one doc_id', async () => {
  const N = 10;
  const uri = `upload://sha256:${sha256(Buffer.from(crypto.randomUUID()))}`;
  const clients = await Promise.all(Array.from({ length: N }, async () => {
    const c = new pg.Client({ connectionString: stack.appUrl });
    await c.connect();
    await c.query('SET ROLE core_api');
    await c.query("SELECT set_config('app.tenant_id', $1, false)", [tid(A)]);   // row-level security, as core-api
    return c;
  }));
  try {
    const ids = await Promise.all(clients.map(async (c) => {
      await c.query('BEGIN');
      const r = await c.query(`INSERT INTO documents (tenant_id, source_type, source_uri, title) VALUES ($1, 'upload', $2, $3)
        ON CONFLICT (tenant_id, source_uri) DO UPDATE SET updated_at = now() RETURNING doc_id`, [tid(A), uri, 't']);
      await c.query('SELECT pg_sleep(0.05)');
      await c.query('COMMIT');
      return r.rows[0].doc_id;
    }));
    assert.equal(new Set(ids).size, 1);
    const rows = await stack.sql('SELECT doc_id FROM documents WHERE source_uri = $1', [uri]);
    assert.deepEqual(rows.map((r) => r.doc_id), [ids[0]]);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
});

// ---------------------------------------------------------------- deletion vs. activation

test('DELETE /v1/documents while a worker commits an activation: no active version is left behind', async () => {
  await drainQueue(stack);
  const up1 = await stack.upload({ token: A.token, filename: 'race.txt', content: uniq('race v1') });
  assert.equal(up1.status, 202, up1.text);
  await finishAsWorker(up1.json.run_id);
  const docId = up1.json.doc_id;
  const up2 = await stack.upload({ token: A.token, filename: 'race2.txt', content: uniq('race v2'), docId });
  assert.equal(up2.status, 202, up2.text);
  const run2 = await runById(up2.json.run_id);
  // The worker's write transaction (store.c), held open at its activation step.
  const w = new pg.Client({ connectionString: stack.appUrl });
  await w.connect();
  try {
    await w.query('SET ROLE ingest_worker');
    await w.query("SELECT set_config('app.tenant_id', $1, false)", [tid(A)]);   // row-level security, as the worker
    await w.query('BEGIN');
    await w.query('SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))', [docId]);
    await w.query('UPDATE document_versions SET is_active = false WHERE doc_id = $1 AND is_active', [docId]);
    await w.query(`INSERT INTO document_versions (tenant_id, doc_id, run_id, content_hash, is_active, byte_size, mime,
      uploaded_at) VALUES ($1, $2, $3, $4, true, 1, 'text/plain', $5)`,
    [tid(A), docId, run2.run_id, run2.content_hash, run2.created_at]);
    const del = stack.api('DELETE', `/v1/documents/${docId.toUpperCase()}`, { token: A.token });
    await new Promise((r) => setTimeout(r, 700));
    await w.query('COMMIT');
    const d = await del;
    assert.equal(d.status, 200, d.text);
  } finally {
    await w.end();
  }
  const active = await stack.sql('SELECT version_id FROM document_versions WHERE doc_id = $1 AND is_active', [docId]);
  assert.deepEqual(active, [], 'a deleted document keeps no active version');
  await drainQueue(stack);
});

// ---------------------------------------------------------------- doc_id

test('doc_id: new content becomes a second run of the same document; another tenant\'s doc_id -> 404', async () => {
  await drainQueue(stack);
  const v1 = await stack.upload({ token: A.token, filename: 'policy.txt', content: uniq('policy v1'), title: 'Policy' });
  assert.equal(v1.status, 202, v1.text);
  const docId = v1.json.doc_id;
  const docBefore = (await stack.sql('SELECT * FROM documents WHERE doc_id = $1', [docId]))[0];
  await finishAsWorker(v1.json.run_id);

  const content2 = uniq('policy v2');
  const v2 = await stack.upload({ token: A.token, filename: 'policy-v2.txt', content: content2, docId });
  assert.equal(v2.status, 202, v2.text);
  assert.equal(v2.json.doc_id, docId);
  assert.notEqual(v2.json.run_id, v1.json.run_id);
  const run2 = await runById(v2.json.run_id);
  assert.equal(run2.doc_id, docId);
  assert.equal(run2.content_hash, sha256(Buffer.from(content2)));
  assert.equal(run2.config.title, 'Policy'); // the document's title when none is given
  const docAfter = (await stack.sql('SELECT * FROM documents WHERE doc_id = $1', [docId]))[0];
  assert.equal(docAfter.source_uri, docBefore.source_uri); // identity kept
  const runs = await stack.sql('SELECT run_id FROM ingestion_runs WHERE doc_id = $1', [docId]);
  assert.equal(runs.length, 2);
  const msgs = (await drainQueue(stack)).map((m) => JSON.parse(m.Body)).filter((m) => m.run_id === v2.json.run_id);
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0].doc_id, docId);
  assert.equal(msgs[0].source_uri, docBefore.source_uri);

  // the document's current content again with its doc_id: skipped
  await finishAsWorker(v2.json.run_id);
  const same = await stack.upload({ token: A.token, filename: 'p.txt', content: content2, docId });
  assert.equal(same.status, 200, same.text);
  assert.equal(same.json.status, 'skipped');
  assert.equal(same.json.doc_id, docId);

  // a deleted document is never revived by a new version: 409, the deletion record stays
  // (docs/decisions.md "Versions and deletion"; the full rule in documents_content.test.mjs)
  await stack.sql('UPDATE documents SET deleted_at = now() WHERE doc_id = $1', [docId]);
  const v3 = await stack.upload({ token: A.token, filename: 'p3.txt', content: uniq('policy v3'), docId });
  assert.equal(v3.status, 409, v3.text);
  assert.notEqual((await stack.sql('SELECT deleted_at FROM documents WHERE doc_id = $1', [docId]))[0].deleted_at, null);

  // another tenant's document, a missing one, a malformed id: the same 404, nothing created
  const beforeB = (await runsOf(B)).length;
  const bodies = [];
  for (const d of [docId, crypto.randomUUID(), 'not-a-uuid', "'; DROP TABLE documents; --"]) {
    const r = await stack.upload({ token: B.token, filename: 'x.txt', content: uniq('steal'), docId: d });
    assert.equal(r.status, 404, r.text);
    bodies.push(r.text);
  }
  assert.equal(new Set(bodies).size, 1, bodies.join('\n'));
  assert.equal((await runsOf(B)).length, beforeB);
  assert.deepEqual((await uploadsOf(stack, tid(B))).filter((f) => f.endsWith('/x.txt')), []);
  // and a tenant_id form field is ignored (invariant 1)
  const sneaky = await postMultipart(stack, { token: B.token, parts: [{ name: 'tenant_id', content: tid(A) },
    { name: 'file', filename: 's.txt', content: uniq('sneaky') }] });
  assert.equal(sneaky.status, 202, sneaky.text);
  assert.equal((await runById(sneaky.json.run_id)).tenant_id, tid(B));
});

// ---------------------------------------------------------------- Idempotency-Key

test('Idempotency-Key: same user and key -> the first response again, nothing created', async () => {
  await drainQueue(stack);
  const key = crypto.randomUUID();
  const first = await stack.upload({ token: A.token, filename: 'idem.txt', content: uniq('idem'), headers: { 'idempotency-key': key } });
  assert.equal(first.status, 202, first.text);
  const runs = (await runsOf(A)).length;
  const again = await stack.upload({ token: A.token, filename: 'idem2.txt', content: uniq('idem other bytes'),
    headers: { 'idempotency-key': key } });
  assert.equal(again.status, 202, again.text);
  assert.deepEqual(again.json, first.json);
  assert.equal((await runsOf(A)).length, runs);
  assert.equal((await drainQueue(stack)).length, 1);
  // another user with the same key is another request
  const other = await stack.upload({ token: B.token, filename: 'idem.txt', content: uniq('idem b'), headers: { 'idempotency-key': key } });
  assert.equal(other.status, 202, other.text);
  assert.notEqual(other.json.run_id, first.json.run_id);
  // after 24 hours the key is forgotten
  await stack.sql("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1", [key]);
  const later = await stack.upload({ token: A.token, filename: 'idem3.txt', content: uniq('idem later'), headers: { 'idempotency-key': key } });
  assert.equal(later.status, 202, later.text);
  assert.notEqual(later.json.run_id, first.json.run_id);
  const tooLong = await stack.upload({ token: A.token, content: uniq('x'), headers: { 'idempotency-key': 'k'.repeat(300) } });
  assert.equal(tooLong.status, 400, tooLong.text);
});

// The (user, key) row of idempotency_keys, or undefined.
const idemRow = async (who, key) => (await stack.sql(
  'SELECT status, response, claim_id FROM idempotency_keys WHERE user_id = $1 AND key = $2', [who.user.user_id, key]))[0];
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

// A multipart upload streamed in small pieces: the first piece (headers and the body's
// start) at once, then `hold()` is awaited mid-body, then the rest with small delays.
// destroy: the client goes away after `hold()` instead of finishing the body.
function slowUpload(who, key, content, { hold = async () => {}, destroy = false } = {}) {
  const mp = multipart([{ name: 'file', filename: 'slow.txt', content }]);
  const pieces = [];
  for (let i = 0; i < mp.body.length; i += 32) pieces.push(mp.body.subarray(i, i + 32));
  async function* body() {
    yield pieces[0];
    await hold();
    if (destroy) return;
    for (const p of pieces.slice(1)) { await pause(5); yield p; }
  }
  return rawRequest(stack.baseUrl, {
    headers: { authorization: `Bearer ${who.token}`, 'content-type': mp.contentType,
      'content-length': mp.body.length, 'idempotency-key': key },
    body: body(), destroy,
  });
}

const IN_PROGRESS = { error: { code: 'conflict', message: 'a request with this Idempotency-Key is in progress' } };

test('Idempotency-Key: a second request while the first is mid-body -> 409, one run; then the first answer replayed', async () => {
  await drainQueue(stack);
  const key = crypto.randomUUID();
  const runs = (await runsOf(A)).length;
  const folders = await uploadsOf(stack, tid(A));
  let second;
  const first = await slowUpload(A, key, uniq('idem slow first'), {
    hold: async () => {
      // the first request holds the key as soon as its headers are in
      await waitFor(async () => (await idemRow(A, key))?.status === 0, { what: 'the pending claim' });
      second = await stack.upload({ token: A.token, filename: 'fast.txt', content: uniq('idem fast second'),
        headers: { 'idempotency-key': key } });
    },
  });
  assert.equal(second.status, 409, second.text);
  assert.deepEqual(second.json, IN_PROGRESS);
  assert.equal(first.status, 202, first.text);
  const after = await runsOf(A);
  assert.equal(after.length, runs + 1, 'exactly one run');
  assert.equal(after.at(-1).run_id, first.json.run_id);
  assert.equal((await uploadsOf(stack, tid(A))).length, folders.length + 1, 'only the first upload stored');
  assert.equal((await drainQueue(stack)).length, 1);
  const row = await idemRow(A, key);
  assert.equal(row.status, 202);
  assert.deepEqual(row.response, first.json);
  // done: the same key replays the first answer, whatever the body
  const again = await stack.upload({ token: A.token, filename: 'again.txt', content: uniq('idem third'),
    headers: { 'idempotency-key': key } });
  assert.equal(again.status, 202, again.text);
  assert.deepEqual(again.json, first.json);
  assert.equal((await runsOf(A)).length, runs + 1);
  assert.equal((await drainQueue(stack)).length, 0);
  // the key of another user is another request, even while this one is pending
  const keyB = crypto.randomUUID();
  let otherUser;
  const held = await slowUpload(A, keyB, uniq('idem held A'), {
    hold: async () => {
      await waitFor(async () => (await idemRow(A, keyB))?.status === 0, { what: 'the pending claim' });
      otherUser = await stack.upload({ token: B.token, content: uniq('idem B same key'), headers: { 'idempotency-key': keyB } });
    },
  });
  assert.equal(held.status, 202, held.text);
  assert.equal(otherUser.status, 202, otherUser.text);
  assert.notEqual(otherUser.json.run_id, held.json.run_id);
  await drainQueue(stack);
});

test('Idempotency-Key: simultaneous first requests with different content -> exactly one 202, the others 409', async () => {
  await drainQueue(stack);
  const key = crypto.randomUUID();
  const runs = (await runsOf(A)).length;
  // Every request sends its headers at once, then waits until some request holds the
  // key (and a little more, so that every begin has run) before finishing its body.
  let claimed;
  const hold = () => {
    claimed ??= waitFor(async () => (await idemRow(A, key))?.status === 0, { what: 'the pending claim' })
      .then(() => pause(300));
    return claimed;
  };
  const all = await Promise.all([0, 1, 2, 3].map((i) => slowUpload(A, key, uniq(`idem race ${i}`), { hold })));
  const statuses = all.map((r) => r.status).sort();
  assert.deepEqual(statuses, [202, 409, 409, 409], JSON.stringify(all.map((r) => r.text)));
  for (const r of all.filter((x) => x.status === 409)) assert.deepEqual(r.json, IN_PROGRESS);
  const won = all.find((r) => r.status === 202);
  const after = await runsOf(A);
  assert.equal(after.length, runs + 1, 'exactly one run');
  assert.equal(after.at(-1).run_id, won.json.run_id);
  assert.equal((await drainQueue(stack)).length, 1);
  assert.equal((await idemRow(A, key)).status, 202);
});

test('Idempotency-Key: a request that fails (415, 400, 413, 503) gives the key back; a retry runs', async () => {
  await drainQueue(stack);
  const key = crypto.randomUUID();
  const headers = { 'idempotency-key': key };
  const runs = (await runsOf(A)).length;
  const gif = Buffer.concat([Buffer.from('GIF89a'), crypto.randomBytes(3000)]);   // images OCR'd are PNG, JPEG and TIFF; GIF is not
  const unsupported = await stack.upload({ token: A.token, filename: 'p.gif', content: gif, headers });
  assert.equal(unsupported.status, 415, unsupported.text);
  assert.equal(await idemRow(A, key), undefined, 'no row after 415');
  const tiny = await stack.upload({ token: A.token, filename: 'tiny.txt', content: crypto.randomBytes(10), headers });
  assert.equal(tiny.status, 415, tiny.text);
  assert.equal(await idemRow(A, key), undefined, 'no row after 415 (small file)');
  const empty = await stack.upload({ token: A.token, filename: 'e.txt', content: '', headers });
  assert.equal(empty.status, 400, empty.text);
  assert.equal(await idemRow(A, key), undefined, 'no row after 400 empty');
  const cut = multipart([{ name: 'file', filename: 'cut.txt', content: uniq('idem cut') }], { close: false });
  const truncated = await postMultipart(stack, { token: A.token, mp: cut, headers });
  assert.equal(truncated.status, 400, truncated.text);
  assert.equal(await idemRow(A, key), undefined, 'no row after 400 truncated');
  // over the limit while streaming (chunked: no Content-Length to refuse it from)
  const b = `----chunked${crypto.randomUUID()}`;
  async function* big() {
    yield Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n`);
    const block = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 24; i++) yield block;
  }
  const tooBig = await rawRequest(stack.baseUrl, {
    headers: { authorization: `Bearer ${A.token}`, 'content-type': `multipart/form-data; boundary=${b}`,
      'transfer-encoding': 'chunked', ...headers }, body: big(),
  });
  assert.equal(tooBig.status, 413, JSON.stringify(tooBig));
  assert.equal(await idemRow(A, key), undefined, 'no row after 413');
  // queue down: 503 (the run is failed enqueue_failed), and the key is free again
  let down;
  await stack.stopSqs();
  try {
    down = await stack.upload({ token: A.token, filename: 'down.txt', content: uniq('idem queue down'), headers });
  } finally {
    await stack.startSqs();
  }
  assert.equal(down.status, 503, down.text);
  assert.equal(await idemRow(A, key), undefined, 'no row after 503');
  assert.equal((await runsOf(A)).length, runs + 1, 'only the failed enqueue_failed run');
  // the retry with a supported file runs, and is the answer remembered
  const retry = await stack.upload({ token: A.token, filename: 'ok.txt', content: uniq('idem retry ok'), headers });
  assert.equal(retry.status, 202, retry.text);
  assert.notEqual(retry.json.run_id, down.json.run_id);
  assert.equal((await idemRow(A, key)).status, 202);
  const replay = await stack.upload({ token: A.token, filename: 'ok2.txt', content: uniq('idem retry 2'), headers });
  assert.deepEqual(replay.json, retry.json);
  assert.equal((await runsOf(A)).length, runs + 2);
  assert.equal((await drainQueue(stack)).length, 1);
});

test('Idempotency-Key: a client that goes away mid-body gives the key back; a retry runs', async () => {
  await drainQueue(stack);
  const key = crypto.randomUUID();
  const runs = (await runsOf(A)).length;
  const gone = await slowUpload(A, key, uniq('idem aborted'), {
    destroy: true,
    hold: () => waitFor(async () => (await idemRow(A, key))?.status === 0, { what: 'the pending claim' }),
  });
  assert.equal(gone.destroyed, true);
  // abort() runs once core-api sees the connection closed
  await waitFor(async () => (await idemRow(A, key)) === undefined, { what: 'the claim released', timeoutMs: 10000 });
  const retry = await stack.upload({ token: A.token, filename: 'r.txt', content: uniq('idem after abort'),
    headers: { 'idempotency-key': key } });
  assert.equal(retry.status, 202, retry.text);
  assert.equal((await runsOf(A)).length, runs + 1);
  assert.equal((await drainQueue(stack)).length, 1);
});

test('Idempotency-Key: a pending claim older than 1 h (core-api died) is taken over; a fresh one answers 409', async () => {
  await drainQueue(stack);
  const claim = (key, age) => stack.sql(`INSERT INTO idempotency_keys (user_id, key, tenant_id, status, response, claim_id, created_at)
    VALUES ($1, $2, $3, 0, '{}', $4, now() - $5::interval)`, [A.user.user_id, key, tid(A), crypto.randomUUID(), age]);
  const runs = (await runsOf(A)).length;
  const fresh = crypto.randomUUID();
  await claim(fresh, '59 minutes');
  const busy = await stack.upload({ token: A.token, content: uniq('idem fresh claim'), headers: { 'idempotency-key': fresh } });
  assert.equal(busy.status, 409, busy.text);
  assert.deepEqual(busy.json, IN_PROGRESS);
  assert.equal((await idemRow(A, fresh)).status, 0, 'the other request keeps its claim');
  const stale = crypto.randomUUID();
  await claim(stale, '61 minutes');
  const took = await stack.upload({ token: A.token, content: uniq('idem stale claim'), headers: { 'idempotency-key': stale } });
  assert.equal(took.status, 202, took.text);
  const row = await idemRow(A, stale);
  assert.equal(row.status, 202);
  assert.equal(row.claim_id, took.json.run_id);
  assert.deepEqual(row.response, took.json);
  assert.equal((await runsOf(A)).length, runs + 1);
  assert.equal((await drainQueue(stack)).length, 1);
});

// ---------------------------------------------------------------- queue outage

test('queue unreachable -> 503 with the run_id, run failed enqueue_failed', async () => {
  await stack.stopSqs();
  try {
    const up = await stack.upload({ token: A.token, filename: 'down.txt', content: uniq('queue down') });
    assert.equal(up.status, 503, up.text);
    assert.equal(up.json.error.code, 'unavailable');
    assert.match(up.json.run_id, /^[0-9a-f-]{36}$/);
    const run = await runById(up.json.run_id);
    assert.equal(run.status, 'failed');
    assert.match(run.error, /^enqueue_failed: \S/);
    assert.ok(run.finished_at);
    const r = await stack.api('GET', `/v1/ingestion-runs/${up.json.run_id}`, { token: A.token });
    assert.equal(r.json.status, 'failed');
    assert.match(r.json.error, /^enqueue_failed: /);
    // The run is terminal and nothing will read its upload: it must not stay on disk forever.
    assert.deepEqual(await storedNames(A, up.json.run_id), [], 'upload removed');
  } finally {
    await stack.startSqs();
  }
  // back up: uploads are queued again
  const ok = await stack.upload({ token: A.token, filename: 'up.txt', content: uniq('queue up') });
  assert.equal(ok.status, 202, ok.text);
});

// ---------------------------------------------------------------- run reads

test('GET /v1/ingestion-runs: newest first, limit/offset/status, total and counts, tenant-confined', async () => {
  const all = await stack.sql(`SELECT run_id, status FROM ingestion_runs WHERE tenant_id = $1
    ORDER BY created_at DESC, run_id DESC`, [tid(A)]);
  assert.ok(all.length > 5);
  const page = await stack.api('GET', '/v1/ingestion-runs?limit=3&offset=2', { token: A.token });
  assert.equal(page.status, 200, page.text);
  assert.deepEqual(page.json.runs.map((r) => r.run_id), all.slice(2, 5).map((r) => r.run_id));
  assert.equal(page.json.total, all.length);
  assert.equal(page.json.limit, 3);
  assert.equal(page.json.offset, 2);
  const counts = { queued: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
  for (const r of all) counts[r.status]++;
  assert.deepEqual(page.json.counts, counts);
  for (const r of page.json.runs) {
    assert.equal(typeof r.config, 'object');
    assert.equal(typeof r.stats, 'object');
  }

  const def = await stack.api('GET', '/v1/ingestion-runs', { token: A.token });
  assert.equal(def.json.limit, 20);
  assert.equal(def.json.runs.length, Math.min(20, all.length));
  // limit over 100 is refused like on every list (docs/api.md "Lists"), no longer capped
  const over = await stack.api('GET', '/v1/ingestion-runs?limit=5000', { token: A.token });
  assert.equal(over.status, 400);
  assert.equal(over.json.error.message, 'limit must be an integer from 1 to 100');

  const failed = await stack.api('GET', '/v1/ingestion-runs?status=failed', { token: A.token });
  assert.equal(failed.status, 200);
  assert.ok(failed.json.runs.length > 0);
  assert.ok(failed.json.runs.every((r) => r.status === 'failed'));
  assert.equal(failed.json.total, counts.failed);
  assert.deepEqual(failed.json.counts, counts);

  for (const q of ['limit=0', 'limit=-1', 'limit=abc', 'offset=-1', 'offset=x', 'status=bogus', 'limit=1e3']) {
    const r = await stack.api('GET', `/v1/ingestion-runs?${q}`, { token: A.token });
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.equal(r.json.error.code, 'bad_request');
  }
  const beyond = await stack.api('GET', '/v1/ingestion-runs?offset=100000', { token: A.token });
  assert.deepEqual(beyond.json.runs, []);
  assert.equal(beyond.json.total, all.length);

  // tenant B sees only its own
  const bl = await stack.api('GET', '/v1/ingestion-runs?limit=100', { token: B.token });
  const bIds = new Set((await runsOf(B)).map((r) => r.run_id));
  assert.equal(bl.json.total, bIds.size);
  assert.ok(bl.json.runs.every((r) => bIds.has(r.run_id)));
});

test('GET /v1/ingestion-runs/:id: another tenant\'s run, a missing one, a malformed id -> the same 404', async () => {
  const aRun = (await runsOf(A))[0].run_id;
  const mine = await stack.api('GET', `/v1/ingestion-runs/${aRun}`, { token: A.token });
  assert.equal(mine.status, 200);
  const texts = [];
  for (const id of [aRun, crypto.randomUUID(), 'nope', aRun.toUpperCase().replace(/-/g, '')]) {
    const r = await stack.api('GET', `/v1/ingestion-runs/${encodeURIComponent(id)}`, { token: B.token });
    assert.equal(r.status, 404, `${id}: ${r.text}`);
    texts.push(r.text);
  }
  assert.equal(new Set(texts).size, 1);
  const anon = await stack.api('GET', `/v1/ingestion-runs/${aRun}`);
  assert.equal(anon.status, 401);
});

// ---------------------------------------------------------------- 1 GiB streaming

function vmRssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

test('1 GiB upload streams: core-api RSS grows < 16 MiB, stored hash equals sha256sum', { timeout: 600000 }, async () => {
  const GiB = 1 << 30;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gib-'));
  const file = path.join(tmp, 'big.txt');
  try {
    // 1 GiB of text (sniffed as text/plain), written as a stream: 1 MiB blocks, each made unique.
    const base = Buffer.from(crypto.randomBytes(768 * 1024).toString('base64').replace(/(.{76})/g, '$1\n'));
    const block = base.subarray(0, 1 << 20);
    const ws = fs.createWriteStream(file);
    for (let i = 0; i < 1024; i++) {
      const b = Buffer.from(block);
      b.write(`block ${String(i).padStart(8, '0')}\n`);
      if (!ws.write(b)) await new Promise((r) => ws.once('drain', r));
    }
    await new Promise((r, j) => ws.end((e) => (e ? j(e) : r())));
    assert.equal(fs.statSync(file).size, GiB);
    const expected = execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
    // Restarted only now: writing the file takes longer than the server's keep-alive (10 s),
    // and a client that reuses the health check's closed connection gets EPIPE.
    // Under the sanitizer build, ASan keeps freed memory in a quarantine (256 MiB by default)
    // before reusing it: the S3 store's per-part allocations then look like growth (+31 MiB
    // measured, +8 MiB without quarantine). A 1 MiB quarantine still catches use-after-free
    // of recent frees; release builds ignore the variable.
    await stack.stopApi();
    await stack.startApi({ MAX_UPLOAD_BYTES: '2G', ASAN_OPTIONS: 'quarantine_size_mb=1' });

    // warm the server (threads, pool, TLS-free SQS client) before measuring
    const warm = await stack.upload({ token: A.token, filename: 'warm.txt', content: uniq('warm up') });
    assert.equal(warm.status, 202, warm.text);
    const rss0 = vmRssKiB(stack.apiPid);
    let peak = rss0;
    const timer = setInterval(() => { try { peak = Math.max(peak, vmRssKiB(stack.apiPid)); } catch {} }, 20);

    const b = `----gib${crypto.randomUUID()}`;
    const head = Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="title"\r\n\r\nBig one\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${b}--\r\n`);
    async function* body() {
      yield head;
      for await (const chunk of fs.createReadStream(file, { highWaterMark: 256 * 1024 })) yield chunk;
      yield tail;
    }
    const t0 = Date.now();
    const r = await rawRequest(stack.baseUrl, {
      headers: { authorization: `Bearer ${A.token}`, 'content-type': `multipart/form-data; boundary=${b}`,
        'content-length': head.length + GiB + tail.length }, body: body(),
    });
    const secs = (Date.now() - t0) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, vmRssKiB(stack.apiPid));
    assert.equal(r.status, 202, JSON.stringify(r));
    const growthMiB = (peak - rss0) / 1024;
    console.log(`# 1 GiB upload: ${(1024 / secs).toFixed(0)} MiB/s, RSS ${(rss0 / 1024).toFixed(1)} -> peak ${(peak / 1024).toFixed(1)} MiB (+${growthMiB.toFixed(1)})`);
    assert.ok(growthMiB < 16, `RSS grew by ${growthMiB.toFixed(1)} MiB`);

    const run = await runById(r.json.run_id);
    assert.equal(run.content_hash, expected);
    assert.equal(run.config.sha256, expected);
    assert.equal(run.config.size_bytes, GiB);
    assert.equal(await stack.uploads.size(tid(A), r.json.run_id, 'big.txt'), GiB);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    await stack.stopApi();
    await stack.startApi();
  }
});

// ---------------------------------------------------------------- non-ASCII in the message

test('an emoji in the title and the file name: the message is ASCII (\\u escapes), the run succeeds end to end', async () => {
  const C = await stack.tenant('emoji');
  await drainQueue(stack);
  const up = await stack.upload({ token: C.token, filename: 'notes 📝.txt', title: 'notes 📝',
    content: uniq('notes 📝: refunds are processed within 14 days') });
  assert.equal(up.status, 202, up.text);
  const runId = up.json.run_id;
  assert.deepEqual(await storedNames(C, runId), ['notes 📝.txt']);

  // The message: ASCII on the wire, the emoji back after parsing.
  const m = (await drainQueue(stack)).find((x) => JSON.parse(x.Body).run_id === runId);
  assert.ok(m, 'the upload published its message');
  assert.match(m.Body, /^[\x20-\x7e]*$/);
  assert.match(m.Body, /\\u[dD]83[dD]\\u[dD][cC][dD][dD]/);
  assertSpecMessage(m.Body, { run_id: runId, tenant_id: tid(C), title: 'notes 📝',
    upload_uri: storedUri(C, runId, 'notes 📝.txt') });
  // The very same bytes back on the queue, for the worker.
  await stack.sqsCall('SendMessage', { QueueUrl: stack.sqs.queueUrl, MessageBody: m.Body });

  const w = await stack.startWorker();
  try {
    const run = await stack.waitRun(runId, { timeoutMs: 60000 });
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    assert.equal(run.error, null);
    assert.equal(run.config.title, 'notes 📝');
    assert.equal(run.config.original_filename, 'notes 📝.txt');
  } finally {
    await stack.killWorker(w);   // done: no need to wait for its long poll to end
  }
});
