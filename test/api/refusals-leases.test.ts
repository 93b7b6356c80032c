// Every refusal of the lease routes, through the real server on SQLite: its code, and the status
// the one table gives that code. A refused request writes nothing to the input log.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease, T0 } from './api-world.ts';
import { assertRefused } from './refusal-assert.ts';

/** What the scheduler was told, but the ticks that bring it to the time a request was asked at. */
const told = async (w: { store: { inputs(): Promise<Array<{ type: string }>> } }) => (await w.store.inputs()).filter((i) => i.type !== 'tick').length;

test('creating and holding a lease: each refusal with its code, its status and nothing written', async () => {
  const w = await apiWorld();
  const a = w.tokens.alice;
  const inputs = (await told(w));
  assertRefused(await w.call(null, 'POST', '/v1/leases', lease()), 'unauthorized');
  assertRefused(await w.call('not-a-token', 'POST', '/v1/leases', lease()), 'unauthorized');
  const noStart = await w.call(a, 'POST', '/v1/leases', lease({ kind: 'exact' }));
  assertRefused(noStart, 'invalid-request');
  assert.equal(noStart.body.path, 'body.start');
  assertRefused(await w.call(a, 'POST', '/v1/leases', lease({ colour: 'red' })), 'invalid-request', 'an unknown field');
  assertRefused(await w.call(a, 'POST', '/v1/leases', lease({ group: 'staff' })), 'forbidden', 'not a member of the group');
  assertRefused(await w.call(a, 'POST', '/v1/leases', lease({ image: 'nope' })), 'unknown-image');
  const big = await w.call(a, 'POST', '/v1/leases', lease({ nodes: 5 }));
  assertRefused(big, 'exceeds-pool');
  assert.equal(big.body.earliestStart, null);
  assertRefused(await w.call(a, 'POST', '/v1/leases', lease({ kind: 'exact', start: T0 - 100, duration: 60 })), 'too-late');
  assertRefused(await w.call(a, 'POST', '/v1/leases', lease({ kind: 'periodic', start: T0 + 100, recurrence: { period: 60, count: 3 } })), 'invalid', 'occurrences would overlap');
  assertRefused(await w.call(a, 'POST', '/v1/leases/hold', { lease: lease(), ttl: 60 }), 'invalid-request', 'a best-effort lease cannot be held');
  assertRefused(await w.call(a, 'POST', '/v1/leases/hold', { lease: lease({ kind: 'exact', start: T0 + 1000 }), ttl: 0 }), 'invalid-request', 'a hold of 0 s');
  // A hold of what would begin at once holds nothing: refused like any other, with no lease made (it was a 201 with a rejected lease).
  assertRefused(await w.call(a, 'POST', '/v1/leases/hold', { lease: lease({ kind: 'exact', start: T0 }), ttl: 600 }), 'too-late', 'a hold that would begin now');
  assert.equal((await told(w)), inputs, 'no refused request reached the input log');
  assert.deepEqual((await w.store.listLeases()).map((l) => l.status), [], 'no lease was made by a refused request');

  assert.equal((await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ kind: 'exact', nodes: 4, start: T0 + 1000 }))).status, 201);
  const full = await w.call(a, 'POST', '/v1/leases', lease({ kind: 'exact', start: T0 + 1000 }));
  assertRefused(full, 'insufficient-capacity');
  assert.ok(full.body.earliestStart >= T0 + 1000 + 3600, JSON.stringify(full.body));
  assert.ok(full.body.alternatives.length > 0);
  assert.equal(full.body.alternatives[0].request.kind, 'exact', 'alternatives come as lease specs a client can send');
  const heldFull = await w.call(a, 'POST', '/v1/leases/hold', { lease: lease({ kind: 'exact', start: T0 + 1000 }), ttl: 60 });
  assertRefused(heldFull, 'insufficient-capacity');
  await w.close();
});

test('acting on a lease: not-found, forbidden, wrong-state and policy, each with its status', async () => {
  const w = await apiWorld();
  const a = w.tokens.alice;
  const exact = (await w.call(a, 'POST', '/v1/leases', lease({ kind: 'exact', start: T0 + 1000, group: 'lab' }))).body.lease.id;
  const be = (await w.call(a, 'POST', '/v1/leases', lease())).body.lease.id;
  await w.service.idle();
  const inputs = (await told(w));
  for (const [method, url] of [['GET', '/v1/leases/l-none'], ['DELETE', '/v1/leases/l-none'], ['POST', '/v1/leases/l-none/commit'], ['POST', '/v1/leases/l-none/stop'], ['GET', `/v1/leases/${be}/workspaces/7`]]) {
    assertRefused(await w.call(a, method, url), 'not-found', `${method} ${url}`);
  }
  assertRefused(await w.call(w.tokens.bob, 'POST', `/v1/leases/${be}/suspend`), 'not-found', 'someone else\'s lease is not there for bob');
  assertRefused(await w.call(w.tokens.carol, 'POST', `/v1/leases/${exact}/stop`), 'forbidden', 'carol sees the lab\'s lease but does not own it');
  assertRefused(await w.call(a, 'POST', `/v1/leases/${exact}/commit`), 'wrong-state', 'a lease that is not held');
  assertRefused(await w.call(a, 'POST', `/v1/leases/${exact}/stop`), 'wrong-state', 'not running yet');
  assertRefused(await w.call(a, 'POST', `/v1/leases/${exact}/suspend`), 'policy', 'a reservation is not suspended by its owner');
  assertRefused(await w.call(a, 'POST', `/v1/leases/${be}/resume`), 'wrong-state', 'not suspended');
  assertRefused(await w.call(a, 'POST', `/v1/leases/${be}/suspend`), 'wrong-state', 'in the second its run began');
  w.clock.advance(1);
  assert.equal((await w.call(a, 'POST', `/v1/leases/${be}/suspend`)).status, 200);
  assertRefused(await w.call(a, 'POST', `/v1/leases/${be}/workspaces/0/suspend`), 'wrong-state', 'already suspended');
  const before = (await told(w));
  assert.equal(before, inputs + 1, 'only the suspension was logged');
  assert.equal((await w.call(a, 'DELETE', `/v1/leases/${exact}`)).status, 200);
  const again = await w.call(a, 'DELETE', `/v1/leases/${exact}`);
  assertRefused(again, 'wrong-state', 'cancelled twice');
  assert.match(again.body.message, /has already ended \(cancelled\)/);
  await w.close();
});

test('moving a lease: every refusal of a live migration has its own code', async () => {
  const w = await apiWorld(3);
  const a = w.tokens.alice;
  const admin = w.tokens.admin;
  const first = (await w.call(a, 'POST', '/v1/leases', lease())).body.lease.id;
  const second = (await w.call(a, 'POST', '/v1/leases', lease())).body.lease.id;
  const queued = (await w.call(a, 'POST', '/v1/leases', lease({ nodes: 3 }))).body.lease.id;
  const exact = (await w.call(a, 'POST', '/v1/leases', lease({ kind: 'exact', start: T0 + 100_000 }))).body.lease.id;
  await w.service.idle();
  w.clock.advance(60);
  const nodes = async (id: string) => (await w.call(admin, 'GET', `/v1/leases/${id}`)).body.nodes as string[];
  const [from] = await nodes(first);
  const [busy] = await nodes(second);
  const free = ['n1', 'n2', 'n3'].find((n) => n !== from && n !== busy)!;
  const inputs = (await told(w));
  const migrate = (id: string, to: string[], token = admin) => w.call(token, 'POST', `/v1/leases/${id}/migrate`, { nodes: to });
  assertRefused(await migrate(first, [free], a), 'forbidden');
  assertRefused(await migrate('l-none', [free]), 'not-found');
  assertRefused(await migrate(first, ['nowhere']), 'unknown-node');
  assertRefused(await migrate(first, [from]), 'invalid-request', 'where it already runs');
  assertRefused(await migrate(first, [free, busy]), 'invalid-request', 'two nodes for a lease on one');
  assertRefused(await migrate(first, [busy]), 'insufficient-capacity', 'the other lease is there');
  assertRefused(await migrate(queued, [free, from, busy]), 'wrong-state', 'a queued lease does not run');
  assertRefused(await migrate(exact, [free]), 'policy', 'a reservation keeps its nodes');
  assert.equal((await w.call(admin, 'POST', `/v1/nodes/${free}/drain`)).status, 200);
  const drainedAt = (await told(w));
  assertRefused(await migrate(first, [free]), 'node-unavailable', 'a draining node takes no new work');
  assert.equal((await told(w)), drainedAt, 'no refused migration reached the input log');
  assert.equal(drainedAt, inputs + 1, 'only the drain was logged');
  await w.close();
});
