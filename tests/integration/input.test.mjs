// Input errors are 400 everywhere (security issue, input validation): invalid UTF-8
// and NUL bytes in every query parameter an endpoint reads, in every path id and in
// every JSON field; the same limit/offset bounds and messages on every list; and a
// bounded, seeded fuzz loop over the JSON bodies with random types. Never a 5xx,
// never a hang, and the server is healthy afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';

// Percent-encoded values that are not UTF-8 text: bytes that never start a character,
// a bad continuation, a surrogate (U+D800), a NUL alone and inside a value, an overlong
// "/", a code point above U+10FFFF, a stray continuation byte, a cut-off sequence.
const BAD = ['%ff%fe', '%c3%28', '%ed%a0%80', '%00', 'ok%00x', '%c0%af', '%f4%90%80%80', '%80', 'ok%c3'];

// The query parameters each list endpoint reads (docs/api.md), with a valid value.
const LISTS = {
  '/v1/ingestion-runs': { limit: '5', offset: '0', status: 'queued' },
  '/v1/documents': { limit: '5', offset: '0', title: 'x', include_inactive: 'true' },
  '/v1/users': { limit: '5', offset: '0' },
};

let stack;
let A;          // tenant acme, admin
let runId;      // a run of tenant acme
let docId;      // its document
let userId;     // a user of tenant acme (role user)

before(async () => {
  stack = await startStack({ worker: false });
  A = await stack.tenant('acme');
  const up = await stack.upload({ token: A.token, filename: 'a.txt', content: 'some words to ingest' });
  assert.equal(up.status, 202, up.text);
  runId = up.json.run_id;
  docId = up.json.doc_id;
  const u = await stack.api('POST', '/v1/users', { token: A.token,
    body: { email: 'someone@acme.test', password: 'correct horse battery', role: 'user' } });
  assert.equal(u.status, 201, u.text);
  userId = u.json.user.user_id;
});
after(async () => { await stack?.stop(); });

const get = (p) => stack.api('GET', p, { token: A.token });

function assertBadRequest(r, what) {
  assert.equal(r.status, 400, `${what}: ${r.status} ${r.text}`);
  assert.equal(r.json?.error?.code, 'bad_request', `${what}: ${r.text}`);
}

describe('query parameters', () => {
  test('every list endpoint answers its valid parameters with 200 (control)', async () => {
    for (const [p, params] of Object.entries(LISTS)) {
      const r = await get(`${p}?${new URLSearchParams(params)}`);
      assert.equal(r.status, 200, `${p}: ${r.text}`);
    }
  });

  test('invalid UTF-8 or a NUL in every parameter of every list: 400 naming the parameter', async () => {
    for (const [p, params] of Object.entries(LISTS)) {
      for (const key of Object.keys(params)) {
        for (const bad of BAD) {
          // the other parameters valid, so this one is the only reason to refuse
          const rest = new URLSearchParams(Object.entries(params).filter(([k]) => k !== key));
          const r = await get(`${p}?${rest}&${key}=${bad}`);
          assertBadRequest(r, `${p} ${key}=${bad}`);
          assert.match(r.json.error.message, new RegExp(`^${key} `), `${p} ${key}=${bad}: ${r.text}`);
        }
      }
    }
  });

  test('parameters an endpoint does not read are ignored, whatever their bytes: never a 5xx', async () => {
    const paths = [...Object.keys(LISTS), `/v1/ingestion-runs/${runId}`, `/v1/documents/${docId}`, '/v1/auth/me'];
    for (const p of paths) {
      for (const bad of BAD) {
        const r = await get(`${p}?tenant_id=${bad}&${bad}=${bad}`);
        assert.equal(r.status, 200, `${p} with an unknown parameter ${bad}: ${r.text}`);
      }
    }
    for (const bad of BAD) {
      const s = await stack.api('POST', `/v1/search?q=${bad}`, { token: A.token, body: { query: 'words' } });
      assert.equal(s.status, 200, `search ?q=${bad}: ${s.text}`);
    }
  });

  test('limit and offset: the same bounds and messages on every list', async () => {
    const cases = {
      'limit=0': 'limit must be an integer from 1 to 100',
      'limit=101': 'limit must be an integer from 1 to 100',
      'limit=5000': 'limit must be an integer from 1 to 100',
      'limit=-1': 'limit must be an integer from 1 to 100',
      'limit=1e3': 'limit must be an integer from 1 to 100',
      'limit=abc': 'limit must be an integer from 1 to 100',
      'limit=%201': 'limit must be an integer from 1 to 100',
      'offset=-1': 'offset must be an integer from 0 to 999999999',
      'offset=1.5': 'offset must be an integer from 0 to 999999999',
      'offset=1000000000': 'offset must be an integer from 0 to 999999999',
    };
    for (const p of Object.keys(LISTS)) {
      for (const [q, message] of Object.entries(cases)) {
        const r = await get(`${p}?${q}`);
        assertBadRequest(r, `${p}?${q}`);
        assert.equal(r.json.error.message, message, `${p}?${q}`);
      }
      for (const q of ['limit=1', 'limit=100', 'offset=999999999', 'limit=&offset=']) {
        const r = await get(`${p}?${q}`);
        assert.equal(r.status, 200, `${p}?${q}: ${r.text}`);
      }
      const page = await get(`${p}?limit=1&offset=0`);
      assert.equal(page.json.limit, 1, p);
      assert.equal(page.json.offset, 0, p);
      assert.equal(typeof page.json.total, 'number', p);
    }
  });

  test('GET /v1/users pages: total counts the whole tenant, past the end is an empty page', async () => {
    const all = await get('/v1/users');
    assert.equal(all.status, 200, all.text);
    assert.equal(all.json.limit, 100);
    assert.equal(all.json.total, all.json.users.length);
    assert.ok(all.json.total >= 2);
    const second = await get('/v1/users?limit=1&offset=1');
    assert.deepEqual(second.json.users.map((u) => u.user_id), [all.json.users[1].user_id]);
    assert.equal(second.json.total, all.json.total);
    const past = await get('/v1/users?offset=1000');
    assert.deepEqual(past.json.users, []);
    assert.equal(past.json.total, all.json.total);
  });

  test('include_inactive is true or false', async () => {
    for (const v of ['yes', '1', 'TRUE']) assertBadRequest(await get(`/v1/documents?include_inactive=${v}`), v);
    assert.equal((await get('/v1/documents?include_inactive=false')).status, 200);
  });
});

describe('path ids', () => {
  test('invalid UTF-8 or a NUL as an id: the documented 404 of every by-id route, never a 5xx', async () => {
    const routes = [
      ['GET', (id) => `/v1/ingestion-runs/${id}`],
      ['GET', (id) => `/v1/documents/${id}`],
      ['DELETE', (id) => `/v1/documents/${id}`],
      ['PATCH', (id) => `/v1/users/${id}`, { role: 'user' }],
    ];
    for (const [method, path, body] of routes) {
      for (const bad of [...BAD.filter((b) => !b.includes('%00')), `${runId.slice(0, 35)}%ff`, `${runId}%ff`]) {
        const r = await stack.api(method, path(bad), { token: A.token, body });
        assert.equal(r.status, 404, `${method} ${path(bad)}: ${r.status} ${r.text}`);
        assert.equal(r.json?.error?.code, 'not_found', `${method} ${path(bad)}`);
      }
      // libmicrohttpd hands the server a path cut at a decoded %00: "/v1/documents/%00"
      // is "/v1/documents/" by then. Not refused yet (src/api/http/), never a 5xx.
      for (const bad of ['%00', 'x%00y']) {
        const r = await stack.api(method, path(bad), { token: A.token, body });
        assert.ok(r.status < 500, `${method} ${path(bad)}: ${r.status} ${r.text}`);
      }
    }
    // control: the real ids are found
    assert.equal((await get(`/v1/ingestion-runs/${runId}`)).status, 200);
    assert.equal((await get(`/v1/documents/${docId}`)).status, 200);
  });
});

// ---------------------------------------------------------------- JSON bodies

// The JSON bodies of the API, each field with a valid value (the control).
const BODIES = () => ({
  login: ['POST', '/v1/auth/login', { tenant: 'acme', email: 'admin@acme.test', password: 'wrong password' }, null],
  search: ['POST', '/v1/search', { query: 'words', top_k: 3 }, A.token],
  create: ['POST', '/v1/users', { email: 'new@acme.test', password: 'correct horse battery', role: 'user' }, A.token],
  patch: ['PATCH', `/v1/users/${userId}`, { role: 'user', is_active: true, password: 'correct horse battery' }, A.token],
});

// A field's value written as raw JSON text: what JSON.stringify cannot produce.
const RAW_STRINGS = [
  '"\\ud800"',            // a lone high surrogate
  '"\\udc00\\ud800"',     // surrogates in the wrong order
  '"a\\u0000b"',          // a NUL inside a string
  '"\\uZZZZ"',            // not an escape
];
// Bytes that are not UTF-8, inside a string.
const RAW_BYTES = [[0xff, 0xfe], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf]];

// A body of fields with one field's value replaced by raw JSON text or raw bytes.
function rawBody(fields, key, raw) {
  const parts = Object.entries(fields).map(([k, v]) =>
    Buffer.concat([Buffer.from(`${JSON.stringify(k)}:`), k === key ? Buffer.from(raw) : Buffer.from(JSON.stringify(v))]));
  return Buffer.concat([Buffer.from('{'), ...parts.flatMap((p, j) => (j ? [Buffer.from(','), p] : [p])), Buffer.from('}')]);
}

// Each of RAW_BYTES as the bytes of a JSON string.
const rawByteStrings = () => RAW_BYTES.map((b) => Buffer.concat([Buffer.from('"x'), Buffer.from(b), Buffer.from('"')]));

function send(method, p, token, raw) {
  return stack.api(method, p, { token, raw, headers: { 'content-type': 'application/json' } });
}

describe('JSON bodies', () => {
  test('invalid UTF-8, surrogate escapes and NUL in every field of every body: 400', async () => {
    for (const [name, [method, p, fields, token]] of Object.entries(BODIES())) {
      for (const key of Object.keys(fields)) {
        for (const raw of [...RAW_STRINGS, ...rawByteStrings()]) {
          const r = await send(method, p, token, rawBody(fields, key, raw));
          assertBadRequest(r, `${name}.${key} = ${Buffer.from(raw).toString('hex')}`);
        }
      }
    }
  });

  test(`fuzz: random types in every field of every body: always a 4xx, never a 5xx or a hang`, async (t) => {
    const seed = Number(process.env.FUZZ_SEED ?? 20240229);
    const iterations = Number(process.env.FUZZ_ITERATIONS ?? 300);
    t.diagnostic(`fuzz seed ${seed}, ${iterations} iterations (FUZZ_SEED, FUZZ_ITERATIONS to replay)`);
    console.log(`# input fuzz: seed ${seed}, ${iterations} iterations`);
    const rnd = mulberry32(seed);
    const pick = (a) => a[Math.floor(rnd() * a.length)];
    const bodies = BODIES();
    const seen = {};
    for (let i = 0; i < iterations; i++) {
      const [name, [method, p, fields, token]] = pick(Object.entries(bodies));
      const { text, what } = fuzzBody(rnd, pick, fields);
      const label = `iteration ${i} (seed ${seed}) ${name}: ${what}`;
      const r = await withTimeout(send(method, p, token, text), 10000, label);
      assert.ok(r.status >= 400 && r.status < 500, `${label}: ${r.status} ${r.text.slice(0, 300)}`);
      assert.equal(typeof r.json?.error?.code, 'string', `${label}: ${r.text.slice(0, 300)}`);
      seen[r.status] = (seen[r.status] ?? 0) + 1;
    }
    t.diagnostic(`answers: ${JSON.stringify(seen)}`);
    // still healthy: the process answers, the database and the session work
    assert.equal((await stack.api('GET', '/healthz')).status, 200);
    assert.equal((await get('/v1/auth/me')).status, 200);
    const s = await stack.api('POST', '/v1/search', { token: A.token, body: { query: 'words' } });
    assert.equal(s.status, 200, s.text);
    const u = await stack.api('PATCH', `/v1/users/${userId}`, { token: A.token, body: {} });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.json.user.email, 'someone@acme.test', 'the fuzz changed no user');
  });
});

// p, or a failure naming what hung after ms.
async function withTimeout(p, ms, what) {
  let timer;
  const hang = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms: ${what}`)), ms); });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

// A small seeded PRNG (mulberry32): the same seed, the same bodies.
function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Values no field accepts whatever the field: wrong types, strings over every
// length limit (1024 bytes), text JSON itself refuses.
function refusedValue(rnd, pick) {
  const kinds = [
    () => '0', () => '-1', () => '1.5', () => '1e308', () => '-0',
    () => String(Math.floor(rnd() * 2 ** 53)), () => '[]', () => '[1,"a",null]', () => '{}',
    () => '{"a":{"b":[{}]}}', () => JSON.stringify('a'.repeat(2000 + Math.floor(rnd() * 5000))),
    () => JSON.stringify('é'.repeat(70000)), () => '"\\ud800"', () => '"\\udfff\\ud800"', () => '"\\u0000"',
    () => '['.repeat(3000) + ']'.repeat(3000), () => '"\\x41"', () => 'NaN', () => '0x10', () => '"a\u0001"',
  ];
  return pick(kinds)();
}

// Any value: the refused ones, and null, booleans and strings some fields accept.
function anyValue(rnd, pick) {
  const strings = ['null', 'true', 'false', '""', '"x"', '"no-at-sign"', '"short"', '"root"', JSON.stringify('\u0001\u0007\u001f'),
    JSON.stringify('a'.repeat(1 + Math.floor(rnd() * 1500)))];
  return rnd() < 0.5 ? pick(strings) : refusedValue(rnd, pick);
}

// A body for fields: each field absent, valid or any value; sometimes not an object
// at all. One field always gets a refused value, so no body is a valid request.
function fuzzBody(rnd, pick, fields) {
  const keys = Object.keys(fields);
  const r = rnd();
  if (r < 0.05) return { text: pick(['[]', '"text"', '42', 'null', '', '{', '{"a":1,"a":2}', '{"a":1}x']), what: 'not an object' };
  if (r < 0.08) return { text: `{"${keys[0]}":"${'y'.repeat(1 << 20)}"}`, what: 'over the body limit' };
  const bad = pick(keys);
  const entries = [];
  const what = [];
  for (const k of keys) {
    const c = rnd();
    let v;
    if (k === bad) v = refusedValue(rnd, pick);
    else if (c < 0.3) continue;
    else if (c < 0.6) v = JSON.stringify(fields[k]);
    else v = anyValue(rnd, pick);
    entries.push(`${JSON.stringify(k)}:${v}`);
    what.push(`${k}=${v.length > 40 ? `${v.slice(0, 40)}...(${v.length})` : v}`);
  }
  if (rnd() < 0.1) entries.push(`${JSON.stringify(pick(['tenant_id', 'extra', '']))}:${anyValue(rnd, pick)}`);
  return { text: `{${entries.join(',')}}`, what: what.join(' ') };
}
