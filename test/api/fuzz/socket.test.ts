// The fuzz over a real socket, for what inject() bypasses: Node's HTTP parser. Request lines that
// are not HTTP, oversized headers, conflicting lengths, broken chunking, requests cut short and
// connections left half-sent (slowloris-like, ended by the test), a few hundred generated raw
// requests, and the event stream opened and closed by every role. Where the server answers at
// all it answers in the API's error format, never a 5xx, and it keeps serving throughout.

import assert from 'node:assert/strict';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { apiWorld, lease } from '../api-world.ts';
import { assertApiAnswer, exchange } from './raw-http.ts';

const seed = Number(process.env.VWS_FUZZ_SEED ?? Date.now() % 2 ** 31);

const req = (head: string, body = ''): string => `${head}\r\n\r\n${body}`;

/** Requests Node's parser refuses (or might), each with the status the API must answer it with, or null when any API answer will do. */
const MALFORMED: [string, string, number | null][] = [
  ['headers over 16 KiB', req(`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}`), 431],
  ['many headers', req(`GET /v1/health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: y`).join('\r\n')}`), 431],
  ['not HTTP', 'GARBAGE\r\n\r\n', 400],
  ['no Host header', req('GET /v1/health HTTP/1.1\r\nConnection: close'), 400],
  ['an unknown version', req('GET /v1/health HTTP/9.9\r\nHost: x'), 400],
  ['a lowercase method', req('get /v1/health HTTP/1.1\r\nHost: x'), 400],
  ['a space in the path', req('GET /v1/he alth HTTP/1.1\r\nHost: x'), 400],
  ['a NUL in the path', req('GET /v1/he\u0000alth HTTP/1.1\r\nHost: x'), 400],
  ['a header without a colon', req('GET /v1/health HTTP/1.1\r\nHost: x\r\nBroken'), 400],
  ['a Content-Length that is not a number', req('POST /v1/leases HTTP/1.1\r\nHost: x\r\nContent-Length: abc', '{}'), 400],
  ['two Content-Lengths that differ', req('POST /v1/leases HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3', '{}'), 400],
  ['chunked and a Content-Length', req('POST /v1/leases HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3', '0\r\n\r\n'), 400],
  ['a chunk size that is not hex', req('POST /v1/leases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked', 'zz\r\n{}\r\n0\r\n\r\n'), 400],
  ['an obsolete line folding', req('GET /v1/health HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c'), 400],
  ['an Expect it cannot meet', req('POST /v1/leases HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 2', '{}'), null],
  ['a body cut short', req('POST /v1/leases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100', '{"kind":'), null],
  ['a request line cut short', 'GET /v1/hea', null],
  ['headers cut short', 'GET /v1/health HTTP/1.1\r\nHost: x\r\nX-A: b', null],
];

/** A raw request from parts that are each sometimes wrong. */
const rawRequestArb = fc.record({
  method: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE') }, fc.constantFrom('PUT', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'BREW', 'G\u00c9T', '')),
  path: fc.constantFrom('/v1/health', '/v1/leases', '/v1/leases/%zz', '/v1/nodes', '*', '', 'http://x/v1/health', '/v1/images/a/content', '//v1//leases', `/v1/leases/${'a'.repeat(9000)}`, '/v1/events?after=x'),
  version: fc.oneof({ weight: 4, arbitrary: fc.constant('HTTP/1.1') }, fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 extra', '')),
  host: fc.nat(9).map((n) => n > 0),
  headers: fc.array(fc.constantFrom('Host: y', 'Content-Type: application/json', 'Content-Type: text/plain', 'Content-Length: 2', 'Content-Length: -1', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip',
    'Authorization: Bearer admin-token', 'Authorization: Bearer nope', 'Authorization: Basic x', 'Connection: close', 'Expect: 100-continue', 'X-\u00e9: y', 'Bad Header: x', ': empty', 'X-Long: ' + 'l'.repeat(9000)), { maxLength: 3 }),
  body: fc.constantFrom('', '{}', '{"kind":"best-effort","nodes":1,"cpu":1,"memoryMiB":512,"duration":60}', '0\r\n\r\n', '{', '\u0000\u00ff'),
  cut: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, fc.nat(200)),
});

async function stillServes(port: number, what: string): Promise<void> {
  const health = await exchange(port, req('GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close'));
  assert.equal(health.status, 200, `after ${what}: ${health.body}`);
}

test('raw requests over a socket: the API\'s error format where the server answers, and it keeps serving', async (t) => {
  const w = await apiWorld(2);
  try {
    await w.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (w.app.server.address() as { port: number }).port;
    t.diagnostic(`seed ${seed} (replay: VWS_FUZZ_SEED=${seed})`);
    const statuses: Record<string, number> = {};
    const count = (s: number | null): void => void (statuses[String(s ?? 'closed')] = (statuses[String(s ?? 'closed')] ?? 0) + 1);

    for (const [what, bytes, status] of MALFORMED) {
      const a = await exchange(port, bytes);
      assertApiAnswer(a, what);
      if (status !== null) assert.equal(a.status, status, `${what}: ${a.status} ${a.body}`);
      count(a.status);
      await stillServes(port, what);
    }

    // Half-sent requests held open while others are served, then dropped by the test.
    const held: Socket[] = [];
    for (let i = 0; i < 50; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.write(i % 2 === 0 ? 'GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ' : 'POST /v1/leases HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"kind":');
      held.push(s);
    }
    await stillServes(port, '50 half-sent requests');
    held.forEach((s) => s.destroy());
    await stillServes(port, 'dropping them');

    let generated = 0;
    await fc.assert(fc.asyncProperty(rawRequestArb, async (r) => {
      const text = req([`${r.method} ${r.path} ${r.version}`.trim(), ...(r.host ? ['Host: x'] : []), ...r.headers, 'Connection: close'].join('\r\n'), r.body);
      const a = await exchange(port, r.cut === null ? text : text.slice(0, r.cut));
      assertApiAnswer(a, JSON.stringify(r).slice(0, 300), r.method === 'HEAD');
      count(a.status);
      generated++;
    }), { seed, numRuns: 300, endOnFailure: true }).catch((e: Error) => {
      throw new Error(`${((e.cause as Error | undefined)?.message ?? '').slice(0, 2000)}\n${e.message.slice(0, 2000)}`);
    });
    await stillServes(port, 'the generated requests');

    // The event stream, which inject() cannot end: opened by every role and closed by the client.
    const bad = ['Bearer nope', 'Basic x', null];
    for (const auth of [...Object.values(w.tokens).map((tk) => `Bearer ${tk}`), ...bad]) {
      for (const query of ['', '?after=now', '?after=x']) {
        const status = await new Promise<number>((resolve, reject) => {
          const r = get({ host: '127.0.0.1', port, path: `/v1/events${query}`, headers: auth ? { authorization: auth } : {} }, (res) => {
            resolve(res.statusCode ?? 0);
            res.destroy();
          });
          r.on('error', reject);
        });
        const user = auth !== null && !bad.includes(auth);
        assert.equal(status, !user ? 401 : query === '?after=x' ? 400 : 200, `GET /v1/events${query} with ${auth?.slice(0, 12)}`);
        count(status);
      }
    }
    await stillServes(port, 'the event streams');
    const made = await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ duration: 60 }));
    assert.equal(made.status, 201, JSON.stringify(made.body));
    t.diagnostic(`${MALFORMED.length} malformed, 50 half-sent, ${generated} generated raw requests and 21 event streams; answers by status: ${JSON.stringify(statuses)}`);
  } finally {
    await w.close();
  }
});
