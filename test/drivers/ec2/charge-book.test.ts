// The EC2 driver's charge bookkeeping: one record per instance however often it is seen running,
// and an end that is never before the start and never moves once set.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Instance } from '@aws-sdk/client-ec2';
import { ChargeBook, type ChargeRecord } from '../../../src/drivers/ec2/charges.ts';

const vm = { leaseId: 'L1', vmId: 'L1-0', instanceType: 'tiny', pricePerHour: 0.01 };

/** What the driver sees happen: an instance seen running (launched at `launched`, if EC2 says), or seen ending, at `at`. */
const sighting = fc.record({
  kind: fc.constantFrom('running' as const, 'ended' as const),
  instance: fc.constantFrom('i-1', 'i-2', 'i-3'),
  at: fc.integer({ min: 0, max: 10_000 }),
  launched: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: undefined }),
});

test('each instance has one charge, begun when first seen running; its end is never before its start and never moves', () => {
  fc.assert(fc.property(fc.array(sighting, { maxLength: 40 }), (sightings) => {
    const records: ChargeRecord[] = [];
    let now = 0;
    const book = new ChargeBook(records, () => now);
    const firstSeen = new Map<string, number>();
    const endedAt = new Map<string, number>();
    for (const s of sightings) {
      now = s.at;
      if (s.kind === 'running') {
        const instance: Instance = { InstanceId: s.instance, ...(s.launched !== undefined ? { LaunchTime: new Date(s.launched * 1000) } : {}) };
        if (!firstSeen.has(s.instance)) firstSeen.set(s.instance, s.launched ?? s.at);
        book.begin(vm, instance);
      } else {
        book.end(s.instance);
      }
      for (const r of records) {
        if (r.until !== null && !endedAt.has(r.instanceId)) endedAt.set(r.instanceId, r.until);
      }
    }
    assert.deepEqual(records.map((r) => r.instanceId).sort(), [...firstSeen.keys()].sort(), 'one record per instance seen running');
    for (const r of records) {
      assert.equal(r.from, firstSeen.get(r.instanceId), 'charged from its launch time, else from when first seen');
      assert.ok(r.until === null || r.until >= r.from, `ends at ${r.until}, before it began at ${r.from}`);
      assert.equal(r.until, endedAt.get(r.instanceId) ?? null, 'an ended charge keeps its first end');
    }
  }));
});

test("a lease's charges are its own records, charged up to now while running", () => {
  const records: ChargeRecord[] = [];
  let now = 1000;
  const book = new ChargeBook(records, () => now);
  book.begin(vm, { InstanceId: 'i-1', LaunchTime: new Date(1000 * 1000) });
  book.begin({ ...vm, leaseId: 'L2', vmId: 'L2-0' }, { InstanceId: 'i-2' });
  now = 1000 + 3600;
  const [running] = book.of('L1');
  assert.equal(running?.billedSeconds, 3600);
  assert.ok(Math.abs(running.amount - 0.01) < 1e-9, `an hour at 0.01 an hour, got ${running.amount}`);
  book.end('i-1');
  now += 3600;
  assert.equal(book.of('L1')[0]?.billedSeconds, 3600, 'an ended charge stops growing');
  assert.deepEqual(book.of('L2').map((c) => c.instanceId), ['i-2']);
  assert.deepEqual(book.of('L3'), []);
});
