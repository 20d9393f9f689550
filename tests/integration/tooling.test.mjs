// The developer tooling under scripts/: the unit runner's per-test timeout
// (run-unit.sh kills a hung test binary and says so).
// Needs no build and no stack: plain processes on throwaway files.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNNER = path.join(ROOT, 'scripts/run-unit.sh');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tooling test '));   // a space on purpose
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const literally = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');   // a RegExp source

function script(name, body) {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

// Runs the unit runner on the given binaries; a hung runner fails the test at 30 s.
function runUnit(bins, env = {}) {
  const t0 = Date.now();
  const r = spawnSync(RUNNER, bins, { encoding: 'utf8', timeout: 30000,
    env: { ...process.env, ...env } });
  return { ...r, seconds: (Date.now() - t0) / 1000, out: `${r.stdout}${r.stderr}` };
}

// Asserts that the process whose pid a test script wrote is gone (a zombie waiting
// for init to reap it counts as gone), waiting up to 2 s; kills it if not, so a
// broken runner does not leave it behind.
function assertGone(pidFile, what) {
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  const stat = `/proc/${pid}/stat`;
  const deadline = Date.now() + 2000;
  for (;;) {
    let running;
    try {
      running = !/^\d+ \(.*\) Z/.test(fs.readFileSync(stat, 'utf8'));
    } catch {
      running = false;
    }
    if (!running) return;
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      assert.fail(`${what} (pid ${pid}) still runs`);
    }
    spawnSync('sleep', ['0.05']);
  }
}

test('run-unit.sh: a hung test binary is killed after UNIT_TEST_TIMEOUT and fails the run', () => {
  const pidFile = path.join(tmp, 'hang.pid');
  const hang = script('hang', `echo $$ > '${pidFile}'\necho started\nexec sleep 300`);
  const pass = script('pass', 'echo all good');
  const r = runUnit([hang, pass], { UNIT_TEST_TIMEOUT: '1' });
  assertGone(pidFile, 'the hung test');
  assert.equal(r.error, undefined, `runner did not finish: ${r.error}`);
  assert.equal(r.status, 1, r.out);
  assert.match(r.stdout, new RegExp(`^timed out after 1 s: ${literally(hang)}$`, 'm'));
  assert.match(r.stdout, /^unit test programs: 1 passed, 1 failed$/m);
  assert.match(r.stdout, new RegExp(`^failed: ${literally(hang)}$`, 'm'));
  assert.match(r.stdout, /^started$/m, 'the output of the hung test is shown');
  assert.doesNotMatch(r.stdout, /all good/, 'a passing test stays quiet');
  assert.doesNotMatch(r.out, /Killed/, 'no job notice from the shell');
  assert.ok(r.seconds < 10, `took ${r.seconds} s`);
});

test('run-unit.sh: a test that ignores TERM gets KILL', () => {
  const pidFile = path.join(tmp, 'stubborn.pid');
  const stubborn = script('stubborn', `echo $$ > '${pidFile}'\ntrap '' TERM\nwhile :; do sleep 0.1; done`);
  const r = runUnit([stubborn], { UNIT_TEST_TIMEOUT: '1' });
  assertGone(pidFile, 'the test that ignores TERM');
  assert.equal(r.status, 1, r.out);
  assert.match(r.stdout, new RegExp(`^timed out after 1 s: ${literally(stubborn)}$`, 'm'));
  assert.ok(r.seconds < 10, `took ${r.seconds} s`);
});

test('run-unit.sh: passing and plainly failing tests are not called timed out', () => {
  const pass = script('pass2', 'echo ok');
  const slowPass = script('slow-pass', 'sleep 0.3');
  const fail = script('fail', 'echo "assertion failed here"; exit 124');
  let r = runUnit([pass, slowPass], { UNIT_TEST_TIMEOUT: '5' });
  assert.equal(r.status, 0, r.out);
  assert.match(r.stdout, /^unit test programs: 2 passed, 0 failed$/m);
  assert.doesNotMatch(r.out, /timed out/);
  // exits 124 on its own, well inside the limit: a failure, not a timeout
  r = runUnit([fail, pass], { UNIT_TEST_TIMEOUT: '5' });
  assert.equal(r.status, 1, r.out);
  assert.match(r.stdout, /assertion failed here/);
  assert.match(r.stdout, /^unit test programs: 1 passed, 1 failed$/m);
  assert.doesNotMatch(r.out, /timed out/);
});

test('run-unit.sh: a malformed UNIT_TEST_TIMEOUT is refused, an empty or unset one is the default', () => {
  const pass = script('pass3', 'exit 0');
  for (const bad of ['abc', '-1', '1.5', '5s']) {
    const r = runUnit([pass], { UNIT_TEST_TIMEOUT: bad });
    assert.equal(r.status, 2, `UNIT_TEST_TIMEOUT=${bad}: ${r.out}`);
    assert.match(r.stderr, /UNIT_TEST_TIMEOUT must be a whole number of seconds/);
  }
  assert.equal(runUnit([pass], { UNIT_TEST_TIMEOUT: '' }).status, 0);
  const env = { ...process.env };
  delete env.UNIT_TEST_TIMEOUT;
  assert.equal(spawnSync(RUNNER, [pass], { encoding: 'utf8', timeout: 30000, env }).status, 0);
});
