// HTTP hardening at core-api's edge, over raw sockets so every byte is the test's:
// request heads a proxy could read differently (two Content-Length lines, Content-Length
// with Transfer-Encoding, unknown transfer codings, a missing Host, control characters,
// NUL bytes and folded lines in header values) are answered 400 or 501 and the connection
// is closed; a slowloris is cut at the head deadline; a too-slow upload is cut and leaves
// no file; one address cannot hold more than HTTP_MAX_CONN_PER_ADDR connections; and
// X-Forwarded-For is believed only from TRUSTED_PROXIES.
//
// Every socket has a time limit and every trickle a byte budget, so no test can hang.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startStack, waitFor } from '../lib/stack.mjs';

const HEAD_TIMEOUT_S = 2;
const MAX_PER_ADDR = 4;
const PROXY = '127.0.0.5';         // the one trusted proxy of this stack
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let stack;
let A;

before(async () => {
  stack = await startStack({
    apiEnv: {
      HTTP_HEAD_TIMEOUT: `${HEAD_TIMEOUT_S}s`,
      HTTP_BODY_MIN_RATE: '1000',
      HTTP_BODY_RATE_WINDOW: '1s',
      HTTP_MAX_CONN_PER_ADDR: String(MAX_PER_ADDR),
      TRUSTED_PROXIES: `${PROXY}, 10.0.0.0/8`,
    },
  });
  A = await stack.tenant('alpha');
});

after(async () => {
  if (stack) await stack.stop();
});

// Open a connection (from localAddress), write each piece of `pieces` (strings or
// Buffers; a number is a pause in ms), and collect what comes back until the server
// closes or limitMs passes. Resolves { text, closed, ms, error }: closed is true only
// when the server ended the connection (EOF or reset) before the limit.
function exchange(pieces, { localAddress, limitMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = net.connect({ host: '127.0.0.1', port: stack.apiPort, localAddress });
    let text = '';
    let error;
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ text, closed, ms: Date.now() - t0, error });
    };
    const timer = setTimeout(() => finish(false), limitMs);
    sock.on('data', (d) => { text += d.toString('latin1'); });
    sock.on('error', (e) => { error = e.code; });
    sock.on('close', () => finish(true));
    sock.on('connect', async () => {
      for (const p of pieces) {
        if (done) return;
        if (typeof p === 'number') await sleep(p);
        else sock.write(p);
      }
    });
  });
}

// The responses in text: [{ status, headers (lower-case names), body }].
function responses(text) {
  const out = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const lines = rest.slice(0, end).split('\r\n');
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] ?? 0);
    const body = rest.slice(end + 4, end + 4 + len);
    out.push({ status: Number(lines[0].split(' ')[1]), headers, body });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

// One request head (and body) that must be refused: exactly one answer with status and
// error code, "Connection: close", and the server closes the connection soon after.
async function refused(raw, status, code, message) {
  const r = await exchange([raw], { limitMs: 3000 });
  const answers = responses(r.text);
  assert.equal(answers.length, 1, `exactly one answer to ${JSON.stringify(raw)}; got ${JSON.stringify(r.text)}`);
  assert.equal(answers[0].status, status, JSON.stringify(raw));
  assert.equal(JSON.parse(answers[0].body).error.code, code);
  if (message) assert.match(JSON.parse(answers[0].body).error.message, message);
  assert.equal(answers[0].headers.connection, 'close');
  assert.ok(r.closed, `the server closes the connection (${r.ms} ms)`);
  return answers[0];
}

async function served(raw, status = 200) {
  const r = await exchange([raw], { limitMs: 3000 });
  const answers = responses(r.text);
  assert.ok(answers.length >= 1, `an answer to ${JSON.stringify(raw)}`);
  assert.equal(answers[0].status, status, `${JSON.stringify(raw)}: ${r.text}`);
  return answers;
}

const GET = 'GET /healthz HTTP/1.1\r\nHost: api.test\r\n';
const LOGIN = 'POST /v1/auth/login HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\n';
const BODY = '{"tenant":"alpha","email":"nobody@alpha.test","password":"x"}';

// ---------------------------------------------------------------- framing

test('two different Content-Length lines -> 400, connection closed, the body never read', async () => {
  await refused(`${LOGIN}Content-Length: ${BODY.length}\r\nContent-Length: 5\r\n\r\n${BODY}`, 400, 'bad_request',
    /more than one Content-Length/);
});

test('two identical Content-Length lines -> 400 too (RFC 9110 allows either; we refuse)', async () => {
  await refused(`${LOGIN}Content-Length: ${BODY.length}\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`,
    400, 'bad_request', /more than one Content-Length/);
});

test('Content-Length with Transfer-Encoding -> 400, and the request hidden in the body is never answered', async () => {
  const smuggled = `GET /v1/auth/me HTTP/1.1\r\nHost: api.test\r\n\r\n`;
  const chunked = `0\r\n\r\n${smuggled}`;
  await refused(`${LOGIN}Content-Length: ${chunked.length}\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`,
    400, 'bad_request', /both Content-Length and Transfer-Encoding/);
  // the other order of the two lines is the same request
  await refused(`${LOGIN}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n${chunked}`, 400, 'bad_request');
});

test('an unknown transfer coding -> 501 at once, not a hanging connection', async () => {
  const t0 = Date.now();
  await refused(`${LOGIN}Transfer-Encoding: gzip\r\n\r\nabc`, 501, 'not_implemented', /only chunked/);
  assert.ok(Date.now() - t0 < 1500, 'answered without waiting for the body to end');
  await refused(`${LOGIN}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 501, 'not_implemented');
  await refused(`${GET}Transfer-Encoding: identity\r\n\r\n`, 501, 'not_implemented');
  // chunked twice is not a coding we do not know, it is a malformed one
  await refused(`${LOGIN}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400,
    'bad_request', /malformed Transfer-Encoding/);
  await refused('POST /v1/auth/login HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'bad_request',
    /HTTP\/1\.0/);
});

test('chunked alone is still served, and so is a second request on the same connection', async () => {
  const body = `${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`;
  const answers = await served(`${LOGIN}Transfer-Encoding: chunked\r\n\r\n${body}${GET}Connection: close\r\n\r\n`, 401);
  assert.equal(answers.length, 2);
  assert.equal(answers[1].status, 200);
});

test('Host: missing on HTTP/1.1 -> 400; two Host lines -> 400; HTTP/1.0 without Host is served', async () => {
  await refused('GET /healthz HTTP/1.1\r\n\r\n', 400, 'bad_request', /Host header required/);
  await refused(`${GET}Host: other.test\r\n\r\n`, 400, 'bad_request', /more than one Host/);
  await served('GET /healthz HTTP/1.0\r\n\r\n');
});

test('control characters in a header value -> 400 and closed; tab, obs-text and a normal head are served', async () => {
  for (const bad of ['a\rb', 'a\x01b', 'a\x1fb', 'a\x7fb', 'a\x00b', '\x00', 'chunked\x00gzip']) {
    await refused(Buffer.from(`${GET}X-Test: ${bad}\r\n\r\n`, 'latin1'), 400, 'bad_request');
  }
  // a NUL inside a framing header: what follows it must not vanish
  await refused(Buffer.from(`${LOGIN}Content-Length: 2\x001000\r\n\r\n{}`, 'latin1'), 400, 'bad_request');
  // a folded line (obs-fold): MHD would drop the continuation a proxy keeps
  await refused(`${GET}X-Test: a\r\n  b\r\n\r\n`, 400, 'bad_request', /folded/);
  // whitespace before the colon, a name that is not a token
  await refused(`${GET}X-Test : a\r\n\r\n`, 400, 'bad_request');
  await refused(`${GET}X(Test): a\r\n\r\n`, 400, 'bad_request');
  await served(Buffer.from(`${GET}X-Test: a\tb \xe9\r\nCookie: a=1; b=2\r\nX-Empty:\r\nConnection: close\r\n\r\n`,
    'latin1'));
});

test('a rejected head closes only its own connection: the next client is served', async () => {
  await refused(`${GET}X-Test: a\x01\r\n\r\n`, 400, 'bad_request');
  assert.equal((await stack.api('GET', '/healthz')).status, 200);
  assert.match(stack.apiLog(), /"msg":"refusing a request head"/);
});

// ---------------------------------------------------------------- deadlines

test('slowloris: a head trickled past HTTP_HEAD_TIMEOUT is cut unanswered at the deadline', async () => {
  // one header line every 250 ms, never the empty line: at most 40 lines in 10 s
  const pieces = ['GET /healthz HTTP/1.1\r\nHost: api.test\r\n'];
  for (let i = 0; i < 40; i++) pieces.push(250, `X-Slow-${i}: ${i}\r\n`);
  const r = await exchange(pieces, { limitMs: 10000 });
  assert.ok(r.closed, `closed by the server (after ${r.ms} ms)`);
  assert.equal(r.text, '', 'no answer at all');
  assert.ok(r.ms >= HEAD_TIMEOUT_S * 1000 - 200, `not before the deadline: ${r.ms} ms`);
  assert.ok(r.ms < HEAD_TIMEOUT_S * 1000 + 1500, `soon after the deadline: ${r.ms} ms`);
  await waitFor(() => /request head not complete in time/.test(stack.apiLog()), { timeoutMs: 2000, what: 'the log line' });
});

test('a head that arrives slowly but within the deadline is served; an idle keep-alive connection is closed after it', async () => {
  const r = await exchange(['GET /healthz HTTP/1.1\r\n', 300, 'Host: api.test\r\n', 300, '\r\n'],
    { limitMs: HEAD_TIMEOUT_S * 1000 + 3000 });
  const answers = responses(r.text);
  assert.equal(answers.length, 1);
  assert.equal(answers[0].status, 200);
  // the client hears how long an idle connection is kept
  assert.equal(answers[0].headers['keep-alive'], `timeout=${HEAD_TIMEOUT_S}`);
  assert.ok(r.closed, 'the idle keep-alive connection was closed');
  assert.ok(r.ms >= HEAD_TIMEOUT_S * 1000, `kept for the head deadline first: ${r.ms} ms`);
});

function listFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

test('an upload body slower than HTTP_BODY_MIN_RATE is cut, the partial file removed, no run recorded', async () => {
  const boundary = 'slowUploadBoundary';
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.txt"\r\n` +
    'Content-Type: text/plain\r\n\r\n';
  const total = 200000;
  const pieces = [
    `POST /v1/ingest HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer ${A.token}\r\n` +
    `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${total}\r\n\r\n`,
    head, 'x'.repeat(2000),
  ];
  // then 20 bytes every 200 ms (100 B/s against a minimum of 1000 B/s): at most 50 pieces
  for (let i = 0; i < 50; i++) pieces.push(200, 'y'.repeat(20));
  const runsBefore = (await stack.sql('SELECT count(*)::int AS n FROM ingestion_runs'))[0].n;
  let sawPartial = false;
  const watcher = setInterval(() => { if (listFiles(stack.uploadDir).length) sawPartial = true; }, 50);
  const r = await exchange(pieces, { limitMs: 10000 });
  clearInterval(watcher);
  assert.ok(r.closed, `closed by the server (after ${r.ms} ms)`);
  assert.equal(responses(r.text).filter((a) => a.status < 300).length, 0, `no success answer: ${r.text}`);
  assert.ok(r.ms < 5000, `cut within a few windows: ${r.ms} ms`);
  assert.ok(sawPartial, 'the upload had reached the disk before it was cut');
  await waitFor(() => listFiles(stack.uploadDir).length === 0, { timeoutMs: 3000, what: 'the partial upload removed' });
  assert.equal((await stack.sql('SELECT count(*)::int AS n FROM ingestion_runs'))[0].n, runsBefore);
  assert.match(stack.apiLog(), /request body slower than the minimum rate/);
  // a normal upload still goes through
  const ok = await stack.upload({ token: A.token, filename: 'fast.txt', content: 'fast enough' });
  assert.equal(ok.status, 202, ok.text);
});

// ---------------------------------------------------------------- connections per address

// A kept-open connection from addr that has had one answer (so the server has it for sure).
function openConnection(addr) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port: stack.apiPort, localAddress: addr });
    let text = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer on a connection from ${addr}`)); }, 3000);
    sock.on('data', (d) => {
      text += d;
      if (responses(text).length) { clearTimeout(timer); resolve(sock); }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('connect', () => sock.write(`${GET}\r\n`));
  });
}

test(`HTTP_MAX_CONN_PER_ADDR: the ${MAX_PER_ADDR + 1}th connection from one address is refused, another address is served`, async () => {
  const held = [];
  try {
    for (let i = 0; i < MAX_PER_ADDR; i++) held.push(await openConnection('127.0.0.2'));
    const over = await exchange([`${GET}Connection: close\r\n\r\n`], { localAddress: '127.0.0.2', limitMs: 3000 });
    assert.ok(over.closed, 'closed by the server');
    assert.equal(responses(over.text).length, 0, `no answer: ${over.text}`);
    // another address is not affected
    await served(`${GET}Connection: close\r\n\r\n`);
    const other = await exchange([`${GET}Connection: close\r\n\r\n`], { localAddress: '127.0.0.3', limitMs: 3000 });
    assert.equal(responses(other.text)[0]?.status, 200);
    // a slot freed is a slot again
    held.pop().destroy();
    await waitFor(async () => {
      const again = await exchange([`${GET}Connection: close\r\n\r\n`], { localAddress: '127.0.0.2', limitMs: 1000 });
      return responses(again.text)[0]?.status === 200;
    }, { timeoutMs: 1500, intervalMs: 100, what: 'a connection from 127.0.0.2 after one closed' });
    assert.match(stack.apiLog(), /too many open from one address/);
  } finally {
    for (const s of held) s.destroy();
  }
});

test('a trusted proxy has no per-address limit', async () => {
  const held = [];
  try {
    for (let i = 0; i < MAX_PER_ADDR + 2; i++) held.push(await openConnection(PROXY));
    assert.equal(held.length, MAX_PER_ADDR + 2);
  } finally {
    for (const s of held) s.destroy();
  }
});

// ---------------------------------------------------------------- client address behind a proxy

async function failedLoginFrom(addr, xff) {
  await stack.sql('DELETE FROM login_failures');
  const body = JSON.stringify({ tenant: 'alpha', email: A.email, password: 'wrong password' });
  const xffLines = (Array.isArray(xff) ? xff : xff ? [xff] : []).map((v) => `X-Forwarded-For: ${v}\r\n`).join('');
  const r = await exchange([`${LOGIN}Content-Length: ${body.length}\r\n${xffLines}Connection: close\r\n\r\n${body}`],
    { localAddress: addr, limitMs: 5000 });
  assert.equal(responses(r.text)[0]?.status, 401, r.text);
  const rows = await stack.sql("SELECT bucket FROM login_failures WHERE bucket LIKE 'ip:%'");
  assert.equal(rows.length, 1);
  return rows[0].bucket.slice(3);
}

test('X-Forwarded-For is believed only from TRUSTED_PROXIES, right-most untrusted entry first', async () => {
  // a direct client cannot choose its address
  assert.equal(await failedLoginFrom('127.0.0.6', '198.51.100.99'), '127.0.0.6');
  // through the trusted proxy: the address the proxy saw, not what the client wrote before it
  assert.equal(await failedLoginFrom(PROXY, '203.0.113.9, 198.51.100.7'), '198.51.100.7');
  // a second proxy inside 10.0.0.0/8 is skipped
  assert.equal(await failedLoginFrom(PROXY, '203.0.113.9, 198.51.100.7, 10.1.2.3'), '198.51.100.7');
  // a client's own header line comes first; the proxy's line is the one read
  assert.equal(await failedLoginFrom(PROXY, ['198.51.100.1', '198.51.100.7']), '198.51.100.7');
  // the proxy without the header: the proxy itself
  assert.equal(await failedLoginFrom(PROXY, null), PROXY);
  // garbage from the client stops the walk at the last trusted hop
  assert.equal(await failedLoginFrom(PROXY, 'not-an-address, 10.0.0.7'), '10.0.0.7');
  // IPv6 clients come out canonical
  assert.equal(await failedLoginFrom(PROXY, '2001:DB8:0::7'), '2001:db8::7');
  await stack.sql('DELETE FROM login_failures');
});

test('a TRUSTED_PROXIES value that is not an address list stops core-api at start (exit 2, named)', async () => {
  // bounded: if the value were taken, serve would run until killed
  const r = await new Promise((resolve) => {
    const child = spawn(stack.bin('core-api'), ['serve'], {
      env: { ...stack.env, TRUSTED_PROXIES: '10.0.0.0/8, proxy.example', HTTP_ADDR: '127.0.0.1:0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stderr }); });
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /TRUSTED_PROXIES: invalid value/);
  const c = await stack.runApi(['config']);
  for (const name of ['HTTP_HEAD_TIMEOUT', 'HTTP_BODY_MIN_RATE', 'HTTP_BODY_RATE_WINDOW', 'HTTP_MAX_CONN_PER_ADDR',
    'TRUSTED_PROXIES']) {
    assert.match(c.stdout, new RegExp(`^${name} `, 'm'));
  }
});
