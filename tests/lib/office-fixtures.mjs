// Small, valid office files built in the test (tests/lib/zip-writer.mjs): the
// parts each format needs and nothing more, so the extractors are exercised on
// real container structure without shipping binaries.
import { makeZip } from './zip-writer.mjs';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG = 'http://schemas.openxmlformats.org/package/2006/relationships';

function coreProps(title, author) {
  return `${XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>${esc(title)}</dc:title><dc:creator>${esc(author)}</dc:creator></cp:coreProperties>`;
}

function rels(list) {
  return `${XML}<Relationships xmlns="${PKG}">${list.map(([id, type, target]) =>
    `<Relationship Id="${id}" Type="${REL}/${type}" Target="${target}"/>`).join('')}</Relationships>`;
}

// sheets: [{ name, rows: [[cell, ...], ...] }]; strings go to sharedStrings.xml,
// numbers inline. sheetXml replaces the first sheet's XML (hostile cases).
export function makeXlsx(sheets, { title = '', author = '', sheetXml } = {}) {
  const sst = [];
  const idx = (s) => { let i = sst.indexOf(s); if (i < 0) { i = sst.length; sst.push(s); } return i; };
  const sheetParts = sheets.map((sh, n) => ({
    name: `xl/worksheets/sheet${n + 1}.xml`,
    data: n === 0 && sheetXml ? sheetXml : `${XML}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${
      sh.rows.map((row, r) => `<row r="${r + 1}">${row.map((c) => typeof c === 'number'
        ? `<c><v>${c}</v></c>` : `<c t="s"><v>${idx(c)}</v></c>`).join('')}</row>`).join('')}</sheetData></worksheet>`,
  }));
  return makeZip([
    { name: '[Content_Types].xml', data: `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>` },
    { name: '_rels/.rels', data: rels([['rId1', 'officeDocument', 'xl/workbook.xml']]) },
    { name: 'docProps/core.xml', data: coreProps(title, author) },
    { name: 'xl/workbook.xml', data: `${XML}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${REL}"><sheets>${
      sheets.map((sh, n) => `<sheet name="${esc(sh.name)}" sheetId="${n + 1}" r:id="rId${n + 1}"/>`).join('')}</sheets></workbook>` },
    { name: 'xl/_rels/workbook.xml.rels', data: rels(sheets.map((_, n) => [`rId${n + 1}`, 'worksheet', `worksheets/sheet${n + 1}.xml`])) },
    { name: 'xl/sharedStrings.xml', data: `${XML}<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${sst.map((s) => `<si><t>${esc(s)}</t></si>`).join('')}</sst>` },
    ...sheetParts,
  ]);
}

const A = 'http://schemas.openxmlformats.org/drawingml/2006/main';
const P = 'http://schemas.openxmlformats.org/presentationml/2006/main';
const shapes = (paras) => `<p:cSld><p:spTree><p:sp><p:txBody>${
  paras.map((t) => `<a:p><a:r><a:t>${esc(t)}</a:t></a:r></a:p>`).join('')}</p:txBody></p:sp></p:spTree></p:cSld>`;

// slides: [{ text: [para, ...], notes?: [para, ...] }], in presentation order.
// The slide files are numbered in reverse, so only presentation.xml gives the order.
export function makePptx(slides, { title = '', author = '' } = {}) {
  const n = slides.length;
  const parts = [];
  slides.forEach((s, i) => {
    const file = n - i;
    parts.push({ name: `ppt/slides/slide${file}.xml`, data: `${XML}<p:sld xmlns:a="${A}" xmlns:p="${P}">${shapes(s.text)}</p:sld>` });
    if (s.notes) {
      parts.push({ name: `ppt/slides/_rels/slide${file}.xml.rels`, data: rels([['rId2', 'notesSlide', `../notesSlides/notesSlide${file}.xml`]]) });
      parts.push({ name: `ppt/notesSlides/notesSlide${file}.xml`, data: `${XML}<p:notes xmlns:a="${A}" xmlns:p="${P}">${shapes(s.notes)}</p:notes>` });
    }
  });
  return makeZip([
    { name: '[Content_Types].xml', data: `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>` },
    { name: '_rels/.rels', data: rels([['rId1', 'officeDocument', 'ppt/presentation.xml']]) },
    { name: 'docProps/core.xml', data: coreProps(title, author) },
    { name: 'ppt/presentation.xml', data: `${XML}<p:presentation xmlns:p="${P}" xmlns:r="${REL}"><p:sldIdLst>${
      slides.map((_, i) => `<p:sldId id="${256 + i}" r:id="rId${i + 10}"/>`).join('')}</p:sldIdLst></p:presentation>` },
    { name: 'ppt/_rels/presentation.xml.rels', data: rels(slides.map((_, i) => [`rId${i + 10}`, 'slide', `slides/slide${n - i}.xml`])) },
    ...parts,
  ]);
}

const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
const wp = (t) => `<w:p><w:r><w:t>${esc(t)}</w:t></w:r></w:p>`;

// A DOCX: body paragraphs, a table (rows of cells), a header, a footer and a footnote.
// A body entry that starts with '<' is raw WordprocessingML (a page break, a styled paragraph).
export function makeDocx({ body = [], table = [], header = [], footer = [], footnote = [], comment = [], title = '' }) {
  const tbl = table.length ? `<w:tbl>${table.map((row) => `<w:tr>${row.map((c) => `<w:tc>${wp(c)}</w:tc>`).join('')}</w:tr>`).join('')}</w:tbl>` : '';
  const parts = [
    { name: '[Content_Types].xml', data: `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>` },
    { name: '_rels/.rels', data: rels([['rId1', 'officeDocument', 'word/document.xml']]) },
    { name: 'word/document.xml', data: `${XML}<w:document xmlns:w="${W}"><w:body>${body.map((b) => (b.startsWith('<') ? b : wp(b))).join('')}${tbl}</w:body></w:document>` },
  ];
  if (title) parts.push({ name: 'docProps/core.xml', data: coreProps(title, '') });
  if (header.length) parts.push({ name: 'word/header1.xml', data: `${XML}<w:hdr xmlns:w="${W}">${header.map(wp).join('')}</w:hdr>` });
  if (footer.length) parts.push({ name: 'word/footer1.xml', data: `${XML}<w:ftr xmlns:w="${W}">${footer.map(wp).join('')}</w:ftr>` });
  if (footnote.length) parts.push({ name: 'word/footnotes.xml', data: `${XML}<w:footnotes xmlns:w="${W}"><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote><w:footnote w:id="1">${footnote.map(wp).join('')}</w:footnote></w:footnotes>` });
  if (comment.length) parts.push({ name: 'word/comments.xml', data: `${XML}<w:comments xmlns:w="${W}"><w:comment w:id="0">${comment.map(wp).join('')}</w:comment></w:comments>` });
  return makeZip(parts);
}

const ODF_NS = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"';
const ODF_TYPES = { odt: 'text', ods: 'spreadsheet', odp: 'presentation' };

// kind 'odt' | 'ods' | 'odp'; body: the XML inside office:body/office:<kind>;
// styles: the XML inside office:automatic-styles (before the body).
export function makeOdf(kind, bodyXml, { title = '', author = '', styles = '' } = {}) {
  const t = ODF_TYPES[kind];
  return makeZip([
    { name: 'mimetype', data: `application/vnd.oasis.opendocument.${t}`, store: true },
    { name: 'content.xml', data: `${XML}<office:document-content ${ODF_NS}>${styles ? `<office:automatic-styles>${styles}</office:automatic-styles>` : ''}<office:body><office:${t}>${bodyXml}</office:${t}></office:body></office:document-content>` },
    { name: 'meta.xml', data: `${XML}<office:document-meta ${ODF_NS}><office:meta><dc:title>${esc(title)}</dc:title><meta:initial-creator>${esc(author)}</meta:initial-creator></office:meta></office:document-meta>` },
    { name: 'META-INF/manifest.xml', data: `${XML}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>` },
  ]);
}
export const odfPara = (t) => `<text:p>${esc(t)}</text:p>`;
export const odfSheet = (name, rows) => `<table:table table:name="${esc(name)}">${rows.map((r) => `<table:table-row>${r.map((c) => `<table:table-cell><text:p>${esc(c)}</text:p></table:table-cell>`).join('')}</table:table-row>`).join('')}</table:table>`;
export const odfSlide = (name, paras) => `<draw:page draw:name="${esc(name)}"><draw:frame><draw:text-box>${paras.map(odfPara).join('')}</draw:text-box></draw:frame></draw:page>`;

// chapters: [{ id, xhtml }] in spine order (the manifest lists them reversed).
export function makeEpub(chapters, { title = '', author = '' } = {}) {
  const items = chapters.map((c) => `<item id="${c.id}" href="text/${c.id}.xhtml" media-type="application/xhtml+xml"/>`).reverse().join('');
  const spine = chapters.map((c) => `<itemref idref="${c.id}"/>`).join('');
  return makeZip([
    { name: 'mimetype', data: 'application/epub+zip', store: true },
    { name: 'META-INF/container.xml', data: `${XML}<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>` },
    { name: 'OEBPS/content.opf', data: `${XML}<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>${esc(title)}</dc:title><dc:creator>${esc(author)}</dc:creator></metadata><manifest>${items}</manifest><spine>${spine}</spine></package>` },
    ...chapters.map((c) => ({ name: `OEBPS/text/${c.id}.xhtml`, data: c.xhtml })),
  ]);
}
export const xhtml = (title, paras) => `${XML}<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${paras.map((p) => `<p>${esc(p)}</p>`).join('')}</body></html>`;
