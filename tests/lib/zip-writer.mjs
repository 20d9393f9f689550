// A tiny zip writer for test fixtures (DOCX, XLSX, PPTX, OpenDocument, EPUB):
// deflated (level 9) or stored entries, true CRCs, no data descriptors, no zip64.
//   makeZip([{ name, data, store?, claimSize? }]) -> Buffer
// Entries are written in the order given (OpenDocument and EPUB need their
// "mimetype" entry first and stored). claimSize overrides the uncompressed
// size the headers declare, to make a lying-header zip bomb.
import { deflateRawSync, crc32 } from 'node:zlib';

// The fields local and central headers share, from `at` on: version needed,
// flags, method, time, date (1980-01-01), crc, sizes, name length.
function common(h, at, { method, crc, comp, size, nameLen }) {
  h.writeUInt16LE(20, at);
  h.writeUInt16LE(0, at + 2);
  h.writeUInt16LE(method, at + 4);
  h.writeUInt16LE(0, at + 6);
  h.writeUInt16LE(0x21, at + 8);
  h.writeUInt32LE(crc, at + 10);
  h.writeUInt32LE(comp, at + 14);
  h.writeUInt32LE(size, at + 18);
  h.writeUInt16LE(nameLen, at + 22);
}

export function makeZip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data, 'utf8');
    const body = e.store ? data : deflateRawSync(data, { level: 9 });
    const f = { method: e.store ? 0 : 8, crc: crc32(data), comp: body.length, size: e.claimSize ?? data.length, nameLen: name.length };
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    common(lh, 4, f);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    common(ch, 6, f);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, body);
    centrals.push(ch, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
