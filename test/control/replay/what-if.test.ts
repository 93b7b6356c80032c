// The what-if of a site's log, on logs written here: what the document's kinds and limits refuse
// is rejected for policy (its rules on groups read each owner's groups), a lease its owner
// cancelled while it ran (made longer or not) is cancelled again after as much work, a hold never
// committed holds its room in both schedules and counts in neither's figures, and a log a replay
// cannot take is refused.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readTerms } from '../../../src/core/terms-document.ts';
import type { Terms } from '../../../src/core/terms.ts';
import type { LeaseRequest } from '../../../src/core/types.ts';
import type { Input } from '../../../src/control/inputs.ts';
import { ReplayRefused, type SiteLog } from '../../../src/control/replay/site-log.ts';
import { whatIf } from '../../../src/control/replay/what-if.ts';
import type { NodeRow } from '../../../src/store/store.ts';
import { validateSchedule } from '../../support/validate-schedule.ts';

const T0 = 1_800_000_000;

function request(id: string, more: Partial<LeaseRequest> = {}): LeaseRequest {
  return { id, kind: 'best-effort', arrival: T0, requestedStart: null, duration: 100, nodes: 1, perNode: { cpu: 1, memoryMiB: 512, diskMiB: 0 }, preemptible: true, ...more };
}

/** A log of `inputs` at their instants, after two nodes of 1 CPU were added at T0. */
function logOf(inputs: Array<[number, Input]>, nodes: Partial<NodeRow>[] = []): SiteLog {
  const all: Array<[number, Input]> = [
    [T0, { type: 'node-add', node: { id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 0 } }],
    [T0, { type: 'node-add', node: { id: 'n2', cpu: 1, memoryMiB: 1024, diskMiB: 0 } }],
    ...inputs,
  ];
  return {
    inputs: all.map(([time, data], k) => ({ seq: k + 1, time, type: data.type, data })),
    nodes: nodes.map((n) => ({ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 0, bandwidthMbps: null, status: 'active', addedAt: T0, departsAt: null, pilot: null, ...n })),
    people: { alice: { admin: false, memberOf: ['lab'] }, bob: { admin: false, memberOf: [] } },
  };
}

const submit = (owner: string, req: LeaseRequest): Input => ({ type: 'submit', owner, group: null, request: req });

function terms(doc: object): Terms {
  const read = readTerms({ format: 'vws.terms/v1', ...doc });
  assert.ok(read.ok, JSON.stringify(read));
  return read.terms;
}

const lines = (schedule: string[]) => schedule.slice(1).map((l) => JSON.parse(l) as { id: string; outcome: string; reason?: string; segments: Array<{ kind: string; start: number; end: number }> });

test('what the document refuses is rejected for policy, by its limits and by its rules on groups, which read each owner\'s groups', () => {
  const log = logOf([
    [T0, submit('bob', request('wide', { nodes: 2 }))],
    [T0 + 10, submit('alice', request('ar-alice', { kind: 'exact', requestedStart: T0 + 500, preemptible: false, arrival: T0 + 10 }))],
    [T0 + 10, submit('bob', request('ar-bob', { kind: 'exact', requestedStart: T0 + 700, preemptible: false, arrival: T0 + 10 }))],
  ]);
  const r = whatIf(log, terms({ kinds: { 'best-effort': { maxNodes: 1 }, exact: { groups: ['lab'] } } }));
  assert.equal(r.real.metrics.rejected, 0);
  assert.equal(r.whatIf.metrics.rejected, 2);
  const outcomes = Object.fromEntries(lines(r.whatIf.schedule).map((l) => [l.id, [l.outcome, l.reason ?? null]]));
  assert.deepEqual(outcomes, { wide: ['rejected', 'policy'], 'ar-alice': ['completed', null], 'ar-bob': ['rejected', 'policy'] });
  for (const s of [r.real.schedule, r.whatIf.schedule]) assert.equal(validateSchedule(`${s.join('\n')}\n`).status, 0);
});

test('a lease cancelled while it ran is cancelled again once it has run as long; one cancelled before it began, at the instant', () => {
  const log = logOf([
    [T0, submit('bob', request('first', { nodes: 2, duration: 100 }))],
    [T0, submit('bob', request('second', { duration: 100 }))],
    [T0, submit('bob', request('never', { duration: 100 }))],
    [T0 + 20, { type: 'cancel', id: 'never', by: 'bob' }],
    [T0 + 30, { type: 'cancel', id: 'first', by: 'bob' }],
  ]);
  const same = whatIf(log, null);
  // The same schedule; the what-if's cancelled lease says how long it really ran (realDuration).
  const runs = (schedule: string[]) => lines(schedule).map((l) => [l.id, l.outcome, l.segments]);
  assert.deepEqual(runs(same.whatIf.schedule), runs(same.real.schedule));
  // With 10 s to boot, the first lease runs from T0 + 10: it is cancelled after its 30 s of run, at T0 + 40.
  const booting = lines(whatIf(log, terms({ scheduling: { bootSeconds: 10 } })).whatIf.schedule);
  const first = booting.find((l) => l.id === 'first')!;
  assert.equal(first.outcome, 'cancelled');
  assert.deepEqual(first.segments.map((s) => [s.kind, s.start - T0, s.end - T0]), [['boot', 0, 10], ['run', 10, 40]]);
  const never = booting.find((l) => l.id === 'never')!;
  assert.deepEqual([never.outcome, never.segments], ['cancelled', []], 'cancelled at T0 + 20, before it began');
  assert.equal(booting.find((l) => l.id === 'second')!.segments[0].start, T0 + 40);
});

test('a lease made longer while it ran, then cancelled, is cancelled again after as much work, not run to its new end', () => {
  // Found by the as-it-ran property (CI seed 1418489099): the run's new end lay past the instant its
  // work was done, which the what-if had only looked for inside the run as it began.
  const log = logOf([
    [T0, submit('bob', request('longer', { duration: 91 }))],
    [T0 + 60, { type: 'change', id: 'longer', change: { duration: 211 } }],
    [T0 + 150, { type: 'cancel', id: 'longer', by: 'bob' }],
  ]);
  const r = whatIf(log, null);
  const runs = (schedule: string[]) => lines(schedule).map((l) => [l.id, l.outcome, l.segments.map((s) => [s.kind, s.start - T0, s.end - T0])]);
  assert.deepEqual(runs(r.whatIf.schedule), [['longer', 'cancelled', [['run', 0, 150]]]]);
  assert.deepEqual(runs(r.whatIf.schedule), runs(r.real.schedule));
});

test('a hold never committed holds its room in both schedules and counts in neither\'s figures; a committed one is a request from its hold', () => {
  const exact = (id: string, start: number) => request(id, { kind: 'exact', requestedStart: start, nodes: 2, duration: 50, preemptible: false });
  const log = logOf([
    [T0, { type: 'hold', owner: 'bob', group: null, request: exact('held', T0 + 100), ttl: 60 }],
    [T0, { type: 'hold', owner: 'bob', group: null, request: exact('kept', T0 + 300), ttl: 60 }],
    [T0 + 20, { type: 'commit', id: 'kept' }],
  ]);
  const r = whatIf(log, null);
  assert.equal(r.holdsNeverCommitted, 1);
  assert.equal(r.real.metrics.leases, 1);
  assert.deepEqual({ ...r.whatIf.metrics, wallSeconds: 0 }, { ...r.real.metrics, wallSeconds: 0 });
  assert.deepEqual(lines(r.whatIf.schedule).map((l) => [l.id, l.outcome]), [['held', 'cancelled'], ['kept', 'completed']]);
});

test('a log a replay cannot take is refused, saying why: another back-end, a burst, pilot nodes, an input it does not know', () => {
  const refused = (log: SiteLog, says: RegExp) => assert.throws(() => whatIf(log, null), (e: unknown) => e instanceof ReplayRefused && says.test(e.message));
  refused(logOf([[T0, { type: 'node-add', node: { id: 'c1', cpu: 2, memoryMiB: 2048, diskMiB: 0 }, backend: 'ec2' }]]), /input 3 \(time \d+\) adds node 'c1' to back-end 'ec2': a replay knows a site of one pool/);
  refused(logOf([[T0, submit('bob', request('b', { burst: { backend: 'ec2', at: T0 + 60 } }))]]), /lets lease 'b' burst to back-end 'ec2'/);
  refused(logOf([[T0, { type: 'change', id: 'b', change: { backend: 'ec2', duration: 100 } }]]), /input 3 \(time \d+\) moves lease 'b' to back-end 'ec2': a replay knows a site of one pool/);
  refused(logOf([[T0, submit('bob', request('a', { backend: 'qemu' }))], [T0, submit('bob', request('b', { backend: 'ec2' }))]]), /sends lease 'b' to back-end 'ec2', another than 'qemu'/);
  refused(logOf([], [{ id: 'n1', pilot: '4242' }]), /nodes came from pilot jobs \(n1, job 4242\)/);
  refused(logOf([[T0, { type: 'reboot' } as unknown as Input]]), /input 3 \(time \d+\) is of type 'reboot', which this vws does not know/);
  // A site whose leases all name its one back-end is a site of one pool.
  const named = whatIf(logOf([[T0, submit('bob', request('a', { backend: 'qemu' }))]]), null);
  assert.equal(named.real.metrics.completed, 1);
});
