// The control loop on a real SQLite file and the simulated driver, on a clock the test moves.

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
import type { Store } from '../../src/store/store.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const T0 = 1_800_000_000;
const whole = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };

async function world(dir = mkdtempSync(join(tmpdir(), 'vws-service-'))) {
  if (!dirs.includes(dir)) dirs.push(dir);
  const store = await openSqliteStore(join(dir, 'vws.db'));
  const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 }, stateFile: join(dir, 'vms.json') });
  const clock = new ManualClock(T0);
  const service = await LeaseService.open({ store, driver, clock, config: configWith({ suspendRateMBps: 1024, resumeRateMBps: 1024 }) });
  return { dir, store, driver, clock, service };
}

const be = (id: string, nodes: number, duration: number): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration, nodes, perNode: whole, preemptible: true });

async function statusOf(store: Store, id: string) {
  return (await store.getLease(id))?.status;
}

test('a best-effort lease is queued, runs on the driver, is suspended for a reservation and resumed after it', async () => {
  const { store, driver, clock, service } = await world();
  await service.pool.addNode({ id: 'n1', ...whole });
  await service.pool.addNode({ id: 'n2', ...whole });
  const created = await service.create('alice', null, be('job', 2, 3 * 3600));
  assert.ok(created.ok);
  await service.idle();
  assert.equal(await statusOf(store, 'job'), 'running');
  assert.deepEqual((await driver.status()).map((v) => [v.id, v.state]).sort(), [['job/0', 'running'], ['job/1', 'running']]);

  const ar = await service.create('bob', null, { id: 'ar', kind: 'exact', arrival: 0, requestedStart: T0 + 3600, duration: 1800, nodes: 2, perNode: whole, preemptible: false });
  assert.ok(ar.ok, JSON.stringify(ar));
  assert.deepEqual(ar.value.decision.ok && ar.value.decision.preempted, [{ leaseId: 'job', how: 'suspend' }]);
  clock.advance(3600);
  await service.idle();
  assert.equal(await statusOf(store, 'job'), 'suspended');
  assert.equal(await statusOf(store, 'ar'), 'running');
  clock.advance(1800 + 5);
  await service.idle();
  assert.equal(await statusOf(store, 'ar'), 'done');
  assert.equal(await statusOf(store, 'job'), 'running');
  const usage = (await store.getLease('job'))!.usage;
  assert.ok(usage.running!.coreSeconds > 0);
  await service.close();
});

test('a refused request writes nothing and says when it would fit', async () => {
  const { store, service } = await world();
  await service.pool.addNode({ id: 'n1', ...whole });
  const before = (await store.inputs()).length;
  const r = await service.create('alice', null, { id: 'big', kind: 'exact', arrival: 0, requestedStart: T0 + 60, duration: 60, nodes: 3, perNode: whole, preemptible: false });
  assert.ok(!r.ok);
  assert.equal(r.code, 'exceeds-pool');
  assert.equal(await store.getLease('big'), null);
  assert.equal((await store.inputs()).length, before);
  await service.close();
});

test('an Idempotency-Key returns the first answer and creates one lease', async () => {
  const { store, service } = await world();
  await service.pool.addNode({ id: 'n1', ...whole });
  const first = await service.create('alice', null, be('a', 1, 60), 'key-1');
  const second = await service.create('alice', null, be('b', 1, 60), 'key-1');
  assert.ok(first.ok && second.ok);
  assert.equal(second.value.lease.id, 'a');
  assert.equal(second.value.replayed, true);
  assert.equal(await store.getLease('b'), null);
  await service.close();
});

test('after a restart the scheduler is rebuilt from the input log and the VMs are reconciled with it', async () => {
  const w = await world();
  await w.service.pool.addNode({ id: 'n1', ...whole });
  await w.service.create('alice', null, be('a', 1, 7200));
  await w.service.create('alice', null, be('b', 1, 600));
  await w.service.idle();
  const rowsBefore = (await w.store.listLeases()).map((l) => [l.id, l.status, l.plannedStart, l.plannedEnd]);
  await w.service.close();
  await w.driver.close();
  await w.store.close();
  // A restart in the same data directory, with the VMs kept running by the driver meanwhile.
  const again = await world(w.dir);
  await again.service.idle();
  assert.deepEqual((await again.store.listLeases()).map((l) => [l.id, l.status, l.plannedStart, l.plannedEnd]), rowsBefore);
  assert.deepEqual((await again.driver.status()).map((v) => [v.id, v.state]), [['a/0', 'running']]);
  await again.service.close();
});

test('a VM that ends by itself finishes its lease early; one that fails marks it failed; one that ends as it begins never ran', async () => {
  const { store, driver, clock, service } = await world();
  await service.pool.addNode({ id: 'n1', ...whole });
  await service.pool.addNode({ id: 'n2', ...whole });
  await service.pool.addNode({ id: 'n3', ...whole });
  await service.create('alice', null, be('ends', 1, 7200));
  await service.create('alice', null, be('dies', 1, 7200));
  await service.idle();
  // At the instant it began: no second of it ran, so it is withdrawn, not done.
  await service.create('alice', null, be('at-once', 1, 7200));
  await service.idle();
  await driver.exitVm('at-once/0');
  await service.idle();
  assert.equal(await statusOf(store, 'at-once'), 'cancelled');
  clock.advance(5);
  await driver.exitVm('ends/0');
  await driver.failVm('dies/0', 'kernel panic');
  await service.idle();
  assert.equal(await statusOf(store, 'ends'), 'done');
  const dies = (await store.getLease('dies'))!;
  assert.equal(dies.status, 'failed');
  assert.match(dies.reason!.message, /kernel panic/);
  await service.close();
});

test('on start, a VM no lease wants is stopped and reported; a lease whose VM vanished is marked failed', async () => {
  const w = await world();
  await w.service.pool.addNode({ id: 'n1', ...whole });
  await w.service.pool.addNode({ id: 'n2', ...whole });
  await w.service.create('alice', null, be('kept', 1, 7200));
  await w.service.create('alice', null, be('lost', 1, 7200));
  await w.service.idle();
  await w.service.close();
  // While the service is down, a VM appears that nobody asked for, and one of the leases' VMs disappears.
  await w.driver.start({ id: 'stray/0', leaseId: 'stray', index: 0, node: 'n2', cpu: 1, memoryMiB: 512, image: null, mac: '52:54:00:aa:bb:cc' });
  await w.driver.stop('lost/0', { graceful: false });
  await w.driver.close();
  await w.store.close();
  const again = await world(w.dir);
  await again.service.idle();
  const vms = (await again.driver.status()).map((v) => [v.id, v.state]).sort();
  assert.deepEqual(vms, [['kept/0', 'running']]);
  const events = await again.store.eventsAfter(0, 1000);
  assert.ok(events.some((e) => e.type === 'workspace.unknown' && (e.data as { vm: string }).vm === 'stray/0'), 'the stray VM is reported');
  const lost = (await again.store.getLease('lost'))!;
  assert.equal(lost.status, 'failed');
  assert.match(lost.reason!.message, /lost\/0/);
  assert.equal(await statusOf(again.store, 'kept'), 'running');
  await again.service.close();
});

test('expected refusals are values: a taken lease id, an unknown lease or node, and none of them is logged or stops the service', async () => {
  const { store, service } = await world();
  assert.ok((await service.pool.addNode({ id: 'n1', ...whole })).ok);
  assert.ok((await service.create('alice', null, be('a', 1, 600))).ok);
  const inputs = (await store.inputs()).length;
  const taken = await service.create('bob', null, be('a', 1, 60));
  assert.deepEqual(!taken.ok && [taken.code, taken.message], ['already-exists', "lease id 'a' is taken: send the request under a new id"]);
  const held = await service.hold('bob', null, { ...be('a', 1, 60), kind: 'exact', requestedStart: T0 + 600, preemptible: false }, 60);
  assert.equal(!held.ok && held.code, 'already-exists');
  for (const refused of [await service.commit('none'), await service.cancel('none', 'bob'), await service.act('none', 'stop'), await service.migrate('none', ['n1'])]) {
    assert.equal(!refused.ok && refused.code, 'not-found');
  }
  for (const refused of [await service.pool.drainNode('none'), await service.pool.removeNode('none')]) assert.equal(!refused.ok && refused.code, 'not-found');
  const again = await service.pool.addNode({ id: 'n1', ...whole });
  assert.equal(!again.ok && again.code, 'already-exists');
  assert.equal(await service.pool.markNodeUnavailable('none'), null, 'nothing to log for a node the pool does not have');
  assert.equal((await store.inputs()).length, inputs, 'no refusal reached the input log');
  assert.ok((await service.create('bob', null, be('b', 1, 60))).ok, 'the service goes on (a taken id once stopped it)');
  await service.close();
});
