// Row-level security, the second wall of tenant isolation (db/migrations/0006_rls.sql).
// Each application role, connected as the programs connect (the app login, SET ROLE)
// and with app.tenant_id set to one tenant, sees and writes only that tenant's rows in
// every relation with a tenant_id column, with NO tenant predicate in the query; with
// the setting unset or cleared it sees nothing. The relations are listed from
// information_schema, so a future table without a policy fails here. Also: the roles
// own nothing and bypass nothing; the cross-tenant functions are the documented ones;
// the migration applies to a database that already has rows; and the C pool gives
// every connection back without its tenant (tests/integration/c/test_db_tenant.c).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startStack, ROOT } from '../lib/stack.mjs';

const ROLES = ['core_api', 'ingest_worker'];
// Every SECURITY DEFINER function, each a documented exception (docs/decisions.md, Security).
const DEFINER = {
  deactivate_document_versions: { owner: 'ingest_worker', callers: ['core_api', 'ingest_worker'] },
  activate_document_version: { owner: 'ingest_worker', callers: ['core_api', 'ingest_worker'] },
  tenant_id_by_slug: { callers: ['core_api'] },
  run_status_counts: { callers: ['core_api'] },
  stale_run_tenants: { callers: ['core_api'] },
  expire_idempotency_keys: { callers: ['core_api'] },
  // Migration 0012 (S3 sources): the sync's two writes in the caller's tenant, and the schedule.
  source_object_run: { callers: ['ingest_worker'] },
  source_object_removed: { callers: ['ingest_worker'] },
  due_source_syncs: { callers: ['core_api'] },
  // Migration 0011 (extraction): the title from the file's metadata, in the caller's tenant only.
  document_title_from_file: { callers: ['ingest_worker'] },
  // Migration 0017: the search index's pending list merged after a write (reads no row).
  chunks_index_merge: { callers: ['ingest_worker'] },
};
const C_BIN = path.resolve(ROOT, process.env.BUILD_DIR ?? 'build', 'tests/integration/c/test_db_tenant');

let stack;
const T = {};   // slug -> {tenant, user, doc, run, version, chunks: [...]}

before(async () => {
  stack = await startStack({ api: false });
  const q = (text, params) => stack.sql(text, params);
  T.a = await seedTenant(q, 'rls-a', 2);
  T.b = await seedTenant(q, 'rls-b', 1);
  T.c = await seedTenant(q, 'rls-c', 3);
});
after(async () => { await stack?.stop(); });

// One row in every tenant-owned table (nChunks chunks and embeddings), as the superuser.
async function seedTenant(q, slug, nChunks) {
  const [t] = await q('INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING tenant_id::text', [slug]);
  const tenant = t.tenant_id;
  const [u] = await q(`INSERT INTO users (tenant_id, email, password_hash, role)
    VALUES ($1, $2, 'x', 'admin') RETURNING user_id::text`, [tenant, `admin@${slug}.test`]);
  const [d] = await q(`INSERT INTO documents (tenant_id, source_type, source_uri)
    VALUES ($1, 'upload', 'upload://' || $2) RETURNING doc_id::text`, [tenant, slug]);
  const [r] = await q(`INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status, content_hash)
    VALUES (gen_random_uuid(), $1, $2, 'succeeded', md5($3)) RETURNING run_id::text`, [tenant, d.doc_id, slug]);
  await q(`INSERT INTO idempotency_keys (user_id, key, tenant_id, status, response)
    VALUES ($1, 'k', $2, 200, '{}')`, [u.user_id, tenant]);
  const [v] = await q(`INSERT INTO document_versions (tenant_id, doc_id, run_id, content_hash, is_active, byte_size,
    mime, uploaded_at) VALUES ($1, $2, $3, md5($4), true, 1, 'text/plain', now()) RETURNING version_id::text`,
  [tenant, d.doc_id, r.run_id, slug]);
  // Sources exist from migration 0012 on (the upgrade test below seeds a 0005 database).
  const [hasSources] = await q("SELECT to_regclass('public.sources') IS NOT NULL AS ok");
  if (hasSources.ok) await seedSource(q, tenant, slug, d.doc_id);
  // A vector is a real[] before migration 0021 and its big-endian float4 bytes from it on: (1, 0) either way.
  const [col] = await q(`SELECT data_type FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name = 'chunk_embeddings' AND column_name = 'vector'`);
  const vec = col.data_type === 'bytea' ? "'\\x3f80000000000000'::bytea" : "'{1,0}'::real[]";
  const chunks = [];
  for (let i = 0; i < nChunks; i++) {
    const [c] = await q(`INSERT INTO chunks (tenant_id, doc_id, version_id, ordinal, text, char_start, char_end)
      VALUES ($1, $2, $3, $4, 'refund policy of ' || $5, 0, 10) RETURNING chunk_id::text`,
    [tenant, d.doc_id, v.version_id, i, slug]);
    await q(`INSERT INTO chunk_embeddings (chunk_id, tenant_id, model, dim, vector)
      VALUES ($1, $2, 'm', 2, ${vec})`, [c.chunk_id, tenant]);
    chunks.push(c.chunk_id);
  }
  return { tenant, user: u.user_id, doc: d.doc_id, run: r.run_id, version: v.version_id, chunks, slug };
}

// One source with a sync and an object memory row (migration 0012), as the superuser.
async function seedSource(q, tenant, slug, doc) {
  const [s] = await q(`INSERT INTO sources (tenant_id, name, bucket) VALUES ($1, 's', 'bucket-' || $2)
    RETURNING source_id::text`, [tenant, slug]);
  await q(`INSERT INTO source_syncs (tenant_id, source_id, trigger, status) VALUES ($1, $2, 'manual', 'succeeded')`,
    [tenant, s.source_id]);
  await q(`INSERT INTO source_objects (source_id, tenant_id, key, etag, size, last_modified, doc_id)
    VALUES ($1, $2, 'k', 'e', 1, 't', $3)`, [s.source_id, tenant, doc]);
}

// As the programs connect: the application login, SET ROLE, then (if given) the tenant.
async function asRole(role, tenant, fn, url = stack.appUrl) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`SET ROLE ${role}`);
    if (tenant !== undefined) await c.query("SELECT set_config('app.tenant_id', $1, false)", [tenant]);
    return await fn(c);
  } finally {
    await c.end();
  }
}

// Every relation of the public schema with a tenant_id column: {name, kind: 'BASE TABLE' | 'VIEW'}.
async function tenantRelations(q = (t, p) => stack.sql(t, p)) {
  return q(`SELECT c.table_name AS name, t.table_type AS kind
      FROM information_schema.columns c
      JOIN information_schema.tables t USING (table_schema, table_name)
     WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id'
     ORDER BY 1`);
}

const priv = async (role, rel, what) =>
  (await stack.sql('SELECT has_table_privilege($1, $2, $3) AS ok', [role, `public.${rel}`, what]))[0].ok;

// A view's rows are its table's (it filters on the setting, which the superuser does not have).
const VIEW_OF = { tenant_chunks: 'chunks' };

async function countsByTenant(rel) {
  const from = VIEW_OF[rel] ?? rel;
  const rows = await stack.sql(`SELECT tenant_id::text AS t, count(*)::int AS n FROM "${from}" GROUP BY 1`);
  return Object.fromEntries(rows.map((r) => [r.t, r.n]));
}

const denied = (e) => e.code === '42501';
const rlsRefused = (e) => e.code === '42501' && /row-level security/.test(e.message);

test('the tenant-owned relations are the expected ones and every table has row-level security', async () => {
  const rels = await tenantRelations();
  assert.deepEqual(rels.map((r) => `${r.name}:${r.kind}`).sort(), [
    'chunk_embeddings:BASE TABLE', 'chunks:BASE TABLE', 'document_versions:BASE TABLE', 'documents:BASE TABLE',
    'idempotency_keys:BASE TABLE', 'ingestion_runs:BASE TABLE', 'tenant_chunks:VIEW', 'tenants:BASE TABLE',
    'users:BASE TABLE', 'term_stats:BASE TABLE', 'corpus_stats:BASE TABLE', 'sources:BASE TABLE', 'source_syncs:BASE TABLE', 'source_objects:BASE TABLE'].sort(), 'a new relation with tenant_id: give it a policy (0006_rls.sql) and list it here');
  for (const { name, kind } of rels) {
    if (kind !== 'BASE TABLE') continue;
    const [c] = await stack.sql('SELECT relrowsecurity FROM pg_class WHERE oid = $1::regclass', [`public.${name}`]);
    assert.equal(c.relrowsecurity, true, `${name}: row-level security enabled`);
    const pols = await stack.sql('SELECT roles::text[] AS roles, cmd, qual, with_check FROM pg_policies WHERE tablename = $1',
      [name]);
    assert.ok(pols.some((p) => p.cmd === 'ALL' && ROLES.every((r) => p.roles.includes(r))
      && /tenant_id = app_tenant_id\(\)/.test(p.qual) && /tenant_id = app_tenant_id\(\)/.test(p.with_check)),
    `${name}: a policy on tenant_id for ${ROLES}: ${JSON.stringify(pols)}`);
  }
});

test('the application roles own nothing, are not superusers and do not bypass row-level security', async () => {
  const roles = await stack.sql(`SELECT rolname, rolsuper, rolbypassrls FROM pg_roles
    WHERE rolname = ANY ($1) ORDER BY 1`, [ROLES]);
  assert.deepEqual(roles, ROLES.map((r) => ({ rolname: r, rolsuper: false, rolbypassrls: false })));
  const owned = await stack.sql(`SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
    WHERE c.relnamespace = 'public'::regnamespace AND r.rolname = ANY ($1)`, [ROLES]);
  assert.deepEqual(owned, []);
});

for (const role of ROLES) {
  test(`${role}: with one tenant set, a query without a tenant predicate sees only that tenant's rows`, async () => {
    for (const { name } of await tenantRelations()) {
      const all = await countsByTenant(name);
      if (!(await priv(role, name, 'SELECT'))) {
        await asRole(role, T.a.tenant, (c) => assert.rejects(c.query(`SELECT 1 FROM "${name}"`), denied, name));
        continue;
      }
      for (const who of [T.a, T.b, T.c]) {
        assert.ok(all[who.tenant] > 0 && Object.keys(all).length >= 3, `${name}: seeded for three tenants`);
        await asRole(role, who.tenant, async (c) => {
          const rows = (await c.query(`SELECT tenant_id::text AS t FROM "${name}"`)).rows;
          assert.equal(rows.length, all[who.tenant], `${role} ${name} as ${who.slug}: all of its rows`);
          assert.ok(rows.every((r) => r.t === who.tenant), `${role} ${name} as ${who.slug}: none of another tenant`);
          const [n] = (await c.query(`SELECT count(*)::int AS n FROM "${name}"`)).rows;
          assert.equal(n.n, all[who.tenant]);
        });
      }
    }
  });

  test(`${role}: without the setting, or with it cleared, no row is visible`, async () => {
    for (const { name } of await tenantRelations()) {
      if (!(await priv(role, name, 'SELECT'))) continue;
      await asRole(role, undefined, async (c) => {
        assert.equal((await c.query(`SELECT count(*)::int AS n FROM "${name}"`)).rows[0].n, 0, `${name}: never set`);
        await c.query("SELECT set_config('app.tenant_id', $1, false)", [T.a.tenant]);
        assert.ok((await c.query(`SELECT count(*)::int AS n FROM "${name}"`)).rows[0].n > 0, `${name}: set`);
        await c.query("SELECT set_config('app.tenant_id', '', false)");
        assert.equal((await c.query(`SELECT count(*)::int AS n FROM "${name}"`)).rows[0].n, 0, `${name}: cleared`);
        await c.query('RESET app.tenant_id');
        assert.equal((await c.query(`SELECT count(*)::int AS n FROM "${name}"`)).rows[0].n, 0, `${name}: reset`);
      });
    }
  });

  test(`${role}: an INSERT of another tenant's row is refused by the policy; its own gets past it`, async () => {
    let tried = 0;
    for (const { name, kind } of await tenantRelations()) {
      if (kind !== 'BASE TABLE' || !(await priv(role, name, 'INSERT'))) continue;
      tried++;
      const cols = (await stack.sql(`SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) AS c
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND is_generated = 'NEVER'`,
      [name]))[0].c;
      const rowOf = async (who) => (await stack.sql(`SELECT row_to_json(x)::text AS j FROM "${name}" x
        WHERE tenant_id = $1 LIMIT 1`, [who.tenant]))[0].j;
      const insert = `INSERT INTO "${name}" (${cols}) SELECT ${cols} FROM json_populate_record(NULL::"${name}", $1::json)`;
      const other = await rowOf(T.b);
      const own = await rowOf(T.a);
      await asRole(role, T.a.tenant, async (c) => {
        await assert.rejects(c.query(insert, [other]), rlsRefused, `${role} ${name}: B's row with A set`);
        // The same statement with A's own row passes the policy and stops at the primary key.
        await assert.rejects(c.query(insert, [own]), (e) => e.code === '23505', `${role} ${name}: A's row`);
      });
      await asRole(role, undefined, (c) => assert.rejects(c.query(insert, [own]), rlsRefused, `${name}: unset`));
    }
    assert.ok(tried > 0, `${role} may insert into some tenant-owned table`);
  });

  test(`${role}: UPDATE and DELETE without a tenant predicate touch only the set tenant's rows`, async () => {
    for (const { name, kind } of await tenantRelations()) {
      if (kind !== 'BASE TABLE') continue;
      const all = await countsByTenant(name);
      const [cols] = await stack.sql(`SELECT has_column_privilege($1, $2, 'tenant_id', 'UPDATE') AS move,
        has_table_privilege($1, $2, 'DELETE') AS del`, [role, `public.${name}`]);
      await asRole(role, T.a.tenant, async (c) => {
        if (cols.move) {
          await c.query('BEGIN');
          await assert.rejects(c.query(`UPDATE "${name}" SET tenant_id = $1`, [T.b.tenant]), rlsRefused,
            `${role} ${name}: moving rows to another tenant`);
          await c.query('ROLLBACK');
        }
        if (cols.del) {
          await c.query('BEGIN');
          const r = await c.query(`DELETE FROM "${name}"`);
          assert.equal(r.rowCount, all[T.a.tenant], `${role} ${name}: DELETE without a predicate`);
          await c.query('ROLLBACK');
        }
      });
    }
    // A column the worker may update (its run's progress): only the set tenant's runs change.
    if (role === 'ingest_worker') {
      await asRole(role, T.a.tenant, async (c) => {
        await c.query('BEGIN');
        const r = await c.query('UPDATE ingestion_runs SET updated_at = updated_at');
        assert.equal(r.rowCount, (await countsByTenant('ingestion_runs'))[T.a.tenant]);
        await c.query('ROLLBACK');
      });
    }
  });
}

test('the cross-tenant paths are the documented SECURITY DEFINER functions, callable by core_api only', async () => {
  const fns = await stack.sql(`SELECT p.proname, pg_get_userbyid(p.proowner) AS owner, p.proconfig,
      has_function_privilege('core_api', p.oid, 'EXECUTE') AS api,
      has_function_privilege('ingest_worker', p.oid, 'EXECUTE') AS worker,
      has_function_privilege('public', p.oid, 'EXECUTE') AS everyone
    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef ORDER BY 1`);
  assert.deepEqual(fns.map((f) => f.proname).sort(), Object.keys(DEFINER).sort(),
    'a new SECURITY DEFINER function: document it (docs/decisions.md) and list it here');
  for (const f of fns) {
    const want = DEFINER[f.proname];
    assert.ok((f.proconfig ?? []).some((s) => s.startsWith('search_path=')), `${f.proname}: fixed search_path`);
    assert.equal(f.api, want.callers.includes('core_api'), `${f.proname}: core_api`);
    assert.equal(f.worker, want.callers.includes('ingest_worker'), `${f.proname}: ingest_worker`);
    assert.equal(f.everyone, false, `${f.proname}: not PUBLIC`);
    if (want.owner) assert.equal(f.owner, want.owner);
    else assert.ok(!ROLES.includes(f.owner), `${f.proname}: owned by the migration login, not ${f.owner}`);
  }
  await asRole('core_api', undefined, async (c) => {
    const id = (await c.query('SELECT tenant_id_by_slug($1)::text AS t', [T.b.slug])).rows[0].t;
    assert.equal(id, T.b.tenant, 'login finds a tenant before any principal exists');
    assert.equal((await c.query("SELECT tenant_id_by_slug('no-such-slug') AS t")).rows[0].t, null);
    const counts = (await c.query('SELECT status, runs::int AS n FROM run_status_counts()')).rows;
    const total = (await stack.sql('SELECT count(*)::int AS n FROM ingestion_runs'))[0].n;
    assert.equal(counts.reduce((s, r) => s + r.n, 0), total, '/metrics counts every tenant');
    const stale = (await c.query("SELECT t::text FROM stale_run_tenants('succeeded', now() + interval '1 hour', 100) t"))
      .rows.map((r) => r.t);
    for (const who of [T.a, T.b, T.c]) assert.ok(stale.includes(who.tenant));
    assert.equal((await c.query("SELECT expire_idempotency_keys('-infinity')")).rows[0].expire_idempotency_keys, '0');
  });
  await asRole('ingest_worker', undefined, async (c) => {
    for (const sql of ["SELECT tenant_id_by_slug('x')", 'SELECT * FROM run_status_counts()',
      "SELECT expire_idempotency_keys('-infinity')"]) {
      await assert.rejects(c.query(sql), denied, sql);
    }
  });
});

test('the search view filters on the set tenant like the policies, and core-api may only read it', async () => {
  for (const who of [T.a, T.c]) {
    await asRole('core_api', who.tenant, async (c) => {
      const ids = (await c.query("SELECT chunk_id::text AS id FROM tenant_chunks WHERE tsv @@ 'refund'::tsquery")).rows;
      assert.deepEqual(ids.map((r) => r.id).sort(), [...who.chunks].sort());
      await assert.rejects(c.query(`INSERT INTO tenant_chunks (tenant_id, doc_id, version_id, ordinal, text, char_start,
        char_end) VALUES ($1, $2, $3, 99, 'x', 0, 1)`, [who.tenant, who.doc, who.version]), denied);
    });
  }
});

// search.c's candidate statement, as core-api sends it: its C string literals joined.
function candidatesSql() {
  const src = fs.readFileSync(path.join(ROOT, 'src/api/handlers/search.c'), 'utf8');
  const lit = /"((?:[^"\\]|\\.)*)"/g;
  const quote = src.match(/#define SEARCH_QUOTE_LEXEME (".*")\n/)[1];
  const body = src.match(/static struct db_stmt candidates_stmt = \{\n([\s\S]*?),\n\s*0\};\n/)[1]
    .replaceAll('SEARCH_QUOTE_LEXEME', quote)
    .replace(/SEARCH_STR\((\w+)\)/g, (_, name) => `"${src.match(new RegExp(`#define ${name} (\\S+)`))[1]}"`);
  return [...body.matchAll(lit)].map((m) => m[1]).join('').replace(/\\(.)/g, '$1');
}

const planUses = (plan, index) => JSON.stringify(plan).includes(`"Index Name":"${index}"`);

test('under the policies, search still finds candidates through the full-text index', async () => {
  const big = await seedTenant((text, params) => stack.sql(text, params), 'rls-big', 1);
  // 20000 chunks of ~1 kB of common words, one with a rare word: reading the tenant's chunks
  // means ~2500 pages, the index a handful, so the plan takes the index whenever it may.
  await stack.sql(`INSERT INTO chunks (tenant_id, doc_id, version_id, ordinal, text, char_start, char_end)
    SELECT $1, $2, $3, g, CASE WHEN g = 2500 THEN 'the zyxwvut clause' ELSE repeat('refund policy terms ', 50) || g END,
           0, 10
      FROM generate_series(1, 20000) g`, [big.tenant, big.doc, big.version]);
  await stack.sql('ANALYZE chunks');
  const sql = candidatesSql();
  assert.match(sql, /FROM \(SELECT m\.\* FROM tenant_chunks m/);
  // $2 every ranked lexeme, $3 the candidate ones (the rarest) joined by $5 (any of them), $4 the
  // most kept, as search.c passes them.
  const params = [big.tenant, '{zyxwvut,refund,term}', '{zyxwvut}', 200, ' | '];
  const explain = (c, text) => c.query(`EXPLAIN (FORMAT JSON) ${text}`, params).then((r) => r.rows[0]['QUERY PLAN']);
  await asRole('core_api', big.tenant, async (c) => {
    const rows = (await c.query(sql, params)).rows;
    assert.equal(rows.length, 1, 'the rare word\'s chunk is the one candidate');
    // A table this small is cheapest to read whole: ask which index the plan may use instead.
    await c.query('SET enable_seqscan = off');
    assert.ok(planUses(await explain(c, sql), 'chunks_tenant_tsv'), 'the per-tenant GIN index on tsv serves @@');
    // Control: the same match with the chunks joined to documents and versions at one query
    // level gives the index up (search.c matches them in a subquery of their own).
    const flat = `SELECT c.chunk_id FROM tenant_chunks c
        JOIN document_versions v ON v.version_id = c.version_id AND v.is_active AND v.tenant_id = $1
        JOIN documents d ON d.doc_id = c.doc_id AND d.tenant_id = $1 AND d.deleted_at IS NULL
       WHERE c.tenant_id = $1 AND c.tsv @@ (SELECT string_agg(l, $5)::tsquery FROM unnest($3::text[]) l)
         AND cardinality($2::text[]) > 0 AND $4::integer > 0`;
    assert.equal((await c.query(flat, params)).rows.length, 1, 'control: the flat statement finds the same chunk');
    assert.equal(planUses(await explain(c, flat), 'chunks_tenant_tsv'), false,
      'control: if PostgreSQL now uses the index here, search.c could drop its subquery');
  });
});

test('the migration applies to an existing database with rows of several tenants', async () => {
  const db = 'rls_upgrade';
  await stack.sql(`CREATE DATABASE ${db}`);
  const superUrl = stack.pg.url(db);
  const appUrl = stack.pg.url(db, 'ingest_app', 'ingest_app');
  // The migrations before this one, in a folder of their own.
  const older = fs.mkdtempSync(path.join(stack.dir, 'migrations-'));
  const files = fs.readdirSync(path.join(ROOT, 'db/migrations')).filter((f) => f.endsWith('.sql')).sort();
  for (const f of files.filter((n) => n < '0006')) fs.copyFileSync(path.join(ROOT, 'db/migrations', f), path.join(older, f));
  let r = await stack.runApi(['migrate'], { DATABASE_URL: superUrl, MIGRATIONS_DIR: older });
  assert.equal(r.code, 0, r.stderr);

  const c = new pg.Client({ connectionString: superUrl });
  await c.connect();
  const q = async (text, params) => (await c.query(text, params)).rows;
  let seeded;
  try {
    seeded = { a: await seedTenant(q, 'up-a', 2), b: await seedTenant(q, 'up-b', 1) };
    r = await stack.runApi(['migrate'], { DATABASE_URL: superUrl });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await q("SELECT version FROM schema_migrations WHERE version LIKE '0006%'"), [{ version: '0006_rls' }]);
    const rels = (await tenantRelations(q)).filter((x) => x.kind === 'BASE TABLE');
    assert.ok(rels.length >= 8);
    for (const { name } of rels) {
      const before_ = Object.fromEntries((await q(`SELECT tenant_id::text AS t, count(*)::int AS n FROM "${name}" GROUP BY 1`))
        .map((x) => [x.t, x.n]));
      for (const who of [seeded.a, seeded.b]) {
        await asRole('core_api', who.tenant, async (app) => {
          if (!(await app.query('SELECT has_table_privilege($1, \'SELECT\') AS ok', [`public.${name}`])).rows[0].ok) return;
          const rows = (await app.query(`SELECT tenant_id::text AS t FROM "${name}"`)).rows;
          // A table of a later migration (0012's sources) starts empty.
          assert.equal(rows.length, before_[who.tenant] ?? 0, `${name} as ${who.slug}: the existing rows, all kept`);
          assert.ok(rows.every((x) => x.t === who.tenant));
        }, appUrl);
      }
    }
    // 0021 converted the real[] vectors {1,0} to their float4 bytes, bit for bit.
    const vecs = await q('SELECT DISTINCT encode(vector, \'hex\') AS hex, dim FROM chunk_embeddings');
    assert.deepEqual(vecs, [{ hex: '3f80000000000000', dim: 2 }]);
    r = await stack.runApi(['migrate'], { DATABASE_URL: superUrl });
    assert.equal(r.code, 0, 'a second run is a no-op');
  } finally {
    await c.end();
  }
});

test('the crash guard works tenant by tenant: stale runs, orphan folders and old keys of every tenant', async () => {
  const stale = {};
  for (const who of [T.b, T.c]) {
    const missing = `file://${stack.uploadDir}/${who.tenant}/${crypto.randomUUID()}/gone.txt`;
    const [q] = await stack.sql(`INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status, config, updated_at)
      VALUES (gen_random_uuid(), $1, $2, 'queued', jsonb_build_object('upload_uri', $3::text), now() - interval '1 day')
      RETURNING run_id::text`, [who.tenant, who.doc, missing]);
    const [r] = await stack.sql(`INSERT INTO ingestion_runs (run_id, tenant_id, doc_id, status, attempt, started_at, updated_at)
      VALUES (gen_random_uuid(), $1, $2, 'running', 1, now() - interval '1 day', now() - interval '1 day')
      RETURNING run_id::text`, [who.tenant, who.doc]);
    await stack.sql(`INSERT INTO idempotency_keys (user_id, key, tenant_id, status, response, created_at)
      VALUES ($1, 'old', $2, 200, '{}', now() - interval '3 days')`, [who.user, who.tenant]);
    stale[who.slug] = { queued: q.run_id, running: r.run_id };
  }
  // Idle run folders: one without a run (B), one named after A's run but under C's folder
  // (a run folder belongs to its tenant's runs only), and one of C's own run (kept).
  const folder = (tenant, run) => {
    const dir = path.join(stack.uploadDir, tenant, run);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'f.txt'), 'x');
    const old = new Date(Date.now() - 86400_000);
    fs.utimesSync(path.join(dir, 'f.txt'), old, old);
    fs.utimesSync(dir, old, old);
    return dir;
  };
  const orphan = folder(T.b.tenant, crypto.randomUUID());
  const foreign = folder(T.c.tenant, T.a.run);
  const own = folder(T.c.tenant, T.c.run);

  const r = await stack.runApi(['crash-guard', '--now', '+2h']);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(out.stale_queued, 2, r.stdout);
  assert.equal(out.stale_running, 2, r.stdout);
  assert.equal(out.orphans_removed, 2, r.stdout);
  for (const who of [T.b, T.c]) {
    const rows = await stack.sql('SELECT run_id::text, status, error FROM ingestion_runs WHERE run_id = ANY ($1)',
      [[stale[who.slug].queued, stale[who.slug].running]]);
    assert.ok(rows.every((x) => x.status === 'failed'), JSON.stringify(rows));
    assert.ok(rows.some((x) => /^stale_queued: upload missing/.test(x.error)));
    assert.ok(rows.some((x) => /^stale_running: /.test(x.error)));
    assert.deepEqual((await stack.sql('SELECT key FROM idempotency_keys WHERE tenant_id = $1 ORDER BY key',
      [who.tenant])).map((x) => x.key), ['k'], 'the 3-day-old key gone, the fresh one kept');
  }
  assert.ok(!fs.existsSync(orphan) && !fs.existsSync(foreign));
  assert.ok(fs.existsSync(own));
});

test('the pool gives connections back without their tenant (test_db_tenant)', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(C_BIN), `${C_BIN} is missing: build it with make`);
  const { code, out } = await new Promise((resolve, reject) => {
    const child = spawn(C_BIN, [], {
      env: { ...process.env, TEST_DATABASE_URL: stack.appUrl, TEST_TENANT_A: T.a.tenant, TEST_TENANT_B: T.b.tenant,
        ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1:abort_on_error=0',
        UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? 'print_stacktrace=1:halt_on_error=1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d) => { text += d; });
    child.stderr.on('data', (d) => { text += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.on('error', reject);
    child.on('close', (exit) => { clearTimeout(timer); resolve({ code: exit, out: text }); });
  });
  assert.equal(code, 0, `test_db_tenant failed:\n${out}`);
  assert.doesNotMatch(out, /(Address|Leak)Sanitizer|runtime error:/);
});
