// An expected "no" from the core is a value with a code (types.ts RefusalCode), never an
// exception, and changes nothing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configWith } from '../../src/core/config.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { assertRefused } from './support/refusals.ts';

const NODES: NodeSpec[] = [1, 2].map((i) => ({ id: `n${i}`, cpu: 1, memoryMiB: 1024, diskMiB: 0 }));
const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const be = (id: string): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 600, nodes: 1, perNode, preemptible: true });
const exact = (id: string, start: number): LeaseRequest => ({ id, kind: 'exact', arrival: 0, requestedStart: start, duration: 600, nodes: 1, perNode, preemptible: false });

test('owner actions the lease is not in a state for are refused with a code, and change nothing', () => {
  const s = new Scheduler(NODES, configWith({}));
  s.advance(0);
  s.submit(be('job'), 0);
  s.submit(exact('ar', 3600), 0);
  s.advance(0);
  const version = s.version;
  assertRefused(s.submit(be('job'), 0), 'duplicate', /lease id 'job' was already submitted/);
  assertRefused(s.suspendByOwner('ar', 0), 'policy', /lease 'ar' is exact: only a best-effort lease can be suspended by its owner/);
  assertRefused(s.suspendByOwner('nobody', 0), 'not-found', /no lease 'nobody'/);
  assertRefused(s.resumeByOwner('job', 0), 'wrong-state', /lease 'job' was not suspended by its owner \(running\)/);
  assertRefused(s.finishEarly('ar', 0), 'wrong-state', /lease 'ar' is not running \(scheduled\); cancel it instead/);
  assertRefused(s.cancel('nobody', 0), 'not-found', /no lease 'nobody' to cancel/);
  // A commit is a decision about the lease: refused as one (Decision), for its client to read.
  assert.deepEqual(s.commit('ar', 0), { ok: false, leaseId: 'ar', reason: 'policy', message: "cannot commit lease 'ar': it is scheduled, not held" });
  assertRefused(s.closeNode(5, 0), 'not-found', /no node 5 in a pool of 2/);
  assertRefused(s.loseNode(-1, 0), 'not-found', /no node -1 in a pool of 2/);
  assert.equal(s.version, version, 'nothing changed');
  assert.equal(s.lease('job')!.state, 'active');
  assert.equal(s.lease('ar')!.state, 'scheduled');
});

test('cancelling a lease that has ended is refused', () => {
  const s = new Scheduler(NODES, configWith({}));
  s.advance(0);
  s.submit(be('job'), 0);
  s.advance(0);
  assert.deepEqual(s.cancel('job', 0), { ok: true });
  assertRefused(s.cancel('job', 0), 'wrong-state', /lease 'job' has already ended \(cancelled\)/);
});

test('a hold of a kind that cannot be held, or for no time, is refused and leaves no lease', () => {
  const s = new Scheduler(NODES, configWith({}));
  s.advance(0);
  assertRefused(s.hold(be('b'), 0, 60), 'unsupported', /a best-effort lease cannot be held: only exact, deadline, periodic leases/);
  assertRefused(s.hold(exact('e', 600), 0, -5), 'invalid', /a hold must last more than 0 s, got -5/);
  assert.deepEqual(s.allLeases(), []);
});
