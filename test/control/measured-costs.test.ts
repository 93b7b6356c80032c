// The 'costs' input: the scheduler plans suspensions, resumptions, migrations and boots with the
// figures it carries from then on, and a replay of the log gives the same schedule.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configWith } from '../../src/core/config.ts';
import { Backends } from '../../src/core/backends.ts';
import type { LeaseRequest } from '../../src/core/types.ts';
import { ManualClock } from '../../src/control/clock.ts';
import { applyInput, type Input, NodeIndex, type Ownership } from '../../src/control/inputs.ts';
import { LeaseService } from '../../src/control/lease-service.ts';
import { SimulatedDriver } from '../../src/drivers/simulated/simulated-driver.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const whole = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const be = (id: string, duration: number): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration, nodes: 1, perNode: whole, preemptible: true });
const urgent = (id: string): LeaseRequest => ({ id, kind: 'urgent', arrival: 0, requestedStart: null, duration: 100, nodes: 1, perNode: whole, preemptible: false });
const exact = (id: string, start: number, duration: number): LeaseRequest => ({ id, kind: 'exact', arrival: 0, requestedStart: start, duration, nodes: 1, perNode: whole, preemptible: false });

/** Feeds timed inputs to a scheduler as the service does (events up to each input's time first). */
class Log {
  readonly scheduler = new Backends([{ name: 'pool', config: configWith({ suspendRateMBps: 100, resumeRateMBps: 100, migrateBandwidthMBps: 100 }) }]);
  readonly nodes = new NodeIndex();
  readonly owners = new Map<string, Ownership>();
  readonly entries: Array<{ time: number; input: Input }> = [];

  apply(time: number, input: Input): void {
    this.entries.push({ time, input });
    this.runTo(time);
    applyInput(this.scheduler, this.nodes, this.owners, input, time);
  }

  runTo(time: number): void {
    for (let e = this.scheduler.nextEventTime(); e <= time; e = this.scheduler.nextEventTime()) this.scheduler.advance(e);
    if (this.scheduler.time < time) this.scheduler.advance(time);
  }

  segments(id: string): Array<[string, number]> {
    return this.scheduler.lease(id)!.history.map((s) => [s.kind, s.end - s.start]);
  }
}

test('a costs input changes the planned suspension, resumption, migration and boot as its figures imply, and a replay gives the same schedule', () => {
  const log = new Log();
  log.apply(0, { type: 'node-add', node: { id: 'n1', ...whole } });
  log.apply(0, { type: 'submit', owner: 'alice', group: null, request: be('job', 10_000) });
  log.runTo(1000);
  // An urgent lease starts once the running lease in its way is suspended: 1024 MiB at 100 MiB/s.
  const before = log.scheduler.quote({ ...urgent('u'), arrival: 1000 }, 1000);
  assert.ok(before.ok);
  assert.equal(before.start, 1000 + Math.ceil(1024 / 100));

  log.apply(1000, { type: 'costs', suspendRateMBps: 40, resumeRateMBps: 25, migrateBandwidthMBps: 10, bootSeconds: 7 });
  const afterCosts = log.scheduler.quote({ ...urgent('u'), arrival: 1000 }, 1000);
  assert.ok(afterCosts.ok);
  assert.equal(afterCosts.start, 1000 + Math.ceil(1024 / 40) + 7, 'it waits for a suspension of 1024 MiB at 40 MiB/s, then boots for 7 s');

  // A reservation in the running lease's way: the lease suspends before it at the new rate, and
  // resumes on a node added meanwhile (a cold migration), at the new rates.
  log.apply(1000, { type: 'submit', owner: 'bob', group: null, request: exact('ar', 2000, 500) });
  log.apply(1500, { type: 'node-add', node: { id: 'n2', ...whole } });
  log.apply(1500, { type: 'submit', owner: 'carol', group: null, request: exact('on-n2', 1600, 300) });
  log.runTo(20_000);
  // Its suspension ends as the reservation's 7 s boot begins.
  const ran = 2000 - 7 - 26;
  assert.deepEqual(log.segments('job'), [['run', ran], ['suspend', 26], ['migrate', Math.ceil(1024 / 10)], ['resume', Math.ceil(1024 / 25)], ['run', 10_000 - ran]]);
  // The reservation accepted after the figures changed boots for the measured 7 s.
  assert.deepEqual(log.segments('on-n2'), [['boot', 7], ['run', 300]]);

  const replay = new Log();
  for (const { time, input } of log.entries) replay.apply(time, input);
  replay.runTo(20_000);
  assert.deepEqual([...scheduleLines(replay.scheduler.allLeases(), replay.scheduler.nodes)], [...scheduleLines(log.scheduler.allLeases(), log.scheduler.nodes)]);
});

test('the service logs measured costs like any input: a restart replays them into the same schedule', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-costs-'));
  dirs.push(dir);
  const open = async () => {
    const store = await openSqliteStore(join(dir, 'vws.db'));
    const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 }, stateFile: join(dir, 'vms.json') });
    const service = await LeaseService.open({ store, driver, clock, config: configWith({ suspendRateMBps: 100, resumeRateMBps: 100 }) });
    return { store, driver, service };
  };
  const clock = new ManualClock(1_800_000_000);
  const first = await open();
  await first.service.pool.addNode({ id: 'n1', ...whole });
  assert.ok((await first.service.create('alice', null, be('job', 10_000))).ok);
  clock.advance(1000);
  await first.service.pool.setMeasuredCosts({ suspendRateMBps: 20, resumeRateMBps: 50 });
  const refused = await first.service.pool.setMeasuredCosts({ suspendRateMBps: -1 });
  assert.ok(!refused.ok && refused.code === 'invalid-request', JSON.stringify(refused));
  assert.match(refused.message, /measured costs: suspendRateMBps must be a positive number of MiB\/s, got -1/);
  const ar = await first.service.create('bob', null, exact('ar', clock.now() + 1000, 500));
  assert.ok(ar.ok, JSON.stringify(ar));
  const costs = (await first.store.inputs()).filter((r) => r.type === 'costs').map((r) => r.data);
  assert.deepEqual(costs, [{ type: 'costs', suspendRateMBps: 20, resumeRateMBps: 50 }], 'logged once: a refused figure is not logged');
  const suspend = first.service.scheduler.lease('job')!.chain.find((s) => s.kind === 'suspend')!;
  assert.equal(suspend.end - suspend.start, Math.ceil(1024 / 20));
  const schedule = [...first.service.scheduleExport()];
  await first.service.close();
  await first.driver.close();
  await first.store.close();

  const second = await open();
  assert.deepEqual([...second.service.scheduleExport()], schedule);
  assert.equal(second.service.scheduler.primary.config.suspendRateMBps, 20);
  await second.service.close();
  await second.driver.close();
  await second.store.close();
});
