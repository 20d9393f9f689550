// The documentation keeps up with the code: every configuration variable of the
// table is on docs/configuration.md, and the README names both commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../lib/stack.mjs';

const buildDir = path.resolve(ROOT, process.env.BUILD_DIR ?? 'build');

test('every configuration variable is documented', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/configuration.md'), 'utf8');
  for (const prog of ['core-api', 'ingest-worker']) {
    const r = spawnSync(path.join(buildDir, prog), ['config'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const names = r.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]);
    assert.ok(names.length > 10, `${prog} config printed its table`);
    for (const n of names) assert.ok(doc.includes(`\`${n}\``), `${n} (${prog}) missing from docs/configuration.md`);
  }
});

test('the README names the run and test commands, and they exist', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  for (const cmd of ['scripts/dev.sh', 'scripts/test.sh']) {
    assert.ok(readme.includes(cmd), `README names ${cmd}`);
    fs.accessSync(path.join(ROOT, cmd), fs.constants.X_OK);
  }
});

test('every subsystem folder of src/ has a README', () => {
  const folders = ['src/api', 'src/common', 'src/worker', 'src/worker/extract'];
  for (const f of folders) {
    const p = path.join(ROOT, f, 'README.md');
    assert.ok(fs.existsSync(p), `${f}/README.md is missing`);
    assert.ok(fs.readFileSync(p, 'utf8').length > 500, `${f}/README.md says too little`);
  }
});

test('every source path the docs name exists', () => {
  const docs = ['README.md', 'docs/development.md', 'docs/retrieval.md', 'docs/operations.md', 'docs/api.md',
    'src/api/README.md', 'src/common/README.md', 'src/worker/README.md', 'src/worker/extract/README.md'];
  const missing = [];
  for (const d of docs) {
    const text = fs.readFileSync(path.join(ROOT, d), 'utf8');
    for (const m of text.matchAll(/`((?:src|tests|scripts|bench|db|web)\/[\w./-]+\.(?:c|h|mjs|sh|sql|md|jsx|js))`/g)) {
      if (/NNNN/.test(m[1])) continue;   // a pattern, not a path
      if (!fs.existsSync(path.join(ROOT, m[1]))) missing.push(`${d}: ${m[1]}`);
    }
  }
  assert.deepEqual(missing, [], 'paths named in the docs that do not exist');
});
