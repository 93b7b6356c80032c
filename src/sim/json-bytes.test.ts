import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { JsonBytes } from './json-bytes.ts';

const written = (write: (out: JsonBytes) => void, size = 64): string => {
  const out = new JsonBytes(size);
  write(out);
  return out.toString();
};

test('num writes every number as JSON.stringify does, integers by hand and the rest through it', () => {
  const edges = [0, -0, 1, 9, 10, 99, 100, 101, 999, 1000, 12345, 99999, 100000, 1e6 - 1, 1e6, 1e9 - 1, 1e9, 2 ** 31 - 1, 2 ** 31,
    -1, -(2 ** 31), 0.5, 1.5, -1.25, 1e21, 1e-7, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity];
  for (const x of edges) assert.equal(written((out) => out.num(x)), JSON.stringify(x), `${x}`);
  fc.assert(fc.property(fc.oneof(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.double()), (x) => written((out) => out.num(x)) === JSON.stringify(x)));
});

test('str writes every string as JSON.stringify does, escapes and non-ASCII included', () => {
  for (const s of ['', 'n1', '42/attempt-1', 'a"b', 'back\\slash', 'tab\there', '\u0001', 'é', 'nœud-€', '😀', '\ud800', 'x\u2028y']) {
    assert.equal(written((out) => out.str(s)), JSON.stringify(s), s);
  }
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => written((out) => out.str(s)) === JSON.stringify(s)));
});

test('a full buffer is flushed and reused, or grows when there is nowhere to flush it', () => {
  const pieces: string[] = [];
  const out = new JsonBytes(8, (bytes) => void pieces.push(Buffer.from(bytes).toString()));
  for (let i = 0; i < 20; i++) out.num(i);
  out.text('"é-long enough to need more than the whole buffer"');
  out.end();
  assert.equal(pieces.join(''), `${Array.from({ length: 20 }, (_, i) => i).join('')}"é-long enough to need more than the whole buffer"`);
  assert.ok(pieces.length > 2);
  assert.equal(written((o) => {
    for (let i = 0; i < 1000; i++) o.num(i);
  }, 4), Array.from({ length: 1000 }, (_, i) => i).join(''));
});

test('the dictionary stays at the start of the buffer, across flushes and growth, to be copied from', () => {
  const pieces: string[] = [];
  const out = new JsonBytes(4, (bytes) => void pieces.push(Buffer.from(bytes).toString()), new Uint8Array(Buffer.from('"a","bb","ccc"')));
  const copy = (from: number, to: number) => {
    const b = out.reserve(to - from);
    b.copyWithin(out.pos, from, to);
    out.pos += to - from;
  };
  copy(0, 3);
  copy(4, 14);
  out.num(12345);
  copy(4, 14);
  out.end();
  assert.equal(pieces.join(''), '"a""bb","ccc"12345"bb","ccc"');
  assert.equal(written((o) => {
    for (let i = 0; i < 100; i++) o.num(i % 10);
  }, 4), '0123456789'.repeat(10));
});
