// Browser tests of issue 15 against the real stack (tests/lib/stack.mjs: PostgreSQL, the
// SQS emulator, core-api serving web/out, one ingest-worker) in Debian's Chromium:
// versions (the replace prompt, Upload new version, latest-only search), citations opened
// at their place (a PDF page rendered by pdf.js with the passage highlighted, an HTML
// manual's text with the chunk marked), Retry of a failed run, the upload list after a
// reload, URL filters and Back, confirmations, a user without admin controls, and every
// screen at 390 px (no horizontal scroll) and 1366 px. See README.md.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.join(HERE, 'output');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const INGEST = 120_000;
const ADMIN = { tenant: 'acme', name: 'Acme', email: 'admin@acme.test', password: 'pw-123456789' };
const USER = { email: 'user@acme.test', password: 'pw-user-123456' };

let stack;
let ctx;
let page;
let dir;
let makePdf;
const errors = [];

const url = (p) => new URL(p, stack.baseUrl).toString();
const shot = (name) => page.screenshot({ path: path.join(OUT_DIR, `${name}.png`), fullPage: true });

async function signIn(email, password) {
  await page.goto(url('/login/'));
  await page.getByLabel('Tenant').fill(ADMIN.tenant);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(/\/upload\/?$/);
}

/** Choose files on the upload screen and send them. files: [{name, body, title?}] */
async function upload(files) {
  await page.goto(url('/upload/'));
  await page.getByTestId('file-input').setInputFiles(
    files.map((f) => ({ name: f.name, mimeType: 'application/octet-stream', buffer: Buffer.from(f.body) })));
  for (const [i, f] of files.entries()) {
    if (f.title) await page.getByTestId('pending-title').nth(i).fill(f.title);
  }
  await page.getByTestId('upload-submit').click();
}

/** The newest run of this file name, once terminal (from the server). */
async function runOf(name, statuses = ['succeeded'], atLeast = 1) {
  const deadline = Date.now() + INGEST;
  for (;;) {
    const rows = await stack.sql(
      `SELECT run_id::text, doc_id::text, status, error, stats, count(*) OVER ()::int AS n FROM ingestion_runs
        WHERE config->>'original_filename' = $1 ORDER BY created_at DESC LIMIT 1`, [name]);
    if (rows[0] && rows[0].n >= atLeast && ['succeeded', 'failed', 'skipped'].includes(rows[0].status)) {
      assert.ok(statuses.includes(rows[0].status), `${name}: ${rows[0].status} ${rows[0].error}`);
      return rows[0];
    }
    assert.ok(Date.now() < deadline, `${name}: no terminal run`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function search(q) {
  await page.goto(url(`/search/?q=${encodeURIComponent(q)}`));
  await page.locator('[data-testid="search-results"], [data-testid="search-abstained"]').first().waitFor();
}

/** Poll fn() until it is truthy (bounded: at most `ms`); the value it gave. */
async function until(fn, label, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    assert.ok(Date.now() < deadline, `timed out: ${label}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function noSideScroll(label) {
  const m = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: window.innerWidth }));
  assert.ok(m.sw <= m.iw, `${label}: ${m.sw}px wide in a ${m.iw}px window`);
}

describe('issue 15: versions, citations, failures, layout', { timeout: 20 * 60_000 }, () => {
  before(async () => {
    fs.mkdirSync(OUT_DIR, { recursive: true });
    ({ makePdf } = await import(new URL('../lib/pdf-writer.mjs', import.meta.url)));
    const { startStack } = await import(new URL('../lib/stack.mjs', import.meta.url));
    stack = await startStack({ worker: true, maxReceiveCount: 3 });
    const b = await stack.bootstrap(ADMIN);
    assert.equal(b.code, 0, b.stderr);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e15-'));
    ctx = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1366, height: 900 },
    });
    ctx.setDefaultTimeout(30_000);
    page = ctx.pages()[0] || (await ctx.newPage());
    page.on('pageerror', (e) => errors.push(String(e && e.stack ? e.stack : e)));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
    });
  });
  after(async () => {
    await ctx?.close().catch(() => {});
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await stack?.stop();
  });

  test('login messages are words, not codes', async () => {
    await page.goto(url('/login/'));
    await page.getByLabel('Tenant').fill(ADMIN.tenant);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByTestId('login-submit').click();
    const e = page.getByTestId('error');
    await e.waitFor();
    const text = await e.innerText();
    assert.match(text, /wrong/);
    assert.doesNotMatch(text, /unauthorized|rate_limited|\(/);
    await signIn(ADMIN.email, ADMIN.password);
  });

  test('the upload list comes from the server and survives a reload', async () => {
    await upload([{ name: 'notes.md', body: '# Notes\n\nThe wombat gate code is alpha seven.\n' }]);
    const run = await runOf('notes.md');
    await page.reload();
    const item = page.locator(`[data-testid="recent-upload"][data-run-id="${run.run_id}"]`);
    await item.waitFor();
    assert.equal(await item.getAttribute('data-status'), 'succeeded');
    assert.match(await item.innerText(), /notes\.md/);
    await shot('15-upload-list-after-reload-1366');
  });

  test('leaving while files are being sent asks first; cancel stops them and leaves no run', async () => {
    // a second tab whose uploads crawl (DevTools network throttling): the bytes are
    // really being sent when the tab is closed and when the uploads are cancelled
    const tab = await ctx.newPage();
    tab.on('pageerror', (e) => errors.push(String(e && e.stack ? e.stack : e)));
    const cdp = await ctx.newCDPSession(tab);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 32 * 1024 });
    await tab.goto(url('/upload/'));
    // four files: three are sent at a time, the fourth waits for a free slot
    const names = ['slow-1.txt', 'slow-2.txt', 'slow-3.txt', 'slow-4.txt'];
    await tab.getByTestId('file-input').setInputFiles(names.map((name) => ({ name, mimeType: 'text/plain',
      buffer: Buffer.alloc(1024 * 1024, `a line of ${name}\n`) })));
    await tab.getByTestId('upload-submit').click();
    const item = (name) => tab.locator('[data-testid="upload-item"]').filter({ hasText: name });
    const inState = (name, st) => item(name).and(tab.locator(`[data-state="${st}"]`));
    for (const n of names.slice(0, 3)) await inState(n, 'uploading').waitFor();
    await inState('slow-4.txt', 'waiting').waitFor();
    // some bytes went out, not all of them
    const progress = async (n) => Number(await item(n).getByTestId('upload-progress').getAttribute('value'));
    await until(async () => (await progress('slow-1.txt')) > 0, 'no progress');
    assert.ok((await progress('slow-1.txt')) < 100);

    // closing the tab asks first (beforeunload); staying keeps the uploads going
    const dialogs = [];
    tab.on('dialog', (dlg) => {
      dialogs.push(dlg.type());
      dlg.dismiss();
    });
    await tab.close({ runBeforeUnload: true });
    await until(() => dialogs.length, 'no question before leaving');
    assert.deepEqual(dialogs, ['beforeunload']);
    assert.equal(tab.isClosed(), false, 'dismissed: the tab stays');
    assert.equal(await item('slow-1.txt').getAttribute('data-state'), 'uploading');

    // cancel the waiting one, then one being sent: the freed slot does not start the
    // cancelled file; then the rest. Each row says cancelled, the summary counts them.
    await item('slow-4.txt').getByTestId('upload-cancel').click();
    await inState('slow-4.txt', 'cancelled').waitFor();
    await item('slow-1.txt').getByTestId('upload-cancel').click();
    await inState('slow-1.txt', 'cancelled').waitFor();
    assert.equal(await item('slow-4.txt').getAttribute('data-state'), 'cancelled');
    assert.equal(await item('slow-2.txt').getAttribute('data-state'), 'uploading');
    for (const n of ['slow-2.txt', 'slow-3.txt']) {
      await item(n).getByTestId('upload-cancel').click();
      await inState(n, 'cancelled').waitFor();
    }
    assert.equal(await tab.getByTestId('upload-cancel').count(), 0);
    const summary = tab.getByTestId('upload-summary');
    assert.equal(await summary.getAttribute('data-cancelled'), '4');
    assert.equal(await summary.getAttribute('data-sending'), '0');
    assert.equal(await summary.getAttribute('data-sent'), '0');

    // the server made no run of them: a later upload of this tab finishes, and still none
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await tab.getByTestId('file-input').setInputFiles({ name: 'after-cancel.txt', mimeType: 'text/plain',
      buffer: Buffer.from('Sent after cancelled uploads: the quokka ledger.\n') });
    await tab.getByTestId('upload-submit').click();
    await runOf('after-cancel.txt');
    const runs = await stack.sql(
      "SELECT count(*)::int AS n FROM ingestion_runs WHERE config->>'original_filename' LIKE 'slow-%'");
    assert.equal(runs[0].n, 0, 'a cancelled upload leaves no run');
    await tab.locator('[data-testid="recent-upload"]').filter({ hasText: 'after-cancel.txt' }).waitFor();
    assert.equal(await tab.locator('[data-testid="recent-upload"]').filter({ hasText: 'slow-' }).count(), 0);
    await tab.screenshot({ path: path.join(OUT_DIR, '15-upload-cancelled-1366.png'), fullPage: true });

    // nothing is being sent now: the tab closes without a question
    await until(async () => (await summary.getAttribute('data-sending')) === '0', 'still sending');
    const closed = tab.waitForEvent('close');
    await tab.close({ runBeforeUnload: true });
    await closed;
    assert.deepEqual(dialogs, ['beforeunload'], 'asked again with nothing being sent');
  });

  test('same-name upload: the replace prompt makes a new version; search returns only the new text', async () => {
    await upload([{ name: 'notes.md', body: '# Notes\n\nThe wombat gate code is bravo nine.\n' }]);
    await page.getByTestId('replace-prompt').waitFor();
    await shot('15-replace-prompt-1366');
    await page.getByTestId('replace-yes').click();
    const run = await runOf('notes.md', ['succeeded'], 2);
    const docs = await stack.sql("SELECT count(*)::int AS n FROM documents WHERE title = 'notes.md'");
    assert.equal(docs[0].n, 1, 'one document, two versions');
    await search('wombat gate code');
    const cites = page.getByTestId('citation');
    assert.equal(await cites.count(), 1);
    const snippet = await cites.first().innerText();
    assert.match(snippet, /bravo/);
    assert.doesNotMatch(snippet, /alpha/);
    assert.ok(run.doc_id);
  });

  test('Upload new version from the document page; history says who and why inactive', async () => {
    const [{ doc_id: docId }] = await stack.sql("SELECT doc_id::text FROM documents WHERE title = 'notes.md'");
    await page.goto(url(`/documents/detail/?id=${docId}`));
    await page.getByTestId('new-version-file').setInputFiles({ name: 'notes-v3.md', mimeType: 'text/markdown',
      buffer: Buffer.from('# Notes\n\nThe wombat gate code is charlie four.\n') });
    await page.getByTestId('new-version-submit').click();
    await page.locator('[data-testid="new-version-status"][data-status="succeeded"]').waitFor({ timeout: INGEST });
    await page.locator('[data-testid="version-row"]').nth(2).waitFor();
    assert.equal(await page.locator('[data-testid="version-row"][data-active="true"]').count(), 1);
    const reasons = await page.getByTestId('version-reason').allInnerTexts();
    assert.deepEqual(reasons, ['replaced by a newer version', 'replaced by a newer version']);
    assert.match(await page.getByTestId('versions-table').innerText(), /admin@acme\.test/);
    await shot('15-document-versions-1366');
    await search('wombat gate code');
    const all = (await page.getByTestId('citation').allInnerTexts()).join('\n');
    assert.match(all, /charlie/);
    assert.doesNotMatch(all, /bravo|alpha/);
  });

  test('a PDF citation opens the cited page rendered, with the passage highlighted', async () => {
    const pdf = makePdf([['Introduction to the manual.'], ['Chapter one is about nothing.'],
      ['The platypus valve must be closed before the pump starts.'], ['Index.']]);
    await upload([{ name: 'pump-manual.pdf', body: pdf }]);
    await runOf('pump-manual.pdf');
    await search('platypus valve pump');
    await shot('15-search-1366');
    await page.getByTestId('citation-open').first().click();
    await page.waitForURL(/\/view\/\?/);
    const info = page.getByTestId('pdf-page');
    await info.waitFor({ timeout: 60_000 });
    const cited = Number(new URL(page.url()).searchParams.get('page'));
    assert.equal(Number(await info.getAttribute('data-page')), cited);
    assert.ok(cited >= 1);
    assert.ok(Number(await info.getAttribute('data-highlights')) >= 1, 'no highlight');
    await page.getByTestId('pdf-highlight').first().waitFor();
    const box = await page.getByTestId('pdf-canvas').boundingBox();
    assert.ok(box && box.width > 100 && box.height > 100, 'the page was rendered');
    await shot('15-viewer-pdf-1366');
    // Back keeps the search
    await page.getByTestId('viewer-back').click();
    await page.waitForURL(/\/search\/\?q=/);
    await page.getByTestId('citation').first().waitFor();
  });

  test('an HTML citation opens the extracted text with the chunk highlighted', async () => {
    const html = '<html><head><title>Echidna guide</title></head><body><h1>Guide</h1>'
      + '<p>Intro text.</p><p>The echidna feeder is refilled every Tuesday morning.</p></body></html>';
    await upload([{ name: 'echidna.html', body: html }]);
    await runOf('echidna.html');
    await search('echidna feeder Tuesday');
    await page.getByTestId('citation-open').first().click();
    const mark = page.getByTestId('text-highlight');
    await mark.waitFor();
    assert.match(await mark.innerText(), /echidna feeder is refilled/);
    await shot('15-viewer-text-1366');
  });

  test('a corrupt PDF fails at once with a reason in words; Retry makes a new attempt', async () => {
    await upload([{ name: 'broken.pdf', body: fs.readFileSync(path.join(stack.fixtures, 'corrupt.pdf')) }]);
    const run = await runOf('broken.pdf', ['failed']);
    const [{ attempt }] = await stack.sql('SELECT attempt FROM ingestion_runs WHERE run_id = $1', [run.run_id]);
    assert.equal(attempt, 1);
    await page.goto(url(`/runs/detail/?id=${run.run_id}`));
    const err = page.getByTestId('run-error');
    await err.waitFor();
    assert.equal(await page.getByTestId('run-title').innerText(), 'broken.pdf');
    assert.equal(await err.getAttribute('data-kind'), 'corrupt');
    assert.match(await page.getByTestId('run-error-title').innerText(), /damaged/);
    await shot('15-run-failed-1366');
    await page.getByTestId('run-retry').click();
    await page.waitForURL((u) => !u.toString().includes(run.run_id));
    const newId = new URL(page.url()).searchParams.get('id');
    const [row] = await stack.sql("SELECT config->>'retry_of' AS r FROM ingestion_runs WHERE run_id = $1", [newId]);
    assert.equal(row.r, run.run_id);
    await page.getByTestId('run-status').waitFor();
  });

  test('URL filters: /runs/?status=failed shows failed runs only; documents keep title and sort', async () => {
    await page.goto(url('/runs/?status=failed'));
    await page.getByTestId('run-row').first().waitFor();
    const states = await page.locator('[data-testid="run-row"]').evaluateAll((rs) => rs.map((r) => r.dataset.status));
    assert.ok(states.length >= 1);
    assert.deepEqual([...new Set(states)], ['failed']);
    await page.goto(url('/documents/?title=pump&sort=title'));
    await page.getByTestId('doc-row').first().waitFor();
    assert.equal(await page.getByTestId('doc-row').count(), 1);
    assert.equal(await page.getByTestId('docs-title-filter').inputValue(), 'pump');
    assert.equal(await page.getByTestId('docs-sort').inputValue(), 'title');
  });

  test('URL filters on a slow CPU: a checkbox set while the title filter is being written keeps both', async () => {
    // The title filter writes the URL 300 ms after the last keystroke; "show all" writes it at
    // once. With the CPU slowed down (DevTools), router.replace() takes long to land, so the
    // click falls before, into and after the title's navigation depending on the offset. The
    // offsets only place the click: the assertions wait for the final state (the URL has both,
    // the box is checked), and Playwright's check() fails if the box does not stay checked.
    const cdp = await ctx.newCDPSession(page);
    try {
      for (const offset of [0, 200, 260, 290, 320]) {
        await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
        await page.goto(url('/documents/'));
        await page.getByTestId('docs-show-all').waitFor();
        await cdp.send('Emulation.setCPUThrottlingRate', { rate: 30 });
        await page.getByTestId('docs-title-filter').fill('pu');
        if (offset) await page.waitForTimeout(offset);
        await page.getByTestId('docs-show-all').check();
        await page.waitForURL((u) => u.searchParams.get('all') === '1' && u.searchParams.get('title') === 'pu',
          { timeout: 15_000 });
        assert.equal(await page.getByTestId('docs-show-all').isChecked(), true, `offset ${offset} ms`);
        assert.equal(await page.getByTestId('docs-title-filter').inputValue(), 'pu', `offset ${offset} ms`);
      }
    } finally {
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 }).catch(() => {});
      await cdp.detach().catch(() => {});
    }
    await page.locator('[data-testid="doc-row"]').filter({ hasText: 'pump-manual.pdf' }).waitFor();
  });

  test('confirmations: delete and promote ask first; cancel changes nothing', async () => {
    const [{ doc_id: docId }] = await stack.sql("SELECT doc_id::text FROM documents WHERE title = 'echidna.html'");
    await page.goto(url(`/documents/detail/?id=${docId}`));
    await page.getByTestId('doc-delete').click();
    await page.getByTestId('doc-delete-confirm').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await page.getByTestId('doc-delete-confirm').count(), 0);
    const [d] = await stack.sql('SELECT deleted_at FROM documents WHERE doc_id = $1', [docId]);
    assert.equal(d.deleted_at, null);

    await page.goto(url('/admin/users/'));
    await page.getByTestId('new-user-email').fill(USER.email);
    await page.getByTestId('new-user-password').fill(USER.password);
    await page.getByTestId('new-user-role').selectOption('user');
    await page.getByTestId('new-user-submit').click();
    const row = page.locator(`[data-testid="user-row"][data-email="${USER.email}"]`);
    await row.waitFor();
    let asked = null;
    page.once('dialog', (dlg) => {
      asked = dlg.message();
      dlg.dismiss();
    });
    await row.getByTestId('user-role').selectOption('admin');
    assert.match(await until(() => asked, 'the promotion was not confirmed first'), /admin/);
    // the dropdown shows the role the user still has
    await until(async () => (await row.getByTestId('user-role').inputValue()) === 'user', 'role select back to user');
    const [u] = await stack.sql('SELECT role FROM users WHERE email = $1', [USER.email]);
    assert.equal(u.role, 'user', 'dismissed: not promoted');

    // accepted: promoted, the select shows the new role while the change is sent and after;
    // the way back asks too
    const role = async () => (await stack.sql('SELECT role FROM users WHERE email = $1', [USER.email]))[0].role;
    for (const [to, words] of [['admin', /admin/], ['user', /Remove the admin role/]]) {
      asked = null;
      page.once('dialog', (dlg) => {
        asked = dlg.message();
        dlg.accept();
      });
      await row.getByTestId('user-role').selectOption(to);
      assert.equal(await row.getByTestId('user-role').inputValue(), to, 'the select shows the asked-for role at once');
      await page.getByTestId('users-notice').filter({ hasText: `role set to ${to}` }).waitFor();
      assert.match(asked ?? '', words);
      assert.equal(await row.getByTestId('user-role').inputValue(), to);
      assert.equal(await role(), to);
    }
  });

  test('confirmations: deactivating a user and deleting a document happen only once confirmed', async () => {
    const row = page.locator(`[data-testid="user-row"][data-email="${USER.email}"]`);
    await row.waitFor();
    const active = async () => (await stack.sql('SELECT is_active FROM users WHERE email = $1', [USER.email]))[0].is_active;
    // cancel: nothing changes
    let asked = null;
    page.once('dialog', (dlg) => {
      asked = dlg.message();
      dlg.dismiss();
    });
    await row.getByTestId('user-deactivate').click();
    assert.match(await until(() => asked, 'deactivation was not confirmed first'), /Deactivate user@acme\.test/);
    assert.equal(await row.getByTestId('user-deactivate').isEnabled(), true);
    assert.equal(await row.getByTestId('user-state').getAttribute('data-status'), 'active');
    assert.equal(await active(), true, 'dismissed: still active');
    // confirm: deactivated, and the row says so
    asked = null;
    page.once('dialog', (dlg) => {
      asked = dlg.message();
      dlg.accept();
    });
    await row.getByTestId('user-deactivate').click();
    await row.getByTestId('user-reactivate').waitFor();
    assert.match(asked ?? '', /Deactivate/);
    assert.equal(await row.getByTestId('user-state').getAttribute('data-status'), 'inactive');
    assert.equal(await active(), false, 'confirmed: deactivated');
    // reactivating needs no confirmation (it takes no right away); the user signs in later
    let reasked = false;
    const onDialog = (dlg) => {
      reasked = true;
      dlg.dismiss();
    };
    page.on('dialog', onDialog);
    try {
      await row.getByTestId('user-reactivate').click();
      await row.getByTestId('user-deactivate').waitFor();
    } finally {
      page.off('dialog', onDialog);
    }
    assert.equal(reasked, false);
    assert.equal(await active(), true);

    // a document: Delete, then "Yes, delete" deletes it; search no longer cites it
    const [{ doc_id: docId }] = await stack.sql("SELECT doc_id::text FROM documents WHERE title = 'echidna.html'");
    await page.goto(url(`/documents/detail/?id=${docId}`));
    await page.getByTestId('doc-delete').click();
    await page.getByTestId('doc-delete-confirm').click();
    await page.getByTestId('doc-deleted-note').waitFor();
    assert.equal(await page.getByTestId('doc-state').getAttribute('data-status'), 'deleted');
    assert.equal(await page.getByTestId('doc-delete').count(), 0, 'no Delete on a deleted document');
    const [d] = await stack.sql('SELECT deleted_at, deleted_by::text AS who FROM documents WHERE doc_id = $1', [docId]);
    assert.ok(d.deleted_at && d.who, 'confirmed: deleted, and by whom is kept');
    await search('echidna feeder Tuesday');
    const cited = await page.locator(`[data-testid="citation"] a[href*="${docId}"]`).count();
    assert.equal(cited, 0, 'a deleted document is not cited');
  });

  test('every screen at 390 px has no horizontal scroll; screenshots at 390 and 1366', async () => {
    const [{ doc_id: docId }] = await stack.sql("SELECT doc_id::text FROM documents WHERE title = 'pump-manual.pdf'");
    const [{ run_id: runId }] = await stack.sql('SELECT run_id::text FROM ingestion_runs ORDER BY created_at LIMIT 1');
    const [c] = await stack.sql(
      `SELECT c.chunk_id::text, c.version_id::text, c.page_start FROM chunks c WHERE c.doc_id = $1 AND c.text LIKE '%platypus%'`,
      [docId]);
    const screens = {
      upload: '/upload/', runs: '/runs/', run: `/runs/detail/?id=${runId}`, documents: '/documents/',
      document: `/documents/detail/?id=${docId}`, search: '/search/?q=platypus%20valve', users: '/admin/users/',
      viewer: `/view/?doc=${docId}&version=${c.version_id}&chunk=${c.chunk_id}&page=${c.page_start}`,
    };
    // measured once each screen shows its data (not after a fixed time): what the fetch
    // brings (long titles, file names, the rendered page) is what could make it too wide
    const ready = {
      upload: '[data-testid="recent-summary"]', runs: '[data-testid="run-row"]', run: '[data-testid="run-status"]',
      documents: '[data-testid="doc-row"]', document: '[data-testid="version-row"]',
      search: '[data-testid="citation"]', users: '[data-testid="user-row"]', viewer: '[data-testid="pdf-page"]',
    };
    for (const width of [390, 1366]) {
      await page.setViewportSize({ width, height: 900 });
      for (const [name, p] of Object.entries(screens)) {
        await page.goto(url(p));
        await page.locator('main h1, h1').first().waitFor();
        await page.locator(ready[name]).first().waitFor({ timeout: 60_000 });
        if (width === 390) await noSideScroll(name);
        await shot(`15-${name}-${width}`);
      }
    }
    await page.goto(url('/login/'));
    await page.getByTestId('login-form').waitFor();
    await page.setViewportSize({ width: 390, height: 900 });
    await noSideScroll('login');
    await page.setViewportSize({ width: 1366, height: 900 });
  });

  test('a user sees no admin controls', async () => {
    await page.getByTestId('logout').click().catch(() => {});
    await signIn(USER.email, USER.password);
    assert.equal(await page.getByTestId('nav-users').count(), 0);
    const [{ doc_id: docId }] = await stack.sql("SELECT doc_id::text FROM documents WHERE title = 'notes.md'");
    await page.goto(url(`/documents/detail/?id=${docId}`));
    await page.getByTestId('versions-table').waitFor();
    assert.equal(await page.getByTestId('doc-delete').count(), 0);
    assert.equal(await page.getByTestId('version-activate').count(), 0);
    assert.equal(await page.getByTestId('docs-show-all').count(), 0);
    await page.getByTestId('new-version-form').waitFor(); // users may upload versions
    await shot('15-user-document-1366');
  });

  test('no JavaScript errors on any page', () => {
    assert.deepEqual(errors, []);
  });
});
