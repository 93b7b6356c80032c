// An owner's suspend at the very instant a lease's run begins is refused, as a live migration at
// that instant is: it would cut a run of no length (the lease "ran" from t to t), which the
// schedule and its usage then carry. A second later it is suspended as usual.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease } from './api-world.ts';

test('a suspend in the second a run begins is refused with wrong-state, and accepted a second later', async () => {
  const w = await apiWorld(1);
  const made = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ duration: 3600 }));
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id: string = made.body.lease.id;
  assert.equal((await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}`)).body.status, 'running');
  const inputs = (await w.store.inputs()).length;
  const early = await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/suspend`);
  assert.deepEqual([early.status, early.body.code], [409, 'wrong-state'], JSON.stringify(early.body));
  assert.match(early.body.message, /this very instant/);
  assert.equal((await w.store.inputs()).length, inputs, 'the refusal wrote nothing');
  w.clock.advance(1);
  const later = await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/suspend`);
  assert.equal(later.status, 200, JSON.stringify(later.body));
  await w.close();
});
