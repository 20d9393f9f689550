// Issue 16: OCR through the exec'd extraction helper, end to end. The fixtures are
// made by tests/lib/scan-pdf.mjs: text PDFs rendered by pdftoppm into a PNG
// and into the grey pixels of an image-only page, wrapped in a PDF.
//   - a PNG of a paragraph: searchable, its chunks marked ocr
//   - a mixed PDF (text, image-only, text): the image page's phrase is found on page 2
//     with ocr, the text pages are not OCR'd
//   - an OCR bomb (a PNG header claiming 30000x30000 px): too_large at once, no retry
//   - OCR=off: an image fails unsupported_type
//   - the worker's extraction children are ingest-extract, not ingest-worker
//   - a PDF is split into pdftotext parts only while a core would idle (stats.pdf_parts_allowed)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mixedPdf, renderText } from '../lib/scan-pdf.mjs';
import { startStack } from '../lib/stack.mjs';

let stack;
let who;
let tmp;

const PHRASE_PNG = 'walrus cinnamon observatory';
const PHRASE_SCAN = 'pelican granite harmonica';

const render = (lines, kind) => renderText(tmp, lines, kind);

async function search(query) {
  const r = await stack.api('POST', '/v1/search', { token: who.token, body: { query } });
  assert.equal(r.status, 200, r.text);
  return r.json.results;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'extraction-test-'));
  stack = await startStack({ worker: true });
  who = await stack.tenant('ocr');
});

after(async () => {
  await stack?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('a PNG of a paragraph is OCR\'d: its phrase is found, its chunks are marked ocr', async () => {
  const png = render([`The survey noted a ${PHRASE_PNG} near the`, 'northern ridge of the old quarry.'], 'png');
  const { run } = await stack.ingest({ token: who.token, filename: 'photo.png', content: png }, { timeoutMs: 120000 });
  assert.equal(run.status, 'succeeded', `${run.status} ${run.error}`);
  const hits = await search(PHRASE_PNG);
  assert.ok(hits.length >= 1, 'phrase found');
  assert.match(hits[0].snippet.toLowerCase(), /walrus/);
  const rows = await stack.sql('SELECT bool_and(ocr) AS all_ocr, count(*)::int AS n FROM chunks WHERE version_id = $1',
    [run.stats.version_id]);
  assert.equal(rows[0].all_ocr, true);
  assert.ok(rows[0].n >= 1);
});

test('a mixed PDF: the image-only page is OCR\'d and cited as page 2, the text pages are not OCR', async () => {
  const gray = render([`Inventory: one ${PHRASE_SCAN} in the`, 'storeroom behind the lighthouse.'], 'gray');
  // text pages longer than a chunk, so each page has chunks of its own
  const filler = (what) => Array.from({ length: 40 }, (_, i) => `Line ${i} of ordinary text about ${what}.`);
  const pdf = mixedPdf([filler('harbour tides and the evening ferry'), gray, filler('the keeper and the lamp oil')]);
  const { run } = await stack.ingest({ token: who.token, filename: 'scan.pdf', content: pdf }, { timeoutMs: 120000 });
  assert.equal(run.status, 'succeeded', `${run.status} ${run.error}`);
  assert.equal(run.stats.pages, 3);
  const hits = await search(PHRASE_SCAN);
  assert.ok(hits.length >= 1, 'phrase found');
  assert.ok(hits[0].page_start <= 2 && hits[0].page_end >= 2, JSON.stringify(hits[0]));
  // chunks.ocr exactly for the chunks that touch the scanned page
  const rows = await stack.sql('SELECT page_start, page_end, ocr FROM chunks WHERE version_id = $1',
    [run.stats.version_id]);
  assert.ok(rows.some((r) => r.page_end < 2) && rows.some((r) => r.page_start > 2), JSON.stringify(rows));
  for (const r of rows) assert.equal(r.ocr, r.page_start <= 2 && r.page_end >= 2, JSON.stringify(r));
  const ocr = await stack.sql(`SELECT text FROM chunks WHERE version_id = $1 AND ocr`, [run.stats.version_id]);
  assert.ok(ocr.some((r) => r.text.includes(PHRASE_SCAN)), JSON.stringify(ocr));
});

// The helper's progress frames on fd 3 (sandbox.c): a 24-byte head {magic, code,
// detail_len, pad, payload_len}, then for "PROG" int64 done, int64 total.
function progressFrames(buf) {
  const frames = [];
  for (let off = 0; off + 24 <= buf.length;) {
    const magic = buf.toString('latin1', off, off + 4);
    if (magic !== 'PROG') break;
    frames.push({ done: Number(buf.readBigInt64LE(off + 24)), total: Number(buf.readBigInt64LE(off + 32)) });
    off += 40;
  }
  return frames;
}

test('a mixed PDF\'s progress is one range in pages over text and OCR: it never goes back to 0', async () => {
  const gray = render(['a scanned page in the middle'], 'gray');
  const filler = (what) => Array.from({ length: 30 }, (_, i) => `Line ${i} of ordinary text about ${what}.`);
  const file = path.join(tmp, 'progress.pdf');
  fs.writeFileSync(file, mixedPdf([filler('the first page'), gray, filler('the third page')]));
  const helper = path.join(path.dirname(stack.bin('ingest-worker')), 'ingest-extract');
  const out = await new Promise((resolve, reject) => {
    const c = spawn(helper, [`--parent=${process.pid}`, '--mime=application/pdf', `--path=${file}`, '--timeout-ms=120000',
      '--memory-mb=2048', '--max-chars=10000000', '--max-uncompressed=100000000', '--ocr=1', '--ocr-langs=eng',
      '--ocr-page-ms=60000', '--ocr-max-pixels=50000000'], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    const chunks = [];
    c.stdio[3].on('data', (d) => chunks.push(d));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`helper exit ${code}`))));
  });
  const frames = progressFrames(out);
  assert.ok(frames.length >= 2, JSON.stringify(frames));
  for (let i = 1; i < frames.length; i++) {
    assert.ok(frames[i].done >= frames[i - 1].done && frames[i].total >= frames[i - 1].total,
      `progress went back: ${JSON.stringify(frames)}`);
  }
  assert.ok(frames.some((f) => f.done === 3 && f.total === 3), `the text pass counts the 3 pages: ${JSON.stringify(frames)}`);
  // 3 pages read + 1 page OCR'd
  assert.deepEqual(frames.at(-1), { done: 4, total: 4 }, JSON.stringify(frames));
});

test('search citations say ocr: true for OCR\'d text and false for a text layer', async () => {
  const hits = await search(PHRASE_SCAN);
  assert.ok(hits.length >= 1, 'the mixed PDF was ingested by an earlier test');
  assert.equal(hits[0].ocr, true, JSON.stringify(hits[0]));
  const text = await search('keeper lamp oil');
  const plain = text.find((h) => h.page_start === 3);
  assert.ok(plain, JSON.stringify(text));
  assert.equal(plain.ocr, false, JSON.stringify(plain));
});

test('an OCR bomb (30000x30000 px header) fails too_large at once, and the worker stays up', async () => {
  const ihdr = Buffer.alloc(25);
  Buffer.from('\x89PNG\r\n\x1a\n', 'latin1').copy(ihdr, 0);
  ihdr.writeUInt32BE(13, 8);
  ihdr.write('IHDR', 12, 'latin1');
  ihdr.writeUInt32BE(30000, 16);
  ihdr.writeUInt32BE(30000, 20);
  ihdr[24] = 8;
  const bomb = Buffer.concat([ihdr, Buffer.alloc(4096)]);
  const { run } = await stack.ingest({ token: who.token, filename: 'bomb.png', content: bomb });
  assert.equal(run.status, 'failed');
  assert.match(run.error, /^too_large: image of 30000x30000 px over the \d+ pixel limit/);
  assert.equal(run.attempt ?? run.stats.attempt, 1, 'no retry');
  assert.ok(stack.workers[0].alive);
});

test('the extraction child is a new program image (ingest-extract), not a fork of the worker', async () => {
  // three scanned pages keep the helper busy (OCR) while we look at it
  const worker = stack.workers[0].child.pid;
  const gray = render(['slow page'], 'gray');
  const big = mixedPdf(Array.from({ length: 3 }, () => gray));
  const up = await stack.upload({ token: who.token, filename: 'slow.pdf', content: big });
  assert.equal(up.status, 202, up.text);
  // A child caught between posix_spawn's clone and its execve still shows the worker's own
  // image for that instant: keep looking until a child shows another one. A forked child
  // that never execs keeps the worker's image for its whole life and fails the match below.
  const own = fs.readlinkSync(`/proc/${worker}/exe`);
  let seen = null;
  const deadline = Date.now() + 60000;
  while ((!seen || seen === own) && Date.now() < deadline) {
    for (const task of fs.readdirSync(`/proc/${worker}/task`)) {
      let kids = '';
      try { kids = fs.readFileSync(`/proc/${worker}/task/${task}/children`, 'utf8'); } catch { continue; }
      for (const pid of kids.split(/\s+/).filter(Boolean)) {
        try { seen = fs.readlinkSync(`/proc/${pid}/exe`); } catch { /* gone */ }
      }
    }
    if (!seen || seen === own) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(seen, 'an extraction child was seen');
  assert.match(seen, /\/ingest-extract$/);
  const run = await stack.waitRun(up.json.run_id, { timeoutMs: 240000 });
  assert.equal(run.status, 'succeeded', `${run.status} ${run.error}`);
  assert.equal(run.stats.pages, 3);
});

// EXTRACT_PDF_PARTS (2) is capped at the cores per job the worker runs (extract_pdf_parts_now):
// a PDF whose extraction starts while the worker runs another job gets fewer pdftotext
// processes than one that starts alone. stats.pdf_parts_allowed records what it was given.
test('a PDF is split only while a core would idle: alone it gets the parts, beside a running job fewer', async () => {
  const cores = os.availableParallelism();
  const pages = (what) => Array.from({ length: 70 }, (_, p) => [`Page ${p + 1} of the ${what} handbook.`]);
  const gray = render(['a scanned page that keeps the first job busy'], 'gray');
  // the first: 70 text pages (over EXTRACT_PDF_SPLIT_PAGES) and 6 scans, seconds of OCR
  const first = await stack.upload({ token: who.token, filename: 'parts-a.pdf',
    content: mixedPdf([...pages('harbour'), ...Array.from({ length: 6 }, () => gray)]) });
  assert.equal(first.status, 202, first.text);
  const inStage = async (runId, stages) => {
    const deadline = Date.now() + 60000;
    for (;;) {
      const [r] = await stack.sql('SELECT status, stats FROM ingestion_runs WHERE run_id = $1', [runId]);
      if (r.status !== 'queued' && (r.status !== 'running' || stages.includes(r.stats?.progress?.stage))) return r;
      assert.ok(Date.now() < deadline, `run ${runId} never reached ${stages}: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  };
  const a = await inStage(first.json.run_id, ['extract']);
  assert.equal(a.status, 'running', `the first job was still to be extracting: ${JSON.stringify(a)}`);
  const second = await stack.upload({ token: who.token, filename: 'parts-b.pdf', content: mixedPdf(pages('lighthouse')) });
  assert.equal(second.status, 202, second.text);
  await inStage(second.json.run_id, ['extract', 'chunk', 'embed', 'write']);
  const [aNow] = await stack.sql('SELECT status FROM ingestion_runs WHERE run_id = $1', [first.json.run_id]);
  assert.equal(aNow.status, 'running', 'the second job started extracting while the first still ran');
  const runA = await stack.waitRun(first.json.run_id, { timeoutMs: 240000 });
  const runB = await stack.waitRun(second.json.run_id, { timeoutMs: 120000 });
  assert.equal(runA.status, 'succeeded', `${runA.status} ${runA.error}`);
  assert.equal(runB.status, 'succeeded', `${runB.status} ${runB.error}`);
  assert.equal(runA.stats.pages, 76);
  assert.equal(runB.stats.pages, 70);
  assert.equal(runA.stats.pdf_parts_allowed, Math.max(1, Math.min(2, cores)), JSON.stringify(runA.stats));
  assert.equal(runB.stats.pdf_parts_allowed, Math.max(1, Math.min(2, Math.floor(cores / 2))), JSON.stringify(runB.stats));
  // both read the whole text, in page order, however many parts
  const lastPage = await stack.sql(`SELECT count(*)::int AS n FROM chunks WHERE version_id = $1 AND text LIKE '%Page 70 of the lighthouse%'`,
    [runB.stats.version_id]);
  assert.ok(lastPage[0].n >= 1, 'the last page of the second PDF was read');
  const notPdf = await stack.ingest({ token: who.token, filename: 'parts.txt', content: 'plain text has no parts\n' });
  assert.equal(notPdf.run.status, 'succeeded');
  assert.equal(notPdf.run.stats.pdf_parts_allowed, undefined, 'only PDFs say their parts');
});

test('OCR=off: an image fails unsupported_type', async () => {
  await stack.killWorker(stack.workers[0], 'SIGTERM');
  await stack.startWorker({ OCR: 'off' });
  const png = render(['nothing to see'], 'png');
  const { run } = await stack.ingest({ token: who.token, filename: 'off.png', content: png });
  assert.equal(run.status, 'failed');
  assert.match(run.error, /^unsupported_type: image needs OCR, and OCR is off/);
});
