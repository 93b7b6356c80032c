import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease, T0 } from './api-world.ts';

test('every endpoint but /v1/health needs a valid token', async () => {
  const w = await apiWorld();
  assert.equal((await w.call(null, 'GET', '/v1/health')).status, 200);
  for (const [method, url] of [['GET', '/v1/leases'], ['POST', '/v1/leases'], ['GET', '/v1/openapi.json'], ['GET', '/metrics'], ['GET', '/v1/nodes'], ['GET', '/v1/events']]) {
    const r = await w.call(null, method, url, method === 'POST' ? lease() : undefined);
    assert.equal(r.status, 401, `${method} ${url}`);
    assert.equal(r.body.code, 'unauthorized');
    assert.equal((await w.call('not-a-token', method, url)).status, 401);
  }
  await w.close();
});

test('a lease is created, seen by its owner, its group and admins, and not by others', async () => {
  const w = await apiWorld();
  const mine = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease());
  assert.equal(mine.status, 201, JSON.stringify(mine.body));
  const shared = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ group: 'lab' }));
  const id = mine.body.lease.id;
  assert.equal((await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}`)).body.status, 'running');
  assert.equal((await w.call(w.tokens.bob, 'GET', `/v1/leases/${id}`)).status, 404);
  assert.equal((await w.call(w.tokens.carol, 'GET', `/v1/leases/${id}`)).status, 404, 'not shared with the group');
  assert.equal((await w.call(w.tokens.carol, 'GET', `/v1/leases/${shared.body.lease.id}`)).status, 200, 'shared with the group');
  assert.equal((await w.call(w.tokens.admin, 'GET', `/v1/leases/${id}`)).status, 200);
  assert.deepEqual((await w.call(w.tokens.bob, 'GET', '/v1/leases')).body.leases, []);
  assert.equal((await w.call(w.tokens.alice, 'GET', '/v1/leases')).body.leases.length, 2);
  assert.equal((await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ group: 'lab' }))).status, 403, 'bob is not in lab');
  await w.close();
});

test('bad and impossible requests get a 4xx with a reason and change nothing', async () => {
  const w = await apiWorld();
  await w.call(w.tokens.admin, 'POST', '/v1/images', { name: 'deb', sizeMiB: 10, sha256: 'a'.repeat(64) });
  const inputs = (await w.store.inputs()).length;
  const cases: Array<[unknown, number, string, RegExp]> = [
    [lease({ colour: 'red' }), 400, 'invalid-request', /body\.colour: unknown field 'colour'/],
    [lease({ duration: 0 }), 400, 'invalid-request', /body\.duration/],
    [lease({ nodes: 'two' }), 400, 'invalid-request', /body\.nodes/],
    [lease({ image: 'nope' }), 422, 'unknown-image', /no image 'nope': register it first/],
    [lease({ nodes: 9 }), 422, 'exceeds-pool', /the pool has 4/],
    [lease({ kind: 'exact' }), 400, 'invalid-request', /needs its start/],
    [lease({ kind: 'exact', start: T0 - 60 }), 409, 'too-late', /cannot begin before now/],
  ];
  for (const [body, status, code, message] of cases) {
    const r = await w.call(w.tokens.alice, 'POST', '/v1/leases', body);
    assert.equal(r.status, status, JSON.stringify([body, r.body]));
    assert.equal(r.body.code, code);
    assert.match(r.body.message, message);
  }
  assert.deepEqual((await w.call(w.tokens.admin, 'GET', '/v1/leases')).body.leases, []);
  assert.equal((await w.store.inputs()).length, inputs);
  await w.close();
});

test('a refused reservation comes with alternatives a client can send back as they are', async () => {
  const w = await apiWorld(2);
  assert.equal((await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ kind: 'exact', start: T0 + 3600, nodes: 2 }))).status, 201);
  const ask = lease({ kind: 'exact', start: T0 + 3600, nodes: 2, duration: 1800 });
  const quote = await w.call(w.tokens.alice, 'POST', '/v1/leases/quote', ask);
  assert.equal(quote.body.ok, false);
  const refused = await w.call(w.tokens.alice, 'POST', '/v1/leases', ask);
  assert.equal(refused.status, 409);
  assert.equal(refused.body.earliestStart, T0 + 7200);
  assert.deepEqual(refused.body.alternatives.map((a: { kind: string }) => a.kind), ['later-start']);
  const again = await w.call(w.tokens.alice, 'POST', '/v1/leases', refused.body.alternatives[0].request);
  assert.equal(again.status, 201, JSON.stringify(again.body));
  assert.equal(again.body.lease.plannedStart, T0 + 7200);
  await w.close();
});

test('an Idempotency-Key makes a retried create return the first lease, and refuses another request under it', async () => {
  const w = await apiWorld();
  const h = { 'idempotency-key': 'k1' };
  const first = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease(), h);
  assert.equal(first.status, 201);
  w.clock.advance(30);
  // The same request later, its fields in another order: a retry.
  const { duration, ...rest } = lease();
  const retry = await w.call(w.tokens.alice, 'POST', '/v1/leases', { duration, ...rest }, h);
  assert.deepEqual([retry.status, retry.body.lease.id], [200, first.body.lease.id]);
  const other = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ nodes: 2 }), h);
  assert.deepEqual([other.status, other.body.code], [422, 'idempotency-key-reused']);
  assert.match(other.body.message, new RegExp(`already made lease '${first.body.lease.id}' from another request: send a new key`));
  assert.equal((await w.call(w.tokens.alice, 'GET', '/v1/leases')).body.leases.length, 1);
  await w.close();
});

test('hold, commit, expiry and cancel', async () => {
  const w = await apiWorld(2);
  const held = await w.call(w.tokens.alice, 'POST', '/v1/leases/hold', { lease: lease({ kind: 'exact', start: T0 + 3600, nodes: 2 }), ttl: 600 });
  assert.equal(held.status, 201, JSON.stringify(held.body));
  assert.equal(held.body.lease.status, 'held');
  const other = await w.call(w.tokens.bob, 'POST', '/v1/leases/hold', { lease: lease({ kind: 'exact', start: T0 + 3600, nodes: 1 }), ttl: 600 });
  assert.equal(other.status, 409, 'two holds never get the same resources');
  const id = held.body.lease.id;
  assert.equal((await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/commit`)).body.lease.status, 'scheduled');
  const second = await w.call(w.tokens.alice, 'POST', '/v1/leases/hold', { lease: lease({ kind: 'exact', start: T0 + 7200, nodes: 2 }), ttl: 600 });
  w.clock.advance(601);
  await w.service.idle();
  const expired = await w.call(w.tokens.alice, 'GET', `/v1/leases/${second.body.lease.id}`);
  assert.equal(expired.body.status, 'cancelled');
  assert.equal((await w.call(w.tokens.alice, 'POST', `/v1/leases/${second.body.lease.id}/commit`)).status, 409);
  const cancelled = await w.call(w.tokens.alice, 'DELETE', `/v1/leases/${id}`);
  assert.equal(cancelled.body.lease.status, 'cancelled');
  assert.equal((await w.call(w.tokens.alice, 'DELETE', `/v1/leases/${id}`)).status, 409);
  assert.equal((await w.call(w.tokens.bob, 'DELETE', `/v1/leases/${id}`)).status, 404);
  await w.close();
});

test('a lease kind that cannot be held is refused before anything is written, and the service still restarts', async () => {
  const w = await apiWorld();
  const inputs = (await w.store.inputs()).length;
  for (const kind of ['best-effort', 'immediate', 'urgent']) {
    const r = await w.call(w.tokens.alice, 'POST', '/v1/leases/hold', { lease: lease({ kind }), ttl: 60 });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.message, /cannot be held/);
  }
  const refused = await w.service.hold('alice', null, { id: 'x', kind: 'immediate', arrival: 0, requestedStart: null, duration: 60, nodes: 1, perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, preemptible: false }, 60);
  assert.ok(!refused.ok && refused.code === 'invalid-request' && /cannot be held/.test(refused.message), JSON.stringify(refused));
  assert.equal((await w.store.inputs()).length, inputs);
  assert.equal((await w.call(w.tokens.alice, 'GET', '/v1/leases?status=bogus')).status, 400);
  await w.close();
});

test('the OpenAPI document describes the routes with the schemas that validate them', async () => {
  const w = await apiWorld();
  const doc = (await w.call(w.tokens.alice, 'GET', '/v1/openapi.json')).body;
  assert.equal(doc.openapi, '3.1.0');
  const create = doc.paths['/v1/leases'].post;
  assert.equal(create.requestBody.content['application/json'].schema.additionalProperties, false);
  assert.deepEqual(Object.keys(create.requestBody.content['application/json'].schema.properties).sort(), ['backend', 'bandwidthMbps', 'cpu', 'deadline', 'diskIops', 'diskMBps', 'diskMiB', 'duration', 'group', 'image', 'kind', 'memoryMiB', 'nodes', 'preemptible', 'recurrence', 'roles', 'sshPublicKeys', 'start', 'userData']);
  assert.ok(doc.paths['/v1/leases/{id}'].get);
  assert.equal(doc.paths['/v1/health'].get.security, undefined);
  await w.close();
});
