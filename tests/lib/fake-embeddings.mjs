// A stand-in for an OpenAI-compatible embeddings API, on 127.0.0.1 only.
//
//   import { startFakeEmbeddings } from './fake-embeddings.mjs';
//   const fake = await startFakeEmbeddings({ dim: 64 });
//   fake.url                 base URL (POST {url}/v1/embeddings)
//   fake.setFailures({ status: 429 | 500 | 503, count, retryAfter, delayMs })
//   fake.requests()          embeddings requests seen (incl. failed ones)
//   await fake.stop()
//
// CLI: node tests/lib/fake-embeddings.mjs [--port N] [--dim N]  prints {"url": ...}
//
// Vectors are deterministic: a function of the input text only (seeded by
// its SHA-256), so the same text always gets the same vector.
// A process that cannot call setFailures (the C integration test) uses the
// control endpoint with the same fields:
//   POST /__control {"failures": {status, count, retryAfter, delayMs},
//                    "dim": N, "shuffle": bool, "reset": true}
//   GET  /__control  -> {"requests": N, "inputs": [batch sizes...]}
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';

function vectorFor(text, dim) {
  const v = new Array(dim);
  let seed = createHash('sha256').update(text).digest();
  let k = 0;
  for (let i = 0; i < dim; i++) {
    if (k + 4 > seed.length) {
      seed = createHash('sha256').update(seed).digest();
      k = 0;
    }
    v[i] = seed.readInt32LE(k) / 2 ** 31;
    k += 4;
  }
  return v;
}

export async function startFakeEmbeddings({ dim = 64, port = 0 } = {}) {
  const state = {
    dim,
    failures: { status: 0, count: 0, retryAfter: null, delayMs: 0 },
    shuffle: false,
    requests: 0,
    inputs: [],
  };
  const reset = () => {
    state.dim = dim;
    state.failures = { status: 0, count: 0, retryAfter: null, delayMs: 0 };
    state.shuffle = false;
    state.requests = 0;
    state.inputs = [];
  };
  const setFailures = (f = {}) => {
    state.failures = { status: 0, count: 0, retryAfter: null, delayMs: 0, ...f };
  };

  const send = (res, status, obj, headers = {}) => {
    const body = JSON.stringify(obj);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (req.url === '/__control') {
        if (req.method === 'GET') return send(res, 200, { requests: state.requests, inputs: state.inputs });
        let c;
        try { c = JSON.parse(raw || '{}'); } catch { return send(res, 400, { error: 'bad json' }); }
        if (c.reset) reset();
        if (c.failures) setFailures(c.failures);
        if (c.dim) state.dim = c.dim;
        if (c.shuffle !== undefined) state.shuffle = !!c.shuffle;
        return send(res, 200, { ok: true });
      }
      if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
        return send(res, 404, { error: { message: 'not found' } });
      }
      state.requests++;
      const f = state.failures;
      if (f.count > 0) {
        f.count--;
        if (f.delayMs) {
          // a slow answer: the client's timeout should fire first
          await new Promise((r) => setTimeout(r, f.delayMs));
          if (res.destroyed) return;
        }
        if (f.status) {
          const h = f.retryAfter != null ? { 'retry-after': String(f.retryAfter) } : {};
          return send(res, f.status, { error: { message: `injected ${f.status}`, type: 'fake' } }, h);
        }
      }
      let body;
      try { body = JSON.parse(raw); } catch { return send(res, 400, { error: { message: 'invalid JSON' } }); }
      if (typeof body.model !== 'string' || !body.model) return send(res, 400, { error: { message: 'model required' } });
      const input = typeof body.input === 'string' ? [body.input] : body.input;
      if (!Array.isArray(input) || input.some((s) => typeof s !== 'string')) {
        return send(res, 400, { error: { message: 'input must be a string or an array of strings' } });
      }
      state.inputs.push(input.length);
      const data = input.map((s, index) => ({ object: 'embedding', index, embedding: vectorFor(s, state.dim) }));
      if (state.shuffle) data.reverse();
      send(res, 200, { object: 'list', data, model: body.model, usage: { prompt_tokens: 0, total_tokens: 0 } });
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    setFailures,
    requests: () => state.requests,
    inputs: () => [...state.inputs],
    reset,
    stop: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name, def) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : def;
  };
  const fake = await startFakeEmbeddings({ dim: arg('--dim', 64), port: arg('--port', 0) });
  console.log(JSON.stringify({ url: fake.url }));
  const stop = async () => { await fake.stop(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
