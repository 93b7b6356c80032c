// Several back-ends under one index of nodes (core/backends.ts): one back-end is exactly the
// Scheduler, and two are exactly two independent schedulers, each over its own nodes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Backends } from '../../src/core/backends.ts';
import { configWith } from '../../src/core/config.ts';
import type { LeaseRecord } from '../../src/core/lease-record.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { describeScenario, type Scenario, scenarioArb } from './support/generators.ts';
import { MOVED_END, movedEndScenario } from './support/moved-end.ts';
import { checkSchedule } from './support/schedule-checker.ts';

type Steppable = Pick<Scheduler, 'submit' | 'advance' | 'nextEventTime' | 'allLeases'>;

/** Submits each request at its arrival and runs every event until nothing is left (leases run their planned time). */
function drain(s: Steppable, requests: readonly LeaseRequest[]): void {
  const queue = [...requests].sort((a, b) => a.arrival - b.arrival);
  let k = 0;
  for (;;) {
    const now = Math.min(k < queue.length ? queue[k].arrival : Infinity, s.nextEventTime());
    if (now === Infinity) return;
    while (k < queue.length && queue[k].arrival === now) assert.ok(s.submit(queue[k++], now).ok);
    s.advance(now);
  }
}

/** Work as planned: the checker then expects each lease to run its whole duration. */
const asPlanned = (s: Scenario): LeaseRequest[] => s.requests.map((r) => ({ ...r, realDuration: r.duration }));

/** An export's lease lines (they name nodes by id), sorted, for the leases `keep` takes: runs over different node lists compare. */
function leaseLines(lines: Iterable<string>, keep: (id: string) => boolean = () => true): string[] {
  return [...lines].filter((l) => !l.startsWith('{"format"') && keep((JSON.parse(l) as { id: string }).id)).sort();
}

test('property: one back-end schedules exactly as the Scheduler alone', () => {
  fc.assert(fc.property(scenarioArb(), (s) => {
    const requests = asPlanned(s);
    const alone = new Scheduler(s.nodes, s.config);
    const site = new Backends([{ name: 'pool', config: s.config, nodes: s.nodes }]);
    drain(alone, requests);
    drain(site, requests);
    assert.deepEqual([...scheduleLines(site.allLeases(), site.nodes)], [...scheduleLines(alone.allLeases(), s.nodes)], describeScenario(s));
  }), { numRuns: 60 });
});

test('property: two back-ends are two independent schedulers, and nothing crosses between them', () => {
  fc.assert(fc.property(scenarioArb({ pool: { minNodes: 2 } }), fc.infiniteStream(fc.boolean()), (s, coin) => {
    const half = Math.ceil(s.nodes.length / 2);
    const poolNodes = s.nodes.slice(0, half);
    const cloudNodes: NodeSpec[] = s.nodes.slice(half).map((n) => ({ ...n, id: `cloud-${n.id}` }));
    const flips = coin.take(s.requests.length);
    const requests = asPlanned(s).map((r): LeaseRequest => ({ ...r, backend: flips.next().value ? 'cloud' : 'pool' }));
    // A lease too large for its half is refused there, as it would be by an independent scheduler.
    const site = new Backends([{ name: 'pool', config: s.config, nodes: poolNodes }, { name: 'cloud', config: s.config, nodes: cloudNodes }]);
    drain(site, requests);
    for (const lease of site.allLeases()) {
      for (const seg of [...lease.history, ...lease.chain]) {
        for (const n of seg.nodes) assert.equal(site.nodeBackend(n), lease.req.backend, `${lease.req.id} has a ${seg.kind} on ${site.nodes[n].id}: ${describeScenario(s)}`);
      }
    }
    const lines = [...scheduleLines(site.allLeases(), site.nodes)];
    assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true }), [], describeScenario(s));
    const backendOf = new Map(requests.map((r) => [r.id, r.backend]));
    for (const [name, nodes] of [['pool', poolNodes], ['cloud', cloudNodes]] as const) {
      const alone = new Scheduler(nodes, s.config);
      drain(alone, requests.filter((r) => r.backend === name));
      // A periodic lease's occurrences (ID#K) and a requeued lease's lost attempts (ID/attempt-N) live where the lease does.
      assert.deepEqual(leaseLines(lines, (id) => backendOf.get(id.split(/[#/]/)[0]) === name), leaseLines(scheduleLines(alone.allLeases(), nodes)), `${name}: ${describeScenario(s)}`);
    }
  }), { numRuns: 60 });
});

test('a request names a back-end the site has; one id is one lease whichever back-end has it; nothing moves across', () => {
  const node = (id: string): NodeSpec => ({ id, cpu: 4, memoryMiB: 4096, diskMiB: 0 });
  const config = configWith({});
  const site = new Backends([{ name: 'pool', config, nodes: [node('a'), node('b')] }, { name: 'cloud', config: { ...config, preemption: 'requeue' }, nodes: [node('c1')] }]);
  const req = (id: string, backend?: string): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 600, nodes: 1, perNode: { cpu: 2, memoryMiB: 1024, diskMiB: 0 }, preemptible: true, ...(backend ? { backend } : {}) });
  const unknown = site.submit(req('x', 'mars'), 0);
  assert.equal(unknown.ok, false);
  assert.match((unknown as { message: string }).message, /no back-end 'mars': this site has pool, cloud/);
  assert.ok(site.submit(req('p'), 0).ok);
  assert.ok(site.submit(req('c', 'cloud'), 0).ok);
  const twice = site.submit(req('p', 'cloud'), 0);
  assert.equal(twice.ok, false);
  assert.match((twice as { message: string }).message, /already submitted \(to back-end 'pool'\)/);
  site.advance(0);
  assert.equal(site.leaseBackend('p'), 'pool');
  assert.equal(site.leaseBackend('c'), 'cloud');
  const onCloud = site.lease('c')!.chain.find((seg) => seg.kind === 'run')!;
  assert.deepEqual(onCloud.nodes.map((n) => site.nodes[n].id), ['c1']);
  // Past the run's first instant, the pool's lease may move only among the pool's nodes.
  site.advance(10);
  const refusal = site.liveMigrationRefusal('p', [2], 10);
  assert.match(refusal!.message, /node 'c1' is on back-end 'cloud', not the lease's/);
  // A node added to the cloud later is the cloud's alone.
  const n = site.addNode(node('c2'), 10, 'cloud');
  assert.equal(site.nodeBackend(n), 'cloud');
  assert.equal(site.primary.nodeIsDrained(n), true, 'the pool keeps the cloud\'s node closed');
  assert.throws(() => site.addNode(node('z'), 10, 'mars'), /no back-end 'mars'/);
});

test('a best-effort lease left waiting on the pool moves to its burst back-end if it has not begun by then, and only then', () => {
  const node = (id: string, memoryMiB = 4096): NodeSpec => ({ id, cpu: 2, memoryMiB, diskMiB: 0 });
  const config = configWith({});
  const site = new Backends([{ name: 'pool', config, nodes: [node('a')] }, { name: 'cloud', config: { ...config, preemption: 'requeue' }, nodes: [node('c1', 2048), node('c2', 2048)] }]);
  const req = (id: string, over: Partial<LeaseRequest> = {}): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 600, realDuration: 600, nodes: 1, perNode: { cpu: 2, memoryMiB: 1024, diskMiB: 0 }, preemptible: true, backend: 'pool', ...over });
  assert.ok(site.submit(req('busy'), 0).ok);
  // Waits behind `busy` (600 s): moves at 100.
  assert.ok(site.submit(req('waits', { burst: { backend: 'cloud', at: 100 } }), 0).ok);
  // Too large for any cloud node: stays on the pool when its time comes.
  assert.ok(site.submit(req('big', { perNode: { cpu: 2, memoryMiB: 4096, diskMiB: 0 }, burst: { backend: 'cloud', at: 100 } }), 0).ok);
  assert.equal(site.submit(req('bad', { burst: { backend: 'pool', at: 5 } }), 0).ok, false, 'a burst names another back-end');
  site.advance(0);
  assert.equal(site.nextEventTime(), 100, 'the move is an event');
  for (let t = site.nextEventTime(); t < Infinity; t = site.nextEventTime()) site.advance(t);
  assert.equal(site.leaseBackend('waits'), 'cloud');
  assert.equal(site.leaseBackend('big'), 'pool');
  assert.equal(site.leaseBackend('busy'), 'pool');
  const waits = site.lease('waits')!;
  assert.equal(waits.state, 'completed');
  assert.equal(waits.history.find((s) => s.kind === 'run')!.start, 100, 'it runs on the cloud from its move');
  assert.equal(site.lease('big')!.history.find((s) => s.kind === 'run')!.start, 600, 'the one that could not move waited its turn');
  const lines = [...scheduleLines(site.allLeases(), site.nodes)];
  assert.deepEqual(leaseLines(lines).map((l) => JSON.parse(l).id).sort(), ['big', 'busy', 'waits'], 'one line a lease, the moved one where it ran');
  assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: 0, drained: true }), []);
});

test('a lease that begins on the pool before its burst time stays there', () => {
  const node = (id: string): NodeSpec => ({ id, cpu: 2, memoryMiB: 4096, diskMiB: 0 });
  const config = configWith({});
  const site = new Backends([{ name: 'pool', config, nodes: [node('a')] }, { name: 'cloud', config, nodes: [node('c1')] }]);
  const req = (id: string, over: Partial<LeaseRequest> = {}): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 50, realDuration: 50, nodes: 1, perNode: { cpu: 2, memoryMiB: 1024, diskMiB: 0 }, preemptible: true, backend: 'pool', ...over });
  assert.ok(site.submit(req('first'), 0).ok);
  assert.ok(site.submit(req('second', { burst: { backend: 'cloud', at: 100 } }), 0).ok);
  for (let t = 0; t < Infinity; t = site.nextEventTime()) site.advance(t);
  assert.equal(site.leaseBackend('second'), 'pool');
  assert.equal(site.lease('second')!.history.find((s) => s.kind === 'run')!.start, 50);
});

test('a run ended early reaches its back-end as it reaches the Scheduler alone: the step at that instant sees its node free', () => {
  // L2's work is done at 2, L1's run ends at 3; L3 (a whole node) waits for its image until 3.
  const node = (id: string): NodeSpec => ({ id, cpu: 1, memoryMiB: 1024, diskMiB: 0 });
  const config = configWith({ backfill: 'none', images: 'transfer', imageCacheMiB: 0, bootSeconds: 1 });
  const req = (id: string, duration: number, cpu: number, memoryMiB: number): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration, nodes: 1, perNode: { cpu, memoryMiB, diskMiB: 0 }, preemptible: true });
  const drive = (s: Pick<Scheduler, 'submit' | 'advance' | 'finishEarly' | 'nextEventTime'>): void => {
    assert.ok(s.submit(req('L2', 3, 0.25, 1024), 0).ok);
    s.advance(0);
    assert.ok(s.submit(req('L1', 1, 0.25, 256), 1).ok);
    assert.ok(s.submit({ ...req('L3', 1, 1, 256), image: { id: 'img', sizeMiB: 100 } }, 1).ok);
    s.advance(1);
    assert.ok(s.finishEarly('L2', 2).ok);
    for (let t = 2; t < Infinity; t = s.nextEventTime()) s.advance(t);
  };
  const alone = new Scheduler([node('n1'), node('n2')], config);
  const site = new Backends([{ name: 'pool', config, nodes: [node('n1'), node('n2')] }, { name: 'cloud', config, nodes: [node('c1')] }]);
  drive(alone);
  drive(site);
  const l3 = (leases: readonly LeaseRecord[]): number[] => leases.find((l) => l.req.id === 'L3')!.history.flatMap((s) => s.nodes);
  assert.deepEqual(l3(alone.allLeases()), [0, 0], 'boot and run on n1, the lower of the two free when its image is there');
  assert.deepEqual(l3(site.allLeases()), l3(alone.allLeases()));
});

test('a back-end named its next event once: asked again before it steps, the site answers the same, and steps it there as alone', () => {
  const { nodes, config, requests } = movedEndScenario();
  const { leaseEndingEarly, earlyEnd, movedEnd, waiting, startWhenSteppedThere } = MOVED_END;
  const toEarlyEnd = (s: Pick<Scheduler, 'submit' | 'advance' | 'finishEarly' | 'nextEventTime'>): void => {
    for (const r of requests) assert.ok(s.submit(r, 0).ok);
    for (let t = 0; t < earlyEnd; t = s.nextEventTime()) s.advance(t);
    assert.ok(s.finishEarly(leaseEndingEarly, earlyEnd).ok);
    s.advance(earlyEnd);
  };
  const alone = new Scheduler(nodes, config);
  toEarlyEnd(alone);
  assert.equal(alone.nextEventTime(), movedEnd);
  assert.ok(alone.nextEventTime() > movedEnd, 'the Scheduler names the moved instant only once');
  const site = new Backends([{ name: 'pool', config, nodes }, { name: 'cloud', config, nodes: [{ ...nodes[0], id: 'c1' }] }]);
  toEarlyEnd(site);
  assert.deepEqual([site.nextEventTime(), site.nextEventTime()], [movedEnd, movedEnd]);
  for (let t: number = movedEnd; t < Infinity; t = site.nextEventTime()) site.advance(t);
  assert.equal(site.lease(waiting)!.firstStart, startWhenSteppedThere);
});
