// A node whose agent stays away past its grace period is marked unavailable (a logged input): its
// best-effort lease starts again on another node, a reservation running there renegotiates with a
// reason, SSE clients see node events; when the agent says hello again the node is available, and
// the VMs it comes back with for those leases are stopped as strays.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configWith } from '../../src/core/config.ts';
import type { LeaseRequest } from '../../src/core/types.ts';
import { ManualClock } from '../../src/control/clock.ts';
import { LeaseService } from '../../src/control/lease-service.ts';
import { SimulatedDriver } from '../../src/drivers/simulated/simulated-driver.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import { MemoryHost, poolWorld, T0, until, watchEvents } from './support/agent-pool-world.ts';

const one = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const be = (id: string, duration: number): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration, nodes: 1, perNode: one, preemptible: true });
const exact = (id: string, start: number, duration: number): LeaseRequest => ({ id, kind: 'exact', arrival: 0, requestedStart: start, duration, nodes: 1, perNode: one, preemptible: false });

test('an agent away past its grace period: its node is unavailable, a best-effort lease moves, a reservation renegotiates, and the node comes back on hello', async () => {
  const w = await poolWorld({ graceMs: 200 });
  const sse = await watchEvents(w.server, w.admin);
  try {
    const n1 = new MemoryHost('n1', { cpu: 2, memoryMiB: 2048 });
    const first = w.agent(n1);
    await first.connected();
    await until('n1 in the pool', () => w.store.getNode('n1').then((r) => r ?? undefined));
    assert.ok((await w.service.create('bob', null, exact('ar', T0 + 10, 3600))).ok);
    assert.ok((await w.service.create('alice', null, be('job', 7200))).ok);
    w.clock.advance(10);
    await until('both VMs on n1', () => (n1.vms.has('ar/0') && n1.vms.has('job/0') ? true : undefined));
    const n2 = new MemoryHost('n2');
    await w.agent(n2).connected();
    await until('n2 in the pool', () => w.store.getNode('n2').then((r) => r ?? undefined));

    await first.stop();
    const lost = await until('n1 unavailable', async () => ((await w.store.getNode('n1'))?.status === 'unavailable' ? true : undefined));
    assert.ok(lost);
    const input = (await w.store.inputs()).find((r) => r.type === 'node-unavailable');
    assert.deepEqual(input?.data, { type: 'node-unavailable', id: 'n1' });

    const ar = await until('the reservation renegotiating', async () => {
      const row = await w.store.getLease('ar');
      return row?.status === 'renegotiating' ? row : undefined;
    });
    assert.equal(ar.reason?.code, 'node-unavailable');
    assert.match(ar.reason!.message, /node 'n1' became unavailable while the lease's VMs were on it/);
    await until('the best-effort lease running on n2', async () => {
      const row = await w.store.getLease('job');
      return row?.status === 'running' && row.nodes[0] === 'n2' && n2.vms.get('job/0')?.state === 'running' ? true : undefined;
    });
    const gone = await until('node.unavailable seen over SSE', () => sse.events.find((e) => e.type === 'node.unavailable'));
    assert.deepEqual({ ...gone.data, time: undefined }, { time: undefined, leaseId: null, id: 'n1', was: 'active', restarted: ['job'], requeued: [], failed: [], finished: [], waiting: [], renegotiating: ['ar'] });
    const offered = await until('lease.renegotiating seen over SSE', () => sse.events.find((e) => e.type === 'lease.renegotiating'));
    assert.equal(offered.data.reason.code, 'node-unavailable');
    assert.ok(offered.data.offers.length > 0, JSON.stringify(offered.data));
    const requeued = sse.events.find((e) => e.type === 'lease.requeued');
    assert.deepEqual([requeued?.data.leaseId, requeued?.data.workLost], ['job', true]);
    const nodes = await w.api('/v1/nodes');
    assert.deepEqual(nodes.nodes.map((n: { id: string; status: string }) => [n.id, n.status]), [['n1', 'unavailable'], ['n2', 'active']]);

    // The agent comes back with the VMs it had: the node takes work again, and those VMs, whose
    // leases were moved or failed, are stopped there; the lease's VM on n2 is left alone.
    assert.deepEqual([...n1.vms.keys()].sort(), ['ar/0', 'job/0']);
    await w.agent(n1).connected();
    await until('node.available seen over SSE', () => sse.events.find((e) => e.type === 'node.available'));
    assert.equal((await w.store.getNode('n1'))?.status, 'active');
    await until('the strays stopped on n1', () => (n1.vms.size === 0 ? true : undefined));
    await until('both strays reported', () => (sse.events.filter((e) => e.type === 'workspace.stray').length === 2 ? true : undefined));
    assert.deepEqual(sse.events.filter((e) => e.type === 'workspace.stray').map((e) => [e.data.vm, e.data.node]).sort(), [['ar/0', 'n1'], ['job/0', 'n1']]);
    assert.equal(n2.vms.get('job/0')?.state, 'running');
    assert.deepEqual((await w.pool.driver.status()).map((vm) => [vm.id, vm.node, vm.state]), [['job/0', 'n2', 'running']]);
    assert.equal((await w.store.getLease('job'))?.status, 'running');

    // n1 takes new work again.
    assert.ok((await w.service.create('alice', null, be('next', 600))).ok);
    await until('a new lease running on n1', () => (n1.vms.get('next/0')?.state === 'running' ? true : undefined));
  } finally {
    sse.stop();
    await w.close();
  }
});

test('node-unavailable and node-available are logged inputs: a restart replays them into the same schedule and lease states', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-node-loss-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock(T0);
  const open = async () => {
    const store = await openSqliteStore(join(dir, 'vws.db'));
    const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 }, stateFile: join(dir, 'vms.json') });
    const service = await LeaseService.open({ store, driver, clock, config: configWith({}) });
    return { store, driver, service };
  };
  const first = await open();
  for (const id of ['n1', 'n2']) await first.service.pool.addNode({ id, ...one });
  assert.ok((await first.service.create('bob', null, exact('ar', T0, 3600))).ok);
  assert.ok((await first.service.create('alice', null, be('job', 7200))).ok);
  assert.ok((await first.service.create('alice', null, be('queued', 600))).ok);
  clock.advance(60);
  const arNode = (await first.store.getLease('ar'))!.nodes[0];
  const loss = await first.service.pool.markNodeUnavailable(arNode);
  assert.deepEqual(loss?.renegotiating, ['ar']);
  assert.equal(await first.service.pool.markNodeUnavailable(arNode), null, 'already unavailable: nothing logged');
  clock.advance(60);
  assert.equal(await first.service.pool.markNodeAvailable(arNode), true);
  clock.advance(60);
  const rows = async (s: typeof first) => Promise.all(['ar', 'job', 'queued'].map((id) => s.store.getLease(id).then((r) => [id, r?.status, r?.reason?.code ?? null, r?.nodes])));
  const before = { schedule: [...first.service.scheduleExport()], leases: await rows(first) };
  assert.deepEqual((await first.store.inputs()).map((r) => r.type).filter((t) => t.startsWith('node-')), ['node-add', 'node-add', 'node-unavailable', 'node-available']);
  await first.service.close();
  await first.driver.close();
  await first.store.close();

  const second = await open();
  assert.deepEqual({ schedule: [...second.service.scheduleExport()], leases: await rows(second) }, before);
  assert.equal(before.leases[0][2], 'node-unavailable');
  await second.service.close();
  await second.driver.close();
  await second.store.close();
});

test('after a restart of the service, a node whose agent never dials in is marked unavailable once its grace period is over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-node-never-back-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const before = await poolWorld({ dir });
  const n1 = new MemoryHost('n1');
  const agent = before.agent(n1);
  await agent.connected();
  await until('n1 in the pool', () => before.store.getNode('n1').then((r) => r ?? undefined));
  await agent.stop();
  await before.close();

  const w = await poolWorld({ dir, graceMs: 200 });
  try {
    await until('n1 unavailable', async () => ((await w.store.getNode('n1'))?.status === 'unavailable' ? true : undefined));
    assert.ok(w.logs.some((l) => l.includes("the agent of node 'n1' has been away")), w.logs.join('\n'));
    await w.agent(n1).connected();
    await until('n1 available again', async () => ((await w.store.getNode('n1'))?.status === 'active' ? true : undefined));
  } finally {
    await w.close();
  }
});
