// The figures behind `vws sim --plot` (issue 20, item 4): utilization and queue length over time
// and waits by lease size, against hand-computed values on tiny schedules, and properties on
// generated ones (the checks the metrics and the schedule already pass, read through the charts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import '../core/support/setup.ts';
import { configWith } from '../../src/core/config.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { runExperiment, type ExperimentSpec } from '../../src/sim/experiment.ts';
import { computeMetrics } from '../../src/sim/metrics.ts';
import { chartInputOf } from '../../src/sim/plots/sim-charts.ts';
import { horizonOf, queueSeries, utilizationSeries, waitingIntervals } from '../../src/sim/plots/run-series.ts';
import { bucketed, bucketWidth, type Bucket } from '../../src/sim/plots/time-buckets.ts';
import { waitsBySize } from '../../src/sim/plots/waits-by-size.ts';
import { simulate } from '../../src/sim/simulator.ts';
import { describeScenario, scenarioArb } from '../core/support/generators.ts';

const perNode = { cpu: 1, memoryMiB: 100, diskMiB: 0 };
const nodes = (n: number): NodeSpec[] => Array.from({ length: n }, (_, i) => ({ id: `n${i + 1}`, ...perNode }));
const bestEffort = (id: string, arrival: number, duration: number, n: number): LeaseRequest =>
  ({ id, kind: 'best-effort', arrival, requestedStart: null, duration, nodes: n, perNode, preemptible: true });

const figures = (buckets: readonly Bucket[]) => buckets.map((b) => [b.from, b.to, b.mean, b.peak]);
const area = (buckets: readonly Bucket[]) => buckets.reduce((a, b) => a + b.mean * (b.to - b.from), 0);

test('a queue behind a two-node lease: utilization, queue length and waits by size as computed by hand', () => {
  // A holds both nodes over [0, 100); B (arrives at 10) and C (at 20) wait for it, then run side by side.
  const leases = simulate({ nodes: nodes(2), config: configWith({}), requests: [bestEffort('A', 0, 100, 2), bestEffort('B', 10, 50, 1), bestEffort('C', 20, 30, 1)] }).allLeases();
  assert.equal(horizonOf(leases), 150);
  const { runs, overheads } = utilizationSeries(leases, 2, 150, 50);
  assert.deepEqual(figures(runs), [[0, 50, 1, 1], [50, 100, 1, 1], [100, 150, 0.8, 1]]);
  assert.deepEqual(figures(overheads), [[0, 50, 0, 0], [50, 100, 0, 0], [100, 150, 0, 0]]);
  assert.deepEqual(figures(queueSeries(leases, 150, 50)), [[0, 50, 1.4, 2], [50, 100, 2, 2], [100, 150, 0, 0]]);
  assert.equal(area(queueSeries(leases, 150, 50)), 90 + 80, 'the queue-length integral is the sum of the waits');
  // Three leases: 5% of them is none, so all three count.
  assert.deepEqual(waitsBySize(leases, false), [
    { low: 1, high: 1, leases: 2, meanWait: 85, maxWait: 90 },
    { low: 2, high: 3, leases: 1, meanWait: 0, maxWait: 0 },
  ]);
});

test('a lease suspended for a reservation: its overheads are counted apart, and it waits in the queue only while suspended', () => {
  // One node; A runs from 0, a reservation for [50, 70) arrives at 10: A saves its 100 MiB at
  // 10 MB/s over [40, 50), waits, restores it over [70, 80) and runs its last 60 s to 140.
  const leases = simulate({
    nodes: nodes(1), config: configWith({ suspendRateMBps: 10, resumeRateMBps: 10 }),
    requests: [bestEffort('A', 0, 100, 1), { id: 'R', kind: 'exact', arrival: 10, requestedStart: 50, duration: 20, nodes: 1, perNode, preemptible: false }],
  }).allLeases();
  const a = leases.find((l) => l.req.id === 'A')!;
  assert.deepEqual(waitingIntervals(a, 140), [[50, 70]]);
  const { runs, overheads } = utilizationSeries(leases, 1, 140, 50);
  assert.deepEqual(figures(runs), [[0, 50, 0.8, 1], [50, 100, 0.8, 1], [100, 140, 1, 1]]);
  assert.deepEqual(figures(overheads), [[0, 50, 0.2, 1], [50, 100, 0.2, 1], [100, 140, 0, 0]]);
  assert.deepEqual(figures(queueSeries(leases, 140, 50)), [[0, 50, 0, 0], [50, 100, 0.4, 1], [100, 140, 0, 0]]);
});

test('bucketing: changes at one instant count together, the last bucket stops at the end, widths are round', () => {
  // +1 at 0; at 10 one ends as another starts (no peak of 2); +1 at 15 until 30.
  const changes = [{ at: 0, delta: 1 }, { at: 10, delta: -1 }, { at: 10, delta: 1 }, { at: 15, delta: 1 }, { at: 30, delta: -2 }];
  assert.deepEqual(figures(bucketed(changes, 25, 10)), [[0, 10, 1, 1], [10, 20, 1.5, 2], [20, 25, 2, 2]]);
  assert.equal(bucketWidth(30 * 86_400), 10_800, '30 days: 3-hour buckets (240)');
  assert.equal(bucketWidth(31 * 86_400), 21_600, '31 days: 6-hour buckets (124)');
  assert.equal(bucketWidth(150), 1);
  assert.equal(bucketWidth(10 * 365 * 86_400), 3 * 604_800, 'past a week, whole weeks');
});

test('on generated workloads: utilization never above the pool, its area the metrics\' utilization; the queue never longer than the best-effort leases', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { maxLeases: 20 } }), (s) => {
      const leases = simulate({ requests: s.requests, nodes: s.nodes, config: s.config }).allLeases();
      const poolCpu = s.nodes.reduce((a, n) => a + n.cpu, 0);
      const end = Math.max(1, horizonOf(leases));
      const width = bucketWidth(end, 7);
      const { runs, overheads } = utilizationSeries(leases, poolCpu, end, width);
      const why = describeScenario(s);
      runs.forEach((r, i) => {
        assert.ok(r.mean >= -1e-9 && r.peak <= 1 + 1e-9, `runs over [${r.from}, ${r.to}): ${r.mean}, at most ${r.peak}\n${why}`);
        assert.ok(r.mean + overheads[i].mean <= 1 + 1e-9, `runs and overheads over [${r.from}, ${r.to}): ${r.mean + overheads[i].mean}\n${why}`);
        assert.ok(r.mean <= r.peak + 1e-9);
      });
      const metrics = computeMetrics(leases, s.nodes, 0);
      const lastEnd = Math.max(0, ...leases.flatMap((l) => l.history.map((x) => x.end)));
      // The metrics count the runs of the attempt that completed; the chart every run, lost or not.
      if (leases.every((l) => l.lost.length === 0)) {
        assert.ok(Math.abs(area(runs) - metrics.utilization * lastEnd) <= 1e-6 * Math.max(1, area(runs)), `${area(runs)} against ${metrics.utilization} x ${lastEnd}\n${why}`);
      }
      const queue = queueSeries(leases, end, width);
      const waiting = leases.filter((l) => l.req.kind === 'best-effort').length;
      for (const b of queue) assert.ok(b.peak <= waiting && b.mean <= b.peak + 1e-9 && b.mean >= 0, `${JSON.stringify(b)}\n${why}`);
    }),
    { numRuns: 150 },
  );
});

test('the queue-length integral is the sum of the best-effort leases\' waits, and more by the time they spent suspended', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { maxLeases: 25, kinds: ['best-effort', 'best-effort', 'exact'] } }), (s) => {
      const leases = simulate({ requests: s.requests, nodes: s.nodes, config: s.config }).allLeases().filter((l) => l.req.kind === 'best-effort');
      // A requeued lease's wait (waits.ts) runs from its arrival to its last attempt's start, over the attempts lost.
      fc.pre(leases.every((l) => l.lost.length === 0));
      const end = Math.max(1, horizonOf(leases));
      const waits = leases.reduce((a, l) => a + (l.firstStart === null ? 0 : l.firstStart - l.req.arrival), 0);
      const integral = area(queueSeries(leases, end, bucketWidth(end, 9)));
      const why = describeScenario(s);
      // Times are fractional once overheads stretch runs: a mean times its bucket's width is exact to rounding.
      const slack = 1e-9 * Math.max(1, waits);
      if (leases.every((l) => l.suspensions === 0)) assert.ok(Math.abs(integral - waits) <= slack, `${integral} against ${waits}\n${why}`);
      else assert.ok(integral >= waits - slack, `${integral} < ${waits}\n${why}`);
    }),
    { numRuns: 150 },
  );
});

test('waits by size cover the leases the metrics measure, and average to the metrics\' mean wait', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { minLeases: 10, maxLeases: 30 } }), (s) => {
      const leases = simulate({ requests: s.requests, nodes: s.nodes, config: s.config }).allLeases();
      const classes = waitsBySize(leases, false);
      const done = leases.filter((l) => l.req.kind === 'best-effort' && l.state === 'completed').length;
      const counted = classes.reduce((a, c) => a + c.leases, 0);
      assert.equal(counted, done - Math.floor(done * 0.05));
      const { meanWait } = computeMetrics(leases, s.nodes, 0);
      const mean = counted === 0 ? 0 : classes.reduce((a, c) => a + c.meanWait * c.leases, 0) / counted;
      assert.ok(Math.abs(mean - meanWait) <= 1e-6 * Math.max(1, meanWait), `${mean} against ${meanWait}\n${describeScenario(s)}`);
      for (const c of classes) assert.ok(c.maxWait >= c.meanWait && c.high === 2 * c.low - 1);
    }),
    { numRuns: 100 },
  );
});

test('bursting to EC2 and cells: utilization is the pool\'s (its leases on its CPUs), as the metrics\' is; queue and waits take every lease', () => {
  const perNode1G = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
  // 24 leases of 2 nodes every 100 s, 800 s each: 4 nodes cannot keep up, and the overflow goes to EC2.
  const requests: LeaseRequest[] = Array.from({ length: 24 }, (_, i) => ({
    id: `be${i + 1}`, kind: 'best-effort', arrival: i * 100, requestedStart: null, duration: 800, nodes: 2, perNode: perNode1G, preemptible: true,
  }));
  const spec: ExperimentSpec = {
    traces: [], injections: [], pool: { nodes: 4, cpu: 1, memoryMiB: 1024, diskMiB: 40_000 }, config: configWith({}), images: { choice: 'none', count: 1, sizeMiB: 1, seed: 1 },
  };
  const ec2 = { instanceTypes: [{ name: 'small', cpu: 1, memoryMiB: 1024, pricePerHour: 0.36 }], slots: 16, bootSeconds: 60 };
  const burst = runExperiment({ ...spec, burst: { ec2, policy: { afterSeconds: 0 } } }, requests);
  const input = chartInputOf(burst);
  assert.equal(input.poolCpu, 4);
  assert.ok(burst.metrics.burst!.backends.ec2.leases > 0 && input.poolLeases.length < input.leases.length, 'some leases ran on EC2');
  assert.equal(input.leases.length, 24);
  assert.ok(input.poolLeases.every((l) => l.history.every((seg) => seg.nodes.every((n) => n < 4))), 'the pool\'s leases ran on its nodes');
  const end = horizonOf(input.leases);
  const lastEnd = Math.max(...input.leases.flatMap((l) => l.history.map((x) => x.end)));
  const { runs } = utilizationSeries(input.poolLeases, input.poolCpu, end, bucketWidth(end));
  assert.ok(Math.abs(area(runs) - burst.metrics.utilization * lastEnd) < 1e-6 * lastEnd, `${area(runs)} against ${burst.metrics.utilization} x ${lastEnd}`);
  assert.ok(runs.every((b) => b.peak <= 1));
  const cells = runExperiment({ ...spec, cells: { sizes: [2, 2], front: 'earliest-start' } }, requests);
  const split = chartInputOf(cells);
  assert.equal(split.poolCpu, 4);
  assert.equal(split.byListOrder, true, 'ties in arrival go by position in the export, as the metrics break them');
  const counted = waitsBySize(split.leases, true).reduce((a, c) => a + c.leases, 0);
  assert.equal(counted, 24 - 1);
});
