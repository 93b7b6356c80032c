import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type SseEvent, SseParser } from '../../../src/cli/client/sse.ts';

const feedAll = (chunks: string[]): SseEvent[] => {
  const parser = new SseParser();
  return chunks.flatMap((c) => parser.feed(c));
};

test('frames as the server writes them, with keep-alive comments between', () => {
  const stream = 'id: 7\nevent: lease.status\ndata: {"to":"running"}\n\n: keep-alive\n\nid: 8\nevent: node.added\ndata: {"id":"n1"}\n\n';
  assert.deepEqual(feedAll([stream]), [
    { id: '7', type: 'lease.status', data: '{"to":"running"}' },
    { id: '8', type: 'node.added', data: '{"id":"n1"}' },
  ]);
});

test('the details of the format: multi-line data, no space after the colon, CR and CRLF line ends, ids that carry over', () => {
  const stream = 'data:first\r\ndata: second\r\n\r\nid: 3\revent: x\rdata\r\r: comment only\n\ndata: after\n\n';
  assert.deepEqual(feedAll([stream]), [
    { id: null, type: 'message', data: 'first\nsecond' },
    { id: '3', type: 'x', data: '' },
    { id: '3', type: 'message', data: 'after' },
  ]);
  assert.deepEqual(feedAll(['data: unfinished\n']), [], 'an event is only complete at its blank line');
  assert.deepEqual(feedAll(['data: a\r', '\n', '\n']), [{ id: null, type: 'message', data: 'a' }], 'a CRLF split across chunks is one line end');
  assert.deepEqual(feedAll(['data: a\r', '', '\r']), [{ id: null, type: 'message', data: 'a' }], 'CR CR is a blank line');
});

const line = fc.stringMatching(/^[^\r\n]{0,30}$/);
const events = fc.array(fc.record({ id: fc.nat(), type: fc.stringMatching(/^[a-z.]{1,12}$/), data: fc.array(line, { minLength: 1, maxLength: 3 }) }), { maxLength: 8 });

test('however the network splits the stream, the same events come out', () => {
  fc.assert(fc.property(events, fc.constantFrom('\n', '\r\n', '\r'), fc.array(fc.nat(), { maxLength: 12 }), (evs, eol, cuts) => {
    const wire = evs.map((e) => [`: ping`, `id: ${e.id}`, `event: ${e.type}`, ...e.data.map((d) => `data: ${d}`), ''].join(eol) + eol).join('');
    const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
    const chunks = [0, ...points].map((p, i, all) => wire.slice(p, all[i + 1] ?? wire.length));
    assert.deepEqual(feedAll(chunks), evs.map((e) => ({ id: String(e.id), type: e.type, data: e.data.join('\n') })));
  }), { numRuns: 500 });
});
