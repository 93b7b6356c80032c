// Network bandwidth as a leased resource: a node that declares its bandwidth shares it among the
// leases that ask for some, as it shares its CPUs and memory; a node that declares none is not
// counted, and a lease that asks for none never waits for bandwidth.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { bandwidthFreeUntil } from '../../src/core/bandwidth.ts';
import { configWith } from '../../src/core/config.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { Segment } from '../../src/core/segment.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { simulate } from '../../src/sim/simulator.ts';
import { describeScenario, type Scenario, scenarioArb } from './support/generators.ts';
import { checkSchedule } from './support/schedule-checker.ts';
import { validateSchedule } from '../support/validate-schedule.ts';

const node = (id: string, bandwidthMbps?: number): NodeSpec => ({ id, cpu: 4, memoryMiB: 4096, diskMiB: 0, ...(bandwidthMbps !== undefined ? { bandwidthMbps } : {}) });
const lease = (id: string, kind: LeaseRequest['kind'], start: number | null, duration: number, bandwidthMbps?: number, nodes = 1): LeaseRequest => ({
  id, kind, arrival: 0, requestedStart: start, duration, nodes, preemptible: kind === 'best-effort',
  perNode: { cpu: 1, memoryMiB: 512, diskMiB: 0, ...(bandwidthMbps !== undefined ? { bandwidthMbps } : {}) },
});
const seg = (start: number, end: number, bandwidthMbps: number, leaseId = 'x'): Segment =>
  ({ seq: start, leaseId, kind: 'run', start, end, nodes: [0], cpu: 1, memoryMiB: 1, bandwidthMbps, active: false, removed: false });

test('until when a node has bandwidth free: the reservations that begin and end, those ignored, a node that leases none', () => {
  const spec = node('n', 100);
  const cal = [seg(0, 10, 60), seg(5, 20, 30), seg(20, 30, 80, 'y')];
  assert.equal(bandwidthFreeUntil(cal, spec, 0, 50, Infinity), 0, '60 in use at 0: 50 more is over 100');
  assert.equal(bandwidthFreeUntil(cal, spec, 0, 10, Infinity), Infinity, 'exactly 100 from 5 to 10');
  assert.equal(bandwidthFreeUntil(cal, spec, 0, 15, Infinity), 5, '90 in use from 5');
  assert.equal(bandwidthFreeUntil(cal, spec, 10, 70, Infinity), 20, '30 in use from 10 to 20, 80 from 20');
  assert.equal(bandwidthFreeUntil(cal, spec, 10, 70, Infinity, new Set(['y'])), Infinity, 'y left out');
  assert.equal(bandwidthFreeUntil(cal, spec, 10, 70, 15), 15, 'no further than the horizon');
  assert.equal(bandwidthFreeUntil(cal, spec, 0, 101, Infinity), 0, 'more than the node has');
  assert.equal(bandwidthFreeUntil(cal, node('n'), 0, 1e6, Infinity), Infinity, 'a node that leases no bandwidth');
});

test('a lease waits for bandwidth, not for CPU, and one that asks for none does not wait', () => {
  const nodes = [node('n1', 100)];
  const s = simulate({ nodes, config: configWith({}), requests: [lease('a', 'best-effort', null, 100, 80), lease('b', 'best-effort', null, 100, 40), lease('c', 'best-effort', null, 100)] });
  const start = (id: string) => s.lease(id)!.history[0].start;
  assert.deepEqual([start('a'), start('b'), start('c')], [0, 100, 0], 'b waits for a to give back its 80 Mbit/s; c asks for none');
  assert.deepEqual(checkSchedule([...scheduleLines(s.allLeases(), nodes)], { runtimeOverheadPercent: 0, drained: true }), []);
});

test('a reservation that would exceed a node\'s bandwidth is refused with the earliest start that fits; one larger than any node, as exceeding the pool', () => {
  const scheduler = new Scheduler([node('n1', 100), node('n2', 100), node('n3')], configWith({}));
  assert.ok(scheduler.submit(lease('a', 'exact', 0, 100, 70), 0).ok);
  scheduler.advance(0);
  const plan = scheduler.plan(lease('b', 'exact', 50, 100, 50, 3), 0);
  assert.equal(plan.ok, false);
  assert.ok(!plan.ok && plan.alternatives.some((a) => a.kind === 'later-start' && a.start === 100), JSON.stringify(plan));
  const huge = scheduler.plan(lease('c', 'exact', 0, 10, 150, 2), 0);
  assert.ok(scheduler.plan(lease('b2', 'exact', 50, 100, 30, 3), 0).ok, '30 more fits beside 70');
  assert.ok(!huge.ok && huge.reason === 'exceeds-pool', JSON.stringify(huge));
  assert.match(!huge.ok ? huge.message : '', /150 Mbit\/s/);
  // n3 leases no bandwidth: a lease of one node that asks for 150 Mbit/s fits there.
  assert.ok(scheduler.plan(lease('d', 'exact', 0, 10, 150, 1), 0).ok);
});

/** A scenario whose nodes may lease bandwidth and whose leases may ask for some. */
const withBandwidth = fc.tuple(
  scenarioArb({ stream: { maxLeases: 14 } }),
  fc.array(fc.constantFrom<number | undefined>(undefined, 100, 100, 1000), { minLength: 10, maxLength: 10 }),
  fc.array(fc.constantFrom<number | undefined>(undefined, 10, 40, 60, 100, 400), { minLength: 14, maxLength: 14 }),
).map(([s, nodeBw, leaseBw]): Scenario => ({
  ...s,
  nodes: s.nodes.map((n, i) => (nodeBw[i] === undefined ? n : { ...n, bandwidthMbps: nodeBw[i] })),
  requests: s.requests.map((r, i) => {
    const bw = leaseBw[i % leaseBw.length];
    if (bw === undefined) return r;
    return { ...r, perNode: { ...r.perNode, bandwidthMbps: bw }, ...(r.roles ? { roles: r.roles.map((x) => ({ ...x, perNode: { ...x.perNode, bandwidthMbps: bw } })) } : {}) };
  }),
}));

let waited = 0;
let checked = 0;

test('no node ever holds more bandwidth than it has, whatever the leases, pools and policies; the schedule checks', () => {
  fc.assert(fc.property(withBandwidth, (s) => {
    const scheduler = simulate({ requests: s.requests, nodes: s.nodes, config: s.config });
    const lines = [...scheduleLines(scheduler.allLeases(), s.nodes)];
    assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true }), [], describeScenario(s));
    // Not vacuous: the same scenario without bandwidth is scheduled otherwise, now and then.
    const plain = simulate({ requests: s.requests.map((r) => ({ ...r, perNode: { ...r.perNode, bandwidthMbps: undefined } })), nodes: s.nodes, config: s.config });
    if (JSON.stringify([...scheduleLines(plain.allLeases(), s.nodes)].slice(1).map((l) => JSON.parse(l).segments)) !== JSON.stringify(lines.slice(1).map((l) => JSON.parse(l).segments))) waited++;
    if (checked++ % 10 === 0) {
      const shared = validateSchedule(`${lines.join('\n')}\n`, ['--runtime-overhead', String(s.config.runtimeOverheadPercent)]);
      assert.equal(shared.status, 0, `${shared.output}\n${describeScenario(s)}`);
    }
  }), { numRuns: 200 });
  assert.ok(waited > 0, 'bandwidth changed no schedule in 200 runs');
});
