import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRoles, clusterEnvelope, splitRequirement } from '../../src/core/roles.ts';
import type { ClusterRole } from '../../src/core/types.ts';

const role = (over: Partial<ClusterRole> & { name: string }): ClusterRole => ({
  count: 1, perNode: { cpu: 1, memoryMiB: 512, diskMiB: 0 }, networks: ['private'], provides: [], requires: [], ...over,
});
const head = role({ name: 'head', networks: ['public', 'private'], provides: ['nfs-export'] });
const workers = role({ name: 'worker', count: 2, perNode: { cpu: 2, memoryMiB: 256, diskMiB: 10 }, requires: ['head.ip', 'head.host-key', 'head.nfs-export'] });

test('the seed example of a head and its workers is a cluster', () => {
  assert.equal(checkRoles([head, workers]), null);
});

test('a requirement nobody provides is refused, naming the role, the entry and the fix', () => {
  const r = checkRoles([head, role({ name: 'worker', requires: ['head.scratch'] })]);
  assert.equal(r?.code, 'invalid');
  assert.match(r!.message, /role 'worker' requires 'head\.scratch', which role 'head' does not provide: add 'scratch'/);
});

test('a requirement of a role that is not there, or not of the form ROLE.ENTRY, is refused', () => {
  assert.match(checkRoles([role({ name: 'worker', requires: ['db.ip'] })])!.message, /no role 'db'/);
  assert.match(checkRoles([role({ name: 'worker', requires: ['headip'] })])!.message, /ROLE\.ENTRY/);
});

test('names, counts, minimums, networks and entries are checked each with its own message', () => {
  const cases: Array<[ClusterRole[], RegExp]> = [
    [[], /at least one role/],
    [[head, { ...head }], /used twice/],
    [[role({ name: 'Head' })], /not a role name/],
    [[role({ name: 'w', count: 0 })], /count must be/],
    [[role({ name: 'w', count: 1.5 })], /count must be/],
    [[role({ name: 'w', count: 3, minCount: 4 })], /minCount must be/],
    [[role({ name: 'w', networks: [] })], /at least one network/],
    [[role({ name: 'w', networks: ['dmz' as 'public'] })], /unknown network 'dmz'/],
    [[role({ name: 'w', provides: ['ip'] })], /provided by every member already/],
    [[role({ name: 'w', provides: ['a', 'a'] })], /named twice in provides/],
  ];
  for (const [roles, message] of cases) assert.match(checkRoles(roles)?.message ?? 'accepted', message);
});

test('every member provides ip, hostname and host-key unasked, its own role included', () => {
  assert.equal(checkRoles([role({ name: 'peer', count: 3, requires: ['peer.ip', 'peer.hostname', 'peer.host-key'] })]), null);
  assert.deepEqual(splitRequirement('head.nfs-export'), { role: 'head', entry: 'nfs-export' });
});

test('the envelope counts every VM and takes the largest of each resource', () => {
  assert.deepEqual(clusterEnvelope([head, workers]), { nodes: 3, perNode: { cpu: 2, memoryMiB: 512, diskMiB: 10 } });
});
