// A lease whose promise its back-end broke is offered the same lease on the site's other back-ends
// (core/backend-moves.ts): offered after its own back-end's offers, taken through a change naming
// the back-end, moved whole (a cancelled record left behind, unseen) or not at all.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { Backends } from '../../src/core/backends.ts';
import { configWith } from '../../src/core/config.ts';
import type { SchedulerConfig } from '../../src/core/config.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { checkSchedule } from './support/schedule-checker.ts';
import { assertRefused, mustDo } from './support/refusals.ts';

const node = (id: string): NodeSpec => ({ id, cpu: 1, memoryMiB: 1024, diskMiB: 0 });
const whole = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const exact = (id: string, start: number, duration: number, nodes = 1, backend?: string): LeaseRequest =>
  ({ id, kind: 'exact', arrival: 0, requestedStart: start, duration, nodes, perNode: whole, preemptible: false, ...(backend ? { backend } : {}) });

function runTo(s: Backends, t: number): void {
  for (let e = s.nextEventTime(); e <= t; e = s.nextEventTime()) s.advance(e);
  s.advance(t);
}

function runUntilIdle(s: Backends): void {
  for (let t = s.nextEventTime(); t !== Infinity; t = s.nextEventTime()) s.advance(t);
}

/**
 * A pool of two nodes and a cloud of two: `ar` runs on both pool nodes from 0 to 1000, and
 * `blocker` holds one cloud node until `cloudBusyUntil`; a pool node is lost at 100. The pool can
 * no longer hold `ar` at all (one node left): its own offer is one node now.
 */
function world(opts: { then?: SchedulerConfig['renegotiationDefault']; cloudBusyUntil?: number; cloudNodes?: number } = {}) {
  const config = configWith({ renegotiationSeconds: 600, renegotiationDefault: opts.then ?? 'cancel' });
  const s = new Backends([
    { name: 'pool', config, nodes: [node('p1'), node('p2')] },
    { name: 'cloud', config: { ...config, bootSeconds: 5 }, nodes: Array.from({ length: opts.cloudNodes ?? 2 }, (_, k) => node(`c${k + 1}`)) },
  ], [], {}, true);
  s.advance(0);
  mustDo(s.submit(exact('ar', 0, 1000, 2), 0));
  if (opts.cloudBusyUntil) mustDo(s.submit(exact('blocker', 50, opts.cloudBusyUntil - 50, 1, 'cloud'), 0));
  s.advance(0);
  runTo(s, 100);
  mustDo(s.loseNode(0, 100));
  s.advance(100);
  return s;
}

/** A one-node reservation `ar` from 10 on `poolNodes` pool nodes and one cloud node, whose node is lost at 100; `rule`: the site's move rule, set first. */
function oneNodeLost(config: SchedulerConfig, poolNodes: number, rule?: (req: LeaseRequest, backend: string) => string | null): Backends {
  const s = new Backends([{ name: 'pool', config, nodes: Array.from({ length: poolNodes }, (_, k) => node(`p${k + 1}`)) }, { name: 'cloud', config, nodes: [node('c1')] }], [], {}, true);
  if (rule) s.setMoveRule(rule);
  s.advance(0);
  mustDo(s.submit(exact('ar', 10, 1000), 0));
  s.advance(0);
  runTo(s, 100);
  mustDo(s.loseNode(s.lease('ar')!.chain.find((x) => x.active)!.nodes[0], 100));
  s.advance(100);
  return s;
}

test('a lease on the pool whose node is lost is offered the same lease on the other back-end, after its own back-end\'s offers', () => {
  const s = world({ cloudBusyUntil: 500 });
  const ar = s.lease('ar')!;
  assert.equal(ar.state, 'renegotiating');
  assert.deepEqual(ar.offers!.map((o) => [o.kind, o.change, o.start, o.end]), [
    ['fewer-nodes', { duration: 1000, start: 100, nodes: 1 }, 100, 1100],
    // The cloud's two nodes are both free once the blocker ends at 500; the cloud boots in 5 s.
    ['other-backend', { backend: 'cloud', duration: 1000, start: 505 }, 505, 1505],
  ]);
});

test('taking the offer moves the lease to the other back-end: it runs there, the pool keeps an unseen cancelled record', () => {
  const s = world({ cloudBusyUntil: 500 });
  const offer = s.lease('ar')!.offers!.find((o) => o.kind === 'other-backend')!;
  const quoted = s.planChange('ar', offer.change, 100);
  assert.ok(quoted.ok, JSON.stringify(quoted));
  const done = mustDo(s.change('ar', offer.change, 100, quoted));
  assert.equal(done.plan, quoted, 'the quoted plan is the one applied');
  assert.equal(done.plan.start, offer.start);
  assert.equal(s.leaseBackend('ar'), 'cloud');
  s.advance(100);
  const ar = s.lease('ar')!;
  assert.equal(ar.req.backend, 'cloud');
  assert.equal(ar.state, 'scheduled');
  assert.equal(ar.offers, null);
  assert.equal(ar.failure, null);
  assert.ok(ar.chain.every((seg) => seg.nodes.every((n) => s.nodeBackend(n) === 'cloud')), 'every segment on the cloud\'s nodes');
  assert.equal(s.scheduler('pool')!.lease('ar')!.state, 'cancelled');
  assert.deepEqual(s.allLeases().filter((l) => l.req.id === 'ar'), [ar], 'one lease ar, the moved one');
  assert.equal(ar.lost.length, 1, 'what it ran on the pool stays an attempt of its own');
  runUntilIdle(s);
  assert.equal(ar.state, 'completed');
  const lines = [...scheduleLines(s.allLeases(), s.nodes)];
  assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: 0, drained: true }), []);
});

test('an offer the other back-end can no longer honour is refused when taken, and nothing changes on either back-end', () => {
  const s = world({ cloudBusyUntil: 500 });
  const offer = s.lease('ar')!.offers!.find((o) => o.kind === 'other-backend')!;
  // Someone takes the cloud's second node over the offered window first.
  mustDo(s.submit(exact('taker', 505, 2000, 1, 'cloud'), 100));
  s.advance(100);
  const before = JSON.stringify([s.lease('ar'), s.scheduler('cloud')!.allLeases().map((l) => [l.req.id, l.state, l.chain.map((x) => [x.start, x.end, x.nodes])])]);
  const versions = [s.scheduler('pool')!.version, s.scheduler('cloud')!.version];
  const refused = s.change('ar', offer.change, 100);
  assertRefused(refused, 'insufficient-capacity', /cannot be changed so/);
  assert.equal(s.leaseBackend('ar'), 'pool');
  assert.equal(s.lease('ar')!.state, 'renegotiating');
  assert.deepEqual([s.scheduler('pool')!.version, s.scheduler('cloud')!.version], versions);
  assert.equal(JSON.stringify([s.lease('ar'), s.scheduler('cloud')!.allLeases().map((l) => [l.req.id, l.state, l.chain.map((x) => [x.start, x.end, x.nodes])])]), before);
  assert.equal(s.scheduler('cloud')!.lease('ar'), undefined);
  const plan = s.planChange('ar', offer.change, 100);
  assert.ok(!plan.ok && plan.alternatives.some((a) => a.change.backend === 'cloud'), 'a later start on the cloud is offered instead');
});

test('a change naming a back-end: refused for an unknown one, the lease\'s own, a lease not renegotiating, a back-end it left, or the site\'s rule', () => {
  const s = world({ cloudBusyUntil: 500 });
  assertRefused(s.change('ar', { backend: 'mars' }, 100), 'invalid', /no back-end 'mars': this site has pool, cloud/);
  assertRefused(s.change('ar', { backend: 'pool' }, 100), 'invalid', /on back-end 'pool' already: name another \(cloud\)/);
  assertRefused(s.change('blocker', { backend: 'pool' }, 100), 'wrong-state', /only while it renegotiates/);
  assertRefused(s.change('nobody', { backend: 'cloud' }, 100), 'not-found', /no lease 'nobody'/);
  assertRefused(s.change('ar', { backend: '' }, 100), 'invalid', /backend must be the name/);
  assertRefused(s.change('ar', { backend: 7 as unknown as string }, 100), 'invalid', /backend must be the name/);
  s.setMoveRule((req, backend) => (backend === 'cloud' ? `no account for ${req.id} there` : null));
  assertRefused(s.change('ar', { backend: 'cloud', duration: 1000, start: 505 }, 100), 'policy', /no account for ar there/);
  assert.equal(s.lease('ar')!.state, 'renegotiating');
  assert.equal(s.leaseBackend('ar'), 'pool');
});

test('the site\'s rule keeps a back-end out of the offers', () => {
  const s = oneNodeLost(configWith({ renegotiationSeconds: 600 }), 2, () => 'no account');
  assert.ok(s.lease('ar')!.offers!.every((o) => o.kind !== 'other-backend'));
});

test('a lone scheduler refuses a change naming a back-end', () => {
  const s = new Backends([{ name: 'pool', config: configWith({}), nodes: [node('p1')] }]);
  s.advance(0);
  mustDo(s.submit(exact('ar', 10, 100), 0));
  s.advance(0);
  assertRefused(s.change('ar', { backend: 'pool' }, 0), 'invalid', /single back-end/);
});

test('first-offer: the move is taken by default when it is the first offer (the lease\'s own back-end has none), and failed when it no longer fits', () => {
  // A one-node lease on a pool of one: once the node is lost, the pool offers nothing.
  const setUp = (cloudTaken: boolean) => {
    const s = oneNodeLost(configWith({ renegotiationSeconds: 600, renegotiationDefault: 'first-offer' }), 1);
    assert.deepEqual(s.lease('ar')!.offers!.map((o) => o.kind), ['other-backend']);
    if (cloudTaken) {
      mustDo(s.submit(exact('taker', 100, 100_000, 1, 'cloud'), 100));
      s.advance(100);
    }
    runTo(s, 700);
    return s;
  };
  const moved = setUp(false);
  const ar = moved.lease('ar')!;
  assert.equal(moved.leaseBackend('ar'), 'cloud');
  assert.equal(ar.state, 'active', 'it starts at once on the cloud: the offer was to start at once');
  assert.equal(ar.chain.find((x) => x.kind === 'run')!.start, 700);
  runUntilIdle(moved);
  assert.equal(ar.state, 'completed');
  const failed = setUp(true);
  assert.equal(failed.leaseBackend('ar'), 'pool');
  assert.equal(failed.lease('ar')!.state, 'cancelled');
  assert.match(failed.lease('ar')!.failure!.message, /none of its offers fits any more/);
});

test('the same inputs make the same offers and the same move (determinism)', () => {
  const run = () => {
    const s = world({ cloudBusyUntil: 500 });
    const offers = JSON.stringify(s.lease('ar')!.offers);
    mustDo(s.change('ar', s.lease('ar')!.offers![1].change, 100));
    runUntilIdle(s);
    return offers + [...scheduleLines(s.allLeases(), s.nodes)].join('\n');
  };
  assert.equal(run(), run());
});

test('property: every offer made to a lease whose promise broke, on its back-end or another, is accepted at once', () => {
  fc.assert(fc.property(
    fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 3 }),
    fc.array(fc.record({ start: fc.integer({ min: 0, max: 3000 }), duration: fc.integer({ min: 1, max: 2000 }), nodes: fc.integer({ min: 1, max: 3 }), cloud: fc.boolean() }), { maxLength: 6 }),
    fc.nat(), fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 60 }),
    (poolNodes, cloudNodes, others, pick, at, cloudBoot) => {
      const config = configWith({ renegotiationSeconds: 300 });
      const s = new Backends([
        { name: 'pool', config, nodes: Array.from({ length: poolNodes }, (_, i) => node(`p${i + 1}`)) },
        { name: 'cloud', config: { ...config, bootSeconds: cloudBoot }, nodes: Array.from({ length: cloudNodes }, (_, i) => node(`c${i + 1}`)) },
      ], [], {}, true);
      s.advance(0);
      mustDo(s.submit(exact('ar', 0, 1000, Math.min(2, poolNodes)), 0));
      others.forEach((o, i) => s.submit(exact(`o${i}`, o.start + 1, o.duration, Math.min(o.nodes, o.cloud ? cloudNodes : poolNodes), o.cloud ? 'cloud' : undefined), 0));
      s.advance(0);
      runTo(s, at);
      const ar = s.lease('ar')!;
      if (ar.state !== 'active') return;
      const on = ar.chain.find((x) => x.active)!.nodes;
      mustDo(s.loseNode(on[pick % on.length], at));
      s.advance(at);
      const offers = s.lease('ar')!.offers ?? [];
      for (const offer of offers) assert.ok(s.planChange('ar', offer.change, at).ok, `offer ${JSON.stringify(offer)} refused`);
      const move = offers.find((o) => o.kind === 'other-backend');
      if (move) {
        mustDo(s.change('ar', move.change, at));
        runUntilIdle(s);
        const lines = [...scheduleLines(s.allLeases(), s.nodes)];
        // Leases other than ar on the lost node fail (their owners took no offer): withdrawn, for the checker.
        const withdrawn = new Set(s.allLeases().filter((l) => l.state === 'cancelled').map((l) => l.req.id));
        assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: 0, drained: true, withdrawn }), []);
        assert.equal(s.lease('ar')!.state, 'completed');
      }
    }), { numRuns: 200 });
});
