// A minimal, valid PDF writer: one Helvetica text object per page, a correct xref
// table, nothing else. Used to make the test fixtures (tests/fixtures/make-fixtures.mjs)
// and the benchmark corpus (bench/worker_bench.mjs); pdftotext reads it page by page.
//
// pages: an array of pages, each an array of text lines (Latin-1).
// Options: font size, line leading and the first line's position, in points;
// outline: bookmarks, an array of { title, page (1-based), level (1 = top) } in
// document order (each nested under the last entry of a lower level before it);
// title: the document information dictionary's /Title.
export function makePdf(pages, { fontSize = 12, leading = 16, x = 72, y = 720, outline = null, title = null } = {}) {
  const objs = [];
  const n = pages.length;
  // 1 catalog, 2 pages, 3 font, then per page: page obj, content obj
  objs[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  const esc0 = (s) => s.replace(/[\\()]/g, (c) => '\\' + c);
  if (outline?.length) {
    objs[1] = `<< /Type /Catalog /Pages 2 0 R /Outlines ${4 + 2 * n} 0 R >>`;
    outlineObjs(objs, outline, 4 + 2 * n, (p) => 4 + 2 * (p - 1), esc0);
  }
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
  let info = '';
  if (title !== null) {
    offsets[objs.length] = Buffer.byteLength(body, 'latin1');
    body += `${objs.length} 0 obj\n<< /Title (${esc0(title)}) >>\nendobj\n`;
    info = ` /Info ${objs.length} 0 R`;
  }
  const size = objs.length + (title !== null ? 1 : 0);
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${size}\n0000000000 65535 f \n`;
  for (let i = 1; i < size; i++) body += `${String(offsets[i]).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${size} /Root 1 0 R${info} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

// The outline's objects from number root on: the /Outlines dictionary, then one item per entry.
function outlineObjs(objs, outline, root, pageObj, esc) {
  const nodes = outline.map((o, i) => ({ ...o, id: root + 1 + i, kids: [] }));
  const top = [];
  const stack = [];
  for (const nd of nodes) {
    while (stack.length && stack[stack.length - 1].level >= nd.level) stack.pop();
    const parent = stack[stack.length - 1];
    (parent ? parent.kids : top).push(nd);
    nd.parent = parent ? parent.id : root;
    stack.push(nd);
  }
  const link = (list) => list.forEach((nd, i) => {
    nd.prev = list[i - 1]?.id;
    nd.next = list[i + 1]?.id;
    link(nd.kids);
  });
  link(top);
  const ref = (k, id) => (id ? ` /${k} ${id} 0 R` : '');
  for (const nd of nodes) {
    const kids = nd.kids.length ? `${ref('First', nd.kids[0].id)}${ref('Last', nd.kids.at(-1).id)} /Count ${nd.kids.length}` : '';
    objs[nd.id] = `<< /Title (${esc(nd.title)}) /Parent ${nd.parent} 0 R${ref('Prev', nd.prev)}${ref('Next', nd.next)}${kids} /Dest [${pageObj(nd.page)} 0 R /Fit] >>`;
  }
  objs[root] = `<< /Type /Outlines${ref('First', top[0].id)}${ref('Last', top.at(-1).id)} /Count ${top.length} >>`;
}
