#!/usr/bin/env node
// Retrieval quality on real manuals (issue 12), against a plain BM25 baseline
// computed in the same run over the same extracted text.
//
//   make && node bench/retrieval_eval.mjs
//
// Corpora: Debian documentation packages installed by scripts/install-deps.sh
// (debian-reference-en: the Debian Reference as HTML chapters; bash-doc and
// gnuplot-doc: the Bash reference manual and the gnuplot manual as PDFs). The
// questions, written as a user would ask them, are bench/retrieval/questions.json:
// answerable ones name the document and the physical page range (PDF) or a
// regular expression of the answering passage (HTML); unanswerable ones are
// off-topic or near-topic. bench/README.md describes the metrics.
//
// Starts its own throwaway stack (tests/lib/stack.mjs: PostgreSQL, SQS emulator,
// core-api, one ingest-worker), one tenant per corpus, uploads every file through
// POST /v1/ingest, waits for the runs, then asks every question through
// POST /v1/search (top_k 10, one at a time). The baseline, plain BM25 (k1 1.2,
// b 0.75, English stop words dropped, crude suffix stemming), ranks the pages of
// the PDFs as pdftotext gives them (the worker's own command line) and, for the
// HTML corpus, the chunks the worker stored (an HTML file has no pages).
//
// EVAL_DEFAULTS=0 skips the run with core-api's default settings.
// EVAL_VARIANTS: comma-separated core-api settings to compare, each a list of
// NAME=VALUE joined by '+' (e.g. "SEARCH_VECTOR_WEIGHT=0"); each variant restarts
// core-api with those settings and asks every question again.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, ROOT } from '../tests/lib/stack.mjs';

const TOP_K = 10;
const QFILE = process.env.EVAL_QUESTIONS ?? path.join(ROOT, 'bench/retrieval/questions.json');
const spec = JSON.parse(fs.readFileSync(QFILE, 'utf8'));

// ---- the baseline: plain BM25 ----
// PostgreSQL's English stop words (snowball list), as the issue's baseline drops stop words.
const STOP = new Set(`i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she
her hers herself it its itself they them their theirs themselves what which who whom this that these those am is are
was were be been being have has had having do does did doing a an the and but if or because as until while of at by
for with about against between into through during before after above below to from up down in out on off over under
again further then once here there when where why how all any both each few more most other some such no nor not only
own same so than too very s t can will just don should now`.split(/\s+/));

function stem(w) {
  for (const suf of ['ingly', 'edly', 'ing', 'ed', 'ies', 'es', 'ly', 's']) {
    if (w.length > suf.length + 2 && w.endsWith(suf)) return suf === 'ies' ? w.slice(0, -3) + 'y' : w.slice(0, -suf.length);
  }
  return w;
}

function tokens(text) {
  const out = [];
  for (const w of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) if (w && !STOP.has(w)) out.push(stem(w));
  return out;
}

class Bm25 {
  constructor(units, k1 = 1.2, b = 0.75) {
    this.units = units;
    this.k1 = k1;
    this.b = b;
    this.df = new Map();
    this.tf = [];
    let total = 0;
    for (const u of units) {
      const t = tokens(u.text);
      const m = new Map();
      for (const w of t) m.set(w, (m.get(w) ?? 0) + 1);
      for (const w of m.keys()) this.df.set(w, (this.df.get(w) ?? 0) + 1);
      this.tf.push({ m, len: t.length });
      total += t.length;
    }
    this.avgdl = total / Math.max(1, units.length);
  }

  search(query, k) {
    const q = [...new Set(tokens(query))];
    const n = this.units.length;
    const scored = [];
    for (let i = 0; i < n; i++) {
      const { m, len } = this.tf[i];
      let s = 0;
      for (const w of q) {
        const f = m.get(w);
        if (!f) continue;
        const df = this.df.get(w);
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        s += idf * (f * (this.k1 + 1)) / (f + this.k1 * (1 - this.b + this.b * len / this.avgdl));
      }
      if (s > 0) scored.push([s, i]);
    }
    scored.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    return scored.slice(0, k).map(([, i]) => this.units[i]);
  }
}

// ---- metrics ----
const norm = (s) => s.replace(/\s+/g, ' ');

function isRelevant(q, unit) {
  if (unit.file !== q.doc) return false;
  if (q.pages) return unit.page_start <= q.pages[1] && unit.page_end >= q.pages[0];
  return new RegExp(q.answer, 'i').test(norm(unit.text ?? ''));
}

function pct(xs, p) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

// One ranked list per answerable question (empty = abstained) -> the figures.
function score(answerable, lists, unansLists, times) {
  let r5 = 0, mrr = 0, ndcg = 0, fa = 0;
  answerable.forEach((q, i) => {
    const list = lists[i];
    if (list.length === 0) fa++;
    const first = list.slice(0, TOP_K).findIndex((u) => isRelevant(q, u));
    if (first >= 0 && first < 5) r5++;
    if (first >= 0) {
      mrr += 1 / (first + 1);
      ndcg += 1 / Math.log2(first + 2);   // one target per question: IDCG = 1
    }
  });
  const n = answerable.length;
  const abst = unansLists.filter((l) => l.length === 0).length;
  return {
    recall5: r5 / n, mrr10: mrr / n, ndcg10: ndcg / n,
    abstain: abst / Math.max(1, unansLists.length), falseAbstain: fa / n,
    p50: pct(times, 50), p95: pct(times, 95),
  };
}

// ---- the system ----
async function ingestCorpus(stack, corpus, token) {
  const byDoc = new Map();
  const runs = [];
  for (const f of corpus.files) {
    const p = corpus.paths?.[f] ?? path.join(corpus.dir, f);
    const type = f.endsWith('.pdf') ? 'application/pdf' : 'text/html';
    const up = await stack.upload({ token, filename: f, content: fs.readFileSync(p), type });
    if (up.status !== 202) throw new Error(`upload ${f}: ${up.status} ${up.text}`);
    byDoc.set(up.json.doc_id, f);
    runs.push([f, up.json.run_id]);
  }
  for (const [f, id] of runs) {
    const run = await stack.waitRun(id, { timeoutMs: 600000 });
    if (run.status !== 'succeeded') throw new Error(`run of ${f}: ${run.status} ${run.error_code ?? ''}`);
  }
  return byDoc;
}

async function chunkTexts(stack, tenantId) {
  const rows = await stack.sql(
    `SELECT c.chunk_id, c.doc_id, c.page_start, c.page_end, c.text FROM chunks c
       JOIN document_versions v ON v.version_id = c.version_id AND v.is_active
      WHERE c.tenant_id = $1 ORDER BY c.doc_id, c.ordinal`, [tenantId]);
  return rows;
}

async function askAll(stack, token, questions, chunkById, byDoc) {
  const lists = [];
  const times = [];
  for (const q of questions) {
    const t = process.hrtime.bigint();
    // one retry: a keep-alive connection the server closed while idle (HTTP_HEAD_TIMEOUT) fails once
    const ask = () => stack.api('POST', '/v1/search', { token, body: { query: q.q, top_k: TOP_K } });
    const r = await ask().catch(ask);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.status !== 200) throw new Error(`search ${r.status}: ${r.text}`);
    lists.push((r.json.results ?? []).map((c) => ({
      file: byDoc.get(c.doc_id), page_start: c.page_start, page_end: c.page_end,
      text: chunkById.get(c.chunk_id)?.text, score: c.score, section: c.section, page_label: c.page_label,
    })));
  }
  return { lists, times };
}

function baselineUnits(corpus, chunks, byDoc) {
  if (corpus.files.every((f) => f.endsWith('.pdf'))) {
    const units = [];
    for (const f of corpus.files) {
      const txt = execFileSync('pdftotext', ['-q', '-enc', 'UTF-8', '-eol', 'unix', corpus.paths[f], '-'],
        { encoding: 'utf8', maxBuffer: 1 << 28 });
      txt.split('\f').forEach((text, i) => units.push({ file: f, page_start: i + 1, page_end: i + 1, text }));
    }
    return { units, what: 'pages (pdftotext)' };
  }
  return {
    units: chunks.map((c) => ({ file: byDoc.get(c.doc_id), page_start: c.page_start, page_end: c.page_end, text: c.text })),
    what: 'the stored chunks',
  };
}

function runBaseline(bm, questions) {
  const lists = [];
  const times = [];
  for (const q of questions) {
    const t = process.hrtime.bigint();
    lists.push(bm.search(q.q, TOP_K));
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { lists, times };
}

const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : '  -  ');
const pts = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} pts`;

function printRow(label, sys, base, unit, diff) {
  console.log(`  ${label.padEnd(34)}${unit(sys).padStart(10)}${unit(base).padStart(12)}   ${diff}`);
}

function report(name, sys, base) {
  console.log(`  ${''.padEnd(34)}${'search'.padStart(10)}${'BM25'.padStart(12)}   difference`);
  for (const [k, label] of [['recall5', 'recall@5'], ['mrr10', 'MRR@10'], ['ndcg10', 'nDCG@10'],
    ['abstain', 'abstain rate (unanswerable)'], ['falseAbstain', 'false-abstain rate (answerable)']])
    printRow(label, sys[k], base[k], f3, pts(sys[k] - base[k]));
  for (const k of ['p50', 'p95'])
    printRow(`latency ${k} (ms)`, sys[k], base[k], (x) => x.toFixed(1), `${(sys[k] - base[k]).toFixed(1)} ms`);
}

async function evalCorpus(stack, corpus, ci, variants) {
  const slug = `eval${ci}`;
  const t = await stack.tenant(slug);
  const token = t.token;
  const tenantId = t.user.tenant_id;
  const t0 = Date.now();
  const byDoc = await ingestCorpus(stack, corpus, token);
  const chunks = await chunkTexts(stack, tenantId);
  const chunkById = new Map(chunks.map((c) => [c.chunk_id, c]));
  console.log(`\n${corpus.name}: ${corpus.files.length} files, ${chunks.length} chunks, ingested in ` +
    `${((Date.now() - t0) / 1000).toFixed(1)} s; ${corpus.answerable.length} answerable, ` +
    `${corpus.unanswerable.filter((q) => q.kind === 'off').length} off-topic, ` +
    `${corpus.unanswerable.filter((q) => q.kind === 'near').length} near-topic questions`);
  const { units, what } = baselineUnits(corpus, chunks, byDoc);
  const bm = new Bm25(units);
  const bA = runBaseline(bm, corpus.answerable);
  const bU = runBaseline(bm, corpus.unanswerable);
  const base = score(corpus.answerable, bA.lists, bU.lists, [...bA.times, ...bU.times]);
  console.log(`  baseline: BM25 over ${units.length} ${what}; its latency is in-process JS scoring`);
  const out = [];
  for (const v of variants) {
    if (v.env || variants.length > 1) {   // each variant on a core-api of its own settings
      await stack.stopApi();
      await stack.startApi(v.env ?? {});
    }
    const sA = await askAll(stack, token, corpus.answerable, chunkById, byDoc);
    const sU = await askAll(stack, token, corpus.unanswerable, chunkById, byDoc);
    const sys = score(corpus.answerable, sA.lists, sU.lists, [...sA.times, ...sU.times]);
    console.log(`\n ${corpus.name} -- core-api ${v.label}`);
    report(corpus.name, sys, base);
    const offAb = sU.lists.filter((l, i) => corpus.unanswerable[i].kind === 'off' && l.length === 0).length;
    const nearAb = sU.lists.filter((l, i) => corpus.unanswerable[i].kind === 'near' && l.length === 0).length;
    console.log(`  abstained: off-topic ${offAb}/${corpus.unanswerable.filter((q) => q.kind === 'off').length}, ` +
      `near-topic ${nearAb}/${corpus.unanswerable.filter((q) => q.kind === 'near').length}`);
    if (process.env.EVAL_VERBOSE) printMisses(corpus, sA.lists, sU.lists, bA.lists);
    if (process.env.EVAL_DUMP)   // per-question lists (score, relevant) to sweep SEARCH_MIN_SCORE offline
      fs.appendFileSync(process.env.EVAL_DUMP, JSON.stringify({ variant: v.label, corpus: corpus.name,
        answerable: sA.lists.map((l, i) => l.map((u) => [u.score, isRelevant(corpus.answerable[i], u)])),
        unanswerable: sU.lists.map((l) => l.map((u) => u.score)) }) + '\n');
    out.push({ variant: v.label, corpus: corpus.name, sys, base });
  }
  return out;
}

function printMisses(corpus, lists, ulists, blists) {
  const top = (ls) => ls.map((l) => (l.length ? l[0].score : 0)).sort((a, b) => a - b).map((x) => x.toFixed(2)).join(' ');
  console.log(`    top scores, answerable:   ${top(lists)}`);
  console.log(`    top scores, unanswerable: ${top(ulists)}`);
  corpus.answerable.forEach((q, i) => {
    const first = lists[i].findIndex((u) => isRelevant(q, u));
    if (first < 0 || first >= 5)
      console.log(`    miss (${first}; BM25 ${blists[i].findIndex((u) => isRelevant(q, u))}): ${q.q} -> ${lists[i].slice(0, 3).map((u) => `${u.file}:${u.page_start}[${u.page_label ?? ""}] ${f3(u.score)} {${u.section ?? ""}}`).join(" ")}`);
  });
  corpus.unanswerable.forEach((q, i) => {
    if (ulists[i].length)
      console.log(`    answered ${q.kind}: ${q.q} -> ${ulists[i].slice(0, 2).map((u) => `${u.file}:${u.page_start} ${f3(u.score)}`).join(' ')}`);
  });
}

function parseVariants() {
  const list = process.env.EVAL_DEFAULTS === '0' ? [] : [{ label: 'defaults', env: null }];
  for (const v of (process.env.EVAL_VARIANTS ?? '').split(',').filter(Boolean)) {
    const env = {};
    for (const kv of v.split('+')) {
      const [k, ...rest] = kv.split('=');
      env[k] = rest.join('=');
    }
    list.push({ label: v, env });
  }
  return list;
}

async function main() {
  const only = process.env.EVAL_CORPUS;   // a substring of a corpus name, to run one
  const corpora = spec.corpora.filter((c) => !only || c.name.includes(only));
  for (const c of corpora)
    for (const f of c.files) {
      const p = c.paths?.[f] ?? path.join(c.dir, f);
      if (!fs.existsSync(p)) throw new Error(`${p} missing: install ${c.package} (scripts/install-deps.sh)`);
    }
  console.log(`retrieval_eval  ${new Date().toISOString()}  loadavg ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const stack = await startStack({ worker: true, env: { LOG_LEVEL: 'warn' } });
  try {
    for (let i = 0; i < corpora.length; i++) await evalCorpus(stack, corpora[i], i, parseVariants());
  } finally {
    await stack.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
