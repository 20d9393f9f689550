#!/usr/bin/env node
// The local SQS for the dev stack: fauxqs on 127.0.0.1 with the ingest queue
// and its DLQ, in the foreground.
//
//   node scripts/sqs-emulator.mjs [--port 4566] [--max-receive-count 3]
//        [--queue ingest] [--dlq ingest-dlq] [--visibility-timeout 30]
//
// Prints one JSON line {"endpoint", "queueUrl", "dlqUrl"} on stdout when the
// queues exist, then runs until SIGTERM or SIGINT. State is in memory only, so
// the queues are created anew on every start. Needs `npm install` at the root.
// Exit codes: 0 clean stop, 2 bad usage, 1 anything else (port busy included).

import { parseArgs } from 'node:util';
import { startSqs } from '../tests/lib/sqs-emulator.mjs';

const USAGE = 'usage: node scripts/sqs-emulator.mjs [--port N] [--max-receive-count N] '
  + '[--queue NAME] [--dlq NAME] [--visibility-timeout S]';

function fail(code, msg) {
  process.stderr.write(`sqs-emulator: ${msg}\n`);
  process.exit(code);
}

function intArg(values, name, def, min, max) {
  const raw = values[name];
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw)) fail(2, `--${name} must be an integer\n${USAGE}`);
  const n = Number(raw);
  if (n < min || n > max) fail(2, `--${name} must be in ${min}..${max}\n${USAGE}`);
  return n;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string' },
      'max-receive-count': { type: 'string' },
      queue: { type: 'string' },
      dlq: { type: 'string' },
      'visibility-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (e) {
  fail(2, `${e.message}\n${USAGE}`);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const opts = {
  port: intArg(values, 'port', 4566, 0, 65535),
  maxReceiveCount: intArg(values, 'max-receive-count', 3, 1, 1000),
  visibilityTimeout: intArg(values, 'visibility-timeout', 30, 0, 43200),
  queueName: values.queue ?? 'ingest',
  dlqName: values.dlq ?? 'ingest-dlq',
};

let sqs;
try {
  sqs = await startSqs(opts);
} catch (e) {
  fail(1, e.message);
}

let stopping = false;
// startSqs does not keep this process alive by itself; the foreground does.
const keepAlive = setInterval(() => {}, 1 << 30);

async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`sqs-emulator: ${signal}, stopping\n`);
  await sqs.stop();
  clearInterval(keepAlive);
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

sqs.exited.then(() => {
  if (!stopping) fail(1, 'the emulator process exited unexpectedly');
});

process.stdout.write(`${JSON.stringify({
  endpoint: sqs.endpoint, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl,
})}\n`);
