// Same-origin client for the core-api HTTP API (docs/api.md).
// Every error becomes an ApiError whose message is the server's error.message
// when there is one; any 401 outside the login call sends the user to /login/.

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

const STATUS_TEXT = {
  400: 'The request was not valid.',
  401: 'You are not signed in.',
  403: 'You are not allowed to do this.',
  404: 'Not found.',
  409: 'Conflict: it already exists.',
  413: 'The file is too large.',
  415: 'This file type is not supported.',
  429: 'Too many attempts; try again later.',
  500: 'The server had an internal error.',
  502: 'The server is unreachable (bad gateway).',
  503: 'The service is unavailable right now.',
  504: 'The server took too long to answer.',
};

export function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function errorFromResponse(status, data, retryAfter) {
  const e = data && typeof data === 'object' ? data.error : null;
  let message =
    e && typeof e === 'object' && typeof e.message === 'string' && e.message.trim()
      ? e.message
      : STATUS_TEXT[status] || `Request failed (HTTP ${status}).`;
  const code = e && typeof e === 'object' && typeof e.code === 'string' ? e.code : `http_${status}`;
  if (status === 429 && retryAfter) message += ` (retry after ${retryAfter} s)`;
  return new ApiError(status, code, message, data);
}

let redirecting = false;

/** Session missing or expired: back to the login page, remembering where we were. */
export function sessionExpired(expired = true) {
  if (typeof window === 'undefined' || redirecting) return;
  const here = window.location.pathname + window.location.search;
  if (window.location.pathname.replace(/\/+$/, '') === '/login') return;
  redirecting = true;
  const q = new URLSearchParams();
  if (expired) q.set('expired', '1');
  q.set('next', here);
  window.location.assign(`/login/?${q.toString()}`);
}

export function resetRedirectGuard() {
  redirecting = false;
}

/**
 * fetch wrapper. opts: method, body (JSON-encoded), on401 ('redirect' | 'throw').
 * Resolves with the parsed JSON body (or null for an empty body).
 */
export async function api(path, opts = {}) {
  const { method = 'GET', body, on401 = 'redirect', signal } = opts;
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body !== undefined ? JSON.stringify(body) : undefined,
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Network error: the server could not be reached.', null);
  }
  let text = '';
  try {
    text = await res.text();
  } catch {
    text = '';
  }
  const data = parseJson(text);
  if (!res.ok) {
    const err = errorFromResponse(res.status, data, res.headers.get('Retry-After'));
    if (res.status === 401 && on401 === 'redirect') sessionExpired(true);
    throw err;
  }
  return data;
}

/**
 * Upload one file with XMLHttpRequest so that upload progress can be shown.
 * onProgress(loaded, total). Resolves {status, data}; rejects ApiError.
 * Returns {promise, abort}.
 */
export function uploadFile(file, { title, docId, onProgress } = {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    const form = new FormData();
    if (title) form.append('title', title);
    if (docId) form.append('doc_id', docId);
    form.append('file', file, file.name);
    xhr.open('POST', '/v1/ingest');
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (ev) => {
      if (onProgress) onProgress(ev.loaded, ev.lengthComputable ? ev.total : file.size);
    };
    xhr.upload.onload = () => {
      if (onProgress) onProgress(file.size, file.size);
    };
    xhr.onload = () => {
      const data = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve({ status: xhr.status, data });
        return;
      }
      const err = errorFromResponse(xhr.status, data, xhr.getResponseHeader('Retry-After'));
      if (xhr.status === 401) sessionExpired(true);
      reject(err);
    };
    let sent = 0;
    xhr.upload.addEventListener('progress', (ev) => {
      sent = ev.loaded;
    });
    xhr.onerror = () =>
      reject(
        new ApiError(
          0,
          'network',
          sent < file.size
            ? 'The connection closed before the whole file was sent (the server may have refused it, for example because it is over the size limit).'
            : 'Network error: no answer from the server for this upload.',
          null,
        ),
      );
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'Upload cancelled.', null));
    xhr.ontimeout = () => reject(new ApiError(0, 'timeout', 'The upload timed out.', null));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

export const TERMINAL = new Set(['succeeded', 'failed', 'skipped']);
export const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'skipped'];
