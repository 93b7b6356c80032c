// A node leaves the pool at a set instant (a pilot's node: its batch job ends, or is preempted): a
// logged input. The leases planned across it make way (a best-effort one is suspended by then and
// resumes elsewhere, its state fetched from the depot), the node's row says when it leaves, owners
// hear why, and a restart replays it all into the same schedule.

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
import { T0 } from './support/agent-pool-world.ts';

const one = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const be = (id: string, duration: number): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration, nodes: 1, perNode: one, preemptible: true });

test('a departure is a logged input: the lease there is suspended by then and resumes on another node; a restart replays the same schedule', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-departure-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock(T0);
  const open = async () => {
    const store = await openSqliteStore(join(dir, 'vws.db'));
    const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 }, stateFile: join(dir, 'vms.json') });
    const service = await LeaseService.open({ store, driver, clock, config: configWith({ suspendedState: 'depot' }) });
    return { store, driver, service };
  };
  const first = await open();
  assert.ok((await first.service.pool.addNode({ id: 'pilot-4711-a', ...one }, undefined, '4711')).ok);
  assert.ok((await first.service.create('alice', null, be('job', 7200))).ok);
  clock.advance(60);
  await first.service.idle();
  assert.equal((await first.store.getLease('job'))!.status, 'running');
  const events: Array<{ type: string; data: unknown }> = [];
  first.service.onEvent((e) => events.push({ type: e.type, data: e.data }));

  const leaves = T0 + 600;
  const gone = await first.service.pool.setNodeDeparture('pilot-4711-a', leaves);
  assert.ok(gone.ok);
  assert.deepEqual([gone.value.at, gone.value.suspended, gone.value.failed], [leaves, ['job'], []]);
  assert.deepEqual(await first.store.getNode('pilot-4711-a'), { id: 'pilot-4711-a', ...one, bandwidthMbps: null, status: 'active', addedAt: T0, departsAt: leaves, pilot: '4711' });
  assert.deepEqual((await first.store.inputs()).filter((r) => r.type === 'node-departs').map((r) => r.data), [{ type: 'node-departs', id: 'pilot-4711-a', at: leaves }]);
  assert.deepEqual(events.filter((e) => e.type === 'lease.departure').map((e) => e.data), [
    { node: 'pilot-4711-a', at: leaves, how: 'suspended', message: `node 'pilot-4711-a' leaves the pool at ${leaves}: the lease is suspended before then, its state kept off the node, and resumes on another node later` },
  ]);
  assert.ok(events.some((e) => e.type === 'node.departing'));

  // A second pilot's node comes; the lease waits suspended in the depot until the first leaves, then moves there.
  assert.ok((await first.service.pool.addNode({ id: 'pilot-4712-a', ...one }, undefined, '4712')).ok);
  clock.advance(leaves - clock.now());
  await first.service.idle();
  clock.advance(120);
  await first.service.idle();
  const row = (await first.store.getLease('job'))!;
  assert.deepEqual([row.status, row.nodes], ['running', ['pilot-4712-a']]);
  const before = { schedule: [...first.service.scheduleExport()], job: row.status };
  await first.service.close();
  await first.driver.close();
  await first.store.close();

  const second = await open();
  assert.deepEqual({ schedule: [...second.service.scheduleExport()], job: (await second.store.getLease('job'))!.status }, before);
  assert.equal((await second.store.getNode('pilot-4711-a'))!.departsAt, leaves);
  await second.service.close();
  await second.driver.close();
  await second.store.close();
});

test('a departure for a node not in the pool, or at an instant that is not one, is refused and logs nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-departure-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openSqliteStore(join(dir, 'vws.db'));
  const driver = new SimulatedDriver({ stateFile: join(dir, 'vms.json') });
  const service = await LeaseService.open({ store, driver, clock: new ManualClock(T0), config: configWith({}) });
  try {
    assert.ok((await service.pool.addNode({ id: 'n1', ...one })).ok);
    const inputs = (await store.inputs()).length;
    for (const [id, at, code, message] of [
      ['n9', T0, 'not-found', /no node 'n9' in the pool/],
      ['n1', -1, 'invalid-request', /a departure is a whole number of epoch seconds, or null for none; got -1/],
      ['n1', 1.5, 'invalid-request', /got 1.5/],
      ['n1', Number.POSITIVE_INFINITY, 'invalid-request', /got Infinity/],
    ] as const) {
      const r = await service.pool.setNodeDeparture(id, at);
      assert.ok(!r.ok && r.code === code && message.test(r.message), JSON.stringify(r));
    }
    assert.equal((await store.inputs()).length, inputs);
    assert.equal((await store.getNode('n1'))!.departsAt, null);
  } finally {
    await service.close();
    await driver.close();
    await store.close();
  }
});
