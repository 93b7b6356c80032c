// TransferLink's slot queries against a brute force over a small timeline of busy seconds.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { type LinkTransfer, TransferLink } from '../../src/core/transfer-link.ts';

const END = 100;

/** Transfers that do not overlap (the link carries one at a time), added in any order. */
const linkArb: fc.Arbitrary<LinkTransfer[]> = fc
  .array(fc.record({ start: fc.integer({ min: 0, max: END - 1 }), length: fc.integer({ min: 1, max: 15 }), lease: fc.constantFrom('a', 'b', 'c') }), { maxLength: 12, size: 'max' })
  .map((wanted) => {
    const out: LinkTransfer[] = [];
    for (const w of wanted) {
      const t = { leaseId: w.lease, imageId: `img-${w.lease}`, start: w.start, end: Math.min(END, w.start + w.length) };
      if (out.every((o) => o.end <= t.start || t.end <= o.start)) out.push(t);
    }
    return out;
  });

function linkOf(transfers: readonly LinkTransfer[]): TransferLink {
  const link = new TransferLink();
  for (const t of transfers) link.add({ ...t });
  return link;
}

function freeFor(transfers: readonly LinkTransfer[], s: number, seconds: number): boolean {
  return transfers.every((t) => t.end <= s || s + seconds <= t.start);
}

test('earliestSlot is the first s >= from with [s, s + seconds) free', () => {
  fc.assert(
    fc.property(linkArb, fc.integer({ min: 0, max: END + 5 }), fc.integer({ min: 1, max: 20 }), (transfers, from, seconds) => {
      let expected = from;
      while (!freeFor(transfers, expected, seconds)) expected++;
      assert.equal(linkOf(transfers).earliestSlot(from, seconds), expected, `from ${from}, ${seconds} s, ${JSON.stringify(transfers)}`);
    }),
    { numRuns: 2000 },
  );
});

test('latestSlot is the last s >= from with s + seconds <= by and [s, s + seconds) free, or null', () => {
  fc.assert(
    fc.property(linkArb, fc.integer({ min: 0, max: END }), fc.integer({ min: 0, max: END + 10 }), fc.integer({ min: 1, max: 20 }), (transfers, from, by, seconds) => {
      let expected: number | null = null;
      for (let s = by - seconds; s >= from; s--) {
        if (freeFor(transfers, s, seconds)) {
          expected = s;
          break;
        }
      }
      assert.equal(linkOf(transfers).latestSlot(from, by, seconds), expected, `from ${from} by ${by}, ${seconds} s, ${JSON.stringify(transfers)}`);
    }),
    { numRuns: 2000 },
  );
});

test('add keeps transfers in start order; cancel drops only the lease\'s transfers that have not begun', () => {
  fc.assert(
    fc.property(linkArb, fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: END }), (transfers, lease, now) => {
      const link = linkOf(transfers);
      const starts = link.scheduled.map((t) => t.start);
      assert.deepEqual(starts, [...starts].sort((x, y) => x - y));
      link.cancel(lease, now);
      const kept = transfers.filter((t) => t.leaseId !== lease || t.start < now);
      assert.deepEqual(
        [...link.scheduled].sort((x, y) => x.start - y.start),
        [...kept].sort((x, y) => x.start - y.start),
      );
    }),
    { numRuns: 500 },
  );
});

test('a link with one transfer: slots before, between and after', () => {
  const link = new TransferLink();
  link.add({ leaseId: 'a', imageId: 'i', start: 10, end: 20 });
  assert.equal(link.earliestSlot(0, 10), 0);
  assert.equal(link.earliestSlot(0, 11), 20);
  assert.equal(link.earliestSlot(15, 1), 20);
  assert.equal(link.latestSlot(0, 30, 10), 20);
  assert.equal(link.latestSlot(0, 25, 10), 0);
  assert.equal(link.latestSlot(5, 25, 10), null);
});
