// Tighter defaults (security issue, items 4 and 6), against the real stack: the session
// cookie is Secure unless COOKIE_SECURE=false; /metrics needs METRICS_TOKEN's bearer
// token, or without one a loopback client that came through no proxy; HTML answers have a
// Content-Security-Policy whose script-src lists the page's inline script hashes from
// WEB_DIR/csp.json and never 'unsafe-inline'; no API answer shows an absolute server path
// (runs show a store-relative upload_key, not the worker's file:// upload_uri).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from '../lib/stack.mjs';

const TOKEN = crypto.randomBytes(24).toString('hex');
const INLINE = 'document.documentElement.dataset.booted = "1";';
const HASH = `'sha256-${crypto.createHash('sha256').update(INLINE).digest('base64')}'`;

let stack;
let A;
let webDir;

function page(title) {
  return `<!DOCTYPE html><html><head><title>${title}</title></head><body><script>${INLINE}</script></body></html>\n`;
}

// A WEB_DIR of our own, so the suite does not depend on the Next.js build.
function makeWebDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hardening-web-'));
  fs.writeFileSync(path.join(dir, 'index.html'), page('home'));
  fs.mkdirSync(path.join(dir, 'listed'));
  fs.writeFileSync(path.join(dir, 'listed', 'index.html'), page('listed'));
  fs.mkdirSync(path.join(dir, 'unlisted'));
  fs.writeFileSync(path.join(dir, 'unlisted', 'index.html'), page('unlisted'));
  writeManifest(dir, { 'index.html': [HASH], 'listed/index.html': [HASH] });
  return dir;
}

function writeManifest(dir, pages) {
  const tmp = path.join(dir, '.csp.json.tmp');
  fs.writeFileSync(tmp, JSON.stringify({ version: 1, pages }));
  fs.renameSync(tmp, path.join(dir, 'csp.json'));
}

function scriptSrc(policy) {
  return (policy ?? '').split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
}

before(async () => {
  webDir = makeWebDir();
  // COOKIE_SECURE undefined: not passed at all, so core-api's default applies.
  stack = await startStack({ worker: true, env: { COOKIE_SECURE: undefined },
    apiEnv: { METRICS_TOKEN: TOKEN, WEB_DIR: webDir } });
  A = await stack.tenant('hardco');
});

after(async () => {
  await stack?.stop();
  if (webDir) fs.rmSync(webDir, { recursive: true, force: true });
});

describe('session cookie', () => {
  test('COOKIE_SECURE defaults to true: login and logout set a Secure cookie', async () => {
    assert.match(A.setCookie, /^session=[\w-]+\.[\w-]+\.[\w-]+;/);
    assert.match(A.setCookie, /;\s*Secure(;|$)/, A.setCookie);
    const out = await stack.api('POST', '/v1/auth/logout', { cookie: A.cookie, headers: { origin: stack.baseUrl } });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /^session=;.*;\s*Secure(;|$)/);
    A = await stack.tenant('hardco'); // a fresh session for the tests below
  });
});

describe('/metrics', () => {
  test('with METRICS_TOKEN: 401 without it or with a wrong one, 200 with it', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${TOKEN}` },
      { authorization: `Bearer ${TOKEN}x` }, { authorization: `Bearer ${A.token}` }]) {
      const r = await stack.api('GET', '/metrics', { headers });
      assert.equal(r.status, 401, `${JSON.stringify(headers)}: ${r.text}`);
      assert.equal(r.json.error.code, 'unauthorized');
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.doesNotMatch(r.text, /ingest_runs/);
    }
    for (const scheme of ['Bearer', 'bearer']) {
      const r = await stack.api('GET', '/metrics', { headers: { authorization: `${scheme} ${TOKEN}` } });
      assert.equal(r.status, 200, r.text);
      assert.match(r.text, /^ingest_runs\{status="queued"\} \d+$/m);
    }
  });

  test('without METRICS_TOKEN: loopback clients only, and not through a proxy', async () => {
    await stack.stopApi();
    await stack.startApi({ METRICS_TOKEN: '' });
    try {
      const local = await stack.api('GET', '/metrics');
      assert.equal(local.status, 200, local.text);
      assert.match(local.text, /ingest_runs_scrape_ok 1/);
      for (const headers of [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' },
        { 'x-real-ip': '203.0.113.9' }]) {
        const r = await stack.api('GET', '/metrics', { headers });
        assert.equal(r.status, 403, `${JSON.stringify(headers)}: ${r.text}`);
        assert.equal(r.json.error.code, 'forbidden');
        assert.match(r.json.error.message, /METRICS_TOKEN/);
      }
    } finally {
      await stack.stopApi();
      await stack.startApi();
    }
  });
});

describe('Content-Security-Policy', () => {
  test("a page's inline scripts are allowed by hash, never by 'unsafe-inline'", async () => {
    for (const p of ['/', '/listed/', '/some/client/route']) {
      const r = await stack.api('GET', p);
      assert.equal(r.status, 200, `${p}: ${r.text}`);
      assert.match(r.headers.get('content-type'), /^text\/html/);
      const policy = r.headers.get('content-security-policy');
      assert.equal(scriptSrc(policy), `script-src 'self' ${HASH}`, `${p}: ${policy}`);
      assert.doesNotMatch(scriptSrc(policy), /unsafe/);
      assert.match(policy, /default-src 'self'/);
      assert.match(policy, /frame-ancestors 'none'/);
      assert.match(policy, /object-src 'none'/);
    }
  });

  test('a page the manifest does not list, or no manifest at all: script-src self only', async () => {
    const r = await stack.api('GET', '/unlisted/');
    assert.equal(scriptSrc(r.headers.get('content-security-policy')), "script-src 'self'");
    fs.rmSync(path.join(webDir, 'csp.json'));
    try {
      const gone = await stack.api('GET', '/listed/');
      assert.equal(gone.status, 200);
      assert.equal(scriptSrc(gone.headers.get('content-security-policy')), "script-src 'self'");
      // a manifest that tries to smuggle a directive in is refused as a whole
      writeManifest(webDir, { 'listed/index.html': [HASH, "'unsafe-inline'"] });
      const bad = await stack.api('GET', '/listed/');
      assert.equal(scriptSrc(bad.headers.get('content-security-policy')), "script-src 'self'");
    } finally {
      writeManifest(webDir, { 'index.html': [HASH], 'listed/index.html': [HASH] });
    }
    // a new manifest applies without a restart
    const back = await stack.api('GET', '/listed/');
    assert.equal(scriptSrc(back.headers.get('content-security-policy')), `script-src 'self' ${HASH}`);
    assert.match(stack.apiLog(), /csp manifest unusable/);
  });
});

describe('no absolute server paths in API answers', () => {
  test('runs show a store-relative upload_key; no run or document answer names UPLOAD_DIR', async () => {
    const up = await stack.upload({ token: A.token, filename: 'Path Check.txt',
      content: 'The upload folder of this file must stay a secret of the server.\n' });
    assert.equal(up.status, 202, up.text);
    const run = await stack.waitRun(up.json.run_id);
    assert.equal(run.status, 'succeeded', run.error);
    // the worker still got (and the database keeps) the absolute file:// URI
    assert.match(run.config.upload_uri, /^file:\/\//);

    const one = await stack.api('GET', `/v1/ingestion-runs/${up.json.run_id}`, { token: A.token });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.config.upload_uri, undefined);
    const tenantId = A.user.tenant_id;
    assert.match(one.json.config.upload_key, new RegExp(`^${tenantId}/${up.json.run_id}/[^/]+$`));
    assert.equal(path.join(stack.uploadDir, one.json.config.upload_key), run.config.upload_uri.slice('file://'.length));

    // a skipped duplicate keeps no upload: its key is null
    const dup = await stack.upload({ token: A.token, filename: 'again.txt',
      content: 'The upload folder of this file must stay a secret of the server.\n' });
    assert.equal(dup.json.status, 'skipped', dup.text);

    const answers = [
      one,
      await stack.api('GET', `/v1/ingestion-runs/${dup.json.run_id}`, { token: A.token }),
      await stack.api('GET', '/v1/ingestion-runs?limit=100', { token: A.token }),
      await stack.api('GET', '/v1/documents?limit=100', { token: A.token }),
      await stack.api('GET', `/v1/documents/${up.json.doc_id}`, { token: A.token }),
      await stack.api('POST', '/v1/search', { token: A.token, body: { query: 'upload folder secret' } }),
    ];
    for (const r of answers) {
      assert.equal(r.status, 200, r.text);
      assert.ok(!r.text.includes(stack.uploadDir), `UPLOAD_DIR in ${r.text}`);
      assert.ok(!r.text.includes(stack.dir), `the stack's folder in ${r.text}`);
      assert.doesNotMatch(r.text, /file:\/\//);
    }
    assert.equal(answers[1].json.config.upload_key, null);
    assert.equal(answers[1].json.config.upload_uri, undefined);
    assert.ok(answers[2].json.runs.every((x) => x.config.upload_uri === undefined));
  });
});
