// Cluster leases through the REST API on a real SQLite file: roles instead of one shape, shown
// back as asked, workspaces named by role; every refusal changes nothing. The core may place a
// cluster as its envelope (every VM on its own node, each of the largest shape) or co-allocate
// roles: these tests hold under both, so they never say which node a role gets.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ApiWorld, apiWorld, lease, T0 } from './api-world.ts';
import { ENTRY_NAME, MAX_ROLES, ROLE_NAME } from '../../src/core/roles.ts';
import { cluster, ed25519Line, headRole, KEY_LINES, workerRole } from './cluster-body.ts';
import { assertRefused } from './refusal-assert.ts';
import type { VmSpec } from '../../src/drivers/driver.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the API, read loosely: the asserts check its shape
type Json = any;

async function withImages(w: ApiWorld): Promise<void> {
  for (const name of ['head.img', 'worker.img']) {
    await w.store.putImage({ name, sizeMiB: 100, sha256: 'ab'.repeat(32), owner: 'alice', group: null, visibility: 'private', uploaded: true, createdAt: T0, boot: null, description: null });
  }
}

async function workspacesUntil(w: ApiWorld, id: string, ok: (ws: Json[]) => boolean): Promise<Json[]> {
  let ws: Json[] = [];
  for (let round = 0; round < 20; round++) {
    await w.service.idle();
    ws = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}`)).body.workspaces as Json[];
    if (ok(ws)) return ws;
  }
  throw new Error(`the workspaces of ${id} never came to what the test waits for; last seen ${JSON.stringify(ws)}`);
}

test('a cluster lease is made from roles, shown back as asked, and its workspaces carry role, member and host name', async () => {
  const w = await apiWorld(4);
  await withImages(w);
  const started: VmSpec[] = [];
  const start = w.driver.start.bind(w.driver);
  w.driver.start = (spec) => {
    started.push(spec);
    return start(spec);
  };
  const key = ed25519Line();
  const body = cluster({
    roles: [headRole({ image: 'head.img' }), workerRole({ image: 'worker.img', minCount: 1, diskMiB: 64 })],
    userData: '#cloud-config\npackages: [nfs-common]\n', sshPublicKeys: [key],
  });
  const quote = await w.call(w.tokens.alice, 'POST', '/v1/leases/quote', body);
  assert.equal(quote.status, 200, JSON.stringify(quote.body));
  assert.equal(quote.body.ok, true, JSON.stringify(quote.body));
  const made = await w.call(w.tokens.alice, 'POST', '/v1/leases', body);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id = made.body.lease.id;
  const shown = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}`)).body;
  assert.deepEqual(shown.spec.roles, [
    { ...headRole(), image: 'head.img', diskMiB: 0 },
    { ...workerRole(), image: 'worker.img', minCount: 1, diskMiB: 64 },
  ]);
  assert.equal(shown.spec.userData, body.userData);
  assert.deepEqual(shown.spec.sshPublicKeys, [key]);
  for (const field of ['nodes', 'cpu', 'memoryMiB', 'image']) assert.equal(field in shown.spec, false, `a cluster's spec names no ${field}`);
  const ws = await workspacesUntil(w, id, (all) => all.length === 3 && all.every((x) => x.status === 'running'));
  assert.deepEqual(ws.map((x) => [x.index, x.role, x.member, x.image]), [[0, 'head', 0, 'head.img'], [1, 'worker', 0, 'worker.img'], [2, 'worker', 1, 'worker.img']]);
  assert.deepEqual(ws.map((x) => x.hostname), [`${id}-head-0`, `${id}-worker-0`, `${id}-worker-1`]);
  for (const x of ws) assert.match(x.hostname, /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
  // The VMs the driver runs have their own role's shape, not the cluster's largest.
  assert.deepEqual(started.map((vm) => [vm.index, vm.cpu, vm.memoryMiB, vm.scratchMiB, vm.image]).sort(), [[0, 1, 512, 0, 'head.img'], [1, 0.5, 256, 64, 'worker.img'], [2, 0.5, 256, 64, 'worker.img']]);
  await w.close();
});

test('a plain lease takes user-data and keys too, and its workspaces have no role and a host name LEASE-K', async () => {
  const w = await apiWorld(2);
  const key = ed25519Line('bob@desk');
  const made = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ nodes: 2, userData: '#!/bin/sh\necho hi\n', sshPublicKeys: [key] }));
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id = made.body.lease.id;
  const ws = await workspacesUntil(w, id, (all) => all.length === 2);
  assert.deepEqual(ws.map((x) => [x.role, x.member, x.hostname]), [[null, null, `${id}-0`], [null, null, `${id}-1`]]);
  const spec = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${id}`)).body.spec;
  assert.deepEqual([spec.userData, spec.sshPublicKeys, spec.roles], ['#!/bin/sh\necho hi\n', [key], undefined]);
  await w.close();
});

test('roles and one shape exclude each other; a lease names exactly one of them', async () => {
  const w = await apiWorld(4);
  const before = await w.digest.digest();
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['roles and nodes', cluster({ nodes: 3 }), 'body.nodes', /per role, not for the whole lease/],
    ['roles and cpu, memoryMiB', cluster({ cpu: 1, memoryMiB: 512 }), 'body.cpu', /cpu, memoryMiB per role/],
    ['roles and a lease image', cluster({ image: 'head.img' }), 'body.image', /move it into each role/],
    ['neither', { kind: 'best-effort', duration: 60 }, 'body', /nodes, cpu and memoryMiB .* or roles for a cluster/],
    ['half a shape', { kind: 'best-effort', duration: 60, nodes: 2 }, 'body.cpu', /add cpu and memoryMiB/],
  ];
  for (const route of ['/v1/leases', '/v1/leases/quote']) {
    for (const [what, body, path, message] of cases) {
      const res = await w.call(w.tokens.alice, 'POST', route, body);
      assertRefused(res, 'invalid-request', `${route}: ${what}`);
      assert.equal(res.body.path, path, `${route}: ${what}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, message, `${route}: ${what}`);
    }
  }
  assert.equal(await w.digest.digest(), before, 'nothing was made or changed');
  await w.close();
});

test('roles that do not make a cluster are refused with checkRoles\' reason, at quote time and at create, changing nothing', async () => {
  const w = await apiWorld(4);
  const before = await w.digest.digest();
  const cases: Array<[string, unknown, RegExp]> = [
    ['a requirement nobody provides', cluster({ roles: [headRole({ provides: [] }), workerRole()] }), /requires 'head.nfs-export', which role 'head' does not provide/],
    ['a requirement of a role that is not there', cluster({ roles: [workerRole({ requires: ['db.ip'] })] }), /no role 'db'/],
    ['a name used twice', cluster({ roles: [headRole(), headRole()] }), /the name 'head' is used twice/],
    ['a minCount over the count', cluster({ roles: [headRole(), workerRole({ minCount: 3 })] }), /minCount must be a whole number from 1 to its count \(2\)/],
    ['an implicit entry provided', cluster({ roles: [headRole({ provides: ['ip'] })] }), /provided by every member already/],
    ['a network named twice', cluster({ roles: [headRole({ networks: ['public', 'public'] })] }), /a network is named twice/],
  ];
  for (const route of ['/v1/leases/quote', '/v1/leases']) {
    for (const [what, body, message] of cases) {
      const res = await w.call(w.tokens.alice, 'POST', route, body);
      assertRefused(res, 'invalid-request', `${route}: ${what}`);
      assert.equal(res.body.path, 'body.roles', `${route}: ${what}`);
      assert.match(res.body.message, message, `${route}: ${what}: ${res.body.message}`);
    }
  }
  const hold = await w.call(w.tokens.alice, 'POST', '/v1/leases/hold', { lease: cluster({ kind: 'exact', start: T0 + 3600, roles: [headRole({ provides: [] }), workerRole()] }), ttl: 60 });
  assert.deepEqual([hold.status, hold.body.path], [400, 'body.lease.roles']);
  assert.equal(await w.digest.digest(), before, 'nothing was made or changed');
  await w.close();
});

test('a role too large for any node, or with more VMs than nodes that hold it, exceeds the pool: refused with the reason, changing nothing', async () => {
  const w = await apiWorld(4); // four nodes of 1 CPU and 1024 MiB
  const tooBig = (over: Record<string, unknown>) => cluster({ ...over, roles: [headRole({ cpu: 2 }), workerRole()] });
  const tooMany = (over: Record<string, unknown>) => cluster({ ...over, roles: [headRole(), workerRole({ count: 5 })] });
  const kinds: Array<[string, Record<string, unknown>]> = [
    ['best-effort', {}], ['immediate', { kind: 'immediate' }], ['exact', { kind: 'exact', start: T0 + 3600 }], ['urgent', { kind: 'urgent' }],
    ['deadline', { kind: 'deadline', deadline: T0 + 86_400 }], ['periodic', { kind: 'periodic', start: T0 + 3600, recurrence: { period: 86_400, count: 2 } }],
  ];
  for (const [kind, over] of kinds) {
    for (const [what, body, reason] of [['a head of 2 CPUs', tooBig(over), /role 'head' .*no open node of the pool can hold/], ['five workers on four nodes', tooMany(over), /role 'worker' asks for 5 VMs .*only 4 open nodes can hold one/]] as const) {
      const at = `${kind}: ${what}`;
      const quote = await w.call(w.tokens.alice, 'POST', '/v1/leases/quote', body);
      assert.equal(quote.status, 200, `${at}: ${JSON.stringify(quote.body)}`);
      assert.deepEqual([quote.body.ok, quote.body.reason], [false, 'exceeds-pool'], `${at}: ${JSON.stringify(quote.body)}`);
      assert.match(JSON.stringify(quote.body), reason, at);
      const made = await w.call(w.tokens.alice, 'POST', '/v1/leases', body);
      assertRefused(made, 'exceeds-pool', at);
      assert.match(made.body.message, reason, at);
    }
  }
  // Refused leases are kept as refused (as for a lease of one shape); nothing runs, no workspace is made.
  assert.equal((await w.driver.status()).length, 0);
  const leases = await w.store.listLeases({});
  assert.ok(leases.every((l) => l.status === 'rejected'), JSON.stringify(leases.map((l) => l.status)));
  for (const l of leases) assert.deepEqual(await w.store.workspacesOf(l.id), []);
  await w.close();
});

test('the OpenAPI document describes roles, user-data and keys with the patterns and bounds the server holds', async () => {
  const w = await apiWorld(1);
  const doc = (await w.call(w.tokens.alice, 'GET', '/v1/openapi.json')).body;
  const spec = doc.paths['/v1/leases'].post.requestBody.content['application/json'].schema;
  const role = doc.components.schemas.Role;
  assert.deepEqual(spec.properties.roles.items, role);
  assert.equal(role.additionalProperties, false);
  assert.deepEqual([...role.required].sort(), ['count', 'cpu', 'memoryMiB', 'name', 'networks', 'provides', 'requires']);
  assert.equal(role.properties.name.pattern, ROLE_NAME.source);
  assert.equal(role.properties.provides.items.pattern, ENTRY_NAME.source);
  assert.equal(spec.properties.roles.maxItems, MAX_ROLES);
  assert.match(spec.properties.roles.description, /exceeds-pool/);
  assert.equal(spec.properties.userData.maxLength, 16 * 1024);
  assert.equal(spec.properties.sshPublicKeys.maxItems, 16);
  for (const key of KEY_LINES) assert.match(key, new RegExp(spec.properties.sshPublicKeys.items.pattern));
  const codes = doc.components.schemas.Error.properties.code.enum;
  for (const code of ['invalid-request', 'exceeds-pool', 'unknown-image', 'invalid']) assert.ok(codes.includes(code), code);
  assert.deepEqual(Object.keys(doc.components.schemas.Workspace.properties).filter((k) => ['role', 'member', 'hostname'].includes(k)), ['role', 'member', 'hostname']);
  await w.close();
});

test('a cluster is held and committed like any lease, and a retry under its Idempotency-Key is the same cluster', async () => {
  const w = await apiWorld(4);
  const held = await w.call(w.tokens.alice, 'POST', '/v1/leases/hold', { lease: cluster({ kind: 'exact', start: T0 + 3600 }), ttl: 600 });
  assert.equal(held.status, 201, JSON.stringify(held.body));
  assert.equal((await w.call(w.tokens.alice, 'POST', `/v1/leases/${held.body.lease.id}/commit`)).body.lease.status, 'scheduled');
  assert.deepEqual(held.body.lease.spec.roles.map((r: Json) => r.name), ['head', 'worker']);
  const h = { 'idempotency-key': 'c1' };
  const first = await w.call(w.tokens.alice, 'POST', '/v1/leases', cluster({ sshPublicKeys: [KEY_LINES[0]] }), h);
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const retry = await w.call(w.tokens.alice, 'POST', '/v1/leases', cluster({ sshPublicKeys: [KEY_LINES[0]] }), h);
  assert.deepEqual([retry.status, retry.body.lease.id], [200, first.body.lease.id]);
  const other = await w.call(w.tokens.alice, 'POST', '/v1/leases', cluster({ sshPublicKeys: [KEY_LINES[1]] }), h);
  assertRefused(other, 'idempotency-key-reused', 'another key is another request');
  await w.close();
});

test('each role\'s image goes through the image-rights check a lease\'s image does, naming the role\'s field', async () => {
  const w = await apiWorld(4);
  await withImages(w);
  await w.store.putImage({ name: 'empty.img', sizeMiB: 100, sha256: 'cd'.repeat(32), owner: 'bob', group: null, visibility: 'private', uploaded: false, createdAt: T0, boot: null, description: null });
  const before = await w.digest.digest();
  const asBob = cluster({ roles: [headRole(), workerRole({ image: 'worker.img' })] });
  for (const route of ['/v1/leases', '/v1/leases/quote']) {
    const hidden = await w.call(w.tokens.bob, 'POST', route, asBob);
    assertRefused(hidden, 'unknown-image', `${route}: alice's private image, asked by bob`);
    assert.equal(hidden.body.path, 'body.roles.1.image');
    // Answered exactly as an image never registered.
    const never = await w.call(w.tokens.bob, 'POST', route, cluster({ roles: [headRole(), workerRole({ image: 'nothing.img' })] }));
    assert.equal(never.body.message.replace('nothing.img', 'worker.img'), hidden.body.message);
    const empty = await w.call(w.tokens.bob, 'POST', route, cluster({ roles: [headRole({ image: 'empty.img' }), workerRole()] }));
    assertRefused(empty, 'wrong-state', `${route}: an image with no content yet`);
    assert.equal(empty.body.path, 'body.roles.0.image');
  }
  assert.equal(await w.digest.digest(), before, 'nothing was made or changed');
  assert.equal((await w.call(w.tokens.alice, 'POST', '/v1/leases/quote', asBob)).body.ok, true, 'its owner may use it');
  await w.close();
});
