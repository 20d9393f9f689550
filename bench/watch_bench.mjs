// Run status pushed (issue 13): BENCH_WATCHERS (1000) clients long-poll one
// run (GET /v1/ingestion-runs/:id?wait=25 with If-None-Match) on one core-api.
// Prints core-api's RSS growth against its RSS before the watchers came (same
// run), the database transactions per second while nothing changes against
// the same figure with no watcher at all, and for BENCH_CHANGES (5) run
// changes the delivery latency to every watcher and the transactions each
// change cost. The watchers come from several loopback addresses
// (127.0.0.1-4) so the per-address connection limit is not what is measured.
//
//   node bench/watch_bench.mjs      BENCH_WATCHERS, BENCH_IDLE_SECONDS (30), BENCH_WAIT_SECONDS (25), BENCH_CHANGES
import http from 'node:http';
import pg from 'pg';
import { startStack } from '../tests/lib/stack.mjs';
import { envNum, f1, f2, pct, procMem, row, sleep } from './lib.mjs';

const WATCHERS = envNum('BENCH_WATCHERS', 1000);
const IDLE_S = envNum('BENCH_IDLE_SECONDS', 30);
// The web UI's wait (web/lib/useRunPoll.js): the idle window is longer, so re-polls at each wait's end count.
const WAIT_S = envNum('BENCH_WAIT_SECONDS', 25);
const CHANGES = envNum('BENCH_CHANGES', 5);
// BENCH_TARGET=list: the watchers long-poll the runs list (GET /v1/ingestion-runs?limit=20&wait=)
// instead of one run; the change is the same update of a run of the tenant.
const TARGET = process.env.BENCH_TARGET === 'list' ? 'list' : 'run';
const ADDRS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];

function get(base, p, { token, etag, localAddress, agent }) {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${token}` };
    if (etag) headers['if-none-match'] = etag;
    const req = http.request(base + p, { headers, localAddress, agent }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, etag: res.headers.etag, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// Transactions committed or rolled back in db so far, read on one held connection
// (its own statement counts one: the caller subtracts the reads it made).
async function xacts(client, db) {
  const r = await client.query('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [db]);
  return Number(r.rows[0].n);
}

// Idle transactions per second over IDLE_S (stats are flushed at most once a second: wait before and after).
async function idleRate(client, db) {
  await sleep(1200);
  const a = await xacts(client, db);
  await sleep(IDLE_S * 1000);
  const b = await xacts(client, db);
  return (b - a - 1) / IDLE_S;
}

async function main() {
  const stack = await startStack({ worker: false, apiEnv: { HTTP_MAX_CONN_PER_ADDR: '512', LOG_LEVEL: 'warn' } });
  const client = new pg.Client({ connectionString: stack.superUrl });
  await client.connect();
  try {
    const admin = await stack.tenant('watch');
    const up = await stack.upload({ token: admin.token, content: 'watched run\n', filename: 'w.txt' });
    const runId = up.json.run_id;
    const p = TARGET === 'list' ? '/v1/ingestion-runs?limit=20' : `/v1/ingestion-runs/${runId}`;
    const sep = TARGET === 'list' ? '&' : '?';
    const first = await get(stack.baseUrl, p, { token: admin.token });
    const idle0 = await idleRate(client, stack.db);
    const rss0 = procMem(stack.apiPid).rss;

    // The watchers: each re-polls after every answer; changes record when each saw them.
    let stop = false;
    let changeAt = 0;
    let seen = [];
    let errors = 0;
    const agents = ADDRS.map(() => new http.Agent({ keepAlive: true, maxSockets: Infinity }));
    const loops = [];
    for (let i = 0; i < WATCHERS; i++) {
      const a = i % ADDRS.length;
      loops.push((async () => {
        let etag = first.etag;
        while (!stop) {
          try {
            const r = await get(stack.baseUrl, `${p}${sep}wait=${WAIT_S}`, { token: admin.token, etag, localAddress: ADDRS[a], agent: agents[a] });
            if (r.status === 200) {
              if (r.etag !== etag && changeAt) seen.push(Date.now() - changeAt);
              etag = r.etag;
            } else if (r.status !== 304) {
              errors++;
              await sleep(100);
            }
          } catch {
            errors++;
            await sleep(100);
          }
        }
      })());
    }
    // Wait until every watcher is parked in the server.
    await sleep(3000);
    const rssHeld = procMem(stack.apiPid).rss;
    const idle1 = await idleRate(client, stack.db);
    const rssAfterIdle = procMem(stack.apiPid).rss;

    const perChange = [];
    const latencies = [];
    for (let c = 0; c < CHANGES; c++) {
      seen = [];
      const x0 = await xacts(client, stack.db);
      changeAt = Date.now();
      await client.query('UPDATE ingestion_runs SET attempt = attempt + 1, updated_at = now() WHERE run_id = $1', [runId]);
      const deadline = Date.now() + 10000;
      while (seen.length < WATCHERS && Date.now() < deadline) await sleep(20);
      latencies.push(...seen);
      await sleep(1200);
      const x1 = await xacts(client, stack.db);
      perChange.push(x1 - x0 - 2);   // the UPDATE and the second read are the bench's own
    }
    const rssEnd = procMem(stack.apiPid).rss;
    stop = true;
    latencies.sort((a, b) => a - b);

    console.log(`watchers: ${WATCHERS} long polls (wait=${WAIT_S}) on ${TARGET === 'list' ? 'the runs list' : 'one run'}, one core-api, idle window ${IDLE_S} s, shared 2-core machine`);
    row('core-api RSS before watchers (baseline)', f1(rss0 / 1024), 'MiB');
    row('core-api RSS with watchers held', f1(rssHeld / 1024), 'MiB', `+${f1((rssHeld - rss0) / 1024)} MiB (target < 64)`);
    row('core-api RSS after idle + changes', f1(Math.max(rssAfterIdle, rssEnd) / 1024), 'MiB',
      `+${f1((Math.max(rssAfterIdle, rssEnd) - rss0) / 1024)} MiB`);
    row('db transactions/s idle, no watcher (baseline)', f2(idle0), '/s');
    row('db transactions/s idle, watchers held', f2(idle1), '/s', 'target < 5');
    row('db transactions per run change', f1(perChange.reduce((a, b) => a + b, 0) / CHANGES), '',
      `(a polling UI at 1/s would cost ${WATCHERS}/s)`);
    row('change seen by watchers', `${latencies.length}/${WATCHERS * CHANGES}`, '');
    row('delivery latency p50', f1(pct(latencies, 50)), 'ms');
    row('delivery latency p99', f1(pct(latencies, 99)), 'ms');
    row('watcher errors', errors, '');
    // Release the parked requests: the server answers them when it stops.
    for (const a of agents) a.destroy();
  } finally {
    await client.end();
    await stack.stop();
  }
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
