// Allocations, quotas and statements (issue 17, item 3): a lease for a group with an account is
// admitted within what the account has left this period (spent, and promised to its live
// leases), with the nearest request that fits; quotas bound the cores and memory a user's or a
// group's live leases hold at once; and no admission goes past either under concurrent requests
// from many clients. Statements give charges per user and usage records per lease.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { apiWorld, lease, T0 } from './api-world.ts';

const terms = (over: Record<string, unknown> = {}) => ({
  format: 'vws.terms/v1',
  kinds: { 'best-effort': { preemptible: true }, exact: { priceFactor: 2 }, immediate: {}, urgent: {}, deadline: {}, periodic: {} },
  accounts: { lab: { allocation: 10, period: 'month' } },
  ...over,
});

test('a group\'s allocation: admitted while it lasts, refused beyond it with what fits, and its statement', async () => {
  const w = await apiWorld(4);
  try {
    assert.equal((await w.call(w.tokens.admin, 'PUT', '/v1/terms', terms())).status, 200);
    const lab = (over: Record<string, unknown>) => lease({ group: 'lab', nodes: 2, duration: 7200, ...over });
    // 2 nodes x 1 core x 2 h = 4 SU; a reservation of 2 x 1 h at twice the price, 4 SU.
    assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/leases', lab({}))).status, 201);
    assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/leases', lab({ kind: 'exact', start: T0 + 3600, duration: 3600 }))).status, 201);
    const over = await w.call(w.tokens.alice, 'POST', '/v1/leases', lab({}));
    assert.deepEqual([over.status, over.body.code, over.body.rule], [409, 'insufficient-allocation', 'accounts.lab']);
    assert.match(over.body.message, /has 2\.00 SU left of its 10 for \d{4}-\d{2} \(8\.00 spent or promised.*costs 4\.00: ask for 1 node, or 3600 s/);
    assert.equal(over.body.alternative.nodes, 1);
    const quote = await w.call(w.tokens.carol, 'POST', '/v1/leases/quote', lab({}));
    assert.deepEqual([quote.body.ok, quote.body.reason], [false, 'insufficient-allocation'], 'a quote says so too');
    assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/leases', over.body.alternative)).status, 201);
    assert.equal((await w.call(w.tokens.carol, 'POST', '/v1/leases', lab({ nodes: 1, duration: 600 }))).body.code, 'insufficient-allocation', 'the account is spent for its members alike');
    assert.equal((await w.call(w.tokens.carol, 'POST', '/v1/leases', lease({ nodes: 1, duration: 600 }))).status, 201, 'a lease for no group is not charged to it');
    const exact = await w.call(w.tokens.alice, 'POST', '/v1/leases', lab({ kind: 'exact', start: T0 + 7200, duration: 3600 }));
    assert.ok(exact.body.alternative.start >= Date.UTC(new Date(T0 * 1000).getUTCFullYear(), new Date(T0 * 1000).getUTCMonth() + 1, 1) / 1000, 'a reservation may move to the next period');

    w.clock.advance(1800);
    await w.idle();
    const st = await w.call(w.tokens.carol, 'GET', '/v1/accounts/lab/statement');
    assert.equal(st.status, 200, JSON.stringify(st.body));
    assert.deepEqual([st.body.allocation, st.body.committed, st.body.unit], [10, 10, 'SU']);
    // Half an hour of 2 + 1 best-effort cores so far; the reservation has not begun.
    assert.equal(st.body.charged, 1.5);
    assert.deepEqual(Object.keys(st.body.byUser), ['alice']);
    assert.equal(st.body.records.length, 2);
    for (const r of st.body.records) assert.deepEqual([r.localUserId, r.group, r.queue, r.unit, r.machineName], ['alice', 'lab', 'best-effort', 'SU', 'simulated']);
    assert.equal(st.body.records.reduce((s: number, r: { charge: number }) => s + r.charge, 0), st.body.charged);
    assert.equal((await w.call(w.tokens.bob, 'GET', '/v1/accounts/lab/statement')).status, 404, 'bob is not in lab');
    assert.deepEqual((await w.call(w.tokens.bob, 'GET', '/v1/accounts')).body.accounts, []);
    const list = await w.call(w.tokens.alice, 'GET', '/v1/accounts');
    assert.deepEqual(list.body.accounts.map((a: { group: string; left: number }) => [a.group, a.left]), [['lab', 0]]);
    const bad = await w.call(w.tokens.alice, 'GET', '/v1/accounts/lab/statement?period=2026-13');
    assert.deepEqual([bad.status, bad.body.path], [400, 'querystring.period']);
    // The tally kept as leases change is what a count from scratch gives: a restart counts anew.
    w.clock.advance(5400);
    await w.idle();
    const live = (await w.call(w.tokens.alice, 'GET', '/v1/accounts/lab/statement')).body;
    await w.restart();
    assert.deepEqual((await w.call(w.tokens.alice, 'GET', '/v1/accounts/lab/statement')).body, live);
    const before = await w.call(w.tokens.alice, 'GET', '/v1/accounts/lab/statement?period=2020');
    assert.deepEqual([before.body.charged, before.body.records, before.body.allocation], [0, [], null], 'a year is not the account\'s period: no allocation shown');
  } finally {
    await w.close();
  }
});

test('quotas bound the cores a user\'s live leases hold at once, with the nodes that fit', async () => {
  const w = await apiWorld(4);
  try {
    assert.equal((await w.call(w.tokens.admin, 'PUT', '/v1/terms', terms({ accounts: {}, quotas: { perUser: { cpus: 3 }, users: { carol: { cpus: 1 } } } }))).status, 200);
    assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ nodes: 2 }))).status, 201);
    const r = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ nodes: 2 }));
    assert.deepEqual([r.status, r.body.code, r.body.rule, r.body.alternative.nodes], [409, 'over-quota', 'quotas.perUser', 1]);
    assert.match(r.body.message, /user alice's live leases hold 2 cores of the 3 its quota allows, and this lease asks for 2: ask for 1 node or fewer/);
    assert.equal((await w.call(w.tokens.carol, 'POST', '/v1/leases', lease({ nodes: 2 }))).body.rule, 'quotas.users.carol');
  } finally {
    await w.close();
  }
});

test('no admission goes past an allocation or a quota under concurrent requests from many clients', async () => {
  const ask = fc.record({
    who: fc.constantFrom('alice', 'carol'), nodes: fc.integer({ min: 1, max: 3 }), hours: fc.integer({ min: 1, max: 3 }),
    kind: fc.constantFrom('best-effort', 'exact', 'periodic'), count: fc.integer({ min: 1, max: 3 }), group: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(ask, { minLength: 2, maxLength: 12 }), fc.integer({ min: 2, max: 20 }), fc.integer({ min: 2, max: 6 }), async (asks, allocation, cpus) => {
      const w = await apiWorld(4);
      try {
        await w.call(w.tokens.admin, 'PUT', '/v1/terms', terms({ accounts: { lab: { allocation, period: 'month' } }, quotas: { perUser: { cpus } } }));
        const tokens = { alice: w.tokens.alice, carol: w.tokens.carol };
        const answers = await Promise.all(asks.map((a) => w.call(tokens[a.who as 'alice' | 'carol'], 'POST', '/v1/leases', lease({
          nodes: a.nodes, duration: a.hours * 3600, ...(a.group ? { group: 'lab' } : {}), ...(a.kind === 'exact' ? { kind: 'exact', start: T0 + 36_000 } : {}),
          ...(a.kind === 'periodic' ? { kind: 'periodic', start: T0 + 36_000, recurrence: { period: (a.hours + 1) * 3600, count: a.count } } : {}),
        }))));
        for (const r of answers) assert.ok([201, 409].includes(r.status), JSON.stringify(r.body));
        const made = asks.filter((_, k) => answers[k].status === 201);
        // A periodic lease is charged for each occurrence, and each scheduled occurrence holds its cores.
        const times = (a: (typeof asks)[number]) => (a.kind === 'periodic' ? a.count : 1);
        const price = (a: (typeof asks)[number]) => a.nodes * a.hours * (a.kind === 'exact' ? 2 : 1) * times(a);
        const spent = made.filter((a) => a.group).reduce((s, a) => s + price(a), 0);
        assert.ok(spent <= allocation + 1e-9, `lab was promised ${spent} of ${allocation}`);
        for (const who of ['alice', 'carol']) {
          const held = made.filter((a) => a.who === who).reduce((s, a) => s + a.nodes * times(a), 0);
          assert.ok(held <= cpus, `${who} holds ${held} cores, quota ${cpus}`);
        }
        // And each refusal was one of these two, not a failure.
        for (const r of answers.filter((x) => x.status === 409)) assert.ok(['insufficient-allocation', 'over-quota', 'insufficient-capacity', 'exceeds-pool', 'too-late'].includes(r.body.code), r.body.code);
      } finally {
        await w.close();
      }
    }),
    { numRuns: 15 },
  );
});

test('a group or user named as an Object property ("constructor") finds no account or quota it was not given', async () => {
  const w = await apiWorld(2);
  try {
    await w.store.putGroup({ name: 'constructor', shareLeases: true, createdAt: T0 });
    await w.store.addMember('constructor', 'bob');
    assert.equal((await w.call(w.tokens.admin, 'PUT', '/v1/terms', terms())).status, 200);
    const made = await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ group: 'constructor' }));
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const st = await w.call(w.tokens.bob, 'GET', '/v1/accounts/constructor/statement');
    assert.deepEqual([st.status, st.body.allocation, st.body.committed], [200, null, null]);
    assert.equal((await w.call(w.tokens.bob, 'GET', '/v1/usage')).status, 200);
  } finally {
    await w.close();
  }
});
