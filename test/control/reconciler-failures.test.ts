// When the driver refuses what the reconciler asks of it. The reconciler works from the difference
// between what the scheduler wants and what the driver reports: an operation that rejects is
// reported to the lease's owner (a workspace.error event with the driver's words) and tried again
// from the difference after a backoff on the service's clock (1 s, 2 s, 4 s... capped), until the
// lease converges or what the scheduler wants of it changes. A start or resume refused 5 times in
// a row fails the lease with the driver's words, as a logged `fail` input that a replay agrees
// with; a refused stop or suspend is retried for as long as it takes (the VM must not stay where
// the scheduler no longer has it) and its node is flagged to admins. A live migration that fails
// with the VM still running at its source moves the lease back there in the scheduler, so that
// what the lease shows is where it runs. On a real SQLite file, with the simulated driver told to
// refuse one call.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configWith } from '../../src/core/config.ts';
import type { LeaseRequest } from '../../src/core/types.ts';
import { ManualClock } from '../../src/control/clock.ts';
import { LeaseService } from '../../src/control/lease-service.ts';
import type { VmSpec, VmStatus } from '../../src/drivers/driver.ts';
import { SimulatedDriver } from '../../src/drivers/simulated/simulated-driver.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import type { EventRow } from '../../src/store/store.ts';

const T0 = 1_800_000_000;
const whole = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

type Refusable = 'start' | 'stop' | 'suspend' | 'liveMigrate';

/** The simulated driver, whose calls of an operation can be made to reject, as a back-end that refuses would. */
class RefusingDriver extends SimulatedDriver {
  private readonly refusals = new Map<Refusable, string>();
  /** Calls of `operation` reject with `message` from now on; null: they work again. */
  refuse(operation: Refusable, message: string | null): void {
    if (message === null) this.refusals.delete(operation);
    else this.refusals.set(operation, message);
  }
  override async start(spec: VmSpec): Promise<VmStatus> {
    this.refused('start');
    return super.start(spec);
  }
  override async stop(id: string, opts: { graceful: boolean }): Promise<void> {
    this.refused('stop');
    return super.stop(id, opts);
  }
  override async suspend(id: string): Promise<VmStatus> {
    this.refused('suspend');
    return super.suspend(id);
  }
  override async liveMigrate(id: string, toNode: string): Promise<{ status: VmStatus; totalMs: number; downtimeMs: number }> {
    this.refused('liveMigrate');
    return super.liveMigrate(id, toNode);
  }
  private refused(operation: Refusable): void {
    const message = this.refusals.get(operation);
    if (message !== undefined) throw new Error(message);
  }
}

async function world(nodes: number, dir = mkdtempSync(join(tmpdir(), 'vws-reconciler-'))) {
  dirs.push(dir);
  const store = await openSqliteStore(join(dir, 'vws.db'));
  const driver = new RefusingDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 }, stateFile: join(dir, 'vms.json') });
  const clock = new ManualClock(T0);
  const service = await LeaseService.open({ store, driver, clock, config: configWith({}) });
  for (let i = 1; i <= nodes; i++) await service.pool.addNode({ id: `n${i}`, ...whole });
  const events: EventRow[] = [];
  service.onEvent((e) => events.push(e));
  /** The first event (from now on) that `match` likes, once it comes. */
  const next = (match: (e: EventRow) => boolean): Promise<EventRow> => {
    const from = events.length;
    return new Promise((resolve) => {
      const off = service.onEvent((e) => {
        if (events.indexOf(e, from) >= 0 && match(e)) {
          off();
          resolve(e);
        }
      });
    });
  };
  /** Has the control loop done what was queued before, and the reconciler after it. */
  const caughtUp = (): Promise<void> => service.idle();
  /** And then has the reconciler try every lease again and finish. */
  const settled = async (): Promise<void> => {
    await caughtUp();
    await service.reconcileNow();
  };
  return { dir, store, driver, clock, service, events, next, caughtUp, settled };
}

const be = (id: string, nodes: number): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 7200, nodes, perNode: whole, preemptible: true });

const vms = async (driver: SimulatedDriver) => (await driver.status()).map((v) => [v.id, v.node, v.state]);

/** The workspace.error messages heard so far for `lease`. */
const errorsOf = (events: EventRow[], lease: string) => events.filter((e) => e.type === 'workspace.error' && e.leaseId === lease).map((e) => (e.data as { message: string }).message);

/** Moves the clock on and waits for what fell due to be done. */
async function tick(w: Awaited<ReturnType<typeof world>>, seconds: number): Promise<void> {
  w.clock.advance(seconds);
  await w.caughtUp();
}

test('a start the driver refuses is reported to the owner with the driver\'s words and retried with backoff on the clock until the driver takes it', async () => {
  const w = await world(1);
  w.driver.refuse('start', 'the back-end is out of VM slots');
  const error = w.next((e) => e.type === 'workspace.error');
  assert.ok((await w.service.create('alice', null, be('job', 1))).ok);
  const e = await error;
  assert.deepEqual([e.leaseId, e.owner, e.data], ['job', 'alice', { message: 'the back-end is out of VM slots' }], 'the owner sees why in the lease\'s events');
  await w.caughtUp();
  assert.deepEqual(await vms(w.driver), []);
  assert.equal((await w.store.getLease('job'))!.status, 'running', 'the scheduler runs it: one refusal is not the lease\'s failure');
  assert.deepEqual(await w.store.workspacesOf('job'), []);

  // Tried again 1 s later, then 2 s after that: nothing else reconciles the lease meanwhile.
  await tick(w, 1);
  assert.equal(errorsOf(w.events, 'job').length, 2);
  await tick(w, 1);
  assert.equal(errorsOf(w.events, 'job').length, 2, 'the second wait is 2 s');
  await tick(w, 1);
  assert.equal(errorsOf(w.events, 'job').length, 3);

  w.driver.refuse('start', null);
  await tick(w, 4);
  assert.deepEqual(await vms(w.driver), [['job/0', 'n1', 'running']]);
  const [ws] = await w.store.workspacesOf('job');
  assert.equal(ws.status, 'running');
  assert.equal((await w.store.getLease('job'))!.status, 'running');
  // By the service's clock, as the lease's own row: not by the machine's.
  assert.equal(ws.updatedAt, w.clock.now(), 'the workspace row was written at the service\'s time');
  // Converged: no retry is left armed to fail again.
  await tick(w, 60);
  assert.equal(errorsOf(w.events, 'job').length, 3);
  await w.service.close();
});

test('a start refused 5 times in a row fails the lease with the driver\'s words, as a logged fail input that a replay agrees with', async () => {
  const w = await world(1);
  w.driver.refuse('start', 'the back-end is out of VM slots');
  assert.ok((await w.service.create('alice', null, be('job', 1))).ok);
  await w.caughtUp();
  for (const wait of [1, 2, 4, 8]) await tick(w, wait);
  assert.equal(errorsOf(w.events, 'job').length, 5);
  const row = (await w.store.getLease('job'))!;
  assert.equal(row.status, 'failed');
  assert.match(row.reason?.message ?? '', /refused to start job\/0 on n1 5 times: the back-end is out of VM slots/);
  const fails = (await w.store.inputs()).filter((i) => i.type === 'fail').map((i) => i.data);
  assert.equal(fails.length, 1);
  assert.match((fails[0] as { detail: string }).detail, /the back-end is out of VM slots/);
  // Given up: no more tries.
  await tick(w, 120);
  assert.equal(errorsOf(w.events, 'job').length, 5);
  assert.deepEqual(await vms(w.driver), []);

  await w.service.close();
  await w.driver.close();
  await w.store.close();
  const again = await world(0, w.dir);
  const replayed = (await again.store.getLease('job'))!;
  assert.deepEqual([replayed.status, replayed.reason], [row.status, row.reason], 'a replay fails it with the same words');
  await again.service.close();
});

test('a stop the driver refuses is reported, the VM runs on, and it is retried until the driver stops it', async () => {
  const w = await world(1);
  assert.ok((await w.service.create('alice', null, be('job', 1))).ok);
  await w.settled();
  assert.deepEqual(await vms(w.driver), [['job/0', 'n1', 'running']]);
  w.driver.refuse('stop', 'the node does not answer');
  const error = w.next((e) => e.type === 'workspace.error');
  assert.ok((await w.service.cancel('job', 'alice')).ok);
  assert.deepEqual((await error).data, { message: 'the node does not answer' });
  await w.caughtUp();
  assert.deepEqual(await vms(w.driver), [['job/0', 'n1', 'running']], 'nothing stopped it');
  assert.equal((await w.store.getLease('job'))!.status, 'cancelled');
  w.driver.refuse('stop', null);
  await tick(w, 1);
  assert.deepEqual(await vms(w.driver), []);
  await w.service.close();
});

test('a suspend refused during a preemption is retried past the give-up count, flags its node to admins, and goes through once the driver takes it', async () => {
  const w = await world(1);
  assert.ok((await w.service.create('alice', null, be('job', 1))).ok);
  await w.settled();
  assert.deepEqual(await vms(w.driver), [['job/0', 'n1', 'running']]);
  w.clock.advance(60);
  w.driver.refuse('suspend', 'the node\'s disk is full');
  const urgent: LeaseRequest = { id: 'urgent', kind: 'urgent', arrival: 0, requestedStart: null, duration: 600, nodes: 1, perNode: whole, preemptible: false };
  assert.ok((await w.service.create('bob', null, urgent)).ok);
  await w.caughtUp();
  assert.equal(errorsOf(w.events, 'job').length, 1);
  for (let i = 0; i < 7; i++) await tick(w, 60);
  assert.ok(errorsOf(w.events, 'job').length >= 7, `retried on: ${errorsOf(w.events, 'job').length} tries`);
  assert.notEqual((await w.store.getLease('job'))!.status, 'failed', 'a refused suspend does not fail the preempted lease');
  assert.ok((await vms(w.driver)).some(([id, , state]) => id === 'job/0' && state === 'running'), 'still running where the scheduler no longer has it');
  const flagged = w.events.filter((e) => e.type === 'node.operation-failing');
  assert.equal(flagged.length, 1, 'admins hear of it once');
  assert.deepEqual([flagged[0].owner, flagged[0].leaseId], [null, null], 'an admin-only event');
  assert.deepEqual(flagged[0].data, { node: 'n1', lease: 'job', vm: 'job/0', operation: 'suspend', failures: 5, message: 'the node\'s disk is full', retrying: true });

  w.driver.refuse('suspend', null);
  await tick(w, 60);
  assert.ok((await vms(w.driver)).some(([id, , state]) => id === 'job/0' && state === 'suspended'), JSON.stringify(await vms(w.driver)));
  await w.service.close();
});

test('a live migration that fails with the VM still at its source moves the lease back there, once the core can, and a restart agrees', async () => {
  const w = await world(2);
  assert.ok((await w.service.create('alice', null, be('job', 1))).ok);
  await w.settled();
  assert.deepEqual(await vms(w.driver), [['job/0', 'n1', 'running']]);
  w.clock.advance(60);
  w.driver.refuse('liveMigrate', 'cannot reach n2 on the migration network');
  const error = w.next((e) => e.type === 'workspace.error');
  assert.ok((await w.service.migrate('job', ['n2'])).ok);
  assert.deepEqual((await w.store.getLease('job'))!.nodes, ['n2'], 'planned on n2');
  assert.deepEqual((await error).data, { message: 'cannot reach n2 on the migration network' });
  await w.caughtUp();
  assert.deepEqual(await vms(w.driver), [['job/0', 'n1', 'running']], 'the VM runs on at its source');
  // At the instant the run on n2 began the core takes no migration of it: a second later, it
  // does, without waiting for anything to reconcile the lease again.
  assert.deepEqual((await w.store.getLease('job'))!.nodes, ['n2']);
  w.clock.advance(1);
  await w.caughtUp();
  const row = (await w.store.getLease('job'))!;
  assert.deepEqual([row.status, row.nodes], ['running', ['n1']], 'the lease shows where it runs');
  assert.deepEqual((await w.store.workspacesOf('job')).map((ws) => [ws.node, ws.status]), [['n1', 'running']]);
  assert.ok(!w.events.some((e) => e.type === 'workspace.migrated'));
  assert.equal(errorsOf(w.events, 'job').length, 1, 'no retry raced the move back (it would move the VM away from where the lease now is)');
  w.driver.refuse('liveMigrate', null);
  await w.service.reconcileNow();
  assert.deepEqual(await vms(w.driver), [['job/0', 'n1', 'running']], 'nothing tries to move it any more');
  assert.deepEqual((await w.store.inputs()).filter((i) => i.type === 'migrate').map((i) => [i.time, i.data]), [
    [T0 + 60, { type: 'migrate', id: 'job', to: ['n2'] }],
    [T0 + 61, { type: 'migrate', id: 'job', to: ['n1'] }],
  ]);
  // n2 is free again: another lease may take it, and the moved-back lease keeps n1.
  assert.ok((await w.service.create('bob', null, be('other', 1))).ok);
  await w.settled();
  assert.deepEqual((await vms(w.driver)).sort(), [['job/0', 'n1', 'running'], ['other/0', 'n2', 'running']]);

  await w.service.close();
  await w.driver.close();
  await w.store.close();
  const again = await world(0, w.dir);
  assert.deepEqual((await again.store.getLease('job'))!.nodes, ['n1'], 'a replay moves it back too');
  assert.deepEqual((await vms(again.driver)).sort(), [['job/0', 'n1', 'running'], ['other/0', 'n2', 'running']]);
  await again.service.close();
});
