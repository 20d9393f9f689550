// The developer tooling under scripts/: the unit runner's per-test timeout
// (run-unit.sh kills a hung test binary and says so) and the function size
// checker (check-functions.mjs) on small C fixtures written to a temp dir.
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
const CHECKER = path.join(ROOT, 'scripts/check-functions.mjs');
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

// ---- check-functions.mjs ----

// A function of exactly `lines` lines (name line to closing brace) and `returns` returns.
function cFunction(name, { lines = 5, returns = 1 } = {}) {
  const body = [];
  for (let k = 0; k < returns - 1; k++) body.push(`    if (x == ${k}) return ${k};`);
  while (body.length < lines - 4) body.push('    x++;');
  body.push('    return x;');
  return [`int ${name}(int x)`, '{', ...body, '}'].join('\n') + '\n';
}

function writeFixtures(dir, files) {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

function check(args) {
  const r = spawnSync(process.execPath, [CHECKER, ...args], { encoding: 'utf8', timeout: 30000 });
  const rows = r.stdout.split('\n').map((l) => l.match(/^(.+):(\d+) (\S+): (\d+) lines, (\d+) exits$/))
    .filter(Boolean)
    .map(([, file, start, name, lines, exits]) =>
      ({ file: path.basename(file), start: +start, name, lines: +lines, exits: +exits }));
  return { ...r, rows, byName: Object.fromEntries(rows.map((f) => [f.name, f])) };
}

const FINE = `/* fine.c: things that must not be mistaken for functions or exits */
#include <stddef.h>

struct row { const char *name; int n; };
struct pt { int x, y; };

static const struct row rows[] = {
    {"a{", 1},
    {"b}", 2},
};

static const struct pt origin = (struct pt){ 0, 0 };

typedef struct __attribute__((packed)) {
    int a;
    int b;
} hdr_t;

enum { LIMIT = (1 << 4) };

#define BLOCK(x) do { \\
    if (x) return; \\
} while (0)

#define ONE 1 /* a comment that starts on a directive {
   and ends later, return return } */

static int braces_in_strings(int x)
{
    const char *s = "}{ return; goto out; {";
    char open = '{', close = '}', quote = '"';

    (void)s; (void)open; (void)close; (void)quote;
    /* return return return } */
    // goto goto {
    if (x)
        return 1;
    return 0;
}

static int
multi_line(int a,
           int b,
           int multi)
{
    return a + b + multi;
}

static void (*pick(int k))(int)
{
    (void)k;
    return NULL;
}

__attribute__((unused)) static void noop(void) __attribute__((cold));
static void noop(void)
{
}
`;

test('check-functions.mjs: reports 9 exits and 120 lines, not the fine ones', () => {
  const dir = writeFixtures(path.join(tmp, 'check-bad'), {
    'fine.c': FINE,
    'nine.c': cFunction('nine_returns', { returns: 9 }),
    'long.c': cFunction('too_long', { lines: 120 }),
    'edge.c': cFunction('eight_returns', { returns: 8 }) + cFunction('lines_99', { lines: 99 }),
  });
  const r = check([dir]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.deepEqual(r.rows.map((f) => f.name).sort(), ['nine_returns', 'too_long']);
  assert.deepEqual(r.byName.nine_returns, { file: 'nine.c', start: 1, name: 'nine_returns', lines: 12, exits: 9 });
  assert.deepEqual(r.byName.too_long, { file: 'long.c', start: 1, name: 'too_long', lines: 120, exits: 1 });
  assert.match(r.stderr, /2 function\(s\) over 99 lines or 8 exits/);
});

test('check-functions.mjs --list: exactly the functions, with their lines and exits', () => {
  const dir = writeFixtures(path.join(tmp, 'check-fine'), {
    'fine.c': FINE,
    'edge.c': cFunction('eight_returns', { returns: 8 }) + cFunction('lines_99', { lines: 99 }),
  });
  const r = check(['--list', dir]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /check-functions: 6 functions, none over 99 lines or 8 exits/);
  assert.deepEqual(r.rows.map((f) => f.name).sort(),
    ['braces_in_strings', 'eight_returns', 'lines_99', 'multi_line', 'noop', 'pick']);
  const fine = (name) => { const { file, ...rest } = r.byName[name]; assert.equal(file, 'fine.c'); return rest; };
  // 2 returns; the ones in the string and the comments are not counted
  assert.deepEqual(fine('braces_in_strings'), { start: 28, name: 'braces_in_strings', lines: 12, exits: 2 });
  // counted from the name's line, not from a later "multi" inside the parameters
  assert.deepEqual(fine('multi_line'), { start: 42, name: 'multi_line', lines: 6, exits: 1 });
  assert.deepEqual(fine('pick'), { start: 49, name: 'pick', lines: 5, exits: 1 });
  assert.deepEqual(fine('noop'), { start: 56, name: 'noop', lines: 3, exits: 1 });   // falls off the end
  assert.equal(r.byName.eight_returns.exits, 8);
  assert.equal(r.byName.lines_99.lines, 99);
});

test('check-functions.mjs runs when reached through a symlink or a path with a space', () => {
  const dir = writeFixtures(path.join(tmp, 'check-link'), { 'nine.c': cFunction('nine_returns', { returns: 9 }) });
  const link = path.join(tmp, 'linked checker.mjs');
  fs.symlinkSync(CHECKER, link);
  const r = spawnSync(process.execPath, [link, dir], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /nine_returns: 12 lines, 9 exits/);
});
