#!/usr/bin/env node
// check-functions.mjs - size rules for every C function under the given folders
// (default: src/): at most MAX_LINES lines from the line of the function's name
// to the closing brace, and at most MAX_EXITS exits (return and goto statements,
// plus the fall-off end of a function whose last statement is not a return).
//
//   node scripts/check-functions.mjs [--list] [DIR...]
//
// --list prints every function, longest first, instead of only the ones that
// break a rule. Exits 1 when a rule is broken. The scanner is lexical: comments,
// strings, character literals and preprocessor lines are blanked, then a
// top-level "{" opens a function body when the declaration before it ends in a
// parameter list (and attributes), with no "=": struct, union and enum bodies
// and initialisers, compound literals included, are not functions.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

// Replace comments, string and char literals and preprocessor lines by spaces,
// keeping newlines (so line numbers hold). A literal ends at its closing quote or
// at the end of the line; a directive goes on past a comment that spans lines
// (a comment is one space to the preprocessor) and past a backslash-newline.
export function blank(src) {
  const spaces = (s) => s.replace(/[^\n]/g, ' ');
  const n = src.length;
  let out = '';
  let i = 0;
  let directive = false;   // inside a preprocessor line
  let lineStart = true;    // nothing but blanks and comments since the newline
  while (i < n) {
    const c = src[i];
    const d = src[i + 1];
    let stop = i + 1;
    if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      stop = end < 0 ? n : end + 2;
      out += spaces(src.slice(i, stop));
    } else if (c === '/' && d === '/') {
      stop = src.indexOf('\n', i);
      if (stop < 0) stop = n;
      out += spaces(src.slice(i, stop));
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') {
        if (src[j] === '\\') j++;
        j++;
      }
      const closed = src[j] === c;
      stop = closed ? j + 1 : j;
      out += directive ? spaces(src.slice(i, stop)) : c + spaces(src.slice(i + 1, j)) + (closed ? c : '');
      lineStart = false;
    } else if (c === '\n') {
      out += c;
      directive = false;
      lineStart = true;
    } else if (directive && c === '\\' && d === '\n') {
      out += ' \n';
      stop = i + 2;
    } else if (c === '#' && lineStart) {
      out += ' ';
      directive = true;
      lineStart = false;
    } else {
      out += directive ? ' ' : c;
      if (c !== ' ' && c !== '\t') lineStart = false;
    }
    i = stop;
  }
  return out;
}

const NOT_NAMES = new Set(['__attribute__', '__attribute', '__declspec', '_Alignas', 'alignas',
  '_Static_assert', 'static_assert', 'sizeof', 'typeof', '__typeof__', 'if', 'for', 'while', 'switch']);

// Index of the "(" that the ")" at s[close] closes, or -1.
function openParen(s, close) {
  let depth = 0;
  for (let k = close; k >= 0; k--) {
    if (s[k] === ')') depth++;
    else if (s[k] === '(' && --depth === 0) return k;
  }
  return -1;
}

// The function a top-level "{" opens, given the declaration before it (the text
// since the last top-level ";" or "}"): { name, at } with at the name's offset in
// decl, or null when the brace opens something else: an initialiser
// ("= {", "= (struct pt){"), or a struct, union or enum body, trailing
// __attribute__((...)) included ("struct __attribute__((packed)) {").
export function declaredFunction(decl, offset = 0) {
  let s = decl.replace(/\s+$/, '');
  let flat = s;
  for (let prev = ''; prev !== flat;) {   // drop (...) and [...] groups, innermost first
    prev = flat;
    flat = flat.replace(/\([^()]*\)|\[[^[\]]*\]/g, ' ');
  }
  if (flat.includes('=')) return null;
  for (;;) {   // trailing attributes: void f(void) __attribute__((noreturn)) {
    if (!s.endsWith(')')) return null;
    const open = openParen(s, s.length - 1);
    if (open < 0) return null;
    const before = s.slice(0, open).replace(/\s+$/, '');
    const attr = before.match(/\b(__attribute__|__attribute)$/);
    if (attr) {
      s = before.slice(0, attr.index).replace(/\s+$/, '');
      continue;
    }
    if (before.endsWith(')')) {   // returns a function pointer: T (*name(params))(args)
      const inner = openParen(before, before.length - 1);
      return inner < 0 ? null : declaredFunction(before.slice(inner + 1, -1), offset + inner + 1);
    }
    const m = before.match(/[A-Za-z_]\w*$/);
    if (!m || NOT_NAMES.has(m[0])) return null;
    return { name: m[0], at: offset + m.index };
  }
}

export function functions(file) {
  const text = blank(fs.readFileSync(file, 'utf8'));
  const found = [];
  let depth = 0;
  let cur = null;
  let declStart = 0;   // where the top-level declaration being read began
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (c === '{') {
      if (depth === 0) {
        const fn = declaredFunction(text.slice(declStart, i));
        if (fn) {
          const startLine = line - (text.slice(declStart + fn.at, i).match(/\n/g) || []).length;
          cur = { file, name: fn.name, start: startLine, bodyStart: i };
        }
      }
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) {
        declStart = i + 1;
        if (cur) {
          const body = text.slice(cur.bodyStart + 1, i);
          let exits = (body.match(/\b(return|goto)\b/g) || []).length;
          const tail = body.replace(/\s+$/, '');
          const last = tail.slice(tail.lastIndexOf(';', tail.length - 2) + 1);
          if (!/\breturn\b/.test(last) || tail.endsWith('}')) exits++;
          found.push({ ...cur, end: line, lines: line - cur.start + 1, exits });
          cur = null;
        }
      }
    } else if (depth === 0 && c === ';') {
      declStart = i + 1;
    }
  }
  return found;
}

function main() {
  const args = process.argv.slice(2);
  const list = args.includes('--list');
  const dirs = args.filter((a) => !a.startsWith('--'));
  const files = (dirs.length ? dirs : ['src']).flatMap((d) => (fs.statSync(d).isDirectory() ? walk(d, []) : [d]));
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

// Run as a program, not imported (by tests): compare real paths, since the URL
// form escapes spaces and a symlink names another path, and a check that does
// not run must not pass.
const self = fs.realpathSync(fileURLToPath(import.meta.url));
if (process.argv[1] && fs.realpathSync(process.argv[1]) === self) main();
