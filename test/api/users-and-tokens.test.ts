// Users can be disabled, all their tokens stopping at once; every token made through the API
// expires, within the cap, and never after the token that made it (issue 14, finding 10).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LONGEST_SECONDS } from '../../src/api/limits.ts';
import { apiWorld, lease, T0 } from './api-world.ts';

test('a disabled user\'s tokens all stop at once; its leases stay; enabled again, they work', async () => {
  const w = await apiWorld(1);
  const second = (await w.call(w.tokens.bob, 'POST', '/v1/users/bob/tokens', { label: 'laptop' })).body.token;
  const made = await w.call(w.tokens.bob, 'POST', '/v1/leases', lease());
  assert.equal(made.status, 201);
  assert.equal((await w.call(w.tokens.bob, 'POST', '/v1/users/bob/disable')).status, 403, 'only administrators disable');
  const off = await w.call(w.tokens.admin, 'POST', '/v1/users/bob/disable');
  assert.deepEqual([off.status, off.body.disabled], [200, true]);
  for (const token of [w.tokens.bob, second]) assert.equal((await w.call(token, 'GET', '/v1/whoami')).status, 401);
  assert.equal((await w.call(w.tokens.admin, 'GET', `/v1/leases/${made.body.lease.id}`)).status, 200, 'what bob owns stays');
  assert.equal((await w.call(w.tokens.admin, 'POST', '/v1/users/admin/disable')).body.code, 'wrong-state', 'no one locks themselves out');
  assert.equal((await w.call(w.tokens.admin, 'POST', '/v1/users/bob/enable')).status, 200);
  assert.equal((await w.call(second, 'GET', '/v1/whoami')).body.id, 'bob');
  await w.close();
});

test('tokens made through the API expire: within the cap, and never after the token that made them', async () => {
  const w = await apiWorld(1);
  // The bootstrap admin token never expires: what it makes gets the cap.
  const capped = await w.call(w.tokens.admin, 'POST', '/v1/users/alice/tokens', {});
  assert.deepEqual([capped.status, capped.body.expiresAt], [201, T0 + LONGEST_SECONDS]);
  const hour = await w.call(w.tokens.admin, 'POST', '/v1/users/alice/tokens', { expiresIn: 3600 });
  assert.equal(hour.body.expiresAt, T0 + 3600);
  // With a token that has an hour left, alice may make one for at most that hour.
  const longer = await w.call(hour.body.token, 'POST', '/v1/users/alice/tokens', { expiresIn: 7200 });
  assert.deepEqual([longer.status, longer.body.path], [400, 'body.expiresIn']);
  assert.match(longer.body.message, /cannot outlive it; ask for at most 3600/);
  w.clock.advance(600);
  const child = await w.call(hour.body.token, 'POST', '/v1/users/alice/tokens', {});
  assert.deepEqual([child.status, child.body.expiresAt], [201, T0 + 3600], 'without expiresIn, it ends with its maker');
  w.clock.advance(3000);
  assert.equal((await w.call(child.body.token, 'GET', '/v1/whoami')).status, 401);
  await w.close();
});
