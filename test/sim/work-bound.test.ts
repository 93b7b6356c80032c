// The work bound (src/sim/work-bound.ts): worked examples, and the property that makes it a bound:
// no simulated schedule, whatever its configuration, ends its best-effort work before it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { configWith } from '../../src/core/config.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { computeMetrics } from '../../src/sim/metrics.ts';
import { simulate } from '../../src/sim/simulator.ts';
import { workBound } from '../../src/sim/work-bound.ts';
import '../core/support/setup.ts';
import { configArb, describeScenario, scenarioArb } from '../core/support/generators.ts';

const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const pool = (n: number): NodeSpec[] => Array.from({ length: n }, (_, i) => ({ id: `n${i + 1}`, cpu: 1, memoryMiB: 1024, diskMiB: 0 }));
const be = (id: string, arrival: number, nodes: number, duration: number, realDuration?: number): LeaseRequest => ({
  id, kind: 'best-effort', arrival, requestedStart: null, duration, realDuration, nodes, perNode, preemptible: true,
});
const ar = (id: string, start: number, nodes: number, duration: number): LeaseRequest => ({
  id, kind: 'exact', arrival: 0, requestedStart: start, duration, nodes, perNode, preemptible: false,
});
const plain = configWith({});

test('one lease alone cannot end before its arrival and its real run', () => {
  assert.deepEqual(workBound([be('a', 100, 2, 60, 50)], pool(4), plain), { allBestEffort: 150, from: 100, reason: 'lease' });
});

test('work that arrives together fills the pool: eight one-node leases of 100 s on four nodes take 200 s', () => {
  const leases = Array.from({ length: 8 }, (_, i) => be(`b${i}`, 0, 1, 100));
  assert.deepEqual(workBound(leases, pool(4), plain), { allBestEffort: 200, from: 0, reason: 'work' });
});

test('the VM overhead, boot and shutdown stretch each lease as the simulator stretches it', () => {
  const config = configWith({ runtimeOverheadPercent: 5, bootSeconds: 10, shutdownSeconds: 10 });
  // 8 x (10 + 105 + 10) / 4 = 250
  assert.equal(workBound(Array.from({ length: 8 }, (_, i) => be(`b${i}`, 0, 1, 100)), pool(4), config).allBestEffort, 250);
});

test('a reservation counts for the part of it that falls before the work can be done, and not after', () => {
  const work = Array.from({ length: 4 }, (_, i) => be(`b${i}`, 0, 1, 100));
  // 400 node-seconds of work and 2 nodes held over [0, 100): 600 / 4 = 150.
  assert.equal(workBound([...work, ar('r', 0, 2, 100)], pool(4), plain).allBestEffort, 150);
  // Held over [50, 1050): T x 4 = 400 + 2 x (T - 50) at T = 150, reached by guesses 100, 125, 137.5, ...
  assert.equal(Math.round(workBound([...work, ar('r', 50, 2, 1000)], pool(4), plain).allBestEffort), 150);
  // Held after the work is done: it changes nothing.
  assert.equal(workBound([...work, ar('r', 1000, 4, 100)], pool(4), plain).allBestEffort, 100);
});

test('the latest instant whose arrivals fill the pool gives the bound', () => {
  const early = Array.from({ length: 4 }, (_, i) => be(`e${i}`, 0, 1, 100));
  const late = Array.from({ length: 8 }, (_, i) => be(`l${i}`, 1000, 1, 100));
  assert.deepEqual(workBound([...early, ...late], pool(4), plain), { allBestEffort: 1200, from: 1000, reason: 'work' });
});

test('what arrived before an instant and must still be running then counts with what arrives after it', () => {
  // Two nodes held until 1000 by a lease of 0; four one-node leases of 100 s at 900: 900 + (2 x 100 + 400) / 4.
  const leases = [be('long', 0, 2, 1000), ...Array.from({ length: 4 }, (_, i) => be(`s${i}`, 900, 1, 100))];
  assert.deepEqual(workBound(leases, pool(4), plain), { allBestEffort: 1050, from: 900, reason: 'work' });
});

test('no simulated schedule ends its best-effort work before the bound', () => {
  const scenarios = scenarioArb({ stream: { kinds: ['best-effort', 'best-effort', 'exact'], exceedPercent: 0, largePercent: 0 }, config: configArb() });
  fc.assert(fc.property(scenarios, (s) => {
    const scheduler = simulate({ requests: s.requests, nodes: s.nodes, config: s.config });
    const leases = scheduler.allLeases();
    const metrics = computeMetrics(leases, s.nodes, 0);
    // Only the reservations the scheduler accepted hold anything, and only completed leases are counted.
    const held = new Set(leases.filter((l) => l.req.kind !== 'exact' || l.state !== 'rejected').filter((l) => l.req.kind === 'exact' || l.state === 'completed').map((l) => l.req.id));
    const bound = workBound(s.requests.filter((r) => held.has(r.id)), s.nodes, s.config);
    assert.ok(bound.allBestEffort <= metrics.allBestEffort + 1e-6, `bound ${JSON.stringify(bound)} after the schedule's ${metrics.allBestEffort}\n${describeScenario(s)}`);
  }), { numRuns: 300 });
});
