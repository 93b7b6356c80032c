// ImageCache: reference counts, least-recently-used eviction of unreferenced images only, and
// refusal when nothing can be evicted; examples and a model-based sequence of operations.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { ImageCache } from '../../src/core/image-cache.ts';

test('an acquired image is present with its ready time; acquiring it again keeps the earlier ready time', () => {
  const cache = new ImageCache(1000);
  assert.equal(cache.readyAt('a'), undefined);
  assert.equal(cache.acquire('a', 400, 50, 0), true);
  assert.equal(cache.readyAt('a'), 50);
  assert.equal(cache.acquire('a', 400, 30, 10), true);
  assert.equal(cache.readyAt('a'), 30);
  assert.equal(cache.acquire('a', 400, 90, 20), true);
  assert.equal(cache.readyAt('a'), 30);
});

test('referenced images are never evicted: a request that would need them is refused', () => {
  const cache = new ImageCache(1000);
  assert.equal(cache.acquire('a', 500, 0, 0), true);
  assert.equal(cache.acquire('b', 500, 0, 1), true);
  assert.equal(cache.acquire('c', 100, 0, 2), false);
  assert.equal(cache.readyAt('a'), 0);
  assert.equal(cache.readyAt('b'), 0);
  assert.equal(cache.readyAt('c'), undefined);
});

test('an image is evictable only once every reference is released', () => {
  const cache = new ImageCache(1000);
  cache.acquire('a', 600, 0, 0);
  cache.acquire('a', 600, 0, 1);
  cache.release('a', 2);
  assert.equal(cache.acquire('b', 600, 0, 3), false, 'a still has one reference');
  assert.equal(cache.readyAt('a'), 0);
  cache.release('a', 4);
  assert.equal(cache.acquire('b', 600, 0, 5), true);
  assert.equal(cache.readyAt('a'), undefined);
  assert.equal(cache.readyAt('b'), 0);
});

test('eviction takes the least recently used unreferenced image first', () => {
  const cache = new ImageCache(900);
  for (const [id, t] of [['a', 0], ['b', 1], ['c', 2]] as const) cache.acquire(id, 300, 0, t);
  cache.release('b', 10); // b was used last at 10
  cache.release('a', 11); // a at 11
  cache.release('c', 5); // c at max(2, 5) = 5: the least recently used
  assert.equal(cache.acquire('d', 300, 20, 20), true);
  assert.deepEqual(['a', 'b', 'c', 'd'].map((id) => cache.readyAt(id) !== undefined), [true, true, false, true]);
  assert.equal(cache.acquire('e', 600, 21, 21), true, 'evicts b (10), then a (11)');
  assert.deepEqual(['a', 'b', 'd', 'e'].map((id) => cache.readyAt(id) !== undefined), [false, false, true, true]);
});

test('an image larger than the cache, or any image with a zero-size cache, is refused', () => {
  assert.equal(new ImageCache(1000).acquire('a', 1001, 0, 0), false);
  const none = new ImageCache(0);
  assert.equal(none.acquire('a', 1, 0, 0), false);
  assert.equal(none.readyAt('a'), undefined);
});

test('an image that never arrived is forgotten once its last reference is released', () => {
  const cache = new ImageCache(1000);
  cache.acquire('a', 400, 100, 0);
  cache.release('a', 50);
  assert.equal(cache.readyAt('a'), undefined);
  cache.acquire('b', 400, 100, 60);
  cache.release('b', 100);
  assert.equal(cache.readyAt('b'), 100, 'arrived by the release: kept for reuse');
});

// ---- model-based: random operations against a reference model ----

const SIZES: Record<string, number> = { a: 300, b: 500, c: 700, d: 200, e: 1000 };

type Op = { kind: 'acquire'; id: string; dt: number; ready: number } | { kind: 'release'; id: string; dt: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('acquire' as const), id: fc.constantFrom(...Object.keys(SIZES)), dt: fc.integer({ min: 1, max: 20 }), ready: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ kind: fc.constant('release' as const), id: fc.constantFrom(...Object.keys(SIZES)), dt: fc.integer({ min: 1, max: 20 }) }),
);

interface ModelEntry {
  readyAt: number;
  refs: number;
  lastUsed: number;
}

/**
 * Runs random operations against a reference model. With `refusalsChangeNothing` a refused
 * acquire must leave the cache as it was; without it, a refused acquire may have evicted
 * unreferenced images, but only a least-recently-used prefix of them (the model follows suit).
 */
function checkAgainstModel(limit: number, ops: readonly Op[], refusalsChangeNothing: boolean): void {
  const cache = new ImageCache(limit);
  const model = new Map<string, ModelEntry>();
  const used = (): number => [...model.keys()].reduce((a, id) => a + SIZES[id], 0);
  let now = 0;
  ops.forEach((op, step) => {
    now += op.dt; // strictly increasing, so "least recently used" has no ties
    const where = `step ${step} (${JSON.stringify(op)}) at ${now}`;
    const e = model.get(op.id);
    if (op.kind === 'acquire') {
      const readyAt = now + op.ready;
      const evictable = [...model].filter(([, x]) => x.refs === 0).sort((p, q) => p[1].lastUsed - q[1].lastUsed).map(([id]) => id);
      let expected: boolean;
      if (e) {
        e.refs++;
        e.lastUsed = now;
        e.readyAt = Math.min(e.readyAt, readyAt);
        expected = true;
      } else {
        const room = limit - used() + evictable.reduce((a, id) => a + SIZES[id], 0);
        expected = SIZES[op.id] <= room;
        if (expected) {
          for (const id of evictable) {
            if (used() + SIZES[op.id] <= limit) break;
            model.delete(id);
          }
          model.set(op.id, { readyAt, refs: 1, lastUsed: now });
        }
      }
      assert.equal(cache.acquire(op.id, SIZES[op.id], readyAt, now), expected, where);
      if (!expected && !refusalsChangeNothing) {
        const gone = evictable.filter((id) => cache.readyAt(id) === undefined);
        assert.deepEqual(gone, evictable.slice(0, gone.length), `${where}: a refusal evicted ${gone.join(', ')}, not the least recently used first`);
        for (const id of gone) model.delete(id);
      }
    } else {
      if (e) {
        e.refs = Math.max(0, e.refs - 1);
        e.lastUsed = Math.max(e.lastUsed, now);
        if (e.refs === 0 && e.readyAt > now) model.delete(op.id);
      }
      cache.release(op.id, now);
    }
    for (const id of Object.keys(SIZES)) {
      assert.equal(cache.readyAt(id), model.get(id)?.readyAt, `${where}: image ${id}`);
    }
    assert.ok(used() <= limit, `${where}: ${used()} MiB cached over a ${limit} MiB limit`);
  });
}

const limitArb = fc.constantFrom(0, 800, 1200, 2000);
const opsArb = fc.array(opArb, { maxLength: 40, size: 'max' });

test('random acquire/release sequences: references pin images, LRU eviction, usage within the limit', () => {
  fc.assert(fc.property(limitArb, opsArb, (limit, ops) => checkAgainstModel(limit, ops, false)), { numRuns: 1000 });
});

test('random acquire/release sequences: a refused acquire leaves the cache as it was', () => {
  fc.assert(fc.property(limitArb, opsArb, (limit, ops) => checkAgainstModel(limit, ops, true)), { numRuns: 1000 });
});
