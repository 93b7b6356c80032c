// The context broker's routes fuzzed in the style of test/api/fuzz: valid and mutated bodies
// (mutations.ts), every kind of caller (no token, bad tokens, users, the admin, members' sessions
// of two clusters), in random order against a real service on SQLite. Never a 5xx; every refusal
// in the API's error format; a refused request changes no member's row; a context answered to a
// session is its own member's; and the broker still completes a cluster at the end. The seed is
// printed: VWS_FUZZ_SEED=<seed> replays a run.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BAD_AUTHORIZATIONS, BODY_MUTATIONS, hugeBody, mutationIndex, type Body } from '../api/fuzz/mutations.ts';
import { contextWorld, headAndWorkers, hostKey } from './context-world.ts';

const seed = Number(process.env.VWS_FUZZ_SEED ?? Date.now() % 2 ** 31);
const REQUESTS = 1000;

type Caller = { kind: 'none' } | { kind: 'bad'; i: number } | { kind: 'user'; who: 'alice' | 'bob' | 'admin' } | { kind: 'member'; cluster: number; member: number };

const OPS = ['exchange', 'report', 'context', 'done', 'agent', 'view'] as const;

const stepArb = fc.record({
  op: fc.constantFrom(...OPS),
  caller: fc.oneof(
    fc.constant<Caller>({ kind: 'none' }),
    fc.nat(BAD_AUTHORIZATIONS.length - 1).map((i): Caller => ({ kind: 'bad', i })),
    fc.constantFrom('alice' as const, 'bob' as const, 'admin' as const).map((who): Caller => ({ kind: 'user', who })),
    fc.record({ cluster: fc.nat(1), member: fc.nat(2) }).map((m): Caller => ({ kind: 'member', ...m })),
  ),
  mutation: fc.option(fc.nat(BODY_MUTATIONS.length - 1), { freq: 2 }),
  huge: fc.nat(19).map((n) => n === 0),
  index: mutationIndex,
  cluster: fc.nat(1),
  member: fc.nat(2),
  useOwnSecret: fc.boolean(),
  failDone: fc.nat(59).map((n) => n === 0),
});

test(`the context routes fuzzed (seed ${seed}): no 5xx, refusals change nothing, a session sees only its own member`, async () => {
  const w = await contextWorld('sqlite');
  try {
    const leases = [await w.aliceLease(), await w.aliceLease()];
    const secrets = [await w.register(headAndWorkers(leases[0])), await w.register(headAndWorkers(leases[1]))];
    const ids = ['head-0', 'worker-0', 'worker-1'];
    const sessions: Array<Array<string | null>> = [[null, null, null], [null, null, null]];
    const rows = async () => JSON.stringify([await w.store.contextMembers(leases[0]), await w.store.contextMembers(leases[1])]);
    const steps = fc.sample(fc.array(stepArb, { minLength: REQUESTS, maxLength: REQUESTS }), { seed, numRuns: 1 })[0];
    const tally: Record<string, number> = {};
    for (const s of steps) {
      const member = ids[s.member];
      const valid: Record<string, unknown> = {
        exchange: { lease: leases[s.cluster], member, secret: secrets[s.useOwnSecret ? s.cluster : 1 - s.cluster].get(member) },
        report: { ip: `10.${s.caller.kind === 'member' ? s.caller.cluster : s.cluster}.0.${s.member + 1}`, hostname: s.caller.kind === 'member' ? ids[s.caller.member] : member, hostKey: hostKey(member), entries: (s.caller.kind === 'member' ? s.caller.member : s.member) === 0 ? { 'nfs-export': '/srv' } : {} },
        done: s.failDone ? { ok: false, reason: 'fuzz' } : { ok: true },
      };
      const [method, url] = {
        exchange: ['POST', '/v1/context/exchange'], report: ['POST', '/v1/context/report'], context: ['GET', '/v1/context'],
        done: ['POST', '/v1/context/done'], agent: ['GET', '/v1/context/agent'], view: ['GET', `/v1/leases/${leases[s.cluster]}/context`],
      }[s.op];
      let body: Body = valid[s.op] === undefined ? { kind: 'none' } : { kind: 'json', value: valid[s.op] };
      if (s.mutation !== null && body.kind === 'json') body = BODY_MUTATIONS[s.mutation].apply(body.value, s.index);
      if (s.huge && body.kind === 'json') body = hugeBody(body.value, s.index);
      const c = s.caller;
      const authorization = c.kind === 'bad' ? BAD_AUTHORIZATIONS[c.i]
        : c.kind === 'user' ? `Bearer ${w.tokens[c.who]}`
          : c.kind === 'member' && sessions[c.cluster][c.member] ? `Bearer ${sessions[c.cluster][c.member]}` : undefined;
      const before = await rows();
      const res = await w.app.inject({
        method: method as 'GET', url,
        headers: { ...(authorization ? { authorization } : {}), ...(body.kind === 'raw' && body.contentType ? { 'content-type': body.contentType } : {}) },
        ...(body.kind === 'json' ? { payload: body.value as object } : body.kind === 'raw' ? { payload: body.payload } : {}),
      });
      const name = `${s.op} ${c.kind} ${s.mutation === null ? 'valid' : BODY_MUTATIONS[s.mutation].name} → ${res.statusCode}`;
      tally[`${s.op} ${res.statusCode}`] = (tally[`${s.op} ${res.statusCode}`] ?? 0) + 1;
      assert.ok(res.statusCode < 500, `${name}: ${res.body.slice(0, 300)}`);
      if (res.statusCode >= 400) {
        const e = JSON.parse(res.body);
        assert.equal(typeof e.code, 'string', name);
        assert.ok(typeof e.message === 'string' && e.message.length > 10, name);
        assert.equal(await rows(), before, `${name}: a refusal changed the store`);
      }
      if (s.op === 'exchange' && res.statusCode === 200) {
        // A duplicated key keeps its last value (JSON.parse), which is the valid one here.
        assert.ok(s.useOwnSecret && (s.mutation === null || BODY_MUTATIONS[s.mutation].name === 'duplicate-key'), `${name}: only the member's own secret, sent intact, buys a session`);
        assert.equal(sessions[s.cluster][s.member], null, `${name}: a second session for one member`);
        sessions[s.cluster][s.member] = JSON.parse(res.body).session;
      }
      if (s.op === 'context' && res.statusCode === 200 && c.kind === 'member') {
        const ctx = JSON.parse(res.body);
        assert.deepEqual([ctx.lease, ctx.member], [leases[c.cluster], ids[c.member]], `${name}: another member's context`);
        assert.ok(ctx.members.every((m: { ip: string }) => m.ip.startsWith(`10.${c.cluster}.`)), `${name}: another cluster's members`);
      }
      if (s.op === 'view' && res.statusCode === 200) assert.ok(c.kind === 'user' && c.who !== 'bob', `${name}: the view to a non-owner`);
      if (s.index % 100 === 0) {
        w.clock.advance(30);
        // The timers' catch-up runs on each cluster's queue: a call behind it waits for it to end.
        for (const l of leases) await w.broker.exchange(l, 'nobody', 'x');
      }
    }
    console.log(`seed ${seed}: ${JSON.stringify(tally)}`);
    // The broker still works: a new cluster goes through.
    const lease = await w.aliceLease();
    const fresh = await w.register(headAndWorkers(lease, 1));
    for (const [m, secret] of fresh) {
      const session = (await w.call(null, 'POST', '/v1/context/exchange', { lease, member: m, secret })).body.session;
      assert.equal((await w.call(session, 'POST', '/v1/context/report', { ip: '10.7.0.1', hostname: m, hostKey: hostKey(m), entries: m === 'head-0' ? { 'nfs-export': '/srv' } : {} })).status, 200);
    }
    assert.equal((await w.call(w.tokens.alice, 'GET', `/v1/leases/${lease}/context`)).body.roles[1].reported, 1);
  } finally {
    await w.close();
  }
});
