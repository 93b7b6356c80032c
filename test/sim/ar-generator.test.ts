// Reservations by the HPDC'08 study's rules (src/sim/ar-generator.ts): the sizes, durations, notice
// and load the rules state, the same reservations for the same seed, and clear refusals.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arSizeRange, generateArs, type ArRules } from '../../src/sim/ar-generator.ts';

const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const DAY = 86_400;
const rules = (over: Partial<ArRules> = {}): ArRules => ({ loadPercent: 30, meanHours: 3, size: 'medium', from: 0, to: 30 * DAY, poolNodes: 144, perNode, seed: 7, ...over });

test('on the study\'s 144 nodes the sizes are the study\'s, and on other pools the same shares', () => {
  assert.deepEqual(arSizeRange('small', 144), [1, 24]);
  assert.deepEqual(arSizeRange('medium', 144), [25, 48]);
  assert.deepEqual(arSizeRange('large', 144), [49, 72]);
  assert.deepEqual(arSizeRange('medium', 100), [17, 33]);
  assert.deepEqual(arSizeRange('small', 4), [1, 1]);
});

for (const [load, hours, size] of [[30, 3, 'medium'], [10, 1, 'small'], [20, 4, 'large']] as const) {
  test(`${load}% of ${hours} h ${size} reservations: each within the rules, the load within 10% of the asked`, () => {
    const ars = generateArs(rules({ loadPercent: load, meanHours: hours, size }));
    const [lo, hi] = arSizeRange(size, 144);
    let nodeSeconds = 0;
    for (const ar of ars) {
      assert.equal(ar.kind, 'exact');
      assert.ok(ar.nodes >= lo && ar.nodes <= hi, `${ar.id}: ${ar.nodes} nodes`);
      assert.ok(Math.abs(ar.duration - hours * 3600) <= 1800, `${ar.id}: ${ar.duration} s`);
      assert.equal(ar.arrival, Math.max(0, ar.requestedStart! - DAY));
      assert.ok(ar.requestedStart! >= 0 && ar.requestedStart! < 30 * DAY);
      nodeSeconds += ar.nodes * ar.duration;
    }
    const achieved = (nodeSeconds / (144 * 30 * DAY)) * 100;
    assert.ok(Math.abs(achieved / load - 1) < 0.1, `load ${achieved.toFixed(2)}% for ${load}%`);
    assert.deepEqual(generateArs(rules({ loadPercent: load, meanHours: hours, size })), ars);
    assert.notDeepEqual(generateArs(rules({ loadPercent: load, meanHours: hours, size, seed: 8 })), ars);
  });
}

test('rules that cannot be met are refused with what to give instead', () => {
  assert.throws(() => generateArs(rules({ loadPercent: 0 })), /AR load must be in \(0, 100\] %, got 0/);
  assert.throws(() => generateArs(rules({ meanHours: 0.5 })), /at least 1 h/);
  assert.throws(() => generateArs(rules({ to: 0 })), /must end after it begins/);
});
