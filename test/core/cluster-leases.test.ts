// Cluster leases by example: each refusal's message, what a refusal leaves (nothing), the
// "fewer workers" alternative, and actions on a cluster (owner's, a lost node's) taken whole.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { configWith } from '../../src/core/config.ts';
import { membersNow } from '../../src/core/cluster-chain.ts';
import { clusterEnvelope, membersOf } from '../../src/core/roles.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { ClusterRole, LeaseKind, LeaseRequest, NodeSpec } from '../../src/core/types.ts';

const pool = (n: number, cpu = 2, memoryMiB = 2048): NodeSpec[] => Array.from({ length: n }, (_, i) => ({ id: `n${i + 1}`, cpu, memoryMiB, diskMiB: 0 }));
const role = (name: string, count: number, cpu = 1, memoryMiB = 1024, extra: Partial<ClusterRole> = {}): ClusterRole =>
  ({ name, count, perNode: { cpu, memoryMiB, diskMiB: 0 }, networks: ['private'], provides: [], requires: [], ...extra });

function cluster(id: string, kind: LeaseKind, roles: ClusterRole[], more: Partial<LeaseRequest> = {}): LeaseRequest {
  const { nodes, perNode } = clusterEnvelope(roles);
  return { id, kind, arrival: 0, requestedStart: kind === 'exact' ? 100 : null, duration: 1000, nodes, perNode, preemptible: true, roles, ...more };
}

const config = configWith({ bootSeconds: 10, shutdownSeconds: 5, suspendRateMBps: 100, resumeRateMBps: 100 });

/** Every reservation on every node, as text: what a refusal must leave as it was. */
const tableText = (s: Scheduler): string => JSON.stringify(Array.from({ length: s.table.size }, (_, n) => s.table.reservationsOn(n).map((x) => [x.leaseId, x.kind, x.start, x.end])));

function refused(s: Scheduler, req: LeaseRequest): { reason: string; message: string } {
  const before = tableText(s);
  const version = s.version;
  const plan = s.plan(req, s.time);
  assert.equal(plan.ok, false, `${req.id} should be refused`);
  assert.equal(s.version, version, 'a quote changes nothing');
  s.submit(req, s.time);
  const step = s.advance(s.time);
  const d = step.decisions.find((x) => x.leaseId === req.id)!;
  assert.equal(d.ok, false);
  assert.equal(tableText(s), before, 'a refused cluster leaves no reservation');
  return d as { reason: string; message: string };
}

test('a role too large for any node is refused as exceeds-pool, naming the role', () => {
  const s = new Scheduler(pool(3), config);
  const d = refused(s, cluster('c', 'best-effort', [role('head', 1), role('worker', 2, 4, 1024)]));
  assert.equal(d.reason, 'exceeds-pool');
  assert.match(d.message, /role 'worker'.*no open node/);
});

test('more VMs in one role than open nodes that can hold one is refused as exceeds-pool, naming the role', () => {
  const s = new Scheduler(pool(3), config);
  const d = refused(s, cluster('c', 'exact', [role('head', 1), role('worker', 4)]));
  assert.equal(d.reason, 'exceeds-pool');
  assert.match(d.message, /role 'worker' asks for 4 VMs.*only 3 open nodes/);
});

test('roles that fit one by one but never all at once are refused as exceeds-pool', () => {
  const s = new Scheduler(pool(2), config);
  const d = refused(s, cluster('c', 'immediate', [role('head', 2, 2, 1024), role('worker', 1, 1, 1024)]));
  assert.equal(d.reason, 'exceeds-pool');
  assert.match(d.message, /cannot hold all 2 roles at once/);
});

test('roles that are not a cluster are refused as invalid, with checkRoles\' message', () => {
  const s = new Scheduler(pool(3), config);
  const d = refused(s, cluster('c', 'best-effort', [role('head', 1), role('head', 1)]));
  assert.equal(d.reason, 'invalid');
  assert.match(d.message, /the name 'head' is used twice/);
  const e = refused(s, cluster('d', 'best-effort', [role('worker', 1, 1, 1024, { requires: ['head.ip'] })]));
  assert.equal(e.reason, 'invalid');
  assert.match(e.message, /no role 'head'/);
});

test('a cluster whose nodes are not the sum of its counts, or whose perNode is not its largest role\'s, is refused as invalid', () => {
  const s = new Scheduler(pool(3), config);
  const d = refused(s, { ...cluster('c', 'best-effort', [role('head', 1), role('worker', 2)]), nodes: 2 });
  assert.equal(d.reason, 'invalid');
  assert.match(d.message, /sum of the roles' counts/);
  const e = refused(s, { ...cluster('e', 'best-effort', [role('head', 1), role('worker', 2, 2, 1024)]), perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 } });
  assert.equal(e.reason, 'invalid');
  assert.match(e.message, /perNode \(1 CPU, 1024 MiB\) must be the largest of each resource over the roles \(2 CPU, 1024 MiB\)/);
});

test('a head and a worker share a node when it holds both; the decision lists nodes member by member', () => {
  const s = new Scheduler(pool(2), config);
  const req = cluster('c', 'immediate', [role('head', 1), role('worker', 2)]);
  s.submit(req, 0);
  const d = s.advance(0).decisions[0];
  assert.ok(d.ok);
  // head first (same size, by name) takes n1; the workers n1 and n2 (n1 holds both, 2 CPU).
  assert.deepEqual(d.nodes, [0, 0, 1]);
  assert.deepEqual(membersOf(req.roles!), [{ role: 0, index: 0 }, { role: 1, index: 0 }, { role: 1, index: 1 }]);
  const runs = s.lease('c')!.chain.filter((x) => x.kind === 'run');
  assert.deepEqual(runs.map((x) => [x.role, x.nodes, x.cpu]), [[0, [0], 1], [1, [0, 1], 1]]);
});

test('an exact cluster refused for room is offered fewer workers, down to the role\'s minimum, and a later start', () => {
  const s = new Scheduler(pool(4), config);
  s.submit({ id: 'busy', kind: 'exact', arrival: 0, requestedStart: 100, duration: 5000, nodes: 2, perNode: { cpu: 2, memoryMiB: 2048, diskMiB: 0 }, preemptible: false }, 0);
  s.advance(0);
  const quote = s.quote(cluster('c', 'exact', [role('head', 1, 2, 2048), role('worker', 3, 2, 2048, { minCount: 1 })]), 0);
  assert.equal(quote.ok, false);
  const fewer = quote.ok ? undefined : quote.alternatives.find((a) => a.kind === 'fewer-nodes');
  assert.ok(fewer, JSON.stringify(quote));
  assert.deepEqual(fewer.request.roles!.map((r) => [r.name, r.count]), [['head', 1], ['worker', 1]]);
  assert.equal(fewer.request.nodes, 2);
  const later = quote.ok ? undefined : quote.alternatives.find((a) => a.kind === 'later-start');
  assert.ok(later && later.start >= 5100 + 5 + 10);
  // What was offered is accepted as offered.
  assert.equal(s.plan(fewer.request, 0).ok, true);
  const none = s.quote(cluster('d', 'exact', [role('head', 1, 2, 2048), role('worker', 3, 2, 2048, { minCount: 3 })]), 0);
  assert.ok(!none.ok && !none.alternatives.some((a) => a.kind === 'fewer-nodes'), 'no fewer workers than the minimum');
});

/** A running best-effort cluster of a head and two workers on three nodes, at time 50. */
function running(): Scheduler {
  const s = new Scheduler(pool(3, 1, 1024), config);
  s.submit(cluster('c', 'best-effort', [role('head', 1), role('worker', 2)]), 0);
  s.advance(0);
  s.advance(10);
  s.advance(50);
  return s;
}

const activeKinds = (s: Scheduler): string[] => s.lease('c')!.chain.filter((x) => x.active).map((x) => `${x.kind}/${x.role}`);

test('the owner suspends and resumes a cluster as a whole, and its work is counted once', () => {
  const s = running();
  assert.deepEqual(activeKinds(s), ['run/0', 'run/1']);
  assert.equal(s.suspendByOwner('c', 50).ok, true);
  assert.deepEqual(activeKinds(s), ['suspend/0', 'suspend/1']);
  const lease = s.lease('c')!;
  assert.equal(lease.done, 40, 'forty seconds of run, counted once for both roles');
  s.advance(s.nextEventTime());
  assert.equal(lease.state, 'suspended');
  assert.deepEqual(lease.suspendedOn, [0, 1, 2], 'its memory, member by member');
  assert.equal(s.resumeByOwner('c', s.time).ok, true);
  s.advance(s.time);
  assert.deepEqual(activeKinds(s), ['resume/0', 'resume/1']);
  while (s.nextEventTime() !== Infinity) s.advance(s.nextEventTime());
  assert.equal(lease.state, 'completed');
  assert.equal(lease.done, 1000);
});

test('an early end ends every role at once', () => {
  const s = running();
  assert.equal(s.finishEarly('c', 50).ok, true);
  assert.deepEqual(activeKinds(s), ['shutdown/0', 'shutdown/1']);
  assert.equal(s.lease('c')!.done, 40);
});

test('a cluster does not migrate live', () => {
  const s = running();
  const refusal = s.liveMigrationRefusal('c', [0], 50);
  assert.equal(refusal?.code, 'unsupported');
});

test('a lost node under one member restarts the whole cluster', () => {
  const s = running();
  const loss = s.loseNode(2, 50);
  assert.ok(loss.ok);
  assert.deepEqual(loss.restarted, ['c']);
  const lease = s.lease('c')!;
  assert.equal(lease.lost.length, 1);
  assert.deepEqual(activeKinds(s), []);
  assert.equal(lease.lost[0].segments.every((x) => x.end <= 50), true, 'every role stopped at the loss');
});

test('an exact reservation suspends a running cluster whole, and it resumes whole', () => {
  const s = running();
  s.submit({ id: 'ar', kind: 'exact', arrival: 50, requestedStart: 300, duration: 100, nodes: 1, perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, preemptible: false }, 50);
  s.advance(50);
  const c = s.lease('c')!;
  const suspends = c.chain.filter((x) => x.kind === 'suspend');
  assert.deepEqual(suspends.map((x) => [x.role, x.end]), [[0, 290], [1, 290]]);
  while (s.nextEventTime() !== Infinity) s.advance(s.nextEventTime());
  assert.equal(c.state, 'completed');
  const kinds = (r: number) => c.history.filter((x) => x.role === r && x.end > x.start).map((x) => [x.kind, x.start, x.end]);
  assert.deepEqual(kinds(0), kinds(1));
  assert.ok(kinds(0).some(([k]) => k === 'resume'));
});

test('membersNow lists a cluster\'s nodes member by member, as membersOf orders the members', () => {
  const s = running();
  const now = membersNow(s.lease('c')!);
  assert.deepEqual(now, { kind: 'run', nodes: [0, 1, 2] });
  assert.equal(now!.nodes.length, membersOf(s.lease('c')!.req.roles!).length);
  s.suspendByOwner('c', 50);
  assert.deepEqual(membersNow(s.lease('c')!), { kind: 'suspend', nodes: [0, 1, 2] });
});

test('an urgent cluster preempts to make room for all its roles, and a cluster victim is suspended whole', () => {
  const s = running();
  s.submit(cluster('u', 'urgent', [role('head', 1), role('worker', 1)], { arrival: 50, preemptible: false }), 50);
  const d = s.advance(50).decisions.find((x) => x.leaseId === 'u')!;
  assert.ok(d.ok, JSON.stringify(d));
  assert.deepEqual(d.preempted, [{ leaseId: 'c', how: 'suspend' }]);
  const c = s.lease('c')!;
  assert.deepEqual(c.chain.filter((x) => x.kind === 'suspend').map((x) => x.role), [0, 1], 'every role of the victim suspends');
  while (s.nextEventTime() !== Infinity) s.advance(s.nextEventTime());
  assert.equal(s.lease('u')!.state, 'completed');
  assert.equal(c.state, 'completed');
  assert.equal(c.done, 1000);
});

test('a deadline cluster is planned around a reservation in pieces, every role in every piece', () => {
  const s = new Scheduler(pool(2), config);
  s.submit({ id: 'ar', kind: 'exact', arrival: 0, requestedStart: 500, duration: 200, nodes: 2, perNode: { cpu: 2, memoryMiB: 2048, diskMiB: 0 }, preemptible: false }, 0);
  s.submit(cluster('d', 'deadline', [role('head', 1), role('worker', 2)], { deadline: 5000 }), 0);
  const decided = s.advance(0).decisions.find((x) => x.leaseId === 'd')!;
  assert.ok(decided.ok, JSON.stringify(decided));
  const d = s.lease('d')!;
  const times = (r: number) => d.chain.filter((x) => x.role === r).map((x) => [x.kind, x.start, x.end]);
  assert.deepEqual(times(0), times(1));
  assert.ok(times(0).some(([k]) => k === 'suspend'), 'it makes way for the reservation');
  while (s.nextEventTime() !== Infinity) s.advance(s.nextEventTime());
  assert.equal(d.state, 'completed');
  assert.ok(d.endedAt! <= 5000);
});

test('a periodic cluster is a cluster in every occurrence', () => {
  const s = new Scheduler(pool(2), config);
  s.submit(cluster('p', 'periodic', [role('head', 1), role('worker', 2)], { requestedStart: 100, duration: 100, recurrence: { period: 1000, count: 3 } }), 0);
  const d = s.advance(0).decisions[0];
  assert.ok(d.ok && d.occurrences?.length === 3, JSON.stringify(d));
  for (const id of d.occurrences!) {
    const o = s.lease(id)!;
    assert.equal(o.req.roles?.length, 2);
    assert.deepEqual(o.chain.filter((x) => x.kind === 'run').map((x) => [x.role, x.start, x.nodes.length]), [[0, o.req.requestedStart, 1], [1, o.req.requestedStart, 2]]);
  }
});

test('a role whose shape is not a positive finite size is refused as invalid, naming the role', () => {
  const s = new Scheduler(pool(2), config);
  for (const [cpu, mem] of [[-1, 1024], [Number.NaN, 1024], [1, 0], [1, Infinity]]) {
    const roles = [role('head', 1), role('worker', 1, cpu, mem)];
    const d = refused(s, { ...cluster(`c${cpu}-${mem}`, 'best-effort', roles), perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 } });
    assert.equal(d.reason, 'invalid');
    assert.match(d.message, /role 'worker': perNode needs cpu and memoryMiB above 0/);
  }
});

test('fuzz: any roles a client could send are decided without an exception, and a refused cluster leaves nothing', () => {
  const num = fc.oneof(fc.integer({ min: -2, max: 5 }), fc.constantFrom(Number.NaN, Infinity, 0.5, 1e9));
  const roleArb = fc.record({
    name: fc.constantFrom('head', 'worker', 'w', 'Bad', ''),
    count: num, minCount: fc.option(num, { nil: undefined }),
    cpu: num, mem: fc.oneof(num, fc.constantFrom(512, 1024, 4096)),
    requires: fc.subarray(['head.ip', 'worker.port', 'x']), provides: fc.subarray(['port', 'ip']),
  });
  fc.assert(fc.property(fc.array(roleArb, { minLength: 0, maxLength: 4 }), fc.constantFrom<LeaseKind>('best-effort', 'immediate', 'exact', 'urgent', 'deadline'), (raw, kind) => {
    const s = new Scheduler(pool(3), config);
    const roles = raw.map((r) => ({ name: r.name, count: r.count, minCount: r.minCount, perNode: { cpu: r.cpu, memoryMiB: r.mem, diskMiB: 0 }, networks: ['private' as const], provides: r.provides, requires: r.requires }));
    const envelope = clusterEnvelope(roles);
    const req = cluster('f', kind, roles, { ...envelope, deadline: kind === 'deadline' ? 10_000 : undefined });
    s.submit(req, 0);
    const d = s.advance(0).decisions[0];
    if (!d.ok) assert.equal(tableText(s), JSON.stringify([[], [], []]));
    while (s.nextEventTime() !== Infinity) s.advance(s.nextEventTime());
    assert.ok(['completed', 'rejected'].includes(s.lease('f')!.state), s.lease('f')!.state);
  }), { numRuns: 400 });
});
