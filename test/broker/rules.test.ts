// The broker's rules under random clusters and random orders of exchanges, reports, fetches,
// done reports and the passing of time: a context is never handed out before every role it lists
// is ready, never carries another cluster's data, and the owner's counts add up.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import '../core/support/setup.ts';
import { contextPayload, membersJson, roleTail } from '../../src/broker/payload.ts';
import { advance, deliverable, minOf, nextDeadline, progressOf, stepOf, tallies, viewOf } from '../../src/broker/rules.ts';
import { DEFAULT_TIMEOUTS, FRESH, type BrokerRole, type ClusterContext, type ContextSpec, type MemberProgress } from '../../src/broker/types.ts';

const T0 = 1_800_000_000;

const roleArb = fc.record({
  count: fc.integer({ min: 1, max: 4 }),
  minFrac: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  provides: fc.subarray(['nfs-export', 'port']),
  reqs: fc.array(fc.tuple(fc.nat(2), fc.constantFrom('ip', 'host-key', 'nfs-export', 'port')), { maxLength: 3 }),
});

function specOf(lease: string, raw: Array<{ count: number; minFrac?: number; provides: string[]; reqs: Array<[number, string]> }>): ContextSpec {
  const names = raw.map((_, i) => `r${i}`);
  const roles: BrokerRole[] = raw.map((r, i) => {
    const requires = [...new Set(r.reqs
      .map(([j, e]) => [j % raw.length, e] as const)
      .filter(([j, e]) => ['ip', 'host-key'].includes(e) || raw[j].provides.includes(e))
      .map(([j, e]) => `${names[j]}.${e}`))];
    return { name: names[i], count: r.count, ...(r.minFrac !== undefined ? { minCount: Math.min(r.count, r.minFrac) } : {}), provides: r.provides, requires, files: [{ path: `/etc/${names[i]}`, content: lease, mode: 0o600 }] };
  });
  const members = roles.flatMap((r) => Array.from({ length: r.count }, (_, index) => ({ id: `${lease}/${r.name}-${index}`, role: r.name, index, hostname: `${r.name}-${index}` })));
  return { leaseId: lease, ownerKeys: [`ssh-ed25519 KEY-${lease}`], roles, members, timeouts: DEFAULT_TIMEOUTS, registeredAt: T0 };
}

const eventArb = fc.oneof(
  fc.record({ k: fc.constantFrom('exchange' as const, 'report' as const, 'fetch' as const), c: fc.nat(1), m: fc.nat(15) }),
  fc.record({ k: fc.constant('done' as const), c: fc.nat(1), m: fc.nat(15), ok: fc.constantFrom(true, true, true, false) }),
  fc.record({ k: fc.constant('tick' as const), dt: fc.integer({ min: 1, max: 400 }) }),
);

test('a context is handed out only when every role it lists is ready, holds only its own cluster, and counts add up', () => {
  fc.assert(fc.property(
    fc.array(roleArb, { minLength: 1, maxLength: 3 }), fc.array(roleArb, { minLength: 1, maxLength: 3 }), fc.array(eventArb, { maxLength: 120 }),
    (rawA, rawB, events) => {
      const clusters: Array<{ ctx: ClusterContext; progress: Map<string, MemberProgress> }> = [specOf('A', rawA), specOf('B', rawB)].map((spec) => {
        const progress = new Map(spec.members.map((m) => [m.id, FRESH]));
        return { ctx: { spec, progress }, progress };
      });
      let now = T0;
      for (const e of events) {
        if (e.k === 'tick') now += e.dt;
        for (const c of clusters) for (const [id, p] of advance(c.ctx, now)) c.progress.set(id, p);
        if (e.k === 'tick') continue;
        const c = clusters[e.c];
        const member = c.ctx.spec.members[e.m % c.ctx.spec.members.length];
        const p = progressOf(c.ctx, member.id);
        const step = stepOf(p);
        if (e.k === 'exchange' && step === 'exchange') c.progress.set(member.id, { ...p, exchangedAt: now });
        if (e.k === 'report' && step === 'report') {
          const role = c.ctx.spec.roles.find((r) => r.name === member.role)!;
          c.progress.set(member.id, { ...p, reportedAt: now, provided: { ip: `10.${e.c}.0.${e.m}`, hostname: member.hostname, hostKey: `key-${member.id}`, entries: Object.fromEntries(role.provides.map((x) => [x, `${member.id}:${x}`])) } });
        }
        if (e.k === 'done' && step === 'done') c.progress.set(member.id, e.ok ? { ...p, doneAt: now } : { ...p, failedAt: now, failure: 'apply failed' });
        if (e.k === 'fetch' && deliverable(c.ctx, member)) {
          const t = tallies(c.ctx);
          if (step === 'context') {
            for (const [name, tally] of t) {
              assert.equal(tally.reported, tally.count - tally.failed, `role ${name}: every live member reported before delivery`);
              assert.ok(tally.reported >= tally.min, `role ${name}: at least its minimum reported`);
            }
          }
          const payload = JSON.parse(contextPayload(c.ctx, member, membersJson(c.ctx), roleTail(c.ctx, member.role), now).toString());
          const other = c.ctx.spec.leaseId === 'A' ? 'B' : 'A';
          assert.equal(payload.lease, c.ctx.spec.leaseId);
          assert.ok(!JSON.stringify(payload).includes(`KEY-${other}`) && payload.members.every((x: { id: string }) => x.id.startsWith(`${c.ctx.spec.leaseId}/`)), 'only its own cluster');
          for (const f of payload.files) assert.equal(f.content, c.ctx.spec.leaseId);
          if (step === 'context') {
            for (const [q, values] of Object.entries(payload.entries as Record<string, unknown[]>)) {
              const t2 = t.get(q.split('.')[0])!;
              assert.equal(values.length, t2.count - t2.failed, `${q}: a value from every live provider`);
            }
            c.progress.set(member.id, { ...p, deliveredAt: now });
          }
        }
        for (const [id, q] of advance(c.ctx, now)) c.progress.set(id, q);
      }
      for (const c of clusters) {
        const view = viewOf(c.ctx);
        for (const r of view.roles) {
          const spec = c.ctx.spec.roles.find((x) => x.name === r.name)!;
          assert.equal(r.members.length, r.count);
          assert.equal(r.minCount, minOf(spec));
          assert.equal(r.failed, r.members.filter((m) => m.step === 'failed').length);
          assert.equal(r.done, r.members.filter((m) => m.step === 'complete').length);
          assert.ok(r.reported >= r.done);
          if (r.status === 'failed') assert.ok(r.failed > r.count - r.minCount);
        }
        assert.equal(view.status === 'failed', view.roles.some((r) => r.status === 'failed'));
        if (view.status === 'failed') assert.match(view.reason!, /failed: /);
        assert.equal(view.status === 'complete', view.roles.every((r) => r.status === 'complete'));
        // Time heals nothing and leaves nothing hanging: once every deadline has passed, every member is settled.
        const end = now + 10 * 3600;
        for (const [id, q] of advance(c.ctx, end)) c.progress.set(id, q);
        assert.equal(nextDeadline(c.ctx), null);
        for (const m of c.ctx.spec.members) {
          const s = stepOf(progressOf(c.ctx, m.id));
          assert.ok(s === 'failed' || s === 'complete', `${m.id} settled (${s})`);
        }
        assert.notEqual(viewOf(c.ctx).status, 'pending');
        assert.equal(advance(c.ctx, end).size, 0, 'advancing again at the same instant changes nothing');
      }
    },
  ), { numRuns: 300 });
});

function cluster(raw: Parameters<typeof specOf>[1]) {
  const spec = specOf('L', raw);
  const progress = new Map(spec.members.map((m) => [m.id, FRESH]));
  const ctx: ClusterContext = { spec, progress };
  const at = (now: number) => { for (const [id, p] of advance(ctx, now)) progress.set(id, p); };
  const exchangeAndReport = (id: string, now: number) => {
    progress.set(id, { ...progress.get(id)!, exchangedAt: now, reportedAt: now, provided: { ip: '10.0.0.1', hostname: id, hostKey: 'k', entries: {} } });
  };
  return { ctx, progress, at, exchangeAndReport };
}

test('a member that never reports fails after its own step timeout, naming itself, and takes its all-or-nothing role and the waiting members with it', () => {
  const c = cluster([{ count: 1, provides: [], reqs: [] }, { count: 2, provides: [], reqs: [[0, 'ip']] }]);
  c.exchangeAndReport('L/r0-0', T0 + 10);
  c.exchangeAndReport('L/r1-0', T0 + 10);
  c.progress.set('L/r1-1', { ...FRESH, exchangedAt: T0 + 20 });
  c.at(T0 + 20 + 299);
  assert.equal(viewOf(c.ctx).status, 'pending');
  assert.deepEqual(viewOf(c.ctx).roles[0].members[0].waitsFor, ['r1.hostname']);
  c.at(T0 + 20 + 300);
  const view = viewOf(c.ctx);
  assert.equal(view.status, 'failed');
  assert.equal(view.reason, "role 'r1' failed: r1-1 did not report within 300 s of exchanging its secret");
  assert.match(view.roles[0].members[0].failure!, /^r0-0 waits for r1.hostname, which can no longer be met: role 'r1' failed \(r1-1 did not report within 300 s/);
});

test('with a minimum count, a role whose other members failed is ready with the minimum, and the cluster completes', () => {
  const c = cluster([{ count: 1, provides: [], reqs: [] }, { count: 3, minFrac: 2, provides: [], reqs: [[0, 'ip']] }]);
  for (const id of ['L/r0-0', 'L/r1-0', 'L/r1-1']) c.exchangeAndReport(id, T0 + 5);
  const worker = c.ctx.spec.members[1];
  assert.equal(deliverable(c.ctx, worker), false);
  c.at(T0 + 600);
  assert.equal(stepOf(c.progress.get('L/r1-2')!), 'failed');
  assert.equal(deliverable(c.ctx, worker), true);
  for (const id of ['L/r0-0', 'L/r1-0', 'L/r1-1']) c.progress.set(id, { ...c.progress.get(id)!, deliveredAt: T0 + 600, doneAt: T0 + 601 });
  const view = viewOf(c.ctx);
  assert.equal(view.status, 'complete');
  assert.deepEqual(view.roles.map((r) => [r.name, r.status, r.done, r.failed]), [['r0', 'complete', 1, 0], ['r1', 'complete', 2, 1]]);
});
