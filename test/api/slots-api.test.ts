// GET /v1/slots, the slot table the dashboard draws: every lease's segments in a window, on the
// pool's nodes by index; a user sees its own leases and those its groups share by name, the others
// as busy (no id, no owner); the window is checked as every other input is.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease, T0 } from './api-world.ts';

test('the slot table shows each caller its own and shared leases by name and the others as busy, in the window asked', async () => {
  const w = await apiWorld(2);
  const mine = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ group: 'lab' }))).body.lease.id;
  const theirs = (await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({}))).body.lease.id;
  const ar = (await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ kind: 'exact', start: T0 + 7200, duration: 600 }))).body.lease.id;
  await w.idle();
  const alice = await w.call(w.tokens.alice, 'GET', '/v1/slots');
  assert.equal(alice.status, 200, JSON.stringify(alice.body));
  assert.deepEqual([alice.body.now, alice.body.from, alice.body.to], [T0, T0 - 3600, T0 + 86_400], 'an hour back to a day ahead by default');
  assert.deepEqual(alice.body.nodes.map((n: { id: string; status: string }) => [n.id, n.status]), [['n1', 'active'], ['n2', 'active']]);
  const byOwner = (body: { leases: Array<{ id: string | null; owner: string | null; kind: string }> }) => body.leases.map((l) => [l.id, l.owner, l.kind]);
  assert.deepEqual(byOwner(alice.body), [[mine, 'alice', 'best-effort'], [null, null, 'best-effort'], [null, null, 'exact']]);
  const own = alice.body.leases[0];
  assert.equal(own.status, 'running');
  assert.ok(own.segments.length > 0 && own.segments.every(([kind, start, end, nodes]: [string, number, number, number[]]) => typeof kind === 'string' && start < end && nodes.every((n) => n === 0 || n === 1)), JSON.stringify(own.segments));
  assert.ok(!JSON.stringify(alice.body).includes(theirs) && !JSON.stringify(alice.body).includes(ar) && !JSON.stringify(alice.body).includes('bob'), 'nothing of bob\'s leases but their shape');
  // carol shares group lab with alice: she sees alice's lease by name.
  assert.deepEqual(byOwner((await w.call(w.tokens.carol, 'GET', '/v1/slots')).body)[0], [mine, 'alice', 'best-effort']);
  assert.deepEqual(byOwner((await w.call(w.tokens.admin, 'GET', '/v1/slots')).body), [[mine, 'alice', 'best-effort'], [theirs, 'bob', 'best-effort'], [ar, 'bob', 'exact']]);
  // A window after the reservation holds nothing of it.
  const later = await w.call(w.tokens.admin, 'GET', `/v1/slots?from=${T0 + 7200 + 600}&to=${T0 + 7200 + 700}`);
  assert.ok(!later.body.leases.some((l: { id: string }) => l.id === ar));
  await w.close();
});

test('a window that ends before it starts, is longer than 366 days, or is not made of instants is refused, saying why', async () => {
  const w = await apiWorld(1);
  const cases: Array<[string, RegExp]> = [
    [`from=${T0}&to=${T0}`, /to \(\d+\) must be after from/],
    [`from=${T0}&to=${T0 + 367 * 86_400}`, /a window is at most 31622400 seconds \(366 days\)/],
    ['from=yesterday', /from/],
    ['to=-5', /to/],
    [`to=${5_000_000_000}`, /to/],
    ['after=3', /after|additional/],
  ];
  for (const [query, message] of cases) {
    const r = await w.call(w.tokens.alice, 'GET', `/v1/slots?${query}`);
    assert.deepEqual([r.status, r.body.code], [400, 'invalid-request'], query);
    assert.match(r.body.message, message, query);
  }
  assert.equal((await w.call(null, 'GET', '/v1/slots')).status, 401);
  await w.close();
});
