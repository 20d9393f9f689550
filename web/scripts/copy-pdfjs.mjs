// Copies pdf.js (npm pdfjs-dist, pinned in package.json) into public/pdfjs/, so the
// static export serves it from the same origin: the citation viewer loads
// /pdfjs/pdf.min.mjs as a module script and its worker /pdfjs/pdf.worker.min.mjs
// (CSP script-src/worker-src 'self'; nothing from a CDN). Run before next build.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const from = path.join(here, '..', 'node_modules', 'pdfjs-dist', 'build');
const to = path.join(here, '..', 'public', 'pdfjs');
fs.mkdirSync(to, { recursive: true });
for (const f of ['pdf.min.mjs', 'pdf.worker.min.mjs']) fs.copyFileSync(path.join(from, f), path.join(to, f));
console.log(`pdf.js copied to ${path.relative(process.cwd(), to)}`);
