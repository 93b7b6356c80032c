// Members of a group that shares a lease see it; only its owner and administrators change it
// (issue 14, finding 4: carol, in alice's group, cancelled alice's shared lease and committed her hold).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease, T0 } from './api-world.ts';

test('a group member sees a shared lease and hold but cannot cancel, commit or act on them; the owner and an admin can', async () => {
  const w = await apiWorld(2);
  const shared = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ group: 'lab' }));
  const id = shared.body.lease.id;
  const held = await w.call(w.tokens.alice, 'POST', '/v1/leases/hold', { lease: lease({ kind: 'exact', start: T0 + 3600, group: 'lab' }), ttl: 600 });
  const hold = held.body.lease.id;
  assert.equal((await w.call(w.tokens.carol, 'GET', `/v1/leases/${id}`)).status, 200, 'carol sees it');
  for (const [method, url] of [['DELETE', `/v1/leases/${id}`], ['POST', `/v1/leases/${hold}/commit`], ['DELETE', `/v1/leases/${hold}`], ['POST', `/v1/leases/${id}/stop`], ['POST', `/v1/leases/${id}/suspend`]] as const) {
    const res = await w.call(w.tokens.carol, method, url);
    assert.deepEqual([res.status, res.body.code], [403, 'forbidden'], `carol ${method} ${url}`);
    assert.match(res.body.message, /only the owner of lease '.+' \(alice\) or an administrator may/);
  }
  assert.notEqual((await w.call(w.tokens.carol, 'GET', `/v1/leases/${id}`)).body.status, 'cancelled');
  assert.equal((await w.call(w.tokens.carol, 'GET', `/v1/leases/${hold}`)).body.status, 'held');
  assert.equal((await w.call(w.tokens.alice, 'POST', `/v1/leases/${hold}/commit`)).status, 200, 'the owner commits');
  assert.equal((await w.call(w.tokens.admin, 'DELETE', `/v1/leases/${id}`)).status, 200, 'an administrator cancels');
  await w.close();
});
