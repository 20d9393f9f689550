// Platform: migrations, the one-active-version index, the database write split
// between the two roles (DESIGN invariant 5), and start-up configuration checks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { startStack, ROOT } from '../lib/stack.mjs';

let stack;
before(async () => { stack = await startStack({ api: false }); });
after(async () => { await stack?.stop(); });

// As the programs connect: the app login, SET ROLE, and (row-level security) the tenant.
async function asRole(role, fn, tenant) {
  const c = new pg.Client({ connectionString: stack.appUrl });
  await c.connect();
  try {
    await c.query(`SET ROLE ${role}`);
    if (tenant) await c.query("SELECT set_config('app.tenant_id', $1, false)", [tenant]);
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function expectDenied(promise) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, '42501', `expected insufficient_privilege, got ${e.code} ${e.message}`);
    return true;
  });
}

async function schemaFingerprint() {
  const rows = await stack.sql(`
    SELECT string_agg(x, ',' ORDER BY x) AS f FROM (
      SELECT table_name || '.' || column_name || ':' || data_type AS x FROM information_schema.columns WHERE table_schema = 'public'
      UNION ALL SELECT indexname FROM pg_indexes WHERE schemaname = 'public'
      UNION ALL SELECT version FROM schema_migrations) s`);
  return rows[0].f;
}

test('migrations applied again change nothing', async () => {
  const before_ = await schemaFingerprint();
  const applied = await stack.sql('SELECT count(*)::int AS n FROM schema_migrations');
  assert.ok(applied[0].n >= 2, 'both migration files recorded');
  const r = await stack.runApi(['migrate'], { DATABASE_URL: stack.superUrl });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await schemaFingerprint(), before_);
  const again = await stack.sql('SELECT count(*)::int AS n FROM schema_migrations');
  assert.equal(again[0].n, applied[0].n);
});

async function seedDocument() {
  const [t] = await stack.sql("INSERT INTO tenants (slug, name) VALUES ($1, 'T') RETURNING tenant_id",
    [`t${crypto.randomBytes(4).toString('hex')}`]);
  const [d] = await stack.sql(`INSERT INTO documents (tenant_id, source_type, source_uri)
    VALUES ($1, 'upload', 'upload://sha256:' || md5(random()::text)) RETURNING doc_id`, [t.tenant_id]);
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const [r] = await stack.sql(`INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status)
      VALUES (gen_random_uuid(), $1, $2, 'running') RETURNING run_id`, [t.tenant_id, d.doc_id]);
    runs.push(r.run_id);
  }
  return { tenant: t.tenant_id, doc: d.doc_id, runs };
}

const versionSql = `INSERT INTO document_versions
  (tenant_id, doc_id, run_id, content_hash, is_active, byte_size, mime, uploaded_at)
  VALUES ($1, $2, $3, 'h', $4, 1, 'text/plain', now())`;

test('the partial unique index rejects a second active version', async () => {
  const s = await seedDocument();
  await stack.sql(versionSql, [s.tenant, s.doc, s.runs[0], true]);
  await assert.rejects(stack.sql(versionSql, [s.tenant, s.doc, s.runs[1], true]),
    (e) => e.code === '23505' && /document_versions_one_active/.test(e.message));
  await stack.sql(versionSql, [s.tenant, s.doc, s.runs[1], false]);   // an inactive one is fine
});

test('core-api role is refused writes to content tables', async () => {
  const s = await seedDocument();
  await asRole('core_api', async (c) => {
    await expectDenied(c.query(versionSql, [s.tenant, s.doc, s.runs[0], true]));
    await expectDenied(c.query(`INSERT INTO chunks (tenant_id, doc_id, version_id, ordinal, text, char_start, char_end)
      VALUES ($1, $2, gen_random_uuid(), 0, 'x', 0, 1)`, [s.tenant, s.doc]));
    await expectDenied(c.query('UPDATE document_versions SET is_active = false'));
    await expectDenied(c.query('DELETE FROM chunk_embeddings'));
    // its own tables are writable
    assert.equal((await c.query("UPDATE documents SET title = 'ok' WHERE doc_id = $1", [s.doc])).rowCount, 1);
  }, s.tenant);
});

test('worker role is refused writes to users, documents and run configuration', async () => {
  const s = await seedDocument();
  await asRole('ingest_worker', async (c) => {
    await expectDenied(c.query(`INSERT INTO users (tenant_id, email, password_hash, role)
      VALUES ($1, 'x@y.z', 'h', 'admin')`, [s.tenant]));
    await expectDenied(c.query(`INSERT INTO documents (tenant_id, source_type, source_uri)
      VALUES ($1, 'upload', 'upload://x')`, [s.tenant]));
    await expectDenied(c.query("UPDATE documents SET title = 'x'"));
    await expectDenied(c.query("UPDATE ingestion_runs SET config = '{}'"));
    await expectDenied(c.query(`INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status)
      VALUES (gen_random_uuid(), $1, $2, 'queued')`, [s.tenant, s.doc]));
    // what it may do: content rows and the run's status columns
    await c.query(versionSql, [s.tenant, s.doc, s.runs[0], true]);
    const done = await c.query("UPDATE ingestion_runs SET status = 'succeeded', finished_at = now() WHERE run_id = $1",
      [s.runs[0]]);
    assert.equal(done.rowCount, 1);
  }, s.tenant);
});

function runBin(name, env) {
  return spawnSync(path.join(stack.buildDir, name), [], {
    env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 10000, cwd: ROOT,
  });
}

test('a missing or out-of-range variable stops each program with exit 2 naming it', () => {
  const base = {
    DATABASE_URL: stack.appUrl, SQS_INGEST_QUEUE_URL: stack.sqs.queueUrl, AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test', JWT_SECRET: 'x'.repeat(40), HTTP_ADDR: '127.0.0.1:1',
  };
  for (const prog of ['core-api', 'ingest-worker']) {
    const { DATABASE_URL, ...noDb } = base;
    let r = runBin(prog, noDb);
    assert.equal(r.status, 2, `${prog} without DATABASE_URL: ${r.error ?? r.stderr}`);
    assert.match(r.stderr, /DATABASE_URL/);

    r = runBin(prog, { ...base, MAX_UPLOAD_BYTES: '0' });
    assert.equal(r.status, 2, `${prog} MAX_UPLOAD_BYTES=0: ${r.stderr}`);
    assert.match(r.stderr, /MAX_UPLOAD_BYTES/);

    r = runBin(prog, { ...base, LOG_LEVEL: 'chatty' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /LOG_LEVEL/);
  }
  let r = runBin('ingest-worker', { ...base, WORKER_CONCURRENCY: '1000' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /WORKER_CONCURRENCY/);
  r = runBin('core-api', { ...base, JWT_SECRET: 'short' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /JWT_SECRET/);
  r = runBin('core-api', { ...base, QUEUED_TTL: 'forever' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /QUEUED_TTL/);
});
