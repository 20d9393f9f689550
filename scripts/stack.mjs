// The local stack: PostgreSQL (cluster in var/pg, kept between runs), the SQS
// emulator with the ingest queue and its DLQ (in memory, recreated at each start),
// migrations, a demo tenant, core-api on :8000 and one ingest-worker.
//
//   node scripts/stack.mjs up      foreground; Ctrl-C stops everything
//   node scripts/stack.mjs status  what is running
//
// scripts/dev.sh wraps it (install, build, detached mode, stop). Ports and names
// come from the environment: see docs/operations.md.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgCluster } from '../tests/lib/pg-cluster.mjs';
import { startSqs } from '../tests/lib/sqs-emulator.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VAR = path.resolve(ROOT, process.env.DEV_VAR_DIR ?? 'var');
const BUILD = path.resolve(ROOT, process.env.BUILD_DIR ?? 'build');
const API_PORT = Number(process.env.DEV_API_PORT ?? 8000);
const PG_PORT = Number(process.env.DEV_PG_PORT ?? 55432);
const SQS_PORT = Number(process.env.DEV_SQS_PORT ?? 4566);
const TENANT = process.env.DEV_TENANT ?? 'demo';
const ADMIN_EMAIL = process.env.DEV_ADMIN_EMAIL ?? 'admin@demo.test';
const ADMIN_PASSWORD = process.env.DEV_ADMIN_PASSWORD ?? 'demo-password-123';

function log(msg) {
  process.stdout.write(`[stack] ${msg}\n`);
}

function die(msg) {
  process.stderr.write(`[stack] error: ${msg}\n`);
  process.exit(1);
}

async function portBusy(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

function secret() {
  // One JWT secret per checkout, kept in var/ so sessions survive restarts.
  const f = path.join(VAR, 'jwt_secret');
  if (!fs.existsSync(f)) fs.writeFileSync(f, crypto.randomBytes(32).toString('hex'), { mode: 0o600 });
  return fs.readFileSync(f, 'utf8').trim();
}

function run(cmd, args, env, input) {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { env, cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { out += d; });
    c.on('close', (code) => resolve({ code, out }));
    c.stdin.end(input ?? '');
  });
}

async function up() {
  for (const b of ['core-api', 'ingest-worker']) {
    if (!fs.existsSync(path.join(BUILD, b))) die(`${BUILD}/${b} is missing: run make first (scripts/dev.sh does)`);
  }
  for (const [port, what] of [[API_PORT, 'core-api (DEV_API_PORT)'], [SQS_PORT, 'the SQS emulator (DEV_SQS_PORT)']]) {
    if (await portBusy(port)) die(`port 127.0.0.1:${port} for ${what} is in use: stop what holds it (ss -ltnp 'sport = :${port}') or pick another port`);
  }
  const free = fs.statfsSync ? fs.statfsSync(ROOT) : null;
  if (free && free.bavail * free.bsize < 512 * 1024 * 1024) die(`less than 512 MiB free on the disk of ${ROOT}`);

  fs.mkdirSync(VAR, { recursive: true });
  fs.chmodSync(VAR, 0o755);
  const uploads = path.join(VAR, 'data/uploads');
  const artifacts = path.join(VAR, 'data/artifacts');
  fs.mkdirSync(uploads, { recursive: true });
  fs.mkdirSync(artifacts, { recursive: true });

  const children = [];
  let sqs;
  let cluster;
  let stopping = false;
  const stopAll = async (code) => {
    if (stopping) return;
    stopping = true;
    log('stopping');
    for (const c of children.reverse()) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    }
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null)
      ? null : new Promise((r) => { c.on('exit', r); setTimeout(() => { c.kill('SIGKILL'); r(); }, 35000); })));
    if (sqs) await sqs.stop();
    if (cluster) cluster.stop('fast');
    try { fs.unlinkSync(path.join(VAR, 'stack.json')); } catch {}
    log('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));

  try {
    if (!fs.existsSync(path.join(VAR, 'pg/data/PG_VERSION')) && await portBusy(PG_PORT)) {
      die(`port 127.0.0.1:${PG_PORT} for PostgreSQL (DEV_PG_PORT) is in use`);
    }
    cluster = await PgCluster.create(path.join(VAR, 'pg'), { port: PG_PORT });
    cluster.start();
    log(`PostgreSQL on 127.0.0.1:${PG_PORT} (data in ${path.relative(ROOT, VAR) || '.'}/pg)`);
    const admin = new pg.Client({ connectionString: cluster.superUrl });
    await admin.connect();
    const db = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'ingest'");
    if (db.rowCount === 0) await admin.query('CREATE DATABASE ingest');
    const role = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = 'ingest_app'");
    if (role.rowCount === 0) await admin.query("CREATE ROLE ingest_app LOGIN PASSWORD 'ingest_app'");
    await admin.end();

    sqs = await startSqs({ port: SQS_PORT, maxReceiveCount: Number(process.env.MAX_RECEIVE_COUNT ?? 3) });
    log(`SQS emulator on ${sqs.endpoint}: ${sqs.queueUrl} (DLQ ${sqs.dlqUrl})`);

    const env = {
      ...process.env,
      DATABASE_URL: cluster.url('ingest', 'ingest_app', 'ingest_app'),
      HTTP_ADDR: `127.0.0.1:${API_PORT}`,
      JWT_SECRET: process.env.JWT_SECRET ?? secret(),
      UPLOAD_DIR: uploads,
      ARTIFACTS_DIR: artifacts,
      WEB_DIR: path.join(ROOT, 'web/out'),
      MIGRATIONS_DIR: path.join(ROOT, 'db/migrations'),
      SQS_INGEST_QUEUE_URL: sqs.queueUrl,
      SQS_INGEST_DLQ_URL: sqs.dlqUrl,
      AWS_ENDPOINT_URL: sqs.endpoint,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    };
    const mig = await run(path.join(BUILD, 'core-api'), ['migrate'], { ...env, DATABASE_URL: cluster.url('ingest') });
    if (mig.code !== 0) throw new Error(`migrate failed:\n${mig.out}`);
    const grant = new pg.Client({ connectionString: cluster.url('ingest') });
    await grant.connect();
    await grant.query('GRANT core_api, ingest_worker TO ingest_app');
    await grant.end();
    const boot = await run(path.join(BUILD, 'core-api'),
      ['bootstrap', '--tenant', TENANT, '--name', 'Demo', '--email', ADMIN_EMAIL], { ...env, BOOTSTRAP_PASSWORD: ADMIN_PASSWORD });
    if (boot.code !== 0) throw new Error(`bootstrap failed:\n${boot.out}`);

    const start = (name, args) => {
      const out = fs.openSync(path.join(VAR, `${name}.log`), 'a');
      const c = spawn(path.join(BUILD, name), args, { env, cwd: ROOT, stdio: ['ignore', out, out] });
      fs.closeSync(out);
      c.on('exit', (code, sig) => {
        if (!stopping) {
          log(`${name} exited (${code ?? sig}); see var/${name}.log`);
          stopAll(1);
        }
      });
      children.push(c);
      return c;
    };
    start('core-api', ['serve']);
    start('ingest-worker', []);
    const deadline = Date.now() + 20000;
    for (;;) {
      try {
        const r = await fetch(`http://127.0.0.1:${API_PORT}/healthz`);
        if (r.status === 200) break;
      } catch {}
      if (Date.now() > deadline) throw new Error('core-api did not become healthy: see var/core-api.log');
      await new Promise((r) => setTimeout(r, 100));
    }
    fs.writeFileSync(path.join(VAR, 'stack.json'), JSON.stringify({ pid: process.pid, api: `http://127.0.0.1:${API_PORT}` }));
    log(`core-api on http://127.0.0.1:${API_PORT}  (logs: var/core-api.log, var/ingest-worker.log)`);
    log(`sign in: tenant "${TENANT}", email ${ADMIN_EMAIL}, password ${ADMIN_PASSWORD}`);
    log('ready; Ctrl-C (or scripts/dev.sh stop) stops everything');
  } catch (e) {
    process.stderr.write(`[stack] error: ${e.message}\n`);
    await stopAll(1);
  }
}

async function status() {
  const f = path.join(VAR, 'stack.json');
  if (!fs.existsSync(f)) {
    log('not running');
    return;
  }
  const s = JSON.parse(fs.readFileSync(f, 'utf8'));
  let alive = true;
  try { process.kill(s.pid, 0); } catch { alive = false; }
  log(alive ? `running (pid ${s.pid}) at ${s.api}` : 'not running (stale var/stack.json)');
}

const cmd = process.argv[2] ?? 'up';
if (cmd === 'up') await up();
else if (cmd === 'status') await status();
else die(`usage: node scripts/stack.mjs up|status`);
