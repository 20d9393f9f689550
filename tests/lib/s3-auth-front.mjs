// A stand-in for S3's access checks in front of the emulator (fauxqs checks no signature):
// a loopback reverse proxy that answers like AWS S3 does when credentials or a bucket
// policy refuse a request, and forwards everything else to the emulator unchanged.
//
//   const front = await startS3AuthFront({ target: stack.sqs.endpoint, keys: { test: 'test' },
//     denyGet: /^\/bucket\/private\// });
//   // front.endpoint: point a source's endpoint at it; await front.stop();
//
// - a request not signed with SigV4 (no "AWS4-HMAC-SHA256 Credential=KEY/..." header):
//   403 AccessDenied, as a bucket without public access answers;
// - signed with an access key id not in `keys` (key id -> secret): 403 InvalidAccessKeyId
//   (S3's answer to an unknown or deleted key);
// - signed with a known key id whose signature does not verify with its secret (SigV4:
//   the canonical request of the headers the client signed, its path and sorted query, the
//   x-amz-content-sha256 it sent): 403 SignatureDoesNotMatch, S3's answer to a wrong secret;
// - a GET whose path matches `denyGet` (a policy denying s3:GetObject on a prefix): 403
//   AccessDenied, while the listing still shows the key.
// `requests` counts what was refused and forwarded, so a test can see the front was used.
import crypto from 'node:crypto';
import http from 'node:http';

const xmlError = (code, message) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
  '<RequestId>0000000000000000</RequestId></Error>';

function refuse(res, code, message) {
  const body = xmlError(code, message);
  res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const hmac = (key, text) => crypto.createHmac('sha256', key).update(text).digest();
const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');

// Does the request's SigV4 signature verify with secret? auth: the parsed Authorization header.
function signatureOk(req, auth, secret) {
  const [path, query = ''] = req.url.split('?');
  const canonicalQuery = query === '' ? '' : query.split('&').map((p) => (p.includes('=') ? p : `${p}=`)).sort().join('&');
  const signed = auth.signedHeaders.split(';');
  const headers = signed.map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [req.method, path, canonicalQuery, headers, auth.signedHeaders,
    req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD'].join('\n');
  const date = req.headers['x-amz-date'] ?? '';
  const toSign = ['AWS4-HMAC-SHA256', date, auth.scope, sha256(canonical)].join('\n');
  const [day, region, service] = auth.scope.split('/');
  let k = hmac(`AWS4${secret}`, day);
  for (const part of [region, service, 'aws4_request']) k = hmac(k, part);
  return hmac(k, toSign).toString('hex') === auth.signature;
}

function parseAuth(header) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)/.exec(header ?? '');
  return m ? { key: m[1], scope: m[2], signedHeaders: m[3], signature: m[4] } : null;
}

export async function startS3AuthFront({ target, keys = {}, denyGet = null }) {
  const to = new URL(target);
  const requests = { refused: 0, forwarded: 0 };
  const server = http.createServer((req, res) => {
    const auth = parseAuth(req.headers.authorization);
    if (!auth) {
      requests.refused++;
      req.resume();
      return refuse(res, 'AccessDenied', 'Access Denied');
    }
    if (!Object.hasOwn(keys, auth.key)) {
      requests.refused++;
      req.resume();
      return refuse(res, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    }
    if (!signatureOk(req, auth, keys[auth.key])) {
      requests.refused++;
      req.resume();
      return refuse(res, 'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
    }
    if (denyGet && req.method === 'GET' && denyGet.test(decodeURIComponent(req.url.split('?')[0]))) {
      requests.refused++;
      req.resume();
      return refuse(res, 'AccessDenied', 'Access Denied');
    }
    requests.forwarded++;
    const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url,
      headers: { ...req.headers, host: to.host } }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    requests,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
