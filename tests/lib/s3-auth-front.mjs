// A stand-in for S3's access checks in front of the emulator (fauxqs checks no signature):
// a loopback reverse proxy that answers like AWS S3 does when credentials or a bucket
// policy refuse a request, and forwards everything else to the emulator unchanged.
//
//   const front = await startS3AuthFront({ target: stack.sqs.endpoint, keys: ['test'],
//     denyGet: /^\/bucket\/private\// });
//   // front.endpoint: point a source's endpoint at it; await front.stop();
//
// - a request not signed with SigV4 (no "AWS4-HMAC-SHA256 Credential=KEY/..." header):
//   403 AccessDenied, as a bucket without public access answers;
// - signed with an access key id not in `keys`: 403 InvalidAccessKeyId (S3's answer to an
//   unknown or deleted key; a known key with a wrong secret gets SignatureDoesNotMatch, also
//   a 403 with an <Error> body: the signature itself is not verified here);
// - a GET whose path matches `denyGet` (a policy denying s3:GetObject on a prefix): 403
//   AccessDenied, while the listing still shows the key.
// `requests` counts what was refused and forwarded, so a test can see the front was used.
import http from 'node:http';

const xmlError = (code, message) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
  '<RequestId>0000000000000000</RequestId></Error>';

function refuse(res, code, message) {
  const body = xmlError(code, message);
  res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startS3AuthFront({ target, keys = [], denyGet = null }) {
  const to = new URL(target);
  const requests = { refused: 0, forwarded: 0 };
  const server = http.createServer((req, res) => {
    const key = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
    if (!key) {
      requests.refused++;
      req.resume();
      return refuse(res, 'AccessDenied', 'Access Denied');
    }
    if (!keys.includes(key)) {
      requests.refused++;
      req.resume();
      return refuse(res, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
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
