// Bandwidth as a leased resource through the API: a node says how much it leases (POST
// /v1/nodes bandwidthMbps, strictly checked), leases asking for bandwidthMbps share it as they
// share CPUs, a lease that asks for more than any node has is refused as exceeding the pool, and
// the node's bandwidth is kept across a restart.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease, T0 } from './api-world.ts';

const node = (id: string, over: Record<string, unknown> = {}) => ({ id, cpu: 4, memoryMiB: 8192, diskMiB: 10_000, bandwidthMbps: 100, ...over });

test('a node\'s bandwidth out of bounds or mistyped is refused with its path, and nothing is made', async () => {
  const w = await apiWorld(0);
  const before = await w.digest.digest();
  for (const bad of [0, -5, '100', null, 2e7, true]) {
    const res = await w.call(w.tokens.admin, 'POST', '/v1/nodes', node('bw-1', { bandwidthMbps: bad }));
    assert.deepEqual([res.status, res.body.code, res.body.path], [400, 'invalid-request', 'body.bandwidthMbps'], `bandwidthMbps ${JSON.stringify(bad)}: ${JSON.stringify(res.body)}`);
  }
  assert.deepEqual(await w.digest.digest(), before);
  await w.close();
});

test('leases share a node\'s bandwidth: one waits for it with CPUs free, one asking for none does not, one asking for more than any node is refused', async () => {
  const w = await apiWorld(0);
  const admin = w.tokens.admin;
  for (const id of ['bw-1', 'bw-2']) assert.equal((await w.call(admin, 'POST', '/v1/nodes', node(id))).status, 201);
  const nodeShown = async (id: string) => ((await w.call(admin, 'GET', '/v1/nodes')).body.nodes as Array<{ id: string; bandwidthMbps: number | null }>).find((n) => n.id === id);
  assert.equal((await nodeShown('bw-1'))?.bandwidthMbps, 100);

  const create = async (over: Record<string, unknown>) => {
    const res = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease(over));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.lease.id as string;
  };
  const a = await create({ bandwidthMbps: 80 });
  const b = await create({ bandwidthMbps: 80 });
  const c = await create({ bandwidthMbps: 80 });
  const plain = await create({});
  await w.idle();
  const status = async (id: string) => (await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}`)).body.status;
  assert.deepEqual([await status(a), await status(b), await status(c), await status(plain)], ['running', 'running', 'scheduled', 'running'],
    'two nodes of 100 Mbit/s hold two leases of 80; the third is planned after one of them, though each node has 3 CPUs free');

  const huge = await w.call(w.tokens.alice, 'POST', '/v1/leases/quote', lease({ kind: 'immediate', bandwidthMbps: 150 }));
  assert.equal(huge.body.ok, false, JSON.stringify(huge.body));
  assert.equal(huge.body.reason, 'exceeds-pool');
  assert.match(huge.body.message, /150 Mbit\/s/);

  await w.restart();
  assert.equal((await nodeShown('bw-2'))?.bandwidthMbps, 100, 'kept across a restart');
  assert.equal(await status(c), 'scheduled', 'the replayed scheduler still counts the bandwidth');
  await w.close();
});

test('a lease not yet begun changes its bandwidth through quote-change and change: more than a node has is refused, a mistyped one is a 400, and nothing changes', async () => {
  const w = await apiWorld(0);
  assert.equal((await w.call(w.tokens.admin, 'POST', '/v1/nodes', node('bw-1'))).status, 201);
  const later = T0 + 7200;
  const made = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ kind: 'exact', start: later, bandwidthMbps: 40 }));
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id = made.body.lease.id as string;
  const before = await w.digest.digest();
  for (const bad of ['60', 0, 1e6, null]) {
    const res = await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/change`, { bandwidthMbps: bad });
    assert.deepEqual([res.status, res.body.path], [400, 'body.bandwidthMbps'], JSON.stringify(res.body));
  }
  const tooMuch = await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/change`, { bandwidthMbps: 150 });
  assert.equal(tooMuch.body.code, 'exceeds-pool', JSON.stringify(tooMuch.body));
  assert.deepEqual(await w.digest.digest(), before, 'a refused change changes nothing');
  const quoted = await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/quote-change`, { bandwidthMbps: 90 });
  assert.equal(quoted.body.quote.ok, true, JSON.stringify(quoted.body));
  const changed = await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/change`, { bandwidthMbps: 90 });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.equal(changed.body.lease.spec.bandwidthMbps, 90);
  // Another lease of 20 Mbit/s at the same time no longer fits beside it on the one node.
  const beside = await w.call(w.tokens.alice, 'POST', '/v1/leases/quote', lease({ kind: 'exact', start: later, bandwidthMbps: 20 }));
  assert.equal(beside.body.ok, false, JSON.stringify(beside.body));
  await w.close();
});
