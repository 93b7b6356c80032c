// Whatever cluster the API accepts, the broker takes: random role sets (names and entry names up to
// their longest, counts, minCounts, networks, what they provide and require, owner keys) posted to
// the API on a real SQLite file; every one the API made is registered from its stored row with no
// problem, one member per workspace, ids ROLE-K, host names as the workspaces show them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { registrationProblem } from '../../src/broker/registration.ts';
import { registrationOf } from '../../src/broker/cluster-contexts.ts';
import { workspaceNaming } from '../../src/control/workspace-names.ts';
import { apiWorld } from '../api/api-world.ts';
import { KEY_LINES } from '../api/cluster-body.ts';

const name = (longest: number): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom(...'abcz'), fc.stringMatching(new RegExp(`^[a-z0-9-]{0,${longest}}$`))).map(([a, b]) => a + b);

const rolesArb = fc.uniqueArray(name(30), { minLength: 1, maxLength: 3 }).chain((names) => fc.tuple(
  ...names.map((n) => fc.record({
    name: fc.constant(n),
    count: fc.integer({ min: 1, max: 3 }),
    cpu: fc.constantFrom(0.25, 0.5),
    memoryMiB: fc.constantFrom(64, 128),
    networks: fc.constantFrom(['public'], ['private'], ['public', 'private']),
    provides: fc.uniqueArray(name(62).filter((e) => !['ip', 'hostname', 'host-key'].includes(e)), { maxLength: 3 }),
  })),
).chain((roles) => fc.tuple(...roles.map((r) => fc.record({
  requires: ((all: string[]) => fc.shuffledSubarray(all, { maxLength: Math.min(4, all.length) }))(roles.filter((o) => o.name !== r.name).flatMap((o) => [...o.provides, 'ip', 'hostname', 'host-key'].map((e) => `${o.name}.${e}`))),
  minCount: fc.option(fc.integer({ min: 1, max: r.count }), { nil: undefined }),
}))).map((extra) => roles.map((r, i) => ({ ...r, requires: extra[i].requires, ...(extra[i].minCount !== undefined ? { minCount: extra[i].minCount } : {}) })))));

test('every cluster lease the API makes registers with the broker as it is stored: no problem, ROLE-K ids, the workspaces\' host names', async () => {
  const w = await apiWorld(4);
  let made = 0;
  try {
    await fc.assert(fc.asyncProperty(rolesArb, fc.subarray([...KEY_LINES], { maxLength: KEY_LINES.length }), async (roles, keys) => {
      const res = await w.call(w.tokens.alice, 'POST', '/v1/leases', { kind: 'best-effort', duration: 600, roles, ...(keys.length ? { sshPublicKeys: keys } : {}) });
      if (res.status !== 201) {
        assert.ok(res.status < 500, JSON.stringify(res.body));
        return;
      }
      made++;
      const row = (await w.store.getLease(res.body.lease.id))!;
      const reg = registrationOf(row, { exchange: 30 });
      assert.equal(registrationProblem(reg), null);
      assert.deepEqual(reg.members.map((m) => m.id), roles.flatMap((r) => Array.from({ length: r.count }, (_, k) => `${r.name}-${k}`)));
      assert.deepEqual(reg.members.map((m) => m.hostname), reg.members.map((_, i) => workspaceNaming(row.id, i, row.request.roles).hostname));
      assert.deepEqual(reg.ownerKeys, keys);
      await w.call(w.tokens.alice, 'DELETE', `/v1/leases/${row.id}`);
    }), { numRuns: 60 });
    assert.ok(made >= 30, `only ${made} of 60 clusters were made: the generator asks for too much`);
  } finally {
    await w.close();
  }
});
