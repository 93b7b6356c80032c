// The overhead helpers: seconds to move data at a rate, and the runtime-overhead stretch.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { secondsToMove, stretchedSeconds, unstretchedSeconds } from '../../src/core/costs.ts';

test('secondsToMove with an infinite rate is 0 (a free operation)', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 1_000_000 }), (size) => secondsToMove(size, Infinity) === 0));
  assert.equal(secondsToMove(4096, Infinity), 0);
});

test('secondsToMove rounds size / rate up to whole seconds', () => {
  assert.equal(secondsToMove(1024, 50), 21);
  assert.equal(secondsToMove(1000, 50), 20);
  assert.equal(secondsToMove(1, 1000), 1);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 10_000 }), (size, rate) => {
      const s = secondsToMove(size, rate);
      assert.ok(Number.isInteger(s) && s >= 1);
      assert.ok(s * rate >= size && (s - 1) * rate < size, `${size} MiB at ${rate} MB/s took ${s} s`);
    }),
  );
});

test('secondsToMove of nothing takes no time', () => {
  assert.equal(secondsToMove(0, 50), 0);
});

test('secondsToMove throws a RangeError for a non-positive or NaN rate', () => {
  for (const rate of [0, -0, -1, -50, -Infinity, NaN]) {
    assert.throws(() => secondsToMove(1024, rate), RangeError, `rate ${rate}`);
  }
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100_000 }), fc.double({ max: 0, noNaN: true }), (size, rate) => {
      assert.throws(() => secondsToMove(size, rate), RangeError);
    }),
  );
});

test('stretchedSeconds: no overhead leaves seconds as they are; p % rounds x (1 + p/100)', () => {
  assert.equal(stretchedSeconds(1800, 0), 1800);
  assert.equal(stretchedSeconds(1800, 10), 1980);
  assert.equal(stretchedSeconds(5, 10), 6); // 5.5 rounds up
  assert.equal(stretchedSeconds(3, 5), 3); // 3.15
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 100 }), (x, p) => {
      const s = stretchedSeconds(x, p);
      assert.ok(Number.isInteger(s));
      assert.ok(Math.abs(s - x * (1 + p / 100)) <= 0.5 + 1e-9);
      assert.ok(stretchedSeconds(x + 1, p) >= s, 'monotone');
    }),
  );
});

test('unstretchedSeconds undoes stretchedSeconds, and stretches back to within a second (the checker\'s tolerance)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 100 }), (seconds, p) => {
      assert.equal(unstretchedSeconds(stretchedSeconds(seconds, p), p), seconds);
      assert.ok(Math.abs(unstretchedSeconds(seconds, p) * (1 + p / 100) - seconds) <= 1);
    }),
  );
});
