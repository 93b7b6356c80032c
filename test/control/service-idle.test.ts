// LeaseService.idle(), which tests wait on instead of sleeping: it resolves only once nothing the
// service does of its own accord is left, rows a refusal left unwritten included.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Clock } from '../../src/control/clock.ts';
import { LeaseService } from '../../src/control/lease-service.ts';
import { configWith } from '../../src/core/config.ts';
import { SimulatedDriver } from '../../src/drivers/simulated/simulated-driver.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import type { EventRow, Store } from '../../src/store/store.ts';
import { apiWorld, lease } from '../api/api-world.ts';
import { waitFor } from '../support/wait.ts';

const T0 = 1_800_000_000;

/** A clock whose timers have not fired yet when it is read, as on a loaded machine. */
class LateClock implements Clock {
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
  at(): () => void {
    return () => undefined;
  }
}

test('idle() writes the rows a refusal left changed in the scheduler, and waits for the VMs to follow', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-idle-'));
  const store = await openSqliteStore(join(dir, 'vws.db'));
  const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 } });
  const clock = new LateClock(T0);
  const service = await LeaseService.open({ store, driver, clock, config: configWith({}) });
  try {
    await service.pool.addNode({ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 0 });
    const made = await service.create('alice', null, { id: 'job', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 60, nodes: 1, perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, preemptible: true });
    assert.ok(made.ok, JSON.stringify(made));
    await service.idle();
    assert.equal((await store.getLease('job'))?.status, 'running');
    assert.deepEqual((await driver.status()).map((vm) => [vm.id, vm.state]), [['job/0', 'running']]);
    // The lease's end has passed, but its timer has not fired: a refused commit brings the
    // scheduler to now (the lease ends there) and writes nothing.
    clock.time = T0 + 120;
    const refused = await service.commit('job');
    assert.ok(!refused.ok && refused.code === 'wrong-state', JSON.stringify(refused));
    assert.equal((await store.getLease('job'))?.status, 'running', 'the refusal wrote no row');
    await service.idle();
    assert.equal((await store.getLease('job'))?.status, 'done');
    assert.deepEqual((await driver.status()).filter((vm) => vm.state !== 'stopped'), [], 'its VM was stopped');
  } finally {
    await service.close();
    await driver.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The store, but the writes of events of `type` wait until released. */
function holdingEvents(store: Store, type: string): { store: Store; held: () => number; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let held = 0;
  const wrapped = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      if (prop !== 'appendEvent') return value.bind(target);
      return async (e: Omit<EventRow, 'id'>) => {
        if (e.type === type) {
          held++;
          await gate;
        }
        return (value as Store['appendEvent']).call(target, e);
      };
    },
  });
  return { store: wrapped, held: () => held, release };
}

test('idle() waits for an event the reconciler is still writing', async () => {
  let gated!: ReturnType<typeof holdingEvents>;
  const w = await apiWorld(2, (s) => (gated = holdingEvents(s, 'workspace.migrated')).store);
  try {
    const id = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease())).body.lease.id;
    await w.service.idle();
    const from = (await w.store.workspacesOf(id))[0].node;
    const to = from === 'n1' ? 'n2' : 'n1';
    // Past its deployment: a lease moves once it runs.
    w.clock.advance(60);
    await w.service.idle();
    assert.equal((await w.call(w.tokens.admin, 'POST', `/v1/leases/${id}/migrate`, { nodes: [to] })).status, 200);
    let result = 'pending';
    const idled = w.service.idle().then(() => (result = 'idle'));
    // The fence: the moved workspace's row is written after the reconciler's last step, so
    // everything but the held event is done by the time it is seen.
    await waitFor('the workspace row on the new node', async () => (await w.store.workspacesOf(id))[0].node === to);
    assert.equal(gated.held(), 1, 'the migration event is being written');
    assert.equal(result, 'pending', 'idle() resolved with an event still being written');
    gated.release();
    await idled;
    assert.ok((await w.store.eventsAfter(0, 1000)).some((e) => e.type === 'workspace.migrated' && e.leaseId === id));
  } finally {
    gated.release();
    await w.close();
  }
});
