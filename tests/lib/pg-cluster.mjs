// A PostgreSQL cluster in a folder of ours (after postgres' PostgreSQL::Test::Cluster):
// initdb into the folder, socket in the folder, a free loopback port, fsync off.
// PostgreSQL refuses to run as root, so as root every server command runs as the
// unprivileged `postgres` user (created by scripts/install-deps.sh), which owns the folder.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';

const isRoot = process.getuid && process.getuid() === 0;
const RUN_AS = process.env.PG_RUN_AS ?? 'postgres';

export function pgBinDir() {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  for (const v of ['15', '16', '17', '14']) {
    const d = `/usr/lib/postgresql/${v}/bin`;
    if (fs.existsSync(path.join(d, 'initdb'))) return d;
  }
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('PostgreSQL server binaries not found: run scripts/install-deps.sh');
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function runPg(bin, args, opts = {}) {
  const exe = path.join(pgBinDir(), bin);
  const [cmd, argv] = isRoot ? ['runuser', ['-u', RUN_AS, '--', exe, ...args]] : [exe, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', ...opts });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${bin} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  }
  return r;
}

// dir: folder owned by us; the cluster lives in dir/data, its socket in dir.
export class PgCluster {
  constructor(dir, port) {
    this.dir = dir;
    this.data = path.join(dir, 'data');
    this.port = port;
    this.log = path.join(dir, 'postgres.log');
  }

  static async create(dir, { port } = {}) {
    fs.mkdirSync(dir, { recursive: true });
    const c = new PgCluster(dir, port ?? (await freePort()));
    if (isRoot) execFileSync('chown', ['-R', `${RUN_AS}:`, dir]);
    if (!fs.existsSync(path.join(c.data, 'PG_VERSION'))) {
      runPg('initdb', ['-D', c.data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8',
        '--locale=C.UTF-8', '--no-sync']);
    }
    return c;
  }

  get superUrl() {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  url(db, user = 'postgres', password) {
    const auth = password ? `${user}:${password}` : user;
    return `postgresql://${auth}@127.0.0.1:${this.port}/${db}`;
  }

  running() {
    return runPg('pg_ctl', ['status', '-D', this.data], { allowFail: true }).status === 0;
  }

  start() {
    if (this.running()) return;
    const opts = [`-p ${this.port}`, `-k ${this.dir}`, "-c listen_addresses=127.0.0.1",
      '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off',
      '-c max_connections=200', '-c shared_buffers=128MB',
      // extra server options for a measurement, e.g. STACK_PG_OPTS='-c shared_preload_libraries=pg_stat_statements'
      ...(process.env.STACK_PG_OPTS ? [process.env.STACK_PG_OPTS] : [])].join(' ');
    const r = runPg('pg_ctl', ['start', '-w', '-t', '60', '-D', this.data, '-l', this.log, '-o', opts],
      { allowFail: true });
    if (r.status !== 0) {
      let tail = '';
      try { tail = fs.readFileSync(this.log, 'utf8').split('\n').slice(-15).join('\n'); } catch {}
      throw new Error(`PostgreSQL did not start on 127.0.0.1:${this.port} (is the port in use?):\n${tail}`);
    }
  }

  stop(mode = 'fast') {
    if (!fs.existsSync(path.join(this.data, 'postmaster.pid'))) return;
    runPg('pg_ctl', ['stop', '-w', '-t', '60', '-D', this.data, '-m', mode], { allowFail: true });
  }
}
