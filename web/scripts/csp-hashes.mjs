#!/usr/bin/env node
// csp-hashes.mjs - after `next build`: the CSP sources of every inline <script> of the
// static export, so core-api can send `script-src 'self' 'sha256-…'` instead of
// 'unsafe-inline' (src/api/http/csp.c reads the manifest).
//
//   node scripts/csp-hashes.mjs [OUT_DIR]        (default: out, next to this folder's parent)
//
// Writes OUT_DIR/csp.json:
//   {"version": 1, "pages": {"index.html": ["'sha256-…'", …], "login/index.html": […], …}}
// keyed by each HTML file's path relative to OUT_DIR. A script's hash is over its text
// exactly as the browser sees it: the bytes between <script …> and </script>, with the
// line breaks normalized the way HTML's input stream does (CRLF and CR become LF).
// Scripts with a src attribute are not inline and need no hash ('self' covers them).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Every *.html file under dir, as paths relative to root with '/' separators, sorted. */
function htmlFiles(root, dir = root, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) htmlFiles(root, p, out);
    else if (e.isFile() && e.name.endsWith('.html')) out.push(path.relative(root, p).split(path.sep).join('/'));
  }
  return out.sort();
}

/** The CSP hash sources of the inline scripts of one HTML text, in order, without repeats. */
export function inlineScriptHashes(html) {
  const text = html.replace(/\r\n?/g, '\n');
  const re = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
  const seen = new Set();
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (/(^|\s)src\s*=/i.test(m[1])) continue;
    const digest = crypto.createHash('sha256').update(m[2], 'utf8').digest('base64');
    seen.add(`'sha256-${digest}'`);
  }
  return [...seen];
}

export function buildManifest(outDir) {
  const pages = {};
  for (const rel of htmlFiles(outDir)) {
    pages[rel] = inlineScriptHashes(fs.readFileSync(path.join(outDir, rel), 'utf8'));
  }
  return { version: 1, pages };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = path.resolve(process.argv[2] ?? path.join(HERE, '..', 'out'));
  if (!fs.existsSync(path.join(outDir, 'index.html'))) {
    console.error(`csp-hashes: ${outDir}/index.html is missing (run next build first)`);
    process.exit(1);
  }
  const manifest = buildManifest(outDir);
  const tmp = path.join(outDir, `.csp.json.${process.pid}`);
  fs.writeFileSync(tmp, `${JSON.stringify(manifest, null, 1)}\n`);
  fs.renameSync(tmp, path.join(outDir, 'csp.json'));
  const n = Object.values(manifest.pages).reduce((a, l) => a + l.length, 0);
  console.log(`csp-hashes: ${Object.keys(manifest.pages).length} pages, ${n} inline script hashes -> ${path.join(outDir, 'csp.json')}`);
}
