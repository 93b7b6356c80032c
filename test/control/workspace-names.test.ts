// Which VM of a cluster a workspace is, and its host name: member k in role order, and a DNS
// label (lower case, at most 63) distinct within its lease, whatever the lease's id.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { hostnameOf, memberAt, workspaceNaming } from '../../src/control/workspace-names.ts';
import { membersOf as coreMembersOf, ROLE_NAME } from '../../src/core/roles.ts';
import type { ClusterRole } from '../../src/core/types.ts';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const role = (name: string, count: number): ClusterRole => ({ name, count, perNode: { cpu: 1, memoryMiB: 64, diskMiB: 0 }, networks: ['private'], provides: [], requires: [] });

const rolesArb = fc.uniqueArray(fc.stringMatching(ROLE_NAME), { minLength: 1, maxLength: 5, selector: (n) => n })
  .chain((names) => fc.tuple(...names.map((n) => fc.integer({ min: 1, max: 6 }).map((c) => role(n, c)))));

/** The core's members (role numbers) by role name, as the service names them. */
const membersOf = (roles: readonly ClusterRole[]) => coreMembersOf(roles).map((m) => ({ role: roles[m.role].name, member: m.index }));

test('members are listed role by role in the request\'s order, count per role, and memberAt agrees with the core\'s membersOf', () => {
  const roles = [role('head', 1), role('worker', 2), role('db', 1)];
  assert.deepEqual([0, 1, 2, 3].map((i) => memberAt(roles, i)), [{ role: 'head', member: 0 }, { role: 'worker', member: 0 }, { role: 'worker', member: 1 }, { role: 'db', member: 0 }]);
  fc.assert(fc.property(rolesArb, (rs) => {
    const all = membersOf(rs);
    assert.equal(all.length, rs.reduce((n, r) => n + r.count, 0));
    all.forEach((m, i) => assert.deepEqual(memberAt(rs, i), m));
    assert.equal(memberAt(rs, all.length), null);
    assert.equal(memberAt(rs, -1), null);
  }));
});

test('host names: LEASE-ROLE-K for a cluster\'s VM, LEASE-K otherwise', () => {
  assert.equal(hostnameOf('l-1a2b3c4d-5e6f', 2, { role: 'worker', member: 1 }), 'l-1a2b3c4d-5e6f-worker-1');
  assert.equal(hostnameOf('l-1a2b3c4d-5e6f', 2, null), 'l-1a2b3c4d-5e6f-2');
  assert.deepEqual(workspaceNaming('L_9', 0, undefined), { role: null, member: null, hostname: 'l-9-0' });
  assert.deepEqual(workspaceNaming('c', 1, [role('head', 1), role('w', 2)]), { role: 'w', member: 0, hostname: 'c-w-0' });
  assert.equal(hostnameOf('///', 0, null), 'vm-0', 'an id with no letters still gives a label');
  // A long id is cut to one length for all its VMs: cut by each suffix's length, role 'b' and role 'a-b' would meet.
  const long = `${'x'.repeat(57)}-a`;
  assert.notEqual(hostnameOf(long, 0, { role: 'b', member: 1 }), hostnameOf(long, 1, { role: 'a-b', member: 1 }));
  const longest = hostnameOf('l'.repeat(256), 99_999, { role: `r${'x'.repeat(30)}`, member: 99_999 });
  assert.equal(longest.length, 63);
});

test('property: every host name is a DNS label, and the VMs of one lease have distinct ones', () => {
  const ids = fc.oneof(fc.stringMatching(/^l-[0-9a-f]{8}-[0-9a-f]{4}$/), fc.string({ maxLength: 256, unit: 'grapheme' }), fc.string({ minLength: 60, maxLength: 256 }));
  fc.assert(fc.property(ids, fc.option(rolesArb, { nil: undefined }), fc.integer({ min: 1, max: 30 }), (id, roles, plain) => {
    const count = roles ? roles.reduce((n, r) => n + r.count, 0) : plain;
    const names = Array.from({ length: count }, (_, i) => workspaceNaming(id, i, roles).hostname);
    for (const n of names) assert.match(n, LABEL, `${JSON.stringify(id)} -> ${n}`);
    assert.equal(new Set(names).size, names.length, names.join(' '));
  }), { numRuns: 500 });
});
