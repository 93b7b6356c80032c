// Three servers on one PostgreSQL store, a stream of 1,000 creates with Idempotency-Keys spread over
// all three, and the leader killed -9 three times during it: exactly the accepted leases exist,
// none twice, the schedule passes the shared checker (no node over capacity at any instant), and
// every running lease's VMs are running. Then the fence: the leader paused with SIGSTOP until
// another has taken over, and let go: it steps down, and what it was asked meanwhile is refused.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../support/free-port.ts';
import { type Answer, call as callAs, createUntilAnswered, followersOf, health, leaderOf, type Server, startServer, stopServers } from '../support/serve-processes.ts';
import { bin, root } from '../support/vws-bin.ts';
import { dropTestSchema, freshSchema, TEST_POSTGRES_URL, withTestClient } from '../support/test-postgres.ts';
import { validateSchedule } from '../support/validate-schedule.ts';

const TOKEN = 'vws_test-failover-admin-token';
const CREATES = Number(process.env.VWS_FAILOVER_CREATES ?? 1000);
const schema = freshSchema();
const dir = mkdtempSync(join(tmpdir(), 'vws-failover-'));
const store = `${TEST_POSTGRES_URL}?schema=${schema}`;

const servers: Server[] = [];
const AGENTS = 8;
// VMs run on agents (the agent driver), as at a real site: a swarm of simulated nodes that speak
// the real agent protocol, each knowing all three servers, so that a kill also drops every agent.
const serve = { store, dir, token: TOKEN, nodes: 0, extra: ['--driver', 'qemu', '--vm-network', '10.64.0.0/16'] };
/** The swarm's output, each line with when it came. */
const swarmLines: Array<{ at: number; line: string }> = [];
let swarm: ChildProcess | null = null;

/** The last round in which every agent has been welcomed, and when the swarm said so. */
function lastWelcome(): { round: number; at: number } {
  const said = swarmLines.map((l) => ({ at: l.at, m: new RegExp(`all ${AGENTS} agents welcomed \\(round (\\d+)`).exec(l.line) })).filter((x) => x.m);
  const last = said[said.length - 1];
  return last ? { round: Number(last.m![1]), at: last.at } : { round: 0, at: 0 };
}

async function agentsWelcomedSince(since: number, timeoutMs = 60_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (lastWelcome().at < since) {
    assert.ok(Date.now() < until, `not every agent was welcomed again within ${timeoutMs} ms:\n${swarmLines.slice(-20).map((l) => l.line).join('\n')}\n${servers.map((s) => `--- ${s.name} at ${s.url}:\n${s.output.slice(-2500)}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return lastWelcome().round;
}
const start = (name: string, port: number): Server => startServer(serve, name, port);
const leader = (notEpochBelow = 0, timeoutMs = 30_000): Promise<{ server: Server; epoch: number }> => leaderOf(servers, notEpochBelow, timeoutMs);
const call = (url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => callAs(TOKEN, url, method, path, body, headers);

before(async () => {
  for (const name of ['s1', 's2', 's3']) servers.push(start(name, await freePort()));
  await leader();
  swarm = spawn(process.execPath, [bin, 'agent-swarm', '--server', servers.map((s) => s.url).join(','), '--token', TOKEN, '--nodes', String(AGENTS), '--cpu', '8', '--memory', '16384'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let partial = '';
  const take = (c: Buffer): void => {
    const lines = (partial + c.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) swarmLines.push({ at: Date.now(), line });
  };
  swarm.stdout!.on('data', take);
  swarm.stderr!.on('data', take);
  await agentsWelcomedSince(0);
  for (const until = Date.now() + 30_000; ;) {
    const nodes = (await call((await leader()).server.url, 'GET', '/v1/nodes')).body.nodes as { status: string }[];
    if (nodes.filter((n) => n.status === 'active').length === AGENTS) break;
    assert.ok(Date.now() < until, `the agents' nodes are not all in the pool: ${JSON.stringify(nodes)}\n${servers.map((s) => s.output.slice(-1500)).join('\n')}\n${swarmLines.slice(-10).map((l) => l.line).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  swarm?.kill('SIGKILL');
  await stopServers(servers);
  if (process.env.VWS_FAILOVER_KEEP) return void console.log(`kept schema ${schema} and ${dir}`);
  await dropTestSchema(schema);
  rmSync(dir, { recursive: true, force: true });
});

test(`${CREATES} creates over three servers, the leader killed -9 three times: exactly the accepted leases, none twice, a valid schedule`, { timeout: 600_000 }, async () => {
  const accepted = new Map<string, string>();
  const refused = new Set<string>();
  let retries = 0;
  let next = 0;
  const createOne = async (i: number): Promise<void> => {
    const key = `create-${i}`;
    const request = { kind: 'best-effort', nodes: 1 + (i % 2), cpu: 1 + (i % 3), memoryMiB: 512, duration: 30 + (i % 7) * 20 };
    // Down, leaderless, or lost mid-answer: the same key again, elsewhere.
    const r = await createUntilAnswered(TOKEN, servers, i, key, request, { giveUpMs: 120_000, retried: () => retries++, seen: () => servers.map((x) => `${x.name}: ${x.output.slice(-1500)}`).join('\n') });
    if ('accepted' in r) accepted.set(key, r.accepted);
    else refused.add(key);
  };
  const workers = Array.from({ length: 6 }, async () => {
    for (let i = next++; i < CREATES; i = next++) await createOne(i);
  });
  const epochs: number[] = [];
  let lastKill = 0;
  const killer = (async () => {
    for (const at of [0.25, 0.5, 0.75]) {
      while (accepted.size + refused.size < CREATES * at) await new Promise((r) => setTimeout(r, 20));
      const { server, epoch } = await leader();
      epochs.push(epoch);
      lastKill = Date.now();
      server.child.kill('SIGKILL');
      await server.exited;
      // Back as a follower, so that three servers stay.
      servers[servers.indexOf(server)] = start(server.name, server.port);
    }
  })();
  await Promise.all([...workers, killer]);
  const { server: last, epoch } = await leader();
  assert.ok(epoch >= epochs[epochs.length - 1] + 1, `three takeovers: epochs ${epochs.join(', ')}, now ${epoch}`);
  // No agent orphaned: every one has said hello to the last leader since it took over (the only
  // server that takes agents), and serves as a node under it.
  await agentsWelcomedSince(lastKill);
  for (const until = Date.now() + 60_000; ;) {
    const since = last.output.slice(last.output.lastIndexOf('leading as epoch'));
    const heard = new Set([...since.matchAll(/node '(swarm-\d+)' connected/g)].map((m) => m[1]));
    if (heard.size === AGENTS) break;
    assert.ok(Date.now() < until, `agents not heard by the last leader a minute after it took over: ${AGENTS - heard.size} of ${AGENTS}\n${last.output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const nodes = (await call(last.url, 'GET', '/v1/nodes')).body.nodes as { id: string; status: string }[];
  assert.deepEqual(nodes.filter((n) => n.status !== 'active'), [], 'every node is active under the last leader');
  assert.equal(accepted.size + refused.size, CREATES);
  assert.ok(retries > 0, 'the kills interrupted the stream');

  const ids = [...accepted.values()];
  assert.equal(new Set(ids).size, ids.length, 'a key made two leases');
  const listed: string[] = [];
  for (let after: string | null = ''; after !== null;) {
    const page = await call(last.url, 'GET', `/v1/leases?limit=500${after ? `&after=${after}` : ''}`);
    listed.push(...(page.body.leases as { id: string }[]).map((l) => l.id));
    after = page.body.next as string | null;
  }
  assert.deepEqual([...listed].sort(), [...ids].sort(), 'the leases in the store are exactly the accepted ones');

  const schedule = await call(last.url, 'GET', '/v1/schedule');
  const checked = validateSchedule(String(schedule.body));
  assert.equal(checked.status, 0, `the schedule after three failovers fails the shared checker:\n${checked.output}`);

  // Every running lease's VMs reach running under the last leader (reconciled after the takeovers).
  const until = Date.now() + 60_000;
  for (;;) {
    const running = (await call(last.url, 'GET', '/v1/leases?status=running&limit=500')).body.leases as { id: string }[];
    const behind: string[] = [];
    for (const l of running) {
      const ws = (await call(last.url, 'GET', `/v1/leases/${l.id}/workspaces`)).body.workspaces as { status: string }[];
      if (ws.some((w) => w.status !== 'running')) behind.push(`${l.id} (${ws.map((w) => w.status).join(', ')})`);
    }
    if (behind.length === 0) break;
    assert.ok(Date.now() < until, `leases whose VMs are not running a minute after the last takeover: ${behind.join(', ')}\n${last.output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  // And no VM is left live for a lease that has ended (a stray on an agent the takeover lost track of).
  for (;;) {
    const { rows } = await withTestClient(schema, (c) => c.query(`SELECT w.lease_id, w.idx, w.node, w.status, l.status AS lease FROM workspaces w JOIN leases l ON l.id = w.lease_id
      WHERE l.status IN ('done', 'cancelled', 'failed', 'rejected') AND w.status NOT IN ('stopped', 'failed')`));
    if (rows.length === 0) break;
    assert.ok(Date.now() < until, `VMs live for ended leases a minute after the last takeover: ${JSON.stringify(rows.slice(0, 10))}`);
    await new Promise((r) => setTimeout(r, 500));
  }
});

test('every connection of the servers cut at once (as a database restart does) during a stream of creates: nothing accepted is lost', { timeout: 300_000 }, async () => {
  const ids = new Map<string, string>();
  let cut = false;
  const create = async (i: number): Promise<void> => {
    const key = `cut-${i}`;
    const r = await createUntilAnswered(TOKEN, servers, i, key, { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 256, duration: 30 }, { giveUpMs: 120_000, retried: () => undefined, seen: () => servers.map((x) => `${x.name}: ${x.output.slice(-1500)}`).join('\n') });
    assert.ok('accepted' in r, `create ${key} refused: ${JSON.stringify(r)}`);
    ids.set(key, r.accepted);
  };
  let next = 0;
  const workers = Array.from({ length: 4 }, async () => {
    for (let i = next++; i < 300; i = next++) {
      if (i === 150 && !cut) {
        cut = true;
        const killed = await withTestClient(schema, (c) => c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`vws ${schema}`]));
        assert.ok(killed.rowCount! >= 3, `cut ${killed.rowCount} connections`);
      }
      await create(i);
    }
  });
  await Promise.all(workers);
  const { server } = await leader();
  for (const [key, id] of ids) {
    const r = await call(server.url, 'GET', `/v1/leases/${id}`);
    assert.equal(r.status, 200, `lease ${id} (key ${key}) was accepted and is gone`);
  }
  assert.equal(new Set(ids.values()).size, 300);
  const checked = validateSchedule(String((await call(server.url, 'GET', '/v1/schedule')).body));
  assert.equal(checked.status, 0, checked.output);
});

test('a leader paused (SIGSTOP) until another took over steps down when let go, and its writes are refused', { timeout: 120_000 }, async () => {
  const { server: paused, epoch } = await leader();
  paused.child.kill('SIGSTOP');
  const { server: next, epoch: after } = await leader(epoch + 1);
  assert.notEqual(next, paused);
  assert.equal(after, epoch + 1);
  const before = (await call(next.url, 'GET', '/v1/leases?limit=1')).status;
  assert.equal(before, 200);
  paused.child.kill('SIGCONT');
  const until = Date.now() + 20_000;
  while (!/stepping down/.test(paused.output)) {
    assert.ok(Date.now() < until, `the paused leader did not step down:\n${paused.output.slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  let h = await health(paused);
  // Stepping down closes the service, then answers as a follower on the same port.
  while (h?.role !== 'follower') {
    assert.ok(Date.now() < until, `the paused leader stepped down but does not answer as a follower: ${JSON.stringify(h)}\n${paused.output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
    h = await health(paused);
  }
  assert.equal(h?.leader?.name, next.name);
  // Through the old leader now: forwarded to the new one, which decides.
  const made = await call(paused.url, 'POST', '/v1/leases', { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 256, duration: 60 }, { 'idempotency-key': 'after-pause' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
});

test('the vws client takes a list of servers: past one that is down, a follower answers for the leader', { timeout: 60_000 }, async () => {
  const { server: lead } = await leader();
  // One that follows now (the server paused in the test before may still be changing roles).
  const [follower] = await followersOf(servers, lead);
  const down = `http://127.0.0.1:${await freePort()}`;
  const r = spawnSync(process.execPath, [bin, 'lease', 'list', '--json'], {
    cwd: root, encoding: 'utf8', timeout: 30_000, env: { ...process.env, VWS_SERVER: `${down},${follower.url}`, VWS_TOKEN: TOKEN },
  });
  assert.equal(r.status, 0, `${r.stderr}\n${servers.map((x) => `${x.name} (${x.url}): ${x.output.slice(-1200)}`).join('\n')}`);
  assert.ok(Array.isArray(JSON.parse(r.stdout).leases));
});
