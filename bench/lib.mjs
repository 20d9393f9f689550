// Small helpers shared by bench/upload_bench.mjs, bench/upload_s3_bench.mjs and
// bench/worker_bench.mjs and the search benches: a keep-alive HTTP load generator, percentiles, a /proc
// memory sampler, a large generated text file, one measured streamed upload, and
// output formatting, and the synthetic chunk generator's build. Node built-ins only.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const MiB = 1024 * 1024;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

export function envNum(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`${name}: expected a positive number, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
}

export function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : String(x));
export const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : String(x));
export const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : String(x));

// One aligned table row per figure: name, value, unit, then free text.
export function row(name, value, unit = '', note = '') {
  console.log(`  ${name.padEnd(38)} ${String(value).padStart(15)} ${unit.padEnd(8)} ${note}`.trimEnd());
}

// Memory of a process from /proc/<pid>/status, in KiB.
export function procMem(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) ?? [])[1] ?? NaN);
    return { rss: get('VmRSS'), hwm: get('VmHWM') };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

// Sample VmRSS every intervalMs until stop(); returns {maxRss, samples, hwm} in KiB.
export function memSampler(pid, intervalMs = 20) {
  let maxRss = 0;
  let samples = 0;
  const tick = () => {
    const m = procMem(pid);
    if (Number.isFinite(m.rss)) { maxRss = Math.max(maxRss, m.rss); samples++; }
  };
  tick();
  const t = setInterval(tick, intervalMs);
  return {
    stop() {
      clearInterval(t);
      tick();
      return { maxRss, samples, hwm: procMem(pid).hwm };
    },
  };
}

// Closed-loop load: `connections` clients, each sending the next request as soon as
// the previous answer is read, over keep-alive sockets, for `seconds` (after a
// `warmupSeconds` warm-up whose requests are not counted).
export async function load({ url, headers = {}, connections = 32, seconds = 10, warmupSeconds = 1 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const u = new URL(url);
  const once = () => new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'GET', headers, agent },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
        res.on('error', () => resolve({ status: 0, ms: 0 }));
      });
    req.on('error', () => resolve({ status: 0, ms: 0 }));
    req.end();
  });

  let phase = 'warmup';
  const lat = [];
  let ok = 0;
  let bad = 0;
  const statuses = {};
  const client = async () => {
    while (phase !== 'done') {
      const r = await once();
      if (phase !== 'measure') continue;
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.status === 200) { ok++; lat.push(r.ms); } else bad++;
    }
  };
  const clients = Array.from({ length: connections }, client);
  await sleep(warmupSeconds * 1000);
  phase = 'measure';
  const t0 = nowMs();
  await sleep(seconds * 1000);
  phase = 'done';
  const elapsed = (nowMs() - t0) / 1000;
  await Promise.all(clients);
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { rps: ok / elapsed, ok, bad, statuses, elapsed, p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1] };
}

// One HTTP request over a keep-alive connection (node:http): { status, text }. The search
// benches' client: fetch() (undici) cost this process 1.4-2.3 ms of CPU a search against
// 0.7-0.8 ms for node:http, on the same 2 cores as the server it measures.
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 256 });
export function httpRequest(url, { method = 'GET', body, headers = {} } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent: keepAlive,
      headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// The head and tail of a one-file multipart/form-data body, so the file itself can
// be streamed between them.
export function multipartParts({ filename, type = 'text/plain', fields = {} }) {
  const boundary = `----bench${Math.random().toString(16).slice(2)}${Date.now()}`;
  let head = '';
  for (const [k, v] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
    `Content-Type: ${type}\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  return { boundary, head: Buffer.from(head), tail: Buffer.from(tail) };
}

// Upload a file from disk to POST /v1/ingest as a streamed multipart request:
// head, then the file piped from a read stream, then the tail. Nothing is buffered
// beyond the stream's own chunks. Resolves {status, json, text, ms}.
export function streamUpload({ baseUrl, token, file, filename, type, fields, highWaterMark = MiB }) {
  const size = fs.statSync(file).size;
  const { boundary, head, tail } = multipartParts({ filename, type, fields });
  const u = new URL('/v1/ingest', baseUrl);
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + size + tail.length),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch {}
        resolve({ status: res.statusCode, json, text, ms: nowMs() - t0, bytes: size });
      });
    });
    req.on('error', reject);
    req.write(head);
    const rs = fs.createReadStream(file, { highWaterMark });
    rs.on('error', (e) => { req.destroy(e); reject(e); });
    rs.on('end', () => req.end(tail));
    rs.pipe(req, { end: false });
  });
}

// Deterministic English-like prose (a small LCG over a fixed word list).
const WORDS = ('the of and to in is that for it as with was on be by this are from at or an which ' +
  'document ingestion pipeline queue worker version tenant search citation chunk retrieval index ' +
  'upload storage quarterly report policy refund customer contract invoice schedule manager team ' +
  'analysis summary decision review process system request answer evidence source latest active ' +
  'delivery security network database backup recovery incident response training budget forecast ' +
  'market product release feature support account payment shipping warehouse inventory supplier ' +
  'quality standard procedure compliance audit risk control owner approval deadline milestone').split(' ');

export function prose(seed) {
  let s = (seed >>> 0) || 1;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; };
  return {
    sentence() {
      const n = 6 + (rnd() % 14);
      const w = [];
      for (let i = 0; i < n; i++) w.push(WORDS[rnd() % WORDS.length]);
      w[0] = w[0][0].toUpperCase() + w[0].slice(1);
      return w.join(' ') + '.';
    },
    paragraph() {
      const n = 3 + (rnd() % 5);
      const out = [];
      for (let i = 0; i < n; i++) out.push(this.sentence());
      return out.join(' ');
    },
    // Paragraphs separated by blank lines until at least `bytes` long.
    text(bytes) {
      const parts = [];
      let len = 0;
      while (len < bytes) {
        const p = this.paragraph();
        parts.push(p);
        len += p.length + 2;
      }
      return parts.join('\n\n') + '\n';
    },
  };
}

// Write `mb` MiB of ASCII prose to `file`, one 1 MiB block at a time (never held in
// memory). Every block starts with its own number and a run token, so the content is
// unique per run (a second upload of the same bytes would be a duplicate, skipped).
export async function generateText(file, mb) {
  const token = `${process.pid}-${Date.now()}`;
  const pool = [];
  for (let i = 0; i < 8; i++) pool.push(prose(1000 + i).text(MiB));
  const ws = fs.createWriteStream(file);
  for (let b = 0; b < mb; b++) {
    const header = `Block ${b} of ${mb}, bench run ${token}.\n\n`;
    const body = header + pool[b % pool.length].slice(0, MiB - header.length - 1) + '\n';
    if (!ws.write(Buffer.from(body, 'latin1'))) await new Promise((r) => ws.once('drain', r));
  }
  await new Promise((resolve, reject) => ws.end((e) => (e ? reject(e) : resolve())));
}

// SHA-256 (hex) of a file, read as a stream.
export async function sha256File(file) {
  const h = crypto.createHash('sha256');
  for await (const c of fs.createReadStream(file, { highWaterMark: MiB })) h.update(c);
  return h.digest('hex');
}

// One streamed upload of `file` (streamUpload) with core-api's memory sampled every 20 ms:
// {up, idle, mem, growth} with idle = procMem before, mem = memSampler's result and growth
// the peak RSS over idle in MiB. Throws unless core-api answers 202 or 200.
export async function measuredUpload(stack, token, file, { filename, fields, type = 'text/plain' } = {}) {
  await sleep(500);
  const idle = procMem(stack.apiPid);
  const sampler = memSampler(stack.apiPid, 20);
  const up = await streamUpload({ baseUrl: stack.baseUrl, token, file, filename, type, fields });
  const mem = sampler.stop();
  if (up.status !== 202 && up.status !== 200) throw new Error(`${filename} upload answered ${up.status}: ${up.text}`);
  return { up, idle, mem, growth: (mem.maxRss - idle.rss) / 1024 };
}

// Build bench/gen_chunks.c (synthetic chunks for the search benches) against the build's
// libcommon.a into <buildDir>/bench/gen_chunks; returns its path.
export function buildGenChunks(buildDir) {
  const out = path.join(buildDir, 'bench', 'gen_chunks');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const pkg = execFileSync('pkg-config', ['--cflags', '--libs', 'jansson', 'libpq', 'libcurl', 'openssl', 'uuid'],
    { encoding: 'utf8' }).trim().split(/\s+/);
  execFileSync('cc', ['-std=c11', '-O2', '-D_GNU_SOURCE', '-Isrc', 'bench/gen_chunks.c',
    path.join(buildDir, 'libcommon.a'), ...pkg, '-lm', '-o', out], { cwd: ROOT, stdio: 'inherit' });
  return out;
}
