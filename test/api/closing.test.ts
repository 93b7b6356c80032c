// A request that reaches a server while it stops (shutting down, or a leader stepping down) is
// answered in the API's format, with Retry-After, and nothing of it is done: Fastify's own
// answer then had neither a code nor a Retry-After.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { apiApp } from '../../src/api/api-app.ts';
import { role } from '../../src/api/route-roles.ts';
import type { Store } from '../../src/store/store.ts';

test('a request on a busy kept-alive connection after the server started closing gets 503 no-leader with Retry-After, and is not carried out', async () => {
  const app = apiApp({ store: {} as Store, now: () => 0 });
  let release!: () => void;
  const inFlight = new Promise<void>((r) => (release = r));
  let started!: () => void;
  const hasStarted = new Promise<void>((r) => (started = r));
  const done: string[] = [];
  app.get('/slow', role('public'), async () => {
    started();
    await inFlight;
    done.push('slow');
    return { ok: true };
  });
  app.post('/write', role('public'), async () => {
    done.push('write');
    return { ok: true };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (c) => (text += c.toString()));
  const ended = new Promise<void>((r) => socket.on('close', () => r()));
  socket.write('GET /slow HTTP/1.1\r\nhost: x\r\n\r\n');
  await hasStarted;
  const closed = app.close();
  // On the same connection, busy (so not closed as idle), once closing has taken hold.
  await new Promise((r) => setTimeout(r, 100));
  socket.write('POST /write HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
  await new Promise((r) => setTimeout(r, 100));
  release();
  await closed;
  await ended;
  const answers = text.split(/(?=HTTP\/1\.1 )/);
  assert.equal(answers.length, 2, text);
  assert.match(answers[0], /^HTTP\/1\.1 200/);
  assert.match(answers[1], /^HTTP\/1\.1 503/);
  assert.match(answers[1], /retry-after: 2/i);
  assert.match(answers[1], /"code":"no-leader"/);
  assert.deepEqual(done, ['slow'], 'the request that came while closing was not carried out');
});
