// What becomes of a lease when its VM cannot go on as planned, on real nodes: the service in this
// process (an AgentPool, the lease service on SQLite with a clock the test moves, the REST API on
// a port) and two `vws agent` processes running the test guest under QEMU, each in a network
// namespace of its own, joined by a veth for live migrations. A suspended VM whose saved state
// vanished fails its lease when resumed, with a message saying so, and leaves nothing behind; a
// live migration that fails half-way (the destination unreachable once it is ready to receive)
// leaves the VM running at its source, nothing at the destination, and the lease showing where it
// runs. One pool serves the file: each QEMU boot under TCG takes seconds.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildTestGuest } from '../../guest/build.ts';
import type { EventRow } from '../../src/store/store.ts';
import { poolWorld, type PoolWorld } from '../control/support/agent-pool-world.ts';
import { httpGetIn, ip, killAllIn, twoNodeFabric, type TwoNodeFabric } from '../support/netns.ts';
import { type AgentProcess, type LeaseView, qemuPids, registerImage, startAgent, taps, vmLeftovers } from './qemu-pool.ts';

const NODES = ['node-a', 'node-b'] as const;
type Node = (typeof NODES)[number];
const MINUTE = 60_000;

/** Polls until `probe` gives a value; the limit only guards against a hang (a TCG boot takes a while), nothing asserts how fast. */
async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (const end = Date.now() + 3 * MINUTE; Date.now() < end;) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting: ${what}`);
}

let dir: string;
let fabric: TwoNodeFabric;
let world: PoolWorld;
const agents: AgentProcess[] = [];
const agentData = (node: Node): string => join(dir, `agent-${node}`);
const netnsOf = (node: Node): string => fabric.namespaces[NODES.indexOf(node)];

async function call(method: string, path: string, body?: unknown): Promise<LeaseView & { lease?: LeaseView }> {
  const res = await fetch(`${world.server}${path}`, {
    method,
    headers: { authorization: `Bearer ${world.admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

const lease = (id: string): Promise<LeaseView> => call('GET', `/v1/leases/${encodeURIComponent(id)}`);

/** Polls the lease until `ok` likes it (the VMs work in the background); the limit only guards against a hang. */
async function leaseUntil(id: string, what: string, ok: (l: LeaseView) => boolean): Promise<LeaseView> {
  let last: LeaseView | undefined;
  try {
    return await until(what, async () => {
      last = await lease(id);
      return ok(last) ? last : undefined;
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}; last seen ${JSON.stringify(last)}\n${world.logs.join('\n')}\n${agents.map((a) => `${a.name}:\n${a.output()}`).join('\n')}`, { cause: e });
  }
}

/** What a node still holds: QEMU processes and taps in its namespace, files under its agent's VM directories. */
const leftoversOn = (node: Node): string[] => [
  ...qemuPids(netnsOf(node)).map((pid) => `${node}: QEMU ${pid}`),
  ...taps(netnsOf(node)).map((tap) => `${node}: tap ${tap}`),
  ...vmLeftovers(agentData(node)).map((file) => `${node}: vms/${file}`),
];

async function nothingLeftOn(...nodes: Node[]): Promise<void> {
  let left: string[] = [];
  await until('nothing left on the nodes', () => ((left = nodes.flatMap(leftoversOn)).length === 0 ? true : undefined)).catch((e: Error) => {
    throw new Error(`${e.message}: ${left.join('; ')}`);
  });
}

/** A best-effort lease of one VM of the test guest, running on its node. */
async function runningLease(): Promise<LeaseView> {
  const created = await call('POST', '/v1/leases', { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 128, duration: 7200, image: 'guest' });
  // The plan gives its boot some seconds: the lease counts as running from then on.
  world.clock.advance(Math.max(0, created.lease!.plannedStart! - world.clock.now()));
  return leaseUntil(created.lease!.id, 'ran', (l) => l.status === 'running' && l.workspaces?.[0]?.status === 'running' && l.workspaces[0].ip !== null);
}

/** The first event from now on that `match` likes. */
function nextEvent(match: (e: EventRow) => boolean): Promise<EventRow> {
  return new Promise((resolve) => {
    const off = world.service.onEvent((e) => {
      if (!match(e)) return;
      off();
      resolve(e);
    });
  });
}

/** Has the control loop done what was queued before it (a quote waits in the same queue). */
const caughtUp = (): Promise<unknown> => call('POST', '/v1/leases/quote', { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 128, duration: 60 });

before(async () => {
  const guest = buildTestGuest();
  dir = mkdtempSync(join(tmpdir(), 'vws-vm-failures-'));
  // dnsmasq runs as nobody and must reach its hosts file under the agents' data directories.
  chmodSync(dir, 0o755);
  fabric = twoNodeFabric('vmf');
  mkdirSync(join(dir, 'service'));
  world = await poolWorld({ dir: join(dir, 'service') });
  await registerImage(world.server, world.admin, 'guest-kernel', guest.kernel);
  await registerImage(world.server, world.admin, 'guest-initrd', guest.initrd);
  await registerImage(world.server, world.admin, 'guest', guest.disk, { kernel: 'guest-kernel', initrd: 'guest-initrd', cmdline: guest.cmdline });
  // node-a joins first, so that it is the pool's first node and takes the first lease.
  for (const [i, name] of NODES.entries()) {
    mkdirSync(agentData(name), { mode: 0o755 });
    chmodSync(agentData(name), 0o755);
    agents.push(startAgent({ name, server: world.server, token: world.admin, data: agentData(name), netns: fabric.namespaces[i], migrationAddress: fabric.addresses[i] }));
    await until(`${name} joined`, () => (world.pool.hub.isConnected(name) ? true : undefined));
  }
});

after(async () => {
  for (const a of agents) await a.kill();
  await world?.close();
  // Deleting a namespace does not end its processes: QEMU and dnsmasq are killed first.
  for (const ns of fabric?.namespaces ?? []) await killAllIn(ns);
  fabric?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('a suspended VM whose saved state vanished fails its lease when resumed, says why, and leaves nothing behind', { timeout: 5 * MINUTE }, async () => {
  const { id, workspaces } = await runningLease();
  assert.equal(workspaces![0].node, 'node-a');
  world.clock.advance(60);
  await call('POST', `/v1/leases/${encodeURIComponent(id)}/suspend`);
  await leaseUntil(id, 'was suspended', (l) => l.workspaces?.[0]?.status === 'suspended');
  const state = vmLeftovers(agentData('node-a')).find((f) => f.endsWith('memory.state'));
  assert.ok(state, `the saved state is on node-a: ${vmLeftovers(agentData('node-a')).join(', ')}`);
  rmSync(join(agentData('node-a'), 'vms', state));

  world.clock.advance(60);
  await call('POST', `/v1/leases/${encodeURIComponent(id)}/resume`);
  const failed = await leaseUntil(id, 'failed', (l) => l.status === 'failed');
  assert.match(failed.reason?.message ?? '', /the saved state of .*\/0 is gone from node 'node-a' \(no .*memory\.state\): it cannot be resumed/, JSON.stringify(failed.reason));
  await nothingLeftOn('node-a', 'node-b');
});

test('a live migration that fails half-way leaves the VM running at its source, nothing at the destination, and the lease showing where it runs', { timeout: 5 * MINUTE }, async () => {
  const { id, workspaces } = await runningLease();
  const { ip: address } = workspaces![0];
  assert.equal(workspaces![0].node, 'node-a');
  const counter = async (): Promise<number> => Number((await httpGetIn(netnsOf('node-a'), address!, '/counter')).trim());
  world.clock.advance(60);

  // The destination gets ready to receive (a QEMU listening, its disks exported), and then cannot
  // be reached: the source's mirror of its disks to the destination fails.
  const veth = /^\d+: ([^@:]+)/.exec(ip('-n', netnsOf('node-a'), '-o', 'link', 'show', 'type', 'veth'))![1];
  ip('-n', netnsOf('node-a'), 'link', 'set', veth, 'down');
  try {
    const failed = nextEvent((e) => e.type === 'workspace.error' && e.leaseId === id);
    const asked = await call('POST', `/v1/leases/${encodeURIComponent(id)}/migrate`, { nodes: ['node-b'] });
    assert.deepEqual(asked.lease!.nodes, ['node-b'], 'planned on node-b');
    const error = await failed;
    assert.match((error.data as { message: string }).message, /migrat|mirror|nbd|unreachable/i, JSON.stringify(error.data));
  } finally {
    ip('-n', netnsOf('node-a'), 'link', 'set', veth, 'up');
  }
  await nothingLeftOn('node-b');
  // The core moves it back a second after the run it had begun on node-b (not at that very instant).
  world.clock.advance(1);
  await caughtUp();
  const back = await lease(id);
  assert.equal(back.status, 'running');
  assert.deepEqual(back.nodes, ['node-a'], 'the lease shows where it runs');
  assert.deepEqual(back.workspaces!.map((w) => [w.node, w.status, w.ip]), [['node-a', 'running', address]]);
  assert.equal(qemuPids(netnsOf('node-a')).length, 1, 'its QEMU runs on at the source');
  const before = await counter();
  await until('the guest counts on at its source', async () => ((await counter()) > before ? true : undefined));
  assert.ok(!(await world.store.eventsAfter(0, 10_000)).some((e) => e.type === 'workspace.migrated'));

  // Nothing tries to move it again: the scheduler has it where it is.
  await world.service.reconcileNow();
  assert.deepEqual(leftoversOn('node-b'), []);
  await call('DELETE', `/v1/leases/${encodeURIComponent(id)}`);
  await leaseUntil(id, 'was cancelled', (l) => l.status === 'cancelled');
  await nothingLeftOn('node-a', 'node-b');
});
