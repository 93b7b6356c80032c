// Renegotiation over the API: a quote of a change writes nothing; a change is made whole and
// logged (a restart, which replays the log, shows the same lease); refused changes say why, offer
// what would be accepted, and leave the store as it was, whoever asks and whatever they send.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease, T0 } from './api-world.ts';
import { cluster, KEY_LINES } from './cluster-body.ts';

const HOUR = 3600;

test('an owner quotes and makes changes of a scheduled and of a running lease; the log replays them', async () => {
  const w = await apiWorld();
  const exact = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ kind: 'exact', nodes: 2, start: T0 + HOUR, duration: HOUR }))).body.lease;
  const running = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease())).body.lease;
  await w.idle();
  const inputs = (await w.store.inputs()).length;

  const q = await w.call(w.tokens.alice, 'POST', `/v1/leases/${exact.id}/quote-change`, { duration: 2 * HOUR, start: T0 + 2 * HOUR });
  assert.equal(q.status, 200, JSON.stringify(q.body));
  assert.equal(q.body.quote.ok, true);
  assert.equal(q.body.quote.how, 'replan');
  assert.equal(q.body.quote.start, T0 + 2 * HOUR);
  assert.equal(q.body.quote.nodes.length, 2);
  assert.ok(q.body.quote.nodes.every((n: string) => /^n\d$/.test(n)), 'nodes by name');
  assert.ok(q.body.quote.price.amount > q.body.quote.priceBefore.amount, 'twice as long costs more');
  assert.ok((await w.store.inputs()).length <= inputs + 1, 'a quote logs at most a tick');
  const ticks = (await w.store.inputs()).slice(inputs).map((i) => i.type);
  assert.ok(ticks.every((t) => t === 'tick'), JSON.stringify(ticks));

  const c = await w.call(w.tokens.alice, 'POST', `/v1/leases/${exact.id}/change`, { duration: 2 * HOUR, start: T0 + 2 * HOUR });
  assert.equal(c.status, 200, JSON.stringify(c.body));
  assert.equal(c.body.lease.spec.duration, 2 * HOUR);
  assert.equal(c.body.lease.spec.start, T0 + 2 * HOUR);
  assert.equal(c.body.lease.plannedStart, T0 + 2 * HOUR);
  assert.deepEqual((await w.store.inputs()).filter((i) => i.type === 'change').map((i) => i.data), [{ type: 'change', id: exact.id, change: { duration: 2 * HOUR, start: T0 + 2 * HOUR } }]);

  w.clock.advance(600);
  const longer = await w.call(w.tokens.alice, 'POST', `/v1/leases/${running.id}/change`, { duration: 5400 });
  assert.equal(longer.status, 200, JSON.stringify(longer.body));
  assert.equal(longer.body.change.how, 'in-place');
  assert.equal(longer.body.lease.status, 'running');
  const shorter = await w.call(w.tokens.alice, 'POST', `/v1/leases/${running.id}/change`, { duration: 1200 });
  assert.equal(shorter.status, 200, JSON.stringify(shorter.body));
  await w.idle();
  const before = await w.call(w.tokens.admin, 'GET', '/v1/leases?limit=100');
  await w.restart();
  const after = await w.call(w.tokens.admin, 'GET', '/v1/leases?limit=100');
  const plain = (b: { leases: Array<Record<string, unknown>> }) => b.leases.map(({ usage: _u, usageAt: _a, charge: _c, ...l }) => l);
  assert.deepEqual(plain(after.body), plain(before.body), 'the replayed service shows the changed leases as the live one did');
  await w.close();
});

test('a change that does not fit is refused with the nearest changes that would be accepted, and changes nothing', async () => {
  const w = await apiWorld();
  const a = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ kind: 'exact', nodes: 2, start: T0 + HOUR, duration: HOUR }))).body.lease;
  // Every node is promised from a little after a's end.
  assert.equal((await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ kind: 'exact', nodes: 4, start: T0 + 3 * HOUR, duration: HOUR }))).status, 201);
  await w.idle();
  const digest = await w.digest.digest();
  const r = await w.call(w.tokens.alice, 'POST', `/v1/leases/${a.id}/change`, { duration: 3 * HOUR });
  assert.equal(r.status, 409, JSON.stringify(r.body));
  assert.equal(r.body.code, 'insufficient-capacity');
  const kinds = r.body.alternatives.map((x: { kind: string }) => x.kind);
  assert.ok(kinds.includes('shorter'), JSON.stringify(r.body));
  const shorter = r.body.alternatives.find((x: { kind: string }) => x.kind === 'shorter');
  assert.ok(shorter.change.duration > HOUR && shorter.change.duration < 3 * HOUR, JSON.stringify(shorter));
  assert.equal(await w.digest.digest(), digest, 'a refused change writes nothing');
  const taken = await w.call(w.tokens.alice, 'POST', `/v1/leases/${a.id}/change`, shorter.change);
  assert.equal(taken.status, 200, `the alternative offered is accepted: ${JSON.stringify(taken.body)}`);
  await w.close();
});

test('bad changes: another user\'s lease, an ended lease, below what has run, past the terms\' maximum, malformed bodies; nothing is written', async () => {
  const w = await apiWorld();
  const mine = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ group: 'lab' }))).body.lease;
  const ended = (await w.call(w.tokens.alice, 'POST', '/v1/leases', lease())).body.lease;
  assert.equal((await w.call(w.tokens.alice, 'DELETE', `/v1/leases/${ended.id}`)).status, 200);
  await w.idle();
  w.clock.advance(1800);
  await w.call(w.tokens.alice, 'POST', '/v1/leases/quote', lease());
  await w.idle();
  assert.equal((await w.call(w.tokens.admin, 'PUT', '/v1/terms', { format: 'vws.terms/v1', kinds: { 'best-effort': { maxDuration: 2 * HOUR }, immediate: {}, exact: {}, urgent: {}, deadline: {}, periodic: {} } })).status, 200);
  const digest = await w.digest.digest();
  const cases: Array<[string, string, unknown, number, string, RegExp]> = [
    ['bob', mine.id, { duration: 2 * HOUR }, 404, 'not-found', /no lease/],
    ['carol', mine.id, { duration: 2 * HOUR }, 403, 'forbidden', /only the owner/],
    ['alice', ended.id, { duration: 2 * HOUR }, 409, 'wrong-state', /has ended \(cancelled\)/],
    ['alice', mine.id, { duration: 600 }, 400, 'invalid-request', /has run 1800 s.*stop it/],
    ['alice', mine.id, { duration: 3 * HOUR }, 409, 'policy', /at most 7200 s/],
    ['alice', mine.id, { nodes: 9 }, 422, 'exceeds-pool', /the pool has 4/],
    ['alice', mine.id, { start: T0 + HOUR }, 422, 'unsupported', /only an exact lease/],
    ['alice', mine.id, {}, 400, 'invalid-request', /body/],
    ['alice', mine.id, { duration: -5 }, 400, 'invalid-request', /body\.duration/],
    ['alice', mine.id, { duration: 1.5 }, 400, 'invalid-request', /body\.duration/],
    ['alice', mine.id, { duration: '7200' }, 400, 'invalid-request', /body\.duration/],
    ['alice', mine.id, { cpu: Number.MAX_VALUE }, 400, 'invalid-request', /body\.cpu/],
    ['alice', mine.id, { duration: 7200, colour: 'red' }, 400, 'invalid-request', /colour/],
    ['alice', 'no-such-lease', { duration: 7200 }, 404, 'not-found', /no lease/],
  ];
  for (const [who, id, body, status, code, message] of cases) {
    for (const route of ['quote-change', 'change']) {
      const r = await w.call(w.tokens[who as 'alice'], 'POST', `/v1/leases/${id}/${route}`, body);
      assert.equal(r.status, status, `${who} ${route} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, code, JSON.stringify(r.body));
      assert.match(r.body.message, message);
    }
  }
  assert.equal(await w.digest.digest(), digest, 'nothing was written');
  await w.close();
});

test('a cluster not yet begun changes its members by role; its cpu, an unknown role or a running cluster are refused with the reason', async () => {
  const w = await apiWorld();
  const made = await w.call(w.tokens.alice, 'POST', '/v1/leases', cluster({ kind: 'exact', start: T0 + HOUR, userData: '#cloud-config\n', sshPublicKeys: [KEY_LINES[0]] }));
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id = made.body.lease.id;
  const grown = await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/change`, { roles: { worker: 3 } });
  assert.equal(grown.status, 200, JSON.stringify(grown.body));
  assert.deepEqual(grown.body.lease.spec.roles.map((r: { name: string; count: number }) => [r.name, r.count]), [['head', 1], ['worker', 3]]);
  const cases: Array<[unknown, number, RegExp]> = [
    [{ cpu: 2 }, 400, /change its members by role/],
    [{ roles: { gpu: 2 } }, 400, /has no role 'gpu': its roles are head, worker/],
    [{ roles: { worker: 0 } }, 400, /body\.roles/],
    [{ roles: { 'Not A Role': 1 } }, 400, /body\.roles/],
  ];
  for (const [body, status, message] of cases) {
    const r = await w.call(w.tokens.alice, 'POST', `/v1/leases/${id}/change`, body);
    assert.equal(r.status, status, JSON.stringify([body, r.body]));
    assert.match(r.body.message, message);
  }
  const now = await w.call(w.tokens.alice, 'POST', '/v1/leases', cluster({ userData: '#cloud-config\n', sshPublicKeys: [KEY_LINES[0]] }));
  await w.idle();
  const running = await w.call(w.tokens.alice, 'POST', `/v1/leases/${now.body.lease.id}/change`, { roles: { worker: 1 } });
  assert.equal(running.status, 409, JSON.stringify(running.body));
  assert.match(running.body.message, /a cluster's members and times change only before it begins/);
  await w.close();
});
