// Retrieval runtime and documents API (issue 5), against the real stack: every
// document goes through the real pipeline (POST /v1/ingest -> queue -> ingest-worker).
// Covers latest-only, abstain, natural-language questions, tenant isolation,
// deletion, snippet escaping, and that every citation is a chunk of an active
// version of the caller's tenant (checked with SQL).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';

let stack;
let A;       // tenant acme, admin
let Auser;   // tenant acme, role user
let B;       // tenant globex, admin
const docs = {};

async function ingest(token, content, { title, docId, filename = 'doc.txt' } = {}) {
  const up = await stack.upload({ token, filename, content, title, docId });
  assert.equal(up.status, 202, `upload: ${up.status} ${up.text}`);
  const run = await stack.waitRun(up.json.run_id, { timeoutMs: 60000 });
  assert.equal(run.status, 'succeeded', `run ${up.json.run_id}: ${run.status} ${run.error}`);
  return { docId: up.json.doc_id, runId: up.json.run_id, versionId: run.stats?.version_id };
}

async function search(who, query, topK) {
  const body = topK === undefined ? { query } : { query, top_k: topK };
  return stack.api('POST', '/v1/search', { token: who.token, body });
}

// Invariants 2-4: each cited chunk exists, belongs to the caller's tenant, to an
// active version of a live document, and the citation's ids agree with the database.
async function assertCitationsValid(who, r) {
  assert.equal(r.status, 200);
  const results = r.json.results;
  if (!results.length) return;
  const rows = await stack.sql(
    `SELECT c.chunk_id::text, c.doc_id::text, c.version_id::text
       FROM chunks c
       JOIN document_versions v ON v.version_id = c.version_id AND v.is_active
       JOIN documents d ON d.doc_id = c.doc_id AND d.deleted_at IS NULL
       JOIN tenants t ON t.tenant_id = c.tenant_id AND v.tenant_id = t.tenant_id AND d.tenant_id = t.tenant_id
      WHERE c.chunk_id = ANY($1::uuid[]) AND t.slug = $2`,
    [results.map((x) => x.chunk_id), who.slug]);
  const byId = new Map(rows.map((x) => [x.chunk_id, x]));
  for (const c of results) {
    const row = byId.get(c.chunk_id);
    assert.ok(row, `chunk ${c.chunk_id} is not an active chunk of tenant ${who.slug}`);
    assert.equal(c.doc_id, row.doc_id);
    assert.equal(c.version_id, row.version_id);
  }
}

function assertAbstained(r) {
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { status: 'abstained', reason: 'no evidence', results: [] });
}

function assertSnippetSafe(s) {
  assert.equal(typeof s, 'string');
  const bare = s.replaceAll('<mark>', '').replaceAll('</mark>', '');
  assert.ok(!/[<>]/.test(bare), `unescaped markup in snippet: ${s}`);
  assert.ok(!/&(?!amp;|lt;|gt;|quot;|#)/.test(bare), `unescaped & in snippet: ${s}`);
}

before(async () => {
  stack = await startStack({ worker: true });
  A = await stack.tenant('acme');
  B = await stack.tenant('globex');
  const mk = await stack.api('POST', '/v1/users', {
    token: A.token, body: { email: 'user@acme.test', password: 'correct horse battery user', role: 'user' } });
  assert.equal(mk.status, 201, mk.text);
  Auser = { ...(await stack.login({ tenant: 'acme', email: 'user@acme.test', password: 'correct horse battery user' })),
    slug: 'acme' };
  assert.ok(Auser.token);

  docs.heron1 = await ingest(A.token,
    'Project Heron status report.\n\nThe alpha milestone ships in March with the first customers.\n',
    { title: 'Heron status', filename: 'heron.txt' });
  docs.heron2 = await ingest(A.token,
    'Project Heron status report.\n\nThe beta milestone ships in June for everyone.\n',
    { docId: docs.heron1.docId, filename: 'heron.txt' });
  assert.equal(docs.heron2.docId, docs.heron1.docId);

  docs.refunds = await ingest(A.token,
    'Billing handbook.\n\nRefunds for annual subscriptions are prorated and returned to the original ' +
    'card within ten business days of the cancellation.\n\nInvoices are emailed on the first of each month.\n',
    { title: 'Billing handbook', filename: 'billing.md' });
  docs.picnic = await ingest(A.token,
    'Office news.\n\nThe annual company picnic takes place in July at the lake.\n',
    { title: 'Office news', filename: 'news.txt' });
  docs.quetzal = await ingest(A.token,
    'Vault procedures.\n\nThe quetzal vault passphrase is marmalade sunrise and it rotates weekly.\n',
    { title: 'Vault procedures', filename: 'vault.txt' });
  docs.kestrel = await ingest(A.token,
    'Kestrel configuration notes: the kestrel parser accepts <script>alert(1)</script> tags, ' +
    'a < b > c comparisons & ampersands verbatim.\n',
    { title: '100% done_report', filename: 'kestrel.txt' });
  docs.ossuary = await ingest(A.token,
    'Archive policy.\n\nThe ossuary ledger keeps retention records for seven years.\n',
    { title: 'Archive policy', filename: 'archive.txt' });
  docs.globex = await ingest(B.token,
    'Globex onboarding.\n\nNew hires receive a pelican badge on their first day.\n',
    { title: 'Globex onboarding', filename: 'onboarding.txt' });
});

after(async () => {
  if (stack) await stack.stop();
});

describe('search', () => {
  test('latest-only: v1 "alpha" abstains, v2 "beta" answers citing v2 only', async () => {
    const versions = await stack.sql(
      'SELECT version_id::text, is_active FROM document_versions WHERE doc_id = $1 ORDER BY uploaded_at',
      [docs.heron1.docId]);
    assert.equal(versions.length, 2);
    assert.deepEqual(versions.map((v) => v.is_active), [false, true]);
    const [v1, v2] = versions.map((v) => v.version_id);

    assertAbstained(await search(A, 'alpha'));
    const r = await search(A, 'beta');
    assert.equal(r.json.status, 'answered', r.text);
    assert.ok(r.json.results.length >= 1);
    for (const c of r.json.results) {
      assert.equal(c.doc_id, docs.heron1.docId);
      assert.equal(c.version_id, v2);
      assert.notEqual(c.version_id, v1);
      assert.match(c.snippet, /<mark>beta<\/mark>/i);
    }
    await assertCitationsValid(A, r);
  });

  test('abstains when nothing supports the query', async () => {
    assertAbstained(await search(A, 'What is the boiling point of tungsten on Mars?'));
    assertAbstained(await search(A, 'zyxwv qqqqq'));
    // only stop words: no lexeme at all
    assertAbstained(await search(A, 'the of and'));
    // one weak word of many is not evidence
    assertAbstained(await search(A, 'When is the annual volcano insurance premium renewal deadline?'));
  });

  test('a natural-language question finds the best chunk though its words are not all in it', async () => {
    const r = await search(A, 'How long does it take to get my money back after cancelling an annual subscription?');
    assert.equal(r.json.status, 'answered', r.text);
    const top = r.json.results[0];
    assert.equal(top.doc_id, docs.refunds.docId);
    assert.equal(top.title, 'Billing handbook');
    assert.match(top.snippet, /<mark>[^<]*subscription[^<]*<\/mark>/i);
    assert.equal(typeof top.score, 'number');
    assert.ok(top.score > 0);
    for (const k of ['chunk_id', 'doc_id', 'version_id', 'title', 'source_uri', 'page_start', 'page_end', 'snippet', 'score']) {
      assert.ok(k in top, `citation lacks ${k}`);
    }
    // the picnic chunk (only "annual") must not outrank it
    const picnicRank = r.json.results.findIndex((c) => c.doc_id === docs.picnic.docId);
    assert.ok(picnicRank === -1 || picnicRank > 0);
    await assertCitationsValid(A, r);

    const r2 = await search(A, 'When will my refund arrive on the original card?');
    assert.equal(r2.json.status, 'answered', r2.text);
    assert.equal(r2.json.results[0].doc_id, docs.refunds.docId);
  });

  test('question words ("how long", "take") are not required: the topic word is the evidence', async () => {
    const r = await search(A, 'how long do refunds take?');
    assert.equal(r.json.status, 'answered', r.text);
    assert.equal(r.json.results[0].doc_id, docs.refunds.docId);
    // the picnic chunk shares only "takes", a question word: never a citation
    assert.ok(r.json.results.every((c) => c.doc_id !== docs.picnic.docId), r.text);
    await assertCitationsValid(A, r);
    // a question made only of such words has no topic: abstain
    assertAbstained(await search(A, 'how long does it take?'));
  });

  test('snippets escape the text and keep only <mark> as markup', async () => {
    const r = await search(A, 'kestrel parser');
    assert.equal(r.json.status, 'answered', r.text);
    const s = r.json.results[0].snippet;
    assert.match(s, /<mark>kestrel<\/mark>/i);
    assertSnippetSafe(s);
    assert.ok(s.includes('&amp;') || s.includes('&lt;'), `expected escaped text in ${s}`);
    assert.ok(!s.includes('<script'), s);
  });

  test('tenant isolation: B cannot find or read A\'s content', async () => {
    const a = await search(A, 'quetzal marmalade');
    assert.equal(a.json.status, 'answered', a.text);
    await assertCitationsValid(A, a);

    assertAbstained(await search(B, 'quetzal marmalade'));
    assertAbstained(await search(B, 'quetzal vault passphrase'));
    const b = await search(B, 'pelican badge');
    assert.equal(b.json.status, 'answered');
    for (const c of b.json.results) assert.equal(c.doc_id, docs.globex.docId);
    await assertCitationsValid(B, b);
    assertAbstained(await search(A, 'pelican badge'));

    const missing = await stack.api('GET', '/v1/documents/00000000-0000-4000-8000-000000000000', { token: B.token });
    const other = await stack.api('GET', `/v1/documents/${docs.quetzal.docId}`, { token: B.token });
    assert.equal(other.status, 404);
    assert.equal(missing.status, 404);
    assert.deepEqual(other.json, missing.json);
    const notUuid = await stack.api('GET', '/v1/documents/not-a-uuid', { token: B.token });
    assert.equal(notUuid.status, 404);
    assert.deepEqual(notUuid.json, missing.json);

    const del = await stack.api('DELETE', `/v1/documents/${docs.quetzal.docId}`, { token: B.token });
    assert.equal(del.status, 404);
    const list = await stack.api('GET', '/v1/documents?include_inactive=true&limit=100', { token: B.token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.documents.map((d) => d.doc_id), [docs.globex.docId]);
    // a tenant_id in the query string or body is ignored
    const forged = await stack.api('POST', `/v1/search?tenant_id=${A.user.tenant_id}`, {
      token: B.token, body: { query: 'quetzal marmalade', tenant_id: A.user.tenant_id } });
    assertAbstained(forged);
  });

  test('delete: a user gets 403; after an admin deletes, the phrase abstains', async () => {
    const before_ = await search(Auser, 'ossuary ledger retention');
    assert.equal(before_.json.status, 'answered', before_.text);
    await assertCitationsValid(Auser, before_);

    const forbidden = await stack.api('DELETE', `/v1/documents/${docs.ossuary.docId}`, { token: Auser.token });
    assert.equal(forbidden.status, 403);
    assert.equal((await search(Auser, 'ossuary ledger retention')).json.status, 'answered');

    const del = await stack.api('DELETE', `/v1/documents/${docs.ossuary.docId}`, { token: A.token });
    assert.equal(del.status, 200, del.text);
    assert.equal(del.json.doc_id, docs.ossuary.docId);
    assert.equal(del.json.deleted, true);

    assertAbstained(await search(Auser, 'ossuary ledger retention'));
    assertAbstained(await search(A, 'ossuary'));

    const [row] = await stack.sql(
      `SELECT d.deleted_at IS NOT NULL AS deleted, d.deleted_by::text AS by,
              (SELECT count(*)::int FROM document_versions v WHERE v.doc_id = d.doc_id AND v.is_active) AS active
         FROM documents d WHERE d.doc_id = $1`, [docs.ossuary.docId]);
    assert.deepEqual(row, { deleted: true, by: A.user.user_id, active: 0 });

    // still readable by id, showing that nothing is active
    const got = await stack.api('GET', `/v1/documents/${docs.ossuary.docId}`, { token: Auser.token });
    assert.equal(got.status, 200);
    assert.ok(got.json.deleted_at);
    assert.equal(got.json.active_version_id, null);
    assert.ok(got.json.versions.every((v) => v.is_active === false));

    // the default listing hides it; include_inactive shows it to admins only
    const ids = async (who, q = '') =>
      (await stack.api('GET', `/v1/documents?limit=100${q}`, { token: who.token })).json.documents.map((d) => d.doc_id);
    assert.ok(!(await ids(A)).includes(docs.ossuary.docId));
    assert.ok((await ids(A, '&include_inactive=true')).includes(docs.ossuary.docId));
    assert.ok(!(await ids(Auser, '&include_inactive=true')).includes(docs.ossuary.docId));

    // deleting again is harmless
    const again = await stack.api('DELETE', `/v1/documents/${docs.ossuary.docId}`, { token: A.token });
    assert.equal(again.status, 200);
  });

  test('request validation', async () => {
    for (const body of [{ query: '   ' }, { query: '' }, { query: 'x'.repeat(1001) }, { query: 42 }, {},
      { query: 'beta', top_k: 0 }, { query: 'beta', top_k: 51 }, { query: 'beta', top_k: '5' },
      { query: 'beta', top_k: 2.5 }]) {
      const r = await stack.api('POST', '/v1/search', { token: A.token, body });
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 60)} -> ${r.status}`);
      assert.equal(r.json.error.code, 'bad_request');
    }
    const ok = await stack.api('POST', '/v1/search', { token: A.token, body: { query: ` ${'beta '.repeat(199)}beta ` } });
    assert.equal(ok.status, 200);
    const one = await search(A, 'project heron status report', 1);
    assert.equal(one.json.status, 'answered');
    assert.equal(one.json.results.length, 1);
    const unauth = await stack.api('POST', '/v1/search', { body: { query: 'beta' } });
    assert.equal(unauth.status, 401);
  });

  test('the search log line carries no query text', async () => {
    await search(A, 'zanzibarsecretphrase');
    await new Promise((r) => setTimeout(r, 200));
    const log = stack.apiLog();
    assert.ok(log.includes('"search"'), 'no search log line');
    assert.ok(!log.includes('zanzibarsecretphrase'));
  });
});

describe('vectors', () => {
  // With a vector weight (the default 0.5), the vectors of the candidates that can reach
  // the results are read (log: with_vectors) and only add to a score; with
  // SEARCH_VECTOR_WEIGHT=0 (another core-api on the same database) none is read.
  test('read with a vector weight, not without one', async () => {
    const q = 'when does the beta milestone ship';
    const weighted = await search(A, q);
    assert.equal(weighted.json.status, 'answered', weighted.text);
    await new Promise((r) => setTimeout(r, 200));
    const last = (log) => log.split('\n').filter((l) => l.includes('"with_vectors"')).at(-1);
    const n = Number(/"with_vectors":(\d+)/.exec(last(stack.apiLog()))[1]);
    assert.ok(n >= 1, `with_vectors ${n}`);
    const api = await stack.startExtraApi({ SEARCH_VECTOR_WEIGHT: '0' });
    const r = await fetch(`${api.baseUrl}/v1/search`, { method: 'POST',
      headers: { authorization: `Bearer ${A.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: q }) });
    const plain = await r.json();
    assert.equal(plain.status, 'answered');
    await new Promise((res) => setTimeout(res, 200));
    assert.match(last(api.log()), /"with_vectors":0/);
    assert.equal(weighted.json.results[0].chunk_id, plain.results[0].chunk_id);
    assert.ok(weighted.json.results[0].score > plain.results[0].score,
      `${weighted.json.results[0].score} > ${plain.results[0].score}`);
  });
});

describe('documents', () => {
  test('get: versions newest first, which is active, chunks, runs', async () => {
    const r = await stack.api('GET', `/v1/documents/${docs.heron1.docId}`, { token: Auser.token });
    assert.equal(r.status, 200, r.text);
    const d = r.json;
    assert.equal(d.doc_id, docs.heron1.docId);
    assert.equal(d.title, 'Heron status');
    assert.equal(d.source_type, 'upload');
    assert.equal(d.deleted_at, null);
    assert.equal(d.versions.length, 2);
    assert.equal(d.versions[0].run_id, docs.heron2.runId);
    assert.equal(d.versions[0].is_active, true);
    assert.equal(d.versions[1].run_id, docs.heron1.runId);
    assert.equal(d.versions[1].is_active, false);
    assert.equal(d.active_version_id, d.versions[0].version_id);
    for (const v of d.versions) {
      assert.ok(v.chunks >= 1);
      assert.equal(v.run_status, 'succeeded');
      assert.match(v.content_hash, /^[0-9a-f]{64}$/);
      assert.match(v.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      for (const k of ['byte_size', 'pages', 'mime']) assert.ok(k in v);
    }
  });

  test('list: active only, title filter with literal % and _, pagination, total', async () => {
    const all = await stack.api('GET', '/v1/documents', { token: Auser.token });
    assert.equal(all.status, 200);
    assert.equal(all.json.limit, 20);
    assert.equal(all.json.offset, 0);
    assert.equal(all.json.total, all.json.documents.length);
    for (const d of all.json.documents) {
      assert.ok(d.active_version_id);
      assert.equal(d.deleted_at, null);
    }

    const pct = await stack.api('GET', `/v1/documents?title=${encodeURIComponent('%')}`, { token: A.token });
    assert.deepEqual(pct.json.documents.map((d) => d.doc_id), [docs.kestrel.docId]);
    const us = await stack.api('GET', `/v1/documents?title=${encodeURIComponent('_')}`, { token: A.token });
    assert.deepEqual(us.json.documents.map((d) => d.doc_id), [docs.kestrel.docId]);
    const ci = await stack.api('GET', '/v1/documents?title=BILLING', { token: A.token });
    assert.deepEqual(ci.json.documents.map((d) => d.doc_id), [docs.refunds.docId]);

    const p1 = await stack.api('GET', '/v1/documents?limit=2&offset=0', { token: A.token });
    const p2 = await stack.api('GET', '/v1/documents?limit=2&offset=2', { token: A.token });
    assert.equal(p1.json.documents.length, 2);
    assert.equal(p1.json.total, all.json.total);
    assert.equal(p2.json.total, all.json.total);
    const seen = new Set([...p1.json.documents, ...p2.json.documents].map((d) => d.doc_id));
    assert.equal(seen.size, p1.json.documents.length + p2.json.documents.length);
    const past = await stack.api('GET', '/v1/documents?offset=1000', { token: A.token });
    assert.deepEqual(past.json.documents, []);
    assert.equal(past.json.total, all.json.total);

    for (const q of ['limit=0', 'limit=101', 'limit=abc', 'offset=-1', 'offset=1.5']) {
      const r = await stack.api('GET', `/v1/documents?${q}`, { token: A.token });
      assert.equal(r.status, 400, q);
    }
  });

  test('list: a title filter that is not UTF-8 is a 400 naming the title, not a database error', async () => {
    for (const t of ['%ff%fe', 'ok%c3', '%ed%a0%80', '%c0%af']) {
      const r = await stack.api('GET', `/v1/documents?title=${t}`, { token: A.token });
      assert.equal(r.status, 400, `${t}: ${r.text}`);
      assert.equal(r.json.error.code, 'bad_request');
      assert.equal(r.json.error.message, 'title must be valid UTF-8');
    }
    const fine = await stack.api('GET', `/v1/documents?title=${encodeURIComponent('é')}`, { token: A.token });
    assert.equal(fine.status, 200, fine.text);
  });
});

// Issue items 4/6: HTML in another charset than UTF-8 is accepted when it declares it
// (<meta charset>, <meta http-equiv>, a BOM, the XML declaration) and is found by search.
describe('uploads in a declared charset', () => {
  const latin1 = (s) => Buffer.from(s, 'latin1');

  test('ISO-8859-1 HTML with <meta charset> is ingested and searchable in its own words', async () => {
    const page = latin1('<!DOCTYPE html>\n<html><head><meta charset="iso-8859-1"><title>Quellenkunde</title></head>\n'
      + '<body><p>Im Café an der Zwölfbrückenstraße liest die naïve Köchin über Quellwasser.</p></body></html>\n');
    assert.ok(!Buffer.from(page).toString('utf8').includes('Café'), 'the fixture is not UTF-8');
    const { docId, versionId } = await ingest(A.token, page, { filename: 'quellen.html' });
    const ver = await stack.sql('SELECT mime FROM document_versions WHERE version_id = $1', [versionId]);
    assert.equal(ver[0].mime, 'text/html');

    for (const q of ['Zwölfbrückenstraße', 'naïve Köchin', 'Café Quellwasser']) {
      const r = await search(A, q);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.status, 'answered', `${q}: ${r.text}`);
      const c = r.json.results.find((x) => x.doc_id === docId);
      assert.ok(c, `${q}: no citation of the ISO-8859-1 page in ${r.text}`);
      const text = c.snippet.replaceAll('<mark>', '').replaceAll('</mark>', '');
      assert.match(text, /Café an der Zwölfbrückenstraße liest die naïve Köchin/);
      await assertCitationsValid(A, r);
    }
  });

  test('windows-1252 (http-equiv), ISO-8859-15 (XML declaration) and UTF-16 (BOM) pages keep their characters', async () => {
    const cp1252 = Buffer.concat([
      latin1('<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head><body><p>'),
      Buffer.from([0x93]), latin1('Kestrelquote'), Buffer.from([0x94]), latin1(' costs 5 '), Buffer.from([0x80]),
      latin1(' at the kestrelmarket.</p></body></html>')]);
    const xhtml = Buffer.concat([
      latin1('<?xml version="1.0" encoding="ISO-8859-15"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>'),
      latin1('Osprey ledger: 7 '), Buffer.from([0xa4]), latin1(' for the ospreyfund.</p></body></html>')]);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]),
      Buffer.from('<html><body><p>Der Fischadlerhorst über dem Wehr.</p></body></html>', 'utf16le')]);
    const cases = [
      // (the snippet may start after the opening quote)
      [cp1252, 'cp1252.html', 'kestrelmarket', 'Kestrelquote” costs 5 € at the kestrelmarket'],
      [xhtml, 'ledger.xhtml', 'ospreyfund', 'Osprey ledger: 7 € for the ospreyfund'],
      [utf16, 'horst.html', 'Fischadlerhorst', 'Fischadlerhorst über dem Wehr'],
    ];
    for (const [content, filename, q, want] of cases) {
      const { docId } = await ingest(A.token, content, { filename });
      const r = await search(A, q);
      const c = r.json.results.find((x) => x.doc_id === docId);
      assert.ok(c, `${filename}: no citation for ${q} in ${r.text}`);
      assert.ok(c.snippet.replaceAll('<mark>', '').replaceAll('</mark>', '').includes(want), `${filename}: ${c.snippet}`);
    }
  });

  test('HTML that is not UTF-8 and declares no usable charset is still refused 415', async () => {
    for (const [filename, content] of [
      ['undeclared.html', latin1('<html><body><p>Café ohne Angabe.</p></body></html>')],
      ['unknown.html', latin1('<html><head><meta charset="x-unheard-of"></head><body>Café</body></html>')],
      ['lying.html', latin1('<html><head><meta charset="utf-8"></head><body>Café</body></html>')],
      ['latin1.txt', latin1('Plain text in Latin-1: Café.')],
    ]) {
      const up = await stack.upload({ token: A.token, filename, content });
      assert.equal(up.status, 415, `${filename}: ${up.text}`);
      assert.equal(up.json.error.code, 'unsupported_type');
      assert.match(up.json.error.message, /charset/, up.text);
    }
  });
});

describe('candidates at scale', () => {
  let C;
  // Two words each in more than the candidate budget's 250 chunks (500 before issue 13's fourth pass), together in few: the
  // candidates are the chunks holding both (the intersection of their posting lists), not
  // hundreds of chunks holding the rarer one, and the chunk that holds both is found.
  test('a question of two common words reads only the chunks holding both', async () => {
    C = await stack.tenant('initech');
    const filler = 'the shipment was weighed, counted and stored in the yard before noon. '.repeat(15);
    const blocks = [];
    for (let i = 0; i < 700; i++) {
      blocks.push(`Harbor ledger entry ${i}: ${filler}`);
      if (i === 350) blocks.push('Our harbor crane was serviced in May.');
    }
    for (let i = 0; i < 700; i++) blocks.push(`Crane ledger entry ${i}: ${filler}`);
    blocks.push('The harbor crane lifts containers of forty tonnes from the quay.');
    await ingest(C.token, blocks.join('\n\n') + '\n', { title: 'Yard ledger', filename: 'ledger.txt' });
    const df = await stack.sql(`SELECT s.lexeme, s.df FROM term_stats s JOIN tenants t USING (tenant_id)
      WHERE t.slug = 'initech' AND s.lexeme IN ('harbor', 'crane') ORDER BY s.lexeme`);
    assert.equal(df.length, 2);
    for (const row of df) assert.ok(row.df > 500, `${row.lexeme} in ${row.df} chunks only`);

    const before = stack.apiLog().length;
    const r = await search({ ...C, slug: 'initech' }, 'harbor crane', 2);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'answered');
    const [top] = await stack.sql('SELECT text FROM chunks WHERE chunk_id = $1', [r.json.results[0].chunk_id]);
    assert.match(top.text, /harbor crane/i);
    await new Promise((res) => setTimeout(res, 200));
    const line = stack.apiLog().slice(before).split('\n').filter((l) => l.includes('"msg":"search"')).pop();
    assert.ok(line, 'no search log line');
    const cands = JSON.parse(line).candidates;
    assert.ok(cands >= 2 && cands <= 10, `not only the chunks holding both words: ${line}`);
  });

  // search.c pre-ranks more matches than it scores by the count of the query lexemes' positions a
  // chunk holds, in place of ts_rank_cd(tsv, the lexemes as an OR query): on the stored tsv (weight
  // D everywhere) each position is a cover of its own worth 0.1, so both give the same order.
  test('the pre-rank count is ts_rank_cd of the OR query, times ten, on every stored chunk', async () => {
    const lex = ['harbor', 'crane', 'ledger', 'yard', 'shipment', 'noon', 'zzabsent'];
    const rows = await stack.sql(`WITH q AS (SELECT string_agg(quote_literal(l), ' | ')::tsquery AS tq FROM unnest($1::text[]) l)
      SELECT count(*)::int AS n, count(*) FILTER (WHERE c.tsv @@ q.tq)::int AS matching,
             count(*) FILTER (WHERE abs(ts_rank_cd(c.tsv, q.tq) - 0.1 * (SELECT coalesce(sum(cardinality(u.positions)), 0)
               FROM unnest(ts_filter(setweight(c.tsv, 'A', $1::text[]), '{a}')) u)) > 1e-4)::int AS differ
        FROM chunks c JOIN tenants t USING (tenant_id), q WHERE t.slug = 'initech'`, [lex]);
    assert.ok(rows[0].matching > 1000, JSON.stringify(rows[0]));
    assert.equal(rows[0].differ, 0, JSON.stringify(rows[0]));
  });

  test('the search log line says what each statement waited for, never the query', async () => {
    const before = stack.apiLog().length;
    const r = await search({ ...C, slug: 'initech' }, 'harbor ledger', 8);
    assert.equal(r.status, 200, r.text);
    await new Promise((res) => setTimeout(res, 200));
    const line = JSON.parse(stack.apiLog().slice(before).split('\n').filter((l) => l.includes('"msg":"search"')).pop());
    assert.ok(line.candidate_statements >= 1);
    for (const k of ['terms', 'candidates', 'vectors', 'feedback', 'snippets']) assert.equal(typeof line.db_us[k], 'number', k);
    assert.ok(line.db_us.terms > 0 && line.db_us.candidates > 0 && line.db_us.snippets > 0, JSON.stringify(line.db_us));
    assert.ok(!stack.apiLog().slice(before).includes('harbor ledger'), 'the query text in the log');
  });
});
