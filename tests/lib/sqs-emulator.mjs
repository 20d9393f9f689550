// A local SQS for tests and the dev stack: fauxqs (pinned in the root
// package.json) run quietly in a child process, bound to 127.0.0.1 only, with
// a main queue whose RedrivePolicy points at a DLQ.
//
//   import { startSqs } from '../lib/sqs-emulator.mjs';
//   const sqs = await startSqs({ maxReceiveCount: 3 });
//   // sqs.endpoint, sqs.queueUrl, sqs.dlqUrl, sqs.port
//   await sqs.stop();
//
// Why a child process: stop() can always kill it, a crash in the emulator
// cannot take the test runner down, and fauxqs's timers never keep the
// runner's event loop alive. The child exits when its IPC channel to the
// parent closes, so it dies with the parent even on SIGKILL.
//
// fauxqs facts this relies on (1.9.2):
// - startFauxqs() always listens on 0.0.0.0, so the child uses the exported
//   buildApp() and listens itself on 127.0.0.1 (and checks the bound address);
// - queue URLs are http://sqs.<region>.localhost:PORT/000000000000/NAME and
//   only that exact string is accepted as QueueUrl; requests go to the
//   endpoint http://127.0.0.1:PORT with the QueueUrl in the JSON body;
// - only the AWS JSON 1.0 protocol is spoken; state lives in memory only.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 30000;   // generous: CI machines are small and busy

// --- child side --------------------------------------------------------------

async function childMain() {
  const die = (code) => process.exit(code);
  process.on('disconnect', () => die(0));   // parent gone
  process.on('SIGTERM', () => die(0));
  process.on('SIGINT', () => die(0));

  const port = Number(process.env.SQS_EMULATOR_PORT ?? '0');
  let app;
  try {
    const { buildApp } = await import('fauxqs');
    app = buildApp({ logger: false, host: 'localhost' });
    await app.listen({ port, host: HOST });
  } catch (e) {
    process.send({ type: 'error', code: e.code ?? 'ESTART', message: e.message });
    process.disconnect();
    die(1);
    return;
  }
  const addr = app.server.address();
  if (!addr || addr.address !== HOST) {
    process.send({ type: 'error', code: 'EBIND', message: `bound to ${JSON.stringify(addr)}` });
    die(1);
    return;
  }
  process.on('message', async (m) => {
    if (m && m.type === 'stop') {
      try { await app.close(); } catch { /* exiting anyway */ }
      die(0);
    }
  });
  process.send({ type: 'ready', port: addr.port });
}

// --- parent side -------------------------------------------------------------

async function sqsCall(endpoint, action, body) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AmazonSQS.${action}`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json = {};
  try { json = text ? JSON.parse(text) : {}; } catch { /* reported below */ }
  if (!res.ok) {
    throw new Error(`sqs ${action}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
  return json;
}

function spawnChild(port) {
  const child = fork(SELF, ['--sqs-emulator-child'], {
    env: { ...process.env, SQS_EMULATOR_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    execArgv: [],   // not the runner's flags (--inspect, --test-*, coverage)
    serialization: 'json',
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });

  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sqs emulator: not ready after ${START_TIMEOUT_MS} ms\n${stderr}`));
    }, START_TIMEOUT_MS);
    child.on('message', (m) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.port);
      } else if (m.type === 'error') {
        clearTimeout(timer);
        const err = new Error(m.code === 'EADDRINUSE'
          ? `sqs emulator: port ${port} on ${HOST} is already in use`
          : `sqs emulator: failed to start: ${m.message}`);
        err.code = m.code;
        reject(err);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sqs emulator: exited early (code ${code}, signal ${signal})\n${stderr}`));
    });
  });
  return { child, ready, stderr: () => stderr };
}

/**
 * Start fauxqs on 127.0.0.1 and create the DLQ and the main queue.
 * The child is unref'd: it never keeps the caller alive by itself (a
 * long-running caller such as scripts/sqs-emulator.mjs keeps itself alive).
 * @returns {Promise<{endpoint: string, queueUrl: string, dlqUrl: string, port: number,
 *                    stop: () => Promise<void>, exited: Promise<void>, pid: number}>}
 */
export async function startSqs({
  port = 0,
  maxReceiveCount = 3,
  queueName = 'ingest',
  dlqName = 'ingest-dlq',
  visibilityTimeout = 30,
} = {}) {
  const { child, ready, stderr } = spawnChild(port);
  const exited = new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  let stopped = false;
  async function stop() {
    if (stopped) return exited;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      // Keep this process alive until the child is really gone.
      child.ref();
      child.channel?.ref?.();
      if (child.connected) child.send({ type: 'stop' });
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    }
  }

  let actualPort;
  try {
    actualPort = await ready;
  } catch (e) {
    await stop();
    throw e;
  }
  // The child keeps running until stop(); it must not hold the runner open.
  child.unref();
  child.channel?.unref?.();
  child.stderr.unref?.();

  const endpoint = `http://${HOST}:${actualPort}`;
  try {
    const dlq = await sqsCall(endpoint, 'CreateQueue', {
      QueueName: dlqName,
      Attributes: { VisibilityTimeout: String(visibilityTimeout) },
    });
    const dlqAttrs = await sqsCall(endpoint, 'GetQueueAttributes', {
      QueueUrl: dlq.QueueUrl,
      AttributeNames: ['QueueArn'],
    });
    const dlqArn = dlqAttrs.Attributes?.QueueArn;
    if (!dlqArn) throw new Error('sqs emulator: DLQ has no QueueArn');
    const main = await sqsCall(endpoint, 'CreateQueue', {
      QueueName: queueName,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeout),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: Number(maxReceiveCount),
        }),
      },
    });
    return {
      endpoint, queueUrl: main.QueueUrl, dlqUrl: dlq.QueueUrl, port: actualPort, stop,
      exited,   // resolves when the emulator process ends (expectedly or not)
      pid: child.pid,
    };
  } catch (e) {
    await stop();
    e.message += `\n${stderr()}`;
    throw e;
  }
}

if (process.argv[1] === SELF && process.argv.includes('--sqs-emulator-child')) {
  childMain();
}
