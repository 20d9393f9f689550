// Browser test of the web UI against the real stack (tests/lib/stack.mjs):
// PostgreSQL + SQS emulator + core-api + ingest-worker, core-api serving web/out.
// Drives Debian's Chromium through playwright-core; see README.md.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { mixedPdf, renderText } from '../lib/scan-pdf.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.join(HERE, 'output');
const WEB_OUT = path.resolve(HERE, '../../web/out/index.html');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const STACK_MODULE = '../lib/stack.mjs';

const INGEST_TIMEOUT = 180_000; // a run goes through the queue and a worker
const UI_TIMEOUT = 20_000;

const TENANT = { tenant: 'acme', name: 'Acme', email: 'admin@acme.test', password: 'pw-123456789' };
const READER = { email: 'reader@acme.test', password: 'pw-reader-123456' };

const POLICY_TXT = [
  'Zephyrine refund policy',
  '',
  'Customers may return any zephyrine widget within thirty days for a full refund.',
  'Refunds are paid back to the original card within five business days.',
  '',
  'Escaped characters stay text: 3 < 4 & 5 > 2.',
].join('\n');
const RETURNS_TXT = [
  'Returns desk note',
  '',
  'The returns desk in Porto opens at nine and closes at half past five.',
].join('\n');
const UPLOAD_LIMIT = '2M'; // MAX_UPLOAD_BYTES of core-api: small, so that a 3 MiB file is over it
const SHIPPING_TXT = [
  'Shipping handbook',
  '',
  'Orders ship from the Lisbon warehouse every weekday morning.',
  'Parcels heavier than twenty kilograms travel by freight.',
].join('\n');

let stack;
let context;
let page;
let userDataDir;
const pageErrors = [];
const cspViolations = []; // securitypolicyviolation events and the console's CSP messages, every page
const htmlPolicies = new Map(); // url -> Content-Security-Policy of each HTML document loaded
const state = {};

async function shot(name) {
  await page.screenshot({ path: path.join(OUT_DIR, `${name}.png`), fullPage: true });
}

function url(p) {
  return new URL(p, stack.baseUrl).toString();
}

async function login(email, password, tenant = TENANT.tenant) {
  await page.getByLabel('Tenant').fill(tenant);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(/\/upload\/?$/, { timeout: UI_TIMEOUT });
  await page.getByTestId('whoami').filter({ hasText: email }).waitFor({ timeout: UI_TIMEOUT });
}

async function logout() {
  await page.getByTestId('logout').click();
  await page.waitForURL(/\/login\/?/, { timeout: UI_TIMEOUT });
  await page.getByTestId('login-form').waitFor({ timeout: UI_TIMEOUT });
}

/** Wait until the upload item for `fileName` (newest first) reaches one of `states`. */
async function waitUpload(fileName, states, timeout = INGEST_TIMEOUT) {
  const sel = states.map((s) => `[data-testid="upload-item"][data-state="${s}"]`).join(', ');
  const item = page.locator(sel).filter({ hasText: fileName }).first();
  await item.waitFor({ timeout });
  return item;
}

describe('web UI against the real stack', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    assert.ok(
      fs.existsSync(WEB_OUT),
      `web/out/index.html is missing: run "npm ci && npm run build" in web/ first`,
    );
    fs.mkdirSync(OUT_DIR, { recursive: true });
    const { startStack } = await import(new URL(STACK_MODULE, import.meta.url));
    stack = await startStack({ worker: true, apiEnv: { MAX_UPLOAD_BYTES: UPLOAD_LIMIT } });
    const boot = await stack.bootstrap(TENANT);
    // the harness answers the bootstrap subcommand's {code, stdout, stderr}
    if (boot && typeof boot.code === 'number' && boot.code !== 0) {
      throw new Error(`bootstrap failed (${boot.code}): ${boot.stderr || boot.stdout}`);
    }
    // a fresh profile every run (Playwright takes the user-data-dir this way)
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    });
    context.setDefaultTimeout(UI_TIMEOUT);
    page = context.pages()[0] || (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(String(e && e.stack ? e.stack : e)));
    // The UI runs under script-src 'self' + hashes (no 'unsafe-inline'): anything the policy
    // blocks is reported twice, by the page's event (through a binding that survives
    // navigations) and by Chromium's console message.
    await context.exposeBinding('__reportCspViolation', (_source, v) => cspViolations.push(v));
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__reportCspViolation({ directive: e.violatedDirective, blocked: e.blockedURI,
          sample: e.sample, page: document.location.href });
      });
    });
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to (execute|load|apply|evaluate)/i.test(m.text())) {
        cspViolations.push({ console: m.text(), page: page.url() });
      }
    });
    page.on('response', (r) => {
      if ((r.headers()['content-type'] ?? '').startsWith('text/html')) {
        htmlPolicies.set(r.url(), r.headers()['content-security-policy'] ?? '');
      }
    });
  });

  after(async () => {
    if (context) await context.close().catch(() => {});
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    if (stack) await stack.stop();
  });

  test('an anonymous visit goes to the login page; the admin signs in', async () => {
    await page.goto(url('/'));
    await page.waitForURL(/\/login\/?/);
    await page.getByTestId('login-form').waitFor();
    // a wrong password shows the server's message and stays on the page
    await page.getByLabel('Tenant').fill(TENANT.tenant);
    await page.getByLabel('Email').fill(TENANT.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('error').waitFor();
    await shot('01-login-error');
    await login(TENANT.email, TENANT.password);
    await page.getByTestId('nav-users').waitFor(); // admins see the Users page in the nav
    await shot('02-upload-empty');
  });

  test('uploads two files at once; each run is followed to a terminal state', { timeout: 2 * INGEST_TIMEOUT }, async () => {
    await page.getByTestId('file-input').setInputFiles([
      { name: 'zephyrine-policy.txt', mimeType: 'text/plain', buffer: Buffer.from(POLICY_TXT) },
      { name: 'shipping-handbook.txt', mimeType: 'text/plain', buffer: Buffer.from(SHIPPING_TXT) },
    ]);
    await page.getByTestId('pending-list').getByText('zephyrine-policy.txt').waitFor();
    await page.getByTestId('upload-submit').click();
    await page.locator('[data-testid="upload-item"]').nth(1).waitFor();
    const terminal = ['succeeded', 'failed', 'error', 'skipped'];
    const a = await waitUpload('zephyrine-policy.txt', terminal);
    const b = await waitUpload('shipping-handbook.txt', terminal);
    await shot('03-upload-done');
    // each file had its own byte progress bar, now full
    for (const item of [a, b]) {
      assert.equal(await item.getByTestId('upload-progress').getAttribute('value'), '100');
    }
    assert.equal(await a.getAttribute('data-state'), 'succeeded', `policy run: ${await a.innerText()}`);
    assert.equal(await b.getAttribute('data-state'), 'succeeded', `shipping run: ${await b.innerText()}`);
    state.runId = await a.getAttribute('data-run-id');
    state.docId = await a.getAttribute('data-doc-id');
    assert.ok(state.runId, 'the upload item knows its run id');
    assert.ok(state.docId, 'the upload item knows its document id');
  });

  test('the same file again (dropped on the drop zone) is skipped as a duplicate', { timeout: INGEST_TIMEOUT }, async () => {
    const dt = await page.evaluateHandle((text) => {
      const d = new DataTransfer();
      d.items.add(new File([text], 'zephyrine-policy-copy.txt', { type: 'text/plain' }));
      return d;
    }, POLICY_TXT);
    await page.getByTestId('dropzone').dispatchEvent('dragenter', { dataTransfer: dt });
    await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer: dt });
    await page.getByTestId('pending-list').getByText('zephyrine-policy-copy.txt').waitFor();
    await page.getByTestId('upload-submit').click();
    const item = await waitUpload('zephyrine-policy-copy.txt', ['skipped', 'succeeded', 'failed', 'error']);
    await shot('04-upload-duplicate');
    assert.equal(await item.getAttribute('data-state'), 'skipped', await item.innerText());
    await item.getByText('skipped: duplicate content').waitFor();
    const href = await item.getByTestId('upload-doc-link').getAttribute('href');
    assert.ok(href.includes(encodeURIComponent(state.docId)), `duplicate links to the first document (${href})`);
  });

  test('an unsupported file shows a readable error', { timeout: INGEST_TIMEOUT }, async () => {
    const bytes = Buffer.alloc(2048);
    for (let i = 0; i < bytes.length; i += 1) bytes[i] = (i * 37 + 11) % 256;
    bytes.write('\x7fELF', 0, 'latin1');
    await page.getByTestId('file-input').setInputFiles([
      { name: 'program.bin', mimeType: 'application/octet-stream', buffer: bytes },
    ]);
    await page.getByTestId('upload-submit').click();
    // either core-api refuses it (415) or the worker fails the run (unsupported_type)
    const item = await waitUpload('program.bin', ['error', 'failed', 'succeeded', 'skipped']);
    const st = await item.getAttribute('data-state');
    assert.ok(['error', 'failed'].includes(st), `unsupported upload ended ${st}: ${await item.innerText()}`);
    const msg = (await item.getByTestId('error').first().innerText()).trim();
    assert.ok(msg.length > 10, `an error message is shown: "${msg}"`);
    await shot('05-upload-unsupported');
  });

  test('a file over the limit and an empty file are refused before sending; the rest of the batch uploads', { timeout: INGEST_TIMEOUT }, async () => {
    // the page announces the limit it got from /v1/auth/me
    await page.getByTestId('upload-limit').filter({ hasText: 'up to 2 MiB per file' }).waitFor();
    const posts = [];
    const onRequest = (req) => {
      if (req.method() === 'POST' && new URL(req.url()).pathname === '/v1/ingest') posts.push(req.url());
    };
    page.on('request', onRequest);
    try {
      const big = Buffer.alloc(3 * 1024 * 1024, 'too large line of text\n');
      await page.getByTestId('file-input').setInputFiles([
        { name: 'too-big.txt', mimeType: 'text/plain', buffer: big },
        { name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) },
        { name: 'returns-note.txt', mimeType: 'text/plain', buffer: Buffer.from(RETURNS_TXT) },
      ]);
      // refused at once, in the error state a 413 / 400 from the server would give
      const tooBig = await waitUpload('too-big.txt', ['error'], UI_TIMEOUT);
      assert.equal(await tooBig.getAttribute('data-refused'), 'too_large');
      const bigMsg = (await tooBig.getByTestId('error').innerText()).trim();
      assert.match(bigMsg, /too large: 3 MiB, the limit is 2 MiB/, bigMsg);
      const empty = await waitUpload('empty.txt', ['error'], UI_TIMEOUT);
      assert.equal(await empty.getAttribute('data-refused'), 'empty');
      assert.match((await empty.getByTestId('error').innerText()).trim(), /empty file/);
      // only the good file waits to be sent
      const pendingList = page.getByTestId('pending-list');
      await pendingList.getByText('returns-note.txt').waitFor();
      assert.equal(await pendingList.getByText('too-big.txt').count(), 0);
      assert.equal(await pendingList.getByText('empty.txt').count(), 0);
      await page.getByTestId('upload-submit').click();
      const ok = await waitUpload('returns-note.txt', ['succeeded', 'failed', 'error', 'skipped']);
      assert.equal(await ok.getAttribute('data-state'), 'succeeded', `returns note run: ${await ok.innerText()}`);
      await shot('05b-upload-too-large');
      assert.equal(posts.length, 1, `one POST /v1/ingest (the good file only): ${JSON.stringify(posts)}`);
      // the refused files stay refused
      assert.equal(await tooBig.getAttribute('data-state'), 'error');
      assert.equal(await empty.getAttribute('data-state'), 'error');
    } finally {
      page.off('request', onRequest);
    }
  });

  test('runs list shows counts, a chart and the runs; run detail shows config, stats, timings', async () => {
    await page.getByTestId('nav-runs').click();
    await page.waitForURL(/\/runs\/?$/);
    await page.getByTestId('runs-table').waitFor();
    await page.getByTestId('run-counts').waitFor();
    await page.getByTestId('runs-chart').waitFor();
    const rows = await page.getByTestId('run-row').count();
    assert.ok(rows >= 3, `at least 3 runs listed, saw ${rows}`);
    const succeeded = Number((await page.getByTestId('count-succeeded').locator('.count-n').innerText()).trim());
    assert.ok(succeeded >= 2, `succeeded count >= 2, saw ${succeeded}`);
    // the status filter narrows the list
    await page.getByLabel('Status', { exact: true }).selectOption('skipped');
    await page.locator('[data-testid="run-row"][data-status="skipped"]').first().waitFor();
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid="run-row"]')].every((r) => r.dataset.status === 'skipped'),
    );
    await page.getByLabel('Status', { exact: true }).selectOption('');
    await page.locator(`[data-testid="run-row"][data-run-id="${state.runId}"]`).waitFor();
    await shot('06-runs');

    await page.locator(`[data-testid="run-row"][data-run-id="${state.runId}"] a`).first().click();
    await page.waitForURL(/\/runs\/detail\/\?id=/);
    await page.locator('[data-testid="run-status"][data-status="succeeded"]').waitFor();
    await page.getByTestId('run-config').getByText('zephyrine-policy.txt').first().waitFor();
    await page.getByTestId('run-stats').waitFor();
    await page.getByTestId('run-durations').waitFor();
    await shot('07-run-detail');
  });

  test('the runs list shows a new run and its transitions without a reload (list long poll)', { timeout: INGEST_TIMEOUT }, async () => {
    await page.getByTestId('nav-runs').click();
    await page.waitForURL(/\/runs\/?$/);
    await page.getByTestId('runs-table').waitFor();
    let navigations = 0;
    const polls = [];
    const onNav = (f) => { if (f === page.mainFrame()) navigations += 1; };
    const onRequest = (r) => { if (/\/v1\/ingestion-runs\?.*wait=/.test(r.url())) polls.push(r.url()); };
    page.on('framenavigated', onNav);
    page.on('request', onRequest);
    try {
      // another client uploads: the open list shows the run, then its success, by itself
      const { token } = await stack.login({ tenant: TENANT.tenant, email: TENANT.email, password: TENANT.password });
      const up = await stack.upload({ token, content: 'Long poll list note\n\nThe kiosk in Braga sells maps.\n', filename: 'list-poll.txt' });
      assert.equal(up.status, 202, up.text);
      const row = page.locator(`[data-testid="run-row"][data-run-id="${up.json.run_id}"]`);
      await row.waitFor({ timeout: UI_TIMEOUT });
      await page.locator(`[data-testid="run-row"][data-run-id="${up.json.run_id}"][data-status="succeeded"]`)
        .waitFor({ timeout: INGEST_TIMEOUT });
      assert.equal(navigations, 0, 'the page was not reloaded');
      assert.ok(polls.some((u) => /since=/.test(u)), `a list long poll was made: ${polls.join(' ')}`);
    } finally {
      page.off('framenavigated', onNav);
      page.off('request', onRequest);
    }
  });

  test('the document is listed and its detail shows the active version', async () => {
    await page.getByTestId('nav-documents').click();
    await page.waitForURL(/\/documents\/?$/);
    const row = page.locator(`[data-testid="doc-row"][data-doc-id="${state.docId}"]`);
    await row.waitFor();
    const title = (await row.locator('td').first().innerText()).trim();
    state.title = title;
    const prefix = title.slice(0, Math.min(8, title.length));
    await page.getByTestId('docs-title-filter').fill(prefix);
    await row.waitFor();
    // checked at once, while the title filter's own URL update may still be on its way
    await page.getByTestId('docs-show-all').check(); // admin-only toggle
    // both end up in the URL (neither update undoes the other) and the box stays checked
    await page.waitForURL((u) => u.searchParams.get('all') === '1' && u.searchParams.get('title') === prefix);
    assert.equal(await page.getByTestId('docs-show-all').isChecked(), true);
    await row.waitFor();
    await shot('08-documents');
    await row.getByRole('link').first().click();
    await page.waitForURL(/\/documents\/detail\/\?id=/);
    await page.getByTestId('doc-title').waitFor();
    await page.locator('[data-testid="version-row"][data-active="true"]').first().waitFor();
    await page.getByTestId('doc-delete').waitFor(); // admins get a Delete button
    await shot('09-document-detail');
  });

  test('search finds the phrase with a highlighted snippet; nonsense abstains', async () => {
    await page.getByTestId('nav-search').click();
    await page.waitForURL(/\/search\/?$/);
    await page.getByLabel('Question or keywords').fill('zephyrine widget refund');
    await page.getByTestId('search-submit').click();
    await page.locator('[data-testid="search-results"][data-query="zephyrine widget refund"]').waitFor();
    const cite = page
      .getByTestId('citation')
      .filter({ has: page.locator(`a[href*="${encodeURIComponent(state.docId)}"]`) })
      .first();
    await cite.waitFor();
    const marks = await cite.locator('[data-testid="snippet"] mark').allInnerTexts();
    assert.ok(marks.length >= 1, 'the snippet highlights at least one match');
    assert.ok(
      marks.some((m) => /zephyrine|widget|refund/i.test(m)),
      `a highlighted term is from the query: ${JSON.stringify(marks)}`,
    );
    await cite.getByTestId('citation-score').waitFor();
    const snippetText = await cite.getByTestId('snippet').innerText();
    assert.ok(!/<\/?mark>|&lt;|&gt;|&amp;/.test(snippetText), `snippet rendered as text: ${snippetText}`);
    await shot('10-search-results');

    // a passage with < & > in it: they come back escaped and must show as plain characters
    await page.getByLabel('Question or keywords').fill('escaped characters stay text');
    await page.getByTestId('search-submit').click();
    const q2 = '[data-query="escaped characters stay text"]';
    await page.locator(`[data-testid="search-results"]${q2}, [data-testid="search-abstained"]${q2}`).first().waitFor();
    for (const t of await page.locator(`[data-testid="search-results"]${q2} [data-testid="snippet"]`).allInnerTexts()) {
      assert.ok(!/&lt;|&gt;|&amp;|<\/?mark>/.test(t), `snippet rendered as text: ${t}`);
    }

    await page.getByLabel('Question or keywords').fill('qzxvw plorktangle vromblesnitz');
    await page.getByTestId('search-submit').click();
    await page
      .locator('[data-testid="search-abstained"][data-query="qzxvw plorktangle vromblesnitz"]')
      .getByText('No evidence found')
      .waitFor();
    await shot('11-search-abstained');
  });

  test('a citation from a scanned page carries the OCR badge; one from a text page does not (issue 16)', { timeout: INGEST_TIMEOUT }, async () => {
    // the integration suite's fixture: text, an image-only page, text (tests/lib/scan-pdf.mjs)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-scan-'));
    const scan = renderText(dir, ['Inventory: one pelican granite harmonica in the', 'storeroom behind the lighthouse.'], 'gray');
    fs.rmSync(dir, { recursive: true, force: true });
    const text = (what) => Array.from({ length: 40 }, (_, i) => `Line ${i} of ordinary text about ${what}.`);
    const pdf = mixedPdf([text('harbour tides and the evening ferry'), scan, text('the keeper and the lamp oil')]);
    await page.getByTestId('nav-upload').click();
    await page.waitForURL(/\/upload\/?$/);
    await page.getByTestId('file-input').setInputFiles([{ name: 'scanned-inventory.pdf', mimeType: 'application/pdf', buffer: pdf }]);
    await page.getByTestId('pending-list').getByText('scanned-inventory.pdf').waitFor();
    await page.getByTestId('upload-submit').click();
    const item = await waitUpload('scanned-inventory.pdf', ['succeeded', 'failed', 'error', 'skipped']);
    assert.equal(await item.getAttribute('data-state'), 'succeeded', `scan run: ${await item.innerText()}`);
    const docId = await item.getAttribute('data-doc-id');

    // every citation of the scan on screen: the badge exactly when its pages include page 2
    const pagesOf = (t) => (t.match(/\d+/g) ?? []).map(Number);
    const seen = { ocr: 0, text: 0 };
    const ask = async (q) => {
      await page.getByTestId('nav-search').click();
      await page.waitForURL(/\/search\/?/);
      await page.getByLabel('Question or keywords').fill(q);
      await page.getByTestId('search-submit').click();
      await page.locator(`[data-testid="search-results"][data-query="${q}"]`).waitFor();
      const cites = page.getByTestId('citation').filter({ has: page.locator(`a[href*="${encodeURIComponent(docId)}"]`) });
      await cites.first().waitFor();
      for (const cite of await cites.all()) {
        const [lo, hi = lo] = pagesOf(await cite.getByTestId('citation-pages').innerText());
        const scanned = lo <= 2 && hi >= 2;
        const badge = cite.getByTestId('citation-ocr');
        assert.equal(await badge.count(), scanned ? 1 : 0, `pages ${lo}-${hi}: ${await cite.innerText()}`);
        if (scanned) {
          assert.equal(await badge.innerText(), 'OCR');
          assert.match(await badge.getAttribute('title'), /recognised from an image/i);
        }
        seen[scanned ? 'ocr' : 'text'] += 1;
      }
    };
    await ask('pelican granite harmonica');
    assert.ok(seen.ocr >= 1, 'the scanned page\'s phrase is cited from page 2 with the badge');
    await shot('12-search-ocr-badge');
    await ask('keeper lamp oil');
    assert.ok(seen.text >= 1, 'a citation from a text page, without the badge');
  });

  test('the admin creates a user with role "user"', async () => {
    await page.getByTestId('nav-users').click();
    await page.waitForURL(/\/admin\/users\/?$/);
    await page.getByTestId('users-table').waitFor();
    await page.getByTestId('new-user-email').fill(READER.email);
    await page.getByTestId('new-user-password').fill(READER.password);
    await page.getByTestId('new-user-role').selectOption('user');
    await page.getByTestId('new-user-submit').click();
    const row = page.locator(`[data-testid="user-row"][data-email="${READER.email}"]`);
    await row.waitFor();
    assert.equal(await row.getByTestId('user-role').inputValue(), 'user');
    // the same email again is refused with the server's message
    await page.getByTestId('new-user-email').fill(READER.email);
    await page.getByTestId('new-user-password').fill(READER.password);
    await page.getByTestId('new-user-submit').click();
    await page.getByTestId('error').first().waitFor();
    await shot('12-users');
  });

  test('the admin adds an S3 source, syncs it and sees the result (issue 17)', { timeout: INGEST_TIMEOUT }, async () => {
    await fetch(`${stack.sqs.endpoint}/ui-bucket`, { method: 'PUT' });
    await fetch(`${stack.sqs.endpoint}/ui-bucket/team/readme.md`, { method: 'PUT', body: '# Team\n\nSynced from S3.\n' });
    await page.getByTestId('nav-sources').click();
    await page.waitForURL(/\/sources\/?$/);
    await page.getByTestId('source-name').fill('Team bucket');
    await page.getByTestId('source-bucket').fill('ui-bucket');
    await page.getByTestId('source-prefix').fill('team/');
    await page.getByTestId('source-endpoint').fill(stack.sqs.endpoint);
    await page.getByTestId('source-submit').click();
    const row = page.locator('[data-testid="source-row"][data-name="Team bucket"]');
    await row.waitFor();
    await row.getByTestId('source-sync').click();
    await row.locator('[data-testid="status-badge"][data-status="succeeded"]').waitFor({ timeout: INGEST_TIMEOUT });
    assert.match(await row.getByTestId('source-last-sync').innerText(), /new 1/);
    // its documents: the Documents screen filtered by the source, named
    await row.getByTestId('source-documents').click();
    await page.waitForURL(/\/documents\/\?source=/);
    const filter = page.getByTestId('docs-source-filter');
    await filter.getByText('Team bucket').waitFor();
    const synced = page.locator('[data-testid="doc-row"]');
    // the sync has queued the object's run; its document is listed once the run succeeds
    for (let i = 0; i < 60 && (await synced.count()) === 0; i++) {
      await page.waitForTimeout(500);
      if ((await synced.count()) === 0) await page.reload();
      await filter.waitFor();
    }
    assert.equal(await synced.count(), 1, 'only the synced document');
    assert.match(await synced.first().innerText(), /readme/i);
    await page.getByTestId('docs-source-clear').click();
    await page.waitForURL(/\/documents\/?$/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="doc-row"]').length > 1);
    await page.getByTestId('nav-sources').click();
    await page.waitForURL(/\/sources\/?$/);
    await row.waitFor();
    // a bad field is refused with the server's message
    await page.getByTestId('source-name').fill('Bad');
    await page.getByTestId('source-bucket').fill('No_Such');
    await page.getByTestId('source-submit').click();
    await page.getByTestId('error').first().waitFor();
    await shot('12b-sources');
  });

  test('a plain user cannot reach the Users page', async () => {
    await logout();
    await login(READER.email, READER.password);
    assert.equal(await page.getByTestId('nav-users').count(), 0, 'no Users link for a plain user');
    await page.getByTestId('nav-runs').waitFor();
    await page.goto(url('/admin/users/'));
    await page.getByTestId('admins-only').waitFor();
    assert.equal(await page.getByTestId('users-table').count(), 0);
    await shot('13-admins-only');
    await logout();
    await shot('14-logged-out');
  });

  test('a plain user sees the sources read-only', async () => {
    await login(READER.email, READER.password);
    await page.getByTestId('nav-sources').click();
    await page.locator('[data-testid="source-row"][data-name="Team bucket"]').waitFor();
    assert.equal(await page.getByTestId('source-form').count(), 0, 'no form for a plain user');
    assert.equal(await page.getByTestId('source-sync').count(), 0, 'no sync button for a plain user');
    await logout();
  });

  test('an expired session sends the user back to the login page', async () => {
    await login(READER.email, READER.password);
    await context.clearCookies();
    await page.getByTestId('nav-runs').click();
    await page.waitForURL(/\/login\/\?/);
    await page.getByTestId('session-expired').waitFor();
    await shot('15-session-expired');
  });

  test('no uncaught errors in the page', () => {
    assert.deepEqual(pageErrors, []);
  });

  test('every page ran under a CSP without unsafe-inline scripts, and nothing was blocked', () => {
    assert.ok(htmlPolicies.size > 0, 'no HTML document was loaded');
    for (const [u, policy] of htmlPolicies) {
      const script = policy.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src '));
      assert.ok(script, `${u}: no script-src in "${policy}"`);
      assert.doesNotMatch(script, /unsafe/, `${u}: ${script}`);
      assert.match(script, /'sha256-[A-Za-z0-9+/]{43}='/, `${u}: no inline script hash in ${script}`);
    }
    assert.deepEqual(cspViolations, []);
  });
});
