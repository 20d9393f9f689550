// A connection flood on loopback for the overload test and bench (issue 14): n raw
// connections open an upload at once (headers only, a declared 60 MB body that never
// comes), from 127.0.0.2-5, while a thread of its own probes /healthz every 10 ms on a
// fresh connection. Bounded: the caller destroys every socket (closeAll) at the end.
import fs from 'node:fs';
import net from 'node:net';
import { Worker } from 'node:worker_threads';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Threads and open descriptors of a process (Linux /proc).
export function procStats(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { threads: Number(status.match(/^Threads:\s+(\d+)/m)[1]), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

// One raw connection opening an upload: r.status is the answer's status, 0 while none came.
function openUpload(i, token, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${2 + (i % 4)}` });
    let buf = '';
    const r = { socket: s, status: 0, retryAfter: null, error: null };
    r.answered = new Promise((done) => {
      s.on('data', (d) => {
        buf += d;
        const m = buf.match(/^HTTP\/1\.1 (\d+)/);
        if (m && r.status === 0 && buf.includes('\r\n\r\n')) {
          r.status = Number(m[1]);
          r.retryAfter = buf.match(/\r\nRetry-After: (\d+)/i)?.[1] ?? null;
          done();
        }
      });
      s.on('error', (e) => { r.error = e.code; done(); });
      s.on('close', () => done());
    });
    s.on('connect', () => {
      // larger than core-api discards: a refusal is answered at once and the connection closed
      s.write(`POST /v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n`
        + 'Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 60000000\r\n\r\n');
      resolve(r);
    });
    s.on('error', () => resolve(r));
  });
}

const PROBER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
let stop = false;
parentPort.on('message', () => { stop = true; });
function probe() {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const s = net.connect({ host: '127.0.0.1', port: workerData.port },
      () => s.write('GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'));
    let buf = '';
    s.on('data', (d) => { buf += d; });
    s.on('close', () => resolve({ ok: buf.startsWith('HTTP/1.1 200'), ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    s.on('error', () => resolve({ ok: false, ms: Infinity }));
  });
}
(async () => {
  const out = [];
  while (!stop) {
    out.push(await probe());
    await new Promise((r) => setTimeout(r, 10));
  }
  parentPort.postMessage(out);
})();
`;

// /healthz probes in a worker thread (the flood's sockets do not delay its event loop).
export function startProber(port) {
  const w = new Worker(PROBER, { eval: true, workerData: { port } });
  const results = new Promise((resolve) => w.once('message', resolve));
  return { stop: async () => { w.postMessage('stop'); const r = await results; await w.terminate(); return r; } };
}

export function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)] : NaN;
}

// The probes' latencies, sorted, and their p50/p99 (only answered ones; `failed` counts the others).
export function probeSummary(probes) {
  const ok = probes.filter((p) => p.ok).map((p) => p.ms).sort((a, b) => a - b);
  return { n: probes.length, failed: probes.length - ok.length, p50: percentile(ok, 0.5), p99: percentile(ok, 0.99) };
}

// The flood: n connections in batches of 100, then up to waitMs for every refusal to be answered.
export async function flood({ port, pid, token, n, waitMs = 15000 }) {
  const base = procStats(pid);
  const prober = startProber(port);
  await sleep(200);
  const t0 = Date.now();
  const conns = [];
  for (let i = 0; i < n; i += 100) {
    conns.push(...await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => openUpload(i + k, token, port))));
  }
  // the refusals come at once; the admitted never answer: wait until no answer came for 1 s
  const answered = () => conns.filter((c) => c.status !== 0 || c.error || c.socket.destroyed).length;
  const deadline = Date.now() + waitMs;
  for (let last = -1, now = answered(); now !== last && Date.now() < deadline; last = now, now = answered()) {
    await sleep(1000);
  }
  const during = procStats(pid);
  const probes = await prober.stop();
  const byStatus = {};
  for (const c of conns) byStatus[c.error ?? c.status] = (byStatus[c.error ?? c.status] ?? 0) + 1;
  return {
    ms: Date.now() - t0, base, during, probes, conns, byStatus,
    refused: conns.filter((c) => c.status === 503),
    admitted: conns.filter((c) => c.status === 0 && !c.error),
    closeAll: () => { for (const c of conns) c.socket.destroy(); },
  };
}
