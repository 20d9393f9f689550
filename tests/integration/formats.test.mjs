// Issue 16: the office, e-book, table, rich-text and mail formats, end to end
// through the exec'd extraction helper. Every fixture is made here
// (tests/lib/office-fixtures.mjs, a zip writer in tests/lib/zip-writer.mjs):
//   - PPTX, XLSX, ODT, ODS, ODP, EPUB, RTF, CSV, EML: a phrase found by search,
//     cited on the right slide / sheet / chapter / page, the title from the
//     file's metadata when the upload named none
//   - a DOCX whose phrases are only in a header, a footnote and a table cell
//   - hostile files: a PPTX zip bomb, an XLSX whose header lies about its size,
//     an XLSX with a million empty cells, an EPUB with an external entity, an
//     EML with a 50 MB base64 part: each fails at once (attempt 1) with a stable
//     code and detail, the worker stays up and its RSS stays near its baseline
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startStack } from '../lib/stack.mjs';
import { makeZip } from '../lib/zip-writer.mjs';
import {
  makeXlsx, makePptx, makeDocx, makeOdf, odfPara, odfSheet, odfSlide, makeEpub, xhtml,
} from '../lib/office-fixtures.mjs';

let stack;
let who;

// Pages long enough (about 2.5 KB each side of the phrase) that the phrase's
// chunk (CHUNK_SIZE 1200) cannot reach into a neighbouring page.
const fill = (tag, n = 40) => Array.from({ length: n }, (_, i) => `Line ${i} of ordinary filler text about ${tag} here.`);
const page = (tag, phrase) => [...fill(tag), phrase, ...fill(`${tag} again`)];

async function ingest(filename, content, opts = {}) {
  const { run } = await stack.ingest({ token: who.token, filename, content, ...opts }, { timeoutMs: 60000 });
  return run;
}

// The chunk that holds phrase in this run's version: its pages, and the
// search hit (with the document's title) that cites it.
async function cited(run, phrase) {
  assert.equal(run.status, 'succeeded', `${run.status} ${run.error}`);
  const r = await stack.api('POST', '/v1/search', { token: who.token, body: { query: phrase, top_k: 20 } });
  assert.equal(r.status, 200, r.text);
  const rows = await stack.sql('SELECT chunk_id, page_start, page_end, text FROM chunks WHERE version_id = $1',
    [run.stats.version_id]);
  const holding = rows.filter((c) => c.text.includes(phrase));
  assert.ok(holding.length >= 1, `no chunk holds "${phrase}": ${JSON.stringify(rows.map((c) => c.text.slice(0, 80)))}`);
  const hit = r.json.results.find((h) => holding.some((c) => c.chunk_id === h.chunk_id));
  assert.ok(hit, `search for "${phrase}" did not cite its chunk: ${JSON.stringify(r.json.results.slice(0, 3))}`);
  return hit;
}

async function expectPage(run, phrase, pageNo) {
  const hit = await cited(run, phrase);
  assert.equal(hit.page_start, pageNo, `"${phrase}" ${JSON.stringify(hit)}`);
  assert.equal(hit.page_end, pageNo, `"${phrase}" ${JSON.stringify(hit)}`);
  return hit;
}

before(async () => {
  stack = await startStack({ worker: true });
  who = await stack.tenant('formats');
});

after(async () => {
  await stack?.stop();
});

test('XLSX: sheets are pages, rows are lines of cells, shared strings resolved, title from core.xml', async () => {
  const rows = (tag) => fill(tag, 30).map((l, i) => [`r${i}`, l, i]);
  const xlsx = makeXlsx([
    { name: 'Budget', rows: [['Item', 'Note', 'Cost'], ...rows('budget')] },
    { name: 'Staff', rows: [['Name', 'Role'], ...rows('staff'), ['Ada', 'quartermaster of the zinc aviary'], ...rows('more staff')] },
  ], { title: 'Quarterly ledger', author: 'Ann Clerk' });
  const run = await ingest('ledger.xlsx', xlsx);
  const hit = await expectPage(run, 'quartermaster of the zinc aviary', 2);
  assert.equal(run.stats.pages, 2);
  assert.equal(hit.title, 'Quarterly ledger');
  const [c] = await stack.sql('SELECT text FROM chunks WHERE chunk_id = $1', [hit.chunk_id]);
  assert.match(c.text, /Ada \| quartermaster of the zinc aviary/);
  const [v] = await stack.sql('SELECT meta_title, meta_author FROM document_versions WHERE version_id = $1',
    [run.stats.version_id]);
  assert.deepEqual(v, { meta_title: 'Quarterly ledger', meta_author: 'Ann Clerk' });
});

test('PPTX: slides are pages in presentation order, notes follow their slide', async () => {
  const pptx = makePptx([
    { text: page('intro slide', 'Opening remarks') },
    { text: fill('second slide'), notes: page('speaker', 'remember the copper lighthouse lantern') },
    { text: page('third slide', 'the velvet semaphore protocol') },
  ], { title: 'Harbour deck' });
  const run = await ingest('deck.pptx', pptx);
  assert.equal(run.stats.pages, 3);
  await expectPage(run, 'remember the copper lighthouse lantern', 2);
  const hit = await expectPage(run, 'the velvet semaphore protocol', 3);
  assert.equal(hit.title, 'Harbour deck');
});

test('ODT, ODS, ODP: paragraphs, sheets and slides, titles from meta.xml', async () => {
  const odt = makeOdf('odt', `<text:h text:outline-level="1">Field notes</text:h>${page('odt', 'the marmalade cartographer').map(odfPara).join('')}` +
    '<text:list><text:list-item><text:p>first item</text:p></text:list-item></text:list>', { title: 'Field notes', author: 'Bo' });
  const r1 = await ingest('notes.odt', odt);
  const h1 = await expectPage(r1, 'the marmalade cartographer', 1);
  assert.equal(h1.title, 'Field notes');

  const ods = makeOdf('ods', odfSheet('One', fill('ods one').map((l) => [l, 'x'])) +
    odfSheet('Two', page('ods two', 'obsidian tram timetable').map((l) => [l, 'y'])));
  const r2 = await ingest('tables.ods', ods);
  assert.equal(r2.stats.pages, 2);
  await expectPage(r2, 'obsidian tram timetable', 2);

  const odp = makeOdf('odp', odfSlide('s1', page('odp one', 'first slide words')) + odfSlide('s2', page('odp two', 'the saffron glacier survey')));
  const r3 = await ingest('talk.odp', odp);
  assert.equal(r3.stats.pages, 2);
  await expectPage(r3, 'the saffron glacier survey', 2);
});

test('EPUB: chapters in spine order are pages, title from the OPF', async () => {
  const chapters = [1, 2, 3].map((n) => ({ id: `ch${n}`, xhtml: xhtml(`Chapter ${n}`, page(`chapter ${n}`, n === 3 ? 'the pewter albatross returned' : `chapter ${n} text`)) }));
  const run = await ingest('book.epub', makeEpub(chapters, { title: 'Sea Stories', author: 'A. Writer' }));
  assert.equal(run.stats.pages, 3);
  const hit = await expectPage(run, 'the pewter albatross returned', 3);
  assert.equal(hit.title, 'Sea Stories');
});

test('RTF: text through groups, escapes and \\u, fonts/colours/pictures dropped, title from \\info', async () => {
  const rtf = '{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Helvetica;}}{\\colortbl;\\red255\\green0\\blue0;}' +
    '{\\info{\\title Memo on ice}{\\author Ann}}{\\*\\generator Riched20;}\\f0 ' +
    `${fill('rtf').join('\\par\n')}\\par\nCaf\\'e9 na\\u239?ve: the tangerine icebreaker schedule\\par\n{\\pict\\wmetafile8 0102}` +
    '\\trowd\\cellx1000\\cellx2000 A1\\cell B1\\cell\\row\n}';
  const run = await ingest('memo.rtf', Buffer.from(rtf, 'latin1'));
  const hit = await expectPage(run, 'the tangerine icebreaker schedule', 1);
  assert.equal(hit.title, 'Memo on ice');
  const rows = await stack.sql('SELECT string_agg(text, \' \') AS t FROM chunks WHERE version_id = $1', [run.stats.version_id]);
  assert.match(rows[0].t, /Café naïve/);
  assert.match(rows[0].t, /A1 \| B1/);
  assert.doesNotMatch(rows[0].t, /Helvetica|Riched20|0102/);
});

test('CSV: rows as lines, pages of 50 rows, the header repeated on each page', async () => {
  const lines = ['id,name,remark'];
  for (let i = 1; i <= 120; i++) {
    const remark = i === 75 ? 'the cobalt weathervane ledger' : `"ordinary remark number ${i}, with a comma and more words to fill"`;
    lines.push(`${i},person ${i},${remark}`);
  }
  const run = await ingest('people.csv', `${lines.join('\n')}\n`);
  assert.equal(run.stats.pages, 3);
  const hit = await expectPage(run, 'the cobalt weathervane ledger', 2);
  const [c] = await stack.sql('SELECT text FROM chunks WHERE chunk_id = $1', [hit.chunk_id]);
  assert.match(c.text, /75 \| person 75 \| the cobalt weathervane ledger/);
  // page 2 opens with the header again
  const again = await stack.sql("SELECT count(*)::int AS n FROM chunks WHERE version_id = $1 AND text ~ $2",
    [run.stats.version_id, 'id \\| name \\| remark\n51 \\| person 51']);
  assert.equal(again[0].n >= 1, true);
});

test('EML: headers first, quoted-printable text/plain, Subject as title; an HTML-only mail', async () => {
  const eml = ['From: Ann Example <ann@example.org>', 'To: team@example.org',
    'Subject: =?UTF-8?Q?Caf=C3=A9_rota?=', 'Date: Mon, 1 Jan 2024 10:00:00 +0000', 'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="BB"', '', '--BB', 'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable', '', 'Please bring the caf=C3=A9 key: the juniper =', 'pantry roster.',
    '--BB', 'Content-Type: text/html; charset=utf-8', '', '<p>html twin only</p>', '--BB--', ''].join('\r\n');
  const run = await ingest('rota.eml', eml);
  const hit = await cited(run, 'the juniper pantry roster');
  assert.equal(hit.title, 'Café rota');
  const rows = await stack.sql('SELECT string_agg(text, \' \') AS t FROM chunks WHERE version_id = $1', [run.stats.version_id]);
  assert.match(rows[0].t, /^From: Ann Example <ann@example.org>\nTo: team@example.org\nSubject: Café rota/);
  assert.doesNotMatch(rows[0].t, /html twin only/, 'text/plain preferred over its html alternative');

  const html = ['From: b@example.org', 'Subject: html only', 'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64', '', Buffer.from('<html><body><p>the walnut <b>periscope</b> inventory</p><script>x()</script></body></html>').toString('base64'), ''].join('\n');
  const r2 = await ingest('html.eml', html);
  await cited(r2, 'the walnut periscope inventory');
});

test('DOCX: phrases only in a header, a footnote and a table cell are found; tables are rows of cells', async () => {
  const docx = makeDocx({
    body: fill('docx body', 10),
    table: [['Region', 'Lead'], ['North', 'the magenta quarry surveyor']],
    header: ['the brass almanac header'],
    footnote: ['the lilac footnote about tides'],
    comment: ['a reviewer comment'],
  });
  const run = await ingest('report.docx', docx);
  for (const phrase of ['the magenta quarry surveyor', 'the brass almanac header', 'the lilac footnote about tides']) {
    await cited(run, phrase);
  }
  const rows = await stack.sql('SELECT string_agg(text, \' \') AS t FROM chunks WHERE version_id = $1', [run.stats.version_id]);
  assert.match(rows[0].t, /Region \| Lead\nNorth \| the magenta quarry surveyor/);
});

// Issue 16: word-processing files cite the page their explicit page breaks put a
// phrase on (the only pages such a file has without laying it out).
test('DOCX, ODT, RTF: explicit page breaks make pages, so citations carry a page', async () => {
  const docx = makeDocx({
    body: [...fill('docx one'),
      '<w:p><w:r><w:br w:type="page"/></w:r></w:p>',
      // Word also marks where its last layout started the page: counted once with the break
      '<w:p><w:r><w:lastRenderedPageBreak/><w:t>Top of page two.</w:t></w:r></w:p>',
      ...fill('docx two'), 'the indigo lantern clause',
      // a footnote is read after the paragraph that references it, so it is cited on its page
      '<w:p><w:r><w:t>See the note.</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r></w:p>',
      ...fill('docx two again'),
      '<w:p><w:pPr><w:pageBreakBefore/></w:pPr><w:r><w:t>Top of page three.</w:t><w:br/><w:t>same page</w:t></w:r></w:p>',
      ...page('docx three', 'the ochre tollgate appendix')],
    footnote: ['the violet footnote about ferries'],
  });
  const r1 = await ingest('paged.docx', docx);
  assert.equal(r1.stats.pages, 3, JSON.stringify(r1.stats));
  await expectPage(r1, 'the indigo lantern clause', 2);
  await expectPage(r1, 'the ochre tollgate appendix', 3);
  await expectPage(r1, 'the violet footnote about ferries', 2);

  const styles = '<style:style style:name="PB" style:family="paragraph"><style:paragraph-properties fo:break-before="page"/></style:style>' +
    '<style:style style:name="PA" style:family="paragraph"><style:paragraph-properties fo:break-after="page"/></style:style>';
  const odt = makeOdf('odt', [...fill('odt one').map(odfPara), '<text:soft-page-break/>',
    ...page('odt two', 'the russet ferry manifest').map(odfPara), '<text:p text:style-name="PA">Last line of page two.</text:p>',
    ...page('odt three', 'the cerulean kiln register').map(odfPara), '<text:p text:style-name="PB">Top of page four.</text:p>',
    ...page('odt four', 'the umber bell foundry').map(odfPara)].join(''), { styles });
  const r2 = await ingest('paged.odt', odt);
  assert.equal(r2.stats.pages, 4, JSON.stringify(r2.stats));
  await expectPage(r2, 'the russet ferry manifest', 2);
  await expectPage(r2, 'the cerulean kiln register', 3);
  await expectPage(r2, 'the umber bell foundry', 4);

  const rtf = `{\\rtf1\\ansi ${fill('rtf one').join('\\par\n')}\\par\\page\n${page('rtf two', 'the saffron quay ledger').join('\\par\n')}` +
    `\\par\\page\n${page('rtf three', 'the garnet mill inventory').join('\\par\n')}\\par}`;
  const r3 = await ingest('paged.rtf', Buffer.from(rtf, 'latin1'));
  assert.equal(r3.stats.pages, 3, JSON.stringify(r3.stats));
  await expectPage(r3, 'the saffron quay ledger', 2);
  await expectPage(r3, 'the garnet mill inventory', 3);
});

function rssKb(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]);
}

test('hostile files fail at once with a stable code; the worker stays up, its RSS near its baseline', async () => {
  const worker = stack.workers[0];
  const baseline = rssKb(worker.child.pid);
  const ct = '[Content_Types].xml';
  const cases = [
    {
      what: 'PPTX zip bomb (a slide declaring 600 MB)', filename: 'bomb.pptx',
      content: makeZip([{ name: ct, data: '<Types/>' }, { name: 'ppt/presentation.xml', data: '<p/>' },
        { name: 'ppt/slides/slide1.xml', data: Buffer.alloc(1 << 20), claimSize: 600 << 20 }]),
      error: /^too_large: pptx uncompressed size over limit$/,
    },
    {
      what: 'XLSX whose headers lie (claims 1000 bytes, inflates to 64 MB)', filename: 'lying.xlsx',
      content: lyingXlsx(),
      error: /^too_large: xlsx uncompressed size over limit$/,
    },
    {
      what: 'XLSX with a million empty cells', filename: 'cells.xlsx',
      content: makeXlsx([{ name: 'S', rows: [] }], {
        sheetXml: `<worksheet><sheetData>${`<row>${'<c/>'.repeat(1000)}</row>`.repeat(1100)}</sheetData></worksheet>`,
      }),
      error: /^too_large: xlsx over 1000000 cells$/,
    },
    {
      what: 'EPUB with an external entity', filename: 'xxe.epub',
      content: makeEpub([{ id: 'c1', xhtml: '<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<html><body><p>&xxe;</p></body></html>' }]),
      error: /^unsupported_type: epub: OEBPS\/text\/c1.xhtml declares XML entities$/,
    },
    {
      what: 'EML with a 50 MB base64 part', filename: 'big.eml',
      content: bigEml(),
      error: /^too_large: eml part of \d+ bytes over the 16777216 byte limit$/,
    },
  ];
  for (const c of cases) {
    const t0 = Date.now();
    const run = await ingest(c.filename, c.content);
    assert.equal(run.status, 'failed', `${c.what}: ${run.status}`);
    assert.match(run.error, c.error, c.what);
    assert.equal(run.attempt, 1, `${c.what}: not retried`);
    assert.ok(Date.now() - t0 < 30000, `${c.what}: failed at once`);
    assert.ok(worker.alive, `${c.what}: the worker is up`);
  }
  const after = rssKb(worker.child.pid);
  assert.ok(after - baseline < 64 * 1024, `worker RSS ${baseline} kB -> ${after} kB`);
  // and it still works
  const ok = await ingest('after.csv', 'a,b\nthe resilient otter,2\n');
  await cited(ok, 'the resilient otter');
});

// A valid XLSX but for its one sheet, whose headers claim 1000 bytes and whose data inflates to 64 MB.
function lyingXlsx() {
  const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
  return makeZip([
    { name: '[Content_Types].xml', data: '<Types/>' },
    { name: 'xl/workbook.xml', data: `<workbook xmlns:r="${REL}"><sheets><sheet name="S" r:id="rId1"/></sheets></workbook>` },
    { name: 'xl/_rels/workbook.xml.rels', data: '<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>' },
    { name: 'xl/worksheets/sheet1.xml', data: Buffer.alloc(64 << 20, 0x20), claimSize: 1000 },
  ]);
}

// A mail with a short text part and a 50 MB base64 attachment.
function bigEml() {
  const b64 = Buffer.alloc(37_500_000, 0x41).toString('base64');
  const lines = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return Buffer.concat([Buffer.from(['From: a@example.org', 'Subject: big', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="ZZ"', '', '--ZZ', 'Content-Type: text/plain', '', 'hello', '--ZZ',
    'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '', ''].join('\r\n')),
  Buffer.from(lines.join('\r\n')), Buffer.from('\r\n--ZZ--\r\n')]);
}
