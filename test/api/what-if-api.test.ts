// POST /v1/what-if: the site's own history under another terms document, run in a worker thread,
// for administrators and one at a time; a document that does not read is refused naming where.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease, T0 } from './api-world.ts';

test('the site\'s history under its own terms gives its own figures; under requeue none is suspended; bad documents, users and a second replay at once are refused', async () => {
  const w = await apiWorld(1);
  const be = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ duration: 7200 }));
  assert.equal(be.status, 201, JSON.stringify(be.body));
  const ar = await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ kind: 'exact', start: T0 + 1800, duration: 600 }));
  assert.equal(ar.status, 201, JSON.stringify(ar.body));
  await w.idle();
  w.clock.advance(3600);
  await w.idle();

  const own = await w.call(w.tokens.admin, 'POST', '/v1/what-if', { terms: null });
  assert.equal(own.status, 200, JSON.stringify(own.body));
  assert.deepEqual(own.body.whatIf.metrics.suspensions, own.body.real.metrics.suspensions);
  assert.equal(own.body.real.metrics.suspensions, 1, 'the reservation suspended the best-effort lease');
  for (const key of ['leases', 'completed', 'rejected', 'meanWait', 'allBestEffort']) assert.equal(own.body.whatIf.metrics[key], own.body.real.metrics[key], key);
  assert.match(own.body.real.schedule[0], /^\{"format":"vws\.schedule\/v1"/);

  const document = (await w.call(w.tokens.admin, 'GET', '/v1/terms')).body.terms;
  const requeue = await w.call(w.tokens.admin, 'POST', '/v1/what-if', { terms: { ...document, preemption: { ...document.preemption, how: 'requeue' } } });
  assert.equal(requeue.status, 200, JSON.stringify(requeue.body));
  assert.equal(requeue.body.whatIf.metrics.suspensions, 0);
  assert.ok(requeue.body.whatIf.schedule.some((l: string) => l.includes('/attempt-1') || l.includes('"requeued":true')), 'the best-effort lease starts again');

  const bad = await w.call(w.tokens.admin, 'POST', '/v1/what-if', { terms: { ...document, preemption: { ...document.preemption, how: 'sometimes' } } });
  assert.deepEqual([bad.status, bad.body.code], [400, 'invalid-request']);
  assert.match(bad.body.message, /^body\.terms\.preemption\.how: /);
  assert.deepEqual((await w.call(w.tokens.admin, 'POST', '/v1/what-if', { terms: null, also: 1 })).status, 400);
  assert.deepEqual((await w.call(w.tokens.alice, 'POST', '/v1/what-if', { terms: null })).status, 403);

  const both = await Promise.all([0, 1].map(() => w.call(w.tokens.admin, 'POST', '/v1/what-if', { terms: null })));
  assert.deepEqual(both.map((r) => r.status).sort(), [200, 409]);
  assert.match(both.find((r) => r.status === 409)!.body.message, /a what-if replay asked by admin has been running since \d+: ask again when it is done/);
  // The service answered meanwhile, and still does.
  assert.equal((await w.call(w.tokens.alice, 'GET', '/v1/leases')).status, 200);
  await w.close();
});
