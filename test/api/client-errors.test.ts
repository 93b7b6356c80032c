// Node's parser errors answered in the API's format, one per kind, including the timeout that a
// socket test could only provoke by waiting a minute for Node's header timeout.

import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { answerClientError } from '../../src/api/client-errors.ts';
import { parse } from './fuzz/raw-http.ts';

function answered(code: string | undefined): { text: Buffer; destroyed: boolean } {
  const socket = new PassThrough();
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  answerClientError(Object.assign(new Error('parser'), { code }), socket);
  return { text: Buffer.concat(chunks), destroyed: socket.destroyed };
}

test('parser errors answer with their code and status, and the connection is closed', () => {
  for (const [nodeCode, status, code] of [['ERR_HTTP_REQUEST_TIMEOUT', 408, 'request-timeout'], ['HPE_HEADER_OVERFLOW', 431, 'headers-too-large'], ['HPE_INVALID_METHOD', 400, 'invalid-request'], [undefined, 400, 'invalid-request']] as const) {
    const { text, destroyed } = answered(nodeCode);
    const a = parse(text);
    assert.equal(a.status, status, String(nodeCode));
    assert.match(a.headers['content-type'], /^application\/json/);
    assert.equal(JSON.parse(a.body).code, code);
    assert.ok(destroyed, 'the socket is closed after the answer');
  }
});

test('a connection the client reset gets no answer', () => {
  assert.equal(answered('ECONNRESET').text.length, 0);
});
