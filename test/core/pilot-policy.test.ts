// The pilot policy (src/core/pilot-policy.ts): never more pilots than maxPilots, no submission
// while pending and usable idle pilots cover what waits, only pilots idle for the idle timeout
// let go, and a policy that cannot be followed refused saying why.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { pilotDecision, type PilotPolicy, pilotPolicyProblem, type PilotView, type WaitingLease } from '../../src/core/pilot-policy.ts';

const NODE = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const NOW = 100_000;

const policyArb: fc.Arbitrary<PilotPolicy> = fc.record({
  maxPilots: fc.integer({ min: 1, max: 12 }),
  nodesPerPilot: fc.integer({ min: 1, max: 4 }),
  timeLimitSeconds: fc.integer({ min: 600, max: 86_400 }),
  idleTimeoutSeconds: fc.integer({ min: 0, max: 3600 }),
  graceSeconds: fc.integer({ min: 0, max: 300 }),
});

const waitingArb: fc.Arbitrary<WaitingLease[]> = fc.array(fc.record({
  nodes: fc.integer({ min: 1, max: 10 }),
  perNode: fc.record({ cpu: fc.constantFrom(1, 1, 1, 2), memoryMiB: fc.constantFrom(512, 1024, 1024, 2048), diskMiB: fc.constant(0) }),
}), { maxLength: 8 });

const pilotsArb = (max: number): fc.Arbitrary<PilotView[]> => fc.array(fc.record({
  state: fc.constantFrom<'pending' | 'running'>('pending', 'running'),
  nodes: fc.integer({ min: 1, max: 4 }),
  endsIn: fc.integer({ min: 0, max: 20_000 }),
  idleFor: fc.option(fc.integer({ min: 0, max: 5000 })),
  signalled: fc.boolean(),
}), { maxLength: max }).map((ps) => ps.map((p, i): PilotView => p.state === 'pending'
  ? { id: `p${i}`, state: 'pending', nodes: p.nodes, endsAt: null, idleSince: null, signalled: false }
  : { id: `p${i}`, state: 'running', nodes: p.nodes, endsAt: NOW + p.endsIn, idleSince: p.idleFor === null ? null : NOW - p.idleFor, signalled: p.signalled }));

const caseArb = policyArb.chain((policy) => fc.record({ policy: fc.constant(policy), waiting: waitingArb, pilots: pilotsArb(policy.maxPilots) }));

test('never more than maxPilots pending and running, once the decision is applied', () => {
  fc.assert(fc.property(caseArb, ({ policy, waiting, pilots }) => {
    const d = pilotDecision(NOW, waiting, pilots, policy, NODE);
    assert.ok(pilots.length - d.release.length + d.submit.length <= policy.maxPilots);
    for (const s of d.submit) assert.deepEqual(s, { nodes: policy.nodesPerPilot, timeLimitSeconds: policy.timeLimitSeconds });
  }), { numRuns: 500 });
});

test('no pilot is submitted while pending pilots (and idle ones with time left) would cover the waiting nodes', () => {
  fc.assert(fc.property(caseArb, ({ policy, waiting, pilots }) => {
    const d = pilotDecision(NOW, waiting, pilots, policy, NODE);
    const pending = pilots.filter((p) => p.state === 'pending').reduce((a, p) => a + p.nodes, 0);
    const demand = waiting.filter((l) => l.perNode.cpu <= 1 && l.perNode.memoryMiB <= 1024 && l.nodes <= policy.maxPilots * policy.nodesPerPilot).reduce((a, l) => a + l.nodes, 0);
    if (pending >= demand) assert.deepEqual(d.submit, []);
    // What is submitted is no more than the shortfall, in whole pilots.
    assert.ok(d.submit.length <= Math.ceil(Math.max(0, demand - pending) / policy.nodesPerPilot));
    assert.equal(d.unfit, waiting.length - waiting.filter((l) => l.perNode.cpu <= 1 && l.perNode.memoryMiB <= 1024 && l.nodes <= policy.maxPilots * policy.nodesPerPilot).length);
  }), { numRuns: 500 });
});

test('only running pilots not told to go, idle for at least the idle timeout, are let go; all of them when nothing waits', () => {
  fc.assert(fc.property(caseArb, ({ policy, waiting, pilots }) => {
    const d = pilotDecision(NOW, waiting, pilots, policy, NODE);
    const timedOut = pilots.filter((p) => p.state === 'running' && !p.signalled && p.idleSince !== null && NOW - p.idleSince >= policy.idleTimeoutSeconds).map((p) => p.id);
    for (const id of d.release) assert.ok(timedOut.includes(id), `${id} let go`);
    if (waiting.length === 0) assert.deepEqual(d.release, timedOut);
    // A pilot idle past the timeout stays only for leases that wait.
    if (d.release.length < timedOut.length) assert.ok(waiting.length > 0);
  }), { numRuns: 500 });
});

test('a lease of four nodes with one pending pilot of two asks for one more; an idle pilot about to end is not counted', () => {
  const policy: PilotPolicy = { maxPilots: 10, nodesPerPilot: 2, timeLimitSeconds: 3600, idleTimeoutSeconds: 600, graceSeconds: 120 };
  const waiting = [{ nodes: 4, perNode: NODE }];
  const pending: PilotView = { id: 'a', state: 'pending', nodes: 2, endsAt: null, idleSince: null, signalled: false };
  assert.equal(pilotDecision(NOW, waiting, [pending], policy, NODE).submit.length, 1);
  const ending: PilotView = { id: 'b', state: 'running', nodes: 2, endsAt: NOW + 60, idleSince: NOW - 10, signalled: false };
  assert.equal(pilotDecision(NOW, waiting, [pending, ending], policy, NODE).submit.length, 1, 'one minute left: no use to a lease');
  const fresh: PilotView = { ...ending, endsAt: NOW + 3000 };
  assert.equal(pilotDecision(NOW, waiting, [pending, fresh], policy, NODE).submit.length, 0);
  assert.deepEqual(pilotDecision(NOW, [{ nodes: 30, perNode: NODE }], [], policy, NODE), { submit: [], release: [], unfit: 1 });
});

test('a policy that cannot be followed is refused, saying what is wrong', () => {
  const good: PilotPolicy = { maxPilots: 4, nodesPerPilot: 1, timeLimitSeconds: 3600, idleTimeoutSeconds: 600, graceSeconds: 120 };
  assert.equal(pilotPolicyProblem(good), null);
  assert.equal(pilotPolicyProblem({ ...good, maxPilots: 0 }), 'maxPilots must be a whole number >= 1, got 0');
  assert.equal(pilotPolicyProblem({ ...good, idleTimeoutSeconds: 1.5 }), 'idleTimeoutSeconds must be a whole number >= 0, got 1.5');
  assert.equal(pilotPolicyProblem({ ...good, graceSeconds: 3600 }), 'graceSeconds (3600) must be shorter than timeLimitSeconds (3600)');
});
