// A throwaway in-memory stand-in for core-api + worker, ONLY for iterating on the
// web UI without the C stack. It serves web/out like core-api does and fakes the
// JSON API of docs/api.md. It exports the same startStack() interface as
// tests/lib/stack.mjs, so `E2E_STUB=1 node --test tests/e2e/` runs the browser
// test against it. The real suite always uses tests/lib/stack.mjs.
//
//   node tests/e2e/dev-stub.mjs [port]      # serve on 127.0.0.1:port (default 8010),
//                                           # with tenant acme / admin@acme.test / pw-123456789
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.resolve(HERE, '../../web/out');
const MAX_UPLOAD = 5 * 1024 * 1024;
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.woff2': 'font/woff2',
};
const SUPPORTED = { '.txt': 'text/plain', '.md': 'text/markdown', '.html': 'text/html', '.htm': 'text/html', '.pdf': 'application/pdf', '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' };

const now = () => new Date().toISOString();
const uuid = () => crypto.randomUUID();

function createState() {
  return { tenants: new Map(), users: new Map(), sessions: new Map(), runs: new Map(), docs: new Map(), versions: new Map(), chunks: [] };
}

function send(res, status, body, headers = {}) {
  const data = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(data);
}
const err = (res, status, code, message, extra = {}) => send(res, status, { error: { code, message }, ...extra });

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > limit) {
        reject(Object.assign(new Error('too large'), { tooLarge: true }));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function publicUser(u, st) {
  const t = st.tenants.get(u.tenant_id);
  return { user_id: u.user_id, tenant_id: u.tenant_id, tenant_slug: t ? t.slug : null, email: u.email, role: u.role, is_active: u.is_active, created_at: u.created_at, updated_at: u.updated_at };
}

function escapeHtml(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function snippetFor(text, terms) {
  const esc = escapeHtml(text.slice(0, 300));
  if (!terms.length) return esc;
  const re = new RegExp(`\\b(${terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})\\b`, 'gi');
  return esc.replace(re, '<mark>$1</mark>');
}

function makeHandler(st, opts) {
  const { workerDelayMs = 600 } = opts;

  function authUser(req) {
    const m = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie || '');
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization || '');
    const tok = m ? m[1] : bearer ? bearer[1] : null;
    if (!tok) return null;
    const uid = st.sessions.get(tok);
    const u = uid && st.users.get(uid);
    return u && u.is_active ? u : null;
  }

  function simulateWorker(run, text) {
    const step = (fn, ms) => setTimeout(fn, ms);
    step(() => {
      run.status = 'running';
      run.started_at = now();
      run.updated_at = now();
      run.stats = { attempt: 1, progress: { stage: 'extract', done: 0, total: 1 } };
      step(() => {
        run.stats.progress = { stage: 'embed', done: 1, total: 3 };
        run.updated_at = now();
        step(() => {
          const doc = st.docs.get(run.doc_id);
          for (const v of st.versions.values()) if (v.doc_id === doc.doc_id) v.is_active = false;
          const vid = uuid();
          const paras = text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
          paras.forEach((p, i) => st.chunks.push({ chunk_id: uuid(), doc_id: doc.doc_id, version_id: vid, tenant_id: run.tenant_id, text: p, page_start: 1, page_end: 1, ordinal: i }));
          st.versions.set(vid, { version_id: vid, doc_id: doc.doc_id, run_id: run.run_id, content_hash: run.config.sha256, is_active: true, byte_size: run.config.size_bytes, pages: 1, mime: run.config.content_type, chunks: paras.length, created_at: now() });
          doc.active_version_id = vid;
          doc.deleted_at = null;
          doc.updated_at = now();
          run.status = 'succeeded';
          run.finished_at = now();
          run.updated_at = now();
          run.stats = { ...run.stats, progress: { stage: 'done', done: 3, total: 3 }, pages: 1, chars: text.length, chunks: paras.length, embedding_model: 'hash-v1', embedding_dim: 256, durations_ms: { extract: 12, chunk: 3, embed: 40, write: 9, total: 64 }, activated: true, version_id: vid, some_future_key: { nested: [1, 2] }, odd_null: null };
        }, workerDelayMs);
      }, workerDelayMs);
    }, workerDelayMs);
  }

  return async function handler(req, res) {
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    try {
      if (p.startsWith('/v1/')) return await apiRoute(req, res, url, p);
      if (p === '/healthz') return send(res, 200, { status: 'ok' });
      return serveStatic(res, p);
    } catch (e) {
      console.error('stub error', e);
      return err(res, 500, 'internal', 'internal error');
    }
  };

  async function apiRoute(req, res, url, p) {
    const method = req.method;
    if (p === '/v1/auth/login' && method === 'POST') {
      const body = JSON.parse((await readBody(req, 1 << 20)).toString() || '{}');
      const t = [...st.tenants.values()].find((x) => x.slug === body.tenant);
      const u = t && [...st.users.values()].find((x) => x.tenant_id === t.id && x.email === body.email && x.password === body.password && x.is_active);
      if (!u) return err(res, 401, 'unauthorized', 'invalid credentials');
      const tok = crypto.randomBytes(16).toString('hex');
      st.sessions.set(tok, u.user_id);
      return send(res, 200, { user: publicUser(u, st), token: tok, expires_at: new Date(Date.now() + 3600e3).toISOString() }, { 'Set-Cookie': `session=${tok}; HttpOnly; SameSite=Strict; Path=/` });
    }
    const user = authUser(req);
    if (!user) return err(res, 401, 'unauthorized', 'authentication required');
    if (['POST', 'PATCH', 'DELETE'].includes(method)) {
      const origin = req.headers.origin;
      if (origin && origin !== `http://${req.headers.host}`) return err(res, 403, 'forbidden', 'cross-origin request refused');
    }
    const admin = user.role === 'admin';
    const tid = user.tenant_id;

    if (p === '/v1/auth/logout' && method === 'POST') {
      for (const [k, v] of st.sessions) if (v === user.user_id) st.sessions.delete(k);
      res.writeHead(204, { 'Set-Cookie': 'session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict' });
      return res.end();
    }
    if (p === '/v1/auth/me' && method === 'GET') return send(res, 200, { user: publicUser(user, st) });

    if (p === '/v1/ingest' && method === 'POST') {
      let buf;
      try {
        buf = await readBody(req, MAX_UPLOAD + 64 * 1024);
      } catch (e) {
        if (e.tooLarge) return err(res, 413, 'too_large', `upload exceeds ${MAX_UPLOAD} bytes`);
        throw e;
      }
      let form;
      try {
        form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] || '' }, body: buf }).formData();
      } catch {
        return err(res, 400, 'bad_request', 'malformed multipart body');
      }
      const file = form.get('file');
      if (!file || typeof file === 'string') return err(res, 400, 'bad_request', 'missing file part');
      const ext = path.extname(file.name || '').toLowerCase();
      if (!SUPPORTED[ext]) return err(res, 415, 'unsupported_type', `unsupported file type ${ext || '(none)'}`);
      const bytes = Buffer.from(await file.arrayBuffer());
      if (bytes.length > MAX_UPLOAD) return err(res, 413, 'too_large', `upload exceeds ${MAX_UPLOAD} bytes`);
      const sha = crypto.createHash('sha256').update(bytes).digest('hex');
      const title = (form.get('title') || '').toString() || file.name;
      const dupV = [...st.versions.values()].find((v) => v.is_active && v.content_hash === sha && st.docs.get(v.doc_id).tenant_id === tid);
      const mkRun = (docId, status) => {
        const r = { run_id: uuid(), doc_id: docId, tenant_id: tid, status, created_at: now(), updated_at: now(), started_at: null, finished_at: status === 'skipped' ? now() : null, config: { created_by_user_id: user.user_id, upload_uri: `file:///data/uploads/${sha}`, title, original_filename: file.name, content_type: SUPPORTED[ext], source_type: 'upload', size_bytes: bytes.length, sha256: sha, republished: 0 }, stats: {}, error: null };
        st.runs.set(r.run_id, r);
        return r;
      };
      if (dupV) {
        const r = mkRun(dupV.doc_id, 'skipped');
        return send(res, 200, { run_id: r.run_id, doc_id: dupV.doc_id, status: 'skipped', reason: 'duplicate content' });
      }
      const inflight = [...st.runs.values()].find((r) => r.tenant_id === tid && r.config.sha256 === sha && (r.status === 'queued' || r.status === 'running'));
      if (inflight) return send(res, 200, { run_id: inflight.run_id, doc_id: inflight.doc_id, status: inflight.status, reason: 'already in progress' });
      const doc = { doc_id: uuid(), tenant_id: tid, title, source_type: 'upload', source_uri: `upload://${file.name}`, created_at: now(), updated_at: now(), active_version_id: null, deleted_at: null };
      st.docs.set(doc.doc_id, doc);
      const r = mkRun(doc.doc_id, 'queued');
      const text = bytes.toString('utf8');
      if (/FAILME/.test(text)) {
        setTimeout(() => { r.status = 'failed'; r.error = 'extract_failed: stub was told to fail'; r.finished_at = now(); }, workerDelayMs);
      } else simulateWorker(r, text);
      return send(res, 202, { run_id: r.run_id, doc_id: doc.doc_id, status: 'queued' });
    }

    let m;
    if ((m = /^\/v1\/ingestion-runs\/([^/]+)$/.exec(p)) && method === 'GET') {
      const r = st.runs.get(decodeURIComponent(m[1]));
      if (!r || r.tenant_id !== tid) return err(res, 404, 'not_found', 'run not found');
      const { tenant_id, ...pub } = r;
      return send(res, 200, pub);
    }
    if (p === '/v1/ingestion-runs' && method === 'GET') {
      const limit = Number(url.searchParams.get('limit') || 20);
      const offset = Number(url.searchParams.get('offset') || 0);
      const status = url.searchParams.get('status');
      if (!(limit >= 1 && limit <= 100) || !(offset >= 0)) return err(res, 400, 'bad_request', 'limit must be 1..100');
      const all = [...st.runs.values()].filter((r) => r.tenant_id === tid).sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
      const counts = { queued: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
      all.forEach((r) => { counts[r.status] += 1; });
      const f = status ? all.filter((r) => r.status === status) : all;
      return send(res, 200, { runs: f.slice(offset, offset + limit).map(({ tenant_id, ...x }) => x), total: f.length, limit, offset, counts });
    }
    if (p === '/v1/documents' && method === 'GET') {
      const limit = Number(url.searchParams.get('limit') || 20);
      const offset = Number(url.searchParams.get('offset') || 0);
      const title = (url.searchParams.get('title') || '').toLowerCase();
      const incl = admin && url.searchParams.get('include_inactive') === 'true';
      const all = [...st.docs.values()].filter((d) => d.tenant_id === tid && (incl || (d.active_version_id && !d.deleted_at)) && (!title || d.title.toLowerCase().includes(title))).sort((a, b) => (a.updated_at < b.updated_at ? 1 : -1));
      return send(res, 200, { documents: all.slice(offset, offset + limit).map(({ tenant_id, ...d }) => d), total: all.length, limit, offset });
    }
    if ((m = /^\/v1\/documents\/([^/]+)$/.exec(p))) {
      const d = st.docs.get(decodeURIComponent(m[1]));
      if (!d || d.tenant_id !== tid) return err(res, 404, 'not_found', 'document not found');
      if (method === 'GET') {
        const versions = [...st.versions.values()].filter((v) => v.doc_id === d.doc_id).sort((a, b) => (a.created_at < b.created_at ? 1 : -1)).map(({ doc_id, ...v }) => v);
        const { tenant_id, ...pub } = d;
        return send(res, 200, { ...pub, versions });
      }
      if (method === 'DELETE') {
        if (!admin) return err(res, 403, 'forbidden', 'admin role required');
        for (const v of st.versions.values()) if (v.doc_id === d.doc_id) v.is_active = false;
        d.active_version_id = null;
        d.deleted_at = now();
        return send(res, 200, { doc_id: d.doc_id, deleted: true });
      }
    }
    if (p === '/v1/search' && method === 'POST') {
      let body;
      try {
        body = JSON.parse((await readBody(req, 1 << 20)).toString());
      } catch {
        return err(res, 400, 'bad_request', 'malformed JSON');
      }
      const q = typeof body.query === 'string' ? body.query.trim() : '';
      if (!q || q.length > 1000) return err(res, 400, 'bad_request', 'query must be 1..1000 characters');
      const k = body.top_k ?? 8;
      if (!Number.isInteger(k) || k < 1 || k > 50) return err(res, 400, 'bad_request', 'top_k must be 1..50');
      const terms = q.toLowerCase().match(/[\p{L}\p{N}]+/gu) || [];
      const hits = [];
      for (const c of st.chunks) {
        const v = st.versions.get(c.version_id);
        if (c.tenant_id !== tid || !v || !v.is_active) continue;
        const lower = c.text.toLowerCase();
        const matched = terms.filter((t) => new RegExp(`\\b${t}\\b`).test(lower));
        if (!matched.length) continue;
        const d = st.docs.get(c.doc_id);
        hits.push({ chunk_id: c.chunk_id, doc_id: c.doc_id, version_id: c.version_id, title: d.title, source_uri: d.source_uri, page_start: c.page_start, page_end: c.page_end, snippet: snippetFor(c.text, matched), score: matched.length / terms.length });
      }
      hits.sort((a, b) => b.score - a.score);
      if (!hits.length) return send(res, 200, { status: 'abstained', reason: 'no evidence', results: [] });
      return send(res, 200, { status: 'answered', results: hits.slice(0, k) });
    }
    if (p === '/v1/users' || p.startsWith('/v1/users/')) {
      if (!admin) return err(res, 403, 'forbidden', 'admin role required');
      if (p === '/v1/users' && method === 'GET') {
        return send(res, 200, { users: [...st.users.values()].filter((u) => u.tenant_id === tid).map((u) => publicUser(u, st)) });
      }
      if (p === '/v1/users' && method === 'POST') {
        const b = JSON.parse((await readBody(req, 1 << 20)).toString() || '{}');
        if (typeof b.email !== 'string' || !b.email.includes('@')) return err(res, 400, 'bad_request', 'email is invalid');
        if (typeof b.password !== 'string' || b.password.length < 8) return err(res, 400, 'bad_request', 'password must be at least 8 characters');
        if (!['user', 'admin'].includes(b.role)) return err(res, 400, 'bad_request', 'role must be user or admin');
        if ([...st.users.values()].some((u) => u.tenant_id === tid && u.email === b.email)) return err(res, 409, 'conflict', 'a user with this email already exists');
        const u = { user_id: uuid(), tenant_id: tid, email: b.email, password: b.password, role: b.role, is_active: true, created_at: now(), updated_at: now() };
        st.users.set(u.user_id, u);
        return send(res, 201, { user: publicUser(u, st) });
      }
      if ((m = /^\/v1\/users\/([^/]+)$/.exec(p)) && method === 'PATCH') {
        const u = st.users.get(decodeURIComponent(m[1]));
        if (!u || u.tenant_id !== tid) return err(res, 404, 'not_found', 'user not found');
        const b = JSON.parse((await readBody(req, 1 << 20)).toString() || '{}');
        if (b.role !== undefined) {
          if (!['user', 'admin'].includes(b.role)) return err(res, 400, 'bad_request', 'role must be user or admin');
          u.role = b.role;
        }
        if (b.is_active !== undefined) u.is_active = !!b.is_active;
        if (b.password !== undefined) u.password = String(b.password);
        u.updated_at = now();
        return send(res, 200, { user: publicUser(u, st) });
      }
    }
    return err(res, 404, 'not_found', 'no such endpoint');
  }

  function serveStatic(res, p) {
    let rel = decodeURIComponent(p);
    if (rel.includes('\0') || rel.split('/').includes('..')) return err(res, 400, 'bad_request', 'bad path');
    let file = path.join(OUT, rel);
    if (rel.endsWith('/')) file = path.join(file, 'index.html');
    let stat = null;
    try {
      stat = fs.statSync(file);
      if (stat.isDirectory()) {
        file = path.join(file, 'index.html');
        stat = fs.statSync(file);
      }
    } catch {
      stat = null;
    }
    if (!stat) file = path.join(OUT, 'index.html'); // unknown routes fall back to the app
    const type = TYPES[path.extname(file)] || 'application/octet-stream';
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
    fs.createReadStream(file).pipe(res);
  }
}

export async function startStack(opts = {}) {
  const st = createState();
  const server = http.createServer(makeHandler(st, opts));
  await new Promise((resolve) => server.listen(opts.port || 0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    async bootstrap({ tenant, name, email, password }) {
      const t = { id: uuid(), slug: tenant, name };
      st.tenants.set(t.id, t);
      const u = { user_id: uuid(), tenant_id: t.id, email, password, role: 'admin', is_active: true, created_at: now(), updated_at: now() };
      st.users.set(u.user_id, u);
      return { tenant_id: t.id, user_id: u.user_id };
    },
    async stop() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] || 8010);
  const s = await startStack({ port });
  await s.bootstrap({ tenant: 'acme', name: 'Acme', email: 'admin@acme.test', password: 'pw-123456789' });
  console.log(`dev stub on ${s.baseUrl} (tenant acme, admin@acme.test / pw-123456789)`);
}
