// A promise the service must break (the node under a running reservation is lost): the lease is
// not failed outright; it renegotiates, its offers shown in the API and the event stream; its
// owner takes one through the change route, or the site's default cancels it in time.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease, T0 } from './api-world.ts';

test('a reservation whose node is lost renegotiates: its owner sees the offers and takes one; another, left alone, is cancelled when its time runs out', async () => {
  const w = await apiWorld();
  const a = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ kind: 'exact', nodes: 1, start: T0, duration: 7200 }))).body.lease;
  const b = (await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ kind: 'exact', nodes: 1, start: T0, duration: 7200 }))).body.lease;
  await w.idle();
  w.clock.advance(60);
  const onA = (await w.call(w.tokens.admin, 'GET', `/v1/leases/${a.id}`)).body.nodes[0];
  const onB = (await w.call(w.tokens.admin, 'GET', `/v1/leases/${b.id}`)).body.nodes[0];
  await w.service.pool.markNodeUnavailable(onA);
  if (onB !== onA) await w.service.pool.markNodeUnavailable(onB);
  await w.idle();

  const shown = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${a.id}`)).body;
  assert.equal(shown.status, 'renegotiating');
  assert.equal(shown.reason.code, 'node-unavailable');
  assert.equal(shown.reason.until, T0 + 60 + 900, 'the site\'s default: 15 minutes to choose');
  assert.ok(shown.reason.offers.length > 0, JSON.stringify(shown.reason));
  const events = await w.store.eventsAfter(0, 1000);
  const told = events.find((e) => e.type === 'lease.renegotiating' && e.leaseId === a.id);
  assert.deepEqual((told?.data as { offers: unknown }).offers, shown.reason.offers, 'the event stream carries the same offers');
  assert.equal(told?.owner, 'alice');
  assert.deepEqual((await w.call(w.tokens.alice, 'GET', '/v1/leases?status=renegotiating')).body.leases.map((l: { id: string }) => l.id), [a.id]);

  const offer = shown.reason.offers[0];
  const took = await w.call(w.tokens.alice, 'POST', `/v1/leases/${a.id}/change`, offer.change);
  assert.equal(took.status, 200, JSON.stringify(took.body));
  assert.equal(took.body.change.start, offer.start, 'placed as offered');
  assert.ok(['scheduled', 'deploying', 'running'].includes(took.body.lease.status), took.body.lease.status);
  assert.equal(took.body.lease.reason, null, 'the broken promise is behind it');

  w.clock.advance(901);
  await w.call(w.tokens.bob, 'POST', '/v1/leases/quote', lease());
  await w.idle();
  const left = (await w.call(w.tokens.bob, 'GET', `/v1/leases/${b.id}`)).body;
  assert.equal(left.status, 'failed');
  assert.match(left.reason.message, /became unavailable.*no offer was taken by \d+.*default is to cancel/);
  const before = (await w.call(w.tokens.admin, 'GET', '/v1/leases?limit=100')).body.leases.map((l: { id: string; status: string }) => [l.id, l.status]);
  await w.restart();
  assert.deepEqual((await w.call(w.tokens.admin, 'GET', '/v1/leases?limit=100')).body.leases.map((l: { id: string; status: string }) => [l.id, l.status]), before, 'a replay renegotiates the same way');
  await w.close();
});

test('an administrator evacuates a node: what is planned there moves to other nodes as it is, or renegotiates; users may not', async () => {
  const w = await apiWorld(2);
  const soon = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ kind: 'exact', nodes: 1, start: T0 + 3600, duration: 3600 }))).body.lease;
  const wide = (await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ kind: 'exact', nodes: 2, start: T0 + 4 * 3600, duration: 3600 }))).body.lease;
  await w.idle();
  const on = (await w.call(w.tokens.admin, 'GET', `/v1/leases/${soon.id}`)).body.nodes[0];
  assert.equal((await w.call(w.tokens.alice, 'POST', `/v1/nodes/${on}/evacuate`)).status, 403);
  const r = await w.call(w.tokens.admin, 'POST', `/v1/nodes/${on}/evacuate`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual([r.body.moved, r.body.renegotiating], [[soon.id], [wide.id]]);
  await w.idle();
  const moved = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${soon.id}`)).body;
  assert.deepEqual([moved.status, moved.plannedStart, moved.nodes.includes(on)], ['scheduled', T0 + 3600, false]);
  const left = (await w.call(w.tokens.bob, 'GET', `/v1/leases/${wide.id}`)).body;
  assert.equal(left.status, 'renegotiating');
  assert.equal(left.reason.code, 'node-drained');
  await w.close();
});
