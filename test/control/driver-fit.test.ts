// The scheduler plans only what the driver can do: on a back-end that cannot suspend VMs to a file
// a preempted lease is requeued, never suspended; one that cannot migrate cold resumes leases only
// where they were suspended; one that cannot migrate live refuses to move a running lease; one
// without scratch disks refuses a lease that asks for disk.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import '../core/support/setup.ts';
import { configWith, DEFAULT_CONFIG } from '../../src/core/config.ts';
import type { LeaseRequest } from '../../src/core/types.ts';
import { ManualClock } from '../../src/control/clock.ts';
import { configForDriver } from '../../src/control/driver-fit.ts';
import { LeaseService } from '../../src/control/lease-service.ts';
import { ALL_CAPABILITIES, type Capability } from '../../src/drivers/capabilities.ts';
import { SimulatedDriver } from '../../src/drivers/simulated/simulated-driver.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import { configArb, describeScenario, scenarioArb } from '../core/support/generators.ts';
import { suspensionSegmentsIn } from '../core/support/lease-checks.ts';
import { runScenario, violationsOf } from '../core/support/run.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test('the config follows the capabilities: suspension only with suspendToFile, resumption elsewhere only with coldMigration', () => {
  const all = new Set(ALL_CAPABILITIES);
  assert.deepEqual(configForDriver(DEFAULT_CONFIG, all), DEFAULT_CONFIG);
  assert.deepEqual(configForDriver(DEFAULT_CONFIG, new Set<Capability>()), { ...DEFAULT_CONFIG, preemption: 'requeue', migration: false });
  assert.deepEqual(configForDriver(DEFAULT_CONFIG, new Set<Capability>(['suspendToFile'])), { ...DEFAULT_CONFIG, preemption: 'suspend', migration: false });
  assert.equal(configForDriver(configWith({ preemption: 'requeue' }), all).preemption, 'requeue', 'a driver that can suspend does not force suspension');
  assert.equal(configForDriver(configWith({ migration: false }), all).migration, false);
});

test('with a driver that cannot suspend, no lease of any kind is ever suspended, resumed or migrated', () => {
  fc.assert(
    fc.property(scenarioArb({ config: configArb().map((c) => configForDriver(c, new Set<Capability>(['scratchDisks', 'liveMigration']))) }), (s) => {
      const run = runScenario(s);
      assert.deepEqual([...violationsOf(s, run), ...suspensionSegmentsIn(run.lines)], [], `scenario ${describeScenario(s)}`);
    }),
    { numRuns: 400 },
  );
});

const T0 = 1_800_000_000;
const whole = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const be = (id: string, duration: number): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration, nodes: 1, perNode: whole, preemptible: true });

async function serviceOn(capabilities: Capability[]) {
  const dir = mkdtempSync(join(tmpdir(), 'vws-fit-'));
  dirs.push(dir);
  const store = await openSqliteStore(join(dir, 'vws.db'));
  const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 }, capabilities });
  const calls: string[] = [];
  for (const op of ['suspend', 'resume', 'migrate', 'liveMigrate'] as const) {
    const real = driver[op].bind(driver) as (...a: unknown[]) => Promise<unknown>;
    (driver as unknown as Record<string, unknown>)[op] = (...a: unknown[]) => (calls.push(op), real(...a));
  }
  const clock = new ManualClock(T0);
  const service = await LeaseService.open({ store, driver, clock, config: configWith({ suspendRateMBps: 1024, resumeRateMBps: 1024 }) });
  await service.pool.addNode({ id: 'n1', ...whole });
  await service.pool.addNode({ id: 'n2', ...whole });
  return { store, driver, clock, service, calls };
}

/** Two best-effort leases fill both nodes; a reservation for one node arrives an hour ahead and runs an hour later. */
async function reservationOverBestEffort(capabilities: Capability[]) {
  const world = await serviceOn(capabilities);
  const { service, clock } = world;
  assert.ok((await service.create('alice', null, be('job', 3 * 3600))).ok);
  assert.ok((await service.create('alice', null, be('other', 3 * 3600))).ok);
  await service.idle();
  const ar = await service.create('bob', null, { id: 'ar', kind: 'exact', arrival: 0, requestedStart: T0 + 3600, duration: 1800, nodes: 1, perNode: whole, preemptible: false });
  assert.ok(ar.ok && ar.value.decision.ok, JSON.stringify(ar));
  const preempted = ar.value.decision.preempted ?? [];
  clock.advance(3600);
  await service.idle();
  return { ...world, preempted };
}

test('on a driver that cannot suspend, a reservation requeues the best-effort lease in its way and the driver is never asked to suspend', async () => {
  const { store, service, calls, preempted } = await reservationOverBestEffort([]);
  try {
    assert.deepEqual(preempted.map((p) => p.how), ['requeue']);
    assert.equal((await store.getLease('ar'))?.status, 'running');
    assert.deepEqual(calls, []);
    assert.equal(service.scheduler.lease(preempted[0].leaseId)!.suspensions, 0);
    const refused = await service.act('other', 'suspend');
    assert.ok(!refused.ok && refused.code === 'unsupported' && /cannot be suspended: the simulated driver cannot suspend VMs to a file/.test(refused.message), JSON.stringify(refused));
  } finally {
    await service.close();
  }
});

test('on a driver that suspends, the same reservation suspends the lease in its way', async () => {
  const { service, calls, preempted } = await reservationOverBestEffort(['suspendToFile']);
  try {
    assert.deepEqual(preempted.map((p) => p.how), ['suspend']);
    assert.deepEqual(calls, ['suspend']);
  } finally {
    await service.close();
  }
});

test('on a driver that cannot migrate live, moving a running lease is refused before anything is logged', async () => {
  const { store, service } = await serviceOn(['suspendToFile', 'coldMigration']);
  try {
    assert.ok((await service.create('alice', null, be('job', 3600))).ok);
    await service.idle();
    const node = (await store.workspacesOf('job'))[0].node;
    const before = (await store.inputs()).length;
    const refused = await service.migrate('job', [node === 'n1' ? 'n2' : 'n1']);
    assert.ok(!refused.ok && refused.code === 'unsupported' && /lease 'job' cannot move while it runs: the simulated driver cannot migrate running VMs/.test(refused.message), JSON.stringify(refused));
    assert.equal((await store.inputs()).length, before);
  } finally {
    await service.close();
  }
});

test('on a driver without scratch disks, a lease that asks for disk is refused with what to do, and one that does not is accepted', async () => {
  const { store, service } = await serviceOn(['suspendToFile']);
  try {
    const quote = await service.quote({ ...be('disk', 60), perNode: { ...whole, diskMiB: 512 } });
    assert.ok(!quote.ok);
    assert.equal(quote.reason, 'invalid');
    assert.match(quote.message, /asks for 512 MiB of disk per node, but the simulated driver makes no scratch disks: ask for none/);
    const created = await service.create('alice', null, { ...be('disk', 60), perNode: { ...whole, diskMiB: 512 } });
    assert.ok(!created.ok);
    assert.equal(await store.getLease('disk'), null);
    assert.ok((await service.create('alice', null, be('plain', 60))).ok);
  } finally {
    await service.close();
  }
});
