// Request bodies are taken exactly as sent and bounded (issue 14, finding 2): no coercion of
// strings, booleans, arrays or null into numbers or strings, only finite numbers of a size the
// store can hold, and a refused body leaves no lease behind.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LATEST_INSTANT, LONGEST_SECONDS } from '../../src/api/limits.ts';
import { MOST_NODES } from '../../src/api/limits.ts';
import { apiWorld, lease } from './api-world.ts';
import { cluster, headRole, KEY_LINES, keyLine, workerRole } from './cluster-body.ts';

test('lease bodies are not coerced and their numbers are finite and bounded', async () => {
  const w = await apiWorld(2);
  const exact = (over: Record<string, unknown>) => lease({ kind: 'exact', start: 1_800_003_600, ...over });
  const cases: Array<[string, unknown, string]> = [
    ['duration "Infinity"', lease({ duration: 'Infinity' }), 'body.duration'],
    ['start "Infinity"', exact({ start: 'Infinity' }), 'body.start'],
    ['nodes "2"', lease({ nodes: '2' }), 'body.nodes'],
    ['nodes true', lease({ nodes: true }), 'body.nodes'],
    ['kind ["exact"]', exact({ kind: ['exact'] }), 'body.kind'],
    ['start null', exact({ start: null }), 'body.start'],
    ['start 1e300', exact({ start: 1e300 }), 'body.start'],
    ['duration 1e300', lease({ duration: 1e300 }), 'body.duration'],
    ['start after 2100', exact({ start: LATEST_INSTANT + 1 }), 'body.start'],
    ['duration over a year', lease({ duration: LONGEST_SECONDS + 1 }), 'body.duration'],
    ['cpu 1e300', lease({ cpu: 1e300 }), 'body.cpu'],
    ['memoryMiB "1024"', lease({ memoryMiB: '1024' }), 'body.memoryMiB'],
  ];
  for (const route of ['/v1/leases', '/v1/leases/quote']) {
    for (const [what, body, path] of cases) {
      const res = await w.call(w.tokens.alice, 'POST', route, body);
      assert.deepEqual([res.status, res.body.code, res.body.path], [400, 'invalid-request', path], `${route} with ${what}: ${JSON.stringify(res.body)}`);
    }
  }
  const hold = await w.call(w.tokens.alice, 'POST', '/v1/leases/hold', { lease: exact({}), ttl: 'Infinity' });
  assert.deepEqual([hold.status, hold.body.path], [400, 'body.ttl']);
  assert.deepEqual((await w.store.listLeases({ limit: 10 })).length, 0, 'a refused body leaves no lease');
  // What the bounds allow still works, and a query string is still read from its text.
  assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ duration: LONGEST_SECONDS }))).status, 201);
  assert.equal((await w.call(w.tokens.alice, 'GET', '/v1/leases?limit=1')).body.leases.length, 1);
  await w.close();
});

test('cluster bodies are taken as sent and bounded: counts, names, role lists, user-data and keys', async () => {
  const w = await apiWorld(2);
  const before = await w.digest.digest();
  const roles = (...r: unknown[]) => cluster({ roles: r });
  const cases: Array<[string, unknown, string]> = [
    ['count "2"', roles(headRole({ count: '2' })), 'body.roles.0.count'],
    ['count 2.5', roles(headRole({ count: 2.5 })), 'body.roles.0.count'],
    ['count over the node limit', roles(headRole({ count: MOST_NODES + 1 })), 'body.roles.0.count'],
    ['counts adding up over the node limit', roles(headRole({ count: MOST_NODES }), workerRole({ count: 1 })), 'body.roles'],
    ['cpu "1"', roles(headRole({ cpu: '1' })), 'body.roles.0.cpu'],
    ['cpu 1e300', roles(headRole({ cpu: 1e300 })), 'body.roles.0.cpu'],
    ['memoryMiB null', roles(headRole({ memoryMiB: null })), 'body.roles.0.memoryMiB'],
    ['minCount 0', roles(headRole({ minCount: 0 })), 'body.roles.0.minCount'],
    ['a role without networks', roles({ ...headRole(), networks: undefined }), 'body.roles.0'],
    ['an unknown network', roles(headRole({ networks: ['dmz'] })), 'body.roles.0.networks.0'],
    ['networks as a string', roles(headRole({ networks: 'public' })), 'body.roles.0.networks'],
    ['an unknown role field', roles(headRole({ colour: 'blue' })), 'body.roles.0.colour'],
    ['a role name with a capital', roles(headRole({ name: 'Head' })), 'body.roles.0.name'],
    ['a role name of 32 characters', roles(headRole({ name: `h${'x'.repeat(31)}` })), 'body.roles.0.name'],
    ['a requirement without a role', roles(headRole({ requires: ['ip'] })), 'body.roles.0.requires.0'],
    ['65 entries provided', roles(headRole({ provides: Array.from({ length: 65 }, (_, i) => `e${i}`) })), 'body.roles.0.provides'],
    ['no roles', roles(), 'body.roles'],
    ['17 roles', cluster({ roles: Array.from({ length: 17 }, (_, i) => headRole({ name: `r${i}`, provides: [] })) }), 'body.roles'],
    ['10,000 roles', cluster({ roles: Array.from({ length: 10_000 }, () => ({})) }), 'body.roles'],
    ['roles as an object', cluster({ roles: { head: headRole() } }), 'body.roles'],
    ['user-data as a number', cluster({ userData: 1 }), 'body.userData'],
    ['user-data of 16 KiB and one character', cluster({ userData: 'x'.repeat(16 * 1024 + 1) }), 'body.userData'],
    ['user-data of 16 KiB in characters, more in bytes', cluster({ userData: 'é'.repeat(16 * 1024) }), 'body.userData'],
    ['user-data cloud-init would not read', cluster({ userData: 'hello\n' }), 'body.userData'],
    ['empty user-data', cluster({ userData: '' }), 'body.userData'],
    ['17 keys', cluster({ sshPublicKeys: Array.from({ length: 17 }, (_, i) => keyLine('ssh-ed25519', [Buffer.alloc(32, i)])) }), 'body.sshPublicKeys'],
    ['a key of another type', cluster({ sshPublicKeys: ['ssh-dss AAAAB3NzaC1kc3M= x'] }), 'body.sshPublicKeys.0'],
    ['a key labelled as another type', cluster({ sshPublicKeys: [KEY_LINES[1].replace('ssh-rsa', 'ssh-ed25519')] }), 'body.sshPublicKeys.0'],
    ['a key cut short', cluster({ sshPublicKeys: [KEY_LINES[0].slice(0, 40)] }), 'body.sshPublicKeys.0'],
    ['a key with a newline in its comment', cluster({ sshPublicKeys: [`${KEY_LINES[0]}\nssh-ed25519 AAAA evil`] }), 'body.sshPublicKeys.0'],
    ['a key given twice', cluster({ sshPublicKeys: [KEY_LINES[0], KEY_LINES[0]] }), 'body.sshPublicKeys'],
  ];
  for (const route of ['/v1/leases', '/v1/leases/quote']) {
    for (const [what, body, path] of cases) {
      const res = await w.call(w.tokens.alice, 'POST', route, body);
      assert.deepEqual([res.status, res.body.code, res.body.path], [400, 'invalid-request', path], `${route} with ${what}: ${JSON.stringify(res.body).slice(0, 400)}`);
    }
  }
  // 10,000 whole roles are more than a body may be: refused before they are read.
  const huge = await w.call(w.tokens.alice, 'POST', '/v1/leases', cluster({ roles: Array.from({ length: 10_000 }, (_, i) => headRole({ name: `r${i}`, provides: [] })) }));
  assert.deepEqual([huge.status, huge.body.code], [413, 'too-large']);
  assert.equal(await w.digest.digest(), before, 'a refused body changes nothing');
  // At the bounds, the same fields are taken: 16 KiB of user-data, 16 keys of each type, 16 roles.
  const most = cluster({
    roles: Array.from({ length: 16 }, (_, i) => headRole({ name: `r${i}`, count: 1, cpu: 0.01, memoryMiB: 1, provides: [] })),
    userData: `#cloud-config\n${'#'.repeat(16 * 1024 - 14)}`, sshPublicKeys: [...KEY_LINES, ...Array.from({ length: 13 }, (_, i) => keyLine('ssh-ed25519', [Buffer.alloc(32, i)]))],
  });
  const quote = await w.call(w.tokens.alice, 'POST', '/v1/leases/quote', most);
  assert.equal(quote.status, 200, JSON.stringify(quote.body).slice(0, 400));
  await w.close();
});

test('token lifetimes and node and image sizes are bounded too', async () => {
  const w = await apiWorld(1);
  const token = await w.call(w.tokens.alice, 'POST', '/v1/users/alice/tokens', { expiresIn: 1e300 });
  assert.deepEqual([token.status, token.body.path], [400, 'body.expiresIn']);
  const node = await w.call(w.tokens.admin, 'POST', '/v1/nodes', { id: 'n9', cpu: 1, memoryMiB: '1024' });
  assert.deepEqual([node.status, node.body.path], [400, 'body.memoryMiB']);
  const image = await w.call(w.tokens.alice, 'POST', '/v1/images', { name: 'big', sizeMiB: 1e300, sha256: 'a'.repeat(64) });
  assert.deepEqual([image.status, image.body.path], [400, 'body.sizeMiB']);
  await w.close();
});
