// ingest-worker against the real stack (issue 4, "Must show"): PostgreSQL, the SQS
// emulator, and real ingest-worker processes. Jobs are queued the way core-api does it
// (document + run rows, the file under UPLOAD_DIR/<tenant>/<run>/, the spec 4.5 message),
// written here directly so these tests depend on the worker alone.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import pg from 'pg';
import { startStack, waitFor } from '../lib/stack.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// WORKER_SUITE=<words of a describe name> runs only that suite (each suite starts its own stack).
const only = process.env.WORKER_SUITE;
const suite = (name, fn) => describe(name, { skip: only && !name.includes(only) ? 'WORKER_SUITE' : false }, fn);

async function newTenant(stack) {
  const slug = `t${crypto.randomBytes(5).toString('hex')}`;
  const [t] = await stack.sql('INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING tenant_id', [slug]);
  return t.tenant_id;
}

// Queue one upload job as core-api would. content: Buffer/string, or fixture: file name.
async function queueJob(stack, { tenantId, docId, filename, content, fixture, createdAt, send = true, copies = 1 }) {
  const bytes = fixture ? fs.readFileSync(path.join(stack.fixtures, fixture)) : Buffer.from(content);
  const name = filename ?? fixture;
  const hash = crypto.createHash('sha256').update(bytes).digest('hex');
  if (!docId) {
    const [d] = await stack.sql(`INSERT INTO documents (tenant_id, source_type, source_uri, title)
      VALUES ($1, 'upload', $2, $3)
      ON CONFLICT (tenant_id, source_uri) DO UPDATE SET updated_at = now() RETURNING doc_id`, [tenantId, `upload://sha256:${hash}`, name]);
    docId = d.doc_id;
  }
  const runId = crypto.randomUUID();
  await stack.sql(`INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status, content_hash, config, created_at)
    VALUES ($1, $2, $3, 'queued', $4, $5, COALESCE($6::timestamptz, now()))`,
  [runId, tenantId, docId, hash, JSON.stringify({ original_filename: name, source_type: 'upload' }), createdAt ?? null]);
  const dir = path.join(stack.uploadDir, tenantId, runId);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  const msg = {
    job_type: 'upload_ingest', run_id: runId, tenant_id: tenantId, user_id: crypto.randomUUID(), doc_id: docId,
    source_uri: `upload://sha256:${hash}`, upload_uri: `file://${file}`, title: name,
    received_at: new Date().toISOString(),
  };
  if (send) for (let i = 0; i < copies; i++) await stack.sendMessage(msg);
  return { runId, docId, msg, file };
}

async function versions(stack, docId) {
  return stack.sql(`SELECT v.*, r.created_at AS run_created FROM document_versions v
    JOIN ingestion_runs r ON r.run_id = v.run_id WHERE v.doc_id = $1 ORDER BY r.created_at`, [docId]);
}

async function waitQueueEmpty(stack, what = 'main queue empty') {
  return waitFor(async () => {
    const d = await stack.queueDepth();
    return d.visible === 0 && d.inflight === 0;
  }, { timeoutMs: 30000, what });
}

function logLines(w) {
  return w.log().split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return null; } })
    .filter(Boolean);
}

// An OpenAI-compatible /v1/embeddings stand-in with a fixed latency per request, to make jobs slow.
function startSlowEmbeddings({ latencyMs, dim }) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const { input, model } = JSON.parse(body);
      const data = input.map((text, index) => {
        const h = crypto.createHash('sha256').update(text).digest();
        const v = Array.from({ length: dim }, (_, i) => (h[i % 32] - 128) / 128);
        return { object: 'embedding', index, embedding: v };
      });
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data, model }));
      }, latencyMs);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// Paragraphs of distinct sentences: many chunks, so embedding in small batches takes a while.
function longText(paragraphs) {
  const out = [];
  for (let i = 0; i < paragraphs; i++) {
    out.push(`Paragraph ${i} talks about topic ${crypto.randomBytes(4).toString('hex')}. ` +
      'It has a few sentences of filler text so that the chunker has something to split. '.repeat(6));
  }
  return out.join('\n\n');
}

// A one-page PDF whose page is only a filled rectangle: no text layer, like a scan.
function scannedPdf() {
  const stream = '0 0 1 rg 72 72 468 648 re f\n';
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}endstream`,
  ];
  let out = '%PDF-1.4\n';
  const offs = [];
  objs.forEach((o, i) => { offs.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const o of offs) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

suite('pipeline end to end', () => {
  let stack;
  let tenantId;
  before(async () => {
    stack = await startStack({ api: false, worker: true, maxReceiveCount: 3 });
    tenantId = await newTenant(stack);
  });
  after(async () => { await stack?.stop(); });

  for (const fixture of ['sample.txt', 'sample.md', 'sample.html', 'sample.docx', 'sample.pdf']) {
    test(`${fixture} ends succeeded with chunks, embeddings and one active version`, async () => {
      const { runId, docId } = await queueJob(stack, { tenantId, fixture });
      const run = await stack.waitRun(runId, { timeoutMs: 30000 });
      assert.equal(run.status, 'succeeded', `error: ${run.error}`);
      assert.equal(run.error, null);
      assert.ok(run.finished_at && run.started_at);
      const s = run.stats;
      assert.ok(s.chunks > 0, JSON.stringify(s));
      assert.ok(s.chars > 0);
      assert.ok(s.pages >= 1);
      assert.equal(s.activated, true);
      assert.equal(s.attempt, 1);
      assert.equal(s.progress.stage, 'done');
      assert.equal(typeof s.embedding_model, 'string');
      assert.ok(s.embedding_dim > 0);
      for (const k of ['extract', 'chunk', 'embed', 'write', 'total']) assert.equal(typeof s.durations_ms[k], 'number', k);
      // the write's parts (issue 16): copy, rows into the tables with their indexes, activation
      const parts = ['write_copy', 'write_index', 'write_activate'];
      for (const k of parts) assert.ok(Number.isInteger(s.durations_ms[k]) && s.durations_ms[k] >= 0, `${k}: ${JSON.stringify(s.durations_ms)}`);
      assert.ok(parts.reduce((a, k) => a + s.durations_ms[k], 0) <= s.durations_ms.write, JSON.stringify(s.durations_ms));
      // spec 9: one JSON log line per stage with run_id, tenant_id, transition, duration, chunks
      const lines = stack.workers.flatMap(logLines).filter((l) => l.msg === 'job stage' && l.run_id === runId);
      const byStage = Object.fromEntries(lines.map((l) => [l.stage, l]));
      for (const st of ['claimed', 'extract', 'chunk', 'embed', 'write']) {
        assert.ok(byStage[st], `no "${st}" log line for ${runId}`);
        assert.equal(byStage[st].tenant_id, tenantId);
        assert.equal(typeof byStage[st].duration_ms, 'number');
      }
      assert.equal(byStage.claimed.status_transition, 'queued->running');
      assert.equal(byStage.write.status_transition, 'running->succeeded');
      assert.equal(byStage.write.chunks, s.chunks);
      const v = await versions(stack, docId);
      assert.equal(v.length, 1);
      assert.equal(v[0].is_active, true);
      assert.equal(v[0].version_id, s.version_id);
      assert.equal(String(v[0].uploaded_at), String(v[0].run_created));
      const [c] = await stack.sql(`SELECT count(*)::int AS n, count(e.chunk_id)::int AS e, min(e.dim) AS dim
        FROM chunks c LEFT JOIN chunk_embeddings e ON e.chunk_id = c.chunk_id WHERE c.version_id = $1`, [s.version_id]);
      assert.equal(c.n, s.chunks);
      assert.equal(c.e, s.chunks, 'every chunk has its embedding');
      assert.equal(c.dim, s.embedding_dim);
    });
  }

  test('a phrase only on page 2 of the PDF is found by full-text search in a chunk spanning page 2', async () => {
    const { runId, docId } = await queueJob(stack, { tenantId: await newTenant(stack), fixture: 'sample.pdf' });
    const run = await stack.waitRun(runId, { timeoutMs: 30000 });
    assert.equal(run.status, 'succeeded', run.error);
    assert.ok(run.stats.pages >= 3, `pages ${run.stats.pages}`);
    const rows = await stack.sql(`SELECT c.page_start, c.page_end, c.text FROM chunks c
      JOIN document_versions v ON v.version_id = c.version_id
      WHERE v.doc_id = $1 AND v.is_active AND c.tsv @@ plainto_tsquery('english', $2)`, [docId, 'zebra quantum lighthouse']);
    assert.ok(rows.length >= 1, 'phrase found');
    for (const r of rows) {
      assert.ok(r.page_start <= 2 && r.page_end >= 2, `chunk pages ${r.page_start}-${r.page_end}`);
      assert.match(r.text.toLowerCase(), /zebra/);
    }
  });

  test('after a write the search index has nothing pending: inserts are batched, then merged (migration 0017)', async () => {
    const [ix] = await stack.sql(`SELECT array_to_string(reloptions, ',') AS o FROM pg_class WHERE relname = 'chunks_tenant_tsv'`);
    assert.match(ix.o, /fastupdate=on/);
    assert.match(ix.o, /gin_pending_list_limit=256/);
    await stack.sql('CREATE EXTENSION IF NOT EXISTS pgstattuple');
    const words = Array.from({ length: 3000 }, (_, i) => `term${i} pendingword${i % 97}`).join(' ');
    const { runId } = await queueJob(stack, { tenantId: await newTenant(stack), filename: 'pending.txt', content: words });
    const run = await stack.waitRun(runId, { timeoutMs: 30000 });
    assert.equal(run.status, 'succeeded', run.error);
    assert.ok(run.stats.chunks >= 5, `chunks ${run.stats.chunks}`);
    // The merge follows the commit that made the run succeeded: wait for it, bounded.
    let g;
    await waitFor(async () => {
      [g] = await stack.sql(`SELECT pending_pages, pending_tuples FROM pgstatginindex('chunks_tenant_tsv')`);
      return g.pending_pages === 0;
    }, { timeoutMs: 5000, what: 'pending list merged' }).catch(() => {});
    assert.equal(g.pending_pages, 0, `pending pages ${g.pending_pages}, tuples ${g.pending_tuples}`);
  });

  test('an unsupported file fails at once with unsupported_type and its message goes to the DLQ', async () => {
    const before_ = await stack.dlqDepth();
    // (PNG, JPEG and TIFF are documents since issue 16: OCR; GIF is not)
    const gif = Buffer.concat([Buffer.from('GIF89a'), crypto.randomBytes(64)]);
    const { runId } = await queueJob(stack, { tenantId, filename: 'image.gif', content: gif });
    const run = await stack.waitRun(runId, { timeoutMs: 20000 });
    assert.equal(run.status, 'failed');
    assert.match(run.error, /^unsupported_type: /);
    assert.equal(run.attempt, 1, 'not retried');
    await waitFor(async () => (await stack.dlqDepth()).visible === before_.visible + 1, { what: 'DLQ copy' });
    await waitQueueEmpty(stack);
  });

  test('an upload_uri outside the tenant folder fails invalid_message; garbage goes to the DLQ', async () => {
    const { runId, msg } = await queueJob(stack, { tenantId: await newTenant(stack), fixture: 'sample.txt',
      send: false });
    await stack.sendMessage({ ...msg, upload_uri: 'file:///etc/passwd' });
    const run = await stack.waitRun(runId, { timeoutMs: 20000 });
    assert.equal(run.status, 'failed');
    assert.match(run.error, /^invalid_message: /);
    const before_ = await stack.dlqDepth();
    await stack.sqsCall('SendMessage', { QueueUrl: stack.sqs.queueUrl, MessageBody: 'not json at all' });
    await waitFor(async () => (await stack.dlqDepth()).visible === before_.visible + 1, { what: 'garbage in DLQ' });
    await waitQueueEmpty(stack);
    assert.ok(stack.workers[0].alive);
  });

  test('a duplicate message of a finished run is ACKed and dropped', async () => {
    const { runId, msg } = await queueJob(stack, { tenantId: await newTenant(stack), fixture: 'sample.md' });
    await stack.waitRun(runId);
    await stack.sendMessage(msg);
    await waitQueueEmpty(stack);
    const [r] = await stack.sql('SELECT status, attempt FROM ingestion_runs WHERE run_id = $1', [runId]);
    assert.equal(r.status, 'succeeded');
    assert.equal(r.attempt, 1);
  });

  test('UPLOAD_RETENTION: keep leaves the raw upload; delete removes it after success only', async () => {
    const kept = await queueJob(stack, { tenantId, content: 'retention keep: the narwhal stays.\n', filename: 'keep.txt' });
    assert.equal((await stack.waitRun(kept.runId)).status, 'succeeded');
    assert.ok(fs.existsSync(kept.file), 'default keep: file still there');

    // From here on a worker with UPLOAD_RETENTION=delete is the only consumer.
    await stack.killWorker(stack.workers[0], 'SIGTERM');
    const w = await stack.startWorker({ UPLOAD_RETENTION: 'delete' });
    const gone = await queueJob(stack, { tenantId, content: 'retention delete: the narwhal leaves.\n', filename: 'del.txt' });
    assert.equal((await stack.waitRun(gone.runId)).status, 'succeeded');
    await waitFor(() => !fs.existsSync(path.dirname(gone.file)), { what: 'run folder removed' });
    // a message of a run that did not succeed never removes its upload
    const failed = await queueJob(stack, { tenantId, fixture: 'corrupt.pdf', filename: 'bad.pdf', send: false });
    await stack.sql("UPDATE ingestion_runs SET status = 'failed', error = 'x: y' WHERE run_id = $1", [failed.runId]);
    await stack.sendMessage(failed.msg);
    await waitQueueEmpty(stack);
    assert.ok(fs.existsSync(failed.file), 'the failed run keeps its upload');
    assert.ok(w.alive);
  });
});

suite('concurrency and activation', () => {
  let stack;
  let tenantId;
  before(async () => {
    // A duplicate that finds its run running is left alone for TAKEOVER_AFTER + 1 s.
    stack = await startStack({ api: false, worker: true, maxReceiveCount: 3, workerEnv: { TAKEOVER_AFTER: '4s' } });
    await stack.startWorker();
    tenantId = await newTenant(stack);
  });
  after(async () => { await stack?.stop(); });

  test('two workers race for one queued run: exactly one processes it', async () => {
    // Every job is delivered twice at once; both workers long-poll the queue.
    const jobs = [];
    for (let i = 0; i < 6; i++) {
      jobs.push(await queueJob(stack, { tenantId, filename: `race${i}.txt`, content: longText(3 + i), copies: 2 }));
    }
    for (const j of jobs) {
      const run = await stack.waitRun(j.runId, { timeoutMs: 30000 });
      assert.equal(run.status, 'succeeded', run.error);
      assert.equal(run.attempt, 1, 'claimed exactly once');
      const v = await versions(stack, j.docId);
      assert.equal(v.length, 1, 'one version');
    }
    await waitQueueEmpty(stack);
    const claims = stack.workers.flatMap(logLines).filter((l) => l.msg === 'job stage' && l.stage === 'claimed');
    for (const j of jobs) {
      assert.equal(claims.filter((l) => l.run_id === j.runId).length, 1, `one claim of ${j.runId}`);
    }
    const byWorker = stack.workers.map((w) => logLines(w).filter((l) => l.msg === 'message done').length);
    assert.ok(byWorker.every((n) => n > 0), `both workers received messages: ${byWorker}`);
  });

  async function twoVersions(order) {
    const docs = await queueJob(stack, { tenantId, filename: 'v1.txt', content: `old ${crypto.randomUUID()}`,
      createdAt: new Date(Date.now() - 60000).toISOString(), send: false });
    const older = docs;
    const newer = await queueJob(stack, { tenantId, docId: docs.docId, filename: 'v2.txt',
      content: `new ${crypto.randomUUID()}`, send: false });
    const first = order === 'newer-first' ? newer : older;
    const second = order === 'newer-first' ? older : newer;
    await stack.sendMessage(first.msg);
    const r1 = await stack.waitRun(first.runId);
    assert.equal(r1.status, 'succeeded', r1.error);
    await stack.sendMessage(second.msg);
    const r2 = await stack.waitRun(second.runId);
    assert.equal(r2.status, 'succeeded', r2.error);
    const v = await versions(stack, docs.docId);
    assert.equal(v.length, 2);
    assert.equal(v.filter((x) => x.is_active).length, 1, 'never two active');
    const active = v.find((x) => x.is_active);
    assert.equal(active.run_id, newer.runId, 'the newer upload is active');
    const [ro] = await stack.sql('SELECT stats FROM ingestion_runs WHERE run_id = $1', [older.runId]);
    const [rn] = await stack.sql('SELECT stats FROM ingestion_runs WHERE run_id = $1', [newer.runId]);
    assert.equal(rn.stats.activated, true);
    assert.equal(ro.stats.activated, order === 'older-first', 'older run activated only when it finished first');
  }

  test('two versions finishing newer-first: the newer upload stays active', () => twoVersions('newer-first'));
  test('two versions finishing older-first: the newer upload replaces it', () => twoVersions('older-first'));

  test('two versions finishing at the same time on two workers: one active, the newer', async () => {
    for (let i = 0; i < 4; i++) {
      const a = await queueJob(stack, { tenantId, filename: 'a.txt', content: longText(2) + crypto.randomUUID(),
        createdAt: new Date(Date.now() - 1000).toISOString(), send: false });
      const b = await queueJob(stack, { tenantId, docId: a.docId, filename: 'b.txt',
        content: longText(2) + crypto.randomUUID(), send: false });
      await Promise.all([stack.sendMessage(a.msg), stack.sendMessage(b.msg)]);
      await stack.waitRun(a.runId);
      await stack.waitRun(b.runId);
      const v = await versions(stack, a.docId);
      assert.equal(v.filter((x) => x.is_active).length, 1);
      assert.equal(v.find((x) => x.is_active).run_id, b.runId);
    }
  });
});

suite('failures and retries', () => {
  let stack;
  let tenantId;
  before(async () => {
    stack = await startStack({ api: false, worker: true, maxReceiveCount: 3,
      // bomb.docx inflates to 64 MiB: over this cap it must fail too_large.
      workerEnv: { VISIBILITY_TIMEOUT: '10s', HEARTBEAT_INTERVAL: '1s', EXTRACT_MAX_UNCOMPRESSED: '16M' } });
    tenantId = await newTenant(stack);
  });
  after(async () => { await stack?.stop(); });

  // pdftotext's own verdict on the bytes is permanent (errors.h CORRUPT): one attempt, no queue retries.
  test('corrupt PDF: failed extract_failed in one attempt, message in the DLQ, queue empty, next job runs', async () => {
    const dlq0 = (await stack.dlqDepth()).visible;
    const t0 = Date.now();
    const { runId } = await queueJob(stack, { tenantId, fixture: 'corrupt.pdf' });
    const run = await stack.waitRun(runId, { timeoutMs: 60000 });
    assert.equal(run.status, 'failed');
    assert.equal(run.error, 'extract_failed: pdftotext exit 1');
    assert.equal(run.attempt, 1, 'a damaged file is not retried');
    assert.equal(run.stats.last_error ?? null, null, 'never requeued');
    assert.ok(Date.now() - t0 < 15000, 'failed without the backoff of queue retries');
    assert.ok(run.finished_at);
    await waitFor(async () => (await stack.dlqDepth()).visible === dlq0 + 1, { timeoutMs: 20000, what: 'message in DLQ' });
    await waitQueueEmpty(stack);
    const [m] = await stack.receiveMessages(stack.sqs.dlqUrl, { visibility: 0 });
    assert.equal(JSON.parse(m.Body).run_id, runId);
    // The worker goes on with the next job.
    const next = await queueJob(stack, { tenantId, fixture: 'sample.txt', filename: 'after-corrupt.txt' });
    assert.equal((await stack.waitRun(next.runId)).status, 'succeeded');
    assert.ok(stack.workers[0].alive);
  });

  // Extraction worked but found nothing: permanent, so one attempt, then the DLQ (README rule 3).
  // Before: such runs succeeded with 0 chunks and an active, empty version.
  for (const [label, filename, content] of [
    ['scanned PDF without a text layer', 'scan.pdf', scannedPdf()],
    ['whitespace-only text file', 'blank.txt', ' \n\t\n\u00a0\u3000 \r\n\n   \n'],
    ['HTML without text', 'empty.html', '<html><head><title></title></head><body><p> </p><img src="x.png"></body></html>'],
  ]) {
    test(`${label}: failed "extract_failed: no text found" at once, message in the DLQ, no version`, async () => {
      const dlq0 = (await stack.dlqDepth()).visible;
      const { runId, docId } = await queueJob(stack, { tenantId, filename, content });
      const run = await stack.waitRun(runId, { timeoutMs: 30000 });
      assert.equal(run.status, 'failed', JSON.stringify(run.stats));
      assert.equal(run.error, 'extract_failed: no text found');
      assert.equal(run.attempt, 1, 'permanent: not retried');
      assert.ok(run.finished_at);
      assert.equal((await versions(stack, docId)).length, 0, 'no version stored');
      await waitFor(async () => (await stack.dlqDepth()).visible === dlq0 + 1, { timeoutMs: 20000, what: 'message in DLQ' });
      await waitQueueEmpty(stack);
      const msgs = await stack.receiveMessages(stack.sqs.dlqUrl, { max: 10, visibility: 0 });
      assert.ok(msgs.some((m) => JSON.parse(m.Body).run_id === runId), 'this run\'s message is in the DLQ');
    });
  }

  test('DOCX decompression bomb: run failed, worker alive', async () => {
    const { runId } = await queueJob(stack, { tenantId, fixture: 'bomb.docx' });
    const run = await stack.waitRun(runId, { timeoutMs: 60000 });
    assert.equal(run.status, 'failed');
    assert.match(run.error, /^too_large: /);
    assert.equal(run.attempt, 1, 'a bomb is not retried');
    const next = await queueJob(stack, { tenantId, fixture: 'sample.docx', filename: 'after-bomb.docx' });
    assert.equal((await stack.waitRun(next.runId)).status, 'succeeded');
    assert.ok(stack.workers[0].alive);
  });

  test('an extraction past EXTRACT_TIMEOUT: run failed, worker alive', async () => {
    // A second worker with a tiny time limit takes the big job; the first one is stopped meanwhile.
    await stack.killWorker(stack.workers[0], 'SIGTERM');
    // SHUTDOWN_GRACE bounds the wait for the receiver's 20 s long poll at exit (the harness kills after 15 s).
    const w = await stack.startWorker({ EXTRACT_TIMEOUT: '100ms', SHUTDOWN_GRACE: '10s' });
    const big = '<html><body>' + '<p>lorem ipsum <b>dolor</b> sit amet</p>\n'.repeat(1500000) + '</body></html>';
    const { runId } = await queueJob(stack, { tenantId, filename: 'big.html', content: big });
    const run = await stack.waitRun(runId, { timeoutMs: 90000 });
    assert.equal(run.status, 'failed');
    assert.match(run.error, /^(timeout|extract_failed|too_large): /);
    assert.ok(w.alive, 'worker alive');
    const r = await w.stop('SIGTERM');
    assert.equal(r.code, 0, 'clean drain and exit 0');
    const w2 = await stack.startWorker();
    const next = await queueJob(stack, { tenantId, fixture: 'sample.txt', filename: 'after-timeout.txt' });
    assert.equal((await stack.waitRun(next.runId)).status, 'succeeded');
    assert.ok(w2.alive);
  });
});

suite('crashes and outages', () => {
  let stack;
  let tenantId;
  let embeddings;
  before(async () => {
    embeddings = await startSlowEmbeddings({ latencyMs: 250, dim: 64 });
    const port = embeddings.address().port;
    stack = await startStack({ api: false, worker: false, maxReceiveCount: 5,
      workerEnv: { VISIBILITY_TIMEOUT: '3s', TAKEOVER_AFTER: '3s', HEARTBEAT_INTERVAL: '500ms',
        EMBED_PROVIDER: 'openai', EMBED_URL: `http://127.0.0.1:${port}`, EMBED_MODEL: 'slow-test', EMBED_DIM: '64',
        EMBED_BATCH: '2', CHUNK_SIZE: '400', CHUNK_OVERLAP: '50', SHUTDOWN_GRACE: '10s' } });
    tenantId = await newTenant(stack);
  });
  after(async () => {
    await stack?.stop();
    embeddings?.close();
  });

  async function waitStage(runId, stage) {
    return waitFor(async () => {
      const [r] = await stack.sql('SELECT status, stats FROM ingestion_runs WHERE run_id = $1', [runId]);
      return r && r.status === 'running' && r.stats?.progress?.stage === stage;
    }, { timeoutMs: 30000, intervalMs: 50, what: `stage ${stage}` });
  }

  test('kill -9 mid job: redelivered, taken over, finishes with exactly one active version', async () => {
    const w1 = await stack.startWorker();
    const { runId, docId } = await queueJob(stack, { tenantId, filename: 'long.txt', content: longText(40) });
    await waitStage(runId, 'embed');
    await stack.killWorker(w1, 'SIGKILL');
    const w2 = await stack.startWorker();
    const run = await stack.waitRun(runId, { timeoutMs: 90000 });
    assert.equal(run.status, 'succeeded', run.error);
    assert.ok(run.attempt >= 2, `taken over (attempt ${run.attempt})`);
    const v = await versions(stack, docId);
    assert.equal(v.length, 1);
    assert.equal(v[0].is_active, true);
    await waitQueueEmpty(stack);
    assert.equal((await stack.dlqDepth()).visible, 0);
    await w2.stop('SIGTERM');
  });

  test('SIGTERM mid job: no new receives, the running job finishes, exit 0', async () => {
    const w = await stack.startWorker();
    const { runId } = await queueJob(stack, { tenantId, filename: 'drain.txt', content: longText(16) });
    await waitStage(runId, 'embed');
    const r = await w.stop('SIGTERM');
    assert.equal(r.code, 0, 'exit 0 after a clean drain');
    const [run] = await stack.sql('SELECT status, attempt FROM ingestion_runs WHERE run_id = $1', [runId]);
    assert.equal(run.status, 'succeeded', 'the in-flight job was finished before exit');
    assert.equal(run.attempt, 1);
    await waitQueueEmpty(stack);
  });

  test('PostgreSQL stopped at commit time: message not ACKed; after PostgreSQL is back the run succeeds', async () => {
    const w = await stack.startWorker();
    const { runId, docId } = await queueJob(stack, { tenantId, filename: 'pgdown.txt', content: longText(20) });
    await waitStage(runId, 'embed');
    await stack.stopPg();
    // Embedding finishes while the database is down; the write cannot commit.
    await sleep(8000);
    const d = await stack.queueDepth();
    assert.equal(d.visible + d.inflight, 1, 'the message is still in the queue (not ACKed)');
    assert.ok(w.alive);
    await stack.startPg();
    const run = await stack.waitRun(runId, { timeoutMs: 60000 });
    assert.equal(run.status, 'succeeded', run.error);
    const v = await versions(stack, docId);
    assert.equal(v.length, 1);
    assert.equal(v[0].is_active, true);
    await waitQueueEmpty(stack);
    assert.equal((await stack.dlqDepth()).visible, 0);
    const r = await w.stop('SIGTERM');
    assert.equal(r.code, 0);
  });
});

// Issue 16 (worker throughput): the order held messages start in, and the binary COPY
// of the embeddings. One job thread, four held messages, a slow embeddings server so
// the first job is still running when the others are received.
suite('scheduling and storage', () => {
  let stack;
  let tenantId;
  let embeddings;
  const dim = 48;
  before(async () => {
    embeddings = await startSlowEmbeddings({ latencyMs: 300, dim });
    const port = embeddings.address().port;
    stack = await startStack({ api: false, worker: true, maxReceiveCount: 3,
      workerEnv: { WORKER_CONCURRENCY: '1', MAX_INFLIGHT: '4', EMBED_PROVIDER: 'openai',
        EMBED_URL: `http://127.0.0.1:${port}`, EMBED_MODEL: 'slow-test', EMBED_DIM: String(dim), EMBED_BATCH: '2',
        CHUNK_SIZE: '400', CHUNK_OVERLAP: '50' } });
    tenantId = await newTenant(stack);
  });
  after(async () => {
    await stack?.stop();
    embeddings?.close();
  });

  test('held messages start largest upload first (the first job holds the only thread meanwhile)', async () => {
    const first = await queueJob(stack, { tenantId, filename: 'first.txt', content: longText(8) });
    await waitFor(async () => {
      const [r] = await stack.sql('SELECT status FROM ingestion_runs WHERE run_id = $1', [first.runId]);
      return r.status === 'running';
    }, { timeoutMs: 20000, intervalMs: 20, what: 'first job running' });
    const small = await queueJob(stack, { tenantId, filename: 'small.txt', content: longText(1) });
    const large = await queueJob(stack, { tenantId, filename: 'large.txt', content: longText(12) });
    const medium = await queueJob(stack, { tenantId, filename: 'medium.txt', content: longText(4) });
    const runs = [];
    for (const j of [first, small, large, medium]) {
      const run = await stack.waitRun(j.runId, { timeoutMs: 60000 });
      assert.equal(run.status, 'succeeded', run.error);
      runs.push(run);
    }
    const [, rs, rl, rm] = runs;
    const t = (r) => new Date(r.started_at).getTime();
    assert.ok(t(runs[0]) < t(rl), 'the first job was running before the others arrived');
    assert.ok(t(rl) < t(rm) && t(rm) < t(rs), `order large < medium < small: ${t(rl)} ${t(rm)} ${t(rs)}`);
  });

  test('a chunk\'s tsv, head_tsv and sketch written by the worker equal the expressions recomputed (0019)', async () => {
    // HTML headings give nested section paths; several chunks share each one
    const sections = Array.from({ length: 6 }, (_, i) => `<h1>Guide ${i % 2}</h1><h2>Refunds and returns ${i}</h2>` +
      `<p>${longText(1)}</p><h3>Shipping rules ${i}</h3><p>${longText(4).replaceAll('\n\n', '</p><p>')}</p>`);
    const { runId } = await queueJob(stack, { tenantId, filename: 'lexemes.html',
      content: `<html><body>${sections.join('')}</body></html>` });
    const run = await stack.waitRun(runId, { timeoutMs: 30000 });
    assert.equal(run.status, 'succeeded', run.error);
    const recount = `SELECT count(*)::int AS n,
        count(*) FILTER (WHERE section LIKE '% > %')::int AS nested,
        count(DISTINCT section)::int AS heads,
        count(*) FILTER (WHERE tsv IS DISTINCT FROM to_tsvector('english', text))::int AS bad_tsv,
        count(*) FILTER (WHERE head_tsv IS DISTINCT FROM
          to_tsvector('english', coalesce(substring(section FROM '.* > (.*)$'), '')))::int AS bad_head,
        count(*) FILTER (WHERE sketch IS DISTINCT FROM chunk_sketch(text))::int AS bad_sketch
      FROM chunks WHERE version_id = $1`;
    const [w] = await stack.sql(recount, [run.stats.version_id]);
    assert.ok(w.nested >= 12 && w.heads >= 6 && w.heads < w.n, JSON.stringify(w));
    assert.deepEqual([w.bad_tsv, w.bad_head, w.bad_sketch], [0, 0, 0], JSON.stringify(w));
    // Any other writer: a row inserted without them gets them computed, an UPDATE of text recomputes
    // them. In a transaction rolled back: the term statistics count no UPDATE of text (0007).
    const db = new pg.Client({ connectionString: stack.superUrl });
    await db.connect();
    try {
      await db.query('BEGIN');
      const { rows: [c] } = await db.query(`INSERT INTO chunks (tenant_id, doc_id, version_id, ordinal, text, char_start,
          char_end, section)
        SELECT tenant_id, doc_id, version_id, 100000, 'zebras grazing quietly', 0, 1, 'A > Zebra crossings'
          FROM document_versions WHERE version_id = $1 RETURNING chunk_id`, [run.stats.version_id]);
      await db.query(`UPDATE chunks SET text = 'lighthouses shining', tsv = NULL WHERE chunk_id = $1`, [c.chunk_id]);
      const { rows: [o] } = await db.query(`SELECT tsv::text AS tsv, head_tsv::text AS head FROM chunks
        WHERE chunk_id = $1`, [c.chunk_id]);
      assert.deepEqual(o, { tsv: "'lighthous':1 'shine':2", head: "'cross':2 'zebra':1" });
      const { rows: [w2] } = await db.query(recount, [run.stats.version_id]);
      assert.deepEqual([w2.n, w2.bad_tsv, w2.bad_head, w2.bad_sketch], [w.n + 1, 0, 0, 0], JSON.stringify(w2));
    } finally {
      await db.query('ROLLBACK').catch(() => {});
      await db.end();
    }
  });

  test('embeddings stored by binary COPY are the embedder\'s vectors, in order, per chunk, as big-endian float4 bytes', async () => {
    const j = await queueJob(stack, { tenantId, filename: 'vec.txt', content: longText(3) });
    const run = await stack.waitRun(j.runId, { timeoutMs: 30000 });
    assert.equal(run.status, 'succeeded', run.error);
    const rows = await stack.sql(`SELECT c.text, e.dim, e.model, e.vector FROM chunks c
      JOIN chunk_embeddings e ON e.chunk_id = c.chunk_id WHERE c.version_id = $1 ORDER BY c.ordinal`, [run.stats.version_id]);
    assert.ok(rows.length >= 2, `chunks: ${rows.length}`);
    for (const r of rows) {
      const h = crypto.createHash('sha256').update(r.text).digest();
      const v = Array.from({ length: dim }, (_, i) => (h[i % 32] - 128) / 128);
      const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
      assert.equal(r.dim, dim);
      assert.equal(r.model, 'slow-test');
      // the stored form (migration 0021): dim big-endian float4, nothing else
      assert.ok(Buffer.isBuffer(r.vector));
      assert.equal(r.vector.length, 4 * dim);
      const got = Array.from({ length: dim }, (_, i) => r.vector.readFloatBE(4 * i));
      got.forEach((x, i) => assert.ok(Math.abs(x - v[i] / norm) < 1e-6, `component ${i}: ${x} vs ${v[i] / norm}`));
    }
  });
});
