// deploy/: the compose file validates and keeps the deployment rules (spec checklist
// section 2, DESIGN 2): only core-api publishes a port (8000), the worker, PostgreSQL
// and the SQS emulator publish none and sit on an internal network, the uploads
// volume is at /data/uploads in core-api and the worker, artifacts at /data/artifacts
// in the worker, AUTH_ENABLED=true in the default profile and false only in the
// explicit `dev` profile, and JWT_SECRET is required.
//
// No Docker engine is needed: Debian's `docker-compose` (1.29) validates and renders
// the file with `docker-compose config`. Its YAML output is read with PyYAML, which
// that package depends on (1.29 has no `config --format json`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COMPOSE = process.env.DEPLOY_COMPOSE_FILE ?? path.join(ROOT, 'deploy/docker-compose.yml');
const SECRETS = {
  JWT_SECRET: 'test-secret-0123456789abcdef0123456789abcdef',
  POSTGRES_PASSWORD: 'pg-test',
  API_DB_PASSWORD: 'api-test',
  WORKER_DB_PASSWORD: 'worker-test',
};

// An empty env file, so a developer's deploy/.env cannot change what is checked.
const EMPTY_ENV = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-test-')), 'empty.env');
fs.writeFileSync(EMPTY_ENV, '');

function baseEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('COMPOSE_') || k in SECRETS || k.startsWith('AWS_') || k === 'AUTH_ENABLED' ||
        k === 'COOKIE_SECURE' || k === 'METRICS_TOKEN') delete env[k];
  }
  return { ...env, ...extra };
}

function compose(args, env = baseEnv(SECRETS)) {
  const r = spawnSync('docker-compose', ['--env-file', EMPTY_ENV, '-f', COMPOSE, ...args],
    { cwd: ROOT, env, encoding: 'utf8' });
  if (r.error && r.error.code === 'ENOENT') {
    assert.fail('docker-compose is not installed: `apt-get install docker-compose` (Debian 12, version 1.29; '
      + 'scripts/install-deps.sh should install it). It validates deploy/docker-compose.yml without a Docker engine.');
  }
  if (r.error) throw r.error;
  return r;
}

// docker-compose takes about 2 s per call: render each variant once.
const renderCache = new Map();
function rendered(extraArgs = []) {
  const key = extraArgs.join(' ');
  if (!renderCache.has(key)) renderCache.set(key, render(extraArgs));
  return renderCache.get(key);
}

function render(extraArgs) {
  const r = compose([...extraArgs, 'config']);
  assert.equal(r.status, 0, `docker-compose config failed:\n${r.stderr}`);
  const py = spawnSync('python3', ['-c',
    'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
  { input: r.stdout, encoding: 'utf8' });
  if (py.error || py.status !== 0) {
    assert.fail(`cannot read the rendered YAML with python3 + PyYAML (python3-yaml, a dependency of docker-compose): ${py.error?.message ?? py.stderr}`);
  }
  return JSON.parse(py.stdout);
}

// "8000:8000", "127.0.0.1:8001:8000/tcp" or {published, target, host_ip}.
function parsePort(p) {
  if (typeof p === 'object') return { hostIp: p.host_ip ?? '', published: String(p.published ?? ''), target: String(p.target) };
  if (typeof p === 'number') return { hostIp: '', published: '', target: String(p) };
  const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
  const target = parts.pop();
  const published = parts.pop() ?? '';
  return { hostIp: parts.join(':'), published, target };
}

// "uploads:/data/uploads:rw" or {type, source, target}.
function mounts(svc) {
  return (svc.volumes ?? []).map((v) => {
    if (typeof v === 'object') return { source: v.source, target: v.target };
    const [source, target] = v.split(':');
    return { source, target };
  });
}

const isDefault = (svc) => !svc.profiles || svc.profiles.length === 0;

test('deploy: docker-compose is installed (validation needs it)', () => {
  const r = compose(['version', '--short']);
  assert.equal(r.status, 0, r.stderr);
});

test('deploy: JWT_SECRET is required', () => {
  const env = baseEnv(SECRETS);
  delete env.JWT_SECRET;
  const r = compose(['config', '-q'], env);
  assert.notEqual(r.status, 0, 'config must fail without JWT_SECRET');
  assert.match(r.stderr, /JWT_SECRET/);
});

test('deploy: services, volumes and the dev profile', () => {
  const services = compose(['config', '--services']).stdout.trim().split('\n');
  for (const s of ['postgres', 'sqs', 'migrate', 'db-roles', 'core-api', 'ingest-worker', 'core-api-dev']) {
    assert.ok(services.includes(s), `service ${s} missing (have ${services.join(', ')})`);
  }
  const volumes = compose(['config', '--volumes']).stdout.trim().split('\n');
  assert.ok(volumes.includes('uploads') && volumes.includes('artifacts'), `volumes: ${volumes.join(', ')}`);
  assert.deepEqual(compose(['config', '--profiles']).stdout.trim().split('\n'), ['dev']);
  const dev = compose(['--profile', 'dev', 'config', '--services']);
  assert.equal(dev.status, 0, dev.stderr);
  assert.ok(dev.stdout.split('\n').includes('core-api-dev'));
});

test('deploy: only core-api publishes a port, 8000; the worker publishes none', () => {
  const cfg = rendered();
  const publishing = Object.entries(cfg.services)
    .filter(([, svc]) => isDefault(svc) && (svc.ports ?? []).length > 0)
    .map(([name]) => name);
  assert.deepEqual(publishing, ['core-api'], 'default-profile services publishing ports');
  const ports = cfg.services['core-api'].ports.map(parsePort);
  assert.deepEqual(ports.map((p) => [p.published, p.target]), [['8000', '8000']]);
  const w = cfg.services['ingest-worker'];
  assert.equal((w.ports ?? []).length, 0, 'ingest-worker must not publish ports');
  // The dev variant, if started, is reachable from the host's loopback only.
  for (const p of (cfg.services['core-api-dev'].ports ?? []).map(parsePort)) {
    assert.equal(p.hostIp, '127.0.0.1', 'core-api-dev must publish on 127.0.0.1 only');
  }
});

test('deploy: PostgreSQL, SQS and the worker are on internal networks only', () => {
  const cfg = rendered();
  const internal = new Set(Object.entries(cfg.networks ?? {}).filter(([, n]) => n && n.internal).map(([k]) => k));
  assert.ok(internal.size > 0, 'an internal network is declared');
  for (const name of ['postgres', 'sqs', 'ingest-worker', 'migrate', 'db-roles']) {
    const nets = Object.keys(cfg.services[name].networks ?? { default: null });
    assert.ok(nets.every((n) => internal.has(n)), `${name} is on ${nets.join(', ')}; all must be internal`);
  }
  const apiNets = Object.keys(cfg.services['core-api'].networks ?? {});
  assert.ok(apiNets.some((n) => !internal.has(n)), 'core-api joins a non-internal network for its port');
  assert.ok(apiNets.some((n) => internal.has(n)), 'core-api reaches the internal services');
});

test('deploy: uploads at /data/uploads in core-api and the worker, artifacts at /data/artifacts in the worker', () => {
  const cfg = rendered();
  const api = mounts(cfg.services['core-api']);
  const worker = mounts(cfg.services['ingest-worker']);
  assert.ok(api.some((m) => m.source === 'uploads' && m.target === '/data/uploads'), JSON.stringify(api));
  assert.ok(worker.some((m) => m.source === 'uploads' && m.target === '/data/uploads'), JSON.stringify(worker));
  assert.ok(worker.some((m) => m.source === 'artifacts' && m.target === '/data/artifacts'), JSON.stringify(worker));
  assert.equal(cfg.services['core-api'].environment.UPLOAD_DIR, '/data/uploads');
  assert.equal(cfg.services['ingest-worker'].environment.UPLOAD_DIR, '/data/uploads');
  assert.equal(cfg.services['ingest-worker'].environment.ARTIFACTS_DIR, '/data/artifacts');
});

test('deploy: AUTH_ENABLED is true by default and false only in the dev profile', () => {
  for (const args of [[], ['--profile', 'dev']]) {
    const cfg = rendered(args);
    assert.equal(cfg.services['core-api'].environment.AUTH_ENABLED, 'true');
    assert.ok(cfg.services['core-api'].environment.JWT_SECRET.length >= 32);
    const off = Object.entries(cfg.services)
      .filter(([, svc]) => String(svc.environment?.AUTH_ENABLED ?? '').toLowerCase() === 'false')
      .map(([name, svc]) => ({ name, profiles: svc.profiles ?? [] }));
    assert.deepEqual(off, [{ name: 'core-api-dev', profiles: ['dev'] }]);
    for (const [name, svc] of Object.entries(cfg.services)) {
      const v = svc.environment?.AUTH_ENABLED;
      if (isDefault(svc) && v !== undefined) assert.equal(v, 'true', `${name}: AUTH_ENABLED`);
    }
  }
});

test('deploy: COOKIE_SECURE is true in core-api unless deploy/.env turns it off; METRICS_TOKEN is passed', () => {
  const cfg = rendered();
  assert.equal(cfg.services['core-api'].environment.COOKIE_SECURE, 'true');
  assert.equal(cfg.services['core-api'].environment.METRICS_TOKEN, '');
  const r = compose(['config'], baseEnv({ ...SECRETS, METRICS_TOKEN: 'scrape-token-0123456789' }));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /METRICS_TOKEN: scrape-token-0123456789/);
});

test('deploy: the SQS emulator creates ingest and ingest-dlq (maxReceiveCount 3) matching the queue URLs', () => {
  const init = JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy/sqs/init.json'), 'utf8'));
  const byName = Object.fromEntries(init.queues.map((q) => [q.name, q]));
  assert.ok(byName['ingest-dlq'], 'ingest-dlq in init.json');
  const redrive = JSON.parse(byName.ingest.attributes.RedrivePolicy);
  assert.equal(redrive.deadLetterTargetArn, 'arn:aws:sqs:us-east-1:000000000000:ingest-dlq');
  assert.equal(Number(redrive.maxReceiveCount), 3);
  // The DLQ is created first (init order), so the ARN exists when ingest is made.
  assert.ok(init.queues.findIndex((q) => q.name === 'ingest-dlq') < init.queues.findIndex((q) => q.name === 'ingest'));

  const cfg = rendered();
  const sqs = cfg.services.sqs.environment;
  const base = `http://sqs.${sqs.FAUXQS_DEFAULT_REGION}.${sqs.FAUXQS_HOST}:${sqs.FAUXQS_PORT}/000000000000`;
  for (const name of ['core-api', 'ingest-worker']) {
    const env = cfg.services[name].environment;
    assert.equal(env.SQS_INGEST_QUEUE_URL, `${base}/ingest`, `${name}: queue URL as fauxqs names it`);
    assert.equal(env.SQS_INGEST_DLQ_URL, `${base}/ingest-dlq`);
    assert.equal(env.AWS_ENDPOINT_URL, `http://sqs:${sqs.FAUXQS_PORT}`);
    assert.equal(env.MAX_RECEIVE_COUNT, String(redrive.maxReceiveCount));
  }
  assert.equal((cfg.services.sqs.ports ?? []).length, 0);
});
