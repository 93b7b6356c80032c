// A lease whose promise the pool broke, on a site of two back-ends (the simulated pool, and a
// `cloud` whose billing admits alice alone): it is offered the same lease on the cloud, in GET and
// in the event stream; its owner takes it with a change naming the back-end, priced as the cloud
// prices; the lease then lives and runs on the cloud. Hostile changes are refused, nothing changed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leaseDetail } from '../../src/cli/client/lease-text.ts';
import { apiWorld, lease, T0 } from './api-world.ts';

test('evacuated off the pool, a reservation is offered the cloud; its owner takes the offer and it runs there', async () => {
  const w = await apiWorld(2, undefined, 'sqlite', { burst: true });
  const start = T0 + 3600;
  const a = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ kind: 'exact', nodes: 2, start, duration: 3600, backend: 'simulated' }))).body.lease;
  const b = (await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ kind: 'exact', nodes: 2, start: start + 4 * 3600, duration: 3600 }))).body.lease;
  const c = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ kind: 'exact', nodes: 1, start: start + 10 * 3600, duration: 3600, backend: 'simulated' }))).body.lease;
  await w.idle();
  assert.equal((await w.call(w.tokens.admin, 'POST', '/v1/nodes/n1/evacuate')).status, 200);
  await w.idle();

  const shown = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${a.id}`)).body;
  assert.equal(shown.status, 'renegotiating');
  assert.equal(shown.backend, 'simulated');
  const offer = shown.reason.offers.find((o: { kind: string }) => o.kind === 'other-backend');
  assert.ok(offer, JSON.stringify(shown.reason.offers));
  assert.deepEqual(offer.change, { backend: 'cloud', duration: 3600, start: offer.start });
  assert.equal(shown.reason.offers.at(-1), offer, 'after the pool\'s own offers');
  assert.match(leaseDetail(shown), new RegExp(`other-backend, runs .*: vws lease change ${a.id} --backend cloud --duration 3600 --start ${offer.start}$`, 'm'), 'vws lease show gives the offer as a command');
  const told = (await w.store.eventsAfter(0, 1000)).find((e) => e.type === 'lease.renegotiating' && e.leaseId === a.id);
  assert.deepEqual((told?.data as { offers: unknown }).offers, shown.reason.offers, 'the event stream carries the same offers');
  const bob = (await w.call(w.tokens.bob, 'GET', `/v1/leases/${b.id}`)).body;
  assert.equal(bob.status, 'renegotiating');
  assert.ok(bob.reason.offers.every((o: { kind: string }) => o.kind !== 'other-backend'), 'bob has no account on the cloud: no offer there');

  // Hostile changes: refused with their reasons, and nothing written.
  const before = await w.digest.digest();
  const unknown = await w.call(w.tokens.alice, 'POST', `/v1/leases/${a.id}/change`, { backend: 'mars' });
  assert.deepEqual([unknown.status, unknown.body.code], [400, 'invalid-request']);
  assert.match(unknown.body.message, /no back-end 'mars': this site has simulated, cloud/);
  const same = await w.call(w.tokens.alice, 'POST', `/v1/leases/${a.id}/change`, { backend: 'simulated' });
  assert.deepEqual([same.status, same.body.code], [400, 'invalid-request']);
  assert.match(same.body.message, /already: name another \(cloud\)/);
  const notString = await w.call(w.tokens.alice, 'POST', `/v1/leases/${a.id}/change`, { backend: 7 });
  assert.equal(notString.status, 400);
  const empty = await w.call(w.tokens.alice, 'POST', `/v1/leases/${a.id}/change`, { backend: '' });
  assert.equal(empty.status, 400);
  const notRenegotiating = await w.call(w.tokens.alice, 'POST', `/v1/leases/${c.id}/change`, { backend: 'cloud' });
  assert.deepEqual([notRenegotiating.status, notRenegotiating.body.code], [409, 'wrong-state']);
  assert.match(notRenegotiating.body.message, /only while it renegotiates/);
  const noAccount = await w.call(w.tokens.bob, 'POST', `/v1/leases/${b.id}/change`, { backend: 'cloud' });
  assert.deepEqual([noAccount.status, noAccount.body.code], [409, 'policy']);
  assert.match(noAccount.body.message, /may not run on cloud: no account/);
  const notHers = await w.call(w.tokens.bob, 'POST', `/v1/leases/${a.id}/change`, offer.change);
  assert.equal(notHers.status, 404, 'another user\'s lease, as for any change');
  assert.equal(await w.digest.digest(), before, 'nothing was written');

  const quote = await w.call(w.tokens.alice, 'POST', `/v1/leases/${a.id}/quote-change`, offer.change);
  assert.equal(quote.status, 200, JSON.stringify(quote.body));
  assert.deepEqual([quote.body.quote.start, quote.body.quote.nodes], [offer.start, ['cloud-1', 'cloud-2']]);
  assert.deepEqual(quote.body.quote.priceBefore, { amount: 2, unit: 'SU' }, 'two core-hours on the pool');
  assert.equal(quote.body.quote.price.amount, 20, 'two VM-hours at a dollar, ten units a dollar, as the cloud prices');

  const took = await w.call(w.tokens.alice, 'POST', `/v1/leases/${a.id}/change`, offer.change);
  assert.equal(took.status, 200, JSON.stringify(took.body));
  assert.equal(took.body.change.start, offer.start, 'placed as offered');
  assert.equal(took.body.lease.backend, 'cloud');
  assert.equal(took.body.lease.reason, null);
  await w.idle();
  w.clock.advance(offer.start - T0 + 60);
  await w.call(w.tokens.alice, 'POST', '/v1/leases/quote', lease());
  await w.idle();
  const running = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${a.id}`)).body;
  assert.deepEqual([running.status, running.backend, [...running.nodes].sort()], ['running', 'cloud', ['cloud-1', 'cloud-2']]);
  const listed = (await w.call(w.tokens.admin, 'GET', '/v1/leases?limit=100')).body.leases.filter((l: { id: string }) => l.id === a.id);
  assert.equal(listed.length, 1, 'one lease, on the cloud');

  const all = async () => (await w.call(w.tokens.admin, 'GET', '/v1/leases?limit=100')).body.leases.map((l: { id: string; status: string; backend: string }) => [l.id, l.status, l.backend]);
  const now = await all();
  await w.restart();
  assert.deepEqual(await all(), now, 'a replay moves it the same way');
  await w.close();
});
