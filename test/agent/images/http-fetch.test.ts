// fetchBlob against a stand-in image store on loopback: the bearer token is sent, the body streams,
// and errors carry the status and the store's own message.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BlobFetchError, fetchBlob } from '../../../src/agent/images/http-fetch.ts';
import { freePort } from '../../support/free-port.ts';
import { startBlobServer, TOKEN, type BlobServer } from './blob-server.ts';

let server: BlobServer;
before(async () => {
  server = await startBlobServer();
});
after(() => server.close());

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

test('the blob streams back whole, asked for with the bearer token', async () => {
  const data = Buffer.alloc(256 * 1024, 3);
  const path = server.put(data);
  assert.deepEqual(await collect(await fetchBlob(server.url(path), TOKEN)), data);
});

test('a 404 throws with the status, the code and the message from the JSON body', async () => {
  const url = server.url('/blobs/missing');
  const err = await fetchBlob(url, TOKEN).then(
    () => assert.fail('a 404 was taken for a blob'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof BlobFetchError, String(err));
  assert.equal(err.status, 404);
  assert.equal(err.code, 'not-found');
  assert.equal(err.message, `GET ${url} failed with HTTP 404 (not-found): no image blob at /blobs/missing`);
});

test('a wrong token gets the 401 explained, and the token is not repeated in the error', async () => {
  const path = server.put(Buffer.from('secret image'));
  const wrong = 'not-the-token';
  await assert.rejects(fetchBlob(server.url(path), wrong), (e: unknown) => {
    assert.ok(e instanceof BlobFetchError);
    assert.equal(e.status, 401);
    assert.match(e.message, /a valid bearer token is required/);
    assert.doesNotMatch(e.message, new RegExp(wrong));
    return true;
  });
});

test('an unreachable store is reported with the URL and what to check', async () => {
  const url = `http://127.0.0.1:${await freePort()}/blobs/x`;
  await assert.rejects(fetchBlob(url, TOKEN), new RegExp(`GET ${url} failed before any response: .*ECONNREFUSED.*reachable`));
});
