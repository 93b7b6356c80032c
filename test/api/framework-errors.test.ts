// The router's own refusals (a path that is not valid percent-encoding, a path parameter longer
// than it takes) answer in the API's error format, not the framework's FST_ERR_* body; and a
// parameter the API's own schemas allow (an image name of 128 characters) reaches its route.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld } from './api-world.ts';

test('a path with broken percent-encoding answers 400 invalid-request in the API\'s words', async () => {
  const w = await apiWorld(1);
  for (const url of ['/v1/leases/%zz', '/v1/leases/%E0%A4%A', '/v1/images/%/content']) {
    const res = await w.call(w.tokens.alice, 'GET', url);
    assert.deepEqual([res.status, res.body.code], [400, 'invalid-request'], `${url}: ${JSON.stringify(res.body)}`);
    assert.match(res.body.message, /percent-encod/);
    assert.doesNotMatch(JSON.stringify(res.body), /FST_/);
  }
  await w.close();
});

test('a path parameter longer than any id answers 400 invalid-request naming the limit', async () => {
  const w = await apiWorld(1);
  const res = await w.call(w.tokens.alice, 'GET', `/v1/leases/${'a'.repeat(5000)}`);
  assert.deepEqual([res.status, res.body.code], [400, 'invalid-request'], JSON.stringify(res.body).slice(0, 300));
  assert.match(res.body.message, /longer than \d+ characters/);
  assert.doesNotMatch(JSON.stringify(res.body), /FST_/);
  await w.close();
});

test('an image named with the 128 characters its schema allows can be changed through its path', async () => {
  const w = await apiWorld(1);
  const name = `i${'x'.repeat(127)}`;
  const made = await w.call(w.tokens.alice, 'POST', '/v1/images', { name, sizeMiB: 1, sha256: 'a'.repeat(64) });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const changed = await w.call(w.tokens.alice, 'PATCH', `/v1/images/${name}`, { visibility: 'group', group: 'lab' });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  await w.close();
});
