// A minimal, valid PDF writer: one Helvetica text object per page, a correct xref
// table, nothing else. Used to make the test fixtures (tests/fixtures/make-fixtures.mjs)
// and the benchmark corpus (bench/worker_bench.mjs); pdftotext reads it page by page.
//
// pages: an array of pages, each an array of text lines (Latin-1).
// Options: font size, line leading and the first line's position, in points.
export function makePdf(pages, { fontSize = 12, leading = 16, x = 72, y = 720 } = {}) {
  const objs = [];
  const n = pages.length;
  // 1 catalog, 2 pages, 3 font, then per page: page obj, content obj
  objs[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  const kids = pages.map((_, i) => `${4 + 2 * i} 0 R`).join(' ');
  objs[2] = `<< /Type /Pages /Kids [${kids}] /Count ${n} >>`;
  objs[3] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>';
  const esc = (s) => s.replace(/[\\()]/g, (c) => '\\' + c);
  pages.forEach((lines, i) => {
    let stream = `BT /F1 ${fontSize} Tf ${x} ${y} Td ${leading} TL\n`;
    for (const l of lines) stream += `(${esc(l)}) Tj T*\n`;
    stream += 'ET\n';
    objs[4 + 2 * i] = `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + 2 * i} 0 R >>`;
    objs[5 + 2 * i] = `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}endstream`;
  });
  let body = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets = [];
  for (let i = 1; i < objs.length; i++) {
    offsets[i] = Buffer.byteLength(body, 'latin1');
    body += `${i} 0 obj\n${objs[i]}\nendobj\n`;
  }
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objs.length}\n0000000000 65535 f \n`;
  for (let i = 1; i < objs.length; i++) body += `${String(offsets[i]).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objs.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}
