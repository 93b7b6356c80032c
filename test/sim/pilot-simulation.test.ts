// Batch jobs and VM leases sharing a cluster through pilots (src/sim/pilot-simulation.ts): every
// VM lease completes, only on a node while a pilot holds it; pilots hold their nodes only while
// the batch model ran them; batch jobs wait at most the grace time for pilots; the vws side's
// export passes both schedule checkers, owners' changes of VM leases too; and the same input gives
// the same run.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { configWith } from '../../src/core/config.ts';
import type { PilotPolicy } from '../../src/core/pilot-policy.ts';
import type { LeaseRequest } from '../../src/core/types.ts';
import type { BatchJob } from '../../src/sim/batch/batch-cluster.ts';
import { pilotMetrics, tenureViolations, vmMetrics } from '../../src/sim/pilot-metrics.ts';
import { type PilotSimInput, type PilotSimResult, simulatePilots } from '../../src/sim/pilot-simulation.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import '../core/support/setup.ts';
import { requestsWithChanges } from '../core/support/changes-arb.ts';
import { checkSchedule } from '../core/support/schedule-checker.ts';
import { validateSchedule } from '../support/validate-schedule.ts';

const NODE = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };

const inputArb: fc.Arbitrary<PilotSimInput> = fc.integer({ min: 1, max: 6 }).chain((size) => fc.record({
  clusterNodes: fc.constant(size),
  node: fc.constant(NODE),
  batch: fc.array(fc.record({ submit: fc.integer({ min: 0, max: 20_000 }), nodes: fc.integer({ min: 1, max: size }), requested: fc.integer({ min: 60, max: 8000 }), run: fc.double({ min: 0, max: 1, noNaN: true }) }), { maxLength: 15 })
    .map((js) => js.map((j, i): BatchJob => ({ id: `j${i}`, submit: j.submit, nodes: j.nodes, requested: j.requested, runtime: Math.max(1, Math.round(j.requested * j.run)) }))),
  leases: fc.array(fc.record({ arrival: fc.integer({ min: 0, max: 20_000 }), nodes: fc.integer({ min: 1, max: size }), duration: fc.integer({ min: 1, max: 10_000 }), run: fc.double({ min: 0, max: 1, noNaN: true }) }), { minLength: 1, maxLength: 12 })
    .map((ls) => ls.map((l, i): LeaseRequest => ({ id: `vm${i}`, kind: 'best-effort', arrival: l.arrival, requestedStart: null, duration: l.duration, realDuration: Math.max(1, Math.round(l.duration * l.run)), nodes: l.nodes, perNode: NODE, preemptible: true }))),
  policy: fc.record({
    maxPilots: fc.integer({ min: size, max: 2 * size }),
    nodesPerPilot: fc.constant(1),
    timeLimitSeconds: fc.integer({ min: 600, max: 6 * 3600 }),
    idleTimeoutSeconds: fc.integer({ min: 0, max: 1800 }),
    graceSeconds: fc.constantFrom(0, 60, 120),
  }).chain((p) => fc.record({ ...Object.fromEntries(Object.entries(p).map(([k, v]) => [k, fc.constant(v)])), nodesPerPilot: fc.integer({ min: 1, max: Math.min(size, p.maxPilots) }) }) as fc.Arbitrary<PilotPolicy>),
  config: fc.constant(configWith({})),
})).map((input) => {
  // No larger than the pilots can hold at once (simulatePilots refuses larger ones).
  const { maxPilots, nodesPerPilot } = input.policy;
  const most = Math.min(maxPilots, Math.floor(input.clusterNodes / nodesPerPilot)) * nodesPerPilot;
  return { ...input, leases: input.leases.map((l) => ({ ...l, nodes: Math.min(l.nodes, most) })) };
});

function assertOnPilotsOnly(r: PilotSimResult, why: string): void {
  assert.deepEqual(tenureViolations(r), [], why);
}

test('every VM lease completes on pilot nodes only; batch jobs wait at most the grace time for pilots; the export checks', () => {
  fc.assert(fc.property(inputArb, (input) => {
    const why = JSON.stringify(input);
    const r = simulatePilots(input);
    for (const l of r.scheduler.allLeases()) assert.equal(l.state, 'completed', `${l.req.id}: ${why}`);
    assertOnPilotsOnly(r, why);
    for (const j of r.batch.records().filter((x) => x.tier === 'batch')) {
      assert.ok(j.end !== null && j.start! - j.decided! <= input.policy.graceSeconds, `${j.id}: ${why}`);
    }
    assert.deepEqual(checkSchedule(scheduleLines(r.scheduler.allLeases(), r.nodes), { runtimeOverheadPercent: 0, drained: true }), [], why);
    const vm = vmMetrics(r.scheduler.allLeases(), r.nodes, 20_000);
    const work = input.leases.reduce((a, l) => a + l.nodes * l.realDuration!, 0);
    assert.equal(Math.round(vm.workNodeHours * 3600), work, `the work done is the leases' real work, none lost: ${why}`);
    const p = pilotMetrics(r);
    assert.ok(p.started <= p.submitted && p.usedShare <= 1 + 1e-9, why);
  }), { numRuns: 120 });
});

test('owners\' changes of VM leases are made on the pilots\' nodes: each heard once, every lease completes there, the export checks', () => {
  const withChangesArb = inputArb.chain((input) => requestsWithChanges(input.leases).map((leases) => ({ ...input, leases })));
  fc.assert(fc.property(withChangesArb, (input) => {
    const why = JSON.stringify(input);
    const heard: string[] = [];
    const r = simulatePilots({ ...input, onChange: (o) => heard.push(`${o.leaseId}@${o.at}`) });
    assert.deepEqual(heard.sort(), input.leases.flatMap((l) => (l.changes ?? []).map((c) => `${l.id}@${c.at}`)).sort(), why);
    for (const l of r.scheduler.allLeases()) assert.equal(l.state, 'completed', `${l.req.id}: ${why}`);
    assertOnPilotsOnly(r, why);
    assert.deepEqual(checkSchedule(scheduleLines(r.scheduler.allLeases(), r.nodes), { runtimeOverheadPercent: 0, drained: true }), [], why);
  }), { numRuns: 100 });
});

test('the same input gives the same run', () => {
  fc.assert(fc.property(inputArb, (input) => {
    const a = simulatePilots(input);
    const b = simulatePilots(input);
    assert.deepEqual(a.tenures, b.tenures);
    assert.deepEqual(a.batch.records(), b.batch.records());
    assert.deepEqual([...scheduleLines(a.scheduler.allLeases(), a.nodes)], [...scheduleLines(b.scheduler.allLeases(), b.nodes)]);
  }), { numRuns: 40 });
});

test('a VM lease on a pilot that is preempted suspends into the depot and resumes on a later pilot; the shared checker accepts the export', () => {
  const batch: BatchJob[] = [{ id: 'big', submit: 1000, nodes: 2, requested: 3000, runtime: 2000 }];
  const leases: LeaseRequest[] = [{ id: 'vm', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 5000, realDuration: 4000, nodes: 1, perNode: NODE, preemptible: true }];
  const policy: PilotPolicy = { maxPilots: 2, nodesPerPilot: 1, timeLimitSeconds: 4 * 3600, idleTimeoutSeconds: 300, graceSeconds: 120 };
  const r = simulatePilots({ clusterNodes: 2, node: NODE, batch, leases, policy, config: configWith({}) });
  const vm = r.scheduler.lease('vm')!;
  assert.equal(vm.state, 'completed');
  assert.equal(vm.suspensions, 1);
  const kinds = vm.history.map((s) => s.kind);
  assert.deepEqual(kinds, ['run', 'suspend', 'migrate', 'resume', 'run']);
  const suspend = vm.history[1];
  assert.equal(suspend.end, 1120, 'the suspension ends as the grace time does');
  assert.equal(vm.history[2].start, 3120, 'fetched from the depot when the batch job is done (1120 + 2000) and a new pilot starts');
  assert.equal(r.batch.record('big')!.start, 1120);
  assert.equal(r.pilots.preempted, 1);
  assertOnPilotsOnly(r, 'fixed case');
  const cut = { ...r, tenures: r.tenures.map((t) => ({ ...t, end: t.start + 1 })) };
  assert.ok(tenureViolations(cut).some((v) => /^vm run \[\d+, \d+\) on b\d, which no pilot held then$/.test(v)), 'the check sees a VM outside its pilot');
  const check = validateSchedule(`${[...scheduleLines(r.scheduler.allLeases(), r.nodes)].join('\n')}\n`, ['--nodes', '2']);
  assert.equal(check.status, 0, check.output);
});
