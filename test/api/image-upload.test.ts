// Image content is streamed to disk while it is hashed, and only once the route knows the image is
// the caller's (issue 14, finding 6): a large PUT to an image that does not exist, or is someone
// else's, is refused without being read; content larger than registered is cut off; JSON bodies
// are kept small.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { apiWorld } from './api-world.ts';

const MIB = 1024 * 1024;

/** `mib` MiB of one byte, made as it is read; `read` counts what was. */
function lazyContent(mib: number, fill = 7): { stream: Readable; read: () => number } {
  let made = 0;
  const stream = new Readable({
    read() {
      if (made >= mib) return void this.push(null);
      made++;
      this.push(Buffer.alloc(MIB, fill));
    },
  });
  return { stream, read: () => made * MIB };
}

const sha = (mib: number, fill = 7): string => {
  const h = createHash('sha256');
  for (let i = 0; i < mib; i++) h.update(Buffer.alloc(MIB, fill));
  return h.digest('hex');
};

test('a large upload to an image that is not the caller\'s is refused before it is read', async () => {
  const w = await apiWorld(1);
  const put = (token: string, name: string, stream: Readable) => w.app.inject({
    method: 'PUT', url: `/v1/images/${name}/content`, payload: stream,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
  });
  const nowhere = lazyContent(256);
  const missing = await put(w.tokens.bob, 'nothing-here', nowhere.stream);
  assert.equal(missing.statusCode, 404);
  assert.ok(nowhere.read() <= 16 * MIB, `${nowhere.read() / MIB} MiB of 256 were read for an image that does not exist`);
  // Shared with alice's group: carol sees it but may not change it; bob may not see it.
  assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'disk', sizeMiB: 3, sha256: sha(3), visibility: 'group' })).status, 201);
  for (const [who, status] of [['carol', 403], ['bob', 404]] as const) {
    const others = lazyContent(256);
    assert.equal((await put(w.tokens[who], 'disk', others.stream)).statusCode, status, who);
    assert.ok(others.read() <= 16 * MIB, `${others.read() / MIB} MiB were read of ${who}'s upload to alice's image`);
  }
  // More than registered: cut off, nothing kept, no partial file left.
  const big = lazyContent(64);
  const tooLarge = await put(w.tokens.alice, 'disk', big.stream);
  assert.deepEqual([tooLarge.statusCode, JSON.parse(tooLarge.body).code], [413, 'too-large']);
  assert.ok(big.read() <= 16 * MIB);
  assert.deepEqual(readdirSync(w.blobDir), []);
  // The registered content, larger than any JSON body may be, goes through.
  const ok = await put(w.tokens.alice, 'disk', lazyContent(3).stream);
  assert.equal(ok.statusCode, 200, ok.body);
  assert.deepEqual(JSON.parse(ok.body), { name: 'disk', sha256: sha(3), bytes: 3 * MIB });
  assert.deepEqual(readdirSync(w.blobDir), [sha(3)]);
  await w.close();
});

test('a JSON body over 1 MiB is refused as too large', async () => {
  const w = await apiWorld(1);
  const res = await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'x', sizeMiB: 1, sha256: 'a'.repeat(64), pad: 'p'.repeat(2 * MIB) });
  assert.deepEqual([res.status, res.body.code], [413, 'too-large']);
  await w.close();
});
