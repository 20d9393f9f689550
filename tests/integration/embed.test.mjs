// The openai embedding provider (src/common/embed_openai.c) against the local
// fake embeddings server: batching, retries on 429/503, giving up on 500,
// timeouts, dimension mismatch. The C program drives the fake server's
// control endpoint itself; this file starts the server and runs the program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startFakeEmbeddings } from '../lib/fake-embeddings.mjs';

const bin = `${process.env.BUILD_DIR ?? 'build'}/tests/integration/c/test_embed_openai`;

function run(cmd, env) {
  return new Promise((resolve) => {
    const p = spawn(cmd, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('close', (code) => resolve({ code, out }));
  });
}

test('openai embeddings client: batching, retries, timeouts', { timeout: 120_000 }, async (t) => {
  assert.ok(existsSync(bin), `${bin} not built (run make)`);
  const fake = await startFakeEmbeddings({ dim: 64 });
  try {
    const { code, out } = await run(bin, { TEST_EMBED_URL: fake.url });
    assert.equal(code, 0, out);
    assert.match(out, /PASSED/);
  } finally {
    await fake.stop();
  }
});

test('fake embeddings server is deterministic and fails on demand', async () => {
  const fake = await startFakeEmbeddings({ dim: 8 });
  try {
    const post = (input) => fetch(`${fake.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', input }),
    });
    const a = await (await post(['x', 'y'])).json();
    const b = await (await post('x')).json();
    assert.deepEqual(a.data[0].embedding, b.data[0].embedding);
    assert.equal(a.data[1].index, 1);
    fake.setFailures({ status: 429, count: 1, retryAfter: 2 });
    const r = await post('x');
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '2');
    assert.equal((await post('x')).status, 200);
    assert.equal(fake.requests(), 4);
  } finally {
    await fake.stop();
  }
});
