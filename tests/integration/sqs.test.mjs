// The C SQS client against the fauxqs emulator: starts the emulator with the
// ingest queue pair (maxReceiveCount 3) and runs the cmocka program
// build/tests/integration/c/test_sqs against it. BUILD_DIR=build-san runs the
// sanitizer build instead.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSqs } from '../lib/sqs-emulator.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD_DIR = process.env.BUILD_DIR ?? 'build';
const BIN = resolve(ROOT, BUILD_DIR, 'tests/integration/c/test_sqs');
const RUN_TIMEOUT_MS = 120_000;

let sqs;

before(async () => {
  sqs = await startSqs({ maxReceiveCount: 3 });
});

after(async () => {
  await sqs?.stop();
});

function run(bin, env) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, out });
    });
  });
}

test('C SQS client against the emulator (test_sqs)', { timeout: RUN_TIMEOUT_MS + 10_000 }, async (t) => {
  assert.ok(existsSync(BIN), `${BIN} is missing: build it with make (BUILD_DIR=${BUILD_DIR})`);
  const { code, signal, out } = await run(BIN, {
    ...process.env,
    TEST_SQS_ENDPOINT: sqs.endpoint,
    TEST_SQS_QUEUE_URL: sqs.queueUrl,
    TEST_SQS_DLQ_URL: sqs.dlqUrl,
    // Sanitizer builds: fail on the first report and say where.
    ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1:abort_on_error=0',
    UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? 'print_stacktrace=1:halt_on_error=1',
  });
  t.diagnostic(`test_sqs exit ${code}${signal ? ` signal ${signal}` : ''}`);
  assert.equal(code, 0, `test_sqs failed (exit ${code}, signal ${signal}):\n${out}`);
});
