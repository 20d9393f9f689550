// Scanned-page fixtures (issue 16), shared by the OCR suites and the browser test:
// text rendered by pdftoppm into a PNG or into the grey pixels of an image-only
// PDF page, and a PDF mixing text pages with such image-only pages.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { makePdf } from './pdf-writer.mjs';

// Render a one-page text PDF of `lines` in `dir`: kind 'png' gives the PNG's bytes,
// anything else {w, h, data} (8-bit grey pixels) for mixedPdf().
export function renderText(dir, lines, kind) {
  const src = path.join(dir, `src-${kind}.pdf`);
  fs.writeFileSync(src, makePdf([lines], { fontSize: 16, leading: 22 }));
  const out = path.join(dir, `out-${kind}`);
  execFileSync('pdftoppm', ['-r', '150', '-gray', ...(kind === 'png' ? ['-png'] : []), '-singlefile', src, out]);
  if (kind === 'png') return fs.readFileSync(`${out}.png`);
  const pgm = fs.readFileSync(`${out}.pgm`);
  const m = pgm.toString('latin1', 0, 64).match(/^P5\s+(\d+)\s+(\d+)\s+255\s/);
  return { w: Number(m[1]), h: Number(m[2]), data: pgm.subarray(m[0].length) };
}

// A PDF whose pages are text (an array of lines) or an image ({w, h, data}).
export function mixedPdf(pages) {
  const objs = [null, '<< /Type /Catalog /Pages 2 0 R >>', null,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'];
  const kids = [];
  for (const p of pages) {
    const page = objs.length;
    kids.push(`${page} 0 R`);
    if (Array.isArray(p)) {
      const text = p.map((l) => `(${l}) Tj T*`).join('\n');
      const stream = `BT /F1 12 Tf 72 720 Td 16 TL\n${text}\nET`;
      objs.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${page + 1} 0 R >>`);
      objs.push(Buffer.concat([Buffer.from(`<< /Length ${stream.length} >>\nstream\n`), Buffer.from(stream), Buffer.from('\nendstream')]));
    } else {
      const z = deflateSync(p.data);
      const draw = `q 612 0 0 792 0 0 cm /Im1 Do Q`;
      objs.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 ${page + 2} 0 R >> >> /Contents ${page + 1} 0 R >>`);
      objs.push(Buffer.from(`<< /Length ${draw.length} >>\nstream\n${draw}\nendstream`));
      objs.push(Buffer.concat([Buffer.from(`<< /Type /XObject /Subtype /Image /Width ${p.w} /Height ${p.h} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length ${z.length} >>\nstream\n`), z, Buffer.from('\nendstream')]));
    }
  }
  objs[2] = `<< /Type /Pages /Kids [${kids.join(' ')}] /Count ${pages.length} >>`;
  const parts = [Buffer.from('%PDF-1.4\n')];
  const offsets = [];
  let off = parts[0].length;
  for (let i = 1; i < objs.length; i++) {
    const body = Buffer.isBuffer(objs[i]) ? objs[i] : Buffer.from(objs[i]);
    const b = Buffer.concat([Buffer.from(`${i} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    offsets[i] = off;
    off += b.length;
    parts.push(b);
  }
  let xref = `xref\n0 ${objs.length}\n0000000000 65535 f \n`;
  for (let i = 1; i < objs.length; i++) xref += `${String(offsets[i]).padStart(10, '0')} 00000 n \n`;
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objs.length} /Root 1 0 R >>\nstartxref\n${off}\n%%EOF\n`));
  return Buffer.concat(parts);
}
