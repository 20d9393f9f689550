// UPLOAD_STORE=s3 (issue 17): core-api streams each upload to the emulator's S3 while
// hashing it (one PutObject under a part, a multipart upload above), upload_uri becomes
// s3://..., the worker reads it from there; the API does not change. Loopback only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { startStack } from '../lib/stack.mjs';

const BUCKET = 'upload-store';
const PART = 5 * 1024 * 1024;         // UPLOAD_S3_PART_SIZE: S3's smallest part
const MAX = 40 * 1024 * 1024;

let stack;
let A;

before(async () => {
  stack = await startStack({ worker: true, api: false, env: { UPLOAD_STORE: 's3', UPLOAD_S3_BUCKET: BUCKET,
    UPLOAD_S3_PART_SIZE: String(PART), MAX_UPLOAD_BYTES: String(MAX) } });
  const r = await fetch(`${stack.sqs.endpoint}/${BUCKET}`, { method: 'PUT' });
  assert.equal(r.status, 200);
  await stack.startApi();
  A = await stack.tenant('s3-store');
});
after(async () => { await stack?.stop(); });

const objectUrl = (uri) => `${stack.sqs.endpoint}/${uri.slice('s3://'.length).split('/').map(encodeURIComponent).join('/')}`;
async function listKeys() {
  const xml = await (await fetch(`${stack.sqs.endpoint}/${BUCKET}?list-type=2`)).text();
  return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
}
async function runConfig(runId) {
  return (await stack.sql('SELECT config FROM ingestion_runs WHERE run_id = $1', [runId]))[0].config;
}

test('a multipart upload (3 parts) lands in S3 with the file\'s SHA-256 and is ingested from there', async () => {
  const line = 'The quarterly report mentions kwbig7q and other findings.\n';
  const content = Buffer.from(line.repeat(Math.ceil((2 * PART + 1234) / line.length)));
  const want = crypto.createHash('sha256').update(content).digest('hex');
  const { upload, run } = await stack.ingest({ token: A.token, filename: 'big report.txt', content }, { timeoutMs: 120000 });
  assert.equal(upload.status, 202);
  assert.equal(run.status, 'succeeded', JSON.stringify(run));
  const cfg = await runConfig(upload.json.run_id);
  assert.match(cfg.upload_uri, new RegExp(`^s3://${BUCKET}/uploads/${A.user.tenant_id}/${upload.json.run_id}/big report\\.txt$`));
  const stored = Buffer.from(await (await fetch(objectUrl(cfg.upload_uri))).arrayBuffer());
  assert.equal(stored.length, content.length);
  assert.equal(crypto.createHash('sha256').update(stored).digest('hex'), want);
  const [r] = await stack.sql('SELECT content_hash FROM ingestion_runs WHERE run_id = $1', [upload.json.run_id]);
  assert.equal(r.content_hash, want);
  const s = await stack.api('POST', '/v1/search', { token: A.token, body: { query: 'kwbig7q' } });
  assert.equal(s.json.status, 'answered');
  assert.deepEqual(fs.readdirSync(stack.uploadDir), [], 'nothing on the local volume');
  assert.deepEqual(fs.readdirSync(stack.artifactsDir).filter((f) => f.startsWith('s3-')), [], 'the download is removed');
});

test('a small upload is one PutObject; the duplicate rule still answers skipped', async () => {
  const content = 'A short note about kwsmall3q.\n';
  const { upload, run } = await stack.ingest({ token: A.token, filename: 'note.md', content });
  assert.equal(run.status, 'succeeded');
  const cfg = await runConfig(upload.json.run_id);
  assert.equal(await (await fetch(objectUrl(cfg.upload_uri))).text(), content);
  const again = await stack.upload({ token: A.token, filename: 'again.md', content });
  assert.equal(again.status, 200);
  assert.equal(again.json.status, 'skipped');
  assert.ok(!(await listKeys()).some((k) => k.endsWith('/again.md')), 'a skipped upload keeps no object');
});

// A chunked multipart body (no Content-Length) of total bytes: the limit is only seen while streaming.
function chunkedUpload(total) {
  const b = `----s3${crypto.randomUUID()}`;
  return new Promise((resolve, reject) => {
    const req = http.request(`${stack.baseUrl}/v1/ingest`, { method: 'POST', headers: {
      authorization: `Bearer ${A.token}`, 'content-type': `multipart/form-data; boundary=${b}`, 'transfer-encoding': 'chunked' } });
    let done = false;
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => { done = true; resolve({ status: res.statusCode, text }); });
    });
    req.on('error', (e) => { if (!done) reject(e); });
    req.write(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="huge.txt"\r\n\r\n`);
    const block = Buffer.alloc(256 * 1024, 'x');
    let sent = 0;
    const pump = () => {
      while (!done && sent < total) {
        sent += block.length;
        if (!req.write(block)) { req.once('drain', pump); return; }
      }
      if (!done) req.end();
    };
    pump();
  });
}

test('an upload over MAX_UPLOAD_BYTES answers 413 and leaves no object, also after parts were sent', async () => {
  const before_ = await listKeys();
  const r = await stack.upload({ token: A.token, filename: 'huge.txt', content: Buffer.alloc(MAX + PART, 'x') })
    .catch(() => ({ status: 413 }));   // refused by Content-Length at once: the socket may close under the client
  assert.equal(r.status, 413, r.text);
  const streamed = await chunkedUpload(MAX + PART);
  assert.equal(streamed.status, 413, streamed.text);
  assert.deepEqual(await listKeys(), before_);
  // The parts already sent were given back (AbortMultipartUpload): a failed abort is logged.
  assert.doesNotMatch(stack.apiLog(), /upload store failure/);
});

test("the crash guard removes upload objects without a run, past the grace period, and keeps the others", async () => {
  const orphan = `uploads/${A.user.tenant_id}/${crypto.randomUUID()}/lost.txt`;
  const r = await fetch(`${stack.sqs.endpoint}/${BUCKET}/${orphan}`, { method: 'PUT', body: 'no run for this one' });
  assert.equal(r.status, 200);
  const kept = (await listKeys()).filter((k) => k !== orphan);
  assert.ok(kept.length >= 2);
  // Within UPLOAD_ORPHAN_GRACE (1h) nothing goes.
  let g = await stack.runApi(['crash-guard', '--now', 'now']);
  assert.equal(g.code, 0, g.stderr);
  assert.ok((await listKeys()).includes(orphan));
  g = await stack.runApi(['crash-guard', '--now', '+2h']);
  assert.equal(g.code, 0, g.stderr);
  assert.deepEqual((await listKeys()).sort(), kept.sort(), 'only the orphan is gone');
});

test('FAILED_UPLOAD_RETENTION on the S3 store: a failed run\'s object is kept within it (for a retry), deleted after', async () => {
  const pdf = fs.readFileSync(new URL('../fixtures/corrupt.pdf', import.meta.url));
  const up = await stack.upload({ token: A.token, filename: 'broken.pdf', content: pdf });
  assert.equal(up.status, 202, up.text);
  const run = await stack.waitRun(up.json.run_id, { timeoutMs: 60000 });
  assert.equal(run.status, 'failed');
  assert.match(run.error, /^extract_failed/);
  const key = run.config.upload_uri.slice(`s3://${BUCKET}/`.length);
  const others = (await listKeys()).filter((k) => k !== key);
  assert.ok((await listKeys()).includes(key), 'a failed run keeps its upload');
  const guard = async (now) => {
    const g = await stack.runApi(['crash-guard', '--now', now]);
    assert.equal(g.code, 0, g.stderr);
    return JSON.parse(g.stdout.trim().split('\n').pop());
  };
  // Past UPLOAD_ORPHAN_GRACE but within FAILED_UPLOAD_RETENTION (7d): kept.
  assert.equal((await guard('+2h')).uploads_removed, 0);
  assert.ok((await listKeys()).includes(key));
  // Past it: the object goes, and only that one (the succeeded runs' stay under UPLOAD_RETENTION=keep).
  const g = await guard('+8d');
  assert.equal(g.uploads_removed, 1, JSON.stringify(g));
  assert.equal(g.orphans_removed, 0, JSON.stringify(g));
  assert.deepEqual((await listKeys()).sort(), others.sort());
});

test('S3 unreachable: the upload answers 503 (retry later), no run, nothing left', async () => {
  const runs0 = (await stack.sql('SELECT count(*)::int AS n FROM ingestion_runs'))[0].n;
  await stack.stopSqs();   // the emulator serves both S3 and SQS
  try {
    const r = await stack.upload({ token: A.token, filename: 'down.txt', content: `S3 is down ${crypto.randomUUID()}` });
    assert.equal(r.status, 503, r.text);
    assert.match(r.json.error.message, /storage unavailable/);
    assert.equal((await stack.sql('SELECT count(*)::int AS n FROM ingestion_runs'))[0].n, runs0);
  } finally {
    await stack.startSqs();
    await fetch(`${stack.sqs.endpoint}/${BUCKET}`, { method: 'PUT' });
  }
});

test('no program wrote a sanitizer report', () => {
  assert.deepEqual(stack.sanitizerReports(), []);
});
