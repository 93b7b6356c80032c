// A store whose writes fail is the server's trouble, not the caller's: every route answers 503
// store-unavailable (never a 4xx), and nothing half-made is left in the store or in a service
// restarted on it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configWith } from '../../src/core/config.ts';
import { LeaseService } from '../../src/control/lease-service.ts';
import { SimulatedDriver } from '../../src/drivers/simulated/simulated-driver.ts';
import { guardStore, StoreUnavailable } from '../../src/store/store-failure.ts';
import type { Store } from '../../src/store/store.ts';
import { apiWorld, lease } from './api-world.ts';
import { assertRefused } from './refusal-assert.ts';

/** The store, but the methods named in `failing` throw as a full disk would. */
function breakable(store: Store): { store: Store; failing: Set<string> } {
  const failing = new Set<string>();
  const wrapped = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (failing.has(String(prop))) return Promise.reject(new Error(`SQLITE_FULL: database or disk is full (in ${String(prop)})`));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: wrapped, failing };
}

async function brokenWorld(nodes = 4) {
  let failing!: Set<string>;
  const w = await apiWorld(nodes, (s) => {
    const b = breakable(s);
    failing = b.failing;
    return b.store;
  });
  return { w, failing };
}

/** The leases a service restarted on the store has: a replay of the input log rebuilds them. */
async function replayedLeases(store: Store): Promise<string[]> {
  const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 } });
  const clock = { now: () => 1_800_000_000, at: () => () => {} };
  const service = await LeaseService.open({ store, driver, clock, config: configWith({}) });
  const ids = service.scheduler.allLeases().map((l) => l.req.id);
  await service.close();
  await driver.close();
  return ids;
}

test('a lease create whose store write fails answers 503 and leaves no lease, input or idempotency key behind', async () => {
  const { w, failing } = await brokenWorld();
  const kept = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease())).body.lease.id;
  const inputs = (await w.store.inputs()).length;
  failing.add('putLease');
  const res = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease(), { 'idempotency-key': 'k1' });
  assertRefused(res, 'store-unavailable');
  // The database's own words are in the server's log, not in the answer.
  assert.match(res.body.message, /^the store is unavailable; the request changed nothing \(the server's log has the cause under request /);
  assert.doesNotMatch(res.body.message, /disk is full/);
  failing.clear();
  assert.deepEqual((await w.store.listLeases()).map((l) => l.id), [kept]);
  assert.equal((await w.store.inputs()).length, inputs, 'the submit was rolled back with the lease row');
  assert.equal(await w.store.idempotentResponse('alice', 'k1'), null);
  // The scheduler heard the input the store lost: the service takes nothing more until restarted.
  const after = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease());
  assertRefused(after, 'store-unavailable');
  assert.match(after.body.message, /takes nothing until an administrator restarts it/);
  assert.deepEqual(await replayedLeases(w.store), [kept], 'a restart has only the lease that was kept');
  await w.close();
});

test('an owner\'s action and a cancel whose store write fails answer 503 and change nothing', async () => {
  const { w, failing } = await brokenWorld();
  const id = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease())).body.lease.id;
  await w.service.idle();
  const row = await w.store.getLease(id);
  assert.equal(row!.status, 'running');
  // A second into its run (a suspend in its first second is refused), and the service brought there by a quote.
  w.clock.advance(1);
  assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/leases/quote', lease())).status, 200);
  await w.service.idle();
  const inputs = (await w.store.inputs()).length;
  const events = await w.store.lastEventId();
  failing.add('appendEvent');
  assertRefused(await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/suspend`), 'store-unavailable', 'not the old 409 cannot-suspend');
  failing.clear();
  assert.deepEqual(await w.store.getLease(id), row, 'the lease row is as it was');
  assert.equal((await w.store.inputs()).length, inputs);
  assert.equal(await w.store.lastEventId(), events);
  assertRefused(await w.call(w.tokens.alice, 'DELETE', `/v1/leases/${id}`), 'store-unavailable', 'the service stopped: restart it');
  assert.deepEqual(await replayedLeases(w.store), [id]);
  await w.close();
});

test('node routes answer a failing store with 503, not the 404 or 409 they once guessed from the message', async () => {
  const { w, failing } = await brokenWorld(2);
  assert.equal((await w.call(w.tokens.admin, 'POST', '/v1/nodes/n1/drain')).status, 200);
  failing.add('putNode');
  assertRefused(await w.call(w.tokens.admin, 'DELETE', '/v1/nodes/n1'), 'store-unavailable', 'was 404 or 409 by message text');
  failing.clear();
  assert.equal((await w.store.getNode('n1'))!.status, 'draining', 'not removed');
  failing.add('putNode');
  assertRefused(await w.call(w.tokens.admin, 'POST', '/v1/nodes/n2/drain'), 'store-unavailable', 'was 404 for any error');
  failing.clear();
  assert.equal((await w.store.getNode('n2'))!.status, 'active', 'not drained');
  assert.deepEqual((await w.store.inputs()).filter((i) => i.type === 'node-drain').map((i) => (i.data as { id: string }).id), ['n1'], 'the drain of n2 was rolled back');
  await w.close();
});

test('adding a node whose store write fails answers 503 and leaves no node', async () => {
  const { w, failing } = await brokenWorld(1);
  failing.add('putNode');
  assertRefused(await w.call(w.tokens.admin, 'POST', '/v1/nodes', { id: 'n9', cpu: 1, memoryMiB: 1024 }), 'store-unavailable');
  failing.clear();
  assert.equal(await w.store.getNode('n9'), null);
  assert.equal((await w.store.inputs()).filter((i) => i.type === 'node-add').length, 1, 'only n1 was ever added');
  await w.close();
});

test('admin, image and event routes, and the token check itself, answer a failing store with 503', async () => {
  const { w, failing } = await brokenWorld(1);
  failing.add('putUser').add('putGroup').add('putImage').add('eventsAfter');
  assertRefused(await w.call(w.tokens.admin, 'POST', '/v1/users', { name: 'eve' }), 'store-unavailable');
  assertRefused(await w.call(w.tokens.admin, 'POST', '/v1/groups', { name: 'ops' }), 'store-unavailable');
  assertRefused(await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'disk', sizeMiB: 1, sha256: 'b'.repeat(64) }), 'store-unavailable');
  assertRefused(await w.call(w.tokens.alice, 'GET', '/v1/events'), 'store-unavailable');
  failing.clear();
  assert.equal(await w.store.getUser('eve'), null);
  assert.equal(await w.store.getGroup('ops'), null);
  assert.equal(await w.store.getImage('disk'), null);
  failing.add('tokenByHash');
  assertRefused(await w.call(w.tokens.alice, 'GET', '/v1/whoami'), 'store-unavailable', 'not 401: the token may well be good');
  await w.close();
});

test('the guard tells the store\'s failures from the errors of the code that runs in its transaction', async () => {
  const w = await apiWorld(1);
  const { store, failing } = breakable(w.store);
  const guarded = guardStore(store);
  assert.equal(guardStore(guarded), guarded, 'guarded once');
  const bug = new TypeError('a bug in the caller');
  await assert.rejects(guarded.transaction(async () => { throw bug; }), (e) => e === bug);
  failing.add('getUser');
  await assert.rejects(guarded.transaction(() => guarded.getUser('alice')), (e) => e instanceof StoreUnavailable && /getUser/.test(e.message));
  failing.add('transaction');
  await assert.rejects(guarded.transaction(async () => 1), StoreUnavailable);
  await w.close();
});
