// The site's terms through the API (issue 17, item 1): published to every user with the kinds it
// may ask for, changed by administrators only, enforced on quotes, holds and creates with code
// policy, the rule and the nearest request taken instead, applied from the change on, and the
// same after a restart that replays the log.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease, T0 } from './api-world.ts';

const TERMS = {
  format: 'vws.terms/v1',
  unit: { name: 'SU', definition: 'one core with its memory for an hour', perCoreHour: 2 },
  kinds: {
    'best-effort': { maxDuration: '2h', priceFactor: 1 },
    exact: { groups: ['lab'], maxNodes: 2, maxHorizon: '1d', priceFactor: 3 },
  },
  holds: { maxTtl: '5m' },
  scheduling: { backfill: 'conservative' },
};

test('terms: published, changed by administrators only, enforced from their change on, and replayed', async () => {
  const w = await apiWorld(4);
  try {
    const first = await w.call(w.tokens.bob, 'GET', '/v1/terms');
    assert.equal(first.status, 200);
    assert.equal(first.body.version, 0);
    assert.deepEqual(first.body.yours, ['best-effort', 'immediate', 'exact', 'urgent', 'deadline', 'periodic']);
    // A lease made under the old terms stays as it was: 3 h is beyond the new best-effort limit.
    const before = await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ duration: 3 * 3600, nodes: 4 }));
    assert.equal(before.status, 201);

    assert.equal((await w.call(w.tokens.bob, 'PUT', '/v1/terms', TERMS)).status, 403, 'only administrators change the terms');
    const bad = await w.call(w.tokens.admin, 'PUT', '/v1/terms', { ...TERMS, kinds: { exact: { maxNode: 2 } } });
    assert.deepEqual([bad.status, bad.body.code, bad.body.path], [400, 'invalid-request', 'body.kinds.exact.maxNode']);
    assert.match(bad.body.message, /unknown key.*the terms in force stay/);
    const contradiction = await w.call(w.tokens.admin, 'PUT', '/v1/terms', { ...TERMS, kinds: { exact: { minDuration: '2h', maxDuration: '1h' } } });
    assert.deepEqual([contradiction.status, contradiction.body.path], [400, 'body.kinds.exact.maxDuration']);
    assert.equal((await w.call(w.tokens.bob, 'GET', '/v1/terms')).body.version, 0, 'a refused document changes nothing');

    w.clock.advance(60);
    const put = await w.call(w.tokens.admin, 'PUT', '/v1/terms', TERMS);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual([put.body.version, put.body.since], [1, T0 + 60]);
    assert.equal((await w.call(w.tokens.admin, 'PUT', '/v1/terms', TERMS)).body.version, 1, 'the same terms again change nothing');
    const published = (await w.call(w.tokens.bob, 'GET', '/v1/terms')).body;
    assert.deepEqual(published.yours, ['best-effort'], 'bob is not in lab');
    assert.deepEqual((await w.call(w.tokens.alice, 'GET', '/v1/terms')).body.yours, ['best-effort', 'exact']);
    assert.equal(published.terms.kinds.exact.maxHorizon, 86_400);
    assert.equal(published.terms.scheduling.backfill, 'conservative');
    assert.equal(w.service.scheduler.primary.config.backfill, 'conservative', 'the scheduling section is what the scheduler plans with');

    const exact = (over: Record<string, unknown> = {}) => lease({ kind: 'exact', start: T0 + 7200, nodes: 2, ...over });
    // Bob may not ask for reservations at all: refused, quote and create alike, with the kinds he may ask for.
    const q = await w.call(w.tokens.bob, 'POST', '/v1/leases/quote', exact());
    assert.deepEqual([q.status, q.body.ok, q.body.reason, q.body.rule], [200, false, 'policy', 'kinds.exact.groups']);
    assert.match(q.body.message, /offered to members of lab.*ask for a kind you may: best-effort/);
    const c = await w.call(w.tokens.bob, 'POST', '/v1/leases', exact());
    assert.deepEqual([c.status, c.body.code, c.body.rule], [409, 'policy', 'kinds.exact.groups']);
    // Alice may, within the limits: the nearest request taken instead comes with the refusal, and is taken.
    const big = await w.call(w.tokens.alice, 'POST', '/v1/leases', exact({ nodes: 3, start: T0 + 3 * 86_400 }));
    assert.deepEqual([big.status, big.body.code, big.body.rule], [409, 'policy', 'kinds.exact.maxNodes']);
    assert.deepEqual([big.body.alternative.nodes, big.body.alternative.start], [2, T0 + 60 + 86_400]);
    const quoted = await w.call(w.tokens.alice, 'POST', '/v1/leases/quote', big.body.alternative);
    assert.equal(quoted.body.ok, true, JSON.stringify(quoted.body));
    // 2 nodes x 1 core x 1 h x 2 SU/core-hour x 3 (an advance reservation's factor).
    assert.deepEqual(quoted.body.price, { amount: 12, unit: 'SU' });
    assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/leases', big.body.alternative)).status, 201);
    const long = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ duration: 3 * 3600 }));
    assert.deepEqual([long.status, long.body.rule, long.body.alternative.duration], [409, 'kinds.best-effort.maxDuration', 7200]);
    const urgent = await w.call(w.tokens.admin, 'POST', '/v1/leases', lease({ kind: 'urgent' }));
    assert.deepEqual([urgent.status, urgent.body.rule], [409, 'kinds.urgent'], 'a kind not offered is refused to administrators too');
    const hold = await w.call(w.tokens.alice, 'POST', '/v1/leases/hold', { lease: exact({ start: T0 + 20_000 }), ttl: 600 });
    assert.deepEqual([hold.status, hold.body.code, hold.body.rule, hold.body.path], [409, 'policy', 'holds.maxTtl', 'body.ttl']);
    assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/leases/hold', { lease: exact({ start: T0 + 20_000 }), ttl: 300 })).status, 201);

    const leases = (await w.store.listLeases({ limit: 100 })).map((l) => l.id).sort();
    assert.equal(leases.length, 3, 'refusals left no lease behind');
    assert.ok(leases.includes(before.body.lease.id), 'the lease made under the old terms stays');

    await w.idle();
    const schedule = [...w.service.scheduleExport()];
    await w.restart();
    const again = (await w.call(w.tokens.bob, 'GET', '/v1/terms')).body;
    assert.deepEqual(again, published, 'the terms in force are replayed, version and instant included');
    assert.deepEqual([...w.service.scheduleExport()], schedule, 'and so is the schedule made under each');
    assert.equal(w.service.scheduler.primary.config.backfill, 'conservative');
  } finally {
    await w.close();
  }
});

test('terms that the scheduler cannot take now are refused and the old ones stay', async () => {
  const w = await apiWorld(2);
  try {
    assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/leases', lease())).status, 201);
    const r = await w.call(w.tokens.admin, 'PUT', '/v1/terms', { format: 'vws.terms/v1', scheduling: { images: 'transfer' } });
    assert.deepEqual([r.status, r.body.code], [409, 'policy']);
    assert.match(r.body.message, /kept from the first lease on.*the terms in force \(version 0\) stay/);
    assert.equal((await w.call(w.tokens.alice, 'GET', '/v1/terms')).body.version, 0);
  } finally {
    await w.close();
  }
});

test('preemption notice: a reservation preempts only what it gives the terms\' notice to, and tells it', async () => {
  const w = await apiWorld(2);
  try {
    const put = await w.call(w.tokens.admin, 'PUT', '/v1/terms', { format: 'vws.terms/v1', preemption: { noticeSeconds: '10m' } });
    assert.equal(put.body.terms.preemption.noticeSeconds, 600);
    const victim = await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ nodes: 2, duration: 7200, preemptible: true }));
    assert.equal(victim.status, 201);
    await w.idle();
    const soon = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ kind: 'exact', nodes: 2, start: T0 + 300, duration: 600 }));
    assert.deepEqual([soon.status, soon.body.code], [409, 'insufficient-capacity']);
    assert.match(soon.body.message, /begins too soon to preempt \(victims get 600 s notice\)/);
    assert.equal(soon.body.earliestStart, T0 + 600, 'the earliest start is when the notice ends');
    const urgent = await w.call(w.tokens.admin, 'POST', '/v1/leases/quote', lease({ kind: 'urgent', nodes: 2, duration: 600 }));
    assert.ok(urgent.body.ok && urgent.body.start >= T0 + 600, `an urgent lease that must preempt waits for the notice: ${JSON.stringify(urgent.body)}`);
    const after = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ kind: 'exact', nodes: 2, start: T0 + 900, duration: 600 }));
    assert.equal(after.status, 201, JSON.stringify(after.body));
    const events = (await w.store.eventsAfter(0, 1000)).filter((e) => e.type === 'lease.preemption-notice');
    assert.deepEqual(events.map((e) => [e.leaseId, e.owner, (e.data as { by: string }).by, (e.data as { at: number }).at, (e.data as { how: string }).how]), [
      [victim.body.lease.id, 'bob', after.body.lease.id, T0 + 900, 'suspend'],
    ]);
    await w.restart();
    assert.equal((await w.store.eventsAfter(0, 1000)).filter((e) => e.type === 'lease.preemption-notice').length, 1, 'a replay tells no one again');
  } finally {
    await w.close();
  }
});
