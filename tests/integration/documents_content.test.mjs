// Versions the UI acts on (issue 15), against the real stack (core-api, the queue and a worker):
// the original file of a version (content type, disposition, range requests, tenant isolation,
// roles, a deleted document no longer served), its chunks, the admin's re-activation keeping one
// active version, the deleted-document rule (a re-upload never revives it) and Retry of a failed run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startStack } from '../lib/stack.mjs';
import { makePdf } from '../lib/pdf-writer.mjs';

let stack;
let A;      // tenant acme, admin
let U;      // tenant acme, role user
let U2;     // tenant acme, another user
let B;      // tenant globex, admin
const uniq = (s) => `${s} ${crypto.randomUUID()}`;

async function ingest(who, content, { filename = 'doc.txt', docId, title } = {}) {
  const up = await stack.upload({ token: who.token, filename, content, docId, title });
  assert.equal(up.status, 202, `upload: ${up.status} ${up.text}`);
  const run = await stack.waitRun(up.json.run_id, { timeoutMs: 90000 });
  assert.equal(run.status, 'succeeded', `run: ${run.status} ${run.error}`);
  return { docId: up.json.doc_id, runId: up.json.run_id, versionId: run.stats.version_id };
}

async function user(email) {
  const mk = await stack.api('POST', '/v1/users', {
    token: A.token, body: { email, password: 'correct horse battery user', role: 'user' } });
  assert.equal(mk.status, 201, mk.text);
  const l = await stack.login({ tenant: 'acme', email, password: 'correct horse battery user' });
  assert.equal(l.status, 200);
  return l;
}

const content = (who, d, v, q = '', headers = {}) =>
  stack.api('GET', `/v1/documents/${d}/versions/${v}/content${q}`, { token: who.token, headers });

async function bytesOf(who, d, v, headers = {}) {
  const r = await fetch(`${stack.baseUrl}/v1/documents/${d}/versions/${v}/content`,
    { headers: { authorization: `Bearer ${who.token}`, ...headers } });
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
}

async function activeCount(docId) {
  return Number((await stack.sql(
    'SELECT count(*)::int AS n FROM document_versions WHERE doc_id = $1 AND is_active', [docId]))[0].n);
}

async function search(who, query) {
  const r = await stack.api('POST', '/v1/search', { token: who.token, body: { query, top_k: 10 } });
  assert.equal(r.status, 200, r.text);
  return r.json.results;
}

before(async () => {
  stack = await startStack({ worker: true, maxReceiveCount: 3 });
  A = await stack.tenant('acme');
  B = await stack.tenant('globex');
  U = await user('user@acme.test');
  U2 = await user('other@acme.test');
});
after(async () => { await stack?.stop(); });

describe('content of a version', () => {
  let pdf;
  let txt;
  let html;
  let pdfBytes;
  before(async () => {
    pdfBytes = makePdf([['Page one says hello.'], ['Page two: the quokka clause applies.'], ['Page three ends it.']]);
    pdf = await ingest(U, pdfBytes, { filename: 'Handbook ü.pdf' });
    txt = await ingest(U, uniq('plain text body for the viewer'), { filename: 'notes.txt' });
    html = await ingest(U, '<html><body><script>alert(1)</script><p>Manual</p></body></html>',
      { filename: 'manual.html' });
  });

  test('PDF: 200, application/pdf, inline with the original name, the exact bytes, no server path', async () => {
    const r = await bytesOf(U, pdf.docId, pdf.versionId);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/pdf');
    const cd = r.headers.get('content-disposition');
    assert.match(cd, /^inline; filename="Handbook _\.pdf"; filename\*=UTF-8''Handbook%20%C3%BC\.pdf$/);
    assert.equal(r.headers.get('accept-ranges'), 'bytes');
    assert.match(r.headers.get('content-security-policy'), /sandbox/);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.ok(r.body.equals(Buffer.from(pdfBytes)));
    for (const [, v] of r.headers) assert.ok(!v.includes(stack.uploadDir), `a header leaks the store: ${v}`);
    const dl = await content(U, pdf.docId, pdf.versionId, '?download=1');
    assert.match(dl.headers.get('content-disposition'), /^attachment; /);
  });

  test('text is UTF-8 text; HTML is never shown inline (an uploaded page must not run as this origin)', async () => {
    const t = await content(U, txt.docId, txt.versionId);
    assert.equal(t.status, 200);
    assert.equal(t.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.match(t.text, /plain text body for the viewer/);
    const h = await content(U, html.docId, html.versionId);
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('content-type'), 'text/html');
    assert.match(h.headers.get('content-disposition'), /^attachment; filename="manual.html"/);
    assert.match(h.headers.get('content-security-policy'), /^sandbox; default-src 'none'/);
  });

  test('range requests: 206 with Content-Range, suffix ranges, 416 past the end, several ranges = whole file', async () => {
    const n = Buffer.from(pdfBytes).length;
    const r1 = await bytesOf(U, pdf.docId, pdf.versionId, { range: 'bytes=0-9' });
    assert.equal(r1.status, 206);
    assert.equal(r1.headers.get('content-range'), `bytes 0-9/${n}`);
    assert.ok(r1.body.equals(Buffer.from(pdfBytes).subarray(0, 10)));
    const r2 = await bytesOf(U, pdf.docId, pdf.versionId, { range: 'bytes=-5' });
    assert.equal(r2.status, 206);
    assert.equal(r2.headers.get('content-range'), `bytes ${n - 5}-${n - 1}/${n}`);
    assert.ok(r2.body.equals(Buffer.from(pdfBytes).subarray(n - 5)));
    const r3 = await bytesOf(U, pdf.docId, pdf.versionId, { range: `bytes=10-${n + 100}` });
    assert.equal(r3.status, 206);
    assert.equal(r3.body.length, n - 10);
    const r4 = await bytesOf(U, pdf.docId, pdf.versionId, { range: `bytes=${n}-` });
    assert.equal(r4.status, 416);
    assert.equal(r4.headers.get('content-range'), `bytes */${n}`);
    const r5 = await bytesOf(U, pdf.docId, pdf.versionId, { range: 'bytes=0-1,5-6' });
    assert.equal(r5.status, 200);
    assert.equal(r5.body.length, n);
    const r6 = await bytesOf(U, pdf.docId, pdf.versionId, { range: 'bytes=9-2' });
    assert.equal(r6.status, 416);
    // numbers past 64 bits: a last byte that large is the end, a first byte that large is past it
    const r7 = await bytesOf(U, pdf.docId, pdf.versionId, { range: 'bytes=3-99999999999999999999999' });
    assert.equal(r7.status, 206);
    assert.equal(r7.headers.get('content-range'), `bytes 3-${n - 1}/${n}`);
    const r8 = await bytesOf(U, pdf.docId, pdf.versionId, { range: 'bytes=99999999999999999999999-' });
    assert.equal(r8.status, 416);
    // the unit in any case; garbage is ignored (the whole file)
    const r9 = await bytesOf(U, pdf.docId, pdf.versionId, { range: 'Bytes=0-0' });
    assert.equal(r9.status, 206);
    assert.equal(r9.body.length, 1);
    const r10 = await bytesOf(U, pdf.docId, pdf.versionId, { range: 'bytes=a-b' });
    assert.equal(r10.status, 200);
    assert.equal(r10.body.length, n);
  });

  test('tenant isolation: another tenant, a missing id, a malformed id all answer the same 404', async () => {
    const bodies = new Set();
    for (const [who, d, v] of [[B, pdf.docId, pdf.versionId], [U, pdf.docId, crypto.randomUUID()],
      [U, crypto.randomUUID(), pdf.versionId], [U, txt.docId, pdf.versionId], [U, 'nope', pdf.versionId]]) {
      const r = await content(who, d, v);
      assert.equal(r.status, 404, r.text);
      bodies.add(r.json.error.code);
      const c = await stack.api('GET', `/v1/documents/${d}/versions/${v}/chunks`, { token: who.token });
      assert.equal(c.status, 404);
    }
    assert.deepEqual([...bodies], ['not_found']);
    const anon = await stack.api('GET', `/v1/documents/${pdf.docId}/versions/${pdf.versionId}/content`);
    assert.equal(anon.status, 401);
  });

  test('chunks: the extracted text with pages and offsets, one chunk by id', async () => {
    const r = await stack.api('GET', `/v1/documents/${pdf.docId}/versions/${pdf.versionId}/chunks`, { token: U.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.mime, 'application/pdf');
    assert.equal(r.json.truncated, false);
    assert.ok(r.json.chunks.length >= 1);
    const quokka = r.json.chunks.find((c) => c.text.includes('quokka'));
    assert.ok(quokka);
    assert.ok(quokka.page_start <= 2 && quokka.page_end >= 2);
    const one = await stack.api('GET',
      `/v1/documents/${pdf.docId}/versions/${pdf.versionId}/chunks?chunk_id=${quokka.chunk_id}`, { token: U.token });
    assert.deepEqual(one.json.chunks, [quokka]);
  });

  test('a file no longer in the store: 404 "not kept", never a 500', async () => {
    const t = await ingest(U, uniq('short-lived original'), { filename: 'gone.txt' });
    const [run] = await stack.sql('SELECT config->>\'upload_uri\' AS u FROM ingestion_runs WHERE run_id = $1', [t.runId]);
    await stack.uploads.removeUri(run.u);
    assert.equal(await stack.uploads.size(U.user.tenant_id, t.runId, 'gone.txt'), null);
    const r = await content(U, t.docId, t.versionId);
    assert.equal(r.status, 404);
    assert.match(r.json.error.message, /not kept/);
  });

  test('a deleted document\'s content and chunks are no longer served', async () => {
    const t = await ingest(U, uniq('to be deleted soon'), { filename: 'del.txt' });
    assert.equal((await content(U, t.docId, t.versionId)).status, 200);
    const del = await stack.api('DELETE', `/v1/documents/${t.docId}`, { token: A.token });
    assert.equal(del.status, 200);
    assert.equal((await content(U, t.docId, t.versionId)).status, 404);
    assert.equal((await content(A, t.docId, t.versionId)).status, 404);
    const c = await stack.api('GET', `/v1/documents/${t.docId}/versions/${t.versionId}/chunks`, { token: A.token });
    assert.equal(c.status, 404);
  });
});

describe('re-activation of an older version (admin)', () => {
  test('one active version at every step; search serves the re-activated text only', async () => {
    const w1 = uniq('wallabyone');
    const w2 = uniq('wallabytwo');
    const v1 = await ingest(U, `first edition ${w1}`, { filename: 'policy.md' });
    const v2 = await ingest(U, `second edition ${w2}`, { filename: 'policy.md', docId: v1.docId });
    assert.equal(v2.docId, v1.docId);
    assert.equal(await activeCount(v1.docId), 1);
    assert.deepEqual((await search(U, w1.split(' ')[0])).map((c) => c.version_id).filter((x) => x === v1.versionId), []);

    // a user may not; an admin may
    const path1 = `/v1/documents/${v1.docId}/versions/${v1.versionId}/activate`;
    assert.equal((await stack.api('POST', path1, { token: U.token })).status, 403);
    const ok = await stack.api('POST', path1, { token: A.token });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json, { doc_id: v1.docId, version_id: v1.versionId, is_active: true });
    assert.equal(await activeCount(v1.docId), 1);
    const doc = await stack.api('GET', `/v1/documents/${v1.docId}`, { token: U.token });
    assert.equal(doc.json.active_version_id, v1.versionId);
    const old = doc.json.versions.find((v) => v.version_id === v2.versionId);
    assert.equal(old.is_active, false);
    assert.equal(old.inactive_reason, 'superseded');
    assert.equal(old.uploaded_by, 'user@acme.test');
    const hits = await search(U, 'wallabyone wallabytwo edition');
    assert.ok(hits.length >= 1);
    for (const h of hits.filter((x) => x.doc_id === v1.docId)) assert.equal(h.version_id, v1.versionId);

    // again: harmless; the other tenant, a missing version: 404
    assert.equal((await stack.api('POST', path1, { token: A.token })).status, 200);
    assert.equal(await activeCount(v1.docId), 1);
    assert.equal((await stack.api('POST', path1, { token: B.token })).status, 404);
    const missing = `/v1/documents/${v1.docId}/versions/${crypto.randomUUID()}/activate`;
    assert.equal((await stack.api('POST', missing, { token: A.token })).status, 404);

    // a newer upload still wins (newest-wins rule, docs/decisions.md)
    const v3 = await ingest(U, uniq('third edition'), { filename: 'policy.md', docId: v1.docId });
    const after3 = await stack.api('GET', `/v1/documents/${v1.docId}`, { token: U.token });
    assert.equal(after3.json.active_version_id, v3.versionId);
    assert.equal(await activeCount(v1.docId), 1);

    // a deleted document: 409, nothing activated
    assert.equal((await stack.api('DELETE', `/v1/documents/${v1.docId}`, { token: A.token })).status, 200);
    const del = await stack.api('POST', path1, { token: A.token });
    assert.equal(del.status, 409);
    assert.equal(await activeCount(v1.docId), 0);
  });
});

describe('the deleted-document rule (audit)', () => {
  test('re-uploading a deleted document\'s content makes a new document; the deletion record stays', async () => {
    const text = uniq('numbat audit content');
    const first = await ingest(U, text, { filename: 'audit.txt' });
    const del = await stack.api('DELETE', `/v1/documents/${first.docId}`, { token: A.token });
    assert.equal(del.status, 200);
    const [before] = await stack.sql('SELECT deleted_at, deleted_by::text AS by FROM documents WHERE doc_id = $1',
      [first.docId]);
    assert.ok(before.deleted_at);
    assert.equal(before.by, A.user.user_id);

    // the same bytes again, by a user, without doc_id: a new document
    const again = await ingest(U, text, { filename: 'audit.txt' });
    assert.notEqual(again.docId, first.docId);
    const [after] = await stack.sql('SELECT deleted_at, deleted_by::text AS by FROM documents WHERE doc_id = $1',
      [first.docId]);
    assert.deepEqual(after, before, 'the deletion record is kept');
    const old = await stack.api('GET', `/v1/documents/${first.docId}`, { token: U.token });
    assert.ok(old.json.deleted_at);
    assert.equal(old.json.active_version_id, null);
    const fresh = await stack.api('GET', `/v1/documents/${again.docId}`, { token: U.token });
    assert.equal(fresh.json.active_version_id, again.versionId);
    assert.equal(fresh.json.deleted_at, null);
    const hits = await search(U, 'numbat audit content');
    assert.ok(hits.some((h) => h.doc_id === again.docId));
    assert.ok(!hits.some((h) => h.doc_id === first.docId));

    // with the deleted document's doc_id: 409, nothing recorded
    const runs0 = (await stack.sql('SELECT count(*)::int AS n FROM ingestion_runs'))[0].n;
    const v = await stack.upload({ token: U.token, filename: 'audit.txt', content: uniq('numbat v2'), docId: first.docId });
    assert.equal(v.status, 409, v.text);
    assert.match(v.json.error.message, /deleted/);
    assert.equal((await stack.sql('SELECT count(*)::int AS n FROM ingestion_runs'))[0].n, runs0);
    const [still] = await stack.sql('SELECT deleted_at FROM documents WHERE doc_id = $1', [first.docId]);
    assert.deepEqual(still.deleted_at, before.deleted_at);
  });
});

describe('retry of a failed run', () => {
  test('the uploader or an admin gets a new attempt of the same upload; others may not', async () => {
    // a good file whose run failed for a transient reason (marked so before the worker saw it)
    await stack.killWorker(stack.workers[0], 'SIGKILL');
    const up = await stack.upload({ token: U.token, filename: 'retry-me.txt', content: uniq('kangaroo retry body') });
    assert.equal(up.status, 202);
    await stack.sql("UPDATE ingestion_runs SET status = 'failed', error = 'store_failed: database away', finished_at = now() WHERE run_id = $1",
      [up.json.run_id]);
    await stack.startWorker();

    const p = `/v1/ingestion-runs/${up.json.run_id}/retry`;
    const other = await stack.api('POST', p, { token: U2.token });
    assert.equal(other.status, 403, other.text);
    assert.equal((await stack.api('POST', p, { token: B.token })).status, 404);
    assert.equal((await stack.api('POST', `/v1/ingestion-runs/${crypto.randomUUID()}/retry`, { token: U.token })).status, 404);

    const r = await stack.api('POST', p, { token: U.token });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.retry_of, up.json.run_id);
    assert.equal(r.json.doc_id, up.json.doc_id);
    assert.notEqual(r.json.run_id, up.json.run_id);
    const run = await stack.waitRun(r.json.run_id, { timeoutMs: 90000 });
    assert.equal(run.status, 'succeeded', run.error);
    const got = await stack.api('GET', `/v1/ingestion-runs/${r.json.run_id}`, { token: U.token });
    assert.equal(got.json.config.retry_of, up.json.run_id);
    assert.equal(got.json.config.created_by_user_id, U.user.user_id);
    assert.equal(got.json.config.original_filename, 'retry-me.txt');
    assert.ok(!JSON.stringify(got.json).includes(stack.uploadDir));
    // the original failed run is kept as it was
    const orig = await stack.api('GET', `/v1/ingestion-runs/${up.json.run_id}`, { token: U.token });
    assert.equal(orig.json.status, 'failed');
    assert.equal(orig.json.error, 'store_failed: database away');
    // only a failed run can be retried
    const again = await stack.api('POST', `/v1/ingestion-runs/${r.json.run_id}/retry`, { token: A.token });
    assert.equal(again.status, 409);
  });

  test('an admin may retry anyone\'s failed run; a corrupt PDF fails again in one attempt', async () => {
    const bad = fs.readFileSync(path.join(stack.fixtures, 'corrupt.pdf'));
    const up = await stack.upload({ token: U.token, filename: 'broken.pdf', content: bad });
    assert.equal(up.status, 202, up.text);
    const run = await stack.waitRun(up.json.run_id, { timeoutMs: 60000 });
    assert.equal(run.status, 'failed');
    assert.equal(run.attempt, 1);
    assert.match(run.error, /^extract_failed: pdftotext exit/);
    const r = await stack.api('POST', `/v1/ingestion-runs/${up.json.run_id}/retry`, { token: A.token });
    assert.equal(r.status, 202, r.text);
    const run2 = await stack.waitRun(r.json.run_id, { timeoutMs: 60000 });
    assert.equal(run2.status, 'failed');
    assert.equal(run2.attempt, 1);
  });
});
