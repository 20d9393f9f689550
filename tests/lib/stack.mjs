// The test harness: a whole throwaway system per suite. A fresh PostgreSQL cluster,
// the SQS emulator with the ingest queue and its DLQ, migrations, core-api and any
// number of ingest-workers, all on loopback, all under one temporary folder that
// stop() removes. Tests talk to the programs only as a client would (HTTP, SQL
// for checks, the SQS API).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgCluster, freePort } from './pg-cluster.mjs';
import { startSqs } from './sqs-emulator.mjs';
import { UploadStore } from './upload-store.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(ROOT, 'tests/fixtures');
const TERMINAL = new Set(['succeeded', 'failed', 'skipped']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const live = new Set();
process.on('exit', () => {
  for (const s of live) s.stopSync();
});

class Proc {
  constructor(name, child, logFile) {
    this.name = name;
    this.child = child;
    this.pid = child.pid;
    this.logFile = logFile;
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.code = code;
        this.signal = signal;
        resolve({ code, signal });
      });
    });
  }

  get alive() {
    return this.code === undefined && this.signal === undefined;
  }

  // The worker may wait out a 20 s long poll before it exits (src/worker/README.md).
  async stop(signal = 'SIGTERM', timeoutMs = 30000) {
    if (!this.alive) return this.exited;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }

  log() {
    try { return fs.readFileSync(this.logFile, 'utf8'); } catch { return ''; }
  }
}

function spawnLogged(name, cmd, args, env, logFile) {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { env, stdio: ['ignore', fd, fd], cwd: ROOT });
  fs.closeSync(fd);
  return new Proc(name, child, logFile);
}

export class Stack {
  constructor(opts) {
    this.opts = opts;
    this.buildDir = path.resolve(ROOT, opts.buildDir ?? process.env.BUILD_DIR ?? 'build');
    this.dir = fs.mkdtempSync(path.join(opts.tmpRoot ?? os.tmpdir(), 'ingest-stack-'));
    // The PostgreSQL server runs as another user (root may not run it): let it reach its folder.
    fs.chmodSync(this.dir, 0o755);
    this.uploadDir = path.join(this.dir, 'uploads');
    this.artifactsDir = path.join(this.dir, 'artifacts');
    this.fixtures = FIXTURES;
    this.workers = [];
    this.api_ = null;
    this.db = 'ingest';
  }

  async start() {
    const o = this.opts;
    fs.mkdirSync(this.uploadDir, { recursive: true });
    fs.mkdirSync(this.artifactsDir, { recursive: true });
    this.pg = await PgCluster.create(path.join(this.dir, 'pg'));
    this.pg.start();
    const admin = new pg.Client({ connectionString: this.pg.superUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${this.db}`);
    await admin.query("CREATE ROLE ingest_app LOGIN PASSWORD 'ingest_app'");
    await admin.end();
    this.superUrl = this.pg.url(this.db);
    this.appUrl = this.pg.url(this.db, 'ingest_app', 'ingest_app');

    await this.startSqs();

    this.env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME ?? '/root',
      LANG: 'C.UTF-8',
      DATABASE_URL: this.appUrl,
      JWT_SECRET: crypto.randomBytes(32).toString('hex'),
      AUTH_ENABLED: 'true',
      UPLOAD_DIR: this.uploadDir,
      ARTIFACTS_DIR: this.artifactsDir,
      WEB_DIR: path.join(ROOT, 'web/out'),
      MIGRATIONS_DIR: path.join(ROOT, 'db/migrations'),
      SQS_INGEST_QUEUE_URL: this.sqs.queueUrl,
      SQS_INGEST_DLQ_URL: this.sqs.dlqUrl,
      AWS_ENDPOINT_URL: this.sqs.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      MAX_RECEIVE_COUNT: String(o.maxReceiveCount ?? 3),
      LOG_LEVEL: process.env.STACK_LOG_LEVEL ?? 'info',
      // The scan is triggered explicitly by tests (`core-api crash-guard --now`).
      CRASH_GUARD_INTERVAL: '24h',
      // A graceful worker stop waits for the long poll in flight: a short poll keeps
      // every SIGTERM in the suites from costing up to 20 s.
      RECEIVE_WAIT: '2s',
      // Plain http on loopback, the dev profile: the session cookie without Secure
      // (the default is true; a suite may pass env: { COOKIE_SECURE: undefined }).
      COOKIE_SECURE: 'false',
      ...(await this.uploadStoreEnv()),
      ...(o.env ?? {}),
    };

    const mig = await this.runApi(['migrate'], { DATABASE_URL: this.superUrl });
    if (mig.code !== 0) throw new Error(`core-api migrate failed: ${mig.stderr}`);
    await this.sql('GRANT core_api, ingest_worker TO ingest_app');

    if (o.api !== false) await this.startApi();
    if (o.worker) await this.startWorker();
    live.add(this);
    return this;
  }

  // STACK_UPLOAD_STORE=s3 runs any suite with the S3 upload store (issue 17): a bucket on an
  // emulator of its own (S3 and SQS are separate services: a suite that stops the queue keeps
  // its store, as in production) and the settings that point both programs at it.
  async uploadStoreEnv() {
    if (process.env.STACK_UPLOAD_STORE !== 's3') return {};
    this.s3Handle = await startSqs({ port: await freePort() });
    const r = await fetch(`${this.s3Handle.endpoint}/stack-uploads`, { method: 'PUT' });
    if (r.status !== 200) throw new Error(`creating the upload bucket: ${r.status}`);
    return { UPLOAD_STORE: 's3', UPLOAD_S3_BUCKET: 'stack-uploads', UPLOAD_S3_PART_SIZE: '5M',
      UPLOAD_S3_ENDPOINT: this.s3Handle.endpoint };
  }

  // The upload store the programs use, local or S3, for checks (tests/lib/upload-store.mjs).
  get uploads() {
    return (this.uploads_ ??= new UploadStore(this));
  }

  // ---- processes ----
  bin(name) {
    return path.join(this.buildDir, name);
  }

  async startApi(extraEnv = {}) {
    this.apiPort = this.apiPort ?? (await freePort());
    const env = { ...this.env, HTTP_ADDR: `127.0.0.1:${this.apiPort}`, ...(this.opts.apiEnv ?? {}), ...extraEnv };
    this.api_ = spawnLogged('core-api', this.bin('core-api'), ['serve'], env, path.join(this.dir, 'core-api.log'));
    this.baseUrl = `http://127.0.0.1:${this.apiPort}`;
    this.apiPid = this.api_.pid;
    const deadline = Date.now() + 20000;
    for (;;) {
      if (!this.api_.alive) throw new Error(`core-api exited (${this.api_.code}):\n${this.api_.log()}`);
      try {
        const r = await fetch(`${this.baseUrl}/healthz`);
        if (r.status === 200) break;
      } catch {}
      if (Date.now() > deadline) throw new Error(`core-api not healthy:\n${this.api_.log()}`);
      await sleep(50);
    }
    return this.api_;
  }

  // Another core-api instance on its own port, sharing the database, queue and upload
  // store (several instances behind a load balancer); stop() stops it too. bin: another
  // build's core-api (a benchmark's same-run baseline).
  async startExtraApi(extraEnv = {}, bin = this.bin('core-api')) {
    const port = await freePort();
    const n = (this.extraApis ??= []).length;
    const env = { ...this.env, HTTP_ADDR: `127.0.0.1:${port}`, ...(this.opts.apiEnv ?? {}), ...extraEnv };
    const p = spawnLogged(`core-api-${n + 1}`, bin, ['serve'], env,
      path.join(this.dir, `core-api-${n + 1}.log`));
    p.baseUrl = `http://127.0.0.1:${port}`;
    this.extraApis.push(p);
    const deadline = Date.now() + 20000;
    for (;;) {
      if (!p.alive) throw new Error(`core-api ${n + 1} exited (${p.code}):\n${p.log()}`);
      try {
        if ((await fetch(`${p.baseUrl}/healthz`)).status === 200) return p;
      } catch {}
      if (Date.now() > deadline) throw new Error(`core-api ${n + 1} not healthy:\n${p.log()}`);
      await sleep(50);
    }
  }

  async stopApi(signal = 'SIGTERM') {
    if (this.api_) await this.api_.stop(signal);
  }

  apiLog() {
    return this.api_ ? this.api_.log() : '';
  }

  async startWorker(extraEnv = {}) {
    const n = this.workers.length;
    const env = { ...this.env, ...(this.opts.workerEnv ?? {}), ...extraEnv };
    const w = spawnLogged(`ingest-worker-${n}`, this.bin('ingest-worker'), [], env,
      path.join(this.dir, `ingest-worker-${n}.log`));
    this.workers.push(w);
    await sleep(200);
    if (!w.alive) throw new Error(`ingest-worker exited (${w.code}):\n${w.log()}`);
    return w;
  }

  async killWorker(w = this.workers[0], signal = 'SIGKILL') {
    return w.stop(signal);
  }

  // Run core-api with a subcommand and the stack's environment.
  runApi(args, extraEnv = {}, input) {
    return this.runBin('core-api', args, extraEnv, input);
  }

  runBin(name, args, extraEnv = {}, input) {
    return new Promise((resolve) => {
      const child = spawn(this.bin(name), args, { env: { ...this.env, ...extraEnv }, cwd: ROOT });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      if (input !== undefined) child.stdin.end(input);
      else child.stdin.end();
    });
  }

  // ---- services ----
  async startSqs() {
    this.sqsPort = this.sqsPort ?? (await freePort());
    this.sqsHandle = await startSqs({ port: this.sqsPort, maxReceiveCount: this.opts.maxReceiveCount ?? 3,
      visibilityTimeout: this.opts.visibilityTimeout ?? 30 });
    this.sqs = { endpoint: this.sqsHandle.endpoint, queueUrl: this.sqsHandle.queueUrl, dlqUrl: this.sqsHandle.dlqUrl };
  }

  async stopSqs() {
    if (this.sqsHandle) await this.sqsHandle.stop();
    this.sqsHandle = null;
  }

  async stopPg() {
    this.pg.stop('fast');
  }

  async startPg() {
    this.pg.start();
  }

  // ---- SQL (superuser, for setup and checks) ----
  async sql(text, params = []) {
    const c = new pg.Client({ connectionString: this.superUrl });
    await c.connect();
    try {
      const r = await c.query(text, params);
      return r.rows;
    } finally {
      await c.end();
    }
  }

  async waitRun(runId, { timeoutMs = 60000, statuses = TERMINAL } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await this.sql('SELECT * FROM ingestion_runs WHERE run_id = $1', [runId]);
      if (rows[0] && statuses.has(rows[0].status)) return rows[0];
      if (Date.now() > deadline) {
        throw new Error(`run ${runId} not in ${[...statuses]} after ${timeoutMs} ms: ${JSON.stringify(rows[0])}\n` +
          this.workers.map((w) => w.log().split('\n').slice(-20).join('\n')).join('\n'));
      }
      await sleep(100);
    }
  }

  // ---- SQS (AWS JSON 1.0; the emulator does not check signatures) ----
  async sqsCall(action, body) {
    const r = await fetch(this.sqs.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${action}` },
      body: JSON.stringify(body),
    });
    const text = await r.text();
    const json = text ? JSON.parse(text) : {};
    if (!r.ok) throw new Error(`SQS ${action} ${r.status}: ${text}`);
    return json;
  }

  async sendMessage(obj, queueUrl = this.sqs.queueUrl) {
    return this.sqsCall('SendMessage', { QueueUrl: queueUrl, MessageBody: JSON.stringify(obj) });
  }

  async receiveMessages(queueUrl = this.sqs.queueUrl, { max = 10, wait = 0, visibility } = {}) {
    const body = { QueueUrl: queueUrl, MaxNumberOfMessages: max, WaitTimeSeconds: wait,
      AttributeNames: ['All'], MessageSystemAttributeNames: ['All'] };
    if (visibility !== undefined) body.VisibilityTimeout = visibility;
    const r = await this.sqsCall('ReceiveMessage', body);
    return r.Messages ?? [];
  }

  async depth(queueUrl) {
    const r = await this.sqsCall('GetQueueAttributes', { QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] });
    return { visible: Number(r.Attributes.ApproximateNumberOfMessages),
      inflight: Number(r.Attributes.ApproximateNumberOfMessagesNotVisible) };
  }

  queueDepth() { return this.depth(this.sqs.queueUrl); }
  dlqDepth() { return this.depth(this.sqs.dlqUrl); }

  // ---- HTTP as a client ----
  async api(method, p, { token, cookie, body, headers = {}, raw } = {}) {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (cookie) h.cookie = cookie;
    let payload = raw;
    if (body !== undefined) {
      h['content-type'] = h['content-type'] ?? 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const r = await fetch(this.baseUrl + p, { method, headers: h, body: payload, redirect: 'manual' });
    const text = await r.text();
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: r.status, headers: r.headers, json, text };
  }

  async bootstrap({ tenant, name, email, password, role }) {
    const args = ['bootstrap', '--tenant', tenant, '--name', name ?? tenant, '--email', email];
    if (role) args.push('--role', role);
    return this.runApi(args, { BOOTSTRAP_PASSWORD: password });
  }

  async login({ tenant, email, password }) {
    const r = await this.api('POST', '/v1/auth/login', { body: { tenant, email, password } });
    const setCookie = r.headers.get('set-cookie') ?? '';
    const cookie = setCookie.split(';')[0];
    return { status: r.status, token: r.json?.token, user: r.json?.user, cookie, setCookie, json: r.json };
  }

  // Create a tenant with an admin and log in; returns {token, user, ...}.
  async tenant(slug, { password = 'correct horse battery', email = `admin@${slug}.test` } = {}) {
    const b = await this.bootstrap({ tenant: slug, name: slug, email, password });
    if (b.code !== 0) throw new Error(`bootstrap ${slug}: ${b.stderr}`);
    const l = await this.login({ tenant: slug, email, password });
    if (l.status !== 200) throw new Error(`login ${slug}: ${l.status} ${JSON.stringify(l.json)}`);
    return { ...l, email, password, slug };
  }

  async upload({ token, cookie, filename = 'doc.txt', content, title, docId, headers = {}, type } = {}) {
    const form = new FormData();
    if (title !== undefined) form.append('title', title);
    if (docId !== undefined) form.append('doc_id', docId);
    form.append('file', new Blob([content], type ? { type } : {}), filename);
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (cookie) h.cookie = cookie;
    const r = await fetch(`${this.baseUrl}/v1/ingest`, { method: 'POST', headers: h, body: form });
    const text = await r.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: r.status, json, text, headers: r.headers };
  }

  // Upload and wait for the run to end; returns {upload, run}.
  async ingest(opts, { timeoutMs = 60000 } = {}) {
    const up = await this.upload(opts);
    if (up.status !== 202 && up.status !== 200) throw new Error(`upload ${up.status}: ${up.text}`);
    const run = await this.waitRun(up.json.run_id, { timeoutMs });
    return { upload: up, run };
  }

  // Sanitizer reports (ASan, LSan, UBSan) in any program's log since the stack started.
  sanitizerReports() {
    const found = [];
    for (const f of fs.readdirSync(this.dir).filter((n) => n.endsWith('.log') && n !== 'postgres.log')) {
      const text = fs.readFileSync(path.join(this.dir, f), 'utf8');
      const m = text.match(/(ERROR: (Address|Leak)Sanitizer.*|runtime error: .*)/);
      if (m) found.push(`${f}: ${m[0]}`);
    }
    return found;
  }

  // ---- teardown ----
  // Stops everything; throws if a program reported a sanitizer error, so the
  // ASan+UBSan runs of the suites fail on memory errors, leaks and undefined behaviour.
  async stop() {
    live.delete(this);
    for (const w of this.workers) await w.stop('SIGTERM');
    for (const a of this.extraApis ?? []) await a.stop('SIGTERM');
    if (this.api_) await this.api_.stop('SIGTERM');
    await this.stopSqs();
    if (this.s3Handle) await this.s3Handle.stop();
    if (this.pg) this.pg.stop('immediate');
    const reports = this.sanitizerReports();
    if (!process.env.KEEP_STACK && reports.length === 0) fs.rmSync(this.dir, { recursive: true, force: true });
    else console.error(`stack kept in ${this.dir}`);
    if (reports.length) throw new Error(`sanitizer reports:\n${reports.join('\n')}`);
  }

  // Last resort at process exit: nothing may be left running.
  stopSync() {
    for (const w of this.workers) if (w.alive) w.child.kill('SIGKILL');
    if (this.api_?.alive) this.api_.child.kill('SIGKILL');
    for (const a of this.extraApis ?? []) if (a.alive) a.child.kill('SIGKILL');
    try { this.sqsHandle?.stop(); } catch {}
    try { this.s3Handle?.stop(); } catch {}
    try { this.pg?.stop('immediate'); } catch {}
  }
}

export async function startStack(opts = {}) {
  const s = new Stack(opts);
  try {
    return await s.start();
  } catch (e) {
    await s.stop().catch(() => {});
    throw e;
  }
}

// Poll fn until it returns a truthy value.
export async function waitFor(fn, { timeoutMs = 30000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

