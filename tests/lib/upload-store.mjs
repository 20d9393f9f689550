// The upload store as a test sees it, whichever store the stack runs (issue 17): which
// uploads a tenant has, the bytes and size of one, the upload_uri core-api writes. With
// the local store the answers come from UPLOAD_DIR/<tenant>/<run>/<name>; with
// UPLOAD_STORE=s3 (STACK_UPLOAD_STORE=s3, tests/lib/stack.mjs) from the emulator's S3 API
// (ListObjectsV2, GetObject, HeadObject on <UPLOAD_S3_PREFIX><tenant>/<run>/<name>),
// path-style and unsigned: the emulator checks no signature.
//
//   const store = stack.uploads;            // an UploadStore
//   await store.list(tenantId)              // ['<run>/<name>', ...] sorted
//   await store.names(tenantId, runId)      // ['<name>'] ([] when the run has none)
//   await store.read(tenantId, runId, name) // Buffer (throws when missing)
//   await store.size(tenantId, runId, name) // bytes, or null when missing
//   await store.removeUri(uploadUri)        // delete one stored upload
//   store.uri(tenantId, runId, name)        // file:///real/path or s3://bucket/key
import fs from 'node:fs';
import path from 'node:path';

const XML_ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unxml = (s) => s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e) => {
  if (e[0] !== '#') return XML_ENTITIES[e];
  return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
});
const MAX_PAGES = 100;   // a bounded listing: 100 000 keys is far beyond any suite

// A folder's entries, or null when it does not exist (core-api may remove one as we look).
function readdirOrNull(d) {
  try {
    return fs.readdirSync(d);
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw e;
  }
}

export class UploadStore {
  constructor(stack) {
    this.stack = stack;
  }

  get s3() {
    return this.stack.env?.UPLOAD_STORE === 's3';
  }

  get bucket() {
    return this.stack.env.UPLOAD_S3_BUCKET;
  }

  get prefix() {
    return this.stack.env.UPLOAD_S3_PREFIX ?? 'uploads/';
  }

  get endpoint() {
    return this.stack.env.UPLOAD_S3_ENDPOINT || this.stack.sqs.endpoint;
  }

  key(...parts) {
    return this.prefix + parts.join('/');
  }

  objectUrl(key) {
    return `${this.endpoint}/${this.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  // Every key under the upload prefix + rest, all pages.
  async keys(rest = '') {
    const out = [];
    let token = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const q = new URLSearchParams({ 'list-type': '2', prefix: this.prefix + rest });
      if (token) q.set('continuation-token', token);
      const r = await fetch(`${this.endpoint}/${this.bucket}?${q}`);
      const xml = await r.text();
      if (r.status !== 200) throw new Error(`ListObjectsV2 ${this.bucket}: ${r.status} ${xml}`);
      for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) out.push(unxml(m[1]));
      const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml);
      if (!/<IsTruncated>true<\/IsTruncated>/.test(xml) || !next) return out;
      token = unxml(next[1]);
    }
    throw new Error(`ListObjectsV2 ${this.bucket}: more than ${MAX_PAGES} pages`);
  }

  // The uploads of a tenant as "run/name", sorted; the local store also shows an empty
  // run folder as "run/" (S3 has no folders).
  async list(tenantId) {
    if (this.s3) return (await this.keys(`${tenantId}/`)).map((k) => k.slice(this.key(tenantId, '').length)).sort();
    const base = path.join(this.stack.uploadDir, tenantId);
    const out = [];
    for (const run of readdirOrNull(base) ?? []) {
      const names = readdirOrNull(path.join(base, run));
      if (names === null) continue;
      if (names.length === 0) out.push(`${run}/`);
      for (const n of names) out.push(`${run}/${n}`);
    }
    return out.sort();
  }

  // The tenants that have anything stored.
  async tenants() {
    if (this.s3) return [...new Set((await this.keys()).map((k) => k.slice(this.prefix.length).split('/')[0]))].sort();
    return (readdirOrNull(this.stack.uploadDir) ?? []).sort();
  }

  async names(tenantId, runId) {
    if (this.s3) return (await this.keys(`${tenantId}/${runId}/`)).map((k) => k.slice(this.key(tenantId, runId, '').length));
    return readdirOrNull(path.join(this.stack.uploadDir, tenantId, runId)) ?? [];
  }

  async read(tenantId, runId, name) {
    if (!this.s3) return fs.readFileSync(path.join(this.stack.uploadDir, tenantId, runId, name));
    const r = await fetch(this.objectUrl(this.key(tenantId, runId, name)));
    if (r.status !== 200) throw new Error(`GetObject ${this.key(tenantId, runId, name)}: ${r.status}`);
    return Buffer.from(await r.arrayBuffer());
  }

  async size(tenantId, runId, name) {
    if (!this.s3) {
      try {
        return fs.statSync(path.join(this.stack.uploadDir, tenantId, runId, name)).size;
      } catch (e) {
        if (e.code === 'ENOENT') return null;
        throw e;
      }
    }
    const r = await fetch(this.objectUrl(this.key(tenantId, runId, name)), { method: 'HEAD' });
    if (r.status === 404) return null;
    if (r.status !== 200) throw new Error(`HeadObject ${this.key(tenantId, runId, name)}: ${r.status}`);
    return Number(r.headers.get('content-length'));
  }

  // Remove a stored upload by its upload_uri (a file gone from the store behind the programs' back).
  async removeUri(uri) {
    if (uri.startsWith('file://')) return fs.rmSync(uri.slice('file://'.length));
    const key = uri.slice(`s3://${this.bucket}/`.length);
    const r = await fetch(this.objectUrl(key), { method: 'DELETE' });
    if (r.status !== 204 && r.status !== 200) throw new Error(`DeleteObject ${key}: ${r.status}`);
  }

  // The upload_uri core-api writes for this upload (in the run's config and the message).
  uri(tenantId, runId, name) {
    if (this.s3) return `s3://${this.bucket}/${this.key(tenantId, runId, name)}`;
    return `file://${fs.realpathSync(path.join(this.stack.uploadDir, tenantId, runId, name))}`;
  }
}
