// A lease's optional per-VM limits (bandwidthMbps, diskMBps, diskIops) through the API: refused
// out of bounds or mistyped, naming the field, with nothing made; documented in the OpenAPI with
// their bounds; kept in the lease's spec; and carried, each VM its role's, to the VMs the driver
// starts. A lease without them starts VMs without them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { VmSpec } from '../../src/drivers/driver.ts';
import { LIMIT_BOUNDS } from '../../src/drivers/leased-limits.ts';
import { apiWorld, lease } from './api-world.ts';
import { cluster, headRole, workerRole } from './cluster-body.ts';

const LIMITS = { bandwidthMbps: 10, diskMBps: 4.5, diskIops: 200 };

test('limits out of bounds, mistyped or not finite are refused with their path, and nothing is made', async () => {
  const w = await apiWorld(2);
  const before = await w.digest.digest();
  const cases: Array<[string, unknown, string]> = [
    ['bandwidth 0', lease({ bandwidthMbps: 0 }), 'body.bandwidthMbps'],
    ['bandwidth under its floor', lease({ bandwidthMbps: LIMIT_BOUNDS.bandwidthMbps.minimum / 2 }), 'body.bandwidthMbps'],
    ['bandwidth 1e300', lease({ bandwidthMbps: 1e300 }), 'body.bandwidthMbps'],
    ['bandwidth "10"', lease({ bandwidthMbps: '10' }), 'body.bandwidthMbps'],
    ['bandwidth null', lease({ bandwidthMbps: null }), 'body.bandwidthMbps'],
    ['disk MB/s -1', lease({ diskMBps: -1 }), 'body.diskMBps'],
    ['disk MB/s "Infinity"', lease({ diskMBps: 'Infinity' }), 'body.diskMBps'],
    ['IOPS 2.5', lease({ diskIops: 2.5 }), 'body.diskIops'],
    ['IOPS over its ceiling', lease({ diskIops: LIMIT_BOUNDS.diskIops.maximum + 1 }), 'body.diskIops'],
    ['a role\'s bandwidth 0', cluster({ roles: [headRole({ bandwidthMbps: 0 }), workerRole()] }), 'body.roles.0.bandwidthMbps'],
    ['a role\'s IOPS "x"', cluster({ roles: [headRole(), workerRole({ diskIops: 'x' })] }), 'body.roles.1.diskIops'],
    ['limits for the whole of a cluster', cluster({ bandwidthMbps: 10 }), 'body.bandwidthMbps'],
  ];
  for (const route of ['/v1/leases', '/v1/leases/quote']) {
    for (const [what, body, path] of cases) {
      const res = await w.call(w.tokens.alice, 'POST', route, body);
      assert.deepEqual([res.status, res.body.code, res.body.path], [400, 'invalid-request', path], `${route} with ${what}: ${JSON.stringify(res.body)}`);
      assert.ok(res.body.message.length > 0);
    }
  }
  assert.deepEqual(await w.digest.digest(), before, 'a refused body changes nothing');
  await w.close();
});

test('the OpenAPI document gives each limit its bounds, on a lease and on a role', async () => {
  const w = await apiWorld();
  const doc = (await w.call(w.tokens.alice, 'GET', '/v1/openapi.json')).body;
  const props = doc.paths['/v1/leases'].post.requestBody.content['application/json'].schema.properties;
  for (const [field, b] of Object.entries(LIMIT_BOUNDS)) {
    for (const schema of [props[field], props.roles.items.properties[field]]) {
      assert.deepEqual([schema.type, schema.minimum, schema.maximum], [b.integer ? 'integer' : 'number', b.minimum, b.maximum], `${field}'s schema`);
      assert.match(schema.description, new RegExp(`from ${b.minimum} to ${b.maximum}`), `${field} is described with its bounds`);
    }
  }
  await w.close();
});

test('a lease\'s limits are kept in its spec and reach each of its VMs; a lease without them starts VMs without them', async () => {
  const w = await apiWorld(4);
  const started: VmSpec[] = [];
  const start = w.driver.start.bind(w.driver);
  w.driver.start = (spec) => {
    started.push(spec);
    return start(spec);
  };
  const limited = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease(LIMITS));
  assert.equal(limited.status, 201, JSON.stringify(limited.body));
  const plain = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease());
  const roles = await w.call(w.tokens.alice, 'POST', '/v1/leases', cluster({ roles: [headRole({ bandwidthMbps: 100 }), workerRole({ count: 1, diskIops: 50 })] }));
  assert.equal(roles.status, 201, JSON.stringify(roles.body));
  await w.idle();

  const spec = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${limited.body.lease.id}`)).body.spec;
  assert.deepEqual({ bandwidthMbps: spec.bandwidthMbps, diskMBps: spec.diskMBps, diskIops: spec.diskIops }, LIMITS, 'the spec shows the limits as asked');
  const rolesSpec = (await w.call(w.tokens.alice, 'GET', `/v1/leases/${roles.body.lease.id}`)).body.spec.roles;
  assert.deepEqual(rolesSpec.map((r: Record<string, unknown>) => [r.bandwidthMbps, r.diskIops]), [[100, undefined], [undefined, 50]]);

  const of = (leaseId: string) => started.filter((s) => s.leaseId === leaseId);
  assert.deepEqual(of(limited.body.lease.id).map((s) => [s.bandwidthMbps, s.diskMBps, s.diskIops]), [[10, 4.5, 200]], 'the VM carries its lease\'s limits');
  assert.deepEqual(of(plain.body.lease.id).map((s) => Object.keys(s).filter((k) => k in LIMITS)), [[]], 'a lease without limits starts a VM without any');
  assert.deepEqual(of(roles.body.lease.id).sort((a, b) => a.index - b.index).map((s) => [s.bandwidthMbps, s.diskIops]), [[100, undefined], [undefined, 50]], 'each member its role\'s');
  await w.close();
});
