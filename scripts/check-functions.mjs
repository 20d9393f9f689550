#!/usr/bin/env node
// check-functions.mjs - size rules for every C function under the given folders
// (default: src/): at most MAX_LINES lines from the signature to the closing
// brace, and at most MAX_EXITS exits (return and goto statements, plus the fall-off
// end of a function whose last statement is not a return).
//
//   node scripts/check-functions.mjs [--list] [DIR...]
//
// --list prints every function, longest first, instead of only the ones that
// break a rule. Exits 1 when a rule is broken. The scanner is lexical: comments,
// strings and character literals are blanked, then a top-level "{" that follows
// a ")" opens a function body (struct, enum and array initialisers do not).
import fs from 'node:fs';
import path from 'node:path';

const MAX_LINES = 99;
const MAX_EXITS = 8;

function walk(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.c')) out.push(p);
  }
  return out;
}

// Replace comments, string and char literals by spaces, keeping newlines.
export function blank(src) {
  let out = '';
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    const d = src[i + 1];
    if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '/' && d === '/') {
      let stop = src.indexOf('\n', i);
      if (stop < 0) stop = n;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c) {
        if (src[j] === '\\') j++;
        j++;
      }
      out += c + src.slice(i + 1, j).replace(/[^\n]/g, ' ') + c;
      i = j + 1;
    } else if (c === '#' && /(^|\n)[ \t]*$/.test(src.slice(Math.max(0, i - 80), i))) {
      // Preprocessor line (with continuations): blank it.
      let j = i;
      while (j < n && src[j] !== '\n') {
        if (src[j] === '\\' && src[j + 1] === '\n') j++;
        j++;
      }
      out += src.slice(i, j).replace(/[^\n]/g, ' ');
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

export function functions(file) {
  const text = blank(fs.readFileSync(file, 'utf8'));
  const found = [];
  let depth = 0;
  let cur = null;
  let lastSig = '';
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (c === '{') {
      if (depth === 0) {
        const before = text.slice(Math.max(0, i - 400), i).trimEnd();
        if (before.endsWith(')') && !/=\s*$/.test(before)) {
          const m = lastSig.match(/([A-Za-z_]\w*)\s*\([^()]*(\([^()]*\)[^()]*)*\)\s*$/s);
          const sigStart = text.lastIndexOf('\n', text.lastIndexOf(m ? m[1] : ')', i)) + 1;
          const startLine = text.slice(0, sigStart).split('\n').length;
          cur = { file, name: m ? m[1] : '?', start: startLine, bodyStart: i };
        }
      }
      depth++;
      lastSig = '';
    } else if (c === '}') {
      depth--;
      if (depth === 0 && cur) {
        const body = text.slice(cur.bodyStart + 1, i);
        let exits = (body.match(/\b(return|goto)\b/g) || []).length;
        const tail = body.replace(/\s+$/, '');
        const last = tail.slice(tail.lastIndexOf(';', tail.length - 2) + 1);
        if (!/\breturn\b/.test(last) || tail.endsWith('}')) exits++;
        found.push({ ...cur, end: line, lines: line - cur.start + 1, exits });
        cur = null;
      }
      lastSig = '';
    } else if (depth === 0) {
      if (c === ';') lastSig = '';
      else lastSig += c;
    }
  }
  return found;
}

function main() {
  const args = process.argv.slice(2);
  const list = args.includes('--list');
  const dirs = args.filter((a) => !a.startsWith('--'));
  const files = (dirs.length ? dirs : ['src']).flatMap((d) => walk(d, []));
  const all = files.flatMap(functions).sort((a, b) => b.lines - a.lines || b.exits - a.exits);
  const bad = all.filter((f) => f.lines > MAX_LINES || f.exits > MAX_EXITS);
  for (const f of list ? all : bad)
    console.log(`${f.file}:${f.start} ${f.name}: ${f.lines} lines, ${f.exits} exits`);
  if (bad.length) {
    console.error(`check-functions: ${bad.length} function(s) over ${MAX_LINES} lines or ${MAX_EXITS} exits`);
    process.exit(1);
  }
  console.log(`check-functions: ${all.length} functions, none over ${MAX_LINES} lines or ${MAX_EXITS} exits`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
