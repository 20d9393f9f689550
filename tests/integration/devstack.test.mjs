// The README's run command: `scripts/dev.sh --detach` brings up PostgreSQL, the SQS
// emulator with both queues, core-api and a worker; a document goes through; a second
// start is refused while one runs; `scripts/dev.sh stop` leaves nothing behind; a busy
// port is reported by number. Runs on free ports with its state in a temporary folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../lib/stack.mjs';
import { freePort } from '../lib/pg-cluster.mjs';

let env;
let varDir;
let ports;

function dev(args, timeoutMs = 240000) {
  return new Promise((resolve) => {
    const c = spawn('scripts/dev.sh', args, { cwd: ROOT, env });
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { out += d; });
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('close', (code) => { clearTimeout(t); resolve({ code, out }); });
  });
}

function listening(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

function leftovers() {
  // Any process that still names our state folder (postgres -D, the node supervisor's log).
  const r = spawnSync('pgrep', ['-af', varDir], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l && !l.includes('pgrep'));
}

before(async () => {
  varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'devstack-'));
  fs.chmodSync(varDir, 0o755);
  ports = { api: await freePort(), pg: await freePort(), sqs: await freePort() };
  env = {
    ...process.env,
    DEV_VAR_DIR: varDir,
    DEV_API_PORT: String(ports.api),
    DEV_PG_PORT: String(ports.pg),
    DEV_SQS_PORT: String(ports.sqs),
    BUILD_DIR: process.env.BUILD_DIR ?? 'build',
  };
});

after(async () => {
  await dev(['stop']);
  fs.rmSync(varDir, { recursive: true, force: true });
});

test('dev.sh --detach runs the whole system; stop leaves nothing behind', { timeout: 600000 }, async () => {
  const up = await dev(['--detach']);
  assert.equal(up.code, 0, up.out);
  assert.match(up.out, /\[stack\] ready/);

  const base = `http://127.0.0.1:${ports.api}`;
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 200, await ready.text());
  assert.equal((await fetch(`${base}/`)).headers.get('content-type')?.startsWith('text/html'), true);

  // both queues exist, the main one with its redrive policy
  const attrs = async (name) => {
    const r = await fetch(`http://127.0.0.1:${ports.sqs}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.GetQueueAttributes' },
      body: JSON.stringify({ QueueUrl: `http://sqs.us-east-1.localhost:${ports.sqs}/000000000000/${name}`, AttributeNames: ['All'] }),
    });
    assert.equal(r.status, 200, `${name}: ${r.status}`);
    return (await r.json()).Attributes;
  };
  assert.match((await attrs('ingest')).RedrivePolicy, /ingest-dlq/);
  await attrs('ingest-dlq');

  // the demo admin signs in and a document goes through the worker
  const login = await fetch(`${base}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: 'demo', email: 'admin@demo.test', password: 'demo-password-123' }),
  });
  assert.equal(login.status, 200);
  const { token } = await login.json();
  const form = new FormData();
  form.append('file', new Blob([`Dev stack check ${Date.now()}: the ocelot ledger balances.\n`]), 'check.txt');
  const up1 = await fetch(`${base}/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const upText = await up1.text();
  assert.equal(up1.status, 202, upText);
  const { run_id: runId } = JSON.parse(upText);
  let status;
  for (let i = 0; i < 150 && status !== 'succeeded'; i++) {
    const r = await fetch(`${base}/v1/ingestion-runs/${runId}`, { headers: { authorization: `Bearer ${token}` } });
    status = (await r.json()).status;
    if (status === 'failed') break;
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.equal(status, 'succeeded');

  // a second start while one runs is refused, and changes nothing
  const again = await dev(['--detach']);
  assert.notEqual(again.code, 0);
  assert.match(again.out, /already running/);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);

  const down = await dev(['stop']);
  assert.equal(down.code, 0, down.out);
  for (const p of Object.values(ports)) assert.equal(await listening(p), false, `port ${p} still open`);
  assert.deepEqual(leftovers(), []);
});

test('a busy port is reported with its number and the start fails', { timeout: 600000 }, async () => {
  await dev(['stop']);
  const blocker = net.createServer().listen(ports.api, '127.0.0.1');
  await new Promise((r) => blocker.on('listening', r));
  try {
    const up = await dev(['--detach']);
    assert.notEqual(up.code, 0, up.out);
    assert.match(up.out, new RegExp(`127\\.0\\.0\\.1:${ports.api}.*in use`));
    assert.deepEqual(leftovers().filter((l) => !l.includes('stack.log')), []);
  } finally {
    blocker.close();
  }
});
