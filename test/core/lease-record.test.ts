import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newLeaseRecord } from '../../src/core/lease-record.ts';
import type { LeaseRequest } from '../../src/core/types.ts';

const req: LeaseRequest = {
  id: 'a', kind: 'best-effort', arrival: 5, requestedStart: null, duration: 60, nodes: 2,
  perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, preemptible: true,
};

test('a new record reads the defaults of the fields kept apart', () => {
  const l = newLeaseRecord(req, 3, 60);
  assert.equal(l.queuedAt, 5);
  assert.equal(l.seq, 3);
  assert.deepEqual([l.lost, l.suspendedOn, l.parked, l.lastPlannedStart, l.rejectReason, l.failure], [[], null, false, null, null, null]);
  assert.deepEqual([l.heldUntil, l.occurrenceIds, l.suspensions, l.migrations, l.preemptions, l.imageRefs], [null, null, 0, 0, 0, []]);
});

test('each field kept apart reads back what was written, the others keeping theirs', () => {
  const l = newLeaseRecord(req, 0, 60);
  l.suspensions++;
  l.suspensions++;
  l.lastPlannedStart = 40;
  l.imageRefs = [1, 2];
  assert.equal(l.suspensions, 2);
  assert.equal(l.lastPlannedStart, 40);
  assert.deepEqual(l.imageRefs, [1, 2]);
  assert.equal(l.migrations, 0);
  assert.equal(l.heldUntil, null);
  l.lastPlannedStart = null;
  l.imageRefs = [];
  assert.equal(l.lastPlannedStart, null);
  assert.deepEqual(l.imageRefs, []);
});

test('records do not share what is written to one of them', () => {
  const a = newLeaseRecord(req, 0, 60);
  const b = newLeaseRecord({ ...req, id: 'b' }, 1, 60);
  a.failure = { code: 'node-lost', message: 'gone' };
  a.occurrenceIds = ['a#1'];
  assert.equal(b.failure, null);
  assert.equal(b.occurrenceIds, null);
  assert.deepEqual(a.occurrenceIds, ['a#1']);
});
