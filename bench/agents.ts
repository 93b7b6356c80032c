// npm run bench:agents — the service with thousands of node agents (issue 18, item 3). `vws serve
// --driver qemu` on PostgreSQL (a schema of its own) and `vws agent-swarm` (real NodeAgents on real
// WebSockets, simulated VMs) as separate processes, the live leases put in through the API.
//
// (1) Failover: two servers on the store, NODES agents that know both, LIVE running leases, the
//     pool reconciled; the leader is killed -9 and the follower takes over. Measured from the kill:
//     every agent welcomed again, the pool fully reconciled (every running lease's VMs recorded
//     running on its nodes, heard of since the loss, and no live VM for a lease that is not
//     running), creates per second meanwhile, and the server's memory per agent.
// (2) Decisions: LOAD_NODES agents; autocannon's create load with no live lease (the baseline, in
//     the same run), then with LOAD_LIVE live leases; the ratio of the two.
//
// Full size by default (2,000 nodes, 20,000 leases; 1,000 and 10,000 for (2)); --quick: a tenth.
// BENCH_NODES, BENCH_LIVE, BENCH_LOAD_NODES, BENCH_LOAD_LIVE, BENCH_SECONDS override. Writes
// bench/results/agents.json (agents-quick.json for --quick; BENCH_PARTS=failover or creates runs
// one part, into agents-failover.json or agents-creates.json).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createLoad, fill, poolState, type PoolState, type Proc, quiet, root, rssMiB, type Server, startServer, startSwarm, stop } from './agent-swarm-processes.ts';

const quick = process.argv.includes('--quick');
const size = (name: string, full: number): number => Number(process.env[name] ?? (quick ? full / 10 : full));
const NODES = size('BENCH_NODES', 2000);
const LIVE = size('BENCH_LIVE', 20_000);
const LOAD_NODES = size('BENCH_LOAD_NODES', 1000);
const LOAD_LIVE = size('BENCH_LOAD_LIVE', 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Room for ten one-CPU 1 GiB leases per node and more. */
const NODE_CPU = 16;
const NODE_MEMORY = 65_536;
const POSTGRES = process.env.VWS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

const seconds = (ms: number): number => Math.round(ms / 100) / 10;
const say = (line: string): void => console.log(`bench:agents: ${line}`);

/**
 * The server is lost and serves again: kill -9, and `vws serve` started again on the same store,
 * data and port. The one step to swap for "kill the leader, wait for another" once several
 * servers follow one leader.
 */
/** The leader killed -9; the follower takes over (its term runs out, it campaigns, replays the log). */
async function failover(leader: Server, follower: Server): Promise<{ server: Server; lostAt: number }> {
  await stop(leader, 'SIGKILL');
  const lostAt = Date.now();
  await follower.line(/leading as epoch/, 'the follower to take over', 120_000);
  return { server: follower, lostAt };
}

/**
 * The pool as it stands once nothing has changed for two seconds: before the failover some
 * workspace rows may be missing for good (a workspace write that failed, see docs/benchmarks.md),
 * though their VMs run; the failover's hellos write them again.
 */
async function settled(db: pg.Client, atLeast: number): Promise<PoolState> {
  let last = '';
  let since = Date.now();
  for (;;) {
    const s = await poolState(db, 0);
    const now = JSON.stringify(s);
    if (now !== last) [last, since] = [now, Date.now()];
    else if (s.wanted >= atLeast && Date.now() - since >= 2000) return s;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Polls the store until every running lease's VMs are reconciled (heard of since `sinceMs`). */
async function reconciled(db: pg.Client, sinceMs: number, atLeast: number): Promise<{ at: number; wanted: number }> {
  for (;;) {
    const s = await poolState(db, Math.floor(sinceMs / 1000));
    if (s.wanted >= atLeast && s.reconciled === s.wanted && s.strays === 0) return { at: Date.now(), wanted: s.wanted };
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function withSchema<T>(name: string, run: (store: string, db: pg.Client, dataDir: string) => Promise<T>): Promise<T> {
  const schema = `vws_bench_agents_${name}_${process.pid}`;
  const db = new pg.Client({ connectionString: POSTGRES, options: `-c search_path=${schema}` });
  await db.connect();
  const dataDir = mkdtempSync(join(tmpdir(), 'vws-bench-agents-'));
  try {
    return await run(`${POSTGRES}?schema=${schema}`, db, dataDir);
  } finally {
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function swarmOf(server: Server, nodes: number, others: Server[] = []): Promise<{ swarm: Proc; seconds: number }> {
  const t0 = Date.now();
  const swarm = startSwarm([server, ...others].map((s) => s.url).join(','), nodes, NODE_CPU, NODE_MEMORY);
  await swarm.line(new RegExp(`all ${nodes} agents welcomed \\(round 1,`), `${nodes} agents welcomed`);
  return { swarm, seconds: seconds(Date.now() - t0) };
}

async function failoverRun(): Promise<Record<string, unknown>> {
  return withSchema('failover', async (store, db, dataDir) => {
    let server = await startServer(dataDir, store, undefined, { name: 'a' });
    const follower = await startServer(dataDir, store, undefined, { name: 'b', leads: false });
    let swarm: Proc | null = null;
    try {
      const rssEmpty = rssMiB(server.proc.pid!);
      const joined = await swarmOf(server, NODES, [follower]);
      swarm = joined.swarm;
      const rssAgents = rssMiB(server.proc.pid!);
      say(`${NODES} agents joined in ${joined.seconds} s; server RSS ${rssEmpty} → ${rssAgents} MiB`);
      const filled = await fill(server.url, LIVE);
      const t0 = Date.now();
      const before = await settled(db, LIVE);
      const rssFull = rssMiB(server.proc.pid!);
      say(`${LIVE} live leases in ${filled.seconds} s (${filled.perSecond}/s), settled ${seconds(Date.now() - t0 - 2000)} s later with ${before.reconciled} of ${before.wanted} workspaces recorded running, ${before.strays} strays; server RSS ${rssFull} MiB`);

      const lost = await failover(server, follower);
      server = lost.server;
      const serving = Date.now();
      const [load, hello, pool] = await Promise.all([
        createLoad(server.url, SECONDS),
        swarm.line(/all \d+ agents welcomed \(round 2,/, 'every agent welcomed again'),
        reconciled(db, lost.lostAt, LIVE),
      ]);
      const rssAfter = rssMiB(server.proc.pid!);
      // A failover must not cost leases: nodes the new server gave up on (an agent not heard within its grace) move or fail theirs.
      const lostNodes = await db.query(`SELECT type, COUNT(*)::int AS n FROM events WHERE time >= $1 AND type IN ('node.unavailable', 'lease.requeued', 'workspace.stray') GROUP BY type`, [Math.floor(lost.lostAt / 1000)]);
      const casualties = Object.fromEntries(lostNodes.rows.map((r: { type: string; n: number }) => [r.type, r.n]));
      const row = {
        nodes: NODES, liveLeases: LIVE, agentsJoinSeconds: joined.seconds, fill: filled, beforeFailover: before,
        serverServingAgainSeconds: seconds(serving - lost.lostAt),
        allAgentsHelloAgainSeconds: seconds(hello.at - lost.lostAt),
        fullyReconciledSeconds: seconds(pool.at - lost.lostAt),
        reconciledVms: pool.wanted, afterFailoverEvents: casualties,
        swarmAfterHello: hello.text.replace(/^vws agent-swarm: /, ''),
        createsWhileReconciling: load,
        serverRssMiB: { empty: rssEmpty, withAgents: rssAgents, withLeases: rssFull, afterFailover: rssAfter },
        serverRssPerAgentKiB: Math.round(((rssAgents - rssEmpty) * 1024) / NODES),
        serverRssPerAgentWithLeasesKiB: Math.round(((rssFull - rssEmpty) * 1024) / NODES),
      };
      say(`failover: serving again ${row.serverServingAgainSeconds} s, every agent hello ${row.allAgentsHelloAgainSeconds} s, fully reconciled ${row.fullyReconciledSeconds} s after the kill; ` +
        `creates meanwhile ${Math.round(load.requestsPerSecond)}/s p99 ${load.latencyMs.p99} ms; RSS per agent ${row.serverRssPerAgentKiB} KiB (${row.serverRssPerAgentWithLeasesKiB} KiB with the leases); since the kill ${JSON.stringify(casualties)}`);
      return row;
    } finally {
      if (swarm) await stop(swarm);
      await stop(server);
      await stop(follower);
    }
  });
}

async function decisionsRun(): Promise<Record<string, unknown>> {
  return withSchema('creates', async (store, _db, dataDir) => {
    const server = await startServer(dataDir, store);
    let swarm: Proc | null = null;
    try {
      swarm = (await swarmOf(server, LOAD_NODES)).swarm;
      const settling = await quiet(server.proc.pid!);
      say(`${LOAD_NODES} agents joined; the server was quiet ${settling} s later`);
      const empty = await createLoad(server.url, SECONDS);
      const filled = await fill(server.url, LOAD_LIVE);
      await quiet(server.proc.pid!);
      const loaded = await createLoad(server.url, SECONDS);
      const ratio = Math.round((loaded.requestsPerSecond / empty.requestsPerSecond) * 1000) / 1000;
      say(`creates with ${LOAD_NODES} agents: no live lease ${Math.round(empty.requestsPerSecond)}/s p99 ${empty.latencyMs.p99} ms; ` +
        `${LOAD_LIVE} live leases ${Math.round(loaded.requestsPerSecond)}/s p50 ${loaded.latencyMs.p50} ms p99 ${loaded.latencyMs.p99} ms (x${ratio} the baseline)`);
      return { nodes: LOAD_NODES, liveLeases: LOAD_LIVE, quietAfterJoinSeconds: settling, baselineNoLiveLeases: empty, fill: filled, withLiveLeases: loaded, overBaseline: ratio };
    } finally {
      if (swarm) await stop(swarm);
      await stop(server);
    }
  });
}

const parts = (process.env.BENCH_PARTS ?? 'failover,creates').split(',');
const failoverResult = parts.includes('failover') ? await failoverRun() : null;
const createsResult = parts.includes('creates') ? await decisionsRun() : null;
mkdirSync(join(root, 'bench/results'), { recursive: true });
// A quick run or a run of one part does not overwrite the full run's figures.
const resultFile = `agents${quick ? '-quick' : ''}${parts.length < 2 ? `-${parts.join('')}` : ''}.json`;
writeFileSync(join(root, 'bench/results', resultFile), `${JSON.stringify({
  aims: 'failover to fully reconciled <= 30 s at 2,000 nodes; creates >= 1,000/s with p99 < 40 ms on PostgreSQL with 1,000 nodes and 10,000 live leases',
  store: 'postgres', quick, seconds: SECONDS, failover: failoverResult, creates: createsResult,
}, null, 2)}\n`);
