// A promise the site must break (a node lost under a reservation) opens a renegotiation: the lease
// holds nothing, is offered the same lease later or on fewer nodes now, each offer accepted as
// offered; if its owner takes none in time, the site's default applies.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { configWith } from '../../src/core/config.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { checkSchedule } from './support/schedule-checker.ts';
import { mustDo } from './support/refusals.ts';

const node = (id: string): NodeSpec => ({ id, cpu: 1, memoryMiB: 1024, diskMiB: 0 });
const whole = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const exact = (id: string, start: number, duration: number, nodes = 1): LeaseRequest => ({ id, kind: 'exact', arrival: 0, requestedStart: start, duration, nodes, perNode: whole, preemptible: false });

function runTo(s: Scheduler, t: number): void {
  for (let e = s.nextEventTime(); e <= t; e = s.nextEventTime()) s.advance(e);
  s.advance(t);
}

function runUntilIdle(s: Scheduler): void {
  for (let t = s.nextEventTime(); t !== Infinity; t = s.nextEventTime()) s.advance(t);
}

/** Three nodes: `ar` runs on two of them from 0 to 1000, `other` on the third until 2000; one of ar's is lost at 100. */
function world(then: 'cancel' | 'first-offer' = 'cancel') {
  const s = new Scheduler([node('n1'), node('n2'), node('n3')], configWith({ renegotiationSeconds: 600, renegotiationDefault: then }));
  s.advance(0);
  s.submit(exact('ar', 0, 1000, 2), 0);
  s.submit(exact('other', 0, 2000, 1), 0);
  s.advance(0);
  runTo(s, 100);
  const lostNode = s.lease('ar')!.chain.find((x) => x.active)!.nodes[0];
  const loss = mustDo(s.loseNode(lostNode, 100));
  s.advance(100);
  return { s, loss, lostNode };
}

test('a reservation whose node is lost renegotiates: it holds nothing and is offered the same lease later, and fewer nodes now', () => {
  const { s, loss } = world();
  assert.deepEqual(loss.renegotiating, ['ar']);
  assert.deepEqual(loss.failed, []);
  const ar = s.lease('ar')!;
  assert.equal(ar.state, 'renegotiating');
  assert.equal(ar.chain.length, 0, 'it holds nothing');
  assert.equal(ar.failure?.code, 'node-unavailable', 'why its promise broke');
  assert.equal(ar.renegotiateUntil, 700);
  assert.deepEqual(ar.offers!.map((o) => [o.kind, o.change]), [
    ['later-start', { duration: 1000, start: 2000 }],
    ['fewer-nodes', { duration: 1000, start: 100, nodes: 1 }],
  ]);
  assert.equal(s.nextEventTime(), 700, 'the scheduler wakes when it lapses');
});

test('each offer is accepted as offered, and the lease runs it', () => {
  for (const k of [0, 1]) {
    const { s } = world();
    const offer = s.lease('ar')!.offers![k];
    const done = s.change('ar', offer.change, 100);
    assert.ok(done.ok, JSON.stringify(done));
    assert.equal(done.plan.start, offer.start);
    s.advance(100);
    const ar = s.lease('ar')!;
    assert.equal(ar.renegotiateUntil, null);
    assert.equal(ar.offers, null);
    assert.equal(ar.failure, null);
    runUntilIdle(s);
    assert.equal(ar.state, 'completed');
    const lines = [...scheduleLines(s.allLeases(), s.table.nodes)];
    assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: 0, drained: true }), []);
  }
});

test('an owner who takes no offer: by default the lease is cancelled with its reason; with first-offer it takes the first that fits', () => {
  const cancelled = world('cancel').s;
  runTo(cancelled, 700);
  const ar = cancelled.lease('ar')!;
  assert.equal(ar.state, 'cancelled');
  assert.match(ar.failure!.message, /became unavailable.*no offer was taken by 700.*default is to cancel/);
  const taken = world('first-offer').s;
  runTo(taken, 700);
  assert.equal(taken.lease('ar')!.state, 'scheduled');
  assert.equal(taken.lease('ar')!.chain.find((x) => x.kind === 'run')!.start, 2000);
});

// Found in review: the default tried the first offer alone, so a lease whose later start was taken
// meanwhile was cancelled though fewer nodes still fitted, and an offer made to start at once (at
// the break) could never be taken when the wait ran out, its start being past by then.
test('with first-offer, the first offer that still fits is taken; one offered to start at once starts when the wait runs out', () => {
  const { s } = world('first-offer');
  assert.ok(s.submit(exact('thief', 2000, 2000, 2), 100).ok, 'a reservation takes the room the later start was offered');
  s.advance(100);
  runTo(s, 700);
  const ar = s.lease('ar')!;
  assert.equal(ar.state, 'active', 'it runs from the instant its wait ran out');
  assert.equal(ar.req.nodes, 1, 'the fewer-nodes offer');
  const run = ar.chain.find((x) => x.kind === 'run')!;
  assert.deepEqual([run.start, run.end], [700, 1700]);
  runUntilIdle(s);
  assert.deepEqual(checkSchedule([...scheduleLines(s.allLeases(), s.table.nodes)], { runtimeOverheadPercent: 0, drained: true }), []);
});

test('a renegotiating lease can be cancelled by its owner, and is no longer waited for', () => {
  const { s } = world();
  assert.ok(s.cancel('ar', 100).ok);
  assert.equal(s.lease('ar')!.state, 'cancelled');
  assert.equal(s.lease('ar')!.renegotiateUntil, null);
  s.advance(100);
  assert.notEqual(s.nextEventTime(), 700);
});

test('a reservation planned on a pilot\'s node past its departure renegotiates before it begins, and is offered a node that stays', () => {
  const s = new Scheduler([node('pilot-1'), node('own')], configWith({ renegotiationSeconds: 600 }));
  s.advance(0);
  s.submit(exact('ar', 2000, 1000), 0);
  s.advance(0);
  const on = s.lease('ar')!.chain[0].nodes[0];
  const gone = mustDo(s.departNode(on, 2500, 0));
  assert.deepEqual([gone.renegotiating, gone.failed], [['ar'], []]);
  s.advance(0);
  const offer = s.lease('ar')!.offers![0];
  assert.deepEqual(offer.change, { duration: 1000, start: 0 });
  assert.ok(s.change('ar', { ...offer.change, start: 2000 }, 0).ok, 'its own start, on the node that stays');
  s.advance(0);
  assert.deepEqual(s.lease('ar')!.chain[0].nodes, [1 - on]);
});

test('a node evacuated: reservations planned there move elsewhere as they are, or renegotiate if nothing else fits; the one running runs on', () => {
  const s = new Scheduler([node('n1'), node('n2')], configWith({ renegotiationSeconds: 600 }));
  s.advance(0);
  s.submit(exact('now', 0, 5000), 0);
  s.submit(exact('fits', 1000, 1000), 0);
  s.submit(exact('wide', 6000, 1000, 2), 0);
  s.advance(0);
  const on = s.lease('fits')!.chain[0].nodes[0];
  assert.equal(on, s.lease('now')!.chain[0].nodes[0] === 0 ? 1 : 0, 'fits is on the node now does not run on');
  const drained = mustDo(s.closeNode(on, 0, true));
  assert.deepEqual(drained, { requeued: [], stillPlanned: [], moved: [], renegotiating: ['fits', 'wide'] }, 'the other node is busy until 5000');
  s.advance(0);
  const other = new Scheduler([node('n1'), node('n2'), node('n3')], configWith({ renegotiationSeconds: 600 }));
  other.advance(0);
  other.submit(exact('fits', 1000, 1000), 0);
  other.advance(0);
  const first = other.lease('fits')!.chain[0].nodes[0];
  assert.deepEqual(mustDo(other.closeNode(first, 0, true)).moved, ['fits']);
  other.advance(0);
  const run = other.lease('fits')!.chain.find((x) => x.kind === 'run')!;
  assert.deepEqual([run.start, run.end], [1000, 2000], 'the same times');
  assert.notEqual(run.nodes[0], first, 'on another node');
});

test('an urgent lease on a site that lets it takes a reservation\'s place before it begins; the reservation renegotiates; never one that runs', () => {
  const urgent = (id: string, nodes: number): LeaseRequest => ({ id, kind: 'urgent', arrival: 0, requestedStart: null, duration: 600, nodes, perNode: whole, preemptible: false });
  for (const breaks of [false, true]) {
    const s = new Scheduler([node('n1'), node('n2')], configWith({ renegotiationSeconds: 600, urgentBreaksReservations: breaks }));
    s.advance(0);
    s.submit(exact('running', 0, 5000), 0);
    s.submit(exact('later', 300, 1000), 0);
    s.advance(0);
    runTo(s, 100);
    s.submit(urgent('storm', 1), 100);
    const d = s.advance(100).decisions.find((x) => x.leaseId === 'storm')!;
    if (!breaks) {
      assert.equal(d.ok, false, 'only best-effort leases give way by default');
      continue;
    }
    assert.ok(d.ok, JSON.stringify(d));
    assert.deepEqual(d.preempted, [{ leaseId: 'later', how: 'renegotiate' }]);
    assert.equal(s.lease('later')!.state, 'renegotiating');
    assert.equal(s.lease('later')!.failure!.code, 'preempted-by-urgent');
    assert.equal(s.lease('running')!.state, 'active', 'a reservation that runs keeps its place');
    assert.ok(s.lease('later')!.offers!.length > 0);
  }
});

test('offers are always accepted as offered, whatever the pool holds (property)', () => {
  fc.assert(fc.property(fc.integer({ min: 2, max: 5 }), fc.array(fc.record({ start: fc.integer({ min: 0, max: 3000 }), duration: fc.integer({ min: 1, max: 2000 }), nodes: fc.integer({ min: 1, max: 3 }) }), { maxLength: 6 }), fc.nat(), fc.integer({ min: 1, max: 500 }), (n, others, pick, at) => {
    const s = new Scheduler(Array.from({ length: n }, (_, i) => node(`n${i + 1}`)), configWith({ renegotiationSeconds: 300 }));
    s.advance(0);
    s.submit(exact('ar', 0, 1000, Math.min(2, n)), 0);
    others.forEach((o, i) => s.submit(exact(`o${i}`, o.start + 1, o.duration, Math.min(o.nodes, n)), 0));
    s.advance(0);
    runTo(s, at);
    const ar = s.lease('ar')!;
    if (ar.state !== 'active') return;
    const lost = ar.chain.find((x) => x.active)!.nodes[pick % ar.chain.find((x) => x.active)!.nodes.length];
    mustDo(s.loseNode(lost, at));
    s.advance(at);
    for (const offer of s.lease('ar')!.offers ?? []) assert.ok(s.planChange('ar', offer.change, at).ok, `offer ${JSON.stringify(offer)} refused`);
  }), { numRuns: 200 });
});
